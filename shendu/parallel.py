"""Speed for big arrays on the CPU: threads inside one op, and reuse of big buffers.

Threads. NumPy releases the GIL inside its ufunc loops and reductions, so two
threads that each take half of a large array really run at the same time: ``tanh``
of a million floats takes about half as long on 2 cores, as with PyTorch's
intra-op threads. Only big work is split (handing a block to another thread costs
some 20 us), small arrays pay nothing, and every element is computed by the same
code whatever the number of threads, so results are the same bit for bit.

Blocks. An op that makes several passes over its data (``g * (1 - y * y)`` is three)
runs them on blocks of ~128 KB that stay in the core's cache, instead of streaming
whole arrays through main memory once per pass.

Memory. glibc's ``malloc`` hands big blocks back to the system when they are freed,
so every new temporary of a few MB costs a page fault per 4 KB on first touch (a
1M-element forward+backward spends ~40% of its time there). ``tune_malloc`` asks
glibc to keep up to 256 MB of freed memory for reuse instead.

Example
-------
>>> import numpy as np
>>> from shendu import parallel
>>> y = np.linspace(-1, 1, 5, dtype=np.float32)
>>> parallel.elementwise(lambda g, y: g * (1 - y * y), np.ones(5, np.float32), y)
array([0.  , 0.75, 1.  , 0.75, 0.  ], dtype=float32)
"""
from __future__ import annotations

import contextvars
import ctypes
import itertools
import os
import platform
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

__all__ = ["get_num_threads", "set_num_threads", "for_blocks", "elementwise", "rowwise",
           "tune_malloc", "BLOCK_BYTES", "MIN_PARALLEL_ELEMENTS", "MIN_BLOCKED_ELEMENTS"]

BLOCK_BYTES = 128 * 1024  # one block of one array: several fit in a 512 KB - 1 MB L2
MIN_PARALLEL_ELEMENTS = 256 * 1024  # fewer elements than this: one thread does it all
# On one thread, blocks pay only once the arrays outgrow the caches between passes;
# below this, per-block Python calls cost more than they save.
MIN_BLOCKED_ELEMENTS = 1024 * 1024

_num_threads = None
_pool = None
_pool_lock = threading.Lock()


