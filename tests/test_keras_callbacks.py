"""shendu.keras.callbacks: behaviour on scripted loss sequences and in real fits."""
import csv
import math

import numpy as np
import pytest

from shendu import keras
from shendu.keras import callbacks, layers


@pytest.fixture(autouse=True)
def _fresh_names():
    keras.backend.clear_session()


def _model(lr=0.01):
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(4, activation="relu"),
                              layers.Dense(1)])
    model.compile(keras.optimizers.SGD(lr), "mse")
    return model


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 2)).astype(np.float32)
    return x, x.sum(1)


class Script(callbacks.Callback):
    """Replaces the monitored value by a scripted sequence and records the weights."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values, self.key = values, key
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


def _same(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a, b))


def test_early_stopping_stops_at_the_right_epoch_and_restores_best():
    x, y = _data()
    model = _model()
    values = [1.0, 0.8, 0.7, 0.75, 0.72, 0.71, 0.9, 0.5, 0.4]
    script = Script(values)
    es = callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=len(values), verbose=0, callbacks=[script, es])
    # best 0.7 at epoch 2; epochs 3, 4, 5 do not improve -> stop after epoch 5
    assert history.epoch == [0, 1, 2, 3, 4, 5]
    assert es.stopped_epoch == 5 and es.best == 0.7 and es.best_epoch == 2
    assert model.stop_training
    assert _same(model.get_weights(), script.weights[2])


def test_early_stopping_min_delta_mode_baseline_and_no_stop_restore():
    x, y = _data()
    # improvements smaller than min_delta do not count
    model = _model()
    es = callbacks.EarlyStopping(min_delta=0.1, patience=2)
    h = model.fit(x, y, epochs=10, verbose=0,
                  callbacks=[Script([1.0, 0.95, 0.91, 0.5, 0.45, 0.44, 0.43]), es])
    assert h.epoch == [0, 1, 2] and es.best == 1.0
    # mode max on accuracy-like metrics (auto from the name)
    model = _model()
    es = callbacks.EarlyStopping(monitor="val_accuracy", patience=1)
    h = model.fit(x, y, epochs=10, verbose=0,
                  callbacks=[Script([0.5, 0.6, 0.55, 0.7], key="val_accuracy"), es])
    assert h.epoch == [0, 1, 2] and es.best == 0.6
    # restore_best_weights also when training was not stopped early (issue 3, Keras 3)
    model = _model()
    script = Script([3.0, 1.0, 2.0, 2.5])
    es = callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    h = model.fit(x, y, epochs=4, verbose=0, callbacks=[script, es])
    assert h.epoch == [0, 1, 2, 3] and es.stopped_epoch == 0
    assert _same(model.get_weights(), script.weights[1])
    # baseline: improving on the best but not beating the baseline does not reset the
    # patience (Keras's rule), so it stops one epoch earlier than without a baseline
    values = [1.0, 0.9, 0.95, 0.97, 0.99, 1.0, 1.0]
    for baseline, stop in ((0.1, 2), (None, 3)):
        model = _model()
        es = callbacks.EarlyStopping(patience=2, baseline=baseline)
        h = model.fit(x, y, epochs=7, verbose=0, callbacks=[Script(values), es])
        assert h.epoch[-1] == stop
    # start_from_epoch: the first epochs are not monitored
    model = _model()
    es = callbacks.EarlyStopping(patience=1, start_from_epoch=3)
    h = model.fit(x, y, epochs=10, verbose=0,
                  callbacks=[Script([0.1, 0.9, 0.9, 0.5, 0.6, 0.7, 0.8]), es])
    assert h.epoch == [0, 1, 2, 3, 4]


def test_early_stopping_unknown_direction_and_missing_monitor():
    x, y = _data()
    model = _model()
    es = callbacks.EarlyStopping(monitor="weird_quantity")
    with pytest.raises(ValueError, match="mode='max'"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[es])
    model = _model()
    with pytest.warns(UserWarning, match="val_loss"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.EarlyStopping()])


def test_reduce_lr_on_plateau_lowers_the_learning_rate():
    x, y = _data()
    model = _model(lr=0.1)
    rl = callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_lr=0.02)
    values = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    h = model.fit(x, y, epochs=8, verbose=0, callbacks=[Script(values), rl])
    lrs = h.history["learning_rate"]
    assert lrs == pytest.approx([0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])
    assert model.optimizer.learning_rate == pytest.approx(0.02)
    assert model.optimizer.inner.param_groups[0]["lr"] == pytest.approx(0.02)


def test_learning_rate_scheduler_and_lambda_callback():
    x, y = _data()
    model = _model(lr=0.1)
    seen = []
    sched = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 * 0.5 ** epoch)
    lam = callbacks.LambdaCallback(
        on_epoch_begin=lambda epoch, logs: seen.append(("begin", epoch)),
        on_train_batch_end=lambda batch, logs: seen.append(("batch", batch)))
    h = model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[sched, lam])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    assert seen[:3] == [("begin", 0), ("batch", 0), ("batch", 1)]
    with pytest.raises(TypeError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_finish=print)


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = _data()
    path = tmp_path / "log.csv"
    model = _model()
    model.fit(x, y, epochs=3, validation_split=0.25, verbose=0,
              callbacks=[callbacks.CSVLogger(str(path))])
    rows = list(csv.DictReader(open(path)))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "val_loss"}
    assert all(float(r["loss"]) > 0 for r in rows)
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
              callbacks=[callbacks.CSVLogger(str(path), append=True)])
    lines = open(path).read().splitlines()
    assert len(lines) == 1 + 3 + 2 and lines[0] == "epoch,loss,val_loss"


def test_terminate_on_nan_stops_within_the_epoch(capsys):
    x, y = _data(64)
    x[20:] = np.nan
    model = _model()
    calls = []
    counter = callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: calls.append(b))
    h = model.fit(x, y, epochs=5, batch_size=16, verbose=0, shuffle=False,
                  callbacks=[callbacks.TerminateOnNaN(), counter])
    assert calls == [0, 1] and h.epoch == [0]
    assert math.isnan(h.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


def test_model_checkpoint_save_best_only(tmp_path):
    x, y = _data()
    model = _model()
    path = tmp_path / "best.keras"
    ck = callbacks.ModelCheckpoint(str(path), save_best_only=True)
    script = Script([1.0, 0.5, 0.7, 0.6])
    model.fit(x, y, epochs=4, verbose=0, callbacks=[script, ck])
    best = keras.models.load_model(str(path))
    assert _same(best.get_weights(), script.weights[1])
    assert ck.best == 0.5
    # every epoch, formatted names, weights only
    ck2 = callbacks.ModelCheckpoint(str(tmp_path / "w-{epoch:02d}.weights"),
                                    save_weights_only=True, monitor="loss")
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ck2])
    assert sorted(p.name for p in tmp_path.glob("w-*")) == ["w-01.weights", "w-02.weights"]
    fresh = _model()
    fresh.load_weights(str(tmp_path / "w-02.weights"))
    assert _same(fresh.get_weights(), model.get_weights())


def test_callback_base_documented_hooks_and_order():
    x, y = _data(32)
    events = []

    class Recorder(callbacks.Callback):
        def on_train_begin(self, logs=None): events.append("train_begin")
        def on_epoch_begin(self, epoch, logs=None): events.append(f"epoch_begin{epoch}")
        def on_train_batch_end(self, batch, logs=None): events.append(f"batch{batch}")
        def on_test_begin(self, logs=None): events.append("test_begin")
        def on_epoch_end(self, epoch, logs=None): events.append(f"epoch_end{epoch}:{sorted(logs)}")
        def on_train_end(self, logs=None): events.append("train_end")
        def on_predict_end(self, logs=None): events.append("predict_end")

    model = _model()
    rec = Recorder()
    model.fit(x, y, epochs=1, batch_size=16, validation_data=(x, y), verbose=0, callbacks=[rec])
    assert rec.model is model and rec.params["epochs"] == 1 and rec.params["steps"] == 2
    model.predict(x, verbose=0, callbacks=[rec])
    assert events == ["train_begin", "epoch_begin0", "batch0", "batch1", "test_begin",
                      "epoch_end0:['loss', 'val_loss']", "train_end", "predict_end"]
    with pytest.raises(TypeError, match="LambdaCallback"):
        model.fit(x, y, verbose=0, callbacks=[print])
