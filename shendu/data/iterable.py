"""Datasets that are streams: ``IterableDataset``, ``ChainDataset``, ``get_worker_info``.

A map-style ``Dataset`` answers ``ds[i]``; an ``IterableDataset`` only answers
``iter(ds)``: samples come one after another, from a file read line by line, a
generator, a simulation. It has no random access, so it can't be shuffled by index or
split by ``random_split``; shuffle inside ``__iter__`` if needed.

shendu's ``DataLoader`` always loads in the main process (``num_workers`` is accepted
and ignored), so ``get_worker_info()`` returns ``None`` there, exactly what PyTorch
returns in the main process: code that splits a stream between workers with
``if info is None: <the whole stream>`` runs unchanged.

>>> from shendu.data import IterableDataset, get_worker_info
>>> class Count(IterableDataset):
...     def __init__(self, n): self.n = n
...     def __iter__(self): return iter(range(self.n))
>>> list(Count(3) + Count(2)), get_worker_info() is None
([0, 1, 2, 0, 1], True)
"""
from __future__ import annotations

import itertools

from .dataset import Dataset

__all__ = ["IterableDataset", "ChainDataset", "get_worker_info", "WorkerInfo"]


class IterableDataset(Dataset):
    """Base class of stream datasets: subclasses define ``__iter__`` (and, optionally,
    ``__len__``). ``a + b`` chains two streams (a ``ChainDataset``).

    Indexing one raises ``TypeError``: an iterable dataset has no ``ds[i]``.
    """

    def __iter__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __iter__ (an "
                                  "IterableDataset yields its samples one by one)")

    def __getitem__(self, index):
        raise TypeError(f"{type(self).__name__} is an IterableDataset: it has no ds[i]; "
                        "iterate it (for sample in ds) or wrap it in a DataLoader")

    def __len__(self):
        raise TypeError(f"{type(self).__name__} is an IterableDataset without __len__: "
                        "a stream has no length unless its class defines one")

    def __add__(self, other):
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Several iterable datasets, one after the other (``itertools.chain`` of them).

    >>> ChainDataset([range(2), range(3)]).__len__()
    5
    """

    def __init__(self, datasets):
        self.datasets = list(datasets)
        for d in self.datasets:
            if not hasattr(d, "__iter__"):
                raise TypeError(f"ChainDataset only chains iterables, got "
                                f"{type(d).__name__}")

    def __iter__(self):
        return itertools.chain.from_iterable(self.datasets)

    def __len__(self):
        return sum(len(d) for d in self.datasets)


class WorkerInfo:
    """What ``get_worker_info`` tells a worker process: ``id``, ``num_workers``, ``seed``,
    ``dataset``. shendu never starts worker processes, so none is ever made by the
    ``DataLoader``; the class is here for code that type-checks against it."""

    def __init__(self, id, num_workers, seed, dataset):  # noqa: A002 - PyTorch's name
        self.id, self.num_workers, self.seed, self.dataset = id, num_workers, seed, dataset

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, "
                f"seed={self.seed}, dataset={type(self.dataset).__name__})")


def get_worker_info():
    """``None``: shendu's ``DataLoader`` loads every batch in the main process, whatever
    ``num_workers`` says, and PyTorch returns ``None`` in the main process too."""
    return None
