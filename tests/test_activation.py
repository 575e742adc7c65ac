"""Activations: float64 gradcheck and gradgradcheck from one table, plus values at the
kinks, stability for huge inputs, softmax along any axis, and errors.

tests/conformance/test_activation_torch.py runs the same CASES against PyTorch.
"""
import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu
from harness import Case, away_from_zero, check_gradcheck, check_gradgradcheck, params

SHAPES = [[(3, 4)], [()], [(2, 3, 4)]]


def _uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def _scaled(domain, k):
    return lambda rng, shape: k * domain(rng, shape)


def F(name, **kw):
    """torch.nn.functional.<name>(t, **kw), imported only when called."""
    def f(*ts):
        import torch.nn.functional as tf
        return getattr(tf, name)(*ts, **kw)
    return f


def _cases(name, fn, torch_fn, domain=None, shapes=SHAPES, **kw):
    extra = {} if domain is None else {"domain": domain}
    return [Case(name, fn, torch_fn, s, **extra, **kw) for s in shapes]


CASES = (
    _cases("relu", shendu.relu, F("relu"), away_from_zero)
    + _cases("relu_method", lambda x: x.relu(), lambda x: x.relu(), away_from_zero, [[(5,)]])
    + _cases("leaky_relu", shendu.leaky_relu, F("leaky_relu"), away_from_zero)
    + _cases("leaky_relu_0.2", lambda x: shendu.leaky_relu(x, 0.2),
             F("leaky_relu", negative_slope=0.2), away_from_zero, [[(3, 4)]])
    + _cases("prelu", shendu.prelu, F("prelu"), away_from_zero,
             [[(2, 3, 4), (3,)], [(2, 3), (3,)], [(2, 3, 4), (1,)], [(4, 2, 2, 2), (2,)]])
    + _cases("elu", shendu.elu, F("elu"), away_from_zero)
    + _cases("elu_alpha", lambda x: shendu.elu(x, alpha=0.5), F("elu", alpha=0.5),
             away_from_zero, [[(3, 4)]])
    + _cases("selu", shendu.selu, F("selu"), away_from_zero)
    + _cases("celu", lambda x: shendu.celu(x, alpha=1.5), F("celu", alpha=1.5), away_from_zero)
    + _cases("gelu", shendu.gelu, F("gelu"), _scaled(lambda r, s: r.standard_normal(s), 2))
    + _cases("gelu_tanh", lambda x: shendu.gelu(x, approximate="tanh"),
             F("gelu", approximate="tanh"), _scaled(lambda r, s: r.standard_normal(s), 2))
    + _cases("silu", shendu.silu, F("silu"), _scaled(lambda r, s: r.standard_normal(s), 3))
    + _cases("mish", shendu.mish, F("mish"), _scaled(lambda r, s: r.standard_normal(s), 3))
    + _cases("softplus", shendu.softplus, F("softplus"),
             _scaled(lambda r, s: r.standard_normal(s), 3))
    # beta * x crosses the threshold for some elements: the linear branch is checked too
    + _cases("softplus_beta", lambda x: shendu.softplus(x, beta=2.0, threshold=5.0),
             F("softplus", beta=2.0, threshold=5.0), _uniform(-4, 4), [[(4, 5)]])
    + _cases("logsigmoid", shendu.logsigmoid, F("logsigmoid"),
             _scaled(lambda r, s: r.standard_normal(s), 3))
    + _cases("softsign", shendu.softsign, F("softsign"))
    + _cases("hardtanh", shendu.hardtanh, F("hardtanh"), _scaled(away_from_zero, 1.5))
    + _cases("hardtanh_bounds", lambda x: shendu.hardtanh(x, -0.5, 2.0),
             F("hardtanh", min_val=-0.5, max_val=2.0), _uniform(-3, 3), [[(4, 5)]])
    + _cases("relu6", shendu.relu6, F("relu6"), _scaled(away_from_zero, 4))
    + _cases("hardsigmoid", shendu.hardsigmoid, F("hardsigmoid"), _uniform(-5, 5))
    + _cases("hardswish", shendu.hardswish, F("hardswish"), _uniform(-5, 5))
    + _cases("threshold", lambda x: shendu.threshold(x, 0.5, -2.0), F("threshold", threshold=0.5,
             value=-2.0), _uniform(-2, 2))
    + _cases("step", shendu.step, None, away_from_zero, double=False)
    # softmax and log_softmax along every axis of a 3-D input, the default axis, 0-d
    + [Case(f"softmax_dim{d}", lambda x, d=d: shendu.softmax(x, dim=d),
            F("softmax", dim=d), [(2, 3, 4)]) for d in (0, 1, -1)]
    + [Case(f"log_softmax_dim{d}", lambda x, d=d: shendu.log_softmax(x, dim=d),
            F("log_softmax", dim=d), [(2, 3, 4)]) for d in (0, 1, -1)]
    + [Case("softmax_axis", lambda x: shendu.softmax(x, axis=1), F("softmax", dim=1), [(3, 5)])]
    + [Case("softmax_default_last", shendu.softmax, F("softmax", dim=-1), [(3, 5)])]
    + [Case("log_softmax_default_last", shendu.log_softmax, F("log_softmax", dim=-1), [(2, 3, 4)])]
    + [Case("softmax_method", lambda x: x.softmax(dim=0), lambda x: x.softmax(dim=0), [(4, 3)])]
    + [Case("log_softmax_method", lambda x: x.log_softmax(axis=-1),
            lambda x: x.log_softmax(dim=-1), [(4, 3)])]
    + [Case("softmax_1d", shendu.softmax, F("softmax", dim=0), [(6,)])]
    + [Case("softmax_0d", lambda x: shendu.softmax(x, dim=0), F("softmax", dim=0), [()])]
    + [Case("log_softmax_0d", lambda x: shendu.log_softmax(x, dim=-1), F("log_softmax", dim=-1),
            [()])]
)

