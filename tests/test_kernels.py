"""shendu.kernels: the numba-compiled softmax / log_softmax rows and exp / tanh agree with
the NumPy code (the reference, tested everywhere else) and with PyTorch, are within 1.5
units in the last place of float64 references, keep inf/NaN semantics, give the same
bits for any number of threads, and can be switched off.

Skipped without numba (``pip install "shendu[jit]"``); the NumPy code is then all there is.
"""
import subprocess
import sys

import numpy as np
import pytest

import shendu
from shendu import kernels, parallel

pytest.importorskip("numba", reason='numba is not installed: the compiled kernels need '
                    'pip install "shendu[jit]"')


@pytest.fixture
def small_too(monkeypatch):
    """Let the kernels take arrays of any size, so odd small shapes are tested too."""
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 1)
    assert kernels.enabled()


OPS = {"softmax": shendu.softmax, "log_softmax": shendu.log_softmax}
SHAPES = [(1, 1), (3, 1), (5, 7), (2, 3, 33), (4, 1000), (64, 257)]


def _run(op, a, g):
    x = shendu.tensor(a, requires_grad=True)
    y = OPS[op](x, dim=-1)
    y.backward(shendu.tensor(g))
    return y.detach().numpy(), x.grad.numpy()


def _assert_close(op, y, y0):
    """softmax: 2e-6 relative. log_softmax = (x - max) - c with c = log(sum(...)) in
    [0, log n]: a few float32 units of c absolute (the kernel sums in float64, NumPy in
    float32 pairs, so near-zero log-probabilities differ in c's last bits)."""
    atol = 1e-30
    if op == "log_softmax":
        c = np.maximum(1, -y0.max(axis=-1, keepdims=True))
        atol = 4 * np.finfo(np.float32).eps * c
    assert (np.abs(y - y0) <= atol + 2e-6 * np.abs(y0)).all(), np.abs(y - y0).max()


def _both(op, a, g):
    got = _run(op, a, g)
    with kernels.disabled():
        want = _run(op, a, g)
    return got, want


@pytest.mark.parametrize("op", sorted(OPS))
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("scale", [1.0, 30.0])
def test_agrees_with_numpy_code(small_too, op, shape, scale):
    rng = np.random.default_rng(sum(shape))
    a = (scale * rng.standard_normal(shape)).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    (y, gx), (y0, gx0) = _both(op, a, g)
    assert y.dtype == gx.dtype == np.float32
    _assert_close(op, y, y0)
    # log_softmax's gradient g - p * sum(g) cancels: compare relative to the terms' size
    tol = 4e-7 * (np.abs(g).sum(-1, keepdims=True) + 1)
    assert (np.abs(gx - gx0) <= tol).all()


def test_big_array_takes_the_kernel_and_agrees():
    rng = np.random.default_rng(0)
    a = (5 * rng.standard_normal((300, 500))).astype(np.float32)
    assert a.size >= kernels.MIN_ELEMENTS and kernels.accepts(a, a)
    for op in OPS:
        (y, gx), (y0, gx0) = _both(op, a, rng.standard_normal(a.shape).astype(np.float32))
        _assert_close(op, y, y0)
        np.testing.assert_allclose(gx, gx0, rtol=1e-4, atol=2e-5)


INF, NAN = np.inf, np.nan
SPECIAL_ROWS = [
    [0.0, -INF, 1.0, -INF],      # masked positions: probability exactly 0
    [-INF, -INF, -INF, -INF],    # everything masked: nan, as PyTorch
    [1.0, INF, 2.0, 3.0],        # +inf: nan
    [1.0, NAN, 2.0, 3.0],        # nan anywhere: nan everywhere
    [NAN, 1.0, 2.0, 3.0],
    [1e4, -1e4, 0.0, 1e4],       # huge logits: no overflow
    [0.0, -80.0, -87.5, -150.0],  # underflow towards 0
    [3.0, 3.0, 3.0, 3.0],
]


@pytest.mark.parametrize("op", sorted(OPS))
def test_inf_nan_and_huge_logits_as_numpy_code(small_too, op):
    a = np.array(SPECIAL_ROWS, np.float32)
    g = np.ones_like(a)
    with np.errstate(all="ignore"):
        (y, gx), (y0, gx0) = _both(op, a, g)
    np.testing.assert_allclose(y, y0, rtol=2e-6, atol=1e-37)
    np.testing.assert_allclose(gx, gx0, rtol=2e-6, atol=1e-6)
    if op == "softmax":
        assert y[0, 1] == 0 and y[0, 3] == 0
        assert np.isnan(y[1:5]).all() and np.isfinite(y[5:]).all()


