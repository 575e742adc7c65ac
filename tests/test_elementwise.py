"""Elementwise math: float64 gradcheck and gradgradcheck from one table, plus values,
dtypes, stability, errors and broadcasting properties.

tests/conformance/test_elementwise_torch.py runs the same CASES against PyTorch.
"""
import dataclasses
import functools
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu
from harness import (Case, away_from_zero, check_gradcheck, check_gradgradcheck, params,
                     positive, unit_interval)

UNARY_SHAPES = [[(3, 4)], [()], [(2, 3, 4)]]
BROADCASTS = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)], [(), (2, 3)]]


def _uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def _unary(name, fn, torch_name, domain=None, double=True, **kw):
    """Cases for a unary op on every shape of UNARY_SHAPES."""
    def torch_fn(t, _n=torch_name):
        import torch
        return getattr(torch, _n)(t)
    extra = {} if domain is None else {"domain": domain}
    return [Case(name, fn, torch_fn, s, double=double, **extra, **kw) for s in UNARY_SHAPES]


# a fixed condition for `where`, broadcasting against (3, 4)
COND_34 = np.random.default_rng(3).random((3, 4)) > 0.5
COND_31 = np.array([[True], [False], [True]])


def _torch_where(cond):
    def f(x, y):
        import torch
        return torch.where(torch.as_tensor(cond), x, y)
    return f


def _torch_where_scalar(cond, value):
    def f(x):
        import torch
        return torch.where(torch.as_tensor(cond), x, value)
    return f


def _clamp_bounds():
    """x normal; lo in (-1.5, -0.2); hi in (0.2, 1.5)."""
    return [lambda r, s: r.standard_normal(s), _uniform(-1.5, -0.2), _uniform(0.2, 1.5)]


