"""Policy gradients: REINFORCE (with a baseline) and advantage actor-critic (A2C).

Seed 000, chapter 8 "Policy based rl", and seed 004 ("Policy-based RL: search directly
for the optimal policy"): instead of learning action values and acting greedily on them
(DQN), learn the policy ``pi_theta(a|s)`` itself, a network that outputs a distribution
over actions, and climb the gradient of the expected return

    grad J(theta) = E[ sum_t grad log pi_theta(a_t|s_t) * A_t ]

(the policy-gradient theorem). ``A_t`` says how much better the action turned out than
expected:

* **REINFORCE** (Williams, 1992) plays whole episodes and uses the Monte-Carlo return
  ``G_t`` minus a *baseline* ``b(s_t)``. The baseline does not change the expected
  gradient (``E[grad log pi * b] = 0``) but cuts its variance a lot: a learned value
  network ``V(s)`` (``baseline=True``) or the mean return of the batch (``"mean"``).
* **A2C** (advantage actor-critic; Mnih et al., 2016, synchronous version) steps ``n_envs``
  environments together, ``n_steps`` at a time, and uses the critic to bootstrap
  (``A_t`` from ``gae``): it learns from every few steps instead of every episode.

The loss both minimise is ``-(log pi(a_t|s_t) * A_t).mean()`` (``policy_gradient_loss``),
its gradient being the estimate above; ``entropy_coef`` subtracts ``c * H[pi(.|s_t)]`` to
keep the policy from collapsing too early.

Discrete action spaces get a ``Categorical`` policy (softmax over logits), ``Box`` ones a
``Normal`` with a state-independent learned log standard deviation (actions are clipped to
the box when stepping). ``Discrete`` observations are one-hot encoded.

>>> import shendu.rl as rl
>>> from shendu.rl.envs.gridworld import GridWorld
>>> agent = REINFORCE(GridWorld(["S.G"], step_reward=-0.1), hidden=(16,), seed=0)
>>> log = agent.train(episodes=30, report_every=0)
>>> log.episodes, agent.act(0)
(30, 2)
"""
from __future__ import annotations

import copy
import math

import numpy as np

from shendu import nn, optim
from shendu.autograd import Tensor, no_grad
from shendu.backend import manual_seed
from shendu.distributions import Categorical, Normal
from shendu.nn import init
from shendu.optim.clip import clip_grad_norm_

from .common import Agent, TrainingLog
from .returns import discounted_returns, gae
from .spaces import Box, Discrete

__all__ = ["policy_gradient_loss", "ActorCritic", "REINFORCE", "A2C", "VectorRollout"]


def policy_gradient_loss(log_probs, advantages):
    """``-(log_probs * advantages).mean()``: minimising it follows the policy gradient.

    ``log_probs``: Tensor (B,) of ``log pi(a_t|s_t)`` (with a graph back to the policy);
    ``advantages``: array or Tensor (B,), treated as constants (no gradient flows into
    them). The gradient is ``-(1/B) sum_t A_t grad log pi(a_t|s_t)``.

    >>> import shendu
    >>> lp = shendu.tensor([-0.5, -1.0], requires_grad=True)
    >>> policy_gradient_loss(lp, [2.0, 1.0]).item()  # -(-0.5 * 2 - 1.0 * 1) / 2
    1.0
    """
    adv = advantages.detach() if isinstance(advantages, Tensor) else \
        Tensor(np.asarray(advantages, dtype=log_probs.dtype))
    if tuple(adv.shape) != tuple(log_probs.shape):
        raise ValueError(f"policy_gradient_loss: log_probs {tuple(log_probs.shape)} and "
                         f"advantages {tuple(adv.shape)} must have the same shape")
    return -(log_probs * adv).mean()


# ----------------------------------------------------------------------------- networks
def _activation(name, owner):
    table = {"tanh": nn.Tanh, "relu": nn.ReLU}
    if name not in table:
        raise ValueError(f"{owner}: activation must be one of {sorted(table)}, got {name!r}")
    return table[name]


def _mlp(n_in, hidden, n_out, activation, out_gain):
    """Linear -> act per hidden width, then Linear; orthogonal init (gain sqrt 2 inside,
    ``out_gain`` at the output: small for a policy, so it starts near uniform)."""
    layers, width = [], n_in
    for h in hidden:
        layers += [nn.Linear(width, h), activation()]
        width = h
    layers.append(nn.Linear(width, n_out))
    linears = [m for m in layers if isinstance(m, nn.Linear)]
    for i, lin in enumerate(linears):
        init.orthogonal_(lin.weight, gain=out_gain if i == len(linears) - 1 else math.sqrt(2))
        init.zeros_(lin.bias)
    return nn.Sequential(*layers)


