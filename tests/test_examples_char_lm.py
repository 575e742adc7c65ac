"""Smoke test of examples/char_lm.py (character LSTM language model on tiny-shakespeare).

The quick mode trains a small LSTM for 100 iterations on part of the text; reaching the
example's target (validation loss <= 1.60 nats/char) takes the full 10-minute run.
"""
import math

import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example


def shakespeare_data_dir():
    return data_dir_with("tinyshakespeare/input.txt")


def test_split_and_streams(monkeypatch):
    ex = load_example("char_lm", monkeypatch)
    vocab, train_ids, val_ids = ex.load_text(shakespeare_data_dir())
    assert len(vocab) == 65 and vocab.specials == ()
    assert (len(train_ids), len(val_ids)) == (1_003_854, 111_540)   # first 90% / last 10%
    assert vocab.decode(train_ids[:9]) == "First Cit"
    from shendu.datasets import tiny_shakespeare
    text = tiny_shakespeare(shakespeare_data_dir())
    np.testing.assert_array_equal(train_ids[:500], vocab.encode(text[:500]))
    np.testing.assert_array_equal(val_ids[-500:], vocab.encode(text[-500:]))
    # B contiguous streams: row b continues where row b - 1 ended
    data = ex.streams(np.arange(103), 4)
    assert data.shape == (4, 25)
    np.testing.assert_array_equal(data[1, :3], [25, 26, 27])
    # the learning rate: lr at the start, min_lr at (and after) the end of the budget
    assert ex.cosine_lr(0.0, 2e-3, 1e-4) == pytest.approx(2e-3)
    assert ex.cosine_lr(0.5, 2e-3, 1e-4) == pytest.approx(1.05e-3)
    assert ex.cosine_lr(1.3, 2e-3, 1e-4) == pytest.approx(1e-4)


def test_evaluate_carries_the_state_across_windows(monkeypatch):
    ex = load_example("char_lm", monkeypatch)
    import shendu
    shendu.manual_seed(0)
    model = ex.CharLM(10, hidden_size=16)
    ids = np.random.default_rng(0).integers(0, 10, 2001)
    # the state is carried from window to window, so the window length cannot matter
    whole = ex.evaluate(model, ids, batch_size=4, window=1000)
    assert ex.evaluate(model, ids, batch_size=4, window=37) == pytest.approx(whole, rel=1e-5)
    # a model that outputs equal logits scores ln V nats per character
    with shendu.no_grad():
        model.head.weight._data[...] = 0
        model.head.bias._data[...] = 0
    assert ex.evaluate(model, ids, batch_size=4, window=50) == pytest.approx(math.log(10))


def test_char_lm_quick(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(shakespeare_data_dir()))
    ex = load_example("char_lm", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    assert_png(result["png"], min_size=(600, 350))
    h = result["history"]
    assert result["iterations"] == 100 == len(h["train_loss"])
    assert result["tokens"] == 100 * 32 * 32
    # ln 65 = 4.17 at the start; 3.31 is the best a model ignoring context can do
    assert h["train_loss"][0] == pytest.approx(math.log(65), abs=0.1)
    assert np.mean(h["train_loss"][-20:]) < 3.0
    assert 1.5 < result["val_loss"] < 3.0
    assert result["val_loss"] == h["val_loss"][-1]
    for (temperature, top_k), text in result["samples"].items():
        assert text.startswith("ROMEO:\n") and len(text) == len("ROMEO:\n") + 60
        assert set(text) <= set(result["vocab"].itos)
    # temperature 0 is the argmax: no randomness left; temperature 1 depends on the seed
    model, vocab = result["model"], result["vocab"]
    greedy = [ex.generate(model, vocab, length=40, temperature=0, seed=s) for s in (1, 2)]
    assert greedy[0] == greedy[1]
    drawn = [ex.generate(model, vocab, length=40, temperature=1.0, seed=s) for s in (1, 2)]
    assert drawn[0] != drawn[1]
