"""Quick run of examples/rbm_digits.py: scikit-learn's RBM-features pipeline with shendu's RBM.

The quick run (3,000 nudged digits, 5 RBM epochs) checks what it can show: shendu's RBM
sits in a scikit-learn Pipeline, its features beat logistic regression on the raw pixels,
it lands near scikit-learn's BernoulliRBM with the same settings, and the PNG is real.
"""
import warnings

import numpy as np
import pytest

from test_examples import assert_png, load_example

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def test_nudge_shifts_without_wrapping(monkeypatch):
    ex = load_example("rbm_digits", monkeypatch)
    X = np.zeros((1, 64))
    X[0, 0] = 1.0  # top-left pixel
    moved, labels = ex.nudge(X, np.array([7]))
    assert moved.shape == (5, 64) and list(labels) == [7] * 5
    images = moved.reshape(5, 8, 8)
    np.testing.assert_array_equal(images[0], X.reshape(8, 8))
    assert images[1][1, 0] == 1 and images[1].sum() == 1   # down
    assert images[2].sum() == 0                             # up: rolled over the edge
    assert images[3][0, 1] == 1 and images[3].sum() == 1   # right
    assert images[4].sum() == 0                             # left


def test_rbm_digits_quick(tmp_path, monkeypatch):
    ex = load_example("rbm_digits", monkeypatch)
    with warnings.catch_warnings():  # lbfgs at C = 6000 may stop at max_iter on few data
        warnings.simplefilter("ignore")
        result = ex.main(["--quick", "--out", str(tmp_path)])
    acc = result["accuracy"]
    assert acc["shendu RBM"] > acc["raw pixels"] + 0.03
    assert abs(acc["shendu RBM"] - acc["sklearn BernoulliRBM"]) < 0.05
    assert result["rbm"].components_.shape == (100, 64)
    assert_png(result["png"])
