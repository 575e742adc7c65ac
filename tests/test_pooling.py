"""Pooling ops (max/avg/lp/adaptive/unpool, 1-3 spatial dims): float64 gradcheck and
gradgradcheck from one table, plus values, ties, indices, output sizes and errors.

tests/conformance/test_pooling_torch.py runs the same CASES against PyTorch 2.13.
"""
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import shendu
import shendu.nn as nn
import shendu.nn.functional as F
from harness import Case, check_gradcheck, check_gradgradcheck, params, positive


def TF(name, **kw):
    """torch.nn.functional.<name>(x, **kw), imported only when called."""
    def f(*ts):
        import torch.nn.functional as tf
        return getattr(tf, name)(*ts, **kw)
    return f


def distinct(rng, shape):
    """Values at least 0.08 apart: no ties inside a window, so max pooling is
    differentiable where gradcheck probes it."""
    n = int(np.prod(shape))
    return (rng.permutation(n).reshape(shape) - n / 2) * 0.1 + rng.uniform(-0.01, 0.01, shape)


def op(name, **kw):
    """shendu's F.<name>(x, **kw) and PyTorch's, as a Case's two callables."""
    return (lambda x: getattr(F, name)(x, **kw)), TF(name, **kw)


def squared(name, **kw):
    """F.<name>(x, **kw) ** 2: its second derivative runs the pooling's own backward
    through autograd again (a linear op alone has a zero Hessian)."""
    return ((lambda x: getattr(F, name)(x, **kw) ** 2),
            (lambda x: getattr(__import__("torch").nn.functional, name)(x, **kw) ** 2))


def case(name, shape, domain=None, **kw):
    fn, tfn = op(name, **kw)
    tag = ",".join(f"{k}={v}" for k, v in kw.items())
    extra = {} if domain is None else {"domain": domain}
    return Case(f"{name}[{tag}]", fn, tfn, [shape], **extra)


def case_sq(name, shape, domain=None, **kw):
    fn, tfn = squared(name, **kw)
    tag = ",".join(f"{k}={v}" for k, v in kw.items())
    extra = {} if domain is None else {"domain": domain}
    return Case(f"{name}_squared[{tag}]", fn, tfn, [shape], **extra)


MAX2D = [  # (shape, kwargs): odd sizes, stride > 1, padding, ceil_mode, dilation, overlap
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=2)),
    ((2, 2, 7, 9), dict(kernel_size=3, stride=2)),
    ((2, 2, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 2, 7, 9), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ((2, 2, 8, 9), dict(kernel_size=(2, 3), stride=1, dilation=2)),
    ((2, 2, 9, 8), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    ((2, 2, 6, 7), dict(kernel_size=2, stride=1)),
    ((1, 3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))),
    ((2, 2, 8, 9), dict(kernel_size=2, stride=3)),  # gaps between windows
    ((1, 2, 9, 9), dict(kernel_size=2, stride=4, dilation=2, padding=1, ceil_mode=True)),
    ((3, 7, 9), dict(kernel_size=3, stride=2, padding=1)),  # unbatched (C, H, W)
]

AVG2D = [
    ((2, 3, 8, 8), dict(kernel_size=2)),
    ((2, 3, 7, 9), dict(kernel_size=2)),
    ((2, 2, 7, 9), dict(kernel_size=3, stride=2)),
    ((2, 2, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 2, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
    ((2, 2, 7, 9), dict(kernel_size=3, stride=2, ceil_mode=True)),
    ((2, 2, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True)),
    ((2, 2, 8, 7), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True,
                        count_include_pad=False)),
    ((2, 2, 6, 7), dict(kernel_size=2, stride=1)),
    ((1, 3, 7, 6), dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0))),
    ((2, 2, 7, 7), dict(kernel_size=3, stride=2, padding=1, divisor_override=5)),
    ((2, 2, 8, 9), dict(kernel_size=2, stride=3, padding=1, ceil_mode=True)),
    ((3, 7, 9), dict(kernel_size=3, stride=2, padding=1, count_include_pad=False)),
]

