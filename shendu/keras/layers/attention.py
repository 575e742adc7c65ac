"""Keras attention layers: ``MultiHeadAttention`` and ``Attention`` (Luong's dot-product
attention). ``LayerNormalization`` lives in ``normalization.py``.

Keras's semantics: inputs ``(batch, steps, features)``; boolean masks where True means
"may attend"; masks attached to the inputs (``Embedding(mask_zero=True)``) are combined
with ``attention_mask`` and ``use_causal_mask``; masked scores get ``-1e9`` before the
softmax and the weights are multiplied by the mask after it (a query that may attend to
nothing gets zero weights, as Keras 3's ``Softmax`` layer does).

>>> import shendu
>>> from shendu.keras import layers
>>> mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
>>> x = shendu.zeros(3, 5, 8)
>>> mha(x, x).shape, mha.get_weights()[0].shape
((3, 5, 8), (8, 2, 4))
"""
from __future__ import annotations

import math

import numpy as np

from ... import ops
from ...autograd.tensor import Tensor
from ...nn import functional as F
from .. import initializers, regularizers
from .base import KerasTensor, Layer, _is_symbolic, _shape_str, get_keras_mask, to_tensor
from .core import _serialize_or_fail

__all__ = ["MultiHeadAttention", "Attention"]

_NEG = -1e9


def _bool(mask, xp):
    if mask is None:
        return None
    m = mask._data if isinstance(mask, Tensor) else np.asarray(mask)
    return xp.asarray(m).astype(bool)


