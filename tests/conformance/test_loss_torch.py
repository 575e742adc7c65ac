"""Losses against PyTorch 2.13: the CASES of tests/test_loss.py (forward and gradients in
float32, every reduction, weights, ignore_index, label smoothing, pos_weight, (N, C) and
(N, C, d1, d2) shapes), extreme logits, bigger batches, and second derivatives."""
import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_loss import CASES, L

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
TF = torch.nn.functional


@pytest.mark.filterwarnings("ignore:kl_div. reduction='mean'")
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")
@params(CASES)
def test_conformance(case):
    check_conformance(case)


def _both(x, requires_grad=True):
    return (shendu.tensor(x, requires_grad=requires_grad),
            torch.tensor(x, requires_grad=requires_grad))


def _close(ours, theirs, **kw):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), **kw)


def test_cross_entropy_huge_logits_match_torch():
    x = np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4], [-1e4, -1e4, -1e4]], np.float32)
    target = np.array([1, 0, 2])
    for smoothing in (0.0, 0.1):
        a, b = _both(x)
        la = L.cross_entropy(a, shendu.tensor(target), label_smoothing=smoothing)
        lb = TF.cross_entropy(b, torch.tensor(target), label_smoothing=smoothing)
        la.backward()
        lb.backward()
        assert np.isfinite(float(la)) and not np.isnan(a.grad.numpy()).any()
        _close(la, lb, rtol=1e-6)
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-7)


def test_bce_with_logits_huge_scores_match_torch():
    x = np.array([1e3, -1e3, 1e3, -1e3, 30.0, -30.0], np.float32)
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.7], np.float32)
    pw = np.float32([1.5])
    a, b = _both(x)
    la = L.binary_cross_entropy_with_logits(a, shendu.tensor(y), reduction="none",
                                            pos_weight=shendu.tensor(pw))
    lb = TF.binary_cross_entropy_with_logits(b, torch.tensor(y), reduction="none",
                                             pos_weight=torch.tensor(pw))
    _close(la, lb, rtol=1e-6)
    la.sum().backward()
    lb.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("shape", [(128, 10), (16, 7, 5, 3)])
@pytest.mark.parametrize("options", [{}, {"label_smoothing": 0.1}, {"weight": True},
                                     {"weight": True, "ignore_index": 3, "label_smoothing": 0.05}])
def test_cross_entropy_batches_match_torch(shape, options):
    rng = np.random.default_rng(0)
    C = shape[1]
    x = (3 * rng.standard_normal(shape)).astype(np.float32)
    target = rng.integers(0, C, (shape[0],) + shape[2:])
    kw_ours, kw_torch = dict(options), dict(options)
    if options.get("weight"):
        w = rng.uniform(0.2, 3.0, C).astype(np.float32)
        kw_ours["weight"], kw_torch["weight"] = shendu.tensor(w), torch.tensor(w)
    for reduction in ("mean", "sum", "none"):
        a, b = _both(x)
        la = L.cross_entropy(a, shendu.tensor(target), reduction=reduction, **kw_ours)
        lb = TF.cross_entropy(b, torch.tensor(target), reduction=reduction, **kw_torch)
        _close(la, lb, rtol=1e-5, atol=1e-6)
        g = rng.standard_normal(la.shape).astype(np.float32)
        la.backward(shendu.tensor(g))
        lb.backward(torch.tensor(g))
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_cross_entropy_hessian_vector_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 5))
    v = rng.standard_normal((4, 5))
    target = np.array([0, 4, 2, 2])
    w = rng.uniform(0.5, 2.0, 5)
    a, b = _both(x)
    (ga,) = shendu.autograd.grad(L.cross_entropy(a, shendu.tensor(target), shendu.tensor(w),
                                                 label_smoothing=0.1), [a], create_graph=True)
    (gb,) = torch.autograd.grad(TF.cross_entropy(b, torch.tensor(target), torch.tensor(w),
                                                 label_smoothing=0.1), [b], create_graph=True)
    (ha,) = shendu.autograd.grad((ga * shendu.tensor(v)).sum(), [a])
    (hb,) = torch.autograd.grad((gb * torch.tensor(v)).sum(), [b])
    np.testing.assert_allclose(ha.numpy(), hb.numpy(), atol=1e-12)


