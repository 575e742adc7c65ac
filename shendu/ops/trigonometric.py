"""Trigonometric and hyperbolic functions and the logistic sigmoid: sin, cos, tan, tanh,
sigmoid. Each Function's docstring states its derivative; the backwards are written with
operators and ``ctx.xp`` functions, so they run on Tensors in double backward.

    d sin x = cos x,  d cos x = -sin x,  d tan x = 1 + tan^2 x,
    d tanh x = 1 - tanh^2 x,  d sigmoid x = sigmoid x (1 - sigmoid x)
"""
from __future__ import annotations

import numpy as np

from .. import kernels, parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .elementwise import _floating

__all__ = ["sin", "cos", "tan", "tanh", "sigmoid"]


# ---------------------------------------------------------------- trigonometry
class Sin(Function):
    """y = sin x;   dy/dx = cos x"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return parallel.elementwise(ctx.xp.sin, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ctx.xp.cos(x)


class Cos(Function):
    """y = cos x;   dy/dx = -sin x"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return parallel.elementwise(ctx.xp.cos, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return -g * ctx.xp.sin(x)


class Tan(Function):
    """y = tan x;   dy/dx = 1 + y^2"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = parallel.elementwise(ctx.xp.tan, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (1 + y * y)


class Tanh(Function):
    """y = tanh x;   dy/dx = 1 - y^2"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        if kernels.accepts(x):  # numba installed: one compiled loop (shendu.kernels)
            y = kernels.tanh(x, np.empty_like(x))
        else:
            y = parallel.elementwise(ctx.xp.tanh, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        if ctx.tensor_mode:
            return g * (1 - y * y)
        if kernels.accepts(g, y):
            return kernels.tanh_grad(g, y, np.empty_like(y))
        # the same in one fresh buffer: three passes, no temporaries
        out = ctx.xp.multiply(y, y, out=ctx.xp.empty_like(y))
        ctx.xp.subtract(1, out, out=out)
        out *= g
        return out


def sin(x):
    """Sine elementwise (radians).

    >>> shendu.sin(shendu.tensor([0.0, 1.5707964]))
    tensor([0., 1.])
    """
    return Sin.apply(_floating(x, "sin"))


def cos(x):
    """Cosine elementwise (radians).

    >>> shendu.cos(shendu.tensor([0.0, 3.1415927]))
    tensor([ 1., -1.])
    """
    return Cos.apply(_floating(x, "cos"))


def tan(x):
    """Tangent elementwise (radians).

    >>> shendu.tan(shendu.tensor([0.0, 0.7853982]))
    tensor([0., 1.])
    """
    return Tan.apply(_floating(x, "tan"))


def tanh(x):
    """Hyperbolic tangent elementwise, in (-1, 1).

    >>> shendu.tanh(shendu.tensor([-100.0, 0.0, 0.5]))
    tensor([-1.0000,  0.0000,  0.4621])
    """
    return Tanh.apply(_floating(x, "tanh"))


# ---------------------------------------------------------------- sigmoid
def sigmoid_array(xp, x):
    """1 / (1 + e^-x) on a raw array, stable for any x."""
    def kernel(x, out):  # in place in the output buffer: no temporaries
        xp.negative(x, out=out)
        with np.errstate(over="ignore"):  # e^-x = inf for x < -88 (float32): 1 / inf = 0, right
            xp.exp(out, out=out)
        out += 1
        xp.reciprocal(out, out=out)
    return parallel.elementwise(kernel, x, out=xp.empty_like(x))


def sigmoid_of(xp, x):
    """sigmoid of a raw array, or of a Tensor as a graph op (for double backward)."""
    return sigmoid(x) if isinstance(x, Tensor) else sigmoid_array(xp, x)


class Sigmoid(Function):
    """y = 1 / (1 + e^-x);   dy/dx = y (1 - y)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = sigmoid_array(ctx.xp, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        if ctx.tensor_mode:
            return g * y * (1 - y)
        # the same in one fresh buffer: three passes, no temporaries
        out = ctx.xp.subtract(1, y, out=ctx.xp.empty_like(y))
        out *= y
        out *= g
        return out


def sigmoid(x):
    """The logistic function 1 / (1 + e^-x), in (0, 1); stable for any x (no overflow
    warning at x = -1000).

    >>> shendu.sigmoid(shendu.tensor([-1000.0, 0.0, 2.0]))
    tensor([0.0000, 0.5000, 0.8808])
    """
    return Sigmoid.apply(_floating(x, "sigmoid"))
