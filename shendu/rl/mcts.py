"""Monte-Carlo tree search (UCT and AlphaZero's PUCT), and players to test it against.

Seed 004 ("Reinforcement Learning", model-based RL): AlphaGo looks ahead with
Monte-Carlo tree search, guided by a policy/value network. The search grows a tree from
the current position, one *simulation* at a time:

1. **select**: from the root, follow the edge with the best score until an edge that
   leads to a position not yet in the tree;
2. **expand and evaluate**: add that position; estimate its value ``v`` (for the player
   to move there) by a random *rollout* to the end of the game (pure MCTS), or by a
   network's value head, whose policy head also gives the new edges' priors ``P``;
3. **back up**: along the path, add 1 to each edge's visit count ``N`` and ``+-v`` to its
   total value ``W`` (the sign flips with the player who chose the edge), so
   ``Q = W / N`` is the mean value of the edge for that player.

Scores. Pure MCTS uses UCB1 (UCT, Kocsis & Szepesvari, 2006), trying every move once
first::

    UCT(a)  = Q(a) + c_uct * sqrt(ln N_parent / N(a))

With priors from a network (AlphaGo Zero's PUCT, Silver et al., 2017)::

    PUCT(a) = Q(a) + c_puct * P(a) * sqrt(N_parent) / (1 + N(a))     (Q = 0 while N = 0)

The move to play comes from the root's visit counts (robust to the noise in ``Q``):
``pi(a) ~ N(a) ** (1 / temperature)``, the most visited move at temperature 0. For
self-play, Dirichlet noise ``P = (1 - eps) P + eps Dir(alpha)`` at the root makes the
search try moves the network does not yet like.

Games are ``shendu.rl.envs.board.BoardGame`` states (``clone``, ``play``,
``legal_actions``, ``to_play``, ``winner``, ``done``). ``search_many`` searches several
positions in lockstep, so a network evaluates one batch of leaves per simulation step
(one leaf per tree) instead of one position at a time.

>>> from shendu.rl.envs.tictactoe import TicTacToe
>>> from shendu.rl.mcts import MCTS
>>> s = TicTacToe.from_board([[1, 1, 0], [2, 2, 0], [0, 0, 0]])   # X to play, 2 wins
>>> mcts = MCTS(n_simulations=200, seed=0)
>>> pi = mcts.search(s)
>>> int(pi.argmax()), int(mcts.root.N.sum())
(2, 200)
"""
from __future__ import annotations

import math
import random

import numpy as np

__all__ = ["MCTS", "Node", "RandomPlayer", "MinimaxPlayer", "play_games", "terminal_value"]


def terminal_value(state):
    """The value of a finished game for ``state.to_play``: 1 won, -1 lost, 0 a draw."""
    if state.winner is None:
        return 0.0
    return 1.0 if state.winner == state.to_play else -1.0


