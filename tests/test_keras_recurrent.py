"""Keras recurrent layers (SimpleRNN, LSTM, GRU), Bidirectional, TimeDistributed,
RepeatVector, Embedding(mask_zero=True) / Masking: Keras weight layouts mapped onto the
PyTorch-style shendu.nn layers, masks, training and saving."""
import os

import numpy as np
import pytest

import shendu
from shendu import keras, nn
from shendu.keras import layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _np(t):
    return t.detach().numpy()


def _lstm_to_nn(layer):
    kernel, rec, bias = layer.get_weights()
    ref = nn.LSTM(kernel.shape[0], layer.units, batch_first=True)
    ref.weight_ih_l0._data[...] = kernel.T  # gate order i, f, c(g), o in both
    ref.weight_hh_l0._data[...] = rec.T
    ref.bias_ih_l0._data[...] = bias
    ref.bias_hh_l0._data[...] = 0
    return ref


def _gru_to_nn(layer):
    kernel, rec, bias = layer.get_weights()
    u = layer.units

    def reorder(w):  # Keras z, r, h -> PyTorch r, z, n
        return np.concatenate([w[..., u:2 * u], w[..., :u], w[..., 2 * u:]], -1)
    ref = nn.GRU(kernel.shape[0], u, batch_first=True)
    ref.weight_ih_l0._data[...] = reorder(kernel).T
    ref.weight_hh_l0._data[...] = reorder(rec).T
    ref.bias_ih_l0._data[...] = reorder(bias[0])
    ref.bias_hh_l0._data[...] = reorder(bias[1])
    return ref


# ------------------------------------------------------------------ equivalence with nn
def test_lstm_weights_mapped_to_nn_lstm_give_equal_outputs():
    x = _rand(3, 7, 4)
    lstm = layers.LSTM(5, return_sequences=True, return_state=True,
                       bias_initializer="random_normal")
    seq, h, c = lstm(x)
    kernel, rec, bias = lstm.get_weights()
    assert kernel.shape == (4, 20) and rec.shape == (5, 20) and bias.shape == (20,)
    out, (hn, cn) = _lstm_to_nn(lstm)(shendu.tensor(x))
    np.testing.assert_allclose(_np(seq), _np(out), atol=1e-5)
    np.testing.assert_allclose(_np(h), _np(hn)[0], atol=1e-5)
    np.testing.assert_allclose(_np(c), _np(cn)[0], atol=1e-5)
    np.testing.assert_allclose(_np(seq)[:, -1], _np(h), atol=1e-6)


def test_lstm_default_bias_has_forget_gate_ones_and_orthogonal_recurrent_kernel():
    lstm = layers.LSTM(4)
    lstm(np.zeros((1, 2, 3), np.float32))
    _, rec, bias = lstm.get_weights()
    np.testing.assert_array_equal(bias, np.r_[np.zeros(4), np.ones(4), np.zeros(8)])
    np.testing.assert_allclose(rec @ rec.T, np.eye(4), atol=1e-5)  # orthogonal rows


def test_gru_reset_after_equals_nn_gru():
    x = _rand(2, 6, 3)
    gru = layers.GRU(4, return_sequences=True, bias_initializer="random_normal")
    y = gru(x)
    assert gru.bias.shape == (2, 12)
    out, _ = _gru_to_nn(gru)(shendu.tensor(x))
    np.testing.assert_allclose(_np(y), _np(out), atol=1e-5)


def test_simple_rnn_matches_the_formula_and_nn_rnn():
    x = _rand(2, 5, 3)
    rnn = layers.SimpleRNN(4, bias_initializer="random_normal")
    y = _np(rnn(x))
    k, r, b = rnn.get_weights()
    h = np.zeros((2, 4), np.float32)
    for t in range(5):
        h = np.tanh(x[:, t] @ k + h @ r + b)
    np.testing.assert_allclose(y, h, atol=1e-5)
    ref = nn.RNN(3, 4, batch_first=True)
    ref.weight_ih_l0._data[...], ref.weight_hh_l0._data[...] = k.T, r.T
    ref.bias_ih_l0._data[...], ref.bias_hh_l0._data[...] = b, 0
    np.testing.assert_allclose(y, _np(ref(shendu.tensor(x))[1])[0], atol=1e-5)


