"""Indexing ops against PyTorch 2.13: forward values and gradients in float32, from the
same CASES table as tests/test_indexing.py (getitem in many index forms, gather,
scatter_add, index_select, masked_fill, take_along_dim), plus one_hot."""
import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_indexing import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")


@params(CASES)
def test_matches_torch(case):
    check_conformance(case)


@pytest.mark.parametrize("labels, num_classes", [
    ([0, 3, 1], -1), ([[1, 0], [2, 2]], 4), ([5], 6), (3, 5),
])
def test_one_hot_matches_torch(labels, num_classes):
    ours = shendu.one_hot(shendu.tensor(labels), num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(labels), num_classes)
    assert ours.dtype == np.int64 and ours.shape == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_embedding_style_lookup_gradient_matches_torch():
    rng = np.random.default_rng(0)
    table = rng.standard_normal((50, 8)).astype(np.float32)
    ids = rng.integers(0, 50, (16, 12))
    ours = shendu.tensor(table, requires_grad=True)
    theirs = torch.tensor(table, requires_grad=True)
    g = rng.standard_normal((16, 12, 8)).astype(np.float32)
    ours[shendu.tensor(ids)].backward(shendu.tensor(g))
    theirs[torch.tensor(ids)].backward(torch.tensor(g))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-5)
