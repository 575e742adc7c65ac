"""Average and power-average pooling over 1, 2 or 3 spatial axes (the window geometry and
the strided views they share with max pooling are in ``pooling.py``).

    avg pool:  y = (sum over kernel offsets o of view_o) / divisor,   dL/dx[view_o] += g / divisor
    lp pool:   y = (sum over the window of x ** p) ** (1 / p)  (avg pool of x ** p, times the
               window size, to the power 1 / p), as PyTorch's lp_pool.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd.function import Function
from .pooling import _check_input, _geometry, _offsets, _padded, _spread, _tuple, _view

__all__ = ["avg_pool1d", "avg_pool2d", "avg_pool3d", "lp_pool1d", "lp_pool2d", "lp_pool3d"]


# ----------------------------------------------------------------------- average pooling
def _window_sum(xp, xpad, dims):
    views = (xpad[_view(dims, off)] for off in _offsets(dims))
    y = next(views)
    second = next(views, None)
    if second is None:
        return y.copy()
    y = y + second
    for v in views:
        y += v
    return y


def _avg_divisor(dims, count_include_pad, divisor_override):
    """The divisor of each window: a number when all windows agree, else an array shaped
    like the output's spatial axes (a product of one factor per axis)."""
    if divisor_override is not None:
        return divisor_override
    div = None
    for dm in dims:
        start = np.arange(dm.out) * dm.s - dm.p
        end = np.minimum(start + dm.k, dm.n + dm.p)
        f = end - start if count_include_pad else \
            np.minimum(end, dm.n) - np.maximum(start, 0)
        div = f if div is None else np.multiply.outer(div, f)
    if (div == div.flat[0]).all():
        return int(div.flat[0])
    return div.astype(np.float64)


def _avg_pool_raw(xp, x, dims, div):
    y = _window_sum(xp, _padded(xp, x, dims, 0), dims)
    y /= div if isinstance(div, numbers.Number) else xp.asarray(div, dtype=y.dtype)
    return y


def _avg_pool_adjoint(xp, g, dims, div, lead):
    gd = g / (div if isinstance(div, numbers.Number) else xp.asarray(div, dtype=g.dtype))
    return _spread(xp, gd, dims, lead)


class AvgPool(Function):
    """y = (sum of each window of x, zero padding included) / divisor.

    dL/dx[window position] += g / divisor (``AvgPoolAdjoint``); linear, so the second
    derivative is the same pair of maps.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, dims, div):
        ctx.dims, ctx.div, ctx.in_shape = dims, div, x.shape
        return _avg_pool_raw(ctx.xp, x, dims, div)

    @staticmethod
    def backward(ctx, g):
        if ctx.tensor_mode:
            return AvgPoolAdjoint.apply(g, ctx.dims, ctx.div, ctx.in_shape), None, None
        lead = ctx.in_shape[:-len(ctx.dims)]
        return _avg_pool_adjoint(ctx.xp, g, ctx.dims, ctx.div, lead), None, None


class AvgPoolAdjoint(Function):
    """The transpose of ``AvgPool``: spread g / divisor over each window's positions
    (the gradient of average pooling). dL/dg = AvgPool of the upstream gradient."""
    double_backward = True

    @staticmethod
    def forward(ctx, g, dims, div, in_shape):
        ctx.dims, ctx.div = dims, div
        return _avg_pool_adjoint(ctx.xp, g, dims, div, in_shape[:-len(dims)])

    @staticmethod
    def backward(ctx, gg):
        if ctx.tensor_mode:
            return AvgPool.apply(gg, ctx.dims, ctx.div), None, None, None
        return _avg_pool_raw(ctx.xp, gg, ctx.dims, ctx.div), None, None, None


def _avg_pool(name, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override):
    _check_input(name, input, nd)
    dims = _geometry(name, input, nd, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (not isinstance(divisor_override, numbers.Number)
                                         or divisor_override == 0):
        raise ValueError(f"{name}: divisor_override must be a non-zero number, got "
                         f"{divisor_override!r}")
    div = _avg_divisor(dims, count_include_pad, divisor_override)
    return AvgPool.apply(input, dims, div)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """1-D average pooling of ``(N, C, L)`` inputs; see ``avg_pool2d``.

    >>> F.avg_pool1d(shendu.tensor([[[1.0, 3.0, 2.0, 6.0]]]), 2)
    tensor([[[2., 4.]]])
    """
    return _avg_pool("avg_pool1d", 1, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, None)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """2-D average pooling: the mean of each ``kernel_size`` window (PyTorch's ``F.avg_pool2d``).

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W)
    kernel_size, stride, padding, ceil_mode : as in ``max_pool2d`` (zero padding)
    count_include_pad : bool, default True
        Divide by the full window size, padding included (True), or only by the number
        of input elements in the window (False). Windows that ``ceil_mode`` lets run
        past the padding count only up to its end.
    divisor_override : number, optional, divide every window sum by this instead

    Returns
    -------
    Tensor (N, C, H_out, W_out), sizes as in ``max_pool2d`` (no dilation).

    >>> x = shendu.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    >>> F.avg_pool2d(x, 2)
    tensor([[[[3.]]]])
    >>> F.avg_pool2d(x, 2, stride=1, padding=1, count_include_pad=False)
    tensor([[[[1.0000, 1.5000, 2.0000],
              [2.0000, 3.0000, 4.0000],
              [3.0000, 4.5000, 6.0000]]]])
    """
    return _avg_pool("avg_pool2d", 2, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """3-D average pooling of ``(N, C, D, H, W)`` inputs; see ``avg_pool2d``.

    >>> F.avg_pool3d(shendu.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[3.5000]]]]])
    """
    return _avg_pool("avg_pool3d", 3, input, kernel_size, stride, padding, ceil_mode,
                     count_include_pad, divisor_override)


# ----------------------------------------------------------------------- power average
def _lp_pool(name, nd, input, norm_type, kernel_size, stride, ceil_mode):
    from .activation import relu
    from .elementwise import abs as _abs, sign
    k = _tuple(kernel_size, nd, name, "kernel_size")
    area = 1
    for ki in k:
        area *= ki
    _check_input(name, input, nd)
    out = _avg_pool(name, nd, input ** norm_type, k, stride, 0, ceil_mode, True, None)
    return (sign(out) * relu(_abs(out)) * area) ** (1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum of x^p over each window)^(1/p)`` of ``(N, C, L)``
    inputs; see ``lp_pool2d``.

    >>> F.lp_pool1d(shendu.tensor([[[3.0, 4.0]]]), 2, 2)
    tensor([[[5.]]])
    """
    return _lp_pool("lp_pool1d", 1, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling ``(sum over each window of x^p)^(1/p)`` (PyTorch's
    ``F.lp_pool2d``): p = 1 is sum pooling, p -> infinity tends to max pooling.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W)
    norm_type : float, p
    kernel_size, stride, ceil_mode : as in ``avg_pool2d`` (no padding)

    >>> F.lp_pool2d(shendu.tensor([[[[1.0, 1.0], [1.0, 1.0]]]]), 2, 2)
    tensor([[[[2.]]]])
    """
    return _lp_pool("lp_pool2d", 2, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """Power-average pooling of ``(N, C, D, H, W)`` inputs; see ``lp_pool2d``.

    >>> F.lp_pool3d(shendu.ones(1, 1, 2, 2, 2), 1, 2)
    tensor([[[[[8.]]]]])
    """
    return _lp_pool("lp_pool3d", 3, input, norm_type, kernel_size, stride, ceil_mode)
