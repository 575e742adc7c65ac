"""More shape ops under PyTorch's names: ``narrow``, ``select``, ``t``, ``atleast_*d``,
``hstack``/``vstack``/``dstack``, ``tensor_split`` and ``hsplit``..., ``rot90``,
``meshgrid``, ``broadcast_tensors``, ``unfold`` (sliding windows along one dimension),
``tril_indices``/``triu_indices``, ``combinations``.

Each is a composition of ``getitem``, ``reshape``, ``cat``/``stack`` and ``flip``, so
the gradient flows back through those ops (slices send it to the positions they came
from, the rest is zeros).

>>> import shendu
>>> x = shendu.arange(6).reshape(2, 3)
>>> x.narrow(1, 1, 2)
tensor([[1, 2],
        [4, 5]])
>>> shendu.arange(5).unfold(0, 2, 2)
tensor([[0, 1],
        [2, 3]])
"""
from __future__ import annotations

import itertools

import numpy as np

from ..autograd.tensor import Tensor
from . import join as _join
from . import rearrange as _re
from . import shape as _sh
from .elementwise import _tensor
from .indexing import getitem

__all__ = ["narrow", "select", "t", "adjoint", "atleast_1d", "atleast_2d", "atleast_3d",
           "hstack", "vstack", "row_stack", "dstack", "column_stack", "tensor_split",
           "split_with_sizes", "hsplit", "vsplit", "dsplit", "fliplr", "flipud", "rot90",
           "meshgrid", "broadcast_tensors", "broadcast_shapes", "tril_indices",
           "triu_indices", "unfold_windows", "combinations", "unravel_index", "vander",
           "numel", "narrow_copy", "unsafe_chunk", "unsafe_split", "unsafe_split_with_sizes"]


def _dim(dim, ndim, name):
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{name}: dimension {dim} is out of range for a tensor with {ndim} "
                         f"dimensions (expected {-max(ndim, 1)}..{max(ndim, 1) - 1})")
    return dim % max(ndim, 1)


def narrow(input, dim, start, length):
    """The slice ``start:start + length`` of ``dim`` (a view in PyTorch, a slice here).

    >>> shendu.narrow(shendu.arange(5), 0, 1, 3)
    tensor([1, 2, 3])
    """
    x = _tensor(input, "narrow")
    d = _dim(dim, x.ndim, "narrow")
    start = int(start)
    n = x.shape[d]
    if start < 0:
        start += n
    if not 0 <= start <= n or length < 0 or start + length > n:
        raise IndexError(f"narrow: start {start} + length {length} is out of range for "
                         f"dimension {d} of size {n}")
    return getitem(x, (slice(None),) * d + (slice(start, start + int(length)),))


def select(input, dim, index):
    """``input`` indexed at ``index`` along ``dim`` (that dimension removed)."""
    x = _tensor(input, "select")
    d = _dim(dim, x.ndim, "select")
    if not -x.shape[d] <= index < x.shape[d]:
        raise IndexError(f"select: index {index} is out of range for dimension {d} of size "
                         f"{x.shape[d]}")
    return getitem(x, (slice(None),) * d + (int(index),))


def t(input):
    """Transpose a 2-D tensor (0-D and 1-D come back as they are)."""
    x = _tensor(input, "t")
    if x.ndim > 2:
        raise RuntimeError(f"t: expects a tensor with <= 2 dimensions, got {x.ndim}; use "
                           "transpose(dim0, dim1) or .mT")
    return _sh.transpose(x, 0, 1) if x.ndim == 2 else x


def adjoint(input):
    """The last two dimensions swapped (the conjugate transpose; shendu is real)."""
    return _sh.swapaxes(_tensor(input, "adjoint"), -2, -1)


def _atleast(n, tensors, name):
    single = len(tensors) == 1 and not isinstance(tensors[0], (list, tuple))
    ts = tensors[0] if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) else tensors
    out = []
    for x in ts:
        x = _tensor(x, name)
        if x.ndim < n:
            shape = {0: (1,) * n, 1: (1, x.numel()) + (1,) * (n - 2),
                     2: x.shape + (1,)}[x.ndim] if n == 3 else (1,) * (n - x.ndim) + x.shape
            x = _sh.reshape(x, shape)
        out.append(x)
    return out[0] if single else tuple(out)


def atleast_1d(*tensors):
    """Each input with at least one dimension (0-D becomes shape (1,))."""
    return _atleast(1, tensors, "atleast_1d")


def atleast_2d(*tensors):
    """Each input with at least two dimensions (leading 1s added)."""
    return _atleast(2, tensors, "atleast_2d")


def atleast_3d(*tensors):
    """Each input with at least three dimensions (NumPy's rule: (n,) -> (1, n, 1),
    (m, n) -> (m, n, 1))."""
    return _atleast(3, tensors, "atleast_3d")


