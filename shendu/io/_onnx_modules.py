"""Whole-module ONNX converters (used by ``shendu.io.onnx``): the recurrent layers.

``nn.RNN``/``LSTM``/``GRU`` and Keras ``SimpleRNN``/``LSTM``/``GRU`` run as one fused
Function over a ``(T * B, features)`` matrix, which the Function-level trace would pin
to the traced batch size. They become ONNX's ``RNN``/``LSTM``/``GRU`` ops instead, one
per layer, time-major ``(T, num_directions, B, H)``, with the weight blocks reordered:

============  ===========================  ==========================
layer         shendu / source gate order   ONNX gate order
============  ===========================  ==========================
LSTM          i, f, g, o (PyTorch, Keras)  i, o, f, c
GRU           r, z, n (PyTorch)            z, r, h
GRU (Keras)   z, r, h                      z, r, h
============  ===========================  ==========================

ONNX's GRU with ``linear_before_reset=1`` is PyTorch's (and Keras's ``reset_after=True``)
formula ``n = tanh(W_n x + b_in + r * (U_n h + b_hn))``. Biases go in as ``[W_b, R_b]``.

Each converter is ``convert(g, module, args, kwargs, out) -> names`` in the structure of
``out``.
"""
from __future__ import annotations

import numpy as np

from ..autograd.tensor import Tensor
from ._onnx_ops import squeeze, unsqueeze

CONVERTERS = {}

_LSTM_ORDER = (0, 3, 1, 2)      # i, f, g, o -> i, o, f, c
_TORCH_GRU_ORDER = (1, 0, 2)    # r, z, n -> z, r, h


def _host(t):
    return np.asarray(t._data if isinstance(t, Tensor) else t)


def _blocks(w, order, axis=0):
    """``w`` with its gate blocks (equal parts along ``axis``) put in ``order``."""
    parts = np.split(w, len(order), axis=axis)
    return np.concatenate([parts[i] for i in order], axis=axis)


def _run_layer(g, op_type, x, W, R, B, h0, c0, hidden, direction, **attributes):
    """One ONNX recurrent node; ``x`` (T, B, I) -> Y (T, D, B, H), Y_h (D, B, H) [, Y_c]."""
    dtype = W.dtype
    inputs = [x, g.const(W.astype(dtype), f"{op_type}_W", dedupe=False),
              g.const(R.astype(dtype), f"{op_type}_R", dedupe=False),
              "" if B is None else g.const(B.astype(dtype), f"{op_type}_B", dedupe=False),
              "", h0 or ""]
    if op_type == "LSTM":
        inputs.append(c0 or "")
    while inputs and inputs[-1] == "":
        inputs.pop()
    n_out = 3 if op_type == "LSTM" else 2
    return g.op(op_type, inputs, outputs=n_out, hidden_size=int(hidden),
                direction=direction, **attributes)


def _merge_directions(g, y):
    """Y (T, D, B, H) -> (T, B, D * H), the layout of shendu's outputs."""
    y = g.op("Transpose", [y], perm=[0, 2, 1, 3])
    return g.op("Reshape", [y, g.ints([0, 0, -1])])


# ---------------------------------------------------------------------------- nn
def _nn_rnn(g, module, args, kwargs, out):
    from ..nn.rnn_utils import PackedSequence
    input = args[0] if args else kwargs["input"]
    hx = args[1] if len(args) > 1 else kwargs.get("hx")
    name = type(module).__name__
    if isinstance(input, PackedSequence):
        raise NotImplementedError(f"ONNX export: {name} (in {g.where()}) on a PackedSequence "
                                  "is not supported; export with padded (T, B, F) input")
    mode = module.mode
    op_type = {"LSTM": "LSTM", "GRU": "GRU", "RNN_TANH": "RNN", "RNN_RELU": "RNN"}[mode]
    unbatched = input.ndim == 2
    x = g.name(input)
    if unbatched:
        x = unsqueeze(g, x, [1])
    elif module.batch_first:
        x = g.op("Transpose", [x], perm=[1, 0, 2])
    dirs = 2 if module.bidirectional else 1
    states = [] if hx is None else ([hx[0], hx[1]] if mode == "LSTM" else [hx])
    state_names = [g.name(s) for s in states]
    if unbatched:
        state_names = [unsqueeze(g, s, [1]) for s in state_names]
    attributes = {}
    if op_type == "GRU":
        attributes["linear_before_reset"] = 1
    if op_type == "RNN":
        attributes["activations"] = ["Relu" if mode == "RNN_RELU" else "Tanh"] * dirs
    order = {"LSTM": _LSTM_ORDER, "GRU": _TORCH_GRU_ORDER}.get(mode, (0,))
    finals = [[] for _ in range(2 if mode == "LSTM" else 1)]
    for layer in range(module.num_layers):
        W, R, B = [], [], []
        for d in range(dirs):
            weights = module.all_weights[layer * dirs + d]
            W.append(_blocks(_host(weights[0]), order))
            R.append(_blocks(_host(weights[1]), order))
            if module.bias:
                B.append(np.concatenate([_blocks(_host(weights[2]), order),
                                         _blocks(_host(weights[3]), order)]))
        init = []
        for s in state_names:
            lo = layer * dirs
            init.append(g.op("Slice", [s, g.ints([lo], "starts"), g.ints([lo + dirs], "ends"),
                                       g.ints([0], "axes")]))
        res = _run_layer(g, op_type, x, np.stack(W), np.stack(R),
                         np.stack(B) if B else None, init[0] if init else None,
                         init[1] if len(init) > 1 else None, module.hidden_size,
                         "bidirectional" if dirs == 2 else "forward", **attributes)
        x = _merge_directions(g, res[0])
        for f, r in zip(finals, res[1:]):
            f.append(r)
    finals = [f[0] if len(f) == 1 else g.op("Concat", f, axis=0) for f in finals]
    if unbatched:
        x = squeeze(g, x, [1])
        finals = [squeeze(g, f, [1]) for f in finals]
    elif module.batch_first:
        x = g.op("Transpose", [x], perm=[1, 0, 2])
    return (x, tuple(finals)) if mode == "LSTM" else (x, finals[0])


