"""Helpers around parameters: gradient clipping and flattening to one vector.

>>> import shendu
>>> from shendu import nn
>>> model = nn.Linear(3, 2)
>>> v = nn.utils.parameters_to_vector(model.parameters())
>>> v.shape
(8,)
>>> nn.utils.vector_to_parameters(v * 0, model.parameters())
>>> float(model.weight.abs().sum())
0.0
"""
from __future__ import annotations

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...optim.clip import clip_grad_norm_, clip_grad_value_, get_total_norm  # noqa: F401

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "parameters_to_vector",
           "vector_to_parameters"]


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened and concatenated in order
    (differentiable)."""
    from ... import ops
    params = list(parameters)
    if not params:
        raise ValueError("parameters_to_vector: got no parameters")
    return ops.cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy the slices of the 1-D ``vec`` back into ``parameters`` (in place, no graph)."""
    if not isinstance(vec, Tensor) or vec.ndim != 1:
        raise TypeError(f"vector_to_parameters: expected a 1-D Tensor, got "
                        f"{getattr(vec, 'shape', type(vec).__name__)}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if total != vec.numel():
        raise ValueError(f"vector_to_parameters: the vector has {vec.numel()} elements but the "
                         f"parameters hold {total}")
    start = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p.copy_(vec._data[start:start + n].reshape(p.shape))
            start += n

from . import rnn  # noqa: E402  (shendu.nn.utils.rnn: pack/pad variable-length sequences)