@pytest.mark.parametrize("name", ["binary_cross_entropy_with_logits", "binary_cross_entropy",
                                  "mse_loss", "smooth_l1_loss", "soft_margin_loss"])
def test_second_derivatives_match_torch(name):
    rng = np.random.default_rng(2)
    x = rng.uniform(0.1, 0.9, (3, 4)) if name == "binary_cross_entropy" else rng.standard_normal((3, 4))
    y = rng.uniform(0.0, 1.0, (3, 4)) if "entropy" in name else np.sign(rng.standard_normal((3, 4)))
    a, b = _both(x)
    (ga,) = shendu.autograd.grad(getattr(L, name)(a, shendu.tensor(y)), [a], create_graph=True)
    (gb,) = torch.autograd.grad(getattr(TF, name)(b, torch.tensor(y)), [b], create_graph=True)
    (ha,) = shendu.autograd.grad((ga * ga).sum(), [a])
    (hb,) = torch.autograd.grad((gb * gb).sum(), [b])
    np.testing.assert_allclose(ha.numpy(), hb.numpy(), rtol=1e-10, atol=1e-12)


COMPOSED = {   # loss(f(x), ...) where f = tanh (or log_softmax): the double backward must
    # also carry the incoming gradient g through each loss's backward. (PyTorch has no
    # double backward for multi_margin_loss; tests/test_loss.py checks ours numerically.)
    "mse_loss": lambda lib, F, z, y, k: F.mse_loss(lib.tanh(z), y),
    "l1_loss": lambda lib, F, z, y, k: F.l1_loss(lib.tanh(z), y, reduction="sum"),
    "smooth_l1_loss": lambda lib, F, z, y, k: F.smooth_l1_loss(2 * lib.tanh(z), y, beta=0.5),
    "huber_loss": lambda lib, F, z, y, k: F.huber_loss(2 * lib.tanh(z), y, delta=0.5),
    "nll_loss": lambda lib, F, z, y, k: F.nll_loss(F.log_softmax(z, dim=1), k),
    "cross_entropy": lambda lib, F, z, y, k: F.cross_entropy(lib.tanh(z), k, label_smoothing=0.1),
    "cross_entropy_probs": lambda lib, F, z, y, k: F.cross_entropy(
        lib.tanh(z), F.softmax(y, dim=1), reduction="none").sum(),
    "bce": lambda lib, F, z, y, k: F.binary_cross_entropy(lib.sigmoid(z), lib.sigmoid(y)),
    "bce_with_logits": lambda lib, F, z, y, k: F.binary_cross_entropy_with_logits(
        lib.tanh(z), lib.sigmoid(y), pos_weight=lib.sigmoid(y[0])),
    "kl_div": lambda lib, F, z, y, k: F.kl_div(F.log_softmax(z, dim=1), F.softmax(y, dim=1),
                                               reduction="batchmean"),
    "soft_margin_loss": lambda lib, F, z, y, k: F.soft_margin_loss(lib.tanh(z), lib.sign(y)),
    "poisson_nll_loss": lambda lib, F, z, y, k: F.poisson_nll_loss(lib.tanh(z), y * y),
}


@pytest.mark.parametrize("name", sorted(COMPOSED))
def test_hessian_vector_through_composition_matches_torch(name):
    rng = np.random.default_rng(4)
    x, y, v = (rng.standard_normal((3, 4)) for _ in range(3))
    k = np.array([0, 3, 1])
    results = []
    for lib, F, make in ((shendu, L, shendu.tensor), (torch, TF, torch.tensor)):
        a = make(x, requires_grad=True)
        loss = COMPOSED[name](lib, F, a, make(y), make(k))
        grad = shendu.autograd.grad if lib is shendu else torch.autograd.grad
        (g,) = grad(loss, [a], create_graph=True)
        (h,) = grad((g * make(v)).sum(), [a])
        results.append((g.detach().numpy(), h.detach().numpy()))
    (g1, h1), (g2, h2) = results
    np.testing.assert_allclose(g1, g2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h1, h2, rtol=1e-9, atol=1e-12)
