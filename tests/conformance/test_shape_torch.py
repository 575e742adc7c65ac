"""Shape ops against PyTorch 2.13: forward values and gradients in float32, from the
same CASES table as tests/test_shape.py."""
import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_shape import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")


@params(CASES)
def test_matches_torch(case):
    check_conformance(case)


@pytest.mark.parametrize("shape, pad, mode", [
    ((2, 3, 5), (4, 4), "reflect"), ((1, 2, 4, 5), (3, 3, 2, 1), "reflect"),
    ((2, 3, 5), (5, 2), "circular"), ((1, 2, 3, 4), (4, 0, 3, 3), "circular"),
    ((2, 3, 4), (6, 7), "replicate"), ((1, 1, 2, 3, 4), (1, 2, 2, 1, 1, 1), "replicate"),
    ((2, 3, 4), (2, 3, 1, 0), "constant"),
])
def test_pad_modes_match_torch(shape, pad, mode):
    a = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    x, t = shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    y, ty = shendu.pad(x, pad, mode=mode), torch.nn.functional.pad(t, pad, mode=mode)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_chunk_sizes_match_torch():
    for n in range(0, 13):
        for chunks in range(1, 7):
            ours = [p.shape for p in shendu.zeros(n, 2).chunk(chunks)]
            theirs = [tuple(p.shape) for p in torch.zeros(n, 2).chunk(chunks)]
            assert ours == theirs, (n, chunks)


def test_split_sizes_match_torch():
    for n in range(0, 9):
        for size in range(1, 5):
            ours = [p.shape for p in shendu.zeros(3, n).split(size, 1)]
            theirs = [tuple(p.shape) for p in torch.zeros(3, n).split(size, 1)]
            assert ours == theirs, (n, size)
