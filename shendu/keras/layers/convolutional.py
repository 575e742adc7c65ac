"""Keras convolution layers: ``Conv1D``, ``Conv2D``, ``Conv3D``, ``Conv1DTranspose``,
``Conv2DTranspose`` (``SeparableConv2D`` and ``DepthwiseConv2D`` are not provided).

Keras's conventions, not PyTorch's:

* images are **channels last** by default: ``(batch, height, width, channels)``;
  ``data_format="channels_first"`` takes ``(batch, channels, height, width)``;
* ``padding="valid"`` (no padding) or ``"same"`` (output size ``ceil(size / stride)``,
  the extra pixel going after, as TensorFlow pads), and ``"causal"`` for ``Conv1D``;
* the kernel is ``kernel_size + (in_channels // groups, filters)`` (PyTorch's
  ``Conv2d.weight`` is ``(filters, in_channels // groups, kh, kw)``); a transposed
  convolution's kernel is ``kernel_size + (filters, in_channels)``;
* ``kernel_initializer="glorot_uniform"``, ``bias_initializer="zeros"``.

The computation is shendu's ``conv1d`` / ``conv2d`` / ``conv3d`` (``conv_transpose*``) on
the channels-first view, with the kernel permuted to PyTorch's layout on each call.

>>> import shendu
>>> from shendu.keras import layers
>>> conv = layers.Conv2D(8, 3, padding="same", activation="relu")
>>> conv(shendu.zeros(2, 28, 28, 1)).shape, conv.kernel.shape
((2, 28, 28, 8), (3, 3, 1, 8))
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...nn import functional as F
from .. import activations, initializers, regularizers
from .base import Layer, _shape_str
from .core import _act_config, _serialize_or_fail

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose"]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_T = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _tuple(value, n, owner, what, minimum=1):
    """``value`` (an int or n ints) as a tuple of n ints >= minimum, or a clear error."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        out = (int(value),) * n
    else:
        try:
            out = tuple(int(v) for v in value)
        except TypeError:
            raise TypeError(f"{owner}: {what} must be an int or a tuple of {n} ints, got "
                            f"{value!r}") from None
        if len(out) != n:
            raise ValueError(f"{owner}: {what} must be an int or a tuple of {n} ints, got "
                             f"{value!r}")
    if any(v < minimum for v in out):
        raise ValueError(f"{owner}: {what} must be >= {minimum}, got {value!r}")
    return out


def _data_format(value, owner):
    value = "channels_last" if value is None else value
    if value not in ("channels_last", "channels_first"):
        raise ValueError(f"{owner}: data_format must be 'channels_last' or 'channels_first', "
                         f"got {value!r}")
    return value


def _padding(value, owner, allowed=("valid", "same")):
    if not isinstance(value, str) or value.lower() not in allowed:
        raise ValueError(f"{owner}: padding must be one of {list(allowed)}, got {value!r}")
    return value.lower()


