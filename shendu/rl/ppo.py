"""Proximal Policy Optimization (Schulman et al., 2017): actor-critic that reuses each
rollout for several epochs of minibatch steps, kept safe by clipping the policy ratio.

A2C takes one gradient step per rollout, because after that step the data no longer come
from the policy being improved. PPO keeps the log-probabilities the rollout was sampled
with, ``log pi_old(a|s)``, and maximises the *clipped surrogate*

    r_t = pi(a_t|s_t) / pi_old(a_t|s_t) = exp(log pi - log pi_old)
    L_clip = mean( min(r_t A_t, clip(r_t, 1 - eps, 1 + eps) A_t) )

Once ``r_t`` has moved ``eps`` (``clip_range``) away from 1 in the direction the
advantage favours, the clipped term is constant and that sample stops pushing: the new
policy cannot run far from the one that gathered the data, so ``n_epochs`` passes over it
are safe. ``ppo_clip_loss`` is ``-L_clip``.

>>> import shendu
>>> lp = shendu.tensor([0.0, 0.0], requires_grad=True)
>>> ppo_clip_loss(lp, old_log_probs=[-0.5, 0.5], advantages=[1.0, -1.0], clip_range=0.2)
tensor(-0.2000, grad_fn=<NegBackward>)
"""
from __future__ import annotations

import numpy as np

from shendu.autograd import Tensor
from shendu.ops import clamp, minimum

from .common import TrainingLog
from .policy_gradient import PolicyAgent, VectorRollout, _hidden

__all__ = ["PPO", "ppo_clip_loss"]


def ppo_clip_loss(log_probs, old_log_probs, advantages, clip_range=0.2):
    """``-mean(min(r A, clip(r, 1 - clip_range, 1 + clip_range) A))``, ``r = exp(lp - old)``.

    ``log_probs``: Tensor (B,) under the current policy (with a graph); ``old_log_probs``
    and ``advantages``: arrays (B,) from the rollout, constants. Samples whose ratio is
    clipped contribute no gradient.
    """
    if not 0 < clip_range < 1:
        raise ValueError(f"ppo_clip_loss: clip_range must be in (0, 1), got {clip_range!r}")
    dtype = log_probs.dtype
    old = np.asarray(old_log_probs._data if isinstance(old_log_probs, Tensor) else old_log_probs,
                     dtype=dtype)
    adv = np.asarray(advantages._data if isinstance(advantages, Tensor) else advantages,
                     dtype=dtype)
    if old.shape != tuple(log_probs.shape) or adv.shape != tuple(log_probs.shape):
        raise ValueError(f"ppo_clip_loss: log_probs {tuple(log_probs.shape)}, old_log_probs "
                         f"{old.shape} and advantages {adv.shape} must have the same shape")
    ratio = (log_probs - Tensor(old)).exp()
    adv_t = Tensor(adv)
    surrogate = minimum(ratio * adv_t, clamp(ratio, 1 - clip_range, 1 + clip_range) * adv_t)
    return -surrogate.mean()


