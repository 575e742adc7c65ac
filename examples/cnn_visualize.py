"""What a CNN learned: train a small CNN on MNIST briefly, then draw its filters and feature maps.

Lesson 003, "根據特徵做學習？": the course shows the 64 feature maps after each layer of
a trained network's first block. This script trains a small CNN for one short epoch,
then draws with ``shendu.viz``:

- ``cnn_visualize_filters_init.png`` and ``cnn_visualize_filters.png``: the 16 first-layer
  5x5 filters before and after training (``plot_filters``), random noise at the start.
- ``cnn_visualize_maps1.png`` and ``cnn_visualize_maps2.png``: the feature maps
  (``plot_feature_maps``, the conv layer's output before its ReLU) of the first conv
  layer (16 maps, 28x28) and of the second (32 maps, 14x14, computed from the first
  layer's maps after ReLU and 2x2 max pooling) for one test digit, a 7.

The model (``shendu.nn``)::

    Conv2d(1, 16, 5, padding=2) -> ReLU -> MaxPool2d(2)      16 x 14 x 14
    Conv2d(16, 32, 3, padding=1) -> ReLU -> MaxPool2d(2)     32 x 7 x 7
    Flatten -> Linear(1568, 10)

Cross-entropy, Adam (lr 1e-3), batch 64, one epoch over the 60,000 MNIST training
images (``--train-size`` takes fewer); the test accuracy is measured on all 10,000 MNIST
test images. Without the MNIST files (``$SHENDU_DATA/mnist``, else ``../shared/data``
beside the repository) it uses scikit-learn's 8x8 digits instead (3x3 first-layer
filters, a stratified 80/20 split, 10 epochs) and says so.

Run: python examples/cnn_visualize.py [--out examples_output] [--train-size 60000]

Measured (seed 0, on a 2-core CPU shared with other jobs): one epoch, 938 steps, 88 s
(104 s wall in all); mean training loss 0.225 (2.23 at the first steps); test accuracy
0.9754 on the 10,000 test images (0.954 with ``--train-size 20000``, 31 s). What the
figures show:

- Filters: one epoch moves them by 95% of their initial norm, and their roughness (mean
  difference between neighbouring weights over their spread; 1.25 for the random start)
  falls to 0.97. Several have become edge detectors, light on one side and dark on the
  other, the pattern of the course's hand-written edge kernels (examples/image_kernels.py)
  learned from data: filter 13 (dark upper right, light lower left: a diagonal edge, the
  direction of a 7's stroke), 0 and 11 (light rows over dark ones: horizontal edges), 7
  (a dark left column: a vertical edge). The others still carry much of their random
  start: one epoch is brief, and a 5x5 filter is drawn from only 25 numbers.
- Feature maps make the learning plainer than the filters: in the first layer some maps
  light up along the 7's horizontal bar only (maps 0, 2, 11, 13), others along its
  diagonal stroke (maps 6, 8); in the second layer the responses are coarser and more
  selective, e.g. maps 6, 16 and 20 respond to the bar alone, maps 11, 15, 24 and 25 to
  the stroke's two sides.
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import nn, optim
from shendu.data import DataLoader, TensorDataset


def make_cnn(size, first_kernel):
    """Two conv blocks and a linear layer, for (N, 1, size, size) images."""
    return nn.Sequential(
        nn.Conv2d(1, 16, first_kernel, padding=first_kernel // 2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * (size // 4) ** 2, 10),
    )


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return Path(os.environ["SHENDU_DATA"])
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def load_data(data_dir=None, quick=False):
    """(X_train, y_train, X_test, y_test, description); images (N, 1, H, W) in [0, 1].
    ``quick``: only MNIST's test file is read (6x faster than the training file): its
    images 1000-3999 train, 0-999 test."""
    from shendu.datasets import mnist
    try:
        X_test, y_test = mnist("test", data_dir=data_dir or default_data_dir(), normalize=True)
        if quick:
            return (X_test[1000:4000, None], y_test[1000:4000], X_test[:1000, None],
                    y_test[:1000], "MNIST")
        X_train, y_train = mnist("train", data_dir=data_dir or default_data_dir(),
                                 normalize=True)
        return X_train[:, None], y_train, X_test[:, None], y_test, "MNIST"
    except FileNotFoundError as err:
        print(f"MNIST not found ({str(err).splitlines()[0]}); using scikit-learn's digits")
    from sklearn.model_selection import train_test_split
    from shendu.datasets import digits
    data = digits()
    X = (data.images / 16.0).astype(np.float32)[:, None]
    X_train, X_test, y_train, y_test = train_test_split(
        X, data.target, test_size=0.2, stratify=data.target, random_state=0)
    return X_train, y_train, X_test, y_test, "scikit-learn digits (MNIST files not found)"


def train(model, X, y, epochs, batch_size=64, lr=1e-3):
    """Adam; returns the loss of every step."""
    opt = optim.Adam(model.parameters(), lr=lr)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    losses = []
    model.train()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        n = len(loader)
        print(f"Epoch {epoch + 1}/{epochs} - {n} steps - loss: {np.mean(losses[-n:]):.4f} "
              f"(first steps {np.mean(losses[:10]):.3f}) ({time.perf_counter() - t0:.1f} s)")
    return np.array(losses)


def accuracy(model, X, y, batch_size=1000):
    model.eval()
    with shendu.no_grad():
        predicted = np.concatenate([model(shendu.tensor(X[i:i + batch_size])).numpy().argmax(1)
                                    for i in range(0, len(X), batch_size)])
    return float(np.mean(predicted == y))


def smoothness(weight):
    """Mean absolute difference between neighbouring weights of each filter, relative to
    the filter's spread: about 1.1-1.2 for white noise, smaller for smooth patterns."""
    w = weight.reshape(-1, *weight.shape[-2:])
    steps = np.abs(np.diff(w, axis=1)).mean(axis=(1, 2)) + np.abs(np.diff(w, axis=2)).mean(
        axis=(1, 2))
    return float(np.mean(steps / 2 / w.std(axis=(1, 2))))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNGs")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding mnist/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--train-size", type=int, default=60000,
                        help="MNIST training images used (one epoch)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="3000 training and 1000 test images, all from MNIST's test file, "
                             "8 filters and maps drawn (for tests)")
    args = parser.parse_args(argv)
    from shendu.viz import plot_feature_maps, plot_filters

    t_start = time.perf_counter()
    X_train, y_train, X_test, y_test, source = load_data(args.data_dir, quick=args.quick)
    size = X_train.shape[-1]
    is_mnist = source == "MNIST"
    epochs = 1 if is_mnist else 10
    if not args.quick:
        X_train, y_train = X_train[:args.train_size], y_train[:args.train_size]
    shendu.manual_seed(args.seed)
    model = make_cnn(size, first_kernel=5 if is_mnist else 3)
    print(f"{source}: {len(X_train)} training / {len(X_test)} test images of 1x{size}x{size}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    first = model[0]
    w_init = first.weight.detach().numpy().copy()
    png_init = out / "cnn_visualize_filters_init.png"
    cells = dict(max_filters=8) if args.quick else {}  # fewer panels: faster figures
    plot_filters(first, path=png_init, **cells,
                 title=f"first-layer filters before training ({w_init.shape[-1]}x"
                       f"{w_init.shape[-1]}, random)")

    losses = train(model, X_train, y_train, epochs)
    test_accuracy = accuracy(model, X_test, y_test)
    w = first.weight.detach().numpy()
    change = float(np.linalg.norm(w - w_init) / np.linalg.norm(w_init))
    smooth_init, smooth = smoothness(w_init), smoothness(w)
    print(f"test accuracy: {test_accuracy:.4f} on {len(y_test)} images")
    print(f"first-layer filters: changed by {change:.0%} of their initial norm; "
          f"roughness (neighbour difference / spread, noise ~1.2) {smooth_init:.2f} -> "
          f"{smooth:.2f}")

    png_filters = out / "cnn_visualize_filters.png"
    plot_filters(first, path=png_filters, **cells,
                 title=f"first-layer filters after training ({source.split(' (')[0]}, "
                       f"test accuracy {test_accuracy:.3f})")
    # a test digit: the first 7 (the digit of examples/image_kernels.py on MNIST)
    index = int(np.flatnonzero(y_test == 7)[0])
    image = X_test[index]
    png_maps1 = out / "cnn_visualize_maps1.png"
    plot_feature_maps(model, image, layer=0, path=png_maps1, ncols=9,
                      max_maps=8 if args.quick else 32,
                      title=f"feature maps of the first conv layer for test image {index} "
                            f"(a {y_test[index]})")
    png_maps2 = out / "cnn_visualize_maps2.png"
    plot_feature_maps(model, image, layer=1, path=png_maps2, ncols=11,
                      max_maps=8 if args.quick else 32,
                      title=f"feature maps of the second conv layer for test image {index} "
                            f"(a {y_test[index]}; its input: the first layer's maps after ReLU "
                            f"and 2x2 max pooling)")
    wall = time.perf_counter() - t_start
    print(f"Saved {png_init}, {png_filters}, {png_maps1}, {png_maps2} "
          f"(wall time {wall:.1f} s)")
    return dict(accuracy=test_accuracy, losses=losses, source=source, filter_change=change,
                roughness_init=smooth_init, roughness=smooth, filters_init_png=png_init,
                filters_png=png_filters, maps1_png=png_maps1, maps2_png=png_maps2,
                wall_s=wall)


if __name__ == "__main__":
    main()
