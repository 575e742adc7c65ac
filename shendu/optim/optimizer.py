"""``Optimizer``: the base class of SGD, Adam and the others.

An optimizer holds *parameter groups*: lists of tensors that share options (the
learning rate, the weight decay ...). ``step()`` updates every parameter that has a
``.grad``, in place, under ``no_grad``; ``zero_grad()`` clears the gradients before the
next backward. Options live in ``optimizer.param_groups[i]`` (a learning-rate
scheduler changes ``group["lr"]`` there); per-parameter buffers (momentum, running
averages) live in ``optimizer.state[p]``.

>>> import shendu
>>> from shendu import optim
>>> w = shendu.tensor([1.0, -2.0], requires_grad=True)
>>> b = shendu.tensor([0.5], requires_grad=True)
>>> opt = optim.SGD([{"params": [w]}, {"params": [b], "lr": 0.01}], lr=0.1)
>>> loss = (w ** 2).sum() + (b ** 2).sum()
>>> loss.backward()
>>> opt.step()
>>> w, b
(tensor([ 0.8000, -1.6000], requires_grad=True), tensor([0.4900], requires_grad=True))
>>> opt.zero_grad(); w.grad is None
True

Subclasses either override ``step`` (the PyTorch way) or implement
``_update(p, grad, state, group)`` for one parameter: ``p.data`` and the arrays in
``state`` are updated in place with raw array math (``xp`` is NumPy or CuPy).
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import defaultdict

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks an option with no default: every parameter group must give it."""

    def __repr__(self):
        return "<required parameter>"


required = _RequiredParameter()


def _typename(x):
    if type(x) is Tensor:
        return "shendu.Tensor"
    return type(x).__module__ + "." + type(x).__qualname__


def _counts_steps(step):
    """Wrap a subclass's own ``step`` so schedulers can tell it was called."""
    @functools.wraps(step)
    def wrapper(self, *args, **kwargs):
        self._opt_called = True
        return step(self, *args, **kwargs)
    wrapper._counts_steps = True
    return wrapper


