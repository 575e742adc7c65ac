"""The GAN lessons with ``--quick``: examples/dcgan_mnist.py (DCGAN on MNIST, PyTorch-style
loop, scored by a CNN judge) and examples/gan_keras_train_step.py (keras.io's GAN class
with its own train_step, on 8 Gaussians). A few steps cannot draw digits; the tests check
what the lessons compute: the networks the docstrings describe, the judge's accuracy
against its predictions, the Inception scores' bounds, the losses and metrics fit
records, and the PNGs. The full runs' figures (IS >= 8 with all ten digits) take many
minutes and belong to running the lessons themselves."""
import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")

IDX = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def test_dcgan_mnist_quick(tmp_path, monkeypatch):
    data = data_dir_with(*(f"mnist/{name}" for name in IDX))
    ex = load_example("dcgan_mnist", monkeypatch)
    argv = ["--quick", "--out", str(tmp_path), "--data-dir", str(data)]
    result = ex.main(argv)
    assert result["n_params"] == (347073, 36577)  # the docstring's networks
    history = result["history"]
    assert sorted(history) == ["d_fake", "d_loss", "d_real", "g_loss"]
    assert len(history["d_loss"]) == 2
    assert all(0 < v < 1 for v in history["d_real"] + history["d_fake"])
    # D learns first: it rates real digits above G's fakes
    assert history["d_real"][-1] > history["d_fake"][-1]
    # the judge (1 epoch on 2,000 digits) is far above chance; it scores real test digits
    # well above a constant guess's 1 and below the bound 10
    assert result["judge_accuracy"] > 0.5
    assert 1.2 < result["real_score"].score <= 10
    score = result["score"]
    assert 1.0 <= score.score <= 10 and int(score.class_counts.sum()) == 500
    assert score.classes_covered == int((score.class_counts > 0).sum())
    assert len(result["grids"]) == 2
    for png in result["grids"] + [result["final_png"]]:
        assert_png(png, min_size=(200, 200))
    assert_png(result["losses_png"], min_size=(400, 250))
    if result["torch"] is not None:
        assert 1.0 <= result["torch"]["score"] <= 10
        assert_png(result["torch"]["final_png"], min_size=(200, 200))
    # a second run reuses the saved judge instead of training it again
    assert result["judge_path"].exists()
    x_test, y_test = ex.load_digits(data, "test", 1000)
    lines = []
    judge, acc, _ = ex.get_classifier(tmp_path, None, None, x_test, y_test, epochs=1,
                                      quick=True, log=lines.append)
    assert lines[0].startswith("judge: loaded") and acc == result["judge_accuracy"]


def test_gan_keras_train_step_quick(tmp_path, monkeypatch, capsys):
    ex = load_example("gan_keras_train_step", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--verbose", "1"])
    run = result["runs"][0]
    # train_step's dict reaches History: one entry per epoch for each of its two keys
    assert sorted(run["history"]) == ["d_loss", "g_loss"]
    assert len(run["history"]["d_loss"]) == 4 and len(run["modes"]) == 4
    assert all(np.isfinite(run["history"]["d_loss"]))
    out = capsys.readouterr().out
    assert "Epoch 4/4" in out and "d_loss:" in out and "g_loss:" in out
    gan = result["gan"]
    assert gan.optimizer is None  # the custom compile keeps its two optimizers itself
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 4 * 16
    assert result["samples"].shape == (2500, 2)
    assert 0 <= run["modes"][-1] <= 8 and 0.0 <= run["quality"][-1] <= 1.0
    assert_png(result["png"], min_size=(800, 250))


def test_mode_score():
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "examples" / "gan_keras_train_step.py"
    spec = importlib.util.spec_from_file_location("gan_keras_train_step_", path)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)
    # the real data covers all 8 modes with (almost) every point within 3 std
    modes, quality = ex.mode_score(ex.ring_of_gaussians(4000, seed=1))
    assert modes == 8 and quality > 0.98  # P(|N(0, I_2)| < 3) = 1 - e^-4.5 = 0.989
    # points at the centre are far from every mode; one mode alone covers 1 of 8
    assert ex.mode_score(np.zeros((100, 2))) == (0, 0.0)
    assert ex.mode_score(np.tile(ex.mode_centres()[:1], (100, 1))) == (1, 1.0)
