"""Tabular value-based RL: value iteration on a known model, Q-learning and SARSA from
experience (seed 000, chapter 7 "value based rl"; seed 004: "Optimal Q-values obey a
Bellman equation; value iteration algorithms solve the Bellman equation").

The optimal action values satisfy the Bellman optimality equation

    Q*(s, a) = sum_{s'} P(s' | s, a) [ r(s, a, s') + gamma * max_a' Q*(s', a') ]

(no bootstrap term after a terminating transition). **Value iteration** applies it as an
update to a table when the model ``P`` is known. **Q-learning** (off-policy) and
**SARSA** (on-policy) estimate Q from sampled steps ``(s, a, r, s')`` instead:

    Q-learning:  Q(s, a) += alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))
    SARSA:       Q(s, a) += alpha * (r + gamma * Q(s', a')        - Q(s, a)),
                 a' the epsilon-greedy action actually taken next

>>> import shendu.rl as rl
>>> env = rl.make("GridWorld-v0")
>>> V, policy = rl.value_iteration(env, gamma=0.99)
>>> agent = rl.QLearning(env, alpha=0.5, gamma=0.99, epsilon=0.2, seed=0)
>>> log = agent.train(300, report_every=0)
>>> env.greedy_path(agent.policy()) == env.greedy_path(policy)  # the shortest path
True
"""
from __future__ import annotations

import warnings

import numpy as np

from .common import Agent, TrainingLog
from .schedules import ConstantSchedule, ExponentialSchedule, LinearSchedule, as_schedule
from .spaces import Discrete

__all__ = ["value_iteration", "policy_evaluation", "q_values", "QLearning", "SARSA"]


# ------------------------------------------------------------------------ the model
class _Model:
    """``env.unwrapped.P`` flattened into arrays: one entry per (s, a, outcome), so a
    Bellman backup over all states is one ``np.bincount``."""

    def __init__(self, env, caller):
        P = getattr(getattr(env, "unwrapped", env), "P", None)
        if P is None:
            raise ValueError(f"{caller}: the environment has no transition model "
                             f"env.unwrapped.P ({type(getattr(env, 'unwrapped', env)).__name__}); "
                             "value iteration needs one in Gymnasium's toy-text format, "
                             "P[s][a] = [(prob, next_state, reward, terminated), ...], as "
                             "GridWorld, FrozenLake, Taxi and CliffWalking have. Without a "
                             "model, learn from experience: QLearning, SARSA, DQN")
        self.n_states = len(P)
        self.n_actions = len(P[0])
        sa, prob, nxt, reward, done = [], [], [], [], []
        for s in range(self.n_states):
            if len(P[s]) != self.n_actions:
                raise ValueError(f"{caller}: P[{s}] has {len(P[s])} actions, P[0] has "
                                 f"{self.n_actions}")
            for a in range(self.n_actions):
                for p, s2, r, terminated in P[s][a]:
                    sa.append(s * self.n_actions + a)
                    prob.append(p)
                    nxt.append(s2)
                    reward.append(r)
                    done.append(terminated)
        self.sa = np.asarray(sa, dtype=np.int64)
        self.prob = np.asarray(prob, dtype=np.float64)
        self.next = np.asarray(nxt, dtype=np.int64)
        self.reward = np.asarray(reward, dtype=np.float64)
        self.live = 1.0 - np.asarray(done, dtype=np.float64)  # 0 after a terminating step
        self.expected_reward = self._sum(self.prob * self.reward)

    def _sum(self, weights):
        return np.bincount(self.sa, weights, minlength=self.n_states * self.n_actions) \
            .reshape(self.n_states, self.n_actions)

    def backup(self, V, gamma):
        """Q(s, a) = sum_s' p (r + gamma * V(s') * [not terminated]), shape (S, A)."""
        return self.expected_reward + gamma * self._sum(self.prob * self.live * V[self.next])


