"""Policy gradients (shendu.rl.policy_gradient, shendu.rl.ppo): the losses by hand and
their gradients (float64 central differences), PPO's clipping (no gradient once the ratio
has moved ``clip_range`` in the advantage's direction), the ActorCritic network for
discrete and continuous actions, REINFORCE / A2C / PPO learning on a maze, a continuous
bandit and (when Gymnasium is installed) CartPole, vectorised rollouts, seeding,
save/load, and the errors for bad arguments."""
import numpy as np
import pytest

import shendu
import shendu.rl as rl
from shendu.autograd import gradcheck
from shendu.distributions import Categorical, Normal
from shendu.rl.common import TrainingLog
from shendu.rl.env import Env
from shendu.rl.envs.gridworld import GridWorld
from shendu.rl.policy_gradient import (A2C, REINFORCE, ActorCritic, VectorRollout,
                                       policy_gradient_loss)
from shendu.rl.ppo import PPO, ppo_clip_loss
from shendu.rl.returns import discounted_returns
from shendu.rl.spaces import Box, Discrete, Space


class Bandit(Env):
    """A one-step continuous task: observe ``c`` in {-1, 1}, act ``a`` in [-3, 3], get
    ``-(a - c / 2) ** 2`` (the best action is ``c / 2``). The box is wide: with [-1, 1]
    the clipped samples of the initial std-1 policy bias the score-function gradient
    towards the edge, and learning is slow."""

    def __init__(self):
        super().__init__()
        self.observation_space = Box(-1.0, 1.0, shape=(1,))
        self.action_space = Box(-3.0, 3.0, shape=(1,))

    def _reset(self, options):
        self.c = float(self.np_random.choice([-1.0, 1.0]))
        return np.array([self.c], np.float32), {}

    def _step(self, action):
        reward = -float((float(action[0]) - self.c / 2) ** 2)
        return np.array([self.c], np.float32), reward, True, False, {}


def corridor(max_steps=20):
    """S . . . G on one row: 4 steps right is the best policy (return 1 - 3 * 0.05)."""
    return GridWorld(["S...G"], step_reward=-0.05, max_steps=max_steps)


def greedy_return(agent, env, episodes=1):
    return rl.evaluate(agent.act, env, episodes=episodes, seed=0).mean()


def as_float64(episodes):
    for ep in episodes:
        ep["obs"] = ep["obs"].astype(np.float64)
        ep["final_obs"] = ep["final_obs"].astype(np.float64)
    return episodes


def param_fn(module, names, fn):
    """``f(*tensors)``: ``fn()`` with the parameters ``names`` of ``module`` replaced by the
    given tensors (for gradcheck with respect to a network's weights)."""
    mods = dict(module.named_modules())
    params = dict(module.named_parameters())

    def f(*ts):
        for n, t in zip(names, ts):
            mod, _, attr = n.rpartition(".")
            mods[mod]._parameters[attr] = t
        try:
            return fn()
        finally:
            for n in names:
                mod, _, attr = n.rpartition(".")
                mods[mod]._parameters[attr] = params[n]
    inputs = [shendu.tensor(params[n]._data.astype(np.float64).copy(), requires_grad=True)
              for n in names]
    return f, inputs


# ------------------------------------------------------------------ policy_gradient_loss
def test_policy_gradient_loss_value_and_gradient():
    lp = shendu.tensor([-0.5, -1.0, -2.0], requires_grad=True)
    adv = np.array([2.0, 1.0, -3.0])
    loss = policy_gradient_loss(lp, adv)
    assert loss.item() == pytest.approx(-(-0.5 * 2 - 1.0 * 1 + 2.0 * 3) / 3)
    loss.backward()
    np.testing.assert_allclose(lp.grad.numpy(), -adv / 3, rtol=1e-6)


def test_policy_gradient_loss_treats_advantages_as_constants():
    lp = shendu.tensor([-0.5, -1.0], requires_grad=True)
    adv = shendu.tensor([1.0, 2.0], requires_grad=True)
    policy_gradient_loss(lp, adv).backward()
    assert adv.grad is None
    np.testing.assert_allclose(lp.grad.numpy(), [-0.5, -1.0])


