"""Normalization: ``batch_norm``, ``layer_norm``, ``group_norm`` and ``instance_norm``,
each one fused Function.

All compute ``x_hat = (x - mean) / sqrt(var + eps)`` over some axes (the batch and
spatial axes for batch norm, the last axes for layer norm, each sample's channel group
for group norm, each sample's channel for instance norm), then ``y = x_hat * w + b``.
Their backward is the standard closed form (Ioffe & Szegedy 2015), with ``n`` the
number of elements averaged and means taken over the same axes::

    dL/dx_hat = g * w
    dL/dx = (dL/dx_hat - mean(dL/dx_hat) - x_hat * mean(dL/dx_hat * x_hat)) / sqrt(var + eps)
    dL/dw = sum(g * x_hat),   dL/db = sum(g)

On arrays they work on a 3-D view ``(P, Q, R)`` of the input whose statistics are
taken over axes 0 and 2: ``(N, C, L)`` for batch norm (one mean per channel), ``(1, M, D)``
for layer norm (one mean per row), ``(1, N * G, C / G * L)`` for group norm (one mean per
sample and group; instance norm is group norm with G = C). Row dot products are
``einsum`` calls and the gradient is built in place, so no temporary is made that is not
needed.

In double backward (``create_graph=True``) the same formulas run on Tensors, with the
mean and variance recomputed from the graph's ``x`` so the second derivative sees how
they depend on it.
"""
from __future__ import annotations

import numbers

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["batch_norm", "layer_norm", "group_norm", "instance_norm"]


def _stats(x, axes, eps):
    """Mean, biased variance and 1 / sqrt(var + eps) over ``axes`` (kept as size 1).
    Works on arrays and, for double backward, on Tensors."""
    n = 1
    for a in axes:
        n *= x.shape[a]
    mean = x.sum(axis=axes, keepdims=True) / n
    xc = x - mean
    var = (xc * xc).sum(axis=axes, keepdims=True) / n
    return mean, var, 1.0 / (var + eps) ** 0.5, xc


def _normalize_backward(g, x_hat, invstd, w, axes, param_axes):
    """The closed-form gradients of ``y = x_hat * w + b`` (see the module docstring).
    ``axes``: the averaged axes; ``param_axes``: the axes ``w`` and ``b`` broadcast over."""
    n = 1
    for a in axes:
        n *= x_hat.shape[a]
    gxh = g if w is None else g * w
    gx = invstd * (gxh - gxh.sum(axis=axes, keepdims=True) / n
                   - x_hat * ((gxh * x_hat).sum(axis=axes, keepdims=True) / n))
    return gx, (g * x_hat).sum(axis=param_axes), g.sum(axis=param_axes)


def _center(xp, x3):
    """Mean, centered values and biased variance of a (P, Q, R) array over axes 0 and 2."""
    m = x3.shape[0] * x3.shape[2]
    mean = x3.mean(axis=(0, 2))
    xc = x3 - mean[:, None]
    var = xp.einsum("pqr,pqr->q", xc, xc) / m
    return mean, xc, var


def _grad_centered(xp, gxh, x_hat, invstd):
    """dL/dx from dL/dx_hat on (P, Q, R) arrays, in place in ``gxh`` (which must be a
    fresh array)."""
    m = gxh.shape[0] * gxh.shape[2]
    s1 = gxh.mean(axis=(0, 2))
    s2 = xp.einsum("pqr,pqr->q", gxh, x_hat) / m
    gxh -= s1[:, None]
    gxh -= x_hat * s2[:, None]
    gxh *= invstd[:, None]
    return gxh


def _fresh_product(xp, g, w):
    """``g * w`` (or a copy of ``g``) in a new C-contiguous array, so that a reshaped view
    of it shares its memory (in-place updates through the view reach it)."""
    out = xp.empty(g.shape, dtype=g.dtype)
    if w is None:
        out[...] = g
    else:
        xp.multiply(g, w, out=out)
    return out


