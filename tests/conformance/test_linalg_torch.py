"""Linear algebra against PyTorch 2.13: forward values and gradients in float32 from the
same CASES table as tests/test_linalg.py, and a second-order check through matmul."""
import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_linalg import CASES, MATMUL_SHAPES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")


@params(CASES)
def test_conformance(case):
    check_conformance(case)


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_double_backward_matches_torch(sa, sb):
    """Gradient of a gradient norm (a WGAN-GP style penalty) through matmul."""
    rng = np.random.default_rng(5)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)

    def penalty(lib, grad, x, y):
        out = ((x @ y) ** 2).sum()
        gx, gy = grad(out, [x, y], create_graph=True)
        return (gx ** 2).sum() + (gy ** 3).sum()

    xs, ys = shendu.tensor(a, requires_grad=True), shendu.tensor(b, requires_grad=True)
    xt, yt = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ps = penalty(shendu, shendu.autograd.grad, xs, ys)
    pt = penalty(torch, torch.autograd.grad, xt, yt)
    assert ps.item() == pytest.approx(pt.item(), rel=1e-10)
    ps.backward()
    pt.backward()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ys.grad.numpy(), yt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_einsum_double_backward_matches_torch():
    rng = np.random.default_rng(6)
    q, k = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 2, 5, 4))

    def run(lib, grad, q, k):
        s = lib.einsum("bhqd,bhkd->bhqk", q, k)
        gq, = grad((s ** 2).sum(), [q], create_graph=True)
        return (gq * gq).sum()

    qs, ks = shendu.tensor(q, requires_grad=True), shendu.tensor(k, requires_grad=True)
    qt, kt = torch.tensor(q, requires_grad=True), torch.tensor(k, requires_grad=True)
    ps, pt = run(shendu, shendu.autograd.grad, qs, ks), run(torch, torch.autograd.grad, qt, kt)
    assert ps.item() == pytest.approx(pt.item(), rel=1e-10)
    ps.backward()
    pt.backward()
    np.testing.assert_allclose(ks.grad.numpy(), kt.grad.numpy(), rtol=1e-9)
    np.testing.assert_allclose(qs.grad.numpy(), qt.grad.numpy(), rtol=1e-9)
