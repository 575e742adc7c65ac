"""Keras reshaping layers: ``UpSampling1D/2D``, ``ZeroPadding1D/2D``, ``Cropping1D/2D``,
``RepeatVector``, ``Permute`` and the channel dropouts ``SpatialDropout1D/2D``.

Channels last by default (``data_format="channels_first"`` for ``(N, C, ...)``), as in
Keras.

>>> import shendu
>>> from shendu.keras import layers
>>> layers.UpSampling2D(size=2)(shendu.zeros(1, 4, 4, 3)).shape
(1, 8, 8, 3)
>>> layers.RepeatVector(5)(shendu.zeros(2, 7)).shape
(2, 5, 7)
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...nn import functional as F
from .base import Layer, _ElementwiseLayer, _shape_str
from .convolutional import _data_format, _tuple, pad_spatial, to_channels_first, \
    to_channels_last

__all__ = ["UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D", "Cropping1D",
           "Cropping2D", "RepeatVector", "Permute", "SpatialDropout1D", "SpatialDropout2D"]


def _pairs(padding, n, owner, what):
    """Keras's padding/cropping forms: int, n ints (symmetric), or n (before, after)."""
    if isinstance(padding, (int, np.integer)):
        out = ((int(padding), int(padding)),) * n
    else:
        items = list(padding)
        if n == 1 and len(items) == 2 and all(isinstance(v, (int, np.integer)) for v in items):
            out = ((int(items[0]), int(items[1])),)
        elif len(items) == n and all(isinstance(v, (int, np.integer)) for v in items):
            out = tuple((int(v), int(v)) for v in items)
        elif len(items) == n and all(not isinstance(v, (int, np.integer)) and len(v) == 2
                                     for v in items):
            out = tuple((int(a), int(b)) for a, b in items)
        else:
            raise ValueError(f"{owner}: {what} must be an int, a tuple of {n} ints or a tuple of "
                             f"{n} (before, after) pairs, got {padding!r}")
    if any(v < 0 for pair in out for v in pair):
        raise ValueError(f"{owner}: {what} must be >= 0, got {padding!r}")
    return out


def _spatial(layer, shape, n):
    return (1, n + 1) if getattr(layer, "data_format", "channels_last") == "channels_last" \
        else (2, n + 2)


class _Resize(Layer):
    _rank = 2
    supports_masking = False

    def _keeps_input_dtype(self):
        return True

    def _check(self, x):
        if x.ndim != self._rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank "
                             f"{self._rank + 2}, got inputs of shape {x.shape}")

    def _to_first(self, x):
        return to_channels_first(x, self._rank) if self._last() else x

    def _to_last(self, y):
        return to_channels_last(y, self._rank) if self._last() else y

    def _last(self):
        return getattr(self, "data_format", "channels_last") == "channels_last"

    def _map_shape(self, input_shape, fn):
        shape = list(input_shape)
        a, b = _spatial(self, shape, self._rank)
        for i, axis in enumerate(range(a, b)):
            shape[axis] = None if shape[axis] is None else fn(i, shape[axis])
        return tuple(shape)


