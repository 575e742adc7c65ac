"""The torch.* functions of shendu/ops/{pointwise_extra,linalg_extra,cumulative,
sort_search,scattering,shape_extra,torch_namespace}.py: float64 gradcheck of every
differentiable op from one table (CASES), over several shapes, broadcasting and dim /
keepdim variants.

tests/conformance/test_torch_extra_ops_torch.py runs the same CASES against PyTorch
2.13 (forward and gradients) and checks the non-differentiable ones' values.
"""
import numpy as np

import shendu
from harness import Case, away_from_zero, check_gradcheck, params, positive, unit_interval


def _uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def _distinct(rng, shape):
    """Values with no ties (at least 0.05 apart), so sort/max picks are unambiguous."""
    n = int(np.prod(shape)) if shape else 1
    return (rng.permutation(n) * 0.1 - n * 0.05 + rng.uniform(0, 0.05, n)).reshape(shape)


def standard(rng, shape):
    return rng.standard_normal(shape)


def _int(rng, shape):
    return rng.integers(0, 3, shape).astype(np.float64)


def _spd(rng, shape):
    """Well-conditioned square matrices (A A^T / n + I) for det/inverse."""
    a = rng.standard_normal(shape)
    n = shape[-1]
    return a @ np.swapaxes(a, -1, -2) / n + np.eye(n)


class I:  # noqa: E742  an index (or other integer) argument given to both libraries
    def __init__(self, values, dtype="int64"):
        self.values, self.dtype = np.asarray(values), dtype

    def shendu(self):
        return shendu.tensor(self.values.astype(self.dtype))

    def torch(self):
        import torch
        return torch.tensor(self.values.astype(self.dtype))


T = "<tensor>"  # in ``args``: where the next input tensor goes (the first is always first)


def _resolve(v, lib):
    if isinstance(v, I):
        return getattr(v, lib)()
    if isinstance(v, (list, tuple)) and any(isinstance(e, I) for e in v):
        return type(v)(_resolve(e, lib) for e in v)
    return v


def _pick(out, pick):
    if pick is None:
        return out
    if isinstance(pick, str):
        return getattr(out, pick)
    return out[pick]


def op(name, shapes_list, domain=None, args=(), kwargs=None, pick=None, torch_name=None,
       shendu_name=None, star=False, **case_kw):
    """Cases for ``shendu.<name>(*tensors, *args, **kwargs)`` vs ``torch.<name>(...)``, one
    per entry of ``shapes_list``; ``pick``: the output to check (an index or field);
    ``star``: the tensors go in as one list (``hstack([a, b])``)."""
    kwargs = kwargs or {}

    def make(lib, fname):
        def f(*ts):
            mod = shendu if lib == "shendu" else __import__("torch")
            fn = getattr(mod, fname)
            a = [_resolve(v, lib) for v in args]
            k = {key: _resolve(v, lib) for key, v in kwargs.items()}
            if T in args:
                rest = iter(ts[1:])
                a = [next(rest) if v is T else v for v in a]
                out = fn(ts[0], *a, **k)
            else:
                out = fn(list(ts), *a, **k) if star else fn(*ts, *a, **k)
            return _pick(out, pick)
        return f
    extra = {} if domain is None else {"domain": domain}
    label = name + ("" if not (args or kwargs) else "-" + "-".join(
        [str(a) if not isinstance(a, I) else "idx" for a in args if a is not T] +
        [f"{k}={v if not isinstance(v, I) else 'idx'}" for k, v in kwargs.items()]))
    return [Case(label, make("shendu", shendu_name or name), make("torch", torch_name or name),
                 s, double=False, **extra, **case_kw) for s in shapes_list]


