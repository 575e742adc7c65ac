"""Reductions against PyTorch 2.13: forward values and gradients in float32, from the
same CASES table as tests/test_reduce.py, plus the tie and index conventions."""
import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_reduce import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")


@params(CASES)
def test_conformance(case):
    check_conformance(case)


def _both(values, fn):
    """fn applied to a shendu and a torch tensor of ``values`` (requires_grad); returns
    the two outputs and the two gradients of ``out.sum()``."""
    a = np.asarray(values, dtype=np.float32)
    s, t = shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    ys, yt = fn(s), fn(t)
    ys.sum().backward()
    yt.sum().backward()
    return ys, yt, s.grad.numpy(), t.grad.numpy()


TIES = [[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 0.0, 2.0]]


@pytest.mark.parametrize("fn", [
    lambda x: x.max(), lambda x: x.min(), lambda x: x.amax(dim=1), lambda x: x.amin(dim=0),
    lambda x: x.amax(dim=(0, 1)), lambda x: x.max(dim=1).values,
    lambda x: x.min(dim=0, keepdim=True).values, lambda x: x.norm(p=float("inf"), dim=1),
], ids=["max", "min", "amax1", "amin0", "amax01", "max_dim1", "min_dim0", "norm_inf"])
def test_tie_gradients_match_torch(fn):
    ys, yt, gs, gt = _both(TIES, fn)
    np.testing.assert_array_equal(ys.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(gs, gt, rtol=1e-6)


def test_max_indices_match_torch():
    a = np.array(TIES, dtype=np.float32)
    for dim in (0, 1, -1):
        ours, theirs = shendu.tensor(a).max(dim=dim), torch.tensor(a).max(dim=dim)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        ours, theirs = shendu.tensor(a).min(dim=dim), torch.tensor(a).min(dim=dim)
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    np.testing.assert_array_equal(shendu.tensor(a).argmax(dim=1).numpy(),
                                  torch.tensor(a).argmax(dim=1).numpy())
    assert shendu.tensor(a).argmin().item() == torch.tensor(a).argmin().item()


@pytest.mark.parametrize("fn", [
    lambda x: x.prod(), lambda x: x.prod(dim=1), lambda x: x.prod(dim=0, keepdim=True),
], ids=["all", "dim1", "dim0"])
def test_prod_with_zeros_matches_torch(fn):
    ys, yt, gs, gt = _both([[0.0, 2.0, 3.0], [0.0, 0.0, 4.0], [1.5, 2.0, -1.0]], fn)
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(gs, gt)


def test_norm_at_zero_matches_torch():
    ys, yt, gs, gt = _both([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]], lambda x: x.norm(dim=1))
    np.testing.assert_allclose(ys.detach().numpy(), yt.detach().numpy())
    np.testing.assert_allclose(gs, gt)


def test_logsumexp_extremes_match_torch_forward():
    inf = float("inf")
    a = np.array([[-inf, -inf], [1e4, 1e4], [-1e4, 0.0], [inf, 1.0]], dtype=np.float32)
    np.testing.assert_allclose(shendu.tensor(a).logsumexp(1).numpy(),
                               torch.tensor(a).logsumexp(1).numpy())


def test_integer_reductions_match_torch_dtypes():
    a = np.array([[1, 2], [3, 4]], dtype=np.int32)
    for fn in (lambda x: x.sum(), lambda x: x.sum(dim=0), lambda x: x.prod(dim=1),
               lambda x: x.cumsum(dim=1)):
        ours, theirs = fn(shendu.tensor(a)), fn(torch.tensor(a))
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "")
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
