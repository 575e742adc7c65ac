"""shendu.wrappers: NetClassifier / NetRegressor as scikit-learn estimators, and the
Keras 3 forms keras.wrappers.SKLearnClassifier / SKLearnRegressor.

Covers the parameter protocol (get/set_params with routed module__* arguments, clone),
the model-selection tools (GridSearchCV over module__hidden and lr, cross_val_score,
Pipeline), label encoding, reproducibility, errors, partial_fit / warm_start, the
Keras-style build function, and scikit-learn's own check_estimator.
"""
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_iris  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import check_estimator  # noqa: E402

from shendu import keras, nn, optim  # noqa: E402
from shendu.wrappers import MLPModule, NetClassifier, NetRegressor  # noqa: E402


def iris():
    X, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def blobs(n=200, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, 2)
    return X, (X[:, 0] + X[:, 1] > 0).astype(int)


class TwoLayer(nn.Module):
    """A user network: the wrapper fills in_features / out_features."""

    def __init__(self, in_features, out_features, hidden=8, depth=1):
        super().__init__()
        layers, width = [], in_features
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.Tanh()]
            width = hidden
        self.body = nn.Sequential(*layers, nn.Linear(width, out_features))

    def forward(self, x):
        return self.body(x)


# ------------------------------------------------------------------ parameters
def test_get_set_params_route_module_arguments():
    clf = NetClassifier(TwoLayer, lr=0.01, module__hidden=16, optimizer__weight_decay=1e-4)
    params = clf.get_params()
    assert params["module"] is TwoLayer and params["lr"] == 0.01
    assert params["module__hidden"] == 16 and params["optimizer__weight_decay"] == 1e-4
    assert params["criterion"] is nn.CrossEntropyLoss and params["optimizer"] is optim.Adam
    assert clf.module__hidden == 16          # readable as an attribute, like skorch
    assert clf.set_params(module__hidden=32, lr=0.1) is clf
    assert clf.get_params()["module__hidden"] == 32 and clf.lr == 0.1
    with pytest.raises(ValueError, match="Invalid parameter"):
        clf.set_params(learning_rate=0.1)
    assert "module__hidden=32" in repr(clf)


def test_clone_is_unfitted_with_equal_params():
    X, y = blobs()
    clf = NetClassifier(module__hidden=4, max_epochs=2, random_state=0).fit(X, y)
    twin = clone(clf)
    assert twin.get_params() == clf.get_params()
    assert not hasattr(twin, "module_") and not hasattr(twin, "classes_")
    assert twin._routed is not clf._routed   # no shared state between clones


def test_routed_names_are_checked_at_fit():
    X, y = blobs()
    clf = NetClassifier(modul__hidden=4)      # __init__ only stores (scikit-learn's rule)
    with pytest.raises(TypeError, match="modul__hidden.*module__"):
        clf.fit(X, y)
    with pytest.raises(ValueError, match="lr must be a number > 0"):
        NetClassifier(lr=0).fit(X, y)
    with pytest.raises(ValueError, match="max_epochs must be an integer"):
        NetClassifier(max_epochs=2.5).fit(X, y)
    with pytest.raises(ValueError, match="either module=.*or model="):
        NetClassifier(TwoLayer, model=lambda: None).fit(X, y)


# ------------------------------------------------------------ model selection
def test_grid_search_over_hidden_and_lr():
    X, y = iris()
    grid = GridSearchCV(NetClassifier(max_epochs=25, batch_size=16, random_state=0),
                        {"module__hidden": [4, 32], "lr": [1e-4, 0.03]}, cv=3)
    grid.fit(X, y)
    assert len(grid.cv_results_["params"]) == 4
    assert grid.best_params_["lr"] == 0.03    # 1e-4 for 25 epochs is far from trained
    assert grid.best_score_ > 0.9
    assert grid.score(X, y) > 0.93
    assert isinstance(grid.best_estimator_.module_, MLPModule)


def test_cross_val_score_in_a_pipeline_with_standard_scaler():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(),
                         NetClassifier(module__hidden=16, lr=0.01, max_epochs=10,
                                       random_state=0))
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.93


def test_predict_proba_sums_to_one_and_string_labels():
    X, y = iris()
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = NetClassifier(TwoLayer, module__hidden=16, lr=0.03, max_epochs=30,
                        random_state=0).fit(X, names)
    assert clf.classes_.tolist() == ["setosa", "versicolor", "virginica"]
    assert clf.n_features_in_ == 4
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3) and (proba >= 0).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    pred = clf.predict(X)
    assert pred.dtype == names.dtype and set(pred) <= set(names)
    assert (pred == clf.classes_[proba.argmax(1)]).all()
    assert clf.score(X, names) > 0.93
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)
    assert len(clf.history_) == 30 and clf.history_[-1]["loss"] < clf.history_[0]["loss"]


