"""The torch.* extra ops against PyTorch 2.13: the CASES of tests/test_torch_extra_ops.py
(forward and gradients in float32), then the values of the non-differentiable ones
(sort ties, topk, unique, nonzero, bincount, histc, searchsorted, windows, ...)."""
import dataclasses

import numpy as np
import pytest

import shendu
from harness import check_conformance, params
from test_torch_extra_ops import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")


# torch.vander's own backward fails ("modified by an inplace operation") in 2.13:
# compare its forward only
FORWARD_ONLY = {"vander"}


@params(CASES)
def test_conformance(case):
    if case.name.split("-")[0] in FORWARD_ONLY:
        case = dataclasses.replace(case, differentiable=[False] * len(case.shapes))
    check_conformance(case)


def _pair(values, dtype=None):
    a = np.asarray(values) if dtype is None else np.asarray(values, dtype=dtype)
    return shendu.tensor(a), torch.tensor(a)


def _same(ours, theirs, **kw):
    """Equal values (and shapes, and dtypes) for tensors or (nested) tuples of them."""
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _same(a, b, **kw)
        return
    if not isinstance(theirs, torch.Tensor):
        assert ours == theirs
        return
    a, b = np.asarray(ours.numpy()), theirs.numpy()
    assert a.shape == b.shape, (a.shape, b.shape)
    assert a.dtype == b.dtype, (a.dtype, b.dtype)
    if kw:
        np.testing.assert_allclose(a, b, **kw)
    else:
        np.testing.assert_array_equal(a, b)


TIES = [[3.0, 1.0, 3.0, 2.0, 1.0, 3.0], [0.0, 0.0, -1.0, 5.0, 5.0, 0.0]]


@pytest.mark.parametrize("kw", [{}, {"descending": True}, {"dim": 0}, {"dim": 0, "descending": True}])
def test_sort_and_argsort_keep_ties_in_order_like_stable_sort(kw):
    x, tx = _pair(TIES, np.float32)
    _same(shendu.sort(x, **kw), tuple(torch.sort(tx, stable=True, **kw)))
    _same(shendu.argsort(x, **kw), torch.argsort(tx, stable=True, **kw))
    _same(x.sort(**kw), tuple(tx.sort(stable=True, **kw)))


def test_sort_puts_nan_last_like_pytorch():
    x, tx = _pair([2.0, float("nan"), -1.0, 0.5], np.float32)
    for desc in (False, True):
        _same(shendu.sort(x, descending=desc).indices, torch.sort(tx, descending=desc).indices)


def test_sort_integers_and_bools():
    x, tx = _pair([[3, 1, 2], [0, 5, 5]])
    _same(shendu.sort(x, descending=True), tuple(torch.sort(tx, descending=True, stable=True)))
    b, tb = _pair([True, False, True])
    _same(shendu.argsort(b), torch.argsort(tb, stable=True))


@pytest.mark.parametrize("k,dim,largest", [(2, -1, True), (3, 0, False), (1, 1, True), (0, 1, True)])
def test_topk_values_and_indices(k, dim, largest):
    a = np.random.default_rng(0).permutation(24).reshape(4, 6).astype(np.float32)
    x, tx = _pair(a)
    _same(shendu.topk(x, k, dim, largest), tuple(torch.topk(tx, k, dim, largest)))


