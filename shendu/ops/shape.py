"""Shape ops: reshape, transpose, squeeze, expand, cat/stack/split, pad, tril...

None of these compute anything: each moves or copies elements, so each backward
moves the gradient back to where its element came from (reshape back, transpose
with the inverse permutation, sum over broadcast axes, slice out the pad...).
Every backward is written with ops that have gradients themselves, so all of
them support double backward.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["reshape", "view"]


def _as_tensor(x, name):
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype") or isinstance(x, (list, tuple, int, float)):
        return Tensor(x)
    raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")


def _sizes(args, name):
    """``f(x, 2, 3)`` and ``f(x, (2, 3))`` both give ``(2, 3)``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    elif len(args) == 1 and hasattr(args[0], "shape") and getattr(args[0], "ndim", 0) == 1:
        args = tuple(args[0].tolist())
    out = []
    for s in args:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{name}: sizes must be integers, got {tuple(args)}")
        out.append(int(s))
    return tuple(out)


# ----------------------------------------------------------------------- reshape
class Reshape(Function):
    """y = x viewed with a new shape (same elements, row-major order);
    dL/dx = g reshaped back to x's shape."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def _resolve_shape(in_shape, shape, name="reshape"):
    """``shape`` with its ``-1`` filled in; a readable error when sizes disagree."""
    n = 1
    for s in in_shape:
        n *= s
    known, unknown = 1, []
    for i, s in enumerate(shape):
        if s == -1:
            unknown.append(i)
        elif s < 0:
            raise ValueError(f"{name}: invalid size {s} in shape {shape} (sizes must be "
                             "non-negative, or -1 for one inferred size)")
        else:
            known *= s
    if len(unknown) > 1:
        raise ValueError(f"{name}: only one dimension can be -1 (inferred), got shape {shape}")

    def fail():
        raise ValueError(f"{name}: cannot reshape a tensor of shape {tuple(in_shape)} "
                         f"({n} elements) into {shape}")
    if unknown:
        if known == 0 or n % known:
            fail()
        shape = shape[:unknown[0]] + (n // known,) + shape[unknown[0] + 1:]
    elif known != n:
        fail()
    return shape


def reshape(x, *shape):
    """The same elements (row-major order) in a new shape.

    Parameters
    ----------
    x : Tensor
    *shape : ints, or one tuple of ints; one of them may be ``-1`` (inferred).

    ``view`` is the same function (shendu has no separate strided views).

    >>> x = shendu.arange(6.0)
    >>> x.reshape(2, 3).shape, shendu.reshape(x, (3, -1)).shape
    ((2, 3), (3, 2))
    """
    x = _as_tensor(x, "reshape")
    shape = _sizes(shape, "reshape")
    in_shape = x.data.shape
    if shape == in_shape:
        return Reshape.apply(x, shape)
    return Reshape.apply(x, _resolve_shape(in_shape, shape))


view = reshape
