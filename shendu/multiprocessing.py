"""``torch.multiprocessing``: Python's ``multiprocessing`` plus tensors in shared memory.

Every name of the standard ``multiprocessing`` module is here (``Process``, ``Queue``,
``Pool``, ``set_start_method``, ``get_context`` ...), so ``import shendu.multiprocessing
as mp`` replaces ``import torch.multiprocessing as mp``. What shendu adds is *sharing*:

``share_memory_(tensor)`` moves the tensor's array into memory that other processes map
too, and ``Module.share_memory()`` does it for every parameter and buffer. A child
process started afterwards (with the ``fork``, ``spawn`` or ``forkserver`` method) or a
tensor sent through a ``Queue`` then sees *the same bytes*: an optimizer's in-place
update in one process is seen by all. That is Hogwild! training (Recht et al., 2011):
several processes run SGD on one shared model without locks; the updates are sparse or
small enough that the races between them rarely matter.

How the memory is shared. The array's bytes go into an anonymous in-memory file
(``os.memfd_create`` on Linux, an unlinked temporary file elsewhere), mapped with
``mmap`` (``MAP_SHARED``). A forked child inherits the mapping; for ``spawn`` and for
queues, pickling a shared array sends the file descriptor (``multiprocessing``'s own
``DupFd`` machinery, as PyTorch does) and the receiver maps the same file. No name
lives in ``/dev/shm``: the memory is freed when the last process unmaps it.

Gradients are not shared: each process allocates its own ``.grad`` in its first
backward (as in PyTorch). CUDA tensors can't be shared here (``RuntimeError``); for
several GPUs or machines use ``shendu.distributed``.

>>> import shendu
>>> import shendu.multiprocessing as mp
>>> w = shendu.zeros(3)
>>> _ = mp.share_memory_(w)
>>> mp.is_shared(w), w.tolist()
(True, [0.0, 0.0, 0.0])
>>> w.data += 1; w.tolist()    # writes go to the shared memory
[1.0, 1.0, 1.0]
"""
from __future__ import annotations

import mmap
import multiprocessing as _mp
import os
import tempfile
import weakref
from multiprocessing import *  # noqa: F401,F403  Process, Queue, Pool, set_start_method ...
from multiprocessing import reduction as _reduction

import numpy as np

from . import backend
from .autograd.tensor import Tensor

__all__ = list(_mp.__all__) + ["share_memory_", "share_tensor_", "share_module_",
                                "is_shared", "shared_array"]

# id(mmap) -> (fd, nbytes, address of byte 0). An entry lives as long as its mmap does.
_storages = {}
_registered = False


def _close(key, fd):
    _storages.pop(key, None)
    try:
        os.close(fd)
    except OSError:  # pragma: no cover - already closed at interpreter exit
        pass


def _map(fd, nbytes):
    """Map ``nbytes`` of file ``fd`` shared and remember it (keeps ``fd`` open)."""
    mm = mmap.mmap(fd, nbytes)  # MAP_SHARED, read-write
    address = np.ndarray((nbytes,), np.uint8, buffer=mm).ctypes.data
    _storages[id(mm)] = (fd, nbytes, address)
    weakref.finalize(mm, _close, id(mm), fd)
    _register_reducer()
    return mm


def _new_file(nbytes):
    try:
        fd = os.memfd_create("shendu-shared")
    except (AttributeError, OSError):  # not Linux: an unlinked temporary file
        with tempfile.TemporaryFile() as f:
            fd = os.dup(f.fileno())
    os.ftruncate(fd, nbytes)
    return fd


def shared_array(shape, dtype):
    """A new zero-filled NumPy array of ``shape`` and ``dtype`` in shared memory.

    >>> a = shared_array((2, 2), np.float32); a.sum(), is_shared(a)
    (np.float32(0.0), True)
    """
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = max(int(np.prod(shape, dtype=np.int64)) * dtype.itemsize, 1)
    mm = _map(_new_file(nbytes), nbytes)
    return np.ndarray(shape, dtype, buffer=mm)


