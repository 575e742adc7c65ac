"""shendu.viz: what each figure draws (titles, colours, cell texts, pixel data), the PNG
files it saves, the lazy matplotlib import and its install hint, forward hooks cleaned up."""
import os
import subprocess
import sys

import numpy as np
import pytest

import shendu
from shendu import nn

pytest.importorskip("matplotlib")
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import imread  # noqa: E402

from shendu import viz  # noqa: E402
from shendu.viz.images import as_image_batch  # noqa: E402

RED, BLACK = to_rgba("red"), to_rgba("black")


def assert_png(path, fig):
    """The file is a PNG of the figure's pixel size."""
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    pixels = imread(path)
    w, h = fig.get_size_inches() * 100
    assert pixels.shape[:2] == (round(h), round(w))
    assert pixels.std() > 0.01  # not a blank image


def titles(fig):
    return [ax.get_title() for ax in fig.axes]


# -------------------------------------------------------------------------- matplotlib
def test_importing_viz_does_not_import_matplotlib():
    code = "import sys, shendu.viz, shendu.metrics; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    for call in (lambda: viz.image_grid(np.zeros((1, 2, 2))),
                 lambda: viz.plot_confusion_matrix([0], [0]),
                 lambda: viz.plot_filters(np.zeros((1, 1, 2, 2)))):
        with pytest.raises(ImportError, match=r'needs matplotlib, which is not installed: '
                                              r'pip install "shendu\[plot\]"'):
            call()


def test_show_without_display_uses_agg(tmp_path):
    code = ("import numpy as np, matplotlib; from shendu.viz import plot_loss_curve; "
            "fig = plot_loss_curve([3, 2, 1], show=True); "
            "print(matplotlib.get_backend().lower(), type(fig).__name__)")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY",
                                                            "MPLBACKEND")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env=env, cwd=tmp_path)
    assert out.stdout.split() == ["agg", "Figure"]


# -------------------------------------------------------------------------- image_grid
def test_image_grid_course_figure(tmp_path):
    from shendu.datasets import digits
    d = digits()
    pred = d.target[:36].copy()
    pred[[3, 10]] = [5, 1]
    path = tmp_path / "digits.png"
    fig = viz.image_grid(d.images[:40], labels=d.target, predictions=pred, path=path)
    assert isinstance(fig, Figure) and len(fig.axes) == 36  # 6x6, max_images=36
    t = titles(fig)
    assert t[0] == "0" and t[3] == "5 (3)" and t[10] == "1 (0)"
    colours = [to_rgba(ax.title.get_color()) for ax in fig.axes]
    assert [i for i, c in enumerate(colours) if c == RED] == [3, 10]
    assert all(c == BLACK for i, c in enumerate(colours) if i not in (3, 10))
    assert fig._suptitle.get_text().startswith("2 of 36 wrong")
    np.testing.assert_array_equal(fig.axes[5].images[0].get_array(), d.images[5])
    assert_png(path, fig)


def test_image_grid_class_names_scores_and_layouts():
    rng = np.random.default_rng(0)
    names = ["cat", "dog", "bird"]
    scores = np.eye(3)[[0, 2, 1]]
    fig = viz.image_grid(rng.random((3, 5, 5)), labels=[0, 1, 1], predictions=scores,
                         class_names=names, ncols=2)
    assert titles(fig) == ["cat", "bird (dog)", "dog", ""]
    assert not fig.axes[3].axison  # the unused cell is blank
    fig = viz.image_grid(rng.random((2, 5, 5)), labels=[2, 0], class_names=names)
    assert titles(fig) == ["bird", "cat"] and fig._suptitle is None
    rgb = rng.integers(0, 255, (2, 3, 4, 6)).astype(np.uint8)
    fig = viz.image_grid(rgb)
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), rgb[1].transpose(1, 2, 0))
    fig = viz.image_grid(shendu.tensor(rgb.transpose(0, 2, 3, 1)))
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), rgb[0].transpose(1, 2, 0))
    with pytest.raises(ValueError, match="label 5 has no entry in class_names"):
        viz.image_grid(rng.random((1, 5, 5)), labels=[5], class_names=names)


def test_as_image_batch_shapes():
    assert as_image_batch(np.zeros((5, 784)), "t").shape == (5, 28, 28)
    assert as_image_batch(np.zeros((5, 1, 28, 28)), "t").shape == (5, 28, 28)
    assert as_image_batch(np.zeros((5, 28, 28, 1)), "t").shape == (5, 28, 28)
    assert as_image_batch(np.zeros((5, 3, 8, 3)), "t").shape == (5, 3, 8, 3)
    assert as_image_batch(np.zeros((5, 3, 8, 3)), "t", "channels_first").shape == (5, 8, 3, 3)
    with pytest.raises(ValueError, match=r"flat images of shape \(5, 10\) are not square"):
        as_image_batch(np.zeros((5, 10)), "image_grid")
    with pytest.raises(ValueError, match="cannot tell the colour channels"):
        as_image_batch(np.zeros((5, 5, 8, 8)), "image_grid")


