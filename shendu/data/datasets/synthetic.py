"""Small synthetic 2-D classification problems, made with NumPy only.

Each returns ``(X, y)``: ``X`` float32 of shape ``(N, 2)`` and ``y`` int64 class labels
of shape ``(N,)``. ``seed`` may be an int, a ``numpy.random.Generator`` or ``None``
(shendu's global generator: ``shendu.manual_seed`` repeats the data).

>>> from shendu.datasets import xor, spiral, moons, circles
>>> xor()[1]
array([0, 1, 1, 0])
>>> X, y = spiral(100, n_classes=3, seed=0); X.shape, y.shape
((300, 2), (300,))
"""
from __future__ import annotations

import numbers

import numpy as np

from ..dataset import as_generator

__all__ = ["xor", "spiral", "moons", "circles"]


def _count(n, name, who, minimum=1):
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{who}: {name} must be an int >= {minimum}, got {n!r}")
    return int(n)


def _noise(noise, who):
    if not isinstance(noise, numbers.Real) or noise < 0:
        raise ValueError(f"{who}: noise must be a number >= 0 (the std of Gaussian noise), "
                         f"got {noise!r}")
    return float(noise)


def xor(n=4, noise=0.0, seed=None, dtype=np.float32):
    """The XOR problem: inputs in {0, 1}^2, label ``x1 XOR x2``.

    With the defaults, the four points of the truth table in order
    ``(0,0)->0, (0,1)->1, (1,0)->1, (1,1)->0`` (the course's perceptron/MLP example).
    With ``n > 4`` the four corners repeat (point ``i`` is corner ``i % 4``) and
    Gaussian noise of std ``noise`` is added to the inputs.

    Returns
    -------
    X : (n, 2) ``dtype``;  y : (n,) int64

    >>> X, y = xor(8, noise=0.1, seed=0); X.shape, y.tolist()
    ((8, 2), [0, 1, 1, 0, 0, 1, 1, 0])
    """
    n = _count(n, "n", "xor")
    noise = _noise(noise, "xor")
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    which = np.arange(n) % 4
    X = corners[which]
    if noise:
        X = X + as_generator(seed).normal(0.0, noise, size=X.shape)
    y = np.array([0, 1, 1, 0], dtype=np.int64)[which]
    return X.astype(dtype), y


def spiral(n_per_class=100, n_classes=3, noise=0.2, seed=None, dtype=np.float32):
    """The CS231n spiral: ``n_classes`` arms winding out from the origin.

    Class ``j`` has radii ``r = linspace(0, 1, n_per_class)`` and angles
    ``t = linspace(4j, 4(j+1), n_per_class) + noise * N(0, 1)``; a point is
    ``(r sin t, r cos t)``. Samples are ordered by class.

    Returns
    -------
    X : (n_per_class * n_classes, 2) ``dtype``;  y : (n_per_class * n_classes,) int64

    >>> X, y = spiral(50, n_classes=2, seed=1); X.shape, int(y.max())
    ((100, 2), 1)
    """
    n = _count(n_per_class, "n_per_class", "spiral")
    k = _count(n_classes, "n_classes", "spiral")
    noise = _noise(noise, "spiral")
    r = np.tile(np.linspace(0.0, 1.0, n), k)
    y = np.repeat(np.arange(k, dtype=np.int64), n)
    t = (np.linspace(0.0, 4.0, n)[None, :] + 4.0 * np.arange(k)[:, None]).reshape(-1)
    t = t + as_generator(seed).standard_normal(n * k) * noise
    X = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
    return X.astype(dtype), y


def _shuffle(X, y, rng):
    perm = rng.permutation(len(y))
    return X[perm], y[perm]


def moons(n=100, noise=0.0, seed=None, shuffle=True, dtype=np.float32):
    """Two interleaving half circles (scikit-learn's ``make_moons``).

    The outer moon (class 0, ``n // 2`` points) is ``(cos a, sin a)`` for ``a`` in
    ``[0, pi]``; the inner one (class 1) is ``(1 - cos a, 1 - sin a - 0.5)``. Gaussian
    noise of std ``noise`` is added; samples are shuffled unless ``shuffle=False``.

    Returns
    -------
    X : (n, 2) ``dtype``;  y : (n,) int64

    >>> X, y = moons(10, noise=0.05, seed=0); X.shape, int(y.sum())
    ((10, 2), 5)
    """
    n = _count(n, "n", "moons", minimum=2)
    noise = _noise(noise, "moons")
    rng = as_generator(seed)
    n_out = n // 2
    n_in = n - n_out
    a_out, a_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.concatenate([np.stack([np.cos(a_out), np.sin(a_out)], 1),
                        np.stack([1 - np.cos(a_in), 1 - np.sin(a_in) - 0.5], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if shuffle:
        X, y = _shuffle(X, y, rng)
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X.astype(dtype), y


def circles(n=100, noise=0.0, factor=0.8, seed=None, shuffle=True, dtype=np.float32):
    """A small circle inside a large one (scikit-learn's ``make_circles``).

    Class 0: ``n // 2`` points on the unit circle; class 1: the rest on a circle of
    radius ``factor``. Gaussian noise of std ``noise`` is added; samples are shuffled
    unless ``shuffle=False``.

    Returns
    -------
    X : (n, 2) ``dtype``;  y : (n,) int64

    >>> X, y = circles(8, factor=0.5, shuffle=False); float(abs(X[-1]).max()) <= 0.5
    True
    """
    n = _count(n, "n", "circles", minimum=2)
    noise = _noise(noise, "circles")
    if not isinstance(factor, numbers.Real) or not 0 <= factor < 1:
        raise ValueError(f"circles: factor (inner radius / outer radius) must lie in [0, 1), "
                         f"got {factor!r}")
    rng = as_generator(seed)
    n_out = n // 2
    n_in = n - n_out
    a_out = np.linspace(0, 2 * np.pi, n_out, endpoint=False)
    a_in = np.linspace(0, 2 * np.pi, n_in, endpoint=False)
    X = np.concatenate([np.stack([np.cos(a_out), np.sin(a_out)], 1),
                        factor * np.stack([np.cos(a_in), np.sin(a_in)], 1)])
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if shuffle:
        X, y = _shuffle(X, y, rng)
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return X.astype(dtype), y
