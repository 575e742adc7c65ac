"""More samplers, as in ``torch.utils.data``: ``WeightedRandomSampler`` and ``BatchSampler``.

A sampler decides the order in which a ``DataLoader`` reads the indices of a dataset
(``SequentialSampler``, ``RandomSampler`` and ``SubsetRandomSampler`` live in
``shendu.data.dataloader``). The two here:

* ``WeightedRandomSampler(weights, num_samples)`` draws index ``i`` with probability
  ``weights[i] / sum(weights)``: the usual cure for an unbalanced training set (give
  every sample the weight ``1 / count(its class)`` and each class is drawn equally often).
* ``BatchSampler(sampler, batch_size, drop_last)`` groups the indices of another sampler
  into lists of ``batch_size``: what a ``DataLoader`` does inside, exposed on its own.

>>> import numpy as np
>>> from shendu.data import BatchSampler, SequentialSampler, WeightedRandomSampler
>>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
[[0, 1], [2, 3], [4]]
>>> s = WeightedRandomSampler([0.0, 1.0, 0.0], num_samples=4, generator=0)
>>> list(s)
[1, 1, 1, 1]
"""
from __future__ import annotations

import numbers

import numpy as np

from .dataloader import Sampler
from .dataset import as_generator
from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["WeightedRandomSampler", "BatchSampler"]


def _positive_int(value, owner, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} should be a positive integer value, "
                         f"but got {name}={value!r}")
    return int(value)


class WeightedRandomSampler(Sampler):
    """Draw ``num_samples`` indices ``i`` in ``[0, len(weights))`` with probability
    ``p_i = weights[i] / sum(weights)``, a new draw at each epoch.

    Parameters
    ----------
    weights : sequence, array or Tensor of shape (N,)
        Non-negative, finite, not all zero; they need not sum to 1.
    num_samples : int
        Indices drawn per epoch (the length of an epoch).
    replacement : bool, default True
        True: independent draws, an index may repeat. False: each index at most once
        (then ``num_samples`` can't exceed the number of non-zero weights).
    generator : None, int or numpy.random.Generator
        ``None``: shendu's global generator (``shendu.manual_seed`` repeats the draws).
        An int seeds a private generator once, so epochs still differ.

    >>> w = [1.0, 3.0]                       # index 1 is three times as likely
    >>> s = WeightedRandomSampler(w, num_samples=4000, generator=0)
    >>> counts = np.bincount(s.indices(), minlength=2); round(float(counts[1] / 4000), 2)
    0.75
    """

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        owner = "WeightedRandomSampler"
        self.num_samples = _positive_int(num_samples, owner, "num_samples")
        if not isinstance(replacement, bool):
            raise ValueError(f"{owner}: replacement should be a boolean value, but got "
                             f"replacement={replacement!r}")
        w = weights._data if isinstance(weights, Tensor) else weights
        w = np.asarray(backend.move(w, backend.Device("cpu")) if hasattr(w, "device") else w,
                       dtype=np.float64)
        if w.ndim != 1 or w.size == 0:
            raise ValueError(f"{owner}: weights should be a non-empty 1-D sequence, got shape "
                             f"{w.shape}")
        if not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
            raise ValueError(f"{owner}: weights must be finite, non-negative and not all zero")
        if not replacement and self.num_samples > int(np.count_nonzero(w)):
            raise ValueError(f"{owner}: can't draw {self.num_samples} samples without "
                             f"replacement from {int(np.count_nonzero(w))} non-zero weights")
        self.weights = w
        self.replacement = replacement
        self._fixed = generator is not None
        self.generator = as_generator(generator) if generator is not None else None

    def _rng(self):
        return self.generator if self._fixed else backend.default_generator()

    def indices(self):
        """One epoch's ``num_samples`` indices, int64."""
        p = self.weights / self.weights.sum()
        return self._rng().choice(len(p), size=self.num_samples, replace=self.replacement,
                                  p=p).astype(np.int64)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        return self.num_samples

    def __repr__(self):
        return (f"WeightedRandomSampler({len(self.weights)} weights, "
                f"num_samples={self.num_samples}, replacement={self.replacement})")


class BatchSampler(Sampler):
    """Group the indices of ``sampler`` into lists of ``batch_size`` (the last one shorter
    unless ``drop_last``). Iterating yields ``list[int]``; ``len`` is the number of batches.

    Give it to a ``DataLoader`` as ``batch_sampler=`` (not ``sampler=``: it yields batches,
    not indices).

    >>> from shendu.data import RandomSampler
    >>> b = BatchSampler(RandomSampler(range(10), generator=0), batch_size=4, drop_last=True)
    >>> len(b), [len(x) for x in b]
    (2, [4, 4])
    """

    def __init__(self, sampler, batch_size, drop_last):
        self.batch_size = _positive_int(batch_size, "BatchSampler", "batch_size")
        if not isinstance(drop_last, bool):
            raise ValueError(f"BatchSampler: drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        if isinstance(sampler, BatchSampler):
            raise TypeError("BatchSampler: sampler is already a BatchSampler; give it the "
                            "sampler of single indices")
        self.sampler = sampler
        self.drop_last = drop_last

    def _order(self):
        if isinstance(self.sampler, Sampler):
            return self.sampler.indices()
        return np.fromiter((int(i) for i in self.sampler), dtype=np.int64)

    def batches(self):
        """One epoch's batches as a list of int64 arrays."""
        order = self._order()
        n, bs = len(order), self.batch_size
        stop = n - n % bs if self.drop_last else n
        return [order[i:i + bs] for i in range(0, stop, bs)]

    def indices(self):
        raise TypeError("BatchSampler yields batches of indices, not indices: pass it to "
                        "DataLoader as batch_sampler=..., not sampler=...")

    def __iter__(self):
        for b in self.batches():
            yield b.tolist()

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __repr__(self):
        return (f"BatchSampler({type(self.sampler).__name__}, batch_size={self.batch_size}, "
                f"drop_last={self.drop_last})")