class Node:
    """A position in the search tree and the statistics of the edges (moves) out of it.

    ``state``: the position; ``to_play``: who moves there; ``children``: action -> Node
    for the moves searched so far. Per action (arrays of length ``n_actions``, 0 for
    illegal moves): ``N`` visit counts, ``W`` total values, ``Q = W / N`` (0 where
    ``N = 0``) and ``P`` priors, all from the point of view of ``to_play``.
    """

    __slots__ = ("state", "to_play", "terminal", "legal", "visits", "value_sums", "priors",
                 "clean_priors", "n", "children", "unvisited")

    def __init__(self, state):
        self.state = state
        self.to_play = state.to_play
        self.terminal = state.done
        self.legal = None       # list of legal actions, once expanded
        self.priors = None
        self.clean_priors = None  # priors before root noise
        self.children = {}
        self.n = 0              # sum of the edges' visit counts

    @property
    def expanded(self):
        return self.priors is not None

    def expand(self, priors):
        """Create the edges: ``priors`` (n_actions,) restricted to the legal moves and
        renormalised (uniform where they sum to zero there)."""
        legal = self.state.legal_actions()
        p = [float(priors[a]) for a in legal]
        total = sum(p)
        p = [x / total for x in p] if total > 0 else [1.0 / len(legal)] * len(legal)
        n_actions = self.state.n_actions
        self.legal = legal
        self.priors = [0.0] * n_actions
        for a, x in zip(legal, p):
            self.priors[a] = x
        self.clean_priors = list(self.priors)
        self.visits = [0] * n_actions
        self.value_sums = [0.0] * n_actions
        self.unvisited = None

    def _array(self, values):
        if values is None:
            return np.zeros(self.state.n_actions)
        return np.asarray(values, dtype=np.float64)

    @property
    def N(self):
        return self._array(self.visits if self.expanded else None)

    @property
    def W(self):
        return self._array(self.value_sums if self.expanded else None)

    @property
    def Q(self):
        n, w = self.N, self.W
        return np.divide(w, n, out=np.zeros_like(w), where=n > 0)

    @property
    def P(self):
        return self._array(self.priors)

    def __repr__(self):
        return f"<Node to_play={self.to_play} n={self.n} children={len(self.children)}>"


