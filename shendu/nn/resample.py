"""Resampling layers: ``Upsample``, ``UpsamplingNearest2d``, ``UpsamplingBilinear2d``,
``PixelShuffle``, ``PixelUnshuffle`` (no weights; PyTorch's arguments and repr).

>>> import shendu
>>> from shendu import nn
>>> up = nn.Upsample(scale_factor=2, mode="bilinear")
>>> up
Upsample(scale_factor=2.0, mode='bilinear')
>>> up(shendu.randn(1, 3, 8, 8)).shape
(1, 3, 16, 16)
>>> nn.PixelShuffle(2)(shendu.randn(1, 12, 4, 4)).shape
(1, 3, 8, 8)
"""
from __future__ import annotations

from ..ops.resample import interpolate, pixel_shuffle, pixel_unshuffle
from .module import Module

__all__ = ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "PixelShuffle",
           "PixelUnshuffle"]


class Upsample(Module):
    """Resize ``(N, C, L)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` inputs to ``size``
    or by ``scale_factor`` (``F.interpolate``).

    Parameters
    ----------
    size : int or tuple, optional, the output spatial size
    scale_factor : float or tuple, optional, the spatial multiplier (stored as floats)
    mode : ``"nearest"`` (default), ``"nearest-exact"``, ``"linear"``, ``"bilinear"``,
        ``"bicubic"``, ``"trilinear"``
    align_corners : bool, optional, for the interpolating modes (default False there)
    recompute_scale_factor : bool, optional
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None):
        super().__init__()
        self.name = type(self).__name__
        self.size = size
        if isinstance(scale_factor, tuple):
            self.scale_factor = tuple(float(f) for f in scale_factor)
        else:
            self.scale_factor = float(scale_factor) if scale_factor else None
        self.mode = mode
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor

    def forward(self, input):
        try:
            return interpolate(input, self.size, self.scale_factor, self.mode,
                               self.align_corners,
                               recompute_scale_factor=self.recompute_scale_factor)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{self.name}: " + str(e).removeprefix("interpolate: ")) from None

    def extra_repr(self):
        if self.scale_factor is not None:
            info = "scale_factor=" + repr(self.scale_factor)
        else:
            info = "size=" + repr(self.size)
        return info + ", mode=" + repr(self.mode)


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode="nearest")`` for ``(N, C, H, W)`` inputs."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="nearest")


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode="bilinear", align_corners=True)``."""

    def __init__(self, size=None, scale_factor=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True)


class PixelShuffle(Module):
    """``(N, C r^2, H, W) -> (N, C, H r, W r)``: channels become ``r x r`` pixel blocks
    (sub-pixel convolution upsampling)."""

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """``(N, C, H r, W r) -> (N, C r^2, H, W)``, the inverse of ``PixelShuffle``."""

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
