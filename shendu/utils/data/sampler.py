"""``torch.utils.data.sampler``: the samplers of ``shendu.data``.

>>> from shendu.utils.data.sampler import SequentialSampler
>>> list(SequentialSampler(range(3)))
[0, 1, 2]
"""
from ...data.dataloader import RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from ...data.samplers import BatchSampler, WeightedRandomSampler

__all__ = ["Sampler", "SequentialSampler", "RandomSampler", "SubsetRandomSampler",
           "WeightedRandomSampler", "BatchSampler"]
