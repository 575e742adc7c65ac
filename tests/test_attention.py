"""Attention: ``F.scaled_dot_product_attention`` (float64 gradcheck and second derivatives
over masks, causal, scale, GQA, broadcasting), ``nn.MultiheadAttention`` (gradients,
layout, masks, errors) and ``nn.KVCache``."""
import numpy as np
import pytest

import shendu
import shendu.nn.functional as F
from harness import Case, check_gradcheck, check_gradgradcheck, params
from shendu import nn
from shendu.autograd import gradcheck, gradgradcheck

try:
    import torch
    TF = torch.nn.functional
except ImportError:  # the shendu-only tests still run; torch_fn is never called
    torch = TF = None


def _bool_mask(shape, seed, dead_row=None):
    m = np.random.default_rng(seed).random(shape) > 0.3
    m[..., 0] = True  # every query sees at least key 0 ...
    if dead_row is not None:
        m[..., dead_row, :] = False  # ... except one that sees none
    return m


def _sdpa_case(name, q, k, v, mask=None, torch_mask=None, float_mask_shape=None, **kw):
    """A Case for SDPA with fixed (constant) arguments; a float mask given by shape is a
    fourth, differentiable input."""
    shapes = [q, k, v] + ([float_mask_shape] if float_mask_shape else [])

    def ours(*t):
        m = t[3] if float_mask_shape else (None if mask is None else shendu.tensor(mask))
        return F.scaled_dot_product_attention(t[0], t[1], t[2], attn_mask=m, **kw)

    def theirs(*t):
        m = t[3] if float_mask_shape else (None if mask is None else torch.tensor(mask))
        return TF.scaled_dot_product_attention(t[0], t[1], t[2], attn_mask=m, **kw)

    return Case(name, ours, theirs, shapes, fwd_atol=1e-5, grad_atol=1e-5)


B, H, L, S, E = 2, 2, 3, 4, 3
CASES = [
    _sdpa_case("plain", (B, H, L, E), (B, H, S, E), (B, H, S, E)),
    _sdpa_case("square", (B, H, L, E), (B, H, L, E), (B, H, L, 3)),
    _sdpa_case("value_dim", (B, H, L, E), (B, H, S, E), (B, H, S, 2)),
    _sdpa_case("three_d", (B, L, E), (B, S, E), (B, S, E)),
    _sdpa_case("two_d", (L, E), (S, E), (S, E)),
    _sdpa_case("scale", (B, H, L, E), (B, H, S, E), (B, H, S, E), scale=0.7),
    _sdpa_case("causal", (B, H, L, E), (B, H, L, E), (B, H, L, E), is_causal=True),
    _sdpa_case("causal_l_ne_s", (B, H, L, E), (B, H, S, E), (B, H, S, E), is_causal=True),
    _sdpa_case("causal_long_query", (B, H, S, E), (B, H, L, E), (B, H, L, E),
               is_causal=True),
    _sdpa_case("bool_mask_2d", (B, H, L, E), (B, H, S, E), (B, H, S, E),
               mask=_bool_mask((L, S), 1)),
    _sdpa_case("bool_mask_per_batch", (B, H, L, E), (B, H, S, E), (B, H, S, E),
               mask=_bool_mask((B, 1, L, S), 2)),
    _sdpa_case("bool_mask_full", (B, H, L, E), (B, H, S, E), (B, H, S, E),
               mask=_bool_mask((B, H, L, S), 3)),
    _sdpa_case("bool_mask_dead_row", (B, H, L, E), (B, H, S, E), (B, H, S, E),
               mask=_bool_mask((L, S), 4, dead_row=1)),
    _sdpa_case("float_mask", (B, H, L, E), (B, H, S, E), (B, H, S, E),
               float_mask_shape=(L, S)),
    _sdpa_case("float_mask_broadcast", (B, H, L, E), (B, H, S, E), (B, H, S, E),
               float_mask_shape=(B, 1, 1, S)),
    _sdpa_case("float_mask_scale", (B, H, L, E), (B, H, S, E), (B, H, S, E),
               float_mask_shape=(H, L, S), scale=0.3),
    _sdpa_case("broadcast_kv_heads", (B, H, L, E), (B, 1, S, E), (B, 1, S, E)),
    _sdpa_case("gqa", (B, 4, L, E), (B, 2, S, E), (B, 2, S, 3), enable_gqa=True),
    _sdpa_case("gqa_causal", (B, 6, L, E), (B, 2, L, E), (B, 2, L, E), enable_gqa=True,
               is_causal=True),
    _sdpa_case("gqa_mask", (B, 4, L, E), (B, 1, S, E), (B, 1, S, E), enable_gqa=True,
               mask=_bool_mask((4, L, S), 5)),
]


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params(CASES)
def test_gradgradcheck(case):
    check_gradgradcheck(case)