def same_pads(size, kernel, stride, dilation=1):
    """TensorFlow's "same" padding of one axis: ``(before, after)`` so that the output has
    ``ceil(size / stride)`` positions; the odd pixel goes after."""
    extent = (kernel - 1) * dilation + 1
    out = -(-size // stride)
    total = max((out - 1) * stride + extent - size, 0)
    return total // 2, total - total // 2


def out_length(size, kernel, stride, padding, dilation=1):
    """Output length of one axis for Keras's paddings (None stays None)."""
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    extent = (kernel - 1) * dilation + 1
    if padding == "causal":
        size = size + extent - 1
    return max((size - extent) // stride + 1, 0)


def to_channels_first(x, n):
    """``(N, *spatial, C)`` -> ``(N, C, *spatial)``."""
    return x.moveaxis(-1, 1)


def to_channels_last(x, n):
    return x.moveaxis(1, -1)


def pad_spatial(x, pairs, value=0.0):
    """Pad the last ``len(pairs)`` axes of a channels-first ``x`` by (before, after)."""
    if not any(a or b for a, b in pairs):
        return x
    flat = tuple(v for pair in reversed(pairs) for v in pair)
    return F.pad(x, flat, mode="constant", value=value)


class _Conv(Layer):
    _rank = 2
    _transposed = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, output_padding=None, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        n = self._rank
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"{name}: filters must be a positive integer, got {filters!r}")
        if activity_regularizer is not None or kernel_constraint is not None or \
                bias_constraint is not None:
            raise NotImplementedError(f"{name}: activity_regularizer and constraints are not "
                                      "supported in shendu.keras")
        self.filters = int(filters)
        self.kernel_size = _tuple(kernel_size, n, name, "kernel_size")
        self.strides = _tuple(strides, n, name, "strides")
        allowed = ("valid", "same", "causal") if n == 1 and not self._transposed \
            else ("valid", "same")
        self.padding = _padding(padding, name, allowed)
        self.data_format = _data_format(data_format, name)
        self.dilation_rate = _tuple(dilation_rate, n, name, "dilation_rate")
        if any(d != 1 for d in self.dilation_rate) and any(s != 1 for s in self.strides):
            raise ValueError(f"{name}: strides > 1 together with dilation_rate > 1 is not "
                             f"supported (as in Keras), got strides={self.strides}, "
                             f"dilation_rate={self.dilation_rate}")
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        self.groups = int(groups)
        if self.filters % self.groups:
            raise ValueError(f"{name}: filters ({self.filters}) must be divisible by groups "
                             f"({self.groups})")
        self.output_padding = None if output_padding is None else \
            _tuple(output_padding, n, name, "output_padding", 0)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = None
        self.bias = None
        self._in = None

    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        name = type(self).__name__
        n = self._rank
        if len(input_shape) != n + 2:
            raise ValueError(f"{name} '{self.name}' expects inputs of rank {n + 2} (batch, "
                             f"{'spatial..., channels' if self.data_format == 'channels_last' else 'channels, spatial...'}), "
                             f"got input shape {_shape_str(tuple(input_shape))}")
        c = input_shape[self._channel_axis()]
        if c is None:
            raise ValueError(f"{name} '{self.name}': the channel dimension of the inputs must "
                             f"be known, got input shape {_shape_str(tuple(input_shape))}")
        c = int(c)
        if c % self.groups:
            raise ValueError(f"{name} '{self.name}': the input channels ({c}) must be divisible "
                             f"by groups ({self.groups})")
        self._in = c
        if self._transposed:
            shape = self.kernel_size + (self.filters, c)
        else:
            shape = self.kernel_size + (c // self.groups, self.filters)
        self.kernel = self.add_weight(shape=shape, name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), name="bias",
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer)
        self.built = True

    def _torch_kernel(self):
        """The kernel in PyTorch's layout: (out, in/groups, *k), or (in, out, *k) when
        transposed (Keras's transposed kernel is (*k, out, in))."""
        n = self._rank
        return self.kernel.permute(n + 1, n, *range(n))

    def _check(self, x):
        n = self._rank
        if x.ndim != n + 2 or x.shape[self._channel_axis()] != self._in:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of rank "
                             f"{n + 2} with {self._in} channels on axis {self._channel_axis()} "
                             f"(data_format='{self.data_format}'), got inputs of shape "
                             f"{x.shape}")

    def _convolve(self, x):
        """``x`` channels first -> output channels first, before bias and activation."""
        n = self._rank
        w = self._torch_kernel()
        if self.padding == "valid":
            return _CONV[n](x, w, None, self.strides, 0, self.dilation_rate, self.groups)
        if self.padding == "causal":
            pairs = [((self.kernel_size[0] - 1) * self.dilation_rate[0], 0)]
        else:
            pairs = [same_pads(x.shape[2 + i], self.kernel_size[i], self.strides[i],
                               self.dilation_rate[i]) for i in range(n)]
        x = pad_spatial(x, pairs)
        return _CONV[n](x, w, None, self.strides, 0, self.dilation_rate, self.groups)

    def call(self, inputs):
        x = inputs
        self._check(x)
        if x.dtype != self.kernel.dtype:
            x = ops.cast(x, self.kernel.dtype)
        n = self._rank
        last = self.data_format == "channels_last"
        if last:
            x = to_channels_first(x, n)
        y = self._convolve(x)
        if self.bias is not None:
            y = y + self.bias.reshape((1, self.filters) + (1,) * n)
        if last:
            y = to_channels_last(y, n)
        return y if self.activation is activations.linear else self.activation(y)

    def _pre_activation(self, inputs):
        act, self.activation = self.activation, activations.linear
        try:
            return self.call(inputs)
        finally:
            self.activation = act

    def _spatial_out(self, sizes):
        return [out_length(s, k, st, self.padding, d) for s, k, st, d in
                zip(sizes, self.kernel_size, self.strides, self.dilation_rate)]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        if self.data_format == "channels_last":
            return (shape[0],) + tuple(self._spatial_out(shape[1:-1])) + (self.filters,)
        return (shape[0], self.filters) + tuple(self._spatial_out(shape[2:]))

    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, kernel_size=list(self.kernel_size),
                      strides=list(self.strides), padding=self.padding,
                      data_format=self.data_format, dilation_rate=list(self.dilation_rate),
                      groups=self.groups, activation=_act_config(self.activation),
                      use_bias=self.use_bias)
        if self._transposed:
            config["output_padding"] = None if self.output_padding is None else \
                list(self.output_padding)
            config.pop("groups")
        for name, mod in (("kernel_initializer", initializers), ("bias_initializer", initializers),
                          ("kernel_regularizer", regularizers), ("bias_regularizer", regularizers)):
            config[name] = _serialize_or_fail(mod, getattr(self, name), name, self)
        return config

    def extra_repr(self):
        return (f"name={self.name}, filters={self.filters}, kernel_size={self.kernel_size}, "
                f"strides={self.strides}, padding={self.padding}")


