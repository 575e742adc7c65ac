"""TensorBoard logging (shendu.utils.tensorboard, keras.callbacks.TensorBoard): everything
is written, then read back from the event files (TFRecords with CRC-32C checks, parsed
with tensorboardX's Event proto) and checked by tag, step and value.

Scalars are stored as float32 (``simple_value``), so they are compared at float32
precision (rel 1e-7 of a float32 rounding); new-style double-precision ones exactly.
"""
import io
import os
import sys

import numpy as np
import pytest

import shendu
from shendu import keras, nn

pytest.importorskip("tensorboardX",
                    reason='tensorboardX is not installed: pip install "shendu[tensorboard]"')

from shendu.keras.callbacks.tensorboard import TensorBoard  # noqa: E402
from shendu.utils.tensorboard import SummaryWriter, read_events, read_scalars  # noqa: E402
from shendu.utils.tensorboard_graph import model_graph  # noqa: E402


def f32(x):
    return float(np.float32(x))


def summaries(path):
    """``[(step, wall_time, Summary.Value)]`` of every summary value under ``path``."""
    return [(e.step, e.wall_time, v) for e in read_events(path) if e.HasField("summary")
            for v in e.summary.value]


def values_of(path, tag):
    return [(step, v) for step, _, v in summaries(path) if v.tag == tag]


def decode_png(value):
    from PIL import Image
    img = value.image
    arr = np.asarray(Image.open(io.BytesIO(img.encoded_image_string)))
    assert arr.shape[:2] == (img.height, img.width)
    return arr


def graph_of(path):
    from tensorboardX.proto.graph_pb2 import GraphDef
    graphs = [GraphDef.FromString(e.graph_def) for e in read_events(path)
              if e.HasField("graph_def")]
    assert len(graphs) == 1
    return {n.name: n for n in graphs[0].node}


def shapes(node):
    return [[d.size for d in s.dim] for s in node.attr["_output_shapes"].list.shape]


