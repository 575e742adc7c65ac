"""Stateless functions: what the layers of ``shendu.nn`` compute, without the weights.

``import shendu.nn.functional as F`` then ``F.relu(x)``, ``F.linear(x, w, b)``,
``F.dropout(x, 0.5, training)``, ``F.cross_entropy(logits, y)``... The names and
arguments are PyTorch's. Each function lives with its Function (forward and backward)
in ``shendu.ops``; this module gathers them in one namespace.

>>> import shendu
>>> import shendu.nn.functional as F
>>> F.relu(shendu.tensor([-1.0, 2.0]))
tensor([0., 2.])
>>> F.softmax(shendu.tensor([[1.0, 1.0]]), dim=1)
tensor([[0.5000, 0.5000]])
"""
from __future__ import annotations

from ..ops.activation import *  # noqa: F401,F403  relu, gelu, softmax, log_softmax, ...
from ..ops.activation import __all__ as _activation_names
from ..ops import sigmoid, tanh, one_hot, pad  # public names (stable across file moves)
from ..ops.linear import linear, bilinear
from ..ops.dropout import dropout, dropout1d, dropout2d, dropout3d, alpha_dropout
from ..ops.normalization import batch_norm, layer_norm, group_norm, instance_norm
from ..ops.pooling import *  # noqa: F401,F403  max_pool2d, avg_pool2d, lp_pool2d, max_unpool2d ...
from ..ops.pooling import __all__ as _pooling_names
from ..ops.avg_pooling import *  # noqa: F401,F403  avg_pool2d, lp_pool2d ...
from ..ops.avg_pooling import __all__ as _avg_pooling_names
from ..ops.adaptive_pooling import *  # noqa: F401,F403  adaptive_avg_pool2d, ...
from ..ops.adaptive_pooling import __all__ as _adaptive_pooling_names
from ..ops.resample import *  # noqa: F401,F403  interpolate, upsample, pixel_shuffle, ...
from ..ops.resample import __all__ as _resample_names
from ..ops.embedding import embedding
from ..ops.attention import scaled_dot_product_attention
from ..ops.conv import conv1d, conv2d, conv3d  # noqa: F401
from ..ops.conv_transpose import (conv_transpose1d, conv_transpose2d,  # noqa: F401
                                  conv_transpose3d, unfold, fold)
from .. import ops as _ops
from .positional import rms_norm  # composed of ops, lives with nn.RMSNorm

from ..ops.loss import *  # noqa: F401,F403  mse_loss, cross_entropy, nll_loss, ...
from ..ops.loss import __all__ as _loss_names
from ..ops.ctc import ctc_loss  # noqa: F401  (re-exported)


def softmin(input, dim=None, dtype=None):
    """``softmax(-x)`` along ``dim`` (the last axis when None).

    >>> F.softmin(shendu.tensor([0.0, 0.0]))
    tensor([0.5000, 0.5000])
    """
    return _ops.softmax(-input, dim=dim, dtype=dtype)


def normalize(input, p=2.0, dim=1, eps=1e-12):
    """``x / max(||x||_p, eps)`` along ``dim``: unit vectors (PyTorch's ``F.normalize``).

    >>> F.normalize(shendu.tensor([[3.0, 4.0]]))
    tensor([[0.6000, 0.8000]])
    """
    norm = _ops.norm(input, p, dim, True)
    return input / _ops.clamp(norm, eps, None)


__all__ = sorted(set(_activation_names) | set(_loss_names) | {
    "sigmoid", "tanh", "linear", "bilinear", "dropout", "dropout1d", "dropout2d", "dropout3d",
    "alpha_dropout", "batch_norm", "layer_norm", "embedding", "one_hot", "pad", "softmin",
    "normalize", "scaled_dot_product_attention", "rms_norm", "ctc_loss"})
__all__ += ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
            "conv_transpose3d", "unfold", "fold"]
__all__ += sorted(set(_pooling_names) | set(_avg_pooling_names) | set(_adaptive_pooling_names)
                  | set(_resample_names) | {"group_norm", "instance_norm"})
