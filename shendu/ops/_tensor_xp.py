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
        "exp": "exp", "log": "log", "log1p": "log1p", "expm1": "expm1",
        "sqrt": "sqrt", "square": "square", "sin": "sin", "cos": "cos",
        "tan": "tan", "tanh": "tanh", "abs": "abs", "sign": "sign",
        "maximum": "maximum", "minimum": "minimum", "where": "where",
        "clip": "clamp", "matmul": "matmul", "einsum": "einsum",
        "tensordot": "tensordot", "broadcast_to": "broadcast_to",
        "expand_dims": "unsqueeze", "swapaxes": "swapaxes", "reshape": "reshape",
        "transpose": "permute_axes", "sum": "sum", "cumsum": "cumsum",
        "flip": "flip", "concatenate": "cat", "stack": "stack", "pad": "pad_np",
        "reciprocal": "reciprocal", "tril": "tril", "triu": "triu",
    }
    for name, fname in names.items():
        fn = getattr(ops, fname, None)
        if fn is not None:
            setattr(TensorNamespace, name, staticmethod(fn))


_cache = {}


def tensor_namespace(xp):
    ns = _cache.get(xp)
    if ns is None:
        if not _cache:
            _bind()
        ns = _cache[xp] = TensorNamespace(xp)
    return ns
