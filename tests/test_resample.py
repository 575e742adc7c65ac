"""Resampling (interpolate in every mode, pixel_shuffle/unshuffle) and the padding
layers: float64 gradcheck and gradgradcheck from one table, plus values, sizes and errors.

tests/conformance/test_resample_torch.py runs the same CASES against PyTorch 2.13.
"""
import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from harness import Case, check_gradcheck, check_gradgradcheck, params


def interp(shape, mode, squared=False, **kw):
    """A Case for F.interpolate(x, mode=mode, **kw) (``** 2`` for a non-zero Hessian)."""
    p = 2 if squared else 1

    def ours(x):
        return F.interpolate(x, mode=mode, **kw) ** p

    def theirs(x):
        import torch
        return torch.nn.functional.interpolate(x, mode=mode, **kw) ** p
    tag = ",".join(f"{k}={v}" for k, v in kw.items())
    return Case(f"interpolate_{mode}{'_squared' if squared else ''}[{tag}]", ours, theirs,
                [shape])


def shuffle(name, shape, r):
    def theirs(x):
        import torch
        return getattr(torch.nn.functional, name)(x, r)
    return Case(f"{name}[{r}]", lambda x: getattr(F, name)(x, r), theirs, [shape])


SIZES_2D = [dict(scale_factor=2), dict(scale_factor=1.5), dict(scale_factor=0.5),
            dict(size=(4, 13)), dict(scale_factor=(1 / 3, 2.5)), dict(size=(5, 7)),
            dict(size=1), dict(scale_factor=3)]

CASES = (
    [interp((2, 2, 5, 7), "nearest", **kw) for kw in SIZES_2D]
    + [interp((2, 2, 5, 7), "nearest-exact", **kw) for kw in SIZES_2D]
    + [interp((2, 2, 5, 7), "bilinear", align_corners=ac, **kw)
       for ac in (False, True) for kw in SIZES_2D]
    + [interp((2, 2, 5, 7), "bicubic", align_corners=ac, **kw)
       for ac in (False, True) for kw in SIZES_2D]
    + [interp((2, 2, 5, 7), "area", **kw) for kw in
       [dict(size=(3, 4)), dict(scale_factor=0.5), dict(scale_factor=1.5), dict(size=(7, 10))]]
    + [interp((2, 3, 6), "linear", align_corners=ac, **kw) for ac in (False, True)
       for kw in [dict(scale_factor=1.7), dict(size=3), dict(scale_factor=2), dict(size=1)]]
    + [interp((2, 3, 6), "nearest", scale_factor=2.5), interp((2, 3, 6), "area", size=4)]
    + [interp((1, 2, 3, 4, 5), "trilinear", align_corners=ac, **kw) for ac in (False, True)
       for kw in [dict(scale_factor=1.7), dict(size=(2, 6, 3))]]
    + [interp((1, 2, 3, 4, 5), "nearest", scale_factor=(2, 1.5, 0.6))]
    + [interp((2, 2, 5, 7), "bilinear", squared=True, scale_factor=1.5),
       interp((2, 2, 5, 7), "bicubic", squared=True, size=(4, 9), align_corners=True),
       interp((2, 2, 5, 7), "nearest", squared=True, scale_factor=2),
       interp((2, 2, 5, 7), "nearest", squared=True, size=(3, 11))]
    + [shuffle("pixel_shuffle", (2, 8, 3, 5), 2), shuffle("pixel_shuffle", (1, 9, 2, 2), 3),
       shuffle("pixel_shuffle", (2, 2, 4, 3, 3), 2), shuffle("pixel_shuffle", (4, 2, 3), 2),
       shuffle("pixel_unshuffle", (2, 2, 6, 9), 3), shuffle("pixel_unshuffle", (2, 3, 2, 4, 4), 2)]
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


# ------------------------------------------------------------------------- values
def test_interpolate_values():
    x = shendu.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    np.testing.assert_allclose(
        F.interpolate(x, scale_factor=2, mode="bilinear").numpy()[0, 0],
        [[1.0, 1.25, 1.75, 2.0], [1.5, 1.75, 2.25, 2.5],
         [2.5, 2.75, 3.25, 3.5], [3.0, 3.25, 3.75, 4.0]])
    np.testing.assert_allclose(
        F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=True).numpy()[0, 0, 0],
        [1.0, 4 / 3, 5 / 3, 2.0], rtol=1e-6)
    np.testing.assert_array_equal(F.interpolate(x, size=(1, 3)).numpy(), [[[[1.0, 1.0, 2.0]]]])
    np.testing.assert_array_equal(F.interpolate(x, size=(1, 3), mode="nearest-exact").numpy(),
                                  [[[[3.0, 4.0, 4.0]]]])  # pixel centres: row 1
    np.testing.assert_allclose(F.interpolate(x, size=1, mode="area").numpy(), [[[[2.5]]]])
    # bicubic keeps constants and, with align_corners, the corners
    c = F.interpolate(shendu.full((1, 1, 3, 4), 2.0), size=(5, 7), mode="bicubic")
    np.testing.assert_allclose(c.numpy(), 2.0, rtol=1e-6)
    y = F.interpolate(x, size=(5, 5), mode="bicubic", align_corners=True).numpy()[0, 0]
    np.testing.assert_allclose(y[[0, 0, -1, -1], [0, -1, 0, -1]], [1, 2, 3, 4], rtol=1e-6)


