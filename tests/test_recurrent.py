"""Recurrent layers and cells: float64 gradient checks of the fused Functions and of a
2-layer bidirectional LSTM, packed batches (padding never leaks, each sequence ends and
starts where it should), errors, API details and a small fit. PyTorch conformance is in
tests/conformance/test_recurrent_torch.py."""
import warnings

import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.autograd import gradcheck
from shendu.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from shendu.ops import cat
from shendu.ops import recurrent as R

F64 = shendu.float64


def rand(*shape, seed=0, scale=1.0, grad=True):
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    return shendu.tensor(a, dtype=F64, requires_grad=grad)


def npy(t):
    return t.detach().numpy()


def flat(*ts):
    """One 1-D tensor of several outputs (gradcheck checks one output)."""
    return cat([t.reshape(-1) for t in ts])


GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}


def weights(kind, I, H, seed=1, bias=True):
    g = GATES[kind]
    ws = [rand(g * H, I, seed=seed, scale=0.5), rand(g * H, H, seed=seed + 1, scale=0.5)]
    ws += [rand(g * H, seed=seed + 2, scale=0.5), rand(g * H, seed=seed + 3, scale=0.5)] \
        if bias else [None, None]
    return ws


# --------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("bias", [True, False])
def test_gradcheck_cells(kind, bias):
    I, H, B = 3, 4, 2
    x, h, c = rand(B, I, seed=10), rand(B, H, seed=11), rand(B, H, seed=12)
    ws = weights(kind, I, H, bias=bias)
    if kind == "lstm":
        fn = (lambda x, h, c, *w: flat(*R.lstm_cell(x, (h, c), *w)))
        inputs = [x, h, c]
    else:
        cell = {"rnn_tanh": R.rnn_tanh_cell, "rnn_relu": R.rnn_relu_cell,
                "gru": R.gru_cell}[kind]
        fn = (lambda x, h, *w: cell(x, h, *w))
        inputs = [x, h]
    if kind == "rnn_relu":  # keep pre-activations away from relu's kink
        x = rand(B, I, seed=13, scale=3.0)
        inputs[0] = x
    if bias:
        assert gradcheck(fn, inputs + ws)
    else:
        assert gradcheck(lambda *a: fn(*a, None, None), inputs + ws[:2])


SCHEDULES = {"full": (3, 3, 3, 3), "packed": (3, 2, 2, 1)}


@pytest.mark.parametrize("kind", list(GATES))
@pytest.mark.parametrize("sizes", list(SCHEDULES))
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_layer_functions(kind, sizes, reverse):
    """One direction over a sequence, every input and output (y, h_n, c_n) checked."""
    sizes = SCHEDULES[sizes]
    I, H, B, N = 2, 3, sizes[0], sum(sizes)
    sched = R.schedule(sizes, reverse)
    x, h0, c0 = rand(N, I, seed=20), rand(B, H, seed=21), rand(B, H, seed=22)
    ws = weights(kind, I, H)
    if kind == "rnn_relu":
        x = rand(N, I, seed=23, scale=3.0)
    if kind == "lstm":
        assert gradcheck(lambda x, h, c, *w: flat(*R.LSTMLayer.apply(x, h, c, *w, sched)),
                         [x, h0, c0] + ws)
    elif kind == "gru":
        assert gradcheck(lambda x, h, *w: flat(*R.GRULayer.apply(x, h, *w, sched)),
                         [x, h0] + ws)
    else:
        act = kind[4:]
        assert gradcheck(lambda x, h, *w: flat(*R.RNNLayer.apply(x, h, *w, sched, act)),
                         [x, h0] + ws)


def functional_call(module, params, *args):
    """Run ``module`` with its parameters replaced by ``params`` (gradcheck's copies)."""
    saved = dict(module._parameters)
    try:
        for (name, _), p in zip(saved.items(), params):
            module._parameters[name] = p
        return module(*args)
    finally:
        module._parameters.update(saved)


def test_gradcheck_two_layer_bidirectional_lstm():
    shendu.manual_seed(0)
    lstm = nn.LSTM(2, 3, num_layers=2, bidirectional=True, dtype=F64)
    params = [p.detach().requires_grad_() for p in lstm.parameters()]
    x, h0, c0 = rand(4, 2, 2, seed=30), rand(4, 2, 3, seed=31), rand(4, 2, 3, seed=32)

    def fn(x, h0, c0, *ps):
        out, (h, c) = functional_call(lstm, ps, x, (h0, c0))
        return flat(out, h, c)

    assert gradcheck(fn, [x, h0, c0] + params)


