"""``torch.cuda``'s common calls, on shendu's CuPy backend (see ``shendu.backend``).

shendu runs on the GPU through CuPy (``pip install shendu[cuda]``). Without CuPy or
without a GPU, ``is_available()`` is False and ``device_count()`` is 0, so the usual
device pick works on any machine::

    device = shendu.device("cuda" if shendu.cuda.is_available() else "cpu")

``manual_seed``/``manual_seed_all`` and ``empty_cache`` are silently ignored without a
GPU (as in PyTorch); calls that need a GPU (``synchronize``, ``current_device``,
``get_device_name``, ``set_device``) raise a ``RuntimeError`` that says so.

>>> import shendu
>>> shendu.cuda.is_available() == shendu.cuda_available()
True
>>> shendu.cuda.device_count() >= 0
True
>>> shendu.cuda.manual_seed_all(0)   # fine with or without a GPU
"""
from __future__ import annotations

from . import backend

__all__ = ["is_available", "device_count", "current_device", "set_device",
           "get_device_name", "synchronize", "manual_seed", "manual_seed_all", "empty_cache",
           "memory_allocated"]


def _cupy():
    return backend._cupy


def is_available() -> bool:
    """True when CuPy is installed and sees at least one GPU (``shendu.cuda_available``)."""
    return backend.cuda_available()


def device_count() -> int:
    """The number of GPUs CuPy sees (0 without CuPy or without a GPU)."""
    if not is_available():
        return 0
    return int(_cupy().cuda.runtime.getDeviceCount())


def _require(what):
    if not is_available():
        hint = ("CuPy is not installed (pip install shendu[cuda])" if _cupy() is None
                else "CuPy sees no GPU")
        raise RuntimeError(f"shendu.cuda.{what}: no CUDA device is available: {hint}. "
                           "Check shendu.cuda.is_available() first, or run on 'cpu'")


def _index(device):
    if device is None:
        return int(_cupy().cuda.runtime.getDevice())
    if isinstance(device, int):
        return device
    d = backend.Device(device)
    if d.type != "cuda":
        raise ValueError(f"shendu.cuda: expected a cuda device, got {d}")
    return d.index


def current_device() -> int:
    """The index of the current GPU (CuPy's current device)."""
    _require("current_device")
    return int(_cupy().cuda.runtime.getDevice())


def set_device(device) -> None:
    """Make GPU ``device`` (an int, ``'cuda:N'`` or a ``shendu.device``) the current one."""
    _require("set_device")
    i = _index(device)
    if not 0 <= i < device_count():
        raise ValueError(f"shendu.cuda.set_device: device index {i} is out of range "
                         f"(there are {device_count()} GPUs)")
    _cupy().cuda.Device(i).use()


def get_device_name(device=None) -> str:
    """The GPU's name, e.g. ``'NVIDIA H100 80GB HBM3'``."""
    _require("get_device_name")
    name = _cupy().cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def synchronize(device=None) -> None:
    """Wait until every kernel queued on the GPU has finished (before timing GPU code)."""
    _require("synchronize")
    with _cupy().cuda.Device(_index(device)):
        _cupy().cuda.runtime.deviceSynchronize()


def manual_seed(seed: int) -> None:
    """Seed the GPU random generator only (``shendu.manual_seed`` seeds CPU and GPU).
    Ignored without a GPU, as in PyTorch."""
    if is_available():
        backend.rng._cupy = _cupy().random.default_rng(int(seed))


manual_seed_all = manual_seed  # one generator serves every GPU in shendu


def empty_cache() -> None:
    """Give the GPU memory CuPy holds in its pools but no array uses back to the driver.
    Does nothing without CuPy."""
    if _cupy() is not None:
        _cupy().get_default_memory_pool().free_all_blocks()
        _cupy().get_default_pinned_memory_pool().free_all_blocks()


def memory_allocated(device=None) -> int:
    """Bytes of GPU memory held by arrays (CuPy's pool ``used_bytes``); 0 without CuPy."""
    if _cupy() is None:
        return 0
    return int(_cupy().get_default_memory_pool().used_bytes())
