"""Padding: pad (PyTorch's ``F.pad``: constant, reflect, replicate, circular) and pad_np
(NumPy's ``np.pad`` arguments).

A constant pad's gradient is the centre of the output's gradient, where the input
landed; the other modes gather input elements by index (``index_select``), whose
backward adds up the gradient of every copy. Both support double backward.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .shape import Reshape, _as_tensor, _sizes

__all__ = ["pad", "pad_np"]


# ----------------------------------------------------------------------- padding
class ConstantPad(Function):
    """y = x surrounded by ``value`` (``widths[i] = (before, after)``, all >= 0);
    dL/dx = the centre of g, where x landed."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, widths, value):
        ctx.centre = tuple(slice(b, b + s) for (b, _), s in zip(widths, x.shape))
        out_shape = tuple(s + b + a for (b, a), s in zip(widths, x.shape))
        out = ctx.xp.full(out_shape, value, dtype=x.dtype)
        out[ctx.centre] = x
        return out

    @staticmethod
    def backward(ctx, g):
        return g[ctx.centre], None, None


_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "replicate",
          "circular": "circular", "edge": "replicate", "wrap": "circular"}


def _source_index(n, before, after, mode, xp):
    """For each output position along one dim, the input position it copies."""
    j = np.arange(-before, n + after)
    if mode == "reflect":
        # mirror images repeat with period 2(n - 1) (pads longer than n reflect again)
        m = 2 * (n - 1)
        j = np.abs(j) % m if m else np.zeros_like(j)
        j = np.where(j >= n, m - j, j)
    elif mode == "replicate":
        j = np.clip(j, 0, n - 1)
    else:  # circular
        j = j % n
    return xp.asarray(j)


def pad(x, pad, mode="constant", value=0.0):
    """Pad ``x`` (PyTorch's ``F.pad`` convention).

    ``pad`` is a flat tuple of (before, after) pairs starting from the LAST dimension:
    ``(left, right)`` pads the last dim, ``(left, right, top, bottom)`` the last two...
    ``mode``: ``"constant"`` (fill with ``value``; negative pads crop), ``"reflect"``
    (mirror without repeating the edge), ``"replicate"`` (repeat the edge) or
    ``"circular"`` (wrap around). PyTorch wants reflect pads < size and circular pads <=
    size; shendu also accepts longer ones, mirroring or wrapping again like ``np.pad``.

    >>> shendu.pad(shendu.tensor([1.0, 2.0, 3.0]), (2, 1), mode="reflect")
    tensor([3., 2., 1., 2., 3., 2.])
    """
    x = _as_tensor(x, "pad")
    p = _sizes((tuple(pad),), "pad")
    if len(p) % 2:
        raise ValueError(f"pad: the pad tuple must have an even length ((before, after) pairs "
                         f"from the last dimension), got {p}")
    k = len(p) // 2
    if k > x.ndim:
        raise ValueError(f"pad: {p} pads {k} dimensions but the tensor has only {x.ndim} "
                         f"(shape {x.shape})")
    if mode not in _MODES:
        raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or 'circular', "
                         f"got {mode!r}")
    mode = _MODES[mode]
    widths = [(0, 0)] * (x.ndim - k) + [(p[2 * i], p[2 * i + 1]) for i in reversed(range(k))]
    if mode == "constant":
        if any(b < 0 or a < 0 for b, a in widths):
            crop = tuple(slice(max(-b, 0), s - max(-a, 0)) for (b, a), s in zip(widths, x.shape))
            if any(c.start > c.stop for c in crop):
                raise ValueError(f"pad: negative pads {p} crop more than the tensor of shape "
                                 f"{x.shape} holds")
            from .indexing import getitem
            x = getitem(x, crop)
            widths = [(max(b, 0), max(a, 0)) for b, a in widths]
        if all(b == 0 and a == 0 for b, a in widths):
            return Reshape.apply(x, x.shape)
        value = value.item() if isinstance(value, (Tensor, np.generic)) else value
        return ConstantPad.apply(x, tuple(widths), value)
    from .indexing import index_select
    for d, (b, a) in enumerate(widths):
        if b == 0 and a == 0:
            continue
        n = x.shape[d]
        if b < 0 or a < 0:
            raise ValueError(f"pad: negative pads are only supported in constant mode, got {p}")
        if n == 0:
            raise ValueError(f"pad: cannot {mode}-pad the empty dimension {d} (tensor of shape "
                             f"{x.shape})")
        x = index_select(x, d, Tensor._make(_source_index(n, b, a, mode, x.xp)))
    return x


def pad_np(x, pad_width, mode="constant", constant_values=0):
    """NumPy's ``np.pad`` on a tensor: ``pad_width`` is an int, one ``(before, after)``
    pair for every dim, or one pair per dim. Modes ``constant``, ``reflect``, ``edge``
    and ``wrap``.

    >>> shendu.pad_np(shendu.zeros(2, 2), ((0, 0), (1, 1))).shape
    (2, 4)
    """
    x = _as_tensor(x, "pad")
    w = np.asarray(pad_width.tolist() if hasattr(pad_width, "tolist") else pad_width)
    if w.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must hold integers, got {pad_width!r}")
    try:
        w = np.broadcast_to(w.reshape(-1, 2) if w.size > 1 else w, (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad: pad_width {pad_width!r} does not fit a tensor with {x.ndim} "
                         "dimensions (give one (before, after) pair per dimension)") from None
    if (w < 0).any():
        raise ValueError(f"pad: pad_width must be non-negative, got {pad_width!r}")
    flat = tuple(int(v) for pair in w[::-1] for v in pair)
    if mode == "symmetric":
        raise ValueError("pad: mode 'symmetric' is not supported; use 'reflect', 'edge', "
                         "'wrap' or 'constant'")
    return pad(x, flat, mode, constant_values)
