"""``keras.regularizers``: weight penalties added to the training loss.

``Dense(64, kernel_regularizer=keras.regularizers.l2(1e-4))`` adds ``1e-4 * sum(W**2)`` to
every training step's loss (and to the ``loss`` that ``fit`` reports, as in Keras).

>>> import shendu
>>> from shendu.keras import regularizers
>>> regularizers.l1_l2(l1=0.1, l2=0.5)(shendu.tensor([1.0, -2.0]))
tensor(2.8000)
"""
from __future__ import annotations

__all__ = ["Regularizer", "L1", "L2", "L1L2", "l1", "l2", "l1_l2", "get", "serialize",
           "deserialize"]


class Regularizer:
    """Base class: ``reg(weight)`` returns a scalar Tensor penalty."""

    def __call__(self, x):
        return 0.0

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class L1(Regularizer):
    """``l1 * sum(|x|)``"""

    def __init__(self, l1=0.01):
        self.l1 = float(l1)

    def __call__(self, x):
        return x.abs().sum() * self.l1

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(x**2)`` (Keras's convention: no factor 1/2)."""

    def __init__(self, l2=0.01):
        self.l2 = float(l2)

    def __call__(self, x):
        return (x * x).sum() * self.l2

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """``l1 * sum(|x|) + l2 * sum(x**2)``"""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        out = None
        if self.l1:
            out = x.abs().sum() * self.l1
        if self.l2:
            sq = (x * x).sum() * self.l2
            out = sq if out is None else out + sq
        return out if out is not None else (x * 0).sum()

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


def l1(l1=0.01):  # noqa: D103 - Keras's function names
    return L1(l1)


def l2(l2=0.01):  # noqa: D103
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    """Both penalties (each 0.01 by default, as Keras's ``l1_l2`` function)."""
    return L1L2(l1, l2)


_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}
_NAMES = {"l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str):
        cls = _NAMES.get(identifier.lower()) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown regularizer {identifier!r}; known: l1, l2, l1_l2")
        return cls(l1=0.01, l2=0.01) if cls is L1L2 else cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"regularizer must be a name, a Regularizer or a function, got "
                    f"{type(identifier).__name__}")


def serialize(reg):
    if reg is None:
        return None
    if type(reg).__name__ in _CLASSES and type(reg) is _CLASSES[type(reg).__name__]:
        return {"class_name": type(reg).__name__, "config": reg.get_config()}
    return False  # not serializable


def deserialize(config):
    if config is None:
        return None
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"unknown regularizer in config: {config!r}")
    return _CLASSES[config["class_name"]].from_config(config.get("config") or {})
