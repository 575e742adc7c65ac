"""``predict``, ``predict_step`` and the ``*_on_batch`` methods of Keras models (a mixin
of ``keras.Model``, through ``Trainer``)."""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import grad_mode
from . import callbacks as callbacks_module
from .data_adapter import make_batches
from .trainer_utils import _host, _resolve_verbose, _unpack
from ..autograd.tensor import Tensor

__all__ = ["BatchMethods"]


class BatchMethods:
    """``predict`` and the single-batch methods; ``Trainer`` inherits them."""

    # ------------------------------------------------------------------ predict
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x`` as a NumPy array, computed in batches (32 by
        default) in inference mode without recording a graph."""
        verbose = _resolve_verbose(verbose)
        data = make_batches(x, None, None, batch_size, float_dtype=backend.get_default_dtype(),
                            steps=steps, who="predict")
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                            verbose=verbose, epochs=1, steps=data.steps or None)
        want = cbs.wants_batches("predict")
        outputs = []
        started = False
        cbs.on_predict_begin()
        steps_done = 0
        with grad_mode.no_grad():
            for step, (xb, _, _) in enumerate(data.batches(False)):
                if not started:
                    self._start(xb)
                    started = True
                if want:
                    cbs.on_predict_batch_begin(step)
                out = self.predict_step(self._wrap_x(xb))
                outputs.append([_host(_array(o)) for o in out]
                               if isinstance(out, (list, tuple)) else _host(_array(out)))
                steps_done = step + 1
                if want:
                    cbs.on_predict_batch_end(step, {"outputs": outputs[-1]})
        if cbs.progbar is not None:
            cbs.progbar.seen = steps_done
        cbs.on_predict_end()
        if not outputs:
            raise ValueError("predict: the data is empty")
        if isinstance(outputs[0], list):
            return [np.concatenate([o[i] for o in outputs]) for i in range(len(outputs[0]))]
        return np.concatenate(outputs)

    def predict_step(self, data):
        """The outputs for one batch; ``predict`` calls it on every batch (override it
        to predict in your own way, e.g. to return class ids or to decode a sequence).

        ``data`` is the batch of inputs as a Tensor (or ``(x,)``); the default returns
        ``self(x, training=False)``. It runs without recording a graph. Return a Tensor or
        an array (or a list of them); ``predict`` concatenates them over the batches.
        """
        x, _, _ = _unpack(data)
        return self(x, training=False)

    # ------------------------------------------------------------------ single batches
    def _single_batch(self, x, y, sample_weight, class_weight=None):
        data = self._batches(x, y, sample_weight, batch_size=1 << 62, class_weight=class_weight,
                             who="train_on_batch")
        xb, yb, wb = next(iter(data.batches(False)))
        self._start(xb)
        return xb, yb, wb

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One training step on exactly this batch. Returns this batch's loss (and
        metrics), as Keras 2 did with ``reset_metrics=True``."""
        self._check_compiled("train_on_batch", "train_step")
        xb, yb, wb = self._single_batch(x, y, sample_weight, class_weight)
        custom = self._overrides("train_step")
        if not custom:
            self._prepare_training()
        self.reset_metrics()
        self.train(True)
        try:
            if custom:
                logs = self._custom_step("train_step", xb, yb, wb)
            else:
                self._train_batch(self._wrap_x(xb), self._to_device(yb), self._to_device(wb))
                logs = self._logs()
        finally:
            self.train(False)
        return logs if return_dict else self._flatten_logs(logs, "train_step")

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on exactly this batch, in inference mode."""
        self._check_compiled("test_on_batch", "test_step")
        xb, yb, wb = self._single_batch(x, y, sample_weight)
        self._setup_fusion()
        self.reset_metrics()
        if self._overrides("test_step"):
            with grad_mode.no_grad():
                logs = self._custom_step("test_step", xb, yb, wb)
        else:
            self._test_batch(self._wrap_x(xb), self._to_device(yb), self._to_device(wb))
            logs = self._logs()
        return logs if return_dict else self._flatten_logs(logs, "test_step")

    def predict_on_batch(self, x):
        """The outputs for this batch as a NumPy array (inference mode, no graph)."""
        with grad_mode.no_grad():
            out = self(x, training=False)
        if isinstance(out, (list, tuple)):
            return [_host(o._data) for o in out]
        return _host(out._data)


def _array(out):
    return out._data if isinstance(out, Tensor) else np.asarray(out)
