"""keras.losses, keras.metrics, keras.optimizers, keras.utils: Keras's numbers and defaults.

The expected values are the examples of Keras's own documentation.
"""
import numpy as np
import pytest

import shendu
from shendu import keras, optim
from shendu.keras import losses, metrics, optimizers

A = [[0.0, 1.0], [0.0, 0.0]]
B = [[0.6, 0.4], [0.4, 0.6]]
CE_TRUE = [[0, 1, 0], [0, 0, 1]]
CE_PRED = [[0.05, 0.95, 0.0], [0.1, 0.8, 0.1]]


@pytest.mark.parametrize("loss, y_true, y_pred, expected", [
    (losses.MeanSquaredError(), A, [[1.0, 1.0], [1.0, 0.0]], 0.5),
    (losses.MeanAbsoluteError(), A, [[1.0, 1.0], [1.0, 0.0]], 0.5),
    (losses.BinaryCrossentropy(), A, B, 0.815),
    (losses.BinaryCrossentropy(from_logits=True), [0, 1, 0, 0], [-18.6, 0.51, 2.94, -12.8], 0.865),
    (losses.CategoricalCrossentropy(), CE_TRUE, CE_PRED, 1.177),
    (losses.SparseCategoricalCrossentropy(), [1, 2], CE_PRED, 1.177),
    (losses.Huber(), A, B, 0.155),
    (losses.KLDivergence(), A, B, 0.458),
    (losses.LogCosh(), A, [[1.0, 1.0], [0.0, 0.0]], 0.108),
    (losses.Poisson(), A, [[1.0, 1.0], [0.0, 0.0]], 0.5),
    (losses.MeanAbsolutePercentageError(), [[2.0, 1.0], [2.0, 3.0]], [[1.0, 1.0], [1.0, 0.0]], 50.0),
    (losses.MeanSquaredLogarithmicError(), A, [[1.0, 1.0], [1.0, 0.0]], 0.240),
    (losses.CosineSimilarity(), [[0.0, 1.0], [1.0, 1.0]], [[1.0, 0.0], [1.0, 1.0]], -0.5),
    (losses.Hinge(), A, B, 1.3),
    (losses.SquaredHinge(), A, B, 1.86),
    (losses.CategoricalHinge(), A, B, 1.4),
])
def test_loss_values_match_keras_docs(loss, y_true, y_pred, expected):
    assert loss(y_true, y_pred).item() == pytest.approx(expected, abs=1e-3)


def test_loss_reductions_sample_weight_and_functions():
    bce = losses.BinaryCrossentropy()
    assert bce(A, B, sample_weight=[1, 0]).item() == pytest.approx(0.458, abs=1e-3)
    per_sample = losses.BinaryCrossentropy(reduction="none")(A, B)
    assert per_sample.shape == (2,)
    assert losses.BinaryCrossentropy(reduction="sum")(A, B).item() == pytest.approx(1.63, abs=1e-2)
    np.testing.assert_allclose(losses.mean_squared_error(A, [[1.0, 1.0], [1.0, 0.0]]).numpy(),
                               [0.5, 0.5])
    # probabilities are clipped at 1e-7 like Keras: a confident wrong answer costs -log(1e-7)
    assert losses.binary_crossentropy([[1.0]], [[0.0]]).item() == pytest.approx(16.118, abs=1e-3)
    # (N,) targets against (N, 1) predictions are aligned, not broadcast to (N, N)
    assert losses.MeanSquaredError()([1.0, 2.0], [[1.0], [4.0]]).item() == pytest.approx(2.0)
    assert losses.get("mae").name == "mae"
    assert isinstance(losses.get(losses.binary_crossentropy), losses.BinaryCrossentropy)
    with pytest.raises(ValueError, match="one-hot"):
        losses.CategoricalCrossentropy()([1, 2], CE_PRED)
    with pytest.raises(ValueError, match=r"labels must be in \[0, 2\]"):
        losses.SparseCategoricalCrossentropy()([1, 3], CE_PRED)


def test_loss_gradients_flow():
    p = shendu.tensor([[0.2, 0.8], [0.6, 0.4]], requires_grad=True)
    losses.CategoricalCrossentropy()([[0, 1], [1, 0]], p).backward()
    # d/dp of -mean(log p_true) on normalized probabilities
    assert p.grad is not None and p.grad.shape == (2, 2)
    assert p.grad.numpy()[0, 1] < 0 and p.grad.numpy()[1, 0] < 0