def _check_gamma(gamma, caller):
    if not 0.0 <= float(gamma) <= 1.0:
        raise ValueError(f"{caller}: gamma must be in [0, 1], got {gamma!r}")
    return float(gamma)


def q_values(env, V, gamma=0.99):
    """One Bellman backup of the state values ``V`` (shape ``(S,)``) through the model:
    the action values ``Q(s, a) = sum_s' P(s'|s,a) [r + gamma V(s')]``, shape ``(S, A)``."""
    model = _Model(env, "q_values")
    V = np.asarray(V, dtype=np.float64)
    if V.shape != (model.n_states,):
        raise ValueError(f"q_values: V must have shape ({model.n_states},), got {V.shape}")
    return model.backup(V, _check_gamma(gamma, "q_values"))


def value_iteration(env, gamma=0.99, theta=1e-10, max_iterations=100_000):
    """Solve the Bellman optimality equation on ``env.unwrapped.P`` by value iteration.

    Repeats ``V(s) <- max_a sum_s' P(s'|s,a) [r + gamma V(s')]`` over all states at once
    until the largest change is below ``theta``.

    Parameters
    ----------
    env : an environment with ``unwrapped.P`` (GridWorld, Gymnasium's FrozenLake, Taxi,
        CliffWalking).
    gamma : float in [0, 1]
        Discount. ``gamma=1`` converges when every policy ends episodes (FrozenLake);
        otherwise (Taxi, CliffWalking) use ``gamma < 1``.
    theta : float
        Stop when ``max |V_new - V| < theta``.
    max_iterations : int
        At most this many sweeps (a RuntimeWarning says when they were not enough).

    Returns
    -------
    V : ndarray, shape (S,)
        The optimal state values (the probability of reaching the goal on FrozenLake with
        gamma = 1).
    policy : ndarray of int64, shape (S,)
        The greedy policy ``argmax_a Q(s, a)`` (ties: the lowest action).

    >>> from shendu.rl.envs.gridworld import GridWorld
    >>> V, policy = value_iteration(GridWorld(["S.G"], step_reward=0.0), gamma=0.9)
    >>> V.round(3).tolist(), policy.tolist()
    ([0.9, 1.0, 0.0], [2, 2, 0])
    """
    model = _Model(env, "value_iteration")
    gamma = _check_gamma(gamma, "value_iteration")
    V = np.zeros(model.n_states)
    delta = np.inf
    for _ in range(int(max_iterations)):
        V_new = model.backup(V, gamma).max(axis=1)
        delta = float(np.max(np.abs(V_new - V)))
        V = V_new
        if delta < theta:
            break
    else:
        warnings.warn(f"value_iteration: not converged after {max_iterations} sweeps (last "
                      f"change {delta:.3g} >= theta={theta:g}); with gamma={gamma:g} some "
                      "policy may never end an episode: use gamma < 1",
                      RuntimeWarning, stacklevel=2)
    return V, model.backup(V, gamma).argmax(axis=1).astype(np.int64)


