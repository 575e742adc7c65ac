"""Attention against PyTorch 2.13: ``scaled_dot_product_attention`` (the CASES of
tests/test_attention.py plus larger shapes, forward and gradients of q, k, v in float32)
and ``nn.MultiheadAttention`` with PyTorch's state_dict copied in: masks, padding,
need_weights, average_attn_weights, batch_first both ways, kdim/vdim, bias_kv,
zero_attn, unbatched input, outputs and gradients of inputs and parameters."""
import itertools

import numpy as np
import pytest

import shendu
import shendu.nn.functional as F
from harness import Case, check_conformance, params
from shendu import nn
from test_attention import CASES, _sdpa_case

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
TF = torch.nn.functional
pytestmark = pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Small ops: PyTorch's intra-op threads only busy-wait against NumPy's on a shared
    2-core machine (10x slower tests)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _mask(shape, seed):
    m = np.random.default_rng(seed).random(shape) > 0.25
    m[..., 0] = True
    return m


LARGER = [  # (B, H, L, S, E) shapes closer to real use, L != S included
    _sdpa_case("b2h4l16s16e8", (2, 4, 16, 8), (2, 4, 16, 8), (2, 4, 16, 8)),
    _sdpa_case("b3h2l7s11e5", (3, 2, 7, 5), (3, 2, 11, 5), (3, 2, 11, 4)),
    _sdpa_case("b3h2l11s7e5_causal", (3, 2, 11, 5), (3, 2, 7, 5), (3, 2, 7, 5),
               is_causal=True),
    _sdpa_case("b2h4l9s13_mask", (2, 4, 9, 6), (2, 4, 13, 6), (2, 4, 13, 6),
               mask=_mask((2, 1, 9, 13), 0)),
    _sdpa_case("b2h4l9s13_float_mask", (2, 4, 9, 6), (2, 4, 13, 6), (2, 4, 13, 6),
               float_mask_shape=(2, 4, 9, 13)),
    _sdpa_case("b1h8l32s32_causal_scale", (1, 8, 32, 16), (1, 8, 32, 16), (1, 8, 32, 16),
               is_causal=True, scale=0.1),
    _sdpa_case("gqa_b2h8l10s12", (2, 8, 10, 4), (2, 2, 12, 4), (2, 2, 12, 4),
               enable_gqa=True),
]


@params(CASES + LARGER)
def test_sdpa_conformance(case):
    check_conformance(case)


def test_sdpa_fully_masked_row_matches_torch():
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s).astype(np.float32) for s in
               [(2, 2, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)])
    m = _mask((4, 5), 1)
    m[2] = False
    case = Case("dead", lambda q, k, v: F.scaled_dot_product_attention(
        q, k, v, attn_mask=shendu.tensor(m)), lambda q, k, v: TF.scaled_dot_product_attention(
        q, k, v, attn_mask=torch.tensor(m)), [q.shape, k.shape, v.shape])
    check_conformance(case)


# ---------------------------------------------------------------- MultiheadAttention
def copy_state(theirs, ours):
    """Load torch's state_dict into ours (through NumPy); the key lists must be equal."""
    sd = theirs.state_dict()
    assert list(ours.state_dict()) == list(sd), (list(ours.state_dict()), list(sd))
    ours.load_state_dict({k: shendu.tensor(v.detach().numpy()) for k, v in sd.items()})


def compare_grads(ours, theirs, extra=(), atol=2e-5, rtol=1e-4):
    """Parameter gradients (by name) and gradients of the extra (ours, theirs) inputs."""
    tp = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tg = tp[name].grad
        assert (p.grad is None) == (tg is None), name
        if tg is not None:
            np.testing.assert_allclose(p.grad.numpy(), tg.numpy(), atol=atol, rtol=rtol,
                                       err_msg=f"gradient of {name}")
    for i, (a, b) in enumerate(extra):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of input {i}")


E, HEADS, L, S, N = 8, 2, 5, 6, 3

MHA_GRID = [c for c in itertools.product(
    [False, True],               # batch_first
    ["self", "kv", "separate"],  # query is key is value / key is value / all different
    [False, True],               # need_weights
    [False, True],               # average_attn_weights
    [None, "bool", "float"],     # attn_mask
    [None, "bool"],              # key_padding_mask
) if c[2] or c[3]]  # average_attn_weights only matters with need_weights


def _mha_pair(seed=0, **kw):
    torch.manual_seed(seed)
    theirs = torch.nn.MultiheadAttention(E, HEADS, **kw)
    ours = nn.MultiheadAttention(E, HEADS, **kw)
    copy_state(theirs, ours)
    return ours, theirs