class BatchNormTrain(Function):
    """Batch norm with the batch's own statistics (training mode); see the module
    docstring for the gradient. ``w`` and ``b`` have shape (C,); ``xc`` is the centered
    input viewed as (N, C, L) and ``invstd`` (C,), both computed by ``batch_norm``."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, xc, invstd, eps):
        x_hat = xc  # batch_norm made xc for us: normalize it in place
        x_hat *= invstd[:, None]
        ctx.save_for_backward(x, w)
        ctx.x_hat, ctx.invstd, ctx.eps = x_hat, invstd, eps
        y = x_hat * w[:, None] if w is not None else x_hat.copy()
        if b is not None:
            y += b[:, None]
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if ctx.tensor_mode:
            axes = (0,) + tuple(range(2, x.ndim))
            pshape = (1, -1) + (1,) * (x.ndim - 2)
            _, _, invstd, xc = _stats(x, axes, ctx.eps)
            wb = None if w is None else w.reshape(pshape)
            gx, gw, gb = _normalize_backward(g, xc * invstd, invstd, wb, axes, axes)
        else:
            xp, x_hat, invstd = ctx.xp, ctx.x_hat, ctx.invstd
            g3 = g.reshape(x_hat.shape)
            gx = gw = gb = None
            if need_x:  # gx made in x's shape (fresh: the engine need not copy it)
                gx = _fresh_product(xp, g, None if w is None else
                                    w.reshape((1, -1) + (1,) * (x.ndim - 2)))
                _grad_centered(xp, gx.reshape(x_hat.shape), x_hat, invstd)
            if need_w:
                gw = xp.einsum("pqr,pqr->q", g3, x_hat)
            if need_b:
                gb = g3.sum(axis=(0, 2))
        return (gx if need_x else None, gw if need_w else None, gb if need_b else None,
                None, None, None)


class BatchNormEval(Function):
    """Batch norm with fixed statistics (evaluation): y = (x - m) * s * w + b with
    s = 1 / sqrt(v + eps) constant;  dL/dx = g * s * w,  dL/dw = sum(g * (x - m) * s),
    dL/db = sum(g)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, mean, invstd):
        axes = (0,) + tuple(range(2, x.ndim))
        pshape = (1, -1) + (1,) * (x.ndim - 2)
        mean, invstd = mean.reshape(pshape), invstd.reshape(pshape)
        ctx.save_for_backward(x, w)
        ctx.mean, ctx.invstd, ctx.axes, ctx.pshape = mean, invstd, axes, pshape
        scale = invstd if w is None else invstd * w.reshape(pshape)
        y = (x - mean) * scale
        if b is not None:
            y = y + b.reshape(pshape)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        axes, pshape, invstd = ctx.axes, ctx.pshape, ctx.invstd
        gx = gw = gb = None
        if ctx.needs_input_grad[0]:
            gx = g * invstd if w is None else g * (w.reshape(pshape) * invstd)
        if ctx.needs_input_grad[1]:
            gw = (g * ((x - ctx.mean) * invstd)).sum(axis=axes)
        if ctx.needs_input_grad[2]:
            gb = g.sum(axis=axes)
        return gx, gw, gb, None, None


