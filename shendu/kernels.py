"""Compiled kernels (optional, with numba): softmax rows NumPy cannot fuse, and a faster exp.

Why. ``softmax`` along the last axis is five NumPy passes over every row (max,
subtract, exp, sum, divide) and its gradient three or four; each pass is a separate
C loop with its own temporaries. PyTorch runs one fused loop per row. Cache-blocking
(:func:`shendu.parallel.rowwise`) keeps the passes out of main memory, but softmax of a
(4096, 1000) float32 array forward and backward still costs ~2.5x PyTorch's time. A
compiled loop that does all passes on a row while it sits in the cache closes that gap
(~1x, benchmarks/ops.py).

NumPy's float32 ``exp`` and ``tanh`` take 2-6 ns an element on CPUs without AVX-512
(PyTorch's ~1 ns); the kernels' own SIMD exp (range reduction and a polynomial) about 1 ns,
and at least as accurate (within 1.5 units in the last place).

What. With numba installed (``pip install "shendu[jit]"``), ``softmax``, ``log_softmax``
and their gradients along the last axis, and ``exp``, ``tanh`` and tanh's gradient, on big
(>= ``MIN_ELEMENTS``) C-contiguous float32 NumPy arrays run the kernels of
:mod:`shendu._jit_kernels`, split over the threads of :mod:`shendu.parallel`. Everything
else -- no numba, ``SHENDU_JIT=0``, float64 (gradient checks), CuPy arrays, small arrays
-- runs the NumPy code, which stays the reference: the kernels agree with it to a few
units in the last place (tests/test_kernels.py), and give the same inf/NaN results.

The first call compiles the kernels (a few seconds); numba caches them on disk, so
later processes load them in milliseconds.

>>> from shendu import kernels
>>> kernels.enabled() in (True, False)
True
>>> with kernels.disabled():
...     kernels.enabled()
False
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import warnings

import numpy as np

from . import parallel

__all__ = ["available", "enabled", "set_enabled", "disabled", "accepts", "exp", "tanh",
           "tanh_grad", "softmax", "softmax_grad", "log_softmax", "log_softmax_grad",
           "MIN_ELEMENTS"]

MIN_ELEMENTS = 32 * 1024  # below this, calling into a kernel costs more than it saves

_available = importlib.util.find_spec("numba") is not None
_enabled = _available and os.environ.get("SHENDU_JIT", "1").strip() != "0"
_compiled = None


def available():
    """Whether numba is installed, so the kernels can be used."""
    return _available


def enabled():
    """Whether the kernels are used (numba installed, not switched off)."""
    return _enabled


def set_enabled(flag):
    """Use the kernels (True, needs numba) or the NumPy code only (False).
    ``SHENDU_JIT=0`` in the environment switches them off from the start."""
    global _enabled
    if flag and not _available:
        raise ImportError('shendu.kernels needs numba: pip install "shendu[jit]" '
                          "(or pip install numba)")
    _enabled = bool(flag)


@contextlib.contextmanager
def disabled():
    """Run a block with the NumPy code only (to compare, or to time the difference)."""
    global _enabled
    old, _enabled = _enabled, False
    try:
        yield
    finally:
        _enabled = old


def accepts(*arrays):
    """Whether the kernels take these arrays: enabled, all float32 NumPy arrays of one
    shape, C-contiguous, with at least ``MIN_ELEMENTS`` elements and one axis or more."""
    first = arrays[0]
    return (_enabled and isinstance(first, np.ndarray) and first.ndim >= 1
            and first.size >= MIN_ELEMENTS and first.shape[-1] > 0
            and all(type(a) is np.ndarray and a.dtype == np.float32
                    and a.shape == first.shape and a.flags.c_contiguous for a in arrays)
            and _kernels() is not None)


def _kernels():
    """The compiled module, imported on first use. If numba is installed but cannot be
    imported (e.g. it does not support this NumPy), warn once and use the NumPy code."""
    global _compiled, _enabled, _available
    if _compiled is None:
        try:
            from . import _jit_kernels
        except Exception as e:  # noqa: BLE001 - any failure: fall back, never break an op
            warnings.warn(f"shendu.kernels: numba is installed but failed to load ({e}); "
                          "using the NumPy code", RuntimeWarning, stacklevel=3)
            _enabled = _available = False
            return None
        _compiled = _jit_kernels
    return _compiled


def _run(name, *arrays, out):
    """Run kernel ``name`` on the rows (along the last axis) of ``arrays`` into ``out``,
    in blocks of rows shared among the threads."""
    kernel = getattr(_kernels(), name)
    n = arrays[0].shape[-1]
    rows = [a.reshape(-1, n) for a in arrays]
    dest = out.reshape(-1, n)
    parallel.for_blocks(lambda s, e: kernel(*(r[s:e] for r in rows), dest[s:e]),
                        len(dest), unit=n)
    return out


def _elementwise(name, *arrays, out):
    """Run elementwise kernel ``name`` on the flattened arrays, in blocks shared among
    the threads."""
    kernel = getattr(_kernels(), name)
    flats = [a.reshape(-1) for a in arrays]
    dest = out.reshape(-1)
    parallel.for_blocks(lambda s, e: kernel(*(f[s:e] for f in flats), dest[s:e]), dest.size)
    return out


def exp(x, out):
    """``out = e^x`` elementwise (arrays that pass :func:`accepts`). NumPy's float32
    ``exp`` takes 2-6 ns an element on CPUs without AVX-512; this one about 1 ns."""
    return _elementwise("exp_flat", x, out=out)


def tanh(x, out):
    """``out = tanh x`` elementwise."""
    return _elementwise("tanh_flat", x, out=out)


def tanh_grad(g, y, out):
    """``out = g (1 - y^2)``, tanh's gradient from its output ``y``, in one pass."""
    return _elementwise("tanh_grad_flat", g, y, out=out)


def softmax(x, out):
    """``out = softmax(x)`` along the last axis (arrays that pass :func:`accepts`)."""
    return _run("softmax_rows", x, out=out)


def softmax_grad(g, y, out):
    """``out = y * (g - sum(g * y))`` along the last axis."""
    return _run("softmax_grad_rows", g, y, out=out)


def log_softmax(x, out):
    """``out = x - max - log(sum(e^(x - max)))`` along the last axis."""
    return _run("log_softmax_rows", x, out=out)


def log_softmax_grad(g, y, out):
    """``out = g - e^y * sum(g)`` along the last axis."""
    return _run("log_softmax_grad_rows", g, y, out=out)
