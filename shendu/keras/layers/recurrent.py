"""Keras recurrent layers: ``SimpleRNN``, ``LSTM``, ``GRU``.

Keras's conventions: inputs ``(batch, timesteps, features)``; ``return_sequences``
(all steps' outputs, else the last one), ``return_state`` (also the final states),
``go_backwards`` (run over the reversed sequence; the returned sequence stays reversed),
``dropout`` (on the inputs) and ``recurrent_dropout`` (on the state fed back), both one
mask per sequence as in Keras.

Weights in Keras's layout (``get_weights`` / ``set_weights`` take Keras's arrays):

* ``kernel`` ``(features, G * units)``, ``recurrent_kernel`` ``(units, G * units)``;
* LSTM: G = 4, gates ``i, f, c, o`` (PyTorch's order), ``bias`` ``(4 * units,)`` with
  the forget slice initialized to 1 (``unit_forget_bias=True``);
* GRU: G = 3, gates ``z, r, h`` (PyTorch: r, z, n); with ``reset_after=True`` (the
  default, PyTorch's equations) ``bias`` is ``(2, 3 * units)``: input and recurrent;
* SimpleRNN: ``bias`` ``(units,)``.

Masks (``Embedding(mask_zero=True)``, ``Masking`` or ``mask=``): a masked step leaves the
state unchanged and outputs the previous output, as Keras does.

Without a mask, with the default activations and no recurrent dropout, the whole
sequence runs as one fused shendu Function (``shendu.ops.recurrent``, as ``nn.LSTM``);
otherwise step by step with ordinary differentiable ops.

>>> import shendu
>>> from shendu.keras import layers
>>> lstm = layers.LSTM(8, return_sequences=True)
>>> lstm(shendu.zeros(2, 5, 3)).shape, lstm.kernel.shape
((2, 5, 8), (3, 32))
"""
from __future__ import annotations

import numpy as np

from ... import backend, ops
from ...autograd.tensor import Tensor
from ...ops import recurrent as _fn
from .. import activations, initializers, regularizers
from .base import Layer, _ElementwiseLayer, _shape_str
from .core import _act_config, _serialize_or_fail

__all__ = ["SimpleRNN", "LSTM", "GRU", "Masking"]

_TANH = activations.get("tanh")
_SIGMOID = activations.get("sigmoid")
_RELU = activations.get("relu")


def _as_mask(mask, x):
    """A boolean array (batch, steps) from a mask Tensor / array / list, or None."""
    if mask is None:
        return None
    if isinstance(mask, (list, tuple)):
        mask = mask[0]
        if mask is None:
            return None
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    m = x.xp.asarray(m).astype(bool)
    if m.shape != tuple(x.shape[:2]):
        raise ValueError(f"the mask has shape {tuple(m.shape)} but the inputs {x.shape} need a "
                         f"mask of shape {tuple(x.shape[:2])} (batch, timesteps)")
    return m


def _dropout_mask(x, shape, rate):
    gen = backend.default_generator(x.xp)
    keep = gen.random(shape) >= rate
    return Tensor._make(x.xp.asarray(keep.astype(x.dtype) / x.dtype.type(1.0 - rate)))