class MCTS:
    """Monte-Carlo tree search over ``BoardGame`` states.

    Parameters
    ----------
    n_simulations : int
        Simulations per search; the root's visit counts sum to this (plus the visits a
        reused tree brings along).
    evaluator : callable or None
        ``evaluator(states) -> (priors (B, n_actions), values (B,))`` for a list of
        states, values for each state's player to move, in [-1, 1] (e.g.
        ``AlphaZero.evaluate``). None: pure MCTS, uniform priors, random rollouts, UCT.
    c_puct : float
        Exploration weight of PUCT (with an evaluator).
    c_uct : float
        Exploration weight of UCB1 (pure MCTS); sqrt(2) is the textbook value.
    dirichlet_alpha, dirichlet_eps : float or None, float
        Root noise for self-play: ``P = (1 - eps) P + eps Dir(alpha)``; None: no noise.
    temperature : float
        ``search`` returns ``N ** (1 / temperature)`` normalised; 0: one-hot on the most
        visited move (ties broken at random).
    reuse_tree : bool
        Keep the subtree of the position searched next when it is a child or grandchild of
        the last root (the move played and the reply), with its statistics.
    seed : int or None
        Seeds the rollouts, the noise and tie-breaking.

    Attributes
    ----------
    root : Node
        The root of the last ``search`` (``roots``: all of the last ``search_many``), whose
        ``N``, ``W``, ``Q``, ``P`` arrays are the tree statistics.
    """

    def __init__(self, n_simulations=100, evaluator=None, c_puct=1.5, c_uct=math.sqrt(2),
                 dirichlet_alpha=None, dirichlet_eps=0.25, temperature=0.0,
                 reuse_tree=False, seed=None):
        if int(n_simulations) != n_simulations or n_simulations < 1:
            raise ValueError(f"MCTS: n_simulations must be a positive integer, "
                             f"got {n_simulations!r}")
        if evaluator is not None and not callable(evaluator):
            raise TypeError(f"MCTS: evaluator must be callable (states -> (priors, values)) "
                            f"or None, got {type(evaluator).__name__}")
        for name, v in (("c_puct", c_puct), ("c_uct", c_uct), ("temperature", temperature)):
            if v < 0:
                raise ValueError(f"MCTS: {name} must be >= 0, got {v!r}")
        if dirichlet_alpha is not None and dirichlet_alpha <= 0:
            raise ValueError(f"MCTS: dirichlet_alpha must be positive or None, "
                             f"got {dirichlet_alpha!r}")
        if not 0 <= dirichlet_eps <= 1:
            raise ValueError(f"MCTS: dirichlet_eps must be in [0, 1], got {dirichlet_eps!r}")
        self.n_simulations = int(n_simulations)
        self.evaluator = evaluator
        self.c_puct, self.c_uct = float(c_puct), float(c_uct)
        self.dirichlet_alpha = dirichlet_alpha
        self.dirichlet_eps = float(dirichlet_eps)
        self.temperature = float(temperature)
        self.reuse_tree = bool(reuse_tree)
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.random = random.Random(seed)  # Python's generator: fast single draws in rollouts
        self.roots = []

    @property
    def root(self):
        if not self.roots:
            raise RuntimeError("MCTS.root: no search has run yet; call search(state) first")
        return self.roots[0]

    def reset(self):
        """Forget the trees (a new game starts)."""
        self.roots = []

    # ------------------------------------------------------------------ searching
    def search(self, state, temperature=None):
        """Run ``n_simulations`` from ``state``; returns the visit-count policy (n_actions,).

        ``temperature`` overrides the default for this search.
        """
        return self.search_many([state], temperature)[0]

    def search_many(self, states, temperature=None):
        """Search each of ``states`` (a list) in lockstep; returns policies (B, n_actions).

        Every simulation step selects one leaf in every tree and evaluates all of them
        with one call of the evaluator.
        """
        states = list(states)
        for s in states:
            if s.done:
                raise ValueError(f"MCTS.search: the game is over ({s!r}); there is no move "
                                 "to search for")
        roots = self._roots_for(states)
        self._evaluate_and_expand(roots, [[] for _ in roots], only_expand=True)
        if self.dirichlet_alpha is not None:
            for root in roots:
                self._add_noise(root)
        for _ in range(self.n_simulations):
            paths, leaves = [], []
            for root in roots:
                path, leaf = self._select(root)
                paths.append(path)
                leaves.append(leaf)
            self._evaluate_and_expand(leaves, paths)
        self.roots = roots
        t = self.temperature if temperature is None else float(temperature)
        return np.stack([self._policy(root, t) for root in roots])

    def act(self, state):
        """Search ``state`` and return the move: sampled from the policy, the most visited
        move at temperature 0."""
        return self.act_many([state])[0]

    def act_many(self, states):
        policies = self.search_many(states)
        return [self.choose(pi) for pi in policies]

    __call__ = act

    def choose(self, policy):
        """A move drawn from ``policy`` (n_actions,) (the argmax if it is one-hot)."""
        return int(self.rng.choice(len(policy), p=policy))

    # ------------------------------------------------------------------ the steps
    def _roots_for(self, states):
        # the roots hold copies: the caller goes on to play moves on its own states
        if not (self.reuse_tree and self.roots):
            return [Node(s.clone()) for s in states]
        known = {}
        for old in self.roots:  # the old roots, their children and grandchildren
            known[old.state.key()] = old
            for child in old.children.values():
                known.setdefault(child.state.key(), child)
                for grandchild in child.children.values():
                    known.setdefault(grandchild.state.key(), grandchild)
        return [known.get(s.key()) or Node(s.clone()) for s in states]

    def _select(self, root):
        """Walk down by the best score to a new (or terminal) node; returns the path of
        (node, action) edges and the node reached."""
        node, path = root, []
        while True:
            a = self._choose_edge(node)
            path.append((node, a))
            child = node.children.get(a)
            if child is None:
                state = node.state.clone()
                state.play(a)
                child = node.children[a] = Node(state)
                return path, child
            if child.terminal or not child.expanded:
                return path, child
            node = child

    def _choose_edge(self, node):
        visits, sums, legal = node.visits, node.value_sums, node.legal
        best, best_a = -math.inf, legal[0]
        if self.evaluator is None:  # UCT: each move once (in random order), then UCB1
            if node.unvisited is None:
                node.unvisited = [a for a in legal if visits[a] == 0]
                self.random.shuffle(node.unvisited)
            while node.unvisited:
                a = node.unvisited.pop()
                if visits[a] == 0:
                    return a
            log_n, c = math.log(node.n), self.c_uct
            for a in legal:
                n = visits[a]
                score = sums[a] / n + c * math.sqrt(log_n / n)
                if score > best:
                    best, best_a = score, a
            return best_a
        priors = node.priors
        scale = self.c_puct * math.sqrt(max(node.n, 1))  # max: at N = 0 the priors decide
        for a in legal:
            n = visits[a]
            score = (sums[a] / n if n else 0.0) + scale * priors[a] / (1 + n)
            if score > best:
                best, best_a = score, a
        return best_a

    def _evaluate_and_expand(self, leaves, paths, only_expand=False):
        """Value each leaf for its player to move, expand it, back the value up its path."""
        values = [0.0] * len(leaves)
        todo = []
        for i, leaf in enumerate(leaves):
            if leaf.terminal:
                values[i] = terminal_value(leaf.state)
            elif leaf.expanded:  # a reused root
                values[i] = None
            else:
                todo.append(i)
        if todo:
            if self.evaluator is None:
                for i in todo:
                    leaves[i].expand(np.ones(leaves[i].state.n_actions))
                    if not only_expand:
                        values[i] = self._rollout(leaves[i].state)
            else:
                priors, vals = self.evaluator([leaves[i].state for i in todo])
                priors, vals = np.asarray(priors), np.asarray(vals).reshape(-1)
                if priors.shape != (len(todo), leaves[todo[0]].state.n_actions) or \
                        vals.shape != (len(todo),):
                    raise ValueError(f"MCTS: evaluator returned priors of shape {priors.shape}"
                                     f" and values of shape {vals.shape} for {len(todo)} "
                                     f"states; expected ({len(todo)}, n_actions) and "
                                     f"({len(todo)},)")
                for j, i in enumerate(todo):
                    leaves[i].expand(priors[j])
                    values[i] = float(vals[j])
        if only_expand:
            return
        for path, leaf, v in zip(paths, leaves, values):
            self._backup(path, leaf.to_play, v)

    def _rollout(self, state):
        """Play uniformly random moves to the end; the result for ``state.to_play``."""
        s = state.clone()
        choice = self.random.choice
        while not s.done:
            s.play(choice(s.legal_actions()))
        if s.winner is None:
            return 0.0
        return 1.0 if s.winner == state.to_play else -1.0

    @staticmethod
    def _backup(path, leaf_to_play, value):
        for node, a in path:
            node.visits[a] += 1
            node.n += 1
            node.value_sums[a] += value if node.to_play == leaf_to_play else -value

    def _add_noise(self, root):
        legal = root.legal
        noise = self.rng.dirichlet([self.dirichlet_alpha] * len(legal))
        eps = self.dirichlet_eps
        for a, x in zip(legal, noise):
            root.priors[a] = (1 - eps) * root.clean_priors[a] + eps * float(x)

    def _policy(self, root, temperature):
        counts = root.N
        if temperature == 0:
            best = np.flatnonzero(counts == counts.max())
            pi = np.zeros_like(counts)
            pi[self.rng.choice(best)] = 1.0
            return pi
        # N ** (1/t) overflows for small t: scale by the max first
        scaled = (counts / counts.max()) ** (1.0 / temperature)
        return scaled / scaled.sum()

    def __repr__(self):
        kind = "pure UCT" if self.evaluator is None else "PUCT"
        return f"MCTS(n_simulations={self.n_simulations}, {kind})"