def hstack(tensors):
    """Join along dimension 1 (dimension 0 for 1-D inputs)."""
    ts = atleast_1d(list(tensors))
    return _join.cat(list(ts), 0 if ts[0].ndim == 1 else 1)


def vstack(tensors):
    """Join along dimension 0 after ``atleast_2d`` (rows)."""
    return _join.cat(list(atleast_2d(list(tensors))), 0)


row_stack = vstack


def dstack(tensors):
    """Join along dimension 2 after ``atleast_3d`` (depth)."""
    return _join.cat(list(atleast_3d(list(tensors))), 2)


def column_stack(tensors):
    """1-D inputs as columns (n, 1), then join along dimension 1."""
    ts = [_tensor(x, "column_stack") for x in tensors]
    ts = [_sh.reshape(x, (x.numel(), 1)) if x.ndim <= 1 else x for x in ts]
    return _join.cat(ts, 1)


def tensor_split(input, indices_or_sections, dim=0):
    """Split into ``n`` nearly equal parts (the first ``size % n`` one longer) or at the
    given indices, as ``numpy.array_split``; always returns a tuple of slices."""
    x = _tensor(input, "tensor_split")
    d = _dim(dim, x.ndim, "tensor_split")
    size = x.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, (int, np.integer)):
        n = int(indices_or_sections)
        if n <= 0:
            raise RuntimeError(f"tensor_split: number of sections must be positive, got {n}")
        q, r = divmod(size, n)
        bounds = np.cumsum([0] + [q + (i < r) for i in range(n)])
    else:
        bounds = [0] + [min(max(int(i) if i >= 0 else int(i) + size, 0), size)
                        for i in indices_or_sections] + [size]
    lead = (slice(None),) * d
    return tuple(getitem(x, lead + (slice(int(a), max(int(a), int(b))),))
                 for a, b in zip(bounds[:-1], bounds[1:]))


def split_with_sizes(input, split_sizes, dim=0):
    """Split into pieces of the given sizes (which must add up to the dimension's size)."""
    return _join.split(input, list(split_sizes), dim)


def _nsplit(x, sections, d, name):
    x = _tensor(x, name)
    if x.ndim <= d:
        raise RuntimeError(f"{name}: needs a tensor with at least {d + 1} dimensions, got "
                           f"shape {x.shape}")
    if isinstance(sections, int) and x.shape[d] % sections:
        raise RuntimeError(f"{name}: dimension {d} of size {x.shape[d]} does not divide "
                           f"into {sections} equal parts")
    return tensor_split(x, sections, d)


def hsplit(input, indices_or_sections):
    """``tensor_split`` along dimension 1 (0 for 1-D), in equal parts."""
    x = _tensor(input, "hsplit")
    return _nsplit(x, indices_or_sections, 0 if x.ndim == 1 else 1, "hsplit")


def vsplit(input, indices_or_sections):
    """``tensor_split`` along dimension 0, in equal parts."""
    return _nsplit(input, indices_or_sections, 0, "vsplit")


def dsplit(input, indices_or_sections):
    """``tensor_split`` along dimension 2, in equal parts."""
    return _nsplit(input, indices_or_sections, 2, "dsplit")


def fliplr(input):
    """Reverse dimension 1 (left/right)."""
    return _re.flip(_tensor(input, "fliplr"), 1)


def flipud(input):
    """Reverse dimension 0 (up/down)."""
    return _re.flip(_tensor(input, "flipud"), 0)


