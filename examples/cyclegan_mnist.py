"""CycleGAN on MNIST: translate thin white digits into bold dark ones and back, from unpaired images.

Lesson 003, "CycleGAN" (with "Paired v.s. Unpaired", "Batch v.s. Instance
Normalization", "U-Net" and "PatchGAN"): pix2pix needs each input paired with its
target; CycleGAN learns a translation between two sets of images that share no pairs.
Here the two domains come from the MNIST digits:

* **A**: the digits as they are, white strokes on black;
* **B**: "bold negatives", ``1 - dilate(x)``: each stroke thickened by a 3x3 maximum
  filter, then the image inverted (dark strokes on white).

The 60,000 training digits are split in halves: A images come from the first 30,000
and B images from the other 30,000, so no B image is the transform of any A image the
networks see (unpaired), and nothing tells them that the task is "thicken and invert".
The images are padded from 28x28 to 32x32 and scaled to [-1, 1] (tanh outputs).

The model (``shendu.models``): two U-Net generators ``UNet(1, 1, base_channels=16,
depth=3, norm="instance")`` (32 -> 16 -> 8 -> 4 pixels and back, skip connections by
concatenation, 91,121 weights each) and two PatchGAN discriminators
``PatchGANDiscriminator(1, base_channels=16, n_layers=1)`` (a 14x14 map of logits, each
seeing a 16x16 window, 9,041 weights each), trained by ``CycleGAN`` with the paper's
recipe: least-squares adversarial loss, ``lambda_cycle = 10``, Adam (2e-4, betas
0.5/0.999), an image pool of 50 past fakes per discriminator, a constant learning rate
for the first half of the steps then a linear decay to 0; but no identity loss
(``lambda_identity = 0``, see below).

How well did it translate? Two small CNN classifiers (``shendu.nn``: Conv 5x5 16 ->
pool -> Conv 5x5 32 -> pool -> Linear; 33,738 weights), one trained on all 60,000
training digits of domain A and one on the same digits transformed to domain B (the
bold-negative transform cannot be undone exactly, so B gets its own classifier rather
than an inverse transform), read the 10,000 test digits translated A -> B (by the B
classifier) and B -> A (by the A classifier): a translation that keeps the digit's
identity keeps its class. The cycle reconstruction L1 ``mean |G_BA(G_AB(a)) - a|`` (on
the [-1, 1] scale) measures how well the two maps invert each other, and because this
toy B is a known transform of A we can also score ``mean |G_AB(a) - T(a)|`` against the
true translation, which the networks never saw. The classifiers are saved in ``--out``
and reused by later runs.

Pictures: ``cyclegan_mnist_translations.png`` (one test digit of each class per column;
rows real A, fake B = G_AB(A), reconstructed A = G_BA(G_AB(A)), real B, fake A,
reconstructed B) and ``cyclegan_mnist_losses.png`` (the losses over the steps).

Run: python examples/cyclegan_mnist.py [--out examples_output] [--steps 1200] [--seed 0]

Measured (2-core AMD EPYC, AVX2, shared with up to 6 other jobs; seed 0, 1200 steps of
batch 16): the digit class is kept by 98.22% of the 10,000 test digits translated
A -> B and 98.05% translated B -> A (target >= 90%); cycle reconstruction L1 0.034
(A -> B -> A) and 0.032 (B -> A -> B), L1 to the true translation 0.069 (A -> B) and
0.071 (B -> A), on the [-1, 1] scale. The classifiers score 0.9912 (A) and 0.9859 (B)
on the test digits (target >= 0.985). Wall time: classifiers 605 s when trained (2
epochs each; 16 s when reused), CycleGAN 309 s (0.26 s a step), evaluation 27 s.

Why no identity loss and why so small a network? The first full run used
``UNet(depth=4)`` (a 2x2 bottleneck that sees the whole image), ``n_layers=2``
(34x34 windows: whole digits) and ``lambda_identity=0.5``: after 1200 steps the fakes
were convincing bold digits, but of other classes (a 1 became a 0, a 4 a 1):
only 4.7% (A -> B) and 6.9% (B -> A) kept their class, below chance, while the cycle L1
was a good 0.08. The generators had hidden what G_BA needed to undo the change in
faint details (CycleGAN's known "steganography", Chu et al. 2017): the cycle loss asks
for an invertible map, not a faithful one. Runs of 300 steps, scored on the first
1,000 test digits, then changed one thing at a time:

    generator    PatchGAN window   lambda_identity   class kept A->B / B->A
    depth 4      16x16             0.5               38% / 31%
    depth 2      16x16             0.5               28% / 35%  (fake B not inverted)
    depth 2      16x16             0                 44% / 37%
    depth 3      16x16             0                 96.1% / 96.9%

A 16x16 window judges stroke texture (thickness, polarity), not which digit it is, so
inventing another digit earns nothing; the identity term, which asks G_AB to leave
dark-on-white images unchanged, held G_AB near the identity map and slowed the
inversion (the paper uses it where colours should be kept, not where they flip).
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import nn, optim
from shendu.models.cyclegan import CycleGAN
from shendu.models.patchgan import PatchGANDiscriminator
from shendu.models.unet import UNet


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return None  # the loader reads the environment variable itself
    return Path(__file__).resolve().parents[2] / "shared" / "data"


# ---------------------------------------------------------------------- the two domains
def dilate(images):
    """3x3 maximum filter of (N, H, W) images (zero outside): strokes one pixel thicker
    on each side."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    h, w = images.shape[1:]
    out = images.copy()
    for dy in range(3):
        for dx in range(3):
            np.maximum(out, padded[:, dy:dy + h, dx:dx + w], out=out)
    return out


