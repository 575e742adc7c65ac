"""ONNX export of ``shendu.nn`` and ``shendu.keras`` models: ``export(model, args, path)``.

The model is *traced*: it runs once on ``args`` in evaluation mode, and every op it calls
is written down as ONNX nodes, the way ``torch.onnx.export``'s tracer does. Two kinds of
op are recorded:

* every autograd ``Function`` the forward applies (``Linear``, ``Conv``, ``Reshape``,
  ``Softmax``, ``ScaledDotProductAttention`` ...), by a converter per Function class in
  ``shendu/io/_onnx_ops.py`` and ``_onnx_layers.py``. This is what lets a custom
  ``forward`` (or a Keras functional model, or a subclassed one) export without any
  special support;
* whole modules whose ONNX form is one op that the Function level cannot see
  (``nn.LSTM``/``GRU``/``RNN`` and Keras ``LSTM``/``GRU``/``SimpleRNN`` become ONNX's
  ``LSTM``/``GRU``/``RNN`` ops with the gates reordered, and the batch dimension stays
  free), by a converter per module class in ``shendu/io/_onnx_modules.py``.

Tensors that the traced inputs do not flow into (parameters, buffers, constants a
forward creates, weights a Keras layer transposes) are computed by shendu and stored as
initializers, so constant work is folded away. An op with no converter raises a
``NotImplementedError`` naming the op and the module it ran in; nothing is written then.

The file is checked with ``onnx.checker.check_model`` and written atomically (temporary
file, fsync, rename): a failed export leaves no file, or the old one intact.

>>> import os, tempfile, shendu
>>> from shendu import nn
>>> from shendu.io.onnx import export
>>> model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
>>> path = os.path.join(tempfile.mkdtemp(), "mlp.onnx")
>>> proto = export(model, shendu.randn(3, 4), path, input_names=["x"],
...                output_names=["logits"], dynamic_axes={"x": {0: "batch"}})
>>> [n.op_type for n in proto.graph.node]
['MatMul', 'Add', 'Relu', 'MatMul', 'Add']
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .serialization import atomic_write

__all__ = ["export", "require_onnx", "supported_ops", "supported_modules",
           "DEFAULT_OPSET", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "shendu[onnx]" (or pip install onnx onnxruntime)'
DEFAULT_OPSET = 17
_MIN_OPSET = 17  # LayerNormalization is an ONNX op from opset 17 on


def require_onnx(who="shendu.io.onnx"):
    """The ``onnx`` module, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError:
        raise ImportError(f"{who} needs the onnx package, which is not installed: "
                          f"{INSTALL_HINT}") from None
    return onnx


def _qualname(cls):
    return f"{cls.__module__}.{cls.__qualname__}"


def supported_ops():
    """The autograd Function classes that have an ONNX converter (qualified names)."""
    from . import _onnx_layers, _onnx_ops
    return sorted(_onnx_ops.CONVERTERS) + sorted(_onnx_layers.PRIMITIVES)


def supported_modules():
    """The module classes converted as a whole (qualified names); every other module
    exports when the Functions its forward applies are supported."""
    from . import _onnx_modules
    return sorted(_onnx_modules.CONVERTERS)