class ObservationEncoder:
    """Observations as float32 rows: ``Discrete(n)`` one-hot (n,), ``Box`` flattened."""

    def __init__(self, space, owner="agent"):
        if isinstance(space, Discrete) or type(space).__name__ == "Discrete":
            self.discrete, self.n, self.start = True, int(space.n), int(getattr(space, "start", 0))
            self.size = self.n
        elif isinstance(space, Box) or type(space).__name__ == "Box":
            self.discrete, self.size = False, int(np.prod(space.shape))
        else:
            raise TypeError(f"{owner}: observation space must be Discrete or Box, "
                            f"got {space!r}")

    def __call__(self, obs):
        """One observation -> (size,), or a batch (N, ...) -> (N, size) with ``batch=True``."""
        if self.discrete:
            x = np.zeros(self.n, np.float32)
            x[int(obs) - self.start] = 1.0
            return x
        return np.asarray(obs, dtype=np.float32).reshape(-1)

    def batch(self, obs_list):
        if self.discrete:
            idx = np.asarray(obs_list, dtype=np.int64) - self.start
            return np.eye(self.n, dtype=np.float32)[idx]
        return np.asarray(obs_list, dtype=np.float32).reshape(len(obs_list), -1)


class ActorCritic(nn.Module):
    """A policy network (the actor) and, optionally, a value network (the critic).

    ``actor``: obs (B, obs_dim) -> logits (B, n_actions) for a ``Discrete`` action space,
    or means (B, act_dim) for a ``Box`` one (with ``log_std``, a Parameter (act_dim,));
    ``critic``: obs (B, obs_dim) -> V(s) (B, 1). The two do not share layers, which is
    steadier on small control tasks.
    """

    def __init__(self, obs_dim, action_space, hidden=(64, 64), activation="tanh",
                 critic=True, log_std_init=0.0):
        super().__init__()
        act = _activation(activation, "ActorCritic")
        self.discrete = isinstance(action_space, Discrete) or \
            type(action_space).__name__ == "Discrete"
        if self.discrete:
            n_out = int(action_space.n)
        elif isinstance(action_space, Box) or type(action_space).__name__ == "Box":
            n_out = int(np.prod(action_space.shape))
            self.log_std = nn.Parameter(np.full(n_out, log_std_init, np.float32))
        else:
            raise TypeError(f"ActorCritic: action space must be Discrete or Box, got "
                            f"{action_space!r}")
        self.actor = _mlp(obs_dim, hidden, n_out, act, out_gain=0.01)
        self.critic = _mlp(obs_dim, hidden, 1, act, out_gain=1.0) if critic else None

    def distribution(self, obs):
        """The policy at ``obs`` (Tensor (B, obs_dim)): ``Categorical`` or ``Normal``."""
        out = self.actor(obs)
        if self.discrete:
            return Categorical(logits=out, validate_args=False)
        return Normal(out, self.log_std.exp(), validate_args=False)

    def log_prob(self, dist, actions):
        """``log pi(a|s)`` per row (B,): a Normal's is summed over action dimensions."""
        lp = dist.log_prob(actions)
        return lp if self.discrete else lp.sum(dim=-1)

    def entropy(self, dist):
        h = dist.entropy()
        return h if self.discrete else h.sum(dim=-1)

    def value(self, obs):
        """V(s) for a batch, Tensor (B,)."""
        if self.critic is None:
            raise RuntimeError("ActorCritic.value: this network was built without a critic")
        return self.critic(obs).reshape(-1)

    def forward(self, obs):
        return self.distribution(obs)


# ------------------------------------------------------------------------------ agents
def _hidden(hidden, owner):
    if isinstance(hidden, (int, np.integer)):
        hidden = (hidden,)
    hidden = tuple(int(h) for h in hidden)
    if any(h <= 0 for h in hidden):
        raise ValueError(f"{owner}: hidden widths must be positive, got {hidden}")
    return hidden


