"""Learning curves from plain lists of per-epoch (or per-step) values."""
from __future__ import annotations

import numpy as np

from ._mpl import finish, new_figure, to_numpy

__all__ = ["plot_loss_curve"]


def plot_loss_curve(train, val=None, path=None, xlabel="epoch", ylabel="loss", title=None,
                    logy=False, figsize=None, show=False):
    """Training (and validation) loss against the epoch, x counted from 1.

    For a Keras-style ``History`` use ``shendu.keras.utils.plot_history``; this takes
    the plain lists a hand-written training loop collects.

    Parameters
    ----------
    train : sequence of numbers; val : sequence of numbers, optional
    path : str or Path, optional; save the figure there (PNG by default)
    xlabel, ylabel, title : axis labels and title; logy : bool, log-scaled y axis
    figsize : optional; show : bool, default False

    Returns
    -------
    matplotlib.figure.Figure

    >>> from shendu.viz import plot_loss_curve
    >>> fig = plot_loss_curve([1.0, 0.5, 0.3], val=[1.1, 0.7, 0.6])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['training', 'validation']
    """
    curves = [("training", train)] + ([("validation", val)] if val is not None else [])
    fig = new_figure("plot_loss_curve", figsize or (6.0, 4.0), show)
    ax = fig.add_subplot(1, 1, 1)
    for label, values in curves:
        y = to_numpy(values, "plot_loss_curve", label).astype(np.float64).reshape(-1)
        if y.size == 0:
            raise ValueError(f"plot_loss_curve: the {label} values are empty")
        ax.plot(np.arange(1, y.size + 1), y, label=label,
                marker="o" if y.size <= 30 else None)
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or ylabel.capitalize())
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return finish(fig, path, show)
