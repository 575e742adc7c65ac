"""Loss functions, as PyTorch 2.13's ``torch.nn.functional`` computes them.

Every loss takes ``reduction``: ``'mean'`` (the default), ``'sum'`` or ``'none'`` (one
loss per element or per sample). Each pointwise loss is one Function whose forward
also reduces, so the backward is one multiply by ``g`` (``'sum'``, ``'none'``) or
``g / n`` (``'mean'``). ``cross_entropy`` is one fused Function from logits:

    loss_i = -sum_c A_ic log softmax(x_i)_c,      dloss_i/dx_i = softmax(x_i) sum_c A_ic - A_i

where ``A`` is the target distribution times the class weights (one-hot targets give
the familiar ``softmax - onehot``). Backwards are written with operators and ``ctx.xp``
functions so that second derivatives work (``double_backward = True``); clamps and
masks are kept as constant arrays, which is exact because they are piecewise constant.

Shapes: a target whose shape differs from the input's is broadcast with a
``UserWarning``, as PyTorch does ((32, 1) against (32,) silently gives (32, 32) and a
wrong loss). Class weights, ``pos_weight`` and class-index targets get no gradient.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import shape_of, unbroadcast

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "cross_entropy",
           "nll_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits",
           "kl_div", "cosine_embedding_loss", "hinge_embedding_loss",
           "margin_ranking_loss", "soft_margin_loss", "multi_margin_loss",
           "poisson_nll_loss"]

_REDUCTIONS = ("mean", "sum", "none")


# ----------------------------------------------------------------------- helpers
def _check_reduction(name, reduction, allowed=_REDUCTIONS):
    if reduction not in allowed:
        choices = ", ".join(repr(r) for r in allowed[:-1]) + f" or {allowed[-1]!r}"
        raise ValueError(f"{name}: reduction must be {choices}, got {reduction!r}")


def _input(name, x, what="input"):
    """A floating-point Tensor (arrays and lists are wrapped)."""
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: {what} must be a floating-point tensor, got {x.dtype}; "
                        "convert it with .float()")
    return x


def _target(x, t):
    """A target as a Tensor of the input's dtype. A target that needs a gradient is kept
    as is; others are constants converted to the input's dtype, so float64 labels from
    NumPy do not turn a float32 loss into float64 (PyTorch would promote)."""
    if isinstance(t, Tensor) and (t.requires_grad or t.dtype == x.dtype):
        return t
    data = t.data if isinstance(t, Tensor) else x.xp.asarray(t)
    return Tensor._make(data.astype(x.dtype))


def _constant(x, w, what, name):
    """Weights as a constant array of ``x``'s dtype broadcastable to ``x`` (or None)."""
    if w is None:
        return None
    w = (w.data if isinstance(w, Tensor) else x.xp.asarray(w)).astype(x.dtype)
    try:
        shape = np.broadcast_shapes(w.shape, x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"{name}: {what} of shape {w.shape} does not broadcast to the "
                         f"input's shape {x.shape}")
    return w


def _pair_shape(name, x, t, stacklevel=3):
    """Warn (as PyTorch does) when the shapes differ but broadcast; raise when they don't."""
    sx, st = x.shape, t.shape
    if sx == st:
        return
    try:
        shape = np.broadcast_shapes(sx, st)
    except ValueError:
        raise ValueError(f"{name}: input {sx} and target {st} have different shapes that "
                         f"do not broadcast; give a target of shape {sx}") from None
    warnings.warn(f"{name}: input {sx} and target {st} have different shapes; they "
                  f"broadcast to {shape}, which is likely not what you want: reshape the "
                  f"target to {sx}", UserWarning, stacklevel=stacklevel)


def _reduce(xp, loss, reduction, norm=None):
    """Apply ``reduction``; ``'mean'`` divides by ``norm`` (default: the element count)."""
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):  # empty input: nan, as PyTorch
            s = s / (loss.size if norm is None else norm)
    return xp.asarray(s, dtype=loss.dtype)


def _scale(g, reduction, norm):
    """The gradient of the reduction at each element: ``g`` or ``g / norm``."""
    return g / (norm or 1) if reduction == "mean" else g


def _reduce_tensor(loss, reduction):
    """``_reduce`` for losses composed of Tensor ops."""
    if reduction == "none":
        return loss
    s = loss.sum()
    if reduction == "mean":
        with np.errstate(invalid="ignore", divide="ignore"):
            s = s / loss.numel()
    return s


def _grads(ctx, gx, gy):
    """Sum broadcast gradients back to the two inputs' shapes."""
    sx, sy = ctx.shapes
    return (unbroadcast(gx, sx) if ctx.needs_input_grad[0] else None,
            unbroadcast(gy, sy) if ctx.needs_input_grad[1] else None)


# ------------------------------------------------------------ regression losses
class _DifferenceLoss(Function):
    """A loss of ``d = input - target``: subclasses give ``value(ctx, d)`` (the pointwise
    loss, saving constant masks on ctx) and ``slope(ctx, d)`` = dl/dd;
    dl/dinput = slope,  dl/dtarget = -slope."""
    double_backward = True

    @classmethod
    def forward(cls, ctx, x, y, reduction="mean", **opts):
        ctx.reduction, ctx.opts = reduction, opts
        ctx.shapes = shape_of(x), shape_of(y)
        ctx.save_for_backward(x, y)
        loss = cls.value(ctx, x - y, **opts)
        ctx.norm = loss.size
        return _reduce(ctx.xp, loss, reduction)

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        gd = cls.slope(ctx, x - y, **ctx.opts) * _scale(g, ctx.reduction, ctx.norm)
        return _grads(ctx, gd, -gd)


