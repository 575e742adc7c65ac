"""Convolutions: conv1d/2d/3d, conv_transpose1d/2d/3d, unfold/fold and the Conv layers.

The CASES table is checked here by float64 gradcheck and gradgradcheck, and against
PyTorch 2.13 in tests/conformance/test_conv_torch.py. The other tests check values
against a direct (loop) definition of the convolution, the adjoint identity between
conv2d and conv_transpose2d, the layers' shapes/init/repr, and the error messages.
"""
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
import shendu.nn.functional as F
from harness import Case, check_gradcheck, check_gradgradcheck, params
from shendu import nn


def _torch_pad(x, pad, mode):
    import torch
    return torch.nn.functional.pad(x, pad, mode=mode)


def conv_case(name, dims, x_shape, w_shape, bias=True, **kw):
    """A Case for F.conv{dims}d with keyword arguments ``kw`` (the same in both libraries)."""
    ours = getattr(F, f"conv{dims}d")

    def torch_fn(*t):
        import torch
        return getattr(torch.nn.functional, f"conv{dims}d")(*t, **kw)

    shapes = [x_shape, w_shape] + ([(w_shape[0],)] if bias else [])
    return Case(name, lambda *t: ours(*t, **kw), torch_fn, shapes, atol=1e-5, rtol=1e-3,
                fwd_atol=1e-5, fwd_rtol=1e-4, grad_atol=1e-4, grad_rtol=1e-4)


def convt_case(name, dims, x_shape, w_shape, bias=True, **kw):
    ours = getattr(F, f"conv_transpose{dims}d")
    groups = kw.get("groups", 1)

    def torch_fn(*t):
        import torch
        return getattr(torch.nn.functional, f"conv_transpose{dims}d")(*t, **kw)

    shapes = [x_shape, w_shape] + ([(w_shape[1] * groups,)] if bias else [])
    return Case(name, lambda *t: ours(*t, **kw), torch_fn, shapes, atol=1e-5, rtol=1e-3,
                fwd_atol=1e-5, fwd_rtol=1e-4, grad_atol=1e-4, grad_rtol=1e-4)


def padded_conv_case(name, mode, pad, x_shape, w_shape, **kw):
    """conv2d after F.pad in a non-zero mode (what Conv2d(padding_mode=...) computes)."""
    def torch_fn(x, w, b):
        import torch
        return torch.nn.functional.conv2d(_torch_pad(x, pad, mode), w, b, **kw)

    return Case(name, lambda x, w, b: F.conv2d(F.pad(x, pad, mode=mode), w, b, **kw), torch_fn,
                [x_shape, w_shape, (w_shape[0],)], atol=1e-5, rtol=1e-3, fwd_atol=1e-5,
                fwd_rtol=1e-4, grad_atol=1e-4, grad_rtol=1e-4)


def fold_case(name, x_shape, **kw):
    def torch_fn(x):
        import torch
        return torch.nn.functional.fold(x, **kw)
    return Case(name, lambda x: F.fold(x, **kw), torch_fn, [x_shape], fwd_atol=1e-5,
                grad_atol=1e-5)


def unfold_case(name, x_shape, **kw):
    def torch_fn(x):
        import torch
        return torch.nn.functional.unfold(x, **kw)
    return Case(name, lambda x: F.unfold(x, **kw), torch_fn, [x_shape], fwd_atol=1e-5,
                grad_atol=1e-5)


