"""Evaluation metrics on predicted labels and scores, in plain NumPy (scikit-learn's names,
defaults and results; scikit-learn is not needed).

=====================  ============================================================
labels                 ``confusion_matrix``, ``accuracy`` (``accuracy_score``),
                       ``precision_recall_f1`` (per class), ``precision_score``,
                       ``recall_score``, ``f1_score``, ``classification_report``
scores (binary)        ``roc_curve``, ``auc``, ``roc_auc_score``
=====================  ============================================================

Labels are integer class indices ``0..K-1`` given as lists, NumPy/CuPy arrays or
shendu Tensors. A 2-D ``(N, K)`` argument (one-hot labels, or a model's scores/
probabilities) is turned into labels with ``argmax(axis=1)``, so the output of a
classifier can be passed as it is.

>>> from shendu.metrics import confusion_matrix, accuracy
>>> y_true, y_pred = [0, 1, 2, 2, 1], [0, 2, 2, 2, 1]
>>> confusion_matrix(y_true, y_pred)
array([[1, 0, 0],
       [0, 1, 1],
       [0, 0, 2]])
>>> accuracy(y_true, y_pred)
0.8
"""
from __future__ import annotations

import numpy as np

from . import backend
from .autograd.tensor import Tensor

__all__ = ["confusion_matrix", "accuracy", "accuracy_score", "precision_recall_f1",
           "precision_score", "recall_score", "f1_score", "classification_report",
           "roc_curve", "auc", "roc_auc_score"]


# ----------------------------------------------------------------------------- inputs
def _host(x, who, name):
    """A NumPy array of ``x`` (list, NumPy/CuPy array or Tensor)."""
    data = x._data if isinstance(x, Tensor) else x
    if not isinstance(data, np.ndarray) and backend.get_array_module(data) is not np:
        data = backend.move(data, backend.Device("cpu"))
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must hold numbers, got dtype {arr.dtype}")
    return arr


def _labels(y, who, name):
    """Integer labels (N,) from labels (N,), (N, 1) or one-hot/scores (N, K)."""
    arr = _host(y, who, name)
    if arr.ndim == 2:
        arr = arr[:, 0] if arr.shape[1] == 1 else arr.argmax(axis=1)
    if arr.ndim != 1:
        raise ValueError(f"{who}: {name} must be labels of shape (N,) or scores/one-hot of "
                         f"shape (N, K), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{who}: {name} must be integer class labels, got non-integer "
                             f"values such as {arr[arr != np.round(arr)][:3].tolist()}; pass "
                             f"scores as an (N, K) array or threshold them first")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{who}: {name} must be class indices 0..K-1, got {int(arr.min())}")
    return arr


def _pair(y_true, y_pred, who, num_classes=None):
    t = _labels(y_true, who, "y_true")
    p = _labels(y_pred, who, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"{who}: y_true has {t.size} samples but y_pred has {p.size}")
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    else:
        num_classes = int(num_classes)
        for name, a in (("y_true", t), ("y_pred", p)):
            if a.size and a.max() >= num_classes:
                raise ValueError(f"{who}: {name} has label {int(a.max())} but num_classes="
                                 f"{num_classes} (labels must be 0..{num_classes - 1})")
    return t, p, num_classes


