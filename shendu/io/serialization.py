"""safetensors + JSON serialization of nested state (see ``shendu.io``)."""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

_STRUCT_KEY = "shendu.structure"
_FORMAT_KEY = "shendu.format"
_FORMAT = "shendu-state-1"


def _safetensors():
    try:
        import safetensors.numpy as st
    except ImportError:
        raise ImportError("saving and loading weights needs the safetensors package: "
                          "pip install 'shendu[io]' (or pip install safetensors)") from None
    return st


def atomic_write(path, data: bytes):
    """Write ``data`` to ``path`` atomically: temp file in the same folder, fsync, rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:  # pragma: no cover - not every filesystem allows it
        pass


def _to_numpy(x):
    a = x.data if isinstance(x, Tensor) else x
    if backend.get_array_module(a) is not np:
        a = backend.move(a, backend.Device("cpu"))
    return np.require(a, requirements="C")  # keeps 0-d arrays 0-d


def _flatten(obj, prefix, arrays):
    """Replace every array in ``obj`` by ``{"__tensor__": key}`` and collect it."""
    if isinstance(obj, (Tensor, np.ndarray)) or (hasattr(obj, "shape") and hasattr(obj, "dtype")
                                                  and not isinstance(obj, np.generic)):
        key = prefix or "tensor"
        arrays[key] = _to_numpy(obj)
        return {"__tensor__": key}
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"save: dictionary keys must be str or int, got {type(k).__name__}")
            out[("i:" if isinstance(k, int) else "s:") + str(k)] = _flatten(
                v, f"{prefix}.{k}" if prefix else str(k), arrays)
        return {"__dict__": out}
    if isinstance(obj, (list, tuple)):
        items = [_flatten(v, f"{prefix}.{i}" if prefix else str(i), arrays) for i, v in enumerate(obj)]
        return {"__tuple__" if isinstance(obj, tuple) else "__list__": items}
    if isinstance(obj, np.generic):
        obj = obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"save: can't store a {type(obj).__name__}; shendu saves tensors, arrays, "
                    "numbers, strings, booleans, None, and dicts/lists/tuples of them (no pickle)")


def _unflatten(obj, arrays, as_tensor):
    if isinstance(obj, dict):
        if "__tensor__" in obj:
            a = arrays[obj["__tensor__"]]
            return Tensor._make(a) if as_tensor else a
        if "__dict__" in obj:
            return {(int(k[2:]) if k.startswith("i:") else k[2:]): _unflatten(v, arrays, as_tensor)
                    for k, v in obj["__dict__"].items()}
        if "__list__" in obj:
            return [_unflatten(v, arrays, as_tensor) for v in obj["__list__"]]
        if "__tuple__" in obj:
            return tuple(_unflatten(v, arrays, as_tensor) for v in obj["__tuple__"])
        raise ValueError("load: malformed structure in the file's header")
    return obj


def save(obj, path, metadata=None):
    """Save ``obj`` (a state dict or nested dicts/lists of tensors and plain values) to
    ``path`` in the safetensors format, atomically. ``metadata`` adds str->str entries."""
    st = _safetensors()
    arrays = {}
    structure = _flatten(obj, "", arrays)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta[_STRUCT_KEY] = json.dumps(structure)
    meta[_FORMAT_KEY] = _FORMAT
    if not arrays:  # safetensors needs no tensors, but keep files uniform
        arrays["__empty__"] = np.zeros(0, np.float32)
    atomic_write(path, st.save(arrays, metadata=meta))


def _read(path):
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path}")
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"load: {path} is not a safetensors file (only {len(raw)} bytes)")
    header_len = int.from_bytes(raw[:8], "little")
    if header_len > len(raw) - 8 or raw[8:9] != b"{":
        raise ValueError(f"load: {path} is not a safetensors file or is truncated (header of "
                         f"{header_len} bytes announced, file has {len(raw)} bytes)")
    try:
        header = json.loads(raw[8:8 + header_len])
    except ValueError as e:
        raise ValueError(f"load: {path} has a corrupt header: {e}") from None
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    if 8 + header_len + end > len(raw):
        raise ValueError(f"load: {path} is truncated: its header describes {end} bytes of "
                         f"tensor data but only {len(raw) - 8 - header_len} are there")
    st = _safetensors()
    try:
        arrays = st.load(raw)
    except Exception as e:  # safetensors raises its own error type
        raise ValueError(f"load: {path} is not a valid safetensors file: {e}") from None
    meta = header.get("__metadata__") or {}
    return arrays, meta


def load(path, as_tensors=True):
    """Load what ``save`` wrote: tensors come back as Tensors (``as_tensors=False`` for
    NumPy arrays). A plain safetensors file from elsewhere loads as a flat dict."""
    arrays, meta = _read(path)
    arrays.pop("__empty__", None)
    if _STRUCT_KEY not in meta:
        return {k: (Tensor._make(v) if as_tensors else v) for k, v in arrays.items()}
    try:
        structure = json.loads(meta[_STRUCT_KEY])
    except ValueError:
        raise ValueError(f"load: {path} has a corrupt shendu structure entry") from None
    return _unflatten(structure, arrays, as_tensors)


def save_state_dict(state_dict, path, metadata=None):
    """Save a flat mapping name -> tensor/array as a plain safetensors file (readable by
    any safetensors reader, e.g. PyTorch's)."""
    st = _safetensors()
    arrays = {}
    for k, v in state_dict.items():
        if not isinstance(k, str):
            raise TypeError(f"save_state_dict: keys must be strings, got {k!r}")
        arrays[k] = _to_numpy(v)
    atomic_write(path, st.save(arrays, metadata={str(k): str(v) for k, v in (metadata or {}).items()} or None))


def load_state_dict(path, metadata=False):
    """Load a flat safetensors file as a dict name -> NumPy array (and its metadata)."""
    arrays, meta = _read(path)
    arrays.pop("__empty__", None)
    return (arrays, meta) if metadata else arrays
