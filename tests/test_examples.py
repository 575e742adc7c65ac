"""Smoke tests with assertions for the lesson examples in examples/.

Each example is imported from its file and its ``main`` runs with ``--quick`` (a few
epochs or steps), writing its PNG into a temporary folder. The assertions check that the
numbers make sense (losses fall, gradients agree, accuracies beat chance by far, early
stopping restores the best weights) and that the PNGs are real images. Reaching the
examples' full targets takes minutes and belongs to running the examples themselves.
"""
import importlib.util
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

pytest.importorskip("matplotlib")


def load_example(name, monkeypatch):
    """Import examples/<name>.py as a module (examples/ on sys.path for their imports)."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_png(path, min_size=(300, 200)):
    """A complete PNG file (signature, IHDR, IDAT data that decompresses, IEND) of at least
    ``min_size`` pixels, whose pixels are not all the same."""
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= min_size[0] and height >= min_size[1], (width, height)
    assert data[-8:-4] == b"IEND", f"{path} is truncated"
    idat, pos = b"", 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8)
    assert raw.std() > 5, f"{path} looks blank"


def data_dir_with(*files):
    """The data folder ($SHENDU_DATA, else ../shared/data beside the repository) if it
    holds every one of ``files`` (paths inside it; ``x.gz`` may also be there unzipped),
    else a skip naming the missing ones."""
    if os.environ.get("SHENDU_DATA"):
        root = Path(os.environ["SHENDU_DATA"])
    else:
        root = Path(__file__).resolve().parents[2] / "shared" / "data"
    missing = [f for f in files if not (root / f).is_file()
               and not (f.endswith(".gz") and (root / f[:-3]).is_file())]
    if missing:
        pytest.skip(f"not found in {root}: {', '.join(missing)} (set SHENDU_DATA to the "
                    "data folder)")
    return root


def wine_data_dir():
    return data_dir_with("wine-quality/winequality-red.csv")


# ---------------------------------------------------------------- optimizers_compared
def test_optimizers_compared(tmp_path, monkeypatch):
    ex = load_example("optimizers_compared", monkeypatch)
    result = ex.main(["--out", str(tmp_path), "--quick"])
    assert_png(result["png"], min_size=(1000, 400))
    assert len(result["finals"]) == 14  # 7 optimizers x 2 functions
    for panel, paths in zip(ex.PANELS, result["paths"]):
        assert set(paths) == {"SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop",
                              "AdaDelta", "Adam"}
        start_loss = panel["f"](*panel["start"])
        for name, path in paths.items():
            assert path.shape == (11, 2)
            assert np.all(np.isfinite(path))
            assert panel["f"](*path[-1]) < start_loss, (panel["title"], name)


def test_optimizers_compared_first_sgd_step_is_the_course_formula(monkeypatch):
    ex = load_example("optimizers_compared", monkeypatch)
    from shendu import optim
    # x <- x - lr * grad, grad of x^2/20 + y^2 at (-7, 2) is (-0.7, 4)
    path = ex.optimize(ex.bowl, (-7.0, 2.0), lambda p: optim.SGD(p, lr=0.1), steps=1)
    np.testing.assert_allclose(path, [[-7.0, 2.0], [-6.93, 1.6]], rtol=1e-12)
    # Beale's minimum is a fixed point: its gradient is zero there
    path = ex.optimize(ex.beale, (3.0, 0.5), lambda p: optim.Adam(p, lr=0.1), steps=5)
    np.testing.assert_allclose(path[-1], [3.0, 0.5], atol=1e-12)


# ---------------------------------------------------------------- iris_two_layer
def test_iris_two_layer(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    ex = load_example("iris_two_layer", monkeypatch)
    result = ex.main(["--out", str(tmp_path), "--quick"])
    assert_png(result["png"], min_size=(800, 400))
    (check,) = result["checks"]
    assert check["n_params"] == 4 * 5 + 5 + 5 * 3 + 3
    assert check["max_abs_diff"] < 1e-7      # numerical and backprop gradients agree
    assert check["ratio"] > 3                # backprop is faster even for 43 parameters
    losses = result["losses"]
    assert losses[-50:].mean() < 0.5 * losses[:50].mean()
    assert result["train_accuracy"] > 0.9
    assert len(result["fold_accuracies"]) == 5
    assert result["cv_accuracy"] > 0.85
    assert result["confusion"].sum() == 150 and result["confusion"].shape == (3, 3)


def test_iris_numerical_gradient_matches_backprop_on_random_batch(monkeypatch):
    ex = load_example("iris_two_layer", monkeypatch)
    import shendu
    rng = np.random.default_rng(1)
    X = rng.normal(size=(7, 4))
    Y = np.eye(3)[rng.integers(0, 3, 7)]
    shendu.manual_seed(3)
    net = ex.TwoLayerNet(4, 6, 3, dtype=shendu.float64)
    x, y = shendu.tensor(X, dtype=shendu.float64), shendu.tensor(Y, dtype=shendu.float64)
    numeric, backprop = net.numerical_gradient(x, y), net.gradient(x, y)
    assert set(numeric) == {"W1", "b1", "W2", "b2"}
    for key in numeric:
        assert numeric[key].shape == net.params[key].shape
        np.testing.assert_allclose(numeric[key], backprop[key], atol=1e-8)
    # the loss is the course's batch cross-entropy of the softmax
    z = net.logits(x).detach().numpy()
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    assert net.loss(x, y).item() == pytest.approx(-(Y * np.log(p)).sum() / 7, rel=1e-12)


# ---------------------------------------------------------------- digits_mlp
def test_digits_mlp(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    ex = load_example("digits_mlp", monkeypatch)
    result = ex.main(["--out", str(tmp_path), "--quick"])
    assert_png(result["png"], min_size=(500, 500))
    assert len(result["fold_accuracies"]) == 2
    assert result["accuracy"] > 0.85          # 2 epochs already beat chance (0.1) by far
    for curve in result["curves"]:
        assert len(curve) == 2 and curve[1] < curve[0]
    assert result["predicted"].shape == (1797,)
    assert set(np.unique(result["predicted"])) <= set(range(10))


# ---------------------------------------------------------------- red_wine
def test_red_wine_split_is_pandas_sample(monkeypatch):
    ex = load_example("red_wine", monkeypatch)
    X_train, X_valid, y_train, y_valid = ex.load_red_wine(wine_data_dir())
    assert X_train.shape == (1119, 11) and X_valid.shape == (480, 11)
    assert y_train.shape == (1119,) and y_valid.shape == (480,)
    assert X_train.dtype == np.float32 and y_train.dtype == np.float32
    # fitted on the training split: it spans exactly [0, 1]; validation only roughly
    np.testing.assert_allclose(X_train.min(axis=0), 0)
    np.testing.assert_allclose(X_train.max(axis=0), 1)
    assert (y_train.min(), y_train.max()) == (0, 1)
    # pandas 3.1: red_wine.sample(frac=0.7, random_state=0).index[:5] is
    # [1109, 1032, 1002, 487, 979], and the first row is this wine (quality 6 -> 0.6)
    from shendu.datasets import wine_quality
    X, q = wine_quality("red", data_dir=wine_data_dir(), return_X_y=True, dtype=np.float64)
    first = np.array([10.8, 0.47, 0.43, 2.1, 0.171, 27.0, 66.0, 0.9982, 3.17, 0.76, 10.8])
    np.testing.assert_allclose(X[1109], first)
    train_rows = X[np.random.RandomState(0).permutation(1599)[:1119]]
    lo, hi = train_rows.min(axis=0), train_rows.max(axis=0)
    np.testing.assert_allclose(X_train[0], (first - lo) / (hi - lo), rtol=1e-6)
    assert y_train[0] == pytest.approx((6 - 3) / (8 - 3))
    # df_valid = red_wine.drop(df_train.index) keeps file order: rows 0, 3, 7, 11, 23 ...
    np.testing.assert_allclose(X_valid[:3], ((X[[0, 3, 7]] - lo) / (hi - lo)), rtol=1e-6)


def test_red_wine(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(wine_data_dir()))
    ex = load_example("red_wine", monkeypatch)
    result = ex.main(["--out", str(tmp_path), "--quick"])
    assert_png(result["png"], min_size=(600, 400))
    h = result["history"]
    assert len(h["loss"]) == 5 and len(h["val_loss"]) == 5
    assert h["loss"][-1] < h["loss"][0]
    assert result["best_val_mae"] < 0.2       # predicting the mean gives about 0.13
    # restore_best_weights: the model left after fit is the one of EarlyStopping's best epoch
    kept = result["restored_epoch"]
    assert result["restored_val_mae"] == pytest.approx(h["val_loss"][kept], abs=1e-4)
    assert result["restored_val_mae"] == pytest.approx(result["early_stopping_best"], abs=1e-4)
    assert h["val_loss"][kept] <= min(h["val_loss"]) + 0.001   # within min_delta of the best


# ---------------------------------------------------------------- overfitting
def test_overfitting(tmp_path, monkeypatch):
    monkeypatch.setenv("SHENDU_DATA", str(wine_data_dir()))
    ex = load_example("overfitting", monkeypatch)
    result = ex.main(["--out", str(tmp_path), "--quick"])
    assert_png(result["png"], min_size=(1000, 700))
    histories = result["histories"]
    assert set(histories) == {name for _, names in ex.PANELS for name in names}
    for name, h in histories.items():
        assert len(h["loss"]) == 3, name       # patience 20: nothing stops within 3 epochs
        assert all(np.isfinite(h["loss"] + h["val_loss"])), name
    assert histories["3x512"]["loss"][-1] < histories["3x512"]["loss"][0]
    # the same seed, the same first layers: dropout changes the training curve
    assert histories["3x512 + Dropout(0.3)"]["loss"] != histories["3x512"]["loss"]


# ---------------------------------------------------------------- binary_classification
def test_roc_curve_and_auc_by_hand(monkeypatch):
    ex = load_example("binary_classification", monkeypatch)
    y = np.array([0.0, 0.0, 1.0, 1.0])
    s = np.array([0.1, 0.4, 0.35, 0.8])
    fpr, tpr = ex.roc_curve(y, s)
    np.testing.assert_allclose(fpr, [0, 0, 0.5, 0.5, 1])
    np.testing.assert_allclose(tpr, [0, 0.5, 0.5, 1, 1])
    assert ex.auc(fpr, tpr) == pytest.approx(0.75)
    # ties and many thresholds: the same as scikit-learn (ties count one half)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.4).astype(np.float64)
    s = np.round(rng.random(300) + 0.5 * y, 1)
    assert ex.auc(*ex.roc_curve(y, s)) == pytest.approx(sklearn_metrics.roc_auc_score(y, s),
                                                         rel=1e-12)
    assert ex.auc(*ex.roc_curve(y, 2 * y)) == pytest.approx(1.0)


def test_binary_classification(tmp_path, monkeypatch):
    pytest.importorskip("sklearn")
    ex = load_example("binary_classification", monkeypatch)
    result = ex.main(["--out", str(tmp_path), "--quick"])
    assert_png(result["png"], min_size=(800, 400))
    h = result["history"]
    assert {"loss", "val_loss", "binary_accuracy", "val_binary_accuracy"} <= set(h)
    assert h["loss"][-1] < h["loss"][0]
    scores = result["scores"]
    assert scores.shape == result["y_test"].shape == (171,)
    assert np.all((scores > 0) & (scores < 1))   # sigmoid outputs
    assert result["auc"] > 0.95
    assert 0 <= result["test_accuracy"] <= 1
