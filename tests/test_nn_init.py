"""nn.init: gains, fans, the statistics of every initializer, orthogonality, seeding."""
import math

import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.nn import init


@pytest.mark.parametrize("name,param,expected", [
    ("linear", None, 1), ("conv2d", None, 1), ("sigmoid", None, 1), ("tanh", None, 5 / 3),
    ("relu", None, math.sqrt(2)), ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
    ("selu", None, 0.75)])
def test_calculate_gain(name, param, expected):
    assert init.calculate_gain(name, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_errors():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", "0.1")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(shendu.empty(20, 10)) == (10, 20)
    assert init._calculate_fan_in_and_fan_out(shendu.empty(16, 3, 5, 5)) == (75, 400)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(shendu.empty(5))


def _std(t):
    return float(np.std(t.detach().numpy()))


def test_xavier_and_kaiming_statistics():
    w = shendu.empty(500, 300)
    init.xavier_uniform_(w, gain=2.0)
    bound = 2.0 * math.sqrt(6 / 800)
    assert np.abs(w.numpy()).max() <= bound
    assert _std(w) == pytest.approx(2.0 * math.sqrt(2 / 800), rel=0.02)
    init.xavier_normal_(w)
    assert _std(w) == pytest.approx(math.sqrt(2 / 800), rel=0.02)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert _std(w) == pytest.approx(math.sqrt(2 / 300), rel=0.02)
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    assert _std(w) == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    init.kaiming_uniform_(w, a=0.1)
    bound = math.sqrt(2 / 1.01) * math.sqrt(3 / 300)
    assert np.abs(w.numpy()).max() <= bound
    assert _std(w) == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert init.glorot_uniform_ is init.xavier_uniform_ and init.he_normal_ is init.kaiming_normal_
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(w, mode="fan_avg")


def test_conv_shaped_weight_uses_receptive_field():
    w = shendu.empty(64, 32, 3, 3)
    init.kaiming_normal_(w, nonlinearity="relu")
    assert _std(w) == pytest.approx(math.sqrt(2 / (32 * 9)), rel=0.03)


def test_basic_fills():
    w = shendu.empty(400, 400)
    init.uniform_(w, -2.0, 3.0)
    assert w.numpy().min() >= -2 and w.numpy().max() <= 3
    assert float(w.mean()) == pytest.approx(0.5, abs=0.02)
    init.normal_(w, 1.0, 0.5)
    assert float(w.mean()) == pytest.approx(1.0, abs=0.01) and _std(w) == pytest.approx(0.5, rel=0.02)
    init.trunc_normal_(w, std=1.0, a=-1.0, b=1.5)
    assert w.numpy().min() >= -1.0 and w.numpy().max() <= 1.5
    init.constant_(w, 0.3)
    assert np.all(w.numpy() == np.float32(0.3))
    init.zeros_(w), init.ones_(w)
    assert np.all(w.numpy() == 1)
    init.eye_(w)
    np.testing.assert_array_equal(w.numpy(), np.eye(400))
    assert w.dtype == shendu.float32


@pytest.mark.parametrize("shape", [(6, 10), (10, 6), (8, 8), (4, 2, 3)])
def test_orthogonal(shape):
    w = shendu.empty(*shape, dtype=shendu.float64)
    init.orthogonal_(w, gain=2.0)
    m = w.numpy().reshape(shape[0], -1)
    rows, cols = m.shape
    gram = m @ m.T if rows <= cols else m.T @ m
    np.testing.assert_allclose(gram, 4.0 * np.eye(min(rows, cols)), atol=1e-10)
    with pytest.raises(ValueError, match="2 or more dimensions"):
        init.orthogonal_(shendu.empty(3))


def test_init_is_in_place_outside_the_graph_and_seeded():
    lin = nn.Linear(5, 5)
    w = lin.weight
    init.xavier_uniform_(lin.weight)
    assert lin.weight is w and w.requires_grad and w.is_leaf and w.grad_fn is None
    shendu.manual_seed(42)
    a = init.normal_(shendu.empty(10)).numpy().copy()
    shendu.manual_seed(42)
    b = init.normal_(shendu.empty(10)).numpy()
    np.testing.assert_array_equal(a, b)
    shendu.manual_seed(1)
    l1 = nn.Linear(3, 3)
    shendu.manual_seed(1)
    l2 = nn.Linear(3, 3)
    np.testing.assert_array_equal(l1.weight.detach().numpy(), l2.weight.detach().numpy())


def test_init_rejects_non_tensors():
    with pytest.raises(TypeError, match="expects a shendu Tensor"):
        init.normal_(np.zeros(3))
