"""``keras.ops`` neural-network functions (``keras.ops.nn``): activations, cross-entropies,
convolutions and pooling in Keras's layouts, normalization statistics and attention.

Keras's layouts and defaults: images are ``channels_last`` ``(N, H, W, C)``, a conv kernel
is ``(*kernel, in / groups, out)``, ``padding`` is ``"valid"`` or ``"same"`` (TensorFlow's:
the odd pixel goes after), ``gelu`` is the tanh approximation (``approximate=True``),
``leaky_relu`` has ``negative_slope=0.2``, probabilities in the cross-entropies are
clipped to ``[1e-7, 1 - 1e-7]``. Under them are shendu's differentiable ops.

>>> from shendu.keras import ops
>>> x = ops.convert_to_tensor([[-1.0, 0.0, 2.0]])
>>> ops.relu(x).tolist(), [round(v, 4) for v in ops.softmax(x)[0].tolist()]
([[0.0, 0.0, 2.0]], [0.042, 0.1142, 0.8438])
>>> ops.conv(ops.ones((1, 5, 5, 3)), ops.ones((3, 3, 3, 8)), padding="same").shape
(1, 5, 5, 8)
"""
from __future__ import annotations

import math

import numpy as np

from ... import ops as _ops
from ...autograd.tensor import Tensor
from ...nn import functional as F
from ._core import _floatx, _t, cast
from ._numpy_math import _axis, _float

__all__ = ["relu", "relu6", "sigmoid", "sparse_sigmoid", "softplus", "softsign", "silu",
           "swish", "log_sigmoid", "leaky_relu", "hard_sigmoid", "hard_silu", "hard_swish",
           "elu", "selu", "gelu", "celu", "glu", "hard_tanh", "hard_shrink", "soft_shrink",
           "tanh_shrink", "threshold", "squareplus", "sparse_plus", "softmax", "log_softmax",
           "sparsemax", "one_hot", "multi_hot", "binary_crossentropy",
           "categorical_crossentropy", "sparse_categorical_crossentropy", "conv",
           "depthwise_conv", "separable_conv", "conv_transpose", "max_pool", "average_pool",
           "adaptive_average_pool", "adaptive_max_pool", "moments", "batch_normalization",
           "layer_normalization", "rms_normalization", "normalize", "dot_product_attention",
           "psnr", "depth_to_space", "space_to_depth"]

_EPSILON = 1e-7


# ------------------------------------------------------------------ activations
def relu(x):
    return _ops.relu(_float(x))


def relu6(x):
    return _ops.relu6(_float(x))


def sigmoid(x):
    return _ops.sigmoid(_float(x))


def sparse_sigmoid(x):
    """0 below -1, 1 above 1, (x + 1) / 2 between."""
    return _ops.clip((_float(x) + 1.0) * 0.5, 0.0, 1.0)


def softplus(x):
    """log(1 + e^x)."""
    return F.softplus(_float(x))


def softsign(x):
    return F.softsign(_float(x))


def silu(x):
    """x * sigmoid(x)."""
    return F.silu(_float(x))


swish = silu


def log_sigmoid(x):
    return F.logsigmoid(_float(x))


def leaky_relu(x, negative_slope=0.2):
    return F.leaky_relu(_float(x), negative_slope)


def hard_sigmoid(x):
    """relu6(x + 3) / 6 (Keras's definition)."""
    return _ops.relu6(_float(x) + 3.0) / 6.0


def hard_silu(x):
    x = _float(x)
    return x * hard_sigmoid(x)


hard_swish = hard_silu


def elu(x, alpha=1.0):
    return F.elu(_float(x), alpha)


def selu(x):
    return F.selu(_float(x))


def gelu(x, approximate=True):
    """x * Phi(x); the tanh approximation by default, as Keras."""
    return F.gelu(_float(x), approximate="tanh" if approximate else "none")


def celu(x, alpha=1.0):
    return F.celu(_float(x), alpha)


def glu(x, axis=-1):
    """a * sigmoid(b) for the two halves a, b of ``x`` along ``axis``."""
    x = _float(x)
    if x.shape[axis] % 2:
        raise ValueError(f"glu: axis {axis} must have an even size, got {x.shape[axis]}")
    a, b = _ops.chunk(x, 2, axis)
    return a * _ops.sigmoid(b)


def hard_tanh(x):
    return _ops.clip(_float(x), -1.0, 1.0)


def hard_shrink(x, threshold=0.5):
    x = _float(x)
    return _ops.where(_ops.abs(x) > threshold, x, _ops.zeros_like(x))


