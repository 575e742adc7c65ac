"""Dropout layers: ``Dropout``, ``Dropout1d/2d/3d`` (whole channels), ``AlphaDropout``.

Active in training mode only; ``model.eval()`` turns them into the identity.

>>> import shendu
>>> from shendu import nn
>>> drop = nn.Dropout(p=0.5)
>>> y = drop(shendu.ones(4, 1000))       # training: about half zeros, the rest 2.0
>>> abs(float(y.mean()) - 1.0) < 0.05
True
>>> _ = drop.eval(); drop(shendu.ones(3))
tensor([1., 1., 1.])
"""
from __future__ import annotations

from ..ops.dropout import _check_p, alpha_dropout, dropout, dropout1d, dropout2d, dropout3d
from .module import Module

__all__ = ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout"]


class _DropoutNd(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        _check_p(p, type(self).__name__)
        self.p = p
        self.inplace = inplace

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability ``p`` and scale the others by
    ``1 / (1 - p)`` (inverted dropout); in evaluation, return the input.

    Parameters
    ----------
    p : float in [0, 1], default 0.5, the probability of dropping an element
    inplace : accepted for PyTorch compatibility (shendu returns a new tensor)
    """

    def forward(self, input):
        return dropout(input, self.p, self.training)


class Dropout1d(_DropoutNd):
    """Zero whole channels of ``(N, C, L)`` inputs with probability ``p`` (training)."""

    def forward(self, input):
        return dropout1d(input, self.p, self.training)


class Dropout2d(_DropoutNd):
    """Zero whole channels (feature maps) of ``(N, C, H, W)`` inputs with probability
    ``p`` (training)."""

    def forward(self, input):
        return dropout2d(input, self.p, self.training)


class Dropout3d(_DropoutNd):
    """Zero whole channels of ``(N, C, D, H, W)`` inputs with probability ``p`` (training)."""

    def forward(self, input):
        return dropout3d(input, self.p, self.training)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: keeps the input's mean and variance (training only)."""

    def forward(self, input):
        return alpha_dropout(input, self.p, self.training)
