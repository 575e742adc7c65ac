"""A NumPy-like namespace whose functions build graph Tensors.

In double backward (``create_graph=True``) the engine hands a Function's backward
``ctx.xp = tensor_namespace(xp)``, so the very same code ``g * xp.cos(x)`` that
runs on arrays now records its own graph. Only names listed here differentiate;
anything else (``xp.pi``, ``xp.float32``) comes from the array module as is.
"""
from __future__ import annotations

from ..autograd.tensor import Tensor


class TensorNamespace:
    def __init__(self, xp):
        self._xp = xp

    def __getattr__(self, name):
        return getattr(self._xp, name)

    # creation: constants, no graph
    def zeros_like(self, x, dtype=None):
        return Tensor._make(self._xp.zeros(x.shape, dtype or x.dtype))

    def ones_like(self, x, dtype=None):
        return Tensor._make(self._xp.ones(x.shape, dtype or x.dtype))

    def asarray(self, x, dtype=None):
        return x if isinstance(x, Tensor) else Tensor._make(self._xp.asarray(x, dtype=dtype))


def _bind():
    """Attach every differentiable function of ``shendu.ops`` under its NumPy name."""
    from .. import ops
    names = {
        "exp": ops.exp, "log": ops.log, "log1p": ops.log1p, "expm1": ops.expm1,
        "sqrt": ops.sqrt, "square": ops.square, "sin": ops.sin, "cos": ops.cos,
        "tan": ops.tan, "tanh": ops.tanh, "abs": ops.abs, "sign": ops.sign,
        "maximum": ops.maximum, "minimum": ops.minimum, "where": ops.where,
        "clip": ops.clamp, "matmul": ops.matmul, "einsum": ops.einsum,
        "tensordot": ops.tensordot, "broadcast_to": ops.broadcast_to,
        "expand_dims": ops.unsqueeze, "swapaxes": ops.swapaxes, "reshape": ops.reshape,
        "transpose": ops.permute_axes, "sum": ops.sum, "cumsum": ops.cumsum,
        "flip": ops.flip, "concatenate": ops.cat, "stack": ops.stack, "pad": ops.pad_np,
        "reciprocal": ops.reciprocal, "tril": ops.tril, "triu": ops.triu,
    }
    for name, fn in names.items():
        setattr(TensorNamespace, name, staticmethod(fn))


_cache = {}


def tensor_namespace(xp):
    ns = _cache.get(xp)
    if ns is None:
        if not _cache:
            _bind()
        ns = _cache[xp] = TensorNamespace(xp)
    return ns
