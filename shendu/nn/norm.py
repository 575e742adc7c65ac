"""Normalization layers: ``BatchNorm1d/2d/3d``, ``LayerNorm``, ``GroupNorm``,
``InstanceNorm1d/2d/3d``.

>>> import shendu
>>> from shendu import nn
>>> bn = nn.BatchNorm1d(3)
>>> y = bn(shendu.randn(16, 3))          # training: normalized with the batch's stats
>>> [name for name, _ in bn.named_buffers()]
['running_mean', 'running_var', 'num_batches_tracked']
>>> nn.LayerNorm(8)(shendu.randn(2, 5, 8)).shape
(2, 5, 8)
>>> nn.GroupNorm(4, 16)(shendu.randn(2, 16, 8, 8)).shape
(2, 16, 8, 8)
"""
from __future__ import annotations

import numbers
import warnings

from .. import backend
from ..autograd.tensor import Tensor
from ..ops import creation
from ..ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from . import init
from .module import Module
from .parameter import Parameter

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LayerNorm", "GroupNorm",
           "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


def _affine_parameters(module, shape, affine, bias, dtype, device):
    """Register the per-feature scale ``weight`` and shift ``bias`` of a normalization
    layer (left uninitialized: ``reset_parameters`` sets them), or None for each."""
    weight = Parameter(creation.empty(shape, dtype=dtype, device=device)) if affine else None
    shift = Parameter(creation.empty(shape, dtype=dtype, device=device)) \
        if affine and bias else None
    module.register_parameter("weight", weight)
    module.register_parameter("bias", shift)


class _BatchNorm(Module):
    """Shared code of the BatchNorm layers (they differ only in the accepted ranks)."""

    _ranks = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, device=None, dtype=None, *, bias=True):
        super().__init__()
        if not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive integer "
                             f"(the number of channels C), got {num_features!r}")
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        dtype = backend.to_dtype(dtype)
        _affine_parameters(self, num_features, affine, bias, dtype, device)
        if track_running_stats:
            self.register_buffer("running_mean",
                                 creation.zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var",
                                 creation.ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked",
                                 creation.zeros((), dtype=backend.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)
        self.reset_parameters()

    def reset_running_stats(self):
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self):
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def _check_input(self, input):
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
        if input.ndim not in self._ranks:
            raise ValueError(f"{name}: expected {' or '.join(f'{r}D' for r in self._ranks)} "
                             f"input (got {input.ndim}D input of shape {input.shape})")
        if input.shape[1] != self.num_features:
            raise ValueError(f"{name}({self.num_features}) got input of shape {input.shape}: "
                             f"expected {self.num_features} channels in dimension 1")
        if self.training and input.numel() // self.num_features <= 1:
            # checked before the running statistics are touched: a failed call changes nothing
            raise ValueError(f"{name}: expected more than 1 value per channel when training, "
                             f"got input of shape {input.shape}; use a batch of 2 or more "
                             "samples (or call model.eval() for single-sample inference)")

    def forward(self, input):
        self._check_input(input)
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and self.running_var is None)
        track = not self.training or self.track_running_stats
        return batch_norm(input, self.running_mean if track else None,
                          self.running_var if track else None, self.weight, self.bias,
                          use_batch_stats, factor, self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalization (Ioffe & Szegedy 2015) of ``(N, C)`` or ``(N, C, L)`` inputs.

    In training, each channel is normalized with the mean and (biased) variance of the
    batch, then scaled by ``weight`` (gamma, starts at 1) and shifted by ``bias`` (beta,
    starts at 0). The running averages ``running_mean`` / ``running_var`` (unbiased
    variance) are updated with ``momentum`` (``None``: a cumulative average) and used
    in evaluation mode instead of the batch's statistics.

    Parameters
    ----------
    num_features : int, C
    eps : float, default 1e-5, added to the variance
    momentum : float or None, default 0.1
    affine : bool, default True, learn weight and bias
    track_running_stats : bool, default True
    bias : bool, default True (keyword only), learn the shift when ``affine``
    """

    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalization of ``(N, C, H, W)`` inputs (per channel, over N, H and W);
    see ``BatchNorm1d``."""

    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalization of ``(N, C, D, H, W)`` inputs; see ``BatchNorm1d``."""

    _ranks = (5,)


class LayerNorm(Module):
    """Layer normalization (Ba et al. 2016): each sample is normalized over its last
    dimensions ``normalized_shape``, then scaled and shifted element-wise. Same in
    training and evaluation.

    Parameters
    ----------
    normalized_shape : int or tuple, the trailing shape, e.g. ``d_model``
    eps : float, default 1e-5
    elementwise_affine : bool, default True, learn ``weight`` (ones) and ``bias`` (zeros)
    bias : bool, default True
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True,
                 device=None, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, numbers.Integral):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        dtype = backend.to_dtype(dtype)
        _affine_parameters(self, self.normalized_shape, elementwise_affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        if self.elementwise_affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        shape = self.normalized_shape
        if isinstance(input, Tensor) and input.shape[len(input.shape) - len(shape):] != shape:
            raise ValueError(f"LayerNorm({shape}) got input of shape {input.shape}: expected "
                             f"its last dimensions to be {shape}")
        return layer_norm(input, shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class _InstanceNorm(_BatchNorm):
    """Shared code of the InstanceNorm layers (they differ in the accepted ranks)."""

    _spatial = 2

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None, *, bias=True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device,
                         dtype, bias=bias)

    def forward(self, input):
        name = type(self).__name__
        nd = self._spatial
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor, got {type(input).__name__}")
        if input.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"{name}: expected {nd + 1}D (unbatched) or {nd + 2}D input "
                             f"(got {input.ndim}D input of shape {input.shape})")
        feature_dim = input.ndim - (nd + 1)
        if input.shape[feature_dim] != self.num_features:
            if self.affine:
                raise ValueError(f"{name}({self.num_features}) got input of shape "
                                 f"{input.shape}: expected {self.num_features} channels in "
                                 f"dimension {feature_dim}")
            warnings.warn(f"{name}: input's size at dim={feature_dim} does not match "
                          "num_features. You can silence this warning by not passing in "
                          "num_features, which is not used because affine=False",
                          stacklevel=2)
        batched = input.ndim == nd + 2
        x = input if batched else input.unsqueeze(0)
        y = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats,
                          0.0 if self.momentum is None else self.momentum, self.eps)
        return y if batched else y.squeeze(0)