ADAPTIVE_2D = [1, 3, (5, 2), (7, 4), (2, None), (10, 12)]  # on (2, 3, 7, 9): uneven, overlapping

CASES = (
    [case("max_pool2d", s, distinct, **kw) for s, kw in MAX2D]
    + [case("max_pool1d", (2, 3, 9), distinct, kernel_size=3, stride=2, padding=1,
            ceil_mode=True),
       case("max_pool1d", (2, 3, 8), distinct, kernel_size=2),
       case("max_pool1d", (2, 2, 9), distinct, kernel_size=2, stride=1, dilation=3),
       case("max_pool3d", (1, 2, 4, 5, 6), distinct, kernel_size=2, stride=(1, 2, 2),
            padding=1),
       case("max_pool3d", (1, 2, 4, 4, 4), distinct, kernel_size=2)]
    + [case("avg_pool2d", s, **kw) for s, kw in AVG2D]
    + [case("avg_pool1d", (2, 3, 9), kernel_size=3, stride=2, padding=1, ceil_mode=True),
       case("avg_pool1d", (2, 3, 9), kernel_size=3, stride=2, padding=1,
            count_include_pad=False),
       case("avg_pool3d", (1, 2, 4, 5, 6), kernel_size=2, stride=(1, 2, 2), padding=1),
       case("avg_pool3d", (1, 2, 5, 5, 5), kernel_size=3, stride=2, padding=1,
            count_include_pad=False, ceil_mode=True)]
    + [case("lp_pool2d", (2, 2, 7, 9), norm_type=2, kernel_size=3, stride=2),
       case("lp_pool2d", (2, 2, 7, 9), positive, norm_type=3, kernel_size=2, ceil_mode=True),
       case("lp_pool1d", (2, 3, 9), positive, norm_type=1.5, kernel_size=3, stride=2)]
    + [case("adaptive_avg_pool2d", (2, 3, 7, 9), output_size=o) for o in ADAPTIVE_2D]
    + [case("adaptive_avg_pool1d", (2, 3, 7), output_size=o) for o in (1, 3, 5, 10)]
    + [case("adaptive_avg_pool3d", (1, 2, 3, 5, 7), output_size=(2, 3, 4)),
       case("adaptive_avg_pool2d", (3, 7, 9), output_size=(4, 5))]
    + [case("adaptive_max_pool2d", (2, 3, 7, 9), distinct, output_size=o) for o in ADAPTIVE_2D]
    + [case("adaptive_max_pool1d", (2, 3, 7), distinct, output_size=o) for o in (1, 3, 5, 10)]
    + [case("adaptive_max_pool3d", (1, 2, 3, 5, 7), distinct, output_size=(2, 3, 4)),
       case("adaptive_max_pool2d", (3, 8, 8), distinct, output_size=4)]
    # second derivatives through the pooling's backward (pool(x) ** 2)
    + [case_sq("max_pool2d", (2, 2, 7, 9), distinct, kernel_size=3, stride=2, padding=1),
       case_sq("max_pool2d", (2, 2, 6, 6), distinct, kernel_size=2),
       case_sq("max_pool1d", (2, 2, 9), distinct, kernel_size=2, stride=1),
       case_sq("avg_pool2d", (2, 2, 7, 9), kernel_size=3, stride=2, padding=1,
               count_include_pad=False, ceil_mode=True),
       case_sq("adaptive_avg_pool2d", (2, 2, 7, 9), output_size=(3, 4)),
       case_sq("adaptive_max_pool2d", (2, 2, 7, 9), distinct, output_size=(3, 4))]
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


def _unpool_case():
    x = np.random.default_rng(3).permutation(2 * 2 * 6 * 6).reshape(2, 2, 6, 6).astype(float)
    _, idx = F.max_pool2d(shendu.tensor(x), 2, return_indices=True)
    return idx


def test_max_unpool2d_gradcheck_and_values():
    idx = _unpool_case()
    y = shendu.randn(2, 2, 3, 3, dtype=shendu.float64, requires_grad=True)
    assert shendu.autograd.gradcheck(lambda t: F.max_unpool2d(t, idx, 2), [y])
    assert shendu.autograd.gradgradcheck(lambda t: F.max_unpool2d(t, idx, 2) ** 2, [y])
    out = F.max_unpool2d(y, idx, 2).detach().numpy()
    assert out.shape == (2, 2, 6, 6)
    assert np.count_nonzero(out) == y.numel()  # every value placed once, zeros elsewhere
    flat = out.reshape(2, 2, -1)
    np.testing.assert_array_equal(np.take_along_axis(flat, idx.numpy().reshape(2, 2, -1), 2),
                                  y.detach().numpy().reshape(2, 2, -1))


# ------------------------------------------------------------------------- values
def test_max_pool2d_values_and_indices():
    x = shendu.tensor([[[[1.0, 2.0, 5.0, 0.0],
                         [3.0, 4.0, 1.0, 1.0],
                         [0.0, 9.0, 2.0, 2.0]]]])
    y, idx = F.max_pool2d(x, 2, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), [[[[4.0, 5.0]]]])
    np.testing.assert_array_equal(idx.numpy(), [[[[5, 2]]]])
    assert idx.dtype == np.int64
    y, idx = F.max_pool2d(x, 2, ceil_mode=True, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), [[[[4.0, 5.0], [9.0, 2.0]]]])
    np.testing.assert_array_equal(idx.numpy(), [[[[5, 2], [9, 10]]]])
    y, idx = F.max_pool2d(x, 3, stride=1, padding=1, return_indices=True)
    np.testing.assert_array_equal(y.numpy()[0, 0, 0], [4, 5, 5, 5])
    np.testing.assert_array_equal(idx.numpy()[0, 0, 2], [9, 9, 9, 10])


