"""Keras attention layers (MultiHeadAttention, Attention) against independent references:
Keras 3's semantics written out in NumPy (float64), shendu.nn.MultiheadAttention and
F.scaled_dot_product_attention with copied weights, float64 finite differences, masks
from Embedding(mask_zero=True), functional models with fit, save/load and configs."""
import re

import numpy as np
import pytest

import shendu
from shendu import keras, nn
from shendu.keras import layers
from shendu.keras.layers.base import get_keras_mask
from shendu.nn import functional as F


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _rand(*shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _t(x):
    """A Tensor keeping x's dtype (keras layers cast NumPy float64 inputs to float32)."""
    return shendu.tensor(x)


def _np(t):
    return np.asarray(t.detach().numpy())


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _assert_central_difference(loss, p, idx, eps=1e-6, atol=1e-8, nonzero=False):
    """p.grad[idx] (from loss().backward(), already run) against the float64 central
    difference (loss(p + eps) - loss(p - eps)) / 2 eps at that one element."""
    old = p._data[idx]
    p._data[idx] = old + eps
    up = float(_np(loss()))
    p._data[idx] = old - eps
    down = float(_np(loss()))
    p._data[idx] = old
    g = _np(p.grad)[idx]
    assert g != 0 or not nonzero
    np.testing.assert_allclose(g, (up - down) / (2 * eps), rtol=1e-5, atol=atol)


def _random_weights(layer, seed=1):
    """Replace the layer's weights by random ones (biases non-zero, so they are tested)."""
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0, 0.5, w.shape).astype(w.dtype) for w in layer.get_weights()])


# ------------------------------------------------------------------ NumPy references (Keras 3)
def mha_reference(layer, query, value, key=None, mask=None):
    """Keras 3 MultiHeadAttention in float64: EinsumDense projections
    ``btd,dhk->bthk``, scores ``Q K^T / sqrt(key_dim)``, Softmax(mask) = softmax of the
    scores with masked ones set to -1e9, then multiplied by the mask; output EinsumDense
    ``bthv,hvo->bto``. ``mask`` (B, T, S) bool, True = may attend. Returns (y, weights)."""
    key = value if key is None else key
    w = [a.astype(np.float64) for a in layer.get_weights()]
    if layer.use_bias:
        wq, bq, wk, bk, wv, bv, wo, bo = w
    else:
        (wq, wk, wv, wo), bq = w, None
    q = np.einsum("btd,dhk->bhtk", query, wq)
    k = np.einsum("bsd,dhk->bhsk", key, wk)
    v = np.einsum("bsd,dhv->bhsv", value, wv)
    if bq is not None:
        q, k, v = q + bq[:, None], k + bk[:, None], v + bv[:, None]
    scores = np.einsum("bhtk,bhsk->bhts", q, k) / np.sqrt(layer.key_dim)
    if mask is not None:
        m = np.broadcast_to(mask, (query.shape[0], query.shape[1], value.shape[1]))[:, None]
        weights = _softmax(np.where(m, scores, -1e9)) * m
    else:
        weights = _softmax(scores)
    y = np.einsum("bhts,bhsv,hvo->bto", weights, v, wo)
    return (y + bo if bq is not None else y), weights


def attention_reference(query, value, key=None, score_mode="dot", scale=None, concat_weight=1.0,
                        query_mask=None, value_mask=None, causal=False):
    """Keras 3 Attention in float64: dot ``q k^T`` (times ``scale``) or concat
    ``w * sum(tanh(scale * (q_i + k_j)))``; masked scores minus 1e9; softmax; ``weights @
    value``; rows of masked queries set to zero."""
    key = value if key is None else key
    if score_mode == "dot":
        scores = query @ key.transpose(0, 2, 1) * (1.0 if scale is None else scale)
    else:
        s = query[:, :, None] + key[:, None]
        scores = concat_weight * np.tanh((1.0 if scale is None else scale) * s).sum(-1)
    allowed = np.ones(scores.shape, bool)
    if value_mask is not None:
        allowed &= value_mask[:, None, :]
    if causal:
        allowed &= np.tril(np.ones(scores.shape[1:], bool))[None]
    weights = _softmax(scores - 1e9 * ~allowed)
    out = weights @ value
    if query_mask is not None:
        out = out * query_mask[:, :, None]
    return out, weights


