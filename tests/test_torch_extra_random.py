"""Random draws under PyTorch's names (shendu/ops/random_extra.py and the Tensor's
in-place random fills): shapes, dtypes, moments within a few standard errors, seeding
reproducibility (shendu.manual_seed and shendu.Generator); and the helpers of
shendu/_torch_extras.py (print options, dtype rules, Generator, vmap...)."""
import numpy as np
import pytest

import shendu

N = 20000


def _close(value, expected, sd, k=5):
    assert abs(value - expected) < k * sd, (value, expected, sd)


def test_bernoulli_moments_shape_dtype_and_seed():
    p = shendu.full((N,), 0.3)
    shendu.manual_seed(1)
    a = shendu.bernoulli(p)
    assert a.shape == (N,) and a.dtype == p.dtype
    assert set(np.unique(a.numpy())) <= {0.0, 1.0}
    _close(a.numpy().mean(), 0.3, np.sqrt(0.21 / N))
    shendu.manual_seed(1)
    np.testing.assert_array_equal(shendu.bernoulli(p).numpy(), a.numpy())
    b = shendu.bernoulli(shendu.zeros(N, dtype=shendu.float64), 0.8)
    assert b.dtype == shendu.float64
    _close(b.numpy().mean(), 0.8, np.sqrt(0.16 / N))
    with pytest.raises(RuntimeError, match="bernoulli"):
        shendu.bernoulli(shendu.tensor([1.5]))


def test_multinomial_frequencies_and_without_replacement():
    w = shendu.tensor([1.0, 2.0, 0.0, 7.0])
    s = shendu.multinomial(w, N, replacement=True)
    assert s.shape == (N,) and s.dtype == shendu.int64
    freq = np.bincount(s.numpy(), minlength=4) / N
    for f, p in zip(freq, [0.1, 0.2, 0.0, 0.7]):
        _close(f, p, np.sqrt(p * (1 - p) / N) + 1e-12)
    rows = shendu.multinomial(shendu.ones(50, 6), 6)
    assert rows.shape == (50, 6)
    assert all(sorted(r) == list(range(6)) for r in rows.numpy().tolist())
    with pytest.raises(RuntimeError, match="without replacement"):
        shendu.multinomial(w, 4)
    with pytest.raises(RuntimeError, match="non-negative"):
        shendu.multinomial(shendu.tensor([1.0, -1.0]), 1)


def test_poisson_binomial_moments():
    rate = shendu.full((N,), 4.0)
    p = shendu.poisson(rate).numpy()
    assert p.dtype == np.float32 and (p == np.round(p)).all()
    _close(p.mean(), 4.0, np.sqrt(4.0 / N))
    _close(p.var(), 4.0, 4.0 * np.sqrt(2.0 / N) * 3)
    b = shendu.binomial(shendu.full((N,), 10.0), shendu.full((N,), 0.25)).numpy()
    assert b.min() >= 0 and b.max() <= 10
    _close(b.mean(), 2.5, np.sqrt(10 * 0.25 * 0.75 / N))


def test_randint_like_range_dtype_and_generator():
    x = shendu.zeros(N, dtype=shendu.int32)
    r = shendu.randint_like(x, 3, 7)
    assert r.dtype == shendu.int32 and r.shape == (N,)
    assert set(np.unique(r.numpy())) == {3, 4, 5, 6}
    assert set(np.unique(shendu.randint_like(x, 2).numpy())) == {0, 1}
    assert shendu.randint_like(shendu.zeros(3), 5, dtype=shendu.int64).dtype == shendu.int64
    a = shendu.randint_like(x, 100, generator=shendu.Generator().manual_seed(4))
    b = shendu.randint_like(x, 100, generator=shendu.Generator().manual_seed(4))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    g = shendu.Generator().manual_seed(4)
    state = g.get_state()
    c = shendu.poisson(shendu.ones(5), g)
    g.set_state(state)
    np.testing.assert_array_equal(shendu.poisson(shendu.ones(5), g).numpy(), c.numpy())
    assert g.initial_seed() == 4
    with pytest.raises(TypeError, match="Generator"):
        shendu.bernoulli(shendu.ones(2), generator=3)


@pytest.mark.parametrize("name,args,mean,var", [
    ("exponential_", (2.0,), 0.5, 0.25), ("geometric_", (0.25,), 4.0, 12.0),
    ("log_normal_", (0.0, 0.5), np.exp(0.125), (np.exp(0.25) - 1) * np.exp(0.25)),
    ("bernoulli_", (0.4,), 0.4, 0.24), ("random_", (0, 10), 4.5, 8.25),
])
def test_in_place_random_fills(name, args, mean, var):
    x = shendu.zeros(N, dtype=shendu.float64)
    assert getattr(x, name)(*args) is x
    v = x.numpy()
    _close(v.mean(), mean, np.sqrt(var / N))


def test_cauchy_and_random_defaults_and_global_seed():
    x = shendu.zeros(N, dtype=shendu.float64).cauchy_(1.0, 0.5)
    _close(np.median(x.numpy()), 1.0, 0.5 * np.pi / 2 / np.sqrt(N))
    r = shendu.zeros(100, dtype=shendu.int64).random_(5)
    assert r.numpy().min() >= 0 and r.numpy().max() < 5
    shendu.manual_seed(3)
    s1 = shendu.get_rng_state()
    u = shendu.zeros(4).exponential_()
    shendu.set_rng_state(s1)
    np.testing.assert_array_equal(shendu.zeros(4).exponential_().numpy(), u.numpy())
    assert shendu.initial_seed() == 3
    assert isinstance(shendu.seed(), int)