def test_interpolate_output_size_is_floor_of_scale():
    x = shendu.randn(1, 1, 5, 7)
    assert F.interpolate(x, scale_factor=1.5).shape == (1, 1, 7, 10)
    assert F.interpolate(x, scale_factor=(0.5, 2)).shape == (1, 1, 2, 14)
    assert F.interpolate(x, size=3, mode="bilinear").shape == (1, 1, 3, 3)
    assert F.interpolate(shendu.randn(2, 3, 4), scale_factor=2, mode="linear").shape == (2, 3, 8)


def test_nearest_integer_factor_is_a_repeat_and_its_gradient_a_block_sum():
    x = shendu.randn(2, 3, 4, 5, requires_grad=True)
    y = F.interpolate(x, scale_factor=3)
    np.testing.assert_array_equal(y.detach().numpy(),
                                  x.detach().numpy().repeat(3, axis=2).repeat(3, axis=3))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.full((2, 3, 4, 5), 9.0))


def test_non_finite_values_stay_local():
    x = np.arange(20.0).reshape(1, 1, 4, 5)
    x[0, 0, 1, 2] = np.inf
    x[0, 0, 3, 4] = np.nan
    for mode in ("bilinear", "bicubic", "area"):
        kw = {} if mode == "area" else {"align_corners": False}
        y = F.interpolate(shendu.tensor(x), size=(7, 9), mode=mode, **kw).numpy()[0, 0]
        finite = F.interpolate(shendu.tensor(np.nan_to_num(x, posinf=0.0, nan=0.0)),
                               size=(7, 9), mode=mode, **kw).numpy()[0, 0]
        bad = ~np.isfinite(y)
        assert bad.any() and not bad.all(), mode
        np.testing.assert_allclose(y[~bad], finite[~bad], err_msg=mode)


def test_interpolate_keeps_float32():
    for mode in ("nearest", "bilinear", "bicubic", "area"):
        assert F.interpolate(shendu.randn(1, 2, 3, 3), scale_factor=1.5, mode=mode).dtype == \
            shendu.float32


def test_pixel_shuffle_values_and_inverse():
    x = shendu.arange(8.0).reshape(1, 8, 1, 1)
    np.testing.assert_array_equal(F.pixel_shuffle(x, 2).numpy(),
                                  [[[[0, 1], [2, 3]], [[4, 5], [6, 7]]]])
    x = shendu.randn(2, 12, 3, 5)
    np.testing.assert_array_equal(F.pixel_unshuffle(F.pixel_shuffle(x, 2), 2).numpy(), x.numpy())


# ------------------------------------------------------------------------- errors
def test_interpolate_errors():
    x = shendu.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match=r"align_corners can only be set with the "
                       r"interpolating modes"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match=r"give only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(ValueError, match=r"either size or scale_factor must be given"):
        F.interpolate(x)
    with pytest.raises(ValueError, match=r"mode 'linear' needs a 3-D input, got a 4-D input of "
                       r"shape \(1, 1, 4, 4\); use 'bilinear'"):
        F.interpolate(x, scale_factor=2, mode="linear")
    with pytest.raises(ValueError, match=r"mode must be one of"):
        F.interpolate(x, scale_factor=2, mode="cubic")
    with pytest.raises(ValueError, match=r"size must be an int or 2 ints for an input with "
                       r"spatial size \(4, 4\)"):
        F.interpolate(x, size=(2, 2, 2))
    with pytest.raises(ValueError, match=r"output sizes must be positive.*output \(0, 2\)"):
        F.interpolate(x, scale_factor=(0.1, 0.5))
    with pytest.raises(NotImplementedError, match=r"antialias"):
        F.interpolate(x, scale_factor=0.5, mode="bilinear", antialias=True)
    with pytest.raises(ValueError, match=r"Upsample: mode 'trilinear' needs a 5-D input"):
        nn.Upsample(scale_factor=2, mode="trilinear")(x)
    with pytest.raises(ValueError, match=r"pixel_shuffle: the channel dimension \(size 7.*"
                       r"divisible by upscale_factor\^2 = 4"):
        F.pixel_shuffle(shendu.randn(1, 7, 2, 2), 2)
    with pytest.raises(ValueError, match=r"pixel_unshuffle: height and width \(3, 4\) must be "
                       r"divisible by downscale_factor 2"):
        F.pixel_unshuffle(shendu.randn(1, 1, 3, 4), 2)


