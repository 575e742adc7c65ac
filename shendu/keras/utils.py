"""``keras.utils``: ``to_categorical``, ``normalize``, ``set_random_seed``, ``Progbar``, and
``plot_history`` (the course's loss curve).

>>> from shendu.keras.utils import to_categorical
>>> to_categorical([0, 2, 1], num_classes=3)
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]], dtype=float32)
"""
from __future__ import annotations

import numpy as np

from .. import backend as _backend
from .layers.base import clear_session
from .preprocessing.image import array_to_img, img_to_array, load_img, save_img
from .progress import Progbar
from .py_dataset import PyDataset, Sequence

__all__ = ["to_categorical", "normalize", "set_random_seed", "plot_history", "Progbar",
           "clear_session", "PyDataset", "Sequence", "array_to_img", "img_to_array", "load_img",
           "save_img"]


def to_categorical(x, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels: ``(N,)`` becomes ``(N, num_classes)``.

    A trailing axis of size 1 (``(N, 1)``) is dropped first, as in Keras.
    ``num_classes`` defaults to ``max(x) + 1``.
    """
    y = np.asarray(x.to_numpy() if hasattr(x, "to_numpy") else x)
    if y.dtype.kind == "f":
        if not np.all(np.mod(y, 1) == 0):
            raise ValueError("to_categorical needs integer class labels, got fractional values")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iu":
        raise TypeError(f"to_categorical needs integer class labels, got dtype {y.dtype}")
    shape = y.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    y = y.reshape(-1)
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, got {int(y.min())}")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.size else 0
    elif y.size and y.max() >= num_classes:
        raise ValueError(f"to_categorical: label {int(y.max())} is out of range for "
                         f"num_classes={num_classes}")
    out = np.zeros((y.size, num_classes), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (rows of norm 0 stay 0)."""
    x = np.asarray(x, dtype=np.float64 if np.asarray(x).dtype.kind != "f" else None)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm


def set_random_seed(seed):
    """Seed shendu's generator (weights, dropout, shuffling) and NumPy's global one."""
    np.random.seed(seed)
    _backend.manual_seed(seed)


def plot_history(history, keys=None, title=None, filename=None, show=False, figsize=None):
    """The learning curves of a ``fit``: loss (and each metric) per epoch, training and
    validation side by side — the course's ``plt.plot(history_df['loss'])``.

    Parameters
    ----------
    history : the ``History`` returned by ``fit``, or its ``history`` dict
    keys : names to plot (default: every logged quantity without ``val_``; its ``val_``
        twin is drawn on the same axes)
    title : str, optional
    filename : str, optional; the figure is saved there (PNG, SVG ... by extension)
    show : bool, default False; show it with ``matplotlib.pyplot`` (needs a display)

    Returns
    -------
    matplotlib.figure.Figure

    matplotlib is imported only when this is called; without it the ImportError says
    how to install it: ``pip install shendu[plot]``.
    """
    try:
        import matplotlib
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install 'shendu[plot]' "
                          "(or pip install matplotlib)") from None
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict) or not logs:
        raise ValueError("plot_history needs the History returned by fit (or its .history "
                         "dict) with at least one logged quantity")
    epochs_ = list(getattr(history, "epoch", []) or [])
    if keys is None:
        keys = [k for k in logs if not k.startswith("val_") and k != "learning_rate"]
        keys += [k[4:] for k in logs if k.startswith("val_") and k[4:] not in logs]
        keys.sort(key=lambda k: (k != "loss", k))  # the loss curve first
    keys = [keys] if isinstance(keys, str) else list(keys)
    if show:
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=figsize or (5 * len(keys), 3.6))
    else:
        fig = Figure(figsize=figsize or (5 * len(keys), 3.6))
    for i, key in enumerate(keys):
        ax = fig.add_subplot(1, len(keys), i + 1)
        for name, label in ((key, "training"), ("val_" + key, "validation")):
            if name in logs:
                values = logs[name]
                x = [e + 1 for e in epochs_] if len(epochs_) == len(values) else \
                    list(range(1, len(values) + 1))
                ax.plot(x, values, label=label, marker="o" if len(values) < 30 else None)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.set_title(key)
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if filename is not None:
        fig.savefig(filename, dpi=100)
    if show:
        import matplotlib.pyplot as plt
        plt.show()
    del matplotlib
    return fig
