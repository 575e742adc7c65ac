"""Data augmentation for image batches: random crops, flips and shifts, done for a whole
batch at once (per-sample random offsets, no Python loop over the samples).

Every transform takes a batch ``(N, C, H, W)`` (or ``(N, H, W)`` for grey images;
``(N, H, W, C)`` with ``data_format="channels_last"``) as a NumPy/CuPy array or a
shendu Tensor, and returns the same kind. Random transforms draw from shendu's global
generator, so ``shendu.manual_seed`` repeats them; pass ``generator=`` (an int seed or a
``numpy.random.Generator``) to give a transform its own stream.

Apply them to each training batch (not to the test set): the network then sees a
slightly different picture of every image in each epoch.

>>> import numpy as np
>>> from shendu.data.augment import Compose, RandomCrop, RandomHorizontalFlip, ToFloat, Normalize
>>> augment = Compose([RandomCrop(32, padding=4, generator=0), RandomHorizontalFlip(generator=1),
...                    ToFloat(), Normalize(mean=(0.49, 0.48, 0.45), std=(0.25, 0.24, 0.26))])
>>> batch = np.zeros((8, 3, 32, 32), np.uint8)
>>> out = augment(batch); out.shape, out.dtype
((8, 3, 32, 32), dtype('float32'))

Tensors come back as new Tensors without gradient history (augmentation happens before
the model), except ``Normalize``, which is built from Tensor ops.
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .dataset import as_generator
from .transforms import Compose

__all__ = ["RandomCrop", "RandomShift", "RandomHorizontalFlip", "RandomVerticalFlip",
           "ToFloat", "Normalize", "Compose"]

_FORMATS = ("channels_first", "channels_last")


def _pair(value, name, who):
    """``int`` or ``(a, b)`` -> ``(a, b)`` of non-negative ints."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (int(value), int(value))
    try:
        a, b = value
        ok = all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0
                 for v in (a, b))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ValueError(f"{who}: {name} must be a non-negative int or a pair of them, got "
                         f"{value!r}")
    return int(a), int(b)


def _check_format(data_format, who):
    if data_format not in _FORMATS:
        raise ValueError(f"{who}: data_format must be 'channels_first' or 'channels_last', got "
                         f"{data_format!r}")
    return data_format


def _unwrap(x, who, data_format):
    """``(array, xp, was_tensor)`` of a batch, with its dimensions checked."""
    was_tensor = isinstance(x, Tensor)
    arr = x._data if was_tensor else x
    xp = backend.get_array_module(arr)
    arr = xp.asarray(arr)
    need = "(N, H, W, C)" if data_format == "channels_last" else "(N, C, H, W) or (N, H, W)"
    if arr.ndim < 3 or (data_format == "channels_last" and arr.ndim != 4):
        raise ValueError(f"{who} expects a batch of images {need}, got shape "
                         f"{tuple(arr.shape)}; for one image pass image[None]")
    return arr, xp, was_tensor


def _spatial_axes(arr, data_format):
    """The (height, width) axes of a batch."""
    return (1, 2) if data_format == "channels_last" else (arr.ndim - 2, arr.ndim - 1)


def _wrap(out, was_tensor):
    return Tensor._make(out) if was_tensor else out


class _RandomTransform:
    """Holds the generator: None = shendu's global one (looked up at each call, so
    ``manual_seed`` applies), an int = a private stream seeded once, or a Generator."""

    def __init__(self, generator=None):
        if generator is not None:
            generator = as_generator(generator)  # an int seed becomes one Generator now
        self.generator = generator

    def _rng(self):
        return self.generator if self.generator is not None else as_generator(None)


