"""RNN/LSTM/GRU and their cells against PyTorch 2.13: a torch module's state_dict loaded
into ours, then outputs, final states and the gradients of the input, the initial states
and every parameter compared (float32 atol 1e-5 / rtol 1e-4, float64 1e-10), for 1-2
layers, both directions, batch_first both ways, with and without initial states,
packed variable-length batches (sorted and unsorted), unbatched input and no bias."""
import numpy as np
import pytest

import shendu
import shendu.nn as nn
from shendu.nn.utils import rnn as rnn_utils

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
tnn = torch.nn
pytestmark = pytest.mark.conformance

MODES = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
I, H = 4, 5


def make_pair(mode, dtype=np.float32, **kw):
    """A torch module and ours with torch's weights (loaded through its state_dict)."""
    torch.manual_seed(0)
    tdtype = torch.float64 if dtype == np.float64 else torch.float32
    if mode.startswith("rnn"):
        kw["nonlinearity"] = mode[4:]
    cls = {"lstm": (tnn.LSTM, nn.LSTM), "gru": (tnn.GRU, nn.GRU)}.get(mode, (tnn.RNN, nn.RNN))
    theirs = cls[0](I, H, dtype=tdtype, **kw)
    ours = cls[1](I, H, dtype=dtype, **kw)
    result = ours.load_state_dict(theirs.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == []
    return ours, theirs


def pair_tensors(a, grad=True):
    return shendu.tensor(a, requires_grad=grad), torch.tensor(a, requires_grad=grad)


def states_of(mode, h, c=None):
    return (h, c) if mode == "lstm" else h


def assert_close(ours, theirs, what, tol):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert tuple(ours.shape) == tuple(theirs.shape), f"{what}: shape {ours.shape} vs " \
        f"{theirs.shape}"
    np.testing.assert_allclose(np.asarray(ours.detach()), theirs, err_msg=f"{what} differs",
                               **tol)


def tol_for(dtype):
    return dict(atol=1e-5, rtol=1e-4) if dtype == np.float32 else dict(atol=1e-10, rtol=1e-9)


def backward_both(mode, outs, touts, dtype, seed=1):
    """A random weighted sum of every output (output, h_n, c_n), backpropagated in both."""
    rng = np.random.default_rng(seed)
    loss, tloss = 0, 0
    for o, t in zip(outs, touts):
        w = rng.standard_normal(tuple(t.shape)).astype(dtype)
        loss = loss + (o * shendu.tensor(w)).sum()
        tloss = tloss + (t * torch.tensor(w)).sum()
    loss.backward()
    tloss.backward()


def compare_params(ours, theirs, tol):
    tp = dict(theirs.named_parameters())
    names = [n for n, _ in ours.named_parameters()]
    assert names == list(tp), "parameter names or order differ from PyTorch"
    for name, p in ours.named_parameters():
        assert_close(p.grad, tp[name].grad, f"gradient of {name}", tol)


def flat_outputs(mode, out, hn):
    return [out] + (list(hn) if mode == "lstm" else [hn])


# --------------------------------------------------------------------- padded input
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_states", [False, True])
def test_layer_matches_torch(mode, num_layers, bidirectional, batch_first, with_states):
    dtype = np.float32
    ours, theirs = make_pair(mode, num_layers=num_layers, bidirectional=bidirectional,
                             batch_first=batch_first)
    T, B = 6, 3
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(dtype)
    xs, xt = pair_tensors(x)
    args, targs, states = (), (), []
    if with_states:
        D = 2 if bidirectional else 1
        for k in range(2 if mode == "lstm" else 1):
            states.append(pair_tensors(rng.standard_normal((num_layers * D, B, H)).astype(dtype)))
        args = (states_of(mode, *[s[0] for s in states]),)
        targs = (states_of(mode, *[s[1] for s in states]),)
    out, hn = ours(xs, *args)
    tout, thn = theirs(xt, *targs)
    tol = tol_for(dtype)
    for a, b, what in zip(flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn),
                          ("output", "h_n", "c_n")):
        assert_close(a, b, what, tol)
    backward_both(mode, flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn), dtype)
    assert_close(xs.grad, xt.grad, "input gradient", tol)
    for k, (s, t) in enumerate(states):
        assert_close(s.grad, t.grad, ("h0", "c0")[k] + " gradient", tol)
    compare_params(ours, theirs, tol)