CASES = [
    # conv1d
    conv_case("conv1d", 1, (2, 3, 7), (4, 3, 3)),
    conv_case("conv1d_stride2_pad1", 1, (2, 2, 8), (3, 2, 3), stride=2, padding=1),
    conv_case("conv1d_dilation2", 1, (1, 2, 9), (2, 2, 3), dilation=2, padding=2),
    conv_case("conv1d_groups2", 1, (2, 4, 6), (6, 2, 2), groups=2),
    conv_case("conv1d_same_even", 1, (2, 2, 7), (3, 2, 4), padding="same"),
    conv_case("conv1d_valid_nobias", 1, (2, 2, 5), (3, 2, 3), bias=False, padding="valid"),
    conv_case("conv1d_unbatched", 1, (2, 6), (3, 2, 3), padding=1),
    # conv2d
    conv_case("conv2d", 2, (2, 3, 5, 5), (4, 3, 3, 3)),
    conv_case("conv2d_odd_sizes", 2, (3, 2, 7, 5), (3, 2, 3, 2), padding=(1, 2)),
    conv_case("conv2d_stride2", 2, (2, 2, 7, 6), (3, 2, 3, 3), stride=2, padding=1),
    conv_case("conv2d_stride3", 2, (1, 2, 8, 7), (2, 2, 3, 2), stride=(3, 2)),
    conv_case("conv2d_dilation2", 2, (1, 2, 7, 7), (2, 2, 3, 3), dilation=2, padding=1),
    conv_case("conv2d_dilation_tuple", 2, (2, 1, 6, 8), (2, 1, 2, 3), dilation=(2, 1)),
    conv_case("conv2d_groups2", 2, (2, 4, 5, 5), (6, 2, 3, 3), groups=2, padding=1),
    conv_case("conv2d_depthwise", 2, (2, 3, 5, 6), (6, 1, 3, 3), groups=3, padding=1),
    conv_case("conv2d_same_odd", 2, (2, 2, 5, 6), (3, 2, 3, 3), padding="same"),
    conv_case("conv2d_same_even_dilated", 2, (1, 2, 6, 5), (2, 2, 2, 4), padding="same",
              dilation=(2, 1)),
    conv_case("conv2d_valid", 2, (2, 2, 6, 5), (3, 2, 2, 2), padding="valid"),
    conv_case("conv2d_1x1", 2, (2, 4, 3, 3), (5, 4, 1, 1)),
    conv_case("conv2d_nobias_all", 2, (2, 4, 9, 8), (4, 2, 3, 2), bias=False, stride=(2, 3),
              padding=(2, 1), dilation=(1, 2), groups=2),
    conv_case("conv2d_unbatched", 2, (2, 5, 5), (3, 2, 3, 3), padding=1),
    # contractions C/groups * kH * kW > 32: the channel-major (one GEMM over all images) path
    conv_case("conv2d_wide", 2, (2, 8, 5, 6), (3, 8, 3, 3), padding=1),
    conv_case("conv2d_wide_groups_stride", 2, (2, 8, 7, 6), (4, 4, 3, 3), groups=2, stride=2,
              dilation=(1, 2), padding=(1, 2)),
    conv_case("conv1d_wide", 1, (2, 12, 7), (3, 12, 3), stride=2, padding="valid"),
    # conv3d
    conv_case("conv3d", 3, (1, 2, 4, 4, 3), (2, 2, 2, 2, 2), padding=1),
    conv_case("conv3d_stride_groups", 3, (2, 2, 5, 4, 4), (2, 1, 3, 2, 2), stride=2, groups=2),
    # padding modes (what Conv2d(padding_mode=...) does)
    padded_conv_case("conv2d_reflect", "reflect", (1, 1, 2, 1), (2, 2, 4, 5), (3, 2, 3, 3)),
    padded_conv_case("conv2d_replicate", "replicate", (1, 1, 1, 1), (2, 2, 4, 4), (3, 2, 3, 3),
                     stride=2),
    padded_conv_case("conv2d_circular", "circular", (2, 2, 1, 1), (1, 2, 3, 5), (2, 2, 3, 3)),
    # transposed
    convt_case("conv_transpose1d", 1, (2, 3, 4), (3, 2, 3), stride=2),
    convt_case("conv_transpose1d_all", 1, (2, 4, 5), (4, 1, 3), stride=3, padding=1,
               output_padding=2, groups=2, dilation=2),
    convt_case("conv_transpose2d", 2, (2, 3, 3, 4), (3, 2, 3, 3)),
    convt_case("conv_transpose2d_dcgan", 2, (2, 4, 3, 3), (4, 2, 4, 4), stride=2, padding=1),
    convt_case("conv_transpose2d_output_padding", 2, (1, 2, 3, 4), (2, 3, 3, 3), stride=2,
               padding=1, output_padding=1),
    convt_case("conv_transpose2d_stride3_tuple", 2, (2, 2, 3, 2), (2, 2, 2, 3), stride=(3, 2),
               padding=(0, 1), output_padding=(2, 1)),
    convt_case("conv_transpose2d_groups_dilation", 2, (2, 4, 3, 3), (4, 1, 3, 2), groups=2,
               dilation=(2, 3), padding=1),
    convt_case("conv_transpose2d_depthwise", 2, (1, 3, 4, 4), (3, 1, 3, 3), groups=3,
               stride=2),
    convt_case("conv_transpose2d_nobias", 2, (2, 3, 3, 3), (3, 2, 2, 2), bias=False, stride=2),
    convt_case("conv_transpose2d_unbatched", 2, (3, 3, 2), (3, 2, 3, 3), stride=2,
               output_padding=1),
    convt_case("conv_transpose2d_wide", 2, (2, 3, 3, 4), (3, 5, 3, 3), stride=2, padding=1,
               output_padding=1),
    convt_case("conv_transpose2d_wide_groups", 2, (2, 4, 3, 3), (4, 9, 2, 2), groups=2,
               stride=(1, 2), dilation=2),
    convt_case("conv_transpose3d", 3, (1, 2, 2, 3, 2), (2, 2, 2, 2, 3), stride=2, padding=1),
    # im2col / col2im
    unfold_case("unfold", (2, 2, 4, 5), kernel_size=2),
    unfold_case("unfold_all", (1, 3, 7, 6), kernel_size=(2, 3), dilation=(2, 1), padding=1,
                stride=(2, 1)),
    unfold_case("unfold_unbatched", (2, 5, 5), kernel_size=3, stride=2),
    fold_case("fold", (2, 8, 12), output_size=(4, 5), kernel_size=2),
    fold_case("fold_all", (1, 12, 12), output_size=(5, 6), kernel_size=(2, 2), dilation=(2, 1),
              padding=1, stride=2),
    fold_case("fold_unbatched", (9, 4), output_size=4, kernel_size=3, stride=1),
]


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


