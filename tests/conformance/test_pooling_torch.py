"""Pooling against PyTorch 2.13: the CASES of tests/test_pooling.py (forward and
gradients in float32), then what the table cannot say: ties after a ReLU (gradient to
the first maximum), return_indices, second derivatives, unpooling and the layers'
repr."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from harness import check_conformance, params
from test_pooling import ADAPTIVE_2D, AVG2D, CASES, MAX2D

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance suite "
                            "needs `pip install torch==2.13.0`")
TF = torch.nn.functional


@params([c for c in CASES if c.torch_fn is not None])
def test_conformance(case):
    check_conformance(case)


def _relu_data(shape, seed=0):
    """float32 with many exact zeros (ties) and some repeated values."""
    rng = np.random.default_rng(seed)
    x = np.maximum(rng.standard_normal(shape), 0).astype(np.float32)
    x[..., ::3] = np.round(x[..., ::3])  # more ties among non-zeros
    return x


def _both(fn, tfn, x, **kw):
    a = shendu.tensor(x, requires_grad=True)
    t = torch.tensor(x, requires_grad=True)
    return fn(a, **kw), tfn(t, **kw), a, t


@pytest.mark.parametrize("shape,kw", MAX2D, ids=[str(kw) for _, kw in MAX2D])
def test_max_pool2d_ties_and_indices_match_torch(shape, kw):
    x = _relu_data(shape)
    (y, idx), (ty, tidx), a, t = _both(F.max_pool2d, TF.max_pool2d, x, return_indices=True, **kw)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    g = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("output_size", ADAPTIVE_2D, ids=str)
def test_adaptive_max_pool2d_ties_and_indices_match_torch(output_size):
    x = _relu_data((2, 3, 7, 9))
    (y, idx), (ty, tidx), a, t = _both(F.adaptive_max_pool2d, TF.adaptive_max_pool2d, x,
                                       output_size=output_size, return_indices=True)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(idx.numpy(), tidx.numpy())
    y.backward(shendu.ones(*y.shape))
    ty.backward(torch.ones(ty.shape))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy())


def test_max_pool1d_and_3d_indices_match_torch():
    x = _relu_data((2, 3, 11))
    for kw in [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), dict(kernel_size=2),
               dict(kernel_size=2, stride=1, dilation=3)]:
        _, i = F.max_pool1d(shendu.tensor(x), return_indices=True, **kw)
        _, ti = TF.max_pool1d(torch.tensor(x), return_indices=True, **kw)
        np.testing.assert_array_equal(i.numpy(), ti.numpy())
    x = _relu_data((1, 2, 4, 5, 6))
    _, i = F.max_pool3d(shendu.tensor(x), 2, (1, 2, 2), 1, return_indices=True)
    _, ti = TF.max_pool3d(torch.tensor(x), 2, (1, 2, 2), 1, return_indices=True)
    np.testing.assert_array_equal(i.numpy(), ti.numpy())


DOUBLE = [("max_pool2d", dict(kernel_size=3, stride=2, padding=1)),
          ("max_pool2d", dict(kernel_size=2)),
          ("avg_pool2d", dict(kernel_size=3, stride=2, padding=1, count_include_pad=False,
                              ceil_mode=True)),
          ("adaptive_avg_pool2d", dict(output_size=(3, 4))),
          ("adaptive_max_pool2d", dict(output_size=(3, 4))),
          ("lp_pool2d", dict(norm_type=2, kernel_size=2))]


@pytest.mark.parametrize("name,kw", DOUBLE, ids=[n for n, _ in DOUBLE])
def test_hessian_vector_products_match_torch(name, kw):
    """d/dx <grad_x sum(w * pool(x)^2), v> against torch's double backward."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 2, 7, 9))
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = getattr(F, name)(a, **kw), getattr(TF, name)(t, **kw)
    w = rng.standard_normal(y.shape)
    v = rng.standard_normal(x.shape)
    (g,) = shendu.autograd.grad((y * y * shendu.tensor(w)).sum(), [a], create_graph=True)
    (tg,) = torch.autograd.grad((ty * ty * torch.tensor(w)).sum(), [t], create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), rtol=1e-10, atol=1e-10)
    (h,) = shendu.autograd.grad((g * shendu.tensor(v)).sum(), [a])
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), [t])
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-10)


def test_max_unpool_matches_torch():
    x = _relu_data((2, 3, 7, 9)) + np.linspace(0, 1e-3, 7 * 9, dtype=np.float32).reshape(7, 9)
    y, i = F.max_pool2d(shendu.tensor(x), 3, 2, 1, return_indices=True)
    ty, ti = TF.max_pool2d(torch.tensor(x), 3, 2, 1, return_indices=True)
    a = shendu.tensor(y.numpy(), requires_grad=True)
    t = torch.tensor(ty.numpy(), requires_grad=True)
    out = F.max_unpool2d(a, i, 3, 2, 1, output_size=(7, 9))
    tout = TF.max_unpool2d(t, ti, 3, 2, 1, output_size=(7, 9))
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    g = np.random.default_rng(2).standard_normal(out.shape).astype(np.float32)
    out.backward(shendu.tensor(g))
    tout.backward(torch.tensor(g))
    np.testing.assert_array_equal(a.grad.numpy(), t.grad.numpy())
    x1 = _relu_data((2, 2, 8)) + np.linspace(0, 1e-3, 8, dtype=np.float32)
    y, i = F.max_pool1d(shendu.tensor(x1), 2, return_indices=True)
    ty, ti = TF.max_pool1d(torch.tensor(x1), 2, return_indices=True)
    np.testing.assert_array_equal(F.max_unpool1d(y, i, 2).numpy(),
                                  TF.max_unpool1d(ty, ti, 2).numpy())


