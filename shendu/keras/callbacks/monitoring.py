"""Callbacks that watch a logged quantity: ``EarlyStopping``, ``ModelCheckpoint``,
``ReduceLROnPlateau``; and ``LearningRateScheduler``."""
from __future__ import annotations

import os
import warnings

import numpy as np

from .base import Callback

__all__ = ["EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler"]


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