def test_max_pool_ties_send_gradient_to_the_first_maximum():
    # all-zero windows (as after a ReLU) and a tie inside a window
    x = shendu.tensor([[[[0.0, 0.0, 3.0, 3.0],
                         [0.0, 0.0, 3.0, 1.0]]]], requires_grad=True)
    F.max_pool2d(x, 2).backward(shendu.tensor([[[[1.0, 2.0]]]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[[[1, 0, 2, 0], [0, 0, 0, 0]]]])
    # overlapping windows: each window's first maximum gets that window's gradient
    x = shendu.tensor([[[1.0, 1.0, 1.0]]], requires_grad=True)
    F.max_pool1d(x, 2, stride=1).backward(shendu.tensor([[[1.0, 10.0]]]))
    np.testing.assert_array_equal(x.grad.numpy(), [[[1, 10, 0]]])


def test_max_pool_nan_propagates():
    x = shendu.tensor([[[1.0, float("nan"), 2.0, 3.0]]], requires_grad=True)
    y = F.max_pool1d(x, 2)
    assert np.isnan(y.detach().numpy()[0, 0, 0]) and y.detach().numpy()[0, 0, 1] == 3
    y.backward(shendu.ones(1, 1, 2))
    np.testing.assert_array_equal(x.grad.numpy(), [[[0, 1, 0, 1]]])


def test_max_pool_padding_never_wins():
    x = shendu.tensor([[[-5.0, -7.0, -6.0]]])
    y, idx = F.max_pool1d(x, 3, stride=2, padding=1, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), [[[-5.0, -6.0]]])
    np.testing.assert_array_equal(idx.numpy(), [[[0, 2]]])


