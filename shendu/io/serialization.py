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
    a = x._data if isinstance(x, Tensor) else x
    if backend.get_array_module(a) is not np:
        a = backend.move(a, backend.Device("cpu"))
    return np.require(a, requirements="C")  # keeps 0-d arrays 0-d


def _flatten(obj, prefix, arrays):
    """Replace every array in ``obj`` by ``{"__tensor__": key}`` and collect it."""
    if isinstance(obj, (Tensor, np.ndarray)) or (hasattr(obj, "shape") and hasattr(obj, "dtype")
                                                  and not isinstance(obj, np.generic)):
        key = prefix or "tensor"
        arrays[key] = _to_numpy(obj)
        # a NumPy array comes back as a NumPy array (as torch.save/torch.load give it back)
        return {"__ndarray__" if type(obj) is np.ndarray else "__tensor__": key}
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
        if "__ndarray__" in obj:
            return arrays[obj["__ndarray__"]]
        if "__dict__" in obj:
            return {(int(k[2:]) if k.startswith("i:") else k[2:]): _unflatten(v, arrays, as_tensor)
                    for k, v in obj["__dict__"].items()}
        if "__list__" in obj:
            return [_unflatten(v, arrays, as_tensor) for v in obj["__list__"]]
        if "__tuple__" in obj:
            return tuple(_unflatten(v, arrays, as_tensor) for v in obj["__tuple__"])
        raise ValueError("load: malformed structure in the file's header")
    return obj


def _is_file(f):
    return hasattr(f, "write") or hasattr(f, "read")


def save(obj, f, metadata=None):
    """Save ``obj`` (a state dict or nested dicts/lists of tensors and plain values) in the
    safetensors format to ``f``: a path (written atomically) or an open binary file
    object (``open(path, "wb")``, ``io.BytesIO()``), written at its current position.
    ``metadata`` adds str->str entries.

    >>> import io, shendu
    >>> buf = io.BytesIO(); shendu.save({"w": shendu.ones(2)}, buf)
    >>> _ = buf.seek(0); shendu.load(buf)["w"]
    tensor([1., 1.])
    """
    st = _safetensors()
    arrays = {}
    structure = _flatten(obj, "", arrays)
    meta = {str(k): str(v) for k, v in (metadata or {}).items()}
    meta[_STRUCT_KEY] = json.dumps(structure)
    meta[_FORMAT_KEY] = _FORMAT
    if not arrays:  # safetensors needs no tensors, but keep files uniform
        arrays["__empty__"] = np.zeros(0, np.float32)
    data = st.save(arrays, metadata=meta)
    if _is_file(f):
        if not hasattr(f, "write"):
            raise TypeError(f"save: the file object {f!r:.60} has no write(); open it with "
                            "open(path, 'wb')")
        try:
            f.write(data)
        except TypeError:
            raise TypeError("save: the file object must be opened in binary mode "
                            "(open(path, 'wb') or io.BytesIO())") from None
        return
    atomic_write(f, data)


def _read(path):
    if _is_file(path):
        if not hasattr(path, "read"):
            raise TypeError(f"load: the file object {path!r:.60} has no read(); open it "
                            "with open(path, 'rb')")
        raw = path.read()
        if isinstance(raw, str):
            raise TypeError("load: the file object must be opened in binary mode "
                            "(open(path, 'rb') or io.BytesIO(data))")
        raw = bytes(raw)
        path = getattr(path, "name", None) or type(path).__name__
    else:
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


def _locator(map_location):
    """A function Tensor -> Tensor that applies PyTorch's ``map_location`` forms."""
    if map_location is None:
        return None
    if callable(map_location):
        def fn(t):  # torch calls map_location(storage, location); ours are saved from 'cpu'
            out = map_location(t, "cpu")
            return t if out is None else out
        return fn
    if isinstance(map_location, dict):
        target = map_location.get("cpu")
        if target is None:
            return None  # every shendu file holds CPU arrays: nothing to remap
        map_location = target
    try:
        dev = backend.Device(map_location)
    except (ValueError, TypeError):
        raise ValueError(f"load: map_location must be None, 'cpu', 'cuda[:N]', a "
                         f"shendu.device, a dict or a callable, got {map_location!r}") from None
    if dev.type == "cpu":
        return None
    backend.xp_for(dev)  # a clear error when CuPy is missing
    return lambda t: Tensor._make(backend.move(t._data, dev))


def _map_tensors(obj, fn):
    if isinstance(obj, Tensor):
        return fn(obj)
    if isinstance(obj, dict):
        return {k: _map_tensors(v, fn) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_map_tensors(v, fn) for v in obj]
    if isinstance(obj, tuple):
        return tuple(_map_tensors(v, fn) for v in obj)
    return obj


def load(f, map_location=None, weights_only=True, as_tensors=True, **kwargs):
    """Load what ``save`` wrote, from a path or an open binary file object (read from its
    current position). Tensors come back as Tensors (``as_tensors=False``: NumPy arrays);
    NumPy arrays that were saved come back as NumPy arrays, as with ``torch.load``.
    A plain safetensors file from elsewhere loads as a flat dict.

    ``map_location`` takes PyTorch's forms: ``None`` or ``'cpu'`` (shendu files always
    hold CPU arrays), ``'cuda[:N]'`` or a ``shendu.device`` (tensors moved there), a dict
    ``{saved location: target}`` (the ``'cpu'`` entry is used), or a callable
    ``fn(tensor, 'cpu') -> tensor``. ``weights_only`` is accepted with either value:
    shendu never unpickles (the file is safetensors + JSON and loading runs no code), so
    ``weights_only=False`` loads exactly what ``True`` does. ``mmap`` and
    ``pickle_module`` are accepted and ignored, for the same reason.

    >>> import io, shendu
    >>> buf = io.BytesIO(); shendu.save([shendu.zeros(1), "note"], buf); _ = buf.seek(0)
    >>> shendu.load(buf, map_location="cpu", weights_only=False)
    [tensor([0.]), 'note']
    """
    unknown = set(kwargs) - {"mmap", "pickle_module", "encoding"}
    if unknown:
        raise TypeError(f"load() got unexpected keyword arguments {sorted(unknown)}")
    locate = _locator(map_location)
    arrays, meta = _read(f)
    arrays.pop("__empty__", None)
    if _STRUCT_KEY not in meta:
        out = {k: (Tensor._make(v) if as_tensors else v) for k, v in arrays.items()}
    else:
        try:
            structure = json.loads(meta[_STRUCT_KEY])
        except ValueError:
            raise ValueError(f"load: {f} has a corrupt shendu structure entry") from None
        out = _unflatten(structure, arrays, as_tensors)
    if locate is not None and as_tensors:
        out = _map_tensors(out, locate)
    return out


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
