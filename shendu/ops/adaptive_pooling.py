"""Adaptive pooling: average or max pooling to a fixed output size, whatever the input size.

Output cell ``i`` along an axis of length ``n`` pools input positions
``floor(i n / out) <= h < ceil((i + 1) n / out)`` (PyTorch's windows): equal windows side
by side when ``out`` divides ``n`` (then this is ``avg_pool`` / ``max_pool`` with
``kernel_size = stride = n / out``), else windows of two sizes that may overlap by one.

* average: a separable linear map, one small ``(out, n)`` matrix per axis
  (``resample.Resample``, the same engine as ``interpolate(mode="area")``);
* max: every window gathered at once (padded to the longest by repeating its last
  element), the first maximum's flat index taken, then ``IndexGather`` at those indices;
  its gradient is the scatter-add ``IndexScatter``.
"""
from __future__ import annotations

import numbers

import numpy as np

from ..autograd.tensor import Tensor
from .avg_pooling import AvgPool, _avg_divisor
from .pooling import IndexGather, _check_input, _geometry, _max_pool

__all__ = ["adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool3d",
           "adaptive_max_pool1d", "adaptive_max_pool2d", "adaptive_max_pool3d"]


def _adaptive_sizes(name, input, nd, output_size):
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) == 1 and nd > 1:
        output_size = output_size * nd
    if len(output_size) != nd:
        raise ValueError(f"{name}: output_size must be an int or a tuple of {nd} ints (None "
                         f"keeps that input size), got {output_size!r}")
    sizes = input.shape[-nd:]
    out = tuple(int(n) if o is None else o for o, n in zip(output_size, sizes))
    if any(not isinstance(o, numbers.Integral) or o < 0 for o in out):
        raise ValueError(f"{name}: output_size must hold non-negative ints, got {output_size!r}")
    return out


def _adaptive_bounds(n, out):
    """PyTorch's adaptive windows along one axis: [floor(i n / out), ceil((i+1) n / out))."""
    i = np.arange(out)
    return (i * n) // out, -((-(i + 1) * n) // out)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed length ``L_out`` whatever the input length (``(N, C, L)``).

    >>> F.adaptive_avg_pool1d(shendu.tensor([[[1.0, 2.0, 3.0]]]), 2)
    tensor([[[1.5000, 2.5000]]])
    """
    return _adaptive_avg("adaptive_avg_pool1d", 1, input, output_size)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed output size whatever the input size (PyTorch's
    ``F.adaptive_avg_pool2d``).

    Output cell ``i`` along an axis of length ``n`` averages input positions
    ``floor(i n / out) <= h < ceil((i + 1) n / out)``: equal windows when ``out``
    divides ``n``, else windows of two sizes that may overlap by one. The map is
    separable and linear, so it runs as one small matrix product per axis.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W)
    output_size : int or (H_out, W_out); None in the tuple keeps that input size

    >>> x = shendu.arange(16.0).reshape(1, 1, 4, 4)
    >>> F.adaptive_avg_pool2d(x, 1)
    tensor([[[[7.5000]]]])
    >>> F.adaptive_avg_pool2d(x, (2, None)).shape
    (1, 1, 2, 4)
    """
    return _adaptive_avg("adaptive_avg_pool2d", 2, input, output_size)


def adaptive_avg_pool3d(input, output_size):
    """Adaptive average pooling of ``(N, C, D, H, W)`` inputs; see ``adaptive_avg_pool2d``.

    >>> F.adaptive_avg_pool3d(shendu.ones(1, 2, 3, 4, 5), 1).shape
    (1, 2, 1, 1, 1)
    """
    return _adaptive_avg("adaptive_avg_pool3d", 3, input, output_size)


