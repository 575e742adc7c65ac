"""Writing into positions, out of place: ``scatter``/``scatter_reduce``, ``index_add``/
``index_copy``/``index_fill``/``index_put``, ``masked_select``/``masked_scatter``,
``take``/``put``, ``select_scatter``/``slice_scatter``/``diagonal_scatter``.

Every op here is one rule: the result is ``x`` where nothing is written and the new
values where something is. Written as ``where(mask, placed, x)``, with ``placed`` the
values put into zeros (``ScatterIntoZeros``, the adjoint of indexing), the gradient
goes to ``x`` where it was not overwritten and back to each value from the position
it landed in. When an index repeats, PyTorch leaves which value wins undefined; here
the values add up (as with ``accumulate=True``).

>>> import shendu
>>> x = shendu.zeros(2, 3)
>>> x.scatter(1, shendu.tensor([[2], [0]]), shendu.tensor([[5.0], [7.0]]))
tensor([[0., 0., 5.],
        [7., 0., 0.]])
>>> shendu.tensor([1.0, 2.0, 3.0]).index_add(0, shendu.tensor([0, 0]), shendu.tensor([1.0, 1.0]))
tensor([3., 2., 3.])
"""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from . import compare_select as _cs
from . import shape as _sh
from .elementwise import _tensor, cast
from .indexing import (ScatterIntoZeros, _check_range, _dim, _int_index, getitem,
                       masked_fill, scatter_add)

__all__ = ["scatter", "scatter_reduce", "index_add", "index_copy", "index_fill", "index_reduce",
           "index_put", "masked_select", "masked_scatter", "take", "put", "select_scatter",
           "slice_scatter", "diagonal_scatter"]


def _as_values(values, x, name):
    v = values if isinstance(values, Tensor) else Tensor(np.asarray(values), dtype=x.dtype)
    if v.dtype != x.dtype:
        v = cast(v, x.dtype)
    return v


def _place(x, index, values, advanced, accumulate):
    """``x`` with ``values`` written at ``x[index]`` (added when ``accumulate``)."""
    target = x._data[index].shape
    values = _sh.broadcast_to(values, target) if values.shape != tuple(target) else values
    placed = ScatterIntoZeros.apply(values, index, x.shape, advanced)
    if accumulate:
        return x + placed
    mask = x.xp.zeros(x.shape, dtype=bool)
    mask[index] = True
    return _cs.where(Tensor._make(mask), placed, x)


def _positions(idx, d):
    """The full index tuple of ``out[..., idx[...], ...]`` for scatter along ``d``."""
    pos = list(np.indices(idx.shape, sparse=True))
    pos[d] = idx
    return tuple(pos)


