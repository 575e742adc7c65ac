"""``model_graph``: the ops a model runs, as the GraphDef that TensorBoard's Graphs tab draws.

shendu records no static graph: the graph is the autograd graph that one forward pass
leaves behind. ``model_graph(model, inputs)`` runs ``model(*inputs)`` once in evaluation
mode with gradients recorded, then walks back from the outputs through each result's
``grad_fn`` node (as ``shendu.autograd.graph_to_dot`` does) and writes one ``NodeDef`` per

* op: its ``Function`` class name (``Linear``, ``Conv``, ``ReLU``, ``MatMul``...) is the
  op type; the node is named inside the scope of the innermost module that ran it,
  ``Net/Linear[fc1]/Linear`` (an ``nn.Module`` child is ``Type[attribute]``, as in
  PyTorch's graphs) or ``sequential/dense/MatMul`` (a Keras layer by its ``name``);
* parameter or buffer: ``Net/Linear[fc1]/weight``, op ``Parameter`` (``Buffer``);
* model input and output: ``input/input_0`` and ``output/output_0``, op ``IO Node``;
* other constant tensor an op used (a mask, a fixed table): op ``Constant``.

Every node carries ``_output_shapes`` (which TensorBoard writes on the edges) and
``dtype``. Edges are the node's ``input`` names, ``name:1`` for an op's second output.

Scopes come from the modules: for the pass, each module's ``forward`` (for a Keras layer,
its ``call``) is wrapped to note its input and output tensors. An op belongs to the
innermost module whose call produced it: walking back from a module's outputs until its
inputs reaches exactly the ops it ran. The wrappers are removed afterwards.

Needs ``tensorboardX`` for its protocol-buffer classes (the ``tensorboard`` extra).

>>> import shendu
>>> from shendu import nn
>>> from shendu.utils.tensorboard_graph import model_graph
>>> net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
>>> g = model_graph(net, shendu.zeros(2, 4))
>>> for n in g.node:
...     print(f"{n.name:28} {n.op:10} {[i.split('/')[-1] for i in n.input]}")
input/input_0                IO Node    []
Sequential/Linear[0]/weight  Parameter  []
Sequential/Linear[0]/bias    Parameter  []
Sequential/Linear[0]/Linear  Linear     ['input_0', 'weight', 'bias']
Sequential/ReLU[1]/ReLU      ReLU       ['Linear']
output/output_0              IO Node    ['ReLU']
"""
from __future__ import annotations

import re

import numpy as np

from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..nn.module import Module

__all__ = ["model_graph"]

_BAD_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-/\[\]]")
_MISSING = object()
_DTYPES = {"float32": 1, "float64": 2, "int32": 3, "uint8": 4, "int16": 5, "int8": 6,
           "int64": 9, "bool": 10, "uint16": 17, "float16": 19, "uint32": 22, "uint64": 23}


def _protos():
    from .tensorboard import require_tensorboardx
    require_tensorboardx("shendu.utils.tensorboard_graph.model_graph")
    from tensorboardX.proto import (attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2,
                                    versions_pb2)
    return attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2, versions_pb2


def _as_inputs(model, input_to_model):
    """``input_to_model`` as a tuple of Tensors; float ones are fresh leaves that require
    grad, so the pass records a graph even when no parameter requires grad."""
    if input_to_model is None:
        shape = getattr(model, "input_shape", None)  # a built Keras model knows its input
        if not (isinstance(shape, tuple) and all(s is None or isinstance(s, int)
                                                 for s in shape)):
            raise ValueError(f"model_graph: {type(model).__name__} needs an example input "
                             "(input_to_model=a Tensor, array or tuple of them) to run once")
        dtype = getattr(model, "dtype", None) or "float32"
        input_to_model = np.zeros(tuple(1 if s is None else s for s in shape), dtype=dtype)
    items = input_to_model if isinstance(input_to_model, (tuple, list)) else (input_to_model,)
    out = []
    for i, x in enumerate(items):
        if isinstance(x, Tensor):
            data = x._data
        else:
            try:
                data = np.asarray(x)
            except Exception:
                data = None
            if data is None or data.dtype.kind not in "biuf":
                raise TypeError(f"model_graph: input {i} must be a Tensor or a numeric array, "
                                f"got {type(x).__name__}")
        t = Tensor._make(data)
        if data.dtype.kind == "f":
            t.requires_grad = True
        out.append(t)
    return tuple(out)


