"""The packed-sequence schedule and the array helpers shared by the fused RNN, LSTM and
GRU Functions in ``recurrent.py``.

A ``Schedule`` says, for each time step, which rows of the time-major packed input it
holds (step t: ``batch_sizes[t]`` rows, the longest sequences first), so one loop serves
uniform batches, ``PackedSequence`` batches and both directions.
"""
from __future__ import annotations

import functools

import numpy as np

__all__ = ["Schedule", "schedule", "uniform_schedule"]


# ----------------------------------------------------------------------- schedule
class Schedule:
    """The time steps of one direction over a (packed) batch, in processing order.

    ``steps`` holds ``(start, n, m, prev_start)`` per step: the step's rows are
    ``start : start + n``; the first ``m`` of them continue from the previous step's
    rows ``prev_start : prev_start + m``, the others start from the initial state.
    ``last`` gives, for each sequence, the row of its final state; ``prev_index`` for
    each row the row of its previous state (``total + j`` for the initial state of
    sequence j).
    """

    def __init__(self, batch_sizes, reverse):
        offsets = np.concatenate([[0], np.cumsum(batch_sizes)])
        self.batch_size = B = int(batch_sizes[0])
        self.total = N = int(offsets[-1])
        self.reverse = reverse
        self.uniform = all(b == B for b in batch_sizes)
        self.steps = []
        last = np.zeros(B, dtype=np.int64)
        prev_index = np.empty(N, dtype=np.int64)
        prev = None
        order = range(len(batch_sizes) - 1, -1, -1) if reverse else range(len(batch_sizes))
        for t in order:
            start, n = int(offsets[t]), int(batch_sizes[t])
            m = 0 if prev is None else min(n, prev[1])
            self.steps.append((start, n, m, 0 if prev is None else prev[0]))
            prev_index[start:start + m] = (0 if prev is None else prev[0]) + np.arange(m)
            prev_index[start + m:start + n] = N + np.arange(m, n)
            last[:n] = start + np.arange(n)
            prev = (start, n)
        self.prev_index = prev_index
        first = int(last[0])
        contiguous = np.array_equal(last, first + np.arange(B))
        self.last = slice(first, first + B) if contiguous else last


@functools.lru_cache(maxsize=256)
def schedule(batch_sizes, reverse=False):
    """The (cached) ``Schedule`` of a tuple of batch sizes, non-increasing and > 0."""
    return Schedule(batch_sizes, reverse)


def uniform_schedule(steps, batch, reverse=False):
    """The schedule of ``steps`` time steps of a full batch (no padding)."""
    return schedule((batch,) * steps, reverse)


def _rows(xp, a, last):
    """``a[last]`` as a fresh array (``last`` a slice or a NumPy index array)."""
    if isinstance(last, slice):
        return a[last].copy()
    return a[xp.asarray(last)]


def _previous_state(y, h0, n, m, prev, scratch):
    """The states a step of ``n`` rows starts from: a view of the previous step's rows
    when they are all there, else assembled in ``scratch``."""
    if m == n:
        return y[prev:prev + n]
    if m == 0:
        return h0[:n]
    s = scratch[:n]
    s[:m] = y[prev:prev + m]
    s[m:] = h0[m:n]
    return s


def _previous_blocks(xp, sched, y, h0):
    """Every row's previous state, as ``(rows, array)`` pairs covering all rows: two
    views without a copy for full batches, one gathered array for packed ones."""
    N, B = sched.total, sched.batch_size
    if not sched.uniform:
        return [(slice(0, N), xp.concatenate([y, h0])[xp.asarray(sched.prev_index)])]
    if sched.reverse:
        blocks = [(slice(0, N - B), y[B:]), (slice(N - B, N), h0)]
    else:
        blocks = [(slice(0, B), h0), (slice(B, N), y[:N - B])]
    return [(r, a) for r, a in blocks if r.stop > r.start]


# The sigmoid gates' rows of the weights are negated (and LSTM's g rows doubled) in the
# forward pass's copy of the weights, so the slab holds -z: then sigma(z) is
# 1 / (1 + exp(-z)) in three in-place calls, and tanh(z) = 2 sigma(2z) - 1. exp(-z)
# may overflow to inf for very negative z, which gives the right limit sigma = 0.
def _sigmoid_of_negated(xp, a):
    xp.exp(a, out=a)
    a += 1
    xp.divide(1, a, out=a)


def _prepare(xp, x, w_ih, w_hh, b_ih, b_hh, rows, scale_ih, scale_hh, bias_scale_hh):
    """Weights in the internal gate order ``rows``, scaled row-wise for the forward
    pass; returns the input projection of all steps (one GEMM, the bias folded in as a
    column of ones) and ``W_hh^T`` scaled, contiguous for the step GEMMs."""
    dt = w_ih.dtype
    s_ih = xp.asarray(scale_ih, dtype=dt)
    whT = xp.ascontiguousarray((w_hh[rows] * xp.asarray(scale_hh, dtype=dt)[:, None]).T)
    if b_ih is None:
        return x @ (w_ih[rows] * s_ih[:, None]).T, whT
    n, k = x.shape
    xa = xp.empty((n, k + 1), dtype=dt)
    xa[:, :k] = x
    xa[:, k] = 1
    wa = xp.empty((len(rows), k + 1), dtype=dt)
    xp.multiply(w_ih[rows], s_ih[:, None], out=wa[:, :k])
    wa[:, k] = b_ih[rows] * s_ih + b_hh[rows] * xp.asarray(bias_scale_hh, dtype=dt)
    return xa @ wa.T, whT


def _unpermute(xp, a, rows):
    """Put rows computed in the internal gate order back in PyTorch's order."""
    out = xp.empty_like(a)
    out[rows] = a
    return out


def _weight_grads(ctx, dgx, dgh, x, blocks, rows, first):
    """dW_ih = dGx^T X,  dW_hh = dGh^T H_prev,  db_ih = sum dGx,  db_hh = sum dGh (one
    GEMM each over all steps), in PyTorch's gate order. ``first``: w_ih's argument index;
    ``blocks``: the previous states (``_previous_blocks``); ``rows``: the internal gate
    order of dgx's and dgh's columns (one array, or a pair when they differ)."""
    xp = ctx.xp
    need = ctx.needs_input_grad[first:first + 4]
    rows_x, rows_h = rows if isinstance(rows, tuple) else (rows, rows)
    gw_ih = _unpermute(xp, dgx.T @ x, rows_x) if need[0] else None
    gw_hh = None
    if need[1]:
        for r, hp in blocks:
            part = dgh[r].T @ hp
            gw_hh = part if gw_hh is None else gw_hh.__iadd__(part)
        gw_hh = _unpermute(xp, gw_hh, rows_h)
    gb_ih = _unpermute(xp, dgx.sum(axis=0), rows_x) if need[2] else None
    gb_hh = None
    if need[3]:  # the same sum when both biases see the same gradient (RNN, LSTM)
        gb_hh = gb_ih.copy() if dgh is dgx and gb_ih is not None else \
            _unpermute(xp, dgh.sum(axis=0), rows_h)
    return gw_ih, gw_hh, gb_ih, gb_hh


def _start_state(xp, g, b, h, dtype):
    """The running gradient of the state, starting from dL/dh_n (zeros if none)."""
    return xp.zeros((b, h), dtype=dtype) if g is None else g.copy()
