"""Returns and advantages: what a policy gradient multiplies ``log pi(a_t|s_t)`` by.

``discounted_returns`` is the Monte-Carlo return of REINFORCE,
``G_t = r_t + gamma r_{t+1} + gamma^2 r_{t+2} + ...`` up to the episode's end;
``gae`` is Generalised Advantage Estimation (Schulman et al., 2016) for actor-critic
methods (A2C, PPO), which blends one-step TD errors with Monte-Carlo returns::

    delta_t = r_t + gamma V(s_{t+1}) - V(s_t)
    A_t     = delta_t + gamma lam delta_{t+1} + (gamma lam)^2 delta_{t+2} + ...

``lam = 0`` gives the one-step TD advantage, ``lam = 1`` the Monte-Carlo return minus
``V(s_t)``.

Arrays are time-major: shape ``(T,)`` for one environment or ``(T, N)`` for ``N``
environments stepped together; the recursion runs backwards over ``T`` and is
vectorised over ``N``.

**Episode ends.** A flag at step ``t`` means the episode ended *after* the reward
``r_t``, so nothing from step ``t + 1`` (the next episode's first step) flows back into
step ``t``. What stands in for the future then depends on why it ended:

* ``terminated`` (the pole fell, the goal was reached): the future is worth 0.
* ``truncated`` (a time limit cut the episode): the state the agent reached still has a
  future, so bootstrap with its value ``V(s_final)`` -- pass it as ``final_values[t]``.
  Treating a time-out as a true end teaches the critic that states near the limit are
  worthless, which they are not.

>>> import numpy as np
>>> from shendu.rl.returns import discounted_returns, gae
>>> discounted_returns([1.0, 1.0, 1.0], gamma=0.5)
array([1.75, 1.5 , 1.  ])
>>> adv, ret = gae([1.0, 1.0], values=[0.5, 0.5], terminated=[False, True],
...                last_value=0.0, gamma=0.5, lam=1.0)
>>> adv, ret
(array([1. , 0.5]), array([1.5, 1. ]))
"""
from __future__ import annotations

import numpy as np

__all__ = ["discounted_returns", "gae"]


def _time_major(x, name, fn, dtype=np.float64):
    a = np.asarray(x, dtype=dtype)
    if a.ndim not in (1, 2) or a.shape[0] == 0:
        raise ValueError(f"{fn}: {name} must have shape (T,) or (T, N) with T >= 1 "
                         f"(time first, then environments), got shape {a.shape}")
    return a


def _flags(x, name, shape, fn):
    if x is None:
        return np.zeros(shape, dtype=bool)
    a = np.asarray(x)
    if a.shape != shape:
        raise ValueError(f"{fn}: {name} must have the rewards' shape {shape}, got {a.shape}")
    return a.astype(bool)


def _per_env(x, name, shape, fn):
    """A scalar or an (N,) array broadcast to one value per environment, shape[1:]."""
    a = np.asarray(x, dtype=np.float64)
    try:
        return np.broadcast_to(a, shape[1:]).astype(np.float64)
    except ValueError:
        raise ValueError(f"{fn}: {name} must be a number or have shape {shape[1:]} (one per "
                         f"environment), got shape {a.shape}") from None


def _check_gamma(gamma, fn, name="gamma"):
    if not 0.0 <= gamma <= 1.0:
        raise ValueError(f"{fn}: {name} must be in [0, 1], got {gamma!r}")


