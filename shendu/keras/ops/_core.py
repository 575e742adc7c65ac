"""``keras.ops`` core: conversion, dtypes, shapes, ``stop_gradient``, eager control flow
(``cond``, ``switch``, ``fori_loop``, ``while_loop``, ``scan``, ``map``), and the
out-of-place update ops (``slice_update``, ``scatter``, ``scatter_update``).

Everything here works on shendu Tensors and stays on shendu's autograd graph: a loss
written with ``keras.ops`` is differentiated by ``loss.backward()``. Control flow runs
eagerly in Python (shendu has no graph compiler), so ``fori_loop`` is a plain loop and
``cond`` evaluates its predicate.

>>> from shendu.keras import ops
>>> ops.convert_to_tensor([1.0, 2.0]).dtype, ops.convert_to_tensor([1, 2]).dtype
(dtype('float32'), dtype('int32'))
>>> ops.fori_loop(0, 4, lambda i, acc: acc + i, 0)
6
"""
from __future__ import annotations

import numpy as np

from ... import backend as _backend
from ... import ops as _ops
from ...autograd.tensor import Tensor

__all__ = ["convert_to_tensor", "convert_to_numpy", "is_tensor", "cast", "saturate_cast",
           "dtype", "shape", "size", "ndim", "stop_gradient", "cond", "switch", "fori_loop",
           "while_loop", "scan", "associative_scan", "map", "vectorized_map", "vectorize",
           "slice", "slice_update", "scatter", "scatter_update", "unstack", "copy", "array"]

_builtin_slice = slice
_builtin_map = map


def _floatx():
    return np.dtype(_backend.get_default_dtype())


def _np_dtype(dtype):
    if dtype is None:
        return None
    if isinstance(dtype, str) and dtype in ("float", "int"):
        dtype = {"float": _floatx(), "int": "int32"}[dtype]
    return np.dtype(getattr(dtype, "name", dtype) if not isinstance(dtype, np.dtype) else dtype)


def _from_python(x):
    """Keras's rule for Python data: floats become floatx (float32), ints int32."""
    a = np.asarray(x)
    if a.dtype == np.float64:
        return a.astype(_floatx())
    if a.dtype.kind in "iu" and a.dtype.itemsize == 8:
        if a.size == 0 or (a.min() >= -2 ** 31 and a.max() < 2 ** 31):
            return a.astype(np.int32)
    return a


def _t(x, dtype=None):
    """A Tensor from a Tensor, NumPy array (its dtype kept), Python number/list (Keras's
    dtype rule) or a list of Tensors (stacked)."""
    if isinstance(x, Tensor):
        t = x
    elif isinstance(x, (list, tuple)) and x and any(isinstance(i, Tensor) for i in x):
        t = _ops.stack([_t(i) for i in x], dim=0)
    elif isinstance(x, (np.ndarray, np.generic)):
        t = Tensor._make(np.asarray(x))
    elif hasattr(x, "__array__") and not isinstance(x, (list, tuple, int, float, bool)):
        if type(x).__module__.split(".")[0] == "tensorflow":
            raise TypeError("keras.ops got a TensorFlow tensor: shendu.keras does not use "
                            "TensorFlow; pass NumPy arrays (x.numpy()) or shendu tensors")
        t = Tensor._make(np.asarray(x))
    else:
        t = Tensor._make(_from_python(x))
    if dtype is not None:
        d = _np_dtype(dtype)
        if t.dtype != d:
            t = _ops.cast(t, d)
    return t


def _like_dtype(x, y):
    """Two operands as Tensors with Keras's promotion for a Python number (weak type:
    ``int_tensor * 2.5`` is float32, ``float16_tensor * 2`` stays float16)."""
    if isinstance(x, Tensor) and not isinstance(y, Tensor):
        return x, _weak(y, x)
    if isinstance(y, Tensor) and not isinstance(x, Tensor):
        return _weak(x, y), y
    x, y = _t(x), _t(y)
    return x, y


def _weak(v, like):
    if isinstance(v, (bool, int, float)) and not isinstance(v, np.generic):
        kind = like.dtype.kind
        if isinstance(v, float) and kind not in "fc":
            return Tensor._make(np.asarray(v, dtype=_floatx()))
        if kind in "fciu" and not (isinstance(v, bool) and kind != "b"):
            return Tensor._make(np.asarray(v, dtype=like.dtype))
    return _t(v)


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """A shendu Tensor from ``x`` (a Tensor is returned as is; Python floats become
    float32, Python ints int32, NumPy arrays keep their dtype), cast to ``dtype``."""
    return _t(x, dtype)


def convert_to_numpy(x):
    """``x`` as a NumPy array (a copy detached from the graph)."""
    if isinstance(x, Tensor):
        return np.array(x.detach().__array__())
    return np.asarray(x)


def is_tensor(x):
    """Whether ``x`` is a shendu Tensor (Keras's native tensor here)."""
    return isinstance(x, Tensor)


