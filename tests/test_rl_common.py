"""shendu.rl's shared parts: TrainingLog, evaluate, schedules, the Agent save/load contract."""
import io

import numpy as np
import pytest

import shendu
from shendu.rl import Agent, Discrete, Env, TrainingLog, evaluate, register
from shendu.rl.common import env_id
from shendu.rl.schedules import (ConstantSchedule, ExponentialSchedule, LinearSchedule,
                                 as_schedule)


class Corridor(Env):
    """Walk right from cell 0 to cell n-1: reward -1 per step, 0 at the goal."""

    def __init__(self, n=4):
        super().__init__()
        self.n = n
        self.observation_space = Discrete(n)
        self.action_space = Discrete(2)  # 0 left, 1 right

    def _reset(self, options):
        self.s = 0
        return self.s, {}

    def _step(self, action):
        self.s = max(0, min(self.n - 1, self.s + (1 if action == 1 else -1)))
        done = self.s == self.n - 1
        return self.s, 0.0 if done else -1.0, done, False, {}


@pytest.fixture
def corridor_id():
    """Registers the test environment for one test only: the registry is global, and the
    docs list what ``registered()`` holds."""
    from shendu.rl.env import _REGISTRY
    register("Corridor-test-v0", Corridor, n=5)
    yield "Corridor-test-v0"
    _REGISTRY.pop("Corridor-test-v0", None)


def test_training_log_counts_reports_and_running_mean():
    out = io.StringIO()
    log = TrainingLog(report_every=2, window=2, file=out, name="demo")
    for r, n in [(1.0, 3), (3.0, 5), (5.0, 7)]:
        log.episode(r, length=n, loss=r / 10)
    assert log.episodes == 3 and log.steps == 15
    assert log.history["step"] == [3, 8, 15]
    assert log.history["loss"] == [0.1, 0.3, 0.5]
    assert log.mean_return() == 4.0 and log.mean_return(3) == 3.0
    np.testing.assert_allclose(log.running_mean(), [1.0, 2.0, 4.0])
    lines = out.getvalue().splitlines()
    assert len(lines) == 1  # one report, after episode 2
    assert lines[0].startswith("demo: episode     2 | steps        8 | return     2.00 (mean of last 2)")
    assert np.isnan(TrainingLog(report_every=0).mean_return())


def test_evaluate_runs_whole_episodes_and_is_repeatable(corridor_id):
    env = shendu.rl.make("Corridor-test-v0")
    assert env.n == 5 and env.spec == "Corridor-test-v0" and env_id(env) == "Corridor-test-v0"
    returns = evaluate(lambda obs: 1, env, episodes=3)
    np.testing.assert_array_equal(returns, [-3.0, -3.0, -3.0])  # 4 steps, the last one 0
    assert evaluate(lambda obs: 0, env, episodes=2, max_steps=7).tolist() == [-7.0, -7.0]
    rng_env = shendu.rl.make("Corridor-test-v0")
    first = evaluate(lambda obs: rng_env.action_space.sample(), rng_env, episodes=3, seed=1)
    again = evaluate(lambda obs: rng_env.action_space.sample(), rng_env, episodes=3, seed=1)
    np.testing.assert_array_equal(first, again)


def test_schedules_values_and_errors():
    eps = LinearSchedule(1.0, 0.1, duration=10)
    assert [eps(t) for t in (0, 5, 10, 99)] == [1.0, 0.55, 0.1, 0.1]
    assert eps(-3) == 1.0
    exp = ExponentialSchedule(1.0, 0.2, decay=0.5)
    assert [exp(t) for t in (0, 1, 2, 5)] == [1.0, 0.5, 0.25, 0.2]
    assert as_schedule(0.3)(1000) == 0.3 and isinstance(as_schedule(0.3), ConstantSchedule)
    assert as_schedule(eps) is eps
    with pytest.raises(ValueError, match="LinearSchedule: duration must be positive"):
        LinearSchedule(1, 0, 0)
    with pytest.raises(ValueError, match=r"decay must be in \(0, 1\]"):
        ExponentialSchedule(1, 0, 1.5)
    with pytest.raises(TypeError, match="epsilon must be a number or a schedule"):
        as_schedule("high", "epsilon")


class TableAgent(Agent):
    def __init__(self, env, scale=1.0):
        self.env, self.scale = env, scale
        self.table = np.zeros((env.observation_space.n, env.action_space.n))

    def config(self):
        return {"scale": self.scale}

    def state_dict(self):
        return {"table": self.table}

    def load_state_dict(self, state):
        self.table = np.asarray(state["table"])


def test_agent_save_load_round_trip_and_errors(tmp_path, corridor_id):
    agent = TableAgent(shendu.rl.make("Corridor-test-v0"), scale=2.5)
    agent.table[:] = np.arange(10).reshape(5, 2)
    path = tmp_path / "agent.safetensors"
    agent.save(path)
    back = TableAgent.load(path)  # the environment comes back from its id
    assert back.scale == 2.5 and back.env.n == 5
    np.testing.assert_array_equal(back.table, agent.table)
    assert TableAgent.load(path, env=Corridor(n=5)).env.spec is None

    class OtherAgent(TableAgent):
        pass

    with pytest.raises(ValueError, match="holds a TableAgent, not a OtherAgent"):
        OtherAgent.load(path)
    shendu.save({"weight": shendu.ones(2)}, tmp_path / "weights.safetensors")
    with pytest.raises(ValueError, match="is not a saved shendu agent"):
        TableAgent.load(tmp_path / "weights.safetensors")
    anonymous = TableAgent(Corridor(n=5))
    anonymous.save(tmp_path / "anon.safetensors")
    with pytest.raises(ValueError, match="does not name its environment; pass env="):
        TableAgent.load(tmp_path / "anon.safetensors")
    bad = TableAgent(Corridor(n=5), scale=object())
    with pytest.raises(TypeError):
        bad.save(tmp_path / "bad.safetensors")
    assert not (tmp_path / "bad.safetensors").exists()
