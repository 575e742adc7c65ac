"""Tabular RL: value iteration and policy evaluation against hand-computed values and
FrozenLake's known optimum, Q-learning and SARSA (update rule, the maze's shortest path,
the cliff), schedules, saving and loading, errors."""
import numpy as np
import pytest

import shendu.rl as rl
from shendu.rl.envs.gridworld import GridWorld
from shendu.rl.schedules import ExponentialSchedule, LinearSchedule
from shendu.rl.tabular import policy_evaluation, q_values

LEFT, DOWN, RIGHT, UP = range(4)
CLIFF = ["." * 12] * 3 + ["S" + "H" * 10 + "G"]  # Sutton & Barto's cliff (example 6.6)


def gymnasium():
    return pytest.importorskip("gymnasium", reason="Gymnasium (the optional shendu[rl] extra) "
                                                   "is not installed")


# ------------------------------------------------------------------------------- planning
def test_value_iteration_hand_computed_deterministic():
    # S . G, gamma 0.9, no step cost: V(1) = 1 (one step to the goal), V(S) = 0.9 * 1
    V, policy = rl.value_iteration(GridWorld(["S.G"], step_reward=0.0), gamma=0.9)
    np.testing.assert_allclose(V, [0.9, 1.0, 0.0], atol=1e-9)
    assert policy[:2].tolist() == [RIGHT, RIGHT]
    # with a step cost of 0.1: V(1) = 1, V(S) = -0.1 + 0.9 * 1 = 0.8
    V, _ = rl.value_iteration(GridWorld(["S.G"], step_reward=-0.1), gamma=0.9)
    np.testing.assert_allclose(V, [0.8, 1.0, 0.0], atol=1e-9)
    # two rows: the goal is 3 steps away from S, 2 from (0, 1), 1 from (1, 1) ...
    env = GridWorld(["S.#", "..G"], step_reward=0.0)
    V, policy = rl.value_iteration(env, gamma=0.5)
    np.testing.assert_allclose(V, [0.25, 0.5, 0.0, 0.5, 1.0, 0.0], atol=1e-9)
    assert policy[1] == DOWN and policy[3] == RIGHT and policy[4] == RIGHT


def test_value_iteration_hand_computed_slippery():
    """S . G with slip 0.5: moving right reaches the next cell with probability 0.5, else
    slips up or down into the edge and stays. Bellman, gamma 0.9, step cost 0.1:
    V1 = 0.5 * 1 + 0.5 * (-0.1 + 0.9 V1)            ->  V1 = 0.45 / 0.55
    V0 = 0.5 (-0.1 + 0.9 V1) + 0.5 (-0.1 + 0.9 V0)  ->  V0 = (-0.1 + 0.45 V1) / 0.55
    """
    env = GridWorld(["S.G"], slip=0.5, step_reward=-0.1)
    V, policy = rl.value_iteration(env, gamma=0.9, theta=1e-13)
    v1 = 0.45 / 0.55
    v0 = (-0.1 + 0.45 * v1) / 0.55
    np.testing.assert_allclose(V, [v0, v1, 0.0], atol=1e-10)
    assert policy[:2].tolist() == [RIGHT, RIGHT]
    # the same numbers from policy evaluation of that policy, and Q = one backup of V
    np.testing.assert_allclose(policy_evaluation(env, policy, gamma=0.9, theta=1e-13), V,
                               atol=1e-10)
    Q = q_values(env, V, gamma=0.9)
    assert Q.shape == (3, 4)
    np.testing.assert_allclose(Q.max(axis=1), V, atol=1e-10)
    # moving left from (0, 1): 0.5 back to S, 0.5 stay
    assert Q[1, LEFT] == pytest.approx(0.5 * (-0.1 + 0.9 * v0) + 0.5 * (-0.1 + 0.9 * v1))


def test_policy_evaluation_with_a_horizon():
    # S . G, step cost 0: after 1 backup only (0,1) sees the goal; after 2, S does too
    env = GridWorld(["S.G"], step_reward=0.0)
    right = np.full(3, RIGHT)
    np.testing.assert_allclose(policy_evaluation(env, right, gamma=1.0, horizon=1), [0, 1, 0])
    np.testing.assert_allclose(policy_evaluation(env, right, gamma=1.0, horizon=2), [1, 1, 0])
    # a policy that never reaches the goal is worth nothing
    np.testing.assert_allclose(policy_evaluation(env, np.full(3, LEFT), gamma=0.9), 0.0)