def rot90(input, k=1, dims=(0, 1)):
    """Rotate by 90 degrees ``k`` times in the plane ``dims`` (from dims[0] toward dims[1]).

    >>> shendu.rot90(shendu.tensor([[1, 2], [3, 4]]))
    tensor([[2, 4],
            [1, 3]])
    """
    x = _tensor(input, "rot90")
    a, b = (_dim(d, x.ndim, "rot90") for d in dims)
    k %= 4
    if k == 0:
        return x
    if k == 2:
        return _re.flip(x, a, b)
    if k == 1:
        return _sh.swapaxes(_re.flip(x, b), a, b)
    return _re.flip(_sh.swapaxes(x, a, b), b)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with ``indexing='ij'`` grid k has shape
    (n1, n2, ...) and varies along dimension k; ``'xy'`` swaps the first two (NumPy's
    default). PyTorch's default is ``'ij'``.

    >>> gx, gy = shendu.meshgrid(shendu.tensor([1, 2]), shendu.tensor([3, 4, 5]))
    >>> gx.shape, gy[0]
    ((2, 3), tensor([3, 4, 5]))
    >>> shendu.meshgrid(shendu.tensor([1, 2]), shendu.tensor([3, 4, 5]), indexing="xy")[0].shape
    (3, 2)
    """
    ts = list(tensors[0]) if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)) \
        else list(tensors)
    ts = [_sh.flatten(_tensor(x, "meshgrid")) for x in ts]
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    shape = tuple(x.shape[0] for x in ts)
    grids = []
    for k, x in enumerate(ts):
        view = [1] * len(ts)
        view[k] = x.shape[0]
        grids.append(_sh.expand(_sh.reshape(x, tuple(view)), *shape))
    if indexing == "xy" and len(ts) >= 2:  # 'xy' is 'ij' with the first two axes swapped
        grids = [_sh.swapaxes(g, 0, 1) for g in grids]
    return tuple(grids)


def broadcast_shapes(*shapes):
    """The shape the given shapes broadcast to (error if they do not)."""
    try:
        return tuple(np.broadcast_shapes(*[(s,) if isinstance(s, int) else tuple(s)
                                           for s in shapes]))
    except ValueError:
        raise RuntimeError(f"broadcast_shapes: shapes {shapes} do not broadcast") from None


def broadcast_tensors(*tensors):
    """The tensors expanded to their common broadcast shape."""
    ts = [_tensor(x, "broadcast_tensors") for x in tensors]
    shape = broadcast_shapes(*[x.shape for x in ts])
    return tuple(_sh.broadcast_to(x, shape) for x in ts)


def _tri_indices(rows, cols, offset, upper, dtype, device):
    from .creation import tensor
    r, c = (np.triu_indices if upper else np.tril_indices)(rows, offset, cols)
    return tensor(np.stack([r, c]).astype(np.int64), dtype=dtype, device=device)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the lower triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, False, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The (2, N) row and column indices of the upper triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, True, dtype, device)


def unfold_windows(input, dimension, size, step):
    """``Tensor.unfold``: every window of ``size`` along ``dimension``, ``step`` apart;
    the windows replace that dimension and the window becomes a new last dimension.

    Shape: ``dimension`` of size n becomes (n - size) // step + 1, plus a last dimension
    of ``size``. (``torch.nn.functional.unfold`` is the different, im2col operation.)
    """
    x = _tensor(input, "unfold")
    d = _dim(dimension, x.ndim, "unfold")
    n = x.shape[d] if x.ndim else 1
    if size > n or size < 0 or step <= 0:
        raise RuntimeError(f"unfold: size {size} must be <= {n} (the size of dimension "
                           f"{d}) and step {step} must be positive")
    if x.ndim == 0:
        return _sh.reshape(x, (1,))
    starts = np.arange(0, n - size + 1, step)
    idx = starts[:, None] + np.arange(size)[None, :]          # (windows, size)
    y = getitem(x, (slice(None),) * d + (idx,))                  # (..., windows, size, ...)
    return _sh.moveaxis(y, d + 1, -1)


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of a 1-D tensor's elements, (N, r), as
    ``itertools.combinations`` (``with_replacement`` as its ``_with_replacement``)."""
    x = _tensor(input, "combinations")
    if x.ndim != 1:
        raise RuntimeError(f"combinations: expected a 1-D tensor, got shape {x.shape}")
    f = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(f(range(x.shape[0]), r)), dtype=np.int64).reshape(-1, r)
    return getitem(x, idx)


def unravel_index(indices, shape):
    """Flat indices into coordinates for ``shape``: a tuple of tensors, one per dimension."""
    from .creation import tensor
    idx = indices._data if isinstance(indices, Tensor) else np.asarray(indices)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return tuple(tensor(np.asarray(c, dtype=np.int64)) for c in np.unravel_index(idx, shape))


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix: column j is ``x ** (N - 1 - j)`` (``x ** j`` if increasing)."""
    from .arithmetic import pow as _pow
    v = _tensor(x, "vander")
    n = v.shape[0] if N is None else int(N)
    powers = range(n) if increasing else range(n - 1, -1, -1)
    cols = [_pow(v, p) if p else v * 0 + 1 for p in powers]
    return _join.stack(cols, 1) if cols else _sh.reshape(v, (v.shape[0], 0))


def numel(input):
    """The number of elements of a tensor."""
    return _tensor(input, "numel").numel()


def narrow_copy(input, dim, start, length):
    """``narrow`` as a new tensor (shendu's slices already are)."""
    return narrow(input, dim, start, length).clone()


def unsafe_chunk(input, chunks, dim=0):
    """``chunk`` (PyTorch's version skips view checks; shendu's pieces are safe anyway)."""
    return _join.chunk(input, chunks, dim)


def unsafe_split(input, split_size, dim=0):
    """``split`` (see ``unsafe_chunk``)."""
    return _join.split(input, split_size, dim)


def unsafe_split_with_sizes(input, split_sizes, dim=0):
    """``split_with_sizes`` (see ``unsafe_chunk``)."""
    return split_with_sizes(input, split_sizes, dim)
