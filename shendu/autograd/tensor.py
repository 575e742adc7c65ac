"""``Tensor``: an array (NumPy or CuPy) plus what autograd needs to differentiate it.

A tensor holds ``data`` (the backend array), ``grad`` (a Tensor once backward ran),
``requires_grad`` and, when an op with a differentiable input made it, the graph
node (``grad_fn``) that knows how to send gradients back to that op's inputs.

Example: the course's first PyTorch snippet (lesson 4.6)

>>> import shendu
>>> out = shendu.tensor([[0.1, 0.1, 0.1], [0.1, 1.0, 0.1]], requires_grad=True)
>>> lbl = shendu.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
>>> L = ((out - lbl) ** 2).sum(axis=-1).mean(axis=-1)
>>> L
tensor(0.4250, grad_fn=<MeanBackward>)
>>> L.backward(); out.grad
tensor([[-0.9000,  0.1000,  0.1000],
        [ 0.1000,  0.0000,  0.1000]])

Operators, reductions, shape and indexing methods come from ``OpMethods``
(tensor_methods.py): each is a thin call into a Function in ``shendu/ops``.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from . import grad_mode
from .tensor_methods import OpMethods


class Tensor(OpMethods):
    """A multi-dimensional array that records the operations applied to it.

    Build one with ``shendu.tensor(data, dtype=None, requires_grad=False)`` or the
    creation functions (``zeros``, ``randn``...). ``Tensor(data)`` works the same.
    """

    __slots__ = ("_data", "requires_grad", "grad", "_node", "_out_index", "_vc",
                 "_retains_grad", "_hooks", "__weakref__")  # _hooks: set by register_hook
    __array_ufunc__ = None  # make ``ndarray * Tensor`` call Tensor.__rmul__
    __hash__ = object.__hash__

    def __init__(self, data, dtype=None, requires_grad=False, device=None):
        t = _to_array(data, dtype, device)
        self._data = t
        self.grad = None
        self._node = None
        self._out_index = 0
        self._vc = [0]
        self._retains_grad = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data, requires_grad=False, node=None, index=0):
        """Wrap an array without checks (the fast path ops use)."""
        t = Tensor.__new__(Tensor)
        t._data = data
        t.requires_grad = requires_grad
        t.grad = None
        t._node = node
        t._out_index = index
        t._vc = [0]
        t._retains_grad = False
        return t

    # ------------------------------------------------------------ properties
    @property
    def data(self):
        """The same values as a new Tensor cut from the graph, sharing memory (PyTorch's
        ``.data``): changes made through it are not seen by autograd, which is what
        hand-written updates want. The array itself is ``t.numpy()`` (CPU) or
        ``t._data`` (the backend array, NumPy or CuPy).

        Assigning ``t.data = other`` (a Tensor or an array) makes ``t`` hold ``other``'s
        values (its shape and dtype too), keeping ``t``'s identity, ``requires_grad`` and
        ``grad``.

        >>> import shendu
        >>> w = shendu.ones(3, requires_grad=True)
        >>> (w * 2).sum().backward()
        >>> w.data.add_(w.grad, alpha=-0.5)    # p.data.add_(p.grad, alpha=-lr), as in PyTorch
        tensor([0., 0., 0.])
        >>> w, w.data.requires_grad
        (tensor([0., 0., 0.], requires_grad=True), False)
        >>> w.data = shendu.full((3,), 5.0); w
        tensor([5., 5., 5.], requires_grad=True)
        """
        return Tensor._make(self._data)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        elif not (hasattr(value, "shape") and hasattr(value, "dtype")):
            raise TypeError(f"Tensor.data = ...: expected a Tensor or an array, got "
                            f"{type(value).__name__} (wrap it: shendu.tensor(value))")
        self._data = value

    @property
    def _version(self):
        """How many times the data was changed in place. Views (reshape, transpose,
        slices, detach...) share one counter with the tensor whose memory they show, as
        in PyTorch, so a change through either is seen by a backward that saved the other."""
        return self._vc[0]

    @_version.setter
    def _version(self, value):
        self._vc[0] = value

    @property
    def shape(self):
        """The size of each dimension, a tuple (``torch.Size`` is a tuple too)."""
        return tuple(self._data.shape)

    @property
    def ndim(self):
        return self._data.ndim

    @property
    def dtype(self):
        return self._data.dtype

    @property
    def xp(self):
        """The array module holding ``data``: ``numpy`` or ``cupy``."""
        return backend.get_array_module(self._data)

    @property
    def device(self):
        return backend.device_of(self._data)

    @property
    def is_cuda(self):
        return self.device.type == "cuda"

    @property
    def grad_fn(self):
        """The graph node that made this tensor (``None`` for leaves)."""
        return self._node

    @property
    def is_leaf(self):
        """True for tensors not made by a recorded op (parameters, inputs)."""
        return self._node is None

    @property
    def retains_grad(self):
        return self._retains_grad

    def size(self, dim=None):
        """The shape, or the size of one dimension: ``x.size(0)``."""
        return self.shape if dim is None else self._data.shape[dim]

    def dim(self):
        return self._data.ndim

    def numel(self):
        return int(self._data.size)

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def element_size(self):
        return self._data.dtype.itemsize

    def is_floating_point(self):
        return self._data.dtype.kind == "f"

    # ------------------------------------------------------------ conversion
    def numpy(self):
        """The data as a NumPy array (shares memory on the CPU; refuses if grad is tracked,
        like PyTorch: call ``.detach().numpy()``)."""
        if self.requires_grad:
            raise RuntimeError("Can't call numpy() on a Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        return self._data if self.xp is np else self.xp.asnumpy(self._data)

    def __array__(self, dtype=None, copy=None):
        a = self._data if self.xp is np else self.xp.asnumpy(self._data)
        return a if dtype is None else a.astype(dtype)

    def item(self):
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, this one has shape "
                             f"{self.shape} ({self.data.size} elements)")
        return self._data.reshape(()).item()

    def tolist(self):
        return self.__array__().tolist()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self._data.dtype.kind not in "iub":
            raise TypeError("only integer tensors of a single element can be used as an index")
        return int(self.item())

    def __bool__(self):
        if self._data.size != 1:
            raise RuntimeError(f"Boolean value of a tensor with {self.data.size} elements is "
                               "ambiguous: use .any() or .all()")
        return bool(self.item())

    # ------------------------------------------------------------ autograd
    def requires_grad_(self, requires_grad=True):
        """Start (or stop) recording operations on this leaf tensor, in place."""
        if requires_grad and self._data.dtype.kind not in "fc":
            raise RuntimeError(f"only floating point tensors can require gradients, this "
                               f"one is {self.data.dtype}; convert it with .float() first")
        if not requires_grad and self._node is not None:
            raise RuntimeError("requires_grad_(False) only works on leaf tensors; use .detach()")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that doesn't require grad")
        if self._node is not None:
            self._retains_grad = True
        return self

    def detach(self):
        """A new tensor sharing ``data`` (and its version counter), cut from the graph
        (``requires_grad=False``)."""
        t = Tensor._make(self._data)
        t._vc = self._vc
        return t

    def detach_(self):
        self._node = None
        self.requires_grad = False
        return self

    def backward(self, gradient=None, retain_graph=None, create_graph=False):
        """Compute the gradient of this tensor with respect to the graph's leaves and
        accumulate it in their ``.grad``.

        ``gradient`` is needed (same shape as this tensor) unless it is a scalar. The
        graph is freed afterwards unless ``retain_graph=True``; ``create_graph=True``
        makes the gradients differentiable (higher-order derivatives).
        """
        from .engine import backward
        backward([self], [gradient], retain_graph, create_graph)

    def register_hook(self, hook):
        """Call ``hook(grad)`` each time the gradient of this tensor is computed.

        The hook gets the gradient as a Tensor and may return a new gradient of the same
        shape, which then flows on (into ``.grad`` for a leaf, to the ops before it
        otherwise). Returns a handle: ``handle.remove()`` unregisters the hook.

        >>> x = shendu.tensor([1.0, 2.0], requires_grad=True)
        >>> h = x.register_hook(lambda g: g * 10)
        >>> (x * x).sum().backward()
        >>> x.grad
        tensor([20., 40.])
        >>> h.remove()
        """
        from . import hooks as _hooks
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does "
                               "not require grad")
        if not callable(hook):
            raise TypeError(f"register_hook expects a function, got {type(hook).__name__}")
        hooks = getattr(self, "_hooks", None)
        if hooks is None:
            hooks = self._hooks = {}
        handle = _hooks.RemovableHandle(hooks)
        hooks[handle.id] = hook
        _hooks.any_registered = True
        return handle

    # ------------------------------------------------------------ in place
    def _check_inplace(self, name):
        if self.requires_grad and grad_mode._state.enabled:
            if self._node is None:
                raise RuntimeError(
                    f"{name}: a leaf tensor that requires grad is being used in an in-place "
                    "operation; wrap parameter updates in `with shendu.no_grad():`")
            raise RuntimeError(
                f"{name}: in-place operations on tensors that are part of a graph are not "
                "differentiable in shendu; write x = x + y instead of x.add_(y)")

    def _set(self, name, array):
        """Write ``array`` into ``data`` in place and bump the version counter."""
        self._check_inplace(name)
        xp = self.xp
        if backend.get_array_module(array) is not xp and not np.isscalar(array):
            raise RuntimeError(f"{name}: expected a tensor on {self.device}")
        if self._data.ndim == 0:
            self._data = xp.asarray(array, dtype=self._data.dtype).reshape(())
        else:
            self._data[...] = array
        self._version += 1
        return self

    def add_(self, other, alpha=1):
        """``self += alpha * other`` in place."""
        o = _value(other)
        return self._set("add_", self._data + (o if alpha == 1 else alpha * o))

    def sub_(self, other, alpha=1):
        o = _value(other)
        return self._set("sub_", self._data - (o if alpha == 1 else alpha * o))

    def mul_(self, other):
        return self._set("mul_", self._data * _value(other))

    def div_(self, other):
        return self._set("div_", self._data / _value(other))

    def pow_(self, exponent):
        return self._set("pow_", self._data ** _value(exponent))

    def addcmul_(self, a, b, value=1):
        """``self += value * a * b`` in place (optimizers use it)."""
        return self._set("addcmul_", self._data + value * _value(a) * _value(b))

    def addcdiv_(self, a, b, value=1):
        """``self += value * a / b`` in place (optimizers use it)."""
        return self._set("addcdiv_", self._data + value * _value(a) / _value(b))

    def zero_(self):
        return self._set("zero_", 0)

    def fill_(self, value):
        return self._set("fill_", _value(value))

    def copy_(self, src):
        """Copy ``src`` (broadcast to this shape) into this tensor in place."""
        s = _value(src)
        if not np.isscalar(s) and not _broadcasts_to(s.shape, self.shape):
            raise RuntimeError(f"copy_: source of shape {tuple(s.shape)} does not broadcast "
                               f"to this tensor's shape {self.shape}")
        if backend.get_array_module(s) is not self.xp and not np.isscalar(s):
            s = backend.move(s, self.device)
        return self._set("copy_", s)

    def clamp_(self, min=None, max=None):
        return self._set("clamp_", self.xp.clip(self._data, min, max))

    clip_ = clamp_

    def uniform_(self, a=0.0, b=1.0):
        """Fill in place from U(a, b) with shendu's seeded generator."""
        gen = backend.default_generator(self.xp)
        return self._set("uniform_", gen.uniform(a, b, self.shape).astype(self.dtype))

    def normal_(self, mean=0.0, std=1.0):
        """Fill in place from N(mean, std^2) with shendu's seeded generator."""
        gen = backend.default_generator(self.xp)
        return self._set("normal_", gen.normal(mean, std, self.shape).astype(self.dtype))

    def __setitem__(self, index, value):
        if self.requires_grad and grad_mode._state.enabled:
            raise RuntimeError(
                "item assignment (x[i] = v) on a tensor that requires grad is not "
                "differentiable in shendu; build the result out of place (where, masked_fill, "
                "cat) or assign under shendu.no_grad()")
        self._data[_index_value(index)] = _value(value)
        self._version += 1

    # ------------------------------------------------------------ devices, dtypes
    def to(self, *args, dtype=None, device=None, copy=False):
        """Move to a device and/or cast: ``x.to("cuda")``, ``x.to(shendu.float64)``."""
        for a in args:
            if isinstance(a, (str, backend.Device)):
                device = a
            elif isinstance(a, Tensor):
                device, dtype = a.device, a.dtype
            else:
                dtype = a
        out = self
        if dtype is not None and backend.to_dtype(dtype) != self.dtype:
            from ..ops.elementwise import cast
            out = cast(out, backend.to_dtype(dtype))
        if device is not None and backend.Device(device) != self.device:
            from ..ops.elementwise import to_device
            out = to_device(out, backend.Device(device))
        if copy and out is self:
            out = self.clone()
        return out

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

    def long(self):
        return self.to(backend.int64)

    def int(self):
        return self.to(backend.int32)

    def bool(self):
        return self.to(backend.bool_)

    def type(self, dtype=None):
        return str(self.dtype) if dtype is None else self.to(dtype)

    def astype(self, dtype):
        return self.to(dtype)

    def type_as(self, other):
        return self.to(other.dtype)

    # ------------------------------------------------------------ printing
    def __repr__(self):
        return _format(self)

    def __str__(self):
        return _format(self)

    def __format__(self, spec):
        """``f"{t:.2f}"`` formats a 0-d tensor as its number (as PyTorch does); other
        tensors take only the empty format.

        >>> import shendu
        >>> f"{shendu.tensor(3.14159):.2f} {shendu.tensor(7):>3d}"
        '3.14   7'
        """
        if self._data.ndim == 0:
            return format(self.item(), spec)
        if spec:
            raise TypeError(f"format spec {spec!r} given for a Tensor of shape {self.shape}: "
                            "only 0-d tensors take a number format (use t.item() or "
                            "t.tolist())")
        return _format(self)


