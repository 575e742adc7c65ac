"""Shape ops: forward values, float64 gradcheck, second derivatives, errors, properties.

Each case is written once against a library ``lib`` (shendu or torch) and squared, so
the second derivative runs each op's backward on a gradient that depends on the input
(a linear op alone has a zero, graph-free second derivative).
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu
from harness import Case, check_gradcheck, check_gradgradcheck, params


def _torch():
    import torch
    return torch


def case(name, f, shapes, **kw):
    """A Case from ``f(lib, *tensors)``, the same code for shendu and torch."""
    return Case(name, lambda *xs: f(shendu, *xs) ** 2, lambda *xs: f(_torch(), *xs) ** 2,
                shapes, **kw)


def _pad(lib):
    return shendu.pad if lib is shendu else lib.nn.functional.pad


def _ints(lib, data):
    return lib.tensor(data)


def _weighted(lib, pieces, dim=0):
    """Join pieces again with a different weight each (so a mixed-up order shows)."""
    return lib.cat([p * (i + 1) for i, p in enumerate(pieces)], dim)


CASES = [
    # reshape / view
    case("reshape", lambda lib, a: a.reshape(3, 2), [(2, 3)]),
    case("reshape_tuple", lambda lib, a: a.reshape((4, -1)), [(2, 2, 2)]),
    case("reshape_flat", lambda lib, a: a.reshape(-1), [(2, 3)]),
    case("reshape_to_scalar", lambda lib, a: a.reshape(()), [(1, 1)]),
    case("reshape_from_scalar", lambda lib, a: a.reshape(1, 1, 1), [()]),
    case("view", lambda lib, a: a.view(1, 6), [(3, 2)]),
    # flatten / unflatten
    case("flatten", lambda lib, a: a.flatten(), [(2, 3, 2)]),
    case("flatten_from1", lambda lib, a: a.flatten(1), [(2, 3, 2)]),
    case("flatten_01", lambda lib, a: a.flatten(0, 1), [(2, 3, 2)]),
    case("flatten_scalar", lambda lib, a: a.flatten(), [()]),
    case("unflatten", lambda lib, a: a.unflatten(1, (2, 2)), [(3, 4)]),
    case("unflatten_neg", lambda lib, a: a.unflatten(-1, (-1, 3)), [(2, 6)]),
    # squeeze / unsqueeze
    case("squeeze_all", lambda lib, a: a.squeeze(), [(1, 3, 1, 2)]),
    case("squeeze_dim", lambda lib, a: a.squeeze(2), [(1, 3, 1, 2)]),
    case("squeeze_noop", lambda lib, a: a.squeeze(1), [(1, 3, 1, 2)]),
    case("squeeze_tuple", lambda lib, a: a.squeeze((0, 1)), [(1, 3, 1, 2)]),
    case("squeeze_scalar", lambda lib, a: a.squeeze(), [()]),
    case("unsqueeze0", lambda lib, a: a.unsqueeze(0), [(2, 3)]),
    case("unsqueeze_last", lambda lib, a: a.unsqueeze(-1), [(2, 3)]),
    case("unsqueeze_mid", lambda lib, a: a.unsqueeze(1), [(2, 3)]),
    case("unsqueeze_scalar", lambda lib, a: a.unsqueeze(0), [()]),
    # transpose / permute / swapaxes / moveaxis
    case("transpose01", lambda lib, a: a.transpose(0, 1), [(2, 3)]),
    case("transpose_neg", lambda lib, a: a.transpose(-1, 0), [(2, 3, 4)]),
    case("transpose_same", lambda lib, a: a.transpose(1, 1), [(2, 3)]),
    case("T", lambda lib, a: a.T, [(2, 3)]),
    case("mT", lambda lib, a: a.mT, [(2, 3, 4)]),
    case("permute", lambda lib, a: a.permute(2, 0, 1), [(2, 3, 4)]),
    case("permute_tuple", lambda lib, a: a.permute((1, 0)), [(2, 3)]),
    case("swapaxes", lambda lib, a: a.swapaxes(0, 2), [(2, 3, 4)]),
    case("moveaxis", lambda lib, a: a.moveaxis(0, -1), [(2, 3, 4)]),
    case("moveaxis_multi", lambda lib, a: a.moveaxis((0, 1), (2, 0)), [(2, 3, 4)]),
    # expand / broadcast_to
    case("expand", lambda lib, a: a.expand(2, -1, 4), [(3, 1)]),
    case("expand_same", lambda lib, a: a.expand(3, 2), [(3, 2)]),
    case("expand_scalar", lambda lib, a: a.expand(2, 3), [()]),
    case("expand_size1", lambda lib, a: a.expand(4), [(1,)]),
    case("broadcast_to", lambda lib, a: a.broadcast_to((2, 3, 4)), [(3, 1)]),
    case("expand_as", lambda lib, a, b: a.expand_as(b) * b, [(1, 3), (2, 3)]),
    # repeat / tile / repeat_interleave
    case("repeat", lambda lib, a: a.repeat(2, 3), [(2, 3)]),
    case("repeat_lead", lambda lib, a: a.repeat(2, 1, 2), [(2, 3)]),
    case("repeat_scalar", lambda lib, a: a.repeat(3), [()]),
    case("tile", lambda lib, a: a.tile(2), [(2, 3)]),
    case("tile_lead", lambda lib, a: a.tile(2, 1, 1), [(2, 3)]),
    case("repeat_interleave_flat", lambda lib, a: a.repeat_interleave(2), [(2, 3)]),
    case("repeat_interleave_dim", lambda lib, a: a.repeat_interleave(3, dim=1), [(2, 3)]),
    case("repeat_interleave_neg", lambda lib, a: a.repeat_interleave(2, dim=-2), [(2, 3)]),
    case("repeat_interleave_tensor",
         lambda lib, a: a.repeat_interleave(_ints(lib, [1, 0, 3]), dim=0), [(3, 2)]),
    # flip / roll
    case("flip0", lambda lib, a: a.flip(0), [(3, 4)]),
    case("flip_two", lambda lib, a: a.flip(0, 2), [(2, 3, 4)]),
    case("flip_tuple", lambda lib, a: a.flip((-1,)), [(2, 3)]),
    case("roll_flat", lambda lib, a: a.roll(1), [(2, 3)]),
    case("roll_dim", lambda lib, a: a.roll(2, 1), [(2, 3)]),
    case("roll_dims", lambda lib, a: a.roll((1, -1), (0, 1)), [(2, 3)]),
    case("roll_big", lambda lib, a: a.roll(7, 0), [(3, 2)]),
    # cat / stack
    case("cat0", lambda lib, a, b: lib.cat([a, b]), [(2, 3), (1, 3)]),
    case("cat1", lambda lib, a, b, c: lib.cat([a, b, c], 1), [(2, 1), (2, 3), (2, 2)]),
    case("cat_neg", lambda lib, a, b: lib.cat([a, b], dim=-1), [(2, 2, 1), (2, 2, 3)]),
    case("cat_self", lambda lib, a: lib.cat([a, a * 2, a], 0), [(2, 3)]),
    case("concatenate", lambda lib, a, b: lib.concatenate([a, b], 1), [(2, 3), (2, 1)]),
    case("stack0", lambda lib, a, b: lib.stack([a, b]), [(2, 3), (2, 3)]),
    case("stack_last", lambda lib, a, b: lib.stack([a, b], dim=-1), [(2, 3), (2, 3)]),
    case("stack_scalars", lambda lib, a, b, c: lib.stack([a, b, c]), [(), (), ()]),
    # split / chunk / unbind
    case("split_int", lambda lib, a: _weighted(lib, a.split(2)), [(5, 2)]),
    case("split_sizes", lambda lib, a: _weighted(lib, a.split([1, 3], 1), 1), [(2, 4)]),
    case("split_partial_use", lambda lib, a: a.split(2)[1], [(5, 2)]),
    case("chunk", lambda lib, a: _weighted(lib, a.chunk(3, 1), 1), [(2, 5)]),
    case("chunk_even", lambda lib, a: _weighted(lib, a.chunk(2)), [(4, 3)]),
    case("unbind", lambda lib, a: lib.stack([p * (i + 1) for i, p in enumerate(a.unbind(1))]),
         [(2, 3)]),
    case("unbind_partial_use", lambda lib, a: a.unbind(0)[1], [(3, 2)]),
    # pad (PyTorch's F.pad convention)
    case("pad_const", lambda lib, a: _pad(lib)(a, (1, 2)), [(2, 3)]),
    case("pad_const_2d", lambda lib, a: _pad(lib)(a, (1, 0, 2, 1), value=0.5), [(2, 3)]),
    case("pad_const_3d", lambda lib, a: _pad(lib)(a, (1, 1, 0, 1, 1, 0)), [(2, 2, 2)]),
    case("pad_crop", lambda lib, a: _pad(lib)(a, (-1, 2, 1, -1)), [(3, 4)]),
    case("pad_reflect", lambda lib, a: _pad(lib)(a, (2, 1), mode="reflect"), [(2, 4)]),
    case("pad_reflect_2d", lambda lib, a: _pad(lib)(a, (1, 2, 2, 1), mode="reflect"),
         [(1, 2, 3, 4)]),
    case("pad_replicate", lambda lib, a: _pad(lib)(a, (2, 3), mode="replicate"), [(2, 3)]),
    case("pad_replicate_2d", lambda lib, a: _pad(lib)(a, (1, 1, 2, 0), mode="replicate"),
         [(1, 2, 3)]),
    case("pad_circular", lambda lib, a: _pad(lib)(a, (2, 1), mode="circular"), [(1, 2, 3)]),
    case("pad_circular_2d", lambda lib, a: _pad(lib)(a, (1, 2, 2, 1), mode="circular"),
         [(1, 1, 3, 3)]),
    # tril / triu
    case("tril", lambda lib, a: a.tril(), [(3, 4)]),
    case("tril_neg", lambda lib, a: a.tril(-1), [(2, 3, 3)]),
    case("triu", lambda lib, a: a.triu(), [(4, 3)]),
    case("triu_pos", lambda lib, a: a.triu(1), [(2, 3, 3)]),
]


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


# ------------------------------------------------------------------ values against NumPy
def test_forward_values_match_numpy():
    a = np.arange(24.0).reshape(2, 3, 4)
    x = shendu.tensor(a)
    checks = [
        (x.reshape(4, 6), a.reshape(4, 6)),
        (x.flatten(1), a.reshape(2, 12)),
        (x.transpose(0, 2), a.swapaxes(0, 2)),
        (x.transpose(), a.transpose()),
        (x.transpose((1, 0, 2)), a.transpose(1, 0, 2)),
        (x.transpose(2, 0, 1), a.transpose(2, 0, 1)),
        (shendu.permute_axes(x, (2, 0, 1)), a.transpose(2, 0, 1)),
        (x.moveaxis(0, -1), np.moveaxis(a, 0, -1)),
        (x.moveaxis((0, 2), (1, 0)), np.moveaxis(a, (0, 2), (1, 0))),
        (x.repeat(2, 1, 1, 3), np.tile(a, (2, 1, 1, 3))),
        (x.repeat_interleave(2, dim=2), np.repeat(a, 2, axis=2)),
        (x.repeat_interleave(shendu.tensor([2, 0, 1]), dim=1), np.repeat(a, [2, 0, 1], axis=1)),
        (x.flip(), a[::-1, ::-1, ::-1]),
        (shendu.flip(x, axis=1), a[:, ::-1]),
        (x.roll(5), np.roll(a, 5)),
        (x.roll((1, 2), (0, 2)), np.roll(a, (1, 2), (0, 2))),
        (shendu.cat([x, x], axis=1), np.concatenate([a, a], axis=1)),
        (shendu.stack([x, x], axis=3), np.stack([a, a], axis=3)),
        (shendu.pad_np(x, ((0, 0), (1, 2), (3, 0))), np.pad(a, ((0, 0), (1, 2), (3, 0)))),
        (shendu.pad_np(x, 1, constant_values=7), np.pad(a, 1, constant_values=7)),
        (shendu.pad_np(x, (1, 2), mode="reflect"), np.pad(a, (1, 2), mode="reflect")),
        (shendu.pad_np(x, (5, 7), mode="reflect"), np.pad(a, (5, 7), mode="reflect")),
        (shendu.pad_np(x, (5, 9), mode="wrap"), np.pad(a, (5, 9), mode="wrap")),
        (shendu.pad_np(x[:, :1], (2, 3), mode="reflect"), np.pad(a[:, :1], (2, 3), mode="reflect")),
        (shendu.pad_np(x, (2, 1), mode="edge"), np.pad(a, (2, 1), mode="edge")),
        (shendu.pad_np(x, ((1, 2), (0, 3), (4, 1)), mode="wrap"),
         np.pad(a, ((1, 2), (0, 3), (4, 1)), mode="wrap")),
        (x.tril(1), np.tril(a, 1)),
        (shendu.triu(x, k=-1), np.triu(a, -1)),
    ]
    for i, (got, want) in enumerate(checks):
        assert got.shape == want.shape, f"check {i}: shape {got.shape} vs {want.shape}"
        np.testing.assert_array_equal(got.numpy(), want, err_msg=f"check {i}")


def test_split_chunk_unbind_pieces():
    x = shendu.arange(10.0).reshape(5, 2)
    assert [p.shape for p in x.split(2)] == [(2, 2), (2, 2), (1, 2)]
    assert [p.shape for p in x.split([1, 0, 4])] == [(1, 2), (0, 2), (4, 2)]
    assert [p.shape for p in x.chunk(3)] == [(2, 2), (2, 2), (1, 2)]
    assert [p.shape for p in shendu.zeros(6).chunk(4)] == [(2,), (2,), (2,)]
    assert [p.shape for p in shendu.zeros(0).chunk(3)] == [(0,), (0,), (0,)]
    rows = x.unbind()
    assert len(rows) == 5 and rows[3].tolist() == [6.0, 7.0]
    cols = x.unbind(1)
    assert [c.tolist() for c in cols] == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]


def test_unused_split_pieces_get_zero_gradient():
    x = shendu.arange(6.0).requires_grad_()
    a, b, c = x.split(2)
    (b * 3).sum().backward()
    assert x.grad.tolist() == [0, 0, 3, 3, 0, 0]


def test_keeps_float32():
    x = shendu.ones(2, 3)
    for y in (x.reshape(3, 2), x.T, x.expand(4, 2, 3), x.repeat(2, 2), shendu.pad(x, (1, 1)),
              shendu.pad(x, (1, 1), value=2.5), shendu.cat([x, x]), x.tril(), x.flip(0)):
        assert y.dtype == shendu.float32


def test_expand_is_a_view_without_copy():
    x = shendu.ones(1, 3)
    y = x.expand(1000, 3)
    assert y.shape == (1000, 3) and y._data.base is not None


def test_double_backward_through_expand_and_cat():
    # f(x) = sum(cat([x, x^2]) expanded)^2-ish: compare a Hessian-vector product with numpy
    x = shendu.tensor([1.0, -2.0, 0.5], dtype=shendu.float64, requires_grad=True)
    y = shendu.cat([x, x * x]).expand(2, -1)
    g, = shendu.autograd.grad((y ** 2).sum(), x, create_graph=True)
    # d/dx sum over 2 rows of (x^2 + x^4) = 2 * (2x + 4x^3)
    np.testing.assert_allclose(g.detach().numpy(), 2 * (2 * x._data + 4 * x._data ** 3))
    h, = shendu.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 2 * (2 + 12 * x._data ** 2))


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, exc, message", [
    (lambda x: x.reshape(4, 2), ValueError,
     r"reshape: cannot reshape a tensor of shape \(2, 3\) \(6 elements\) into \(4, 2\)"),
    (lambda x: x.reshape(-1, 4), ValueError, r"into \(-1, 4\)"),
    (lambda x: x.reshape(-1, -1), ValueError, r"only one dimension can be -1"),
    (lambda x: x.view(2, 2.5), TypeError, r"reshape: sizes must be integers"),
    (lambda x: x.transpose(0, 2), IndexError,
     r"swapaxes: dimension 2 is out of range for a tensor with 2 dimensions \(expected -2..1\)"),
    (lambda x: x.permute(0, 0), ValueError, r"permute: dims \(0, 0\) are not a permutation"),
    (lambda x: x.permute(0), ValueError, r"permute: got 1 dimensions"),
    (lambda x: x.squeeze(3), IndexError, r"squeeze: dimension 3 is out of range"),
    (lambda x: x.unsqueeze(3), IndexError, r"unsqueeze: dimension 3 is out of range .*-3..2"),
    (lambda x: x.flatten(1, 0), ValueError, r"flatten: start_dim \(1\) must not come after"),
    (lambda x: x.unflatten(1, (2, 2)), ValueError, r"unflatten: sizes \(2, 2\) don't multiply"),
    (lambda x: x.expand(2, 4), ValueError,
     r"expand: the expanded size 4 must match the existing size 3 at dimension 1"),
    (lambda x: x.expand(3), ValueError, r"expand: the number of sizes given \(1\)"),
    (lambda x: x.expand(-1, 2, 3), ValueError, r"-1 is not allowed in a new leading dimension"),
    (lambda x: x.broadcast_to((3, 3)), ValueError,
     r"broadcast_to: cannot broadcast a tensor of shape \(2, 3\) to \(3, 3\)"),
    (lambda x: x.repeat(2), ValueError, r"repeat: the number of repeat sizes \(1\) can not be"),
    (lambda x: x.repeat_interleave(shendu.tensor([1, 2]), dim=1), ValueError,
     r"repeats has 2 counts but dimension 1 .* has size 3"),
    (lambda x: x.split([1, 2]), ValueError, r"split: sizes \(1, 2\) must be non-negative and "
                                            r"sum exactly to 2"),
    (lambda x: x.split(0), ValueError, r"split_size must be a positive integer"),
    (lambda x: x.chunk(0), ValueError, r"chunk: chunks must be a positive integer"),
    (lambda x: shendu.cat([x, shendu.ones(2, 4)]), ValueError,
     r"cat: tensor 1 has shape \(2, 4\) but tensor 0 has shape \(2, 3\); they must match in "
     r"every dimension except dim 0"),
    (lambda x: shendu.cat([x, x, shendu.ones(3)], 1), ValueError, r"cat: tensor 2 has shape \(3,\)"),
    (lambda x: shendu.cat([x], 2), IndexError, r"cat: dimension 2 is out of range"),
    (lambda x: shendu.cat(x), TypeError, r"cat: expected a list or tuple of tensors"),
    (lambda x: shendu.cat([]), ValueError, r"cat: expected a non-empty list"),
    (lambda x: shendu.cat([shendu.tensor(1.0)]), ValueError, r"zero-dimensional"),
    (lambda x: shendu.stack([x, x.T]), ValueError,
     r"stack: tensor 1 has shape \(3, 2\) but tensor 0 has shape \(2, 3\)"),
    (lambda x: shendu.stack([x, x], 3), IndexError, r"stack: dimension 3 is out of range"),
    (lambda x: shendu.pad(x, (1,)), ValueError, r"pad: the pad tuple must have an even length"),
    (lambda x: shendu.pad(x, (1, 1) * 3), ValueError, r"pads 3 dimensions but the tensor has only 2"),
    (lambda x: shendu.pad(x[:, :0], (1, 0), mode="reflect"), ValueError,
     r"pad: cannot reflect-pad the empty dimension 1"),
    (lambda x: shendu.pad(x, (1, 1), mode="mirror"), ValueError, r"pad: mode must be"),
    (lambda x: shendu.pad(x, (-2, -2)), ValueError, r"crop more than"),
    (lambda x: shendu.pad_np(x, ((1, 1),) * 3), ValueError, r"does not fit a tensor with 2"),
    (lambda x: x.roll((1, 2), 0), ValueError, r"roll: shifts \(1, 2\) and dims \(0,\)"),
    (lambda x: x.flip(0, 0), ValueError, r"flip: dimension repeated"),
    (lambda x: x[0].tril(), ValueError, r"tril: expected a tensor with at least 2 dimensions .*"
                                        r"shape \(3,\)"),
])
def test_errors_are_readable(call, exc, message):
    with pytest.raises(exc, match=message):
        call(shendu.ones(2, 3))


# ------------------------------------------------------------------ properties
@settings(deadline=None, max_examples=60)
@given(hnp.mutually_broadcastable_shapes(num_shapes=1, min_dims=0, max_dims=4, max_side=3),
       st.integers(0, 2))
def test_broadcast_to_and_expand_match_numpy(bs, extra):
    src = bs.input_shapes[0]
    target = (2,) * extra + bs.result_shape
    a = np.random.default_rng(0).standard_normal(src)
    x = shendu.tensor(a, requires_grad=True)
    y = x.broadcast_to(target)
    np.testing.assert_array_equal(y.detach().numpy(), np.broadcast_to(a, target))
    # expand: -1 wherever the size is kept
    lead = len(target) - len(src)
    sizes = [t if i < lead or src[i - lead] != t else -1 for i, t in enumerate(target)]
    z = x.expand(*sizes)
    assert z.shape == target
    g = np.random.default_rng(1).standard_normal(target)
    (y * shendu.tensor(g)).sum().backward()
    # the gradient sums g over every stretched or added axis
    want = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, s in enumerate(src) if s == 1 and want.shape[i] != 1)
    want = want.sum(axis=axes, keepdims=True) if axes else want
    assert x.grad.shape == src
    np.testing.assert_allclose(x.grad.numpy(), want.reshape(src), rtol=1e-12, atol=1e-12)


@settings(deadline=None, max_examples=40)
@given(hnp.array_shapes(min_dims=1, max_dims=4, max_side=4), st.data())
def test_permute_backward_inverts(shape, data):
    perm = data.draw(st.permutations(range(len(shape))))
    a = np.random.default_rng(0).standard_normal(shape)
    x = shendu.tensor(a, requires_grad=True)
    y = x.permute(*perm)
    np.testing.assert_array_equal(y.detach().numpy(), a.transpose(perm))
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(shendu.tensor(g))
    np.testing.assert_array_equal(x.grad.numpy(), g.transpose(np.argsort(perm)))


def test_numpy_keyword_forms_used_by_double_backward():
    # ctx.xp in double-backward mode maps NumPy names onto these functions, so they must
    # accept NumPy's keywords
    from shendu.ops._tensor_xp import tensor_namespace
    ns = tensor_namespace(np)
    x = shendu.ones(2, 3)
    assert shendu.reshape(x, shape=(3, 2)).shape == (3, 2)
    assert ns.reshape(x, (6,)).shape == (6,)
    assert ns.expand_dims(x, axis=1).shape == (2, 1, 3)
    assert shendu.unsqueeze(x, axis=(0, 3)).shape == (1, 2, 3, 1)
    assert ns.transpose(x, axes=(1, 0)).shape == (3, 2) and ns.transpose(x).shape == (3, 2)
    assert ns.flip(x, axis=0).shape == (2, 3)
    assert ns.tril(x, k=-1).tolist() == [[0, 0, 0], [1, 0, 0]]
    assert ns.concatenate([x, x], axis=1).shape == (2, 6)
    assert ns.stack([x, x], axis=2).shape == (2, 3, 2)
    assert ns.broadcast_to(x, shape=(4, 2, 3)).shape == (4, 2, 3)
    assert ns.pad(x, ((1, 1), (0, 2)), constant_values=0).shape == (4, 5)
    with pytest.raises(TypeError, match="either positionally or as shape="):
        shendu.reshape(x, 6, shape=(6,))
