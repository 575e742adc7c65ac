"""Indexing: ``x[index]``, gather/scatter_add, index_select, masked_fill, one_hot.

Every op here picks elements out of its input (or adds them into a copy), so each
backward sends the gradient back to the positions the elements came from: into a
zeros array, *adding* where an index repeats (``x[[0, 0]]`` uses ``x[0]`` twice,
so ``x[0]`` gets both gradients). Selecting and scattering are each other's
gradient, which makes every op here differentiable twice.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .. import backend

__all__ = ["getitem", "gather", "scatter_add", "index_select", "masked_fill",
           "take_along_dim", "one_hot"]


# ----------------------------------------------------------------------- getitem
def _scatter_into_zeros(xp, g, index, shape, advanced):
    """An array of ``shape``: zeros, plus ``g`` at ``[index]`` (accumulating repeats)."""
    out = xp.zeros(shape, dtype=g.dtype)
    if not advanced:
        out[index] = g  # basic indexing never selects an element twice
        return out
    if any(getattr(i, "dtype", None) is not None and i.dtype.kind in "iu" for i in index):
        # integer arrays may repeat an element: add, don't assign. Boolean masks
        # become their integer positions (np.add.at's own rule would differ).
        parts = []
        for i in index:
            if getattr(i, "dtype", None) is not None and i.dtype.kind == "b":
                parts.extend(xp.nonzero(i))
            else:
                parts.append(i)
        xp.add.at(out, tuple(parts), g)
    else:
        out[index] = g  # boolean masks select each element at most once
    return out


class GetItem(Function):
    """y = x[index];  dL/dx = zeros shaped like x with g added at [index]
    (repeated integer indices accumulate)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, index, advanced):
        ctx.index, ctx.advanced, ctx.in_shape = index, advanced, x.shape
        return x[index]

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            return ScatterIntoZeros.apply(g, ctx.index, ctx.in_shape, ctx.advanced), None, None
        return _scatter_into_zeros(ctx.xp, g, ctx.index, ctx.in_shape, ctx.advanced), None, None


class ScatterIntoZeros(Function):
    """y = zeros(shape) with g added at [index] (the gradient of ``x[index]``);
    dL/dg = gg[index]. Used for the double backward of getitem."""
    double_backward = True

    @staticmethod
    def forward(ctx, g, index, shape, advanced):
        ctx.index, ctx.advanced = index, advanced
        return _scatter_into_zeros(ctx.xp, g, index, shape, advanced)

    @staticmethod
    def backward(ctx, gg):
        if isinstance(gg, Tensor):
            return GetItem.apply(gg, ctx.index, ctx.advanced), None, None, None
        return gg[ctx.index], None, None, None


def _index_item(i, xp, name):
    """One entry of an index: Tensors and lists become arrays on ``xp``; says whether it is
    an array (advanced indexing)."""
    if isinstance(i, Tensor):
        i = i._data
    elif isinstance(i, list):
        i = np.asarray([v.item() if isinstance(v, Tensor) else v for v in i]) \
            if all(not isinstance(v, list) for v in i) else np.asarray(i)
        if i.size == 0:
            i = i.astype(np.intp)
    elif isinstance(i, (float, np.floating)):
        raise IndexError(f"{name}: indices must be integers, slices, None, Ellipsis or "
                         f"integer/boolean tensors, got the float {i!r}")
    if hasattr(i, "dtype") and hasattr(i, "shape"):
        kind = i.dtype.kind
        if kind in "iu" and i.ndim == 0:
            return int(i), False
        if kind not in "iub":
            raise IndexError(f"{name}: tensors used as indices must be integer or boolean, got "
                             f"{i.dtype}")
        if backend.get_array_module(i) is not xp:
            i = xp.asarray(i)
        return i, True
    return i, False


def _normalize_index(index, xp, name="getitem"):
    items = index if isinstance(index, tuple) else (index,)
    out, advanced = [], False
    for it in items:
        it, adv = _index_item(it, xp, name)
        out.append(it)
        advanced = advanced or adv
    return tuple(out), advanced


