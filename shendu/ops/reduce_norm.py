"""Vector norms: norm (p = 2 or 'fro', 1, inf, -inf, 0, any other p) over ``dim``.

One Function per kind of p, each with its gradient; at the zero vector the gradient is
0 (a subgradient), as in PyTorch. ``dim``/``axis`` and ``keepdim``/``keepdims`` as in
``reduce.py``.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ._util import pick_keepdim
from .reduce import _as_tensor, _axes, _data, _float_only, _unsqueeze
from .reduce_minmax import _check_nonempty

__all__ = ["norm"]


# ----------------------------------------------------------------------- norm
class Norm2(Function):
    """n = sqrt(sum(x^2)) over ``axes``;   dL/dx = g * x / n   (0 where n == 0, the
    subgradient PyTorch uses, instead of 0/0)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        n = xp.sqrt(xp.asarray((x * x).sum(axis=axes, keepdims=keepdim)))
        ctx.save_for_backward(x, n)
        return n

    @staticmethod
    def backward(ctx, g):
        x, n = ctx.saved_tensors
        k = lambda t: _unsqueeze(t, ctx.shape, ctx.axes, ctx.keepdim)  # noqa: E731
        zero = (_data(n) == 0).astype(x.dtype)  # constant: x is 0 wherever n is
        return k(g) * x / k(n + zero), None, None


class NormP(Function):
    """n = (sum |x|^p)^(1/p);   dL/dx = g * sign(x) |x|^(p-1) / n^(p-1)   (0 where n == 0).
    For p = 1: g * sign(x)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, p):
        xp = ctx.xp
        ctx.shape, ctx.axes, ctx.keepdim, ctx.p = x.shape, axes, keepdim, p
        a = xp.abs(x)
        if p == 1:
            n = a.sum(axis=axes, keepdims=keepdim)
        else:
            n = (a ** p).sum(axis=axes, keepdims=keepdim) ** (1.0 / p)
        n = xp.asarray(n, dtype=x.dtype)
        ctx.save_for_backward(x, n)
        return n

    @staticmethod
    def backward(ctx, g):
        x, n = ctx.saved_tensors
        xp, p = ctx.xp, ctx.p
        k = lambda t: _unsqueeze(t, ctx.shape, ctx.axes, ctx.keepdim)  # noqa: E731
        if p == 1:
            return k(g) * xp.sign(x), None, None, None
        zero = (_data(n) == 0).astype(x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            return (k(g) * xp.sign(x) * xp.abs(x) ** (p - 1) / k(n + zero) ** (p - 1),
                    None, None, None)


class NormInf(Function):
    """n = max |x| (or min |x| for p = -inf);   dL/dx = g * sign(x) / k on the k elements
    where |x| == n (ties share evenly, as in PyTorch), 0 elsewhere."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        xp = ctx.xp
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        a = xp.abs(x)
        n = xp.asarray(a.max(axis=axes, keepdims=True) if largest
                       else a.min(axis=axes, keepdims=True))
        mask = a == n
        ctx.share = (mask / mask.sum(axis=axes, keepdims=True)).astype(x.dtype)
        ctx.save_for_backward(x)
        return n if keepdim else n.reshape(tuple(s for i, s in enumerate(x.shape)
                                                 if i not in axes))

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        k = _unsqueeze(g, ctx.shape, ctx.axes, ctx.keepdim)
        return k * ctx.xp.sign(x) * ctx.share, None, None, None


class NormZero(Function):
    """n = number of non-zero elements;   dL/dx = 0."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape = x.shape
        return ctx.xp.asarray((x != 0).sum(axis=axes, keepdims=keepdim), dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.zeros(ctx.shape, g.dtype), None, None


def norm(x, p="fro", dim=None, keepdim=False, *, axis=None, keepdims=None):
    """Vector p-norm of ``x`` over ``dim`` (all elements when ``None``).

    Parameters
    ----------
    p : ``'fro'`` or 2 (Euclidean, the default), 1, ``inf``, ``-inf``, 0 (count of
        non-zeros) or any other number: ``(sum |x|^p)^(1/p)``.
    dim, keepdim : as in :func:`sum`; a tuple of dims takes the norm over all of them.

    The gradient of the 2-norm at the zero vector is 0 (a subgradient), not nan,
    as in PyTorch. The matrix nuclear norm (``'nuc'``) is not implemented.

    >>> shendu.norm(shendu.tensor([3., 4.]))
    tensor(5.)
    >>> shendu.tensor([[3., -4.], [1., 1.]]).norm(p=1, dim=1)
    tensor([7., 2.])
    """
    x = _as_tensor(x, "norm")
    _float_only(x, "norm")
    axes = _axes(x, dim, axis, "norm")
    keep = pick_keepdim(keepdim, keepdims)
    if isinstance(p, str):
        if p != "fro":
            raise ValueError(f"norm: p={p!r} is not supported; use 'fro', a number, inf or -inf")
        p = 2
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"norm: p must be a number or 'fro', got {p!r}")
    p = float(p)
    if p == 2:
        return Norm2.apply(x, axes, keep)
    if p in (np.inf, -np.inf):
        _check_nonempty(x, axes, "norm")
        return NormInf.apply(x, axes, keep, p > 0)
    if p == 0:
        return NormZero.apply(x, axes, keep)
    return NormP.apply(x, axes, keep, p)