CASES = (
    _unary("exp", shendu.exp, "exp")
    + _unary("log", shendu.log, "log", positive)
    + _unary("log2", shendu.log2, "log2", positive)
    + _unary("log10", shendu.log10, "log10", positive)
    + _unary("log1p", shendu.log1p, "log1p", _uniform(-0.5, 2.0))
    + _unary("expm1", shendu.expm1, "expm1")
    + _unary("sqrt", shendu.sqrt, "sqrt", positive)
    + _unary("rsqrt", shendu.rsqrt, "rsqrt", positive)
    + _unary("square", shendu.square, "square")
    + _unary("reciprocal", shendu.reciprocal, "reciprocal", away_from_zero)
    + _unary("abs", shendu.abs, "abs", away_from_zero)
    + _unary("sin", shendu.sin, "sin")
    + _unary("cos", shendu.cos, "cos")
    + _unary("tan", shendu.tan, "tan", unit_interval)
    + _unary("tanh", shendu.tanh, "tanh")
    + _unary("sigmoid", shendu.sigmoid, "sigmoid")
    + _unary("erf", shendu.erf, "erf")
    + _unary("erfc", shendu.erfc, "erfc")
    # piecewise constant: zero gradient, nothing to check at second order
    + _unary("sign", shendu.sign, "sign", double=False)
    + _unary("floor", shendu.floor, "floor", _uniform(-3, 3), double=False)
    + _unary("ceil", shendu.ceil, "ceil", _uniform(-3, 3), double=False)
    + _unary("round", shendu.round, "round", _uniform(-3, 3), double=False)
    + [Case("round_decimals", lambda x: shendu.round(x, decimals=1),
            lambda x: x.round(decimals=1), [(3, 4)], double=False)]
    + [Case("method_forms", lambda x: (x.exp() + x.tanh() * x.sigmoid() - x.square()).sin()
            + x.abs().sqrt().log1p() + x.cos().reciprocal().expm1(),
            lambda x: (x.exp() + x.tanh() * x.sigmoid() - x.square()).sin()
            + x.abs().sqrt().log1p() + x.cos().reciprocal().expm1(),
            [(2, 3)], domain=_uniform(0.3, 1.2))]
    # clamp: number bounds, one-sided, tensor bounds (broadcasting), min > max
    + [Case("clamp", lambda x: shendu.clamp(x, -0.5, 0.5), lambda x: x.clamp(-0.5, 0.5), s)
       for s in UNARY_SHAPES]
    + [Case("clamp_min", lambda x: x.clamp(min=0.2), lambda x: x.clamp(min=0.2), [(3, 4)])]
    + [Case("clip_max", lambda x: shendu.clip(x, max=0.2), lambda x: x.clip(max=0.2), [(3, 4)])]
    + [Case("clamp_tensors", lambda x, lo, hi: shendu.clamp(x, lo, hi),
            lambda x, lo, hi: x.clamp(lo, hi), s, domain=_clamp_bounds())
       for s in [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)], [(2, 3, 4), (3, 4), ()]]]
    # x itself broadcast up by a bound: PyTorch 2.13's clamp backward fails on this one
    + [Case("clamp_tensors_x_broadcast", lambda x, lo, hi: shendu.clamp(x, lo, hi), None,
            [(4,), (3, 4), ()], domain=_clamp_bounds())]
    + [Case("clamp_min_above_max", lambda x, lo, hi: shendu.clamp(x, lo, hi),
            lambda x, lo, hi: x.clamp(lo, hi), [(3, 4), (3, 4), (3, 4)],
            domain=[lambda r, s: r.standard_normal(s), _uniform(0.3, 1.0), _uniform(-1.0, 0.2)])]
    + [Case("clamp_tensor_min_only", lambda x, lo: shendu.clamp(x, min=lo),
            lambda x, lo: x.clamp(min=lo), [(3, 4), (4,)])]
    + [Case("clamp_tensor_max_only", lambda x, hi: shendu.clamp(x, max=hi),
            lambda x, hi: x.clamp(max=hi), [(3, 4), (3, 1)])]
    # maximum / minimum
    + [Case("maximum", shendu.maximum, lambda a, b: __import__("torch").maximum(a, b), s)
       for s in BROADCASTS]
    + [Case("minimum", shendu.minimum, lambda a, b: __import__("torch").minimum(a, b), s)
       for s in BROADCASTS]
    + [Case("maximum_method", lambda a, b: a.maximum(b), lambda a, b: a.maximum(b),
            [(3, 4), (4,)])]
    + [Case("minimum_number", lambda a: shendu.minimum(a, 0.3),
            lambda a: a.clamp(max=0.3), [(3, 4)])]
    # where
    + [Case("where", lambda x, y: shendu.where(COND_34, x, y), _torch_where(COND_34), s)
       for s in [[(3, 4), (3, 4)], [(3, 4), (4,)], [(), (3, 1)]]]
    + [Case("where_broadcast_condition", lambda x, y: shendu.where(COND_31, x, y),
            _torch_where(COND_31), [(4,), (2, 1, 1)])]
    + [Case("where_number", lambda x: shendu.where(COND_34, x, 0.5),
            _torch_where_scalar(COND_34, 0.5), [(3, 4)])]
    + [Case("where_method", lambda x, y: x.where(shendu.tensor(COND_34), y),
            lambda x, y: x.where(__import__("torch").as_tensor(COND_34), y), [(3, 4), (3, 4)])]
    # lerp
    + [Case("lerp", shendu.lerp, lambda a, b, w: __import__("torch").lerp(a, b, w), s,
            domain=[lambda r, s: r.standard_normal(s), lambda r, s: r.standard_normal(s),
                    _uniform(-0.5, 1.5)])
       for s in [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)]]]
    + [Case("lerp_number", lambda a, b: shendu.lerp(a, b, 0.3),
            lambda a, b: __import__("torch").lerp(a, b, 0.3), s)
       for s in [[(3, 4), (3, 4)], [(3, 4), (4,)], [(), ()]]]
    + [Case("lerp_method", lambda a, b, w: a.lerp(b, w), lambda a, b, w: a.lerp(b, w),
            [(2, 3), (2, 3), (2, 3)])]
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


def squared(case):
    """The case with its output squared: d(f^2) = 2 f df makes the incoming gradient of
    ``f`` depend on the inputs, so the second-order check also covers the path through
    ``g`` in f's backward (and works when df is constant, like clamp's mask)."""
    return dataclasses.replace(case, fn=lambda *xs, _f=case.fn: _f(*xs) ** 2)


# ops whose first derivative does not depend on the inputs (a mask, a constant weight):
# the plain second-order check has nothing to differentiate, the squared one runs
CONSTANT_GRAD = {"clamp", "clamp_min", "clip_max", "clamp_tensors", "clamp_min_above_max",
                 "clamp_tensors_x_broadcast",
                 "clamp_tensor_min_only", "clamp_tensor_max_only", "maximum", "minimum",
                 "maximum_method", "minimum_number", "where", "where_broadcast_condition",
                 "where_number", "where_method", "lerp_number"}


@params([c for c in CASES if c.double and c.name not in CONSTANT_GRAD])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck_squared(case):
    check_gradgradcheck(squared(case))


