"""``keras.ops`` reductions with NumPy's ``axis`` / ``keepdims``: ``sum``, ``mean``,
``max``, ``min``, ``prod``, ``var``, ``std``, ``argmax``, ``argmin``, ``all``, ``any``,
``logsumexp``, ``cumsum``, ``cumprod``, ``average``, ``count_nonzero``, ``ptp``, ``norm``.

``axis=None`` reduces every axis; ``mean`` / ``var`` / ``std`` of integers are float32;
``argmax`` / ``argmin`` are int32 (of the flattened input when ``axis`` is None).

>>> from shendu.keras import ops
>>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
>>> float(ops.var(x)), ops.argmax(x).tolist(), ops.norm(x, axis=-1).shape
(1.25, 3, (2,))
"""
from __future__ import annotations

import numpy as np

from ... import ops as _ops
from ._core import _floatx, _t, cast
from ._numpy_math import _axis, _float

__all__ = ['sum', 'mean', 'max', 'min', 'prod', 'var', 'std', 'argmax', 'argmin', 'all', 'any', 'logsumexp', 'cumsum', 'cumprod', 'average', 'count_nonzero', 'ptp', 'norm', 'amax', 'amin']


def sum(x, axis=None, keepdims=False):
    """The sum over ``axis`` (all axes when None)."""
    return _ops.sum(_t(x), axis=_axis(axis), keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """The mean over ``axis`` (float32 for integer inputs)."""
    return _ops.mean(_float(x), axis=_axis(axis), keepdims=keepdims)


def _maxmin(fn, x, axis, keepdims, initial):
    x = _t(x)
    out = fn(x, axis=_axis(axis), keepdims=keepdims)
    if initial is not None:
        out = (_ops.maximum if fn is _ops.amax else _ops.minimum)(
            out, _ops.full_like(out, initial))
    return out


def max(x, axis=None, keepdims=False, initial=None):
    """The maximum over ``axis`` (the gradient goes to the maxima, shared on ties)."""
    return _maxmin(_ops.amax, x, axis, keepdims, initial)


def min(x, axis=None, keepdims=False, initial=None):
    return _maxmin(_ops.amin, x, axis, keepdims, initial)


amax = max
amin = min


def prod(x, axis=None, keepdims=False, dtype=None):
    x = _t(x, dtype)
    return _ops.prod(x, axis=_axis(axis), keepdims=keepdims)


def var(x, axis=None, keepdims=False):
    """The population variance (divides by N, as NumPy)."""
    return _ops.var(_float(x), axis=_axis(axis), keepdims=keepdims, ddof=0)


def std(x, axis=None, keepdims=False):
    return _ops.std(_float(x), axis=_axis(axis), keepdims=keepdims, ddof=0)


def _arg(fn, x, axis, keepdims):
    x = _t(x)
    if axis is None:
        out = fn(x.reshape(-1), axis=0)
        if keepdims:
            out = out.reshape((1,) * x.ndim)
    else:
        out = fn(x, axis=int(axis), keepdims=keepdims)
    return cast(out, "int32")


def argmax(x, axis=None, keepdims=False):
    """The index of the largest entry (of the flattened ``x`` when ``axis`` is None), int32."""
    return _arg(_ops.argmax, x, axis, keepdims)


def argmin(x, axis=None, keepdims=False):
    return _arg(_ops.argmin, x, axis, keepdims)


def all(x, axis=None, keepdims=False):
    return _ops.all(_t(x), axis=_axis(axis), keepdims=keepdims)


def any(x, axis=None, keepdims=False):
    return _ops.any(_t(x), axis=_axis(axis), keepdims=keepdims)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over ``axis``, stable for large entries."""
    return _ops.logsumexp(_float(x), axis=_axis(axis), keepdims=keepdims)


def cumsum(x, axis=None, dtype=None):
    """The running sum along ``axis`` (over the flattened ``x`` when None)."""
    x = _t(x, dtype)
    if axis is None:
        return _ops.cumsum(x.reshape(-1), axis=0)
    return _ops.cumsum(x, axis=int(axis))


def cumprod(x, axis=None, dtype=None):
    """The running product along ``axis`` (a loop over that axis; exact with zeros)."""
    x = _t(x, dtype)
    if axis is None:
        x, axis = x.reshape(-1), 0
    moved = _ops.moveaxis(x, int(axis), 0)
    parts = [moved[0]]
    for i in range(1, moved.shape[0]):
        parts.append(parts[-1] * moved[i])
    return _ops.moveaxis(_ops.stack(parts, dim=0), 0, int(axis)) if parts else x


def average(x, axis=None, weights=None):
    """The mean, weighted by ``weights`` (1-D along ``axis``, or ``x``'s shape)."""
    x = _float(x)
    if weights is None:
        return mean(x, axis)
    w = cast(weights, x.dtype)
    if axis is not None and w.ndim == 1 and x.ndim > 1:
        shape_ = [1] * x.ndim
        shape_[int(axis)] = w.shape[0]
        w = w.reshape(shape_)
    return sum(x * w, axis) / sum(w * _ops.ones_like(x), axis)


def count_nonzero(x, axis=None):
    return cast(sum(cast(_t(x) != 0, "int32"), axis), "int32")


def ptp(x, axis=None, keepdims=False):
    """max - min over ``axis``."""
    return max(x, axis, keepdims) - min(x, axis, keepdims)


def norm(x, ord=None, axis=None, keepdims=False):
    """A vector or matrix norm, as ``numpy.linalg.norm`` (vector norms: any ``ord``;
    matrix norms: ``'fro'``, 1, -1, inf, -inf)."""
    x = _float(x)
    if axis is None:
        axis = tuple(range(x.ndim)) if ord is None else \
            (0,) if x.ndim == 1 else (0, 1) if x.ndim == 2 else None
        if axis is None:
            raise ValueError("norm: give axis for inputs of rank > 2")
        if ord is None:
            x, axis = x.reshape(-1), (0,)
    ax = (axis,) if isinstance(axis, int) else tuple(axis)
    if len(ax) == 1:
        a = ax[0]
        o = 2 if ord is None else ord
        if o == np.inf:
            return _ops.amax(_ops.abs(x), axis=a, keepdims=keepdims)
        if o == -np.inf:
            return _ops.amin(_ops.abs(x), axis=a, keepdims=keepdims)
        if o == 0:
            return sum(cast(x != 0, x.dtype), a, keepdims)
        if o == 2:
            return _ops.sqrt(_ops.sum(x * x, axis=a, keepdims=keepdims))
        return _ops.sum(_ops.abs(x) ** o, axis=a, keepdims=keepdims) ** (1.0 / o)
    if ord in (None, "fro"):
        return _ops.sqrt(_ops.sum(x * x, axis=ax, keepdims=keepdims))
    r, c = ax
    if ord in (1, -1):
        s = _ops.sum(_ops.abs(x), axis=r, keepdims=True)
        red = _ops.amax if ord == 1 else _ops.amin
        out = red(s, axis=c, keepdims=True)
    elif ord in (np.inf, -np.inf):
        s = _ops.sum(_ops.abs(x), axis=c, keepdims=True)
        red = _ops.amax if ord == np.inf else _ops.amin
        out = red(s, axis=r, keepdims=True)
    else:
        raise NotImplementedError(f"norm: matrix ord={ord!r} is not supported in shendu.keras "
                                  "(use 'fro', 1, -1, inf or -inf)")
    return out if keepdims else _ops.squeeze(out, axis=tuple(sorted(ax)))
