"""Position information and normalization for Transformers: ``SinusoidalPositionalEncoding``,
``LearnedPositionalEmbedding``, ``RMSNorm`` (and its function ``rms_norm``).

Attention by itself does not know the order of its inputs; a positional encoding adds
to each position's vector a pattern that identifies the position. The sinusoidal one of
"Attention Is All You Need" is fixed::

    PE[pos, 2i]     = sin(pos / 10000^(2i / d_model))
    PE[pos, 2i + 1] = cos(pos / 10000^(2i / d_model))

the learned one (GPT) is a trained table of one vector per position. Both take an
``offset`` so that incremental decoding (with ``nn.KVCache``) can add the encodings of
positions ``offset .. offset + L - 1``.

>>> import shendu
>>> from shendu import nn
>>> pe = nn.SinusoidalPositionalEncoding(d_model=8, max_len=100, batch_first=True)
>>> pe(shendu.zeros(2, 5, 8)).shape
(2, 5, 8)
>>> nn.RMSNorm(8)(shendu.randn(2, 5, 8)).shape
(2, 5, 8)
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..ops import creation, rsqrt
from ..ops.dropout import dropout as _dropout
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["SinusoidalPositionalEncoding", "LearnedPositionalEmbedding", "RMSNorm",
           "rms_norm"]


def _positions(owner, x, offset, max_len, batch_first):
    """The sequence length of ``x`` ((L, N, E), (N, L, E) or unbatched (L, E)) and the
    shape its encodings broadcast as, after checking they fit in the table."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{owner}: expected a Tensor, got {type(x).__name__}")
    if x.ndim not in (2, 3):
        raise ValueError(f"{owner}: expected (L, N, E), (N, L, E) with batch_first, or (L, E) "
                         f"input, got shape {x.shape}")
    seq_axis = 1 if (batch_first and x.ndim == 3) else 0
    length = x.shape[seq_axis]
    if not isinstance(offset, numbers.Integral) or offset < 0:
        raise ValueError(f"{owner}: offset must be a non-negative integer, got {offset!r}")
    if offset + length > max_len:
        raise ValueError(f"{owner}: positions {offset}..{offset + length - 1} exceed max_len="
                         f"{max_len}; build it with a larger max_len")
    shape = (length, x.shape[-1]) if x.ndim == 2 or batch_first else (length, 1, x.shape[-1])
    return length, shape


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sinusoidal encodings of "Attention Is All You Need" (see the module
    docstring), then dropout.

    Parameters
    ----------
    d_model : int, the features of each position E
    max_len : int, default 5000, the longest sequence (the table's rows)
    dropout : float, default 0.0, dropout after the addition (training only)
    batch_first : bool, default False: inputs ``(L, N, E)``; True: ``(N, L, E)``;
        unbatched ``(L, E)`` works either way
    base : float, default 10000.0

    The table is the non-persistent buffer ``pe`` ``(max_len, d_model)``: it moves with
    ``.to()`` but is not saved in ``state_dict`` (it is recomputed on construction).
    Call ``pe(x, offset=0)``: adds the encodings of positions ``offset .. offset + L - 1``.

    >>> pe = nn.SinusoidalPositionalEncoding(4, max_len=10)
    >>> pe.pe[1]                      # sin(1), cos(1), sin(1/100), cos(1/100)
    tensor([0.8415, 0.5403, 0.0100, 0.9999])
    """

    def __init__(self, d_model, max_len=5000, dropout=0.0, batch_first=False, base=10000.0,
                 device=None, dtype=None):
        super().__init__()
        if not isinstance(d_model, numbers.Integral) or d_model <= 0:
            raise ValueError(f"SinusoidalPositionalEncoding: d_model must be a positive "
                             f"integer, got {d_model!r}")
        self.d_model, self.max_len, self.p, self.batch_first = d_model, max_len, dropout, \
            batch_first
        position = np.arange(max_len, dtype=np.float64)[:, None]
        rate = np.exp(np.arange(0, d_model, 2, dtype=np.float64) * (-math.log(base) / d_model))
        table = np.zeros((max_len, d_model))
        table[:, 0::2] = np.sin(position * rate)
        table[:, 1::2] = np.cos(position * rate[:d_model // 2])
        pe = creation.tensor(table, dtype=backend.to_dtype(dtype), device=device)
        self.register_buffer("pe", pe, persistent=False)

    def forward(self, x, offset=0):
        name = f"SinusoidalPositionalEncoding(d_model={self.d_model})"
        if isinstance(x, Tensor) and x.ndim and x.shape[-1] != self.d_model:
            raise ValueError(f"{name} got input of shape {x.shape}: expected {self.d_model} "
                             "features in the last dimension")
        length, shape = _positions(name, x, offset, self.max_len, self.batch_first)
        table = self.pe._data[offset:offset + length]
        if table.dtype != x.dtype:
            table = table.astype(x.dtype)
        x = x + Tensor._make(table.reshape(shape))
        return _dropout(x, self.p, self.training) if self.p else x

    def extra_repr(self):
        return (f"d_model={self.d_model}, max_len={self.max_len}, dropout={self.p}, "
                f"batch_first={self.batch_first}")


class LearnedPositionalEmbedding(Module):
    """Adds a learned vector per position (GPT's position embedding), then dropout.

    Parameters
    ----------
    max_len : int, the number of positions (the longest sequence)
    d_model : int, the features of each position
    dropout : float, default 0.0
    batch_first : bool, default False: inputs ``(L, N, E)``; True: ``(N, L, E)``
    std : float, default 0.02, the initial weights are N(0, std^2) (GPT-2's choice)

    Attributes: ``weight`` Parameter ``(max_len, d_model)``. Call ``emb(x, offset=0)``.

    >>> emb = nn.LearnedPositionalEmbedding(16, 8, batch_first=True)
    >>> emb(shendu.zeros(2, 5, 8)).shape
    (2, 5, 8)
    """

    def __init__(self, max_len, d_model, dropout=0.0, batch_first=False, std=0.02,
                 device=None, dtype=None):
        super().__init__()
        self.max_len, self.d_model, self.p, self.batch_first = max_len, d_model, dropout, \
            batch_first
        self.std = std
        self.weight = Parameter(creation.empty(max_len, d_model, dtype=backend.to_dtype(dtype),
                                               device=device))
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight, 0.0, self.std)

    def forward(self, x, offset=0):
        name = f"LearnedPositionalEmbedding(max_len={self.max_len}, d_model={self.d_model})"
        if isinstance(x, Tensor) and x.ndim and x.shape[-1] != self.d_model:
            raise ValueError(f"{name} got input of shape {x.shape}: expected {self.d_model} "
                             "features in the last dimension")
        length, shape = _positions(name, x, offset, self.max_len, self.batch_first)
        x = x + self.weight[offset:offset + length].reshape(shape)
        return _dropout(x, self.p, self.training) if self.p else x

    def extra_repr(self):
        return (f"max_len={self.max_len}, d_model={self.d_model}, dropout={self.p}, "
                f"batch_first={self.batch_first}")


def _normalized_shape(normalized_shape):
    if isinstance(normalized_shape, numbers.Integral):
        return (int(normalized_shape),)
    return tuple(normalized_shape)


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Root-mean-square normalization over the last ``len(normalized_shape)`` dimensions
    (PyTorch's ``F.rms_norm``, Zhang & Sennrich 2019)::

        y = x / sqrt(mean(x^2) + eps) * weight

    No mean is subtracted (unlike layer_norm). ``eps`` None: the machine epsilon of the
    input's dtype (PyTorch's default). Built from differentiable ops, so second
    derivatives work.

    >>> F.rms_norm(shendu.tensor([[3.0, 4.0]]), (2,))
    tensor([[0.8485, 1.1314]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"rms_norm: expected a Tensor input, got {type(input).__name__}")
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[-k:] != shape:
        raise ValueError(f"rms_norm: expected an input whose last dimensions are {shape} "
                         f"(normalized_shape), got shape {input.shape}")
    if weight is not None and weight.shape != shape:
        raise ValueError(f"rms_norm: weight must have shape {shape}, got {weight.shape}")
    if eps is None:
        eps = float(np.finfo(input.dtype).eps)
    axes = tuple(range(input.ndim - k, input.ndim))
    y = input * rsqrt((input * input).mean(dim=axes, keepdim=True) + eps)
    return y if weight is None else y * weight


class RMSNorm(Module):
    """Root-mean-square layer normalization (PyTorch's ``nn.RMSNorm``): each sample is
    divided by the root mean square of its last dimensions ``normalized_shape``, then
    scaled elementwise by ``weight`` (starts at 1). See ``rms_norm``.

    Parameters
    ----------
    normalized_shape : int or tuple, the trailing shape, e.g. ``d_model``
    eps : float or None (the dtype's machine epsilon)
    elementwise_affine : bool, default True, learn ``weight``
    """

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, device=None,
                 dtype=None):
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(creation.empty(self.normalized_shape,
                                                   dtype=backend.to_dtype(dtype), device=device))
        else:
            self.register_parameter("weight", None)
        self.reset_parameters()

    def reset_parameters(self):
        if self.weight is not None:
            init.ones_(self.weight)

    def forward(self, x):
        shape = self.normalized_shape
        if isinstance(x, Tensor) and x.shape[len(x.shape) - len(shape):] != shape:
            raise ValueError(f"RMSNorm({shape}) got input of shape {x.shape}: expected its "
                             f"last dimensions to be {shape}")
        return rms_norm(x, shape, self.weight, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