def test_policy_gradient_loss_gradcheck_through_a_categorical():
    rng = np.random.default_rng(0)
    logits = shendu.tensor(rng.standard_normal((6, 3)), requires_grad=True)
    actions = shendu.tensor(rng.integers(0, 3, 6))
    adv = rng.standard_normal(6)
    assert gradcheck(lambda z: policy_gradient_loss(Categorical(logits=z).log_prob(actions), adv),
                     [logits])


def test_policy_gradient_loss_shape_error():
    with pytest.raises(ValueError, match=r"policy_gradient_loss: log_probs \(3,\) and advantages "
                                         r"\(2,\) must have the same shape"):
        policy_gradient_loss(shendu.zeros(3), [1.0, 2.0])


# ------------------------------------------------------------------ ppo_clip_loss
def test_ppo_clip_loss_by_hand_and_the_clipped_gradient():
    eps = 0.2
    # ratios r = exp(lp - old) = 1.5, 0.5, 0.5, 1.5, 1.1, 0.9 against advantages +, +, -, -, +, -
    ratios = np.array([1.5, 0.5, 0.5, 1.5, 1.1, 0.9])
    adv = np.array([2.0, 2.0, -2.0, -2.0, 1.0, -1.0])
    old = np.array([0.1, -0.3, 0.2, -1.0, 0.0, 0.5])
    lp = shendu.tensor(old + np.log(ratios), requires_grad=True)
    loss = ppo_clip_loss(lp, old, adv, clip_range=eps)
    surrogate = np.minimum(ratios * adv, np.clip(ratios, 1 - eps, 1 + eps) * adv)
    # by hand: 1.2*2, 0.5*2, 0.8*-2, 1.5*-2, 1.1*1, 0.9*-1
    np.testing.assert_allclose(surrogate, [2.4, 1.0, -1.6, -3.0, 1.1, -0.9])
    assert loss.item() == pytest.approx(-surrogate.mean(), rel=1e-9)
    loss.backward()
    # clipped on the advantage's side (r > 1 + eps with A > 0, r < 1 - eps with A < 0): 0;
    # everywhere else d(-r A / B) / d lp = -r A / B
    expected = -ratios * adv / 6
    expected[[0, 2]] = 0.0
    np.testing.assert_allclose(lp.grad.numpy(), expected, rtol=1e-9, atol=1e-15)
    assert lp.grad.numpy()[1] != 0 and lp.grad.numpy()[3] != 0   # the pessimistic side


def test_ppo_clip_loss_at_ratio_one_is_the_policy_gradient():
    rng = np.random.default_rng(1)
    old = rng.standard_normal(8)
    adv = rng.standard_normal(8)
    a = shendu.tensor(old.copy(), requires_grad=True)
    b = shendu.tensor(old.copy(), requires_grad=True)
    ppo_clip_loss(a, old, adv).backward()
    policy_gradient_loss(b, adv).backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_ppo_clip_loss_gradcheck_away_from_the_kinks():
    rng = np.random.default_rng(2)
    old = rng.standard_normal(10)
    # log ratios inside (-0.1, 0.1) and beyond +-0.4: none within 1e-6 of log(1 +- 0.2)
    log_r = np.concatenate([rng.uniform(-0.1, 0.1, 5), rng.choice([-1, 1], 5) * 0.5])
    adv = rng.standard_normal(10)
    lp = shendu.tensor(old + log_r, requires_grad=True)
    assert gradcheck(lambda x: ppo_clip_loss(x, old, adv, 0.2), [lp])
    # through a Categorical policy too
    logits = shendu.tensor(rng.standard_normal((4, 3)), requires_grad=True)
    acts = shendu.tensor(rng.integers(0, 3, 4))
    old_lp = Categorical(logits=logits.detach()).log_prob(acts).numpy() + np.array([0.0, 0.5, -0.5, 0.05])
    assert gradcheck(lambda z: ppo_clip_loss(Categorical(logits=z).log_prob(acts), old_lp,
                                             adv[:4], 0.2), [logits])


