"""Datasets: indexable collections of samples, as in ``torch.utils.data``.

A ``Dataset`` answers ``len(ds)`` and ``ds[i]``. ``TensorDataset`` wraps arrays that
share their first dimension (features, labels...) and is what the ``DataLoader``
batches fastest: it slices all arrays at once instead of fetching samples one by one.

>>> import numpy as np
>>> from shendu.data import TensorDataset, random_split
>>> ds = TensorDataset(np.zeros((10, 3), np.float32), np.arange(10))
>>> x, y = ds[4]; x.shape, int(y)
((3,), 4)
>>> train, val = random_split(ds, [0.8, 0.2], generator=0)
>>> len(train), len(val)
(8, 2)
"""
from __future__ import annotations

import bisect
import math
import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split"]


class Dataset:
    """Base class of datasets: subclasses define ``__getitem__(i)`` and ``__len__()``.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 5
    ...     def __getitem__(self, i): return float(i), float(i * i)
    >>> Squares()[3]
    (3.0, 9.0)
    """

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(self, index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__(self)")

    def __add__(self, other):
        return ConcatDataset([self, other])


def _as_tensor(x, position):
    """Keep Tensors as they are; wrap arrays without copying; convert lists."""
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "shape") and hasattr(x, "dtype"):  # numpy or cupy array
        if backend.get_array_module(x) is np:
            x = np.asarray(x)
        return Tensor._make(x)
    try:
        return Tensor(x)
    except (TypeError, ValueError) as e:
        raise TypeError(f"TensorDataset: argument {position} ({type(x).__name__}) is not an "
                        f"array, a Tensor or a list of numbers: {e}") from None


class TensorDataset(Dataset):
    """Samples are the rows (first dimension) of several arrays or Tensors.

    ``ds[i]`` is the tuple ``(t0[i], t1[i], ...)`` of Tensors. NumPy arrays are
    wrapped without a copy. All arguments must have the same size in dimension 0.

    Parameters
    ----------
    *tensors : Tensor or array, each of shape (N, ...)

    >>> import numpy as np
    >>> ds = TensorDataset(np.ones((4, 2)), np.array([0, 1, 0, 1]))
    >>> len(ds), ds[1][0].shape
    (4, (2,))
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array or Tensor, got none")
        tensors = tuple(_as_tensor(t, i) for i, t in enumerate(tensors))
        for i, t in enumerate(tensors):
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: argument {i} is a 0-d (scalar) tensor; every "
                                 f"argument needs a first dimension indexing the samples")
        sizes = [t.shape[0] for t in tensors]
        if len(set(sizes)) > 1:
            detail = ", ".join(f"argument {i}: {t.shape}" for i, t in enumerate(tensors))
            raise ValueError(f"TensorDataset: all arguments must have the same size in dimension 0 "
                             f"(the number of samples), got sizes {sizes} ({detail})")
        self.tensors = tensors

    @property
    def arrays(self):
        """The backend arrays of the wrapped tensors (what the DataLoader slices)."""
        return tuple(t._data for t in self.tensors)

    def __getitem__(self, index):
        out = []
        for t in self.tensors:
            a = t._data[index]
            out.append(Tensor._make(backend.get_array_module(t._data).asarray(a)))
        return tuple(out)

    def __len__(self):
        return self.tensors[0].shape[0]

    def __repr__(self):
        return f"TensorDataset({', '.join(str(t.shape) for t in self.tensors)})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> ds = TensorDataset(np.arange(10))
    >>> sub = Subset(ds, [9, 0, 5]); len(sub), int(sub[0][0])
    (3, 9)
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        idx = np.asarray(indices)
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise TypeError(f"Subset: indices must be a 1-D sequence of integers, got "
                            f"{type(indices).__name__} with dtype {idx.dtype} and shape {idx.shape}")
        idx = idx.astype(np.int64, copy=False)
        n = len(dataset)
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx[(idx < -n) | (idx >= n)][0]
            raise IndexError(f"Subset: index {int(bad)} is out of range for a dataset of {n} samples")
        self.indices = np.where(idx < 0, idx + n, idx)

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return self.dataset[[int(i) for i in self.indices[np.asarray(index)]]]
        return self.dataset[int(self.indices[index])]

    def __len__(self):
        return len(self.indices)

    def __repr__(self):
        return f"Subset({type(self.dataset).__name__}, {len(self)} samples)"


class ConcatDataset(Dataset):
    """Several datasets one after the other: ``len`` is the sum of their lengths.

    >>> a, b = TensorDataset(np.arange(3)), TensorDataset(np.arange(10, 12))
    >>> ds = ConcatDataset([a, b]); len(ds), int(ds[3][0])
    (5, 10)
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset needs at least one dataset, got an empty list")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        n = len(self)
        if index < 0:
            if -index > n:
                raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
            index += n
        if index >= n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        which = bisect.bisect_right(self.cumulative_sizes, index)
        start = 0 if which == 0 else self.cumulative_sizes[which - 1]
        return self.datasets[which][index - start]


def as_generator(generator):
    """A NumPy ``Generator`` from ``None`` (shendu's seeded global one), a seed or a Generator."""
    if generator is None:
        return backend.default_generator()
    if isinstance(generator, np.random.Generator):
        return generator
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return np.random.default_rng(int(generator))
    raise TypeError(f"generator must be None, an int seed or a numpy.random.Generator, "
                    f"got {type(generator).__name__}")


def _split_lengths(n, lengths):
    """Turn lengths (ints summing to n, or fractions summing to 1) into ints."""
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths is empty")
    if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in lengths):
        lengths = [int(x) for x in lengths]
        if any(x < 0 for x in lengths):
            raise ValueError(f"random_split: lengths must be non-negative, got {lengths}")
        if sum(lengths) != n:
            raise ValueError(f"random_split: lengths {lengths} sum to {sum(lengths)}, but the "
                             f"dataset has {n} samples (give ints summing to {n} or fractions "
                             f"summing to 1)")
        return lengths
    fracs = [float(x) for x in lengths]
    if any(f < 0 or f > 1 for f in fracs) or not math.isclose(sum(fracs), 1.0, abs_tol=1e-6):
        raise ValueError(f"random_split: fractions {lengths} must lie in [0, 1] and sum to 1 "
                         f"(they sum to {sum(fracs):g})")
    # PyTorch's rule: floor each share, then hand the remainder out one by one.
    out = [int(math.floor(n * f)) for f in fracs]
    for i in range(n - sum(out)):
        out[i % len(out)] += 1
    return out


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` at random into non-overlapping ``Subset``s.

    Parameters
    ----------
    dataset : Dataset (or anything with ``len``)
    lengths : sequence of ints summing to ``len(dataset)``, or of fractions summing to 1
        (each share is floored, the remainder goes one by one to the first splits,
        as in PyTorch).
    generator : None, int seed or numpy.random.Generator
        ``None`` uses shendu's global generator, so ``shendu.manual_seed`` repeats a split.

    >>> train, test = random_split(TensorDataset(np.arange(10)), [7, 3], generator=0)
    >>> len(train), len(test), len(set(train.indices) | set(test.indices))
    (7, 3, 10)
    """
    n = len(dataset)
    sizes = _split_lengths(n, lengths)
    perm = as_generator(generator).permutation(n)
    bounds = np.cumsum([0] + sizes)
    return [Subset(dataset, perm[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
