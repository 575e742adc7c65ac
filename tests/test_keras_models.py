"""shendu.keras models and layers: building, weights, training, inputs of every kind."""
import numpy as np
import pytest

import shendu
from shendu import keras, nn
from shendu.data import DataLoader, TensorDataset
from shendu.keras import layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _moons(n=300, seed=0):
    return shendu.datasets.moons(n, noise=0.1, seed=seed)


# ------------------------------------------------------------------ building
def test_course_sequential_builds_with_input_shape():
    model = keras.Sequential([
        layers.Dense(units=4, activation='relu', input_shape=[2]),
        layers.Dense(units=3, activation='relu'),
        layers.Dense(units=1),
    ])
    assert model.built
    assert [l.name for l in model.layers] == ["dense", "dense_1", "dense_2"]
    assert [tuple(w.shape) for w in model.get_weights()] == [(2, 4), (4,), (4, 3), (3,),
                                                              (3, 1), (1,)]
    assert model.count_params() == 2 * 4 + 4 + 4 * 3 + 3 + 3 + 1
    assert model.layers[0].kernel.shape == (2, 4)  # Keras layout (in, out)
    assert model.output_shape == (None, 1)


def test_sequential_without_input_shape_builds_on_first_call():
    model = keras.Sequential([layers.Dense(16, activation='relu'), layers.Dense(1)])
    assert not model.built
    with pytest.raises(ValueError, match="not yet been built"):
        model.summary()
    out = model(np.ones((5, 7)))
    assert out.shape == (5, 1) and out.dtype == np.float32
    assert model.built and model.layers[0].kernel.shape == (7, 16)


def test_summary_format(capsys):
    model = keras.Sequential([keras.Input(shape=(784,)), layers.Dense(512, activation="relu"),
                              layers.BatchNormalization(), layers.Dense(10)])
    model.summary()
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == 'Model: "sequential"'
    assert "┃ Layer (type)" in lines[2] and "Output Shape" in lines[2] and "Param #" in lines[2]
    assert any("dense (Dense)" in l and "(None, 512)" in l and "401,920" in l for l in lines)
    assert any("batch_normalization (BatchNorm" in l and "2,048" in l for l in lines)
    assert " Total params: 409,098 (1.56 MB)" in lines
    assert " Trainable params: 408,074 (1.56 MB)" in lines
    assert " Non-trainable params: 1,024 (4.00 KB)" in lines
    seen = []
    model.summary(print_fn=seen.append)
    assert seen == lines


def test_add_pop_and_unique_names():
    model = keras.Sequential()
    model.add(keras.Input(shape=(3,)))
    model.add(layers.Dense(2, name="a"))
    assert model.built and model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(2, name="a"))
    model.add(layers.Dense(5))
    assert model.output_shape == (None, 5)
    popped = model.pop()
    assert popped.units == 5 and model.output_shape == (None, 2)


def test_dense_errors_name_the_layer_and_shapes():
    model = keras.Sequential([layers.Dense(4, input_shape=[3])])
    with pytest.raises(ValueError, match=r"Dense 'dense' expected inputs with last dimension 3, "
                                         r"got inputs of shape \(2, 5\)"):
        model(np.ones((2, 5)))
    with pytest.raises(ValueError, match="flatten it first"):
        model(np.ones((2, 3, 1)))
    with pytest.raises(ValueError, match="units must be a positive integer"):
        layers.Dense(0)


def test_get_set_weights_round_trip_and_shape_check():
    model = keras.Sequential([layers.Dense(3, input_shape=[2]), layers.Dense(1)])
    ws = model.get_weights()
    ws2 = [w + 1 for w in ws]
    model.set_weights(ws2)
    for a, b in zip(model.get_weights(), ws2):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="has shape"):
        model.set_weights([np.zeros((5, 5))] + ws[1:])
    with pytest.raises(ValueError, match="got 1 arrays"):
        model.set_weights(ws[:1])


def test_trainable_flag_freezes_weights():
    model = keras.Sequential([layers.Dense(3, input_shape=[2]), layers.Dense(1)])
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    before = model.layers[0].get_weights()
    model.compile("sgd", "mse")
    model.fit(np.random.rand(16, 2), np.random.rand(16), epochs=2, verbose=0)
    for a, b in zip(before, model.layers[0].get_weights()):
        np.testing.assert_array_equal(a, b)


