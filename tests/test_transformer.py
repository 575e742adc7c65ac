"""Transformer layers and stacks (float64 gradcheck of an encoder and a decoder layer with
their parameters, masks, norm_first, activations), the causal mask, positional
encodings, RMSNorm, and incremental decoding with a KV cache (same logits as a full
causal pass)."""
import math

import numpy as np
import pytest

import shendu
import shendu.nn.functional as F
from shendu import nn
from shendu.autograd import gradcheck, gradgradcheck
from test_attention import with_params

D, HEADS, FF = 4, 2, 6


def _f64(module):
    return module.to(shendu.float64)


def _rand(*shape, seed=0, grad=False):
    return shendu.tensor(np.random.default_rng(seed).standard_normal(shape),
                         requires_grad=grad)


# ---------------------------------------------------------------- layers: gradients
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_layer_gradcheck(norm_first, activation):
    shendu.manual_seed(0)
    layer = _f64(nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation=activation,
                                            norm_first=norm_first))
    x = _rand(3, 2, D, grad=True)  # (S, N, E)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=shendu.float64)
    kpm = shendu.tensor(np.array([[False, False, False], [False, False, True]]))
    f = with_params(layer, lambda x: layer(x, src_mask=mask, src_key_padding_mask=kpm), 1)
    assert gradcheck(f, [x] + list(layer.parameters()))


def test_encoder_layer_gradgradcheck():
    shendu.manual_seed(0)
    layer = _f64(nn.TransformerEncoderLayer(D, HEADS, FF, dropout=0.0, activation="gelu",
                                            batch_first=True, norm_first=True))
    x = _rand(2, 3, D, grad=True)
    assert gradgradcheck(lambda x: layer(x), [x])


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer_gradcheck(norm_first):
    shendu.manual_seed(0)
    layer = _f64(nn.TransformerDecoderLayer(D, HEADS, FF, dropout=0.0, batch_first=True,
                                            norm_first=norm_first))
    tgt, memory = _rand(2, 3, D, grad=True), _rand(2, 4, D, seed=1, grad=True)
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=shendu.float64)
    mkpm = shendu.tensor(np.array([[False] * 4, [False, True, False, True]]))
    f = with_params(layer, lambda t, m: layer(t, m, tgt_mask=mask,
                                              memory_key_padding_mask=mkpm), 2)
    assert gradcheck(f, [tgt, memory] + list(layer.parameters()))


# ---------------------------------------------------------------- layers: behaviour
def test_encoder_layer_parameter_names_match_pytorch_layout():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    assert [n for n, _ in layer.named_parameters()] == [
        "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
        "self_attn.out_proj.bias", "linear1.weight", "linear1.bias", "linear2.weight",
        "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]
    dec = nn.TransformerDecoderLayer(8, 2, 16, bias=False)
    assert [n for n, _ in dec.named_parameters()] == [
        "self_attn.in_proj_weight", "self_attn.out_proj.weight",
        "multihead_attn.in_proj_weight", "multihead_attn.out_proj.weight", "linear1.weight",
        "linear2.weight", "norm1.weight", "norm2.weight", "norm3.weight"]
    assert isinstance(dec.dropout3, nn.Dropout)


def test_post_norm_output_is_normalized():
    layer = _f64(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0)).eval()
    y = layer(_rand(5, 3, 8) * 10).detach().numpy()
    np.testing.assert_allclose(y.mean(-1), 0, atol=1e-10)
    np.testing.assert_allclose(y.std(-1), 1, atol=1e-3)


def test_dropout_only_in_training_and_seeded():
    layer = _f64(nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5))
    x = _rand(5, 3, 8)
    shendu.manual_seed(1)
    a = layer(x).detach().numpy()
    shendu.manual_seed(1)
    b = layer(x).detach().numpy()
    np.testing.assert_array_equal(a, b)
    layer.eval()
    c, d = layer(x).detach().numpy(), layer(x).detach().numpy()
    np.testing.assert_array_equal(c, d)
    assert not np.allclose(a, c)


