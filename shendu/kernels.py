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
and their gradients along the last axis, 2-D max pooling (maxima and indices in one pass,
:func:`max_pool2d`), 2-D col2im (transposed convolutions and every convolution's input
gradient, :func:`col2im2d`), and ``exp``, ``tanh`` and tanh's gradient, on big
(>= ``MIN_ELEMENTS``) C-contiguous float32 NumPy arrays run the kernels of
:mod:`shendu._jit_kernels`, split over the threads of :mod:`shendu.parallel`. Everything
else -- no numba, ``SHENDU_JIT=0``, float64 (gradient checks), CuPy arrays, small arrays
-- runs the NumPy code, which stays the reference: the kernels agree with it to a few
units in the last place (tests/test_kernels.py), and give the same inf/NaN results.

Threads. NumPy runs each op on one thread; PyTorch splits a big op over its OpenMP
threads, which spin between ops and so start at once. :mod:`shendu.parallel` splits
NumPy ops over Python threads, but those sleep between ops, and waking one costs 40-200
us on a small VM: more than a memory-bound op on a million elements takes, so a 1M
``a * b`` gains nothing. So with two or more threads (:func:`shendu.parallel.get_num_threads`)
the kernels, and ``+ - * /``, negation, both gradients of a product, and autograd's
gradient sums (:func:`add` ... :func:`mul_grads`) on float32 arrays of a million elements
or more (``SPREAD_MIN_ELEMENTS``), run on numba's
threads (``prange``; :func:`spread` decides), if numba's threading layer spins (its
``omp`` or ``tbb`` layer, not ``workqueue``). Arithmetic gives exactly NumPy's bits,
on any number of threads. GNU OpenMP does not survive ``fork()``: a forked child
(a DataLoader worker) runs everything on one thread.

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
           "add", "sub", "mul", "div", "neg", "mul_grads", "spread", "max_pool2d",
           "max_pool2d_grad", "col2im2d", "MIN_ELEMENTS",
           "SPREAD_MIN_ELEMENTS"]

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


def _is_array(v):
    """A C-contiguous float32 NumPy array with one axis or more: what every kernel reads."""
    return (type(v) is np.ndarray and v.dtype == np.float32 and v.ndim >= 1
            and v.flags.c_contiguous)


