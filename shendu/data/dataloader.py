"""``DataLoader``: iterate over a dataset in (shuffled) mini-batches of Tensors.

For data held in memory (a ``TensorDataset``, a ``Subset`` of one, a NumPy array or a
Tensor) each batch is cut from the whole arrays at once with one slice or one fancy
index: no Python loop over samples. Other datasets are read sample by sample and the
samples are stacked by ``default_collate``, as PyTorch does.

Shuffling draws from shendu's seeded generator, so ``shendu.manual_seed(0)`` repeats
the order exactly; every epoch (every ``iter(loader)``) draws a new order.

>>> import numpy as np, shendu
>>> from shendu.data import DataLoader, TensorDataset
>>> ds = TensorDataset(np.arange(10, dtype=np.float32).reshape(5, 2), np.arange(5))
>>> loader = DataLoader(ds, batch_size=2)
>>> len(loader), [tuple(x.shape) for x, y in loader]
(3, [(2, 2), (2, 2), (1, 2)])
"""
from __future__ import annotations

import collections.abc
import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .dataset import Subset, TensorDataset, as_generator

__all__ = ["DataLoader", "default_collate", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler"]


# ---------------------------------------------------------------- samplers
class Sampler:
    """Yields dataset indices. Subclasses define ``__iter__`` (and ``__len__``)."""

    def __iter__(self):
        raise NotImplementedError

    def indices(self):
        """All indices of one epoch as an int64 array (used to cut batches at once)."""
        return np.fromiter((int(i) for i in self), dtype=np.int64)


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source):
        self.data_source = data_source

    def indices(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A new random permutation of ``range(len(data_source))`` at each epoch.

    ``generator``: ``None`` (shendu's global generator, seeded by ``manual_seed``), an
    int seed (fixed once, so epochs still differ) or a ``numpy.random.Generator``.
    """

    def __init__(self, data_source, generator=None):
        self.data_source = data_source
        self._fixed = generator is not None
        self.generator = as_generator(generator) if generator is not None else None

    def _rng(self):
        return self.generator if self._fixed else backend.default_generator()

    def indices(self):
        return self._rng().permutation(len(self.data_source)).astype(np.int64, copy=False)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return len(self.data_source)


class SubsetRandomSampler(RandomSampler):
    """The given ``indices`` in a new random order at each epoch."""

    def __init__(self, indices, generator=None):
        super().__init__(None, generator)
        self.subset = np.asarray(indices, dtype=np.int64)

    def indices(self):
        return self.subset[self._rng().permutation(len(self.subset))]

    def __len__(self):
        return len(self.subset)


# --------------------------------------------------------------- collation
def _wrap(array):
    return Tensor._make(array)


def default_collate(batch):
    """Stack a list of samples into a batch, recursively, like PyTorch's ``default_collate``.

    - Tensors and arrays of equal shape -> one Tensor with a new first axis (dtype kept);
    - Python ints -> int64 Tensor; Python floats -> Tensor of the default dtype (float32,
      like ``shendu.tensor``; PyTorch would give float64); bools -> bool Tensor;
      NumPy scalars keep their dtype;
    - tuples/lists -> a list with one collated entry per position (PyTorch does the same);
      namedtuples keep their type; dicts -> a dict with one collated entry per key;
    - strings (and other objects) -> the list of them.

    >>> b = default_collate([(np.zeros(2), 1), (np.ones(2), 0)])
    >>> b[0].shape, b[1].tolist()
    ((2, 2), [1, 0])
    """
    if not isinstance(batch, (list, tuple)) or len(batch) == 0:
        raise ValueError(f"default_collate expects a non-empty list of samples, got {batch!r:.80}")
    elem = batch[0]
    if isinstance(elem, Tensor) or (hasattr(elem, "shape") and hasattr(elem, "dtype")
                                    and not isinstance(elem, np.generic)):
        arrays = [b._data if isinstance(b, Tensor) else b for b in batch]
        shapes = {tuple(a.shape) for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: samples have different shapes {sorted(shapes)}; "
                             f"pad them to one shape or pass a collate_fn to the DataLoader")
        xp = backend.get_array_module(arrays[0])
        return _wrap(xp.stack([xp.asarray(a) for a in arrays]))
    if isinstance(elem, (bool, np.bool_)):
        return _wrap(np.array(batch, dtype=np.bool_))
    if isinstance(elem, np.generic):
        return _wrap(np.array(batch, dtype=elem.dtype))
    if isinstance(elem, numbers.Integral):
        return _wrap(np.array(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return _wrap(np.array(batch, dtype=backend.get_default_dtype()))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        keys = elem.keys()
        for b in batch:
            if not isinstance(b, collections.abc.Mapping) or b.keys() != keys:
                raise ValueError(f"default_collate: samples are dicts with different keys "
                                 f"({sorted(map(str, keys))} vs {sorted(map(str, b.keys()))})")
        return {k: default_collate([b[k] for b in batch]) for k in keys}
    if isinstance(elem, collections.abc.Sequence):
        sizes = {len(b) for b in batch}
        if len(sizes) > 1:
            raise ValueError(f"default_collate: samples are sequences of different lengths "
                             f"{sorted(sizes)}; every sample must have the same number of fields")
        columns = [default_collate(list(col)) for col in zip(*batch)]
        if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
            return type(elem)(*columns)
        return columns
    return list(batch)


# ------------------------------------------------------------- in-memory path
def _in_memory(dataset):
    """``(arrays, base_indices, single)`` when batches can be cut from whole arrays.

    ``base_indices`` maps loader indices to rows of the arrays (``None``: identity);
    ``single`` is True when the dataset is one array and batches are plain Tensors.
    Returns ``None`` for datasets that must be read sample by sample.
    """
    if isinstance(dataset, Tensor):
        return (dataset._data,), None, True
    if isinstance(dataset, np.ndarray) or (hasattr(dataset, "shape") and hasattr(dataset, "dtype")
                                           and hasattr(dataset, "__getitem__")):
        if dataset.ndim == 0:
            raise ValueError("DataLoader: got a 0-d array; it needs a first dimension of samples")
        return (dataset,), None, True
    if type(dataset) is TensorDataset:  # a subclass may override __getitem__
        return dataset.arrays, None, False
    if type(dataset) is Subset:
        inner = _in_memory(dataset.dataset)
        if inner is None:
            return None
        arrays, base, single = inner
        idx = dataset.indices if base is None else base[dataset.indices]
        return arrays, idx, single
    return None


def _take(array, rows):
    """Rows of ``array`` as a new array: a slice (copied) or one fancy index."""
    if isinstance(rows, slice):
        return array[rows].copy()
    xp = backend.get_array_module(array)
    return array[rows if xp is np else xp.asarray(rows)]


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of Tensors.

    Parameters
    ----------
    dataset : Dataset, TensorDataset, Subset, array or Tensor
        In-memory data (TensorDataset, Subset of one, array, Tensor) is batched by
        slicing all arrays at once; other datasets are read sample by sample.
    batch_size : int, default 1
    shuffle : bool, default False
        Draw a new random order at each epoch.
    drop_last : bool, default False
        Drop the last batch when it is smaller than ``batch_size``.
    collate_fn : callable, optional
        Turns a list of samples into a batch (default: ``default_collate``). Given one,
        the loader always reads samples one by one and calls it.
    generator : None, int or numpy.random.Generator
        Source of the shuffling: ``None`` is shendu's global generator (seeded by
        ``shendu.manual_seed``); an int seeds a private generator once, so the sequence
        of epochs repeats but every epoch still differs.
    sampler : Sampler or iterable of indices, optional
        The order of the indices (excludes ``shuffle``).
    num_workers : int
        Accepted for PyTorch compatibility; data is always loaded in the main process.
    batch_sampler : iterable of lists of indices, optional
        Yields whole batches (a ``BatchSampler``); excludes ``batch_size``, ``shuffle``,
        ``sampler`` and ``drop_last``.
    pin_memory, timeout, worker_init_fn, prefetch_factor, persistent_workers, ...
        PyTorch's worker and pinning options: accepted and ignored (no worker processes).

    An ``IterableDataset`` (a stream) is read in order and cut into batches of
    ``batch_size``; ``shuffle`` and ``sampler`` are refused for it, as in PyTorch.

    Yields
    ------
    For a TensorDataset: a list ``[x_batch, y_batch, ...]`` of Tensors, each of shape
    ``(B, ...)`` (the arrays' dtypes are kept). For an array or a Tensor: one Tensor.
    Batches are copies: changing them never changes the dataset. They are constants
    (no ``requires_grad``).

    Example
    -------
    >>> import numpy as np, shendu
    >>> X, y = np.random.rand(100, 4).astype(np.float32), np.arange(100) % 3
    >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    >>> _ = shendu.manual_seed(0); first = [yb.tolist() for _, yb in loader]
    >>> _ = shendu.manual_seed(0); first == [yb.tolist() for _, yb in loader]
    True
    >>> len(loader), [len(yb) for _, yb in loader]
    (4, [32, 32, 32, 4])
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 generator=None, sampler=None, num_workers=0, batch_sampler=None,
                 pin_memory=False, timeout=0, worker_init_fn=None, multiprocessing_context=None,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device=""):
        from .iterable import IterableDataset
        self.batch_sampler = batch_sampler
        self.pin_memory = pin_memory
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable and (shuffle or sampler is not None or batch_sampler is not None):
            raise ValueError("DataLoader with IterableDataset: expected unspecified shuffle, "
                             "sampler and batch_sampler (a stream is read in its own order)")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive "
                                 "with batch_size, shuffle, sampler, and drop_last")
            batch_size = 1
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: give either sampler= or shuffle=True, not both "
                             "(the sampler decides the order)")
        if not self._iterable and (not hasattr(dataset, "__len__")
                                   or not hasattr(dataset, "__getitem__")):
            raise TypeError(f"DataLoader: dataset must support len() and indexing, got "
                            f"{type(dataset).__name__}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.num_workers = num_workers
        if sampler is None:
            sampler = (RandomSampler(dataset, generator) if shuffle
                       else SequentialSampler(dataset))
        self.sampler = sampler
        self._memory = None if collate_fn is not None else _in_memory(dataset)

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset) if self._iterable else len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _epoch_indices(self):
        if isinstance(self.sampler, Sampler):
            return self.sampler.indices()
        return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)

    def __iter__(self):
        collate = self.collate_fn or default_collate
        if self._iterable:  # a stream: cut it into batches as it comes
            batch = []
            for sample in self.dataset:
                batch.append(sample)
                if len(batch) == self.batch_size:
                    yield collate(batch)
                    batch = []
            if batch and not self.drop_last:
                yield collate(batch)
            return
        if self.batch_sampler is not None:
            for idx in self.batch_sampler:
                yield collate([self.dataset[int(i)] for i in idx])
            return
        order = self._epoch_indices()
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        sequential = isinstance(self.sampler, SequentialSampler)
        if self._memory is not None:
            arrays, base, single = self._memory
            for start in range(0, stop, bs):
                if sequential and base is None:
                    rows = slice(start, min(start + bs, n))
                else:
                    rows = order[start:start + bs]
                    if base is not None:
                        rows = base[rows]
                batch = [_wrap(_take(a, rows)) for a in arrays]
                yield batch[0] if single else batch
            return
        collate = self.collate_fn or default_collate
        dataset = self.dataset
        for start in range(0, stop, bs):
            yield collate([dataset[int(i)] for i in order[start:start + bs]])

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)} samples, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
