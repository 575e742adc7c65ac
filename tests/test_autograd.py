"""The autograd engine: accumulation, graph freeing, no_grad, in-place checks, custom
Functions, higher-order gradients, error messages."""
import numpy as np
import pytest

import shendu
from shendu.autograd import Function, gradcheck, numerical_gradient


def loss_func(out, lbl):
    loss = shendu.sum((out - lbl) ** 2, axis=-1)
    return shendu.mean(loss, axis=-1)


def test_course_first_snippet_lesson_4_6():
    """000 §4.6: the loss on out/lbl, L.backward(), one gradient step."""
    learning_rate = 0.1
    out = shendu.tensor([[0.1, 0.1, 0.1], [0.1, 1.0, 0.1]], requires_grad=True)
    lbl = shendu.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], requires_grad=True)
    L = loss_func(out, lbl)
    assert L.item() == pytest.approx(0.425, abs=1e-7)
    L.backward()
    np.testing.assert_allclose(out.grad.numpy(), [[-0.9, 0.1, 0.1], [0.1, 0.0, 0.1]], atol=1e-7)
    np.testing.assert_allclose(lbl.grad.numpy(), [[0.9, -0.1, -0.1], [-0.1, 0.0, -0.1]], atol=1e-7)
    out = out - learning_rate * out.grad
    out.grad = None
    lbl.grad = None
    L = loss_func(out, lbl)
    assert L.item() == pytest.approx(0.344249963760376, abs=1e-8)  # PyTorch 2.13, float32
    assert repr(L) == "tensor(0.3442, grad_fn=<MeanBackward>)"  # PyTorch prints the same


def test_gradients_accumulate_in_leaves():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2 + 3, 4 + 3])


def test_shared_input_gets_summed_gradient():
    x = shendu.tensor([3.0], requires_grad=True)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward(shendu.ones(1))
    assert x.grad.item() == 7.0


def test_leaf_grads_are_not_aliased():
    """y = a + b sends the same gradient array to both; in-place edits of one must not
    change the other."""
    a = shendu.ones(3, requires_grad=True)
    b = shendu.ones(3, requires_grad=True)
    (a + b).sum().backward()
    with shendu.no_grad():
        a.grad.mul_(10)
    np.testing.assert_array_equal(b.grad.numpy(), [1, 1, 1])


def test_long_chain_has_no_recursion_limit():
    x = shendu.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward(shendu.ones(1))
    assert x.grad.item() == pytest.approx(1.0001 ** 10_000, rel=1e-3)


def test_second_backward_through_freed_graph_raises():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_non_scalar_backward_needs_gradient():
    x = shendu.ones(2, 3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"only for scalar outputs.*shape \(2, 3\)"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"gradient has shape \(3,\) but the output has shape \(2, 3\)"):
        (x * 2).backward(shendu.ones(3))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        shendu.ones(2).sum().backward()


def test_no_grad_records_nothing():
    x = shendu.ones(2, requires_grad=True)
    with shendu.no_grad():
        y = x * 2 + 1
        assert not shendu.is_grad_enabled()
        with shendu.enable_grad():
            z = x * 2
    assert shendu.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad
    assert z.requires_grad and z.grad_fn is not None

    @shendu.no_grad()
    def infer(t):
        return t * 3

    assert not infer(x).requires_grad

    @shendu.set_grad_enabled(False)
    def infer2(t):
        return t * 3

    assert not infer2(x).requires_grad and shendu.is_grad_enabled()
    with shendu.set_grad_enabled(False):
        assert not (x * 1).requires_grad
    assert (x * 1).requires_grad


def test_inplace_on_leaf_requiring_grad_is_refused():
    w = shendu.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor that requires grad.*no_grad"):
        w.add_(1)
    with shendu.no_grad():
        w.sub_(shendu.ones(3), alpha=0.5)
    np.testing.assert_allclose(w.numpy() if not w.requires_grad else w.detach().numpy(), [0.5] * 3)


def test_inplace_change_of_saved_tensor_is_detected():
    w = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    with shendu.no_grad():
        w.mul_(2)
    with pytest.raises(RuntimeError, match=r"modified by an in-place operation.*version 1, expected version 0"):
        y.backward()


