"""shendu.kernels.col2im2d: the compiled col2im (2-D transposed convolutions, every
convolution's input gradient, fold) agrees with the NumPy loop it replaces, for both
column layouts, strides, dilations and padding, and on whole conv/conv_transpose steps.

Skipped without numba (``pip install "shendu[jit]"``).
"""
import numpy as np
import pytest

import shendu
import shendu.nn.functional as F
from shendu import kernels
from shendu.ops import _im2col

pytest.importorskip("numba", reason='numba is not installed: the compiled kernels need '
                    'pip install "shendu[jit]"')


@pytest.fixture
def small_too(monkeypatch):
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 1)
    assert kernels.enabled()


@pytest.mark.parametrize("kernel,stride,pad,dilation", [
    ((3, 3), (1, 1), (1, 1), (1, 1)), ((4, 4), (2, 2), (1, 1), (1, 1)),
    ((2, 3), (2, 1), (0, 2), (1, 1)), ((3, 3), (1, 2), (2, 1), (2, 1)), ((1, 1), (3, 3), (0, 0), (1, 1))])
@pytest.mark.parametrize("layout", ["image_major", "kernel_major"])
def test_col2im_kernel_agrees_with_the_numpy_loop(small_too, kernel, stride, pad, dilation, layout):
    rng = np.random.default_rng(0)
    a, b, size = 3, 5, (9, 8)
    pads = tuple((p, p) for p in pad)
    out = _im2col._out_shape(size, kernel, stride, pads, dilation)
    if layout == "image_major":
        cols = rng.standard_normal((a, b) + kernel + out).astype(np.float32)
    else:
        cols = np.moveaxis(rng.standard_normal((a,) + kernel + (b,) + out).astype(np.float32),
                           3, 1)
    got = _im2col._col2im(np, cols, (a, b) + size, kernel, stride, pads, dilation)
    with kernels.disabled():
        want = _im2col._col2im(np, cols, (a, b) + size, kernel, stride, pads, dilation)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_other_layouts_and_dtypes_fall_back(small_too):
    gx = np.zeros((2, 3, 5, 5), np.float32)
    odd = np.zeros((3, 2, 2, 2, 4, 4), np.float32).transpose(1, 0, 2, 3, 4, 5)
    assert not kernels.col2im2d(odd, gx, (1, 1), (1, 1))
    assert not kernels.col2im2d(np.zeros((2, 3, 2, 2, 4, 4)), gx, (1, 1), (1, 1))  # float64
    with kernels.disabled():
        assert not kernels.col2im2d(np.zeros((2, 3, 2, 2, 4, 4), np.float32), gx, (1, 1), (1, 1))


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_steps_agree_with_the_numpy_code(transposed):
    """A DCGAN-sized layer (big enough for the kernel): forward and all three gradients."""
    rng = np.random.default_rng(1)
    if transposed:
        x = rng.standard_normal((16, 32, 7, 7)).astype(np.float32)
        w = (rng.standard_normal((32, 16, 4, 4)) * 0.1).astype(np.float32)
        fn = lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1)  # noqa: E731
    else:
        x = rng.standard_normal((16, 16, 14, 14)).astype(np.float32)
        w = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(np.float32)
        fn = lambda x, w, b: F.conv2d(x, w, b, padding=1)  # noqa: E731
    b = np.zeros(16 if transposed else 32, np.float32)

    def run():
        ts = [shendu.tensor(v, requires_grad=True) for v in (x, w, b)]
        y = fn(*ts)
        (y * y).sum().backward()
        return [y.detach().numpy()] + [t.grad.numpy() for t in ts]

    got = run()
    with kernels.disabled():
        want = run()
    for g, e in zip(got, want):
        np.testing.assert_allclose(g, e, rtol=1e-4, atol=1e-4)
