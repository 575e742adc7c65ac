"""``shendu.viz``: figures for looking at data and models (matplotlib, imported lazily).

=============================  =======================================================
``image_grid``                 images with labels / predictions, wrong ones in red
``plot_confusion_matrix``      heat map of the confusion matrix (counts or shares)
``plot_roc_curve``             ROC curve with its AUC
``plot_filters``               a conv layer's learned filters as images
``plot_feature_maps``          a conv layer's output channels for one image
``plot_loss_curve``            training / validation loss per epoch
``plot_returns``               reinforcement-learning returns per episode, running mean
=============================  =======================================================

Every function returns a ``matplotlib.figure.Figure`` (a notebook shows it when it is the
last expression), saves it when given ``path=`` (PNG unless the extension says otherwise)
and shows it in a window with ``show=True``. matplotlib is an optional dependency,
imported only when a figure is made: ``pip install "shendu[plot]"``. Learning curves of a
Keras-style ``fit`` are drawn by ``shendu.keras.utils.plot_history``.

>>> import numpy as np
>>> from shendu.viz import image_grid
>>> fig = image_grid(np.random.default_rng(0).random((12, 8, 8)), labels=np.arange(12) % 10)
>>> len(fig.axes)
12
"""
from .conv import plot_feature_maps, plot_filters
from .curves import plot_loss_curve, plot_returns
from .evaluation import plot_confusion_matrix, plot_roc_curve
from .images import image_grid

__all__ = ["image_grid", "plot_confusion_matrix", "plot_roc_curve", "plot_filters",
           "plot_feature_maps", "plot_loss_curve", "plot_returns"]
