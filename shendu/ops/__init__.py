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
from .pointwise_extra import *  # noqa: F401,F403
from .linalg_extra import *  # noqa: F401,F403
from .shape_extra import *  # noqa: F401,F403
from .sort_search import *  # noqa: F401,F403
from .cumulative import *  # noqa: F401,F403
from .scattering import *  # noqa: F401,F403
from .random_extra import *  # noqa: F401,F403
from .torch_namespace import *  # noqa: F401,F403
from .ctc import *  # noqa: F401,F403

import sys as _sys

from ..autograd import tensor_methods as _tensor_methods

# ``from shendu.ops import *`` (as shendu/__init__.py does) exports the ops, not the
# family modules (shendu.shape would otherwise be this package's submodule).
__all__ = sorted({name for module in list(globals().values())
                  if isinstance(module, type(_sys)) and module.__name__.startswith(__name__ + ".")
                  for name in getattr(module, "__all__", ()) if name in globals()})

_tensor_methods._ops = _sys.modules[__name__]
_tensor_methods.bind_extra_methods(_tensor_methods.OpMethods)
