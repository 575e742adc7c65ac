"""2-D max pooling by shendu.kernels (numba, one pass): the same maxima, indices and
gradients as the NumPy code (strided views, the reference) for every geometry, ties,
NaN and -inf, on one thread and on several, and PyTorch's on a big input.

Skipped without numba (``pip install "shendu[jit]"``).
"""
import numpy as np
import pytest

import shendu
import shendu.nn.functional as F
from shendu import autograd, kernels, parallel

pytest.importorskip("numba", reason='numba is not installed: the compiled kernels need '
                    'pip install "shendu[jit]"')


@pytest.fixture
def any_size(monkeypatch):
    """Let the kernels take arrays of any size, so small odd geometries are tested."""
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 1)


@pytest.fixture
def spy(monkeypatch):
    """Record that the kernel ran (a silent fall-back to NumPy would pass unnoticed)."""
    seen = []
    real = kernels.max_pool2d
    monkeypatch.setattr(kernels, "max_pool2d", lambda *a: (seen.append(1), real(*a))[1])
    return seen


def _pool(a, g, **kw):
    x = shendu.tensor(a, requires_grad=True)
    y, idx = F.max_pool2d(x, return_indices=True, **kw)
    y.backward(shendu.tensor(g))
    return y.detach().numpy(), idx.numpy(), x.grad.numpy()


def _both(a, g, **kw):
    got = _pool(a, g, **kw)
    with kernels.disabled():
        want = _pool(a, g, **kw)
    return got, want


GEOMETRIES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2),                          # overlapping windows
    dict(kernel_size=3, stride=1, padding=1),
    dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1)),
    dict(kernel_size=3, stride=2, dilation=2),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=2, stride=3),                          # gaps between windows
]


@pytest.mark.parametrize("kw", GEOMETRIES, ids=str)
@pytest.mark.parametrize("shape", [(2, 3, 9, 11), (4, 7, 8)])
def test_same_maxima_indices_and_gradients_as_numpy_code(any_size, spy, kw, shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    a[..., 1, :4] = a[..., 1, 4:5]  # ties inside windows
    (y, idx, gx), (y0, idx0, gx0) = _both(a, rng.standard_normal(
        F.max_pool2d(shendu.tensor(a), **kw).shape).astype(np.float32), **kw)
    assert spy
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(idx, idx0)
    # where windows overlap, an element's gradients are summed window by window (as in
    # PyTorch), the NumPy code sums them offset by offset: the last bit may differ
    np.testing.assert_allclose(gx, gx0, rtol=1e-6, atol=1e-7)
    if kw.get("stride", kw["kernel_size"]) == kw["kernel_size"]:
        np.testing.assert_array_equal(gx, gx0)


def test_nan_is_the_maximum_and_the_first_nan_gets_the_gradient(any_size, spy):
    a = np.arange(32, dtype=np.float32).reshape(1, 1, 4, 8)
    a[0, 0, 0, 1] = a[0, 0, 1, 0] = np.nan   # two NaN in window 0
    a[0, 0, 2:, 2:4] = 5.0                   # a tie in window (1, 1)
    (y, idx, gx), (y0, idx0, gx0) = _both(a, np.ones((1, 1, 2, 4), np.float32), kernel_size=2)
    assert spy
    assert np.isnan(y[0, 0, 0, 0]) and idx[0, 0, 0, 0] == 1
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(idx, idx0)
    np.testing.assert_array_equal(gx, gx0)


def test_minus_infinity_next_to_padding_points_inside_like_pytorch(any_size):
    """Windows of -inf and padding: PyTorch's index (and gradient) is each window's
    first in-bounds element (values from torch 2.13)."""
    a = np.full((1, 1, 2, 2), -np.inf, np.float32)
    x = shendu.tensor(a, requires_grad=True)
    y, idx = F.max_pool2d(x, 2, stride=1, padding=1, return_indices=True)
    assert (y.detach().numpy() == -np.inf).all()
    np.testing.assert_array_equal(idx.numpy()[0, 0], [[0, 0, 1], [0, 0, 1], [2, 2, 3]])
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[4, 2], [2, 1]])  # PyTorch's


