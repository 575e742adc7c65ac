"""Utilities around training that are not part of the model code itself.

* ``shendu.utils.tensorboard``: ``SummaryWriter`` with the names of PyTorch's
  ``torch.utils.tensorboard``, writing TensorBoard event files through ``tensorboardX``
  (the optional ``tensorboard`` extra), and ``read_events`` to read them back.

Submodules are imported on first use, so ``import shendu.utils`` costs nothing:

>>> import shendu.utils
>>> from shendu.utils.tensorboard import SummaryWriter
>>> SummaryWriter.__name__
'SummaryWriter'
"""
__all__ = ["tensorboard"]


def __getattr__(name):
    if name == "tensorboard":
        import importlib
        return importlib.import_module(f"{__name__}.tensorboard")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
