"""Smoke tests with assertions for examples/transformer_addition.py and
examples/attention_maps.py (the Transformer lessons).

The addition Transformer trains once in ``--quick`` mode (a few seconds, a tiny model);
attention_maps then draws the attention of the weights it saved. Reaching the examples'
full figures (>= 99% exact match on 3-digit problems) takes the full run.
"""
import numpy as np
import pytest

from test_examples import assert_png, load_example


@pytest.fixture(scope="module")
def addition_run(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    try:
        ex = load_example("transformer_addition", mp)
        out = tmp_path_factory.mktemp("transformer_addition")
        result = ex.main(["--quick", "--out", str(out)])
    finally:
        mp.undo()
    return ex, result, out


def test_transformer_addition_learns(addition_run):
    ex, result, _ = addition_run
    assert_png(result["png"], min_size=(800, 300))
    loss = result["history"]["loss"]
    assert len(loss) == 2 and all(np.isfinite(loss))
    assert loss[-1] < 0.9 * loss[0], loss             # the loss falls
    assert set(result["exact"]) == {"test", "4-digit", "5-digit"}
    for part in ("test", "4-digit", "5-digit"):
        assert 0.0 <= result["exact"][part] <= 1.0
        assert 0.0 <= result["char"][part] <= 1.0
    # 12 digits and <eos> to pick from: chance is about 1/13 per character; after 120
    # steps the tiny model gets the first digits of most answers right
    assert result["char"]["test"] > 0.2, result["char"]
    assert len(result["texts"]["test"]) == len(result["data"]["test"][0])
    for part, acc in result["places"].items():     # accuracy of units, tens, ... digits
        assert acc.shape == (6,)
        seen = acc[np.isfinite(acc)]
        assert len(seen) >= 3 and ((seen >= 0) & (seen <= 1)).all(), (part, acc)
    assert result["n_params"] == sum(p.numel() for p in result["model"].parameters())


def test_transformer_addition_saved_weights_reload(addition_run):
    ex, result, _ = addition_run
    import shendu
    model = ex.load_model(result["weights"])
    assert model.config == result["model"].config
    src = shendu.tensor([[5, 6, 7, 14, 6, 5], [11, 12, 14, 5, 0, 0]])   # ids; 0 = padding
    tgt = shendu.tensor([[1, 7, 9, 11], [1, 5, 6, 0]])
    result["model"].eval()
    with shendu.no_grad():
        expected = result["model"](src, tgt).numpy()
        got = model(src, tgt).numpy()
    np.testing.assert_array_equal(got, expected)
    # the causal mask: changing a later answer character leaves earlier logits alone
    tgt2 = shendu.tensor([[1, 7, 3, 4], [1, 5, 6, 0]])
    with shendu.no_grad():
        changed = model(src, tgt2).numpy()
    np.testing.assert_allclose(changed[:, :2], expected[:, :2], rtol=1e-5, atol=1e-6)
    assert np.abs(changed[0, 2:] - expected[0, 2:]).max() > 1e-4


def test_transformer_addition_rejects_unknown_positions(monkeypatch):
    ex = load_example("transformer_addition", monkeypatch)
    with pytest.raises(ValueError, match="positions"):
        ex.AdditionTransformer(16, d_model=16, positions="rotary")


def test_attention_maps(addition_run, tmp_path, monkeypatch):
    _, addition, _ = addition_run
    ex = load_example("attention_maps", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--weights", str(addition["weights"])])
    assert_png(result["png"], min_size=(900, 600))
    assert [m["problem"] for m in result["maps"]] == ex.PROBLEMS
    model = result["model"]
    n_layers = len(model.transformer.decoder.layers)
    n_heads = model.config["nhead"]
    for m in result["maps"]:
        q_len, t_len = len(m["question"]), len(m["written"]) + 1
        assert m["question"] == m["problem"][::-1]
        w = m["weights"]
        assert len(w["cross"]) == len(w["decoder self"]) == n_layers
        assert len(w["encoder self"]) == len(model.transformer.encoder.layers)
        for cross in w["cross"]:
            assert cross.shape == (n_heads, t_len, q_len)
            np.testing.assert_allclose(cross.sum(-1), 1.0, atol=1e-5)   # softmax rows
            assert (cross >= 0).all()
        for self_w in w["decoder self"]:
            assert self_w.shape == (n_heads, t_len, t_len)
            # the causal mask reached the recomputed weights: nothing above the diagonal
            assert np.abs(np.triu(self_w, 1)).max() == 0.0
        for enc in w["encoder self"]:
            assert enc.shape == (n_heads, q_len, q_len)
            np.testing.assert_allclose(enc.sum(-1), 1.0, atol=1e-5)
        assert m["rows"][-1] == "<eos>" and len(m["rows"]) == t_len
    assert 0 <= result["head"] < n_heads
    # the hooks are removed afterwards
    for layer in model.transformer.decoder.layers:
        assert not layer.multihead_attn._forward_hooks
        assert not layer.self_attn._forward_hooks


def test_attention_maps_most_focused_head(monkeypatch):
    ex = load_example("attention_maps", monkeypatch)
    uniform = np.full((3, 4), 0.25)
    peaked = np.eye(3, 4) * 0.97 + 0.01
    weights = np.stack([uniform, peaked, uniform])          # (heads, queries, keys)
    assert ex.most_focused_head([weights, weights]) == 1
