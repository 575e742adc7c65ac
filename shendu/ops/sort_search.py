"""Sorting, selecting and counting: ``sort``/``argsort``/``topk``/``kthvalue``,
``median``/``mode``/``quantile``, ``searchsorted``/``bucketize``, ``histc``/``bincount``,
``unique``, ``nonzero``/``argwhere``/``count_nonzero``, ``isin``.

The order (which element goes where) is found on the raw arrays; the values are then
picked with ``gather``, so the gradient of every value output flows back to the
element it came from, and the index outputs are integer tensors (no gradient). Ties
keep their original order (a stable sort), which is what PyTorch's ``stable=True``
gives; PyTorch's default may order equal values differently.

>>> import shendu
>>> v, i = shendu.tensor([3.0, 1.0, 2.0]).sort()
>>> v, i
(tensor([1., 2., 3.]), tensor([1, 2, 0]))
>>> shendu.tensor([1.0, 5.0, 3.0]).topk(2).values
tensor([5., 3.])
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.tensor import Tensor
from . import shape as _sh
from .elementwise import _tensor, _value
from .indexing import gather

__all__ = ["sort", "argsort", "msort", "topk", "kthvalue", "median", "nanmedian", "mode",
           "quantile", "nanquantile", "searchsorted", "bucketize", "histc", "histogram",
           "bincount", "unique", "unique_consecutive", "count_nonzero", "nonzero", "nonzero_static",
           "argwhere", "isin"]

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
HistogramResult = namedtuple("HistogramResult", ["hist", "bin_edges"])


def _int(array):
    return Tensor._make(array.astype(np.int64, copy=False))


def _dim(dim, ndim, name):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{name}: dimension {dim} is out of range for a tensor with {ndim} "
                         f"dimensions")
    return dim % max(ndim, 1)


def _order(x, dim, descending):
    """Stable argsort of ``x.data`` along ``dim``. nan counts as larger than everything,
    as in PyTorch: last in ascending order, first in descending order."""
    xp, a = x.xp, x._data
    if a.ndim == 0:
        return xp.zeros((), dtype=np.int64)
    if not descending:
        return xp.argsort(a, axis=dim, kind="stable")  # NumPy already puts nan last
    if a.dtype.kind == "b":
        return xp.argsort(~a, axis=dim, kind="stable")
    if a.dtype.kind == "u":
        return xp.argsort(a.max() - a, axis=dim, kind="stable")
    if a.dtype.kind != "f":
        return xp.argsort(-a, axis=dim, kind="stable")
    nan = xp.isnan(a)
    idx = xp.argsort(xp.where(nan, -np.inf, -a), axis=dim, kind="stable")
    if nan.any():  # a second stable pass on "is not nan" moves nan ahead of +inf too
        second = xp.argsort(~xp.take_along_axis(nan, idx, dim), axis=dim, kind="stable")
        idx = xp.take_along_axis(idx, second, dim)
    return idx


def sort(input, dim=-1, descending=False, stable=False):
    """``(values, indices)`` sorted along ``dim``; values differentiable."""
    x = _tensor(input, "sort")
    d = _dim(dim, x.ndim, "sort")
    idx = _order(x, d, descending)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _int(idx))
    return ValuesIndices(gather(x, d, _int(idx)), _int(idx))


def argsort(input, dim=-1, descending=False, stable=False):
    """The indices that sort ``input`` along ``dim`` (stable)."""
    x = _tensor(input, "argsort")
    return _int(_order(x, _dim(dim, x.ndim, "argsort"), descending))


def msort(input):
    """``input`` sorted along dimension 0 (values only)."""
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):
    """The ``k`` largest (or smallest) elements along ``dim``: ``(values, indices)``.

    >>> shendu.topk(shendu.tensor([[1.0, 9.0, 4.0]]), 2).indices
    tensor([[1, 2]])
    """
    x = _tensor(input, "topk")
    d = _dim(dim, x.ndim, "topk")
    n = x.shape[d] if x.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"topk: k={k} is out of range for dimension {d} of size {n}")
    idx = _order(x, d, largest)
    idx = idx[(slice(None),) * d + (slice(0, k),)] if x.ndim else idx
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _int(idx))
    return ValuesIndices(gather(x, d, _int(idx)), _int(idx))


def kthvalue(input, k, dim=-1, keepdim=False):
    """The k-th smallest element (k counts from 1) along ``dim``: ``(values, indices)``."""
    x = _tensor(input, "kthvalue")
    d = _dim(dim, x.ndim, "kthvalue")
    n = x.shape[d] if x.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue: k={k} is out of range 1..{n} for dimension {d}")
    return _pick_rank(x, d, k - 1, keepdim)


def _pick_rank(x, d, rank, keepdim):
    idx = _order(x, d, False)
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _int(idx))
    idx = idx[(slice(None),) * d + (slice(rank, rank + 1),)]
    values = gather(x, d, _int(idx))
    if not keepdim:
        values, idx = _sh.squeeze(values, d), idx.squeeze(d)
    return ValuesIndices(values, _int(idx))


def median(input, dim=None, keepdim=False):
    """The lower median (no averaging of the two middle values, as in PyTorch): a scalar
    over all elements when ``dim`` is None, else ``(values, indices)`` along ``dim``.

    >>> shendu.median(shendu.tensor([4.0, 1.0, 3.0, 2.0]))
    tensor(2.)
    """
    x = _tensor(input, "median")
    if dim is None:
        flat = _sh.flatten(x)
        return _pick_rank(flat, 0, (flat.shape[0] - 1) // 2, False).values
    d = _dim(dim, x.ndim, "median")
    return _pick_rank(x, d, ((x.shape[d] if x.ndim else 1) - 1) // 2, keepdim)


def nanmedian(input, dim=None, keepdim=False):
    """``median`` ignoring nan (all elements, or along ``dim`` with ``(values, indices)``)."""
    x = _tensor(input, "nanmedian")
    if dim is None:
        flat = _sh.flatten(x)
        n = int((~x.xp.isnan(flat._data)).sum())
        return _pick_rank(flat, 0, max(n - 1, 0) // 2, False).values
    d = _dim(dim, x.ndim, "nanmedian")
    counts = (~x.xp.isnan(x._data)).sum(axis=d, keepdims=True)
    ranks = x.xp.maximum(counts - 1, 0) // 2
    idx = x.xp.take_along_axis(_order(x, d, False), ranks, axis=d)
    values = gather(x, d, _int(idx))
    if not keepdim:
        values, idx = _sh.squeeze(values, d), idx.squeeze(d)
    return ValuesIndices(values, _int(idx))


def mode(input, dim=-1, keepdim=False):
    """The most frequent value along ``dim`` (the smallest of tied ones) and an index of it."""
    x = _tensor(input, "mode")
    d = _dim(dim, x.ndim, "mode")
    a = np.moveaxis(x.__array__(), d, -1)
    flat = a.reshape(-1, a.shape[-1]) if a.ndim else a.reshape(1, 1)
    best = np.empty(flat.shape[0], dtype=np.int64)
    for r, row in enumerate(flat):
        vals, counts = np.unique(row, return_counts=True)
        v = vals[np.argmax(counts)]
        best[r] = np.flatnonzero(row == v)[-1]
    idx = best.reshape(a.shape[:-1] + (1,))
    idx = x.xp.asarray(np.moveaxis(idx, -1, d)) if x.ndim else x.xp.asarray(idx.reshape(()))
    if x.ndim == 0:
        return ValuesIndices(x.clone(), _int(idx))
    values = gather(x, d, _int(idx))
    if not keepdim:
        values, idx = _sh.squeeze(values, d), idx.squeeze(d)
    return ValuesIndices(values, _int(idx))


def quantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """The ``q``-quantiles (0 <= q <= 1, a number or 1-D tensor) over all elements or
    along ``dim``. ``interpolation``: 'linear' (default), 'lower', 'higher', 'nearest',
    'midpoint'. Differentiable: the two neighbouring order statistics, interpolated.
    A 1-D ``q`` adds a leading dimension to the result.

    >>> shendu.quantile(shendu.tensor([1.0, 2.0, 3.0, 4.0]), 0.5)
    tensor(2.5000)
    """
    return _quantile(input, q, dim, keepdim, interpolation, False, "quantile")


def nanquantile(input, q, dim=None, keepdim=False, *, interpolation="linear"):
    """``quantile`` ignoring nan."""
    return _quantile(input, q, dim, keepdim, interpolation, True, "nanquantile")


def _quantile(input, q, dim, keepdim, interpolation, skip_nan, name):
    from .join import stack
    x = _tensor(input, name)
    if x.dtype.kind != "f":
        raise RuntimeError(f"{name}: expected a float tensor, got {x.dtype}")
    qs = np.atleast_1d(np.asarray(_value(q) if not isinstance(q, Tensor) else q.__array__(),
                                  dtype=np.float64))
    if ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{name}: q must be in [0, 1], got {qs.tolist()}")
    if interpolation not in ("linear", "lower", "higher", "nearest", "midpoint"):
        raise ValueError(f"{name}: unknown interpolation {interpolation!r}")
    if dim is None:
        xs, d = _sh.flatten(x), 0
    else:
        xs, d = x, _dim(dim, x.ndim, name)
    srt = sort(xs, d).values
    n = (~xs.xp.isnan(xs._data)).sum(axis=d, keepdims=True) if skip_nan else \
        xs.xp.full((1,) * xs.ndim, xs.shape[d])
    outs = []
    for qi in qs:
        pos = qi * (n - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
        frac = pos - lo
        if interpolation == "lower":
            frac = frac * 0
        elif interpolation == "higher":
            frac = (frac > 0).astype(np.float64)
        elif interpolation == "nearest":
            frac = (np.round(pos) > lo).astype(np.float64)  # half to even, as PyTorch
        elif interpolation == "midpoint":
            frac = np.where(frac > 0, 0.5, 0.0)
        shape = list(xs.shape)
        shape[d] = 1
        lo_i = _int(xs.xp.broadcast_to(xs.xp.asarray(np.maximum(lo, 0)), shape).copy())
        hi_i = _int(xs.xp.broadcast_to(xs.xp.asarray(np.maximum(hi, 0)), shape).copy())
        a, b = gather(srt, d, lo_i), gather(srt, d, hi_i)
        w = Tensor._make(xs.xp.asarray(np.broadcast_to(frac, shape), dtype=x.dtype))
        v = a + (b - a) * w
        if dim is None:
            v = _sh.reshape(v, (1,) * x.ndim if keepdim else ())
        elif not keepdim:
            v = _sh.squeeze(v, d)
        outs.append(v)
    if np.ndim(_value(q) if not isinstance(q, Tensor) else q._data) == 0:
        return outs[0]
    return stack(outs, 0)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None,
                 sorter=None):
    """Where to insert ``input`` into the (last-dimension) sorted ``sorted_sequence`` to
    keep it sorted: the first such index (``right=True`` or ``side='right'``: the last).

    >>> shendu.searchsorted(shendu.tensor([1, 3, 5]), shendu.tensor([3, 6]))
    tensor([1, 3])
    """
    seq = _tensor(sorted_sequence, "searchsorted").__array__()
    vals = input.__array__() if isinstance(input, Tensor) else np.asarray(input)
    side = side or ("right" if right else "left")
    if sorter is not None:
        seq = np.take_along_axis(seq, np.asarray(_value(sorter)), -1)
    if seq.ndim <= 1:
        out = np.searchsorted(seq, vals, side=side)
    else:
        rows_s = seq.reshape(-1, seq.shape[-1])
        rows_v = vals.reshape(-1, vals.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=side) for s, v in zip(rows_s, rows_v)])
        out = out.reshape(vals.shape)
    out = np.asarray(out, dtype=np.int32 if out_int32 else np.int64)
    return Tensor(out, device=sorted_sequence.device if isinstance(sorted_sequence, Tensor)
                  else None)


def bucketize(input, boundaries, *, out_int32=False, right=False):
    """The bucket of each element for the 1-D sorted ``boundaries``: i such that
    ``boundaries[i-1] < x <= boundaries[i]`` (``right=True``: ``b[i-1] <= x < b[i]``)."""
    b = _tensor(boundaries, "bucketize")
    if b.ndim != 1:
        raise RuntimeError(f"bucketize: boundaries must be 1-D, got shape {b.shape}")
    return searchsorted(b, input, out_int32=out_int32, right=right)


def histc(input, bins=100, min=0, max=0):
    """Counts in ``bins`` equal-width bins over [min, max] (the data's range when both
    are 0); values outside are ignored. Returns a float tensor of the input's dtype."""
    x = _tensor(input, "histc")
    a = x.__array__().astype(np.float64).reshape(-1)
    lo, hi = float(min), float(max)
    if lo == hi == 0 and a.size:
        lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    counts, _ = np.histogram(a, bins=bins, range=(lo, hi))
    return Tensor(counts.astype(x.dtype if x.dtype.kind == "f" else np.float32))


