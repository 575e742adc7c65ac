"""Callbacks: code that ``fit``, ``evaluate`` and ``predict`` run at set points.

Write your own by subclassing ``Callback`` and overriding the hooks you need::

    class PrintLoss(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, logs["loss"])

    model.fit(x, y, epochs=3, callbacks=[PrintLoss()])

Shipped: ``History`` (added by ``fit``; what it returns), ``ProgbarLogger`` (the progress
bar), ``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``,
``LearningRateScheduler``, ``CSVLogger``, ``TerminateOnNaN``, ``LambdaCallback``.

>>> from shendu.keras.callbacks import EarlyStopping
>>> EarlyStopping(min_delta=0.001, patience=20, restore_best_weights=True).patience
20
"""
from __future__ import annotations

import csv
import math
import os
import sys
import warnings

import numpy as np

from .progress import Progbar, is_dynamic

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback"]


class Callback:
    """Base class of callbacks. Every hook does nothing; override the ones you need.

    Hooks and when they run (``logs`` is a dict of the current loss and metrics):

    * ``on_train_begin(logs)`` / ``on_train_end(logs)``: once per ``fit``.
    * ``on_epoch_begin(epoch, logs)`` / ``on_epoch_end(epoch, logs)``: ``epoch`` counts
      from 0; at the end ``logs`` holds the epoch's means (``loss``, metrics, and
      ``val_loss``, ``val_<metric>`` when there is validation data).
    * ``on_train_batch_begin(batch, logs)`` / ``on_train_batch_end(batch, logs)``:
      around each training step; ``logs`` holds the running means of the epoch so far.
      (``on_batch_begin`` / ``on_batch_end`` are the same hooks under Keras 2 names.)
    * ``on_test_begin/end``, ``on_test_batch_begin/end``: during ``evaluate`` and the
      validation pass of ``fit``.
    * ``on_predict_begin/end``, ``on_predict_batch_begin/end``: during ``predict``.

    Attributes
    ----------
    model : keras.Model
        The model being trained (set by ``set_model``). Set ``self.model.stop_training
        = True`` to end ``fit`` after the current batch.
    params : dict
        ``{"verbose", "epochs", "steps"}`` of the current run.

    Batch hooks cost a little per step, so ``fit`` only calls them for callbacks that
    override them.
    """

    def __init__(self):
        self.params = {}
        self._model = None

    def set_params(self, params):
        self.params = params

    def set_model(self, model):
        self._model = model

    @property
    def model(self):
        return self._model

    # training
    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): self.on_batch_begin(batch, logs)
    def on_train_batch_end(self, batch, logs=None): self.on_batch_end(batch, logs)
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    # evaluation
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    # prediction
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass


def _overrides(cb, *names):
    """Whether ``cb`` overrides any of the hooks ``names`` (in its class, or as an
    instance attribute like ``LambdaCallback``'s)."""
    for name in names:
        if name in cb.__dict__ or getattr(type(cb), name, None) is not getattr(Callback, name):
            return True
    return False


