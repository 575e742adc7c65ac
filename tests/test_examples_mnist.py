"""Smoke tests for the convolutional examples on MNIST and Fashion-MNIST (examples/).

Each example runs with ``--quick`` (600 training and 300 test images, 2 epochs of batch
32) and is checked for what can go wrong: the model is the one the docstring describes,
the training loss falls, the test accuracy is far above chance (10%) even after a few
dozen steps, the reported accuracy agrees with the predictions, and the PNGs are real
images. The full runs (>= 99% on MNIST, >= 91% on Fashion-MNIST) take many minutes and
belong to running the examples themselves. Tests that read the data skip when the IDX
files are not in the data folder.
"""

import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")


IDX = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def idx_data_dir(folder):
    """The data folder if ``folder`` holds the four IDX files, else a skip."""
    return data_dir_with(*(f"{folder}/{name}" for name in IDX))


# ---------------------------------------------------------------------- mnist_cnn
def test_mnist_cnn_quick(tmp_path, monkeypatch):
    data = idx_data_dir("mnist")
    ex = load_example("mnist_cnn", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data),
                      "--verbose", "0"])
    # keras.io's mnist_convnet: 320 + 18,496 + 16,010 weights
    model = result["model"]
    assert model.count_params() == 34826
    assert [type(layer).__name__ for layer in model.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "MaxPooling2D", "Flatten", "Dropout", "Dense"]
    history = result["history"]
    assert len(history["loss"]) == 2 and len(history["val_accuracy"]) == 2
    assert history["loss"][1] < history["loss"][0]
    # 34 steps of Adam on 540 digits are enough to be far above chance
    assert result["test_accuracy"] > 0.5, result["test_accuracy"]
    predicted, y_test = result["predicted"], result["y_test"]
    assert predicted.shape == y_test.shape == (300,)
    assert result["test_accuracy"] == pytest.approx(np.mean(predicted == y_test), abs=1e-6)
    assert 0 < result["test_loss"] < np.log(10)
    assert_png(result["digits_png"], min_size=(500, 200))
    assert_png(result["confusion_png"], min_size=(400, 400))
    assert result["errors_png"] is None  # the grid of mistakes is drawn by full runs only


# ---------------------------------------------------------------- fashion_mnist_cnn
def test_fashion_cnn_shapes_and_modes(monkeypatch):
    import shendu
    ex = load_example("fashion_mnist_cnn", monkeypatch)
    shendu.manual_seed(0)
    model = ex.FashionCNN()
    assert sum(p.numel() for p in model.parameters()) == 225130
    x = shendu.tensor(np.random.default_rng(0).standard_normal((4, 1, 28, 28),
                                                               dtype=np.float32))
    assert model(x).shape == (4, 10)
    model.eval()  # dropout off, batch norm on running statistics: deterministic
    with shendu.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())


def test_fashion_mnist_cnn_quick(tmp_path, monkeypatch):
    data = idx_data_dir("fashion-mnist")
    ex = load_example("fashion_mnist_cnn", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])
    history = result["history"]
    assert len(history["loss"]) == len(history["test_accuracy"]) == 2
    assert history["loss"][1] < history["loss"][0]
    assert result["test_accuracy"] > 0.5, result["test_accuracy"]
    assert result["test_accuracy"] == history["test_accuracy"][-1]
    predicted, y_test = result["predicted"], result["y_test"]
    assert predicted.shape == y_test.shape == (300,)
    assert result["test_accuracy"] == pytest.approx(np.mean(predicted == y_test))
    per_class = result["per_class_accuracy"]
    assert per_class.shape == (10,) and np.all((0 <= per_class) & (per_class <= 1))
    # trousers are the easiest class, far from every other one
    assert per_class[1] > 0.7
    assert_png(result["images_png"], min_size=(500, 200))
    assert_png(result["confusion_png"], min_size=(400, 400))
