"""ONNX converters for shendu's layer Functions: linear, embedding, convolution,
normalization, pooling and attention (see ``_onnx_ops.py`` for the convention).

A few ops compute without an autograd Function when no gradient is wanted (max
pooling's fast path); ``PRIMITIVES`` lists those functions, patched for the trace.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ._onnx_ops import (CONVERTERS, _converts, _elem, _ndim, _scalar, reduce, squeeze,
                        transposed_weight, unsqueeze)

__all__ = ["CONVERTERS", "PRIMITIVES", "patch_primitives"]


# ---------------------------------------------------------------------------- layers
@_converts("Linear", module="linear")
def _linear(g, args, kwargs, out):
    """x W^T + b as MatMul (with W^T folded into the initializer) and Add."""
    x, w, b = args
    y = g.op("MatMul", [g.name(x), transposed_weight(g, w, (1, 0))])
    return y if b is None else g.op("Add", [y, g.name(b, hint="bias")])


@_converts("Embedding", module="embedding")
def _embedding(g, args, kwargs, out):
    weight, indices = args[:2]
    idx = g.name(indices)
    if np.dtype(indices.dtype) != np.int64:
        idx = g.op("Cast", [idx], to=_elem(g.onnx, np.int64))
    return g.op("Gather", [g.name(weight, hint="embedding"), idx], axis=0)


def _pads(pads):
    """shendu's ((left, right), ...) per spatial axis -> ONNX's [begins..., ends...]."""
    pairs = [(p, p) if isinstance(p, int) else (int(p[0]), int(p[1])) for p in pads]
    return [a for a, _ in pairs] + [b for _, b in pairs]


@_converts("Conv", module="conv")
def _conv(g, args, kwargs, out):
    x, w, b, stride, pads, dilation, groups = args
    inputs = [g.name(x), g.name(w, hint="weight")]
    if b is not None:
        inputs.append(g.name(b, hint="bias"))
    return g.op("Conv", inputs, kernel_shape=list(w.shape[2:]), strides=list(stride),
                pads=_pads(pads), dilations=list(dilation), group=int(groups))


@_converts("ConvTranspose", module="conv")
def _conv_transpose(g, args, kwargs, out):
    """ONNX's ConvTranspose with the output size fixed by ``output_padding``."""
    x, w, b, stride, pads, dilation, groups, out_spatial = args
    begin_end = _pads(pads)
    n = len(stride)
    k = w.shape[2:]
    natural = [(x.shape[2 + d] - 1) * stride[d] - begin_end[d] - begin_end[n + d]
               + dilation[d] * (k[d] - 1) + 1 for d in range(n)]
    output_padding = [int(o) - m for o, m in zip(out_spatial, natural)]
    inputs = [g.name(x), g.name(w, hint="weight")]
    if b is not None:
        inputs.append(g.name(b, hint="bias"))
    return g.op("ConvTranspose", inputs, kernel_shape=list(k), strides=list(stride),
                pads=begin_end, dilations=list(dilation), group=int(groups),
                output_padding=output_padding)


@_converts("BatchNormEval", module="normalization")
def _batch_norm_eval(g, args, kwargs, out):
    """y = x * s + t per channel, with s = w / sqrt(var + eps) and t = b - mean * s
    folded from the running statistics (exactly shendu's evaluation-mode formula)."""
    x, w, b, mean, invstd = args
    if any(g.is_traced(a) for a in (w, b, mean, invstd) if a is not None):
        raise NotImplementedError(f"ONNX export: batch norm (in {g.where()}) with statistics "
                                  "or affine parameters computed from the inputs")
    nd = _ndim(x)
    pshape = (1, -1) + (1,) * (nd - 2)

    def host(a):
        return np.asarray(a._data if isinstance(a, Tensor) else a, dtype=np.float64)
    scale = host(invstd) * (1.0 if w is None else host(w))
    shift = -host(mean) * scale + (0.0 if b is None else host(b))
    dtype = np.dtype(out.dtype)
    s = g.const(scale.astype(dtype).reshape(pshape), "bn_scale", dedupe=False)
    t = g.const(shift.astype(dtype).reshape(pshape), "bn_shift", dedupe=False)
    return g.op("Add", [g.op("Mul", [g.name(x), s]), t])