def to_domain_b(images):
    """Domain B from (N, H, W) pixels in [0, 1]: thicken the strokes, then invert."""
    return 1.0 - dilate(images)


def prepare(images01, domain):
    """(N, 28, 28) pixels in [0, 1] -> (N, 1, 32, 32) float32 in [-1, 1] of ``domain``.

    Padding comes first, with the background of domain A (0), so a B image is padded
    with its own white background by the inversion."""
    x = np.pad(images01, ((0, 0), (2, 2), (2, 2)))
    if domain == "B":
        x = to_domain_b(x)
    return (x * 2 - 1).astype(np.float32)[:, None]


def load_domains(data_dir, n_train=None, n_test=None):
    """MNIST as the two unpaired domains and their paired test sets.

    Returns a dict: ``train_A`` (first half of the training digits), ``train_B`` (second
    half, transformed), ``all_A``/``all_B`` and ``all_labels`` (every training digit in
    both domains, for the classifiers), ``test_A``/``test_B`` (the same 10,000 test
    digits in each domain) and ``test_labels``."""
    x_train, y_train = shendu.datasets.mnist("train", data_dir=data_dir, normalize=True)
    x_test, y_test = shendu.datasets.mnist("test", data_dir=data_dir, normalize=True)
    if n_train is not None:
        x_train, y_train = x_train[:n_train], y_train[:n_train]
    if n_test is not None:
        x_test, y_test = x_test[:n_test], y_test[:n_test]
    half = len(x_train) // 2
    all_A, all_B = prepare(x_train, "A"), prepare(x_train, "B")
    return dict(train_A=all_A[:half], train_B=all_B[half:], labels_A=y_train[:half],
                labels_B=y_train[half:], all_A=all_A, all_B=all_B, all_labels=y_train,
                test_A=prepare(x_test, "A"), test_B=prepare(x_test, "B"), test_labels=y_test)