def getitem(x, index):
    """``x[index]`` with NumPy's (and PyTorch's) rules.

    ``index`` may mix ints, slices (negative steps too), ``None`` (new axis), ``...``,
    boolean masks and integer arrays / tensors / lists (advanced indexing). The gradient
    adds ``g`` back at the selected positions, accumulating where an index repeats.

    >>> x = shendu.arange(6.0).reshape(2, 3)
    >>> x[1, ::-1], x[:, [0, 0]].shape, x[x > 3]
    (tensor([5., 4., 3.]), (2, 2), tensor([4., 5.]))
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    index, advanced = _normalize_index(index, x.xp)
    try:
        return GetItem.apply(x, index, advanced)
    except IndexError as e:
        raise IndexError(f"getitem: {e} (indexing a tensor of shape {x.shape})") from None


# ----------------------------------------------------------------------- helpers
def _int_index(index, name, what="index"):
    """The array behind an integer index tensor; a clear TypeError for other dtypes."""
    arr = index._data if isinstance(index, Tensor) else np.asarray(index)
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: {what} must be an integer tensor, got {arr.dtype}")
    return arr


def _dim(d, ndim, name):
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{name}: dimension {d} is out of range for a tensor with {ndim} "
                         f"dimensions (expected {-n}..{n - 1})")
    return int(d) % n


def _check_range(idx, n, name, dim):
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= n):
        bad = int(idx.min()) if int(idx.min()) < 0 else int(idx.max())
        raise IndexError(f"{name}: index {bad} is out of bounds for dimension {dim} with size {n}")


def _along(index, dim):
    """The full index tuple that picks ``[..., index[i, j, k], ...]`` at each position of
    ``index``: broadcast aranges everywhere except ``dim``."""
    nd = index.ndim
    xp = backend.get_array_module(index)
    return tuple(index if d == dim else
                 xp.arange(index.shape[d]).reshape((-1,) + (1,) * (nd - d - 1))
                 for d in range(nd))


def _scatter_add_into(xp, out, dim, index, src):
    """out[..., index[i,j,k], ...] += src[i,j,k] (in place; repeats accumulate)."""
    src = src[tuple(slice(0, s) for s in index.shape)]
    xp.add.at(out, _along(index, dim), src)
    return out


# ----------------------------------------------------------------------- gather / scatter_add
class Gather(Function):
    """y[i][j][k] = x[i][index[i][j][k]][k]  (dim=1);
    dL/dx = scatter_add(zeros like x, dim, index, g)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.in_shape, ctx.index, ctx.dim = x.shape, index, dim
        return x[_along(index, dim)]

    @staticmethod
    def backward(ctx, g):
        if isinstance(g, Tensor):
            zeros = Tensor._make(backend.get_array_module(g._data).zeros(ctx.in_shape, g.dtype))
            return ScatterAdd.apply(zeros, ctx.index, g, ctx.dim), None, None
        out = ctx.xp.zeros(ctx.in_shape, dtype=g.dtype)
        return _scatter_add_into(ctx.xp, out, ctx.dim, ctx.index, g), None, None


class ScatterAdd(Function):
    """y = x, then y[i][index[i][j][k]][k] += src[i][j][k]  (dim=1);
    dL/dx = g,  dL/dsrc = gather(g, dim, index) (zeros where src was not used)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, index, src, dim):
        ctx.index, ctx.dim, ctx.src_shape = index, dim, src.shape
        return _scatter_add_into(ctx.xp, x.copy(), dim, index, src)

    @staticmethod
    def backward(ctx, g):
        gsrc = None
        if ctx.needs_input_grad[2]:
            index, shape = ctx.index, ctx.src_shape
            if isinstance(g, Tensor):
                gsrc = Gather.apply(g, index, ctx.dim)
                if tuple(index.shape) != tuple(shape):
                    gsrc = ctx.xp.pad(gsrc, [(0, s - i) for s, i in zip(shape, index.shape)])
            else:
                part = g[_along(index, ctx.dim)]
                if tuple(index.shape) == tuple(shape):
                    gsrc = part
                else:
                    gsrc = ctx.xp.zeros(shape, dtype=g.dtype)
                    gsrc[tuple(slice(0, s) for s in index.shape)] = part
        return g, None, gsrc, None


def _check_gather_shapes(name, x_shape, idx_shape, dim, other="input"):
    if len(idx_shape) != len(x_shape):
        raise ValueError(f"{name}: index must have as many dimensions as the {other} "
                         f"({len(x_shape)}, shape {x_shape}), got index of shape {idx_shape}")
    for d, (i, s) in enumerate(zip(idx_shape, x_shape)):
        if d != dim and i > s:
            raise ValueError(f"{name}: index of shape {idx_shape} is larger than the {other} "
                             f"of shape {x_shape} at dimension {d} (only dimension {dim} may be "
                             "larger)")


def gather(x, dim, index):
    """Pick values along ``dim`` at the positions ``index`` gives (same number of dims as x):
    ``out[i][j] = x[index[i][j]][j]`` for dim 0, ``x[i][index[i][j]]`` for dim 1.

    >>> x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.gather(1, shendu.tensor([[0, 0], [1, 0]]))
    tensor([[1., 1.],
            [4., 3.]])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    idx = _int_index(index, "gather")
    xp = x.xp
    idx = xp.asarray(idx)
    if x.ndim == 0:
        x = x.reshape(1)
        out = gather(x, dim, idx.reshape(-1) if idx.ndim == 0 else idx)
        return out.reshape(()) if idx.ndim == 0 else out
    d = _dim(dim, x.ndim, "gather")
    _check_gather_shapes("gather", x.shape, tuple(idx.shape), d)
    _check_range(idx, x.shape[d], "gather", d)
    return Gather.apply(x, idx, d)


