"""DQN: TD targets against hand-computed values (terminated vs truncated, Double DQN,
n-step), target-network updates, reward clipping, the epsilon schedule, learning a maze,
save/load, bad input, and one update against the same update written in PyTorch."""
import numpy as np
import pytest

import shendu
import shendu.rl as rl
from shendu import nn
from shendu.rl.buffers import Batch
from shendu.rl.dqn import DQN, q_mlp
from shendu.rl.env import Env
from shendu.rl.spaces import Box, Discrete


class Line(Env):
    """Walk on 0..length: action 1 moves right, 0 left (not below 0). Reaching ``length``
    terminates with ``goal``; every step pays ``step_reward``; ``max_steps`` truncates.
    The observation is ``[position / length, 1]``."""

    def __init__(self, length=3, goal=1.0, step_reward=0.0, max_steps=10):
        super().__init__()
        self.length, self.goal, self.step_reward = length, goal, step_reward
        self.max_steps = max_steps
        self.observation_space = Box(-1.0, 2.0, shape=(2,))
        self.action_space = Discrete(2)

    def _obs(self):
        return np.array([self.pos / self.length, 1.0], np.float32)

    def _reset(self, options):
        self.pos, self.t = 0, 0
        return self._obs(), {}

    def _step(self, action):
        self.pos = max(0, self.pos + (1 if action == 1 else -1))
        self.t += 1
        terminated = self.pos == self.length
        reward = self.goal if terminated else self.step_reward
        return self._obs(), reward, terminated, self.t >= self.max_steps and not terminated, {}


def linear_agent(**kwargs):
    """A DQN whose networks are one Linear(2, 2) with weights we set by hand."""
    shendu.manual_seed(0)
    agent = DQN(Line(), q_network=nn.Linear(2, 2), learning_starts=0, **kwargs)
    set_weights(agent.q_network, [[1.0, 0.0], [0.0, 2.0]], [0.0, 0.5])
    set_weights(agent.target_network, [[3.0, 1.0], [-1.0, 1.0]], [0.0, 0.0])
    return agent


def set_weights(linear, w, b):
    linear.weight._data[...] = np.asarray(w, np.float32)
    linear.bias._data[...] = np.asarray(b, np.float32)


S2 = np.array([[1.0, 0.0],    # Q_target = [3, -1],  Q_online = [1, 0.5]
               [0.0, 1.0],    # Q_target = [1, 1],   Q_online = [0, 2.5]
               [1.0, 1.0]],   # Q_target = [4, 0],   Q_online = [1, 2.5]
              np.float32)


def test_td_target_by_hand_terminated_means_no_bootstrap():
    agent = linear_agent(gamma=0.5)
    y = agent.td_target([1.0, 2.0, -1.0], S2, [False, True, False])
    # y = r + gamma * (1 - terminated) * max_a Q_target(s', a)
    np.testing.assert_allclose(y, [1 + 0.5 * 3, 2.0, -1 + 0.5 * 4])
    assert y.dtype == np.float32
    # n-step: gamma^k per row
    y = agent.td_target([1.0, 1.0, 1.0], S2, [False, False, False], n_steps=[1, 2, 3])
    np.testing.assert_allclose(y, [1 + 0.5 * 3, 1 + 0.25 * 1, 1 + 0.125 * 4])


def test_double_dqn_takes_the_argmax_from_the_online_network():
    agent = linear_agent(gamma=0.5, double=True)
    y = agent.td_target([0.0, 0.0, 0.0], S2, [False, False, False])
    # online argmax: 0, 1, 1; the target network evaluates it: 3, 1, 0
    np.testing.assert_allclose(y, [0.5 * 3, 0.5 * 1, 0.5 * 0])


def test_truncation_still_bootstraps_and_stores_the_last_observation():
    env = Line(length=100, max_steps=3)   # never terminates: every episode is cut at 3
    agent = DQN(env, hidden=(8,), learning_starts=10_000, seed=0)
    log = agent.train(6, report_every=0)
    assert log.history["length"] == [3, 3]
    buf = agent.buffer
    assert len(buf) == 6 and not buf.terminated[:6].any()
    assert buf.truncated[:6].tolist() == [False, False, True] * 2
    # the cut transition's next_obs is the state it was cut in, not the next reset's
    for i in (0, 1, 3, 4):   # inside an episode next_obs is the next step's obs
        np.testing.assert_array_equal(buf.next_obs[i], buf.obs[i + 1])
    for i in (2, 5):
        moved = max(0.0, 100 * buf.obs[i][0] + (1 if buf.actions[i] == 1 else -1))
        assert 100 * buf.next_obs[i][0] == pytest.approx(moved)
    np.testing.assert_array_equal(buf.obs[3], [0.0, 1.0])    # a new episode starts at 0
    # and the target bootstraps there: terminated=False
    b = buf.sample(1, indices=[2])
    y = agent.td_target(b.rewards, b.next_obs, b.terminated)
    assert y[0] == pytest.approx(0.99 * agent.q_values(b.next_obs[0]).max(), rel=1e-5)


