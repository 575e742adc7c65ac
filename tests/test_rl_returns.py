"""shendu.rl.returns: discounted returns and GAE, against hand-computed cases and the
identities that tie them together (lam=1: Monte-Carlo return minus V; lam=0: one-step TD
error), episode ends (terminated: the future is 0; truncated: bootstrap from V of the cut
episode's last state), time-major multi-environment arrays, and bad input."""
import numpy as np
import pytest

from shendu.rl.returns import discounted_returns, gae


# ------------------------------------------------------------------ discounted_returns
def test_discounted_returns_by_hand():
    # G2 = 3, G1 = 2 + 0.5 * 3 = 3.5, G0 = 1 + 0.5 * 3.5 = 2.75
    np.testing.assert_allclose(discounted_returns([1.0, 2.0, 3.0], gamma=0.5),
                               [2.75, 3.5, 3.0])


def test_discounted_returns_gamma_limits():
    r = np.array([1.0, -2.0, 0.5, 4.0])
    np.testing.assert_allclose(discounted_returns(r, gamma=0.0), r)
    np.testing.assert_allclose(discounted_returns(r, gamma=1.0), np.cumsum(r[::-1])[::-1])


def test_discounted_returns_dones_cut_the_sum():
    # the episode ends after step 1: steps 0-1 and 2-3 are separate episodes
    out = discounted_returns([1.0, 1.0, 1.0, 1.0], gamma=0.5, dones=[False, True, False, False])
    np.testing.assert_allclose(out, [1.5, 1.0, 1.5, 1.0])


def test_discounted_returns_rewards_after_a_done_do_not_flow_back():
    rng = np.random.default_rng(0)
    r = rng.standard_normal(10)
    dones = np.zeros(10, bool)
    dones[4] = True
    a = discounted_returns(r, 0.9, dones=dones, last_value=3.0)
    r2 = r.copy()
    r2[5:] += 100.0
    b = discounted_returns(r2, 0.9, dones=dones, last_value=-7.0)
    np.testing.assert_allclose(a[:5], b[:5])
    assert not np.allclose(a[5:], b[5:])


def test_discounted_returns_last_value_bootstraps_an_unfinished_rollout():
    # G1 = 1 + 0.5 * 4 = 3, G0 = 1 + 0.5 * 3 = 2.5
    np.testing.assert_allclose(discounted_returns([1.0, 1.0], 0.5, last_value=4.0), [2.5, 3.0])
    # ... and is ignored when the last step ended the episode
    np.testing.assert_allclose(discounted_returns([1.0, 1.0], 0.5, dones=[False, True],
                                                  last_value=4.0), [1.5, 1.0])


def test_discounted_returns_multi_env_is_per_column():
    rng = np.random.default_rng(1)
    T, N = 7, 3
    r = rng.standard_normal((T, N))
    dones = rng.random((T, N)) < 0.3
    last = rng.standard_normal(N)
    out = discounted_returns(r, 0.9, dones=dones, last_value=last)
    assert out.shape == (T, N) and out.dtype == np.float64
    for i in range(N):
        np.testing.assert_allclose(out[:, i], discounted_returns(r[:, i], 0.9, dones[:, i],
                                                                 last[i]))
    # a scalar last_value is broadcast to every environment
    np.testing.assert_allclose(discounted_returns(r, 0.9, last_value=2.0),
                               discounted_returns(r, 0.9, last_value=np.full(N, 2.0)))