# ---------------------------------------------------------------------- scalars
def test_scalars_read_back_with_steps_values_and_walltime(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("loss", shendu.tensor(0.25), 0, walltime=1000.0)
        w.add_scalar("loss", np.float32(0.125), np.int64(1), walltime=1001.5)
        w.add_scalar("loss", 1 / 3, shendu.tensor(2), walltime=1002.0)
        w.add_scalar("acc", shendu.tensor([0.9], requires_grad=True), 2)  # data is read
        w.add_scalar("exact", 1 / 3, 5, new_style=True, double_precision=True)
    events = read_events(tmp_path)
    assert events[0].file_version == "brain.Event:2"
    got = read_scalars(tmp_path)
    assert got["loss"] == [(0, 0.25), (1, 0.125), (2, f32(1 / 3))]
    assert got["acc"] == [(2, f32(0.9))]
    assert got["exact"] == [(5, 1 / 3)]
    walls = [wall for _, wall, v in summaries(tmp_path) if v.tag == "loss"]
    assert walls == [1000.0, 1001.5, 1002.0]
    (_, v), = values_of(tmp_path, "exact")
    assert v.metadata.plugin_data.plugin_name == "scalars"


def test_scalar_errors_name_the_method_and_the_value(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match=r"add_scalar: scalar_value must be a single "
                                             r"number, got shape \(3,\)"):
            w.add_scalar("x", np.ones(3), 0)
        with pytest.raises(TypeError, match="add_scalar: scalar_value must hold numbers"):
            w.add_scalar("x", "high", 0)
        with pytest.raises(TypeError, match="tag must be a non-empty string"):
            w.add_scalar("", 1.0)
        with pytest.raises(TypeError, match="global_step must be an integer"):
            w.add_scalar("x", 1.0, 1.5)


def test_add_scalars_writes_one_run_per_curve_in_pytorch_layout(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(3):
            w.add_scalars("loss", {"train": 1.0 / (step + 1), "test": 2.0 * step}, step)
    assert os.listdir(tmp_path / "loss_train") and os.listdir(tmp_path / "loss_test")
    assert read_scalars(tmp_path / "loss_train")["loss"] == [(0, 1.0), (1, 0.5),
                                                             (2, f32(1 / 3))]
    assert read_scalars(tmp_path / "loss_test")["loss"] == [(0, 0.0), (1, 2.0), (2, 4.0)]


def test_default_log_dir_is_runs_time_host_comment(tmp_path, monkeypatch):
    import socket
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_lr0.1") as w:
        w.add_scalar("x", 1.0, 0)
    (run,) = os.listdir(tmp_path / "runs")
    assert run.endswith(f"_{socket.gethostname()}_lr0.1")
    assert w.get_logdir() == os.path.join("runs", run)
    assert read_scalars(tmp_path / "runs" / run)["x"] == [(0, 1.0)]


def test_two_writers_in_one_folder_keep_both_files(tmp_path):
    a, b = SummaryWriter(tmp_path), SummaryWriter(tmp_path)  # same second, same host
    a.add_scalar("a", 1.0, 0)
    b.add_scalar("b", 2.0, 0)
    a.close()
    b.close()
    assert len([f for f in os.listdir(tmp_path) if "tfevents" in f]) == 2
    assert read_scalars(tmp_path) == {"a": [(0, 1.0)], "b": [(0, 2.0)]}


def test_writing_after_close_opens_a_new_file(tmp_path):
    w = SummaryWriter(tmp_path)
    w.add_scalar("x", 1.0, 0)
    w.close()
    w.add_scalar("x", 2.0, 1)
    w.close()
    assert read_scalars(tmp_path)["x"] == [(0, 1.0), (1, 2.0)]


# ---------------------------------------------------------------------- histograms
def test_histogram_statistics_and_buckets(tmp_path):
    values = np.random.default_rng(0).standard_normal(1000).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_histogram("w", shendu.tensor(values, requires_grad=True), 3)
        w.add_histogram("w_auto", values, 4, bins="auto")
        w.add_histogram("w_10", values.reshape(10, 100), 5, bins=10)
    (step, v), = values_of(tmp_path, "w")
    h, x = v.histo, values.astype(np.float64)
    assert step == 3 and h.num == 1000
    assert h.min == pytest.approx(x.min()) and h.max == pytest.approx(x.max())
    assert h.sum == pytest.approx(x.sum()) and h.sum_squares == pytest.approx(x @ x)
    assert sum(h.bucket) == 1000 and len(h.bucket) == len(h.bucket_limit)
    # TensorFlow's buckets: consecutive edges grow by 1.1 away from zero
    limits = np.array(h.bucket_limit[1:-1])
    pos = limits[limits > 1e-3]
    np.testing.assert_allclose(pos[1:] / pos[:-1], 1.1, rtol=1e-6)
    (_, v10), = values_of(tmp_path, "w_10")
    counts, edges = np.histogram(x, bins=10)
    assert list(v10.histo.bucket)[-10:] == counts.tolist()
    np.testing.assert_allclose(list(v10.histo.bucket_limit)[-10:], edges[1:])
    assert values_of(tmp_path, "w_auto")[0][1].histo.num == 1000


def test_histogram_refuses_nan_and_empty(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match="hold 1 NaN or infinite entries of 3"):
            w.add_histogram("w", np.array([1.0, np.nan, 2.0]), 0)
        with pytest.raises(ValueError, match="values is empty"):
            w.add_histogram("w", np.zeros((0, 3)), 0)


# ---------------------------------------------------------------------- images
def test_images_are_scaled_clipped_and_laid_out(tmp_path):
    chw = np.zeros((3, 4, 5), np.float32)
    chw[0] = 0.5
    chw[1] = 2.0     # clipped to 255
    chw[2] = -1.0    # clipped to 0
    with SummaryWriter(tmp_path) as w:
        w.add_image("chw", shendu.tensor(chw), 0)
        w.add_image("hwc", chw.transpose(1, 2, 0), 1, dataformats="HWC")
        w.add_image("grey", np.full((4, 5), 200, np.uint8), 2, dataformats="HW")
        w.add_images("batch", np.ones((3, 1, 4, 5), np.float32), 3)
        w.add_images("list", [chw, chw], 4, dataformats="CHW")
    px = decode_png(values_of(tmp_path, "chw")[0][1])
    assert px.shape == (4, 5, 3) and (px[..., 0] == 127).all() and (px[..., 1] == 255).all() \
        and (px[..., 2] == 0).all()
    np.testing.assert_array_equal(decode_png(values_of(tmp_path, "hwc")[0][1]), px)
    grey = decode_png(values_of(tmp_path, "grey")[0][1])
    assert grey.shape == (4, 5, 3) and (grey == 200).all()
    step, batch = values_of(tmp_path, "batch")[0]
    assert step == 3 and decode_png(batch).shape == (4, 15, 3)  # 3 images in one row
    assert decode_png(values_of(tmp_path, "list")[0][1]).shape == (4, 10, 3)


def test_image_errors(tmp_path):
    with SummaryWriter(tmp_path) as w:
        with pytest.raises(ValueError, match=r"1 \(grey\), 3 \(RGB\) or 4 \(RGBA\) channels"):
            w.add_image("x", np.zeros((2, 4, 4)), 0)
        with pytest.raises(ValueError, match=r"dataformats='CHW' needs a 3-d array, got shape"):
            w.add_image("x", np.zeros((4, 4)), 0)
        with pytest.raises(ValueError, match="dataformats must be one of"):
            w.add_image("x", np.zeros((4, 4, 3)), 0, dataformats="WHC")
        with pytest.raises(ValueError, match="images of one shape"):
            w.add_images("x", [np.zeros((3, 4, 4)), np.zeros((3, 5, 4))], dataformats="CHW")


def test_add_figure_renders_a_matplotlib_figure(tmp_path):
    pytest.importorskip("matplotlib", reason="matplotlib is not installed")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(2, 1), dpi=50)
    fig.add_subplot().plot([0, 1], [1, 0])
    with SummaryWriter(tmp_path) as w:
        w.add_figure("curve", fig, 7)
    step, v = values_of(tmp_path, "curve")[0]
    px = decode_png(v)
    assert step == 7 and px.shape == (50, 100, 3)
    assert px.min() < 100 and px.max() == 255  # a dark line on white


# ---------------------------------------------------------------------- text, hparams
def test_text(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "lr **0.1**, 深度", 2)
        with pytest.raises(TypeError, match="text_string must be a str"):
            w.add_text("notes", 3)
    (step, v), = values_of(tmp_path, "notes/text_summary")
    assert step == 2 and v.metadata.plugin_data.plugin_name == "text"
    assert v.tensor.string_val[0].decode("utf-8") == "lr **0.1**, 深度"


def test_hparams_session_and_discrete_domain(tmp_path):
    from tensorboardX.proto.plugin_hparams_pb2 import HParamsPluginData
    with SummaryWriter(tmp_path) as w:
        w.add_hparams({"lr": 0.1, "optimizer": "adam", "bn": True, "units": np.int64(32)},
                      {"hparam/accuracy": shendu.tensor(0.75)},
                      hparam_domain_discrete={"optimizer": ["adam", "sgd"]},
                      run_name="trial0")
        with pytest.raises(ValueError, match="names 'momentum', which is not in hparam_dict"):
            w.add_hparams({"lr": 0.1}, {"m": 1.0}, hparam_domain_discrete={"momentum": [0.9]})
    run = tmp_path / "trial0"
    assert read_scalars(run)["hparam/accuracy"] == [(0, 0.75)]
    tags = {v.tag: v for _, _, v in summaries(run)}
    exp = HParamsPluginData.FromString(tags["_hparams_/experiment"].metadata.plugin_data.content)
    infos = {i.name: i for i in exp.experiment.hparam_infos}
    assert list(infos["optimizer"].domain_discrete) == ["adam", "sgd"]
    assert [m.name.tag for m in exp.experiment.metric_infos] == ["hparam/accuracy"]
    start = HParamsPluginData.FromString(
        tags["_hparams_/session_start_info"].metadata.plugin_data.content).session_start_info
    assert start.hparams["lr"].number_value == 0.1
    assert start.hparams["units"].number_value == 32
    assert start.hparams["optimizer"].string_value == "adam" and start.hparams["bn"].bool_value


# ---------------------------------------------------------------------- graphs
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 2, 3)
        self.drop = nn.Dropout(0.5)
        self.fc = nn.Linear(2 * 4 * 4, 3)

    def forward(self, x):
        h = self.drop(self.conv(x).relu())
        return self.fc(h.reshape(x.shape[0], -1))


