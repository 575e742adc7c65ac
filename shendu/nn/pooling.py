"""Pooling layers: ``MaxPool1d/2d/3d``, ``AvgPool1d/2d/3d``, ``LPPool1d/2d/3d``,
``AdaptiveAvgPool1d/2d/3d``, ``AdaptiveMaxPool1d/2d/3d``, ``MaxUnpool1d/2d``.

They hold no weights: each calls its ``shendu.nn.functional`` function with the
arguments given at construction (PyTorch's names, defaults and repr).

>>> import shendu
>>> from shendu import nn
>>> pool = nn.MaxPool2d(2)
>>> pool
MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
>>> pool(shendu.randn(8, 16, 28, 28)).shape
(8, 16, 14, 14)
>>> nn.AdaptiveAvgPool2d((1, 1))(shendu.randn(8, 16, 7, 7)).shape
(8, 16, 1, 1)
"""
from __future__ import annotations

from ..ops import adaptive_pooling as A
from ..ops import avg_pooling as AP
from ..ops import pooling as P
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
           "LPPool1d", "LPPool2d", "LPPool3d", "AdaptiveAvgPool1d", "AdaptiveAvgPool2d",
           "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d",
           "AdaptiveMaxPool3d", "MaxUnpool1d", "MaxUnpool2d"]


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _named(fn, layer):
    """Call ``fn`` and make its errors name the layer (``MaxPool2d: ...``)."""
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError) as e:
            msg = str(e)
            head = fn.__name__ + ":"
            if msg.startswith(head):
                msg = f"{layer}:" + msg[len(head):]
            raise type(e)(msg) from None
    return call


class _MaxPoolNd(Module):
    _fn = None

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return _named(type(self)._fn, type(self).__name__)(
            input, self.kernel_size, self.stride, self.padding, self.dilation,
            ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self):
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max pooling over ``(N, C, L)`` inputs; see ``MaxPool2d``."""

    _fn = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max pooling over ``(N, C, H, W)`` inputs: the largest value of each window.

    Parameters
    ----------
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw), default ``kernel_size``
    padding : int or (ph, pw), default 0 (implicit -inf, at most kernel_size // 2)
    dilation : int or (dh, dw), default 1
    return_indices : bool, default False, also return the argmax indices
        (for ``MaxUnpool2d``)
    ceil_mode : bool, default False, round the output size up

    Shape: ``(N, C, H, W) -> (N, C, H_out, W_out)`` with
    ``H_out = floor((H + 2 ph - dh (kh - 1) - 1) / sh + 1)``.
    """

    _fn = staticmethod(P.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max pooling over ``(N, C, D, H, W)`` inputs; see ``MaxPool2d``."""

    _fn = staticmethod(P.max_pool3d)


class _AvgPoolNd(Module):
    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool1d(_AvgPoolNd):
    """Average pooling over ``(N, C, L)`` inputs; see ``AvgPool2d``."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, 1)
        self.stride = _ntuple(stride if stride is not None else kernel_size, 1)
        self.padding = _ntuple(padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input):
        return _named(AP.avg_pool1d, "AvgPool1d")(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad)


class AvgPool2d(_AvgPoolNd):
    """Average pooling over ``(N, C, H, W)`` inputs: the mean of each window.

    Parameters
    ----------
    kernel_size, stride, padding, ceil_mode : as in ``MaxPool2d`` (zero padding)
    count_include_pad : bool, default True, count the padding zeros in the mean
    divisor_override : number, optional, divide the window sums by this instead
    """

    _fn = staticmethod(AP.avg_pool2d)

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):
        return _named(type(self)._fn, type(self).__name__)(
            input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
            self.count_include_pad, self.divisor_override)


class AvgPool3d(AvgPool2d):
    """Average pooling over ``(N, C, D, H, W)`` inputs; see ``AvgPool2d``."""

    _fn = staticmethod(AP.avg_pool3d)


class _LPPoolNd(Module):
    _fn = None

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def forward(self, input):
        return _named(type(self)._fn, type(self).__name__)(
            input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


class LPPool1d(_LPPoolNd):
    """Power-average pooling ``(sum of x^p over each window)^(1/p)`` of ``(N, C, L)``."""

    _fn = staticmethod(AP.lp_pool1d)


class LPPool2d(_LPPoolNd):
    """Power-average pooling ``(sum of x^p over each window)^(1/p)`` of ``(N, C, H, W)``."""

    _fn = staticmethod(AP.lp_pool2d)


class LPPool3d(_LPPoolNd):
    """Power-average pooling of ``(N, C, D, H, W)`` inputs."""

    _fn = staticmethod(AP.lp_pool3d)


class _AdaptiveAvgPoolNd(Module):
    _fn = None

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return _named(type(self)._fn, type(self).__name__)(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed length whatever the input length; see
    ``AdaptiveAvgPool2d``."""

    _fn = staticmethod(A.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """Average pooling to a fixed ``output_size`` (an int, or (H_out, W_out) where None
    keeps that input size) whatever the input size; ``AdaptiveAvgPool2d(1)`` is global
    average pooling."""

    _fn = staticmethod(A.adaptive_avg_pool2d)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """Adaptive average pooling of ``(N, C, D, H, W)`` inputs."""

    _fn = staticmethod(A.adaptive_avg_pool3d)


class _AdaptiveMaxPoolNd(Module):
    _fn = None

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input):
        return _named(type(self)._fn, type(self).__name__)(input, self.output_size,
                                                           self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed length whatever the input length."""

    _fn = staticmethod(A.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """Max pooling to a fixed ``output_size`` whatever the input size;
    ``return_indices=True`` also returns the argmax indices."""

    _fn = staticmethod(A.adaptive_max_pool2d)


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """Adaptive max pooling of ``(N, C, D, H, W)`` inputs."""

    _fn = staticmethod(A.adaptive_max_pool3d)


class _MaxUnpoolNd(Module):
    _fn = None
    _nd = 1

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = _ntuple(kernel_size, self._nd)
        self.stride = _ntuple(stride if stride is not None else kernel_size, self._nd)
        self.padding = _ntuple(padding, self._nd)

    def forward(self, input, indices, output_size=None):
        return _named(type(self)._fn, type(self).__name__)(
            input, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxUnpool1d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool1d``: values back at their argmax, zeros elsewhere."""

    _fn = staticmethod(P.max_unpool1d)
    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """The partial inverse of ``MaxPool2d(..., return_indices=True)``: each value back
    at its argmax position, zeros elsewhere."""

    _fn = staticmethod(P.max_unpool2d)
    _nd = 2
