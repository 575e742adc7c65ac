"""What a CNN learned: its first layer's filters as images, and the feature maps a conv
layer produces for one image (caught with a forward hook)."""
from __future__ import annotations

import math

import numpy as np

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ._mpl import finish, grid_layout, new_figure, to_numpy
from .images import display_ready

__all__ = ["plot_filters", "plot_feature_maps"]


def _conv_weight_of(module):
    """``(out, in, kh, kw)`` weight of a conv layer: PyTorch-style ``weight`` or Keras-style
    ``kernel`` (kh, kw, in, out); ``None`` when the module has neither."""
    weight = getattr(module, "weight", None)
    if weight is not None and len(getattr(weight, "shape", ())) == 4:
        return to_numpy(weight, "plot_filters", "weight")
    kernel = getattr(module, "kernel", None)
    if kernel is not None and len(getattr(kernel, "shape", ())) == 4:
        return to_numpy(kernel, "plot_filters", "kernel").transpose(3, 2, 0, 1)
    return None


def _conv_layers(model):
    """``[(name, module)]`` of the conv layers (4-D weights) of ``model``, in order."""
    if hasattr(model, "named_modules"):
        pairs = list(model.named_modules())
    else:
        pairs = [("", model)]
    return [(f"layer {name!r} ({type(m).__name__})" if name else type(m).__name__, m)
            for name, m in pairs if _conv_weight_of(m) is not None]


def _grid(fig, n, ncols):
    ncols = max(1, min(ncols, n))
    nrows = math.ceil(n / ncols)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[n:]:
        ax.axis("off")
    return axes


def _stretch(a):
    lo, hi = a.min(), a.max()
    return (a - lo) / (hi - lo) if hi > lo else np.zeros_like(a)


def plot_filters(weight, path=None, ncols=8, max_filters=64, channel=None, cmap="gray",
                 title=None, figsize=None, show=False):
    """A conv layer's filters drawn as small images (the course's "what the CNN learned").

    Parameters
    ----------
    weight : (out_channels, in_channels, kh, kw) array/Tensor, or a conv layer
        (``nn.Conv2d``: its ``weight``; a Keras-style layer: its ``kernel`` of shape
        (kh, kw, in, out)), or a model: its first conv layer is drawn
    path : str or Path, optional; save the figure there (PNG by default)
    ncols : int, default 8; max_filters : int, default 64 (the first ones are drawn)
    channel : int, optional
        Draw only this input channel of every filter. By default a filter over 1 channel
        is drawn in grey, over 3 channels (RGB input) in colour; with another number of
        input channels each (filter, channel) kernel gets its own cell, one row per filter.
    cmap : colour map for one-channel kernels (default "gray": white = large weight)
    title, figsize : optional; show : bool, default False

    Each kernel is stretched to its own min..max, so the pattern shows, not the scale.

    Returns
    -------
    matplotlib.figure.Figure

    >>> import numpy as np
    >>> from shendu.viz import plot_filters
    >>> fig = plot_filters(np.random.default_rng(0).normal(size=(6, 1, 3, 3)), ncols=3)
    >>> len(fig.axes), fig.axes[0].get_title()
    (6, 'filter 0')
    """
    w = None
    if isinstance(weight, Tensor) or hasattr(weight, "shape") or isinstance(weight, list):
        w = to_numpy(weight, "plot_filters", "weight")
        if w.ndim != 4:
            raise ValueError(f"plot_filters expects a conv weight of shape (out_channels, "
                             f"in_channels, kh, kw), got shape {w.shape}")
        name = "conv weight"
    else:
        layers = _conv_layers(weight)
        if not layers:
            raise TypeError(f"plot_filters: {type(weight).__name__} has no conv layer (no "
                            f"4-D weight); pass a conv layer, a model holding one, or a "
                            f"weight array of shape (out_channels, in_channels, kh, kw)")
        name, layer = layers[0]
        w = _conv_weight_of(layer)
    w = w.astype(np.float64)
    out_ch, in_ch = w.shape[:2]
    if channel is not None:
        if not -in_ch <= channel < in_ch:
            raise ValueError(f"plot_filters: channel {channel} is out of range for filters "
                             f"over {in_ch} input channels")
        w = w[:, channel:channel + 1] if channel != -1 else w[:, -1:]
        in_ch = 1
    n_filters = min(out_ch, int(max_filters))
    if in_ch in (1, 3):
        cells = [(f"filter {i}", w[i, 0] if in_ch == 1 else w[i].transpose(1, 2, 0))
                 for i in range(n_filters)]
        cols = ncols
    else:  # one row per filter, one column per input channel
        shown_in = min(in_ch, 16)
        cells = [(f"f{i} c{c}", w[i, c]) for i in range(n_filters) for c in range(shown_in)]
        cols = shown_in
    rows = math.ceil(len(cells) / max(1, min(cols, len(cells))))
    cols_used = max(1, min(cols, len(cells)))
    fig = new_figure("plot_filters", figsize or (1.1 * cols_used, 1.25 * rows + 0.5), show)
    axes = _grid(fig, len(cells), cols)
    for ax, (label, kernel) in zip(axes, cells):
        ax.imshow(_stretch(kernel), cmap=cmap if kernel.ndim == 2 else None,
                  interpolation="nearest", vmin=0.0, vmax=1.0)
        ax.set_title(label, fontsize=7)
    if title is None:
        title = (f"{name}: {n_filters} of {out_ch} filters, {w.shape[2]}x{w.shape[3]}"
                 + (f", input channel {channel}" if channel is not None else ""))
    fig.suptitle(title, fontsize=10)
    grid_layout(fig, rows, suptitle=True)
    return finish(fig, path, show)