# ------------------------------------------------------------------ MultiHeadAttention
@pytest.mark.parametrize("value_dim, output_shape, use_bias, key_dim_in", [
    (None, None, True, None),   # self-attention shapes, defaults
    (5, 7, True, 4),            # value_dim != key_dim, output_shape, a separate key
    (2, (3,), False, None),     # no biases, output_shape as a 1-tuple
])
def test_mha_weight_layout_and_outputs_match_keras_reference(value_dim, output_shape, use_bias,
                                                             key_dim_in):
    query, value = _rand(2, 4, 6), _rand(2, 5, 3, seed=1)
    key = _rand(2, 5, key_dim_in, seed=2) if key_dim_in else None
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=value_dim,
                                    output_shape=output_shape, use_bias=use_bias)
    y, scores = mha(query, value, key=key, return_attention_scores=True)
    vd, out = value_dim or 3, (output_shape[0] if isinstance(output_shape, tuple)
                               else output_shape or 6)
    kin = key_dim_in or 3
    shapes = [(6, 2, 3), (2, 3), (kin, 2, 3), (2, 3), (3, 2, vd), (2, vd), (2, vd, out), (out,)]
    if not use_bias:
        shapes = shapes[0::2][:3] + [shapes[6]]
    assert [w.shape for w in mha.get_weights()] == shapes
    assert y.shape == (2, 4, out) and scores.shape == (2, 2, 4, 5)
    _random_weights(mha)
    y, scores = mha(query, value, key=key, return_attention_scores=True)
    ref_y, ref_w = mha_reference(mha, query.astype(np.float64), value.astype(np.float64),
                                 None if key is None else key.astype(np.float64))
    np.testing.assert_allclose(_np(y), ref_y, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(scores), ref_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_np(mha(query, value, key=key)), ref_y, rtol=1e-4, atol=1e-5)
    assert mha.compute_output_shape([(None, 4, 6), (None, 5, 3)]) == (None, 4, out)


def test_mha_key_defaults_to_value_and_kernels_use_glorot_and_zero_biases():
    query, value = _rand(3, 4, 8), _rand(3, 6, 8, seed=1)
    mha = layers.MultiHeadAttention(num_heads=4, key_dim=16)
    y = mha(query, value)
    np.testing.assert_array_equal(_np(y), _np(mha(query, value, key=value)))
    wq, bq = mha.get_weights()[:2]
    wo = mha.get_weights()[-2]
    # Keras's compute_fans treats a 3-D kernel like a conv kernel (..., in, out): for the
    # (8, 4, 16) query kernel fan_in = 4 * 8, fan_out = 16 * 8; for the (4, 16, 8) output
    # kernel fan_in = 16 * 4, fan_out = 8 * 4
    for w, fans in ((wq, 32 + 128), (wo, 64 + 32)):
        limit = np.sqrt(6 / fans)
        assert 0.9 * limit < np.abs(w).max() <= limit
    assert not bq.any()
    # a different key changes the output (key is not silently ignored)
    assert np.abs(_np(mha(query, value, key=_rand(3, 6, 8, seed=5))) - _np(y)).max() > 1e-3


def test_mha_attention_mask_and_broadcast_forms_match_reference():
    b, t, s = 3, 4, 5
    query, value = _rand(b, t, 6, dtype=np.float64), _rand(b, s, 6, seed=1, dtype=np.float64)
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=2, dtype="float64")
    mha(_t(query), _t(value))
    _random_weights(mha)
    rng = np.random.default_rng(3)
    full = rng.random((b, t, s)) < 0.6
    full[..., 0] = True  # every query may attend to something
    for mask in (full, full.astype(np.int64), full[0],  # (T, S)
                 full[:, :1, :], full[:1]):  # (B, 1, S) and (1, T, S) broadcast
        y, w = mha(_t(query), _t(value), attention_mask=mask, return_attention_scores=True)
        ref_y, ref_w = mha_reference(mha, query, value, mask=np.asarray(mask).astype(bool))
        np.testing.assert_allclose(_np(w), ref_w, atol=1e-12)
        np.testing.assert_allclose(_np(y), ref_y, atol=1e-10)
        assert not _np(w)[np.broadcast_to(~np.asarray(mask, bool), (b, t, s))[:, None]
                          .repeat(3, 1)].any()
    # a mask given as a shendu tensor works the same
    y = mha(_t(query), _t(value), attention_mask=shendu.tensor(full))
    np.testing.assert_allclose(_np(y), mha_reference(mha, query, value, mask=full)[0],
                               atol=1e-10)