@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_fused_path_equals_the_step_loop_values_and_gradients(cls):
    # a custom activation forces the step-by-step path; hard_sigmoid vs sigmoid differ, so
    # compare the fused layer with the loop run on the same weights directly
    x = _rand(2, 5, 3)
    layer = cls(4, return_sequences=True, bias_initializer="random_normal")
    xt = shendu.tensor(x, requires_grad=True)
    layer(xt).sum().backward()
    fused = [_np(xt.grad)] + [_np(w.grad) for w in layer.trainable_weights]
    y_fused = _np(layer(x))
    xt2 = shendu.tensor(x, requires_grad=True)
    for w in layer.trainable_weights:
        w.grad = None
    seq, _ = layer._loop(xt2, layer._initial_states(None, xt2), None, None)
    seq.sum().backward()
    loop = [_np(xt2.grad)] + [_np(w.grad) for w in layer.trainable_weights]
    np.testing.assert_allclose(_np(seq), y_fused, atol=1e-5)
    for a, b in zip(fused, loop):
        np.testing.assert_allclose(a, b, atol=1e-4)


def test_go_backwards_returns_the_reversed_run():
    x = _rand(2, 6, 3)
    fwd = layers.GRU(4, return_sequences=True)
    bwd = layers.GRU(4, return_sequences=True, go_backwards=True)
    fwd(x)
    bwd(x)
    bwd.set_weights(fwd.get_weights())
    np.testing.assert_allclose(_np(bwd(x)), _np(fwd(x[:, ::-1].copy())), atol=1e-6)


def test_initial_state_and_return_state_shapes():
    x = _rand(2, 4, 3)
    lstm = layers.LSTM(5, return_state=True)
    out, h, c = lstm(x, initial_state=[np.ones((2, 5), np.float32), np.zeros((2, 5), np.float32)])
    assert out.shape == h.shape == c.shape == (2, 5)
    out0 = lstm(x)[0]
    assert not np.allclose(_np(out), _np(out0))
    with pytest.raises(ValueError, match="initial_state must be 2 tensor"):
        lstm(x, initial_state=[np.ones((2, 5), np.float32)])
    assert lstm.compute_output_shape((None, 4, 3)) == [(None, 5)] * 3


# ------------------------------------------------------------------ masks
@pytest.mark.parametrize("cls", [layers.LSTM, layers.GRU, layers.SimpleRNN])
def test_padding_does_not_change_the_final_state(cls):
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 20, (3, 5))
    padded = np.concatenate([ids, np.zeros((3, 3), ids.dtype)], axis=1)  # post-padding
    pre = np.concatenate([np.zeros((3, 3), ids.dtype), ids], axis=1)   # pre-padding
    emb = layers.Embedding(20, 6, mask_zero=True)
    rnn = cls(4)
    ref = _np(rnn(emb(ids)))
    np.testing.assert_allclose(_np(rnn(emb(padded))), ref, atol=1e-6)
    np.testing.assert_allclose(_np(rnn(emb(pre))), ref, atol=1e-6)
    unmasked = layers.Embedding(20, 6)
    unmasked(ids)
    unmasked.set_weights(emb.get_weights())
    assert not np.allclose(_np(rnn(unmasked(padded))), ref, atol=1e-4)


def test_masked_steps_repeat_the_previous_output_and_the_mask_flows_on():
    ids = np.array([[3, 0, 4, 0, 0], [1, 2, 3, 4, 5]])
    emb = layers.Embedding(6, 3, mask_zero=True)
    lstm = layers.LSTM(4, return_sequences=True)
    e = emb(ids)
    np.testing.assert_array_equal(_np(emb.compute_mask(ids)), ids != 0)
    y = lstm(e)
    seq = _np(y)
    np.testing.assert_array_equal(seq[0, 1], seq[0, 0])
    np.testing.assert_array_equal(seq[0, 4], seq[0, 2])
    assert not np.allclose(seq[1, 1], seq[1, 0])
    mask = keras.layers.base.get_keras_mask(y)
    np.testing.assert_array_equal(_np(mask), ids != 0)
    # the next LSTM gets the mask too: as if only the real steps 0 and 2 were there
    last = layers.LSTM(2)
    full = _np(last(y))
    np.testing.assert_allclose(full[0], _np(last(shendu.tensor(seq[:1, [0, 2]])))[0], atol=1e-6)


