"""``keras.datasets``: ``<name>.load_data()`` returning ``(x_train, y_train), (x_test,
y_test)`` in Keras's format, read with ``shendu.datasets`` (no download at load time).

* ``mnist``, ``fashion_mnist``: images ``(60000, 28, 28)`` / ``(10000, 28, 28)`` uint8 and
  labels uint8, exactly as Keras returns them. The files are looked for in the
  ``SHENDU_DATA`` folder (see ``shendu.datasets``); a missing file raises a
  ``FileNotFoundError`` that names it and the folder to put it in.
* shendu extras in the same format, split with a seeded shuffle (``test_split=0.2``,
  ``seed=113`` like Keras's ``boston_housing``): ``iris``, ``digits``, ``breast_cancer``
  (scikit-learn's bundled data, float32 features, int64 labels) and ``wine_quality``
  (``color="red"|"white"``; features float32, quality int64).

>>> from shendu.keras import datasets
>>> (x_train, y_train), (x_test, y_test) = datasets.iris.load_data()
>>> x_train.shape, x_test.shape, y_train.dtype
((120, 4), (30, 4), dtype('int64'))
"""
from __future__ import annotations

import numpy as np

from ..data import datasets as _ds

__all__ = ["mnist", "fashion_mnist", "iris", "digits", "breast_cancer", "wine_quality"]


class _Vision:
    def __init__(self, loader, name):
        self._loader = loader
        self.__name__ = name
        self.__doc__ = (f"``keras.datasets.{name}.load_data()``: ``((x_train, y_train), "
                        "(x_test, y_test))`` with uint8 images (N, 28, 28) and uint8 labels.")

    def load_data(self, path=None, data_dir=None):
        """``(x_train, y_train), (x_test, y_test)``: uint8 arrays as in Keras.

        ``data_dir`` (or ``path``, Keras's argument, taken as a folder) overrides the data
        folder; nothing is downloaded.
        """
        folder = data_dir if data_dir is not None else path
        x_train, y_train = self._loader("train", data_dir=folder)
        x_test, y_test = self._loader("test", data_dir=folder)
        return ((x_train.astype(np.uint8, copy=False), y_train.astype(np.uint8)),
                (x_test.astype(np.uint8, copy=False), y_test.astype(np.uint8)))


def _split(X, y, test_split, seed):
    if not 0 < test_split < 1:
        raise ValueError(f"test_split must be between 0 and 1, got {test_split}")
    order = np.random.default_rng(seed).permutation(len(X))
    X, y = X[order], y[order]
    n_train = int(round(len(X) * (1 - test_split)))
    return (X[:n_train], y[:n_train]), (X[n_train:], y[n_train:])


class _Tabular:
    def __init__(self, loader, name, **fixed):
        self._loader = loader
        self._fixed = fixed
        self.__name__ = name
        self.__doc__ = (f"``keras.datasets.{name}.load_data(test_split=0.2, seed=113)``: "
                        "``((x_train, y_train), (x_test, y_test))`` from shendu.datasets.")

    def load_data(self, test_split=0.2, seed=113, **kwargs):
        """``(x_train, y_train), (x_test, y_test)`` after a seeded shuffle."""
        X, y = self._loader(return_X_y=True, **{**self._fixed, **kwargs})
        return _split(np.asarray(X), np.asarray(y), test_split, seed)


mnist = _Vision(_ds.mnist, "mnist")
fashion_mnist = _Vision(_ds.fashion_mnist, "fashion_mnist")
iris = _Tabular(_ds.iris, "iris")
digits = _Tabular(_ds.digits, "digits")
breast_cancer = _Tabular(_ds.breast_cancer, "breast_cancer")
wine_quality = _Tabular(_ds.wine_quality, "wine_quality")
