"""A grid of images with their labels and predictions: the course's 6x6 digits figure."""
from __future__ import annotations

import math

import numpy as np

from ._mpl import finish, grid_layout, new_figure, to_numpy

__all__ = ["image_grid"]

_CHANNELS = (1, 3, 4)


def as_image_batch(images, who, data_format=None):
    """``(N, H, W)`` grey or ``(N, H, W, C)`` colour images from the usual layouts.

    Accepts (N, H, W); (N, H, W, C) and (N, C, H, W) with C in 1, 3, 4 (channels last is
    preferred when both fit, unless ``data_format`` says otherwise); (N, D) flat images
    with D a square number (784 -> 28x28, 64 -> 8x8).
    """
    arr = to_numpy(images, who, "images")
    if arr.ndim == 2:
        side = math.isqrt(arr.shape[1])
        if side * side != arr.shape[1]:
            raise ValueError(f"{who}: flat images of shape {arr.shape} are not square "
                             f"({arr.shape[1]} pixels); reshape them to (N, H, W) first")
        return arr.reshape(len(arr), side, side)
    if arr.ndim == 3:
        return arr
    if arr.ndim == 4:
        last_ok, first_ok = arr.shape[3] in _CHANNELS, arr.shape[1] in _CHANNELS
        if data_format == "channels_first" or (data_format is None and first_ok
                                               and not last_ok):
            if not first_ok:
                raise ValueError(f"{who}: channels-first images need 1, 3 or 4 channels, "
                                 f"got shape {arr.shape}")
            arr = arr.transpose(0, 2, 3, 1)
        elif not arr.shape[3] in _CHANNELS:
            raise ValueError(f"{who}: cannot tell the colour channels of images of shape "
                             f"{arr.shape}: expected (N, H, W, C) or (N, C, H, W) with C = 1, "
                             f"3 or 4")
        return arr[..., 0] if arr.shape[3] == 1 else arr
    raise ValueError(f"{who}: expected images of shape (N, H, W), (N, H, W, C), "
                     f"(N, C, H, W) or flat (N, H*W), got shape {arr.shape}")


def display_ready(img):
    """``(image, imshow kwargs)``: uint8 shown as 0..255, floats in [0, 1] as they are,
    other ranges stretched per image (colour images into [0, 1], grey by the colour map)."""
    if img.ndim == 2:
        if img.dtype == np.uint8:
            return img, {"vmin": 0, "vmax": 255}
        if img.dtype.kind == "b":
            return img.astype(np.float32), {"vmin": 0, "vmax": 1}
        lo, hi = float(img.min()), float(img.max())
        if lo >= 0.0 and hi <= 1.0:
            return img, {"vmin": 0.0, "vmax": 1.0}
        return img, {"vmin": lo, "vmax": hi if hi > lo else lo + 1.0}
    if img.dtype == np.uint8:
        return img, {}
    img = img.astype(np.float64)
    lo, hi = img.min(), img.max()
    if lo < 0.0 or hi > 1.0:
        img = (img - lo) / (hi - lo) if hi > lo else np.zeros_like(img)
    return img, {}


def _names(values, class_names):
    if class_names is None:
        return [str(int(v)) for v in values]
    try:
        return [str(class_names[int(v)]) for v in values]
    except IndexError:
        raise ValueError(f"image_grid: label {int(max(values))} has no entry in class_names "
                         f"(it has {len(class_names)} names)") from None


def _as_labels(y, n, name):
    arr = to_numpy(y, "image_grid", name)
    if arr.ndim == 2:  # scores, probabilities or one-hot rows
        arr = arr.argmax(axis=1)
    arr = arr.reshape(-1)
    if len(arr) < n:
        raise ValueError(f"image_grid: {name} has {len(arr)} entries for {n} images")
    return arr[:n]


def image_grid(images, labels=None, predictions=None, class_names=None, ncols=6, path=None,
               max_images=36, cmap="binary", title=None, figsize=None, data_format=None,
               show=False):
    """Images in a grid, each titled with its label, or its prediction with wrong ones in red.

    The course's 6x6 figure of digits with ``target-predicted`` labels: with
    ``predictions`` each title is the predicted class, in black when right and in red,
    followed by the true class in brackets, when wrong.

    Parameters
    ----------
    images : (N, H, W), (N, H, W, C), (N, C, H, W) or flat (N, H*W) array or Tensor
        uint8 pixels are shown as 0..255; floats in [0, 1] as they are; other floats
        (e.g. standardized) are stretched per image.
    labels : (N,) true classes, optional (an (N, K) one-hot/score array is argmax-ed)
    predictions : (N,) predicted classes or (N, K) scores/probabilities, optional
    class_names : sequence of names indexed by class (e.g. ``FASHION_MNIST_CLASSES``)
    ncols : int, default 6; columns of the grid
    path : str or Path, optional; save the figure there (PNG unless the extension says
        otherwise)
    max_images : int, default 36; only the first ``max_images`` images are drawn
    cmap : matplotlib colour map for grey images; default "binary" (dark ink on white,
        as in the course)
    title, figsize : optional; data_format : None, "channels_first" or "channels_last"
        (only to settle (N, 3, H, 3)-like ambiguities)
    show : bool, default False; also show the figure with ``matplotlib.pyplot``

    Returns
    -------
    matplotlib.figure.Figure

    >>> import numpy as np
    >>> from shendu.viz import image_grid
    >>> fig = image_grid(np.zeros((4, 8, 8)), labels=[0, 1, 2, 3], predictions=[0, 1, 2, 1],
    ...                  ncols=4)
    >>> [ax.get_title() for ax in fig.axes]
    ['0', '1', '2', '1 (3)']
    """
    batch = as_image_batch(images, "image_grid", data_format)
    n = min(len(batch), int(max_images))
    if n == 0:
        raise ValueError("image_grid: no images to show")
    true = None if labels is None else _as_labels(labels, n, "labels")
    pred = None if predictions is None else _as_labels(predictions, n, "predictions")
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    titled = labels is not None or predictions is not None
    if title is None and predictions is not None and labels is not None:
        title = ""  # filled in below with the count of wrong predictions
    height = (1.4 + 0.2 * titled) * nrows + (0.45 if title is not None else 0.1)
    fig = new_figure("image_grid", figsize or (1.4 * ncols, height), show)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    true_names = None if true is None else _names(true, class_names)
    pred_names = None if pred is None else _names(pred, class_names)
    wrong = 0
    longest = max(len(t) for t in (true_names or []) + (pred_names or []) + [""])
    fontsize = 9 if longest * (2 if pred is not None else 1) <= 14 else 7
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= n:
            ax.axis("off")
            continue
        img, kwargs = display_ready(batch[i])
        ax.imshow(img, cmap=cmap if img.ndim == 2 else None, interpolation="nearest",
                  **kwargs)
        if pred is not None:
            ok = true is None or pred[i] == true[i]
            wrong += not ok
            text = pred_names[i] if ok else f"{pred_names[i]} ({true_names[i]})"
            ax.set_title(text, color="black" if ok else "red", fontsize=fontsize)
        elif true is not None:
            ax.set_title(true_names[i], fontsize=fontsize)
    if title == "" and pred is not None and true is not None:
        title = (f"{wrong} of {n} wrong  (title: prediction; in red when wrong, "
                 f"with the true class in brackets)")
    if title:
        fig.suptitle(title, fontsize=10)
    grid_layout(fig, nrows, titled=titled, suptitle=bool(title))
    return finish(fig, path, show)