def test_initializers_and_activations_by_name():
    d = layers.Dense(256, kernel_initializer="he_normal", bias_initializer="ones",
                     activation="leaky_relu")
    y = d(-np.ones((2, 128)))
    k = d.kernel.detach().numpy()
    assert abs(k.std() - np.sqrt(2 / 128)) < 0.01
    np.testing.assert_array_equal(d.bias.detach().numpy(), np.ones(256, np.float32))
    x = -np.ones((2, 128), np.float32) @ k + 1
    np.testing.assert_allclose(y.detach().numpy(), np.where(x > 0, x, 0.2 * x), rtol=1e-5,
                               atol=1e-5)
    for name in ["relu", "sigmoid", "tanh", "softmax", "elu", "selu", "gelu", "swish", "silu",
                 "softplus", "softsign", "linear", "leaky_relu", "hard_sigmoid", "exponential"]:
        out = layers.Activation(name)(np.array([[-1.0, 0.0, 2.0]]))
        assert out.shape == (1, 3)
    np.testing.assert_allclose(layers.Activation("hard_sigmoid")(np.array([[-4.0, 0.0, 1.5]]))
                               .detach().numpy(), [[0.0, 0.5, 0.75]])
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        layers.Dense(3, activation="relux")


def test_dropout_only_in_training():
    drop = layers.Dropout(0.5)
    x = np.ones((200, 50), np.float32)
    np.testing.assert_array_equal(drop(x).detach().numpy(), x)  # inference by default (Keras)
    y = drop(x, training=True).detach().numpy()
    assert set(np.unique(y)) <= {0.0, 2.0} and 0.4 < (y == 0).mean() < 0.6
    assert not drop.training  # the mode switch was undone


def test_batchnorm_keras_defaults_and_moving_statistics():
    bn = layers.BatchNormalization()
    assert bn.momentum == 0.99 and bn.epsilon == 1e-3
    x = np.random.default_rng(0).normal(3.0, 2.0, (64, 4)).astype(np.float32)
    y = bn(x, training=True).detach().numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), np.sqrt(x.var(0) / (x.var(0) + 1e-3)), rtol=1e-4)
    mm, mv = bn.moving_mean.detach().numpy(), bn.moving_variance.detach().numpy()
    np.testing.assert_allclose(mm, 0.01 * x.mean(0), rtol=1e-5)
    np.testing.assert_allclose(mv, 0.99 + 0.01 * x.var(0, ddof=0), rtol=1e-5)  # Keras: biased
    infer = bn(x).detach().numpy()  # inference: moving statistics
    np.testing.assert_allclose(infer, (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-4, atol=1e-5)
    assert [w.shape for w in bn.get_weights()] == [(4,)] * 4
    assert len(bn.trainable_weights) == 2
    # (N, T, C): normalized per channel over N and T
    z = np.random.default_rng(1).normal(size=(8, 5, 3)).astype(np.float32)
    out = layers.BatchNormalization()(z, training=True).detach().numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-5)


def test_layer_normalization_and_flatten_reshape_embedding():
    ln = layers.LayerNormalization()
    x = np.random.default_rng(0).normal(size=(4, 6)).astype(np.float32)
    y = ln(x).detach().numpy()
    np.testing.assert_allclose(y, (x - x.mean(1, keepdims=True)) /
                               np.sqrt(x.var(1, keepdims=True) + 1e-3), rtol=1e-4, atol=1e-5)
    assert layers.Flatten()(np.ones((2, 3, 4))).shape == (2, 12)
    assert layers.Reshape((3, -1))(np.ones((2, 12))).shape == (2, 3, 4)
    emb = layers.Embedding(10, 4)
    out = emb(np.array([[1, 2, 3], [0, 0, 9]]))
    assert out.shape == (2, 3, 4)
    assert np.abs(emb.embeddings.detach().numpy()).max() <= 0.05
    with pytest.raises(ValueError, match=r"ids must be in \[0, 9\]"):
        emb(np.array([[10]]))


def test_lambda_layer_runs_in_memory():
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Lambda(lambda x: x * 2),
                              layers.Dense(1, kernel_initializer="ones")])
    np.testing.assert_allclose(model.predict(np.ones((2, 3)), verbose=0), [[6.0], [6.0]])


