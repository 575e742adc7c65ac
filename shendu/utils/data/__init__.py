"""``torch.utils.data`` under its PyTorch path: the same objects as ``shendu.data``.

A PyTorch program that says ``from torch.utils.data import DataLoader, Dataset`` runs
with ``from shendu.utils.data import DataLoader, Dataset``: every name here *is* the
``shendu.data`` one (not a copy), so ``shendu.utils.data.DataLoader is
shendu.data.DataLoader``. The submodules ``dataset``, ``sampler``, ``dataloader`` and
``distributed`` mirror PyTorch's (``from torch.utils.data.sampler import
SubsetRandomSampler`` works too).

>>> import numpy as np
>>> import shendu.utils.data as data
>>> ds = data.TensorDataset(np.arange(6, dtype=np.float32), np.arange(6) % 2)
>>> train, val = data.random_split(ds, [4, 2], generator=0)
>>> [tuple(x.shape) for x, _ in data.DataLoader(train, batch_size=3)]
[(3,), (1,)]
>>> import shendu.data
>>> data.DataLoader is shendu.data.DataLoader
True
"""
from ...data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset,
                     DistributedSampler, IterableDataset, RandomSampler, Sampler,
                     SequentialSampler, Subset, SubsetRandomSampler, TensorDataset,
                     WeightedRandomSampler, WorkerInfo, default_collate, get_worker_info,
                     random_split)
from . import dataloader, dataset, distributed, sampler

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split", "DataLoader", "default_collate", "get_worker_info",
           "WorkerInfo", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "WeightedRandomSampler", "BatchSampler",
           "DistributedSampler"]
