"""Metrics from confusion counts at thresholds: ``Precision``, ``Recall``, ``AUC`` and the
``TruePositives`` family. Counts are accumulated on the host with one ``searchsorted`` and
``bincount`` per batch (no loop over thresholds or samples)."""
from __future__ import annotations

import numpy as np

from ... import backend
from .base import EPSILON, Metric, _align, _array, _xp

__all__ = ["AUC", "Precision", "Recall", "TruePositives", "FalsePositives", "TrueNegatives",
           "FalseNegatives"]


def _flat_binary(y_true, y_pred, sample_weight, class_id=None):
    p = _array(y_pred)
    t = _array(y_true)
    classes = p.shape[-1] if p.ndim >= 2 else 1
    if t.size != p.size and classes > 1 and t.size * classes == p.size:
        # integer class labels against per-class scores: compare one-hot labels
        labels = t.reshape(-1).astype(np.int64)
        t = (labels[:, None] == _xp(p).arange(classes)[None, :]).reshape(p.shape)
    elif t.size != p.size:
        raise ValueError(f"y_true with {t.size} values does not match y_pred of shape "
                         f"{tuple(p.shape)}")
    t = _align(t, p)
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