# ------------------------------------------------------------------ training
def test_fit_moons_reaches_high_accuracy():
    X, y = _moons(400)
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(32, activation="relu"),
                              layers.Dense(32, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(X, y, epochs=30, batch_size=32, verbose=0)
    assert history.epoch == list(range(30))
    assert set(history.history) == {"accuracy", "loss"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, acc = model.evaluate(X, y, verbose=0)
    assert acc > 0.95
    probs = model.predict(X, verbose=0)
    assert probs.shape == (400, 1) and probs.dtype == np.float32
    assert np.isclose(acc, ((probs[:, 0] > 0.5) == y).mean())


def test_fit_xor_sparse_softmax():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]] * 8, np.float32)
    y = np.array([0, 1, 1, 0] * 8)
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(16, activation="tanh"),
                              layers.Dense(2, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(X, y, epochs=60, batch_size=8, verbose=0)
    assert model.evaluate(X, y, verbose=0, return_dict=True)["accuracy"] == 1.0
    assert isinstance(model.metrics[1].metrics[0], keras.metrics.SparseCategoricalAccuracy)
    assert model.metrics_names == ["loss", "compile_metrics"]  # as Keras 3


def test_fused_softmax_loss_equals_probability_loss():
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    x = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    y = keras.utils.to_categorical([0, 1, 2, 3, 0, 1], 4)
    fused = model.evaluate(x, y, verbose=0)
    assert model._fused is not None
    p = model.predict(x, verbose=0)
    direct = float(keras.losses.categorical_crossentropy(y, p).detach().numpy().mean())
    assert abs(fused - direct) < 1e-5


def test_validation_split_takes_last_fraction():
    x = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10, dtype=np.float32)
    seen = {}

    class Spy(keras.callbacks.Callback):
        def on_test_batch_begin(self, batch, logs=None):
            pass

    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    real = model._test_batch

    def spy(xb, yb, wb):
        seen.setdefault("val", []).append(yb.copy())
        return real(xb, yb, wb)
    model._test_batch = spy
    history = model.fit(x, y, validation_split=0.3, epochs=1, shuffle=True, verbose=0,
                        callbacks=[Spy()])
    np.testing.assert_array_equal(np.concatenate(seen["val"]), [7, 8, 9])
    assert "val_loss" in history.history


def test_sample_weight_and_class_weight_change_the_loss():
    x = np.array([[0.0], [1.0], [2.0], [3.0]], np.float32)
    y = np.array([0.0, 0.0, 1.0, 1.0], np.float32)
    model = keras.Sequential([keras.Input(shape=(1,)), layers.Dense(1, kernel_initializer="zeros")])
    model.compile("sgd", "mse")
    plain = model.evaluate(x, y, verbose=0)
    assert np.isclose(plain, 0.5)
    weighted = model.evaluate(x, y, sample_weight=np.array([1.0, 1.0, 0.0, 0.0]), verbose=0)
    assert np.isclose(weighted, 0.0)  # Keras: sum(w * l) / N
    w2 = model.evaluate(x, y, sample_weight=np.array([0.0, 0.0, 2.0, 2.0]), verbose=0)
    assert np.isclose(w2, 1.0)
    # class_weight: the upweighted class pulls the prediction towards it
    xs = np.zeros((100, 1), np.float32)
    ys = np.array([0] * 90 + [1] * 10, np.float32)
    outs = []
    for cw in (None, {0: 1.0, 1: 9.0}):
        shendu.manual_seed(0)
        m = keras.Sequential([keras.Input(shape=(1,)), layers.Dense(1, activation="sigmoid")])
        m.compile(keras.optimizers.SGD(2.0), "binary_crossentropy")
        m.fit(xs, ys, epochs=150, batch_size=100, class_weight=cw, verbose=0)
        outs.append(float(m.predict(xs[:1], verbose=0)[0, 0]))
    assert abs(outs[0] - 0.1) < 0.02 and abs(outs[1] - 0.5) < 0.02


def test_regularizer_is_added_to_the_loss():
    reg = keras.regularizers.l2(0.1)
    model = keras.Sequential([keras.Input(shape=(2,)),
                              layers.Dense(1, kernel_initializer="ones", kernel_regularizer=reg)])
    model.compile("sgd", "mse")
    x = np.zeros((4, 2), np.float32)
    y = np.zeros(4, np.float32)
    assert np.isclose(model.evaluate(x, y, verbose=0), 0.1 * 2)
    assert len(model.losses) == 1
    np.testing.assert_allclose(keras.regularizers.l1_l2(l1=0.1, l2=0.5)(
        shendu.tensor([1.0, -2.0])).item(), 0.1 * 3 + 0.5 * 5)


def test_inputs_tensors_dataloader_and_duck_typed_frames():
    X, y = _moons(128)

    class Frame:  # pandas-like: only .to_numpy()
        def __init__(self, a):
            self.a = a

        def to_numpy(self):
            return self.a

        def __len__(self):
            return len(self.a)

    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(8, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["binary_accuracy"])
    h1 = model.fit(Frame(X.astype(np.float64)), Frame(y), epochs=1, verbose=0)
    h2 = model.fit(shendu.tensor(X), shendu.tensor(y), epochs=1, verbose=0)
    loader = DataLoader(TensorDataset(X, y.astype(np.float32)), batch_size=32, shuffle=True)
    h3 = model.fit(loader, epochs=2, validation_data=loader, verbose=0)
    assert len(h1.epoch) == 1 and len(h2.epoch) == 1 and len(h3.history["val_loss"]) == 2
    res = model.evaluate(loader, verbose=0, return_dict=True)
    assert set(res) == {"binary_accuracy", "loss"}
    assert model.predict(loader, verbose=0).shape == (128, 1)
    with pytest.raises(ValueError, match="validation_split is only supported for array inputs"):
        model.fit(loader, validation_split=0.2, verbose=0)


