"""Monte-Carlo tree search and the reference players (shendu.rl.mcts).

The root's statistics (visit counts summing to the simulations, Q = W / N, priors on the
legal moves only), finding an immediate win and blocking an immediate loss, with and
without an evaluator, temperature and noise, tree reuse, batched search, the perfect
minimax player's values of known positions, and play_games' bookkeeping.
"""
import numpy as np
import pytest

from shendu.rl.envs.connect_four import ConnectFour
from shendu.rl.envs.tictactoe import TicTacToe
from shendu.rl.mcts import MCTS, MinimaxPlayer, RandomPlayer, play_games, terminal_value


class UniformEvaluator:
    """Uniform priors and value 0 everywhere: PUCT with no knowledge; counts its calls."""

    def __init__(self):
        self.batches = []

    def __call__(self, states):
        self.batches.append(len(states))
        n = states[0].n_actions
        return np.full((len(states), n), 1.0 / n), np.zeros(len(states))


def ttt(rows):
    return TicTacToe.from_board(rows)


# X to play; cell 2 wins at once
TTT_WIN = [[1, 1, 0], [2, 2, 0], [0, 0, 0]]
# X to play; O threatens 3-4-5, so X must block at 5
TTT_BLOCK = [[1, 0, 0], [2, 2, 0], [1, 0, 0]]


def c4(moves):
    s = ConnectFour()
    for m in moves:
        s.play(m)
    return s


@pytest.mark.parametrize("evaluator", [None, UniformEvaluator()])
def test_root_statistics(evaluator):
    s = ttt([[1, 0, 0], [0, 2, 0], [0, 0, 0]])
    mcts = MCTS(n_simulations=150, evaluator=evaluator, seed=0)
    pi = mcts.search(s)
    root = mcts.root
    assert root.N.sum() == 150 == root.n
    assert np.allclose(root.Q[root.N > 0], root.W[root.N > 0] / root.N[root.N > 0])
    assert (root.Q[root.N == 0] == 0).all()
    assert np.all(np.abs(root.Q) <= 1)
    legal = s.legal_actions()
    illegal = [a for a in range(9) if a not in legal]
    assert root.N[illegal].sum() == 0 and root.P[illegal].sum() == 0
    assert root.P.sum() == pytest.approx(1.0)
    assert np.allclose(root.P[legal], 1 / 7)  # uniform priors from either
    assert pi.sum() == 1.0 and pi.max() == 1.0 and root.N[pi.argmax()] == root.N.max()
    # a child's own visits: one fewer than its edge's count (the visit that created it)
    a = int(root.N.argmax())
    assert root.children[a].n == root.N[a] - 1
    assert root.children[a].to_play == 1 - root.to_play


@pytest.mark.parametrize("evaluator", [None, UniformEvaluator()])
@pytest.mark.parametrize("board,move", [(TTT_WIN, 2), (TTT_BLOCK, 5)])
def test_tictactoe_finds_the_win_and_blocks_the_loss(evaluator, board, move):
    mcts = MCTS(n_simulations=200, evaluator=evaluator, seed=1)
    assert mcts.act(ttt(board)) == move


@pytest.mark.parametrize("evaluator", [None, UniformEvaluator()])
def test_connect_four_finds_the_win_and_blocks_the_loss(evaluator):
    # X has three in a row at the bottom (columns 1-3), both ends open: X wins at 0 or 4
    win = c4([1, 1, 2, 2, 3, 3])
    mcts = MCTS(n_simulations=300, evaluator=evaluator, seed=0)
    assert mcts.act(win) in (0, 4)
    assert mcts.root.Q[[0, 4]].max() == 1.0  # a won game backs up exactly +1
    # O to play: X threatens four in column 6; O must drop into 6
    block = c4([6, 0, 6, 1, 6])
    assert MCTS(n_simulations=300, evaluator=evaluator, seed=0).act(block) == 6


def test_temperature_and_choose():
    s = ttt([[1, 0, 0], [0, 2, 0], [0, 0, 0]])
    mcts = MCTS(n_simulations=100, seed=0)
    pi1 = mcts.search(s, temperature=1.0)
    assert np.allclose(pi1, mcts.root.N / 100)
    pi_half = mcts._policy(mcts.root, 0.5)
    assert np.allclose(pi_half, mcts.root.N ** 2 / (mcts.root.N ** 2).sum())
    pi0 = mcts._policy(mcts.root, 0.0)
    assert pi0.sum() == 1 and mcts.root.N[pi0.argmax()] == mcts.root.N.max()
    assert mcts.choose(pi0) == int(pi0.argmax())


def test_seeded_searches_repeat():
    s = c4([3, 3, 2])
    a = MCTS(n_simulations=80, seed=5).search(s, temperature=1.0)
    b = MCTS(n_simulations=80, seed=5).search(s, temperature=1.0)
    assert np.array_equal(a, b)


def test_dirichlet_noise_changes_root_priors_only():
    s = TicTacToe()
    ev = UniformEvaluator()
    mcts = MCTS(n_simulations=20, evaluator=ev, dirichlet_alpha=0.3, dirichlet_eps=0.5, seed=0)
    mcts.search(s)
    p = mcts.root.P
    assert p.sum() == pytest.approx(1.0) and not np.allclose(p, 1 / 9)
    assert np.allclose(mcts.root.clean_priors, 1 / 9)
    child = next(iter(mcts.root.children.values()))
    assert np.allclose(child.P[child.P > 0], 1 / 8)  # no noise below the root


