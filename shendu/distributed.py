"""Data-parallel training on several processes, through MPI (``mpi4py``).

Every process (a *rank*) holds a full copy of the model and trains on its own slice of
each global batch. After ``loss.backward()`` the gradients are averaged over the ranks by
one allreduce, so every rank applies the same update and the copies stay identical::

    g = (1 / W) * sum over ranks r of g_r        (W = world size)

With a loss that is a mean over the samples and equal slices of B / W samples per rank,
``g`` is the gradient of the mean loss over the whole global batch of B samples: the
same step one process takes with batch B, up to floating-point rounding.

The names are PyTorch's ``torch.distributed`` ones: ``init_process_group``,
``get_rank``, ``get_world_size``, ``barrier``, ``all_reduce``, ``broadcast``,
``DistributedDataParallel``, and ``shendu.data.DistributedSampler``. Launch a script
with ``mpiexec -n 2 python -m mpi4py train.py`` (``-m mpi4py`` aborts every rank when
one raises, instead of leaving the others waiting). Without mpi4py, or run as a plain
``python train.py``, the world is a single process of rank 0 and every call here does
nothing or the identity, so the same script runs alone.

>>> import shendu
>>> from shendu import distributed as dist, nn
>>> dist.get_rank(), dist.get_world_size(), dist.is_main_process()
(0, 1, True)
>>> model = dist.DistributedDataParallel(nn.Linear(3, 1))
>>> model(shendu.ones(2, 3)).sum().backward()   # gradients averaged over the ranks
>>> model.module.weight.grad.shape
(1, 3)

See docs/distributed.md for launching on one machine and on a cluster.
"""
from __future__ import annotations

import contextlib
import functools
import os

import numpy as np

from . import backend
from .autograd import grad_mode
from .autograd.tensor import Tensor
from .keras.callbacks.base import Callback
from .nn.module import Module

__all__ = ["init_process_group", "destroy_process_group", "is_initialized", "is_available",
           "get_rank", "get_world_size", "barrier", "all_reduce", "broadcast", "ReduceOp",
           "ProcessGroup", "DistributedDataParallel", "DistributedCallback",
           "is_main_process", "rank_zero_only", "main_print", "main_save", "require_mpi4py"]

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
        arr = x.data
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
    dtype = tensor.data.dtype if isinstance(tensor, Tensor) else getattr(tensor, "dtype", None)
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
        by_dtype.setdefault(t.data.dtype, []).append(t)
    for dtype, ts in by_dtype.items():  # insertion order: the same on every rank
        flat = np.concatenate([_to_host(t.data).ravel() for t in ts]) if ts else None
        group.broadcast_array(flat, src)
        if group.rank == src:
            continue
        offset = 0
        for t in ts:
            seg = flat[offset:offset + t.data.size].reshape(t.data.shape)
            offset += t.data.size
            t.data[...] = seg if isinstance(t.data, np.ndarray) else \
                backend.move(seg, backend.device_of(t.data))
            t._version += 1


