"""Decoding CTC outputs: frame-wise log-probabilities (T, N, C) to label sequences.

A CTC network scores *paths* (one class per frame, blank included); a label sequence
is a path with repeats collapsed and blanks dropped. Two decoders:

* ``ctc_greedy_decode`` (best path): the most likely class at every frame, collapsed.
  Fast and vectorised, but it finds the best *path*, not the best *labelling*: a
  labelling spread over many paths can beat the single best path.
* ``ctc_beam_search_decode`` (prefix beam search): keeps the ``beam_width`` most
  likely label prefixes, each with two probabilities, ending in a blank ``p_b`` or in
  its last label ``p_nb``, so that "a" then "a" extends ``"a"`` to ``"aa"`` only
  through a blank. With a beam wide enough to keep every prefix it is exact: the
  scores are ``log p(labelling)``, the quantity ``-ctc_loss`` measures.

For seq2seq decoders (a step function, a start token) see shendu/nn/decoding.py.

>>> import numpy as np, shendu
>>> from shendu.nn import ctc_greedy_decode, ctc_beam_search_decode
>>> p = np.array([[0.6, 0.4], [0.6, 0.4]])[:, None]   # T=2, N=1, C=2 (blank, "a")
>>> ctc_greedy_decode(shendu.tensor(np.log(p)))          # best path: blank, blank
[[]]
>>> seqs, scores = ctc_beam_search_decode(shendu.tensor(np.log(p)), beam_width=4)
>>> seqs, round(float(np.exp(scores[0])), 2)             # "a": 0.16 + 0.24 + 0.24
([[1]], 0.64)
"""
from __future__ import annotations

import math

import numpy as np

from ..ops.ctc import _host

__all__ = ["ctc_greedy_decode", "ctc_beam_search_decode"]


def _host_log_probs(log_probs, who):
    """log_probs as a (T, N, C) float64 NumPy array, and whether the input was (T, C)."""
    lp = np.asarray(_host(log_probs), dtype=np.float64)
    if lp.ndim not in (2, 3):
        raise ValueError(f"{who}: log_probs must be (T, N, C) or unbatched (T, C), got "
                         f"shape {lp.shape}")
    unbatched = lp.ndim == 2
    return (lp[:, None] if unbatched else lp), unbatched


def _host_lengths(input_lengths, T, N, who):
    if input_lengths is None:
        return np.full(N, T, np.int64)
    lengths = _host(input_lengths).reshape(-1)
    if lengths.dtype.kind not in "iu":
        raise TypeError(f"{who}: input_lengths must hold integers, got dtype {lengths.dtype}")
    if lengths.shape != (N,):
        raise ValueError(f"{who}: input_lengths must have one entry per batch element, "
                         f"shape ({N},), got {lengths.shape}")
    if (lengths < 0).any() or (lengths > T).any():
        raise ValueError(f"{who}: input_lengths {lengths.tolist()} must lie in 0..{T} "
                         f"(the number of frames)")
    return lengths.astype(np.int64)


def _check_blank(blank, C, who):
    if not isinstance(blank, (int, np.integer)) or not 0 <= blank < C:
        raise ValueError(f"{who}: blank must be a class index in 0..{C - 1}, got {blank!r}")


def ctc_greedy_decode(log_probs, input_lengths=None, blank=0):
    """Best-path decoding: argmax per frame, collapse repeats, drop blanks.

    Parameters
    ----------
    log_probs : (T, N, C) or (T, C) Tensor or array of (log-)probabilities (any
        monotone score works: only the argmax matters).
    input_lengths : (N,) frames to read of each sample (default: all T).
    blank : the blank class index.

    Returns a list of N label lists (one list for (T, C) input).

    >>> import numpy as np
    >>> frames = np.eye(3)[[1, 1, 0, 1, 2, 2]][:, None]    # "a a - a b b"
    >>> ctc_greedy_decode(np.log(frames + 1e-3))
    [[1, 1, 2]]
    """
    who = "ctc_greedy_decode"
    lp, unbatched = _host_log_probs(log_probs, who)
    T, N, C = lp.shape
    _check_blank(blank, C, who)
    lengths = _host_lengths(input_lengths, T, N, who)
    best = lp.argmax(axis=2)                                # (T, N)
    changed = np.ones_like(best, bool)
    changed[1:] = best[1:] != best[:-1]
    keep = changed & (best != blank) & (np.arange(T)[:, None] < lengths[None])
    out = [best[keep[:, n], n].tolist() for n in range(N)]
    return out[0] if unbatched else out


