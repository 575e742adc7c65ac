"""The course's red wine quality model (Keras style): 3x512 ReLU, Adam, MAE, early stopping.

Lesson 001, "實作 - 紅酒品質" and "提前停止": the Kaggle Intro-to-Deep-Learning model.
The course's pandas steps (70/30 split with ``sample(frac=0.7, random_state=0)``, min-max
scaling fitted on the training split, features/``quality`` split) are done here with
NumPy, reproducing pandas exactly: ``DataFrame.sample(frac=0.7, random_state=0)`` takes
the first 1119 rows of ``np.random.RandomState(0).permutation(1599)``, and
``drop(df_train.index)`` keeps the other 480 in file order. The Keras code is the
course's with only the import lines changed:

    from tensorflow import keras                ->  from shendu import keras
    from tensorflow.keras import layers         ->  from shendu.keras import layers
    from tensorflow.keras.callbacks import ...  ->  from shendu.keras.callbacks import ...

As in the course, ``quality`` is min-max scaled too, so the MAE is in normalized units
(multiply by 5, the range of the training grades 3..8, for grade points).

The data is ``winequality-red.csv`` (UCI) in ``$SHENDU_DATA/wine-quality/``, else in the
shared data folder next to the repository (``../shared/data``).

Run: python examples/red_wine.py [--out examples_output] [--verbose 1] [--seed 0]

Measured (2-core CPU, seed 0): minimum validation MAE 0.0933 at epoch 65 (target
<= 0.095); EarlyStopping stopped after epoch 66 and restored the weights of epoch 46
(validation MAE 0.0937: the later gains were smaller than min_delta, so, as in Keras,
they did not count). Seeds 1-3: minimum 0.0931, 0.0947, 0.0938. Wall time 9 s (14 s
with NumPy's default threads on the loaded machine).
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

from shendu import keras
from shendu.datasets import wine_quality
from shendu.keras import layers
from shendu.keras.callbacks import EarlyStopping


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return None  # wine_quality() reads the environment variable itself
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def load_red_wine(data_dir=None):
    """The course's data steps, from ``pd.read_csv`` to ``X_train, X_valid, y_train, y_valid``."""
    X, quality = wine_quality("red", data_dir=data_dir, return_X_y=True, dtype=np.float64)
    red_wine = np.column_stack([X, quality])          # red_wine = pd.read_csv(...)

    # df_train = red_wine.sample(frac=0.7, random_state=0); df_valid = red_wine.drop(...)
    n_train = round(0.7 * len(red_wine))
    train_rows = np.random.RandomState(0).permutation(len(red_wine))[:n_train]
    valid_rows = np.setdiff1d(np.arange(len(red_wine)), train_rows)
    df_train, df_valid = red_wine[train_rows], red_wine[valid_rows]

    # min-max scaling with the training split's min and max (every column, quality too)
    max_ = df_train.max(axis=0)
    min_ = df_train.min(axis=0)
    df_train = (df_train - min_) / (max_ - min_)
    df_valid = (df_valid - min_) / (max_ - min_)

    # X = everything but 'quality', y = 'quality'
    X_train, X_valid = df_train[:, :-1].astype(np.float32), df_valid[:, :-1].astype(np.float32)
    y_train, y_valid = df_train[:, -1].astype(np.float32), df_valid[:, -1].astype(np.float32)
    return X_train, X_valid, y_train, y_valid


def train(X_train, X_valid, y_train, y_valid, epochs=500, verbose=0):
    """The course's model, compile, EarlyStopping and fit (only the imports differ)."""
    model = keras.Sequential([
        layers.Dense(512, activation='relu', input_shape=[11]),
        layers.Dense(512, activation='relu'),
        layers.Dense(512, activation='relu'),
        layers.Dense(1),
    ])

    model.compile(
        optimizer='adam',
        loss='mae',
    )

    early_stopping = EarlyStopping(
        min_delta=0.001,  # minimium amount of change to count as an improvement
        patience=20,  # how many epochs to wait before stopping
        restore_best_weights=True,
    )

    history = model.fit(
        X_train, y_train,
        validation_data=(X_valid, y_valid),
        batch_size=256,
        epochs=epochs,
        callbacks=[early_stopping],
        verbose=verbose,  # the course leaves the log on; 0 keeps the output to the results
    )
    return model, history, early_stopping


def plot(history, early_stopping, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    loss, val_loss = history.history["loss"], history.history["val_loss"]
    best = int(np.argmin(val_loss))
    fig, ax = plt.subplots(figsize=(8, 4.8))
    epochs = np.arange(1, len(loss) + 1)
    ax.plot(epochs, loss, label="loss (train)")
    ax.plot(epochs, val_loss, label="val_loss")
    ax.axvline(best + 1, color="gray", ls="--",
               label=f"lowest val_loss, epoch {best + 1}: {val_loss[best]:.4f}")
    kept = early_stopping.best_epoch
    ax.axvline(kept + 1, color="green", ls=":",
               label=f"restored weights (last gain >= min_delta), epoch {kept + 1}: "
                     f"{val_loss[kept]:.4f}")
    ax.set_xlabel("Epoch")
    ax.set_ylabel("MAE (min-max scaled quality)")
    ax.set_title("Red wine quality: 3x512 ReLU, Adam, EarlyStopping(patience=20)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding wine-quality/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--verbose", type=int, default=0, help="Keras verbose for fit (0, 1, 2)")
    parser.add_argument("--seed", type=int, default=0, help="keras.utils.set_random_seed")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="5 epochs (for tests)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    keras.utils.set_random_seed(args.seed)
    X_train, X_valid, y_train, y_valid = load_red_wine(args.data_dir or default_data_dir())
    print(f"red wine: {len(X_train)} training wines, {len(X_valid)} validation wines, "
          f"11 features")
    model, history, early_stopping = train(X_train, X_valid, y_train, y_valid,
                                           epochs=5 if args.quick else 500, verbose=args.verbose)

    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    restored = float(model.evaluate(X_valid, y_valid, batch_size=256, verbose=0))
    print(f"epochs run: {len(val_loss)}; final training MAE {history.history['loss'][-1]:.4f}, "
          f"final validation MAE {val_loss[-1]:.4f}")
    print(f"Minimum validation loss (MAE): {min(val_loss):.4f} at epoch {best + 1}  "
          f"(target <= 0.095)")
    # EarlyStopping keeps the weights of the last epoch that beat the best by min_delta,
    # as Keras does: smaller gains after it do not count
    print(f"restored weights: epoch {early_stopping.best_epoch + 1}, validation MAE "
          f"{restored:.4f} (x 5, the range of the training grades 3..8: "
          f"{restored * 5:.3f} quality points)")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "red_wine.png"
    plot(history, early_stopping, png)
    print(f"Saved {png}  (wall time {time.perf_counter() - t_start:.1f} s)")
    return dict(history=history.history, best_val_mae=float(min(val_loss)),
                restored_val_mae=restored, restored_epoch=early_stopping.best_epoch,
                early_stopping_best=early_stopping.best, png=png)


if __name__ == "__main__":
    main()
