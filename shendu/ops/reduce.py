"""Reductions: sum, mean, var/std, prod, max/min, amax/amin, argmax/argmin, logsumexp,
norm, cumsum, all/any.

Every reduction takes ``dim`` (PyTorch) or ``axis`` (NumPy): an int, a tuple of ints or
``None`` (all dimensions), negatives counted from the end, and ``keepdim``/``keepdims``.
A backward first gives the gradient back the reduced axes (``keepdims`` shape), then
broadcasts it over them: ``sum``'s gradient is ``g`` copied to every element summed.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_axes, pick_axis, pick_keepdim

__all__ = ["sum"]


# ----------------------------------------------------------------------- helpers
def _as_tensor(x, name):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple, int, float, bool, np.ndarray, np.generic)) or (
            hasattr(x, "shape") and hasattr(x, "dtype")):
        return Tensor(x)
    raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")


def _axes(x, dim, axis, name):
    """The reduced axes as a sorted tuple of non-negative ints (``dim=None``: all).

    An empty ``dim=()`` reduces every dimension, as in PyTorch; an empty ``axis=()``
    reduces none, as in NumPy (backward code written against ``xp`` relies on that).
    """
    if axis is None and isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None
    dim = pick_axis(dim, axis)
    return normalize_axes(dim, x.ndim, name)


def _keep_shape(shape, axes):
    """``shape`` with the reduced ``axes`` set to 1 (the ``keepdims=True`` shape)."""
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _count(shape, axes):
    """How many elements each output element reduces over."""
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _expand(g, shape, axes, keepdim, xp):
    """Undo a reduction's shape: the gradient of the output back over ``shape``.

    A read-only broadcast view (no copy): backwards must not write into it.
    Works on arrays and on Tensors (double backward).
    """
    if not keepdim:
        g = g.reshape(_keep_shape(shape, axes))
    return xp.broadcast_to(g, shape)


def _unsqueeze(t, shape, axes, keepdim):
    """A reduction's output (or its gradient) in ``keepdims`` shape, ready to broadcast."""
    return t if keepdim else t.reshape(_keep_shape(shape, axes))


def _cast(g, dtype):
    """``g`` as ``dtype`` (an array or a Tensor)."""
    if g.dtype == dtype:
        return g
    return g.to(dtype) if isinstance(g, Tensor) else g.astype(dtype)


def _result_dtype(x, dtype, name):
    """Integer and bool inputs sum to int64, like PyTorch."""
    if dtype is not None:
        from .. import backend
        return backend.to_dtype(dtype)
    if x.dtype.kind in "biu":
        return np.dtype(np.int64)
    return None


def _no_grad_result(array):
    return Tensor._make(array)


def _float_only(x, name, hint=""):
    if x.dtype.kind not in "fc":
        raise TypeError(f"{name}: needs a floating point tensor, got {x.dtype}; convert it "
                        f"first with .float(){hint}")


# ----------------------------------------------------------------------- sum
class Sum(Function):
    """y = sum of x over ``axes``;   dL/dx = g broadcast back over the summed axes."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype=None):
        ctx.shape, ctx.axes, ctx.keepdim, ctx.in_dtype = x.shape, axes, keepdim, x.dtype
        out = x.sum(axis=axes, keepdims=keepdim, dtype=dtype)
        return ctx.xp.asarray(out)  # NumPy gives a scalar for a full sum; keep an array

    @staticmethod
    def backward(ctx, g):
        g = _cast(g, ctx.in_dtype)
        return _expand(g, ctx.shape, ctx.axes, ctx.keepdim, ctx.xp), None, None, None


def sum(x, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
    """Sum of the elements over ``dim`` (all of them when ``None``).

    Parameters
    ----------
    x : Tensor of any shape
    dim, axis : int, tuple of ints or None
        The dimensions to reduce (negative counts from the end).
    keepdim, keepdims : bool
        Keep the reduced dimensions with size 1 (so the result broadcasts against ``x``).
    dtype : optional
        Cast ``x`` to this dtype before summing. Integer and bool tensors sum to int64.

    The gradient is ``g`` copied to every element that was summed.

    >>> x = shendu.tensor([[1., 2., 3.], [4., 5., 6.]])
    >>> shendu.sum(x, dim=0)
    tensor([5., 7., 9.])
    >>> x.sum(axis=1, keepdims=True).shape
    (2, 1)
    """
    x = _as_tensor(x, "sum")
    axes = _axes(x, dim, axis, "sum")
    keep = pick_keepdim(keepdim, keepdims)
    rdtype = _result_dtype(x, dtype, "sum")
    if x.dtype.kind not in "fc":
        return _no_grad_result(np.asarray(x.data.sum(axis=axes, keepdims=keep, dtype=rdtype))
                               if x.xp is np else x.data.sum(axis=axes, keepdims=keep,
                                                             dtype=rdtype))
    return Sum.apply(x, axes, keep, rdtype)