def test_add_graph_of_an_nn_module(tmp_path):
    net = Net()
    net.train()
    with SummaryWriter(tmp_path) as w:
        w.add_graph(net, shendu.randn(2, 1, 6, 6))
    nodes = graph_of(tmp_path)
    conv = nodes["Net/Conv2d[conv]/Conv"]
    assert conv.op == "Conv" and list(conv.input) == [
        "input/input_0", "Net/Conv2d[conv]/weight", "Net/Conv2d[conv]/bias"]
    assert shapes(conv) == [[2, 2, 4, 4]]
    assert nodes["Net/Conv2d[conv]/weight"].op == "Parameter"
    assert shapes(nodes["Net/Conv2d[conv]/weight"]) == [[2, 1, 3, 3]]
    # ops in the model's own forward are in its scope; Dropout ran in eval mode (no op)
    assert list(nodes["Net/ReLU"].input) == ["Net/Conv2d[conv]/Conv"]
    assert list(nodes["Net/Reshape"].input) == ["Net/ReLU"]
    assert not any("Dropout" in n for n in nodes)
    assert list(nodes["Net/Linear[fc]/Linear"].input)[0] == "Net/Reshape"
    assert list(nodes["output/output_0"].input) == ["Net/Linear[fc]/Linear"]
    assert nodes["input/input_0"].op == "IO Node" and shapes(nodes["input/input_0"]) == [
        [2, 1, 6, 6]]
    assert nodes["input/input_0"].attr["dtype"].type == 1  # DT_FLOAT
    # the model is left as it was: training mode, no wrappers
    assert net.training and net.drop.training
    assert all("forward" not in m.__dict__ for m in net.modules())


