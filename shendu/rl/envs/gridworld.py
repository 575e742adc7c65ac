"""GridWorld: the course's maze (走迷宮) as an environment with Gymnasium's API.

The lesson on reinforcement learning (seed 004, "Reinforcement Learning"; seed 000,
chapter 7 "value based rl") contrasts supervised learning, where a teacher says at every
step whether the step was right, with an agent walking a maze, which only learns from the
reward it gets at the end. Here the maze is a grid of characters:

=====  ===========================================================
``S``  the start (exactly one)
``G``  a goal: entering it ends the episode with ``goal_reward``
``H``  a hole (a trap): entering it ends the episode with ``hole_reward``
``#``  a wall: moving into it (or off the grid) leaves the agent in place
``.``  a free cell
=====  ===========================================================

The observation is the cell index ``row * ncol + col`` (``Discrete(nrow * ncol)``, walls
included, as in Gymnasium's FrozenLake); the actions are FrozenLake's:
0 left, 1 down, 2 right, 3 up. Every other step costs ``step_reward``. With ``slip > 0``
the agent moves at right angles to the chosen direction with probability ``slip`` (half
each way): ``slip=2/3`` gives FrozenLake's slippery ice (1/3 each for the chosen
direction and its two neighbours). ``max_steps`` cuts an episode that has not ended
(``truncated=True``).

``env.P[s][a]`` is the transition model in Gymnasium's toy-text format, a list of
``(probability, next_state, reward, terminated)``, so value iteration
(``shendu.rl.value_iteration``) plans on it as on FrozenLake; ``step`` samples from it.

>>> from shendu.rl.envs.gridworld import GridWorld
>>> env = GridWorld(["S.G"], step_reward=0.0)
>>> env.reset(seed=0)
(0, {'prob': 1.0})
>>> env.step(2)[:4], env.step(2)[:4]
((1, 0.0, False, False), (2, 1.0, True, False))
>>> env.P[1][2]
[(1.0, 2, 1.0, True)]
>>> print(env.draw(policy=[2, 2, 0]))
S → G
"""
from __future__ import annotations

import numpy as np

from ..env import Env
from ..spaces import Discrete

__all__ = ["GridWorld", "DEFAULT_MAZE", "ACTION_NAMES"]

#: The default maze: 6 x 8, one shortest path of 12 steps from S to G, a dead end in the
#: top right and a trap (H) off the path.
DEFAULT_MAZE = (
    "S.#.....",
    ".##.##.#",
    "...#....",
    ".#...#.#",
    ".#.#.#..",
    ".H.#...G",
)

ACTION_NAMES = ("Left", "Down", "Right", "Up")
_MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))  # (drow, dcol) for left, down, right, up
_ARROWS = "←↓→↑"
_CELLS = "SGH#."