def discounted_returns(rewards, gamma, dones=None, last_value=0.0):
    """Discounted returns ``G_t = r_t + gamma * G_{t+1}``, computed backwards in time.

    Parameters
    ----------
    rewards : array (T,) or (T, N)
    gamma : float in [0, 1], the discount
    dones : bool array like ``rewards``, optional; True where an episode ended after
        ``r_t`` (``G_t = r_t`` there: the next step belongs to another episode)
    last_value : float or (N,) array; what follows the last step when it did not end an
        episode (``G_T``): 0 for a finished episode, ``V(s_T)`` to bootstrap a cut-off
        one (a time limit, a rollout of ``n_steps``)

    Returns
    -------
    float64 array shaped like ``rewards``.

    >>> discounted_returns([[1.0, 0.0], [1.0, 1.0]], gamma=0.9, dones=[[True, False],
    ...                    [False, False]], last_value=[10.0, 0.0])
    array([[ 1. ,  0.9],
           [10. ,  1. ]])
    """
    fn = "discounted_returns"
    r = _time_major(rewards, "rewards", fn)
    _check_gamma(gamma, fn)
    done = _flags(dones, "dones", r.shape, fn)
    g = _per_env(last_value, "last_value", r.shape, fn)
    out = np.empty_like(r)
    for t in range(r.shape[0] - 1, -1, -1):
        g = r[t] + gamma * np.where(done[t], 0.0, g)
        out[t] = g
    return out


def gae(rewards, values, terminated, last_value, gamma=0.99, lam=0.95, truncated=None,
        final_values=None):
    """Generalised advantage estimates and the critic's targets (returns).

    Parameters
    ----------
    rewards : array (T,) or (T, N), ``r_t``
    values : array like ``rewards``, the critic's ``V(s_t)`` for the states acted in
    terminated : bool array like ``rewards``: the episode truly ended after step ``t``
        (the next state is worth 0)
    last_value : float or (N,) array, ``V(s_T)`` of the state after the last step (used
        where that step did not end an episode)
    gamma : float in [0, 1], the discount; lam : float in [0, 1], GAE's lambda
    truncated : bool array like ``rewards``, optional: a time limit cut the episode after
        step ``t`` (``terminated`` wins where both are set)
    final_values : array like ``rewards``, needed where ``truncated``: ``V`` of the last
        observation of the cut episode (the one ``step`` returned before the reset)

    Returns
    -------
    advantages, returns : float64 arrays shaped like ``rewards``;
    ``returns = advantages + values`` (the critic's regression target).

    The rule: with ``next_t`` = ``values[t+1]`` (or ``last_value`` at ``t = T-1``),
    replaced by ``final_values[t]`` where truncated and by 0 where terminated,
    ``delta_t = r_t + gamma next_t - values[t]`` and
    ``A_t = delta_t + gamma lam (1 - done_t) A_{t+1}`` with ``done = terminated | truncated``.

    >>> adv, ret = gae([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], [False] * 3, last_value=1.0,
    ...                gamma=1.0, lam=0.0, truncated=[True, False, False],
    ...                final_values=[5.0, 0.0, 0.0])
    >>> adv  # step 0 bootstraps from the cut episode's final state (5), not from values[1]
    array([5., 1., 1.])
    """
    fn = "gae"
    r = _time_major(rewards, "rewards", fn)
    v = np.asarray(values, dtype=np.float64)
    if v.shape != r.shape:
        raise ValueError(f"gae: values must have the rewards' shape {r.shape} (V(s_t) for "
                         f"each step), got {v.shape}")
    _check_gamma(gamma, fn)
    _check_gamma(lam, fn, "lam")
    term = _flags(terminated, "terminated", r.shape, fn)
    trunc = _flags(truncated, "truncated", r.shape, fn) & ~term
    if trunc.any():
        if final_values is None:
            raise ValueError("gae: some steps are truncated (a time limit cut the episode); "
                             "pass final_values, V of the cut episode's last observation, "
                             "to bootstrap them")
        final = np.asarray(final_values, dtype=np.float64)
        if final.shape != r.shape:
            raise ValueError(f"gae: final_values must have the rewards' shape {r.shape}, "
                             f"got {final.shape}")
    else:
        final = np.zeros_like(r)
    next_v = np.empty_like(r)
    next_v[:-1] = v[1:]
    next_v[-1] = _per_env(last_value, "last_value", r.shape, fn)
    next_v = np.where(trunc, final, next_v)
    next_v[term] = 0.0
    delta = r + gamma * next_v - v
    carry = np.where(term | trunc, 0.0, gamma * lam)
    adv = np.empty_like(r)
    a = np.zeros(r.shape[1:])
    for t in range(r.shape[0] - 1, -1, -1):
        a = delta[t] + carry[t] * a
        adv[t] = a
    return adv, adv + v
