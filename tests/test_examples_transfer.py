"""Quick runs of the transfer, semi-supervised and captioning lessons:
examples/transfer_learning.py, examples/semi_supervised_mnist.py and
examples/captioning_digits.py.

Each lesson runs with ``--quick`` and is checked for what can go wrong: frozen weights
that move, an unfrozen block that does not, accuracies at chance, pseudo-labels that are
not class-balanced or ignore the threshold, captions that do not match the scenes,
attention weights that are not distributions, and PNGs that are not images. The full
figures (in the lessons' docstrings) take minutes and belong to the full runs."""
import numpy as np
import pytest

import shendu
from test_examples import assert_png, data_dir_with, load_example

pytest.importorskip("matplotlib")

IDX = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def mnist_dir(fashion=False):
    files = [f"mnist/{n}" for n in IDX] + ([f"fashion-mnist/{n}" for n in IDX] if fashion
                                           else [])
    return data_dir_with(*files)


# ------------------------------------------------------------------ transfer_learning
def test_frozen_blocks_stay_put_and_unfrozen_block_trains(monkeypatch):
    ex = load_example("transfer_learning", monkeypatch)
    shendu.manual_seed(0)
    pretrained = ex.SmallCNN()
    rng = np.random.default_rng(0)
    x = rng.random((32, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 32)
    w = {k: p.detach().numpy().copy() for k, p in pretrained.named_parameters()}

    fe = ex.run_method("feature extraction", pretrained, x, y, steps=4, seed=0)
    for k, p in fe.features.named_parameters():
        assert not p.requires_grad and p.grad is None, k
        np.testing.assert_array_equal(p.detach().numpy(), w[f"features.{k}"], err_msg=k)
    assert all(p.requires_grad for p in fe.classifier.parameters())
    assert fe.num_parameters(only_trainable=True) == 576 * 128 + 128 + 128 * 10 + 10

    ft = ex.run_method("fine-tuning", pretrained, x, y, steps=4, seed=0)
    for name in ("block1", "block2"):
        for k, p in getattr(ft.features, name).named_parameters():
            assert not p.requires_grad
            np.testing.assert_array_equal(p.detach().numpy(), w[f"features.{name}.{k}"])
    top = ft.features.block3[0].weight
    assert top.requires_grad
    assert not np.array_equal(top.detach().numpy(), w["features.block3.0.weight"])
    # the pretrained network itself was copied, never trained
    for k, p in pretrained.named_parameters():
        np.testing.assert_array_equal(p.detach().numpy(), w[k])
    with pytest.raises(ValueError, match="method must be one of"):
        ex.run_method("distillation", pretrained, x, y, steps=1, seed=0)


def test_labelled_subset_is_class_balanced(monkeypatch):
    ex = load_example("transfer_learning", monkeypatch)
    y = np.repeat(np.arange(10), 50)
    idx = ex.labelled_subset(y, 103, seed=0)
    assert len(idx) == len(set(idx.tolist())) == 103
    counts = np.bincount(y[idx], minlength=10)
    assert counts.min() == 10 and counts.max() == 11


def test_keras_trainable_freezes_weights():
    from shendu import keras
    from shendu.keras import layers
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input((8,)), layers.Dense(6, activation="relu")])
    base.trainable = False
    model = keras.Sequential([keras.Input((8,)), base, layers.Dense(3)])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    x = np.random.default_rng(0).random((32, 8), dtype=np.float32)
    y = np.arange(32) % 3
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    after = model.get_weights()
    np.testing.assert_array_equal(after[0], before[0])       # the frozen base
    assert not np.array_equal(after[2], before[2])           # the head trained
    base.trainable = True
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    assert len(model.trainable_weights) == 4


def test_transfer_learning_quick(tmp_path, monkeypatch):
    data = mnist_dir(fashion=True)
    ex = load_example("transfer_learning", monkeypatch)
    r = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])
    assert r["mnist_accuracy"] > 0.5  # 2 quick epochs on 3000 digits; chance 0.1
    assert set(r["results"]) == {100, 300}
    for n, by_method in r["results"].items():
        assert set(by_method) == set(ex.METHODS)
        for m, accs in by_method.items():
            assert len(accs) == 1 and 0.35 < accs[0] <= 1.0, (n, m, accs)  # chance: 0.1
    assert r["frozen_unchanged"] == {"feature extraction": True, "fine-tuning": True}
    for m in ex.METHODS:  # the training curve: every 5 steps of 40, then the end
        steps = [s for s, _ in r["curves"][m]]
        assert steps == sorted(steps) and steps[-1] == 40 and len(steps) == 8
    k = r["keras"]
    assert 0.35 < k["feature extraction"] <= 1 and 0.35 < k["fine-tuning"] <= 1
    # conv1, pool1, conv2, pool2 frozen; the top block and Flatten trainable
    assert k["trainable_after"] == [False] * 4 + [True] * 3
    assert_png(r["png"], min_size=(1000, 400))


# ------------------------------------------------------------------ semi_supervised_mnist
def test_select_pseudo_labels_threshold_and_balance(monkeypatch):
    ex = load_example("semi_supervised_mnist", monkeypatch)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(500, 3)) * 4
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    idx, labels = ex.select_pseudo_labels(probs, 0.9, per_class=20)
    assert (probs[idx].max(1) >= 0.9).all()
    np.testing.assert_array_equal(labels, probs[idx].argmax(1))
    assert np.bincount(labels, minlength=3).tolist() == [20, 20, 20]
    # the most confident of each class were taken
    for c in range(3):
        taken = probs[idx[labels == c], c].min()
        rest = np.setdiff1d(np.flatnonzero(probs.argmax(1) == c), idx)
        assert (probs[rest, c] <= taken).all()
    idx_all, _ = ex.select_pseudo_labels(probs, 0.0, per_class=10_000)
    assert len(idx_all) == 500
    with pytest.raises(ValueError, match="threshold"):
        ex.select_pseudo_labels(probs, 1.5, 10)


