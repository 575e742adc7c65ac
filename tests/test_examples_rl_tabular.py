"""Smoke test of examples/rl_frozenlake.py (value iteration, Q-learning and SARSA on
FrozenLake; Q-learning on the maze).

The quick mode trains 2 seeds for 2,000 episodes each and evaluates 200 greedy episodes;
the lesson's target (greedy success >= 0.70 over 1,000 episodes for 5 seeds, 10,000
training episodes) belongs to the full run.
"""
import numpy as np
import pytest

from test_examples import assert_png, load_example

pytest.importorskip("gymnasium", reason="the lesson runs on Gymnasium's FrozenLake-v1")


def test_rl_frozenlake_quick(tmp_path, monkeypatch):
    ex = load_example("rl_frozenlake", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    # the reference: the optimal policy's exact success within 100 steps
    assert result["reference"] == pytest.approx(0.740, abs=0.002)
    assert abs(result["reference_sampled"] - 0.740) < 0.1  # 200 episodes: s.e. 0.03
    for name in ("Q-learning", "SARSA"):
        res = result["results"][name]
        assert len(res["values"]) == 2 and res["min"] == min(res["values"])
        assert res["reached"] == sum(v >= 0.70 for v in res["values"])
        # far above a random policy (about 0.015), and no policy beats the optimum
        assert res["min"] > 0.4
        assert all(0.4 < e <= result["reference"] + 1e-9 for e in result["exact"][name])
    for curve in result["curves"].values():
        assert curve.shape == (2000,)
        assert curve[-500:].mean() > curve[:500].mean() + 0.2  # it learned while exploring
    assert result["maze_path"] == result["maze_shortest"] and len(result["maze_path"]) == 13
    for png in result["pngs"]:
        assert_png(png, min_size=(600, 350))
    assert np.isfinite(result["results"]["SARSA"]["mean"])
