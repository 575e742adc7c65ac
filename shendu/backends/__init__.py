"""``shendu.backends``: PyTorch's ``torch.backends`` flags, for programs that set or query
them (``torch.backends.cudnn.benchmark = True``, ``torch.backends.mps.is_available()``).

shendu runs on NumPy (or CuPy) and has neither cuDNN autotuning nor Apple's MPS: the flags
are kept so such programs run, and have no effect.

>>> import shendu.backends
>>> shendu.backends.mps.is_available(), shendu.backends.cudnn.is_available()
(False, False)
"""
from . import cudnn, mps

__all__ = ["cudnn", "mps"]