# ---------------------------------------------------------------------------- players
class RandomPlayer:
    """Plays a uniformly random legal move.

    >>> from shendu.rl.envs.tictactoe import TicTacToe
    >>> RandomPlayer(seed=0).act(TicTacToe()) in range(9)
    True
    """

    def __init__(self, seed=None):
        self.random = random.Random(seed)

    def act(self, state):
        return self.random.choice(state.legal_actions())

    __call__ = act

    def __repr__(self):
        return "RandomPlayer()"


class MinimaxPlayer:
    """A perfect player by exhaustive negamax with a memo (transposition table).

    ``value(s) = max over moves a of -value(s after a)``, and ``terminal_value`` at the
    end: 1 for a win of the player to move, 0 a draw, -1 a loss. The memo keys positions
    by ``state.key()``, so each of tic-tac-toe's 5,478 positions is solved once. Exhaustive
    search is for small games only (tic-tac-toe); Connect-Four's tree is far too large.
    ``act`` picks at random among the moves of the best value.

    >>> from shendu.rl.envs.tictactoe import TicTacToe
    >>> MinimaxPlayer().value(TicTacToe())      # perfect play draws
    0.0
    """

    def __init__(self, seed=None):
        self.random = random.Random(seed)
        self.memo = {}

    def value(self, state):
        """The game's value for the player to move under perfect play (1, 0 or -1)."""
        key = state.key()
        v = self.memo.get(key)
        if v is None:
            if state.done:
                v = terminal_value(state)
            else:
                v = -math.inf
                for a in state.legal_actions():
                    child = state.clone()
                    child.play(a)
                    v = max(v, -self.value(child))
                    if v == 1.0:  # nothing beats a win
                        break
                v += 0.0  # -(-0.0) would print as -0.0
            self.memo[key] = v
        return v

    def action_values(self, state):
        """float (n_actions,): each move's value for the mover (NaN for illegal moves)."""
        out = np.full(state.n_actions, np.nan)
        for a in state.legal_actions():
            child = state.clone()
            child.play(a)
            out[a] = 0.0 - self.value(child)  # not -v: no -0.0 for a draw
        return out

    def act(self, state):
        values = self.action_values(state)
        best = np.flatnonzero(values == np.nanmax(values))
        return int(self.random.choice(best.tolist()))

    __call__ = act

    def __repr__(self):
        return "MinimaxPlayer()"