class MSE(_DifferenceLoss):
    """l = d^2;   dl/dd = 2 d"""

    @staticmethod
    def value(ctx, d):
        return d * d

    @staticmethod
    def slope(ctx, d):
        return 2 * d


class L1(_DifferenceLoss):
    """l = |d|;   dl/dd = sign(d)  (0 at d = 0, as PyTorch)"""

    @staticmethod
    def value(ctx, d):
        ctx.sign = ctx.xp.sign(d)
        return ctx.xp.abs(d)

    @staticmethod
    def slope(ctx, d):
        return ctx.sign


class SmoothL1(_DifferenceLoss):
    """l = d^2 / (2 beta) where |d| < beta, else |d| - beta / 2;
    dl/dd = d / beta inside, sign(d) outside"""

    @staticmethod
    def value(ctx, d, beta):
        xp = ctx.xp
        a = xp.abs(d)
        inner = a < beta
        ctx.inner = inner.astype(d.dtype)
        ctx.outer = xp.sign(d) * ~inner
        return xp.where(inner, 0.5 * d * d / beta, a - 0.5 * beta)

    @staticmethod
    def slope(ctx, d, beta):
        return ctx.inner * d / beta + ctx.outer


class Huber(_DifferenceLoss):
    """l = d^2 / 2 where |d| < delta, else delta (|d| - delta / 2);
    dl/dd = d inside, delta sign(d) outside"""

    @staticmethod
    def value(ctx, d, delta):
        xp = ctx.xp
        a = xp.abs(d)
        inner = a < delta
        ctx.inner = inner.astype(d.dtype)
        ctx.outer = xp.sign(d) * ~inner * delta
        return xp.where(inner, 0.5 * d * d, delta * (a - 0.5 * delta))

    @staticmethod
    def slope(ctx, d, delta):
        return ctx.inner * d + ctx.outer


def _difference_loss(name, fn, input, target, reduction, weight, weighted_mean, **opts):
    _check_reduction(name, reduction)
    x = _input(name, input)
    t = _target(x, target)
    _pair_shape(name, x, t, stacklevel=4)
    if weight is None:
        return fn.apply(x, t, reduction=reduction, **opts)
    weight = _target(x, weight)   # differentiable when it requires grad
    if weight.shape != x.shape:
        raise ValueError(f"{name}: weight of shape {weight.shape} must have the input's "
                         f"shape {x.shape}")
    loss = fn.apply(x, t, reduction="none", **opts) * weight
    if reduction == "mean" and weighted_mean:   # sum(w l) / sum(w), as PyTorch
        return loss.sum() / weight.sum()
    return _reduce_tensor(loss, reduction)


def mse_loss(input, target, *, reduction="mean", weight=None):
    """Mean squared error ``(input - target)^2``, reduced.

    ``input`` and ``target`` have the same shape (a different but broadcastable target
    is broadcast with a warning). ``weight`` (shaped like ``input``) scales each element;
    with ``'mean'`` the result is then ``sum(w l) / sum(w)``.

    >>> F.mse_loss(shendu.tensor([1.0, 2.0]), shendu.tensor([1.0, 4.0]))
    tensor(2.)
    """
    return _difference_loss("mse_loss", MSE, input, target, reduction, weight, True)


def l1_loss(input, target, *, reduction="mean", weight=None):
    """Mean absolute error ``|input - target|``, reduced (``weight`` as in ``mse_loss``).

    >>> F.l1_loss(shendu.tensor([1.0, 2.0]), shendu.tensor([1.0, 4.0]))
    tensor(1.)
    """
    return _difference_loss("l1_loss", L1, input, target, reduction, weight, True)


def smooth_l1_loss(input, target, *, reduction="mean", beta=1.0):
    """Squared error below ``beta``, absolute error above: ``0.5 d^2 / beta`` for
    ``|d| < beta``, else ``|d| - 0.5 beta`` (``beta=0`` is ``l1_loss``).

    >>> F.smooth_l1_loss(shendu.tensor([0.5, 3.0]), shendu.tensor([0.0, 0.0]))
    tensor(1.3125)
    """
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be >= 0, got {beta}")
    if beta == 0:
        return _difference_loss("smooth_l1_loss", L1, input, target, reduction, None, True)
    return _difference_loss("smooth_l1_loss", SmoothL1, input, target, reduction, None,
                            True, beta=beta)


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Huber loss: ``0.5 d^2`` for ``|d| < delta``, else ``delta (|d| - 0.5 delta)``;
    ``smooth_l1_loss`` times ``delta`` (with ``beta=delta``). ``weight`` scales each
    element; ``'mean'`` then averages ``w l`` over elements, as PyTorch.

    >>> F.huber_loss(shendu.tensor([0.5, 3.0]), shendu.tensor([0.0, 0.0]), delta=2.0)
    tensor(2.0625)
    """
    if delta <= 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    return _difference_loss("huber_loss", Huber, input, target, reduction, weight, False,
                            delta=delta)


# ------------------------------------------------------ binary classification
class BinaryCrossEntropy(Function):
    """l = -w [y log x + (1 - y) log(1 - x)], each log clamped at -100 (as PyTorch);
    dl/dx = w (x - y) / max(x (1 - x), 1e-12),   dl/dy = w (log(1 - x) - log x)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, y, *, weight, reduction):
        xp = ctx.xp
        ctx.save_for_backward(x, y)
        ctx.w, ctx.reduction = weight, reduction
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 next
            loss = -(y * xp.maximum(xp.log(x), -100) + (1 - y) * xp.maximum(xp.log1p(-x), -100))
        if weight is not None:
            loss = loss * weight
        d = x * (1 - x)
        ctx.fix = xp.maximum(d, 1e-12) - d   # the clamp as a constant offset (0 inside)
        ctx.norm = loss.size
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = ctx.xp
        gs = _scale(g, ctx.reduction, ctx.norm)
        if ctx.w is not None:
            gs = gs * ctx.w
        gx = gs * (x - y) / (x * (1 - x) + ctx.fix) if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gy = gs * (xp.log1p(-x) - xp.log(x))
        return gx, gy