@pytest.mark.parametrize("t, s", [(5, 5), (3, 5), (5, 3)])
def test_mha_causal_mask_is_lower_triangular_for_any_lengths(t, s):
    query, value = _rand(2, t, 4, dtype=np.float64), _rand(2, s, 4, seed=1, dtype=np.float64)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, dtype="float64")
    mha(_t(query), _t(value))
    _random_weights(mha)
    y, w = mha(_t(query), _t(value), use_causal_mask=True, return_attention_scores=True)
    tril = np.tril(np.ones((t, s), bool))
    ref_y, ref_w = mha_reference(mha, query, value, mask=tril[None])
    np.testing.assert_allclose(_np(w), ref_w, atol=1e-12)
    if t <= s:  # every query sees key 0, so no row is fully masked
        np.testing.assert_allclose(_np(w).sum(-1), 1.0, atol=1e-12)
    assert not _np(w)[:, :, ~tril].any()
    np.testing.assert_allclose(_np(y), ref_y, atol=1e-10)
    # causal AND an explicit mask
    extra = np.ones((2, t, s), bool)
    extra[1, :, 0] = False
    extra[1, 0, :] = True
    y2 = mha(_t(query), _t(value), use_causal_mask=True, attention_mask=extra)
    np.testing.assert_allclose(_np(y2), mha_reference(mha, query, value, mask=tril & extra)[0],
                               atol=1e-10)


def test_mha_query_that_may_attend_to_nothing_gets_zero_weights_and_the_output_bias():
    query, value = _rand(2, 3, 4), _rand(2, 4, 4, seed=1)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=2)
    mha(query, value)
    _random_weights(mha)
    mask = np.ones((2, 3, 4), bool)
    mask[0, 1] = False
    y, w = mha(query, value, attention_mask=mask, return_attention_scores=True)
    assert np.isfinite(_np(y)).all()
    np.testing.assert_array_equal(_np(w)[0, :, 1], 0.0)
    np.testing.assert_allclose(_np(y)[0, 1], mha.get_weights()[-1], atol=1e-6)
    np.testing.assert_allclose(_np(y), mha_reference(mha, query, value, mask=mask)[0],
                               rtol=1e-4, atol=1e-5)
    # the same with or without return_attention_scores (one code path)
    np.testing.assert_array_equal(_np(mha(query, value, attention_mask=mask)), _np(y))