# ----------------------------------------------------------------------- values
def naive_conv2d(x, w, b, stride, padding, dilation, groups):
    """The definition, with loops: y[n, o, i, j] = b[o] + sum W[o, c, u, v] x_pad[...]."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (pt, pb), (pl, pr) = padding
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    ho = (xp.shape[2] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, ho, wo))
    og = o // groups
    for oc, i, j in itertools.product(range(o), range(ho), range(wo)):
        g = oc // og
        patch = xp[:, g * cg:(g + 1) * cg,
                   i * stride[0]:i * stride[0] + dilation[0] * (kh - 1) + 1:dilation[0],
                   j * stride[1]:j * stride[1] + dilation[1] * (kw - 1) + 1:dilation[1]]
        y[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3)) + (0 if b is None else b[oc])
    return y


@settings(deadline=None, max_examples=40)
@given(st.integers(1, 3), st.integers(1, 2), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 3), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.integers(1, 2), st.integers(0, 10 ** 6))
def test_conv2d_matches_definition(n, groups, cpg, opg, kh, kw, pad, stride, dilation, seed):
    rng = np.random.default_rng(seed)
    c, o = cpg * groups, opg * groups
    h, w_ = rng.integers(max(kh, kw) * dilation, 9, size=2)
    x = rng.standard_normal((n, c, h, w_))
    w = rng.standard_normal((o, cpg, kh, kw))
    b = rng.standard_normal(o)
    y = F.conv2d(shendu.tensor(x), shendu.tensor(w), shendu.tensor(b), stride=stride,
                 padding=pad, dilation=dilation, groups=groups)
    ref = naive_conv2d(x, w, b, (stride,) * 2, ((pad, pad),) * 2, (dilation,) * 2, groups)
    np.testing.assert_allclose(y.numpy(), ref, atol=1e-10)


@settings(deadline=None, max_examples=30)
@given(st.integers(1, 2), st.integers(1, 3), st.integers(1, 3), st.integers(1, 3),
       st.integers(0, 1), st.integers(1, 3), st.integers(1, 2), st.integers(0, 10 ** 6))
def test_conv_transpose2d_is_the_adjoint_of_conv2d(groups, cpg, opg, k, pad, stride,
                                                   dilation, seed):
    """<conv2d(x, W), y> == <x, conv_transpose2d(y, W)> for every x, y."""
    rng = np.random.default_rng(seed)
    c, o = cpg * groups, opg * groups
    size = int(rng.integers(dilation * (k - 1) + 1, 9))
    x = rng.standard_normal((2, c, size, size + 1))
    w = rng.standard_normal((o, cpg, k, k))
    y = F.conv2d(shendu.tensor(x), shendu.tensor(w), stride=stride, padding=pad,
                 dilation=dilation, groups=groups)
    v = rng.standard_normal(y.shape)
    # output_padding recovers x's size exactly when stride leaves rows unused
    full = [(s - 1) * stride - 2 * pad + dilation * (k - 1) + 1 for s in y.shape[2:]]
    op = tuple(t - f for t, f in zip(x.shape[2:], full))
    xt = F.conv_transpose2d(shendu.tensor(v), shendu.tensor(w), stride=stride, padding=pad,
                            output_padding=op, groups=groups, dilation=dilation)
    assert xt.shape == x.shape
    np.testing.assert_allclose((y.numpy() * v).sum(), (x * xt.numpy()).sum(), rtol=1e-10)


@pytest.mark.parametrize("cin,k,groups", [(1, 3, 1), (8, 3, 1), (6, 2, 3), (12, 1, 4)])
def test_per_image_and_channel_major_layouts_agree(monkeypatch, cin, k, groups):
    """Small contractions run one GEMM per image, big ones one GEMM over all images:
    forcing either layout gives the same values and gradients."""
    from shendu.ops import _im2col as conv_ops
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, cin, 7, 6))
    w = rng.standard_normal((4 * groups, cin // groups, k, k))
    results = []
    for limit in (0, 10 ** 9):
        monkeypatch.setattr(conv_ops, "_PER_IMAGE_MAX", limit)
        xs, ws = shendu.tensor(x, requires_grad=True), shendu.tensor(w, requires_grad=True)
        y = F.conv2d(xs, ws, stride=2, padding=1, groups=groups)
        g = np.random.default_rng(1).standard_normal(y.shape)
        y.backward(shendu.tensor(g))
        yt = F.conv_transpose2d(shendu.tensor(g), ws, stride=2, padding=1, groups=groups)
        results.append([y.detach().numpy(), xs.grad.numpy(), ws.grad.numpy(),
                        yt.detach().numpy()])
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_empty_batch():
    x = shendu.zeros(0, 3, 5, 5, requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    y = conv(x)
    assert y.shape == (0, 4, 5, 5)
    y.sum().backward()
    assert x.grad.shape == x.shape and float(conv.weight.grad.abs().sum()) == 0
    assert nn.ConvTranspose2d(3, 2, 2, stride=2)(shendu.zeros(0, 3, 4, 4)).shape == (0, 2, 8, 8)
    assert F.unfold(shendu.zeros(0, 2, 4, 4), 2).shape == (0, 8, 9)


def test_conv2d_edge_detector_example():
    """The course's worked example: a vertical edge between two flat regions."""
    img = np.zeros((1, 1, 6, 6))
    img[..., :3] = 10.0
    kernel = np.array([[1.0, 0.0, -1.0]] * 3).reshape(1, 1, 3, 3)
    y = F.conv2d(shendu.tensor(img), shendu.tensor(kernel))
    np.testing.assert_array_equal(y.numpy()[0, 0], [[0, 30, 30, 0]] * 4)


