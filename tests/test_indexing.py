"""Indexing ops: x[index], gather, scatter_add, index_select, masked_fill, take_along_dim,
one_hot. Forward values, float64 gradcheck, second derivatives, errors, properties.

Cases are written once against a library ``lib`` (shendu or torch) and squared, so
the second derivative runs each op's backward on an input-dependent gradient.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
from harness import Case, check_gradcheck, check_gradgradcheck, params


def _torch():
    import torch
    return torch


def case(name, f, shapes, **kw):
    """A Case from ``f(lib, *tensors)``, the same code for shendu and torch."""
    return Case(name, lambda *xs: f(shendu, *xs) ** 2, lambda *xs: f(_torch(), *xs) ** 2,
                shapes, **kw)


def T(lib, data, dtype=None):
    """An index tensor of ``lib``."""
    return lib.tensor(data) if dtype is None else lib.tensor(data, dtype=dtype)


MASK_34 = [[True, False, True, False], [False, False, False, False], [True, True, True, True]]

GETITEM = [
    # basic indexing
    case("int", lambda lib, a: a[1], [(3, 4)]),
    case("neg_int", lambda lib, a: a[-1], [(3, 4)]),
    case("two_ints", lambda lib, a: a[1, -2], [(3, 4)]),
    case("slice", lambda lib, a: a[1:3], [(4, 3)]),
    case("slice_step", lambda lib, a: a[::2, 1::2], [(5, 4)]),
    case("col", lambda lib, a: a[:, 1], [(3, 4)]),
    case("ellipsis", lambda lib, a: a[..., 0], [(2, 3, 4)]),
    case("ellipsis_mid", lambda lib, a: a[1, ..., 1:], [(2, 3, 4)]),
    case("none", lambda lib, a: a[None, 1], [(3, 4)]),
    case("none_mixed", lambda lib, a: a[:, None, 2:, None], [(3, 4)]),
    case("scalar_all", lambda lib, a: a[...], [()]),
    case("scalar_none", lambda lib, a: a[None], [()]),
    case("scalar_empty_tuple", lambda lib, a: a[()], [()]),
    case("zero_d_index", lambda lib, a: a[T(lib, 1)], [(3, 4)]),
    # advanced: integer arrays (repeats accumulate in the gradient)
    case("list", lambda lib, a: a[[0, 2]], [(3, 4)]),
    case("repeated", lambda lib, a: a[[0, 0, 2, 0]], [(3, 4)]),
    case("tensor_2d", lambda lib, a: a[T(lib, [[0, 1], [1, 1]])], [(3, 2)]),
    case("col_repeated", lambda lib, a: a[:, [2, 2, 0]], [(3, 4)]),
    case("pairs", lambda lib, a: a[[0, 1, 1], [1, 2, 2]], [(3, 4)]),
    case("pairs_broadcast", lambda lib, a: a[T(lib, [[0], [2]]), T(lib, [1, 1, 3])], [(3, 4)]),
    case("separated_advanced", lambda lib, a: a[[0, 1], :, [1, 1]], [(2, 3, 4)]),
    case("adjacent_advanced", lambda lib, a: a[:, [0, 2], [1, 1]], [(2, 3, 4)]),
    case("ellipsis_array", lambda lib, a: a[..., [0, 0]], [(2, 3, 2)]),
    case("int_and_array", lambda lib, a: a[1, [0, 2, 0]], [(3, 4)]),
    case("array_slice_none", lambda lib, a: a[[1, 0], 1:, None], [(3, 4)]),
    case("negative_indices", lambda lib, a: a[[-1, -3, -1]], [(3, 2)]),
    # advanced: boolean masks
    case("mask_full", lambda lib, a: a[T(lib, MASK_34)], [(3, 4)]),
    case("mask_rows", lambda lib, a: a[T(lib, [True, False, True])], [(3, 4)]),
    case("mask_cols", lambda lib, a: a[:, T(lib, [False, True, True, False])], [(3, 4)]),
    case("mask_list", lambda lib, a: a[[True, False, True]], [(3, 2)]),
    case("mask_leading", lambda lib, a: a[T(lib, [[True, False, True], [False, True, True]])],
         [(2, 3, 2)]),
    case("mask_and_int", lambda lib, a: a[T(lib, [True, False, True]), 1], [(3, 4)]),
]

# negative steps: PyTorch has none, so the torch side uses the equivalent integer index
NEGATIVE_STEPS = [
    Case("reverse", lambda a: a[::-1] ** 2, lambda a: a[[2, 1, 0]] ** 2, [(3, 4)]),
    Case("reverse_cols_step", lambda a: a[:, 3:0:-2] ** 2, lambda a: a[:, [3, 1]] ** 2, [(3, 4)]),
    Case("reverse_both", lambda a: a[::-1, ::-2] ** 2,
         lambda a: a[[2, 1, 0]][:, [3, 1]] ** 2, [(3, 4)]),
    Case("reverse_then_array", lambda a: a[::-1][[0, 0]] ** 2,
         lambda a: a[[2, 2]] ** 2, [(3, 2)]),
]

IDX_23 = [[0, 1, 1], [2, 2, 0]]

OTHERS = [
    case("gather0", lambda lib, a: a.gather(0, T(lib, [[0, 1, 1, 0], [1, 1, 1, 1]])), [(2, 4)]),
    case("gather1", lambda lib, a: a.gather(1, T(lib, IDX_23)), [(2, 3)]),
    case("gather_smaller", lambda lib, a: a.gather(1, T(lib, [[2, 2]])), [(3, 4)]),
    case("gather_3d", lambda lib, a: a.gather(-1, T(lib, [[[1], [0], [1]]] * 2)), [(2, 3, 2)]),
    case("scatter_add0", lambda lib, a, s: a.scatter_add(0, T(lib, [[0, 1, 0], [0, 0, 0]]), s),
         [(2, 3), (2, 3)]),
    case("scatter_add1", lambda lib, a, s: a.scatter_add(1, T(lib, IDX_23), s), [(2, 4), (2, 3)]),
    # src larger than index: only its leading part is used (zero gradient elsewhere)
    case("scatter_add_small_index",
         lambda lib, a, s: a.scatter_add(1, T(lib, [[1, 1]]), s), [(2, 3), (2, 4)]),
]
# PyTorch 2.13's own backward fails for that case ("ScatterAddBackward0 returned an
# invalid gradient ... got [1, 2]"), so PyTorch only checks the gradient of ``a`` there
OTHERS[-1] = Case(OTHERS[-1].name, OTHERS[-1].fn, None, OTHERS[-1].shapes)
OTHERS += [
    case("scatter_add_small_index_a", lambda lib, a, s: a.scatter_add(1, T(lib, [[1, 1]]), s),
         [(2, 3), (2, 4)], differentiable=[True, False]),
    case("index_select0", lambda lib, a: a.index_select(0, T(lib, [2, 0, 2])), [(3, 4)]),
    case("index_select1", lambda lib, a: a.index_select(1, T(lib, [1, 1])), [(2, 3, 2)]),
    case("index_select_last", lambda lib, a: a.index_select(-1, T(lib, [0])), [(2, 3)]),
    case("masked_fill", lambda lib, a: a.masked_fill(T(lib, MASK_34), 0.5), [(3, 4)]),
    case("masked_fill_broadcast", lambda lib, a: a.masked_fill(T(lib, [True, False, True]), -1.0),
         [(2, 3)]),
    case("masked_fill_value_tensor", lambda lib, a, v: a.masked_fill(T(lib, MASK_34), v),
         [(3, 4), ()]),
    case("take_along_dim", lambda lib, a: lib.take_along_dim(a, T(lib, [[0, 0], [2, 1]]), dim=1),
         [(2, 3)]),
    case("take_along_dim_broadcast",
         lambda lib, a: lib.take_along_dim(a, T(lib, [[[1]], [[0]]]), dim=1), [(2, 3, 4)]),
    case("take_along_dim_flat", lambda lib, a: lib.take_along_dim(a, T(lib, [5, 0, 0])),
         [(2, 3)]),
]

CASES = GETITEM + NEGATIVE_STEPS + OTHERS


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


# ------------------------------------------------------------------ values and gradients
def test_repeated_indices_accumulate_gradient():
    x = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]


def test_repeated_pairs_accumulate_gradient():
    x = shendu.zeros(2, 3, requires_grad=True)
    x[[1, 1, 0], [2, 2, 2]].backward(shendu.tensor([1.0, 10.0, 100.0]))
    assert x.grad.tolist() == [[0, 0, 100], [0, 0, 11]]


def test_masks_and_arrays_in_many_forms_match_numpy():
    a = np.arange(60.0).reshape(3, 4, 5)
    x = shendu.tensor(a)
    mask = a[:, :, 0] % 8 == 0
    forms = [
        (1, -1), (slice(None, None, -1), 2), (Ellipsis, slice(3, 0, -2)), (None, 0, None),
        ([2, 0, 2],), (slice(None), [3, 3], [4, 0]), ([0, 2], slice(1, 3), [1, 4]),
        (mask,), (mask, 3), (np.array([True, False, True]), Ellipsis, [0, 4]),
        (np.array([[0, 1], [2, 2]]), None, slice(None, None, 2)),
        (Ellipsis, None), ([1, 2, 0],), (np.int64(2), [1]),
    ]
    for f in forms:
        want = a[f]
        got = x[tuple(shendu.tensor(i) if isinstance(i, np.ndarray) else i for i in f)]
        assert got.shape == want.shape, f
        np.testing.assert_array_equal(got.numpy(), want, err_msg=str(f))
        xg = shendu.tensor(a, requires_grad=True)
        xg[f].sum().backward()
        # each element's gradient counts how often the index picked it
        expected = np.zeros_like(a)
        flat_ids = np.arange(a.size).reshape(a.shape)[f]
        np.add.at(expected.reshape(-1), np.asarray(flat_ids).reshape(-1), 1.0)
        np.testing.assert_array_equal(xg.grad.numpy(), expected, err_msg=str(f))


def test_basic_indexing_backward_is_plain_assignment():
    x = shendu.arange(12.0).reshape(3, 4).requires_grad_()
    y = x[1:, ::-2]
    y.backward(shendu.ones(2, 2) * 5)
    assert x.grad.tolist() == [[0, 0, 0, 0], [0, 5, 0, 5], [0, 5, 0, 5]]


def test_getitem_double_backward_with_repeats():
    # f(x) = sum(x[idx]^3) -> df/dx_i = 3 c_i x_i^2, d2f/dx_i^2 = 6 c_i x_i (c = counts)
    x = shendu.tensor([1.0, -2.0, 0.5], dtype=shendu.float64, requires_grad=True)
    idx = [0, 2, 0, 0]
    g, = shendu.autograd.grad((x[idx] ** 3).sum(), x, create_graph=True)
    c = np.array([3.0, 0.0, 1.0])
    np.testing.assert_allclose(g.detach().numpy(), 3 * c * x._data ** 2)
    h, = shendu.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * c * x._data)


def test_scatter_add_and_gather_values():
    x = shendu.zeros(2, 4)
    idx = shendu.tensor([[0, 1, 0], [3, 3, 3]])
    src = shendu.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    assert x.scatter_add(1, idx, src).tolist() == [[4, 2, 0, 0], [0, 0, 0, 15]]
    assert x.tolist() == [[0] * 4] * 2  # out of place
    y = shendu.arange(8.0).reshape(2, 4)
    assert y.gather(1, idx).tolist() == [[0, 1, 0], [7, 7, 7]]


def test_masked_fill_value_gradient_and_dtype():
    x = shendu.ones(2, 3, requires_grad=True)
    v = shendu.tensor(2.0, requires_grad=True)
    mask = shendu.tensor([[True, False, False], [True, True, False]])
    y = x.masked_fill(mask, v)
    assert y.dtype == shendu.float32
    assert y.tolist() == [[2, 1, 1], [2, 2, 1]]
    (y * shendu.arange(6.0).reshape(2, 3)).sum().backward()
    assert v.grad.item() == 0 + 3 + 4
    assert x.grad.tolist() == [[0, 1, 2], [0, 0, 5]]
    assert x.masked_fill(mask, np.float64(1.5)).dtype == shendu.float32


def test_one_hot():
    out = shendu.one_hot(shendu.tensor([[0, 3], [1, 1]]))
    assert out.shape == (2, 2, 4) and out.dtype == np.int64 and not out.requires_grad
    assert out.tolist() == [[[1, 0, 0, 0], [0, 0, 0, 1]], [[0, 1, 0, 0], [0, 1, 0, 0]]]
    assert shendu.one_hot(shendu.tensor([2]), num_classes=5).tolist() == [[0, 0, 1, 0, 0]]
    assert shendu.one_hot(np.array([1, 0])).tolist() == [[0, 1], [1, 0]]


def test_index_select_and_take_along_dim_values():
    x = shendu.arange(6.0).reshape(2, 3)
    assert x.index_select(1, shendu.tensor([2, 2, 0])).tolist() == [[2, 2, 0], [5, 5, 3]]
    assert x.index_select(0, shendu.tensor(1)).tolist() == [[3, 4, 5]]
    am = x.argmax(dim=1, keepdim=True) if hasattr(shendu, "argmax") else shendu.tensor([[2], [2]])
    assert shendu.take_along_dim(x, am, dim=1).tolist() == [[2], [5]]
    assert shendu.take_along_dim(x, shendu.tensor([5, 0])).tolist() == [5, 0]


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, exc, message", [
    (lambda x: x[3], IndexError, r"getitem: index 3 is out of bounds for axis 0 with size 3 "
                                 r"\(indexing a tensor of shape \(3, 4\)\)"),
    (lambda x: x[[0, 5]], IndexError, r"getitem: index 5 is out of bounds"),
    (lambda x: x[0, 0, 0], IndexError, r"getitem: too many indices"),
    (lambda x: x[shendu.tensor([0.0, 1.0])], IndexError,
     r"getitem: tensors used as indices must be integer or boolean, got float32"),
    (lambda x: x[1.5], IndexError, r"getitem: indices must be integers"),
    (lambda x: x[shendu.tensor([True, False])], IndexError, r"getitem: .*boolean"),
    (lambda x: x.gather(1, shendu.tensor([[0.0]])), TypeError,
     r"gather: index must be an integer tensor, got float32"),
    (lambda x: x.gather(1, shendu.tensor([0, 1])), ValueError,
     r"gather: index must have as many dimensions as the input \(2, shape \(3, 4\)\)"),
    (lambda x: x.gather(1, shendu.tensor([[4]])), IndexError,
     r"gather: index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.gather(0, shendu.tensor([[-1]])), IndexError, r"gather: index -1 is out of"),
    (lambda x: x.gather(0, shendu.zeros(1, 5, dtype=shendu.int64)), ValueError,
     r"gather: index of shape \(1, 5\) is larger than the input of shape \(3, 4\) at dimension 1"),
    (lambda x: x.gather(2, shendu.tensor([[0]])), IndexError, r"gather: dimension 2 is out of range"),
    (lambda x: x.scatter_add(0, shendu.tensor([[0]]), shendu.ones(1, 1, dtype=shendu.float64)),
     TypeError, r"scatter_add: src must have the dtype of the tensor \(float32\), got float64"),
    (lambda x: x.scatter_add(0, shendu.tensor([[0, 0]]), shendu.ones(1, 1)), ValueError,
     r"scatter_add: index of shape \(1, 2\) must not be larger than src of shape \(1, 1\)"),
    (lambda x: x.scatter_add(0, shendu.tensor([[3]]), shendu.ones(1, 1)), IndexError,
     r"scatter_add: index 3 is out of bounds for dimension 0 with size 3"),
    (lambda x: x.index_select(0, shendu.tensor([0.5])), TypeError,
     r"index_select: index must be an integer tensor, got float32"),
    (lambda x: x.index_select(1, shendu.tensor([4])), IndexError,
     r"index_select: index 4 is out of bounds for dimension 1 with size 4"),
    (lambda x: x.index_select(0, shendu.tensor([[0]])), ValueError, r"index must be 0-d or 1-D"),
    (lambda x: x.masked_fill(shendu.tensor([1, 0, 1, 0]), 0.0), TypeError,
     r"masked_fill: mask must be a boolean tensor, got int64"),
    (lambda x: x.masked_fill(shendu.ones(3, dtype=shendu.bool), 0.0), ValueError,
     r"masked_fill: mask of shape \(3,\) does not broadcast to the tensor's shape \(3, 4\)"),
    (lambda x: x.masked_fill(shendu.ones(2, 3, 4, dtype=shendu.bool), 0.0), ValueError,
     r"mask of shape \(2, 3, 4\) does not broadcast"),
    (lambda x: shendu.take_along_dim(x, shendu.tensor([[0.0]]), 1), TypeError,
     r"take_along_dim: indices must be an integer tensor, got float32"),
    (lambda x: shendu.take_along_dim(x, shendu.tensor([[0]] * 2), 1), ValueError,
     r"take_along_dim: input of shape \(3, 4\) and indices of shape \(2, 1\) do not broadcast"),
    (lambda x: shendu.one_hot(shendu.tensor([0, -2, 1])), ValueError,
     r"one_hot: labels must be non-negative class indices, got -2"),
    (lambda x: shendu.one_hot(shendu.tensor([0, 7, 1]), 5), ValueError,
     r"one_hot: label 7 is out of range for num_classes=5"),
    (lambda x: shendu.one_hot(shendu.tensor([0.0, 1.0])), TypeError,
     r"one_hot: labels must be an integer tensor, got float32"),
])
def test_errors_are_readable(call, exc, message):
    with pytest.raises(exc, match=message):
        call(shendu.ones(3, 4))


# ------------------------------------------------------------------ properties
def _slices(n):
    bound = st.one_of(st.none(), st.integers(-n - 2, n + 2))
    step = st.one_of(st.none(), st.integers(-3, 3).filter(lambda s: s != 0))
    return st.builds(slice, bound, bound, step)


@settings(deadline=None, max_examples=80)
@given(st.data())
def test_random_slices_match_numpy(data):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    items = [data.draw(st.one_of(_slices(n), st.integers(-n, n - 1))) for n in shape]
    # an Ellipsis stands for a run of dims; trailing dims may be left out
    p = data.draw(st.integers(0, len(items)))
    q = data.draw(st.integers(p, len(items)))
    items = items[:p] + [Ellipsis] + items[q:] if data.draw(st.booleans()) else items[:p]
    for _ in range(data.draw(st.integers(0, 2))):
        items.insert(data.draw(st.integers(0, len(items))), None)
    index = tuple(items)
    a = np.random.default_rng(0).standard_normal(shape)
    x = shendu.tensor(a, requires_grad=True)
    y = x[index]
    want = a[index]
    assert y.shape == want.shape
    np.testing.assert_array_equal(y.detach().numpy(), want)
    g = np.random.default_rng(1).standard_normal(want.shape)
    y.backward(shendu.tensor(g))
    expected = np.zeros_like(a)
    expected[index] = g
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@settings(deadline=None, max_examples=60)
@given(st.data())
def test_random_integer_arrays_accumulate_like_add_at(data):
    shape = data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple))
    k = data.draw(st.integers(1, len(shape)))
    m = data.draw(st.integers(0, 6))
    idx = tuple(np.array(data.draw(st.lists(st.integers(-n, n - 1), min_size=m, max_size=m)),
                         dtype=np.int64) for n in shape[:k])
    a = np.random.default_rng(0).standard_normal(shape)
    x = shendu.tensor(a, requires_grad=True)
    y = x[tuple(shendu.tensor(i) for i in idx)]
    np.testing.assert_array_equal(y.detach().numpy(), a[idx])
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(shendu.tensor(g))
    expected = np.zeros_like(a)
    np.add.at(expected, idx, g)
    np.testing.assert_allclose(x.grad.numpy(), expected, rtol=1e-12, atol=1e-12)