class CallbackList:
    """The callbacks of one ``fit``/``evaluate``/``predict`` call, called in order.

    ``fit`` adds a ``History`` (after the user's callbacks) and, when ``verbose``, a
    ``ProgbarLogger`` (last), as Keras does. Batch hooks are only dispatched to the
    callbacks that override them (``wants_train_batch`` etc. tell the loop whether any
    does, so a run without such callbacks does no per-batch work for them).
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be keras.callbacks.Callback instances, got "
                                f"{type(cb).__name__}; for a function use LambdaCallback")
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        self.progbar = next((c for c in self.callbacks if isinstance(c, ProgbarLogger)), None)
        if self.progbar is None and add_progbar:
            self.progbar = ProgbarLogger()
            self.callbacks.append(self.progbar)
        self.model = model
        if model is not None:
            for cb in self.callbacks:
                cb.set_model(model)
        self.set_params(params)

    def set_params(self, params):
        self.params = params
        for cb in self.callbacks:
            cb.set_params(params)
        self._batch = {}
        for kind in ("train", "test", "predict"):
            names = (f"on_{kind}_batch_begin", f"on_{kind}_batch_end")
            if kind == "train":
                names += ("on_batch_begin", "on_batch_end")
            self._batch[kind] = [c for c in self.callbacks
                                 if (c.wants_batches(kind) if isinstance(c, ProgbarLogger)
                                     else _overrides(c, *names))]

    def append(self, cb):
        self.callbacks.append(cb)

    def wants_batches(self, kind):
        return bool(self._batch[kind])

    def _call(self, hook, *args):
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)

    def on_train_batch_begin(self, batch, logs=None):
        for cb in self._batch["train"]:
            cb.on_train_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        for cb in self._batch["train"]:
            cb.on_train_batch_end(batch, logs)

    def on_test_batch_begin(self, batch, logs=None):
        for cb in self._batch["test"]:
            cb.on_test_batch_begin(batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        for cb in self._batch["test"]:
            cb.on_test_batch_end(batch, logs)

    def on_predict_batch_begin(self, batch, logs=None):
        for cb in self._batch["predict"]:
            cb.on_predict_batch_begin(batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        for cb in self._batch["predict"]:
            cb.on_predict_batch_end(batch, logs)


class History(Callback):
    """Records each epoch's logs: ``history.history`` is ``{"loss": [...], ...}`` and
    ``history.epoch`` the epoch numbers. ``fit`` returns it (and sets ``model.history``).

    ``pandas.DataFrame(history.history)`` gives the course's table for the loss curve.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints ``Epoch 3/10`` and the progress bar (see ``shendu.keras.progress``).

    ``verbose`` comes from ``fit``: 1 draws the bar (in place on a terminal or notebook,
    one clean line per epoch elsewhere), 2 prints one short line per epoch.
    """

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.progbar = None
        self.seen = 0  # steps done in the current epoch (the fit loop keeps it current)
        self.verbose = 1
        self.epochs = 1
        self._in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _out(self):
        return sys.stdout if self.stream is None else self.stream

    def wants_batches(self, kind):
        # Off a terminal the bar is written once per epoch: no need to see every batch.
        return self.verbose == 1 and is_dynamic(self._out())

    def _new_bar(self, target=None):
        self.progbar = Progbar(self.target if target is None else target, verbose=self.verbose,
                               stream=self.stream)

    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            out = self._out()
            out.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            out.flush()
        self._new_bar()
        self.seen = 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.progbar.update(batch + 1, _shown(logs), finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        if self.progbar is not None:
            self.progbar.update(self.seen, _shown(logs), finalize=True)

    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._new_bar()
            self.seen = 0

    def on_test_batch_end(self, batch, logs=None):
        if not self._in_fit:
            self.seen = batch + 1
            self.progbar.update(batch + 1, _shown(logs), finalize=False)

    def on_test_end(self, logs=None):
        if not self._in_fit and self.progbar is not None:
            self.progbar.update(self.seen, _shown(logs), finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar()
        self.seen = 0

    def on_predict_batch_end(self, batch, logs=None):
        self.seen = batch + 1
        self.progbar.update(batch + 1, None, finalize=False)

    def on_predict_end(self, logs=None):
        if self.progbar is not None:
            self.progbar.update(self.seen, None, finalize=True)


def _shown(logs):
    return [(k, v) for k, v in (logs or {}).items() if not isinstance(v, (list, dict))]


# ------------------------------------------------------------------ monitoring helpers
_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "iou", "r2")


def _direction(monitor, model):
    """'min' or 'max' for a monitored quantity, as Keras's mode='auto' decides it."""
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name == "loss" or name.endswith("_loss"):
        return "min"
    for m in getattr(model, "metrics", None) or []:
        if getattr(m, "name", None) == name and getattr(m, "_direction", None):
            return "max" if m._direction == "up" else "min"
    lowered = name.lower()
    if any(h in lowered for h in _MAX_HINTS):
        return "max"
    if any(h in lowered for h in ("loss", "error", "mae", "mse", "crossentropy", "divergence",
                                  "hinge", "huber")):
        return "min"
    return None


