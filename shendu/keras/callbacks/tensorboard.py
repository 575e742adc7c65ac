"""``TensorBoard``: Keras 3's callback that logs training to TensorBoard event files.

Written through ``shendu.utils.tensorboard.SummaryWriter`` (tensorboardX, the
``tensorboard`` extra: ``pip install "shendu[tensorboard]"``). The layout is Keras's, so
dashboards and scripts made for Keras runs read these the same way::

    log_dir/train/       epoch_loss, epoch_accuracy, ..., epoch_learning_rate (step = epoch)
                         batch_loss, ... (step = global batch, with update_freq)
                         <layer>/<weight>/histogram (every histogram_freq epochs)
                         the graph (once, when fit starts)
    log_dir/validation/  epoch_loss, epoch_accuracy, ... (the val_ metrics, prefix dropped)
                         evaluation_loss_vs_iterations, ... (step = optimizer iterations)

>>> import tempfile, numpy as np, shendu
>>> from shendu import keras
>>> from shendu.keras.callbacks.tensorboard import TensorBoard
>>> from shendu.utils.tensorboard import read_scalars
>>> model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> x = np.ones((8, 3), np.float32); y = np.zeros((8, 1), np.float32)
>>> log_dir = tempfile.mkdtemp()
>>> _ = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0,
...               callbacks=[TensorBoard(log_dir)])
>>> sorted(read_scalars(log_dir + "/train")), sorted(read_scalars(log_dir + "/validation"))
(['epoch_learning_rate', 'epoch_loss'], ['epoch_loss', 'evaluation_loss_vs_iterations'])
>>> [step for step, _ in read_scalars(log_dir + "/train")["epoch_loss"]]
[0, 1]
"""
from __future__ import annotations

import os
import time
import warnings

import numpy as np

from .base import Callback

__all__ = ["TensorBoard"]


