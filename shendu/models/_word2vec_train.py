"""The training side of :mod:`shendu.models.word2vec`: the tables, the random numbers and
the plain-NumPy trainer (read :mod:`shendu.models.word2vec` first).

Random numbers are *counter-based*: every random choice is a hash of where it is made,

    draw(key, pos, stream) = splitmix64(key + pos * 0x9E3779B97F4A7C15 + stream * 0xD1B54A32D192ED03)

with ``key`` one value per (seed, epoch), ``pos`` the position of the centre word in the
epoch's token array and ``stream`` which choice it is (0: keep or drop the word in
subsampling, 1: shrink its window, ``2 + slot * negative + d``: its d-th negative sample;
the slot is the context offset plus ``window`` for skip-gram, 0 for CBOW). So the numba
kernel, walking the corpus word by word, and this NumPy code, working on thousands of
words at once, draw *the same* subsample, windows and negatives: with ``batch_size=1`` the
two take the same steps (tests/test_word2vec.py checks it in float64).

The NumPy trainer updates a batch of (input vector, targets) rows at once from the same
starting weights, adding the updates of rows that occur several times in a batch (like
word2vec's lock-free threads, which also read slightly stale rows); the order of the rows
is the kernel's order, so a batch of one is the kernel's sequential SGD.
"""
from __future__ import annotations

import numpy as np

__all__ = ["MAX_WORDS_IN_SENTENCE", "epoch_key", "draw", "sample_ints", "alias_table",
           "sample_negatives", "alias_probabilities", "train_epoch_numpy"]

MAX_WORDS_IN_SENTENCE = 10_000  # longer sentences are cut into pieces (as gensim does)

_U = np.uint64
_GOLDEN = _U(0x9E3779B97F4A7C15)
_STREAM = _U(0xD1B54A32D192ED03)
_M1, _M2 = _U(0xBF58476D1CE4E5B9), _U(0x94D049BB133111EB)
_S30, _S27, _S31, _S32 = _U(30), _U(27), _U(31), _U(32)
_LOW32 = _U(0xFFFFFFFF)
_MASK64 = (1 << 64) - 1


def _mix(z):
    """splitmix64's finaliser on a uint64 array (wrapping arithmetic, no warnings)."""
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


def epoch_key(seed, epoch):
    """The uint64 key of one training epoch: a hash of ``(seed, epoch)`` (a Python int)."""
    z = np.array([(int(seed) * 0x9E3779B97F4A7C15 + int(epoch) + 1) & _MASK64], dtype=_U)
    return int(_mix(z)[0])


def draw(key, pos, stream):
    """64 random bits for each ``pos`` (int array) of random stream ``stream`` (int or int
    array broadcasting with ``pos``), as a uint64 array."""
    pos = np.asarray(pos).astype(_U)
    stream = np.asarray(stream).astype(_U)
    return _mix(_U(key) + pos * _GOLDEN + stream * _STREAM)