# ops whose first derivative does not depend on the input (a mask, or zero): the plain
# second-order check has nothing to differentiate; the squared check below still runs
CONSTANT_GRAD = {"relu", "relu_method", "leaky_relu", "leaky_relu_0.2", "hardtanh",
                 "hardtanh_bounds", "relu6", "hardsigmoid", "threshold"}


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double and c.name not in CONSTANT_GRAD])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


def squared(case):
    """The case with its output squared, so the gradient reaching the op depends on the
    inputs: the second-order check then covers the path through ``g`` as well."""
    return dataclasses.replace(case, fn=lambda *xs, _f=case.fn: _f(*xs) ** 2)


@params([c for c in CASES if c.double])
def test_gradgradcheck_squared(case):
    check_gradgradcheck(squared(case))


# ------------------------------------------------------------------ values and kinks
def test_relu_family_values_and_gradients_at_zero():
    x = shendu.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    cases = [  # op, forward, gradient (PyTorch's choice at 0)
        (shendu.relu, [0, 0, 3], [0, 0, 1]),
        (lambda t: shendu.leaky_relu(t, 0.1), [-0.2, 0, 3], [0.1, 0.1, 1]),
        (lambda t: shendu.elu(t, alpha=2.0), [2 * np.expm1(-2), 0, 3], [2 * np.exp(-2), 2, 1]),
        (lambda t: shendu.threshold(t, 0.0, 7.0), [7, 7, 3], [0, 0, 1]),
        (shendu.step, [0, 0, 1], [0, 0, 0]),
        (shendu.relu6, [0, 0, 3], [0, 0, 1]),
    ]
    for op, want_y, want_g in cases:
        x.grad = None
        y = op(x)
        np.testing.assert_allclose(y.detach().numpy(), want_y, rtol=1e-6)
        y.sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), want_g, rtol=1e-6)


def test_step_is_the_course_threshold_function():
    # the course: y = x > 0; return y.astype(int)
    x = np.array([-1, 1, 2])
    y = shendu.step(shendu.tensor(x))
    np.testing.assert_array_equal(y.numpy(), (x > 0).astype(int))
    assert y.dtype == np.int64
    f = shendu.step(shendu.tensor([-0.5, 0.5, 1.5]), threshold=1.0)
    assert f.dtype == shendu.float32
    np.testing.assert_array_equal(f.numpy(), [0, 0, 1])


