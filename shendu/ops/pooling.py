"""Pooling: max, average, power-average and adaptive pooling over 1, 2 or 3 spatial axes.

Every pooling window of a ``(N, C, *spatial)`` input is reached through strided views,
never a Python loop over images, channels or pixels. With kernel offsets ``o`` (``kh * kw``
of them in 2-D), the view ``x_pad[..., o_h*d : : s, o_w*d : : s]`` holds the element at
offset ``o`` of *every* window at once, so::

    max pool:  y = max over o of view_o          (kh * kw vectorized np.maximum calls)
    avg pool:  y = (sum over o of view_o) / divisor

and the gradients run the same loop backwards, writing (or, when windows overlap,
adding) into the matching strided slice of the input's gradient:

    max pool:  dL/dx[view_o] += g * [o is the first maximum of its window]
    avg pool:  dL/dx[view_o] += g / divisor

Ties send the gradient to the first maximum in row-major window order, as PyTorch's
index does. Max pooling's second derivative (and ``adaptive_max_pool``, whose windows
vary in size, and ``max_unpool``) go through index Functions: a gather at the flat
indices PyTorch returns with ``return_indices=True`` and its adjoint, a scatter-add.
Average and power-average pooling live in ``avg_pooling.py``, adaptive pooling in
``adaptive_pooling.py``.
"""
from __future__ import annotations

import itertools
import numbers

import numpy as np

from .. import backend, kernels
from ..autograd import grad_mode
from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["max_pool1d", "max_pool2d", "max_pool3d", "max_unpool1d", "max_unpool2d"]

_LETTERS = {1: "L", 2: "H, W", 3: "D, H, W"}


# ----------------------------------------------------------------------- geometry
class _Dim:
    """The windows along one spatial axis: input size ``n``, kernel ``k``, stride ``s``,
    padding ``p`` (left), dilation ``d``, ``out`` windows, padded length ``length``
    (``p`` on the left, ``p`` plus what ceil_mode's last window needs on the right)."""

    __slots__ = ("n", "k", "s", "p", "d", "out", "length", "disjoint", "covers")

    def __init__(self, n, k, s, p, d, out):
        self.n, self.k, self.s, self.p, self.d, self.out = n, k, s, p, d, out
        reach = (out - 1) * s + d * (k - 1) + 1  # padded positions the windows touch
        self.length = max(n + 2 * p, reach)
        pos = (np.arange(k)[:, None] * d + np.arange(out)[None, :] * s).ravel()
        # every padded position is read by at most one window offset (kernel == stride)
        self.disjoint = len(np.unique(pos)) == pos.size
        self.covers = self.disjoint and pos.size == self.length

    def view(self, o):
        """The slice holding offset ``o`` of every window."""
        start = o * self.d
        return slice(start, start + (self.out - 1) * self.s + 1, self.s)

    @property
    def crop(self):
        return slice(self.p, self.p + self.n)

    @property
    def padded(self):
        return self.p > 0 or self.length != self.n


def _tuple(v, nd, name, what):
    if isinstance(v, numbers.Integral):
        return (int(v),) * nd
    v = tuple(v)
    if len(v) == 1:
        v = v * nd
    if len(v) != nd or not all(isinstance(i, numbers.Integral) for i in v):
        raise ValueError(f"{name}: {what} must be an int or a tuple of {nd} ints, got {v!r}")
    return tuple(int(i) for i in v)