def binary_cross_entropy(input, target, weight=None, *, reduction="mean"):
    """Binary cross-entropy of probabilities ``input`` in [0, 1] against ``target``:
    ``-w [y log x + (1 - y) log(1 - x)]`` (logs clamped at -100).

    Prefer ``binary_cross_entropy_with_logits`` on raw scores: it is stable where a
    sigmoid saturates. ``weight`` broadcasts to the input's shape.

    >>> F.binary_cross_entropy(shendu.tensor([0.8, 0.4]), shendu.tensor([1.0, 0.0]))
    tensor(0.3670)
    """
    name = "binary_cross_entropy"
    _check_reduction(name, reduction)
    x = _input(name, input)
    t = _target(x, target)
    if t.shape != x.shape:
        raise ValueError(f"{name}: target {t.shape} must have the same shape as input "
                         f"{x.shape}")
    d = x.data
    if d.size and not bool(((d >= 0) & (d <= 1)).all()):
        lo, hi = float(x.xp.nanmin(d)), float(x.xp.nanmax(d))
        raise ValueError(f"{name}: input must hold probabilities in [0, 1], got values from "
                         f"{lo:g} to {hi:g}; apply sigmoid first, or better, pass the raw "
                         "scores to binary_cross_entropy_with_logits")
    return BinaryCrossEntropy.apply(x, t, weight=_constant(x, weight, "weight", name),
                                    reduction=reduction)


class BinaryCrossEntropyWithLogits(Function):
    """With s = softplus(-x) = -log sigmoid(x) and lw = 1 + (pos_weight - 1) y:
    l = w [(1 - y) x + lw s];
    dl/dx = w [(1 - y) - lw sigmoid(-x)],   dl/dy = w [(pos_weight - 1) s - x]"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, y, *, weight, pos_weight, reduction):
        xp = ctx.xp
        ctx.save_for_backward(x, y)
        ctx.w, ctx.pw, ctx.reduction = weight, pos_weight, reduction
        # max(-x, 0) + log1p(exp(-|x|)): exp never overflows, even at |x| = 1e3
        s = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        loss = (1 - y) * x + (s if pos_weight is None else (1 + (pos_weight - 1) * y) * s)
        if weight is not None:
            loss = loss * weight
        ctx.norm = loss.size
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp, pw = ctx.xp, ctx.pw
        gs = _scale(g, ctx.reduction, ctx.norm)
        if ctx.w is not None:
            gs = gs * ctx.w
        e = xp.exp(-xp.abs(x))
        gx = gy = None
        if ctx.needs_input_grad[0]:
            sig_neg = xp.where(x >= 0, e, 1) / (1 + e)   # sigmoid(-x) without overflow
            lw = 1 if pw is None else 1 + (pw - 1) * y
            gx = gs * ((1 - y) - lw * sig_neg)
        if ctx.needs_input_grad[1]:
            gy = -x if pw is None else (pw - 1) * (xp.maximum(-x, 0) + xp.log1p(e)) - x
            gy = gs * gy
        return gx, gy


def binary_cross_entropy_with_logits(input, target, weight=None, *, reduction="mean",
                                     pos_weight=None):
    """Sigmoid and binary cross-entropy in one stable op, from raw scores (logits).

    ``l = w [(1 - y) x + (1 + (pos_weight - 1) y) log(1 + e^-x)]``, computed as
    ``max(-x, 0) + log1p(e^-|x|)`` so no exp overflows. ``pos_weight`` (e.g. shape
    ``(C,)`` for input ``(N, C)``) weighs the positive term, to balance rare positives;
    ``weight`` scales each element. Both broadcast to the input's shape.

    >>> F.binary_cross_entropy_with_logits(shendu.tensor([2.0, -1.0]), shendu.tensor([1.0, 0.0]))
    tensor(0.2201)
    """
    name = "binary_cross_entropy_with_logits"
    _check_reduction(name, reduction)
    x = _input(name, input)
    t = _target(x, target)
    if t.shape != x.shape:
        raise ValueError(f"{name}: target {t.shape} must have the same shape as input "
                         f"{x.shape}")
    return BinaryCrossEntropyWithLogits.apply(
        x, t, weight=_constant(x, weight, "weight", name),
        pos_weight=_constant(x, pos_weight, "pos_weight", name), reduction=reduction)


# ------------------------------------------------------- multiclass targets
def _class_axis(name, x):
    if x.ndim == 0:
        raise ValueError(f"{name}: input must have a class dimension: (C,), (N, C) or "
                         "(N, C, d1, ...), got a 0-d tensor")
    return 0 if x.ndim == 1 else 1


def _class_weight(name, x, weight, C):
    """Class weights as a constant (C,) array of the input's dtype, or None."""
    if weight is None:
        return None
    w = (weight.data if isinstance(weight, Tensor) else x.xp.asarray(weight)).astype(x.dtype)
    if tuple(w.shape) != (C,):
        raise ValueError(f"{name}: weight of shape {tuple(w.shape)} must have one entry per "
                         f"class, shape ({C},), for input {x.shape}")
    return w