class TensorBoard(Callback):
    """Log metrics, weight histograms and the model graph for TensorBoard (Keras 3's).

    Parameters
    ----------
    log_dir : str or path, default "logs"
        The run's folder; ``train/`` and ``validation/`` are made inside it. View with
        ``tensorboard --logdir logs``.
    histogram_freq : int, default 0
        Every this many epochs (epochs 0, freq, 2 freq, ...), a histogram of each weight
        (``dense/kernel/histogram``...); 0 for none.
    write_graph : bool, default True
        Write the model's op graph (one forward pass on a batch of zeros, see
        ``shendu.utils.tensorboard_graph``) and its Keras config (TensorBoard's
        "conceptual graph"), once when ``fit`` starts.
    write_images : bool, default False
        With the histograms, also each weight as images (``dense/kernel/image``), laid
        out as Keras does (a kernel ``(in, out)`` as one image; a conv kernel as one
        small image per filter), each scaled to its own min..max.
    write_steps_per_second : bool, default False
        Also log ``epoch_steps_per_second`` (and ``batch_steps_per_second`` with
        ``update_freq``).
    update_freq : "epoch", "batch" or int, default "epoch"
        ``"batch"`` or N: also log ``batch_<metric>`` (the running means of the epoch so
        far) every N training batches, at step = batches since ``fit`` began (from 1).
        Logging every batch slows training a little.
    profile_batch, embeddings_freq, embeddings_metadata
        Keras's TensorFlow profiler and embedding projector; not available here (0 /
        None only).
    """

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        from ...utils.tensorboard import require_tensorboardx
        require_tensorboardx("keras.callbacks.TensorBoard")
        if profile_batch not in (0, None, "0", (0, 0)):
            raise NotImplementedError("TensorBoard: profile_batch needs TensorFlow's profiler, "
                                      "which shendu does not have; leave it at 0")
        if embeddings_freq or embeddings_metadata is not None:
            raise NotImplementedError("TensorBoard: the embedding projector "
                                      "(embeddings_freq) is not supported in shendu.keras")
        if isinstance(histogram_freq, bool) or not isinstance(histogram_freq, int) \
                or histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be an int >= 0, got "
                             f"{histogram_freq!r}")
        if update_freq == "batch":
            update_freq = 1
        if update_freq != "epoch" and (isinstance(update_freq, bool) or
                                       not isinstance(update_freq, int) or update_freq < 1):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or an int "
                             f">= 1, got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = bool(write_graph)
        self.write_images = bool(write_images)
        self.write_steps_per_second = bool(write_steps_per_second)
        self.update_freq = update_freq
        self._writers = {}
        self._global_train_batch = 0
        self._graph_written = False
        self._epoch_start = None
        self._epoch_iterations = 0
        if update_freq != "epoch":
            # set per instance, so fit only pays for batch hooks when they log something
            self.on_train_batch_begin = self._train_batch_begin
            self.on_train_batch_end = self._train_batch_end

    # ------------------------------------------------------------------ writers
    def _writer(self, kind):
        if kind not in self._writers:
            from ...utils.tensorboard import SummaryWriter
            self._writers[kind] = SummaryWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def _close_writers(self):
        for w in self._writers.values():
            w.close()
        self._writers = {}

    def _iterations(self):
        return int(getattr(getattr(self.model, "optimizer", None), "iterations", 0) or 0)

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self._global_train_batch = 0
        if self.write_graph and not self._graph_written:
            self._write_graph()
            self._graph_written = True

    def on_train_end(self, logs=None):
        self._close_writers()

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start = time.perf_counter()
        self._epoch_iterations = self._iterations()

    def on_epoch_end(self, epoch, logs=None):
        self._log_epoch_metrics(epoch, logs or {})
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            self._log_weights(epoch)

    def on_test_end(self, logs=None):
        if logs and getattr(self.model, "optimizer", None) is not None:
            w = self._writer("validation")
            step = self._iterations()
            for name, value in logs.items():
                if _is_number(value):
                    w.add_scalar(f"evaluation_{name}_vs_iterations", float(value), step)
            w.flush()

    def _train_batch_begin(self, batch, logs=None):
        self._global_train_batch += 1
        self._batch_start = time.perf_counter()

    def _train_batch_end(self, batch, logs=None):
        step = self._global_train_batch
        if step % self.update_freq:
            return
        w = self._writer("train")
        if self.write_steps_per_second:
            seconds = time.perf_counter() - self._batch_start
            w.add_scalar("batch_steps_per_second", 1.0 / max(seconds, 1e-9), step)
        for name, value in (logs or {}).items():
            if _is_number(value):
                w.add_scalar("batch_" + name, float(value), step)

    # ------------------------------------------------------------------ epoch metrics
    def _log_epoch_metrics(self, epoch, logs):
        if not logs:
            return
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        val = {k[4:]: v for k, v in logs.items() if k.startswith("val_")}
        lr = getattr(getattr(self.model, "optimizer", None), "learning_rate", None)
        if _is_number(lr):
            train["learning_rate"] = float(lr)
        if self.write_steps_per_second and self._epoch_start is not None:
            seconds = time.perf_counter() - self._epoch_start
            train["steps_per_second"] = (self._iterations() - self._epoch_iterations) \
                / max(seconds, 1e-9)
        for kind, values in (("train", train), ("validation", val)):
            if values:
                w = self._writer(kind)
                for name, value in values.items():
                    if _is_number(value):
                        w.add_scalar("epoch_" + name, float(value), epoch)
                w.flush()

    # ------------------------------------------------------------------ weights
    def _weights(self):
        """``[(tag, array)]``: every weight under its Keras path inside the model
        (``dense/kernel``), or the ``nn`` parameter name for other modules."""
        model = self.model
        if hasattr(model, "_named_weights"):
            prefix = f"{model.name}/"
            return [(n[len(prefix):] if n.startswith(prefix) else n, t)
                    for n, t in model._named_weights()]
        return [(n.replace(".", "/"), t) for n, t in model.named_parameters()]

    def _log_weights(self, epoch):
        w = self._writer("train")
        for name, t in self._weights():
            values = np.asarray(t)
            if values.size == 0:
                continue
            w.add_histogram(f"{name}/histogram", values, epoch)
            if self.write_images:
                image = _weight_image(values)
                if image is not None:
                    w.add_images(f"{name}/image", image, epoch, dataformats="NHWC")
        w.flush()

    # ------------------------------------------------------------------ graph
    def _write_graph(self):
        w = self._writer("train")
        to_json = getattr(self.model, "to_json", None)
        if to_json is not None:
            try:
                config = to_json()
            except (NotImplementedError, TypeError, ValueError):
                config = None  # a subclassed model without a config: no conceptual graph
            if config is not None:
                from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
                from tensorboardX.proto.tensor_pb2 import TensorProto
                meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(
                    plugin_name="graph_keras_model", content=b"1"))
                tensor = TensorProto(dtype="DT_STRING", string_val=[config.encode("utf-8")])
                w.file_writer.add_summary(
                    Summary(value=[Summary.Value(tag="keras", metadata=meta, tensor=tensor)]),
                    global_step=0)
        shape = getattr(self.model, "input_shape", None)
        if not isinstance(shape, tuple):
            warnings.warn("TensorBoard: the op graph is only written for models with one "
                          f"input (input_shape {shape!r}); write_graph skipped it",
                          stacklevel=2)
            return
        w.add_graph(self.model)
        w.flush()


def _is_number(v):
    return isinstance(v, (int, float, np.number)) and not isinstance(v, bool) \
        or isinstance(v, np.ndarray) and v.size == 1


def _weight_image(w):
    """A weight as ``(N, H, W, 1)`` images in [0, 1], laid out as Keras does: a bias as
    one column, a kernel ``(in, out)`` as one image (the longer side across), a kernel
    ``(k, in, out)`` as ``out`` images ``(k, in)``; beyond Keras, a 2-D conv kernel
    ``(kh, kw, in, out)`` as ``out * in`` filters ``(kh, kw)``. Each image is scaled to
    its own min..max."""
    w = np.squeeze(w)
    if w.ndim == 0:
        return None
    if w.ndim == 1:
        w = w.reshape(1, -1, 1, 1)
    elif w.ndim == 2:
        if w.shape[0] > w.shape[1]:
            w = w.T
        w = w.reshape(1, w.shape[0], w.shape[1], 1)
    elif w.ndim == 3:  # channels_last: one image per entry of the last axis
        w = np.transpose(w, (2, 0, 1))[..., None]
    elif w.ndim == 4:
        kh, kw = w.shape[:2]
        w = np.transpose(w, (3, 2, 0, 1)).reshape(-1, kh, kw, 1)
    else:
        return None
    lo, hi = w.min(axis=(1, 2, 3), keepdims=True), w.max(axis=(1, 2, 3), keepdims=True)
    return ((w - lo) / np.where(hi > lo, hi - lo, 1.0)).astype(np.float32)