def test_inplace_ops_values_and_versions():
    t = shendu.zeros(3)
    t.fill_(2.0)
    t.add_(shendu.ones(3), alpha=3)
    t.mul_(2)
    t.clamp_(max=9.0)
    assert t.tolist() == [9.0, 9.0, 9.0]
    t.copy_(shendu.tensor([1.0, 2.0, 3.0]))
    t.zero_()
    assert t.tolist() == [0.0, 0.0, 0.0]
    assert t._version == 6
    with pytest.raises(RuntimeError, match=r"copy_: source of shape \(2,\)"):
        t.copy_(shendu.ones(2))


def test_setitem_only_without_grad():
    t = shendu.zeros(2, 3)
    t[0, 1] = 5.0
    t[1] = shendu.tensor([1.0, 2.0, 3.0])
    assert t.tolist() == [[0.0, 5.0, 0.0], [1.0, 2.0, 3.0]]
    w = shendu.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="item assignment"):
        w[0] = 1.0


def test_retain_grad_on_intermediate():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    h.retain_grad()
    (h * h).sum().backward()
    np.testing.assert_allclose(h.grad.numpy(), [6.0, 12.0])
    np.testing.assert_allclose(x.grad.numpy(), [18.0, 36.0])
    y = x * 2
    (y * 1).sum().backward()
    assert y.grad is None  # not retained


def test_detach_shares_data_and_cuts_graph():
    x = shendu.ones(2, requires_grad=True)
    d = (x * 2).detach()
    assert not d.requires_grad and d.grad_fn is None
    e = x.detach()
    e._data[0] = 7.0
    assert x._data[0] == 7.0


class Cube(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x ** 3

    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 3 * x ** 2 * g


class WrongCube(Cube):
    @staticmethod
    def backward(ctx, g):
        x, = ctx.saved_tensors
        return 2 * x ** 2 * g


def test_custom_function():
    x = shendu.tensor([2.0, -1.0], requires_grad=True)
    Cube.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [12.0, 3.0])
    xd = shendu.randn(4, dtype=shendu.float64, requires_grad=True)
    assert gradcheck(Cube.apply, [xd])


def test_gradcheck_catches_a_wrong_gradient():
    xd = shendu.randn(4, dtype=shendu.float64, requires_grad=True)
    with pytest.raises(AssertionError, match="gradcheck failed for input 0"):
        gradcheck(WrongCube.apply, [xd])
    assert gradcheck(WrongCube.apply, [xd], raise_exception=False) is False


def test_gradcheck_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        gradcheck(Cube.apply, [shendu.ones(2, requires_grad=True)])


def test_numerical_gradient_is_central_difference():
    g = numerical_gradient(lambda v: (v ** 3).sum(), np.array([1.0, -2.0, 0.5]))
    np.testing.assert_allclose(g, [3.0, 12.0, 0.75], rtol=1e-6)


def test_function_without_double_backward_says_so():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = Cube.apply(x).sum()
    with pytest.raises(RuntimeError, match="Cube does not support double backward"):
        shendu.autograd.grad(y, x, create_graph=True)


def test_autograd_grad_hessian_vector_product():
    x = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    f = (x ** 3).sum() + (x[0] * x[1] if hasattr(shendu, "getitem") else 0)
    g, = shendu.autograd.grad(f, x, create_graph=True)
    v = shendu.tensor([1.0, 0.0, 1.0])
    hv, = shendu.autograd.grad((g * v).sum(), x)
    # H = diag(6x) (+ [[0,1],[1,0]] block from x0*x1)
    expected = np.array([6.0, 0.0, 18.0]) + (np.array([0.0, 1.0, 0.0]) if hasattr(shendu, "getitem") else 0)
    np.testing.assert_allclose(hv.numpy(), expected)
    assert x.grad is None  # autograd.grad does not accumulate


def test_backward_create_graph_then_second_order():
    x = shendu.tensor([0.5, -1.0], requires_grad=True, dtype=shendu.float64)
    y = (shendu.exp(x) * x).sum()
    y.backward(create_graph=True)
    gx = x.grad  # (1 + x) e^x, itself differentiable
    assert gx.requires_grad
    x.grad = None
    gx.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), (2 + x.detach().numpy()) * np.exp(x.detach().numpy()))


