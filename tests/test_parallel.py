"""shendu.parallel (blocks over threads) and the big-array paths of the ops that use it:
same results bit for bit whatever the threads and blocks, errors and NumPy error
settings carried across threads, and the accuracy of the float32 formulas (erf/erfc,
expm1/log1p, gelu) against float64 references.

The op tables' tests use small arrays, which never reach these paths.
"""
import math
import threading
import warnings

import numpy as np
import pytest

import shendu
from shendu import kernels, parallel

BIG = (613, 701)  # 429,713 elements: above the thresholds, rows not a power of two


@pytest.fixture(autouse=True)
def numpy_code_only():
    """These tests are about the NumPy code's blocks and threads: the compiled kernels
    (shendu.kernels, tests/test_kernels.py) stay out of the way."""
    with kernels.disabled():
        yield


@pytest.fixture
def threads():
    """Run a test body under several thread counts; restore the setting afterwards."""
    old = parallel.get_num_threads()
    yield
    parallel.set_num_threads(old)


def _serially(fn):
    """fn() with one thread and no blocks: the reference every path must equal."""
    old_threads, old_min = parallel.get_num_threads(), parallel.MIN_BLOCKED_ELEMENTS
    parallel.set_num_threads(1)
    parallel.MIN_BLOCKED_ELEMENTS = 10 ** 15
    try:
        return fn()
    finally:
        parallel.set_num_threads(old_threads)
        parallel.MIN_BLOCKED_ELEMENTS = old_min


# ------------------------------------------------------------------ the mechanism
@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("n,block", [(1_000_003, None), (1_000_003, 4096), (300_000, 7),
                                     (5, None), (0, None)])
def test_for_blocks_covers_every_unit_once(threads, n_threads, n, block):
    parallel.set_num_threads(n_threads)
    seen = np.zeros(n, np.int64)
    lock = threading.Lock()

    def fn(s, e):
        assert 0 <= s < e <= n
        with lock:
            seen[s:e] += 1

    parallel.for_blocks(fn, n, block=block)
    assert (seen == 1).all()


def test_for_blocks_uses_other_threads_for_big_work(threads):
    parallel.set_num_threads(2)
    names = set()
    lock = threading.Lock()

    def fn(s, e):
        with lock:
            names.add(threading.current_thread().name)
        threading.Event().wait(0.002)  # long enough for the pool thread to take a block

    parallel.for_blocks(fn, 2_000_000, block=50_000)
    assert threading.current_thread().name in names
    assert any(n.startswith("shendu-intra-op") for n in names)


def test_for_blocks_raises_a_worker_error(threads):
    parallel.set_num_threads(2)

    def fn(s, e):
        if s >= 500_000:
            raise ValueError(f"block {s}")

    with pytest.raises(ValueError, match="block"):
        parallel.for_blocks(fn, 1_000_000, block=100_000)


def test_numpy_error_settings_reach_the_threads(threads):
    parallel.set_num_threads(2)
    x = np.full(1_000_000, 100.0, np.float32)  # e^100 overflows float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="ignore"):
            assert np.isinf(parallel.elementwise(np.exp, x)).all()
        with np.errstate(over="raise"), pytest.raises(FloatingPointError):
            parallel.elementwise(lambda x: np.exp(x) * 2, x)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_elementwise_equals_the_plain_call_bit_for_bit(threads, n_threads):
    parallel.set_num_threads(n_threads)
    rng = np.random.default_rng(0)
    y = rng.standard_normal(BIG).astype(np.float32)
    g = rng.standard_normal(BIG).astype(np.float32)
    g0 = np.broadcast_to(np.float32(1.5), BIG)  # a sum's gradient: every stride 0

    def f(g, y):
        return g * (1 - y * y)

    for args in [(g, y), (g0, y), (2.0, y)]:
        np.testing.assert_array_equal(parallel.elementwise(f, *args), f(*args))
    np.testing.assert_array_equal(parallel.elementwise(np.tanh, y), np.tanh(y))
    a, b = parallel.elementwise(lambda y: (np.exp(y), y > 0), y)
    np.testing.assert_array_equal(a, np.exp(y))
    assert b.dtype == bool and (b == (y > 0)).all()
    # layouts it cannot split give the plain call: transposed, broadcast rows, Tensors
    np.testing.assert_array_equal(parallel.elementwise(f, g.T, y.T), f(g.T, y.T))
    row = np.broadcast_to(y[:1], BIG)
    np.testing.assert_array_equal(parallel.elementwise(f, row, y), f(row, y))
    t = shendu.tensor(y)
    assert isinstance(parallel.elementwise(lambda t: t * 2, t), shendu.Tensor)


@pytest.mark.parametrize("n_threads", [1, 2])
def test_rowwise_equals_the_plain_call_bit_for_bit(threads, n_threads):
    parallel.set_num_threads(n_threads)
    x = np.random.default_rng(1).standard_normal(BIG)

    def f(x):
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    np.testing.assert_array_equal(parallel.rowwise(f, x), f(x))
    x3 = x.reshape(613, 1, 701)
    np.testing.assert_array_equal(parallel.rowwise(f, x3), f(x3))


def test_num_threads_setting(threads, monkeypatch):
    parallel.set_num_threads(3)
    assert parallel.get_num_threads() == 3
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="set_num_threads: expected a positive integer"):
            parallel.set_num_threads(bad)
    monkeypatch.setenv("SHENDU_NUM_THREADS", "5")
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert parallel._default_num_threads() == 5
    monkeypatch.delenv("SHENDU_NUM_THREADS")
    assert parallel._default_num_threads() == 2


