"""``torch.nn.parallel``: ``DataParallel`` (one device) and ``DistributedDataParallel``.

PyTorch's ``DataParallel`` splits each batch over several GPUs of one process. shendu
runs a model on one device, so here ``DataParallel`` is a pass-through wrapper: it
calls the wrapped module on the whole batch, on the module's device. What a program
sees stays PyTorch's: the model is ``.module``, and the state-dict keys carry the
``module.`` prefix, so checkpoints load into PyTorch's ``DataParallel`` and back.

For real data parallelism use ``DistributedDataParallel`` (re-exported from
``shendu.distributed``): several processes through MPI, gradients averaged by an
allreduce.

>>> import shendu
>>> from shendu import nn
>>> model = nn.parallel.DataParallel(nn.Linear(3, 2))
>>> model(shendu.ones(4, 3)).shape
(4, 2)
>>> list(model.state_dict())
['module.weight', 'module.bias']
"""
from __future__ import annotations

import warnings

from .. import backend
from .module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


def _device_index(d):
    if isinstance(d, int) and not isinstance(d, bool):
        return d
    dev = backend.Device(d)
    return dev.index if dev.type == "cuda" else -1


class DataParallel(Module):
    """Wrap ``module`` as PyTorch's ``DataParallel`` does, and run it on one device.

    Parameters
    ----------
    module : Module
        The model; ``forward(*inputs)`` of the wrapper is ``module(*inputs)``.
    device_ids : list of int or devices, optional
        Accepted for PyTorch's signature. With more than one id a ``UserWarning`` says
        that the batch is *not* split (shendu computes it on the module's device).
    output_device : int or device, optional
        Accepted; the output stays where the module computed it.
    dim : int, default 0
        The batch dimension PyTorch would scatter along (checked, otherwise unused).

    The wrapper has no parameters of its own: ``parameters()`` are the module's and
    ``state_dict()`` keys are ``'module.' + key``.
    """

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: module must be a shendu.nn.Module, got "
                            f"{type(module).__name__}")
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"DataParallel: dim must be an int, got {dim!r}")
        ids = None if device_ids is None else [_device_index(d) for d in device_ids]
        if ids is not None and len(ids) > 1:
            warnings.warn(f"DataParallel: device_ids={list(device_ids)} asks for "
                          f"{len(ids)} devices, but shendu runs the module on one device "
                          "(the batch is not split). For several GPUs or machines use "
                          "shendu.distributed.DistributedDataParallel", UserWarning,
                          stacklevel=2)
        self.module = module
        self.device_ids = ids
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)

    def extra_repr(self):
        return "" if self.device_ids is None else f"device_ids={self.device_ids}"


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """The functional form: ``module(*inputs, **module_kwargs)`` on one device.

    >>> import shendu
    >>> from shendu import nn
    >>> data_parallel(nn.Identity(), shendu.ones(2)).tolist()
    [1.0, 1.0]
    """
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))


def __getattr__(name):
    # imported on first use: shendu.distributed itself imports shendu.nn
    if name == "DistributedDataParallel":
        from ..distributed import DistributedDataParallel
        return DistributedDataParallel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