def _logaddexp(a, b):
    """log(e^a + e^b) for Python floats (math is ~10x faster than NumPy on scalars)."""
    if a < b:
        a, b = b, a
    if b == -math.inf:
        return a
    return a + math.log1p(math.exp(b - a))


def _beam_one(lp, blank, beam_width, top_paths):
    """Prefix beam search over one (T, C) array; returns [(prefix, log p)] best first."""
    T, C = lp.shape
    neg = -math.inf
    beams = {(): (0.0, neg)}                     # prefix -> (log p_blank, log p_label)
    labels = [c for c in range(C) if c != blank]
    for t in range(T):
        row = lp[t].tolist()
        nxt = {}

        def add(prefix, pb, pnb):
            old_b, old_nb = nxt.get(prefix, (neg, neg))
            nxt[prefix] = (_logaddexp(old_b, pb), _logaddexp(old_nb, pnb))

        for prefix, (pb, pnb) in beams.items():
            total = _logaddexp(pb, pnb)
            add(prefix, total + row[blank], neg)         # a blank keeps the prefix
            last = prefix[-1] if prefix else None
            for c in labels:
                if c == last:
                    # repeating the last label collapses into it; a new "c" needs a blank
                    add(prefix, neg, pnb + row[c])
                    add(prefix + (c,), neg, pb + row[c])
                else:
                    add(prefix + (c,), neg, total + row[c])
        ranked = sorted(nxt.items(), key=lambda kv: -_logaddexp(*kv[1]))
        beams = dict(ranked[:beam_width])
    ranked = sorted(((list(p), _logaddexp(*s)) for p, s in beams.items()),
                    key=lambda ps: -ps[1])
    return ranked[:top_paths]


def ctc_beam_search_decode(log_probs, input_lengths=None, beam_width=10, blank=0,
                           top_paths=1):
    """Prefix beam search: the most likely labellings, each summed over its paths.

    Parameters
    ----------
    log_probs : (T, N, C) or (T, C) log-probabilities (``log_softmax`` outputs).
    input_lengths : (N,) frames to read of each sample (default: all T).
    beam_width : prefixes kept after each frame (larger: slower, closer to exact).
    blank : the blank class index.
    top_paths : how many labellings to return per sample (<= beam_width).

    Returns ``(sequences, scores)``: for ``top_paths=1``, N label lists and N floats
    ``log p(labelling)``; otherwise, per sample, lists of ``top_paths`` label lists and
    scores, best first. For (T, C) input, the entries of sample 0.

    Cost: T * beam_width * C Python steps per sample (a loop over samples: the beams
    of different samples hold different prefixes).

    >>> import numpy as np
    >>> p = np.array([[0.6, 0.4], [0.6, 0.4]])                # (T, C) unbatched
    >>> seqs, scores = ctc_beam_search_decode(np.log(p), beam_width=4, top_paths=2)
    >>> seqs, [round(float(np.exp(s)), 2) for s in scores]
    ([[1], []], [0.64, 0.36])
    """
    who = "ctc_beam_search_decode"
    lp, unbatched = _host_log_probs(log_probs, who)
    T, N, C = lp.shape
    _check_blank(blank, C, who)
    if int(beam_width) < 1:
        raise ValueError(f"{who}: beam_width must be >= 1, got {beam_width}")
    if not 1 <= int(top_paths) <= int(beam_width):
        raise ValueError(f"{who}: top_paths must be in 1..beam_width={beam_width}, "
                         f"got {top_paths}")
    lengths = _host_lengths(input_lengths, T, N, who)
    sequences, scores = [], []
    for n in range(N):
        ranked = _beam_one(lp[:lengths[n], n], blank, int(beam_width), int(top_paths))
        if top_paths == 1:
            sequences.append(ranked[0][0])
            scores.append(ranked[0][1])
        else:
            sequences.append([p for p, _ in ranked])
            scores.append([s for _, s in ranked])
    if unbatched:
        return sequences[0], scores[0]
    return sequences, scores
