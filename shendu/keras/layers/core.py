"""Core Keras layers: Dense, Activation, Dropout, Flatten, Reshape, Lambda, Embedding,
the merging layers (Add, Concatenate ...) and ``TorchModuleWrapper`` (any ``nn.Module``).

Weights use Keras's layout: ``Dense.kernel`` is ``(in, out)`` and ``y = x @ kernel + bias``
(PyTorch's ``nn.Linear.weight`` is the transpose).
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor
from ...nn import functional as F
from ...nn.module import Module
from .. import activations, initializers, regularizers
from .base import Layer, _ElementwiseLayer, _module_weights, _shape_str

__all__ = ["Dense", "Activation", "Dropout", "Flatten", "Reshape", "Lambda", "Embedding",
           "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "TorchModuleWrapper", "Identity"]


def _act_config(fn):
    name = activations.serialize(fn)
    if name is None:
        raise TypeError(f"the activation {getattr(fn, '__name__', fn)!r} is a custom function; "
                        "shendu never saves code. Use a built-in activation name, or a custom "
                        "Layer registered with keras.saving.register_keras_serializable()")
    return name


def _serialize_or_fail(module, obj, what, layer):
    if obj is None:
        return None
    out = module.serialize(obj)
    if not out:
        raise TypeError(f"layer '{layer.name}': its {what} ({type(obj).__name__}) can't be "
                        "saved; only shendu's built-in ones are stored in a model file")
    return out


class Dense(Layer):
    """A fully connected layer: ``activation(inputs @ kernel + bias)``.

    Parameters
    ----------
    units : int, the output size
    activation : name or function, default None (linear)
    use_bias : bool, default True
    kernel_initializer : default "glorot_uniform"
    bias_initializer : default "zeros"
    kernel_regularizer, bias_regularizer : e.g. ``keras.regularizers.l2(1e-4)``, added to
        the training loss
    input_shape : shape of one sample, for the first layer of a Sequential model

    The input size is read from the first input (``build``); inputs ``(N, ..., in)`` give
    ``(N, ..., units)``.

    >>> import shendu
    >>> from shendu.keras import layers
    >>> layer = layers.Dense(units=1, input_shape=[3])
    >>> layer(shendu.ones(2, 3)).shape, layer.kernel.shape
    ((2, 1), (3, 1))
    """

    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError(f"Dense: units must be a positive integer, got {units!r}")
        if activity_regularizer is not None or kernel_constraint is not None or \
                bias_constraint is not None or lora_rank is not None:
            raise NotImplementedError("Dense: activity_regularizer, constraints and lora_rank are "
                                      "not supported in shendu.keras")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = None
        self.bias = None
        self._in = None

    def build(self, input_shape):
        in_dim = input_shape[-1]
        if in_dim is None:
            raise ValueError(f"Dense '{self.name}': the last dimension of the inputs must be "
                             f"known, got input shape {_shape_str(tuple(input_shape))}")
        self._in = int(in_dim)
        self.kernel = self.add_weight(shape=(self._in, self.units), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), name="bias",
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        self.built = True

    def _affine(self, x):
        if x.shape[-1:] != (self._in,):
            hint = ""
            if x.ndim > 2 and int(np.prod(x.shape[1:])) == self._in:
                hint = "; flatten it first (keras.layers.Flatten())"
            raise ValueError(f"Dense '{self.name}' expected inputs with last dimension "
                             f"{self._in}, got inputs of shape {x.shape}{hint}")
        if x.dtype != self.kernel.dtype:  # Keras casts inputs to the layer's dtype
            x = ops.cast(x, self.kernel.dtype)
        # x @ kernel + bias: as fast as nn.Linear's fused op here (measured), while
        # F.linear(x, kernel.T) was ~20% slower (transposed operands in both passes)
        y = ops.matmul(x, self.kernel)
        return y if self.bias is None else y + self.bias

    def call(self, inputs):
        y = self._affine(inputs)
        return y if self.activation is activations.linear else self.activation(y)

    def _pre_activation(self, inputs):
        return self._affine(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=_act_config(self.activation),
                      use_bias=self.use_bias,
                      kernel_initializer=_serialize_or_fail(initializers, self.kernel_initializer,
                                                            "kernel_initializer", self),
                      bias_initializer=_serialize_or_fail(initializers, self.bias_initializer,
                                                          "bias_initializer", self),
                      kernel_regularizer=_serialize_or_fail(regularizers, self.kernel_regularizer,
                                                            "kernel_regularizer", self),
                      bias_regularizer=_serialize_or_fail(regularizers, self.bias_regularizer,
                                                          "bias_regularizer", self))
        return config

    def extra_repr(self):
        act = activations.serialize(self.activation) or getattr(self.activation, "__name__", "?")
        return f"name={self.name}, units={self.units}, activation={act}"


class Activation(_ElementwiseLayer):
    """Applies an activation function: ``Activation("relu")``.

    Course example (batch normalization between a layer and its activation)::

        layers.Dense(16), layers.BatchNormalization(), layers.Activation('relu')
    """

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)

    def call(self, inputs):
        return self.activation(inputs)

    def _pre_activation(self, inputs):
        return inputs

    def get_config(self):
        config = super().get_config()
        config["activation"] = _act_config(self.activation)
        return config


class Dropout(_ElementwiseLayer):
    """During training, sets a fraction ``rate`` of the inputs to 0 and scales the rest by
    ``1 / (1 - rate)``; does nothing at inference (``predict``, ``evaluate``).

    ``noise_shape`` (e.g. ``(batch, 1, features)``) shares one mask along axes of size 1.
    """

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"Dropout: rate must be in [0, 1], got {rate}")
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)

    def call(self, inputs, training=None):
        if not training or self.rate == 0:
            return inputs
        if self.noise_shape is None and self._rng is None:
            return F.dropout(inputs, self.rate, True)
        from ... import backend
        shape = inputs.shape if self.noise_shape is None else tuple(
            inputs.shape[i] if s is None else s for i, s in enumerate(self.noise_shape))
        rng = self._rng or backend.default_generator(inputs.xp)
        keep = (rng.random(shape) >= self.rate).astype(inputs.dtype) / (1.0 - self.rate)
        return inputs * Tensor._make(inputs.xp.asarray(keep))

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, noise_shape=None if self.noise_shape is None
                      else list(self.noise_shape), seed=self.seed)
        return config


class Flatten(Layer):
    """Flattens each sample: ``(N, d1, d2, ...)`` becomes ``(N, d1 * d2 * ...)``."""

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format

    def call(self, inputs):
        if inputs.ndim == 1:
            return inputs.reshape(inputs.shape[0], 1)
        return inputs.reshape(inputs.shape[0], -1)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(s is None for s in rest) else int(np.prod(rest)) if rest else 1
        return (input_shape[0], size)

    def _keeps_input_dtype(self):
        return True

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config


class Reshape(Layer):
    """Reshapes each sample to ``target_shape`` (one entry may be -1)."""

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        self.target_shape = tuple(int(s) for s in target_shape)
        if sum(s == -1 for s in self.target_shape) > 1:
            raise ValueError(f"Reshape: at most one -1 in target_shape, got {self.target_shape}")

    def call(self, inputs):
        n = int(np.prod(inputs.shape[1:]))
        known = int(np.prod([s for s in self.target_shape if s != -1]))
        if (-1 not in self.target_shape and known != n) or (known == 0 or n % known):
            raise ValueError(f"Reshape '{self.name}': can't reshape samples of shape "
                             f"{inputs.shape[1:]} ({n} values) into {self.target_shape}")
        return inputs.reshape((inputs.shape[0],) + self.target_shape)

    def compute_output_shape(self, input_shape):
        shape = list(self.target_shape)
        if -1 in shape:
            rest = input_shape[1:]
            if any(s is None for s in rest):
                shape[shape.index(-1)] = None
            else:
                known = int(np.prod([s for s in shape if s != -1]))
                shape[shape.index(-1)] = int(np.prod(rest)) // known
        return (input_shape[0],) + tuple(shape)

    def _keeps_input_dtype(self):
        return True

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config


class Lambda(Layer):
    """Wraps a function of Tensors as a layer: ``Lambda(lambda x: x * 2)``.

    In memory only: a model holding a Lambda can't be saved (shendu never serializes
    code). Write a small ``Layer`` subclass instead and register it with
    ``keras.saving.register_keras_serializable()`` to save it.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"Lambda needs a function, got {type(function).__name__}")
        self.function = function
        self._output_shape = output_shape
        self.arguments = dict(arguments or {})

    def call(self, inputs):
        return self.function(inputs, **self.arguments)

    def compute_output_shape(self, input_shape):
        if self._output_shape is not None and not callable(self._output_shape):
            return (input_shape[0],) + tuple(self._output_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        return super().compute_output_shape(input_shape)

    def get_config(self):
        raise TypeError(
            f"Lambda layer '{self.name}' can't be saved: its function is Python code and "
            "shendu never serializes code (no pickle, no marshal). Replace it by a Layer "
            "subclass decorated with @keras.saving.register_keras_serializable(), or save only "
            "the weights with model.save_weights(path).")


class Embedding(Layer):
    """Maps integer ids ``(N, T)`` to vectors ``(N, T, output_dim)``.

    ``Embedding(input_dim, output_dim, embeddings_initializer="uniform")``: ``input_dim``
    is the vocabulary size; the weight ``embeddings`` is ``(input_dim, output_dim)``,
    initialized from U(-0.05, 0.05) as in Keras.

    ``mask_zero=True``: id 0 is padding; the output carries the mask ``ids != 0``, which
    the recurrent layers (``LSTM``, ``GRU``, ``SimpleRNN``), ``GlobalAveragePooling1D`` and
    the attention layers honour (masked steps keep the previous state).
    """

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 input_length=None, lora_rank=None, **kwargs):
        super().__init__(**kwargs)
        self.mask_zero = bool(mask_zero)
        if embeddings_constraint is not None or lora_rank is not None:
            raise NotImplementedError("Embedding: constraints and lora_rank are not supported")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.input_length = input_length
        self.embeddings = self.add_weight(shape=(self.input_dim, self.output_dim),
                                          name="embeddings",
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer)

    def build(self, input_shape):
        self.built = True

    def _input_dtype(self):
        return "int64"

    def call(self, inputs):
        if inputs.dtype.kind == "f":
            inputs = Tensor._make(inputs._data.astype(np.int64))
        data = inputs._data
        if data.size and (int(data.min()) < 0 or int(data.max()) >= self.input_dim):
            raise ValueError(f"Embedding '{self.name}': ids must be in [0, {self.input_dim - 1}] "
                             f"(input_dim={self.input_dim}), got ids from {int(data.min())} to "
                             f"{int(data.max())}")
        return F.embedding(inputs, self.embeddings)

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        data = inputs._data if isinstance(inputs, Tensor) else np.asarray(inputs)
        return Tensor._make(data != 0)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def get_config(self):
        config = super().get_config()
        config.update(input_dim=self.input_dim, output_dim=self.output_dim,
                      mask_zero=self.mask_zero,
                      embeddings_initializer=_serialize_or_fail(
                          initializers, self.embeddings_initializer, "embeddings_initializer",
                          self),
                      embeddings_regularizer=_serialize_or_fail(
                          regularizers, self.embeddings_regularizer, "embeddings_regularizer",
                          self))
        return config


