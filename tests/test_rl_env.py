"""shendu.rl's environment interface: spaces, the Env base class, make / check_env /
to_gymnasium, and the GridWorld maze (dynamics, transition model, seeding, errors).

Gymnasium is optional: the tests that need it skip with a reason when it is absent.
"""
import importlib.util
import warnings

import numpy as np
import pytest

import shendu.rl as rl
from shendu.rl.envs.gridworld import DEFAULT_MAZE, GridWorld
from shendu.rl.spaces import Box, Discrete

LEFT, DOWN, RIGHT, UP = range(4)
FROZEN_LAKE_4x4 = ["SFFF", "FHFH", "FFFH", "HFFG"]


def gymnasium():
    return pytest.importorskip("gymnasium", reason="Gymnasium (the optional shendu[rl] extra) "
                                                   "is not installed")


# ------------------------------------------------------------------------------- spaces
def test_discrete_sample_contains_seed_and_masks():
    space = Discrete(5, start=2)
    assert repr(space) == "Discrete(5, start=2)" and space == Discrete(5, start=2)
    space.seed(3)
    draws = [int(space.sample()) for _ in range(200)]
    space.seed(3)
    assert draws == [int(space.sample()) for _ in range(200)]  # seeded: repeatable
    assert set(draws) == {2, 3, 4, 5, 6}
    assert space.contains(2) and space.contains(np.int32(6)) and space.contains(np.array(4))
    assert not space.contains(1) and not space.contains(7)
    assert not space.contains(3.0) and not space.contains(True) and not space.contains("3")
    mask = np.array([0, 1, 0, 1, 0], dtype=np.int8)
    assert {int(space.sample(mask)) for _ in range(100)} == {3, 5}
    assert space.sample(np.zeros(5, np.int8)) == 2  # nothing allowed: Gymnasium's rule, start
    with pytest.raises(ValueError, match=r"mask must have shape \(5,\)"):
        space.sample(np.ones(4, np.int8))
    for bad in (0, -1, 2.5):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            Discrete(bad)


def test_box_sample_contains_and_errors():
    box = Box(low=[-1.0, 0.0], high=[1.0, np.inf], seed=0)
    assert box.shape == (2,) and box.dtype == np.float32
    x = np.stack([box.sample() for _ in range(500)])
    assert x.dtype == np.float32 and x.shape == (500, 2)
    assert np.all(np.abs(x[:, 0]) <= 1) and np.all(x[:, 1] >= 0) and x[:, 1].max() > 1
    assert box.contains(np.array([0.5, 3.0], np.float32))
    assert not box.contains(np.array([1.5, 3.0], np.float32))  # outside the bounds
    assert not box.contains(np.zeros(3, np.float32))           # wrong shape
    assert not box.contains(np.array([1j, 0]))                 # complex is not castable
    ints = Box(0, 3, shape=(4,), dtype=np.int64, seed=1)
    s = ints.sample()
    assert s.dtype == np.int64 and np.all((0 <= s) & (s <= 3))
    with pytest.raises(ValueError, match="low must be <= high"):
        Box(1.0, 0.0, shape=(2,))
    with pytest.raises(ValueError, match="masks are not supported"):
        box.sample(mask=np.ones(2))


# ------------------------------------------------------------------------------- Env base
class Counter(rl.Env):
    """A minimal Env subclass: counts up by the action, ends at 3."""

    def __init__(self, render_mode=None):
        super().__init__(render_mode)
        self.observation_space = Discrete(10)
        self.action_space = Discrete(2)

    def _reset(self, options):
        self.n = int(options.get("start", 0))
        return self.n, {}

    def _step(self, action):
        self.n += action
        return self.n, 1, self.n >= 3, False, {}


def test_env_base_checks_order_actions_and_casts():
    env = Counter()
    with pytest.raises(RuntimeError, match=r"Counter.step: call reset\(\) before"):
        env.step(1)
    assert env.reset(seed=0, options={"start": 1}) == (1, {})
    obs, reward, terminated, truncated, info = env.step(np.int64(1))
    assert (obs, reward, terminated, truncated) == (2, 1.0, False, False)
    assert type(reward) is float and type(terminated) is bool  # the base casts them
    for bad in (2, -1, 1.0, "1", True, None):
        with pytest.raises(ValueError, match=r"Counter.step: action must be an integer in "
                                             r"\[0, 1\]"):
            env.step(bad)
    assert env.step(np.array(1))[2] is True  # a 0-d array is an action too; 3: terminated
    with pytest.raises(RuntimeError, match="the episode has ended"):
        env.step(0)
    env.reset()
    env.step(0)  # reset makes steps possible again
    with pytest.raises(ValueError, match="render_mode must be one of"):
        Counter(render_mode="human")
    with Counter() as env2:  # context manager closes
        assert env2.render() is None


