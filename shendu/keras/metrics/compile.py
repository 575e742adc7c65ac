"""``CompileMetrics``: the metrics given to ``compile(metrics=..., weighted_metrics=...)``
held as one metric, as Keras 3 holds them.

``model.metrics`` of a compiled model is ``[loss_tracker, compile_metrics, *your metrics]``
(Keras 3's order). A custom ``train_step`` that ends, as keras.io's guide does, with::

    for metric in self.metrics:
        if metric.name == "loss":
            metric.update_state(loss)
        else:
            metric.update_state(y, y_pred)
    return {m.name: m.result() for m in self.metrics}

updates every compiled metric through this object and returns ``{"loss": ...,
"compile_metrics": {"mae": ...}}``; ``fit`` flattens the nested dict to ``{"loss": ...,
"mae": ...}`` for the progress bar and ``History``, as Keras does.

The metrics are resolved on the first ``update_state``: ``"accuracy"`` becomes binary,
sparse categorical or categorical accuracy from the shapes of ``y_true`` and ``y_pred``.

>>> import numpy as np
>>> cm = CompileMetrics(["mae", "accuracy"], [])
>>> cm.update_state(np.array([[1.0], [0.0]]), np.array([[0.8], [0.4]]))
>>> {k: round(v, 3) for k, v in cm.result().items()}
{'mae': 0.3, 'accuracy': 1.0}
"""
from __future__ import annotations

import numpy as np

from .base import Metric

__all__ = ["CompileMetrics"]


class CompileMetrics(Metric):
    """The compiled metrics of a model, resolved from their specs on the first update.

    Parameters
    ----------
    metrics : list of names, Metric objects or functions, not weighted by ``sample_weight``
    weighted_metrics : the same, weighted by ``sample_weight``
    """

    def __init__(self, metrics, weighted_metrics, name="compile_metrics"):
        super().__init__(name=name)
        self._specs = [(s, False) for s in metrics if s is not None] + \
            [(s, True) for s in weighted_metrics if s is not None]
        self._resolved = None

    @property
    def built(self):
        return self._resolved is not None

    @property
    def metrics(self):
        """The resolved Metric objects (empty before the first ``update_state``)."""
        return [m for m, _ in self._resolved or ()]

    def build(self, y_true_shape, y_pred_shape):
        """Turn the specs into Metric objects; ``"accuracy"`` needs the two shapes."""
        from . import get, resolve_accuracy
        resolved = []
        for spec, weighted in self._specs:
            if isinstance(spec, str) and spec.lower() in ("accuracy", "acc"):
                m = resolve_accuracy(tuple(y_true_shape), tuple(y_pred_shape), name=spec)
            else:
                m = get(spec)
            resolved.append((m, weighted))
        names = [m.name for m, _ in resolved]
        dup = sorted({n for n in names if names.count(n) > 1} | ({"loss"} & set(names)))
        if dup:
            raise ValueError(f"compile(metrics=...): metric names must be unique and differ "
                             f"from 'loss'; repeated: {dup}")
        self._resolved = resolved

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true, y_pred, sample_weight = (_array(a) for a in (y_true, y_pred, sample_weight))
        if self._resolved is None:
            self.build(np.shape(y_true) if y_true is not None else (), np.shape(y_pred))
        for m, weighted in self._resolved:
            m.update_state(y_true, y_pred, sample_weight if weighted else None)

    def result(self):
        """``{metric name: value}`` in the order given to ``compile``."""
        return {m.name: m.result() for m, _ in self._resolved or ()}

    def reset_state(self):
        for m, _ in self._resolved or ():
            m.reset_state()

    def get_config(self):
        return {"name": self.name}


def _array(a):
    from ...autograd.tensor import Tensor
    return a._data if isinstance(a, Tensor) else a
