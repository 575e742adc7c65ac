"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (multi-layer, bidirectional, packed
variable-length batches) and single steps ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Parameter names, shapes, gate order, initialization and return values are PyTorch's,
so a PyTorch ``state_dict`` loads as is and gives the same outputs. Each direction of
each layer runs as one fused Function over the whole sequence (shendu/ops/recurrent.py).

>>> import shendu
>>> from shendu import nn
>>> lstm = nn.LSTM(input_size=8, hidden_size=16, num_layers=2, batch_first=True)
>>> x = shendu.randn(4, 10, 8)                 # (batch, time, features)
>>> output, (h_n, c_n) = lstm(x)
>>> output.shape, h_n.shape, c_n.shape
((4, 10, 16), (2, 4, 16), (2, 4, 16))
"""
from __future__ import annotations

import math
import numbers
import warnings

from .. import backend
from ..autograd.tensor import Tensor
from ..ops import cat, creation, stack
from ..ops import recurrent as _fn
from ..ops.dropout import dropout as _dropout
from . import init
from .module import Module
from .parameter import Parameter
from .rnn_utils import PackedSequence

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


def _empty(shape, dtype, device):
    return Parameter(creation.empty(*shape, dtype=backend.to_dtype(dtype), device=device))


def _check_size(owner, name, v, minimum=1):
    if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < minimum:
        raise ValueError(f"{owner}: {name} must be an integer >= {minimum}, got {v!r}")
    return int(v)


def _reset_uniform(module):
    """PyTorch's default: every weight and bias from U(-1/sqrt(hidden), 1/sqrt(hidden))."""
    bound = 1.0 / math.sqrt(module.hidden_size) if module.hidden_size > 0 else 0
    for w in module.parameters():
        init.uniform_(w, -bound, bound)


def _check_dtype(name, what, t, weight):
    if t.dtype != weight.dtype:
        raise TypeError(f"{name}: {what} is {t.dtype} but the weights are {weight.dtype}; "
                        f"convert it ({what}.to(shendu.{weight.dtype})) or the model "
                        f"(model.to(shendu.{t.dtype}))")