def test_activation_choices():
    x = _rand(3, 2, 8)
    shendu.manual_seed(0)
    a = _f64(nn.TransformerEncoderLayer(8, 2, 16, activation="gelu")).eval()
    shendu.manual_seed(0)
    b = _f64(nn.TransformerEncoderLayer(8, 2, 16, activation=nn.GELU())).eval()
    shendu.manual_seed(0)
    c = _f64(nn.TransformerEncoderLayer(8, 2, 16, activation=F.gelu)).eval()
    ya = a(x).detach().numpy()
    np.testing.assert_allclose(b(x).detach().numpy(), ya, rtol=1e-12)
    np.testing.assert_allclose(c(x).detach().numpy(), ya, rtol=1e-12)
    with pytest.raises(ValueError, match="activation should be 'relu', 'gelu' or a callable"):
        nn.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(TypeError, match="activation should be"):
        nn.TransformerDecoderLayer(8, 2, activation=3)


def test_encoder_layer_heads_error():
    with pytest.raises(ValueError, match=r"embed_dim \(10\) must be divisible by num_heads"):
        nn.TransformerEncoderLayer(10, 4)


def test_stack_copies_layers_independently():
    layer = nn.TransformerEncoderLayer(8, 2, 16)
    enc = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(8))
    assert len(enc.layers) == 3
    w0, w1 = enc.layers[0].linear1.weight, enc.layers[1].linear1.weight
    assert w0 is not w1 and np.array_equal(w0.detach().numpy(), w1.detach().numpy())
    names = [n for n, _ in enc.named_parameters()]
    assert names[0] == "layers.0.self_attn.in_proj_weight" and names[-1] == "norm.bias"


def test_encoder_stack_equals_layers_applied_in_turn():
    shendu.manual_seed(0)
    enc = _f64(nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16, batch_first=True),
                                     2, norm=nn.LayerNorm(8))).eval()
    x = _rand(2, 5, 8)
    kpm = shendu.tensor(np.array([[False] * 5, [False, False, False, True, True]]))
    y = x
    for layer in enc.layers:
        y = layer(y, src_key_padding_mask=kpm)
    np.testing.assert_allclose(enc(x, src_key_padding_mask=kpm).detach().numpy(),
                               enc.norm(y).detach().numpy(), rtol=1e-12)


def test_transformer_shapes_init_and_errors():
    shendu.manual_seed(0)
    model = nn.Transformer(16, 4, 2, 1, 32, batch_first=True)
    src, tgt = shendu.randn(3, 7, 16), shendu.randn(3, 5, 16)
    out = model(src, tgt, tgt_mask=nn.Transformer.generate_square_subsequent_mask(5))
    assert out.shape == (3, 5, 16)
    # every matrix is Xavier-uniform: |w| <= sqrt(6 / (fan_in + fan_out))
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    assert np.abs(w).max() <= math.sqrt(6 / (16 + 32)) + 1e-7
    assert np.abs(w).max() > 0.8 * math.sqrt(6 / (16 + 32))
    with pytest.raises(ValueError, match="different batch sizes"):
        model(src, shendu.randn(2, 5, 16))
    with pytest.raises(ValueError, match="must be d_model=16"):
        model(shendu.randn(3, 7, 8), shendu.randn(3, 5, 8))
    unbatched = model(shendu.randn(7, 16), shendu.randn(5, 16))
    assert unbatched.shape == (5, 16)


def test_generate_square_subsequent_mask():
    m = nn.Transformer.generate_square_subsequent_mask(4).numpy()
    expected = np.triu(np.full((4, 4), -np.inf, np.float32), 1)
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.float32
    from shendu.nn.transformer import generate_square_subsequent_mask
    assert generate_square_subsequent_mask(3, dtype=shendu.float64).dtype == shendu.float64


def test_detect_is_causal_mask():
    from shendu.nn.transformer import _detect_is_causal_mask
    causal = nn.Transformer.generate_square_subsequent_mask(4)
    assert _detect_is_causal_mask(causal)
    assert _detect_is_causal_mask(shendu.tensor(np.triu(np.ones((4, 4), bool), 1)))
    assert not _detect_is_causal_mask(causal, size=5)
    assert not _detect_is_causal_mask(shendu.zeros(4, 4))
    assert not _detect_is_causal_mask(causal, is_causal=False)
    assert _detect_is_causal_mask(None, is_causal=True)