def scatter_add(x, dim, index, src):
    """A copy of ``x`` with ``src`` added at the positions ``index`` gives along ``dim``
    (repeated positions accumulate): ``out[index[i][j]][j] += src[i][j]`` for dim 0.
    Out of place; differentiable in ``x`` and ``src``.

    >>> shendu.zeros(3).scatter_add(0, shendu.tensor([0, 2, 0]), shendu.tensor([1.0, 2.0, 3.0]))
    tensor([4., 0., 2.])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    if not isinstance(src, Tensor):
        src = Tensor(src, dtype=x.dtype)
    idx = x.xp.asarray(_int_index(index, "scatter_add"))
    if src.dtype != x.dtype:
        raise TypeError(f"scatter_add: src must have the dtype of the tensor ({x.dtype}), got "
                        f"{src.dtype}; convert it with .to({x.dtype})")
    if x.ndim == 0:
        return scatter_add(x.reshape(1), dim, idx.reshape(-1), src.reshape(-1)).reshape(())
    d = _dim(dim, x.ndim, "scatter_add")
    _check_gather_shapes("scatter_add", x.shape, tuple(idx.shape), d)
    if src.ndim != idx.ndim or any(i > s for i, s in zip(idx.shape, src.shape)):
        raise ValueError(f"scatter_add: index of shape {tuple(idx.shape)} must not be larger "
                         f"than src of shape {src.shape} in any dimension")
    _check_range(idx, x.shape[d], "scatter_add", d)
    return ScatterAdd.apply(x, idx, src, d)


def index_select(x, dim, index):
    """The slices of ``x`` along ``dim`` at the positions in the 1-D integer ``index``
    (repeats allowed; their gradients add up).

    >>> shendu.tensor([[1.0, 2.0], [3.0, 4.0]]).index_select(0, shendu.tensor([1, 1, 0]))
    tensor([[3., 4.],
            [3., 4.],
            [1., 2.]])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    idx = _int_index(index, "index_select")
    if idx.ndim > 1:
        raise ValueError(f"index_select: index must be 0-d or 1-D, got shape {tuple(idx.shape)}")
    if x.ndim == 0:
        raise ValueError("index_select: expected a tensor with at least 1 dimension, got a 0-d "
                         "tensor")
    d = _dim(dim, x.ndim, "index_select")
    idx = x.xp.asarray(idx).reshape(-1)
    _check_range(idx, x.shape[d], "index_select", d)
    return GetItem.apply(x, (slice(None),) * d + (idx,), True)


