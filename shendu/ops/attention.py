"""Attention: ``scaled_dot_product_attention``, one fused Function.

For queries Q (..., L, E), keys K (..., S, E) and values V (..., S, Ev)::

    S = scale * Q K^T + M          M: the additive mask (-inf where attending is forbidden)
    P = softmax(S)                 along the keys (the last axis)
    O = (P * D) V                  D: the dropout mask (0 or 1 / (1 - p); 1 without dropout)

Backward, with G = dL/dO. The softmax Jacobian is never built (flash attention's
identities: the row sums of dP * P equal those of G * O, an (L, Ev) product instead of
an (L, S) one)::

    dV = (P * D)^T G
    dP = (G V^T) * D
    dS = P * (dP - rowsum(G * O))
    dQ = scale * dS K,    dK = scale * dS^T Q,    dM = dS

Grouped-query attention (``enable_gqa``: H query heads share Hk = H / G key/value heads)
folds each group of G query heads into the rows of one matrix, ``(..., Hk, G * L, E)``,
so the keys are never repeated and the sum over the group in dK and dV is part of the
matrix product.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import unbroadcast

__all__ = ["scaled_dot_product_attention"]


def _as_rows(x, groups):
    """(..., Hk * G, L, E) -> (..., Hk, G * L, E): a group of query heads as one matrix."""
    if groups == 1:
        return x
    s = x.shape
    return x.reshape(tuple(s[:-3]) + (s[-3] // groups, groups * s[-2], s[-1]))


def _as_heads(x, groups, length):
    """The inverse of ``_as_rows``: (..., Hk, G * L, F) -> (..., Hk * G, L, F)."""
    if groups == 1:
        return x
    s = x.shape
    return x.reshape(tuple(s[:-3]) + (s[-3] * groups, length, s[-1]))


def _causal_mask(xp, length, source, dtype):
    """Additive (L, S) mask: -inf above the diagonal (query i sees keys 0..i), PyTorch's
    top-left alignment."""
    return xp.triu(xp.full((length, source), -np.inf, dtype=dtype), 1)


def _softmax_rows(xp, s, safe):
    """Softmax along the last axis, in place in ``s``. With ``safe``, rows whose entries
    are all -inf (every key masked) become zeros, as PyTorch's SDPA gives, and a bool
    array marking them is returned; without, they are NaN (a plain softmax) and None is
    returned."""
    dead = xp.empty(s.shape[:-1] + (1,), dtype=bool) if safe else None

    def block(s, dead=None):
        m = s.max(axis=-1, keepdims=True)
        if dead is not None:
            xp.equal(m, -np.inf, out=dead)
            m[dead] = 0  # exp(-inf - 0) = 0 everywhere in such a row: no NaN
        s -= m
        xp.exp(s, out=s)
        d = s.sum(axis=-1, keepdims=True)
        if dead is not None:
            d[dead] = 1
        s *= 1 / d

    _by_rows(block, s, *(() if dead is None else (dead,)))
    return dead


def _by_rows(fn, *arrays):
    """``fn(*arrays)`` for an in-place ``fn`` that works row by row (the last axis of the
    first array; the others have the same rows). On big C-contiguous NumPy arrays and
    several threads it runs on blocks of rows that stay in the cache, shared among the
    threads (on one thread whole-array calls are ~10% faster: fewer NumPy calls)."""
    a = arrays[0]
    rows = a.size // a.shape[-1] if a.ndim and a.shape[-1] else 0
    if not (isinstance(a, np.ndarray) and a.size >= parallel.MIN_PARALLEL_ELEMENTS
            and parallel.get_num_threads() > 1 and all(isinstance(x, np.ndarray) and x.flags.c_contiguous
                    and x.shape[:-1] == a.shape[:-1] for x in arrays)):
        fn(*arrays)
        return
    flat = [x.reshape(rows, -1) for x in arrays]
    step = max(1, parallel.BLOCK_BYTES // (a.shape[-1] * a.itemsize))
    parallel.for_blocks(lambda s, e: fn(*(x[s:e] for x in flat)), rows, unit=a.shape[-1],
                        block=step)


class ScaledDotProductAttention(Function):
    """O = (softmax(scale * Q K^T + M) * D) V; see the module docstring for the math.

    Arguments after the arrays: ``scale``; ``causal`` (add the top-left causal mask);
    ``dropout_p``; ``groups`` (query heads per key/value head); ``safe`` (fully masked
    rows give 0 instead of NaN); ``weights`` (also return P * D, the attention weights,
    shaped (..., H, L, S)).

    Double backward: in tensor mode the backward recomputes P from the graph's Q, K and
    mask and applies the same formulas with ``@``, ``swapaxes``, ``reshape``, ``sum`` and
    ``softmax``, so second derivatives are exact (the dropout mask is a constant).
    """
    double_backward = True

    @staticmethod
    def forward(ctx, q, k, v, mask, scale, causal, dropout_p, groups, safe, weights):
        xp = ctx.xp
        L, S = q.shape[-2], k.shape[-2]
        s = _as_rows(q, groups) @ k.swapaxes(-1, -2)  # (..., Hk, G * L, S), a fresh array
        if scale != 1:
            s *= scale
        if mask is not None or causal:
            s4 = _as_heads(s, groups, L)  # a view as (..., H, L, S) for the masks
            if mask is not None:
                if np.broadcast_shapes(s4.shape, mask.shape) == s4.shape:
                    s4 += mask
                else:  # the mask has batch dimensions that q and k lack
                    s4 = s4 + mask
            if causal:
                s4 += _causal_mask(xp, L, S, s.dtype)
            s = _as_rows(s4, groups)
        with np.errstate(invalid="ignore"):  # all -inf rows: NaN (safe=False), as torch
            dead = _softmax_rows(xp, s, safe and (mask is not None or causal))
        p = s
        keep = None
        if dropout_p > 0:
            keep = _keep_mask(xp, dropout_p, p.shape, p.dtype)
            pd = p * keep
        else:
            pd = p
        o = _as_heads(pd @ v, groups, L)
        ctx.save_for_backward(q, k, v, mask, o)
        ctx.p, ctx.pd, ctx.keep = p, pd, keep
        ctx.dead = _as_heads(dead, groups, L) if dead is not None and dead.any() else None
        ctx.params = scale, causal, groups, weights
        if weights:
            return o, _as_heads(pd, groups, L)
        return o

    @staticmethod
    def backward(ctx, g, gw=None):
        if ctx.tensor_mode:
            return _backward_graph(ctx, g, gw)
        q, k, v, mask, o = ctx.saved_tensors
        scale, causal, groups, weights = ctx.params
        p, pd, keep = ctx.p, ctx.pd, ctx.keep
        need_q, need_k, need_v, need_mask = ctx.needs_input_grad[:4]
        L = q.shape[-2]
        gr = _as_rows(g, groups)
        gq = gk = gv = gmask = None
        if need_v:
            gv = unbroadcast(pd.swapaxes(-1, -2) @ gr, v.shape)
        if need_q or need_k or need_mask:
            dp = gr @ v.swapaxes(-1, -2)  # fresh: dS is built in place in it
            # rowsum(dP * P) = rowsum(G * O), plus rowsum(gW * P * D) for the weights output
            rowdot = (gr * _as_rows(o, groups)).sum(axis=-1, keepdims=True)
            if weights:
                gw = _as_rows(gw, groups)
                dp += gw
                rowdot += (gw * pd).sum(axis=-1, keepdims=True)
            _by_rows(_softmax_grad_in_place, dp, rowdot, p,
                     *(() if keep is None else (keep,)))
            ds = dp
            if need_mask:
                ds4 = _as_heads(ds, groups, L)
                gmask = ds4.copy() if ds4.shape == mask.shape else unbroadcast(ds4, mask.shape)
            if scale != 1:
                ds *= scale
            if need_q:
                gq = unbroadcast(_as_heads(ds @ k, groups, L), q.shape)
            if need_k:
                gk = unbroadcast(ds.swapaxes(-1, -2) @ _as_rows(q, groups), k.shape)
        return gq, gk, gv, gmask, None, None, None, None, None, None


def _softmax_grad_in_place(dp, rowdot, p, keep=None):
    """dS = P * (dP * D - rowsum(dP * P)), written into ``dp``."""
    if keep is not None:
        dp *= keep
    dp -= rowdot
    dp *= p


def _backward_graph(ctx, g, gw):
    """The backward on Tensors (double backward): P recomputed from the graph's Q, K and
    mask, then the same formulas as the array path."""
    from .activation import softmax
    q, k, v, mask, o = ctx.saved_tensors
    xp = ctx.xp
    scale, causal, groups, weights = ctx.params
    keep, dead = ctx.keep, ctx.dead
    need_q, need_k, need_v, need_mask = ctx.needs_input_grad[:4]
    L, S = q.shape[-2], k.shape[-2]
    qr = _as_rows(q, groups)
    s = _as_heads((qr @ k.swapaxes(-1, -2)) * scale, groups, L)
    if mask is not None:
        s = s + mask
    if causal:
        s = s + Tensor._make(_causal_mask(backend.get_array_module(q._data), L, S, s.dtype))
    if dead is not None:  # fully masked rows: softmax of zeros, then zeroed (no NaN)
        s = xp.where(dead, 0.0, s)
    p = softmax(s, dim=-1)
    if dead is not None:
        p = xp.where(dead, 0.0, p)
    p = _as_rows(p, groups)
    pd = p if keep is None else p * keep
    gr = _as_rows(g, groups)
    gv = unbroadcast(pd.swapaxes(-1, -2) @ gr, v.shape) if need_v else None
    dp = gr @ v.swapaxes(-1, -2)
    if weights:
        dp = dp + _as_rows(gw, groups)
    if keep is not None:
        dp = dp * keep
    ds = p * (dp - (dp * p).sum(axis=-1, keepdims=True))
    gmask = unbroadcast(_as_heads(ds, groups, L), mask.shape) if need_mask else None
    ds = ds * scale
    gq = unbroadcast(_as_heads(ds @ k, groups, L), q.shape) if need_q else None
    gk = unbroadcast(ds.swapaxes(-1, -2) @ qr, k.shape) if need_k else None
    return gq, gk, gv, gmask, None, None, None, None, None, None


def _keep_mask(xp, p, shape, dtype):
    """Dropout's mask from shendu's seeded generator: 1 / (1 - p) with probability 1 - p."""
    if p >= 1:
        return xp.zeros(shape, dtype=dtype)
    u = backend.default_generator(xp).random(shape, dtype=dtype)
    return (u >= p).astype(dtype) * dtype.type(1.0 / (1.0 - p))


# ---------------------------------------------------------------- checks
def _check_qkv(query, key, value, enable_gqa, name):
    for n, t in (("query", query), ("key", key), ("value", value)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {n} must be a Tensor, got {type(t).__name__}")
        if t.dtype.kind != "f":
            raise TypeError(f"{name}: {n} must be a floating point tensor, got {t.dtype}")
        if t.ndim < 2:
            raise ValueError(f"{name}: {n} must have at least 2 dimensions (..., length, "
                             f"features), got shape {t.shape}")
    if not query.dtype == key.dtype == value.dtype:
        raise TypeError(f"{name}: query, key and value must have the same dtype, got "
                        f"{query.dtype}, {key.dtype} and {value.dtype}")
    if query.shape[-1] != key.shape[-1]:
        raise ValueError(f"{name}: query and key must have the same last dimension E, got "
                         f"query {query.shape} and key {key.shape}")
    if key.shape[-2] != value.shape[-2]:
        raise ValueError(f"{name}: key and value must have the same length S (dimension -2), "
                         f"got key {key.shape} and value {value.shape}")
    groups = 1
    if enable_gqa and query.ndim >= 3 and key.ndim >= 3 and query.shape[-3] != key.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or key.shape[-3] != value.shape[-3]:
            raise ValueError(f"{name}: with enable_gqa the query heads ({hq}, dimension -3 "
                             f"of {query.shape}) must be a multiple of the key/value heads "
                             f"(key {key.shape}, value {value.shape})")
        groups = hq // hk
    try:
        if groups == 1:
            lead = np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
        else:
            lead = np.broadcast_shapes(query.shape[:-3], key.shape[:-3], value.shape[:-3]) \
                + (query.shape[-3],)
    except ValueError:
        raise ValueError(f"{name}: the batch dimensions of query {query.shape}, key "
                         f"{key.shape} and value {value.shape} do not broadcast") from None
    return groups, tuple(lead)


def _mask_input(attn_mask, dtype, scores_shape, name):
    """The mask as an additive float: a raw array, or a Tensor when it needs a gradient.
    Bool masks are True where attending is allowed (PyTorch's SDPA convention)."""
    if attn_mask is None:
        return None
    xp = attn_mask.xp if isinstance(attn_mask, Tensor) else backend.get_array_module(attn_mask)
    data = attn_mask._data if isinstance(attn_mask, Tensor) else xp.asarray(attn_mask)
    try:
        ok = np.broadcast_shapes(data.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name}: attn_mask of shape {tuple(data.shape)} does not broadcast "
                         f"to the attention scores' shape (..., L, S) = {tuple(scores_shape)}")
    if data.dtype == np.bool_:
        return xp.where(data, dtype.type(0), dtype.type(-np.inf))
    if data.dtype.kind != "f":
        raise TypeError(f"{name}: attn_mask must be bool (True = attend) or a float mask "
                        f"added to the scores, got {data.dtype}")
    if isinstance(attn_mask, Tensor) and attn_mask.requires_grad:
        return attn_mask if attn_mask.dtype == dtype else attn_mask.to(dtype)
    return data if data.dtype == dtype else data.astype(dtype)