# ------------------------------------------------------------------------------- make
def test_make_shendu_ids_and_unknown_id():
    assert {"GridWorld-v0", "TicTacToe-v0", "ConnectFour-v0"} <= set(rl.registered())
    env = rl.make("GridWorld-v0", slip=0.1, max_steps=7)
    assert isinstance(env, GridWorld) and env.spec == "GridWorld-v0"
    assert env.slip == 0.1 and env.max_steps == 7
    if importlib.util.find_spec("gymnasium") is None:
        # other ids go to Gymnasium: without it, the error says how to install it
        with pytest.raises(ImportError, match=r"needs Gymnasium.*pip install \"shendu\[rl\]\""):
            rl.make("NoSuchEnv-v9")
    else:
        with pytest.raises(ValueError, match="unknown environment 'NoSuchEnv-v9'.*GridWorld-v0"):
            rl.make("NoSuchEnv-v9")


def test_make_gymnasium_ids():
    gymnasium()
    env = rl.make("FrozenLake-v1", is_slippery=True)
    assert env.observation_space.n == 16 and env.action_space.n == 4
    assert env.unwrapped.P[0][0][0][0] == pytest.approx(1 / 3)
    assert rl.make("CartPole-v1").observation_space.shape == (4,)


def test_check_env_on_shendu_and_gymnasium_envs():
    assert rl.check_env(GridWorld())
    assert rl.check_env(GridWorld(slip=0.5, max_steps=5), steps=100)
    gymnasium()
    assert rl.check_env(rl.make("FrozenLake-v1", is_slippery=True), steps=200)
    assert rl.check_env(rl.make("CartPole-v1"), steps=200)


def test_check_env_names_what_is_wrong():
    class BadObs(Counter):
        def _step(self, action):
            return 99, 0.0, False, False, {}

    with pytest.raises(AssertionError, match=r"check_env\(BadObs\): step 0's obs 99 is not in"):
        rl.check_env(BadObs())


def test_gymnasium_env_checker_accepts_gridworld():
    gym = gymnasium()
    from gymnasium.utils.env_checker import check_env
    for env in (GridWorld(), GridWorld(slip=0.3, render_mode="ansi")):
        wrapped = rl.to_gymnasium(env)
        assert isinstance(wrapped, gym.Env)
        assert wrapped.observation_space == gym.spaces.Discrete(48)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "no spec" notes about render modes
            check_env(wrapped, skip_render_check=False)
    # Gymnasium's own wrappers run on it: a TimeLimit shorter than the maze's
    env = gym.wrappers.TimeLimit(rl.to_gymnasium(GridWorld(max_steps=None)), max_episode_steps=3)
    env.reset(seed=0)
    assert [env.step(UP)[3] for _ in range(3)] == [False, False, True]


# ------------------------------------------------------------------------------- GridWorld
def test_gridworld_layout_and_spaces():
    env = GridWorld()
    assert env.grid == DEFAULT_MAZE and (env.nrow, env.ncol) == (6, 8)
    assert env.observation_space == Discrete(48) and env.action_space == Discrete(4)
    assert env.start == 0 and env.cell(47) == "G" and env.cell(41) == "H" and env.cell(2) == "#"
    assert GridWorld("S.#\n..G").grid == ("S.#", "..G")  # one string of rows works too
    obs, info = env.reset(seed=0)
    assert obs == 0 and type(obs) is int and info == {"prob": 1.0}


def test_gridworld_walls_edges_goal_hole_and_rewards():
    env = GridWorld(["S.#", ".HG"], goal_reward=2.0, step_reward=-0.5, hole_reward=-3.0)
    env.reset(seed=0)
    assert env.step(UP)[:4] == (0, -0.5, False, False)     # off the grid: stay
    assert env.step(LEFT)[:4] == (0, -0.5, False, False)
    assert env.step(RIGHT)[:4] == (1, -0.5, False, False)
    assert env.step(RIGHT)[:4] == (1, -0.5, False, False)  # a wall: stay
    assert env.step(DOWN)[:4] == (4, -3.0, True, False)    # the hole ends the episode
    with pytest.raises(RuntimeError, match="GridWorld.step: the episode has ended"):
        env.step(DOWN)
    env.reset()
    env.step(DOWN)
    assert env.step(RIGHT)[:4] == (4, -3.0, True, False)
    # the goal: reached around the hole is impossible here; a goal next to the start
    env = GridWorld(["SG"], goal_reward=2.0)
    env.reset()
    assert env.step(RIGHT)[:4] == (1, 2.0, True, False)
    # the model says the same as the dynamics, and absorbing cells are marked
    env = GridWorld(["S.#", ".HG"], step_reward=-0.5, hole_reward=-3.0)
    assert env.P[1][RIGHT] == [(1.0, 1, -0.5, False)]
    assert env.P[1][DOWN] == [(1.0, 4, -3.0, True)]
    assert env.P[5][UP] == [(1.0, 5, 0.0, True)] and env.P[2][LEFT] == [(1.0, 2, 0.0, True)]