def _array(t):
    return None if t is None else (t._data if isinstance(t, Tensor) else t)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5, *, unbiased_running_var=True):
    """Batch normalization over the batch (and spatial) axes of ``(N, C, *)`` inputs.

    Parameters
    ----------
    input : Tensor (N, C) or (N, C, L) or (N, C, H, W) ...
    running_mean, running_var : Tensor (C,) or None
        In training they are updated in place: ``r = (1 - momentum) r + momentum s``
        with the batch mean and the *unbiased* batch variance (PyTorch's rule). In
        evaluation (``training=False``) they normalize the input.
    weight, bias : Tensor (C,), optional (the learned scale gamma and shift beta)
    training : bool
        Use the batch statistics (True) or the running ones (False).
    momentum : float
        Weight of the new batch in the running averages.
    eps : float
        Added to the variance so it is never divided by 0.
    unbiased_running_var : bool, keyword only
        True (PyTorch): the running variance averages the unbiased batch variance
        ``sum (x - mean)^2 / (n - 1)``; False (Keras's BatchNormalization): the biased one,
        ``/ n``. The batch itself is always normalized by the biased variance.

    Returns
    -------
    Tensor of the input's shape.

    >>> x = shendu.tensor([[1.0, 2.0], [3.0, 6.0]])
    >>> shendu.nn.functional.batch_norm(x, None, None, training=True)
    tensor([[-1.0000, -1.0000],
            [ 1.0000,  1.0000]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"batch_norm: expected a Tensor input, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C) or (N, C, *), got "
                         f"shape {input.shape}")
    c = input.shape[1]
    for name, t in (("weight", weight), ("bias", bias), ("running_mean", running_mean),
                    ("running_var", running_var)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"batch_norm: {name} must have shape ({c},) for an input with "
                             f"{c} channels (shape {input.shape}), got {t.shape}")
    x = input._data
    if not training:
        if running_mean is None or running_var is None:
            raise ValueError("batch_norm: running_mean and running_var are needed when "
                             "training=False (or pass training=True to use batch statistics)")
        invstd = 1.0 / (_array(running_var) + eps) ** 0.5
        return BatchNormEval.apply(input, weight, bias, _array(running_mean), invstd)
    n = input.numel() // c
    if n <= 1:
        raise ValueError(f"batch_norm: expected more than 1 value per channel when training, "
                         f"got input of shape {input.shape}; use a batch of 2 or more samples "
                         "(or call model.eval() for single-sample inference)")
    xp = input.xp
    mean, xc, var = _center(xp, x.reshape(x.shape[0], c, -1))
    invstd = 1.0 / xp.sqrt(var + eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            m = 0.1 if momentum is None else momentum
            if running_mean is not None:
                running_mean.mul_(1 - m).add_(mean.astype(running_mean.dtype), alpha=m)
            if running_var is not None:
                batch_var = var * (n / (n - 1)) if unbiased_running_var else var
                running_var.mul_(1 - m).add_(batch_var.astype(running_var.dtype), alpha=m)
    return BatchNormTrain.apply(input, weight, bias, xc, invstd, eps)


class LayerNorm(Function):
    """Layer norm over the last ``k`` axes; w and b have the shape of those axes. See
    the module docstring for the gradient."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, k, eps):
        xp = ctx.xp
        d = 1
        for s in x.shape[x.ndim - k:]:
            d *= s
        _, x_hat, var = _center(xp, x.reshape(1, -1, d))  # one row per normalized slice
        invstd = 1.0 / xp.sqrt(var + eps)
        x_hat *= invstd[:, None]
        ctx.save_for_backward(x, w)
        ctx.x_hat, ctx.invstd, ctx.eps, ctx.k = x_hat, invstd, eps, k
        ctx.norm_shape = x.shape[x.ndim - k:]
        y = x_hat * w.reshape(-1) if w is not None else x_hat.copy()
        if b is not None:
            y += b.reshape(-1)
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if ctx.tensor_mode:
            axes = tuple(range(x.ndim - ctx.k, x.ndim))
            _, _, invstd, xc = _stats(x, axes, ctx.eps)
            lead = tuple(range(x.ndim - ctx.k))
            gx, gw, gb = _normalize_backward(g, xc * invstd, invstd, w, axes, lead)
        else:
            xp, x_hat, invstd = ctx.xp, ctx.x_hat, ctx.invstd
            g3 = g.reshape(x_hat.shape)
            gx = gw = gb = None
            if need_x:  # gx made in x's shape (fresh: the engine need not copy it)
                gx = _fresh_product(xp, g, w)
                _grad_centered(xp, gx.reshape(x_hat.shape), x_hat, invstd)
            if need_w:
                gw = xp.einsum("pqr,pqr->r", g3, x_hat).reshape(ctx.norm_shape)
            if need_b:
                gb = g3.sum(axis=(0, 1)).reshape(ctx.norm_shape)
        return (gx if need_x else None, gw if need_w else None, gb if need_b else None,
                None, None)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalization over the last ``len(normalized_shape)`` axes.

    Each sample (each position, for sequences) is normalized on its own:
    ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the mean and biased
    variance over the last axes. Same in training and evaluation.

    Parameters
    ----------
    input : Tensor (..., *normalized_shape)
    normalized_shape : int or tuple, the trailing shape to normalize over
    weight, bias : Tensor of shape ``normalized_shape``, optional

    >>> x = shendu.tensor([[1.0, 3.0], [2.0, 2.0]])
    >>> shendu.nn.functional.layer_norm(x, (2,))
    tensor([[-1.0000,  1.0000],
            [ 0.0000,  0.0000]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"layer_norm: expected a Tensor input, got {type(input).__name__}")
    shape = (normalized_shape,) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or input.shape[-k:] != shape:
        raise ValueError(f"layer_norm: expected an input whose last dimensions are {shape} "
                         f"(normalized_shape), got shape {input.shape}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != shape:
            raise ValueError(f"layer_norm: {name} must have shape {shape}, got {t.shape}")
    return LayerNorm.apply(input, weight, bias, k, eps)



class GroupNorm(Function):
    """Group norm: x (N, C, *) viewed as (N, G, C/G * spatial), each row normalized with
    its own mean and biased variance, then ``y = x_hat * w[c] + b[c]`` per channel.
    The gradient is the module docstring's closed form per row, with
    dL/dx_hat = g * w[c];  dL/dw = sum over N and spatial of g * x_hat,  dL/db = sum g."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, groups, eps):
        xp = ctx.xp
        n, c = x.shape[:2]
        _, x_hat, var = _center(xp, x.reshape(1, n * groups, -1))
        invstd = 1.0 / xp.sqrt(var + eps)
        x_hat *= invstd[:, None]
        ctx.save_for_backward(x, w)
        ctx.x_hat, ctx.invstd, ctx.eps, ctx.groups = x_hat, invstd, eps, groups
        xh = x_hat.reshape(n, c, -1)
        y = xh * w[:, None] if w is not None else xh.copy()
        if b is not None:
            y += b[:, None]
        return y.reshape(x.shape)

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        n, c = x.shape[:2]
        groups = ctx.groups
        pshape = (1, c) + (1,) * (x.ndim - 2)
        other = (0,) + tuple(range(2, x.ndim))  # the axes w and b broadcast over
        if ctx.tensor_mode:
            xg = x.reshape(n, groups, -1)
            _, _, invstd, xc = _stats(xg, (2,), ctx.eps)
            x_hat = xc * invstd
            gxh = (g if w is None else g * w.reshape(pshape)).reshape(n, groups, -1)
            m = xg.shape[2]
            gx = invstd * (gxh - gxh.sum(axis=2, keepdims=True) / m
                           - x_hat * ((gxh * x_hat).sum(axis=2, keepdims=True) / m))
            x_hat = x_hat.reshape(x.shape)
            return (gx.reshape(x.shape) if need_x else None,
                    (g * x_hat).sum(axis=other) if need_w else None,
                    g.sum(axis=other) if need_b else None, None, None)
        xp, x_hat, invstd = ctx.xp, ctx.x_hat, ctx.invstd
        gx = gw = gb = None
        if need_x:  # gx made in x's shape (fresh: the engine need not copy it)
            gx = _fresh_product(xp, g, None if w is None else w.reshape(pshape))
            _grad_centered(xp, gx.reshape(x_hat.shape), x_hat, invstd)
        g3 = g.reshape(n, c, -1)
        if need_w:
            gw = xp.einsum("ncs,ncs->c", g3, x_hat.reshape(n, c, -1))
        if need_b:
            gb = g3.sum(axis=(0, 2))
        return gx, gw, gb, None, None


def _check_affine(name, input, weight, bias):
    c = input.shape[1]
    for what, t in (("weight", weight), ("bias", bias)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"{name}: {what} must have shape ({c},) for an input with {c} "
                             f"channels (shape {input.shape}), got {t.shape}")


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalization (Wu & He 2018): the channels of each sample are split into
    ``num_groups`` groups, each normalized over its channels and spatial positions.

    Unlike batch norm it does not depend on the batch (same in training and evaluation,
    fine with batches of 1). ``num_groups=1`` normalizes each sample over (C, H, W) like
    layer norm; ``num_groups=C`` is instance norm.

    Parameters
    ----------
    input : Tensor (N, C, *)
    num_groups : int, dividing C
    weight, bias : Tensor (C,), optional per-channel scale and shift
    eps : float, added to the variance

    >>> x = shendu.tensor([[[1.0], [3.0], [5.0], [5.0]]])   # (N=1, C=4, L=1)
    >>> F.group_norm(x, 2).flatten()
    tensor([-1.0000,  1.0000,  0.0000,  0.0000])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"group_norm: expected a Tensor input, got {type(input).__name__}")
    if input.ndim < 2:
        raise ValueError(f"group_norm: expected an input of shape (N, C, *), got shape "
                         f"{input.shape}")
    c = input.shape[1]
    if not isinstance(num_groups, numbers.Integral) or num_groups <= 0 or c % num_groups:
        raise ValueError(f"group_norm: the number of channels ({c}, input shape {input.shape}) "
                         f"must be divisible by num_groups, got num_groups={num_groups!r}")
    if input.numel() and input.numel() // (input.shape[0] * num_groups) <= 1:
        raise ValueError(f"group_norm: expected more than 1 value per group, got input of "
                         f"shape {input.shape} with num_groups={num_groups}")
    _check_affine("group_norm", input, weight, bias)
    return GroupNorm.apply(input, weight, bias, int(num_groups), eps)


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None,
                  use_input_stats=True, momentum=0.1, eps=1e-5):
    """Instance normalization (Ulyanov et al. 2016): each channel of each sample is
    normalized over its spatial positions (style transfer, GAN generators).

    Parameters
    ----------
    input : Tensor (N, C, *spatial)
    running_mean, running_var : Tensor (C,), optional
        With ``use_input_stats`` they are updated in place with momentum, from the
        per-instance means and unbiased variances averaged over the batch (PyTorch's
        rule); without it they normalize the input instead.
    weight, bias : Tensor (C,), optional
    use_input_stats : bool, default True
    momentum, eps : float

    >>> x = shendu.tensor([[[1.0, 3.0], [0.0, 4.0]]])   # (N=1, C=2, L=2)
    >>> F.instance_norm(x)
    tensor([[[-1.0000,  1.0000],
             [-1.0000,  1.0000]]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"instance_norm: expected a Tensor input, got {type(input).__name__}")
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *spatial) with "
                         f"at least one spatial dimension, got shape {input.shape}")
    n, c = input.shape[:2]
    _check_affine("instance_norm", input, weight, bias)
    for what, t in (("running_mean", running_mean), ("running_var", running_var)):
        if t is not None and t.shape != (c,):
            raise ValueError(f"instance_norm: {what} must have shape ({c},), got {t.shape}")
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise ValueError("instance_norm: running_mean and running_var are needed when "
                             "use_input_stats=False")
        invstd = 1.0 / (_array(running_var) + eps) ** 0.5
        return BatchNormEval.apply(input, weight, bias, _array(running_mean), invstd)
    spatial = input.numel() // max(n * c, 1)
    if spatial <= 1:
        raise ValueError(f"instance_norm: expected more than 1 spatial element when using "
                         f"input statistics, got input of shape {input.shape}")
    if running_mean is not None or running_var is not None:
        x3 = input._data.reshape(n, c, -1)
        with no_grad():
            m = 0.0 if momentum is None else momentum
            if running_mean is not None:
                mean = x3.mean(axis=2).mean(axis=0)
                running_mean.mul_(1 - m).add_(mean.astype(running_mean.dtype), alpha=m)
            if running_var is not None:
                var = x3.var(axis=2, ddof=1).mean(axis=0)
                running_var.mul_(1 - m).add_(var.astype(running_var.dtype), alpha=m)
    return GroupNorm.apply(input, weight, bias, c, eps)
