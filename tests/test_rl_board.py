"""The board games' rules and API: tic-tac-toe and Connect-Four (shendu.rl.envs).

Wins along rows, columns and diagonals for both players, draws, the action masks,
illegal moves, the observation's point of view, the state interface search uses
(clone, key, from_board, state_from_observation, symmetries) and API conformance with
shendu's check_env and Gymnasium's.
"""
import itertools

import numpy as np
import pytest

import shendu.rl as rl
from shendu.rl.envs.board import bits_to_array
from shendu.rl.envs.connect_four import ConnectFour
from shendu.rl.envs.tictactoe import LINES, TicTacToe

# a full tic-tac-toe game without a line: X O X / X O O / O X X
TTT_DRAW = (0, 1, 2, 4, 3, 5, 7, 6, 8)
# a full Connect-Four game without four in a row (found by random play, seed 0)
C4_DRAW = tuple(int(c) for c in "361313645534311043046626105524515600224220")


def play(env, moves):
    out = None
    for a in moves:
        out = env.step(a)
    return out


# --------------------------------------------------------------------------- tic-tac-toe
def line_cells(mask):
    return [c for c in range(9) if mask >> c & 1]


@pytest.mark.parametrize("line", LINES)
@pytest.mark.parametrize("winner", [0, 1])
def test_tictactoe_every_line_wins_for_either_player(line, winner):
    cells = line_cells(line)
    others = [c for c in range(9) if c not in cells]
    env = TicTacToe()
    env.reset(seed=0)
    if winner == 0:  # X takes the line; O's two stones go elsewhere
        moves = [cells[0], others[0], cells[1], others[1], cells[2]]
    else:  # O takes the line; X's three stones are off it and not a line themselves
        x = next(c for c in itertools.combinations(others, 3)
                 if not any(set(line_cells(m)) == set(c) for m in LINES))
        moves = [x[0], cells[0], x[1], cells[1], x[2], cells[2]]
    for a in moves[:-1]:
        obs, reward, terminated, truncated, info = env.step(a)
        assert (reward, terminated, truncated) == (0.0, False, False)
    obs, reward, terminated, truncated, info = env.step(moves[-1])
    assert reward == 1.0 and terminated and not truncated
    assert env.winner == winner == info["winner"] and env.done
    assert info["action_mask"].tolist() == [0] * 9
    assert env.legal_actions() == []


def test_tictactoe_draw():
    env = TicTacToe()
    env.reset(seed=0)
    for a in TTT_DRAW[:-1]:
        assert env.step(a)[2] is False
    obs, reward, terminated, truncated, info = env.step(TTT_DRAW[-1])
    assert (reward, terminated, truncated) == (0.0, True, False)
    assert env.winner is None and env.is_draw
    assert env.board().tolist() == [[1, 2, 1], [1, 2, 2], [2, 1, 1]]


def test_tictactoe_mask_observation_and_turns():
    env = TicTacToe()
    obs, info = env.reset(seed=3)
    assert obs.shape == (2, 3, 3) and obs.dtype == np.float32 and obs.sum() == 0
    assert info["to_play"] == 0 and info["action_mask"].dtype == np.int8
    obs, _, _, _, info = env.step(4)
    # O to move: plane 0 (the mover's) is empty, plane 1 holds X's centre stone
    assert info["to_play"] == 1 and obs[0].sum() == 0 and obs[1][1, 1] == 1
    assert info["action_mask"].tolist() == [1, 1, 1, 1, 0, 1, 1, 1, 1]
    obs, _, _, _, info = env.step(0)
    assert obs[0][1, 1] == 1 and obs[1][0, 0] == 1  # X to move again: X's stone first
    assert env.legal_actions() == [1, 2, 3, 5, 6, 7, 8]
    assert env.observation_space.contains(obs)


