"""Recurrent cells and layers as fused Functions: RNN (tanh/ReLU), LSTM, GRU.

One Function runs one direction of one layer over a whole sequence, so a training
step records a handful of graph nodes, not ten per time step:

* the inputs of all time steps are projected at once, ``x W_ih^T + b`` (one GEMM);
* each step adds ``h_{t-1} W_hh^T`` (one GEMM on the concatenated gate weights, kept
  transposed and contiguous) and applies the gate nonlinearities in place on the slab;
* backward through time is one Python loop over the steps, with every factor that does
  not depend on the incoming gradient precomputed for all steps at once; the weight
  gradients are one GEMM each over all steps at the end.

Gate order and formulas are PyTorch's (a PyTorch state_dict gives the same numbers):

* RNN:  h' = act(W_ih x + b_ih + W_hh h + b_hh),  act = tanh or relu
* LSTM: i, f, g, o = sigma, sigma, tanh, sigma of (W_ih x + b_ih + W_hh h + b_hh);
  c' = f c + i g;  h' = o tanh(c')
* GRU:  r, z = sigma(W_i[rz] x + b_i[rz] + W_h[rz] h + b_h[rz]);
  n = tanh(W_in x + b_in + r (W_hn h + b_hn));  h' = (1 - z) n + z h

Variable-length batches use the packed layout of ``PackedSequence``: rows are time-major,
step t holds ``batch_sizes[t]`` rows, the first sequences of the batch sorted by
decreasing length. A sequence stops updating after its last step (so padding never
leaks into the final state) and, running in reverse, starts at its own last step.

The packed-batch schedule and the array helpers the three share are in
``_rnn_schedule.py``. The backward passes are fused NumPy code, not differentiable themselves:
``double_backward = False`` (create_graph through them raises a clear error).
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._rnn_schedule import (_prepare, _previous_blocks, _previous_state, _rows,
                            _sigmoid_of_negated, _start_state, _weight_grads, uniform_schedule)
from ._rnn_schedule import schedule  # noqa: F401  (nn.recurrent builds packed schedules)

__all__ = ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"]


# ----------------------------------------------------------------------- RNN
def _rnn_forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sched, nonlinearity):
    xp = ctx.xp
    hidden = w_hh.shape[1]
    rows = np.arange(hidden)
    ones = np.ones(hidden)
    y, whT = _prepare(xp, x, w_ih, w_hh, b_ih, b_hh, rows, ones, ones, ones)
    # y holds the pre-activations and becomes the output, step by step
    scratch = xp.empty((sched.batch_size, hidden), dtype=x.dtype)
    tmp = xp.empty((sched.batch_size, hidden), dtype=x.dtype)
    relu = nonlinearity == "relu"
    for start, n, m, prev in sched.steps:
        end = start + n
        hp = _previous_state(y, h0, n, m, prev, scratch)
        a = y[start:end]
        xp.matmul(hp, whT, out=tmp[:n])
        a += tmp[:n]
        if relu:
            xp.maximum(a, 0, out=a)
        else:
            xp.tanh(a, out=a)
    ctx.save_for_backward(x, w_ih, w_hh, y, h0)
    ctx.sched, ctx.relu, ctx.rows = sched, relu, rows
    return y


def _rnn_backward(ctx, gy, ghn):
    x, w_ih, w_hh, y, h0 = ctx.saved_tensors
    xp, sched = ctx.xp, ctx.sched
    # d = act'(a): 1 - h^2 for tanh, [h > 0] for relu; becomes dL/da step by step
    if ctx.relu:
        d = (y > 0).astype(y.dtype)
    else:
        d = y * y
        xp.subtract(1, d, out=d)
    dh_state = _start_state(xp, ghn, sched.batch_size, w_hh.shape[1], y.dtype)
    for start, n, m, prev in reversed(sched.steps):
        end = start + n
        dh = dh_state[:n]
        if gy is not None:
            dh += gy[start:end]
        da = d[start:end]
        da *= dh
        xp.matmul(da, w_hh, out=dh)
    gx = d @ w_ih if ctx.needs_input_grad[0] else None
    blocks = _previous_blocks(xp, sched, y, h0)
    return (gx, dh_state) + _weight_grads(ctx, d, d, x, blocks, ctx.rows, 2)


class RNNLayer(Function):
    """One direction of an Elman RNN layer over a (packed) sequence.

    h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh),  act = tanh or relu.
    Backward through time, with a_t the pre-activation and G_t = dL/da_t:
    G_t = (dL/dh_t) act'(a_t),  dL/dh_{t-1} += G_t W_hh,  dL/dx_t = G_t W_ih,
    dL/dW_ih = sum_t G_t^T x_t,  dL/dW_hh = sum_t G_t^T h_{t-1},  dL/db = sum_t G_t.

    Inputs: x (N, input_size) in packed row order, h0 (B, H), weights, a ``Schedule``.
    Outputs: y (N, H) and h_n (B, H).
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sched, nonlinearity="tanh"):
        y = _rnn_forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sched, nonlinearity)
        return y, _rows(ctx.xp, y, sched.last)

    @staticmethod
    def backward(ctx, gy, ghn):
        return _rnn_backward(ctx, gy, ghn) + (None, None)


