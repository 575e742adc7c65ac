"""``keras.ops`` less common NumPy functions: NaN-ignoring reductions, segment
reductions, integer/bitwise functions, window functions, ``cdist``, ``corrcoef``,
``correlate``, ``isin``, ``fmod``, ``ldexp``, ``unfold``.

NaN-ignoring and segment reductions are differentiable (they mask, then reduce);
integer, bitwise and window functions return new tensors without a gradient.

>>> from shendu.keras import ops
>>> float(ops.nanmean(ops.convert_to_tensor([1.0, float("nan"), 3.0])))
2.0
>>> ops.segment_sum(ops.convert_to_tensor([1.0, 2.0, 3.0]), [0, 0, 1]).tolist()
[3.0, 3.0]
"""
from __future__ import annotations

import math

import numpy as np

from ... import ops as _ops
from ...autograd.tensor import Tensor
from ...nn import functional as F
from ._core import _floatx, _like_dtype, _t, cast
from ._numpy_math import _axis, _float

__all__ = ["nansum", "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd",
           "nancumsum", "nancumprod", "nanargmax", "nanargmin", "nanmedian", "nanquantile",
           "nanpercentile", "segment_sum", "segment_max", "segment_min", "segment_prod",
           "fmod", "isin", "ldexp", "gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "bitwise_invert", "bitwise_left_shift", "bitwise_right_shift",
           "left_shift", "right_shift", "nextafter", "angle", "i0", "bartlett", "blackman",
           "hamming", "hanning", "kaiser", "cdist", "corrcoef", "correlate", "unfold"]


def _nan_fill(x, value):
    x = _float(x)
    return _ops.where(_ops.isnan(x), _ops.full_like(x, value), x), x


def nansum(x, axis=None, keepdims=False):
    filled, _ = _nan_fill(x, 0.0)
    return _ops.sum(filled, axis=_axis(axis), keepdims=keepdims)


def nanmean(x, axis=None, keepdims=False):
    filled, raw = _nan_fill(x, 0.0)
    count = _ops.sum(cast(_ops.logical_not(_ops.isnan(raw)), raw.dtype), axis=_axis(axis),
                     keepdims=keepdims)
    return _ops.sum(filled, axis=_axis(axis), keepdims=keepdims) / count


def nanmax(x, axis=None, keepdims=False):
    filled, _ = _nan_fill(x, -math.inf)
    return _ops.amax(filled, axis=_axis(axis), keepdims=keepdims)


def nanmin(x, axis=None, keepdims=False):
    filled, _ = _nan_fill(x, math.inf)
    return _ops.amin(filled, axis=_axis(axis), keepdims=keepdims)


def nanprod(x, axis=None, keepdims=False):
    filled, _ = _nan_fill(x, 1.0)
    return _ops.prod(filled, axis=_axis(axis), keepdims=keepdims)


def nanvar(x, axis=None, keepdims=False):
    raw = _float(x)
    m = nanmean(raw, axis, keepdims=True)
    return nanmean(_ops.square(raw - m), axis, keepdims)


def nanstd(x, axis=None, keepdims=False):
    return _ops.sqrt(nanvar(x, axis, keepdims))


def nancumsum(x, axis=None, dtype=None):
    from ._numpy_reduce import cumsum
    return cumsum(_nan_fill(x, 0.0)[0], axis, dtype)


def nancumprod(x, axis=None, dtype=None):
    from ._numpy_reduce import cumprod
    return cumprod(_nan_fill(x, 1.0)[0], axis, dtype)


def nanargmax(x, axis=None, keepdims=False):
    from ._numpy_reduce import argmax
    return argmax(_nan_fill(x, -math.inf)[0], axis, keepdims)