def test_terminal_transition_is_stored_as_terminated():
    agent = DQN(Line(length=1), hidden=(8,), learning_starts=10_000, seed=0)
    agent.train(40, report_every=0)
    buf = agent.buffer
    n = len(buf)
    ends = buf.terminated[:n]
    assert ends.any() and np.all(buf.rewards[:n][ends] == 1.0)
    np.testing.assert_array_equal(buf.next_obs[:n][ends], np.tile([1.0, 1.0], (ends.sum(), 1)))


def test_hard_and_soft_target_updates():
    agent = linear_agent(tau=1.0)
    agent.update_target()
    np.testing.assert_array_equal(agent.target_network.weight._data, agent.q_network.weight._data)
    assert agent.target_network.weight._data is not agent.q_network.weight._data
    soft = linear_agent(tau=0.25)
    old = soft.target_network.weight._data.copy()
    soft.update_target()
    np.testing.assert_allclose(soft.target_network.weight._data,
                               0.25 * soft.q_network.weight._data + 0.75 * old, rtol=1e-6)
    np.testing.assert_allclose(soft.target_network.bias._data, 0.25 * np.array([0.0, 0.5]))
    assert not soft.target_network.weight.requires_grad


def test_target_network_is_frozen_between_updates():
    agent = DQN(Line(), hidden=(8,), learning_starts=20, train_freq=1,
                target_update_interval=50, batch_size=8, seed=0)
    agent.train(49, report_every=0)
    w0 = agent.target_network.state_dict()["0.weight"].numpy().copy()
    assert agent.updates == 29                       # steps 21..49
    assert not np.array_equal(w0, agent.q_network.state_dict()["0.weight"].numpy())
    agent.train(1, report_every=0)                   # step 50: the copy
    np.testing.assert_array_equal(agent.target_network.state_dict()["0.weight"].numpy(),
                                  agent.q_network.state_dict()["0.weight"].numpy())


def test_reward_clipping_in_the_buffer_not_in_the_log():
    env = Line(length=2, goal=5.0, step_reward=-3.0, max_steps=50)
    agent = DQN(env, hidden=(8,), learning_starts=10_000, reward_clip=1.0, seed=0)
    log = agent.train(60, report_every=0)
    stored = agent.buffer.rewards[:len(agent.buffer)]
    assert set(np.unique(stored).tolist()) <= {-1.0, 1.0} and (stored == 1.0).any()
    # the log keeps the environment's returns: 5 at the goal, -3 per other step
    for ret, length in zip(log.history["return"], log.history["length"]):
        assert ret == pytest.approx(5.0 - 3.0 * (length - 1)) or ret == -3.0 * length
    unclipped = DQN(env, hidden=(8,), learning_starts=10_000, seed=0)
    unclipped.train(60, report_every=0)
    assert set(np.unique(unclipped.buffer.rewards[:60]).tolist()) == {-3.0, 5.0}


def test_epsilon_schedule_over_the_first_train_call():
    agent = DQN(Line(max_steps=5), hidden=(8,), learning_starts=0, epsilon_start=1.0,
                epsilon_end=0.1, exploration_fraction=0.5, train_freq=1000, seed=0)
    assert agent.epsilon == 1.0
    log = agent.train(100, report_every=0)
    assert agent.exploration_steps == 50 and agent.epsilon == pytest.approx(0.1)
    # the epsilon of each episode is the one at its last step: linear 1.0 -> 0.1 over 50
    for eps, step in zip(log.history["epsilon"], log.history["step"]):
        assert eps == pytest.approx(max(0.1, 1.0 - 0.9 * (step - 1) / 50))
    agent.train(10, report_every=0)   # a later call continues, it does not restart
    assert agent.exploration_steps == 50 and agent.epsilon == pytest.approx(0.1)