def test_random_state_makes_fit_repeat():
    X, y = blobs()
    a = NetClassifier(module__dropout=0.2, max_epochs=3, random_state=7).fit(X, y)
    b = NetClassifier(module__dropout=0.2, max_epochs=3, random_state=7).fit(X, y)
    c = NetClassifier(module__dropout=0.2, max_epochs=3, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_regressor_r2_and_multioutput():
    rng = np.random.RandomState(0)
    X = rng.uniform(-1, 1, size=(400, 2))
    y = np.sin(3 * X[:, 0]) + X[:, 1] ** 2
    reg = NetRegressor(module__hidden=(32, 32), lr=0.01, max_epochs=60,
                       random_state=0).fit(X, y)
    assert reg.predict(X).shape == (400,) and reg.score(X, y) > 0.95
    Y = np.stack([y, -2 * X[:, 1]], axis=1)
    reg2 = NetRegressor(module__hidden=32, lr=0.01, max_epochs=60, random_state=0).fit(X, Y)
    assert reg2.n_outputs_ == 2 and reg2.predict(X).shape == (400, 2)
    assert reg2.score(X, Y) > 0.9


# ---------------------------------------------------------------- errors
def test_errors_on_bad_input():
    X, y = blobs()
    clf = NetClassifier(max_epochs=1)
    with pytest.raises(NotFittedError):
        clf.predict(X)
    with pytest.raises(NotFittedError):
        NetRegressor().predict(X)
    clf.fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but NetClassifier is expecting 2"):
        clf.predict(np.ones((4, 3)))
    with pytest.raises(ValueError, match="needs at least 2 classes.*got 1 class"):
        NetClassifier().fit(X, np.zeros(len(X)))
    with pytest.raises(ValueError, match="NaN"):
        clf.predict(np.full((2, 2), np.nan))
    with pytest.raises(ValueError, match="Unknown label type"):
        NetClassifier().fit(X, X[:, 0])            # continuous y for a classifier
    with pytest.raises(ValueError, match="out_features=3"):
        NetClassifier(nn.Linear, module__out_features=2, max_epochs=0).fit(
            np.ones((6, 2)), [0, 1, 2] * 2).predict(X)
    with pytest.raises(TypeError, match="must return a shendu nn.Module"):
        NetClassifier(module=lambda in_features, out_features: "net").fit(X, y)


def test_missing_sklearn_names_the_extra():
    code = ("import sys; sys.modules['sklearn'] = None\n"
            "import shendu.wrappers as w, shendu.keras as k\n"   # importing needs no sklearn
            "for get in (lambda: w.NetClassifier, lambda: k.wrappers.SKLearnRegressor):\n"
            "    try:\n        get()\n    except ImportError as e:\n        print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    lines = out.stdout.splitlines()
    assert len(lines) == 2, out.stderr
    assert lines[0] == ("shendu.wrappers.NetClassifier needs scikit-learn: "
                        "pip install shendu[sklearn]")
    assert lines[1].startswith("keras.wrappers.SKLearnRegressor needs scikit-learn: pip install")


# ---------------------------------------------------- partial_fit, warm_start
def test_partial_fit_and_warm_start_continue_training():
    X, y = blobs()
    clf = NetClassifier(module__hidden=8, lr=0.01, random_state=0)
    clf.partial_fit(X[:100], y[:100], classes=[0, 1, 2])
    assert clf.n_iter_ == 1 and clf.classes_.tolist() == [0, 1, 2]
    weights = clf.module_.net[0].weight.detach().numpy().copy()
    clf.partial_fit(X[100:], y[100:])
    assert clf.n_iter_ == 2 and not np.array_equal(
        weights, clf.module_.net[0].weight.detach().numpy())
    with pytest.raises(ValueError, match=r"labels \[5\]"):
        clf.partial_fit(X[:3], [0, 1, 5])

    warm = NetClassifier(max_epochs=3, warm_start=True, random_state=0).fit(X, y)
    first = warm.module_
    warm.fit(X, y)
    assert warm.module_ is first and warm.n_iter_ == 6
    cold = NetClassifier(max_epochs=3, random_state=0).fit(X, y)
    module = cold.module_
    assert cold.fit(X, y).module_ is not module and cold.n_iter_ == 3


def test_module_instance_is_copied_and_pickle_round_trip():
    X, y = blobs()
    net = TwoLayer(2, 2)
    start = net.body[0].weight.detach().numpy().copy()
    clf = NetClassifier(net, lr=0.01, max_epochs=3).fit(X, y)
    np.testing.assert_array_equal(net.body[0].weight.detach().numpy(), start)
    back = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(ValueError, match="not an instance"):
        NetClassifier(net, module__hidden=3).fit(X, y)


# ------------------------------------------------------------- Keras forms
def keras_build(in_features, out_features, hidden=16, loss="sparse_categorical_crossentropy",
                activation="softmax"):
    model = keras.Sequential([keras.Input(shape=(in_features,)),
                              keras.layers.Dense(hidden, activation="relu"),
                              keras.layers.Dense(out_features, activation=activation)])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss=loss)
    return model


def keras_style_build(X, y, hidden=16):
    """Keras 3's build-function form: called with X and y (one-hot for a classifier)."""
    if y.ndim == 2 and y.shape[1] > 1:
        return keras_build(X.shape[1], y.shape[1], hidden, "categorical_crossentropy")
    return keras_build(X.shape[1], 1, hidden, "mse", None)


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy",
                                  "categorical_crossentropy"])