U = [[(3, 4)], [(2, 3, 4)], [(5,)]]            # unary shapes
B = [[(3, 4), (3, 4)], [(3, 4), (4,)], [(2, 1, 4), (3, 1)]]  # broadcasting pairs
unary = [
    ("asin", unit_interval), ("acos", unit_interval), ("atan", None), ("sinh", None),
    ("cosh", None), ("asinh", None), ("acosh", _uniform(1.2, 3.0)), ("atanh", unit_interval),
    ("exp2", None), ("sinc", None), ("logit", _uniform(0.1, 0.9)), ("trunc", None),
    ("frac", None), ("deg2rad", None), ("rad2deg", None), ("absolute", away_from_zero),
    ("nan_to_num", None), ("positive", None), ("hardshrink", None),
]
POINTWISE = sum((op(n, U, d) for n, d in unary), []) + (
    op("logit", [[(3, 4)]], _uniform(0.02, 0.98), args=(0.1,))
    + op("atan2", B) + op("arctan2", B[:1]) + op("logaddexp", B) + op("logaddexp2", B)
    + op("hypot", B, away_from_zero) + op("fmax", B) + op("fmin", B)
    + op("xlogy", [[(3, 4), (3, 4)], [(3, 4), (4,)]], [standard, positive])
    + op("addcmul", [[(3, 4), (3, 4), (3, 4)], [(4,), (3, 1), (3, 4)]], kwargs={"value": 0.5})
    + op("addcdiv", [[(3, 4), (3, 4), (3, 4)], [(3, 4), (4,), (3, 1)]],
         [standard, standard, away_from_zero], kwargs={"value": 2.0})
    + op("float_power", [[(3, 4)]], positive, args=(2.5,), fwd_rtol=1e-5)
    + op("float_power", [[(3, 4), (3, 4)]], positive)
    + op("copysign", [[(3, 4)]], away_from_zero, args=(-1.0,))
    + op("copysign", [[(3, 4), (4,)]], away_from_zero, differentiable=[True, False])
    + op("clamp_min", U[:2], args=(0.1,)) + op("clamp_max", U[:2], args=(0.1,))
    + op("rsub", B[:2]) + op("rsub", [[(3, 4), (3, 4)]], kwargs={"alpha": 2.0})
    + op("ldexp", [[(3, 4)]], args=(I([[1, 2, 0, 3]] * 3),))
)

M = [[(3, 4), (4, 2)]]
LINALG = (
    op("mm", M) + op("bmm", [[(2, 3, 4), (2, 4, 5)]]) + op("mv", [[(3, 4), (4,)]])
    + op("addmm", [[(3, 2), (3, 4), (4, 2)], [(2,), (3, 4), (4, 2)]], kwargs={"beta": 0.5, "alpha": 2.0})
    + op("addbmm", [[(3, 5), (2, 3, 4), (2, 4, 5)]], kwargs={"alpha": 0.5})
    + op("baddbmm", [[(2, 3, 5), (2, 3, 4), (2, 4, 5)], [(5,), (2, 3, 4), (2, 4, 5)]], kwargs={"beta": 2.0})
    + op("addmv", [[(3,), (3, 4), (4,)]])
    + op("addr", [[(3, 4), (3,), (4,)]], kwargs={"alpha": 3.0})
    + op("ger", [[(3,), (4,)]]) + op("inner", [[(3, 4), (2, 4)], [(4,), (4,)]])
    + op("vdot", [[(4,), (4,)]]) + op("kron", [[(2, 3), (3, 2)], [(2,), (3,)], [(2, 2), (3,)]])
    + op("chain_matmul", [[(3, 4), (4, 2), (2, 5)]])
    + op("matrix_power", [[(3, 3)], [(2, 3, 3)]], args=(3,))
    + op("matrix_power", [[(3, 3)]], _spd, args=(-2,), atol=1e-4)
    + op("cdist", [[(3, 4), (5, 4)], [(2, 3, 4), (2, 5, 4)]])
    + op("cdist", [[(3, 4), (5, 4)]], args=(1.0,))
    + op("trace", [[(3, 4)], [(4, 4)]]) + op("diagonal", [[(3, 4)], [(2, 3, 4)]], args=(1,))
    + op("diagonal", [[(2, 3, 4)]], kwargs={"offset": -1, "dim1": 2, "dim2": 0})
    + op("diag", [[(3,)], [(3, 4)]]) + op("diag", [[(3,)], [(3, 4)]], args=(-1,))
    + op("diag_embed", [[(2, 3)]], args=(1,)) + op("diag_embed", [[(2, 3)]], args=(0, 0, 2))
    + op("diagflat", [[(2, 2)]], args=(1,))
    + op("det", [[(3, 3)], [(2, 3, 3)]], _spd) + op("logdet", [[(3, 3)]], _spd)
    + op("slogdet", [[(2, 3, 3)]], _spd, pick=1) + op("inverse", [[(3, 3)], [(2, 3, 3)]], _spd)
    + op("pinverse", [[(4, 3)], [(3, 4)]], atol=1e-4, fwd_atol=1e-5)
    + op("block_diag", [[(2, 3), (1, 2), (2,)]]) + op("dist", B[:2]) + op("dist", B[:1], args=(3,))
    + op("renorm", [[(3, 4)]], args=(2, 0, 1.0))
    + op("cross", [[(4, 3), (4, 3)], [(2, 4, 3), (2, 4, 3)]], kwargs={"dim": -1})
    + op("cross", [[(3, 2), (3, 2)]], kwargs={"dim": 0})
    + op("cartesian_prod", [[(2,), (3,)]])
)

