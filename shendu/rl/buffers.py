"""Experience replay: a fixed-size memory of transitions that DQN learns from in random
mini-batches.

Seed 004 ("Reinforcement Learning", DQN): consecutive steps of one episode are strongly
correlated, and a network trained on them in order forgets what it learned a few hundred
steps ago. **Experience replay** (Lin, 1992; Mnih et al., 2015) stores every transition
``(s, a, r, s', terminated)`` in a large ring buffer and trains on mini-batches drawn
uniformly from it: the batches are close to independent, and each transition is reused
many times.

The buffer here preallocates one NumPy array per field, so ``add`` is a few array writes
and ``sample`` a few fancy-indexing reads, with no Python objects per transition. When it
is full, the oldest transitions are overwritten first.

With ``n_step > 1`` a sample carries the **n-step return**
``r_t + gamma r_{t+1} + ... + gamma^(k-1) r_{t+k-1}`` of the k <= n steps that follow
in the same episode (it stops early at an episode's end, terminated or truncated, and at
the newest stored step), with ``next_obs`` the observation after those k steps and
``n_steps = k``, so the TD target is ``rewards + gamma^k (1 - terminated) max_a Q(next_obs, a)``.

>>> import numpy as np
>>> from shendu.rl.buffers import ReplayBuffer
>>> buf = ReplayBuffer(3, obs_shape=(2,), seed=0)
>>> for t in range(4):  # the 4th add overwrites the 1st
...     buf.add([t, t], action=t % 2, reward=float(t), next_obs=[t + 1, t + 1], terminated=t == 3)
>>> len(buf), sorted(buf.rewards.tolist())
(3, [1.0, 2.0, 3.0])
>>> batch = buf.sample(2)
>>> batch.obs.shape, batch.actions.dtype, batch.terminated.dtype
((2, 2), dtype('int64'), dtype('bool'))
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["ReplayBuffer", "Batch"]


class Batch(NamedTuple):
    """A mini-batch of B transitions, one array per field (B first in every shape)."""
    obs: np.ndarray          #: (B, *obs_shape), the states s_t
    actions: np.ndarray      #: (B, *action_shape), the actions a_t taken in them
    rewards: np.ndarray      #: (B,) float32, r_t (the discounted n-step sum with n_step > 1)
    next_obs: np.ndarray     #: (B, *obs_shape), the state after the step(s)
    terminated: np.ndarray   #: (B,) bool, True when next_obs is terminal (no bootstrap)
    n_steps: np.ndarray      #: (B,) int64, the number of steps in ``rewards`` (1 unless n_step > 1)


def _shape(shape, name):
    if shape is None:
        return ()
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    try:
        shape = tuple(int(s) for s in shape)
    except TypeError:
        raise TypeError(f"ReplayBuffer: {name} must be a tuple of ints, got {shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"ReplayBuffer: {name} must not have negative sizes, got {shape}")
    return shape


class ReplayBuffer:
    """A ring buffer of transitions ``(obs, action, reward, next_obs, terminated)``.

    Parameters
    ----------
    capacity : int
        The most transitions kept; beyond it the oldest are overwritten.
    obs_shape : tuple of int
        The shape of one observation, e.g. ``(4,)`` for CartPole.
    obs_dtype : NumPy dtype, default float32
        How observations are stored (``uint8`` for Atari frames saves 4x the memory).
    action_shape : tuple of int, default ``()``
        The shape of one action: ``()`` for a Discrete action, ``(d,)`` for a Box.
    action_dtype : NumPy dtype, default int64
    seed : int or None
        Seeds the generator that draws the mini-batches.
    n_step : int, default 1
        Samples carry k-step returns with k <= ``n_step`` (see the module docstring).
    gamma : float, default 0.99
        The discount inside n-step returns (unused when ``n_step=1``).

    Attributes
    ----------
    obs, actions, rewards, next_obs, terminated, truncated : ndarray
        The storage, ``capacity`` rows each (only ``len(buffer)`` of them filled; the row
        order is the ring's, not the time order).
    """

    def __init__(self, capacity, obs_shape, obs_dtype=np.float32, action_shape=(),
                 action_dtype=np.int64, seed=None, n_step=1, gamma=0.99):
        if int(capacity) != capacity or capacity < 1:
            raise ValueError(f"ReplayBuffer: capacity must be a positive integer, got {capacity!r}")
        if int(n_step) != n_step or n_step < 1:
            raise ValueError(f"ReplayBuffer: n_step must be a positive integer, got {n_step!r}")
        if not 0.0 <= float(gamma) <= 1.0:
            raise ValueError(f"ReplayBuffer: gamma must be in [0, 1], got {gamma!r}")
        self.capacity = int(capacity)
        self.obs_shape = _shape(obs_shape, "obs_shape")
        self.action_shape = _shape(action_shape, "action_shape")
        self.n_step, self.gamma = int(n_step), float(gamma)
        c = self.capacity
        self.obs = np.zeros((c, *self.obs_shape), dtype=obs_dtype)
        self.next_obs = np.zeros((c, *self.obs_shape), dtype=obs_dtype)
        self.actions = np.zeros((c, *self.action_shape), dtype=action_dtype)
        self.rewards = np.zeros(c, dtype=np.float32)
        self.terminated = np.zeros(c, dtype=bool)
        #: True where the episode was cut there (time limit): it ends n-step sums too
        self.truncated = np.zeros(c, dtype=bool)
        self.rng = np.random.default_rng(seed)
        self._pos = 0      # the row the next transition goes to
        self._size = 0

    def __len__(self):
        return self._size

    @property
    def full(self):
        return self._size == self.capacity

    def clear(self):
        """Forget every transition (the storage is kept)."""
        self._pos = self._size = 0

    # ------------------------------------------------------------------ adding
    def _rows(self, value, shape, dtype, name, batched):
        """``value`` as an array of ``shape`` (with a leading batch axis when ``batched``)."""
        arr = np.asarray(value)
        want = shape if not batched else (arr.shape[:1] + shape if arr.ndim else None)
        if want is None or arr.shape != want:
            dims = (["N"] if batched else []) + [str(s) for s in shape]
            lead = "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
            raise ValueError(f"ReplayBuffer.{'extend' if batched else 'add'}: {name} must have "
                             f"shape {lead}, got {arr.shape}")
        if np.issubdtype(dtype, np.integer) and not np.issubdtype(arr.dtype, np.integer) \
                and arr.dtype != bool:
            if not np.array_equal(arr, np.round(arr)):
                raise TypeError(f"ReplayBuffer: {name} must be integers ({np.dtype(dtype)}), "
                                f"got {arr.dtype} values like {arr.reshape(-1)[:3].tolist()}")
        return arr

    def add(self, obs, action, reward, next_obs, terminated, truncated=False):
        """Store one transition. ``obs`` and ``next_obs`` have shape ``obs_shape``,
        ``action`` has ``action_shape``; ``terminated`` says ``next_obs`` is terminal,
        ``truncated`` that the episode was cut there (only n-step sums look at it)."""
        # check everything before writing: a bad call must not corrupt the oldest row
        obs = self._rows(obs, self.obs_shape, self.obs.dtype, "obs", False)
        next_obs = self._rows(next_obs, self.obs_shape, self.obs.dtype, "next_obs", False)
        action = self._rows(action, self.action_shape, self.actions.dtype, "action", False)
        reward = float(reward)
        i = self._pos
        self.obs[i], self.next_obs[i], self.actions[i] = obs, next_obs, action
        self.rewards[i] = reward
        self.terminated[i] = bool(terminated)
        self.truncated[i] = bool(truncated)
        self._pos = (i + 1) % self.capacity
        self._size = min(self._size + 1, self.capacity)

    def extend(self, obs, actions, rewards, next_obs, terminated, truncated=None):
        """Store N transitions at once, in time order (arrays with a leading axis N).
        With N > capacity only the last ``capacity`` are kept."""
        obs = self._rows(obs, self.obs_shape, self.obs.dtype, "obs", True)
        n = obs.shape[0]
        next_obs = self._rows(next_obs, self.obs_shape, self.obs.dtype, "next_obs", True)
        actions = self._rows(actions, self.action_shape, self.actions.dtype, "actions", True)
        rewards = np.asarray(rewards, dtype=np.float32).reshape(-1)
        terminated = np.asarray(terminated, dtype=bool).reshape(-1)
        truncated = np.zeros(n, bool) if truncated is None else \
            np.asarray(truncated, dtype=bool).reshape(-1)
        for name, arr in (("next_obs", next_obs), ("actions", actions), ("rewards", rewards),
                          ("terminated", terminated), ("truncated", truncated)):
            if arr.shape[0] != n:
                raise ValueError(f"ReplayBuffer.extend: obs has {n} transitions, {name} has "
                                 f"{arr.shape[0]}")
        if n > self.capacity:  # only the newest fit; advance the ring as if all were added
            skip = n - self.capacity
            self._pos = (self._pos + skip) % self.capacity
            obs, next_obs, actions, rewards, terminated, truncated = (
                a[skip:] for a in (obs, next_obs, actions, rewards, terminated, truncated))
            n = self.capacity
        rows = (self._pos + np.arange(n)) % self.capacity
        self.obs[rows], self.next_obs[rows], self.actions[rows] = obs, next_obs, actions
        self.rewards[rows], self.terminated[rows], self.truncated[rows] = \
            rewards, terminated, truncated
        self._pos = (self._pos + n) % self.capacity
        self._size = min(self._size + n, self.capacity)

    # ------------------------------------------------------------------ sampling
    def sample(self, batch_size, indices=None):
        """A ``Batch`` of ``batch_size`` transitions drawn uniformly and independently
        (with replacement, as in DQN) from the stored ones.

        ``indices`` (ring rows, shape ``(B,)``) picks the rows instead, for tests and
        custom sampling schemes.
        """
        if indices is None:
            if int(batch_size) != batch_size or batch_size < 1:
                raise ValueError(f"ReplayBuffer.sample: batch_size must be a positive integer, "
                                 f"got {batch_size!r}")
            if batch_size > self._size:
                raise ValueError(f"ReplayBuffer.sample: asked for {batch_size} transitions but "
                                 f"only {self._size} are stored; add more first (DQN waits "
                                 "learning_starts steps) or ask for fewer")
            idx = self.rng.integers(0, self._size, size=int(batch_size))
        else:
            idx = np.asarray(indices, dtype=np.int64).reshape(-1)
            if idx.size and (idx.min() < 0 or idx.max() >= self._size):
                raise IndexError(f"ReplayBuffer.sample: indices must be in [0, {self._size}), "
                                 f"got {idx.min()}..{idx.max()}")
        if self.n_step == 1:
            return Batch(self.obs[idx], self.actions[idx], self.rewards[idx],
                         self.next_obs[idx], self.terminated[idx], np.ones(idx.size, np.int64))
        return self._sample_n_step(idx)

    def _sample_n_step(self, idx):
        """n-step returns for the rows ``idx``, all B x n look-aheads at once."""
        n, cap = self.n_step, self.capacity
        ahead = np.arange(n)
        rows = (idx[:, None] + ahead) % cap                      # (B, n) ring rows
        oldest = (self._pos - self._size) % cap
        in_buffer = (idx[:, None] - oldest) % cap + ahead < self._size   # not past the newest
        ended = self.terminated[rows] | self.truncated[rows]
        # step j counts if it is stored and no step before it (in this sum) ended the episode
        before_ended = np.cumsum(ended, axis=1) - ended > 0
        use = in_buffer & ~before_ended                          # use[:, 0] is always True
        k = use.sum(axis=1)
        discounts = (self.gamma ** ahead).astype(np.float32)
        rewards = (self.rewards[rows] * discounts * use).sum(axis=1, dtype=np.float32)
        last = rows[np.arange(idx.size), k - 1]
        return Batch(self.obs[idx], self.actions[idx], rewards, self.next_obs[last],
                     self.terminated[last], k.astype(np.int64))

    def __repr__(self):
        return (f"ReplayBuffer({self._size}/{self.capacity}, obs_shape={self.obs_shape}, "
                f"action_shape={self.action_shape}"
                + (f", n_step={self.n_step}, gamma={self.gamma}" if self.n_step > 1 else "") + ")")
