"""Activation functions: relu and its relatives, gelu, silu, softplus, hard* variants and
the course's perceptron step (softmax / log_softmax: ``softmaxes.py``).

Each Function's docstring states its derivative. Which side of a kink an element
is on (``x > 0`` for relu) is a mask computed from the raw array and used as a
constant, so the backwards also run on Tensors (double backward). Masks multiply
the gradient (``g * mask``, ten times faster than ``np.where`` on CPU). At a kink
the gradient is PyTorch's choice (relu'(0) = 0, leaky_relu'(0) = negative_slope).

Speed on big arrays: ``parallel.elementwise`` runs a formula on cache-sized blocks
shared among threads.
"""
from __future__ import annotations

import math

import numpy as np

from .. import parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .elementwise import _floating, _tensor, _value, _ZeroGradient, expm1_array, log1p_array
from .trigonometric import sigmoid_array, sigmoid_of
from .special import erf, erfc_and_gaussian, erfc_array

__all__ = ["relu", "relu6", "leaky_relu", "prelu", "elu", "selu", "celu", "gelu", "silu",
           "swish", "mish", "softplus", "logsigmoid", "softsign", "hardtanh",
           "hardsigmoid", "hardswish", "step", "threshold", "softmax", "log_softmax"]
# softmax and log_softmax live in softmaxes.py; listed here (and re-exported at the end) so
# ``from shendu.ops.activation import *`` keeps giving every activation, as F does.

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


# ---------------------------------------------------------------- relu family
class ReLU(Function):
    """y = max(x, 0);   dy/dx = 1 where x > 0, else 0"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.maximum(x, 0)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (_value(x) > 0)


def relu(x):
    """Rectified linear unit max(x, 0) elementwise; its gradient at 0 is 0.

    >>> shendu.relu(shendu.tensor([-1.0, 0.0, 2.0]))
    tensor([0., 0., 2.])
    """
    return ReLU.apply(_tensor(x, "relu"))


class LeakyReLU(Function):
    """y = x where x > 0, else a x;   dy/dx = 1 where x > 0, else a"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        # the larger of x and a x for a <= 1 (the usual case), the smaller for a > 1
        pick = ctx.xp.maximum if slope <= 1 else ctx.xp.minimum
        return pick(x, x * slope)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        pos = _value(x) > 0
        return g * pos + (g * ~pos) * ctx.slope, None


def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, ``negative_slope * x`` otherwise.

    >>> shendu.leaky_relu(shendu.tensor([-10.0, 3.0]), negative_slope=0.1)
    tensor([-1.,  3.])
    """
    return LeakyReLU.apply(_floating(x, "leaky_relu"), float(negative_slope))


class PReLU(Function):
    """y = x where x > 0, else w x  (w learned, one per channel);
    dy/dx = 1 where x > 0, else w;   dy/dw = 0 where x > 0, else x (summed)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, weight):
        ctx.w_shape = weight.shape
        # one slope per channel (dim 1), or one for all
        shape = (1, -1) + (1,) * (x.ndim - 2) if weight.size > 1 else ()
        w = weight.reshape(shape)
        ctx.save_for_backward(x, weight)
        ctx.shape = shape
        return ctx.xp.maximum(x, 0) + w * ctx.xp.minimum(x, 0)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        pos = _value(x) > 0
        neg = ~pos
        w = weight.reshape(ctx.shape)
        gx = g * pos + (g * neg) * w if ctx.needs_input_grad[0] else None
        gw = None
        if ctx.needs_input_grad[1]:
            gw = (g * x) * neg
            if ctx.shape:
                gw = gw.sum(axis=tuple(i for i in range(x.ndim) if i != 1))
            else:
                gw = gw.sum()
            gw = gw.reshape(ctx.w_shape)
        return gx, gw


def prelu(x, weight):
    """Parametric ReLU: x for x > 0, ``weight * x`` otherwise.

    ``weight`` has one element (shared) or one per channel, channels being dim 1 of
    ``x`` (``(N, C, ...)``), as in PyTorch's ``F.prelu``.

    >>> shendu.prelu(shendu.tensor([[-2.0, 2.0]]), shendu.tensor([0.25, 0.5]))
    tensor([[-0.5000,  2.0000]])
    """
    x = _floating(x, "prelu")
    weight = _floating(weight, "prelu")
    if weight.numel() > 1:
        channels = x.shape[1] if x.ndim >= 2 else None
        if weight.ndim != 1 or channels != weight.shape[0]:
            raise ValueError(f"prelu: weight of shape {weight.shape} needs one slope per "
                             f"channel (dim 1) of the input, which has shape {x.shape}; "
                             "or give a single slope")
    return PReLU.apply(x, weight)