def test_search_many_batches_one_leaf_per_tree():
    ev = UniformEvaluator()
    mcts = MCTS(n_simulations=30, evaluator=ev, seed=0)
    states = [TicTacToe(), ttt(TTT_WIN), ttt(TTT_BLOCK)]
    pis = mcts.search_many(states)
    assert pis.shape == (3, 9)
    # one batch for the roots, then one per simulation (fewer once leaves are terminal)
    assert ev.batches[0] == 3 and len(ev.batches) <= 31 and max(ev.batches) == 3
    assert [r.N.sum() for r in mcts.roots] == [30, 30, 30]
    assert pis[1].argmax() == 2 and pis[2].argmax() == 5


def test_tree_reuse_keeps_the_subtree():
    s = TicTacToe()
    mcts = MCTS(n_simulations=100, reuse_tree=True, seed=0)
    mcts.search(s)
    a = int(mcts.root.N.argmax())
    child = mcts.root.children[a]
    reply = max(child.children, key=lambda b: child.visits[b])
    carried = child.visits[reply]
    s.play(a)
    s.play(reply)
    grandchild = child.children[reply]
    mcts.search(s)
    assert mcts.root is grandchild and carried > 1
    # the grandchild's edges carry the visits below it (one fewer than its edge's count:
    # the visit that created it), and 100 new simulations come on top
    assert mcts.root.N.sum() == 100 + carried - 1 == mcts.root.n
    mcts.reset()
    mcts.search(s)
    assert mcts.root.N.sum() == 100


def test_bad_input():
    with pytest.raises(ValueError, match="n_simulations must be a positive integer"):
        MCTS(n_simulations=0)
    with pytest.raises(TypeError, match="evaluator must be callable"):
        MCTS(evaluator=3)
    with pytest.raises(ValueError, match="dirichlet_alpha"):
        MCTS(dirichlet_alpha=0.0)
    with pytest.raises(RuntimeError, match="no search has run"):
        MCTS().root
    done = ttt([[1, 1, 1], [2, 2, 0], [0, 0, 0]])
    with pytest.raises(ValueError, match="game is over"):
        MCTS(n_simulations=5).search(done)
    bad = MCTS(n_simulations=5, evaluator=lambda states: (np.ones((len(states), 3)),
                                                          np.zeros(len(states))))
    with pytest.raises(ValueError, match=r"expected \(1, n_actions\)"):
        bad.search(TicTacToe())


def test_terminal_value():
    won = ttt([[1, 1, 1], [2, 2, 0], [0, 0, 0]])  # X won, O would move
    assert terminal_value(won) == -1.0
    draw = TicTacToe()
    for a in (0, 1, 2, 4, 3, 5, 7, 6, 8):
        draw.play(a)
    assert terminal_value(draw) == 0.0


# --------------------------------------------------------------------------- minimax
@pytest.mark.parametrize("board,value", [
    ([[0, 0, 0], [0, 0, 0], [0, 0, 0]], 0.0),   # perfect play draws
    (TTT_WIN, 1.0),                              # X wins at once
    (TTT_BLOCK, 0.0),                            # X blocks; a draw
    ([[1, 0, 0], [0, 2, 0], [0, 0, 1]], 0.0),    # O must take an edge, then it is a draw
    ([[1, 0, 0], [0, 0, 0], [0, 0, 0]], 0.0),
    ([[1, 2, 0], [0, 0, 0], [0, 0, 0]], 1.0),    # O on an edge next to X's corner loses
    ([[1, 0, 0], [0, 0, 0], [0, 0, 2]], 1.0),    # O answering a corner with a corner loses
    ([[1, 0, 0], [0, 2, 0], [0, 0, 0]], 0.0),
    ([[1, 0, 0], [0, 1, 0], [2, 0, 2]], 0.0),    # X must block at 7; then a draw
])
def test_minimax_values_of_known_positions(board, value):
    assert MinimaxPlayer().value(ttt(board)) == value


def test_minimax_action_values_and_play():
    mm = MinimaxPlayer(seed=0)
    av = mm.action_values(ttt([[1, 0, 0], [0, 0, 0], [0, 0, 0]]))  # O to move
    assert np.isnan(av[0])
    assert av[4] == 0.0                           # only the centre holds the draw
    assert (av[[1, 2, 3, 5, 6, 7, 8]] == -1.0).all()
    assert mm.act(ttt([[1, 0, 0], [0, 0, 0], [0, 0, 0]])) == 4
    assert mm.act(ttt(TTT_BLOCK)) == 5
    assert len(mm.memo) > 100


def test_play_games_counts():
    r = play_games(MinimaxPlayer(seed=0), MinimaxPlayer(seed=1), TicTacToe(), games=20)
    assert r["draws"] == 20 and r["first"]["draws"] == r["second"]["draws"] == 10
    r = play_games(MinimaxPlayer(seed=0), RandomPlayer(seed=0), TicTacToe(), games=40)
    assert r["losses"] == 0 and r["wins"] + r["draws"] == 40 and r["wins"] > 25
    assert r["first"]["wins"] + r["second"]["wins"] == r["wins"]
    # a pure MCTS beats random play at Connect-Four; callables are players too
    rnd = RandomPlayer(seed=3)
    r = play_games(MCTS(n_simulations=50, seed=0), lambda s: rnd.act(s), ConnectFour(), games=6)
    assert r["wins"] >= 5
    with pytest.raises(ValueError, match="games must be a positive integer"):
        play_games(rnd, rnd, TicTacToe(), games=0)
