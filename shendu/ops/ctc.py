"""Connectionist Temporal Classification (Graves et al., 2006): ``ctc_loss``.

A network emits, at each of T frames, log-probabilities over C classes, one of them
the *blank*. A label sequence ``l`` of length S (no blanks) is read off a frame-wise
path by collapsing repeats, then dropping blanks (``a a - b -> ab``, ``a - a -> aa``).
The loss is ``-log p(l | x)``, the probability summed over every path that collapses
to ``l``. Dynamic programming over the *extended* labels
``l' = (blank, l_1, blank, l_2, ..., l_S, blank)`` (length L = 2S + 1):

    alpha_0(0) = y_0(blank),  alpha_0(1) = y_0(l_1)
    alpha_t(s) = y_t(l'_s) * [alpha_{t-1}(s) + alpha_{t-1}(s-1) + skip_s alpha_{t-1}(s-2)]
    p(l | x) = alpha_{T-1}(L-1) + alpha_{T-1}(L-2)

``skip_s`` is 1 when ``l'_s`` is a label different from ``l'_{s-2}``: a path may jump
over a blank between two different labels, never between equal ones (``aa`` needs a
blank between its two a's, so it needs at least 3 frames). The backward variables
``beta`` run the same recursion from the end, and

    gamma_t(s) = alpha_t(s) beta_t(s) / (y_t(l'_s) p(l | x))

is the posterior probability that frame t sits on extended label s (beta_t includes
frame t's emission, like alpha_t, hence the division by y_t). Everything runs in log
space (products become sums, sums a stable log-sum-exp), vectorised over the batch and
the extended-label axis; only time is a Python loop.

Gradient. ``d(-log p)/d log y_t(c) = -sum_{s: l'_s = c} gamma_t(s)``. PyTorch's
``ctc_loss`` returns instead

    grad_t(c) = y_t(c) - sum_{s: l'_s = c} gamma_t(s)        (0 for t >= input length)

which is the gradient with respect to the *logits* when ``log_probs = log_softmax(logits)``
(log_softmax's backward maps both to the same logits gradient, because
``sum_c gamma_t(c) = 1``). shendu returns exactly PyTorch's gradient, so a model trained
with ``log_softmax`` then ``ctc_loss`` gets the same updates; a central-difference check
must therefore differentiate through ``log_softmax`` (see tests/test_ctc.py).

>>> import numpy as np, shendu
>>> from shendu.nn import functional as F
>>> logits = shendu.tensor(np.zeros((2, 1, 3)), requires_grad=True)   # T=2, N=1, C=3
>>> loss = F.ctc_loss(F.log_softmax(logits, dim=2), shendu.tensor([[1]]), [2], [1])
>>> round(float(loss), 4)      # paths "1 1", "1 -", "- 1": p = 3/9
1.0986
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._loss_util import _check_reduction, _input

__all__ = ["ctc_loss"]

_NAME = "ctc_loss"
_NEG_INF = -np.inf
_AT_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _host(value):
    """A Tensor's or array's values as a NumPy array (CuPy arrays are copied over)."""
    data = value._data if isinstance(value, Tensor) else value
    if hasattr(data, "get") and not isinstance(data, np.ndarray):   # a CuPy array
        data = data.get()
    return np.asarray(data)


def _lengths(value, what, batch, unbatched):
    """``input_lengths``/``target_lengths`` as an int64 (N,) array, checked."""
    arr = _host(value)
    if arr.dtype.kind not in "iub":
        raise TypeError(f"{_NAME}: {what} must hold integers, got dtype {arr.dtype}; "
                        "convert it with .long() (or pass a list of ints)")
    if unbatched and arr.size != 1:
        raise ValueError(f"{_NAME}: unbatched log_probs (T, C) take one {what}, "
                         f"got shape {arr.shape}")
    arr = arr.reshape(-1).astype(np.int64)
    if arr.shape != (batch,):
        raise ValueError(f"{_NAME}: {what} must have one entry per batch element, shape "
                         f"({batch},), got {arr.shape} values")
    if (arr < 0).any():
        raise ValueError(f"{_NAME}: {what} must be >= 0, got {arr.tolist()}")
    return arr


def _padded_targets(targets, target_lengths, batch, unbatched):
    """Targets as a padded (N, S) int64 array (the 1-D concatenated layout unpacked)."""
    t = _host(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{_NAME}: targets hold class indices but have dtype {t.dtype}; "
                        "convert them with .long()")
    if unbatched:
        if t.ndim != 1:
            raise ValueError(f"{_NAME}: unbatched log_probs (T, C) take 1-D targets (S,), "
                             f"got shape {t.shape}")
        t = t[None]
    elif t.ndim == 1:   # concatenated: (sum(target_lengths),)
        total = int(target_lengths.sum())
        if t.shape[0] < total:
            raise ValueError(f"{_NAME}: 1-D (concatenated) targets have {t.shape[0]} "
                             f"labels but sum(target_lengths) = {total}")
        width = int(target_lengths.max(initial=0))
        starts = np.concatenate([[0], np.cumsum(target_lengths)[:-1]])
        cols = np.arange(width)
        inside = cols[None] < target_lengths[:, None]
        index = np.where(inside, starts[:, None] + cols[None], 0)
        t = np.where(inside, t[index] if t.size else 0, 0)
    elif t.ndim != 2 or t.shape[0] != batch:
        raise ValueError(f"{_NAME}: targets must be padded (N, S) = ({batch}, S) or "
                         f"concatenated 1-D (sum(target_lengths),), got shape {t.shape}")
    if (target_lengths > t.shape[1]).any():
        raise ValueError(f"{_NAME}: target_lengths {target_lengths.tolist()} exceed the "
                         f"padded targets' length S = {t.shape[1]}")
    return t.astype(np.int64)


def _check_labels(targets, target_lengths, blank, C):
    """Every label inside its target length is a class in 0..C-1 other than blank."""
    inside = np.arange(targets.shape[1])[None] < target_lengths[:, None]
    bad = inside & ((targets < 0) | (targets >= C))
    if bad.any():
        n, s = np.argwhere(bad)[0]
        raise IndexError(f"{_NAME}: target label {targets[n, s]} (sample {n}, position "
                         f"{s}) is out of range for log_probs with C = {C} classes")
    if (inside & (targets == blank)).any():
        n, s = np.argwhere(inside & (targets == blank))[0]
        raise ValueError(f"{_NAME}: targets must not contain the blank label {blank} "
                         f"(sample {n}, position {s}); blank only appears in paths")


def _logsumexp3(a, b, c, xp):
    """log(e^a + e^b + e^c) elementwise, stable (shift by the max; all -inf stays -inf)."""
    m = xp.maximum(xp.maximum(a, b), c)
    shift = xp.where(m == _NEG_INF, 0.0, m)   # -inf - -inf would be nan
    return xp.log(xp.exp(a - shift) + xp.exp(b - shift) + xp.exp(c - shift)) + shift


def _extended(targets, target_lengths, blank):
    """Extended labels (N, L) = blank, l_1, blank, ..., l_S, blank (padding: blank) and
    the additive skip mask (N, L): 0 where alpha_t(s) may come from alpha_{t-1}(s-2)."""
    N, S = targets.shape
    inside = np.arange(S)[None] < target_lengths[:, None]
    ext = np.full((N, 2 * S + 1), blank, np.int64)
    ext[:, 1::2] = np.where(inside, targets, blank)
    skip = np.zeros(ext.shape, bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]
    return ext, np.where(skip, 0.0, _NEG_INF)


class CTCLoss(Function):
    """CTC negative log-likelihood per sample, reduced; see the module docstring.

        loss_n = -log sum_{paths pi -> l_n} prod_t y_t(pi_t)
        grad_t(c) = y_t(c) - sum_{s: l'_s = c} gamma_t(s)      (PyTorch's convention)
    """

    @staticmethod
    def forward(ctx, log_probs, *, ext, skip, input_lengths, target_lengths, reduction,
                zero_infinity, unbatched):
        xp = ctx.xp
        lp = log_probs[:, None] if unbatched else log_probs
        T, N, C = lp.shape
        L = ext.shape[1]
        lp64 = lp.astype(xp.float64)
        ext_x = xp.asarray(ext)
        skip_x = xp.asarray(skip)
        # emissions of the extended labels: lpe[t, n, s] = log y_t(l'_s)
        lpe = xp.take_along_axis(lp64, xp.broadcast_to(ext_x[None], (T, N, L)), axis=2)
        # alpha with two -inf columns in front, so s-1 and s-2 are plain slices
        alpha = xp.full((T, N, L + 2), _NEG_INF)
        alpha[0, :, 2:4] = lpe[0, :, :2]
        with np.errstate(divide="ignore", invalid="ignore"):
            for t in range(1, T):
                prev = alpha[t - 1]
                alpha[t, :, 2:] = _logsumexp3(prev[:, 2:], prev[:, 1:-1], prev[:, :-2] + skip_x,
                                              xp) + lpe[t]
        rows = xp.arange(N)
        last_t = xp.asarray(np.maximum(input_lengths - 1, 0))
        end = xp.asarray(2 * target_lengths + 2)   # column of the final blank
        a_end = alpha[last_t, rows]
        log_p = xp.logaddexp(a_end[rows, end], a_end[rows, end - 1])
        # an empty input explains only an empty target
        empty = xp.asarray(input_lengths == 0)
        log_p = xp.where(empty, xp.where(xp.asarray(target_lengths == 0), 0.0, _NEG_INF), log_p)
        nll = -log_p
        infinite = xp.isinf(nll)
        if zero_infinity:
            nll = xp.where(infinite, 0.0, nll)
        norm = xp.asarray(np.maximum(target_lengths, 1), dtype=xp.float64)
        if reduction == "none":
            out = nll
        elif reduction == "sum":
            out = nll.sum()
        else:
            out = (nll / norm).mean()
        ctx.save_for_backward(lp64, lpe, alpha)
        ctx.ext, ctx.skip, ctx.log_p, ctx.infinite, ctx.norm = ext_x, skip_x, log_p, infinite, norm
        ctx.input_lengths, ctx.target_lengths = input_lengths, target_lengths
        ctx.reduction, ctx.zero_infinity, ctx.unbatched = reduction, zero_infinity, unbatched
        ctx.dtype = log_probs.dtype
        out = xp.asarray(out, dtype=log_probs.dtype)
        return out[0] if unbatched and reduction == "none" else out

    @staticmethod
    def backward(ctx, g):
        xp = ctx.xp
        lp64, lpe, alpha = ctx.saved_tensors
        T, N, C = lp64.shape
        beta = _beta(xp, lpe, ctx.skip, ctx.input_lengths, ctx.target_lengths)
        with np.errstate(invalid="ignore"):
            # log gamma_t(s): alpha and beta both hold frame t's emission, remove one
            log_gamma = alpha[:, :, 2:] + beta - lpe - ctx.log_p[None, :, None]
        gamma = xp.exp(log_gamma)
        # occupancy of each class: sum gamma_t(s) over the s with l'_s = c
        onehot = (ctx.ext[:, :, None] == xp.arange(C)[None, None]).astype(xp.float64)
        occupancy = xp.matmul(gamma.transpose(1, 0, 2), onehot).transpose(1, 0, 2)
        grad = xp.exp(lp64) - occupancy
        g = xp.asarray(g, dtype=xp.float64)
        if ctx.reduction == "none":
            scale = g.reshape(-1)
        elif ctx.reduction == "sum":
            scale = xp.broadcast_to(g, (N,))
        else:
            scale = g / (ctx.norm * N)
        if ctx.zero_infinity:
            scale = xp.where(ctx.infinite, 0.0, scale)
            grad = xp.where(ctx.infinite[None, :, None], 0.0, grad)   # nan * 0 is nan
        active = xp.arange(T)[:, None] < xp.asarray(ctx.input_lengths)[None]
        grad = xp.where(active[:, :, None], grad * scale[None, :, None], 0.0)
        grad = grad.astype(ctx.dtype)
        return grad[:, 0] if ctx.unbatched else grad


def _beta(xp, lpe, skip, input_lengths, target_lengths):
    """log beta_t(s) (T, N, L), including frame t's emission; -inf past each input's end.

    beta_{T_n-1}(L_n-1) = y(blank), beta_{T_n-1}(L_n-2) = y(l_S), and
    beta_t(s) = y_t(l'_s) [beta_{t+1}(s) + beta_{t+1}(s+1) + skip_{s+2} beta_{t+1}(s+2)]."""
    T, N, L = lpe.shape
    beta = xp.full((T + 1, N, L + 2), _NEG_INF)   # two -inf columns behind, row T all -inf
    skip_next = xp.concatenate([skip[:, 2:], xp.full((N, 2), _NEG_INF)], axis=1)
    end = xp.asarray(2 * target_lengths)
    ends_at = xp.asarray(input_lengths - 1)
    allowed = xp.arange(L)[None] >= (end - 1)[:, None]   # only the last two labels start
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(T - 1, -1, -1):
            nxt = beta[t + 1]
            cur = _logsumexp3(nxt[:, :L], nxt[:, 1:L + 1], nxt[:, 2:] + skip_next, xp) + lpe[t]
            start = xp.where(allowed & (xp.arange(L)[None] <= end[:, None]), lpe[t], _NEG_INF)
            beta[t, :, :L] = xp.where((ends_at == t)[:, None], start, cur)
    return beta[:T, :, :L]


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean",
             zero_infinity=False):
    """Connectionist Temporal Classification loss (PyTorch's ``F.ctc_loss``).

    Parameters
    ----------
    log_probs : Tensor (T, N, C) or unbatched (T, C): log-probabilities over C classes
        (``log_softmax`` outputs), time first.
    targets : integer Tensor, padded (N, S) (entries past each target length ignored)
        or concatenated 1-D (sum(target_lengths),); unbatched: (S,). Labels in 0..C-1,
        never ``blank``.
    input_lengths, target_lengths : (N,) integers (Tensor, list or tuple): frames used
        of each input (<= T) and labels of each target (<= S).
    blank : the blank class index (default 0).
    reduction : ``'mean'`` (each loss divided by its target length, clamped to >= 1, then
        averaged over the batch, as PyTorch), ``'sum'`` or ``'none'`` ((N,) losses).
    zero_infinity : impossible alignments (an input too short for its target, counting
        the blank a repeated label needs) give an infinite loss and nan gradients;
        ``True`` makes them 0 loss and 0 gradient.

    The math and the gradient convention (PyTorch's, ``y - gamma`` with respect to
    ``log_probs``) are in this module's docstring and docs/ctc.md.

    >>> import shendu
    >>> from shendu.nn import functional as F
    >>> lp = F.log_softmax(shendu.tensor([[[0.0, 2.0]], [[2.0, 0.0]]]), dim=2)  # T=2, N=1, C=2
    >>> F.ctc_loss(lp, shendu.tensor([[1]]), [2], [1])
    tensor(0.1109)
    """
    reduction = _AT_REDUCTIONS.get(reduction, reduction)   # torch.ctc_loss takes 0/1/2
    _check_reduction(_NAME, reduction)
    x = _input(_NAME, log_probs, "log_probs")
    if x.ndim not in (2, 3):
        raise ValueError(f"{_NAME}: log_probs must be (T, N, C) or unbatched (T, C), got "
                         f"shape {x.shape}")
    unbatched = x.ndim == 2
    T, C = x.shape[0], x.shape[-1]
    if T == 0:
        raise ValueError(f"{_NAME}: log_probs {x.shape} has no frames (T = 0)")
    N = 1 if unbatched else x.shape[1]
    if not isinstance(blank, (int, np.integer)) or not 0 <= blank < C:
        raise ValueError(f"{_NAME}: blank must be a class index in 0..{C - 1} for "
                         f"log_probs with C = {C} classes, got {blank!r}")
    input_lengths = _lengths(input_lengths, "input_lengths", N, unbatched)
    target_lengths = _lengths(target_lengths, "target_lengths", N, unbatched)
    if (input_lengths > T).any():
        raise ValueError(f"{_NAME}: input_lengths {input_lengths.tolist()} exceed the "
                         f"number of frames T = {T} of log_probs {x.shape}")
    padded = _padded_targets(targets, target_lengths, N, unbatched)
    _check_labels(padded, target_lengths, blank, C)
    ext, skip = _extended(padded, target_lengths, blank)
    return CTCLoss.apply(x, ext=ext, skip=skip, input_lengths=input_lengths,
                         target_lengths=target_lengths, reduction=reduction,
                         zero_infinity=bool(zero_infinity), unbatched=unbatched)
