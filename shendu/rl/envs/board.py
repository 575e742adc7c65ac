"""Two-player board games on bitboards: what tic-tac-toe and Connect-Four share.

A ``BoardGame`` is both a Gymnasium-style environment (``reset``/``step``, ``action_mask``
in ``info``) and the *game state* that tree search works on. Search (``shendu.rl.MCTS``,
``MinimaxPlayer``, ``AlphaZero``) plays millions of moves, so a state is two Python ints,
one bit per cell for each player's stones (a *bitboard*), and the rules are bit
operations: a move ORs one bit in, a win is a line of bits all set.

Players are 0 (moves first, drawn ``X``) and 1 (``O``). The state interface for search:

==========================  =============================================================
``to_play``                 the player to move (0 or 1)
``winner``                  0 or 1 once someone has won, else None (also on a draw)
``done``                    True when the game is over (a win or a full board)
``legal_actions()``         the legal moves, a list of ints
``action_mask()``           the same as an int8 array (n_actions,), 1 = legal
``play(action)``            make a move in place (fast, no Env bookkeeping)
``clone()``                 an independent copy (search expands a node by clone + play)
``new_state()``             a copy at the start position
``observation()``           float32 (2, rows, cols): the mover's stones, the opponent's
``key()``                   a hashable of the position, for transposition tables
``symmetries(obs, policy)`` the equivalent (obs, policy) pairs under the board's symmetries
==========================  =============================================================

As an environment, ``step(action)`` plays for whoever is to move: the reward is +1 for the
player who just moved if the move won, 0 otherwise (a draw, or the game goes on), and the
observation is from the point of view of the player to move *next*, so one network reads
every position the same way. Illegal moves raise a ``ValueError`` naming the legal ones.

>>> from shendu.rl.envs.tictactoe import TicTacToe
>>> env = TicTacToe()
>>> obs, info = env.reset(seed=0)
>>> obs.shape, info["action_mask"].tolist()
((2, 3, 3), [1, 1, 1, 1, 1, 1, 1, 1, 1])
>>> for a in (0, 3, 1, 4):
...     _ = env.step(a)
>>> env.step(2)[1:3]                      # X completes the top row
(1.0, True)
>>> env.winner, env.done
(0, True)
"""
from __future__ import annotations

import numpy as np

from ..env import Env
from ..spaces import Box, Discrete

__all__ = ["BoardGame", "bits_to_array"]

_PIECES = ("X", "O")


