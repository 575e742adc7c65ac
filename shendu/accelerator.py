"""``torch.accelerator``: the device-agnostic way PyTorch's examples pick a device.

shendu's one accelerator is CUDA through CuPy (``shendu.cuda``). Without it,
``is_available()`` is False and ``current_accelerator()`` is ``None``, so the examples'
idiom falls back to the CPU::

    device = (shendu.accelerator.current_accelerator()
              if shendu.accelerator.is_available() else shendu.device("cpu"))

As in PyTorch, the calls that need a device (``current_device_index``,
``set_device_index``, ``synchronize``) raise ``RuntimeError`` when there is none.

>>> import shendu
>>> shendu.accelerator.is_available() == shendu.cuda.is_available()
True
>>> acc = shendu.accelerator.current_accelerator()
>>> acc is None or acc.type == "cuda"
True
"""
from __future__ import annotations

from . import backend, cuda

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "current_device_idx", "set_device_idx", "synchronize",
           "empty_cache", "memory_allocated"]


def is_available() -> bool:
    """True when an accelerator (a GPU seen by CuPy) can be used."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False):
    """``shendu.device('cuda:N')`` (N: the current GPU) when CuPy sees a GPU, else
    ``None``. ``check_available`` is accepted for PyTorch's signature: shendu never
    reports an accelerator it can't use, so the answer is the same either way."""
    if not is_available():
        return None
    return backend.Device(f"cuda:{cuda.current_device()}")


def device_count() -> int:
    """The number of accelerator devices (0 without one)."""
    return cuda.device_count()


def _require(what):
    if not is_available():
        raise RuntimeError(f"shendu.accelerator.{what}: cannot access accelerator device when "
                           "none is available (no GPU seen by CuPy); use shendu.device('cpu')")


def current_device_index() -> int:
    """The index of the current accelerator device."""
    _require("current_device_index")
    return cuda.current_device()


def set_device_index(device) -> None:
    """Make device ``device`` (an int, ``'cuda:N'`` or a ``shendu.device``) current."""
    _require("set_device_index")
    cuda.set_device(device)


current_device_idx, set_device_idx = current_device_index, set_device_index  # old names


def synchronize(device=None) -> None:
    """Wait for the work queued on the accelerator to finish."""
    _require("synchronize")
    cuda.synchronize(device)


def empty_cache() -> None:
    """Release cached, unused accelerator memory (nothing to do without one)."""
    cuda.empty_cache()


def memory_allocated(device=None) -> int:
    """Bytes of accelerator memory held by arrays (0 without one)."""
    return cuda.memory_allocated(device)