def test_value_iteration_on_frozen_lake_reaches_the_known_optimum():
    gymnasium()
    env = rl.make("FrozenLake-v1", is_slippery=True)
    V, policy = rl.value_iteration(env, gamma=1.0)
    # the optimal policy's exact success rate within FrozenLake's 100-step time limit
    success = policy_evaluation(env, policy, gamma=1.0, horizon=100)[0]
    assert success == pytest.approx(0.740, abs=0.002)
    # without the time limit the same policy succeeds more often, and V says so
    assert V[0] == pytest.approx(policy_evaluation(env, policy, gamma=1.0)[0], abs=1e-8)
    assert V[0] > success
    # the policy keeps away from the holes: at the start it goes left, into the wall
    assert policy[0] == LEFT and policy[14] == DOWN
    # sampled episodes agree (1,000 episodes: standard error 0.014)
    returns = rl.evaluate(lambda s: int(policy[s]), env, episodes=1000, seed=0)
    assert abs(returns.mean() - success) < 0.05
    # a GridWorld with FrozenLake's map and slip 2/3 is the same problem
    grid = ["S...", ".H.H", "...H", "H..G"]
    Vg, _ = rl.value_iteration(GridWorld(grid, slip=2 / 3, step_reward=0.0,
                                                hole_reward=0.0), gamma=1.0)
    np.testing.assert_allclose(Vg, V, atol=1e-8)


def test_value_iteration_on_taxi_and_cliff_walking():
    gymnasium()
    cliff = rl.make("CliffWalking-v1")
    V, policy = rl.value_iteration(cliff, gamma=0.99)
    # 13 steps along the cliff's edge, each -1
    assert V[36] == pytest.approx(-(1 - 0.99 ** 13) / (1 - 0.99), abs=1e-6)
    assert rl.evaluate(lambda s: int(policy[s]), cliff, episodes=3, seed=0).tolist() == [-13] * 3
    taxi = rl.make("Taxi-v4")
    V, policy = rl.value_iteration(taxi, gamma=0.99)
    returns = rl.evaluate(lambda s: int(policy[s]), taxi, episodes=20, seed=0)
    assert np.all(returns > 0)  # every passenger delivered (+20) within a few steps


def test_planning_errors():
    env = GridWorld(["SG"])
    with pytest.raises(ValueError, match=r"gamma must be in \[0, 1\]"):
        rl.value_iteration(env, gamma=1.5)
    with pytest.raises(ValueError, match=r"integer actions of shape \(2,\)"):
        policy_evaluation(env, [0.5, 1.0])
    with pytest.raises(ValueError, match=r"actions must be in \[0, 3\]"):
        policy_evaluation(env, [0, 4])
    with pytest.raises(ValueError, match=r"V must have shape \(2,\)"):
        q_values(env, np.zeros(3))
    # S can never reach G: with gamma = 1 its value falls by the step cost every sweep
    with pytest.warns(RuntimeWarning, match="not converged after 50 sweeps"):
        V, _ = rl.value_iteration(GridWorld(["S#G"], step_reward=-1.0), gamma=1.0,
                                  max_iterations=50)
    assert V[0] == -50.0
    gymnasium()
    with pytest.raises(ValueError, match="no transition model env.unwrapped.P"):
        rl.value_iteration(rl.make("CartPole-v1"))


# ------------------------------------------------------------------------------- learning
def test_q_learning_update_rule_by_hand():
    env = GridWorld(["S.G"], step_reward=-0.01)
    agent = rl.QLearning(env, alpha=0.5, gamma=0.9, epsilon=0.0, seed=0)
    agent.q[0] = [0.0, 0.0, 0.3, 0.0]
    agent.q[1] = [0.2, 0.0, 0.4, 0.0]
    log = agent.train(1, report_every=0)
    # greedy: right, right. Q(S, right) += 0.5 (-0.01 + 0.9 * max Q(1) - Q(S, right));
    # then Q(1, right) += 0.5 (1 - Q(1, right)) with no bootstrap after the goal
    assert agent.q[0, RIGHT] == pytest.approx(0.3 + 0.5 * (-0.01 + 0.9 * 0.4 - 0.3))
    assert agent.q[1, RIGHT] == pytest.approx(0.4 + 0.5 * (1.0 - 0.4))
    assert agent.q[1, LEFT] == 0.2 and agent.episodes == 1
    assert log.history["return"] == [pytest.approx(0.99)] and log.history["length"] == [2]


