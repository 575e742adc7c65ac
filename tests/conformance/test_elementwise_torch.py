"""Elementwise math against PyTorch 2.13: the CASES of tests/test_elementwise.py (forward
and gradients in float32), plus the tie and boundary rules PyTorch chose."""
import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_elementwise import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")


@params(CASES)
def test_conformance(case):
    check_conformance(case)


def _both(values, requires_grad=True):
    a = np.asarray(values, dtype=np.float32)
    return (shendu.tensor(a, requires_grad=requires_grad),
            torch.tensor(a, requires_grad=requires_grad))


def _same_grads(pairs):
    for ours, theirs in pairs:
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_ties_split_like_pytorch(op):
    a, ta = _both([1.0, 2.0, 3.0, -1.0, 0.0])
    b, tb = _both([1.0, 3.0, 2.0, -1.0, 0.0])
    y, ty = getattr(shendu, op)(a, b), getattr(torch, op)(ta, tb)
    g = np.array([1.0, 2.0, 3.0, 4.0, 5.0], np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    _same_grads([(a, ta), (b, tb)])


def test_clamp_boundaries_and_crossed_bounds_like_pytorch():
    x, tx = _both([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0, -2.0, 1.0, 5.0])
    lo, tlo = _both([-1.0, -1.0, 0.5, 1.0, 3.0, 0.0, 1.0, 1.0, 1.0])
    hi, thi = _both([1.0, 0.0, 0.0, 1.0, 1.0, 3.0, 1.0, 1.0, 1.0])
    y, ty = shendu.clamp(x, lo, hi), torch.clamp(tx, tlo, thi)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    y.sum().backward()
    ty.sum().backward()
    _same_grads([(x, tx), (lo, tlo), (hi, thi)])


def test_clamp_number_bounds_at_the_boundary_like_pytorch():
    x, tx = _both([-0.5, 0.0, 0.5, 0.7])
    shendu.clamp(x, -0.5, 0.5).sum().backward()
    torch.clamp(tx, -0.5, 0.5).sum().backward()
    _same_grads([(x, tx)])


def test_abs_and_piecewise_constant_gradients_like_pytorch():
    for name in ("abs", "sign", "floor", "ceil", "round"):
        x, tx = _both([-1.5, 0.0, 0.5, 2.0])
        getattr(shendu, name)(x).sum().backward()
        getattr(torch, name)(tx).sum().backward()
        _same_grads([(x, tx)])


def test_sigmoid_extremes_like_pytorch():
    x, tx = _both([-1000.0, -88.0, -20.0, 0.0, 20.0, 88.0, 1000.0])
    y, ty = shendu.sigmoid(x), torch.sigmoid(tx)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-45)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-45)


def test_round_decimals_like_pytorch():
    v = np.random.default_rng(0).uniform(-100, 100, 50).astype(np.float32)
    for d in (0, 1, 2, -1):
        np.testing.assert_allclose(shendu.round(shendu.tensor(v), decimals=d).numpy(),
                                   torch.round(torch.tensor(v), decimals=d).numpy(), rtol=1e-6)
