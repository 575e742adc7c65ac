"""Sampling and more creation functions under PyTorch's names: ``bernoulli``,
``multinomial``, ``poisson``, ``binomial``, ``randint_like``, ``logspace``, ``range``,
``scalar_tensor``, ``empty_strided``, ``asarray`` and the signal windows (``hann_window``,
``hamming_window``, ``blackman_window``, ``bartlett_window``, ``kaiser_window``).

Samples come from shendu's seeded generator (``shendu.manual_seed``), or from the
``generator=`` given (a ``shendu.Generator``); they are constants for autograd.

>>> import shendu
>>> _ = shendu.manual_seed(0)
>>> shendu.bernoulli(shendu.tensor([0.0, 1.0]))
tensor([0., 1.])
>>> shendu.hann_window(4, periodic=False)
tensor([0.0000, 0.7500, 0.7500, 0.0000])
"""
from __future__ import annotations

import builtins

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .creation import as_tensor, empty, tensor
from .elementwise import _tensor

__all__ = ["bernoulli", "multinomial", "poisson", "binomial", "randint_like", "logspace",
           "range", "scalar_tensor", "empty_strided", "empty_permuted", "asarray", "hann_window",
           "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def _rng(generator, xp=np):
    """The NumPy Generator to draw from: ``generator``'s own, else shendu's global one."""
    if generator is None:
        return backend.default_generator(xp)
    rng = getattr(generator, "numpy_generator", generator)
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"generator must be a shendu.Generator, got {type(generator).__name__}")
    return rng


