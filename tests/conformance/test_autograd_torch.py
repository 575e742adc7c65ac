"""Higher-order gradients against PyTorch: a WGAN-GP gradient penalty and a
Hessian-vector product through matmul, tanh, sigmoid, reductions."""
import numpy as np
import pytest

import shendu

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")


def _critic(lib, x, w1, w2):
    h = lib.tanh(x @ w1)
    return lib.sigmoid(h @ w2) * 2 + (h ** 2).mean()


def test_wgan_gp_gradient_penalty_matches_torch():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float64) for s in [(5, 3), (3, 4), (4, 1)]]
    xs, w1s, w2s = [shendu.tensor(a, requires_grad=True) for a in arrays]
    xt, w1t, w2t = [torch.tensor(a, requires_grad=True) for a in arrays]

    def penalty(lib, grad_fn, x, w1, w2):
        out = _critic(lib, x, w1, w2)
        g, = grad_fn(out.sum(), x, create_graph=True)
        return ((g.pow(2).sum(dim=1) + 1e-12).sqrt() - 1).pow(2).mean()

    ps = penalty(shendu, shendu.autograd.grad, xs, w1s, w2s)
    pt = penalty(torch, torch.autograd.grad, xt, w1t, w2t)
    assert ps.item() == pytest.approx(pt.item(), rel=1e-10)
    ps.backward()
    pt.backward()
    for a, b in [(xs, xt), (w1s, w1t), (w2s, w2t)]:
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_hessian_vector_product_matches_torch():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((4, 4))
    v = rng.standard_normal(4)
    xs, xt = shendu.tensor(a[0], requires_grad=True), torch.tensor(a[0], requires_grad=True)
    ms, mt = shendu.tensor(a), torch.tensor(a)

    def f(lib, x, m):
        return (lib.exp(x * 0.3) @ m @ lib.sin(x)).sum() + x.softmax(dim=0).max() + x.logsumexp(dim=0)

    gs, = shendu.autograd.grad(f(shendu, xs, ms), xs, create_graph=True)
    gt, = torch.autograd.grad(f(torch, xt, mt), xt, create_graph=True)
    hs, = shendu.autograd.grad(gs, xs, grad_outputs=shendu.tensor(v))
    ht, = torch.autograd.grad(gt, xt, grad_outputs=torch.tensor(v))
    np.testing.assert_allclose(hs.numpy(), ht.numpy(), rtol=1e-9, atol=1e-12)
