"""Connect-Four: 6 rows x 7 columns, stones fall to the lowest free cell of a column.

Action ``c`` drops the mover's stone into column ``c`` (0..6); a full column is illegal.
Four in a row horizontally, vertically or diagonally wins; a full board is a draw. The
first player wins with perfect play (Allis, 1988), but the game tree (about 4.5e12
positions) is far too big to search, so this is where a learned policy/value network
has to earn its place against plain Monte-Carlo tree search.

The bitboard is the classic one: bit ``col * (rows + 1) + row`` (row 0 at the bottom),
with one spare bit on top of each column so that shifting never carries a line from one
column into the next. With ``H = rows + 1`` a bitboard ``b`` holds four in a row along a
direction ``d`` (1 vertical, H horizontal, H - 1 and H + 1 the diagonals) if
``m & (m >> 2d)`` is non-zero for ``m = b & (b >> d)``.

>>> from shendu.rl.envs.connect_four import ConnectFour
>>> env = ConnectFour(render_mode="ansi")
>>> _ = env.reset(seed=0)
>>> for a in (3, 3, 4, 4, 5, 5):
...     _ = env.step(a)
>>> env.step(6)[1:3]                      # X: four in the bottom row
(1.0, True)
>>> print(env.render().splitlines()[-3:])
['. . . X X X X', '0 1 2 3 4 5 6', 'X won']
"""
from __future__ import annotations

import numpy as np

from .board import BoardGame

__all__ = ["ConnectFour"]


class ConnectFour(BoardGame):
    """Connect-Four on a ``rows`` x ``cols`` board (6 x 7 by default; ``Discrete(cols)``
    actions, observations ``Box(0, 1, (2, rows, cols))``, row 0 at the top).

    Parameters
    ----------
    rows, cols : int
        The board's size (at least 4 each, and ``cols * (rows + 1) <= 64``).
    render_mode : None or "ansi"
        ``"ansi"``: ``render()`` returns the board as text.

    ``heights[c]`` is the number of stones in column ``c``.
    """

    def __init__(self, rows=6, cols=7, render_mode=None):
        if int(rows) != rows or int(cols) != cols or rows < 4 or cols < 4 \
                or cols * (rows + 1) > 64:
            raise ValueError(f"ConnectFour: rows and cols must be integers >= 4 with "
                             f"cols * (rows + 1) <= 64, got rows={rows!r}, cols={cols!r}")
        self.rows, self.cols = int(rows), int(cols)
        self.n_actions = self.cols
        h = self.rows + 1
        self._h = h
        self._n_bits = self.cols * h
        # cell (r, c) with r = 0 at the top sits at bit c * H + (rows - 1 - r)
        r, c = np.meshgrid(np.arange(self.rows), np.arange(self.cols), indexing="ij")
        self._cell_bit = c * h + (self.rows - 1 - r)
        self._shifts = (1, h, h - 1, h + 1)
        super().__init__(render_mode)

    def _clear(self):
        super()._clear()
        self.heights = [0] * self.cols

    def _copy_extra(self, new):
        new.heights = list(self.heights)

    def _sync(self):
        planes = [self._plane(b).astype(bool) for b in self.bits]
        filled = planes[0] | planes[1]
        heights = filled.sum(axis=0)
        # gravity: column c's stones must be its lowest heights[c] cells
        for c in range(self.cols):
            if not filled[self.rows - heights[c]:, c].all():
                raise ValueError(f"ConnectFour: column {c} has a stone above an empty cell")
        self.heights = [int(h) for h in heights]

    def legal_actions(self):
        if self.done:
            return []
        rows, h = self.rows, self.heights
        return [c for c in range(self.cols) if h[c] < rows]

    def _move_bit(self, action):
        if not isinstance(action, (int, np.integer)) or not 0 <= action < self.cols:
            return 0
        c = int(action)
        height = self.heights[c]
        return 0 if height >= self.rows else 1 << (c * self._h + height)

    def _after_move(self, action):
        self.heights[int(action)] += 1

    def _illegal_reason(self, action):
        if not isinstance(action, (int, np.integer)) or not 0 <= action < self.cols:
            return f"actions are the columns 0..{self.cols - 1}"
        return f"column {int(action)} is full"

    def _wins(self, bits, bit=None):
        for d in self._shifts:
            m = bits & (bits >> d)
            if m & (m >> (2 * d)):
                return True
        return False

    def symmetries(self, obs, policy):
        """``obs`` (..., rows, cols) and ``policy`` (..., cols) as they are and mirrored
        left to right: a list of two (obs, policy) pairs."""
        obs, policy = np.asarray(obs), np.asarray(policy)
        return [(obs, policy), (obs[..., ::-1].copy(), policy[..., ::-1].copy())]