class ELU(Function):
    """The ELU family (PyTorch's elu(x, alpha, scale, input_scale)):
    y = s x where x > 0, else s a (e^(i x) - 1);
    dy/dx = s where x > 0, else s a i e^(i x)
    elu: s = i = 1;  selu: fixed a and s;  celu: s = 1, i = 1 / a"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, alpha, scale, input_scale):
        ctx.save_for_backward(x)
        ctx.params = alpha, scale, input_scale
        y, ctx.slope = parallel.elementwise(
            lambda x: _elu_and_slope(ctx.xp, x, alpha, scale, input_scale), x)
        return y

    @staticmethod
    def backward(ctx, g):
        if not ctx.tensor_mode:
            return g * ctx.slope, None, None, None
        x, = ctx.saved_tensors
        alpha, scale, input_scale = ctx.params
        pos = _value(x) > 0
        neg = ~pos
        # e^(i x) as a graph op, of the x <= 0 elements only (a large x would overflow)
        e = ctx.xp.exp(input_scale * (x * neg))
        gx = (g * pos) * scale + (g * neg) * e * (scale * alpha * input_scale)
        return gx, None, None, None


def _elu_and_slope(xp, x, alpha, scale, input_scale):
    """y and dy/dx of the ELU family, for a raw array."""
    # e^(i x) - 1 of the x <= 0 side (0 for x > 0, so the two branches simply add)
    t = expm1_array(xp, input_scale * xp.minimum(x, 0))
    y = scale * xp.maximum(x, 0) + (scale * alpha) * t
    pos = (x > 0).astype(x.dtype)  # 1 where x > 0, else 0
    slope = (t + 1) * (scale * alpha * input_scale)
    slope *= 1 - pos
    slope += pos * scale
    return y, slope


def elu(x, alpha=1.0):
    """Exponential linear unit: x for x > 0, ``alpha * (e^x - 1)`` otherwise.

    >>> shendu.elu(shendu.tensor([-1.0, 2.0]))
    tensor([-0.6321,  2.0000])
    """
    return ELU.apply(_floating(x, "elu"), float(alpha), 1.0, 1.0)


def selu(x):
    """Self-normalizing ELU: ``scale * elu(x, alpha)`` with scale = 1.0507...,
    alpha = 1.6733... (Klambauer et al. 2017).

    >>> shendu.selu(shendu.tensor([-1.0, 1.0]))
    tensor([-1.1113,  1.0507])
    """
    return ELU.apply(_floating(x, "selu"), _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(x, alpha=1.0):
    """Continuously differentiable ELU: x for x > 0, ``alpha * (e^(x/alpha) - 1)``
    otherwise.

    >>> shendu.celu(shendu.tensor([-1.0, 2.0]), alpha=2.0)
    tensor([-0.7869,  2.0000])
    """
    if alpha == 0:
        raise ValueError("celu: alpha must not be 0 (it divides x)")
    return ELU.apply(_floating(x, "celu"), float(alpha), 1.0, 1.0 / alpha)


# ---------------------------------------------------------------- smooth activations
class GELU(Function):
    """y = x Phi(x), Phi the standard normal CDF;   dy/dx = Phi(x) + x phi(x),
    phi(x) = e^(-x^2/2) / sqrt(2 pi)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        y, ctx.slope = parallel.elementwise(lambda x: _gelu_and_slope(ctx.xp, x), x)
        return y

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        if not ctx.tensor_mode:
            return g * ctx.slope
        cdf = 0.5 * (1 + erf(x * _SQRT_HALF))  # double backward: Phi as a graph op
        return g * (cdf + x * _INV_SQRT_2PI * ctx.xp.exp(-0.5 * x * x))


def _gelu_and_slope(xp, x):
    """x Phi(x) and its derivative Phi(x) + x phi(x), for a raw array."""
    # Phi(x) = erfc(-x / sqrt 2) / 2: erfc keeps its precision in the left tail
    z = x * -_SQRT_HALF
    if x.dtype == np.float32:
        cdf, gauss = erfc_and_gaussian(xp, z)  # gauss = e^(-z^2) = e^(-x^2 / 2)
    else:
        cdf, gauss = erfc_array(xp, z), xp.exp(-(z * z))
    cdf *= 0.5
    slope = x * gauss
    slope *= _INV_SQRT_2PI
    slope += cdf
    return x * cdf, slope