# ------------------------------------------------------------------------ crops and shifts
class RandomCrop(_RandomTransform):
    """Crop a random ``size`` window from each image, after padding its borders.

    Each image of the batch gets its own offsets; the crops are gathered in one indexing
    step from a sliding-window view of the padded batch (no loop over the samples).
    With ``padding=4`` on 32x32 CIFAR images this is the classic "pad 4 and crop 32"
    augmentation: a random shift of up to 4 pixels with black borders.

    Parameters
    ----------
    size : int or (height, width)
    padding : int, (left/right, top/bottom) or (left, top, right, bottom), default 0
        Pixels added on each border before cropping (torchvision's convention).
    fill : number, default 0; the value of padded pixels (``padding_mode="constant"``)
    padding_mode : "constant", "edge", "reflect" or "symmetric" (``numpy.pad`` modes)
    data_format : "channels_first" (``(N, C, H, W)`` or ``(N, H, W)``) or "channels_last"
    generator : None (shendu's global generator), int seed or ``numpy.random.Generator``

    Returns (from a call)
    ---------------------
    A batch of shape ``(N, C, size[0], size[1])`` and the input's dtype.

    >>> import numpy as np
    >>> x = np.arange(2 * 3 * 3).reshape(2, 3, 3)       # two 3x3 grey images
    >>> RandomCrop(2, generator=0)(x).shape
    (2, 2, 2)
    """

    _who = "RandomCrop"

    def __init__(self, size, padding=0, fill=0, padding_mode="constant",
                 data_format="channels_first", generator=None):
        super().__init__(generator)
        self.size = _pair(size, "size", self._who)
        if min(self.size) < 1:
            raise ValueError(f"{self._who}: size must be positive, got {size!r}")
        self.padding = self._padding(padding)
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError(f"{self._who}: padding_mode must be 'constant', 'edge', 'reflect' "
                             f"or 'symmetric', got {padding_mode!r}")
        self.fill = fill
        self.padding_mode = padding_mode
        self.data_format = _check_format(data_format, self._who)

    def _padding(self, padding):
        """torchvision's rule -> ``(top, bottom, left, right)``."""
        if isinstance(padding, numbers.Integral) and not isinstance(padding, bool):
            padding = (padding,)
        padding = tuple(padding)
        if len(padding) == 2:
            padding = (padding[0], padding[1], padding[0], padding[1])
        if len(padding) == 1:
            padding = padding * 4
        if len(padding) != 4 or not all(
                isinstance(p, numbers.Integral) and not isinstance(p, bool) and p >= 0
                for p in padding):
            raise ValueError(f"{self._who}: padding must be a non-negative int, (left/right, "
                             f"top/bottom) or (left, top, right, bottom), got {padding!r}")
        left, top, right, bottom = (int(p) for p in padding)
        return top, bottom, left, right

    def _crop_size(self, height, width):
        return self.size

    def __call__(self, x):
        arr, xp, was_tensor = _unwrap(x, self._who, self.data_format)
        if self.data_format == "channels_last":
            arr = xp.moveaxis(arr, -1, 1)  # a view (N, C, H, W)
        top, bottom, left, right = self.padding
        if top or bottom or left or right:
            pad = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
            kwargs = {"constant_values": self.fill} if self.padding_mode == "constant" else {}
            arr = xp.pad(arr, pad, mode=self.padding_mode, **kwargs)
        n, (height, width) = arr.shape[0], arr.shape[-2:]
        h, w = self._crop_size(height - top - bottom, width - left - right)
        if h > height or w > width:
            raise ValueError(f"{self._who}: crop size ({h}, {w}) is larger than the padded "
                             f"images ({height}, {width}); use a smaller size or more padding")
        rng = self._rng()
        rows = rng.integers(0, height - h + 1, size=n)  # per-sample top-left corners
        cols = rng.integers(0, width - w + 1, size=n)
        # windows[i, ..., r, c] is the h x w crop of image i whose top-left corner is (r, c)
        windows = xp.lib.stride_tricks.sliding_window_view(arr, (h, w), axis=(-2, -1))
        index = [xp.asarray(a) for a in (np.arange(n), rows, cols)]
        out = windows[index[0], ..., index[1], index[2], :, :]
        if self.data_format == "channels_last":
            out = xp.moveaxis(out, 1, -1)
        return _wrap(xp.ascontiguousarray(out), was_tensor)

    def __repr__(self):
        top, bottom, left, right = self.padding
        return (f"{type(self).__name__}(size={self.size}, padding=({left}, {top}, {right}, "
                f"{bottom}), fill={self.fill}, padding_mode={self.padding_mode!r})")