class PolicyAgent(Agent):
    """What REINFORCE, A2C and PPO share: the encoder, the ActorCritic network, acting,
    and the save/load state. Subclasses set ``_config`` and implement ``train``."""

    def _setup(self, env, hidden, activation, critic, lr, seed, log_std_init=0.0):
        name = type(self).__name__
        self.env = env
        self.seed = seed
        if lr <= 0:
            raise ValueError(f"{name}: lr must be positive, got {lr!r}")
        self.encoder = ObservationEncoder(env.observation_space, name)
        if seed is not None:
            manual_seed(seed)  # the networks' initial weights
        self.policy = ActorCritic(self.encoder.size, env.action_space, _hidden(hidden, name),
                                  activation, critic=critic, log_std_init=log_std_init)
        self.discrete = self.policy.discrete
        if not self.discrete:
            space = env.action_space
            self._act_shape = tuple(space.shape)
            self._low, self._high = space.low.reshape(-1), space.high.reshape(-1)
        self.rng = np.random.default_rng(seed)  # action sampling
        self.optimizer = optim.Adam(self.policy.parameters(), lr=lr)

    # -- acting -------------------------------------------------------------------
    def _env_action(self, a):
        """A sampled action (int, or a float row) as the environment takes it."""
        if self.discrete:
            return int(a)
        return np.clip(a, self._low, self._high).reshape(self._act_shape).astype(np.float32)

    def _sample(self, x, greedy=False):
        """Actions for encoded observations ``x`` (B, obs_dim), one forward pass without
        a graph; sampling in NumPy (the hot loop: no distribution objects)."""
        with no_grad():
            out = self.policy.actor(Tensor(x))._data
        if self.discrete:
            if greedy:
                return out.argmax(axis=1)
            z = np.exp(out - out.max(axis=1, keepdims=True))
            cdf = np.cumsum(z, axis=1)
            u = self.rng.random((len(x), 1)) * cdf[:, -1:]
            return np.minimum((cdf <= u).sum(axis=1), out.shape[1] - 1)
        if greedy:
            return out
        std = np.exp(self.policy.log_std._data)
        return out + std * self.rng.standard_normal(out.shape).astype(np.float32)

    def act(self, obs, greedy=True):
        """The action for one observation: the most likely one (``greedy=True``; for a
        Gaussian policy its mean, clipped to the box) or a sample from the policy."""
        return self._env_action(self._sample(self.encoder(obs)[None], greedy)[0])

    def _values(self, x):
        with no_grad():
            return self.policy.value(Tensor(x))._data.astype(np.float64)

    def _step_optimizer(self, loss, max_grad_norm):
        self.optimizer.zero_grad()
        loss.backward()
        if max_grad_norm:
            clip_grad_norm_(self.policy.parameters(), max_grad_norm)
        self.optimizer.step()

    # -- training budget ----------------------------------------------------------
    def _budget(self, episodes, total_steps):
        name = type(self).__name__
        if episodes is None and total_steps is None:
            raise ValueError(f"{name}.train: give episodes= or total_steps= (or both)")
        for label, v in (("episodes", episodes), ("total_steps", total_steps)):
            if v is not None and (int(v) != v or v <= 0):
                raise ValueError(f"{name}.train: {label} must be a positive integer, got {v!r}")

    @staticmethod
    def _done(log, episodes, total_steps, steps, target_return):
        if episodes is not None and log.episodes >= episodes:
            return True
        if total_steps is not None and steps >= total_steps:
            return True
        return (target_return is not None and log.episodes >= log.window
                and log.mean_return() >= target_return)

    # -- saving -------------------------------------------------------------------
    def config(self):
        return dict(self._config)

    def state_dict(self):
        return {"policy": self.policy.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state):
        self.policy.load_state_dict(state["policy"])
        self.optimizer.load_state_dict(state["optimizer"])


