"""numba kernel of :mod:`shendu.models.word2vec`: one training epoch, word by word
(imported only when numba is installed; the NumPy twin is
:func:`shendu.models._word2vec_train.train_epoch_numpy`, which draws the same random numbers
-- read that module's docstring first).

The loop is word2vec.c's: for each sentence, drop the subsampled words, then for each
centre word shrink its window, and take one negative-sampling step per (input vector,
target word) row. A step reads the ``1 + negative`` output rows once to get the
gradients, then updates them, so it is the exact SGD step of that row's loss (a negative
drawn twice counts twice) -- the same step the NumPy code takes for a batch of one.
"""
from __future__ import annotations

import math

import numba
import numpy as np

_U = np.uint64
_GOLDEN = _U(0x9E3779B97F4A7C15)
_STREAM = _U(0xD1B54A32D192ED03)
_M1, _M2 = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = _U(30), _U(27), _U(31), _U(32)
_LOW32 = _U(0xFFFFFFFF)

# dot products and axpys may be vectorised (reassociated); infinities keep their meaning
_FAST = {"nsz", "arcp", "contract", "afn", "reassoc"}


def _njit(**kw):
    return numba.njit(fastmath=_FAST, nogil=True, cache=True, error_model="numpy",
                      boundscheck=False, **kw)


@_njit(inline="always")
def _draw(key, pos, stream):
    z = key + _U(pos) * _GOLDEN + _U(stream) * _STREAM
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@_njit(inline="always")
def _negative(bits, accept, alias):
    col = np.int64(((bits >> _S32) * _U(accept.size)) >> _S32)
    if (bits & _LOW32) < accept[col]:
        return col
    return np.int64(alias[col])


@_njit()
def _step(h, centre, syn1neg, key, pos, stream0, negative, accept, alias, alpha, work,
          targets, grads, compute_loss):
    """One SGD step for input vector ``h``: ``work = sum_t g_t u_t`` and ``u_t += g_t h``
    with ``g_t = (label_t - sigmoid(h . u_t)) alpha``; returns the loss when asked."""
    dim = h.size
    loss = 0.0
    n = 0
    for d in range(negative + 1):
        if d == 0:
            t = np.int64(centre)
            label = 1.0
        else:
            t = _negative(_draw(key, pos, stream0 + d - 1), accept, alias)
            if t == centre:
                continue
            label = 0.0
        f = h.dtype.type(0.0)
        for k in range(dim):
            f += h[k] * syn1neg[t, k]
        targets[n] = t
        grads[n] = (label - 1.0 / (1.0 + math.exp(-f))) * alpha
        n += 1
        if compute_loss:
            z = f if label > 0 else -f
            loss += math.log1p(math.exp(-abs(z))) + max(-z, 0.0)
    for k in range(dim):
        work[k] = 0.0
    for m in range(n):
        g = grads[m]
        t = targets[m]
        for k in range(dim):
            work[k] += g * syn1neg[t, k]
    for m in range(n):
        g = grads[m]
        t = targets[m]
        for k in range(dim):
            syn1neg[t, k] += g * h[k]
    return loss


@_njit()
def train_epoch(tokens, bounds, syn0, syn1neg, sample_int, accept, alias, key, window,
                negative, sg, cbow_mean, shrink, sample, alpha0, min_alpha, t0, total,
                compute_loss):
    """One epoch over ``tokens`` (int32 word ids) cut into sentences at ``bounds``
    (int64, ``len = sentences + 1``); updates ``syn0``/``syn1neg`` in place and returns
    ``(words kept by subsampling, summed loss)``."""
    dim = syn0.shape[1]
    dtype = syn0.dtype.type
    longest = 1
    for s in range(bounds.size - 1):
        longest = max(longest, bounds[s + 1] - bounds[s])
    kept_pos = np.empty(longest, np.int64)
    kept_id = np.empty(longest, np.int64)
    work = np.empty(dim, syn0.dtype)
    neu1 = np.empty(dim, syn0.dtype)
    targets = np.empty(negative + 1, np.int64)
    grads = np.empty(negative + 1, syn0.dtype)
    loss = 0.0
    effective = 0
    for s in range(bounds.size - 1):
        n = 0
        for p in range(bounds[s], bounds[s + 1]):
            w = tokens[p]
            if sample and (_draw(key, p, 0) >> _S32) > _U(sample_int[w]):
                continue
            kept_pos[n] = p
            kept_id[n] = w
            n += 1
        effective += n
        for i in range(n):
            p = kept_pos[i]
            alpha = alpha0 - (alpha0 - min_alpha) * (t0 + p) / total
            alpha = dtype(max(alpha, min_alpha))
            b = window
            if shrink:
                b = window - np.int64(((_draw(key, p, 1) >> _S32) * _U(window)) >> _S32)
            lo = max(0, i - b)
            hi = min(n, i + b + 1)
            centre = kept_id[i]
            if sg:
                for j in range(lo, hi):
                    if j == i:
                        continue
                    row = kept_id[j]
                    loss += _step(syn0[row], centre, syn1neg, key, p,
                                  2 + (j - i + window) * negative, negative, accept, alias,
                                  alpha, work, targets, grads, compute_loss)
                    for k in range(dim):
                        syn0[row, k] += work[k]
                continue
            count = hi - lo - 1
            if count <= 0:
                continue
            for k in range(dim):
                neu1[k] = 0.0
            for j in range(lo, hi):
                if j != i:
                    row = kept_id[j]
                    for k in range(dim):
                        neu1[k] += syn0[row, k]
            scale = dtype(1.0 / count)
            if cbow_mean:
                for k in range(dim):
                    neu1[k] *= scale
            loss += _step(neu1, centre, syn1neg, key, p, 2, negative, accept, alias, alpha,
                          work, targets, grads, compute_loss)
            if not cbow_mean:  # gensim spreads the error over the summed context vectors
                for k in range(dim):
                    work[k] *= scale
            for j in range(lo, hi):
                if j != i:
                    row = kept_id[j]
                    for k in range(dim):
                        syn0[row, k] += work[k]
    return effective, loss