def cast(x, dtype):
    """``x`` converted to ``dtype`` (differentiable between float dtypes)."""
    x = _t(x)
    d = _np_dtype(dtype)
    return x if x.dtype == d else _ops.cast(x, d)


def saturate_cast(x, dtype):
    """``cast`` with values first clipped to the range of ``dtype`` (no wrap-around)."""
    x = _t(x)
    d = _np_dtype(dtype)
    if d.kind in "iu":
        info = np.iinfo(d)
        x = _ops.clip(x, float(info.min), float(info.max)) if x.dtype.kind == "f" else x
    elif d.kind == "f" and x.dtype.kind == "f":
        info = np.finfo(d)
        x = _ops.clip(x, float(info.min), float(info.max))
    return cast(x, d)


def dtype(x):
    """The dtype's name, as Keras spells it (``'float32'``)."""
    return str(_t(x).dtype)


def shape(x):
    """The shape as a tuple of ints."""
    return tuple(_t(x).shape) if not hasattr(x, "shape") else tuple(x.shape)


def size(x):
    """The number of elements."""
    return int(np.prod(shape(x), dtype=np.int64))


def ndim(x):
    """The number of axes."""
    return len(shape(x))


def stop_gradient(variable):
    """The same values, with no gradient flowing back (``Tensor.detach``)."""
    return _t(variable).detach()


# ------------------------------------------------------------------ control flow (eager)
def _truth(pred):
    if isinstance(pred, Tensor):
        return bool(pred.detach().__array__())
    return bool(pred)