# ---------------------------------------------------------------------------- the graph
class Graph:
    """The ONNX graph being built while the model runs.

    It maps each traced shendu Tensor (by identity, and its array by identity) to the
    name of the ONNX value that holds it, and collects nodes and initializers. Converters
    call ``name(x)`` for an input (a traced Tensor, or a constant that becomes an
    initializer), ``op(op_type, inputs, **attributes)`` to add a node and ``bind`` (done
    for them) to name the Tensors a Function or module returned.
    """

    def __init__(self, onnx, opset, param_names):
        self.onnx = onnx
        self.helper = onnx.helper
        self.opset = opset
        self.nodes = []
        self.initializers = []
        self._names = {}        # id(Tensor or array) -> ONNX value name
        self._const = {}        # id(array) -> initializer name (deduplicated)
        self._keep = []         # keeps every object whose id is a key alive
        self._param_names = param_names
        self._used = set()
        self.module_stack = []

    # -------------------------------------------------------------- names
    def fresh(self, hint):
        """A value name not used yet, made from ``hint``."""
        base = "".join(c if c.isalnum() or c in "._/:-" else "_" for c in str(hint)) or "v"
        name, k = base, 1
        while name in self._used:
            name, k = f"{base}_{k}", k + 1
        self._used.add(name)
        return name

    def is_traced(self, x):
        """True when ``x`` (a Tensor or array) depends on the graph's inputs (is traced,
        or is a view of a traced array)."""
        if isinstance(x, Tensor):
            if id(x) in self._names:
                return True
            x = x._data
        if not (hasattr(x, "shape") and hasattr(x, "dtype")):
            return False
        while x is not None:
            if id(x) in self._names:
                return True
            x = getattr(x, "base", None)
        return False

    def bind(self, x, name):
        """Say that Tensor ``x`` is the ONNX value ``name``."""
        self._keep.append(x)
        self._names[id(x)] = name
        if isinstance(x, Tensor):
            self._keep.append(x._data)
            self._names[id(x._data)] = name

    def bind_outputs(self, out, names):
        """Bind a (nested) structure of output Tensors to the same structure of names."""
        if isinstance(out, (tuple, list)):
            if not isinstance(names, (tuple, list)) or len(names) != len(out):
                raise RuntimeError("ONNX export: a converter returned names that do not "
                                   f"match its {len(out)} outputs: {names!r}")
            for o, n in zip(out, names):
                self.bind_outputs(o, n)
        elif isinstance(out, Tensor):
            self.bind(out, names)

    def name(self, x, like=None, hint="const"):
        """The ONNX value name of ``x``: a traced Tensor's name, else an initializer.

        Python numbers become 0-d constants of ``like``'s dtype (float32 without one)."""
        if isinstance(x, Tensor):
            if id(x) in self._names:
                return self._names[id(x)]
            if id(x._data) in self._names:
                return self._names[id(x._data)]
            return self._view_or_const(x._data, hint)
        if hasattr(x, "shape") and hasattr(x, "dtype") and not isinstance(x, np.generic):
            if id(x) in self._names:
                return self._names[id(x)]
            return self._view_or_const(x, hint)
        dtype = np.float32 if like is None else np.dtype(like.dtype)
        return self.const(np.asarray(x, dtype=dtype), hint, dedupe=False)

    def _view_or_const(self, array, hint):
        """An array computed outside autograd: a same-size view of a traced array (an
        indices array reshaped) is a Reshape of it; any other view of traced data would
        be frozen to the example input, so it is an error; anything else a constant."""
        base = getattr(array, "base", None)
        while base is not None:
            if id(base) in self._names:
                if base.size == array.size and array.flags.c_contiguous \
                        and base.flags.c_contiguous:
                    name = self.reshape(self._names[id(base)], base.shape, array.shape)
                    self.bind(array, name)
                    return name
                raise NotImplementedError(
                    f"ONNX export: {self.where()} used a view of a traced value computed "
                    "outside autograd (it would be frozen to the example input)")
            base = getattr(base, "base", None)
        return self.const(array, hint)

    def const(self, array, hint="const", dedupe=True):
        """An initializer holding ``array`` (a NumPy or CuPy array)."""
        if dedupe and id(array) in self._const:
            return self._const[id(array)]
        if backend.get_array_module(array) is not np:
            array = backend.move(array, backend.Device("cpu"))
        host = np.require(array, requirements="C")  # keeps 0-d arrays 0-d
        name = self.fresh(self._param_names.get(id(array), hint))
        self.initializers.append(self.onnx.numpy_helper.from_array(host, name))
        if dedupe:
            self._keep.append(array)
            self._const[id(array)] = name
        return name

    def ints(self, values, hint="shape"):
        """A 1-D int64 initializer (shapes, axes, starts and ends)."""
        return self.const(np.asarray(list(values), dtype=np.int64), hint, dedupe=False)

    # -------------------------------------------------------------- nodes
    def op(self, op_type, inputs, outputs=1, hint=None, **attributes):
        """Add a node; returns its output name (or a list when ``outputs`` > 1).

        ``inputs`` are value names ("" for an omitted optional input); attributes whose
        value is None are left out."""
        hint = hint or op_type
        outs = [self.fresh(f"{hint}_{i}" if outputs > 1 else hint) for i in range(outputs)]
        attrs = {k: v for k, v in attributes.items() if v is not None}
        self.nodes.append(self.helper.make_node(op_type, list(inputs), outs,
                                                name=self.fresh(f"node_{op_type}"), **attrs))
        return outs if outputs > 1 else outs[0]

    def reshape(self, name, in_shape, out_shape):
        """A Reshape from ``in_shape`` to ``out_shape`` (the traced sizes). The target's
        leading sizes that equal the input's are written as 0 (ONNX's "copy this
        dimension") and the next one as -1 (inferred), so ``view(x.shape[0], -1)`` and
        the head splits of attention keep a dynamic batch axis free."""
        target = list(out_shape)
        if 0 in target:  # empty tensors: the literal shape (0 must not mean "copy")
            return self.op("Reshape", [name, self.ints(target)], allowzero=1)
        lead = 0
        while lead < min(len(target), len(in_shape)) and target[lead] == in_shape[lead]:
            target[lead] = 0
            lead += 1
        if lead < len(target):
            target[lead] = -1
        return self.op("Reshape", [name, self.ints(target)])

    def where(self):
        """The module path the trace is in, for error messages."""
        return self.module_stack[-1] if self.module_stack else "the model's forward"


