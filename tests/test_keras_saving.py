"""model.save / keras.models.load_model / save_weights: round trips and refusals."""
import json

import numpy as np
import pytest

import shendu
from shendu import keras
from shendu.keras import layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _data(n=64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def _sequential():
    return keras.Sequential([
        keras.Input(shape=(4,)),
        layers.Dense(16, activation="relu", kernel_regularizer=keras.regularizers.l2(1e-3)),
        layers.BatchNormalization(),
        layers.Dropout(0.2),
        layers.Dense(2, activation="softmax"),
    ])


def test_sequential_round_trip_gives_identical_predictions_and_training(tmp_path):
    x, y = _data()
    model = _sequential()
    model.compile(keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))
    assert [l.name for l in loaded.layers] == [l.name for l in model.layers]
    assert isinstance(loaded.optimizer, keras.optimizers.Adam)
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 8
    # the optimizer state came back: one more identical step gives identical weights
    shendu.manual_seed(5)
    model.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
    shendu.manual_seed(5)
    loaded.fit(x, y, epochs=1, batch_size=64, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert loaded.evaluate(x, y, verbose=0)[1] == model.evaluate(x, y, verbose=0)[1]


def test_functional_and_registered_subclass_round_trip(tmp_path):
    x, _ = _data()
    inp = keras.Input(shape=(4,))
    a = layers.Dense(8, activation="tanh")(inp)
    b = layers.Dense(8)(inp)
    out = layers.Dense(3)(layers.Add()([a, b]))
    model = keras.Model(inp, out)
    model.save(tmp_path / "f.keras")
    loaded = keras.models.load_model(tmp_path / "f.keras")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))

    @keras.saving.register_keras_serializable(package="tests")
    class Scaled(keras.Model):
        def __init__(self, units=5, scale=2.0, **kwargs):
            super().__init__(**kwargs)
            self.units, self.scale = units, scale
            self.dense = layers.Dense(units)

        def call(self, inputs):
            return self.dense(inputs) * self.scale

    sub = Scaled(units=3, scale=0.5)
    sub(x[:2])
    sub.save(tmp_path / "s.keras")
    again = keras.models.load_model(tmp_path / "s.keras")
    assert type(again) is Scaled and again.units == 3 and again.scale == 0.5
    np.testing.assert_array_equal(sub.predict(x, verbose=0), again.predict(x, verbose=0))


def test_load_model_refuses_unknown_layer_types(tmp_path):
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    path = tmp_path / "m.keras"
    model.save(path)
    arrays, meta = shendu.io.load_state_dict(path, metadata=True)
    config = json.loads(meta["shendu.keras.config"])
    config["config"]["layers"][1]["class_name"] = "os.system"
    meta["shendu.keras.config"] = json.dumps(config)
    shendu.io.save_state_dict(arrays, path, metadata=meta)
    with pytest.raises(ValueError, match="unknown layer type 'os.system'"):
        keras.models.load_model(path)

    class NotRegistered(layers.Layer):
        pass

    m2 = keras.Sequential([keras.Input(shape=(2,)), NotRegistered()])
    with pytest.raises(TypeError, match="register_keras_serializable"):
        m2.save(tmp_path / "x.keras")


def test_lambda_models_cannot_be_saved_and_old_file_stays_intact(tmp_path):
    path = tmp_path / "m.keras"
    good = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    good.save(path)
    before = path.read_bytes()
    bad = keras.Sequential([keras.Input(shape=(2,)), layers.Lambda(lambda t: t * 2),
                            layers.Dense(1)])
    with pytest.raises(TypeError, match="never serializes code"):
        bad.save(path)
    assert path.read_bytes() == before
    bad.save_weights(tmp_path / "w.weights")  # weights alone are fine
    assert not list(tmp_path.glob(".tmp-*"))
    custom = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation=lambda t: t)])
    with pytest.raises(TypeError, match="custom function"):
        custom.save(tmp_path / "c.keras")


def test_corrupt_truncated_and_foreign_files(tmp_path):
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1)])
    path = tmp_path / "m.keras"
    model.save(path)
    raw = path.read_bytes()
    (tmp_path / "trunc.keras").write_bytes(raw[:len(raw) - 3])
    with pytest.raises(ValueError, match="truncated"):
        keras.models.load_model(tmp_path / "trunc.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a model at all")
    with pytest.raises(ValueError, match="not a safetensors file"):
        keras.models.load_model(tmp_path / "junk.keras")
    shendu.save({"w": shendu.ones(2)}, tmp_path / "state.safetensors")
    with pytest.raises(ValueError, match="not a shendu Keras model file"):
        keras.models.load_model(tmp_path / "state.safetensors")
    model.save_weights(tmp_path / "only.weights")
    with pytest.raises(ValueError, match="holds only weights"):
        keras.models.load_model(tmp_path / "only.weights")
    with pytest.raises(FileNotFoundError):
        keras.models.load_model(tmp_path / "missing.keras")
    with pytest.raises(FileExistsError):
        model.save(path, overwrite=False)


def test_weight_shape_and_count_mismatch(tmp_path):
    small = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    small.save_weights(tmp_path / "w")
    wider = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(4)])
    before = wider.get_weights()
    with pytest.raises(ValueError, match=r"has shape \(3, 2\) in the file but \(3, 4\)"):
        wider.load_weights(tmp_path / "w")
    for a, b in zip(before, wider.get_weights()):  # nothing was half-set
        np.testing.assert_array_equal(a, b)
    deeper = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2), layers.Dense(2)])
    with pytest.raises(ValueError, match="holds 2 weights but model"):
        deeper.load_weights(tmp_path / "w")
    unbuilt = keras.Sequential([layers.Dense(2)])
    with pytest.raises(ValueError, match="not built yet"):
        unbuilt.load_weights(tmp_path / "w")


def test_load_weights_from_a_state_dict(tmp_path):
    model = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    other = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(2)])
    shendu.save(model.state_dict(), tmp_path / "sd.safetensors")
    other.load_weights(tmp_path / "sd.safetensors")
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_to_json_and_clone_model():
    model = _sequential()
    clone = keras.models.clone_model(model)
    assert [type(l).__name__ for l in clone.layers] == [type(l).__name__ for l in model.layers]
    assert clone.count_params() == model.count_params()
    rebuilt = keras.models.model_from_json(model.to_json())
    assert rebuilt.layers[1].momentum == 0.99


def test_nested_sequential_with_embedding_round_trip(tmp_path):
    inner = keras.Sequential([layers.Dense(8, activation="relu"), layers.LayerNormalization()])
    model = keras.Sequential([keras.Input(shape=(5,)), layers.Embedding(10, 4), layers.Flatten(),
                              inner, layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).integers(0, 10, (6, 5))
    model.compile("adam", "sparse_categorical_crossentropy",
                  metrics=["accuracy", keras.metrics.AUC(name="auc")])
    model.fit(x, np.arange(6) % 3, epochs=1, verbose=0)
    model.save(tmp_path / "nested.keras")
    again = keras.models.load_model(tmp_path / "nested.keras")
    assert isinstance(again.layers[2], keras.Sequential)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))
    logs = again.evaluate(x, np.arange(6) % 3, verbose=0, return_dict=True)
    assert set(logs) == {"accuracy", "auc", "loss"}
