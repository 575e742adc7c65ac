"""Keras layer wrappers: ``Bidirectional`` (a recurrent layer run both ways) and
``TimeDistributed`` (a layer applied to every timestep).

>>> import shendu
>>> from shendu.keras import layers
>>> layers.Bidirectional(layers.LSTM(4))(shendu.zeros(2, 5, 3)).shape
(2, 8)
>>> layers.TimeDistributed(layers.Dense(6))(shendu.zeros(2, 5, 3)).shape
(2, 5, 6)
"""
from __future__ import annotations

from ... import ops
from .base import Layer, _shape_str

__all__ = ["Bidirectional", "TimeDistributed"]

_MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _check_layer(owner, layer):
    if not isinstance(layer, Layer):
        raise TypeError(f"{owner} wraps a Keras layer, got {type(layer).__name__}")


class Bidirectional(Layer):
    """Runs a recurrent layer forwards and a copy of it backwards and merges the outputs.

    ``Bidirectional(layer, merge_mode="concat", backward_layer=None)``: ``merge_mode`` is
    ``"concat"`` (features side by side: forward first), ``"sum"``, ``"mul"``, ``"ave"`` or
    None (a list ``[forward, backward]``). The backward copy is built from the layer's
    config with ``go_backwards`` flipped (names ``forward_<name>`` / ``backward_<name>``);
    with ``return_sequences`` its outputs are re-reversed so step t of both directions
    lines up. With ``return_state`` the output is followed by the forward then backward
    states. Weights: the forward layer's, then the backward layer's.
    """

    supports_masking = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None, **kwargs):
        if weights is not None:
            raise NotImplementedError("Bidirectional(weights=...) is not supported; call "
                                      "set_weights once built")
        super().__init__(**kwargs)
        _check_layer("Bidirectional", layer)
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Bidirectional: merge_mode must be one of {list(_MERGE_MODES)}, "
                             f"got {merge_mode!r}")
        if not hasattr(layer, "go_backwards") or not hasattr(layer, "return_sequences"):
            raise ValueError(f"Bidirectional needs a recurrent layer (LSTM, GRU, SimpleRNN), got "
                             f"{type(layer).__name__}")
        config = layer.get_config()
        config["name"] = "forward_" + _strip(layer.name, "forward_")
        self.forward_layer = type(layer).from_config(config)
        if backward_layer is None:
            config = layer.get_config()
            config["name"] = "backward_" + _strip(_strip(layer.name, "forward_"), "backward_")
            config["go_backwards"] = not layer.go_backwards
            backward_layer = type(layer).from_config(config)
        else:
            _check_layer("Bidirectional", backward_layer)
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError("Bidirectional: backward_layer.go_backwards must differ from "
                                 "layer.go_backwards")
            if backward_layer.return_sequences != layer.return_sequences or \
                    backward_layer.return_state != layer.return_state:
                raise ValueError("Bidirectional: the forward and backward layers must agree on "
                                 "return_sequences and return_state")
        self.backward_layer = backward_layer
        self.merge_mode = merge_mode
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state

    def build(self, input_shape):
        self.forward_layer._maybe_build(tuple(input_shape))
        self.backward_layer._maybe_build(tuple(input_shape))
        self.built = True

    def _merge(self, y_f, y_b):
        if self.merge_mode == "concat":
            return ops.cat([y_f, y_b], -1)
        if self.merge_mode == "sum":
            return y_f + y_b
        if self.merge_mode == "mul":
            return y_f * y_b
        if self.merge_mode == "ave":
            return (y_f + y_b) * 0.5
        return [y_f, y_b]

    def call(self, inputs, mask=None, training=None, initial_state=None):
        f_state = b_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            f_state, b_state = initial_state[:half], initial_state[half:]
        y_f = self.forward_layer(inputs, mask=mask, training=training, initial_state=f_state)
        y_b = self.backward_layer(inputs, mask=mask, training=training, initial_state=b_state)
        states = []
        if self.return_state:
            y_f, states_f = y_f[0], list(y_f[1:])
            y_b, states_b = y_b[0], list(y_b[1:])
            states = states_f + states_b
        if self.return_sequences:
            y_b = y_b.flip(1)
        out = self._merge(y_f, y_b)
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states
        return out

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        out = mask if self.return_sequences else None
        if self.merge_mode is None:
            out = [out, out]
        else:
            out = [out]
        if self.return_state:
            return out + [None] * (2 * self.forward_layer._states)
        return out if self.merge_mode is None else out[0]

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(tuple(input_shape))
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            out = tuple(shape[:-1]) + (shape[-1] * 2,)
        elif self.merge_mode is None:
            out = [tuple(shape), tuple(shape)]
        else:
            out = tuple(shape)
        if self.return_state:
            return (out if isinstance(out, list) else [out]) + states + states
        return out

    def get_config(self):
        from ..saving import serialize_layer
        config = super().get_config()
        config.update(layer=serialize_layer(self.forward_layer), merge_mode=self.merge_mode,
                      backward_layer=serialize_layer(self.backward_layer))
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving import deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            backward = deserialize_layer(backward, custom_objects)
        return cls(layer, backward_layer=backward, **config)

    def extra_repr(self):
        return f"name={self.name}, merge_mode={self.merge_mode}"


class TimeDistributed(Layer):
    """Applies ``layer`` to every timestep: ``(N, T, ...)`` is folded to ``(N * T, ...)``,
    run through the layer and unfolded. ``TimeDistributed(Dense(n))`` gives
    ``(N, T, n)``; the same weights serve every step. The input's mask passes through.
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        super().__init__(**kwargs)
        _check_layer("TimeDistributed", layer)
        self.layer = layer

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects inputs of rank >= 3 "
                             f"(batch, timesteps, ...), got {_shape_str(tuple(input_shape))}")
        self.layer._maybe_build((None,) + tuple(input_shape[2:]))
        self.built = True

    def _fold(self, x, fn):
        if x.ndim < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects inputs of rank >= 3 "
                             f"(batch, timesteps, ...), got inputs of shape {x.shape}")
        n, t = x.shape[:2]
        y = fn(x.reshape((n * t,) + tuple(x.shape[2:])))
        return y.reshape((n, t) + tuple(y.shape[1:]))

    def call(self, inputs, training=None):
        return self._fold(inputs, lambda x: self.layer(x, training=training))

    @property
    def activation(self):
        """The wrapped layer's activation (lets ``fit`` fuse softmax with the loss)."""
        return getattr(self.layer, "activation", None) \
            if hasattr(self.layer, "_pre_activation") else None

    def _pre_activation(self, inputs):
        return self._fold(inputs, self.layer._pre_activation)

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape((None,) + tuple(input_shape[2:]))
        return tuple(input_shape[:2]) + tuple(inner[1:])

    def get_config(self):
        from ..saving import serialize_layer
        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from ..saving import deserialize_layer
        config = dict(config)
        layer = deserialize_layer(config.pop("layer"), custom_objects)
        return cls(layer, **config)

    def extra_repr(self):
        return f"name={self.name}, layer={self.layer.name}"