@pytest.mark.parametrize("mode", MODES)
def test_float64_matches_torch_tightly(mode):
    ours, theirs = make_pair(mode, np.float64, num_layers=2, bidirectional=True)
    x = np.random.default_rng(3).standard_normal((7, 2, I))
    xs, xt = pair_tensors(x)
    out, hn = ours(xs)
    tout, thn = theirs(xt)
    tol = tol_for(np.float64)
    for a, b in zip(flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn)):
        assert_close(a, b, "output", tol)
    backward_both(mode, flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn), np.float64)
    assert_close(xs.grad, xt.grad, "input gradient", tol)
    compare_params(ours, theirs, tol)


@pytest.mark.parametrize("mode", MODES)
def test_no_bias_matches_torch(mode):
    ours, theirs = make_pair(mode, bias=False, num_layers=2)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    x = np.random.default_rng(4).standard_normal((5, 2, I)).astype(np.float32)
    xs, xt = pair_tensors(x)
    out, hn = ours(xs)
    tout, thn = theirs(xt)
    assert_close(out, tout, "output", tol_for(np.float32))
    backward_both(mode, flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn), np.float32)
    compare_params(ours, theirs, tol_for(np.float32))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input_matches_torch(mode, batch_first):
    ours, theirs = make_pair(mode, bidirectional=True, batch_first=batch_first)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, I)).astype(np.float32)
    h = rng.standard_normal((2, H)).astype(np.float32)
    xs, xt = pair_tensors(x)
    hs, ht = pair_tensors(h)
    cs, ct = pair_tensors(h[::-1].copy())
    out, hn = ours(xs, states_of(mode, hs, cs))
    tout, thn = theirs(xt, states_of(mode, ht, ct))
    tol = tol_for(np.float32)
    for a, b in zip(flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn)):
        assert_close(a, b, "output", tol)
    backward_both(mode, flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn), np.float32)
    assert_close(xs.grad, xt.grad, "input gradient", tol)
    assert_close(hs.grad, ht.grad, "h0 gradient", tol)


# --------------------------------------------------------------------- packed input
LENGTH_SETS = {"sorted": [6, 4, 4, 1], "unsorted": [3, 6, 1, 4], "equal": [5, 5, 5, 5]}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("lengths", list(LENGTH_SETS))
@pytest.mark.parametrize("num_layers,bidirectional", [(1, False), (1, True), (2, True)])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_matches_torch(mode, lengths, num_layers, bidirectional, batch_first):
    lengths = LENGTH_SETS[lengths]
    enforce_sorted = lengths == sorted(lengths, reverse=True)
    ours, theirs = make_pair(mode, num_layers=num_layers, bidirectional=bidirectional,
                             batch_first=batch_first)
    B, T = len(lengths), max(lengths) + 1  # one step of padding beyond the longest
    rng = np.random.default_rng(6)
    x = rng.standard_normal((B, T, I) if batch_first else (T, B, I)).astype(np.float32)
    D = 2 if bidirectional else 1
    h0 = rng.standard_normal((num_layers * D, B, H)).astype(np.float32)
    xs, xt = pair_tensors(x)
    hs, ht = pair_tensors(h0)
    cs, ct = pair_tensors(h0[:, ::-1].copy())
    ps = rnn_utils.pack_padded_sequence(xs, lengths, batch_first=batch_first,
                                        enforce_sorted=enforce_sorted)
    pt = tnn.utils.rnn.pack_padded_sequence(xt, torch.tensor(lengths), batch_first=batch_first,
                                            enforce_sorted=enforce_sorted)
    assert ps.batch_sizes.tolist() == pt.batch_sizes.tolist()
    pout, hn = ours(ps, states_of(mode, hs, cs))
    tpout, thn = theirs(pt, states_of(mode, ht, ct))
    assert isinstance(pout, rnn_utils.PackedSequence)
    out, out_len = rnn_utils.pad_packed_sequence(pout, batch_first=batch_first, total_length=T)
    tout, tout_len = tnn.utils.rnn.pad_packed_sequence(tpout, batch_first=batch_first,
                                                       total_length=T)
    assert out_len.tolist() == tout_len.tolist() == lengths
    tol = tol_for(np.float32)
    for a, b, what in zip(flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn),
                          ("padded output", "h_n", "c_n")):
        assert_close(a, b, what, tol)
    backward_both(mode, flat_outputs(mode, out, hn), flat_outputs(mode, tout, thn), np.float32)
    assert_close(xs.grad, xt.grad, "input gradient", tol)
    assert_close(hs.grad, ht.grad, "h0 gradient", tol)
    if mode == "lstm":
        assert_close(cs.grad, ct.grad, "c0 gradient", tol)
    compare_params(ours, theirs, tol)


