"""keras-io guides/custom_train_step_in_torch.py (Keras 3, PyTorch backend), seeded: the same
data and initial weights on both sides, no shuffling. Run with USE_SHENDU=1 for shendu."""
import os, sys, json
import numpy as np
if os.environ.get("USE_SHENDU"):
    import shendu as torch
    from shendu import keras
    from shendu.keras import layers
else:
    os.environ["KERAS_BACKEND"] = "torch"
    import torch
    import keras
    from keras import layers

rng = np.random.default_rng(0)
x = rng.random((1000, 32)).astype("float32")
y = rng.random((1000, 1)).astype("float32")
sw = rng.random((1000,)).astype("float32")
W0 = [rng.normal(scale=0.2, size=(32, 1)).astype("float32"), np.zeros(1, "float32")]
out = {}


class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def build(cls):
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(inputs)
    model = cls(inputs, outputs)
    model.set_weights(W0)
    return model

model = build(CustomModel)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
h = model.fit(x, y, epochs=3, shuffle=False, verbose=0)
out["1_basic"] = h.history


class CustomModel2(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]

model = build(CustomModel2)
model.compile(optimizer="adam")
out["2_low_level"] = model.fit(x, y, epochs=5, shuffle=False, verbose=0).history


class CustomModel3(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}

model = build(CustomModel3)
model.compile(optimizer="adam", loss="mse", metrics=["mae"])
out["3_sample_weight"] = model.fit(x, y, sample_weight=sw, epochs=3, shuffle=False,
                                   verbose=0).history


class CustomModel4(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred)
            else:
                metric.update_state(loss)
        return {m.name: m.result() for m in self.metrics}

model = build(CustomModel4)
model.compile(loss="mse", metrics=["mae"])
r = model.evaluate(x, y, verbose=0, return_dict=True)
out["4_test_step"] = {k: float(v) for k, v in r.items()}
out = {k: ({kk: [float(a) for a in vv] for kk, vv in v.items()} if k != "4_test_step" else v)
       for k, v in out.items()}
print(json.dumps(out, sort_keys=True))