# ------------------------------------------------------------------ values
def test_forward_values():
    # float32 results: NumPy's SIMD paths (AVX-512 SVML on newer CPUs) may be a few ulp off,
    # e.g. log10(0.01) -> -2.0000002, so compare at float32's tolerance, not float64's 1e-7.
    close = functools.partial(np.testing.assert_allclose, rtol=1e-6, atol=1e-7)
    x = shendu.tensor([1.0, 4.0, 16.0])
    close(shendu.sqrt(x).numpy(), [1, 2, 4])
    close(shendu.rsqrt(x).numpy(), [1, 0.5, 0.25])
    close(shendu.log2(x).numpy(), [0, 2, 4])
    close(shendu.log10(shendu.tensor([10.0, 0.01])).numpy(), [1, -2])
    close(shendu.reciprocal(x).numpy(), [1, 0.25, 0.0625])
    close(shendu.square(shendu.tensor([-3.0])).numpy(), [9])
    np.testing.assert_array_equal(shendu.sign(shendu.tensor([-2.0, 0.0, 5.0])).numpy(), [-1, 0, 1])
    np.testing.assert_array_equal(shendu.abs(shendu.tensor([-2, 3])).numpy(), [2, 3])


def test_round_halves_to_even_and_decimals():
    x = shendu.tensor([0.5, 1.5, 2.5, -0.5, -1.5, 0.4, 0.6])
    np.testing.assert_array_equal(shendu.round(x).numpy(), [0, 2, 2, -0, -2, 0, 1])
    np.testing.assert_allclose(x.round(decimals=1).numpy(), x.numpy())
    np.testing.assert_allclose(shendu.round(shendu.tensor([1.2345, -9.876]), decimals=2).numpy(),
                               [1.23, -9.88], rtol=1e-6)
    np.testing.assert_array_equal(shendu.floor(shendu.tensor([-1.5, 1.5])).numpy(), [-2, 1])
    np.testing.assert_array_equal(shendu.ceil(shendu.tensor([-1.5, 1.5])).numpy(), [-1, 2])


@pytest.mark.parametrize("op", [shendu.sign, shendu.floor, shendu.ceil, shendu.round])
def test_piecewise_constant_ops_have_zero_gradient(op):
    x = shendu.tensor([-1.7, 0.0, 2.3], requires_grad=True)
    y = op(x)
    assert y.requires_grad  # in the graph, like PyTorch
    (y * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 0, 0])


@pytest.mark.parametrize("op", [shendu.sign, shendu.floor, shendu.ceil, shendu.round])
def test_piecewise_constant_ops_in_double_backward(op):
    x = shendu.tensor([-1.7, 0.4, 2.3], dtype=shendu.float64, requires_grad=True)
    g, = shendu.autograd.grad((op(x) * x * x).sum(), x, create_graph=True)
    ox = op(x).detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), 2 * ox * x.detach().numpy())
    h, = shendu.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 2 * ox)


def test_abs_gradient_at_zero_is_zero():
    x = shendu.tensor([0.0, -2.0, 3.0], requires_grad=True)
    shendu.abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, -1, 1])


# ------------------------------------------------------------------ dtypes
def test_integer_inputs_become_default_float():
    i = shendu.tensor([1, 4, 9])
    assert i.dtype == np.int64
    for op in (shendu.sqrt, shendu.exp, shendu.log, shendu.sigmoid, shendu.sin, shendu.erf):
        assert op(i).dtype == shendu.float32, op.__name__
    np.testing.assert_allclose(shendu.sqrt(i).numpy(), [1, 2, 3])
    for op in (shendu.abs, shendu.square, shendu.sign):
        assert op(i).dtype == np.int64, op.__name__


def test_python_and_numpy_scalars_keep_float32():
    x = shendu.randn(3, 4)
    y = shendu.randn(3, 4)
    c = shendu.tensor(COND_34)
    results = [shendu.clamp(x, -0.5, 0.5), shendu.clamp(x, np.float64(0.1)),
               shendu.maximum(x, 0.0), shendu.minimum(np.float64(0.5), x),
               shendu.where(c, x, 0.0), shendu.where(c, np.float64(1.0), x),
               shendu.lerp(x, y, 0.3), shendu.lerp(x, y, np.float64(0.3)),
               shendu.round(x, decimals=2)]
    for r in results:
        assert r.dtype == shendu.float32
    for f in (shendu.exp, shendu.log1p, shendu.sigmoid, shendu.erf, shendu.tanh):
        assert f(x.abs()).dtype == shendu.float32


