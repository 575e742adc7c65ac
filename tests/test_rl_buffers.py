"""ReplayBuffer: ring-buffer order and wrap-around, batched extend, uniform sampling,
n-step returns against hand-computed sums, clear errors for bad input."""
import numpy as np
import pytest

from shendu.rl.buffers import Batch, ReplayBuffer


def fill(buf, n, start=0, terminal_every=None):
    for t in range(start, start + n):
        done = terminal_every is not None and (t + 1) % terminal_every == 0
        buf.add([t, -t], t % 3, float(t), [t + 1, -(t + 1)], done)


def test_add_stores_fields_with_dtypes():
    buf = ReplayBuffer(5, obs_shape=(2,))
    buf.add([1.5, 2.5], 2, 0.5, [3.0, 4.0], True, truncated=False)
    assert len(buf) == 1 and not buf.full
    b = buf.sample(1, indices=[0])
    assert isinstance(b, Batch)
    np.testing.assert_array_equal(b.obs, [[1.5, 2.5]])
    np.testing.assert_array_equal(b.next_obs, [[3.0, 4.0]])
    assert b.actions.tolist() == [2] and b.actions.dtype == np.int64
    assert b.rewards.tolist() == [0.5] and b.rewards.dtype == np.float32
    assert b.terminated.tolist() == [True] and b.n_steps.tolist() == [1]
    assert b.obs.dtype == np.float32


def test_wrap_around_overwrites_the_oldest():
    buf = ReplayBuffer(4, obs_shape=(2,))
    fill(buf, 6)   # 0..5; rows hold 4 5 2 3
    assert len(buf) == 4 and buf.full
    assert buf.rewards.tolist() == [4.0, 5.0, 2.0, 3.0]
    assert buf.obs[:, 0].tolist() == [4.0, 5.0, 2.0, 3.0]
    assert buf.next_obs[:, 1].tolist() == [-5.0, -6.0, -3.0, -4.0]
    assert buf.actions.tolist() == [1, 2, 2, 0]
    fill(buf, 3, start=6)  # 6 7 8 overwrite rows 2 3 0
    assert buf.rewards.tolist() == [8.0, 5.0, 6.0, 7.0]
    buf.clear()
    assert len(buf) == 0
    with pytest.raises(ValueError, match="only 0 are stored"):
        buf.sample(1)


def test_extend_matches_add_including_wrap():
    a, b = ReplayBuffer(5, (2,)), ReplayBuffer(5, (2,))
    fill(a, 3, terminal_every=4)
    fill(b, 3, terminal_every=4)
    t = np.arange(3, 10)
    obs = np.stack([t, -t], 1)
    a.extend(obs, t % 3, t.astype(float), obs + np.array([1, -1]), (t + 1) % 4 == 0)
    fill(b, 7, start=3, terminal_every=4)
    assert b.terminated.any()
    for field in ("obs", "next_obs", "actions", "rewards", "terminated", "truncated"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert len(a) == len(b) == 5
    # more than the capacity in one call: only the newest are kept, in ring order
    c = ReplayBuffer(3, ())
    c.extend(np.arange(7.0), np.zeros(7, int), np.arange(7.0), np.arange(1.0, 8.0),
             np.zeros(7, bool))
    assert len(c) == 3 and sorted(c.rewards.tolist()) == [4.0, 5.0, 6.0]
    c.add(7.0, 0, 7.0, 8.0, False)   # overwrites the oldest (4)
    assert sorted(c.rewards.tolist()) == [5.0, 6.0, 7.0]


def test_sampling_is_uniform_over_stored_rows():
    buf = ReplayBuffer(20, (1,), seed=0)
    fill_obs = np.arange(10.0)[:, None]
    buf.extend(fill_obs, np.zeros(10, int), np.arange(10.0), fill_obs + 1, np.zeros(10, bool))
    counts = np.zeros(20)
    for _ in range(1000):
        b = buf.sample(10)
        np.add.at(counts, b.rewards.astype(int), 1)
        # each sample's fields come from one transition
        np.testing.assert_array_equal(b.obs[:, 0], b.rewards)
        np.testing.assert_array_equal(b.next_obs[:, 0], b.rewards + 1)
    assert counts[10:].sum() == 0      # never an unfilled row
    expected = 1000 * 10 / 10
    chi2 = ((counts[:10] - expected) ** 2 / expected).sum()
    assert chi2 < 27.9                 # chi-square, 9 dof, p = 0.001
    # a seed makes sampling repeat
    again = [ReplayBuffer(20, (1,), seed=3) for _ in range(2)]
    for r in again:
        r.extend(fill_obs, np.zeros(10, int), np.arange(10.0), fill_obs, np.zeros(10, bool))
    np.testing.assert_array_equal(again[0].sample(8).rewards, again[1].sample(8).rewards)


def test_n_step_returns_stop_at_episode_ends_and_the_newest_step():
    g = 0.5
    buf = ReplayBuffer(10, (1,), n_step=3, gamma=g)
    # episode A: steps 0,1,2 (2 terminates); episode B: steps 3,4 (4 truncated); C: 5, 6
    rewards = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0]
    term = [False, False, True, False, False, False, False]
    trunc = [False, False, False, False, True, False, False]
    for t in range(7):
        buf.add([t], 0, rewards[t], [t + 1], term[t], trunc[t])
    b = buf.sample(7, indices=np.arange(7))
    expect = [1 + g * 2 + g * g * 4,   # 3 steps, ends terminated at step 2
              2 + g * 4,               # stops at the terminal step
              4.0,
              8 + g * 16,              # stops at the truncation
              16.0,
              32 + g * 64,             # stops at the newest stored step
              64.0]
    np.testing.assert_allclose(b.rewards, expect, rtol=1e-6)
    assert b.n_steps.tolist() == [3, 2, 1, 2, 1, 2, 1]
    assert b.next_obs[:, 0].tolist() == [3, 3, 3, 5, 5, 7, 7]
    assert b.terminated.tolist() == [True, True, True, False, False, False, False]


