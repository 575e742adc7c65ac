"""Transfer learning: a CNN trained on MNIST digits reused for Fashion-MNIST clothes with
few labels, as a frozen feature extractor and fine-tuned, against training from scratch.

Lesson 004, Part III "Transfer Learning": when the data we care about has few labels
("Input data 中沒有 output 想要的 class label"), use a CNN learned from plenty of labelled
data of another task as a feature extractor ("Using sufficient labeled data to learn a
CNN; using this CNN as feature extractor"). Here the plenty is the 60,000 labelled MNIST
digits and the task is Fashion-MNIST (T-shirts, trousers, ... ankle boots) with only 100
to 3,000 labelled images.

The network (``SmallCNN``) has three convolution blocks ``features.block1..3``
(Conv 3x3 + ReLU + MaxPool 2; 1 -> 16 -> 32 -> 64 channels, 28 -> 14 -> 7 -> 3 pixels)
and a classifier ``Flatten -> Linear(576, 128) -> ReLU -> Linear(128, 10)``. It is
trained on MNIST once (2 epochs, Adam 1e-3), then for each number of Fashion-MNIST labels
three models get the same number of Adam steps (batch 64) on the same labelled images:

1. **scratch**: a fresh SmallCNN, every weight trained (lr 1e-3).
2. **feature extraction**: the MNIST network with ``model.features.requires_grad_(False)``
   (frozen: no gradient reaches the convolutions, the optimizer skips them and backward
   stops at the classifier) and a fresh classifier, the only part trained (lr 1e-3).
3. **fine-tuning**: as 2 for the first half of the steps; then the top block is
   unfrozen (``model.features.block3.requires_grad_(True)``) and added to the running
   optimizer with a ten times lower learning rate,
   ``opt.add_param_group({"params": block3.parameters(), "lr": 1e-4})``, so the
   pretrained filters move a little towards clothes while block1-2 stay frozen (the
   lower a block, the more generic its features: edges and strokes).

The same recipe in the Keras API (the keras.io guide "Transfer learning & fine-tuning"):
``base.trainable = False``, ``x = base(inputs, training=False)``, a new ``Dense`` head,
``compile`` + ``fit``; then ``base.trainable = True`` with the lower blocks set back to
``trainable = False``, ``compile`` again with ``Adam(1e-4)`` (a change of ``trainable``
takes effect at the next ``compile``/``fit``) and ``fit`` again. It runs at 1,000 labels.

Pictures: ``transfer_learning.png``: left, test accuracy against the number of labels for
the three (mean over the seeds, one seed per random labelled subset); right, test
accuracy during training at 1,000 labels (the dashed line is where fine-tuning unfreezes
block3).

Run: python examples/transfer_learning.py [--labels 100 300 1000 3000] [--seeds 2]
[--steps 400] [--out DIR]

Measured (2-core AMD EPYC, AVX2, one thread, the machine shared with other jobs; 400
steps, 2 seeds, test on all 10,000 Fashion-MNIST test images; the MNIST network: 0.9749
test accuracy on MNIST after 2 epochs):

    labels   scratch   feature extraction   fine-tuning (block3 at lr 1e-4)
       100    0.6966        0.7031               0.7022
       300    0.7406        0.7513               0.7511
      1000    0.7711        0.7801               0.7810
      3000    0.7994        0.8055               0.8130

Keras API at 1,000 labels (base pretrained 1 epoch): feature extraction 0.7636, then
fine-tuned 0.7872.

The MNIST features help at every count, but modestly: +0.6 to +1.4 points of fine-tuning
over scratch, a margin of the size of the spread between the two seeds (up to 3 points at
1,000 labels), so read it as "never worse, usually a little better" rather than a big
win. Fine-tuning the top block pulls ahead of the frozen extractor as labels grow (3,000:
+0.75 points); at 100-300 the two are equal. The training curves show the other gain:
the pretrained features reach 0.74 after 50 steps where scratch is at 0.62. Digits to
clothes is a long way to transfer; the course's case (ImageNet features for a new photo
task) gains far more. Wall time 374 s (``--quick``: ~16 s).
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import keras, nn, optim
from shendu.datasets import fashion_mnist, mnist
from shendu.keras import layers

METHODS = ("scratch", "feature extraction", "fine-tuning")


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return None
    return Path(__file__).resolve().parents[2] / "shared" / "data"


# --------------------------------------------------------------------- the network
def conv_block(c_in, c_out):
    """Conv 3x3 (padding 1) + ReLU + MaxPool 2: ``(N, c_in, H, W) -> (N, c_out, H//2, W//2)``."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


class SmallCNN(nn.Module):
    """Three conv blocks (``features.block1..3``) and a 2-layer classifier.

    ``forward(x)``: ``(N, 1, 28, 28)`` images -> ``(N, num_classes)`` logits.
    """

    def __init__(self, num_classes=10, hidden=128):
        super().__init__()
        self.features = nn.Sequential()
        for i, (c_in, c_out) in enumerate([(1, 16), (16, 32), (32, 64)], start=1):
            self.features.add_module(f"block{i}", conv_block(c_in, c_out))
        self.classifier = self.new_classifier(num_classes, hidden)

    @staticmethod
    def new_classifier(num_classes=10, hidden=128):
        """A freshly initialised head on the 64 x 3 x 3 = 576 features."""
        return nn.Sequential(nn.Flatten(), nn.Linear(64 * 3 * 3, hidden), nn.ReLU(),
                             nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


def accuracy(model, x, y, batch_size=1000):
    """Fraction of ``x`` (N, 1, 28, 28) classified as ``y``, in eval mode, no graph."""
    model.eval()
    with shendu.no_grad():
        pred = np.concatenate([model(shendu.tensor(x[i:i + batch_size])).numpy().argmax(1)
                               for i in range(0, len(x), batch_size)])
    model.train()
    return float(np.mean(pred == y))


def train_steps(model, opt, x, y, steps, batch_size=64, rng=None, on_step=None):
    """``steps`` Adam steps of cross-entropy on random batches of ``(x, y)``.

    ``on_step(step, model, opt)`` (optional) runs before each step: it may unfreeze layers
    or evaluate. Returns the mean training loss of each step."""
    rng = np.random.default_rng(0) if rng is None else rng
    losses = []
    model.train()
    for step in range(steps):
        if on_step is not None:
            on_step(step, model, opt)
        idx = rng.choice(len(x), size=min(batch_size, len(x)), replace=False)
        opt.zero_grad()
        loss = F.cross_entropy(model(shendu.tensor(x[idx])), shendu.tensor(y[idx]))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def pretrain_on_mnist(x, y, epochs=2, batch_size=128, lr=1e-3, seed=0):
    """A SmallCNN trained on MNIST digits (the source task)."""
    shendu.manual_seed(seed)
    model = SmallCNN()
    opt = optim.Adam(model.parameters(), lr=lr)
    steps = epochs * (len(x) // batch_size)
    train_steps(model, opt, x, y, steps, batch_size, np.random.default_rng(seed))
    return model


def transfer_copy(pretrained, seed):
    """A copy of the pretrained network with its weights, a fresh classifier and frozen
    features: the starting point of feature extraction and fine-tuning."""
    shendu.manual_seed(seed)
    model = SmallCNN()
    model.load_state_dict(pretrained.state_dict())
    model.classifier = SmallCNN.new_classifier()
    model.features.requires_grad_(False)
    return model


def run_method(method, pretrained, x, y, steps, seed, lr=1e-3, fine_tune_lr=1e-4,
               on_eval=None, eval_every=0):
    """Train one of ``METHODS`` on ``(x, y)`` for ``steps`` steps; returns the model.

    ``on_eval(step, model)`` is called every ``eval_every`` steps (and after the last)."""
    if method == "scratch":
        shendu.manual_seed(seed)
        model = SmallCNN()
        opt = optim.Adam(model.parameters(), lr=lr)
    elif method in ("feature extraction", "fine-tuning"):
        model = transfer_copy(pretrained, seed)
        # only the trainable parameters go to the optimizer (frozen ones would be skipped
        # anyway: they never get a .grad)
        opt = optim.Adam(model.classifier.parameters(), lr=lr)
    else:
        raise ValueError(f"run_method: method must be one of {METHODS}, got {method!r}")
    unfreeze_at = steps // 2 if method == "fine-tuning" else None

    def on_step(step, model, opt):
        if step == unfreeze_at:
            top = model.features.block3
            top.requires_grad_(True)
            opt.add_param_group({"params": list(top.parameters()), "lr": fine_tune_lr})
        if on_eval is not None and eval_every and step % eval_every == 0 and step:
            on_eval(step, model)

    train_steps(model, opt, x, y, steps, rng=np.random.default_rng(seed + 1000),
                on_step=on_step)
    if on_eval is not None:
        on_eval(steps, model)
    return model


def labelled_subset(y, n, seed):
    """``n`` indices with (as near as possible) ``n / 10`` of each class."""
    rng = np.random.default_rng(seed)
    per_class = [rng.permutation(np.flatnonzero(y == c)) for c in range(10)]
    counts = np.full(10, n // 10)
    counts[:n % 10] += 1
    return np.concatenate([idx[:k] for idx, k in zip(per_class, counts)])


# --------------------------------------------------------------------- Keras API
def keras_transfer(x_src, y_src, x, y, x_test, y_test, epochs_src=1, epochs=20,
                   fine_tune_epochs=20, seed=0, verbose=0):
    """The keras.io fine-tuning recipe; returns (feature-extraction acc, fine-tuned acc,
    the base model) with images ``(N, 28, 28, 1)``."""
    keras.utils.set_random_seed(seed)
    base = keras.Sequential([keras.Input((28, 28, 1))] + [
        layer for c in (16, 32, 64)
        for layer in (layers.Conv2D(c, 3, padding="same", activation="relu"),
                      layers.MaxPooling2D(2))] + [layers.Flatten()], name="base")
    source = keras.Sequential([base, layers.Dense(128, activation="relu"), layers.Dense(10)])
    source.compile(keras.optimizers.Adam(1e-3),
                   keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    source.fit(x_src, y_src, batch_size=128, epochs=epochs_src, verbose=verbose)

    base.trainable = False                       # freeze the whole base
    inputs = keras.Input((28, 28, 1))
    h = base(inputs, training=False)
    h = layers.Dense(128, activation="relu")(h)
    model = keras.Model(inputs, layers.Dense(10)(h))
    model.compile(keras.optimizers.Adam(1e-3),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=verbose)
    acc_features = float(model.evaluate(x_test, y_test, verbose=0)[1])

    base.trainable = True                        # unfreeze the top block only
    for layer in base.layers[:-3]:               # conv1, pool1, conv2, pool2
        layer.trainable = False
    model.compile(keras.optimizers.Adam(1e-4),  # recompile after changing trainable
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=64, epochs=fine_tune_epochs, verbose=verbose)
    acc_fine = float(model.evaluate(x_test, y_test, verbose=0)[1])
    return acc_features, acc_fine, base


# --------------------------------------------------------------------- picture
def plot(results, curves, unfreeze_step, curve_labels, path, title):
    from shendu.viz._mpl import finish, new_figure
    fig = new_figure("transfer_learning", figsize=(12, 4.8))
    ax1, ax2 = fig.subplots(1, 2)
    counts = sorted(results)
    colours = dict(zip(METHODS, ("tab:grey", "tab:blue", "tab:red")))
    for m in METHODS:
        means = [np.mean(results[n][m]) for n in counts]
        ax1.plot(counts, means, "o-", color=colours[m], label=m)
        for n in counts:
            ax1.plot([n] * len(results[n][m]), results[n][m], ".", color=colours[m], alpha=0.4)
    ax1.set_xscale("log")
    ax1.set_xticks(counts)
    ax1.set_xticklabels([str(n) for n in counts])
    ax1.set_xlabel("labelled Fashion-MNIST training images")
    ax1.set_ylabel("test accuracy")
    ax1.set_title("accuracy vs labels (line: mean over seeds, dots: seeds)")
    ax1.grid(alpha=0.3)
    ax1.legend()
    for m in METHODS:
        steps, accs = zip(*curves[m])
        ax2.plot(steps, accs, "o-", ms=3, color=colours[m], label=m)
    ax2.axvline(unfreeze_step, ls="--", color="tab:red", alpha=0.6)
    ax2.text(unfreeze_step, ax2.get_ylim()[0], " block3 unfrozen (lr 1e-4)", color="tab:red",
             va="bottom", fontsize=9)
    ax2.set_xlabel("Adam step (batch 64)")
    ax2.set_ylabel(f"test accuracy ({curve_labels[1]} test images)")
    ax2.set_title(f"training at {curve_labels[0]} labels")
    ax2.grid(alpha=0.3)
    ax2.legend()
    fig.suptitle(title)
    fig.tight_layout()
    finish(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding mnist/ and fashion-mnist/ (default: "
                             "$SHENDU_DATA, else ../shared/data beside the repository)")
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 300, 1000, 3000],
                        help="numbers of labelled Fashion-MNIST images")
    parser.add_argument("--seeds", type=int, default=2, help="labelled subsets per count")
    parser.add_argument("--steps", type=int, default=400, help="Adam steps per model")
    parser.add_argument("--pretrain-epochs", type=int, default=2)
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras section")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="3000 MNIST images, 100 and 300 labels, 40 steps (for tests)")
    args = parser.parse_args(argv)
    n_test, n_src = None, None
    if args.quick:
        args.labels, args.seeds, args.steps, args.pretrain_epochs = [100, 300], 1, 40, 2
        n_test, n_src = 1000, 3000
    t_start = time.perf_counter()
    data_dir = args.data_dir or default_data_dir()
    xs, ys = mnist("train", data_dir=data_dir, normalize=True)
    xs_test, ys_test = mnist("test", data_dir=data_dir, normalize=True)
    xf, yf = fashion_mnist("train", data_dir=data_dir, normalize=True)
    xf_test, yf_test = fashion_mnist("test", data_dir=data_dir, normalize=True)
    xs, ys, xs_test, ys_test = xs[:n_src, None], ys[:n_src], xs_test[:n_test, None], \
        ys_test[:n_test]
    xf, xf_test, yf_test = xf[:, None], xf_test[:n_test, None], yf_test[:n_test]

    t0 = time.perf_counter()
    pretrained = pretrain_on_mnist(xs, ys, epochs=args.pretrain_epochs)
    mnist_acc = accuracy(pretrained, xs_test, ys_test)
    print(f"MNIST network: test accuracy {mnist_acc:.4f} on MNIST "
          f"({time.perf_counter() - t0:.0f} s); on Fashion-MNIST without retraining the "
          f"head it is meaningless", flush=True)
    before = {k: p.detach().numpy().copy() for k, p in pretrained.named_parameters()}

    results = {n: {m: [] for m in METHODS} for n in args.labels}
    curve_n = 1000 if 1000 in args.labels else args.labels[-1]
    curve_test = slice(0, min(2000, len(xf_test)))
    curves = {m: [] for m in METHODS}
    frozen_unchanged = {}
    for n in args.labels:
        for seed in range(args.seeds):
            idx = labelled_subset(yf, n, seed)
            for m in METHODS:
                record = curve_n == n and seed == 0
                on_eval = (lambda step, model, m=m: curves[m].append(
                    (step, accuracy(model, xf_test[curve_test], yf_test[curve_test])))) \
                    if record else None
                t0 = time.perf_counter()
                model = run_method(m, pretrained, xf[idx], yf[idx], args.steps, seed,
                                   on_eval=on_eval, eval_every=max(1, args.steps // 8))
                acc = accuracy(model, xf_test, yf_test)
                results[n][m].append(acc)
                if m != "scratch":  # block1 stays frozen in both; check it did not move
                    w = model.features.block1[0].weight.detach().numpy()
                    frozen_unchanged[m] = frozen_unchanged.get(m, True) and bool(
                        np.array_equal(w, before["features.block1.0.weight"]))
                print(f"  {n:5d} labels, seed {seed}, {m:18s}: test accuracy {acc:.4f} "
                      f"({time.perf_counter() - t0:.0f} s)", flush=True)
    print("\nlabels  " + "  ".join(f"{m:>18s}" for m in METHODS))
    for n in args.labels:
        print(f"{n:6d}  " + "  ".join(f"{np.mean(results[n][m]):18.4f}" for m in METHODS))

    keras_acc = None
    if not args.no_keras:
        t0 = time.perf_counter()
        idx = labelled_subset(yf, curve_n, 0)
        epochs = max(1, round(args.steps / 2 * 64 / curve_n))
        acc_fe, acc_ft, base = keras_transfer(
            xs.reshape(-1, 28, 28, 1), ys, xf[idx].reshape(-1, 28, 28, 1), yf[idx],
            xf_test.reshape(-1, 28, 28, 1), yf_test, epochs=epochs, fine_tune_epochs=epochs)
        keras_acc = {"feature extraction": acc_fe, "fine-tuning": acc_ft,
                     "trainable_after": [layer.trainable for layer in base.layers]}
        print(f"Keras API, {curve_n} labels: feature extraction {acc_fe:.4f}, fine-tuned "
              f"{acc_ft:.4f} ({time.perf_counter() - t0:.0f} s)")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "transfer_learning.png"
    plot(results, curves, args.steps // 2, (curve_n, curve_test.stop), png,
         f"Fashion-MNIST with few labels: a CNN trained on MNIST (test acc {mnist_acc:.3f}) "
         f"reused, {args.steps} Adam steps each")
    wall = time.perf_counter() - t_start
    print(f"Saved {png}  (wall time {wall:.0f} s)")
    return dict(results=results, curves=curves, mnist_accuracy=mnist_acc, keras=keras_acc,
                frozen_unchanged=frozen_unchanged, pretrained=pretrained, png=png,
                wall_seconds=wall)


if __name__ == "__main__":
    main()
