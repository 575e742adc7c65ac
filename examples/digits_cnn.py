"""A small convolutional network on the 8x8 digits, PyTorch style, scored on a held-out test split.

Lesson 003, "建立卷積神經網路": convolution, ReLU, max pooling, flattening and a fully
connected layer, the course's CNN recipe, on the same 8x8 digits as its MLPClassifier
lesson (examples/digits_mlp.py). A convolution shares one 3x3 filter over all positions,
so the first layer has 32 * (9 + 1) = 320 weights where digits_mlp.py's dense layer
from 64 pixels to 512 units has 33,280.

The model (``shendu.nn``; 8x8 images, one channel, pixels divided by 16)::

    Conv2d(1, 32, 3, padding=1) -> BatchNorm2d(32) -> ReLU             32 x 8 x 8
    Conv2d(32, 32, 3, padding=1) -> BatchNorm2d(32) -> ReLU -> MaxPool2d(2)   32 x 4 x 4
    Conv2d(32, 64, 3, padding=1) -> BatchNorm2d(64) -> ReLU -> MaxPool2d(2)   64 x 2 x 2
    Flatten -> Dropout(0.3) -> Linear(256, 10)

30,890 parameters; cross-entropy, Adam (lr 1e-3, cosine-annealed to 0 over the run),
batch 32, 30 epochs. The data: the 1797 digits split once, stratified by class, into 1437
for training and 360 held out for the test (``train_test_split(test_size=0.2,
stratify=y, random_state=0)``); the test digits are used only for the final score,
never to choose epochs or settings.

Run: python examples/digits_cnn.py [--out examples_output] [--epochs 30] [--seed 0]

Measured (on a 2-core CPU shared with other jobs): test accuracy 0.9972 with seed 0 (1 of
360 test digits wrong: a 2 read as a 1), target >= 0.98; seeds 1 and 2: 0.9972 and 0.9944.
The training accuracy reaches 1.000 by epoch 9 and the training loss falls from 0.89 (epoch
1) to 0.0025 (epoch 30). 30 epochs of 45 steps, 2-3 s per epoch when the machine
is less busy: 88 to 236 s wall in all, depending on the other jobs. For comparison, the MLP of
digits_mlp.py scores 0.979 (5-fold cross-validation, so not the same test).
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
from shendu.datasets import digits


def make_cnn(n_classes=10):
    """The small CNN of the docstring, for (N, 1, 8, 8) images."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 2 * 2, n_classes),
    )


def load_split(seed=0):
    """Images as (N, 1, 8, 8) float32 in [0, 1]; stratified 80/20 train/test split."""
    from sklearn.model_selection import train_test_split

    data = digits()
    X = (data.images / 16.0).astype(np.float32)[:, None]
    return train_test_split(X, data.target, test_size=0.2, stratify=data.target,
                            random_state=seed)


def train(model, X, y, epochs, batch_size=32, lr=1e-3, verbose=True):
    """Adam with cosine-annealed learning rate; returns per-epoch (loss, accuracy)."""
    opt = optim.Adam(model.parameters(), lr=lr)
    sched = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    loader = DataLoader(TensorDataset(X, y), batch_size=batch_size, shuffle=True)
    history = []
    for epoch in range(epochs):
        model.train()
        t0, total, correct = time.perf_counter(), 0.0, 0
        for xb, yb in loader:
            opt.zero_grad()
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += int((logits.detach().numpy().argmax(1) == yb.numpy()).sum())
        sched.step()
        history.append((total / len(X), correct / len(X)))
        if verbose:
            print(f"Epoch {epoch + 1}/{epochs} - loss: {history[-1][0]:.4f} - "
                  f"accuracy: {history[-1][1]:.4f} ({time.perf_counter() - t0:.1f} s)")
    return history


def predict(model, X, batch_size=512):
    model.eval()
    with shendu.no_grad():
        return np.concatenate([model(shendu.tensor(X[i:i + batch_size])).numpy().argmax(1)
                               for i in range(0, len(X), batch_size)])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNGs")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0, help="weights and batch order")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="2 epochs on 600 training digits (for tests)")
    args = parser.parse_args(argv)
    from shendu.metrics import confusion_matrix
    from shendu.viz import image_grid, plot_confusion_matrix

    t_start = time.perf_counter()
    X_train, X_test, y_train, y_test = load_split()
    epochs = args.epochs
    if args.quick:
        X_train, y_train, epochs = X_train[:600], y_train[:600], 2
    shendu.manual_seed(args.seed)
    model = make_cnn()
    n_params = sum(p.numel() for p in model.parameters())
    print(f"digits: {len(X_train)} training / {len(X_test)} test images of 1x8x8 "
          f"(stratified split); {n_params} parameters")
    history = train(model, X_train, y_train, epochs)
    predicted = predict(model, X_test)
    accuracy = float(np.mean(predicted == y_test))
    wrong = np.flatnonzero(predicted != y_test)
    print(f"test accuracy: {accuracy:.4f} ({len(wrong)} of {len(y_test)} wrong)"
          + ("" if args.quick else "  (target >= 0.98)"))
    print("confusion matrix (rows: true 0..9, columns: predicted):")
    matrix = confusion_matrix(y_test, predicted, num_classes=10)
    print(np.asarray(matrix))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # the course's 6x6 figure: the mistakes first, then the first right ones
    shown = np.concatenate([wrong, np.flatnonzero(predicted == y_test)])[:36]
    grid_png = out / "digits_cnn.png"
    image_grid(X_test[shown, 0], labels=y_test[shown], predictions=predicted[shown],
               path=grid_png,
               title=f"digits CNN, held-out test: {len(wrong)} of {len(y_test)} wrong "
                     f"(mistakes first, true class in brackets)")
    confusion_png = out / "digits_cnn_confusion.png"
    plot_confusion_matrix(y_test, predicted, path=confusion_png,
                          title=f"digits CNN, test accuracy {accuracy:.4f}")
    wall = time.perf_counter() - t_start
    print(f"Saved {grid_png} and {confusion_png}  (wall time {wall:.1f} s)")
    return dict(accuracy=accuracy, history=history, predicted=predicted, n_params=n_params,
                epochs=epochs, n_train=len(X_train), n_test=len(X_test), png=grid_png,
                confusion_png=confusion_png, wall_s=wall)


if __name__ == "__main__":
    main()