def test_kthvalue_median_mode_indices():
    a = np.array([[4.0, 1.0, 3.0, 2.0], [7.0, 7.0, 5.0, 6.0], [1.0, 2.0, 2.0, 1.0]], np.float32)
    x, tx = _pair(a)
    # which of equal values PyTorch's quickselect returns is unspecified: indices on
    # the rows without ties, values everywhere
    _same(shendu.kthvalue(x, 2, 1).values, torch.kthvalue(tx, 2, 1).values)
    _same(shendu.kthvalue(x[:2], 2, 1), tuple(torch.kthvalue(tx[:2], 2, 1)))
    _same(shendu.median(x[:1], 1), tuple(torch.median(tx[:1], 1)))
    _same(shendu.median(x), torch.median(tx))
    _same(shendu.median(x, 1).values, torch.median(tx, 1).values)
    _same(shendu.mode(x, 1).values, torch.mode(tx, 1).values)
    _same(shendu.mode(shendu.tensor([1, 2, 2, 3, 3])).values, torch.mode(torch.tensor([1, 2, 2, 3, 3])).values)
    n, tn = _pair([[1.0, float("nan"), 3.0, 2.0], [float("nan")] * 2 + [1.0, 5.0]], np.float32)
    _same(shendu.nanmedian(n), torch.nanmedian(tn))
    _same(shendu.nanmedian(n, 1), tuple(torch.nanmedian(tn, 1)))
    _same(shendu.nanquantile(n, 0.5, 1), torch.nanquantile(tn, 0.5, 1), rtol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"return_inverse": True}, {"return_counts": True},
                                {"return_inverse": True, "return_counts": True}, {"dim": 0},
                                {"dim": 1, "return_inverse": True, "return_counts": True}])
def test_unique(kw):
    x, tx = _pair([[1, 3, 1], [2, 3, 1], [1, 3, 1]])
    _same(shendu.unique(x, **kw), torch.unique(tx, **kw))


@pytest.mark.parametrize("kw", [{}, {"return_inverse": True, "return_counts": True},
                                {"dim": 0, "return_inverse": True, "return_counts": True}])
def test_unique_consecutive(kw):
    x, tx = _pair([[1, 1], [1, 1], [2, 3], [2, 3], [1, 1]])
    _same(shendu.unique_consecutive(x, **kw), torch.unique_consecutive(tx, **kw))


def test_nonzero_argwhere_count_nonzero():
    x, tx = _pair([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]], np.float32)
    _same(shendu.nonzero(x), torch.nonzero(tx))
    _same(shendu.nonzero(x, as_tuple=True), torch.nonzero(tx, as_tuple=True))
    _same(shendu.argwhere(x), torch.argwhere(tx))
    _same(shendu.count_nonzero(x), torch.count_nonzero(tx))
    _same(shendu.count_nonzero(x, 0), torch.count_nonzero(tx, 0))
    _same(shendu.count_nonzero(x, (0, 1)), torch.count_nonzero(tx, (0, 1)))
    z, tz = _pair(np.zeros((2, 0)))
    _same(shendu.nonzero(z), torch.nonzero(tz))
    for v in (0.0, 3.0):
        s0, ts0 = _pair(np.float32(v))
        _same(shendu.nonzero(s0), torch.nonzero(ts0))


def test_bincount_histc_histogram():
    x, tx = _pair([0, 1, 1, 3, 5, 1])
    _same(shendu.bincount(x), torch.bincount(tx))
    _same(shendu.bincount(x, minlength=8), torch.bincount(tx, minlength=8))
    w, tw = _pair([0.5, 1.0, 1.0, 2.0, 0.25, 1.0])
    _same(shendu.bincount(x, w), torch.bincount(tx, tw))
    v, tv = _pair(np.random.default_rng(1).normal(size=50).astype(np.float32))
    _same(shendu.histc(v, 10), torch.histc(tv, 10))
    _same(shendu.histc(v, 5, -1, 1), torch.histc(tv, 5, -1, 1))
    _same(shendu.histogram(v, 6), tuple(torch.histogram(tv, 6)), rtol=1e-6)
    edges, tedges = _pair([-2.0, 0.0, 0.5, 2.0], np.float32)
    _same(shendu.histogram(v, edges, density=True), tuple(torch.histogram(tv, tedges, density=True)),
          rtol=1e-5)


@pytest.mark.parametrize("right", [False, True])
def test_searchsorted_and_bucketize(right):
    s, ts = _pair([1.0, 3.0, 3.0, 5.0, 7.0], np.float32)
    v, tv = _pair([[0.0, 3.0, 6.0], [7.0, 8.0, 1.0]], np.float32)
    _same(shendu.searchsorted(s, v, right=right), torch.searchsorted(ts, tv, right=right))
    _same(shendu.searchsorted(s, v, side="right" if right else "left"),
          torch.searchsorted(ts, tv, side="right" if right else "left"))
    _same(shendu.bucketize(v, s, right=right), torch.bucketize(tv, ts, right=right))
    _same(shendu.bucketize(v, s, out_int32=True), torch.bucketize(tv, ts, out_int32=True))
    s2, ts2 = _pair([[1.0, 2.0, 3.0], [0.0, 5.0, 9.0]], np.float32)
    v2, tv2 = _pair([[2.5, 0.0], [5.0, 10.0]], np.float32)
    _same(shendu.searchsorted(s2, v2, right=right), torch.searchsorted(ts2, tv2, right=right))
    _same(shendu.searchsorted(s, 4.0), torch.searchsorted(ts, 4.0))