def test_avg_pool2d_padding_and_divisors():
    x = shendu.tensor([[[[1.0, 2.0], [3.0, 6.0]]]])
    np.testing.assert_allclose(F.avg_pool2d(x, 2, stride=1, padding=1).numpy()[0, 0],
                               [[0.25, 0.75, 0.5], [1.0, 3.0, 2.0], [0.75, 2.25, 1.5]])
    np.testing.assert_allclose(F.avg_pool2d(x, 2, stride=1, padding=1,
                                            count_include_pad=False).numpy()[0, 0],
                               [[1, 1.5, 2], [2, 3, 4], [3, 4.5, 6]])
    np.testing.assert_allclose(F.avg_pool2d(x, 2, divisor_override=2).numpy(), [[[[6.0]]]])
    # ceil_mode: the last window runs past the input; it divides by its in-bounds size
    y = F.avg_pool1d(shendu.tensor([[[1.0, 2.0, 3.0, 4.0, 5.0]]]), 2, ceil_mode=True)
    np.testing.assert_allclose(y.numpy(), [[[1.5, 3.5, 5.0]]])


def test_adaptive_pools_values():
    x = shendu.arange(1.0, 8.0).reshape(1, 1, 7)  # windows [0,3) [2,5) [4,7) for 3 outputs
    np.testing.assert_allclose(F.adaptive_avg_pool1d(x, 3).numpy(), [[[2.0, 4.0, 6.0]]])
    y, idx = F.adaptive_max_pool1d(x, 3, return_indices=True)
    np.testing.assert_array_equal(y.numpy(), [[[3.0, 5.0, 7.0]]])
    np.testing.assert_array_equal(idx.numpy(), [[[2, 4, 6]]])
    x = shendu.arange(12.0).reshape(1, 1, 3, 4)
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, 1).numpy(), [[[[5.5]]]])
    np.testing.assert_allclose(F.adaptive_avg_pool2d(x, (3, 4)).numpy(), x.numpy())
    y, idx = F.adaptive_max_pool2d(x, (2, 3), return_indices=True)
    np.testing.assert_array_equal(y.numpy(), [[[[5, 6, 7], [9, 10, 11]]]])
    np.testing.assert_array_equal(idx.numpy(), [[[[5, 6, 7], [9, 10, 11]]]])
    # a tie across the overlap of two windows: each window takes its own first maximum
    y, idx = F.adaptive_max_pool1d(shendu.tensor([[[0.0, 0.0, 0.0]]]), 2, return_indices=True)
    np.testing.assert_array_equal(idx.numpy(), [[[0, 1]]])


def test_adaptive_avg_keeps_inf_local():
    x = shendu.tensor([[[1.0, float("inf"), 2.0, 3.0, 4.0]]])
    y = F.adaptive_avg_pool1d(x, 3).numpy()[0, 0]
    assert np.isinf(y[0]) and np.isinf(y[1]) and y[2] == 3.5


def test_lp_pool_values():
    x = shendu.tensor([[[3.0, 4.0, 1.0, 1.0]]])
    np.testing.assert_allclose(F.lp_pool1d(x, 2, 2).numpy(), [[[5.0, np.sqrt(2)]]], rtol=1e-6)
    np.testing.assert_allclose(F.lp_pool1d(x, 1, 2).numpy(), [[[7.0, 2.0]]], rtol=1e-6)


def test_output_sizes_follow_the_formula():
    for h in range(3, 12):
        for k, s, p, d, ceil in [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 2, 1, 2, False),
                                 (2, 3, 1, 1, True), (3, 1, 0, 2, True)]:
            if (d * (k - 1) + 1) > h + 2 * p:
                continue
            span = h + 2 * p - d * (k - 1) - 1
            out = (-(-span // s) if ceil else span // s) + 1
            if ceil and (out - 1) * s >= h + p:
                out -= 1
            y = F.max_pool1d(shendu.ones(1, 1, h), k, s, p, d, ceil_mode=ceil)
            assert y.shape == (1, 1, out), (h, k, s, p, d, ceil)


def test_pooling_keeps_float32_and_no_graph_without_grad():
    x = shendu.randn(2, 3, 8, 8)
    for y in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2), F.adaptive_avg_pool2d(x, 3),
              F.adaptive_max_pool2d(x, 3), F.lp_pool2d(x, 2, 2)):
        assert y.dtype == shendu.float32 and not y.requires_grad
    with shendu.no_grad():
        assert F.max_pool2d(shendu.randn(1, 1, 4, 4, requires_grad=True), 2).grad_fn is None


