"""``keras.layers``: the Keras-style layers of shendu.

>>> from shendu.keras import layers
>>> layers.Dense(4, activation="relu").units
4
"""
from .base import Layer
from .input_layer import Input, InputLayer
from .keras_tensor import KerasTensor
from .core import (Dense, Activation, Dropout, Flatten, Reshape, Lambda, Embedding, Add,
                   Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Identity,
                   TorchModuleWrapper)
from .normalization import BatchNormalization, LayerNormalization
from . import activation, attention, convolutional, pooling, reshaping, recurrent, wrappers
from .activation import *  # noqa: F401,F403
from .convolutional import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .reshaping import *  # noqa: F401,F403
from .recurrent import *  # noqa: F401,F403
from .wrappers import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403

__all__ = ["Layer", "InputLayer", "Input", "KerasTensor", "Dense", "Activation", "Dropout",
           "Flatten", "Reshape", "Lambda", "Embedding", "Add", "Subtract", "Multiply",
           "Average", "Maximum", "Minimum", "Concatenate", "Identity", "TorchModuleWrapper",
           "BatchNormalization", "LayerNormalization"]
__all__ += activation.__all__ + convolutional.__all__ + pooling.__all__ + reshaping.__all__ + recurrent.__all__ \
    + wrappers.__all__ + attention.__all__

_BUILTIN = {name: globals()[name] for name in __all__
            if isinstance(globals().get(name), type) and issubclass(globals()[name], Layer)}


def get(class_name):
    """The built-in layer class called ``class_name`` (KeyError if there is none)."""
    return _BUILTIN[class_name]