class GELUTanh(Function):
    """y = x/2 (1 + t),  t = tanh(k (x + c x^3)),  k = sqrt(2/pi), c = 0.044715;
    dy/dx = (1 + t)/2 + x/2 (1 - t^2) k (1 + 3 c x^2)"""
    double_backward = True
    K = math.sqrt(2.0 / math.pi)
    C = 0.044715

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        t = ctx.xp.tanh(GELUTanh.K * (x + GELUTanh.C * x * x * x))
        return 0.5 * x * (1 + t)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        k, c = GELUTanh.K, GELUTanh.C
        t = ctx.xp.tanh(k * (x + c * x * x * x))
        return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k * (1 + 3 * c * x * x))


def gelu(x, approximate="none"):
    """Gaussian error linear unit x * Phi(x) (Phi: the standard normal CDF).

    ``approximate="tanh"`` uses ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``,
    as GPT-2 and BERT did.

    >>> shendu.gelu(shendu.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.1587,  0.0000,  0.8413])
    """
    x = _floating(x, "gelu")
    if approximate == "none":
        return GELU.apply(x)
    if approximate == "tanh":
        return GELUTanh.apply(x)
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


class SiLU(Function):
    """y = x sigmoid(x);   dy/dx = s (1 + x (1 - s)),  s = sigmoid(x)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * sigmoid_array(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        s = sigmoid_of(ctx.xp, x)
        return g * s * (1 + x * (1 - s))


def silu(x):
    """Sigmoid linear unit (swish) x * sigmoid(x).

    >>> shendu.silu(shendu.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.2689,  0.0000,  0.7311])
    """
    return SiLU.apply(_floating(x, "silu"))


swish = silu


def _softplus_array(xp, x):
    def f(x):
        # log(1 + e^x) = max(x, 0) + log1p(e^-|x|): e^x would overflow for x = 1000
        return xp.maximum(x, 0) + log1p_array(xp, xp.exp(-xp.abs(x)))
    return parallel.elementwise(f, x)


def _softplus_of(xp, x):
    return softplus(x) if isinstance(x, Tensor) else _softplus_array(xp, x)


class Softplus(Function):
    """y = log(1 + e^(b x)) / b, and y = x where b x > threshold;
    dy/dx = sigmoid(b x), and 1 where b x > threshold"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        bx = x * beta
        y = _softplus_array(ctx.xp, bx)
        if beta != 1:
            y /= beta
        linear = bx > threshold
        if linear.any():  # rare: indexing beats np.where, slow on big arrays
            y[linear] = x[linear]
        return y

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        beta = ctx.beta
        linear = _value(x) * beta > ctx.threshold
        if ctx.tensor_mode:
            return ctx.xp.where(linear, g, g * sigmoid_of(ctx.xp, x * beta)), None, None
        s = sigmoid_array(ctx.xp, x * beta)
        if linear.any():
            s[linear] = 1
        return g * s, None, None


def softplus(x, beta=1.0, threshold=20.0):
    """Smooth relu ``log(1 + e^(beta x)) / beta``; where ``beta * x > threshold`` it is
    ``x`` (PyTorch's rule). Stable for any x (no overflow at x = 1000).

    >>> shendu.softplus(shendu.tensor([-1000.0, 0.0, 30.0]))
    tensor([ 0.0000,  0.6931, 30.0000])
    """
    return Softplus.apply(_floating(x, "softplus"), float(beta), float(threshold))


class LogSigmoid(Function):
    """y = log sigmoid(x) = -softplus(-x);   dy/dx = sigmoid(-x)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return -_softplus_array(ctx.xp, -x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * sigmoid_of(ctx.xp, -x)


def logsigmoid(x):
    """log(sigmoid(x)), stable for any x (``-1000`` at x = -1000, not ``-inf``).

    >>> shendu.logsigmoid(shendu.tensor([-100.0, 0.0]))
    tensor([-100.0000,   -0.6931])
    """
    return LogSigmoid.apply(_floating(x, "logsigmoid"))


class Mish(Function):
    """y = x tanh(softplus(x));   dy/dx = t + x (1 - t^2) sigmoid(x),  t = tanh(softplus(x))"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * ctx.xp.tanh(_softplus_array(ctx.xp, x))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        xp = ctx.xp
        t = xp.tanh(_softplus_of(xp, x))
        return g * (t + x * (1 - t * t) * sigmoid_of(xp, x))


def mish(x):
    """Mish (Misra 2019): x * tanh(softplus(x)).

    >>> shendu.mish(shendu.tensor([-1.0, 0.0, 1.0]))
    tensor([-0.3034,  0.0000,  0.8651])
    """
    return Mish.apply(_floating(x, "mish"))


