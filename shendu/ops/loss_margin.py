"""Margin losses: ``cosine_embedding_loss``, ``hinge_embedding_loss``,
``margin_ranking_loss``, ``soft_margin_loss``, ``multi_margin_loss``. Read
shendu/ops/loss.py first (reductions, shapes, double backward).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._loss_util import (_check_reduction, _grads, _input, _input_and_target,
                         _pair_shape, _reduce, _scale, _target)
from ._util import unbroadcast
from .loss_multiclass import (_class_index_target, _expand_none, _keep_class_axis,
                              _onehot)

__all__ = ["cosine_embedding_loss", "hinge_embedding_loss", "margin_ranking_loss",
           "soft_margin_loss", "multi_margin_loss"]


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
    y = target._data if isinstance(target, Tensor) else x1.xp.asarray(target)
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
    return HingeEmbedding.apply(x, y=t._data, margin=margin, reduction=reduction)


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
    x, t = _input_and_target("soft_margin_loss", input, target, reduction)
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
