"""``keras.ops`` sorting, searching and statistics: ``sort``, ``argsort``, ``top_k``,
``in_top_k``, ``unique``, ``bincount``, ``searchsorted``, ``quantile``, ``median``,
``histogram``, ``diff``, ``trapezoid`` ...

``sort``, ``top_k`` values, ``quantile`` and ``median`` are differentiable (gathers by
the sorting permutation, then linear interpolation); the index-valued ones return int32.

>>> from shendu.keras import ops
>>> values, indices = ops.top_k(ops.convert_to_tensor([1.0, 3.0, 2.0]), k=2)
>>> values.tolist(), indices.tolist(), float(ops.median(ops.arange(4)))
([3.0, 2.0], [1, 2], 1.5)
"""
from __future__ import annotations

import builtins

import numpy as np

from ... import ops as _ops
from ...autograd.tensor import Tensor
from ._core import _floatx, _t, cast
from ._numpy_shape import _cut, _norm_axis, _shape

__all__ = ['sort', 'argsort', 'argpartition', 'top_k', 'in_top_k', 'unique', 'bincount', 'nonzero', 'searchsorted', 'digitize', 'diff', 'quantile', 'percentile', 'median', 'histogram', 'unravel_index', 'vander', 'trapezoid']


def sort(x, axis=-1):
    """``x`` sorted along ``axis`` (differentiable: a gather by ``argsort``)."""
    x = _t(x)
    idx = np.argsort(x.detach().__array__(), axis=axis, kind="stable")
    return _ops.take_along_dim(x, Tensor._make(idx), axis)


def argsort(x, axis=-1):
    x = _t(x)
    return Tensor._make(np.argsort(x.detach().__array__(), axis=axis,
                                   kind="stable").astype(np.int32))


def argpartition(x, kth, axis=-1):
    x = _t(x)
    return Tensor._make(np.argpartition(x.detach().__array__(), kth, axis=axis)
                        .astype(np.int32))


def top_k(x, k, sorted=True):
    """The ``k`` largest entries along the last axis and their int32 indices."""
    x = _t(x)
    a = x.detach().__array__()
    idx = np.argsort(-a, axis=-1, kind="stable")[..., :int(k)]
    return _ops.take_along_dim(x, Tensor._make(idx), -1), Tensor._make(idx.astype(np.int32))


def in_top_k(targets, predictions, k):
    """Whether each target class is among the ``k`` highest predictions of its row."""
    p = np.asarray(_t(predictions).detach().__array__())
    t = np.asarray(_t(targets).detach().__array__()).astype(np.int64).reshape(-1)
    score = p[np.arange(len(t)), t]
    return Tensor._make((p > score[:, None]).sum(axis=1) < int(k))


def _np(x):
    return np.asarray(_t(x).detach().__array__())


def unique(x, sorted=True, return_inverse=False, return_counts=False, axis=None, size=None,
           fill_value=None):
    """The distinct values (not differentiable)."""
    out = np.unique(_np(x), return_inverse=return_inverse, return_counts=return_counts,
                    axis=axis)
    if isinstance(out, tuple):
        return tuple(Tensor._make(o.astype(np.int32) if i else o) for i, o in enumerate(out))
    return Tensor._make(out)


def bincount(x, weights=None, minlength=0, sparse=False):
    w = None if weights is None else _np(weights)
    out = np.bincount(_np(x).astype(np.int64), weights=w, minlength=minlength)
    return Tensor._make(out.astype(np.int32) if w is None else out.astype(w.dtype))


def nonzero(x):
    return tuple(Tensor._make(i.astype(np.int32)) for i in np.nonzero(_np(x)))


def searchsorted(sorted_sequence, values, side="left"):
    return Tensor._make(np.searchsorted(_np(sorted_sequence), _np(values), side=side)
                        .astype(np.int32))


def digitize(x, bins):
    return Tensor._make(np.digitize(_np(x), _np(bins)).astype(np.int32))


