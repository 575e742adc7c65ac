"""Shape ops on one tensor: reshape, flatten, squeeze, transpose/permute, expand.
(repeat/tile, flip, roll, tril/triu: ``rearrange.py``.)

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
           "broadcast_to"]


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
    data = x._data
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


def __getattr__(name):
    # pad and pad_np moved to padding.py; nn/functional.py still imports pad from here
    # (drop this hook once it imports from ..ops.padding)
    if name in ("pad", "pad_np"):
        from . import padding
        return getattr(padding, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