# ---------------------------------------------------------------------------- the tracer
_LOCK = threading.Lock()
_ACTIVE = None  # the Graph of the export in progress (exports run one at a time)
_SUPPRESS = [0]  # > 0 inside a module or primitive converted as a whole
_TRACING_THREAD = [None]  # ops other threads run meanwhile are not recorded
_ORIGINAL_APPLY = Function.__dict__["apply"]


def _traced_apply(cls, *args, **kwargs):
    out = _ORIGINAL_APPLY.__func__(cls, *args, **kwargs)
    graph = _ACTIVE
    if graph is None or _SUPPRESS[0] or threading.get_ident() != _TRACING_THREAD[0] \
            or not _any_traced(graph, args, kwargs):
        return out  # not tracing, inside a whole-module converter, or constant folding
    from ._onnx_ops import CONVERTERS
    convert = CONVERTERS.get(_qualname(cls))
    if convert is None:
        raise NotImplementedError(
            f"ONNX export: the op {cls.__name__} ({_qualname(cls)}), called in "
            f"{graph.where()}, has no ONNX converter; shendu.io.onnx.supported_ops() lists "
            "those that have one (see docs/onnx.md)")
    graph.bind_outputs(out, convert(graph, args, kwargs, out))
    return out


def _any_traced(graph, args, kwargs):
    for a in list(args) + list(kwargs.values()):
        if isinstance(a, (list, tuple)):
            if any(graph.is_traced(b) for b in a):
                return True
        elif graph.is_traced(a):
            return True
    return False


def _module_converter(module):
    """The whole-module converter of ``module``'s class, if it keeps that class's
    forward/call (a subclass with its own forward is traced through its ops)."""
    from ._onnx_modules import CONVERTERS
    for cls in type(module).__mro__:
        convert = CONVERTERS.get(_qualname(cls))
        if convert is not None:
            same = all(getattr(type(module), m, None) is getattr(cls, m, None)
                       for m in ("forward", "call"))
            return convert if same else None
    return None


def _wrap_module(graph, module, path):
    """Wrap ``module``'s forward (nn) or call (keras) in this instance only: it records
    the module path for error messages and runs a whole-module converter if any."""
    attr = "call" if hasattr(type(module), "call") else "forward"
    had = attr in module.__dict__
    original = getattr(module, attr)
    convert = _module_converter(module)
    label = f"{path or 'the model'} ({type(module).__name__})"

    def wrapped(*args, **kwargs):
        graph.module_stack.append(label)
        try:
            if convert is None or _SUPPRESS[0] or not _any_traced(graph, args, kwargs):
                return original(*args, **kwargs)
            _SUPPRESS[0] += 1
            try:
                out = original(*args, **kwargs)
            finally:
                _SUPPRESS[0] -= 1
            graph.bind_outputs(out, convert(graph, module, args, kwargs, out))
            return out
        finally:
            graph.module_stack.pop()

    object.__setattr__(module, attr, wrapped)

    def restore():
        if had:
            object.__setattr__(module, attr, original)
        else:
            del module.__dict__[attr]
    return restore


@contextlib.contextmanager
def _tracing(graph, model):
    """Patch Function.apply, the op primitives and the modules' forwards for one run."""
    global _ACTIVE
    from . import _onnx_layers
    with _LOCK:
        restores = []
        try:
            for path, module in model.named_modules():
                restores.append(_wrap_module(graph, module, path))
            restores.extend(_onnx_layers.patch_primitives(graph, _SUPPRESS))
            Function.apply = classmethod(_traced_apply)
            _TRACING_THREAD[0] = threading.get_ident()
            _ACTIVE = graph
            yield
        finally:
            _ACTIVE = None
            _TRACING_THREAD[0] = None
            Function.apply = _ORIGINAL_APPLY
            for restore in reversed(restores):
                restore()


# ---------------------------------------------------------------------------- export
def _flatten(out, what="output"):
    if isinstance(out, Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for o in out for t in _flatten(o, what)]
    if isinstance(out, dict):
        return [t for o in out.values() for t in _flatten(o, what)]
    raise TypeError(f"ONNX export: the model's {what} must be Tensors (or tuples, lists and "
                    f"dicts of them), got {type(out).__name__}")