def test_mha_embedding_masks_of_query_value_and_key_as_keras_combines_them():
    tq = np.array([[3, 1, 4, 0], [2, 7, 0, 0]])
    tv = np.array([[5, 9, 2, 6, 0], [1, 8, 0, 0, 0]])
    tk = np.array([[5, 9, 2, 0, 0], [1, 8, 3, 4, 0]])
    emb = layers.Embedding(10, 6, mask_zero=True)
    q, v, k = emb(tq), emb(tv), emb(tk)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    y, w = mha(q, v, return_attention_scores=True)
    qm, vm, km = tq != 0, tv != 0, tk != 0
    np.testing.assert_array_equal(_np(get_keras_mask(y)), qm)  # the query's mask carries on
    mask = qm[:, :, None] & vm[:, None, :]
    ref_y, ref_w = mha_reference(mha, _np(q).astype(np.float64), _np(v).astype(np.float64),
                                 mask=mask)
    np.testing.assert_allclose(_np(w), ref_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_np(y), ref_y, rtol=1e-4, atol=1e-5)
    # a separate key: its mask too (Keras: query & value & key masks)
    y, w = mha(q, v, key=k, return_attention_scores=True)
    ref_y, ref_w = mha_reference(mha, _np(q).astype(np.float64), _np(v).astype(np.float64),
                                 _np(k).astype(np.float64), mask=mask & km[:, None, :])
    np.testing.assert_allclose(_np(w), ref_w, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(_np(y), ref_y, rtol=1e-4, atol=1e-5)
    # and combined with attention_mask and the causal mask
    am = np.ones((2, 4, 5), bool)
    am[0, 2, 1] = False
    y = mha(q, v, attention_mask=am, use_causal_mask=True)
    causal = np.tril(np.ones((4, 5), bool))
    np.testing.assert_allclose(
        _np(y), mha_reference(mha, _np(q).astype(np.float64), _np(v).astype(np.float64),
                              mask=mask & am & causal)[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kdim, vdim", [(None, None), (5, 3)])
def test_mha_equals_nn_multihead_attention_with_copied_weights(kdim, vdim):
    e, h, b, t, s = 8, 2, 3, 4, 6
    query = _rand(b, t, e)
    key, value = _rand(b, s, kdim or e, seed=1), _rand(b, s, vdim or e, seed=2)
    mha = layers.MultiHeadAttention(num_heads=h, key_dim=e // h)
    mha(query, value, key=key)
    _random_weights(mha)
    wq, bq, wk, bk, wv, bv, wo, bo = mha.get_weights()
    ref = nn.MultiheadAttention(e, h, batch_first=True, kdim=kdim, vdim=vdim)
    # Keras kernel (d, heads, head_dim) = PyTorch's W^T with the heads side by side
    w_q, w_k, w_v = (k.reshape(k.shape[0], e).T for k in (wq, wk, wv))
    if kdim is None:
        ref.in_proj_weight._data[...] = np.concatenate([w_q, w_k, w_v])
    else:
        ref.q_proj_weight._data[...] = w_q
        ref.k_proj_weight._data[...] = w_k
        ref.v_proj_weight._data[...] = w_v
    ref.in_proj_bias._data[...] = np.concatenate([bq.ravel(), bk.ravel(), bv.ravel()])
    ref.out_proj.weight._data[...] = wo.reshape(e, e).T
    ref.out_proj.bias._data[...] = bo
    pad = np.zeros((b, s), bool)
    pad[1, 4:] = True  # PyTorch: True = ignore this key
    y_ref, w_ref = ref(shendu.tensor(query), shendu.tensor(key), shendu.tensor(value),
                       key_padding_mask=shendu.tensor(pad), average_attn_weights=False)
    y, w = mha(query, value, key=key, attention_mask=~pad[:, None, :],
               return_attention_scores=True)
    np.testing.assert_allclose(_np(y), _np(y_ref), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(w), _np(w_ref), rtol=1e-4, atol=1e-6)
    # causal: PyTorch's attn_mask is True where attending is NOT allowed
    forbid = ~np.tril(np.ones((t, s), bool))
    y_ref, _ = ref(shendu.tensor(query), shendu.tensor(key), shendu.tensor(value),
                   attn_mask=shendu.tensor(forbid), need_weights=False)
    np.testing.assert_allclose(_np(mha(query, value, key=key, use_causal_mask=True)),
                               _np(y_ref), rtol=1e-4, atol=1e-5)


def test_mha_attention_core_equals_scaled_dot_product_attention():
    query, value = _rand(2, 5, 6), _rand(2, 7, 6, seed=1)
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=2, use_bias=False)
    mha(query, value)
    _random_weights(mha)
    wq, wk, wv, wo = mha.get_weights()
    proj = [shendu.tensor(np.einsum("btd,dhk->bhtk", x, w)) for x, w in
            ((query, wq), (value, wk), (value, wv))]
    allowed = np.random.default_rng(0).random((2, 5, 7)) < 0.7
    allowed[..., 0] = True
    o = _np(F.scaled_dot_product_attention(*proj, attn_mask=shendu.tensor(allowed[:, None])))
    expected = np.einsum("bhtv,hvo->bto", o, wo)  # default scale 1/sqrt(key_dim)
    np.testing.assert_allclose(_np(mha(query, value, attention_mask=allowed)), expected,
                               rtol=1e-4, atol=1e-5)


def test_mha_gradients_reach_every_weight_and_match_finite_differences():
    query = _rand(2, 3, 4, dtype=np.float64)
    value = _rand(2, 5, 3, seed=1, dtype=np.float64)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=2, output_shape=3,
                                    dtype="float64")
    mha(_t(query), _t(value))
    _random_weights(mha)
    r = _rand(2, 3, 3, seed=7, dtype=np.float64)
    mask = np.ones((2, 3, 5), bool)
    mask[0, :, 3:] = False

    def loss():
        return (mha(q_t, _t(value), attention_mask=mask) * shendu.tensor(r)).sum()

    q_t = shendu.tensor(query, requires_grad=True)
    out = loss()
    out.backward()
    params = mha.trainable_weights
    assert len(params) == 8
    rng = np.random.default_rng(0)
    for p in params + [q_t]:
        assert p.grad is not None and np.abs(_np(p.grad)).max() > 0
        for _ in range(2):
            idx = tuple(int(rng.integers(0, n)) for n in p.shape)
            _assert_central_difference(loss, p, idx)


def test_mha_dropout_only_in_training_and_scores_returned_before_dropout():
    query, value = _rand(2, 4, 6), _rand(2, 5, 6, seed=1)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5)
    mha(query, value)
    _random_weights(mha)
    y_eval, w_eval = mha(query, value, return_attention_scores=True)
    ref_y, _ = mha_reference(mha, query.astype(np.float64), value.astype(np.float64))
    np.testing.assert_allclose(_np(y_eval), ref_y, rtol=1e-4, atol=1e-5)
    shendu.manual_seed(0)
    y_tr, w_tr = mha(query, value, training=True, return_attention_scores=True)
    assert np.abs(_np(y_tr) - _np(y_eval)).max() > 1e-3
    np.testing.assert_allclose(_np(w_tr), _np(w_eval), rtol=1e-6)  # Keras: pre-dropout


def test_mha_kernel_regularizer_adds_one_penalty_per_kernel():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3,
                                    kernel_regularizer=keras.regularizers.l2(0.1))
    mha(_rand(1, 2, 4), _rand(1, 3, 4))
    kernels = [w for w in mha.get_weights() if w.ndim == 3]
    assert len(kernels) == 4
    total = sum(float(_np(loss)) for loss in mha.losses)
    assert total == pytest.approx(0.1 * sum((k.astype(np.float64) ** 2).sum() for k in kernels),
                                  rel=1e-5)


