"""Arithmetic: ``+ - * / // % **``, negation, comparisons (no gradient), clone.

Every binary op broadcasts like NumPy; its backward sums the gradient back to each
input's shape with ``unbroadcast``. Python numbers stay Python numbers, so
``x * 2`` keeps ``x``'s float32 (NumPy 2's weak scalar rule).

``kernels.add(a, b)`` is ``a + b``: for big float32 arrays with numba installed it runs on
all threads (:mod:`shendu.kernels`), with the same bits as NumPy's result.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from .. import backend, kernels
from ..backend import get_array_module
from ..autograd.tensor import Tensor
from ._util import shape_of, unbroadcast

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide",
           "floor_divide", "neg", "negative", "pow", "remainder", "fmod", "clone",
           "eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less",
           "less_equal", "not_equal", "logical_and", "logical_or", "logical_xor",
           "logical_not", "equal", "allclose", "isnan", "isinf", "isfinite"]


def _scalar(x):
    """NumPy scalars would upcast float32 tensors; make them Python numbers."""
    return x.item() if isinstance(x, np.generic) else x


class Add(Function):
    """z = a + b;   dz/da = g,  dz/db = g  (summed over broadcast axes)"""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = shape_of(a), shape_of(b)
        return kernels.add(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return (unbroadcast(g, sa) if ctx.needs_input_grad[0] else None,
                unbroadcast(g, sb) if ctx.needs_input_grad[1] else None)


class Sub(Function):
    """z = a - b;   dz/da = g,  dz/db = -g"""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = shape_of(a), shape_of(b)
        return kernels.sub(a, b)

    @staticmethod
    def backward(ctx, g):
        sa, sb = ctx.shapes
        return (unbroadcast(g, sa) if ctx.needs_input_grad[0] else None,
                unbroadcast(kernels.neg(g), sb) if ctx.needs_input_grad[1] else None)


class Mul(Function):
    """z = a * b;   dz/da = g * b,  dz/db = g * a"""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return kernels.mul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        if all(ctx.needs_input_grad[:2]):
            ga, gb = kernels.mul_grads(g, a, b)  # g * b and g * a in one pass
            return unbroadcast(ga, shape_of(a)), unbroadcast(gb, shape_of(b))
        return (unbroadcast(kernels.mul(g, b), shape_of(a)) if ctx.needs_input_grad[0] else None,
                unbroadcast(kernels.mul(g, a), shape_of(b)) if ctx.needs_input_grad[1] else None)


class Div(Function):
    """z = a / b;   dz/da = g / b,  dz/db = -g * a / b^2"""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return kernels.div(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (unbroadcast(kernels.div(g, b), shape_of(a)) if ctx.needs_input_grad[0] else None,
                unbroadcast(-g * a / (b * b), shape_of(b)) if ctx.needs_input_grad[1] else None)


class Neg(Function):
    """z = -a;   dz/da = -g"""
    double_backward = True

    @staticmethod
    def forward(ctx, a):
        return kernels.neg(a)

    @staticmethod
    def backward(ctx, g):
        return kernels.neg(g)


class Pow(Function):
    """z = a ** b;   dz/da = g * b * a^(b-1),  dz/db = g * z * log(a)  (0 where a <= 0)"""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        z = a ** b
        ctx.save_for_backward(a, b, z)
        return z

    @staticmethod
    def backward(ctx, g):
        a, b, z = ctx.saved_tensors
        xp = ctx.xp
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = unbroadcast(g * b * a ** (b - 1), shape_of(a))
        if ctx.needs_input_grad[1]:
            # log(a) is undefined for a <= 0; PyTorch gives 0 there when a == 0
            safe = xp.where(a > 0, a, 1)
            gb = unbroadcast(g * z * xp.log(safe), shape_of(b))
        return ga, gb


class Remainder(Function):
    """z = a mod b (sign of b, like Python);  dz/da = g,  dz/db = -g * floor(a / b)"""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.xpmod = ctx.xp
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        q = ctx.xpmod.floor_divide(_value(a), _value(b))
        return (unbroadcast(g, shape_of(a)) if ctx.needs_input_grad[0] else None,
                unbroadcast(-g * q, shape_of(b)) if ctx.needs_input_grad[1] else None)


class Fmod(Function):
    """z = fmod(a, b) (sign of a, like C);  dz/da = g,  dz/db = -g * trunc(a / b)"""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        ctx.xpmod = ctx.xp
        return ctx.xp.fmod(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        q = ctx.xpmod.trunc(_value(a) / _value(b))
        return (unbroadcast(g, shape_of(a)) if ctx.needs_input_grad[0] else None,
                unbroadcast(-g * q, shape_of(b)) if ctx.needs_input_grad[1] else None)


class Clone(Function):
    """z = copy of a;   dz/da = g"""
    double_backward = True

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def _value(x):
    return x._data if isinstance(x, Tensor) else x


def _check_operands(name, a, b):
    """Turn lists into tensors and check shapes broadcast, with a readable message."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = Tensor(a)
    if isinstance(a, (list, tuple)):
        a = Tensor(a)
    if isinstance(b, (list, tuple)):
        b = Tensor(b)
    a, b = _promote(_scalar(a), _scalar(b))
    sa, sb = shape_of(_value(a)), shape_of(_value(b))
    if sa != sb and sa and sb:
        try:
            np.broadcast_shapes(sa, sb)
        except ValueError:
            raise ValueError(f"{name}: shapes {sa} and {sb} do not broadcast (align them from "
                             "the right; each pair of sizes must be equal or one of them 1)"
                             ) from None
    return a, b


