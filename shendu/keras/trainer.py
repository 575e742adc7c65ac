"""``compile``, ``fit``, ``evaluate``, ``predict`` and the ``*_on_batch`` methods of Keras
models (a mixin of ``keras.Model``).

The training step is the plain shendu loop (forward, loss, ``backward``, optimizer step)
plus the running loss and the metrics, computed on arrays without a graph. Batches are cut
from the arrays once each; callbacks' batch hooks run only when some callback wants them.

A model that overrides ``train_step(self, data)`` (a GAN with two optimizers, say) has
``fit`` call it on every batch instead, and the dict it returns is what the progress bar
and ``History`` show; ``test_step`` does the same for ``evaluate`` and validation. See
``Trainer.train_step``.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from . import activations, callbacks as callbacks_module, losses as losses_module
from . import metrics as metrics_module, optimizers as optimizers_module
from .layers import base as _layer_base
from .metrics.compile import CompileMetrics
from .data_adapter import (ArrayBatches, class_weights_to_sample_weights, make_batches)
from .trainer_batches import BatchMethods
from .trainer_utils import _flatten, _probs_from_logits, _raw, _resolve_verbose, _unpack

__all__ = ["Trainer"]


class Trainer(BatchMethods):
    """Mixin with Keras's training API; ``keras.Model`` inherits it."""

    def _init_trainer(self):
        self.optimizer = None
        self.loss = None
        self.compiled = False
        self.stop_training = False
        self.history = None
        self._loss_obj = None
        self._fused = None
        self._fused_kind = None
        self._metric_specs = []
        self._weighted_metric_specs = []
        object.__setattr__(self, "_compile_metrics", None)
        object.__setattr__(self, "_loss_tracker", metrics_module.Mean(name="loss"))
        self._compile_config = None

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, run_eagerly=False, steps_per_execution=1,
                jit_compile="auto", auto_scale_loss=True):
        """Configure training: the optimizer, the loss and the metrics to report.

        Parameters
        ----------
        optimizer : name (``"adam"``, ``"sgd"``, ``"rmsprop"``, ``"adamw"``, ``"adagrad"``,
            ``"adadelta"``, ``"nadam"``) or a ``keras.optimizers`` instance (or a built
            ``shendu.optim`` optimizer); None for a model whose own ``train_step`` holds
            its optimizers (a GAN's ``compile(d_optimizer=..., g_optimizer=...)`` override
            calls ``super().compile(optimizer=None)`` or plain ``super().compile()``)
        loss : name (``"mse"``, ``"mae"``, ``"huber"``, ``"binary_crossentropy"``,
            ``"categorical_crossentropy"``, ``"sparse_categorical_crossentropy"``,
            ``"kl_divergence"`` ...), a ``keras.losses.Loss`` or a function
            ``loss(y_true, y_pred)``
        metrics : list of names (``"accuracy"``, ``"mae"``, ``"AUC"`` ...), Metric objects or
            functions; not weighted by ``sample_weight`` (use ``weighted_metrics``).

        The course's call::

            model.compile(optimizer="adam", loss="mae")
        """
        if loss_weights is not None:
            raise NotImplementedError("compile(loss_weights=...) is for several outputs, which "
                                      "shendu.keras does not train")
        self.optimizer = None if optimizer is None else optimizers_module.get(optimizer)
        self.loss = loss
        self._loss_obj = losses_module.get(loss) if loss is not None else None
        if metrics is None:
            metrics = []
        if isinstance(metrics, dict):
            raise NotImplementedError("compile(metrics={...}) is for several outputs; pass a list")
        if isinstance(metrics, (str,)) or not isinstance(metrics, (list, tuple)):
            metrics = [metrics]
        self._metric_specs = list(metrics)
        self._weighted_metric_specs = list(weighted_metrics or [])
        self._reset_compile_metrics()
        self._fused = None
        self._fused_kind = None
        self.compiled = True
        self.stop_training = False
        self._compile_config = {"optimizer": optimizer, "loss": loss, "metrics": self._metric_specs,
                                "weighted_metrics": self._weighted_metric_specs}

    def _check_compiled(self, who, step=None):
        """``step``: the name of the step ``who`` runs; an overridden step needs only
        ``compile()`` (it brings its own loss and optimizers)."""
        if step is not None and self._overrides(step):
            if not self.compiled:
                raise RuntimeError(f"You must call compile() before {who}(), even when "
                                   f"{type(self).__name__} defines its own {step}: e.g. "
                                   "model.compile() or your compile(...) override")
            return
        if not self.compiled or self._loss_obj is None:
            raise RuntimeError(f"You must call compile() with a loss before {who}(): e.g. "
                               "model.compile(optimizer='adam', loss='mse')")
        if step == "train_step" and self.optimizer is None:
            raise RuntimeError(f"{who}() needs an optimizer: compile(optimizer=None) is only "
                               f"for models that override train_step")

    def _overrides(self, step):
        """Whether this model's class defines its own ``train_step`` / ``test_step``."""
        return getattr(type(self), step) is not getattr(Trainer, step)

    @property
    def metrics(self):
        """Keras 3's list: the loss tracker and ``compile_metrics`` (the metrics given to
        ``compile``, one ``CompileMetrics`` object) once compiled, then the Metric objects
        assigned to attributes of the model (``self.loss_tracker = keras.metrics.Mean(...)``
        in ``__init__``) and of its layers. ``fit`` and ``evaluate`` reset them all at the
        start of every epoch. A model may override this property to list its own."""
        out = []
        if self.compiled:
            out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
        seen = {id(m) for m in out}
        for layer in self._layers_recursive():
            for m in layer.__dict__.get("_tracked_metrics", ()):
                if id(m) not in seen:
                    seen.add(id(m))
                    out.append(m)
        return out

    @property
    def metrics_names(self):
        return [m.name for m in self.metrics]

    def _flat_metric_names(self):
        """The names in the logs, in order: ``compile_metrics`` opened up."""
        names = []
        for m in self.metrics:
            if isinstance(m, CompileMetrics):
                names += [c.name for c in m.metrics]
            else:
                names.append(m.name)
        return names

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def _reset_compile_metrics(self):
        """Fresh (unresolved) compiled metrics, e.g. after the model changed."""
        specs = self._metric_specs + self._weighted_metric_specs
        object.__setattr__(self, "_compile_metrics", CompileMetrics(
            self._metric_specs, self._weighted_metric_specs) if specs else None)

    # ------------------------------------------------------------------ one step
    def _setup_fusion(self):
        """Use logits for the loss when the model ends in softmax/sigmoid (stability)."""
        self._fused = None
        self._fused_kind = None
        last = self._output_layer()
        act = getattr(last, "activation", None) if last is not None else None
        if act is None or not hasattr(last, "_pre_activation") or self._loss_obj is None:
            return
        kind = "softmax" if act is activations.softmax else \
            "sigmoid" if act is activations.sigmoid else None
        cls = type(self._loss_obj)
        ok = {"softmax": (losses_module.CategoricalCrossentropy,
                          losses_module.SparseCategoricalCrossentropy),
              "sigmoid": (losses_module.BinaryCrossentropy,)}.get(kind, ())
        if cls in ok:
            fused = self._loss_obj.with_logits()
            if fused is not None:
                self._fused, self._fused_kind = fused, kind

    def _output_layer(self):
        return None

    def _forward_logits(self, x, training):
        """The model's output before its final softmax/sigmoid (models override)."""
        raise NotImplementedError

    def _prepare_training(self):
        """Bind the optimizer to the trainable weights (again if they changed)."""
        weights = self.trainable_weights
        if not self.optimizer.built or not self.optimizer._matches(weights):
            self.optimizer.build(weights)
        self._setup_fusion()

    def _compute(self, xb, yb, wb, training):
        if self._fused is not None:
            logits = self._forward_logits(xb, training)
            loss = self._fused(yb, logits, sample_weight=wb) if wb is not None else \
                self._fused(yb, logits)
            y_pred = _probs_from_logits(logits._data, self._fused_kind)
        else:
            out = self(xb, training=training)
            if isinstance(out, (list, tuple)):
                raise NotImplementedError("fit/evaluate of models with several outputs is not "
                                          "supported in shendu.keras")
            loss = self._loss_obj(yb, out, sample_weight=wb) if wb is not None else \
                self._loss_obj(yb, out)
            y_pred = out._data
        if not isinstance(loss, Tensor):
            loss = Tensor._make(np.asarray(loss, dtype=np.float32))
        if loss.ndim:
            loss = loss.mean()
        reg = self.losses if self._has_regularizers or _layer_base._CALLS[1] else None
        if reg:
            for r in reg:
                loss = loss + r
        return loss, y_pred

    def _update_metrics(self, loss_value, n, yb, y_pred, wb):
        self._loss_tracker.update_state(loss_value, n)
        if self._compile_metrics is not None:
            self._compile_metrics.update_state(yb, y_pred, wb)

    def _train_batch(self, xb, yb, wb):
        loss, y_pred = self._compute(xb, yb, wb, True)
        opt = self.optimizer
        opt.zero_grad()
        loss.backward()
        opt.step()
        self._update_metrics(float(loss._data), len(y_pred), yb, y_pred, wb)

    def _test_batch(self, xb, yb, wb):
        with grad_mode.no_grad():
            loss, y_pred = self._compute(xb, yb, wb, False)
        self._update_metrics(float(loss._data), len(y_pred), yb, y_pred, wb)

    def _logs(self):
        return _flatten({m.name: m.result() for m in self.metrics})

    def _to_device(self, a):
        dev = self._device
        if a is None or dev is None:
            return a
        if isinstance(a, list):
            return [self._to_device(i) for i in a]
        return backend.move(a, dev)

    def _wrap_x(self, xb):
        xb = self._to_device(xb)
        if isinstance(xb, list):
            return [Tensor._make(a) for a in xb]
        return Tensor._make(xb)

    def _start(self, x_sample):
        """Build the model from the first batch's shape and find its device."""
        if not self.built and self._builds_from_data():
            shape = [tuple(a.shape) for a in x_sample] if isinstance(x_sample, list) \
                else tuple(x_sample.shape)
            self._build_for_data(shape)
        w = self.weights
        self._device = w[0].device if w and w[0].is_cuda else None
        self._has_regularizers = any(layer._regularized for layer in self._layers_recursive())

    def _builds_from_data(self):
        """Whether a dummy forward can build the model (a GAN with its own train_step and
        no ``call`` cannot; its parts build on their first call)."""
        return True

    def _build_for_data(self, shape):
        with grad_mode.no_grad():  # one dummy forward creates every layer's weights
            self(self._dummy_input(shape), training=False)

    def _dummy_input(self, shape):
        from .layers.base import _dummy
        if isinstance(shape, list):
            return [_dummy((None,) + tuple(s[1:]), self.dtype) for s in shape]
        return _dummy((None,) + tuple(shape[1:]), self.dtype)

    def _label_kind(self):
        return getattr(self._loss_obj, "_label", "float")

    def _batches(self, x, y, sample_weight, batch_size, class_weight=None, steps=None,
                 who="fit"):
        data = make_batches(x, y, sample_weight, batch_size,
                            float_dtype=backend.get_default_dtype(),
                            y_dtype=self._label_kind() if self._loss_obj is not None else None,
                            steps=steps, who=who)
        if class_weight is not None:
            if not isinstance(data, ArrayBatches) or data.y is None:
                raise ValueError("class_weight needs x and y given as arrays")
            cw = class_weights_to_sample_weights(data.y, class_weight)
            data.sample_weight = cw if data.sample_weight is None else data.sample_weight * cw
        return data

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The total loss of a batch, as Keras 3: the compiled loss of ``(y, y_pred)``
        plus ``self.losses`` (``add_loss`` terms and regularization), a scalar Tensor.
        Call it in a custom ``train_step`` after ``y_pred = self(x, training=True)``."""
        terms = []
        if self._loss_obj is not None:
            if y_pred is None:
                raise ValueError("compute_loss needs y_pred (y_pred = self(x, training=True))")
            w = _raw(sample_weight)
            loss = self._loss_obj(y, y_pred, sample_weight=w) if w is not None else \
                self._loss_obj(y, y_pred)
            terms.append(loss.mean() if loss.ndim else loss)
        terms += list(self.losses)
        if not terms:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    # ------------------------------------------------------------------ custom steps
    def train_step(self, data):
        """One training step on one batch; override it to train in your own way.

        ``fit`` calls an overridden ``train_step`` on every batch, in training mode
        (layers called without ``training=`` run as in training), and shows the dict it
        returns, ``{name: value}`` (floats, 0-d arrays or Tensors), in the progress bar;
        the last batch's dict of each epoch goes into ``History``. Keep running means in
        ``keras.metrics.Mean`` objects and list them in a ``metrics`` property: ``fit``
        resets them at the start of every epoch (keras.io's "GAN overriding
        Model.train_step" does exactly this). Compute gradients with ``loss.backward()``
        and apply them with ``optimizer.apply_gradients(zip(grads, weights))`` or
        ``optimizer.zero_grad()`` / ``loss.backward()`` / ``optimizer.step()`` on an
        optimizer built for the weights.

        Parameters
        ----------
        data : what ``fit`` holds for one batch, as Tensors: ``x`` when ``fit`` got no
            ``y``, else ``(x, y)``, or ``(x, y, sample_weight)`` when weights were given
            (a DataLoader of ``(x, y)`` pairs gives ``(x, y)``).

        Returns
        -------
        dict of metric name -> value. The default step (forward, compiled loss,
        ``backward``, ``self.optimizer`` step, compiled metrics) returns the running
        loss and metrics, so an override may end with ``return super().train_step(data)``.

        >>> import numpy as np
        >>> from shendu import keras
        >>> class Halving(keras.Model):   # a model with its own (odd) training rule
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.dense = keras.layers.Dense(1)
        ...     def call(self, x):
        ...         return self.dense(x)
        ...     def train_step(self, data):
        ...         for w in self.trainable_weights:
        ...             w.data *= 0.5
        ...         return {"weight_sum": float(sum(abs(w.data).sum() for w in self.weights))}
        >>> model = Halving()
        >>> model.compile(optimizer=None)
        >>> history = model.fit(np.ones((4, 3)), epochs=2, batch_size=2, verbose=0)
        >>> len(history.history["weight_sum"])
        2
        """
        x, y, w = _unpack(data)
        if self.optimizer is None or self._loss_obj is None:
            raise RuntimeError("the default train_step needs compile(optimizer=..., loss=...)")
        self._prepare_training()
        self._train_batch(x, _raw(y), _raw(w))
        return self._logs()

    def test_step(self, data):
        """One evaluation step on one batch (``evaluate`` and ``fit``'s validation).

        Same contract as ``train_step``: ``data`` is ``x``, ``(x, y)`` or ``(x, y,
        sample_weight)`` as Tensors, the return a dict of metric name -> value. It runs in
        inference mode without recording a graph. The default computes the compiled loss
        and metrics.
        """
        x, y, w = _unpack(data)
        if self._loss_obj is None:
            raise RuntimeError("the default test_step needs compile(loss=...); override "
                               "test_step for a model trained by its own train_step")
        self._test_batch(x, _raw(y), _raw(w))
        return self._logs()

    def _custom_step(self, step, xb, yb, wb):
        """Run an overridden ``train_step`` / ``test_step`` on one batch; its logs."""
        x = self._wrap_x(xb)
        if yb is None and wb is None:
            data = x
        else:
            y = None if yb is None else Tensor._make(self._to_device(yb))
            data = (x, y) if wb is None else (x, y, Tensor._make(self._to_device(wb)))
        logs = getattr(self, step)(data)
        if logs is None:
            return {}
        if not isinstance(logs, dict):
            raise TypeError(f"{type(self).__name__}.{step} must return a dict of metric name "
                            f"-> value (e.g. {{'d_loss': ..., 'g_loss': ...}}), got "
                            f"{type(logs).__name__}")
        return _flatten(logs)

    # ------------------------------------------------------------------ fit
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Train the model for ``epochs`` passes over the data; returns a ``History``.

        Parameters
        ----------
        x, y : arrays, DataFrames/Series, Tensors, or ``x`` a DataLoader of ``(x, y)``
        batch_size : int, default 32
        epochs : int, default 1
        verbose : "auto", 0, 1 or 2
            1 (and "auto") draw the progress bar: redrawn in place on a terminal or in a
            notebook, one clean line per epoch otherwise; 2: one short line per epoch.
        callbacks : list of ``keras.callbacks.Callback``
        validation_split : float
            The last fraction of the samples (before shuffling) is held out.
        validation_data : ``(x_val, y_val)`` or ``(x_val, y_val, sample_weight)`` or a
            DataLoader
        shuffle : bool, default True (a new order every epoch, from ``manual_seed``)
        class_weight : dict ``{class: weight}``
        sample_weight : (N,) array
        initial_epoch : int, the epoch to start at (to resume training)

        Example (the course's red wine lesson)::

            history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid),
                                batch_size=256, epochs=10)
        """
        self._check_compiled("fit", "train_step")
        custom = self._overrides("train_step")
        verbose = _resolve_verbose(verbose)
        if validation_split and validation_data is not None:
            validation_split = 0.0  # Keras: validation_data wins
        data = self._batches(x, y, sample_weight, batch_size, class_weight, steps_per_epoch)
        val = None
        if validation_split:
            if not isinstance(data, ArrayBatches):
                raise ValueError("validation_split is only supported for array inputs, not for "
                                 "DataLoaders or generators; pass validation_data instead")
            data, val = data.split(float(validation_split))
        elif validation_data is not None:
            val = self._validation_batches(validation_data,
                                           validation_batch_size or batch_size, validation_steps)
        first = next(iter(data.batches(False)), None)
        if first is None:
            raise ValueError("fit: the training data is empty")
        self._start(first[0])
        if not custom:
            self._prepare_training()
        cbs = callbacks_module.CallbackList(
            callbacks, add_history=True, add_progbar=verbose != 0, model=self, verbose=verbose,
            epochs=epochs, steps=data.steps or None, validation=val is not None)
        want_batches = cbs.wants_batches("train")
        self.stop_training = False
        cbs.on_train_begin()
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self.reset_metrics()
            cbs.on_epoch_begin(epoch)
            self.train(True)
            steps = 0
            step_logs = {}
            try:
                for step, (xb, yb, wb) in enumerate(data.batches(shuffle)):
                    if want_batches:
                        cbs.on_train_batch_begin(step)
                    if custom:
                        step_logs = self._custom_step("train_step", xb, yb, wb)
                    else:
                        self._train_batch(self._wrap_x(xb), self._to_device(yb),
                                          self._to_device(wb))
                    steps = step + 1
                    if want_batches:
                        cbs.on_train_batch_end(step, step_logs if custom else self._logs())
                    if self.stop_training:
                        break
            finally:
                self.train(False)
            epoch_logs = dict(step_logs) if custom else self._logs()
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_loop(val, cbs, in_fit=True)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            if cbs.progbar is not None:
                cbs.progbar.seen = steps
            cbs.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        cbs.on_train_end(epoch_logs)
        return cbs.history

    def _validation_batches(self, validation_data, batch_size, steps):
        from .data_adapter import is_iterable_data
        if is_iterable_data(validation_data):
            return make_batches(validation_data, steps=steps, who="validation_data")
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be (x_val, y_val), (x_val, y_val, "
                             "sample_weight) or a DataLoader")
        xv, yv = validation_data[0], validation_data[1]
        wv = validation_data[2] if len(validation_data) == 3 else None
        return self._batches(xv, yv, wv, batch_size, who="validation_data")

    # ------------------------------------------------------------------ evaluate
    def _evaluate_loop(self, data, cbs, in_fit=False):
        custom = self._overrides("test_step")
        if not custom and self._loss_obj is None:
            raise RuntimeError(f"{type(self).__name__} was compiled without a loss: override "
                               "test_step to validate or evaluate it")
        self.reset_metrics()
        want = cbs.wants_batches("test")
        cbs.on_test_begin()
        steps = 0
        logs = {}
        for step, (xb, yb, wb) in enumerate(data.batches(False)):
            if want:
                cbs.on_test_batch_begin(step)
            if custom:
                with grad_mode.no_grad():
                    logs = self._custom_step("test_step", xb, yb, wb)
            else:
                self._test_batch(self._wrap_x(xb), self._to_device(yb), self._to_device(wb))
            steps = step + 1
            if want:
                cbs.on_test_batch_end(step, logs if custom else self._logs())
        logs = dict(logs) if custom else self._logs()
        if cbs.progbar is not None and not in_fit:
            cbs.progbar.seen = steps
        cbs.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """The loss (and metrics) on data, in inference mode.

        Returns the loss alone when no metrics were compiled, else ``[loss, metric1, ...]``
        in the order given to ``compile`` (a dict with ``return_dict=True``).
        """
        self._check_compiled("evaluate", "test_step")
        verbose = _resolve_verbose(verbose)
        data = self._batches(x, y, sample_weight, batch_size, steps=steps, who="evaluate")
        first = next(iter(data.batches(False)), None)
        if first is None:
            raise ValueError("evaluate: the data is empty")
        self._start(first[0])
        self._setup_fusion()
        cbs = callbacks_module.CallbackList(callbacks, add_progbar=verbose != 0, model=self,
                                            verbose=verbose, epochs=1, steps=data.steps or None)
        logs = self._evaluate_loop(data, cbs)
        if return_dict:
            return logs
        return self._flatten_logs(logs, "test_step")

    def _flatten_logs(self, logs, step=None):
        if step is not None and self._overrides(step):
            values = list(logs.values())  # a custom step's dict, in its own order
        else:
            values = [logs[n] for n in self._flat_metric_names() if n in logs]
        return values[0] if len(values) == 1 else values
