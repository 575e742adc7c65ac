"""Saving and loading without pickle: safetensors for arrays, JSON for structure.

``shendu.save(obj, path)`` stores a state dict (``model.state_dict()``), an optimizer's
state dict, or any nesting of dicts/lists holding tensors, arrays, numbers, strings,
booleans and None. Arrays go into a safetensors file; the nesting and the plain values
go into its JSON header. Loading parses that file and never runs code.

Writes are atomic: a temporary file in the same folder is written, flushed, fsynced and
renamed over the target, so a crash mid-save leaves the old file intact.

>>> import shendu, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "w.safetensors")
>>> shendu.save({"weight": shendu.ones(2, 3), "step": 10}, path)
>>> sorted(shendu.load(path).items(), key=str)[0]
('step', 10)
"""
from . import onnx
from .onnx import export as export_onnx
from .serialization import atomic_write, load, load_state_dict, save, save_state_dict

__all__ = ["save", "load", "save_state_dict", "load_state_dict", "atomic_write", "onnx",
           "export_onnx"]