# ---------------------------------------------------------------------- the classifiers
def build_classifier():
    """A small CNN for (N, 1, 32, 32) digits: 33,738 weights."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),     # 16 x 16 x 16
        nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),    # 32 x 8 x 8
        nn.Flatten(), nn.Linear(32 * 8 * 8, 10))


def predict(model, x, batch_size=500):
    """Predicted classes of (N, 1, 32, 32) images."""
    model.eval()
    out = []
    with shendu.no_grad():
        for i in range(0, len(x), batch_size):
            out.append(model(shendu.tensor(x[i:i + batch_size])).numpy().argmax(axis=1))
    return np.concatenate(out)


def train_classifier(x, y, epochs=2, batch_size=64, lr=2e-3, seed=0, name="classifier"):
    """Adam with a cosine-annealed learning rate over ``epochs`` shuffled epochs."""
    shendu.manual_seed(seed)
    model = build_classifier()
    opt = optim.Adam(model.parameters(), lr=lr)
    steps = epochs * int(np.ceil(len(x) / batch_size))
    schedule = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    rng = np.random.default_rng(seed)
    model.train()
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        total = 0.0
        for i in range(0, len(x), batch_size):
            idx = order[i:i + batch_size]
            opt.zero_grad()
            loss = F.cross_entropy(model(shendu.tensor(x[idx])), shendu.tensor(y[idx]))
            loss.backward()
            opt.step()
            schedule.step()
            total += float(loss.item()) * len(idx)
        print(f"  {name} epoch {epoch + 1}/{epochs}: loss {total / len(x):.4f}")
    return model


def get_classifier(path, x, y, epochs, seed, name):
    """The classifier saved at ``path``, else a freshly trained one saved there;
    returns (model, reused)."""
    model = build_classifier()
    if path.is_file():
        try:
            model.load_state_dict(shendu.load(path))
            return model, True
        except (ValueError, KeyError, RuntimeError) as e:  # stale or damaged: retrain
            print(f"  could not reuse {path} ({e}); training again")
    model = train_classifier(x, y, epochs=epochs, seed=seed, name=name)
    shendu.save(model.state_dict(), path)
    return model, False


# ---------------------------------------------------------------------- CycleGAN
QUICK_SIZES = dict(base_channels=8, depth=3, d_channels=8, n_layers=1, pool_size=10)


def build_cyclegan(base_channels=16, depth=3, d_channels=16, n_layers=1, pool_size=50,
                   lambda_identity=0.0):
    """Two U-Nets and two PatchGANs for 1-channel 32x32 images, in ``CycleGAN``."""
    return CycleGAN(UNet(1, 1, base_channels, depth=depth, norm="instance"),
                    UNet(1, 1, base_channels, depth=depth, norm="instance"),
                    PatchGANDiscriminator(1, d_channels, n_layers=n_layers),
                    PatchGANDiscriminator(1, d_channels, n_layers=n_layers),
                    lambda_cycle=10.0, lambda_identity=lambda_identity, gan_mode="lsgan",
                    lr=2e-4, betas=(0.5, 0.999), pool_size=pool_size)


def train_cyclegan(gan, train_A, train_B, steps, batch_size, seed=0, log_every=100):
    """``steps`` updates on independent random batches of A and B (unpaired); the
    learning rate is constant for the first half, then falls linearly to 0."""
    rng = np.random.default_rng(seed)
    half = steps // 2

    def factor(step):  # the paper's schedule: constant, then linear decay
        return 1.0 if step < half else max(0.0, (steps - step) / max(1, steps - half))
    schedules = [optim.lr_scheduler.LambdaLR(opt, factor)
                 for opt in (gan.optimizer_G, gan.optimizer_D)]
    history = {}
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        a = train_A[rng.integers(len(train_A), size=batch_size)]
        b = train_B[rng.integers(len(train_B), size=batch_size)]
        losses = gan.train_step(shendu.tensor(a), shendu.tensor(b))
        for k, v in losses.items():
            history.setdefault(k, []).append(v)
        for s in schedules:
            s.step()
        if log_every and (step % log_every == 0 or step == steps):
            recent = {k: np.mean(v[-log_every:]) for k, v in history.items()}
            print(f"  step {step}/{steps}: G {recent['G']:.3f} (adv {recent['adv_AB']:.3f}/"
                  f"{recent['adv_BA']:.3f}, cycle {recent['cycle_A']:.3f}/"
                  f"{recent['cycle_B']:.3f}, identity {recent['identity_AB']:.3f}/"
                  f"{recent['identity_BA']:.3f})  D {recent['D_A']:.3f}/{recent['D_B']:.3f}"
                  f"  {time.perf_counter() - t0:.0f} s")
    return history


def evaluate(gan, clf_A, clf_B, test_A, test_B, labels):
    """Class kept by the translations, cycle L1 and L1 to the true translation."""
    fake_B = gan.translate_A_to_B(test_A).numpy()
    fake_A = gan.translate_B_to_A(test_B).numpy()
    rec_A = gan.translate_B_to_A(fake_B).numpy()
    rec_B = gan.translate_A_to_B(fake_A).numpy()
    return dict(
        fake_A=fake_A, fake_B=fake_B, rec_A=rec_A, rec_B=rec_B,
        keep_class_AB=float(np.mean(predict(clf_B, fake_B) == labels)),
        keep_class_BA=float(np.mean(predict(clf_A, fake_A) == labels)),
        cycle_l1_A=float(np.mean(np.abs(rec_A - test_A))),
        cycle_l1_B=float(np.mean(np.abs(rec_B - test_B))),
        truth_l1_AB=float(np.mean(np.abs(fake_B - test_B))),
        truth_l1_BA=float(np.mean(np.abs(fake_A - test_A))))


# ---------------------------------------------------------------------- pictures
def draw_translations(rows, names, path, title):
    """A grid: one row per entry of ``rows`` ((K, 1, 32, 32) arrays in [-1, 1])."""
    from shendu.viz._mpl import finish, new_figure
    k = len(rows[0])
    fig = new_figure("cyclegan_mnist", (1.0 * k + 1.6, 1.05 * len(rows) + 0.5))
    axes = fig.subplots(len(rows), k, squeeze=False)
    for r, (images, name) in enumerate(zip(rows, names)):
        for c in range(k):
            ax = axes[r][c]
            ax.imshow(images[c, 0], cmap="gray", vmin=-1, vmax=1)
            ax.set_xticks([])
            ax.set_yticks([])
        axes[r][0].set_ylabel(name, rotation=0, ha="right", va="center", fontsize=10)
    fig.suptitle(title, fontsize=11)
    fig.subplots_adjust(left=1.5 / (1.0 * k + 1.6), right=0.99, bottom=0.02, top=0.9,
                        wspace=0.05, hspace=0.08)
    return finish(fig, path)


def draw_losses(history, path):
    from shendu.viz._mpl import finish, new_figure
    fig = new_figure("cyclegan_mnist", (10.0, 3.6))
    window = max(1, len(history["G"]) // 50)

    def smooth(v):
        v = np.asarray(v, dtype=np.float64)
        c = np.concatenate([[0.0], np.cumsum(v)])
        return (c[window:] - c[:-window]) / window
    panels = [("adversarial (least squares)", ["adv_AB", "adv_BA", "D_A", "D_B"]),
              ("cycle and identity L1", ["cycle_A", "cycle_B", "identity_AB",
                                         "identity_BA"])]
    for i, (title, keys) in enumerate(panels):
        ax = fig.add_subplot(1, 2, i + 1)
        for key in keys:
            if not np.any(history[key]):  # identity terms when lambda_identity = 0
                continue
            y = smooth(history[key])
            ax.plot(np.arange(window, window + len(y)), y, label=key)
        ax.set_title(f"{title}, running mean of {window}")
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return finish(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output",
                        help="folder for the PNGs and the saved weights")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding mnist/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--steps", type=int, default=None,
                        help="CycleGAN updates (default 1200; 40 with --quick)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--classifier-epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="2,000 training and 500 test digits, small networks, 40 steps "
                             "(for tests)")
    args = parser.parse_args(argv)
    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data_dir = args.data_dir or default_data_dir()
    if args.quick:
        data = load_domains(data_dir, n_train=2000, n_test=500)
        steps, batch_size, epochs = args.steps or 40, 8, 1
        sizes = QUICK_SIZES
        suffix = "_quick"
    else:
        data = load_domains(data_dir)
        steps, batch_size = args.steps or 1200, args.batch_size
        epochs = args.classifier_epochs
        sizes = {}
        suffix = ""
    print(f"domain A: {len(data['train_A'])} digits, domain B: {len(data['train_B'])} "
          f"other digits (unpaired), {len(data['test_A'])} test digits in each")

    # the measuring instruments: one classifier per domain
    t0 = time.perf_counter()
    clf_A, reused_A = get_classifier(out / f"cyclegan_mnist_classifier_A{suffix}.safetensors",
                                     data["all_A"], data["all_labels"], epochs, args.seed,
                                     "classifier A")
    clf_B, reused_B = get_classifier(out / f"cyclegan_mnist_classifier_B{suffix}.safetensors",
                                     data["all_B"], data["all_labels"], epochs, args.seed + 1,
                                     "classifier B")
    acc_A = float(np.mean(predict(clf_A, data["test_A"]) == data["test_labels"]))
    acc_B = float(np.mean(predict(clf_B, data["test_B"]) == data["test_labels"]))
    classifier_seconds = time.perf_counter() - t0
    print(f"classifiers ({'reused' if reused_A and reused_B else 'trained'}, "
          f"{classifier_seconds:.0f} s): test accuracy A {acc_A:.4f}, B {acc_B:.4f}"
          + ("" if args.quick else " (target >= 0.985)"))

    shendu.manual_seed(args.seed)
    gan = build_cyclegan(**sizes)
    n_g = sum(p.numel() for p in gan.G_AB.parameters())
    n_d = sum(p.numel() for p in gan.D_A.parameters())
    print(f"CycleGAN: 2 U-Nets of {n_g:,} weights, 2 PatchGANs of {n_d:,} weights "
          f"(receptive field {gan.D_A.receptive_field()}, "
          f"{gan.D_A.output_size(32, 32)} logits); {steps} steps of batch {batch_size}")
    t0 = time.perf_counter()
    history = train_cyclegan(gan, data["train_A"], data["train_B"], steps, batch_size,
                             seed=args.seed, log_every=10 if args.quick else 100)
    gan_seconds = time.perf_counter() - t0
    weights = out / f"cyclegan_mnist{suffix}.safetensors"
    gan.save(weights, include_optimizers=False)

    t0 = time.perf_counter()
    scores = evaluate(gan, clf_A, clf_B, data["test_A"], data["test_B"],
                      data["test_labels"])
    eval_seconds = time.perf_counter() - t0
    target = "" if args.quick else " (target >= 0.90)"
    print(f"digit class kept A -> B: {scores['keep_class_AB']:.4f}{target}, "
          f"B -> A: {scores['keep_class_BA']:.4f}{target}")
    print(f"cycle L1 A -> B -> A: {scores['cycle_l1_A']:.4f}, B -> A -> B: "
          f"{scores['cycle_l1_B']:.4f};  L1 to the true translation A -> B: "
          f"{scores['truth_l1_AB']:.4f}, B -> A: {scores['truth_l1_BA']:.4f} "
          f"(on the [-1, 1] scale)")

    labels = data["test_labels"]
    shown = [int(np.flatnonzero(labels == d)[0]) for d in range(10) if np.any(labels == d)]
    rows = [data["test_A"][shown], scores["fake_B"][shown], scores["rec_A"][shown],
            data["test_B"][shown], scores["fake_A"][shown], scores["rec_B"][shown]]
    names = ["real A", "fake B\nG_AB(A)", "rec. A\nG_BA(G_AB(A))", "real B",
             "fake A\nG_BA(B)", "rec. B\nG_AB(G_BA(B))"]
    translations_png = out / "cyclegan_mnist_translations.png"
    draw_translations(rows, names, translations_png,
                      f"CycleGAN after {steps} steps: class kept A->B "
                      f"{scores['keep_class_AB']:.1%}, B->A {scores['keep_class_BA']:.1%}")
    losses_png = out / "cyclegan_mnist_losses.png"
    draw_losses(history, losses_png)
    wall = time.perf_counter() - t_start
    print(f"Saved {translations_png}, {losses_png}, {weights}  (classifiers "
          f"{classifier_seconds:.0f} s, CycleGAN {gan_seconds:.0f} s, evaluation "
          f"{eval_seconds:.0f} s, wall time {wall:.0f} s)")
    return dict(gan=gan, history=history, classifier_accuracy_A=acc_A,
                classifier_accuracy_B=acc_B, classifiers_reused=reused_A and reused_B,
                **{k: v for k, v in scores.items() if not k.startswith(("fake", "rec"))},
                test_A=data["test_A"], test_B=data["test_B"], fake_A=scores["fake_A"],
                fake_B=scores["fake_B"], test_labels=labels, weights=weights,
                translations_png=translations_png, losses_png=losses_png,
                gan_seconds=gan_seconds, wall_seconds=wall)


if __name__ == "__main__":
    main()