def test_tune_malloc_reports_whether_it_applied():
    assert parallel.tune_malloc() in (True, False)


# ------------------------------------------------------------------ the ops' big paths
OPS = {
    "exp": shendu.exp, "log": lambda x: shendu.log(shendu.abs(x) + 0.1), "tanh": shendu.tanh,
    "sigmoid": shendu.sigmoid, "expm1": shendu.expm1,
    "log1p": lambda x: shendu.log1p(shendu.abs(x)), "sin": shendu.sin, "erf": shendu.erf,
    "erfc": shendu.erfc, "gelu": shendu.gelu, "elu": shendu.elu, "selu": shendu.selu,
    "softplus": shendu.softplus, "silu": shendu.silu, "mish": shendu.mish,
    "softmax": lambda x: shendu.softmax(x, dim=-1),
    "log_softmax": lambda x: shendu.log_softmax(x, dim=-1),
    "softmax_dim0": lambda x: shendu.softmax(x, dim=0),
}


def _forward_backward(fn, a, g):
    x = shendu.tensor(a, requires_grad=True)
    y = fn(x)
    y.backward(shendu.tensor(g))
    return y.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("name", sorted(OPS))
def test_big_arrays_same_bits_for_any_threads_and_blocks(threads, monkeypatch, name):
    rng = np.random.default_rng(2)
    a = (3 * rng.standard_normal(BIG)).astype(np.float32)
    g = rng.standard_normal(BIG).astype(np.float32)
    want = _serially(lambda: _forward_backward(OPS[name], a, g))
    for n, min_blocked in [(1, 1), (2, parallel.MIN_BLOCKED_ELEMENTS)]:  # blocks, threads
        parallel.set_num_threads(n)
        monkeypatch.setattr(parallel, "MIN_BLOCKED_ELEMENTS", min_blocked)
        got = _forward_backward(OPS[name], a, g)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def _ulps(got, want):
    """Error in units of float32 spacing at the true value."""
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


def test_float32_expm1_log1p_within_a_few_ulps():
    x = np.concatenate([-np.geomspace(1e-30, 30, 20000), np.geomspace(1e-30, 80, 20000),
                        np.linspace(-5, 5, 20001)]).astype(np.float32)
    x64 = x.astype(np.float64)
    got = shendu.expm1(shendu.tensor(x)).numpy()
    assert got.dtype == np.float32
    assert _ulps(got, np.expm1(x64)).max() <= 5
    xl = x[x > -1]
    got = shendu.log1p(shendu.tensor(xl)).numpy()
    assert _ulps(got, np.log1p(xl.astype(np.float64))).max() <= 5
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45], np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        e = shendu.expm1(shendu.tensor(special)).numpy()
    np.testing.assert_array_equal(e, np.float32([0, 0, np.inf, -1, np.nan, 1e-45]))
    assert np.signbit(e[1])
    np.testing.assert_array_equal(shendu.log1p(shendu.tensor(special[[0, 2, 4, 5]])).numpy(),
                                  np.float32([0, np.inf, np.nan, 1e-45]))


def test_float32_erfc_relative_error():
    scipy_special = pytest.importorskip("scipy.special")
    x = np.concatenate([np.linspace(-10, 10, 200001), np.geomspace(1e-10, 3, 5000),
                        -np.geomspace(1e-10, 3, 5000)]).astype(np.float32)
    want = scipy_special.erfc(x.astype(np.float64))
    got = shendu.erfc(shendu.tensor(x)).numpy().astype(np.float64)
    normal = want > np.finfo(np.float32).tiny
    rel = np.abs(got - want)[normal] / want[normal]
    a = np.abs(x[normal])
    assert rel[a < 2].max() < 6e-7
    assert rel[a < 5].max() < 1.5e-6
    assert rel.max() < 5e-6
    got_erf = shendu.erf(shendu.tensor(x)).numpy().astype(np.float64)
    want_erf = scipy_special.erf(x.astype(np.float64))
    assert (np.abs(got_erf - want_erf) / np.maximum(np.abs(want_erf), 1e-30)).max() < 1e-6


def test_float32_gelu_and_its_slope_against_float64():
    x = np.linspace(-12, 12, 240001).astype(np.float32)
    t = shendu.tensor(x, requires_grad=True)
    y = shendu.gelu(t)
    y.sum().backward()
    x64 = x.astype(np.float64)
    cdf = np.array([0.5 * math.erfc(-v / math.sqrt(2)) for v in x64])
    want = x64 * cdf
    want_slope = cdf + x64 * np.exp(-0.5 * x64 * x64) / math.sqrt(2 * math.pi)
    got = y.detach().numpy().astype(np.float64)
    rel = np.abs(got - want) / np.maximum(np.abs(want), 1e-300)
    slope_err = np.abs(t.grad.numpy() - want_slope)
    # the left tail's error grows like x^2 * eps: erfc's own conditioning at -x/sqrt(2)
    for lo, hi, rtol in [(-12, -5, 2e-5), (-5, -2, 3e-6), (-2, 12, 1e-6)]:
        band = (x64 >= lo) & (x64 < hi) & (np.abs(want) > 1e-36)
        assert rel[band].max() < rtol, (lo, hi)
        assert (slope_err[band] <= rtol * np.abs(want_slope[band]) + 3e-7).all(), (lo, hi)
