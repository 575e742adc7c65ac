"""``torch.utils.data.dataset``: the dataset classes of ``shendu.data``.

>>> from shendu.utils.data.dataset import Subset
>>> len(Subset(list(range(5)), [0, 2]))
2
"""
from ...data.dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from ...data.iterable import ChainDataset, IterableDataset

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "random_split"]