def test_metrics_match_keras_docs():
    m = metrics.BinaryAccuracy()
    m.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    assert m.result() == pytest.approx(0.75)
    m = metrics.CategoricalAccuracy()
    m.update_state(CE_TRUE, [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    m = metrics.TopKCategoricalAccuracy(k=1)
    m.update_state(CE_TRUE, [[0.1, 0.9, 0.8], [0.05, 0.95, 0]])
    assert m.result() == pytest.approx(0.5)
    m = metrics.Precision()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert m.result() == pytest.approx(2 / 3)
    m = metrics.Recall()
    m.update_state([0, 1, 1, 1], [1, 0, 1, 1])
    assert m.result() == pytest.approx(2 / 3)
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    assert m.result() == pytest.approx(0.75)
    m = metrics.MeanAbsoluteError()
    m.update_state(A, [[1.0, 1.0], [1.0, 0.0]], sample_weight=[1, 0])
    assert m.result() == pytest.approx(0.5)
    m.reset_state()
    assert m.result() == 0.0


def _exact_roc_auc(y, p):
    """Mann-Whitney U statistic (ties share ranks)."""
    order = np.argsort(p, kind="stable")
    ranks = np.empty(len(p))
    ranks[order] = np.arange(1, len(p) + 1)
    for v in np.unique(p):  # average ranks of ties
        ranks[p == v] = ranks[p == v].mean()
    pos = y == 1
    n1, n0 = pos.sum(), (~pos).sum()
    return (ranks[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0)


def _average_precision(y, p):
    order = np.argsort(-p, kind="stable")
    hits = (y[order] == 1).astype(float)
    precision = np.cumsum(hits) / np.arange(1, len(p) + 1)
    return float((precision * hits).sum() / hits.sum())


def test_auc_agrees_with_exact_value_and_accumulates_over_batches():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    p = np.clip(0.35 * y + 0.65 * rng.random(3000), 0, 1)
    m = metrics.AUC()
    for i in range(0, 3000, 500):
        m.update_state(y[i:i + 500], p[i:i + 500])
    assert m.result() == pytest.approx(_exact_roc_auc(y, p), abs=2e-3)
    pr = metrics.AUC(curve="PR")
    pr.update_state(y, p)
    assert pr.result() == pytest.approx(_average_precision(y, p), abs=5e-3)


def test_auc_accepts_integer_labels_for_class_scores():
    rng = np.random.default_rng(1)
    scores = rng.random((50, 3))
    labels = rng.integers(0, 3, 50)
    a, b = metrics.AUC(), metrics.AUC()
    a.update_state(labels, scores)
    b.update_state(keras.utils.to_categorical(labels, 3), scores)
    assert a.result() == b.result()
    with pytest.raises(ValueError, match="does not match"):
        metrics.AUC().update_state([0, 1], scores)


def test_accuracy_is_resolved_from_shapes_like_keras():
    assert isinstance(metrics.resolve_accuracy((8,), (8, 1)), metrics.BinaryAccuracy)
    assert isinstance(metrics.resolve_accuracy((8,), (8, 10)), metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.resolve_accuracy((8, 1), (8, 10)), metrics.SparseCategoricalAccuracy)
    assert isinstance(metrics.resolve_accuracy((8, 10), (8, 10)), metrics.CategoricalAccuracy)
    assert metrics.get("AUC").name == "AUC" and isinstance(metrics.get("auc"), metrics.AUC)


@pytest.mark.parametrize("name, cls, defaults", [
    ("sgd", optimizers.SGD, dict(learning_rate=0.01, momentum=0.0, nesterov=False)),
    ("adam", optimizers.Adam, dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7)),
    ("adamw", optimizers.AdamW, dict(learning_rate=0.001, weight_decay=0.004, epsilon=1e-7)),
    ("rmsprop", optimizers.RMSprop, dict(learning_rate=0.001, rho=0.9, epsilon=1e-7)),
    ("adagrad", optimizers.Adagrad, dict(learning_rate=0.001, initial_accumulator_value=0.1)),
    ("adadelta", optimizers.Adadelta, dict(learning_rate=0.001, rho=0.95, epsilon=1e-7)),
    ("nadam", optimizers.Nadam, dict(learning_rate=0.001, beta_1=0.9, epsilon=1e-7)),
])
def test_optimizer_names_and_keras_defaults(name, cls, defaults):
    opt = optimizers.get(name)
    assert type(opt) is cls
    for k, v in defaults.items():
        assert getattr(opt, k) == pytest.approx(v), k


def test_optimizers_whose_rule_is_pytorch_s_use_shendu_optim():
    """SGD (constant lr) and Adadelta step as shendu.optim does; Adam, RMSprop, Adagrad
    and Nadam take Keras's own steps (tests/test_keras_optimizer_rules.py)."""
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2)).astype(np.float32)
    grads = [rng.normal(size=(3, 2)).astype(np.float32) for _ in range(5)]
    pairs = [
        (optimizers.SGD(0.1, momentum=0.9, nesterov=True),
         lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
        (optimizers.Adadelta(), lambda p: optim.Adadelta(p, lr=1e-3, rho=0.95, eps=1e-7)),
    ]
    for kopt, make in pairs:
        a = shendu.tensor(w0.copy(), requires_grad=True)
        b = shendu.tensor(w0.copy(), requires_grad=True)
        ref = make([b])
        for g in grads:
            kopt.apply_gradients([(shendu.tensor(g), a)])
            b.grad = shendu.tensor(g)
            ref.step()
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6)
        assert kopt.iterations == 5


