"""Edge cases of the torch.* extra ops against PyTorch 2.13, one row each: 0-d inputs,
keepdim, negative dims and indices, nan and inf, integer dtypes, empty inputs, the
less common arguments (``sorter``, ``aweights``, ``out_int32``...). Each row builds the
same call with either library (``L``: the module, ``T``: its tensor constructor) and
the outputs must match in shape, dtype and value."""
import warnings

import numpy as np
import pytest

import shendu

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")

f32 = dict(dtype=np.float32)
A = np.random.default_rng(0).permutation(24).reshape(2, 3, 4).astype(np.float32)
EDGES = []


def cmp(label, f):
    EDGES.append(pytest.param(f, id=label))


cmp("sort3d0", lambda L, T: L.sort(T(A), dim=0))
cmp("topk0d", lambda L, T: L.topk(T(3.0, **f32), 1))
cmp("cummax0d", lambda L, T: L.cummax(T(3.0, **f32), 0))
cmp("kth_keep", lambda L, T: L.kthvalue(T(A), 2, 1, True))
cmp("median_keep", lambda L, T: L.median(T(A), 2, True))
cmp("mode_keep", lambda L, T: L.mode(T(A), 0, True))
cmp("histc_int?", lambda L, T: L.histc(T([1., 2., 2., 5.], **f32), 4))
cmp("bincount_empty", lambda L, T: L.bincount(T(np.zeros(0, np.int64))))
cmp("searchsorted_sorter", lambda L, T: L.searchsorted(T([3., 1., 2.], **f32), T([2.5], **f32), sorter=T([1, 2, 0])))
cmp("diff_n0", lambda L, T: L.diff(T(A), n=0))
cmp("unique_unsorted", lambda L, T: L.unique(T([3, 1, 3, 2]), sorted=True))
cmp("count_nonzero_neg", lambda L, T: L.count_nonzero(T(A), -1))
cmp("quantile_keepdim_none", lambda L, T: L.quantile(T(A), 0.3, keepdim=True))
cmp("nanmean_dim_none", lambda L, T: L.nanmean(T([[1., np.nan], [2., 3.]], **f32), 1))
cmp("var_mean_def", lambda L, T: L.var_mean(T(A)))
cmp("std_mean_dim", lambda L, T: L.std_mean(T(A), (0, 2)))
cmp("aminmax_all", lambda L, T: L.aminmax(T(A)))
cmp("logcumsumexp_inf", lambda L, T: L.logcumsumexp(T([-np.inf, 0., np.inf], **f32), 0))
cmp("trapz_x", lambda L, T: L.trapezoid(T(A), T([0., 1., 3., 4.], **f32)))
cmp("cumtrapz_dx", lambda L, T: L.cumulative_trapezoid(T(A), dx=2.0, dim=1))
cmp("cov_aw", lambda L, T: L.cov(T(A[0]), aweights=T([1., 2., .5, 1.], **f32)))
cmp("cov_fw_aw", lambda L, T: L.cov(T(A[0]), fweights=T([1, 2, 1, 3]), aweights=T([1., 2., .5, 1.], **f32), correction=0))
cmp("corrcoef1d", lambda L, T: L.corrcoef(T(A[0, 0])))
cmp("cov1d", lambda L, T: L.cov(T(A[0, 0])))
cmp("diag_embed_dims", lambda L, T: L.diag_embed(T(A), 1, 0, 2))
cmp("block_diag_0d", lambda L, T: L.block_diag(T(1.0, **f32), T([[2., 3.]], **f32)))
cmp("kron3d", lambda L, T: L.kron(T(A[:, :2, :2]), T(A[0, :2, :2])))
cmp("matrix_power0", lambda L, T: L.matrix_power(T(A[0, :3, :3]), 0))
cmp("inner0d", lambda L, T: L.inner(T(2.0, **f32), T(A[0])))
cmp("cross_default", lambda L, T: L.linalg.cross(T(A[:, :, :3]), T(A[:, :, 1:])) if L is torch else L.cross(T(A[:, :, :3]), T(A[:, :, 1:]), dim=-1))
cmp("atleast3d_2d", lambda L, T: L.atleast_3d(T(A[0])))
cmp("atleast_list", lambda L, T: L.atleast_2d([T(1.0, **f32), T([1., 2.], **f32)]))
cmp("tensor_split_neg", lambda L, T: L.tensor_split(T(A), [-1, 1], dim=2))
cmp("tensor_split_tensor", lambda L, T: L.tensor_split(T(A), T([1, 3]), dim=2))
cmp("rot90_neg_dims", lambda L, T: L.rot90(T(A), 1, (-1, 0)))
cmp("hstack_1d", lambda L, T: L.hstack([T([1., 2.], **f32), T([3.], **f32)]))
cmp("column_stack_0d", lambda L, T: L.column_stack([T([1., 2.], **f32), T([[3.], [4.]], **f32)]))
cmp("meshgrid_3", lambda L, T: L.meshgrid(T([1, 2]), T([3, 4, 5]), T([6, 7]), indexing="xy"))
cmp("combos_r1", lambda L, T: L.combinations(T([1, 2, 3]), 1))
cmp("vander_default", lambda L, T: L.vander(T([1, 2, 3])))
cmp("take_neg", lambda L, T: L.take(T(A), T([-1, 0])))
cmp("nan_to_num_int", lambda L, T: L.nan_to_num(T([1, 2])))
cmp("xlogy_scalar", lambda L, T: L.xlogy(2.0, T([1., 3.], **f32)) if L is torch else L.xlogy(shendu.tensor(2.0), T([1., 3.], **f32)))
cmp("float_power_int", lambda L, T: L.float_power(T([1, 2, 3]), 2))
cmp("copysign_t", lambda L, T: L.copysign(T([1., -2., 3.], **f32), T([-1., 1., -0.], **f32)))
cmp("heaviside", lambda L, T: L.heaviside(T([-1., 0., 2.], **f32), T([0.5], **f32)))
cmp("logit_eps", lambda L, T: L.logit(T([0., 0.5, 1.], **f32), 1e-3))
cmp("sinc0", lambda L, T: L.sinc(T([0., 1., 0.5], **f32)))
cmp("frac_neg", lambda L, T: L.frac(T([-1.5, 2.25], **f32)))
cmp("ldexp_float", lambda L, T: L.ldexp(T([1., 2.], **f32), T([3, 4])))
cmp("angle_int", lambda L, T: L.angle(T([-1, 2])))
cmp("cdist_p0", lambda L, T: L.cdist(T(A[0]), T(A[1]), p=0))
cmp("cdist_inf", lambda L, T: L.cdist(T(A[0]), T(A[1]), p=float("inf")))
cmp("pdist_p3", lambda L, T: L.pdist(T(A[0]), 3))
cmp("cos_sim_eps", lambda L, T: L.cosine_similarity(T(np.zeros((2, 3)), **f32), T(A[0, :2, :3])))
cmp("pair_dist_bcast", lambda L, T: L.pairwise_distance(T(A[0]), T(A[1, 0])))
cmp("det_sing", lambda L, T: L.det(T(np.ones((2, 2)), **f32)))
cmp("slogdet_neg", lambda L, T: L.slogdet(T([[0., 1.], [1., 0.]], **f32)))
cmp("logdet_neg", lambda L, T: L.logdet(T([[0., 1.], [1., 0.]], **f32)))
cmp("trace_int", lambda L, T: L.trace(T([[1, 2], [3, 4]])))
cmp("diag_int", lambda L, T: L.diag(T([1, 2]), 1))
cmp("scatter_value_int", lambda L, T: L.scatter(T([[1, 2], [3, 4]]), 1, T([[1], [0]]), 9))
cmp("index_fill_t", lambda L, T: L.index_fill(T(A[0]), 0, T([2]), T(-3.0, **f32)))
cmp("masked_select_bcast", lambda L, T: L.masked_select(T(A[0, 0]), T(np.array([[True], [False]]))))
cmp("select_scatter_neg", lambda L, T: L.select_scatter(T(A), T(A[:, 0]), 1, -3))
cmp("slice_scatter_neg", lambda L, T: L.slice_scatter(T(A), T(A[:, :, -2:]), 2, -2))
cmp("diag_scatter_neg", lambda L, T: L.diagonal_scatter(T(A[0]), T([9., 8.], **f32), -1))
cmp("index_put_bool", lambda L, T: L.index_put(T(A[0]), (T(A[0] > 10),), T(0.0, **f32)))
cmp("put_acc_nd", lambda L, T: L.put(T(A[0]), T([[0, 1]]), T([[1., 2.]], **f32), True))
cmp("isin_scalar", lambda L, T: L.isin(T([1, 2, 3]), 2) if L is torch else L.isin(T([1, 2, 3]), 2))
cmp("bucketize_scalar", lambda L, T: L.bucketize(T(2.5, **f32), T([1., 2., 3.], **f32)))
cmp("histogram_range", lambda L, T: L.histogram(T(A.ravel()), 4, range=(0., 10.)))
cmp("histogram_w", lambda L, T: L.histogram(T(A.ravel()), 4, weight=T(np.ones(24), **f32)))
cmp("unique_consec_bool", lambda L, T: L.unique_consecutive(T([True, True, False])))
cmp("nonzero_0d", lambda L, T: L.nonzero(T(3.0, **f32)))
cmp("argsort_desc_int", lambda L, T: L.argsort(T([3, 1, 3]), descending=True, stable=True))
cmp("msort", lambda L, T: L.msort(T(A)))
cmp("median_even", lambda L, T: L.median(T([1., 2., 3., 4.], **f32)))
cmp("nanmedian_allnan", lambda L, T: L.nanmedian(T([np.nan, np.nan], **f32)))
cmp("quantile_nan", lambda L, T: L.quantile(T([1., np.nan, 3.], **f32), 0.5))
cmp("nanquantile_allnan_row", lambda L, T: L.nanquantile(T([[np.nan, np.nan], [1., 2.]], **f32), 0.5, 1))
cmp("logspace_base", lambda L, T: L.logspace(-1, 1, 3, 2))
cmp("range_int", lambda L, T: L.range(0, 3, dtype=L.int64))
cmp("randint_like_dtype", lambda L, T: L.randint_like(T([1., 2.], **f32), 1, 2))
cmp("narrow_t", lambda L, T: L.narrow(T(A), 2, T(1), 2))
cmp("unravel_neg", lambda L, T: L.unravel_index(T(5), (2, 3)))
cmp("tril_idx_off", lambda L, T: L.tril_indices(3, 5, 2))


def _flat(o):
    if isinstance(o, (tuple, list)):
        return [z for e in o for z in _flat(e)]
    return [o]


@pytest.mark.parametrize("f", EDGES)
def test_edge_case_like_pytorch(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = _flat(f(shendu, lambda v, **k: shendu.tensor(np.asarray(v, **k))))
        theirs = _flat(f(torch, lambda v, **k: torch.tensor(np.asarray(v, **k))))
    assert len(ours) == len(theirs)
    for u, v in zip(ours, theirs):
        if not isinstance(v, torch.Tensor):
            assert u == v
            continue
        a, b = u.detach().numpy(), v.detach().numpy()
        assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True)
