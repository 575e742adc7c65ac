"""Quick runs of the scikit-learn lessons: grid_search_digits.py, classic_ml_iris.py and
churn_breast_cancer.py, which put shendu networks into scikit-learn's model selection
through shendu.wrappers.NetClassifier.

Each runs at reduced size (fewer samples, folds, epochs, grid points) and checks what the
reduced run can show: the search ranks a sensible winner, accuracies and AUCs clear
floors far above chance, the cost table adds up, and the PNGs are real images.
"""
import numpy as np
import pytest

from test_examples import assert_png, load_example

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def test_grid_search_digits_quick(monkeypatch):
    ex = load_example("grid_search_digits", monkeypatch)
    result = ex.main(["--quick"])
    res = result["cv_results"]
    assert len(res["params"]) == 4                      # the 2 x 2 quick grid
    assert result["best_params"]["net__lr"] == 1e-2     # 15 epochs: the larger rate wins
    assert result["best_cv_accuracy"] > 0.9
    assert result["test_accuracy"] > 0.9
    assert np.isclose(result["best_cv_accuracy"], res["mean_test_score"].max())


def test_classic_ml_iris_quick(tmp_path, monkeypatch):
    ex = load_example("classic_ml_iris", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    acc = result["accuracy"]
    assert len(acc) == 6 and any(name.startswith("shendu") for name in acc)
    for name, value in acc.items():
        assert value > 0.88, (name, value)    # 3 classes: chance is 0.33
    assert_png(result["png"], min_size=(900, 600))


def test_churn_costs_adds_up(monkeypatch):
    ex = load_example("churn_breast_cancer", monkeypatch)
    y = np.array([0, 0, 1, 1, 1])
    p = np.array([0.2, 0.6, 0.4, 0.8, 0.1])
    table = ex.costs(y, p, thresholds=(0.3, 0.5))
    np.testing.assert_array_equal(table[0.3]["matrix"], [[1, 1], [1, 2]])
    np.testing.assert_array_equal(table[0.5]["matrix"], [[1, 1], [2, 1]])
    assert table[0.3]["cost"] == ex.COST_FN * 1 + ex.COST_FP * 1
    assert table[0.5]["cost"] == ex.COST_FN * 2 + ex.COST_FP * 1


def test_churn_breast_cancer_quick(tmp_path, monkeypatch):
    ex = load_example("churn_breast_cancer", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    assert len(result["cv_scores"]) == 5 and result["cv_scores"].mean() > 0.9
    assert result["best_cv_auc"] > 0.9
    assert result["test_auc"] > 0.95 and result["logistic_auc"] > 0.95
    assert result["test_accuracy"] > 0.9
    fn = [r["matrix"][1, 0] for r in result["thresholds"].values()]
    fp = [r["matrix"][0, 1] for r in result["thresholds"].values()]
    # a higher threshold never catches more positives, never raises more false alarms
    assert fn == sorted(fn) and fp == sorted(fp, reverse=True)
    for r in result["thresholds"].values():
        assert r["matrix"].sum() == 143
    assert_png(result["png"], min_size=(1200, 350))
