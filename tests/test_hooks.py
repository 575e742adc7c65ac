"""Tensor.register_hook: gradient hooks on leaves and intermediate results."""
import numpy as np
import pytest

import shendu


def test_leaf_hook_replaces_gradient_before_accumulation():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    (x * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20.0, 40.0])
    (x * x).sum().backward()  # hooks run on each backward's gradient, then accumulate
    np.testing.assert_allclose(x.grad.numpy(), [40.0, 80.0])


def test_intermediate_hook_changes_what_flows_back_and_what_retain_grad_sees():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen = []
    y.register_hook(lambda g: seen.append(g.numpy().copy()) or g * 2)
    y.retain_grad()
    (y * y).sum().backward()
    np.testing.assert_allclose(seen[0], [6.0, 12.0])  # dL/dy = 2y
    np.testing.assert_allclose(y.grad.numpy(), [12.0, 24.0])
    np.testing.assert_allclose(x.grad.numpy(), [36.0, 72.0])


def test_hook_returning_none_only_observes_and_hooks_chain_in_order():
    x = shendu.tensor([1.0, -1.0], requires_grad=True)
    calls = []
    x.register_hook(lambda g: calls.append("observe"))
    x.register_hook(lambda g: calls.append("double") or g * 2)
    x.register_hook(lambda g: calls.append("negate") or -g)
    x.sum().backward()
    assert calls == ["observe", "double", "negate"]
    np.testing.assert_allclose(x.grad.numpy(), [-2.0, -2.0])


def test_remove_and_context_manager():
    x = shendu.tensor([1.0], requires_grad=True)
    handle = x.register_hook(lambda g: g * 100)
    handle.remove()
    x.sum().backward()
    assert x.grad.item() == 1.0
    with x.register_hook(lambda g: g * 0):
        pass
    x.grad = None
    x.sum().backward()
    assert x.grad.item() == 1.0


def test_hook_on_input_of_autograd_grad_and_under_create_graph():
    x = shendu.tensor([1.0, 2.0], requires_grad=True, dtype=shendu.float64)
    x.register_hook(lambda g: g + 1)
    g, = shendu.autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(g.numpy(), [3.0, 5.0])
    z = shendu.tensor([1.0, 2.0], requires_grad=True, dtype=shendu.float64)
    handle = z.register_hook(lambda g: g * g)  # differentiable: d/dz (3z^2)^2 = 36 z^3
    g, = shendu.autograd.grad((z ** 3).sum(), z, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [9.0, 144.0])
    handle.remove()  # (it would square this second gradient too)
    h, = shendu.autograd.grad(g.sum(), z)
    np.testing.assert_allclose(h.numpy(), [36.0, 288.0])


def test_hook_result_is_not_aliased_into_grad():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    stored = shendu.tensor([5.0, 5.0])
    x.register_hook(lambda g: stored)
    x.sum().backward()
    x.grad._data[0] = 0.0
    assert stored._data[0] == 5.0


def test_gradient_clipping_by_hook_like_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch 2.13 is the reference here")
    a = np.array([[0.5, -3.0], [2.0, 0.1]], dtype=np.float32)
    xs, xt = shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    outs = []
    for lib, x in ((shendu, xs), (torch, xt)):
        h = lib.tanh(x * 4)
        h.register_hook(lambda g, lib=lib: lib.clamp(g, -0.5, 0.5))
        (h ** 2 * x).sum().backward()
        outs.append(x.grad.numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


def test_errors():
    with pytest.raises(RuntimeError, match="does not require grad"):
        shendu.tensor([1.0]).register_hook(lambda g: g)
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="expects a function"):
        x.register_hook(3)
    x.register_hook(lambda g: shendu.zeros(3))
    with pytest.raises(RuntimeError, match=r"shape \(3,\) for a tensor of shape \(2,\)"):
        x.sum().backward()
    y = shendu.tensor([1.0], requires_grad=True)
    y.register_hook(lambda g: 1.0)
    with pytest.raises(TypeError, match="None or a Tensor, got float"):
        y.sum().backward()
