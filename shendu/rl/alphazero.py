"""AlphaZero-style self-play: MCTS guided by a policy/value network trained on its own games.

Seed 004 ("Reinforcement Learning", model-based RL): AlphaGo combines tree search with
a convolutional network that reads the board and outputs a *policy* (which moves look
promising) and a *value* (who is winning). AlphaGo Zero and AlphaZero (Silver et al.,
2017, 2018) learn that network from nothing but games against themselves:

1. **self-play**: play games where every move comes from ``MCTS`` with the network as
   evaluator (PUCT with the policy as priors, the value instead of rollouts), with
   Dirichlet noise at the root and moves sampled from the visit counts for the first
   ``temperature_moves`` moves (then the most visited move). Each position ``s`` is
   stored with the search's visit distribution ``pi`` and, once the game ends, the result
   ``z`` from the point of view of the player to move at ``s`` (+1 won, 0 draw, -1 lost).
2. **training**: minimise over minibatches of the recent positions (the replay)

       loss = -sum_a pi(a) log p(a|s)  +  value_coef * (v(s) - z)^2   (+ weight decay)

   so the policy head learns to predict what the search found (search is a policy
   *improvement* operator) and the value head learns the game's outcome.

The search then uses the better network, and the loop repeats. Board symmetries
(tic-tac-toe's 8 rotations and reflections, Connect-Four's mirror) multiply the data
(``augment=True``). Self-play runs ``games_per_iteration`` games in lockstep, so the
network evaluates one batch of leaves (one per game) per simulation.

>>> import shendu.rl as rl
>>> agent = AlphaZero(rl.make("TicTacToe-v0"), n_simulations=8, games_per_iteration=2,
...                   train_steps=2, trunk="mlp", hidden=16, seed=0)
>>> log = agent.train(iterations=1, report_every=0)
>>> log.episodes, agent.act(agent.env.new_state()) in range(9)
(2, True)
"""
from __future__ import annotations

import time

import numpy as np

from shendu import nn, optim
from shendu.autograd import Tensor, no_grad
from shendu.backend import manual_seed
import shendu.nn.functional as F

from .common import Agent, TrainingLog
from .envs.board import BoardGame
from .mcts import MCTS, play_games

__all__ = ["PolicyValueNet", "AlphaZero", "SelfPlayBuffer"]


class PolicyValueNet(nn.Module):
    """A small policy/value network for board games: a shared trunk, two heads.

    Input: observations (B, 2, rows, cols) (the mover's stones, the opponent's).
    Output: ``(logits, value)``, logits (B, n_actions) of the policy and the value (B,)
    in [-1, 1] (tanh) for the player to move.

    ``trunk="conv"``: ``blocks`` 3x3 convolutions of ``channels`` channels (ReLU, padding
    1, so the board keeps its size); the policy head is a 1x1 convolution to 2 channels
    and a linear layer to the actions, the value head a 1x1 convolution to 1 channel,
    a hidden layer of ``hidden`` units and one output (AlphaGo Zero's heads, small).
    ``trunk="mlp"``: the flattened board through ``blocks`` hidden layers of ``hidden``
    units; each head is one linear layer. The MLP is ~10x cheaper per evaluation and
    enough for tic-tac-toe.

    >>> import numpy as np, shendu
    >>> net = PolicyValueNet((2, 6, 7), 7, channels=8)
    >>> logits, value = net(shendu.tensor(np.zeros((5, 2, 6, 7), np.float32)))
    >>> tuple(logits.shape), tuple(value.shape)
    ((5, 7), (5,))
    """

    def __init__(self, in_shape, n_actions, trunk="conv", channels=32, blocks=2, hidden=64):
        super().__init__()
        in_shape = tuple(int(d) for d in in_shape)
        if len(in_shape) != 3:
            raise ValueError(f"PolicyValueNet: in_shape must be (planes, rows, cols), "
                             f"got {in_shape}")
        if trunk not in ("conv", "mlp"):
            raise ValueError(f"PolicyValueNet: trunk must be 'conv' or 'mlp', got {trunk!r}")
        for name, v in (("n_actions", n_actions), ("channels", channels), ("blocks", blocks),
                        ("hidden", hidden)):
            if int(v) != v or v < 1:
                raise ValueError(f"PolicyValueNet: {name} must be a positive integer, got {v!r}")
        planes, rows, cols = in_shape
        self.in_shape, self.n_actions, self.trunk_kind = in_shape, int(n_actions), trunk
        cells = rows * cols
        if trunk == "conv":
            layers, width = [], planes
            for _ in range(blocks):
                layers += [nn.Conv2d(width, channels, 3, padding=1), nn.ReLU()]
                width = channels
            self.trunk = nn.Sequential(*layers)
            self.policy_head = nn.Sequential(nn.Conv2d(channels, 2, 1), nn.ReLU(), nn.Flatten(),
                                             nn.Linear(2 * cells, n_actions))
            self.value_head = nn.Sequential(nn.Conv2d(channels, 1, 1), nn.ReLU(), nn.Flatten(),
                                            nn.Linear(cells, hidden), nn.ReLU(),
                                            nn.Linear(hidden, 1), nn.Tanh())
        else:
            layers, width = [nn.Flatten()], planes * cells
            for _ in range(blocks):
                layers += [nn.Linear(width, hidden), nn.ReLU()]
                width = hidden
            self.trunk = nn.Sequential(*layers)
            self.policy_head = nn.Linear(hidden, n_actions)
            self.value_head = nn.Sequential(nn.Linear(hidden, 1), nn.Tanh())

    def forward(self, x):
        if tuple(x.shape[1:]) != self.in_shape:
            raise ValueError(f"PolicyValueNet: expected input (B, {', '.join(map(str, self.in_shape))})"
                             f", got {tuple(x.shape)}")
        h = self.trunk(x)
        return self.policy_head(h), self.value_head(h).reshape(-1)


