"""Smoke tests with assertions for the recurrent-network lessons in examples/:
names_rnn.py (name -> language), vanishing_gradients.py (gradient per time step,
clipping) and addition_seq2seq.py (encoder-decoder LSTM with and without attention).

Each ``main`` runs with ``--quick`` (a few epochs or steps) and writes its PNGs into a
temporary folder; the full targets are reached by running the examples themselves.
"""

import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")


def names_data_dir():
    return data_dir_with("names/Russian.txt")


# ---------------------------------------------------------------- names_rnn
def test_names_rnn(tmp_path, monkeypatch):
    data_dir = names_data_dir()
    ex = load_example("names_rnn", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data_dir)])
    assert result["sizes"] == {"train": 16060, "val": 2007, "test": 2007}
    assert len(result["languages"]) == 18
    assert set(result["results"]) == {"RNN", "LSTM", "GRU"}
    for cell, r in result["results"].items():
        h = r["history"]
        assert h["loss"][-1] < 0.8 * h["loss"][0], cell
        # always answering Russian scores 0.47 (balanced 1/18 = 0.056)
        assert r["test_accuracy"] > 0.6, cell
        assert 0.1 < r["balanced_accuracy"] < r["test_accuracy"], cell
        assert 0.5 < r["unseen_accuracy"] <= 1.0, cell
        assert r["per_language"].shape == (18,)
        assert np.all((r["per_language"] >= 0) & (r["per_language"] <= 1))
    top = result["predict"]("Rahmaninov")
    assert len(top) == 3 and top[0][0] == "Russian"
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-6
    assert_png(result["confusion_png"], min_size=(800, 700))
    assert_png(result["curves_png"], min_size=(800, 300))


def test_names_padding_never_reaches_the_final_state(monkeypatch):
    """A name's logits are the same alone and in a padded batch with a longer name."""
    ex = load_example("names_rnn", monkeypatch)
    import shendu
    from shendu.data.text import Vocab
    vocab = Vocab(list("abcdefghijklmnopqrstuvwxyz"), level="char")
    for cell in ("RNN", "LSTM", "GRU"):
        shendu.manual_seed(0)
        model = ex.NameClassifier(cell, len(vocab), 5, hidden_size=16, embedding_dim=8)
        model.eval()
        ids, lengths = vocab.encode_batch(["abc", "wolfeschlegel"])
        alone_ids, alone_len = vocab.encode_batch(["abc"])
        with shendu.no_grad():
            batch = model(shendu.tensor(ids), lengths).numpy()
            alone = model(shendu.tensor(alone_ids), alone_len).numpy()
        np.testing.assert_allclose(batch[0], alone[0], rtol=1e-5, atol=1e-6)
        assert not np.allclose(batch[0], batch[1])


# ---------------------------------------------------------------- vanishing_gradients
def test_vanishing_gradients(tmp_path, monkeypatch):
    ex = load_example("vanishing_gradients", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    assert_png(result["png"], min_size=(1000, 800))
    cells = result["cells"]
    assert list(cells) == list(ex.CELLS)
    for name, n in cells.items():
        assert n.shape == (40,) and n[-1] == 1.0
        assert n[0] < 1e-2, name                  # default init: every cell forgets
    assert cells["RNN"][0] < cells["LSTM"][0] < cells["LSTM, forget bias 1"][0]
    k = np.arange(40)[::-1]
    for gamma, (zero, noisy) in result["powers"].items():
        # zero inputs: tanh' = 1 and the gradient is exactly gamma^k (the W^k argument)
        np.testing.assert_allclose(zero, gamma ** k, rtol=1e-10)
        assert noisy[0] < zero[0], gamma          # diag(tanh') < 1 pulls it down
    plain_losses, plain_norms = result["clipping"]["no clipping"]
    clip_losses, clip_norms = result["clipping"]["clip_grad_norm_(max_norm=1)"]
    assert len(plain_losses) == len(clip_losses) == 100
    assert not np.all(np.isfinite(plain_losses))  # explodes to inf/NaN
    assert np.nanmax(plain_norms[np.isfinite(plain_norms)]) > 1e10
    assert np.all(np.isfinite(clip_losses)) and clip_norms.max() < 1e3
    assert clip_losses[-50:].mean() < 20 / 12     # better than always answering 0


# ---------------------------------------------------------------- addition_seq2seq
def test_addition_seq2seq(tmp_path, monkeypatch):
    ex = load_example("addition_seq2seq", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    assert_png(result["png"], min_size=(1200, 350))
    data = result["data"]
    assert {k: len(v[0]) for k, v in data.items()} == {
        "train": 8000, "val": 300, "test": 300, "4-digit": 100, "5-digit": 100}
    assert not set(data["train"][0]) & set(data["test"][0])   # held out
    assert all(len(a) >= 4 for a in data["4-digit"][1])       # answers longer than any 3-digit
    assert set(result["results"]) == {"seq2seq", "seq2seq + attention"}
    for name, r in result["results"].items():
        h = r["history"]
        assert h["loss"][-1] < 0.9 * h["loss"][0], name
        # a random guess among the 10 digits and <eos> is right 1 time in 11
        assert h["val_char"][-1] > 0.2, name
        for part in ("test", "4-digit", "5-digit"):
            assert 0.0 <= r["exact"][part] <= r["char"][part] <= 1.0, (name, part)
            assert len(r["texts"][part]) == len(data[part][0])
    weights, question, written = result["results"]["seq2seq + attention"]["attention_map"]
    assert question == "543+21" and weights.shape == (len(written), 6)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-5)


def test_addition_exact_match_needs_the_whole_answer_and_eos(monkeypatch):
    ex = load_example("addition_seq2seq", monkeypatch)
    from shendu.datasets import addition_vocab
    vocab = addition_vocab()
    eos = vocab.eos_index

    def ids(text):
        return [vocab.stoi[c] for c in text]

    tokens = np.zeros((4, 6), np.int64)
    rows = [ids("357") + [eos], ids("35") + [eos], ids("3571"), ids("357") + [eos]]
    for i, row in enumerate(rows):
        tokens[i, :len(row)] = row
    lengths = np.array([4, 3, 4, 4])
    ok = ex.answer_correct(vocab, tokens, lengths, ["357", "357", "357", "358"])
    assert ok.tolist() == [True, False, False, False]


def test_addition_padding_never_reaches_the_decoder(monkeypatch):
    """A question's logits are the same alone and in a batch padded for a longer one,
    with and without attention (packed encoder, masked attention)."""
    ex = load_example("addition_seq2seq", monkeypatch)
    import shendu
    from shendu.datasets import addition_vocab, encode_addition
    vocab = addition_vocab()
    for attention in (False, True):
        shendu.manual_seed(0)
        model = ex.Seq2Seq(len(vocab), hidden_size=16, embedding_dim=8, attention=attention)
        model.eval()
        both = encode_addition(["2+1", "543+21"], ["3", "357"], vocab)
        alone = encode_addition(["2+1"], ["3"], vocab)
        with shendu.no_grad():
            z_both = model(shendu.tensor(both.src), both.src_lengths,
                           shendu.tensor(both.tgt_in)).numpy()
            z_alone = model(shendu.tensor(alone.src), alone.src_lengths,
                            shendu.tensor(alone.tgt_in)).numpy()
        assert z_both.shape == (2, 4, len(vocab))
        np.testing.assert_allclose(z_both[0, :2], z_alone[0], rtol=1e-5, atol=1e-6)
