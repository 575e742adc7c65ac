"""shendu.keras.ops against real Keras 3.15.1 (torch backend): the outputs and dtypes of
tests/keras_ops_cases.py were recorded by tests/data/make_keras_ops_expected.py into
tests/data/keras_ops_expected.json (Keras is not needed here). Gradients through the ops
are checked by float64 central differences (shendu.autograd.gradcheck)."""
import json
import os

import numpy as np
import pytest

import shendu
from shendu.autograd import gradcheck
from shendu.keras import ops, random
from shendu.keras.ops._coverage import NOT_COVERED

from keras_ops_cases import CASES, GRAD_CASES

_HERE = os.path.dirname(__file__)
with open(os.path.join(_HERE, "data", "keras_ops_expected.json")) as f:
    EXPECTED = json.load(f)["cases"]


# Where Keras 3.15.1 on its torch backend gives something else, on purpose here:
DTYPE_DIFFERENCES = {
    "floor_divide": "Keras turns a NumPy int64 array into int32; shendu keeps NumPy's dtype",
    "top_k": "the torch backend returns int64 indices; shendu returns int32 (the TF/JAX dtype)",
}
VALUE_DIFFERENCES = {
    # "same" padding: the torch backend pads with zeros and counts them at uneven borders;
    # shendu averages over the real pixels only, as TensorFlow and Keras's JAX backend do
    ("average_pool", 0),
    # Keras's torch sparsemax rows do not sum to 1 (a bug there); checked by its sum below
    ("sparsemax", 0),
}


def _fn(name):
    obj = ops
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("i", range(len(CASES)), ids=[f"{i}-{c[0]}" for i, c in enumerate(CASES)])
def test_matches_keras(i):
    name, args, kwargs = CASES[i]
    exp = EXPECTED[i]
    assert exp["name"] == name
    if name in NOT_COVERED:  # recorded from Keras, not provided here: the error says why
        with pytest.raises(AttributeError, match="not available in shendu.keras"):
            _fn(name)
        return
    if (name, len([c for c in CASES[:i] if c[0] == name])) in VALUE_DIFFERENCES:
        pytest.skip("a documented difference from Keras's torch backend (VALUE_DIFFERENCES)")
    res = _fn(name)(*args, **kwargs)
    res = list(res) if isinstance(res, (tuple, list)) else [res]
    assert len(res) == len(exp["values"])
    for r, v, dt in zip(res, exp["values"], exp["dtypes"]):
        got = ops.convert_to_numpy(r)
        want = np.asarray(v)
        assert got.shape == want.shape, (name, got.shape, want.shape)
        np.testing.assert_allclose(got.astype(np.float64), want, rtol=2e-5, atol=2e-5,
                                   err_msg=name)
        if name not in DTYPE_DIFFERENCES:
            assert str(got.dtype) == dt, (name, got.dtype, dt)


def test_sparsemax_is_a_projection_onto_the_simplex():
    from keras_ops_cases import A
    p = ops.convert_to_numpy(ops.sparsemax(A))
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-6)
    assert (p >= 0).all() and (p == 0).any()
    # within the support p = z - tau with one tau per row
    z = A
    for row_p, row_z in zip(p, z):
        s = row_p > 0
        np.testing.assert_allclose(row_z[s] - row_p[s], (row_z[s] - row_p[s])[0], atol=1e-6)


def test_average_pool_same_averages_real_pixels_only():
    x = np.ones((1, 3, 3, 1), np.float32)
    np.testing.assert_allclose(ops.convert_to_numpy(
        ops.average_pool(x, 2, strides=2, padding="same")), 1.0)


