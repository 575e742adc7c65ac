"""Boltzmann machine: a Hopfield-like network of stochastic binary units (Hinton & Sejnowski).

Course seed 003, "玻爾茲曼機": like a Hopfield network, but each unit is a random
neuron that turns on with probability

    P(s_i = 1) = sigma((sum_j w_ij s_j + b_i) / T)

where ``s_j in {0, 1}``, ``w_ij = w_ji`` (no self-connections), ``b_i`` is the bias and
``T`` the temperature: the hotter the network, the more random its outputs. Updating
the units one at a time with this rule (Gibbs sampling) draws states from the
Boltzmann distribution

    P(s) = exp(-E(s) / T) / Z,    E(s) = -1/2 s^T W s - b^T s,    Z = sum_s exp(-E(s) / T)

Simulated annealing starts hot and cools down (``annealing_schedule``) so that the
chain escapes poor local minima of ``E`` early and settles in a low-energy state.

Learning (the Boltzmann learning rule). The units are split into visible ones (the
data) and hidden ones. The log-likelihood of visible data ``v`` has the gradient

    d log P(v) / d w_ij = (<s_i s_j>_clamped - <s_i s_j>_free) / T
    d log P(v) / d b_i  = (<s_i>_clamped - <s_i>_free) / T

"clamped": averaged over the data with the visible units fixed to it and the hidden
ones following P(h | v); "free": averaged over the model's own distribution. Both
averages are estimated by Gibbs sampling (``method="gibbs"``, persistent chains for the
free phase) or, for machines of up to ~16 units, computed exactly by enumerating all
``2^n`` states (``method="exact"``), which is also how the tests check the sampler.
"""
from __future__ import annotations

import numpy as np

__all__ = ["BoltzmannMachine", "annealing_schedule", "all_states", "empirical_distribution"]

_MAX_EXACT_UNITS = 20