# ------------------------------------------------------------------------- modules
def test_resample_modules():
    x = shendu.randn(2, 3, 4, 5)
    assert nn.Upsample(scale_factor=2)(x).shape == (2, 3, 8, 10)
    assert nn.Upsample(size=(3, 3), mode="bicubic")(x).shape == (2, 3, 3, 3)
    np.testing.assert_allclose(nn.UpsamplingBilinear2d(scale_factor=2)(x).numpy(),
                               F.interpolate(x, scale_factor=2, mode="bilinear",
                                             align_corners=True).numpy())
    np.testing.assert_array_equal(nn.UpsamplingNearest2d(size=(8, 10))(x).numpy(),
                                  F.interpolate(x, scale_factor=2).numpy())
    assert nn.PixelShuffle(2)(shendu.randn(1, 8, 2, 2)).shape == (1, 2, 4, 4)
    assert nn.PixelUnshuffle(2)(shendu.randn(1, 2, 4, 4)).shape == (1, 8, 2, 2)
    assert repr(nn.Upsample(scale_factor=2, mode="bilinear")) == \
        "Upsample(scale_factor=2.0, mode='bilinear')"
    assert repr(nn.Upsample(size=(3, 4))) == "Upsample(size=(3, 4), mode='nearest')"
    assert repr(nn.PixelShuffle(3)) == "PixelShuffle(upscale_factor=3)"


PADS = [("ZeroPad2d", (1,), "constant"), ("ZeroPad2d", ((1, 0, 2, 1),), "constant"),
        ("ConstantPad2d", ((0, 1, 2, 0), 2.5), "constant"), ("ReflectionPad2d", (2,), "reflect"),
        ("ReflectionPad2d", ((1, 2, 0, 3),), "reflect"), ("ReplicationPad2d", (2,), "replicate"),
        ("CircularPad2d", ((1, 2, 2, 1),), "circular"), ("ZeroPad1d", (2,), "constant"),
        ("ReflectionPad1d", ((1, 3),), "reflect"), ("ReplicationPad1d", (3,), "replicate"),
        ("ConstantPad1d", (2, -1.0), "constant"), ("ZeroPad3d", (1,), "constant"),
        ("ReplicationPad3d", ((1, 0, 0, 1, 1, 0),), "replicate")]


@pytest.mark.parametrize("name,args,mode", PADS, ids=[p[0] for p in PADS])
def test_padding_layers_are_F_pad(name, args, mode):
    layer = getattr(nn, name)(*args)
    nd = int(name[-2])
    x = shendu.randn(*(2, 3, 4, 5, 6)[:nd + 2], dtype=shendu.float64, requires_grad=True)
    padding = layer.padding
    value = args[1] if len(args) > 1 else 0.0
    np.testing.assert_array_equal(layer(x).detach().numpy(),
                                  F.pad(x, padding, mode, value).detach().numpy())
    assert shendu.autograd.gradcheck(layer, [x])
    assert len(padding) == 2 * nd


def test_padding_layer_values_repr_and_errors():
    x = shendu.tensor([[[[1.0, 2.0, 3.0]]]])
    np.testing.assert_array_equal(nn.ReflectionPad2d((2, 1, 0, 0))(x).numpy(),
                                  [[[[3, 2, 1, 2, 3, 2]]]])
    np.testing.assert_array_equal(nn.ReplicationPad2d((1, 1, 0, 0))(x).numpy(),
                                  [[[[1, 1, 2, 3, 3]]]])
    assert repr(nn.ZeroPad2d(1)) == "ZeroPad2d((1, 1, 1, 1))"
    assert repr(nn.ConstantPad2d(1, 3.5)) == "ConstantPad2d(padding=(1, 1, 1, 1), value=3.5)"
    assert repr(nn.ReflectionPad1d(2)) == "ReflectionPad1d((2, 2))"
    with pytest.raises(ValueError, match=r"ReflectionPad2d: expected a 3-D or 4-D input "
                       r"\(C, H, W\) or \(N, C, H, W\), got shape \(3,\)"):
        nn.ReflectionPad2d(1)(shendu.ones(3))
    with pytest.raises(ValueError, match=r"ZeroPad2d: padding must be an int or a tuple of 4 "
                       r"ints"):
        nn.ZeroPad2d((1, 2))