CUMULATIVE = (
    op("cumprod", [[(3, 4)], [(2, 3, 4)]], args=(1,))
    + op("cumprod", [[(4, 3)]], _int, args=(0,))                     # zeros inside
    + op("cummax", [[(3, 4)], [(2, 3, 4)]], _distinct, args=(1,), pick=0)
    + op("cummin", [[(3, 4)]], _distinct, args=(-1,), pick=0)
    + op("logcumsumexp", [[(3, 4)], [(2, 3, 4)]], args=(1,))
    + op("diff", [[(3, 4)]]) + op("diff", [[(3, 4)]], kwargs={"n": 2, "dim": 0})
    + op("trapezoid", [[(3, 4)], [(5,)]])
    + op("trapezoid", [[(3, 4)]], kwargs={"dx": 0.5, "dim": 0})
    + op("trapezoid", [[(3, 4), (4,)]], differentiable=[True, False]) + op("trapz", [[(3, 4)]])
    + op("cumulative_trapezoid", [[(3, 4)]])
    + op("cumulative_trapezoid", [[(3, 4)]], kwargs={"dim": 0})
    + op("nansum", U[:2]) + op("nansum", [[(2, 3, 4)]], args=(1, True))
    + op("nanmean", U[:2]) + op("nanmean", [[(2, 3, 4)]], args=((0, 2),))
    + op("var_mean", [[(3, 4)]], args=(1,), pick=0) + op("var_mean", [[(3, 4)]], args=(0,), pick=1)
    + op("std_mean", [[(3, 4)]], kwargs={"dim": 1, "keepdim": True, "correction": 0}, pick=0)
    + op("aminmax", [[(3, 4)]], _distinct, kwargs={"dim": 1}, pick=0)
    + op("aminmax", [[(3, 4)]], _distinct, kwargs={"dim": 0, "keepdim": True}, pick=1)
    + op("cov", [[(3, 5)], [(5,)]]) + op("cov", [[(3, 5)]], kwargs={"correction": 0})
    + op("cov", [[(3, 5)]], kwargs={"fweights": I([1, 2, 1, 3, 1])})
    + op("corrcoef", [[(3, 5)]])
)

