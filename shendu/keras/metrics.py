"""``keras.metrics``: stateful metrics computed on arrays (no autograd, no graph).

A metric accumulates over batches: ``update_state(y_true, y_pred, sample_weight=None)``,
``result()`` (a float), ``reset_state()``. ``fit`` and ``evaluate`` reset them at the start
of each epoch / pass, so the value shown is the epoch's, weighted by samples.

Names accepted by ``compile(metrics=[...])``: ``"accuracy"`` / ``"acc"`` (chosen like Keras
from the shapes: binary when the model outputs one column, sparse categorical when the
labels are integers with one column less, categorical otherwise), ``"binary_accuracy"``,
``"categorical_accuracy"``, ``"sparse_categorical_accuracy"``, ``"top_k_categorical_accuracy"``,
``"mae"``, ``"mse"``, ``"rmse"``, ``"mape"``, ``"AUC"``, ``"Precision"``, ``"Recall"``, the
cross-entropies, and any function ``fn(y_true, y_pred)`` returning per-sample values.

``AUC`` follows Keras: confusion counts at ``num_thresholds=200`` evenly spaced thresholds
(plus one just below 0 and one just above 1), a Riemann sum with
``summation_method="interpolation"``. With 200 thresholds it agrees with the exact ROC AUC
(``sklearn.metrics.roc_auc_score``) to about 1e-3 on typical data.

>>> import numpy as np
>>> from shendu.keras import metrics
>>> m = metrics.BinaryAccuracy()
>>> m.update_state(np.array([1, 1, 0, 0]), np.array([0.98, 0.7, 0.6, 0.1]))
>>> m.result()
0.75
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["Metric", "Mean", "Sum", "MeanMetricWrapper", "Accuracy", "BinaryAccuracy",
           "CategoricalAccuracy", "SparseCategoricalAccuracy", "TopKCategoricalAccuracy",
           "SparseTopKCategoricalAccuracy", "MeanSquaredError", "MeanAbsoluteError",
           "RootMeanSquaredError", "MeanAbsolutePercentageError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "AUC", "Precision",
           "Recall", "TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives",
           "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "accuracy",
           "get", "serialize", "deserialize"]

EPSILON = 1e-7


def _array(x):
    """Host-or-device array of a Tensor, array or list (never copies a Tensor's data)."""
    if isinstance(x, Tensor):
        return x.data
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
            values = values.data
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


# ------------------------------------------------------------ confusion-matrix metrics
def _flat_binary(y_true, y_pred, sample_weight, class_id=None):
    p = _array(y_pred)
    t = _align(_array(y_true), p)
    if class_id is not None:
        p = p[..., class_id]
        t = t[..., class_id]
    p = p.reshape(-1).astype(np.float64)
    t = t.reshape(-1)
    w = None
    if sample_weight is not None:
        w = np.asarray(_array(sample_weight), np.float64) if _xp(p) is np else \
            _xp(p).asarray(_array(sample_weight), dtype=np.float64)
        if w.size != p.size:  # per-sample weights over several columns
            w = _xp(p).broadcast_to(w.reshape(-1, 1), (w.size, p.size // max(1, w.size)))
        w = w.reshape(-1)
    return t.astype(bool) if t.dtype == bool else (t > 0.5), p, w


def _to_host(a):
    return a if isinstance(a, np.ndarray) else backend.move(a, backend.Device("cpu"))


class _ConfusionMatrixCounts:
    """TP/FP/TN/FN at thresholds, accumulated over batches (vectorized binning)."""

    def __init__(self, thresholds):
        self.thresholds = np.asarray(thresholds, np.float64)
        self.reset()

    def reset(self):
        n = self.thresholds.size
        self.tp, self.fp, self.tn, self.fn = (np.zeros(n) for _ in range(4))

    def update(self, pos, p, w):
        pos, p = _to_host(pos), _to_host(p)
        w = np.ones(p.size) if w is None else _to_host(w)
        thr = self.thresholds
        order = np.argsort(thr, kind="stable")
        sorted_thr = thr[order]
        # number of thresholds strictly below each prediction: it is "positive" at those
        k = np.searchsorted(sorted_thr, p, side="left")
        n = thr.size
        wp = np.bincount(k[pos], weights=w[pos], minlength=n + 1)
        wn = np.bincount(k[~pos], weights=w[~pos], minlength=n + 1)
        # predicted positive at sorted threshold j when k > j: suffix sums from j + 1
        above_p = np.cumsum(wp[::-1])[::-1][1:]
        above_n = np.cumsum(wn[::-1])[::-1][1:]
        tp = np.empty(n)
        fp = np.empty(n)
        tp[order], fp[order] = above_p, above_n
        total_p, total_n = wp.sum(), wn.sum()
        self.tp += tp
        self.fp += fp
        self.fn += total_p - tp
        self.tn += total_n - fp


class _ThresholdMetric(Metric):
    _direction = "up"

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name, dtype)
        if top_k is not None:
            raise NotImplementedError(f"{type(self).__name__}: top_k is not supported in "
                                      "shendu.keras; use class_id or thresholds")
        self.init_thresholds = thresholds
        self.class_id = class_id
        thr = [0.5] if thresholds is None else np.atleast_1d(np.asarray(thresholds, np.float64))
        self._single = thresholds is None or np.ndim(thresholds) == 0
        self._counts = _ConfusionMatrixCounts(thr)

    def reset_state(self):
        self._counts.reset()

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._counts.update(*_flat_binary(y_true, y_pred, sample_weight, self.class_id))

    def _value(self, num, den):
        out = np.where(den > 0, num / np.where(den > 0, den, 1), 0.0)
        return float(out[0]) if self._single else out

    def get_config(self):
        return {"name": self.name, "thresholds": self.init_thresholds, "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """TP / (TP + FP), a prediction being positive when ``y_pred > threshold`` (0.5)."""

    def result(self):
        c = self._counts
        return self._value(c.tp, c.tp + c.fp)


class Recall(_ThresholdMetric):
    """TP / (TP + FN), a prediction being positive when ``y_pred > threshold`` (0.5)."""

    def result(self):
        c = self._counts
        return self._value(c.tp, c.tp + c.fn)


def _count_class(attr, doc):
    class _Count(_ThresholdMetric):
        def result(self):
            v = getattr(self._counts, attr)
            return float(v[0]) if self._single else v

        def get_config(self):
            return {"name": self.name, "thresholds": self.init_thresholds}
    _Count.__doc__ = doc
    return _Count


class TruePositives(_count_class("tp", "The (weighted) number of true positives.")):
    pass


class FalsePositives(_count_class("fp", "The (weighted) number of false positives.")):
    _direction = "down"


class TrueNegatives(_count_class("tn", "The (weighted) number of true negatives.")):
    pass


class FalseNegatives(_count_class("fn", "The (weighted) number of false negatives.")):
    _direction = "down"


class AUC(Metric):
    """Area under the ROC (or precision-recall) curve, Keras's approximation.

    Parameters
    ----------
    num_thresholds : int, default 200
        Thresholds ``i / (num_thresholds - 1)``, with the end ones moved just outside
        [0, 1] so every prediction is counted.
    curve : {"ROC", "PR"}
    summation_method : {"interpolation", "minoring", "majoring"}
    thresholds : list of floats, optional (replaces the evenly spaced ones)
    multi_label : False only (every column is pooled into one curve)
    from_logits : bool, default False
        Apply a sigmoid to the predictions first.
    """

    _direction = "up"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        super().__init__(name or "auc", dtype)
        if curve.upper() not in ("ROC", "PR"):
            raise ValueError(f'AUC: curve must be "ROC" or "PR", got {curve!r}')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError("AUC: summation_method must be 'interpolation', 'minoring' or "
                             f"'majoring', got {summation_method!r}")
        if multi_label:
            raise NotImplementedError("AUC(multi_label=True) is not supported in shendu.keras")
        self.curve = curve.upper()
        self.summation_method = summation_method
        self.from_logits = from_logits
        self.num_thresholds = int(num_thresholds)
        self._init_thresholds = thresholds
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if self.num_thresholds <= 1:
                raise ValueError(f"AUC: num_thresholds must be > 1, got {num_thresholds}")
            n = self.num_thresholds
            inner = [(i + 1) / (n - 1) for i in range(n - 2)]
        self.thresholds = [0.0 - EPSILON] + inner + [1.0 + EPSILON]
        self._counts = _ConfusionMatrixCounts(self.thresholds)

    def reset_state(self):
        self._counts.reset()

    def update_state(self, y_true, y_pred, sample_weight=None):
        pos, p, w = _flat_binary(y_true, y_pred, sample_weight)
        if self.from_logits:
            p = 1.0 / (1.0 + _xp(p).exp(-p))
        self._counts.update(pos, p, w)

    def result(self):
        c = self._counts
        tp, fp, tn, fn = c.tp, c.fp, c.tn, c.fn
        div = lambda a, b: np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)  # noqa: E731
        if self.curve == "PR" and self.summation_method == "interpolation":
            return float(self._interpolate_pr(tp, fp, fn))
        recall = div(tp, tp + fn)
        if self.curve == "ROC":
            x, y = div(fp, fp + tn), recall
        else:
            x, y = recall, div(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return float(np.sum((x[:-1] - x[1:]) * heights))

    @staticmethod
    def _interpolate_pr(tp, fp, fn):
        """Davis & Goadrich (2006) interpolation of the PR curve, as Keras computes it."""
        div = lambda a, b: np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)  # noqa: E731
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = div(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both = (p[:-1] > 0) & (p[1:] > 0)
        ratio = np.where(both, div(p[:-1], np.maximum(p[1:], 0)), 1.0)
        with np.errstate(divide="ignore"):
            logr = np.where(ratio > 0, np.log(np.where(ratio > 0, ratio, 1)), 0.0)
        return np.sum(div(slope * (dtp + intercept * logr), np.maximum(tp[1:] + fn[1:], 0)))

    def get_config(self):
        return {"num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "name": self.name,
                "thresholds": self._init_thresholds, "from_logits": self.from_logits}


# ------------------------------------------------------------------- lookup
_CLASSES = {c.__name__: c for c in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, RootMeanSquaredError, MeanAbsolutePercentageError, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, AUC, Precision, Recall,
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives)}
_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "auc": AUC, "precision": Precision, "recall": Recall,
    "true_positives": TruePositives, "false_positives": FalsePositives,
    "true_negatives": TrueNegatives, "false_negatives": FalseNegatives,
}
_FUNCTIONS = {binary_accuracy: BinaryAccuracy, categorical_accuracy: CategoricalAccuracy,
              sparse_categorical_accuracy: SparseCategoricalAccuracy,
              top_k_categorical_accuracy: TopKCategoricalAccuracy,
              sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
              accuracy: Accuracy}


def resolve_accuracy(y_true_shape, y_pred_shape, name="accuracy"):
    """Keras's choice for ``"accuracy"``: binary, sparse categorical or categorical."""
    if len(y_pred_shape) and y_pred_shape[-1] == 1 or len(y_pred_shape) <= 1:
        return BinaryAccuracy(name=name)
    if len(y_true_shape) < len(y_pred_shape) or (len(y_true_shape) and y_true_shape[-1] == 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def get(identifier, name=None):
    """A Metric from a name, a class, a Metric, or a function of (y_true, y_pred).

    ``"accuracy"`` needs the data's shapes, so ``compile`` resolves it itself (see
    ``resolve_accuracy``); here it gives the plain ``Accuracy``.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else identifier.lower()
        cls = _BY_NAME.get(key) or _CLASSES.get(identifier)
        if cls is None and key in ("accuracy", "acc"):
            cls = Accuracy
        if cls is None:
            raise ValueError(f"unknown metric {identifier!r}; shendu.keras knows: accuracy, "
                             f"{', '.join(sorted(_BY_NAME))} (or pass a function or a "
                             "keras.metrics.Metric)")
        return cls(name=name or identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier](name=name or identifier.__name__)
        return MeanMetricWrapper(identifier, name=name or getattr(identifier, "__name__", None))
    raise TypeError(f"metric must be a name, a keras.metrics.Metric or a function, got "
                    f"{type(identifier).__name__}")


def serialize(metric):
    if type(metric).__name__ in _CLASSES and type(metric) is _CLASSES[type(metric).__name__]:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    return None


def deserialize(config):
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"unknown metric in config: {config!r}")
    return _CLASSES[config["class_name"]].from_config(config.get("config") or {})
