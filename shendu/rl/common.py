"""What every agent shares: a training log that reports like users expect, greedy
evaluation over episodes, and saving/loading with shendu's safe format (no pickle).

>>> from shendu.rl.common import TrainingLog
>>> log = TrainingLog(report_every=0)
>>> for r in [1.0, 3.0, 5.0]:
...     log.episode(r, length=int(r))
>>> log.mean_return(2), log.episodes, log.steps
(4.0, 3, 9)
"""
from __future__ import annotations

import json
import sys
import time

import numpy as np

__all__ = ["TrainingLog", "evaluate", "Agent", "env_id"]


class TrainingLog:
    """Episode returns and lengths of a training run, with a one-line report every
    ``report_every`` episodes: ``episode 200 | steps 9,412 | return 47.1 (mean of last 100)``.

    ``history`` is a dict of lists (``return``, ``length``, ``step`` at each episode's end,
    plus whatever ``record(name, value)`` adds, e.g. ``loss``) that ``plot_returns`` draws.
    """

    def __init__(self, report_every=100, window=100, file=None, name="train"):
        self.report_every = int(report_every or 0)
        self.window = int(window)
        self.file = file
        self.name = name
        self.history = {"return": [], "length": [], "step": []}
        self.steps = 0
        self._start = time.perf_counter()

    @property
    def episodes(self):
        return len(self.history["return"])

    def episode(self, ret, length, **extra):
        """Record one finished episode (its return and number of steps)."""
        self.steps += int(length)
        self.history["return"].append(float(ret))
        self.history["length"].append(int(length))
        self.history["step"].append(self.steps)
        for key, value in extra.items():
            self.record(key, value)
        if self.report_every and self.episodes % self.report_every == 0:
            self.report()

    def record(self, name, value):
        self.history.setdefault(name, []).append(float(value))

    def mean_return(self, last=None):
        """Mean return of the last ``last`` episodes (default: the window, 100)."""
        r = self.history["return"][-(last or self.window):]
        return float(np.mean(r)) if r else float("nan")

    def report(self, extra=""):
        elapsed = time.perf_counter() - self._start
        n = min(self.window, self.episodes)
        line = (f"{self.name}: episode {self.episodes:>5} | steps {self.steps:>8,} | "
                f"return {self.mean_return():8.2f} (mean of last {n}) | {elapsed:6.1f}s{extra}")
        print(line, file=self.file or sys.stdout, flush=True)

    def running_mean(self, window=None):
        """The mean of the last ``window`` returns at each episode (shorter at the start)."""
        w = window or self.window
        r = np.asarray(self.history["return"], dtype=np.float64)
        c = np.concatenate([[0.0], np.cumsum(r)])
        idx = np.arange(1, r.size + 1)
        lo = np.maximum(0, idx - w)
        return (c[idx] - c[lo]) / (idx - lo)


def evaluate(policy, env, episodes=100, seed=None, max_steps=None):
    """Run ``policy(obs) -> action`` for ``episodes`` episodes; returns the array of returns.

    ``seed`` seeds the first ``reset`` (later resets continue that generator), so two
    evaluations with the same seed see the same episodes.
    """
    returns = np.empty(episodes)
    for i in range(episodes):
        obs, info = env.reset(seed=seed if i == 0 else None)
        total, t, done = 0.0, 0, False
        while not done:
            obs, reward, terminated, truncated, info = env.step(policy(obs))
            total += reward
            t += 1
            done = terminated or truncated or (max_steps is not None and t >= max_steps)
        returns[i] = total
    return returns


def env_id(env):
    """The id ``make`` rebuilds ``env`` from (shendu's or Gymnasium's), or None."""
    spec = getattr(env, "spec", None)
    if spec is None:
        spec = getattr(getattr(env, "unwrapped", env), "spec", None)
    if isinstance(spec, str):
        return spec
    return getattr(spec, "id", None)


class Agent:
    """Base class for agents built as ``Agent(env, **hyperparameters)``.

    A subclass keeps ``self.env`` and implements ``config()`` (its JSON-able
    hyperparameters, without the env), ``state_dict()`` and ``load_state_dict(state)``
    (networks' and optimizers' state dicts, tables as arrays). ``save(path)`` writes them
    with ``shendu.save`` (safetensors + JSON, atomic, no pickle) together with the
    environment's id; ``Cls.load(path, env=None)`` rebuilds the agent, making the
    environment from that id unless one is given.
    """

    env = None

    def config(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def state_dict(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def load_state_dict(self, state):  # pragma: no cover - abstract
        raise NotImplementedError

    def save(self, path):
        """Write the agent (env id, config, weights/tables) atomically to ``path``."""
        from shendu.io import save
        config = self.config()
        json.dumps(config)  # fail before writing if the config is not JSON-able
        save({"agent": type(self).__name__, "env": env_id(self.env), "config": config,
              "state": self.state_dict()}, path)

    @classmethod
    def load(cls, path, env=None):
        """Rebuild an agent saved by ``save``; checks that the file holds a ``cls``."""
        from shendu.io import load

        from .env import make
        data = load(path)
        if not isinstance(data, dict) or "agent" not in data or "config" not in data:
            raise ValueError(f"{cls.__name__}.load: {path} is not a saved shendu agent")
        if data["agent"] != cls.__name__:
            raise ValueError(f"{cls.__name__}.load: {path} holds a {data['agent']}, "
                             f"not a {cls.__name__}; use {data['agent']}.load")
        if env is None:
            if not data.get("env"):
                raise ValueError(f"{cls.__name__}.load: {path} does not name its environment; "
                                 "pass env=")
            env = make(data["env"])
        agent = cls(env, **data["config"])
        agent.load_state_dict(data["state"])
        return agent