class RNNCell(Function):
    """One step of an Elman RNN: h' = act(W_ih x + b_ih + W_hh h + b_hh) (see RNNLayer)."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity="tanh"):
        sched = uniform_schedule(1, x.shape[0])
        return _rnn_forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh, sched, nonlinearity)

    @staticmethod
    def backward(ctx, gh):
        return _rnn_backward(ctx, gh, None) + (None,)


# ----------------------------------------------------------------------- LSTM
def _lstm_rows(hidden):
    """PyTorch's rows i, f, g, o in the internal order o, i, f, g: the three sigmoid
    gates side by side, and i, f, g side by side for the backward pass."""
    return np.concatenate([np.arange(3 * hidden, 4 * hidden), np.arange(3 * hidden)])


def _lstm_forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, sched):
    xp = ctx.xp
    H = w_hh.shape[1]
    rows = _lstm_rows(H)
    scale = np.concatenate([np.full(3 * H, -1.0), np.full(H, -2.0)])
    # (N, 4H): o, i, f, g after activation
    gates, whT = _prepare(xp, x, w_ih, w_hh, b_ih, b_hh, rows, scale, scale, scale)
    N, B, dt = sched.total, sched.batch_size, x.dtype
    y, c_all, tanh_c = (xp.empty((N, H), dtype=dt) for _ in range(3))
    tmp, ig = xp.empty((B, 4 * H), dtype=dt), xp.empty((B, H), dtype=dt)
    scratch_h, scratch_c = xp.empty((B, H), dtype=dt), xp.empty((B, H), dtype=dt)
    with np.errstate(over="ignore"):
        for start, n, m, prev in sched.steps:
            end = start + n
            hp = _previous_state(y, h0, n, m, prev, scratch_h)
            cp = _previous_state(c_all, c0, n, m, prev, scratch_c)
            g = gates[start:end]
            xp.matmul(hp, whT, out=tmp[:n])
            g += tmp[:n]
            _sigmoid_of_negated(xp, g)
            gg = g[:, 3 * H:]
            gg *= 2
            gg -= 1  # tanh(z) = 2 sigma(2z) - 1
            c = c_all[start:end]
            xp.multiply(g[:, 2 * H:3 * H], cp, out=c)  # f c_prev
            xp.multiply(g[:, H:2 * H], gg, out=ig[:n])  # + i g
            c += ig[:n]
            tc = tanh_c[start:end]
            xp.tanh(c, out=tc)
            xp.multiply(g[:, :H], tc, out=y[start:end])  # h = o tanh(c)
    ctx.save_for_backward(x, w_ih, w_hh, h0, c0)
    ctx.sched, ctx.rows = sched, rows
    ctx.gates, ctx.tanh_c, ctx.y, ctx.c = gates, tanh_c, y, c_all
    return y, c_all


def _lstm_backward(ctx, gy, ghn, gcn):
    x, w_ih, w_hh, h0, c0 = ctx.saved_tensors
    xp, sched, rows = ctx.xp, ctx.sched, ctx.rows
    G, tc, c_all, y = ctx.gates, ctx.tanh_c, ctx.c, ctx.y
    N, H, B = G.shape[0], w_hh.shape[1], sched.batch_size
    M = xp.empty((N, 4 * H), dtype=G.dtype)  # dL/d(pre-activations) o, i, f, g
    dh_state = _start_state(xp, ghn, B, H, G.dtype)
    dc_state = _start_state(xp, gcn, B, H, G.dtype)
    wh = w_hh[rows]
    tmp, scratch = xp.empty((B, H), dtype=G.dtype), xp.empty((B, H), dtype=G.dtype)
    # Per step, on slices that stay in cache (one pass over all steps' gates up front
    # would stream every factor through memory):
    for start, n, m, prev in reversed(sched.steps):
        end = start + n
        dh, dc, t = dh_state[:n], dc_state[:n], tmp[:n]
        if gy is not None:
            dh += gy[start:end]
        gt, mt, tct = G[start:end], M[start:end], tc[start:end]
        o, i, f, g = gt[:, :H], gt[:, H:2 * H], gt[:, 2 * H:3 * H], gt[:, 3 * H:]
        s, d = gt[:, :3 * H], mt[:, :3 * H]
        xp.multiply(s, s, out=d)
        xp.subtract(s, d, out=d)                    # sigma' = s (1 - s) for o, i, f
        xp.multiply(y[start:end], tct, out=t)
        xp.subtract(o, t, out=t)
        t *= dh
        dc += t                                     # dc += dh o (1 - tanh(c)^2)
        dz = mt[:, :H]
        dz *= tct
        dz *= dh                                    # dz_o = dh tanh(c) o'
        mt[:, H:2 * H] *= g                         # dz_i = dc g i'
        mt[:, 2 * H:3 * H] *= _previous_state(c_all, c0, n, m, prev, scratch)
        dz = mt[:, 3 * H:]                          # dz_f = dc c_prev f'
        xp.multiply(g, g, out=dz)
        xp.subtract(1, dz, out=dz)
        dz *= i                                     # dz_g = dc i (1 - g^2)
        mt.reshape(n, 4, H)[:, 1:] *= dc[:, None, :]
        dc *= f                                     # dL/dc_prev = dc f
        xp.matmul(mt, wh, out=dh)                   # dL/dh_prev = dz W_hh
    gx = M @ w_ih[rows] if ctx.needs_input_grad[0] else None
    blocks = _previous_blocks(xp, sched, y, h0)
    return (gx, dh_state, dc_state) + _weight_grads(ctx, M, M, x, blocks, rows, 3)


class LSTMLayer(Function):
    """One direction of an LSTM layer over a (packed) sequence.

    i, f, g, o = sigma, sigma, tanh, sigma of z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh;
    c_t = f c_{t-1} + i g,  h_t = o tanh(c_t).
    Backward through time, with dh = dL/dh_t (from the output and from step t+1) and
    dc = dL/dc_t:  dc += dh o (1 - tanh^2 c_t);  dz_o = dh tanh(c_t) o (1 - o);
    dz_i = dc g i (1 - i);  dz_f = dc c_{t-1} f (1 - f);  dz_g = dc i (1 - g^2);
    dL/dc_{t-1} = dc f;  dL/dh_{t-1} = dz W_hh;  dL/dx_t = dz W_ih;
    dL/dW_ih = sum_t dz_t^T x_t,  dL/dW_hh = sum_t dz_t^T h_{t-1},  dL/db = sum_t dz_t.

    Inputs: x (N, input_size) in packed row order, h0 and c0 (B, H), weights, a
    ``Schedule``. Outputs: y (N, H), h_n and c_n (B, H).
    """

    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, sched):
        y, c = _lstm_forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, sched)
        return y, _rows(ctx.xp, y, sched.last), _rows(ctx.xp, c, sched.last)

    @staticmethod
    def backward(ctx, gy, ghn, gcn):
        return _lstm_backward(ctx, gy, ghn, gcn) + (None,)


class LSTMCell(Function):
    """One LSTM step: (h', c') from (x, h, c); the formulas of LSTMLayer."""

    @staticmethod
    def forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh):
        sched = uniform_schedule(1, x.shape[0])
        return _lstm_forward(ctx, x, h, c, w_ih, w_hh, b_ih, b_hh, sched)

    @staticmethod
    def backward(ctx, gh, gc):
        return _lstm_backward(ctx, gh, None, gc)


# ----------------------------------------------------------------------- GRU
def _gru_forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sched):
    xp = ctx.xp
    H = w_hh.shape[1]
    rows = np.arange(3 * H)
    neg_rz = np.concatenate([np.full(2 * H, -1.0), np.ones(H)])
    # the slab's bias: b_ih for all gates, b_hh for r and z (b_hn is multiplied by r)
    only_rz = np.concatenate([np.full(2 * H, -1.0), np.zeros(H)])
    # (N, 3H): r, z, n after activation
    gates, whT = _prepare(xp, x, w_ih, w_hh, b_ih, b_hh, rows, neg_rz, neg_rz, only_rz)
    b_hn = None if b_hh is None else b_hh[2 * H:]
    N, B, dt = sched.total, sched.batch_size, x.dtype
    y, hn_all = xp.empty((N, H), dtype=dt), xp.empty((N, H), dtype=dt)
    tmp, tmp2 = xp.empty((B, 3 * H), dtype=dt), xp.empty((B, H), dtype=dt)
    scratch = xp.empty((B, H), dtype=dt)
    with np.errstate(over="ignore"):
        for start, n, m, prev in sched.steps:
            end = start + n
            hp = _previous_state(y, h0, n, m, prev, scratch)
            g, t, t2 = gates[start:end], tmp[:n], tmp2[:n]
            xp.matmul(hp, whT, out=t)
            rz = g[:, :2 * H]
            rz += t[:, :2 * H]
            _sigmoid_of_negated(xp, rz)
            hn = hn_all[start:end]                   # W_hn h + b_hn
            if b_hn is None:
                hn[...] = t[:, 2 * H:]
            else:
                xp.add(t[:, 2 * H:], b_hn, out=hn)
            nn = g[:, 2 * H:]
            xp.multiply(g[:, :H], hn, out=t2)
            nn += t2
            xp.tanh(nn, out=nn)
            xp.subtract(hp, nn, out=t2)              # h = n + z (h_prev - n)
            t2 *= g[:, H:2 * H]
            xp.add(nn, t2, out=y[start:end])
    ctx.save_for_backward(x, w_ih, w_hh, h0)
    ctx.sched, ctx.rows, ctx.gates, ctx.y, ctx.hn = sched, rows, gates, y, hn_all
    return y


def _gru_backward(ctx, gy, ghn):
    x, w_ih, w_hh, h0 = ctx.saved_tensors
    xp, sched = ctx.xp, ctx.sched
    G, hn_all, y = ctx.gates, ctx.hn, ctx.y
    N, H, B = G.shape[0], w_hh.shape[1], sched.batch_size
    # D = [dn', dr', dz', da]: dn' is n's pre-activation gradient, a = W_hn h + b_hn.
    # D[:, :3H] is then dL/d(W_i x + b_i) with the gates in the order n, r, z, and
    # D[:, H:] dL/d(W_h h + b_h) in the order r, z, n: both without a copy.
    D = xp.empty((N, 4 * H), dtype=G.dtype)
    dh_state = _start_state(xp, ghn, B, H, G.dtype)
    tmp, scratch = xp.empty((B, H), dtype=G.dtype), xp.empty((B, H), dtype=G.dtype)
    for start, n, m, prev in reversed(sched.steps):
        end = start + n
        dh, t = dh_state[:n], tmp[:n]
        if gy is not None:
            dh += gy[start:end]
        gt, dt = G[start:end], D[start:end]
        r, z, nn = gt[:, :H], gt[:, H:2 * H], gt[:, 2 * H:]
        dn, drz = dt[:, :H], dt[:, H:3 * H]
        xp.multiply(nn, nn, out=dn)
        xp.subtract(1, dn, out=dn)
        xp.subtract(1, z, out=t)
        dn *= t
        dn *= dh                                    # dn' = dh (1 - z) (1 - n^2)
        rz = gt[:, :2 * H]
        xp.multiply(rz, rz, out=drz)
        xp.subtract(rz, drz, out=drz)               # sigma' = s (1 - s) for r, z
        dr = dt[:, H:2 * H]
        dr *= hn_all[start:end]
        dr *= dn                                    # dr' = dn' a r (1 - r)
        xp.subtract(_previous_state(y, h0, n, m, prev, scratch), nn, out=t)
        dz = dt[:, 2 * H:3 * H]
        dz *= t
        dz *= dh                                    # dz' = dh (h_prev - n) z (1 - z)
        xp.multiply(dn, r, out=dt[:, 3 * H:])       # da = dn' r
        xp.multiply(dh, z, out=t)
        xp.matmul(dt[:, H:], w_hh, out=dh)          # dL/dh_prev = [dr', dz', da] W_hh + dh z
        dh += t
    rows_x = np.concatenate([np.arange(2 * H, 3 * H), np.arange(2 * H)])  # n, r, z
    dgx = D[:, :3 * H]
    gx = dgx @ w_ih[rows_x] if ctx.needs_input_grad[0] else None
    blocks = _previous_blocks(xp, sched, y, h0)
    return (gx, dh_state) + _weight_grads(ctx, dgx, D[:, H:], x, blocks, (rows_x, ctx.rows),
                                          2)


class GRULayer(Function):
    """One direction of a GRU layer over a (packed) sequence.

    r, z = sigma(W_i[rz] x + b_i[rz] + W_h[rz] h + b_h[rz]);  a = W_hn h + b_hn;
    n = tanh(W_in x + b_in + r a);  h' = (1 - z) n + z h.
    Backward, with dh = dL/dh_t:  dn' = dh (1 - z)(1 - n^2)  (n's pre-activation);
    dz' = dh (h - n) z (1 - z);  dr' = dn' a r (1 - r);  da = dn' r;
    dL/dh_{t-1} = [dr', dz', da] W_hh + dh z;  dL/dx = [dr', dz', dn'] W_ih;
    dL/dW_ih = sum_t [dr', dz', dn']^T x_t,  dL/dW_hh = sum_t [dr', dz', da]^T h_{t-1}.

    Inputs: x (N, input_size) in packed row order, h0 (B, H), weights, a ``Schedule``.
    Outputs: y (N, H) and h_n (B, H).
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sched):
        y = _gru_forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, sched)
        return y, _rows(ctx.xp, y, sched.last)

    @staticmethod
    def backward(ctx, gy, ghn):
        return _gru_backward(ctx, gy, ghn) + (None,)


