"""TensorBoard logging: ``SummaryWriter`` with the names of ``torch.utils.tensorboard``.

``SummaryWriter(log_dir)`` writes TensorBoard event files (scalars, histograms, images,
text, the model graph, hyperparameters) under ``log_dir``; ``tensorboard --logdir runs``
shows them. It takes shendu Tensors, NumPy (and CuPy) arrays and Python numbers, and
writes through ``tensorboardX``'s event-file writer, an optional extra:
``pip install "shendu[tensorboard]"`` (or ``pip install tensorboardX``). TensorBoard itself
(``pip install tensorboard``) is only needed to look at the files.

An event file is a sequence of TFRecords, each holding one serialized ``Event`` protocol
buffer: ``uint64 length, uint32 masked_crc32c(length), bytes data, uint32
masked_crc32c(data)`` (little-endian). ``read_events`` reads them back, checking both
checksums, and ``read_scalars`` collects the scalars of a run.

>>> import tempfile, numpy as np, shendu
>>> from shendu.utils.tensorboard import SummaryWriter, read_scalars
>>> log_dir = tempfile.mkdtemp()
>>> with SummaryWriter(log_dir) as writer:
...     for step in range(3):
...         writer.add_scalar("loss", shendu.tensor(1.0 / (step + 1)), step)
...     writer.add_histogram("weights", np.arange(10.0), global_step=2)
>>> read_scalars(log_dir)["loss"]
[(0, 1.0), (1, 0.5), (2, 0.3333333432674408)]

(Scalars are stored as float32, hence the last digits.)
"""
from __future__ import annotations

import glob
import itertools
import os
import socket
import struct
import sys
import time
from datetime import datetime

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor

__all__ = ["SummaryWriter", "read_events", "read_scalars", "require_tensorboardx",
           "INSTALL_HINT"]

INSTALL_HINT = 'pip install "shendu[tensorboard]" (or pip install tensorboardX)'
_file_counter = itertools.count()


def require_tensorboardx(who):
    """The ``tensorboardX`` module, or an ImportError that says how to install it."""
    try:
        import tensorboardX
    except ImportError:
        raise ImportError(f"{who} needs tensorboardX, an optional extra that is not "
                          f"installed: {INSTALL_HINT}") from None
    return tensorboardX


def _to_numpy(x, who, name):
    """A NumPy array of numbers from a Tensor, NumPy/CuPy array, torch tensor, list or
    Python number (the data is read, never changed)."""
    data = x._data if isinstance(x, Tensor) else x
    if hasattr(data, "detach") and hasattr(data, "cpu"):  # a torch tensor
        data = data.detach().cpu().numpy()
    if not isinstance(data, (np.ndarray, list, tuple, int, float, np.generic)) \
            and backend.get_array_module(data) is not np:  # CuPy
        data = backend.move(data, backend.Device("cpu"))
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{who}: {name} must be a Tensor, an array or a number, got "
                        f"{type(x).__name__} ({exc})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{who}: {name} must hold numbers, got {type(x).__name__} of dtype "
                        f"{arr.dtype}")
    return arr


def _check_tag(tag, who):
    if not isinstance(tag, str) or not tag:
        raise TypeError(f"{who}: tag must be a non-empty string, got {tag!r}")


def _step(global_step, who):
    if global_step is None:
        return None
    value = _to_numpy(global_step, who, "global_step")
    if value.size != 1 or value.dtype.kind not in "iub":
        raise TypeError(f"{who}: global_step must be an integer, got {global_step!r}")
    return int(value.reshape(()))


def _to_uint8(arr):
    """Image values as uint8, as PyTorch does: uint8 stays, anything else is taken to be
    in [0, 1] and becomes ``clip(x * 255, 0, 255)``."""
    if arr.dtype == np.uint8:
        return arr
    return np.clip(arr.astype(np.float32) * 255.0, 0, 255).astype(np.uint8)


