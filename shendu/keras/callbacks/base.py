"""The callback base class, the list that dispatches hooks, ``History`` and ``ProgbarLogger``."""
from __future__ import annotations

import sys

from ..progress import Progbar, is_dynamic

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]


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