def bernoulli(input, p=None, *, generator=None):
    """1 with probability ``p`` (``input`` holds the probabilities when ``p`` is None),
    else 0; same shape and dtype as ``input``."""
    x = _tensor(input, "bernoulli")
    probs = x._data if p is None else np.broadcast_to(p, x.shape)
    if (probs < 0).any() or (probs > 1).any():
        raise RuntimeError("bernoulli: probabilities must be in [0, 1]")
    u = _rng(generator, x.xp).random(x.shape)
    dtype = x.dtype if x.dtype.kind == "f" else backend.get_default_dtype()
    return Tensor._make(x.xp.asarray(u < probs).astype(dtype))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Draw ``num_samples`` category indices from each row of non-negative ``weights``
    (1-D: (num_samples,); 2-D: (rows, num_samples)); without replacement each index
    appears at most once per row.

    >>> _ = shendu.manual_seed(0)
    >>> shendu.multinomial(shendu.tensor([0.0, 0.0, 1.0]), 2, replacement=True)
    tensor([2, 2])
    """
    w = _tensor(input, "multinomial").__array__().astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: expected a 1-D or 2-D tensor, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all() or (rows.sum(1) <= 0).any():
        raise RuntimeError("multinomial: weights must be finite, non-negative and not all 0")
    rng = _rng(generator)
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for r, row in enumerate(rows):
        if not replacement and num_samples > np.count_nonzero(row):
            raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without "
                               f"replacement from {np.count_nonzero(row)} non-zero weights")
        out[r] = rng.choice(row.size, num_samples, replace=replacement, p=row / row.sum())
    return tensor(out.reshape(w.shape[:-1] + (num_samples,)))


def poisson(input, generator=None):
    """Samples from Poisson(rate) for each rate in ``input`` (same shape and dtype)."""
    x = _tensor(input, "poisson")
    return Tensor._make(x.xp.asarray(_rng(generator, x.xp).poisson(x._data)).astype(x.dtype))


def binomial(count, prob, generator=None):
    """Samples from Binomial(count, prob), elementwise (broadcasting)."""
    c, p = _tensor(count, "binomial"), _tensor(prob, "binomial")
    out = _rng(generator, c.xp).binomial(c._data.astype(np.int64), p._data)
    return Tensor._make(c.xp.asarray(out).astype(p.dtype))


def randint_like(input, low=0, high=None, *, dtype=None, device=None, generator=None):
    """Integers uniform in [low, high) with ``input``'s shape (``randint_like(x, 10)``
    means [0, 10))."""
    x = _tensor(input, "randint_like")
    if high is None:
        low, high = 0, low
    d = backend.to_dtype(dtype) if dtype is not None else x.dtype
    return Tensor(_rng(generator).integers(low, high, x.shape).astype(d), device=device or x.device)


def logspace(start, end, steps, base=10.0, *, dtype=None, device=None, requires_grad=False):
    """``steps`` points ``base ** t`` for t evenly spaced from ``start`` to ``end``."""
    a = np.logspace(start, end, steps, base=base)
    return tensor(a, dtype=dtype or backend.get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def range(start=0, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """Like ``arange`` but *including* ``end`` (deprecated in PyTorch; float by default)."""
    if end is None:
        start, end = 0, start
    n = int(np.floor((end - start) / step)) + 1
    a = start + step * np.arange(builtins.max(n, 0))
    return tensor(a, dtype=dtype or backend.get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def scalar_tensor(s, *, dtype=None, device=None, requires_grad=False):
    """A 0-d tensor holding ``s`` (the default float dtype unless given)."""
    return tensor(s, dtype=dtype or backend.get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def empty_strided(size, stride, *, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of ``size`` (shendu arrays are C-contiguous: ``stride`` is
    checked for being a valid layout, then the tensor is made contiguous)."""
    if len(tuple(size)) != len(tuple(stride)):
        raise RuntimeError(f"empty_strided: size {tuple(size)} and stride {tuple(stride)} "
                           "must have the same length")
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def empty_permuted(size, physical_layout, *, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of ``size``; ``physical_layout`` (a permutation of the
    dimensions: the memory order) is checked, the tensor itself is C-contiguous.

    >>> shendu.empty_permuted((2, 3, 4), (0, 2, 1)).shape
    (2, 3, 4)
    """
    if sorted(physical_layout) != list(builtins.range(len(tuple(size)))):
        raise RuntimeError(f"empty_permuted: physical_layout {tuple(physical_layout)} must be "
                           f"a permutation of the {len(tuple(size))} dimensions")
    return empty(tuple(size), dtype=dtype, device=device, requires_grad=requires_grad)


def asarray(obj, *, dtype=None, device=None, copy=None, requires_grad=False):
    """A tensor from ``obj``, sharing memory when it already is a tensor or array of the
    right dtype and device (``copy=True`` always copies).

    >>> a = np.zeros(2, dtype=np.float32)
    >>> t = shendu.asarray(a); a[0] = 5.0; t
    tensor([5., 0.])
    """
    same_array = (isinstance(obj, np.ndarray) and not copy
                  and (dtype is None or backend.to_dtype(dtype) == obj.dtype)
                  and (device is None or backend.Device(device).type == "cpu"))
    if same_array:
        out = Tensor._make(obj)
    elif copy:
        out = tensor(obj, dtype=dtype, device=device)
    else:
        out = as_tensor(obj, dtype, device)
    return out.requires_grad_(True) if requires_grad else out


def _window(name, n, periodic, f, dtype, device, requires_grad):
    if n < 0:
        raise RuntimeError(f"{name}: window_length must be non-negative, got {n}")
    if n <= 1:
        return tensor(np.ones(n), dtype=dtype or backend.get_default_dtype(), device=device)
    m = n + 1 if periodic else n
    w = f(m)[:n]
    return tensor(w, dtype=dtype or backend.get_default_dtype(), device=device,
                  requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, device=None, requires_grad=False):
    """Hann window ``0.5 - 0.5 cos(2 pi k / (N - 1))`` (periodic: computed for N + 1)."""
    return _window("hann_window", window_length, periodic, np.hanning, dtype, device,
                   requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None,
                   device=None, requires_grad=False):
    """Hamming window ``alpha - beta cos(2 pi k / (N - 1))``."""
    f = lambda m: alpha - beta * np.cos(2 * np.pi * np.arange(m) / (m - 1))  # noqa: E731
    return _window("hamming_window", window_length, periodic, f, dtype, device, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    """Blackman window ``0.42 - 0.5 cos(2 pi k/(N-1)) + 0.08 cos(4 pi k/(N-1))``."""
    return _window("blackman_window", window_length, periodic, np.blackman, dtype, device,
                   requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, device=None,
                    requires_grad=False):
    """Bartlett (triangular) window ``1 - |2k/(N-1) - 1|``."""
    return _window("bartlett_window", window_length, periodic, np.bartlett, dtype, device,
                   requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, device=None,
                  requires_grad=False):
    """Kaiser window ``I0(beta sqrt(1 - (2k/(N-1) - 1)^2)) / I0(beta)``."""
    return _window("kaiser_window", window_length, periodic, lambda m: np.kaiser(m, beta),
                   dtype, device, requires_grad)
