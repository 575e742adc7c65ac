"""shendu (深度, "deep"): a deep-learning framework written from scratch on NumPy.

>>> import shendu
>>> x = shendu.tensor([1.0, 2.0], requires_grad=True)
>>> (x ** 2).sum().backward(); x.grad
tensor([2., 4.])
"""
__version__ = "0.1.0"

from . import backend
from .backend import (float16, float32, float64, int8, uint8, int16, int32, int64, bool_,
                      half, double, long, device, Device, manual_seed, set_default_dtype,
                      get_default_dtype, cuda_available)
from .autograd import (Tensor, Function, no_grad, enable_grad, set_grad_enabled,
                       is_grad_enabled)
from . import autograd
from . import ops
from .ops import *  # noqa: F401,F403  every op as shendu.<name>
from . import io
from . import data, datasets, distributed, distributions, nn, optim
from . import keras, metrics, rl, viz
from . import accelerator, cuda, multiprocessing, utils
from .io import save, load
from ._torch_extras import *  # noqa: F401,F403  is_tensor, set_printoptions, Generator...
from ._torch_forms import *  # noqa: F401,F403  torch.abs_(x), torch.permute_copy...


def __getattr__(name):
    """``shendu.<a torch name shendu lacks>``: an AttributeError naming the PyTorch API
    and what to use instead (shendu/_torch_coverage.py)."""
    from ._torch_coverage import missing
    raise missing("torch", name)


bool = bool_  # noqa: A001  (shendu.bool, like torch.bool)
float = float32  # noqa: A001
int = int32  # noqa: A001