# ---------------------------------------------------------------- positional encodings
def test_sinusoidal_formula_and_layouts():
    pe = nn.SinusoidalPositionalEncoding(6, max_len=50)
    table = pe.pe.numpy()
    pos, i = 7, 2  # columns 2i and 2i + 1 of position 7
    np.testing.assert_allclose(table[pos, 2 * i], math.sin(pos / 10000 ** (2 * i / 6)), rtol=1e-6)
    np.testing.assert_allclose(table[pos, 2 * i + 1], math.cos(pos / 10000 ** (2 * i / 6)),
                               rtol=1e-6)
    x = shendu.zeros(5, 2, 6)  # (L, N, E)
    np.testing.assert_allclose(pe(x).numpy(), np.broadcast_to(table[:5, None], (5, 2, 6)))
    np.testing.assert_allclose(pe(x, offset=3).numpy()[0, 1], table[3])
    bf = nn.SinusoidalPositionalEncoding(6, max_len=50, batch_first=True)
    np.testing.assert_allclose(bf(shendu.zeros(2, 5, 6)).numpy()[1], table[:5])
    np.testing.assert_allclose(pe(shendu.zeros(4, 6)).numpy(), table[:4])  # unbatched
    assert list(pe.state_dict()) == []  # recomputed, not saved


def test_sinusoidal_odd_dim_dtype_and_errors():
    pe = nn.SinusoidalPositionalEncoding(5, max_len=8)
    assert pe.pe.shape == (8, 5) and np.isfinite(pe.pe.numpy()).all()
    pe.to(shendu.float64)
    assert pe(shendu.zeros(3, 1, 5, dtype=shendu.float64)).dtype == shendu.float64
    with pytest.raises(ValueError, match=r"positions 6\.\.8 exceed max_len=8"):
        pe(shendu.zeros(3, 1, 5, dtype=shendu.float64), offset=6)
    with pytest.raises(ValueError, match="expected 5 features"):
        pe(shendu.zeros(3, 1, 4))


def test_sinusoidal_dropout_in_training():
    pe = nn.SinusoidalPositionalEncoding(8, max_len=20, dropout=0.5)
    y = pe(shendu.ones(10, 4, 8)).numpy()
    assert (y == 0).any()
    pe.eval()
    assert not (pe(shendu.ones(10, 4, 8)).numpy() == 0).all()


def test_learned_positional_embedding_gradient_reaches_used_rows():
    emb = _f64(nn.LearnedPositionalEmbedding(10, 4, batch_first=True))
    assert abs(float(nn.LearnedPositionalEmbedding(1000, 64).weight.detach().numpy().std())
               - 0.02) < 0.002
    x = _rand(2, 3, 4, grad=True)
    (emb(x, offset=2) ** 2).sum().backward()
    g = emb.weight.grad.numpy()
    assert np.all(g[:2] == 0) and np.all(g[5:] == 0) and np.any(g[2:5] != 0)
    f = with_params(emb, lambda x: emb(x, offset=1), 1)
    assert gradcheck(f, [x] + list(emb.parameters()))
    with pytest.raises(ValueError, match="exceed max_len=10"):
        emb(shendu.zeros(1, 11, 4, dtype=shendu.float64))


# ---------------------------------------------------------------- RMSNorm
def test_rms_norm_values_and_default_eps():
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    w = np.random.default_rng(1).standard_normal(5)
    norm = _f64(nn.RMSNorm(5))
    with shendu.no_grad():
        norm.weight.copy_(shendu.tensor(w))
    eps = np.finfo(np.float64).eps
    expected = x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * w
    np.testing.assert_allclose(norm(shendu.tensor(x)).detach().numpy(), expected, rtol=1e-12)
    two = nn.RMSNorm((4, 5), eps=0.1, elementwise_affine=False)
    assert two.weight is None and list(two.parameters()) == []
    expected2 = x / np.sqrt((x ** 2).mean((-2, -1), keepdims=True) + 0.1)
    np.testing.assert_allclose(two(shendu.tensor(x)).numpy(), expected2, rtol=1e-12)
    with pytest.raises(ValueError, match=r"RMSNorm\(\(5,\)\) got input of shape \(3, 4\)"):
        norm(shendu.zeros(3, 4, dtype=shendu.float64))