def test_packed_layout_matches_torch():
    """The packed data itself, batch sizes and permutations (distinct lengths)."""
    lengths = [2, 5, 3, 1]
    x = np.random.default_rng(7).standard_normal((4, 5, 3)).astype(np.float32)
    ps = rnn_utils.pack_padded_sequence(shendu.tensor(x), lengths, batch_first=True,
                                        enforce_sorted=False)
    pt = tnn.utils.rnn.pack_padded_sequence(torch.tensor(x), lengths, batch_first=True,
                                            enforce_sorted=False)
    np.testing.assert_array_equal(ps.data.numpy(), pt.data.numpy())
    assert ps.batch_sizes.tolist() == pt.batch_sizes.tolist()
    assert ps.sorted_indices.tolist() == pt.sorted_indices.tolist()
    assert ps.unsorted_indices.tolist() == pt.unsorted_indices.tolist()
    seqs = [x[i, :n] for i, n in enumerate(lengths)]
    a = rnn_utils.pad_sequence([shendu.tensor(s) for s in seqs], padding_value=-2.0,
                               padding_side="left")
    b = tnn.utils.rnn.pad_sequence([torch.tensor(s) for s in seqs], padding_value=-2.0,
                                   padding_side="left")
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    qs = rnn_utils.pack_sequence([shendu.tensor(s) for s in seqs], enforce_sorted=False)
    qt = tnn.utils.rnn.pack_sequence([torch.tensor(s) for s in seqs], enforce_sorted=False)
    np.testing.assert_array_equal(qs.data.numpy(), qt.data.numpy())


# --------------------------------------------------------------------- dropout
@pytest.mark.parametrize("mode", ["lstm", "gru"])
def test_dropout_between_layers(mode):
    """Dropout acts on the first layer's output only: layer 0's final state is the
    evaluation-mode one exactly; the last layer's states vary, and their mean and spread
    over many runs agree with PyTorch's (the masks come from different generators)."""
    ours, theirs = make_pair(mode, num_layers=2, dropout=0.5)
    x = np.random.default_rng(8).standard_normal((4, 8, I)).astype(np.float32)
    xs, xt = shendu.tensor(x), torch.tensor(x)
    ours.eval()
    theirs.eval()
    with shendu.no_grad(), torch.no_grad():
        ref = ours(xs)[1]
        ref = ref[0] if mode == "lstm" else ref
        tref = theirs(xt)[1]
        tref = tref[0] if mode == "lstm" else tref
        assert_close(ref, tref, "eval h_n", tol_for(np.float32))
        ours.train()
        theirs.train()
        runs, truns = [], []
        for _ in range(300):
            h = ours(xs)[1]
            h = h[0] if mode == "lstm" else h
            np.testing.assert_allclose(h[0].numpy(), ref[0].numpy(), atol=1e-6)
            runs.append(h[1].numpy())
            th = theirs(xt)[1]
            truns.append((th[0] if mode == "lstm" else th)[1].numpy())
    runs, truns = np.stack(runs), np.stack(truns)
    assert np.abs(runs - ref[1].numpy()).max() > 1e-2  # dropout does change layer 1
    np.testing.assert_allclose(runs.mean(0), truns.mean(0), atol=0.05)
    np.testing.assert_allclose(runs.std(0), truns.std(0), atol=0.05)