def test_learning_rate_setter_schedule_and_clipping():
    w = shendu.tensor([1.0, 1.0], requires_grad=True)
    opt = optimizers.SGD(0.1)
    opt.apply_gradients([(shendu.tensor([1.0, 1.0]), w)])
    opt.learning_rate = 0.5
    assert opt.inner.param_groups[0]["lr"] == 0.5
    opt.apply_gradients([(shendu.tensor([1.0, 1.0]), w)])
    np.testing.assert_allclose(w.detach().numpy(), [0.4, 0.4], rtol=1e-6)
    sched = optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    opt2 = optimizers.SGD(learning_rate=sched)
    v = shendu.tensor([0.0], requires_grad=True)
    for _ in range(3):
        opt2.apply_gradients([(shendu.tensor([1.0]), v)])
    np.testing.assert_allclose(v.detach().numpy(), [-(0.1 + 0.05 + 0.025)], rtol=1e-6)
    with pytest.raises(TypeError, match="schedule"):
        opt2.learning_rate = 0.3
    clip = optimizers.SGD(1.0, clipnorm=1.0)
    u = shendu.tensor([0.0, 0.0], requires_grad=True)
    clip.apply_gradients([(shendu.tensor([3.0, 4.0]), u)])
    np.testing.assert_allclose(u.detach().numpy(), [-0.6, -0.8], rtol=1e-6)


def test_compile_accepts_a_built_shendu_optimizer():
    model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
    opt = optim.SGD(model.parameters(), lr=0.1)
    model.compile(opt, "mse")
    before = model.get_weights()
    model.fit(np.ones((4, 2)), np.zeros(4), epochs=1, verbose=0)
    assert not np.array_equal(before[0], model.get_weights()[0])


def test_to_categorical_and_initializers():
    np.testing.assert_array_equal(keras.utils.to_categorical([[1], [0]], 3),
                                  [[0, 1, 0], [1, 0, 0]])
    with pytest.raises(ValueError, match="out of range"):
        keras.utils.to_categorical([3], 3)
    shendu.manual_seed(0)
    w = keras.initializers.get("glorot_uniform")((400, 600))
    limit = np.sqrt(6 / 1000)
    assert np.abs(w).max() <= limit and abs(w.std() - limit / np.sqrt(3)) < 0.002
    n = keras.initializers.HeNormal()((2000, 50))
    assert np.abs(n).max() <= 2 * np.sqrt(2 / 2000) / 0.87962566103423978 + 1e-6
    assert abs(n.std() - np.sqrt(2 / 2000)) < 0.001
    shendu.manual_seed(3)
    a = keras.initializers.RandomNormal(stddev=0.05)((4,))
    shendu.manual_seed(3)
    b = keras.initializers.RandomNormal(stddev=0.05)((4,))
    np.testing.assert_array_equal(a, b)


def test_plot_history_returns_a_figure(tmp_path):
    pytest.importorskip("matplotlib")
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6], "accuracy": [0.5, 0.7, 0.8]}
    fig = keras.utils.plot_history(history, title="demo", filename=tmp_path / "curve.png")
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "loss"
    assert [l.get_label() for l in fig.axes[0].get_lines()] == ["training", "validation"]
    assert (tmp_path / "curve.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="History"):
        keras.utils.plot_history({})


def test_plot_history_without_matplotlib(monkeypatch):
    import builtins
    real = builtins.__import__

    def fake(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib")
        return real(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake)
    with pytest.raises(ImportError, match=r"pip install 'shendu\[plot\]'"):
        keras.utils.plot_history({"loss": [1.0]})
