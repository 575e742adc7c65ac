"""Deep Q-learning (DQN): Q-learning with a neural network, experience replay and a
frozen target network (Mnih et al., 2015, "Human-level control through deep
reinforcement learning").

Seed 000, chapter 7 ("value based rl") and seed 004 ("Reinforcement Learning": DQN with
experience replay, a frozen target network and reward clipping). Tabular Q-learning keeps
one number per (state, action); with continuous observations (CartPole's cart position,
velocity, pole angle and angular velocity) a network ``Q_theta(s)`` outputs one value per
action instead, and is trained to satisfy the Bellman equation by regression on

    y = r + gamma * (1 - terminated) * max_a' Q_target(s', a')        (the TD target)
    loss = huber(Q_theta(s, a) - y)  averaged over a mini-batch.

Three things make this stable where naive "online Q-learning with a network" diverges:

* **Experience replay** (``ReplayBuffer``): train on random mini-batches of past
  transitions, not on the last few correlated steps.
* **A frozen target network** ``Q_target``: a copy of ``Q_theta`` that computes ``y`` and
  changes only every ``target_update_interval`` steps (``tau=1``, a hard copy) or slowly
  (``tau < 1``: ``theta_target <- tau theta + (1 - tau) theta_target``, Polyak), so the
  regression target does not move with every gradient step.
* **Bounded errors**: the Huber loss (quadratic below 1, linear above) and optional
  **reward clipping** to ``[-c, c]`` keep one surprising transition from producing a huge
  gradient (DeepMind clipped Atari scores to [-1, 1] so one learning rate fits all games).

``double=True`` is **Double DQN** (van Hasselt et al., 2016): the online network picks
``a* = argmax_a Q_theta(s', a)`` and the target network evaluates it, ``y = r + gamma
Q_target(s', a*)``, which removes most of the max operator's overestimation.

The target bootstraps through ``terminated`` only: an episode cut by a time limit
(CartPole-v1 stops at 500 steps, ``truncated=True``) did not reach a terminal state, so
its last transition still bootstraps from ``s'``.

>>> import shendu.rl as rl
>>> env = rl.GridWorld(["S..G"], max_steps=20)
>>> agent = rl.DQN(env, hidden=(32,), lr=5e-3, learning_starts=50, batch_size=32,
...                train_freq=1, target_update_interval=25, exploration_fraction=0.4,
...                seed=0)
>>> log = agent.train(800, report_every=0)
>>> [agent.act(s) for s in range(3)]  # right, right, right
[2, 2, 2]
"""
from __future__ import annotations

import copy
import json

import numpy as np

from shendu import nn, optim
from shendu.autograd import Tensor, no_grad
from shendu.backend import manual_seed
from shendu.nn import functional as F
from shendu.optim.clip import clip_grad_norm_

from .buffers import ReplayBuffer
from .common import Agent, TrainingLog, evaluate
from .schedules import LinearSchedule
from .spaces import Box, Discrete

__all__ = ["DQN", "q_mlp"]

_LOSSES = ("huber", "mse")


def _is(space, cls):
    return isinstance(space, cls) or type(space).__name__ == cls.__name__


def q_mlp(n_in, hidden, n_actions):
    """The default Q-network: ``Linear -> ReLU`` per hidden width, then ``Linear`` to one
    output per action; input ``(N, n_in)``, output ``(N, n_actions)``.

    >>> import shendu
    >>> q_mlp(4, (64, 64), 2)(shendu.zeros(5, 4)).shape
    (5, 2)
    """
    layers, width = [], int(n_in)
    for h in hidden:
        layers += [nn.Linear(width, int(h)), nn.ReLU()]
        width = int(h)
    layers.append(nn.Linear(width, int(n_actions)))
    return nn.Sequential(*layers)