class Conv1D(_Conv):
    """1-D convolution over ``(batch, steps, channels)`` (channels last) sequences.

    ``Conv1D(filters, kernel_size, strides=1, padding="valid", data_format="channels_last",
    dilation_rate=1, groups=1, activation=None, use_bias=True)``; ``padding="causal"`` pads
    only the start, so output t sees inputs up to t. Kernel ``(k, in // groups, filters)``.
    """
    _rank = 1


class Conv2D(_Conv):
    """2-D convolution over ``(batch, height, width, channels)`` images (channels last).

    ``Conv2D(filters, kernel_size, strides=(1, 1), padding="valid",
    data_format="channels_last", dilation_rate=(1, 1), groups=1, activation=None,
    use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros")``.
    Kernel ``(kh, kw, in // groups, filters)``, bias ``(filters,)``.

    Course example::

        layers.Conv2D(filters=64, kernel_size=3, activation="relu", padding="same",
                      input_shape=[128, 128, 3])
    """
    _rank = 2


class Conv3D(_Conv):
    """3-D convolution over ``(batch, depth, height, width, channels)`` volumes."""
    _rank = 3


class _ConvTranspose(_Conv):
    _transposed = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=1,
                         activation=activation, use_bias=use_bias, output_padding=output_padding,
                         **kwargs)
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__}: output_padding {self.output_padding} must "
                             f"be smaller than strides {self.strides}")

    def _convolve(self, x):
        """The gradient of a convolution: the full ("valid") transposed convolution, then
        cropped (or zero-extended) to Keras's output size."""
        n = self._rank
        y = _CONV_T[n](x, self._torch_kernel(), None, self.strides, 0, 0, 1, self.dilation_rate)
        slices = [slice(None), slice(None)]
        pads = []
        for i in range(n):
            size, full = x.shape[2 + i], y.shape[2 + i]
            target = self._length(size, i)
            if self.padding == "same":  # TensorFlow: the forward conv's "same" pads
                extent = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
                start = max((size - 1) * self.strides[i] + extent - target, 0) // 2
            else:
                start = 0
            stop = min(start + target, full)
            slices.append(slice(start, stop))
            pads.append((0, target - (stop - start)))
        y = y[tuple(slices)]
        return pad_spatial(y, pads)

    def _length(self, size, i):
        """Keras's output length of axis i (``compute_conv_transpose_output_shape``)."""
        if size is None:
            return None
        k = (self.kernel_size[i] - 1) * self.dilation_rate[i] + 1
        s = self.strides[i]
        if self.output_padding is None:
            return size * s if self.padding == "same" else size * s + max(k - s, 0)
        pad = k // 2 if self.padding == "same" else 0
        return (size - 1) * s + k - 2 * pad + self.output_padding[i]

    def _spatial_out(self, sizes):
        return [self._length(s, i) for i, s in enumerate(sizes)]


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1-D convolution (the gradient of ``Conv1D``); kernel ``(k, filters, in)``."""
    _rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2-D convolution (upsampling by a learned kernel).

    ``Conv2DTranspose(filters, kernel_size, strides=(1, 1), padding="valid",
    output_padding=None, data_format="channels_last", dilation_rate=(1, 1))``. Output size
    per axis: ``size * stride`` with ``padding="same"``, ``size * stride + max(k - stride,
    0)`` with ``"valid"`` (Keras's rule). Kernel ``(kh, kw, filters, in_channels)``.
    """
    _rank = 2