class RandomShift(RandomCrop):
    """Translate each image by a random whole number of pixels, at most ``max_shift``
    each way, filling the uncovered border (default with 0).

    The same as ``RandomCrop(image size, padding=max_shift)``: the output has the input's
    size. ``max_shift=2`` on MNIST moves each digit by -2..2 pixels down and right.

    Parameters
    ----------
    max_shift : int or (max_vertical, max_horizontal)
    fill, padding_mode, data_format, generator : as for ``RandomCrop``

    >>> import numpy as np
    >>> x = np.ones((4, 1, 5, 5), np.float32)
    >>> y = RandomShift(1, generator=0)(x); y.shape, float(y.sum()) >= 4 * 16
    ((4, 1, 5, 5), True)
    """

    _who = "RandomShift"

    def __init__(self, max_shift, fill=0, padding_mode="constant",
                 data_format="channels_first", generator=None):
        dy, dx = _pair(max_shift, "max_shift", "RandomShift")
        super().__init__(1, padding=(dx, dy), fill=fill, padding_mode=padding_mode,
                         data_format=data_format, generator=generator)
        self.max_shift = (dy, dx)

    def _crop_size(self, height, width):
        return height, width

    def __repr__(self):
        return (f"RandomShift(max_shift={self.max_shift}, fill={self.fill}, "
                f"padding_mode={self.padding_mode!r})")