class SelfPlayBuffer:
    """The most recent ``capacity`` self-play positions: observations (capacity, *obs_shape),
    policies (capacity, n_actions), outcomes (capacity,); the oldest are overwritten.

    >>> import numpy as np
    >>> buf = SelfPlayBuffer(3, (2, 1, 1), 2)
    >>> buf.add(np.zeros((4, 2, 1, 1)), np.full((4, 2), 0.5), np.array([1., -1., 0., 1.]))
    >>> len(buf), buf.z.tolist()        # the 4th position replaced the 1st
    (3, [1.0, -1.0, 0.0])
    """

    def __init__(self, capacity, obs_shape, n_actions):
        self.capacity = int(capacity)
        if self.capacity < 1:
            raise ValueError(f"SelfPlayBuffer: capacity must be positive, got {capacity!r}")
        self.obs = np.zeros((self.capacity, *obs_shape), np.float32)
        self.pi = np.zeros((self.capacity, n_actions), np.float32)
        self.z = np.zeros(self.capacity, np.float32)
        self.size = self.pos = 0

    def __len__(self):
        return self.size

    def add(self, obs, pi, z):
        n = len(obs)
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[idx], self.pi[idx], self.z[idx] = obs, pi, z
        self.pos = (self.pos + n) % self.capacity
        self.size = min(self.capacity, self.size + n)

    def sample(self, batch_size, rng):
        idx = rng.integers(self.size, size=batch_size)
        return self.obs[idx], self.pi[idx], self.z[idx]