def soft_shrink(x, threshold=0.5):
    x = _float(x)
    return _ops.where(x > threshold, x - threshold,
                      _ops.where(x < -threshold, x + threshold, _ops.zeros_like(x)))


def tanh_shrink(x):
    x = _float(x)
    return x - _ops.tanh(x)


def threshold(x, threshold, default_value):
    """x where x > threshold, else ``default_value``."""
    x = _float(x)
    return _ops.where(x > threshold, x, _ops.full_like(x, float(default_value)))


def squareplus(x, b=4):
    """(x + sqrt(x^2 + b)) / 2."""
    x = _float(x)
    return (x + _ops.sqrt(x * x + float(b))) * 0.5


def sparse_plus(x):
    """0 below -1, x above 1, (x + 1)^2 / 4 between."""
    x = _float(x)
    mid = (x + 1.0) ** 2 * 0.25
    return _ops.where(x <= -1.0, _ops.zeros_like(x), _ops.where(x >= 1.0, x, mid))


def softmax(x, axis=-1):
    """e^x / sum(e^x) over ``axis`` (a tuple of axes: over all of them at once)."""
    x = _float(x)
    if isinstance(axis, (tuple, list)):
        return _ops.exp(x - _ops.logsumexp(x, axis=tuple(axis), keepdims=True))
    return _ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    x = _float(x)
    if isinstance(axis, (tuple, list)):
        return x - _ops.logsumexp(x, axis=tuple(axis), keepdims=True)
    return _ops.log_softmax(x, axis=axis)