def test_same_bits_on_any_number_of_threads(monkeypatch):
    monkeypatch.setattr(kernels, "SPREAD_MIN_ELEMENTS", 1)
    rng = np.random.default_rng(1)
    a = rng.standard_normal((8, 16, 30, 30)).astype(np.float32)
    g = rng.standard_normal((8, 16, 14, 14)).astype(np.float32)
    old = parallel.get_num_threads()
    try:
        runs = []
        for n in (1, 2, 3):
            parallel.set_num_threads(n)
            runs.append(_pool(a, g, kernel_size=3, stride=2))
    finally:
        parallel.set_num_threads(old)
    for run in runs[1:]:
        for got, want in zip(run, runs[0]):
            np.testing.assert_array_equal(got, want)


def test_double_backward_and_gradcheck_through_the_kernel(any_size, spy):
    rng = np.random.default_rng(2)
    x = shendu.tensor(rng.standard_normal((2, 3, 6, 6)), dtype=shendu.float32,
                      requires_grad=True)
    y = F.max_pool2d(x, 3, stride=2, padding=1)
    (g,) = autograd.grad((y * y).sum(), [x], create_graph=True)
    (h,) = autograd.grad(g.sum(), [x])
    with kernels.disabled():
        y0 = F.max_pool2d(x, 3, stride=2, padding=1)
        (g0,) = autograd.grad((y0 * y0).sum(), [x], create_graph=True)
        (h0,) = autograd.grad(g0.sum(), [x])
    assert spy
    np.testing.assert_array_equal(g.detach().numpy(), g0.detach().numpy())
    np.testing.assert_array_equal(h.numpy(), h0.numpy())


def test_float64_3d_pooling_and_small_inputs_take_the_numpy_code(spy):
    a = np.random.default_rng(3).standard_normal((2, 3, 8, 8))
    F.max_pool2d(shendu.tensor(a), 2)                                   # float64
    F.max_pool2d(shendu.tensor(a.astype(np.float32)), 2)                # small
    F.max_pool3d(shendu.tensor(a.astype(np.float32)), 2)                # 3-D pooling
    F.max_pool2d(shendu.ones(64, 64, 33, 33)[..., ::2, ::2], 2)         # not contiguous
    assert spy == []


@pytest.mark.conformance
def test_conformance_with_torch_on_a_big_input():
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                                "suite needs `pip install torch==2.13.0`")
    rng = np.random.default_rng(4)
    a = rng.standard_normal((16, 32, 28, 28)).astype(np.float32)
    g = rng.standard_normal((16, 32, 14, 14)).astype(np.float32)
    assert kernels.accepts(a)
    y, idx, gx = _pool(a, g, kernel_size=2)
    xt = torch.tensor(a, requires_grad=True)
    yt, it = torch.nn.functional.max_pool2d(xt, 2, return_indices=True)
    yt.backward(torch.tensor(g))
    np.testing.assert_array_equal(y, yt.detach().numpy())
    np.testing.assert_array_equal(idx, it.numpy())
    np.testing.assert_array_equal(gx, xt.grad.numpy())


@pytest.mark.parametrize("where", [(0, 0), (0, 1), (1, 0), (1, 1), ((0, 1), (1, 1))])
@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=2, padding=1)],
                         ids=["2x2 unrolled", "general loop"])
def test_a_nan_anywhere_in_a_window_is_its_maximum(any_size, spy, where, kw):
    a = np.random.default_rng(5).standard_normal((1, 2, 6, 6)).astype(np.float32)
    rows, cols = zip(*where) if isinstance(where[0], tuple) else ([where[0]], [where[1]])
    a[0, 1, 2 + np.array(rows), 2 + np.array(cols)] = np.nan
    (y, idx, gx), (y0, idx0, gx0) = _both(a, np.ones(
        F.max_pool2d(shendu.tensor(a), **kw).shape, np.float32), **kw)
    assert spy and np.isnan(y).sum() >= 1
    np.testing.assert_array_equal(y, y0)
    np.testing.assert_array_equal(idx, idx0)
    np.testing.assert_array_equal(gx, gx0)