def test_n_step_across_the_ring_seam():
    g = 0.9
    buf = ReplayBuffer(4, (), n_step=2, gamma=g)
    for t in range(6):          # rows: 4 5 2 3; the oldest (2) sits at row 2
        buf.add(float(t), 0, float(t + 1), float(t + 1), False)
    b = buf.sample(4, indices=[0, 1, 2, 3])   # transitions 4, 5, 2, 3
    np.testing.assert_allclose(b.rewards, [5 + g * 6, 6, 3 + g * 4, 4 + g * 5], rtol=1e-6)
    assert b.n_steps.tolist() == [2, 1, 2, 2]
    assert b.next_obs.tolist() == [6.0, 6.0, 4.0, 5.0]


def test_bad_input_errors():
    buf = ReplayBuffer(5, obs_shape=(4,))
    with pytest.raises(ValueError, match=r"obs must have shape \(4,\), got \(3,\)"):
        buf.add(np.zeros(3), 0, 0.0, np.zeros(4), False)
    with pytest.raises(ValueError, match="next_obs must have shape"):
        buf.add(np.zeros(4), 0, 0.0, np.zeros((2, 2)), False)
    with pytest.raises(TypeError, match="action must be integers"):
        buf.add(np.zeros(4), 0.5, 0.0, np.zeros(4), False)
    assert len(buf) == 0                    # nothing half-written counted
    with pytest.raises(ValueError, match=r"obs must have shape \(N, 4\)"):
        buf.extend(np.zeros(4), [0], [0.0], np.zeros((1, 4)), [False])
    with pytest.raises(ValueError, match="obs has 2 transitions, rewards has 3"):
        buf.extend(np.zeros((2, 4)), [0, 0], [0.0] * 3, np.zeros((2, 4)), [False] * 2)
    buf.add(np.zeros(4), 1, 0.0, np.zeros(4), False)
    with pytest.raises(ValueError, match="asked for 2 transitions but only 1 are stored"):
        buf.sample(2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        buf.sample(0)
    with pytest.raises(IndexError, match=r"indices must be in \[0, 1\)"):
        buf.sample(1, indices=[1])
    for kwargs, msg in (({"capacity": 0}, "capacity"), ({"n_step": 0}, "n_step"),
                        ({"gamma": 1.5}, "gamma")):
        args = {"capacity": 3, "obs_shape": (1,), **kwargs}
        with pytest.raises(ValueError, match=msg):
            ReplayBuffer(**args)
    assert "ReplayBuffer(1/5" in repr(buf)


def test_uint8_observations_and_box_actions():
    buf = ReplayBuffer(3, obs_shape=(2, 2), obs_dtype=np.uint8, action_shape=(2,),
                       action_dtype=np.float32)
    buf.add(np.full((2, 2), 255), [0.5, -0.5], 1.0, np.zeros((2, 2)), False)
    b = buf.sample(1)
    assert b.obs.dtype == np.uint8 and b.obs.max() == 255
    assert b.actions.shape == (1, 2) and b.actions.dtype == np.float32