def test_same_padding_keeps_size_and_puts_the_extra_row_after():
    x = shendu.tensor(np.arange(16.0, dtype=np.float32).reshape(1, 1, 4, 4))
    w = shendu.ones(1, 1, 2, 2)
    y = F.conv2d(x, w, padding="same")
    assert y.shape == (1, 1, 4, 4)
    # even kernel: total padding 1 goes after (bottom/right), so y[0, 0] sums x[0:2, 0:2]
    assert y.numpy()[0, 0, 0, 0] == 0 + 1 + 4 + 5
    assert y.numpy()[0, 0, 3, 3] == 15


def test_unfold_layout_and_fold_counts():
    x = shendu.tensor(np.arange(1.0, 10.0, dtype=np.float32).reshape(1, 1, 3, 3))
    cols = F.unfold(x, kernel_size=2)
    np.testing.assert_array_equal(cols.numpy()[0], [[1, 2, 4, 5], [2, 3, 5, 6], [4, 5, 7, 8],
                                                    [5, 6, 8, 9]])
    counts = F.fold(F.unfold(shendu.ones(1, 2, 4, 5), 3, padding=1), (4, 5), 3, padding=1)
    assert counts.numpy()[0, 0, 0, 0] == 4 and counts.numpy()[0, 1, 1, 1] == 9