CONVERTERS["shendu.nn.recurrent.RNNBase"] = _nn_rnn


# ---------------------------------------------------------------------------- keras
def _activation(layer, fn, what):
    """A Keras activation function as an ONNX recurrent-op activation (name, attrs)."""
    known = {"sigmoid": ("Sigmoid", None, None), "tanh": ("Tanh", None, None),
             "relu": ("Relu", None, None), "hard_sigmoid": ("HardSigmoid", 1 / 6, 0.5)}
    name = getattr(fn, "__name__", None)
    if name not in known:
        raise NotImplementedError(f"ONNX export: {type(layer).__name__} '{layer.name}' has "
                                  f"{what}={name or fn!r}; ONNX's recurrent ops take "
                                  f"{', '.join(sorted(known))}")
    return known[name]


def _keras_rnn(g, layer, args, kwargs, out):
    kind = type(layer).__name__
    inputs = args[0] if args else kwargs["inputs"]
    if kwargs.get("mask") is not None:
        raise NotImplementedError(f"ONNX export: {kind} '{layer.name}' (in {g.where()}) got a "
                                  "mask (Embedding(mask_zero=True) or Masking): masked "
                                  "recurrent layers are not supported")
    op_type = {"LSTM": "LSTM", "GRU": "GRU", "SimpleRNN": "RNN"}.get(kind)
    if op_type is None:
        raise NotImplementedError(f"ONNX export: recurrent layer {kind} (in {g.where()}) has "
                                  "no ONNX converter")
    x = g.op("Transpose", [g.name(inputs)], perm=[1, 0, 2])  # (B, T, F) -> (T, B, F)
    if layer.go_backwards:  # Keras runs over the reversed sequence and returns it so
        x = g.op("Slice", [x, g.ints([-1], "starts"), g.ints([-2 ** 63 + 1], "ends"),
                           g.ints([0], "axes"), g.ints([-1], "steps")])
    u = layer.units
    kernel, recurrent = _host(layer.kernel).T, _host(layer.recurrent_kernel).T  # (G*u, .)
    bias = None if layer.bias is None else _host(layer.bias)
    acts = [_activation(layer, layer.activation, "activation")]
    attributes = {}
    if op_type == "LSTM":
        W, R = _blocks(kernel, _LSTM_ORDER), _blocks(recurrent, _LSTM_ORDER)
        B = None if bias is None else np.concatenate([_blocks(bias, _LSTM_ORDER),
                                                      np.zeros_like(bias)])
        acts = [_activation(layer, layer.recurrent_activation, "recurrent_activation"),
                acts[0], acts[0]]
    elif op_type == "GRU":  # Keras's z, r, h is ONNX's order already
        W, R = kernel, recurrent
        if bias is None:
            B = None
        elif layer.reset_after:
            B = np.concatenate([bias[0], bias[1]])
        else:
            B = np.concatenate([bias, np.zeros_like(bias)])
        attributes["linear_before_reset"] = int(layer.reset_after)
        acts = [_activation(layer, layer.recurrent_activation, "recurrent_activation"),
                acts[0]]
    else:
        W, R = kernel, recurrent
        B = None if bias is None else np.concatenate([bias, np.zeros_like(bias)])
    attributes["activations"] = [a[0] for a in acts]
    if any(a[1] is not None for a in acts):
        attributes["activation_alpha"] = [a[1] if a[1] is not None else 0.0 for a in acts]
        attributes["activation_beta"] = [a[2] if a[2] is not None else 0.0 for a in acts]
    initial = kwargs.get("initial_state")
    states = []
    if initial is not None:
        initial = [initial] if isinstance(initial, (Tensor, np.ndarray)) else list(initial)
        states = [unsqueeze(g, g.name(s), [0]) for s in initial]
    res = _run_layer(g, op_type, x, W[None], R[None], None if B is None else B[None],
                     states[0] if states else None, states[1] if len(states) > 1 else None,
                     u, "forward", **attributes)
    if layer.return_sequences:
        seq = g.op("Transpose", [squeeze(g, res[0], [1])], perm=[1, 0, 2])
    else:
        seq = squeeze(g, res[1], [0])
    if not layer.return_state:
        return seq
    finals = [squeeze(g, r, [0]) for r in res[1:]]
    return [seq] + finals


CONVERTERS["shendu.keras.layers.recurrent._RNN"] = _keras_rnn
