"""Overfitting and underfitting on the red wine data: capacity, dropout, batch norm, early stopping.

Lesson 001, "過適&乏適" (overfitting and underfitting): read the learning curves
(training loss against validation loss), then the four remedies the course lists:

1. model capacity ("改變模型容量"): the course's ``Dense(16)`` model, the ``wider``
   ``Dense(32)`` and the ``deeper`` ``Dense(16), Dense(16)``, next to the red wine
   lesson's 3x512 network. The small ones underfit (training and validation curves stay
   together, at a higher loss); the big one overfits (its training MAE keeps falling far
   below the validation MAE, which stops improving and drifts up);
2. ``layers.Dropout(rate=0.3)`` after each hidden layer of the big network: the gap
   shrinks and the validation MAE is the lowest of all;
3. ``layers.BatchNormalization()`` after each hidden layer ("可以放在一層後"): on this
   already min-max scaled data it makes training noisier and validation worse. The same
   network in PyTorch (BatchNorm1d, eps 1e-3, momentum 0.01, Adam) does the same (lowest
   validation MAE 0.102 vs 0.091 without), so this is batch norm here, not a bug; it
   earns its keep in deeper networks and on badly scaled inputs;
4. ``EarlyStopping(min_delta=0.001, patience=20, restore_best_weights=True)``: stops
   when the validation loss has not improved for 20 epochs and keeps the best weights.

All models: Adam, MAE loss, batch 256, on the red wine lesson's data (the same 70/30
split and min-max scaling, from examples/red_wine.py), written Keras-style as in the
course with only the imports changed. The figure shows one panel per remedy, training
curves dashed and validation curves solid.

Run: python examples/overfitting.py [--out examples_output] [--epochs 200]

Measured (2-core CPU, 200 epochs, seed 0), final training / validation MAE (lowest
validation MAE):
    model (16)                  0.098 / 0.100  (0.099)
    wider (32)                  0.095 / 0.097  (0.096)
    deeper (16, 16)             0.094 / 0.097  (0.097)
    3x512                       0.041 / 0.098  (0.090 at epoch 114)
    3x512 + Dropout(0.3)        0.075 / 0.092  (0.087 at epoch 162)
    3x512 + BatchNormalization  0.067 / 0.114  (0.104)
    3x512 + EarlyStopping       stopped at epoch 65, best 0.092 at epoch 45 (restored)
Wall time 63-87 s (OPENBLAS_NUM_THREADS=1; the machine was shared).
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

from shendu import keras
from shendu.keras import layers
from shendu.keras.callbacks import EarlyStopping

# examples/red_wine.py: the course's data steps (split, min-max scaling)
from red_wine import default_data_dir, load_red_wine


def big(dropout=False, batch_norm=False):
    """The red wine lesson's 3x512 network, optionally with Dropout or BatchNormalization."""
    stack = []
    for i in range(3):
        first = {'input_shape': [11]} if i == 0 else {}
        stack.append(layers.Dense(512, activation='relu', **first))
        if batch_norm:
            stack.append(layers.BatchNormalization())
        if dropout:
            stack.append(layers.Dropout(rate=0.3))
    stack.append(layers.Dense(1))
    return keras.Sequential(stack)


def models():
    """name -> (model, callbacks), one entry per curve of the figure."""
    return {
        # 1. capacity: the course's three small models, and the big one
        "model (16)": (keras.Sequential([
            layers.Dense(16, activation='relu', input_shape=[11]),
            layers.Dense(1),
        ]), []),
        "wider (32)": (keras.Sequential([
            layers.Dense(32, activation='relu', input_shape=[11]),
            layers.Dense(1),
        ]), []),
        "deeper (16, 16)": (keras.Sequential([
            layers.Dense(16, activation='relu', input_shape=[11]),
            layers.Dense(16, activation='relu'),
            layers.Dense(1),
        ]), []),
        "3x512": (big(), []),
        # 2. and 3.: the big network with dropout, with batch normalization
        "3x512 + Dropout(0.3)": (big(dropout=True), []),
        "3x512 + BatchNormalization": (big(batch_norm=True), []),
        # 4. the big network with early stopping
        "3x512 + EarlyStopping": (big(), [EarlyStopping(
            min_delta=0.001,
            patience=20,
            restore_best_weights=True,
        )]),
    }