SORTING = (
    op("sort", [[(3, 4)], [(2, 3, 4)]], _distinct, pick=0)
    + op("sort", [[(3, 4)]], _distinct, args=(0, True), pick=0)
    + op("msort", [[(4, 3)]], _distinct)
    + op("topk", [[(3, 5)], [(2, 3, 5)]], _distinct, args=(2,), pick=0)
    + op("topk", [[(5, 3)]], _distinct, args=(2, 0, False), pick=0)
    + op("kthvalue", [[(3, 5)]], _distinct, args=(2,), pick=0)
    + op("kthvalue", [[(3, 5)]], _distinct, args=(3, 0, True), pick=0)
    + op("median", [[(3, 5)], [(4,)]], _distinct)
    + op("median", [[(3, 5)]], _distinct, args=(1,), pick=0)
    + op("median", [[(3, 4)]], _distinct, args=(0, True), pick=0)
    + op("nanmedian", [[(3, 5)]], _distinct, args=(1,), pick=0)
    + op("quantile", [[(3, 5)], [(7,)]], _distinct, args=(0.3,))
    + op("quantile", [[(3, 5)]], _distinct, args=(0.75,), kwargs={"dim": 1, "keepdim": True})
    + op("quantile", [[(3, 5)]], _distinct, args=(I([0.1, 0.5, 0.9], "float32"),), kwargs={"dim": 0})
    + [Case(f"quantile-{m}", (lambda m: lambda x: shendu.quantile(x, 0.4, 1, interpolation=m))(m),
            (lambda m: lambda x: __import__("torch").quantile(x, 0.4, 1, interpolation=m))(m),
            [(3, 5)], _distinct, double=False)
       for m in ("lower", "higher", "nearest", "midpoint")]
    + op("nanquantile", [[(3, 5)]], _distinct, args=(0.5,), kwargs={"dim": 1})
)

SCATTERING = (
    op("scatter", [[(3, 4), (2, 4)]], args=(0, I([[0, 2, 1, 0], [1, 0, 2, 2]]), T))
    + op("scatter", [[(3, 4)]], args=(1, I([[0, 2], [3, 1], [1, 0]])), kwargs={"value": 5.0})
    + op("scatter_add", [[(3, 4), (2, 4)]], args=(0, I([[0, 2, 1, 0], [0, 2, 2, 2]]), T))
    + op("scatter_reduce", [[(3, 4), (2, 4)]], args=(0, I([[0, 2, 1, 0], [0, 2, 2, 2]]), T, "sum"))
    + op("scatter_reduce", [[(3, 4), (2, 4)]], args=(0, I([[0, 2, 1, 0], [0, 2, 2, 2]]), T, "mean"))
    + op("scatter_reduce", [[(3, 4), (2, 4)]], args=(0, I([[0, 2, 1, 0], [0, 2, 2, 2]]), T, "mean"),
         kwargs={"include_self": False})
    + op("index_add", [[(4, 3), (2, 3)]], args=(0, I([3, 0]), T))
    + op("index_add", [[(4, 3), (4, 2)]], args=(1, I([2, 2]), T), kwargs={"alpha": 2.0})
    + op("index_copy", [[(4, 3), (2, 3)]], args=(0, I([3, 1]), T))
    + op("index_reduce", [[(4, 3), (3, 3)]], args=(0, I([3, 0, 3]), T, "mean"))
    + op("index_reduce", [[(4, 3), (4, 2)]], args=(1, I([2, 2]), T, "mean"), kwargs={"include_self": False})
    + op("index_fill", [[(4, 3)]], args=(1, I([0, 2]), -1.0))
    + op("masked_select", [[(3, 4)]], args=(I(np.arange(12).reshape(3, 4) % 3 == 0, "bool"),))
    + op("masked_select", [[(3, 4)]], args=(I([True, False, True, False], "bool"),))
    + op("take", [[(3, 4)]], args=(I([[0, 5], [11, -1]]),))
    + op("select_scatter", [[(3, 4), (4,)]], args=(0, 1))
    + op("select_scatter", [[(3, 4), (3,)]], args=(1, -1))
    + op("slice_scatter", [[(4, 3), (2, 3)]], kwargs={"start": 1, "end": 4, "step": 2})
    + op("slice_scatter", [[(4, 3), (4, 1)]], kwargs={"dim": 1, "start": 2})
    + op("diagonal_scatter", [[(3, 4), (3,)]]) + op("diagonal_scatter", [[(3, 4), (2,)]], args=(2,))
    + op("diagonal_scatter", [[(2, 3, 4), (3, 2)]], kwargs={"dim1": 0, "dim2": 2})
)

