"""``keras.ops`` NumPy-style math: element-wise functions, arithmetic with Keras's dtype
rules, comparisons, and reductions with ``axis=None`` / ``keepdims``.

Keras's conventions, kept here: ``axis=None`` reduces every axis; an integer input to
``mean``, ``var``, ``std``, ``exp``, ``log``, ``sqrt``... gives float32; ``argmax`` gives
int32; a Python number is "weak" (``int_tensor * 2.5`` is float32, ``float16 * 2`` stays
float16). Each function is a composition of shendu's differentiable ops, so gradients
flow through ``loss.backward()``.

>>> from shendu.keras import ops
>>> x = ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
>>> float(ops.mean(x)), ops.sum(x, axis=0).tolist(), ops.max(x, axis=1, keepdims=True).shape
(2.5, [4.0, 6.0], (2, 1))
>>> ops.argmax(x, axis=-1).dtype
dtype('int32')
"""
from __future__ import annotations

import numpy as np

from ... import ops as _ops
from ...autograd.tensor import Tensor
from ._core import _floatx, _like_dtype, _np_dtype, _t, cast

__all__ = ["abs", "absolute", "negative", "sign", "sqrt", "rsqrt", "square", "exp", "exp2",
           "expm1", "log", "log2", "log10", "log1p", "sin", "cos", "tan", "tanh",
           "floor", "ceil", "round", "trunc", "reciprocal", "erf", "erfc", "cbrt",
           "fabs", "isnan", "isinf", "isfinite", "logical_not", "real", "imag", "conj",
           "conjugate", "add", "subtract", "multiply", "divide", "true_divide",
           "divide_no_nan", "floor_divide", "mod", "power", "maximum", "minimum",
           "clip", "where", "equal", "not_equal", "greater", "greater_equal", "less",
           "less_equal", "logical_and", "logical_or", "logical_xor", "isclose",
           "allclose", "nan_to_num", "select", "fmax", "fmin", "logaddexp",
           "logaddexp2", "hypot", "heaviside", "signbit", "isposinf",
           "isneginf", "isreal", "deg2rad", "rad2deg", "sinc"]



def _float(x):
    """``x`` as a Tensor; integers and bools become float32 (Keras's rule for math)."""
    x = _t(x)
    return x if x.dtype.kind == "f" else cast(x, _floatx())


def _axis(axis):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return int(axis)


# ------------------------------------------------------------------ unary
def abs(x):
    """|x| element-wise."""
    return _ops.abs(_t(x))


absolute = fabs = abs


def negative(x):
    return -_t(x)


def sign(x):
    return _ops.sign(_t(x))


def sqrt(x):
    return _ops.sqrt(_float(x))


def rsqrt(x):
    """1 / sqrt(x)."""
    return _ops.rsqrt(_float(x))


def square(x):
    return _ops.square(_t(x))


def exp(x):
    return _ops.exp(_float(x))


def exp2(x):
    """2 ** x."""
    return _ops.exp(_float(x) * float(np.log(2.0)))


def expm1(x):
    return _ops.expm1(_float(x))


def log(x):
    return _ops.log(_float(x))


def log2(x):
    return _ops.log2(_float(x))


def log10(x):
    return _ops.log10(_float(x))


def log1p(x):
    return _ops.log1p(_float(x))


def sin(x):
    return _ops.sin(_float(x))


def cos(x):
    return _ops.cos(_float(x))


def tan(x):
    return _ops.tan(_float(x))


def tanh(x):
    return _ops.tanh(_float(x))


def floor(x):
    return _ops.floor(_float(x))


def ceil(x):
    return _ops.ceil(_float(x))


def round(x, decimals=0):
    """Round half to even, as NumPy (``decimals`` digits)."""
    x = _t(x)
    return _ops.round(x, decimals) if x.dtype.kind == "f" else x


def trunc(x):
    """Round towards 0 (integers unchanged)."""
    x = _t(x)
    if x.dtype.kind != "f":
        return x
    return _ops.where(x >= 0, _ops.floor(x), _ops.ceil(x))


def reciprocal(x):
    return _ops.reciprocal(_float(x))