def test_exploration_is_random_at_epsilon_one_and_greedy_at_zero():
    agent = DQN(Line(), hidden=(8,), epsilon_start=1.0, epsilon_end=1.0, seed=0)
    acts = [agent.act(np.array([0.0, 1.0], np.float32), greedy=False) for _ in range(400)]
    assert 150 < sum(acts) < 250
    greedy = agent.act(np.array([0.0, 1.0], np.float32))
    assert all(agent.act(np.array([0.0, 1.0], np.float32)) == greedy for _ in range(5))
    assert greedy == int(np.argmax(agent.q_values(np.array([0.0, 1.0], np.float32))))


def test_learns_a_maze_with_a_wall():
    env = rl.GridWorld(["S.#G", "...."], max_steps=30)
    agent = DQN(env, hidden=(32,), lr=3e-3, batch_size=32, learning_starts=100, train_freq=1,
                target_update_interval=50, exploration_fraction=0.5, epsilon_end=0.05,
                double=True, seed=1)
    log = agent.train(2500, report_every=0)
    path = env.greedy_path([agent.act(s) for s in range(env.observation_space.n)])
    assert path[0] == 0 and path[-1] == 3 and len(path) == 6   # 5 steps around the wall
    assert np.mean(log.history["return"][-10:]) > np.mean(log.history["return"][:10])
    returns = agent.evaluate(episodes=3, seed=0)
    np.testing.assert_allclose(returns, 1.0 - 0.01 * 4)
    assert np.isfinite(log.history["loss"][-1])


def test_q_values_shapes_and_discrete_one_hot():
    env = rl.GridWorld(["S.G"])
    agent = DQN(env, hidden=(4,), seed=0)
    assert agent.obs_shape == (3,)
    assert agent.q_values(1).shape == (4,) and agent.q_values([0, 1, 2]).shape == (3, 4)
    np.testing.assert_allclose(agent.q_values([0, 2])[1], agent.q_values(2), rtol=1e-6)
    with pytest.raises(ValueError, match="outside the observation space"):
        agent.act(7)
    box = DQN(Line(), hidden=(4,), seed=0)
    assert box.q_values(np.zeros((5, 2))).shape == (5, 2)
    with pytest.raises(ValueError, match=r"expected an observation of shape \(2,\), got \(3,\)"):
        box.act(np.zeros(3))
    with pytest.raises(ValueError, match=r"expected observations of shape \(2,\) or \(N, 2\)"):
        box.q_values(np.zeros((5, 3)))


def test_bad_arguments():
    with pytest.raises(TypeError, match="Discrete action space"):
        DQN(_box_action_env())
    with pytest.raises(ValueError, match=r"q_network must map \(N, 2\) to \(N, 2\)"):
        DQN(Line(), q_network=nn.Linear(2, 3))
    with pytest.raises(TypeError, match="shendu.nn.Module"):
        DQN(Line(), q_network=lambda x: x)
    with pytest.raises(ValueError, match="loss must be one of"):
        DQN(Line(), loss="l1")
    with pytest.raises(ValueError, match="tau must be in"):
        DQN(Line(), tau=0.0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DQN(Line(), batch_size=0)
    with pytest.raises(ValueError, match="reward_clip"):
        DQN(Line(), reward_clip=-1)
    agent = DQN(Line(), hidden=(4,))
    with pytest.raises(ValueError, match="eval_every and keep_best need eval_env"):
        agent.train(10, eval_every=5)
    with pytest.raises(RuntimeError, match="no best weights kept"):
        agent.restore_best()


def _box_action_env():
    env = Line()
    env.action_space = Box(-1.0, 1.0, shape=(1,))
    return env


def test_keep_best_restores_the_best_evaluation():
    env, eval_env = Line(length=2, max_steps=8), Line(length=2, max_steps=8)
    agent = DQN(env, hidden=(16,), learning_starts=50, train_freq=1, batch_size=16,
                target_update_interval=20, seed=0)
    log = agent.train(300, report_every=0, eval_env=eval_env, eval_every=100,
                      eval_episodes=2, keep_best=True)
    assert log.history["eval_step"] == [100, 200, 300]
    best = max(log.history["eval_return"])
    assert agent.best_return == best
    assert agent.best_step == max(s for s, r in zip(log.history["eval_step"],
                                                    log.history["eval_return"]) if r == best)
    step = agent.restore_best()
    assert step == agent.best_step
    assert np.mean(agent.evaluate(eval_env, episodes=2)) == pytest.approx(best)


def test_save_load_round_trip(tmp_path):
    env = rl.make("GridWorld-v0")
    agent = DQN(env, hidden=(16,), learning_starts=20, train_freq=2, batch_size=8, double=True,
                tau=0.5, target_update_interval=4, reward_clip=2.0, seed=3)
    agent.train(60, report_every=0)
    path = tmp_path / "dqn.safetensors"
    agent.save(path)
    back = DQN.load(path)
    assert back.config() == agent.config() and back.double and back.tau == 0.5
    assert back.steps == 60 and back.updates == agent.updates
    states = np.arange(env.observation_space.n)
    np.testing.assert_array_equal(back.q_values(states), agent.q_values(states))
    for a, b in zip(agent.target_network.parameters(), back.target_network.parameters()):
        np.testing.assert_array_equal(a._data, b._data)
    # Adam's moments came back too: the next update is the same
    batch = agent.buffer.sample(8)
    assert back.update(batch) == pytest.approx(agent.update(batch), rel=1e-6)
    np.testing.assert_allclose(back.q_values(states), agent.q_values(states), rtol=1e-5)
    # a custom network must be passed again
    custom = DQN(Line(), q_network=nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2)))
    custom.save(tmp_path / "custom.safetensors")
    with pytest.raises(ValueError, match="custom q_network"):
        DQN.load(tmp_path / "custom.safetensors", env=Line())
    again = DQN.load(tmp_path / "custom.safetensors", env=Line(),
                     q_network=nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 2)))
    x = np.array([0.3, 1.0], np.float32)
    np.testing.assert_array_equal(again.q_values(x), custom.q_values(x))
    with pytest.raises(ValueError, match="does not name its environment"):
        DQN.load(tmp_path / "custom.safetensors", q_network=nn.Linear(2, 2))
    # a file holding another agent
    q = rl.QLearning(rl.make("GridWorld-v0"))
    q.save(tmp_path / "q.safetensors")
    with pytest.raises(ValueError, match="holds a QLearning"):
        DQN.load(tmp_path / "q.safetensors")


