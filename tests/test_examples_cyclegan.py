"""The CycleGAN lesson (examples/cyclegan_mnist.py) in quick mode: 2,000 training and 500
test digits, small networks and 40 steps; checks the two domains, that training moves
the losses the right way, that the measurements are consistent, the saved classifiers
are reused, and the pictures. The full run's targets (>= 90% of digits keep their class)
belong to running the lesson itself."""
import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")

IDX = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_domains_are_thickened_negatives(monkeypatch):
    ex = load_example("cyclegan_mnist", monkeypatch)
    x = np.zeros((1, 28, 28), np.float32)
    x[0, 10, 12] = 1.0
    a, b = ex.prepare(x, "A"), ex.prepare(x, "B")
    assert a.shape == b.shape == (1, 1, 32, 32)
    assert a.min() == -1 and a.max() == 1 and (a == 1).sum() == 1  # one white pixel
    # B: white background, the pixel grown to a dark 3x3 square, at the padded place
    assert (b == -1).sum() == 9 and np.all(b[0, 0, 11:14, 13:16] == -1)
    assert (b == 1).sum() == 32 * 32 - 9


def test_cyclegan_mnist_quick(tmp_path, monkeypatch):
    data = data_dir_with(*(f"mnist/{name}" for name in IDX))
    ex = load_example("cyclegan_mnist", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])
    history = result["history"]
    assert len(history["G"]) == 40
    for key in ("cycle_A", "cycle_B", "D_A", "D_B"):
        assert np.mean(history[key][-10:]) < np.mean(history[key][:10]), key
    # the classifiers learnt something from 2,000 digits in one epoch
    assert result["classifier_accuracy_A"] > 0.5 and result["classifier_accuracy_B"] > 0.5
    assert not result["classifiers_reused"]
    for key in ("keep_class_AB", "keep_class_BA"):
        assert 0.0 <= result[key] <= 1.0
    labels = result["test_labels"]
    assert result["fake_B"].shape == result["test_A"].shape == (500, 1, 32, 32)
    assert len(labels) == 500
    assert np.all(np.abs(result["fake_B"]) <= 1)
    assert result["truth_l1_AB"] == pytest.approx(
        np.mean(np.abs(result["fake_B"] - result["test_B"])), rel=1e-5)
    assert 0 < result["cycle_l1_A"] < 2 and 0 < result["cycle_l1_B"] < 2
    assert result["weights"].is_file()
    assert_png(result["translations_png"], min_size=(800, 500))
    assert_png(result["losses_png"], min_size=(800, 300))

    # a second run reuses the saved classifiers (same accuracies) and loads the weights
    again = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data),
                     "--steps", "2"])
    assert again["classifiers_reused"]
    assert again["classifier_accuracy_A"] == result["classifier_accuracy_A"]
    assert len(again["history"]["G"]) == 2
    gan = ex.build_cyclegan(**ex.QUICK_SIZES).load(again["weights"])
    np.testing.assert_allclose(gan.translate_A_to_B(again["test_A"][:8]).numpy(),
                               again["fake_B"][:8], atol=1e-6)