def test_mask_through_sequential_and_masking_layer():
    x = _rand(2, 5, 3)
    x[0, 3:] = 0.0
    model = keras.Sequential([keras.Input(shape=(5, 3)), layers.Masking(0.0), layers.GRU(4)])
    out = _np(model(x))
    gru = model.layers[-1]
    np.testing.assert_allclose(out[0], _np(gru(x[:1, :3]))[0], atol=1e-6)
    # a Dropout between the embedding and the LSTM keeps the mask (in training too)
    ids = np.array([[5, 6, 0, 0]])
    seq = keras.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.Dropout(0.5),
                            layers.LSTM(3)])
    a = seq(ids, training=True)
    b = seq.layers[2](seq.layers[0](ids[:, :2]))
    assert a.shape == (1, 3) and b.shape == (1, 3)
    assert keras.layers.base.get_keras_mask(seq.layers[1](seq.layers[0](ids))) is not None


def test_global_average_pooling1d_averages_unmasked_steps():
    ids = np.array([[1, 2, 0, 0], [3, 4, 5, 6]])
    emb = layers.Embedding(7, 2, mask_zero=True)
    pooled = _np(layers.GlobalAveragePooling1D()(emb(ids)))
    table = emb.get_weights()[0]
    np.testing.assert_allclose(pooled[0], table[[1, 2]].mean(0), atol=1e-6)
    np.testing.assert_allclose(pooled[1], table[[3, 4, 5, 6]].mean(0), atol=1e-6)


# ------------------------------------------------------------------ wrappers
def test_bidirectional_concat_equals_forward_and_reversed_backward():
    x = _rand(2, 5, 3)
    bi = layers.Bidirectional(layers.LSTM(4, return_sequences=True))
    y = _np(bi(x))
    assert y.shape == (2, 5, 8)
    assert bi.forward_layer.name == "forward_lstm" and bi.backward_layer.name == "backward_lstm"
    assert bi.backward_layer.go_backwards and len(bi.get_weights()) == 6
    f = layers.LSTM(4, return_sequences=True)
    f(x)
    f.set_weights(bi.forward_layer.get_weights())
    b = layers.LSTM(4, return_sequences=True)
    b(x)
    b.set_weights(bi.backward_layer.get_weights())
    np.testing.assert_allclose(y[..., :4], _np(f(x)), atol=1e-6)
    np.testing.assert_allclose(y[..., 4:], _np(b(x[:, ::-1].copy()))[:, ::-1], atol=1e-6)
    # equal to a bidirectional nn.LSTM with the weights mapped
    ref = nn.LSTM(3, 4, batch_first=True, bidirectional=True)
    fw, bw = _lstm_to_nn(bi.forward_layer), _lstm_to_nn(bi.backward_layer)
    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        getattr(ref, f"{name}_l0")._data[...] = getattr(fw, f"{name}_l0")._data
        getattr(ref, f"{name}_l0_reverse")._data[...] = getattr(bw, f"{name}_l0")._data
    np.testing.assert_allclose(y, _np(ref(shendu.tensor(x))[0]), atol=1e-5)
    summed = layers.Bidirectional(layers.GRU(3), merge_mode="sum")
    assert summed(x).shape == (2, 3)
    assert summed.compute_output_shape((None, 5, 3)) == (None, 3)
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.GRU(3), merge_mode="max")


def test_time_distributed_applies_the_same_layer_to_each_step():
    x = _rand(2, 4, 3)
    td = layers.TimeDistributed(layers.Dense(5))
    y = _np(td(x))
    k, b = td.get_weights()
    np.testing.assert_allclose(y, x @ k + b, atol=1e-5)
    assert td.compute_output_shape((None, 4, 3)) == (None, 4, 5)
    assert _np(layers.RepeatVector(3)(x[:, 0])).shape == (2, 3, 3)
    np.testing.assert_array_equal(_np(layers.RepeatVector(3)(x[:, 0]))[:, 2], x[:, 0])