# ---------------------------------------------------------------- thread count
def _default_num_threads():
    for name in ("SHENDU_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name, "").strip()
        if value.isdigit() and int(value) > 0:
            return int(value)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def get_num_threads():
    """Threads an op on a big array may use (``SHENDU_NUM_THREADS``, else
    ``OMP_NUM_THREADS``, else the number of CPUs this process may run on).

    >>> from shendu import parallel
    >>> parallel.get_num_threads() >= 1
    True
    """
    global _num_threads
    if _num_threads is None:
        _num_threads = _default_num_threads()
    return _num_threads


def set_num_threads(n):
    """Use at most ``n`` threads per op (1: everything on the calling thread), like
    ``torch.set_num_threads``.

    >>> from shendu import parallel
    >>> old = parallel.get_num_threads(); parallel.set_num_threads(1)
    >>> parallel.get_num_threads()
    1
    >>> parallel.set_num_threads(old)
    """
    global _num_threads, _pool
    if int(n) != n or n < 1:
        raise ValueError(f"set_num_threads: expected a positive integer, got {n!r}")
    with _pool_lock:
        _num_threads = int(n)
        if _pool is not None:  # the next parallel op makes a pool of the new size
            _pool.shutdown(wait=False)
            _pool = None


def _get_pool():
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(get_num_threads() - 1,
                                       thread_name_prefix="shendu-intra-op")
        return _pool


_in_worker = threading.local()  # set while a pool thread runs blocks: no nesting


def _take_blocks(fn, n, block, taken):
    """Run ``fn`` on the blocks whose numbers ``taken`` hands out, until none is left."""
    for i in taken:  # next() of an itertools.count is atomic: each block is taken once
        start = i * block
        if start >= n:
            return
        fn(start, min(start + block, n))


def _worker(fn, n, block, taken):
    _in_worker.active = True
    try:
        _take_blocks(fn, n, block, taken)
    finally:
        _in_worker.active = False


# ---------------------------------------------------------------- blocks
def for_blocks(fn, n, unit=1, block=None):
    """Call ``fn(start, stop)`` on consecutive blocks covering ``range(n)``, sharing them
    among the threads when the work is big.

    Parameters
    ----------
    fn : callable(start, stop)
        Does the work for units ``start:stop`` (elements of a flat array, or rows);
        it must write only its own part of the outputs.
    n : number of units
    unit : elements per unit (a row's length), to judge whether threads pay off
    block : units per call of ``fn``; give it for multi-pass work, so that each call's
        data stays in the cache. Default: the whole range on one thread, or a quarter
        of each thread's share.

    Whoever is free takes the next block, the calling thread included: if the machine
    is busy and a pool thread does not get a core, the caller does its blocks rather
    than wait for it.

    >>> out = np.empty(6)
    >>> for_blocks(lambda s, e: np.multiply(np.arange(s, e), 2, out=out[s:e]), 6, block=4)
    >>> out
    array([ 0.,  2.,  4.,  6.,  8., 10.])
    """
    threads = min(get_num_threads(), n * unit // MIN_PARALLEL_ELEMENTS, n)
    if threads <= 1 or getattr(_in_worker, "active", False):
        _take_blocks(fn, n, block or n or 1, itertools.count())
        return
    block = block or -(-n // (4 * threads))
    taken = itertools.count()
    pool = _get_pool()
    # each worker runs in a copy of our context: np.errstate settings carry over
    futures = [pool.submit(contextvars.copy_context().run, _worker, fn, n, block, taken)
               for _ in range(threads - 1)]
    try:
        _take_blocks(fn, n, block, taken)
    finally:
        for f in futures:  # a worker that has not started is not waited for
            if not f.cancel():
                f.exception()  # wait: it is writing our outputs
    for f in futures:
        if not f.cancelled():
            f.result()  # raise a worker's error


def _worth_blocks(size, one_pass=False):
    """Whether splitting work on ``size`` elements into blocks pays: to share it among
    threads, or (on one thread) to keep a multi-pass computation in the cache."""
    if size < MIN_PARALLEL_ELEMENTS:
        return False
    if get_num_threads() > 1:
        return True
    return not one_pass and size >= MIN_BLOCKED_ELEMENTS


def _flat_view(a, size):
    """``a`` as a flat array of ``size`` elements without copying, or None if it can't be:
    C-contiguous arrays and broadcast scalars (all strides 0) can."""
    if a.size != size:
        return None
    if a.flags.c_contiguous or not any(a.strides):
        return a.reshape(-1)
    return None


def _blocked(fn, parts, n, unit, step, out=None):
    """Run ``fn`` on blocks of ``step`` units of ``parts`` (arrays sliced along axis 0, or
    numbers) and gather its results: in ``out`` (a kernel: ``fn(*blocks, out=out[s:e])``),
    or in new arrays (``fn`` returns its block's result, one array or a tuple; the first
    block, run on the calling thread, tells their dtypes). None if ``fn`` turns out not
    to keep the blocks' length."""
    def piece(s, e):
        return [p[s:e] if isinstance(p, np.ndarray) else p for p in parts]

    def cut(s, e):
        return out[s:e] if isinstance(out, np.ndarray) else tuple(o[s:e] for o in out)

    if out is not None:
        for_blocks(lambda s, e: fn(*piece(s, e), out=cut(s, e)), n, unit=unit, block=step)
        return out
    head = fn(*piece(0, step))
    single = not isinstance(head, tuple)
    head = [np.asarray(h) for h in ((head,) if single else head)]
    if any(h.shape[:1] != (min(step, n),) for h in head):
        return None
    outs = [np.empty((n,) + h.shape[1:], h.dtype) for h in head]
    for o, h in zip(outs, head):
        o[:step] = h

    def block(s, e):
        s, e = s + step, e + step
        res = fn(*piece(s, e))
        for o, r in zip(outs, (res,) if single else res):
            o[s:e] = r

    for_blocks(block, n - step, unit=unit, block=step)
    return outs[0] if single else tuple(outs)


def _reshaped(out, shape):
    return out.reshape(shape) if isinstance(out, np.ndarray) else tuple(
        o.reshape(shape) for o in out)


def _plain(fn, args, out):
    return fn(*args) if out is None else (fn(*args, out=out), out)[1]


def elementwise(fn, *args, out=None):
    """``fn(*args)`` for an elementwise ``fn``, computed on cache-sized blocks shared
    among the threads when that pays (big NumPy arrays); otherwise just ``fn(*args)``.

    ``fn`` must compute each output element from the same elements of the inputs
    (``lambda g, y: g * (1 - y * y)``, ``np.tanh``); Python numbers pass through.
    With ``out`` (an array, or a tuple for several results), ``fn`` is a kernel that
    writes its result into ``out=`` as NumPy's ufuncs do, and ``out`` is returned:
    no temporaries, no copies. The result equals ``fn(*args)`` bit for bit. Inputs
    of different shapes, Tensors (double backward) and CuPy arrays take the plain call.

    >>> x = np.arange(4.0)
    >>> elementwise(np.exp, x) == np.exp(x)
    array([ True,  True,  True,  True])
    """
    first = next((a for a in args if isinstance(a, np.ndarray)), None)
    if first is None or not _worth_blocks(first.size, one_pass=isinstance(fn, np.ufunc)):
        return _plain(fn, args, out)
    shape, size = first.shape, first.size
    flat = []
    for a in args:
        if isinstance(a, np.ndarray):
            f = _flat_view(a, size) if a.shape == shape else None
            if f is None:
                return _plain(fn, args, out)
            flat.append(f)
        elif isinstance(a, (int, float, complex, np.generic)):
            flat.append(a)
        else:  # a Tensor or another kind of array
            return _plain(fn, args, out)
    outs = None
    if out is not None:
        outs = [_flat_view(o, size) for o in ((out,) if isinstance(out, np.ndarray) else out)]
        if any(o is None for o in outs):
            return _plain(fn, args, out)
        outs = outs[0] if isinstance(out, np.ndarray) else tuple(outs)
    elif isinstance(fn, np.ufunc):  # a ufunc writes its blocks straight into a new array
        dtype = fn(*(a[:1] if isinstance(a, np.ndarray) else a for a in flat)).dtype
        outs = np.empty(size, dtype)
    step = max(1, BLOCK_BYTES // max(a.itemsize for a in flat if isinstance(a, np.ndarray)))
    res = _blocked(fn, flat, size, 1, step, outs)
    if res is None:
        return _plain(fn, args, out)
    return out if out is not None else _reshaped(res, shape)


def rowwise(fn, *arrays, out=None):
    """``fn(*arrays)`` for an ``fn`` that works row by row along the last axis (softmax:
    reductions with ``axis=-1, keepdims=True`` and elementwise math), computed on blocks
    of rows that stay in the cache and are shared among the threads when that pays
    (big C-contiguous NumPy arrays of one shape); otherwise just ``fn(*arrays)``.
    ``out`` as in :func:`elementwise`.

    >>> x = np.arange(6.0).reshape(2, 3)
    >>> rowwise(lambda x: x - x.max(axis=-1, keepdims=True), x)
    array([[-2., -1.,  0.],
           [-2., -1.,  0.]])
    """
    first = arrays[0]
    outs = () if out is None else (out,) if isinstance(out, np.ndarray) else out
    if not (isinstance(first, np.ndarray) and _worth_blocks(first.size)
            and all(isinstance(a, np.ndarray) and a.shape == first.shape
                    and a.flags.c_contiguous for a in arrays + tuple(outs))):
        return _plain(fn, arrays, out)
    row = first.shape[-1]
    rows = [a.reshape(-1, row) for a in arrays]
    step = max(1, BLOCK_BYTES // (row * max(a.itemsize for a in arrays)))
    res = _blocked(fn, rows, len(rows[0]), row, step,
                   None if out is None else _reshaped(out, (-1, row)))
    if res is None:
        return _plain(fn, arrays, out)
    return out if out is not None else _reshaped(res, first.shape)


# ---------------------------------------------------------------- memory
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # mallopt parameters in glibc's malloc.h
_malloc_tuned = False


def tune_malloc(mmap_threshold=32 << 20, trim_threshold=256 << 20):
    """Ask glibc's malloc to serve blocks below ``mmap_threshold`` bytes from its heap and
    to keep up to ``trim_threshold`` bytes of freed memory for reuse, so big temporaries
    do not page-fault afresh at every op. Returns True if applied (Linux with glibc only;
    a no-op elsewhere). shendu calls it once on import unless ``SHENDU_MALLOC_TUNING=0``.

    The cost: the process keeps up to ``trim_threshold`` bytes it no longer uses.
    """
    global _malloc_tuned
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        ok = (libc.mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold)) == 1
              and libc.mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)) == 1)
    except (OSError, AttributeError):
        return False
    _malloc_tuned = ok
    return ok


if os.environ.get("SHENDU_MALLOC_TUNING", "1") != "0":
    tune_malloc()