class PPO(PolicyAgent):
    """PPO with the clipped objective, GAE advantages and synchronous environments.

    Each iteration: collect ``n_steps`` steps in each of ``n_envs`` environments (a
    ``VectorRollout``), compute ``A, R = gae(..., gamma, gae_lambda)``, then for
    ``n_epochs`` epochs shuffle the ``n_steps * n_envs`` samples into minibatches of
    ``batch_size`` and take a step on

        ppo_clip_loss(log pi(a|s), log pi_old(a|s), A, clip_range)
            + value_coef * mean((V(s) - R)^2) - entropy_coef * mean(H[pi(.|s)])

    Parameters
    ----------
    env : an environment with a Discrete or Box action space (copied ``n_envs - 1`` times)
    n_envs, n_steps : environments and steps per environment in a rollout
    n_epochs, batch_size : passes over each rollout, and the minibatch size
    clip_range : epsilon of the ratio clipping
    gamma, gae_lambda : the discount and GAE's lambda
    lr : Adam's learning rate; ``anneal_lr=True`` decays it linearly to 0 over the
        ``total_steps`` of a ``train`` call
    value_coef, entropy_coef : weights of the critic's loss and of the entropy bonus
    normalize_advantages : standardise A within each minibatch
    max_grad_norm : clip the gradient's global norm (None: no clipping)
    target_kl : stop a rollout's epochs early once the approximate KL between the old and
        new policies, ``mean((r - 1) - log r)``, passes it (None: never)
    hidden, activation, log_std_init : the networks (separate actor and critic)
    seed : initial weights, action sampling, minibatch order, the copies' first resets

    The log records, per iteration, ``clip_fraction`` (share of clipped samples),
    ``approx_kl`` and ``value_loss``.
    """

    def __init__(self, env, n_envs=8, n_steps=128, n_epochs=10, batch_size=64,
                 clip_range=0.2, gamma=0.99, gae_lambda=0.95, lr=3e-4, anneal_lr=False,
                 value_coef=0.5, entropy_coef=0.0, normalize_advantages=True,
                 max_grad_norm=0.5, target_kl=None, hidden=(64, 64), activation="tanh",
                 log_std_init=0.0, seed=None):
        for label, v in (("n_steps", n_steps), ("n_epochs", n_epochs),
                         ("batch_size", batch_size)):
            if int(v) != v or v < 1:
                raise ValueError(f"PPO: {label} must be a positive integer, got {v!r}")
        if not 0 < clip_range < 1:
            raise ValueError(f"PPO: clip_range must be in (0, 1), got {clip_range!r}")
        for label, v in (("gamma", gamma), ("gae_lambda", gae_lambda)):
            if not 0 <= v <= 1:
                raise ValueError(f"PPO: {label} must be in [0, 1], got {v!r}")
        if batch_size > n_steps * n_envs:
            raise ValueError(f"PPO: batch_size ({batch_size}) is larger than a rollout "
                             f"(n_steps * n_envs = {n_steps * n_envs})")
        self._config = dict(n_envs=int(n_envs), n_steps=int(n_steps), n_epochs=int(n_epochs),
                            batch_size=int(batch_size), clip_range=clip_range, gamma=gamma,
                            gae_lambda=gae_lambda, lr=lr, anneal_lr=anneal_lr,
                            value_coef=value_coef, entropy_coef=entropy_coef,
                            normalize_advantages=normalize_advantages,
                            max_grad_norm=max_grad_norm, target_kl=target_kl,
                            hidden=list(_hidden(hidden, "PPO")), activation=activation,
                            log_std_init=log_std_init, seed=seed)
        self.n_steps, self.n_epochs, self.batch_size = int(n_steps), int(n_epochs), int(batch_size)
        self.clip_range, self.gamma, self.gae_lambda = clip_range, gamma, gae_lambda
        self.lr, self.anneal_lr = lr, anneal_lr
        self.value_coef, self.entropy_coef = value_coef, entropy_coef
        self.normalize_advantages, self.max_grad_norm = normalize_advantages, max_grad_norm
        self.target_kl = target_kl
        self._setup(env, hidden, activation, True, lr, seed, log_std_init)
        self.rollout = VectorRollout(env, n_envs, seed)

    def _old_log_probs(self, x, actions):
        from shendu.autograd import no_grad
        with no_grad():
            return self.policy.log_prob(self.policy.distribution(x), actions)._data

    def update(self, batch, log=None):
        """``n_epochs`` of clipped minibatch steps on one rollout; returns statistics."""
        T, N = batch["rewards"].shape
        values = self._values(batch["obs"].reshape(T * N, -1)).reshape(T, N)
        adv, ret = self._gae(batch, values)
        obs = batch["obs"].reshape(T * N, -1)
        acts = batch["actions"].reshape((T * N,) + batch["actions"].shape[2:])
        old = self._old_log_probs(Tensor(obs), Tensor(acts))
        stats = {"clip_fraction": [], "approx_kl": [], "value_loss": []}
        for _ in range(self.n_epochs):
            order = self.rng.permutation(T * N)
            kls = []
            for lo in range(0, T * N - self.batch_size + 1, self.batch_size):
                idx = order[lo:lo + self.batch_size]
                a = adv[idx]
                if self.normalize_advantages and a.size > 1:
                    a = (a - a.mean()) / (a.std() + 1e-8)
                x = Tensor(obs[idx])
                dist = self.policy.distribution(x)
                lp = self.policy.log_prob(dist, Tensor(acts[idx]))
                pg = ppo_clip_loss(lp, old[idx], a, self.clip_range)
                v_loss = ((self.policy.value(x) - Tensor(ret[idx].astype(np.float32))) ** 2).mean()
                loss = pg + self.value_coef * v_loss
                if self.entropy_coef:
                    loss = loss - self.entropy_coef * self.policy.entropy(dist).mean()
                self._step_optimizer(loss, self.max_grad_norm)
                log_ratio = lp._data.astype(np.float64) - old[idx]
                kls.append(float(np.mean(np.expm1(log_ratio) - log_ratio)))
                stats["clip_fraction"].append(float(np.mean(np.abs(np.expm1(log_ratio))
                                                            > self.clip_range)))
                stats["value_loss"].append(float(v_loss.item()))
            stats["approx_kl"].extend(kls)
            if self.target_kl is not None and kls and np.mean(kls) > self.target_kl:
                break
        out = {k: float(np.mean(v)) if v else 0.0 for k, v in stats.items()}
        if log is not None:
            for k, v in out.items():
                log.record(k, v)
        return out

    def _gae(self, batch, values):
        from .returns import gae
        last = self._values(batch["last_obs"])
        adv, ret = gae(batch["rewards"], values, batch["terminated"], last, self.gamma,
                       self.gae_lambda, truncated=batch["truncated"],
                       final_values=batch["final_values"])
        return adv.reshape(-1), ret.reshape(-1)

    def train(self, total_steps=None, episodes=None, report_every=100, target_return=None,
              log=None):
        """Learn for ``total_steps`` environment steps (all copies together) and/or
        ``episodes`` finished episodes; stop early once the mean return of the last 100
        episodes reaches ``target_return``. Returns the ``TrainingLog``."""
        self._budget(episodes, total_steps)
        if self.anneal_lr and total_steps is None:
            raise ValueError("PPO.train: anneal_lr=True decays the learning rate over "
                             "total_steps; give total_steps=")
        log = log or TrainingLog(report_every=report_every, name="PPO")
        steps = 0
        while not self._done(log, episodes, total_steps, steps, target_return):
            if self.anneal_lr:
                for group in self.optimizer.param_groups:
                    group["lr"] = self.lr * max(0.0, 1.0 - steps / total_steps)
            batch = self.rollout.collect(self, self.n_steps, log)
            steps += batch["rewards"].size
            self.update(batch, log)
        return log
