"""Shape ops that copy elements into a new arrangement: repeat, tile, repeat_interleave,
flip, roll, tril, triu.

Each backward sends the gradient back to where its element came from: repeat sums the
copies (a reshape to (reps, size) per axis, then a sum), flip flips it back, roll rolls
it by the opposite shift, tril/triu keep the same triangle of the gradient. The
backwards are written with ops, so they support double backward.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .shape import Reshape, _as_tensor, _dim, _dims, _sizes, _varargs, flatten

__all__ = ["repeat", "repeat_interleave", "tile", "flip", "roll", "tril", "triu"]


# ----------------------------------------------------------------------- repetition
class Repeat(Function):
    """y = x tiled ``reps`` times along each dim (x already has len(reps) dims);
    dL/dx = g viewed as (r0, s0, r1, s1, ...) summed over the r axes."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, reps):
        ctx.in_shape, ctx.reps = x.shape, reps
        return ctx.xp.tile(x, reps)

    @staticmethod
    def backward(ctx, g):
        shape, reps = ctx.in_shape, ctx.reps
        split = tuple(v for r, s in zip(reps, shape) for v in (r, s))
        return g.reshape(split).sum(axis=tuple(range(0, 2 * len(shape), 2))), None


def repeat(x, *sizes):
    """Tile ``x``: ``sizes[i]`` copies along dim i (PyTorch's ``repeat``; extra leading sizes
    add dimensions). Like ``np.tile``.

    >>> shendu.tensor([1.0, 2.0]).repeat(2, 2)
    tensor([[1., 2., 1., 2.],
            [1., 2., 1., 2.]])
    """
    x = _as_tensor(x, "repeat")
    sizes = _sizes(sizes, "repeat")
    if len(sizes) < x.ndim:
        raise ValueError(f"repeat: the number of repeat sizes ({len(sizes)}) can not be smaller "
                         f"than the number of dimensions of the tensor ({x.ndim}, shape {x.shape})")
    if any(s < 0 for s in sizes):
        raise ValueError(f"repeat: repeat sizes must be non-negative, got {sizes}")
    if len(sizes) > x.ndim:
        x = Reshape.apply(x, (1,) * (len(sizes) - x.ndim) + x.shape)
    return Repeat.apply(x, sizes)


def tile(x, *reps):
    """Like ``repeat`` but fewer ``reps`` than dims are padded with 1s in front
    (``torch.tile``/``np.tile``).

    >>> shendu.zeros(2, 3).tile(2).shape
    (2, 6)
    """
    x = _as_tensor(x, "tile")
    reps = _sizes(reps, "tile")
    if len(reps) < x.ndim:
        reps = (1,) * (x.ndim - len(reps)) + reps
    return repeat(x, *reps)


class RepeatInterleave(Function):
    """y = each element of x repeated r times along ``dim``;
    dL/dx = g viewed with that dim split as (n, r), summed over r."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, repeats, dim):
        ctx.in_shape, ctx.r, ctx.dim = x.shape, repeats, dim
        return ctx.xp.repeat(x, repeats, axis=dim)

    @staticmethod
    def backward(ctx, g):
        s, r, d = ctx.in_shape, ctx.r, ctx.dim
        return g.reshape(s[:d] + (s[d], r) + s[d + 1:]).sum(axis=d + 1), None, None


def repeat_interleave(x, repeats, dim=None):
    """Repeat each element ``repeats`` times along ``dim`` (flattened first if None).

    ``repeats`` is an int, or a 1-D integer tensor with one count per element along
    ``dim`` (or a single count).

    >>> shendu.tensor([1.0, 2.0]).repeat_interleave(2)
    tensor([1., 1., 2., 2.])
    """
    x = _as_tensor(x, "repeat_interleave")
    if dim is None:
        x, dim = flatten(x), 0
    d = _dim(dim, x.ndim, "repeat_interleave")
    if x.ndim == 0:
        x = Reshape.apply(x, (1,))
    if isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
        if repeats < 0:
            raise ValueError(f"repeat_interleave: repeats must be non-negative, got {repeats}")
        return RepeatInterleave.apply(x, int(repeats), d)
    r = repeats._data if isinstance(repeats, Tensor) else np.asarray(repeats)
    if r.dtype.kind not in "iu":
        raise TypeError(f"repeat_interleave: repeats must be an int or an integer tensor, "
                        f"got {r.dtype}")
    r = r.reshape(-1)
    n = x.shape[d]
    if r.size == 1:
        return repeat_interleave(x, int(r[0]), d)
    if r.size != n:
        raise ValueError(f"repeat_interleave: repeats has {r.size} counts but dimension {d} "
                         f"of the tensor (shape {x.shape}) has size {n}")
    if (r < 0).any():
        raise ValueError("repeat_interleave: repeats must be non-negative")
    from .indexing import index_select
    xp = x.xp
    idx = xp.repeat(xp.arange(n), xp.asarray(r))
    return index_select(x, d, Tensor._make(idx))


# ----------------------------------------------------------------------- flip, roll
class Flip(Function):
    """y = x reversed along ``dims``;  dL/dx = g reversed along the same dims."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return ctx.xp.flip(x, axis=dims)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.flip(g, axis=ctx.dims), None