def _moves(player, states):
    if hasattr(player, "act_many"):
        return list(player.act_many(states))
    act = player.act if hasattr(player, "act") else player
    return [act(s) for s in states]


def play_games(player, opponent, game, games=100):
    """Play ``games`` games of ``player`` against ``opponent``, alternating who starts
    (``player`` moves first in games 0, 2, 4 ...); returns the counts for ``player``.

    Players are objects with ``act(state) -> action`` (``act_many(states)`` is used when
    present, so a network-guided search batches its evaluations over all games), or
    plain callables. ``game``: a ``BoardGame`` whose start position is used.

    Returns a dict: ``wins``, ``draws``, ``losses``, and the same split by
    ``first`` / ``second`` (dicts of the three counts when ``player`` started or not).

    >>> from shendu.rl.envs.tictactoe import TicTacToe
    >>> r = play_games(MinimaxPlayer(seed=0), RandomPlayer(seed=0), TicTacToe(), games=10)
    >>> r["losses"], r["wins"] + r["draws"]
    (0, 10)
    """
    if int(games) != games or games < 1:
        raise ValueError(f"play_games: games must be a positive integer, got {games!r}")
    states = [game.new_state() for _ in range(games)]
    side = [i % 2 for i in range(games)]  # the seat ``player`` takes in game i
    for p in (player, opponent):
        if hasattr(p, "reset"):
            p.reset()
    active = list(range(games))
    while active:
        mine = [i for i in active if states[i].to_play == side[i]]
        theirs = [i for i in active if states[i].to_play != side[i]]
        for p, idx in ((player, mine), (opponent, theirs)):
            if idx:
                for i, a in zip(idx, _moves(p, [states[i] for i in idx])):
                    states[i].play(a)
        active = [i for i in active if not states[i].done]
    result = {"wins": 0, "draws": 0, "losses": 0,
              "first": {"wins": 0, "draws": 0, "losses": 0},
              "second": {"wins": 0, "draws": 0, "losses": 0}}
    for s, seat in zip(states, side):
        outcome = "draws" if s.winner is None else ("wins" if s.winner == seat else "losses")
        result[outcome] += 1
        result["first" if seat == 0 else "second"][outcome] += 1
    return result