def test_float64_stays_float64():
    x = shendu.randn(5, dtype=shendu.float64)
    for f in (shendu.exp, shendu.sigmoid, shendu.erf, shendu.erfc, shendu.rsqrt):
        assert f(x.abs() + 1).dtype == shendu.float64


def test_mixed_dtype_gradients_come_back_in_each_inputs_dtype():
    a = shendu.randn(3, requires_grad=True)
    b = shendu.randn(3, dtype=shendu.float64, requires_grad=True)
    y = shendu.maximum(a, b)
    assert y.dtype == shendu.float64
    y.sum().backward()
    assert a.grad.dtype == shendu.float32 and b.grad.dtype == shendu.float64
    np.testing.assert_array_equal(a.grad.numpy() + b.grad.numpy(), [1, 1, 1])
    a.grad = b.grad = None
    y = shendu.where(COND_34[0, :3], a, b)
    assert y.dtype == shendu.float64
    (y * 2).sum().backward()
    assert a.grad.dtype == shendu.float32 and b.grad.dtype == shendu.float64
    np.testing.assert_array_equal(a.grad.numpy(), 2.0 * COND_34[0, :3])


# ------------------------------------------------------------------ stability
def _no_warnings(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return fn()


@pytest.mark.parametrize("dtype", [shendu.float32, shendu.float64])
def test_sigmoid_stable_at_extremes(dtype):
    x = shendu.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], dtype=dtype, requires_grad=True)

    def run():
        y = shendu.sigmoid(x)
        y.sum().backward()
        return y

    y = _no_warnings(run)
    np.testing.assert_allclose(y.detach().numpy(), [0, 1.9287498479639178e-22, 0.5, 1, 1],
                               rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), [0, 1.9287498479639178e-22, 0.25, 0, 0],
                               rtol=1e-6, atol=1e-30)


def test_sigmoid_matches_formula():
    x = np.linspace(-30, 30, 101)
    np.testing.assert_allclose(shendu.sigmoid(shendu.tensor(x)).numpy(), 1 / (1 + np.exp(-x)),
                               rtol=1e-14)


def test_erf_matches_math_erf():
    x = np.concatenate([np.linspace(-7, 7, 1401), [1e-300, -1e-12, 0.0, 1e-5]])
    want = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(shendu.erf(shendu.tensor(x)).numpy(), want, rtol=1e-14, atol=0)
    want_c = np.array([math.erfc(v) for v in x])
    np.testing.assert_allclose(shendu.erfc(shendu.tensor(x)).numpy(), want_c, rtol=1e-12, atol=0)


@pytest.mark.parametrize("dtype,rtol_erf,rtol_erfc", [(np.float64, 1e-14, 2e-13),
                                                      (np.float32, 1e-6, 3e-5)])
def test_erf_fallback_without_scipy(dtype, rtol_erf, rtol_erfc):
    """The Chebyshev fallback (used on CuPy or without SciPy) against math.erf."""
    from shendu.ops.special import erf_array, erfc_array
    x = np.concatenate([np.linspace(-9, 9, 3601), np.logspace(-30, 1, 300),
                        -np.logspace(-30, 1, 300), [0.0, 0.5, -0.5]]).astype(dtype)
    xd = x.astype(np.float64)
    got = _no_warnings(lambda: erf_array(np, x, use_scipy=False))
    assert got.dtype == dtype
    np.testing.assert_allclose(got, [math.erf(v) for v in xd], rtol=rtol_erf, atol=0)
    # erfc is tiny on the right: relative error there too, down to the smallest normal
    want_c = np.array([math.erfc(v) for v in xd])
    normal = want_c > np.finfo(dtype).tiny
    gotc = _no_warnings(lambda: erfc_array(np, x, use_scipy=False))
    np.testing.assert_allclose(gotc[normal], want_c[normal], rtol=rtol_erfc, atol=0)
    big = np.array([30.0, np.finfo(dtype).max, np.inf, -np.inf, np.nan], dtype)
    out = _no_warnings(lambda: erfc_array(np, big, use_scipy=False))
    np.testing.assert_array_equal(out[:4], [0, 0, 0, 2])
    assert np.isnan(out[4])


# ------------------------------------------------------------------ clamp, max, where
def test_clamp_gradient_includes_boundaries():
    x = shendu.tensor([-1.0, -0.5, 0.0, 0.5, 1.0], requires_grad=True)
    shendu.clamp(x, -0.5, 0.5).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0, 1, 1, 1, 0])


