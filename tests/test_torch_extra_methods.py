"""The Tensor-method forms of the torch.* extra ops (tensor_methods._SAME_AS_FUNCTION:
``x.name(...) == shendu.name(x, ...)``) and the in-place forms (``_IN_PLACE``:
``x.name_(...)`` writes ``shendu.name(x, ...)`` into x, returns x, bumps its version),
one parametrized test each over every name; then the random draws (moments, shapes,
dtypes, seeding), the torch.* function forms of shendu/_torch_forms.py and the helpers
of shendu/_torch_extras.py."""
import numpy as np
import pytest

import shendu
from shendu.autograd.tensor_methods import _IN_PLACE, _SAME_AS_FUNCTION

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 0.9, (3, 4))           # the default input
Y = RNG.uniform(0.1, 0.9, (3, 4))
SQ = X[:, :3] @ X[:, :3].T + np.eye(3)       # well-conditioned (3, 3)
IX = RNG.integers(1, 20, (3, 4))             # integer input


def _t(a):
    return shendu.tensor(a)


# name: (input array, args, kwargs); missing names take X and no arguments.
ARGS = {
    "addbmm": (np.ones((2, 2)), (_t(RNG.random((3, 2, 4))), _t(RNG.random((3, 4, 2)))), {}),
    "baddbmm": (np.ones((3, 2, 2)), (_t(RNG.random((3, 2, 4))), _t(RNG.random((3, 4, 2)))), {}),
    "addcdiv": (X, (_t(Y), _t(Y + 1)), {"value": 0.5}),
    "addcmul": (X, (_t(Y), _t(Y)), {"value": 2}),
    "addmm": (np.ones((3, 2)), (_t(X), _t(RNG.random((4, 2)))), {"beta": 0.5}),
    "addmv": (np.ones(3), (_t(X), _t(Y[0])), {}), "addr": (X, (_t(Y[:, 0]), _t(Y[0])), {}),
    "bmm": (RNG.random((2, 3, 4)), (_t(RNG.random((2, 4, 2))),), {}),
    "mm": (X, (_t(Y.T),), {}), "mv": (X, (_t(Y[0]),), {}), "ger": (X[0], (_t(Y[0]),), {}),
    "vdot": (X[0], (_t(Y[0]),), {}), "inner": (X, (_t(Y),), {}), "kron": (X, (_t(Y),), {}),
    "cross": (X[:, :3], (_t(Y[:, :3]),), {"dim": 1}), "dist": (X, (_t(Y), 3), {}),
    "bincount": (IX[0], (), {"minlength": 25}),
    "cummax": (X, (1,), {}), "cummin": (X, (0,), {}), "cumprod": (X, (1,), {}),
    "cumsum": (X, (0,), {}), "logcumsumexp": (X, (1,), {}),
    "det": (SQ, (), {}), "inverse": (SQ, (), {}), "logdet": (SQ, (), {}),
    "slogdet": (SQ, (), {}), "matrix_power": (SQ, (3,), {}), "pinverse": (X, (), {}),
    "dsplit": (RNG.random((2, 2, 4)), (2,), {}), "hsplit": (X, (2,), {}),
    "vsplit": (X, ([1],), {}), "tensor_split": (X, (2,), {"dim": 1}),
    "split_with_sizes": (X, ([1, 2],), {}), "unsafe_chunk": (X, (3,), {}),
    "unsafe_split": (X, (2,), {"dim": 1}), "unsafe_split_with_sizes": (X, ([1, 2],), {}),
    "is_nonzero": (X[:1, :1], (), {}), "kthvalue": (X, (2,), {}), "topk": (X, (2,), {}),
    "narrow": (X, (1, 1, 2), {}), "narrow_copy": (X, (0, 1, 2), {}), "select": (X, (1, 2), {}),
    "multinomial": (X[0], (2,), {}), "bernoulli": (X, (), {}),
    "quantile": (X, (0.3,), {"dim": 1}), "nanquantile": (X, (0.6,), {}),
    "renorm": (X, (2, 0, 0.5), {}), "prelu": (X, (_t(np.array([0.25])),), {}),
    "index_add": (X, (0, _t(np.array([2, 0])), _t(Y[:2])), {"alpha": 2}),
    "index_reduce": (X, (0, _t(np.array([2, 0])), _t(Y[:2]), "amax"), {}),
    "nonzero_static": (X > 0.5, (), {"size": 4}),
    "index_copy": (X, (1, _t(np.array([3, 0])), _t(Y[:, :2])), {}),
    "index_fill": (X, (1, _t(np.array([1, 2])), -1.0), {}),
    "index_put": (X, ((_t(np.array([0, 2])), _t(np.array([1, 1]))), _t(np.array([5.0, 6.0]))), {}),
    "masked_scatter": (X, (_t(X > 0.5), _t(np.arange(12.0))), {}),
    "masked_fill": (X, (_t(X > 0.5), 0.0), {}),
    "put": (X, (_t(np.array([0, 5])), _t(np.array([9.0, 8.0]))), {}),
    "scatter": (X, (0, _t(np.array([[2, 0, 1, 1]])), _t(Y[:1])), {}),
    "scatter_add": (X, (0, _t(np.array([[2, 0, 1, 1]])), _t(Y[:1])), {}),
    "scatter_reduce": (X, (0, _t(np.array([[2, 0, 1, 1]])), _t(Y[:1]), "sum"), {}),
    "select_scatter": (X, (_t(Y[0]), 0, 1), {}),
    "slice_scatter": (X, (_t(Y[:2]),), {"start": 1}),
    "diagonal_scatter": (X, (_t(Y[0, :3]),), {}),
    "searchsorted": (np.sort(X[0]), (_t(Y[0]),), {}), "isin": (IX, (_t(IX[0]),), {}),
    "lerp": (X, (_t(Y), 0.3), {}), "float_power": (X, (2,), {}),
    "heaviside": (X - 0.5, (_t(np.array(0.5)),), {}), "ldexp": (X, (_t(IX % 3),), {}),
}
for _n in ("arctan2", "atan2", "clamp_max", "clamp_min", "copysign", "fmax", "fmin",
           "greater", "greater_equal", "hypot", "isclose", "less", "less_equal",
           "logaddexp", "logaddexp2", "logical_and", "logical_or", "logical_xor",
           "not_equal", "xlogy", "nextafter", "divide", "eq", "fmod", "floor_divide", "ge",
           "gt", "le", "lt", "multiply", "ne", "remainder", "subtract", "true_divide"):
    ARGS.setdefault(_n, (X, (_t(Y),), {}))
