"""Helpers shared by every op: undoing broadcasting, reading ``dim``/``axis`` arguments."""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor


def unbroadcast(g, shape):
    """Sum ``g`` over the axes broadcasting added or stretched, so it has ``shape``.

    If ``a`` of shape (3, 1) met ``b`` of shape (4,) the result is (3, 4); the gradient
    for ``a`` sums over axis 1 (stretched), the one for ``b`` over axis 0 (added).
    Works on arrays and on Tensors (double backward).
    """
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def shape_of(x):
    """Shape of an array or a Python number (``()``)."""
    return tuple(x.shape) if hasattr(x, "shape") else ()


def pick_axis(dim, axis, name="dim"):
    """Accept PyTorch's ``dim`` and NumPy's ``axis`` (one of them)."""
    if axis is not None:
        if dim is not None:
            raise TypeError(f"give either dim or axis, not both (got dim={dim}, axis={axis})")
        dim = axis
    if isinstance(dim, list):
        dim = tuple(dim)
    return dim


def pick_keepdim(keepdim, keepdims):
    """Accept PyTorch's ``keepdim`` and NumPy's ``keepdims``."""
    return bool(keepdims) if keepdims is not None else bool(keepdim)


def normalize_axes(axis, ndim, name="op"):
    """``axis`` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative
    axes; a clear IndexError when out of range."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"{name}: dimension {a} is out of range for a tensor with "
                             f"{ndim} dimensions (expected {-max(ndim, 1)}..{max(ndim, 1) - 1})")
        out.append(int(a) % max(ndim, 1))
    return tuple(sorted(set(out)))


def as_tensor(x, like=None):
    """A Tensor from a Tensor, array or number (numbers keep Python type for weak typing)."""
    if isinstance(x, Tensor):
        return x
    return Tensor(x, dtype=None if like is None else like.dtype)
