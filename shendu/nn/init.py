"""Weight initialization, in place, with shendu's seeded generator (``manual_seed``).

Each function fills a tensor (usually a ``Parameter``) without recording a graph and
returns it. The scale rules are PyTorch's:

* Xavier/Glorot (tanh, sigmoid): ``std = gain * sqrt(2 / (fan_in + fan_out))``;
* Kaiming/He (ReLU family): ``std = gain / sqrt(fan)`` with
  ``gain = calculate_gain(nonlinearity, a)``;
* uniform variants use ``bound = sqrt(3) * std`` (same variance).

For a weight of shape ``(out, in, *kernel)``: ``fan_in = in * prod(kernel)``,
``fan_out = out * prod(kernel)``.

>>> import shendu
>>> from shendu import nn
>>> w = shendu.empty(256, 128)
>>> _ = nn.init.kaiming_normal_(w, nonlinearity="relu")
>>> abs(float(w.std()) - (2 / 128) ** 0.5) < 0.01
True
"""
from __future__ import annotations

import math
import warnings

from .. import backend
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_",
           "zeros_", "eye_", "xavier_uniform_", "xavier_normal_", "glorot_uniform_",
           "glorot_normal_", "kaiming_uniform_", "kaiming_normal_", "he_uniform_",
           "he_normal_", "orthogonal_", "lecun_normal_", "lecun_uniform_"]

_LINEAR_FNS = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
               "conv_transpose2d", "conv_transpose3d")


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of weights for a nonlinearity (PyTorch's table).

    ============  ====================================
    linear, conv  1
    sigmoid       1
    tanh          5/3
    relu          sqrt(2)
    leaky_relu    sqrt(2 / (1 + negative_slope^2)), negative_slope = param or 0.01
    selu          3/4
    ============  ====================================

    >>> round(calculate_gain("relu"), 4)
    1.4142
    """
    if nonlinearity in _LINEAR_FNS or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif (isinstance(param, int) and not isinstance(param, bool)) or isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"calculate_gain: negative_slope {param} is not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unsupported nonlinearity {nonlinearity!r}; expected one of "
                     f"{list(_LINEAR_FNS) + ['sigmoid', 'tanh', 'relu', 'leaky_relu', 'selu']}")


# ----------------------------------------------------------------------- helpers
def _check(tensor, name):
    if not isinstance(tensor, Tensor):
        raise TypeError(f"nn.init.{name} expects a shendu Tensor or Parameter, got "
                        f"{type(tensor).__name__}")


def _generator(tensor, generator):
    return generator if generator is not None else backend.default_generator(tensor.xp)


def _normal(gen, mean, std, shape):
    # standard_normal and random are the draws NumPy's and CuPy's Generators share
    return mean + std * gen.standard_normal(shape)


def _fill(tensor, values):
    """Write ``values`` into ``tensor`` in place, outside the graph."""
    with no_grad():
        tensor.copy_(values.astype(tensor.dtype, copy=False) if hasattr(values, "astype")
                     else values)
    return tensor


def _calculate_fan_in_and_fan_out(tensor):
    """``(fan_in, fan_out)`` of a weight shaped ``(out, in, *kernel)``."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tensor.shape})")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _empty(tensor, name):
    if tensor.numel() == 0:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return True
    return False


# ----------------------------------------------------------------------- basic fills
def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with values from U(a, b)."""
    _check(tensor, "uniform_")
    return _fill(tensor, a + (b - a) * _generator(tensor, generator).random(tensor.shape))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with values from N(mean, std^2)."""
    _check(tensor, "normal_")
    return _fill(tensor, _normal(_generator(tensor, generator), mean, std, tensor.shape))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with values from N(mean, std^2) restricted to [a, b] (out-of-range values
    are redrawn). ``a`` and ``b`` are absolute bounds, not multiples of std."""
    _check(tensor, "trunc_normal_")
    if a >= b:
        raise ValueError(f"trunc_normal_: expected a < b, got a={a}, b={b}")
    gen = _generator(tensor, generator)
    xp = tensor.xp
    out = _normal(gen, mean, std, tensor.shape)
    for _ in range(1000):  # each pass redraws only the rejected values
        bad = (out < a) | (out > b)
        n = int(bad.sum())
        if n == 0:
            break
        out[bad] = _normal(gen, mean, std, n)
    else:  # the interval holds almost no mass: clip what is left
        out = xp.clip(out, a, b)
    return _fill(tensor, out)


def constant_(tensor, val):
    """Fill with ``val``."""
    _check(tensor, "constant_")
    with no_grad():
        tensor.fill_(val)
    return tensor


def ones_(tensor):
    return constant_(tensor, 1.0)


def zeros_(tensor):
    return constant_(tensor, 0.0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity matrix (ones on the diagonal)."""
    _check(tensor, "eye_")
    if tensor.ndim != 2:
        raise ValueError(f"eye_: only 2-D tensors are supported, got shape {tensor.shape}")
    return _fill(tensor, tensor.xp.eye(*tensor.shape))


# ----------------------------------------------------------------------- scaled fills
def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): U(-a, a), ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    _check(tensor, "xavier_uniform_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot & Bengio (2010): N(0, std^2), ``std = gain * sqrt(2 / (fan_in + fan_out))``."""
    _check(tensor, "xavier_normal_")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): U(-bound, bound), ``bound = gain * sqrt(3 / fan)``.

    ``a`` is the negative slope of the leaky ReLU that follows (0 for ReLU);
    ``mode="fan_in"`` keeps the forward variance, ``"fan_out"`` the backward one.
    """
    _check(tensor, "kaiming_uniform_")
    if _empty(tensor, "kaiming_uniform_"):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    bound = math.sqrt(3.0) * calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He et al. (2015): N(0, std^2), ``std = gain / sqrt(fan)``."""
    _check(tensor, "kaiming_normal_")
    if _empty(tensor, "kaiming_normal_"):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    return normal_(tensor, 0.0, calculate_gain(nonlinearity, a) / math.sqrt(fan), generator)


def lecun_normal_(tensor, generator=None):
    """LeCun (Keras's ``lecun_normal``, for SELU): N(0, 1 / fan_in)."""
    return kaiming_normal_(tensor, mode="fan_in", nonlinearity="linear", generator=generator)


def lecun_uniform_(tensor, generator=None):
    """LeCun uniform: U(-sqrt(3 / fan_in), sqrt(3 / fan_in))."""
    return kaiming_uniform_(tensor, mode="fan_in", nonlinearity="linear", generator=generator)


def orthogonal_(tensor, gain=1.0, generator=None):
    """Saxe et al. (2013): a (semi-)orthogonal matrix from the QR decomposition of a
    Gaussian matrix, times ``gain``. Tensors with more than 2 dimensions are flattened
    to ``(shape[0], rest)``; rows are orthonormal when rows <= cols, columns otherwise.
    """
    _check(tensor, "orthogonal_")
    if tensor.ndim < 2:
        raise ValueError(f"orthogonal_: only tensors with 2 or more dimensions are supported, "
                         f"got shape {tensor.shape}")
    if tensor.numel() == 0:
        return tensor
    xp = tensor.xp
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    flat = _generator(tensor, generator).standard_normal((rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = xp.linalg.qr(flat)
    # make Q uniform over orthogonal matrices (Mezzadri 2007): fix the signs of R's diagonal
    q = q * xp.sign(xp.diagonal(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, (gain * q).reshape(tensor.shape))


# Keras names
glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
