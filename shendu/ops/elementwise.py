"""Elementwise math: exp, log, sqrt, trigonometry, clamp, maximum/minimum, where, lerp,
and dtype/device casts. Each Function's docstring states its derivative.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .. import backend

__all__ = ["exp", "log", "cast", "to_device"]


class Exp(Function):
    """y = e^x;   dy/dx = y"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.exp(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * y


class Log(Function):
    """y = ln x;   dy/dx = 1 / x"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / x


def exp(x):
    """e^x elementwise.

    >>> shendu.exp(shendu.tensor([0.0, 1.0]))
    tensor([1.0000, 2.7183])
    """
    return Exp.apply(x)


def log(x):
    """Natural logarithm elementwise (``-inf`` at 0, ``nan`` below, as NumPy)."""
    return Log.apply(x)


class Cast(Function):
    """y = x as another dtype;   dy/dx = g cast back to x's dtype"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return cast(g, ctx.in_dtype), None
        return g.astype(ctx.in_dtype), None


def cast(x, dtype):
    """``x`` converted to ``dtype`` (differentiable between floating dtypes)."""
    dtype = backend.to_dtype(dtype)
    if dtype.kind != "f" or x.dtype.kind != "f":
        return Tensor._make(x.data.astype(dtype))
    return Cast.apply(x, dtype)


class ToDevice(Function):
    """y = x on another device;   dy/dx = g moved back"""
    double_backward = True

    @staticmethod
    def forward(ctx, x, dev):
        ctx.src = backend.device_of(x)
        return backend.move(x, dev)

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return to_device(g, ctx.src), None
        return backend.move(g, ctx.src), None


def to_device(x, dev):
    """``x`` copied to device ``dev`` ("cpu", "cuda"), staying in the graph."""
    return ToDevice.apply(x, backend.Device(dev))
