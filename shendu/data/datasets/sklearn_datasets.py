"""Classic small datasets that ship inside scikit-learn (no download): iris, digits,
breast cancer.

scikit-learn is an optional dependency: ``pip install shendu[sklearn]`` (or
``pip install scikit-learn``). Each loader returns a ``Bunch`` with ``data`` (float32
by default, ready for shendu's float32 models), ``target`` (int64), ``feature_names``,
``target_names`` and ``DESCR``; ``return_X_y=True`` returns ``(data, target)`` instead.

>>> from shendu.datasets import iris
>>> X, y = iris(return_X_y=True); X.shape, X.dtype, y.dtype
((150, 4), dtype('float32'), dtype('int64'))
"""
from __future__ import annotations

import numpy as np

from .bunch import Bunch

__all__ = ["iris", "digits", "breast_cancer"]


def _sklearn_datasets(who):
    try:
        from sklearn import datasets
    except ImportError:
        raise ImportError(f"shendu.datasets.{who}() loads the copy that ships with scikit-learn, "
                          f"which is not installed: `pip install shendu[sklearn]` or "
                          f"`pip install scikit-learn`") from None
    return datasets


def _convert(raw, who, dtype, return_X_y, extra=()):
    data = np.asarray(raw.data, dtype=dtype)
    target = np.asarray(raw.target, dtype=np.int64)
    if return_X_y:
        return data, target
    out = Bunch(data=data, target=target,
                feature_names=list(raw.feature_names),
                target_names=[str(n) for n in raw.target_names],
                DESCR=raw.DESCR)
    for key in extra:
        out[key] = np.asarray(raw[key], dtype=dtype)
    return out


def iris(return_X_y=False, dtype=np.float32):
    """Fisher's iris: 150 flowers, 4 measurements (cm), 3 species (50 each).

    Returns a ``Bunch``: data (150, 4) ``dtype``, target (150,) int64 in {0, 1, 2},
    feature_names, target_names (``['setosa', 'versicolor', 'virginica']``), DESCR.
    """
    return _convert(_sklearn_datasets("iris").load_iris(), "iris", dtype, return_X_y)


def digits(return_X_y=False, dtype=np.float32):
    """1797 handwritten digits as 8x8 images with pixel values 0..16.

    Returns a ``Bunch``: data (1797, 64) ``dtype``, images (1797, 8, 8) ``dtype``,
    target (1797,) int64 in 0..9, feature_names, target_names, DESCR.
    """
    return _convert(_sklearn_datasets("digits").load_digits(), "digits", dtype, return_X_y,
                    extra=("images",))


def breast_cancer(return_X_y=False, dtype=np.float32):
    """Wisconsin diagnostic breast cancer: 569 samples, 30 features, 2 classes.

    Returns a ``Bunch``: data (569, 30) ``dtype``, target (569,) int64 (0 malignant,
    1 benign, as in scikit-learn), feature_names, target_names, DESCR.
    """
    return _convert(_sklearn_datasets("breast_cancer").load_breast_cancer(), "breast_cancer",
                    dtype, return_X_y)