def _divide(num, den, zero_division):
    """num / den with ``zero_division`` where den == 0 (scikit-learn's convention)."""
    num, den = np.asarray(num, np.float64), np.asarray(den, np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


# ----------------------------------------------------------------------------- labels
def confusion_matrix(y_true, y_pred, num_classes=None, normalize=None):
    """Counts ``C[i, j]`` of samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : (N,) integer labels 0..K-1 (or (N, K) one-hot/scores, argmax taken)
    num_classes : int, optional; default ``max(label) + 1``
    normalize : None, "true", "pred" or "all"
        None: counts (int64). "true": each row divided by its sum (recall on the
        diagonal); "pred": each column by its sum (precision on the diagonal); "all": by N.
        Empty rows/columns give 0.

    Returns
    -------
    (K, K) array: rows are true classes, columns predicted ones (scikit-learn's layout)

    >>> confusion_matrix([0, 0, 1], [0, 1, 1], normalize="true")
    array([[0.5, 0.5],
           [0. , 1. ]])
    """
    t, p, k = _pair(y_true, y_pred, "confusion_matrix", num_classes)
    counts = np.bincount(t * k + p, minlength=k * k).reshape(k, k).astype(np.int64)
    if normalize is None:
        return counts
    if normalize == "true":
        return _divide(counts, counts.sum(axis=1, keepdims=True), 0.0)
    if normalize == "pred":
        return _divide(counts, counts.sum(axis=0, keepdims=True), 0.0)
    if normalize == "all":
        return _divide(counts, counts.sum(), 0.0)
    raise ValueError(f"confusion_matrix: normalize must be None, 'true', 'pred' or 'all', got "
                     f"{normalize!r}")


def accuracy(y_true, y_pred):
    """The fraction of samples whose predicted label equals the true one.

    >>> accuracy([0, 1, 1, 0], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    0.75
    """
    t, p, _ = _pair(y_true, y_pred, "accuracy")
    if t.size == 0:
        raise ValueError("accuracy: no samples (y_true is empty)")
    return float(np.mean(t == p))


accuracy_score = accuracy


def precision_recall_f1(y_true, y_pred, num_classes=None, zero_division=0.0):
    """Per-class precision, recall, F1 and support (scikit-learn's
    ``precision_recall_fscore_support(average=None)``).

    For class ``k`` with ``TP`` true positives, ``FP`` false positives, ``FN`` false
    negatives: precision ``TP / (TP + FP)``, recall ``TP / (TP + FN)``,
    F1 ``2 TP / (2 TP + FP + FN)`` (the harmonic mean of the two), support ``TP + FN``.
    A 0/0 gives ``zero_division``.

    Returns
    -------
    precision, recall, f1 : (K,) float64;  support : (K,) int64

    >>> p, r, f, s = precision_recall_f1([0, 1, 1, 1], [0, 1, 0, 1])
    >>> p.tolist(), r.round(3).tolist(), s.tolist()
    ([0.5, 1.0], [1.0, 0.667], [1, 3])
    """
    cm = confusion_matrix(y_true, y_pred, num_classes)
    tp = np.diag(cm)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    precision = _divide(tp, predicted, zero_division)
    recall = _divide(tp, support, zero_division)
    f1 = _divide(2 * tp, predicted + support, zero_division)
    return precision, recall, f1, support


def _averaged(which, y_true, y_pred, average, pos_label, num_classes, zero_division):
    who = ("precision_score", "recall_score", "f1_score")[which]
    t, p, k = _pair(y_true, y_pred, who, num_classes)
    if average == "binary":
        if k > 2:
            raise ValueError(f"{who}: average='binary' needs 2 classes but the labels go up to "
                             f"{k - 1}; pass average=None (per class), 'macro', 'micro' or "
                             f"'weighted'")
        if pos_label not in (0, 1):
            raise ValueError(f"{who}: pos_label must be 0 or 1 for binary labels, got "
                             f"{pos_label!r}")
        k = 2
    per_class = precision_recall_f1(t, p, k, zero_division)
    support = per_class[3]
    if average is None:
        return per_class[which]
    if average == "binary":
        return float(per_class[which][pos_label])
    if average == "macro":
        return float(per_class[which].mean())
    if average == "weighted":
        if support.sum() == 0:
            return float(zero_division)
        return float(np.average(per_class[which], weights=support))
    if average == "micro":  # pooled counts; precision = recall = F1 = accuracy here
        return float(_divide((t == p).sum(), t.size, zero_division))
    raise ValueError(f"{who}: average must be 'binary', None, 'macro', 'micro' or 'weighted', "
                     f"got {average!r}")


def precision_score(y_true, y_pred, average="binary", pos_label=1, num_classes=None,
                    zero_division=0.0):
    """Precision ``TP / (TP + FP)``: of the samples predicted positive, the share that is.

    ``average`` is scikit-learn's: "binary" (default; the score of class ``pos_label``
    for 0/1 labels), None (one score per class), "macro" (unweighted mean over
    classes), "weighted" (mean weighted by support) or "micro" (from pooled counts).

    >>> precision_score([0, 1, 1, 0], [1, 1, 1, 0])
    0.6666666666666666
    """
    return _averaged(0, y_true, y_pred, average, pos_label, num_classes, zero_division)


def recall_score(y_true, y_pred, average="binary", pos_label=1, num_classes=None,
                 zero_division=0.0):
    """Recall (sensitivity) ``TP / (TP + FN)``: of the positive samples, the share found.
    ``average`` as for ``precision_score``.

    >>> recall_score([0, 1, 1, 0], [1, 1, 0, 0])
    0.5
    """
    return _averaged(1, y_true, y_pred, average, pos_label, num_classes, zero_division)


def f1_score(y_true, y_pred, average="binary", pos_label=1, num_classes=None,
             zero_division=0.0):
    """F1 ``2 PR / (P + R) = 2 TP / (2 TP + FP + FN)``. ``average`` as for
    ``precision_score`` ("macro" averages the per-class F1 scores).

    >>> f1_score([0, 1, 2, 2], [0, 2, 2, 2], average="macro")
    0.6
    """
    return _averaged(2, y_true, y_pred, average, pos_label, num_classes, zero_division)


def classification_report(y_true, y_pred, class_names=None, num_classes=None, digits=2):
    """scikit-learn's text table: precision, recall, F1 and support per class, then the
    accuracy and the macro and weighted averages.

    >>> print(classification_report([0, 1, 1, 1], [0, 1, 0, 1], class_names=["cat", "dog"]))
                  precision    recall  f1-score   support
    <BLANKLINE>
             cat       0.50      1.00      0.67         1
             dog       1.00      0.67      0.80         3
    <BLANKLINE>
        accuracy                           0.75         4
       macro avg       0.75      0.83      0.73         4
    weighted avg       0.88      0.75      0.77         4
    """
    t, p, k = _pair(y_true, y_pred, "classification_report", num_classes)
    prec, rec, f1, support = precision_recall_f1(t, p, k)
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ValueError(f"classification_report: {len(names)} class names for {k} classes")
    width = max(len("weighted avg"), *(len(n) for n in names), digits)
    head = ["precision", "recall", "f1-score", "support"]
    fmt = "{:>{w}s} " + " {:>9.{d}f}" * 3 + " {:>9}\n"
    out = "{:>{w}s} ".format("", w=width) + "".join(" {:>9}".format(h) for h in head) + "\n\n"
    for i, name in enumerate(names):
        out += fmt.format(name, prec[i], rec[i], f1[i], int(support[i]), w=width, d=digits)
    n = int(support.sum())
    out += "\n" + "{:>{w}s} ".format("accuracy", w=width) + " " * 20 + \
        " {:>9.{d}f} {:>9}\n".format(float(np.mean(t == p)), n, d=digits)
    weighted = [np.average(m, weights=support) if n else 0.0 for m in (prec, rec, f1)]
    out += fmt.format("macro avg", prec.mean(), rec.mean(), f1.mean(), n, w=width, d=digits)
    out += fmt.format("weighted avg", *weighted, n, w=width, d=digits)
    return out.rstrip("\n")


# ----------------------------------------------------------------------------- scores
def _binary_scores(y_true, y_score, pos_label, who):
    t = _host(y_true, who, "y_true")
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise ValueError(f"{who}: y_true must be binary labels of shape (N,), got shape "
                         f"{t.shape}")
    s = _host(y_score, who, "y_score").astype(np.float64)
    shape = s.shape
    if s.ndim == 2 and s.shape[1] in (1, 2):
        s = s[:, -1]  # two-column probabilities: the positive class's column
    if s.ndim != 1 or s.size != t.size:
        raise ValueError(f"{who}: y_score must hold one score per sample, shape ({t.size},), "
                         f"got shape {shape}")
    classes = np.unique(t)
    if pos_label is None:
        if not (set(classes.tolist()) <= {0, 1} or set(classes.tolist()) <= {-1, 1}):
            raise ValueError(f"{who}: y_true has labels {classes.tolist()}; with labels other "
                             f"than 0/1 or -1/1 say which is positive with pos_label=")
        pos_label = 1
    positive = t == pos_label
    if positive.all() or not positive.any():
        raise ValueError(f"{who}: y_true must contain both positive (label {pos_label!r}) and "
                         f"negative samples; the curve is undefined with only one class")
    return positive, s


def roc_curve(y_true, y_score, pos_label=None, drop_intermediate=True):
    """The ROC curve: true-positive rate against false-positive rate as the decision
    threshold sweeps down through the scores (scikit-learn's ``roc_curve``).

    Parameters
    ----------
    y_true : (N,) binary labels (0/1 or -1/1, else name the positive one with pos_label)
    y_score : (N,) scores, higher meaning more likely positive (probabilities, logits);
        an (N, 2) array of class probabilities uses its second column
    drop_intermediate : bool, default True; drop thresholds that do not change the
        curve's shape (collinear points)

    Returns
    -------
    fpr, tpr : (T,) float64 rising from 0 to 1
    thresholds : (T,) float64, decreasing; ``thresholds[0]`` is ``inf`` (nothing
        predicted positive); a sample is predicted positive when ``score >= threshold``

    >>> fpr, tpr, thr = roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fpr.tolist(), tpr.tolist(), thr.tolist()
    ([0.0, 0.0, 0.5, 0.5, 1.0], [0.0, 0.5, 0.5, 1.0, 1.0], [inf, 0.8, 0.4, 0.35, 0.1])
    """
    positive, score = _binary_scores(y_true, y_score, pos_label, "roc_curve")
    order = np.argsort(score, kind="mergesort")[::-1]
    score, positive = score[order], positive[order]
    # the last index of each run of equal scores: one point per distinct threshold
    last = np.r_[np.flatnonzero(np.diff(score)), score.size - 1]
    tps = np.cumsum(positive, dtype=np.float64)[last]
    fps = 1.0 + last - tps
    thresholds = score[last]
    if drop_intermediate and fps.size > 2:
        keep = np.flatnonzero(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)),
                                    True])
        fps, tps, thresholds = fps[keep], tps[keep], thresholds[keep]
    tps, fps = np.r_[0.0, tps], np.r_[0.0, fps]
    thresholds = np.r_[np.inf, thresholds]
    return fps / fps[-1], tps / tps[-1], thresholds