def _value(x):
    """The array (or Python number) behind a Tensor, array or number."""
    return x._data if isinstance(x, Tensor) else x


def _broadcasts_to(src, dst):
    try:
        return tuple(np.broadcast_shapes(tuple(src), tuple(dst))) == tuple(dst)
    except ValueError:
        return False


def _index_value(index):
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    return index


def _to_array(data, dtype=None, device=None):
    """Make a backend array from a Tensor, array, list or number.

    Python floats (and lists of them) become the default dtype (float32); NumPy arrays
    keep their dtype, as ``torch.tensor`` does.
    """
    dev = backend.Device(device) if device is not None else None
    if isinstance(data, Tensor):
        data = data._data
    xp = backend.xp_for(dev) if dev is not None else backend.get_array_module(data)
    if dev is not None and backend.get_array_module(data) is not xp:
        data = backend.move(data, dev) if hasattr(data, "shape") else data
    if dtype is not None:
        return xp.array(data, dtype=backend.to_dtype(dtype))
    if hasattr(data, "dtype") and hasattr(data, "shape"):
        return xp.array(data)
    arr = xp.array(_flatten_tensors(data))
    if arr.dtype.kind == "f" and arr.dtype != backend.get_default_dtype():
        arr = arr.astype(backend.get_default_dtype())
    elif arr.dtype.kind == "i" and arr.dtype != np.int64:
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "fiub c":
        raise TypeError(f"can't make a tensor from {type(data).__name__} "
                        f"(NumPy dtype {arr.dtype}); expected numbers, lists of numbers or arrays")
    return arr


