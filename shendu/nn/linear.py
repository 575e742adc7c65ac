"""Affine layers: ``Linear`` (the dense / fully connected layer), ``Bilinear``, ``Identity``.

>>> import shendu
>>> from shendu import nn
>>> layer = nn.Linear(784, 10)
>>> layer.weight.shape, layer.bias.shape
((10, 784), (10,))
>>> layer(shendu.zeros(32, 784)).shape
(32, 10)
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd.tensor import Tensor
from ..ops import creation
from ..ops.linear import Linear as _LinearFn, _check_linear, bilinear
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Identity", "Linear", "Bilinear"]


def _empty(shape, dtype, device):
    return creation.empty(*shape, dtype=backend.to_dtype(dtype), device=device)


class Identity(Module):
    """Returns its input unchanged (a placeholder, e.g. to remove a layer). Accepts and
    ignores any constructor arguments, like PyTorch."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """A fully connected layer: ``y = x W^T + b``.

    Parameters
    ----------
    in_features : int, the size of each input sample (the last dimension)
    out_features : int, the size of each output sample
    bias : bool, default True, learn an additive bias
    device, dtype : where and in which dtype to create the parameters (default: CPU,
        the default dtype float32)

    Shapes: input ``(*, in_features)``, output ``(*, out_features)``; any number of
    leading dimensions.

    Attributes
    ----------
    weight : Parameter (out_features, in_features), initialized like PyTorch:
        U(-1/sqrt(in_features), 1/sqrt(in_features)) (``kaiming_uniform_`` with
        ``a=sqrt(5)``)
    bias : Parameter (out_features,), U(-1/sqrt(in_features), 1/sqrt(in_features))
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, int) or isinstance(v, bool) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative integer, got {v!r}")
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(_empty((out_features, in_features), dtype, device))
        if bias:
            self.bias = Parameter(_empty((out_features,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default initialization (see the class docstring)."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        w = self.weight
        if not isinstance(input, Tensor) or input.shape[-1:] != (self.in_features,) \
                or input.dtype != w.dtype:
            _check_linear(input, w, self.bias,
                          f"Linear(in_features={self.in_features}, "
                          f"out_features={self.out_features})")
        return _LinearFn.apply(input, w, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Bilinear(Module):
    """``y = x1^T A x2 + b``: one bilinear form per output feature.

    Parameters
    ----------
    in1_features, in2_features : int, sizes of the two inputs' last dimension
    out_features : int
    bias : bool, default True

    Shapes: inputs ``(*, in1_features)`` and ``(*, in2_features)``, output
    ``(*, out_features)``. Weight ``(out_features, in1_features, in2_features)`` and bias
    are initialized from U(-1/sqrt(in1_features), 1/sqrt(in1_features)).
    """

    def __init__(self, in1_features, in2_features, out_features, bias=True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = Parameter(_empty((out_features, in1_features, in2_features), dtype, device))
        if bias:
            self.bias = Parameter(_empty((out_features,), dtype, device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self):
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
