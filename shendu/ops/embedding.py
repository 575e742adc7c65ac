"""``embedding``: rows of a weight matrix picked by integer ids (``nn.Embedding``).

The backward adds each output gradient into the row it came from; ids that repeat
accumulate. That scatter-add is one ``add.at`` over the flat positions
``row * dim + column``.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["embedding"]


def _scatter_rows(xp, g, indices, num_embeddings, padding_idx):
    """dW of shape (num_embeddings, D): dW[k] = sum of g[p] over positions p with
    indices[p] == k; the padding row stays 0."""
    dim = g.shape[-1]
    dw = xp.zeros((num_embeddings, dim), dtype=g.dtype)  # returned as is: the engine
    # keeps a fresh array (no base) as .grad without copying it
    # add.at on the flat (row * dim + column) positions: NumPy 2's fast 1-D path (about
    # 10x faster than add.at over rows, 2x faster than bincount); CuPy has add.at too
    flat = (indices.reshape(-1, 1) * dim + xp.arange(dim)).reshape(-1)
    xp.add.at(dw.reshape(-1), flat, g.reshape(-1))
    if padding_idx is not None:
        dw[padding_idx] = 0
    return dw


class Embedding(Function):
    """y[p] = W[idx[p]];   dL/dW[k] = sum_{p : idx[p] = k} g[p]   (0 for padding_idx)

    With ``scale_grad_by_freq`` each g[p] is first divided by how often idx[p] occurs in
    the batch, so a frequent id does not get a gradient many times the size of a rare one.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq=False):
        ctx.indices = indices
        ctx.num_embeddings = weight.shape[0]
        ctx.padding_idx = padding_idx
        ctx.inverse_counts = None
        if scale_grad_by_freq:  # 1 / count of each position's id: (..., 1)
            counts = ctx.xp.bincount(indices.reshape(-1), minlength=weight.shape[0])
            ctx.inverse_counts = (1.0 / counts[indices])[..., None].astype(weight.dtype)
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        if ctx.inverse_counts is not None:
            inv = ctx.inverse_counts
            g = g * (Tensor._make(inv) if isinstance(g, Tensor) else inv)
        if isinstance(g, Tensor):  # double backward: the scatter is itself differentiable
            return EmbeddingBackward.apply(g, ctx.indices, ctx.num_embeddings,
                                           ctx.padding_idx), None, None, None
        return (_scatter_rows(ctx.xp, g, ctx.indices, ctx.num_embeddings, ctx.padding_idx),
                None, None, None)


class EmbeddingBackward(Function):
    """dW = scatter-add of g into rows idx;   its own gradient: gg[idx] (0 at padding)"""
    double_backward = True

    @staticmethod
    def forward(ctx, g, indices, num_embeddings, padding_idx):
        ctx.indices = indices
        ctx.padding_idx = padding_idx
        return _scatter_rows(ctx.xp, g, indices, num_embeddings, padding_idx)

    @staticmethod
    def backward(ctx, gg):
        idx, pad = ctx.indices, ctx.padding_idx
        if isinstance(gg, Tensor):
            out = Embedding.apply(gg, idx, None)
        else:
            out = gg[idx]
        if pad is not None:  # the padding row never received anything
            keep = (idx != pad)[..., None].astype(gg.dtype)
            out = out * (Tensor._make(keep) if isinstance(gg, Tensor) else keep)
        return out, None, None, None


def _renorm_rows_(weight, idx, max_norm, norm_type):
    """In place, without recording a graph: every row of ``weight`` that ``idx`` uses and
    whose ``norm_type``-norm exceeds ``max_norm`` is scaled to norm ``max_norm`` (times
    ``max_norm / (norm + 1e-7)``, as PyTorch's ``embedding_renorm_``)."""
    xp = weight.xp
    rows = xp.unique(idx.reshape(-1))
    w = weight._data[rows]
    norms = xp.linalg.norm(w.astype(np.float64), ord=norm_type, axis=1)
    over = norms > max_norm
    if bool(over.any()):
        scale = (max_norm / (norms[over] + 1e-7)).astype(w.dtype)
        weight._data[rows[over]] = w[over] * scale[:, None]
    weight._version += 1  # an in-place change, whether or not a row moved (as PyTorch)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False):
    """Look up rows of ``weight``: ``weight[input]`` (PyTorch's ``F.embedding``).

    Parameters
    ----------
    input : integer Tensor of any shape (...), ids in ``0 .. num_embeddings - 1``
    weight : Tensor (num_embeddings, embedding_dim)
    padding_idx : int, optional
        The row for this id gets no gradient (it stays as initialized, usually 0).
    max_norm : float, optional
        Before the lookup, every row the input uses whose ``norm_type``-norm is above
        ``max_norm`` is rescaled, **in place in weight**, to norm ``max_norm``.
    norm_type : float, the p of the p-norm for ``max_norm`` (2: Euclidean; ``inf`` works)
    scale_grad_by_freq : bool
        Divide each position's gradient by how often its id occurs in ``input``.
    sparse : must be False: shendu has no sparse gradients (the gradient is a dense
        ``(num_embeddings, embedding_dim)`` array, which every optimizer takes)

    Returns
    -------
    Tensor (..., embedding_dim)

    >>> w = shendu.tensor([[0.0, 0.0], [1.0, 2.0], [3.0, 4.0]])
    >>> shendu.nn.functional.embedding(shendu.tensor([[2, 1]]), w)
    tensor([[[3., 4.],
             [1., 2.]]])
    """
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        raise ValueError("embedding: weight must be a 2-D Tensor (num_embeddings, "
                         f"embedding_dim), got {getattr(weight, 'shape', type(weight).__name__)}")
    idx = input._data if isinstance(input, Tensor) else weight.xp.asarray(input)
    n = weight.shape[0]
    if idx.dtype.kind not in "iu":
        raise TypeError(f"embedding: indices must be an integer tensor (token ids), got "
                        f"{idx.dtype}; convert them with .long()")
    if idx.size:
        lo, hi = int(idx.min()), int(idx.max())
        if lo < 0 or hi >= n:
            bad = lo if lo < 0 else hi
            raise IndexError(f"embedding: index {bad} is out of range for an embedding with "
                             f"num_embeddings={n} (valid ids are 0..{n - 1}, the largest id "
                             f"in the input is {hi})")
    if padding_idx is not None:
        if not -n <= padding_idx < n:
            raise ValueError(f"embedding: padding_idx {padding_idx} must be within "
                             f"num_embeddings={n}")
        padding_idx = int(padding_idx) % n
    if sparse:
        raise NotImplementedError("embedding: sparse=True (sparse gradients) is not supported "
                                  "by shendu; leave sparse=False: the dense gradient works "
                                  "with every optimizer")
    if max_norm is not None:
        if not max_norm > 0:
            raise ValueError(f"embedding: max_norm must be positive, got {max_norm}")
        _renorm_rows_(weight, idx, float(max_norm), float(norm_type))
    return Embedding.apply(weight, idx, padding_idx, bool(scale_grad_by_freq))
