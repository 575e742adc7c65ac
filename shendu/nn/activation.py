"""Activation layers: one module per activation function of ``shendu.ops``.

Each is a thin Module around the function of the same name (``nn.ReLU()(x)`` is
``shendu.relu(x)``), so it can sit in a ``Sequential``. ``inplace=True`` is accepted
for PyTorch compatibility (and shown in the repr) but shendu always returns a new
tensor: in-place ops are not differentiable here.

>>> import shendu
>>> from shendu import nn
>>> nn.LeakyReLU(0.2)(shendu.tensor([-1.0, 2.0]))
tensor([-0.2000,  2.0000])
>>> nn.Step()(shendu.tensor([-0.5, 0.5]))
tensor([0., 1.])
"""
from __future__ import annotations

from .. import ops as _ops
from .module import Module
from .parameter import Parameter

__all__ = ["ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU",
           "Swish", "Mish", "Sigmoid", "Tanh", "Softplus", "LogSigmoid", "Softsign",
           "Hardtanh", "Hardsigmoid", "Hardswish", "Threshold", "Step", "Softmax",
           "LogSoftmax", "Softmin"]


class _Inplace(Module):
    """An activation with only the (ignored) ``inplace`` flag."""

    def __init__(self, inplace=False):
        super().__init__()
        self.inplace = inplace

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class ReLU(_Inplace):
    """``max(0, x)`` element-wise. Shape: any, unchanged."""

    def forward(self, input):
        return _ops.relu(input)


class SELU(_Inplace):
    """``scale * (max(0, x) + min(0, alpha * (e^x - 1)))`` with the self-normalizing
    constants alpha = 1.6733, scale = 1.0507 (Klambauer et al. 2017)."""

    def forward(self, input):
        return _ops.selu(input)


class SiLU(_Inplace):
    """``x * sigmoid(x)`` (also called Swish)."""

    def forward(self, input):
        return _ops.silu(input)


Swish = SiLU


class Mish(_Inplace):
    """``x * tanh(softplus(x))``."""

    def forward(self, input):
        return _ops.mish(input)


class Hardsigmoid(_Inplace):
    """``clamp(x / 6 + 1/2, 0, 1)``."""

    def extra_repr(self):
        return ""

    def forward(self, input):
        return _ops.hardsigmoid(input)


class Hardswish(_Inplace):
    """``x * hardsigmoid(x)`` (MobileNetV3)."""

    def extra_repr(self):
        return ""

    def forward(self, input):
        return _ops.hardswish(input)


class Sigmoid(Module):
    """The logistic function ``1 / (1 + e^(-x))``, values in (0, 1)."""

    def forward(self, input):
        return _ops.sigmoid(input)


class Tanh(Module):
    """The hyperbolic tangent, values in (-1, 1)."""

    def forward(self, input):
        return _ops.tanh(input)


class LogSigmoid(Module):
    """``log(sigmoid(x))``, computed without overflow."""

    def forward(self, input):
        return _ops.logsigmoid(input)


class Softsign(Module):
    """``x / (1 + |x|)``."""

    def forward(self, input):
        return _ops.softsign(input)


class LeakyReLU(Module):
    """``x`` where ``x >= 0``, else ``negative_slope * x``."""

    def __init__(self, negative_slope=0.01, inplace=False):
        super().__init__()
        self.negative_slope = negative_slope
        self.inplace = inplace

    def forward(self, input):
        return _ops.leaky_relu(input, self.negative_slope)

    def extra_repr(self):
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class PReLU(Module):
    """Leaky ReLU with a learned slope: ``max(0, x) + a * min(0, x)``.

    ``num_parameters`` is 1 (one slope shared by all channels) or the number of
    channels (dimension 1 of the input); slopes start at ``init`` (0.25).
    """

    def __init__(self, num_parameters=1, init=0.25, device=None, dtype=None):
        super().__init__()
        from ..ops import creation
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(creation.full((num_parameters,), float(init), dtype=dtype,
                                              device=device))

    def reset_parameters(self):
        from . import init as _init
        _init.constant_(self.weight, self.init)

    def forward(self, input):
        return _ops.prelu(input, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.num_parameters}"


