"""Convolution layers: ``Conv1d``, ``Conv2d``, ``Conv3d``, ``ConvTranspose1d``,
``ConvTranspose2d``, ``ConvTranspose3d`` (PyTorch's names, arguments, parameter shapes
and default initialization, so a PyTorch ``state_dict`` loads as is).

Images are NCHW: ``(batch, channels, height, width)``; an unbatched ``(C, H, W)``
input works too.

>>> import shendu
>>> from shendu import nn
>>> conv = nn.Conv2d(1, 32, kernel_size=3, padding=1)
>>> conv
Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
>>> conv.weight.shape, conv.bias.shape
((32, 1, 3, 3), (32,))
>>> conv(shendu.zeros(64, 1, 28, 28)).shape
(64, 32, 28, 28)
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd.tensor import Tensor
from ..ops import creation
from ..ops.conv import _SPATIAL, _UNBATCHED, _convnd, _int_tuple, _same_pads
from ..ops.conv_transpose import _conv_transposend
from ..ops.padding import pad as _pad
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d",
           "ConvTranspose3d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """What every convolution layer shares: arguments, parameters, init and repr."""

    _n = 2  # spatial dimensions
    transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                 transposed, output_padding, groups, bias, padding_mode, device, dtype):
        super().__init__()
        name = type(self).__name__
        n = self._n
        for arg, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(v, int) or isinstance(v, bool) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive integer, got {v!r}")
        if not isinstance(groups, int) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels ({in_channels}) must be divisible by groups "
                             f"({groups})")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels ({out_channels}) must be divisible by "
                             f"groups ({groups})")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"{name}: padding_mode must be one of {list(_PADDING_MODES)}, "
                             f"got {padding_mode!r}")
        kernel_size = _int_tuple(kernel_size, n, name, "kernel_size", 1)
        stride = _int_tuple(stride, n, name, "stride", 1)
        dilation = _int_tuple(dilation, n, name, "dilation", 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"{name}: padding must be an int, a tuple of {n} ints, 'same' "
                                 f"or 'valid', got {padding!r}")
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride}), like PyTorch")
            pairs = (_same_pads(kernel_size, dilation) if padding == "same"
                     else ((0, 0),) * n)
        else:
            padding = _int_tuple(padding, n, name, "padding", 0)
            pairs = tuple((p, p) for p in padding)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = _int_tuple(output_padding, n, name, "output_padding", 0)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's order: (left, right) of the last dim first, then the one before...
        self._reversed_padding_repeated_twice = tuple(v for pair in reversed(pairs) for v in pair)
        shape = ((in_channels, out_channels // groups) if transposed
                 else (out_channels, in_channels // groups)) + kernel_size
        dtype = backend.to_dtype(dtype)
        self.weight = Parameter(creation.empty(*shape, dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(creation.empty(out_channels, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's default initialization: weight ``kaiming_uniform_(a=sqrt(5))``, i.e.
        U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
        with ``fan_in = weight.shape[1] * prod(kernel_size)``."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def _check_input(self, input):
        """Raise the error a learner can act on for a bad input (rank or channels)."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}; "
                            "wrap it with shendu.tensor(...)")
        n = self._n
        if input.ndim not in (n + 1, n + 2):
            hint = ""
            if n == 2 and input.ndim == 2:
                hint = "; add the channel dimension (x.unsqueeze(0) for one image)"
            raise ValueError(f"{name} expects input of shape {_SPATIAL[n]} or "
                             f"{_UNBATCHED[n]}, got {input.shape}{hint}")
        c = input.shape[-n - 1]
        if c != self.in_channels:
            hint = ""
            if n == 2 and input.ndim == 4 and input.shape[-1] == self.in_channels:
                hint = ("; the input looks channels-last (N, H, W, C): permute it with "
                        "x.permute(0, 3, 1, 2)")
            raise ValueError(f"{name} with in_channels={self.in_channels} got input of shape "
                             f"{input.shape} with {c} channels (dim {input.ndim - n - 1}); "
                             f"expected {self.in_channels}{hint}")

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, " \
            f"stride={self.stride}"
        if self.padding != (0,) * len(self.padding):
            s += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 dilation=1, groups=1, bias=True, padding_mode="zeros", device=None,
                 dtype=None):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)

    def forward(self, input):
        n = self._n
        if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2) \
                or input.shape[-n - 1] != self.in_channels:
            self._check_input(input)
        padding = self.padding
        if self.padding_mode != "zeros":
            input = _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode)
            padding = 0
        return _convnd(n, input, self.weight, self.bias, self.stride, padding, self.dilation,
                       self.groups, type(self).__name__)


class Conv1d(_Conv):
    """1-D convolution over sequences: ``(N, C_in, L) -> (N, C_out, L_out)``.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int,)
    stride, dilation : int or (int,), default 1
    padding : int, (int,), ``"valid"`` or ``"same"``, default 0
    groups : int, default 1 (``groups=in_channels``: depthwise)
    bias : bool, default True
    padding_mode : ``"zeros"`` (default), ``"reflect"``, ``"replicate"`` or ``"circular"``
    device, dtype : where and in which dtype to create the parameters

    Attributes: ``weight`` (out_channels, in_channels / groups, k) and ``bias``
    (out_channels,), initialized as PyTorch does (``reset_parameters``).
    ``L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1``.

    >>> nn.Conv1d(16, 33, 3, stride=2)(shendu.zeros(20, 16, 50)).shape
    (20, 33, 24)
    """
    _n = 1


