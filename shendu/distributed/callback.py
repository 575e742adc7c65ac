"""``DistributedCallback``: data-parallel ``keras`` ``fit`` with one callback."""
from __future__ import annotations

import numpy as np

from ..autograd import grad_mode
from ..keras.callbacks.base import Callback
from .ddp import _Reducer
from .group import _broadcast_tensors, _group

# ------------------------------------------------------------------ Keras
class DistributedCallback(Callback):
    """Data-parallel ``keras`` ``fit``: one callback, first in the list.

    At the start of training it gives every rank the root rank's weights and averages the
    gradients of every training batch over the ranks (as ``DistributedDataParallel``
    does); at the end of each epoch it averages the logged metrics (loss, accuracy, val_*)
    over the ranks, so ``History``, ``EarlyStopping`` and checkpoints see the global
    figures. Each rank passes its own slice of the data, all with the same number of
    batches (checked at the start)::

        x_mine, y_mine = x[dist.get_rank()::dist.get_world_size()], ...
        model.fit(x_mine, y_mine, batch_size=64, epochs=5,
                  callbacks=[dist.DistributedCallback()],
                  verbose=1 if dist.is_main_process() else 0)

    In a world of one process it does nothing.
    """

    def __init__(self, root_rank=0, average_metrics=True, process_group=None):
        super().__init__()
        self.root_rank = root_rank
        self.average_metrics = bool(average_metrics)
        self.process_group = process_group
        self._reducer = None

    def on_train_begin(self, logs=None):
        group = self.process_group = _group(self.process_group)
        if group.size == 1:
            return
        steps = self.params.get("steps") if self.params else None
        if steps is not None:
            counts = group.allreduce_array(np.array([steps, -steps], dtype=np.int64), "max")
            if counts[0] != -counts[1]:
                raise ValueError(f"DistributedCallback: the ranks have different numbers of "
                                 f"batches per epoch ({-counts[1]} to {counts[0]}): give every "
                                 "rank a slice of the same length (DistributedSampler pads)")
        weights = self.model.weights
        with grad_mode.no_grad():
            _broadcast_tensors(weights, group, self.root_rank)
        trainable = self.model.trainable_weights
        self._reducer = _Reducer(trainable, [getattr(w, "name", None) or f"weight {i}"
                                             for i, w in enumerate(trainable)],
                                 group, "DistributedCallback")

    def on_train_batch_begin(self, batch, logs=None):
        if self._reducer is not None:
            self._reducer.check_finished()

    def on_epoch_end(self, epoch, logs=None):
        group = self.process_group
        if not self.average_metrics or logs is None or group is None or group.size == 1:
            return
        keys = sorted(k for k, v in logs.items() if isinstance(v, (int, float, np.number)))
        values = group.allreduce_array(np.array([float(logs[k]) for k in keys]), "avg")
        for k, v in zip(keys, values.tolist()):
            logs[k] = v

    def on_train_end(self, logs=None):
        if self._reducer is not None:
            self._reducer.remove()
            self._reducer = None