def _class_index_target(name, x, target, weight, ignore_index):
    """Check class-index targets; return (safe targets, valid mask, per-sample weight
    (0 where ignored), class weights array or None)."""
    ca = _class_axis(name, x)
    C = x.shape[ca]
    expected = x.shape[:ca] + x.shape[ca + 1:]
    t = target.data if isinstance(target, Tensor) else x.xp.asarray(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: target of shape {t.shape} holds class indices but has "
                        f"dtype {t.dtype}; convert it with .long()")
    if tuple(t.shape) != expected:
        raise ValueError(f"{name}: target of shape {t.shape} does not match input "
                         f"{x.shape}: class indices for it have shape {expected}")
    valid = t != ignore_index if ignore_index is not None else x.xp.ones(t.shape, bool)
    bad = valid & ((t < 0) | (t >= C))
    if bool(bad.any()):
        raise IndexError(f"{name}: target class {int(t[bad].reshape(-1)[0])} is out of "
                         f"range for input {x.shape} with {C} classes (expected 0..{C - 1}, "
                         f"or ignore_index={ignore_index})")
    w = _class_weight(name, x, weight, C)
    safe = x.xp.where(valid, t, 0)
    wt = valid.astype(x.dtype) if w is None else w[safe] * valid
    return safe, valid, wt, w


def _class_shaped(w, ndim, ca):
    """Class weights (C,) shaped to broadcast along the class axis."""
    return w.reshape((-1,) + (1,) * (ndim - ca - 1))


def _onehot(xp, safe, C, ndim, ca):
    classes = xp.arange(C).reshape((C,) + (1,) * (ndim - ca - 1))
    return xp.expand_dims(safe, ca) == classes


def _keep_class_axis(ca):
    """Reshape a per-sample array (N, d1, ...) to (N, 1, d1, ...) (arrays and Tensors)."""
    return lambda a: a.reshape(tuple(a.shape[:ca]) + (1,) + tuple(a.shape[ca:]))


def _expand_none(g, reduction, norm, ca):
    """Gradient of the reduction, shaped to broadcast over the class axis."""
    if reduction == "none":
        return _keep_class_axis(ca)(g)
    return _scale(g, reduction, norm)


