"""More elementwise math under PyTorch's names: inverse and hyperbolic trigonometry,
``addcmul``/``addcdiv``, ``logaddexp``, ``hypot``, ``xlogy``, ``trunc``/``frac``, ...

The one-input functions share one Function, ``_Unary``: each row of ``_UNARY`` gives
the forward ``f(xp, x)`` and the derivative ``f'(xp, x)``, and backward is
``g * f'(x)`` (chain rule). The two-input ones are written with existing
differentiable ops (``where``, ``exp``, ``log``, ...) so their gradients come for
free; each docstring states the math.

>>> import shendu
>>> shendu.asin(shendu.tensor([0.0, 1.0]))
tensor([0.0000, 1.5708])
>>> shendu.addcmul(shendu.zeros(2), shendu.tensor([1.0, 2.0]), shendu.tensor([3.0, 4.0]), value=0.5)
tensor([1.5000, 4.0000])
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import arithmetic as _ar
from . import compare_select as _cs
from . import elementwise as _el
from .elementwise import _floating, _tensor, _value

__all__ = ["asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh",
           "arcsin", "arccos", "arctan", "arcsinh", "arccosh", "arctanh", "exp2", "sinc",
           "logit", "trunc", "fix", "frac", "deg2rad", "rad2deg", "absolute", "sgn",
           "positive", "atan2", "arctan2", "addcmul", "addcdiv", "logaddexp", "logaddexp2",
           "hypot", "xlogy", "float_power", "copysign", "heaviside", "clamp_min",
           "clamp_max", "fmax", "fmin", "rsub", "nan_to_num", "signbit", "isclose",
           "isneginf", "isposinf", "isreal", "is_nonzero", "gcd", "lcm", "bitwise_and",
           "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift",
           "bitwise_right_shift", "angle", "ldexp", "frexp", "nextafter"]


class _Unary(Function):
    """y = f(x);   dL/dx = g * f'(x)   (f and f' come from the ``_UNARY`` table)."""

    @staticmethod
    def forward(ctx, x, f, df):
        ctx.save_for_backward(x)
        ctx.df = df
        return f(ctx.xp, x)

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return g * ctx.df(ctx.xp, x).astype(g.dtype, copy=False), None, None


def _sinc(xp, x):
    px = math.pi * x
    safe = xp.where(x == 0, 1.0, px)
    return xp.where(x == 0, 1.0, xp.sin(safe) / safe).astype(x.dtype)


def _dsinc(xp, x):
    px = math.pi * x
    safe = xp.where(x == 0, 1.0, px)
    return xp.where(x == 0, 0.0, math.pi * (xp.cos(safe) * safe - xp.sin(safe)) / safe ** 2)


def _zero(xp, x):
    return xp.zeros_like(x)


# name: (forward, derivative, math for the docstring)
_UNARY = {
    "asin": (lambda xp, x: xp.arcsin(x), lambda xp, x: 1 / xp.sqrt(1 - x * x),
             "arcsin x;  d/dx = 1 / sqrt(1 - x^2)"),
    "acos": (lambda xp, x: xp.arccos(x), lambda xp, x: -1 / xp.sqrt(1 - x * x),
             "arccos x;  d/dx = -1 / sqrt(1 - x^2)"),
    "atan": (lambda xp, x: xp.arctan(x), lambda xp, x: 1 / (1 + x * x),
             "arctan x;  d/dx = 1 / (1 + x^2)"),
    "sinh": (lambda xp, x: xp.sinh(x), lambda xp, x: xp.cosh(x), "sinh x;  d/dx = cosh x"),
    "cosh": (lambda xp, x: xp.cosh(x), lambda xp, x: xp.sinh(x), "cosh x;  d/dx = sinh x"),
    "asinh": (lambda xp, x: xp.arcsinh(x), lambda xp, x: 1 / xp.sqrt(x * x + 1),
              "arsinh x;  d/dx = 1 / sqrt(x^2 + 1)"),
    "acosh": (lambda xp, x: xp.arccosh(x), lambda xp, x: 1 / xp.sqrt(x * x - 1),
              "arcosh x (x >= 1);  d/dx = 1 / sqrt(x^2 - 1)"),
    "atanh": (lambda xp, x: xp.arctanh(x), lambda xp, x: 1 / (1 - x * x),
              "artanh x (|x| < 1);  d/dx = 1 / (1 - x^2)"),
    "exp2": (lambda xp, x: xp.exp2(x), lambda xp, x: xp.exp2(x) * math.log(2.0),
             "2^x;  d/dx = 2^x ln 2"),
    "sinc": (_sinc, _dsinc, "sin(pi x) / (pi x), 1 at 0;  d/dx = (pi x cos(pi x) - sin(pi x)) "
                            "/ (pi x^2)"),
    "logit": (lambda xp, x: xp.log(x / (1 - x)), lambda xp, x: 1 / (x * (1 - x)),
              "log(x / (1 - x));  d/dx = 1 / (x (1 - x))"),
    "trunc": (lambda xp, x: xp.trunc(x), _zero, "x rounded toward zero;  d/dx = 0"),
    "frac": (lambda xp, x: x - xp.trunc(x), lambda xp, x: xp.ones_like(x),
             "x - trunc(x) (keeps the sign);  d/dx = 1"),
    "deg2rad": (lambda xp, x: x * (math.pi / 180), lambda xp, x: xp.full_like(x, math.pi / 180),
                "x pi / 180;  d/dx = pi / 180"),
    "rad2deg": (lambda xp, x: x * (180 / math.pi), lambda xp, x: xp.full_like(x, 180 / math.pi),
                "x 180 / pi;  d/dx = 180 / pi"),
}


def _make_unary(name, f, df, math_text):
    def op(input, eps=None):
        x = _floating(input, name)
        if eps is not None:  # logit(x, eps): clamp x to [eps, 1 - eps] first
            x = _cs.clamp(x, eps, 1 - eps)
        return _Unary.apply(x, f, df)
    op.__name__ = op.__qualname__ = name
    op.__doc__ = (f"Elementwise {math_text}.\n\nFloat input (integers become the default float "
                  f"dtype); differentiable. PyTorch's ``torch.{name}``.")
    return op


(asin, acos, atan, sinh, cosh, asinh, acosh, atanh, exp2, sinc, logit, trunc, frac, deg2rad,
 rad2deg) = (_make_unary(n, *_UNARY[n]) for n in _UNARY)
arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh
fix = trunc
absolute = _el.abs
sgn = _el.sign


def positive(input):
    """``input`` itself (``+x``), as ``torch.positive``."""
    return input


def atan2(input, other):
    """The angle of the point (other, input): arctan(y / x) in (-pi, pi], broadcasting.

    d/dy = x / (x^2 + y^2),  d/dx = -y / (x^2 + y^2).

    >>> shendu.atan2(shendu.tensor([1.0]), shendu.tensor([-1.0]))
    tensor([2.3562])
    """
    y, x = _floating(input, "atan2"), _floating(other, "atan2")
    return _Atan2.apply(y, x)


arctan2 = atan2


class _Atan2(Function):
    """z = atan2(y, x);  dz/dy = x / r^2,  dz/dx = -y / r^2  (r^2 = x^2 + y^2)."""

    @staticmethod
    def forward(ctx, y, x):
        ctx.save_for_backward(y, x)
        return ctx.xp.arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        from ._util import unbroadcast
        y, x = ctx.saved_tensors
        r2 = x * x + y * y
        return unbroadcast(g * x / r2, y.shape), unbroadcast(-g * y / r2, x.shape)


def addcmul(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 * tensor2`` (broadcasting), differentiable in all three.

    >>> shendu.addcmul(shendu.ones(2), shendu.tensor([1.0, 2.0]), shendu.tensor([2.0, 2.0]))
    tensor([3., 5.])
    """
    return _ar.add(input, _ar.mul(tensor1, tensor2), alpha=value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    """``input + value * tensor1 / tensor2`` (broadcasting), differentiable in all three.

    >>> shendu.addcdiv(shendu.ones(2), shendu.tensor([1.0, 2.0]), shendu.tensor([2.0, 4.0]))
    tensor([1.5000, 1.5000])
    """
    return _ar.add(input, _ar.div(tensor1, tensor2), alpha=value)


def logaddexp(input, other):
    """``log(e^a + e^b)`` without overflow: ``max(a, b) + log1p(e^-|a - b|)``.

    >>> shendu.logaddexp(shendu.tensor([100.0]), shendu.tensor([100.0]))
    tensor([100.6931])
    """
    a, b = _floating(input, "logaddexp"), _floating(other, "logaddexp")
    return _cs.maximum(a, b) + _el.log1p(_el.exp(-_el.abs(a - b)))


def logaddexp2(input, other):
    """``log2(2^a + 2^b)``, computed as ``logaddexp(a ln2, b ln2) / ln2``."""
    ln2 = math.log(2.0)
    return logaddexp(_floating(input, "logaddexp2") * ln2,
                     _floating(other, "logaddexp2") * ln2) / ln2


def hypot(input, other):
    """``sqrt(a^2 + b^2)`` elementwise (broadcasting).

    >>> shendu.hypot(shendu.tensor([3.0]), shendu.tensor([4.0]))
    tensor([5.])
    """
    a, b = _floating(input, "hypot"), _floating(other, "hypot")
    return _el.sqrt(a * a + b * b)


def xlogy(input, other):
    """``x * log(y)``, 0 where ``x == 0`` (even for y = 0), nan where y is nan.

    >>> shendu.xlogy(shendu.tensor([0.0, 2.0]), shendu.tensor([0.0, 1.0]))
    tensor([0., 0.])
    """
    x, y = _floating(input, "xlogy"), _floating(other, "xlogy")
    zero = _value(x) == 0
    if isinstance(zero, np.ndarray) or hasattr(zero, "shape"):
        zero = zero & ~x.xp.isnan(_value(y))
    safe_y = _cs.where(Tensor._make(x.xp.asarray(zero)), 1.0, y)
    return _cs.where(Tensor._make(x.xp.asarray(zero)), 0.0, x * _el.log(safe_y))


def float_power(input, exponent):
    """``input ** exponent`` computed in float64 (PyTorch's rule)."""
    x = _el.cast(_tensor(input, "float_power"), backend.float64)
    e = _el.cast(exponent, backend.float64) if isinstance(exponent, Tensor) else exponent
    return _ar.pow(x, e)


def copysign(input, other):
    """``|input|`` with the sign of ``other`` (d/dinput = sign(input) sign(other) ...).

    >>> shendu.copysign(shendu.tensor([1.0, -2.0]), -1.0)
    tensor([-1., -2.])
    """
    x = _floating(input, "copysign")
    o = _value(other)
    sign = x.xp.where(x.xp.signbit(x.xp.asarray(o)), -1.0, 1.0).astype(x.dtype)
    return _el.abs(x) * Tensor._make(sign)


def heaviside(input, values):
    """0 where x < 0, ``values`` where x == 0, 1 where x > 0 (not differentiable)."""
    x = _tensor(input, "heaviside")
    return Tensor._make(x.xp.heaviside(x._data, _value(values)).astype(x.dtype))


def clamp_min(input, min):
    """``max(input, min)`` (``clamp(input, min=min)``)."""
    return _cs.clamp(input, min, None)


def clamp_max(input, max):
    """``min(input, max)`` (``clamp(input, max=max)``)."""
    return _cs.clamp(input, None, max)


def fmax(input, other):
    """Elementwise maximum that ignores nan (nan only where both are nan)."""
    a, b = _tensor(input, "fmax"), _tensor(other, "fmax")
    a_nan = Tensor._make(a.xp.isnan(a._data))
    b_nan = Tensor._make(b.xp.isnan(b._data))
    return _cs.where(a_nan, b, _cs.where(b_nan, a, _cs.maximum(a, b)))


def fmin(input, other):
    """Elementwise minimum that ignores nan (nan only where both are nan)."""
    a, b = _tensor(input, "fmin"), _tensor(other, "fmin")
    a_nan = Tensor._make(a.xp.isnan(a._data))
    b_nan = Tensor._make(b.xp.isnan(b._data))
    return _cs.where(a_nan, b, _cs.where(b_nan, a, _cs.minimum(a, b)))


def rsub(input, other, alpha=1):
    """``other - alpha * input`` (reversed subtraction)."""
    return _ar.sub(other, input, alpha=alpha)


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    """Replace nan by ``nan``, +inf by ``posinf`` and -inf by ``neginf`` (defaults: the
    dtype's largest and smallest finite values); the gradient passes where finite.

    >>> shendu.nan_to_num(shendu.tensor([float("nan"), 1.0]))
    tensor([0., 1.])
    """
    x = _tensor(input, "nan_to_num")
    if x.dtype.kind != "f":
        return x.clone()
    info = np.finfo(x.dtype)
    posinf = info.max if posinf is None else posinf
    neginf = info.min if neginf is None else neginf
    xp, d = x.xp, x._data
    out = _cs.where(Tensor._make(xp.isnan(d)), float(nan), x)
    out = _cs.where(Tensor._make(xp.isposinf(d)), float(posinf), out)
    return _cs.where(Tensor._make(xp.isneginf(d)), float(neginf), out)


def _bool_map(name, f):
    def op(input):
        x = _tensor(input, name)
        return Tensor._make(f(x.xp, x._data))
    op.__name__ = op.__qualname__ = name
    return op


signbit = _bool_map("signbit", lambda xp, d: xp.signbit(d))
signbit.__doc__ = "True where the sign bit is set (negative numbers and -0.0)."
isneginf = _bool_map("isneginf", lambda xp, d: xp.isneginf(d) if d.dtype.kind == "f"
                     else xp.zeros(d.shape, bool))
isneginf.__doc__ = "True where the value is -inf."
isposinf = _bool_map("isposinf", lambda xp, d: xp.isposinf(d) if d.dtype.kind == "f"
                     else xp.zeros(d.shape, bool))
isposinf.__doc__ = "True where the value is +inf."
isreal = _bool_map("isreal", lambda xp, d: xp.isreal(d))
isreal.__doc__ = "True everywhere (shendu has no complex dtypes)."
bitwise_not = _bool_map("bitwise_not", lambda xp, d: xp.invert(d))
bitwise_not.__doc__ = "Bitwise NOT of an integer or bool tensor (logical NOT for bool)."


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise ``|a - b| <= atol + rtol |b|`` (a bool tensor)."""
    a, b = _tensor(input, "isclose"), _value(other)
    return Tensor._make(a.xp.isclose(a._data, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def is_nonzero(input):
    """The truth value of a one-element tensor (error for any other size)."""
    x = _tensor(input, "is_nonzero")
    if x.numel() != 1:
        raise RuntimeError(f"is_nonzero: expected a tensor with one element, got shape "
                           f"{x.shape}")
    return bool(x.item())


def _int_binary(name, f):
    def op(input, other):
        a = _tensor(input, name)
        if a.dtype.kind not in "iub":
            raise TypeError(f"{name}: expected integer or bool tensors, got {a.dtype}")
        return Tensor._make(f(a.xp, a._data, _value(other)))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"Elementwise ``{name}`` of integer (or bool) tensors, broadcasting."
    return op


gcd = _int_binary("gcd", lambda xp, a, b: xp.gcd(a, b))
lcm = _int_binary("lcm", lambda xp, a, b: xp.lcm(a, b))
bitwise_and = _int_binary("bitwise_and", lambda xp, a, b: xp.bitwise_and(a, b))
bitwise_or = _int_binary("bitwise_or", lambda xp, a, b: xp.bitwise_or(a, b))
bitwise_xor = _int_binary("bitwise_xor", lambda xp, a, b: xp.bitwise_xor(a, b))
bitwise_left_shift = _int_binary("bitwise_left_shift", lambda xp, a, b: xp.left_shift(a, b))
bitwise_right_shift = _int_binary("bitwise_right_shift",
                                  lambda xp, a, b: xp.right_shift(a, b))


def angle(input):
    """The argument of each (real) element: 0 for x >= 0, pi for x < 0 (nan stays nan);
    zero gradient, as PyTorch gives for real input."""
    x = _tensor(input, "angle")
    xp, d = x.xp, x._data
    dtype = x.dtype if x.dtype.kind == "f" else backend.get_default_dtype()
    out = xp.where(d < 0, math.pi, 0.0).astype(dtype)
    if x.dtype.kind == "f":
        out = xp.where(xp.isnan(d), d, out)
    return Tensor._make(out)


def ldexp(input, other):
    """``input * 2 ** other`` (broadcasting), differentiable in ``input``.

    >>> shendu.ldexp(shendu.tensor([1.0, 3.0]), shendu.tensor([2, 1]))
    tensor([4., 6.])
    """
    x = _floating(input, "ldexp")
    e = _value(other)
    return _ar.mul(x, Tensor._make(x.xp.asarray(x.xp.exp2(x.xp.asarray(e, dtype=x.dtype)))))


def frexp(input):
    """``(mantissa, exponent)`` with ``input = mantissa * 2 ** exponent`` and
    0.5 <= |mantissa| < 1 (no gradient).

    >>> shendu.frexp(shendu.tensor([8.0])).exponent
    tensor([4], dtype=shendu.int32)
    """
    from collections import namedtuple
    x = _floating(input, "frexp")
    m, e = x.xp.frexp(x._data)
    return namedtuple("frexp", ["mantissa", "exponent"])(Tensor._make(m),
                                                         Tensor._make(e.astype(np.int32)))


def nextafter(input, other):
    """The next floating-point value after ``input`` toward ``other`` (no gradient)."""
    x = _floating(input, "nextafter")
    return Tensor._make(x.xp.nextafter(x._data, x.xp.asarray(_value(other), dtype=x.dtype)))