def _and(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a & b


def _causal(xp, t, s):
    """(1, T, S): query i may see keys j <= i (Keras's rule, also for T != S)."""
    return xp.tril(xp.ones((t, s), dtype=bool))[None]


def _no_scores_in_graphs(layer, kwargs):
    if kwargs.get("return_attention_scores"):
        raise NotImplementedError(
            f"{type(layer).__name__} '{layer.name}': return_attention_scores=True is not "
            "supported on keras.Input tensors (functional models take layers with one output); "
            "call the layer on arrays, or inside a subclassed Model's call()")


def _same_batch(layer, shapes):
    """Raise unless the known batch sizes of ``shapes`` (name -> shape) agree."""
    known = {n: s[0] for n, s in shapes.items() if s is not None and len(s) and s[0] is not None}
    if len(set(known.values())) > 1:
        got = ", ".join(f"{n} {_shape_str(tuple(shapes[n]))}" for n in known)
        raise ValueError(f"{type(layer).__name__} '{layer.name}': the inputs need the same batch "
                         f"size, got {got}")


def _masked_softmax(scores, mask):
    """softmax over the last axis with ``mask`` (broadcastable bool) applied as Keras does."""
    if mask is None:
        return F.softmax(scores, dim=-1)
    m = mask.astype(scores.dtype)
    probs = F.softmax(scores + Tensor._make((1.0 - m) * scores.dtype.type(_NEG)), dim=-1)
    return probs * Tensor._make(m)


class MultiHeadAttention(Layer):
    """Multi-head attention (Vaswani et al. 2017), Keras's ``MultiHeadAttention``.

    ``MultiHeadAttention(num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
    output_shape=None)``; call ``mha(query, value, key=None, attention_mask=None,
    return_attention_scores=False, training=None, use_causal_mask=False)`` with query
    ``(B, T, dim)`` and value/key ``(B, S, dim_v)`` (key defaults to value).

    Per head h: ``Q = query @ Wq[:, h] + bq[h]`` (likewise K, V), weights
    ``softmax(Q K^T / sqrt(key_dim))`` (dropout on them in training), output
    ``sum_h (weights V) @ Wo[h] + bo``, of size ``output_shape`` (default: query's last
    dimension). ``attention_mask`` ``(B, T, S)`` is True where a query may attend (size-1
    axes broadcast; ``(T, S)`` is shared by the batch). ``return_attention_scores=True``
    also returns the weights ``(B, heads, T, S)``, before dropout (eager calls only: a
    functional model's layers have one output).

    Weights (Keras's layout and order): query kernel ``(dim, heads, key_dim)`` and bias
    ``(heads, key_dim)``, key kernel/bias, value kernel ``(dim_v, heads, value_dim)``/bias,
    output kernel ``(heads, value_dim, out)`` and bias ``(out,)``.
    """

    supports_masking = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        for what, v in (("num_heads", num_heads), ("key_dim", key_dim), ("value_dim", value_dim),
                        ("output_shape", output_shape)):
            if v is None and what in ("value_dim", "output_shape"):
                continue
            if what == "output_shape" and isinstance(v, (tuple, list)) and len(v) == 1:
                v = v[0]
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v <= 0:
                if what == "output_shape" and isinstance(v, (tuple, list)):
                    raise NotImplementedError("MultiHeadAttention: output_shape must be an int "
                                              f"(or a 1-tuple), got {v!r}")
                raise ValueError(f"MultiHeadAttention: {what} must be a positive integer, got "
                                 f"{v!r}")
        if attention_axes is not None and tuple(np.atleast_1d(attention_axes)) not in ((1,),
                                                                                        (-2,)):
            raise NotImplementedError("MultiHeadAttention: only attention over the steps axis "
                                      "(attention_axes=None) is supported")
        if activity_regularizer is not None or kernel_constraint is not None or \
                bias_constraint is not None:
            raise NotImplementedError("MultiHeadAttention: activity_regularizer and constraints "
                                      "are not supported in shendu.keras")
        if not 0 <= dropout < 1:
            raise ValueError(f"MultiHeadAttention: dropout must be in [0, 1), got {dropout}")
        self.num_heads = int(num_heads)
        self.key_dim = int(key_dim)
        self.value_dim = int(value_dim) if value_dim is not None else self.key_dim
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if isinstance(output_shape, (tuple, list)):
            output_shape = output_shape[0]
        self._output_dim = None if output_shape is None else int(output_shape)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.seed = seed
        self._dims = None

    # ---------------------------------------------------------------- building
    def build(self, query_shape, value_shape=None, key_shape=None):
        if isinstance(query_shape, list):
            shapes = list(query_shape) + [None, None]
            query_shape, value_shape, key_shape = shapes[0], shapes[1], shapes[2]
        value_shape = query_shape if value_shape is None else value_shape
        key_shape = value_shape if key_shape is None else key_shape
        for what, s in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if len(s) != 3 or s[-1] is None:
                raise ValueError(f"MultiHeadAttention '{self.name}': the {what} must have shape "
                                 f"(batch, steps, features) with known features, got "
                                 f"{_shape_str(tuple(s))}")
        if None not in (key_shape[1], value_shape[1]) and key_shape[1] != value_shape[1]:
            raise ValueError(f"MultiHeadAttention '{self.name}': key and value need the same "
                             f"number of steps, got key {_shape_str(tuple(key_shape))} and "
                             f"value {_shape_str(tuple(value_shape))}")
        _same_batch(self, {"query": query_shape, "value": value_shape, "key": key_shape})
        d_q, d_v, d_k = int(query_shape[-1]), int(value_shape[-1]), int(key_shape[-1])
        out = self._output_dim or d_q
        h, kd, vd = self.num_heads, self.key_dim, self.value_dim
        self._dims = (d_q, d_v, d_k, out)
        w = dict(initializer=self.kernel_initializer, regularizer=self.kernel_regularizer)
        b = dict(initializer=self.bias_initializer, regularizer=self.bias_regularizer)
        for part, d, size in (("query", d_q, kd), ("key", d_k, kd), ("value", d_v, vd)):
            setattr(self, f"_{part}_kernel",
                    self.add_weight(shape=(d, h, size), name=f"{part}_kernel", **w))
            setattr(self, f"_{part}_bias", self.add_weight(
                shape=(h, size), name=f"{part}_bias", **b) if self.use_bias else None)
        self._output_kernel = self.add_weight(shape=(h, vd, out), name="output_kernel", **w)
        self._output_bias = self.add_weight(shape=(out,), name="output_bias", **b) \
            if self.use_bias else None
        self.built = True

    def __call__(self, query, value=None, key=None, **kwargs):
        if isinstance(query, (list, tuple)):  # a functional model's node: [query, value(, key)]
            parts = list(query) + [None, None]
            query, value, key = parts[0], parts[1], parts[2]
        if value is None:
            raise TypeError(f"MultiHeadAttention '{self.name}' needs a query and a value: "
                            "mha(query, value)")
        if _is_symbolic(query):
            inputs = [query, value] + ([key] if key is not None else [])
            if any(isinstance(v, KerasTensor) for v in kwargs.values()):
                raise NotImplementedError("MultiHeadAttention in a functional model: "
                                          "attention_mask as a keras.Input is not supported")
            _no_scores_in_graphs(self, kwargs)
            return self._symbolic_call(inputs, **kwargs)
        query, value = to_tensor(query), to_tensor(value)
        key = value if key is None else to_tensor(key)
        if not self.built:
            self.build(tuple(query.shape), tuple(value.shape), tuple(key.shape))
            self._build_input_shape = [tuple(query.shape), tuple(value.shape), tuple(key.shape)]
        return Layer.__call__(self, query, value, key, **kwargs)

    def _project(self, x, kernel, bias):
        d, h, size = kernel.shape
        y = ops.matmul(x, kernel.reshape(d, h * size))
        if bias is not None:
            y = y + bias.reshape(h * size)
        n, t = x.shape[:2]
        return y.reshape(n, t, h, size).permute(0, 2, 1, 3)  # (B, heads, T, size)

    def call(self, query, value, key=None, attention_mask=None, return_attention_scores=False,
             training=None, use_causal_mask=False):
        key = value if key is None else key
        d_q, d_v, d_k, out_dim = self._dims
        for what, x, d in (("query", query, d_q), ("value", value, d_v), ("key", key, d_k)):
            if x.ndim != 3 or x.shape[-1] != d:
                raise ValueError(f"MultiHeadAttention '{self.name}' expects the {what} to have "
                                 f"shape (batch, steps, {d}), got {x.shape}")
        if key.shape[1] != value.shape[1]:
            raise ValueError(f"MultiHeadAttention '{self.name}': key and value need the same "
                             f"number of steps, got key {key.shape} and value {value.shape}")
        _same_batch(self, {"query": query.shape, "value": value.shape, "key": key.shape})
        xp = query.xp
        mask = self._mask(query, value, key, attention_mask, use_causal_mask, xp)
        q = self._project(query, self._query_kernel, self._query_bias)
        k = self._project(key, self._key_kernel, self._key_bias)
        v = self._project(value, self._value_kernel, self._value_bias)
        q = q * (1.0 / math.sqrt(self.key_dim))
        scores = ops.matmul(q, k.swapaxes(-1, -2))  # (B, heads, T, S)
        probs = _masked_softmax(scores, None if mask is None else mask[:, None])
        dropped = F.dropout(probs, self.dropout, True) if training and self.dropout else probs
        o = ops.matmul(dropped, v)  # (B, heads, T, value_dim)
        n, h, t, vd = o.shape
        o = o.permute(0, 2, 1, 3).reshape(n, t, h * vd)
        y = ops.matmul(o, self._output_kernel.reshape(h * vd, out_dim))
        if self._output_bias is not None:
            y = y + self._output_bias
        if return_attention_scores:
            return y, probs
        return y

    def _mask(self, query, value, key, attention_mask, causal, xp):
        """The boolean (B, T, S) mask combining the inputs' masks, attention_mask and the
        causal mask (None when nothing is masked)."""
        t, s = query.shape[1], value.shape[1]
        mask = None
        qm = _bool(get_keras_mask(query), xp)
        vm = _bool(get_keras_mask(value), xp)
        km = _bool(get_keras_mask(key), xp) if key is not value else None
        if qm is not None:
            mask = qm[:, :, None]
        if vm is not None:
            mask = _and(mask, vm[:, None, :])
        if km is not None:
            mask = _and(mask, km[:, None, :])
        if causal:
            mask = _and(mask, _causal(xp, t, s))
        if attention_mask is not None:
            am = _bool(attention_mask, xp)
            if am.ndim == 2:  # (T, S): the same for every sequence
                am = am[None]
            b = query.shape[0]
            if am.ndim != 3 or any(g not in (1, w) for g, w in zip(am.shape, (b, t, s))):
                raise ValueError(f"MultiHeadAttention '{self.name}': attention_mask must have "
                                 f"shape ({b}, {t}, {s}) (batch, query steps, value steps; "
                                 f"size-1 axes broadcast), got {tuple(am.shape)}")
            mask = _and(mask, am)
        if mask is not None:
            mask = xp.broadcast_to(mask, (query.shape[0], t, s))
        return mask

    def compute_output_shape(self, input_shape):
        query_shape = input_shape[0] if isinstance(input_shape, list) else input_shape
        out = self._output_dim or query_shape[-1]
        return tuple(query_shape[:-1]) + (out,)

    def get_config(self):
        config = super().get_config()
        config.update(num_heads=self.num_heads, key_dim=self.key_dim, value_dim=self.value_dim,
                      dropout=self.dropout, use_bias=self.use_bias,
                      output_shape=self._output_dim, seed=self.seed)
        for name, mod in (("kernel_initializer", initializers), ("bias_initializer", initializers),
                          ("kernel_regularizer", regularizers), ("bias_regularizer", regularizers)):
            config[name] = _serialize_or_fail(mod, getattr(self, name), name, self)
        return config

    def extra_repr(self):
        return f"name={self.name}, num_heads={self.num_heads}, key_dim={self.key_dim}"


class Attention(Layer):
    """Dot-product attention (Luong et al. 2015), Keras's ``Attention``.

    ``Attention(use_scale=False, score_mode="dot", dropout=0.0)`` called on
    ``[query, value]`` or ``[query, value, key]`` (key defaults to value), shapes
    ``(B, Tq, dim)`` and ``(B, Tv, dim)``:

    * ``score_mode="dot"``: ``scores = query @ key^T`` (times a learned scalar ``scale``,
      initialized to 1, when ``use_scale``);
    * ``score_mode="concat"``: ``scores = concat_score_weight * sum(tanh(scale * (q_i +
      k_j)))`` over the features;

    then ``weights = softmax(scores)`` over the values and the output is
    ``weights @ value`` ``(B, Tq, dim)``. ``mask=[query_mask, value_mask]`` (taken from
    the inputs when they carry masks): masked values get no weight, masked query rows
    output zeros. ``use_causal_mask=True`` lets query i see values j <= i.
    ``return_attention_scores=True`` also returns the weights (in training, after dropout,
    as Keras returns them).
    """

    supports_masking = True

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Attention: score_mode must be 'dot' or 'concat', got "
                             f"{score_mode!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"Attention: dropout must be in [0, 1), got {dropout}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        self.scale = None
        self.concat_score_weight = None

    def build(self, input_shape):
        self._check_shapes(input_shape)
        self.scale = self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight(shape=(), name="scale", initializer="ones")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight(shape=(), name="concat_score_weight",
                                                       initializer="ones")
        self.built = True

    def _check_shapes(self, shapes):
        if not isinstance(shapes, (list, tuple)) or not shapes or \
                not isinstance(shapes[0], (list, tuple)) or len(shapes) not in (2, 3):
            got = f"a list of {len(shapes)} inputs" if isinstance(shapes, (list, tuple)) and \
                shapes and isinstance(shapes[0], (list, tuple)) else \
                f"one input of shape {_shape_str(tuple(shapes))}" if isinstance(
                    shapes, (list, tuple)) else f"a {type(shapes).__name__}"
            raise ValueError(f"Attention '{self.name}' takes a list [query, value] or "
                             f"[query, value, key], got {got}")
        q, v = shapes[0], shapes[1]
        k = shapes[2] if len(shapes) == 3 else v
        if len(q) != 3 or len(v) != 3 or len(k) != 3:
            raise ValueError(f"Attention '{self.name}': inputs must be (batch, steps, features),"
                             f" got {_shape_str([tuple(s) for s in shapes])}")
        if q[-1] != k[-1] and None not in (q[-1], k[-1]):
            raise ValueError(f"Attention '{self.name}': query and key need the same number of "
                             f"features, got {q[-1]} and {k[-1]}")
        if k[1] != v[1] and None not in (k[1], v[1]):
            raise ValueError(f"Attention '{self.name}': key and value need the same number of "
                             f"steps, got key {_shape_str(tuple(k))} and value "
                             f"{_shape_str(tuple(v))}")
        _same_batch(self, {"query": q, "value": v, "key": k})

    def _symbolic_call(self, inputs, *args, **kwargs):
        _no_scores_in_graphs(self, kwargs)
        return super()._symbolic_call(inputs, *args, **kwargs)

    def _scores(self, q, k):
        if self.score_mode == "dot":
            scores = ops.matmul(q, k.swapaxes(-1, -2))
            return scores * self.scale if self.scale is not None else scores
        s = q.unsqueeze(-2) + k.unsqueeze(-3)  # (B, Tq, Tv, dim)
        if self.scale is not None:
            s = s * self.scale
        return self.concat_score_weight * s.tanh().sum(axis=-1)

    def call(self, inputs, mask=None, training=None, return_attention_scores=False,
             use_causal_mask=False):
        self._check_shapes([tuple(t.shape) for t in inputs] if isinstance(inputs, (list, tuple))
                           else tuple(inputs.shape))
        q, v = inputs[0], inputs[1]
        k = inputs[2] if len(inputs) == 3 else v
        xp = q.xp
        q_mask = v_mask = None
        if isinstance(mask, (list, tuple)) and len(mask) in (2, 3):
            q_mask, v_mask = _bool(mask[0], xp), _bool(mask[1], xp)
            for what, m, want in (("query_mask", q_mask, q.shape[:2]),
                                  ("value_mask", v_mask, v.shape[:2])):
                if m is not None and tuple(m.shape) != tuple(want):
                    raise ValueError(f"Attention '{self.name}': {what} must have shape "
                                     f"{tuple(want)} (batch, steps), got {tuple(m.shape)}")
        elif mask is not None:
            got = f"a list of {len(mask)}" if isinstance(mask, (list, tuple)) else \
                f"a {type(mask).__name__}"
            raise ValueError(f"Attention '{self.name}': mask must be a list [query_mask, "
                             f"value_mask], got {got}")
        scores = self._scores(q, k)  # (B, Tq, Tv)
        score_mask = None if v_mask is None else v_mask[:, None, :]
        if use_causal_mask:
            score_mask = _and(score_mask, _causal(xp, q.shape[1], v.shape[1]))
        if score_mask is None:
            weights = F.softmax(scores, dim=-1)
        else:  # Keras: scores - 1e9 where masked, then softmax (no multiply here)
            m = xp.broadcast_to(score_mask, scores.shape).astype(scores.dtype)
            weights = F.softmax(scores - Tensor._make((1.0 - m) * scores.dtype.type(1e9)),
                                dim=-1)
        if training and self.dropout:  # Keras returns these dropped-out weights too
            weights = F.dropout(weights, self.dropout, True)
        result = ops.matmul(weights, v)
        if q_mask is not None:
            result = result * Tensor._make(q_mask[:, :, None].astype(result.dtype))
        if return_attention_scores:
            return result, weights
        return result

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            return mask[0]
        return None

    def compute_output_shape(self, input_shape):
        q, v = input_shape[0], input_shape[1]
        return tuple(q[:-1]) + (v[-1],)

    def get_config(self):
        config = super().get_config()
        config.update(use_scale=self.use_scale, score_mode=self.score_mode,
                      dropout=self.dropout, seed=self.seed)
        return config