class CrossEntropy(Function):
    """Softmax cross-entropy from logits x, over the class axis:

        logp = x - logsumexp(x),  p = softmax(x),  loss = -sum_c A_c logp_c
        dloss/dx = p sum_c A_c - A,      dloss/dt = -(1 - eps) w logp  (probability targets)

    A is (1 - eps) w[t] onehot(t) + eps w / C for class indices t (0 where ignored), and
    w ((1 - eps) t + eps / C) for class probabilities t, w the class weights (or 1).
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, t, *, weight, probs, valid, wt, eps, reduction):
        xp = ctx.xp
        ca = 0 if x.ndim == 1 else 1
        C = x.shape[ca]
        m = x.max(axis=ca, keepdims=True)   # shift by the max: exp never overflows
        shifted = x - m
        e = xp.exp(shifted)
        total = e.sum(axis=ca, keepdims=True)
        lse = xp.log(total)
        wc = None if weight is None else _class_shaped(weight, x.ndim, ca)
        logp = shifted - lse if probs or eps else None
        if probs:
            q = t if eps == 0 else t * (1 - eps) + eps / C
            loss = -((q if wc is None else q * wc) * logp).sum(axis=ca)
            norm = loss.size
        else:   # only the targets' log-probabilities are needed: gather, then subtract
            picked = (xp.take_along_axis(shifted, xp.expand_dims(t, ca), axis=ca) - lse).squeeze(ca)
            loss = -wt * picked if eps == 0 else -(1 - eps) * wt * picked
            if eps:
                smooth = -(logp if wc is None else logp * wc).sum(axis=ca)
                loss = loss + eps / C * smooth * valid
            norm = wt.sum()
            ctx.t, ctx.valid, ctx.wt = t, valid, wt
        e /= total                           # softmax, kept for backward
        ctx.save_for_backward(x, t if probs else None)
        ctx.p, ctx.logp, ctx.m, ctx.wc, ctx.array_module = e, logp, m, wc, xp
        ctx.ca, ctx.C, ctx.probs, ctx.eps = ca, C, probs, eps
        ctx.reduction, ctx.norm = reduction, float(norm)
        return _reduce(xp, loss, reduction, norm)

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.saved_tensors
        xp, ca, C, eps, wc = ctx.xp, ctx.ca, ctx.C, ctx.eps, ctx.wc
        gk = _expand_none(g, ctx.reduction, ctx.norm, ca)
        keep = _keep_class_axis(ca)
        if not ctx.probs and not ctx.tensor_mode:
            return CrossEntropy._index_grad(ctx, g, gk, keep), None
        if ctx.tensor_mode:   # recompute from the graph's x, so it differentiates again
            shifted = x - ctx.m
            logp = shifted - xp.log(xp.exp(shifted).sum(axis=ca, keepdims=True))
            p = xp.exp(logp)
        else:
            logp, p = ctx.logp, ctx.p
        if ctx.probs:
            q = t if eps == 0 else t * (1 - eps) + eps / C
            A = q if wc is None else q * wc
        else:
            A = _onehot(ctx.array_module, ctx.t, C, x.ndim, ca) * keep(ctx.wt * (1 - eps))
            if eps:
                A = A + eps / C * (1 if wc is None else wc) * keep(ctx.valid)
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = (p * A.sum(axis=ca, keepdims=True) - A) * gk
        if ctx.probs and ctx.needs_input_grad[1]:
            gt = -(1 - eps) * logp * gk if wc is None else -(1 - eps) * logp * wc * gk
        return gx, gt

    @staticmethod
    def _index_grad(ctx, g, gk, keep):
        """The same gradient for class indices without building A: p times the row sums
        of A, then the target entries corrected in place (one pass over (N, C, ...))."""
        xp, ca, C, eps, wc, wt = ctx.array_module, ctx.ca, ctx.C, ctx.eps, ctx.wc, ctx.wt
        rows = (1 - eps) * wt
        if eps:
            rows = rows + (eps if wc is None else eps / C * float(wc.sum())) * ctx.valid
        gx = ctx.p * (keep(rows) * gk)
        if eps:
            gx -= eps / C * (1 if wc is None else wc) * keep(ctx.valid) * gk
        sample_g = g if ctx.reduction == "none" else _scale(g, ctx.reduction, ctx.norm)
        at_target = xp.broadcast_to((1 - eps) * wt * sample_g, wt.shape)
        gx.reshape(-1)[_flat_target_index(xp, ctx.t, gx.shape, ca)] -= at_target.reshape(-1)
        return gx


def _flat_target_index(xp, t, shape, ca):
    """Positions of the target classes in the flattened (N, C, d1, ...) array."""
    if ca == 0:
        return t.reshape(1)
    N, C, D = shape[0], shape[1], int(np.prod(shape[2:], dtype=np.int64))
    n = xp.arange(N).reshape((N,) + (1,) * (t.ndim - 1))
    d = xp.arange(D).reshape(t.shape[1:]) if t.ndim > 1 else 0
    return ((n * C + t) * D + d).reshape(-1)


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """Cross-entropy between softmax(input) over the class axis and ``target``, from raw
    scores (logits), computed stably via log-sum-exp in one op.

    Parameters
    ----------
    input : Tensor (C,), (N, C) or (N, C, d1, ...), logits (the class axis is 1).
    target : integer Tensor of class indices, shape (), (N,) or (N, d1, ...); or float
        Tensor of class probabilities shaped like ``input``.
    weight : optional (C,) rescaling of each class. With ``'mean'`` and class indices the
        sum is divided by the total weight of the targets, ``sum_i w[t_i]``.
    ignore_index : class-index targets equal to it add nothing (loss and gradient), and
        do not count in the mean.
    label_smoothing : eps in [0, 1]; the target becomes ``(1 - eps) onehot + eps / C``.

    ``loss_i = -sum_c w_c q_ic log softmax(x_i)_c``; its gradient is
    ``(softmax(x) - onehot) * w / normalizer`` for one-hot targets.

    >>> logits = shendu.tensor([[2.0, 0.5, -1.0], [0.0, 1.0, 0.0]], requires_grad=True)
    >>> F.cross_entropy(logits, shendu.tensor([0, 1]))
    tensor(0.3964, grad_fn=<CrossEntropyBackward>)
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be between 0.0 and 1.0, got "
                         f"{label_smoothing}")
    x = _input(name, input)
    ca = _class_axis(name, x)
    tdtype = target.dtype if isinstance(target, Tensor) else np.asarray(target).dtype
    tshape = target.shape if isinstance(target, Tensor) else np.shape(target)
    tshape = tuple(tshape)
    if tdtype.kind == "f":   # class probabilities
        index_shape = x.shape[:ca] + x.shape[ca + 1:]
        if tshape != x.shape:
            if tshape == index_shape:
                raise TypeError(f"{name}: target of shape {tshape} holds class indices but "
                                f"has dtype {tdtype}; convert it with .long() (or give class "
                                f"probabilities shaped like the input {x.shape})")
            raise ValueError(f"{name}: target of shape {tshape} with class probabilities "
                             f"must match input {x.shape}")
        w = _class_weight(name, x, weight, x.shape[ca])
        return CrossEntropy.apply(x, _target(x, target), weight=w, probs=True, valid=None, wt=None,
                                  eps=label_smoothing, reduction=reduction)
    if tshape == x.shape and x.ndim > 1:
        raise TypeError(f"{name}: target of shape {tshape} is shaped like the input, so it "
                        f"is read as class probabilities, but has dtype {tdtype}; convert it "
                        "with .float() (one-hot rows work), or give class indices of shape "
                        f"{x.shape[:ca] + x.shape[ca + 1:]}")
    safe, valid, wt, w = _class_index_target(name, x, target, weight, ignore_index)
    return CrossEntropy.apply(x, safe, weight=w, probs=False, valid=valid, wt=wt,
                              eps=label_smoothing, reduction=reduction)


