"""Utilities around training that are not part of the model code itself.

* ``shendu.utils.tensorboard``: ``SummaryWriter`` with the names of PyTorch's
  ``torch.utils.tensorboard``, writing TensorBoard event files through ``tensorboardX``
  (the optional ``tensorboard`` extra), and ``read_events`` to read them back.
* ``shendu.utils.data``: ``torch.utils.data``'s path to ``shendu.data`` (``Dataset``,
  ``DataLoader``, ``random_split``, ``Subset``, the samplers ...), the same objects.

Submodules are imported on first use, so ``import shendu.utils`` costs nothing:

>>> import shendu.utils
>>> from shendu.utils.tensorboard import SummaryWriter
>>> SummaryWriter.__name__
'SummaryWriter'
"""
__all__ = ["tensorboard", "data"]


def __getattr__(name):
    if name in ("tensorboard", "data"):
        import importlib
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