def _as_tensors(a, where, flat):
    """``a`` with its arrays made Tensors (tuples and lists kept), each added to ``flat``."""
    if isinstance(a, (tuple, list)):
        return type(a)(_as_tensors(b, f"{where}[{i}]", flat) for i, b in enumerate(a))
    if isinstance(a, np.ndarray):
        a = Tensor(a)
    if not isinstance(a, Tensor):
        raise TypeError(f"ONNX export: {where} must be a shendu Tensor or a NumPy array (or a "
                        f"tuple of them), got {type(a).__name__}")
    flat.append(a)
    return a


def _replace(args, aliases):
    if isinstance(args, (tuple, list)):
        return type(args)(_replace(a, aliases) for a in args)
    return aliases[id(args)]


def _dims(names, axes, shape, who):
    """``axes`` ({axis: name} or [axis, ...]) as a {axis: name} dict, checked."""
    if axes is None:
        return {}
    if isinstance(axes, dict):
        spec = dict(axes)
    elif isinstance(axes, (list, tuple)):
        spec = {a: f"{who}_dynamic_axes_{a}" for a in axes}
    else:
        raise TypeError(f"ONNX export: dynamic_axes[{who!r}] must be a dict {{axis: name}} or a "
                        f"list of axes, got {type(axes).__name__}")
    out = {}
    for a, n in spec.items():
        if not isinstance(a, int) or not -len(shape) <= a < len(shape):
            raise ValueError(f"ONNX export: dynamic_axes[{who!r}] names axis {a!r}, but "
                             f"{who} has shape {tuple(shape)}")
        out[a % len(shape)] = str(n)
    return out


def _value_info(onnx, name, t, dynamic, known_shape):
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(t.dtype))
    if not known_shape and not dynamic:
        shape = [None] * t.ndim  # rank known, sizes follow the dynamic inputs
    else:
        shape = [dynamic.get(i, s) for i, s in enumerate(t.shape)]
    return onnx.helper.make_tensor_value_info(name, elem, shape)