def diff(a, n=1, axis=-1):
    """The ``n``-th discrete difference along ``axis``."""
    x = _t(a)
    for _ in range(n):
        m = x.shape[axis]
        x = _cut(x, [1, m], axis)[0] - _cut(x, [0, m - 1], axis)[0]
    return x


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-quantile(s) along ``axis`` with linear interpolation (differentiable)."""
    if method != "linear":
        raise NotImplementedError(f"quantile: method={method!r} is not supported in "
                                  "shendu.keras (only 'linear')")
    x = _t(x)
    x = x if x.dtype.kind == "f" else cast(x, _floatx())
    if axis is None:
        work, ax = x.reshape(-1), 0
    else:
        axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
        axes = [_norm_axis(int(a), x.ndim) for a in axes]
        rest = [i for i in range(x.ndim) if i not in axes]
        work = _ops.permute(x, *(rest + axes)).reshape(
            tuple(x.shape[i] for i in rest) + (-1,))
        ax = len(rest)
    s = sort(work, ax)
    n = s.shape[ax]
    qs = np.atleast_1d(np.asarray(q.__array__() if isinstance(q, Tensor) else q,
                                  dtype=np.float64))
    pos = qs * (n - 1)
    lo, hi = np.floor(pos).astype(np.int64), np.ceil(pos).astype(np.int64)
    frac = Tensor._make((pos - lo).astype(s.dtype))
    a = _ops.index_select(s, ax, Tensor._make(lo))
    b = _ops.index_select(s, ax, Tensor._make(hi))
    shape_ = [1] * s.ndim
    shape_[ax] = len(qs)
    out = a + (b - a) * frac.reshape(shape_)
    out = _ops.moveaxis(out, ax, 0)
    if keepdims:
        keep = [len(qs)] + [1 if (axis is None or i in axes) else x.shape[i]
                            for i in range(x.ndim)]
        out = out.reshape(keep)
    return out[0] if np.ndim(q) == 0 else out


def percentile(x, q, axis=None, method="linear", keepdims=False):
    return quantile(x, np.asarray(q.__array__() if isinstance(q, Tensor) else q) / 100.0,
                    axis, method, keepdims)


def median(x, axis=None, keepdims=False):
    return quantile(x, 0.5, axis=axis, keepdims=keepdims)


def histogram(x, bins=10, range=None):
    counts, edges = np.histogram(_np(x), bins=bins, range=range)
    return Tensor._make(counts.astype(np.int32)), Tensor._make(edges.astype(_floatx()))


def unravel_index(indices, shape):
    return tuple(Tensor._make(i.astype(np.int32))
                 for i in np.unravel_index(_np(indices).astype(np.int64), _shape(shape)))


def vander(x, N=None, increasing=False):
    x = _t(x)
    n = x.shape[0] if N is None else int(N)
    powers = np.arange(n) if increasing else np.arange(n - 1, -1, -1)
    return x.reshape(-1, 1) ** Tensor._make(powers.astype(x.dtype if x.dtype.kind == "f"
                                                          else np.int32)).reshape(1, -1)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` by the trapezoid rule along ``axis``."""
    y = _t(y)
    y = y if y.dtype.kind == "f" else cast(y, _floatx())
    m = y.shape[axis]
    hi, lo = _cut(y, [1, m], axis)[0], _cut(y, [0, m - 1], axis)[0]
    if x is None:
        return _ops.sum((hi + lo) * (0.5 * dx), axis=axis)
    xs = cast(x, y.dtype)
    d = _cut(xs, [1, m], -1)[0] - _cut(xs, [0, m - 1], -1)[0]
    if xs.ndim == 1 and y.ndim > 1:
        shape_ = [1] * y.ndim
        shape_[axis] = m - 1
        d = d.reshape(shape_)
    return _ops.sum((hi + lo) * d * 0.5, axis=axis)