# ----------------------------------------------------------------------- tables
def sample_ints(counts, sample):
    """Subsampling thresholds, as gensim computes them: word ``w`` seen ``c_w`` times is
    kept with probability ``min(1, sqrt(t / c_w) + t / c_w)`` where ``t = sample * total``
    (Mikolov et al.'s word2vec.c formula; ``sample >= 1`` means ``t = int(sample * 2.618)``,
    ``sample = 0`` keeps every word). Returned as uint32 ``p * (2^32 - 1)``: a word is kept
    when 32 random bits are ``<=`` its value. Also returns the float64 probabilities."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if not sample:
        threshold = total
    elif sample < 1.0:
        threshold = sample * total
    else:
        threshold = float(int(sample * (3 + np.sqrt(5)) / 2))
    prob = np.minimum((np.sqrt(counts / threshold) + 1.0) * (threshold / counts), 1.0)
    return (prob * (2 ** 32 - 1)).astype(np.uint32), prob


def alias_table(weights):
    """Walker's alias table of the distribution ``weights / weights.sum()`` (Vose's
    construction): column ``i`` keeps itself with probability ``accept[i] / 2^32`` and
    gives ``alias[i]`` otherwise, so one draw costs O(1) whatever the vocabulary size.
    Returns ``(accept, alias)``: uint64 (values in ``[0, 2^32]``) and int32 arrays."""
    w = np.asarray(weights, dtype=np.float64)
    n = w.size
    scaled = w * (n / w.sum())
    alias = np.arange(n, dtype=np.int32)
    prob = np.ones(n)
    small = [i for i in range(n) if scaled[i] < 1.0]
    large = [i for i in range(n) if scaled[i] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        prob[s], alias[s] = scaled[s], g
        scaled[g] -= 1.0 - scaled[s]  # g gives the rest of column s
        (small if scaled[g] < 1.0 else large).append(g)
    accept = np.minimum(np.round(prob * 2.0 ** 32), 2.0 ** 32).astype(_U)
    return accept, alias


def alias_probabilities(accept, alias):
    """The exact distribution an alias table samples (for checking it): float64 ``(n,)``."""
    n = len(accept)
    keep = accept.astype(np.float64) / 2.0 ** 32
    p = keep.copy()
    np.add.at(p, alias, 1.0 - keep)
    return p / n


def sample_negatives(bits, accept, alias):
    """Word ids drawn from an alias table, one for each uint64 in ``bits``: the high 32
    bits pick the column, the low 32 bits decide between it and its alias."""
    col = (((bits >> _S32) * _U(len(accept))) >> _S32).astype(np.int64)
    return np.where((bits & _LOW32) < accept[col], col, alias[col])


# ------------------------------------------------------------------- numpy trainer
def _scatter_add(matrix, rows, values):
    """``matrix[rows] += values`` adding repeated rows (a segment sum, faster than add.at)."""
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    matrix[rows[starts]] += np.add.reduceat(values[order], starts, axis=0)


def _plan(tokens, sent_id, sample_int, key, window, shrink, sample):
    """Subsample the epoch and give each kept word its window: ``(kept positions, kept
    word ids, sentence ids, half-window b)``."""
    pos = np.arange(tokens.size)
    if sample:
        keep = (draw(key, pos, 0) >> _S32) <= sample_int[tokens].astype(_U)
        pos = pos[keep]
    if shrink:
        reduced = ((draw(key, pos, 1) >> _S32) * _U(window)) >> _S32
        b = window - reduced.astype(np.int64)
    else:
        b = np.full(pos.size, window, dtype=np.int64)
    return pos, tokens[pos], sent_id[pos], b


def _window_pairs(sent, b, start, stop, window):
    """(centre, context) index pairs (into the kept arrays) for centres ``start:stop``, in
    the kernel's order: by centre, then by context position. Also the offsets."""
    n = sent.size
    centres = np.arange(start, stop)
    offsets = np.array([o for o in range(-window, window + 1) if o], dtype=np.int64)
    ctx = centres[:, None] + offsets[None, :]
    ok = (np.abs(offsets)[None, :] <= b[centres, None]) & (ctx >= 0) & (ctx < n)
    ok[ok] = sent[ctx[ok]] == sent[np.broadcast_to(centres[:, None], ctx.shape)[ok]]
    c_idx, o_idx = np.nonzero(ok)  # row-major: by centre, then offset (= context position)
    return centres[c_idx], ctx[c_idx, o_idx], offsets[o_idx]


def _targets(key, pos, slots, centre_ids, negative, accept, alias):
    """(rows, 1 + negative) target word ids: the true word then the negatives, and the
    mask that drops a negative equal to the true word (gensim and word2vec.c skip it)."""
    d = np.arange(negative, dtype=np.int64)
    neg = sample_negatives(draw(key, pos[:, None], 2 + slots[:, None] * negative + d[None, :]),
                           accept, alias)
    targets = np.concatenate([centre_ids[:, None], neg], axis=1)
    mask = np.ones(targets.shape, dtype=bool)
    mask[:, 1:] = neg != centre_ids[:, None]
    return targets, mask