def histogram(input, bins=100, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` as ``numpy.histogram`` (``bins``: a count or the edges)."""
    x = _tensor(input, "histogram")
    edges = bins.__array__() if isinstance(bins, Tensor) else bins
    w = None if weight is None else _tensor(weight, "histogram").__array__().reshape(-1)
    h, e = np.histogram(x.__array__().reshape(-1), bins=edges, range=range, weights=w,
                        density=density)
    return HistogramResult(Tensor(h.astype(x.dtype)), Tensor(e.astype(x.dtype)))


def bincount(input, weights=None, minlength=0):
    """How often each non-negative integer occurs in a 1-D int tensor (summing
    ``weights`` instead of counting when given)."""
    x = _tensor(input, "bincount")
    if x.ndim != 1 or x.dtype.kind not in "iu":
        raise RuntimeError(f"bincount: expected a 1-D integer tensor, got {x.dtype} of "
                           f"shape {x.shape}")
    a = x.__array__()
    if a.size and a.min() < 0:
        raise RuntimeError("bincount: the input must not contain negative values")
    w = None if weights is None else _tensor(weights, "bincount").__array__()
    out = np.bincount(a, weights=w, minlength=minlength)
    return Tensor(out if w is not None else out.astype(np.int64))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):
    """The distinct values (sorted), optionally with the inverse indices (where each
    element's value is in the result) and the counts. ``dim``: unique slices along it."""
    x = _tensor(input, "unique")
    out = np.unique(x.__array__(), return_inverse=True, return_counts=True, axis=dim)
    vals, inv, counts = out
    inv = inv.reshape(x.shape if dim is None else (x.shape[dim],))
    result = [Tensor(vals)]
    if return_inverse:
        result.append(Tensor(inv.astype(np.int64)))
    if return_counts:
        result.append(Tensor(counts.astype(np.int64)))
    return result[0] if len(result) == 1 else tuple(result)


def unique_consecutive(input, return_inverse=False, return_counts=False, dim=None):
    """Collapse runs of equal consecutive elements (of the flattened input, or slices
    along ``dim``), as ``itertools.groupby``."""
    x = _tensor(input, "unique_consecutive")
    a = x.__array__()
    if dim is None:
        a = a.reshape(-1)
        change = np.concatenate([[True], a[1:] != a[:-1]]) if a.size else np.zeros(0, bool)
    else:
        a = np.moveaxis(a, dim, 0)
        diff = (a[1:] != a[:-1]).reshape(max(a.shape[0] - 1, 0), -1).any(axis=1)
        change = np.concatenate([[True], diff]) if a.shape[0] else np.zeros(0, bool)
    starts = np.flatnonzero(change)
    vals = a[starts] if dim is None else np.moveaxis(a[starts], 0, dim)
    result = [Tensor(np.ascontiguousarray(vals))]
    if return_inverse:
        inv = np.cumsum(change) - 1
        result.append(Tensor(inv.reshape(x.shape if dim is None else -1).astype(np.int64)))
    if return_counts:
        result.append(Tensor(np.diff(np.append(starts, len(change))).astype(np.int64)))
    return result[0] if len(result) == 1 else tuple(result)


def count_nonzero(input, dim=None):
    """The number of non-zero elements (over ``dim``, an int or tuple, or all)."""
    x = _tensor(input, "count_nonzero")
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    return _int(x.xp.asarray(x.xp.count_nonzero(x._data, axis=axis)))


def nonzero(input, *, as_tuple=False):
    """The indices of the non-zero elements: an (N, ndim) int tensor, or with
    ``as_tuple=True`` one 1-D tensor per dimension (for indexing).

    >>> shendu.nonzero(shendu.tensor([0, 3, 0, 4]))
    tensor([[1],
            [3]])
    """
    x = _tensor(input, "nonzero")
    idx = x.xp.nonzero(x._data.reshape(1) if x.ndim == 0 else x._data)
    if as_tuple:
        return tuple(_int(i) for i in idx)
    if x.ndim == 0:  # one row with no coordinates if the scalar is non-zero, as PyTorch
        return _int(x.xp.zeros((int(idx[0].size), 0), np.int64))
    return _int(x.xp.stack(idx, axis=1))


def nonzero_static(input, *, size, fill_value=-1):
    """``nonzero(input)`` cut or padded (with rows of ``fill_value``) to exactly ``size``
    rows: an (size, ndim) int tensor.

    >>> shendu.nonzero_static(shendu.tensor([0, 3, 4]), size=3)
    tensor([[ 1],
            [ 2],
            [-1]])
    """
    idx = nonzero(input)
    x = _tensor(input, "nonzero_static")
    out = x.xp.full((int(size), max(x.ndim, 1) if x.ndim else 0), fill_value, dtype=np.int64)
    k = min(int(size), idx.shape[0])
    out[:k] = idx._data[:k]
    return _int(out)


def argwhere(input):
    """``nonzero(input)``: an (N, ndim) tensor of the positions of non-zero elements."""
    return nonzero(input)


def isin(elements, test_elements, *, assume_unique=False, invert=False):
    """True where an element of ``elements`` is in ``test_elements``."""
    e = _tensor(elements, "isin")
    t = test_elements._data if isinstance(test_elements, Tensor) else np.asarray(test_elements)
    return Tensor._make(e.xp.isin(e._data, t, invert=invert))