def test_isin_and_elementwise_predicates():
    x, tx = _pair([-1.0, 0.0, -0.0, 2.0, float("inf"), -float("inf"), float("nan")], np.float32)
    for name in ("signbit", "isneginf", "isposinf", "isreal", "angle"):
        _same(getattr(shendu, name)(x), getattr(torch, name)(tx))
    _same(shendu.isclose(x, x + 1e-7), torch.isclose(tx, tx + 1e-7))
    _same(shendu.isclose(x, x, equal_nan=True), torch.isclose(tx, tx, equal_nan=True))
    _same(shendu.heaviside(x[:4], shendu.tensor(0.5)), torch.heaviside(tx[:4], torch.tensor(0.5)))
    i, ti = _pair([1, 2, 3, 4])
    t, tt = _pair([2, 4, 9])
    _same(shendu.isin(i, t), torch.isin(ti, tt))
    _same(shendu.isin(i, t, invert=True), torch.isin(ti, tt, invert=True))
    assert shendu.is_nonzero(shendu.tensor([0.5])) is torch.is_nonzero(torch.tensor([0.5]))


def test_integer_ops():
    a, ta = _pair([12, 18, -7, 0, 5])
    b, tb = _pair([8, 12, 3, 4, 5])
    for name in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor"):
        _same(getattr(shendu, name)(a, b), getattr(torch, name)(ta, tb))
    s, ts = _pair([1, 2, 3, 0, 1])
    _same(shendu.bitwise_left_shift(a, s), torch.bitwise_left_shift(ta, ts))
    _same(shendu.bitwise_right_shift(a, s), torch.bitwise_right_shift(ta, ts))
    _same(shendu.bitwise_not(a), torch.bitwise_not(ta))
    bo, tbo = _pair([True, False])
    _same(shendu.bitwise_not(bo), torch.bitwise_not(tbo))


def test_frexp_nextafter_trunc_frac_values():
    x, tx = _pair([8.0, -0.3, 0.0, 5.5, -2.75], np.float32)
    _same(tuple(shendu.frexp(x)), tuple(torch.frexp(tx)))
    _same(shendu.nextafter(x, shendu.tensor(1.0)), torch.nextafter(tx, torch.tensor(1.0)))
    for name in ("trunc", "fix", "frac", "sgn", "positive"):
        _same(getattr(shendu, name)(x), getattr(torch, name)(tx))
    n, tn = _pair([float("nan"), float("inf"), -float("inf"), 1.0], np.float32)
    _same(shendu.nan_to_num(n), torch.nan_to_num(tn))
    _same(shendu.nan_to_num(n, 1.0, 2.0, -3.0), torch.nan_to_num(tn, 1.0, 2.0, -3.0))
    _same(shendu.fmax(n, x[:4]), torch.fmax(tn, tx[:4]))
    _same(shendu.xlogy(shendu.tensor([0.0, 0.0, 1.0]), shendu.tensor([0.0, float("nan"), 2.0])),
          torch.xlogy(torch.tensor([0.0, 0.0, 1.0]), torch.tensor([0.0, float("nan"), 2.0])))


@pytest.mark.parametrize("name", ["hann_window", "hamming_window", "blackman_window",
                                  "bartlett_window", "kaiser_window"])
@pytest.mark.parametrize("n", [0, 1, 2, 7, 10])
@pytest.mark.parametrize("periodic", [True, False])
def test_windows(name, n, periodic):
    _same(getattr(shendu, name)(n, periodic), getattr(torch, name)(n, periodic), atol=1e-6)
    d = getattr(shendu, name)(n, periodic, dtype=shendu.float64)
    _same(d, getattr(torch, name)(n, periodic, dtype=torch.float64), atol=1e-12)