# --------------------------------------------------------------------------- PyTorch
@pytest.mark.conformance
@pytest.mark.parametrize("double, loss", [(False, "huber"), (True, "mse"), (True, "huber")])
def test_update_matches_pytorch(double, loss):
    torch = pytest.importorskip("torch")
    env = Line()
    env.observation_space = Box(-5.0, 5.0, shape=(4,))
    agent = DQN(env, hidden=(64, 64), lr=1e-2, gamma=0.9, double=double, loss=loss,
                max_grad_norm=0.5, seed=0)
    other = q_mlp(4, (64, 64), 2)   # a target network unlike the online one
    agent.target_network.load_state_dict(other.state_dict())

    def twin(module):
        t = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                torch.nn.ReLU(), torch.nn.Linear(64, 2))
        t.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})
        return t

    online, target = twin(agent.q_network), twin(agent.target_network)
    opt = torch.optim.Adam(online.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    for step in range(3):
        batch = Batch(rng.standard_normal((64, 4)).astype(np.float32),
                      rng.integers(0, 2, 64), (3 * rng.standard_normal(64)).astype(np.float32),
                      rng.standard_normal((64, 4)).astype(np.float32), rng.random(64) < 0.2,
                      np.ones(64, np.int64))
        ours = agent.update(batch)
        s, a, r = (torch.tensor(batch.obs), torch.tensor(batch.actions),
                   torch.tensor(batch.rewards))
        s2, done = torch.tensor(batch.next_obs), torch.tensor(batch.terminated).float()
        with torch.no_grad():
            q_next = target(s2)
            if double:
                v = q_next.gather(1, online(s2).argmax(1, keepdim=True)).squeeze(1)
            else:
                v = q_next.max(1).values
            y = r + 0.9 * (1 - done) * v
        q = online(s).gather(1, a[:, None]).squeeze(1)
        fn = torch.nn.functional.smooth_l1_loss if loss == "huber" else torch.nn.functional.mse_loss
        theirs = fn(q, y)
        opt.zero_grad()
        theirs.backward()
        torch.nn.utils.clip_grad_norm_(online.parameters(), 0.5)
        opt.step()
        assert ours == pytest.approx(theirs.item(), rel=1e-5), f"loss at update {step}"
        theirs_params = online.state_dict().values()
        for (name, p), tp in zip(agent.q_network.state_dict().items(), theirs_params):
            np.testing.assert_allclose(p.numpy(), tp.numpy(), rtol=1e-4, atol=1e-6,
                                       err_msg=f"{name} after update {step}")
