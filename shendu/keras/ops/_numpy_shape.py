"""``keras.ops`` NumPy-style shapes, joins, indexing, creation and products: ``reshape``,
``transpose``, ``expand_dims``, ``concatenate``, ``stack``, ``take``, ``matmul``, ``dot``,
``einsum``, ``zeros``, ``arange``, ``linspace``, ``sort``, ``top_k`` ...

Creation functions default to float32 (Keras's floatx); ``arange`` of integers gives
int32. Shapes are tuples of ints; axes follow NumPy (negative axes count from the end).

>>> from shendu.keras import ops
>>> x = ops.arange(6)
>>> x.dtype, ops.reshape(x, (2, 3)).shape, ops.expand_dims(x, 0).shape
(dtype('int32'), (2, 3), (1, 6))
>>> ops.concatenate([ops.zeros((1, 2)), ops.ones((2, 2))], axis=0).tolist()
[[0.0, 0.0], [1.0, 1.0], [1.0, 1.0]]
"""
from __future__ import annotations

import builtins

import numpy as np

from ... import ops as _ops
from ...autograd.tensor import Tensor
from ._core import _floatx, _like_dtype, _np_dtype, _t, cast

__all__ = ["reshape", "transpose", "expand_dims", "squeeze", "ravel", "flip", "fliplr", "flipud",
           "rot90", "roll", "moveaxis", "swapaxes", "broadcast_to", "tile", "repeat",
           "concatenate", "append", "stack", "hstack", "vstack", "dstack", "split",
           "array_split", "hsplit", "vsplit", "dsplit", "take", "take_along_axis",
           "get_item", "pad", "tril", "triu", "diag", "diagonal", "diagflat", "trace",
           "matmul", "dot", "vdot", "inner", "outer", "tensordot", "einsum", "kron",
           "cross", "zeros", "ones", "full", "empty", "zeros_like", "ones_like",
           "full_like", "empty_like", "eye", "identity", "tri", "arange", "linspace",
           "logspace", "geomspace", "meshgrid"]


def _shape(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(s) for s in shape)


def _norm_axis(axis, ndim):
    return axis + ndim if axis < 0 else axis


# ------------------------------------------------------------------ shapes
def reshape(x, newshape):
    """``x`` with shape ``newshape`` (one entry may be -1)."""
    return _ops.reshape(_t(x), _shape(newshape))


def transpose(x, axes=None):
    """The axes permuted by ``axes`` (reversed when None)."""
    x = _t(x)
    axes = tuple(reversed(range(x.ndim))) if axes is None else tuple(int(a) for a in axes)
    return _ops.permute(x, *axes)


def expand_dims(x, axis):
    """``x`` with new axes of size 1 at ``axis`` (an int or a tuple)."""
    x = _t(x)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    n = x.ndim + len(axes)
    for a in sorted(_norm_axis(int(a), n) for a in axes):
        x = _ops.unsqueeze(x, a)
    return x


def squeeze(x, axis=None):
    """``x`` without axes of size 1 (only ``axis`` when given; it must have size 1)."""
    x = _t(x)
    if axis is None:
        return x.reshape(tuple(s for s in x.shape if s != 1))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = {_norm_axis(int(a), x.ndim) for a in axes}
    for a in axes:
        if x.shape[a] != 1:
            raise ValueError(f"squeeze: axis {a} has size {x.shape[a]}, not 1 (shape {x.shape})")
    return x.reshape(tuple(s for i, s in enumerate(x.shape) if i not in axes))


def ravel(x):
    return _t(x).reshape(-1)


