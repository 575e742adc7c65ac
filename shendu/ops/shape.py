"""Shape ops on one tensor: reshape, flatten, squeeze, transpose/permute, expand,
repeat/tile, flip, roll, tril/triu.

None of these compute anything: each moves or copies elements, so each backward
moves the gradient back to where its element came from (reshape back, transpose
with the inverse permutation, sum over broadcast axes...). Every backward is
written with ops that have gradients themselves, so all of them support double
backward. Joining and splitting (cat, stack, split...) live in ``join.py``, padding
in ``padding.py``.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
           "permute", "permute_axes", "swapaxes", "swapdims", "moveaxis", "movedim", "expand",
           "broadcast_to", "repeat", "repeat_interleave", "tile", "flip", "roll", "tril", "triu"]


def _as_tensor(x, name):
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype") or isinstance(x, (list, tuple, int, float)):
        return Tensor(x)
    raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__}")


def _sizes(args, name):
    """``f(x, 2, 3)`` and ``f(x, (2, 3))`` both give ``(2, 3)``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    if all(type(s) is int for s in args):  # the common case, fast
        return tuple(args)
    if len(args) == 1 and hasattr(args[0], "shape") and getattr(args[0], "ndim", 0) == 1:
        args = tuple(args[0].tolist())
    out = []
    for s in args:
        if isinstance(s, Tensor):
            s = s.item()
        if not isinstance(s, (int, np.integer)) or isinstance(s, bool):
            raise TypeError(f"{name}: sizes must be integers, got {tuple(args)}")
        out.append(int(s))
    return tuple(out)


