"""Reductions that pick elements: max, min, amax, amin, argmax, argmin.

``max``/``min`` without ``dim`` and ``amax``/``amin`` share the gradient evenly among
tied extremes; ``max``/``min`` with ``dim`` return ``(values, indices)`` and give the
gradient to the one index returned, as PyTorch does. ``argmax``/``argmin`` have no
gradient. ``dim``/``axis`` and ``keepdim``/``keepdims`` as in ``reduce.py``.
"""
from __future__ import annotations

import builtins
from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_axes, pick_axis, pick_keepdim
from .reduce import _as_tensor, _axes, _unsqueeze

__all__ = ["max", "min", "amax", "amin", "argmax", "argmin"]


# ----------------------------------------------------------------------- max, min
class _Extreme(Function):
    """y = max (or min) of x over ``axes``;
    dL/dx = g / k on each of the k elements equal to y (ties share evenly), 0 elsewhere.

    The share is a constant mask, so the backward is linear in g (double backward).
    """
    double_backward = True

    largest = True

    @classmethod
    def forward(cls, ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        y = ctx.xp.asarray(x.max(axis=axes, keepdims=keepdim) if cls.largest
                           else x.min(axis=axes, keepdims=keepdim))
        ctx.x, ctx.y = x, y  # attributes, not saved tensors: the mask is a constant
        return y

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp  # isnan is not differentiable: it comes from the array module
        x, y = ctx.x, _unsqueeze(ctx.y, ctx.shape, ctx.axes, ctx.keepdim)
        mask = x == y
        if x.dtype.kind == "f" and bool(xp.isnan(y).any()):  # a nan maximum: nan's share
            mask |= xp.isnan(x) & xp.isnan(y)
        mask = mask.astype(x.dtype)
        share = mask / mask.sum(axis=ctx.axes, keepdims=True)
        return _unsqueeze(g, ctx.shape, ctx.axes, ctx.keepdim) * share, None, None


class Amax(_Extreme):
    __doc__ = _Extreme.__doc__


class Amin(_Extreme):
    __doc__ = _Extreme.__doc__
    largest = False


class MaxAlongDim(Function):
    """y = x at the given ``indices`` along ``axis`` (the arg-max / arg-min);
    dL/dx = g at that one index, 0 elsewhere (what PyTorch's max(dim) does)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axis, keepdim, indices):
        ctx.shape, ctx.axis, ctx.keepdim, ctx.indices = x.shape, axis, keepdim, indices
        y = ctx.xp.take_along_axis(x, indices, axis)
        return y if keepdim else y.reshape(indices.shape[:axis] + indices.shape[axis + 1:])

    @staticmethod
    def backward(ctx, g):
        shape, axis = ctx.shape, ctx.axis
        idx = ctx.indices
        positions = ctx.xp.arange(shape[axis]).reshape((-1,) + (1,) * (len(shape) - axis - 1))
        mask = (positions == idx).astype(g.dtype)
        return _unsqueeze(g, shape, (axis,), ctx.keepdim) * mask, None, None, None


class MinAlongDim(MaxAlongDim):
    __doc__ = MaxAlongDim.__doc__


_MaxResult = namedtuple("max", ["values", "indices"])
_MinResult = namedtuple("min", ["values", "indices"])


def _check_nonempty(x, axes, name):
    if x._data.size == 0 and (not axes or builtins.any(x.shape[a] == 0 for a in axes)):
        raise ValueError(f"{name}: cannot reduce an empty tensor of shape {x.shape} over "
                         f"dim {axes if axes else None} (the {name} of no elements is undefined)")


def _extreme(name, x, dim, keepdim, axis, keepdims, largest):
    from . import elementwise
    if isinstance(dim, Tensor):  # max(a, b): the elementwise maximum, as in PyTorch
        return (elementwise.maximum if largest else elementwise.minimum)(x, dim)
    x = _as_tensor(x, name)
    d = pick_axis(dim, axis)
    keep = pick_keepdim(keepdim, keepdims)
    if d is None:
        axes = normalize_axes(None, x.ndim, name)
        _check_nonempty(x, axes, name)
        if not x.requires_grad:
            f = x._data.max if largest else x._data.min
            return Tensor._make(x.xp.asarray(f(axis=axes, keepdims=False)))
        return (Amax if largest else Amin).apply(x, axes, False)
    if isinstance(d, tuple):
        raise TypeError(f"{name}: dim must be an int when indices are returned, got {d}; "
                        f"use a{name}(x, dim={d}) for the values over several dims")
    a, = normalize_axes(d, x.ndim, name)
    _check_nonempty(x, (a,), name)
    if x.ndim == 0:  # PyTorch allows dim 0 (or -1) on a 0-d tensor: itself, index 0
        x, keep = x.reshape(1), False
    find = x.xp.argmax if largest else x.xp.argmin
    idx = find(x._data, axis=a, keepdims=True).astype(np.int64)
    values = (MaxAlongDim if largest else MinAlongDim).apply(x, a, keep, idx)
    indices = idx if keep else idx.reshape(idx.shape[:a] + idx.shape[a + 1:])
    return (_MaxResult if largest else _MinResult)(values, Tensor._make(indices))


def max(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest element (``dim=None``), or ``(values, indices)`` along ``dim``.

    * ``max(x)``: a 0-d tensor; the gradient is split evenly among tied maxima
      (as PyTorch does for the full reduction).
    * ``max(x, dim)``: a named pair ``.values`` / ``.indices`` (int64) like
      ``torch.return_types.max``; the gradient goes to the one index returned (the
      first maximum).
    * ``max(a, b)`` with a tensor ``b``: the elementwise :func:`maximum`.

    >>> x = shendu.tensor([[1., 5.], [7., 2.]])
    >>> x.max()
    tensor(7.)
    >>> values, indices = x.max(dim=1); indices
    tensor([1, 0])
    """
    return _extreme("max", x, dim, keepdim, axis, keepdims, True)


def min(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest element, or ``(values, indices)`` along ``dim``; see :func:`max`.

    >>> shendu.tensor([[1., 5.], [7., 2.]]).min(dim=0).values
    tensor([1., 2.])
    """
    return _extreme("min", x, dim, keepdim, axis, keepdims, False)


def _amax(name, x, dim, keepdim, axis, keepdims, largest):
    x = _as_tensor(x, name)
    axes = _axes(x, dim, axis, name)
    keep = pick_keepdim(keepdim, keepdims)
    _check_nonempty(x, axes, name)
    if not x.requires_grad:
        f = x._data.max if largest else x._data.min
        return Tensor._make(x.xp.asarray(f(axis=axes, keepdims=keep)))
    return (Amax if largest else Amin).apply(x, axes, keep)


def amax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The largest values over ``dim`` (int, tuple or None), without indices.

    The gradient is split evenly among tied maxima, like ``torch.amax``.

    >>> shendu.amax(shendu.tensor([[1., 5.], [7., 2.]]), dim=0)
    tensor([7., 5.])
    """
    return _amax("amax", x, dim, keepdim, axis, keepdims, True)


def amin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """The smallest values over ``dim``; see :func:`amax`.

    >>> shendu.amin(shendu.tensor([[1., 5.], [7., 2.]]), dim=1)
    tensor([1., 2.])
    """
    return _amax("amin", x, dim, keepdim, axis, keepdims, False)


def _arg(name, x, dim, keepdim, axis, keepdims, largest):
    x = _as_tensor(x, name)
    d = pick_axis(dim, axis)
    keep = pick_keepdim(keepdim, keepdims)
    if isinstance(d, tuple):
        raise TypeError(f"{name}: dim must be an int or None, got {d}")
    xp = x.xp
    find = xp.argmax if largest else xp.argmin
    if d is None:
        _check_nonempty(x, (), name)
        out = find(x._data.reshape(-1))
        out = xp.asarray(out, dtype=np.int64)
        if keep:
            out = out.reshape((1,) * x.ndim)
        return Tensor._make(out)
    a, = normalize_axes(d, x.ndim, name)
    _check_nonempty(x, (a,), name)
    if x.ndim == 0:
        return Tensor._make(xp.zeros((), np.int64))
    return Tensor._make(xp.asarray(find(x._data, axis=a, keepdims=keep), dtype=np.int64))


def argmax(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index (int64) of the largest element over ``dim``; of the flattened tensor when
    ``dim`` is None. The first one on ties. No gradient.

    >>> shendu.argmax(shendu.tensor([[1., 5.], [7., 2.]]), dim=1)
    tensor([1, 0])
    """
    return _arg("argmax", x, dim, keepdim, axis, keepdims, True)


def argmin(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Index (int64) of the smallest element over ``dim``; see :func:`argmax`.

    >>> shendu.argmin(shendu.tensor([3., 1., 2.]))
    tensor(1)
    """
    return _arg("argmin", x, dim, keepdim, axis, keepdims, False)