def flip(x, axis=None):
    x = _t(x)
    axes = tuple(range(x.ndim)) if axis is None else \
        (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return _ops.flip(x, *axes)


def fliplr(x):
    return flip(x, 1)


def flipud(x):
    return flip(x, 0)


def rot90(array, k=1, axes=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane of ``axes`` (``numpy.rot90``)."""
    x = _t(array)
    a, b = axes
    k %= 4
    for _ in range(k):
        x = swapaxes(flip(x, b), a, b)
    return x


def roll(x, shift, axis=None):
    x = _t(x)
    if axis is None:
        return _ops.roll(x.reshape(-1), shift, 0).reshape(x.shape)
    return _ops.roll(x, shift, axis)


def moveaxis(x, source, destination):
    return _ops.moveaxis(_t(x), source, destination)


def swapaxes(x, axis1, axis2):
    return _ops.swapaxes(_t(x), axis1, axis2)


def broadcast_to(x, shape):
    return _ops.broadcast_to(_t(x), _shape(shape))


def tile(x, repeats):
    x = _t(x)
    reps = _shape(repeats)
    if len(reps) < x.ndim:
        reps = (1,) * (x.ndim - len(reps)) + reps
    return _ops.tile(x, *reps)


def repeat(x, repeats, axis=None):
    """Each entry repeated ``repeats`` times along ``axis`` (of the flattened ``x`` when
    None); ``repeats`` may be a list, one count per entry."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    if isinstance(repeats, Tensor):
        repeats = np.asarray(repeats.__array__())
    if not isinstance(repeats, (int, np.integer)):
        reps = np.asarray(repeats, dtype=np.int64).reshape(-1)
        idx = np.repeat(np.arange(x.shape[axis]), reps)
        return _ops.index_select(x, axis, Tensor._make(idx))
    return _ops.repeat_interleave(x, int(repeats), dim=axis)


# ------------------------------------------------------------------ joining and splitting
def _common(xs):
    ts = [_t(x) for x in xs]
    dt = np.result_type(*[t.dtype for t in ts])
    return [cast(t, dt) for t in ts]


def concatenate(xs, axis=0):
    """The tensors joined along ``axis`` (None: flattened first)."""
    ts = _common(xs)
    if axis is None:
        ts, axis = [t.reshape(-1) for t in ts], 0
    return _ops.concatenate(ts, axis=int(axis))


def append(x1, x2, axis=None):
    return concatenate([x1, x2], axis)


def stack(x, axis=0):
    """The tensors stacked along a new ``axis``."""
    return _ops.stack(_common(x), axis=int(axis))


def hstack(xs):
    ts = _common(xs)
    return concatenate(ts, 0 if ts[0].ndim == 1 else 1)


def vstack(xs):
    ts = [t.reshape(1, -1) if t.ndim == 1 else t for t in _common(xs)]
    return concatenate(ts, 0)


def dstack(xs):
    ts = []
    for t in _common(xs):
        if t.ndim == 1:
            t = t.reshape(1, -1, 1)
        elif t.ndim == 2:
            t = t.reshape(t.shape + (1,))
        ts.append(t)
    return concatenate(ts, 2)


def split(x, indices_or_sections, axis=0):
    """``numpy.split``: ``n`` equal sections, or cut before each of the given indices."""
    x = _t(x)
    n = x.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        k = int(indices_or_sections)
        if n % k:
            raise ValueError(f"split: axis {axis} of size {n} does not split into {k} equal "
                             "sections (use array_split)")
        bounds = list(range(0, n + 1, n // k))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [n]
    return _cut(x, bounds, axis)


def _cut(x, bounds, axis):
    out = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        idx = [builtins.slice(None)] * x.ndim
        idx[axis] = builtins.slice(a, b)
        out.append(x[tuple(idx)])
    return out


def array_split(x, indices_or_sections, axis=0):
    """Like ``split``, allowing unequal sections (the first ones one longer)."""
    x = _t(x)
    if not isinstance(indices_or_sections, (int, np.integer)):
        return split(x, indices_or_sections, axis)
    n, k = x.shape[axis], int(indices_or_sections)
    sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    return _cut(x, [0] + list(np.cumsum(sizes)), axis)


def hsplit(x, indices_or_sections):
    x = _t(x)
    return split(x, indices_or_sections, 0 if x.ndim == 1 else 1)


def vsplit(x, indices_or_sections):
    return split(x, indices_or_sections, 0)


def dsplit(x, indices_or_sections):
    return split(x, indices_or_sections, 2)


# ------------------------------------------------------------------ indexing
def _index_array(indices):
    a = np.asarray(indices.__array__() if isinstance(indices, Tensor) else indices)
    return a.astype(np.int64)


def take(x, indices, axis=None):
    """Entries of ``x`` at ``indices`` along ``axis`` (of the flattened ``x`` when None);
    negative indices count from the end."""
    x = _t(x)
    if axis is None:
        x, axis = x.reshape(-1), 0
    axis = _norm_axis(int(axis), x.ndim)
    idx = _index_array(indices)
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    flat = _ops.index_select(x, axis, Tensor._make(idx.reshape(-1)))
    return flat.reshape(x.shape[:axis] + idx.shape + x.shape[axis + 1:])


def take_along_axis(x, indices, axis=None):
    """``numpy.take_along_axis``: ``x[..., indices[...], ...]`` along ``axis``."""
    x = _t(x)
    idx = _index_array(indices)
    if axis is None:
        return _ops.take_along_dim(x.reshape(-1), Tensor._make(idx.reshape(-1)), 0)
    axis = _norm_axis(int(axis), x.ndim)
    shape_ = list(np.broadcast_shapes(
        tuple(s for i, s in enumerate(x.shape) if i != axis),
        tuple(s for i, s in enumerate(idx.shape) if i != axis)))
    xs = shape_[:axis] + [x.shape[axis]] + shape_[axis:]
    ix = shape_[:axis] + [idx.shape[axis]] + shape_[axis:]
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    return _ops.take_along_dim(_ops.broadcast_to(x, tuple(xs)),
                               Tensor._make(np.broadcast_to(idx, ix).copy()), axis)


def get_item(x, key):
    """``x[key]``."""
    return _t(x)[key]


def pad(x, pad_width, mode="constant", constant_values=None):
    """``numpy.pad`` with ``pad_width`` ``[(before, after), ...]`` per axis (an int pads
    every axis by it); modes ``"constant"``, ``"reflect"``, ``"symmetric"``, ``"edge"``
    (``"reflect"`` and ``"edge"`` only on the last three axes)."""
    x = _t(x)
    pw = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2)) \
        if np.ndim(pad_width) < 2 else np.asarray(pad_width, dtype=np.int64)
    if mode == "constant":
        flat = tuple(int(v) for p in reversed(pw.tolist()) for v in p)
        return _ops.pad(x, flat, mode="constant",
                        value=0.0 if constant_values is None else float(constant_values))
    if constant_values is not None:
        raise ValueError(f"pad: constant_values is only for mode='constant', got mode={mode!r}")
    if mode == "symmetric":
        idx = [np.arange(-b, n + a) for (b, a), n in zip(pw.tolist(), x.shape)]
        out = x
        for axis, (i, n) in enumerate(zip(idx, x.shape)):
            period = np.mod(i, 2 * n)
            i = np.where(period < n, period, 2 * n - 1 - period)
            out = _ops.index_select(out, axis, Tensor._make(i))
        return out
    if mode in ("reflect", "edge"):
        lead = [i for i in range(x.ndim) if pw[i].any()]
        idx = [np.arange(-b, n + a) for (b, a), n in zip(pw.tolist(), x.shape)]
        out = x
        for axis in lead:
            i, n = idx[axis], x.shape[axis]
            if mode == "edge":
                i = np.clip(i, 0, n - 1)
            else:
                period = np.mod(i, 2 * (n - 1)) if n > 1 else np.zeros_like(i)
                i = np.where(period < n, period, 2 * (n - 1) - period)
            out = _ops.index_select(out, axis, Tensor._make(i))
        return out
    raise ValueError(f"pad: mode must be 'constant', 'reflect', 'symmetric' or 'edge', got "
                     f"{mode!r}")


def tril(x, k=0):
    return _ops.tril(_t(x), k)


def triu(x, k=0):
    return _ops.triu(_t(x), k)


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The diagonal of the (axis1, axis2) planes, as a last axis (``numpy.diagonal``)."""
    x = _t(x)
    a1, a2 = _norm_axis(int(axis1), x.ndim), _norm_axis(int(axis2), x.ndim)
    x = _ops.permute(x, *([i for i in range(x.ndim) if i not in (a1, a2)] + [a1, a2]))
    n, m = x.shape[-2], x.shape[-1]
    rows = np.arange(builtins.max(0, -offset), builtins.max(builtins.min(n, m - offset), 0))
    return x[..., rows, rows + offset]


def diag(x, k=0):
    """The k-th diagonal of a matrix, or a matrix with the vector ``x`` on it."""
    x = _t(x)
    if x.ndim == 2:
        return diagonal(x, k)
    n = x.shape[0] + abs(k)
    rows = np.arange(x.shape[0]) + builtins.max(0, -k)
    cols = np.arange(x.shape[0]) + builtins.max(0, k)
    place = np.zeros((x.shape[0], n * n), dtype=x.dtype)
    place[np.arange(x.shape[0]), rows * n + cols] = 1
    return (x.reshape(1, -1) @ Tensor._make(place)).reshape(n, n)


def diagflat(x, k=0):
    return diag(_t(x).reshape(-1), k)


def trace(x, offset=0, axis1=0, axis2=1):
    return _ops.sum(diagonal(x, offset, axis1, axis2), axis=-1)


# ------------------------------------------------------------------ products
def matmul(x1, x2):
    """The matrix product (batched over leading axes, 1-D operands as vectors)."""
    a, b = _like_dtype(x1, x2)
    return _ops.matmul(a, b)


def dot(x1, x2):
    """``numpy.dot``: a scalar times, vectors' inner product, matrix product, or the sum
    over the last axis of ``x1`` and the second-to-last of ``x2``."""
    a, b = _like_dtype(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    if b.ndim <= 2:
        return _ops.matmul(a, b)
    return _ops.tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 2]))


def vdot(x1, x2):
    return _ops.sum(_t(x1).reshape(-1) * _t(x2).reshape(-1))


def inner(x1, x2):
    a, b = _like_dtype(x1, x2)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return _ops.tensordot(a, b, axes=([a.ndim - 1], [b.ndim - 1]))


def outer(x1, x2):
    a, b = _like_dtype(x1, x2)
    return a.reshape(-1, 1) * b.reshape(1, -1)


def tensordot(x1, x2, axes=2):
    a, b = _like_dtype(x1, x2)
    return _ops.tensordot(a, b, axes=axes)


def einsum(subscripts, *operands, **kwargs):
    """Einstein summation, e.g. ``einsum("bij,bjk->bik", a, b)``."""
    return _ops.einsum(subscripts, *_common(operands))


def kron(x1, x2):
    a, b = _like_dtype(x1, x2)
    if a.ndim != 2 or b.ndim != 2:
        raise NotImplementedError("kron: shendu.keras supports 2-D operands")
    (n, m), (p, q) = a.shape, b.shape
    return (a.reshape(n, 1, m, 1) * b.reshape(1, p, 1, q)).reshape(n * p, m * q)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 3-vectors along the last axis."""
    a, b = _like_dtype(x1, x2)
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = _ops.moveaxis(a, axisa, -1), _ops.moveaxis(b, axisb, -1)
    if a.shape[-1] != 3 or b.shape[-1] != 3:
        raise NotImplementedError("cross: shendu.keras supports 3-vectors only")
    c = stack([a[..., 1] * b[..., 2] - a[..., 2] * b[..., 1],
               a[..., 2] * b[..., 0] - a[..., 0] * b[..., 2],
               a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]], axis=-1)
    return _ops.moveaxis(c, -1, axisc)


# ------------------------------------------------------------------ creation
def _dt(dtype, default=None):
    return _np_dtype(dtype) if dtype is not None else (default or _floatx())


def zeros(shape, dtype=None):
    return Tensor._make(np.zeros(_shape(shape), dtype=_dt(dtype)))


def ones(shape, dtype=None):
    return Tensor._make(np.ones(_shape(shape), dtype=_dt(dtype)))


empty = zeros


def full(shape, fill_value, dtype=None):
    if isinstance(fill_value, Tensor):
        return _ops.broadcast_to(cast(fill_value, _dt(dtype, fill_value.dtype)), _shape(shape))
    default = _floatx() if isinstance(fill_value, (int, float)) and \
        not isinstance(fill_value, bool) else np.asarray(fill_value).dtype
    return Tensor._make(np.full(_shape(shape), fill_value, dtype=_dt(dtype, default)))


def zeros_like(x, dtype=None):
    x = _t(x)
    return Tensor._make(np.zeros(x.shape, dtype=_dt(dtype, x.dtype)))


def ones_like(x, dtype=None):
    x = _t(x)
    return Tensor._make(np.ones(x.shape, dtype=_dt(dtype, x.dtype)))


empty_like = zeros_like


def full_like(x, fill_value, dtype=None):
    x = _t(x)
    return Tensor._make(np.full(x.shape, fill_value, dtype=_dt(dtype, x.dtype)))


def eye(N, M=None, k=0, dtype=None):
    return Tensor._make(np.eye(int(N), None if M is None else int(M), int(k), dtype=_dt(dtype)))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def tri(N, M=None, k=0, dtype=None):
    return Tensor._make(np.tri(int(N), None if M is None else int(M), int(k), dtype=_dt(dtype)))


def arange(start, stop=None, step=None, dtype=None):
    """Evenly spaced values in ``[start, stop)``: int32 for integer arguments, float32 if
    any is a float."""
    args = [a for a in (start, stop, step) if a is not None]
    floaty = builtins.any(isinstance(a, float) or np.asarray(a).dtype.kind == "f" for a in args)
    default = _floatx() if floaty else np.dtype("int32")
    if stop is None:
        start, stop = 0, start
    return Tensor._make(np.arange(start, stop, 1 if step is None else step).astype(
        _dt(dtype, default)))


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    out, step = np.linspace(np.asarray(start), np.asarray(stop), int(num), endpoint=endpoint,
                            retstep=True, axis=axis)
    t = Tensor._make(out.astype(_dt(dtype)))
    return (t, step) if retstep else t


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    return Tensor._make(np.logspace(start, stop, int(num), endpoint=endpoint, base=base,
                                    axis=axis).astype(_dt(dtype)))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return Tensor._make(np.geomspace(start, stop, int(num), endpoint=endpoint,
                                     axis=axis).astype(_dt(dtype)))


def meshgrid(*x, indexing="xy"):
    """Coordinate grids (``numpy.meshgrid``; gradients flow to each 1-D input)."""
    ts = [_t(v).reshape(-1) for v in x]
    n = len(ts)
    sizes = [t.shape[0] for t in ts]
    if indexing == "xy" and n >= 2:
        sizes[0], sizes[1] = sizes[1], sizes[0]
    out = []
    for i, t in enumerate(ts):
        pos = i if not (indexing == "xy" and n >= 2 and i < 2) else 1 - i
        shape_ = [1] * n
        shape_[pos] = t.shape[0]
        out.append(_ops.broadcast_to(t.reshape(shape_), tuple(sizes)))
    return out