def test_tictactoe_illegal_moves_raise_clearly():
    env = TicTacToe()
    env.reset(seed=0)
    env.step(4)
    with pytest.raises(ValueError, match=r"TicTacToe.step: action 4 is illegal: cell 4 .*taken"
                                         r".*legal actions are \[0, 1, 2, 3, 5, 6, 7, 8\]"):
        env.step(4)
    with pytest.raises(ValueError, match=r"integer in \[0, 8\]"):
        env.step(9)
    with pytest.raises(ValueError, match="illegal"):
        env.clone().play(4)
    with pytest.raises(RuntimeError, match="reset"):
        TicTacToe().step(0)
    play(env, [0, 3, 1, 5])  # X: 4, 3, 5 -> the middle row
    assert env.winner == 0
    with pytest.raises(RuntimeError, match="episode has ended"):
        env.step(6)
    with pytest.raises(ValueError, match="game is over"):
        env.play(6)
    assert env.moves == 5  # the refused moves changed nothing


def test_tictactoe_render_and_reset():
    env = TicTacToe(render_mode="ansi")
    env.reset(seed=0)
    play(env, [4, 0])
    assert env.render() == "O . .\n. X .\n. . .\n0 1 2\nX to play"
    assert TicTacToe().render() is None
    with pytest.raises(ValueError, match="render_mode"):
        TicTacToe(render_mode="human")
    obs, info = env.reset()
    assert obs.sum() == 0 and env.moves == 0 and env.winner is None and not env.done


def test_clone_is_independent_and_key_identifies_the_position():
    s = TicTacToe()
    s.play(0)
    c = s.clone()
    c.play(4)
    assert s.moves == 1 and c.moves == 2 and s.key() != c.key()
    assert s.new_state().key() == (0, 0) and s.moves == 1
    # the same stones reached in another order give the same key
    a, b = TicTacToe(), TicTacToe()
    for m in (0, 4, 8):
        a.play(m)
    for m in (8, 4, 0):
        b.play(m)
    assert a.key() == b.key()