class ELU(Module):
    """``x`` where ``x > 0``, else ``alpha * (e^x - 1)``."""

    def __init__(self, alpha=1.0, inplace=False):
        super().__init__()
        self.alpha = alpha
        self.inplace = inplace

    def forward(self, input):
        return _ops.elu(input, self.alpha)

    def extra_repr(self):
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class CELU(ELU):
    """``max(0, x) + min(0, alpha * (e^(x / alpha) - 1))``."""

    def forward(self, input):
        return _ops.celu(input, self.alpha)


class GELU(Module):
    """``x * Phi(x)`` (Phi: the standard normal CDF); ``approximate="tanh"`` uses
    ``0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))``."""

    def __init__(self, approximate="none"):
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, input):
        return _ops.gelu(input, approximate=self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"


class Softplus(Module):
    """``log(1 + e^(beta x)) / beta``, linear above ``threshold`` (for stability)."""

    def __init__(self, beta=1.0, threshold=20.0):
        super().__init__()
        self.beta = beta
        self.threshold = threshold

    def forward(self, input):
        return _ops.softplus(input, self.beta, self.threshold)

    def extra_repr(self):
        return f"beta={self.beta}, threshold={self.threshold}"


class Hardtanh(Module):
    """``clamp(x, min_val, max_val)`` (gradient 1 inside, 0 outside)."""

    def __init__(self, min_val=-1.0, max_val=1.0, inplace=False):
        super().__init__()
        if max_val <= min_val:
            raise ValueError(f"Hardtanh: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val = min_val
        self.max_val = max_val
        self.inplace = inplace

    def forward(self, input):
        return _ops.hardtanh(input, self.min_val, self.max_val)

    def extra_repr(self):
        return f"min_val={self.min_val}, max_val={self.max_val}" + (
            ", inplace=True" if self.inplace else "")


class ReLU6(Hardtanh):
    """``min(max(0, x), 6)``."""

    def __init__(self, inplace=False):
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self):
        return "inplace=True" if self.inplace else ""


class Threshold(Module):
    """``x`` where ``x > threshold``, else ``value``."""

    def __init__(self, threshold, value, inplace=False):
        super().__init__()
        self.threshold = threshold
        self.value = value
        self.inplace = inplace

    def forward(self, input):
        return _ops.threshold(input, self.threshold, self.value)

    def extra_repr(self):
        return f"threshold={self.threshold}, value={self.value}" + (
            ", inplace=True" if self.inplace else "")


class Step(Module):
    """The perceptron's step (Heaviside) function: 1 where ``x > threshold``, else 0.

    Its gradient is 0 everywhere (a perceptron is trained with the perceptron rule, not
    backpropagation); use ``Sigmoid`` for a differentiable neuron.
    """

    def __init__(self, threshold=0.0):
        super().__init__()
        self.threshold = threshold

    def forward(self, input):
        return _ops.step(input, self.threshold)

    def extra_repr(self):
        return f"threshold={self.threshold}"


class Softmax(Module):
    """Softmax along ``dim``: each slice is exponentiated and divided by its sum.

    ``dim=None`` means the last axis (PyTorch's implicit choice is deprecated). For
    classification, feed the logits to ``nn.CrossEntropyLoss`` instead: it applies
    log-softmax itself, more stably.
    """

    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, input):
        return _ops.softmax(input, dim=self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """``log(softmax(x))`` along ``dim`` (last axis when None), computed stably."""

    def forward(self, input):
        return _ops.log_softmax(input, dim=self.dim)


class Softmin(Softmax):
    """``softmax(-x)`` along ``dim`` (last axis when None)."""

    def forward(self, input):
        return _ops.softmax(-input, dim=self.dim)