# ------------------------------------------------------------------------------- flips
class _RandomFlip(_RandomTransform):
    _who = ""
    _axis = 0  # 0: height (vertical flip), 1: width (horizontal flip)

    def __init__(self, p=0.5, data_format="channels_first", generator=None):
        super().__init__(generator)
        if not (isinstance(p, numbers.Real) and 0.0 <= float(p) <= 1.0):
            raise ValueError(f"{self._who}: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)
        self.data_format = _check_format(data_format, self._who)

    def __call__(self, x):
        arr, xp, was_tensor = _unwrap(x, self._who, self.data_format)
        axis = _spatial_axes(arr, self.data_format)[self._axis]
        flip = np.flatnonzero(self._rng().random(arr.shape[0]) < self.p)
        flip = flip if xp is np else xp.asarray(flip)
        out = arr.copy()
        out[flip] = xp.flip(arr[flip], axis=axis)  # all chosen samples in one step
        return _wrap(out, was_tensor)

    def __repr__(self):
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror each image left-right with probability ``p`` (default 0.5).

    Good for photos (CIFAR-10: a car facing left is still a car); wrong for digits and
    letters, whose mirror image is another symbol or none.

    Parameters
    ----------
    p : float in [0, 1]; data_format, generator : as for ``RandomCrop``

    >>> import numpy as np
    >>> RandomHorizontalFlip(p=1.0)(np.array([[[1, 2, 3]]])).tolist()
    [[[3, 2, 1]]]
    """

    _who = "RandomHorizontalFlip"
    _axis = 1


class RandomVerticalFlip(_RandomFlip):
    """Mirror each image top-bottom with probability ``p`` (default 0.5).

    >>> import numpy as np
    >>> RandomVerticalFlip(p=1.0)(np.array([[[1], [2]]])).tolist()
    [[[2], [1]]]
    """

    _who = "RandomVerticalFlip"
    _axis = 0


# --------------------------------------------------------------------- value transforms
class ToFloat:
    """Integer pixels to floats: uint8 0..255 becomes float32 in [0, 1].

    Parameters
    ----------
    dtype : float dtype, default shendu's default dtype (float32)
    scale : bool, default True
        Divide integer inputs by their dtype's largest value (255 for uint8). Float inputs
        are only cast, never scaled.

    >>> import numpy as np
    >>> ToFloat()(np.array([0, 51, 255], np.uint8))
    array([0. , 0.2, 1. ], dtype=float32)
    """

    def __init__(self, dtype=None, scale=True):
        self.dtype = None if dtype is None else backend.to_dtype(dtype)
        if self.dtype is not None and self.dtype.kind != "f":
            raise ValueError(f"ToFloat: dtype must be a floating dtype, got {self.dtype}")
        self.scale = bool(scale)

    def __call__(self, x):
        was_tensor = isinstance(x, Tensor)
        arr = x._data if was_tensor else x
        xp = backend.get_array_module(arr)
        arr = xp.asarray(arr)
        dtype = self.dtype or backend.get_default_dtype()
        out = arr.astype(dtype)
        if self.scale and arr.dtype.kind in "ui":
            out /= dtype.type(np.iinfo(arr.dtype).max)
        return _wrap(out, was_tensor)

    def __repr__(self):
        return f"ToFloat(dtype={self.dtype}, scale={self.scale})"


class Normalize:
    """Per-channel standardization ``(x - mean[c]) / std[c]`` (torchvision's Normalize).

    Use the training set's channel statistics, computed on pixels already scaled to
    [0, 1] (e.g. CIFAR-10 ``mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616)``;
    MNIST ``mean=0.1307, std=0.3081``).

    Parameters
    ----------
    mean, std : a number (every channel) or one value per channel
    data_format : "channels_first" (channels on axis 1 of ``(N, C, H, W)``) or
        "channels_last" (channels on the last axis)

    A float batch keeps its dtype; integer batches are refused (apply ``ToFloat`` first).
    Tensors go through Tensor ops, so gradients flow back to the input.

    >>> import numpy as np
    >>> x = np.ones((1, 2, 1, 1), np.float32)
    >>> Normalize(mean=(0.5, 1.0), std=(0.5, 2.0))(x).ravel()
    array([1., 0.], dtype=float32)
    """

    def __init__(self, mean, std, data_format="channels_first"):
        self.mean = np.atleast_1d(np.asarray(mean, np.float64))
        self.std = np.atleast_1d(np.asarray(std, np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1:
            raise ValueError(f"Normalize: mean and std must be numbers or 1-D sequences "
                             f"(one value per channel), got shapes {self.mean.shape} and "
                             f"{self.std.shape}")
        if np.any(self.std == 0):
            raise ValueError(f"Normalize: std must not be 0, got {self.std.tolist()}")
        self.data_format = _check_format(data_format, "Normalize")

    def __call__(self, x):
        was_tensor = isinstance(x, Tensor)
        arr = x._data if was_tensor else x
        xp = backend.get_array_module(arr)
        if not was_tensor:
            arr = xp.asarray(arr)
        if arr.dtype.kind != "f":
            raise TypeError(f"Normalize expects float images, got dtype {arr.dtype}; convert "
                            f"pixels first with ToFloat() (uint8 0..255 -> float32 0..1)")
        axis = arr.ndim - 1 if self.data_format == "channels_last" else 1
        if arr.ndim < 2:
            raise ValueError(f"Normalize expects a batch (N, C, H, W), got shape "
                             f"{tuple(arr.shape)}")
        channels = arr.shape[axis]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if v.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {v.size} values but the batch of "
                                 f"shape {tuple(arr.shape)} has {channels} channels on axis "
                                 f"{axis}")
        shape = [1] * arr.ndim
        shape[axis] = -1
        mean = xp.asarray(self.mean.astype(arr.dtype).reshape(shape))
        std = xp.asarray(self.std.astype(arr.dtype).reshape(shape))
        if was_tensor:
            return (x - Tensor._make(mean)) / Tensor._make(std)
        return (arr - mean) / std

    def __repr__(self):
        return f"Normalize(mean={self.mean.tolist()}, std={self.std.tolist()})"
