"""The environment interface: Gymnasium's API, so shendu's own environments and
Gymnasium's (CartPole-v1, FrozenLake-v1, Taxi-v4, CliffWalking-v1 ...) are used the same way.

An environment has ``observation_space`` and ``action_space`` (see ``shendu.rl.spaces``) and
two methods::

    obs, info = env.reset(seed=0)
    obs, reward, terminated, truncated, info = env.step(action)

``terminated``: the task itself ended (goal reached, pole fell, game won);
``truncated``: a time limit cut the episode. Bootstrapped targets use ``terminated`` only.

``shendu.rl.make(id)`` builds shendu's environments by name and hands any other id to
``gymnasium.make`` (an optional extra: ``pip install "shendu[rl]"``).

>>> import shendu.rl as rl
>>> env = rl.make("GridWorld-v0")
>>> obs, info = env.reset(seed=0)
>>> obs, reward, terminated, truncated, info = env.step(1)
"""
from __future__ import annotations

import numpy as np

from .spaces import Box, Discrete, Space

__all__ = ["Env", "make", "register", "registered", "check_env", "to_gymnasium",
           "require_gymnasium"]


class Env:
    """Base class for shendu's environments (Gymnasium's ``gymnasium.Env`` contract).

    Subclasses set ``observation_space`` and ``action_space`` and implement ``_reset()``
    (returns ``obs, info``) and ``_step(action)`` (returns the 5-tuple). The base class
    seeds ``self.np_random`` on ``reset(seed=...)``, checks each action against
    ``action_space`` and refuses ``step`` after the episode ended or before ``reset``,
    with a message saying so.
    """

    metadata = {"render_modes": ["ansi"]}
    render_mode = None
    spec = None
    observation_space: Space
    action_space: Space

    def __init__(self, render_mode=None):
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"{type(self).__name__}: render_mode must be one of "
                             f"{self.metadata['render_modes']} or None, got {render_mode!r}")
        self.render_mode = render_mode
        self.np_random = np.random.default_rng()
        self._done = None  # None: never reset; True: the episode ended

    @property
    def unwrapped(self):
        return self

    def reset(self, *, seed=None, options=None):
        """Start an episode; ``seed`` reseeds ``np_random`` (and the action space)."""
        if seed is not None:
            self.np_random = np.random.default_rng(seed)
            self.action_space.seed(seed)
        self._done = False
        obs, info = self._reset(options or {})
        return obs, info

    def step(self, action):
        """Apply ``action``: returns ``obs, reward, terminated, truncated, info``."""
        name = type(self).__name__
        if self._done is None:
            raise RuntimeError(f"{name}.step: call reset() before the first step()")
        if self._done:
            raise RuntimeError(f"{name}.step: the episode has ended (terminated or truncated); "
                               "call reset() to start a new one")
        action = self._check_action(action)
        obs, reward, terminated, truncated, info = self._step(action)
        self._done = bool(terminated or truncated)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def _check_action(self, action):
        name = type(self).__name__
        space = self.action_space
        if isinstance(space, Discrete):
            a = action
            if isinstance(a, np.ndarray) and a.size == 1:
                a = a.reshape(())[()]
            if hasattr(a, "item") and not isinstance(a, np.generic) and hasattr(a, "numpy"):
                a = a.item()  # a 0-d shendu/torch tensor
            if not space.contains(np.int64(a) if isinstance(a, (int, np.integer))
                                  and not isinstance(a, (bool, np.bool_)) else a):
                raise ValueError(f"{name}.step: action must be an integer in "
                                 f"[{space.start}, {space.start + space.n - 1}] ({space!r}), "
                                 f"got {action!r}")
            return int(a)
        if isinstance(space, Box):
            a = np.asarray(action, dtype=space.dtype)
            if a.shape != space.shape:
                raise ValueError(f"{name}.step: action must have shape {space.shape}, "
                                 f"got {a.shape}")
            return a
        return action

    def _reset(self, options):  # pragma: no cover - abstract
        raise NotImplementedError

    def _step(self, action):  # pragma: no cover - abstract
        raise NotImplementedError

    def render(self):
        """``render_mode="ansi"``: the state as text (None otherwise)."""
        return None

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __repr__(self):
        return f"<{type(self).__name__} obs={self.observation_space!r} act={self.action_space!r}>"


# ------------------------------------------------------------------------------- registry
_REGISTRY = {}


def register(id, entry_point, **defaults):
    """Register ``entry_point`` under ``id`` for ``make(id)``: a class, a factory, or a
    ``"module:Class"`` string imported on first use; ``defaults`` are its keyword arguments."""
    _REGISTRY[id] = (entry_point, defaults)


def registered():
    """The ids shendu itself provides (Gymnasium's come on top when it is installed)."""
    return sorted(_REGISTRY)


