"""Tests for shendu.models.hopfield: storage rules, energy, recall dynamics, capacity."""
import numpy as np
import pytest

from shendu.models.hopfield import (HEBBIAN_CAPACITY, Hopfield, capacity_curve, corrupt,
                                    to_bipolar)


def random_patterns(p, n, seed=0, p_on=0.5):
    rng = np.random.default_rng(seed)
    return np.where(rng.random((p, n)) < p_on, 1, -1).astype(np.int8)


def test_hebbian_weights_formula():
    X = random_patterns(3, 20)
    net = Hopfield(20).store(X)
    expected = X.T.astype(float) @ X / 20
    np.fill_diagonal(expected, 0)
    np.testing.assert_allclose(net.weights, expected)
    assert np.array_equal(net.weights, net.weights.T)
    assert np.all(np.diag(net.weights) == 0)
    # storing in two calls is the same as storing all at once
    net2 = Hopfield(20).store(X[:2]).store(X[2])
    np.testing.assert_allclose(net2.weights, expected)
    assert net2.patterns.shape == (3, 20)


def test_pseudo_inverse_stores_correlated_patterns_hebbian_does_not():
    # sparse patterns (20% +1) are strongly correlated through their shared -1 background
    X = random_patterns(8, 60, seed=1, p_on=0.2)
    hebb = Hopfield(60).store(X)
    pinv = Hopfield(60, rule="pseudo-inverse").store(X)
    assert pinv.is_fixed_point(X).all()
    assert not hebb.is_fixed_point(X).all()
    # W is the projection on the span of the patterns, diagonal removed
    P = np.linalg.pinv(X.astype(float)) @ X
    np.fill_diagonal(P, 0)
    np.testing.assert_allclose(pinv.weights, P, atol=1e-12)


def test_energy_formula_and_batch():
    X = random_patterns(2, 10)
    theta = np.linspace(-0.5, 0.5, 10)
    net = Hopfield(10, theta=theta).store(X)
    s = random_patterns(4, 10, seed=3)
    manual = [-0.5 * si @ net.weights @ si + theta @ si for si in s.astype(float)]
    np.testing.assert_allclose(net.energy(s), manual)
    assert isinstance(net.energy(s[0]), float)
    assert net.energy(s[0]) == pytest.approx(manual[0])


@pytest.mark.parametrize("rule", ["hebbian", "pseudo-inverse"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_async_energy_never_rises_and_ends_at_fixed_point(rule, seed):
    X = random_patterns(12, 50, seed=seed)  # overloaded (0.24 N): many spurious states
    theta = np.random.default_rng(seed).normal(0, 0.1, 50)
    net = Hopfield(50, rule=rule, theta=theta).store(X)
    cue = corrupt(X[0], 0.3, rng=seed)
    r = net.recall(cue, rng=seed, trace=True)
    assert r.converged and net.is_fixed_point(r.state)
    assert np.all(np.diff(r.trace) <= 1e-9)
    assert len(r.trace) == r.steps * 50 + 1 and len(r.energies) == r.steps + 1
    # the incrementally tracked energy agrees with the formula
    assert r.trace[-1] == pytest.approx(net.energy(r.state))
    assert r.energies[0] == pytest.approx(net.energy(cue))
    np.testing.assert_allclose(r.energies, r.trace[::50])


def test_recall_corrects_noise_below_capacity_and_is_reproducible():
    X = random_patterns(5, 200, seed=4)  # load 0.025
    net = Hopfield(200).store(X)
    cues = corrupt(X, 0.2, rng=5)
    assert (cues != X).sum(axis=1).tolist() == [40] * 5
    r = net.recall(cues, rng=0)
    assert np.array_equal(r.state, X)
    assert r.converged.all() and r.converged.shape == (5,)
    assert r.energies.shape == (r.steps + 1, 5)
    r2 = net.recall(cues, rng=0)
    assert np.array_equal(r.state, r2.state) and r.steps == r2.steps
    # a stored pattern is a fixed point: one sweep, nothing changes
    r3 = net.recall(X[1], rng=0)
    assert r3.steps == 1 and r3.converged and np.array_equal(r3.state, X[1])


def test_sync_recall_and_two_cycle():
    X = random_patterns(3, 100, seed=6)
    net = Hopfield(100).store(X)
    r = net.recall(corrupt(X[2], 0.1, rng=0), mode="sync")
    assert r.converged and np.array_equal(r.state, X[2])
    # two units that want to disagree: in parallel they swap forever
    net = Hopfield(2)
    net.weights = np.array([[0.0, -1.0], [-1.0, 0.0]])
    r = net.recall([1, 1], mode="sync", max_steps=50)
    assert not r.converged and r.steps == 2  # the cycle is detected, not run 50 times
    assert r.state.tolist() in ([1, 1], [-1, -1])
    # asynchronously the same network settles
    r = net.recall([1, 1], mode="async", rng=0)
    assert r.converged and r.state.tolist() in ([1, -1], [-1, 1])


def test_max_steps_not_converged():
    X = random_patterns(30, 40, seed=7)  # far over capacity
    net = Hopfield(40).store(X)
    r = net.recall(corrupt(X[0], 0.5, rng=1), max_steps=1, rng=0)
    assert r.steps == 1
    assert r.converged == net.is_fixed_point(r.state)


def test_capacity_curve_falls_near_0138():
    curve = capacity_curve(100, [5, 8, 30, 40], n_trials=4, flip_fraction=0.1, rng=0)
    assert curve["load"].tolist() == [0.05, 0.08, 0.3, 0.4]
    assert curve["recall_rate"][0] == 1.0 and curve["recall_rate"][1] >= 0.95
    assert curve["recall_rate"][2] < 0.3 and curve["recall_rate"][3] < 0.1
    assert (curve["exact_rate"] <= curve["recall_rate"]).all()
    assert HEBBIAN_CAPACITY == 0.138
    pinv = capacity_curve(100, [30], n_trials=2, rule="pseudo-inverse", rng=0)
    assert pinv["recall_rate"][0] > 0.9


def test_helpers():
    assert to_bipolar(np.array([[0, 1], [0.7, 0.2]])).tolist() == [[-1, 1], [1, -1]]
    x = random_patterns(3, 30)
    y = corrupt(x, 0.1, rng=0)
    assert (y != x).sum(axis=1).tolist() == [3, 3, 3]
    assert np.array_equal(corrupt(x, 0.0), x)
    with pytest.raises(ValueError, match="fraction"):
        corrupt(x, 1.5)


def test_errors():
    with pytest.raises(ValueError, match="n_units must be a positive integer"):
        Hopfield(0)
    with pytest.raises(ValueError, match="rule must be one of"):
        Hopfield(4, rule="storkey")
    with pytest.raises(ValueError, match=r"theta must be a number or of shape \(4,\)"):
        Hopfield(4, theta=[1, 2])
    net = Hopfield(4)
    with pytest.raises(ValueError, match="bipolar.*to_bipolar"):
        net.store([[0, 1, 1, 0]])
    with pytest.raises(ValueError, match=r"expected shape \(4,\) or \(B, 4\), got \(5,\)"):
        net.recall(np.ones(5))
    with pytest.raises(ValueError, match="mode must be"):
        net.recall(np.ones(4), mode="parallel")
    with pytest.raises(ValueError, match="only mode='async'"):
        net.recall(np.ones(4), mode="sync", trace=True)
    with pytest.raises(ValueError, match="max_steps"):
        net.recall(np.ones(4), max_steps=0)
    with pytest.raises(ValueError, match="pattern_counts"):
        capacity_curve(10, [0, 2])
    assert "patterns=0" in repr(net)
