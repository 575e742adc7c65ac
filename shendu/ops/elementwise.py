"""Elementwise math: exp, log, roots, trigonometry, sigmoid, erf, rounding, clamp,
maximum/minimum, where, lerp, and dtype/device casts. Each Function's docstring
states its derivative.

Backwards are written with operators and ``ctx.xp`` functions only, so they also
run on Tensors in double backward (``create_graph=True``). Masks (which branch of
``clamp``, ``maximum``, ``where`` an element took) are computed from the raw
arrays and used as constants: the branch does not move under an infinitesimal
change of the input. A mask is applied as ``g * mask`` (ten times faster than
``np.where`` on CPU); the one difference: an infinite ``g`` gives ``nan``, not 0,
where the mask is off.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import shape_of, unbroadcast

__all__ = ["exp", "log", "log2", "log10", "log1p", "expm1", "sqrt", "rsqrt", "square",
           "reciprocal", "abs", "sign", "sin", "cos", "tan", "tanh", "sigmoid", "erf",
           "erfc", "floor", "ceil", "round", "clamp", "clip", "maximum", "minimum",
           "where", "lerp", "cast", "to_device"]

_LN2 = math.log(2.0)
_LN10 = math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


# ---------------------------------------------------------------- helpers
def _value(x):
    """The array (or Python number) behind a Tensor."""
    return x.data if isinstance(x, Tensor) else x


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


class Log2(Function):
    """y = log2 x;   dy/dx = 1 / (x ln 2)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.log2(x)

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
        return ctx.xp.log10(x)

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
        return ctx.xp.log1p(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g / (1 + x)


class Expm1(Function):
    """y = e^x - 1, accurate for tiny x;   dy/dx = e^x = y + 1"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.expm1(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (y + 1)


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

    >>> shendu.log10(shendu.tensor([1.0, 1000.0]))
    tensor([0., 3.])
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


# ---------------------------------------------------------------- trigonometry
class Sin(Function):
    """y = sin x;   dy/dx = cos x"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return ctx.xp.sin(x)

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
        return ctx.xp.cos(x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return -g * ctx.xp.sin(x)


class Tan(Function):
    """y = tan x;   dy/dx = 1 + y^2"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        y = ctx.xp.tan(x)
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
        y = ctx.xp.tanh(x)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        return g * (1 - y * y)


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
    # computed in place in one fresh buffer (reshape(-1): NumPy makes 0-d results scalars)
    e = xp.negative(x.reshape(-1))
    with np.errstate(over="ignore"):  # e^-x = inf for x < -88 (float32): 1 / inf = 0, right
        xp.exp(e, out=e)
    e += 1
    xp.reciprocal(e, out=e)
    return e.reshape(x.shape)


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
        return g * y * (1 - y)


def sigmoid(x):
    """The logistic function 1 / (1 + e^-x), in (0, 1); stable for any x (no overflow
    warning at x = -1000).

    >>> shendu.sigmoid(shendu.tensor([-1000.0, 0.0, 2.0]))
    tensor([0.0000, 0.5000, 0.8808])
    """
    return Sigmoid.apply(_floating(x, "sigmoid"))


# ---------------------------------------------------------------- erf
# NumPy has no erf. We use scipy.special's when SciPy is installed and the data is a
# NumPy array; otherwise erfc(z) for z >= 0 is t exp(-z^2 + f(2t - 1)), t = 2 / (2 + z),
# with f a Chebyshev series (the scheme of Numerical Recipes 3rd ed., section 6.2.2;
# coefficients recomputed with mpmath, relative error ~1e-16). float32 needs fewer terms.
_ERFC_CHEBYSHEV = (
    -1.3026537197817094, 6.4196979235649026e-1, 1.9476473204185836e-2,
    -9.561514786808631e-3, -9.46595344482036e-4, 3.66839497852761e-4,
    4.2523324806907e-5, -2.0278578112534e-5, -1.624290004647e-6,
    1.303655835580e-6, 1.5626441722e-8, -8.5238095915e-8, 6.529054439e-9,
    5.059343495e-9, -9.91364156e-10, -2.27365122e-10, 9.6467911e-11,
    2.394038e-12, -6.886027e-12, 8.94487e-13, 3.13092e-13, -1.12708e-13,
    3.81e-16, 7.106e-15, -1.523e-15, -9.4e-17, 1.21e-16, -2.8e-17)
_FLOAT32_TERMS = 14  # the rest are below 1e-9


def _erfc_nonnegative(xp, z):
    """erfc(z) for z >= 0 (an array) by the Chebyshev scheme above."""
    coefs = _ERFC_CHEBYSHEV if z.dtype.itemsize >= 8 else _ERFC_CHEBYSHEV[:_FLOAT32_TERMS]
    z = xp.minimum(z, 40)  # erfc(40) underflows to 0 anyway; z * z must not overflow
    t = 2 / (2 + z)
    ty = 4 * t - 2  # = 2u, u = 2t - 1 in (-1, 1]
    d = dd = 0
    for c in coefs[:0:-1]:  # Clenshaw's recurrence, highest term first
        d, dd = ty * d - dd + c, d
    return t * xp.exp(-z * z + 0.5 * (coefs[0] + ty * d) - dd)


def _erf_series(xp, x):
    """erf(x) for |x| <= 0.5 by its Maclaurin series (full relative accuracy near 0)."""
    x2 = x * x
    s = 0
    for n in range(12, -1, -1):  # sum (-1)^n x^(2n+1) / (n! (2n+1)), Horner in x^2
        s = s * x2 + (-1) ** n / (math.factorial(n) * (2 * n + 1))
    return _TWO_OVER_SQRT_PI * x * s


def _scipy_special(xp):
    if xp is not np:
        return None
    try:
        import scipy.special
    except ImportError:  # SciPy is optional
        return None
    return scipy.special


def erfc_array(xp, x, use_scipy=True):
    """1 - erf(x) on a raw array, accurate in the tails (relative error ~1e-16)."""
    sp = _scipy_special(xp) if use_scipy else None
    if sp is not None:
        return sp.erfc(x).astype(x.dtype, copy=False)
    e = _erfc_nonnegative(xp, xp.abs(x))
    return xp.where(x >= 0, e, 2 - e)


def erf_array(xp, x, use_scipy=True):
    """erf(x) on a raw array."""
    sp = _scipy_special(xp) if use_scipy else None
    if sp is not None:
        return sp.erf(x).astype(x.dtype, copy=False)
    a = xp.abs(x)
    big = xp.sign(x) * (1 - _erfc_nonnegative(xp, a))
    return xp.where(a <= 0.5, _erf_series(xp, xp.minimum(a, 0.5) * xp.sign(x)), big)


class Erf(Function):
    """y = erf x = 2/sqrt(pi) * integral_0^x e^(-t^2) dt;   dy/dx = 2/sqrt(pi) e^(-x^2)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erf_array(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * _TWO_OVER_SQRT_PI * ctx.xp.exp(-x * x)


class Erfc(Function):
    """y = erfc x = 1 - erf x;   dy/dx = -2/sqrt(pi) e^(-x^2)"""
    double_backward = True

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return erfc_array(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * -_TWO_OVER_SQRT_PI * ctx.xp.exp(-x * x)


def erf(x):
    """The error function elementwise (exact GELU uses it).

    >>> shendu.erf(shendu.tensor([0.0, 1.0, -3.0]))
    tensor([ 0.0000,  0.8427, -1.0000])
    """
    return Erf.apply(_floating(x, "erf"))


def erfc(x):
    """1 - erf(x) elementwise, accurate where erf(x) is close to 1.

    >>> shendu.erfc(shendu.tensor([10.0], dtype=shendu.float64)).item()  # doctest: +ELLIPSIS
    2.088487583762...e-45
    """
    return Erfc.apply(_floating(x, "erfc"))


# ---------------------------------------------------------------- clamp
class Clamp(Function):
    """y = min(max(x, lo), hi)   (lo, hi: numbers, arrays or None)

    dy/dx  = 1 where lo <= x <= hi (boundaries included, like PyTorch), else 0
    dy/dlo = 1 where x < lo and lo < hi;   dy/dhi = 1 where x > hi or hi < lo
    (when lo > hi the result is hi everywhere, NumPy's and PyTorch's rule)
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(x, lo, hi)
        ctx.shapes = shape_of(x), shape_of(lo), shape_of(hi)
        return ctx.xp.clip(x, lo, hi)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = (_value(v) for v in ctx.saved_tensors)
        sx, slo, shi = ctx.shapes
        need = ctx.needs_input_grad
        gx = glo = ghi = None
        if need[0]:
            if lo is None:
                inside = x <= hi
            elif hi is None:
                inside = x >= lo
            else:
                inside = (x >= lo) & (x <= hi)
            gx = unbroadcast(g * inside, sx)
        if need[1]:
            below = x < lo if hi is None else (x < lo) & (lo < hi)
            glo = unbroadcast(g * below, slo)
        if need[2]:
            above = x > hi if lo is None else (x > hi) | (hi < lo)
            ghi = unbroadcast(g * above, shi)
        return gx, glo, ghi


def clamp(x, min=None, max=None):
    """Limit every element to ``[min, max]`` (either may be ``None``).

    Parameters
    ----------
    x : Tensor
    min, max : number, Tensor (broadcasting with ``x``) or None; at least one given.

    The gradient passes to ``x`` where ``min <= x <= max`` (boundaries included, as in
    PyTorch) and to a tensor ``min``/``max`` where that bound was taken. If ``min >
    max`` the result is ``max``.

    >>> shendu.clamp(shendu.tensor([-2.0, 0.5, 3.0]), min=0.0, max=1.0)
    tensor([0.0000, 0.5000, 1.0000])
    """
    if min is None and max is None:
        raise ValueError("clamp: at least one of min and max must be given (not None)")
    x = _tensor(x, "clamp")
    lo = None if min is None else _operand(min)
    hi = None if max is None else _operand(max)
    _check_broadcast("clamp", x, *(b for b in (lo, hi) if b is not None))
    return Clamp.apply(x, lo, hi)


clip = clamp


# ---------------------------------------------------------------- maximum, minimum
class _Extremum(Function):
    """Elementwise max/min of a and b. The gradient goes to the input that was picked;
    on ties it is split half/half (PyTorch's rule), so the sum stays g."""
    double_backward = True
    pick = None  # the comparison that picks a: a > b for maximum

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        av, bv = _value(a), _value(b)
        raw = backend.get_array_module(_value(g))
        dtype = _value(g).dtype
        # w: the share of the gradient that goes to a (1, 1/2 on ties, or 0)
        w = raw.where(av == bv, 0.5, ctx.fn.pick(av, bv)).astype(dtype, copy=False)
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _as_dtype(unbroadcast(g * w, av.shape), av.dtype)
        if ctx.needs_input_grad[1]:
            gb = _as_dtype(unbroadcast(g * (1 - w), bv.shape), bv.dtype)
        return ga, gb


class Maximum(_Extremum):
    """y = max(a, b);   dy/da = 1 where a > b, 1/2 where a == b;  dy/db = 1 - dy/da"""
    pick = staticmethod(lambda a, b: a > b)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)


class Minimum(_Extremum):
    """y = min(a, b);   dy/da = 1 where a < b, 1/2 where a == b;  dy/db = 1 - dy/da"""
    pick = staticmethod(lambda a, b: a < b)

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)


def _binary_operands(name, a, b):
    a, b = _operand(a), _operand(b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    _check_broadcast(name, a, b)
    return a, b


def maximum(a, b):
    """Elementwise maximum of ``a`` and ``b``, broadcasting (``nan`` wins, as in NumPy).

    On ties the gradient is split half/half between ``a`` and ``b``, like PyTorch.

    >>> shendu.maximum(shendu.tensor([1.0, 5.0]), shendu.tensor([3.0, 2.0]))
    tensor([3., 5.])
    """
    return Maximum.apply(*_binary_operands("maximum", a, b))


def minimum(a, b):
    """Elementwise minimum of ``a`` and ``b``, broadcasting (``nan`` wins, as in NumPy).

    >>> shendu.minimum(shendu.tensor([1.0, 5.0]), 2.0)
    tensor([1., 2.])
    """
    return Minimum.apply(*_binary_operands("minimum", a, b))


# ---------------------------------------------------------------- where
class Where(Function):
    """y = x where condition else y_;   dy/dx = condition,  dy/dy_ = not condition"""
    double_backward = True

    @staticmethod
    def forward(ctx, condition, x, y):
        ctx.condition = condition
        ctx.shapes = shape_of(x), shape_of(y)
        ctx.dtypes = getattr(x, "dtype", None), getattr(y, "dtype", None)
        return ctx.xp.where(condition, x, y)

    @staticmethod
    def backward(ctx, g):
        c = ctx.condition
        (sx, sy), (dx, dy) = ctx.shapes, ctx.dtypes
        gx = _as_dtype(unbroadcast(g * c, sx), dx) if ctx.needs_input_grad[1] else None
        gy = _as_dtype(unbroadcast(g * ~c, sy), dy) if ctx.needs_input_grad[2] else None
        return None, gx, gy


def where(condition, x=None, y=None):
    """Elements of ``x`` where ``condition`` is true, of ``y`` elsewhere, broadcasting all
    three. ``x`` and ``y`` may be tensors or numbers; each gets the gradient of the
    elements it supplied. ``where(condition)`` alone gives the indices of the true
    elements, a tuple of int64 tensors (``nonzero(as_tuple=True)``).

    >>> c = shendu.tensor([True, False, True])
    >>> shendu.where(c, shendu.tensor([1.0, 2.0, 3.0]), 0.0)
    tensor([1., 0., 3.])
    """
    cond = _value(condition)
    if not hasattr(cond, "dtype"):
        cond = np.asarray(cond)
    if cond.dtype != np.bool_:
        cond = cond != 0
    if x is None and y is None:
        xp = backend.get_array_module(cond)
        return tuple(Tensor._make(i.astype(np.int64)) for i in xp.nonzero(cond))
    if x is None or y is None:
        raise TypeError("where: give both x and y, or neither (for the indices)")
    x, y = _operand(x), _operand(y)
    _check_broadcast("where", cond, x, y)
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        out = backend.get_array_module(cond).where(cond, x, y)
        if out.dtype == np.float64 and isinstance(x, float) and isinstance(y, float):
            out = out.astype(backend.get_default_dtype())
        return Tensor._make(out)
    return Where.apply(cond, x, y)


# ---------------------------------------------------------------- lerp
class Lerp(Function):
    """y = start + w (end - start);
    dy/dstart = 1 - w,  dy/dend = w,  dy/dw = end - start"""
    double_backward = True

    @staticmethod
    def forward(ctx, start, end, weight):
        if hasattr(weight, "shape"):
            ctx.save_for_backward(start, end, weight)
        else:  # a Python number: a constant, kept out of the saved tensors
            ctx.save_for_backward(start, end)
            ctx.weight = weight
        return start + weight * (end - start)

    @staticmethod
    def backward(ctx, g):
        saved = ctx.saved_tensors
        start, end = saved[:2]
        w = saved[2] if len(saved) == 3 else ctx.weight
        need = ctx.needs_input_grad
        return (unbroadcast(g * (1 - w), start.shape) if need[0] else None,
                unbroadcast(g * w, end.shape) if need[1] else None,
                unbroadcast(g * (end - start), w.shape) if need[2] else None)


def lerp(start, end, weight):
    """Linear interpolation ``start + weight * (end - start)``, broadcasting.

    ``start`` and ``end`` are tensors, ``weight`` a number or a tensor; each tensor
    gets a gradient.

    >>> shendu.lerp(shendu.tensor([0.0, 10.0]), shendu.tensor([1.0, 20.0]), 0.25)
    tensor([ 0.2500, 12.5000])
    """
    start, end = _tensor(start, "lerp"), _tensor(end, "lerp")
    weight = _operand(weight)
    _check_broadcast("lerp", start, end, weight)
    return Lerp.apply(start, end, weight)


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