def _scatter_args(x, dim, index, name):
    x = _tensor(x, name)
    idx = np.asarray(_int_index(index, name))
    if x.ndim == 0:
        raise RuntimeError(f"{name}: expected a tensor with at least 1 dimension")
    d = _dim(dim, x.ndim, name)
    if idx.ndim != x.ndim or any(i > s for k, (i, s) in enumerate(zip(idx.shape, x.shape))
                                 if k != d):
        raise RuntimeError(f"{name}: index of shape {idx.shape} must have as many dimensions "
                           f"as the tensor ({x.shape}) and not be larger outside dim {d}")
    _check_range(idx, x.shape[d], name, d)
    return x, idx, d


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    """``out[index[i][j]][j] = src[i][j]`` (dim 0; likewise for other dims), else ``input``.

    ``src`` is a tensor at least as large as ``index`` or a number (``value``);
    ``reduce='add'`` or ``'multiply'`` combines with the old value instead of replacing.
    """
    x, idx, d = _scatter_args(input, dim, index, "scatter")
    if src is None:
        src = value
    if src is None:
        raise TypeError("scatter: give src (a tensor) or value (a number)")
    if isinstance(src, Tensor) and src.ndim:
        v = getitem(_as_values(src, x, "scatter"), tuple(slice(0, s) for s in idx.shape))
    else:
        v = _as_values(src, x, "scatter")
    pos = _positions(x.xp.asarray(idx), d)
    if reduce is None:
        return _place(x, pos, v, True, False)
    if reduce == "add":
        return _place(x, pos, v, True, True)
    if reduce == "multiply":
        return scatter_reduce(x, d, index, _sh.broadcast_to(v, idx.shape), "prod")
    raise ValueError(f"scatter: reduce must be None, 'add' or 'multiply', got {reduce!r}")


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """Combine ``src`` into ``input`` at ``index`` along ``dim`` with ``reduce``: 'sum',
    'mean' (differentiable), 'prod', 'amax', 'amin' (no gradient: use them on data)."""
    x, idx, d = _scatter_args(input, dim, index, "scatter_reduce")
    s = getitem(_as_values(src, x, "scatter_reduce"), tuple(slice(0, n) for n in idx.shape))
    xp = x.xp
    pos = _positions(xp.asarray(idx), d)
    if reduce in ("sum", "mean"):
        base = x if include_self else _place(x, pos, Tensor._make(xp.zeros((), x.dtype)),
                                             True, False)
        total = _place(base, pos, s, True, True)
        if reduce == "sum":
            return total
        count = xp.zeros(x.shape, dtype=x.dtype)
        np.add.at(count, pos, 1)
        count = count + (1 if include_self else 0)
        count = xp.where(count == 0, 1, count)
        return total / Tensor._make(count.astype(x.dtype))
    ufunc = {"prod": np.multiply, "amax": np.maximum, "amin": np.minimum}.get(reduce)
    if ufunc is None:
        raise ValueError(f"scatter_reduce: reduce must be 'sum', 'prod', 'mean', 'amax' or "
                         f"'amin', got {reduce!r}")
    if grad_mode.is_grad_enabled() and (x.requires_grad or s.requires_grad):
        raise RuntimeError(f"scatter_reduce: reduce={reduce!r} has no gradient in shendu; use "
                           "'sum' or 'mean', or compute it under shendu.no_grad()")
    out = x._data.copy()
    if not include_self:
        init = {"prod": 1, "amax": -np.inf, "amin": np.inf}[reduce]
        written = np.zeros(x.shape, bool)
        written[pos] = True
        out[written] = init if x.dtype.kind == "f" or reduce == "prod" else \
            (np.iinfo(x.dtype).min if reduce == "amax" else np.iinfo(x.dtype).max)
    ufunc.at(out, pos, s._data)
    return Tensor._make(out)


def _index_along(x, dim, index, source_shape, name):
    idx = np.asarray(_int_index(index, name)).reshape(-1)
    d = _dim(dim, x.ndim, name)
    _check_range(idx, x.shape[d], name, d)
    shape = [1] * len(source_shape)
    shape[d] = -1
    return np.broadcast_to(idx.reshape(shape), source_shape), d


def index_add(input, dim, index, source, *, alpha=1):
    """``out = input`` with ``alpha * source[j]`` added to slice ``index[j]`` of ``dim``
    (repeats accumulate). Differentiable in ``input`` and ``source``."""
    x = _tensor(input, "index_add")
    src = _as_values(source, x, "index_add")
    idx, d = _index_along(x, dim, index, src.shape, "index_add")
    return scatter_add(x, d, Tensor._make(np.ascontiguousarray(idx)),
                       src if alpha == 1 else src * alpha)


def index_copy(input, dim, index, source):
    """``out = input`` with slice ``index[j]`` of ``dim`` replaced by ``source[j]``."""
    x = _tensor(input, "index_copy")
    src = _as_values(source, x, "index_copy")
    idx, d = _index_along(x, dim, index, src.shape, "index_copy")
    return _place(x, _positions(x.xp.asarray(idx), d), src, True, False)


def index_reduce(input, dim, index, source, reduce, *, include_self=True):
    """``scatter_reduce`` of whole slices: slice ``j`` of ``source`` along ``dim`` is
    combined into slice ``index[j]`` of ``input`` with ``reduce`` ('prod', 'mean',
    'amax', 'amin'; 'mean' is differentiable).

    >>> shendu.index_reduce(shendu.ones(3), 0, shendu.tensor([0, 0, 2]),
    ...                     shendu.tensor([2.0, 3.0, 4.0]), "prod")
    tensor([6., 1., 4.])
    """
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise ValueError(f"index_reduce: reduce must be 'prod', 'mean', 'amax' or 'amin', "
                         f"got {reduce!r}")
    x = _tensor(input, "index_reduce")
    src = _as_values(source, x, "index_reduce")
    idx, d = _index_along(x, dim, index, src.shape, "index_reduce")
    return scatter_reduce(x, d, Tensor._make(np.ascontiguousarray(idx)), src, reduce,
                          include_self=include_self)