def _flatten_tensors(data):
    if isinstance(data, (list, tuple)):
        return [_flatten_tensors(d) for d in data]
    if isinstance(data, Tensor):
        return data.__array__()
    return data


# -------------------------------------------------------------------- repr
# set by shendu.set_printoptions (torch.set_printoptions): decimals, summarise above
# ``threshold`` elements showing ``edgeitems`` per end, ``sci_mode`` None = automatic
PRINT_OPTIONS = {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 75,
                 "sci_mode": None}


def _format(t):
    arr = t.__array__()
    suffix = []
    if arr.dtype.kind == "f":
        body = _format_float(arr)
        if arr.dtype != backend.get_default_dtype():
            suffix.append(f"dtype=shendu.{arr.dtype}")
    else:
        body = np.array2string(arr, separator=", ", prefix="tensor(",
                               threshold=PRINT_OPTIONS["threshold"],
                               edgeitems=PRINT_OPTIONS["edgeitems"],
                               max_line_width=PRINT_OPTIONS["linewidth"])
        if arr.dtype.kind == "b":
            body = body.replace("True", "True").replace("False", "False")
        if arr.dtype not in (np.int64, np.bool_):
            suffix.append(f"dtype=shendu.{arr.dtype}")
    if arr.size == 0:
        body = "[]"
        suffix.insert(0, f"size={tuple(arr.shape)}")
    if t.device.type != "cpu":
        suffix.insert(0, f"device='{t.device}'")
    if t._node is not None:
        suffix.append(f"grad_fn=<{t._node.fn.__name__}Backward>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"


def _format_float(arr):
    """PyTorch's style: 4 decimals, ``1.`` for whole numbers, scientific when the
    magnitudes span too much."""
    finite = arr[np.isfinite(arr)].astype(np.float64)  # float16 would overflow max/min
    nonzero = np.abs(finite[finite != 0]) if finite.size else finite
    prec, sci = PRINT_OPTIONS["precision"], PRINT_OPTIONS["sci_mode"]
    auto_sci = bool(nonzero.size and (nonzero.max() / nonzero.min() > 1000
                                      or nonzero.max() > 1e8 or nonzero.min() < 1e-4))
    if sci is None and finite.size and np.all(finite == np.round(finite)) and (
            nonzero.size == 0 or nonzero.max() < 1e8):
        fmt = lambda v: f"{v:.0f}." if np.isfinite(v) else str(v).replace("inf", "inf")
    elif sci or (sci is None and auto_sci):
        fmt = lambda v: f"{v:.{prec}e}"
    else:
        fmt = lambda v: f"{v:.{prec}f}"
    if arr.ndim == 0:
        return fmt(arr.item())
    width = max((len(fmt(v)) for v in _shown(arr)), default=0)
    return np.array2string(arr, separator=", ", prefix="tensor(",
                           threshold=PRINT_OPTIONS["threshold"],
                           edgeitems=PRINT_OPTIONS["edgeitems"],
                           max_line_width=PRINT_OPTIONS["linewidth"],
                           formatter={"float_kind": lambda v: fmt(v).rjust(width)})


def _shown(arr):
    """The elements the summary will print (all of them for up to 1000)."""
    if arr.size <= PRINT_OPTIONS["threshold"]:
        return arr.reshape(-1)
    e = PRINT_OPTIONS["edgeitems"]
    idx = tuple(np.r_[0:e, -e:0] if n > 2 * e else slice(None) for n in arr.shape)
    return arr[np.ix_(*[np.arange(n)[i] for n, i in zip(arr.shape, idx)])].reshape(-1)