def _sigmoid(x):
    # written through tanh: no overflow warning for large |x|
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def all_states(n):
    """Every binary state of ``n`` units, (2^n, n) float64 in counting order: row ``k`` is
    ``k`` written in binary, first unit = most significant bit.

    >>> all_states(2).astype(int).tolist()
    [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    if not 0 <= n <= _MAX_EXACT_UNITS:
        raise ValueError(f"all_states: n must be in 0..{_MAX_EXACT_UNITS} (2^n states are "
                         f"listed), got {n}")
    k = np.arange(2 ** n)[:, None]
    return ((k >> np.arange(n - 1, -1, -1)) & 1).astype(np.float64)


def empirical_distribution(data):
    """The share of each of the ``2^n`` binary states (``all_states`` order) among the rows
    of ``data`` (M, n) of 0/1.

    >>> empirical_distribution([[0, 1], [0, 1], [1, 1], [0, 0]]).tolist()
    [0.25, 0.5, 0.0, 0.25]
    """
    d = np.asarray(data)
    if d.ndim != 2 or not np.isin(d, (0, 1)).all():
        raise ValueError(f"empirical_distribution: expected an (M, n) array of 0/1, "
                         f"got shape {d.shape}")
    index = d.astype(np.int64) @ (1 << np.arange(d.shape[1] - 1, -1, -1))
    return np.bincount(index, minlength=2 ** d.shape[1]) / len(d)


def annealing_schedule(t_start=10.0, t_end=1.0, n_steps=20, kind="geometric"):
    """Temperatures for simulated annealing, from ``t_start`` down to ``t_end``.

    kind "geometric": ``t_k = t_start * (t_end / t_start) ** (k / (n_steps - 1))``
    (the usual exponential cooling); "linear": evenly spaced. Returns (n_steps,) float64.

    >>> annealing_schedule(8.0, 1.0, 4).tolist()
    [8.0, 4.0, 2.0, 1.0]
    """
    if t_start <= 0 or t_end <= 0:
        raise ValueError(f"annealing_schedule: temperatures must be > 0, got t_start="
                         f"{t_start}, t_end={t_end}")
    if n_steps < 1:
        raise ValueError(f"annealing_schedule: n_steps must be >= 1, got {n_steps}")
    if n_steps == 1:
        return np.array([float(t_end)])
    if kind == "geometric":
        return t_start * (t_end / t_start) ** (np.arange(n_steps) / (n_steps - 1))
    if kind == "linear":
        return np.linspace(t_start, t_end, n_steps)
    raise ValueError(f"annealing_schedule: kind must be 'geometric' or 'linear', got {kind!r}")


class BoltzmannMachine:
    """A fully connected Boltzmann machine of ``n_visible`` visible and ``n_hidden``
    hidden binary (0/1) units; the visible units come first in every state vector.

    Parameters
    ----------
    n_visible : int >= 1;  n_hidden : int >= 0, default 0
    temperature : float > 0, default 1.0; T in the unit rule and the distribution
    learning_rate : float, default 0.1; step of gradient ascent on the mean log-likelihood
    n_iter : int, default 100; full-batch updates made by ``fit``
    method : "gibbs" (default) or "exact"; how ``fit`` estimates the two phases
    n_chains : int, default 100; persistent free-phase chains ("gibbs")
    n_sweeps : int, default 1; Gibbs sweeps per phase and update ("gibbs")
    weight_decay : float, default 0; L2 penalty on the weights
    init_std : float, default 0.1; weights start as N(0, init_std^2) (symmetric), biases 0
    random_state : None or int; seeds the initial weights and all sampling

    Attributes
    ----------
    weights : (n, n) float64, symmetric with a zero diagonal, n = n_visible + n_hidden
    bias : (n,) float64
    history_ : dict; after ``fit``, ``"log_likelihood"``: the exact mean log-likelihood of
        the data after every update (only when n <= 16)

    Examples
    --------
    Learn the distribution of two correlated bits, with exact phases:

    >>> data = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [1, 1], [1, 1]])
    >>> bm = BoltzmannMachine(2, method="exact", learning_rate=0.5, n_iter=400,
    ...                       random_state=0).fit(data)
    >>> bm.visible_distribution().round(2).tolist()   # data: 1/6, 1/6, 1/6, 1/2
    [0.17, 0.17, 0.17, 0.5]
    """

    def __init__(self, n_visible, n_hidden=0, temperature=1.0, learning_rate=0.1, n_iter=100,
                 method="gibbs", n_chains=100, n_sweeps=1, weight_decay=0.0, init_std=0.1,
                 random_state=None):
        for name, value, low in (("n_visible", n_visible, 1), ("n_hidden", n_hidden, 0),
                                 ("n_iter", n_iter, 0), ("n_chains", n_chains, 1),
                                 ("n_sweeps", n_sweeps, 1)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
                raise ValueError(f"BoltzmannMachine: {name} must be an integer >= {low}, "
                                 f"got {value!r}")
        if not temperature > 0:
            raise ValueError(f"BoltzmannMachine: temperature must be > 0, got {temperature!r}")
        if method not in ("gibbs", "exact"):
            raise ValueError(f"BoltzmannMachine: method must be 'gibbs' or 'exact', "
                             f"got {method!r}")
        n = n_visible + n_hidden
        if method == "exact" and n > _MAX_EXACT_UNITS:
            raise ValueError(f"BoltzmannMachine: method='exact' enumerates 2^{n} states; use "
                             f"at most {_MAX_EXACT_UNITS} units or method='gibbs'")
        self.n_visible, self.n_hidden, self.n_units = int(n_visible), int(n_hidden), int(n)
        self.temperature = float(temperature)
        self.learning_rate, self.n_iter, self.method = float(learning_rate), int(n_iter), method
        self.n_chains, self.n_sweeps = int(n_chains), int(n_sweeps)
        self.weight_decay, self.init_std = float(weight_decay), float(init_std)
        self.random_state = random_state
        self.rng = np.random.default_rng(random_state)
        w = np.triu(self.rng.normal(0.0, init_std, (n, n)), 1)
        self.weights = w + w.T
        self.bias = np.zeros(n)
        self._chains = None   # persistent free-phase chains (method='gibbs')
        self._clamped = None  # hidden states that follow the data (method='gibbs')
        self.history_ = {}

    # ---------------------------------------------------------------- helpers
    def _check(self, s, n, what):
        a = np.asarray(s, dtype=np.float64)
        if a.ndim not in (1, 2) or a.shape[-1] != n:
            raise ValueError(f"BoltzmannMachine(n_visible={self.n_visible}, n_hidden="
                             f"{self.n_hidden}).{what}: expected shape ({n},) or (B, {n}), "
                             f"got {a.shape}")
        if not np.isin(a, (0.0, 1.0)).all():
            raise ValueError(f"BoltzmannMachine.{what}: states must be 0/1")
        return a

    def _t(self, temperature):
        t = self.temperature if temperature is None else float(temperature)
        if not t > 0:
            raise ValueError(f"BoltzmannMachine: temperature must be > 0, got {temperature!r}")
        return t

    def energy(self, states):
        """``E(s) = -1/2 s^T W s - b^T s`` of (n,) -> float or (B, n) -> (B,)."""
        s = self._check(states, self.n_units, "energy")
        e = -0.5 * np.einsum("...i,ij,...j->...", s, self.weights, s) - s @ self.bias
        return float(e) if s.ndim == 1 else e

    def unit_probability(self, states, i, temperature=None):
        """``P(s_i = 1 | the other units) = sigma((sum_j w_ij s_j + b_i) / T)`` for each
        state of a batch (B, n) -> (B,)."""
        s = self._check(states, self.n_units, "unit_probability").reshape(-1, self.n_units)
        return _sigmoid((s @ self.weights[i] + self.bias[i]) / self._t(temperature))

    # --------------------------------------------------------------- sampling
    def gibbs(self, states, n_sweeps=1, temperature=None, clamp_visible=False):
        """Run ``n_sweeps`` sequential Gibbs sweeps over a batch of states (B, n) -> new
        (B, n) float64 array. Each sweep visits the units in a fresh random order and
        resamples each from its ``unit_probability``; the chains of the batch run side by
        side. ``clamp_visible=True`` keeps the visible units fixed (the clamped phase).
        ``temperature`` may be a number or a sequence of one temperature per sweep."""
        s = self._check(states, self.n_units, "gibbs").reshape(-1, self.n_units).copy()
        temps = np.broadcast_to(np.asarray(self._t(None) if temperature is None
                                           else temperature, dtype=np.float64), (n_sweeps,))
        if (temps <= 0).any():
            raise ValueError(f"BoltzmannMachine.gibbs: temperatures must be > 0, got {temps}")
        free = np.arange(self.n_visible if clamp_visible else 0, self.n_units)
        W, b = self.weights, self.bias
        for t in temps:
            for i in self.rng.permutation(free):
                p = _sigmoid((s @ W[i] + b[i]) / t)  # W[i, i] = 0: s_i's own value is unused
                s[:, i] = self.rng.random(len(s)) < p
        return s

    def anneal(self, states, schedule=None, clamp_visible=False):
        """Simulated annealing: one Gibbs sweep at each temperature of ``schedule``
        (default ``annealing_schedule(10 T, T, 20)``), returning the final states."""
        if schedule is None:
            schedule = annealing_schedule(10 * self.temperature, self.temperature, 20)
        schedule = np.asarray(schedule, dtype=np.float64).ravel()
        return self.gibbs(states, len(schedule), schedule, clamp_visible)

    def sample(self, n_samples, n_sweeps=100, temperature=None, schedule=None):
        """``n_samples`` states (n_samples, n) drawn by running chains from random states:
        ``n_sweeps`` sweeps at ``temperature``, or with ``schedule`` simulated annealing."""
        s = (self.rng.random((n_samples, self.n_units)) < 0.5).astype(np.float64)
        if schedule is not None:
            return self.anneal(s, schedule)
        return self.gibbs(s, n_sweeps, temperature)

    # ------------------------------------------------------------ exact values
    def _require_exact(self, what):
        if self.n_units > _MAX_EXACT_UNITS:
            raise ValueError(f"BoltzmannMachine.{what} enumerates 2^{self.n_units} states; "
                             f"only machines of at most {_MAX_EXACT_UNITS} units allow it")

    def exact_distribution(self, temperature=None):
        """``P(s)`` of every state (2^n,), in ``all_states(n)`` order, by enumeration."""
        self._require_exact("exact_distribution")
        logits = -self.energy(all_states(self.n_units)) / self._t(temperature)
        p = np.exp(logits - logits.max())  # shift by the max: no overflow in exp
        return p / p.sum()

    def visible_distribution(self, temperature=None):
        """``P(v)`` of every visible state (2^n_visible,), hidden units summed out."""
        p = self.exact_distribution(temperature)
        return p.reshape(2 ** self.n_visible, 2 ** self.n_hidden).sum(axis=1)

    def log_likelihood(self, data):
        """Exact mean ``log P(v)`` over the rows of ``data`` (M, n_visible) of 0/1."""
        v = self._check(data, self.n_visible, "log_likelihood").reshape(-1, self.n_visible)
        p = self.visible_distribution()
        index = v.astype(np.int64) @ (1 << np.arange(self.n_visible - 1, -1, -1))
        return float(np.mean(np.log(p[index])))

    def kl_divergence(self, target):
        """Exact ``KL(target || P_model(v)) = sum_v q(v) log(q(v) / P(v))`` in nats, for a
        target distribution ``q`` over the 2^n_visible visible states (``all_states``
        order; e.g. ``empirical_distribution(data)``)."""
        q = np.asarray(target, dtype=np.float64)
        if q.shape != (2 ** self.n_visible,) or (q < 0).any() or not np.isclose(q.sum(), 1):
            raise ValueError(f"BoltzmannMachine.kl_divergence: target must be a distribution "
                             f"of shape ({2 ** self.n_visible},), got shape {q.shape}")
        p = self.visible_distribution()
        nz = q > 0
        return float(np.sum(q[nz] * np.log(q[nz] / p[nz])))

    # --------------------------------------------------------------- learning
    def _exact_clamped(self, v):
        """``<s s^T>`` and ``<s>`` with visible units clamped to each row of ``v`` and the
        hidden units following P(h | v) exactly."""
        if self.n_hidden == 0:
            return v.T @ v / len(v), v.mean(axis=0)
        hidden = all_states(self.n_hidden)
        full = np.concatenate([np.repeat(v, len(hidden), axis=0),
                               np.tile(hidden, (len(v), 1))], axis=1)
        logits = (-self.energy(full) / self.temperature).reshape(len(v), len(hidden))
        ph = np.exp(logits - logits.max(axis=1, keepdims=True))
        weight = (ph / ph.sum(axis=1, keepdims=True)).ravel() / len(v)
        return (full * weight[:, None]).T @ full, weight @ full

    def _statistics(self, v):
        """(clamped ss, clamped s, free ss, free s) by the configured method."""
        if self.method == "exact":
            css, cs = self._exact_clamped(v)
            S = all_states(self.n_units)
            p = self.exact_distribution()
            return css, cs, (S * p[:, None]).T @ S, p @ S
        if self.n_hidden:
            # each data vector gets a hidden state that follows it from update to update
            if self._clamped is None or len(self._clamped) != len(v):
                self._clamped = np.concatenate(
                    [v, (self.rng.random((len(v), self.n_hidden)) < 0.5)], axis=1)
            self._clamped[:, :self.n_visible] = v
            self._clamped = self.gibbs(self._clamped, self.n_sweeps, clamp_visible=True)
            c = self._clamped
        else:
            c = v
        if self._chains is None:
            self._chains = (self.rng.random((self.n_chains, self.n_units)) < 0.5).astype(float)
        self._chains = self.gibbs(self._chains, self.n_sweeps)
        f = self._chains
        return c.T @ c / len(c), c.mean(axis=0), f.T @ f / len(f), f.mean(axis=0)

    def log_likelihood_gradient(self, data):
        """The gradient of the mean log-likelihood of ``data`` (M, n_visible):
        ``(dW, db)``, (n, n) with a zero diagonal and (n,), estimated by ``method``."""
        v = self._check(data, self.n_visible, "log_likelihood_gradient").reshape(
            -1, self.n_visible)
        css, cs, fss, fs = self._statistics(v)
        dW = (css - fss) / self.temperature
        np.fill_diagonal(dW, 0.0)
        return dW, (cs - fs) / self.temperature

    def fit(self, data):
        """Learn from ``data`` (M, n_visible) of 0/1 by ``n_iter`` full-batch steps of the
        Boltzmann learning rule (gradient ascent on the mean log-likelihood, minus
        ``weight_decay * W``). Returns ``self``; ``history_`` records the exact
        log-likelihood per step for machines of at most 16 units."""
        v = self._check(data, self.n_visible, "fit").reshape(-1, self.n_visible)
        self._clamped = None
        record = self.n_units <= 16
        self.history_ = {"log_likelihood": []} if record else {}
        for _ in range(self.n_iter):
            dW, db = self.log_likelihood_gradient(v)
            self.weights += self.learning_rate * (dW - self.weight_decay * self.weights)
            np.fill_diagonal(self.weights, 0.0)
            self.bias += self.learning_rate * db
            if record:
                self.history_["log_likelihood"].append(self.log_likelihood(v))
        return self

    def __repr__(self):
        return (f"BoltzmannMachine(n_visible={self.n_visible}, n_hidden={self.n_hidden}, "
                f"temperature={self.temperature}, method={self.method!r})")
