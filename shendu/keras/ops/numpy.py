"""``keras.ops.numpy``: the NumPy-style functions of ``keras.ops`` in one namespace."""
from ._core import *  # noqa: F401,F403
from ._numpy_extra import *  # noqa: F401,F403
from ._numpy_math import *  # noqa: F401,F403
from ._numpy_reduce import *  # noqa: F401,F403
from ._numpy_search import *  # noqa: F401,F403
from ._numpy_shape import *  # noqa: F401,F403
