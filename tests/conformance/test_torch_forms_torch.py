"""The torch.* function forms of shendu/_torch_forms.py against PyTorch 2.13: the
in-place functions (``torch.abs_(x)``), the ``*_copy`` forms, the losses with integer
``reduction`` codes, the RNN cells (forward and gradients), ``gradient``,
``histogramdd``, ``channel_shuffle`` and friends."""
import numpy as np
import pytest

import shendu
from shendu import _torch_forms

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 0.9, (3, 4)).astype(np.float32)
Y = RNG.uniform(0.1, 0.9, (3, 4)).astype(np.float32)


class P:  # a tensor argument given to both libraries
    def __init__(self, a):
        self.a = np.asarray(a)


def _args(args, lib):
    def one(v):
        if isinstance(v, P):
            return shendu.tensor(v.a.copy()) if lib == "s" else torch.tensor(v.a.copy())
        if isinstance(v, tuple):
            return tuple(one(e) for e in v)
        return v
    return [one(v) for v in args]


def _check(ours, theirs, rtol=1e-5, atol=1e-6):
    if isinstance(theirs, (tuple, list)):
        assert len(ours) == len(theirs)
        for a, b in zip(ours, theirs):
            _check(a, b, rtol, atol)
        return
    a, b = ours.detach().numpy(), theirs.detach().numpy()
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


INPLACE_ARGS = {
    "addmv_": (P(np.ones(3, np.float32)), P(X), P(Y[0])), "clamp_": (P(X), 0.3, 0.6),
    "clip_": (P(X), 0.3, 0.6), "clamp_max_": (P(X), 0.5), "clamp_min_": (P(X), 0.5),
    "fill_": (P(X), 2.5), "gcd_": (P(np.array([12, 9])), P(np.array([8, 6]))),
    "lcm_": (P(np.array([12, 9])), P(np.array([8, 6]))),
    "index_put_": (P(X), (P(np.array([0, 2])),), P(np.float32(7.0))),
    "ldexp_": (P(X), P(np.array([1, 2, 0, 3], np.float32))), "logit_": (P(X), 0.2),
    "resize_as_": (P(X), P(np.zeros((2, 6), np.float32))), "xlogy_": (P(X), P(Y)),
    "acosh_": (P(X + 1),), "arccosh_": (P(X + 1),),
}


@pytest.mark.parametrize("name", _torch_forms._IN_PLACE_FUNCTIONS)
def test_in_place_function_forms(name):
    args = INPLACE_ARGS.get(name, (P(X),))
    ours, theirs = _args(args, "s"), _args(args, "t")
    out, tout = getattr(shendu, name)(*ours), getattr(torch, name)(*theirs)
    assert out is ours[0]
    _check(ours[0], theirs[0])
    _check(out, tout)


COPY_ARGS = {
    "diagonal_copy": (), "expand_copy": ((2, 3, 4),), "permute_copy": ((1, 0),),
    "select_copy": (1, 2), "split_copy": (2,), "split_with_sizes_copy": ([1, 2],),
    "squeeze_copy": (), "t_copy": (), "transpose_copy": (0, 1), "unbind_copy": (1,),
    "unfold_copy": (1, 2, 1), "unsqueeze_copy": (1,), "view_copy": ((4, 3),),
    "alias_copy": (), "detach_copy": (),
}


@pytest.mark.parametrize("name", sorted(COPY_ARGS))
def test_copy_forms_are_new_tensors(name):
    x, tx = shendu.tensor(X), torch.tensor(X)
    out, tout = getattr(shendu, name)(x, *COPY_ARGS[name]), getattr(torch, name)(tx, *COPY_ARGS[name])
    _check(out, tout)
    first = out[0] if isinstance(out, (tuple, list)) else out
    if name not in ("alias_copy",):
        assert not np.shares_memory(first.numpy(), x.numpy())


def test_slice_copy_fill_ravel_constant_pad_channel_shuffle():
    x, tx = shendu.tensor(X), torch.tensor(X)
    _check(shendu.slice_copy(x, 1, 1, 4, 2), torch.slice_copy(tx, 1, 1, 4, 2))
    _check(shendu.fill(x, 3.0), torch.fill(tx, 3.0))
    _check(shendu.ravel(x), torch.ravel(tx))
    _check(shendu.constant_pad_nd(x, (1, 2), 0.5), torch.constant_pad_nd(tx, (1, 2), 0.5))
    c = RNG.standard_normal((2, 6, 3)).astype(np.float32)
    _check(shendu.channel_shuffle(shendu.tensor(c), 3), torch.channel_shuffle(torch.tensor(c), 3))
    _check(shendu.frobenius_norm(x, (0, 1)), torch.frobenius_norm(tx, (0, 1)))
    _check(shendu.frobenius_norm(x, (1,), True), torch.frobenius_norm(tx, (1,), True))
    _check(shendu.max_pool1d_with_indices(shendu.tensor(c), 2),
           tuple(torch.max_pool1d_with_indices(torch.tensor(c), 2)))
    _check(shendu.rms_norm(x, (4,)), torch.rms_norm(tx, (4,)))
    assert shendu.get_device(x) == torch.get_device(tx) == -1


