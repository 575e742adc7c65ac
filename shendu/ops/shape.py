"""Shape ops: reshape, transpose, squeeze, expand, cat/stack/split, pad, tril...

None of these compute anything: each moves or copies elements, so each backward
moves the gradient back to where its element came from (reshape back, transpose
with the inverse permutation, sum over broadcast axes, slice out the pad...).
Every backward is written with ops that have gradients themselves, so all of
them support double backward.
"""
from __future__ import annotations

import math

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["reshape", "view", "flatten", "unflatten", "squeeze", "unsqueeze", "transpose",
           "permute", "permute_axes", "swapaxes", "swapdims", "moveaxis", "movedim", "expand",
           "broadcast_to", "repeat", "repeat_interleave", "tile", "flip", "roll", "cat",
           "concatenate", "concat", "stack", "split", "chunk", "unbind", "pad", "pad_np",
           "tril", "triu"]


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


# ----------------------------------------------------------------------- joining
class Cat(Function):
    """y = the inputs joined along ``dim``;  dL/dx_k = the slice of g where x_k landed."""
    double_backward = True

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        ctx.bounds = np.cumsum([0] + [a.shape[dim] for a in xs]).tolist()
        return ctx.xp.concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.dim
        b = ctx.bounds
        return tuple(g[lead + (slice(b[i], b[i + 1]),)] if need else None
                     for i, need in enumerate(ctx.needs_input_grad))


def _tensors(tensors, name):
    if isinstance(tensors, Tensor):
        raise TypeError(f"{name}: expected a list or tuple of tensors, got a single Tensor; "
                        "wrap it in a list")
    ts = [t if isinstance(t, Tensor) else Tensor(t) for t in tensors]
    if not ts:
        raise ValueError(f"{name}: expected a non-empty list of tensors")
    return ts


def cat(tensors, dim=None, *, axis=None):
    """Join tensors along an existing dimension ``dim`` (default 0); every other dimension
    must match. ``concatenate`` is the same function.

    >>> shendu.cat([shendu.zeros(2, 3), shendu.ones(1, 3)]).shape
    (3, 3)
    """
    ts = _tensors(tensors, "cat")
    dim = _pick_dim(dim, axis, "cat", 0)
    ref = ts[0].shape
    if not ref:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack, "
                         "or unsqueeze them first")
    d = _dim(dim, len(ref), "cat")
    for k, t in enumerate(ts[1:], 1):
        s = t.shape
        if len(s) != len(ref) or s[:d] != ref[:d] or s[d + 1:] != ref[d + 1:]:
            raise ValueError(f"cat: tensor {k} has shape {s} but tensor 0 has shape {ref}; "
                             f"they must match in every dimension except dim {d}")
    if len(ts) == 1:
        return Reshape.apply(ts[0], ref)
    return Cat.apply(*ts, dim=d)


concatenate = concat = cat