class Optimizer:
    """Base class of all optimizers.

    Parameters
    ----------
    params : iterable of Tensors, of ``(name, Tensor)`` pairs, or of dicts
        The tensors to optimize. Dicts are parameter groups: ``{"params": [...],
        "lr": 0.01}``; options a group leaves out come from ``defaults``.
    defaults : dict
        Default options (``lr``, ``weight_decay`` ...).
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        step = cls.__dict__.get("step")
        if step is not None and not getattr(step, "_counts_steps", False):
            cls.step = _counts_steps(step)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = defaultdict(dict)
        self.param_groups = []
        self._opt_called = False
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}; write "
                            f"{type(self).__name__}([w], ...) for a single tensor")
        if isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        if isinstance(params, dict):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a single dict; put the parameter group "
                            "in a list: [{'params': ..., 'lr': ...}]")
        try:
            groups = list(params)
        except TypeError:
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            f"Tensors or dicts, but got {_typename(params)}") from None
        if not groups:
            raise ValueError("optimizer got an empty parameter list (note that a generator "
                             "such as model.parameters() is empty once it has been used)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # ------------------------------------------------------------ groups
    def _check_options(self, group):
        """Raise ``ValueError`` for an invalid option value in ``group`` (subclasses)."""

    def add_param_group(self, param_group):
        """Add a group of parameters with its own options, e.g. to start training
        layers that were frozen: ``opt.add_param_group({"params": head, "lr": 1e-4})``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {_typename(param_group)}")
        if "params" not in param_group:
            raise ValueError("a parameter group needs a 'params' entry: "
                             "{'params': [tensors], 'lr': ...}")
        group = dict(param_group)
        params = group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, "
                            "but the ordering of tensors in sets will change between runs. "
                            "Please use a list instead.")
        else:
            params = list(params)

        names = [p[0] for p in params if isinstance(p, tuple)]
        tensors = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. "
                                 "Some param names are missing")
            group["param_names"] = names
        group["params"] = tensors

        gi = len(self.param_groups)
        for i, p in enumerate(tensors):
            where = f"parameter {i} of group {gi}"
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is "
                                f"{_typename(p)} ({where})")
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(f"can't optimize a non-leaf Tensor ({where}, made by "
                                 f"{p.grad_fn.fn.__name__}): optimize the leaf tensors it "
                                 "was computed from")
            # Like PyTorch, a frozen tensor (requires_grad=False) is accepted: it never
            # gets a .grad, so step() skips it; unfreezing it later makes it train.

        for name, default in self.defaults.items():
            if default is required and name not in group:
                raise ValueError("parameter group didn't specify a value of required "
                                 f"optimization parameter {name}")
            group.setdefault(name, default)
        self._check_options(group)

        ids = [id(p) for p in tensors]
        if len(set(ids)) != len(ids):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; "
                          "they would be updated twice per step", stacklevel=3)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        for g in self.param_groups:
            if ("param_names" in g) != ("param_names" in group):
                kind = "with names" if "param_names" in group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {kind} to the optimizer")
        self.param_groups.append(group)

    # ------------------------------------------------------------ the update
    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter.

        ``set_to_none=True`` (the default) sets ``.grad`` to ``None``: the next backward
        allocates fresh arrays, and parameters that get no gradient are skipped by
        ``step``. ``set_to_none=False`` fills the existing gradients with zeros in place.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if p.grad.grad_fn is not None:
                        p.grad = p.grad.detach()
                    else:
                        p.grad.requires_grad = False
                    if isinstance(p.grad._data, np.generic):
                        p.grad._data = np.zeros_like(np.asarray(p.grad._data))
                    else:
                        p.grad._data.fill(0)
                    p.grad._version += 1

    def step(self, closure=None):
        """Update every parameter that has a ``.grad``, once.

        ``closure`` (optional) re-evaluates the model and returns the loss: it runs
        with grad enabled before the update and its loss is returned.
        """
        loss = None
        if closure is not None:
            with grad_mode.enable_grad():
                loss = closure()
        self._opt_called = True
        with grad_mode.no_grad():
            for gi, group in enumerate(self.param_groups):
                for i, p in enumerate(group["params"]):
                    if p.grad is None:
                        continue
                    grad = p.grad._data
                    if grad.shape != p._data.shape:
                        raise RuntimeError(
                            f"{type(self).__name__}.step: parameter {i} of group {gi} has "
                            f"shape {p.shape} but its .grad has shape {tuple(grad.shape)}")
                    if isinstance(p._data, np.generic):  # a NumPy scalar cannot be updated in place
                        p._data = np.array(p._data)
                    if p._data.ndim == 0:
                        self._update_0d(p, grad, self.state[p], group)
                    else:
                        self._update(p, grad, self.state[p], group)
                    p._version += 1
        return loss

    def _update_0d(self, p, grad, state, group):
        """Update a 0-d parameter through 1-element views: NumPy ufuncs return scalars,
        not arrays, for 0-d operands, so the in-place rules need at least 1 dimension."""
        data = p._data
        one = [t for t in state.values() if isinstance(t, Tensor) and t._data.ndim == 0]
        for t in one:
            t._data = t._data.reshape(1)
        p._data = data.reshape(1)  # a view: writes go to the 0-d array
        try:
            self._update(p, grad.reshape(1), state, group)
        finally:
            p._data = data
            for t in state.values():
                if isinstance(t, Tensor) and t._data.shape == (1,):
                    t._data = t._data.reshape(())

    def _update(self, p, grad, state, group):
        """Update ``p.data`` in place from its gradient array ``grad`` (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must implement step() or _update()")

    # ------------------------------------------------------------ saving
    def state_dict(self):
        """The optimizer's state as a dict of plain values.

        ``{"state": {index: {name: Tensor or number}}, "param_groups": [{options...,
        "params": [index, ...]}]}``: parameters are numbered in the order of the groups,
        as in PyTorch, and the buffers are copies (later steps do not change them).
        """
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if s and id(p) in index:
                state[index[id(p)]] = {k: _copy_value(v) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a dict made by ``state_dict()`` (of an optimizer of the same kind over
        parameters of the same shapes, in the same order)."""
        if not isinstance(state_dict, dict) or "state" not in state_dict \
                or "param_groups" not in state_dict:
            got = sorted(state_dict) if isinstance(state_dict, dict) else _typename(state_dict)
            raise ValueError("load_state_dict expects the dict made by Optimizer.state_dict(), "
                             f"with keys 'state' and 'param_groups'; got {got}")
        saved_groups = copy.deepcopy(list(state_dict["param_groups"]))
        if len(saved_groups) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups: "
                             f"{len(saved_groups)} in the state dict, {len(self.param_groups)} "
                             "in this optimizer")
        for gi, (group, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {gi} has {len(saved['params'])} parameters in "
                    f"the state dict and {len(group['params'])} in this optimizer")
        id_map = {}
        for group, saved in zip(self.param_groups, saved_groups):
            for key, p in zip(saved["params"], group["params"]):
                id_map[_index_key(key)] = p

        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            p = id_map.get(_index_key(key))
            if p is None:
                state[key] = copy.deepcopy(values)
                continue
            state[p] = {name: _cast_like(p, name, v, key) for name, v in values.items()}

        groups = []
        for group, saved in zip(self.param_groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
            groups.append(saved)
        self.state = state
        self.param_groups = groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)


