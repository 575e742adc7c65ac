"""Reductions: sum, mean, var/std, prod, logsumexp, cumsum, all/any.

Every reduction takes ``dim`` (PyTorch) or ``axis`` (NumPy): an int, a tuple of ints or
``None`` (all dimensions), negatives counted from the end, and ``keepdim``/``keepdims``.
A backward first gives the gradient back the reduced axes (``keepdims`` shape), then
broadcasts it over them: ``sum``'s gradient is ``g`` copied to every element summed.
The max/min family lives in ``reduce_minmax.py``, ``norm`` in ``reduce_norm.py``; both
use the helpers defined here.
"""
from __future__ import annotations

import builtins

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_axes, pick_axis, pick_keepdim

__all__ = ["sum", "mean", "var", "std", "prod", "logsumexp", "cumsum", "all", "any"]


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
        return _no_grad_result(np.asarray(x._data.sum(axis=axes, keepdims=keep, dtype=rdtype))
                               if x.xp is np else x._data.sum(axis=axes, keepdims=keep,
                                                             dtype=rdtype))
    return Sum.apply(x, axes, keep, rdtype)


# ----------------------------------------------------------------------- mean
class Mean(Function):
    """y = sum(x) / n over ``axes``;   dL/dx = g / n broadcast back over the axes."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, dtype=None):
        ctx.shape, ctx.axes, ctx.keepdim, ctx.in_dtype = x.shape, axes, keepdim, x.dtype
        ctx.n = _count(x.shape, axes)
        with np.errstate(invalid="ignore", divide="ignore"):  # an empty mean is nan
            out = x.mean(axis=axes, keepdims=keepdim, dtype=dtype)
        return ctx.xp.asarray(out)

    @staticmethod
    def backward(ctx, g):
        g = _cast(g, ctx.in_dtype) / builtins.max(ctx.n, 1)
        return _expand(g, ctx.shape, ctx.axes, ctx.keepdim, ctx.xp), None, None, None


def mean(x, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
    """Mean of the elements over ``dim`` (all of them when ``None``).

    Parameters as in :func:`sum`. Like PyTorch, integer and bool tensors need a
    floating ``dtype`` (or ``.float()`` first). The gradient is ``g / n`` for each of
    the ``n`` elements averaged.

    >>> shendu.mean(shendu.tensor([[1., 2.], [3., 4.]]), dim=1)
    tensor([1.5000, 3.5000])
    """
    x = _as_tensor(x, "mean")
    axes = _axes(x, dim, axis, "mean")
    keep = pick_keepdim(keepdim, keepdims)
    rdtype = None
    if dtype is not None:
        from .. import backend
        rdtype = backend.to_dtype(dtype)
    if x.dtype.kind not in "fc" and (rdtype is None or rdtype.kind not in "fc"):
        raise TypeError(f"mean: could not infer a floating output dtype from a {x.dtype} "
                        "tensor; convert it first with .float() or pass dtype=shendu.float32")
    if rdtype is not None and x.dtype.kind not in "fc":
        x = x.to(rdtype)
        rdtype = None
    return Mean.apply(x, axes, keep, rdtype)


# ----------------------------------------------------------------------- var, std
class Var(Function):
    """v = sum((x - mean)^2) / (n - c)   (c: the correction, 1 for the unbiased estimate);
    dL/dx = g * 2 (x - mean) / (n - c)   (the mean's own dependence on x sums to zero)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.denom = builtins.max(_count(x.shape, axes) - correction, 0)
        ctx.save_for_backward(x)
        return _variance(ctx.xp, x, axes, keepdim, correction, ctx.denom)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        diff = x - x.mean(axis=ctx.axes, keepdims=True)
        scale = 2.0 / ctx.denom if ctx.denom > 0 else float("nan")
        return _unsqueeze(g, ctx.shape, ctx.axes, ctx.keepdim) * diff * scale, None, None, None


class Std(Function):
    """s = sqrt(var(x));   dL/dx = g * (x - mean) / ((n - c) * s)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.denom = builtins.max(_count(x.shape, axes) - correction, 0)
        s = ctx.xp.sqrt(_variance(ctx.xp, x, axes, keepdim, correction, ctx.denom))
        ctx.save_for_backward(x, s)
        return s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        diff = x - x.mean(axis=ctx.axes, keepdims=True)
        scale = 1.0 / ctx.denom if ctx.denom > 0 else float("nan")
        k = lambda t: _unsqueeze(t, ctx.shape, ctx.axes, ctx.keepdim)  # noqa: E731
        with np.errstate(invalid="ignore", divide="ignore"):  # s == 0: nan, like PyTorch
            return k(g) / k(s) * diff * scale, None, None, None


def _variance(xp, x, axes, keepdim, correction, denom):
    """``x.var(ddof=correction)``; with no degrees of freedom left (n <= correction) the
    sum of squares divided by 0 (inf, or nan for 0/0) like PyTorch, without NumPy's
    warning."""
    if denom > 0:
        return xp.asarray(x.var(axis=axes, keepdims=keepdim, ddof=correction))
    with np.errstate(invalid="ignore", divide="ignore"):
        squares = x.var(axis=axes, keepdims=keepdim) * _count(x.shape, axes)
        return xp.asarray(squares / 0.0, dtype=x.dtype)


def _correction(name, dim, unbiased, correction, ddof):
    if isinstance(dim, bool):  # var(x, False): PyTorch's (input, unbiased) form
        dim, unbiased = None, dim
    given = [(k, v) for k, v in (("unbiased", unbiased), ("correction", correction),
                                 ("ddof", ddof)) if v is not None]
    if len(given) > 1:
        raise TypeError(f"{name}: give only one of unbiased, correction and ddof, got "
                        + ", ".join(f"{k}={v}" for k, v in given))
    if correction is not None:
        return dim, correction
    if ddof is not None:
        return dim, ddof
    return dim, 0 if unbiased is False else 1


def _var_args(name, x, dim, unbiased, keepdim, correction, axis, keepdims, ddof):
    x = _as_tensor(x, name)
    _float_only(x, name)
    dim, c = _correction(name, dim, unbiased, correction, ddof)
    return x, _axes(x, dim, axis, name), pick_keepdim(keepdim, keepdims), c


def var(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None, ddof=None):
    """Variance over ``dim``: ``sum((x - mean)^2) / (n - correction)``.

    The default is the unbiased estimate (``correction=1``), as in PyTorch;
    ``unbiased=False``, ``correction=0`` or NumPy's ``ddof=0`` give the population
    variance (what ``np.var`` computes by default).

    >>> x = shendu.tensor([1., 2., 3., 4.])
    >>> x.var(), x.var(unbiased=False)
    (tensor(1.6667), tensor(1.2500))
    """
    x, axes, keep, c = _var_args("var", x, dim, unbiased, keepdim, correction, axis,
                                 keepdims, ddof)
    return Var.apply(x, axes, keep, c)


def std(x, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
        keepdims=None, ddof=None):
    """Standard deviation over ``dim``: ``sqrt(var(x, ...))``; arguments as in :func:`var`.

    >>> shendu.tensor([1., 2., 3., 4.]).std(correction=0)
    tensor(1.1180)
    """
    x, axes, keep, c = _var_args("std", x, dim, unbiased, keepdim, correction, axis,
                                 keepdims, ddof)
    return Std.apply(x, axes, keep, c)


# ----------------------------------------------------------------------- prod
class Prod(Function):
    """p = product of x over ``axes``;   dL/dx_i = g * prod_{j != i} x_j.

    Without zeros that is ``g * p / x_i``. With zeros (one or more in a slice) the
    product of the *other* elements is computed directly, as an exclusive cumulative
    product from the left times one from the right, so the element that is zero still
    gets the product of the rest (not 0/0).
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        p = ctx.xp.asarray(x.prod(axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, p)
        return p

    @staticmethod
    def backward(ctx, g):
        x, p = ctx.saved_tensors
        gk = _unsqueeze(g, ctx.shape, ctx.axes, ctx.keepdim)
        if not bool((_data(x) == 0).any()):
            return gk * _unsqueeze(p, ctx.shape, ctx.axes, ctx.keepdim) / x, None, None
        return gk * _prod_of_others(ctx, x), None, None


def _data(t):
    return t._data if isinstance(t, Tensor) else t


def _prod_of_others(ctx, x):
    """For each element, the product of the other elements of its slice."""
    xp, axes, shape = ctx.xp, ctx.axes, ctx.shape
    kept = [i for i in range(len(shape)) if i not in axes]
    perm = kept + list(axes)
    inverse = [perm.index(i) for i in range(len(shape))]
    kept_shape = tuple(shape[i] for i in kept)
    n = _count(shape, axes)
    xm = xp.transpose(x, perm).reshape(kept_shape + (n,))
    if isinstance(x, Tensor):
        # Double backward: row i of (..., n, n) holds the slice with x_i replaced by 1;
        # its product (this same differentiable op) is the product of the others.
        eye = xp.eye(n, dtype=x.dtype)  # not differentiable: from the array module
        rows = xp.expand_dims(xm, -2) * (1 - eye) + eye
        others = prod(rows, dim=-1)
    else:
        ones = xp.ones(kept_shape + (1,), x.dtype)
        left = xp.concatenate([ones, xp.cumprod(xm[..., :-1], axis=-1)], axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(xm[..., 1:], axis=-1), axis=-1), axis=-1)
        others = left * xp.concatenate([right, ones], axis=-1)
    permuted_shape = tuple(shape[i] for i in perm)
    return xp.transpose(others.reshape(permuted_shape), inverse)


def prod(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Product of the elements over ``dim`` (all of them when ``None``).

    The gradient ``prod of the other elements`` is exact also when the slice holds
    zeros (it is not computed as ``p / x``). Integer tensors give int64, no gradient.

    >>> shendu.prod(shendu.tensor([[1., 2.], [3., 4.]]), dim=1)
    tensor([ 2., 12.])
    """
    x = _as_tensor(x, "prod")
    axes = _axes(x, dim, axis, "prod")
    keep = pick_keepdim(keepdim, keepdims)
    if x.dtype.kind not in "fc":
        return _no_grad_result(x.xp.asarray(x._data.prod(axis=axes, keepdims=keep,
                                                        dtype=np.int64)))
    return Prod.apply(x, axes, keep)


# ----------------------------------------------------------------------- logsumexp
class LogSumExp(Function):
    """y = log(sum(exp(x))) over ``axes``, computed as m + log(sum(exp(x - m))) with
    m = max(x) so exp never overflows;   dL/dx = g * exp(x - y)  (the softmax)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.size == 0:
            y = xp.full(_keep_shape(x.shape, axes), -np.inf, dtype=x.dtype)
        else:
            m = x.max(axis=axes, keepdims=True)
            # a slice of all -inf (or one holding +inf) would give inf - inf = nan
            m = xp.where(xp.isfinite(m), m, 0)
            with np.errstate(divide="ignore"):  # log(0) = -inf for an all -inf slice
                y = xp.log(xp.exp(x - m).sum(axis=axes, keepdims=True)) + m
        ctx.empty_slices = bool((y == -np.inf).any())
        if ctx.empty_slices:
            ctx.neginf = y == -np.inf
        if not keepdim:
            y = y.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))
        ctx.save_for_backward(x, y)
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        yk = _unsqueeze(y, ctx.shape, ctx.axes, ctx.keepdim)
        if ctx.empty_slices:  # all -inf slices: gradient 0 there, not exp(-inf + inf)
            yk = ctx.xp.where(ctx.neginf, 0.0, yk)
        return _unsqueeze(g, ctx.shape, ctx.axes, ctx.keepdim) * ctx.xp.exp(x - yk), None, None