def test_rms_norm_gradients():
    x = _rand(3, 5, grad=True)
    w = _rand(5, seed=1, grad=True)
    assert gradcheck(lambda x, w: F.rms_norm(x, (5,), w, 1e-3), [x, w])
    assert gradgradcheck(lambda x, w: F.rms_norm(x, (5,), w, 1e-3), [x, w])


# ---------------------------------------------------------------- incremental decoding
class TinyGPT(nn.Module):
    """A decoder-only language model (token + position embeddings, causal encoder
    layers, a vocabulary head) that can decode with a KV cache."""

    def __init__(self, vocab=11, d=8, heads=2, layers=2, max_len=32, learned=False):
        super().__init__()
        self.tok = nn.Embedding(vocab, d)
        self.pos = (nn.LearnedPositionalEmbedding(max_len, d, batch_first=True) if learned
                    else nn.SinusoidalPositionalEncoding(d, max_len, batch_first=True))
        self.blocks = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(d, heads, 16, dropout=0.0, batch_first=True,
                                       norm_first=True, activation="gelu"), layers)
        self.head = nn.Linear(d, vocab)

    def forward(self, ids, cache=None, offset=0):
        x = self.pos(self.tok(ids), offset=offset)
        if cache is None:
            mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1],
                                                                  dtype=x.dtype)
            x = self.blocks(x, mask=mask, is_causal=True)
        else:
            x = self.blocks(x, is_causal=True, cache=cache)
        return self.head(x)


@pytest.mark.parametrize("learned", [False, True])
def test_kv_cache_decoding_gives_full_causal_logits(learned):
    shendu.manual_seed(0)
    model = _f64(TinyGPT(learned=learned)).eval()
    ids = shendu.tensor(np.random.default_rng(0).integers(0, 11, (3, 9)))
    full = model(ids).detach().numpy()
    cache = [nn.KVCache() for _ in range(2)]
    with shendu.no_grad():
        logits = [model(ids[:, :4], cache=cache).numpy()]  # the prompt at once
        for t in range(4, 9):  # then one token per step
            logits.append(model(ids[:, t:t + 1], cache=cache, offset=t).numpy())
    assert [len(c) for c in cache] == [9, 9]
    np.testing.assert_allclose(np.concatenate(logits, axis=1), full, rtol=1e-10, atol=1e-12)


def test_kv_cache_greedy_generation_matches_recomputation():
    shendu.manual_seed(1)
    model = _f64(TinyGPT()).eval()
    prompt = [3, 1, 4]
    with shendu.no_grad():
        ids = list(prompt)  # without a cache: the whole prefix every step
        for _ in range(6):
            logits = model(shendu.tensor([ids]))
            ids.append(int(logits.numpy()[0, -1].argmax()))
        cache = [nn.KVCache() for _ in range(2)]
        out = list(prompt)
        logits = model(shendu.tensor([prompt]), cache=cache)
        for step in range(6):
            nxt = int(logits.numpy()[0, -1].argmax())
            out.append(nxt)
            logits = model(shendu.tensor([[nxt]]), cache=cache, offset=len(prompt) + step)
    assert out == ids


def test_decoder_with_cache_equals_masked_decoder():
    shendu.manual_seed(0)
    dec = _f64(nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), 2,
                                     norm=nn.LayerNorm(8))).eval()
    tgt, memory = _rand(5, 2, 8), _rand(6, 2, 8, seed=1)  # sequence-first
    mask = nn.Transformer.generate_square_subsequent_mask(5, dtype=shendu.float64)
    full = dec(tgt, memory, tgt_mask=mask).detach().numpy()
    cache = [nn.KVCache() for _ in range(2)]
    with shendu.no_grad():
        steps = [dec(tgt[t:t + 1], memory, tgt_is_causal=True, cache=cache).numpy()
                 for t in range(5)]
    np.testing.assert_allclose(np.concatenate(steps), full, rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match=r"one KVCache per layer \(2\), got 1"):
        dec(tgt, memory, cache=[nn.KVCache()])