class REINFORCE(PolicyAgent):
    """Monte-Carlo policy gradient, one update per ``episodes_per_update`` episodes.

    For each step of the finished episodes, ``G_t = r_t + gamma G_{t+1}``
    (``discounted_returns``) and ``A_t = G_t - b(s_t)``, then one gradient step on

        policy_gradient_loss(log pi(a_t|s_t), A_t) + value_coef * mean((V(s_t) - G_t)^2)
                                                  - entropy_coef * mean(H[pi(.|s_t)])

    Parameters
    ----------
    env : an environment (shendu's or Gymnasium's) with a Discrete or Box action space
    hidden : widths of the hidden layers of the policy (and of the value network)
    lr : Adam's learning rate; gamma : the discount
    baseline : True (a learned value network ``V(s)``), ``"mean"`` (the mean return of the
        batch) or False (none: plain REINFORCE, high variance)
    normalize_advantages : standardise ``A_t`` over the batch (mean 0, std 1), which keeps
        the step size the same for short and long episodes
    entropy_coef : weight of the entropy bonus; value_coef : weight of the critic's loss
    episodes_per_update : episodes collected per gradient step
    max_grad_norm : clip the gradient's global norm (None: no clipping)
    seed : seeds the initial weights, the action sampling and the first ``env.reset``

    With a learned baseline, an episode cut by a time limit (``truncated``) bootstraps its
    returns with ``V`` of its last observation; without one the cut return is taken as is.
    """

    def __init__(self, env, hidden=(128,), activation="relu", lr=1e-3, gamma=0.99,
                 baseline=True, normalize_advantages=True, entropy_coef=0.0, value_coef=0.5,
                 episodes_per_update=1, max_grad_norm=None, seed=None):
        if baseline not in (True, False, "mean"):
            raise ValueError(f"REINFORCE: baseline must be True (a learned value network), "
                             f"'mean' or False, got {baseline!r}")
        if not 0 <= gamma <= 1:
            raise ValueError(f"REINFORCE: gamma must be in [0, 1], got {gamma!r}")
        if int(episodes_per_update) != episodes_per_update or episodes_per_update < 1:
            raise ValueError("REINFORCE: episodes_per_update must be a positive integer, got "
                             f"{episodes_per_update!r}")
        self._config = dict(hidden=list(_hidden(hidden, "REINFORCE")), activation=activation,
                            lr=lr, gamma=gamma, baseline=baseline,
                            normalize_advantages=normalize_advantages,
                            entropy_coef=entropy_coef, value_coef=value_coef,
                            episodes_per_update=int(episodes_per_update),
                            max_grad_norm=max_grad_norm, seed=seed)
        self.gamma, self.baseline = gamma, baseline
        self.normalize_advantages = normalize_advantages
        self.entropy_coef, self.value_coef = entropy_coef, value_coef
        self.episodes_per_update, self.max_grad_norm = int(episodes_per_update), max_grad_norm
        self._setup(env, hidden, activation, baseline is True, lr, seed)
        self._reset_seed = seed

    def run_episode(self):
        """Play one episode with the current (sampling) policy; returns a dict of arrays
        ``obs`` (T, obs_dim), ``actions`` (T,[act_dim]), ``rewards`` (T,) and
        ``terminated``, ``final_obs`` (encoded last observation)."""
        env, enc = self.env, self.encoder
        obs, _ = env.reset(seed=self._reset_seed)
        self._reset_seed = None
        xs, actions, rewards = [], [], []
        terminated = truncated = False
        while not (terminated or truncated):
            x = enc(obs)
            a = self._sample(x[None])[0]
            obs, r, terminated, truncated, _ = env.step(self._env_action(a))
            xs.append(x)
            actions.append(a)
            rewards.append(r)
        return {"obs": np.stack(xs), "actions": np.asarray(actions),
                "rewards": np.asarray(rewards, np.float64), "terminated": bool(terminated),
                "final_obs": enc(obs)}

    def loss(self, episodes):
        """The loss of one update over a list of ``run_episode`` results; returns
        ``(loss Tensor, info dict)``. Exposed so tests can check its gradient."""
        returns = []
        for ep in episodes:
            last = 0.0
            if not ep["terminated"] and self.baseline is True:
                last = float(self._values(ep["final_obs"][None])[0])
            returns.append(discounted_returns(ep["rewards"], self.gamma, last_value=last))
        G = np.concatenate(returns)
        x = Tensor(np.concatenate([ep["obs"] for ep in episodes]))
        actions = np.concatenate([ep["actions"] for ep in episodes])
        dist = self.policy.distribution(x)
        log_probs = self.policy.log_prob(dist, Tensor(actions))
        info = {}
        if self.baseline is True:
            values = self.policy.value(x)
            adv = G - values._data
            value_loss = ((values - Tensor(G.astype(np.float32))) ** 2).mean()
            info["value_loss"] = float(value_loss.item())
        elif self.baseline == "mean":
            adv = G - G.mean()
        else:
            adv = G.copy()
        if self.normalize_advantages and adv.size > 1:
            adv = (adv - adv.mean()) / (adv.std() + 1e-8)
        loss = policy_gradient_loss(log_probs, adv.astype(np.float32))
        if self.baseline is True:
            loss = loss + self.value_coef * value_loss
        if self.entropy_coef:
            loss = loss - self.entropy_coef * self.policy.entropy(dist).mean()
        info["loss"] = float(loss.item())
        return loss, info

    def train(self, episodes=None, total_steps=None, report_every=100, target_return=None,
              log=None):
        """Play and learn for ``episodes`` episodes (and/or ``total_steps`` steps); stop
        early once the mean return of the last 100 episodes reaches ``target_return``.
        Returns the ``TrainingLog`` (one line every ``report_every`` episodes)."""
        self._budget(episodes, total_steps)
        log = log or TrainingLog(report_every=report_every, name="REINFORCE")
        batch = []
        while not self._done(log, episodes, total_steps, log.steps, target_return):
            ep = self.run_episode()
            batch.append(ep)
            log.episode(ep["rewards"].sum(), len(ep["rewards"]))
            if len(batch) == self.episodes_per_update:
                loss, info = self.loss(batch)
                self._step_optimizer(loss, self.max_grad_norm)
                log.record("loss", info["loss"])
                batch = []
        return log


