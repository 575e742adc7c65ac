"""Losses over classes and distributions: ``cross_entropy`` (one fused Function from
logits), ``nll_loss``, ``kl_div`` and ``poisson_nll_loss``. Read shendu/ops/loss.py first
(reductions, shapes, double backward).

``cross_entropy`` from logits:

    loss_i = -sum_c A_ic log softmax(x_i)_c,      dloss_i/dx_i = softmax(x_i) sum_c A_ic - A_i

where ``A`` is the target distribution times the class weights (one-hot targets give
the familiar ``softmax - onehot``).
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._loss_util import (_check_reduction, _grads, _input, _input_and_target,
                         _pair_shape, _reduce, _reduce_tensor, _scale, _target)
from ._util import shape_of

__all__ = ["cross_entropy", "nll_loss", "kl_div", "poisson_nll_loss"]


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
    w = (weight._data if isinstance(weight, Tensor) else x.xp.asarray(weight)).astype(x.dtype)
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
    t = target._data if isinstance(target, Tensor) else x.xp.asarray(target)
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
    x, t = _input_and_target("poisson_nll_loss", input, target, reduction)
    from . import exp, log   # composed of differentiable ops: gradients come from them
    loss = exp(x) - t * x if log_input else x - t * log(x + eps)
    if full:
        y = t._data
        with np.errstate(invalid="ignore", divide="ignore"):
            stirling = y * x.xp.log(y) - y + 0.5 * x.xp.log(2 * math.pi * y)
        loss = loss + Tensor._make(x.xp.where(y > 1, stirling, 0).astype(x.dtype))
    return _reduce_tensor(loss, reduction)