class _RNN(Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, weights, masks and the loop."""

    _gates = 1
    _states = 1
    supports_masking = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, **kwargs):
        super().__init__(**kwargs)
        name = type(self).__name__
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units <= 0:
            raise ValueError(f"{name}: units must be a positive integer, got {units!r}")
        if stateful:
            raise NotImplementedError(f"{name}(stateful=True) is not supported in shendu.keras")
        if activity_regularizer is not None or kernel_constraint is not None or \
                recurrent_constraint is not None or bias_constraint is not None:
            raise NotImplementedError(f"{name}: activity_regularizer and constraints are not "
                                      "supported in shendu.keras")
        for what, v in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= v < 1:
                raise ValueError(f"{name}: {what} must be in [0, 1), got {v}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.dropout = float(dropout)
        self.recurrent_dropout = float(recurrent_dropout)
        self.seed = seed
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.unroll = bool(unroll)
        self.kernel = self.recurrent_kernel = self.bias = None
        self._in = None

    # ---------------------------------------------------------------- weights
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _bias_init(self):
        return self.bias_initializer

    def build(self, input_shape):
        name = type(self).__name__
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"{name} '{self.name}' expects inputs of shape (batch, timesteps, "
                             f"features) with known features, got "
                             f"{_shape_str(tuple(input_shape))}")
        self._in = int(input_shape[-1])
        g = self._gates * self.units
        self.kernel = self.add_weight(shape=(self._in, g), name="kernel",
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer)
        self.recurrent_kernel = self.add_weight(shape=(self.units, g), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer)
        if self.use_bias:
            self.bias = self.add_weight(shape=self._bias_shape(), name="bias",
                                        initializer=self._bias_init(),
                                        regularizer=self.bias_regularizer)
        self.built = True

    # ---------------------------------------------------------------- calling
    def call(self, inputs, mask=None, training=None, initial_state=None):
        x = inputs
        name = type(self).__name__
        if x.ndim != 3 or x.shape[-1] != self._in:
            raise ValueError(f"{name} '{self.name}' expects inputs of shape (batch, timesteps, "
                             f"{self._in}), got {x.shape}")
        if x.shape[1] == 0:
            raise ValueError(f"{name} '{self.name}' got a sequence of 0 timesteps")
        if x.dtype != self.kernel.dtype:
            x = ops.cast(x, self.kernel.dtype)
        m = _as_mask(mask, x)
        if m is not None and bool(m.all()):
            m = None
        if self.go_backwards:
            x = x.flip(1)
            m = None if m is None else m[:, ::-1]
        batch = x.shape[0]
        states = self._initial_states(initial_state, x)
        if training and self.dropout > 0:
            x = x * _dropout_mask(x, (batch, 1, self._in), self.dropout)
        rmask = None
        if training and self.recurrent_dropout > 0:
            rmask = _dropout_mask(x, (batch, self.units), self.recurrent_dropout)
        if m is None and rmask is None and self._fusable():
            seq, states = self._fused(x, states)
        else:
            seq, states = self._loop(x, states, m, rmask)
        out = seq if self.return_sequences else states[0]
        if self.return_state:
            return [out] + list(states)
        return out

    def _initial_states(self, initial_state, x):
        n = x.shape[0]
        if initial_state is None:
            zero = Tensor._make(x.xp.zeros((n, self.units), dtype=x.dtype))
            return [zero] * self._states
        if isinstance(initial_state, (Tensor, np.ndarray)):
            initial_state = [initial_state]
        states = [s if isinstance(s, Tensor) else Tensor._make(x.xp.asarray(s, dtype=x.dtype))
                  for s in initial_state]
        if len(states) != self._states or any(s.shape != (n, self.units) for s in states):
            raise ValueError(f"{type(self).__name__} '{self.name}': initial_state must be "
                             f"{self._states} tensor(s) of shape ({n}, {self.units}), got "
                             f"{[s.shape for s in states]}")
        return states

    def compute_mask(self, inputs, mask=None):
        out = mask if self.return_sequences else None
        if isinstance(out, (list, tuple)):
            out = out[0]
        if self.return_state:
            return [out] + [None] * self._states
        return out

    def compute_output_shape(self, input_shape):
        n, t = input_shape[0], input_shape[1]
        out = (n, t, self.units) if self.return_sequences else (n, self.units)
        if self.return_state:
            return [out] + [(n, self.units)] * self._states
        return out

    def _keeps_input_dtype(self):
        return False

    def _loop(self, x, states, m, rmask):
        """Step by step: the reference semantics (masks, any activations)."""
        steps = x.shape[1]
        proj = ops.matmul(x, self.kernel)
        bias = self._input_bias()
        if bias is not None:
            proj = proj + bias
        outputs = []
        for t in range(steps):
            new = self._step(proj[:, t], states, rmask)
            if m is not None:
                keep = Tensor._make(m[:, t:t + 1])
                new = [ops.where(keep, a, b) for a, b in zip(new, states)]
            states = new
            outputs.append(states[0])
        seq = ops.stack(outputs, 1) if self.return_sequences else None
        return seq, states

    def _input_bias(self):
        return self.bias

    def _fused_weights(self):
        w_ih = self.kernel.swapaxes(0, 1)
        w_hh = self.recurrent_kernel.swapaxes(0, 1)
        if self.bias is None:
            return w_ih, w_hh, None, None
        zeros = Tensor._make(self.bias.xp.zeros(self.bias.shape, dtype=self.bias.dtype))
        return w_ih, w_hh, self.bias, zeros

    def _fused(self, x, states):
        n, steps, _ = x.shape
        flat = x.swapaxes(0, 1).reshape(steps * n, self._in)
        res = self._apply_fused(flat, states, self._fused_weights(),
                                _fn.uniform_schedule(steps, n))
        seq = res[0].reshape(steps, n, self.units).swapaxes(0, 1) \
            if self.return_sequences else None
        return seq, list(res[1:])

    # ---------------------------------------------------------------- config
    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=_act_config(self.activation),
                      use_bias=self.use_bias, dropout=self.dropout,
                      recurrent_dropout=self.recurrent_dropout, seed=self.seed,
                      return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, unroll=self.unroll)
        for name, mod in (("kernel_initializer", initializers),
                          ("recurrent_initializer", initializers),
                          ("bias_initializer", initializers),
                          ("kernel_regularizer", regularizers),
                          ("recurrent_regularizer", regularizers),
                          ("bias_regularizer", regularizers)):
            config[name] = _serialize_or_fail(mod, getattr(self, name), name, self)
        return config

    def extra_repr(self):
        return f"name={self.name}, units={self.units}, return_sequences={self.return_sequences}"


class SimpleRNN(_RNN):
    """A fully connected RNN: ``h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel
    + bias)`` (``activation="tanh"``)."""

    def __init__(self, units, activation="tanh", **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, **kwargs)

    def _fusable(self):
        return self.activation is _TANH or self.activation is _RELU

    def _apply_fused(self, flat, states, weights, sched):
        kind = "tanh" if self.activation is _TANH else "relu"
        return _fn.RNNLayer.apply(flat, states[0], *weights, sched, kind)

    def _step(self, xp_t, states, rmask):
        h = states[0]
        hin = h if rmask is None else h * rmask
        return [self.activation(xp_t + ops.matmul(hin, self.recurrent_kernel))]


class LSTM(_RNN):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), Keras's ``LSTM``.

    ``i, f, o = recurrent_activation(...)``, ``c~ = activation(...)`` of
    ``x_t @ kernel + h_{t-1} @ recurrent_kernel + bias`` (gate order i, f, c, o);
    ``c_t = f * c_{t-1} + i * c~``, ``h_t = o * activation(c_t)``. The output is h_t;
    ``return_state=True`` returns ``[output, h_T, c_T]``.

    Keras's weights map to ``nn.LSTM``'s as ``weight_ih_l0 = kernel.T``,
    ``weight_hh_l0 = recurrent_kernel.T``, ``bias_ih_l0 = bias``, ``bias_hh_l0 = 0``.
    """

    _gates = 4
    _states = 2

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_init(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        init, u = self.bias_initializer, self.units

        def forget_ones(shape, dtype=None):
            dtype = dtype or "float32"
            return np.concatenate([np.asarray(init((u,), dtype)), np.ones((u,), dtype),
                                   np.asarray(init((2 * u,), dtype))]).astype(dtype)
        return forget_ones

    def _fusable(self):
        return self.activation is _TANH and self.recurrent_activation is _SIGMOID

    def _apply_fused(self, flat, states, weights, sched):
        return _fn.LSTMLayer.apply(flat, states[0], states[1], *weights, sched)

    def _step(self, xp_t, states, rmask):
        h, c = states
        u = self.units
        hin = h if rmask is None else h * rmask
        z = xp_t + ops.matmul(hin, self.recurrent_kernel)
        ra, act = self.recurrent_activation, self.activation
        i, f = ra(z[:, :u]), ra(z[:, u:2 * u])
        g, o = act(z[:, 2 * u:3 * u]), ra(z[:, 3 * u:])
        c = f * c + i * g
        return [o * act(c), c]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=_act_config(self.recurrent_activation),
                      unit_forget_bias=self.unit_forget_bias)
        return config