def test_graph_of_a_keras_model_uses_layer_names(tmp_path):
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(3, activation="relu", name="dense"),
                              keras.layers.Dense(2, name="head")], name="sequential")
    nodes = {n.name: n for n in model_graph(model).node}  # input from model.input_shape
    assert shapes(nodes["input/input_0"]) == [[1, 4]]
    assert list(nodes["sequential/dense/MatMul"].input) == ["input/input_0",
                                                            "sequential/dense/kernel"]
    assert list(nodes["sequential/dense/ReLU"].input) == ["sequential/dense/Add"]
    assert list(nodes["sequential/head/MatMul"].input) == ["sequential/dense/ReLU",
                                                           "sequential/head/kernel"]
    assert all("call" not in m.__dict__ for m in model.modules())


def test_graph_of_shared_layers_frozen_models_and_several_outputs():
    lin = nn.Linear(3, 3)
    shared = nn.Sequential(lin, nn.Tanh(), lin)  # one Linear used twice
    shared.requires_grad_(False)  # nothing requires grad: the graph is recorded anyway
    nodes = {n.name: n for n in model_graph(shared, np.zeros((2, 3), np.float32)).node}
    assert list(nodes["Sequential/Linear[0]/Linear_1"].input)[0] == "Sequential/Tanh[1]/Tanh"
    assert sum(n.op == "Parameter" for n in nodes.values()) == 2

    lstm = nn.LSTM(3, 4, batch_first=True)
    g = {n.name: n for n in model_graph(lstm, shendu.randn(2, 5, 3)).node}
    outs = [g[f"output/output_{i}"] for i in range(3)]  # output, (h, c)
    assert shapes(outs[0]) == [[2, 5, 4]] and shapes(outs[1]) == [[1, 2, 4]]
    cell = next(n for n in g.values() if n.op == "LSTMLayer")
    assert len(shapes(cell)) == 3
    refs = [i for n in g.values() for i in n.input]
    assert f"{cell.name}:1" in refs and f"{cell.name}:2" in refs


