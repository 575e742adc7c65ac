"""``keras.Input`` and ``InputLayer``: the entry point of a functional or Sequential model."""
from __future__ import annotations

from .base import Layer, _as_tuple, unique_name
from .keras_tensor import KerasTensor

__all__ = ["InputLayer", "Input"]


# ------------------------------------------------------------------ inputs
class InputLayer(Layer):
    """The entry point of a model: holds the input shape. ``keras.Input`` makes one and
    returns its symbolic output."""

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, name=None, input_shape=None, batch_input_shape=None,
                 **kwargs):
        if shape is None and input_shape is not None:
            shape = input_shape
        if batch_shape is None and batch_input_shape is not None:
            batch_shape = batch_input_shape
        if batch_shape is None:
            if shape is None:
                raise ValueError("InputLayer needs a shape: keras.Input(shape=(n_features,))")
            batch_shape = (batch_size,) + tuple(_as_tuple(shape))
        if sparse:
            raise NotImplementedError("sparse inputs are not supported in shendu.keras")
        super().__init__(name=name or unique_name("input_layer"), dtype=dtype or "float32",
                         **kwargs)
        self.batch_shape = tuple(None if s is None else int(s) for s in batch_shape)
        self._batch_input_shape = self.batch_shape
        self.built = True
        self._build_input_shape = self._build_output_shape = self.batch_shape
        self.output = KerasTensor(self.batch_shape, self.dtype, layer=self, inputs=None,
                                  name=self.name)

    def get_config(self):
        return {"name": self.name, "batch_shape": list(self.batch_shape), "dtype": self.dtype}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input of ``shape`` (one sample, no batch): the start of a model.

    >>> from shendu import keras
    >>> keras.Input(shape=(784,)).shape
    (None, 784)
    """
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, sparse=sparse,
                       batch_shape=batch_shape, name=name)
    return layer.output
