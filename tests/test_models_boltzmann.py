"""Tests for shendu.models.boltzmann: energy, Gibbs sampling against the exact distribution,
simulated annealing, and the Boltzmann learning rule against the exact gradient."""
import numpy as np
import pytest

from shendu.models.boltzmann import (BoltzmannMachine, all_states, annealing_schedule,
                                     empirical_distribution)


def random_machine(n_visible, n_hidden=0, std=1.0, seed=0, **kwargs):
    bm = BoltzmannMachine(n_visible, n_hidden, random_state=seed, init_std=std, **kwargs)
    bm.bias = np.random.default_rng(seed + 100).normal(0, 0.5, bm.n_units)
    return bm


def test_all_states_and_empirical_distribution():
    S = all_states(3)
    assert S.shape == (8, 3)
    assert S[5].tolist() == [1, 0, 1]  # 5 = 101 in binary
    q = empirical_distribution(S[[1, 1, 7, 0]])
    assert q.tolist() == [0.25, 0.5, 0, 0, 0, 0, 0, 0.25]
    with pytest.raises(ValueError, match="0/1"):
        empirical_distribution([[0, 2]])


def test_energy_and_unit_probability_formulas():
    bm = random_machine(3, 2, seed=1, temperature=2.0)
    W, b = bm.weights, bm.bias
    assert np.array_equal(W, W.T) and np.all(np.diag(W) == 0)
    s = all_states(5)[[3, 17, 30]]
    np.testing.assert_allclose(bm.energy(s), [-0.5 * x @ W @ x - b @ x for x in s])
    # the course's rule: P(s_i = 1) = sigma((sum_j w_ij s_j + b_i) / T)
    p = bm.unit_probability(s, 2)
    np.testing.assert_allclose(p, 1 / (1 + np.exp(-(s @ W[2] + b[2]) / 2.0)))
    # and it is the conditional of the Boltzmann distribution
    P = bm.exact_distribution()
    S = all_states(5)
    for x in s:
        on, off = x.copy(), x.copy()
        on[2], off[2] = 1, 0
        pon = P[int("".join(str(int(v)) for v in on), 2)]
        poff = P[int("".join(str(int(v)) for v in off), 2)]
        assert bm.unit_probability(x, 2)[0] == pytest.approx(pon / (pon + poff))
    assert S.shape == (32, 5)


@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_gibbs_samples_follow_the_exact_distribution(temperature):
    bm = random_machine(4, 0, std=1.0, seed=2)
    start = np.zeros((4000, 4))
    samples = bm.gibbs(start, n_sweeps=30, temperature=temperature)
    empirical = empirical_distribution(samples.astype(int))
    exact = bm.exact_distribution(temperature)
    total_variation = 0.5 * np.abs(empirical - exact).sum()
    assert total_variation < 0.03, total_variation
    # hotter is closer to uniform
    assert np.abs(bm.exact_distribution(5.0) - 1 / 16).max() < np.abs(exact - 1 / 16).max()


def test_clamped_gibbs_keeps_visible_units():
    bm = random_machine(2, 3, seed=3)
    start = np.array([[1, 0, 0, 0, 0], [0, 1, 1, 1, 1]], dtype=float)
    out = bm.gibbs(np.repeat(start, 50, axis=0), n_sweeps=3, clamp_visible=True)
    assert np.array_equal(out[:, :2], np.repeat(start[:, :2], 50, axis=0))
    assert out[:, 2:].std() > 0


def test_annealing_finds_ground_state():
    bm = random_machine(10, 0, std=2.0, seed=4)
    energies = bm.energy(all_states(10))
    ground = energies.min()
    schedule = annealing_schedule(20.0, 0.05, 60)
    final = bm.anneal(np.zeros((200, 10)), schedule)
    hit = np.isclose(bm.energy(final), ground).mean()
    assert hit > 0.7, hit


def test_annealing_escapes_a_local_minimum_a_quench_does_not():
    # all units excite each other (w = 1) but each costs 4 (b = -4): E(k units on) =
    # 4k - k(k-1)/2 is 0 for all-off, a local minimum behind a barrier of 10, and -5 for
    # all-on, the ground state
    bm = BoltzmannMachine(10, random_state=0)
    bm.weights = np.ones((10, 10)) - np.eye(10)
    bm.bias = np.full(10, -4.0)
    quench = bm.gibbs(np.zeros((100, 10)), 60, temperature=0.05)
    assert (quench == 0).all()
    final = bm.anneal(np.zeros((100, 10)), annealing_schedule(20.0, 0.05, 60))
    assert (final == 1).all(axis=1).mean() > 0.8
    assert annealing_schedule(1, 1, 1).tolist() == [1.0]
    np.testing.assert_allclose(annealing_schedule(4, 1, 3, kind="linear"), [4, 2.5, 1])