@pytest.mark.parametrize("kwargs, match", [
    (dict(clip_range=0.0), r"clip_range must be in \(0, 1\), got 0.0"),
    (dict(clip_range=1.0), r"clip_range must be in \(0, 1\)"),
    (dict(old_log_probs=[0.0]), r"must have the same shape"),
    (dict(advantages=[[1.0, 2.0]]), r"advantages \(1, 2\)"),
])
def test_ppo_clip_loss_errors(kwargs, match):
    args = dict(log_probs=shendu.zeros(2), old_log_probs=[0.0, 0.0], advantages=[1.0, 1.0])
    args.update(kwargs)
    with pytest.raises(ValueError, match=match) as e:
        ppo_clip_loss(**args)
    assert str(e.value).startswith("ppo_clip_loss:")


# ------------------------------------------------------------------ ActorCritic
def test_actor_critic_discrete():
    shendu.manual_seed(0)
    net = ActorCritic(5, Discrete(3), hidden=(16,))
    x = shendu.randn(7, 5)
    d = net.distribution(x)
    assert isinstance(d, Categorical) and d.batch_shape == (7,)
    # the small output gain starts the policy near uniform
    np.testing.assert_allclose(d.probs.detach().numpy(), 1 / 3, atol=0.02)
    assert net.value(x).shape == (7,)
    assert net.log_prob(d, shendu.tensor(np.zeros(7, np.int64))).shape == (7,)
    assert net.entropy(d).shape == (7,)
    assert isinstance(net(x), Categorical)


def test_actor_critic_continuous_sums_over_action_dimensions():
    shendu.manual_seed(0)
    net = ActorCritic(4, Box(-1.0, 1.0, shape=(2,)), hidden=(8,), log_std_init=-0.5,
                      critic=False)
    x = shendu.randn(6, 4)
    d = net.distribution(x)
    assert isinstance(d, Normal) and d.batch_shape == (6, 2)
    np.testing.assert_allclose(d.scale.detach().numpy(), np.exp(-0.5), rtol=1e-6)
    a = shendu.randn(6, 2)
    np.testing.assert_allclose(net.log_prob(d, a).detach().numpy(),
                               d.log_prob(a).detach().numpy().sum(-1), rtol=1e-6)
    np.testing.assert_allclose(net.entropy(d).detach().numpy(),
                               d.entropy().detach().numpy().sum(-1), rtol=1e-6)
    assert "log_std" in dict(net.named_parameters())
    with pytest.raises(RuntimeError, match="built without a critic"):
        net.value(x)


def test_actor_critic_errors():
    with pytest.raises(ValueError, match=r"activation must be one of \['relu', 'tanh'\], "
                                         "got 'sigmoid'"):
        ActorCritic(3, Discrete(2), activation="sigmoid")
    with pytest.raises(TypeError, match="ActorCritic: action space must be Discrete or Box"):
        ActorCritic(3, "left-or-right")


# ------------------------------------------------------------------ REINFORCE
def test_reinforce_loss_by_hand():
    env = corridor(max_steps=6)
    agent = REINFORCE(env, hidden=(8,), baseline=False, normalize_advantages=False, gamma=0.9,
                      seed=0)
    eps = [agent.run_episode() for _ in range(3)]
    for ep in eps:
        assert ep["obs"].shape == (len(ep["rewards"]), 5) and ep["actions"].shape == ep["rewards"].shape
    loss, info = agent.loss(eps)
    G = np.concatenate([discounted_returns(ep["rewards"], 0.9) for ep in eps])
    x = np.concatenate([ep["obs"] for ep in eps])
    a = np.concatenate([ep["actions"] for ep in eps])
    with shendu.no_grad():
        z = agent.policy.actor(shendu.tensor(x)).numpy().astype(np.float64)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    expected = -np.mean(logp[np.arange(len(a)), a] * G)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    assert info["loss"] == pytest.approx(expected, rel=1e-5) and "value_loss" not in info
    # the mean baseline subtracts the batch's mean return
    agent.baseline = "mean"
    loss, _ = agent.loss(eps)
    assert loss.item() == pytest.approx(-np.mean(logp[np.arange(len(a)), a] * (G - G.mean())),
                                        rel=1e-4, abs=1e-7)