def accepts(*arrays):
    """Whether the kernels take these arrays: enabled, all float32 NumPy arrays of one
    shape, C-contiguous, with at least ``MIN_ELEMENTS`` elements and one axis or more."""
    first = arrays[0]
    return (_enabled and _is_array(first) and first.size >= MIN_ELEMENTS
            and all(_is_array(a) and a.shape == first.shape for a in arrays)
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


# ------------------------------------------------------------------ threads
# Below a million elements (4 MB of float32), a second thread saves less than it costs to
# get one: waking a sleeping thread, or taking a core back from OpenBLAS's threads that
# spin after a matmul, costs 0.05-3 ms on a small VM. Measured (benchmarks/transformer.py,
# 2 threads): spreading ops from 64K elements made a training step 2.1x slower, from 512K
# 1.2x; from 1M it was as fast as one thread, and 1M-element chains gain ~1.5x.
SPREAD_MIN_ELEMENTS = 1_000_000
_spread_ok = None  # numba's threading layer spins between ops (OpenMP or TBB)
_numba = None      # the numba module, once the layer has been checked
_forked = False


def _after_fork_in_child():
    """GNU OpenMP does not survive fork(): a child (a DataLoader worker, say) must not
    start a parallel region its parent's runtime set up. It runs the kernels on one
    thread (or the pool of shendu.parallel) instead."""
    global _forked
    _forked = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _check_layer():
    """Start numba's threads once and keep ``prange`` kernels only if its layer spins
    (``omp``, ``tbb``): with ``workqueue`` every op would wait for threads to wake."""
    global _spread_ok, _numba
    if _kernels() is None:
        return False
    import numba
    _numba = numba
    try:
        _compiled.neg_a(np.zeros(1, np.float32), np.empty(1, np.float32))
        _spread_ok = numba.threading_layer() in ("omp", "tbb")
    except Exception:  # noqa: BLE001 - no threading layer loads: one thread it is
        _spread_ok = False
    return _spread_ok


def spread(size):
    """Whether an op on ``size`` elements runs on numba's threads: the kernels are on,
    more than one thread is allowed (:func:`shendu.parallel.get_num_threads`), the work
    is big enough, and numba's threads spin between ops (its ``omp`` or ``tbb`` layer).
    Call only after :func:`accepts` (or :func:`_operand`) said yes."""
    threads = parallel.get_num_threads()
    if threads < 2 or size < SPREAD_MIN_ELEMENTS or _forked or not _enabled:
        return False
    if not (_spread_ok if _spread_ok is not None else _check_layer()):
        return False
    threads = min(threads, _numba.config.NUMBA_NUM_THREADS)
    if _numba.get_num_threads() != threads:  # numba's count is per calling thread
        _numba.set_num_threads(threads)
    return True


# ------------------------------------------------------------------ arithmetic
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def _operand(v):
    """``("a", flat array)`` for a C-contiguous float32 NumPy array, ``("s", value)``
    for a number the op sees as one float32 value (a Python float or int, a float32
    scalar or 0-d array, a float32 array broadcast from one value), else None."""
    if type(v) is np.ndarray and v.dtype == np.float32:
        if _is_array(v):
            return "a", v.reshape(-1)
        if v.size and not any(v.strides):  # 0-d, or broadcast from one element
            return "s", v.flat[0]
        return None
    if type(v) in (float, int) and (abs(v) <= _FLOAT32_MAX or abs(v) == float("inf")):
        return "s", np.float32(v)  # (beyond float32's range NumPy warns: its code does it)
    if type(v) is np.float32:
        return "s", v
    return None


def _big(a, b=None):
    """The cheap first test (tiny tensors pay only this): kernels on, and a NumPy array
    of at least ``SPREAD_MIN_ELEMENTS`` among the operands."""
    return _enabled and ((type(a) is np.ndarray and a.size >= SPREAD_MIN_ELEMENTS)
                         or (type(b) is np.ndarray and b.size >= SPREAD_MIN_ELEMENTS))


def _binary(name, a, b):
    """``a (op) b`` for op ``name`` by a kernel on all threads, for float32 arrays of one
    shape or one array and a number; None if the kernels do not take them. The results
    are the same bits as NumPy's (one IEEE operation per element)."""
    x, y = _operand(a), _operand(b)
    if x is None or y is None or "a" not in (x[0], y[0]):
        return None
    arr, other = (a, b) if x[0] == "a" else (b, a)
    if getattr(other, "ndim", 0) and other.shape != arr.shape:  # arrays: one shape
        return None
    if not spread(arr.size):
        return None
    out = np.empty(arr.shape, np.float32)
    kind = "as" if y[0] == "s" else "sa" if x[0] == "s" else "aa"
    if kind == "sa" and name in ("add", "mul"):  # commutative: one kernel less
        kind, x, y = "as", y, x
    getattr(_compiled, f"{name}_{kind}")(x[1], y[1], out.reshape(-1))
    return out


def add(a, b):
    """``a + b``: on all threads for big float32 NumPy arrays (see :func:`_binary`)."""
    out = _binary("add", a, b) if _big(a, b) else None
    return a + b if out is None else out


def sub(a, b):
    """``a - b``"""
    out = _binary("sub", a, b) if _big(a, b) else None
    return a - b if out is None else out


def mul(a, b):
    """``a * b``"""
    out = _binary("mul", a, b) if _big(a, b) else None
    return a * b if out is None else out


def div(a, b):
    """``a / b``"""
    out = _binary("div", a, b) if _big(a, b) else None
    return a / b if out is None else out


def neg(a):
    """``-a``"""
    if _big(a) and _is_array(a) and spread(a.size):
        out = np.empty_like(a)
        _compiled.neg_a(a.reshape(-1), out.reshape(-1))
        return out
    return -a


def mul_grads(g, a, b):
    """``(g * b, g * a)``, both gradients of ``a * b``, reading ``g`` once when all three
    are big float32 arrays of one shape."""
    if _big(g) and all(_is_array(v) for v in (g, a, b)) \
            and g.shape == a.shape == b.shape and spread(g.size):
        ga, gb = np.empty_like(g), np.empty_like(g)
        _compiled.mul_grads(g.reshape(-1), a.reshape(-1), b.reshape(-1),
                            ga.reshape(-1), gb.reshape(-1))
        return ga, gb
    return mul(g, b), mul(g, a)


# ------------------------------------------------------------------ max pooling
def max_pool2d(x, geometry, out_hw):
    """2-D max pooling of ``x`` (..., H, W) (an array :func:`accepts` takes) in one pass:
    returns ``y`` (..., Ho, Wo) and ``idx``, the flat index of each window's first maximum
    in its (H, W) plane (int64, PyTorch's ``return_indices``). ``geometry`` is
    ``(kh, kw, sh, sw, ph, pw, dh, dw)``. NumPy needs kh * kw strided passes for ``y``
    and as many again for the gradient's masks."""
    H, W = x.shape[-2:]
    planes = x.reshape(-1, H, W)
    y = np.empty((len(planes),) + tuple(out_hw), np.float32)
    idx = np.empty(y.shape, np.int64)
    _here("max_pool2d_planes", planes, tuple(int(v) for v in geometry), y, idx)
    lead = x.shape[:-2]
    return y.reshape(lead + y.shape[1:]), idx.reshape(lead + y.shape[1:])


def max_pool2d_grad(g, idx, shape):
    """The gradient of :func:`max_pool2d`: zeros of ``shape`` (..., H, W) with ``g`` added
    at ``idx`` in each plane. None if ``g`` is not a float32 NumPy array (the caller
    scatters with NumPy)."""
    if not (_enabled and type(g) is np.ndarray and g.dtype == np.float32):
        return None
    H, W = shape[-2:]
    planes = np.ascontiguousarray(g).reshape((-1,) + g.shape[-2:])
    gx = np.zeros((len(planes), H * W), np.float32)
    _here("max_pool2d_grad_planes", planes, idx.reshape(planes.shape), gx)
    return gx.reshape(shape)


def col2im2d(cols, gx, stride, dilation):
    """col2im's adds in one compiled pass: ``gx[a, b, i*s0 + u*d0, j*s1 + v*d1] +=
    cols[a, b, u, v, i, j]`` for ``cols`` (A, B, kh, kw, oh, ow), C-contiguous or a view of
    a C-contiguous (A, kh, kw, B, oh, ow) array, into ``gx`` (A, B, H, W) (padded; an
    array :func:`accepts` takes). Returns False, having done nothing, for arrays the
    kernels do not take (float64, CuPy, small, other layouts): the caller's NumPy loop
    then runs."""
    if not (_enabled and type(cols) is np.ndarray and cols.dtype == np.float32
            and cols.ndim == 6 and cols.size >= MIN_ELEMENTS and _is_array(gx)
            and _kernels() is not None):
        return False
    if cols.flags.c_contiguous:
        name, src = "col2im2d", cols
    else:
        src = cols.transpose(0, 2, 3, 1, 4, 5)
        if not src.flags.c_contiguous:
            return False
        name = "col2im2d_kmajor"
    geometry = (int(stride[0]), int(stride[1]), int(dilation[0]), int(dilation[1]))
    _here(name, src, geometry, gx)
    return True


def _here(name, *args):
    """Run kernel ``name`` on the calling thread. The convolution-side kernels (pooling,
    col2im) sit between GEMMs whose OpenBLAS threads spin after each product; handing
    them to other threads then waits for a core (see shendu/ops/_im2col.py)."""
    getattr(_kernels(), name)(*args)


def _launch(name, *args, unit):
    """Run kernel ``name`` on ``args`` (arrays cut along their first axis, of ``unit``
    elements a slice; other arguments passed whole): its ``prange`` version on numba's
    threads when :func:`spread` says so, else the one-thread kernel on blocks of the first
    axis shared among the threads of :mod:`shendu.parallel`. The last argument is the
    output."""
    n = len(args[-1])
    if spread(n * unit):
        getattr(_compiled, "par_" + name)(*args)
        return
    kernel = getattr(_kernels(), name)
    parallel.for_blocks(lambda s, e: kernel(*(a[s:e] if isinstance(a, np.ndarray) else a
                                              for a in args)), n, unit=unit)


def _run(name, *arrays, out):
    """Run row kernel ``name`` on the rows (along the last axis) of ``arrays`` into ``out``."""
    n = arrays[0].shape[-1]
    _launch(name, *(a.reshape(-1, n) for a in arrays), out.reshape(-1, n), unit=n)
    return out


def _elementwise(name, *arrays, out):
    """Run elementwise kernel ``name`` on the flattened arrays into ``out``."""
    _launch(name, *(a.reshape(-1) for a in arrays), out.reshape(-1), unit=1)
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