class AlphaZero(Agent):
    """AlphaZero-style self-play training on a two-player ``BoardGame``.

    Parameters
    ----------
    env : BoardGame
        The game (``rl.make("TicTacToe-v0")``, ``rl.make("ConnectFour-v0")``).
    network : nn.Module or None
        obs (B, 2, rows, cols) -> (logits (B, n_actions), value (B,)); None builds a
        ``PolicyValueNet`` from ``trunk``, ``channels``, ``blocks``, ``hidden``.
    n_simulations : int
        MCTS simulations per move in self-play.
    eval_simulations : int or None
        Simulations per move in ``act`` / ``play`` (None: ``n_simulations``). Searching
        deeper at play time than in training is cheap insurance against the positions
        self-play rarely reached.
    games_per_iteration : int
        Self-play games per iteration, played in lockstep (one network batch per step).
    train_steps, batch_size : int
        Gradient steps per iteration, each on a minibatch drawn from the replay.
    replay_size : int
        Positions kept (symmetries included); older ones are dropped.
    lr, weight_decay : float
        Adam's step size and L2 penalty.
    c_puct : float
        PUCT's exploration weight.
    dirichlet_alpha, dirichlet_eps : float
        Root noise in self-play (AlphaZero: alpha ~ 10 / typical number of legal moves).
    temperature_moves : int or None
        Self-play samples its first ``temperature_moves`` moves from the visit counts
        (temperature 1), then plays the most visited; None: a quarter of the board's cells.
    value_coef : float
        Weight of the value loss.
    augment : bool
        Add every position's symmetric copies to the replay.
    seed : int or None
        Seeds the network's initialisation, self-play and sampling.
    """

    def __init__(self, env, network=None, *, n_simulations=50, eval_simulations=None,
                 games_per_iteration=32,
                 train_steps=64, batch_size=64, replay_size=20000, lr=1e-3,
                 weight_decay=1e-4, c_puct=1.5, dirichlet_alpha=1.0, dirichlet_eps=0.25,
                 temperature_moves=None, value_coef=1.0, augment=True, trunk="conv",
                 channels=32, blocks=2, hidden=64, seed=None):
        if not isinstance(env, BoardGame):
            raise TypeError(f"AlphaZero: env must be a two-player BoardGame (TicTacToe, "
                            f"ConnectFour), got {type(env).__name__}")
        for name, v in (("n_simulations", n_simulations),
                        ("games_per_iteration", games_per_iteration),
                        ("train_steps", train_steps), ("batch_size", batch_size),
                        ("replay_size", replay_size)):
            if int(v) != v or v < 1:
                raise ValueError(f"AlphaZero: {name} must be a positive integer, got {v!r}")
        if lr <= 0:
            raise ValueError(f"AlphaZero: lr must be positive, got {lr!r}")
        self.env = env
        self.seed = seed
        if temperature_moves is None:
            temperature_moves = env.rows * env.cols // 4
        if eval_simulations is not None and (int(eval_simulations) != eval_simulations
                                             or eval_simulations < 1):
            raise ValueError(f"AlphaZero: eval_simulations must be a positive integer or "
                             f"None, got {eval_simulations!r}")
        self._config = dict(n_simulations=int(n_simulations),
                            eval_simulations=None if eval_simulations is None
                            else int(eval_simulations),
                            games_per_iteration=int(games_per_iteration),
                            train_steps=int(train_steps), batch_size=int(batch_size),
                            replay_size=int(replay_size), lr=float(lr),
                            weight_decay=float(weight_decay), c_puct=float(c_puct),
                            dirichlet_alpha=float(dirichlet_alpha),
                            dirichlet_eps=float(dirichlet_eps),
                            temperature_moves=int(temperature_moves),
                            value_coef=float(value_coef), augment=bool(augment), trunk=trunk,
                            channels=int(channels), blocks=int(blocks), hidden=int(hidden),
                            seed=seed)
        for k, v in self._config.items():
            setattr(self, k, v)
        if seed is not None:
            manual_seed(seed)
        self.rng = np.random.default_rng(seed)
        obs_shape = (2, env.rows, env.cols)
        self.network = network if network is not None else PolicyValueNet(
            obs_shape, env.n_actions, trunk=trunk, channels=channels, blocks=blocks,
            hidden=hidden)
        self.optimizer = optim.Adam(self.network.parameters(), lr=lr, weight_decay=weight_decay)
        self.replay = SelfPlayBuffer(replay_size, obs_shape, env.n_actions)
        self.log = None
        self.iterations = 0

    # ------------------------------------------------------------------ the network
    def evaluate(self, states):
        """The network on a list of states: priors (B, n_actions) (softmax of the logits)
        and values (B,) for each state's player to move; MCTS's evaluator."""
        obs = np.stack([s.observation() for s in states])
        with no_grad():
            logits, values = self.network(Tensor(obs))
        logits = logits.numpy().astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)  # softmax without overflow
        p = np.exp(logits)
        return p / p.sum(axis=1, keepdims=True), values.numpy().astype(np.float64)

    def _mcts(self, noise):
        n = self.n_simulations if noise or self.eval_simulations is None \
            else self.eval_simulations
        return MCTS(n, evaluator=self.evaluate, c_puct=self.c_puct,
                    dirichlet_alpha=self.dirichlet_alpha if noise else None,
                    dirichlet_eps=self.dirichlet_eps, seed=int(self.rng.integers(2**31)))

    def losses(self, obs, pi, z):
        """``(total, policy, value)`` loss Tensors on a batch: obs (B, 2, rows, cols),
        visit policies pi (B, n_actions), outcomes z (B,)."""
        logits, v = self.network(Tensor(np.asarray(obs, np.float32)))
        policy_loss = -(F.log_softmax(logits, dim=1) * Tensor(np.asarray(pi, np.float32))
                        ).sum(dim=1).mean()
        value_loss = F.mse_loss(v, Tensor(np.asarray(z, np.float32)))
        return policy_loss + self.value_coef * value_loss, policy_loss, value_loss

    def train_step(self, obs, pi, z):
        """One Adam step on a batch; returns the (total, policy, value) losses as floats."""
        total, policy_loss, value_loss = self.losses(obs, pi, z)
        self.optimizer.zero_grad()
        total.backward()
        self.optimizer.step()
        return total.item(), policy_loss.item(), value_loss.item()

    # ------------------------------------------------------------------ self-play
    def self_play(self, games):
        """Play ``games`` games against itself in lockstep; returns the positions as
        arrays ``(obs (T, 2, rows, cols), pi (T, n_actions), z (T,))`` (no symmetries)
        and the list of results (winner 0 / 1, or None for a draw) and lengths."""
        mcts = self._mcts(noise=True)
        states = [self.env.new_state() for _ in range(games)]
        records = [[] for _ in range(games)]
        active = list(range(games))
        while active:
            policies = mcts.search_many([states[i] for i in active], temperature=1.0)
            for i, pi in zip(active, policies):
                s = states[i]
                records[i].append((s.observation(), pi, s.to_play))
                if s.moves < self.temperature_moves:
                    a = int(self.rng.choice(len(pi), p=pi))
                else:
                    best = np.flatnonzero(pi == pi.max())
                    a = int(self.rng.choice(best))
                s.play(a)
            active = [i for i in active if not states[i].done]
        obs, pis, zs = [], [], []
        for s, rec in zip(states, records):
            for o, pi, player in rec:
                obs.append(o)
                pis.append(pi)
                zs.append(0.0 if s.winner is None else (1.0 if s.winner == player else -1.0))
        return ((np.stack(obs), np.stack(pis).astype(np.float32), np.asarray(zs, np.float32)),
                [s.winner for s in states], [s.moves for s in states])

    def _augmented(self, obs, pi, z):
        if not self.augment:
            return obs, pi, z
        pairs = self.env.symmetries(obs, pi)
        return (np.concatenate([o for o, _ in pairs]), np.concatenate([p for _, p in pairs]),
                np.tile(z, len(pairs)))

    def train(self, iterations, report_every=1, file=None):
        """Run ``iterations`` rounds of self-play then training; returns the TrainingLog.

        The log gets one episode per self-play game (its return: the result for the first
        player, +1 / 0 / -1) and, per iteration, ``loss``, ``policy_loss``, ``value_loss``
        (means over the iteration's steps) and ``positions`` (in the replay). A line is
        printed every ``report_every`` iterations (0: silent). Calling ``train`` again
        continues the same run and log.
        """
        if int(iterations) != iterations or iterations < 1:
            raise ValueError(f"AlphaZero.train: iterations must be a positive integer, "
                             f"got {iterations!r}")
        if self.log is None:
            self.log = TrainingLog(report_every=0, window=self.games_per_iteration * 4,
                                   file=file, name="alphazero")
        log = self.log
        for _ in range(int(iterations)):
            t0 = time.perf_counter()
            (obs, pi, z), winners, lengths = self.self_play(self.games_per_iteration)
            for w, n in zip(winners, lengths):
                log.episode(0.0 if w is None else (1.0 if w == 0 else -1.0), n)
            self.replay.add(*self._augmented(obs, pi, z))
            t1 = time.perf_counter()
            steps = np.array([self.train_step(*self.replay.sample(self.batch_size, self.rng))
                              for _ in range(self.train_steps)])
            self.iterations += 1
            total, policy_loss, value_loss = steps.mean(axis=0)
            for name, value in (("loss", total), ("policy_loss", policy_loss),
                                ("value_loss", value_loss), ("positions", len(self.replay))):
                log.record(name, value)
            if report_every and self.iterations % report_every == 0:
                draws = sum(w is None for w in winners) / len(winners)
                log.report(extra=f" | iteration {self.iterations} | loss {total:.3f} (policy "
                                 f"{policy_loss:.3f}, value {value_loss:.3f}) | self-play draws"
                                 f" {draws:.0%} | play {t1 - t0:.1f}s, learn "
                                 f"{time.perf_counter() - t1:.1f}s")
        return log

    # ------------------------------------------------------------------ playing
    def _state(self, obs_or_state):
        if isinstance(obs_or_state, BoardGame):
            return obs_or_state
        return self.env.state_from_observation(obs_or_state)

    def act(self, obs_or_state):
        """The move the search chooses (most visited, no noise) for a state or an
        observation (2, rows, cols)."""
        return self.act_many([obs_or_state])[0]

    def act_many(self, states):
        """Moves for several positions, searched in lockstep (one network batch per step)."""
        mcts = self._mcts(noise=False)
        policies = mcts.search_many([self._state(s) for s in states], temperature=0.0)
        return [int(pi.argmax()) for pi in policies]

    def play(self, opponent, games=100):
        """Play ``games`` games against ``opponent`` (a player with ``act(state)``, e.g.
        ``RandomPlayer``, ``MinimaxPlayer``, a pure ``MCTS``), alternating who starts;
        returns ``play_games``'s counts (wins, draws, losses, and split by first/second)."""
        return play_games(self, opponent, self.env, games)

    # ------------------------------------------------------------------ saving
    def config(self):
        return dict(self._config)

    def state_dict(self):
        return {"network": self.network.state_dict(), "optimizer": self.optimizer.state_dict(),
                "iterations": self.iterations}

    def load_state_dict(self, state):
        self.network.load_state_dict(state["network"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.iterations = int(state.get("iterations", 0))

    def __repr__(self):
        return (f"AlphaZero({type(self.env).__name__}, n_simulations={self.n_simulations}, "
                f"trunk={self.trunk!r}, iterations={self.iterations})")
