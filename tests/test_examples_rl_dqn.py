"""Smoke test of examples/rl_dqn_cartpole.py (DQN on Gymnasium's CartPole-v1).

The quick mode trains 1 seed for 6,000 steps with a 64-64 network and evaluates 10
greedy episodes; the lesson's target (mean >= 475 over 100 episodes for >= 3/5 seeds,
50,000 steps each) belongs to the full run.
"""
import numpy as np
import pytest

from test_examples import assert_png, load_example

pytest.importorskip("gymnasium", reason="the lesson runs on Gymnasium's CartPole-v1")


def test_rl_dqn_cartpole_quick(tmp_path, monkeypatch):
    ex = load_example("rl_dqn_cartpole", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    (run,) = result["runs"]
    for key in ("final", "kept"):
        s = result[key]
        assert len(s["values"]) == 1 and s["min"] == min(s["values"])
        assert s["reached"] == sum(v >= 475 for v in s["values"])
        assert 8 <= s["mean"] <= 500          # CartPole returns are episode lengths
    assert [s for s, _ in run["evals"]] == [1500, 3000, 4500, 6000]
    # the kept policy is the best evaluation's; a random policy scores about 22
    assert run["best_step"] in [s for s, _ in run["evals"]]
    assert max(r for _, r in run["evals"]) > 40
    returns = np.asarray(run["returns"])
    assert run["steps"][-1] <= 6000 and returns.sum() <= 6000
    assert returns[-5:].mean() > returns[:5].mean()   # it learned while exploring
    agent = result["agent"]
    assert agent.steps == 6000 and agent.updates == 32 * sum(t % 64 == 0 for t in range(501, 6001))
    for png in result["pngs"]:
        assert_png(png, min_size=(600, 350))
