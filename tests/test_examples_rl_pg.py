"""Smoke test of examples/rl_policy_gradient_cartpole.py (REINFORCE, A2C and PPO on
Gymnasium's CartPole-v1).

The quick mode runs one seed of each algorithm for a few episodes (REINFORCE 20 episodes,
A2C 1,024 steps, PPO 512 steps) and evaluates 3 greedy episodes, about 2 s; the lesson's
target (the 100-episode mean >= 475 within 2,000 episodes for >= 3 of 5 seeds) belongs
to the full run. The lesson's helpers are checked on hand-made logs.
"""
import numpy as np
import pytest

from shendu.rl.common import TrainingLog
from test_examples import assert_png, load_example

pytest.importorskip("gymnasium", reason="the lesson runs on Gymnasium's CartPole-v1")


def test_rl_policy_gradient_cartpole_quick(tmp_path, monkeypatch):
    ex = load_example("rl_policy_gradient_cartpole", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path)])
    table, runs = result["table"], result["runs"]
    assert list(table) == ["REINFORCE", "A2C", "PPO"]
    assert [(r["algo"], r["seed"]) for r in runs] == [("REINFORCE", 0), ("A2C", 0), ("PPO", 0)]
    for r in runs:
        t = table[r["algo"]]
        assert t["seeds"] == 1 and t["mean"] == t["min"] == pytest.approx(r["best_mean"])
        # fewer than 100 episodes: the 100-episode target cannot be reached in quick mode
        assert t["reached"] == 0 and r["episodes"] is None and t["mean_episodes"] is None
        log = r["log"]
        returns = np.asarray(log.history["return"])
        # CartPole returns are episode lengths: 8 to 500, one point per step
        assert np.all((returns >= 8) & (returns <= 500))
        np.testing.assert_array_equal(returns, log.history["length"])
        assert r["best_mean"] == pytest.approx(log.running_mean().max())
        assert 8 <= r["greedy"] <= 500 and r["seconds"] > 0
        assert r["agent"].act(np.zeros(4, np.float32)) in (0, 1)
    by_algo = {r["algo"]: r["log"] for r in runs}
    assert by_algo["REINFORCE"].episodes == 20
    assert len(by_algo["REINFORCE"].history["loss"]) == 20      # one update per episode
    # A2C and PPO count steps over all 8 copies; unfinished episodes are not logged
    assert by_algo["A2C"].steps <= 1024 and len(by_algo["A2C"].history["loss"]) == 1024 // 64
    assert by_algo["PPO"].steps <= 512 and len(by_algo["PPO"].history["clip_fraction"]) == 2
    assert len(result["pngs"]) == 3
    for png in result["pngs"]:
        assert_png(png, min_size=(600, 350))


def test_rl_policy_gradient_cartpole_quick_one_algorithm(tmp_path, monkeypatch):
    ex = load_example("rl_policy_gradient_cartpole", monkeypatch)
    result = ex.main(["--quick", "--algos", "PPO", "--seeds", "3", "--out", str(tmp_path)])
    assert list(result["table"]) == ["PPO"]
    (run,) = result["runs"]
    assert run["seed"] == 3 and run["agent"].seed == 3
    assert [p.name for p in result["pngs"]] == ["rl_policy_gradient_episodes.png",
                                                "rl_policy_gradient_steps.png",
                                                "rl_policy_gradient_reinforce_seeds.png"]


def test_first_reaching_and_summarise(monkeypatch):
    ex = load_example("rl_policy_gradient_cartpole", monkeypatch)
    log = TrainingLog(report_every=0)
    for i in range(150):                     # 100-episode mean reaches 475 at episode 120
        log.episode(500.0 if i >= 25 else 0.0, length=10)
    assert ex.first_reaching(log) == (120, 1200)
    short = TrainingLog(report_every=0)
    for _ in range(50):                      # above the target but fewer than 100 episodes
        short.episode(500.0, length=500)
    assert ex.first_reaching(short) == (None, None)
    runs = [dict(algo="A2C", seed=0, best_mean=490.0, episodes=120, steps=1200, greedy=500.0),
            dict(algo="A2C", seed=1, best_mean=300.0, episodes=None, steps=None, greedy=100.0)]
    t = ex.summarise(runs)["A2C"]
    assert t == dict(seeds=2, mean=395.0, min=300.0, reached=1, episodes=[120, None],
                     steps=[1200, None], mean_episodes=120.0, mean_steps=1200.0, greedy=300.0)