def test_reinforce_loss_gradients():
    """The actor's gradient is the exact gradient of the loss (advantages held fixed); the
    critic's is value_coef times that of its squared error against the returns."""
    agent = REINFORCE(GridWorld(["S.G", "H.."], max_steps=4), hidden=(8,), entropy_coef=0.1,
                      value_coef=0.7, gamma=0.9, seed=0)
    eps = as_float64([agent.run_episode() for _ in range(3)])
    assert any(not ep["terminated"] for ep in eps) and any(ep["terminated"] for ep in eps)
    agent.policy.double()
    actor = [n for n, _ in agent.policy.named_parameters() if n.startswith("actor.")]
    f, inputs = param_fn(agent.policy, actor, lambda: agent.loss(eps)[0])
    assert gradcheck(f, inputs)

    # critic: returns bootstrapped with V(final obs) for the cut episode, then held fixed
    G = []
    for ep in eps:
        last = 0.0 if ep["terminated"] else float(agent._values(ep["final_obs"][None])[0])
        G.append(discounted_returns(ep["rewards"], 0.9, last_value=last))
    G = np.concatenate(G)
    x = shendu.tensor(np.concatenate([ep["obs"] for ep in eps]))
    critic = [n for n, _ in agent.policy.named_parameters() if n.startswith("critic.")]
    f, inputs = param_fn(agent.policy, critic,
                         lambda: 0.7 * ((agent.policy.value(x) - shendu.tensor(G)) ** 2).mean())
    f(*inputs).backward()
    agent.optimizer.zero_grad()
    loss, info = agent.loss(eps)
    loss.backward()
    params = dict(agent.policy.named_parameters())
    for n, t in zip(critic, inputs):
        np.testing.assert_allclose(params[n].grad.numpy(), t.grad.numpy(), rtol=1e-4, atol=1e-6)
    assert info["value_loss"] == pytest.approx(float(((agent._values(x.numpy()) - G) ** 2).mean()),
                                               rel=1e-4)


def test_reinforce_learns_the_corridor():
    env = corridor()
    agent = REINFORCE(env, hidden=(16,), lr=1e-2, seed=0)
    assert greedy_return(agent, corridor()) < 0          # it starts by walking into the wall
    log = agent.train(episodes=150, report_every=0)
    assert log.episodes == 150 and len(log.history["loss"]) == 150
    assert greedy_return(agent, corridor()) == pytest.approx(0.85)
    r = np.asarray(log.history["return"])
    assert r[-30:].mean() > r[:30].mean() + 0.5


def test_reinforce_episodes_per_update_and_step_budget():
    agent = REINFORCE(corridor(), hidden=(8,), episodes_per_update=4, seed=0)
    log = agent.train(episodes=10, report_every=0)
    assert log.episodes == 10 and len(log.history["loss"]) == 2     # 2 updates of 4 episodes
    log = REINFORCE(corridor(), hidden=(8,), seed=0).train(total_steps=50, report_every=0)
    assert log.steps >= 50 and log.steps - log.history["length"][-1] < 50


def test_training_is_seeded():
    a = REINFORCE(corridor(), hidden=(8,), seed=3).train(episodes=20, report_every=0)
    b = REINFORCE(corridor(), hidden=(8,), seed=3).train(episodes=20, report_every=0)
    assert a.history["return"] == b.history["return"] and a.history["loss"] == b.history["loss"]
    c = PPO(corridor(), n_envs=2, n_steps=16, batch_size=16, n_epochs=2, seed=3)
    d = PPO(corridor(), n_envs=2, n_steps=16, batch_size=16, n_epochs=2, seed=3)
    assert c.train(total_steps=128, report_every=0).history == \
        d.train(total_steps=128, report_every=0).history


