"""Reading strips of handwritten digits with CTC (CNN + bidirectional LSTM + CTCLoss).

Trained with ``nn.CTCLoss`` on (image, digit string) pairs, the model reads "3 1 4 1 5"
off one image with no per-digit positions given.

Lesson 004, RNN "Many-to-Many (output is shorter)": speech recognition turns a vector
sequence into a shorter character sequence; Connectionist Temporal Classification (CTC,
Graves et al. 2006) adds an extra symbol φ for "nothing" (加了一個額外的 symbol φ 來代表
Null), so that 好好好棒棒棒棒 reads as 好棒 while 好φφ棒φφ棒 reads as 好棒棒 (這樣就可以知道
到底是一個棒還是兩個棒). The network emits, at each of T frames, a distribution over the
labels and the blank φ; a label sequence is read off by collapsing repeats and dropping
blanks, and the loss sums the probability of every frame-wise path that reads as the
target (docs/ctc.md). Here the "speech" is a strip of handwritten digits.

**Strips.** 3 to 5 MNIST digits side by side in a 28 x 140 image: consecutive digits
start 20 to 28 pixels apart (neighbours may touch: MNIST digits have empty margins), the
whole row shifted by a random offset. The label is the digits from left to right (3-5
labels). Training strips are drawn afresh for every batch from the 60,000 training
digits; the held-out strips use only the 10,000 test digits.

**Model.** Conv 3x3 + BatchNorm + ReLU twice with MaxPool 2 after each (1 -> 16 -> 32
channels, 28 x 140 -> 7 x 35), a Conv 3x3 to 64 channels, then a Conv (7, 1) that folds
the height into 128 features: 35 frames of 4 pixels each, ``(T=35, N, 128)``. A
bidirectional LSTM (64 per direction) reads the frames; a Linear maps each frame to 11
classes (blank = 0, digit d = d + 1); ``log_softmax``; ``nn.CTCLoss``. Adam 3e-3 with
cosine decay, batch 64, gradients clipped at norm 5.

**Decoding.** ``nn.ctc_greedy_decode`` (best path); ``nn.ctc_beam_search_decode`` (prefix
beam search, beam 8) on a subset, for comparison. The figure is the **exact-sequence
accuracy**: the fraction of held-out strips whose whole digit string is right.

Picture: ``ctc_mnist_strips.png``: held-out strips with the true and the decoded digits
(mistakes in red), and under each strip the per-frame probability of the blank and of
the most likely digit: CTC's typical "spikes", one frame per digit, blanks between.

Run: python examples/ctc_mnist_strips.py [--steps 1000] [--out DIR]

Measured (2-core AMD EPYC, AVX-512, OMP_NUM_THREADS=1, the machine shared with other jobs;
seed 0, 1000 steps of batch 64 = 64,000 strips, about 4.3 epochs' worth of MNIST digits;
2,000 held-out strips of test digits):

    decoding              exact sequences   3 digits   4 digits   5 digits
    greedy (2,000 strips)      0.9670         0.977      0.966      0.959
    beam search 8 (first 500)  0.9580 (greedy on the same 500: 0.9580)

Seed 1 (its own model and its own 2,000 held-out strips): greedy 0.9640 (3 digits 0.973,
4: 0.964, 5: 0.954), beam search 0.9740 against greedy 0.9720 on its first 500.
The CTC loss (per label, reduction 'mean') falls from 17 to 2.5 in the first 100 steps
(the model learns to say "blank" everywhere, then where the digits are), 0.21 after 200
steps, 0.031 at the end. Beam search changes nothing here: the model is confident and
each digit's probability mass sits on one or two frames (the spikes in the picture), so
the best path is the best labelling. The mistakes in the picture misread one digit (an 8
squeezed against its neighbour read as 0, a 5 read as 3). Training 255 s for 1000 steps
(0.26 s a step, one thread; 314 s on a busier run), wall time 263 s (``--quick``: ~6 s).
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import nn, optim
from shendu.datasets import mnist

HEIGHT, WIDTH, MAX_DIGITS, MIN_DIGITS = 28, 140, 5, 3
BLANK = 0   # class 0 is the blank, digit d is class d + 1


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return None
    return Path(__file__).resolve().parents[2] / "shared" / "data"


# ------------------------------------------------------------------------- strips
def make_strips(digits, labels, n, rng, min_step=20):
    """``n`` strips of 3-5 digits and their labels.

    Parameters
    ----------
    digits : ``(M, 28, 28)`` float images in [0, 1];  labels : ``(M,)`` ints 0..9
    rng : numpy Generator;  min_step : the least distance between digit starts (pixels)

    Returns
    -------
    images : ``(n, 1, 28, 140)`` float32;  targets : ``(n, 5)`` int64 CTC classes
    (digit + 1), padded with 0;  lengths : ``(n,)`` int64, 3..5.

    >>> d = np.ones((4, 28, 28), np.float32); lab = np.array([7, 2, 9, 0])
    >>> im, tg, ln = make_strips(d, lab, 3, np.random.default_rng(0))
    >>> im.shape, tg.shape, bool(((ln >= 3) & (ln <= 5)).all()), bool((tg[:, :3] > 0).all())
    ((3, 1, 28, 140), (3, 5), True, True)
    """
    lengths = rng.integers(MIN_DIGITS, MAX_DIGITS + 1, n)
    step = rng.integers(min_step, 29, n)
    step = np.minimum(step, (WIDTH - 28) // (lengths - 1))      # 5 digits: at most 28
    width = 28 + (lengths - 1) * step
    start = (rng.random(n) * (WIDTH - width + 1)).astype(np.int64)
    pick = rng.integers(0, len(digits), (n, MAX_DIGITS))
    canvas = np.zeros((n, HEIGHT, WIDTH), np.float32)
    cols = np.arange(28)
    for k in range(MAX_DIGITS):   # a loop over digit slots, each vectorised over strips
        rows = np.flatnonzero(lengths > k)
        x = (start[rows] + k * step[rows])[:, None] + cols[None]          # (r, 28)
        r = rows[:, None]
        # neighbours may overlap: keep the brighter pixel (each strip once per slot)
        canvas[r, :, x] = np.maximum(canvas[r, :, x], digits[pick[rows, k]].transpose(0, 2, 1))
    targets = np.where(np.arange(MAX_DIGITS)[None] < lengths[:, None], labels[pick] + 1, 0)
    return canvas[:, None], targets.astype(np.int64), lengths.astype(np.int64)


def to_text(labels):
    """CTC classes (digit + 1) -> "3 1 4"."""
    return " ".join(str(c - 1) for c in labels)


# ------------------------------------------------------------------------- model
class StripReader(nn.Module):
    """CNN over the strip -> 35 frames -> BiLSTM -> per-frame log-probabilities.

    ``forward(images (N, 1, 28, 140))`` -> ``(T=35, N, 11)`` log-probabilities (time
    first, as ``ctc_loss`` takes them).
    """

    def __init__(self, channels=(16, 32, 64), features=128, hidden=64, classes=11):
        super().__init__()
        c1, c2, c3 = channels
        self.cnn = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU(),
            nn.Conv2d(c3, features, (HEIGHT // 4, 1)), nn.BatchNorm2d(features), nn.ReLU())
        self.rnn = nn.LSTM(features, hidden, bidirectional=True)
        self.out = nn.Linear(2 * hidden, classes)

    def forward(self, images):
        f = self.cnn(images)                          # (N, F, 1, W/4)
        frames = f.squeeze(2).permute(2, 0, 1)        # (T, N, F)
        h, _ = self.rnn(frames)                       # (T, N, 2H)
        return F.log_softmax(self.out(h), dim=2)      # (T, N, 11)


def read_strips(model, images, batch_size=500):
    """Per-frame log-probabilities ``(T, N, 11)`` of ``images`` in eval mode."""
    model.eval()
    parts = []
    with shendu.no_grad():
        for i in range(0, len(images), batch_size):
            parts.append(model(shendu.tensor(images[i:i + batch_size])).numpy())
    model.train()
    return np.concatenate(parts, axis=1)


def exact_accuracy(decoded, targets, lengths):
    """Fraction of strips whose decoded label list equals the target (all digits).

    >>> exact_accuracy([[4, 2, 1], [3, 3]], np.array([[4, 2, 1], [3, 3, 3]]), [3, 3])
    0.5
    """
    right = [list(d) == list(t[:n]) for d, t, n in zip(decoded, np.asarray(targets), lengths)]
    return float(np.mean(right))


# ------------------------------------------------------------------------- picture
def plot_strips(images, targets, lengths, decoded, log_probs, path, title):
    """One row per strip: the image with true/decoded digits, then the per-frame
    probability of blank and of the best digit."""
    from shendu.viz._mpl import finish, new_figure
    n = len(images)
    fig = new_figure("ctc_mnist_strips", figsize=(8, 1.9 * n + 0.4))
    axes = fig.subplots(2 * n, 1, squeeze=False, gridspec_kw={"height_ratios": [3, 1] * n})
    T = log_probs.shape[0]
    for i in range(n):
        truth = to_text(targets[i, :lengths[i]])
        pred = to_text(decoded[i])
        ok = truth == pred
        ax = axes[2 * i, 0]
        ax.imshow(images[i, 0], cmap="gray", vmin=0, vmax=1, aspect="auto")
        ax.set_title(f"true: {truth}    decoded: {pred}" + ("" if ok else "   (WRONG)"),
                     fontsize=9, color="black" if ok else "tab:red")
        ax.set_xticks([])
        ax.set_yticks([])
        p = np.exp(log_probs[:, i])
        ax = axes[2 * i + 1, 0]
        centres = (np.arange(T) + 0.5) * WIDTH / T
        ax.plot(centres, p[:, BLANK], color="0.6", lw=1, label="blank")
        ax.plot(centres, p[:, 1:].max(axis=1), color="tab:blue", lw=1.2, label="best digit")
        best = p.argmax(axis=1)
        emitted = (best != BLANK) & np.r_[True, best[1:] != best[:-1]]   # what decoding reads
        for t in np.flatnonzero(emitted):
            ax.text(centres[t], 1.02, str(best[t] - 1), fontsize=7, ha="center",
                    va="bottom", color="tab:blue")
        ax.set_xlim(0, WIDTH)
        ax.set_ylim(0, 1.35)
        ax.set_yticks([0, 1])
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7, loc="center right", ncol=2, frameon=False)
    axes[-1, 0].set_xlabel(f"pixel column ({T} frames of {WIDTH // T} px)", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    finish(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding mnist/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--steps", type=int, default=1000, help="Adam steps")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--test-strips", type=int, default=2000)
    parser.add_argument("--beam-strips", type=int, default=500,
                        help="held-out strips also decoded by beam search (0: none)")
    parser.add_argument("--beam", type=int, default=8, help="beam width")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="40 steps of batch 16, 64 test strips (for tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.steps, args.batch_size, args.test_strips, args.beam_strips = 40, 16, 64, 8
    t_start = time.perf_counter()
    data_dir = args.data_dir or default_data_dir()
    x, y = mnist("train", data_dir=data_dir, normalize=True)
    x_test, y_test = mnist("test", data_dir=data_dir, normalize=True)
    rng = np.random.default_rng(args.seed)
    test_images, test_targets, test_lengths = make_strips(
        x_test, y_test, args.test_strips, np.random.default_rng(args.seed + 1))

    shendu.manual_seed(args.seed)
    model = StripReader()
    criterion = nn.CTCLoss(blank=BLANK)
    opt = optim.Adam(model.parameters(), lr=args.lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.steps)
    losses, t0 = [], time.perf_counter()
    for step in range(1, args.steps + 1):
        images, targets, lengths = make_strips(x, y, args.batch_size, rng)
        log_probs = model(shendu.tensor(images))
        frames = [log_probs.shape[0]] * args.batch_size
        loss = criterion(log_probs, shendu.tensor(targets), frames, lengths)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % max(1, args.steps // 10) == 0:
            print(f"  step {step}/{args.steps}: CTC loss {np.mean(losses[-50:]):.4f} "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    train_seconds = time.perf_counter() - t0

    log_probs = read_strips(model, test_images)
    greedy = nn.ctc_greedy_decode(log_probs)
    exact = exact_accuracy(greedy, test_targets, test_lengths)
    by_length = {int(k): exact_accuracy([g for g, n in zip(greedy, test_lengths) if n == k],
                                        test_targets[test_lengths == k],
                                        test_lengths[test_lengths == k])
                 for k in range(MIN_DIGITS, MAX_DIGITS + 1) if (test_lengths == k).any()}
    result = dict(greedy_exact=exact, by_length=by_length)
    print(f"held-out strips ({args.test_strips}), greedy: exact sequences {exact:.4f}; by "
          "length " + ", ".join(f"{k}: {v:.3f}" for k, v in by_length.items()))
    if args.beam_strips:
        m = min(args.beam_strips, args.test_strips)
        beamed, _ = nn.ctc_beam_search_decode(log_probs[:, :m], beam_width=args.beam)
        result["beam_exact"] = exact_accuracy(beamed, test_targets[:m], test_lengths[:m])
        result["greedy_exact_subset"] = exact_accuracy(greedy[:m], test_targets[:m],
                                                       test_lengths[:m])
        print(f"first {m} strips: beam search ({args.beam}) {result['beam_exact']:.4f}, "
              f"greedy {result['greedy_exact_subset']:.4f}")

    wrong = [i for i, (g, t, n) in enumerate(zip(greedy, test_targets, test_lengths))
             if g != list(t[:n])]
    right = [i for i in range(len(greedy)) if i not in set(wrong)][:4]
    show = right + wrong[:6 - len(right)]      # four right and two wrong when there are
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "ctc_mnist_strips.png"
    plot_strips(test_images[show], test_targets[show], test_lengths[show],
                [greedy[i] for i in show], log_probs[:, show], png,
                f"CTC on MNIST strips: held-out exact sequences {exact:.3f} (greedy)")
    wall = time.perf_counter() - t_start
    print(f"Saved {png}  (training {train_seconds:.0f} s, wall time {wall:.0f} s)")
    result.update(losses=losses, greedy=greedy, test_targets=test_targets,
                  test_lengths=test_lengths, log_probs=log_probs, model=model, png=png,
                  train_seconds=train_seconds, wall_seconds=wall)
    return result


if __name__ == "__main__":
    main()
