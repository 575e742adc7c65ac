"""Keras 3 pieces used by custom training code: ``Model.compute_loss``, ``Layer.add_loss``
(collected in ``model.losses``, added to the loss by fit, reset per call), activation
layers (``LeakyReLU(negative_slope=0.3)`` ...), layers called on a list of inputs in the
functional API and in a subclassed model, and the TensorFlow-only names' errors."""
import numpy as np
import pytest

import shendu
from shendu import keras
from shendu.keras import layers, ops


@pytest.fixture(autouse=True)
def _fresh():
    keras.backend.clear_session()
    shendu.manual_seed(0)


class Mix(layers.Layer):
    def call(self, inputs):
        a, b = inputs
        return a * 2.0 + b


def test_layer_on_a_list_of_inputs_functional_and_subclassed():
    a, b = keras.Input(shape=(3,)), keras.Input(shape=(3,))
    mixed = Mix()([a, b])
    assert mixed.shape == (None, 3)
    model = keras.Model([a, b], layers.Dense(1)(mixed))
    x1, x2 = np.ones((2, 3), np.float32), np.full((2, 3), 3.0, np.float32)
    assert model.predict([x1, x2], verbose=0).shape == (2, 1)

    class Sub(keras.Model):
        def __init__(self):
            super().__init__()
            self.mix = Mix()

        def call(self, inputs):
            return self.mix(inputs)
    np.testing.assert_allclose(Sub()([x1, x2]).numpy(), 5.0)


class KL(layers.Layer):
    def call(self, z):
        self.add_loss(0.5 * ops.mean(ops.square(z)))
        return z


def test_add_loss_collected_added_to_fit_and_reset_per_call():
    inputs = keras.Input(shape=(2,))
    model = keras.Model(inputs, KL()(layers.Dense(2, kernel_initializer="ones")(inputs)))
    x = np.ones((4, 2), np.float32)
    model(x)
    assert len(model.losses) == 1
    np.testing.assert_allclose(float(model.losses[0]), 0.5 * 4.0, rtol=1e-6)
    model(x)
    assert len(model.losses) == 1  # reset by the new outermost call
    model.compile(optimizer="sgd", loss="mse")
    y = np.zeros((4, 2), np.float32)
    # mse of outputs 2 against 0 is 4; the KL term adds 0.5 * 4 = 2
    assert model.evaluate(x, y, verbose=0) == pytest.approx(6.0, rel=1e-5)
    np.testing.assert_allclose(float(model.compute_loss(x, y, model(x))), 6.0, rtol=1e-5)


def test_compute_loss_in_a_custom_train_step_matches_the_builtin_loop():
    class Custom(keras.Model):
        @property
        def metrics(self):
            return [self.tracker]

        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
            loss.backward()
            weights = self.trainable_weights
            self.optimizer.apply_gradients(zip([w.grad for w in weights], weights))
            self.tracker.update_state(loss)
            return {"loss": self.tracker.result()}

    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [2.0], [-1.0]], np.float32)
    histories = []
    for cls in (keras.Model, Custom):
        keras.backend.clear_session()
        shendu.manual_seed(1)
        inputs = keras.Input(shape=(3,))
        model = cls(inputs, layers.Dense(1)(inputs))
        if cls is Custom:  # (on a plain Model it would be listed beside the loss tracker)
            model.tracker = keras.metrics.Mean(name="loss")
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        histories.append(model.fit(x, y, batch_size=32, epochs=3, shuffle=False,
                                   verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)


def test_activation_layers_keras3_defaults():
    x = shendu.tensor([[-2.0, 1.0]])
    np.testing.assert_allclose(layers.LeakyReLU()(x).detach().numpy(), [[-0.6, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(layers.LeakyReLU(alpha=0.1)(x).detach().numpy(), [[-0.2, 1.0]], rtol=1e-6)
    np.testing.assert_allclose(layers.ELU()(x).detach().numpy(), [[np.expm1(-2.0), 1.0]], rtol=1e-6)
    np.testing.assert_allclose(layers.ReLU(max_value=0.5)(x).detach().numpy(), [[0.0, 0.5]])
    np.testing.assert_allclose(layers.Softmax()(x).detach().numpy().sum(), 1.0, rtol=1e-6)
    p = layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    np.testing.assert_allclose(p(x).detach().numpy(), [[-0.5, 1.0]], rtol=1e-6)
    assert p.alpha.shape == (2,)
    with pytest.raises(ValueError, match="negative_slope"):
        layers.LeakyReLU(negative_slope=-1)


def test_tensorflow_only_names_say_what_to_use():
    with pytest.raises(AttributeError, match="loss.backward"):
        keras.GradientTape
    with pytest.raises(AttributeError, match="DataLoader"):
        keras.data