# ------------------------------------------------------------------ gradient averaging
class _Reducer:
    """Averages the gradients of ``params`` over the ranks at the end of each backward.

    shendu's engine calls a leaf's hooks just before it adds the new gradient to
    ``.grad``, and it does so for every leaf after the whole graph has been walked. So
    when the last expected parameter's hook runs, every other parameter's ``.grad`` is
    final: that hook packs all the gradients (its own new one added to its old ``.grad``)
    into one flat buffer per dtype, allreduces it once, and hands each parameter a view
    of its averaged slice. One collective per step instead of one per parameter.

    The whole ``.grad`` is averaged, not only the new part: after a synced step it is the
    same on every rank, so averaging it again changes nothing, and gradients accumulated
    locally under ``no_sync()`` are averaged with the next synced backward.
    """

    def __init__(self, params, names, group, who):
        seen, self.params, self.names = set(), [], []
        for p, name in zip(params, names):
            if id(p) not in seen and p.requires_grad:
                seen.add(id(p))
                self.params.append(p)
                self.names.append(name)
        self.group, self.who = group, who
        self.enabled = True
        self.expected = {id(p) for p in self.params}
        self.arrived = set()
        self.handles = [p.register_hook(functools.partial(self._on_grad, p))
                        for p in self.params]

    def remove(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def check_finished(self):
        """Raise if the previous backward left parameters without a gradient."""
        if self.enabled and self.arrived:
            missing = [n for p, n in zip(self.params, self.names)
                       if id(p) in self.expected and id(p) not in self.arrived]
            self.arrived = set()
            raise RuntimeError(
                f"{self.who}: the previous backward gave no gradient to "
                f"{len(missing)} parameter(s) ({', '.join(missing[:5])}"
                f"{', ...' if len(missing) > 5 else ''}), so their gradients were never "
                "averaged and the other ranks wait for this one: pass "
                "find_unused_parameters=True if forward does not use every parameter")

    def expect_from(self, outputs):
        """Expect gradients only for the parameters the graph of ``outputs`` reaches."""
        index = {id(p) for p in self.params}
        reached, seen = set(), set()
        stack = [t for t in _tensors_in(outputs)]
        while stack:
            t = stack.pop()
            if t._node is None:
                if id(t) in index and t.requires_grad:
                    reached.add(id(t))
                continue
            if id(t._node) in seen:
                continue
            seen.add(id(t._node))
            stack.extend(i for i in t._node.inputs if i is not None)
        if reached:
            self.expected = reached

    def _on_grad(self, p, grad):
        if not self.enabled:
            return None
        if grad._node is not None or grad.requires_grad:
            raise RuntimeError(f"{self.who}: backward(create_graph=True) is not supported: "
                               "the averaged gradients would not be part of the graph")
        self.arrived.add(id(p))
        if not self.expected <= self.arrived:
            return None
        self.arrived = set()
        return Tensor._make(self.average(pending=(p, grad.data)))

    def average(self, pending=None):
        """Average every parameter's ``.grad`` over the ranks (one allreduce per dtype).

        ``pending``: ``(param, new_gradient)`` of the parameter whose hook is running; its
        averaged gradient is returned (the engine stores it) instead of being set.

        A parameter that no rank has a gradient for keeps ``.grad = None``; one that some
        ranks have no gradient for counts as zeros there. A flag per parameter (1 if this
        rank has a gradient) rides in the same buffer to tell the two apart.
        """
        groups = {}
        for p in self.params:
            if pending is not None and p is pending[0]:
                g = pending[1] if p.grad is None else p.grad.data + pending[1]
                p.grad = None
            else:
                g = None if p.grad is None else p.grad.data
            groups.setdefault(p.data.dtype, []).append((p, g))
        result = None
        world = self.group.size
        for dtype, entries in groups.items():  # insertion order: the same on every rank
            xp = backend.get_array_module(*(g for _, g in entries if g is not None))
            parts = [g.ravel() if g is not None else xp.zeros(p.data.size, dtype)
                     for p, g in entries]
            parts.append(xp.asarray([g is not None for _, g in entries], dtype=dtype))
            flat = xp.concatenate(parts)
            host = self.group.allreduce_array(_to_host(flat), "sum")
            flat = host if xp is np else backend.move(host, backend.device_of(flat))
            n = len(entries)
            flags, values = flat[-n:], flat[:-n]
            values /= world
            offset = 0
            for (p, _), has in zip(entries, flags.tolist()):
                size = p.data.size
                seg = values[offset:offset + size].reshape(p.data.shape)
                offset += size
                if pending is not None and p is pending[0]:
                    result = seg
                elif has:
                    p.grad = Tensor._make(seg)
        return result


def _tensors_in(obj):
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (list, tuple)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)


