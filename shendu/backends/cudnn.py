"""``shendu.backends.cudnn``: torch.backends.cudnn's flags, accepted and without effect
(shendu does not use cuDNN).

>>> import shendu.backends.cudnn as cudnn
>>> cudnn.benchmark = True; cudnn.is_available()
False
"""
enabled = True        # torch.backends.cudnn.enabled
benchmark = False     # torch.backends.cudnn.benchmark: autotuning; nothing to tune here
deterministic = False  # torch.backends.cudnn.deterministic: shendu's ops are deterministic


def is_available() -> bool:
    """False: shendu has no cuDNN kernels."""
    return False


def version():
    """None, as torch returns when cuDNN is not available."""
    return None