@_converts("LayerNorm", module="normalization")
def _layer_norm(g, args, kwargs, out):
    x, w, b, k, eps = args
    shape = tuple(x.shape[_ndim(x) - k:])
    dtype = np.dtype(out.dtype)
    scale = g.name(w, hint="weight") if w is not None else \
        g.const(np.ones(shape, dtype), "ln_ones", dedupe=False)
    inputs = [g.name(x), scale]
    if b is not None:
        inputs.append(g.name(b, hint="bias"))
    return g.op("LayerNormalization", inputs, axis=-int(k), epsilon=float(eps))


@_converts("AvgPool", module="avg_pooling")
def _avg_pool(g, args, kwargs, out):
    """AveragePool; ``div`` is the window size (padding counted) or, per output
    position, the number of real inputs (``count_include_pad=False``)."""
    x, dims, div = args
    kernel = [d.k for d in dims]
    if any(d.d != 1 for d in dims) and g.opset < 19:
        raise NotImplementedError(f"ONNX export: dilated average pooling (in {g.where()}) "
                                  "needs opset_version >= 19")
    begins = [d.p for d in dims]
    extra = [d.length - d.n - 2 * d.p for d in dims]  # ceil_mode's last partial window
    ends = [d.p for d in dims]
    counted = np.isscalar(div) or np.ndim(div) == 0
    if counted and any(extra) and any(begins):
        raise NotImplementedError(f"ONNX export: average pooling with ceil_mode, padding and "
                                  f"count_include_pad=True (in {g.where()}) has no exact "
                                  "ONNX form")
    dilations = [d.d for d in dims] if g.opset >= 19 else None
    return g.op("AveragePool", [g.name(x)], kernel_shape=kernel,
                strides=[d.s for d in dims], pads=begins + ends,
                ceil_mode=int(any(extra)), count_include_pad=int(counted and any(begins)),
                dilations=dilations)


@_converts("ScaledDotProductAttention", module="attention")
def _attention(g, args, kwargs, out):
    """softmax(scale Q K^T + mask) V, with the causal mask a constant of the traced
    sizes; returns the weights too when asked (``need_weights``)."""
    q, k, v, mask, scale, causal, dropout_p, groups, _safe, weights = args
    if groups != 1:
        raise NotImplementedError(f"ONNX export: grouped-query attention (groups={groups}, in "
                                  f"{g.where()}) is not supported")
    if dropout_p > 0:
        raise NotImplementedError(f"ONNX export: attention dropout in training mode (in "
                                  f"{g.where()}) has no ONNX form")
    nd = _ndim(q)
    perm = list(range(nd - 2)) + [nd - 1, nd - 2]
    s = g.op("MatMul", [g.name(q), g.op("Transpose", [g.name(k)], perm=perm)])
    if scale != 1:
        s = g.op("Mul", [s, _scalar(g, scale, q)])
    if mask is not None:
        s = g.op("Add", [s, g.name(mask, q, hint="attn_mask")])
    if causal:
        L, S = q.shape[-2], k.shape[-2]
        tri = np.triu(np.full((L, S), -np.inf, dtype=np.dtype(q.dtype)), 1)
        s = g.op("Add", [s, g.const(tri, "causal_mask", dedupe=False)])
    p = g.op("Softmax", [s], axis=-1)
    o = g.op("MatMul", [p, g.name(v)])
    return (o, p) if weights else o


# ---------------------------------------------------------------------------- primitives
def _max_pool(g, args, out):
    name, nd, x, kernel_size, stride, padding, dilation, ceil_mode, return_indices = args
    if return_indices:
        raise NotImplementedError(f"ONNX export: {name}(return_indices=True) (in "
                                  f"{g.where()}) is not supported")

    def tup(v, default):
        v = default if v is None else v
        return [int(v)] * nd if isinstance(v, int) else [int(a) for a in v]
    k = tup(kernel_size, None)
    s = tup(stride, kernel_size)
    p = tup(padding, 0)
    d = tup(dilation, 1)
    y = g.name(x)
    if _ndim(x) == nd + 1:  # unbatched (C, H, W)
        y = unsqueeze(g, y, [0])
    y = g.op("MaxPool", [y], kernel_shape=k, strides=s, pads=p + p, dilations=d,
             ceil_mode=int(bool(ceil_mode)))
    return squeeze(g, y, [0]) if _ndim(x) == nd + 1 else y