def test_conv2d_as_unfold_then_matmul():
    """conv2d == W.reshape(O, -1) @ unfold(x): the im2col identity the docstrings teach."""
    rng = np.random.default_rng(3)
    x = shendu.tensor(rng.standard_normal((2, 3, 6, 7)))
    w = shendu.tensor(rng.standard_normal((4, 3, 3, 2)))
    y = F.conv2d(x, w, stride=2, padding=1)
    cols = F.unfold(x, (3, 2), stride=2, padding=1)
    np.testing.assert_allclose((w.reshape(4, -1) @ cols).numpy(),
                               y.numpy().reshape(2, 4, -1), atol=1e-12)


def test_float32_stays_float32_and_results_are_compact():
    x = shendu.randn(2, 3, 8, 8, requires_grad=True)
    conv = nn.Conv2d(3, 4, 3, padding=1)
    up = nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1, bias=False)
    y = up(conv(x))
    assert y.dtype == shendu.float32 and y.shape == (2, 2, 16, 16)
    assert y._data.flags.c_contiguous
    y.sum().backward()
    for t in (x, conv.weight, conv.bias, up.weight):
        assert t.grad.dtype == shendu.float32 and t.grad.shape == t.shape
        assert np.isfinite(t.grad.numpy()).all()


def test_weight_grad_only_when_input_is_constant():
    """The first layer of a network: no gradient for the images, one for the weights."""
    x = shendu.randn(3, 1, 6, 6)
    conv = nn.Conv2d(1, 2, 3)
    conv(x).sum().backward()
    assert x.grad is None
    np.testing.assert_allclose(conv.bias.grad.numpy(), [3 * 16] * 2)


