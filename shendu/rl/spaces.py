"""Action and observation spaces with Gymnasium's names and behaviour.

``Discrete(n)`` is the integers ``start .. start + n - 1``; ``Box(low, high, shape)`` is a
box of real (or integer) arrays. Each space samples from its own seeded generator, so
``space.seed(0)`` makes ``space.sample()`` repeatable, as in Gymnasium.

>>> from shendu.rl.spaces import Discrete, Box
>>> a = Discrete(4, seed=0)
>>> a.contains(3), a.contains(4), a.n
(True, False, 4)
>>> Box(-1.0, 1.0, shape=(2,)).shape
(2,)
"""
from __future__ import annotations

import numpy as np

__all__ = ["Space", "Discrete", "Box"]


class Space:
    """Base class: ``shape``, ``dtype``, ``sample()``, ``contains(x)``, ``seed(s)``."""

    def __init__(self, shape=None, dtype=None, seed=None):
        self.shape = None if shape is None else tuple(int(s) for s in shape)
        self.dtype = None if dtype is None else np.dtype(dtype)
        self.np_random = np.random.default_rng(seed)

    def seed(self, seed=None):
        """Reseed the space's generator; returns ``[seed]`` like Gymnasium."""
        self.np_random = np.random.default_rng(seed)
        return [seed]

    def sample(self, mask=None):  # pragma: no cover - abstract
        raise NotImplementedError

    def contains(self, x) -> bool:  # pragma: no cover - abstract
        raise NotImplementedError

    def __contains__(self, x):
        return self.contains(x)


class Discrete(Space):
    """The integers ``start, ..., start + n - 1`` (an action index, a grid cell).

    ``sample(mask)`` takes an optional int8 mask of length ``n`` (1 = allowed), which is how
    board games hand out only the legal moves.
    """

    def __init__(self, n, seed=None, start=0):
        if int(n) != n or n <= 0:
            raise ValueError(f"Discrete: n must be a positive integer, got {n!r}")
        super().__init__((), np.int64, seed)
        self.n = int(n)
        self.start = int(start)

    def sample(self, mask=None):
        if mask is None:
            return np.int64(self.start + self.np_random.integers(self.n))
        mask = np.asarray(mask)
        if mask.shape != (self.n,):
            raise ValueError(f"Discrete.sample: mask must have shape ({self.n},), got {mask.shape}")
        allowed = np.flatnonzero(mask)
        if allowed.size == 0:
            return np.int64(self.start)  # Gymnasium's rule for an all-zero mask
        return np.int64(self.start + self.np_random.choice(allowed))

    def contains(self, x):
        if isinstance(x, (bool, np.bool_)):
            return False
        if isinstance(x, (int, np.integer)):
            v = int(x)
        elif isinstance(x, np.ndarray) and x.shape == () and np.issubdtype(x.dtype, np.integer):
            v = int(x)
        else:
            return False
        return self.start <= v < self.start + self.n

    def __repr__(self):
        return f"Discrete({self.n})" if self.start == 0 else f"Discrete({self.n}, start={self.start})"

    def __eq__(self, other):
        return isinstance(other, Discrete) and (self.n, self.start) == (other.n, other.start)


class Box(Space):
    """Arrays of ``shape`` with ``low <= x <= high`` elementwise (bounds may be +-inf).

    ``low`` and ``high`` are scalars or arrays of ``shape``; ``sample()`` draws uniformly in
    bounded dimensions and from a normal / exponential in unbounded ones (Gymnasium's rule).
    """

    def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
        dtype = np.dtype(dtype)
        if shape is None:
            shape = np.broadcast(np.asarray(low), np.asarray(high)).shape
        super().__init__(shape, dtype, seed)
        self.low = np.broadcast_to(np.asarray(low, dtype=dtype), self.shape).copy()
        self.high = np.broadcast_to(np.asarray(high, dtype=dtype), self.shape).copy()
        if np.any(self.low > self.high):
            raise ValueError("Box: low must be <= high in every dimension")

    def sample(self, mask=None):
        if mask is not None:
            raise ValueError("Box.sample: masks are not supported for Box spaces")
        low = self.low.astype(np.float64)
        high = self.high.astype(np.float64)
        out = np.empty(self.shape)
        lo_f, hi_f = np.isfinite(low), np.isfinite(high)
        both, none = lo_f & hi_f, ~lo_f & ~hi_f
        out[both] = self.np_random.uniform(low[both], high[both])
        out[none] = self.np_random.normal(size=none.sum())
        only_lo, only_hi = lo_f & ~hi_f, ~lo_f & hi_f
        out[only_lo] = low[only_lo] + self.np_random.exponential(size=only_lo.sum())
        out[only_hi] = high[only_hi] - self.np_random.exponential(size=only_hi.sum())
        if np.issubdtype(self.dtype, np.integer):
            out = np.floor(out)
        return out.astype(self.dtype)

    def contains(self, x):
        x = np.asarray(x)
        if x.shape != self.shape:
            return False
        if not np.can_cast(x.dtype, self.dtype, casting="same_kind"):
            return False
        return bool(np.all(x >= self.low) and np.all(x <= self.high))

    def __repr__(self):
        lo = self.low.min() if self.low.size else 0
        hi = self.high.max() if self.high.size else 0
        return f"Box({lo}, {hi}, {self.shape}, {self.dtype})"

    def __eq__(self, other):
        return (isinstance(other, Box) and self.shape == other.shape and self.dtype == other.dtype
                and np.array_equal(self.low, other.low) and np.array_equal(self.high, other.high))
