"""ONNX export (shendu.io.onnx): each model is exported, checked by onnx's checker, run in
onnxruntime and compared with shendu's own outputs, at the traced batch size and at
another one (dynamic axes). Clear errors for what has no converter; atomic writes.

Tolerance: the outputs are float32 and onnxruntime sums in another order (its own GEMM,
LSTM and softmax kernels), so they are compared at atol = rtol = 1e-5, about 100 float32
ulps at the scale of these outputs (|y| <= ~10); the measured differences are <= 5e-7.
"""
import os
import sys

import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.io import onnx as shendu_onnx
from shendu.io.onnx import export

ATOL = RTOL = 1e-5


@pytest.fixture(scope="module")
def ort():
    pytest.importorskip("onnx", reason='onnx is not installed: pip install "shendu[onnx]"')
    return pytest.importorskip("onnxruntime",
                               reason='onnxruntime is not installed: pip install "shendu[onnx]"')


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def shendu_outputs(model, inputs):
    model.eval()
    with shendu.no_grad():
        out = model(*[shendu.tensor(a) for a in inputs])
    return [t.numpy() for t in shendu_onnx._flatten(out)]


def roundtrip(ort, tmp_path, model, inputs, *others, dynamic=None, input_names=None, **kw):
    """Export ``model`` on ``inputs``, run the file in onnxruntime on ``inputs`` and each of
    ``others`` and compare with shendu. Returns the ModelProto."""
    import onnx
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    names = input_names or [f"x{i}" for i in range(len(inputs))]
    if dynamic is None:
        dynamic = {n: {0: "batch"} for n in names}
    path = tmp_path / "model.onnx"
    proto = export(model, inputs, path, input_names=names, dynamic_axes=dynamic, **kw)
    onnx.checker.check_model(onnx.load(str(path)))
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for feed in (inputs,) + tuple(o if isinstance(o, tuple) else (o,) for o in others):
        expected = shendu_outputs(model, feed)
        got = session.run(None, dict(zip(names, feed)))
        assert len(got) == len(expected)
        for e, g in zip(expected, got):
            assert g.shape == e.shape and g.dtype == e.dtype
            np.testing.assert_allclose(g, e, atol=ATOL, rtol=RTOL)
    return proto


def op_types(proto):
    return [n.op_type for n in proto.graph.node]


# ---------------------------------------------------------------------------- nn models
def test_mlp(ort, tmp_path):
    model = nn.Sequential(nn.Linear(6, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 3),
                          nn.Softmax(dim=1))
    proto = roundtrip(ort, tmp_path, model, rand(4, 6), rand(9, 6, seed=1))
    assert op_types(proto) == ["MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"]
    assert proto.graph.node[-1].output == ["output_0"]
    names = {i.name for i in proto.graph.initializer}
    assert {"0.weight_T", "0.bias", "3.weight_T", "3.bias"} <= names
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and dims[1].dim_value == 6


def lenet():
    bn = nn.BatchNorm2d(6)
    bn.running_mean._data[:] = rand(6)
    bn.running_var._data[:] = np.abs(rand(6, seed=1)) + 0.5
    bn.weight._data[:] = rand(6, seed=2)
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), bn, nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
                         nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 10))


def test_cnn_lenet(ort, tmp_path):
    model = lenet()
    proto = roundtrip(ort, tmp_path, model, rand(2, 1, 28, 28), rand(5, 1, 28, 28, seed=3))
    assert op_types(proto)[:5] == ["Conv", "Mul", "Add", "Relu", "MaxPool"]
    assert "AveragePool" in op_types(proto)


def test_conv1d_conv_transpose_adaptive_pool(ort, tmp_path):
    model = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ELU(),
                          nn.Unflatten(2, (1, 8)),
                          nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2, 2))
    roundtrip(ort, tmp_path, model, rand(2, 3, 8), rand(3, 3, 8, seed=1))


def test_padding_and_pixel_shuffle(ort, tmp_path):
    model = nn.Sequential(nn.ReflectionPad2d(1), nn.ZeroPad2d((1, 0, 2, 1)),
                          nn.Conv2d(2, 8, 3), nn.PixelShuffle(2))
    roundtrip(ort, tmp_path, model, rand(2, 2, 5, 5), rand(3, 2, 5, 5, seed=1))


def test_activations(ort, tmp_path):
    model = nn.Sequential(nn.SiLU(), nn.Softplus(), nn.Hardtanh(), nn.LeakyReLU(0.1),
                          nn.Hardswish(), nn.Hardsigmoid(), nn.SELU(), nn.Mish(),
                          nn.GELU(approximate="tanh"), nn.GELU(), nn.PReLU(3), nn.Sigmoid(),
                          nn.LogSoftmax(dim=-1))
    roundtrip(ort, tmp_path, model, 3 * rand(2, 3, 4), rand(5, 3, 4, seed=1))