def test_keras_build_function(loss):
    X, y = iris()
    clf = NetClassifier(model=keras_build, model__loss=loss, max_epochs=20, random_state=0)
    grid = GridSearchCV(clf, {"model__hidden": [2, 16]}, cv=3).fit(X, y)
    assert grid.best_params_ == {"model__hidden": 16} and grid.best_score_ > 0.85
    est = grid.best_estimator_
    assert isinstance(est.model_, keras.Model)
    np.testing.assert_allclose(est.predict_proba(X).sum(1), 1, atol=1e-5)
    again = clone(est).fit(X, y)            # seeded: the same weights
    np.testing.assert_allclose(again.predict_proba(X), est.predict_proba(X), atol=1e-6)
    with pytest.raises(ValueError, match="model__"):
        NetClassifier(model=keras_build, module__hidden=3).fit(X, y)


def test_keras_binary_sigmoid_and_regressor():
    X, y = blobs()

    def binary(in_features):
        m = keras.Sequential([keras.Input(shape=(in_features,)),
                              keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
        m.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy")
        return m
    clf = NetClassifier(model=binary, max_epochs=20, random_state=0).fit(X, y == 1)
    assert clf.classes_.tolist() == [False, True] and clf.score(X, y == 1) > 0.95
    assert clf.predict_proba(X).shape == (len(X), 2)

    def regression(X, y):
        m = keras.Sequential([keras.Input(shape=(X.shape[1],)),
                              keras.layers.Dense(32, activation="tanh"),
                              keras.layers.Dense(y.shape[1])])
        m.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
        return m
    target = np.sin(2 * X[:, 0])
    reg = NetRegressor(model=regression, max_epochs=60, random_state=0).fit(X, target)
    assert reg.predict(X).shape == (len(X),) and reg.score(X, target) > 0.95


def test_keras_wrappers_aliases():
    from shendu.keras.wrappers import SKLearnClassifier, SKLearnRegressor
    assert keras.wrappers.SKLearnClassifier is SKLearnClassifier
    X, y = iris()
    clf = SKLearnClassifier(keras_style_build, model_kwargs={"hidden": 16},
                            fit_kwargs={"epochs": 5, "verbose": 0})
    assert set(clf.get_params()) == {"model", "warm_start", "model_kwargs", "fit_kwargs"}
    clf.fit(X, y, epochs=30)                  # fit's kwargs win over fit_kwargs
    assert len(clf.history_) == 30 and clf.score(X, y) > 0.9
    assert pickle.loads(pickle.dumps(clf)).predict(X[:5]).shape == (5,)
    reg = SKLearnRegressor(keras_style_build,
                           fit_kwargs={"epochs": 2, "verbose": 0}).fit(X, X[:, 0])
    assert reg.predict(X).shape == (150,)


# ------------------------------------------------------------- check_estimator
def _check(estimator, expected):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, expected_failed_checks=expected, on_fail=None)
    failed = [(r["check_name"], repr(r["exception"])[:300]) for r in results
              if r["status"] == "failed"]
    assert not failed, failed
    xfailed = {r["check_name"] for r in results if r["status"] == "xfail"}
    assert xfailed <= set(expected)
    assert len(results) > 45
    return results


@pytest.mark.parametrize("cls", [NetClassifier, NetRegressor])
def test_check_estimator(cls):
    _check(cls(module__hidden=16, lr=0.02, max_epochs=10, random_state=0),
           cls.EXPECTED_FAILED_CHECKS)


def test_check_estimator_keras_build_function():
    _check(NetClassifier(model=keras_build, max_epochs=10, random_state=0),
           NetClassifier.EXPECTED_FAILED_CHECKS)


def test_check_estimator_keras_aliases():
    from shendu.keras.wrappers import SKLearnClassifier, SKLearnRegressor
    for cls in (SKLearnClassifier, SKLearnRegressor):
        _check(cls(keras_style_build, fit_kwargs={"epochs": 10, "verbose": 0}),
               cls.EXPECTED_FAILED_CHECKS)