class GRU(_RNN):
    """Gated recurrent unit (Cho et al. 2014), Keras's ``GRU`` (``reset_after=True``).

    ``z, r = recurrent_activation(x_t W + b_in + h_{t-1} U + b_rec)`` (gate order z, r, h);
    ``h~ = activation(x_t W_h + b_in_h + r * (h_{t-1} U_h + b_rec_h))``;
    ``h_t = z * h_{t-1} + (1 - z) * h~``: PyTorch's GRU equations, with the gate blocks
    reordered (PyTorch: r, z, n). ``reset_after=False`` (Keras 2's default) applies the
    reset gate before the recurrent product and has one bias row.
    """

    _gates = 3
    _states = 1

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, recurrent_activation=recurrent_activation,
                         **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        g = 3 * self.units
        return (2, g) if self.reset_after else (g,)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias[0] if self.reset_after else self.bias

    def _fusable(self):
        return self.reset_after and self.activation is _TANH and \
            self.recurrent_activation is _SIGMOID

    def _reorder(self, w):
        """Keras's gate blocks (z, r, h) along the last axis -> PyTorch's (r, z, n)."""
        u = self.units
        return ops.cat([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], -1)

    def _fused_weights(self):
        w_ih = self._reorder(self.kernel).swapaxes(0, 1)
        w_hh = self._reorder(self.recurrent_kernel).swapaxes(0, 1)
        if self.bias is None:
            return w_ih, w_hh, None, None
        b = self._reorder(self.bias)
        return w_ih, w_hh, b[0], b[1]

    def _apply_fused(self, flat, states, weights, sched):
        return _fn.GRULayer.apply(flat, states[0], *weights, sched)

    def _step(self, xp_t, states, rmask):
        h = states[0]
        u = self.units
        hin = h if rmask is None else h * rmask
        ra, act = self.recurrent_activation, self.activation
        if self.reset_after:
            hz = ops.matmul(hin, self.recurrent_kernel)
            if self.bias is not None:
                hz = hz + self.bias[1]
            z = ra(xp_t[:, :u] + hz[:, :u])
            r = ra(xp_t[:, u:2 * u] + hz[:, u:2 * u])
            hh = act(xp_t[:, 2 * u:] + r * hz[:, 2 * u:])
        else:
            hz = ops.matmul(hin, self.recurrent_kernel[:, :2 * u])
            z = ra(xp_t[:, :u] + hz[:, :u])
            r = ra(xp_t[:, u:2 * u] + hz[:, u:])
            hh = act(xp_t[:, 2 * u:] + ops.matmul(r * hin, self.recurrent_kernel[:, 2 * u:]))
        return [z * h + (1.0 - z) * hh]

    def get_config(self):
        config = super().get_config()
        config.update(recurrent_activation=_act_config(self.recurrent_activation),
                      reset_after=self.reset_after)
        return config


class Masking(_ElementwiseLayer):
    """Masks the timesteps whose features all equal ``mask_value``: the output is the input
    with those steps zeroed, carrying the mask ``any(x != mask_value, axis=-1)`` that
    the recurrent layers honour."""

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)

    def _mask_array(self, inputs):
        return (inputs._data != inputs.dtype.type(self.mask_value)).any(axis=-1)

    def call(self, inputs):
        keep = self._mask_array(inputs)[..., None].astype(inputs.dtype)
        return inputs * Tensor._make(keep)

    def compute_mask(self, inputs, mask=None):
        return Tensor._make(self._mask_array(inputs))

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