def test_autograd_grad_unused_and_non_leaf():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    z = shendu.tensor([1.0], requires_grad=True)
    h = x * 2
    y = (h * h).sum()
    gh, gx = shendu.autograd.grad(y, [h, x], retain_graph=True)
    np.testing.assert_allclose(gh.numpy(), [4.0, 8.0])
    np.testing.assert_allclose(gx.numpy(), [8.0, 16.0])
    with pytest.raises(RuntimeError, match="input 1 .* was not used"):
        shendu.autograd.grad(y, [x, z], retain_graph=True)
    gx, gz = shendu.autograd.grad(y, [x, z], allow_unused=True)
    assert gz is None


def test_graph_to_dot():
    w = shendu.tensor([1.0], requires_grad=True)
    x = shendu.tensor([2.0])
    y = shendu.exp(w * x) + 1
    dot = shendu.autograd.graph_to_dot(y, names={"w": w, "x": x})
    assert dot.startswith("digraph shendu {") and dot.rstrip().endswith("}")
    for label in ("Exp", "Mul", "Add", 'label="w', 'label="x'):
        assert label in dot
    assert dot.count("->") == 5  # w->Mul, x->Mul, Mul->Exp, Exp->Add, Add->y


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="only floating point tensors can require gradients"):
        shendu.tensor([1, 2], requires_grad=True)


def test_dtypes_and_default_dtype():
    assert shendu.tensor([1.0]).dtype == shendu.float32
    assert shendu.tensor([1]).dtype == shendu.int64
    assert shendu.tensor([True]).dtype == shendu.bool
    assert shendu.tensor(np.array([1.0])).dtype == shendu.float64  # arrays keep their dtype
    assert shendu.tensor([1.0], dtype=shendu.float16).dtype == shendu.float16
    assert shendu.tensor([1], dtype="int32").dtype == shendu.int32
    shendu.set_default_dtype(shendu.float64)
    assert shendu.tensor([1.0]).dtype == shendu.float64 and shendu.zeros(2).dtype == shendu.float64
    shendu.set_default_dtype(shendu.float32)
    with pytest.raises(TypeError, match="floating"):
        shendu.set_default_dtype(shendu.int64)
    with pytest.raises(TypeError, match="unknown dtype"):
        shendu.tensor([1.0], dtype="float128x")


def test_manual_seed_repeats_every_random_op():
    def draw():
        return [shendu.rand(3).tolist(), shendu.randn(2, 2).tolist(),
                shendu.randint(0, 10, (5,)).tolist(), shendu.randperm(6).tolist(),
                shendu.randn_like(shendu.zeros(2)).tolist(), shendu.empty(2).normal_().tolist()]
    shendu.manual_seed(123)
    a = draw()
    shendu.manual_seed(123)
    assert draw() == a
    shendu.manual_seed(124)
    assert draw() != a


def test_creation_functions():
    assert shendu.zeros(2, 3).shape == (2, 3) and shendu.zeros((2, 3)).shape == (2, 3)
    assert shendu.ones(2).tolist() == [1.0, 1.0]
    assert shendu.full((2,), 7).dtype == shendu.int64
    assert shendu.full((2,), 7.0).tolist() == [7.0, 7.0]
    assert shendu.arange(5).tolist() == [0, 1, 2, 3, 4] and shendu.arange(5).dtype == shendu.int64
    assert shendu.arange(0, 1, 0.5).dtype == shendu.float32
    np.testing.assert_allclose(shendu.linspace(0, 1, 5).numpy(), [0, 0.25, 0.5, 0.75, 1])
    assert shendu.eye(2).tolist() == [[1.0, 0.0], [0.0, 1.0]]
    a = np.arange(3.0)
    t = shendu.from_numpy(a)
    a[0] = 9
    assert t.tolist() == [9.0, 1.0, 2.0]
    assert shendu.zeros_like(t).dtype == shendu.float64
    with pytest.raises(ValueError, match="non-negative"):
        shendu.zeros(-1)


def test_tensor_accessors():
    t = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.size() == (2, 2) and t.size(1) == 2 and t.ndim == 2 and t.dim() == 2
    assert t.numel() == 4 and len(t) == 2
    assert shendu.tensor([2.5]).item() == 2.5
    with pytest.raises(ValueError, match="one element"):
        t.item()
    assert t.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(RuntimeError, match=r"detach\(\).numpy\(\)"):
        shendu.ones(1, requires_grad=True).numpy()
    assert t.to(shendu.float64).dtype == shendu.float64 and t.long().dtype == shendu.int64
    assert t.device == "cpu" and str(t.device) == "cpu"