def test_creation_helpers():
    for args in [(3, 4, 0), (4, 3, 1), (4, 4, -1), (1, 5, 2), (0, 0, 0)]:
        _same(shendu.tril_indices(*args), torch.tril_indices(*args))
        _same(shendu.triu_indices(*args), torch.triu_indices(*args))
    _same(shendu.logspace(0, 2, 5), torch.logspace(0, 2, 5), rtol=1e-6)
    _same(shendu.logspace(0, 3, 4, base=2.0), torch.logspace(0, 3, 4, base=2.0), rtol=1e-6)
    with pytest.warns(UserWarning):
        tr = torch.range(1, 4, 0.5)
    _same(shendu.range(1, 4, 0.5), tr)
    _same(shendu.scalar_tensor(3), torch.scalar_tensor(3))
    _same(shendu.cartesian_prod(shendu.tensor([1, 2]), shendu.tensor([3, 4, 5])),
          torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])))
    _same(shendu.unravel_index(shendu.tensor([5, 11]), (3, 4)),
          torch.unravel_index(torch.tensor([5, 11]), (3, 4)))
    _same(shendu.combinations(shendu.tensor([1, 2, 3])), torch.combinations(torch.tensor([1, 2, 3])))
    assert shendu.broadcast_shapes((3, 1), (4,), 1) == tuple(torch.broadcast_shapes((3, 1), (4,), 1))


def test_integer_cumulative_and_cummax_indices():
    x, tx = _pair([[1, 3, 3, 2], [4, 4, 0, 5]])
    _same(shendu.cumprod(x, 1), torch.cumprod(tx, 1))
    _same(shendu.cummax(x, 1), tuple(torch.cummax(tx, 1)))
    _same(shendu.cummin(x, 1), tuple(torch.cummin(tx, 1)))
    f, tf = _pair([[1.0, float("nan"), 0.0, 2.0]], np.float32)
    _same(shendu.cummax(f, 1), tuple(torch.cummax(tf, 1)))
    _same(shendu.aminmax(x), tuple(torch.aminmax(tx)))
    _same(shendu.diff(shendu.tensor([True, False, False])), torch.diff(torch.tensor([True, False, False])))


def test_diff_prepend_append_and_masked_scatter():
    x, tx = _pair(np.arange(12.0, dtype=np.float32).reshape(3, 4) ** 2)
    p, tp = _pair(np.ones((3, 1), np.float32))
    _same(shendu.diff(x, 1, 1, p, p), torch.diff(tx, 1, 1, tp, tp))
    m, tm = _pair(np.arange(12).reshape(3, 4) % 3 == 0)
    s, ts = _pair(np.arange(20, dtype=np.float32))
    _same(shendu.masked_scatter(x, m, s), torch.masked_scatter(tx, tm, ts))
    _same(shendu.put(x, shendu.tensor([0, -1]), shendu.tensor([7.0, 8.0])),
          torch.put(tx, torch.tensor([0, -1]), torch.tensor([7.0, 8.0])))
    _same(shendu.put(x, shendu.tensor([1, 1]), shendu.tensor([7.0, 8.0]), accumulate=True),
          torch.put(tx, torch.tensor([1, 1]), torch.tensor([7.0, 8.0]), accumulate=True))
    idx = (shendu.tensor([0, 2]), shendu.tensor([1, 3]))
    tidx = (torch.tensor([0, 2]), torch.tensor([1, 3]))
    _same(shendu.index_put(x, idx, shendu.tensor([-1.0, -2.0])),
          torch.index_put(tx, tidx, torch.tensor([-1.0, -2.0])))
    _same(shendu.index_put(x, idx, shendu.tensor(1.0), accumulate=True),
          torch.index_put(tx, tidx, torch.tensor(1.0), accumulate=True))