def test_max_pool_backward_scatters_through_strided_slices(monkeypatch):
    """The backward of max_pool (kernel == stride, and overlapping windows too) writes
    through strided slices: the index scatter (bincount) is only for double backward
    and adaptive windows."""
    calls = []
    real = np.bincount
    monkeypatch.setattr(np, "bincount", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = shendu.randn(2, 3, 8, 8, requires_grad=True)
    F.max_pool2d(x, 2).sum().backward()
    F.max_pool2d(x, 3, stride=1, padding=1).sum().backward()
    assert not calls
    F.adaptive_max_pool2d(x, 3).sum().backward()
    assert calls


# ------------------------------------------------------------------------- properties
def _reference_pool1d(x, k, s, p, d, ceil, count_include_pad, kind):
    """Pooling by the definition, one window at a time (what the strided views replace);
    returns the output and d(sum(out * w))/dx for w = 1, 2, 3, ..."""
    n = x.shape[-1]
    span = n + 2 * p - d * (k - 1) - 1
    out = (-(-span // s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= n + p:
        out -= 1
    y = np.zeros(x.shape[:-1] + (out,))
    grad = np.zeros_like(x)
    for o in range(out):
        w = o + 1.0
        pos = [o * s - p + j * d for j in range(k)]
        inside = [q for q in pos if 0 <= q < n]
        if kind == "max" and not inside:  # a window of padding only (dilation): -inf, as
            y[..., o] = -np.inf          # PyTorch gives, and no gradient
        elif kind == "max":
            vals = x[..., inside]
            first = vals.argmax(axis=-1)  # the first maximum
            y[..., o] = vals.max(axis=-1)
            np.put_along_axis(grad, np.asarray(inside)[first][..., None],
                              np.take_along_axis(grad, np.asarray(inside)[first][..., None],
                                                 -1) + w, -1)
        else:
            end = min(o * s - p + k, n + p)
            div = (end - (o * s - p)) if count_include_pad else len(inside)
            y[..., o] = x[..., inside].sum(axis=-1) / div
            grad[..., inside] += w / div
    return y, grad


@settings(deadline=None, max_examples=60)
@given(n=st.integers(1, 12), k=st.integers(1, 4), s=st.integers(1, 4), p=st.integers(0, 2),
       d=st.integers(1, 3), ceil=st.booleans(), cip=st.booleans(),
       kind=st.sampled_from(["max", "avg"]), seed=st.integers(0, 100))
@example(n=1, k=2, s=1, p=1, d=2, ceil=False, cip=False, kind="max", seed=0)  # padding only
def test_pool1d_matches_the_definition(n, k, s, p, d, ceil, cip, kind, seed):
    if kind == "avg":
        d = 1
    if p > k // 2 or d * (k - 1) + 1 > n + 2 * p:
        return
    x = np.random.default_rng(seed).standard_normal((2, 3, n)).round(1)  # ties happen
    t = shendu.tensor(x, requires_grad=True)
    if kind == "max":
        y = F.max_pool1d(t, k, s, p, d, ceil_mode=ceil)
    else:
        y = F.avg_pool1d(t, k, s, p, ceil_mode=ceil, count_include_pad=cip)
    ref, ref_grad = _reference_pool1d(x, k, s, p, d, ceil, cip, kind)
    np.testing.assert_allclose(y.detach().numpy(), ref, rtol=1e-12, atol=1e-12)
    (y * shendu.tensor(np.arange(1.0, y.shape[-1] + 1))).sum().backward()
    np.testing.assert_allclose(t.grad.numpy(), ref_grad, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------- errors
def test_pooling_errors_name_the_op_and_shapes():
    x = shendu.randn(1, 1, 5, 5)
    with pytest.raises(ValueError, match=r"max_pool2d: padding should be at most half of "
                       r"kernel_size.*padding=\(2, 2\) and kernel_size=\(3, 3\)"):
        F.max_pool2d(x, 3, padding=2)
    with pytest.raises(ValueError, match=r"max_pool2d: the input of shape \(1, 1, 5, 5\) is "
                       r"too small for kernel_size=\(7, 7\).*larger than the padded input "
                       r"\(5, 5\).*output size of \(0, 0\)"):
        F.max_pool2d(x, 7)
    with pytest.raises(ValueError, match=r"avg_pool2d: expected an input of shape "
                       r"\(N, C, H, W\) or \(C, H, W\).*got shape \(5, 5\)"):
        F.avg_pool2d(shendu.randn(5, 5), 2)
    with pytest.raises(ValueError, match=r"max_pool2d: stride must be positive"):
        F.max_pool2d(x, 2, stride=0)
    with pytest.raises(ValueError, match=r"kernel_size must be an int or a tuple of 2 ints"):
        F.max_pool2d(x, (2, 2, 2))
    with pytest.raises(TypeError, match=r"floating point input, got int64"):
        F.max_pool2d(shendu.tensor(np.ones((1, 1, 4, 4), dtype=np.int64)), 2)
    with pytest.raises(ValueError, match=r"adaptive_avg_pool2d: output_size must be an int or "
                       r"a tuple of 2 ints"):
        F.adaptive_avg_pool2d(x, (1, 2, 3))
    with pytest.raises(ValueError, match=r"divisor_override must be a non-zero number"):
        F.avg_pool2d(x, 2, divisor_override=0)
    with pytest.raises(ValueError, match=r"MaxPool2d: padding should be at most half"):
        nn.MaxPool2d(2, padding=2)(x)
    with pytest.raises(ValueError, match=r"AvgPool1d: expected an input of shape \(N, C, L\)"):
        nn.AvgPool1d(2)(x)
    with pytest.raises(ValueError, match=r"max_unpool2d: output_size \(9, 9\) must be within "
                       r"one stride"):
        y, i = F.max_pool2d(x, 2, return_indices=True)
        F.max_unpool2d(y, i, 2, output_size=(9, 9))


# ------------------------------------------------------------------------- modules
def test_pool_modules_forward_and_repr():
    x = shendu.randn(2, 3, 9, 9)
    assert nn.MaxPool2d(3, 2, 1)(x).shape == (2, 3, 5, 5)
    y, idx = nn.MaxPool2d(2, return_indices=True)(x)
    assert y.shape == idx.shape == (2, 3, 4, 4)
    np.testing.assert_array_equal(nn.MaxUnpool2d(2)(y, idx, output_size=(9, 9)).shape,
                                  (2, 3, 9, 9))
    assert nn.AvgPool2d(3, ceil_mode=True)(x).shape == (2, 3, 3, 3)
    assert nn.AdaptiveMaxPool2d((2, None))(x).shape == (2, 3, 2, 9)
    assert nn.LPPool2d(2, 3)(x).shape == (2, 3, 3, 3)
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool1d(2)) == "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))"
    assert repr(nn.AdaptiveAvgPool2d((1, 1))) == "AdaptiveAvgPool2d(output_size=(1, 1))"
    assert repr(nn.MaxPool1d(3, 1, 1, ceil_mode=True)) == \
        "MaxPool1d(kernel_size=3, stride=1, padding=1, dilation=1, ceil_mode=True)"
    assert list(nn.MaxPool2d(2).parameters()) == []
