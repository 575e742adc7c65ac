"""``keras.ops``: Keras 3's backend-agnostic math, over shendu Tensors.

Keras 3 code writes its losses, layers and custom steps with ``keras.ops`` (``ops.mean``,
``ops.square``, ``ops.exp``, ``ops.concatenate``, ``ops.conv`` ...); with
``from shendu.keras import ops`` the same code runs on shendu, and everything it computes
stays on shendu's autograd graph, so ``loss.backward()`` differentiates it::

    z_mean, z_log_var = encoder(x)
    kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
    kl_loss = ops.mean(ops.sum(kl, axis=1))

Keras's semantics are kept: argument names and defaults, ``axis=None`` for all axes,
``keepdims``, float32 for Python floats and for math on integers, int32 for Python ints,
``argmax`` and ``arange``; ``channels_last`` images. Submodules as in Keras:
``ops.nn``, ``ops.numpy``, ``ops.image``, ``ops.linalg``, ``ops.core``. Control flow
(``cond``, ``fori_loop``, ``while_loop``, ``scan``) runs eagerly.

The few Keras names not provided are in ``NOT_COVERED`` with the reason; using one raises
an AttributeError that says it (``docs/porting.md`` has the coverage table).

>>> import shendu
>>> from shendu.keras import ops
>>> x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
>>> loss = ops.mean(ops.square(x))
>>> loss.backward()
>>> x.grad.tolist()
[[0.5, 1.0], [1.5, 2.0]]
"""
from . import _core as core
from . import _nn as nn
from . import image, linalg, numpy
from ._core import *  # noqa: F401,F403
from ._coverage import NOT_COVERED
from ._ctc import *  # noqa: F401,F403
from ._nn import *  # noqa: F401,F403
from ._numpy_extra import *  # noqa: F401,F403
from ._numpy_math import *  # noqa: F401,F403
from ._numpy_reduce import *  # noqa: F401,F403
from ._numpy_search import *  # noqa: F401,F403
from ._numpy_shape import *  # noqa: F401,F403
from ._core import __all__ as _a1
from ._nn import __all__ as _a2
from ._numpy_extra import __all__ as _a3
from ._numpy_math import __all__ as _a4
from ._numpy_reduce import __all__ as _a5
from ._numpy_search import __all__ as _a6
from ._numpy_shape import __all__ as _a7
from ._ctc import __all__ as _a8

__all__ = sorted(set(_a1 + _a2 + _a3 + _a4 + _a5 + _a6 + _a7 + _a8)) + \
    ["core", "nn", "numpy", "image", "linalg", "NOT_COVERED"]


def __getattr__(name):
    if name in NOT_COVERED:
        raise AttributeError(f"keras.ops.{name} is not available in shendu.keras: "
                             f"{NOT_COVERED[name]}")
    raise AttributeError(f"module 'shendu.keras.ops' has no attribute {name!r}")
