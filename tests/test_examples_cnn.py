"""Smoke tests with assertions for the CNN lesson examples: image_kernels.py, digits_cnn.py
and cnn_visualize.py (each ``main`` run with ``--quick``, its PNGs in a temporary folder).
"""

import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def mnist_data_dir():
    return data_dir_with("mnist/t10k-images-idx3-ubyte.gz")


# ---------------------------------------------------------------- image_kernels
def test_image_kernels_worked_example_and_figure(tmp_path, monkeypatch):
    ex = load_example("image_kernels", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    assert_png(result["png"], min_size=(900, 500))
    # the course's feature map, with its one slide slip (centre 1 -> 0) corrected
    np.testing.assert_array_equal(result["feature_map"], [[0, 1, 0, 0, 0],
                                                          [0, 1, 1, 1, 0],
                                                          [1, 0, 0, 2, 1],
                                                          [1, 4, 2, 1, 0],
                                                          [0, 0, 1, 2, 1]])
    np.testing.assert_array_equal(result["stride_2"], [[0, 0, 0], [1, 0, 1], [0, 1, 1]])
    assert result["padding_1"].shape == (7, 7)
    np.testing.assert_array_equal(result["padding_1"][1:-1, 1:-1], result["feature_map"])
    np.testing.assert_array_equal(result["pooled"], ex.COURSE_POOLED_MAP)
    assert [d[:2] for d in result["slips"]["feature map"]] == [(2, 2)]
    assert len(result["slips"]["padding 1"]) == 3

    outputs, image = result["outputs"], result["image"]
    assert len(outputs) == 9
    assert all(out.shape == image.shape for out in outputs.values())  # padding "same"
    np.testing.assert_allclose(outputs["Identity"], image, atol=1e-6)
    # kernels summing to 0 (edge detectors) give 0 on a flat patch; blurs keep the mean
    for name in ("Edge detection 1", "Edge detection 2", "Edge detection 3"):
        assert abs(ex.KERNELS[name].sum()) < 1e-12
        assert abs(outputs[name].sum()) < 1e-3 * np.abs(outputs[name]).sum() + 1e-3
    for name in ("Box blur", "Gaussian blur 3x3", "Gaussian blur 5x5"):
        assert outputs[name].max() < image.max()          # blurring lowers the peaks
        assert outputs[name].min() >= -1e-6
    np.testing.assert_allclose(ex.KERNELS["Unsharp masking 5x5"].sum(), 1.0)
    assert outputs["Sharpen"].max() > image.max()          # sharpening overshoots


def test_image_kernels_match_a_numpy_cross_correlation(monkeypatch):
    ex = load_example("image_kernels", monkeypatch)
    image = np.random.default_rng(0).random((11, 13)).astype(np.float32)
    ours = ex.apply_kernels(image)
    for name, kernel in ex.KERNELS.items():
        r = kernel.shape[0] // 2
        windows = np.lib.stride_tricks.sliding_window_view(np.pad(image, r), kernel.shape)
        expected = np.einsum("ijkl,kl->ij", windows, kernel)   # no flip: cross-correlation
        np.testing.assert_allclose(ours[name], expected, atol=1e-5, err_msg=name)


def test_image_kernels_falls_back_to_sklearn_digits(tmp_path, monkeypatch, capsys):
    ex = load_example("image_kernels", monkeypatch)
    image, source = ex.load_digit(tmp_path / "no-data-here")
    assert image.shape == (32, 32) and "scikit-learn" in source
    assert 0 <= image.min() and image.max() <= 1 and image.std() > 0.1
    assert "MNIST not found" in capsys.readouterr().out


# ---------------------------------------------------------------- digits_cnn
def test_digits_cnn(tmp_path, monkeypatch):
    ex = load_example("digits_cnn", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    assert_png(result["png"], min_size=(400, 400))
    assert_png(result["confusion_png"], min_size=(300, 300))
    assert result["n_test"] == 360 and result["epochs"] == 2
    losses = [loss for loss, _ in result["history"]]
    assert losses[-1] < 0.6 * losses[0]
    assert result["accuracy"] > 0.6                       # chance is 0.1
    assert result["predicted"].shape == (360,)


def test_digits_cnn_split_is_stratified_and_disjoint(monkeypatch):
    ex = load_example("digits_cnn", monkeypatch)
    X_train, X_test, y_train, y_test = ex.load_split()
    assert X_train.shape == (1437, 1, 8, 8) and X_test.shape == (360, 1, 8, 8)
    assert 0 <= X_train.min() and X_train.max() <= 1
    counts = np.bincount(y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37      # about 36 per class
    train_rows = {row.tobytes() for row in X_train.reshape(len(X_train), -1)}
    overlap = sum(row.tobytes() in train_rows for row in X_test.reshape(len(X_test), -1))
    assert overlap < 5   # a few digits of the data set are pixel-identical duplicates


# ---------------------------------------------------------------- cnn_visualize
def test_cnn_visualize(tmp_path, monkeypatch):
    data_dir = mnist_data_dir()
    ex = load_example("cnn_visualize", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data_dir)])
    assert result["source"] == "MNIST"
    for key in ("filters_init_png", "filters_png", "maps1_png", "maps2_png"):
        assert_png(result[key], min_size=(300, 150))
    losses = result["losses"]
    assert losses[-5:].mean() < 0.5 * losses[:5].mean()
    assert result["accuracy"] > 0.7                       # chance is 0.1
    assert result["filter_change"] > 0.05                 # the filters did learn
    assert 0 < result["roughness"] < 2


def test_cnn_visualize_smoothness_measure(monkeypatch):
    ex = load_example("cnn_visualize", monkeypatch)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(64, 1, 5, 5))
    ramp = np.broadcast_to(np.arange(5.0), (64, 1, 5, 5)) + 0.01 * noise
    assert 0.9 < ex.smoothness(noise) < 1.4
    assert ex.smoothness(ramp) < 0.5