class NLL(Function):
    """loss = -w[t] x[t] (0 where t is ignored);   dloss/dx = -w[t] onehot(t)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, *, t, valid, wt, reduction):
        xp = ctx.xp
        ca = 0 if x.ndim == 1 else 1
        loss = -wt * xp.take_along_axis(x, xp.expand_dims(t, ca), axis=ca).squeeze(ca)
        norm = wt.sum()
        ctx.ca, ctx.t, ctx.wt, ctx.array_module = ca, t, wt, xp
        ctx.shape, ctx.reduction, ctx.norm = x.shape, reduction, float(norm)
        return _reduce(xp, loss, reduction, norm)

    @staticmethod
    def backward(ctx, g):
        ca, shape, xp = ctx.ca, ctx.shape, ctx.array_module
        if not ctx.tensor_mode:   # scatter -w[t] g into zeros
            sample_g = g if ctx.reduction == "none" else _scale(g, ctx.reduction, ctx.norm)
            gx = xp.zeros(shape, ctx.wt.dtype)
            gx.reshape(-1)[_flat_target_index(xp, ctx.t, shape, ca)] = \
                xp.broadcast_to(-ctx.wt * sample_g, ctx.wt.shape).reshape(-1)
            return gx
        onehot = _onehot(xp, ctx.t, shape[ca], len(shape), ca)
        coef = -(onehot * _keep_class_axis(ca)(ctx.wt))   # constant: the loss is linear
        return coef * _expand_none(g, ctx.reduction, ctx.norm, ca)


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood of class-index targets, from log-probabilities ``input``
    (e.g. ``log_softmax(x, dim=1)``): ``loss_i = -w[t_i] input[i, t_i]``.

    Shapes and options as in ``cross_entropy`` (class indices only); ``'mean'`` divides
    by ``sum_i w[t_i]`` over targets that are not ``ignore_index``.

    >>> logp = shendu.tensor([[-0.1, -2.4], [-1.2, -0.4]])
    >>> F.nll_loss(logp, shendu.tensor([0, 1]))
    tensor(0.2500)
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    x = _input(name, input)
    safe, valid, wt, _ = _class_index_target(name, x, target, weight, ignore_index)
    return NLL.apply(x, t=safe, valid=valid, wt=wt, reduction=reduction)


# --------------------------------------------------------- distributions
class KLDiv(Function):
    """Pointwise KL term with input x = log q and target y = p (or log p):
        y log y - y x   (0 where y = 0);   dl/dx = -y,   dl/dy = log y + 1 - x  (0 at y = 0)
        log_target:  e^y (y - x);          dl/dx = -e^y, dl/dy = e^y (y - x + 1)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, y, *, log_target, reduction, norm):
        xp = ctx.xp
        ctx.save_for_backward(x, y)
        ctx.shapes = shape_of(x), shape_of(y)
        ctx.log_target, ctx.reduction = log_target, reduction
        if log_target:
            loss = xp.exp(y) * (y - x)
        else:
            zero = y == 0
            ctx.zero, ctx.nonzero = zero.astype(y.dtype), ~zero
            with np.errstate(invalid="ignore", divide="ignore"):  # y < 0 gives nan, as torch
                loss = y * xp.log(y + ctx.zero) - y * x          # xlogy: 0 log 0 = 0
        ctx.norm = loss.size if norm is None else norm
        return _reduce(xp, loss, "mean" if reduction == "batchmean" else reduction, ctx.norm)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = ctx.xp
        gs = _scale(g, "mean" if ctx.reduction == "batchmean" else ctx.reduction, ctx.norm)
        if ctx.log_target:
            ey = xp.exp(y)
            return _grads(ctx, -ey * gs, ey * (y - x + 1) * gs)
        gy = None
        if ctx.needs_input_grad[1]:
            with np.errstate(invalid="ignore", divide="ignore"):
                gy = (xp.log(y + ctx.zero) + 1 - x) * ctx.nonzero * gs
        return _grads(ctx, -y * gs, gy)


def kl_div(input, target, *, reduction="mean", log_target=False):
    """Kullback-Leibler divergence ``KL(target || exp(input))``, pointwise
    ``target (log target - input)``: ``input`` holds log-probabilities (``log_softmax``),
    ``target`` probabilities (or log-probabilities with ``log_target=True``).

    ``reduction='batchmean'`` (sum / batch size) gives the true KL divergence;
    ``'mean'`` (the default, as PyTorch) divides by every element and warns. Where the
    target is 0 its gradient is 0 (PyTorch gives nan there).

    >>> logq = shendu.tensor([[0.25, 0.75]]).log()
    >>> F.kl_div(logq, shendu.tensor([[0.5, 0.5]]), reduction="batchmean")
    tensor(0.1438)
    """
    name = "kl_div"
    _check_reduction(name, reduction, ("mean", "batchmean", "sum", "none"))
    if reduction == "mean":
        warnings.warn("kl_div: reduction='mean' divides the total loss by both the batch "
                      "size and the support size; 'batchmean' divides only by the batch "
                      "size and matches the definition of KL divergence", UserWarning,
                      stacklevel=2)
    x = _input(name, input)
    t = _target(x, target)
    _pair_shape(name, x, t)
    norm = x.shape[0] if reduction == "batchmean" and x.ndim else None
    return KLDiv.apply(x, t, log_target=log_target, reduction=reduction, norm=norm)


def poisson_nll_loss(input, target, log_input=True, full=False, *, eps=1e-8,
                     reduction="mean"):
    """Negative log-likelihood of ``target ~ Poisson(rate)``: ``exp(input) - target *
    input`` with ``log_input=True`` (input is the log-rate), else ``input - target *
    log(input + eps)``. ``full`` adds Stirling's term ``t log t - t + 0.5 log(2 pi t)``
    for targets > 1 (a constant: it gets no gradient).

    >>> F.poisson_nll_loss(shendu.tensor([0.0, 1.0]), shendu.tensor([1.0, 2.0]))
    tensor(0.8591)
    """
    name = "poisson_nll_loss"
    _check_reduction(name, reduction)
    x = _input(name, input)
    t = _target(x, target)
    _pair_shape(name, x, t)
    from . import exp, log   # composed of differentiable ops: gradients come from them
    loss = exp(x) - t * x if log_input else x - t * log(x + eps)
    if full:
        y = t.data
        with np.errstate(invalid="ignore", divide="ignore"):
            stirling = y * x.xp.log(y) - y + 0.5 * x.xp.log(2 * math.pi * y)
        loss = loss + Tensor._make(x.xp.where(y > 1, stirling, 0).astype(x.dtype))
    return _reduce_tensor(loss, reduction)