def test_cast_is_differentiable():
    x = shendu.tensor([1.0, 2.0], requires_grad=True)
    y = (x.double() * 3).sum()
    y.backward()
    assert x.grad.dtype == shendu.float32 and x.grad.tolist() == [3.0, 3.0]


def test_cuda_without_cupy_is_a_clear_error():
    if shendu.cuda_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match="needs CuPy"):
        shendu.ones(2).to("cuda")


def test_mixing_devices_is_a_clear_error(monkeypatch):
    """Pretend the second array lives on another device (no GPU needed)."""
    import types

    from shendu import backend
    fake = types.SimpleNamespace(__name__="cupy")
    a, b = shendu.ones(2), shendu.ones(2)
    real = backend.get_array_module
    monkeypatch.setattr(backend, "get_array_module", lambda *arrs: fake if arrs and arrs[0] is b._data else real(*arrs))
    with pytest.raises(RuntimeError, match="expected all tensors on the same device"):
        a + b


def test_repr_like_pytorch():
    assert repr(shendu.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(shendu.tensor([[-1.5, 0.25], [2.0, 3.0]])) == (
        "tensor([[-1.5000,  0.2500],\n        [ 2.0000,  3.0000]])")
    assert repr(shendu.tensor([1.0], requires_grad=True)) == "tensor([1.], requires_grad=True)"
    assert repr(shendu.tensor([1, 2])) == "tensor([1, 2])"
    assert repr(shendu.tensor([1.0], dtype=shendu.float64)) == "tensor([1.], dtype=shendu.float64)"
    assert repr(shendu.tensor(0.5)) == "tensor(0.5000)"
    x = shendu.tensor([1.0], requires_grad=True)
    assert repr(x * 2) == "tensor([2.], grad_fn=<MulBackward>)"


@pytest.mark.parametrize("make", [lambda x: x, lambda x: x * 1, lambda x: x + 0,
                                  lambda x: x.reshape(2, 3), lambda x: x.reshape(6)[:6]
                                  .reshape(2, 3)], ids=["leaf", "mul", "add", "reshape",
                                                        "slice"])
def test_the_callers_gradient_is_never_written_nor_shared(make):
    """backward(gradient=g) does not copy g up front; whatever could alias it (a leaf's
    .grad, an autograd.grad result, a view of g passed through) gets a copy."""
    x = shendu.tensor(np.ones((2, 3), np.float32), requires_grad=True)
    g = shendu.tensor(np.full((2, 3), 2.0, np.float32))
    make(x).backward(g)
    x.grad._data[...] = 7
    make(x).backward(g)  # accumulates into .grad
    x.grad._data[...] = 7
    gx, = shendu.autograd.grad(make(x), x, g)
    gx._data[...] = 9
    gy, = shendu.autograd.grad(make(x), x, g, create_graph=True)
    gy._data[...] = 9
    np.testing.assert_array_equal(g.numpy(), np.full((2, 3), 2.0, np.float32))


VIEWS = {"slice": lambda b: b[:2], "reshape": lambda b: b.reshape(3, 1),
         "transpose": lambda b: b.reshape(1, 3).T, "detach": lambda b: b.detach(),
         "view": lambda b: b.view(3), "unsqueeze": lambda b: b.unsqueeze(0),
         "expand_dims_then_slice": lambda b: b[None][:, 1:]}


@pytest.mark.parametrize("name", sorted(VIEWS))
def test_in_place_change_through_a_view_is_caught(name):
    """Views share their base's version counter (as in PyTorch): changing the memory a
    pending backward saved, through any view of it, raises instead of giving wrong grads."""
    x = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = shendu.ones(3)
    y = (x * base).sum()
    with shendu.no_grad():
        VIEWS[name](base).mul_(2)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_in_place_change_of_the_base_of_a_saved_view_is_caught():
    x = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = shendu.ones(3)
    y = (x[1:] * base[1:]).sum()
    base.add_(1)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        y.backward()


def test_a_copy_does_not_share_the_version_counter():
    x = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    base = shendu.ones(3)
    y = (x * base).sum()
    (base + 0).mul_(3)
    base.clone().mul_(3)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0, 1.0])
