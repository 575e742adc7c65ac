"""Joining and splitting: cat/concatenate, stack, split, chunk, unbind.

Joining puts the inputs side by side, so each input's gradient is the slice of the
output's gradient where it landed; splitting is the inverse, so its backward joins
the pieces' gradients again. Every backward is written with ops that have gradients
themselves, so all of them support double backward.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .shape import Reshape, _as_tensor, _dim, _pick_dim, _sizes

__all__ = ["cat", "concatenate", "concat", "stack", "split", "chunk", "unbind"]


# ----------------------------------------------------------------------- joining
class Cat(Function):
    """y = the inputs joined along ``dim``;  dL/dx_k = the slice of g where x_k landed."""
    double_backward = True

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.bounds = np.cumsum([0] + [a.shape[dim] for a in xs]).tolist()
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.dim
        b = ctx.bounds
        return tuple(g[lead + (slice(b[i], b[i + 1]),)] if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


def _tensors(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}: expected a list or tuple of tensors, got a single Tensor; "
                        "wrap it in a list")
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not ts:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    return ts


def cat(tensors, dim=None, *, axis=None):
    """Join tensors along an existing dimension ``dim`` (default 0); every other dimension
    must match. ``concatenate`` is the same function.

    >>> shendu.cat([shendu.zeros(2, 3), shendu.ones(1, 3)]).shape
    (3, 3)
    """
    ts = _tensors(tensors, "cat")
    dim = _pick_dim(dim, axis, "cat", 0)
    ref = ts[0].shape
    if not ref:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack, "
                         "or unsqueeze them first")
    d = _dim(dim, len(ref), "cat")
    for k, t in enumerate(ts[1:], 1):
        s = t.shape
        if len(s) != len(ref) or s[:d] != ref[:d] or s[d + 1:] != ref[d + 1:]:
            raise ValueError(f"cat: tensor {k} has shape {s} but tensor 0 has shape {ref}; "
                             f"they must match in every dimension except dim {d}")
    if len(ts) == 1:
        return Reshape.apply(ts[0], ref)
    return Cat.apply(*ts, dim=d)


concatenate = concat = cat


class Stack(Function):
    """y = the inputs stacked along a new dimension ``dim``;  dL/dx_k = g[..., k, ...]."""
    double_backward = True

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return ctx.xp.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.dim
        return tuple(g[lead + (k,)] if need else None
                     for k, need in enumerate(ctx.needs_input_grad))


def stack(tensors, dim=None, *, axis=None):
    """Join same-shaped tensors along a new dimension ``dim`` (default 0).

    >>> shendu.stack([shendu.zeros(2, 3), shendu.ones(2, 3)], dim=1).shape
    (2, 2, 3)
    """
    ts = _tensors(tensors, "stack")
    dim = _pick_dim(dim, axis, "stack", 0)
    ref = ts[0].shape
    for k, t in enumerate(ts[1:], 1):
        if t.shape != ref:
            raise ValueError(f"stack: tensor {k} has shape {t.shape} but tensor 0 has shape "
                             f"{ref}; all must have the same shape")
    return Stack.apply(*ts, dim=_dim(dim, len(ref), "stack", 1))


# ----------------------------------------------------------------------- splitting
class Split(Function):
    """(y_1, ..., y_k) = consecutive slices of x along ``dim``;
    dL/dx = the gradients of the pieces joined back along ``dim``."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, bounds, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.concatenate(grads, axis=ctx.dim), None, None


def split(x, split_size_or_sections, dim=0):
    """Cut ``x`` into pieces along ``dim``: of ``split_size`` each (the last may be smaller),
    or of the sizes listed. Returns a tuple of tensors.

    >>> [p.shape for p in shendu.zeros(5, 2).split(2)]
    [(2, 2), (2, 2), (1, 2)]
    >>> [p.shape for p in shendu.zeros(5, 2).split([1, 4])]
    [(1, 2), (4, 2)]
    """
    x = _as_tensor(x, "split")
    d = _dim(dim, x.ndim, "split")
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor cannot be split")
    n = x.shape[d]
    s = split_size_or_sections
    if isinstance(s, (int, np.integer)):
        if s <= 0 and not (s == 0 and n == 0):
            raise ValueError(f"split: split_size must be a positive integer, got {s}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else [0]
    else:
        sizes = list(_sizes((s,), "split"))
        if sum(sizes) != n or any(v < 0 for v in sizes):
            raise ValueError(f"split: sizes {tuple(sizes)} must be non-negative and sum exactly "
                             f"to {n} (the size of dimension {d} of the tensor of shape {x.shape})")
    if not sizes:
        sizes = [0]
    return _split(x, sizes, d)



def _split(x, sizes, d):
    bounds = np.cumsum([0] + list(sizes)).tolist()
    out = Split.apply(x, bounds, d)
    return out if isinstance(out, tuple) else (out,)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` along ``dim`` (PyTorch's rule:
    the last may be smaller, and fewer pieces come back when ``n`` runs out).

    >>> [p.shape for p in shendu.zeros(5).chunk(3)]
    [(2,), (2,), (1,)]
    """
    x = _as_tensor(x, "chunk")
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    d = _dim(dim, x.ndim, "chunk")
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d tensor cannot be chunked")
    n = x.shape[d]
    if n == 0:
        return _split(x, [0] * chunks, d)
    size = -(-n // chunks)
    return split(x, int(size), d)


class Unbind(Function):
    """(y_0, ..., y_{n-1}) = x[..., k, ...] along ``dim``;  dL/dx = the gradients stacked."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (k,)] for k in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.stack(grads, axis=ctx.dim), None


def unbind(x, dim=0):
    """The slices of ``x`` along ``dim``, that dimension removed, as a tuple.

    >>> [r.tolist() for r in shendu.tensor([[1.0, 2.0], [3.0, 4.0]]).unbind()]
    [[1.0, 2.0], [3.0, 4.0]]
    """
    x = _as_tensor(x, "unbind")
    if x.ndim == 0:
        raise ValueError("unbind: a 0-d tensor has no dimension to unbind")
    d = _dim(dim, x.ndim, "unbind")
    if x.shape[d] == 0:
        return ()
    out = Unbind.apply(x, d)
    return out if isinstance(out, tuple) else (out,)
