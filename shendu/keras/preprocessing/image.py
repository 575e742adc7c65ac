"""Image helpers of ``keras.utils`` / ``keras.preprocessing.image``: arrays to PIL images
and back, loading and saving image files.

These need Pillow (it comes with matplotlib: ``pip install shendu[plot]``).

``array_to_img(x, scale=True)`` maps an (H, W, C) array (C = 1, 3 or 4; channels first with
``data_format="channels_first"``) to a PIL image: with ``scale`` the values are shifted
and stretched to 0..255 first, ``x' = 255 (x - min x) / max(x - min x)``, as Keras does.

>>> import numpy as np
>>> img = array_to_img(np.linspace(0, 1, 12).reshape(2, 2, 3))
>>> img.mode, img.size
('RGB', (2, 2))
>>> img_to_array(img).shape
(2, 2, 3)
"""
from __future__ import annotations

import os

import numpy as np

__all__ = ["array_to_img", "img_to_array", "load_img", "save_img"]


def _pil(who):
    try:
        from PIL import Image
    except ImportError as e:  # pragma: no cover - Pillow ships with matplotlib
        raise ImportError(f"keras.utils.{who} needs Pillow: pip install shendu[plot] "
                          "(or pip install pillow)") from e
    return Image


def _data_format(data_format, who):
    data_format = data_format or "channels_last"
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(f"{who}: data_format must be 'channels_last' or 'channels_first', "
                         f"got {data_format!r}")
    return data_format


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """A PIL image from a 3-D array (H, W, C) with C in {1, 3, 4}: "L", "RGB" or "RGBA".

    ``scale=True`` stretches the values to 0..255; without it they must already be in
    0..255. A Tensor is accepted (its values are copied)."""
    Image = _pil("array_to_img")
    data_format = _data_format(data_format, "array_to_img")
    x = np.array(x.numpy() if hasattr(x, "numpy") else x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"array_to_img expects an image array of rank 3 (height, width, "
                         f"channels), got an array of shape {x.shape}")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        top = np.max(x)
        if top != 0:
            x = x / top
        x = x * 255
    c = x.shape[2]
    if c not in (1, 3, 4):
        raise ValueError(f"array_to_img: an image needs 1, 3 or 4 channels, got {c} "
                         f"(array of shape {x.shape})")
    pixels = np.clip(np.round(x), 0, 255).astype(np.uint8)
    if c == 1:
        return Image.fromarray(pixels[:, :, 0], "L")
    return Image.fromarray(pixels, "RGB" if c == 3 else "RGBA")


def img_to_array(img, data_format=None, dtype=None):
    """A float32 array (H, W, C) from a PIL image (a grey image gets C = 1)."""
    data_format = _data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        x = x[:, :, None]
    elif x.ndim != 3:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}")
    return x.transpose(2, 0, 1) if data_format == "channels_first" else x


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Load an image file as a PIL image; ``color_mode`` "grayscale", "rgb" or "rgba";
    ``target_size=(height, width)`` resizes it."""
    Image = _pil("load_img")
    modes = {"grayscale": "L", "rgb": "RGB", "rgba": "RGBA"}
    if color_mode not in modes:
        raise ValueError(f"load_img: color_mode must be one of {sorted(modes)}, got "
                         f"{color_mode!r}")
    if not os.path.exists(os.fspath(path)):
        raise FileNotFoundError(f"load_img: no image file at {path!r}")
    img = Image.open(path)
    img.load()
    if img.mode != modes[color_mode]:
        img = img.convert(modes[color_mode])
    if target_size is not None:
        filters = {"nearest": Image.NEAREST, "bilinear": Image.BILINEAR,
                   "bicubic": Image.BICUBIC, "lanczos": Image.LANCZOS, "box": Image.BOX,
                   "hamming": Image.HAMMING}
        if interpolation not in filters:
            raise ValueError(f"load_img: interpolation must be one of {sorted(filters)}, got "
                             f"{interpolation!r}")
        h, w = int(target_size[0]), int(target_size[1])
        if keep_aspect_ratio:
            scale = min(img.width / w, img.height / h)
            cw, ch = int(w * scale), int(h * scale)
            left, top = (img.width - cw) // 2, (img.height - ch) // 2
            img = img.crop((left, top, left + cw, top + ch))
        if img.size != (w, h):
            img = img.resize((w, h), filters[interpolation])
    return img


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Save an array as an image file (the format from the file name or ``file_format``);
    written to a temporary file and renamed, so a failed save leaves no broken file."""
    img = array_to_img(x, data_format=data_format, scale=scale)
    path = os.fspath(path)
    fmt = file_format or os.path.splitext(path)[1].lstrip(".") or None
    if img.mode == "RGBA" and (fmt or "").lower() in ("jpg", "jpeg"):
        img = img.convert("RGB")
    tmp = path + ".tmp"
    try:
        img.save(tmp, format={"jpg": "jpeg"}.get((fmt or "").lower(), fmt), **kwargs)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