def _reference(q, k, v, mask=None, scale=None, causal=False):
    """softmax(q k^T * scale + mask) v in plain NumPy (float64)."""
    scale = 1 / np.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if causal:
        s = s + np.triu(np.full(s.shape[-2:], -np.inf), 1)
    if mask is not None:
        s = s + (np.where(mask, 0, -np.inf) if mask.dtype == bool else mask)
    p = np.exp(s - s.max(-1, keepdims=True))
    return (p / p.sum(-1, keepdims=True)) @ v


def _qkv(shapes=((B, H, L, E), (B, H, S, E), (B, H, S, E)), dtype=np.float64, grad=False,
         seed=0):
    rng = np.random.default_rng(seed)
    return [shendu.tensor(rng.standard_normal(s).astype(dtype), requires_grad=grad)
            for s in shapes]


def test_forward_matches_numpy_reference():
    q, k, v = _qkv()
    m = _bool_mask((L, S), 0)
    for kw, ref in [({}, {}), ({"scale": 0.5}, {"scale": 0.5}),
                    ({"attn_mask": shendu.tensor(m)}, {"mask": m})]:
        out = F.scaled_dot_product_attention(q, k, v, **kw)
        np.testing.assert_allclose(out.numpy(), _reference(q.numpy(), k.numpy(), v.numpy(), **ref),
                                   rtol=1e-12, atol=1e-12)
    q2, k2, v2 = _qkv(((B, H, L, E), (B, H, L, E), (B, H, L, E)))
    out = F.scaled_dot_product_attention(q2, k2, v2, is_causal=True)
    np.testing.assert_allclose(out.numpy(), _reference(q2.numpy(), k2.numpy(), v2.numpy(),
                                                       causal=True), rtol=1e-12, atol=1e-12)


def test_causal_first_query_sees_only_first_key():
    q, k, v = _qkv(((1, 1, 3, 2), (1, 1, 3, 2), (1, 1, 3, 4)))
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    np.testing.assert_allclose(out.numpy()[0, 0, 0], v.numpy()[0, 0, 0], rtol=1e-12)


def test_fully_masked_row_gives_zeros_and_zero_gradients():
    q, k, v = _qkv(grad=True)
    m = _bool_mask((L, S), 0, dead_row=2)
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=shendu.tensor(m))
    assert np.all(out.detach().numpy()[:, :, 2] == 0)
    assert np.isfinite(out.detach().numpy()).all()
    out.sum().backward()
    assert np.all(q.grad.numpy()[:, :, 2] == 0)
    assert np.isfinite(k.grad.numpy()).all() and np.isfinite(v.grad.numpy()).all()


def test_float_mask_minus_inf_equals_bool_mask():
    q, k, v = _qkv()
    m = _bool_mask((B, 1, L, S), 0)
    a = F.scaled_dot_product_attention(q, k, v, attn_mask=shendu.tensor(m))
    b = F.scaled_dot_product_attention(q, k, v,
                                       attn_mask=shendu.tensor(np.where(m, 0.0, -np.inf)))
    np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_float32_stays_float32_and_no_nan_for_large_scores():
    q, k, v = _qkv(dtype=np.float32)
    out = F.scaled_dot_product_attention(q * 1000, k, v)
    assert out.dtype == shendu.float32 and np.isfinite(out.numpy()).all()


def test_gqa_equals_repeated_keys():
    q, k, v = _qkv(((B, 6, L, E), (B, 2, S, E), (B, 2, S, E)))
    out = F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    kr = shendu.tensor(np.repeat(k.numpy(), 3, axis=1))
    vr = shendu.tensor(np.repeat(v.numpy(), 3, axis=1))
    np.testing.assert_allclose(out.numpy(), F.scaled_dot_product_attention(q, kr, vr).numpy(),
                               rtol=1e-12, atol=1e-12)


