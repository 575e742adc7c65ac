"""``torch.onnx``: so that ``import torch.onnx`` / ``torch.onnx.export(model, args, f)``
work after ``import shendu as torch``. The exporter is ``shendu.io.onnx`` (traced export,
checked with ``onnx.checker``; needs the ``onnx`` package: ``pip install 'shendu[onnx]'``).

>>> import shendu.onnx
>>> shendu.onnx.export is shendu.io.onnx.export
True
"""
from .io.onnx import (DEFAULT_OPSET, INSTALL_HINT, export, require_onnx, supported_modules,
                      supported_ops)

__all__ = ["export", "require_onnx", "supported_ops", "supported_modules",
           "DEFAULT_OPSET", "INSTALL_HINT"]