def test_discounted_returns_integer_rewards_give_float64():
    out = discounted_returns([1, 0, 1], gamma=0.5)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [1.25, 0.5, 1.0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(rewards=[1.0], gamma=1.5), r"gamma must be in \[0, 1\], got 1.5"),
    (dict(rewards=[1.0], gamma=-0.1), "gamma must be in"),
    (dict(rewards=np.zeros((2, 2, 2)), gamma=0.9), r"shape \(T,\) or \(T, N\).*\(2, 2, 2\)"),
    (dict(rewards=[], gamma=0.9), "T >= 1"),
    (dict(rewards=5.0, gamma=0.9), r"got shape \(\)"),
    (dict(rewards=[1.0, 2.0], gamma=0.9, dones=[True]), r"dones must have the rewards' shape"),
    (dict(rewards=np.zeros((3, 2)), gamma=0.9, last_value=[1.0, 2.0, 3.0]),
     r"last_value must be a number or have shape \(2,\)"),
])
def test_discounted_returns_errors(kwargs, match):
    with pytest.raises(ValueError, match=match) as exc:
        discounted_returns(**kwargs)
    assert "discounted_returns" in str(exc.value)


# ------------------------------------------------------------------------------- gae
def test_gae_by_hand():
    # next values [1.0, 1.5, 2.0]; deltas 1.4, 0.35, 2.3; gamma * lam = 0.45
    adv, ret = gae([1.0, 0.0, 2.0], [0.5, 1.0, 1.5], [False] * 3, last_value=2.0,
                   gamma=0.9, lam=0.5)
    a2 = 2.3
    a1 = 0.35 + 0.45 * a2
    a0 = 1.4 + 0.45 * a1
    np.testing.assert_allclose(adv, [a0, a1, a2])
    np.testing.assert_allclose(ret, adv + [0.5, 1.0, 1.5])
    assert adv.dtype == ret.dtype == np.float64


def test_gae_terminated_zeroes_the_future():
    # next values [2, 0 (terminated), 10 (last_value)]: deltas 1, -1, 3
    adv, _ = gae([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], [False, True, False], last_value=10.0,
                 gamma=0.5, lam=1.0)
    np.testing.assert_allclose(adv, [1.0 + 0.5 * -1.0, -1.0, 3.0])


def test_gae_truncated_bootstraps_from_final_values():
    # step 1 is cut by a time limit; its future is V(final obs) = 4, not values[2] = 3
    adv, ret = gae([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], [False] * 3, last_value=10.0,
                   gamma=0.5, lam=1.0, truncated=[False, True, False],
                   final_values=[99.0, 4.0, 99.0])   # 99s are where nothing was cut: unused
    # deltas: 1 + 0.5*2 - 1 = 1, 1 + 0.5*4 - 2 = 1, 1 + 0.5*10 - 3 = 3; no carry over step 1
    np.testing.assert_allclose(adv, [1.5, 1.0, 3.0])
    np.testing.assert_allclose(ret, [2.5, 3.0, 6.0])


def test_gae_truncated_with_zero_final_value_equals_terminated():
    rng = np.random.default_rng(2)
    r, v = rng.standard_normal(6), rng.standard_normal(6)
    flags = np.array([False, False, True, False, False, False])
    a_term, _ = gae(r, v, flags, 0.7, 0.9, 0.8)
    a_trunc, _ = gae(r, v, np.zeros(6, bool), 0.7, 0.9, 0.8, truncated=flags,
                     final_values=np.zeros(6))
    np.testing.assert_allclose(a_term, a_trunc)
    # with a nonzero final value the cut step differs (and so do the steps before it)
    a_boot, _ = gae(r, v, np.zeros(6, bool), 0.7, 0.9, 0.8, truncated=flags,
                    final_values=np.full(6, 5.0))
    assert a_boot[2] == pytest.approx(a_term[2] + 0.9 * 5.0)
    np.testing.assert_allclose(a_boot[3:], a_term[3:])
    assert np.all(a_boot[:3] > a_term[:3])


def test_gae_terminated_wins_over_truncated():
    r, v = [1.0, 1.0], [0.0, 0.0]
    a_both, _ = gae(r, v, [True, False], 0.0, 1.0, 1.0, truncated=[True, False],
                    final_values=[50.0, 0.0])
    a_term, _ = gae(r, v, [True, False], 0.0, 1.0, 1.0)
    np.testing.assert_allclose(a_both, a_term)
    # no truncated step is left, so final_values is not even required
    gae(r, v, [True, False], 0.0, 1.0, 1.0, truncated=[True, False])


