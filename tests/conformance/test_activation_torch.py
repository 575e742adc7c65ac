"""Activations against PyTorch 2.13: the CASES of tests/test_activation.py (forward and
gradients in float32), gradients at the kinks, and softmax with huge or infinite logits."""
import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_activation import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
TF = torch.nn.functional


@params(CASES)
def test_conformance(case):
    check_conformance(case)


KINKS = np.array([-6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 20.0, 25.0], np.float32)

PAIRS = [  # (shendu op, torch op): gradients exactly at the kinks must agree
    (shendu.relu, TF.relu),
    (shendu.leaky_relu, TF.leaky_relu),
    (lambda x: shendu.elu(x, alpha=2.0), lambda x: TF.elu(x, alpha=2.0)),
    (shendu.selu, TF.selu),
    (lambda x: shendu.celu(x, alpha=0.5), lambda x: TF.celu(x, alpha=0.5)),
    (shendu.hardtanh, TF.hardtanh),
    (lambda x: shendu.hardtanh(x, -0.5, 0.5), lambda x: TF.hardtanh(x, -0.5, 0.5)),
    (shendu.relu6, TF.relu6),
    (shendu.hardsigmoid, TF.hardsigmoid),
    (shendu.hardswish, TF.hardswish),
    (lambda x: shendu.threshold(x, 1.0, -3.0), lambda x: TF.threshold(x, 1.0, -3.0)),
    (shendu.softplus, TF.softplus),
    (lambda x: shendu.softplus(x, beta=2.0, threshold=1.0),
     lambda x: TF.softplus(x, beta=2.0, threshold=1.0)),
    (shendu.gelu, TF.gelu),
    (shendu.silu, TF.silu),
    (shendu.mish, TF.mish),
    (shendu.logsigmoid, TF.logsigmoid),
    (shendu.softsign, TF.softsign),
]


@pytest.mark.parametrize("ours,theirs", PAIRS, ids=[str(i) for i in range(len(PAIRS))])
def test_values_and_gradients_at_the_kinks(ours, theirs):
    x = shendu.tensor(KINKS, requires_grad=True)
    tx = torch.tensor(KINKS, requires_grad=True)
    y, ty = ours(x), theirs(tx)
    # atol: PyTorch's float32 gelu(-3) is 1.7e-7 off (1 + erf cancels); ours is closer
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float64_like_pytorch(approximate):
    v = np.linspace(-10, 10, 2001)
    x = shendu.tensor(v, requires_grad=True)
    tx = torch.tensor(v, requires_grad=True)
    y, ty = shendu.gelu(x, approximate=approximate), TF.gelu(tx, approximate=approximate)
    # atol: 1 + tanh(...) cancels for x near -7 in both libraries (errors ~5e-15)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-13)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_huge_logits_like_pytorch(name, dim):
    rng = np.random.default_rng(0)
    x = rng.choice([-1e4, 0.0, 1e4], (3, 4, 5)) + rng.standard_normal((3, 4, 5))
    x = x.astype(np.float32)
    ours = shendu.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = getattr(shendu, name)(ours, dim=dim)
    ty = getattr(TF, name)(theirs, dim=dim)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = rng.standard_normal(x.shape).astype(np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    assert np.isfinite(ours.grad.numpy()).all()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_infinite_logits_like_pytorch(name):
    inf = np.inf
    x = np.array([[-inf, -inf, -inf], [-inf, 0.0, 1.0], [inf, 1.0, 0.0], [1e4, -1e4, -inf]],
                 np.float32)
    ours = shendu.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    y = getattr(shendu, name)(ours, dim=-1)
    ty = getattr(TF, name)(theirs, dim=-1)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-6)  # nan == nan
    y.backward(shendu.ones(4, 3))
    ty.backward(torch.ones(4, 3))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
