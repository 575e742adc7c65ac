"""Process groups and collectives over MPI: ``init_process_group``, ``get_rank``,
``get_world_size``, ``barrier``, ``all_reduce``, ``broadcast``, and rank-0 helpers.

Without mpi4py, or run as a plain ``python train.py``, the world is one process of rank 0
and every call is the identity (see the package docstring).
"""
from __future__ import annotations

import functools
import os

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

INSTALL_HINT = 'pip install "shendu[distributed]" (or pip install mpi4py mpich)'

# Set by the MPI launchers on every process they start: MPICH's hydra and SLURM's srun
# with PMI (PMI_SIZE), Open MPI's mpirun (OMPI_COMM_WORLD_SIZE).
_LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE")


def require_mpi4py(who="shendu.distributed"):
    """The ``mpi4py.MPI`` module, or an ImportError that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError:
        raise ImportError(f"{who} needs mpi4py and an MPI library, which are not installed: "
                          f"{INSTALL_HINT}") from None
    return MPI


def is_available():
    """True when mpi4py can be imported (several processes are possible)."""
    try:
        require_mpi4py()
    except ImportError:
        return False
    return True


def _launched_size():
    """The number of processes an MPI launcher says it started (1 when none did)."""
    for name in _LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    return 1


class ReduceOp:
    """The reductions of ``all_reduce`` (PyTorch's ``dist.ReduceOp``); plain strings work."""

    SUM = "sum"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    AVG = "avg"


_OPS = (ReduceOp.SUM, ReduceOp.PRODUCT, ReduceOp.MIN, ReduceOp.MAX, ReduceOp.AVG)


def _check_op(op, who):
    name = str(op).lower()
    if name not in _OPS:
        raise ValueError(f"{who}: op must be one of {', '.join(map(repr, _OPS))}, got {op!r}")
    return name


class ProcessGroup:
    """The processes that train together, over an MPI communicator (or one process alone).

    Parameters
    ----------
    comm : mpi4py communicator, optional
        ``MPI.COMM_WORLD`` (what ``init_process_group`` uses) or a sub-communicator
        (``COMM_WORLD.Split(color)``). ``None``: a world of one process, rank 0.

    The collectives work in place on contiguous NumPy arrays; a subclass that overrides
    ``allreduce_array``, ``broadcast_array`` and ``barrier`` can stand in for MPI (the
    tests simulate a second rank that way).
    """

    def __init__(self, comm=None):
        self.comm = comm
        if comm is None:
            self.backend, self.rank, self.size = "single", 0, 1
        else:
            self.backend, self.rank, self.size = "mpi", int(comm.Get_rank()), int(comm.Get_size())

    def __repr__(self):
        return f"ProcessGroup(backend={self.backend!r}, rank={self.rank}, size={self.size})"

    def allreduce_array(self, buf, op="sum"):
        """Replace ``buf`` (contiguous NumPy array) by its reduction over all ranks."""
        if self.size == 1:
            return buf
        MPI = require_mpi4py("ProcessGroup.allreduce_array")
        if op == ReduceOp.AVG:
            self.comm.Allreduce(MPI.IN_PLACE, buf, op=MPI.SUM)
            buf /= self.size
        else:
            mpi_op = {"sum": MPI.SUM, "product": MPI.PROD, "min": MPI.MIN, "max": MPI.MAX}[op]
            self.comm.Allreduce(MPI.IN_PLACE, buf, op=mpi_op)
        return buf

    def broadcast_array(self, buf, src=0):
        """Replace ``buf`` (contiguous NumPy array) on every rank by rank ``src``'s."""
        if self.size > 1:
            self.comm.Bcast(buf, root=src)
        return buf

    def barrier(self):
        """Wait until every rank has reached this call."""
        if self.size > 1:
            self.comm.Barrier()


_default_group = None


def init_process_group(backend=None, comm=None):
    """Set up the default group: every process of the MPI launch (``COMM_WORLD``).

    Parameters
    ----------
    backend : None, "mpi" or "single"
        ``None``: MPI when mpi4py is installed, else a world of one process (and an
        ImportError if a launcher such as ``mpiexec -n 2`` started several). ``"mpi"``
        insists on mpi4py; ``"single"`` makes a world of one process whatever the launch.
    comm : mpi4py communicator or ProcessGroup, optional
        What to use instead of ``COMM_WORLD``.

    Returns the ``ProcessGroup``. The other functions of this module call it on first use,
    so calling it yourself is only needed to choose ``backend`` or ``comm``; a second call
    is an error (``destroy_process_group()`` first).
    """
    global _default_group
    if _default_group is not None:
        raise RuntimeError("init_process_group: the default process group is already "
                           "initialized (call destroy_process_group() first)")
    if backend not in (None, "mpi", "single"):
        raise ValueError(f"init_process_group: backend must be None, 'mpi' or 'single', got "
                         f"{backend!r}")
    if isinstance(comm, ProcessGroup):
        group = comm
    elif comm is not None:
        group = ProcessGroup(comm)
    elif backend == "single":
        group = ProcessGroup(None)
    elif backend == "mpi" or is_available():
        group = ProcessGroup(require_mpi4py("init_process_group(backend='mpi')").COMM_WORLD)
    else:
        launched = _launched_size()
        if launched > 1:
            raise ImportError(f"init_process_group: this process is one of {launched} "
                              f"started by an MPI launcher, but mpi4py is not installed, so "
                              f"each would train alone: {INSTALL_HINT}")
        group = ProcessGroup(None)
    _default_group = group
    return group


def destroy_process_group():
    """Forget the default group (the next call of a function here makes a new one)."""
    global _default_group
    _default_group = None


def is_initialized():
    """True once the default group exists (``init_process_group`` or a first use)."""
    return _default_group is not None


def _group(group=None):
    if group is not None:
        if not isinstance(group, ProcessGroup):
            raise TypeError(f"group must be a shendu.distributed.ProcessGroup, got "
                            f"{type(group).__name__}")
        return group
    return _default_group if _default_group is not None else init_process_group()


def get_rank(group=None):
    """This process's number, 0 .. world size - 1."""
    return _group(group).rank


def get_world_size(group=None):
    """How many processes train together."""
    return _group(group).size


def barrier(group=None):
    """Wait until every rank has reached this call."""
    _group(group).barrier()


# ------------------------------------------------------------------ collectives on arrays
def _to_host(a):
    return a if isinstance(a, np.ndarray) else backend.move(a, backend.Device("cpu"))


def _collective_in_place(x, who, run):
    """Run ``run(host_buffer)`` on the array of ``x`` (Tensor or array), written back."""
    if isinstance(x, Tensor):
        arr = x._data
    elif isinstance(x, np.ndarray) or backend.get_array_module(x) is not np:
        arr = x
    else:
        raise TypeError(f"{who} expects a shendu Tensor or a NumPy/CuPy array (it works in "
                        f"place), got {type(x).__name__}; wrap a number as np.array([value])")
    if isinstance(arr, np.ndarray) and not arr.flags.writeable:
        raise ValueError(f"{who}: the array is read-only, so it cannot be changed in place")
    host = _to_host(arr)
    buf = np.ascontiguousarray(host)  # the array itself when it is a contiguous NumPy one
    run(buf)
    if buf is not arr:
        arr[...] = buf if isinstance(arr, np.ndarray) else backend.move(buf,
                                                                        backend.device_of(arr))
    if isinstance(x, Tensor):
        x._version += 1
    return x


def all_reduce(tensor, op="sum", group=None):
    """Reduce ``tensor`` over all ranks, in place: afterwards every rank holds the result.

    ``tensor`` is a Tensor or a NumPy/CuPy array (any shape); ``op`` is "sum", "avg",
    "product", "min" or "max" (or ``ReduceOp.SUM`` ...). Returns ``tensor``. Not
    differentiable (as in PyTorch). "avg" needs a floating dtype.

    >>> import numpy as np
    >>> from shendu import distributed as dist
    >>> correct_and_seen = np.array([93.0, 100.0])   # this rank's counts
    >>> dist.all_reduce(correct_and_seen)             # summed over the ranks (one here)
    array([ 93., 100.])
    """
    op = _check_op(op, "all_reduce")
    g = _group(group)
    dtype = tensor._data.dtype if isinstance(tensor, Tensor) else getattr(tensor, "dtype", None)
    if op == ReduceOp.AVG and dtype is not None and dtype.kind not in "fc":
        raise TypeError(f"all_reduce(op='avg') needs a floating array, got dtype {dtype}: "
                        "reduce with 'sum' and divide")
    return _collective_in_place(tensor, "all_reduce", lambda buf: g.allreduce_array(buf, op))


def broadcast(tensor, src=0, group=None):
    """Overwrite ``tensor`` (Tensor or array) on every rank with rank ``src``'s, in place.

    Returns ``tensor``.
    """
    g = _group(group)
    if not isinstance(src, (int, np.integer)) or not 0 <= src < g.size:
        raise ValueError(f"broadcast: src must be a rank in 0..{g.size - 1}, got {src!r}")
    return _collective_in_place(tensor, "broadcast",
                                lambda buf: g.broadcast_array(buf, int(src)))


def _broadcast_tensors(tensors, group, src=0):
    """Give every rank rank ``src``'s values of ``tensors``: one broadcast per dtype."""
    if group.size == 1:
        return
    by_dtype = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    for dtype, ts in by_dtype.items():  # insertion order: the same on every rank
        flat = np.concatenate([_to_host(t._data).ravel() for t in ts]) if ts else None
        group.broadcast_array(flat, src)
        if group.rank == src:
            continue
        offset = 0
        for t in ts:
            seg = flat[offset:offset + t._data.size].reshape(t._data.shape)
            offset += t._data.size
            t._data[...] = seg if isinstance(t._data, np.ndarray) else \
                backend.move(seg, backend.device_of(t._data))
            t._version += 1


# ------------------------------------------------------------------ rank 0 only
def is_main_process(group=None):
    """True on rank 0: the process that prints, logs and saves."""
    return get_rank(group) == 0


def rank_zero_only(fn):
    """Decorator: ``fn`` runs on rank 0 only (and returns None elsewhere).

    >>> from shendu import distributed as dist
    >>> @dist.rank_zero_only
    ... def report(epoch, loss):
    ...     print(f"epoch {epoch}: loss {loss:.3f}")
    >>> report(1, 0.25)
    epoch 1: loss 0.250
    """
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if is_main_process():
            return fn(*args, **kwargs)
        return None
    return wrapper


def main_print(*args, **kwargs):
    """``print`` on rank 0 only (the other ranks would repeat every line)."""
    if is_main_process():
        print(*args, **kwargs)
