"""Shape layers: ``Flatten`` and ``Unflatten``.

>>> import shendu
>>> from shendu import nn
>>> nn.Flatten()(shendu.zeros(32, 1, 28, 28)).shape
(32, 784)
>>> nn.Unflatten(1, (1, 28, 28))(shendu.zeros(32, 784)).shape
(32, 1, 28, 28)
"""
from __future__ import annotations

from .. import ops as _ops
from .module import Module

__all__ = ["Flatten", "Unflatten"]


class Flatten(Module):
    """Merge dimensions ``start_dim..end_dim`` into one (by default all but the batch
    dimension): ``(N, C, H, W) -> (N, C*H*W)``, what a ``Linear`` after a convolution
    needs."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, input):
        return _ops.flatten(input, self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dimension ``dim`` into ``unflattened_size`` (a tuple of ints, one may be -1):
    ``Unflatten(1, (1, 28, 28))`` turns ``(N, 784)`` into ``(N, 1, 28, 28)``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        if not isinstance(unflattened_size, (tuple, list)):
            raise TypeError("Unflatten: unflattened_size must be a tuple of ints, but found "
                            f"type {type(unflattened_size).__name__}")
        for i, s in enumerate(unflattened_size):
            if not isinstance(s, int):
                raise TypeError("Unflatten: unflattened_size must be tuple of ints, but found "
                                f"element of type {type(s).__name__} at pos {i}")
        self.dim = dim
        self.unflattened_size = unflattened_size

    def forward(self, input):
        return _ops.unflatten(input, self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