def nanargmin(x, axis=None, keepdims=False):
    from ._numpy_reduce import argmin
    return argmin(_nan_fill(x, math.inf)[0], axis, keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaN (computed by NumPy: no gradient)."""
    a = np.asarray(_float(x).detach().__array__())
    return Tensor._make(np.asarray(np.nanquantile(a, q, axis=axis, method=method,
                                                  keepdims=keepdims), dtype=a.dtype))


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return nanquantile(x, np.asarray(q) / 100.0, axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False):
    return nanquantile(x, 0.5, axis, keepdims=keepdims)


# ------------------------------------------------------------------ segments
def _segments(data, segment_ids, num_segments):
    x = _t(data)
    ids = np.asarray(_t(segment_ids).detach().__array__()).astype(np.int64).reshape(-1)
    n = int(ids.max()) + 1 if num_segments is None else int(num_segments)
    return x, ids, n


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Row ``i`` of the result is the sum of the rows of ``data`` with segment id ``i``."""
    x, ids, n = _segments(data, segment_ids, num_segments)
    flat = x.reshape(x.shape[0], -1)
    index = Tensor._make(np.repeat(ids.reshape(-1, 1), flat.shape[1], axis=1))
    zeros = Tensor._make(np.zeros((n, flat.shape[1]), dtype=x.dtype))
    return _ops.scatter_add(zeros, 0, index, flat).reshape((n,) + x.shape[1:])


def _segment_reduce(reduce, fill, data, segment_ids, num_segments):
    x, ids, n = _segments(data, segment_ids, num_segments)
    rows = []
    for s in range(n):
        sel = np.nonzero(ids == s)[0]
        if len(sel):
            rows.append(reduce(_ops.index_select(x, 0, Tensor._make(sel)), axis=0))
        else:
            rows.append(Tensor._make(np.full(x.shape[1:], fill, dtype=x.dtype)))
    return _ops.stack(rows, dim=0)


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    fill = -np.inf if _t(data).dtype.kind == "f" else np.iinfo(_t(data).dtype).min
    return _segment_reduce(_ops.amax, fill, data, segment_ids, num_segments)


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    fill = np.inf if _t(data).dtype.kind == "f" else np.iinfo(_t(data).dtype).max
    return _segment_reduce(_ops.amin, fill, data, segment_ids, num_segments)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    return _segment_reduce(_ops.prod, 1, data, segment_ids, num_segments)


# ------------------------------------------------------------------ integers and bits
def fmod(x1, x2):
    """The remainder with the dividend's sign (C's ``fmod``)."""
    a, b = _like_dtype(x1, x2)
    return _ops.fmod(a, b)


def ldexp(x1, x2):
    """x1 * 2 ** x2."""
    a = _float(x1)
    return a * Tensor._make(np.exp2(np.asarray(_t(x2).detach().__array__())).astype(a.dtype))


def isin(x1, x2, assume_unique=False, invert=False):
    return Tensor._make(np.isin(_np(x1), _np(x2), invert=invert))


def _np(x):
    return np.asarray(_t(x).detach().__array__())


def _numpy_fn(fn, name, doc):
    def wrapped(x1, x2=None):
        out = fn(_np(x1)) if x2 is None else fn(_np(x1), _np(x2))
        return Tensor._make(np.asarray(out))
    wrapped.__name__ = name
    wrapped.__doc__ = doc
    return wrapped


gcd = _numpy_fn(np.gcd, "gcd", "The greatest common divisor, element-wise.")
lcm = _numpy_fn(np.lcm, "lcm", "The least common multiple, element-wise.")
bitwise_and = _numpy_fn(np.bitwise_and, "bitwise_and", "x & y on integers.")
bitwise_or = _numpy_fn(np.bitwise_or, "bitwise_or", "x | y on integers.")
bitwise_xor = _numpy_fn(np.bitwise_xor, "bitwise_xor", "x ^ y on integers.")
left_shift = bitwise_left_shift = _numpy_fn(np.left_shift, "left_shift", "x << y.")
right_shift = bitwise_right_shift = _numpy_fn(np.right_shift, "right_shift", "x >> y.")
nextafter = _numpy_fn(np.nextafter, "nextafter", "The next float after x1 towards x2.")
i0 = _numpy_fn(np.i0, "i0", "The modified Bessel function of order 0 (no gradient).")


def bitwise_invert(x):
    """~x on integers (logical not on bools)."""
    return Tensor._make(np.invert(_np(x)))


bitwise_not = bitwise_invert


def angle(x):
    """The complex argument of real numbers: 0 for x >= 0, pi for x < 0."""
    x = _float(x)
    return Tensor._make(np.where(_np(x) < 0, np.pi, 0.0).astype(x.dtype))


# ------------------------------------------------------------------ windows
def _window(fn, name):
    def wrapped(x):
        return Tensor._make(fn(int(x)).astype(_floatx()))
    wrapped.__name__ = name
    wrapped.__doc__ = f"The {name} window of length ``x`` (``numpy.{name}``)."
    return wrapped


bartlett = _window(np.bartlett, "bartlett")
blackman = _window(np.blackman, "blackman")
hamming = _window(np.hamming, "hamming")
hanning = _window(np.hanning, "hanning")


def kaiser(x, beta):
    return Tensor._make(np.kaiser(int(x), float(beta)).astype(_floatx()))


# ------------------------------------------------------------------ distances and correlation
def cdist(x1, x2, p=2.0):
    """Pairwise p-norm distances between the rows of ``x1`` ``(..., N, D)`` and ``x2``
    ``(..., M, D)``: ``(..., N, M)``."""
    a, b = _float(x1), _float(x2)
    diff = a[..., :, None, :] - b[..., None, :, :]
    if p == 2.0:
        return _ops.sqrt(_ops.sum(diff * diff, axis=-1))
    if p == 1.0:
        return _ops.sum(_ops.abs(diff), axis=-1)
    if p == math.inf:
        return _ops.amax(_ops.abs(diff), axis=-1)
    return _ops.sum(_ops.abs(diff) ** p, axis=-1) ** (1.0 / p)


def corrcoef(x):
    """The Pearson correlation matrix of the rows of ``x`` (variables x observations)."""
    x = _float(x)
    c = x - _ops.mean(x, axis=-1, keepdims=True)
    cov = _ops.matmul(c, _ops.swapaxes(c, -1, -2))
    d = _ops.sqrt(_ops.sum(c * c, axis=-1))
    return _ops.clip(cov / (d[:, None] * d[None, :]), -1.0, 1.0)


def correlate(x1, x2, mode="valid"):
    """The 1-D cross-correlation ``sum_k x1[k + n] x2[k]`` (``numpy.correlate``)."""
    a, b = _float(x1), _float(x2)
    n, m = a.shape[0], b.shape[0]
    if mode == "valid":
        pad = (0, 0)
    elif mode == "same":
        pad = ((m - 1) // 2, m - 1 - (m - 1) // 2) if n >= m else (0, 0)
    elif mode == "full":
        pad = (m - 1, m - 1)
    else:
        raise ValueError(f"correlate: mode must be 'valid', 'same' or 'full', got {mode!r}")
    if n < m:
        a, b = b, a
        flipped = True
    else:
        flipped = False
    y = F.conv1d(F.pad(a.reshape(1, 1, -1), pad), b.reshape(1, 1, -1)).reshape(-1)
    return _ops.flip(y, 0) if flipped else y


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """PyTorch's ``unfold`` (im2col) of ``(N, C, H, W)``: ``(N, C k_h k_w, L)``."""
    return F.unfold(_float(input), kernel_size, dilation=dilation, padding=padding,
                    stride=stride)