class Softsign(Function):
    """y = x / (1 + |x|);   dy/dx = 1 / (1 + |x|)^2"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x / (1 + ctx.xp.abs(x))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / ctx.xp.square(1 + ctx.xp.abs(x))


def softsign(x):
    """x / (1 + |x|), in (-1, 1).

    >>> shendu.softsign(shendu.tensor([-3.0, 1.0]))
    tensor([-0.7500,  0.5000])
    """
    return Softsign.apply(_floating(x, "softsign"))


# ---------------------------------------------------------------- piecewise linear
class Hardtanh(Function):
    """y = clip(x, lo, hi);   dy/dx = 1 where lo < x < hi, else 0 (PyTorch's rule:
    unlike clamp, the boundaries get 0)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x)
        ctx.bounds = lo, hi
        return ctx.xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        lo, hi = ctx.bounds
        v = _value(x)
        return g * ((v > lo) & (v < hi)), None, None


def hardtanh(x, min_val=-1.0, max_val=1.0):
    """Clip to ``[min_val, max_val]``; the gradient is 1 strictly inside, 0 elsewhere.

    >>> shendu.hardtanh(shendu.tensor([-2.0, 0.5, 2.0]))
    tensor([-1.0000,  0.5000,  1.0000])
    """
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
    return Hardtanh.apply(_floating(x, "hardtanh"), min_val, max_val)


def relu6(x):
    """min(max(x, 0), 6): ``hardtanh(x, 0, 6)``, as in MobileNet.

    >>> shendu.relu6(shendu.tensor([-1.0, 3.0, 8.0]))
    tensor([0., 3., 6.])
    """
    return hardtanh(x, 0.0, 6.0)


class Hardsigmoid(Function):
    """y = clip(x / 6 + 1/2, 0, 1);   dy/dx = 1/6 where -3 < x < 3, else 0"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.clip(x / 6 + 0.5, 0, 1)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        v = _value(x)
        return (g * ((v > -3) & (v < 3))) / 6


def hardsigmoid(x):
    """Piecewise-linear sigmoid ``clip(x / 6 + 1/2, 0, 1)``.

    >>> shendu.hardsigmoid(shendu.tensor([-4.0, 0.0, 1.5]))
    tensor([0.0000, 0.5000, 0.7500])
    """
    return Hardsigmoid.apply(_floating(x, "hardsigmoid"))


class Hardswish(Function):
    """y = x clip(x + 3, 0, 6) / 6;
    dy/dx = 0 where x <= -3, x/3 + 1/2 where -3 < x < 3, 1 where x >= 3"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * ctx.xp.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        v = _value(x)
        return g * (v >= 3) + (g * ((v > -3) & (v < 3))) * (x / 3 + 0.5)


def hardswish(x):
    """x * hardsigmoid(x) (MobileNetV3).

    >>> shendu.hardswish(shendu.tensor([-4.0, 1.0, 4.0]))
    tensor([-0.0000,  0.6667,  4.0000])
    """
    return Hardswish.apply(_floating(x, "hardswish"))


class Step(_ZeroGradient):
    """y = 1 where x > threshold, else 0;   dy/dx = 0"""

    @staticmethod
    def forward(ctx, x, threshold):
        return (x > threshold).astype(x.dtype)


def step(x, threshold=0.0):
    """The perceptron's step (Heaviside) function: 1 where ``x > threshold``, else 0.

    The course's ``threshold_function`` (``(x > 0).astype(int)``), in the dtype of
    ``x``. Its gradient is 0 everywhere, which is why perceptrons are not trained by
    backpropagation; use ``sigmoid`` for that.

    >>> shendu.step(shendu.tensor([-1, 1, 2]))
    tensor([0, 1, 1])
    """
    x = x if isinstance(x, Tensor) else Tensor(x)
    return Step.apply(x, threshold)


class Threshold(Function):
    """y = x where x > threshold, else value;   dy/dx = 1 where x > threshold, else 0"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, threshold, value):
        ctx.save_for_backward(x)
        ctx.threshold = threshold
        return ctx.xp.where(x > threshold, x, value)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (_value(x) > ctx.threshold), None, None


def threshold(x, threshold, value):
    """``x`` where ``x > threshold``, else ``value`` (PyTorch's ``F.threshold``).

    >>> shendu.threshold(shendu.tensor([0.5, 1.0, 2.0]), 1.0, -5.0)
    tensor([-5., -5.,  2.])
    """
    return Threshold.apply(_floating(x, "threshold"), threshold, value)


from .softmaxes import log_softmax, softmax  # noqa: E402  (see __all__)