# -------------------------------------------------------------------- helpers
def _copy_value(v):
    if isinstance(v, Tensor):
        return Tensor._make(v._data.copy())
    if hasattr(v, "shape") and hasattr(v, "copy"):  # a NumPy / CuPy array
        return v.copy()
    return copy.deepcopy(v)


def _index_key(key):
    """State dicts that went through JSON have string keys ("0", "1" ...)."""
    if isinstance(key, str) and key.lstrip("-").isdigit():
        return int(key)
    return key


def _cast_like(p, name, value, key):
    """A copy of a saved buffer as a Tensor on ``p``'s device, with ``p``'s dtype."""
    if isinstance(value, Tensor):
        value = value._data
    if not (hasattr(value, "shape") and hasattr(value, "dtype")):
        return copy.deepcopy(value)
    if value.ndim > 0 and tuple(value.shape) != p.shape:
        raise ValueError(f"loaded state for parameter {key} has {name!r} of shape "
                         f"{tuple(value.shape)}, but the parameter has shape {p.shape}: "
                         "the state dict comes from a different model")
    if isinstance(value, np.generic):
        value = np.asarray(value)
    value = backend.move(value, p.device)
    if p._data.dtype.kind in "fc" and value.dtype.kind in "fc":
        value = value.astype(p._data.dtype)  # astype copies
    else:
        value = value.copy()
    return Tensor._make(value)


# Shared pieces of the update rules (raw arrays, in place) ----------------------------
def grad_with_weight_decay(p, grad, weight_decay, maximize):
    """``g = (-grad if maximize else grad) + weight_decay * p``.

    Returns ``(g, owned)``: ``owned`` is True when ``g`` is a fresh array the caller
    may overwrite, False when it is the gradient itself (never written to).
    """
    if weight_decay != 0:
        g = p._data * weight_decay
        if maximize:
            g -= grad
        else:
            g += grad
        return g, True
    if maximize:
        return -grad, True
    return grad, False


def lerp_(xp, a, b, weight, tmp):
    """``a += weight * (b - a)`` in place, rounded like PyTorch's ``lerp_``
    (which uses ``b - (b - a) * (1 - weight)`` for weights >= 0.5)."""
    xp.subtract(b, a, out=tmp)
    if weight < 0.5:
        tmp *= weight
        a += tmp
    else:
        tmp *= 1 - weight
        xp.subtract(b, tmp, out=a)