class Identity(_ElementwiseLayer):
    """Returns its input unchanged."""

    supports_masking = True


# ------------------------------------------------------------------ merging layers
class _Merge(Layer):
    def _check(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs a list of at least 2 "
                             "inputs")

    def call(self, inputs):
        self._check(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = self._merge(out, x)
        return out

    def compute_output_shape(self, input_shape):
        shapes = [tuple(s) for s in input_shape]
        out = list(shapes[0])
        for s in shapes[1:]:
            if len(s) != len(out):
                raise ValueError(f"{type(self).__name__} '{self.name}': inputs of different ranks "
                                 f"{_shape_str(shapes)}")
            for i, (a, b) in enumerate(zip(out, s)):
                if a is None or a == 1:
                    out[i] = b
                elif b not in (None, 1, a):
                    raise ValueError(f"{type(self).__name__} '{self.name}': incompatible input "
                                     f"shapes {_shape_str(shapes)}")
        return tuple(out)


class Add(_Merge):
    """Sum of a list of inputs."""
    def _merge(self, a, b): return a + b


class Subtract(_Merge):
    """``inputs[0] - inputs[1]``"""
    def call(self, inputs):
        self._check(inputs)
        if len(inputs) != 2:
            raise ValueError(f"Subtract '{self.name}' needs exactly 2 inputs")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Element-wise product of a list of inputs."""
    def _merge(self, a, b): return a * b


class Maximum(_Merge):
    def _merge(self, a, b): return ops.maximum(a, b)


class Minimum(_Merge):
    def _merge(self, a, b): return ops.minimum(a, b)


class Average(_Merge):
    """Element-wise mean of a list of inputs."""
    def call(self, inputs):
        self._check(inputs)
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out * (1.0 / len(inputs))


class Concatenate(Layer):
    """Concatenates a list of inputs along ``axis`` (the last by default)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"Concatenate '{self.name}' needs a list of at least 2 inputs")
        return ops.cat(list(inputs), self.axis)

    def compute_output_shape(self, input_shape):
        shapes = [list(s) for s in input_shape]
        axis = self.axis % len(shapes[0])
        out = list(shapes[0])
        sizes = [s[axis] for s in shapes]
        out[axis] = None if any(s is None for s in sizes) else sum(sizes)
        return tuple(out)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