@pytest.mark.parametrize("kw", [{}, {"spacing": 2.0}, {"dim": 1}, {"edge_order": 2}])
def test_gradient(kw):
    a = (np.arange(20.0, dtype=np.float32).reshape(4, 5) ** 2)
    _check(shendu.gradient(shendu.tensor(a), **kw), torch.gradient(torch.tensor(a), **kw))


def test_histogramdd():
    a = RNG.standard_normal((50, 2)).astype(np.float32)
    h, e = shendu.histogramdd(shendu.tensor(a), bins=[3, 4])
    th, te = torch.histogramdd(torch.tensor(a), bins=[3, 4])
    _check(h, th)
    _check(e, te, rtol=1e-5)
    h, e = shendu.histogramdd(shendu.tensor(a), bins=3, range=[-1.0, 1.0, -2.0, 2.0])
    th, te = torch.histogramdd(torch.tensor(a), bins=3, range=[-1.0, 1.0, -2.0, 2.0])
    _check(h, th)


@pytest.mark.parametrize("reduction", [0, 1, 2])
def test_losses_with_integer_reduction_codes(reduction):
    a, b = RNG.standard_normal((4, 3)).astype(np.float32), RNG.random((4, 3)).astype(np.float32)
    t = np.array([1.0, -1.0, 1.0, -1.0], np.float32)
    (x, tx), (y, ty), (s, ts) = [(shendu.tensor(v), torch.tensor(v)) for v in (a, b, t)]
    _check(shendu.binary_cross_entropy_with_logits(x, y, None, None, reduction),
           torch.binary_cross_entropy_with_logits(tx, ty, None, None, reduction))
    _check(shendu.cosine_embedding_loss(x, y, s, 0.1, reduction),
           torch.cosine_embedding_loss(tx, ty, ts, 0.1, reduction))
    _check(shendu.hinge_embedding_loss(x, shendu.tensor(np.sign(a)), 1.0, reduction),
           torch.hinge_embedding_loss(tx, torch.tensor(np.sign(a)), 1.0, reduction))
    _check(shendu.kl_div(x, y, reduction), torch.kl_div(tx, ty, reduction))
    _check(shendu.margin_ranking_loss(x[:, 0], y[:, 0], s, 0.2, reduction),
           torch.margin_ranking_loss(tx[:, 0], ty[:, 0], ts, 0.2, reduction))
    _check(shendu.poisson_nll_loss(x, y, True, False, 1e-8, reduction),
           torch.poisson_nll_loss(tx, ty, True, False, 1e-8, reduction))


@pytest.mark.parametrize("cell,gates", [("lstm_cell", 4), ("gru_cell", 3),
                                        ("rnn_tanh_cell", 1), ("rnn_relu_cell", 1)])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_cells_forward_and_gradients(cell, gates, bias):
    n, i, h = 3, 4, 5
    arrays = [RNG.standard_normal(s).astype(np.float32) * 0.5 for s in
              [(n, i), (n, h), (n, h), (gates * h, i), (gates * h, h), (gates * h,), (gates * h,)]]
    ours = [shendu.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]

    def call(lib, ts):
        x, h0, c0, wi, wh, bi, bh = ts
        hx = (h0, c0) if cell == "lstm_cell" else h0
        out = getattr(lib, cell)(x, hx, wi, wh, bi if bias else None, bh if bias else None)
        return out if isinstance(out, tuple) else (out,)
    y, ty = call(shendu, ours), call(torch, theirs)
    _check(y, ty)
    sum(o.sum() * (k + 1) for k, o in enumerate(y)).backward()
    sum(o.sum() * (k + 1) for k, o in enumerate(ty)).backward()
    for a, b in zip(ours, theirs):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_activation_in_place_functions_and_sym_helpers():
    a = RNG.standard_normal((3, 4)).astype(np.float32)
    for name, args in [("relu_", ()), ("celu_", (0.5,)), ("selu_", ()),
                       ("threshold_", (0.1, -2.0)), ("dropout_", (0.5, False)),
                       ("alpha_dropout_", (0.5, False)), ("feature_dropout_", (0.5, False))]:
        x, tx = shendu.tensor(a), torch.tensor(a)
        assert getattr(shendu, name)(x, *args) is x
        getattr(torch, name)(tx, *args)
        _check(x, tx)
    assert shendu.sym_max(2, 5) == torch.sym_max(2, 5) == 5
    assert shendu.sym_min(2, 5) == 2 and shendu.sym_int(3.7) == 3 and shendu.sym_float(2) == 2.0
    assert shendu.sym_not(True) is False and shendu.sym_sqrt(4) == 2.0
    assert shendu.sym_sum([1, 2, 3]) == 6 and shendu.sym_ite(False, 1, 2) == 2
    buf = np.arange(4, dtype=np.float32).tobytes()
    _check(shendu.frombuffer(bytearray(buf), dtype=shendu.float32),
           torch.frombuffer(bytearray(buf), dtype=torch.float32))
    _check(shendu.from_dlpack(np.arange(3.0, dtype=np.float32)), torch.arange(3.0))
    assert not shendu.is_conj(shendu.ones(1)) and not shendu.is_distributed(shendu.ones(1))