def index_fill(input, dim, index, value):
    """``out = input`` with the slices ``index`` of ``dim`` set to ``value``."""
    x = _tensor(input, "index_fill")
    idx = np.asarray(_int_index(index, "index_fill")).reshape(-1)
    d = _dim(dim, x.ndim, "index_fill")
    _check_range(idx, x.shape[d], "index_fill", d)
    mask = np.zeros(x.shape[d], bool)
    mask[idx] = True
    shape = [1] * x.ndim
    shape[d] = -1
    return masked_fill(x, Tensor._make(x.xp.asarray(mask.reshape(shape))), value)


def index_put(input, indices, values, accumulate=False):
    """``out = input`` with ``out[indices] = values`` (``+=`` when ``accumulate``);
    ``indices`` is a tuple of index tensors, as ``x[indices]``."""
    from .indexing import _normalize_index
    x = _tensor(input, "index_put")
    index, advanced = _normalize_index(tuple(indices), x.xp, "index_put")
    return _place(x, index, _as_values(values, x, "index_put"), advanced, accumulate)


def masked_select(input, mask):
    """The elements where ``mask`` (broadcast with ``input``) is True, as a 1-D tensor.

    >>> shendu.masked_select(shendu.tensor([1.0, 2.0, 3.0]), shendu.tensor([True, False, True]))
    tensor([1., 3.])
    """
    x = _tensor(input, "masked_select")
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_select: mask must be a bool tensor, got {m.dtype}")
    shape = np.broadcast_shapes(x.shape, m.shape)
    if shape != x.shape:
        x = _sh.broadcast_to(x, shape)
    return getitem(x, x.xp.broadcast_to(m, shape))


def masked_scatter(input, mask, source):
    """``out = input`` with the True positions of ``mask`` filled, in order, by the
    first elements of ``source``."""
    x = _tensor(input, "masked_scatter")
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    m = x.xp.broadcast_to(m, x.shape)
    k = int(m.sum())
    src = _sh.flatten(_as_values(source, x, "masked_scatter"))
    if src.shape[0] < k:
        raise RuntimeError(f"masked_scatter: source has {src.shape[0]} elements, the mask "
                           f"selects {k}")
    return _place(x, x.xp.nonzero(m), getitem(src, slice(0, k)), True, False)


def take(input, index):
    """``input.flatten()[index]`` (the result has ``index``'s shape)."""
    x = _tensor(input, "take")
    idx = x.xp.asarray(_int_index(index, "take"))
    n = x.numel()
    _check_range(np.where(idx < 0, idx + n, idx), n, "take", 0)
    return getitem(_sh.flatten(x), idx % max(n, 1))


def put(input, index, source, accumulate=False):
    """``out = input`` with ``out.flatten()[index] = source`` (``+=`` when ``accumulate``)."""
    x = _tensor(input, "put")
    idx = x.xp.asarray(_int_index(index, "put")).reshape(-1) % max(x.numel(), 1)
    flat = _place(_sh.flatten(x), (idx,), _sh.flatten(_as_values(source, x, "put")), True,
                  accumulate)
    return _sh.reshape(flat, x.shape)


def select_scatter(input, src, dim, index):
    """``out = input`` with ``out.select(dim, index) = src``."""
    x = _tensor(input, "select_scatter")
    d = _dim(dim, x.ndim, "select_scatter")
    return _place(x, (slice(None),) * d + (int(index),), _as_values(src, x, "select_scatter"),
                  False, False)


def slice_scatter(input, src, dim=0, start=None, end=None, step=1):
    """``out = input`` with ``out[..., start:end:step, ...] = src`` (along ``dim``)."""
    x = _tensor(input, "slice_scatter")
    d = _dim(dim, x.ndim, "slice_scatter")
    return _place(x, (slice(None),) * d + (slice(start, end, step),),
                  _as_values(src, x, "slice_scatter"), False, False)


def diagonal_scatter(input, src, offset=0, dim1=0, dim2=1):
    """``out = input`` with ``out.diagonal(offset, dim1, dim2) = src``."""
    x = _tensor(input, "diagonal_scatter")
    a, b = _dim(dim1, x.ndim, "diagonal_scatter"), _dim(dim2, x.ndim, "diagonal_scatter")
    i = np.arange(max(0, -offset), min(x.shape[a], x.shape[b] - offset))
    index = [slice(None)] * x.ndim
    index[a], index[b] = i, i + offset
    # advanced indices on two dims: the diagonal goes where NumPy puts it; move src to match
    s = _as_values(src, x, "diagonal_scatter")
    if abs(a - b) == 1:
        s = _sh.moveaxis(s, -1, min(a, b))
    else:
        s = _sh.moveaxis(s, -1, 0)
    return _place(x, tuple(index), s, True, False)
