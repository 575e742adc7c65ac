"""``Function``: one differentiable op, a ``forward`` and a ``backward`` side by side.

Both work on raw backend arrays (NumPy or CuPy), never on Tensors::

    class Exp(Function):
        '''y = e^x,   dL/dx = g * y'''
        double_backward = True          # backward uses only ops that have gradients

        @staticmethod
        def forward(ctx, x):
            y = ctx.xp.exp(x)
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, g):
            y, = ctx.saved_tensors
            return g * y

    y = Exp.apply(x)                    # a Tensor, recorded in the graph

Contract
--------
* ``forward(ctx, *args, **kwargs)``: Tensor arguments arrive as arrays, anything else
  (Python numbers, axes, flags) as is. Return one array or a tuple of arrays.
* ``backward(ctx, *grads)``: one gradient per output; return one gradient per
  positional argument of ``forward`` (``None`` where there is none), shaped like it.
  ``ctx.needs_input_grad[i]`` says which are wanted.
* ``ctx.xp`` is the array module; ``ctx.save_for_backward(*arrays)`` keeps arrays for
  backward, read back with ``ctx.saved_tensors``. Other values may be stored as
  attributes (``ctx.axis = axis``).
* Double backward (``create_graph=True``): a Function whose backward is written with
  operators, array methods common to arrays and Tensors (``sum(axis, keepdims)``,
  ``reshape``, ``swapaxes``, ``@``) and ``ctx.xp`` functions sets
  ``double_backward = True``. The engine then runs that same backward on Tensors:
  ``ctx.xp`` becomes a Tensor namespace, the saved inputs and outputs become the graph's
  own Tensors, so the gradient is itself differentiable. Fused ops whose backward is
  not written that way keep ``double_backward = False`` and raise a clear error.
"""
from __future__ import annotations

import weakref

from .. import backend
from . import grad_mode
from .tensor import Tensor


class Context:
    """Per-call state of a Function, and the graph node of its outputs."""

    __slots__ = ("fn", "inputs", "needs_input_grad", "xp", "_saved", "_saved_src",
                 "_versions", "_outs", "out_meta", "retained", "freed", "tensor_mode",
                 "__dict__")

    def __init__(self, fn, xp):
        self.fn = fn
        self.xp = xp
        self._saved = ()
        self._saved_src = None
        self._versions = None
        self.retained = None
        self.freed = False
        self.tensor_mode = False

    def save_for_backward(self, *arrays):
        """Keep arrays (inputs, outputs or intermediates) for ``backward``."""
        self._saved = arrays

    @property
    def saved_tensors(self):
        """The arrays given to ``save_for_backward`` (Tensors in double-backward mode)."""
        if self.freed:
            raise RuntimeError(_FREED_MESSAGE.format(self.fn.__name__))
        if not self.tensor_mode:
            return self._saved
        return tuple(self._as_graph_tensor(i, a) for i, a in enumerate(self._saved))

    def _as_graph_tensor(self, i, array):
        kind, ref = self._saved_src[i]
        if kind == "in":
            return self.inputs[ref]
        if kind == "out":
            t = self._outs[ref]()
            if t is None:
                raise RuntimeError(f"{self.fn.__name__}: its output was freed before a "
                                   "double backward needed it; keep a reference to it")
            return t
        # other saved values are constants: arrays become constant Tensors, Python
        # numbers stay numbers (so they keep their weak dtype)
        return Tensor._make(array) if hasattr(array, "dtype") and hasattr(array, "shape") \
            else array

    @property
    def next_nodes(self):
        return [t._node for t in self.inputs if t is not None and t._node is not None]


_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (through {}), but its saved "
    "values were already freed. Pass retain_graph=True to the first backward() or "
    "autograd.grad() if you need to backward through the graph again.")