# ----------------------------------------------------------------------- reshape
class Reshape(Function):
    """y = x viewed with a new shape (same elements, row-major order);
    dL/dx = g reshaped back to x's shape."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return x.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape), None


def _resolve_shape(in_shape, shape, name="reshape"):
    """``shape`` with its ``-1`` filled in; a readable error when sizes disagree."""
    n = 1
    for s in in_shape:
        n *= s
    known, unknown = 1, []
    for i, s in enumerate(shape):
        if s == -1:
            unknown.append(i)
        elif s < 0:
            raise ValueError(f"{name}: invalid size {s} in shape {shape} (sizes must be "
                             "non-negative, or -1 for one inferred size)")
        else:
            known *= s
    if len(unknown) > 1:
        raise ValueError(f"{name}: only one dimension can be -1 (inferred), got shape {shape}")

    def fail():
        raise ValueError(f"{name}: cannot reshape a tensor of shape {tuple(in_shape)} "
                         f"({n} elements) into {shape}")
    if unknown:
        if known == 0 or n % known:
            fail()
        shape = shape[:unknown[0]] + (n // known,) + shape[unknown[0] + 1:]
    elif known != n:
        fail()
    return shape


def reshape(x, *sizes, shape=None):
    """The same elements (row-major order) in a new shape.

    Parameters
    ----------
    x : Tensor
    *sizes : ints, or one tuple of ints; one of them may be ``-1`` (inferred).
    shape : the same as one tuple, by keyword (``np.reshape(a, shape=...)``).

    ``view`` is the same function (shendu has no separate strided views).

    >>> x = shendu.arange(6.0)
    >>> x.reshape(2, 3).shape, shendu.reshape(x, (3, -1)).shape
    ((2, 3), (3, 2))
    """
    x = _as_tensor(x, "reshape")
    if shape is not None:
        if sizes:
            raise TypeError("reshape: give the sizes either positionally or as shape=, not both")
        sizes = (shape,)
    shape = _sizes(sizes, "reshape")
    data = x.data
    if shape != data.shape and (-1 in shape or math.prod(shape) != data.size
                                or any(s < 0 for s in shape)):
        shape = _resolve_shape(data.shape, shape)
    return Reshape.apply(x, shape)


view = reshape


# ----------------------------------------------------------------------- helpers
def _dim(d, ndim, name, extra=0):
    """One dimension index (negatives count from the end) checked against ``ndim``;
    ``extra=1`` allows the position just past the end (unsqueeze, stack)."""
    n = max(ndim + extra, 1)
    if type(d) is int and -n <= d < n:  # the common case, fast
        return d % n
    if isinstance(d, Tensor):
        d = d.item()
    if not isinstance(d, (int, np.integer)) or isinstance(d, bool):
        raise TypeError(f"{name}: a dimension must be an integer, got {d!r}")
    if not -n <= d < n:
        raise IndexError(f"{name}: dimension {d} is out of range for a tensor with {ndim} "
                         f"dimensions (expected {-n}..{n - 1})")
    return int(d) % n


def _dims(dims, ndim, name):
    """A tuple of distinct checked dimensions (int, tuple or list accepted)."""
    if isinstance(dims, (int, np.integer)):
        dims = (dims,)
    out = tuple(_dim(d, ndim, name) for d in dims)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: dimension repeated in {tuple(dims)}")
    return out


def _varargs(args):
    """``f(x, 0, 1)`` and ``f(x, (0, 1))`` both give ``(0, 1)``."""
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        return tuple(args[0])
    return tuple(args)


def _pick_dim(dim, axis, name, default=None):
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}: give either dim or axis, not both (got dim={dim}, "
                            f"axis={axis})")
        dim = axis
    return default if dim is None else dim


# ----------------------------------------------------------------------- views through reshape
def flatten(x, start_dim=0, end_dim=-1):
    """Merge dimensions ``start_dim..end_dim`` (inclusive) into one.

    (N, C, H, W) with ``start_dim=1`` becomes (N, C*H*W). A 0-d tensor becomes shape (1,).

    >>> shendu.zeros(2, 3, 4).flatten(1).shape
    (2, 12)
    """
    x = _as_tensor(x, "flatten")
    shape = x.shape
    if not shape:
        _dim(start_dim, 0, "flatten"), _dim(end_dim, 0, "flatten")
        return Reshape.apply(x, (1,))
    s, e = _dim(start_dim, len(shape), "flatten"), _dim(end_dim, len(shape), "flatten")
    if s > e:
        raise ValueError(f"flatten: start_dim ({start_dim}) must not come after end_dim "
                         f"({end_dim}) for a tensor of shape {shape}")
    n = 1
    for v in shape[s:e + 1]:
        n *= v
    return Reshape.apply(x, shape[:s] + (n,) + shape[e + 1:])


def unflatten(x, dim, sizes):
    """Split dimension ``dim`` into ``sizes`` (their product must be its size; one may be -1).

    >>> shendu.zeros(2, 12).unflatten(1, (3, 4)).shape
    (2, 3, 4)
    """
    x = _as_tensor(x, "unflatten")
    shape = x.shape
    d = _dim(dim, len(shape), "unflatten")
    sizes = _sizes((sizes,), "unflatten")
    try:
        sizes = _resolve_shape((shape[d],), sizes, "unflatten")
    except ValueError:
        raise ValueError(f"unflatten: sizes {sizes} don't multiply up to the size of dim {dim} "
                         f"({shape[d]}) of the tensor of shape {shape}") from None
    return Reshape.apply(x, shape[:d] + tuple(sizes) + shape[d + 1:])


def squeeze(x, dim=None, *, axis=None):
    """Remove dimensions of size 1: all of them, or only those in ``dim`` (int or tuple).

    As in PyTorch, naming a dimension whose size is not 1 leaves it alone.

    >>> shendu.zeros(1, 3, 1).squeeze().shape, shendu.zeros(1, 3, 1).squeeze(0).shape
    ((3,), (3, 1))
    """
    x = _as_tensor(x, "squeeze")
    shape = x.shape
    dim = _pick_dim(dim, axis, "squeeze")
    if dim is None:
        drop = {i for i, s in enumerate(shape) if s == 1}
    else:
        drop = {d for d in _dims(dim, len(shape), "squeeze") if shape and shape[d] == 1}
    return Reshape.apply(x, tuple(s for i, s in enumerate(shape) if i not in drop))


def unsqueeze(x, dim=None, *, axis=None):
    """Insert a dimension of size 1 at position ``dim`` (``-1`` appends one at the end).

    ``dim`` may also be a tuple, positions in the result (NumPy's ``expand_dims``, whose
    ``axis`` name is accepted too).

    >>> shendu.zeros(3).unsqueeze(0).shape, shendu.zeros(3).unsqueeze(-1).shape
    ((1, 3), (3, 1))
    """
    x = _as_tensor(x, "unsqueeze")
    dim = _pick_dim(dim, axis, "unsqueeze")
    if dim is None:
        raise TypeError("unsqueeze: missing the position dim of the new dimension")
    shape = x.shape
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    n = len(shape) + len(dims)
    pos = _dims(dims, n, "unsqueeze") if len(dims) > 1 else (_dim(dims[0], len(shape), "unsqueeze", 1),)
    it = iter(shape)
    return Reshape.apply(x, tuple(1 if i in pos else next(it) for i in range(n)))


# ----------------------------------------------------------------------- permutations
class Permute(Function):
    """y = x with its axes reordered: y.shape[i] = x.shape[perm[i]];
    dL/dx = g permuted by the inverse permutation."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, perm):
        ctx.perm = perm
        return ctx.xp.transpose(x, perm)

    @staticmethod
    def backward(ctx, g):
        inv = tuple(int(i) for i in np.argsort(ctx.perm))
        return ctx.xp.transpose(g, inv), None


