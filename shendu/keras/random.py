"""``keras.random``: random tensors with Keras 3's ``seed`` argument.

``seed`` is an int (the same numbers on every call, as Keras), a ``SeedGenerator``
(new numbers on every call, the sequence fixed by the generator's seed), or None
(shendu's global generator, so ``shendu.manual_seed`` repeats a run).

>>> from shendu.keras import random
>>> gen = random.SeedGenerator(42)
>>> a = random.normal((2,), seed=gen); b = random.normal((2,), seed=gen)
>>> bool((a == b).all()), bool((random.normal((2,), seed=1) == random.normal((2,), seed=1)).all())
(False, True)
"""
from __future__ import annotations

import numpy as np

from .. import backend as _backend
from ..autograd.tensor import Tensor

__all__ = ["SeedGenerator", "normal", "uniform", "randint", "truncated_normal", "dropout",
           "shuffle", "categorical", "gamma", "beta", "binomial"]


class SeedGenerator:
    """A seed that advances on each use: ``normal(shape, seed=gen)`` twice gives two
    different draws, and a new ``SeedGenerator(seed)`` with the same seed repeats them."""

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is None:
            seed = int(_backend.default_generator().integers(0, 2 ** 31 - 1))
        if not isinstance(seed, (int, np.integer)):
            raise TypeError(f"SeedGenerator(seed=...) takes an int, got {type(seed).__name__}")
        self.seed = int(seed)
        self.name = name or "seed_generator"
        self._counter = 0

    def next(self):
        """A NumPy Generator for the next draw (and advance the state)."""
        rng = np.random.default_rng([self.seed, self._counter])
        self._counter += 1
        return rng

    @property
    def state(self):
        return Tensor._make(np.array([self.seed, self._counter], dtype=np.int64))

    def get_config(self):
        return {"seed": self.seed, "name": self.name}


def _rng(seed):
    if seed is None:
        return _backend.default_generator()
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if isinstance(seed, (int, np.integer)):
        return np.random.default_rng(int(seed))
    raise TypeError(f"keras.random: seed must be an int, a keras.random.SeedGenerator or None, "
                    f"got {type(seed).__name__}")


def _shape(shape):
    return (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)


def _float(dtype):
    return np.dtype(dtype) if dtype is not None else np.dtype(_backend.get_default_dtype())


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(mean, stddev^2)."""
    out = _rng(seed).normal(mean, stddev, _shape(shape))
    return Tensor._make(out.astype(_float(dtype)))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of U[minval, maxval)."""
    out = _rng(seed).uniform(minval, maxval, _shape(shape))
    return Tensor._make(out.astype(_float(dtype)))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers in [minval, maxval)."""
    return Tensor._make(_rng(seed).integers(minval, maxval, _shape(shape)).astype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """N(mean, stddev^2) samples, redrawn until within 2 standard deviations."""
    rng = _rng(seed)
    shape = _shape(shape)
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return Tensor._make((out * stddev + mean).astype(_float(dtype)))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """``inputs`` with entries zeroed with probability ``rate``, the rest scaled by
    1 / (1 - rate) (differentiable in ``inputs``)."""
    if not 0 <= rate < 1:
        raise ValueError(f"keras.random.dropout: rate must be in [0, 1), got {rate}")
    x = inputs if isinstance(inputs, Tensor) else Tensor._make(np.asarray(inputs))
    shape = x.shape if noise_shape is None else tuple(
        x.shape[i] if s is None else int(s) for i, s in enumerate(noise_shape))
    keep = (_rng(seed).random(shape) >= rate).astype(x.dtype) / (1.0 - rate)
    return x * Tensor._make(keep)


def shuffle(x, axis=0, seed=None):
    """``x`` with its slices along ``axis`` in a random order."""
    from .. import ops
    x = x if isinstance(x, Tensor) else Tensor._make(np.asarray(x))
    perm = _rng(seed).permutation(x.shape[axis])
    return ops.index_select(x, axis, Tensor._make(perm))


def categorical(logits, num_samples, dtype="int32", seed=None):
    """``num_samples`` class indices per row of ``logits`` ``(batch, classes)``."""
    z = np.asarray((logits.detach().__array__() if isinstance(logits, Tensor) else
                    np.asarray(logits)), dtype=np.float64)
    p = np.exp(z - z.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    rng = _rng(seed)
    u = rng.random((z.shape[0], int(num_samples)))
    out = (u[..., None] > np.cumsum(p, axis=-1)[:, None, :]).sum(axis=-1)
    return Tensor._make(np.minimum(out, z.shape[-1] - 1).astype(dtype))


def gamma(shape, alpha, dtype=None, seed=None):
    return Tensor._make(_rng(seed).gamma(alpha, 1.0, _shape(shape)).astype(_float(dtype)))


def beta(shape, alpha, beta, dtype=None, seed=None):
    return Tensor._make(_rng(seed).beta(alpha, beta, _shape(shape)).astype(_float(dtype)))


def binomial(shape, counts, probabilities, dtype=None, seed=None):
    return Tensor._make(_rng(seed).binomial(counts, probabilities,
                                            _shape(shape)).astype(_float(dtype)))