def _sgd_rows(h, targets, mask, alpha, syn1neg, compute_loss):
    """One negative-sampling step for a batch of input vectors ``h`` (B, D): the
    gradient ``g = (label - sigmoid(h . u_t)) * alpha`` of every target (B, K), the input
    vectors' error ``work = sum_t g u_t`` (B, D), ``syn1neg[t] += g h`` done here; and
    the summed loss ``-log sigmoid(+-f)`` when asked."""
    u = syn1neg[targets]                                   # (B, K, D)
    f = np.einsum("bd,bkd->bk", h, u)
    label = np.zeros(f.shape, dtype=f.dtype)
    label[:, 0] = 1
    g = (label - 1.0 / (1.0 + np.exp(-f))) * alpha[:, None] * mask
    loss = 0.0
    if compute_loss:
        z = np.where(label > 0, f, -f)  # -log sigmoid(z) = log(1 + e^-|z|) + max(-z, 0)
        loss = float(((np.log1p(np.exp(-np.abs(z))) + np.maximum(-z, 0)) * mask).sum())
    work = np.einsum("bk,bkd->bd", g, u)
    _scatter_add(syn1neg, targets.ravel(), (g[:, :, None] * h[:, None, :]).reshape(-1, h.shape[1]))
    return work, loss


def train_epoch_numpy(tokens, sent_id, syn0, syn1neg, *, sample_int, accept, alias, key,
                      window, negative, sg, cbow_mean, shrink, sample, alpha0, min_alpha,
                      t0, total, compute_loss, batch_size):
    """One epoch over ``tokens`` (int32 word ids, the epoch's whole corpus; ``sent_id`` the
    sentence of each token) in batches of ``batch_size`` rows (skip-gram: word pairs;
    CBOW: centre words). Updates ``syn0``/``syn1neg`` in place; returns ``(number of
    words kept by subsampling, summed loss)``. The learning rate of a centre word at
    position ``p`` is ``max(min_alpha, alpha0 - (alpha0 - min_alpha) (t0 + p) / total)``."""
    pos, ids, sent, b = _plan(tokens, sent_id, sample_int, key, window, shrink, sample)
    dtype = syn0.dtype.type
    loss, chunk = 0.0, max(1, 65536 // (2 * window))
    for start in range(0, pos.size, chunk):
        stop = min(pos.size, start + chunk)
        centre, ctx, off = _window_pairs(sent, b, start, stop, window)
        alpha = np.maximum(min_alpha, alpha0 - (alpha0 - min_alpha) * (t0 + pos[centre]) / total)
        if sg:
            targets, mask = _targets(key, pos[centre], off + window, ids[centre], negative,
                                     accept, alias)
            alpha = alpha.astype(dtype)
            for s in range(0, centre.size, batch_size):
                e = s + batch_size
                rows = ids[ctx[s:e]]
                work, l_ = _sgd_rows(syn0[rows], targets[s:e], mask[s:e], alpha[s:e], syn1neg,
                                     compute_loss)
                _scatter_add(syn0, rows, work)
                loss += l_
            continue
        # CBOW: one row per centre with at least one context word, its contexts padded
        first = np.flatnonzero(np.r_[True, centre[1:] != centre[:-1]])
        counts = np.diff(np.r_[first, centre.size])
        c_rows = centre[first]
        col = np.arange(centre.size) - np.repeat(first, counts)
        ctx_ids = np.zeros((c_rows.size, 2 * window), dtype=np.int64)
        ctx_mask = np.zeros(ctx_ids.shape, dtype=bool)
        row = np.repeat(np.arange(c_rows.size), counts)
        ctx_ids[row, col], ctx_mask[row, col] = ids[ctx], True
        targets, mask = _targets(key, pos[c_rows], np.zeros(c_rows.size, np.int64),
                                 ids[c_rows], negative, accept, alias)
        alpha = alpha[first].astype(dtype)
        scale = (1.0 / counts).astype(dtype)
        for s in range(0, c_rows.size, batch_size):
            e = s + batch_size
            m = ctx_mask[s:e]
            h = (syn0[ctx_ids[s:e]] * m[:, :, None]).sum(axis=1)
            if cbow_mean:
                h *= scale[s:e, None]
            work, l_ = _sgd_rows(h, targets[s:e], mask[s:e], alpha[s:e], syn1neg, compute_loss)
            if not cbow_mean:  # gensim spreads the error over the summed context vectors
                work *= scale[s:e, None]
            _scatter_add(syn0, ctx_ids[s:e][m], np.repeat(work, m.sum(axis=1), axis=0))
            loss += l_
    return int(pos.size), loss
