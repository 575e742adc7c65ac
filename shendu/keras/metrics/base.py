"""Metric functions (per-sample values on arrays), the ``Metric`` base class, ``Mean``,
``Sum``, ``MeanMetricWrapper`` and the accuracy / error metrics built on it."""
from __future__ import annotations

import math

import numpy as np

from ... import backend
from ...autograd.tensor import Tensor

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "RootMeanSquaredError", "MeanAbsolutePercentageError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "binary_accuracy",
           "categorical_accuracy", "sparse_categorical_accuracy", "top_k_categorical_accuracy",
           "sparse_top_k_categorical_accuracy", "accuracy"]

EPSILON = 1e-7


def _array(x):
    """Host-or-device array of a Tensor, array or list (never copies a Tensor's data)."""
    if isinstance(x, Tensor):
        return x._data
    if hasattr(x, "shape") and hasattr(x, "dtype"):
        return x
    return np.asarray(x)


def _xp(a):
    return backend.get_array_module(a)


def _align(t, p):
    """Bring ``t`` to ``p``'s shape when they hold the same number of values."""
    if t.shape != p.shape and t.size == p.size:
        return t.reshape(p.shape)
    return t


def _last_mean(v):
    return v.mean(axis=-1) if v.ndim >= 2 else v


# ------------------------------------------------------------------- functions
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1 where ``(y_pred > threshold) == y_true``, per sample (mean over the last axis)."""
    p = _array(y_pred)
    t = _align(_array(y_true), p)
    return _last_mean((t == (p > threshold)).astype(np.float32))


def categorical_accuracy(y_true, y_pred):
    """1 where ``argmax(y_pred) == argmax(y_true)`` (one-hot labels)."""
    p = _array(y_pred)
    t = _array(y_true)
    return (t.argmax(axis=-1) == p.argmax(axis=-1)).astype(np.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """1 where ``argmax(y_pred) == y_true`` (integer labels, shape (N,) or (N, 1))."""
    p = _array(y_pred)
    t = _array(y_true)
    lead = p.shape[:-1]
    if t.shape != lead and t.size == int(np.prod(lead)):
        t = t.reshape(lead)
    return (p.argmax(axis=-1) == t).astype(np.float32)


def accuracy(y_true, y_pred):
    """1 where ``y_pred == y_true`` exactly (Keras's plain ``Accuracy``)."""
    p = _array(y_pred)
    t = _align(_array(y_true), p)
    return _last_mean((t == p).astype(np.float32))


def _top_k_hits(labels, p, k):
    k = min(k, p.shape[-1])
    xp = _xp(p)
    # the label is in the top k when fewer than k scores beat its own score
    own = xp.take_along_axis(p, labels.reshape(p.shape[:-1] + (1,)).astype(np.int64), axis=-1)
    return ((p > own).sum(axis=-1) < k).astype(np.float32)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    p = _array(y_pred)
    return _top_k_hits(_array(y_true).argmax(axis=-1), p, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    p = _array(y_pred)
    t = _array(y_true)
    return _top_k_hits(t.reshape(p.shape[:-1]), p, k)


def _mse(y_true, y_pred):
    p = _array(y_pred)
    t = _align(_array(y_true), p)
    return _last_mean((p - t) ** 2)


def _mae(y_true, y_pred):
    p = _array(y_pred)
    t = _align(_array(y_true), p)
    return _last_mean(_xp(p).abs(p - t))


def _mape(y_true, y_pred):
    p = _array(y_pred)
    t = _align(_array(y_true), p)
    xp = _xp(p)
    return 100.0 * _last_mean(xp.abs((t - p) / xp.maximum(xp.abs(t), EPSILON)))


def _log_probs(p, from_logits, binary=False):
    xp = _xp(p)
    if from_logits:
        if binary:
            return None
        m = p.max(axis=-1, keepdims=True)
        return p - m - xp.log(xp.exp(p - m).sum(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    return xp.log(xp.clip(p, EPSILON, 1 - EPSILON))


def _bce(y_true, y_pred, from_logits=False):
    p = _array(y_pred).astype(np.float64)
    t = _align(_array(y_true), p)
    xp = _xp(p)
    if from_logits:
        v = xp.maximum(p, 0) - p * t + xp.log1p(xp.exp(-xp.abs(p)))
    else:
        pc = xp.clip(p, EPSILON, 1 - EPSILON)
        v = -(t * xp.log(pc) + (1 - t) * xp.log(1 - pc))
    return _last_mean(v)


def _cce(y_true, y_pred, from_logits=False):
    p = _array(y_pred).astype(np.float64)
    return -(_array(y_true) * _log_probs(p, from_logits)).sum(axis=-1)


def _scce(y_true, y_pred, from_logits=False):
    p = _array(y_pred).astype(np.float64)
    t = _array(y_true).reshape(p.shape[:-1] + (1,)).astype(np.int64)
    return -_xp(p).take_along_axis(_log_probs(p, from_logits), t, axis=-1)[..., 0]


# ------------------------------------------------------------------- base classes
class Metric:
    """Base class of stateful metrics. Subclasses define ``update_state``, ``result`` and
    ``reset_state``. ``metric(y_true, y_pred)`` updates and returns the result.

    ``_direction``: ``"up"`` when larger is better (accuracy), ``"down"`` for errors; what
    ``EarlyStopping(mode="auto")`` uses.
    """

    _direction = "down"

    def __init__(self, name=None, dtype=None):
        self.name = name or _snake(type(self).__name__)
        self.dtype = dtype

    def update_state(self, *args, **kwargs):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    reset_states = reset_state  # the Keras 2 name

    def __call__(self, *args, **kwargs):
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or
                                   (i + 1 < len(name) and name[i + 1].islower())):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class Mean(Metric):
    """The (weighted) mean of the values given: ``update_state(values, sample_weight)``."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        v = _array(values)
        if sample_weight is None:
            if v.ndim == 0:
                self.total += float(v)
                self.count += 1.0
            else:
                self.total += float(v.sum())
                self.count += float(v.size)
            return
        w = _array(sample_weight)
        if np.ndim(w) == 0:
            self.total += float(v.sum()) * float(w)
            self.count += float(np.size(v)) * float(w)
            return
        w = _xp(v).asarray(w, dtype=np.float64) if _xp(v) is not np else np.asarray(w, np.float64)
        if w.ndim > v.ndim and w.size == v.size:
            w = w.reshape(v.shape)
        while w.ndim < v.ndim:
            w = w[..., None]
        w = _xp(v).broadcast_to(w, v.shape)
        self.total += float((v * w).sum())
        self.count += float(w.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0


class Sum(Metric):
    """The (weighted) sum of the values given."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name, dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        v = _array(values)
        if sample_weight is not None:
            v = v * _array(sample_weight)
        self.total += float(v.sum())

    def result(self):
        return self.total


class MeanMetricWrapper(Mean):
    """The mean of ``fn(y_true, y_pred, **kwargs)`` (per-sample values) over all samples."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "metric"), dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if isinstance(values, Tensor):
            values = values._data
        super().update_state(values, sample_weight)

    def get_config(self):
        return {"name": self.name, **self._fn_kwargs}


def _wrapper_class(cls_name, fn, default_name, direction, doc, **defaults):
    def __init__(self, name=default_name, dtype=None, **kwargs):
        opts = dict(defaults)
        for k, v in kwargs.items():
            if k not in defaults:
                raise TypeError(f"{cls_name} got an unexpected argument {k!r}")
            opts[k] = v
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **opts)

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    return type(cls_name, (MeanMetricWrapper,), {
        "__init__": __init__, "from_config": from_config, "_direction": direction,
        "__doc__": doc, "__module__": __name__})


Accuracy = _wrapper_class("Accuracy", accuracy, "accuracy", "up",
                          "How often predictions equal labels exactly.")
BinaryAccuracy = _wrapper_class("BinaryAccuracy", binary_accuracy, "binary_accuracy", "up",
                                "How often ``(y_pred > threshold)`` equals the 0/1 label.",
                                threshold=0.5)
CategoricalAccuracy = _wrapper_class("CategoricalAccuracy", categorical_accuracy,
                                     "categorical_accuracy", "up",
                                     "How often the argmax matches a one-hot label.")
SparseCategoricalAccuracy = _wrapper_class(
    "SparseCategoricalAccuracy", sparse_categorical_accuracy, "sparse_categorical_accuracy",
    "up", "How often the argmax matches an integer label.")
TopKCategoricalAccuracy = _wrapper_class(
    "TopKCategoricalAccuracy", top_k_categorical_accuracy, "top_k_categorical_accuracy", "up",
    "How often the one-hot label is among the k highest scores.", k=5)
SparseTopKCategoricalAccuracy = _wrapper_class(
    "SparseTopKCategoricalAccuracy", sparse_top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy", "up",
    "How often the integer label is among the k highest scores.", k=5)
MeanSquaredError = _wrapper_class("MeanSquaredError", _mse, "mean_squared_error", "down",
                                  "Mean squared error.")
MeanAbsoluteError = _wrapper_class("MeanAbsoluteError", _mae, "mean_absolute_error", "down",
                                   "Mean absolute error.")
MeanAbsolutePercentageError = _wrapper_class(
    "MeanAbsolutePercentageError", _mape, "mean_absolute_percentage_error", "down",
    "Mean absolute percentage error.")
BinaryCrossentropy = _wrapper_class("BinaryCrossentropy", _bce, "binary_crossentropy", "down",
                                    "Binary cross-entropy (clipped like the loss).",
                                    from_logits=False)
CategoricalCrossentropy = _wrapper_class("CategoricalCrossentropy", _cce,
                                         "categorical_crossentropy", "down",
                                         "Categorical cross-entropy.", from_logits=False)
SparseCategoricalCrossentropy = _wrapper_class(
    "SparseCategoricalCrossentropy", _scce, "sparse_categorical_crossentropy", "down",
    "Sparse categorical cross-entropy.", from_logits=False)


class RootMeanSquaredError(MeanSquaredError):
    """sqrt of the mean squared error over all samples seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def result(self):
        return math.sqrt(super().result())
