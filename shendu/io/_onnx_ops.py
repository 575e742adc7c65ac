"""ONNX converters for shendu's autograd Functions (used by ``shendu.io.onnx``).

Each converter is ``convert(g, args, kwargs, out) -> name(s)``: ``g`` is the
``shendu.io.onnx.Graph`` being built, ``args``/``kwargs`` what ``Function.apply`` got
(Tensors, arrays, Python values), ``out`` what it returned (used for shapes and dtypes
known at trace time). It adds nodes with ``g.op`` and returns the ONNX name of each
output, in the structure of ``out``.

This file holds the arithmetic, elementwise, reduction and shape ops and the helpers;
``_onnx_layers.py`` the layer ops (linear, convolution, normalization, pooling,
attention) and the primitives, registered into the same ``CONVERTERS`` table.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.tensor import Tensor

CONVERTERS = {}
_INT64_MAX = np.iinfo(np.int64).max


def _converts(*names, module):
    def register(fn):
        for n in names:
            CONVERTERS[f"shendu.ops.{module}.{n}"] = fn
        return fn
    return register


def _elem(onnx, dtype):
    return onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))


def _ndim(x):
    return len(x.shape)


def unsqueeze(g, x, axes):
    return g.op("Unsqueeze", [x, g.ints(axes, "axes")])


def squeeze(g, x, axes):
    return g.op("Squeeze", [x, g.ints(axes, "axes")])


def reduce(g, op_type, x, axes, keepdims):
    """ReduceX over ``axes`` (None: all): axes is an input for ReduceSum from opset 13
    and for the other reductions from opset 18."""
    keep = int(bool(keepdims))
    if axes is None:
        return g.op(op_type, [x], keepdims=keep)
    axes = [int(a) for a in axes]
    if op_type == "ReduceSum" or g.opset >= 18:
        return g.op(op_type, [x, g.ints(axes, "axes")], keepdims=keep)
    return g.op(op_type, [x], axes=axes, keepdims=keep)


def transposed_weight(g, w, perm):
    """``w`` transposed by ``perm``: folded into a new initializer when ``w`` is constant."""
    if not g.is_traced(w):
        data = w._data if isinstance(w, Tensor) else w
        return g.const(np.ascontiguousarray(np.asarray(data).transpose(perm)),
                       g._param_names.get(id(data), "weight") + "_T", dedupe=False)
    return g.op("Transpose", [g.name(w)], perm=list(perm))


# ---------------------------------------------------------------------------- arithmetic
def _operand(g, x, out):
    """An operand's name; a constant NumPy array of another dtype is stored in ``out``'s
    (ONNX's binary ops want one element type; shendu promoted it the same way)."""
    if isinstance(x, np.ndarray) and not g.is_traced(x) and x.dtype != np.dtype(out.dtype) \
            and np.dtype(out.dtype).kind in "fiu":
        return g.const(x.astype(out.dtype), "const", dedupe=False)
    return g.name(x, out)


def _binary(op_type):
    def convert(g, args, kwargs, out):
        a, b = args
        return g.op(op_type, [_operand(g, a, out), _operand(g, b, out)])
    return convert


for _name, _op in (("Add", "Add"), ("Sub", "Sub"), ("Mul", "Mul"), ("Div", "Div"),
                   ("Pow", "Pow")):
    CONVERTERS[f"shendu.ops.arithmetic.{_name}"] = _binary(_op)
CONVERTERS["shendu.ops.linalg.MatMul"] = _binary("MatMul")


@_converts("Neg", module="arithmetic")
def _neg(g, args, kwargs, out):
    return g.op("Neg", [g.name(args[0])])


@_converts("Clone", module="arithmetic")
def _clone(g, args, kwargs, out):
    return g.op("Identity", [g.name(args[0])])


# ---------------------------------------------------------------------------- elementwise
def _unary(op_type, **attributes):
    def convert(g, args, kwargs, out):
        return g.op(op_type, [g.name(args[0])], **attributes)
    return convert


for _module, _pairs in (
        ("elementwise", (("Exp", "Exp"), ("Log", "Log"), ("Sqrt", "Sqrt"), ("Abs", "Abs"),
                         ("Reciprocal", "Reciprocal"))),
        ("trigonometric", (("Sin", "Sin"), ("Cos", "Cos"), ("Tan", "Tan"), ("Tanh", "Tanh"),
                           ("Sigmoid", "Sigmoid"))),
        ("special", (("Erf", "Erf"),)),
        ("activation", (("ReLU", "Relu"), ("Softsign", "Softsign"),
                        ("Hardswish", "HardSwish")))):
    for _name, _op in _pairs:
        CONVERTERS[f"shendu.ops.{_module}.{_name}"] = _unary(_op)


def _scalar(g, value, like):
    return g.name(value, like)


@_converts("Square", module="elementwise")
def _square(g, args, kwargs, out):
    x = g.name(args[0])
    return g.op("Mul", [x, x])


@_converts("Rsqrt", module="elementwise")
def _rsqrt(g, args, kwargs, out):
    return g.op("Reciprocal", [g.op("Sqrt", [g.name(args[0])])])


@_converts("Log1p", module="elementwise")
def _log1p(g, args, kwargs, out):
    return g.op("Log", [g.op("Add", [g.name(args[0]), _scalar(g, 1.0, out)])])


@_converts("Expm1", module="elementwise")
def _expm1(g, args, kwargs, out):
    return g.op("Sub", [g.op("Exp", [g.name(args[0])]), _scalar(g, 1.0, out)])


@_converts("Cast", module="elementwise")
def _cast(g, args, kwargs, out):
    return g.op("Cast", [g.name(args[0])], to=_elem(g.onnx, out.dtype))


@_converts("LeakyReLU", module="activation")
def _leaky_relu(g, args, kwargs, out):
    return g.op("LeakyRelu", [g.name(args[0])], alpha=float(args[1]))


@_converts("ELU", module="activation")
def _elu(g, args, kwargs, out):
    x, alpha, scale, input_scale = args
    x = g.name(x)
    if input_scale != 1.0:  # CELU: alpha * (exp(x / alpha) - 1)
        return g.op("Celu", [x], alpha=float(alpha))
    if scale != 1.0:
        return g.op("Selu", [x], alpha=float(alpha), gamma=float(scale))
    return g.op("Elu", [x], alpha=float(alpha))


@_converts("GELU", module="activation")
def _gelu(g, args, kwargs, out):
    """0.5 x (1 + erf(x / sqrt 2)), the exact GELU (ONNX's Gelu op is opset 20)."""
    x = g.name(args[0])
    erf = g.op("Erf", [g.op("Mul", [x, _scalar(g, 1 / math.sqrt(2), out)])])
    return g.op("Mul", [g.op("Mul", [x, _scalar(g, 0.5, out)]),
                        g.op("Add", [erf, _scalar(g, 1.0, out)])])


@_converts("GELUTanh", module="activation")
def _gelu_tanh(g, args, kwargs, out):
    """0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    x = g.name(args[0])
    cube = g.op("Mul", [g.op("Mul", [x, x]), x])
    inner = g.op("Add", [x, g.op("Mul", [cube, _scalar(g, 0.044715, out)])])
    t = g.op("Tanh", [g.op("Mul", [inner, _scalar(g, math.sqrt(2 / math.pi), out)])])
    return g.op("Mul", [g.op("Mul", [x, _scalar(g, 0.5, out)]),
                        g.op("Add", [t, _scalar(g, 1.0, out)])])


@_converts("SiLU", module="activation")
def _silu(g, args, kwargs, out):
    x = g.name(args[0])
    return g.op("Mul", [x, g.op("Sigmoid", [x])])


@_converts("Mish", module="activation")
def _mish(g, args, kwargs, out):
    x = g.name(args[0])
    return g.op("Mul", [x, g.op("Tanh", [g.op("Softplus", [x])])])


@_converts("Softplus", module="activation")
def _softplus(g, args, kwargs, out):
    """log(1 + exp(beta x)) / beta (above the threshold shendu returns x: the two differ
    by less than exp(-threshold))."""
    x, beta, _threshold = args
    x = g.name(x)
    if beta == 1.0:
        return g.op("Softplus", [x])
    b = _scalar(g, beta, out)
    return g.op("Div", [g.op("Softplus", [g.op("Mul", [x, b])]), b])


@_converts("LogSigmoid", module="activation")
def _log_sigmoid(g, args, kwargs, out):
    """log(sigmoid(x)) = -softplus(-x), stable for large |x|."""
    return g.op("Neg", [g.op("Softplus", [g.op("Neg", [g.name(args[0])])])])


@_converts("Hardtanh", module="activation")
def _hardtanh(g, args, kwargs, out):
    x, lo, hi = args
    return g.op("Clip", [g.name(x), _scalar(g, lo, out), _scalar(g, hi, out)])


@_converts("Clamp", module="compare_select")
def _clamp(g, args, kwargs, out):
    x, lo, hi = args
    names = [g.name(x)]
    names.append("" if lo is None else g.name(lo, out))
    if hi is not None:
        names.append(g.name(hi, out))
    return g.op("Clip", names)


@_converts("Hardsigmoid", module="activation")
def _hardsigmoid(g, args, kwargs, out):
    return g.op("HardSigmoid", [g.name(args[0])], alpha=1 / 6, beta=0.5)


@_converts("PReLU", module="activation")
def _prelu(g, args, kwargs, out):
    """The slope is per channel (dim 1): shaped (C, 1, ...) to broadcast like shendu."""
    x, w = args
    w_data = np.asarray(w._data if isinstance(w, Tensor) else w)
    if w_data.size > 1 and _ndim(x) > 2:
        w_data = w_data.reshape((-1,) + (1,) * (_ndim(x) - 2))
    return g.op("PRelu", [g.name(x), g.const(np.ascontiguousarray(w_data), "prelu_slope",
                                             dedupe=False)])


@_converts("Softmax", module="softmaxes")
def _softmax(g, args, kwargs, out):
    return g.op("Softmax", [g.name(args[0])], axis=int(args[1]))


@_converts("LogSoftmax", module="softmaxes")
def _log_softmax(g, args, kwargs, out):
    return g.op("LogSoftmax", [g.name(args[0])], axis=int(args[1]))


@_converts("Where", module="compare_select")
def _where(g, args, kwargs, out):
    cond, x, y = args
    c = g.name(cond)
    if np.dtype(cond.dtype) != np.bool_:
        c = g.op("Cast", [c], to=_elem(g.onnx, np.bool_))
    return g.op("Where", [c, g.name(x, out), g.name(y, out)])


@_converts("MaskedFill", module="indexing")
def _masked_fill(g, args, kwargs, out):
    x, mask, value = args
    m = g.name(mask)
    if np.dtype(mask.dtype) != np.bool_:
        m = g.op("Cast", [m], to=_elem(g.onnx, np.bool_))
    return g.op("Where", [m, g.name(value, out), g.name(x)])


@_converts("MaskedScale", module="dropout")
def _masked_scale(g, args, kwargs, out):
    raise NotImplementedError(f"ONNX export: dropout in training mode (MaskedScale, in "
                              f"{g.where()}) has no ONNX form; export runs the model in "
                              "evaluation mode, so a dropout called with training=True "
                              "in a custom forward is the cause")


# ---------------------------------------------------------------------------- reductions
@_converts("Sum", module="reduce")
def _sum(g, args, kwargs, out):
    x, axes, keepdim = args[:3]
    return reduce(g, "ReduceSum", g.name(x), axes, keepdim)


@_converts("Mean", module="reduce")
def _mean(g, args, kwargs, out):
    x, axes, keepdim = args[:3]
    return reduce(g, "ReduceMean", g.name(x), axes, keepdim)


@_converts("LogSumExp", module="reduce")
def _logsumexp(g, args, kwargs, out):
    x, axes, keepdim = args[:3]
    return reduce(g, "ReduceLogSumExp", g.name(x), axes, keepdim)


def _extreme(op_type):
    def convert(g, args, kwargs, out):
        x, axes, keepdim = args
        return reduce(g, op_type, g.name(x), axes, keepdim)
    return convert


CONVERTERS["shendu.ops.reduce_minmax.Amax"] = _extreme("ReduceMax")
CONVERTERS["shendu.ops.reduce_minmax.Amin"] = _extreme("ReduceMin")
CONVERTERS["shendu.ops.compare_select.Maximum"] = _binary("Max")
CONVERTERS["shendu.ops.compare_select.Minimum"] = _binary("Min")


def _along_dim(op_type, arg_type):
    def convert(g, args, kwargs, out):
        """values = ReduceMax over ``axis``; the indices array shendu computed beside it
        (``indices`` argument, kept dims) is bound to an ArgMax, so ``x.max(dim)[1]``
        exports too (a view of it is a Reshape, see ``Graph.name``)."""
        x, axis, keepdim, indices = args
        name = g.name(x)
        g.bind(indices, g.op(arg_type, [name], axis=int(axis), keepdims=1))
        return reduce(g, op_type, name, [axis], keepdim)
    return convert


CONVERTERS["shendu.ops.reduce_minmax.MaxAlongDim"] = _along_dim("ReduceMax", "ArgMax")
CONVERTERS["shendu.ops.reduce_minmax.MinAlongDim"] = _along_dim("ReduceMin", "ArgMin")


# ---------------------------------------------------------------------------- shapes
@_converts("Reshape", module="shape")
def _reshape(g, args, kwargs, out):
    return g.reshape(g.name(args[0]), args[0].shape, out.shape)


@_converts("Permute", module="shape")
def _permute(g, args, kwargs, out):
    return g.op("Transpose", [g.name(args[0])], perm=[int(p) for p in args[1]])


@_converts("BroadcastTo", module="shape")
def _broadcast_to(g, args, kwargs, out):
    return g.op("Expand", [g.name(args[0]), g.ints(out.shape)])


@_converts("Cat", module="join")
def _cat(g, args, kwargs, out):
    dim = kwargs["dim"] % _ndim(out)
    return g.op("Concat", [g.name(a, out) for a in args], axis=dim)


@_converts("Stack", module="join")
def _stack(g, args, kwargs, out):
    dim = kwargs["dim"] % _ndim(out)
    return g.op("Concat", [unsqueeze(g, g.name(a, out), [dim]) for a in args], axis=dim)


@_converts("Split", module="join")
def _split(g, args, kwargs, out):
    x, bounds, dim = args
    sizes = [b - a for a, b in zip(bounds[:-1], bounds[1:])]
    return tuple(g.op("Split", [g.name(x), g.ints(sizes, "split")], outputs=len(sizes),
                      axis=int(dim))) if len(sizes) > 1 else \
        (g.op("Identity", [g.name(x)]),)


@_converts("Unbind", module="join")
def _unbind(g, args, kwargs, out):
    x, dim = args
    n = x.shape[dim]
    parts = g.op("Split", [g.name(x), g.ints([1] * n, "split")], outputs=n, axis=int(dim)) \
        if n > 1 else [g.name(x)]
    return tuple(squeeze(g, p, [dim]) for p in parts)


@_converts("Flip", module="rearrange")
def _flip(g, args, kwargs, out):
    x, dims = args
    dims = [int(d) % _ndim(x) for d in dims]
    n = len(dims)
    return g.op("Slice", [g.name(x), g.ints([-1] * n, "starts"),
                          g.ints([-_INT64_MAX] * n, "ends"), g.ints(dims, "axes"),
                          g.ints([-1] * n, "steps")])


def _trilu(upper):
    def convert(g, args, kwargs, out):
        x, k = args
        return g.op("Trilu", [g.name(x), g.const(np.asarray(int(k), np.int64), "k",
                                                 dedupe=False)], upper=upper)
    return convert


CONVERTERS["shendu.ops.rearrange.Tril"] = _trilu(0)
CONVERTERS["shendu.ops.rearrange.Triu"] = _trilu(1)


@_converts("GetItem", module="indexing")
def _getitem(g, args, kwargs, out):
    """Basic indexing: slices become one Slice, integers a Gather each (dropping the
    axis), None an Unsqueeze; advanced indexing by one integer array is a Gather."""
    x, index, advanced = args
    index = index if isinstance(index, tuple) else (index,)
    if advanced:
        arrays = [k for k, i in enumerate(index) if hasattr(i, "dtype")]
        rest_full = all(i == slice(None) for k, i in enumerate(index) if k not in arrays) \
            if Ellipsis not in [i for i in index if not hasattr(i, "dtype")] else False
        if len(arrays) == 1 and rest_full and np.dtype(index[arrays[0]].dtype).kind in "iu":
            # x[:, :, idx]: one integer array on one axis, full slices elsewhere
            idx = index[arrays[0]]
            idx_name = g.name(idx) if g.is_traced(idx) else \
                g.const(np.asarray(idx, np.int64), "index", dedupe=False)
            if np.dtype(idx.dtype) != np.int64 and g.is_traced(idx):
                idx_name = g.op("Cast", [idx_name], to=_elem(g.onnx, np.int64))
            return g.op("Gather", [g.name(x), idx_name], axis=arrays[0])
        raise NotImplementedError(f"ONNX export: indexing with {index!r} (GetItem, in "
                                  f"{g.where()}) is not supported; only basic indexing "
                                  "(ints, slices, None, ...) and one integer array on one "
                                  "axis with full slices before it")
    n_real = sum(1 for i in index if i is not None and i is not Ellipsis)
    expanded = []
    for i in index:
        if i is Ellipsis:
            expanded.extend([slice(None)] * (_ndim(x) - n_real))
        else:
            expanded.append(i)
    name = g.name(x)
    starts, ends, axes, steps, gathers, news = [], [], [], [], [], []
    axis = 0
    out_axis = 0
    for i in expanded:
        if i is None:
            news.append(out_axis)
            out_axis += 1
            continue
        if isinstance(i, slice):
            if i != slice(None):
                step = 1 if i.step is None else int(i.step)
                lo_default, hi_default = (0, _INT64_MAX) if step > 0 else (-1, -_INT64_MAX)
                starts.append(lo_default if i.start is None else int(i.start))
                ends.append(hi_default if i.stop is None else int(i.stop))
                axes.append(axis)
                steps.append(step)
            out_axis += 1
        else:
            gathers.append((axis, int(i)))
        axis += 1
    if axes:
        name = g.op("Slice", [name, g.ints(starts, "starts"), g.ints(ends, "ends"),
                              g.ints(axes, "axes"), g.ints(steps, "steps")])
    for ax, i in reversed(gathers):  # from the last axis on, so earlier axes keep numbers
        name = g.op("Gather", [name, g.const(np.asarray(i, np.int64), "index", dedupe=False)],
                    axis=ax)
    if news:
        name = unsqueeze(g, name, news)
    return name


@_converts("Gather", module="indexing")
def _gather(g, args, kwargs, out):
    x, index, dim = args
    idx = g.name(index)
    if np.dtype(index.dtype) != np.int64:
        idx = g.op("Cast", [idx], to=_elem(g.onnx, np.int64))
    return g.op("GatherElements", [g.name(x), idx], axis=int(dim))


@_converts("ConstantPad", module="padding")
def _constant_pad(g, args, kwargs, out):
    x, widths, value = args
    widths = [(int(a), int(b)) for a, b in widths]
    pads = [a for a, _ in widths] + [b for _, b in widths]
    return g.op("Pad", [g.name(x), g.ints(pads, "pads"), _scalar(g, value, out)],
                mode="constant")


from . import _onnx_layers  # noqa: E402,F401  (registers the layer converters)
