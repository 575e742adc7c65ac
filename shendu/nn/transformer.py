"""The Transformer (Vaswani et al. 2017): ``TransformerEncoderLayer``,
``TransformerDecoderLayer``, ``TransformerEncoder``, ``TransformerDecoder``,
``Transformer`` and ``generate_square_subsequent_mask``.

Layer names, arguments and the order of operations are PyTorch's, so a PyTorch
``state_dict`` loads as is and gives the same outputs (in evaluation mode, where
dropout is off). Each encoder layer computes, with ``norm_first=False`` (post-norm, the
paper's layout)::

    x = norm1(x + dropout1(self_attn(x, x, x)))
    x = norm2(x + dropout2(linear2(dropout(activation(linear1(x))))))

and with ``norm_first=True`` (pre-norm, easier to train deep)::

    x = x + dropout1(self_attn(norm1(x)))
    x = x + dropout2(linear2(dropout(activation(linear1(norm2(x))))))

A decoder layer adds cross-attention over the encoder's output ``memory``
(``multihead_attn``, ``norm2``, ``dropout2``) before the feed-forward block.

>>> import shendu
>>> from shendu import nn
>>> model = nn.Transformer(d_model=32, nhead=4, num_encoder_layers=2,
...                        num_decoder_layers=2, dim_feedforward=64, batch_first=True)
>>> src, tgt = shendu.randn(3, 10, 32), shendu.randn(3, 7, 32)
>>> mask = nn.Transformer.generate_square_subsequent_mask(7)
>>> model(src, tgt, tgt_mask=mask).shape
(3, 7, 32)
"""
from __future__ import annotations

import copy

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..ops import creation
from ..ops.activation import gelu, relu
from . import init
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .norm import LayerNorm

__all__ = ["Transformer", "TransformerEncoder", "TransformerDecoder",
           "TransformerEncoderLayer", "TransformerDecoderLayer",
           "generate_square_subsequent_mask"]


def generate_square_subsequent_mask(sz, device=None, dtype=None):
    """The causal mask ``(sz, sz)``: 0 on and below the diagonal, ``-inf`` above it, so
    position i attends to positions 0..i only (a float mask, added to the scores).

    >>> nn.Transformer.generate_square_subsequent_mask(3)
    tensor([[  0., -inf, -inf],
            [  0.,   0., -inf],
            [  0.,   0.,   0.]])
    """
    dtype = backend.to_dtype(dtype)
    full = creation.full((sz, sz), float("-inf"), dtype=dtype, device=device)
    return Tensor._make(full.xp.triu(full._data, 1))


def _activation(activation):
    if isinstance(activation, str):
        if activation == "relu":
            return relu
        if activation == "gelu":
            return gelu
        raise ValueError(f"activation should be 'relu', 'gelu' or a callable, got {activation!r}")
    if not callable(activation):
        raise TypeError(f"activation should be 'relu', 'gelu' or a callable, got "
                        f"{type(activation).__name__}")
    return activation


def _detect_is_causal_mask(mask, is_causal=None, size=None):
    """``is_causal`` if given, else whether ``mask`` is exactly the causal mask (PyTorch's
    rule: the hint then lets attention skip the mask)."""
    if is_causal is not None or mask is None:
        return bool(is_causal)
    data = mask._data if isinstance(mask, Tensor) else mask
    sz = size if size is not None else data.shape[-2]
    if tuple(data.shape) != (sz, sz):
        return False
    xp = backend.get_array_module(data)
    causal = xp.triu(xp.ones((sz, sz), dtype=bool), 1)
    if data.dtype == np.bool_:
        return bool((data == causal).all())
    return bool(((data == -np.inf) == causal).all() and (data[~causal] == 0).all())


def _seq_len(src, batch_first):
    if src.ndim == 2:
        return src.shape[0]
    return src.shape[1 if batch_first else 0]


def _layer_norm(d_model, eps, bias, device, dtype):
    return LayerNorm(d_model, eps=eps, bias=bias, device=device, dtype=dtype)


class TransformerEncoderLayer(Module):
    """Self-attention then a feed-forward block, each with a residual connection and
    layer norm (PyTorch's ``nn.TransformerEncoderLayer``; see the module docstring).

    Parameters
    ----------
    d_model : int, the features of each position
    nhead : int, attention heads (d_model must be divisible by nhead)
    dim_feedforward : int, default 2048, the hidden size of the feed-forward block
    dropout : float, default 0.1
    activation : "relu" (default), "gelu" or a callable (e.g. ``nn.GELU()``)
    layer_norm_eps : float, default 1e-5
    batch_first : bool, default False: ``(S, N, E)``; True: ``(N, S, E)``
    norm_first : bool, default False: post-norm; True: pre-norm
    bias : bool, default True, biases in the linear and layer-norm layers

    Call ``layer(src, src_mask=None, src_key_padding_mask=None, is_causal=False,
    cache=None)``; masks as in ``MultiheadAttention`` (bool True = may NOT attend), a
    ``KVCache`` for incremental decoding.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, device=device, dtype=dtype)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = _layer_norm(d_model, layer_norm_eps, bias, device, dtype)
        self.norm2 = _layer_norm(d_model, layer_norm_eps, bias, device, dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False,
                cache=None):
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal,
                                   cache)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal,
                                              cache))
            x = self.norm2(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal, cache):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal, cache=cache)[0]
        return self.dropout1(x)

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerDecoderLayer(Module):
    """Self-attention over the target, cross-attention over ``memory`` (the encoder's
    output), then a feed-forward block; each with a residual connection and layer norm
    (PyTorch's ``nn.TransformerDecoderLayer``). Parameters as ``TransformerEncoderLayer``.

    Call ``layer(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False,
    cache=None)``; ``cache`` (a ``KVCache``) holds the target's self-attention keys.
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=None):
        super().__init__()
        kw = dict(dropout=dropout, batch_first=batch_first, bias=bias, device=device,
                  dtype=dtype)
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, device=device, dtype=dtype)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, device=device, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = _layer_norm(d_model, layer_norm_eps, bias, device, dtype)
        self.norm2 = _layer_norm(d_model, layer_norm_eps, bias, device, dtype)
        self.norm3 = _layer_norm(d_model, layer_norm_eps, bias, device, dtype)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.dropout3 = Dropout(dropout)
        self.activation = _activation(activation)

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False,
                cache=None):
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask,
                                   tgt_is_causal, cache)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal,
                                              cache))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal, cache):
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           is_causal=is_causal, need_weights=False, cache=cache)[0]
        return self.dropout1(x)

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))