def policy_evaluation(env, policy, gamma=0.99, theta=1e-10, max_iterations=100_000,
                      horizon=None):
    """The values ``V_pi(s)`` of a deterministic ``policy`` (one action per state, shape
    ``(S,)``) on ``env.unwrapped.P``, by iterating ``V <- r_pi + gamma P_pi V``.

    ``horizon=None``: iterate to convergence (``theta``), the values of endless episodes.
    ``horizon=H``: exactly H backups, the expected return of episodes cut after H steps
    (a time limit). On FrozenLake with ``gamma=1`` and ``horizon=100`` (its time limit),
    ``V_pi[0]`` is the policy's exact success rate.

    >>> from shendu.rl.envs.gridworld import GridWorld
    >>> V = policy_evaluation(GridWorld(["S.G"], step_reward=-0.1), [2, 2, 2], gamma=0.9)
    >>> V.round(3).tolist()
    [0.8, 1.0, 0.0]
    """
    model = _Model(env, "policy_evaluation")
    gamma = _check_gamma(gamma, "policy_evaluation")
    policy = np.asarray(policy)
    if policy.shape != (model.n_states,) or not np.issubdtype(policy.dtype, np.integer):
        raise ValueError(f"policy_evaluation: policy must be integer actions of shape "
                         f"({model.n_states},), got {policy.dtype} {policy.shape}")
    if policy.min() < 0 or policy.max() >= model.n_actions:
        raise ValueError(f"policy_evaluation: actions must be in [0, {model.n_actions - 1}]")
    rows = np.arange(model.n_states)
    V = np.zeros(model.n_states)
    if horizon is not None:
        if int(horizon) != horizon or horizon < 0:
            raise ValueError(f"policy_evaluation: horizon must be a non-negative integer or "
                             f"None, got {horizon!r}")
        for _ in range(int(horizon)):
            V = model.backup(V, gamma)[rows, policy]
        return V
    for _ in range(int(max_iterations)):
        V_new = model.backup(V, gamma)[rows, policy]
        delta = float(np.max(np.abs(V_new - V)))
        V = V_new
        if delta < theta:
            break
    else:
        warnings.warn(f"policy_evaluation: not converged after {max_iterations} sweeps "
                      f"(last change {delta:.3g}); the policy may never end an episode",
                      RuntimeWarning, stacklevel=2)
    return V


# ------------------------------------------------------------------------ schedules in configs
_SCHEDULES = {"ConstantSchedule": (ConstantSchedule, ("value",)),
              "LinearSchedule": (LinearSchedule, ("start", "end", "duration")),
              "ExponentialSchedule": (ExponentialSchedule, ("start", "end", "decay"))}


def _schedule(value, name, owner):
    """A number, a schedule, or a schedule's saved config ``{"schedule": "LinearSchedule",
    ...}`` -> a schedule (callable t -> value)."""
    if isinstance(value, dict):
        kind = value.get("schedule")
        if kind not in _SCHEDULES:
            raise ValueError(f"{owner}: {name}={value!r} is not a saved schedule")
        cls, fields = _SCHEDULES[kind]
        return cls(*(value[f] for f in fields))
    try:
        return as_schedule(value, f"{owner}: {name}")
    except TypeError:
        raise TypeError(f"{owner}: {name} must be a number or a schedule (callable t -> "
                        f"value, e.g. shendu.rl.LinearSchedule), got {value!r}") from None


def _schedule_config(schedule, name, owner):
    """JSON for ``save``: a number for a constant, a dict for shendu's schedules."""
    if isinstance(schedule, ConstantSchedule):
        return schedule.value
    kind = type(schedule).__name__
    if kind in _SCHEDULES and isinstance(schedule, _SCHEDULES[kind][0]):
        return {"schedule": kind, **{f: getattr(schedule, f) for f in _SCHEDULES[kind][1]}}
    raise TypeError(f"{owner}.save: cannot save {name}={schedule!r}: only numbers and "
                    "shendu.rl's ConstantSchedule, LinearSchedule, ExponentialSchedule are "
                    "saved; pass one of those")


