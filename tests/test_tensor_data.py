"""``Tensor.data`` with PyTorch's semantics: a detached Tensor sharing memory, assignable."""
import numpy as np
import pytest

import shendu


def test_data_is_a_detached_tensor_sharing_memory():
    x = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    d = x.data
    assert isinstance(d, shendu.Tensor) and not d.requires_grad and d.grad_fn is None
    assert d.data_ptr() == x.data_ptr()
    d[0] = 9.0                       # a write through .data is seen by x ...
    assert x.tolist() == [9.0, 2.0, 3.0]
    assert x._version == 0           # ... but not recorded (PyTorch: .data is untracked)
    assert isinstance(x._data, np.ndarray)


def test_data_of_a_non_leaf_is_cut_from_the_graph():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    z = (y.data * 2).sum()
    assert not z.requires_grad
    (y.sum() + 0 * z).backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_manual_sgd_step_through_data_matches_plain_arithmetic():
    shendu.manual_seed(0)
    w = shendu.randn(4, 3, requires_grad=True)
    before = w.detach().numpy().copy()
    (w ** 2).sum().backward()
    w.data.add_(w.grad, alpha=-0.1)        # the PyTorch idiom
    np.testing.assert_allclose(w.detach().numpy(), before - 0.1 * 2 * before, rtol=1e-6)
    w.data.mul_(0.5).sub_(1.0)
    np.testing.assert_allclose(w.detach().numpy(), (before * 0.8) * 0.5 - 1.0, rtol=1e-6)
    assert w.requires_grad and w.grad is not None


def test_in_place_arithmetic_on_data_writes_the_parameter():
    p = shendu.nn.Parameter(shendu.zeros(3))
    p.data += 1
    p.data[1:] = shendu.tensor([5.0, 6.0])
    p.data[0] = np.float32(-1)
    assert p.tolist() == [-1.0, 5.0, 6.0] and isinstance(p, shendu.nn.Parameter)


def test_assigning_data_replaces_values_shape_and_dtype_but_keeps_identity():
    p = shendu.nn.Parameter(shendu.zeros(2, 2))
    p.data = shendu.ones(3)
    assert p.shape == (3,) and p.requires_grad and isinstance(p, shendu.nn.Parameter)
    p.data = np.arange(4, dtype=np.float64)
    assert p.dtype == shendu.float64 and p.tolist() == [0.0, 1.0, 2.0, 3.0]
    with pytest.raises(TypeError, match=r"Tensor\.data = \.\.\.: expected a Tensor or an array, "
                                        r"got list"):
        p.data = [1.0, 2.0]


def test_data_behaves_as_in_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch compares .data semantics")
    for lib in (shendu, torch):
        w = lib.ones(3, requires_grad=True)
        (w * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        w.data.add_(w.grad, alpha=-0.5)
        w.data[0] = 7.0
        v = w.data
        v.mul_(2)
        if lib is shendu:
            ours = (w.detach().numpy().copy(), w.requires_grad, v.requires_grad)
        else:
            theirs = (w.detach().numpy().copy(), w.requires_grad, v.requires_grad)
    np.testing.assert_allclose(ours[0], theirs[0])
    assert ours[1:] == theirs[1:]


def test_format_spec_on_0d_tensors_and_a_clear_error_otherwise():
    assert "{:+.2f} x^{}".format(shendu.tensor(-1.5), 2) == "-1.50 x^2"
    assert f"{shendu.tensor([1.0, 2.0])}" == str(shendu.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match=r"format spec '\.2f' given for a Tensor of shape "
                                        r"\(2,\): only 0-d tensors"):
        f"{shendu.tensor([1.0, 2.0]):.2f}"


def test_as_tensor_shares_numpy_memory_like_torch():
    torch = pytest.importorskip("torch", reason="PyTorch compares as_tensor's sharing")
    for dtype in (None, np.float64):
        a = np.arange(3.0)
        ours, theirs = shendu.as_tensor(a, dtype=dtype), torch.as_tensor(a, dtype=dtype and torch.float64)
        a[0] = 7.0
        assert ours.tolist() == theirs.tolist() == [7.0, 1.0, 2.0]
    a = np.arange(3.0)
    copied = shendu.as_tensor(a, dtype=shendu.float32)   # another dtype: a copy, as torch
    a[0] = 7.0
    assert copied.tolist() == [0.0, 1.0, 2.0] and copied.dtype == shendu.float32
    x = shendu.tensor([1.0])
    assert shendu.as_tensor(x) is x and shendu.as_tensor([1, 2]).dtype == shendu.int64
