"""shendu.kernels on numba's threads: + - * / and negation of big float32 arrays give
NumPy's bits on any number of threads, fall back to NumPy for everything else, and stay
off where threads cannot help (one thread, small arrays, a forked child, a threading
layer that does not spin).

Skipped without numba (``pip install "shendu[jit]"``).
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import shendu
from shendu import kernels, parallel

numba = pytest.importorskip("numba", reason='numba is not installed: the compiled kernels '
                            'need pip install "shendu[jit]"')

SPREAD_MIN = 64 * 1024  # the tests spread smaller arrays than shendu does, to run fast
N = 200_005  # odd, a multiple of 5, big enough to spread
assert N > 3 * SPREAD_MIN


@pytest.fixture
def small_spread(monkeypatch):
    monkeypatch.setattr(kernels, "SPREAD_MIN_ELEMENTS", SPREAD_MIN)


@pytest.fixture
def two_threads(small_spread):
    """Two threads for shendu, and numba's threads usable here (else skip: the machine
    has no OpenMP/TBB for numba, so the kernels rightly stay on one thread)."""
    old = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:
        if not kernels._check_layer():
            pytest.skip(f"numba's threading layer here is {numba.threading_layer()!r}, "
                        "not omp/tbb: the kernels stay on one thread")
        yield
    finally:
        parallel.set_num_threads(old)


@pytest.fixture
def calls(monkeypatch):
    """Count the calls of every compiled arithmetic kernel, to prove the kernel ran."""
    seen = []
    for name in ["add_aa", "add_as", "sub_aa", "sub_as", "sub_sa", "mul_aa", "mul_as",
                 "div_aa", "div_as", "div_sa", "neg_a", "mul_grads"]:
        real = getattr(kernels._kernels(), name)
        monkeypatch.setattr(kernels._compiled, name,
                            lambda *a, _real=real, _name=name: (seen.append(_name), _real(*a)))
    return seen


def _values(seed, n=N):
    """Normal numbers plus the IEEE corner cases: +-0, +-inf, NaN, subnormals, huge."""
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(n) * 10 ** rng.uniform(-3, 3, n)).astype(np.float32)
    special = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -3e-39, 3e38, -3e38],
                       np.float32)
    a[rng.integers(0, n, 400)] = rng.choice(special, 400)
    return a


def _assert_same_bits(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape
    nan = np.isnan(want)
    np.testing.assert_array_equal(np.isnan(got), nan)  # NaN payloads may differ
    np.testing.assert_array_equal(got[~nan].view(np.uint32), want[~nan].view(np.uint32))


OPS = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}
SCALARS = [2.5, 0.1, -3, 16777217, 0.0, float("inf"), np.float32(0.7)]


@pytest.mark.parametrize("name", sorted(OPS))
def test_array_with_array_gives_numpy_bits(two_threads, calls, name):
    a, b = _values(0).reshape(-1, 5), _values(1).reshape(-1, 5)
    with np.errstate(all="ignore"):
        _assert_same_bits(getattr(kernels, name)(a, b), OPS[name](a, b))
    assert calls == [f"{name}_aa"]


@pytest.mark.parametrize("name", sorted(OPS))
@pytest.mark.parametrize("s", SCALARS, ids=repr)
def test_array_with_number_gives_numpy_bits_both_ways(two_threads, calls, name, s):
    """Python numbers are weak (NEP 50): the result stays float32, as in NumPy."""
    a = _values(2)
    with np.errstate(all="ignore"):
        _assert_same_bits(getattr(kernels, name)(a, s), OPS[name](a, s))
        _assert_same_bits(getattr(kernels, name)(s, a), OPS[name](s, a))
    assert len(calls) == 2


@pytest.mark.parametrize("name", sorted(OPS))
def test_zero_d_and_broadcast_one_value_arrays_act_as_numbers(two_threads, calls, name):
    a = _values(3)
    one = np.float32(1.75)
    for s in (np.array(one), np.broadcast_to(np.array(one), a.shape)):
        with np.errstate(all="ignore"):
            _assert_same_bits(getattr(kernels, name)(a, s), OPS[name](a, s))
            _assert_same_bits(getattr(kernels, name)(s, a), OPS[name](s, a))
    assert len(calls) == 4


def test_negation_and_both_product_gradients(two_threads, calls):
    g, a, b = _values(4), _values(5), _values(6)
    _assert_same_bits(kernels.neg(a), -a)
    with np.errstate(all="ignore"):
        ga, gb = kernels.mul_grads(g, a, b)
        _assert_same_bits(ga, g * b)
        _assert_same_bits(gb, g * a)
    assert calls == ["neg_a", "mul_grads"]


@pytest.mark.parametrize("a, b", [
    (np.ones(N), np.ones(N)),                                      # float64: NumPy
    (np.ones(N, np.float32), np.ones(N)),                          # mixed dtypes
    (np.ones((N, 2), np.float32), np.ones(2, np.float32)),         # real broadcasting
    (np.ones((2, N), np.float32)[:, ::2], 1.0),                    # not contiguous
    (np.ones(100, np.float32), 2.0),                               # small
    (np.ones(N, np.float32), np.float64(2.0)),                     # a NumPy float64 scalar
    (np.ones(N, np.float32), np.array(2.0)),                       # a 0-d float64 array
    (np.ones(N, np.float32), True),                                # bool
    (np.ones(N, np.int32), 2),                                     # integers
    (np.ones(N, np.float32), np.broadcast_to(np.float32(2), (1, N))),  # result (1, N)
    (np.broadcast_to(np.float32(3), (N,)), np.broadcast_to(np.float32(2), (N,))),
])
def test_everything_else_is_numpy(two_threads, calls, a, b):
    for name, f in OPS.items():
        got = getattr(kernels, name)(a, b)
        want = f(a, b)
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert calls == []


def test_one_thread_small_disabled_and_forked_do_not_spread(two_threads, monkeypatch):
    assert kernels.spread(N)
    assert not kernels.spread(SPREAD_MIN - 1)
    with kernels.disabled():
        assert not kernels.spread(N)
    parallel.set_num_threads(1)
    assert not kernels.spread(N)
    parallel.set_num_threads(2)
    monkeypatch.setattr(kernels, "_forked", True)
    assert not kernels.spread(N)


def test_a_threading_layer_that_does_not_spin_is_not_used(two_threads, monkeypatch):
    """numba's workqueue threads sleep between ops: waking them costs more than a
    memory-bound op takes, so the kernels stay on the calling thread."""
    monkeypatch.setattr(kernels, "_spread_ok", None)
    monkeypatch.setattr(numba, "threading_layer", lambda: "workqueue")
    assert not kernels.spread(N)
    a = np.ones(N, np.float32)
    np.testing.assert_array_equal(kernels.mul(a, 3.0), np.full(N, 3, np.float32))


def test_autograd_through_big_arithmetic_gives_numpy_bits_on_any_thread_count(small_spread):
    """The chain of benchmarks/ops.py without exp/tanh (whose kernels differ from NumPy
    in the last bits): forward and gradient, on 1 and 2 threads and with NumPy only."""
    a = np.random.default_rng(7).standard_normal(N).astype(np.float32)

    def run():
        x = shendu.tensor(a, requires_grad=True)
        y = ((x * 2.0 + 1.0) * x - (-x * x) / (x * x + 1.0) - 3.0 / (x * x + 2.0)).sum()
        y.backward()
        return y.item(), x.grad.numpy()

    old = parallel.get_num_threads()
    try:
        results = []
        for threads in (1, 2):
            parallel.set_num_threads(threads)
            results.append(run())
        with kernels.disabled():
            results.append(run())
    finally:
        parallel.set_num_threads(old)
    for y, grad in results[1:]:
        assert y == results[0][0]
        _assert_same_bits(grad, results[0][1])


def test_double_backward_through_big_products(two_threads):
    """create_graph: the gradients are Tensors, which take the plain operators."""
    a = np.random.default_rng(8).standard_normal(N).astype(np.float32)
    x = shendu.tensor(a, requires_grad=True)
    (g,) = shendu.autograd.grad((x * x * x).sum(), [x], create_graph=True)
    (h,) = shendu.autograd.grad(g.sum(), [x])
    np.testing.assert_allclose(g.detach().numpy(), 3 * a * a, rtol=1e-6)
    np.testing.assert_allclose(h.numpy(), 6 * a, rtol=1e-6, atol=1e-6)


def test_a_forked_child_runs_the_kernels_on_one_thread():
    """GNU OpenMP does not survive fork(): without the at-fork switch, the child's first
    big multiply would abort the process."""
    script = textwrap.dedent(f"""
        import os, numpy as np
        from shendu import kernels, parallel
        parallel.set_num_threads(2)
        kernels.SPREAD_MIN_ELEMENTS = {SPREAD_MIN}
        a = np.arange({N}, dtype=np.float32)
        assert (kernels.mul(a, 2.0) == a * 2).all()     # the parent starts the threads
        pid = os.fork()
        if pid == 0:
            ok = not kernels.spread(a.size) and (kernels.mul(a, a) == a * a).all()
            os._exit(0 if ok else 3)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, status
        assert kernels.spread(a.size) or not kernels._spread_ok
        print("ok")
        """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=300)
    assert out.stdout.strip() == "ok", out.stderr


@pytest.mark.parametrize("name, inputs", [
    ("exp_flat", 1), ("tanh_flat", 1), ("tanh_grad_flat", 2), ("softmax_rows", 1),
    ("softmax_grad_rows", 2), ("log_softmax_rows", 1), ("log_softmax_grad_rows", 2)])
def test_threaded_exp_tanh_softmax_kernels_give_the_one_thread_bits(
        two_threads, monkeypatch, name, inputs):
    """Big arrays take the ``prange`` version (spied on), which runs the one-thread
    kernel on chunks of the flat array or of whole rows: the same bits."""
    rng = np.random.default_rng(9)
    arrays = [(3 * rng.standard_normal((331, 617))).astype(np.float32)
              for _ in range(inputs)]
    arrays[-1][5, :7] = [np.inf, -np.inf, np.nan, 100.0, -100.0, 0.0, -0.0]
    flat = name.endswith("_flat")
    want = np.empty_like(arrays[0])
    serial = getattr(kernels._kernels(), name)
    serial(*(a.reshape(-1) if flat else a for a in arrays), want.reshape(-1) if flat else want)
    seen = []
    par = getattr(kernels._compiled, "par_" + name)
    monkeypatch.setattr(kernels._compiled, "par_" + name,
                        lambda *a: (seen.append(1), par(*a)))
    public = {"exp_flat": kernels.exp, "tanh_flat": kernels.tanh,
              "tanh_grad_flat": kernels.tanh_grad, "softmax_rows": kernels.softmax,
              "softmax_grad_rows": kernels.softmax_grad,
              "log_softmax_rows": kernels.log_softmax,
              "log_softmax_grad_rows": kernels.log_softmax_grad}[name]
    with np.errstate(all="ignore"):
        got = public(*arrays, out=np.empty_like(want))
    assert seen == [1]
    _assert_same_bits(got, want)


def test_no_threading_layer_at_all_means_one_thread(small_spread, monkeypatch):
    """No libgomp and no TBB (numba then raises on the first parallel launch, or falls
    back to workqueue): the kernels run on the calling thread, the ops still work."""
    def no_layer(*args):
        raise ValueError("No threading layer could be loaded.")

    monkeypatch.setattr(kernels, "_spread_ok", None)
    monkeypatch.setattr(kernels._kernels(), "neg_a", no_layer)
    old = parallel.get_num_threads()
    parallel.set_num_threads(2)
    try:
        assert not kernels.spread(N)
        a = np.arange(N, dtype=np.float32)
        np.testing.assert_array_equal(kernels.neg(a), -a)
        np.testing.assert_array_equal(shendu.exp(shendu.tensor(a[:1000] / N)).numpy(),
                                      np.exp(a[:1000] / N))
    finally:
        parallel.set_num_threads(old)


def test_python_threads_may_run_big_ops_at_the_same_time(two_threads, calls):
    """A user's own threads (a data pipeline, a server) each running big ops: every
    thread gets its own OpenMP team, and the right results."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal(N).astype(np.float32) for _ in range(4)]

    def work(a):
        out = a
        for _ in range(20):
            out = kernels.sub(kernels.mul(out, 0.5), a)
        return out

    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(work, arrays))
    assert calls.count("mul_as") == calls.count("sub_aa") == 80
    with kernels.disabled():
        want = [work(a) for a in arrays]
    for g, w in zip(got, want):
        _assert_same_bits(g, w)