def test_on_batch_methods():
    X, y = _moons(64)
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    loss, acc = model.train_on_batch(X, y)
    assert np.isfinite(loss) and 0 <= acc <= 1
    d = model.test_on_batch(X, y, return_dict=True)
    assert set(d) == {"accuracy", "loss"}
    p = model.predict_on_batch(X[:5])
    assert isinstance(p, np.ndarray) and p.shape == (5, 1)


def test_fit_requires_compile_and_reports_mismatched_lengths():
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(np.ones((4, 2)), np.ones(4), verbose=0)
    model.compile("sgd", "mse")
    with pytest.raises(ValueError, match="different numbers of samples: 4 and 3"):
        model.fit(np.ones((4, 2)), np.ones(3), verbose=0)
    with pytest.raises(ValueError, match="unknown optimizer 'adamm'"):
        model.compile("adamm", "mse")
    with pytest.raises(ValueError, match="unknown loss 'msee'"):
        model.compile("adam", "msee")


# ------------------------------------------------------------------ other model kinds
def test_functional_model():
    inp = keras.Input(shape=(2,))
    a = layers.Dense(8, activation="relu")(inp)
    b = layers.Dense(8, activation="tanh")(inp)
    out = layers.Dense(1)(layers.Concatenate()([a, b]))
    model = keras.Model(inp, out)
    assert [type(l).__name__ for l in model.layers] == ["InputLayer", "Dense", "Dense",
                                                        "Concatenate", "Dense"]
    assert model.output_shape == (None, 1)
    x = np.random.default_rng(0).normal(size=(3, 2)).astype(np.float32)
    la, lb, lc = model.layers[1], model.layers[2], model.layers[4]
    ref = np.concatenate([np.maximum(x @ la.kernel._data + la.bias._data, 0),
                          np.tanh(x @ lb.kernel._data + lb.bias._data)], 1) @ lc.kernel._data \
        + lc.bias._data
    np.testing.assert_allclose(model.predict(x, verbose=0), ref, rtol=1e-5, atol=1e-6)
    other = keras.Input(shape=(2,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(other, out)


def test_subclassed_model_and_training_flag():
    class Net(keras.Model):
        def __init__(self, units=8, **kwargs):
            super().__init__(**kwargs)
            self.hidden = layers.Dense(units, activation="relu")
            self.drop = layers.Dropout(0.5)
            self.out = layers.Dense(1, activation="sigmoid")
            self.calls = []

        def call(self, x, training=False):
            self.calls.append(training)
            return self.out(self.drop(self.hidden(x), training=training))

    X, y = _moons(128)
    net = Net(units=16)
    net.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    net.fit(X, y, epochs=2, batch_size=64, verbose=0)
    assert True in net.calls
    net.calls.clear()
    net.predict(X, verbose=0)
    assert set(net.calls) == {False}
    assert net.layers[0].kernel.shape == (2, 16)
    assert net.get_config()["units"] == 16


def test_model_wrapping_an_nn_module():
    X, y = _moons(256)
    shendu.manual_seed(1)
    net = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Linear(32, 2))
    model = keras.Model(net)
    model.compile(keras.optimizers.Adam(0.02),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(X, y, epochs=40, batch_size=64, verbose=0)
    assert model.evaluate(X, y, verbose=0)[1] > 0.95
    assert len(model.weights) == 4 and model.weights[0] is net[0].weight
    with pytest.raises(TypeError, match="has no Keras config"):
        model.get_config()


def test_sequential_add_wraps_nn_modules():
    model = keras.Sequential([keras.Input(shape=(4,)), nn.Linear(4, 3), layers.Dense(2)])
    assert isinstance(model.layers[0], layers.TorchModuleWrapper)
    assert model.predict(np.ones((2, 4)), verbose=0).shape == (2, 2)
    assert model.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_floating_inputs_take_the_layer_dtype_and_ids_stay_integers():
    # Keras casts floating inputs to the layer's compute dtype: a float64 layer keeps a
    # float64 array's precision (it used to be rounded to float32 on the way in)
    x = np.random.default_rng(0).standard_normal((3, 4))
    dense = layers.Dense(2, dtype="float64")
    y = dense(x).detach().numpy()
    assert y.dtype == np.float64
    expected = x @ dense.kernel.detach().numpy() + dense.bias.detach().numpy()
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)
    assert layers.Dense(2)(x).dtype == np.float32  # the default layer dtype
    ids = layers.Embedding(5, 2)(np.array([[1, 2]]))
    assert ids.dtype == np.float32 and ids.shape == (1, 2, 2)