def test_selu_constants_and_celu():
    x = shendu.tensor([-1.0, 1.0], dtype=shendu.float64)
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(shendu.selu(x).numpy(), [scale * alpha * np.expm1(-1), scale])
    np.testing.assert_allclose(shendu.celu(x, alpha=2.0).numpy(), [2 * np.expm1(-0.5), 1])
    with pytest.raises(ValueError, match="celu: alpha must not be 0"):
        shendu.celu(x, alpha=0.0)


def test_gelu_values():
    x = np.array([-3.0, -1.0, 0.0, 0.5, 2.0])
    from math import erf, sqrt, tanh, pi
    exact = [v * 0.5 * (1 + erf(v / sqrt(2))) for v in x]
    approx = [0.5 * v * (1 + tanh(sqrt(2 / pi) * (v + 0.044715 * v ** 3))) for v in x]
    t = shendu.tensor(x)
    np.testing.assert_allclose(shendu.gelu(t).numpy(), exact, rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(shendu.gelu(t, approximate="tanh").numpy(), approx, rtol=1e-14)
    with pytest.raises(ValueError, match="gelu: approximate must be 'none' or 'tanh'"):
        shendu.gelu(t, approximate="fast")


def test_gelu_without_scipy(monkeypatch):
    """The exact GELU through the Chebyshev erfc fallback (CuPy, or no SciPy)."""
    from shendu.ops import special
    x = shendu.tensor(np.linspace(-8, 8, 161), requires_grad=True)
    want = shendu.gelu(x).detach().numpy()
    shendu.gelu(x).sum().backward()
    want_g = x.grad.numpy().copy()
    monkeypatch.setattr(special, "_scipy_special", lambda xp: None)
    x.grad = None
    y = shendu.gelu(x)
    y.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(x.grad.numpy(), want_g, rtol=1e-12, atol=1e-300)


def test_hardtanh_rejects_crossed_bounds():
    with pytest.raises(ValueError, match=r"hardtanh: min_val \(1.0\) must not exceed max_val"):
        shendu.hardtanh(shendu.ones(2), 1.0, -1.0)


def test_prelu_weight_errors():
    with pytest.raises(ValueError, match=r"prelu: weight of shape \(4,\) needs one slope per "
                                         r"channel \(dim 1\) of the input, which has shape "
                                         r"\(2, 3\)"):
        shendu.prelu(shendu.ones(2, 3), shendu.ones(4))


def test_float32_is_kept():
    x = shendu.randn(3, 4)
    for f in (shendu.relu, shendu.leaky_relu, shendu.elu, shendu.selu, shendu.gelu,
              lambda t: shendu.gelu(t, approximate="tanh"), shendu.silu, shendu.mish,
              shendu.softplus, shendu.logsigmoid, shendu.softsign, shendu.hardtanh,
              shendu.hardsigmoid, shendu.hardswish, shendu.step, shendu.softmax,
              shendu.log_softmax, lambda t: shendu.threshold(t, 0.1, 20.0)):
        assert f(x).dtype == shendu.float32
    assert shendu.softmax(x, dtype=shendu.float64).dtype == shendu.float64


# ------------------------------------------------------------------ stability
def _no_warnings(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return fn()


@pytest.mark.parametrize("dtype", [shendu.float32, shendu.float64])
@pytest.mark.parametrize("op", [shendu.softplus, lambda t: shendu.softplus(t, beta=0.5),
                                shendu.logsigmoid, shendu.silu, shendu.mish, shendu.elu,
                                shendu.selu, shendu.gelu, shendu.sigmoid,
                                lambda t: shendu.celu(t, alpha=0.5)])
def test_huge_inputs_give_no_warnings_and_finite_gradients(op, dtype):
    x = shendu.tensor([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype, requires_grad=True)

    def run():
        y = op(x)
        y.sum().backward()
        return y

    y = _no_warnings(run)
    assert np.isfinite(y.detach().numpy()).all()
    assert np.isfinite(x.grad.numpy()).all()


def test_softplus_extremes():
    x = shendu.tensor([-1000.0, 0.0, 1000.0], dtype=shendu.float64, requires_grad=True)
    y = _no_warnings(lambda: shendu.softplus(x))
    np.testing.assert_allclose(y.detach().numpy(), [0, np.log(2), 1000])
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0, 0.5, 1])
    np.testing.assert_allclose(shendu.logsigmoid(shendu.tensor([-1000.0])).numpy(), [-1000])


@pytest.mark.parametrize("fn", [shendu.softmax, shendu.log_softmax])
def test_softmax_huge_logits(fn):
    x = shendu.tensor([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4], [1e4, 1e4, 0.0]],
                      requires_grad=True)
    y = _no_warnings(lambda: fn(x, dim=1))
    assert np.isfinite(y.detach().numpy()).all()
    if fn is shendu.softmax:
        np.testing.assert_allclose(y.detach().numpy(), [[1, 0, 0], [1 / 3] * 3, [0.5, 0.5, 0]],
                                   rtol=1e-6)
    else:
        np.testing.assert_allclose(y.detach().numpy()[1], [-np.log(3)] * 3, rtol=1e-6)
        np.testing.assert_allclose(y.detach().numpy()[0], [0, -1e4, -2e4], rtol=1e-6)
    g = np.arange(9.0, dtype=np.float32).reshape(3, 3)
    _no_warnings(lambda: y.backward(shendu.tensor(g)))
    assert np.isfinite(x.grad.numpy()).all()


