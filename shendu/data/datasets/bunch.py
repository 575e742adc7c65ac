"""``Bunch``: a dict whose keys are also attributes, what scikit-learn's loaders return.

>>> b = Bunch(data=[1, 2], target=[0, 1]); b.data, b["target"]
([1, 2], [0, 1])
"""
from __future__ import annotations

__all__ = ["Bunch"]


class Bunch(dict):
    """A dict with attribute access: ``b.data`` is ``b["data"]``.

    Loaders fill ``data``, ``target``, ``feature_names``, ``target_names`` and ``DESCR``.
    """

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"Bunch has no field {key!r}; fields: {sorted(self)}") from None

    def __setattr__(self, key, value):
        self[key] = value

    def __delattr__(self, key):
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __dir__(self):
        return list(self.keys()) + list(super().__dir__())

    def __repr__(self):
        parts = []
        for k, v in self.items():
            shape = getattr(v, "shape", None)
            parts.append(f"{k}=<{type(v).__name__} {shape}>" if shape is not None
                         else f"{k}=<{type(v).__name__}>")
        return "Bunch(" + ", ".join(parts) + ")"