class DistributedDataParallel(Module):
    """Wrap ``module`` so that ``loss.backward()`` averages its gradients over the ranks.

    At construction every rank gets rank 0's parameters and buffers (one broadcast per
    dtype), so the copies start equal whatever each rank's seed was. After each backward
    the gradients are averaged by one allreduce per dtype (see the module docstring for
    the math); the user calls nothing extra, and the optimizer then makes the same step on
    every rank. In a world of one process nothing is registered: the wrapper costs
    nothing and the module trains as it would alone.

    Parameters
    ----------
    module : nn.Module
        The model; reach it as ``ddp.module`` (to save it or to evaluate on one rank).
    broadcast_buffers : bool, default True
        Before each forward in training mode, give every rank rank 0's buffers (e.g.
        BatchNorm's running statistics, which each rank updates from its own slice).
    find_unused_parameters : bool, default False
        Wait only for the parameters the forward's outputs depend on. Without it, a
        forward that leaves a parameter unused is an error at the next forward (the
        other ranks would wait for its gradient for ever).
    process_group : ProcessGroup, optional
        The ranks to average over (default: all of them).

    Forward, backward and the optimizer step must run on every rank, the same number of
    times: each backward is a collective call. ``no_sync()`` accumulates gradients
    locally (gradient accumulation over several micro-batches); ``sync_gradients()``
    averages ``.grad`` by hand (after ``autograd.grad`` or other manual work).

    >>> import shendu
    >>> from shendu import distributed as dist, nn, optim
    >>> model = dist.DistributedDataParallel(nn.Linear(4, 2))
    >>> opt = optim.SGD(model.parameters(), lr=0.1)
    >>> loss = model(shendu.ones(8, 4)).pow(2).mean()
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, module, broadcast_buffers=True, find_unused_parameters=False,
                 process_group=None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DistributedDataParallel wraps an nn.Module, got "
                            f"{type(module).__name__}")
        if isinstance(module, DistributedDataParallel):
            raise TypeError("DistributedDataParallel: this module is already wrapped")
        self.module = module
        self.process_group = _group(process_group)
        self.broadcast_buffers = bool(broadcast_buffers)
        self.find_unused_parameters = bool(find_unused_parameters)
        self._reducer = None
        if self.process_group.size > 1:
            with grad_mode.no_grad():
                _broadcast_tensors(list(module.parameters()) +
                                   [b for b in module.buffers() if b is not None],
                                   self.process_group)
            named = list(module.named_parameters())
            self._reducer = _Reducer([p for _, p in named], [n for n, _ in named],
                                     self.process_group, "DistributedDataParallel")

    def forward(self, *args, **kwargs):
        reducer = self._reducer
        if reducer is not None:
            reducer.check_finished()
            if self.broadcast_buffers and self.training:
                buffers = [b for b in self.module.buffers() if b is not None]
                if buffers:
                    with grad_mode.no_grad():
                        _broadcast_tensors(buffers, self.process_group)
        out = self.module(*args, **kwargs)
        if reducer is not None and self.find_unused_parameters and reducer.enabled \
                and grad_mode.is_grad_enabled():
            reducer.expect_from(out)
        return out

    @contextlib.contextmanager
    def no_sync(self):
        """Inside this block, backward keeps the gradients local (no allreduce); the next
        backward outside it averages everything accumulated.

        Example: accumulate 4 micro-batches, communicate once::

            with model.no_sync():
                for xb, yb in micro_batches[:-1]:
                    loss_fn(model(xb), yb).backward()
            loss_fn(model(x_last), y_last).backward()   # averages the sum of all four
            opt.step()
        """
        reducer = self._reducer
        old = reducer.enabled if reducer is not None else None
        if reducer is not None:
            reducer.enabled = False
        try:
            yield
        finally:
            if reducer is not None:
                reducer.enabled = old

    def sync_gradients(self):
        """Average every parameter's ``.grad`` over the ranks now (one allreduce per dtype).

        Backward does this by itself; call it after filling ``.grad`` another way. Every
        rank must call it.
        """
        if self._reducer is not None:
            self._reducer.arrived = set()
            self._reducer.average()

    def extra_repr(self):
        g = self.process_group
        return f"world_size={g.size}, rank={g.rank}"


# ------------------------------------------------------------------ Keras
class DistributedCallback(Callback):
    """Data-parallel ``keras`` ``fit``: one callback, first in the list.

    At the start of training it gives every rank the root rank's weights and averages the
    gradients of every training batch over the ranks (as ``DistributedDataParallel``
    does); at the end of each epoch it averages the logged metrics (loss, accuracy, val_*)
    over the ranks, so ``History``, ``EarlyStopping`` and checkpoints see the global
    figures. Each rank passes its own slice of the data, all with the same number of
    batches (checked at the start)::

        x_mine, y_mine = x[dist.get_rank()::dist.get_world_size()], ...
        model.fit(x_mine, y_mine, batch_size=64, epochs=5,
                  callbacks=[dist.DistributedCallback()],
                  verbose=1 if dist.is_main_process() else 0)

    In a world of one process it does nothing.
    """

    def __init__(self, root_rank=0, average_metrics=True, process_group=None):
        super().__init__()
        self.root_rank = root_rank
        self.average_metrics = bool(average_metrics)
        self.process_group = process_group
        self._reducer = None

    def on_train_begin(self, logs=None):
        group = self.process_group = _group(self.process_group)
        if group.size == 1:
            return
        steps = self.params.get("steps") if self.params else None
        if steps is not None:
            counts = group.allreduce_array(np.array([steps, -steps], dtype=np.int64), "max")
            if counts[0] != -counts[1]:
                raise ValueError(f"DistributedCallback: the ranks have different numbers of "
                                 f"batches per epoch ({-counts[1]} to {counts[0]}): give every "
                                 "rank a slice of the same length (DistributedSampler pads)")
        weights = self.model.weights
        with grad_mode.no_grad():
            _broadcast_tensors(weights, group, self.root_rank)
        trainable = self.model.trainable_weights
        self._reducer = _Reducer(trainable, [getattr(w, "name", None) or f"weight {i}"
                                             for i, w in enumerate(trainable)],
                                 group, "DistributedCallback")

    def on_train_batch_begin(self, batch, logs=None):
        if self._reducer is not None:
            self._reducer.check_finished()

    def on_epoch_end(self, epoch, logs=None):
        group = self.process_group
        if not self.average_metrics or logs is None or group is None or group.size == 1:
            return
        keys = sorted(k for k, v in logs.items() if isinstance(v, (int, float, np.number)))
        values = group.allreduce_array(np.array([float(logs[k]) for k in keys]), "avg")
        for k, v in zip(keys, values.tolist()):
            logs[k] = v

    def on_train_end(self, logs=None):
        if self._reducer is not None:
            self._reducer.remove()
            self._reducer = None


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


def main_save(obj, path, metadata=None):
    """Save on rank 0 only (``shendu.save``), then wait until it is on disk everywhere.

    ``obj`` is a state dict, or a module (``DistributedDataParallel`` is unwrapped, so the
    keys are the plain model's: the file loads into the model without the wrapper). Every
    rank must call it: after the barrier any rank can read the file (on a shared disk).
    """
    if isinstance(obj, DistributedDataParallel):
        obj = obj.module
    if isinstance(obj, Module):
        obj = obj.state_dict()
    if is_main_process():
        from .io import save
        save(obj, path, metadata=metadata)
    barrier()