def test_softmax_rows_of_minus_inf_are_nan_like_pytorch():
    inf = np.inf
    x = shendu.tensor([[-inf, -inf], [-inf, 0.0], [inf, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nan, but quietly
        s = shendu.softmax(x, dim=1).numpy()
        ls = shendu.log_softmax(x, dim=1).numpy()
    assert np.isnan(s[0]).all() and np.isnan(s[2]).all()
    np.testing.assert_array_equal(s[1], [0, 1])
    assert np.isnan(ls[0]).all() and np.isnan(ls[2]).all()
    np.testing.assert_array_equal(ls[1], [-inf, 0])


# ------------------------------------------------------------------ softmax
def test_softmax_sums_to_one_along_its_axis_only():
    x = shendu.randn(2, 3, 4)
    for d in (0, 1, 2, -1, -2, -3):
        s = shendu.softmax(x, dim=d).numpy()
        np.testing.assert_allclose(s.sum(axis=d), 1, rtol=1e-6)
        np.testing.assert_allclose(np.exp(shendu.log_softmax(x, axis=d).numpy()), s, rtol=1e-5)


def test_softmax_default_is_last_axis():
    x = shendu.randn(3, 5)
    np.testing.assert_array_equal(shendu.softmax(x).numpy(), shendu.softmax(x, dim=-1).numpy())
    np.testing.assert_array_equal(x.softmax().numpy(), shendu.softmax(x, dim=1).numpy())


def test_softmax_axis_errors():
    x = shendu.randn(2, 3)
    with pytest.raises(IndexError, match=r"softmax: dimension 2 is out of range for a tensor "
                                         r"with 2 dimensions"):
        shendu.softmax(x, dim=2)
    with pytest.raises(TypeError, match="give either dim or axis"):
        shendu.log_softmax(x, dim=0, axis=1)
    with pytest.raises(TypeError, match=r"softmax: dim must be one integer"):
        shendu.softmax(x, dim=(0, 1))


def test_softmax_backward_does_not_build_the_jacobian():
    """A (1, 50000) softmax backward would need a 50000^2 Jacobian (20 GB in float64)."""
    x = shendu.randn(1, 50000, requires_grad=True)
    y = shendu.softmax(x, dim=1)
    (y * shendu.randn(1, 50000)).sum().backward()
    assert x.grad.shape == (1, 50000)


@settings(deadline=None, max_examples=25)
@given(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), st.data())
def test_softmax_gradient_sums_to_zero(shape, data):
    """Both are shift invariant along their axis (f(x + c) = f(x) or f(x) - c), so every
    slice of the input gradient sums to 0, whatever the axis and shape."""
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    rng = np.random.default_rng(data.draw(st.integers(0, 1000)))
    x = shendu.tensor(rng.standard_normal(shape) * 5, requires_grad=True)
    g = rng.standard_normal(shape)
    shendu.softmax(x, dim=axis).backward(shendu.tensor(g))
    np.testing.assert_allclose(x.grad.numpy().sum(axis=axis), 0, atol=1e-12)
    x.grad = None
    shendu.log_softmax(x, dim=axis).backward(shendu.tensor(g))
    np.testing.assert_allclose(x.grad.numpy().sum(axis=axis), 0, atol=1e-12)