# --------------------------------------------------------------- margins
class CosineEmbedding(Function):
    """cos = <x1, x2> / sqrt((|x1|^2 + e)(|x2|^2 + e)) over the last axis, e = 1e-12;
    l = 1 - cos for y = 1, max(0, cos - margin) for y = -1;
    dcos/dx1 = x2 / sqrt(ab) - cos x1 / a  (a = |x1|^2 + e, b = |x2|^2 + e), same for x2"""
    double_backward = True
    EPS = 1e-12

    @staticmethod
    def _cos(x1, x2):
        e = CosineEmbedding.EPS
        a = (x1 * x1).sum(axis=-1, keepdims=True) + e
        b = (x2 * x2).sum(axis=-1, keepdims=True) + e
        root = (a * b) ** 0.5
        return (x1 * x2).sum(axis=-1, keepdims=True) / root, a, b, root

    @staticmethod
    def forward(ctx, x1, x2, *, y, margin, reduction):
        xp = ctx.xp
        ctx.save_for_backward(x1, x2)
        ctx.shapes, ctx.reduction = (x1.shape, x2.shape), reduction
        cos = CosineEmbedding._cos(x1, x2)[0].squeeze(-1)
        pos, neg = y == 1, (y == -1) & (cos - margin > 0)
        loss = xp.where(pos, 1 - cos, 0) + xp.where(neg, cos - margin, 0)
        ctx.coef = (neg.astype(x1.dtype) - pos)   # dl/dcos, constant
        ctx.norm = loss.size
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x1, x2 = ctx.saved_tensors
        cos, a, b, root = CosineEmbedding._cos(x1, x2)
        keep = lambda v: v.reshape(tuple(v.shape) + (1,))  # noqa: E731  (N,) -> (N, 1)
        gc = keep(ctx.coef) * (keep(g) if ctx.reduction == "none" else
                               _scale(g, ctx.reduction, ctx.norm))
        return _grads(ctx, gc * (x2 / root - cos * x1 / a), gc * (x1 / root - cos * x2 / b))


def cosine_embedding_loss(input1, input2, target, margin=0.0, *, reduction="mean"):
    """Pull pairs together (``target = 1``: ``1 - cos``) or push them below a cosine
    ``margin`` (``target = -1``: ``max(0, cos - margin)``), cosine over the last axis.

    Shapes: inputs (N, D) with target (N,), or (D,) with a 0-d target.

    >>> a, b = shendu.tensor([[1.0, 0.0]]), shendu.tensor([[1.0, 1.0]])
    >>> F.cosine_embedding_loss(a, b, shendu.tensor([1]))
    tensor(0.2929)
    """
    name = "cosine_embedding_loss"
    _check_reduction(name, reduction)
    x1, x2 = _input(name, input1, "input1"), _input(name, input2, "input2")
    y = target.data if isinstance(target, Tensor) else x1.xp.asarray(target)
    if y.ndim not in (0, 1) or x1.ndim != y.ndim + 1 or x2.ndim != y.ndim + 1:
        raise ValueError(f"{name}: expected inputs (N, D) with target (N,), or (D,) with a "
                         f"0-d target; got input1 {x1.shape}, input2 {x2.shape}, target "
                         f"{tuple(y.shape)}")
    try:
        shape = np.broadcast_shapes(x1.shape, x2.shape)
    except ValueError:
        raise ValueError(f"{name}: input1 {x1.shape} and input2 {x2.shape} do not "
                         "broadcast") from None
    if tuple(y.shape) != shape[:-1]:
        raise ValueError(f"{name}: target {tuple(y.shape)} must have one entry per pair, "
                         f"shape {shape[:-1]}, for inputs {x1.shape} and {x2.shape}")
    return CosineEmbedding.apply(x1, x2, y=y, margin=margin, reduction=reduction)


class HingeEmbedding(Function):
    """l = x where y != -1, plus max(0, margin - x) where y != 1;
    dl/dx = [y != -1] - [y != 1][margin - x > 0]  (constant)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, *, y, margin, reduction):
        xp = ctx.xp
        hinge = margin - x
        far, near = y != 1, y != -1
        loss = xp.where(far, xp.maximum(hinge, 0), 0) + xp.where(near, x, 0)
        ctx.coef = (near.astype(x.dtype) - (far & (hinge > 0)))
        ctx.shape, ctx.reduction, ctx.norm = x.shape, reduction, loss.size
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        return unbroadcast(ctx.coef * _scale(g, ctx.reduction, ctx.norm), ctx.shape)


def hinge_embedding_loss(input, target, margin=1.0, *, reduction="mean"):
    """For distances ``input`` and labels ``target`` in {1, -1}: ``x`` for similar pairs
    (1), ``max(0, margin - x)`` for dissimilar ones (-1).

    >>> F.hinge_embedding_loss(shendu.tensor([0.3, 0.4]), shendu.tensor([1.0, -1.0]))
    tensor(0.4500)
    """
    name = "hinge_embedding_loss"
    _check_reduction(name, reduction)
    x = _input(name, input)
    t = target if isinstance(target, Tensor) else Tensor(x.xp.asarray(target))
    _pair_shape(name, x, t)
    return HingeEmbedding.apply(x, y=t.data, margin=margin, reduction=reduction)


class MarginRanking(Function):
    """l = max(0, -y (x1 - x2) + margin);  with m = [l > 0] (constant):
    dl/dx1 = -y m,   dl/dx2 = y m,   dl/dy = -(x1 - x2) m"""
    double_backward = True

    @staticmethod
    def forward(ctx, x1, x2, y, *, margin, reduction):
        xp = ctx.xp
        ctx.save_for_backward(x1, x2, y)
        ctx.shapes = x1.shape, x2.shape, y.shape
        loss = xp.maximum(-y * (x1 - x2) + margin, 0)
        ctx.active = (loss > 0).astype(loss.dtype)
        ctx.reduction, ctx.norm = reduction, loss.size
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x1, x2, y = ctx.saved_tensors
        gm = ctx.active * _scale(g, ctx.reduction, ctx.norm)
        need, (s1, s2, sy) = ctx.needs_input_grad, ctx.shapes
        return (unbroadcast(-y * gm, s1) if need[0] else None,
                unbroadcast(y * gm, s2) if need[1] else None,
                unbroadcast(-(x1 - x2) * gm, sy) if need[2] else None)


def margin_ranking_loss(input1, input2, target, margin=0.0, *, reduction="mean"):
    """Rank ``input1`` above ``input2`` where ``target = 1`` (below where -1), by at
    least ``margin``: ``max(0, -target (input1 - input2) + margin)``.

    >>> F.margin_ranking_loss(shendu.tensor([0.2]), shendu.tensor([0.5]), shendu.tensor([1.0]))
    tensor(0.3000)
    """
    name = "margin_ranking_loss"
    _check_reduction(name, reduction)
    x1, x2 = _input(name, input1, "input1"), _input(name, input2, "input2")
    t = _target(x1, target)
    if not x1.ndim == x2.ndim == t.ndim:
        raise ValueError(f"{name}: input1, input2 and target must have the same number of "
                         f"dimensions, got {x1.shape}, {x2.shape} and {t.shape}")
    try:
        np.broadcast_shapes(x1.shape, x2.shape, t.shape)
    except ValueError:
        raise ValueError(f"{name}: input1 {x1.shape}, input2 {x2.shape} and target "
                         f"{t.shape} do not broadcast") from None
    return MarginRanking.apply(x1, x2, t, margin=margin, reduction=reduction)


class SoftMargin(Function):
    """l = log(1 + e^(-y x)) (stable softplus);  with s = sigmoid(-y x):
    dl/dx = -y s,   dl/dy = -x s"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, y, *, reduction):
        xp = ctx.xp
        ctx.save_for_backward(x, y)
        ctx.shapes, ctx.reduction = (x.shape, y.shape), reduction
        z = -y * x
        loss = xp.maximum(z, 0) + xp.log1p(xp.exp(-xp.abs(z)))   # no overflow for large z
        ctx.norm = loss.size
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        xp = ctx.xp
        z = -y * x
        e = xp.exp(-xp.abs(z))
        s = xp.where(z >= 0, 1, e) / (1 + e) * _scale(g, ctx.reduction, ctx.norm)
        return _grads(ctx, -y * s, -x * s)