MODULES = [
    ("MaxPool2d", (2,), {}), ("MaxPool2d", (3, 2, 1), {"ceil_mode": True}),
    ("MaxPool2d", ((2, 3),), {"dilation": 2, "return_indices": True}),
    ("MaxPool1d", (3,), {"stride": 1}), ("MaxPool3d", (2,), {}),
    ("AvgPool2d", (2,), {}), ("AvgPool2d", (3, 2, 1), {"count_include_pad": False}),
    ("AvgPool2d", ((3, 2),), {"divisor_override": 4}), ("AvgPool1d", (3, 2, 1), {}),
    ("AvgPool3d", (2,), {"ceil_mode": True}),
    ("LPPool2d", (2, 3), {}), ("LPPool1d", (1.5, 2, 1), {}), ("LPPool3d", (2, 2), {}),
    ("AdaptiveAvgPool2d", ((1, 1),), {}), ("AdaptiveAvgPool2d", (5,), {}),
    ("AdaptiveAvgPool2d", ((None, 3),), {}), ("AdaptiveAvgPool1d", (4,), {}),
    ("AdaptiveAvgPool3d", ((1, 2, 3),), {}),
    ("AdaptiveMaxPool2d", ((3, 4),), {}), ("AdaptiveMaxPool2d", (2,), {"return_indices": True}),
    ("AdaptiveMaxPool1d", (3,), {}), ("AdaptiveMaxPool3d", (1,), {}),
    ("MaxUnpool2d", (2,), {}), ("MaxUnpool1d", (3, 2, 1), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[m[0] for m in MODULES])
def test_module_repr_matches_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)


MODULE_RUNS = [
    ("MaxPool2d", (3, 2, 1), {"ceil_mode": True}, (2, 3, 9, 8)),
    ("AvgPool2d", (3, 2, 1), {"count_include_pad": False}, (2, 3, 9, 8)),
    ("AvgPool1d", (3, 2, 1), {}, (2, 3, 9)),
    ("LPPool2d", (2, 3), {}, (2, 3, 9, 8)),
    ("AdaptiveAvgPool2d", ((4, None),), {}, (2, 3, 9, 8)),
    ("AdaptiveMaxPool2d", ((4, 5),), {}, (2, 3, 9, 8)),
    ("MaxPool1d", (2,), {}, (3, 9)),  # unbatched (C, L)
]


@pytest.mark.parametrize("name,args,kwargs,shape", MODULE_RUNS, ids=[m[0] for m in MODULE_RUNS])
def test_module_outputs_match_torch(name, args, kwargs, shape):
    x = np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = getattr(nn, name)(*args, **kwargs)(a)
    ty = getattr(torch.nn, name)(*args, **kwargs)(t)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,kw", AVG2D, ids=[str(kw) for _, kw in AVG2D])
def test_avg_pool2d_float64_exact(shape, kw):
    x = np.random.default_rng(5).standard_normal(shape)
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.avg_pool2d(a, **kw), TF.avg_pool2d(t, **kw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-13, atol=1e-13)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-13, atol=1e-13)


@settings(deadline=None, max_examples=40)
@given(h=st.integers(1, 10), w=st.integers(1, 10),
       k=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       p=st.tuples(st.integers(0, 2), st.integers(0, 2)),
       d=st.tuples(st.integers(1, 2), st.integers(1, 2)), ceil=st.booleans(), cip=st.booleans(),
       seed=st.integers(0, 50))
def test_random_geometry_matches_torch(h, w, k, s, p, d, ceil, cip, seed):
    if any(pi > ki // 2 for pi, ki in zip(p, k)) or \
            any(di * (ki - 1) + 1 > n + 2 * pi for n, ki, pi, di in zip((h, w), k, p, d)):
        return
    x = np.random.default_rng(seed).standard_normal((2, 2, h, w)).round(1)  # with ties
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (y, i), (ty, ti) = (F.max_pool2d(a, k, s, p, d, ceil, return_indices=True),
                        TF.max_pool2d(t, k, s, p, d, ceil, return_indices=True))
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    np.testing.assert_array_equal(i.numpy(), ti.numpy())
    z, tz = F.avg_pool2d(a, k, s, p, ceil, cip), TF.avg_pool2d(t, k, s, p, ceil, cip)
    np.testing.assert_allclose(z.detach().numpy(), tz.detach().numpy(), rtol=1e-12, atol=1e-12)
    rng = np.random.default_rng(seed + 1)
    g, gz = rng.standard_normal(y.shape), rng.standard_normal(z.shape)
    ((y * shendu.tensor(g)).sum() + (z * shendu.tensor(gz)).sum()).backward()
    ((ty * torch.tensor(g)).sum() + (tz * torch.tensor(gz)).sum()).backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)