@pytest.mark.parametrize("name", GRAD_CASES)
def test_gradients_float64(name):
    i = next(k for k, c in enumerate(CASES) if c[0] == name)
    _, args, kwargs = CASES[i]
    floats = [k for k, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    k0 = floats[0]
    x0 = args[k0].astype(np.float64)
    if name == "sort" or name == "quantile" or name == "max" or name == "max_pool":
        x0 = x0 + np.arange(x0.size).reshape(x0.shape) * 1e-2  # no ties
    x0 = x0[:2] if x0.ndim == 4 and x0.shape[0] > 1 and name != "dot_product_attention" else x0

    def f(t):
        a = list(args)
        a[k0] = t
        a = [ai.astype(np.float64) if isinstance(ai, np.ndarray) and ai.dtype.kind == "f"
             else ai for ai in a]
        out = _fn(name)(*a, **kwargs)
        out = out[0] if isinstance(out, (tuple, list)) else out
        return (out * shendu.tensor(np.linspace(0.5, 1.5, out.numel()).reshape(out.shape))).sum()
    x = shendu.tensor(x0, requires_grad=True)
    assert gradcheck(f, (x,), eps=1e-6, atol=1e-5, rtol=1e-4)


def test_dtype_rules():
    assert ops.convert_to_tensor(1.5).dtype == np.float32
    assert ops.convert_to_tensor([1, 2]).dtype == np.int32
    assert ops.convert_to_tensor(np.zeros(2)).dtype == np.float64  # NumPy arrays keep theirs
    assert ops.mean(ops.arange(4)).dtype == np.float32
    assert ops.multiply(ops.arange(3), 2.5).dtype == np.float32
    assert ops.zeros((2,)).dtype == np.float32 and ops.ones_like(ops.arange(2)).dtype == np.int32


def test_control_flow_and_stop_gradient():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = ops.fori_loop(0, 3, lambda i, v: v * 2.0, x)
    carry, ys = ops.scan(lambda c, e: (c + e, c * e), ops.zeros(()), ops.convert_to_tensor(
        [1.0, 2.0, 3.0]))
    assert float(carry) == 6.0 and ys.tolist() == [0.0, 2.0, 9.0]
    assert ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s + i), (0, 0)) == (4, 6)
    assert ops.cond(True, lambda: 1, lambda: 2) == 1
    (ops.sum(y) + ops.sum(ops.stop_gradient(x) * 100.0)).backward()
    assert x.grad.tolist() == [8.0, 8.0]


def test_not_covered_names_raise_with_the_reason():
    with pytest.raises(AttributeError, match="decompositions"):
        ops.svd
    with pytest.raises(AttributeError, match="no attribute"):
        ops.not_a_keras_op


def test_random_seeds():
    g1, g2 = random.SeedGenerator(3), random.SeedGenerator(3)
    a, b = random.normal((4,), seed=g1), random.normal((4,), seed=g1)
    assert not np.allclose(a.numpy(), b.numpy())
    np.testing.assert_array_equal(random.normal((4,), seed=g2).numpy(), a.numpy())
    np.testing.assert_array_equal(random.uniform((3,), seed=5).numpy(),
                                  random.uniform((3,), seed=5).numpy())
    assert random.normal((2, 3), seed=1).dtype == np.float32
    t = random.truncated_normal((1000,), stddev=2.0, seed=0).numpy()
    assert np.abs(t).max() <= 4.0 and 1.0 < t.std() < 2.0
    r = random.randint((100,), 2, 5, seed=0).numpy()
    assert r.dtype == np.int32 and r.min() == 2 and r.max() == 4
    d = random.dropout(ops.ones((1000,)), 0.25, seed=0).numpy()
    assert set(np.unique(d)) == {0.0, np.float32(1 / 0.75)} and 0.2 < (d == 0).mean() < 0.3
    s = random.shuffle(ops.arange(10), seed=0).numpy()
    assert sorted(s.tolist()) == list(range(10)) and s.tolist() != list(range(10))
    c = random.categorical(ops.convert_to_tensor([[0.0, 20.0], [20.0, 0.0]]), 5, seed=0)
    assert c.tolist() == [[1] * 5, [0] * 5]
    with pytest.raises(TypeError, match="SeedGenerator"):
        random.normal((2,), seed="x")