class GRUCell(Function):
    """One GRU step: h' from (x, h); the formulas of GRULayer."""

    @staticmethod
    def forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh):
        sched = uniform_schedule(1, x.shape[0])
        return _gru_forward(ctx, x, h, w_ih, w_hh, b_ih, b_hh, sched)

    @staticmethod
    def backward(ctx, gh):
        return _gru_backward(ctx, gh, None)


# ----------------------------------------------------------------------- rows
class TakeRows(Function):
    """y = x[index] along the first axis, ``index`` picking each row at most once
    (packing a padded batch); dL/dx = zeros with g put back at ``index``."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, index):
        ctx.index, ctx.n_rows = index, x.shape[0]
        return x[index]

    @staticmethod
    def backward(ctx, g):
        return PutRows.apply(g, ctx.index, ctx.n_rows) if ctx.tensor_mode else \
            _put_rows(ctx.xp, g, ctx.index, ctx.n_rows, 0), None


class PutRows(Function):
    """y = an (n_rows, ...) array of ``fill`` with x's rows at ``index`` (unpadding a
    packed batch, padding a list of sequences); dL/dx = g[index]."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, index, n_rows, fill=0.0):
        ctx.index = index
        return _put_rows(ctx.xp, x, index, n_rows, fill)

    @staticmethod
    def backward(ctx, g):
        gx = TakeRows.apply(g, ctx.index) if ctx.tensor_mode else g[ctx.index]
        return (gx,) + (None,) * (len(ctx.inputs) - 1)


