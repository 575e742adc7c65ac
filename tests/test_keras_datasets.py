"""keras.datasets: Keras's load_data() format over shendu.datasets."""
import os
from pathlib import Path

import numpy as np
import pytest

from shendu import keras

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _root(folder):
    for root in (os.environ.get("SHENDU_DATA"), SHARED_DATA):
        if root and (Path(root) / folder).is_dir():
            return str(root)
    pytest.skip(f"dataset folder {folder}/ not found in $SHENDU_DATA or {SHARED_DATA}")


@pytest.mark.parametrize("name, folder", [("mnist", "mnist"), ("fashion_mnist", "fashion-mnist")])
def test_vision_load_data_in_keras_format(name, folder, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", _root(folder))
    (x_train, y_train), (x_test, y_test) = getattr(keras.datasets, name).load_data()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert y_train.shape == (60000,) and set(np.unique(y_test)) == set(range(10))
    assert x_train.max() == 255


def test_missing_files_say_where_to_put_them(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="mnist"):
        keras.datasets.mnist.load_data()


def test_tabular_extras_split_with_a_seed():
    from shendu.keras.datasets import _Tabular
    X = np.arange(300, dtype=np.float32).reshape(150, 2)
    y = np.arange(150) % 3
    fake = _Tabular(lambda return_X_y: (X, y), "fake")  # iris-sized, without scikit-learn
    (xa, ya), (xb, yb) = fake.load_data()
    (xa2, _), _ = fake.load_data()
    assert xa.shape == (120, 2) and xb.shape == (30, 2) and ya.dtype == y.dtype
    np.testing.assert_array_equal(xa, xa2)
    np.testing.assert_array_equal(np.sort(np.concatenate([xa, xb]), axis=0), X)
    (_, _), (xc, _) = fake.load_data(test_split=0.5, seed=1)
    assert len(xc) == 75
    assert callable(keras.datasets.iris.load_data) and callable(keras.datasets.digits.load_data)


def test_wine_quality_load_data(monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", _root("wine-quality"))
    (x_train, y_train), (x_test, y_test) = keras.datasets.wine_quality.load_data()
    assert x_train.shape[1] == 11 and len(x_train) + len(x_test) == 1599
    assert y_train.min() >= 3 and y_train.max() <= 8
