"""Quick run of examples/ctc_mnist_strips.py (CTC on strips of MNIST digits).

Checked: the strips hold the digits their labels name, in order and without overlap
when spaced a full digit apart; the model emits (T=35, N, 11) log-probabilities; a quick
training run lowers the CTC loss; greedy decoding gives well-formed digit lists; the
PNG is an image. The full figure (in the lesson's docstring) takes minutes."""
import numpy as np
import pytest

import shendu
from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")


def test_strips_hold_their_digits_in_order(monkeypatch):
    ex = load_example("ctc_mnist_strips", monkeypatch)
    # digit d is a bar of brightness (d + 1) / 10 in its own rows: its ink says which it is
    digits = np.zeros((10, 28, 28), np.float32)
    for d in range(10):
        digits[d, 4:24, 10:18] = (d + 1) / 10
    images, targets, lengths = ex.make_strips(digits, np.arange(10), 300,
                                              np.random.default_rng(2), min_step=28)
    assert images.shape == (300, 1, 28, 140) and targets.shape == (300, 5)
    assert set(lengths.tolist()) == {3, 4, 5}
    for img, tgt, n in zip(images, targets, lengths):
        assert (tgt[:n] >= 1).all() and (tgt[n:] == 0).all()
        # no overlap at a full-digit spacing: the ink is the sum of the digits' ink
        np.testing.assert_allclose(img.sum(), sum(digits[t - 1].sum() for t in tgt[:n]),
                                   rtol=1e-5)
        columns = img[0].max(axis=0)                    # brightness per column, left to right
        runs = [v for i, v in enumerate(columns) if v > 0 and (i == 0 or columns[i - 1] != v)]
        assert [round(v * 10) for v in runs] == tgt[:n].tolist()
    assert ex.to_text([4, 2, 10]) == "3 1 9"


def test_model_emits_time_first_log_probabilities(monkeypatch):
    ex = load_example("ctc_mnist_strips", monkeypatch)
    shendu.manual_seed(0)
    model = ex.StripReader()
    lp = model(shendu.zeros(2, 1, 28, 140))
    assert lp.shape == (35, 2, 11)
    np.testing.assert_allclose(np.exp(lp.detach().numpy()).sum(axis=2), 1.0, rtol=1e-5)


def test_quick_training_lowers_the_loss_and_decodes(tmp_path, monkeypatch):
    data_dir_with("mnist/train-images-idx3-ubyte.gz", "mnist/t10k-images-idx3-ubyte.gz")
    ex = load_example("ctc_mnist_strips", monkeypatch)
    r = ex.main(["--quick", "--out", str(tmp_path)])
    losses = r["losses"]
    assert len(losses) == 40 and all(np.isfinite(losses))
    assert np.mean(losses[-5:]) < 0.6 * np.mean(losses[:5])
    assert len(r["greedy"]) == 64
    for seq in r["greedy"]:
        assert all(isinstance(c, int) and 1 <= c <= 10 for c in seq) and len(seq) <= 35
    assert 0.0 <= r["greedy_exact"] <= 1.0 and 0.0 <= r["beam_exact"] <= 1.0
    assert r["log_probs"].shape == (35, 64, 11)
    assert_png(r["png"], min_size=(600, 600))