def auc(x, y):
    """The area under a curve through the points ``(x, y)`` by the trapezoidal rule; ``x``
    must be increasing or decreasing (e.g. the ``fpr`` of ``roc_curve``).

    >>> auc([0.0, 0.5, 1.0], [0.0, 1.0, 1.0])
    0.75
    """
    x = _host(x, "auc", "x").astype(np.float64).reshape(-1)
    y = _host(y, "auc", "y").astype(np.float64).reshape(-1)
    if x.size != y.size or x.size < 2:
        raise ValueError(f"auc needs at least 2 points and as many x as y values, got "
                         f"{x.size} x and {y.size} y")
    dx = np.diff(x)
    direction = 1.0
    if np.any(dx < 0):
        if np.all(dx <= 0):
            direction = -1.0
        else:
            raise ValueError("auc: x is neither increasing nor decreasing; sort the points "
                             "by x first")
    return float(direction * np.sum(dx * (y[1:] + y[:-1]) / 2.0))


def roc_auc_score(y_true, y_score, pos_label=None):
    """The area under the ROC curve: the probability that a random positive sample is
    scored above a random negative one (ties count half). 0.5 is chance, 1.0 perfect.

    >>> roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    fpr, tpr, _ = roc_curve(y_true, y_score, pos_label=pos_label, drop_intermediate=False)
    return auc(fpr, tpr)
