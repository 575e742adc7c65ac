"""``torch.utils.data.distributed``: ``DistributedSampler`` (see ``shendu.data.distributed``).

>>> from shendu.utils.data.distributed import DistributedSampler
>>> list(DistributedSampler(range(4), num_replicas=2, rank=0, shuffle=False))
[0, 2]
"""
from ...data.distributed import DistributedSampler

__all__ = ["DistributedSampler"]
