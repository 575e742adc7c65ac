"""The array backend: which array module (NumPy or CuPy) holds a tensor's data,
device strings, dtypes, the default dtype and the random number generator.

This is the only module that imports CuPy. Every op is written once against
``xp``, the array module of its inputs (Chainer's ``get_array_module`` idea)::

    xp = get_array_module(a)      # numpy, or cupy for arrays on the GPU
    y = xp.exp(a)

Example
-------
>>> import shendu
>>> shendu.backend.get_array_module(shendu.zeros(2).data).__name__
'numpy'
"""
from __future__ import annotations

import numpy as np

try:  # CuPy is optional: shendu runs and tests without it.
    import cupy as _cupy  # type: ignore
except Exception:  # pragma: no cover - depends on the machine
    _cupy = None

# ---------------------------------------------------------------- dtypes
float16 = np.dtype(np.float16)
float32 = np.dtype(np.float32)
float64 = np.dtype(np.float64)
int8 = np.dtype(np.int8)
uint8 = np.dtype(np.uint8)
int16 = np.dtype(np.int16)
int32 = np.dtype(np.int32)
int64 = np.dtype(np.int64)
bool_ = np.dtype(np.bool_)
half, float, double, long, int = float16, float32, float64, int64, int32  # PyTorch aliases

_DTYPE_NAMES = {
    "float16": float16, "half": float16, "float32": float32, "float": float32,
    "float64": float64, "double": float64, "int8": int8, "uint8": uint8,
    "int16": int16, "int32": int32, "int": int32, "int64": int64, "long": int64,
    "bool": bool_,
}

_default_dtype = float32


def to_dtype(dtype) -> np.dtype:
    """Turn ``shendu.float32``, ``np.float32``, ``'float32'``, ``float``, ``torch``-style
    names and the like into a NumPy dtype. Raises ``TypeError`` for anything else."""
    if dtype is None:
        return _default_dtype
    if isinstance(dtype, str):
        name = dtype.replace("torch.", "").replace("shendu.", "")
        if name in _DTYPE_NAMES:
            return _DTYPE_NAMES[name]
    if dtype is builtins_float:
        return _default_dtype
    if dtype is builtins_int:
        return int64
    if dtype is builtins_bool:
        return bool_
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}; use one of {sorted(_DTYPE_NAMES)}") from None


import builtins as _builtins  # noqa: E402  (names shadowed above: float, int)

builtins_float, builtins_int, builtins_bool = _builtins.float, _builtins.int, _builtins.bool


def set_default_dtype(dtype) -> None:
    """Set the dtype of new floating tensors (``float32`` unless changed).

    >>> shendu.set_default_dtype(shendu.float64); shendu.set_default_dtype(shendu.float32)
    """
    global _default_dtype
    d = to_dtype(dtype)
    if d.kind != "f":
        raise TypeError(f"set_default_dtype expects a floating dtype, got {d}")
    _default_dtype = d


def get_default_dtype() -> np.dtype:
    """The dtype of new floating tensors (float32 unless ``set_default_dtype`` changed it)."""
    return _default_dtype


# --------------------------------------------------------------- devices
class Device:
    """A device: ``"cpu"`` (NumPy) or ``"cuda"`` / ``"cuda:N"`` (CuPy)."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu"):
        if isinstance(spec, Device):
            self.type, self.index = spec.type, spec.index
            return
        spec = str(spec)
        kind, _, idx = spec.partition(":")
        if kind not in ("cpu", "cuda"):
            raise ValueError(f"unknown device {spec!r}: expected 'cpu', 'cuda' or 'cuda:N'")
        self.type = kind
        self.index = _builtins.int(idx) if idx else (0 if kind == "cuda" else None)

    def __eq__(self, other):
        try:
            other = Device(other)
        except (ValueError, TypeError):
            return NotImplemented
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        return f"device(type='{self.type}'" + ("" if self.index is None else f", index={self.index}") + ")"


device = Device


def cuda_available() -> bool:
    """True when CuPy is installed and sees at least one GPU."""
    if _cupy is None:
        return False
    try:
        return _cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # pragma: no cover
        return False


def get_array_module(*arrays):
    """``cupy`` if any argument is a CuPy array, else ``numpy``."""
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return np


def xp_for(dev: Device):
    """The array module that stores data on ``dev``."""
    if dev.type == "cpu":
        return np
    if _cupy is None:
        raise RuntimeError(
            "device 'cuda' needs CuPy: install it with `pip install shendu[cuda]` "
            "(or the cupy-cudaXXx wheel matching your CUDA), or use device='cpu'")
    return _cupy


def device_of(array) -> Device:
    """The device holding ``array``."""
    if _cupy is not None and isinstance(array, _cupy.ndarray):
        return Device(f"cuda:{array.device.id}")
    return Device("cpu")


def move(array, dev: Device):
    """Copy ``array`` to device ``dev`` (no copy when it is already there)."""
    if device_of(array) == dev:
        return array
    if dev.type == "cpu":
        return _cupy.asnumpy(array)
    xp = xp_for(dev)
    with xp.cuda.Device(dev.index):
        return xp.asarray(array)


# ------------------------------------------------------------------ RNG
class _RNG:
    """One seeded generator per array module, so ``manual_seed`` repeats every random op."""

    def __init__(self):
        self.seed(None)

    def seed(self, seed):
        self.initial_seed = seed
        self.numpy = np.random.default_rng(seed)
        self._cupy = None

    def for_xp(self, xp):
        if xp is np:
            return self.numpy
        if self._cupy is None:
            self._cupy = xp.random.default_rng(self.initial_seed)
        return self._cupy


rng = _RNG()


def manual_seed(seed: int):
    """Seed every random op in shendu (tensors, dropout, init, shuffling).

    >>> _ = shendu.manual_seed(0); a = shendu.rand(2)
    >>> _ = shendu.manual_seed(0); bool((a == shendu.rand(2)).all())
    True
    """
    rng.seed(_builtins.int(seed))
    return rng


def default_generator(xp=np):
    """The global NumPy (or CuPy) ``Generator`` seeded by ``manual_seed``."""
    return rng.for_xp(xp)