def soft_margin_loss(input, target, *, reduction="mean"):
    """Two-class logistic loss for labels in {1, -1}: ``log(1 + exp(-target * input))``
    (computed without overflow, where PyTorch returns inf for large margins).

    >>> F.soft_margin_loss(shendu.tensor([2.0, -1.0]), shendu.tensor([1.0, -1.0]))
    tensor(0.2201)
    """
    name = "soft_margin_loss"
    _check_reduction(name, reduction)
    x = _input(name, input)
    t = _target(x, target)
    _pair_shape(name, x, t)
    return SoftMargin.apply(x, t, reduction=reduction)


class MultiMargin(Function):
    """Multiclass hinge (SVM) loss of sample i with target t, z_j = margin - x_t + x_j:
    loss = sum_{j != t} w_t max(0, z_j)^p / C;  with h_j = w_t [z_j > 0] p z_j^(p-1):
    dloss/dx_j = h_j / C (j != t),   dloss/dx_t = -sum_j h_j / C"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, *, t, wt, p, margin, reduction):
        xp = ctx.xp
        ca = 0 if x.ndim == 1 else 1
        C = x.shape[ca]
        onehot = _onehot(xp, t, C, x.ndim, ca)
        z = margin - (x * onehot).sum(axis=ca, keepdims=True) + x
        active = (z > 0) & ~onehot
        keep = _keep_class_axis(ca)
        h = z * active if p == 1 else z * z * active
        if wt is not None:
            h = h * keep(wt)
        loss = h.sum(axis=ca) / C
        ctx.onehot, ctx.active, ctx.wt, ctx.ca, ctx.C = onehot, active, wt, ca, C
        ctx.p, ctx.margin, ctx.reduction, ctx.norm = p, margin, reduction, loss.size
        ctx.save_for_backward(x)
        return _reduce(xp, loss, reduction)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        ca, onehot, keep = ctx.ca, ctx.onehot, _keep_class_axis(ctx.ca)
        if ctx.p == 1:
            h = ctx.active.astype(x.dtype)
        else:
            z = ctx.margin - (x * onehot).sum(axis=ca, keepdims=True) + x
            h = 2 * z * ctx.active
        if ctx.wt is not None:
            h = h * keep(ctx.wt)
        gk = _expand_none(g, ctx.reduction, ctx.norm, ca) / ctx.C
        return (h - onehot * h.sum(axis=ca, keepdims=True)) * gk


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, *, reduction="mean"):
    """Multiclass hinge loss (the linear SVM loss): for each sample,
    ``sum_{j != t} w_t max(0, margin - x_t + x_j)^p / C``, p in {1, 2}.

    Shapes: input (N, C) with class indices (N,), or (C,) with a 0-d target;
    ``weight`` (C,) scales by the target class.

    >>> F.multi_margin_loss(shendu.tensor([[0.1, 0.2, 0.4, 0.8]]), shendu.tensor([3]))
    tensor(0.3250)
    """
    name = "multi_margin_loss"
    _check_reduction(name, reduction)
    if p not in (1, 2):
        raise ValueError(f"{name}: p must be 1 or 2, got {p}")
    x = _input(name, input)
    if x.ndim not in (1, 2):
        raise ValueError(f"{name}: input must be (N, C) or (C,), got {x.shape}")
    safe, _, wt, w = _class_index_target(name, x, target, weight, ignore_index=None)
    return MultiMargin.apply(x, t=safe, wt=None if w is None else wt, p=p, margin=margin,
                             reduction=reduction)
