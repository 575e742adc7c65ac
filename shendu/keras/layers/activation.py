"""Activation layers with their own arguments: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``,
``Softmax`` (Keras 3's names and defaults: ``LeakyReLU(negative_slope=0.3)``).

>>> import shendu
>>> from shendu.keras import layers
>>> layers.LeakyReLU()(shendu.tensor([[-1.0, 2.0]])).tolist()
[[-0.30000001192092896, 2.0]]
"""
from __future__ import annotations

import numpy as np

from ... import ops
from .. import activations, initializers
from .base import Layer, _ElementwiseLayer

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]


class ReLU(_ElementwiseLayer):
    """``max(x, 0)``, optionally capped at ``max_value``, with ``negative_slope`` below
    ``threshold`` (``keras.activations.relu``)."""

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU: max_value must be >= 0, got {max_value}")
        if negative_slope < 0:
            raise ValueError(f"ReLU: negative_slope must be >= 0, got {negative_slope}")
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def call(self, inputs):
        return activations.relu(inputs, self.negative_slope, self.max_value, self.threshold)

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope,
                      threshold=self.threshold)
        return config


class LeakyReLU(_ElementwiseLayer):
    """``x`` for x >= 0, ``negative_slope * x`` below (default 0.3, as Keras 3; Keras 2's
    ``alpha=`` is accepted too)."""

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be a number >= 0, got "
                             f"{negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def call(self, inputs):
        return ops.leaky_relu(inputs, self.negative_slope)

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(_ElementwiseLayer):
    """``x`` for x > 0, ``alpha (e^x - 1)`` below."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def call(self, inputs):
        return ops.elu(inputs, self.alpha)

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class Softmax(_ElementwiseLayer):
    """``softmax`` over ``axis``; a boolean ``mask`` (True = keep) sends the masked
    entries' probabilities to 0."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs, mask=None):
        x = inputs
        if mask is not None:
            keep = mask if hasattr(mask, "shape") and not isinstance(mask, np.ndarray) else \
                ops.tensor(np.asarray(mask, dtype=bool))
            x = ops.where(keep, x, ops.full_like(x, -1e9))
        return activations.softmax(x, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class PReLU(Layer):
    """``x`` for x >= 0, ``alpha * x`` below, with a learned ``alpha`` per entry of a
    sample (shared along ``shared_axes``, e.g. ``[1, 2]`` for one alpha per channel)."""

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise NotImplementedError("PReLU: alpha_constraint is not supported in shendu.keras")
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = alpha_regularizer
        self.shared_axes = None if shared_axes is None else \
            [shared_axes] if isinstance(shared_axes, int) else list(shared_axes)
        self.alpha = None

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for a in self.shared_axes or []:
            shape[a - 1] = 1
        self.alpha = self.add_weight(shape=tuple(shape), name="alpha",
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer)
        self.built = True

    def call(self, inputs):
        return ops.relu(inputs) - self.alpha * ops.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(alpha_initializer=initializers.serialize(self.alpha_initializer),
                      shared_axes=self.shared_axes)
        return config