# --------------------------------------------------------------- vectorised rollouts
def _copies(env, n):
    """``env`` and ``n - 1`` independent copies (Gymnasium's rebuilt from their spec)."""
    out = [env]
    spec = getattr(env, "spec", None)
    for _ in range(n - 1):
        if spec is not None and not isinstance(spec, str) and hasattr(spec, "entry_point"):
            import gymnasium
            out.append(gymnasium.make(spec))
        else:
            out.append(copy.deepcopy(env))
    return out


class VectorRollout:
    """``n_envs`` copies of an environment stepped together (a synchronous vector env).

    ``collect(agent, n_steps, log)`` runs ``n_steps`` steps in every copy with the agent's
    sampling policy, resetting each copy when its episode ends, and returns time-major
    arrays: ``obs`` (T, N, obs_dim), ``actions`` (T, N[, act_dim]), ``rewards``,
    ``terminated``, ``truncated``, ``final_values`` (V of a truncated episode's last
    observation, else 0) all (T, N), and ``last_obs`` (N, obs_dim). Finished episodes go
    into ``log``. Copy ``i`` is first reset with ``seed + i``.
    """

    def __init__(self, env, n_envs, seed=None):
        if int(n_envs) != n_envs or n_envs < 1:
            raise ValueError(f"VectorRollout: n_envs must be a positive integer, got {n_envs!r}")
        self.envs = _copies(env, int(n_envs))
        self.seed = seed
        self.obs = None

    def _start(self, encoder):
        first = []
        for i, e in enumerate(self.envs):
            obs, _ = e.reset(seed=None if self.seed is None else self.seed + i)
            first.append(obs)
        self.obs = encoder.batch(first)
        self.ep_return = np.zeros(len(self.envs))
        self.ep_length = np.zeros(len(self.envs), dtype=np.int64)

    def collect(self, agent, n_steps, log):
        enc = agent.encoder
        if self.obs is None:
            self._start(enc)
        N, T = len(self.envs), int(n_steps)
        obs = np.empty((T, N, enc.size), np.float32)
        rewards = np.empty((T, N))
        term = np.zeros((T, N), bool)
        trunc = np.zeros((T, N), bool)
        final_values = np.zeros((T, N))
        actions = []
        for t in range(T):
            obs[t] = self.obs
            a = agent._sample(self.obs)
            actions.append(a)
            nxt = []
            for i, e in enumerate(self.envs):
                o, r, te, tr, _ = e.step(agent._env_action(a[i]))
                rewards[t, i] = r
                self.ep_return[i] += r
                self.ep_length[i] += 1
                if te or tr:
                    term[t, i], trunc[t, i] = te, tr and not te
                    if trunc[t, i] and agent.policy.critic is not None:
                        final_values[t, i] = agent._values(enc(o)[None])[0]
                    log.episode(self.ep_return[i], self.ep_length[i])
                    self.ep_return[i], self.ep_length[i] = 0.0, 0
                    o, _ = e.reset()
                nxt.append(o)
            self.obs = enc.batch(nxt)
        return {"obs": obs, "actions": np.stack(actions), "rewards": rewards,
                "terminated": term, "truncated": trunc, "final_values": final_values,
                "last_obs": self.obs.copy()}