def flip(x, *dims, axis=None):
    """Reverse the order of elements along ``dims`` (varargs or a tuple; all dims when none
    are given, like ``np.flip``).

    >>> shendu.tensor([[1.0, 2.0], [3.0, 4.0]]).flip(1)
    tensor([[2., 1.],
            [4., 3.]])
    """
    x = _as_tensor(x, "flip")
    dims = _varargs(dims)
    if axis is not None:
        if dims:
            raise TypeError("flip: give either dims or axis, not both")
        dims = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    if len(dims) == 1 and dims[0] is None:
        dims = ()
    dims = _dims(dims, x.ndim, "flip") if dims else tuple(range(x.ndim))
    if x.ndim == 0 or not dims:
        return Reshape.apply(x, x.shape)
    return Flip.apply(x, dims)


class Roll(Function):
    """y = x shifted cyclically by ``shifts`` along ``dims`` (flattened if None);
    dL/dx = g rolled back by ``-shifts``."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return ctx.xp.roll(x, shifts, axis=dims)

    @staticmethod
    def backward(ctx, g):
        back = tuple(-s for s in ctx.shifts) if isinstance(ctx.shifts, tuple) else -ctx.shifts
        if isinstance(g, Tensor):
            return Roll.apply(g, back, ctx.dims), None, None
        return ctx.xp.roll(g, back, axis=ctx.dims), None, None


def roll(x, shifts, dims=None):
    """Shift elements cyclically: ``shifts`` (int or tuple) along ``dims`` (int or tuple of
    the same length); with ``dims=None`` the tensor is flattened, rolled, and reshaped.

    >>> shendu.tensor([1.0, 2.0, 3.0]).roll(1)
    tensor([3., 1., 2.])
    """
    x = _as_tensor(x, "roll")
    if dims is None:
        if isinstance(shifts, (tuple, list)):
            if len(shifts) != 1:
                raise ValueError(f"roll: with dims=None give one shift, got {tuple(shifts)}")
            shifts = shifts[0]
        return Roll.apply(x, int(shifts), None)
    if isinstance(shifts, (int, np.integer)) and isinstance(dims, (int, np.integer)):
        return Roll.apply(x, int(shifts), _dim(dims, x.ndim, "roll"))
    shifts = tuple(int(s) for s in (shifts if isinstance(shifts, (tuple, list)) else (shifts,)))
    dims = dims if isinstance(dims, (tuple, list)) else (dims,)
    if len(shifts) != len(dims):
        raise ValueError(f"roll: shifts {shifts} and dims {tuple(dims)} must have the same length")
    return Roll.apply(x, shifts, tuple(_dim(d, x.ndim, "roll") for d in dims))


# ----------------------------------------------------------------------- triangles
class Tril(Function):
    """y = x with the elements above diagonal k zeroed (last two dims);  dL/dx = tril(g, k)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return ctx.xp.tril(x, k)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.tril(g, ctx.k), None


class Triu(Function):
    """y = x with the elements below diagonal k zeroed (last two dims);  dL/dx = triu(g, k)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return ctx.xp.triu(x, k)

    @staticmethod
    def backward(ctx, g):
        return ctx.xp.triu(g, ctx.k), None


def _triangle(fn, name, x, diagonal, k):
    x = _as_tensor(x, name)
    if k is not None:
        diagonal = k
    if x.ndim < 2:
        raise ValueError(f"{name}: expected a tensor with at least 2 dimensions (a matrix or a "
                         f"batch of matrices), got shape {x.shape}")
    return fn.apply(x, int(diagonal))


def tril(x, diagonal=0, *, k=None):
    """The lower triangle of the last two dims: elements with ``col - row <= diagonal`` are
    kept, the others zeroed (``k`` is NumPy's name for ``diagonal``).

    >>> shendu.ones(3, 3).tril()
    tensor([[1., 0., 0.],
            [1., 1., 0.],
            [1., 1., 1.]])
    """
    return _triangle(Tril, "tril", x, diagonal, k)


def triu(x, diagonal=0, *, k=None):
    """The upper triangle of the last two dims: elements with ``col - row >= diagonal`` kept.

    >>> shendu.ones(2, 2).triu(1)
    tensor([[0., 1.],
            [0., 0.]])
    """
    return _triangle(Triu, "triu", x, diagonal, k)