# --------------------------------------------------------------------- cells
CELLS = {"rnn_tanh": (nn.RNNCell, tnn.RNNCell, {}),
         "rnn_relu": (nn.RNNCell, tnn.RNNCell, {"nonlinearity": "relu"}),
         "lstm": (nn.LSTMCell, tnn.LSTMCell, {}), "gru": (nn.GRUCell, tnn.GRUCell, {})}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cell_matches_torch(mode, bias, batched, dtype):
    ours_cls, theirs_cls, kw = CELLS[mode]
    torch.manual_seed(0)
    theirs = theirs_cls(I, H, bias=bias, dtype=torch.float64 if dtype == np.float64 else
                        torch.float32, **kw)
    ours = ours_cls(I, H, bias=bias, dtype=dtype, **kw)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(9)
    lead = (3,) if batched else ()
    xs, xt = pair_tensors(rng.standard_normal(lead + (I,)).astype(dtype))
    hs, ht = pair_tensors(rng.standard_normal(lead + (H,)).astype(dtype))
    cs, ct = pair_tensors(rng.standard_normal(lead + (H,)).astype(dtype))
    out = ours(xs, states_of(mode, hs, cs))
    tout = theirs(xt, states_of(mode, ht, ct))
    outs = list(out) if mode == "lstm" else [out]
    touts = list(tout) if mode == "lstm" else [tout]
    tol = tol_for(dtype)
    for a, b in zip(outs, touts):
        assert_close(a, b, "cell output", tol)
    backward_both(mode, outs, touts, dtype)
    assert_close(xs.grad, xt.grad, "input gradient", tol)
    assert_close(hs.grad, ht.grad, "h gradient", tol)
    if mode == "lstm":
        assert_close(cs.grad, ct.grad, "c gradient", tol)
    compare_params(ours, theirs, tol)


@pytest.mark.parametrize("mode", MODES)
def test_cell_without_state_matches_torch(mode):
    ours_cls, theirs_cls, kw = CELLS[mode]
    torch.manual_seed(0)
    theirs = theirs_cls(I, H, **kw)
    ours = ours_cls(I, H, **kw)
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(10).standard_normal((2, I)).astype(np.float32)
    out, tout = ours(shendu.tensor(x)), theirs(torch.tensor(x))
    for a, b in zip(out if mode == "lstm" else [out], tout if mode == "lstm" else [tout]):
        assert_close(a, b, "cell output", tol_for(np.float32))


@pytest.mark.parametrize("fn", ["rnn_tanh_cell", "rnn_relu_cell", "lstm_cell", "gru_cell"])
def test_functional_cells_match_torch(fn):
    from shendu.ops import recurrent
    gates = {"lstm_cell": 4, "gru_cell": 3}.get(fn, 1)
    rng = np.random.default_rng(11)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in
              [(3, I), (3, H), (3, H), (gates * H, I), (gates * H, H), (gates * H,), (gates * H,)]]
    ours = [shendu.tensor(a) for a in arrays]
    theirs = [torch.tensor(a) for a in arrays]
    if fn == "lstm_cell":
        a = getattr(recurrent, fn)(ours[0], (ours[1], ours[2]), *ours[3:])
        b = getattr(torch, fn)(theirs[0], (theirs[1], theirs[2]), *theirs[3:])
    else:
        a = [getattr(recurrent, fn)(ours[0], ours[1], *ours[3:])]
        b = [getattr(torch, fn)(theirs[0], theirs[1], *theirs[3:])]
    for u, v in zip(a, b):
        assert_close(u, v, fn, tol_for(np.float32))


# --------------------------------------------------------------------- API surface
@pytest.mark.parametrize("kw", [dict(), dict(num_layers=3, bidirectional=True, bias=False,
                                             batch_first=True, dropout=0.25)])
@pytest.mark.parametrize("mode", MODES)
def test_repr_state_dict_and_init_match_torch(mode, kw):
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours, theirs = make_pair(mode, **kw)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    fresh = type(ours)(I, H, **({"nonlinearity": mode[4:]} if mode.startswith("rnn") else {}),
                       **kw)
    bound = 1 / np.sqrt(H)
    for (name, p), (_, tp) in zip(fresh.named_parameters(), theirs.named_parameters()):
        assert p.shape == tuple(tp.shape), name
        assert np.abs(p.detach().numpy()).max() <= bound
    values = np.concatenate([p.detach().numpy().ravel() for p in fresh.parameters()])
    assert abs(values.std() - bound / np.sqrt(3)) < 0.1 * bound  # U(-b, b) has std b/sqrt(3)
