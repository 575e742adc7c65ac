"""Reductions: forward values, float64 gradcheck, second derivatives, errors, properties."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import shendu
from harness import Case, away_from_zero, check_gradcheck, check_gradgradcheck, params

INF = float("inf")


def with_zeros(count):
    """Standard normal values with ``count`` zeros in every row (last axis)."""
    def domain(rng, shape):
        x = rng.standard_normal(shape)
        if x.ndim:
            x[..., :count] = 0.0
            x = rng.permuted(x, axis=-1)
        return x
    return domain


def distinct(rng, shape):
    """A shuffled grid with gaps of 0.1: no ties, so max/min are differentiable."""
    n = int(np.prod(shape))
    return rng.permutation(np.linspace(-2, 2, n) if n > 1 else np.ones(n)).reshape(shape) + 0.01


def _reduce_cases(name, ours, theirs, configs, **kw):
    """One Case per (shape, kwargs); ``theirs`` may rename kwargs for PyTorch."""
    out = []
    for shape, args in configs:
        label = name + "-" + "-".join(f"{k}{v}" for k, v in args.items()).replace(" ", "")
        out.append(Case(label, lambda x, a=args: ours(x, **a),
                        None if theirs is None else (lambda x, a=args: theirs(x, **a)),
                        [shape], **kw))
    return out


SUM_CONFIGS = [((3, 4), {}), ((3, 4), {"dim": 0}), ((3, 4), {"dim": -1}),
               ((3, 4), {"dim": (0, 1), "keepdim": True}), ((2, 3, 4), {"dim": (0, 2)}),
               ((2, 3, 4), {"dim": 1, "keepdim": True}), ((), {}), ((5,), {"dim": 0})]


def _torch_dims(a):
    """PyTorch spells the NumPy aliases differently."""
    a = dict(a)
    if "axis" in a:
        a["dim"] = a.pop("axis")
    if "keepdims" in a:
        a["keepdim"] = a.pop("keepdims")
    if "ddof" in a:
        a["correction"] = a.pop("ddof")
    return a


CASES = (
    _reduce_cases("sum", lambda x, **a: x.sum(**a), lambda x, **a: x.sum(**a), SUM_CONFIGS)
    + _reduce_cases("sum_np", lambda x, **a: shendu.sum(x, **a),
                    lambda x, **a: x.sum(**_torch_dims(a)),
                    [((2, 3, 4), {"axis": (1, 2), "keepdims": True})])
    + _reduce_cases("mean", lambda x, **a: x.mean(**a), lambda x, **a: x.mean(**a), SUM_CONFIGS)
    + _reduce_cases("var", lambda x, **a: x.var(**a), lambda x, **a: x.var(**_torch_dims(a)),
                    [((3, 4), {}), ((3, 4), {"dim": 1}), ((3, 4), {"dim": 0, "unbiased": False}),
                     ((2, 3, 4), {"dim": (0, 2), "keepdim": True, "correction": 0}),
                     ((2, 3, 4), {"dim": -1, "ddof": 0}), ((5,), {"dim": 0, "correction": 2})])
    + _reduce_cases("std", lambda x, **a: x.std(**a), lambda x, **a: x.std(**_torch_dims(a)),
                    [((3, 4), {}), ((3, 4), {"dim": 1}), ((3, 4), {"dim": 0, "unbiased": False}),
                     ((2, 3, 4), {"dim": (1, 2), "keepdim": True})])
    + _reduce_cases("prod", lambda x, **a: x.prod(**a), lambda x, **a: x.prod(**a),
                    [((3, 4), {"dim": 1}), ((3, 4), {"dim": 0, "keepdim": True}),
                     ((2, 3), {})])
    + [Case("prod_all_2x3", lambda x: x.prod(), lambda x: x.prod(), [(2, 3)])]
    + _reduce_cases("prod_one_zero", lambda x, **a: x.prod(**a), lambda x, **a: x.prod(**a),
                    [((3, 4), {"dim": 1}), ((2, 3), {})], domain=with_zeros(1))
    + _reduce_cases("prod_two_zeros", lambda x, **a: x.prod(**a), lambda x, **a: x.prod(**a),
                    [((3, 4), {"dim": -1, "keepdim": True})], domain=with_zeros(2))
    + [Case("max_all", lambda x: x.max(), lambda x: x.max(), [(3, 4)], domain=distinct),
       Case("min_all", lambda x: x.min(), lambda x: x.min(), [(3, 4)], domain=distinct),
       Case("max_dim1", lambda x: x.max(dim=1).values, lambda x: x.max(dim=1).values,
            [(3, 4)], domain=distinct),
       Case("max_dim0_keep", lambda x: x.max(0, keepdim=True)[0],
            lambda x: x.max(0, keepdim=True)[0], [(3, 4)], domain=distinct),
       Case("min_dim-1", lambda x: shendu.min(x, dim=-1).values,
            lambda x: x.min(dim=-1).values, [(2, 3, 4)], domain=distinct),
       Case("max_0d_dim0", lambda x: x.max(dim=0).values, lambda x: x.max(dim=0).values,
            [()], domain=distinct)]
    + _reduce_cases("amax", lambda x, **a: x.amax(**a), lambda x, **a: x.amax(**a),
                    [((3, 4), {"dim": 1}), ((2, 3, 4), {"dim": (0, 2)}),
                     ((2, 3, 4), {"dim": -1, "keepdim": True})], domain=distinct)
    + _reduce_cases("amin", lambda x, **a: x.amin(**a), lambda x, **a: x.amin(**a),
                    [((3, 4), {"dim": 0}), ((2, 3, 4), {"dim": (1, 2), "keepdim": True})],
                    domain=distinct)
    + _reduce_cases("logsumexp", lambda x, **a: x.logsumexp(**a),
                    lambda x, **a: x.logsumexp(**a),
                    [((3, 4), {"dim": 1}), ((3, 4), {"dim": 0, "keepdim": True}),
                     ((2, 3, 4), {"dim": (0, 2)}), ((5,), {"dim": 0})])
    + _reduce_cases("norm", lambda x, **a: x.norm(**a), lambda x, **a: x.norm(**a),
                    [((3, 4), {}), ((3, 4), {"dim": 1}), ((3, 4), {"p": 2, "dim": 0, "keepdim": True}),
                     ((2, 3, 4), {"p": "fro", "dim": (1, 2)}), ((3, 4), {"p": 3, "dim": 1}),
                     ((3, 4), {"p": 1.5})])
    + _reduce_cases("norm", lambda x, **a: x.norm(**a), lambda x, **a: x.norm(**a),
                    [((3, 4), {"p": 1}), ((3, 4), {"p": 1, "dim": 1}),
                     ((3, 4), {"p": 0.5, "dim": 1})], domain=away_from_zero)
    + _reduce_cases("norm", lambda x, **a: x.norm(**a), lambda x, **a: x.norm(**a),
                    [((3, 4), {"p": INF}), ((3, 4), {"p": INF, "dim": 1}),
                     ((3, 4), {"p": -INF, "dim": 0, "keepdim": True})], domain=distinct)
    + _reduce_cases("cumsum", lambda x, **a: x.cumsum(**a), lambda x, **a: x.cumsum(**a),
                    [((3, 4), {"dim": 0}), ((3, 4), {"dim": -1}), ((5,), {"dim": 0}),
                     ((2, 3, 4), {"dim": 1})])
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


def squared(case):
    """The case with its output squared: the first gradient then depends on the
    input through the op's own output and through ``g``, so the second derivative
    exercises the backward run on Tensors (also for linear ops like sum)."""
    return dataclasses.replace(case, fn=lambda *xs: case.fn(*xs) ** 2)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(squared(case))


# ----------------------------------------------------------------------- values
def test_sum_mean_values_and_dtypes():
    x = shendu.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    np.testing.assert_array_equal(x.sum().numpy(), 21.0)
    np.testing.assert_array_equal(x.sum(0).numpy(), [5, 7, 9])
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).numpy(), [[6], [15]])
    np.testing.assert_allclose(x.mean(dim=1).numpy(), [2, 5])
    assert x.sum().dtype == shendu.float32 and x.mean(0).dtype == shendu.float32
    assert x.sum(dtype=shendu.float64).dtype == shendu.float64
    assert x.sum().shape == () and x.sum(dim=(0, 1), keepdim=True).shape == (1, 1)


def test_sum_of_ints_and_bools_is_int64_without_grad():
    b = shendu.tensor([[True, False, True], [True, True, True]])
    s = b.sum(dim=1)
    assert s.dtype == shendu.int64 and not s.requires_grad
    np.testing.assert_array_equal(s.numpy(), [2, 3])
    i = shendu.tensor([1, 2, 3], dtype=shendu.int32)
    assert i.sum().dtype == shendu.int64 and i.sum().item() == 6
    assert i.cumsum(0).dtype == shendu.int64
    assert i.prod().dtype == shendu.int64 and i.prod().item() == 6


def test_sum_gradient_is_broadcast_and_engine_copy_is_writable():
    x = shendu.ones(2, 3, requires_grad=True)
    x.sum(dim=1).backward(shendu.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1, 1], [2, 2, 2]])
    x.grad._data[0, 0] = 5.0  # the leaf's grad is its own array, not a broadcast view
    assert x.grad.numpy()[1, 0] == 2.0


def test_empty_dim_tuple_follows_each_library():
    x = shendu.ones(2, 3)
    assert x.sum(dim=()).shape == ()  # PyTorch: every dimension
    assert x.sum(axis=()).shape == (2, 3)  # NumPy: none


def test_mean_of_int_tensor_asks_for_float():
    with pytest.raises(TypeError, match=r"mean: .*int64.*\.float\(\)"):
        shendu.tensor([1, 2, 3]).mean()
    assert shendu.tensor([1, 2, 4]).mean(dtype=shendu.float32).item() == pytest.approx(7 / 3)


def test_var_std_conventions():
    a = np.array([1.0, 2.0, 3.0, 4.0], dtype=np.float32)
    x = shendu.tensor(a)
    assert x.var().item() == pytest.approx(np.var(a, ddof=1))
    assert x.var(unbiased=False).item() == pytest.approx(np.var(a))
    assert x.var(correction=0).item() == pytest.approx(np.var(a))
    assert x.var(ddof=0).item() == pytest.approx(np.var(a))
    assert shendu.var(x, False).item() == pytest.approx(np.var(a))  # torch.var(x, unbiased)
    assert x.std().item() == pytest.approx(np.std(a, ddof=1))
    assert np.isnan(shendu.tensor([3.0]).var().item())  # n - 1 = 0, as in PyTorch
    with pytest.raises(TypeError, match="only one of unbiased, correction and ddof"):
        x.var(unbiased=True, ddof=0)


def test_prod_gradient_with_zeros_is_exact():
    x = shendu.tensor([[0.0, 2.0, 3.0], [0.0, 0.0, 3.0], [1.0, 2.0, 3.0]], requires_grad=True)
    x.prod(dim=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[6, 0, 0], [0, 0, 0], [6, 3, 2]])
    y = shendu.tensor([2.0, 0.0, 5.0], requires_grad=True)
    y.prod().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [0, 10, 0])


def test_max_full_splits_gradient_among_ties():
    x = shendu.tensor([[1.0, 3.0], [3.0, 2.0]], requires_grad=True)
    m = x.max()
    assert m.item() == 3.0 and m.shape == ()
    m.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0.5], [0.5, 0]])
    x.grad = None
    x.amin(dim=0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 0], [0, 1]])
    z = shendu.tensor([2.0, 2.0, 2.0, 1.0], requires_grad=True)
    z.amax().backward()
    np.testing.assert_allclose(z.grad.numpy(), [1 / 3, 1 / 3, 1 / 3, 0])


def test_max_with_dim_returns_values_and_indices():
    x = shendu.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]], requires_grad=True)
    out = x.max(dim=1)
    values, indices = out
    assert out.values is values and out.indices is indices
    np.testing.assert_array_equal(values.detach().numpy(), [5, 7])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == shendu.int64 and not indices.requires_grad
    values.sum().backward()  # the one index returned gets the gradient, like PyTorch
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    kept = x.min(1, keepdim=True)
    assert kept.values.shape == (2, 1) and kept.indices.shape == (2, 1)
    np.testing.assert_array_equal(kept.indices.numpy(), [[0], [2]])
    assert type(out).__name__ == "max" and type(kept).__name__ == "min"


def test_max_of_two_tensors_is_elementwise():
    a, b = shendu.tensor([1.0, 5.0]), shendu.tensor([3.0, 2.0])
    np.testing.assert_array_equal(shendu.max(a, b).numpy(), [3, 5])
    np.testing.assert_array_equal(shendu.min(a, b).numpy(), [1, 2])


def test_max_errors():
    with pytest.raises(TypeError, match=r"max: dim must be an int .*amax"):
        shendu.ones(2, 3).max(dim=(0, 1))
    with pytest.raises(ValueError, match=r"max: cannot reduce an empty tensor of shape \(0, 3\)"):
        shendu.ones(0, 3).max()
    with pytest.raises(IndexError, match=r"amax: dimension 3 is out of range .* 2 dimensions"):
        shendu.ones(2, 3).amax(dim=3)


def test_argmax_argmin():
    x = shendu.tensor([[1.0, 5.0, 5.0], [7.0, 2.0, 0.0]], requires_grad=True)
    am = x.argmax()
    assert am.dtype == shendu.int64 and am.item() == 3 and am.shape == ()
    np.testing.assert_array_equal(x.argmax(dim=1).numpy(), [1, 0])  # first of the ties
    np.testing.assert_array_equal(x.argmin(dim=0).numpy(), [0, 1, 1])
    assert x.argmax(1, keepdim=True).shape == (2, 1)
    assert x.argmax(keepdim=True).shape == (1, 1)
    assert not x.argmax().requires_grad
    np.testing.assert_array_equal(shendu.argmin(x, axis=-1).numpy(), [0, 2])


def test_logsumexp_is_stable_and_handles_masked_rows():
    x = shendu.tensor([1000.0, 1000.0])
    assert x.logsumexp(0).item() == pytest.approx(1000 + np.log(2))
    y = shendu.tensor([-1000.0, -1000.0])
    assert y.logsumexp(0).item() == pytest.approx(-1000 + np.log(2))
    m = shendu.tensor([[-INF, -INF], [0.0, -INF]], requires_grad=True)
    out = m.logsumexp(dim=1)
    np.testing.assert_array_equal(out.detach().numpy(), [-INF, 0.0])
    out.sum().backward()
    np.testing.assert_array_equal(m.grad.numpy(), [[0, 0], [1, 0]])


def test_norm_values_and_zero_vector_gradient():
    x = shendu.tensor([[3.0, -4.0], [0.0, 0.0]], requires_grad=True)
    n = x.norm(dim=1)
    np.testing.assert_allclose(n.detach().numpy(), [5, 0])
    n.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.6, -0.8], [0, 0]])  # 0, not nan
    assert x.norm(p=1).item() == 7 and x.norm(p=INF).item() == 4
    assert x.norm(p=0).item() == 2 and x.norm(p=-INF, dim=1)[0].item() == 3
    with pytest.raises(ValueError, match="norm: p='nuc' is not supported"):
        x.norm(p="nuc")


def test_cumsum_values_and_flatten_without_dim():
    x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(x.cumsum(dim=1).numpy(), [[1, 3], [3, 7]])
    np.testing.assert_array_equal(x.cumsum(axis=0).numpy(), [[1, 2], [4, 6]])
    np.testing.assert_array_equal(x.cumsum().numpy(), [1, 3, 6, 10])
    np.testing.assert_array_equal(shendu.tensor(2.0).cumsum(0).numpy(), 2.0)


def test_all_any():
    b = shendu.tensor([[True, False], [True, True]])
    np.testing.assert_array_equal(b.all(dim=1).numpy(), [False, True])
    np.testing.assert_array_equal(b.any(dim=0).numpy(), [True, True])
    assert b.all(dim=1, keepdim=True).shape == (2, 1)
    assert b.all().item() is False and b.any().item() is True
    f = shendu.tensor([0.0, 1.0], requires_grad=True)
    r = f.any()
    assert r.dtype == shendu.bool_ and not r.requires_grad


def test_dim_errors_are_readable():
    x = shendu.ones(2, 3)
    with pytest.raises(IndexError, match=r"sum: dimension -3 is out of range for a tensor "
                                         r"with 2 dimensions \(expected -2\.\.1\)"):
        x.sum(dim=-3)
    with pytest.raises(TypeError, match="give either dim or axis"):
        shendu.sum(x, dim=0, axis=1)
    with pytest.raises(IndexError, match="cumsum: dimension 2"):
        x.cumsum(2)


def test_double_backward_of_sum_matches_the_analytic_hessian():
    x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=shendu.float64, requires_grad=True)
    y = (x.sum(dim=1) ** 3).sum()  # d/dx = 3 s_i^2,  d2/dx_ij dx_ik = 6 s_i
    g, = shendu.autograd.grad(y, x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [[27, 27], [147, 147]])
    h, = shendu.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [[36, 36], [84, 84]])


# ----------------------------------------------------------------------- properties
@st.composite
def shape_and_dims(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=0, max_size=4)))
    ndim = len(shape)
    if ndim == 0 or draw(st.booleans()):
        dims = None
    else:
        picked = draw(st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim,
                               unique=True))
        dims = tuple(d - ndim if draw(st.booleans()) else d for d in picked)
        if len(dims) == 1 and draw(st.booleans()):
            dims = dims[0]
    return shape, dims, draw(st.booleans())


@settings(deadline=None, max_examples=60)
@given(shape_and_dims())
def test_sum_over_random_dims_matches_numpy_and_gradient_broadcasts(sdk):
    shape, dims, keep = sdk
    rng = np.random.default_rng(len(shape))
    a = rng.standard_normal(shape)
    x = shendu.tensor(a, requires_grad=True)
    y = x.sum(dim=dims, keepdim=keep)
    expected = np.sum(a, axis=dims, keepdims=keep)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(shendu.tensor(g))
    axes = tuple(range(len(shape))) if dims is None else np.atleast_1d(dims) % max(len(shape), 1)
    g_keep = g if keep else np.expand_dims(g, tuple(int(d) for d in axes))
    np.testing.assert_array_equal(x.grad.numpy(), np.broadcast_to(g_keep, shape))
    m = shendu.mean(shendu.tensor(a), axis=dims, keepdims=keep)
    np.testing.assert_allclose(m.numpy(), np.mean(a, axis=dims, keepdims=keep), rtol=1e-12)
