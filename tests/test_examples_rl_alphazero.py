"""Smoke test of examples/rl_alphazero.py (AlphaZero self-play on tic-tac-toe and
Connect-Four).

The quick mode trains one tic-tac-toe seed for 3 iterations and one Connect-Four seed for
2, with few simulations, and plays 10 evaluation games each (about 6 s); the lesson's
targets (no loss to minimax, >= 95% wins against random play, >= 70% against pure MCTS)
belong to the full run. The exact ceiling against random play is checked (it does not
depend on training), and so is the exhaustive mistake count on a perfect player.
"""
import numpy as np
import pytest

from shendu.rl.mcts import MinimaxPlayer
from test_examples import assert_png, load_example


def outcomes(counts):
    return counts["wins"] + counts["draws"] + counts["losses"]


def test_rl_alphazero_quick(tmp_path, monkeypatch):
    ex = load_example("rl_alphazero", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    # a never-losing player's best win rate against random play (the docstring's figures)
    first, second = result["ceiling"]
    assert first == pytest.approx(0.995, abs=5e-4) and second == pytest.approx(0.916, abs=5e-4)

    (ttt,) = result["ttt"]
    assert len(ttt["loss"]) == 3 and all(np.isfinite(ttt["loss"])) and ttt["train_seconds"] > 0
    m, rnd = ttt["vs_minimax"], ttt["vs_random"]
    assert outcomes(m) == outcomes(rnd) == 10
    assert m["wins"] == 0                            # nobody beats a perfect player
    for counts in (m, rnd):
        assert outcomes(counts["first"]) == outcomes(counts["second"]) == 5
        for k in ("wins", "draws", "losses"):
            assert counts[k] == counts["first"][k] + counts["second"][k]
    assert 0 <= ttt["mistakes"] <= ttt["positions"] and ttt["positions"] > 100

    (c4,) = result["c4"]
    assert "agent" not in c4 and c4["simulations"] == 16 and len(c4["loss"]) == 2
    assert outcomes(c4["vs_mcts"]) == 10

    res, reached = result["results"], result["reached"]
    for key, s in res.items():
        assert len(s["values"]) == 1 and s["mean"] == s["min"] == s["values"][0], key
    assert res["ttt_random_wins"]["values"] == [rnd["wins"] / 10]
    assert res["ttt_minimax_losses"]["values"] == [m["losses"]]
    assert res["ttt_no_loss"]["values"] == [float(m["losses"] == 0)]
    assert res["ttt_mistakes"]["values"] == [ttt["mistakes"]]
    assert res["c4_wins_vs_mcts"]["values"] == [c4["vs_mcts"]["wins"] / 10]
    assert reached["ttt_no_loss"] == int(m["losses"] == 0)
    assert reached["c4_70"] == int(c4["vs_mcts"]["wins"] >= 7)
    assert reached["ttt_random_95"] == int(rnd["wins"] >= 9.5)

    az, pure = result["visits"]
    for shares in (az, pure):
        assert shares.shape == (7,) and np.all(shares >= 0)
        assert shares.sum() == pytest.approx(1.0)
    (png,) = result["pngs"]
    assert_png(png, min_size=(1000, 350))


def test_exhaustive_mistakes_of_a_perfect_player_is_zero(monkeypatch):
    """The lesson's walk counts no mistake for minimax itself, and some for a player that
    always takes the lowest legal square."""
    import shendu.rl as rl
    ex = load_example("rl_alphazero", monkeypatch)
    perfect = MinimaxPlayer(seed=0)
    env = rl.make("TicTacToe-v0")

    class Player:
        def __init__(self, choose):
            self.env, self.choose = env, choose

        def act_many(self, states):
            return [self.choose(s) for s in states]

    def best(s):
        values = perfect.action_values(s)
        return int(np.flatnonzero(values == np.nanmax(values))[0])

    mistakes, positions = ex.exhaustive_mistakes(Player(best), perfect)
    assert mistakes == 0 and positions > 0
    naive_mistakes, _ = ex.exhaustive_mistakes(Player(lambda s: int(s.legal_actions()[0])), perfect)
    assert naive_mistakes > 0