def _check_input(name, x, nd):
    """(N, C, *spatial) or (C, *spatial) with non-empty spatial sizes."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(x).__name__}")
    if x.ndim not in (nd + 1, nd + 2) or 0 in x.shape[-nd:]:
        raise ValueError(f"{name}: expected an input of shape (N, C, {_LETTERS[nd]}) or "
                         f"(C, {_LETTERS[nd]}) with non-empty {_LETTERS[nd]}, got shape "
                         f"{x.shape}")
    if x.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating point input, got {x.dtype}; convert it "
                        "with x.float()")


def _geometry(name, x, nd, kernel_size, stride, padding, dilation, ceil_mode):
    """Per-axis ``_Dim`` objects, with PyTorch's checks and output-size rule."""
    k = _tuple(kernel_size, nd, name, "kernel_size")
    s = k if stride is None or (not isinstance(stride, numbers.Integral) and len(stride) == 0) \
        else _tuple(stride, nd, name, "stride")
    p = _tuple(padding, nd, name, "padding")
    d = _tuple(dilation, nd, name, "dilation")
    for what, v in (("kernel_size", k), ("stride", s), ("dilation", d)):
        if any(i <= 0 for i in v):
            raise ValueError(f"{name}: {what} must be positive, got {v}")
    if any(i < 0 for i in p):
        raise ValueError(f"{name}: padding must be non-negative, got {p}")
    if any(pi > ki // 2 for pi, ki in zip(p, k)):
        raise ValueError(f"{name}: padding should be at most half of kernel_size (pad <= "
                         f"kernel_size // 2, as PyTorch requires), got padding={p} and "
                         f"kernel_size={k}")
    sizes = x.shape[-nd:]
    dims = []
    for n, ki, si, pi, di in zip(sizes, k, s, p, d):
        span = n + 2 * pi - di * (ki - 1) - 1
        out = (-(-span // si) if ceil_mode else span // si) + 1
        if ceil_mode and (out - 1) * si >= n + pi:
            out -= 1  # the last window must start inside the input or the left padding
        dims.append(_Dim(n, ki, si, pi, di, out))
    if any(dm.out < 1 for dm in dims):
        eff = tuple(di * (ki - 1) + 1 for ki, di in zip(k, d))
        padded = tuple(n + 2 * pi for n, pi in zip(sizes, p))
        raise ValueError(f"{name}: the input of shape {x.shape} is too small for kernel_size="
                         f"{k} (dilation={d}, padding={p}): the (dilated) kernel {eff} is "
                         f"larger than the padded input {padded}, which gives an output size "
                         f"of {tuple(dm.out for dm in dims)}")
    return tuple(dims)


def _offsets(dims):
    return itertools.product(*(range(dm.k) for dm in dims))


def _view(dims, off):
    return (Ellipsis,) + tuple(dm.view(o) for dm, o in zip(dims, off))


def _padded(xp, x, dims, fill):
    """``x`` inside a new array of the padded shape filled with ``fill`` (``x`` itself if
    no padding is needed)."""
    if not any(dm.padded for dm in dims):
        return x
    nd = len(dims)
    out = xp.full(x.shape[:-nd] + tuple(dm.length for dm in dims), fill, dtype=x.dtype)
    out[(Ellipsis,) + tuple(dm.crop for dm in dims)] = x
    return out


def _cropped(xp, gpad, dims):
    if not any(dm.padded for dm in dims):
        return gpad
    return xp.ascontiguousarray(gpad[(Ellipsis,) + tuple(dm.crop for dm in dims)])


def _spread(xp, g, dims, lead, masks=None):
    """The adjoint of reading windows: a padded-shape array where each window offset's
    view receives ``g`` (times its mask, if given), added up where windows overlap;
    then the padding cropped off. ``lead``: the leading (N, C) shape."""
    shape = tuple(lead) + tuple(dm.length for dm in dims)
    disjoint = all(dm.disjoint for dm in dims)
    gpad = xp.empty(shape, g.dtype) if all(dm.covers for dm in dims) else xp.zeros(shape, g.dtype)
    pairs = masks if masks is not None else ((off, None) for off in _offsets(dims))
    tmp = None
    for off, mask in pairs:
        view = gpad[_view(dims, off)]
        if disjoint:  # each position is written once: no accumulation, no temporary
            if mask is None:
                view[...] = g
            else:
                xp.multiply(g, mask, out=view)
        elif mask is None:
            view += g
        else:
            tmp = xp.multiply(g, mask, out=tmp)  # one buffer for every offset
            view += tmp
    return _cropped(xp, gpad, dims)


# ----------------------------------------------------------------------- max pooling
def _window_max(xp, xpad, dims):
    views = (xpad[_view(dims, off)] for off in _offsets(dims))
    y = next(views)
    second = next(views, None)
    if second is None:
        return y.copy()
    y = xp.maximum(y, second)
    for v in views:
        xp.maximum(y, v, out=y)
    return y


def _first_max_masks(xp, xpad, y, dims):
    """For each window offset, a boolean array: "this offset holds the first maximum of
    its window" (ties go to the first, a NaN is the maximum of its window)."""
    has_nan = bool(xp.isnan(y).any())
    offsets = list(_offsets(dims))
    remaining = None
    for i, off in enumerate(offsets):
        v = xpad[_view(dims, off)]
        eq = v == y
        if has_nan:
            eq |= v != v
        if remaining is not None:
            eq &= remaining
        yield off, eq
        if i + 1 < len(offsets):
            remaining = ~eq if remaining is None else remaining ^ eq  # eq is inside remaining


def _flat_positions(dims):
    """For each window offset, the flat index (into the unpadded input plane) of the
    element it reads in every window, shaped like the output's spatial axes."""
    nd = len(dims)
    plane = [1] * nd
    for i in range(nd - 2, -1, -1):
        plane[i] = plane[i + 1] * dims[i + 1].n
    for off in _offsets(dims):
        pos = 0
        for i, (dm, o) in enumerate(zip(dims, off)):
            coord = np.arange(dm.out) * dm.s + o * dm.d - dm.p
            pos = np.add.outer(pos, coord * plane[i]) if i else coord * plane[i]
        yield off, pos


def _max_indices(xp, xpad, y, dims):
    """PyTorch's ``return_indices``: the flat index of each window's first maximum in its
    (unpadded) input plane, int64, shaped like ``y``."""
    idx = xp.zeros(y.shape, dtype=np.int64)
    positions = dict(_flat_positions(dims))
    for off, eq in _first_max_masks(xp, xpad, y, dims):
        idx += eq * xp.asarray(positions[off])
    n_plane = 1
    for dm in dims:
        n_plane *= dm.n
    # windows made only of padding and -inf can point into the padding: clip like a max
    # over the in-bounds part would
    return xp.clip(idx, 0, n_plane - 1) if any(dm.p for dm in dims) else idx


class MaxPool(Function):
    """y = max of each window of x (computed by ``_max_pool``, passed in as ``y``).

    dL/dx = g sent to the first maximum of each window (added up where windows overlap).
    Second derivative: the same scatter at fixed indices, a linear map of g.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, y, xpad, dims):
        ctx.save_for_backward(x, y)
        ctx.xpad = None if xpad is x else xpad
        ctx.dims = dims
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        dims = ctx.dims
        nd = len(dims)
        if ctx.tensor_mode:
            xa = x._data
            xp = backend.get_array_module(xa)
            xpad = ctx.xpad if ctx.xpad is not None else xa
            idx = _max_indices(xp, xpad, y._data, dims)
            return IndexScatter.apply(g, idx, x.shape, nd), None, None, None
        xp = ctx.xp
        xpad = ctx.xpad if ctx.xpad is not None else x
        gx = _spread(xp, g, dims, x.shape[:-nd], _first_max_masks(xp, xpad, y, dims))
        return gx, None, None, None


# ------------------------------------------------------- gather / scatter at indices
def _plane_split(shape, nd):
    m = 1
    for s in shape[:-nd]:
        m *= s
    p = 1
    for s in shape[-nd:]:
        p *= s
    return m, p


def _gather(xp, x, idx, nd):
    m, p = _plane_split(x.shape, nd)
    flat = xp.take_along_axis(x.reshape(m, p), idx.reshape(m, -1), axis=1)
    return flat.reshape(idx.shape)


def _scatter_add(xp, g, idx, shape, nd):
    m, p = _plane_split(shape, nd)
    rows = idx.reshape(m, -1) + (xp.arange(m) * p)[:, None]
    out = xp.bincount(rows.ravel(), weights=g.reshape(-1), minlength=m * p)
    return out.astype(g.dtype, copy=False).reshape(shape)


class IndexGather(Function):
    """y[..., j] = x[..., idx[..., j]] over each flattened (N, C) plane of x, where
    ``idx`` holds flat indices into the last ``nd`` axes.
    dL/dx = scatter-add of g at idx (``IndexScatter``), a linear map of g."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, idx, nd):
        ctx.idx, ctx.nd, ctx.in_shape = idx, nd, x.shape
        return _gather(ctx.xp, x, idx, nd)

    @staticmethod
    def backward(ctx, g):
        if ctx.tensor_mode:
            return IndexScatter.apply(g, ctx.idx, ctx.in_shape, ctx.nd), None, None
        return _scatter_add(ctx.xp, g, ctx.idx, ctx.in_shape, ctx.nd), None, None


class IndexScatter(Function):
    """y = zeros(shape) with g added at the flat indices idx (per (N, C) plane); the
    adjoint of ``IndexGather``:  dL/dg = gather of the upstream gradient at idx."""
    double_backward = True

    @staticmethod
    def forward(ctx, g, idx, shape, nd):
        ctx.idx, ctx.nd = idx, nd
        return _scatter_add(ctx.xp, g, idx, shape, nd)

    @staticmethod
    def backward(ctx, gg):
        if ctx.tensor_mode:
            return IndexGather.apply(gg, ctx.idx, ctx.nd), None, None, None
        return _gather(ctx.xp, gg, ctx.idx, ctx.nd), None, None, None


class IndexPut(Function):
    """y = zeros(shape) with y[..., idx[..., j]] = x[..., j] per (N, C) plane (where two
    indices coincide one value is kept, as in PyTorch's ``max_unpool``).
    dL/dx = g gathered at idx (``IndexGather``), as PyTorch's gradient."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, idx, shape, nd):
        xp = ctx.xp
        ctx.idx, ctx.nd = idx, nd
        m, p = _plane_split(shape, nd)
        out = xp.zeros((m, p), dtype=x.dtype)
        out[xp.arange(m)[:, None], idx.reshape(m, -1)] = x.reshape(m, -1)
        return out.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        if ctx.tensor_mode:
            return IndexGather.apply(g, ctx.idx, ctx.nd), None, None, None
        return _gather(ctx.xp, g, ctx.idx, ctx.nd), None, None, None


class MaxPoolAt(Function):
    """y = max of each 2-D window of x, found with its flat index ``idx`` in one pass by
    ``kernels.max_pool2d`` (numba) and passed in.

    dL/dx = g added at idx in each (H, W) plane (the first maximum of each window).
    Second derivative: the same scatter (``IndexScatter``), a linear map of g.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, y, idx):
        ctx.idx, ctx.shape = idx, x.shape
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.tensor_mode:
            return IndexScatter.apply(g, ctx.idx, ctx.shape, 2), None, None
        gx = kernels.max_pool2d_grad(g, ctx.idx, ctx.shape)
        if gx is None:
            gx = _scatter_add(ctx.xp, g, ctx.idx, ctx.shape, 2)
        return gx, None, None


def _wants_grad(x):
    return grad_mode.is_grad_enabled() and x.requires_grad


def _max_pool(name, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
              return_indices):
    _check_input(name, input, nd)
    dims = _geometry(name, input, nd, kernel_size, stride, padding, dilation, ceil_mode)
    xp = input.xp
    x = input._data
    if nd == 2 and kernels.accepts(x):  # numba installed: one pass (shendu.kernels)
        h, w = dims
        y, idx = kernels.max_pool2d(x, (h.k, w.k, h.s, w.s, h.p, w.p, h.d, w.d),
                                    (h.out, w.out))
        out = MaxPoolAt.apply(input, y, idx) if _wants_grad(input) else Tensor._make(y)
        return (out, Tensor._make(idx)) if return_indices else out
    xpad = _padded(xp, x, dims, -xp.inf)
    y = _window_max(xp, xpad, dims)
    out = MaxPool.apply(input, y, xpad, dims) if _wants_grad(input) else Tensor._make(y)
    if return_indices:
        return out, Tensor._make(_max_indices(xp, xpad, y, dims))
    return out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """1-D max pooling of ``(N, C, L)`` (or ``(C, L)``) inputs; see ``max_pool2d``.

    >>> F.max_pool1d(shendu.tensor([[[1.0, 3.0, 2.0, 5.0, 4.0]]]), 2)
    tensor([[[3., 5.]]])
    """
    return _max_pool("max_pool1d", 1, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """2-D max pooling: the maximum of each ``kernel_size`` window (PyTorch's ``F.max_pool2d``).

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W)
    kernel_size : int or (kh, kw)
    stride : int or (sh, sw), default ``kernel_size`` (windows side by side)
    padding : int or (ph, pw), default 0
        Implicit ``-inf`` on both sides; at most ``kernel_size // 2``.
    dilation : int or (dh, dw), default 1, the spacing between a window's elements
    ceil_mode : bool, default False
        Round the output size up: a last, partial window is kept if it starts inside
        the input (or the left padding).
    return_indices : bool, default False
        Also return, for each output, the flat index ``h * W + w`` of its maximum in the
        input plane (int64), as ``max_unpool2d`` wants.

    Returns
    -------
    Tensor (N, C, H_out, W_out) with
    ``H_out = floor((H + 2 ph - dh (kh - 1) - 1) / sh) + 1`` (ceil with ``ceil_mode``);
    and the indices if asked for. The gradient goes to the first maximum of each window.

    >>> x = shendu.tensor([[[[1.0, 2.0, 5.0, 0.0],
    ...                      [3.0, 4.0, 1.0, 1.0]]]])
    >>> F.max_pool2d(x, 2)
    tensor([[[[4., 5.]]]])
    >>> F.max_pool2d(x, 2, return_indices=True)[1]
    tensor([[[[5, 2]]]])
    """
    return _max_pool("max_pool2d", 2, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """3-D max pooling of ``(N, C, D, H, W)`` inputs; see ``max_pool2d``.

    >>> F.max_pool3d(shendu.arange(8.0).reshape(1, 1, 2, 2, 2), 2)
    tensor([[[[[7.]]]]])
    """
    return _max_pool("max_pool3d", 3, input, kernel_size, stride, padding, dilation,
                     ceil_mode, return_indices)


# ----------------------------------------------------------------------- unpooling
def _max_unpool(name, nd, input, indices, kernel_size, stride, padding, output_size):
    _check_input(name, input, nd)
    k = _tuple(kernel_size, nd, name, "kernel_size")
    s = k if stride is None else _tuple(stride, nd, name, "stride")
    p = _tuple(padding, nd, name, "padding")
    default = tuple((i - 1) * si - 2 * pi + ki
                    for i, ki, si, pi in zip(input.shape[-nd:], k, s, p))
    if output_size is None:
        size = default
    else:
        size = tuple(output_size)[-nd:]
        if len(size) != nd or any(not (d - si < o < d + si)
                                  for o, d, si in zip(size, default, s)):
            raise ValueError(f"{name}: output_size {tuple(output_size)} must be within one "
                             f"stride {s} of the default size {default}")
    idx = indices._data if isinstance(indices, Tensor) else input.xp.asarray(indices)
    if tuple(idx.shape) != input.shape:
        raise ValueError(f"{name}: indices must have the input's shape {input.shape}, got "
                         f"{tuple(idx.shape)}")
    plane = 1
    for o in size:
        plane *= o
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= plane):
        raise ValueError(f"{name}: indices must lie in [0, {plane}) for an output of spatial "
                         f"size {size}, got values in [{int(idx.min())}, {int(idx.max())}]")
    return IndexPut.apply(input, idx.astype(np.int64, copy=False), input.shape[:-nd] + size, nd)


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool1d``: each value goes back to the position its
    index names, zeros elsewhere; see ``max_unpool2d``.

    >>> y, i = F.max_pool1d(shendu.tensor([[[1.0, 3.0, 2.0, 0.0]]]), 2, return_indices=True)
    >>> F.max_unpool1d(y, i, 2)
    tensor([[[0., 3., 2., 0.]]])
    """
    return _max_unpool("max_unpool1d", 1, input, indices, kernel_size, stride, padding,
                       output_size)


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """The partial inverse of ``max_pool2d``: put each value back at the flat index
    ``max_pool2d(..., return_indices=True)`` gave, zeros elsewhere.

    Parameters
    ----------
    input : Tensor (N, C, H, W), the pooled values
    indices : Tensor of the same shape (int64)
    kernel_size, stride, padding : those of the pooling
    output_size : optional, the exact (H, W) (or (N, C, H, W)) when the default
        ``(H - 1) * stride - 2 * padding + kernel_size`` is ambiguous

    >>> x = shendu.tensor([[[[1.0, 2.0], [4.0, 3.0]]]])
    >>> y, i = F.max_pool2d(x, 2, return_indices=True)
    >>> F.max_unpool2d(y, i, 2)
    tensor([[[[0., 0.],
              [4., 0.]]]])
    """
    return _max_unpool("max_unpool2d", 2, input, indices, kernel_size, stride, padding,
                       output_size)