class Function:
    """Base class of every differentiable op; subclass it to define your own.

    Example
    -------
    >>> import shendu
    >>> from shendu.autograd import Function
    >>> class Cube(Function):
    ...     @staticmethod
    ...     def forward(ctx, x):
    ...         ctx.save_for_backward(x)
    ...         return x ** 3
    ...     @staticmethod
    ...     def backward(ctx, g):
    ...         x, = ctx.saved_tensors
    ...         return 3 * x ** 2 * g
    >>> x = shendu.tensor([2.0], requires_grad=True)
    >>> Cube.apply(x).backward(shendu.ones(1)); x.grad
    tensor([12.])
    """

    double_backward = False

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError

    @classmethod
    def apply(cls, *args, **kwargs):
        xp = None
        arrays = []
        record = False
        for a in args:
            if isinstance(a, Tensor):
                d = a._data
                m = backend.get_array_module(d)
                if xp is None:
                    xp = m
                elif m is not xp:
                    raise RuntimeError(
                        f"{cls.__name__}: expected all tensors on the same device, "
                        f"got {backend.device_of(arrays[0] if arrays else d)} and "
                        f"{a.device}; move them with .to(device) first")
                arrays.append(d)
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        ctx = Context(cls, xp or backend.np)
        out = cls.forward(ctx, *arrays, **kwargs)
        record = record and grad_mode._state.enabled
        if isinstance(out, tuple):
            if not record:
                return _share_versions(args, tuple(Tensor._make(o) for o in out))
            outs = tuple(Tensor._make(o, True, ctx, i) for i, o in enumerate(out))
        else:
            if not record:
                return _share_versions(args, (Tensor._make(out),))[0]
            outs = (Tensor._make(out, True, ctx, 0),)
        _share_versions(args, outs)
        ctx.inputs = tuple(a if isinstance(a, Tensor) else None for a in args)
        ctx.needs_input_grad = tuple(a is not None and a.requires_grad for a in ctx.inputs)
        ctx.out_meta = tuple((o._data.shape, o._data.dtype) for o in outs)
        ctx._outs = tuple(weakref.ref(o) for o in outs)
        if ctx._saved:
            _remember_sources(ctx, arrays, outs)
        return outs if isinstance(out, tuple) else outs[0]


def _root(a):
    """The array that owns the memory ``a`` shows (``a`` itself if it owns it)."""
    while getattr(a, "base", None) is not None:
        a = a.base
    return a


def _share_versions(args, outs):
    """An output that shows an input's memory (a view: reshape, transpose, slicing...)
    shares that input's version counter, so an in-place change through one is seen
    through the other. Returns ``outs``."""
    for o in outs:
        d = o._data
        if getattr(d, "base", None) is None and not any(
                isinstance(a, Tensor) and a._data is d for a in args):
            continue  # a fresh array: the common case
        root = _root(d)
        for a in args:
            if isinstance(a, Tensor) and _root(a._data) is root:
                o._vc = a._vc
                break
    return outs


def _remember_sources(ctx, arrays, outs):
    """Note which saved arrays are inputs or outputs (for version checks and double
    backward), and the versions those tensors had when saved."""
    src, versions = [], []
    for s in ctx._saved:
        kind = None
        for i, a in enumerate(arrays):
            if s is a and ctx.inputs[i] is not None:
                kind = ("in", i)
                versions.append((ctx.inputs[i], ctx.inputs[i]._version))
                break
        else:
            for k, o in enumerate(outs):
                if s is o._data:
                    kind = ("out", k)
                    versions.append((ctx._outs[k], o._version))
                    break
        src.append(kind or ("const", None))
    ctx._saved_src = src
    ctx._versions = versions


def check_versions(ctx):
    """Raise if a tensor saved for backward was modified in place since."""
    for t, v in ctx._versions or ():
        if isinstance(t, weakref.ref):
            t = t()
            if t is None:
                continue
        if t._version != v:
            raise RuntimeError(
                f"one of the tensors needed by {ctx.fn.__name__} for backward was modified "
                f"by an in-place operation: it is at version {t._version}, expected "
                f"version {v} (shape {t.shape}). Use an out-of-place op (x = x + y) "
                "instead of x.add_(y), or clone the tensor before changing it.")
