"""nn.init against torch.nn.init 2.13: gains, fans, and the spread of each initializer
(same formula, different random streams, so statistics are compared)."""
import math

import numpy as np
import pytest

import shendu
from shendu.nn import init

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
tinit = torch.nn.init


@pytest.mark.parametrize("name,param", [
    ("linear", None), ("conv1d", None), ("conv_transpose2d", None), ("sigmoid", None),
    ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.3),
    ("leaky_relu", 1), ("leaky_relu", math.sqrt(5)), ("selu", None)])
def test_calculate_gain_equals_torch(name, param):
    assert init.calculate_gain(name, param) == tinit.calculate_gain(name, param)


@pytest.mark.parametrize("shape", [(7, 5), (16, 3, 3, 3), (4, 6, 5)])
def test_fans_equal_torch(shape):
    assert init._calculate_fan_in_and_fan_out(shendu.empty(*shape)) == \
        tinit._calculate_fan_in_and_fan_out(torch.empty(*shape))


@pytest.mark.parametrize("fn,kw", [
    ("xavier_uniform_", {"gain": 1.5}), ("xavier_normal_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}), ("kaiming_normal_", {"mode": "fan_out"}),
    ("kaiming_uniform_", {"nonlinearity": "relu"}), ("orthogonal_", {"gain": 0.5}),
    ("trunc_normal_", {"std": 0.5})])
def test_spread_matches_torch(fn, kw):
    ours = getattr(init, fn)(shendu.empty(300, 20, 3), **kw).numpy()
    torch.manual_seed(0)
    theirs = getattr(tinit, fn)(torch.empty(300, 20, 3), **kw).numpy()
    assert ours.std() == pytest.approx(theirs.std(), rel=0.03)
    assert np.abs(ours).max() <= np.abs(theirs).max() * 1.2 + 1e-6
    assert abs(ours.mean()) < 0.05 * theirs.std() + 1e-3
