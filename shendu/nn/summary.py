"""``summary``: a table of a model's layers, output shapes and parameter counts.

It runs the model once on a dummy batch (in evaluation mode, without a graph) with a
forward hook on every layer, like torchinfo, and prints a Keras-style table.

>>> import shendu
>>> from shendu import nn
>>> model = nn.Sequential(nn.Flatten(), nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
>>> s = nn.summary(model, input_shape=(2, 2), print_fn=None)
>>> s.total_params, s.trainable_params
(67, 67)
>>> print(s)
Model: "Sequential"
──────────────────────────────────────────────────────────────────
Layer (type)                    Output Shape               Param #
══════════════════════════════════════════════════════════════════
0 (Flatten)                     (None, 4)                        0
1 (Linear)                      (None, 8)                       40
2 (ReLU)                        (None, 8)                        0
3 (Linear)                      (None, 3)                       27
══════════════════════════════════════════════════════════════════
Total params: 67
Trainable params: 67
Non-trainable params: 0
──────────────────────────────────────────────────────────────────
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from .module import Module

__all__ = ["summary", "ModelSummary"]

_WIDTHS = (32, 24, 10)


class ModelSummary:
    """What ``summary`` returns: ``rows`` of ``(name, type, output_shape, params)``,
    ``total_params``, ``trainable_params``, ``non_trainable_params``; ``str()`` is the
    table."""

    def __init__(self, model_name, rows, total, trainable):
        self.model_name = model_name
        self.rows = rows
        self.total_params = total
        self.trainable_params = trainable
        self.non_trainable_params = total - trainable

    def __str__(self):
        w1, w2, w3 = _WIDTHS
        width = w1 + w2 + w3
        lines = [f'Model: "{self.model_name}"', "─" * width,
                 f"{'Layer (type)':<{w1}}{'Output Shape':<{w2}}{'Param #':>{w3}}", "═" * width]
        for name, kind, shape, params in self.rows:
            label = f"{name} ({kind})" if name else f"({kind})"
            lines.append(f"{label:<{w1 - 1}} {shape:<{w2}}{params:>{w3},}")
        lines += ["═" * width, f"Total params: {self.total_params:,}",
                  f"Trainable params: {self.trainable_params:,}",
                  f"Non-trainable params: {self.non_trainable_params:,}", "─" * width]
        return "\n".join(lines)

    __repr__ = __str__


def _shape_text(out, batch_is_none):
    if isinstance(out, Tensor):
        shape = list(out.shape)
        if batch_is_none and shape:
            return "(" + ", ".join(["None"] + [str(s) for s in shape[1:]]) + \
                ("," if len(shape) == 1 else "") + ")"
        return str(tuple(shape))
    if isinstance(out, (tuple, list)):
        return "[" + ", ".join(_shape_text(o, batch_is_none) for o in out) + "]"
    return type(out).__name__


def _dummy(shape, dtype, xp):
    dtype = backend.to_dtype(dtype)
    if dtype.kind in "iub":  # token ids / labels: 0 is always a valid index
        return Tensor(xp.zeros(shape, dtype))
    rng = np.random.default_rng(0)  # its own generator: the user's seed is untouched
    return Tensor(xp.asarray(rng.standard_normal(shape).astype(dtype)))


def summary(model, input_size=None, input_shape=None, dtype=None, print_fn=print,
            input_data=None):
    """Print (and return) a table of ``model``'s layers.

    Parameters
    ----------
    model : Module
    input_size : tuple, the full input shape including the batch, e.g. ``(32, 1, 28, 28)``
        (torchinfo's convention). Several inputs: a list of tuples.
    input_shape : tuple, the shape of one sample without the batch, e.g. ``(1, 28, 28)``
        (Keras's convention); the batch dimension is shown as ``None``.
    dtype : the dummy input's dtype (default float32; use ``shendu.int64`` for token ids)
    print_fn : called with the table text; ``None`` prints nothing
    input_data : Tensor (or tuple of Tensors), a real input to run instead of a dummy

    Returns
    -------
    ModelSummary (``str()`` gives the table; counts as attributes)
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: expected a Module, got {type(model).__name__}")
    batch_is_none = input_size is None and input_shape is not None
    params = list(model.parameters())
    xp = params[0].xp if params else np
    if input_data is not None:
        inputs = input_data if isinstance(input_data, (tuple, list)) else (input_data,)
    else:
        if input_size is None and input_shape is None:
            raise ValueError("summary: give input_size (with the batch, e.g. (32, 784)), "
                             "input_shape (one sample, e.g. (784,)) or input_data")
        sizes = input_size if input_size is not None else input_shape
        many = isinstance(sizes, list) and sizes and isinstance(sizes[0], (tuple, list))
        sizes = [tuple(s) for s in sizes] if many else [tuple(sizes)]
        if input_size is None:
            sizes = [(1,) + s for s in sizes]
        dtype = dtype if dtype is not None else backend.get_default_dtype()
        inputs = tuple(_dummy(s, dtype, xp) for s in sizes)

    outputs, order = {}, []
    handles = []
    named = list(model.named_modules())
    for name, m in named:
        def hook(mod, args, out, name=name):
            if name not in outputs:
                order.append(name)
            outputs[name] = out
        handles.append(m.register_forward_hook(hook))
    was_training = [(m, m.training) for _, m in named]
    model.eval()
    try:
        with no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for m, mode in was_training:
            object.__setattr__(m, "training", mode)

    rows = []
    for name, m in named:
        own = sum(p.numel() for p in m.parameters(recurse=False))
        is_leaf = not any(True for _ in m.children())
        if name == "" and not is_leaf and own == 0:
            continue  # the model itself: its totals are below the table
        if not is_leaf and own == 0:
            continue  # a container: its layers have rows of their own
        shape = _shape_text(outputs[name], batch_is_none) if name in outputs else "--"
        rows.append((name, type(m).__name__, shape, own))
    position = {n: i for i, n in enumerate(order)}
    rows.sort(key=lambda r: position.get(r[0], len(position)))
    total = sum(p.numel() for p in params)
    trainable = sum(p.numel() for p in params if p.requires_grad)
    result = ModelSummary(type(model).__name__, rows, total, trainable)
    if print_fn is not None:
        print_fn(str(result))
    return result