def test_dropout_is_seeded_and_scales_kept_weights():
    q, k, v = _qkv()
    shendu.manual_seed(3)
    a = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    shendu.manual_seed(3)
    b = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert not np.allclose(a.numpy(), F.scaled_dot_product_attention(q, k, v).numpy())
    # the mean over many draws approaches the output without dropout
    vals = shendu.tensor(np.arange(200.0).reshape(1, 1, 200, 1))
    qz = shendu.zeros(1, 1, 1, 1, dtype=shendu.float64)
    kz = shendu.zeros(1, 1, 200, 1, dtype=shendu.float64)
    draws = [F.scaled_dot_product_attention(qz, kz, vals, dropout_p=0.25).item()
             for _ in range(400)]
    assert abs(np.mean(draws) - 99.5) < 3.0
    assert F.scaled_dot_product_attention(qz, kz, vals, dropout_p=1.0).item() == 0.0


def test_dropout_gradients_use_the_same_mask():
    q, k, v = _qkv(grad=True)

    def f(q, k, v):
        shendu.manual_seed(11)
        return F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    assert gradcheck(f, [q, k, v])
    assert gradgradcheck(f, [q, k, v])


def test_scores_never_materialize_softmax_jacobian():
    # a long sequence: an (L, S, S) Jacobian would need 2048^3 floats; this runs quickly
    q, k, v = _qkv(((1, 1, 2048, 4), (1, 1, 2048, 4), (1, 1, 2048, 4)), dtype=np.float32,
                   grad=True)
    F.scaled_dot_product_attention(q, k, v, is_causal=True).sum().backward()
    assert q.grad.shape == (1, 1, 2048, 4) and np.isfinite(q.grad.numpy()).all()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(shapes=((2, 3, 4), (2, 5, 3), (2, 5, 3))), ValueError,
     r"same last dimension E.*\(2, 3, 4\)"),
    (dict(shapes=((2, 4, 3), (2, 5, 3), (2, 6, 3))), ValueError,
     r"same length S.*\(2, 5, 3\).*\(2, 6, 3\)"),
    (dict(shapes=((2, 4, 3), (3, 5, 3), (3, 5, 3))), ValueError, r"do not broadcast"),
    (dict(shapes=((2, 3, 4, 3), (2, 2, 5, 3), (2, 2, 5, 3)), enable_gqa=True), ValueError,
     r"multiple of the key/value heads"),
    (dict(attn_mask=np.ones((L, S + 1), bool)), ValueError,
     r"attn_mask of shape \(3, 5\) does not broadcast to .*\(2, 2, 3, 4\)"),
    (dict(attn_mask=np.ones((L, S), np.int64)), TypeError, r"attn_mask must be bool"),
    (dict(attn_mask=np.ones((L, S), bool), is_causal=True), ValueError, r"not both"),
    (dict(dropout_p=1.5), ValueError, r"dropout_p must be in \[0, 1\]"),
])
def test_errors_name_shapes(kwargs, error, message):
    kwargs = dict(kwargs)
    shapes = kwargs.pop("shapes", ((B, H, L, 3), (B, H, S, 3), (B, H, S, 3)))
    q, k, v = _qkv(shapes)
    if "attn_mask" in kwargs:
        kwargs["attn_mask"] = shendu.tensor(kwargs["attn_mask"])
    with pytest.raises(error, match=message):
        F.scaled_dot_product_attention(q, k, v, **kwargs)


def test_integer_and_mixed_dtypes_rejected():
    q, k, v = _qkv()
    with pytest.raises(TypeError, match="same dtype"):
        F.scaled_dot_product_attention(q, k.float(), v)
    with pytest.raises(TypeError, match="floating point"):
        F.scaled_dot_product_attention(shendu.tensor(np.ones((2, 3), np.int64)), k, v)


# ---------------------------------------------------------------- MultiheadAttention
def with_params(module, fn, n_inputs):
    """``fn`` as a function of its ``n_inputs`` inputs and then every parameter of
    ``module`` (gradcheck perturbs the tensors it is given, not the module's own)."""
    names = [n for n, _ in module.named_parameters()]
    owners = []
    for n in names:
        mod = module
        *path, attr = n.split(".")
        for part in path:
            mod = getattr(mod, part)
        owners.append((mod, attr))

    def call(*args):
        saved = [mod._parameters[attr] for mod, attr in owners]
        for (mod, attr), p in zip(owners, args[n_inputs:]):
            mod._parameters[attr] = p
        try:
            return fn(*args[:n_inputs])
        finally:
            for (mod, attr), p in zip(owners, saved):
                mod._parameters[attr] = p
    return call