def test_gradcheck_packed_bidirectional_gru():
    shendu.manual_seed(0)
    gru = nn.GRU(2, 3, bidirectional=True, batch_first=True, dtype=F64)
    params = [p.detach().requires_grad_() for p in gru.parameters()]
    x = rand(3, 4, 2, seed=33)

    def fn(x, *ps):
        packed = pack_padded_sequence(x, [2, 4, 1], batch_first=True, enforce_sorted=False)
        out, h = functional_call(gru, ps, packed)
        return flat(pad_packed_sequence(out, batch_first=True)[0], h)

    assert gradcheck(fn, [x] + params)


def test_double_backward_is_refused_clearly():
    lstm = nn.LSTM(2, 3, dtype=F64)
    x = rand(4, 1, 2)
    out, _ = lstm(x)
    with pytest.raises(RuntimeError, match="LSTMLayer does not support double backward"):
        shendu.autograd.grad(out.sum(), x, create_graph=True)


# --------------------------------------------------------------------- packed batches
def run_alone(module, seq, mode):
    """The module on one sequence (unbatched input)."""
    out, h = module(seq)
    return out, (h[0] if mode == "lstm" else h)


@pytest.mark.parametrize("mode", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_final_states_ignore_padding(mode, bidirectional):
    """Each sequence's h_n and outputs equal those of running it alone, whatever the
    padding holds (here: huge values); outputs are zero after each length."""
    shendu.manual_seed(0)
    cls = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[mode]
    module = cls(3, 4, num_layers=2, bidirectional=bidirectional, dtype=F64)
    lengths = [2, 5, 3]
    rng = np.random.default_rng(40)
    x = rng.standard_normal((5, 3, 3))
    for b, n in enumerate(lengths):
        x[n:, b] = 1e6  # padding that would wreck any state it touched
    xs = shendu.tensor(x, requires_grad=True)
    out, h = module(pack_padded_sequence(xs, lengths, enforce_sorted=False))
    h = h[0] if mode == "lstm" else h
    padded, got_lengths = pad_packed_sequence(out)
    assert got_lengths.tolist() == lengths
    for b, n in enumerate(lengths):
        alone_out, alone_h = run_alone(module, shendu.tensor(x[:n, b]), mode)
        np.testing.assert_allclose(npy(padded[:n, b]), npy(alone_out), atol=1e-12)
        np.testing.assert_allclose(npy(h[:, b]), npy(alone_h), atol=1e-12)
        assert np.all(npy(padded[n:, b]) == 0)
    (padded.sum() + h.sum()).backward()
    g = npy(xs.grad)
    for b, n in enumerate(lengths):
        assert np.all(g[n:, b] == 0) and np.all(np.isfinite(g[:n, b]))


def test_schedule_of_a_packed_batch():
    fwd = R.schedule((3, 2, 1), False)
    assert fwd.steps == [(0, 3, 0, 0), (3, 2, 2, 0), (5, 1, 1, 3)]
    assert fwd.last.tolist() == [5, 4, 2]  # each sequence's own last step
    assert fwd.prev_index.tolist() == [6, 7, 8, 0, 1, 3]
    rev = R.schedule((3, 2, 1), True)
    assert rev.steps == [(5, 1, 0, 0), (3, 2, 1, 5), (0, 3, 2, 3)]
    assert rev.last == slice(0, 3)          # all end at step 0
    # the second sequence starts (at t = 1, row 4) from its initial state, row 6 + 1
    assert rev.prev_index.tolist() == [3, 4, 8, 5, 7, 6]


# --------------------------------------------------------------------- API
def test_parameters_and_state_dict_names():
    lstm = nn.LSTM(10, 20, num_layers=2, bidirectional=True)
    names = [n for n, _ in lstm.named_parameters()]
    expected = []
    for layer in range(2):
        for sfx in ("", "_reverse"):
            expected += [f"{w}_l{layer}{sfx}" for w in ("weight_ih", "weight_hh", "bias_ih",
                                                        "bias_hh")]
    assert names == expected == list(lstm.state_dict())
    assert lstm.weight_ih_l0.shape == (80, 10) and lstm.weight_ih_l1.shape == (80, 40)
    assert lstm.weight_hh_l1_reverse.shape == (80, 20) and lstm.bias_ih_l0.shape == (80,)
    assert len(lstm.all_weights) == 4 and lstm.all_weights[1][0] is lstm.weight_ih_l0_reverse
    gru = nn.GRU(3, 5, bias=False)
    assert [n for n, _ in gru.named_parameters()] == ["weight_ih_l0", "weight_hh_l0"]
    bound = 1 / np.sqrt(20)
    for p in lstm.parameters():
        assert np.abs(npy(p)).max() <= bound
    cell = nn.GRUCell(3, 5)
    assert [n for n, _ in cell.named_parameters()] == ["weight_ih", "weight_hh", "bias_ih",
                                                      "bias_hh"]
    assert cell.weight_ih.shape == (15, 3)


def test_return_shapes_batch_first_and_unbatched():
    shendu.manual_seed(0)
    gru = nn.GRU(4, 6, num_layers=3, bidirectional=True)
    x = shendu.randn(7, 2, 4)
    out, h = gru(x)
    assert out.shape == (7, 2, 12) and h.shape == (6, 2, 6) and out.dtype == shendu.float32
    gru.batch_first = True
    out_bf, h_bf = gru(x.swapaxes(0, 1))
    np.testing.assert_allclose(npy(out_bf.swapaxes(0, 1)), npy(out), atol=1e-6)
    np.testing.assert_allclose(npy(h_bf), npy(h), atol=1e-6)
    gru.batch_first = False
    out1, h1 = gru(x[:, 0])
    assert out1.shape == (7, 12) and h1.shape == (6, 6)
    np.testing.assert_allclose(npy(out1), npy(out[:, 0]), atol=1e-6)
    zeros = shendu.zeros(6, 2, 6)
    np.testing.assert_allclose(npy(gru(x, zeros)[0]), npy(out), atol=1e-6)


def test_last_output_is_h_n_and_states_carry_over():
    shendu.manual_seed(0)
    lstm = nn.LSTM(3, 4)
    x = shendu.randn(6, 2, 3)
    out, (h, c) = lstm(x)
    np.testing.assert_allclose(npy(out[-1]), npy(h[0]))
    first, state = lstm(x[:2])
    rest, (h2, c2) = lstm(x[2:], state)  # feeding the state back continues the sequence
    np.testing.assert_allclose(npy(h2), npy(h), atol=1e-6)
    np.testing.assert_allclose(npy(c2), npy(c), atol=1e-6)


def test_cells_step_like_the_layers():
    shendu.manual_seed(0)
    for layer_cls, cell_cls in ((nn.LSTM, nn.LSTMCell), (nn.GRU, nn.GRUCell),
                                (nn.RNN, nn.RNNCell)):
        layer, cell = layer_cls(3, 4), cell_cls(3, 4)
        cell.load_state_dict({k[:-3]: v for k, v in layer.state_dict().items()})
        x = shendu.randn(5, 2, 3)
        out, _ = layer(x)
        state = None
        for t in range(5):
            state = cell(x[t], state)
            h = state[0] if isinstance(state, tuple) else state
            np.testing.assert_allclose(npy(h), npy(out[t]), atol=1e-6)
        one = cell(x[0, 0])  # unbatched
        assert (one[0] if isinstance(one, tuple) else one).shape == (4,)


def test_no_grad_records_nothing():
    lstm = nn.LSTM(3, 4)
    with shendu.no_grad():
        out, (h, c) = lstm(shendu.randn(5, 2, 3))
    assert not out.requires_grad and out.grad_fn is None and not h.requires_grad


def test_in_place_change_of_weights_before_backward_is_caught():
    lstm = nn.LSTM(3, 4)
    out, _ = lstm(shendu.randn(5, 2, 3))
    with shendu.no_grad():
        lstm.weight_hh_l0.mul_(2.0)
    with pytest.raises(RuntimeError, match="modified by an in-place operation"):
        out.sum().backward()


def test_dropout_only_in_training_and_between_layers():
    shendu.manual_seed(0)
    lstm = nn.LSTM(3, 8, num_layers=2, dropout=0.5)
    x = shendu.randn(6, 4, 3)
    lstm.eval()
    ref_out, (ref_h, _) = lstm(x)
    np.testing.assert_array_equal(npy(lstm(x)[0]), npy(ref_out))
    lstm.train()
    out, (h, _) = lstm(x)
    np.testing.assert_allclose(npy(h[0]), npy(ref_h[0]), atol=1e-7)  # layer 0 untouched
    assert np.abs(npy(out) - npy(ref_out)).max() > 1e-3


def test_repr():
    assert repr(nn.LSTM(10, 20, 2, batch_first=True)) == \
        "LSTM(10, 20, num_layers=2, batch_first=True)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    assert repr(nn.GRU(3, 4, bias=False, bidirectional=True)) == \
        "GRU(3, 4, bias=False, bidirectional=True)"


# --------------------------------------------------------------------- errors
def test_wrong_input_size_names_layer_and_shape():
    lstm = nn.LSTM(input_size=32, hidden_size=8)
    with pytest.raises(ValueError) as info:
        lstm(shendu.zeros(50, 64, 16))
    assert str(info.value) == "LSTM(input_size=32) got input with 16 features (shape (50, 64, 16))"
    with pytest.raises(ValueError, match=r"^GRUCell\(input_size=5\) got input with 3 features"):
        nn.GRUCell(5, 2)(shendu.zeros(4, 3))
    with pytest.raises(ValueError, match="Expected input to be 2D .* or 3D, got 4D"):
        lstm(shendu.zeros(2, 3, 4, 32))
    with pytest.raises(ValueError, match="Expected input to be 1D or 2D, got 3D"):
        nn.RNNCell(3, 2)(shendu.zeros(1, 2, 3))
    with pytest.raises(TypeError, match="input is float64 but the weights are float32"):
        lstm(shendu.zeros(5, 2, 32, dtype=F64))
    with pytest.raises(TypeError, match="expected a Tensor or a PackedSequence"):
        lstm(np.zeros((5, 2, 32), np.float32))


def test_wrong_initial_state_shape_names_expected_and_received():
    lstm = nn.LSTM(4, 8, num_layers=2)
    x = shendu.zeros(5, 3, 4)
    h, c = shendu.zeros(2, 3, 8), shendu.zeros(2, 3, 8)
    with pytest.raises(ValueError) as info:
        lstm(x, (shendu.zeros(1, 3, 8), c))
    assert str(info.value) == ("LSTM: expected h0 of shape (2, 3, 8) (num_layers * "
                               "num_directions, batch, hidden_size), got (1, 3, 8)")
    with pytest.raises(ValueError, match=r"expected c0 of shape \(2, 3, 8\).*got \(2, 3, 7\)"):
        lstm(x, (h, shendu.zeros(2, 3, 7)))
    with pytest.raises(TypeError, match=r"hx must be a tuple \(h0, c0\)"):
        lstm(x, h)
    gru = nn.GRU(4, 8, bidirectional=True)
    with pytest.raises(ValueError, match=r"expected h0 of shape \(2, 8\) .*unbatched"):
        gru(shendu.zeros(5, 4), shendu.zeros(2, 1, 8))
    with pytest.raises(ValueError, match=r"LSTMCell: expected c of shape \(3, 8\)"):
        nn.LSTMCell(4, 8)(shendu.zeros(3, 4), (shendu.zeros(3, 8), shendu.zeros(2, 8)))


def test_constructor_errors_and_warnings():
    with pytest.raises(ValueError, match="unknown nonlinearity 'sigmoid'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"dropout should be a number in range \[0, 1\]"):
        nn.GRU(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="hidden_size must be an integer >= 1"):
        nn.LSTM(3, 0)
    with pytest.raises(NotImplementedError, match="proj_size"):
        nn.LSTM(3, 4, proj_size=2)
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.LSTM(3, 4, num_layers=2, dropout=0.2)


def test_functional_cell_errors():
    x, h = shendu.zeros(2, 3), shendu.zeros(2, 4)
    with pytest.raises(ValueError, match=r"lstm_cell: w_hh must have shape \(4 \* hidden_size"):
        R.lstm_cell(x, (h, h), shendu.zeros(16, 3), shendu.zeros(12, 4))
    with pytest.raises(ValueError, match=r"gru_cell: expected input of shape \(batch, 5\)"):
        R.gru_cell(x, h, shendu.zeros(12, 5), shendu.zeros(12, 4))
    with pytest.raises(TypeError, match=r"lstm_cell: hx must be a tuple"):
        R.lstm_cell(x, h, shendu.zeros(16, 3), shendu.zeros(16, 4))


# --------------------------------------------------------------------- learning
def test_lstm_learns_to_remember_the_first_step():
    """The sign of the first of 8 noisy steps, classified from h_n: a memory task."""
    shendu.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 64, 1)).astype(np.float32)
    y = (x[0, :, 0] > 0).astype(np.int64)
    lstm, head = nn.LSTM(1, 16), nn.Linear(16, 2)
    opt = shendu.optim.Adam(list(lstm.parameters()) + list(head.parameters()), lr=0.03)
    xs, ys = shendu.tensor(x), shendu.tensor(y)
    for _ in range(150):
        opt.zero_grad()
        _, (h, _) = lstm(xs)
        loss = nn.functional.cross_entropy(head(h[-1]), ys)
        loss.backward()
        opt.step()
    accuracy = float((head(lstm(xs)[1][0][-1]).argmax(-1) == ys).float().mean())
    assert accuracy > 0.95, accuracy
