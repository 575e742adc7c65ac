"""Creating tensors: ``tensor``, ``zeros``, ``ones``, ``arange``, ``randn``... (no graph).

Random functions draw from shendu's generator, so ``shendu.manual_seed(0)`` makes
them repeat exactly. ``dtype`` defaults to float32 (``set_default_dtype``) for
floating results and int64 for integer ones, as in PyTorch.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "arange",
           "linspace", "eye", "rand", "randn", "randint", "zeros_like", "ones_like",
           "full_like", "empty_like", "rand_like", "randn_like", "randperm", "normal"]


def tensor(data, dtype=None, requires_grad=False, device=None):
    """A new tensor holding a copy of ``data`` (a number, nested lists, an array).

    >>> shendu.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    tensor([[1., 2.],
            [3., 4.]], requires_grad=True)
    """
    return Tensor(data, dtype=dtype, requires_grad=requires_grad, device=device)


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but without a copy where none is needed (``torch.as_tensor``):
    ``data`` itself when it already is a matching Tensor, and a Tensor sharing memory
    with a NumPy array of the asked dtype (kept) on the CPU, as ``from_numpy``.

    >>> import numpy as np, shendu
    >>> a = np.zeros(3)
    >>> t = shendu.as_tensor(a)
    >>> a[0] = 5.0; t                                  # shares a's memory
    tensor([5., 0., 0.], dtype=shendu.float64)
    >>> shendu.as_tensor(a, dtype=shendu.float32)      # another dtype: a copy
    tensor([5., 0., 0.])
    """
    same_dtype = hasattr(data, "dtype") and (dtype is None
                                             or backend.to_dtype(dtype) == data.dtype)
    if isinstance(data, Tensor) and same_dtype \
            and (device is None or backend.Device(device) == data.device):
        return data
    if type(data) is np.ndarray and same_dtype and data.dtype.kind in "fiub" \
            and (device is None or backend.Device(device) == backend.Device("cpu")):
        return Tensor._make(data)
    return Tensor(data, dtype=dtype, device=device)


def from_numpy(array):
    """A tensor sharing memory with the NumPy array ``array`` (its dtype is kept)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy expects a numpy.ndarray, got {type(array).__name__}")
    return Tensor._make(array)


def _shape(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise ValueError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _make(array, requires_grad):
    t = Tensor._make(array)
    return t.requires_grad_(True) if requires_grad else t


def _xp(device):
    return backend.xp_for(backend.Device(device or "cpu"))


def zeros(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of zeros: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _make(_xp(device).zeros(_shape(size), backend.to_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    """A tensor of ones."""
    return _make(_xp(device).ones(_shape(size), backend.to_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """An uninitialized tensor (its values are whatever memory held)."""
    return _make(_xp(device).empty(_shape(size), backend.to_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    """A tensor of ``size`` filled with ``fill_value`` (dtype inferred from the value)."""
    if dtype is None:
        dtype = backend.bool_ if isinstance(fill_value, bool) else (
            backend.int64 if isinstance(fill_value, (int, np.integer)) else None)
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return _make(_xp(device).full(_shape(size), fill_value, backend.to_dtype(dtype)),
                 requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` up to (not including) ``end`` by ``step``; int64 when all
    arguments are integers, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        ints = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = backend.int64 if ints else backend.get_default_dtype()
    return _make(_xp(device).arange(start, end, step).astype(backend.to_dtype(dtype)),
                 requires_grad)


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    return _make(_xp(device).linspace(start, end, steps).astype(backend.to_dtype(dtype)),
                 requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    """The identity matrix (n x m)."""
    return _make(_xp(device).eye(n, m, dtype=backend.to_dtype(dtype)), requires_grad)


def _gen(device):
    return backend.default_generator(_xp(device))


def rand(*size, dtype=None, device=None, requires_grad=False):
    """Uniform samples in [0, 1)."""
    d = backend.to_dtype(dtype)
    return _make(_gen(device).random(_shape(size)).astype(d), requires_grad)


def randn(*size, dtype=None, device=None, requires_grad=False):
    """Standard normal samples, N(0, 1)."""
    d = backend.to_dtype(dtype)
    return _make(_gen(device).standard_normal(_shape(size)).astype(d), requires_grad)


def normal(mean, std, size, dtype=None, device=None, requires_grad=False):
    """Samples from N(mean, std^2) of shape ``size``."""
    d = backend.to_dtype(dtype)
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return _make(_gen(device).normal(mean, std, _shape(size)).astype(d), requires_grad)


def randint(low, high=None, size=(), dtype=None, device=None):
    """Integers uniform in [low, high) (int64): ``randint(10, (3,))`` or ``randint(0, 10, (3,))``."""
    if high is None:
        low, high = 0, low
    if isinstance(high, tuple) and size == ():
        low, high, size = 0, low, high
    size = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return Tensor._make(_gen(device).integers(low, high, _shape(size)).astype(
        backend.to_dtype(dtype or backend.int64)))


def randperm(n, dtype=None, device=None):
    """A random permutation of 0..n-1 (int64)."""
    return Tensor._make(_gen(device).permutation(n).astype(backend.to_dtype(dtype or backend.int64)))


def _like(x, dtype, device):
    return _shape(x.shape), dtype if dtype is not None else x.dtype, device or x.device


def zeros_like(x, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(x, dtype, device)
    return zeros(s, dtype=d, device=dev, requires_grad=requires_grad)


def ones_like(x, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(x, dtype, device)
    return ones(s, dtype=d, device=dev, requires_grad=requires_grad)


def empty_like(x, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(x, dtype, device)
    return empty(s, dtype=d, device=dev, requires_grad=requires_grad)


def full_like(x, fill_value, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(x, dtype, device)
    return full(s, fill_value, dtype=d, device=dev, requires_grad=requires_grad)


def rand_like(x, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(x, dtype, device)
    return rand(s, dtype=d, device=dev, requires_grad=requires_grad)


def randn_like(x, dtype=None, device=None, requires_grad=False):
    s, d, dev = _like(x, dtype, device)
    return randn(s, dtype=d, device=dev, requires_grad=requires_grad)
