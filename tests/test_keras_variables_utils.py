"""Keras 3 pieces that backend-agnostic code uses: variables (.value/.assign), metrics
tracked from attributes, predict_step, PyDataset, image helpers, the tf.data error."""
import numpy as np
import pytest

import shendu
from shendu import keras
from shendu.keras import layers


def _dense(units=2, inputs=3, name=None):
    layer = layers.Dense(units, name=name)
    layer.build((None, inputs))
    return layer


def test_add_weight_returns_keras_variables():
    layer = _dense(name="dv")
    k, b = layer.kernel, layer.bias
    assert isinstance(k, keras.Variable) and isinstance(k, shendu.nn.Parameter)
    assert k.value is k and k.trainable and k.name == "kernel" and k.path == "dv/kernel"
    b.assign(np.full(2, 3.0))
    b.assign_sub(np.ones(2))
    b.assign_add(shendu.tensor([0.5, 0.5]))
    np.testing.assert_allclose(b.numpy(), [2.5, 2.5])
    assert b.dtype == np.float32
    # parameters() still sees them, and a module copy keeps their values
    assert {id(p) for p in layer.parameters()} == {id(k), id(b)}


def test_non_trainable_variable_is_a_buffer_with_assign():
    bn = layers.BatchNormalization()
    bn.build((None, 4))
    mm = bn.moving_mean
    assert not mm.trainable and all(p is not mm for p in bn.parameters())
    mm.assign(np.arange(4.0))
    np.testing.assert_allclose(bn.moving_mean.numpy(), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="trainable=False"):
        mm.trainable = True


def test_assign_checks_the_shape():
    layer = _dense(name="dshape")
    with pytest.raises(ValueError, match=r"dshape/bias.*\(3,\).*\(2,\)"):
        layer.bias.assign(np.zeros(3))


def test_assign_does_not_record_a_graph_and_grad_flows_through_value():
    layer = _dense(name="dg")
    y = layer(shendu.ones(1, 3)).sum()
    y.backward()
    grads = [v.value.grad for v in layer.trainable_weights]
    assert all(g is not None for g in grads)
    layer.kernel.assign(np.zeros((3, 2)))  # allowed on a leaf that requires grad
    assert float(abs(layer.kernel.numpy()).sum()) == 0.0


def test_metrics_assigned_in_init_are_tracked_and_reset_every_epoch():
    class Tracked(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)
            self.loss_tracker = keras.metrics.Mean(name="total")
            self.calls = keras.metrics.Sum(name="calls")

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            self.loss_tracker.update_state(float(np.mean(x.numpy())))
            self.calls.update_state(1.0)
            return {m.name: m.result() for m in self.metrics}

    model = Tracked()
    model.compile(optimizer=None)
    names = [m.name for m in model.metrics]
    assert names == ["loss", "total", "calls"]
    h = model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=4, epochs=3, verbose=0)
    # Sum is reset at each epoch start: two batches per epoch
    assert h.history["calls"] == [2.0, 2.0, 2.0]
    assert h.history["total"] == [1.0, 1.0, 1.0]


def test_compile_metrics_object_in_a_custom_train_step():
    class Custom(keras.Model):
        def train_step(self, data):
            x, y = data
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
                else:
                    metric.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    inputs = keras.Input(shape=(2,))
    model = Custom(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mse"])
    assert model.metrics_names == ["loss", "compile_metrics"]
    h = model.fit(np.zeros((4, 2)), np.ones((4, 1)), epochs=1, verbose=0)
    assert sorted(h.history) == ["loss", "mae", "mse"]
    # x = 0: the prediction is the initial bias, 0, on the only batch
    assert h.history["mae"] == [pytest.approx(1.0)] and h.history["mse"] == [pytest.approx(1.0)]


def test_predict_step_override_is_used():
    class ArgMax(keras.Model):
        def predict_step(self, data):
            return np.argmax(self(data, training=False).numpy(), axis=-1)

    inputs = keras.Input(shape=(3,))
    model = ArgMax(inputs, layers.Dense(4)(inputs))
    x = np.random.default_rng(0).normal(size=(10, 3)).astype("float32")
    got = model.predict(x, batch_size=4, verbose=0)
    want = np.argmax(model(shendu.tensor(x)).detach().numpy(), axis=-1)
    np.testing.assert_array_equal(got, want)


class _Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, i):
        s = slice(i * self.batch_size, (i + 1) * self.batch_size)
        return self.x[s], self.y[s]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_pydataset_trains_like_the_arrays_and_gets_epoch_hooks():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5]])).astype("float32")
    losses = []
    for data in ("arrays", "pydataset"):
        keras.backend.clear_session()
        shendu.manual_seed(3)
        model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
        model.compile(optimizer="sgd", loss="mse")
        if data == "arrays":
            h = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
        else:
            ds = _Batches(x, y, 8)
            h = model.fit(ds, epochs=3, verbose=0)
            assert ds.epochs_ended == 3
        losses.append(h.history["loss"])
    np.testing.assert_allclose(losses[1], losses[0], rtol=1e-6)
    assert keras.utils.Sequence is keras.utils.PyDataset


def test_pydataset_without_len_says_what_to_define():
    class Broken(keras.utils.PyDataset):
        pass

    with pytest.raises(TypeError, match="__len__"):
        len(Broken())


def test_array_to_img_and_back(tmp_path):
    pytest.importorskip("PIL")
    x = np.linspace(-1, 1, 4 * 5 * 3).reshape(4, 5, 3)
    img = keras.utils.array_to_img(x)
    assert img.mode == "RGB" and img.size == (5, 4)
    back = keras.utils.img_to_array(img)
    assert back.shape == (4, 5, 3) and back.dtype == np.float32
    assert back.min() == 0 and back.max() == 255
    grey = keras.preprocessing.image.array_to_img(np.ones((3, 2, 1)) * 7, scale=False)
    assert grey.mode == "L" and np.asarray(grey).max() == 7
    first = keras.utils.array_to_img(x.transpose(2, 0, 1), data_format="channels_first")
    np.testing.assert_array_equal(np.asarray(first), np.asarray(img))
    path = tmp_path / "img.png"
    keras.utils.save_img(path, x)
    loaded = keras.utils.load_img(path, color_mode="grayscale", target_size=(2, 3))
    assert loaded.mode == "L" and loaded.size == (3, 2)
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((4, 4)))
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        keras.utils.array_to_img(np.zeros((4, 4, 2)))
    with pytest.raises(FileNotFoundError, match="no image file"):
        keras.utils.load_img(tmp_path / "missing.png")


def test_a_tensorflow_object_gets_one_clear_error():
    class Dataset:  # stands in for tf.data.Dataset without importing TensorFlow
        def batch(self, n):
            return self

        def prefetch(self, n):
            return self

        def __iter__(self):
            return iter(())

    Dataset.__module__ = "tensorflow.python.data.ops.dataset_ops"
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="tf.data.Dataset.*does not use TensorFlow"):
        model.fit(Dataset(), epochs=1, verbose=0)
