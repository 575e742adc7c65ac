"""Tests for shendu.models.rbm.RBM: free energy and gradients against enumeration, CD and
PCD, scikit-learn conventions and equivalence with sklearn's BernoulliRBM, save/load."""
import copy

import numpy as np
import pytest

from shendu.models.rbm import RBM


def all_binary(n):
    k = np.arange(2 ** n)[:, None]
    return ((k >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def tiny_rbm(n_visible=4, n_hidden=3, std=1.0, seed=0, **kwargs):
    """A fitted-looking RBM with given random weights (no training)."""
    rng = np.random.default_rng(seed)
    rbm = RBM(n_hidden, random_state=seed, **kwargs)
    rbm.fit(np.zeros((2, n_visible)))  # sets every fitted attribute
    rbm.components_ = rng.normal(0, std, (n_hidden, n_visible))
    rbm.intercept_hidden_ = rng.normal(0, 0.5, n_hidden)
    rbm.intercept_visible_ = rng.normal(0, 0.5, n_visible)
    return rbm


def joint_log_weights(rbm):
    """-E(v, h) for every (v, h): (2^nv, 2^nh)."""
    V, H = all_binary(rbm.n_features_in_), all_binary(rbm.n_components)
    return (V @ rbm.components_.T @ H.T + (V @ rbm.intercept_visible_)[:, None]
            + (H @ rbm.intercept_hidden_)[None, :]), V, H


def exact_gradient(rbm, data):
    """d mean log P(data) / d (W, b_h, b_v) by enumerating all states."""
    logw, V, H = joint_log_weights(rbm)
    pv = np.exp(logw - logw.max()).sum(axis=1)
    pv /= pv.sum()
    ph_model = rbm._mean_hiddens(V)                    # P(h=1|v) for every v
    ph_data = rbm._mean_hiddens(data)
    dW = ph_data.T @ data / len(data) - (ph_model * pv[:, None]).T @ V
    db_h = ph_data.mean(axis=0) - pv @ ph_model
    db_v = data.mean(axis=0) - pv @ V
    return dW, db_h, db_v


def cosine(a, b):
    a = np.concatenate([x.ravel() for x in a])
    b = np.concatenate([x.ravel() for x in b])
    return a @ b / np.linalg.norm(a) / np.linalg.norm(b)


def test_free_energy_is_exact():
    rbm = tiny_rbm()
    logw, V, _ = joint_log_weights(rbm)
    exact = -np.logaddexp.reduce(logw, axis=1)       # F(v) = -log sum_h exp(-E(v, h))
    np.testing.assert_allclose(rbm.free_energy(V), exact, rtol=1e-12)
    # P(v) = exp(-F(v)) / Z sums to 1
    p = np.exp(-exact - np.logaddexp.reduce(-exact))
    assert p.sum() == pytest.approx(1.0)


def test_conditionals_are_the_exact_ones():
    rbm = tiny_rbm(3, 2, seed=1)
    logw, V, H = joint_log_weights(rbm)
    joint = np.exp(logw)
    # P(h_0 = 1 | v) from the joint distribution
    p_h0 = joint[:, H[:, 0] == 1].sum(axis=1) / joint.sum(axis=1)
    np.testing.assert_allclose(rbm.transform(V)[:, 0], p_h0, rtol=1e-12)
    p_v2 = joint[V[:, 2] == 1].sum(axis=0) / joint.sum(axis=0)
    np.testing.assert_allclose(rbm._mean_visibles(H)[:, 2], p_v2, rtol=1e-12)


def test_cd_gradient_points_along_the_exact_gradient():
    rbm = tiny_rbm(std=1.0, seed=2)
    data = all_binary(4)[[1, 6, 9, 14, 15]]
    exact = exact_gradient(rbm, data)
    batch = np.repeat(data, 4000, axis=0)
    cd1 = rbm.cd_gradient(batch, k=1, persistent=False, rng=0)
    cd50 = rbm.cd_gradient(batch, k=50, persistent=False, rng=0)
    assert cosine(cd1, exact) > 0.8
    assert cosine(cd50, exact) > 0.99
    err = lambda g: sum(np.abs(a - b).sum() for a, b in zip(g, exact))  # noqa: E731
    assert err(cd50) < err(cd1)


def test_pcd_chains_persist_and_do_not_see_the_data():
    rbm = tiny_rbm(5, 3, seed=3, persistent=True, batch_size=7)
    chains = (np.random.default_rng(0).random((7, 3)) < 0.5).astype(float)
    X1 = all_binary(5)[:7]
    X2 = all_binary(5)[20:27]
    results = []
    for X in (X1, X2):
        rbm.h_samples_ = chains.copy()
        results.append((rbm.cd_gradient(X, rng=1), rbm.h_samples_.copy()))
    (g1, h1), (g2, h2) = results
    # same chain start and random numbers: the negative phase and the new chains are the
    # same whatever the data, so the gradients differ by the positive phases only
    assert np.array_equal(h1, h2)
    pos = lambda X: rbm._mean_hiddens(X).T @ X / len(X)  # noqa: E731
    np.testing.assert_allclose(g1[0] - g2[0], pos(X1) - pos(X2), atol=1e-12)
    np.testing.assert_allclose(g1[2] - g2[2], X1.mean(0) - X2.mean(0), atol=1e-12)
    # the chains moved; CD (persistent=False) leaves them alone
    assert not np.array_equal(h1, chains)
    rbm.h_samples_ = chains.copy()
    rbm.cd_gradient(X1, persistent=False, rng=1)
    assert np.array_equal(rbm.h_samples_, chains)


def test_update_rule_momentum_and_weight_decay():
    X = (np.random.default_rng(4).random((10, 6)) < 0.4).astype(float)
    rbm = RBM(4, learning_rate=0.1, momentum=0.5, weight_decay=0.01, batch_size=10,
              random_state=0).partial_fit(X)  # first step initialises and updates
    W0 = rbm.components_.copy()
    v0 = [v.copy() for v in rbm._velocity]
    probe = copy.deepcopy(rbm)
    g = probe.cd_gradient(X)                 # the same random numbers as the next step
    rbm.partial_fit(X)
    velocity = 0.5 * v0[0] + (g[0] - 0.01 * W0)
    np.testing.assert_allclose(rbm.components_, W0 + 0.1 * velocity, atol=1e-12)
    np.testing.assert_allclose(rbm._velocity[1], 0.5 * v0[1] + g[1], atol=1e-12)


def test_same_steps_as_sklearn_bernoulli_rbm():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    from sklearn.neural_network import BernoulliRBM
    X = load_digits().data[:600] / 16
    ours = RBM(20, learning_rate=0.05, batch_size=10, n_iter=3, persistent=True,
               random_state=1).fit(X)
    theirs = BernoulliRBM(20, learning_rate=0.05, batch_size=10, n_iter=3,
                          random_state=1).fit(X)
    np.testing.assert_allclose(ours.components_, theirs.components_, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_hidden_, theirs.intercept_hidden_, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_visible_, theirs.intercept_visible_, atol=1e-10)
    np.testing.assert_array_equal(ours.h_samples_, theirs.h_samples_)
    np.testing.assert_allclose(ours.transform(X), theirs.transform(X), atol=1e-10)
    Xb = (X > 0.5).astype(float)
    np.testing.assert_allclose(ours.free_energy(Xb), theirs._free_energy(Xb), atol=1e-9)
    # sklearn's score_samples flips one feature drawn from RandomState(random_state):
    # with an int seed it is the same every call, and ours draws the same features
    np.testing.assert_allclose(ours.score_samples(Xb), theirs.score_samples(Xb), atol=1e-9)
    np.testing.assert_allclose(ours.score_samples(Xb), ours.score_samples(Xb))
    assert not np.allclose(ours.pseudo_likelihood(Xb, rng=5), ours.pseudo_likelihood(Xb))
    assert sklearn.__version__


def test_pseudo_likelihood_formula():
    rbm = tiny_rbm(4, 3, seed=5)
    X = all_binary(4)
    rng = np.random.RandomState(3)
    flip = np.random.RandomState(3).randint(0, 4, len(X))
    got = rbm.pseudo_likelihood(X, rng=rng)
    Xf = X.copy()
    Xf[np.arange(len(X)), flip] = 1 - Xf[np.arange(len(X)), flip]
    F, Ff = rbm.free_energy(X), rbm.free_energy(Xf)
    # n_features * log P(v_i | v_-i) = n * log(e^-F(v) / (e^-F(v) + e^-F(v~)))
    np.testing.assert_allclose(got, 4 * np.log(1 / (1 + np.exp(F - Ff))), rtol=1e-10)


def test_training_improves_reconstruction_and_pseudo_likelihood():
    pytest.importorskip("sklearn")
    from sklearn.datasets import load_digits
    X = (load_digits().data / 16 > 0.5).astype(np.float32)
    for persistent in (False, True):
        rbm = RBM(64, learning_rate=0.05, batch_size=10, n_iter=5, persistent=persistent,
                  momentum=0.5, random_state=0).fit(X)
        h = rbm.history_
        assert len(h["reconstruction_error"]) == 5
        assert h["reconstruction_error"][-1] < 0.8 * h["reconstruction_error"][0]
        assert h["pseudo_likelihood"][-1] > h["pseudo_likelihood"][0]
        assert rbm.components_.dtype == np.float32  # float32 input stays float32
        assert rbm.transform(X).dtype == np.float32


def test_sampling():
    rbm = tiny_rbm(6, 4, seed=6)
    v = rbm.sample(50, n_steps=5)
    assert v.shape == (50, 6) and set(np.unique(v)) <= {0.0, 1.0}
    p = rbm.sample(n_steps=2, v0=np.ones((3, 6)), return_probabilities=True)
    assert p.shape == (3, 6) and (0 < p).all() and (p < 1).all()
    g = rbm.gibbs(np.zeros((4, 6)))
    assert g.shape == (4, 6) and set(np.unique(g)) <= {0.0, 1.0}
    # long chains follow the model's marginal P(v)
    logw, V, _ = joint_log_weights(rbm)
    pv = np.exp(np.logaddexp.reduce(logw, axis=1))
    pv /= pv.sum()
    samples = rbm.sample(4000, n_steps=30)
    index = samples.astype(int) @ (1 << np.arange(5, -1, -1))
    empirical = np.bincount(index, minlength=64) / 4000
    assert 0.5 * np.abs(empirical - pv).sum() < 0.06


def test_sklearn_conventions_clone_and_pipeline():
    pytest.importorskip("sklearn")
    from sklearn.base import clone
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import Pipeline
    rbm = RBM(16, learning_rate=0.02, n_iter=3, random_state=0)
    params = rbm.get_params()
    assert params["n_components"] == 16 and params["k"] == 1 and not params["persistent"]
    twin = clone(rbm)
    assert twin is not rbm and twin.get_params() == params
    assert rbm.set_params(k=3) is rbm and rbm.k == 3
    assert repr(rbm) == "RBM(n_components=16, learning_rate=0.02, n_iter=3, k=3, random_state=0)"
    with pytest.raises(ValueError, match="invalid parameter 'steps'"):
        rbm.set_params(steps=2)
    digits = load_digits()
    X_train, X_test, y_train, y_test = train_test_split(digits.data / 16, digits.target,
                                                        test_size=0.2, random_state=0)
    pipe = Pipeline([("rbm", RBM(100, learning_rate=0.06, n_iter=10, random_state=0)),
                     ("logistic", LogisticRegression(C=100, max_iter=1000))])
    pipe.fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.9
    assert pipe.named_steps["rbm"].components_.shape == (100, 64)


def test_sklearn_estimator_checks():
    pytest.importorskip("sklearn")
    import warnings
    from sklearn.utils.estimator_checks import check_estimator
    # the two checks that scikit-learn also expects its own BernoulliRBM to fail: the
    # pseudo-likelihood flips a random feature of each sample, so it depends on the order
    expected = {"check_methods_subset_invariance": "random corruption in score_samples",
                "check_methods_sample_order_invariance": "random corruption in score_samples"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(RBM(n_iter=2, random_state=0), on_fail=None,
                                  expected_failed_checks=expected)
    failed = [(r["check_name"], str(r["exception"])[:200]) for r in results
              if r["status"] == "failed"]
    assert failed == []
    assert sum(r["status"] == "passed" for r in results) >= 40


def test_save_load_round_trip(tmp_path):
    pytest.importorskip("safetensors")
    X = (np.random.default_rng(0).random((40, 9)) < 0.3).astype(float)
    rbm = RBM(5, n_iter=2, k=2, persistent=True, random_state=3).fit(X)
    rbm.save(tmp_path / "rbm.safetensors")
    back = RBM.load(tmp_path / "rbm.safetensors")
    assert back.get_params() == rbm.get_params()
    for name in ("components_", "intercept_hidden_", "intercept_visible_", "h_samples_"):
        np.testing.assert_array_equal(getattr(back, name), getattr(rbm, name))
    np.testing.assert_array_equal(back.transform(X), rbm.transform(X))
    back.partial_fit(X[:10])  # training can go on
    unfitted = RBM(3)
    unfitted.save(tmp_path / "u.safetensors")
    assert not hasattr(RBM.load(tmp_path / "u.safetensors"), "components_")
    import shendu
    shendu.save({"class": "other"}, tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="does not hold an RBM"):
        RBM.load(tmp_path / "x.safetensors")


def test_errors():
    X = np.zeros((4, 3))
    with pytest.raises((AttributeError, ValueError), match="not fitted yet.*transform"):
        RBM(2).transform(X)
    with pytest.raises(ValueError, match="n_components must be an integer >= 1"):
        RBM(0).fit(X)
    with pytest.raises(ValueError, match="learning_rate must be a number > 0"):
        RBM(2, learning_rate=-1).fit(X)
    with pytest.raises(ValueError, match="momentum must be in"):
        RBM(2, momentum=1.0).fit(X)
    with pytest.raises(ValueError, match="random_state must be"):
        RBM(2, random_state="seed").fit(X)
    rbm = RBM(2, n_iter=1).fit(X)
    with pytest.raises(ValueError, match="X has 5 features, but RBM is expecting 3"):
        rbm.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="Reshape your data"):
        rbm.transform(np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        rbm.transform(np.full((1, 3), np.nan))
    with pytest.raises(ValueError, match="give n_samples"):
        rbm.sample()