def test_mha_get_config_from_config_round_trip():
    mha = layers.MultiHeadAttention(num_heads=3, key_dim=4, value_dim=5, dropout=0.25,
                                    use_bias=False, output_shape=7, name="att",
                                    kernel_initializer="he_normal", bias_initializer="ones")
    query, value = _rand(2, 3, 6), _rand(2, 4, 5, seed=1)
    y = mha(query, value)
    config = mha.get_config()
    assert config["num_heads"] == 3 and config["key_dim"] == 4 and config["value_dim"] == 5
    assert config["output_shape"] == 7 and config["dropout"] == 0.25 and not config["use_bias"]
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    again = layers.MultiHeadAttention.from_config(config)
    assert again.get_config() == config and again.name == "att"
    again(query, value)
    assert [w.shape for w in again.get_weights()] == [w.shape for w in mha.get_weights()]
    again.set_weights(mha.get_weights())
    np.testing.assert_array_equal(_np(again(query, value)), _np(y))
    # value_dim defaults to key_dim in the config too
    assert layers.MultiHeadAttention(2, 6).get_config()["value_dim"] == 6


# ------------------------------------------------------------------ Attention
@pytest.mark.parametrize("score_mode", ["dot", "concat"])
@pytest.mark.parametrize("use_scale", [False, True])
def test_attention_scores_match_keras_reference(score_mode, use_scale):
    query = _rand(2, 3, 4, dtype=np.float64)
    value = _rand(2, 5, 6, seed=1, dtype=np.float64)  # value features may differ
    key = _rand(2, 5, 4, seed=2, dtype=np.float64)
    att = layers.Attention(use_scale=use_scale, score_mode=score_mode, dtype="float64")
    out, w = att([_t(query), _t(value), _t(key)], return_attention_scores=True)
    names = [n.split("/")[-1] for n, _ in att._named_weights()]
    assert names == ["scale"] * use_scale + ["concat_score_weight"] * (score_mode == "concat")
    assert all(v == 1.0 for v in att.get_weights())  # both initialised to ones
    att.set_weights([np.asarray(0.7 + 0.6 * i) for i in range(len(names))])
    scale = 0.7 if use_scale else None
    cw = att.get_weights()[-1] if score_mode == "concat" else 1.0
    out, w = att([_t(query), _t(value), _t(key)], return_attention_scores=True)
    ref_out, ref_w = attention_reference(query, value, key, score_mode, scale, cw)
    assert out.shape == (2, 3, 6) and w.shape == (2, 3, 5)
    np.testing.assert_allclose(_np(out), ref_out, atol=1e-12)
    np.testing.assert_allclose(_np(w), ref_w, atol=1e-12)
    assert att.compute_output_shape([(None, 3, 4), (None, 5, 6)]) == (None, 3, 6)
    # key defaults to value (here with value's own features)
    out2 = att([_t(query), _t(query)])
    np.testing.assert_allclose(_np(out2), attention_reference(query, query, None, score_mode,
                                                              scale, cw)[0], atol=1e-12)