def test_graph_needs_an_input_for_an_nn_module():
    with pytest.raises(ValueError, match="Linear needs an example input"):
        model_graph(nn.Linear(2, 2))
    with pytest.raises(TypeError, match="input 0 must be a Tensor or a numeric array"):
        model_graph(nn.Linear(2, 2), "x")


# ---------------------------------------------------------------------- reading
def test_read_events_checks_crc_and_skips_a_partial_record(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalar("x", 1.0, 0)
        w.add_scalar("x", 2.0, 1)
    (name,) = [tmp_path / f for f in os.listdir(tmp_path)]
    blob = bytearray(name.read_bytes())
    name.write_bytes(bytes(blob[:-3]))  # the last record cut short, as while writing
    assert read_scalars(tmp_path)["x"] == [(0, 1.0)]
    blob[-6] ^= 0xFF  # one flipped byte inside the last record's data
    name.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="CRC-32C mismatch"):
        read_events(name)
    assert len(read_events(name, verify_crc=False)) == 3
    with pytest.raises(FileNotFoundError, match="no event file"):
        read_events(tmp_path / "..")


def test_tensorboards_own_reader_reads_everything(tmp_path):
    pytest.importorskip("tensorboard", reason="TensorBoard is not installed (only needed to "
                        "view the files): pip install tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    with SummaryWriter(tmp_path) as w:
        w.add_graph(Net(), shendu.randn(1, 1, 6, 6))
        for step in range(3):
            w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_histogram("w", np.arange(10.0), 1)
        w.add_image("img", np.ones((3, 4, 5)), 2)
        w.add_text("note", "hello", 0)
    acc = EventAccumulator(str(tmp_path), size_guidance={"scalars": 0, "histograms": 0,
                                                         "images": 0, "tensors": 0})
    acc.Reload()
    tags = acc.Tags()
    assert tags["scalars"] == ["loss"] and tags["histograms"] == ["w"]
    assert tags["images"] == ["img"] and tags["tensors"] == ["note/text_summary"]
    assert [(s.step, s.value) for s in acc.Scalars("loss")] == [(0, 1.0), (1, 0.5),
                                                               (2, f32(1 / 3))]
    assert acc.Histograms("w")[0].histogram_value.num == 10
    assert (acc.Images("img")[0].width, acc.Images("img")[0].height) == (5, 4)
    assert "Net/Linear[fc]/Linear" in {n.name for n in acc.Graph().node}


# ---------------------------------------------------------------------- Keras callback
def tiny_data(n=40):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.int64)
    return x, y


