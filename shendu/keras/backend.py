"""``keras.backend``: the few backend helpers Keras code commonly calls.

>>> from shendu.keras import backend
>>> backend.epsilon(), backend.floatx()
(1e-07, 'float32')
"""
from __future__ import annotations

from .. import backend as _backend
from .layers.base import clear_session

__all__ = ["clear_session", "epsilon", "floatx", "set_floatx", "backend"]

_EPSILON = 1e-7


def epsilon():
    """The fuzz factor Keras adds to avoid dividing by 0 (1e-7)."""
    return _EPSILON


def floatx():
    """The default float dtype's name (``'float32'``)."""
    return str(_backend.get_default_dtype())


def set_floatx(value):
    _backend.set_default_dtype(value)


def backend():
    """The name of the engine under the API."""
    return "shendu"
