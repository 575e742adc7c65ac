"""``keras.ops.image``: ``resize`` and simple image utilities on batches of images,
``channels_last`` ``(N, H, W, C)`` (or a single ``(H, W, C)`` image) by default.

``resize`` with ``"bilinear"`` samples at pixel centres (TensorFlow's
``half_pixel_centers``, PyTorch's ``align_corners=False``) without antialiasing, as Keras
does on its torch backend; ``"nearest"`` and ``"bicubic"`` likewise. It is differentiable.

>>> from shendu.keras import ops
>>> ops.image.resize(ops.ones((2, 4, 4, 3)), (8, 6)).shape
(2, 8, 6, 3)
"""
from __future__ import annotations

import numpy as np

from ... import ops as _ops
from ...autograd.tensor import Tensor
from ...nn import functional as F
from ._core import _floatx, _t, cast

__all__ = ["resize", "rgb_to_grayscale", "pad_images", "crop_images"]

_MODES = {"bilinear": "bilinear", "nearest": "nearest", "bicubic": "bicubic"}


def _batched(images, data_format):
    x = _t(images)
    if x.dtype.kind != "f":
        x = cast(x, _floatx())
    single = x.ndim == 3
    if single:
        x = x.reshape((1,) + x.shape)
    if x.ndim != 4:
        raise ValueError(f"keras.ops.image expects images (H, W, C) or a batch (N, H, W, C), "
                         f"got shape {x.shape}")
    last = (data_format or "channels_last") == "channels_last"
    return (_ops.moveaxis(x, -1, 1) if last else x), single, last


def _unbatched(y, single, last):
    y = _ops.moveaxis(y, 1, -1) if last else y
    return y[0] if single else y


def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """``images`` resized to ``size = (height, width)``."""
    if interpolation not in _MODES:
        raise ValueError(f"resize: interpolation must be one of {sorted(_MODES)}, got "
                         f"{interpolation!r}")
    if antialias or crop_to_aspect_ratio or pad_to_aspect_ratio:
        raise NotImplementedError("resize: antialias, crop_to_aspect_ratio and "
                                  "pad_to_aspect_ratio are not supported in shendu.keras")
    x, single, last = _batched(images, data_format)
    h, w = int(size[0]), int(size[1])
    mode = _MODES[interpolation]
    if mode == "nearest":  # "nearest-exact": the source pixel whose centre is nearest
        rows = np.minimum(((np.arange(h) + 0.5) * x.shape[2] / h).astype(np.int64), x.shape[2] - 1)
        cols = np.minimum(((np.arange(w) + 0.5) * x.shape[3] / w).astype(np.int64), x.shape[3] - 1)
        y = _ops.index_select(_ops.index_select(x, 2, Tensor._make(rows)), 3,
                              Tensor._make(cols))
    else:
        y = F.interpolate(x, size=(h, w), mode=mode, align_corners=False)
    return _unbatched(y, single, last)


def rgb_to_grayscale(images, data_format=None):
    """0.2989 R + 0.5870 G + 0.1140 B, keeping a channel axis of size 1."""
    x, single, last = _batched(images, data_format)
    weights = Tensor._make(np.array([0.2989, 0.5870, 0.1140], dtype=x.dtype).reshape(1, 3, 1, 1))
    y = _ops.sum(x * weights, axis=1, keepdims=True)
    return _unbatched(y, single, last)


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Zero-pad images to ``target_height`` x ``target_width`` (or by the given amounts)."""
    x, single, last = _batched(images, data_format)
    h, w = x.shape[2], x.shape[3]
    top = top_padding or 0
    left = left_padding or 0
    bottom = bottom_padding if bottom_padding is not None else \
        (target_height - h - top if target_height is not None else 0)
    right = right_padding if right_padding is not None else \
        (target_width - w - left if target_width is not None else 0)
    if min(top, left, bottom, right) < 0:
        raise ValueError(f"pad_images: the target size is smaller than the images ({h}x{w})")
    y = F.pad(x, (int(left), int(right), int(top), int(bottom)))
    return _unbatched(y, single, last)


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crop images to ``target_height`` x ``target_width`` (or by the given amounts)."""
    x, single, last = _batched(images, data_format)
    h, w = x.shape[2], x.shape[3]
    top = top_cropping or 0
    left = left_cropping or 0
    height = target_height if target_height is not None else h - top - (bottom_cropping or 0)
    width = target_width if target_width is not None else w - left - (right_cropping or 0)
    if top + height > h or left + width > w or height <= 0 or width <= 0:
        raise ValueError(f"crop_images: the crop does not fit in images of {h}x{w}")
    return _unbatched(x[:, :, top:top + height, left:left + width], single, last)
