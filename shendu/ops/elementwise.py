"""Elementwise math: exp, log, roots, rounding, and dtype/device casts. Each Function's
docstring states its derivative. (sin, cos, tan, tanh and sigmoid live in
trigonometric.py; erf/erfc in special.py; clamp, maximum/minimum, where, lerp in
compare_select.py.)

Backwards are written with operators and ``ctx.xp`` functions only, so they also
run on Tensors in double backward (``create_graph=True``).

Speed: ``parallel.elementwise(f, *arrays)`` is just ``f(*arrays)``, except
on big NumPy arrays, where it runs ``f`` on cache-sized blocks shared among threads
(same result, bit for bit). We use it where the work per element is large enough
to pay: transcendental functions (exp, log, tanh: ~1-4 ns an element against ~0.2 ns
for a multiply) and gradients of several passes (``g * (1 - y * y)``).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .. import kernels, parallel
from ._util import shape_of

__all__ = ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square",
           "reciprocal", "abs", "sign", "floor", "ceil", "round", "cast", "to_device"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)


# ---------------------------------------------------------------- helpers
def _value(x):
    """The array (or Python number) behind a Tensor."""
    return x._data if isinstance(x, Tensor) else x


def _scalar(x):
    """NumPy scalars would upcast float32 arrays; make them Python numbers."""
    return x.item() if isinstance(x, np.generic) else x


def _tensor(x, name):
    """``x`` as a Tensor (lists, arrays and numbers are wrapped like ``shendu.tensor``)."""
    if isinstance(x, Tensor):
        return x
    try:
        return Tensor(x)
    except TypeError:
        raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}") from None


def _floating(x, name):
    """Integer and bool tensors become the default float dtype (``sqrt(int)`` is a float,
    as in PyTorch)."""
    x = _tensor(x, name)
    if x.dtype.kind in "iub":
        return cast(x, backend.get_default_dtype())
    return x


def _operand(x):
    """A Tensor stays; an array or list becomes one; a Python number stays a number."""
    x = _scalar(x)
    if isinstance(x, (Tensor, bool, int, float)):
        return x
    return Tensor(x)


def _check_broadcast(name, *operands):
    shapes = [shape_of(_value(o)) for o in operands]
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{name}: shapes {', '.join(map(str, shapes))} do not broadcast "
                         "(align them from the right; each pair of sizes must be equal or "
                         "one of them 1)") from None


def _as_dtype(g, dtype):
    """Gradient cast back to its input's dtype (arrays and Tensors alike)."""
    return g if g.dtype == dtype else g.astype(dtype)


# ---------------------------------------------------------------- exp and log
class Exp(Function):
    """y = e^x;   dy/dx = y"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        if kernels.accepts(x):  # numba installed: one compiled loop (shendu.kernels)
            y = kernels.exp(x, np.empty_like(x))
        else:
            y = parallel.elementwise(ctx.xp.exp, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return kernels.mul(g, y)


class Log(Function):
    """y = ln x;   dy/dx = 1 / x"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return parallel.elementwise(ctx.xp.log, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / x


