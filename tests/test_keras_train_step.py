"""keras.Model subclasses that override train_step / test_step (keras.io's "Customizing
what happens in fit()" and "GAN overriding Model.train_step"): fit, evaluate and the
*_on_batch methods call the override, its dict reaches the progress bar and History, a
custom compile may leave ``self.optimizer`` None; models without overrides train as
before (the default step, called explicitly through ``super().train_step``, gives the
same numbers as the built-in loop)."""
import numpy as np
import pytest

import shendu
from shendu import keras
from shendu.autograd.tensor import Tensor
from shendu.keras import layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _regression(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32) + 0.3).astype(np.float32)
    return x, y


class CustomFit(keras.Model):
    """keras.io's CustomModel: its own loss, gradients, update and metric trackers."""

    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.seen = []

    def call(self, inputs):
        return self.dense(inputs)

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]

    def train_step(self, data):
        self.seen.append(data)
        x, y = data
        y_pred = self(x, training=True)
        loss = ((y_pred - y) ** 2).mean()
        weights = self.trainable_weights
        for w in weights:
            w.grad = None
        loss.backward()
        self.optimizer.apply_gradients(zip([w.grad for w in weights], weights))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(((y_pred - y) ** 2).mean())
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}


def test_custom_train_step_metrics_reach_history_and_progress_bar(capsys):
    x, y = _regression()
    model = CustomFit()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    history = model.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=1)
    assert sorted(history.history) == ["loss", "mae"]
    assert len(history.history["loss"]) == 4 and history.epoch == [0, 1, 2, 3]
    # each epoch's entry is the trackers' result after that epoch's 4 batches, reset in
    # between (the count is back to 4, not 16)
    assert model.loss_tracker.count == 4
    assert history.history["loss"][-1] == pytest.approx(model.loss_tracker.result())
    assert history.history["loss"][-1] < history.history["loss"][0] / 5
    assert isinstance(history.history["loss"][0], float)
    out = capsys.readouterr().out
    assert "Epoch 4/4" in out
    last = [line for line in out.splitlines() if "4/4" in line and "loss:" in line][-1]
    assert f"loss: {history.history['loss'][-1]:.4f}" in last
    assert f"mae: {history.history['mae'][-1]:.4f}" in last
    # (x, y) batches arrive as Tensors of the batch's size
    xb, yb = model.seen[0]
    assert isinstance(xb, Tensor) and isinstance(yb, Tensor)
    assert xb.shape == (16, 3) and yb.shape == (16, 1)
    np.testing.assert_array_equal(xb._data, x[:16])


def test_batch_logs_reach_callbacks():
    x, y = _regression(32)
    seen = []

    class Spy(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((batch, dict(logs)))

    model = CustomFit()
    model.compile(optimizer="sgd")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, callbacks=[Spy()])
    assert [b for b, _ in seen] == [0, 1, 2, 3]
    assert all(sorted(logs) == ["loss", "mae"] for _, logs in seen)
    assert seen[-1][1]["loss"] == pytest.approx(model.loss_tracker.result())