def test_attention_masks_and_causal_mask_match_reference():
    query = _rand(2, 4, 3, dtype=np.float64)
    value = _rand(2, 5, 3, seed=1, dtype=np.float64)
    qm = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    vm = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]], bool)
    att = layers.Attention(dtype="float64")
    for causal in (False, True):
        out, w = att([_t(query), _t(value)], mask=[qm, vm], use_causal_mask=causal,
                     return_attention_scores=True)
        ref_out, ref_w = attention_reference(query, value, query_mask=qm, value_mask=vm,
                                             causal=causal)
        np.testing.assert_allclose(_np(out), ref_out, atol=1e-12)
        np.testing.assert_allclose(_np(w), ref_w, atol=1e-12)
        np.testing.assert_array_equal(_np(out)[~qm], 0.0)
        np.testing.assert_array_equal(_np(get_keras_mask(out)), qm)
    # only a value mask / only a query mask
    np.testing.assert_allclose(_np(att([_t(query), _t(value)], mask=[None, vm])),
                               attention_reference(query, value, value_mask=vm)[0], atol=1e-12)
    np.testing.assert_allclose(_np(att([_t(query), _t(value)], mask=[qm, None])),
                               attention_reference(query, value, query_mask=qm)[0], atol=1e-12)


def test_attention_takes_masks_from_embedding_mask_zero_inputs():
    tq = np.array([[3, 1, 4, 0], [2, 7, 0, 0]])
    tv = np.array([[5, 9, 2, 6, 0], [1, 8, 0, 0, 0]])
    emb = layers.Embedding(10, 6, mask_zero=True)
    q, v = emb(tq), emb(tv)
    out, w = layers.Attention()([q, v], return_attention_scores=True)
    ref_out, ref_w = attention_reference(_np(q).astype(np.float64), _np(v).astype(np.float64),
                                         query_mask=tq != 0, value_mask=tv != 0)
    np.testing.assert_allclose(_np(out), ref_out, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(w), ref_w, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(_np(get_keras_mask(out)), tq != 0)


def test_attention_dot_equals_scaled_dot_product_attention():
    query, value, key = _rand(2, 3, 4), _rand(2, 6, 5, seed=1), _rand(2, 6, 4, seed=2)
    att = layers.Attention(use_scale=True)
    att([query, value, key])
    att.set_weights([np.asarray(0.3, np.float32)])
    vm = np.ones((2, 6), bool)
    vm[0, 4:] = False
    expected = F.scaled_dot_product_attention(
        shendu.tensor(query), shendu.tensor(key), shendu.tensor(value),
        attn_mask=shendu.tensor(vm[:, None, :]), scale=0.3)
    np.testing.assert_allclose(_np(att([query, value, key], mask=[None, vm])), _np(expected),
                               rtol=1e-5, atol=1e-6)
    expected = F.scaled_dot_product_attention(shendu.tensor(query), shendu.tensor(key),
                                              shendu.tensor(value), is_causal=True, scale=0.3)
    np.testing.assert_allclose(_np(att([query, value, key], use_causal_mask=True)),
                               _np(expected), rtol=1e-5, atol=1e-6)


def test_attention_gradients_reach_scale_and_concat_weight():
    query = _rand(2, 3, 4, dtype=np.float64)
    value = _rand(2, 5, 4, seed=1, dtype=np.float64)
    r = _rand(2, 3, 4, seed=3, dtype=np.float64)
    att = layers.Attention(use_scale=True, score_mode="concat", dtype="float64")
    att([_t(query), _t(value)])
    att.set_weights([np.asarray(0.8), np.asarray(1.3)])
    q_t = shendu.tensor(query, requires_grad=True)

    def loss():
        return (att([q_t, _t(value)]) * shendu.tensor(r)).sum()

    loss().backward()
    for p in att.trainable_weights + [q_t]:
        _assert_central_difference(loss, p, (0,) * p.ndim, atol=1e-9, nonzero=True)


def test_attention_dropout_in_training_returns_the_dropped_weights_as_keras():
    query, value = _rand(2, 6, 4), _rand(2, 8, 4, seed=1)
    att = layers.Attention(dropout=0.5)
    eval_out, eval_w = att([query, value], return_attention_scores=True)
    shendu.manual_seed(0)
    out, w = att([query, value], training=True, return_attention_scores=True)
    w, eval_w = _np(w), _np(eval_w)
    dropped = w == 0
    assert 0.2 < dropped.mean() < 0.8
    np.testing.assert_allclose(w[~dropped], 2 * eval_w[~dropped], rtol=1e-5)
    np.testing.assert_allclose(_np(out), w @ value, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(_np(att([query, value])), _np(eval_out))  # eval: no dropout


def test_attention_config_round_trip():
    att = layers.Attention(use_scale=True, score_mode="concat", dropout=0.1, name="luong")
    config = att.get_config()
    assert {k: config[k] for k in ("use_scale", "score_mode", "dropout")} == \
        {"use_scale": True, "score_mode": "concat", "dropout": 0.1}
    again = layers.Attention.from_config(config)
    assert again.get_config() == config and again.name == "luong"


# ------------------------------------------------------------------ models, fit, saving
def _masked_classifier():
    tokens = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(12, 8, mask_zero=True)(tokens)
    x = layers.MultiHeadAttention(num_heads=2, key_dim=4)(x, x, use_causal_mask=True)
    c = layers.Attention(use_scale=True)([x, x])
    x = layers.GlobalAveragePooling1D()(layers.Add()([x, c]))
    return keras.Model(tokens, layers.Dense(1, activation="sigmoid")(x))


def test_functional_model_fits_honours_masks_and_survives_save_load(tmp_path):
    rng = np.random.default_rng(0)
    n, t = 64, 6
    x = rng.integers(1, 12, size=(n, t))
    lengths = rng.integers(2, t + 1, size=n)
    x[np.arange(t)[None] >= lengths[:, None]] = 0
    y = (x == 3).any(1).astype(np.float32)[:, None]  # "does token 3 occur?"
    shendu.manual_seed(0)
    model = _masked_classifier()
    model.compile(keras.optimizers.Adam(0.02), "binary_crossentropy")
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.8 * losses[0]
    # padding is invisible: a padded sequence predicts as its unpadded prefix
    row = np.array([[4, 3, 7, 0, 0, 0]])
    np.testing.assert_allclose(model.predict(row, verbose=0), model.predict(row[:, :3], verbose=0),
                               rtol=1e-5, atol=1e-6)
    # save / load
    path = tmp_path / "attention.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    mha = [layer for layer in loaded.layers if isinstance(layer, layers.MultiHeadAttention)][0]
    assert mha.num_heads == 2 and mha.key_dim == 4
    # the use_causal_mask=True call argument was saved: the future must stay hidden
    a, b = np.array([[4, 3, 7, 5, 2]]), np.array([[4, 3, 7, 9, 9]])
    mha_out = [kt for kt in loaded._graph if kt._layer is mha][0]
    probe = keras.Model(loaded.inputs[0] if isinstance(loaded.inputs, list) else loaded.inputs,
                        mha_out)
    pa, pb = probe.predict(a, verbose=0), probe.predict(b, verbose=0)
    np.testing.assert_allclose(pa[:, :3], pb[:, :3], rtol=1e-5, atol=1e-6)
    assert np.abs(pa[:, 3:] - pb[:, 3:]).max() > 1e-4


def test_saving_refuses_call_arguments_that_are_not_plain_values(tmp_path):
    x = keras.Input(shape=(3, 4))
    out = layers.MultiHeadAttention(2, 2, name="mha")(x, x, attention_mask=np.ones((3, 3)))
    model = keras.Model(x, out)
    assert model.predict(np.ones((2, 3, 4), np.float32), verbose=0).shape == (2, 3, 4)
    with pytest.raises(TypeError, match=r"layer 'mha' was called with keyword arguments "
                                        r"\['attention_mask'\].*can't be saved"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()


def test_functional_models_refuse_return_attention_scores_clearly():
    q = keras.Input(shape=(4, 6))
    with pytest.raises(NotImplementedError, match="MultiHeadAttention 'mha'.*"
                                                  "return_attention_scores"):
        layers.MultiHeadAttention(2, 3, name="mha")(q, q, return_attention_scores=True)
    with pytest.raises(NotImplementedError, match="Attention 'att'.*return_attention_scores"):
        layers.Attention(name="att")([q, q], return_attention_scores=True)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs, match", [
    (dict(num_heads=0, key_dim=4), "num_heads must be a positive integer, got 0"),
    (dict(num_heads=2.5, key_dim=4), "num_heads must be a positive integer"),
    (dict(num_heads=True, key_dim=4), "num_heads must be a positive integer"),
    (dict(num_heads=2, key_dim=-1), "key_dim must be a positive integer, got -1"),
    (dict(num_heads=2, key_dim=4, value_dim=0), "value_dim must be a positive integer, got 0"),
    (dict(num_heads=2, key_dim=4, output_shape=0), "output_shape must be a positive integer"),
    (dict(num_heads=2, key_dim=4, dropout=1.5), r"dropout must be in \[0, 1\), got 1.5"),
])
def test_mha_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match="MultiHeadAttention: " + match):
        layers.MultiHeadAttention(**kwargs)