def test_clamp_needs_a_bound():
    with pytest.raises(ValueError, match="clamp: at least one of min and max"):
        shendu.clamp(shendu.ones(2))


def test_clamp_bound_that_does_not_broadcast():
    with pytest.raises(ValueError, match=r"clamp: shapes \(3, 4\), \(5,\) do not broadcast"):
        shendu.clamp(shendu.ones(3, 4), min=shendu.zeros(5))


def test_maximum_ties_split_the_gradient():
    a = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = shendu.tensor([1.0, 3.0, 2.0], requires_grad=True)
    shendu.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 0, 1])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 1, 0])
    a.grad = b.grad = None
    shendu.minimum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.5, 1, 0])
    np.testing.assert_array_equal(b.grad.numpy(), [0.5, 0, 1])


def test_maximum_shape_error():
    with pytest.raises(ValueError, match=r"maximum: shapes \(2, 3\), \(4,\) do not broadcast"):
        shendu.maximum(shendu.ones(2, 3), shendu.ones(4))


def test_where_values_numbers_and_indices():
    c = shendu.tensor([True, False, True])
    np.testing.assert_array_equal(shendu.where(c, 1.0, 0.0).numpy(), [1, 0, 1])
    assert shendu.where(c, 1.0, 0.0).dtype == shendu.float32
    np.testing.assert_array_equal(shendu.where(np.array([1, 0, 2]), shendu.ones(3), -1.0).numpy(),
                                  [1, -1, 1])
    idx, = shendu.where(c)
    np.testing.assert_array_equal(idx.numpy(), [0, 2])
    assert idx.dtype == np.int64
    with pytest.raises(TypeError, match="where: give both x and y"):
        shendu.where(c, shendu.ones(3))
    with pytest.raises(ValueError, match=r"where: shapes \(3,\), \(2,\), \(\) do not broadcast"):
        shendu.where(c, shendu.ones(2), 0.0)


def test_lerp_values_and_weight_gradient():
    a = shendu.tensor([0.0, 10.0], requires_grad=True)
    b = shendu.tensor([1.0, 20.0], requires_grad=True)
    w = shendu.tensor(0.25, requires_grad=True)
    y = shendu.lerp(a, b, w)
    np.testing.assert_allclose(y.detach().numpy(), [0.25, 12.5])
    y.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [0.75, 0.75])
    np.testing.assert_allclose(b.grad.numpy(), [0.25, 0.25])
    np.testing.assert_allclose(w.grad.numpy(), 11.0)


# ------------------------------------------------------------------ properties
_shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3)


@settings(deadline=None, max_examples=30)
@given(_shapes, st.integers(0, 2 ** 16))
def test_max_plus_min_gradient_is_one_per_use(shapes, seed):
    """max(a, b) + min(a, b) = a + b, ties included (half/half each way)."""
    rng = np.random.default_rng(seed)
    (sa, sb), out = shapes.input_shapes, shapes.result_shape
    a = shendu.tensor(rng.integers(-2, 3, sa).astype(np.float64), requires_grad=True)
    b = shendu.tensor(rng.integers(-2, 3, sb).astype(np.float64), requires_grad=True)
    y = shendu.maximum(a, b) + shendu.minimum(a, b)
    assert y.shape == out
    np.testing.assert_array_equal(y.detach().numpy(), (a + b).detach().numpy())
    y.sum().backward()
    n = int(np.prod(out))
    assert a.grad.shape == sa and b.grad.shape == sb
    np.testing.assert_allclose(a.grad.numpy(), np.full(sa, n / max(int(np.prod(sa)), 1)))
    np.testing.assert_allclose(b.grad.numpy(), np.full(sb, n / max(int(np.prod(sb)), 1)))


@settings(deadline=None, max_examples=30)
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       st.integers(0, 2 ** 16))
def test_where_gradients_partition_the_output(shapes, seed):
    rng = np.random.default_rng(seed)
    sc, sx, sy = shapes.input_shapes
    cond = rng.random(sc) > 0.5
    x = shendu.tensor(rng.standard_normal(sx), requires_grad=True)
    y = shendu.tensor(rng.standard_normal(sy), requires_grad=True)
    out = shendu.where(cond, x, y)
    assert out.shape == shapes.result_shape
    out.sum().backward()
    full = np.broadcast_to(cond, shapes.result_shape)
    # summed back to each input's shape, the gradients count the elements it supplied
    assert x.grad.numpy().sum() == full.sum()
    assert y.grad.numpy().sum() == (~full).sum()
    assert x.grad.shape == sx and y.grad.shape == sy