class Classifier(nn.Module):
    """A custom forward: the tracer follows it (tuple unpacking, out[:, -1])."""

    def __init__(self, cell, **kwargs):
        super().__init__()
        self.rnn = cell(4, 8, batch_first=True, **kwargs)
        self.fc = nn.Linear(16 if kwargs.get("bidirectional") else 8, 3)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


@pytest.mark.parametrize("cell, kwargs, op", [
    (nn.LSTM, {"num_layers": 2, "bidirectional": True}, "LSTM"),
    (nn.GRU, {"num_layers": 2}, "GRU"),
    (nn.GRU, {"bidirectional": True}, "GRU"),
    (nn.RNN, {"nonlinearity": "relu"}, "RNN"),
])
def test_recurrent_classifier(ort, tmp_path, cell, kwargs, op):
    proto = roundtrip(ort, tmp_path, Classifier(cell, **kwargs), rand(2, 5, 4),
                      rand(6, 5, 4, seed=1))
    assert op in op_types(proto)


def test_lstm_states_in_and_out(ort, tmp_path):
    """nn.LSTM itself, time-major, called as lstm(x, (h0, c0)) (a nested args tuple, as
    torch.onnx.export takes it): outputs output, h_n, c_n; the sequence length is the
    dynamic axis here."""
    lstm = nn.LSTM(4, 6, num_layers=2).eval()
    h0, c0 = rand(2, 3, 6, seed=1), rand(2, 3, 6, seed=2)
    path = tmp_path / "lstm.onnx"
    proto = export(lstm, (rand(5, 3, 4), (h0, c0)), path, input_names=["x", "h0", "c0"],
                   output_names=["y", "h_n", "c_n"], dynamic_axes={"x": {0: "time"}})
    assert [o.name for o in proto.graph.output] == ["y", "h_n", "c_n"]
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    for x in (rand(5, 3, 4), rand(9, 3, 4, seed=3)):
        with shendu.no_grad():
            y, (h, c) = lstm(shendu.tensor(x), (shendu.tensor(h0), shendu.tensor(c0)))
        got = session.run(None, {"x": x, "h0": h0, "c0": c0})
        for e, g in zip((y, h, c), got):
            np.testing.assert_allclose(g, e.numpy(), atol=ATOL, rtol=RTOL)


def test_gate_reorders():
    """The reorders: PyTorch LSTM (i, f, g, o) -> ONNX (i, o, f, c), GRU (r, z, n) ->
    ONNX (z, r, h)."""
    from shendu.io._onnx_modules import _LSTM_ORDER, _TORCH_GRU_ORDER, _blocks
    w = np.repeat(np.arange(4.0), 2)[:, None]  # blocks 0, 1, 2, 3 of two rows
    assert _blocks(w, _LSTM_ORDER)[:, 0].tolist() == [0, 0, 3, 3, 1, 1, 2, 2]
    w = np.repeat(np.arange(3.0), 2)[:, None]
    assert _blocks(w, _TORCH_GRU_ORDER)[:, 0].tolist() == [1, 1, 0, 0, 2, 2]


@pytest.mark.parametrize("norm_first, activation", [(False, "relu"), (True, "gelu")])
def test_transformer_encoder(ort, tmp_path, norm_first, activation):
    layer = nn.TransformerEncoderLayer(16, 4, 32, batch_first=True, norm_first=norm_first,
                                       activation=activation)
    model = nn.TransformerEncoder(layer, 2)
    proto = roundtrip(ort, tmp_path, model, rand(2, 7, 16), rand(5, 7, 16, seed=1))
    assert op_types(proto).count("LayerNormalization") == 4