class InstanceNorm1d(_InstanceNorm):
    """Instance normalization of ``(N, C, L)`` (or ``(C, L)``) inputs: each channel of
    each sample normalized over L; see ``InstanceNorm2d``."""

    _spatial = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalization (Ulyanov et al. 2016) of ``(N, C, H, W)`` (or ``(C, H, W)``)
    inputs: each channel of each sample is normalized over its H x W positions.

    Parameters
    ----------
    num_features : int, C
    eps : float, default 1e-5
    momentum : float or None, default 0.1 (for the running statistics)
    affine : bool, default False, learn a per-channel weight (ones) and bias (zeros)
    track_running_stats : bool, default False
        Keep running averages of the per-instance statistics and use them in
        evaluation mode (otherwise every mode uses the input's own statistics).
    """

    _spatial = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalization of ``(N, C, D, H, W)`` inputs; see ``InstanceNorm2d``."""

    _spatial = 3


class GroupNorm(Module):
    """Group normalization (Wu & He 2018): the C channels are split into ``num_groups``
    groups and each sample's group is normalized over its channels and positions, then
    scaled and shifted per channel. Independent of the batch size, same in training and
    evaluation.

    Parameters
    ----------
    num_groups : int, dividing ``num_channels``
    num_channels : int, C
    eps : float, default 1e-5
    affine : bool, default True, learn ``weight`` (ones) and ``bias`` (zeros) of shape (C,)
    bias : bool, default True (keyword only)

    Shape: ``(N, C, *) -> (N, C, *)``.
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, device=None,
                 dtype=None, *, bias=True):
        super().__init__()
        if not isinstance(num_groups, int) or num_groups <= 0 or \
                not isinstance(num_channels, int) or num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        dtype = backend.to_dtype(dtype)
        _affine_parameters(self, num_channels, affine, bias, dtype, device)
        self.reset_parameters()

    def reset_parameters(self):
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)

    def forward(self, input):
        if isinstance(input, Tensor) and (input.ndim < 2 or input.shape[1] != self.num_channels):
            raise ValueError(f"GroupNorm({self.num_groups}, {self.num_channels}) got input of "
                             f"shape {input.shape}: expected (N, {self.num_channels}, *)")
        return group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, "
                f"affine={self.affine}, bias={self.bias is not None}")
