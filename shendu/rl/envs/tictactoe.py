"""Tic-tac-toe: the smallest game that search and self-play can be checked on exactly.

The board has 9 cells, action ``a`` puts the mover's stone on cell ``a = row * 3 + col``
(row 0 at the top). X (player 0) moves first; three in a row, a column or a diagonal
wins; a full board without a line is a draw. Perfect play from both sides is a draw, and
``shendu.rl.mcts.MinimaxPlayer`` plays perfectly, which makes tic-tac-toe the test of
whether a self-taught player (``AlphaZero``) has learned to never lose.

The state is two 9-bit ints (bit ``a`` = cell ``a``); a win is one of 8 line masks.
See ``shendu.rl.envs.board`` for the state interface search uses.

>>> from shendu.rl.envs.tictactoe import TicTacToe
>>> env = TicTacToe(render_mode="ansi")
>>> _ = env.reset(seed=0)
>>> for a in (4, 0, 8):
...     _ = env.step(a)
>>> print(env.render())
O . .
. X .
. . X
0 1 2
O to play
>>> env.legal_actions()
[1, 2, 3, 5, 6, 7]
"""
from __future__ import annotations

import numpy as np

from .board import BoardGame

__all__ = ["TicTacToe", "LINES"]

#: The 8 winning lines as 9-bit masks: rows, columns, the two diagonals.
LINES = tuple(sum(1 << c for c in cells) for cells in (
    (0, 1, 2), (3, 4, 5), (6, 7, 8), (0, 3, 6), (1, 4, 7), (2, 5, 8), (0, 4, 8), (2, 4, 6)))
_LINES_BY_BIT = {1 << c: tuple(m for m in LINES if m >> c & 1) for c in range(9)}
_FULL = (1 << 9) - 1

# The 8 symmetries of the square as permutations of the 9 cells: new[i] = old[perm[i]].
_GRID = np.arange(9).reshape(3, 3)
_SYMMETRIES = tuple(np.rot90(g, k).ravel() for g in (_GRID, _GRID.T) for k in range(4))


class TicTacToe(BoardGame):
    """Tic-tac-toe on a 3 x 3 board (``Discrete(9)`` actions, observations
    ``Box(0, 1, (2, 3, 3))``: the mover's stones, the opponent's).

    Parameters
    ----------
    render_mode : None or "ansi"
        ``"ansi"``: ``render()`` returns the board as text.
    """

    rows = cols = 3
    n_actions = 9
    _n_bits = 9
    _cell_bit = _GRID

    def __init__(self, render_mode=None):
        super().__init__(render_mode)

    def legal_actions(self):
        if self.done:
            return []
        free = ~(self.bits[0] | self.bits[1]) & _FULL
        return [c for c in range(9) if free >> c & 1]

    def _move_bit(self, action):
        if not isinstance(action, (int, np.integer)) or not 0 <= action < 9:
            return 0
        bit = 1 << int(action)
        return 0 if (self.bits[0] | self.bits[1]) & bit else bit

    def _illegal_reason(self, action):
        if not isinstance(action, (int, np.integer)) or not 0 <= action < 9:
            return "actions are the cells 0..8 (row * 3 + col)"
        return f"cell {int(action)} (row {int(action) // 3}, col {int(action) % 3}) is taken"

    def _wins(self, bits, bit=None):
        lines = LINES if bit is None else _LINES_BY_BIT[bit]
        for m in lines:
            if bits & m == m:
                return True
        return False

    def symmetries(self, obs, policy):
        """The 8 rotations and reflections of ``obs`` (..., 3, 3) with ``policy`` (..., 9)
        moved along: a list of (obs, policy) pairs, the identity first.

        >>> import numpy as np
        >>> pairs = TicTacToe().symmetries(np.zeros((2, 3, 3)), np.arange(9.0))
        >>> len(pairs), pairs[1][1].tolist()     # rotated 90 degrees anticlockwise
        (8, [2.0, 5.0, 8.0, 1.0, 4.0, 7.0, 0.0, 3.0, 6.0])
        """
        obs, policy = np.asarray(obs), np.asarray(policy)
        lead = obs.shape[:-2]
        flat = obs.reshape(*lead, 9)
        return [(flat[..., perm].reshape(obs.shape), policy[..., perm]) for perm in _SYMMETRIES]
