"""Resampling against PyTorch 2.13: the CASES of tests/test_resample.py (forward and
gradients in float32), float64 to rounding, Hessian-vector products, the layers
(repr and outputs) and the padding layers.

One PyTorch quirk is not copied: its bicubic *backward* treats an output of the input's
size as a copy even when a scale_factor moved the sampling positions (its forward does
not), so its gradient there is not the derivative of its forward. shendu's is; that
configuration is checked for the forward only.
"""
import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from harness import check_conformance, params
from test_resample import CASES, PADS

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance suite "
                            "needs `pip install torch==2.13.0`")
TF = torch.nn.functional


@params([c for c in CASES if c.torch_fn is not None])
def test_conformance(case):
    check_conformance(case)


CONFIGS = [
    ("nearest", None, dict(scale_factor=1.5)), ("nearest", None, dict(size=(7, 3))),
    ("nearest", None, dict(scale_factor=(0.7, 2.2))), ("nearest-exact", None, dict(size=(9, 4))),
    ("bilinear", False, dict(scale_factor=1.5)), ("bilinear", True, dict(size=(9, 13))),
    ("bilinear", False, dict(scale_factor=(0.6, 1.1))), ("bilinear", False, dict(size=(6, 11))),
    ("bicubic", False, dict(scale_factor=2.5)), ("bicubic", True, dict(size=(4, 17))),
    ("bicubic", False, dict(scale_factor=(0.5, 1.3))), ("area", None, dict(size=(4, 6))),
]


@pytest.mark.parametrize("mode,ac,kw", CONFIGS, ids=[f"{m}-{ac}-{kw}" for m, ac, kw in CONFIGS])
def test_float64_matches_torch_to_rounding(mode, ac, kw):
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 9))
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y = F.interpolate(a, mode=mode, align_corners=ac, **kw)
    ty = TF.interpolate(t, mode=mode, align_corners=ac, **kw)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_same_size_with_a_scale_factor():
    """Linear modes copy an axis whose size does not change (PyTorch's rule); bicubic
    samples at the scaled positions (its forward) and shendu's gradient is that
    forward's true derivative."""
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 9))
    for mode in ("bilinear", "bicubic"):
        y = F.interpolate(shendu.tensor(x), scale_factor=1.1, mode=mode).numpy()
        ty = TF.interpolate(torch.tensor(x), scale_factor=1.1, mode=mode).numpy()
        np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-12)
    assert shendu.autograd.gradcheck(
        lambda t: F.interpolate(t, scale_factor=1.1, mode="bicubic"),
        [shendu.tensor(x, requires_grad=True)])


@pytest.mark.parametrize("mode", ["bilinear", "bicubic", "nearest", "area"])
def test_hessian_vector_products_match_torch(mode):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 2, 5, 7))
    kw = dict(size=(4, 9)) if mode != "bilinear" else dict(scale_factor=1.5)
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = F.interpolate(a, mode=mode, **kw), TF.interpolate(t, mode=mode, **kw)
    w = rng.standard_normal(y.shape)
    (g,) = shendu.autograd.grad((y ** 3 * shendu.tensor(w)).sum(), [a], create_graph=True)
    (tg,) = torch.autograd.grad((ty ** 3 * torch.tensor(w)).sum(), [t], create_graph=True)
    v = rng.standard_normal(x.shape)
    (h,) = shendu.autograd.grad((g * shendu.tensor(v)).sum(), [a])
    (th,) = torch.autograd.grad((tg * torch.tensor(v)).sum(), [t])
    np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-10, atol=1e-10)


MODULES = [
    ("Upsample", (), dict(scale_factor=2)), ("Upsample", (), dict(size=(3, 4), mode="bilinear")),
    ("Upsample", (), dict(scale_factor=(2, 1.5), mode="bicubic", align_corners=True)),
    ("Upsample", (), dict(size=5, mode="nearest-exact")),
    ("UpsamplingNearest2d", (), dict(scale_factor=3)), ("UpsamplingBilinear2d", ((6, 7),), {}),
    ("PixelShuffle", (2,), {}), ("PixelUnshuffle", (3,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", MODULES, ids=[m[0] for m in MODULES])
def test_module_repr_and_output_match_torch(name, args, kwargs):
    ours, theirs = getattr(nn, name)(*args, **kwargs), getattr(torch.nn, name)(*args, **kwargs)
    assert repr(ours) == repr(theirs)
    x = np.random.default_rng(4).standard_normal((2, 36, 6, 6)).astype(np.float32)
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(a), theirs(t)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name,args,mode", PADS, ids=[p[0] for p in PADS])
def test_padding_layers_match_torch(name, args, mode):
    ours, theirs = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
    assert repr(ours) == repr(theirs)
    nd = int(name[-2])
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5, 6)[:nd + 2]).astype(np.float32)
    a, t = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(a), theirs(t)
    np.testing.assert_array_equal(y.detach().numpy(), ty.detach().numpy())
    g = np.random.default_rng(6).standard_normal(y.shape).astype(np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(a.grad.numpy(), t.grad.numpy(), rtol=1e-6, atol=1e-6)