class Conv2d(_Conv):
    """2-D convolution over images: ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``.

    Each of the ``out_channels`` filters (a ``(C_in / groups, kH, kW)`` block of weights)
    slides over the image; its dot product with each patch, plus its bias, is one output
    pixel (see ``F.conv2d`` and ``F.unfold`` for how that becomes one matrix product).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size : int or (int, int)
    stride, dilation : int or (int, int), default 1
    padding : int, (int, int), ``"valid"`` (none) or ``"same"`` (keep H, W; stride 1)
    groups : int, default 1; ``groups=in_channels`` makes a depthwise convolution
    bias : bool, default True
    padding_mode : ``"zeros"`` (default), ``"reflect"``, ``"replicate"`` or ``"circular"``
    device, dtype : where and in which dtype to create the parameters

    Attributes: ``weight`` (out_channels, in_channels / groups, kH, kW) and ``bias``
    (out_channels,), both U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with
    ``fan_in = in_channels / groups * kH * kW`` (PyTorch's default).
    ``H_out = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1``, same for W.

    >>> conv = nn.Conv2d(3, 8, kernel_size=3, stride=2, padding=1)
    >>> conv(shendu.zeros(4, 3, 32, 32)).shape
    (4, 8, 16, 16)
    """
    _n = 2


class Conv3d(_Conv):
    """3-D convolution over volumes: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out,
    W_out)``; arguments as ``Conv2d`` with three sizes per tuple.

    >>> nn.Conv3d(2, 4, 3, padding=1)(shendu.zeros(1, 2, 5, 5, 5)).shape
    (1, 4, 5, 5, 5)
    """
    _n = 3


class _ConvTranspose(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=None):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only padding_mode='zeros' is supported (like PyTorch), "
                             f"got {padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of ints, got "
                             f"{padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def _output_padding(self, input, output_size):
        """The output_padding that gives ``output_size`` (PyTorch's rule and message)."""
        if output_size is None:
            return self.output_padding
        n = self._n
        non_spatial = 2 if input.ndim == n + 2 else 1
        output_size = [int(s) for s in output_size]
        if len(output_size) == non_spatial + n:
            output_size = output_size[non_spatial:]
        if len(output_size) != n:
            raise ValueError(f"{type(self).__name__}: for {input.ndim}D input, output_size "
                             f"must have {n} or {non_spatial + n} elements (got "
                             f"{len(output_size)})")
        mins = [(input.shape[d + non_spatial] - 1) * self.stride[d] - 2 * self.padding[d]
                + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(n)]
        maxs = [m + s - 1 for m, s in zip(mins, self.stride)]
        for size, lo, hi in zip(output_size, mins, maxs):
            if not lo <= size <= hi:
                raise ValueError(f"{type(self).__name__}: requested an output size of "
                                 f"{output_size}, but valid sizes range from {mins} to {maxs} "
                                 f"(for an input of {input.shape[non_spatial:]})")
        return tuple(s - m for s, m in zip(output_size, mins))

    def forward(self, input, output_size=None):
        n = self._n
        if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2) \
                or input.shape[-n - 1] != self.in_channels:
            self._check_input(input)
        output_padding = self._output_padding(input, output_size)
        return _conv_transposend(n, input, self.weight, self.bias, self.stride, self.padding,
                                 output_padding, self.groups, self.dilation,
                                 type(self).__name__)


class ConvTranspose1d(_ConvTranspose):
    """1-D transposed convolution (learnable upsampling of sequences):
    ``(N, C_in, L) -> (N, C_out, L_out)``,
    ``L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1``.
    Weight (in_channels, out_channels / groups, k).

    >>> nn.ConvTranspose1d(4, 2, 3, stride=2)(shendu.zeros(1, 4, 5)).shape
    (1, 2, 11)
    """
    _n = 1


class ConvTranspose2d(_ConvTranspose):
    """2-D transposed convolution (DCGAN's upsampling layer):
    ``(N, C_in, H, W) -> (N, C_out, H_out, W_out)``.

    The adjoint of ``Conv2d``: each input pixel stamps the kernel, scaled by its value,
    at ``stride`` steps, and overlaps add up.

    Parameters
    ----------
    in_channels, out_channels, kernel_size : as ``Conv2d``
    stride, padding, dilation : int or (int, int)
    output_padding : int or (int, int), extra rows/columns at the bottom/right (must be
        smaller than stride or dilation); or pass ``output_size`` to ``forward``
    groups, bias : as ``Conv2d``
    padding_mode : only ``"zeros"``

    Attributes: ``weight`` (in_channels, out_channels / groups, kH, kW) and ``bias``
    (out_channels,).
    ``H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1``.

    >>> up = nn.ConvTranspose2d(64, 32, kernel_size=4, stride=2, padding=1)
    >>> up(shendu.zeros(8, 64, 7, 7)).shape                 # 7x7 -> 14x14
    (8, 32, 14, 14)
    >>> down = nn.Conv2d(3, 3, 3, stride=2, padding=1)
    >>> x = shendu.zeros(1, 3, 15, 15)
    >>> nn.ConvTranspose2d(3, 3, 3, stride=2, padding=1)(down(x), output_size=x.shape).shape
    (1, 3, 15, 15)
    """
    _n = 2


class ConvTranspose3d(_ConvTranspose):
    """3-D transposed convolution: ``(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)``;
    arguments as ``ConvTranspose2d`` with three sizes per tuple.

    >>> nn.ConvTranspose3d(2, 1, 2, stride=2)(shendu.zeros(1, 2, 3, 3, 3)).shape
    (1, 1, 6, 6, 6)
    """
    _n = 3
