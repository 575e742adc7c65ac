"""Normalization layers: ``BatchNormalization`` and ``LayerNormalization`` (Keras defaults).

Both normalize over the feature axis ``axis=-1`` (channels last, Keras's convention) and
compute with shendu's fused ops (``nn.functional.batch_norm`` / ``layer_norm``).
"""
from __future__ import annotations

from ...nn import functional as F
from .. import initializers, regularizers
from .base import Layer
from .core import _serialize_or_fail

__all__ = ["BatchNormalization", "LayerNormalization"]


class BatchNormalization(Layer):
    """Batch normalization: each feature is normalized with the batch's mean and variance
    during training, with moving averages of them at inference, then scaled by ``gamma``
    and shifted by ``beta``.

    Parameters (Keras's defaults)
    ----------
    axis : int, default -1 (the features)
    momentum : float, default 0.99
        ``moving = moving * momentum + batch * (1 - momentum)``.
    epsilon : float, default 1e-3
    center, scale : bool, default True (learn ``beta`` / ``gamma``)

    Weights: ``gamma``, ``beta`` (trainable), ``moving_mean``, ``moving_variance`` (not
    trainable). The moving variance averages the *biased* batch variance, as Keras does
    (``nn.BatchNorm*`` averages the unbiased one, PyTorch's convention).

    A frozen layer (``trainable = False``) runs in inference mode, as in Keras.

    Course example::

        layers.Dense(16, activation='relu'),
        layers.BatchNormalization(),
    """

    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError("BatchNormalization: constraints are not supported")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNormalization: momentum must be in [0, 1], got {momentum}")
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None

    def build(self, input_shape):
        ndim = len(input_shape)
        axis = self.axis % ndim
        if axis == 0:
            raise ValueError(f"BatchNormalization '{self.name}': axis can't be the batch axis")
        c = input_shape[axis]
        if c is None:
            raise ValueError(f"BatchNormalization '{self.name}': the size of axis {self.axis} "
                             f"must be known, got input shape {tuple(input_shape)}")
        self._axis = axis
        if self.scale:
            self.gamma = self.add_weight(shape=(c,), name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight(shape=(c,), name="beta", initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer)
        self.moving_mean = self.add_weight(shape=(c,), name="moving_mean", trainable=False,
                                           initializer=self.moving_mean_initializer)
        self.moving_variance = self.add_weight(shape=(c,), name="moving_variance",
                                               trainable=False,
                                               initializer=self.moving_variance_initializer)
        self.built = True

    def call(self, inputs, training=None):
        use_batch = bool(training) and self.trainable
        x = inputs
        moved = self._axis != x.ndim - 1 or x.ndim != 2
        if moved:  # fold every axis but the features into the rows
            x = x.moveaxis(self._axis, -1)
            shape = x.shape
            x = x.reshape(-1, shape[-1])
        y = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                         use_batch, 1.0 - self.momentum, self.epsilon,
                         unbiased_running_var=False)  # Keras: the biased batch variance
        if moved:
            y = y.reshape(shape).moveaxis(-1, self._axis)
        return y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, momentum=self.momentum, epsilon=self.epsilon,
                      center=self.center, scale=self.scale)
        for name, mod in (("beta_initializer", initializers), ("gamma_initializer", initializers),
                          ("moving_mean_initializer", initializers),
                          ("moving_variance_initializer", initializers),
                          ("beta_regularizer", regularizers), ("gamma_regularizer", regularizers)):
            config[name] = _serialize_or_fail(mod, getattr(self, name), name, self)
        return config


class LayerNormalization(Layer):
    """Layer normalization: each sample is normalized over its last axis (or ``axis``),
    then scaled by ``gamma`` and shifted by ``beta``. Same at training and inference.

    ``LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True)``
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        if rms_scaling or beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError("LayerNormalization: rms_scaling and constraints are not "
                                      "supported in shendu.keras")
        self.axis = axis if isinstance(axis, int) else [int(a) for a in axis]
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = None

    def build(self, input_shape):
        ndim = len(input_shape)
        axes = sorted(a % ndim for a in ([self.axis] if isinstance(self.axis, int) else self.axis))
        if axes != list(range(ndim - len(axes), ndim)):
            raise NotImplementedError(f"LayerNormalization '{self.name}': only trailing axes are "
                                      f"supported, got axis={self.axis} for rank {ndim}")
        self._shape = tuple(input_shape[a] for a in axes)
        if any(s is None for s in self._shape):
            raise ValueError(f"LayerNormalization '{self.name}': the normalized axes must have "
                             f"known sizes, got input shape {tuple(input_shape)}")
        if self.scale:
            self.gamma = self.add_weight(shape=self._shape, name="gamma",
                                         initializer=self.gamma_initializer,
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight(shape=self._shape, name="beta",
                                        initializer=self.beta_initializer,
                                        regularizer=self.beta_regularizer)
        self.built = True

    def call(self, inputs):
        return F.layer_norm(inputs, self._shape, self.gamma, self.beta, self.epsilon)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale)
        for name, mod in (("beta_initializer", initializers), ("gamma_initializer", initializers),
                          ("beta_regularizer", regularizers), ("gamma_regularizer", regularizers)):
            config[name] = _serialize_or_fail(mod, getattr(self, name), name, self)
        return config