def test_tensor_unfold_forward_and_gradient():
    a = RNG.standard_normal((3, 7)).astype(np.float32)
    for args in [(1, 3, 2), (0, 2, 1), (1, 7, 1), (-1, 1, 3)]:
        x, tx = shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
        y, ty = x.unfold(*args), tx.unfold(*args)
        _check(y, ty)
        g = RNG.standard_normal(ty.shape).astype(np.float32)
        y.backward(shendu.tensor(g))
        ty.backward(torch.tensor(g))
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-6)


def test_tensor_facts_new_and_casts_like_pytorch():
    x, tx = shendu.tensor(X), torch.tensor(X)
    for name in ("new_zeros", "new_ones", "new_empty"):
        o, to = getattr(x, name)(2, 3), getattr(tx, name)(2, 3)
        assert o.shape == tuple(to.shape) and o.dtype == shendu.float32
    _check(x.new_full((2,), 4.0), tx.new_full((2,), 4.0))
    _check(x.new_tensor([1, 2]), tx.new_tensor([1, 2]))
    assert x.new_zeros((2,), dtype=shendu.int64).dtype == shendu.int64
    assert x.new_empty_strided((2, 3), (3, 1)).shape == (2, 3)
    assert x.stride() == tx.stride() and x.stride(1) == tx.stride(1)
    assert x.ndimension() == tx.ndimension() and x.nelement() == tx.nelement()
    assert x.itemsize == tx.itemsize and x.nbytes == tx.nbytes
    assert x.is_contiguous() and x.dim_order() == tuple(tx.dim_order())
    assert x.is_cpu and not x.is_sparse and not x.is_quantized and x.get_device() == -1
    assert x.is_signed() and not x.is_complex() and not x.is_pinned() and x.pin_memory() is x
    assert x.is_same_size(shendu.zeros(3, 4)) and not x.is_conj() and not x.is_neg()
    assert x.data_ptr() == x.numpy().__array_interface__["data"][0]
    for name in ("byte", "char", "short"):
        _check(getattr(x * 10, name)(), getattr(tx * 10, name)())
    _check(x.sum_to_size(1, 4), tx.sum_to_size(1, 4))
    _check(x.sum_to_size((3, 1)), tx.sum_to_size((3, 1)))
    _check(x.mH, tx.mH)
    _check(x.H, tx.H)
    _check(x.real, tx.real)
    _check(x.conj(), tx.conj())
    _check(x.angle(), tx.angle())


def test_in_place_shape_and_value_methods_like_pytorch():
    def both(name, *args, a=X):
        x, tx = shendu.tensor(a.copy()), torch.tensor(a.copy())
        assert getattr(x, name)(*args) is x
        getattr(tx, name)(*args)
        _check(x, tx)
    both("unsqueeze_", 1)
    both("squeeze_", a=X[:1])
    both("t_")
    both("transpose_", 0, 1)
    both("swapaxes_", 0, 1)
    both("resize_", 2, 6)
    both("resize_", (2, 2))
    both("fill_diagonal_", 5.0)
    both("fill_diagonal_", 5.0, True, a=np.zeros((7, 3), np.float32))
    both("apply_", lambda v: v * 2 + 1)
    x, tx = shendu.tensor(X.copy()), torch.tensor(X.copy())
    x.map_(shendu.tensor(Y[0]), lambda u, v: u - v)
    tx.map_(torch.tensor(Y[0]), lambda u, v: u - v)
    _check(x, tx)
    big = shendu.tensor(np.zeros(2, np.float32)).resize_(5)
    assert big.shape == (5,) and big.numpy()[2:].tolist() == [0.0] * 3
    leaf = shendu.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf tensor"):
        leaf.t_()