def test_exp_within_one_ulp():
    from shendu import _jit_kernels as jk
    z = np.concatenate([np.linspace(-87, 88, 1_000_001), [0.0, -1e-30, 1e-30]]).astype(
        np.float32)
    mant, bits = np.empty_like(z), np.empty(z.size, np.int32)
    jk._exp_parts(z, np.float32(0), mant, bits)
    got = mant.astype(np.float64) * bits.view(np.float32)
    want = np.exp(z.astype(np.float64))
    ulps = np.abs(got - want) / np.spacing(want.astype(np.float32))
    assert ulps.max() <= 1.5
    assert got[-3] == 1.0


def _ulps(got, x, f64):
    want = f64(x.astype(np.float64))
    spacing = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    return np.abs(got.astype(np.float64) - want) / spacing


EDGES = [np.inf, -np.inf, np.nan, 0.0, -0.0, 88.0, 88.5, 88.72, 88.73, 100.0, -87.3, -87.4,
         -103.9, -104.0, 0.625, -0.625, 0.6249999, 1e-30, -1e-30]


@pytest.mark.parametrize("n", [1, 7, 2047, 2049, 5000])  # around the 2048-element chunks
@pytest.mark.parametrize("op", ["exp", "tanh"])
def test_elementwise_kernels_at_edges_and_chunk_boundaries(small_too, op, n):
    rng = np.random.default_rng(n)
    x = np.concatenate([EDGES, 20 * rng.standard_normal(n)]).astype(np.float32)[:n + 19]
    with np.errstate(all="ignore"):
        got = getattr(shendu, op)(shendu.tensor(x)).numpy()
        with kernels.disabled():
            want = getattr(shendu, op)(shendu.tensor(x)).numpy()
    assert got.dtype == np.float32 and got.shape == x.shape
    np.testing.assert_allclose(got, want, rtol=3e-7, atol=0)  # inf, nan, 0 exactly
    assert (np.signbit(got) == np.signbit(want)).all()        # -0.0 stays -0.0


@pytest.mark.parametrize("op, f64, lo, hi", [("exp", np.exp, -87.3, 88.72),
                                             ("tanh", np.tanh, -12.0, 12.0)])
def test_elementwise_kernels_within_1_5_ulps(op, f64, lo, hi):
    x = np.concatenate([np.linspace(lo, hi, 1_000_001), np.geomspace(1e-30, 1, 20001),
                        -np.geomspace(1e-30, 1, 20001)]).astype(np.float32)
    assert kernels.accepts(x)
    got = getattr(shendu, op)(shendu.tensor(x)).numpy()
    assert _ulps(got, x, f64).max() <= 1.5


def test_tanh_gradient_kernel(small_too):
    rng = np.random.default_rng(5)
    a, g = rng.standard_normal((2, 3001)).astype(np.float32)
    x = shendu.tensor(a, requires_grad=True)
    shendu.tanh(x).backward(shendu.tensor(g))
    y = np.tanh(a.astype(np.float64))
    np.testing.assert_allclose(x.grad.numpy(), g * (1 - y * y), rtol=2e-6, atol=1e-7)


def test_same_bits_for_any_number_of_threads():
    rng = np.random.default_rng(1)
    a = (4 * rng.standard_normal((701, 613))).astype(np.float32)
    g = rng.standard_normal(a.shape).astype(np.float32)
    old = parallel.get_num_threads()
    try:
        runs = []
        for n in (1, 2, 3):
            parallel.set_num_threads(n)
            runs.append([r for op in OPS for r in _run(op, a, g)]
                        + [shendu.exp(shendu.tensor(a)).numpy(),
                           shendu.tanh(shendu.tensor(a)).numpy()])
    finally:
        parallel.set_num_threads(old)
    for other in runs[1:]:
        for got, want in zip(other, runs[0]):
            np.testing.assert_array_equal(got, want)


