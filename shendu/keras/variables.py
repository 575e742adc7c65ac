"""Keras variables: what ``Layer.add_weight`` returns.

A Keras 3 variable has ``.value`` (the backend tensor behind it), ``.assign(v)``,
``.assign_add(v)``, ``.assign_sub(v)``, ``.numpy()``, ``.trainable``, ``.name`` and
``.path``. In shendu the backend tensor *is* the variable: a trainable variable is a
``Parameter`` (so optimizers and ``model.parameters()`` see it) and ``v.value`` returns
``v`` itself; that is what keras.io's PyTorch-backend guide relies on when it reads
``[v.value.grad for v in model.trainable_weights]``. A non-trainable variable (a
BatchNormalization's moving mean) is a plain Tensor with the same methods.

``assign`` writes in place without recording a graph (it is a state update, as in Keras)
and keeps the variable's shape and dtype.

>>> import numpy as np
>>> from shendu import keras
>>> layer = keras.layers.Dense(2, name="d")
>>> layer.build((None, 3))
>>> _ = layer.bias.assign(np.ones(2))
>>> _ = layer.bias.assign_add([1.0, 2.0])
>>> layer.bias.numpy().tolist(), layer.bias.value is layer.bias, layer.bias.path
([2.0, 3.0], True, 'd/bias')
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..nn.parameter import Parameter

__all__ = ["Variable", "NonTrainableVariable"]


class _KerasVariableMethods:
    """The Keras-variable methods shared by both kinds."""

    __slots__ = ()

    @property
    def value(self):
        """The tensor holding the value: the variable itself in shendu."""
        return self

    @property
    def trainable(self):
        return bool(self.requires_grad)

    @trainable.setter
    def trainable(self, flag):
        if not isinstance(self, Parameter) and flag:
            raise ValueError(f"variable '{self.path}' was created with trainable=False: "
                             "create it with add_weight(trainable=True) to train it")
        self.requires_grad = bool(flag)

    @property
    def name(self):
        return self._keras_name

    @property
    def path(self):
        """``"<layer name>/<variable name>"``, as Keras 3 names variables."""
        return f"{self._keras_layer}/{self._keras_name}" if self._keras_layer else \
            self._keras_name

    def numpy(self):
        """A NumPy copy of the value (allowed on a trainable variable, as in Keras)."""
        from .. import backend
        return np.array(backend.move(self._data, backend.Device("cpu")))

    def _new_value(self, who, value):
        v = value._data if isinstance(value, Tensor) else np.asarray(value)
        if tuple(np.shape(v)) != tuple(self.shape):
            raise ValueError(f"variable '{self.path}'.{who}(value): the shape of the value "
                             f"{tuple(np.shape(v))} must match the variable's shape "
                             f"{tuple(self.shape)}")
        return v

    def assign(self, value):
        """Set the value in place (same shape); returns the variable."""
        v = self._new_value("assign", value)
        with grad_mode.no_grad():
            self.copy_(v)
        return self

    def assign_add(self, value):
        """``variable += value`` in place; returns the variable."""
        v = self._new_value("assign_add", value)
        with grad_mode.no_grad():
            self.add_(v.astype(self._data.dtype, copy=False))
        return self

    def assign_sub(self, value):
        """``variable -= value`` in place; returns the variable."""
        v = self._new_value("assign_sub", value)
        with grad_mode.no_grad():
            self.sub_(v.astype(self._data.dtype, copy=False))
        return self


class Variable(_KerasVariableMethods, Parameter):
    """A trainable Keras variable: a ``Parameter`` with Keras's variable methods."""

    __slots__ = ("_keras_name", "_keras_layer")

    def __init__(self, value, name="variable", layer_name=None, requires_grad=True):
        Parameter.__init__(self, value, requires_grad=requires_grad)
        self._keras_name = name
        self._keras_layer = layer_name

    def __repr__(self):
        return (f"<Variable path={self.path}, shape={tuple(self.shape)}, "
                f"dtype={self.dtype}>\n" + Tensor.__repr__(self))

    __str__ = __repr__

    def __deepcopy__(self, memo):
        out = Variable(self._data.copy(), self._keras_name, self._keras_layer,
                       self.requires_grad)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):  # copy.copy; shendu never pickles
        return (Variable, (self._data, self._keras_name, self._keras_layer,
                           self.requires_grad))


class NonTrainableVariable(_KerasVariableMethods, Tensor):
    """A non-trainable Keras variable (a buffer: moving statistics, counters)."""

    __slots__ = ("_keras_name", "_keras_layer")

    def __init__(self, value, name="variable", layer_name=None):
        Tensor.__init__(self, value)
        self._keras_name = name
        self._keras_layer = layer_name

    def __deepcopy__(self, memo):
        out = NonTrainableVariable(self._data.copy(), self._keras_name, self._keras_layer)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol):
        return (NonTrainableVariable, (self._data, self._keras_name, self._keras_layer))
