"""Helpers shared by the loss functions (shendu/ops/loss*.py): reductions, input and
target checks, and the gradient of a reduction."""
from __future__ import annotations

import warnings

import numpy as np

from ..autograd.tensor import Tensor
from ._util import unbroadcast

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------- helpers
def _check_reduction(name, reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{name}: reduction must be {choices}, got {reduction!r}")


def _input(name, x, what="input"):
    """A floating-point Tensor (arrays and lists are wrapped)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be a floating-point tensor, got {x.dtype}; "
                        "convert it with .float()")
    return x


def _target(x, t):
    """A target as a Tensor of the input's dtype. A target that needs a gradient is kept
    as is; others are constants converted to the input's dtype, so float64 labels from
    NumPy do not turn a float32 loss into float64 (PyTorch would promote)."""
    if isinstance(t, Tensor) and (t.requires_grad or t.dtype == x.dtype):
        return t
    data = t._data if isinstance(t, Tensor) else x.xp.asarray(t)
    return Tensor._make(data.astype(x.dtype))


def _constant(x, w, what, name):
    """Weights as a constant array of ``x``'s dtype broadcastable to ``x`` (or None)."""
    if w is None:
        return None
    w = (w._data if isinstance(w, Tensor) else x.xp.asarray(w)).astype(x.dtype)
    try:
        shape = np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"{name}: {what} of shape {w.shape} does not broadcast to the "
                         f"input's shape {x.shape}")
    return w


def _pair_shape(name, x, t, stacklevel=3):
    """Warn (as PyTorch does) when the shapes differ but broadcast; raise when they don't."""
    sx, st = x.shape, t.shape
    if sx == st:
        return
    try:
        shape = np.broadcast_shapes(sx, st)
    except ValueError:
        raise ValueError(f"{name}: input {sx} and target {st} have different shapes that "
                         f"do not broadcast; give a target of shape {sx}") from None
    warnings.warn(f"{name}: input {sx} and target {st} have different shapes; they "
                  f"broadcast to {shape}, which is likely not what you want: reshape the "
                  f"target to {sx}", UserWarning, stacklevel=stacklevel)


def _input_and_target(name, input, target, reduction, stacklevel=4):
    """The checks most pointwise losses start with: ``reduction`` is valid, the input a
    floating-point Tensor, the target a Tensor of its dtype (warned about if its shape
    differs). Returns (input, target)."""
    _check_reduction(name, reduction)
    x = _input(name, input)
    t = _target(x, target)
    _pair_shape(name, x, t, stacklevel=stacklevel)
    return x, t


def _reduce(xp, loss, reduction, norm=None):
    """Apply ``reduction``; ``'mean'`` divides by ``norm`` (default: the element count)."""
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # empty input: nan, as PyTorch
            s = s / (loss.size if norm is None else norm)
    return xp.asarray(s, dtype=loss.dtype)


def _scale(g, reduction, norm):
    """The gradient of the reduction at each element: ``g`` or ``g / norm``."""
    return g / (norm or 1) if reduction == "mean" else g


def _reduce_tensor(loss, reduction):
    """``_reduce`` for losses composed of Tensor ops."""
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            s = s / loss.numel()
    return s


def _grads(ctx, gx, gy):
    """Sum broadcast gradients back to the two inputs' shapes."""
    sx, sy = ctx.shapes
    return (unbroadcast(gx, sx) if ctx.needs_input_grad[0] else None,
            unbroadcast(gy, sy) if ctx.needs_input_grad[1] else None)