class Log2(Function):
    """y = log2 x;   dy/dx = 1 / (x ln 2)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return parallel.elementwise(ctx.xp.log2, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (x * _LN2)


class Log10(Function):
    """y = log10 x;   dy/dx = 1 / (x ln 10)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return parallel.elementwise(ctx.xp.log10, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (x * _LN10)


class Log1p(Function):
    """y = ln(1 + x), accurate for tiny x;   dy/dx = 1 / (1 + x)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return log1p_array(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (1 + x)


class Expm1(Function):
    """y = e^x - 1, accurate for tiny x;   dy/dx = e^x = y + 1"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = expm1_array(ctx.xp, x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y + 1)


# NumPy's float32 log1p and expm1 take ~14 ns an element, ten times its log and exp. For
# float32 we use Kahan's rewritings, exact to a few ulps: with u = 1 + x rounded,
# log1p(x) = log(u) x / (u - 1) (the rounding error of u cancels in the ratio), and with
# u = e^x, expm1(x) = (u - 1) x / log(u). Where u rounds to 1 the answer is x: there we
# divide by 1 instead of 0 and add x back (arithmetic on a 0/1 mask: indexing or
# np.where would cost more than the whole formula on inputs like elu's, half zeros).
def log1p_array(xp, x):
    """ln(1 + x) of a raw array, exact for tiny x."""
    if x.dtype != np.float32:
        return xp.log1p(x)

    def kernel(x, out):
        u = 1 + x
        d = u - 1
        one = d == 0
        d += one
        xp.log(u, out=out)  # warns for x <= -1, as log1p does
        with np.errstate(invalid="ignore"):  # x = inf: inf / inf and inf * 0, fixed below
            out *= x / d
            out += x * one
        if (u == math.inf).any():
            out[u == math.inf] = math.inf
    return parallel.elementwise(kernel, x, out=xp.empty_like(x))


def expm1_array(xp, x):
    """e^x - 1 of a raw array, exact for tiny x."""
    if x.dtype != np.float32:
        return xp.expm1(x)

    def kernel(x, out):
        x = xp.maximum(x, -20)  # expm1(-20) is -1 in float32; u stays a normal number
        u = xp.exp(x)
        d = xp.log(u)
        one = d == 0
        d += one
        xp.subtract(u, 1, out=out)
        with np.errstate(invalid="ignore"):  # x = inf: inf / inf and inf * 0, fixed below
            out *= x / d
            out += x * one
        if (u == math.inf).any():  # x > 88.7
            out[u == math.inf] = math.inf
    return parallel.elementwise(kernel, x, out=xp.empty_like(x))


def exp(x):
    """e^x elementwise.

    >>> shendu.exp(shendu.tensor([0.0, 1.0]))
    tensor([1.0000, 2.7183])
    """
    return Exp.apply(_floating(x, "exp"))


def log(x):
    """Natural logarithm elementwise (``-inf`` at 0, ``nan`` below, as NumPy).

    >>> shendu.log(shendu.tensor([1.0, 100.0]))
    tensor([0.0000, 4.6052])
    """
    return Log.apply(_floating(x, "log"))


def log2(x):
    """Base-2 logarithm elementwise.

    >>> shendu.log2(shendu.tensor([1.0, 8.0]))
    tensor([0., 3.])
    """
    return Log2.apply(_floating(x, "log2"))


def log10(x):
    """Base-10 logarithm elementwise.

    >>> shendu.log10(shendu.tensor([1.0, 1000.0, 2.0]))
    tensor([0.0000, 3.0000, 0.3010])
    """
    return Log10.apply(_floating(x, "log10"))


def log1p(x):
    """ln(1 + x), exact even when ``x`` is tiny (``log(1 + 1e-10)`` rounds to 0).

    >>> shendu.log1p(shendu.tensor([1e-10], dtype=shendu.float64)).item()
    9.999999999500001e-11
    """
    return Log1p.apply(_floating(x, "log1p"))


def expm1(x):
    """e^x - 1, exact even when ``x`` is tiny.

    >>> shendu.expm1(shendu.tensor([1e-10], dtype=shendu.float64)).item()
    1.00000000005e-10
    """
    return Expm1.apply(_floating(x, "expm1"))


# ---------------------------------------------------------------- powers and roots
class Sqrt(Function):
    """y = sqrt(x);   dy/dx = 1 / (2 y)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * 0.5 / y


class Rsqrt(Function):
    """y = 1 / sqrt(x);   dy/dx = -y^3 / 2"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = 1 / ctx.xp.sqrt(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * -0.5 * y * y * y


class Square(Function):
    """y = x^2;   dy/dx = 2 x"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * (2 * x)


class Reciprocal(Function):
    """y = 1 / x;   dy/dx = -y^2"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = 1 / x
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return -g * y * y


def sqrt(x):
    """Square root elementwise (``nan`` below 0; the gradient is ``inf`` at 0).

    >>> shendu.sqrt(shendu.tensor([4.0, 9.0]))
    tensor([2., 3.])
    """
    return Sqrt.apply(_floating(x, "sqrt"))


def rsqrt(x):
    """1 / sqrt(x) elementwise.

    >>> shendu.rsqrt(shendu.tensor([4.0, 0.25]))
    tensor([0.5000, 2.0000])
    """
    return Rsqrt.apply(_floating(x, "rsqrt"))


def square(x):
    """x * x elementwise (integer tensors stay integer).

    >>> shendu.square(shendu.tensor([-3.0, 2.0]))
    tensor([9., 4.])
    """
    return Square.apply(_tensor(x, "square"))


def reciprocal(x):
    """1 / x elementwise (``inf`` at 0).

    >>> shendu.reciprocal(shendu.tensor([2.0, -4.0]))
    tensor([ 0.5000, -0.2500])
    """
    return Reciprocal.apply(_floating(x, "reciprocal"))


# ---------------------------------------------------------------- sign and abs
class Abs(Function):
    """y = |x|;   dy/dx = sign(x)  (0 at x = 0, like PyTorch)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.abs(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ctx.xp.sign(x)


class _ZeroGradient(Function):
    """Piecewise-constant ops (sign, floor, ceil, round, step): dy/dx = 0 wherever it
    exists. Like PyTorch they stay in the graph and pass back zeros, so a loss built on
    them gets a zero gradient instead of an error."""
    double_backward = True

    @staticmethod
    def backward(ctx, g):
        # one zero gradient for x, None for the other arguments (decimals, threshold)
        return (ctx.xp.zeros_like(g),) + (None,) * (len(ctx.inputs) - 1)


class Sign(_ZeroGradient):
    """y = -1, 0 or 1;   dy/dx = 0"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.sign(x)


class Floor(_ZeroGradient):
    """y = largest integer <= x;   dy/dx = 0"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.floor(x)


class Ceil(_ZeroGradient):
    """y = smallest integer >= x;   dy/dx = 0"""

    @staticmethod
    def forward(ctx, x):
        return ctx.xp.ceil(x)


class Round(_ZeroGradient):
    """y = x rounded to ``decimals`` places, halves to even;   dy/dx = 0"""

    @staticmethod
    def forward(ctx, x, decimals=0):
        return ctx.xp.round(x, decimals)


def abs(x):
    """|x| elementwise; its gradient at 0 is 0, as in PyTorch.

    >>> shendu.abs(shendu.tensor([-2.0, 0.0, 3.0]))
    tensor([2., 0., 3.])
    """
    return Abs.apply(_tensor(x, "abs"))


def sign(x):
    """-1, 0 or 1 by the sign of each element; zero gradient.

    >>> shendu.sign(shendu.tensor([-2.0, 0.0, 3.0]))
    tensor([-1.,  0.,  1.])
    """
    return Sign.apply(_tensor(x, "sign"))


def floor(x):
    """Largest integer <= x elementwise; zero gradient.

    >>> shendu.floor(shendu.tensor([-1.5, 1.5]))
    tensor([-2.,  1.])
    """
    return Floor.apply(_tensor(x, "floor"))


def ceil(x):
    """Smallest integer >= x elementwise; zero gradient.

    >>> shendu.ceil(shendu.tensor([-1.5, 1.5]))
    tensor([-1.,  2.])
    """
    return Ceil.apply(_tensor(x, "ceil"))


def round(x, decimals=0):
    """Round to ``decimals`` decimal places, halves to the even neighbour (as PyTorch
    and NumPy: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2); zero gradient.

    >>> shendu.round(shendu.tensor([0.5, 1.5, 2.5, 1.2345]))
    tensor([0., 2., 2., 1.])
    >>> shendu.round(shendu.tensor([1.2345]), decimals=2)
    tensor([1.2300])
    """
    if int(decimals) != decimals:
        raise TypeError(f"round: decimals must be an integer, got {decimals!r}")
    return Round.apply(_tensor(x, "round"), int(decimals))


# ---------------------------------------------------------------- dtype and device
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
        return Tensor._make(x._data.astype(dtype))
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


# moved to compare_select.py and special.py in the split; still importable from here
from .compare_select import clamp, clip, lerp, maximum, minimum, where  # noqa: E402,F401
from .special import erf, erf_array, erfc, erfc_array  # noqa: E402,F401