def _pick_layer(model, layer):
    """``(name, module)`` of the layer whose output is drawn."""
    convs = _conv_layers(model)
    if layer is None:
        if not convs:
            raise ValueError(f"plot_feature_maps: found no conv layer in "
                             f"{type(model).__name__}; pass layer= (a module, its name in "
                             f"model.named_modules(), or an index into the conv layers)")
        return convs[0]
    if isinstance(layer, int) and not isinstance(layer, bool):
        if not -len(convs) <= layer < len(convs):
            raise ValueError(f"plot_feature_maps: layer={layer} but the model has "
                             f"{len(convs)} conv layers")
        return convs[layer]
    if isinstance(layer, str):
        named = dict(model.named_modules()) if hasattr(model, "named_modules") else {}
        if layer not in named:
            raise ValueError(f"plot_feature_maps: no layer named {layer!r}; the names are "
                             f"{[n for n in named if n]}")
        return f"layer {layer!r} ({type(named[layer]).__name__})", named[layer]
    return type(layer).__name__, layer


def _model_input(image, model, data_format):
    """A (1, C, H, W) (or (1, H, W, C)) Tensor in the dtype/device of the model's weights."""
    arr = to_numpy(image, "plot_feature_maps", "image")
    if arr.ndim == 2:
        arr = arr[None] if data_format == "channels_first" else arr[..., None]
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4:
        raise ValueError(f"plot_feature_maps: image must be (H, W), (C, H, W) or a batch "
                         f"(N, C, H, W), got shape {arr.shape}")
    arr = arr[:1]
    params = list(model.parameters()) if hasattr(model, "parameters") else []
    dtype = params[0].dtype if params else np.float32
    device = params[0].device if params else None
    return Tensor(arr.astype(dtype), device=device), arr