def tiny_model():
    shendu.manual_seed(0)
    model = keras.Sequential([keras.Input((4,)),
                              keras.layers.Dense(8, activation="relu", name="dense"),
                              keras.layers.Dense(2, activation="softmax", name="dense_1")],
                             name="sequential")
    model.compile(optimizer=keras.optimizers.SGD(0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_keras_callback_writes_keras_layout(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    tb = TensorBoard(tmp_path, histogram_freq=2, write_images=True)
    hist = model.fit(x, y, epochs=3, batch_size=10, validation_split=0.25, verbose=0,
                     callbacks=[tb]).history
    train, val = read_scalars(tmp_path / "train"), read_scalars(tmp_path / "validation")
    assert sorted(train) == ["epoch_accuracy", "epoch_learning_rate", "epoch_loss"]
    for name in ("loss", "accuracy"):
        assert train[f"epoch_{name}"] == [(e, f32(v)) for e, v in enumerate(hist[name])]
        assert val[f"epoch_{name}"] == [(e, f32(v)) for e, v in enumerate(hist[f"val_{name}"])]
    assert train["epoch_learning_rate"] == [(e, f32(0.05)) for e in range(3)]
    # 30 training samples in batches of 10: 3 steps per epoch
    assert [s for s, _ in val["evaluation_loss_vs_iterations"]] == [3, 6, 9]
    hists = {}
    for step, _, v in summaries(tmp_path / "train"):
        if v.HasField("histo"):
            hists.setdefault(v.tag, []).append((step, v.histo.num))
    assert hists == {"dense/kernel/histogram": [(0, 32), (2, 32)],
                     "dense/bias/histogram": [(0, 8), (2, 8)],
                     "dense_1/kernel/histogram": [(0, 16), (2, 16)],
                     "dense_1/bias/histogram": [(0, 2), (2, 2)]}
    (_, kernel_img), _ = values_of(tmp_path / "train", "dense/kernel/image")
    assert decode_png(kernel_img).shape == (4, 8, 3)  # (in, out) with the wide side across
    nodes = graph_of(tmp_path / "train")
    assert list(nodes["sequential/dense_1/Softmax"].input) == ["sequential/dense_1/Add"]
    (_, conf), = values_of(tmp_path / "train", "keras")
    assert conf.metadata.plugin_data.plugin_name == "graph_keras_model"
    assert b'"class_name": "Sequential"' in conf.tensor.string_val[0]


def test_keras_callback_batch_logging_every_n_batches(tmp_path):
    x, y = tiny_data()
    model = tiny_model()
    model.fit(x, y, epochs=2, batch_size=10, verbose=0,
              callbacks=[TensorBoard(tmp_path, update_freq=3, write_graph=False,
                                     write_steps_per_second=True)])
    train = read_scalars(tmp_path / "train")
    assert [s for s, _ in train["batch_loss"]] == [3, 6]  # 4 batches per epoch, 8 in all
    assert [s for s, _ in train["batch_accuracy"]] == [3, 6]
    assert [s for s, _ in train["epoch_steps_per_second"]] == [0, 1]
    assert all(v > 0 for _, v in train["batch_steps_per_second"])
    assert not os.path.exists(tmp_path / "validation")  # no validation data, no run
    assert not any(e.HasField("graph_def") for e in read_events(tmp_path / "train"))


def test_keras_callback_per_epoch_adds_no_batch_hooks(tmp_path):
    from shendu.keras.callbacks.base import CallbackList
    cbs = CallbackList([TensorBoard(tmp_path)])
    assert not cbs.wants_batches("train") and not cbs.wants_batches("test")
    assert CallbackList([TensorBoard(tmp_path, update_freq="batch")]).wants_batches("train")


def test_keras_callback_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="update_freq must be 'epoch', 'batch' or an int"):
        TensorBoard(tmp_path, update_freq="step")
    with pytest.raises(ValueError, match="histogram_freq must be an int >= 0"):
        TensorBoard(tmp_path, histogram_freq=-1)
    with pytest.raises(NotImplementedError, match="profile_batch"):
        TensorBoard(tmp_path, profile_batch=2)
    with pytest.raises(NotImplementedError, match="embeddings_freq"):
        TensorBoard(tmp_path, embeddings_freq=1)


# ---------------------------------------------------------------------- without it
def test_clear_error_without_tensorboardx(tmp_path, monkeypatch):
    for name in list(sys.modules):
        if name == "tensorboardX" or name.startswith("tensorboardX."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # import now fails
    hint = r'pip install "shendu\[tensorboard\]" \(or pip install tensorboardX\)'
    with pytest.raises(ImportError, match="SummaryWriter needs tensorboardX.*" + hint):
        SummaryWriter(tmp_path)
    with pytest.raises(ImportError, match="keras.callbacks.TensorBoard needs tensorboardX"):
        TensorBoard(tmp_path)
    with pytest.raises(ImportError, match="read_events needs tensorboardX"):
        read_events(tmp_path)
    with pytest.raises(ImportError, match="model_graph needs tensorboardX"):
        model_graph(nn.Linear(2, 2), np.zeros((1, 2), np.float32))
    assert not os.listdir(tmp_path)  # nothing half-written