# ------------------------------------------------------------------------ agents
class _TabularAgent(Agent):
    """Shared by QLearning and SARSA: the Q table, epsilon-greedy actions, the training
    loop; a subclass supplies ``_learn`` (its update rule)."""

    def __init__(self, env, alpha=0.1, gamma=0.99, epsilon=0.1, seed=None, q_init=0.0):
        name = type(self).__name__
        obs_space, act_space = env.observation_space, env.action_space
        for what, space in (("observation", obs_space), ("action", act_space)):
            if not (isinstance(space, Discrete) or type(space).__name__ == "Discrete"):
                raise TypeError(f"{name} needs a Discrete {what} space (one table row per "
                                f"state, one column per action), got {space!r}; for "
                                "continuous observations use DQN")
        self.env = env
        self.n_states, self.n_actions = int(obs_space.n), int(act_space.n)
        self._obs_start = int(getattr(obs_space, "start", 0))
        self._act_start = int(getattr(act_space, "start", 0))
        self.alpha = _schedule(alpha, "alpha", name)
        self.epsilon = _schedule(epsilon, "epsilon", name)
        self.gamma = _check_gamma(gamma, name)
        self.seed = None if seed is None else int(seed)
        self.q_init = float(q_init)
        self.rng = np.random.default_rng(seed)
        #: the action-value table Q(s, a), shape (n_states, n_actions)
        self.q = np.full((self.n_states, self.n_actions), self.q_init)
        #: episodes trained so far: the schedules' time t
        self.episodes = 0

    # -------------------------------------------------------------- acting
    def _state(self, obs):
        s = obs
        if isinstance(s, np.ndarray) and s.size == 1:
            s = s.reshape(())[()]
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: the observation must be a state index "
                            f"(an integer), got {obs!r}")
        s = int(s) - self._obs_start
        if not 0 <= s < self.n_states:
            raise ValueError(f"{type(self).__name__}: state {obs!r} is outside the table's "
                             f"{self.n_states} states")
        return s

    def _greedy(self, s):
        """argmax_a Q(s, a), ties broken at random (unvisited states are all ties)."""
        row = self.q[s]
        best = np.flatnonzero(row == row.max())
        return int(best[0]) if best.size == 1 else int(self.rng.choice(best))

    def _explore(self, s, eps):
        """Epsilon-greedy: a random action with probability eps, else the greedy one."""
        if self.rng.random() < eps:
            return int(self.rng.integers(self.n_actions))
        return self._greedy(s)

    def act(self, obs, greedy=True):
        """The action for observation ``obs``: ``argmax_a Q(obs, a)`` (ties: the lowest
        action), or with ``greedy=False`` epsilon-greedy at the current epsilon."""
        s = self._state(obs)
        if greedy:
            a = int(np.argmax(self.q[s]))
        else:
            a = self._explore(s, self.epsilon(self.episodes))
        return a + self._act_start

    def policy(self):
        """The greedy policy: one action per state, shape ``(n_states,)``."""
        return self.q.argmax(axis=1).astype(np.int64) + self._act_start

    def values(self):
        """The greedy state values ``max_a Q(s, a)``, shape ``(n_states,)``."""
        return self.q.max(axis=1)

    # -------------------------------------------------------------- learning
    def _learn(self, s, a, r, s2, terminated, alpha, eps):  # pragma: no cover - abstract
        """Update Q from one step and return the next action to take in s2."""
        raise NotImplementedError

    def train(self, episodes, report_every=100, max_steps=None, log=None):
        """Learn from ``episodes`` episodes of epsilon-greedy play; returns a TrainingLog.

        ``epsilon`` and ``alpha`` are evaluated per episode: ``epsilon(t)`` with t the
        number of episodes trained before (so a second ``train`` call continues the
        schedule). The first episode ever resets the environment with ``seed``.
        ``max_steps`` cuts episodes (besides the environment's own time limit).
        Bootstrapping stops only at ``terminated``, not at a time-limit cut.
        ``log.history`` holds ``return``, ``length``, ``step`` and ``epsilon`` per episode.
        """
        if int(episodes) != episodes or episodes < 0:
            raise ValueError(f"{type(self).__name__}.train: episodes must be a non-negative "
                             f"integer, got {episodes!r}")
        log = log or TrainingLog(report_every=report_every, name=type(self).__name__)
        env = self.env
        for _ in range(int(episodes)):
            eps, alpha = self.epsilon(self.episodes), self.alpha(self.episodes)
            obs, _ = env.reset(seed=self.seed if self.episodes == 0 else None)
            s = self._state(obs)
            a = self._explore(s, eps)
            total, t = 0.0, 0
            while True:
                obs, r, terminated, truncated, _ = env.step(a + self._act_start)
                s2 = self._state(obs)
                t += 1
                total += r
                a2 = self._learn(s, a, r, s2, terminated, alpha, eps)
                if terminated or truncated or (max_steps is not None and t >= max_steps):
                    break
                s, a = s2, a2
            self.episodes += 1
            log.episode(total, t, epsilon=eps)
        return log

    # -------------------------------------------------------------- saving
    def config(self):
        name = type(self).__name__
        return {"alpha": _schedule_config(self.alpha, "alpha", name),
                "gamma": self.gamma,
                "epsilon": _schedule_config(self.epsilon, "epsilon", name),
                "seed": self.seed, "q_init": self.q_init}

    def state_dict(self):
        return {"q": self.q.copy(), "episodes": int(self.episodes)}

    def load_state_dict(self, state):
        q = state["q"]
        q = np.array(q.numpy() if hasattr(q, "numpy") else q, dtype=np.float64)
        if q.shape != self.q.shape:
            raise ValueError(f"{type(self).__name__}.load_state_dict: the Q table has shape "
                             f"{q.shape}, this environment needs {self.q.shape} (pass the "
                             "environment it was trained on: load(path, env=...))")
        self.q = q
        self.episodes = int(state.get("episodes", 0))

    def __repr__(self):
        return (f"{type(self).__name__}(states={self.n_states}, actions={self.n_actions}, "
                f"alpha={self.alpha!r}, gamma={self.gamma}, epsilon={self.epsilon!r})")