class GridWorld(Env):
    """A maze on a grid of characters (see the module docstring for the legend).

    Parameters
    ----------
    grid : sequence of str, or str, optional
        The rows of the maze, all the same length (or one string of rows separated by
        whitespace or newlines); ``DEFAULT_MAZE`` when omitted.
    goal_reward, step_reward, hole_reward : float
        The reward for entering a goal, for any other step, and for entering a hole.
        The defaults (1.0, -0.01, -1.0) make the shortest safe path the best one.
    slip : float
        Probability of moving at right angles to the chosen direction (half each way).
    max_steps : int or None
        Time limit: the step that reaches it returns ``truncated=True``. None: no limit.
    render_mode : None or "ansi"
        ``"ansi"``: ``render()`` returns the maze as text with the agent as ``@``.

    Attributes
    ----------
    nrow, ncol : int
        The grid's size; state ``s`` is the cell ``divmod(s, ncol)``.
    start : int
        The start state.
    P : dict
        ``P[s][a] = [(prob, next_state, reward, terminated), ...]``; the probabilities sum
        to one. Goals, holes and walls are absorbing: ``[(1.0, s, 0.0, True)]``.
    """

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, grid=None, *, goal_reward=1.0, step_reward=-0.01, hole_reward=-1.0,
                 slip=0.0, max_steps=100, render_mode=None):
        super().__init__(render_mode)
        self.grid = self._check_grid(DEFAULT_MAZE if grid is None else grid)
        self.nrow, self.ncol = len(self.grid), len(self.grid[0])
        if not 0.0 <= float(slip) <= 1.0:
            raise ValueError(f"GridWorld: slip must be a probability in [0, 1], got {slip!r}")
        if max_steps is not None and (int(max_steps) != max_steps or max_steps < 1):
            raise ValueError(f"GridWorld: max_steps must be a positive integer or None, "
                             f"got {max_steps!r}")
        self.slip = float(slip)
        self.max_steps = None if max_steps is None else int(max_steps)
        self.goal_reward, self.step_reward = float(goal_reward), float(step_reward)
        self.hole_reward = float(hole_reward)
        cells = "".join(self.grid)
        self.start = cells.index("S")
        self.observation_space = Discrete(self.nrow * self.ncol)
        self.action_space = Discrete(4)
        self.P = self._transitions()
        self.s, self.t, self.last_action = self.start, 0, None

    # ------------------------------------------------------------------ building
    @staticmethod
    def _check_grid(grid):
        if isinstance(grid, str):
            grid = grid.split()
        rows = tuple(str(r) for r in grid)
        if not rows or not rows[0]:
            raise ValueError("GridWorld: grid must be a non-empty list of strings")
        widths = {len(r) for r in rows}
        if len(widths) != 1:
            raise ValueError(f"GridWorld: every row of the grid must have the same length, "
                             f"got lengths {[len(r) for r in rows]}")
        bad = sorted(set("".join(rows)) - set(_CELLS))
        if bad:
            raise ValueError(f"GridWorld: unknown cell characters {bad}; use S (start), "
                             "G (goal), H (hole), # (wall), . (free)")
        n_start = "".join(rows).count("S")
        if n_start != 1:
            raise ValueError(f"GridWorld: the grid needs exactly one start 'S', got {n_start}")
        if "G" not in "".join(rows):
            raise ValueError("GridWorld: the grid needs at least one goal 'G'")
        return rows

    def cell(self, s):
        """The character at state ``s`` ('S', 'G', 'H', '#' or '.')."""
        row, col = divmod(int(s), self.ncol)
        return self.grid[row][col]

    def _move(self, s, a):
        """The state reached from ``s`` by moving in direction ``a`` (walls, edges: stay)."""
        row, col = divmod(s, self.ncol)
        r, c = row + _MOVES[a][0], col + _MOVES[a][1]
        if not (0 <= r < self.nrow and 0 <= c < self.ncol) or self.grid[r][c] == "#":
            return s
        return r * self.ncol + c

    def _transitions(self):
        P = {}
        for s in range(self.nrow * self.ncol):
            P[s] = {}
            for a in range(4):
                if self.cell(s) in "GH#":  # absorbing: the episode has ended (or never gets here)
                    P[s][a] = [(1.0, s, 0.0, True)]
                    continue
                # the chosen direction, then the two at right angles ((a - 1) % 4, (a + 1) % 4)
                outcomes = {}
                for prob, d in ((1.0 - self.slip, a), (self.slip / 2, (a - 1) % 4),
                                (self.slip / 2, (a + 1) % 4)):
                    if prob > 0:
                        nxt = self._move(s, d)
                        outcomes[nxt] = outcomes.get(nxt, 0.0) + prob
                P[s][a] = [(p, nxt, *self._reward(nxt)) for nxt, p in outcomes.items()]
        return P

    def _reward(self, nxt):
        kind = self.cell(nxt)
        if kind == "G":
            return self.goal_reward, True
        if kind == "H":
            return self.hole_reward, True
        return self.step_reward, False

    # ------------------------------------------------------------------ the Env API
    def _reset(self, options):
        self.s, self.t, self.last_action = self.start, 0, None
        return int(self.s), {"prob": 1.0}

    def _step(self, action):
        outcomes = self.P[self.s][action]
        i = 0
        if len(outcomes) > 1:
            i = int(self.np_random.choice(len(outcomes), p=[o[0] for o in outcomes]))
        prob, nxt, reward, terminated = outcomes[i]
        self.s, self.last_action = nxt, action
        self.t += 1
        truncated = (not terminated and self.max_steps is not None
                     and self.t >= self.max_steps)
        return int(nxt), reward, terminated, truncated, {"prob": float(prob)}

    def render(self):
        """With ``render_mode="ansi"``: the last action and the maze with the agent as ``@``."""
        if self.render_mode != "ansi":
            return None
        rows = [list(r) for r in self.grid]
        row, col = divmod(self.s, self.ncol)
        rows[row][col] = "@"
        head = f"  ({ACTION_NAMES[self.last_action]})\n" if self.last_action is not None else ""
        return head + "\n".join("".join(r) for r in rows) + "\n"

    # ------------------------------------------------------------------ pictures of policies
    def greedy_path(self, policy, max_len=None):
        """The states visited from the start following ``policy`` (one action per state),
        taking each action's most likely outcome (on ties the chosen direction), until a
        goal/hole, a repeated state or ``max_len`` steps (default: the number of cells)."""
        policy = np.asarray(policy)
        if policy.shape != (self.nrow * self.ncol,):
            raise ValueError(f"GridWorld.greedy_path: policy must have one action per state, "
                             f"shape ({self.nrow * self.ncol},), got {policy.shape}")
        path, seen = [self.start], {self.start}
        s = self.start
        for _ in range(max_len or self.nrow * self.ncol):
            if self.cell(s) in "GH":
                break
            outcomes = self.P[s][int(policy[s])]
            s = max(outcomes, key=lambda o: o[0])[1]
            if s in seen:  # the policy walks in a circle (or into a wall) here
                path.append(s)
                break
            path.append(s)
            seen.add(s)
        return path

    def draw(self, policy=None, path_only=True, values=None):
        """The maze as text, optionally with a policy's arrows (←↓→↑).

        ``policy``: one action per state (e.g. ``agent.q.argmax(1)``); with ``path_only``
        the arrows are drawn only along ``greedy_path(policy)``, else on every free cell.
        ``values``: one number per state, printed in a second block beside the maze.
        Cells are separated by spaces.
        """
        rows = [list(r) for r in self.grid]
        if policy is not None:
            policy = np.asarray(policy)
            states = (self.greedy_path(policy) if path_only
                      else [s for s in range(self.nrow * self.ncol) if self.cell(s) in "S."])
            for s in states:
                if self.cell(s) in "S.":
                    row, col = divmod(s, self.ncol)
                    rows[row][col] = _ARROWS[int(policy[s])] if self.cell(s) == "." else "S"
        lines = [" ".join(r) for r in rows]
        if values is not None:
            v = np.asarray(values, dtype=float).reshape(self.nrow, self.ncol)
            lines = [line + "    " + " ".join(f"{x:6.3f}" for x in vr)
                     for line, vr in zip(lines, v)]
        return "\n".join(lines)

    def __repr__(self):
        return (f"<GridWorld {self.nrow}x{self.ncol} slip={self.slip:g} "
                f"max_steps={self.max_steps}>")