def erf(x):
    return _ops.erf(_float(x))


def erfc(x):
    return _ops.erfc(_float(x))


def cbrt(x):
    """The real cube root: sign(x) |x|^(1/3)."""
    x = _float(x)
    return _ops.sign(x) * _ops.abs(x) ** (1.0 / 3.0)


def isnan(x):
    return _ops.isnan(_t(x))


def isinf(x):
    return _ops.isinf(_t(x))


def isfinite(x):
    return _ops.isfinite(_t(x))


def isposinf(x):
    x = _t(x)
    return _ops.logical_and(_ops.isinf(x), x > 0)


def isneginf(x):
    x = _t(x)
    return _ops.logical_and(_ops.isinf(x), x < 0)


def isreal(x):
    """True everywhere: shendu tensors are real."""
    x = _t(x)
    return Tensor._make(np.ones(x.shape, dtype=bool))


def signbit(x):
    x = _t(x)
    a = x.detach().__array__()
    return Tensor._make(np.signbit(a))


def logical_not(x):
    return _ops.logical_not(_t(x))


def real(x):
    """The real part (shendu tensors are real: ``x`` itself)."""
    return _t(x)


def imag(x):
    """The imaginary part (zeros: shendu tensors are real)."""
    return _ops.zeros_like(_t(x))


def conj(x):
    """The complex conjugate (``x`` itself for real tensors)."""
    return _t(x)


conjugate = conj


def deg2rad(x):
    return _float(x) * float(np.pi / 180.0)


def rad2deg(x):
    return _float(x) * float(180.0 / np.pi)


def sinc(x):
    """sin(pi x) / (pi x), 1 at 0."""
    x = _float(x)
    small = _ops.abs(x) < 1e-20
    safe = _ops.where(small, _ops.ones_like(x), x) * float(np.pi)
    return _ops.where(small, _ops.ones_like(x), _ops.sin(safe) / safe)


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    """NaN -> ``nan``, +inf -> ``posinf`` (default the dtype's max), -inf -> ``neginf``."""
    x = _t(x)
    if x.dtype.kind != "f":
        return x
    info = np.finfo(x.dtype)
    big = float(info.max) if posinf is None else float(posinf)
    small = float(info.min) if neginf is None else float(neginf)
    full = _ops.full_like
    x = _ops.where(_ops.isnan(x), full(x, float(nan)), x)
    x = _ops.where(isposinf(x), full(x, big), x)
    return _ops.where(isneginf(x), full(x, small), x)


# ------------------------------------------------------------------ binary
def add(x1, x2):
    a, b = _like_dtype(x1, x2)
    return a + b


def subtract(x1, x2):
    a, b = _like_dtype(x1, x2)
    return a - b


def multiply(x1, x2):
    a, b = _like_dtype(x1, x2)
    return a * b


def divide(x1, x2):
    """True division; integer operands give float32."""
    a, b = _like_dtype(x1, x2)
    if a.dtype.kind != "f" and b.dtype.kind != "f":
        a, b = cast(a, _floatx()), cast(b, _floatx())
    return a / b


true_divide = divide


def divide_no_nan(x1, x2):
    """x1 / x2, and 0 where x2 == 0."""
    a, b = _like_dtype(x1, x2)
    a, b = _float(a), _float(b)
    zero = b == 0
    safe = _ops.where(zero, _ops.ones_like(b), b)
    return _ops.where(zero, _ops.zeros_like(a / safe), a / safe)


def floor_divide(x1, x2):
    a, b = _like_dtype(x1, x2)
    return _ops.floor_divide(a, b)


def mod(x1, x2):
    """The remainder with the divisor's sign (NumPy's ``mod``)."""
    a, b = _like_dtype(x1, x2)
    return _ops.remainder(a, b)


def power(x1, x2):
    a, b = _like_dtype(x1, x2)
    return a ** b


def maximum(x1, x2):
    a, b = _like_dtype(x1, x2)
    return _ops.maximum(a, b)


def minimum(x1, x2):
    a, b = _like_dtype(x1, x2)
    return _ops.minimum(a, b)