class A2C(PolicyAgent):
    """Synchronous advantage actor-critic.

    Every ``n_steps`` steps of ``n_envs`` environments, one gradient step on

        policy_gradient_loss(log pi(a|s), A) + value_coef * mean((V(s) - R)^2)
                                             - entropy_coef * mean(H[pi(.|s)])

    with ``A, R = gae(..., gamma, gae_lambda)`` (``gae_lambda=1``: n-step returns, the
    original A2C) bootstrapped from the critic's value of the state after the rollout.

    Parameters
    ----------
    env : an environment with a Discrete or Box action space; ``n_envs - 1`` copies are
        made of it (Gymnasium's from their spec, shendu's by deepcopy)
    n_envs, n_steps : environments stepped together, and steps per update
    hidden, activation : the actor's and critic's hidden layers (separate networks)
    lr : Adam's learning rate; gamma : discount; gae_lambda : GAE's lambda
    value_coef, entropy_coef : weights of the critic's loss and the entropy bonus
    normalize_advantages : standardise A over each rollout
    max_grad_norm : clip the gradient's global norm (None: no clipping)
    seed : initial weights, action sampling, and the copies' first resets (seed + i)
    """

    def __init__(self, env, n_envs=8, n_steps=8, hidden=(64, 64), activation="tanh",
                 lr=1e-3, gamma=0.99, gae_lambda=1.0, value_coef=0.5, entropy_coef=0.0,
                 normalize_advantages=False, max_grad_norm=0.5, seed=None):
        if int(n_steps) != n_steps or n_steps < 1:
            raise ValueError(f"A2C: n_steps must be a positive integer, got {n_steps!r}")
        for label, v in (("gamma", gamma), ("gae_lambda", gae_lambda)):
            if not 0 <= v <= 1:
                raise ValueError(f"A2C: {label} must be in [0, 1], got {v!r}")
        self._config = dict(n_envs=int(n_envs), n_steps=int(n_steps),
                            hidden=list(_hidden(hidden, "A2C")), activation=activation, lr=lr,
                            gamma=gamma, gae_lambda=gae_lambda, value_coef=value_coef,
                            entropy_coef=entropy_coef,
                            normalize_advantages=normalize_advantages,
                            max_grad_norm=max_grad_norm, seed=seed)
        self.n_steps, self.gamma, self.gae_lambda = int(n_steps), gamma, gae_lambda
        self.value_coef, self.entropy_coef = value_coef, entropy_coef
        self.normalize_advantages, self.max_grad_norm = normalize_advantages, max_grad_norm
        self._setup(env, hidden, activation, True, lr, seed)
        self.rollout = VectorRollout(env, n_envs, seed)

    def advantages(self, batch):
        """GAE advantages and returns (T, N) for a ``VectorRollout.collect`` batch."""
        last = self._values(batch["last_obs"])
        T, N = batch["rewards"].shape
        values = self._values(batch["obs"].reshape(T * N, -1)).reshape(T, N)
        adv, ret = gae(batch["rewards"], values, batch["terminated"], last, self.gamma,
                       self.gae_lambda, truncated=batch["truncated"],
                       final_values=batch["final_values"])
        return adv, ret

    def _losses(self, x, actions, adv, ret):
        """(total loss, policy loss, value loss, entropy) for flat batches."""
        dist = self.policy.distribution(x)
        log_probs = self.policy.log_prob(dist, actions)
        pg = policy_gradient_loss(log_probs, adv.astype(np.float32))
        v_loss = ((self.policy.value(x) - Tensor(ret.astype(np.float32))) ** 2).mean()
        entropy = self.policy.entropy(dist).mean()
        return pg + self.value_coef * v_loss - self.entropy_coef * entropy, pg, v_loss, entropy

    def train(self, total_steps=None, episodes=None, report_every=100, target_return=None,
              log=None):
        """Learn for ``total_steps`` environment steps (all copies together) and/or
        ``episodes`` finished episodes; stop early once the mean return of the last 100
        episodes reaches ``target_return``. Returns the ``TrainingLog``."""
        self._budget(episodes, total_steps)
        log = log or TrainingLog(report_every=report_every, name="A2C")
        steps = 0
        while not self._done(log, episodes, total_steps, steps, target_return):
            batch = self.rollout.collect(self, self.n_steps, log)
            steps += batch["rewards"].size
            adv, ret = self.advantages(batch)
            adv, ret = adv.reshape(-1), ret.reshape(-1)
            if self.normalize_advantages and adv.size > 1:
                adv = (adv - adv.mean()) / (adv.std() + 1e-8)
            x = Tensor(batch["obs"].reshape(adv.size, -1))
            acts = batch["actions"].reshape((adv.size,) + batch["actions"].shape[2:])
            loss, _, v_loss, _ = self._losses(x, Tensor(acts), adv, ret)
            self._step_optimizer(loss, self.max_grad_norm)
            log.record("loss", loss.item())
        return log
