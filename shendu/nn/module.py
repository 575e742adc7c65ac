"""``Module``: the base class of every layer and model.

A module holds parameters (learnable tensors), buffers (state that is saved but not
learned, like BatchNorm's running mean) and submodules. Assigning them as attributes
registers them, so ``model.parameters()`` finds every weight of a nested model and
``model.state_dict()`` names each one by its path (``"encoder.0.weight"``).

>>> import shendu
>>> from shendu import nn
>>> class MLP(nn.Module):
...     def __init__(self):
...         super().__init__()
...         self.hidden = nn.Linear(2, 4)
...         self.out = nn.Linear(4, 1)
...     def forward(self, x):
...         return self.out(self.hidden(x).relu())
>>> model = MLP()
>>> [name for name, _ in model.named_parameters()]
['hidden.weight', 'hidden.bias', 'out.weight', 'out.bias']
>>> model(shendu.ones(3, 2)).shape
(3, 1)
"""
from __future__ import annotations

from collections import OrderedDict, namedtuple

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..autograd.hooks import RemovableHandle
from ..autograd.tensor import Tensor
from .parameter import Parameter

__all__ = ["Module", "RemovableHandle"]


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys it did not find and those it did not use."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _addindent(text, spaces):
    """Indent every line but the first (PyTorch's repr layout)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    first = lines.pop(0)
    return first + "\n" + "\n".join((" " * spaces + line) if line.strip() else "" for line in lines)


def _typename(x):
    return "shendu.nn.Parameter" if isinstance(x, Parameter) else (
        "shendu.Tensor" if isinstance(x, Tensor) else type(x).__name__)


def _shape_of_value(v):
    return tuple(v.shape) if hasattr(v, "shape") else ()


def _as_array(v, xp):
    """A state-dict value (our Tensor, a NumPy/CuPy array, a torch tensor, a number)
    as an array of ``xp``."""
    if isinstance(v, Tensor):
        v = v._data
    if backend.get_array_module(v) is xp and hasattr(v, "dtype"):
        return v
    if type(v).__module__.startswith("torch"):
        v = v.detach().cpu().numpy()
    return xp.asarray(np.asarray(v))


class Module:
    """Base class of layers and models: subclass it, create the layers in ``__init__``
    (after ``super().__init__()``) and write ``forward``. Call the module, not
    ``forward``: ``model(x)`` runs the registered hooks too.

    Attributes
    ----------
    training : bool
        True in training mode (the default), False after ``eval()``. Dropout and
        BatchNorm behave differently in the two modes.
    """

    _version = 1

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function: '
            "define forward(self, x) in your subclass")

    # ---------------------------------------------------------------- calling
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook in list(self._forward_pre_hooks.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, args)`` before each forward; it may return new args."""
        handle = RemovableHandle(self._forward_pre_hooks)
        self._forward_pre_hooks[handle.id] = hook
        return handle

    def register_forward_hook(self, hook):
        """Call ``hook(module, args, output)`` after each forward; it may return a new
        output. Returns a handle: ``handle.remove()`` unregisters it."""
        handle = RemovableHandle(self._forward_hooks)
        self._forward_hooks[handle.id] = hook
        return handle

    # ---------------------------------------------------------------- registration
    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"cannot assign {kind} before Module.__init__() call: call "
                                 "super().__init__() first in your __init__")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name must not contain "." (got "{name}")')
        if name == "":
            raise KeyError(f'{kind} name must not be the empty string ""')

    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter or None) under ``name``."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            "(shendu.nn.Parameter or None required); wrap it: "
                            f"nn.Parameter(tensor)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"cannot assign non-leaf Tensor to parameter '{name}'; a "
                             "parameter must be a leaf: use nn.Parameter(t.detach())")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a buffer: state saved in ``state_dict`` (when ``persistent``) and moved by
        ``to()``, but not learned (e.g. BatchNorm's ``running_mean``)."""
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            "(shendu.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a submodule under ``name`` (what ``self.name = module`` does)."""
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` (``"encoder.0"``)."""
        mod = self
        for item in target.split(".") if target else []:
            if item not in mod._modules:
                raise AttributeError(f"{mod._get_name()} has no submodule `{item}` "
                                     f"(looking for `{target}`)")
            mod = mod._modules[item]
        return mod

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call: "
                                     "call super().__init__() first in your __init__")
            d.pop(name, None)
            self._buffers.pop(name, None)
            self._modules.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                "(shendu.nn.Parameter or None expected)")
            params[name] = None
        elif isinstance(value, Module):
            if params is None:
                raise AttributeError("cannot assign module before Module.__init__() call: "
                                     "call super().__init__() first in your __init__")
            d.pop(name, None)
            params.pop(name, None)
            self._buffers.pop(name, None)
            self._non_persistent_buffers_set.discard(name)
            self._modules[name] = value
        elif params is not None and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                "(shendu.nn.Module or None expected)")
            self._modules[name] = None
        elif params is not None and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                "(shendu.Tensor or None expected)")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        # only called when normal lookup fails: parameters, buffers and submodules
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            s = d.get(store)
            if s is not None and name in s:
                return s[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for store in (self._parameters, self._buffers, self._modules):
            if name in store:
                del store[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__()) + list(self._parameters) + list(self._buffers) + \
            list(self._modules)
        return sorted(k for k in set(keys) if not k[:1].isdigit())

    # ---------------------------------------------------------------- iteration
    def _named_members(self, get_members, prefix="", recurse=True, remove_duplicate=True):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for k, v in get_members(module):
                if v is None or (remove_duplicate and id(v) in memo):
                    continue
                if remove_duplicate:
                    memo.add(id(v))
                yield (module_prefix + ("." if module_prefix else "") + k), v

    def parameters(self, recurse=True):
        """Every parameter of this module (and its submodules when ``recurse``), each
        once even if shared. Hand this to an optimizer: ``SGD(model.parameters(), lr)``."""
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """``(name, parameter)`` pairs, names as dotted paths (``"0.weight"``)."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def children(self):
        """The direct submodules."""
        for _, m in self.named_children():
            yield m

    def named_children(self):
        memo = set()
        for name, m in self._modules.items():
            if m is not None and id(m) not in memo:
                memo.add(id(m))
                yield name, m

    def modules(self):
        """This module and every submodule, depth first, each once."""
        for _, m in self.named_modules():
            yield m

    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """``(path, module)`` pairs: ``("", self)`` first, then ``("0", ...)``..."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from m.named_modules(memo, sub, remove_duplicate)

    def num_parameters(self, only_trainable=False):
        """How many numbers the model learns (Keras's ``count_params``)."""
        return int(sum(p.numel() for p in self.parameters()
                       if p.requires_grad or not only_trainable))

    # ---------------------------------------------------------------- modes
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on every submodule."""
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean, got {mode!r}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self):
        """Evaluation mode: Dropout passes inputs through, BatchNorm uses running stats."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (``False``) or unfreeze every parameter."""
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter (to ``None``, or zeros in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                if p.grad.grad_fn is not None:
                    p.grad = p.grad.detach()
                with no_grad():
                    p.grad.zero_()

    def apply(self, fn):
        """Call ``fn(module)`` on every submodule (children first) and on self, e.g. to
        initialize weights: ``model.apply(init_fn)``."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---------------------------------------------------------------- devices, dtypes
    def _apply_to_arrays(self, fn):
        """Replace the array of every parameter, gradient and buffer by ``fn(array)``,
        in place: the Parameter objects stay the same (an optimizer holding them keeps
        working)."""
        for m in self.modules():
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is None:
                        continue
                    t._data = fn(t._data)
                    if t.grad is not None:
                        t.grad._data = fn(t.grad._data)
        return self

    def to(self, *args, device=None, dtype=None):
        """Move parameters and buffers to a device and/or cast floating ones to a dtype,
        in place: ``model.to("cuda")``, ``model.to(shendu.float64)``."""
        for a in args:
            if isinstance(a, (str, backend.Device)):
                device = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            else:
                dtype = a
        if dtype is not None:
            dtype = backend.to_dtype(dtype)
            if dtype.kind != "f":
                raise TypeError(f"Module.to only accepts floating point dtypes, got {dtype}")
        dev = backend.Device(device) if device is not None else None
        if dev is not None:
            backend.xp_for(dev)  # a clear error when CuPy is missing

        def convert(a):
            if dev is not None:
                a = backend.move(a, dev)
            if dtype is not None and a.dtype.kind == "f" and a.dtype != dtype:
                a = a.astype(dtype)
            return a

        return self._apply_to_arrays(convert)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else f"cuda:{device}")

    def float(self):
        return self.to(backend.float32)

    def double(self):
        return self.to(backend.float64)

    def half(self):
        return self.to(backend.float16)

    def type(self, dst_type):
        return self.to(dst_type)

    def share_memory(self):
        """Move every parameter and buffer into memory shared between processes, in
        place, and return ``self``: processes started afterwards (``shendu.
        multiprocessing.Process``) update the same weights (Hogwild! training).
        Gradients stay private to each process. See ``shendu.multiprocessing``."""
        from ..multiprocessing import share_module_
        return share_module_(self)

    # ---------------------------------------------------------------- state dict
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict ``{path: tensor}`` of every parameter and persistent buffer.

        The tensors are detached but share memory with the model (like PyTorch):
        clone them (``{k: v.clone() for ...}``) to keep a snapshot while training.
        """
        if destination is None:
            destination = OrderedDict()
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(destination=destination, prefix=prefix + name + ".",
                             keep_vars=keep_vars)
        return destination

    def _state_targets(self):
        """``{path: tensor}`` of what ``load_state_dict`` writes into."""
        return self.state_dict(keep_vars=True)

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into the parameters and buffers, in place.

        Values may be shendu Tensors, NumPy arrays or PyTorch tensors. With ``strict``,
        a key the model lacks (unexpected) or a key the dict lacks (missing) is an error;
        a shape mismatch is always one. Nothing is written unless everything matches.
        Returns ``(missing_keys, unexpected_keys)``.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"load_state_dict expects a dict-like state_dict, got "
                            f"{type(state_dict).__name__}")
        targets = self._state_targets()
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        errors = []
        for key, target in targets.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            if not hasattr(value, "shape") and not isinstance(value, (int, float)):
                errors.append(f'While copying the parameter named "{key}", expected a tensor '
                              f"or array from checkpoint but received {type(value).__name__}")
                continue
            vshape = _shape_of_value(value)
            if vshape != target.shape:
                errors.append(f"size mismatch for {key}: copying a param with shape {vshape} "
                              f"from checkpoint, the shape in current model is {target.shape}.")
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in unexpected)))
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
                    ", ".join(f'"{k}"' for k in missing)))
        if errors:
            raise RuntimeError("Error(s) in loading state_dict for {}:\n\t{}".format(
                type(self).__name__, "\n\t".join(errors)))
        with no_grad():
            for key, target in targets.items():
                if key in state_dict:
                    target.copy_(_as_array(state_dict[key], target.xp))
        return _IncompatibleKeys(missing, unexpected)

    # ---------------------------------------------------------------- printing
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside the parentheses of ``repr`` (override it in layers)."""
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = ["(" + key + "): " + _addindent(repr(m), 2)
                       for key, m in self._modules.items()]
        lines = extra_lines + child_lines
        main = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                main += extra_lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"
