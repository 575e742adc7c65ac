"""``shendu.datasets``: the dataset loaders of ``shendu.data.datasets`` under a short name.

>>> import shendu.datasets
>>> shendu.datasets.xor()[0].shape
(4, 2)
"""
from .data.datasets import *  # noqa: F401,F403
from .data.datasets import __all__  # noqa: F401
