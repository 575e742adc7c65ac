"""Data: datasets, the mini-batch ``DataLoader``, preprocessing and dataset loaders.

>>> import numpy as np, shendu
>>> from shendu.data import DataLoader, TensorDataset, Standardize
>>> from shendu.datasets import moons
>>> X, y = moons(100, noise=0.1, seed=0)
>>> X = Standardize().fit_transform(X)
>>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
>>> xb, yb = next(iter(loader)); xb.shape, yb.dtype
((32, 2), dtype('int64'))
"""
from . import augment, datasets, text, transforms
from .dataloader import (DataLoader, RandomSampler, Sampler, SequentialSampler,
                         SubsetRandomSampler, default_collate)
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .distributed import DistributedSampler
from .transforms import Compose, MinMaxNormalize, Standardize, one_hot, train_test_split
from .samplers import BatchSampler, WeightedRandomSampler
from .iterable import ChainDataset, IterableDataset, WorkerInfo, get_worker_info

__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split",
           "DataLoader", "default_collate", "Sampler", "SequentialSampler", "RandomSampler",
           "SubsetRandomSampler", "DistributedSampler", "Standardize", "MinMaxNormalize", "Compose", "one_hot",
           "train_test_split", "datasets", "transforms", "text", "augment",
           "WeightedRandomSampler", "BatchSampler", "IterableDataset", "ChainDataset",
           "WorkerInfo", "get_worker_info"]