# ------------------------------------------------------------------ VectorRollout, A2C
def test_vector_rollout_shapes_and_episode_ends():
    env = corridor(max_steps=3)          # most episodes are cut by the time limit
    agent = A2C(env, n_envs=3, n_steps=5, hidden=(8,), seed=0)
    roll = VectorRollout(env, 3, seed=10)
    assert roll.envs[0] is env and roll.envs[1] is not env
    log = TrainingLog(report_every=0)
    batch = roll.collect(agent, 7, log)
    assert batch["obs"].shape == (7, 3, 5) and batch["obs"].dtype == np.float32
    np.testing.assert_array_equal(batch["obs"].sum(-1), 1.0)   # one-hot cells
    np.testing.assert_array_equal(batch["obs"][0, :, 0], 1.0)  # every copy starts at S
    assert batch["actions"].shape == (7, 3) and batch["last_obs"].shape == (3, 5)
    for k in ("rewards", "terminated", "truncated", "final_values"):
        assert batch[k].shape == (7, 3)
    term, trunc = batch["terminated"], batch["truncated"]
    assert trunc.any() and not (term & trunc).any()
    assert log.episodes == int((term | trunc).sum())
    # V of the cut episode's last observation where truncated, 0 elsewhere
    assert np.all(batch["final_values"][trunc] != 0) and np.all(batch["final_values"][~trunc] == 0)
    # after a cut at step 3 the copy was reset: the next observation is S again
    t, i = np.argwhere(trunc[:-1])[0]
    assert batch["obs"][t + 1, i, 0] == 1.0
    with pytest.raises(ValueError, match="VectorRollout: n_envs must be a positive integer, got 0"):
        VectorRollout(env, 0)


def test_a2c_advantages_and_losses():
    agent = A2C(corridor(max_steps=4), n_envs=2, n_steps=6, hidden=(8,), gamma=0.9,
                gae_lambda=0.8, seed=0)
    batch = agent.rollout.collect(agent, 6, TrainingLog(report_every=0))
    adv, ret = agent.advantages(batch)
    values = agent._values(batch["obs"].reshape(12, -1)).reshape(6, 2)
    np.testing.assert_allclose(ret, adv + values, rtol=1e-6)
    x = shendu.tensor(batch["obs"].reshape(12, -1))
    acts = shendu.tensor(batch["actions"].reshape(12))
    total, pg, v_loss, ent = agent._losses(x, acts, adv.reshape(-1), ret.reshape(-1))
    assert v_loss.item() == pytest.approx(float(((values - ret) ** 2).mean()), rel=1e-4)
    assert ent.item() == pytest.approx(np.log(4), rel=0.01)      # near-uniform policy
    assert total.item() == pytest.approx(pg.item() + 0.5 * v_loss.item(), rel=1e-5)


def test_a2c_learns_the_corridor():
    agent = A2C(corridor(), n_envs=4, n_steps=8, hidden=(16,), lr=3e-3, seed=0)
    log = agent.train(total_steps=3000, report_every=0)
    assert greedy_return(agent, corridor()) == pytest.approx(0.85)
    r = np.asarray(log.history["return"])
    assert r[-30:].mean() > 0.7 > r[:30].mean()


# ------------------------------------------------------------------ PPO
def test_ppo_learns_the_corridor_and_logs_its_statistics():
    agent = PPO(corridor(), n_envs=4, n_steps=16, batch_size=32, n_epochs=4, hidden=(16,),
                lr=3e-3, seed=0)
    log = agent.train(total_steps=2048, report_every=0)
    assert greedy_return(agent, corridor()) == pytest.approx(0.85)
    r = np.asarray(log.history["return"])
    assert r[-30:].mean() > 0.7 > r[:30].mean()
    iterations = 2048 // 64
    for k in ("clip_fraction", "approx_kl", "value_loss"):
        assert len(log.history[k]) == iterations
    cf = np.asarray(log.history["clip_fraction"])
    assert np.all((cf >= 0) & (cf <= 1)) and cf.max() > 0      # the clipping does happen
    assert np.all(np.asarray(log.history["approx_kl"]) >= 0)


def test_ppo_target_kl_stops_the_epochs_early():
    def steps(**kwargs):
        agent = PPO(corridor(), n_envs=2, n_steps=16, batch_size=8, n_epochs=5, hidden=(8,),
                    lr=1e-2, seed=0, **kwargs)
        count = []
        inner = agent._step_optimizer
        agent._step_optimizer = lambda loss, norm: (count.append(1), inner(loss, norm))
        agent.update(agent.rollout.collect(agent, 16, TrainingLog(report_every=0)))
        return len(count)
    assert steps() == 5 * 4                  # 5 epochs of 32 / 8 minibatches
    assert steps(target_kl=1e-12) == 4       # stops after the first epoch