def test_transformer_encoder_causal_mask(ort, tmp_path):
    class Causal(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(20, 8)
            self.encoder = nn.TransformerEncoder(
                nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 1)
            self.head = nn.Linear(8, 20)

        def forward(self, ids):
            mask = nn.Transformer.generate_square_subsequent_mask(ids.shape[1])
            return self.head(self.encoder(self.embed(ids), mask=mask))

    ids = np.array([[1, 2, 3, 4, 5], [6, 7, 8, 9, 0]])
    roundtrip(ort, tmp_path, Causal(), ids, np.array([[3, 1, 4, 1, 5]] * 3))


def test_embedding_dynamic_batch_and_length(ort, tmp_path):
    model = nn.Sequential(nn.Embedding(10, 4, padding_idx=0), nn.LayerNorm(4), nn.Tanh())
    ids = np.array([[1, 2, 3], [4, 0, 9]], dtype=np.int64)
    proto = roundtrip(ort, tmp_path, model, ids, np.array([[5, 6, 7, 8, 9]] * 4),
                      dynamic={"x0": {0: "batch", 1: "length"}})
    assert op_types(proto)[0] == "Gather"
    assert proto.graph.input[0].type.tensor_type.elem_type == 7  # int64


def test_opset_18(ort, tmp_path):
    """From opset 18 the reductions take their axes as an input."""
    model = nn.Sequential(nn.Conv2d(2, 3, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    proto = roundtrip(ort, tmp_path, model, rand(2, 2, 6, 6), opset_version=18)
    assert proto.opset_import[0].version == 18


# ---------------------------------------------------------------------------- keras models
def keras():
    from shendu import keras as k
    return k


def test_keras_mlp(ort, tmp_path):
    k = keras()
    model = k.Sequential([k.Input((8,)), k.layers.Dense(16, activation="relu"),
                          k.layers.Dropout(0.2), k.layers.Dense(4, activation="softmax")])
    roundtrip(ort, tmp_path, model, rand(3, 8), rand(7, 8, seed=1))


def test_keras_cnn_channels_last(ort, tmp_path):
    k = keras()
    L = k.layers
    model = k.Sequential([k.Input((12, 12, 1)), L.Conv2D(4, 3, activation="relu"),
                          L.MaxPooling2D(), L.Conv2D(6, 3, padding="same"),
                          L.BatchNormalization(), L.Activation("tanh"), L.Flatten(),
                          L.Dense(5, activation="softmax")])
    model.layers[3].moving_mean._data[:] = rand(6)
    roundtrip(ort, tmp_path, model, rand(2, 12, 12, 1), rand(4, 12, 12, 1, seed=1))


@pytest.mark.parametrize("layer", ["LSTM", "GRU"])
def test_keras_recurrent_with_embedding(ort, tmp_path, layer):
    k = keras()
    L = k.layers
    rnn = getattr(L, layer)
    model = k.Sequential([k.Input((6,), dtype="int64"), L.Embedding(12, 5),
                          rnn(7, return_sequences=True), rnn(4), L.LayerNormalization(),
                          L.Dense(3)])
    ids = np.array([[1, 2, 3, 4, 5, 6], [7, 8, 9, 10, 11, 1]])
    proto = roundtrip(ort, tmp_path, model, ids, np.array([[2, 4, 6, 8, 10, 11]] * 5))
    assert op_types(proto).count(layer) == 2


def test_keras_functional_recurrent_options(ort, tmp_path):
    """go_backwards, GRU(reset_after=False), hard_sigmoid gates, SimpleRNN(relu),
    return_state and a Concatenate in a functional model."""
    k = keras()
    L = k.layers
    inp = k.Input((6, 3))
    seq = L.LSTM(5, return_sequences=True, go_backwards=True)(inp)
    a = L.GRU(4, reset_after=False, recurrent_activation="hard_sigmoid")(seq)
    b = L.SimpleRNN(3, activation="relu")(seq)
    model = k.Model(inp, L.Dense(2)(L.Concatenate()([a, b])))
    roundtrip(ort, tmp_path, model, rand(2, 6, 3), rand(5, 6, 3, seed=1))


def test_keras_bidirectional(ort, tmp_path):
    k = keras()
    model = k.Sequential([k.Input((6, 3)), k.layers.Bidirectional(k.layers.LSTM(4))])
    roundtrip(ort, tmp_path, model, rand(2, 6, 3), rand(3, 6, 3, seed=1))


# ---------------------------------------------------------------------------- errors
def test_unsupported_op_names_op_and_module(ort, tmp_path):
    model = nn.Sequential(nn.Linear(4, 4), nn.GroupNorm(2, 4))
    path = tmp_path / "model.onnx"
    with pytest.raises(NotImplementedError, match=r"op GroupNorm .*called in 1 \(GroupNorm\)"):
        export(model, shendu.randn(3, 4), path)
    assert not path.exists() and os.listdir(tmp_path) == []


def test_keras_masked_recurrent_layer_is_refused(ort, tmp_path):
    k = keras()
    model = k.Sequential([k.Input((4,), dtype="int64"), k.layers.Embedding(5, 3, mask_zero=True),
                          k.layers.LSTM(2)])
    with pytest.raises(NotImplementedError, match="LSTM .*mask"):
        export(model, np.array([[1, 2, 0, 0]]), tmp_path / "m.onnx")


def test_failed_export_leaves_the_old_file_intact(ort, tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(b"previous export")
    with pytest.raises(NotImplementedError):
        export(nn.Upsample(scale_factor=2), shendu.randn(1, 1, 2, 2), path)
    assert path.read_bytes() == b"previous export"
    assert os.listdir(tmp_path) == ["model.onnx"]  # no temporary file left behind
    export(nn.ReLU(), shendu.randn(2, 2), path)  # a successful one replaces it
    assert path.read_bytes() != b"previous export"
    assert os.listdir(tmp_path) == ["model.onnx"]


def test_trace_is_undone_after_export(ort, tmp_path):
    """Function.apply, the primitives and the modules' forwards are restored, and the
    model's training mode is back, after a successful and a failed export."""
    from shendu.autograd.function import Function
    from shendu.ops import pooling
    apply, max_pool = Function.__dict__["apply"], pooling._max_pool
    cast = shendu.ops.elementwise.cast
    model = nn.Sequential(nn.Linear(2, 2), nn.GroupNorm(1, 2))
    model.train()
    with pytest.raises(NotImplementedError):
        export(model, shendu.randn(3, 2), tmp_path / "m.onnx")
    export(model[0], shendu.randn(3, 2), tmp_path / "m.onnx")
    assert Function.__dict__["apply"] is apply and pooling._max_pool is max_pool
    assert shendu.ops.cast is shendu.ops.elementwise.cast is cast
    assert all("forward" not in m.__dict__ for m in model.modules())
    assert model.training and model[0].training


def test_bad_arguments(ort, tmp_path):
    model = nn.Linear(2, 2)
    x = shendu.randn(3, 2)
    with pytest.raises(ValueError, match="opset_version must be an int from 17"):
        export(model, x, None, opset_version=11)
    with pytest.raises(ValueError, match="input_names must be 1 distinct names"):
        export(model, x, None, input_names=["a", "b"])
    with pytest.raises(ValueError, match="output_names must be 1 distinct names"):
        export(model, x, None, output_names=["a", "b"])
    with pytest.raises(ValueError, match=r"dynamic_axes names \['y'\]"):
        export(model, x, None, dynamic_axes={"y": [0]})
    with pytest.raises(ValueError, match="names axis 2, but input_0 has shape"):
        export(model, x, None, dynamic_axes={"input_0": [2]})
    with pytest.raises(TypeError, match="model must be a shendu.nn.Module"):
        export(lambda t: t, x, None)
    with pytest.raises(TypeError, match=r"args\[0\]\[0\] must be a shendu Tensor"):
        export(model, ([1.0, 2.0],), None)


def test_missing_onnx_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)  # makes `import onnx` fail
    with pytest.raises(ImportError, match=r'pip install "shendu\[onnx\]"'):
        export(nn.ReLU(), shendu.randn(2, 2), None)


def test_supported_lists():
    assert "shendu.ops.linear.Linear" in shendu_onnx.supported_ops()
    assert "shendu.nn.recurrent.RNNBase" in shendu_onnx.supported_modules()


def test_torch_onnx_module_name():
    # `import torch.onnx; torch.onnx.export(...)` (word_language_model) after the alias
    import shendu.onnx
    assert shendu.onnx.export is export and set(shendu.onnx.__all__) == set(shendu_onnx.__all__)


def test_casts_and_comparisons_in_a_custom_forward(ort, tmp_path):
    """x.long() is exported as a Cast; a comparison of traced values raises (it would
    otherwise be frozen into a constant of the example input)."""
    class Quantize(nn.Module):
        def forward(self, x):
            return (x * 4).long().to(shendu.float32) / 4

    roundtrip(ort, tmp_path, Quantize(), 3 * rand(2, 5), 3 * rand(4, 5, seed=1))

    class Mask(nn.Module):
        def forward(self, x):
            return x.masked_fill(x > 0, 0.0)

    with pytest.raises(NotImplementedError, match="comparison .*in the model \\(Mask\\)"):
        export(Mask(), shendu.randn(2, 3), tmp_path / "mask.onnx")


def test_max_min_and_argmax(ort, tmp_path):
    """Reductions whose indices shendu computes outside autograd are exported too."""
    class Extremes(nn.Module):
        def forward(self, x):
            values, indices = x.max(dim=1)
            return (values + x.amin(dim=0).sum(), indices, x.argmax(dim=-1, keepdim=True),
                    x.argmin(), shendu.maximum(x, -x))

    roundtrip(ort, tmp_path, Extremes(), rand(3, 4), rand(6, 4, seed=1))