def plot_feature_maps(model, image, layer=None, path=None, ncols=8, max_maps=32,
                      cmap="viridis", title=None, figsize=None, data_format=None, show=False):
    """The feature maps (output channels) of a conv layer for one input image.

    The model is run once on the image, in eval mode and without recording a graph; a
    forward hook on the chosen layer catches its output. The first cell shows the input.

    Parameters
    ----------
    model : an ``nn.Module`` (a whole model or the conv layer itself)
    image : (H, W), (C, H, W) or (1, C, H, W) array/Tensor, preprocessed as the model
        expects (integers are cast to the weights' dtype, not rescaled)
    layer : None (the first conv layer), an int (index into the conv layers), a name
        from ``model.named_modules()`` (e.g. ``"0"`` or ``"features.3"``), or the module
    path : str or Path, optional; save the figure there (PNG by default)
    ncols : int, default 8; max_maps : int, default 32 (the first channels are drawn)
    cmap : colour map of the maps (default "viridis": yellow = strong activation)
    data_format : None (the layer's ``data_format`` if it has one, else channels_first),
        "channels_first" or "channels_last"
    title, figsize : optional; show : bool, default False

    Returns
    -------
    matplotlib.figure.Figure

    >>> import numpy as np, shendu
    >>> from shendu import nn
    >>> from shendu.viz import plot_feature_maps
    >>> model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU())
    >>> fig = plot_feature_maps(model, np.zeros((8, 8), np.float32), ncols=5)
    >>> [ax.get_title() for ax in fig.axes]
    ['input', 'map 0', 'map 1', 'map 2', 'map 3']
    """
    if not callable(model) or not hasattr(model, "register_forward_hook"):
        raise TypeError(f"plot_feature_maps needs an nn.Module (with register_forward_hook), "
                        f"got {type(model).__name__}")
    name, target = _pick_layer(model, layer)
    if not hasattr(target, "register_forward_hook"):
        raise TypeError(f"plot_feature_maps: layer= must be an nn.Module, a name or an "
                        f"index, got a {type(target).__name__}")
    data_format = data_format or getattr(target, "data_format", None) or "channels_first"
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"plot_feature_maps: data_format must be 'channels_first' or "
                         f"'channels_last', got {data_format!r}")
    x, shown = _model_input(image, model, data_format)
    caught = []
    handle = target.register_forward_hook(lambda module, args, output: caught.append(output))
    modes = [(m, m.training) for m in model.modules()] if hasattr(model, "modules") else []
    try:
        if hasattr(model, "eval"):
            model.eval()
        with no_grad():
            model(x)
    finally:
        handle.remove()
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
    if not caught:
        raise ValueError(f"plot_feature_maps: {name} was not called by the model's "
                         f"forward")
    out = caught[0][0] if isinstance(caught[0], (tuple, list)) else caught[0]
    maps = to_numpy(out, "plot_feature_maps", "layer output")
    if maps.ndim != 4:
        raise ValueError(f"plot_feature_maps: {name} returned shape {maps.shape}; "
                         f"feature maps need a 4-D (N, C, H, W) output")
    maps = maps[0] if data_format == "channels_first" else maps[0].transpose(2, 0, 1)
    n = min(len(maps), int(max_maps))
    cols = max(1, min(int(ncols), n + 1))
    rows = math.ceil((n + 1) / cols)
    fig = new_figure("plot_feature_maps", figsize or (1.3 * cols, 1.4 * rows + 0.5), show)
    axes = _grid(fig, n + 1, cols)
    first = shown[0] if data_format == "channels_last" else np.moveaxis(shown[0], 0, -1)
    first = first[..., 0] if first.shape[-1] == 1 else first
    if first.ndim == 3 and first.shape[-1] not in (3, 4):
        first = first[..., 0]  # many input channels: show the first
    img, kwargs = display_ready(first)
    axes[0].imshow(img, cmap="gray" if img.ndim == 2 else None, interpolation="nearest",
                   **kwargs)
    axes[0].set_title("input", fontsize=8)
    for c in range(n):
        axes[c + 1].imshow(maps[c], cmap=cmap, interpolation="nearest")
        axes[c + 1].set_title(f"map {c}", fontsize=8)
    if title is None:
        title = (f"feature maps of {name}: {n} of {len(maps)} channels, "
                 f"{maps.shape[1]}x{maps.shape[2]}")
    fig.suptitle(title, fontsize=10)
    grid_layout(fig, rows, suptitle=True)
    return finish(fig, path, show)
