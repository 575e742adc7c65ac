"""matplotlib, imported only when a plot is made, and the shared figure plumbing.

Figures are made with ``matplotlib.figure.Figure`` directly, not through ``pyplot``: no
global figure list to leak memory in a training loop and no GUI backend needed to save a
PNG. Only ``show=True`` goes through ``pyplot`` (and on a machine without a display the
non-interactive Agg backend is selected first, so nothing tries to open a window).
"""
from __future__ import annotations

import os
import sys

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

INSTALL_HINT = 'pip install "shendu[plot]" (or pip install matplotlib)'


def require_matplotlib(who):
    """The ``matplotlib`` module, or an ImportError that says how to install it."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"{who} needs matplotlib, which is not installed: "
                          f"{INSTALL_HINT}") from None
    return matplotlib


def _headless():
    return sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                     or os.environ.get("WAYLAND_DISPLAY"))


def new_figure(who, figsize, show=False):
    """A fresh ``Figure`` (through pyplot only when it is to be shown)."""
    matplotlib = require_matplotlib(who)
    if show:
        if _headless() and "matplotlib.pyplot" not in sys.modules \
                and not os.environ.get("MPLBACKEND"):
            matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt.figure(figsize=figsize)
    from matplotlib.figure import Figure
    return Figure(figsize=figsize)


def finish(fig, path=None, show=False, dpi=100):
    """Save ``fig`` to ``path`` (format from the extension, PNG without one); show it."""
    if path is not None:
        fig.savefig(os.fspath(path), dpi=dpi)
    if show:
        import matplotlib.pyplot as plt
        plt.show()
    return fig


def to_numpy(x, who, name):
    """A NumPy array from a list, NumPy/CuPy array, shendu Tensor or torch tensor."""
    data = x._data if isinstance(x, Tensor) else x
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    if not isinstance(data, np.ndarray) and backend.get_array_module(data) is not np:
        data = backend.move(data, backend.Device("cpu"))
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must hold numbers, got dtype {arr.dtype}")
    return arr


def grid_layout(fig, nrows, titled=True, suptitle=False, title_lines=1):
    """Space a grid of image cells without ``tight_layout`` (which costs seconds for 36
    axes): room for a title line above each row and for the figure's title."""
    height = fig.get_size_inches()[1]
    title_in = 0.2 * title_lines if titled else 0.03  # inches per row for cell titles
    top_in = title_in + (0.45 if suptitle else 0.05)
    cell_in = max(0.1, (height - top_in - 0.1) / nrows - title_in)
    fig.subplots_adjust(left=0.02, right=0.98, bottom=0.1 / height, top=1 - top_in / height,
                        wspace=0.08, hspace=title_in / cell_in)
