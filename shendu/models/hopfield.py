"""Hopfield network: an associative memory of bipolar (+1/-1) patterns (Hopfield, 1982).

Course seed 003, "Hopfield 網路": after storing the image of a digit 5, the network turns
a blurred 5 back into the 5; every update lowers an energy, so the state settles in a
low-energy fixed point, which may be a wrong local minimum (a spurious state).

The network is ``N`` binary units ``s_i in {-1, +1}`` with symmetric weights ``W``
(zero diagonal) and thresholds ``theta``. Its energy is

    E(s) = -1/2 s^T W s + theta^T s

and a unit update sets ``s_i <- sign(sum_j w_ij s_j - theta_i)`` (a unit whose input is
exactly 0 keeps its state). Flipping unit ``i`` changes the energy by
``-(s_i' - s_i)(h_i - theta_i) <= 0``, so asynchronous updates (one unit at a time) never
raise it and reach a fixed point; synchronous updates (all units at once) may end in a
two-state cycle instead.

Storage rules, for ``P`` patterns ``x^mu`` stacked as the rows of ``X`` (P, N):

- Hebbian: ``W = (1/N) X^T X`` with the diagonal set to 0. Random patterns are stable
  while ``P / N`` stays below about 0.138 (Amit, Gutfreund & Sompolinsky, 1985);
  correlated patterns (digits share their background) interfere much sooner.
- pseudo-inverse (projection) rule: ``W = X^+ X = X^T (X X^T)^-1 X`` (the projection on
  the span of the patterns, diagonal set to 0); every linearly independent pattern is a
  fixed point, correlated or not, up to ``P < N`` (Personnaz et al., 1985; Kanter &
  Sompolinsky, 1987).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Hopfield", "RecallResult", "to_bipolar", "corrupt", "capacity_curve",
           "HEBBIAN_CAPACITY"]

HEBBIAN_CAPACITY = 0.138
"""The critical load ``P / N`` of the Hebbian rule for random patterns (large ``N``)."""


def to_bipolar(x, threshold=0.5):
    """Map values to bipolar states: ``+1`` where ``x > threshold``, else ``-1``.

    ``x`` of any shape (e.g. images in [0, 1], or 0/1 bits); returns int8 of the same shape.

    >>> to_bipolar([0.1, 0.9, 0.5]).tolist()
    [-1, 1, -1]
    """
    return np.where(np.asarray(x) > threshold, 1, -1).astype(np.int8)


def corrupt(patterns, fraction, rng=None):
    """Copies of bipolar ``patterns`` (N,) or (P, N) with ``round(fraction * N)`` randomly
    chosen units of each pattern flipped (different units for each pattern).

    >>> x = np.ones(10, dtype=np.int8)
    >>> int((corrupt(x, 0.3, rng=0) == -1).sum())
    3
    """
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"corrupt: fraction must be in [0, 1], got {fraction!r}")
    rng = np.random.default_rng(rng)
    x = np.array(patterns, copy=True)
    flat = x.reshape(-1, x.shape[-1])
    n_flip = int(round(fraction * flat.shape[1]))
    for row in flat:  # one draw without replacement per pattern (P is small)
        idx = rng.choice(flat.shape[1], size=n_flip, replace=False)
        row[idx] = -row[idx]
    return x


@dataclass
class RecallResult:
    """What ``Hopfield.recall`` returns.

    Attributes
    ----------
    state : (N,) or (B, N) int8, the final state(s)
    steps : int, sweeps (asynchronous: every unit updated once; synchronous: one parallel
        update) run before the stop; a cue that is already a fixed point takes 1 sweep
    converged : bool or (B,) bool, whether the state is a fixed point (a sweep changed
        nothing); False after ``max_steps`` sweeps or a synchronous 2-cycle
    energies : (steps + 1,) or (steps + 1, B) float64, the energy of the cue and after each
        sweep
    trace : (steps * N + 1,) or (steps * N + 1, B) float64 or None, the energy after every
        single unit update (asynchronous recall with ``trace=True`` only)
    """

    state: np.ndarray
    steps: int
    converged: object
    energies: np.ndarray
    trace: np.ndarray | None = None


class Hopfield:
    """A Hopfield network of ``n_units`` bipolar units.

    Parameters
    ----------
    n_units : int, the number of units N (pixels of an image, bits of a pattern)
    rule : "hebbian" (default) or "pseudo-inverse", how ``store`` sets the weights
    theta : float or (N,) array, default 0; the thresholds in the energy and update rule

    Attributes
    ----------
    weights : (N, N) float64, symmetric with a zero diagonal
    patterns : (P, N) int8, the stored patterns (bipolar)

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> patterns = np.where(rng.random((3, 64)) < 0.5, -1, 1)
    >>> net = Hopfield(64).store(patterns)
    >>> cue = corrupt(patterns[0], 0.15, rng=1)          # 10 of 64 units flipped
    >>> result = net.recall(cue, rng=0)
    >>> bool((result.state == patterns[0]).all()), result.converged
    (True, True)
    >>> bool(net.energy(result.state) < net.energy(cue))
    True
    """

    RULES = ("hebbian", "pseudo-inverse")

    def __init__(self, n_units, rule="hebbian", theta=0.0):
        if not isinstance(n_units, (int, np.integer)) or isinstance(n_units, bool) or n_units < 1:
            raise ValueError(f"Hopfield: n_units must be a positive integer, got {n_units!r}")
        if rule not in self.RULES:
            raise ValueError(f"Hopfield: rule must be one of {self.RULES}, got {rule!r}")
        self.n_units = int(n_units)
        self.rule = rule
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape not in ((), (self.n_units,)):
            raise ValueError(f"Hopfield(n_units={n_units}): theta must be a number or of shape "
                             f"({n_units},), got shape {theta.shape}")
        self.theta = np.broadcast_to(theta, (self.n_units,)).copy()
        self.weights = np.zeros((self.n_units, self.n_units))
        self.patterns = np.zeros((0, self.n_units), dtype=np.int8)

    # ------------------------------------------------------------------ checks
    def _states(self, x, what):
        """``x`` as an int8 array (N,) or (B, N) of +-1, with an error naming ``what``."""
        a = np.asarray(x)
        if a.ndim not in (1, 2) or a.shape[-1] != self.n_units:
            raise ValueError(f"Hopfield(n_units={self.n_units}).{what}: expected shape "
                             f"({self.n_units},) or (B, {self.n_units}), got {a.shape}")
        if a.size and not np.isin(a, (-1, 1)).all():
            bad = np.unique(a[~np.isin(a, (-1, 1))])[:5]
            raise ValueError(f"Hopfield.{what}: states must be bipolar (+1/-1), found values "
                             f"{bad.tolist()}; convert images or 0/1 bits with to_bipolar()")
        return a.astype(np.int8)

    # ----------------------------------------------------------------- storage
    def store(self, patterns):
        """Store ``patterns`` (P, N) or (N,) of +-1 with ``self.rule``, replacing the
        weights; patterns stored earlier are kept and stored again with the new ones.
        Returns ``self``."""
        new = self._states(patterns, "store").reshape(-1, self.n_units)
        X = np.concatenate([self.patterns, new]).astype(np.float64)
        if self.rule == "hebbian":
            W = X.T @ X / self.n_units
        else:
            # projection on the patterns' span; pinv also copes with dependent patterns
            W = np.linalg.pinv(X) @ X
            W = (W + W.T) / 2  # symmetric up to rounding; make it exactly so
        np.fill_diagonal(W, 0.0)
        self.weights = W
        self.patterns = X.astype(np.int8)
        return self

    # ------------------------------------------------------------------ energy
    def energy(self, state):
        """``E(s) = -1/2 s^T W s + theta^T s`` of a state (N,) -> float, or of a batch
        (B, N) -> (B,) float64."""
        s = self._states(state, "energy").astype(np.float64)
        e = -0.5 * np.einsum("...i,ij,...j->...", s, self.weights, s) + s @ self.theta
        return float(e) if s.ndim == 1 else e

    def local_fields(self, state):
        """``h - theta = W s - theta``: the input of every unit, (N,) or (B, N)."""
        s = self._states(state, "local_fields").astype(np.float64)
        return s @ self.weights - self.theta  # W is symmetric: s W = (W s)^T

    def is_fixed_point(self, state):
        """Whether no unit of ``state`` would change (bool, or (B,) bool for a batch)."""
        s = self._states(state, "is_fixed_point")
        h = self.local_fields(s)
        stable = ((h > 0) & (s == 1)) | ((h < 0) & (s == -1)) | (h == 0)
        return bool(stable.all()) if s.ndim == 1 else stable.all(axis=1)

    # ------------------------------------------------------------------ recall
    def recall(self, cue, max_steps=100, mode="async", rng=None, trace=False):
        """Run the network from ``cue`` until a fixed point or ``max_steps`` sweeps.

        Parameters
        ----------
        cue : (N,) or (B, N) of +-1; a batch recalls B cues at once (the same random
            unit order is used for all of them in a sweep)
        max_steps : int, default 100; the most sweeps
        mode : "async" (default): each sweep updates the units one at a time in a fresh
            random order (seeded by ``rng``); "sync": all units at once from the previous
            state (may oscillate between two states; reported as not converged)
        rng : None, int or numpy Generator, the source of the random unit orders
        trace : bool, default False; with "async", also record the energy after every
            single unit update (``RecallResult.trace``)

        Returns
        -------
        RecallResult (state, steps, converged, energies, trace)
        """
        if mode not in ("async", "sync"):
            raise ValueError(f"Hopfield.recall: mode must be 'async' or 'sync', got {mode!r}")
        if not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
            raise ValueError(f"Hopfield.recall: max_steps must be a positive integer, "
                             f"got {max_steps!r}")
        if trace and mode != "async":
            raise ValueError("Hopfield.recall: trace=True records single unit updates, "
                             "which only mode='async' makes")
        single = np.ndim(cue) == 1
        s = self._states(cue, "recall").reshape(-1, self.n_units).astype(np.float64)
        rng = np.random.default_rng(rng)
        W, theta = self.weights, self.theta
        energy = -0.5 * np.einsum("bi,ij,bj->b", s, W, s) + s @ theta
        energies, updates = [energy.copy()], [energy.copy()] if trace else None
        active = np.ones(len(s), dtype=bool)  # cues not yet at a fixed point
        previous = None
        steps = 0
        for steps in range(1, max_steps + 1):
            if mode == "async":
                changed = np.zeros(len(s), dtype=bool)
                for i in rng.permutation(self.n_units):
                    field = s @ W[i] - theta[i]  # row i = column i (W is symmetric)
                    new = np.where(field > 0, 1.0, np.where(field < 0, -1.0, s[:, i]))
                    delta = new - s[:, i]
                    if delta.any():
                        changed |= delta != 0
                        energy -= delta * field  # dE = -(s_i' - s_i)(h_i - theta_i)
                        s[:, i] = new
                    if trace:
                        updates.append(energy.copy())
            else:
                field = s @ W - theta
                new = np.where(field > 0, 1.0, np.where(field < 0, -1.0, s))
                changed = (new != s).any(axis=1)
                cycling = np.zeros(len(s), dtype=bool) if previous is None \
                    else (new == previous).all(axis=1) & changed
                previous, s = s, new
                energy = -0.5 * np.einsum("bi,ij,bj->b", s, W, s) + s @ theta
                if changed.any() and (cycling | ~changed).all():
                    energies.append(energy.copy())  # every moving cue is in a 2-cycle
                    active = changed
                    break
            energies.append(energy.copy())
            active = changed
            if not active.any():
                break
        converged = ~active
        state = s.astype(np.int8)
        energies = np.array(energies)
        tr = np.array(updates) if trace else None
        if single:
            state, converged = state[0], bool(converged[0])
            energies = energies[:, 0]
            tr = tr[:, 0] if trace else None
        return RecallResult(state, steps, converged, energies, tr)

    def __repr__(self):
        return (f"Hopfield(n_units={self.n_units}, rule={self.rule!r}, "
                f"patterns={len(self.patterns)})")


def capacity_curve(n_units=100, pattern_counts=None, n_trials=10, flip_fraction=0.1,
                   rule="hebbian", min_overlap=0.95, max_steps=50, rng=0):
    """Measure how well a Hopfield network recalls random patterns as more are stored.

    For each count ``P`` and each of ``n_trials`` trials: store ``P`` random +-1 patterns
    (each unit +1 with probability 1/2) in a fresh network of ``n_units`` units, cue it
    with every pattern with ``flip_fraction`` of its units flipped, and recall
    asynchronously. A pattern counts as recalled when the final state's overlap
    ``m = (1/N) sum_i s_i x_i`` is at least ``min_overlap`` (the retrieval states of the
    theory keep a few wrong bits); ``exact_rate`` counts perfect recalls only.

    Parameters
    ----------
    n_units : int, N
    pattern_counts : sequence of int, default ``1 .. round(0.3 N)`` in about 15 steps
    n_trials : int, independent trials per count
    flip_fraction : float, the share of units flipped in each cue (0: start from the
        pattern itself, which measures stability)
    rule : "hebbian" or "pseudo-inverse"
    min_overlap : float in (0, 1]
    max_steps : int, sweeps per recall
    rng : None, int or Generator

    Returns
    -------
    dict with ``counts`` (K,) int, ``load`` (K,) = counts / N, ``recall_rate`` (K,),
    ``exact_rate`` (K,), ``mean_overlap`` (K,)

    >>> curve = capacity_curve(50, [2, 25], n_trials=2, rng=0)
    >>> [round(float(r), 2) for r in curve["recall_rate"]]   # 2 patterns fine, 25 not
    [1.0, 0.0]
    """
    if pattern_counts is None:
        top = max(2, round(0.3 * n_units))
        pattern_counts = np.unique(np.linspace(1, top, 15).round().astype(int))
    counts = np.asarray(pattern_counts, dtype=int)
    if counts.ndim != 1 or (counts < 1).any():
        raise ValueError(f"capacity_curve: pattern_counts must be positive integers, "
                         f"got {pattern_counts!r}")
    rng = np.random.default_rng(rng)
    recall, exact, overlap = [], [], []
    for p in counts:
        hits = perfect = 0
        total_overlap = 0.0
        for _ in range(n_trials):
            X = np.where(rng.random((p, n_units)) < 0.5, -1, 1).astype(np.int8)
            net = Hopfield(n_units, rule=rule).store(X)
            cue = corrupt(X, flip_fraction, rng=rng) if flip_fraction > 0 else X
            final = net.recall(cue, max_steps=max_steps, rng=rng).state
            m = (final.astype(np.float64) * X).mean(axis=1)
            hits += int((m >= min_overlap).sum())
            perfect += int((final == X).all(axis=1).sum())
            total_overlap += float(m.sum())
        recall.append(hits / (p * n_trials))
        exact.append(perfect / (p * n_trials))
        overlap.append(total_overlap / (p * n_trials))
    return dict(counts=counts, load=counts / n_units, recall_rate=np.array(recall),
                exact_rate=np.array(exact), mean_overlap=np.array(overlap))