def test_exact_gradient_matches_finite_differences():
    bm = random_machine(3, 2, std=0.7, seed=5, method="exact", temperature=1.5)
    data = all_states(3)[[0, 3, 3, 5, 6, 7]]
    dW, db = bm.log_likelihood_gradient(data)
    eps = 1e-6
    for i, j in [(0, 1), (0, 4), (2, 3), (3, 4)]:
        W0 = bm.weights.copy()
        bm.weights[i, j] = bm.weights[j, i] = W0[i, j] + eps
        up = bm.log_likelihood(data)
        bm.weights[i, j] = bm.weights[j, i] = W0[i, j] - eps
        down = bm.log_likelihood(data)
        bm.weights = W0
        # w_ij and w_ji are one parameter: the derivative along both is dW[i, j]
        assert (up - down) / (2 * eps) == pytest.approx(dW[i, j], rel=1e-5, abs=1e-8)
    for i in [0, 4]:
        b0 = bm.bias.copy()
        bm.bias[i] += eps
        up = bm.log_likelihood(data)
        bm.bias[i] -= 2 * eps
        down = bm.log_likelihood(data)
        bm.bias = b0
        assert (up - down) / (2 * eps) == pytest.approx(db[i], rel=1e-5, abs=1e-8)


def test_gibbs_gradient_estimate_close_to_exact():
    exact = random_machine(3, 2, std=0.7, seed=6, method="exact")
    gibbs = random_machine(3, 2, std=0.7, seed=6, method="gibbs", n_chains=4000, n_sweeps=20)
    data = np.repeat(all_states(3)[[1, 2, 4, 7]], 500, axis=0)
    dW_e, db_e = exact.log_likelihood_gradient(data)
    dW_g, db_g = gibbs.log_likelihood_gradient(data)
    assert np.abs(dW_g - dW_e).max() < 0.04 and np.abs(db_g - db_e).max() < 0.04


def test_visible_only_learning_matches_moments():
    rng = np.random.default_rng(7)
    data = (rng.random((200, 3)) < [0.2, 0.5, 0.8]).astype(float)
    data[:, 1] = np.where(rng.random(200) < 0.8, data[:, 0], data[:, 1])  # correlate 0, 1
    bm = BoltzmannMachine(3, method="exact", learning_rate=1.0, n_iter=1500,
                          random_state=0).fit(data)
    S = all_states(3)
    P = bm.exact_distribution()
    np.testing.assert_allclose((S * P[:, None]).T @ S, data.T @ data / len(data), atol=2e-3)
    ll = bm.history_["log_likelihood"]
    assert len(ll) == 1500 and ll[-1] > ll[0]


def test_parity_needs_hidden_units():
    S = all_states(3)
    parity = S[S.sum(axis=1) % 2 == 0]
    q = empirical_distribution(parity)
    visible = BoltzmannMachine(3, method="exact", learning_rate=1.0, n_iter=300,
                               init_std=0.5, random_state=0).fit(parity)
    assert visible.kl_divergence(q) == pytest.approx(np.log(2), abs=2e-3)
    hidden = BoltzmannMachine(3, 4, method="exact", learning_rate=1.0, n_iter=1000,
                              init_std=0.5, random_state=0).fit(parity)
    assert hidden.kl_divergence(q) < 0.1
    # the exact mean log-likelihood equals -H(q) - KL
    assert hidden.log_likelihood(parity) == pytest.approx(np.log(0.25) - hidden.kl_divergence(q))


def test_gibbs_learning_improves_kl():
    S = all_states(3)
    parity = S[S.sum(axis=1) % 2 == 0]
    q = empirical_distribution(parity)
    bm = BoltzmannMachine(3, 4, learning_rate=0.5, n_iter=600, n_chains=100, init_std=0.5,
                          random_state=0)
    before = bm.kl_divergence(q)
    bm.fit(parity)
    assert bm.kl_divergence(q) < 0.6 < before


def test_sample_shapes_and_errors():
    bm = random_machine(2, 1, seed=8)
    s = bm.sample(7, n_sweeps=2)
    assert s.shape == (7, 3) and set(np.unique(s)) <= {0.0, 1.0}
    assert bm.sample(3, schedule=[4, 2, 1]).shape == (3, 3)
    with pytest.raises(ValueError, match="n_visible must be an integer >= 1"):
        BoltzmannMachine(0)
    with pytest.raises(ValueError, match="temperature must be > 0"):
        BoltzmannMachine(2, temperature=0)
    with pytest.raises(ValueError, match="method must be"):
        BoltzmannMachine(2, method="mean-field")
    with pytest.raises(ValueError, match="enumerates 2\\^30 states"):
        BoltzmannMachine(20, 10, method="exact")
    with pytest.raises(ValueError, match=r"expected shape \(3,\) or \(B, 3\), got \(2,\)"):
        bm.energy([1, 0])
    with pytest.raises(ValueError, match="0/1"):
        bm.energy([1, 0, -1])
    with pytest.raises(ValueError, match="target must be a distribution of shape \\(4,\\)"):
        bm.kl_divergence([0.5, 0.5])
    with pytest.raises(ValueError, match="temperatures must be > 0"):
        annealing_schedule(0, 1)
    with pytest.raises(ValueError, match="kind must be"):
        annealing_schedule(2, 1, 3, kind="cosine")
    assert "n_hidden=1" in repr(bm)
