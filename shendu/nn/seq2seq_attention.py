"""Attention for RNN encoder-decoders: additive (Bahdanau) and multiplicative (Luong).

At each decoder step the query ``q`` (the decoder's hidden state) scores every encoder
output ``k_s`` (the keys), the scores become weights by a softmax over the source
positions, and the context vector is the weighted mean of the values (by default the
keys themselves)::

    score(q, k_s)                                 one number per source position s
    a_s = exp(score_s) / sum_s' exp(score_s')     the attention weights (sum to 1)
    context = sum_s a_s v_s

=========================  =====================================================
``BahdanauAttention``      ``v^T tanh(W_q q + W_k k_s)``  (additive, 2015)
``LuongAttention("dot")``  ``q . k_s``                    (needs equal sizes)
``LuongAttention("general")``  ``q . (W k_s)``
``LuongAttention("concat")``   ``v^T tanh(W [q; k_s])``
=========================  =====================================================

Both return ``(context, weights)``: plot ``weights`` (target steps x source positions)
to see which input characters each output character looked at.

Masks: ``mask`` is boolean, True at the positions that may be attended to (the real
tokens of a padded source; ``shendu.data.text.lengths_to_mask(lengths)`` makes one),
the convention of Keras and of PyTorch's boolean ``attn_mask``. Masked positions get
weight exactly 0; a query whose every position is masked gets all-zero weights and a
zero context (not NaN).

>>> import shendu
>>> from shendu import nn
>>> attn = nn.BahdanauAttention(query_size=16, key_size=32, hidden_size=24)
>>> keys = shendu.randn(4, 7, 32)                      # encoder outputs (N, S, Hk)
>>> context, weights = attn(shendu.randn(4, 16), keys)  # one decoder step (N, Hq)
>>> context.shape, weights.shape
((4, 32), (4, 7))
>>> context, weights = attn(shendu.randn(4, 5, 16), keys)  # all 5 steps at once
>>> context.shape, weights.shape
((4, 5, 32), (4, 5, 7))
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor
from .linear import Linear
from .module import Module

__all__ = ["BahdanauAttention", "LuongAttention"]


def _shape_error(who, what, expected, got):
    return ValueError(f"{who}: {what} must have shape {expected}, got {tuple(got)}")


def _check_inputs(who, query, keys, values, query_size, key_size, projected_keys=None):
    for name, t in (("query", query), ("keys", keys), ("values", values)):
        if t is not None and not isinstance(t, Tensor):
            raise TypeError(f"{who}: {name} must be a shendu.Tensor, got {type(t).__name__}")
    if query.ndim not in (2, 3) or query.shape[-1] != query_size:
        raise _shape_error(who, "query", f"(N, {query_size}) or (N, T, {query_size})",
                           query.shape)
    n = query.shape[0]
    if keys.ndim != 3 or keys.shape[0] != n or (key_size is not None
                                                and keys.shape[-1] != key_size):
        raise _shape_error(who, "keys (the encoder outputs)",
                           f"(N={n}, S, {key_size if key_size is not None else 'Hk'})",
                           keys.shape)
    if values is not None and (values.ndim != 3 or values.shape[:2] != keys.shape[:2]):
        raise _shape_error(who, "values", f"(N={n}, S={keys.shape[1]}, Hv) like the keys",
                           values.shape)
    if projected_keys is not None and projected_keys.shape[:2] != keys.shape[:2]:
        raise _shape_error(who, "projected_keys (from precompute(keys))",
                           f"(N={n}, S={keys.shape[1]}, H)", projected_keys.shape)


def _prepare_mask(who, mask, scores):
    """The mask as a boolean array shaped like ``scores`` (N, S) or (N, T, S)."""
    m = mask._data if isinstance(mask, Tensor) else mask
    xp = scores.xp
    m = xp.asarray(m)
    if m.dtype != np.bool_:
        raise TypeError(f"{who}: mask must be boolean (True = attend to this source "
                        f"position), got dtype {m.dtype}; lengths_to_mask(lengths) makes one")
    if m.ndim == 2 and scores.ndim == 3:
        m = m[:, None, :]  # one (N, S) mask for every target step
    try:
        shape = np.broadcast_shapes(m.shape, scores.shape)
    except ValueError:
        shape = None
    if shape != scores.shape:
        want = "(N, S)" + (" or (N, T, S)" if scores.ndim == 3 else "")
        raise ValueError(f"{who}: mask must have shape {want} = {scores.shape}, got "
                         f"{tuple(mask.shape)}")
    return xp.broadcast_to(m, scores.shape)


def _attend(who, scores, values, mask):
    """Masked softmax over the source axis, then the weighted sum of the values."""
    if mask is not None:
        m = _prepare_mask(who, mask, scores)
        # the most negative finite number, not -inf: a fully masked row stays finite
        # (uniform), and multiplying by `any_valid` then zeroes it instead of giving NaN
        scores = scores.masked_fill(Tensor._make(~m), float(np.finfo(scores.dtype).min))
        weights = scores.softmax(dim=-1)
        any_valid = m.any(axis=-1, keepdims=True)
        if not bool(any_valid.all()):
            weights = weights * Tensor._make(any_valid.astype(scores.dtype))
    else:
        weights = scores.softmax(dim=-1)
    if weights.ndim == 2:  # one query per sample: (N, 1, S) @ (N, S, Hv)
        context = (weights.unsqueeze(1) @ values).squeeze(1)
    else:                  # (N, T, S) @ (N, S, Hv)
        context = weights @ values
    return context, weights


class BahdanauAttention(Module):
    """Additive attention (Bahdanau, Cho & Bengio 2015)::

        score(q, k_s) = v^T tanh(W_q q + W_k k_s + b)

    Parameters
    ----------
    query_size : int, ``Hq``, the decoder's hidden size
    key_size : int, ``Hk``, the encoder output size (default ``query_size``; twice the
        hidden size for a bidirectional encoder)
    hidden_size : int, the size of the tanh layer (default ``query_size``)
    bias : bool, default True, the bias ``b`` (held by ``key_proj``)

    Attributes: ``query_proj`` (Linear Hq -> H, no bias), ``key_proj`` (Linear Hk -> H),
    ``energy`` (Linear H -> 1, no bias: the vector ``v``).

    ``forward(query, keys, values=None, mask=None, projected_keys=None)``

    - query ``(N, Hq)`` (one decoder step) or ``(N, T, Hq)`` (all steps, e.g. with
      teacher forcing)
    - keys ``(N, S, Hk)``; values ``(N, S, Hv)``, default the keys
    - mask ``(N, S)`` (or ``(N, T, S)``) boolean, True = may attend
    - projected_keys: ``precompute(keys)``, to project the keys once per sequence instead
      of once per decoder step

    Returns ``(context, weights)``: ``(N, Hv)`` and ``(N, S)`` for a 2-D query,
    ``(N, T, Hv)`` and ``(N, T, S)`` for a 3-D one.
    """

    def __init__(self, query_size, key_size=None, hidden_size=None, bias=True, device=None,
                 dtype=None):
        super().__init__()
        key_size = query_size if key_size is None else key_size
        hidden_size = query_size if hidden_size is None else hidden_size
        self.query_size, self.key_size, self.hidden_size = query_size, key_size, hidden_size
        kw = dict(device=device, dtype=dtype)
        self.query_proj = Linear(query_size, hidden_size, bias=False, **kw)
        self.key_proj = Linear(key_size, hidden_size, bias=bias, **kw)
        self.energy = Linear(hidden_size, 1, bias=False, **kw)

    def _who(self):
        return (f"BahdanauAttention(query_size={self.query_size}, key_size={self.key_size})")

    def precompute(self, keys):
        """``W_k keys + b``, ``(N, S, H)``: pass it as ``projected_keys`` at every step."""
        if not isinstance(keys, Tensor) or keys.ndim != 3 or keys.shape[-1] != self.key_size:
            raise _shape_error(self._who(), "keys", f"(N, S, {self.key_size})",
                               getattr(keys, "shape", ()))
        return self.key_proj(keys)

    def score(self, query, keys, projected_keys=None):
        """The unnormalized scores, ``(N, S)`` or ``(N, T, S)``."""
        kp = self.key_proj(keys) if projected_keys is None else projected_keys  # (N, S, H)
        qp = self.query_proj(query)
        if query.ndim == 2:
            e = (qp.unsqueeze(1) + kp).tanh()                # (N, S, H)
        else:
            e = (qp.unsqueeze(2) + kp.unsqueeze(1)).tanh()   # (N, T, S, H)
        return self.energy(e).squeeze(-1)

    def forward(self, query, keys, values=None, mask=None, projected_keys=None):
        who = self._who()
        _check_inputs(who, query, keys, values, self.query_size, self.key_size, projected_keys)
        scores = self.score(query, keys, projected_keys)
        return _attend(who, scores, keys if values is None else values, mask)

    def extra_repr(self):
        return (f"query_size={self.query_size}, key_size={self.key_size}, "
                f"hidden_size={self.hidden_size}")


class LuongAttention(Module):
    """Multiplicative attention (Luong, Pham & Manning 2015)::

        dot:      score(q, k_s) = q . k_s                  (Hq must equal Hk)
        general:  score(q, k_s) = q . (W k_s)              W: Hk -> Hq
        concat:   score(q, k_s) = v^T tanh(W [q; k_s])     computed as W_q q + W_k k_s

    Parameters
    ----------
    query_size : int, ``Hq``
    key_size : int, ``Hk`` (default ``query_size``)
    method : ``"dot"``, ``"general"`` (default) or ``"concat"``
    hidden_size : int, the tanh layer's size for ``"concat"`` (default ``query_size``)
    scale : bool, default False, divide dot/general scores by ``sqrt(Hq)`` (the
        Transformer's scaled dot product; keeps softmax out of saturation for big sizes)

    Attributes: ``"general"``: ``key_proj`` (Linear Hk -> Hq, no bias); ``"concat"``:
    ``query_proj`` and ``key_proj`` (the two halves of ``W``, no bias) and ``energy``
    (``v``). ``"dot"`` has no parameters.

    ``forward(query, keys, values=None, mask=None, projected_keys=None)``: arguments and
    returns as ``BahdanauAttention``'s. Luong's decoder then combines the two:
    ``h~ = tanh(W_c [context; h])`` (a ``Linear(Hv + Hq, H)``) before its output layer.
    """

    METHODS = ("dot", "general", "concat")

    def __init__(self, query_size, key_size=None, method="general", hidden_size=None,
                 scale=False, device=None, dtype=None):
        super().__init__()
        if method not in self.METHODS:
            raise ValueError(f"LuongAttention: method must be one of {self.METHODS}, got "
                             f"{method!r}")
        key_size = query_size if key_size is None else key_size
        if method == "dot" and key_size != query_size:
            raise ValueError(f"LuongAttention(method='dot') needs key_size == query_size, got "
                             f"{key_size} and {query_size}; use method='general' to map "
                             f"between sizes")
        if scale and method == "concat":
            raise ValueError("LuongAttention: scale applies to 'dot' and 'general' only")
        self.query_size, self.key_size, self.method = query_size, key_size, method
        self.scale = bool(scale)
        self.hidden_size = None
        kw = dict(device=device, dtype=dtype)
        if method == "general":
            self.key_proj = Linear(key_size, query_size, bias=False, **kw)
        elif method == "concat":
            self.hidden_size = query_size if hidden_size is None else hidden_size
            self.query_proj = Linear(query_size, self.hidden_size, bias=False, **kw)
            self.key_proj = Linear(key_size, self.hidden_size, bias=False, **kw)
            self.energy = Linear(self.hidden_size, 1, bias=False, **kw)

    def _who(self):
        return (f"LuongAttention(query_size={self.query_size}, key_size={self.key_size}, "
                f"method={self.method!r})")

    def precompute(self, keys):
        """The keys as the score uses them (``W keys`` for general/concat, the keys for
        dot): pass it as ``projected_keys`` at every decoder step."""
        if not isinstance(keys, Tensor) or keys.ndim != 3 or keys.shape[-1] != self.key_size:
            raise _shape_error(self._who(), "keys", f"(N, S, {self.key_size})",
                               getattr(keys, "shape", ()))
        return keys if self.method == "dot" else self.key_proj(keys)

    def score(self, query, keys, projected_keys=None):
        """The unnormalized scores, ``(N, S)`` or ``(N, T, S)``."""
        kp = self.precompute(keys) if projected_keys is None else projected_keys
        if self.method == "concat":
            qp = self.query_proj(query)
            if query.ndim == 2:
                e = (qp.unsqueeze(1) + kp).tanh()
            else:
                e = (qp.unsqueeze(2) + kp.unsqueeze(1)).tanh()
            return self.energy(e).squeeze(-1)
        if query.ndim == 2:   # (N, 1, Hq) @ (N, Hq, S)
            scores = (query.unsqueeze(1) @ kp.swapaxes(1, 2)).squeeze(1)
        else:                 # (N, T, Hq) @ (N, Hq, S)
            scores = query @ kp.swapaxes(1, 2)
        if self.scale:
            scores = scores * (1.0 / math.sqrt(self.query_size))
        return scores

    def forward(self, query, keys, values=None, mask=None, projected_keys=None):
        who = self._who()
        _check_inputs(who, query, keys, values, self.query_size, self.key_size, projected_keys)
        scores = self.score(query, keys, projected_keys)
        return _attend(who, scores, keys if values is None else values, mask)

    def extra_repr(self):
        s = f"query_size={self.query_size}, key_size={self.key_size}, method={self.method!r}"
        if self.hidden_size is not None:
            s += f", hidden_size={self.hidden_size}"
        return s + (", scale=True" if self.scale else "")

