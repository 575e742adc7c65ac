"""``model.summary()``: Keras 3's table of layers, output shapes and parameter counts.

::

    Model: "sequential"
    ┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
    ┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
    ┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
    │ dense (Dense)                   │ (None, 512)            │         6,144 │
    ├─────────────────────────────────┼────────────────────────┼───────────────┤
    │ dense_1 (Dense)                 │ (None, 1)              │           513 │
    └─────────────────────────────────┴────────────────────────┴───────────────┘
     Total params: 6,657 (26.00 KB)
     Trainable params: 6,657 (26.00 KB)
     Non-trainable params: 0 (0.00 B)
"""
from __future__ import annotations

import numpy as np

from .layers.base import _shape_str

__all__ = ["summary_lines", "readable_memory_size"]

_WIDTHS = (31, 22, 13)


def readable_memory_size(nbytes):
    """``26.00 KB`` (powers of 1024, as Keras prints them)."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes / 1024 < 1:
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.2f} PB"


def _fit(text, width):
    return text if len(text) <= width else text[:width - 1] + "…"


def _row(cells, left="│", mid="│", right="│"):
    w1, w2, w3 = _WIDTHS
    a, b, c = cells
    return (f"{left} {_fit(a, w1):<{w1}} {mid} {_fit(b, w2):<{w2}} {mid} "
            f"{_fit(c, w3):>{w3}} {right}")


def _rule(left, mid, right, fill):
    return left + mid.join(fill * (w + 2) for w in _WIDTHS) + right


def _count(tensors):
    n = sum(int(np.prod(t.shape)) for t in tensors)
    size = sum(int(np.prod(t.shape)) * t.dtype.itemsize for t in tensors)
    return n, size


def summary_lines(model, rows):
    """The summary's lines for ``rows`` of ``(label, output shape, param count)``."""
    lines = [f'Model: "{model.name}"', _rule("┏", "┳", "┓", "━"),
             _row(("Layer (type)", "Output Shape", "Param #"), "┃", "┃", "┃"),
             _rule("┡", "╇", "┩", "━")]
    for i, (label, shape, params) in enumerate(rows):
        if i:
            lines.append(_rule("├", "┼", "┤", "─"))
        lines.append(_row((label, _shape_str(shape), f"{params:,}")))
    lines.append(_rule("└", "┴", "┘", "─"))
    weights = model.weights
    ids = {id(t) for t in model.trainable_weights}
    trainable = [t for t in weights if id(t) in ids]
    non_trainable = [t for t in weights if id(t) not in ids]
    n_t, s_t = _count(trainable)
    n_n, s_n = _count(non_trainable)
    opt_n = opt_s = 0
    opt = getattr(model, "optimizer", None)
    if opt is not None and getattr(opt, "inner", None) is not None:
        for state in opt.inner.state.values():
            for v in state.values():
                if hasattr(v, "shape") and len(v.shape):
                    opt_n += int(np.prod(v.shape))
                    opt_s += int(np.prod(v.shape)) * v.dtype.itemsize
    total_n, total_s = n_t + n_n + opt_n, s_t + s_n + opt_s
    lines += [f" Total params: {total_n:,} ({readable_memory_size(total_s)})",
              f" Trainable params: {n_t:,} ({readable_memory_size(s_t)})",
              f" Non-trainable params: {n_n:,} ({readable_memory_size(s_n)})"]
    if opt_n:
        lines.append(f" Optimizer params: {opt_n:,} ({readable_memory_size(opt_s)})")
    return lines
