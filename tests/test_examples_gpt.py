"""Smoke test of examples/gpt_shakespeare.py (quick mode) and of its GPT's pieces."""

import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")


def shakespeare_data_dir():
    return data_dir_with("tinyshakespeare/input.txt")


@pytest.fixture
def gpt(monkeypatch):
    return load_example("gpt_shakespeare", monkeypatch)


def test_gpt_shakespeare_quick(gpt, tmp_path, capsys):
    data_dir = shakespeare_data_dir()
    r = gpt.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data_dir)])
    out = capsys.readouterr().out
    assert "train 1,003,854, validation 111,540" in out  # nanoGPT's 90/10 split
    assert r["iters"] == 40
    # uniform guessing over 65 characters costs log(65) = 4.17 nats; 40 steps of the small
    # quick-mode model get to about 3.3 (roughly the characters' frequencies)
    assert 3.9 < r["initial_loss"] < 4.4
    assert r["final_loss"] < 3.6 and r["val_loss"] < 3.5 and r["val_loss_estimate"] < 3.5
    assert r["cache_max_error"] < 1e-4
    (text,) = r["samples"]
    assert len(text) == 60 and "sample 1" in out
    assert r["iters_per_second"] > 0 and r["chars_per_second_cached"] > 0
    assert_png(tmp_path / "gpt_shakespeare_loss.png")


def test_gpt_cache_matches_full_pass_and_restarts(gpt):
    """Incremental decoding with nn.KVCache gives the full pass's logits, and generation
    past block_size (a cache restart) keeps producing valid characters."""
    import shendu
    shendu.manual_seed(0)
    model = gpt.GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    ids = list(np.random.default_rng(0).integers(0, 11, size=8))
    assert gpt.check_cache(model, ids) < 1e-5
    out = gpt.generate(model, [0], 30, temperature=1.0, top_k=5, seed=1)
    assert len(out) == 30 and all(0 <= i < 11 for i in out)
    with pytest.raises(ValueError, match="block_size"):
        model(shendu.tensor(np.zeros((1, 9), dtype=np.int64)))


def test_gpt_weight_tying_and_decay_groups(gpt):
    # nanoGPT's "number of parameters: 0.80M" leaves out the 64 x 128 position table
    assert gpt.count_parameters(gpt.GPT(65)) == 804_096
    model = gpt.GPT(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
    assert model.lm_head.weight is model.wte.weight
    opt = gpt.make_optimizer(model, 1e-3)
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.ndim == 2 for p in decay["params"])
    assert all(p.ndim == 1 for p in no_decay["params"])   # LayerNorm weights
    # the shared matrix is counted (and updated) once
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_gpt_learning_rate_schedule(gpt):
    lr = [gpt.get_lr(it, 1e-3, 1e-4, 100, 2000) for it in range(2001)]
    assert lr[0] == pytest.approx(1e-3 / 101) and lr[99] == pytest.approx(1e-3 * 100 / 101)
    assert lr[100] == pytest.approx(1e-3) and lr[2000] == pytest.approx(1e-4)
    assert lr[1050] == pytest.approx(5.5e-4)  # half-way down the cosine
    assert all(a >= b for a, b in zip(lr[100:], lr[101:]))
