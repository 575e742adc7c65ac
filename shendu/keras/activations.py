"""``keras.activations``: activation functions by Keras name, on shendu Tensors.

Layers take them by name (``Dense(64, activation="relu")``) or as functions
(``activation=keras.activations.relu``); ``get(name)`` looks one up. Each is a shendu op,
so gradients flow through it.

Keras's definitions are used where they differ from PyTorch's defaults: ``leaky_relu``
has ``negative_slope=0.2``, ``gelu`` is exact (``approximate=False``), ``hard_sigmoid`` is
``relu6(x + 3) / 6``, ``softmax`` is over the last axis.

>>> import shendu
>>> from shendu.keras import activations
>>> activations.get("relu")(shendu.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""
from __future__ import annotations

from .. import ops

__all__ = ["relu", "sigmoid", "tanh", "softmax", "log_softmax", "elu", "selu", "gelu", "swish",
           "silu", "softplus", "softsign", "linear", "leaky_relu", "relu6", "hard_sigmoid",
           "hard_silu", "hard_swish", "exponential", "mish", "get", "serialize", "deserialize"]


def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """max(x, 0); Keras's extra arguments make it leaky, capped or shifted."""
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return ops.relu(x)
    if threshold != 0.0:
        y = ops.where(x > threshold, x, (x - threshold) * negative_slope)
    else:
        y = ops.leaky_relu(x, negative_slope) if negative_slope else ops.relu(x)
    if max_value is not None:
        y = ops.clamp(y, None, float(max_value))
    return y


def sigmoid(x):
    """1 / (1 + e^-x)"""
    return ops.sigmoid(x)


def tanh(x):
    return ops.tanh(x)


def softmax(x, axis=-1):
    """e^x / sum(e^x) over ``axis`` (the last one by default)."""
    return ops.softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    return ops.log_softmax(x, axis=axis)


def elu(x, alpha=1.0):
    return ops.elu(x, alpha)


def selu(x):
    return ops.selu(x)


def gelu(x, approximate=False):
    """Gaussian error linear unit (exact erf form unless ``approximate=True``: tanh)."""
    return ops.gelu(x, approximate="tanh" if approximate else "none")


def silu(x):
    """x * sigmoid(x) (also called swish)."""
    return ops.silu(x)


swish = silu


def softplus(x):
    """log(1 + e^x)"""
    return ops.softplus(x)


def softsign(x):
    """x / (1 + |x|)"""
    return ops.softsign(x)


def linear(x):
    """The identity (what ``activation=None`` means)."""
    return x


def leaky_relu(x, negative_slope=0.2):
    """x for x > 0, ``negative_slope * x`` otherwise (Keras's default slope is 0.2)."""
    return ops.leaky_relu(x, negative_slope)


def relu6(x):
    return ops.relu6(x)


def hard_sigmoid(x):
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (Keras 3)."""
    return ops.hardsigmoid(x)


def hard_silu(x):
    """x * hard_sigmoid(x)"""
    return ops.hardswish(x)


hard_swish = hard_silu


def exponential(x):
    """e^x"""
    return ops.exp(x)


def mish(x):
    return ops.mish(x)


_BY_NAME = {
    "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax, "elu": elu, "selu": selu, "gelu": gelu, "swish": swish,
    "silu": silu, "softplus": softplus, "softsign": softsign, "linear": linear,
    "leaky_relu": leaky_relu, "relu6": relu6, "hard_sigmoid": hard_sigmoid,
    "hard_silu": hard_silu, "hard_swish": hard_swish, "exponential": exponential,
    "mish": mish,
}
_NAME_OF = {}
for _name, _fn in _BY_NAME.items():
    _NAME_OF.setdefault(_fn, _name)


def get(identifier):
    """The activation function for a name, a function, or None (the identity)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        fn = _BY_NAME.get(identifier.lower())
        if fn is None:
            raise ValueError(f"unknown activation {identifier!r}; shendu.keras knows: "
                             f"{', '.join(sorted(_BY_NAME))} (or pass a function)")
        return fn
    if callable(identifier):
        return identifier
    raise TypeError(f"activation must be a name, a function or None, got "
                    f"{type(identifier).__name__}")


def serialize(fn):
    """The name of a built-in activation (for saving); ``None`` for other functions."""
    return _NAME_OF.get(fn)


def deserialize(name):
    return get(name)