def test_sarsa_update_rule_by_hand():
    env = GridWorld(["S.G"], step_reward=-0.01)
    agent = rl.SARSA(env, alpha=0.5, gamma=0.9, epsilon=0.0, seed=0)
    agent.q[0] = [0.0, 0.0, 0.3, 0.0]
    agent.q[1] = [0.0, 0.0, 0.4, 0.2]
    agent.train(1, report_every=0)
    assert agent.q[0, RIGHT] == pytest.approx(0.3 + 0.5 * (-0.01 + 0.9 * 0.4 - 0.3))
    assert agent.q[1, RIGHT] == pytest.approx(0.7)


@pytest.mark.parametrize("cls, epsilon", [
    (rl.QLearning, 0.2),  # off-policy: learns the greedy values while exploring
    # on-policy: learns the exploring policy's values, greedy only once epsilon -> 0
    (rl.SARSA, LinearSchedule(0.5, 0.0, 200)),
])
def test_agents_learn_the_maze_shortest_path(cls, epsilon):
    env = rl.make("GridWorld-v0")
    _, optimal = rl.value_iteration(env, gamma=0.99)
    shortest = env.greedy_path(optimal)
    assert len(shortest) == 13 and shortest[-1] == 47  # 12 steps from S to G
    for seed in range(3):
        agent = cls(env, alpha=0.5, gamma=0.99, epsilon=epsilon, seed=seed)
        log = agent.train(300, report_every=0)
        assert env.greedy_path(agent.policy()) == shortest, (cls.__name__, seed)
        returns = rl.evaluate(agent.act, env, episodes=2)
        assert returns.tolist() == [pytest.approx(1.0 - 0.01 * 11)] * 2
        assert log.episodes == 300 and log.mean_return(50) > log.mean_return(300)