def _mha(embed=8, heads=2, **kw):
    shendu.manual_seed(0)
    return nn.MultiheadAttention(embed, heads, **kw).to(shendu.float64)


def test_mha_parameters_layout_and_init():
    m = nn.MultiheadAttention(8, 2)
    names = [n for n, _ in m.named_parameters()]
    assert names == ["in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert m.in_proj_weight.shape == (24, 8)
    assert np.all(m.in_proj_bias.detach().numpy() == 0) and np.all(m.out_proj.bias.detach().numpy() == 0)
    bound = np.sqrt(6 / (24 + 8))  # xavier_uniform_ on the (3E, E) matrix
    assert np.abs(m.in_proj_weight.detach().numpy()).max() <= bound
    assert type(m.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    m2 = nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True, bias=False)
    names2 = [n for n, _ in m2.named_parameters()]
    assert names2 == ["q_proj_weight", "k_proj_weight", "v_proj_weight", "bias_k", "bias_v",
                      "out_proj.weight"]
    assert m2.k_proj_weight.shape == (8, 5) and m2.v_proj_weight.shape == (8, 3)
    assert m2.in_proj_weight is None and m2.in_proj_bias is None


@pytest.mark.parametrize("batch_first", [False, True])
def test_mha_shapes_and_weights(batch_first):
    m = _mha(batch_first=batch_first)
    q = shendu.randn(3, 4, 8, dtype=shendu.float64)  # (N, L, E) or (L, N, E)
    kv = shendu.randn(3, 6, 8, dtype=shendu.float64) if batch_first else \
        shendu.randn(6, 4, 8, dtype=shendu.float64)
    out, w = m(q, kv, kv)
    assert out.shape == q.shape
    n = 3 if batch_first else 4
    lq = 4 if batch_first else 3
    assert w.shape == (n, lq, 6)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    out2, w2 = m(q, kv, kv, average_attn_weights=False)
    assert w2.shape == (n, 2, lq, 6)
    np.testing.assert_allclose(w2.detach().numpy().mean(1), w.detach().numpy(), rtol=1e-12)
    out3, w3 = m(q, kv, kv, need_weights=False)
    assert w3 is None
    np.testing.assert_allclose(out3.detach().numpy(), out.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_mha_unbatched_equals_batch_of_one():
    m = _mha()
    x = shendu.randn(5, 8, dtype=shendu.float64)
    kpm = shendu.tensor(np.array([False, False, True, False, False]))
    out, w = m(x, x, x, key_padding_mask=kpm)
    assert out.shape == (5, 8) and w.shape == (5, 5)
    ob, wb = m(x.unsqueeze(1), x.unsqueeze(1), x.unsqueeze(1),
               key_padding_mask=kpm.unsqueeze(0))
    np.testing.assert_allclose(out.detach().numpy(), ob.detach().numpy()[:, 0], rtol=1e-12)
    np.testing.assert_allclose(w.detach().numpy(), wb.detach().numpy()[0], rtol=1e-12)
    assert np.all(w.detach().numpy()[:, 2] == 0)


def test_mha_bool_mask_true_means_forbidden():
    m = _mha()
    x = shendu.randn(4, 2, 8, dtype=shendu.float64)
    causal = np.triu(np.ones((4, 4), bool), 1)
    _, w = m(x, x, x, attn_mask=shendu.tensor(causal))
    assert np.all(w.detach().numpy()[:, causal] == 0)
    float_mask = nn.Transformer.generate_square_subsequent_mask(4, dtype=shendu.float64)
    _, wf = m(x, x, x, attn_mask=float_mask)
    np.testing.assert_allclose(w.detach().numpy(), wf.detach().numpy(), rtol=1e-12)


def test_mha_fully_padded_sequence_is_nan_with_weights_and_zero_without():
    m = _mha()
    x = shendu.randn(3, 2, 8, dtype=shendu.float64)
    kpm = shendu.tensor(np.array([[False, False, False], [True, True, True]]))
    out, w = m(x, x, x, key_padding_mask=kpm)
    assert np.isnan(out.detach().numpy()[:, 1]).all() and np.isnan(w.detach().numpy()[1]).all()
    assert np.isfinite(out.detach().numpy()[:, 0]).all()
    out2, _ = m(x, x, x, key_padding_mask=kpm, need_weights=False)
    # no key to attend: the attention output is 0, leaving the output projection's bias
    np.testing.assert_allclose(out2.detach().numpy()[:, 1], np.broadcast_to(m.out_proj.bias.detach().numpy(),
                                                                   (3, 8)), atol=1e-12)


MHA_VARIANTS = [
    dict(),
    dict(batch_first=True),
    dict(kdim=5, vdim=3),
    dict(add_bias_kv=True),
    dict(add_zero_attn=True),
    dict(bias=False),
]


@pytest.mark.parametrize("kw", MHA_VARIANTS, ids=lambda kw: "-".join(kw) or "default")
def test_mha_gradcheck(kw):
    m = _mha(**kw)
    kd, vd = kw.get("kdim", 8), kw.get("vdim", 8)
    rng = np.random.default_rng(0)
    bf = kw.get("batch_first", False)

    def shape(length, features):
        return (2, length, features) if bf else (length, 2, features)
    q = shendu.tensor(rng.standard_normal(shape(3, 8)), requires_grad=True)
    k = shendu.tensor(rng.standard_normal(shape(4, kd)), requires_grad=True)
    v = shendu.tensor(rng.standard_normal(shape(4, vd)), requires_grad=True)
    kpm = shendu.tensor(np.array([[False] * 4, [False, False, True, False]]))
    mask = shendu.tensor(np.array([[0, 0, 0, -1.0], [0, 0.5, 0, 0], [0, 0, 0, 0]]))

    def f(q, k, v):
        out, w = m(q, k, v, key_padding_mask=kpm, attn_mask=mask)
        return out.sum() + (w * w).sum()
    assert gradcheck(with_params(m, f, 3), [q, k, v] + list(m.parameters()))


def test_mha_self_attention_gradgradcheck():
    m = _mha(embed=4, heads=2)
    x = shendu.tensor(np.random.default_rng(1).standard_normal((3, 2, 4)), requires_grad=True)
    mask = shendu.tensor(np.triu(np.ones((3, 3), bool), 1))
    assert gradgradcheck(lambda x: m(x, x, x, attn_mask=mask, need_weights=False)[0], [x])


def test_mha_float_mask_gets_gradient():
    m = _mha()
    x = shendu.randn(3, 2, 8, dtype=shendu.float64)
    mask = shendu.tensor(np.random.default_rng(0).standard_normal((3, 3)), requires_grad=True)
    assert gradcheck(lambda mask: m(x, x, x, attn_mask=mask)[0], [mask])


def test_mha_dropout_only_in_training():
    m = _mha(dropout=0.5)
    x = shendu.randn(5, 2, 8, dtype=shendu.float64)
    _, w_train = m(x, x, x, average_attn_weights=False)
    assert (w_train.detach().numpy() == 0).any()
    m.eval()
    a, _ = m(x, x, x)
    b, _ = m(x, x, x)
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def test_mha_is_causal_needs_mask_like_pytorch():
    m = _mha()
    x = shendu.randn(3, 2, 8, dtype=shendu.float64)
    with pytest.raises(RuntimeError, match="need attn_mask if specifying the is_causal hint"):
        m(x, x, x, is_causal=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=shendu.float64)
    a, _ = m(x, x, x, attn_mask=mask, is_causal=True, need_weights=False)
    b, _ = m(x, x, x, attn_mask=mask, need_weights=False)
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("make, message", [
    (lambda: nn.MultiheadAttention(10, 3), r"embed_dim \(10\) must be divisible by num_heads \(3\)"),
    (lambda: nn.MultiheadAttention(0, 1), r"embed_dim must be a positive integer"),
    (lambda: nn.MultiheadAttention(8, 2, dropout=2.0), r"dropout must be in \[0, 1\]"),
])
def test_mha_constructor_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("call, message", [
    (lambda m, x: m(x[..., :6], x[..., :6], x[..., :6]),
     r"query of shape \(3, 2, 6\) must have 8 features"),
    (lambda m, x: m(x, x, x, attn_mask=shendu.ones(3, 4, dtype=shendu.bool)),
     r"attn_mask must have shape \(L, S\) = \(3, 3\) or \(N \* num_heads, L, S\) = "
     r"\(4, 3, 3\), got \(3, 4\)"),
    (lambda m, x: m(x, x, x, attn_mask=shendu.ones(2, 3, 3, dtype=shendu.bool)),
     r"got \(2, 3, 3\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=shendu.ones(3, 2, dtype=shendu.bool)),
     r"key_padding_mask must have shape \(N, S\) = \(2, 3\), got \(3, 2\)"),
    (lambda m, x: m(x, x, x, key_padding_mask=shendu.ones(2, dtype=shendu.bool)),
     r"key_padding_mask must be 2-D"),
    (lambda m, x: m(x[0], x, x), r"must all be 2-D"),
    (lambda m, x: m(x, x[:, :1], x[:, :1]), r"different batch sizes"),
    (lambda m, x: m(x.reshape(6, 8), x[:, 0], x[:, 0]), None),
])
def test_mha_input_errors(call, message):
    m = _mha()
    x = shendu.randn(3, 2, 8, dtype=shendu.float64)
    if message is None:  # sanity: unbatched inputs with different lengths of q and kv work
        out, w = call(m, x)
        assert out.shape == (6, 8) and w.shape == (6, 3)
        return
    with pytest.raises(ValueError, match=message):
        call(m, x)


def test_mha_dtype_mismatch_error():
    m = nn.MultiheadAttention(8, 2)
    x = shendu.randn(3, 2, 8, dtype=shendu.float64)
    with pytest.raises(TypeError, match="float64 but the weights are float32"):
        m(x, x, x)


# ---------------------------------------------------------------- KVCache
def test_kv_cache_incremental_equals_full_causal():
    m = _mha(batch_first=True).eval()
    x = shendu.randn(2, 6, 8, dtype=shendu.float64)
    causal = nn.Transformer.generate_square_subsequent_mask(6, dtype=shendu.float64)
    full, _ = m(x, x, x, attn_mask=causal, need_weights=False)
    cache = nn.KVCache()
    steps = []
    with shendu.no_grad():
        first = x[:, :2]  # a two-token prompt, then one token at a time
        steps.append(m(first, first, first, cache=cache, is_causal=True, need_weights=False)[0])
        for t in range(2, 6):
            xt = x[:, t:t + 1]
            steps.append(m(xt, xt, xt, cache=cache, is_causal=True)[0])
    assert len(cache) == 6 and cache.key.shape == (2, 2, 6, 4)
    np.testing.assert_allclose(np.concatenate([s.detach().numpy() for s in steps], 1), full.detach().numpy(),
                               rtol=1e-10, atol=1e-12)
    cache.reset()
    assert len(cache) == 0


def test_kv_cache_chunk_with_offset_causal_mask():
    m = _mha().eval()  # sequence-first layout
    x = shendu.randn(5, 1, 8, dtype=shendu.float64)
    causal = nn.Transformer.generate_square_subsequent_mask(5, dtype=shendu.float64)
    full, _ = m(x, x, x, attn_mask=causal)
    cache = nn.KVCache()
    a, _ = m(x[:2], x[:2], x[:2], cache=cache, is_causal=True)
    b, _ = m(x[2:], x[2:], x[2:], cache=cache, is_causal=True)  # 3 new queries over 5 keys
    np.testing.assert_allclose(np.concatenate([a.detach().numpy(), b.detach().numpy()]), full.detach().numpy(), rtol=1e-10)


def test_kv_cache_errors():
    m = _mha(add_bias_kv=True)
    x = shendu.randn(2, 1, 8, dtype=shendu.float64)
    with pytest.raises(ValueError, match="cannot be used with add_bias_kv"):
        m(x, x, x, cache=nn.KVCache())
    cache = nn.KVCache()
    cache.update(shendu.zeros(1, 2, 3, 4), shendu.zeros(1, 2, 3, 4))
    with pytest.raises(ValueError, match="do not extend the cached ones"):
        cache.update(shendu.zeros(2, 2, 1, 4), shendu.zeros(2, 2, 1, 4))
    assert "positions=3" in repr(cache)