def _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
               safe, need_weights, name):
    groups, lead = _check_qkv(query, key, value, enable_gqa, name)
    L, S, E = query.shape[-2], key.shape[-2], query.shape[-1]
    mask = _mask_input(attn_mask, query.dtype, lead + (L, S), name)
    if is_causal and mask is not None:
        raise ValueError(f"{name}: give either attn_mask or is_causal=True, not both (fold "
                         "the causal mask into attn_mask)")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"{name}: dropout_p must be in [0, 1], got {dropout_p}")
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    return ScaledDotProductAttention.apply(query, key, value, mask, scale, bool(is_causal),
                                           float(dropout_p), groups, safe, need_weights)


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False):
    """Attention ``softmax(Q K^T * scale + mask) V`` in one fused op (PyTorch's
    ``F.scaled_dot_product_attention``).

    Parameters
    ----------
    query : Tensor (..., L, E)
    key : Tensor (..., S, E)
    value : Tensor (..., S, Ev)
        Leading dimensions (batch, heads) broadcast.
    attn_mask : Tensor, optional, broadcastable to (..., L, S)
        bool: True where a query may attend to a key (PyTorch's convention here; note
        that ``nn.MultiheadAttention`` masks use True for *forbidden*). float: added to
        the scores (``-inf`` forbids); a float mask that requires grad gets a gradient.
    dropout_p : float
        Drop attention weights with this probability (always, like PyTorch's function;
        pass 0 in evaluation). The mask comes from shendu's seeded generator.
    is_causal : bool
        Query i attends to keys 0..i (top-left aligned when L != S). Not with attn_mask.
    scale : float, default ``1 / sqrt(E)``
    enable_gqa : bool
        Grouped-query attention: query heads (dimension -3) a multiple of the key/value
        heads; head h uses key/value head ``h // (H / Hk)``.

    Returns
    -------
    Tensor (..., L, Ev). A query whose keys are all masked gets zeros (as PyTorch 2.13).

    >>> q = shendu.ones(2, 4, 5, 8); k = v = shendu.ones(2, 4, 6, 8)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (2, 4, 5, 8)
    """
    return _attention(query, key, value, attn_mask, dropout_p, is_causal, scale, enable_gqa,
                      True, False, "scaled_dot_product_attention")
