"""``shendu.rl``: reinforcement learning on shendu's tensors and networks.

================================  =====================================================
environments                      ``make``, ``Env``, ``spaces``, ``check_env``,
                                  ``GridWorld`` (maze), ``TicTacToe``, ``ConnectFour``;
                                  Gymnasium's (CartPole-v1, FrozenLake-v1 ...) via
                                  ``make`` when it is installed (``shendu[rl]``)
tabular, value based              ``QLearning``, ``SARSA``, ``value_iteration``,
                                  ``policy_evaluation``, ``q_values``
deep Q-learning                   ``DQN`` (replay, target network, Huber, Double DQN),
                                  ``ReplayBuffer``
policy based                      ``REINFORCE`` (with a baseline), ``A2C``, ``PPO``;
                                  ``discounted_returns``, ``gae``
search, model based               ``MCTS`` (UCT), ``AlphaZero`` (self-play with a
                                  policy/value network)
shared                            ``TrainingLog``, ``evaluate``, schedules
================================  =====================================================

Agents keep one shape: ``agent = DQN(env, ...)``, ``agent.train(...)`` returning a
``TrainingLog`` (one report line per N episodes, ``history`` for ``plot_returns``),
``agent.act(obs)`` for the greedy action, ``agent.save(path)`` / ``DQN.load(path)``.

>>> import shendu.rl as rl
>>> env = rl.make("GridWorld-v0")
>>> rl.check_env(env)
True
"""
import importlib

from . import envs, spaces
from .common import Agent, TrainingLog, evaluate
from .env import Env, check_env, make, register, registered, require_gymnasium, to_gymnasium
from .schedules import ConstantSchedule, ExponentialSchedule, LinearSchedule
from .spaces import Box, Discrete, Space

# Algorithms load on first use (``shendu.rl.DQN``): ``import shendu`` stays light.
_LAZY = {
    "GridWorld": "envs.gridworld", "TicTacToe": "envs.tictactoe",
    "ConnectFour": "envs.connect_four",
    "QLearning": "tabular", "SARSA": "tabular", "value_iteration": "tabular",
    "policy_evaluation": "tabular", "q_values": "tabular",
    "ReplayBuffer": "buffers",
    "DQN": "dqn",
    "discounted_returns": "returns", "gae": "returns",
    "REINFORCE": "policy_gradient", "A2C": "policy_gradient", "PPO": "ppo",
    "MCTS": "mcts", "AlphaZero": "alphazero",
}

__all__ = ["Env", "make", "register", "registered", "check_env", "to_gymnasium",
           "require_gymnasium", "spaces", "envs", "Space", "Discrete", "Box", "Agent",
           "TrainingLog", "evaluate", "ConstantSchedule", "LinearSchedule",
           "ExponentialSchedule", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'shendu.rl' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