# ----------------------------------------------------------------- confusion matrix, ROC
def test_plot_confusion_matrix_cells_and_png(tmp_path):
    from shendu.metrics import confusion_matrix
    rng = np.random.default_rng(0)
    t = rng.integers(0, 4, 200)
    p = np.where(rng.random(200) < 0.7, t, rng.integers(0, 4, 200))
    names = ["T-shirt/top", "Trouser", "Pullover", "Dress"]
    path = tmp_path / "cm.png"
    fig = viz.plot_confusion_matrix(t, p, class_names=names, path=path)
    ax = fig.axes[0]
    cm = confusion_matrix(t, p)
    cells = np.array([int(x.get_text()) for x in ax.texts]).reshape(4, 4)
    np.testing.assert_array_equal(cells, cm)
    np.testing.assert_array_equal(ax.images[0].get_array(), cm)
    assert [x.get_text() for x in ax.get_xticklabels()] == names
    assert ax.get_xlabel() == "predicted label" and ax.get_ylabel() == "true label"
    assert f"accuracy {np.mean(t == p):.3f}, 200 samples" in ax.get_title()
    assert_png(path, fig)
    fig = viz.plot_confusion_matrix(t, p, normalize=True)
    texts = [float(x.get_text()) for x in fig.axes[0].texts]
    np.testing.assert_allclose(np.array(texts).reshape(4, 4).sum(axis=1), 1, atol=0.03)
    assert "recall on the diagonal" in fig.axes[0].get_title()
    # white text on dark cells only
    colours = [to_rgba(x.get_color()) for x in fig.axes[0].texts]
    dark = confusion_matrix(t, p, normalize="true").ravel() > 0.5
    assert all((c == to_rgba("white")) == d for c, d in zip(colours, dark))
    with pytest.raises(ValueError, match="2 class names for 4 classes"):
        viz.plot_confusion_matrix(t, p, class_names=["a", "b"])


def test_plot_roc_curve_and_loss_curve(tmp_path):
    from shendu.metrics import roc_auc_score, roc_curve
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 100)
    s = rng.random(100) + 0.5 * y
    fig = viz.plot_roc_curve(y, s, path=tmp_path / "roc.png")
    line = fig.axes[0].get_lines()[0]
    fpr, tpr, _ = roc_curve(y, s)
    np.testing.assert_allclose(line.get_xdata(), fpr)
    np.testing.assert_allclose(line.get_ydata(), tpr)
    assert line.get_label() == f"ROC (AUC = {roc_auc_score(y, s):.3f})"
    assert_png(tmp_path / "roc.png", fig)
    fig = viz.plot_loss_curve([1.0, 0.5], [1.2, 0.9], path=tmp_path / "loss")
    train, val = fig.axes[0].get_lines()
    assert train.get_xdata().tolist() == [1, 2] and val.get_ydata().tolist() == [1.2, 0.9]
    assert_png(tmp_path / "loss.png", fig)  # no extension: PNG with .png added


def test_plot_returns_running_mean_runs_target_and_errors(tmp_path):
    from shendu.rl import TrainingLog
    log = TrainingLog(report_every=0)
    for r in [0.0, 10.0, 20.0, 30.0]:
        log.episode(r, length=int(r) + 1)
    fig = viz.plot_returns({"a": log, "b": [5, 5, 5, 5]}, window=2, target=25,
                           x={"a": log.history["step"], "b": None},
                           path=tmp_path / "returns.png")
    raw_a, mean_a, raw_b, mean_b, target = fig.axes[0].get_lines()
    assert raw_a.get_xdata().tolist() == log.history["step"]
    assert mean_a.get_ydata().tolist() == [0.0, 5.0, 15.0, 25.0]  # mean of the last 2
    assert mean_b.get_xdata().tolist() == [1, 2, 3, 4]
    assert list(target.get_ydata()) == [25.0, 25.0]
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == \
        ["a (mean of 2)", "b (mean of 2)", "target 25"]
    assert_png(tmp_path / "returns.png", fig)
    with pytest.raises(ValueError, match="plot_returns: the returns of 'return' are empty"):
        viz.plot_returns([])
    with pytest.raises(ValueError, match="x for 'return' has 2 values, returns have 3"):
        viz.plot_returns([1, 2, 3], x=[1, 2])


# --------------------------------------------------------------------- filters, maps
def _stretched(a):
    return (a - a.min()) / (a.max() - a.min())