class DQN(Agent):
    """Deep Q-network agent for a Discrete action space (Box or Discrete observations).

    Parameters
    ----------
    env : environment with Gymnasium's API (shendu's or Gymnasium's)
        Observations: a ``Box`` (fed as float32, flattened by the default network) or a
        ``Discrete`` (one-hot encoded). Actions: ``Discrete``.
    hidden : tuple of int, default (64, 64)
        Widths of the default ReLU MLP (``q_mlp``); ignored when ``q_network`` is given.
    q_network : shendu.nn.Module, optional
        Your own network: ``(N, *obs_shape)`` float32 -> ``(N, n_actions)``. It is deep-copied
        for the target network. ``save`` then stores its weights but not its code: pass
        the same architecture again to ``DQN.load(path, q_network=...)``.
    lr : float, default 1e-3
        Adam's learning rate.
    gamma : float, default 0.99
        Discount.
    buffer_size : int, default 100_000
        Replay capacity (transitions).
    batch_size : int, default 64
    learning_starts : int, default 1000
        Environment steps of uniformly random actions before learning begins (they fill
        the buffer).
    train_freq : int, default 4
        Learn every ``train_freq`` environment steps ...
    gradient_steps : int, default 1
        ... with this many mini-batch updates each time.
    target_update_interval : int, default 1000
        Update the target network every this many environment steps (after learning
        starts) ...
    tau : float in (0, 1], default 1.0
        ... by a hard copy (1.0) or a Polyak average ``tau theta + (1 - tau) theta_target``.
    epsilon_start, epsilon_end : float, default 1.0 and 0.05
        Exploration: epsilon falls linearly from ``epsilon_start`` to ``epsilon_end`` ...
    exploration_fraction : float in (0, 1], default 0.1
        ... over this fraction of the first ``train`` call's ``total_steps``, then stays at
        ``epsilon_end`` (later calls continue the same schedule).
    loss : "huber" or "mse", default "huber"
        Huber is ``smooth_l1_loss`` with beta 1: ``0.5 d^2`` for ``|d| < 1``, else ``|d| - 0.5``.
    reward_clip : float or None
        Store rewards clipped to ``[-reward_clip, reward_clip]`` (the returns in the
        training log stay the environment's own).
    double : bool, default False
        Double DQN targets.
    max_grad_norm : float or None, default 10.0
        Clip the gradients' total norm (``clip_grad_norm_``); None: no clipping.
    n_step : int, default 1
        Learn from n-step returns (see ``ReplayBuffer``).
    seed : int or None
        Seeds the network's initial weights (``shendu.manual_seed``), exploration, replay
        sampling and the environment's first reset.

    Attributes
    ----------
    q_network, target_network : nn.Module
    optimizer : optim.Adam
    buffer : ReplayBuffer
    steps : int, environment steps trained so far
    updates : int, gradient steps so far
    """

    def __init__(self, env, hidden=(64, 64), q_network=None, lr=1e-3, gamma=0.99,
                 buffer_size=100_000, batch_size=64, learning_starts=1000, train_freq=4,
                 gradient_steps=1, target_update_interval=1000, tau=1.0, epsilon_start=1.0,
                 epsilon_end=0.05, exploration_fraction=0.1, loss="huber", reward_clip=None,
                 double=False, max_grad_norm=10.0, n_step=1, seed=None):
        self.env = env
        obs_space, act_space = env.observation_space, env.action_space
        if not _is(act_space, Discrete):
            raise TypeError(f"DQN needs a Discrete action space (one Q-value per action), got "
                            f"{act_space!r}; for continuous actions use a policy-gradient "
                            "method (A2C, PPO)")
        self.n_actions = int(act_space.n)
        self._act_start = int(getattr(act_space, "start", 0))
        if _is(obs_space, Discrete):
            self._obs_n, self._obs_start = int(obs_space.n), int(getattr(obs_space, "start", 0))
            self.obs_shape = (self._obs_n,)
        elif _is(obs_space, Box):
            self._obs_n, self.obs_shape = None, tuple(int(s) for s in obs_space.shape)
        else:
            raise TypeError(f"DQN: the observation space must be a Box or Discrete, got "
                            f"{obs_space!r}")

        def positive_int(name, value):
            if int(value) != value or value < 1:
                raise ValueError(f"DQN: {name} must be a positive integer, got {value!r}")
            return int(value)

        def probability(name, value, low_open=False):
            value = float(value)
            if not (0.0 < value <= 1.0 if low_open else 0.0 <= value <= 1.0):
                raise ValueError(f"DQN: {name} must be in {'(0' if low_open else '[0'}, 1], "
                                 f"got {value!r}")
            return value

        self.batch_size = positive_int("batch_size", batch_size)
        self.buffer_size = positive_int("buffer_size", buffer_size)
        self.train_freq = positive_int("train_freq", train_freq)
        self.gradient_steps = positive_int("gradient_steps", gradient_steps)
        self.target_update_interval = positive_int("target_update_interval",
                                                   target_update_interval)
        self.n_step = positive_int("n_step", n_step)
        if int(learning_starts) != learning_starts or learning_starts < 0:
            raise ValueError(f"DQN: learning_starts must be a non-negative integer, got "
                             f"{learning_starts!r}")
        self.learning_starts = int(learning_starts)
        self.gamma = probability("gamma", gamma)
        self.tau = probability("tau", tau, low_open=True)
        self.epsilon_start = probability("epsilon_start", epsilon_start)
        self.epsilon_end = probability("epsilon_end", epsilon_end)
        self.exploration_fraction = probability("exploration_fraction", exploration_fraction,
                                                low_open=True)
        if loss not in _LOSSES:
            raise ValueError(f"DQN: loss must be one of {_LOSSES}, got {loss!r}")
        self.loss = loss
        if reward_clip is not None and not float(reward_clip) > 0:
            raise ValueError(f"DQN: reward_clip must be a positive number or None, got "
                             f"{reward_clip!r}")
        self.reward_clip = None if reward_clip is None else float(reward_clip)
        if max_grad_norm is not None and not float(max_grad_norm) > 0:
            raise ValueError(f"DQN: max_grad_norm must be a positive number or None, got "
                             f"{max_grad_norm!r}")
        self.max_grad_norm = None if max_grad_norm is None else float(max_grad_norm)
        self.lr = float(lr)
        self.double = bool(double)
        self.seed = None if seed is None else int(seed)
        self.hidden = tuple(int(h) for h in hidden)

        if self.seed is not None:
            manual_seed(self.seed)
        self._custom_network = q_network is not None
        if q_network is None:
            q_network = q_mlp(int(np.prod(self.obs_shape)), self.hidden, self.n_actions)
            if len(self.obs_shape) > 1:
                q_network = nn.Sequential(nn.Flatten(), q_network)
        elif not isinstance(q_network, nn.Module):
            raise TypeError(f"DQN: q_network must be a shendu.nn.Module, got "
                            f"{type(q_network).__name__}")
        self.q_network = q_network
        self.target_network = copy.deepcopy(q_network)
        self.target_network.requires_grad_(False)
        self.target_network.eval()
        self._params = list(self.q_network.parameters())
        self._target_params = list(self.target_network.parameters())
        self.optimizer = optim.Adam(self._params, lr=self.lr)
        # independent streams for exploration and replay sampling, both from ``seed``
        explore_seed, replay_seed = np.random.SeedSequence(self.seed).spawn(2)
        self.rng = np.random.default_rng(explore_seed)
        self.buffer = ReplayBuffer(self.buffer_size, self.obs_shape, seed=replay_seed,
                                   n_step=self.n_step, gamma=self.gamma)
        self._check_network()
        self.steps = 0
        self.updates = 0
        #: environment steps over which epsilon falls (set by the first ``train`` call)
        self.exploration_steps = None
        self._obs = None  # the observation the next training step acts on
        self._last_loss = float("nan")
        #: with train(keep_best=True): the best evaluation's weights, step and mean return
        self.best_state, self.best_step, self.best_return = None, None, -np.inf

    def _check_network(self):
        x = Tensor(np.zeros((2, *self.obs_shape), np.float32))
        with no_grad():
            out = self.q_network(x)
        if tuple(out.shape) != (2, self.n_actions):
            raise ValueError(f"DQN: q_network must map (N, {', '.join(map(str, self.obs_shape))}"
                             f") to (N, {self.n_actions}) (one Q-value per action), but a batch "
                             f"of 2 observations gave shape {tuple(out.shape)}")

    # ------------------------------------------------------------------ observations
    def _encode(self, obs):
        """One observation -> float32 array of ``obs_shape`` (one-hot for Discrete)."""
        if self._obs_n is not None:
            x = np.zeros(self._obs_n, np.float32)
            s = int(np.asarray(obs).reshape(())) - self._obs_start
            if not 0 <= s < self._obs_n:
                raise ValueError(f"DQN: state {obs!r} is outside the observation space's "
                                 f"{self._obs_n} states")
            x[s] = 1.0
            return x
        x = np.asarray(obs, dtype=np.float32)
        if x.shape != self.obs_shape:
            raise ValueError(f"DQN: expected an observation of shape {self.obs_shape}, got "
                             f"{x.shape}")
        return x

    def _encode_batch(self, obs):
        """Observations ``(N, *obs_shape)`` (or ``(N,)`` states) -> float32 ``(N, *obs_shape)``;
        one observation gives N = 1. Returns (array, was_single)."""
        if self._obs_n is not None:
            s = np.asarray(obs)
            single = s.ndim == 0
            s = s.reshape(-1).astype(np.int64) - self._obs_start
            if s.size and (s.min() < 0 or s.max() >= self._obs_n):
                raise ValueError(f"DQN: states must be in [{self._obs_start}, "
                                 f"{self._obs_start + self._obs_n}), got {obs!r}")
            x = np.zeros((s.size, self._obs_n), np.float32)
            x[np.arange(s.size), s] = 1.0
            return x, single
        x = np.asarray(obs, dtype=np.float32)
        if x.shape == self.obs_shape:
            return x[None], True
        if x.shape[1:] != self.obs_shape:
            raise ValueError(f"DQN: expected observations of shape {self.obs_shape} or "
                             f"(N, {', '.join(map(str, self.obs_shape))}), got {x.shape}")
        return x, False

    # ------------------------------------------------------------------ acting
    def q_values(self, obs):
        """``Q(obs, a)`` for every action from the online network: shape ``(n_actions,)``
        for one observation, ``(N, n_actions)`` for a batch."""
        x, single = self._encode_batch(obs)
        with no_grad():
            q = self.q_network(Tensor(x))._data
        return q[0] if single else q

    @property
    def epsilon(self):
        """The exploration rate at the current step."""
        return self._epsilon(self.steps)

    def _epsilon(self, t):
        if self.exploration_steps is None:
            return self.epsilon_start
        return LinearSchedule(self.epsilon_start, self.epsilon_end, self.exploration_steps)(t)

    def _greedy(self, x):
        with no_grad():
            q = self.q_network(Tensor(x[None]))._data
        return int(q[0].argmax())

    def act(self, obs, greedy=True):
        """The action for ``obs``: ``argmax_a Q(obs, a)`` (ties: the lowest), or with
        ``greedy=False`` epsilon-greedy at the current ``epsilon``."""
        x = self._encode(obs)
        if not greedy and self.rng.random() < self.epsilon:
            return int(self.rng.integers(self.n_actions)) + self._act_start
        return self._greedy(x) + self._act_start

    def evaluate(self, env=None, episodes=100, seed=None):
        """Greedy returns over ``episodes`` episodes (``shendu.rl.evaluate``), array (episodes,)."""
        return evaluate(self.act, self.env if env is None else env, episodes, seed=seed)

    # ------------------------------------------------------------------ learning
    def td_target(self, rewards, next_obs, terminated, n_steps=None):
        """The regression targets ``y``, float32 (B,), for encoded ``next_obs`` (B, *obs_shape):

            y = rewards + gamma^k * (1 - terminated) * Q_target(next_obs, a*)

        with ``a* = argmax_a Q_target(next_obs, a)`` (``double=False``) or
        ``argmax_a Q_online(next_obs, a)`` (``double=True``), and k = ``n_steps`` (1 by
        default). No gradient flows through it."""
        next_obs = np.asarray(next_obs, dtype=np.float32)
        with no_grad():
            q_next = self.target_network(Tensor(next_obs))._data
            if self.double:
                best = self.q_network(Tensor(next_obs))._data.argmax(axis=1)
                v_next = q_next[np.arange(q_next.shape[0]), best]
            else:
                v_next = q_next.max(axis=1)
        discount = self.gamma if n_steps is None else \
            np.float32(self.gamma) ** np.asarray(n_steps, dtype=np.float32)
        live = 1.0 - np.asarray(terminated, dtype=np.float32)
        return (np.asarray(rewards, dtype=np.float32) + discount * live * v_next) \
            .astype(np.float32, copy=False)

    def update(self, batch):
        """One gradient step on a ``Batch`` (from ``buffer.sample``; actions as 0-based
        indices, observations encoded); returns the loss.

        ``loss = mean(huber(Q(obs, actions) - td_target))``, gradients clipped to
        ``max_grad_norm``, then Adam."""
        y = self.td_target(batch.rewards, batch.next_obs, batch.terminated,
                           None if self.n_step == 1 else batch.n_steps)
        q = self.q_network(Tensor(batch.obs))
        # Q(s, a) for the taken actions: gather picks one column per row
        q_taken = q.gather(1, batch.actions.reshape(-1, 1)).reshape(-1)
        target = Tensor(y)
        if self.loss == "huber":
            loss = F.smooth_l1_loss(q_taken, target)
        else:
            loss = F.mse_loss(q_taken, target)
        self.optimizer.zero_grad()
        loss.backward()
        if self.max_grad_norm is not None:
            clip_grad_norm_(self._params, self.max_grad_norm)
        self.optimizer.step()
        self.updates += 1
        return float(loss._data)

    def update_target(self):
        """``theta_target <- tau theta + (1 - tau) theta_target`` (a copy when tau = 1)."""
        tau = self.tau
        for p, tp in zip(self._params, self._target_params):
            if tau == 1.0:
                np.copyto(tp._data, p._data)
            else:
                tp._data *= 1.0 - tau
                tp._data += tau * p._data
        # buffers (e.g. batch-norm statistics) are copied as they are
        for b, tb in zip(self.q_network.buffers(), self.target_network.buffers()):
            np.copyto(tb._data, b._data)

    def train(self, total_steps, report_every=10, log=None, eval_env=None, eval_every=None,
              eval_episodes=10, eval_seed=None, keep_best=False):
        """Interact for ``total_steps`` environment steps, learning as it goes; returns
        a ``TrainingLog``.

        Each step: an epsilon-greedy action (uniformly random before ``learning_starts``),
        the transition into the replay buffer; every ``train_freq`` steps
        ``gradient_steps`` updates on sampled mini-batches; every
        ``target_update_interval`` steps ``update_target``. A later call continues
        (steps, epsilon, the current episode).

        ``report_every``: print a line every that many episodes (0: silent).
        ``eval_env`` with ``eval_every=N``: every N steps play ``eval_episodes`` greedy
        episodes there (the first reset seeded with ``eval_seed + step`` when given);
        ``log.history`` gets ``eval_step`` and ``eval_return`` (their mean). With
        ``keep_best=True`` a copy of the online network's weights at the best of these
        evaluations (the latest among ties) is kept as ``best_state`` (with
        ``best_step``, ``best_return``); ``restore_best()`` loads it, the way a validation
        set picks a checkpoint: DQN's greedy policy on CartPole can swing between 500
        and ~100 from one evaluation to the next long after it first learned.
        ``log.history`` holds ``return``, ``length``, ``step``, ``epsilon`` and ``loss``
        (the mean loss of the updates during the episode, NaN before learning) per episode.
        """
        if int(total_steps) != total_steps or total_steps < 0:
            raise ValueError(f"DQN.train: total_steps must be a non-negative integer, got "
                             f"{total_steps!r}")
        if (eval_every is not None or keep_best) and eval_env is None:
            raise ValueError("DQN.train: eval_every and keep_best need eval_env (a separate "
                             "environment to play greedy episodes in)")
        if keep_best and not eval_every:
            raise ValueError("DQN.train: keep_best needs eval_every (how often to evaluate)")
        total_steps = int(total_steps)
        if self.exploration_steps is None:
            self.exploration_steps = max(1, int(self.exploration_fraction * total_steps))
        log = log or TrainingLog(report_every=0, name="DQN")
        env, buffer, rng = self.env, self.buffer, self.rng
        n_actions, start = self.n_actions, self._act_start
        clip = self.reward_clip
        if self._obs is None:
            obs, _ = env.reset(seed=self.seed if self.steps == 0 else None)
            self._obs, self._ep_return, self._ep_length, self._ep_losses = \
                self._encode(obs), 0.0, 0, []
        x = self._obs
        for _ in range(total_steps):
            eps = self._epsilon(self.steps)
            if self.steps < self.learning_starts or rng.random() < eps:
                a = int(rng.integers(n_actions))
            else:
                a = self._greedy(x)
            obs, reward, terminated, truncated, _ = env.step(a + start)
            x_next = self._encode(obs)
            stored = reward if clip is None else min(max(reward, -clip), clip)
            buffer.add(x, a, stored, x_next, terminated, truncated)  # actions 0-based
            self.steps += 1
            self._ep_return += float(reward)
            self._ep_length += 1
            if self.steps > self.learning_starts:
                if self.steps % self.train_freq == 0:
                    for _ in range(self.gradient_steps):
                        self._ep_losses.append(self.update(buffer.sample(self.batch_size)))
                    self._last_loss = self._ep_losses[-1]
                if self.steps % self.target_update_interval == 0:
                    self.update_target()
            if terminated or truncated:
                loss = float(np.mean(self._ep_losses)) if self._ep_losses else float("nan")
                log.episode(self._ep_return, self._ep_length, epsilon=eps, loss=loss)
                if report_every and log.episodes % report_every == 0:
                    last = self._last_loss
                    log.report(f" | epsilon {eps:.3f} | loss {last:.4f} (last update)")
                obs, _ = env.reset()
                x_next = self._encode(obs)
                self._ep_return, self._ep_length, self._ep_losses = 0.0, 0, []
            x = x_next
            if eval_every and self.steps % int(eval_every) == 0:
                returns = self.evaluate(eval_env, eval_episodes,
                                        seed=None if eval_seed is None else eval_seed + self.steps)
                log.record("eval_step", self.steps)
                log.record("eval_return", float(np.mean(returns)))
                if keep_best and np.mean(returns) >= self.best_return:
                    self.best_return, self.best_step = float(np.mean(returns)), self.steps
                    self.best_state = {k: np.array(v._data, copy=True)
                                       for k, v in self.q_network.state_dict().items()}
                if report_every:
                    print(f"DQN: step {self.steps:>8,} | greedy return {np.mean(returns):8.2f} "
                          f"(mean of {eval_episodes} episodes)", file=log.file, flush=True)
        self._obs = x
        return log

    def restore_best(self):
        """Load the weights of the best evaluation of ``train(..., keep_best=True)`` into
        the online and the target network; returns the step they come from."""
        if self.best_state is None:
            raise RuntimeError("DQN.restore_best: no best weights kept; train with "
                               "eval_env=..., eval_every=N, keep_best=True first")
        self.q_network.load_state_dict(self.best_state)
        self.target_network.load_state_dict(self.best_state)
        return self.best_step

    # ------------------------------------------------------------------ saving
    def config(self):
        return {"hidden": list(self.hidden), "lr": self.lr, "gamma": self.gamma,
                "buffer_size": self.buffer_size, "batch_size": self.batch_size,
                "learning_starts": self.learning_starts, "train_freq": self.train_freq,
                "gradient_steps": self.gradient_steps,
                "target_update_interval": self.target_update_interval, "tau": self.tau,
                "epsilon_start": self.epsilon_start, "epsilon_end": self.epsilon_end,
                "exploration_fraction": self.exploration_fraction, "loss": self.loss,
                "reward_clip": self.reward_clip, "double": self.double,
                "max_grad_norm": self.max_grad_norm, "n_step": self.n_step, "seed": self.seed}

    def state_dict(self):
        """Weights of both networks, Adam's state and the counters (not the replay buffer)."""
        return {"q_network": self.q_network.state_dict(),
                "target_network": self.target_network.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "steps": int(self.steps), "updates": int(self.updates),
                "exploration_steps": self.exploration_steps,
                "custom_network": self._custom_network}

    def load_state_dict(self, state):
        self.q_network.load_state_dict(state["q_network"])
        self.target_network.load_state_dict(state["target_network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.steps, self.updates = int(state["steps"]), int(state["updates"])
        e = state.get("exploration_steps")
        self.exploration_steps = None if e is None else int(e)

    def save(self, path):
        """Write the agent (env id, hyperparameters, both networks, Adam's state)
        atomically with ``shendu.save`` (safetensors + JSON). The replay buffer is not saved."""
        super().save(path)

    @classmethod
    def load(cls, path, env=None, q_network=None):
        """Rebuild a saved agent. An agent built with its own ``q_network`` needs a fresh
        instance of the same architecture here (its weights come from the file)."""
        from shendu.io import load

        from .env import make
        data = load(path)
        if not isinstance(data, dict) or data.get("agent") != cls.__name__:
            got = data.get("agent") if isinstance(data, dict) else None
            raise ValueError(f"{cls.__name__}.load: {path} is not a saved {cls.__name__}"
                             + (f" (it holds a {got}; use {got}.load)" if got else ""))
        if data["state"].get("custom_network") and q_network is None:
            raise ValueError(f"{cls.__name__}.load: {path} was trained with a custom "
                             "q_network; pass one of the same architecture: "
                             f"{cls.__name__}.load(path, q_network=...)")
        if env is None:
            if not data.get("env"):
                raise ValueError(f"{cls.__name__}.load: {path} does not name its environment; "
                                 "pass env=")
            env = make(data["env"])
        config = json.loads(json.dumps(data["config"]))
        agent = cls(env, q_network=q_network, **config)
        agent.load_state_dict(data["state"])
        return agent

    def __repr__(self):
        return (f"DQN(actions={self.n_actions}, obs_shape={self.obs_shape}, "
                f"double={self.double}, steps={self.steps}, updates={self.updates})")