def _flat_tensors(value, out):
    if isinstance(value, Tensor):
        out.append(value)
    elif isinstance(value, (tuple, list)):
        for v in value:
            _flat_tensors(v, out)
    elif isinstance(value, dict):
        for v in value.values():
            _flat_tensors(v, out)
    return out


def _module_scopes(model):
    """``{id(module): (module, scope)}`` for the model and every submodule."""
    def own_name(m, key):
        name = getattr(m, "name", None)
        if isinstance(name, str) and name:  # a Keras layer: its own name
            return name
        return type(m).__name__ if key is None else f"{type(m).__name__}[{key}]"

    scopes = {}
    stack = [(model, _BAD_NAME_CHARS.sub("_", own_name(model, None)))]
    while stack:
        m, path = stack.pop()
        if id(m) in scopes:
            continue
        scopes[id(m)] = (m, path)
        for key, child in reversed(list(m._modules.items())):
            if child is not None:
                stack.append((child, f"{path}/{_BAD_NAME_CHARS.sub('_', own_name(child, key))}"))
    return scopes


def _wrap_calls(scopes, calls):
    """Wrap each module's ``forward`` (a Keras layer's ``call``) to record
    ``(scope, inputs, outputs)`` in ``calls``; returns the function that unwraps them."""
    undo = []
    for m, path in scopes.values():
        # a Keras layer's __call__ runs self.call and skips Module's forward hooks
        attr = "call" if type(m).__call__ is not Module.__call__ and \
            callable(getattr(type(m), "call", None)) else "forward"
        original = getattr(m, attr)

        def wrapper(*args, _original=original, _path=path, **kwargs):
            out = _original(*args, **kwargs)
            calls.append((_path, _flat_tensors((args, kwargs), []), _flat_tensors(out, [])))
            return out

        undo.append((m, attr, m.__dict__.get(attr, _MISSING)))
        object.__setattr__(m, attr, wrapper)

    def restore():
        for m, attr, previous in undo:
            if previous is _MISSING:
                m.__dict__.pop(attr, None)
            else:
                object.__setattr__(m, attr, previous)
    return restore


def _topological_nodes(outputs):
    """Every graph node behind ``outputs``, each after the nodes that feed it."""
    order, seen = [], set()
    stack = [(t._node, False) for t in reversed(outputs) if t._node is not None]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        if id(node) in seen:
            continue
        seen.add(id(node))
        stack.append((node, True))
        for t in reversed(node.inputs):
            if t is not None and t._node is not None and id(t._node) not in seen:
                stack.append((t._node, False))
    return order


def _assign_scopes(calls):
    """``{id(node): scope}``: each op to the innermost module call that produced it.
    Calls are listed as they return, inner modules before the modules around them."""
    scope_of = {}
    for path, inputs, outputs in calls:
        stop = {id(t._node) for t in inputs if t._node is not None}
        stack = [t._node for t in outputs if t._node is not None]
        seen = set()
        while stack:
            node = stack.pop()
            if id(node) in seen or id(node) in stop:
                continue
            seen.add(id(node))
            scope_of.setdefault(id(node), path)
            stack.extend(t._node for t in node.inputs if t is not None and t._node is not None)
    return scope_of