def test_asarray_scalar_tensor_empty_strided():
    a = np.arange(3.0, dtype=np.float32)
    t = shendu.asarray(a)
    a[0] = 7.0
    assert t.numpy()[0] == 7.0                      # shares memory
    c = shendu.asarray(a, copy=True)
    a[0] = 1.0
    assert c.numpy()[0] == 7.0                      # copied
    assert shendu.asarray([1, 2], dtype=shendu.float64).dtype == shendu.float64
    assert shendu.asarray(a, requires_grad=True).requires_grad
    s = shendu.scalar_tensor(3)
    assert s.shape == () and s.dtype == shendu.float32 and s.item() == 3.0
    assert shendu.empty_strided((2, 3), (3, 1)).shape == (2, 3)
    with pytest.raises(RuntimeError, match="same length"):
        shendu.empty_strided((2, 3), (1,))
    with pytest.raises(RuntimeError, match="non-negative"):
        shendu.hann_window(-1)


# --------------------------------------------------------------- _torch_extras helpers
def test_print_options_change_and_restore_the_repr():
    x = shendu.tensor([1.23456, 2.0])
    try:
        shendu.set_printoptions(precision=2)
        assert repr(x) == "tensor([1.23, 2.00])"
        shendu.set_printoptions(sci_mode=True)
        assert "e+00" in repr(x)
        shendu.set_printoptions(profile="default", threshold=5, edgeitems=1)
        assert "..." in repr(shendu.arange(10.0))
        with pytest.raises(ValueError, match="profile"):
            shendu.set_printoptions(profile="long")
    finally:
        shendu.set_printoptions(profile="default")
    assert repr(x) == "tensor([1.2346, 2.0000])"
    assert "..." not in repr(shendu.arange(10.0))


def test_type_predicates_and_dtype_rules():
    f, i = shendu.ones(2), shendu.ones(2, dtype=shendu.int64)
    assert shendu.is_tensor(f) and not shendu.is_tensor(np.ones(2))
    assert shendu.is_floating_point(f) and not shendu.is_floating_point(i)
    assert not shendu.is_complex(f) and shendu.is_signed(i) and not shendu.is_storage(f)
    assert shendu.is_same_size(f, i) and not shendu.is_same_size(f, shendu.ones(3))
    assert shendu.typename(f) == "shendu.FloatTensor" and shendu.typename(i) == "shendu.LongTensor"
    assert shendu.typename(3) == "int"
    assert shendu.promote_types(shendu.int64, shendu.float32) == shendu.float32
    assert shendu.promote_types(shendu.int32, shendu.int64) == shendu.int64
    assert shendu.result_type(i, 2.5) == shendu.float32
    assert shendu.result_type(f, shendu.ones(1, dtype=shendu.float64)) == shendu.float64
    assert shendu.can_cast(shendu.int64, shendu.float32) and not shendu.can_cast(shendu.float32, shendu.int64)
    assert shendu.finfo(shendu.float32).eps == np.finfo(np.float32).eps
    assert shendu.iinfo(shendu.int8).max == 127
    assert shendu.Size([2, 3]).numel() == 6 and repr(shendu.Size([2, 3])) == "shendu.Size([2, 3])"


def test_switches_are_recorded():
    shendu.use_deterministic_algorithms(True, warn_only=True)
    assert shendu.are_deterministic_algorithms_enabled()
    assert shendu.is_deterministic_algorithms_warn_only_enabled()
    assert shendu.get_deterministic_debug_mode() == 1
    shendu.set_deterministic_debug_mode("default")
    assert not shendu.are_deterministic_algorithms_enabled()
    n = shendu.get_num_threads()
    shendu.set_num_threads(1)
    assert shendu.get_num_threads() == 1
    shendu.set_num_threads(n)
    with pytest.raises(ValueError, match="positive"):
        shendu.set_num_threads(0)
    shendu.set_float32_matmul_precision("high")
    assert shendu.get_float32_matmul_precision() == "high"
    shendu.set_float32_matmul_precision("highest")
    with pytest.raises(ValueError):
        shendu.set_float32_matmul_precision("low")
    shendu.set_default_device("cpu")
    with pytest.raises(RuntimeError, match="device="):
        shendu.set_default_device("cuda")
    assert shendu.set_flush_denormal(True) is False


def test_inference_mode_compile_vmap_cond_while_loop():
    w = shendu.ones(2, requires_grad=True)
    with shendu.inference_mode():
        assert shendu.is_inference_mode_enabled()
        y = w * 2
    assert not y.requires_grad and shendu.is_inference(y)
    with shendu.inference_mode(False):
        assert (w * 2).requires_grad

    @shendu.inference_mode()
    def f(v):
        return v * 3
    assert not f(w).requires_grad
    model = shendu.nn.Linear(2, 2)
    assert shendu.compile(model) is model and shendu.compile(mode="max-autotune")(model) is model
    x = shendu.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    out = shendu.vmap(lambda row, s: (row * s).sum(), in_dims=(0, None))(x, shendu.tensor(2.0))
    np.testing.assert_allclose(out.detach().numpy(), [2.0, 10.0, 18.0])
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 2), 2.0))
    assert shendu.cond(shendu.tensor(True), lambda a: a + 1, lambda a: a - 1, (1,)) == 2
    assert shendu.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0)) == (4, 6)