def test_second_derivative_gradient_penalty():
    """A WGAN-GP style penalty P = ||d critic / d x||^2 through strided convolutions: its
    gradient in the weights (a second derivative) against central differences of P."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 6, 6))
    ws = [rng.standard_normal((3, 1, 3, 3)), rng.standard_normal((1, 3, 3, 3))]

    def penalty(w1, w2):
        xt = shendu.tensor(x, requires_grad=True)
        h = shendu.tanh(F.conv2d(xt, w1, stride=2, padding=1))
        out = F.conv_transpose2d(h, w2.transpose(0, 1), stride=1).sum()
        g, = shendu.autograd.grad(out, xt, create_graph=True)
        return (g * g).sum()

    params_ = [shendu.tensor(w, requires_grad=True) for w in ws]
    penalty(*params_).backward()
    for _ in range(3):
        d = [rng.standard_normal(w.shape) for w in ws]
        eps = 1e-6
        plus = penalty(*[shendu.tensor(w + eps * v) for w, v in zip(ws, d)]).item()
        minus = penalty(*[shendu.tensor(w - eps * v) for w, v in zip(ws, d)]).item()
        analytic = sum((p.grad.numpy() * v).sum() for p, v in zip(params_, d))
        np.testing.assert_allclose(analytic, (plus - minus) / (2 * eps), rtol=1e-6)


# ----------------------------------------------------------------------- layers
def test_layer_shapes_and_init_bounds():
    conv = nn.Conv2d(8, 16, (3, 5), groups=2)
    assert conv.weight.shape == (16, 4, 3, 5) and conv.bias.shape == (16,)
    bound = 1 / np.sqrt(4 * 15)  # kaiming_uniform_(a=sqrt(5)) -> U(+-1/sqrt(fan_in))
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / np.sqrt(3)) < 0.1 * bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    up = nn.ConvTranspose2d(6, 4, 3, groups=2, bias=False)
    assert up.weight.shape == (6, 2, 3, 3) and up.bias is None
    assert np.abs(up.weight.detach().numpy()).max() <= 1 / np.sqrt(2 * 9)
    assert nn.Conv1d(2, 3, 4).weight.shape == (3, 2, 4)
    assert nn.Conv3d(2, 3, 2).weight.shape == (3, 2, 2, 2, 2)
    assert nn.Conv2d(1, 2, 3, dtype=shendu.float64).weight.dtype == shendu.float64


def test_layer_repr():
    assert repr(nn.Conv2d(1, 32, 3, padding=1)) == \
        "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.Conv2d(3, 8, 3, padding="same", padding_mode="reflect", bias=False)) == \
        "Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, bias=False, " \
        "padding_mode=reflect)"
    assert repr(nn.ConvTranspose2d(3, 8, 3, stride=2, output_padding=1)) == \
        "ConvTranspose2d(3, 8, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))"
    assert repr(nn.Conv1d(2, 4, 3)) == "Conv1d(2, 4, kernel_size=(3,), stride=(1,))"


@pytest.mark.parametrize("mode", ["zeros", "reflect", "replicate", "circular"])
def test_padding_mode_layer_equals_pad_then_conv(mode):
    conv = nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode)
    x = shendu.randn(2, 2, 5, 6)
    fmode = "constant" if mode == "zeros" else mode
    ref = F.conv2d(F.pad(x, (2, 2, 1, 1), mode=fmode), conv.weight, conv.bias)
    np.testing.assert_allclose(conv(x).detach().numpy(), ref.detach().numpy(), atol=1e-6)
    same = nn.Conv2d(2, 2, 4, padding="same", padding_mode=mode)
    assert same(x).shape == x.shape


def test_unbatched_layer_input():
    conv = nn.Conv2d(3, 4, 3, padding=1)
    x = shendu.randn(3, 5, 5)
    y = conv(x)
    assert y.shape == (4, 5, 5)
    np.testing.assert_allclose(y.detach().numpy(), conv(x.unsqueeze(0))[0].detach().numpy())


def test_conv_transpose_output_size():
    down = nn.Conv2d(2, 2, 3, stride=2, padding=1)
    up = nn.ConvTranspose2d(2, 2, 3, stride=2, padding=1)
    for size in (7, 8):
        x = shendu.randn(1, 2, size, size)
        assert up(down(x), output_size=x.shape).shape == x.shape
        assert up(down(x), output_size=(size, size)).shape == x.shape
    with pytest.raises(ValueError, match=r"requested an output size of \[10, 10\], but valid "
                                         r"sizes range from \[7, 7\] to \[8, 8\]"):
        up(shendu.randn(1, 2, 4, 4), output_size=(10, 10))


# ----------------------------------------------------------------------- errors
def test_wrong_rank_names_the_expected_shape():
    with pytest.raises(ValueError, match=r"Conv2d expects input of shape \(N, C, H, W\) or "
                                         r"\(C, H, W\), got \(28, 28\)"):
        nn.Conv2d(1, 4, 3)(shendu.zeros(28, 28))
    with pytest.raises(ValueError, match=r"conv1d expects input of shape \(N, C, L\) or "
                                         r"\(C, L\), got \(2, 3, 4, 5\)"):
        F.conv1d(shendu.zeros(2, 3, 4, 5), shendu.zeros(1, 3, 2))


def test_channel_mismatch_names_in_channels():
    with pytest.raises(ValueError, match=r"Conv2d with in_channels=3 got input of shape "
                                         r"\(8, 1, 28, 28\) with 1 channels"):
        nn.Conv2d(3, 4, 3)(shendu.zeros(8, 1, 28, 28))
    with pytest.raises(ValueError, match="channels-last"):
        nn.Conv2d(3, 4, 3)(shendu.zeros(8, 28, 28, 3))
    with pytest.raises(ValueError, match=r"conv2d: the weight of shape \(4, 2, 3, 3\) with "
                                         r"groups=1 expects input with 2 channels"):
        F.conv2d(shendu.zeros(1, 3, 5, 5), shendu.zeros(4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"expects input with 4 channels \(in_channels\), "
                                         r"got 3"):
        F.conv_transpose2d(shendu.zeros(1, 3, 5, 5), shendu.zeros(4, 2, 3, 3))


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match=r"in_channels \(3\) must be divisible by groups \(2\)"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(5\) must be divisible by groups"):
        nn.Conv2d(4, 5, 3, groups=2)
    with pytest.raises(ValueError, match=r"out_channels \(5, weight.shape\[0\]\) must be "
                                         r"divisible by groups \(2\)"):
        F.conv2d(shendu.zeros(1, 4, 5, 5), shendu.zeros(5, 2, 3, 3), groups=2)


def test_kernel_larger_than_padded_input():
    with pytest.raises(ValueError, match=r"Conv2d: the kernel 5x5 spans 5x5, larger than the "
                                         r"padded input 3x3"):
        nn.Conv2d(1, 1, 5)(shendu.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match=r"with dilation \(2, 2\) spans 5x5"):
        F.conv2d(shendu.zeros(1, 1, 4, 4), shendu.zeros(1, 1, 3, 3), dilation=2)
    assert F.conv2d(shendu.zeros(1, 1, 3, 3), shendu.zeros(1, 1, 5, 5), padding=1).shape == \
        (1, 1, 1, 1)


def test_argument_errors():
    x, w = shendu.zeros(1, 1, 5, 5), shendu.zeros(1, 1, 3, 3)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        F.conv2d(x, w, stride=2, padding="same")
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        nn.Conv2d(1, 1, 3, stride=2, padding="same")
    with pytest.raises(ValueError, match=r"padding must be an int, a tuple, 'same' or 'valid', "
                                         r"got 'full'"):
        F.conv2d(x, w, padding="full")
    with pytest.raises(ValueError, match=r"stride must be positive, got \(0, 0\)"):
        F.conv2d(x, w, stride=0)
    with pytest.raises(ValueError, match=r"padding must be an int or a tuple of 2 ints, got "
                                         r"\(1, 2, 3\)"):
        F.conv2d(x, w, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="output_padding .* must be smaller than either stride"):
        F.conv_transpose2d(x, w, stride=2, output_padding=2)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        nn.Conv2d(1, 1, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="only padding_mode='zeros'"):
        nn.ConvTranspose2d(1, 1, 3, padding_mode="reflect")
    with pytest.raises(ValueError, match=r"weight must be 4-D"):
        F.conv2d(x, shendu.zeros(1, 3, 3))
    with pytest.raises(TypeError, match=r"the input is float64 but the weight is float32"):
        F.conv2d(x.double(), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(1,\), got \(2,\)"):
        F.conv2d(x, w, shendu.zeros(2))
    with pytest.raises(ValueError, match=r"fold: .* has 3x3 = 9 patches, but the input has 12"):
        F.fold(shendu.zeros(1, 4, 12), (4, 5), 2, stride=2, padding=1)
    with pytest.raises(ValueError, match=r"divisible by kH \* kW = 4"):
        F.fold(shendu.zeros(1, 5, 12), (4, 5), 2)