def test_ppo_anneal_lr():
    agent = PPO(corridor(), n_envs=2, n_steps=8, batch_size=16, n_epochs=1, lr=1e-2,
                anneal_lr=True, seed=0)
    agent.train(total_steps=64, report_every=0)
    # the last of the 4 rollouts ran with lr * (1 - 48 / 64)
    assert agent.optimizer.param_groups[0]["lr"] == pytest.approx(1e-2 * 0.25)
    with pytest.raises(ValueError, match="anneal_lr=True decays the learning rate over "
                                         "total_steps; give total_steps="):
        agent.train(episodes=3)


# ------------------------------------------------------------------ continuous actions
@pytest.mark.parametrize("make", [
    lambda: REINFORCE(Bandit(), hidden=(16,), lr=1e-2, episodes_per_update=8, seed=0),
    lambda: PPO(Bandit(), n_envs=4, n_steps=16, batch_size=32, n_epochs=4, hidden=(16,),
                lr=3e-3, seed=0),
])
def test_gaussian_policy_learns_a_continuous_bandit(make):
    agent = make()
    assert not agent.discrete
    env = Bandit()
    before = [agent.act(np.array([c], np.float32)) for c in (-1.0, 1.0)]
    assert all(a.shape == (1,) and a.dtype == np.float32 for a in before)
    kwargs = dict(episodes=800) if isinstance(agent, REINFORCE) else dict(total_steps=3200)
    log = agent.train(report_every=0, **kwargs)
    after = np.array([agent.act(np.array([c], np.float32))[0] for c in (-1.0, 1.0)])
    np.testing.assert_allclose(after, [-0.5, 0.5], atol=0.15)
    r = np.asarray(log.history["return"])
    assert r[-100:].mean() > r[:100].mean() + 0.1
    assert greedy_return(agent, env, episodes=10) > -0.03
    # sampled actions are clipped into the box
    agent.policy.log_std._data[...] = 3.0
    for _ in range(20):
        a = agent.act(np.array([1.0], np.float32), greedy=False)
        assert -3.0 <= a[0] <= 3.0
    assert {agent.act(np.array([1.0], np.float32), greedy=False)[0] for _ in range(50)} \
        >= {-3.0, 3.0}


# ------------------------------------------------------------------ CartPole
@pytest.mark.parametrize("algo, kwargs, budget", [
    ("REINFORCE", dict(hidden=(128,), activation="relu", lr=1e-3), dict(episodes=300)),
    ("A2C", dict(n_envs=8, n_steps=8, hidden=(64, 64), lr=1e-3), dict(total_steps=12_000)),
    ("PPO", dict(n_envs=8, n_steps=32, batch_size=256, n_epochs=20, gae_lambda=0.8,
                 gamma=0.98, lr=1e-3, hidden=(64, 64)), dict(total_steps=8192)),
])
def test_agents_improve_on_cartpole(algo, kwargs, budget):
    gymnasium = pytest.importorskip("gymnasium", reason="CartPole-v1 comes from Gymnasium")
    agent = getattr(rl, algo)(gymnasium.make("CartPole-v1"), seed=0, **kwargs)
    log = agent.train(report_every=0, **budget)
    r = np.asarray(log.history["return"])
    # a random policy lasts about 22 steps
    assert r[:20].mean() < 35 and r[-20:].mean() > 1.5 * r[:20].mean() + 10


# ------------------------------------------------------------------ save / load
@pytest.mark.parametrize("cls, kwargs", [
    (REINFORCE, dict(hidden=(8,))),
    (A2C, dict(n_envs=2, n_steps=4, hidden=(8, 8))),
    (PPO, dict(n_envs=2, n_steps=8, batch_size=8, n_epochs=2, hidden=(8,))),
])
def test_save_load_round_trip(tmp_path, cls, kwargs):
    env = rl.make("GridWorld-v0")
    agent = cls(env, seed=0, **kwargs)
    budget = dict(episodes=5) if cls is REINFORCE else dict(total_steps=64)
    agent.train(report_every=0, **budget)
    path = tmp_path / "agent.safetensors"
    agent.save(path)
    loaded = cls.load(path)                  # the environment is rebuilt from its id
    assert loaded.config() == agent.config()
    states = range(env.observation_space.n)
    assert [loaded.act(s) for s in states] == [agent.act(s) for s in states]
    for (n, p), (m, q) in zip(agent.policy.named_parameters(), loaded.policy.named_parameters()):
        assert n == m
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    other = A2C if cls is not A2C else PPO
    with pytest.raises(ValueError, match=f"holds a {cls.__name__}, not a {other.__name__}"):
        other.load(path)