def _put_rows(xp, x, index, n_rows, fill):
    out = xp.full((n_rows,) + tuple(x.shape[1:]), fill, dtype=x.dtype)
    out[index] = x
    return out


# ----------------------------------------------------------------------- functions
def _check_cell(name, x, hs, w_ih, w_hh, b_ih, b_hh, gates):
    for what, t in (("input", x), ("w_ih", w_ih), ("w_hh", w_hh)) + \
            tuple((f"hx[{k}]", h) for k, h in enumerate(hs)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: {what} must be a Tensor, got {type(t).__name__}")
    if w_hh.ndim != 2 or w_hh.shape[0] != gates * w_hh.shape[1]:
        raise ValueError(f"{name}: w_hh must have shape ({gates} * hidden_size, hidden_size), "
                         f"got {w_hh.shape}")
    hidden = w_hh.shape[1]
    if w_ih.ndim != 2 or w_ih.shape[0] != gates * hidden:
        raise ValueError(f"{name}: w_ih must have shape ({gates * hidden}, input_size), got "
                         f"{w_ih.shape}")
    if x.ndim != 2 or x.shape[1] != w_ih.shape[1]:
        raise ValueError(f"{name}: expected input of shape (batch, {w_ih.shape[1]}), got "
                         f"{x.shape}")
    for k, h in enumerate(hs):
        if h.shape != (x.shape[0], hidden):
            raise ValueError(f"{name}: expected hx[{k}] of shape ({x.shape[0]}, {hidden}) "
                             f"(batch, hidden_size), got {h.shape}")
    for what, b in (("b_ih", b_ih), ("b_hh", b_hh)):
        if b is not None and b.shape != (gates * hidden,):
            raise ValueError(f"{name}: {what} must have shape ({gates * hidden},), got "
                             f"{b.shape}")
    if (b_ih is None) != (b_hh is None):
        raise ValueError(f"{name}: give both biases or neither")
    for what, t in (("input", x),) + tuple((f"hx[{k}]", h) for k, h in enumerate(hs)):
        if t.dtype != w_ih.dtype:
            raise TypeError(f"{name}: {what} is {t.dtype} but the weights are {w_ih.dtype}")


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step ``h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)`` (fused).

    Parameters
    ----------
    input : Tensor (B, input_size)
    hx : Tensor (B, hidden_size)
    w_ih : Tensor (hidden_size, input_size);  w_hh : Tensor (hidden_size, hidden_size)
    b_ih, b_hh : Tensor (hidden_size,), optional (both or neither)

    Returns
    -------
    Tensor (B, hidden_size)

    >>> from shendu.ops.recurrent import rnn_tanh_cell
    >>> rnn_tanh_cell(shendu.ones(2, 3), shendu.zeros(2, 4), shendu.zeros(4, 3),
    ...               shendu.zeros(4, 4)).shape
    (2, 4)
    """
    _check_cell("rnn_tanh_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, 1)
    return RNNCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, "tanh")


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One Elman RNN step with ReLU: ``h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)``.
    Shapes as ``rnn_tanh_cell``.

    >>> from shendu.ops.recurrent import rnn_relu_cell
    >>> rnn_relu_cell(-shendu.ones(1, 2), shendu.zeros(1, 2), shendu.ones(2, 2),
    ...               shendu.ones(2, 2))
    tensor([[0., 0.]])
    """
    _check_cell("rnn_relu_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, 1)
    return RNNCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh, "relu")


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step (fused): gates i, f, g, o from ``x W_ih^T + b_ih + h W_hh^T + b_hh``,
    ``c' = f c + i g``, ``h' = o tanh(c')``.

    Parameters
    ----------
    input : Tensor (B, input_size)
    hx : tuple (h, c) of Tensors (B, hidden_size)
    w_ih : Tensor (4 * hidden_size, input_size), rows i, f, g, o like PyTorch
    w_hh : Tensor (4 * hidden_size, hidden_size)
    b_ih, b_hh : Tensor (4 * hidden_size,), optional (both or neither)

    Returns
    -------
    (h', c'), Tensors (B, hidden_size)

    >>> from shendu.ops.recurrent import lstm_cell
    >>> h, c = lstm_cell(shendu.ones(2, 3), (shendu.zeros(2, 4), shendu.zeros(2, 4)),
    ...                  shendu.zeros(16, 3), shendu.zeros(16, 4))
    >>> c   # f c + i g = 0.5 * 0 + 0.5 * tanh(0)
    tensor([[0., 0., 0., 0.],
            [0., 0., 0., 0.]])
    """
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        raise TypeError("lstm_cell: hx must be a tuple (h, c)")
    _check_cell("lstm_cell", input, tuple(hx), w_ih, w_hh, b_ih, b_hh, 4)
    return LSTMCell.apply(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (fused, PyTorch's formulas with gates r, z, n):
    ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``.

    Parameters
    ----------
    input : Tensor (B, input_size)
    hx : Tensor (B, hidden_size)
    w_ih : Tensor (3 * hidden_size, input_size);  w_hh : (3 * hidden_size, hidden_size)
    b_ih, b_hh : Tensor (3 * hidden_size,), optional (both or neither)

    Returns
    -------
    Tensor (B, hidden_size)

    >>> from shendu.ops.recurrent import gru_cell
    >>> gru_cell(shendu.ones(1, 2), shendu.ones(1, 2), shendu.zeros(6, 2),
    ...          shendu.zeros(6, 2))   # z = 0.5, n = 0: h' = 0.5 h
    tensor([[0.5000, 0.5000]])
    """
    _check_cell("gru_cell", input, (hx,), w_ih, w_hh, b_ih, b_hh, 3)
    return GRUCell.apply(input, hx, w_ih, w_hh, b_ih, b_hh)