def fmax(x1, x2):
    """Element-wise maximum ignoring NaN."""
    a, b = _like_dtype(x1, x2)
    return _ops.where(_ops.isnan(a), b, _ops.where(_ops.isnan(b), a, _ops.maximum(a, b)))


def fmin(x1, x2):
    a, b = _like_dtype(x1, x2)
    return _ops.where(_ops.isnan(a), b, _ops.where(_ops.isnan(b), a, _ops.minimum(a, b)))


def clip(x, x_min, x_max):
    """``x`` limited to ``[x_min, x_max]`` (gradient 0 outside)."""
    x = _t(x)
    lo = x_min.detach().__array__() if isinstance(x_min, Tensor) else x_min
    hi = x_max.detach().__array__() if isinstance(x_max, Tensor) else x_max
    return _ops.clip(x, lo, hi)


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` else ``x2``; with only ``condition``, the indices of its
    true entries (one int tensor per axis)."""
    c = _t(condition)
    if x1 is None and x2 is None:
        return tuple(Tensor._make(i.astype(np.int32)) for i in
                     np.nonzero(c.detach().__array__()))
    if x1 is None or x2 is None:
        raise ValueError("keras.ops.where: give both x1 and x2, or neither")
    a, b = _like_dtype(x1, x2)
    if a.dtype != b.dtype:
        common = np.result_type(a.dtype, b.dtype)
        a, b = cast(a, common), cast(b, common)
    if c.dtype != bool:
        c = c != 0
    return _ops.where(c, a, b)


def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, element-wise (``numpy.select``)."""
    if len(condlist) != len(choicelist):
        raise ValueError("select: condlist and choicelist must have the same length")
    out = _t(default) if not isinstance(default, (int, float)) else None
    choices = [_t(c) for c in choicelist]
    if out is None:
        out = _ops.full_like(choices[0], default)
    for c, v in zip(reversed(condlist), reversed(choices)):
        out = where(c, v, out)
    return out


def _compare(op):
    def fn(x1, x2):
        a, b = _like_dtype(x1, x2)
        return op(a, b)
    return fn


equal = _compare(lambda a, b: a == b)
not_equal = _compare(lambda a, b: a != b)
greater = _compare(lambda a, b: a > b)
greater_equal = _compare(lambda a, b: a >= b)
less = _compare(lambda a, b: a < b)
less_equal = _compare(lambda a, b: a <= b)
for _f, _n in ((equal, "equal"), (not_equal, "not_equal"), (greater, "greater"),
               (greater_equal, "greater_equal"), (less, "less"), (less_equal, "less_equal")):
    _f.__name__ = _n
    _f.__doc__ = f"``x1 {_n}`` x2 element-wise (bool)."


def logical_and(x1, x2):
    return _ops.logical_and(_t(x1), _t(x2))


def logical_or(x1, x2):
    return _ops.logical_or(_t(x1), _t(x2))


def logical_xor(x1, x2):
    return _ops.logical_xor(_t(x1), _t(x2))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    a, b = _t(x1).detach().__array__(), _t(x2).detach().__array__()
    return Tensor._make(np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    return bool(isclose(x1, x2, rtol, atol, equal_nan).__array__().all())


def logaddexp(x1, x2):
    """log(exp(x1) + exp(x2)) without overflow."""
    a, b = _like_dtype(x1, x2)
    a, b = _float(a), _float(b)
    m = _ops.maximum(a, b).detach()
    return m + _ops.log(_ops.exp(a - m) + _ops.exp(b - m))


def logaddexp2(x1, x2):
    ln2 = float(np.log(2.0))
    return logaddexp(_float(x1) * ln2, _float(x2) * ln2) / ln2


def hypot(x1, x2):
    a, b = _like_dtype(x1, x2)
    return _ops.sqrt(_float(a) ** 2 + _float(b) ** 2)


def heaviside(x1, x2):
    """0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0."""
    a, b = _like_dtype(x1, x2)
    a = _float(a)
    b = cast(b, a.dtype)
    return _ops.where(a < 0, _ops.zeros_like(a), _ops.where(a > 0, _ops.ones_like(a),
                                                           b + _ops.zeros_like(a)))


