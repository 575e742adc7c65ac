"""Plots for judging a classifier: the confusion matrix and the ROC curve."""
from __future__ import annotations

import numpy as np

from .. import metrics
from ._mpl import finish, new_figure

__all__ = ["plot_confusion_matrix", "plot_roc_curve"]

_NORMALIZED = {"true": "rows sum to 1 (recall on the diagonal)",
               "pred": "columns sum to 1 (precision on the diagonal)",
               "all": "all cells sum to 1"}


def plot_confusion_matrix(y_true, y_pred, class_names=None, normalize=False, path=None,
                          num_classes=None, cmap="Blues", title=None, figsize=None,
                          show=False):
    """The confusion matrix as a heat map with the count (or share) in each cell.

    Rows are true classes, columns predicted ones (``shendu.metrics.confusion_matrix``);
    the diagonal holds the correct predictions.

    Parameters
    ----------
    y_true, y_pred : (N,) labels 0..K-1 (or (N, K) one-hot/scores: argmax is taken)
    class_names : sequence of K names, optional (default 0..K-1)
    normalize : False, True (= "true"), "true", "pred" or "all"
        False: counts. "true": each row divided by its count, so the diagonal is each
        class's recall; "pred": each column, so the diagonal is the precision; "all": by N.
    path : str or Path, optional; save the figure there (PNG by default)
    num_classes : int, optional; cmap : colour map (default "Blues")
    title, figsize : optional; show : bool, default False

    Returns
    -------
    matplotlib.figure.Figure

    >>> from shendu.viz import plot_confusion_matrix
    >>> fig = plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], class_names=["a", "b", "c"])
    >>> fig.axes[0].get_title()
    'Confusion matrix (accuracy 0.750, 4 samples)'
    """
    mode = "true" if normalize is True else (normalize or None)
    cm = metrics.confusion_matrix(y_true, y_pred, num_classes=num_classes, normalize=mode)
    counts = cm if mode is None else metrics.confusion_matrix(y_true, y_pred, num_classes)
    k = len(cm)
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in
                                                                    class_names]
    if len(names) != k:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for {k} classes")
    side = min(max(4.5, 0.6 * k + 2.0), 16.0)
    fig = new_figure("plot_confusion_matrix", figsize or (max(6.0, side + 1.2), side), show)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(cm, cmap=cmap, interpolation="nearest",
                      vmin=0, vmax=1.0 if mode else max(1, int(cm.max())))
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(np.arange(k))
    ax.set_yticks(np.arange(k))
    long_names = max(len(n) for n in names) > 3
    ax.set_xticklabels(names, rotation=45 if long_names else 0,
                       ha="right" if long_names else "center")
    ax.set_yticklabels(names)
    ax.set_xlabel("predicted label")
    ax.set_ylabel("true label")
    if k <= 30:  # numbers in the cells while they fit
        top = 1.0 if mode else max(1, int(cm.max()))  # the colour scale's top
        for (i, j), v in np.ndenumerate(cm):
            text = f"{v:d}" if mode is None else f"{v:.2f}"
            ax.text(j, i, text, ha="center", va="center", fontsize=9 if k <= 12 else 7,
                    color="white" if v > top / 2 else "black")
    n = int(counts.sum())
    if title is None:
        title = (f"Confusion matrix (accuracy {np.trace(counts) / max(n, 1):.3f}, "
                 f"{n} samples)" + ("\n" + _NORMALIZED[mode] if mode else ""))
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return finish(fig, path, show)


def plot_roc_curve(y_true, y_score, pos_label=None, path=None, label=None, title=None,
                   figsize=None, show=False):
    """The ROC curve (true-positive rate against false-positive rate) with its AUC, and the
    chance diagonal.

    Parameters
    ----------
    y_true : (N,) binary labels; y_score : (N,) scores (higher = more likely positive)
    pos_label : the positive label when it is not 1
    path : str or Path, optional; label : legend text (default "ROC (AUC = ...)")
    title, figsize : optional; show : bool, default False

    Returns
    -------
    matplotlib.figure.Figure

    >>> from shendu.viz import plot_roc_curve
    >>> fig = plot_roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> fig.axes[0].get_legend().get_texts()[0].get_text()
    'ROC (AUC = 0.750)'
    """
    fpr, tpr, _ = metrics.roc_curve(y_true, y_score, pos_label=pos_label)
    area = metrics.auc(fpr, tpr)
    fig = new_figure("plot_roc_curve", figsize or (5.0, 4.6), show)
    ax = fig.add_subplot(1, 1, 1)
    ax.plot(fpr, tpr, lw=2, label=label or f"ROC (AUC = {area:.3f})")
    ax.plot([0, 1], [0, 1], ls="--", color="gray", lw=1, label="chance (AUC = 0.5)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_xlabel("false positive rate (1 - specificity)")
    ax.set_ylabel("true positive rate (recall)")
    ax.set_title(title or "ROC curve")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return finish(fig, path, show)
