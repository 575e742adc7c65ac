"""``Embedding``: a lookup table of learned vectors, one row per token id.

>>> import shendu
>>> from shendu import nn
>>> emb = nn.Embedding(10, 3, padding_idx=0)
>>> emb(shendu.tensor([[1, 2, 0]])).shape
(1, 3, 3)
>>> emb.weight[0].tolist()                 # the padding row starts at 0
[0.0, 0.0, 0.0]
"""
from __future__ import annotations

from .. import backend
from ..autograd.grad_mode import no_grad
from ..ops import creation
from ..ops.embedding import embedding
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["Embedding"]


class Embedding(Module):
    """Maps integer ids of any shape ``(*)`` to vectors ``(*, embedding_dim)``.

    Parameters
    ----------
    num_embeddings : int, the vocabulary size (ids are 0 .. num_embeddings - 1)
    embedding_dim : int, the size of each vector
    padding_idx : int, optional
        The row of this id starts at zeros and gets no gradient (for padded batches).
    max_norm : float, optional
        At each forward, the rows looked up whose ``norm_type``-norm exceeds ``max_norm``
        are rescaled in place to norm ``max_norm`` (PyTorch's renormalization).
    norm_type : float, the p of that p-norm (default 2)
    scale_grad_by_freq : bool, divide each id's gradient by its count in the batch
    sparse : must be False (shendu's gradients are dense)
    _weight : Tensor (num_embeddings, embedding_dim), optional, initial values
    _freeze : bool, do not learn the weight

    Attributes
    ----------
    weight : Parameter (num_embeddings, embedding_dim), initialized from N(0, 1)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding: sparse=True (sparse gradients) is not "
                                      "supported by shendu; leave sparse=False: the dense "
                                      "gradient works with every optimizer")
        if max_norm is not None and not max_norm > 0:
            raise ValueError(f"Embedding: max_norm must be positive, got {max_norm}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within "
                                 f"num_embeddings={num_embeddings}")
            padding_idx = padding_idx % num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(creation.empty(num_embeddings, embedding_dim,
                                                   dtype=backend.to_dtype(dtype), device=device),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight must have shape ({num_embeddings}, "
                                 f"{embedding_dim}), got {tuple(_weight.shape)}")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq)

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """An Embedding holding ``embeddings`` (num_embeddings, embedding_dim), frozen
        unless ``freeze=False``."""
        if embeddings.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, got shape "
                             f"{tuple(embeddings.shape)}")
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse,
                   _weight=embeddings, _freeze=freeze)

    def extra_repr(self):
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s