def test_mha_unsupported_arguments_say_so():
    with pytest.raises(NotImplementedError, match="output_shape must be an int"):
        layers.MultiHeadAttention(2, 4, output_shape=(3, 4))
    with pytest.raises(NotImplementedError, match="attention_axes"):
        layers.MultiHeadAttention(2, 4, attention_axes=(2,))


def test_mha_bad_shapes_name_the_layer_and_the_shapes():
    q, v = _rand(2, 4, 6), _rand(2, 5, 3)
    with pytest.raises(ValueError, match=r"'m1': the query must have shape \(batch, steps, "
                                         r"features\).*got \(4, 6\)"):
        layers.MultiHeadAttention(2, 3, name="m1")(q[0], v)
    with pytest.raises(TypeError, match="'m2' needs a query and a value"):
        layers.MultiHeadAttention(2, 3, name="m2")(q)
    with pytest.raises(ValueError, match=r"'m3': key and value need the same number of steps, "
                                         r"got key \(2, 2, 3\) and value \(2, 5, 3\)"):
        layers.MultiHeadAttention(2, 3, name="m3")(q, v, key=v[:, :2])
    with pytest.raises(ValueError, match=r"'m4': the inputs need the same batch size, got "
                                         r"query \(2, 4, 6\), value \(1, 5, 3\)"):
        layers.MultiHeadAttention(2, 3, name="m4")(q, v[:1])
    mha = layers.MultiHeadAttention(2, 3, name="m5")
    mha(q, v)
    with pytest.raises(ValueError, match=r"'m5' expects the value to have shape \(batch, steps, "
                                         r"3\), got \(2, 5, 4\)"):
        mha(q, _rand(2, 5, 4))
    with pytest.raises(ValueError, match=r"'m5': the inputs need the same batch size"):
        mha(q, v[:1])
    for bad in (np.ones((2, 4, 4)), np.ones((3, 4, 5)), np.ones((5,)), np.ones((1, 2, 4, 5))):
        with pytest.raises(ValueError, match=r"'m5': attention_mask must have shape \(2, 4, 5\)"
                                             r".*got " + re.escape(str(bad.shape))):
            mha(q, v, attention_mask=bad)
    with pytest.raises(ValueError, match=r"'m6': key and value need the same number of steps"):
        layers.MultiHeadAttention(2, 3, name="m6")(keras.Input(shape=(4, 6)),
                                                   keras.Input(shape=(5, 3)),
                                                   key=keras.Input(shape=(2, 3)))