def take_along_dim(x, indices, dim=None):
    """Values of ``x`` at ``indices`` along ``dim`` (``np.take_along_axis``); ``x`` and
    ``indices`` broadcast in the other dims. With ``dim=None`` both are flattened.

    >>> x = shendu.tensor([[10.0, 30.0, 20.0]])
    >>> shendu.take_along_dim(x, x.argmax(dim=1, keepdim=True), dim=1)
    tensor([[30.]])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    idx = x.xp.asarray(_int_index(indices, "take_along_dim", "indices"))
    if dim is None:
        return gather(x.reshape(-1), 0, idx.reshape(-1))
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_dim: indices must have as many dimensions as the input "
                         f"({x.ndim}, shape {x.shape}), got shape {tuple(idx.shape)}")
    d = _dim(dim, x.ndim, "take_along_dim")
    xs, ixs = list(x.shape), list(idx.shape)
    xs[d] = ixs[d] = 1
    try:
        common = list(np.broadcast_shapes(tuple(xs), tuple(ixs)))
    except ValueError:
        raise ValueError(f"take_along_dim: input of shape {x.shape} and indices of shape "
                         f"{tuple(idx.shape)} do not broadcast outside dimension {d}") from None
    xb, ib = list(common), list(common)
    xb[d], ib[d] = x.shape[d], idx.shape[d]
    if tuple(xb) != x.shape:
        x = x.broadcast_to(tuple(xb))
    idx = x.xp.broadcast_to(idx, tuple(ib))
    return gather(x, d, idx)


# ----------------------------------------------------------------------- masked_fill
class MaskedFill(Function):
    """y = value where mask else x  (mask broadcast to x's shape);
    dL/dx = g where not mask else 0,  dL/dvalue = sum of g where mask."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.mask = mask
        out = ctx.xp.where(mask, value, x)
        return out if out.dtype == x.dtype else out.astype(x.dtype)

    @staticmethod
    def backward(ctx, g):
        mask, xp = ctx.mask, ctx.xp
        gx = gv = None
        if isinstance(g, Tensor):
            keep = (~mask).astype(g.dtype)
            if ctx.needs_input_grad[0]:
                gx = g * keep
            if ctx.needs_input_grad[2]:
                gv = (g * mask.astype(g.dtype)).sum()
        else:
            if ctx.needs_input_grad[0]:
                gx = xp.where(mask, 0, g)
            if ctx.needs_input_grad[2]:
                gv = xp.where(mask, g, 0).sum()
        return gx, None, gv


def masked_fill(x, mask, value):
    """``x`` with ``value`` wherever the boolean ``mask`` (broadcast to x's shape) is True.

    ``value`` is a number or a 0-d tensor (differentiable). The result keeps x's dtype.

    >>> x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    >>> x.masked_fill(shendu.tensor([True, False]), -1.0)
    tensor([[-1.,  2.],
            [-1.,  4.]])
    """
    if not isinstance(x, Tensor):
        x = Tensor(x)
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise TypeError(f"masked_fill: mask must be a boolean tensor, got {m.dtype} "
                        "(compare, e.g. x > 0, or call .bool())")
    try:
        shape = np.broadcast_shapes(tuple(m.shape), x.shape)
    except ValueError:
        shape = None
    if shape != x.shape:
        raise ValueError(f"masked_fill: mask of shape {tuple(m.shape)} does not broadcast to "
                         f"the tensor's shape {x.shape}")
    m = x.xp.broadcast_to(x.xp.asarray(m), x.shape)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise ValueError(f"masked_fill: value must be a number or a 0-d tensor, got shape "
                             f"{value.shape}")
        if value.dtype != x.dtype:
            value = value.to(x.dtype)
    elif isinstance(value, np.generic):
        value = value.item()
    return MaskedFill.apply(x, m, value)


# ----------------------------------------------------------------------- one_hot
def one_hot(labels, num_classes=-1):
    """Class indices of any shape (...) to one-hot vectors (..., num_classes), int64, no grad.

    ``num_classes=-1`` uses ``max(labels) + 1``.

    >>> shendu.one_hot(shendu.tensor([0, 2]), 3)
    tensor([[1, 0, 0],
            [0, 0, 1]])
    """
    arr = _int_index(labels, "one_hot", "labels")
    xp = labels.xp if isinstance(labels, Tensor) else np
    arr = xp.asarray(arr)
    if arr.size and int(arr.min()) < 0:
        raise ValueError(f"one_hot: labels must be non-negative class indices, got "
                         f"{int(arr.min())}")
    if num_classes == -1:
        if arr.size == 0:
            raise ValueError("one_hot: can not infer num_classes from empty labels; pass it")
        num_classes = int(arr.max()) + 1
    elif num_classes < 1 and not (num_classes == 0 and arr.size == 0):
        raise ValueError(f"one_hot: num_classes must be positive (or -1 to infer), got "
                         f"{num_classes}")
    if arr.size and int(arr.max()) >= num_classes:
        raise ValueError(f"one_hot: label {int(arr.max())} is out of range for num_classes="
                         f"{num_classes} (labels must be in 0..{num_classes - 1})")
    out = (arr[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)