def _adaptive_avg(name, nd, input, output_size):
    from .resample import resample_axes
    _check_input(name, input, nd)
    out = _adaptive_sizes(name, input, nd, output_size)
    sizes = input.shape[-nd:]
    if all(o == 1 for o in out):  # global average pooling
        return input.mean(dim=tuple(range(-nd, 0)), keepdim=True)
    if all(o and n % o == 0 for n, o in zip(sizes, out)):  # equal windows side by side
        k = tuple(n // o for n, o in zip(sizes, out))
        dims = _geometry(name, input, nd, k, k, 0, 1, False)
        return AvgPool.apply(input, dims, _avg_divisor(dims, True, None))
    return resample_axes(input, [("area", n, o, None, None) for n, o in zip(sizes, out)])


def _adaptive_max_indices(xp, x, out_sizes):
    """Flat indices (into each input plane) of the first maximum of each adaptive
    window. Each axis's windows are gathered padded to the longest one by repeating
    their last element, which changes neither the maximum nor which element is first."""
    nd = len(out_sizes)
    lead = x.ndim - nd
    win, positions = x, []
    for i, (n, o) in enumerate(zip(x.shape[lead:], out_sizes)):
        start, end = _adaptive_bounds(n, o)
        k = int((end - start).max())
        p = np.minimum(start[:, None] + np.arange(k)[None, :], end[:, None] - 1)  # (o, k)
        positions.append(p)
        axis = lead + 2 * i  # earlier axes were split into (o, k) pairs
        win = xp.take(win, xp.asarray(p.ravel()), axis=axis)
        win = win.reshape(win.shape[:axis] + (o, k) + win.shape[axis + 1:])
    # (..., o1, k1, o2, k2, ...) -> (..., o1, o2, ..., k1 k2 ...): one row per window
    perm = tuple(range(lead)) + tuple(lead + 2 * i for i in range(nd)) + \
        tuple(lead + 2 * i + 1 for i in range(nd))
    win = win.transpose(perm)
    which = win.reshape(win.shape[:lead + nd] + (-1,)).argmax(axis=-1)  # the first maximum
    ks = xp.unravel_index(which, tuple(p.shape[1] for p in positions))
    flat, plane = 0, 1
    for i in range(nd - 1, -1, -1):
        rows = xp.arange(out_sizes[i]).reshape((-1,) + (1,) * (nd - 1 - i))
        flat = flat + xp.asarray(positions[i])[rows, ks[i]] * plane
        plane *= x.shape[lead + i]
    return flat


def _adaptive_max(name, nd, input, output_size, return_indices):
    _check_input(name, input, nd)
    out = _adaptive_sizes(name, input, nd, output_size)
    sizes = input.shape[-nd:]
    xp = input.xp
    if all(o == 1 for o in out):  # global max pooling: one argmax per plane
        x = input._data
        idx = x.reshape(x.shape[:-nd] + (-1,)).argmax(axis=-1).reshape(x.shape[:-nd] + out)
    elif all(o and n % o == 0 for n, o in zip(sizes, out)):  # equal windows: plain max pool
        k = tuple(n // o for n, o in zip(sizes, out))
        return _max_pool(name, nd, input, k, k, 0, 1, False, return_indices)
    elif 0 in out:
        idx = xp.zeros(input.shape[:-nd] + out, dtype=np.int64)
    else:
        idx = _adaptive_max_indices(xp, input._data, out)
    y = IndexGather.apply(input, idx, nd)
    return (y, Tensor._make(idx)) if return_indices else y


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Adaptive max pooling of ``(N, C, L)`` inputs; see ``adaptive_max_pool2d``.

    >>> F.adaptive_max_pool1d(shendu.tensor([[[1.0, 5.0, 2.0]]]), 2)
    tensor([[[5., 5.]]])
    """
    return _adaptive_max("adaptive_max_pool1d", 1, input, output_size, return_indices)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed output size whatever the input size (PyTorch's
    ``F.adaptive_max_pool2d``); windows as in ``adaptive_avg_pool2d``.

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W)
    output_size : int or (H_out, W_out); None keeps that input size
    return_indices : bool, also return the flat index ``h * W + w`` of each maximum

    >>> x = shendu.tensor([[[[1.0, 2.0, 3.0], [4.0, 9.0, 6.0], [7.0, 8.0, 0.0]]]])
    >>> F.adaptive_max_pool2d(x, 2)
    tensor([[[[9., 9.],
              [9., 9.]]]])
    """
    return _adaptive_max("adaptive_max_pool2d", 2, input, output_size, return_indices)


def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Adaptive max pooling of ``(N, C, D, H, W)`` inputs; see ``adaptive_max_pool2d``.

    >>> F.adaptive_max_pool3d(shendu.arange(8.0).reshape(1, 1, 2, 2, 2), 1)
    tensor([[[[[7.]]]]])
    """
    return _adaptive_max("adaptive_max_pool3d", 3, input, output_size, return_indices)