for _n in ("acosh", "arccosh"):
    ARGS[_n] = (X + 1, (), {})
for _n in ("gcd", "lcm", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_left_shift",
           "bitwise_right_shift"):
    ARGS[_n] = (IX, (_t(IX[0] % 4),), {})
ARGS["bitwise_not"] = (IX, (), {})
RANDOM = {"bernoulli", "multinomial"}


def _values(out):
    if isinstance(out, (tuple, list)):
        return [_values(o) for o in out]
    return out.numpy() if isinstance(out, shendu.Tensor) else out


def _equal(a, b):
    a, b = _values(a), _values(b)
    if isinstance(a, list):
        assert len(a) == len(b)
        for u, v in zip(a, b):
            _equal(u, v)
    else:
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(set(_SAME_AS_FUNCTION)))
def test_method_form_equals_function_form(name):
    a, args, kwargs = ARGS.get(name, (X, (), {}))
    if name in RANDOM:
        shendu.manual_seed(0)
    method = getattr(_t(a), name)(*args, **kwargs)
    if name in RANDOM:
        shendu.manual_seed(0)
    _equal(method, getattr(shendu, name)(_t(a), *args, **kwargs))


def test_method_names_are_unique():
    assert sorted(set(_SAME_AS_FUNCTION)) == sorted(_SAME_AS_FUNCTION)
    assert sorted(set(_IN_PLACE)) == sorted(_IN_PLACE)


@pytest.mark.parametrize("name", sorted(set(_IN_PLACE)))
def test_in_place_form_writes_the_function_form(name):
    a, args, kwargs = ARGS.get(name, (X, (), {}))
    x = _t(a)
    expected = getattr(shendu.Tensor, name)(_t(a), *args, **kwargs).numpy()
    before = x._version
    out = getattr(x, name + "_")(*args, **kwargs)
    assert out is x
    assert x._version > before
    np.testing.assert_allclose(x.numpy(), expected.astype(x.dtype), rtol=1e-12)


def test_in_place_forms_refuse_graph_tensors():
    leaf = shendu.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor"):
        leaf.sinh_()
    with pytest.raises(RuntimeError, match="not differentiable"):
        (leaf * 2).cumprod_(1)
    with shendu.no_grad():
        leaf.clamp_min_(0.5)
    assert leaf.detach().numpy().min() == 0.5