def test_from_board_and_state_from_observation():
    s = TicTacToe.from_board([[1, 1, 0], [2, 2, 0], [0, 0, 0]])
    assert s.to_play == 0 and s.moves == 4 and not s.done
    s.play(2)
    assert s.winner == 0
    won = TicTacToe.from_board([[1, 1, 1], [2, 2, 0], [0, 0, 0]])
    assert won.done and won.winner == 0
    with pytest.raises(ValueError, match="X moves first"):
        TicTacToe.from_board([[2, 2, 0], [0, 0, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match=r"\(3, 3\) array"):
        TicTacToe.from_board(np.zeros((2, 2)))
    for moves in ([], [4], [4, 0], [4, 0, 8]):
        t = TicTacToe()
        for m in moves:
            t.play(m)
        back = TicTacToe().state_from_observation(t.observation())
        assert back.key() == t.key() and back.to_play == t.to_play
    with pytest.raises(ValueError, match=r"expected shape \(2, 3, 3\)"):
        TicTacToe().state_from_observation(np.zeros((3, 3)))


def test_tictactoe_symmetries_move_the_policy_with_the_board():
    s = TicTacToe()
    s.play(1)  # X on the top edge
    obs = s.observation()
    policy = np.zeros(9)
    policy[1] = 1.0
    pairs = s.symmetries(obs, policy)
    assert len(pairs) == 8
    boards = {tuple(o.ravel()) for o, _ in pairs}
    assert len(boards) == 4  # an edge stone has 4 distinct images
    for o, p in pairs:
        assert o.shape == (2, 3, 3)
        assert np.argmax(o[1].ravel()) == np.argmax(p)  # the stone and the policy agree
    # batches of boards and policies (B, 2, 3, 3), (B, 9) transform row by row
    o2, p2 = s.symmetries(np.stack([obs, obs]), np.stack([policy, policy]))[1]
    assert o2.shape == (2, 2, 3, 3) and p2.shape == (2, 9)
    assert np.array_equal(o2[0], pairs[1][0]) and np.array_equal(p2[1], pairs[1][1])


def test_bits_to_array():
    assert bits_to_array(0, 3).tolist() == [0, 0, 0]
    assert bits_to_array(1 << 40, 42)[40] == 1


# --------------------------------------------------------------------------- connect four
def test_connect_four_gravity_and_full_column():
    env = ConnectFour()
    env.reset(seed=0)
    play(env, [3, 3, 3])
    b = env.board()
    assert b.shape == (6, 7)
    assert b[:, 3].tolist() == [0, 0, 0, 1, 2, 1]  # row 0 is the top
    assert env.heights[3] == 3
    play(env, [3, 3, 3])
    assert 3 not in env.legal_actions() and env.action_mask()[3] == 0
    with pytest.raises(ValueError, match="column 3 is full.*legal actions are "
                                         r"\[0, 1, 2, 4, 5, 6\]"):
        env.step(3)
    with pytest.raises(ValueError, match=r"\[0, 6\]"):
        env.step(7)


@pytest.mark.parametrize("name,moves,winner", [
    ("horizontal", [0, 0, 1, 1, 2, 2, 3], 0),
    ("vertical", [6, 0, 6, 0, 6, 0, 5, 0], 1),
    # X on (col c, height c) for c = 0..3, rising to the right
    ("diagonal /", [0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3], 0),
    # X on (col 3 - c, height c), rising to the left
    ("diagonal \\", [3, 2, 2, 1, 1, 0, 1, 0, 0, 6, 0], 0),
])
def test_connect_four_wins(name, moves, winner):
    env = ConnectFour()
    env.reset(seed=0)
    for a in moves[:-1]:
        assert env.step(a)[1:3] == (0.0, False), name
    obs, reward, terminated, truncated, info = env.step(moves[-1])
    assert (reward, terminated) == (1.0, True) and env.winner == winner, name
    assert info["action_mask"].sum() == 0


def test_connect_four_no_wrap_around_between_columns():
    # three stones at the top of column 0 and one at the bottom of column 1 are adjacent
    # bits, but not a line: the spare bit per column keeps them apart
    s = ConnectFour.from_board(np.array([
        [1, 0, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0, 0],
        [1, 0, 0, 0, 0, 0, 0],
        [2, 0, 0, 0, 0, 0, 0],
        [2, 0, 0, 0, 0, 0, 0],
        [2, 1, 0, 0, 0, 0, 2]]))
    assert s.winner is None and not s.done and s.to_play == 0


def test_connect_four_draw_and_observation():
    env = ConnectFour()
    obs, info = env.reset(seed=0)
    assert obs.shape == (2, 6, 7) and info["action_mask"].tolist() == [1] * 7
    for a in C4_DRAW[:-1]:
        assert not env.step(a)[2]
    obs, reward, terminated, _, info = env.step(C4_DRAW[-1])
    assert (reward, terminated, env.winner) == (0.0, True, None) and env.is_draw
    assert obs.sum() == 42 and (obs.sum(axis=0) == 1).all()
    back = env.state_from_observation(obs)
    assert back.done and back.winner is None and back.key() == env.key()


def test_connect_four_from_board_checks_gravity_and_sizes():
    board = np.zeros((6, 7), int)
    board[0, 0] = 1  # a floating stone
    with pytest.raises(ValueError, match="column 0 has a stone above an empty cell"):
        ConnectFour.from_board(board)
    with pytest.raises(ValueError, match="rows and cols"):
        ConnectFour(rows=3)
    small = ConnectFour(rows=4, cols=5)
    assert small.observation().shape == (2, 4, 5) and small.action_space.n == 5
    assert rl.check_env(small, steps=200)


def test_connect_four_mirror_symmetry():
    s = ConnectFour()
    s.play(0)
    policy = np.arange(7.0)
    (o1, p1), (o2, p2) = s.symmetries(s.observation(), policy)
    assert o2[1, 5, 6] == 1 and o1[1, 5, 0] == 1 and p2.tolist() == policy[::-1].tolist()


# --------------------------------------------------------------------------- conformance
@pytest.mark.parametrize("env_id", ["TicTacToe-v0", "ConnectFour-v0"])
def test_check_env(env_id):
    env = rl.make(env_id)
    assert env.spec == env_id
    assert rl.check_env(env, steps=300)


@pytest.mark.parametrize("env_id", ["TicTacToe-v0", "ConnectFour-v0"])
def test_gymnasium_check_env(env_id):
    pytest.importorskip("gymnasium")
    from gymnasium.utils.env_checker import check_env
    env = rl.to_gymnasium(rl.make(env_id, render_mode="ansi"))
    check_env(env, skip_render_check=True)
    obs, info = env.reset(seed=0)
    assert env.observation_space.contains(obs)
    assert env.action_space.sample(mask=info["action_mask"]) in range(env.action_space.n)
