"""nn.BahdanauAttention and nn.LuongAttention: a NumPy reference for the forward pass,
float64 central differences for the gradients (inputs and parameters), masks, shapes.

PyTorch has no module for RNN (Bahdanau/Luong) attention, so there is no conformance
test; the NumPy reference below follows the papers' formulas directly.
"""
import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.autograd import gradcheck, numerical_gradient
from shendu.data.text import lengths_to_mask

N, S, T, HQ, HK, HV, H = 3, 5, 4, 6, 7, 2, 8


# ----------------------------------------------------------- NumPy reference
def np_softmax(x, mask=None):
    if mask is not None:
        x = np.where(mask, x, -np.inf)
    m = np.max(x, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    e = np.exp(x - m)
    s = e.sum(-1, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s > 0)


def np_scores(module, q, k):
    """score(q_t, k_s) for every t, s: q (N, T, Hq), k (N, S, Hk) -> (N, T, S)."""
    p = {name: t.detach().numpy() for name, t in module.named_parameters()}
    if isinstance(module, nn.BahdanauAttention) or module.method == "concat":
        wq, wk, v = p["query_proj.weight"], p["key_proj.weight"], p["energy.weight"][0]
        b = p.get("key_proj.bias", np.zeros(wk.shape[0]))
        out = np.empty(q.shape[:2] + (k.shape[1],))
        for n in range(q.shape[0]):          # the formula, one pair at a time
            for t in range(q.shape[1]):
                for s in range(k.shape[1]):
                    out[n, t, s] = v @ np.tanh(wq @ q[n, t] + wk @ k[n, s] + b)
        return out
    kk = k if module.method == "dot" else k @ p["key_proj.weight"].T
    out = np.einsum("nth,nsh->nts", q, kk)
    return out / np.sqrt(q.shape[-1]) if module.scale else out


def np_attention(module, q, k, v=None, mask=None):
    v = k if v is None else v
    q3 = q[:, None] if q.ndim == 2 else q
    m = None if mask is None else (mask[:, None] if mask.ndim == 2 else mask)
    w = np_softmax(np_scores(module, q3, k), m)
    ctx = np.einsum("nts,nsh->nth", w, v)
    return (ctx[:, 0], w[:, 0]) if q.ndim == 2 else (ctx, w)


def make(kind, **kw):
    kw.setdefault("dtype", shendu.float64)
    if kind == "bahdanau":
        return nn.BahdanauAttention(HQ, HK, hidden_size=H, **kw)
    if kind == "bahdanau-nobias":
        return nn.BahdanauAttention(HQ, HK, hidden_size=H, bias=False, **kw)
    if kind == "dot":
        return nn.LuongAttention(HQ, method="dot", **kw)
    if kind == "dot-scaled":
        return nn.LuongAttention(HQ, method="dot", scale=True, **kw)
    if kind == "general":
        return nn.LuongAttention(HQ, HK, method="general", **kw)
    if kind == "concat":
        return nn.LuongAttention(HQ, HK, method="concat", hidden_size=H, **kw)
    raise ValueError(kind)


KINDS = ["bahdanau", "bahdanau-nobias", "dot", "dot-scaled", "general", "concat"]


def key_size(kind):
    return HQ if kind.startswith("dot") else HK


def inputs(kind, query_ndim, rng, values=False):
    q = rng.standard_normal((N, HQ) if query_ndim == 2 else (N, T, HQ))
    k = rng.standard_normal((N, S, key_size(kind)))
    v = rng.standard_normal((N, S, HV)) if values else None
    return q, k, v


MASK = lengths_to_mask([5, 2, 3], S)  # the second sample has 3 padded positions


# ------------------------------------------------------------------- forward
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("query_ndim", [2, 3])
@pytest.mark.parametrize("use_values", [False, True])
@pytest.mark.parametrize("use_mask", [False, True])
def test_forward_matches_numpy_reference(kind, query_ndim, use_values, use_mask):
    rng = np.random.default_rng(0)
    attn = make(kind)
    q, k, v = inputs(kind, query_ndim, rng, use_values)
    mask = MASK if use_mask else None
    ctx, w = attn(shendu.tensor(q), shendu.tensor(k), None if v is None else shendu.tensor(v),
                  mask=mask)
    ref_ctx, ref_w = np_attention(attn, q, k, v, mask)
    assert ctx.shape == ref_ctx.shape and w.shape == ref_w.shape
    np.testing.assert_allclose(w.detach().numpy(), ref_w, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ctx.detach().numpy(), ref_ctx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(w.detach().numpy().sum(-1), 1.0, rtol=1e-12)
    if use_mask:
        assert (w.detach().numpy()[1, ..., 2:] == 0).all()  # padded positions get weight exactly 0


@pytest.mark.parametrize("kind", KINDS)
def test_all_steps_at_once_equal_step_by_step(kind):
    rng = np.random.default_rng(1)
    attn = make(kind)
    q, k, _ = inputs(kind, 3, rng)
    q, k = shendu.tensor(q), shendu.tensor(k)
    ctx, w = attn(q, k, mask=MASK)
    for t in range(T):
        c_t, w_t = attn(q[:, t], k, mask=MASK)
        np.testing.assert_allclose(c_t.detach().numpy(), ctx.detach().numpy()[:, t],
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(w_t.detach().numpy(), w.detach().numpy()[:, t],
                                   rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("kind", KINDS)
def test_precompute_gives_the_same_result(kind):
    rng = np.random.default_rng(2)
    attn = make(kind)
    q, k, _ = inputs(kind, 2, rng)
    q, k = shendu.tensor(q), shendu.tensor(k)
    pk = attn.precompute(k)
    c1, w1 = attn(q, k)
    c2, w2 = attn(q, k, projected_keys=pk)
    np.testing.assert_array_equal(c1.detach().numpy(), c2.detach().numpy())
    np.testing.assert_array_equal(w1.detach().numpy(), w2.detach().numpy())


def test_float32_stays_float32():
    attn = nn.BahdanauAttention(HQ, HK, hidden_size=H)
    ctx, w = attn(shendu.randn(N, HQ), shendu.randn(N, S, HK), mask=MASK)
    assert ctx.dtype == shendu.float32 and w.dtype == shendu.float32
    ctx, w = nn.LuongAttention(HQ, method="dot")(shendu.randn(N, T, HQ), shendu.randn(N, S, HQ))
    assert ctx.dtype == shendu.float32 and w.dtype == shendu.float32


# ----------------------------------------------------------------- gradients
def _gradcheck_inputs(kind, query_ndim, mask):
    rng = np.random.default_rng(3)
    attn = make(kind)
    q, k, v = inputs(kind, query_ndim, rng, values=True)
    tq, tk, tv = (shendu.tensor(a, requires_grad=True) for a in (q, k, v))
    assert gradcheck(lambda a, b, c: attn(a, b, c, mask=mask)[0], [tq, tk, tv])
    assert gradcheck(lambda a, b: attn(a, b, mask=mask)[1], [tq, tk])
    assert gradcheck(lambda a, b: attn(a, b, mask=mask)[0], [tq, tk])  # values = keys


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("query_ndim", [2, 3])
def test_gradcheck_inputs(kind, query_ndim):
    _gradcheck_inputs(kind, query_ndim, None)


@pytest.mark.parametrize("kind", ["bahdanau", "general", "concat"])
def test_gradcheck_inputs_masked(kind):
    _gradcheck_inputs(kind, 3, MASK)


@pytest.mark.parametrize("kind", ["bahdanau", "bahdanau-nobias", "general", "concat"])
@pytest.mark.parametrize("query_ndim", [2, 3])
def test_parameter_gradients_match_central_differences(kind, query_ndim):
    rng = np.random.default_rng(4)
    attn = make(kind)
    q, k, v = (shendu.tensor(a) for a in inputs(kind, query_ndim, rng, values=True))
    g_out = rng.standard_normal(attn(q, k, v)[0].shape)
    g_w = rng.standard_normal(attn(q, k, v)[1].shape)

    def loss():
        ctx, w = attn(q, k, v, mask=MASK)
        return (ctx * shendu.tensor(g_out)).sum() + (w * shendu.tensor(g_w)).sum()

    attn.zero_grad()
    loss().backward()
    for name, p in attn.named_parameters():
        original = p._data.copy()

        def f(arr, p=p):
            p._data[...] = arr
            return float(loss().item())

        numeric = numerical_gradient(f, original.copy())
        p._data[...] = original
        np.testing.assert_allclose(p.grad.detach().numpy(), numeric, rtol=1e-5, atol=1e-8,
                                   err_msg=f"{kind}: {name}")


def test_masked_positions_get_no_gradient():
    attn = make("bahdanau")
    rng = np.random.default_rng(5)
    q, k, v = (shendu.tensor(a, requires_grad=True) for a in inputs("bahdanau", 3, rng, True))
    ctx, w = attn(q, k, v, mask=MASK)
    (ctx.sum() + (w * w).sum()).backward()
    assert (k.grad.numpy()[1, 2:] == 0).all() and (v.grad.numpy()[1, 2:] == 0).all()
    assert (np.abs(k.grad.detach().numpy()[1, :2]) > 0).all()


def test_fully_masked_query_gives_zeros_not_nan():
    attn = make("general")
    rng = np.random.default_rng(6)
    q, k, v = (shendu.tensor(a, requires_grad=True) for a in inputs("general", 2, rng, True))
    mask = np.array([[True] * S, [False] * S, [True, False, False, False, False]])
    ctx, w = attn(q, k, v, mask=mask)
    assert np.isfinite(ctx.detach().numpy()).all() and np.isfinite(w.detach().numpy()).all()
    np.testing.assert_array_equal(w.detach().numpy()[1], 0.0)
    np.testing.assert_array_equal(ctx.detach().numpy()[1], 0.0)
    np.testing.assert_allclose(w.detach().numpy()[2], [1, 0, 0, 0, 0])
    np.testing.assert_allclose(ctx.detach().numpy()[2], v.detach().numpy()[2, 0])
    ctx.sum().backward()
    assert np.isfinite(q.grad.detach().numpy()).all() and (q.grad.detach().numpy()[1] == 0).all()
    assert gradcheck(lambda a, b, c: attn(a, b, c, mask=mask)[0], [q.detach().requires_grad_(),
                                                                  k.detach().requires_grad_(),
                                                                  v.detach().requires_grad_()])


def test_per_step_mask():
    attn = make("dot")
    rng = np.random.default_rng(7)
    q, k, _ = inputs("dot", 3, rng)
    causal = np.tril(np.ones((T, S), bool))[None].repeat(N, 0)  # step t sees positions <= t
    _, w = attn(shendu.tensor(q), shendu.tensor(k), mask=causal)
    np.testing.assert_array_equal(w.detach().numpy()[:, np.triu_indices(T, 1, S)[0],
                                            np.triu_indices(T, 1, S)[1]], 0.0)
    ref = np_attention(attn, q, k, None, causal)[1]
    np.testing.assert_allclose(w.detach().numpy(), ref, rtol=1e-10, atol=1e-12)


# -------------------------------------------------------- learns something
def test_attention_learns_to_point_at_the_marked_position():
    """A tiny task: the key with a 1 in its first feature is the one to look at; the
    query is constant. After training, the weights peak there."""
    shendu.manual_seed(0)
    rng = np.random.default_rng(8)
    attn = nn.BahdanauAttention(4, 4, hidden_size=8)
    opt = shendu.optim.Adam(attn.parameters(), lr=0.05)
    q = shendu.ones(32, 4)
    for _ in range(60):
        k = rng.standard_normal((32, 6, 4)).astype(np.float32)
        target = rng.integers(0, 6, 32)
        k[:, :, 0] = 0
        k[np.arange(32), target, 0] = 3.0
        _, w = attn(q, shendu.tensor(k))
        loss = -(w[np.arange(32), target] + 1e-9).log().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.item()) < 0.1


# --------------------------------------------------------- errors and naming
def test_parameter_names():
    assert sorted(dict(make("bahdanau").named_parameters())) == [
        "energy.weight", "key_proj.bias", "key_proj.weight", "query_proj.weight"]
    assert sorted(dict(make("general").named_parameters())) == ["key_proj.weight"]
    assert list(make("dot").named_parameters()) == []
    assert make("general").key_proj.weight.shape == (HQ, HK)
    assert "method='concat'" in repr(make("concat"))


def test_errors_name_the_module_and_shapes():
    attn = nn.BahdanauAttention(HQ, HK)
    q, k = shendu.randn(N, HQ), shendu.randn(N, S, HK)
    with pytest.raises(ValueError, match=r"BahdanauAttention\(query_size=6, key_size=7\): "
                                         r"query must have shape \(N, 6\) or \(N, T, 6\), "
                                         r"got \(3, 5\)"):
        attn(shendu.randn(N, 5), k)
    with pytest.raises(ValueError, match=r"keys \(the encoder outputs\) must have shape "
                                         r"\(N=3, S, 7\), got \(3, 5, 6\)"):
        attn(q, shendu.randn(N, S, 6))
    with pytest.raises(ValueError, match=r"keys .* got \(2, 5, 7\)"):
        attn(q, shendu.randn(2, S, HK))
    with pytest.raises(ValueError, match=r"values must have shape \(N=3, S=5, Hv\)"):
        attn(q, k, shendu.randn(N, S + 1, 2))
    with pytest.raises(TypeError, match="mask must be boolean"):
        attn(q, k, mask=np.ones((N, S)))
    with pytest.raises(ValueError, match=r"mask must have shape \(N, S\) = \(3, 5\), got "
                                         r"\(3, 4\)"):
        attn(q, k, mask=np.ones((N, S - 1), bool))
    with pytest.raises(TypeError, match="query must be a shendu.Tensor"):
        attn(np.zeros((N, HQ)), k)
    with pytest.raises(ValueError, match="method must be one of"):
        nn.LuongAttention(4, method="additive")
    with pytest.raises(ValueError, match="needs key_size == query_size"):
        nn.LuongAttention(4, 5, method="dot")
    with pytest.raises(ValueError, match="scale applies to 'dot' and 'general' only"):
        nn.LuongAttention(4, method="concat", scale=True)
