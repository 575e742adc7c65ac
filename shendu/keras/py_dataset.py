"""``keras.utils.PyDataset`` (Keras 2's ``Sequence``): a dataset of whole batches.

Subclass it, define ``__len__`` (the number of batches) and ``__getitem__(index)`` (batch
``index`` as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``), and pass it to ``fit``,
``evaluate`` or ``predict`` in place of arrays. ``fit`` asks for the batches in order
``0 .. len - 1`` every epoch and calls ``on_epoch_end()`` after each (shuffle there).
``workers`` and ``use_multiprocessing`` are accepted for Keras's signature; shendu reads
the batches in the training process.

>>> import numpy as np
>>> class Squares(PyDataset):
...     def __init__(self, n, batch_size, **kwargs):
...         super().__init__(**kwargs)
...         self.x = np.arange(n, dtype="float32")[:, None]
...         self.batch_size = batch_size
...     def __len__(self):
...         return -(-len(self.x) // self.batch_size)
...     def __getitem__(self, i):
...         x = self.x[i * self.batch_size:(i + 1) * self.batch_size]
...         return x, x ** 2
>>> data = Squares(10, 4)
>>> len(data), [b[0].shape[0] for b in data]
(3, [4, 4, 2])
"""
from __future__ import annotations

__all__ = ["PyDataset", "Sequence"]


class PyDataset:
    """Base class of batch datasets; see the module docstring."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = workers
        self.use_multiprocessing = use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), "
                                  "returning batch number `index`")

    def __len__(self):
        n = self.num_batches
        if n is None:
            raise TypeError(f"{type(self).__name__} must define __len__ (its number of "
                            "batches) or a num_batches property")
        return n

    @property
    def num_batches(self):
        """The number of batches (``None`` when the subclass defines ``__len__``)."""
        if type(self).__len__ is not PyDataset.__len__:
            return type(self).__len__(self)
        return None

    def on_epoch_begin(self):
        """Called at the start of every epoch of ``fit``."""

    def on_epoch_end(self):
        """Called at the end of every epoch of ``fit`` (shuffle the batches here)."""

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]


Sequence = PyDataset  # Keras 2's name
