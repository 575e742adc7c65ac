"""``torch.utils.data.dataloader``: ``DataLoader``, ``default_collate``, ``get_worker_info``.

>>> from shendu.utils.data.dataloader import default_collate
>>> default_collate([1, 2]).tolist()
[1, 2]
"""
from ...data.dataloader import DataLoader, default_collate
from ...data.iterable import get_worker_info

__all__ = ["DataLoader", "default_collate", "get_worker_info"]