# ------------------------------------------------------------------ training and saving
def test_lstm_model_fits_a_tiny_sequence_task():
    # is the first number of the sequence larger than the last one? (needs memory)
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (512, 6, 1)).astype(np.float32)
    y = (x[:, 0, 0] > x[:, -1, 0]).astype(np.float32)
    model = keras.Sequential([keras.Input(shape=(6, 1)), layers.LSTM(12),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=12, batch_size=64, verbose=0)
    _, acc = model.evaluate(x, y, verbose=0)
    assert acc >= 0.9


def test_keras_io_addition_architecture_runs_with_only_imports_changed():
    # keras.io "Sequence to sequence learning for performing number addition", its model
    # verbatim (sizes reduced), with `from shendu import keras` / `from shendu.keras import
    # layers` in place of the TensorFlow imports
    chars, DIGITS, MAXLEN = "0123456789+ ", 2, 5
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 100, 64), rng.integers(0, 100, 64)
    qs = [f"{i}+{j}".ljust(MAXLEN)[::-1] for i, j in zip(a, b)]
    ans = [str(i + j).ljust(DIGITS + 1) for i, j in zip(a, b)]
    idx = {c: k for k, c in enumerate(chars)}
    x = np.zeros((64, MAXLEN, len(chars)), dtype=bool)
    y = np.zeros((64, DIGITS + 1, len(chars)), dtype=bool)
    for i, (q, s) in enumerate(zip(qs, ans)):
        x[i, np.arange(MAXLEN), [idx[c] for c in q]] = 1
        y[i, np.arange(DIGITS + 1), [idx[c] for c in s]] = 1

    num_layers = 1
    model = keras.Sequential()
    model.add(layers.LSTM(32, input_shape=(MAXLEN, len(chars))))
    model.add(layers.RepeatVector(DIGITS + 1))
    for _ in range(num_layers):
        model.add(layers.LSTM(32, return_sequences=True))
    model.add(layers.TimeDistributed(layers.Dense(len(chars), activation="softmax")))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=16, epochs=3, validation_split=0.25, verbose=0)
    assert model.output_shape == (None, DIGITS + 1, len(chars))
    losses = history.history["loss"]
    assert len(losses) == 3 and losses[-1] < losses[0]
    preds = model.predict(x[:4], verbose=0)
    assert preds.shape == (4, DIGITS + 1, len(chars))
    np.testing.assert_allclose(preds.sum(-1), 1.0, atol=1e-5)


def test_conv_lstm_model_save_load_round_trip(tmp_path):
    inputs = keras.Input(shape=(12,), dtype="int64")
    x = layers.Embedding(30, 8, mask_zero=True)(inputs)
    x = layers.Conv1D(6, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling1D(2)(x)
    x = layers.Bidirectional(layers.LSTM(5, return_sequences=True))(x)
    x = layers.GRU(4, go_backwards=True, reset_after=False, return_sequences=True)(x)
    x = layers.TimeDistributed(layers.Dense(3))(x)
    x = layers.SimpleRNN(3)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    data = np.random.default_rng(0).integers(0, 30, (8, 12))
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(data, np.arange(8) % 2, epochs=1, verbose=0)
    path = os.path.join(tmp_path, "seq.keras")
    model.save(path)
    again = keras.models.load_model(path)
    assert [l.name for l in again.layers] == [l.name for l in model.layers]
    bi = again.get_layer("bidirectional")
    assert bi.forward_layer.name == "forward_lstm" and bi.backward_layer.go_backwards
    assert again.layers[5].reset_after is False and again.layers[5].go_backwards
    np.testing.assert_array_equal(model.predict(data, verbose=0), again.predict(data, verbose=0))


def test_errors():
    lstm = layers.LSTM(3)
    with pytest.raises(ValueError, match=r"LSTM 'lstm' expects inputs of shape \(batch, "
                                         r"timesteps, features\)"):
        lstm(np.zeros((2, 3), np.float32))
    lstm(np.zeros((2, 4, 3), np.float32))
    with pytest.raises(ValueError, match=r"expects inputs of shape \(batch, timesteps, 3\)"):
        lstm(np.zeros((2, 4, 5), np.float32))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.GRU(0)
    with pytest.raises(NotImplementedError, match="stateful"):
        layers.LSTM(3, stateful=True)
    with pytest.raises(ValueError, match=r"mask has shape \(2, 3\)"):
        lstm(np.zeros((2, 4, 3), np.float32), mask=np.ones((2, 3), bool))