def _clones(module, n):
    return ModuleList([copy.deepcopy(module) for _ in range(n)])


def _check_cache(cache, n, name):
    if cache is None:
        return [None] * n
    if len(cache) != n:
        raise ValueError(f"{name}: cache must hold one KVCache per layer ({n}), got {len(cache)}")
    return cache


class TransformerEncoder(Module):
    """A stack of ``num_layers`` copies of ``encoder_layer`` (each with its own weights,
    all starting equal, as in PyTorch), then ``norm`` if given.

    Call ``encoder(src, mask=None, src_key_padding_mask=None, is_causal=None,
    cache=None)``: ``is_causal=None`` detects the causal mask; ``cache`` is a list of one
    ``KVCache`` per layer for incremental decoding (a decoder-only model, GPT-style).
    ``enable_nested_tensor`` and ``mask_check`` are accepted for compatibility (shendu has
    no nested tensors: padded positions are computed, not zeroed as PyTorch's inference
    fast path does).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None, cache=None):
        first = self.layers[0]
        batch_first = first.self_attn.batch_first if isinstance(
            first, TransformerEncoderLayer) else False
        is_causal = _detect_is_causal_mask(mask, is_causal, _seq_len(src, batch_first))
        caches = _check_cache(cache, len(self.layers), "TransformerEncoder")
        output = src
        for mod, c in zip(self.layers, caches):
            kw = {} if c is None else {"cache": c}
            output = mod(output, src_mask=mask, is_causal=is_causal,
                         src_key_padding_mask=src_key_padding_mask, **kw)
        if self.norm is not None:
            output = self.norm(output)
        return output


class TransformerDecoder(Module):
    """A stack of ``num_layers`` copies of ``decoder_layer``, then ``norm`` if given.

    Call ``decoder(tgt, memory, tgt_mask=None, memory_mask=None,
    tgt_key_padding_mask=None, memory_key_padding_mask=None, tgt_is_causal=None,
    memory_is_causal=False, cache=None)`` (``cache``: one ``KVCache`` per layer).
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False,
                cache=None):
        first = self.layers[0]
        batch_first = first.self_attn.batch_first if isinstance(
            first, TransformerDecoderLayer) else False
        tgt_is_causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal,
                                               _seq_len(tgt, batch_first))
        caches = _check_cache(cache, len(self.layers), "TransformerDecoder")
        output = tgt
        for mod, c in zip(self.layers, caches):
            kw = {} if c is None else {"cache": c}
            output = mod(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                         tgt_key_padding_mask=tgt_key_padding_mask,
                         memory_key_padding_mask=memory_key_padding_mask,
                         tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal, **kw)
        if self.norm is not None:
            output = self.norm(output)
        return output


class Transformer(Module):
    """The encoder-decoder Transformer of "Attention Is All You Need" (PyTorch's
    ``nn.Transformer``): an encoder of ``num_encoder_layers`` layers and a decoder of
    ``num_decoder_layers`` layers, each stack followed by a LayerNorm. Every weight
    matrix is Xavier-uniform initialized.

    Parameters
    ----------
    d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
    dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
    custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
    bias=True (see ``TransformerEncoderLayer``).

    Call ``model(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
    src_is_causal=None, tgt_is_causal=None, memory_is_causal=False)``: src ``(S, N, E)``,
    tgt ``(T, N, E)`` (``(N, S, E)``, ``(N, T, E)`` with batch_first), output like tgt.
    Embeddings, positional encodings and the output projection are the caller's.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=None):
        super().__init__()
        kw = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                  layer_norm_eps=layer_norm_eps, batch_first=batch_first, norm_first=norm_first,
                  bias=bias, device=device, dtype=dtype)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, **kw), num_encoder_layers,
                _layer_norm(d_model, layer_norm_eps, bias, device, dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, **kw), num_decoder_layers,
                _layer_norm(d_model, layer_norm_eps, bias, device, dtype))
        self._reset_parameters()
        self.d_model = d_model
        self.nhead = nhead
        self.batch_first = batch_first

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        batched = src.ndim == 3
        b = 0 if self.batch_first else 1
        if batched and src.shape[b] != tgt.shape[b]:
            raise ValueError(f"Transformer: src {src.shape} and tgt {tgt.shape} have different "
                             f"batch sizes (dimension {b}, batch_first={self.batch_first})")
        if src.shape[-1] != self.d_model or tgt.shape[-1] != self.d_model:
            raise ValueError(f"Transformer: the last dimension of src {src.shape} and tgt "
                             f"{tgt.shape} must be d_model={self.d_model}")
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)

    def _reset_parameters(self):
        """Xavier-uniform for every parameter with more than one dimension (PyTorch)."""
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)