def test_attention_bad_arguments_and_shapes():
    with pytest.raises(ValueError, match="score_mode must be 'dot' or 'concat', got 'add'"):
        layers.Attention(score_mode="add")
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        layers.Attention(dropout=1.0)
    q, v = _rand(2, 4, 6), _rand(2, 5, 6)
    att = layers.Attention(name="a1")
    with pytest.raises(ValueError, match=r"'a1' takes a list \[query, value\].*got one input of "
                                         r"shape \(2, 4, 6\)"):
        att(q)
    with pytest.raises(ValueError, match=r"'a1' takes a list.*got a list of 1 inputs"):
        att([q])
    with pytest.raises(ValueError, match=r"'a1': query and key need the same number of "
                                         r"features, got 6 and 3"):
        att([q, _rand(2, 5, 3)])
    with pytest.raises(ValueError, match=r"'a1': key and value need the same number of steps, "
                                         r"got key \(2, 3, 6\) and value \(2, 5, 6\)"):
        att([q, v, _rand(2, 3, 6)])
    with pytest.raises(ValueError, match=r"'a1': the inputs need the same batch size, got query "
                                         r"\(2, 4, 6\), value \(3, 5, 6\)"):
        att([q, _rand(3, 5, 6)])
    with pytest.raises(ValueError, match=r"'a1': mask must be a list \[query_mask, value_mask\]"
                                         r", got a ndarray"):
        att([q, v], mask=np.ones((2, 5), bool))
    with pytest.raises(ValueError, match=r"'a1': value_mask must have shape \(2, 5\) \(batch, "
                                         r"steps\), got \(2, 4\)"):
        att([q, v], mask=[None, np.ones((2, 4), bool)])