class RNNBase(Module):
    """The shared machinery of ``RNN``, ``LSTM`` and ``GRU`` (see those)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        if mode not in _GATES:
            raise ValueError(f"{name}: unknown mode {mode!r}; expected one of {list(_GATES)}")
        self.mode = mode
        self.input_size = _check_size(name, "input_size", input_size, 0)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size)
        self.num_layers = _check_size(name, "num_layers", num_layers)
        if not isinstance(dropout, numbers.Real) or isinstance(dropout, bool) \
                or not 0 <= dropout <= 1:
            raise ValueError(f"{name}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{name}: dropout option adds dropout after all but last recurrent "
                          "layer, so non-zero dropout expects num_layers greater than 1, but "
                          f"got dropout={dropout} and num_layers={num_layers}", stacklevel=3)
        if proj_size:
            raise NotImplementedError(f"{name}: proj_size is not supported in shendu")
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.dropout = float(dropout)
        self.bidirectional = bool(bidirectional)
        self.proj_size = 0
        gate_size = _GATES[mode] * self.hidden_size
        directions = 2 if self.bidirectional else 1
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(self.num_layers):
            for direction in range(directions):
                in_size = self.input_size if layer == 0 else self.hidden_size * directions
                suffix = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                names = [f"weight_ih{suffix}", f"weight_hh{suffix}"]
                setattr(self, names[0], _empty((gate_size, in_size), dtype, device))
                setattr(self, names[1], _empty((gate_size, self.hidden_size), dtype, device))
                if self.bias:
                    names += [f"bias_ih{suffix}", f"bias_hh{suffix}"]
                    setattr(self, names[2], _empty((gate_size,), dtype, device))
                    setattr(self, names[3], _empty((gate_size,), dtype, device))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's initialization: all weights and biases from U(-1/sqrt(H), 1/sqrt(H))."""
        _reset_uniform(self)

    def flatten_parameters(self):
        """Accepted for PyTorch compatibility (a cuDNN detail); does nothing."""

    @property
    def all_weights(self):
        """The parameters per layer and direction: ``[[w_ih, w_hh, b_ih, b_hh], ...]``."""
        return [[getattr(self, n) for n in names] for names in self._all_weights]

    @property
    def _flat_weights(self):
        return [getattr(self, n) for n in self._flat_weights_names]

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        return s

    # ------------------------------------------------------------------ forward
    def _name(self):
        return f"{type(self).__name__}(input_size={self.input_size})"

    def _layer(self, x, h0, c0, weights, sched):
        """One direction of one layer: (y, h_n) or (y, h_n, c_n)."""
        if len(weights) == 2:  # bias=False
            weights = (*weights, None, None)
        if self.mode == "LSTM":
            return _fn.LSTMLayer.apply(x, h0, c0, *weights, sched)
        if self.mode == "GRU":
            return _fn.GRULayer.apply(x, h0, *weights, sched)
        return _fn.RNNLayer.apply(x, h0, *weights, sched,
                                  "relu" if self.mode == "RNN_RELU" else "tanh")

    def _states(self, hx, batch, unbatched, x):
        """The initial states as a list (h0, or h0 and c0) of (layers * dirs, B, H)
        Tensors, or None; checked against the expected shapes."""
        name = type(self).__name__
        lstm = self.mode == "LSTM"
        if hx is None:
            return None
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError(f"{name}: hx must be a tuple (h0, c0), got "
                                f"{type(hx).__name__}")
            states = list(hx)
        else:
            states = [hx]
        layers = self.num_layers * (2 if self.bidirectional else 1)
        expected = (layers, self.hidden_size) if unbatched else \
            (layers, batch, self.hidden_size)
        what = "(num_layers * num_directions, hidden_size) for unbatched input" if unbatched \
            else "(num_layers * num_directions, batch, hidden_size)"
        w = self.weight_ih_l0
        for k, (h, label) in enumerate(zip(states, ("h0", "c0"))):
            if not isinstance(h, Tensor):
                raise TypeError(f"{name}: {label} must be a Tensor, got {type(h).__name__}")
            if h.shape != expected:
                raise ValueError(f"{name}: expected {label} of shape {expected} {what}, got "
                                 f"{h.shape}")
            _check_dtype(name, label, h, w)
            states[k] = h.unsqueeze(1) if unbatched else h
        return states

    def forward(self, input, hx=None):
        """Run the layers over a sequence.

        Parameters
        ----------
        input : Tensor (T, B, input_size), or (B, T, input_size) with ``batch_first``,
            or (T, input_size) unbatched, or a ``PackedSequence``
        hx : initial states (zeros if None): h0 (num_layers * num_directions, B, hidden_size)
            for RNN and GRU, a tuple (h0, c0) for LSTM

        Returns
        -------
        output : Tensor (T, B, num_directions * hidden_size) (batch_first: (B, T, ...)),
            or a ``PackedSequence`` when the input was one; the last layer's h_t
        h_n : Tensor (num_layers * num_directions, B, hidden_size), each sequence's final
            state (for LSTM a tuple (h_n, c_n))
        """
        name = type(self).__name__
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            x, batch_sizes, sorted_indices, unsorted_indices = input
            sizes = tuple(int(b) for b in batch_sizes._data.tolist())
            if not sizes:
                raise ValueError(f"{name}: got an empty PackedSequence")
            batch = sizes[0]
            if x.ndim != 2 or x.shape[1] != self.input_size:
                raise ValueError(f"{self._name()} got a PackedSequence with data of shape "
                                 f"{x.shape}: expected (sum of lengths, {self.input_size})")
        else:
            if not isinstance(input, Tensor):
                raise TypeError(f"{name}: expected a Tensor or a PackedSequence, got "
                                f"{type(input).__name__}")
            if input.ndim not in (2, 3):
                raise ValueError(f"{name}: Expected input to be 2D (unbatched) or 3D, got "
                                 f"{input.ndim}D instead (shape {input.shape})")
            if input.shape[-1] != self.input_size:
                raise ValueError(f"{self._name()} got input with {input.shape[-1]} features "
                                 f"(shape {input.shape})")
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else (
                input.swapaxes(0, 1) if self.batch_first else input)
            steps, batch = x.shape[0], x.shape[1]
            if steps == 0 or batch == 0:
                raise ValueError(f"{name}: got an empty input (shape {input.shape})")
            sizes = (batch,) * steps
            x = x.reshape(steps * batch, self.input_size)
        _check_dtype(name, "input", x, self.weight_ih_l0)
        states = self._states(hx, batch, unbatched, x)
        if packed and states is not None and sorted_indices is not None:
            states = [h.index_select(1, sorted_indices) for h in states]
        zeros = None
        if states is None:
            zeros = Tensor._make(x.xp.zeros((batch, self.hidden_size), dtype=x.dtype))
        directions = 2 if self.bidirectional else 1
        finals = [[] for _ in range(2 if self.mode == "LSTM" else 1)]
        weights = self.all_weights
        for layer in range(self.num_layers):
            outputs = []
            for d in range(directions):
                k = layer * directions + d
                init_h = [zeros] * len(finals) if states is None else [s[k] for s in states]
                res = self._layer(x, init_h[0], init_h[-1], weights[k],
                                  _fn.schedule(sizes, d == 1))
                outputs.append(res[0])
                for f, r in zip(finals, res[1:]):
                    f.append(r)
            x = outputs[0] if directions == 1 else cat(outputs, dim=1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = _dropout(x, self.dropout, True)
        finals = [stack(f, dim=0) for f in finals]
        if packed:
            if unsorted_indices is not None:
                finals = [f.index_select(1, unsorted_indices) for f in finals]
            output = PackedSequence(x, batch_sizes, sorted_indices, unsorted_indices)
        else:
            output = x.reshape(steps, batch, directions * self.hidden_size)
            if unbatched:
                output = output.squeeze(1)
                finals = [f.squeeze(1) for f in finals]
            elif self.batch_first:
                output = output.swapaxes(0, 1)
        return output, (tuple(finals) if self.mode == "LSTM" else finals[0])


class RNN(RNNBase):
    """An Elman RNN: ``h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` (or ReLU), per
    layer; each layer's outputs are the next layer's inputs.

    Parameters
    ----------
    input_size : int, features of each time step
    hidden_size : int, features of the hidden state
    num_layers : int, default 1, stacked layers
    nonlinearity : "tanh" (default) or "relu"
    bias : bool, default True, learn b_ih and b_hh
    batch_first : bool, default False: input and output are (B, T, features)
    dropout : float, default 0, dropout on each layer's outputs except the last (training)
    bidirectional : bool, default False: a second pass from the end; outputs concatenated
    device, dtype : where and in which dtype to create the parameters

    Parameters of layer k: ``weight_ih_lk`` (H, input_size or num_directions * H),
    ``weight_hh_lk`` (H, H), ``bias_ih_lk``, ``bias_hh_lk`` (H,), plus ``..._reverse``
    for the backward direction; all from U(-1/sqrt(H), 1/sqrt(H)).

    Call: ``output, h_n = rnn(input, h0=None)``, shapes in ``RNNBase.forward``.

    >>> rnn = nn.RNN(10, 20, num_layers=2)
    >>> output, h_n = rnn(shendu.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    ((5, 3, 20), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                             "'relu'")
        self.nonlinearity = nonlinearity
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", input_size,
                         hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         device=device, dtype=dtype)


class LSTM(RNNBase):
    """Long short-term memory (Hochreiter & Schmidhuber 1997), PyTorch's formulation:

    ``i, f, g, o = sigma, sigma, tanh, sigma (W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``,
    ``c_t = f c_{t-1} + i g``,  ``h_t = o tanh(c_t)``.

    Parameters as ``RNN`` (without ``nonlinearity``); the weights stack the four gates in
    the order i, f, g, o: ``weight_ih_lk`` (4H, in), ``weight_hh_lk`` (4H, H), biases (4H,).
    ``proj_size`` is not supported.

    Call: ``output, (h_n, c_n) = lstm(input, (h0, c0))`` (states default to zeros).

    >>> lstm = nn.LSTM(10, 20, bidirectional=True)
    >>> output, (h_n, c_n) = lstm(shendu.randn(5, 3, 10))
    >>> output.shape, h_n.shape
    ((5, 3, 40), (2, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device=device, dtype=dtype)


class GRU(RNNBase):
    """Gated recurrent unit (Cho et al. 2014), PyTorch's formulation:

    ``r, z = sigma(W_i[rz] x + b_i[rz] + W_h[rz] h + b_h[rz])``,
    ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,  ``h' = (1 - z) n + z h``.

    Parameters as ``RNN`` (without ``nonlinearity``); gates stacked r, z, n:
    ``weight_ih_lk`` (3H, in), ``weight_hh_lk`` (3H, H), biases (3H,).

    Call: ``output, h_n = gru(input, h0=None)``.

    >>> gru = nn.GRU(10, 20, batch_first=True)
    >>> output, h_n = gru(shendu.randn(3, 5, 10))
    >>> output.shape, h_n.shape
    ((3, 5, 20), (1, 3, 20))
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, device=device, dtype=dtype)


# ----------------------------------------------------------------------- cells
class RNNCellBase(Module):
    """The shared parameters of the cells: ``weight_ih`` (gates * H, input_size),
    ``weight_hh`` (gates * H, H), ``bias_ih`` and ``bias_hh`` (gates * H,)."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        name = type(self).__name__
        self.input_size = _check_size(name, "input_size", input_size, 0)
        self.hidden_size = _check_size(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        self.weight_ih = _empty((num_chunks * hidden_size, input_size), dtype, device)
        self.weight_hh = _empty((num_chunks * hidden_size, hidden_size), dtype, device)
        if self.bias:
            self.bias_ih = _empty((num_chunks * hidden_size,), dtype, device)
            self.bias_hh = _empty((num_chunks * hidden_size,), dtype, device)
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's initialization: all weights and biases from U(-1/sqrt(H), 1/sqrt(H))."""
        _reset_uniform(self)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def _prepare(self, input, hx, count):
        """(input, states, unbatched) with input (B, input_size) and states (B, H)."""
        name = type(self).__name__
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}: expected a Tensor input, got {type(input).__name__}")
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D "
                             f"instead (shape {input.shape})")
        if input.shape[-1] != self.input_size:
            raise ValueError(f"{name}(input_size={self.input_size}) got input with "
                             f"{input.shape[-1]} features (shape {input.shape})")
        _check_dtype(name, "input", input, self.weight_ih)
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            z = Tensor._make(x.xp.zeros((x.shape[0], self.hidden_size), dtype=x.dtype))
            return x, [z] * count, unbatched
        states = list(hx) if count == 2 else [hx]
        expected = (self.hidden_size,) if unbatched else (x.shape[0], self.hidden_size)
        for k, (h, label) in enumerate(zip(states, ("h", "c"))):
            if not isinstance(h, Tensor):
                raise TypeError(f"{name}: {label} must be a Tensor, got {type(h).__name__}")
            if h.shape != expected:
                raise ValueError(f"{name}: expected {label} of shape {expected} "
                                 f"({'hidden_size' if unbatched else 'batch, hidden_size'}), "
                                 f"got {h.shape}")
            _check_dtype(name, label, h, self.weight_ih)
            states[k] = h.unsqueeze(0) if unbatched else h
        return x, states, unbatched

    def _weights(self):
        return self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh


class RNNCell(RNNCellBase):
    """One Elman RNN step: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or ReLU).

    Parameters: ``input_size``, ``hidden_size``, ``bias=True``, ``nonlinearity="tanh"``.
    Call: ``h' = cell(input (B, input_size) or (input_size,), h=None)``.

    >>> cell = nn.RNNCell(10, 20)
    >>> h = cell(shendu.randn(3, 10))
    >>> cell(shendu.randn(3, 10), h).shape
    (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=None):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: unknown nonlinearity {nonlinearity!r}; use 'tanh' or "
                             "'relu'")
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, hx, 1)
        out = _fn.RNNCell.apply(x, h, *self._weights(), self.nonlinearity)
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    """One LSTM step (the formulas of ``LSTM``): ``(h', c') = cell(input, (h, c))``.

    Parameters: ``input_size``, ``hidden_size``, ``bias=True``; weights (4H, ...) with the
    gates in the order i, f, g, o.

    >>> cell = nn.LSTMCell(10, 20)
    >>> h, c = cell(shendu.randn(3, 10))
    >>> h, c = cell(shendu.randn(3, 10), (h, c))
    >>> h.shape, c.shape
    ((3, 20), (3, 20))
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTMCell: hx must be a tuple (h, c), got {type(hx).__name__}")
        x, (h, c), unbatched = self._prepare(input, hx, 2)
        h, c = _fn.LSTMCell.apply(x, h, c, *self._weights())
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step (the formulas of ``GRU``): ``h' = cell(input, h=None)``.

    Parameters: ``input_size``, ``hidden_size``, ``bias=True``; weights (3H, ...) with the
    gates in the order r, z, n.

    >>> cell = nn.GRUCell(10, 20)
    >>> cell(shendu.randn(3, 10)).shape
    (3, 20)
    """

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, (h,), unbatched = self._prepare(input, hx, 1)
        out = _fn.GRUCell.apply(x, h, *self._weights())
        return out.squeeze(0) if unbatched else out
