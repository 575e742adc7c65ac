"""Tests for shendu.models.dbn: greedy layer-wise pre-training, the nn.Sequential built
from the RBMs, fine-tuning with backpropagation, generation, save/load."""
import numpy as np
import pytest

import shendu
from shendu.models.dbn import DBN, predict_proba, train_classifier
from shendu.models.rbm import RBM


def binary_data(n=120, d=16, seed=0):
    rng = np.random.default_rng(seed)
    prototypes = (rng.random((3, d)) < 0.4).astype(float)
    labels = rng.integers(0, 3, n)
    flips = rng.random((n, d)) < 0.1
    return np.abs(prototypes[labels] - flips), labels


def test_greedy_layer_wise_training():
    X, _ = binary_data()
    dbn = DBN((10, 6), n_iter=3, learning_rate=0.05, random_state=0).fit(X)
    assert [r.components_.shape for r in dbn.rbms_] == [(10, 16), (6, 10)]
    assert dbn.n_features_in_ == 16
    # layer 2 is an RBM trained on layer 1's hidden probabilities, with its own seed
    seeds = np.random.RandomState(0).randint(0, 2 ** 31 - 1, 2)
    second = RBM(6, n_iter=3, learning_rate=0.05, random_state=int(seeds[1])).fit(
        dbn.rbms_[0].transform(X))
    np.testing.assert_allclose(dbn.rbms_[1].components_, second.components_)
    np.testing.assert_allclose(dbn.transform(X), second.transform(dbn.rbms_[0].transform(X)))
    assert dbn.rbms_[0].random_state != dbn.rbms_[1].random_state


def test_to_module_reproduces_the_up_pass():
    X, _ = binary_data()
    dbn = DBN((8, 5), n_iter=2, random_state=1).fit(X)
    net = dbn.to_module(dtype=shendu.float64)
    assert [type(m).__name__ for m in net] == ["Linear", "Sigmoid", "Linear", "Sigmoid"]
    np.testing.assert_array_equal(net[0].weight.detach().numpy(), dbn.rbms_[0].components_)
    np.testing.assert_array_equal(net[2].bias.detach().numpy(), dbn.rbms_[1].intercept_hidden_)
    with shendu.no_grad():
        out = net(shendu.tensor(X)).numpy()
    np.testing.assert_allclose(out, dbn.transform(X), rtol=1e-10)
    clf = dbn.to_module(n_classes=3)
    assert clf[-1].weight.shape == (3, 5) and len(clf) == 5
    shendu.manual_seed(0)
    random = dbn.to_module(n_classes=3, pretrained=False)
    assert not np.allclose(random[0].weight.detach().numpy(), dbn.rbms_[0].components_)
    assert random[0].weight.shape == (8, 16)


def test_fine_tune_learns_and_pretraining_helps_at_the_start():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    digits = load_digits()
    X = (digits.data / 16 > 0.4).astype(np.float32)
    y = digits.target
    X_train, y_train, X_test, y_test = X[:1200], y[:1200], X[1200:], y[1200:]
    dbn = DBN((64, 32), n_iter=10, learning_rate=0.05, momentum=0.5,
              random_state=0).fit(X_train)
    history = dbn.fine_tune(X_train, y_train, epochs=3, lr=0.1, seed=0,
                            X_val=X_test, y_val=y_test)
    assert len(history["loss"]) == 3 and history["loss"][-1] < history["loss"][0]
    accuracy = np.mean(dbn.predict(X_test) == y_test)
    assert accuracy == pytest.approx(history["val_accuracy"][-1])
    assert accuracy > 0.78  # 0.82 measured; binarised 8x8 digits, 3 short epochs
    proba = dbn.predict_proba(X_test)
    assert proba.shape == (len(X_test), 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # the same sigmoid network from random weights, trained the same way, lags behind
    shendu.manual_seed(0)
    random = dbn.to_module(10, pretrained=False)
    baseline = train_classifier(random, X_train, y_train, epochs=3, lr=0.1, seed=0,
                                X_val=X_test, y_val=y_test)
    assert all(p > b + 0.3 for p, b in zip(history["val_accuracy"], baseline["val_accuracy"]))
    assert np.argmax(predict_proba(random, X_test), axis=1).shape == y_test.shape


def test_generate():
    X, _ = binary_data()
    dbn = DBN((12, 8), n_iter=3, random_state=2).fit(X)
    p = dbn.generate(6, n_gibbs=20, rng=0)
    assert p.shape == (6, 16) and (p >= 0).all() and (p <= 1).all()
    assert len(np.unique(p)) > 2  # probabilities, not bits
    again = dbn.generate(6, n_gibbs=20, rng=0)
    np.testing.assert_array_equal(p, again)
    bits = dbn.generate(4, n_gibbs=5, return_probabilities=False, v0=X[:4], rng=1)
    assert set(np.unique(bits)) <= {0.0, 1.0} and bits.shape == (4, 16)
    single = DBN((5,), n_iter=1, random_state=0).fit(X)
    assert single.generate(3, n_gibbs=2).shape == (3, 16)
    with pytest.raises(ValueError, match="n_samples=3 but v0 has 4 rows"):
        dbn.generate(3, v0=X[:4])


def test_save_load_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    X, _ = binary_data()
    dbn = DBN((7, 4), n_iter=2, random_state=3).fit(X)
    dbn.save(tmp_path / "dbn.safetensors")
    back = DBN.load(tmp_path / "dbn.safetensors")
    assert back.get_params() == {**dbn.get_params(), "hidden_layer_sizes": (7, 4)}
    np.testing.assert_array_equal(back.transform(X), dbn.transform(X))
    assert back.to_module(2)[0].weight.shape == (7, 16)
    import shendu as sd
    sd.save({"class": "RBM"}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="does not hold a DBN"):
        DBN.load(tmp_path / "x.safetensors")


def test_errors():
    X, y = binary_data()
    with pytest.raises(ValueError, match="non-empty sequence of positive integers"):
        DBN(()).fit(X)
    with pytest.raises(ValueError, match="non-empty sequence of positive integers"):
        DBN((4, 0)).fit(X)
    with pytest.raises(AttributeError, match="not fitted yet.*transform"):
        DBN().transform(X)
    with pytest.raises(AttributeError, match="call fine_tune"):
        DBN().predict(X)
    dbn = DBN((4,), n_iter=1).fit(X)
    with pytest.raises(ValueError, match="n_classes must be an integer >= 2"):
        dbn.to_module(n_classes=1)
    with pytest.raises(ValueError, match="expected X .* and y"):
        train_classifier(dbn.to_module(3), X, y[:5])
    with pytest.raises(ValueError, match="invalid parameter"):
        dbn.set_params(layers=3)
