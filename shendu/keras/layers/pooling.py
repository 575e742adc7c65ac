"""Keras pooling layers: ``MaxPooling1D/2D/3D``, ``AveragePooling1D/2D/3D``,
``GlobalMaxPooling1D/2D/3D``, ``GlobalAveragePooling1D/2D/3D``.

Keras's conventions: channels last by default (``data_format="channels_first"`` for
``(N, C, ...)``), ``pool_size=2``, ``strides=None`` (= ``pool_size``), ``padding="valid"``
or ``"same"`` (output ``ceil(size / stride)``, padded as TensorFlow does: max pooling
ignores the padding, average pooling averages over the real pixels only).

``GlobalAveragePooling1D`` honours a mask (``Embedding(mask_zero=True)``): the mean is
over the unmasked steps, as in Keras.

>>> import shendu
>>> from shendu.keras import layers
>>> layers.MaxPooling2D()(shendu.zeros(1, 28, 28, 8)).shape
(1, 14, 14, 8)
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor
from ...nn import functional as F
from .base import Layer, _shape_str
from .convolutional import (_data_format, _padding, _tuple, out_length, pad_spatial,
                            same_pads, to_channels_first, to_channels_last)

__all__ = ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
           "GlobalMaxPooling3D", "GlobalAveragePooling1D", "GlobalAveragePooling2D",
           "GlobalAveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D",
           "AvgPool2D", "AvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D",
           "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D"]

_MAX = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
_AVG = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def _check_rank(layer, x, n):
    if x.ndim != n + 2:
        order = "spatial..., channels" if layer.data_format == "channels_last" \
            else "channels, spatial..."
        raise ValueError(f"{type(layer).__name__} '{layer.name}' expects inputs of rank {n + 2} "
                         f"(batch, {order}), got inputs of shape {x.shape}")


class _Pooling(Layer):
    _rank = 2
    _kind = "max"
    supports_masking = False

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        n = self._rank
        self.pool_size = _tuple(pool_size, n, name, "pool_size")
        self.strides = self.pool_size if strides is None else _tuple(strides, n, name, "strides")
        self.padding = _padding(padding, name)
        self.data_format = _data_format(data_format, name)

    def call(self, inputs):
        n = self._rank
        x = inputs
        _check_rank(self, x, n)
        last = self.data_format == "channels_last"
        if last:
            x = to_channels_first(x, n)
        if self.padding == "same":
            pairs = [same_pads(x.shape[2 + i], self.pool_size[i], self.strides[i])
                     for i in range(n)]
        else:
            pairs = [(0, 0)] * n
        if self._kind == "max":
            x = pad_spatial(x, pairs, value=-np.inf)
            y = _MAX[n](x, self.pool_size, self.strides)
        else:
            padded = pad_spatial(x, pairs)
            y = _AVG[n](padded, self.pool_size, self.strides)
            if any(a or b for a, b in pairs):  # average over the real pixels only
                ones = np.zeros((1, 1) + tuple(x.shape[2:]), dtype=x.dtype)
                ones = pad_spatial(Tensor._make(x.xp.asarray(ones + 1)), pairs)
                count = _AVG[n](ones, self.pool_size, self.strides)
                y = y / Tensor._make(count._data)
        if last:
            y = to_channels_last(y, n)
        return y

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        sizes = shape[1:-1] if self.data_format == "channels_last" else shape[2:]
        out = tuple(out_length(s, k, st, self.padding) for s, k, st in
                    zip(sizes, self.pool_size, self.strides))
        if self.data_format == "channels_last":
            return (shape[0],) + out + (shape[-1],)
        return shape[:2] + out

    def _keeps_input_dtype(self):
        return True

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=list(self.pool_size), strides=list(self.strides),
                      padding=self.padding, data_format=self.data_format)
        return config


class MaxPooling1D(_Pooling):
    """Max over windows of ``pool_size`` steps of ``(batch, steps, channels)``."""
    _rank, _kind = 1, "max"


class MaxPooling2D(_Pooling):
    """Max over ``pool_size`` windows of ``(batch, height, width, channels)`` images.

    ``MaxPooling2D(pool_size=(2, 2), strides=None, padding="valid",
    data_format="channels_last")``; ``strides`` defaults to ``pool_size``.
    """
    _rank, _kind = 2, "max"


class MaxPooling3D(_Pooling):
    _rank, _kind = 3, "max"


class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps."""
    _rank, _kind = 1, "avg"


class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows; with ``padding="same"`` the border windows average
    their real pixels only (TensorFlow's rule)."""
    _rank, _kind = 2, "avg"


class AveragePooling3D(_Pooling):
    _rank, _kind = 3, "avg"


class _GlobalPooling(Layer):
    _rank = 2
    _kind = "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def _axes(self, ndim):
        n = self._rank
        return tuple(range(1, 1 + n)) if self.data_format == "channels_last" \
            else tuple(range(2, 2 + n))

    def call(self, inputs, mask=None):
        _check_rank(self, inputs, self._rank)
        axes = self._axes(inputs.ndim)
        if mask is not None and self._rank == 1:
            return self._masked(inputs, mask, axes[0])
        if self._kind == "max":
            return ops.amax(inputs, axis=axes, keepdims=self.keepdims)
        return ops.mean(inputs, axis=axes, keepdims=self.keepdims)

    def _masked(self, x, mask, axis):
        m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
        m = x.xp.asarray(m).astype(x.dtype)
        if axis == 1:
            m = m[:, :, None]
        else:
            m = m[:, None, :]
        if self._kind == "max":
            neg = Tensor._make((1.0 - m) * np.finfo(x.dtype).min)
            return ops.amax(x + neg, axis=axis, keepdims=self.keepdims)
        mt = Tensor._make(m)
        total = (x * mt).sum(axis=axis, keepdims=self.keepdims)
        count = Tensor._make(x.xp.maximum(m.sum(axis=axis, keepdims=self.keepdims), 1))
        return total / count

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if len(shape) != self._rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank "
                             f"{self._rank + 2}, got {_shape_str(tuple(shape))}")
        axes = self._axes(len(shape))
        if self.keepdims:
            return tuple(1 if i in axes else s for i, s in enumerate(shape))
        return tuple(s for i, s in enumerate(shape) if i not in axes)

    def _keeps_input_dtype(self):
        return True

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalMaxPooling1D(_GlobalPooling):
    """Max over the steps: ``(N, T, C)`` -> ``(N, C)`` (masked steps are ignored)."""
    _rank, _kind = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """Max over height and width: ``(N, H, W, C)`` -> ``(N, C)``."""
    _rank, _kind = 2, "max"


class GlobalMaxPooling3D(_GlobalPooling):
    _rank, _kind = 3, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps: ``(N, T, C)`` -> ``(N, C)``; with a mask, the mean of the
    unmasked steps."""
    _rank, _kind = 1, "avg"


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: ``(N, H, W, C)`` -> ``(N, C)``."""
    _rank, _kind = 2, "avg"


class GlobalAveragePooling3D(_GlobalPooling):
    _rank, _kind = 3, "avg"


# Keras's short aliases
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = \
    GlobalMaxPooling1D, GlobalMaxPooling2D, GlobalMaxPooling3D
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = \
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D