def cond(pred, true_fn, false_fn):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (the predicate is evaluated now)."""
    return true_fn() if _truth(pred) else false_fn()


def switch(index, branches, *operands):
    """``branches[index](*operands)``; ``index`` is clamped to the valid range."""
    i = int(np.clip(int(_t(index).__array__()) if isinstance(index, Tensor) else int(index),
                    0, len(branches) - 1))
    return branches[i](*operands)


def fori_loop(lower, upper, body_fun, init_val):
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; the final ``val``."""
    val = init_val
    for i in range(int(lower), int(upper)):
        val = body_fun(i, val)
    return val


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Repeat ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)``.

    ``loop_vars`` is a tuple/list (unpacked into ``cond`` and ``body``) or a single value;
    the result has the same structure."""
    single = not isinstance(loop_vars, (tuple, list))
    vars_ = (loop_vars,) if single else tuple(loop_vars)
    n = 0
    while _truth(cond(*vars_)):
        if maximum_iterations is not None and n >= maximum_iterations:
            break
        out = body(*vars_)
        vars_ = (out,) if single else tuple(out) if isinstance(out, (tuple, list)) else (out,)
        n += 1
    if single:
        return vars_[0]
    return type(loop_vars)(vars_) if isinstance(loop_vars, tuple) else list(vars_)


def _stack_tree(items):
    first = items[0]
    if isinstance(first, (tuple, list)):
        return type(first)(_stack_tree([it[i] for it in items]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack_tree([it[k] for it in items]) for k in first}
    if first is None:
        return None
    return _ops.stack([_t(i) for i in items], dim=0)


def _index_tree(xs, i):
    if isinstance(xs, (tuple, list)):
        return type(xs)(_index_tree(x, i) for x in xs)
    if isinstance(xs, dict):
        return {k: _index_tree(v, i) for k, v in xs.items()}
    return _t(xs)[i]


def _length_tree(xs):
    if isinstance(xs, (tuple, list)):
        return _length_tree(xs[0])
    if isinstance(xs, dict):
        return _length_tree(next(iter(xs.values())))
    return shape(xs)[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """``carry, y = f(carry, x)`` over the leading axis of ``xs`` (JAX's ``lax.scan``);
    returns ``(final carry, stacked ys)``."""
    n = _length_tree(xs) if xs is not None else int(length)
    order = range(n - 1, -1, -1) if reverse else range(n)
    carry, ys = init, []
    for i in order:
        carry, y = f(carry, None if xs is None else _index_tree(xs, i))
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, (_stack_tree(ys) if ys and ys[0] is not None else None)


def associative_scan(f, elems, reverse=False, axis=0):
    """Inclusive scan with the associative ``f`` along ``axis`` (run sequentially)."""
    def moved(e):
        return _ops.moveaxis(_t(e), axis, 0)
    tree = [moved(e) for e in elems] if isinstance(elems, (list, tuple)) else moved(elems)
    n = _length_tree(tree)
    order = list(range(n - 1, -1, -1)) if reverse else list(range(n))
    acc, outs = None, []
    for i in order:
        x = _index_tree(tree, i)
        acc = x if acc is None else f(acc, x)
        outs.append(acc)
    if reverse:
        outs.reverse()
    out = _stack_tree(outs)
    if isinstance(out, (list, tuple)):
        return type(out)(_ops.moveaxis(o, 0, axis) for o in out)
    return _ops.moveaxis(out, 0, axis)


def map(f, xs):
    """``f`` applied to each slice of ``xs`` along axis 0, results stacked."""
    n = _length_tree(xs)
    return _stack_tree([f(_index_tree(xs, i)) for i in range(n)])


def vectorized_map(function, elements):
    """Like ``map`` (a loop here; shendu has no vectorizing compiler)."""
    return map(function, elements)


def vectorize(pyfunc, *, excluded=None, signature=None):
    """A function mapping ``pyfunc`` over the leading axis of its tensor arguments."""
    if signature is not None:
        raise NotImplementedError("keras.ops.vectorize(signature=...) is not supported in "
                                  "shendu.keras; map over the axis with ops.map")

    def wrapped(*args):
        tensors = [_t(a) for a in args]
        flat = [t.reshape(-1) for t in _ops.broadcast_tensors(*tensors)] \
            if hasattr(_ops, "broadcast_tensors") else None
        if flat is None:
            shape_ = np.broadcast_shapes(*[t.shape for t in tensors])
            flat = [_ops.broadcast_to(t, shape_).reshape(-1) for t in tensors]
        out = [pyfunc(*[f[i] for f in flat]) for i in range(flat[0].shape[0])]
        return _ops.stack([_t(o) for o in out]).reshape(
            np.broadcast_shapes(*[t.shape for t in tensors]))
    return wrapped


# ------------------------------------------------------------------ slices and updates
def slice(inputs, start_indices, shape):
    """``inputs[start[0]:start[0]+shape[0], ...]`` (shape -1: to the end)."""
    x = _t(inputs)
    idx = tuple(_builtin_slice(int(s), None if int(n) == -1 else int(s) + int(n))
                for s, n in zip(_ints(start_indices), _ints(shape)))
    return x[idx]


def _ints(v):
    if isinstance(v, Tensor):
        return [int(i) for i in np.asarray(v.__array__()).reshape(-1)]
    return [int(i) for i in v]


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the block starting at ``start_indices`` replaced by ``updates``
    (out of place; gradients reach both ``inputs`` outside the block and ``updates``)."""
    x, u = _t(inputs), _t(updates)
    if u.dtype != x.dtype:
        u = cast(u, x.dtype)
    start = _ints(start_indices)
    if len(start) != x.ndim or u.ndim != x.ndim:
        raise ValueError(f"slice_update: inputs {x.shape}, updates {u.shape} and start_indices "
                         f"{start} must have the same rank")
    pairs = [(s, x.shape[i] - s - u.shape[i]) for i, s in enumerate(start)]
    if any(b < 0 for _, b in pairs) or any(s < 0 for s in start):
        raise ValueError(f"slice_update: updates {u.shape} at {start} do not fit in {x.shape}")
    mask = np.ones(x.shape, dtype=bool)
    mask[tuple(_builtin_slice(s, s + n) for s, n in zip(start, u.shape))] = False
    padded = _ops.pad(u, tuple(v for p in reversed(pairs) for v in p))
    return _ops.where(Tensor._make(mask), x, padded)


def _linear_index(indices, shape_):
    idx = np.asarray(indices.__array__() if isinstance(indices, Tensor) else indices)
    idx = idx.astype(np.int64)
    k = idx.shape[-1]
    flat = np.ravel_multi_index(tuple(np.moveaxis(idx, -1, 0)), shape_[:k])
    inner = int(np.prod(shape_[k:], dtype=np.int64))
    return flat, k, inner


def scatter(indices, values, shape):
    """A tensor of ``shape``: zeros, plus ``values`` at ``indices`` (each row of
    ``indices`` indexes the leading axes; repeated indices add up)."""
    shape = tuple(_ints(shape))
    v = _t(values)
    flat, k, inner = _linear_index(indices, shape)
    rows = int(np.prod(shape[:k], dtype=np.int64))
    src = v.reshape(len(flat.reshape(-1)), inner)
    index = Tensor._make(np.repeat(flat.reshape(-1, 1), inner, axis=1))
    zeros = Tensor._make(np.zeros((rows, inner), dtype=v.dtype))
    return _ops.scatter_add(zeros, 0, index, src).reshape(shape)


def scatter_update(inputs, indices, updates):
    """``inputs`` with the entries at ``indices`` set to ``updates`` (out of place)."""
    x = _t(inputs)
    u = cast(updates, x.dtype)
    flat, k, inner = _linear_index(indices, x.shape)
    rows = int(np.prod(x.shape[:k], dtype=np.int64))
    keep = np.ones((rows, 1), dtype=x.dtype)
    keep[flat.reshape(-1)] = 0
    placed = scatter(indices, u, x.shape).reshape(rows, inner)
    return (x.reshape(rows, inner) * Tensor._make(keep) + placed).reshape(x.shape)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list."""
    x = _t(x)
    if num is not None and num != x.shape[axis]:
        raise ValueError(f"unstack: num={num} but axis {axis} has size {x.shape[axis]}")
    return list(_ops.unbind(x, axis))


def copy(x):
    """A copy of ``x`` (on the graph: gradients pass through)."""
    return _ops.clone(_t(x))


def array(x, dtype=None):
    """``convert_to_tensor`` under NumPy's name."""
    return _t(x, dtype)