def sparsemax(x, axis=-1):
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``."""
    x = _float(x)
    z = _ops.moveaxis(x, axis, -1)
    zs = np.sort(z.detach().__array__(), axis=-1)[..., ::-1]
    k = np.arange(1, z.shape[-1] + 1, dtype=zs.dtype)
    cssv = np.cumsum(zs, axis=-1)
    support = (1 + k * zs) > cssv
    kz = support.sum(axis=-1, keepdims=True)
    tau_idx = Tensor._make((kz - 1).astype(np.int64))
    sorted_t = _ops.take_along_dim(z, Tensor._make(np.argsort(-z.detach().__array__(),
                                                              axis=-1, kind="stable")), -1)
    tau = (_ops.take_along_dim(_ops.cumsum(sorted_t, axis=-1), tau_idx, -1) - 1.0) / \
        Tensor._make(kz.astype(zs.dtype))
    return _ops.moveaxis(_ops.relu(z - tau), -1, axis)


# ------------------------------------------------------------------ encodings
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """One-hot vectors of the integer labels ``x`` (float32); labels outside
    ``[0, num_classes)`` give all-zero rows, as Keras."""
    labels = np.asarray(_t(x).detach().__array__()).astype(np.int64)
    eye = np.eye(int(num_classes) + 1, int(num_classes),
                 dtype=np.dtype(dtype) if dtype else _floatx())
    out = eye[np.where((labels >= 0) & (labels < num_classes), labels, num_classes)]
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return Tensor._make(np.ascontiguousarray(out))


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """1 for every class present in each row of integer labels."""
    num_classes = kwargs.pop("num_tokens", num_classes)
    labels = np.asarray(_t(inputs).detach().__array__()).astype(np.int64)
    rows_k = labels.reshape(-1, labels.shape[-1])
    out = np.zeros((rows_k.shape[0], int(num_classes)),
                   dtype=np.dtype(dtype) if dtype else _floatx())
    rows = np.repeat(np.arange(rows_k.shape[0]), rows_k.shape[1])
    cols = rows_k.reshape(-1)
    ok = (cols >= 0) & (cols < num_classes)
    out[rows[ok], cols[ok]] = 1
    out = out.reshape(labels.shape[:-1] + (int(num_classes),))
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return Tensor._make(np.ascontiguousarray(out))


# ------------------------------------------------------------------ cross-entropies
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise ``-(t log p + (1 - t) log(1 - p))`` (no reduction); with
    ``from_logits`` the stable ``max(z, 0) - z t + log(1 + e^-|z|)``."""
    out = _float(output)
    t = cast(_t(target), out.dtype)
    if t.shape != out.shape:
        raise ValueError(f"binary_crossentropy: target {t.shape} and output {out.shape} must "
                         "have the same shape")
    if from_logits:
        return _ops.relu(out) - out * t + _ops.log1p(_ops.exp(-_ops.abs(out)))
    p = _ops.clip(out, _EPSILON, 1.0 - _EPSILON)
    return -(t * _ops.log(p) + (1.0 - t) * _ops.log(1.0 - p))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-sum(t log p, axis)`` with one-hot or soft targets; probabilities are renormalized
    over ``axis`` and clipped, logits go through a log-softmax."""
    out = _float(output)
    t = cast(_t(target), out.dtype)
    if t.shape != out.shape:
        raise ValueError(f"categorical_crossentropy: target {t.shape} and output {out.shape} "
                         "must have the same shape (one-hot targets; integer labels: "
                         "sparse_categorical_crossentropy)")
    if from_logits:
        logp = _ops.log_softmax(out, axis=axis)
    else:
        p = out / _ops.sum(out, axis=axis, keepdims=True)
        logp = _ops.log(_ops.clip(p, _EPSILON, 1.0 - _EPSILON))
    return -_ops.sum(t * logp, axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """``-log p[target]`` with integer labels ``target`` (``output`` has one more axis)."""
    out = _float(output)
    labels = np.asarray(_t(target).detach().__array__()).astype(np.int64)
    if labels.ndim == out.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    out = _ops.moveaxis(out, axis, -1)
    if labels.shape != out.shape[:-1]:
        raise ValueError(f"sparse_categorical_crossentropy: target {labels.shape} does not "
                         f"match output {out.shape} (labels have one axis less)")
    logp = _ops.log_softmax(out, axis=-1) if from_logits else \
        _ops.log(_ops.clip(out / _ops.sum(out, axis=-1, keepdims=True), _EPSILON,
                           1.0 - _EPSILON))
    picked = _ops.take_along_dim(logp, Tensor._make(labels[..., None]), -1)
    return -picked[..., 0]


# ------------------------------------------------------------------ convolution and pooling
def _fmt(data_format):
    return data_format or "channels_last"


def _tuple(v, n):
    return (int(v),) * n if isinstance(v, (int, np.integer)) else tuple(int(i) for i in v)


_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


def _same_pads(size, kernel, stride, dilation=1):
    extent = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def _pad_spatial(x, pairs, value=0.0):
    if not any(a or b for a, b in pairs):
        return x
    return F.pad(x, tuple(v for p in reversed(pairs) for v in p), mode="constant", value=value)


def _first(x, fmt):
    return _ops.moveaxis(x, -1, 1) if fmt == "channels_last" else x


def _last(x, fmt):
    return _ops.moveaxis(x, 1, -1) if fmt == "channels_last" else x


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """N-d convolution (cross-correlation) of ``inputs`` ``(N, *spatial, C_in)`` with
    ``kernel`` ``(*k, C_in / groups, C_out)``; groups = C_in / kernel's in-size."""
    x, w = _float(inputs), _float(kernel)
    n = w.ndim - 2
    fmt = _fmt(data_format)
    padding = padding.lower()
    s, d = _tuple(strides, n), _tuple(dilation_rate, n)
    x = _first(x, fmt)
    groups = x.shape[1] // w.shape[-2]
    if groups * w.shape[-2] != x.shape[1]:
        raise ValueError(f"conv: inputs have {x.shape[1]} channels, not a multiple of the "
                         f"kernel's input size {w.shape[-2]} (kernel {w.shape})")
    wt = _ops.permute(w, n + 1, n, *range(n))  # (out, in/groups, *k)
    if padding == "same":
        x = _pad_spatial(x, [_same_pads(x.shape[2 + i], w.shape[i], s[i], d[i])
                             for i in range(n)])
    elif padding == "causal":
        x = _pad_spatial(x, [((w.shape[0] - 1) * d[0], 0)])
    elif padding != "valid":
        raise ValueError(f"conv: padding must be 'valid' or 'same', got {padding!r}")
    return _last(_CONV[n](x, wt, None, s, 0, d, groups), fmt)


