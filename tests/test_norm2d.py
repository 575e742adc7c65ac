"""Normalization of images: batch_norm on (N, C, H, W), group_norm, instance_norm
(float64 gradcheck and gradgradcheck from one table), and the layers BatchNorm2d,
GroupNorm, InstanceNorm1d/2d/3d: running statistics, train/eval, errors.

tests/conformance/test_norm2d_torch.py runs the same CASES against PyTorch 2.13.
"""
import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from harness import Case, check_gradcheck, check_gradgradcheck, params, positive

normal = np.random.Generator.standard_normal


def _torch_F(name):
    def get():
        import torch.nn.functional as tf
        return getattr(tf, name)
    return get


def bn_train(x, w=None, b=None):
    return F.batch_norm(x, None, None, w, b, training=True)


def torch_bn_train(x, w=None, b=None):
    return _torch_F("batch_norm")()(x, None, None, w, b, training=True)


def bn_eval(x, rm, rv, w, b):
    return F.batch_norm(x, rm, rv, w, b, training=False)


def torch_bn_eval(x, rm, rv, w, b):
    return _torch_F("batch_norm")()(x, rm, rv, w, b, training=False)


def gn(groups):
    return (lambda x, *wb: F.group_norm(x, groups, *wb),
            lambda x, *wb: _torch_F("group_norm")()(x, groups, *wb))


def inorm(x, w=None, b=None):
    return F.instance_norm(x, weight=w, bias=b)


def torch_inorm(x, w=None, b=None):
    return _torch_F("instance_norm")()(x, weight=w, bias=b)


def inorm_eval(x, rm, rv, w, b):
    return F.instance_norm(x, rm, rv, w, b, use_input_stats=False)


def torch_inorm_eval(x, rm, rv, w, b):
    return _torch_F("instance_norm")()(x, rm, rv, w, b, use_input_stats=False)


TOL = dict(atol=1e-4, fwd_atol=1e-5, grad_atol=1e-4)
EVAL_DOMAIN = [normal, normal, positive, normal, normal]
EVAL_GRAD = [True, False, False, True, True]