PANELS = [
    ("1. Capacity: small models underfit, 3x512 overfits",
     ["model (16)", "wider (32)", "deeper (16, 16)", "3x512"]),
    ("2. Dropout(rate=0.3) after each hidden layer", ["3x512", "3x512 + Dropout(0.3)"]),
    ("3. BatchNormalization after each hidden layer (no gain here)",
     ["3x512", "3x512 + BatchNormalization"]),
    ("4. EarlyStopping(min_delta=0.001, patience=20)", ["3x512", "3x512 + EarlyStopping"]),
]


def run_all(data, epochs, verbose=0):
    """Train every model; returns {name: history dict}."""
    X_train, X_valid, y_train, y_valid = data
    histories = {}
    for name, (model, callbacks) in models().items():
        t0 = time.perf_counter()
        model.compile(optimizer='adam', loss='mae')
        history = model.fit(
            X_train, y_train,
            validation_data=(X_valid, y_valid),
            batch_size=256,
            epochs=epochs,
            callbacks=callbacks,
            verbose=verbose,
        )
        histories[name] = history.history
        h = history.history
        print(f"  {name:28s} {len(h['loss']):4d} epochs: final train MAE {h['loss'][-1]:.4f}, "
              f"val MAE {h['val_loss'][-1]:.4f} (min {min(h['val_loss']):.4f} at epoch "
              f"{int(np.argmin(h['val_loss'])) + 1})  {time.perf_counter() - t0:.1f} s")
    return histories


def plot(histories, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(13, 9), sharey=True)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    top = max(max(h["val_loss"][2:] + h["loss"][2:]) for h in histories.values())
    for ax, (title, names) in zip(axes.flat, PANELS):
        for color, name in zip(colors, names):
            h = histories[name]
            epochs = np.arange(1, len(h["loss"]) + 1)
            ax.plot(epochs, h["loss"], "--", color=color, lw=1, label=f"{name}: train")
            ax.plot(epochs, h["val_loss"], "-", color=color, lw=1.5, label=f"{name}: validation")
            if name.endswith("EarlyStopping"):
                best = int(np.argmin(h["val_loss"])) + 1
                ax.axvline(best, color=color, ls=":", lw=1)
                ax.annotate(f"best epoch {best}, stopped at {len(h['loss'])}",
                            (best, h["val_loss"][best - 1]), xytext=(10, 30),
                            textcoords="offset points", color=color,
                            arrowprops=dict(arrowstyle="->", color=color))
        ax.set_title(title)
        ax.set_xlabel("Epoch")
        ax.set_ylabel("MAE (min-max scaled quality)")
        ax.set_ylim(0, min(top, 0.2))
        ax.legend(fontsize=7.5)
        ax.grid(alpha=0.3)
    fig.suptitle("Red wine learning curves (dashed: training, solid: validation)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding wine-quality/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument("--verbose", type=int, default=0, help="Keras verbose for fit (0, 1, 2)")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="3 epochs (for tests)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    keras.utils.set_random_seed(0)
    data = load_red_wine(args.data_dir or default_data_dir())
    epochs = 3 if args.quick else args.epochs
    print(f"red wine: {len(data[0])} training and {len(data[1])} validation wines, "
          f"up to {epochs} epochs per model")
    histories = run_all(data, epochs, verbose=args.verbose)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "overfitting.png"
    plot(histories, png)
    print(f"Saved {png}  (wall time {time.perf_counter() - t_start:.1f} s)")
    return dict(histories=histories, png=png)


if __name__ == "__main__":
    main()