def _check_image(arr, dataformats, who, batched):
    allowed = ("NCHW", "NHWC", "CHW", "HWC", "HW") if batched else ("CHW", "HWC", "HW")
    if not isinstance(dataformats, str) or dataformats.upper() not in allowed:
        raise ValueError(f"{who}: dataformats must be one of {allowed}, got {dataformats!r}")
    fmt = dataformats.upper()
    if arr.ndim != len(fmt):
        raise ValueError(f"{who}: dataformats={dataformats!r} needs a {len(fmt)}-d array, got "
                         f"shape {arr.shape}")
    if "C" in fmt and arr.shape[fmt.index("C")] not in (1, 3, 4):
        raise ValueError(f"{who}: an image has 1 (grey), 3 (RGB) or 4 (RGBA) channels; "
                         f"shape {arr.shape} with dataformats={dataformats!r} has "
                         f"{arr.shape[fmt.index('C')]}")
    if arr.size == 0:
        raise ValueError(f"{who}: the image is empty (shape {arr.shape})")
    return fmt


def _figure_to_hwc(figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[:, :, :3].copy()


class SummaryWriter:
    """Writes TensorBoard event files to ``log_dir``; PyTorch's ``SummaryWriter`` API.

    Parameters
    ----------
    log_dir : str or path, optional
        Default ``runs/<Mon DD_HH-MM-SS>_<hostname><comment>``, a new folder each run.
        One folder is one run in TensorBoard: ``runs/exp1``, ``runs/exp2`` to compare.
    comment : str
        Appended to the default ``log_dir`` (ignored when ``log_dir`` is given).
    purge_step : int, optional
        Resuming after a crash at step T + X from a checkpoint at step T: events with
        ``step >= purge_step`` already on disk are hidden by TensorBoard.
    max_queue : int
        Events held in memory before a write to disk (default 10).
    flush_secs : float
        A background thread writes pending events at least this often (default 120 s).
    filename_suffix : str
        Appended to the event file's name, which is
        ``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>`` (pid and a counter keep
        two writers in one folder from overwriting each other's file).

    Every ``add_*`` takes ``global_step`` (the x axis; an int) and ``walltime`` (seconds
    since the epoch; default now). Values may be shendu Tensors (also ones that require
    grad: the data is read), NumPy or CuPy arrays, torch tensors or Python numbers.
    Use it as a context manager, or call ``close()``, so nothing pending is lost.
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        tbx = require_tensorboardx("shendu.utils.tensorboard.SummaryWriter")
        if not log_dir:
            stamp = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", f"{stamp}_{socket.gethostname()}{comment}")
        self.log_dir = os.fspath(log_dir)
        self._suffix = filename_suffix
        self._writer = tbx.SummaryWriter(logdir=self.log_dir, purge_step=purge_step,
                                         max_queue=max_queue, flush_secs=flush_secs,
                                         filename_suffix=self._unique_suffix())

    def _unique_suffix(self):
        # tensorboardX names files by the second and the host only: a second file in the
        # same folder within that second would overwrite the first
        return f".{os.getpid()}.{next(_file_counter)}{self._suffix}"

    # ------------------------------------------------------------------ plumbing
    def get_logdir(self):
        """The folder the event files go to."""
        return self.log_dir

    @property
    def file_writer(self):
        """tensorboardX's ``FileWriter`` (``add_event``, ``add_summary``) for raw protos."""
        return self._writer._get_file_writer()

    def flush(self):
        """Write everything pending to disk now."""
        self._writer.flush()

    def close(self):
        """Flush and close the event files (a later ``add_*`` opens a new one)."""
        self._writer.close()
        self._writer._filename_suffix = self._unique_suffix()  # for the file it reopens

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def __repr__(self):
        return f"SummaryWriter(log_dir={self.log_dir!r})"

    # ------------------------------------------------------------------ scalars
    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None, new_style=False,
                   double_precision=False):
        """Log one number: a point of the curve ``tag`` at x = ``global_step``.

        ``scalar_value`` is a number or a one-element Tensor/array. The classic record
        stores it as float32 (``simple_value``); ``new_style=True`` stores a tensor for
        TensorBoard's ``scalars`` plugin instead (float64 with ``double_precision=True``).
        """
        who = "SummaryWriter.add_scalar"
        _check_tag(tag, who)
        value = self._scalar(scalar_value, who, "scalar_value")
        if not new_style:
            self._writer.add_scalar(tag, value, _step(global_step, who), walltime)
            return
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        tensor = TensorProto(dtype="DT_DOUBLE", double_val=[value]) if double_precision \
            else TensorProto(dtype="DT_FLOAT", float_val=[value])
        meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="scalars"))
        summary = Summary(value=[Summary.Value(tag=tag, tensor=tensor, metadata=meta)])
        self.file_writer.add_summary(summary, _step(global_step, who), walltime)

    @staticmethod
    def _scalar(value, who, name):
        arr = _to_numpy(value, who, name)
        if arr.size != 1:
            raise ValueError(f"{who}: {name} must be a single number, got shape {arr.shape}; "
                             "log a summary of it (.mean()) or use add_histogram")
        return float(arr.reshape(()))

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Several curves in one chart ``main_tag``: ``{"train": 0.3, "test": 0.4}``.

        As in PyTorch, each curve is written as the scalar ``main_tag`` of its own run,
        in the sub-folder ``log_dir/<main_tag>_<key>`` (so TensorBoard overlays them).
        """
        who = "SummaryWriter.add_scalars"
        _check_tag(main_tag, who)
        if not isinstance(tag_scalar_dict, dict) or not tag_scalar_dict:
            raise TypeError(f"{who}: tag_scalar_dict must be a non-empty dict "
                            f"{{name: number}}, got {type(tag_scalar_dict).__name__}")
        values = {str(k): self._scalar(v, who, f"tag_scalar_dict[{k!r}]")
                  for k, v in tag_scalar_dict.items()}
        walltime = time.time() if walltime is None else walltime
        step = _step(global_step, who)
        # tensorboardX names the sub-folders log_dir/main_tag/key; PyTorch (and so the
        # runs users know) uses log_dir/main_tag_key: write through PyTorch's layout
        from tensorboardX.writer import FileWriter
        from tensorboardX.summary import scalar
        self._writer._get_file_writer()  # (re)opens the writers after a close()
        writers = self._writer.all_writers  # flushed and closed with the main one
        for key, value in values.items():
            sub_dir = os.path.join(self.log_dir, f"{main_tag.replace('/', '_')}_{key}")
            fw = writers.get(sub_dir)
            if fw is None:
                fw = writers[sub_dir] = FileWriter(
                    sub_dir, self._writer._max_queue, self._writer._flush_secs,
                    self._writer._filename_suffix)
            fw.add_summary(scalar(main_tag, value), step, walltime)

    # ------------------------------------------------------------------ histograms
    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """The distribution of ``values`` (any shape; e.g. a layer's weights).

        ``bins="tensorflow"`` uses TensorFlow's buckets (edges ``+-1e-12 * 1.1**k``, fine
        near zero, coarse far away); any ``numpy.histogram`` ``bins`` works too
        (``"auto"``, ``"fd"``, an int, a list of edges). ``max_bins`` merges neighbouring
        buckets down to at most that many.
        """
        who = "SummaryWriter.add_histogram"
        _check_tag(tag, who)
        arr = _to_numpy(values, who, "values").astype(np.float64)
        if arr.size == 0:
            raise ValueError(f"{who}: values is empty (shape {arr.shape}); nothing to count")
        if not np.isfinite(arr).all():
            bad = int((~np.isfinite(arr)).sum())
            raise ValueError(f"{who}: values for {tag!r} hold {bad} NaN or infinite "
                             f"entries of {arr.size}; a histogram needs finite numbers")
        self._writer.add_histogram(tag, arr, _step(global_step, who), bins=bins,
                                   walltime=walltime, max_bins=max_bins)

    # ------------------------------------------------------------------ images
    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """One image. ``img_tensor`` is ``(C, H, W)`` by default (``dataformats`` "HWC",
        "HW" for others) with C = 1, 3 or 4; float values in [0, 1] (clipped) or uint8 in
        [0, 255]. Needs Pillow (matplotlib already depends on it)."""
        who = "SummaryWriter.add_image"
        _check_tag(tag, who)
        arr = _to_numpy(img_tensor, who, "img_tensor")
        fmt = _check_image(arr, dataformats, who, batched=False)
        self._writer.add_image(tag, _to_uint8(arr), _step(global_step, who), walltime,
                               dataformats=fmt)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None,
                   dataformats="NCHW"):
        """A batch of images shown as one grid (8 per row): ``(N, C, H, W)`` by default
        ("NHWC" also), or a list of ``(C, H, W)`` / ``(H, W, C)`` images of one size with
        ``dataformats="CHW"`` / ``"HWC"``."""
        who = "SummaryWriter.add_images"
        _check_tag(tag, who)
        if isinstance(img_tensor, (list, tuple)):
            if not isinstance(dataformats, str) or dataformats.upper() not in ("CHW", "HWC"):
                raise ValueError(f"{who}: a list of images needs dataformats 'CHW' or 'HWC' "
                                 f"(the layout of each image), got {dataformats!r}")
            images = [_to_numpy(x, who, f"img_tensor[{i}]") for i, x in enumerate(img_tensor)]
            if not images or len({x.shape for x in images}) != 1:
                raise ValueError(f"{who}: the list must hold images of one shape, got "
                                 f"{[x.shape for x in images]}")
            arr, dataformats = np.stack(images), "N" + dataformats.upper()
        else:
            arr = _to_numpy(img_tensor, who, "img_tensor")
        fmt = _check_image(arr, dataformats, who, batched=True)
        if len(fmt) < 4:
            self.add_image(tag, arr, global_step, walltime, dataformats=fmt)
            return
        self._writer.add_images(tag, _to_uint8(arr), _step(global_step, who), walltime,
                                dataformats=fmt)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """A matplotlib ``Figure`` (e.g. from ``shendu.viz``), or a list of them as a grid,
        rendered to an RGB image. ``close`` closes a pyplot figure afterwards."""
        who = "SummaryWriter.add_figure"
        _check_tag(tag, who)
        figures = figure if isinstance(figure, (list, tuple)) else [figure]
        if not figures or not all(hasattr(f, "savefig") for f in figures):
            raise TypeError(f"{who}: figure must be a matplotlib Figure or a list of them, got "
                            f"{type(figure).__name__}")
        images = [_figure_to_hwc(f) for f in figures]
        if close and "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt
            for f in figures:
                plt.close(f)
        if isinstance(figure, (list, tuple)):
            self.add_images(tag, images, global_step, walltime, dataformats="HWC")
        else:
            self.add_image(tag, images[0], global_step, walltime, dataformats="HWC")

    # ------------------------------------------------------------------ text, graph
    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """A piece of text (Markdown) under ``tag`` in TensorBoard's Text tab. It is stored
        as the tag ``<tag>/text_summary``, as PyTorch does."""
        who = "SummaryWriter.add_text"
        _check_tag(tag, who)
        if not isinstance(text_string, str):
            raise TypeError(f"{who}: text_string must be a str, got "
                            f"{type(text_string).__name__}")
        self._writer.add_text(tag, text_string, _step(global_step, who), walltime)

    def add_graph(self, model, input_to_model=None, verbose=False):
        """The graph of ops ``model(*input_to_model)`` runs, for TensorBoard's Graphs tab.

        ``input_to_model`` is an example input (a Tensor, array or tuple of them; left out
        for a built Keras model). The model runs once in evaluation mode; ops are grouped
        by the module that ran them. See ``shendu.utils.tensorboard_graph.model_graph``.
        """
        from tensorboardX.proto.event_pb2 import Event

        from .tensorboard_graph import model_graph
        graph = model_graph(model, input_to_model, verbose=verbose)
        self.file_writer.add_event(Event(graph_def=graph.SerializeToString()))

    # ------------------------------------------------------------------ hparams
    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None):
        """One trial for TensorBoard's HParams tab: its hyperparameters and final metrics.

        Parameters
        ----------
        hparam_dict : dict ``{name: bool | str | number}``
        metric_dict : dict ``{tag: number}``; each is also written as a scalar. Use tags
            not logged elsewhere (``"hparam/accuracy"``), or the tab shows those instead.
        hparam_domain_discrete : dict ``{name: [values]}``, optional
            The values a hyperparameter can take, for the tab's filters.
        run_name : str, optional
            The trial's sub-folder of ``log_dir`` (default: the current time).
        """
        who = "SummaryWriter.add_hparams"
        if not isinstance(hparam_dict, dict) or not isinstance(metric_dict, dict):
            raise TypeError(f"{who}: hparam_dict and metric_dict must be dicts, got "
                            f"{type(hparam_dict).__name__} and {type(metric_dict).__name__}")
        hparams = {}
        for k, v in hparam_dict.items():
            if not isinstance(v, (bool, str, int, float)):
                arr = _to_numpy(v, who, f"hparam_dict[{k!r}]")
                if arr.size != 1:
                    raise ValueError(f"{who}: hparam_dict[{k!r}] must be a bool, str or number, "
                                     f"got shape {arr.shape}")
                v = arr.reshape(()).item()
            hparams[k] = v
        metrics = {k: self._scalar(v, who, f"metric_dict[{k!r}]") for k, v in metric_dict.items()}
        domain = dict(hparam_domain_discrete or {})
        for k, values in domain.items():
            if k not in hparams:
                raise ValueError(f"{who}: hparam_domain_discrete names {k!r}, which is not in "
                                 f"hparam_dict ({sorted(hparams)})")
            if not isinstance(values, (list, tuple)) or not all(
                    type(x) is type(hparams[k]) or isinstance(x, (int, float)) and
                    isinstance(hparams[k], (int, float)) for x in values):
                raise TypeError(f"{who}: hparam_domain_discrete[{k!r}] must be a list of values "
                                f"of the hyperparameter's type, got {values!r}")
        from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
        from tensorboardX.summary import hparams as hparams_summaries
        exp, ssi, sei = hparams_summaries(hparams, metrics)
        if domain:
            meta = exp.value[0].metadata.plugin_data
            data = HParamsPluginData.FromString(meta.content)
            for info in data.experiment.hparam_infos:
                if info.name in domain:
                    info.domain_discrete.extend(list(domain[info.name]))
            meta.content = data.SerializeToString()
        run_name = run_name or str(time.time())
        step = _step(global_step, who)
        with SummaryWriter(os.path.join(self.log_dir, run_name)) as trial:
            for summary in (exp, ssi, sei):
                trial.file_writer.add_summary(summary)
            for k, v in metrics.items():
                trial.add_scalar(k, v, step)


# ---------------------------------------------------------------------- reading back
def _event_files(path):
    path = os.fspath(path)
    if os.path.isdir(path):
        files = sorted(glob.glob(os.path.join(path, "*tfevents*")))
        if not files:
            raise FileNotFoundError(f"read_events: no event file (*tfevents*) in {path!r}; "
                                    "sub-folders (train/, validation/) are runs of their own")
        return files
    if not os.path.exists(path):
        raise FileNotFoundError(f"read_events: {path!r} does not exist")
    return [path]


def read_events(path, verify_crc=True):
    """Every ``Event`` protocol buffer in an event file, or in the event files of a folder
    (sorted by name, so in the order they were created; not its sub-folders).

    ``verify_crc`` checks each record's two masked CRC-32C checksums and raises
    ``ValueError`` on a corrupt or truncated record (a file still being written can end
    in a partial record: that one is left out).
    """
    require_tensorboardx("shendu.utils.tensorboard.read_events")
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import masked_crc32c
    events = []
    for name in _event_files(path):
        with open(name, "rb") as f:
            blob = f.read()
        pos = 0
        while pos + 12 <= len(blob):
            header = blob[pos:pos + 8]
            (length,), (header_crc,) = struct.unpack("<Q", header), \
                struct.unpack("<I", blob[pos + 8:pos + 12])
            end = pos + 12 + length + 4
            if end > len(blob):
                break  # a record still being written
            data = blob[pos + 12:pos + 12 + length]
            (data_crc,) = struct.unpack("<I", blob[end - 4:end])
            if verify_crc and (masked_crc32c(header) != header_crc
                               or masked_crc32c(data) != data_crc):
                raise ValueError(f"read_events: corrupt record at byte {pos} of {name!r} "
                                 "(CRC-32C mismatch)")
            events.append(Event.FromString(data))
            pos = end
    return events


def read_scalars(path):
    """``{tag: [(step, value), ...]}`` of the scalars in ``path`` (see ``read_events``),
    classic (``simple_value``) and ``new_style`` ones, in the order written."""
    out = {}
    for event in read_events(path):
        if not event.HasField("summary"):
            continue
        for v in event.summary.value:
            if v.HasField("simple_value"):
                value = v.simple_value
            elif v.metadata.plugin_data.plugin_name == "scalars" and v.HasField("tensor"):
                t = v.tensor
                value = (list(t.double_val) or list(t.float_val))[0]
            else:
                continue
            out.setdefault(v.tag, []).append((int(event.step), float(value)))
    return out