SHAPES = (
    op("narrow", [[(4, 3)]], args=(0, 1, 2)) + op("narrow", [[(4, 3)]], args=(1, -2, 2))
    + op("select", [[(4, 3)]], args=(1, -1)) + op("t", [[(3, 4)], [(4,)]])
    + op("adjoint", [[(2, 3, 4)]])
    + op("atleast_1d", [[()], [(3,)]]) + op("atleast_2d", [[()], [(3,)]])
    + op("atleast_3d", [[()], [(3,)], [(2, 3)]])
    + op("hstack", [[(3,), (2,)], [(2, 3), (2, 1)]], star=True)
    + op("vstack", [[(3,), (3,)], [(2, 3), (3,)]], star=True)
    + op("row_stack", [[(3,), (3,)]], star=True)
    + op("dstack", [[(3,), (3,)], [(2, 3), (2, 3, 2)]], star=True)
    + op("column_stack", [[(3,), (3, 2)]], star=True)
    + op("tensor_split", [[(7, 2)]], args=(3,), pick=0)
    + op("tensor_split", [[(7, 2)]], args=(3,), pick=2)
    + op("tensor_split", [[(2, 7)]], args=([1, 5],), kwargs={"dim": 1}, pick=1)
    + op("split_with_sizes", [[(6, 2)]], args=([2, 4],), pick=1)
    + op("hsplit", [[(3, 4)]], args=(2,), pick=1) + op("vsplit", [[(4, 3)]], args=([1],), pick=1)
    + op("dsplit", [[(2, 2, 4)]], args=(2,), pick=0)
    + op("fliplr", [[(3, 4)]]) + op("flipud", [[(3, 4)]])
    + op("rot90", [[(3, 4)]]) + op("rot90", [[(2, 3, 4)]], args=(2, (1, 2)))
    + op("rot90", [[(3, 4)]], args=(-1,)) + op("rot90", [[(3, 4)]], args=(3, (1, 0)))
    + op("meshgrid", [[(3,), (4,)]], pick=0)
    + op("meshgrid", [[(3,), (4,)]], kwargs={"indexing": "xy"}, pick=1)
    + op("broadcast_tensors", [[(3, 1), (4,)]], pick=0)
    + op("combinations", [[(4,)]])
    + op("combinations", [[(3,)]], kwargs={"r": 3, "with_replacement": True})
    + op("vander", [[(4,)]], kwargs={"N": 3}) + op("vander", [[(3,)]], kwargs={"increasing": True})
)

NAMESPACE = (
    op("cosine_similarity", [[(3, 4), (3, 4)], [(3, 4), (4,)]], kwargs={"dim": -1})
    + op("cosine_similarity", [[(3, 4), (3, 4)]])
    + op("pairwise_distance", [[(3, 4), (3, 4)], [(3, 4), (4,)]])
    + op("pairwise_distance", [[(3, 4), (3, 4)]], kwargs={"p": 1.0, "keepdim": True})
    + op("pdist", [[(4, 3)]]) + op("pdist", [[(4, 3)]], args=(1,))
)

CASES = POINTWISE + LINALG + CUMULATIVE + SORTING + SCATTERING + SHAPES + NAMESPACE


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


def test_every_family_has_cases():
    assert len(CASES) > 250
    names = {c.name.split("-")[0] for c in CASES}
    assert {"sort", "topk", "cumprod", "scatter", "det", "quantile", "rot90"} <= names