def _adaptive_max(g, args, out):
    name, nd, x, output_size, return_indices = args
    if return_indices or any(s != 1 for s in out.shape[-nd:]):
        raise NotImplementedError(f"ONNX export: {name} to a size other than 1 (or with "
                                  f"return_indices, in {g.where()}) is not supported")
    return reduce(g, "ReduceMax", g.name(x), list(range(_ndim(x) - nd, _ndim(x))), True)


def _cast(g, args, out):
    x, _dtype = args
    return g.op("Cast", [g.name(x)], to=_elem(g.onnx, out.dtype))


def _no_grad_binary(g, args, out):
    raise NotImplementedError(f"ONNX export: a comparison or floor division (x > y, x == y, "
                              f"x // y ..., in {g.where()}) of values computed from the "
                              "inputs is not supported; build masks from constants (such as "
                              "the traced sizes) or pass them as inputs")


def _arg(g, args, out):
    """argmax/argmin: ``_arg(name, x, dim, keepdim, axis, keepdims, largest)``."""
    _name, x, dim, keepdim, axis, keepdims, largest = args
    op_type = "ArgMax" if largest else "ArgMin"
    d = dim if dim is not None else axis
    keep = bool(keepdims if keepdims is not None else keepdim)
    name = g.name(x)
    if d is None:  # over the flattened tensor
        flat = g.op(op_type, [g.op("Reshape", [name, g.ints([-1])])], axis=0, keepdims=0)
        return g.op("Reshape", [flat, g.ints(out.shape)]) if keep else flat
    return g.op(op_type, [name], axis=int(d) % max(_ndim(x), 1), keepdims=int(keep))


PRIMITIVES = {"shendu.ops.pooling._max_pool": _max_pool,
              "shendu.ops.adaptive_pooling._adaptive_max": _adaptive_max,
              "shendu.ops.elementwise.cast": _cast,
              "shendu.ops.reduce_minmax._arg": _arg,
              "shendu.ops.arithmetic._no_grad_binary": _no_grad_binary}


def _find_primitive(qualified, importlib, sys):
    """The function ``qualified`` names; if a refactoring moved it to another module of
    ``shendu.ops``, found there by name (a missing one is a bug of this exporter)."""
    module_name, attr = qualified.rsplit(".", 1)
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError):
        import shendu.ops  # noqa: F401  (loads every ops module)
        for name, module in list(sys.modules.items()):
            fn = getattr(module, attr, None) if name.startswith("shendu.ops") else None
            if callable(fn) and getattr(fn, "__module__", None) == name:
                return fn
    raise RuntimeError(f"ONNX export: the primitive {qualified} was not found; update "
                       "PRIMITIVES in shendu/io/_onnx_layers.py")


def patch_primitives(g, suppress):
    """Replace each primitive function by a traced one wherever shendu's modules hold it
    (``shendu.ops.cast`` is the same object as ``shendu.ops.elementwise.cast``); returns
    the restore callbacks."""
    import importlib
    import sys
    restores = []
    for qualified, convert in PRIMITIVES.items():
        original = _find_primitive(qualified, importlib, sys)

        def traced(*args, _original=original, _convert=convert, **kwargs):
            if suppress[0] or not any(g.is_traced(a) for a in args):
                return _original(*args, **kwargs)
            suppress[0] += 1
            try:
                out = _original(*args, **kwargs)
            finally:
                suppress[0] -= 1
            g.bind_outputs(out, _convert(g, args, out))
            return out
        for name, module in list(sys.modules.items()):
            if module is None or not (name == "shendu" or name.startswith("shendu.")):
                continue
            for key, value in list(vars(module).items()):
                if value is original:
                    setattr(module, key, traced)
                    restores.append(lambda m=module, k=key, o=original: setattr(m, k, o))
    return restores