def test_q_learning_walks_the_cliff_edge_sarsa_the_safe_path():
    """Sutton & Barto's example 6.6: with epsilon 0.1 Q-learning learns the optimal path
    along the edge but falls off while exploring; SARSA learns a safer path, with a better
    return during training."""
    env = GridWorld(CLIFF, step_reward=-1.0, goal_reward=-1.0, hole_reward=-100.0,
                    max_steps=200)
    q = rl.QLearning(env, alpha=0.5, gamma=1.0, epsilon=0.1, seed=0)
    sarsa = rl.SARSA(env, alpha=0.5, gamma=1.0, epsilon=0.1, seed=0)
    q_log, sarsa_log = q.train(500, report_every=0), sarsa.train(500, report_every=0)
    edge = [36, 24, *range(25, 36), 47]  # up, 11 right along the cliff, down
    assert env.greedy_path(q.policy()) == edge
    safe = env.greedy_path(sarsa.policy())
    assert safe[-1] == 47 and len(safe) > len(edge)
    assert min(s // 12 for s in safe) <= 1  # at least two rows away from the cliff
    assert sarsa_log.mean_return(100) > q_log.mean_return(100) + 5


def test_training_is_repeatable_and_logs_epsilon(capsys):
    env = GridWorld(slip=0.2)
    eps = ExponentialSchedule(1.0, 0.05, decay=0.9)
    a = rl.QLearning(env, alpha=0.3, epsilon=eps, seed=7)
    log = a.train(30, report_every=10)
    b = rl.QLearning(GridWorld(slip=0.2), alpha=0.3, epsilon=eps, seed=7)
    b.train(30, report_every=0)
    np.testing.assert_array_equal(a.q, b.q)
    c = rl.QLearning(GridWorld(slip=0.2), alpha=0.3, epsilon=eps, seed=8)
    c.train(30, report_every=0)
    assert not np.array_equal(a.q, c.q)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3 and lines[-1].startswith("QLearning: episode    30 |")
    assert log.history["epsilon"][:3] == [1.0, 0.9, pytest.approx(0.81)]
    assert len(log.history["return"]) == 30 and log.steps == sum(log.history["length"])
    a.train(5, report_every=0)  # a second call continues the schedule
    assert a.episodes == 35 and a.epsilon(a.episodes) == pytest.approx(0.05)


def test_act_and_policy():
    env = GridWorld(["S.G"])
    agent = rl.SARSA(env, epsilon=1.0, seed=0)
    agent.q[1] = [0.0, 0.0, 2.0, 0.0]
    assert agent.act(1) == RIGHT and agent.act(np.int64(1)) == RIGHT
    assert agent.act(0) == LEFT  # all ties: the lowest action
    assert {agent.act(1, greedy=False) for _ in range(100)} == {0, 1, 2, 3}  # epsilon 1
    assert agent.policy().tolist() == [0, 2, 0]
    assert agent.values().tolist() == [0.0, 2.0, 0.0]
    with pytest.raises(ValueError, match="state 3 is outside the table's 3 states"):
        agent.act(3)
    with pytest.raises(TypeError, match="must be a state index"):
        agent.act(0.5)


def test_agent_errors():
    env = GridWorld(["SG"])
    with pytest.raises(TypeError, match="epsilon must be a number or a schedule"):
        rl.QLearning(env, epsilon="decay")
    with pytest.raises(ValueError, match=r"SARSA: gamma must be in \[0, 1\]"):
        rl.SARSA(env, gamma=1.1)
    with pytest.raises(ValueError, match="episodes must be a non-negative integer"):
        rl.SARSA(env).train(2.5)
    gymnasium()
    with pytest.raises(TypeError, match="QLearning needs a Discrete observation space"):
        rl.QLearning(rl.make("CartPole-v1"))


def test_agents_work_on_gymnasium_frozen_lake():
    gymnasium()
    env = rl.make("FrozenLake-v1", is_slippery=True)
    agent = rl.QLearning(env, alpha=0.1, gamma=0.99, epsilon=LinearSchedule(1.0, 0.1, 500),
                         seed=0)
    log = agent.train(1000, report_every=0)
    assert agent.q.shape == (16, 4) and log.episodes == 1000
    assert np.abs(agent.q).max() > 0 and np.all(agent.q[[5, 7, 11, 12, 15]] == 0)  # terminals
    assert 0 < log.mean_return(1000) < 1


# ------------------------------------------------------------------------------- saving
@pytest.mark.parametrize("cls", [rl.QLearning, rl.SARSA])
def test_save_and_load_round_trip(cls, tmp_path):
    env = rl.make("GridWorld-v0", slip=0.1)
    agent = cls(env, alpha=LinearSchedule(0.5, 0.1, 100), gamma=0.95,
                epsilon=ExponentialSchedule(1.0, 0.05, 0.99), seed=3, q_init=0.5)
    agent.train(20, report_every=0)
    path = tmp_path / "agent.safetensors"
    agent.save(path)
    loaded = cls.load(path, env=env)
    np.testing.assert_array_equal(loaded.q, agent.q)
    assert loaded.episodes == 20 and loaded.gamma == 0.95 and loaded.q_init == 0.5
    assert repr(loaded.alpha) == repr(agent.alpha) and repr(loaded.epsilon) == repr(agent.epsilon)
    assert loaded.epsilon(20) == agent.epsilon(20)
    assert [loaded.act(s) for s in range(48)] == [agent.act(s) for s in range(48)]
    # without env=, the environment comes back from its id (the default maze here)
    again = cls.load(path)
    assert isinstance(again.env, GridWorld) and again.env.spec == "GridWorld-v0"
    np.testing.assert_array_equal(again.q, agent.q)
    other = rl.SARSA if cls is rl.QLearning else rl.QLearning
    with pytest.raises(ValueError, match=f"holds a {cls.__name__}"):
        other.load(path)


def test_save_errors(tmp_path):
    env = GridWorld(["S.G"])
    agent = rl.QLearning(env, epsilon=lambda t: 0.1)
    with pytest.raises(TypeError, match="cannot save epsilon="):
        agent.save(tmp_path / "a.safetensors")
    agent = rl.QLearning(env, epsilon=0.2)
    agent.save(tmp_path / "b.safetensors")
    with pytest.raises(ValueError, match=r"the Q table has shape \(3, 4\), this environment "
                                         r"needs \(48, 4\)"):
        rl.QLearning.load(tmp_path / "b.safetensors", env=GridWorld())
    with pytest.raises(ValueError, match="does not name its environment"):
        rl.QLearning.load(tmp_path / "b.safetensors")  # built without make: no id