def test_plot_filters_from_layer_model_array_and_keras_kernel(tmp_path):
    shendu.manual_seed(0)
    conv = nn.Conv2d(1, 6, 5)
    model = nn.Sequential(conv, nn.ReLU(), nn.Conv2d(6, 4, 3))
    path = tmp_path / "filters.png"
    fig = viz.plot_filters(model, path=path, ncols=3)  # the first conv layer
    assert titles(fig) == [f"filter {i}" for i in range(6)]
    assert fig._suptitle.get_text() == "layer '0' (Conv2d): 6 of 6 filters, 5x5"
    w = conv.weight._data
    for i in range(6):
        np.testing.assert_allclose(fig.axes[i].images[0].get_array(), _stretched(w[i, 0]),
                                   rtol=1e-5)
    assert_png(path, fig)
    assert titles(viz.plot_filters(conv)) == titles(fig)
    rgb = np.random.default_rng(0).normal(size=(4, 3, 3, 3))
    fig = viz.plot_filters(shendu.tensor(rgb))
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(),
                               _stretched(rgb[2].transpose(1, 2, 0)))

    class KerasConv:  # Keras layout (kh, kw, in, out)
        kernel = rgb.transpose(2, 3, 1, 0)

    fig = viz.plot_filters(KerasConv())
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(),
                               _stretched(rgb[2].transpose(1, 2, 0)))
    fig = viz.plot_filters(model[2].weight, max_filters=2)  # 6 input channels: 2 x 6 cells
    assert len(fig.axes) == 12 and titles(fig)[7] == "f1 c1"
    fig = viz.plot_filters(model[2].weight, channel=5)
    np.testing.assert_allclose(fig.axes[3].images[0].get_array(),
                               _stretched(model[2].weight._data[3, 5]))
    with pytest.raises(ValueError, match="expects a conv weight of shape"):
        viz.plot_filters(np.zeros((3, 3)))
    with pytest.raises(TypeError, match="Sequential has no conv layer"):
        viz.plot_filters(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ValueError, match="channel 6 is out of range for filters over 6"):
        viz.plot_filters(model[2].weight, channel=6)


def test_plot_feature_maps_draws_the_hooked_output(tmp_path):
    shendu.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Dropout(0.5),
                          nn.Conv2d(4, 3, 3))
    model.train()
    image = np.random.default_rng(0).random((10, 10)).astype(np.float32)
    path = tmp_path / "maps.png"
    fig = viz.plot_feature_maps(model, image, path=path, ncols=3)
    assert titles(fig) == ["input", "map 0", "map 1", "map 2", "map 3", ""]
    with shendu.no_grad():
        expected = model[0](shendu.tensor(image[None, None]))._data[0]
    for c in range(4):
        np.testing.assert_allclose(fig.axes[c + 1].images[0].get_array(), expected[c],
                                   rtol=1e-6)
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), image)
    assert_png(path, fig)
    assert all(m.training for m in model.modules())  # training mode restored
    assert not model[0]._forward_hooks and not model[3]._forward_hooks  # hook removed
    # the second conv layer, chosen three ways; the dropout before it is off (eval mode)
    with shendu.no_grad():
        model.eval()
        second = model(shendu.tensor(image[None, None]))._data[0]
        model.train()
    for layer, name in ((1, "layer '3' (Conv2d)"), ("3", "layer '3' (Conv2d)"),
                        (model[3], "Conv2d")):
        fig = viz.plot_feature_maps(model, image[None], layer=layer)
        assert len(fig.axes) == 4
        np.testing.assert_allclose(fig.axes[1].images[0].get_array(), second[0], rtol=1e-5)
        assert fig._suptitle.get_text() == f"feature maps of {name}: 3 of 3 channels, 8x8"


def test_plot_feature_maps_with_a_fake_conv_module():
    class FakeConv(nn.Module):
        """Returns (N, C, H, W) maps: channel c is the input times c."""

        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(shendu.tensor(np.zeros((3, 1, 1, 1), np.float32)))

        def forward(self, x):
            return shendu.tensor(x._data * np.arange(3, dtype=np.float32)[None, :, None, None])

    image = np.arange(16, dtype=np.float32).reshape(1, 4, 4)
    fig = viz.plot_feature_maps(FakeConv(), image, max_maps=2)
    assert titles(fig) == ["input", "map 0", "map 1"]
    np.testing.assert_array_equal(fig.axes[2].images[0].get_array(), image[0])
    assert fig._suptitle.get_text() == "feature maps of FakeConv: 2 of 3 channels, 4x4"


def test_plot_feature_maps_errors():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten())
    image = np.zeros((5, 5), np.float32)
    with pytest.raises(ValueError, match="found no conv layer in Sequential; pass layer="):
        viz.plot_feature_maps(nn.Sequential(nn.Linear(2, 2)), np.zeros((2,)))
    with pytest.raises(ValueError, match=r"no layer named 'conv1'; the names are \['0', '1'\]"):
        viz.plot_feature_maps(model, image, layer="conv1")
    with pytest.raises(ValueError, match="layer=2 but the model has 1 conv layers"):
        viz.plot_feature_maps(model, image, layer=2)
    with pytest.raises(ValueError, match=r"returned shape \(1, 18\); feature maps need a 4-D"):
        viz.plot_feature_maps(model, image, layer="1")
    with pytest.raises(TypeError, match="needs an nn.Module"):
        viz.plot_feature_maps(np.zeros((1, 1, 3, 3)), image)
    with pytest.raises(ValueError, match=r"image must be \(H, W\), \(C, H, W\) or a batch"):
        viz.plot_feature_maps(model, np.zeros((1, 1, 1, 5, 5)))
    assert not model[0]._forward_hooks and not model[1]._forward_hooks