class QLearning(_TabularAgent):
    """Tabular Q-learning (Watkins): off-policy TD control.

    ``Q(s, a) += alpha * (r + gamma * max_a' Q(s', a') - Q(s, a))``, with no bootstrap
    term when the step terminated. It learns the greedy policy's values while it explores
    epsilon-greedily, so it walks the shortest path even next to a cliff.

    Parameters
    ----------
    env : an environment with Discrete observation and action spaces.
    alpha : float or schedule
        Step size (a schedule is called with the episode number).
    gamma : float
        Discount.
    epsilon : float or schedule
        Exploration rate per episode, e.g. ``ExponentialSchedule(1.0, 0.01, decay=0.999)``.
    seed : int or None
        Seeds the agent's exploration and the environment's first reset.
    q_init : float
        Initial value of every table entry (optimistic values explore more).

    Attributes
    ----------
    q : ndarray, shape (n_states, n_actions)
        The action-value table.

    >>> import shendu.rl as rl
    >>> env = rl.GridWorld(["S#G", "..."])
    >>> agent = rl.QLearning(env, alpha=0.5, gamma=0.9, epsilon=0.3, seed=0)
    >>> log = agent.train(100, report_every=0)
    >>> env.greedy_path(agent.policy())  # the states from S around the wall to G
    [0, 3, 4, 5, 2]
    """

    def _learn(self, s, a, r, s2, terminated, alpha, eps):
        target = r if terminated else r + self.gamma * self.q[s2].max()
        self.q[s, a] += alpha * (target - self.q[s, a])
        return self._explore(s2, eps)


class SARSA(_TabularAgent):
    """Tabular SARSA: on-policy TD control on (S, A, R, S', A').

    ``Q(s, a) += alpha * (r + gamma * Q(s', a') - Q(s, a))`` where ``a'`` is the
    epsilon-greedy action taken next. It learns the values of the exploring policy
    itself, so near a cliff it prefers a safer, longer path than Q-learning.
    Parameters and attributes as ``QLearning``.

    >>> import shendu.rl as rl
    >>> env = rl.GridWorld(["S#G", "..."])
    >>> agent = rl.SARSA(env, alpha=0.5, gamma=0.9, epsilon=0.3, seed=0)
    >>> log = agent.train(100, report_every=0)
    >>> print(env.draw(agent.policy()))
    S # G
    → → ↑
    """

    def _learn(self, s, a, r, s2, terminated, alpha, eps):
        a2 = self._explore(s2, eps)
        target = r if terminated else r + self.gamma * self.q[s2, a2]
        self.q[s, a] += alpha * (target - self.q[s, a])
        return a2