_RANK = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def _kind_rank(x):
    if isinstance(x, Tensor):
        return _RANK.get(x._data.dtype.kind, 2)
    return 0 if isinstance(x, bool) else 1 if isinstance(x, int) else 2


def _promote(a, b):
    """PyTorch's promotion where it differs from NumPy's: an integer or bool tensor
    meeting a float (tensor or Python float) becomes that float dtype (or the default
    float dtype for a Python float), not float64."""
    ra, rb = _kind_rank(a), _kind_rank(b)
    if ra == rb:
        return a, b
    hi, lo = (a, b) if ra > rb else (b, a)
    if not isinstance(lo, Tensor):
        return a, b  # a Python number never raises a tensor's category... except below
    if isinstance(hi, Tensor):
        target = hi._data.dtype
    elif isinstance(hi, float):
        target = backend.get_default_dtype()
    else:
        return a, b
    lo = Tensor._make(lo._data.astype(target))
    return (hi, lo) if ra > rb else (lo, hi)


def add(a, b, alpha=1):
    """a + alpha * b, broadcasting.

    >>> shendu.add(shendu.tensor([1., 2.]), 1)
    tensor([2., 3.])
    """
    if alpha != 1:
        b = mul(b, alpha)
    return Add.apply(*_check_operands("add", a, b))


def sub(a, b, alpha=1):
    """a - alpha * b, broadcasting."""
    if alpha != 1:
        b = mul(b, alpha)
    return Sub.apply(*_check_operands("sub", a, b))


def mul(a, b):
    """a * b elementwise, broadcasting."""
    return Mul.apply(*_check_operands("mul", a, b))


def div(a, b, rounding_mode=None):
    """a / b (true division); ``rounding_mode='floor'`` or ``'trunc'`` rounds (no gradient)."""
    if rounding_mode == "floor":
        return floor_divide(a, b)
    if rounding_mode == "trunc":
        a, b = _check_operands("div", a, b)
        return _no_grad_binary(lambda x, y: np.trunc(x / y), a, b)
    if rounding_mode is not None:
        raise ValueError(f"div: rounding_mode must be None, 'floor' or 'trunc', got {rounding_mode!r}")
    a, b = _check_operands("div", a, b)
    if _kind_rank(a) < 2 and _kind_rank(b) < 2:  # int / int is a float, as in PyTorch
        f = backend.get_default_dtype()
        a, b = (Tensor._make(x._data.astype(f)) if isinstance(x, Tensor) else float(x)
                for x in (a, b))
    return Div.apply(a, b)


true_divide = divide = div
subtract, multiply = sub, mul


def neg(a):
    """-a."""
    return Neg.apply(a)


negative = neg


def pow(a, b):
    """a ** b elementwise (either may be a tensor), broadcasting."""
    return Pow.apply(*_check_operands("pow", a, b))


def remainder(a, b):
    """a mod b with the sign of b (Python's ``%``)."""
    return Remainder.apply(*_check_operands("remainder", a, b))


def fmod(a, b):
    """C-style remainder with the sign of a."""
    return Fmod.apply(*_check_operands("fmod", a, b))


def clone(a):
    """A copy of ``a`` that stays in the graph."""
    return Clone.apply(a)


def _no_grad_binary(f, a, b):
    """Results that have no gradient: comparisons, floor division."""
    xp = (a if isinstance(a, Tensor) else b).xp
    return Tensor._make(xp.asarray(f(_value(a), _value(b))))


def floor_divide(a, b):
    """a // b (floor); piecewise constant, so it has no gradient."""
    a, b = _check_operands("floor_divide", a, b)
    return _no_grad_binary(lambda x, y: x // y, a, b)


def _compare(name, f):
    def op(a, b):
        a, b = _check_operands(name, a, b)
        return _no_grad_binary(f, a, b)
    op.__name__ = name
    op.__doc__ = f"Elementwise ``{name}`` comparison, a bool tensor (no gradient)."
    return op


eq = _compare("eq", lambda x, y: x == y)
ne = _compare("ne", lambda x, y: x != y)
lt = _compare("lt", lambda x, y: x < y)
le = _compare("le", lambda x, y: x <= y)
gt = _compare("gt", lambda x, y: x > y)
ge = _compare("ge", lambda x, y: x >= y)
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
logical_and = _compare("logical_and", lambda x, y: get_array_module(x, y).logical_and(x, y))
logical_or = _compare("logical_or", lambda x, y: get_array_module(x, y).logical_or(x, y))
logical_xor = _compare("logical_xor", lambda x, y: get_array_module(x, y).logical_xor(x, y))


def logical_not(a):
    """Elementwise not, a bool tensor."""
    return Tensor._make(a.xp.logical_not(a._data))


def equal(a, b):
    """True if both have the same shape and elements."""
    return a.shape == b.shape and bool((a._data == _value(b)).all())


def allclose(a, b, rtol=1e-5, atol=1e-8):
    """True if all elements are close: ``|a - b| <= atol + rtol * |b|``."""
    return bool(a.xp.allclose(a._data, _value(b), rtol=rtol, atol=atol))


def isnan(a):
    return Tensor._make(a.xp.isnan(a._data))


def isinf(a):
    return Tensor._make(a.xp.isinf(a._data))


def isfinite(a):
    return Tensor._make(a.xp.isfinite(a._data))