def _run_pair(ours, theirs, batch_first, kind, mask_kind, kpm_kind, kdim=E, vdim=E,
              unbatched=False, seed=0, **call):
    rng = np.random.default_rng(seed)

    def shape(length, features):
        if unbatched:
            return (length, features)
        return (N, length, features) if batch_first else (length, N, features)
    q = rng.standard_normal(shape(L, E)).astype(np.float32)
    k = rng.standard_normal(shape(S, kdim)).astype(np.float32)
    v = rng.standard_normal(shape(S, vdim)).astype(np.float32)
    if kind == "self":
        k = v = q
    arrays = [q] if kind == "self" else ([q, k] if kind == "kv" else [q, k, v])
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    ss = [shendu.tensor(a, requires_grad=True) for a in arrays]

    def qkv(t):
        return (t[0], t[0], t[0]) if kind == "self" else (
            (t[0], t[1], t[1]) if kind == "kv" else tuple(t))
    s_len = L if kind == "self" else S
    masks_t, masks_s = {}, {}
    if mask_kind == "bool":
        m = ~_mask((L, s_len), seed + 1)  # MHA: True = may not attend
        masks_t["attn_mask"], masks_s["attn_mask"] = torch.tensor(m), shendu.tensor(m)
    elif mask_kind == "float":
        m = np.where(_mask((N * HEADS, L, s_len), seed + 2), 0.0,
                     -np.inf).astype(np.float32) + rng.standard_normal(
            (N * HEADS, L, s_len)).astype(np.float32)
        if unbatched:
            m = m[:HEADS]
        masks_t["attn_mask"], masks_s["attn_mask"] = torch.tensor(m), shendu.tensor(m)
    if kpm_kind == "bool":
        kpm = ~_mask((N, s_len), seed + 3)
        if unbatched:
            kpm = kpm[0]
        masks_t["key_padding_mask"] = torch.tensor(kpm)
        masks_s["key_padding_mask"] = shendu.tensor(kpm)
    to, tw = theirs(*qkv(ts), **masks_t, **call)
    so, sw = ours(*qkv(ss), **masks_s, **call)
    np.testing.assert_allclose(so.detach().numpy(), to.detach().numpy(), atol=2e-5, rtol=1e-4)
    assert so.shape == tuple(to.shape)
    if tw is None:
        assert sw is None
    else:
        assert sw.shape == tuple(tw.shape)
        np.testing.assert_allclose(sw.detach().numpy(), tw.detach().numpy(), atol=2e-6,
                                   rtol=1e-4)
    g = rng.standard_normal(tuple(to.shape)).astype(np.float32)
    loss_t = (to * torch.tensor(g)).sum() + (0 if tw is None else (tw * tw).sum())
    loss_s = (so * shendu.tensor(g)).sum() + (0 if sw is None else (sw * sw).sum())
    loss_t.backward()
    loss_s.backward()
    compare_grads(ours, theirs, list(zip(ss, ts)))


@pytest.mark.parametrize("batch_first, kind, need_weights, average, mask_kind, kpm_kind",
                         MHA_GRID, ids=["-".join(map(str, c)) for c in MHA_GRID])
def test_mha_conformance(batch_first, kind, need_weights, average, mask_kind, kpm_kind):
    ours, theirs = _mha_pair(batch_first=batch_first)
    _run_pair(ours, theirs, batch_first, kind, mask_kind, kpm_kind, need_weights=need_weights,
              average_attn_weights=average)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kw", [dict(kdim=5, vdim=3), dict(add_bias_kv=True),
                                dict(add_zero_attn=True), dict(bias=False),
                                dict(add_bias_kv=True, add_zero_attn=True, kdim=4, vdim=7)],
                         ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()))
def test_mha_variants_conformance(kw, batch_first):
    ours, theirs = _mha_pair(batch_first=batch_first, **kw)
    kind = "separate" if "kdim" in kw else "kv"
    for need_weights in (True, False):
        for p in list(ours.parameters()):
            p.grad = None
        theirs.zero_grad(set_to_none=True)
        _run_pair(ours, theirs, batch_first, kind, "bool", "bool", kdim=kw.get("kdim", E),
                  vdim=kw.get("vdim", E), need_weights=need_weights)


@pytest.mark.parametrize("mask_kind", [None, "bool", "float"])
def test_mha_unbatched_conformance(mask_kind):
    ours, theirs = _mha_pair()
    _run_pair(ours, theirs, False, "separate", mask_kind, "bool", unbatched=True,
              average_attn_weights=False)


def test_mha_is_causal_hint_conformance():
    ours, theirs = _mha_pair(batch_first=True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, L, E)).astype(np.float32)
    causal = torch.nn.Transformer.generate_square_subsequent_mask(L)
    to, _ = theirs(*[torch.tensor(x)] * 3, attn_mask=causal, is_causal=True, need_weights=False)
    so, _ = ours(*[shendu.tensor(x)] * 3, attn_mask=shendu.tensor(causal.numpy()),
                 is_causal=True, need_weights=False)
    np.testing.assert_allclose(so.detach().numpy(), to.detach().numpy(), atol=2e-5, rtol=1e-4)


def test_mha_eval_dropout_conformance():
    ours, theirs = _mha_pair(dropout=0.3)
    ours.eval()
    theirs.eval()
    _run_pair(ours, theirs, False, "self", "bool", "bool")


def test_mha_default_init_statistics_match_torch():
    big = 256
    ours = nn.MultiheadAttention(big, 4)
    theirs = torch.nn.MultiheadAttention(big, 4)
    for name in ("in_proj_weight", "out_proj.weight"):
        a = dict(ours.named_parameters())[name].detach().numpy()
        b = dict(theirs.named_parameters())[name].detach().numpy()
        assert a.shape == b.shape
        np.testing.assert_allclose(a.std(), b.std(), rtol=0.05)
        np.testing.assert_allclose(np.abs(a).max(), np.abs(b).max(), rtol=0.05)
