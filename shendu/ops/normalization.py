"""Normalization: ``batch_norm`` and ``layer_norm``, each one fused Function.

Both compute ``x_hat = (x - mean) / sqrt(var + eps)`` over some axes (the batch and
spatial axes for batch norm, the last axes for layer norm), then ``y = x_hat * w + b``.
Their backward is the standard closed form (Ioffe & Szegedy 2015), with ``n`` the
number of elements averaged and means taken over the same axes::

    dL/dx_hat = g * w
    dL/dx = (dL/dx_hat - mean(dL/dx_hat) - x_hat * mean(dL/dx_hat * x_hat)) / sqrt(var + eps)
    dL/dw = sum(g * x_hat),   dL/db = sum(g)

In double backward (``create_graph=True``) the mean and variance are recomputed from
the graph's ``x`` so the second derivative sees how they depend on it.
"""
from __future__ import annotations

import numbers

from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor

__all__ = ["batch_norm", "layer_norm"]


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


class BatchNormTrain(Function):
    """Batch norm with the batch's own statistics (training mode); see the module
    docstring for the gradient. ``w`` and ``b`` have shape (C,)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, mean, invstd, eps):
        axes = (0,) + tuple(range(2, x.ndim))
        pshape = (1, -1) + (1,) * (x.ndim - 2)
        x_hat = (x - mean) * invstd
        ctx.save_for_backward(x, w)
        ctx.x_hat, ctx.invstd, ctx.eps, ctx.axes, ctx.pshape = x_hat, invstd, eps, axes, pshape
        y = x_hat if w is None else x_hat * w.reshape(pshape)
        if b is not None:
            y = y + b.reshape(pshape)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        axes, pshape = ctx.axes, ctx.pshape
        if ctx.tensor_mode:
            _, _, invstd, xc = _stats(x, axes, ctx.eps)
            x_hat = xc * invstd
        else:
            x_hat, invstd = ctx.x_hat, ctx.invstd
        wb = None if w is None else w.reshape(pshape)
        gx, gw, gb = _normalize_backward(g, x_hat, invstd, wb, axes, axes)
        return (gx if ctx.needs_input_grad[0] else None,
                gw if ctx.needs_input_grad[1] else None,
                gb if ctx.needs_input_grad[2] else None, None, None, None)


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
    return None if t is None else (t.data if isinstance(t, Tensor) else t)


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False,
               momentum=0.1, eps=1e-5):
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
    x = input.data
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
    axes = (0,) + tuple(range(2, x.ndim))
    mean, var, invstd, _ = _stats(x, axes, eps)
    if running_mean is not None or running_var is not None:
        with no_grad():
            m = 0.1 if momentum is None else momentum
            if running_mean is not None:
                running_mean.mul_(1 - m).add_(mean.reshape(c).astype(running_mean.dtype), alpha=m)
            if running_var is not None:
                unbiased = var.reshape(c) * (n / (n - 1))
                running_var.mul_(1 - m).add_(unbiased.astype(running_var.dtype), alpha=m)
    return BatchNormTrain.apply(input, weight, bias, mean, invstd, eps)


class LayerNorm(Function):
    """Layer norm over the last axes; w and b have the shape of those axes. See the
    module docstring for the gradient."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, k, eps):
        axes = tuple(range(x.ndim - k, x.ndim))
        _, _, invstd, xc = _stats(x, axes, eps)
        x_hat = xc * invstd
        ctx.save_for_backward(x, w)
        ctx.x_hat, ctx.invstd, ctx.eps, ctx.axes = x_hat, invstd, eps, axes
        y = x_hat if w is None else x_hat * w
        if b is not None:
            y = y + b
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        axes = ctx.axes
        if ctx.tensor_mode:
            _, _, invstd, xc = _stats(x, axes, ctx.eps)
            x_hat = xc * invstd
        else:
            x_hat, invstd = ctx.x_hat, ctx.invstd
        lead = tuple(range(x.ndim - len(axes)))
        gx, gw, gb = _normalize_backward(g, x_hat, invstd, w, axes, lead)
        return (gx if ctx.needs_input_grad[0] else None,
                gw if ctx.needs_input_grad[1] else None,
                gb if ctx.needs_input_grad[2] else None, None, None)


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

