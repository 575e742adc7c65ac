"""``DistributedSampler``: each rank of a data-parallel run reads its own slice of the data.

PyTorch's semantics. One epoch's order is a permutation of ``range(N)`` seeded by
``seed + epoch`` (the same on every rank), padded to a multiple of the number of ranks
``R`` by repeating its first indices (or cut down with ``drop_last=True``); rank ``r``
takes every ``R``-th index starting at ``r``. The slices are disjoint, together they
cover the dataset, and every rank gets the same number of samples, so every rank runs
the same number of batches (each batch's backward is a collective call)::

    num_samples = ceil(N / R)               (drop_last=False: pad up)
                  floor(N / R)              (drop_last=True, N % R != 0: drop the rest)
    rank r reads  order[r], order[r + R], order[r + 2R], ...

>>> from shendu.data.distributed import DistributedSampler
>>> data = list(range(10))
>>> [list(DistributedSampler(data, num_replicas=3, rank=r, shuffle=False)) for r in range(3)]
[[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
"""
from __future__ import annotations

import math

import numpy as np

from .dataloader import Sampler

__all__ = ["DistributedSampler"]


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"DistributedSampler: {name} must be an integer >= {minimum}, got "
                         f"{value!r}")
    return int(value)


class DistributedSampler(Sampler):
    """The indices of one rank's slice of ``dataset``, in a new shared order each epoch.

    Parameters
    ----------
    dataset : anything with ``len()``
    num_replicas : int, optional
        The number of ranks (default: ``shendu.distributed.get_world_size()``).
    rank : int, optional
        This rank, ``0 <= rank < num_replicas`` (default: ``distributed.get_rank()``).
    shuffle : bool, default True
        A new permutation each epoch, from ``seed + epoch``; False keeps ``0 .. N-1``.
    seed : int, default 0
        Must be the same on every rank (the slices are cut from one shared order).
    drop_last : bool, default False
        False: repeat the first indices so that every rank gets ``ceil(N / R)`` samples.
        True: drop the tail so that every rank gets ``floor(N / R)`` samples.

    Call ``set_epoch(epoch)`` at the start of every epoch, before iterating the
    DataLoader, or every epoch repeats the first one's order.

    >>> s = DistributedSampler(range(8), num_replicas=2, rank=1, seed=0)
    >>> s.set_epoch(0); a = list(s)
    >>> s.set_epoch(1); b = list(s)
    >>> len(a), len(b), a != b
    (4, 4, True)
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            # distributed.py sits above data/ (it wraps nn.Modules): imported only here
            from .. import distributed
            num_replicas = distributed.get_world_size() if num_replicas is None \
                else num_replicas
            rank = distributed.get_rank() if rank is None else rank
        self.num_replicas = _check_int(num_replicas, "num_replicas", 1)
        self.rank = _check_int(rank, "rank", 0)
        if self.rank >= self.num_replicas:
            raise ValueError(f"DistributedSampler: rank must be in 0..{self.num_replicas - 1}"
                             f" (num_replicas={self.num_replicas}), got {self.rank}")
        try:
            n = len(dataset)
        except TypeError:
            raise TypeError(f"DistributedSampler needs a dataset with a length, got "
                            f"{type(dataset).__name__}") from None
        self.dataset = dataset
        self.shuffle = bool(shuffle)
        self.seed = _check_int(seed, "seed", 0)
        self.drop_last = bool(drop_last)
        self.epoch = 0
        if self.drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def set_epoch(self, epoch):
        """Use the order of epoch ``epoch`` (call it with the same value on every rank)."""
        self.epoch = _check_int(epoch, "epoch", 0)

    def indices(self):
        """This rank's indices for the current epoch, an int64 array of ``len(self)``."""
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng(self.seed + self.epoch).permutation(n)
        else:
            order = np.arange(n)
        order = order.astype(np.int64, copy=False)
        if self.total_size > n:  # pad by repeating the order from its start
            order = np.resize(order, self.total_size) if n else order
        else:
            order = order[:self.total_size]
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"DistributedSampler(num_samples={self.num_samples}, rank={self.rank}, "
                f"num_replicas={self.num_replicas}, shuffle={self.shuffle}, seed={self.seed}, "
                f"drop_last={self.drop_last})")