def _permute(x, perm, name):
    ndim = x.ndim
    if len(perm) != ndim:
        raise ValueError(f"{name}: got {len(perm)} dimensions {tuple(perm)} for a tensor with "
                         f"{ndim} dimensions (shape {x.shape}); give each dimension once")
    p = tuple(_dim(d, ndim, name) for d in perm)
    if sorted(p) != list(range(ndim)):
        raise ValueError(f"{name}: dims {tuple(perm)} are not a permutation of 0..{ndim - 1}")
    return Permute.apply(x, p)


def permute(x, *dims):
    """Reorder the dimensions: ``y.shape[i] == x.shape[dims[i]]``.

    >>> shendu.zeros(2, 3, 4).permute(2, 0, 1).shape
    (4, 2, 3)
    """
    x = _as_tensor(x, "permute")
    return _permute(x, _varargs(dims), "permute")


def permute_axes(x, axes=None):
    """NumPy's ``transpose(x, axes)``: reorder by ``axes``, or reverse them all if None."""
    x = _as_tensor(x, "transpose")
    if axes is None:
        return Permute.apply(x, tuple(range(x.ndim))[::-1])
    return _permute(x, tuple(axes), "transpose")


def transpose(x, *dims):
    """Swap two dimensions (PyTorch), or permute them (NumPy).

    * ``transpose(x, 0, 1)``: swap dims 0 and 1 (PyTorch's ``transpose``);
    * ``transpose(x)``: reverse all dims (NumPy's ``x.transpose()``, ``x.T``);
    * ``transpose(x, (1, 0, 2))`` or, for other than two dims, ``transpose(x, 1, 0, 2)``:
      NumPy's permutation.

    >>> shendu.zeros(2, 3, 4).transpose(0, 2).shape
    (4, 3, 2)
    """
    x = _as_tensor(x, "transpose")
    if not dims:
        return permute_axes(x, None)
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        return _permute(x, tuple(dims[0]), "transpose")
    if len(dims) == 2:
        return swapaxes(x, dims[0], dims[1])
    return _permute(x, dims, "transpose")


def swapaxes(x, axis0, axis1):
    """Swap two dimensions (``swapdims``, PyTorch's two-argument ``transpose``).

    >>> shendu.zeros(2, 3).swapaxes(0, 1).shape
    (3, 2)
    """
    x = _as_tensor(x, "swapaxes")
    ndim = x.ndim
    a, b = _dim(axis0, ndim, "swapaxes"), _dim(axis1, ndim, "swapaxes")
    perm = list(range(ndim))
    if ndim:
        perm[a], perm[b] = perm[b], perm[a]
    return Permute.apply(x, tuple(perm))