def model_graph(model, input_to_model=None, verbose=False):
    """The GraphDef (a ``tensorboardX.proto.graph_pb2.GraphDef``) of ``model(*inputs)``.

    Parameters
    ----------
    model : nn.Module or keras.Model
    input_to_model : Tensor, NumPy array, or a tuple/list of them
        One example input (the batch size does not matter). May be left out for a
        built Keras model: a batch of one of zeros of its ``input_shape`` is used.
    verbose : bool
        Print one line per node (name, op, inputs, output shapes).

    The model runs once in evaluation mode (each module's mode is restored afterwards).
    """
    attr_value_pb2, graph_pb2, node_def_pb2, tensor_shape_pb2, versions_pb2 = _protos()
    if not isinstance(model, Module):
        raise TypeError(f"model_graph: model must be an nn.Module or a keras Model, got "
                        f"{type(model).__name__}")
    inputs = _as_inputs(model, input_to_model)
    scopes = _module_scopes(model)
    modes = [(m, m.training) for m, _ in scopes.values()]
    calls = []
    restore = _wrap_calls(scopes, calls)
    try:
        model.eval()
        with grad_mode.enable_grad():
            result = model(*inputs)
    finally:
        restore()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    outputs = _flat_tensors(result, [])
    if not outputs:
        raise ValueError(f"model_graph: {type(model).__name__} returned no Tensor "
                         f"(got {type(result).__name__})")
    scope_of = _assign_scopes(calls)

    leaf_names = {id(t): f"input/input_{i}" for i, t in enumerate(inputs)}
    leaf_ops = {id(t): "IO Node" for t in inputs}
    for m, path in scopes.values():
        for kind, table in (("Parameter", m._parameters), ("Buffer", m._buffers)):
            for key, t in table.items():
                if t is not None and id(t) not in leaf_names:
                    leaf_names[id(t)] = f"{path}/{key}"
                    leaf_ops[id(t)] = kind

    def shape_proto(shape):
        return tensor_shape_pb2.TensorShapeProto(
            dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=int(s)) for s in shape])

    def attrs(shapes, dtype):
        return {"_output_shapes": attr_value_pb2.AttrValue(list=attr_value_pb2.AttrValue.ListValue(
                    shape=[shape_proto(s) for s in shapes])),
                "dtype": attr_value_pb2.AttrValue(type=_DTYPES.get(np.dtype(dtype).name, 0))}

    nodes, emitted, op_names = [], set(), {}
    taken = set(leaf_names.values())

    def unique(name):
        base, k = name, 0
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.add(name)
        return name

    def leaf(t, scope):
        if id(t) not in leaf_names:  # a constant an op used
            leaf_names[id(t)] = unique(f"{scope}/Constant" if scope else "Constant")
            leaf_ops[id(t)] = "Constant"
        name = leaf_names[id(t)]
        if name not in emitted:
            emitted.add(name)
            nodes.append(node_def_pb2.NodeDef(name=name, op=leaf_ops[id(t)],
                                              attr=attrs([t.shape], t.dtype)))
        return name

    def ref(t, scope):
        if t._node is None:
            return leaf(t, scope)
        name = op_names[id(t._node)]
        return name if t._out_index == 0 else f"{name}:{t._out_index}"

    for t in inputs:  # inputs first, even one the model did not use
        leaf(t, "")
    for node in _topological_nodes(outputs):
        scope = scope_of.get(id(node), "")
        fn = node.fn.__name__
        in_refs = [ref(t, scope) for t in node.inputs if t is not None]
        name = unique(f"{scope}/{fn}" if scope else fn)
        op_names[id(node)] = name
        shapes = [s for s, _ in node.out_meta]
        nodes.append(node_def_pb2.NodeDef(name=name, op=fn, input=in_refs,
                                          attr=attrs(shapes, node.out_meta[0][1])))
    for i, t in enumerate(outputs):
        nodes.append(node_def_pb2.NodeDef(name=unique(f"output/output_{i}"), op="IO Node",
                                          input=[ref(t, "")], attr=attrs([t.shape], t.dtype)))
    if verbose:
        for n in nodes:
            shapes = [list(d.size for d in s.dim) for s in n.attr["_output_shapes"].list.shape]
            print(f"{n.name} = {n.op}({', '.join(n.input)}) -> {shapes}")
    return graph_pb2.GraphDef(node=nodes, versions=versions_pb2.VersionDef(producer=22))