class Stack(Function):
    """y = the inputs stacked along a new dimension ``dim``;  dL/dx_k = g[..., k, ...]."""
    double_backward = True

    @staticmethod
    def forward(ctx, *xs, dim):
        ctx.dim = dim
        return ctx.xp.stack(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        lead = (slice(None),) * ctx.dim
        return tuple(g[lead + (k,)] if need else None
                     for k, need in enumerate(ctx.needs_input_grad))


def stack(tensors, dim=None, *, axis=None):
    """Join same-shaped tensors along a new dimension ``dim`` (default 0).

    >>> shendu.stack([shendu.zeros(2, 3), shendu.ones(2, 3)], dim=1).shape
    (2, 2, 3)
    """
    ts = _tensors(tensors, "stack")
    dim = _pick_dim(dim, axis, "stack", 0)
    ref = ts[0].shape
    for k, t in enumerate(ts[1:], 1):
        if t.shape != ref:
            raise ValueError(f"stack: tensor {k} has shape {t.shape} but tensor 0 has shape "
                             f"{ref}; all must have the same shape")
    return Stack.apply(*ts, dim=_dim(dim, len(ref), "stack", 1))


# ----------------------------------------------------------------------- splitting
class Split(Function):
    """(y_1, ..., y_k) = consecutive slices of x along ``dim``;
    dL/dx = the gradients of the pieces joined back along ``dim``."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, bounds, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (slice(a, b),)] for a, b in zip(bounds[:-1], bounds[1:]))

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.concatenate(grads, axis=ctx.dim), None, None


def split(x, split_size_or_sections, dim=0):
    """Cut ``x`` into pieces along ``dim``: of ``split_size`` each (the last may be smaller),
    or of the sizes listed. Returns a tuple of tensors.

    >>> [p.shape for p in shendu.zeros(5, 2).split(2)]
    [(2, 2), (2, 2), (1, 2)]
    >>> [p.shape for p in shendu.zeros(5, 2).split([1, 4])]
    [(1, 2), (4, 2)]
    """
    x = _as_tensor(x, "split")
    d = _dim(dim, x.ndim, "split")
    if x.ndim == 0:
        raise ValueError("split: a 0-d tensor cannot be split")
    n = x.shape[d]
    s = split_size_or_sections
    if isinstance(s, (int, np.integer)):
        if s <= 0 and not (s == 0 and n == 0):
            raise ValueError(f"split: split_size must be a positive integer, got {s}")
        sizes = [s] * (n // s) + ([n % s] if n % s else []) if s else [0]
    else:
        sizes = list(_sizes((s,), "split"))
        if sum(sizes) != n or any(v < 0 for v in sizes):
            raise ValueError(f"split: sizes {tuple(sizes)} must be non-negative and sum exactly "
                             f"to {n} (the size of dimension {d} of the tensor of shape {x.shape})")
    if not sizes:
        sizes = [0]
    return _split(x, sizes, d)



def _split(x, sizes, d):
    bounds = np.cumsum([0] + list(sizes)).tolist()
    out = Split.apply(x, bounds, d)
    return out if isinstance(out, tuple) else (out,)


def chunk(x, chunks, dim=0):
    """Split into ``chunks`` pieces of ``ceil(n / chunks)`` along ``dim`` (PyTorch's rule:
    the last may be smaller, and fewer pieces come back when ``n`` runs out).

    >>> [p.shape for p in shendu.zeros(5).chunk(3)]
    [(2,), (2,), (1,)]
    """
    x = _as_tensor(x, "chunk")
    if not isinstance(chunks, (int, np.integer)) or chunks <= 0:
        raise ValueError(f"chunk: chunks must be a positive integer, got {chunks!r}")
    d = _dim(dim, x.ndim, "chunk")
    if x.ndim == 0:
        raise ValueError("chunk: a 0-d tensor cannot be chunked")
    n = x.shape[d]
    if n == 0:
        return _split(x, [0] * chunks, d)
    size = -(-n // chunks)
    return split(x, int(size), d)


class Unbind(Function):
    """(y_0, ..., y_{n-1}) = x[..., k, ...] along ``dim``;  dL/dx = the gradients stacked."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (k,)] for k in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return ctx.xp.stack(grads, axis=ctx.dim), None


def unbind(x, dim=0):
    """The slices of ``x`` along ``dim``, that dimension removed, as a tuple.

    >>> [r.tolist() for r in shendu.tensor([[1.0, 2.0], [3.0, 4.0]]).unbind()]
    [[1.0, 2.0], [3.0, 4.0]]
    """
    x = _as_tensor(x, "unbind")
    if x.ndim == 0:
        raise ValueError("unbind: a 0-d tensor has no dimension to unbind")
    d = _dim(dim, x.ndim, "unbind")
    if x.shape[d] == 0:
        return ()
    out = Unbind.apply(x, d)
    return out if isinstance(out, tuple) else (out,)


# ----------------------------------------------------------------------- padding
class ConstantPad(Function):
    """y = x surrounded by ``value`` (``widths[i] = (before, after)``, all >= 0);
    dL/dx = the centre of g, where x landed."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.centre = tuple(slice(b, b + s) for (b, _), s in zip(widths, x.shape))
        out_shape = tuple(s + b + a for (b, a), s in zip(widths, x.shape))
        out = ctx.xp.full(out_shape, value, dtype=x.dtype)
        out[ctx.centre] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.centre], None, None


_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "replicate",
          "circular": "circular", "edge": "replicate", "wrap": "circular"}


def _source_index(n, before, after, mode, xp):
    """For each output position along one dim, the input position it copies."""
    j = np.arange(-before, n + after)
    if mode == "reflect":
        # mirror images repeat with period 2(n - 1) (pads longer than n reflect again)
        m = 2 * (n - 1)
        j = np.abs(j) % m if m else np.zeros_like(j)
        j = np.where(j >= n, m - j, j)
    elif mode == "replicate":
        j = np.clip(j, 0, n - 1)
    else:  # circular
        j = j % n
    return xp.asarray(j)


def pad(x, pad, mode="constant", value=0.0):
    """Pad ``x`` (PyTorch's ``F.pad`` convention).

    ``pad`` is a flat tuple of (before, after) pairs starting from the LAST dimension:
    ``(left, right)`` pads the last dim, ``(left, right, top, bottom)`` the last two...
    ``mode``: ``"constant"`` (fill with ``value``; negative pads crop), ``"reflect"``
    (mirror without repeating the edge), ``"replicate"`` (repeat the edge) or
    ``"circular"`` (wrap around). PyTorch wants reflect pads < size and circular pads <=
    size; shendu also accepts longer ones, mirroring or wrapping again like ``np.pad``.

    >>> shendu.pad(shendu.tensor([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
    tensor([3., 2., 1., 2., 3., 2.])
    """
    x = _as_tensor(x, "pad")
    p = _sizes((tuple(pad),), "pad")
    if len(p) % 2:
        raise ValueError(f"pad: the pad tuple must have an even length ((before, after) pairs "
                         f"from the last dimension), got {p}")
    k = len(p) // 2
    if k > x.ndim:
        raise ValueError(f"pad: {p} pads {k} dimensions but the tensor has only {x.ndim} "
                         f"(shape {x.shape})")
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    mode = _MODES[mode]
    widths = [(0, 0)] * (x.ndim - k) + [(p[2 * i], p[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        if any(b < 0 or a < 0 for b, a in widths):
            crop = tuple(slice(max(-b, 0), s - max(-a, 0)) for (b, a), s in zip(widths, x.shape))
            if any(c.start > c.stop for c in crop):
                raise ValueError(f"pad: negative pads {p} crop more than the tensor of shape "
                                 f"{x.shape} holds")
            from .indexing import getitem
            x = getitem(x, crop)
            widths = [(max(b, 0), max(a, 0)) for b, a in widths]
        if all(b == 0 and a == 0 for b, a in widths):
            return Reshape.apply(x, x.shape)
        value = value.item() if isinstance(value, (Tensor, np.generic)) else value
        return ConstantPad.apply(x, tuple(widths), value)
    from .indexing import index_select
    for d, (b, a) in enumerate(widths):
        if b == 0 and a == 0:
            continue
        n = x.shape[d]
        if b < 0 or a < 0:
            raise ValueError(f"pad: negative pads are only supported in constant mode, got {p}")
        if n == 0:
            raise ValueError(f"pad: cannot {mode}-pad the empty dimension {d} (tensor of shape "
                             f"{x.shape})")
        x = index_select(x, d, Tensor._make(_source_index(n, b, a, mode, x.xp)))
    return x


def pad_np(x, pad_width, mode="constant", constant_values=0):
    """NumPy's ``np.pad`` on a tensor: ``pad_width`` is an int, one ``(before, after)``
    pair for every dim, or one pair per dim. Modes ``constant``, ``reflect``, ``edge``
    and ``wrap``.

    >>> shendu.pad_np(shendu.zeros(2, 2), ((0, 0), (1, 1))).shape
    (2, 4)
    """
    x = _as_tensor(x, "pad")
    w = np.asarray(pad_width.tolist() if hasattr(pad_width, "tolist") else pad_width)
    if w.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must hold integers, got {pad_width!r}")
    try:
        w = np.broadcast_to(w.reshape(-1, 2) if w.size > 1 else w, (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor with {x.ndim} "
                         "dimensions (give one (before, after) pair per dimension)") from None
    if (w < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    flat = tuple(int(v) for pair in w[::-1] for v in pair)
    if mode == "symmetric":
        raise ValueError("pad: mode 'symmetric' is not supported; use 'reflect', 'edge', "
                         "'wrap' or 'constant'")
    return pad(x, flat, mode, constant_values)


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
