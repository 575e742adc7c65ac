"""Transformer layers, stacks and the full model against PyTorch 2.13 in eval mode:
PyTorch's state_dict copied into ours (through NumPy), then outputs and gradients of the
inputs and every parameter compared, over norm_first, relu/gelu, batch_first both ways,
masks (bool and float, causal) and padding. Also RMSNorm vs ``torch.nn.RMSNorm``.

PyTorch runs its regular (differentiable) path here: its inference fast path (eval,
no grad) would zero padded positions through nested tensors, which shendu does not do.
"""
import itertools

import numpy as np
import pytest

import shendu
from shendu import nn
from test_attention_torch import compare_grads, copy_state

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")

pytestmark = pytest.mark.filterwarnings("ignore:enable_nested_tensor is True",
                                        "ignore:Support for mismatched")



@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny layers: PyTorch's intra-op threads only busy-wait against NumPy's (a backward
    took 0.4 s instead of 2 ms on the shared 2-core box)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


D, HEADS, FF, S, T, N = 8, 2, 16, 6, 5, 3
ATOL, RTOL = 3e-5, 2e-4


def _inputs(rng, batch_first, *lengths):
    arrays = [rng.standard_normal((N, n, D) if batch_first else (n, N, D)).astype(np.float32)
              for n in lengths]
    return ([torch.tensor(a, requires_grad=True) for a in arrays],
            [shendu.tensor(a, requires_grad=True) for a in arrays])


def _padding(rng, length, kind):
    if kind is None:
        return None, None
    m = rng.random((N, length)) < 0.3
    m[:, 0] = False  # keep one real position per sequence
    if kind == "float":
        m = np.where(m, -np.inf, 0.0).astype(np.float32)
    return torch.tensor(m), shendu.tensor(m)


def _mask(rng, length, kind):
    if kind is None:
        return None, None
    if kind == "causal":
        t = torch.nn.Transformer.generate_square_subsequent_mask(length)
        return t, shendu.tensor(t.numpy())
    m = rng.random((length, length)) < 0.3
    np.fill_diagonal(m, False)
    if kind == "float":
        m = np.where(m, -np.inf, 0.0).astype(np.float32) + rng.standard_normal(m.shape).astype(
            np.float32) * 0.1
    return torch.tensor(m), shendu.tensor(m)


def _finish(ours, theirs, so, to, pairs, rng):
    np.testing.assert_allclose(so.detach().numpy(), to.detach().numpy(), atol=ATOL, rtol=RTOL,
                               err_msg="forward differs from PyTorch")
    g = rng.standard_normal(tuple(to.shape)).astype(np.float32)
    to.backward(torch.tensor(g))
    so.backward(shendu.tensor(g))
    compare_grads(ours, theirs, pairs, atol=ATOL, rtol=RTOL)


def _twin_layers(name, **kw):
    """PyTorch's ``name`` layer and shendu's, in eval mode, with the same weights."""
    theirs = getattr(torch.nn, name)(D, HEADS, FF, **kw).eval()
    ours = getattr(nn, name)(D, HEADS, FF, **kw).eval()
    copy_state(theirs, ours)
    return theirs, ours


LAYER_GRID = list(itertools.product([False, True], ["relu", "gelu"], [False, True],
                                    [None, "bool", "float", "causal"], [None, "bool"]))


@pytest.mark.parametrize("norm_first, activation, batch_first, mask_kind, pad_kind",
                         LAYER_GRID, ids=["-".join(map(str, c)) for c in LAYER_GRID])
def test_encoder_layer(norm_first, activation, batch_first, mask_kind, pad_kind):
    rng = np.random.default_rng(0)
    kw = dict(dropout=0.1, activation=activation, batch_first=batch_first,
              norm_first=norm_first)
    theirs, ours = _twin_layers("TransformerEncoderLayer", **kw)
    (tx,), (sx,) = _inputs(rng, batch_first, S)
    tm, sm = _mask(rng, S, mask_kind)
    tp, sp = _padding(rng, S, pad_kind)
    to = theirs(tx, src_mask=tm, src_key_padding_mask=tp, is_causal=mask_kind == "causal")
    so = ours(sx, src_mask=sm, src_key_padding_mask=sp, is_causal=mask_kind == "causal")
    _finish(ours, theirs, so, to, [(sx, tx)], rng)


@pytest.mark.parametrize("norm_first, activation, batch_first, mask_kind, pad_kind",
                         LAYER_GRID, ids=["-".join(map(str, c)) for c in LAYER_GRID])
def test_decoder_layer(norm_first, activation, batch_first, mask_kind, pad_kind):
    rng = np.random.default_rng(1)
    kw = dict(dropout=0.1, activation=activation, batch_first=batch_first,
              norm_first=norm_first)
    theirs, ours = _twin_layers("TransformerDecoderLayer", **kw)
    (tt, tmem), (st, smem) = _inputs(rng, batch_first, T, S)
    tm, sm = _mask(rng, T, mask_kind)
    tp, sp = _padding(rng, T, pad_kind)
    tmp, smp = _padding(rng, S, pad_kind)
    causal = mask_kind == "causal"
    to = theirs(tt, tmem, tgt_mask=tm, tgt_key_padding_mask=tp, memory_key_padding_mask=tmp,
                tgt_is_causal=causal)
    so = ours(st, smem, tgt_mask=sm, tgt_key_padding_mask=sp, memory_key_padding_mask=smp,
              tgt_is_causal=causal)
    _finish(ours, theirs, so, to, [(st, tt), (smem, tmem)], rng)


