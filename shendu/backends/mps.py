"""``shendu.backends.mps``: torch.backends.mps's queries; shendu has no Metal backend.

>>> import shendu.backends.mps as mps
>>> mps.is_available(), mps.is_built()
(False, False)
"""


def is_available() -> bool:
    """False: shendu has no Apple MPS device (use ``shendu.device('cpu')``)."""
    return False


def is_built() -> bool:
    """False: shendu was not built with MPS."""
    return False