def test_gridworld_slip_probabilities_in_P_and_in_steps():
    env = GridWorld(slip=0.4)
    for s in env.P:
        for a in range(4):
            outcomes = env.P[s][a]
            assert sum(p for p, *_ in outcomes) == pytest.approx(1.0, abs=1e-12)
            assert len({nxt for _, nxt, *_ in outcomes}) == len(outcomes)  # merged
    # from (2, 1), moving right: 0.6 right, 0.2 down (a wall: stay), 0.2 up (a wall: stay)
    s = 2 * 8 + 1
    assert sorted(env.P[s][RIGHT]) == [(pytest.approx(0.4), s, -0.01, False),
                                      (pytest.approx(0.6), s + 1, -0.01, False)]
    # the sampled steps follow P: 3,000 tries from that cell
    counts = {s: 0, s + 1: 0}
    env.reset(seed=0)
    for _ in range(3000):
        env.s, env.t = s, 0
        obs, *_ = env.step(RIGHT)
        counts[obs] += 1
    assert abs(counts[s + 1] / 3000 - 0.6) < 0.03
    # slip=0: deterministic, one outcome each
    assert all(len(GridWorld().P[s][a]) == 1 for s in range(48) for a in range(4))


def test_gridworld_with_slip_two_thirds_is_frozen_lake():
    """FrozenLake's map as a GridWorld with slip=2/3 has FrozenLake's transition model."""
    gym = gymnasium()
    grid = [row.replace("F", ".") for row in FROZEN_LAKE_4x4]
    mine = GridWorld(grid, slip=2 / 3, step_reward=0.0, hole_reward=0.0)
    theirs = gym.make("FrozenLake-v1", is_slippery=True).unwrapped.P
    for s in range(16):
        for a in range(4):
            if mine.cell(s) in "GH":
                continue  # absorbing in both (Gymnasium: not terminated, reward 0)
            merged = {}
            for p, nxt, r, done in theirs[s][a]:
                key = (int(nxt), float(r), bool(done))
                merged[key] = merged.get(key, 0.0) + p
            got = {(nxt, r, done): p for p, nxt, r, done in mine.P[s][a]}
            assert got.keys() == merged.keys(), (s, a)
            for key in got:
                assert got[key] == pytest.approx(merged[key])


def test_gridworld_truncation_at_max_steps():
    env = GridWorld(max_steps=3)
    env.reset(seed=0)
    assert [env.step(UP)[2:4] for _ in range(3)] == [(False, False)] * 2 + [(False, True)]
    with pytest.raises(RuntimeError, match="the episode has ended"):
        env.step(UP)
    env.reset()
    assert env.step(UP)[3] is False  # reset restarts the clock
    env = GridWorld(["SG"], max_steps=1)  # reaching the goal on the last step: terminated only
    env.reset()
    assert env.step(RIGHT)[2:4] == (True, False)
    env = GridWorld(max_steps=None)
    env.reset()
    assert not any(env.step(UP)[3] for _ in range(500))


def test_gridworld_seeding_repeats_trajectories():
    def run(seed, n=60):
        env = GridWorld(slip=0.5, max_steps=None)
        obs, _ = env.reset(seed=seed)
        visited = [obs]
        for t in range(n):
            obs, _, terminated, _, _ = env.step(t % 4)
            visited.append(obs)
            if terminated:
                obs, _ = env.reset()
                visited.append(obs)
        return visited

    assert run(1) == run(1)
    assert run(1) != run(2)


def test_gridworld_render_and_draw():
    env = GridWorld(["S.", ".G"], render_mode="ansi")
    env.reset(seed=0)
    assert env.render() == "@.\n.G\n"
    env.step(RIGHT)
    assert env.render() == "  (Right)\nS@\n.G\n"
    assert GridWorld().render() is None  # no render mode
    env = GridWorld(["S..", "#.G"])
    policy = [RIGHT, DOWN, LEFT, LEFT, RIGHT, LEFT]
    assert env.greedy_path(policy) == [0, 1, 4, 5]
    assert env.draw(policy) == "S ↓ .\n# → G"
    assert env.draw(policy, path_only=False) == "S ↓ ←\n# → G"
    assert "0.500" in env.draw(values=[0.5] * 6)
    assert env.greedy_path([LEFT] * 6) == [0, 0]  # stuck: stops at the repeat
    with pytest.raises(ValueError, match=r"one action per state, shape \(6,\)"):
        env.greedy_path([0, 1])


@pytest.mark.parametrize("grid, kwargs, message", [
    (["S.", "G"], {}, "every row of the grid must have the same length"),
    (["S.X", "..G"], {}, r"unknown cell characters \['X'\]"),
    (["..", ".G"], {}, "exactly one start 'S', got 0"),
    (["SS", ".G"], {}, "exactly one start 'S', got 2"),
    (["S.", ".."], {}, "at least one goal 'G'"),
    ([], {}, "non-empty list of strings"),
    (["SG"], {"slip": 1.5}, r"slip must be a probability in \[0, 1\]"),
    (["SG"], {"max_steps": 0}, "max_steps must be a positive integer or None"),
])
def test_gridworld_errors(grid, kwargs, message):
    with pytest.raises(ValueError, match=message):
        GridWorld(grid, **kwargs)


def test_gridworld_wrong_actions_get_clear_errors():
    env = GridWorld()
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=0)
    for bad in (4, -1, 0.5, "up"):
        with pytest.raises(ValueError, match=r"GridWorld.step: action must be an integer in "
                                             r"\[0, 3\]"):
            env.step(bad)
