"""``KerasTensor``: the symbolic tensor ``keras.Input`` returns and layer calls pass on.

It holds a shape (``None`` for the batch) and the layer call that made it; calling layers
on symbolic tensors records the graph ``keras.Model(inputs, outputs)`` runs on real data.
"""
from __future__ import annotations

import numpy as np

__all__ = ["KerasTensor"]


def _shape_str(shape):
    if shape is None:
        return "?"
    if isinstance(shape, list):
        return "[" + ", ".join(_shape_str(s) for s in shape) + "]"
    inner = ", ".join("None" if s is None else str(s) for s in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


# ------------------------------------------------------------------ symbolic tensors
class KerasTensor:
    """A symbolic tensor: a shape (``None`` for the batch) and the layer call that made it.

    ``keras.Input(shape=(784,))`` returns one; calling layers on it records the graph
    that ``keras.Model(inputs, outputs)`` then runs on real data.
    """

    def __init__(self, shape, dtype="float32", layer=None, inputs=None, kwargs=None, name=None):
        self.shape = tuple(None if s is None else int(s) for s in shape)
        self.dtype = str(np.dtype(dtype))
        self._layer = layer
        self._inputs = inputs  # a KerasTensor or a list of them, or None for an Input
        self._kwargs = kwargs or {}
        self.name = name or (layer.name if layer is not None else "keras_tensor")

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={_shape_str(self.shape)}, dtype={self.dtype}, name={self.name}>"

    def _no_ops(self, *_):
        raise TypeError("operators on symbolic tensors (keras.Input outputs) are not supported "
                        "in shendu.keras; use layers (keras.layers.Add, Multiply, Lambda ...)")

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = \
        __matmul__ = __getitem__ = _no_ops


def _flat(x):
    if isinstance(x, (list, tuple)):
        out = []
        for i in x:
            out.extend(_flat(i))
        return out
    return [x]


def _map(fn, x):
    if isinstance(x, (list, tuple)):
        return [_map(fn, i) for i in x]
    return fn(x)


def _is_symbolic(x):
    return any(isinstance(t, KerasTensor) for t in _flat(x))