def logsumexp(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """``log(sum(exp(x)))`` over ``dim``, without overflow (shifted by the maximum).

    A slice that is all ``-inf`` (fully masked) gives ``-inf`` and gradient 0.

    >>> shendu.logsumexp(shendu.tensor([1000., 1000.]), dim=0)
    tensor(1000.6932)
    """
    x = _as_tensor(x, "logsumexp")
    _float_only(x, "logsumexp")
    axes = _axes(x, dim, axis, "logsumexp")
    return LogSumExp.apply(x, axes, pick_keepdim(keepdim, keepdims))


# ----------------------------------------------------------------------- cumsum
class CumSum(Function):
    """y_i = sum_{j <= i} x_j along ``axis``;   dL/dx_j = sum_{i >= j} g_i, the
    cumulative sum of g taken from the end (flip, cumsum, flip)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return ctx.xp.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, g):
        xp, a = ctx.xp, ctx.axis
        return xp.flip(xp.cumsum(xp.flip(g, a), a), a), None


def cumsum(x, dim=None, *, axis=None):
    """Cumulative sum along ``dim``: ``y[i] = x[0] + ... + x[i]``.

    With neither ``dim`` nor ``axis`` the tensor is flattened first (NumPy's rule;
    PyTorch requires ``dim``). Integer and bool tensors give int64.

    >>> shendu.cumsum(shendu.tensor([1., 2., 3.]), dim=0)
    tensor([1., 3., 6.])
    """
    x = _as_tensor(x, "cumsum")
    d = pick_axis(dim, axis)
    if isinstance(d, tuple):
        raise TypeError(f"cumsum: dim must be one int, got {d}")
    if d is None or x.ndim == 0:
        if d is not None:
            normalize_axes(d, 0, "cumsum")
        shape = x.shape
        flat = cumsum(x.reshape(-1), 0)
        return flat if d is None else flat.reshape(shape)
    a, = normalize_axes(d, x.ndim, "cumsum")
    if x.dtype.kind not in "fc":
        return _no_grad_result(x.xp.cumsum(x._data, axis=a, dtype=np.int64))
    return CumSum.apply(x, a)


# ----------------------------------------------------------------------- all, any
def _logical(name, x, dim, keepdim, axis, keepdims):
    x = _as_tensor(x, name)
    axes = _axes(x, dim, axis, name)
    keep = pick_keepdim(keepdim, keepdims)
    f = x._data.all if name == "all" else x._data.any
    return Tensor._make(x.xp.asarray(f(axis=axes, keepdims=keep)))


def all(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where every element over ``dim`` is non-zero (a bool tensor, no gradient).

    >>> shendu.all(shendu.tensor([[True, False], [True, True]]), dim=1)
    tensor([False,  True])
    """
    return _logical("all", x, dim, keepdim, axis, keepdims)


def any(x, dim=None, keepdim=False, *, axis=None, keepdims=None):
    """True where some element over ``dim`` is non-zero (a bool tensor, no gradient).

    >>> shendu.any(shendu.tensor([0., 0., 1.]))
    tensor(True)
    """
    return _logical("any", x, dim, keepdim, axis, keepdims)