@pytest.mark.parametrize("shape", [(9,), (9, 4)])
def test_gae_lam_one_is_monte_carlo_return_minus_values(shape):
    rng = np.random.default_rng(3)
    r, v = rng.standard_normal(shape), rng.standard_normal(shape)
    term = rng.random(shape) < 0.25
    last = rng.standard_normal(shape[1:])
    adv, ret = gae(r, v, term, last, gamma=0.95, lam=1.0)
    G = discounted_returns(r, 0.95, dones=term, last_value=last)
    np.testing.assert_allclose(adv, G - v, atol=1e-12)
    np.testing.assert_allclose(ret, G, atol=1e-12)


@pytest.mark.parametrize("shape", [(9,), (9, 4)])
def test_gae_lam_zero_is_the_one_step_td_error(shape):
    rng = np.random.default_rng(4)
    r, v = rng.standard_normal(shape), rng.standard_normal(shape)
    term = rng.random(shape) < 0.25
    last = rng.standard_normal(shape[1:])
    adv, _ = gae(r, v, term, last, gamma=0.9, lam=0.0)
    next_v = np.concatenate([v[1:], np.asarray(last).reshape((1,) + shape[1:])])
    np.testing.assert_allclose(adv, r + 0.9 * np.where(term, 0.0, next_v) - v, atol=1e-12)


def test_gae_multi_env_is_per_column():
    rng = np.random.default_rng(5)
    T, N = 8, 3
    r, v = rng.standard_normal((T, N)), rng.standard_normal((T, N))
    term = rng.random((T, N)) < 0.2
    trunc = rng.random((T, N)) < 0.2
    final = rng.standard_normal((T, N))
    last = rng.standard_normal(N)
    adv, ret = gae(r, v, term, last, 0.99, 0.95, truncated=trunc, final_values=final)
    assert adv.shape == ret.shape == (T, N)
    for i in range(N):
        a, b = gae(r[:, i], v[:, i], term[:, i], last[i], 0.99, 0.95, truncated=trunc[:, i],
                   final_values=final[:, i])
        np.testing.assert_allclose(adv[:, i], a)
        np.testing.assert_allclose(ret[:, i], b)
    # a scalar last_value is broadcast over the environments
    a1, _ = gae(r, v, term, 0.5, 0.99, 0.95)
    a2, _ = gae(r, v, term, np.full(N, 0.5), 0.99, 0.95)
    np.testing.assert_allclose(a1, a2)


def test_gae_does_not_modify_its_inputs():
    r, v = np.array([1.0, 2.0]), np.array([0.5, 0.5])
    term, trunc = np.array([False, True]), np.array([True, False])
    final = np.array([3.0, 0.0])
    copies = [x.copy() for x in (r, v, term, trunc, final)]
    gae(r, v, term, 1.0, 0.9, 0.9, truncated=trunc, final_values=final)
    for x, c in zip((r, v, term, trunc, final), copies):
        np.testing.assert_array_equal(x, c)


@pytest.mark.parametrize("kwargs, match", [
    (dict(values=[1.0, 2.0, 3.0]), r"values must have the rewards' shape \(2,\)"),
    (dict(terminated=[False]), r"terminated must have the rewards' shape"),
    (dict(gamma=1.01), r"gamma must be in \[0, 1\]"),
    (dict(lam=-0.5), r"lam must be in \[0, 1\], got -0.5"),
    (dict(truncated=[True, False]), "pass final_values"),
    (dict(truncated=[True, False], final_values=[1.0]), r"final_values must have the rewards'"),
    (dict(truncated=[True, False, False]), r"truncated must have the rewards' shape"),
    (dict(last_value=[1.0, 2.0]), r"last_value must be a number or have shape \(\)"),
])
def test_gae_errors(kwargs, match):
    args = dict(rewards=[1.0, 1.0], values=[0.0, 0.0], terminated=[False, False],
                last_value=0.0, gamma=0.9, lam=0.9)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match) as exc:
        gae(**args)
    assert str(exc.value).startswith("gae:")