# ------------------------------------------------------------------ nn.Module inside Keras
class TorchModuleWrapper(Layer):
    """Use any ``shendu.nn`` module as a Keras layer: ``Sequential([..., TorchModuleWrapper(
    nn.Linear(4, 2))])`` (``Sequential.add`` wraps modules automatically).

    Its weights are the module's parameters and floating buffers, in the module's order.
    Models holding one can be trained and their weights saved, but ``model.save`` needs a
    config and can't describe an arbitrary module.
    """

    def __init__(self, module, name=None, **kwargs):
        if not isinstance(module, Module):
            raise TypeError(f"TorchModuleWrapper needs a shendu.nn.Module, got "
                            f"{type(module).__name__}")
        super().__init__(name=name or None, **kwargs)
        self.module = module
        self.built = True
        import inspect
        try:
            params = inspect.signature(module.forward).parameters
        except (TypeError, ValueError):  # pragma: no cover
            params = {}
        self._module_takes_training = "training" in params

    def _named_weights(self, prefix=None):
        prefix = self.name if prefix is None else prefix
        return _module_weights(self.module, prefix)

    def call(self, inputs, *args, **kwargs):
        return self.module(inputs, *args, **kwargs)

    def get_config(self):
        raise TypeError(f"layer '{self.name}' wraps a shendu.nn.{type(self.module).__name__}, "
                        "which has no Keras config: save its weights with "
                        "model.save_weights(path), or write the model with Keras layers")