def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Each input channel convolved with its own ``multiplier`` filters: ``kernel`` is
    ``(*k, C_in, multiplier)``; the output has ``C_in * multiplier`` channels."""
    w = _float(kernel)
    n = w.ndim - 2
    c, m = w.shape[-2], w.shape[-1]
    return conv(inputs, w.reshape(w.shape[:n] + (1, c * m)), strides, padding, data_format,
                dilation_rate)


def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """``depthwise_conv`` then a 1x1 ``conv`` with ``pointwise_kernel``."""
    y = depthwise_conv(inputs, depthwise_kernel, strides, padding, data_format, dilation_rate)
    return conv(y, pointwise_kernel, 1, "valid", data_format)


_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def conv_transpose(inputs, kernel, strides=1, padding="valid", output_padding=None,
                   data_format=None, dilation_rate=1):
    """The transposed convolution (the gradient of ``conv``); ``kernel`` is
    ``(*k, C_out, C_in)``; output sizes as Keras's ``Conv*DTranspose``."""
    x, w = _float(inputs), _float(kernel)
    n = w.ndim - 2
    fmt = _fmt(data_format)
    s, d = _tuple(strides, n), _tuple(dilation_rate, n)
    padding = padding.lower()
    x = _first(x, fmt)
    y = _CONV_T[n](x, _ops.permute(w, n + 1, n, *range(n)), None, s, 0, 0, 1, d)
    slices, pads = [slice(None), slice(None)], []
    for i in range(n):
        size, full = x.shape[2 + i], y.shape[2 + i]
        k = (w.shape[i] - 1) * d[i] + 1
        if output_padding is None:
            target = size * s[i] if padding == "same" else size * s[i] + max(k - s[i], 0)
        else:
            op = _tuple(output_padding, n)[i]
            target = (size - 1) * s[i] + k - 2 * (k // 2 if padding == "same" else 0) + op
        start = max((size - 1) * s[i] + k - target, 0) // 2 if padding == "same" else 0
        stop = min(start + target, full)
        slices.append(slice(start, stop))
        pads.append((0, target - (stop - start)))
    return _last(_pad_spatial(y[tuple(slices)], pads), fmt)


def _pool(kind, inputs, pool_size, strides, padding, data_format):
    x = _float(inputs)
    n = x.ndim - 2
    fmt = _fmt(data_format)
    k = _tuple(pool_size, n)
    s = k if strides is None else _tuple(strides, n)
    padding = padding.lower()
    x = _first(x, fmt)
    if padding == "same":
        pairs = [_same_pads(x.shape[2 + i], k[i], s[i]) for i in range(n)]
        if kind == "max":
            x = _pad_spatial(x, pairs, value=-math.inf)
            y = _maxpool(n)(x, k, s)
        else:  # TensorFlow's "same" average counts only the real pixels
            ones = Tensor._make(np.ones((1, 1) + x.shape[2:], dtype=x.dtype))
            total = _avgpool(n)(_pad_spatial(x, pairs), k, s)
            count = _avgpool(n)(_pad_spatial(ones, pairs), k, s)
            y = total / count
    elif padding == "valid":
        y = (_maxpool(n) if kind == "max" else _avgpool(n))(x, k, s)
    else:
        raise ValueError(f"{kind}_pool: padding must be 'valid' or 'same', got {padding!r}")
    return _last(y, fmt)


def _maxpool(n):
    return {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}[n]


def _avgpool(n):
    return {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}[n]


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The maximum over windows of ``pool_size`` (``channels_last`` by default)."""
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean over windows (with ``"same"``, over the real pixels only, as Keras)."""
    return _pool("avg", inputs, pool_size, strides, padding, data_format)


def _adaptive(kind, inputs, output_size, data_format):
    x = _float(inputs)
    n = x.ndim - 2
    fmt = _fmt(data_format)
    fn = getattr(F, f"adaptive_{kind}_pool{n}d")
    return _last(fn(_first(x, fmt), _tuple(output_size, n)), fmt)


def adaptive_average_pool(inputs, output_size, data_format=None):
    return _adaptive("avg", inputs, output_size, data_format)


def adaptive_max_pool(inputs, output_size, data_format=None):
    return _adaptive("max", inputs, output_size, data_format)


def depth_to_space(x, block_size, data_format="channels_last"):
    """(N, H, W, C b^2) -> (N, H b, W b, C), TensorFlow's (DCR) order."""
    x = _t(x)
    b = int(block_size)
    if data_format == "channels_first":
        x = _ops.moveaxis(x, 1, -1)
    n, h, w, c = x.shape
    y = x.reshape(n, h, w, b, b, c // (b * b))
    y = _ops.permute(y, 0, 1, 3, 2, 4, 5).reshape(n, h * b, w * b, c // (b * b))
    return _ops.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def space_to_depth(x, block_size, data_format="channels_last"):
    x = _t(x)
    b = int(block_size)
    if data_format == "channels_first":
        x = _ops.moveaxis(x, 1, -1)
    n, h, w, c = x.shape
    y = x.reshape(n, h // b, b, w // b, b, c)
    y = _ops.permute(y, 0, 1, 3, 2, 4, 5).reshape(n, h // b, w // b, b * b * c)
    return _ops.moveaxis(y, -1, 1) if data_format == "channels_first" else y


# ------------------------------------------------------------------ normalization
def moments(x, axes, keepdims=False, synchronized=False):
    """The mean and (population) variance over ``axes``."""
    x = _float(x)
    ax = _axis(axes)
    m = _ops.mean(x, axis=ax, keepdims=True)
    v = _ops.mean(_ops.square(x - m), axis=ax, keepdims=keepdims)
    return (m if keepdims else _ops.mean(x, axis=ax)), v


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """(x - mean) / sqrt(variance + epsilon) * scale + offset, the 1-D statistics laid
    along ``axis``."""
    x = _float(x)
    shape_ = [1] * x.ndim
    shape_[axis] = x.shape[axis]

    def b(v):
        return cast(v, x.dtype).reshape(shape_) if _t(v).ndim == 1 else cast(v, x.dtype)
    y = (x - b(mean)) * _ops.rsqrt(b(variance) + epsilon)
    if scale is not None:
        y = y * b(scale)
    if offset is not None:
        y = y + b(offset)
    return y


def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, **kwargs):
    """(x - mean) / sqrt(var + epsilon) over ``axis``, times ``gamma`` plus ``beta``."""
    x = _float(x)
    eps = _EPSILON if epsilon is None else float(epsilon)
    m, v = moments(x, axis, keepdims=True)
    y = (x - m) * _ops.rsqrt(v + eps)
    if gamma is not None:
        y = y * cast(gamma, x.dtype)
    if beta is not None:
        y = y + cast(beta, x.dtype)
    return y


def rms_normalization(x, scale=1, axis=-1, epsilon=None):
    """x / sqrt(mean(x^2, axis) + epsilon) * scale."""
    x = _float(x)
    eps = 1e-7 if epsilon is None else float(epsilon)
    y = x * _ops.rsqrt(_ops.mean(x * x, axis=_axis(axis), keepdims=True) + eps)
    return y * (cast(scale, x.dtype) if isinstance(scale, Tensor) else scale)


def normalize(x, axis=-1, order=2, epsilon=None):
    """x / max(||x||_order, epsilon) along ``axis``."""
    x = _float(x)
    eps = 1e-12 if epsilon is None else float(epsilon)
    if order == 2:
        n = _ops.sqrt(_ops.sum(x * x, axis=axis, keepdims=True))
    else:
        n = _ops.sum(_ops.abs(x) ** order, axis=axis, keepdims=True) ** (1.0 / order)
    return x / _ops.clip(n, eps, None)


# ------------------------------------------------------------------ attention and metrics
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False, flash_attention=None, attn_logits_soft_cap=None):
    """softmax(q k^T * scale + bias, masked) v, with Keras's layout ``(B, T, heads, dim)``
    (``scale`` defaults to 1 / sqrt(dim))."""
    q, k, v = _float(query), _float(key), _float(value)
    d = q.shape[-1]
    qh, kh, vh = (_ops.swapaxes(t, 1, 2) for t in (q, k, v))  # (B, H, T, D)
    logits = _ops.matmul(qh, _ops.swapaxes(kh, -1, -2)) * \
        (1.0 / math.sqrt(d) if scale is None else float(scale))
    if attn_logits_soft_cap is not None:
        logits = _ops.tanh(logits / attn_logits_soft_cap) * attn_logits_soft_cap
    if bias is not None:
        logits = logits + cast(bias, logits.dtype)
    keep = None
    if mask is not None:
        keep = np.asarray(_t(mask).detach().__array__()).astype(bool)
    if is_causal:
        tq, tk = logits.shape[-2], logits.shape[-1]
        causal = np.tril(np.ones((tq, tk), dtype=bool))
        keep = causal if keep is None else keep & causal
    if keep is not None:
        logits = _ops.where(Tensor._make(np.broadcast_to(keep, logits.shape)), logits,
                            _ops.full_like(logits, -1e9))
    out = _ops.matmul(_ops.softmax(logits, axis=-1), vh)
    return _ops.swapaxes(out, 1, 2)


def psnr(x1, x2, max_val):
    """The peak signal-to-noise ratio 20 log10(max_val) - 10 log10(mse), in dB."""
    a, b = _float(x1), _float(x2)
    mse = _ops.mean(_ops.square(a - b))
    return 20.0 * math.log10(max_val) - 10.0 * _ops.log10(mse)