def test_save_load_continuous_with_env_given(tmp_path):
    agent = PPO(Bandit(), n_envs=2, n_steps=8, batch_size=8, n_epochs=1, log_std_init=-1.0,
                seed=0)
    agent.train(total_steps=32, report_every=0)
    agent.save(tmp_path / "ppo.safetensors")
    loaded = PPO.load(tmp_path / "ppo.safetensors", env=Bandit())
    np.testing.assert_array_equal(loaded.policy.log_std._data, agent.policy.log_std._data)
    for c in (-1.0, 1.0):
        x = np.array([c], np.float32)
        np.testing.assert_array_equal(loaded.act(x), agent.act(x))


# ------------------------------------------------------------------ bad arguments
class Odd(Env):
    """An environment whose observation space is neither Discrete nor Box."""

    def __init__(self):
        super().__init__()
        self.observation_space = Space((), None)
        self.action_space = Discrete(2)


@pytest.mark.parametrize("make, exc, match", [
    (lambda: REINFORCE(corridor(), baseline="median"), ValueError,
     "REINFORCE: baseline must be True"),
    (lambda: REINFORCE(corridor(), gamma=1.5), ValueError,
     r"REINFORCE: gamma must be in \[0, 1\], got 1.5"),
    (lambda: REINFORCE(corridor(), episodes_per_update=0), ValueError,
     "episodes_per_update must be a positive integer"),
    (lambda: REINFORCE(corridor(), lr=0.0), ValueError, "REINFORCE: lr must be positive"),
    (lambda: REINFORCE(corridor(), hidden=(8, 0)), ValueError,
     r"REINFORCE: hidden widths must be positive, got \(8, 0\)"),
    (lambda: REINFORCE(corridor(), activation="gelu"), ValueError, "activation must be one of"),
    (lambda: REINFORCE(Odd()), TypeError, "REINFORCE: observation space must be Discrete or Box"),
    (lambda: A2C(corridor(), n_steps=0), ValueError, "A2C: n_steps must be a positive integer"),
    (lambda: A2C(corridor(), n_envs=1.5), ValueError, "n_envs must be a positive integer"),
    (lambda: A2C(corridor(), gamma=-0.1), ValueError, r"A2C: gamma must be in \[0, 1\]"),
    (lambda: A2C(corridor(), gae_lambda=2.0), ValueError, r"A2C: gae_lambda must be in \[0, 1\]"),
    (lambda: PPO(corridor(), n_epochs=0), ValueError, "PPO: n_epochs must be a positive integer"),
    (lambda: PPO(corridor(), batch_size=2.5), ValueError, "PPO: batch_size must be a positive"),
    (lambda: PPO(corridor(), clip_range=1.5), ValueError, r"PPO: clip_range must be in \(0, 1\)"),
    (lambda: PPO(corridor(), n_envs=2, n_steps=8, batch_size=32), ValueError,
     r"PPO: batch_size \(32\) is larger than a rollout \(n_steps \* n_envs = 16\)"),
    (lambda: PPO(corridor(), gamma=1.1), ValueError, r"PPO: gamma must be in \[0, 1\]"),
    (lambda: PPO(corridor(), gae_lambda=-1), ValueError, r"PPO: gae_lambda must be in \[0, 1\]"),
])
def test_constructor_errors(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


@pytest.mark.parametrize("cls", [REINFORCE, A2C, PPO])
def test_train_budget_errors(cls):
    extra = {REINFORCE: {}, A2C: dict(n_envs=2, n_steps=4),
             PPO: dict(n_envs=2, n_steps=4, batch_size=8)}[cls]
    agent = cls(corridor(), hidden=(8,), seed=0, **extra)
    with pytest.raises(ValueError, match=f"{cls.__name__}.train: give episodes= or total_steps="):
        agent.train()
    with pytest.raises(ValueError, match="episodes must be a positive integer, got -1"):
        agent.train(episodes=-1)
    with pytest.raises(ValueError, match="total_steps must be a positive integer, got 2.5"):
        agent.train(total_steps=2.5)