def require_gymnasium(what="this"):
    """Import and return ``gymnasium``, or raise an ImportError saying how to install it."""
    try:
        import gymnasium
    except ImportError as exc:
        raise ImportError(f"{what} needs Gymnasium, an optional extra that is not installed: "
                          "pip install \"shendu[rl]\" (or pip install gymnasium). shendu's own "
                          f"environments work without it: {', '.join(registered())}") from exc
    return gymnasium


def make(id, **kwargs):
    """Build an environment by id: shendu's own ones (``registered()``), else Gymnasium's.

    >>> import shendu.rl as rl
    >>> rl.make("TicTacToe-v0").action_space
    Discrete(9)
    """
    if id in _REGISTRY:
        entry, defaults = _REGISTRY[id]
        if isinstance(entry, str):  # "package.module:Class", imported on first use
            import importlib
            module, _, attr = entry.partition(":")
            entry = getattr(importlib.import_module(module), attr)
        env = entry(**{**defaults, **kwargs})
        env.spec = id
        return env
    gym = require_gymnasium(f"shendu.rl.make({id!r})")
    try:
        return gym.make(id, **kwargs)
    except gym.error.Error as exc:
        raise ValueError(f"shendu.rl.make: unknown environment {id!r}. shendu provides "
                         f"{', '.join(registered())}; Gymnasium said: {exc}") from exc


# ------------------------------------------------------------------------------- checks
def check_env(env, steps=50, seed=0):
    """Check that ``env`` follows the Gymnasium API; raise AssertionError naming what fails.

    Checks: ``reset(seed=)`` returns ``(obs, info)`` with ``obs`` in ``observation_space``
    and is repeatable with the same seed; ``step`` returns a 5-tuple (obs in the space, a
    float reward, bool ``terminated``/``truncated``, a dict ``info``) for ``steps`` random
    actions across episode ends. Works on shendu's and Gymnasium's environments; for
    Gymnasium's own stricter checker see ``gymnasium.utils.env_checker.check_env`` (pass it
    ``to_gymnasium(env)``).
    """
    name = type(env.unwrapped).__name__
    for attr in ("observation_space", "action_space", "reset", "step"):
        assert hasattr(env, attr), f"check_env({name}): missing {attr}"
    out = env.reset(seed=seed)
    assert isinstance(out, tuple) and len(out) == 2, \
        f"check_env({name}): reset() must return (obs, info), got {type(out).__name__}"
    obs0, info = out
    assert isinstance(info, dict), f"check_env({name}): reset()'s info must be a dict"
    assert env.observation_space.contains(obs0), \
        f"check_env({name}): reset()'s obs {obs0!r} is not in {env.observation_space!r}"
    obs1, _ = env.reset(seed=seed)
    assert np.array_equal(np.asarray(obs0), np.asarray(obs1)), \
        f"check_env({name}): reset(seed={seed}) twice gave different observations"
    env.action_space.seed(seed)
    for t in range(steps):
        mask = info.get("action_mask") if isinstance(info, dict) else None
        action = env.action_space.sample(mask=mask) if mask is not None else env.action_space.sample()
        out = env.step(action)
        assert isinstance(out, tuple) and len(out) == 5, \
            f"check_env({name}): step() must return (obs, reward, terminated, truncated, info)"
        obs, reward, terminated, truncated, info = out
        assert env.observation_space.contains(obs), \
            f"check_env({name}): step {t}'s obs {obs!r} is not in {env.observation_space!r}"
        assert isinstance(reward, (float, int, np.floating, np.integer)) and \
            not isinstance(reward, (bool, np.bool_)), \
            f"check_env({name}): reward must be a number, got {type(reward).__name__}"
        assert isinstance(terminated, (bool, np.bool_)) and isinstance(truncated, (bool, np.bool_)), \
            f"check_env({name}): terminated and truncated must be bools"
        assert isinstance(info, dict), f"check_env({name}): step()'s info must be a dict"
        if terminated or truncated:
            obs, info = env.reset()
    return True


def to_gymnasium(env):
    """Wrap a shendu environment as a ``gymnasium.Env`` (spaces converted), so Gymnasium's
    wrappers, vector envs and ``gymnasium.utils.env_checker.check_env`` accept it."""
    gym = require_gymnasium("shendu.rl.to_gymnasium")

    def convert(space):
        if isinstance(space, Discrete):
            return gym.spaces.Discrete(space.n, start=space.start)
        if isinstance(space, Box):
            return gym.spaces.Box(space.low, space.high, space.shape, space.dtype)
        return space

    class GymnasiumEnv(gym.Env):
        metadata = dict(env.metadata)

        def __init__(self):
            self.env = env
            self.observation_space = convert(env.observation_space)
            self.action_space = convert(env.action_space)
            self.render_mode = env.render_mode

        def reset(self, *, seed=None, options=None):
            super().reset(seed=seed)
            return self.env.reset(seed=seed, options=options)

        def step(self, action):
            return self.env.step(action)

        def render(self):
            return self.env.render()

        def close(self):
            self.env.close()

    GymnasiumEnv.__name__ = f"Gymnasium{type(env).__name__}"
    return GymnasiumEnv()