class UpSampling1D(_Resize):
    """Repeats each step ``size`` times: ``(N, T, C)`` -> ``(N, T * size, C)``."""
    _rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = _tuple(size, 1, "UpSampling1D", "size")[0]

    def call(self, inputs):
        self._check(inputs)
        n, t, c = inputs.shape
        return ops.broadcast_to(inputs.reshape(n, t, 1, c), (n, t, self.size, c)) \
            .reshape(n, t * self.size, c)

    def compute_output_shape(self, input_shape):
        return self._map_shape(input_shape, lambda i, s: s * self.size)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling2D(_Resize):
    """Repeats rows and columns: ``(N, H, W, C)`` -> ``(N, H * size[0], W * size[1], C)``.

    ``UpSampling2D(size=(2, 2), data_format="channels_last", interpolation="nearest")``;
    ``interpolation="bilinear"`` interpolates (half-pixel centres, like Keras and
    PyTorch's ``align_corners=False``).
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = _tuple(size, 2, "UpSampling2D", "size")
        self.data_format = _data_format(data_format, "UpSampling2D")
        if interpolation not in ("nearest", "bilinear", "bicubic"):
            raise ValueError(f"UpSampling2D: interpolation must be 'nearest', 'bilinear' or "
                             f"'bicubic', got {interpolation!r}")
        self.interpolation = interpolation

    def call(self, inputs):
        self._check(inputs)
        x = self._to_first(inputs)
        h, w = x.shape[2:]
        size = (h * self.size[0], w * self.size[1])
        if self.interpolation == "nearest":
            y = F.interpolate(x, size=size, mode="nearest")
        else:
            y = F.interpolate(x, size=size, mode=self.interpolation, align_corners=False)
        return self._to_last(y)

    def compute_output_shape(self, input_shape):
        return self._map_shape(input_shape, lambda i, s: s * self.size[i])

    def get_config(self):
        config = super().get_config()
        config.update(size=list(self.size), data_format=self.data_format,
                      interpolation=self.interpolation)
        return config


class ZeroPadding1D(_Resize):
    """Pads the steps with zeros: ``padding=1``, or ``(before, after)``."""
    _rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, 1, "ZeroPadding1D", "padding")

    def call(self, inputs):
        self._check(inputs)
        return self._to_last(pad_spatial(self._to_first(inputs), self.padding))

    def compute_output_shape(self, input_shape):
        return self._map_shape(input_shape, lambda i, s: s + sum(self.padding[i]))

    def get_config(self):
        config = super().get_config()
        config["padding"] = [list(p) for p in self.padding][0]
        return config


class ZeroPadding2D(_Resize):
    """Pads images with zeros: ``padding=1`` (all sides), ``(rows, cols)`` (symmetric) or
    ``((top, bottom), (left, right))``."""

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _pairs(padding, 2, "ZeroPadding2D", "padding")
        self.data_format = _data_format(data_format, "ZeroPadding2D")

    def call(self, inputs):
        self._check(inputs)
        return self._to_last(pad_spatial(self._to_first(inputs), self.padding))

    def compute_output_shape(self, input_shape):
        return self._map_shape(input_shape, lambda i, s: s + sum(self.padding[i]))

    def get_config(self):
        config = super().get_config()
        config.update(padding=[list(p) for p in self.padding], data_format=self.data_format)
        return config


class Cropping1D(_Resize):
    """Removes steps at the start and end: ``cropping=(1, 1)``."""
    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, 1, "Cropping1D", "cropping")

    def call(self, inputs):
        self._check(inputs)
        (a, b), t = self.cropping[0], inputs.shape[1]
        if a + b >= t:
            raise ValueError(f"Cropping1D '{self.name}': cropping {self.cropping[0]} leaves "
                             f"nothing of {t} steps")
        return inputs[:, a:t - b]

    def compute_output_shape(self, input_shape):
        return self._map_shape(input_shape, lambda i, s: s - sum(self.cropping[i]))

    def get_config(self):
        config = super().get_config()
        config["cropping"] = list(self.cropping[0])
        return config


class Cropping2D(_Resize):
    """Removes rows and columns at the borders: ``cropping=((top, bottom), (left,
    right))``, ``(rows, cols)`` or an int."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _pairs(cropping, 2, "Cropping2D", "cropping")
        self.data_format = _data_format(data_format, "Cropping2D")

    def call(self, inputs):
        self._check(inputs)
        x = self._to_first(inputs)
        (t, b), (l, r) = self.cropping
        h, w = x.shape[2:]
        if t + b >= h or l + r >= w:
            raise ValueError(f"Cropping2D '{self.name}': cropping {self.cropping} leaves nothing "
                             f"of {h}x{w} images")
        return self._to_last(x[:, :, t:h - b, l:w - r])

    def compute_output_shape(self, input_shape):
        return self._map_shape(input_shape, lambda i, s: s - sum(self.cropping[i]))

    def get_config(self):
        config = super().get_config()
        config.update(cropping=[list(p) for p in self.cropping], data_format=self.data_format)
        return config


class RepeatVector(Layer):
    """Repeats a vector ``n`` times: ``(N, F)`` -> ``(N, n, F)`` (e.g. to feed an encoder's
    summary to every step of a decoder)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or n <= 0:
            raise ValueError(f"RepeatVector: n must be a positive integer, got {n!r}")
        self.n = int(n)

    def call(self, inputs):
        if inputs.ndim != 2:
            raise ValueError(f"RepeatVector '{self.name}' expects inputs of shape (batch, "
                             f"features), got {inputs.shape}")
        b, f = inputs.shape
        return ops.broadcast_to(inputs.reshape(b, 1, f), (b, self.n, f))

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"RepeatVector '{self.name}' expects inputs of shape (batch, "
                             f"features), got {_shape_str(tuple(input_shape))}")
        return (input_shape[0], self.n, input_shape[1])

    def _keeps_input_dtype(self):
        return True

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Permute(Layer):
    """Permutes the axes of each sample: ``Permute((2, 1))`` swaps the two axes of
    ``(N, a, b)`` (axes are numbered from 1, the batch axis stays first)."""

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(f"Permute: dims must be a permutation of 1..{len(self.dims)}, got "
                             f"{dims!r}")

    def call(self, inputs):
        if inputs.ndim != len(self.dims) + 1:
            raise ValueError(f"Permute '{self.name}' with dims {self.dims} expects inputs of "
                             f"rank {len(self.dims) + 1}, got {inputs.shape}")
        return inputs.permute(0, *self.dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def _keeps_input_dtype(self):
        return True

    def get_config(self):
        config = super().get_config()
        config["dims"] = list(self.dims)
        return config


class _SpatialDropout(_ElementwiseLayer):
    _rank = 2

    def __init__(self, rate, data_format=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"{type(self).__name__}: rate must be in [0, 1], got {rate}")
        self.rate = float(rate)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.seed = seed

    def call(self, inputs, training=None):
        if inputs.ndim != self._rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank "
                             f"{self._rank + 2}, got {inputs.shape}")
        if not training or self.rate == 0:
            return inputs
        x = to_channels_first(inputs, self._rank) if self.data_format == "channels_last" \
            else inputs
        y = (F.dropout1d if self._rank == 1 else F.dropout2d)(x, self.rate, True)
        return to_channels_last(y, self._rank) if self.data_format == "channels_last" else y

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed)
        if self._rank != 1:
            config["data_format"] = self.data_format
        return config


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of ``(N, T, C)`` sequences (one draw per sample and
    channel, shared by every step), scaled by ``1 / (1 - rate)``; training only."""
    _rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, None, seed, **kwargs)


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of ``(N, H, W, C)`` images (one draw per sample and
    channel), scaled by ``1 / (1 - rate)``; training only."""
    _rank = 2