def export(model, args, path=None, input_names=None, output_names=None, dynamic_axes=None,
           opset_version=DEFAULT_OPSET, doc_string=None):
    """Export ``model`` to an ONNX file at ``path``; returns the ``onnx.ModelProto``.

    Parameters
    ----------
    model : ``shendu.nn.Module`` or a ``shendu.keras`` model (Sequential, functional or
        subclassed). It is run once on ``args`` in evaluation mode (dropout off, batch
        norm on its running statistics); its mode is restored afterwards and no
        gradient is left on its parameters.
    args : Tensor, NumPy array, or a tuple of them: the example inputs, called as
        ``model(*args)``; an element may itself be a tuple (``(x, (h0, c0))`` for
        ``nn.LSTM``). Each Tensor, flattened in order, becomes an ONNX input of its shape
        and dtype (token ids stay integer).
    path : str or os.PathLike, or None to only return the model.
    input_names, output_names : lists of str, default ``input_0, ...``, ``output_0, ...``.
        Outputs are the model's returned Tensors flattened in order (``nn.LSTM`` gives
        ``output, h_n, c_n``).
    dynamic_axes : dict, optional, PyTorch's form: ``{"x": {0: "batch"}, "y": [0]}``.
        Named axes may take any size at run time; every other axis is fixed.
    opset_version : int, default 17 (the ONNX opset; 17 up to what ``onnx`` supports).
    doc_string : str, optional, stored in the file.

    Raises
    ------
    NotImplementedError : an op or module with no ONNX converter (named in the message).
    ImportError : onnx is not installed (the message says how to install it).

    Shapes: what the model computes from ``x.shape`` in Python (a view to
    ``(x.shape[0], -1)``, a mask built for this length) is recorded for the traced
    sizes. Reshapes keep the leading sizes they share with their input symbolic, so a
    dynamic batch axis works for the supported layers; a sequence length used to build
    a constant (a causal mask) stays fixed.
    """
    onnx = require_onnx("shendu.io.onnx.export")
    latest = onnx.defs.onnx_opset_version()
    if not isinstance(opset_version, int) or not _MIN_OPSET <= opset_version <= latest:
        raise ValueError(f"export: opset_version must be an int from {_MIN_OPSET} to {latest} "
                         f"(this onnx {onnx.__version__}), got {opset_version!r}")
    if not hasattr(model, "named_modules") or not callable(model):
        raise TypeError(f"export: model must be a shendu.nn.Module or shendu.keras model, got "
                        f"{type(model).__name__}")
    args = tuple(args) if isinstance(args, tuple) else (args,)
    inputs = []
    args = tuple(_as_tensors(a, f"args[{i}]", inputs) for i, a in enumerate(args))
    # The trace runs with gradients on and the floating inputs requiring them: ops that
    # take a shortcut without an autograd Function when no gradient is wanted (max of a
    # tensor, max pooling) then go through their Function, which is converted or named
    # in a clear error, instead of becoming a silent constant.
    aliases = {id(t): t.detach().requires_grad_(True) if t.dtype.kind == "f" else t
               for t in inputs}
    traced_args = _replace(args, aliases)
    input_names = list(input_names or [f"input_{i}" for i in range(len(inputs))])
    if len(input_names) != len(inputs) or len(set(input_names)) != len(input_names):
        raise ValueError(f"export: input_names must be {len(inputs)} distinct names (one per "
                         f"Tensor in args), got {input_names}")
    dynamic_axes = dict(dynamic_axes or {})

    param_names = {}
    for n, p in list(model.named_parameters()) + list(model.named_buffers()):
        if p is not None:
            param_names.setdefault(id(p._data), n)
    graph = Graph(onnx, opset_version, param_names)
    for name, t in zip(input_names, inputs):
        graph.bind(aliases[id(t)], name)
        graph._used.add(name)
    graph._used.update(str(n) for n in output_names or ())  # no inner value takes them

    was_training = model.training
    model.train(False)
    try:
        with grad_mode.enable_grad(), _tracing(graph, model):
            out = model(*traced_args)
    finally:
        model.train(was_training)

    outputs = _flatten(out)
    output_names = [str(n) for n in output_names] if output_names else \
        [graph.fresh(f"output_{i}") for i in range(len(outputs))]
    if len(output_names) != len(outputs) or len(set(output_names)) != len(output_names):
        raise ValueError(f"export: output_names must be {len(outputs)} distinct names (the "
                         f"model returned {len(outputs)} Tensors), got {output_names}")
    unknown = set(dynamic_axes) - set(input_names) - set(output_names)
    if unknown:
        raise ValueError(f"export: dynamic_axes names {sorted(unknown)}, which are neither "
                         f"inputs {input_names} nor outputs {output_names}")
    _name_outputs(graph, outputs, output_names, input_names)

    any_dynamic = any(n in dynamic_axes for n in input_names)
    graph_proto = onnx.helper.make_graph(
        graph.nodes, getattr(model, "name", None) or type(model).__name__,
        [_value_info(onnx, n, t, _dims(input_names, dynamic_axes.get(n), t.shape, n), True)
         for n, t in zip(input_names, inputs)],
        [_value_info(onnx, n, t, _dims(output_names, dynamic_axes.get(n), t.shape, n),
                     not any_dynamic) for n, t in zip(output_names, outputs)],
        graph.initializers)
    proto = onnx.helper.make_model(
        graph_proto, producer_name="shendu", doc_string=doc_string or "",
        opset_imports=[onnx.helper.make_opsetid("", opset_version)])
    proto.ir_version = min(proto.ir_version, _ir_version(onnx, opset_version))
    onnx.checker.check_model(proto)
    if path is not None:
        atomic_write(path, proto.SerializeToString())
    return proto


def _name_outputs(graph, outputs, output_names, input_names):
    """Give the model's outputs their names: the node that makes one is renamed (every
    use follows), else (an input, a constant, an output returned twice) an Identity."""
    produced = {o for n in graph.nodes for o in n.output}
    renamed = {}
    for name, t in zip(output_names, outputs):
        if name in input_names:
            raise ValueError(f"export: output name {name!r} is also an input name")
        source = graph.name(t, hint=name)  # an untraced output becomes a constant
        if source in produced and source not in renamed:
            renamed[source] = name
        else:
            graph.nodes.append(graph.helper.make_node(
                "Identity", [renamed.get(source, source)], [name],
                name=graph.fresh("node_output")))
    for node in graph.nodes:
        for field in (node.input, node.output):
            for i, v in enumerate(field):
                if v in renamed:
                    field[i] = renamed[v]


def _ir_version(onnx, opset):
    """The newest IR version that runtimes supporting ``opset`` read (onnx's table)."""
    for row in getattr(onnx.helper, "VERSION_TABLE", ()):  # (release, ir, opset, ...)
        if row[2] >= opset:  # the oldest onnx release that knows this opset
            return row[1]
    return onnx.IR_VERSION
