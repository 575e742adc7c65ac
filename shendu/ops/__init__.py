"""Every op of shendu, one Function per op, grouped by family.

The public functions here are what ``shendu.exp``, ``shendu.nn.functional`` and the
Tensor methods call. Importing this package binds it into ``tensor_methods``.
"""
from .creation import *  # noqa: F401,F403
from .arithmetic import *  # noqa: F401,F403
from .elementwise import *  # noqa: F401,F403
from .trigonometric import *  # noqa: F401,F403
from .special import *  # noqa: F401,F403
from .compare_select import *  # noqa: F401,F403
from .activation import *  # noqa: F401,F403
from .reduce import *  # noqa: F401,F403
from .reduce_minmax import *  # noqa: F401,F403
from .reduce_norm import *  # noqa: F401,F403
from .linalg import *  # noqa: F401,F403
from .shape import *  # noqa: F401,F403
from .rearrange import *  # noqa: F401,F403
from .join import *  # noqa: F401,F403
from .padding import *  # noqa: F401,F403
from .indexing import *  # noqa: F401,F403

import sys as _sys

from ..autograd import tensor_methods as _tensor_methods

# ``from shendu.ops import *`` (as shendu/__init__.py does) exports the ops, not the
# family modules (shendu.shape would otherwise be this package's submodule).
__all__ = sorted({name for module in list(globals().values())
                  if isinstance(module, type(_sys)) and module.__name__.startswith(__name__ + ".")
                  for name in getattr(module, "__all__", ())})

_tensor_methods._ops = _sys.modules[__name__]