def test_decoder_layer_memory_mask():
    rng = np.random.default_rng(2)
    theirs, ours = _twin_layers("TransformerDecoderLayer")
    (tt, tmem), (st, smem) = _inputs(rng, False, T, S)
    m = rng.random((T, S)) < 0.3
    m[:, 0] = False
    to = theirs(tt, tmem, memory_mask=torch.tensor(m))
    so = ours(st, smem, memory_mask=shendu.tensor(m))
    _finish(ours, theirs, so, to, [(st, tt), (smem, tmem)], rng)


@pytest.mark.parametrize("norm_first, activation, batch_first",
                         list(itertools.product([False, True], ["relu", "gelu"],
                                                [False, True])))
def test_full_transformer(norm_first, activation, batch_first):
    rng = np.random.default_rng(3)
    kw = dict(d_model=D, nhead=HEADS, num_encoder_layers=2, num_decoder_layers=2,
              dim_feedforward=FF, activation=activation, batch_first=batch_first,
              norm_first=norm_first)
    torch.manual_seed(0)
    theirs = torch.nn.Transformer(**kw).eval()
    ours = nn.Transformer(**kw).eval()
    copy_state(theirs, ours)
    (ts, tt), (ss, st) = _inputs(rng, batch_first, S, T)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(T)
    smask = nn.Transformer.generate_square_subsequent_mask(T)
    tsp, ssp = _padding(rng, S, "bool")
    ttp, stp = _padding(rng, T, "bool")
    to = theirs(ts, tt, tgt_mask=tmask, src_key_padding_mask=tsp, tgt_key_padding_mask=ttp,
                memory_key_padding_mask=tsp)
    so = ours(ss, st, tgt_mask=smask, src_key_padding_mask=ssp, tgt_key_padding_mask=stp,
              memory_key_padding_mask=ssp)
    _finish(ours, theirs, so, to, [(ss, ts), (st, tt)], rng)


def test_encoder_stack_with_final_norm_and_causal_detection():
    rng = np.random.default_rng(4)
    layer_t = torch.nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True)
    theirs = torch.nn.TransformerEncoder(layer_t, 3, norm=torch.nn.LayerNorm(D)).eval()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(D, HEADS, FF, batch_first=True), 3,
                                 norm=nn.LayerNorm(D)).eval()
    copy_state(theirs, ours)
    (tx,), (sx,) = _inputs(rng, True, S)
    tmask = torch.nn.Transformer.generate_square_subsequent_mask(S)
    to = theirs(tx, mask=tmask)  # is_causal detected from the mask
    so = ours(sx, mask=shendu.tensor(tmask.numpy()))
    _finish(ours, theirs, so, to, [(sx, tx)], rng)


def test_unbatched_transformer():
    rng = np.random.default_rng(5)
    torch.manual_seed(0)
    kw = dict(d_model=D, nhead=HEADS, num_encoder_layers=1, num_decoder_layers=1,
              dim_feedforward=FF)
    theirs = torch.nn.Transformer(**kw).eval()
    ours = nn.Transformer(**kw).eval()
    copy_state(theirs, ours)
    src = rng.standard_normal((S, D)).astype(np.float32)
    tgt = rng.standard_normal((T, D)).astype(np.float32)
    ts, tt = torch.tensor(src, requires_grad=True), torch.tensor(tgt, requires_grad=True)
    ss, st = shendu.tensor(src, requires_grad=True), shendu.tensor(tgt, requires_grad=True)
    _finish(ours, theirs, ours(ss, st), theirs(ts, tt), [(ss, ts), (st, tt)], rng)


def test_generate_square_subsequent_mask_matches():
    for n in (1, 4, 9):
        np.testing.assert_array_equal(
            nn.Transformer.generate_square_subsequent_mask(n).numpy(),
            torch.nn.Transformer.generate_square_subsequent_mask(n).numpy())


@pytest.mark.parametrize("shape, eps, affine", [((8,), None, True), ((4, 8), 1e-3, True),
                                                ((8,), 1e-6, False)])
def test_rms_norm(shape, eps, affine):
    rng = np.random.default_rng(6)
    theirs = torch.nn.RMSNorm(shape, eps=eps, elementwise_affine=affine)
    ours = nn.RMSNorm(shape, eps=eps, elementwise_affine=affine)
    if affine:
        w = rng.standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(w))
        copy_state(theirs, ours)
    x = rng.standard_normal((3, 5) + shape).astype(np.float32) * 3
    tx, sx = torch.tensor(x, requires_grad=True), shendu.tensor(x, requires_grad=True)
    _finish(ours, theirs, ours(sx), theirs(tx), [(sx, tx)], rng)
