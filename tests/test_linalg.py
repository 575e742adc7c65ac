"""Linear algebra: matmul (all 1-D/N-D cases, batch broadcasting), dot, outer, einsum,
tensordot: values, float64 gradcheck, second derivatives, errors, properties."""
import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import shendu
from harness import Case, check_gradcheck, check_gradgradcheck, params

MATMUL_SHAPES = [
    [(3,), (3,)],              # vector . vector -> 0-d
    [(2, 3), (3,)],            # matrix @ vector
    [(3,), (3, 4)],            # vector @ matrix
    [(2, 3), (3, 4)],
    [(2, 3, 4), (2, 4, 5)],    # batched
    [(2, 1, 3, 4), (5, 4, 2)],  # batch broadcasting -> (2, 5, 3, 2)
    [(4, 2, 3), (3, 5)],       # batch @ one matrix (folded into one GEMM)
    [(2, 3), (4, 3, 2)],       # one matrix @ batch
    [(1, 3, 4), (2, 4, 2)],    # size-1 batch stretched
    [(3,), (2, 3, 4)],         # vector @ batch
    [(2, 2, 3), (3,)],         # batch @ vector
    [(1, 3), (3, 1)],
]

EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("bij,bjk->bik", [(2, 2, 3), (2, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("i,i->", [(3,), (3,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("ij->ji", [(2, 3)]),
    ("ij->", [(2, 3)]),
    ("ii->i", [(3, 3)]),
    ("ii", [(3, 3)]),                       # implicit: the trace
    ("ij,jk", [(2, 3), (3, 4)]),            # implicit: 'ik'
    ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
    ("...ij,jk->...ik", [(2, 2, 3, 4), (4, 2)]),
    ("bi,bi->b", [(4, 3), (1, 3)]),         # size-1 broadcasting
    ("ijk,k->i", [(2, 3, 4), (4,)]),
    ("ij,kj->ikj", [(2, 3), (4, 3)]),
    ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("bij->bj", [(2, 3, 4)]),
]

CASES = (
    [Case("matmul", lambda a, b: a @ b, lambda a, b: a @ b, s) for s in MATMUL_SHAPES]
    + [Case("matmul_fn", shendu.matmul, lambda a, b: a.matmul(b), [(3, 2, 4), (4, 3)])]
    + [Case("matmul_chain", lambda a, b: (a @ b) @ b.swapaxes(-1, -2),
            lambda a, b: (a @ b) @ b.transpose(-1, -2), [(2, 3), (3, 3)])]
    + [Case("matmul_b_only", lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3), (3, 4)],
            differentiable=[False, True])]
    + [Case("dot", shendu.dot, lambda a, b: a.dot(b), [(4,), (4,)])]
    + [Case("outer", shendu.outer, lambda a, b: a.outer(b), [(3,), (4,)])]
    + [Case("einsum_" + eq, lambda *xs, eq=eq: shendu.einsum(eq, *xs),
            lambda *xs, eq=eq: __import__("torch").einsum(eq, *xs), shapes)
       for eq, shapes in EINSUMS]
    + [Case("tensordot_2", lambda a, b: shendu.tensordot(a, b),
            lambda a, b: __import__("torch").tensordot(a, b), [(2, 3, 4), (3, 4, 5)]),
       Case("tensordot_pairs", lambda a, b: shendu.tensordot(a, b, dims=([1, 0], [0, 2])),
            lambda a, b: __import__("torch").tensordot(a, b, dims=([1, 0], [0, 2])),
            [(2, 3, 4), (3, 5, 2)]),
       Case("tensordot_0", lambda a, b: shendu.tensordot(a, b, dims=0),
            lambda a, b: __import__("torch").tensordot(a, b, dims=0), [(2,), (3,)]),
       Case("tensordot_axes", lambda a, b: shendu.tensordot(a, b, axes=([1], [0])),
            lambda a, b: __import__("torch").tensordot(a, b, dims=([1], [0])),
            [(2, 3), (3, 4)])]
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


def squared(case):
    """Square the output so the first gradient depends on the inputs also through
    ``g``: the second derivative then exercises backward run on Tensors."""
    return dataclasses.replace(case, fn=lambda *xs: case.fn(*xs) ** 2)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(squared(case))


# ----------------------------------------------------------------------- matmul
@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul_shapes_and_values_match_numpy(sa, sb):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa).astype(np.float32), rng.standard_normal(sb).astype(np.float32)
    y = shendu.tensor(a) @ shendu.tensor(b)
    expected = np.matmul(a, b)
    assert y.shape == expected.shape and y.dtype == shendu.float32
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_matmul_vector_vector_is_0d():
    y = shendu.tensor([1.0, 2.0]) @ shendu.tensor([3.0, 4.0])
    assert y.shape == () and y.item() == 11.0


def test_matmul_errors_are_readable():
    with pytest.raises(ValueError, match=r"matmul: shapes \(2, 3\) and \(4, 5\) cannot be "
                                         r"multiplied \(3 != 4\)"):
        shendu.ones(2, 3) @ shendu.ones(4, 5)
    with pytest.raises(ValueError, match=r"matmul: shapes \(3,\) and \(4,\) cannot be "
                                         r"multiplied \(3 != 4\)"):
        shendu.ones(3) @ shendu.ones(4)
    with pytest.raises(ValueError, match=r"matmul: the batch dimensions \(2,\) and \(3,\)"):
        shendu.ones(2, 3, 4) @ shendu.ones(3, 4, 5)
    with pytest.raises(ValueError, match=r"matmul: both arguments need at least 1 dimension"):
        shendu.tensor(2.0) @ shendu.ones(3)
    with pytest.raises(TypeError, match="matmul: expected a Tensor, got float"):
        shendu.matmul(shendu.ones(2), 2.0)


def test_matmul_gradients_keep_float32_and_shapes():
    a = shendu.randn(2, 1, 3, 4, requires_grad=True)
    b = shendu.randn(5, 4, 2, requires_grad=True)
    (a @ b).sum().backward()
    assert a.grad.shape == (2, 1, 3, 4) and b.grad.shape == (5, 4, 2)
    assert a.grad.dtype == shendu.float32 and b.grad.dtype == shendu.float32
    # d sum(A @ B) / dA = ones @ B^T summed over the broadcast batch
    expected = np.broadcast_to(b.detach().numpy().sum(axis=(0, 2)), (2, 1, 3, 4))
    np.testing.assert_allclose(a.grad.numpy(), expected, rtol=1e-5)


def test_matmul_accepts_numpy_arrays_and_lists():
    w = shendu.ones(3, 2, requires_grad=True)
    y = np.ones((4, 3), np.float32) @ w
    assert y.shape == (4, 2) and y.requires_grad
    y.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.full((3, 2), 4.0))
    np.testing.assert_array_equal(shendu.matmul([[1.0, 2.0]], [[3.0], [4.0]]).numpy(), [[11.0]])


def test_dot_and_outer():
    assert shendu.dot(shendu.tensor([1.0, 2.0, 3.0]), shendu.tensor([4.0, 5.0, 6.0])).item() == 32
    np.testing.assert_array_equal(
        shendu.outer(shendu.tensor([1.0, 2.0]), shendu.tensor([1.0, 10.0])).numpy(),
        [[1, 10], [2, 20]])
    with pytest.raises(ValueError, match=r"dot: expected two 1-D tensors, got shapes \(2, 2\)"):
        shendu.dot(shendu.ones(2, 2), shendu.ones(2))
    with pytest.raises(ValueError, match=r"dot: the tensors have different lengths \(2 and 3\)"):
        shendu.dot(shendu.ones(2), shendu.ones(3))
    with pytest.raises(ValueError, match=r"outer: expected two 1-D tensors"):
        shendu.outer(shendu.ones(2, 2), shendu.ones(2))


# ----------------------------------------------------------------------- einsum
@pytest.mark.parametrize("eq,shapes", EINSUMS, ids=[e for e, _ in EINSUMS])
def test_einsum_values_match_numpy(eq, shapes):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal(s) for s in shapes]
    ours = shendu.einsum(eq, *[shendu.tensor(a) for a in arrays])
    np.testing.assert_allclose(ours.numpy(), np.einsum(eq, *arrays), rtol=1e-12, atol=1e-12)


def test_einsum_list_form_and_no_aliasing():
    a = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    np.testing.assert_array_equal(shendu.einsum("ij->ji", [a]).numpy(), [[1, 3], [2, 4]])
    d = shendu.einsum("ii->i", a)
    d._data[0] = 100.0  # a diagonal view would write into a
    assert a.numpy()[0, 0] == 1.0
    same = shendu.einsum("ij->ij", a)
    assert not np.shares_memory(same.numpy(), a.numpy())


def test_einsum_ellipsis_dims_missing_from_output_are_summed():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(shendu.einsum("...ij->ij", shendu.tensor(x)).numpy(),
                                  x.sum(axis=0))


def test_einsum_errors_are_readable():
    a, b = shendu.ones(2, 3), shendu.ones(4, 5)
    with pytest.raises(ValueError, match=r"einsum: subscript 'j' has size 3 in one operand "
                                         r"but 4 in operand 1"):
        shendu.einsum("ij,jk->ik", a, b)
    with pytest.raises(ValueError, match=r"einsum: equation 'ij,jk->ik' names 2 operand\(s\) "
                                         r"but 1 were given"):
        shendu.einsum("ij,jk->ik", a)
    with pytest.raises(ValueError, match=r"einsum: operand 0 has 2 dimensions .* name 3"):
        shendu.einsum("ijk->i", a)
    with pytest.raises(ValueError, match=r"einsum: output subscript 'z' does not appear"):
        shendu.einsum("ij->z", a)
    with pytest.raises(ValueError, match=r"einsum: invalid subscript '1'"):
        shendu.einsum("i1->i", a)
    with pytest.raises(ValueError, match=r"einsum: subscript 'i' is repeated in operand 0"):
        shendu.einsum("ii->i", a)


def test_einsum_gradient_of_attention_scores_matches_matmul():
    rng = np.random.default_rng(2)
    q, k = rng.standard_normal((2, 2, 3, 4)), rng.standard_normal((2, 2, 5, 4))
    q1, k1 = shendu.tensor(q, requires_grad=True), shendu.tensor(k, requires_grad=True)
    q2, k2 = shendu.tensor(q, requires_grad=True), shendu.tensor(k, requires_grad=True)
    g = shendu.tensor(rng.standard_normal((2, 2, 3, 5)))
    shendu.einsum("bhqd,bhkd->bhqk", q1, k1).backward(g)
    (q2 @ k2.swapaxes(-1, -2)).backward(g)
    np.testing.assert_allclose(q1.grad.numpy(), q2.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(k1.grad.numpy(), k2.grad.numpy(), rtol=1e-12)


def test_tensordot_values_and_errors():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((2, 3, 4)), rng.standard_normal((4, 3, 5))
    ours = shendu.tensordot(shendu.tensor(a), shendu.tensor(b), dims=([1, 2], [1, 0]))
    np.testing.assert_allclose(ours.numpy(), np.tensordot(a, b, axes=([1, 2], [1, 0])))
    with pytest.raises(ValueError, match=r"tensordot: a's dim 2 has size 4 but b's dim 0 has "
                                         r"size 3"):
        shendu.tensordot(shendu.ones(2, 3, 4), shendu.ones(3, 4, 5), dims=1)
    with pytest.raises(ValueError, match=r"tensordot: dims=4 does not fit"):
        shendu.tensordot(shendu.ones(2, 3), shendu.ones(3, 4), dims=4)
    with pytest.raises(IndexError, match=r"tensordot: dimension 5 is out of range for a"):
        shendu.tensordot(shendu.ones(2, 3), shendu.ones(3, 4), dims=([5], [0]))


def test_double_backward_through_matmul_gives_the_hessian_vector_product():
    # f(x) = sum((W x)^2) = x^T W^T W x;  Hessian = 2 W^T W
    w = np.array([[1.0, 2.0], [0.0, 3.0], [1.0, -1.0]])
    x = shendu.tensor([0.5, -1.0], dtype=shendu.float64, requires_grad=True)
    f = ((shendu.tensor(w) @ x) ** 2).sum()
    g, = shendu.autograd.grad(f, x, create_graph=True)
    v = np.array([1.0, 2.0])
    hv, = shendu.autograd.grad(g, x, grad_outputs=shendu.tensor(v))
    np.testing.assert_allclose(hv.numpy(), 2 * w.T @ w @ v)


# ----------------------------------------------------------------------- properties
def _sum_to(g, shape):
    """Reference unbroadcast written the long way."""
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    for i, n in enumerate(shape):
        if n == 1 and g.shape[i] != 1:
            g = g.sum(axis=i, keepdims=True)
    return g


@st.composite
def matmul_shapes(draw):
    n, k, m = draw(st.integers(1, 4)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.lists(st.integers(1, 3), min_size=0, max_size=3))
    ba = [s if draw(st.booleans()) else 1 for s in batch]
    bb = [s if draw(st.booleans()) else 1 for s in batch]
    ba = ba[draw(st.integers(0, len(ba))):]  # drop some leading batch dims on either side
    bb = bb[draw(st.integers(0, len(bb))):]
    sa = tuple(ba) + (n, k) if draw(st.integers(0, 4)) else (k,)
    sb = tuple(bb) + (k, m) if draw(st.integers(0, 4)) else (k,)
    return sa, sb


@settings(deadline=None, max_examples=60)
@given(matmul_shapes())
def test_matmul_batch_broadcasting_matches_numpy(shapes):
    sa, sb = shapes
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(sa), rng.standard_normal(sb)
    ta, tb = shendu.tensor(a, requires_grad=True), shendu.tensor(b, requires_grad=True)
    y = ta @ tb
    expected = np.matmul(a, b)
    assert y.shape == expected.shape
    np.testing.assert_allclose(y.detach().numpy(), expected, rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(expected.shape)
    y.backward(shendu.tensor(g))
    # reference: promote vectors to matrices, broadcast, multiply, sum back
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = np.expand_dims(g, -1) if b.ndim == 1 else g
    if a.ndim == 1:
        g2 = np.expand_dims(g2, -2)
    ga = _sum_to(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
    gb = _sum_to(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b.shape)
    np.testing.assert_allclose(ta.grad.numpy(), ga, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), gb, rtol=1e-10, atol=1e-12)
