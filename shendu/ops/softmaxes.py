"""softmax and log_softmax along any axis, with their fused backward kernels.

softmax(z)_i = exp(z_i - max z) / sum_j exp(z_j - max z); its vector-Jacobian product is
dz = y * (g - sum(g * y)). log_softmax(z) = z - max z - log sum exp(z - max z), with
dz = g - exp(y) * sum(g). Rows are processed on cache-sized blocks shared among threads
(``parallel.rowwise``), or by numba kernels when they are available.
"""
from __future__ import annotations

import numpy as np

from .. import kernels, parallel
from ..autograd.function import Function
from ._util import normalize_axes, pick_axis
from .elementwise import _floating, cast

__all__ = ["softmax", "log_softmax"]


def _softmax_axis(x, dim, axis, name):
    """The axis to normalize over: ``dim``/``axis``, default -1 (the last axis).
    0-d inputs are treated as one element (axis None)."""
    ax = pick_axis(dim, axis)
    if ax is None:
        ax = -1
    if isinstance(ax, tuple):
        raise TypeError(f"{name}: dim must be one integer, got {ax}")
    ax, = normalize_axes(ax, x.ndim, name)
    return ax if x.ndim else None


def _with_axis(x, axis):
    """A 0-d input as one element along axis 0 (so results stay arrays, not scalars)."""
    return (x.reshape(1), 0) if axis is None else (x, axis)


class Softmax(Function):
    """y_i = e^(x_i - m) / sum_j e^(x_j - m)  (m = max_j x_j, so nothing overflows);
    dL/dx = y * (g - sum(g * y))   (the Jacobian is never built)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        xp = ctx.xp
        ctx.axis = axis
        z, ax = _with_axis(x, axis)
        y = xp.empty(z.shape, z.dtype)
        with np.errstate(invalid="ignore"):  # slices of -inf give nan, as in PyTorch
            _along_axis(lambda z, ax, out: _softmax_into(xp, z, ax, out), ax, z, out=y,
                        compiled=kernels.softmax)
        y = y.reshape(x.shape)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        if ctx.tensor_mode:
            return y * (g - (g * y).sum(axis=ctx.axis, keepdims=True)), None
        xp = ctx.xp
        return _along_axis(lambda g, y, ax, out: _softmax_grad_into(xp, g, y, ax, out),
                           ctx.axis, g, y, out=xp.empty(y.shape, y.dtype),
                           compiled=kernels.softmax_grad), None


# The array kernels write into ``out`` in place: no temporaries, and (through
# _along_axis) on blocks of rows that stay in the cache.
def _softmax_into(xp, z, axis, out):
    """out = softmax(z) along axis"""
    xp.subtract(z, z.max(axis=axis, keepdims=True), out=out)
    xp.exp(out, out=out)
    out /= out.sum(axis=axis, keepdims=True)


def _softmax_grad_into(xp, g, y, axis, out):
    """out = y * (g - sum(g * y))"""
    xp.multiply(g, y, out=out)
    xp.subtract(g, out.sum(axis=axis, keepdims=True), out=out)
    out *= y


class LogSoftmax(Function):
    """y_i = x_i - m - log sum_j e^(x_j - m)   (m = max_j x_j);
    dL/dx = g - softmax(x) * sum(g) = g - e^y * sum(g)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, axis):
        xp = ctx.xp
        ctx.axis = axis
        z, ax = _with_axis(x, axis)
        y = xp.empty(z.shape, z.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):  # -inf slices: nan, as PyTorch
            _along_axis(lambda z, ax, out: _log_softmax_into(xp, z, ax, out), ax, z, out=y,
                        compiled=kernels.log_softmax)
        y = y.reshape(x.shape)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        xp = ctx.xp
        if ctx.tensor_mode:
            return g - xp.exp(y) * g.sum(axis=ctx.axis, keepdims=True), None
        return _along_axis(lambda g, y, ax, out: _log_softmax_grad_into(xp, g, y, ax, out),
                           ctx.axis, g, y, out=xp.empty(y.shape, y.dtype),
                           compiled=kernels.log_softmax_grad), None


def _log_softmax_into(xp, z, axis, out):
    """out = z - m - log(sum(e^(z - m)))"""
    xp.subtract(z, z.max(axis=axis, keepdims=True), out=out)
    out -= xp.log(xp.exp(out).sum(axis=axis, keepdims=True))


def _log_softmax_grad_into(xp, g, y, axis, out):
    """out = g - e^y * sum(g)"""
    xp.exp(y, out=out)
    out *= g.sum(axis=axis, keepdims=True)
    xp.subtract(g, out, out=out)


def _along_axis(kernel, axis, *arrays, out, compiled=None):
    """``kernel(*arrays, axis, out=out)``. Along the last axis of big arrays it runs on
    blocks of rows that stay in the cache, shared among threads: softmax's five passes
    then cost about one trip through memory. ``compiled(*arrays, out)`` does the same
    work in one fused loop per row (numba, :mod:`shendu.kernels`) where it applies."""
    if axis is not None and axis == arrays[0].ndim - 1:
        if compiled is not None and kernels.accepts(*arrays, out):
            return compiled(*arrays, out)
        return parallel.rowwise(lambda *blocks, out: kernel(*blocks, -1, out), *arrays,
                                out=out)
    kernel(*arrays, axis, out)
    return out


def _softmax_input(x, dtype, name):
    x = _floating(x, name)
    if dtype is not None:
        x = cast(x, dtype)
    return x


def softmax(x, dim=None, axis=None, dtype=None):
    """Softmax along one axis: ``e^x / sum(e^x)``, each slice sums to 1.

    Parameters
    ----------
    x : Tensor of any shape, e.g. logits ``(N, C)``
    dim, axis : the axis to normalize over (PyTorch's ``dim`` or NumPy's ``axis``).
        When neither is given it is the **last** axis (-1). (PyTorch's implicit choice
        depends on the number of dimensions and is deprecated; we do not copy it.)
    dtype : cast ``x`` to this dtype first (e.g. ``shendu.float64``).

    Stable for any logits (the maximum is subtracted first): logits of 1e4 give no
    overflow. A slice that is all ``-inf`` gives ``nan``, as in PyTorch.

    >>> shendu.softmax(shendu.tensor([[1.0, 2.0, 3.0]]), dim=1)
    tensor([[0.0900, 0.2447, 0.6652]])
    """
    x = _softmax_input(x, dtype, "softmax")
    return Softmax.apply(x, _softmax_axis(x, dim, axis, "softmax"))


def log_softmax(x, dim=None, axis=None, dtype=None):
    """log(softmax(x)) along one axis, computed as ``x - logsumexp(x)`` (no log of 0).

    Same arguments as ``softmax`` (default: the last axis). Feed it to ``nll_loss``
    for a cross-entropy.

    >>> shendu.log_softmax(shendu.tensor([[1.0, 2.0, 3.0]]), dim=-1)
    tensor([[-2.4076, -1.4076, -0.4076]])
    """
    x = _softmax_input(x, dtype, "log_softmax")
    return LogSoftmax.apply(x, _softmax_axis(x, dim, axis, "log_softmax"))
