"""Grad mode: whether operations record a graph for backward.

``no_grad()``, ``enable_grad()`` and ``set_grad_enabled(mode)`` work as context
managers and as decorators. Under ``no_grad`` no graph is recorded at all, so
inference pays nothing for autograd.

>>> import shendu
>>> x = shendu.ones(2, requires_grad=True)
>>> with shendu.no_grad():
...     y = x * 2
>>> y.requires_grad
False
"""
from __future__ import annotations

import functools


class _State:
    enabled = True


_state = _State()


def is_grad_enabled() -> bool:
    """True when new operations record a graph."""
    return _state.enabled


class set_grad_enabled:
    """Turn graph recording on or off; a context manager, a decorator, or a plain call.

    >>> _ = shendu.set_grad_enabled(False); shendu.is_grad_enabled()
    False
    >>> _ = shendu.set_grad_enabled(True)
    """

    def __init__(self, mode: bool = True):
        self.prev = _state.enabled
        self.mode = bool(mode)
        _state.enabled = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode
        _state.enabled = self.prev  # used as a decorator: undo the call-time switch

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = prev

        return wrapper


class _Mode:
    mode = True

    def __enter__(self):
        self.prev = _state.enabled
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            prev = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = prev

        return wrapper


class no_grad(_Mode):
    """Context manager / decorator: record no graph inside (inference, parameter updates)."""

    mode = False


class enable_grad(_Mode):
    """Context manager / decorator: record a graph inside, even within ``no_grad``."""

    mode = True