def test_custom_test_step_in_evaluate_and_validation():
    x, y = _regression()
    model = CustomFit()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    history = model.fit(x, y, batch_size=16, epochs=2, verbose=0,
                        validation_data=(x[:32], y[:32]))
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    logs = model.evaluate(x[:32], y[:32], batch_size=8, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx(history.history["val_loss"][-1], rel=1e-5)
    values = model.evaluate(x[:32], y[:32], batch_size=8, verbose=0)
    assert values == pytest.approx([logs["loss"], logs["mae"]])
    pred = model.predict(x[:32], verbose=0)
    assert logs["mae"] == pytest.approx(float(np.abs(pred - y[:32]).mean()), rel=1e-5)


def test_custom_steps_on_batch():
    x, y = _regression(16)
    model = CustomFit()
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    first = model.train_on_batch(x, y, return_dict=True)
    second = model.train_on_batch(x, y)
    assert sorted(first) == ["loss", "mae"] and second[0] < first["loss"]
    assert model.loss_tracker.count == 1  # reset before each call
    logs = model.test_on_batch(x, y, return_dict=True)
    assert logs["loss"] < first["loss"]


def test_data_is_x_alone_or_with_sample_weight():
    x, y = _regression(8)
    got = []

    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            got.append(data)
            return {"n": 1.0}

    model = Recorder()
    model.compile(optimizer=None)
    assert model.optimizer is None
    model.fit(x, batch_size=4, epochs=1, shuffle=False, verbose=0)
    assert isinstance(got[0], Tensor) and got[0].shape == (4, 3)
    model.fit(x, y, sample_weight=np.arange(8.0), batch_size=4, epochs=1, shuffle=False,
              verbose=0)
    xb, yb, wb = got[-1]
    assert xb.shape == (4, 3) and yb.shape == (4, 1)
    np.testing.assert_allclose(wb._data, [4, 5, 6, 7])


def test_default_step_through_super_matches_builtin_loop():
    x, y = _regression()
    calls = []

    class Passthrough(keras.Sequential):
        def train_step(self, data):
            calls.append(1)
            return super().train_step(data)

    def make(cls):
        keras.utils.set_random_seed(3)
        model = cls([keras.Input(shape=(3,)), layers.Dense(4, activation="relu"),
                     layers.Dense(1)])
        model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
        return model

    plain = make(keras.Sequential)
    h_plain = plain.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    custom = make(Passthrough)
    h_custom = custom.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    assert len(calls) == 12
    assert sorted(h_custom) == sorted(h_plain) == ["loss", "mae"]
    np.testing.assert_allclose(h_custom["loss"], h_plain["loss"], rtol=1e-6)
    np.testing.assert_allclose(h_custom["mae"], h_plain["mae"], rtol=1e-6)
    for a, b in zip(plain.get_weights(), custom.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


class TinyGAN(keras.Model):
    """keras.io's GAN: no call, its own compile with two optimizers and a loss."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real):
        n = real.shape[0]
        fake = self.generator(shendu.randn(n, self.latent_dim))
        combined = shendu.cat([fake.detach(), real])
        labels = shendu.cat([shendu.ones(n, 1), shendu.zeros(n, 1)])  # fake: 1, real: 0
        d_loss = self.loss_fn(labels, self.discriminator(combined))
        d_weights = self.discriminator.trainable_weights
        for w in d_weights:
            w.grad = None
        d_loss.backward()
        self.d_optimizer.apply_gradients(zip([w.grad for w in d_weights], d_weights))
        g_weights = self.generator.trainable_weights
        for w in g_weights:
            w.grad = None
        fake = self.generator(shendu.randn(n, self.latent_dim))
        g_loss = self.loss_fn(shendu.zeros(n, 1), self.discriminator(fake))  # "real"
        g_loss.backward()
        self.g_optimizer.apply_gradients(zip([w.grad for w in g_weights], g_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def _tiny_gan():
    keras.utils.set_random_seed(0)
    D = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(8, activation="relu"),
                          layers.Dense(1)])
    G = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(8, activation="relu"),
                          layers.Dense(2)])
    return TinyGAN(D, G, latent_dim=2)


def test_gan_with_custom_compile_and_no_call():
    gan = _tiny_gan()
    gan.compile(d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    d_before = [w.copy() for w in gan.discriminator.get_weights()]
    g_before = [w.copy() for w in gan.generator.get_weights()]
    x = np.random.default_rng(0).normal(3.0, 0.1, size=(64, 2)).astype(np.float32)
    history = gan.fit(x, batch_size=16, epochs=3, verbose=0)
    assert sorted(history.history) == ["d_loss", "g_loss"]
    assert len(history.history["d_loss"]) == 3
    assert all(np.isfinite(v) for v in history.history["d_loss"] + history.history["g_loss"])
    # each optimizer made one step per batch, on its own network only
    assert gan.d_optimizer.iterations == gan.g_optimizer.iterations == 12
    assert all(not np.array_equal(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))
    assert all(not np.array_equal(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    # the real points are easy to tell from N(0, I)-ish fakes: D learns, so its loss is
    # below chance's log 2
    assert history.history["d_loss"][-1] < np.log(2)


def test_errors():
    x, y = _regression(8)
    model = CustomFit()
    with pytest.raises(RuntimeError, match="compile"):
        model.fit(x, y, verbose=0)

    class BadReturn(CustomFit):
        def train_step(self, data):
            return 1.0

    bad = BadReturn()
    bad.compile(optimizer="sgd")
    with pytest.raises(TypeError, match="BadReturn.train_step must return a dict"):
        bad.fit(x, y, verbose=0)
    # a default model compiled without an optimizer cannot use the default step
    plain = keras.Sequential([keras.Input(shape=(3,)), layers.Dense(1)])
    plain.compile(optimizer=None, loss="mse")
    with pytest.raises(RuntimeError, match="optimizer"):
        plain.fit(x, y, verbose=0)
    # a GAN trained by its own step but without a test_step or loss cannot be evaluated
    gan = _tiny_gan()
    gan.compile(d_optimizer=keras.optimizers.Adam(), g_optimizer=keras.optimizers.Adam(),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    with pytest.raises(RuntimeError, match="compile|test_step"):
        gan.evaluate(x[:, :2], verbose=0)