def test_only_float32_c_contiguous_numpy_arrays_of_one_shape():
    a = np.zeros((256, 256), np.float32)
    assert kernels.accepts(a, a)
    assert not kernels.accepts(a.astype(np.float64))       # float64: the NumPy code
    assert not kernels.accepts(np.asfortranarray(a))
    assert not kernels.accepts(a[:, ::2].copy()[:10])      # too small
    assert not kernels.accepts(a, a[:128])
    with kernels.disabled():
        assert not kernels.enabled() and not kernels.accepts(a)
    assert kernels.enabled()


def test_softmax_along_another_axis_and_float64_use_numpy_code(small_too):
    rng = np.random.default_rng(3)
    a = rng.standard_normal((6, 5, 4)).astype(np.float32)
    y = shendu.softmax(shendu.tensor(a), dim=1).numpy()
    np.testing.assert_allclose(y.sum(1), 1, rtol=1e-6)
    y64 = shendu.softmax(shendu.tensor(a.astype(np.float64)), dim=-1).numpy()
    assert y64.dtype == np.float64


def test_set_enabled_and_environment_switch(monkeypatch):
    kernels.set_enabled(False)
    try:
        assert not kernels.enabled()
    finally:
        kernels.set_enabled(True)
    assert kernels.enabled()
    monkeypatch.setattr(kernels, "_available", False)
    with pytest.raises(ImportError, match=r"pip install \"shendu\[jit\]\""):
        kernels.set_enabled(True)
    out = subprocess.run([sys.executable, "-c", "from shendu import kernels; "
                          "print(kernels.enabled(), kernels.available())"],
                         env={"SHENDU_JIT": "0", "PATH": ""}, capture_output=True, text=True)
    assert out.stdout.split() == ["False", "True"], out.stderr


@pytest.mark.conformance
@pytest.mark.parametrize("op", ["exp", "tanh"])
def test_elementwise_conformance_with_torch_on_a_big_array(op):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                                "suite needs `pip install torch==2.13.0`")
    a = (4 * np.random.default_rng(6).standard_normal((300, 400))).astype(np.float32)
    g = np.random.default_rng(7).standard_normal(a.shape).astype(np.float32)
    x = shendu.tensor(a, requires_grad=True)
    y = getattr(shendu, op)(x)
    y.backward(shendu.tensor(g))
    xt = torch.tensor(a, requires_grad=True)
    yt = getattr(torch, op)(xt)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.conformance
@pytest.mark.parametrize("op", sorted(OPS))
def test_conformance_with_torch_on_a_big_array(op):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                                "suite needs `pip install torch==2.13.0`")
    rng = np.random.default_rng(4)
    a = (3 * rng.standard_normal((512, 333))).astype(np.float32)
    g = rng.standard_normal(a.shape).astype(np.float32)
    y, gx = _run(op, a, g)
    xt = torch.tensor(a, requires_grad=True)
    yt = getattr(torch, op)(xt, dim=-1)
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gx, xt.grad.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_row_kernels_may_write_in_place(small_too, name):
    a = np.array(SPECIAL_ROWS + [[0.5, 1.5, -2.0, 7.0]], np.float32)
    want = getattr(kernels, name)(a, np.empty_like(a))
    b = a.copy()
    with np.errstate(all="ignore"):
        got = getattr(kernels, name)(b, b)
    assert got is b
    np.testing.assert_array_equal(got, want)


def test_a_numba_that_fails_to_load_falls_back_to_numpy_code(monkeypatch):
    """numba installed but broken (say, too old for this NumPy): one warning, then the
    NumPy code; an op never fails because of the kernels."""
    import builtins
    real_import = builtins.__import__

    def broken(name, *args, **kwargs):
        if name == "_jit_kernels" or name.endswith("._jit_kernels") or (
                args and args[2] and "_jit_kernels" in args[2]):
            raise ImportError("Numba needs NumPy 2.3 or less")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(kernels, "_compiled", None)
    monkeypatch.setattr(kernels, "_enabled", True)
    monkeypatch.setattr(kernels, "_available", True)
    monkeypatch.delitem(sys.modules, "shendu._jit_kernels")
    monkeypatch.setattr(builtins, "__import__", broken)
    a = np.random.default_rng(8).standard_normal((300, 200)).astype(np.float32)
    with pytest.warns(RuntimeWarning, match="failed to load"):
        y = shendu.softmax(shendu.tensor(a), dim=-1).numpy()
    assert not kernels.enabled() and not kernels.available()
    np.testing.assert_allclose(y.sum(-1), 1, rtol=1e-5)