def _root(array):
    """The object at the bottom of ``array``'s chain of views (an mmap if shared)."""
    x = array
    while isinstance(x, np.ndarray):
        x = x.base
    if isinstance(x, memoryview):
        x = x.obj
    return x


def _storage_of(array):
    root = _root(array)
    if isinstance(root, mmap.mmap):
        return _storages.get(id(root))
    return None


def is_shared(x) -> bool:
    """True when the Tensor's (or array's) data lies in memory made by ``share_memory_``."""
    a = x._data if isinstance(x, Tensor) else x
    return isinstance(a, np.ndarray) and _storage_of(a) is not None


def share_memory_(tensor):
    """Move ``tensor``'s data into shared memory, in place; return ``tensor``.

    The values are copied once into the shared buffer and the tensor's array becomes a
    view of it (same shape, dtype and values). Processes started afterwards, and
    receivers of the tensor through a ``Queue``, see every later in-place change.
    Nothing happens when the data is shared already. Other Tensors that held the *old*
    array (a ``Parameter`` built from this tensor, say) keep the old, private copy.

    Raises ``RuntimeError`` for a tensor on a CUDA device.
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"share_memory_ expects a shendu.Tensor, got {type(tensor).__name__}")
    a = tensor._data
    if backend.get_array_module(a) is not np:
        raise RuntimeError("share_memory_: a tensor on a CUDA device can't be shared between "
                           "processes by shendu; move it to the CPU first, or train on "
                           "several GPUs with shendu.distributed (DistributedDataParallel)")
    _register_reducer(type(tensor))
    if is_shared(a):
        return tensor
    a = np.asarray(a)
    out = shared_array(a.shape, a.dtype)
    out[...] = a
    tensor._data = out
    return tensor


share_tensor_ = share_memory_


def share_module_(module):
    """``share_memory_`` on every parameter and buffer of ``module``; return ``module``
    (what ``Module.share_memory()`` calls)."""
    for t in list(module.parameters()) + list(module.buffers()):
        share_memory_(t)
    return module


# --------------------------------------------------------------- pickling for processes
def _rebuild_shared(dupfd, nbytes, dtype, shape, strides, offset):
    fd = dupfd.detach()
    mm = _map(fd, nbytes)
    return np.ndarray(shape, np.dtype(dtype), buffer=mm, offset=offset, strides=strides)


def _reduce_ndarray(a):
    info = _storage_of(a)
    if info is None:
        return a.__reduce__()  # an ordinary array: pickled by value, as always
    fd, nbytes, address = info
    offset = a.__array_interface__["data"][0] - address
    return (_rebuild_shared, (_reduction.DupFd(fd), nbytes, a.dtype.str, a.shape,
                              a.strides, offset))


def _rebuild_tensor(cls, array, requires_grad):
    # no constructor: Parameter(array) would copy the array out of the shared memory
    t = cls.__new__(cls)
    t._data, t.grad, t._node, t._out_index, t._vc, t._retains_grad = array, None, None, 0, [0], False
    t.requires_grad = bool(requires_grad)
    return t


def _reduce_tensor(t):
    if not is_shared(t):
        return t.__reduce_ex__(4)  # its usual pickling (by value)
    # the array goes through _reduce_ndarray; the gradient stays in this process
    return (_rebuild_tensor, (type(t), t._data, t.requires_grad))


def _register_reducer(cls=None):
    """Teach multiprocessing's pickler (process arguments, queues, pipes) to send shared
    arrays by file descriptor, and shared Tensors (of class ``cls`` too) around them.
    Ordinary arrays and tensors keep their usual pickling."""
    global _registered
    if not _registered:
        _reduction.ForkingPickler.register(np.ndarray, _reduce_ndarray)
        _reduction.ForkingPickler.register(Tensor, _reduce_tensor)
        _registered = True
    if cls is not None and cls not in _reduction.ForkingPickler._extra_reducers:
        _reduction.ForkingPickler.register(cls, _reduce_tensor)