CASES = (
    [Case("batch_norm2d_train", bn_train, torch_bn_train, s, **TOL) for s in
     [[(4, 3, 5, 7), (3,), (3,)], [(2, 2, 3, 3), (2,), (2,)], [(3, 2, 2, 3, 2), (2,), (2,)]]]
    + [Case("batch_norm2d_train_no_affine", bn_train, torch_bn_train, [(3, 4, 3, 5)], **TOL)]
    + [Case("batch_norm2d_eval", bn_eval, torch_bn_eval, [(4, 3, 5, 7), (3,), (3,), (3,), (3,)],
            domain=EVAL_DOMAIN, differentiable=EVAL_GRAD)]
    + [Case(f"group_norm[{g}]", *gn(g), s, **TOL) for g, s in
       [(3, [(2, 6, 5, 7), (6,), (6,)]), (1, [(2, 4, 3, 5), (4,), (4,)]),
        (4, [(2, 4, 3, 5), (4,), (4,)]), (2, [(3, 4, 7), (4,), (4,)]),
        (2, [(1, 4, 2, 3, 2), (4,), (4,)]), (3, [(2, 6), (6,), (6,)])]]
    + [Case("group_norm_no_affine[2]", *gn(2), [(2, 6, 4, 5)], **TOL),
       Case("group_norm_batch_of_one[2]", *gn(2), [(1, 4, 3, 3), (4,), (4,)], **TOL)]
    + [Case("instance_norm", inorm, torch_inorm, s, **TOL) for s in
       [[(2, 3, 5, 7), (3,), (3,)], [(3, 2, 6), (2,), (2,)], [(1, 2, 2, 3, 3), (2,), (2,)]]]
    + [Case("instance_norm_no_affine", inorm, torch_inorm, [(2, 3, 4, 4)], **TOL)]
    + [Case("instance_norm_eval", inorm_eval, torch_inorm_eval,
            [(2, 3, 4, 5), (3,), (3,), (3,), (3,)], domain=EVAL_DOMAIN,
            differentiable=EVAL_GRAD)]
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


# ------------------------------------------------------------------------- functional
def test_group_norm_values():
    x = np.random.default_rng(0).standard_normal((2, 6, 3, 4))
    y = F.group_norm(shendu.tensor(x), 3, eps=0.0).numpy()
    g = x.reshape(2, 3, -1)
    ref = ((g - g.mean(-1, keepdims=True)) / g.std(-1, keepdims=True)).reshape(x.shape)
    np.testing.assert_allclose(y, ref, rtol=1e-10, atol=1e-12)
    w, b = shendu.tensor(np.arange(6.0)), shendu.tensor(np.ones(6))
    y = F.group_norm(shendu.tensor(x), 3, w, b, eps=0.0).numpy()
    np.testing.assert_allclose(y, ref * np.arange(6.0)[:, None, None] + 1, rtol=1e-10,
                               atol=1e-12)


def test_instance_norm_values_and_running_stats():
    x = np.random.default_rng(1).standard_normal((4, 3, 5, 6))
    y = F.instance_norm(shendu.tensor(x), eps=0.0).numpy()
    m = x.mean((2, 3), keepdims=True)
    np.testing.assert_allclose(y, (x - m) / x.std((2, 3), keepdims=True), rtol=1e-10,
                               atol=1e-12)
    rm, rv = shendu.zeros(3, dtype=shendu.float64), shendu.ones(3, dtype=shendu.float64)
    F.instance_norm(shendu.tensor(x), rm, rv, momentum=0.25)
    np.testing.assert_allclose(rm.numpy(), 0.25 * x.mean((2, 3)).mean(0))
    np.testing.assert_allclose(rv.numpy(), 0.75 + 0.25 * x.var((2, 3), ddof=1).mean(0))


def test_batch_norm_4d_running_stats_and_eval():
    x = np.random.default_rng(2).standard_normal((4, 3, 5, 6)) * 2 + 1
    rm, rv = shendu.zeros(3, dtype=shendu.float64), shendu.ones(3, dtype=shendu.float64)
    y = F.batch_norm(shendu.tensor(x), rm, rv, training=True, momentum=0.1, eps=0.0).numpy()
    mean, var = x.mean((0, 2, 3)), x.var((0, 2, 3))
    np.testing.assert_allclose(y, (x - mean[:, None, None]) / np.sqrt(var[:, None, None]),
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rm.numpy(), 0.1 * mean)
    np.testing.assert_allclose(rv.numpy(), 0.9 + 0.1 * x.var((0, 2, 3), ddof=1))
    y = F.batch_norm(shendu.tensor(x), rm, rv, training=False, eps=0.0).numpy()
    np.testing.assert_allclose(y, (x - rm.numpy()[:, None, None]) /
                               np.sqrt(rv.numpy()[:, None, None]), rtol=1e-10)


def test_norm_errors():
    with pytest.raises(ValueError, match=r"group_norm: the number of channels \(6, input shape "
                       r"\(2, 6, 3\)\) must be divisible by num_groups, got num_groups=4"):
        F.group_norm(shendu.ones(2, 6, 3), 4)
    with pytest.raises(ValueError, match=r"group_norm: expected more than 1 value per group"):
        F.group_norm(shendu.ones(2, 6), 6)
    with pytest.raises(ValueError, match=r"group_norm: weight must have shape \(6,\)"):
        F.group_norm(shendu.ones(2, 6, 3), 3, shendu.ones(3))
    with pytest.raises(ValueError, match=r"instance_norm: expected more than 1 spatial element"):
        F.instance_norm(shendu.ones(2, 3, 1, 1))
    with pytest.raises(ValueError, match=r"instance_norm: expected an input of shape "
                       r"\(N, C, \*spatial\)"):
        F.instance_norm(shendu.ones(2, 3))
    with pytest.raises(ValueError, match=r"GroupNorm: num_channels \(6\) must be divisible by "
                       r"num_groups \(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=r"GroupNorm\(2, 6\) got input of shape \(2, 4, 3\): "
                       r"expected \(N, 6, \*\)"):
        nn.GroupNorm(2, 6)(shendu.ones(2, 4, 3))
    with pytest.raises(ValueError, match=r"BatchNorm2d: expected 4D input \(got 3D input"):
        nn.BatchNorm2d(3)(shendu.ones(3, 4, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm2d: expected 3D \(unbatched\) or 4D "
                       r"input \(got 2D input"):
        nn.InstanceNorm2d(3)(shendu.ones(3, 4))
    with pytest.raises(ValueError, match=r"InstanceNorm2d\(3\) got input of shape "
                       r"\(2, 4, 5, 5\): expected 3 channels"):
        nn.InstanceNorm2d(3, affine=True)(shendu.ones(2, 4, 5, 5))
    with pytest.warns(UserWarning, match=r"does not match num_features"):
        nn.InstanceNorm2d(3)(shendu.randn(2, 4, 5, 5))


# ------------------------------------------------------------------------- layers
def test_batchnorm2d_running_stats_train_and_eval():
    bn = nn.BatchNorm2d(3, momentum=None)  # cumulative moving average
    xs = [np.random.default_rng(s).standard_normal((4, 3, 5, 5)).astype(np.float32) + s
          for s in range(3)]
    for x in xs:
        bn(shendu.tensor(x))
    assert int(bn.num_batches_tracked.item()) == 3
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([x.mean((0, 2, 3)) for x in xs], 0), rtol=1e-5)
    np.testing.assert_allclose(bn.running_var.numpy(),
                               np.mean([x.var((0, 2, 3), ddof=1) for x in xs], 0), rtol=1e-5)
    bn.eval()
    y = bn(shendu.tensor(xs[0])).detach().numpy()
    ref = (xs[0] - bn.running_mean.numpy()[:, None, None]) / \
        np.sqrt(bn.running_var.numpy()[:, None, None] + 1e-5)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    assert int(bn.num_batches_tracked.item()) == 3  # evaluation changes nothing


def test_instance_norm2d_modes():
    x = shendu.randn(2, 3, 6, 6) * 3 + 2
    m = nn.InstanceNorm2d(3)
    assert [n for n, _ in m.named_buffers()] == [] and list(m.parameters()) == []
    y = m(x).numpy()
    np.testing.assert_allclose(y.mean((2, 3)), 0, atol=1e-5)
    m.eval()  # no running stats: evaluation still uses the input's statistics
    np.testing.assert_allclose(m(x).numpy(), y, rtol=1e-6)
    t = nn.InstanceNorm2d(3, affine=True, track_running_stats=True)
    assert [n for n, _ in t.named_buffers()] == ["running_mean", "running_var",
                                                 "num_batches_tracked"]
    t(x)
    np.testing.assert_allclose(t.running_mean.numpy(), 0.1 * x.numpy().mean((2, 3)).mean(0),
                               rtol=1e-5)
    t.eval()
    rm, rv = t.running_mean.numpy(), t.running_var.numpy()
    np.testing.assert_allclose(t(x).detach().numpy(), (x.numpy() - rm[:, None, None]) /
                               np.sqrt(rv[:, None, None] + 1e-5), rtol=1e-5, atol=1e-5)
    # unbatched (C, H, W)
    np.testing.assert_allclose(nn.InstanceNorm2d(3)(x[0]).numpy(), y[0], rtol=1e-5, atol=1e-6)
    assert nn.InstanceNorm1d(3)(shendu.randn(2, 3, 7)).shape == (2, 3, 7)
    assert nn.InstanceNorm3d(3)(shendu.randn(2, 3, 2, 3, 4)).shape == (2, 3, 2, 3, 4)


def test_group_norm_layer():
    m = nn.GroupNorm(2, 4)
    assert [n for n, _ in m.named_parameters()] == ["weight", "bias"]
    np.testing.assert_array_equal(m.weight.detach().numpy(), np.ones(4))
    x = shendu.randn(3, 4, 5, 5, requires_grad=True)
    m(x).sum().backward()
    assert m.weight.grad.shape == (4,) and x.grad.shape == x.shape
    assert repr(m) == "GroupNorm(2, 4, eps=1e-05, affine=True, bias=True)"
    assert repr(nn.GroupNorm(1, 3, affine=False)) == \
        "GroupNorm(1, 3, eps=1e-05, affine=False, bias=False)"
    assert list(nn.GroupNorm(1, 3, bias=False).state_dict()) == ["weight"]
