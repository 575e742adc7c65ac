"""Gradient clipping: bound the gradients before ``optimizer.step()``.

RNNs in particular can produce exploding gradients; clipping the total norm keeps
the step's direction and bounds its length.

>>> import shendu
>>> from shendu.optim import clip_grad_norm_
>>> w = shendu.tensor([3.0, 4.0], requires_grad=True)
>>> (w * w).sum().backward()                 # grad = 2w = [6, 8], norm 10
>>> clip_grad_norm_([w], max_norm=1.0)
tensor(10.)
>>> w.grad                                   # rescaled to norm 1
tensor([0.6000, 0.8000])

These are also ``shendu.nn.utils.clip_grad_norm_`` and ``clip_grad_value_``.
"""
from __future__ import annotations

import math
import types
import warnings

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _as_list(tensors, name):
    if isinstance(tensors, Tensor):
        return [tensors]
    is_generator = isinstance(tensors, types.GeneratorType)
    try:
        tensors = list(tensors)
    except TypeError:
        raise TypeError(f"{name}: expected a Tensor or an iterable of Tensors, got "
                        f"{type(tensors).__name__}") from None
    if is_generator and not tensors:
        warnings.warn(f"{name}: `parameters` is an empty generator, no gradient clipping "
                      "will occur (was model.parameters() already used up?)", stacklevel=3)
    return tensors


def _vector_norm(xp, a, p):
    """The p-norm of ``a`` seen as one vector (like ``torch.linalg.vector_norm``)."""
    a = a.reshape(-1)
    if a.size == 0:
        return xp.zeros((), dtype=a.dtype)
    if p == 2.0:
        return xp.sqrt(xp.dot(a, a))
    absa = xp.abs(a)
    if p == math.inf:
        return absa.max()
    if p == -math.inf:
        return absa.min()
    if p == 0.0:
        return xp.asarray(xp.count_nonzero(a), dtype=a.dtype)
    if p == 1.0:
        return absa.sum()
    return (absa ** p).sum() ** (1.0 / p)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False):
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one
    vector (the norm of their norms). Returns a 0-d Tensor.

    >>> import shendu
    >>> get_total_norm([shendu.tensor([3.0]), shendu.tensor([4.0])])
    tensor(5.)
    """
    tensors = [t for t in _as_list(tensors, "get_total_norm")]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.zeros((), dtype=backend.get_default_dtype()))
    arrays = [t._data if isinstance(t, Tensor) else t for t in tensors]
    xp = backend.get_array_module(arrays[0])
    first = backend.device_of(arrays[0])
    norms = [_vector_norm(backend.get_array_module(a), a, norm_type) for a in arrays]
    norms = [backend.move(n, first) for n in norms]
    dtype = np.result_type(*[n.dtype for n in norms])
    total = _vector_norm(xp, xp.stack([n.astype(dtype) for n in norms]), norm_type)
    if error_if_nonfinite and not bool(xp.isfinite(total)):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the "
            "gradients by the non-finite norm anyway, set `error_if_nonfinite=False`")
    return Tensor._make(xp.asarray(total))


def clip_grads_with_norm_(parameters, max_norm, total_norm):
    """Scale the gradients of ``parameters`` in place by ``min(1, max_norm / (total_norm
    + 1e-6))``, given a total norm computed before (``get_total_norm``)."""
    parameters = _as_list(parameters, "clip_grads_with_norm_")
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return
    total = total_norm._data if isinstance(total_norm, Tensor) else total_norm
    xp = backend.get_array_module(total)
    coef = xp.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        if isinstance(g._data, np.generic):
            g._data = np.array(g._data)
        c = backend.move(xp.asarray(coef), g.device).astype(g._data.dtype)
        with np.errstate(invalid="ignore"):  # inf * 0 gives NaN, as in PyTorch
            g._data *= c
        g._version += 1


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    r"""Rescale the gradients of ``parameters`` in place so that their total norm is at
    most ``max_norm``; return the total norm before clipping (a 0-d Tensor).

    .. math::  g \leftarrow g \cdot \min\!\left(1, \frac{\text{max\_norm}}{\|g\|_p + 10^{-6}}\right)

    where :math:`\|g\|_p` is the ``norm_type``-norm of all the gradients together
    (``inf`` for the largest absolute value). Parameters without a ``.grad`` are left
    out. With ``error_if_nonfinite=True`` a NaN or infinite norm raises instead of
    turning every gradient into NaN.

    Parameters
    ----------
    parameters : Tensor or iterable of Tensors (e.g. ``model.parameters()``)
    max_norm : float
    norm_type : float, default 2.0 (``float("inf")`` for the max norm)
    error_if_nonfinite : bool, default False

    Examples
    --------
    >>> import shendu
    >>> w = shendu.tensor([3.0, 4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grad_norm_(w, 5.0), w.grad
    (tensor(10.), tensor([3.0000, 4.0000]))
    """
    parameters = _as_list(parameters, "clip_grad_norm_")
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every gradient of ``parameters`` into ``[-clip_value, clip_value]``, in place.

    >>> import shendu
    >>> w = shendu.tensor([3.0, -4.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> clip_grad_value_([w], 1.0); w.grad
    tensor([ 1., -1.])
    """
    parameters = _as_list(parameters, "clip_grad_value_")
    clip_value = float(clip_value)
    for p in parameters:
        g = p.grad
        if g is None:
            continue
        if isinstance(g._data, np.generic):
            g._data = np.array(g._data)
        g.xp.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version += 1
