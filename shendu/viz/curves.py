"""Learning curves from plain lists of per-epoch (or per-step) values."""
from __future__ import annotations

import numpy as np

from ._mpl import finish, new_figure, to_numpy

__all__ = ["plot_loss_curve", "plot_returns"]


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


def _running_mean(y, window):
    c = np.concatenate([[0.0], np.cumsum(y)])
    idx = np.arange(1, y.size + 1)
    lo = np.maximum(0, idx - window)
    return (c[idx] - c[lo]) / (idx - lo)


def plot_returns(returns, window=100, path=None, title=None, xlabel="episode", ylabel="return",
                 target=None, x=None, figsize=None, show=False):
    """Episode returns of reinforcement-learning runs: raw returns faint, their running
    mean over ``window`` episodes bold, one colour per run.

    Parameters
    ----------
    returns : sequence of numbers (one run), or a dict ``label -> sequence`` (several runs:
        seeds, algorithms). A ``shendu.rl.TrainingLog`` is taken as its returns.
    window : int, episodes in the running mean (shorter at the start of a run)
    target : float, optional; a dashed line at the score to reach (e.g. 475 for CartPole)
    x : sequence or dict like ``returns``, optional; x positions per episode (e.g. the
        environment step at each episode's end, with ``xlabel="environment steps"``)
    path, title, xlabel, ylabel, figsize, show : as in ``plot_loss_curve``

    Returns
    -------
    matplotlib.figure.Figure

    >>> from shendu.viz import plot_returns
    >>> fig = plot_returns({"seed 0": [1, 2, 3, 5], "seed 1": [2, 2, 4, 4]}, window=2)
    >>> [line.get_label() for line in fig.axes[0].get_lines()][1::2]
    ['seed 0 (mean of 2)', 'seed 1 (mean of 2)']
    """
    def as_values(r):
        return r.history["return"] if hasattr(r, "history") else r

    runs = returns.items() if isinstance(returns, dict) else [("return", returns)]
    fig = new_figure("plot_returns", figsize or (7.0, 4.0), show)
    ax = fig.add_subplot(1, 1, 1)
    for i, (label, values) in enumerate(runs):
        y = to_numpy(as_values(values), "plot_returns", label).astype(np.float64).reshape(-1)
        if y.size == 0:
            raise ValueError(f"plot_returns: the returns of {label!r} are empty")
        xs = x.get(label) if isinstance(x, dict) else x
        xs = np.arange(1, y.size + 1) if xs is None else to_numpy(xs, "plot_returns", "x")
        if xs.shape != y.shape:
            raise ValueError(f"plot_returns: x for {label!r} has {xs.size} values, "
                             f"returns have {y.size}")
        color = f"C{i % 10}"
        ax.plot(xs, y, color=color, alpha=0.2, linewidth=0.8, label=f"{label} (episodes)")
        ax.plot(xs, _running_mean(y, int(window)), color=color, linewidth=2,
                label=f"{label} (mean of {int(window)})")
    if target is not None:
        ax.axhline(float(target), color="gray", linestyle="--", linewidth=1,
                   label=f"target {float(target):g}")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Episode returns")
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    keep = [k for k, lab in enumerate(labels) if not lab.endswith("(episodes)")]
    ax.legend([handles[k] for k in keep], [labels[k] for k in keep], fontsize="small")
    fig.tight_layout()
    return finish(fig, path, show)
