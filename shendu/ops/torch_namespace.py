"""The neural-network functions PyTorch also exposes as ``torch.<name>`` (``torch.conv2d``,
``torch.dropout``, ``torch.layer_norm``, ``torch.cosine_similarity``...), with the
argument order of the ``torch.*`` form.

Most are ``torch.nn.functional``'s functions under a second name. Where the
``torch.*`` form orders its arguments differently (``torch.embedding(weight, indices)``,
``torch.batch_norm(input, weight, bias, running_mean, running_var, ...)``) the
function here takes that order. New code should call ``shendu.nn.functional``.

>>> import shendu
>>> shendu.cosine_similarity(shendu.tensor([[1.0, 0.0]]), shendu.tensor([[1.0, 1.0]]))
tensor([0.7071])
"""
from __future__ import annotations


from . import compare_select as _cs
from . import reduce as _red
from . import reduce_norm as _rn
from .adaptive_pooling import adaptive_avg_pool1d, adaptive_max_pool1d as _amp1d
from .avg_pooling import avg_pool1d
from .conv import conv1d, conv2d, conv3d
from .conv_transpose import conv_transpose1d, conv_transpose2d, conv_transpose3d
from .dropout import alpha_dropout as _alpha_dropout, dropout as _dropout
from .dropout import _feature_dropout
from .elementwise import _floating
from .embedding import embedding as _embedding
from .linear import bilinear
from .normalization import (batch_norm as _batch_norm, group_norm, instance_norm as
                            _instance_norm, layer_norm as _layer_norm)
from .pooling import max_pool1d, max_pool2d, max_pool3d
from .resample import pixel_shuffle, pixel_unshuffle

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "avg_pool1d", "max_pool1d", "max_pool2d", "max_pool3d",
           "adaptive_avg_pool1d", "adaptive_max_pool1d", "pixel_shuffle", "pixel_unshuffle",
           "bilinear", "group_norm", "layer_norm", "batch_norm", "instance_norm", "dropout",
           "alpha_dropout", "feature_dropout", "embedding", "cosine_similarity",
           "pairwise_distance", "pdist", "hardshrink"]


def dropout(input, p, train):
    """``torch.dropout(input, p, train)``: ``F.dropout(input, p, training=train)``."""
    return _dropout(input, p, train)


def alpha_dropout(input, p, train):
    """``torch.alpha_dropout(input, p, train)``: ``F.alpha_dropout(input, p, train)``."""
    return _alpha_dropout(input, p, train)


def feature_dropout(input, p, train):
    """``torch.feature_dropout``: one draw per (sample, channel) of an ``(N, C, *)``
    input, broadcast over the other axes."""
    return _feature_dropout(input, p, train, "feature_dropout")


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5,
               cudnn_enable=True):
    """``torch.layer_norm``: ``F.layer_norm`` (``cudnn_enable`` is ignored)."""
    return _layer_norm(input, normalized_shape, weight, bias, eps)


def batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps,
               cudnn_enabled=True):
    """``torch.batch_norm`` (weight and bias come first, unlike ``F.batch_norm``)."""
    return _batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input, weight, bias, running_mean, running_var, use_input_stats, momentum,
                  eps, cudnn_enabled=True):
    """``torch.instance_norm`` (weight and bias first, as ``torch.batch_norm``)."""
    return _instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                          momentum, eps)


def adaptive_max_pool1d(input, output_size):
    """``torch.adaptive_max_pool1d``: always ``(output, indices)``."""
    return _amp1d(input, output_size, return_indices=True)


def embedding(weight, indices, padding_idx=-1, scale_grad_by_freq=False, sparse=False):
    """``torch.embedding(weight, indices)`` (weight first, unlike ``F.embedding``)."""
    return _embedding(indices, weight, None if padding_idx == -1 else padding_idx)


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """``x1 . x2 / max(||x1|| ||x2||, eps)`` along ``dim`` (broadcasting)."""
    a, b = _floating(x1, "cosine_similarity"), _floating(x2, "cosine_similarity")
    dot = _red.sum(a * b, dim)
    denom = _rn.norm(a, 2, dim) * _rn.norm(b, 2, dim)
    return dot / _cs.clamp(denom, eps, None)


def pairwise_distance(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    """``||x1 - x2 + eps||_p`` along the last dimension."""
    a = _floating(x1, "pairwise_distance")
    return _rn.norm(a - x2 + eps, p, -1, keepdim)


def pdist(input, p=2):
    """The p-norm distances between all pairs of rows i < j of an (N, M) input, as a
    flat (N (N - 1) / 2,) tensor (the upper triangle of ``cdist(x, x)``)."""
    import numpy as np
    from .indexing import getitem
    x = _floating(input, "pdist")
    if x.ndim != 2:
        raise RuntimeError(f"pdist: expected a 2-D tensor, got shape {x.shape}")
    i, j = np.triu_indices(x.shape[0], 1)
    return _rn.norm(getitem(x, i) - getitem(x, j), p, -1)


def hardshrink(input, lambd=0.5):
    """``x`` where ``|x| > lambd``, else 0."""
    import numpy as np
    from ..autograd.tensor import Tensor
    x = _floating(input, "hardshrink")
    keep = Tensor._make((np.abs(x.__array__()) > lambd).astype(x.dtype))
    return x * keep



