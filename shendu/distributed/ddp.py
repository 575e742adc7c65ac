"""``DistributedDataParallel``: gradients averaged over the ranks by one allreduce per dtype
at the end of each backward, and ``main_save``."""
from __future__ import annotations

import contextlib
import functools

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..nn.module import Module
from .group import _broadcast_tensors, _group, _to_host, barrier, is_main_process

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
        return Tensor._make(self.average(pending=(p, grad._data)))

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
                g = pending[1] if p.grad is None else p.grad._data + pending[1]
                p.grad = None
            else:
                g = None if p.grad is None else p.grad._data
            groups.setdefault(p._data.dtype, []).append((p, g))
        result = None
        world = self.group.size
        for dtype, entries in groups.items():  # insertion order: the same on every rank
            xp = backend.get_array_module(*(g for _, g in entries if g is not None))
            parts = [g.ravel() if g is not None else xp.zeros(p._data.size, dtype)
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
                size = p._data.size
                seg = values[offset:offset + size].reshape(p._data.shape)
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
        from ..io import save
        save(obj, path, metadata=metadata)
    barrier()
