"""``keras.ops.linalg``: the linear-algebra functions shendu differentiates (``norm``,
and the products also in ``keras.ops``). Decompositions (``svd``, ``qr``, ``cholesky``,
``eig`` ...) are not provided: shendu has no differentiable decomposition ops; see
``keras.ops.NOT_COVERED`` for the list and the reason.

>>> from shendu.keras import ops
>>> float(ops.linalg.norm(ops.convert_to_tensor([3.0, 4.0])))
5.0
"""
from ._numpy_reduce import norm  # noqa: F401

__all__ = ["norm"]