@pytest.mark.parametrize("reduce", ["prod", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_scatter_reduce_without_gradient(reduce, include_self):
    x, tx = _pair(np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4))
    i, ti = _pair([[0, 2, 1, 0], [0, 2, 2, 2]])
    s, ts = _pair(np.array([[2.0, -1.0, 3.0, 0.5], [4.0, 5.0, -6.0, 1.5]], np.float32))
    _same(shendu.scatter_reduce(x, 0, i, s, reduce, include_self=include_self),
          torch.scatter_reduce(tx, 0, ti, ts, reduce, include_self=include_self))
    _same(shendu.scatter(x, 0, i, s, reduce="multiply"), torch.scatter(tx, 0, ti, ts, reduce="multiply"))
    _same(shendu.scatter(x, 0, i, s, reduce="add"), torch.scatter(tx, 0, ti, ts, reduce="add"))


def test_namespace_forms_of_nn_functions():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((2, 3, 4)).astype(np.float32)
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    (x, tx), (sw, tw), (sb, tb) = _pair(a), _pair(w), _pair(b)
    _same(shendu.layer_norm(x, (4,), sw, sb), torch.layer_norm(tx, (4,), tw, tb), atol=1e-5)
    c = rng.standard_normal((4, 3, 5)).astype(np.float32)
    (xc, txc) = _pair(c)
    rm, trm = _pair(np.zeros(3, np.float32))
    rv, trv = _pair(np.ones(3, np.float32))
    g, tg = _pair(np.full(3, 2.0, np.float32))
    _same(shendu.batch_norm(xc, g, None, rm, rv, False, 0.1, 1e-5),
          torch.batch_norm(txc, tg, None, trm, trv, False, 0.1, 1e-5, False), atol=1e-5)
    _same(shendu.instance_norm(xc, g, None, None, None, True, 0.1, 1e-5),
          torch.instance_norm(txc, tg, None, None, None, True, 0.1, 1e-5, False), atol=1e-5)
    e, te = _pair(rng.standard_normal((5, 3)).astype(np.float32))
    i, ti = _pair([[0, 4], [2, 2]])
    _same(shendu.embedding(e, i), torch.embedding(te, ti))
    _same(shendu.dropout(x, 0.5, False), torch.dropout(tx, 0.5, False))
    _same(shendu.feature_dropout(x, 0.3, False), torch.feature_dropout(tx, 0.3, False))
    _same(shendu.adaptive_max_pool1d(x, 2), tuple(torch.adaptive_max_pool1d(tx, 2)))
    _same(shendu.hardshrink(x, 0.7), torch.hardshrink(tx, 0.7))
    p, tp = _pair(np.arange(16.0, dtype=np.float32).reshape(1, 4, 2, 2))
    _same(shendu.pixel_shuffle(p, 2), torch.pixel_shuffle(tp, 2))


@pytest.mark.parametrize("reduce", ["prod", "mean", "amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_index_reduce(reduce, include_self):
    x, tx = _pair(np.arange(1.0, 13.0, dtype=np.float32).reshape(4, 3))
    i, ti = _pair([3, 0, 3, 1])
    s, ts = _pair(np.random.default_rng(2).uniform(-3, 3, (4, 3)).astype(np.float32))
    _same(shendu.index_reduce(x, 0, i, s, reduce, include_self=include_self),
          torch.index_reduce(tx, 0, ti, ts, reduce, include_self=include_self), rtol=1e-6)
    _same(x.index_reduce(1, i[:3] % 3, s[:, :3], reduce),
          tx.index_reduce(1, ti[:3] % 3, ts[:, :3], reduce), rtol=1e-6)


@pytest.mark.parametrize("size", [0, 2, 5])
def test_nonzero_static_and_empty_permuted(size):
    x, tx = _pair([[0.0, 1.0, 2.0], [3.0, 0.0, 0.0]], np.float32)
    _same(shendu.nonzero_static(x, size=size), torch.nonzero_static(tx, size=size))
    _same(shendu.nonzero_static(x, size=size, fill_value=9), torch.nonzero_static(tx, size=size, fill_value=9))
    assert shendu.empty_permuted((2, 3, 4), (0, 2, 1)).shape == tuple(torch.empty_permuted((2, 3, 4), (0, 2, 1)).shape)
    with pytest.raises(RuntimeError, match="permutation"):
        shendu.empty_permuted((2, 3), (0, 0))
