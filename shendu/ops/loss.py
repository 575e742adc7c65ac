"""Loss functions, as PyTorch 2.13's ``torch.nn.functional`` computes them.

Every loss takes ``reduction``: ``'mean'`` (the default), ``'sum'`` or ``'none'`` (one
loss per element or per sample). Each pointwise loss is one Function whose forward
also reduces, so the backward is one multiply by ``g`` (``'sum'``, ``'none'``) or
``g / n`` (``'mean'``). Backwards are written with operators and ``ctx.xp``
functions so that second derivatives work (``double_backward = True``); clamps and
masks are kept as constant arrays, which is exact because they are piecewise constant.

Shapes: a target whose shape differs from the input's is broadcast with a
``UserWarning``, as PyTorch does ((32, 1) against (32,) silently gives (32, 32) and a
wrong loss). Class weights, ``pos_weight`` and class-index targets get no gradient.

This file has the regression and binary losses; ``cross_entropy``, ``nll_loss``,
``kl_div`` and ``poisson_nll_loss`` are in loss_multiclass.py, the margin losses in
loss_margin.py, the shared helpers in _loss_util.py. All are importable from here.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ._loss_util import (_check_reduction, _constant, _grads, _input, _input_and_target,
                         _reduce, _reduce_tensor, _scale, _target)
from ._util import shape_of

__all__ = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss",
           "binary_cross_entropy", "binary_cross_entropy_with_logits"]


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
    x, t = _input_and_target(name, input, target, reduction, stacklevel=5)
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
    d = x._data
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


# the other families, so that ``from shendu.ops.loss import *`` has every loss
from .loss_multiclass import *  # noqa: E402,F401,F403
from .loss_multiclass import __all__ as _multiclass  # noqa: E402
from .loss_margin import *  # noqa: E402,F401,F403
from .loss_margin import __all__ as _margin  # noqa: E402

__all__ = __all__ + _multiclass + _margin