def bits_to_array(bits, n):
    """The lowest ``n`` bits of the int ``bits`` as a uint8 array (n,), bit 0 first.

    >>> bits_to_array(0b1011, 5).tolist()
    [1, 1, 0, 1, 0]
    """
    nbytes = max(1, (n + 7) // 8)
    raw = np.frombuffer(int(bits).to_bytes(nbytes, "little"), np.uint8)
    return np.unpackbits(raw, bitorder="little")[:n]


class BoardGame(Env):
    """Base class of two-player, alternating, zero-sum board games on bitboards.

    Subclasses set ``rows``, ``cols``, ``n_actions``, ``_n_bits`` (bits in a bitboard)
    and ``_cell_bit`` (int array (rows, cols): the bit of each cell, row 0 at the top),
    and implement ``_move_bit(action)`` (the bit a legal action sets, 0 if it is illegal
    or out of range), ``_wins(bits, bit=None)`` (does the bitboard hold a line? ``bit``:
    the stone just placed, to look at its lines only), ``legal_actions()``,
    ``_illegal_reason(action)`` and ``symmetries``; and, where they keep more
    bookkeeping (Connect-Four's column heights), ``_after_move``, ``_copy_extra`` and
    ``_sync``.
    The board's state is ``bits = [stones of player 0, stones of player 1]``,
    ``to_play``, ``winner``, ``moves`` (stones on the board) and ``done``.
    """

    metadata = {"render_modes": ["ansi"]}
    rows: int
    cols: int
    n_actions: int
    _n_bits: int

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        self.observation_space = Box(0.0, 1.0, shape=(2, self.rows, self.cols),
                                     dtype=np.float32)
        self.action_space = Discrete(self.n_actions)
        self._clear()

    # ------------------------------------------------------------------ the state
    def _clear(self):
        self.bits = [0, 0]
        self.to_play = 0
        self.winner = None
        self.moves = 0
        self.done = False
        self.last_action = None

    def clone(self):
        """An independent copy of the position (the Env's generator and spaces are shared)."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.bits = list(self.bits)
        self._copy_extra(new)
        return new

    def _copy_extra(self, new):
        """Copy the subclass's mutable bookkeeping into ``new`` (a clone)."""

    def new_state(self):
        """A copy of this game at the start position (the environment is not touched)."""
        new = self.clone()
        new._clear()
        return new

    def key(self):
        """A hashable of the position: the two bitboards (they also fix who is to move)."""
        return (self.bits[0], self.bits[1])

    @property
    def is_draw(self):
        return self.done and self.winner is None

    def action_mask(self):
        """int8 array (n_actions,): 1 for the legal moves (all 0 once the game is over)."""
        mask = np.zeros(self.n_actions, np.int8)
        if not self.done:
            mask[self.legal_actions()] = 1
        return mask

    def play(self, action):
        """Make move ``action`` for ``to_play`` in place (the fast path search uses).

        Raises ``ValueError`` if the game is over or the move is illegal.
        """
        if self.done:
            raise ValueError(f"{type(self).__name__}.play: the game is over "
                             f"({self._result_text()}); start a new one with reset()")
        bit = self._move_bit(action)
        if not bit:
            raise ValueError(f"{type(self).__name__}: action {action!r} is illegal: "
                             f"{self._illegal_reason(action)}; legal actions are "
                             f"{self.legal_actions()}")
        me = self.to_play
        self.bits[me] |= bit
        self._after_move(action)
        self.moves += 1
        self.last_action = action
        if self._wins(self.bits[me], bit):
            self.winner, self.done = me, True
        elif self.moves == self.rows * self.cols:
            self.done = True
        self.to_play = 1 - me

    def _after_move(self, action):
        """Subclass bookkeeping after a stone is placed (Connect-Four's column heights)."""

    def observation(self):
        """float32 (2, rows, cols): plane 0 the stones of the player to move, plane 1 the
        opponent's (row 0 is the top of the board)."""
        me = self.to_play
        return np.stack([self._plane(self.bits[me]), self._plane(self.bits[1 - me])]
                        ).astype(np.float32)

    def board(self):
        """int8 (rows, cols): 0 empty, 1 player 0's stone (X), 2 player 1's (O)."""
        return (self._plane(self.bits[0]) + 2 * self._plane(self.bits[1])).astype(np.int8)

    @classmethod
    def from_board(cls, board, **kwargs):
        """The position with ``board`` (rows, cols) of 0 / 1 (X) / 2 (O), row 0 at the top;
        the player to move follows from the stone counts (X moves first).

        >>> from shendu.rl.envs.tictactoe import TicTacToe
        >>> s = TicTacToe.from_board([[1, 1, 0], [2, 2, 0], [0, 0, 0]])
        >>> s.to_play, s.legal_actions()
        (0, [2, 5, 6, 7, 8])
        """
        game = cls(**kwargs)
        board = np.asarray(board)
        if board.shape != (game.rows, game.cols) or not np.isin(board, (0, 1, 2)).all():
            raise ValueError(f"{cls.__name__}.from_board: expected a ({game.rows}, {game.cols})"
                             f" array of 0 (empty), 1 (X), 2 (O), got shape {board.shape}")
        n_x, n_o = int((board == 1).sum()), int((board == 2).sum())
        if n_x - n_o not in (0, 1):
            raise ValueError(f"{cls.__name__}.from_board: X moves first, so X has as many "
                             f"stones as O or one more; got {n_x} X and {n_o} O")
        game._set_from_planes(board == 1, board == 2)
        return game

    def state_from_observation(self, obs):
        """A new state of this game showing ``obs`` (2, rows, cols): the mover's stones,
        then the opponent's (as ``observation()`` gives them).

        >>> from shendu.rl.envs.tictactoe import TicTacToe
        >>> s = TicTacToe.from_board([[1, 0, 0], [0, 2, 0], [0, 0, 1]])
        >>> t = TicTacToe().state_from_observation(s.observation())
        >>> t.key() == s.key(), t.to_play
        (True, 1)
        """
        obs = np.asarray(obs)
        if obs.shape != (2, self.rows, self.cols):
            raise ValueError(f"{type(self).__name__}.state_from_observation: expected shape "
                             f"(2, {self.rows}, {self.cols}), got {obs.shape}")
        mine, theirs = obs[0] > 0.5, obs[1] > 0.5
        # equal counts: X (player 0) is to move, so the mover's plane is X's; else O's
        x_first = mine.sum() == theirs.sum()
        game = self.new_state()
        game._set_from_planes(mine if x_first else theirs, theirs if x_first else mine)
        return game

    def _set_from_planes(self, x_plane, o_plane):
        """Set the state to boolean planes (rows, cols) of X's and O's stones."""
        name = type(self).__name__
        x_plane, o_plane = np.asarray(x_plane, bool), np.asarray(o_plane, bool)
        if (x_plane & o_plane).any():
            raise ValueError(f"{name}: a cell holds both an X and an O")
        self._clear()
        self.bits = [self._plane_bits(x_plane), self._plane_bits(o_plane)]
        n_x, n_o = int(x_plane.sum()), int(o_plane.sum())
        self.moves, self.to_play = n_x + n_o, n_x - n_o
        self._sync()
        wins = [self._wins(b) for b in self.bits]
        if all(wins):
            raise ValueError(f"{name}: both players have a line; not a reachable position")
        if any(wins):
            self.winner, self.done = wins.index(True), True
        elif self.moves == self.rows * self.cols:
            self.done = True

    def _plane_bits(self, plane):
        """A boolean (rows, cols) plane as a bitboard."""
        bits = 0
        for i in self._cell_bit[plane].tolist():
            bits |= 1 << i
        return bits

    def _plane(self, bits):
        """A bitboard as a uint8 (rows, cols) array, row 0 at the top."""
        return bits_to_array(bits, self._n_bits)[self._cell_bit]

    def _sync(self):
        """Rebuild the subclass's bookkeeping from ``bits`` (after ``from_board``)."""

    def symmetries(self, obs, policy):  # pragma: no cover - abstract
        raise NotImplementedError

    def _result_text(self):
        if self.winner is not None:
            return f"{_PIECES[self.winner]} won"
        return "a draw" if self.done else "in play"

    # ------------------------------------------------------------------ the environment
    def _info(self):
        return {"action_mask": self.action_mask(), "to_play": self.to_play,
                "winner": self.winner}

    def _reset(self, options):
        self._clear()
        return self.observation(), self._info()

    def _step(self, action):
        if not self._move_bit(action):
            raise ValueError(f"{type(self).__name__}.step: action {action} is illegal: "
                             f"{self._illegal_reason(action)}; legal actions are "
                             f"{self.legal_actions()} (info['action_mask'])")
        mover = self.to_play
        self.play(action)
        reward = 1.0 if self.winner == mover else 0.0
        return self.observation(), reward, self.done, False, self._info()

    def render(self):
        """``render_mode="ansi"``: the board as text (X, O, . for empty) with column
        numbers underneath, and whose turn it is or the result."""
        if self.render_mode != "ansi":
            return None
        return self.to_text()

    def to_text(self):
        """The board as text, whatever the render mode."""
        b = self.board()
        lines = [" ".join(".XO"[v] for v in row) for row in b]
        lines.append(self._footer())
        status = (f"{_PIECES[self.to_play]} to play" if not self.done
                  else self._result_text())
        return "\n".join(lines + [status])

    def _footer(self):
        return " ".join(str(c) for c in range(self.cols))

    def __repr__(self):
        return f"<{type(self).__name__} {self.rows}x{self.cols} moves={self.moves} " \
               f"{self._result_text() if self.done else _PIECES[self.to_play] + ' to play'}>"
