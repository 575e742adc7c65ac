"""nn.Embedding / F.embedding options: max_norm (rows renormalized in place before the
lookup), norm_type, scale_grad_by_freq, and sparse=True refused with a clear message;
against NumPy references, finite differences and PyTorch."""
import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from shendu.autograd import gradcheck, gradgradcheck

IDS = np.array([[0, 2, 2, 5], [5, 5, 1, 2]])  # repeats, and rows 3, 4 never used


def _weight(dtype=np.float32):
    return (np.random.default_rng(0).standard_normal((6, 3)) * 2).astype(dtype)


def _renormed(w, ids, max_norm, p):
    want = w.astype(np.float64).copy()
    for r in np.unique(ids):
        n = np.linalg.norm(want[r], ord=p)
        if n > max_norm:
            want[r] *= max_norm / (n + 1e-7)
    return want


@pytest.mark.parametrize("p", [1.0, 2.0, 3.0, np.inf])
def test_max_norm_renormalizes_the_rows_used_in_place(p):
    w0 = _weight()
    w = shendu.tensor(w0, requires_grad=True)
    version = w._version
    y = F.embedding(shendu.tensor(IDS), w, max_norm=1.5, norm_type=p)
    want = _renormed(w0, IDS, 1.5, p)
    np.testing.assert_allclose(w.detach().numpy(), want, rtol=1e-6)
    np.testing.assert_array_equal(w.detach().numpy()[[3, 4]], w0[[3, 4]])  # unused rows untouched
    np.testing.assert_allclose(y.detach().numpy(), want[IDS], rtol=1e-6)
    assert np.all(np.linalg.norm(w.detach().numpy()[np.unique(IDS)], ord=p, axis=1) <= 1.5 + 1e-5)
    assert w._version == version + 1 and w.requires_grad
    y.sum().backward()  # the gradient is the plain lookup's
    np.testing.assert_array_equal(w.grad.numpy()[:, 0], np.bincount(IDS.ravel(), minlength=6))


def test_scale_grad_by_freq_divides_by_each_ids_count():
    w = shendu.tensor(_weight(), requires_grad=True)
    g = np.random.default_rng(1).standard_normal(IDS.shape + (3,)).astype(np.float32)
    F.embedding(shendu.tensor(IDS), w, scale_grad_by_freq=True).backward(shendu.tensor(g))
    counts = np.bincount(IDS.ravel(), minlength=6)
    want = np.zeros((6, 3))
    for pos, k in np.ndenumerate(IDS):
        want[k] += g[pos] / counts[k]
    np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-6, atol=1e-7)


def test_scale_grad_by_freq_gradcheck_and_double_backward():
    """With every id once the scaled gradient is the true one (count 1): finite
    differences check the plumbing, first and second order. (With repeats it is, on
    purpose, not the gradient of the output: the reference test above checks it.)"""
    ids = shendu.tensor(np.array([[0, 2], [5, 1]]))
    w = shendu.tensor(_weight(np.float64), requires_grad=True)

    def f(w):
        return F.embedding(ids, w, scale_grad_by_freq=True) ** 2

    assert gradcheck(f, [w])
    assert gradgradcheck(f, [w])


def test_scale_grad_by_freq_same_with_create_graph():
    w = shendu.tensor(_weight(np.float64), requires_grad=True)
    g = shendu.tensor(np.random.default_rng(3).standard_normal(IDS.shape + (3,)))
    y = F.embedding(shendu.tensor(IDS), w, padding_idx=5, scale_grad_by_freq=True)
    plain, = shendu.autograd.grad(y, w, g, retain_graph=True)
    graphed, = shendu.autograd.grad(y, w, g, create_graph=True)
    np.testing.assert_allclose(graphed.detach().numpy(), plain.numpy(), rtol=1e-12)


def test_module_options_repr_and_errors():
    emb = nn.Embedding(6, 3, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)
    assert "max_norm=1.0" in repr(emb) and "norm_type=1.0" in repr(emb)
    assert "scale_grad_by_freq=True" in repr(emb)
    emb(shendu.tensor(IDS))
    assert np.all(np.abs(emb.weight.detach().numpy()[np.unique(IDS)]).sum(1) <= 1.0 + 1e-5)
    with pytest.raises(NotImplementedError, match="sparse=True .* leave sparse=False"):
        nn.Embedding(6, 3, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        F.embedding(shendu.tensor(IDS), shendu.tensor(_weight()), sparse=True)
    with pytest.raises(ValueError, match="max_norm must be positive"):
        nn.Embedding(6, 3, max_norm=0.0)
    pre = nn.Embedding.from_pretrained(shendu.tensor(_weight()), max_norm=0.5)
    assert pre.max_norm == 0.5 and not pre.weight.requires_grad


@pytest.mark.conformance
@pytest.mark.parametrize("kw", [dict(max_norm=1.5), dict(max_norm=1.0, norm_type=1.0),
                                dict(scale_grad_by_freq=True),
                                dict(max_norm=2.0, scale_grad_by_freq=True, padding_idx=5)])
def test_conformance_with_torch(kw):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                                "suite needs `pip install torch==2.13.0`")
    w0 = _weight()
    ours = nn.Embedding(6, 3, _weight=shendu.tensor(w0.copy()), **kw)
    theirs = torch.nn.Embedding(6, 3, _weight=torch.tensor(w0.copy()), **kw)
    g = np.random.default_rng(2).standard_normal(IDS.shape + (3,)).astype(np.float32)
    for _ in range(2):  # a second forward sees the renormalized rows
        y = ours(shendu.tensor(IDS))
        yt = theirs(torch.tensor(IDS))
        y.backward(shendu.tensor(g))
        yt.backward(torch.tensor(g))
        np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6,
                                   atol=1e-7)
        np.testing.assert_allclose(ours.weight.detach().numpy(),
                                   theirs.weight.detach().numpy(), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(),
                                   rtol=1e-6, atol=1e-7)
