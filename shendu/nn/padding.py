"""Padding layers: ``ZeroPad1d/2d/3d``, ``ConstantPad1d/2d/3d``, ``ReflectionPad1d/2d/3d``,
``ReplicationPad1d/2d/3d``, ``CircularPad1d/2d/3d`` (``F.pad`` with a fixed padding).

``padding`` is an int (the same on every side) or a tuple ``(left, right)``,
``(left, right, top, bottom)`` or ``(left, right, top, bottom, front, back)``, starting
from the last dimension as in ``F.pad``.

>>> import shendu
>>> from shendu import nn
>>> pad = nn.ZeroPad2d((1, 1, 2, 0))
>>> pad
ZeroPad2d((1, 1, 2, 0))
>>> pad(shendu.ones(1, 1, 2, 2))
tensor([[[[0., 0., 0., 0.],
          [0., 0., 0., 0.],
          [0., 1., 1., 0.],
          [0., 1., 1., 0.]]]])
>>> nn.ReflectionPad2d(1)(shendu.arange(4.0).reshape(1, 1, 2, 2)).shape
(1, 1, 4, 4)
"""
from __future__ import annotations

import numbers

from ..autograd.tensor import Tensor
from ..ops.padding import pad
from .module import Module

__all__ = ["ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ConstantPad1d", "ConstantPad2d",
           "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d",
           "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d",
           "CircularPad2d", "CircularPad3d"]

_SHAPES = {1: "(C, L) or (N, C, L)", 2: "(C, H, W) or (N, C, H, W)",
           3: "(C, D, H, W) or (N, C, D, H, W)"}


def _padding(padding, nd, name):
    if isinstance(padding, numbers.Integral):
        return (int(padding),) * (2 * nd)
    padding = tuple(padding)
    if len(padding) != 2 * nd:
        raise ValueError(f"{name}: padding must be an int or a tuple of {2 * nd} ints, got "
                         f"{padding!r}")
    return padding


class _PadNd(Module):
    _nd = 2
    _mode = "constant"

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding(padding, self._nd, type(self).__name__)

    def _check_input(self, input):
        nd = self._nd
        if not isinstance(input, Tensor):
            raise TypeError(f"{type(self).__name__}: expected a Tensor, got "
                            f"{type(input).__name__}")
        if self._mode != "constant" and input.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"{type(self).__name__}: expected a {nd + 1}-D or {nd + 2}-D input "
                             f"{_SHAPES[nd]}, got shape {input.shape}")
        if input.ndim < nd:
            raise ValueError(f"{type(self).__name__}: expected at least {nd} dimensions to "
                             f"pad, got shape {input.shape}")

    def forward(self, input):
        self._check_input(input)
        try:
            return pad(input, self.padding, self._mode)
        except ValueError as e:
            raise ValueError(f"{type(self).__name__}: " + str(e).removeprefix("pad: ")) from None

    def extra_repr(self):
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value):
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        self._check_input(input)
        return pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dimension with ``value``."""

    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last two dimensions with ``value``."""

    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last three dimensions with ``value``."""

    _nd = 3


class ZeroPad1d(ConstantPad1d):
    """Pad the last dimension with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pad the last two dimensions (H, W) with zeros (Keras' ``ZeroPadding2D``)."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    """Pad the last three dimensions with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pad ``(N, C, L)`` by mirroring the input without repeating its edge."""

    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad ``(N, C, H, W)`` by mirroring the input without repeating its edge
    (``[a, b, c]`` padded by 2 on the left gives ``[c, b, a, b, c]``)."""

    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad ``(N, C, D, H, W)`` by mirroring the input."""

    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad ``(N, C, L)`` by repeating the edge value."""

    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad ``(N, C, H, W)`` by repeating the edge values."""

    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad ``(N, C, D, H, W)`` by repeating the edge values."""

    _nd, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    """Pad ``(N, C, L)`` by wrapping around (the end pads the start and vice versa)."""

    _nd, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    """Pad ``(N, C, H, W)`` by wrapping around."""

    _nd, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    """Pad ``(N, C, D, H, W)`` by wrapping around."""

    _nd, _mode = 3, "circular"
