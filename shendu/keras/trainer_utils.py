"""Small helpers of the Keras training loop: verbosity, host copies, logs."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor


def _resolve_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose in (0, 1, 2, True, False):
        return int(verbose)
    raise ValueError(f"verbose must be 'auto', 0, 1 or 2, got {verbose!r}")


def _host(a):
    return a if isinstance(a, np.ndarray) else backend.move(a, backend.Device("cpu"))


def _probs_from_logits(z, kind):
    xp = backend.get_array_module(z)
    if kind == "softmax":
        e = xp.exp(z - z.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return xp.exp(-xp.logaddexp(0, -z))  # sigmoid without overflow


def _flatten(logs):
    """Python numbers for the progress bar and History, sorted by name as Keras's
    ``pythonify_logs``; a nested dict (``compile_metrics``'s result) is opened up."""
    out = {}
    for k, v in sorted(logs.items()):
        if isinstance(v, dict):
            out.update(_flatten(v))
        else:
            out[k] = _py(v)
    return out


def _unpack(data):
    """``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sample_weight)`` -> ``(x, y, sample_weight)``
    (Keras's ``unpack_x_y_sample_weight``)."""
    if isinstance(data, tuple):
        if not 1 <= len(data) <= 3:
            raise ValueError(f"a batch must be x, (x, y) or (x, y, sample_weight), got a tuple "
                             f"of {len(data)}")
        return tuple(data) + (None,) * (3 - len(data))
    return data, None, None


def _raw(a):
    return a._data if isinstance(a, Tensor) else a


def _py(v):
    if isinstance(v, Tensor):
        v = _host(v._data)
    if isinstance(v, np.ndarray):
        return v.tolist() if v.ndim else float(v)
    if isinstance(v, (np.floating, np.integer)):
        return float(v)
    return v