def _monitor_value(cb, logs):
    value = (logs or {}).get(cb.monitor)
    if value is None:
        warnings.warn(f"{type(cb).__name__} is conditioned on metric `{cb.monitor}` which is "
                      f"not available. Available metrics are: {', '.join(sorted(logs or {}))}",
                      stacklevel=3)
    return value


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving.

    Parameters
    ----------
    monitor : str, default "val_loss"
    min_delta : float, default 0
        An improvement smaller than this does not count.
    patience : int, default 0
        Epochs without improvement after which training stops.
    verbose : int, default 0
        1 prints when it stops and when it restores weights.
    mode : {"auto", "min", "max"}
        ``auto`` minimizes losses and errors and maximizes accuracy-like metrics.
    baseline : float, optional
        Training stops if the model does not beat it within ``patience`` epochs.
    restore_best_weights : bool, default False
        At the end of training, put back the weights of the best epoch. As in Keras 3
        this happens also when training ran all its epochs without stopping early.
    start_from_epoch : int, default 0
        Epochs to wait before starting to monitor (warm-up).

    Attributes: ``stopped_epoch`` (0 when not stopped), ``best``, ``best_epoch``, ``wait``.

    Example (the course's red wine lesson)::

        early_stopping = EarlyStopping(min_delta=0.001, patience=20,
                                       restore_best_weights=True)
        model.fit(X_train, y_train, validation_data=(X_valid, y_valid),
                  batch_size=256, epochs=500, callbacks=[early_stopping])
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(f"EarlyStopping mode {mode!r} is unknown, fallback to auto mode.",
                          stacklevel=2)
            mode = "auto"
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = int(patience)
        self.verbose = verbose
        self.mode = mode
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = int(start_from_epoch)
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0
        self._sign = None

    def _set_direction(self):
        mode = self.mode if self.mode != "auto" else _direction(self.monitor, self.model)
        if mode is None:
            raise ValueError(
                f"EarlyStopping callback received monitor={self.monitor} but shendu isn't able "
                "to automatically determine whether that metric should be maximized or "
                "minimized. Pass `mode='max'` in order to do early stopping based on the highest "
                "metric value, or pass `mode='min'` in order to use the lowest value.")
        self._sign = 1.0 if mode == "max" else -1.0

    def _is_improvement(self, value, reference):
        if reference is None:
            return True
        # for 'min': value - (-min_delta)... i.e. value < reference - min_delta
        return self._sign * (value - reference) > self.min_delta

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self._sign is None:
            self._set_direction()
        current = _monitor_value(self, logs)
        if current is None or epoch < self.start_from_epoch:
            return
        current = float(current)
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(Callback):
    """Save the model (or only its weights) after each epoch, atomically.

    Parameters
    ----------
    filepath : str
        May hold ``{epoch}`` and log entries as format fields:
        ``"ckpt/model-{epoch:02d}-{val_loss:.3f}.shendu"``.
    monitor : str, default "val_loss"
    verbose : int, default 0
    save_best_only : bool, default False
        Only save when ``monitor`` improves (the file then always holds the best model).
    save_weights_only : bool, default False
        ``model.save_weights`` (weights only) instead of ``model.save`` (config too).
    mode : {"auto", "min", "max"}
    save_freq : "epoch"
        Only ``"epoch"`` is supported.
    initial_value_threshold : float, optional
        A value the monitored quantity must beat before the first save.

    Writes go to a temporary file that is then renamed over the target, so an
    interrupted save never leaves a half-written checkpoint.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint supports save_freq='epoch' only, got {save_freq!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"ModelCheckpoint mode must be 'auto', 'min' or 'max', got {mode!r}")
        self.filepath = os.fspath(filepath)
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = mode
        self.best = initial_value_threshold
        self._sign = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as e:
            raise KeyError(f"ModelCheckpoint: failed to format the filepath {self.filepath!r}: "
                           f"{e} is not in the logs ({', '.join(sorted(logs))})") from None
        if self.save_best_only:
            if self._sign is None:
                mode = self.mode if self.mode != "auto" else _direction(self.monitor, self.model)
                self._sign = -1.0 if mode != "max" else 1.0
            current = _monitor_value(self, logs)
            if current is None:
                return
            current = float(current)
            if self.best is not None and not self._sign * (current - self.best) > 0:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
            if self.verbose > 0:
                before = "inf" if self.best is None else f"{self.best:.5f}"
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {before} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` stops improving.

    Parameters: ``monitor="val_loss"``, ``factor=0.1``, ``patience=10``, ``verbose=0``,
    ``mode="auto"``, ``min_delta=1e-4``, ``cooldown=0`` (epochs to wait after a
    reduction), ``min_lr=0.0``. Adds ``learning_rate`` to the epoch's logs.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        if "epsilon" in kwargs:  # Keras 2 name of min_delta
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected arguments {sorted(kwargs)}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = mode
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self._reset()

    def _reset(self):
        maximize = self.mode == "max" or (self.mode == "auto" and "acc" in self.monitor)
        self._sign = 1.0 if maximize else -1.0
        self.best = -np.inf if maximize else np.inf
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = _monitor_value(self, logs)
        if current is None:
            return
        current = float(current)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._sign * (current - self.best) > self.min_delta:
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch from ``schedule(epoch, lr)``
    (or ``schedule(epoch)``), a function returning a float.

    >>> sched = LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:  # a schedule of the epoch only
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating, np.integer)):
            raise ValueError(f"the output of the schedule function should be a float, got "
                             f"{lr!r} of type {type(lr).__name__}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file: ``epoch,loss,...``.

    Parameters: ``filename``, ``separator=","``, ``append=False`` (add to an existing
    file instead of overwriting it; no second header then).
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self.csv_file = None

    def on_train_begin(self, logs=None):
        write_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                write_header = not bool(f.readline())
        self._write_header = write_header
        folder = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(folder, exist_ok=True)
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="",
                             encoding="utf-8")
        self.keys = None
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            if self.params.get("validation") and not any(k.startswith("val_") for k in self.keys):
                self.keys += ["val_" + k for k in self.keys]
        if self.writer is None:
            sep = self.sep

            class _Dialect(csv.excel):
                delimiter = sep

            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=_Dialect)
            if self._write_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, _csv_value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None:
            self.csv_file.close()
        self.csv_file = None
        self.writer = None


def _csv_value(v):
    if isinstance(v, (list, tuple, np.ndarray)) and np.ndim(v) > 0:
        return '"[%s]"' % ", ".join(map(str, np.ravel(v)))
    return v


class TerminateOnNaN(Callback):
    """Stop training as soon as a batch's loss is NaN or infinite."""

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            print(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class LambdaCallback(Callback):
    """A callback made of functions given as arguments.

    ``on_epoch_begin(epoch, logs)``, ``on_epoch_end(epoch, logs)``,
    ``on_train_begin(logs)``, ``on_train_end(logs)``, ``on_train_batch_begin(batch,
    logs)``, ``on_train_batch_end(batch, logs)`` and any other hook by keyword.

    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: None)
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end, **kwargs)
        for name, fn in hooks.items():
            if fn is None:
                continue
            if not (name.startswith("on_") and hasattr(Callback, name)):
                raise TypeError(f"LambdaCallback got an unknown hook {name!r}")
            setattr(self, name, fn)