swapdims = swapaxes


def moveaxis(x, source, destination):
    """Move dimension(s) ``source`` to position(s) ``destination``, keeping the others'
    order (``movedim``).

    >>> shendu.zeros(2, 3, 4).moveaxis(0, -1).shape
    (3, 4, 2)
    """
    x = _as_tensor(x, "moveaxis")
    ndim = x.ndim
    src = _dims(source, ndim, "moveaxis")
    dst = _dims(destination, ndim, "moveaxis")
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source} and destination {destination} must have "
                         "the same number of dimensions")
    rest = [d for d in range(ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        rest.insert(d, s)
    return Permute.apply(x, tuple(rest))


movedim = moveaxis


# ----------------------------------------------------------------------- broadcasting
class BroadcastTo(Function):
    """y = x stretched to ``shape`` (a read-only view, no copy);
    dL/dx = g summed over the stretched and added axes."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return ctx.xp.broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        from ._util import unbroadcast
        return unbroadcast(g, ctx.in_shape), None


def broadcast_to(x, shape):
    """``x`` broadcast to ``shape`` (NumPy rules: align from the right, size-1 dims stretch).

    >>> shendu.tensor([1.0, 2.0]).broadcast_to((3, 2)).shape
    (3, 2)
    """
    x = _as_tensor(x, "broadcast_to")
    shape = _sizes((shape,) if not isinstance(shape, (int, np.integer)) else (shape,),
                   "broadcast_to")
    if shape == x.shape:
        return x
    _check_expand(x.shape, shape, "broadcast_to")
    return BroadcastTo.apply(x, shape)


def _check_expand(old, new, name):
    lead = len(new) - len(old)
    if lead < 0:
        raise ValueError(f"{name}: cannot broadcast a tensor of shape {old} to {new}, which "
                         "has fewer dimensions")
    for i, s in enumerate(old):
        if s != 1 and s != new[lead + i]:
            raise ValueError(f"{name}: cannot broadcast a tensor of shape {old} to {new}: "
                             f"size {s} at dimension {i} must match {new[lead + i]} "
                             "(only size-1 dimensions can be stretched)")


def expand(x, *sizes):
    """``x`` broadcast to ``sizes`` (PyTorch's ``expand``); ``-1`` keeps a dimension's size,
    and new dimensions may be added in front.

    >>> shendu.zeros(3, 1).expand(2, -1, 4).shape
    (2, 3, 4)
    """
    x = _as_tensor(x, "expand")
    sizes = _sizes(sizes, "expand")
    old = x.shape
    lead = len(sizes) - len(old)
    if lead < 0:
        raise ValueError(f"expand: the number of sizes given ({len(sizes)}) must be at least "
                         f"the number of dimensions of the tensor ({len(old)}, shape {old})")
    new = []
    for i, s in enumerate(sizes):
        if s == -1:
            if i < lead:
                raise ValueError(f"expand: -1 is not allowed in a new leading dimension "
                                 f"(dimension {i} of {sizes})")
            s = old[i - lead]
        elif s < 0:
            raise ValueError(f"expand: invalid size {s} in {sizes}")
        new.append(s)
    new = tuple(new)
    if new == old:
        return x
    for i, s in enumerate(old):
        if s != 1 and s != new[lead + i]:
            raise ValueError(f"expand: the expanded size {new[lead + i]} must match the existing "
                             f"size {s} at dimension {lead + i} (only size-1 dimensions can be "
                             f"expanded), got shape {old} -> {sizes}")
    return BroadcastTo.apply(x, new)


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
    r = repeats.data if isinstance(repeats, Tensor) else np.asarray(repeats)
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


def __getattr__(name):
    # pad and pad_np moved to padding.py; nn/functional.py still imports pad from here
    # (drop this hook once it imports from ..ops.padding)
    if name in ("pad", "pad_np"):
        from . import padding
        return getattr(padding, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
