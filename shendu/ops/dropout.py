"""Dropout: ``dropout``, ``dropout1d/2d/3d`` (whole channels), ``alpha_dropout``.

Inverted dropout (Srivastava et al. 2014): in training each element is kept with
probability ``1 - p`` and scaled by ``1 / (1 - p)``, so the expected output equals the
input and evaluation needs no rescaling. The random mask comes from shendu's seeded
generator, so ``shendu.manual_seed`` repeats it.
"""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout"]

# -SELU's negative saturation value, -scale * alpha (Klambauer et al. 2017)
_ALPHA_PRIME = 1.7580993408473766


class MaskedScale(Function):
    """y = x * m + c  with a constant mask m (0 or 1 / (1 - p)) and shift c;
    dL/dx = g * m"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, mask, shift):
        ctx.mask = mask
        y = x * mask
        if shift is not None:
            y += shift
        return y

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask, None, None


def _check_p(p, name):
    if not isinstance(p, numbers.Real) or not 0.0 <= p <= 1.0:
        raise ValueError(f"{name}: dropout probability has to be between 0 and 1, but got {p}")


def _check_input(x, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point tensor, got {x.dtype}")


def _keep_mask(x, p, shape):
    """A mask of ``shape`` in x's dtype: 1 / (1 - p) with probability 1 - p, else 0."""
    xp = x.xp
    if p == 1.0:
        return xp.zeros(shape, dtype=x.dtype)
    gen = backend.default_generator(xp)
    u = gen.random(shape, dtype=x.dtype if x.dtype in (np.float32, np.float64) else np.float64)
    return (u >= p).astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p))


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``
    (training); the identity when ``training=False``.

    Parameters
    ----------
    input : Tensor of any shape (floating)
    p : float in [0, 1], the probability of dropping an element
    training : bool, apply dropout (True) or pass through (False)
    inplace : accepted for PyTorch compatibility; shendu always returns a new tensor

    >>> _ = shendu.manual_seed(0)
    >>> y = shendu.nn.functional.dropout(shendu.ones(1000), p=0.5)
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    _check_p(p, "dropout")
    _check_input(input, "dropout")
    if not training or p == 0.0:
        return input
    return MaskedScale.apply(input, _keep_mask(input, p, input.shape), None)


def _feature_dropout(input, p, training, name):
    """PyTorch's ``feature_dropout``: one draw per (sample, channel) of an ``(N, C, *)``
    input, broadcast over the remaining axes (for a 2-D (N, C) input that is one draw
    per element, as plain dropout)."""
    _check_p(p, name)
    _check_input(input, name)
    if input.ndim < 2:
        raise RuntimeError(f"{name}: feature dropout needs at least 2 dimensions "
                           f"(N, C, *), got shape {input.shape}")
    if not training or p == 0.0:
        return input
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return MaskedScale.apply(input, _keep_mask(input, p, shape), None)


def _unbatched(fn, input, p, training, name):
    """``fn`` on ``input[None]`` (a batch of one), the batch axis removed again."""
    _check_input(input, name)
    if not training or p == 0.0:
        _check_p(p, name)
        return input
    from .shape import squeeze, unsqueeze
    return squeeze(fn(unsqueeze(input, 0), p, training, name), 0)


def _warn_rank(name, ndim, spatial):
    warnings.warn(f"{name}: received a {ndim}-D input; {name} drops whole channels of "
                  f"inputs with {spatial} spatial dimensions, a channel dimension and an "
                  f"optional batch dimension ({spatial + 1}-D or {spatial + 2}-D). Use "
                  "dropout instead to keep this behaviour without the warning (as PyTorch "
                  "warns).", UserWarning, stacklevel=3)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Drop whole channels of ``(N, C, L)`` (or unbatched ``(C, L)``) inputs: each channel
    is zeroed with probability ``p``, the rest scaled by ``1 / (1 - p)``.

    >>> _ = shendu.manual_seed(0)
    >>> y = shendu.nn.functional.dropout1d(shendu.ones(6, 4), 0.5)
    >>> bool((y.amin(1) == y.amax(1)).all())   # each row (channel) all 0 or all 2
    True
    """
    if isinstance(input, Tensor) and input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: expected a 2-D (C, L) or 3-D (N, C, L) input, got "
                           f"shape {input.shape}")
    if isinstance(input, Tensor) and input.ndim == 2:
        return _unbatched(_feature_dropout, input, p, training, "dropout1d")
    return _feature_dropout(input, p, training, "dropout1d")


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Drop whole channels of ``(N, C, H, W)`` inputs (PyTorch 2.x's rules for other
    ranks, with its warnings: a 3-D input is read as ``(N, C, L)``, a 2-D ``(N, C)``
    input drops single elements, as plain ``dropout``).

    >>> _ = shendu.manual_seed(0)
    >>> y = shendu.nn.functional.dropout2d(shendu.ones(2, 3, 4, 4), 0.5)
    >>> bool((y.amin((2, 3)) == y.amax((2, 3))).all())
    True
    """
    if isinstance(input, Tensor):
        if input.ndim not in (3, 4):
            _warn_rank("dropout2d", input.ndim, 2)
        elif input.ndim == 3:
            warnings.warn("dropout2d: received a 3-D input; as PyTorch does, it is read as "
                          "(N, C, L) and whole (sample, channel) rows are dropped. Use "
                          "dropout1d for that, or add the batch axis for (C, H, W).",
                          UserWarning, stacklevel=2)
    return _feature_dropout(input, p, training, "dropout2d")


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Drop whole channels of ``(N, C, D, H, W)`` (or unbatched ``(C, D, H, W)``) inputs
    (other ranks warn, as in PyTorch, and are read as unbatched)."""
    if isinstance(input, Tensor):
        if input.ndim not in (4, 5):
            _warn_rank("dropout3d", input.ndim, 3)
        if input.ndim != 5:
            return _unbatched(_feature_dropout, input, p, training, "dropout3d")
    return _feature_dropout(input, p, training, "dropout3d")


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for self-normalizing (SELU) networks: dropped elements are set to SELU's
    saturation value and the result is scaled and shifted so the mean and variance of
    the input are kept (PyTorch's formula). Identity when ``training=False``.

    >>> shendu.nn.functional.alpha_dropout(shendu.ones(3), 0.5, training=False)
    tensor([1., 1., 1.])
    """
    _check_p(p, "alpha_dropout")
    _check_input(input, "alpha_dropout")
    if not training or p == 0.0:
        return input
    xp = input.xp
    if p == 1.0:
        return MaskedScale.apply(input, xp.zeros(input.shape, input.dtype), None)
    gen = backend.default_generator(xp)
    keep = (gen.random(input.shape) >= p).astype(input.dtype)
    a = 1.0 / np.sqrt((_ALPHA_PRIME ** 2 * p + 1) * (1 - p))
    # kept: a * x + a * alpha' * p;  dropped: -a * alpha' + a * alpha' * p
    shift = ((keep - 1) * (_ALPHA_PRIME * a) + _ALPHA_PRIME * a * p).astype(input.dtype)
    return MaskedScale.apply(input, (keep * a).astype(input.dtype), shift)
