"""Multi-head attention (Vaswani et al. 2017): ``MultiheadAttention`` and ``KVCache``.

``MultiheadAttention`` has PyTorch's parameters, names, initialization, arguments and
return values, so a PyTorch ``state_dict`` loads as is and gives the same outputs::

    Q = query W_q^T + b_q,   K = key W_k^T + b_k,   V = value W_v^T + b_v
    head_i = softmax(Q_i K_i^T / sqrt(d_head) + mask) V_i       (i = 1 .. num_heads)
    output = concat(head_1, ..., head_h) W_o^T + b_o

The heads are computed together by one fused ``scaled_dot_product_attention``.
``KVCache`` keeps the keys and values of the positions already decoded, so generating
token t costs one query against t keys instead of a full pass over the prefix.

>>> import shendu
>>> from shendu import nn
>>> mha = nn.MultiheadAttention(embed_dim=16, num_heads=4, batch_first=True)
>>> x = shendu.randn(2, 5, 16)                       # (batch, length, embed_dim)
>>> out, weights = mha(x, x, x)
>>> out.shape, weights.shape                         # weights averaged over the heads
((2, 5, 16), (2, 5, 5))
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from ..ops import cat, creation, pad, split
from ..ops.attention import _attention
from ..ops.linear import Linear as _LinearFn
from . import init
from .linear import Linear
from .module import Module
from .parameter import Parameter

__all__ = ["MultiheadAttention", "KVCache", "NonDynamicallyQuantizableLinear"]


class NonDynamicallyQuantizableLinear(Linear):
    """``Linear`` under the class name PyTorch gives ``MultiheadAttention.out_proj``."""


class KVCache:
    """The keys and values of one attention layer for the positions decoded so far.

    Pass the same cache to every call of a layer during generation: each call appends
    its new keys and values (shape ``(N, num_heads, new, head_dim)``) and attends over
    all of them. ``len(cache)`` is the number of cached positions. Generation usually
    runs under ``shendu.no_grad()``; with gradients on, the cache stays in the graph.

    >>> mha = nn.MultiheadAttention(8, 2, batch_first=True).eval()
    >>> cache = nn.KVCache()
    >>> for t in range(3):                           # one new position per step
    ...     x = shendu.randn(1, 1, 8)
    ...     out, _ = mha(x, x, x, cache=cache, need_weights=False, is_causal=True)
    >>> len(cache)
    3
    """

    def __init__(self):
        self.key = None
        self.value = None

    def __len__(self):
        return 0 if self.key is None else self.key.shape[-2]

    def update(self, key, value):
        """Append ``key`` and ``value`` ``(N, H, new, head_dim)`` along the positions;
        return all cached keys and values."""
        if self.key is None:
            self.key, self.value = key, value
        else:
            if key.shape[:2] != self.key.shape[:2] or key.shape[-1] != self.key.shape[-1]:
                raise ValueError(f"KVCache: new keys of shape {key.shape} do not extend the "
                                 f"cached ones of shape {self.key.shape} (batch, heads and "
                                 "head_dim must match); call reset() for a new sequence")
            self.key = cat([self.key, key], dim=2)
            self.value = cat([self.value, value], dim=2)
        return self.key, self.value

    def reset(self):
        """Forget every cached position (start a new sequence)."""
        self.key = self.value = None

    def __repr__(self):
        shape = None if self.key is None else self.key.shape
        return f"KVCache(positions={len(self)}, key_shape={shape})"


def _positive_int(owner, name, v):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {v!r}")
    return int(v)


class MultiheadAttention(Module):
    """Multi-head attention, PyTorch's ``nn.MultiheadAttention``.

    Parameters
    ----------
    embed_dim : int, E, the model dimension (query features and output features)
    num_heads : int, H; E must be divisible by H (each head has E / H features)
    dropout : float, default 0.0, dropout on the attention weights (training only)
    bias : bool, default True, biases in the input and output projections
    add_bias_kv : bool, learn one extra key and value appended to the sequence
    add_zero_attn : bool, append a key and value of zeros
    kdim, vdim : int, default E, features of key and value
    batch_first : bool, default False: inputs ``(L, N, E)``; True: ``(N, L, E)``

    Parameters (attributes)
    -----------------------
    in_proj_weight : (3E, E), the stacked W_q, W_k, W_v (when kdim == vdim == E), else
        q_proj_weight (E, E), k_proj_weight (E, kdim), v_proj_weight (E, vdim);
        Xavier-uniform initialized
    in_proj_bias : (3E,), zeros;  out_proj : Linear(E, E) with a zero bias
    bias_k, bias_v : (1, 1, E) with ``add_bias_kv``, Xavier-normal

    Call ``mha(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False, cache=None)``:

    * query ``(L, N, E)`` / ``(N, L, E)`` / unbatched ``(L, E)``; key ``(S, N, kdim)``,
      value ``(S, N, vdim)`` in the same layout.
    * key_padding_mask ``(N, S)`` (or ``(S,)``): bool, True marks padding to ignore; or
      float, added to the scores.
    * attn_mask ``(L, S)`` or ``(N * H, L, S)``: bool, True where attending is NOT
      allowed (the opposite of ``F.scaled_dot_product_attention``); or float, added.
    * is_causal: a hint that attn_mask is the causal mask (it must then be given, as in
      PyTorch); with a ``cache`` it may be given alone and means "each new position sees
      every earlier one".
    * cache: a ``KVCache`` for incremental decoding (self-attention, no bias_kv/zero_attn).

    Returns ``(output, weights)``: output shaped like query (last dim E); weights
    ``(N, L, S)`` averaged over heads, ``(N, H, L, S)`` with
    ``average_attn_weights=False``, or None with ``need_weights=False`` (the faster
    path). A query whose keys are all masked gives NaN with ``need_weights=True`` and 0
    without, as in PyTorch.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=None):
        super().__init__()
        embed_dim = _positive_int("MultiheadAttention", "embed_dim", embed_dim)
        num_heads = _positive_int("MultiheadAttention", "num_heads", num_heads)
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads}); each head gets embed_dim / num_heads "
                             "features")
        if not isinstance(dropout, numbers.Real) or not 0 <= dropout <= 1:
            raise ValueError(f"MultiheadAttention: dropout must be in [0, 1], got {dropout!r}")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        dtype = backend.to_dtype(dtype)

        def empty(*shape):
            return Parameter(creation.empty(*shape, dtype=dtype, device=device))

        if not self._qkv_same_embed_dim:
            self.q_proj_weight = empty(embed_dim, embed_dim)
            self.k_proj_weight = empty(embed_dim, self.kdim)
            self.v_proj_weight = empty(embed_dim, self.vdim)
            self.register_parameter("in_proj_weight", None)
        else:
            self.in_proj_weight = empty(3 * embed_dim, embed_dim)
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        if bias:
            self.in_proj_bias = empty(3 * embed_dim)
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias,
                                                        device=device, dtype=dtype)
        if add_bias_kv:
            self.bias_k = empty(1, 1, embed_dim)
            self.bias_v = empty(1, 1, embed_dim)
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self):
        """PyTorch's initialization: Xavier-uniform input projections, zero biases."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
        if self.bias_v is not None:
            init.xavier_normal_(self.bias_v)

    def extra_repr(self):
        return (f"embed_dim={self.embed_dim}, num_heads={self.num_heads}, "
                f"dropout={self.dropout}, batch_first={self.batch_first}")

    # ---------------------------------------------------------------- forward
    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False, cache=None):
        name = f"MultiheadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"
        batched = self._check_inputs(query, key, value, key_padding_mask, name)
        bf = self.batch_first and batched  # the layout we compute in: (N, L, E) or (L, N, E)
        if not batched:  # (L, E) -> (L, 1, E), as PyTorch does
            query, key, value = _same_unsqueeze(query, key, value)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.reshape((1,) + tuple(key_padding_mask.shape))
        n = query.shape[0] if bf else query.shape[1]
        length = query.shape[1] if bf else query.shape[0]
        if cache is not None and (self.bias_k is not None or self.add_zero_attn):
            raise ValueError(f"{name}: a KVCache cannot be used with add_bias_kv or "
                             "add_zero_attn (the extra key would be cached at every step)")

        q, k, v = self._project(query, key, value)
        if self.bias_k is not None:
            if self.bias_v is None:
                raise ValueError(f"{name}: bias_k is set but bias_v is None")
            k = cat([k, self.bias_k.expand(*_bias_shape(n, bf, self.embed_dim))], dim=int(bf))
            v = cat([v, self.bias_v.expand(*_bias_shape(n, bf, self.embed_dim))], dim=int(bf))
        q, k, v = (_split_heads(t, self.num_heads, bf) for t in (q, k, v))
        cached = 0
        if cache is not None:
            cached = len(cache)
            k, v = cache.update(k, v)
        extra = int(self.bias_k is not None)
        if self.add_zero_attn:
            zeros = creation.zeros(n, self.num_heads, 1, self.head_dim, dtype=k.dtype,
                                   device=k.device)
            k, v = cat([k, zeros], dim=2), cat([v, zeros], dim=2)
            extra += 1
        source = k.shape[2] - extra  # keys the caller's masks describe

        kpm = _additive(key_padding_mask, q.dtype, "key_padding_mask", name)
        mask = _additive(attn_mask, q.dtype, "attn_mask", name)
        if is_causal and attn_mask is None and cache is None:
            raise RuntimeError(f"{name}: need attn_mask if specifying the is_causal hint (as "
                               "PyTorch); make one with "
                               "nn.Transformer.generate_square_subsequent_mask(L)")
        causal = False
        if is_causal and kpm is None and not need_weights:
            mask = None  # the hint replaces the mask, as PyTorch does
            causal = True
        elif is_causal and mask is None:  # only with a cache: build the mask it stands for
            mask = _causal_offset_mask(q.xp, length, source, q.dtype)
        if causal and cached:  # new positions see every cached one: bottom-right aligned
            mask, causal = _causal_offset_mask(q.xp, length, source, q.dtype), False
        if mask is not None:
            mask = self._check_attn_mask(mask, n, length, source, name)
        if kpm is not None:
            if tuple(kpm.shape) != (n, source):
                raise ValueError(f"{name}: key_padding_mask must have shape (N, S) = "
                                 f"{(n, source)}, got {tuple(kpm.shape)}")
            kpm = kpm.reshape(n, 1, 1, source)
        merged = _merge(mask, kpm)
        if merged is not None and extra:
            merged = _pad_last(merged, extra)

        p = self.dropout if self.training else 0.0
        out = _attention(q, k, v, merged, p, causal, None, False, not need_weights,
                         need_weights, name)
        weights = None
        if need_weights:
            out, weights = out
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights.squeeze(0)
        out = _LinearFn.apply(_merge_heads(out, bf), self.out_proj.weight, self.out_proj.bias)
        if not batched:
            out = out.squeeze(1)
        return out, weights

    def _check_inputs(self, query, key, value, key_padding_mask, name):
        for n, t in (("query", query), ("key", key), ("value", value)):
            if not isinstance(t, Tensor):
                raise TypeError(f"{name}: {n} must be a Tensor, got {type(t).__name__}")
        if query.ndim not in (2, 3):
            raise ValueError(f"{name}: query should be unbatched 2-D (L, E) or batched 3-D, "
                             f"got shape {query.shape}")
        if key.ndim != query.ndim or value.ndim != query.ndim:
            raise ValueError(f"{name}: query, key and value must all be {query.ndim}-D, got "
                             f"shapes {query.shape}, {key.shape} and {value.shape}")
        layout = "(N, L, E)" if self.batch_first else "(L, N, E)"
        for n, t, d in (("query", query, self.embed_dim), ("key", key, self.kdim),
                        ("value", value, self.vdim)):
            if t.shape[-1] != d:
                raise ValueError(f"{name}: {n} of shape {t.shape} must have {d} features in its "
                                 f"last dimension (inputs are {layout}"
                                 f"{', batch_first=True' if self.batch_first else ''})")
            if t.dtype != query.dtype:
                raise TypeError(f"{name}: query, key and value must have the same dtype, got "
                                f"{query.dtype} and {t.dtype}")
        w = self.out_proj.weight
        if query.dtype != w.dtype:
            raise TypeError(f"{name}: the input is {query.dtype} but the weights are {w.dtype}; "
                            f"convert one of them (x.to(shendu.{w.dtype}))")
        if key.shape[:-1] != value.shape[:-1]:
            raise ValueError(f"{name}: key and value must agree on all but the last dimension, "
                             f"got {key.shape} and {value.shape}")
        if query.ndim == 3:
            b = 0 if self.batch_first else 1
            if query.shape[b] != key.shape[b]:
                raise ValueError(f"{name}: query {query.shape} and key {key.shape} have different "
                                 f"batch sizes (dimension {b}, batch_first={self.batch_first})")
        if key_padding_mask is not None and not isinstance(key_padding_mask, Tensor):
            raise TypeError(f"{name}: key_padding_mask must be a Tensor, got "
                            f"{type(key_padding_mask).__name__}")
        if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
            raise ValueError(f"{name}: for a {query.ndim}-D query key_padding_mask must be "
                             f"{query.ndim - 1}-D ({'(N, S)' if query.ndim == 3 else '(S,)'}), "
                             f"got shape {key_padding_mask.shape}")
        return query.ndim == 3

    def _project(self, query, key, value):
        """The input projections, packed where the inputs are the same tensor."""
        e = self.embed_dim
        b = self.in_proj_bias
        bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
        if not self._qkv_same_embed_dim:
            return (_LinearFn.apply(query, self.q_proj_weight, bq),
                    _LinearFn.apply(key, self.k_proj_weight, bk),
                    _LinearFn.apply(value, self.v_proj_weight, bv))
        w = self.in_proj_weight
        if query is key and key is value:  # self-attention: one product for Q, K and V
            return split(_LinearFn.apply(query, w, b), e, dim=-1)
        if key is value:  # encoder-decoder attention: K and V from one product
            kv = _LinearFn.apply(key, w[e:], None if b is None else b[e:])
            return (_LinearFn.apply(query, w[:e], bq),) + tuple(split(kv, e, dim=-1))
        return (_LinearFn.apply(query, w[:e], bq), _LinearFn.apply(key, w[e:2 * e], bk),
                _LinearFn.apply(value, w[2 * e:], bv))

    def _check_attn_mask(self, mask, n, length, source, name):
        h = self.num_heads
        if mask.ndim == 2 and tuple(mask.shape) == (length, source):
            return mask
        if mask.ndim == 3 and tuple(mask.shape) == (n * h, length, source):
            return mask.reshape(n, h, length, source)
        raise ValueError(f"{name}: attn_mask must have shape (L, S) = {(length, source)} or "
                         f"(N * num_heads, L, S) = {(n * h, length, source)}, got "
                         f"{tuple(mask.shape)}")


def _same_unsqueeze(query, key, value):
    """Add the batch dimension at 1, keeping ``query is key`` (self-attention) intact."""
    q = query.unsqueeze(1)
    k = q if key is query else key.unsqueeze(1)
    v = k if value is key else (q if value is query else value.unsqueeze(1))
    return q, k, v


def _bias_shape(n, batch_first, e):
    return (n, 1, e) if batch_first else (1, n, e)


def _split_heads(x, heads, batch_first):
    """(N, L, E) or (L, N, E) -> (N, H, L, E / H), a view."""
    a, b, e = x.shape
    x = x.reshape(a, b, heads, e // heads)
    return x.permute(0, 2, 1, 3) if batch_first else x.permute(1, 2, 0, 3)


def _merge_heads(o, batch_first):
    """(N, H, L, D) -> (N, L, H * D) or (L, N, H * D)."""
    n, h, length, d = o.shape
    if batch_first:
        return o.permute(0, 2, 1, 3).reshape(n, length, h * d)
    return o.permute(2, 0, 1, 3).reshape(length, n, h * d)


def _additive(mask, dtype, what, name):
    """A mask as an additive float (-inf where attending is forbidden): a raw array, or a
    Tensor when it is a float mask that needs a gradient. Bool masks: True = forbidden."""
    if mask is None:
        return None
    if not isinstance(mask, Tensor):
        mask = Tensor(mask)
    if mask.dtype == np.bool_:
        return mask.xp.where(mask._data, dtype.type(-np.inf), dtype.type(0))
    if mask.dtype.kind != "f":
        raise TypeError(f"{name}: only bool and floating {what} are supported, got "
                        f"{mask.dtype}")
    if mask.requires_grad:
        return mask if mask.dtype == dtype else mask.to(dtype)
    return mask._data if mask.dtype == dtype else mask._data.astype(dtype)


def _causal_offset_mask(xp, length, source, dtype):
    """(L, S) additive mask where new position i (absolute position S - L + i) sees keys
    0 .. S - L + i: the causal mask for queries that come after cached keys."""
    return xp.triu(xp.full((length, source), -np.inf, dtype=dtype), source - length + 1)


def _merge(mask, kpm):
    if mask is None:
        return kpm
    if kpm is None:
        return mask
    if isinstance(mask, Tensor) or isinstance(kpm, Tensor):
        return _as_tensor(mask) + _as_tensor(kpm)
    return mask + kpm


def _as_tensor(m):
    return m if isinstance(m, Tensor) else Tensor._make(m)


def _pad_last(mask, extra):
    """A zero column per extra key (bias_kv, zero_attn): nothing masks them."""
    if isinstance(mask, Tensor):
        return pad(mask, (0, extra))
    widths = [(0, 0)] * (mask.ndim - 1) + [(0, extra)]
    return backend.get_array_module(mask).pad(mask, widths)