def test_lee_alpha_schedule(monkeypatch):
    ex = load_example("semi_supervised_mnist", monkeypatch)
    assert ex.lee_alpha(0, 100) == 0.0
    assert ex.lee_alpha(50, 100) == pytest.approx(1.5)
    assert ex.lee_alpha(100, 100) == ex.lee_alpha(1000, 100) == 3.0
    assert ex.lee_alpha(5, 0, alpha_f=2.0) == 2.0


def test_semi_supervised_mnist_quick(tmp_path, monkeypatch):
    data = mnist_dir()
    ex = load_example("semi_supervised_mnist", monkeypatch)
    r = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])
    (run,) = r["runs"]
    assert len(run["labelled"]) == 100
    assert len(run["acc"]) == 3 and all(0.5 < a <= 1 for a in run["acc"])  # chance 0.1
    assert 0.5 < run["baseline_long"] <= 1 and 0.5 < run["baseline_warmup"] <= 1
    # the schedule admits more each round (at most 50, then 150 per class), mostly right
    assert 0 < run["n_pseudo"][1] <= 500 and run["n_pseudo"][1] < run["n_pseudo"][2] <= 1500
    assert all(p > 0.8 for p in run["pseudo_acc"][1:])
    assert r["margin"] == pytest.approx(run["acc"][-1] - run["baseline_long"])
    assert_png(r["png"], min_size=(1000, 400))


# ------------------------------------------------------------------ captioning_digits
def test_scenes_and_captions_agree(monkeypatch):
    ex = load_example("captioning_digits", monkeypatch)
    digits = np.zeros((10, 28, 28), np.float32)
    digits[:, 10:18, 10:18] = 1.0
    labels = np.arange(10)
    images, tokens, cells = ex.make_scenes(digits, labels, 200, np.random.default_rng(1),
                                           jitter=0)
    assert images.shape == (200, 1, 56, 56) and tokens.shape == (200, ex.MAX_LEN)
    for img, tok, row in zip(images, tokens, cells):
        words = [ex.WORDS[d] for d in row if d >= 0]
        assert 1 <= len(words) <= 4 and ex.caption(tok) == " ".join(words)
        assert tok[len(words)] == ex.EOS and (tok[len(words) + 1:] == ex.PAD).all()
        for c in range(4):  # ink in a cell exactly when it holds a digit
            block = img[0, 28 * (c // 2):28 * (c // 2) + 28, 28 * (c % 2):28 * (c % 2) + 28]
            assert (block.sum() > 0) == (row[c] >= 0)
    n = (cells >= 0).sum(1)
    assert set(n.tolist()) == {1, 2, 3, 4}


def test_caption_scores(monkeypatch):
    ex = load_example("captioning_digits", monkeypatch)
    ref = np.array([[3, 4, 2, 0, 0], [5, 6, 7, 2, 0]])
    assert ex.scores(ref, ref) == (1.0, 1.0)
    early = np.array([[3, 4, 2, 0, 0], [5, 6, 2, 0, 0]])  # stopped one word early
    assert ex.scores(early, ref) == (0.5, 4 / 5)


def test_captioner_shapes_and_attention(monkeypatch):
    ex = load_example("captioning_digits", monkeypatch)
    shendu.manual_seed(0)
    model = ex.Captioner()
    images = np.random.default_rng(0).random((3, 1, 56, 56), dtype=np.float32)
    tokens = np.array([[3, 4, 2, 0, 0], [5, 2, 0, 0, 0], [6, 7, 8, 9, 2]])
    logits, weights = model(shendu.tensor(images), tokens)
    assert logits.shape == (3, 5, len(ex.VOCAB)) and weights.shape == (3, 5, 49)
    np.testing.assert_allclose(weights.detach().numpy().sum(-1), 1.0, rtol=1e-5)
    loss = ex.caption_loss(logits, tokens)
    loss.backward()
    assert model.encoder[0].weight.grad is not None   # the CNN learns through attention
    out = ex.decode(model, images, beam=1)
    assert out.shape == (3, ex.MAX_LEN) and out.dtype == np.int64
    assert ex.decode(model, images, beam=3).shape == (3, ex.MAX_LEN)


def test_captioning_digits_quick(tmp_path, monkeypatch):
    data = mnist_dir()
    ex = load_example("captioning_digits", monkeypatch)
    r = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])
    assert np.mean(r["losses"][-20:]) < np.mean(r["losses"][:20])
    # after 200 steps: single digits mostly right, words far above chance (1/10)
    assert r["greedy_word"] > 0.25 and r["exact_by_count"][1] > 0.5
    assert r["beam_exact"] >= 0.0 and r["beam_word"] > 0.25
    exact, word = ex.scores(r["greedy"], r["test_tokens"])
    assert (exact, word) == (r["greedy_exact"], r["greedy_word"])
    w = r["weights"]
    assert w.shape[1:] == (ex.MAX_LEN, 7, 7)
    np.testing.assert_allclose(w.sum((2, 3)), 1.0, rtol=1e-4)
    assert_png(r["attention_png"], min_size=(900, 600))
    assert_png(r["loss_png"])
