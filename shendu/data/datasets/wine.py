"""Wine Quality (Cortez et al. 2009, UCI; CC BY 4.0): physicochemical tests of
Portuguese "Vinho Verde" wines and their quality grade.

The files go in ``<data dir>/wine-quality/``: ``winequality-red.csv`` (1599 wines) and
``winequality-white.csv`` (4898 wines), ';'-separated with a header line;
``winequality.names`` (optional) becomes ``DESCR``.

>>> from shendu.datasets import wine_quality              # doctest: +SKIP
>>> X, y = wine_quality("red", return_X_y=True)           # doctest: +SKIP
>>> X.shape, X.dtype, y.dtype                             # doctest: +SKIP
((1599, 11), dtype('float32'), dtype('int64'))
"""
from __future__ import annotations

import csv

import numpy as np

from .bunch import Bunch
from .paths import find_dataset_files

__all__ = ["wine_quality"]

_SOURCE = ("the UCI Machine Learning Repository, Wine Quality "
           "(https://archive.ics.uci.edu/dataset/186/wine+quality)")


def _read_csv(path):
    with open(path, newline="", encoding="ascii") as f:
        header = next(csv.reader(f, delimiter=";"), None)
    if not header or len(header) != 12 or header[-1] != "quality":
        raise ValueError(f"wine_quality: {path} does not look like a Wine Quality file: expected a "
                         f"';'-separated header of 12 columns ending with \"quality\", got {header!r}")
    try:
        table = np.loadtxt(path, delimiter=";", skiprows=1, ndmin=2)
    except ValueError as e:
        raise ValueError(f"wine_quality: can't parse {path} as ';'-separated numbers: {e}") from None
    if table.shape[1] != 12:
        raise ValueError(f"wine_quality: {path} has rows of {table.shape[1]} values, expected 12")
    return header, table


def wine_quality(color="red", data_dir=None, return_X_y=False, dtype=np.float32):
    """Load the red or white Wine Quality table.

    Parameters
    ----------
    color : "red" (1599 wines) or "white" (4898 wines)
    data_dir : folder holding ``wine-quality/``; default ``$SHENDU_DATA`` or
        ``~/.shendu/datasets``
    return_X_y : bool, default False
        True: return ``(X, y)`` instead of a Bunch.
    dtype : dtype of X, default float32

    Returns
    -------
    Bunch with ``data`` X (n, 11) ``dtype`` (fixed acidity ... alcohol), ``target`` y (n,)
    int64 quality grades (3..9 in the data), ``feature_names`` (11 names), ``target_names``
    (``["quality"]``), ``DESCR``, ``color``.
    """
    if color not in ("red", "white"):
        raise ValueError(f"wine_quality: color must be 'red' or 'white', got {color!r}")
    name = f"winequality-{color}.csv"
    (path,) = find_dataset_files("wine_quality", "wine-quality", [name], data_dir,
                                 source=_SOURCE)
    header, table = _read_csv(path)
    X = table[:, :11].astype(dtype)
    quality = table[:, 11]
    if not np.array_equal(quality, np.round(quality)):
        raise ValueError(f"wine_quality: {path} has non-integer quality grades")
    y = quality.astype(np.int64)
    if return_X_y:
        return X, y
    names_file = path.parent / "winequality.names"
    descr = names_file.read_text(encoding="utf-8", errors="replace") if names_file.is_file() \
        else "Wine Quality (Cortez et al. 2009): see " + _SOURCE
    return Bunch(data=X, target=y, feature_names=header[:11], target_names=["quality"],
                 DESCR=descr, color=color)
