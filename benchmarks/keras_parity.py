"""Keras examples on shendu.keras and on Keras 3 itself: accuracy per epoch and time per epoch.

Two keras-io examples, written once against a ``keras`` module and run twice in this
process: with ``shendu.keras`` and with Keras 3 on its PyTorch backend
(``pip install keras``; ``KERAS_BACKEND=torch`` is set here), on the same data:

* ``mnist_mlp`` (Keras's examples/mnist_mlp.py): Dense 512 relu, Dropout 0.2, Dense 512
  relu, Dropout 0.2, Dense 10 softmax; RMSprop(), categorical cross-entropy, batch 128;
  validation on the 10,000 test images.
* ``addition_rnn`` (keras-io "Sequence to sequence learning for performing number
  addition"): 50,000 reversed 3-digit questions, LSTM(128), RepeatVector(4),
  LSTM(128, return_sequences=True), Dense(12, softmax); adam, batch 32; validation on the
  last 10% (per-character accuracy).

Printed: each epoch's validation accuracy for both, and the ratio of the mean epoch
time (shendu / Keras; <= 1 means shendu is as fast). Without Keras installed only
shendu's side runs. Machines differ: the first line says which CPU and BLAS kernel.

Run: python benchmarks/keras_parity.py [mnist_mlp|addition_rnn|all] [--epochs N] [--seed S]
"""
from __future__ import annotations

import argparse
import os
import time

from _compare import machine_description  # sets thread counts before numpy/torch load

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")


def mnist_data():
    from shendu.datasets import mnist
    data_dir = os.environ.get("SHENDU_DATA") or os.path.join(
        os.path.dirname(__file__), "..", "..", "shared", "data")
    (xtr, ytr), (xte, yte) = (mnist(s, data_dir, normalize=True, flatten=True)
                              for s in ("train", "test"))
    eye = np.eye(10, dtype=np.float32)
    return xtr, eye[ytr], xte, eye[yte]


def addition_data(size=50_000, digits=3, seed=1234):
    chars = "0123456789+ "
    maxlen = 2 * digits + 1
    rng = np.random.default_rng(seed)
    questions, answers, seen = [], [], set()
    while len(questions) < size:
        a, b = (int(rng.integers(0, 10 ** int(rng.integers(1, digits + 1)))) for _ in range(2))
        if (min(a, b), max(a, b)) in seen:
            continue
        seen.add((min(a, b), max(a, b)))
        questions.append(f"{a}+{b}".ljust(maxlen)[::-1])   # reversed, as keras-io does
        answers.append(str(a + b).ljust(digits + 1))
    lookup = {c: i for i, c in enumerate(chars)}

    def one_hot(strings, n):
        out = np.zeros((len(strings), n, len(chars)), np.float32)
        for i, s in enumerate(strings):
            out[i, np.arange(n), [lookup[c] for c in s]] = 1
        return out
    x, y = one_hot(questions, maxlen), one_hot(answers, digits + 1)
    perm = rng.permutation(size)
    x, y = x[perm], y[perm]
    split = size - size // 10
    return x[:split], y[:split], x[split:], y[split:]


def mnist_mlp(keras):
    layers = keras.layers
    model = keras.Sequential([keras.Input((784,)), layers.Dense(512, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(512, activation="relu"),
                              layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.RMSprop(),
                  metrics=["accuracy"])
    return model, 128


def addition_rnn(keras):
    layers = keras.layers
    model = keras.Sequential([keras.Input((7, 12)), layers.LSTM(128), layers.RepeatVector(4),
                              layers.LSTM(128, return_sequences=True),
                              layers.Dense(12, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model, 32


def run(keras, seed_fn, build, data, epochs, seed):
    seed_fn(seed)
    model, batch_size = build(keras)
    times = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            times.append(time.perf_counter() - self.t0)

    xtr, ytr, xva, yva = data
    history = model.fit(xtr, ytr, batch_size=batch_size, epochs=epochs, verbose=0,
                        validation_data=(xva, yva), callbacks=[EpochTimer()])
    return history.history["val_accuracy"], times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("example", nargs="?", default="all",
                        choices=["mnist_mlp", "addition_rnn", "all"])
    parser.add_argument("--epochs", type=int, default=None,
                        help="default: 3 for mnist_mlp, 15 for addition_rnn")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(machine_description(), flush=True)

    import shendu
    from shendu import keras as skeras
    sides = [("shendu", skeras, shendu.manual_seed)]
    try:
        import keras as real_keras
        import torch
        torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
        sides.append((f"Keras {real_keras.__version__} ({real_keras.backend.backend()})",
                      real_keras, real_keras.utils.set_random_seed))
    except ImportError:
        print("Keras is not installed (pip install keras): shendu's side only")

    jobs = {"mnist_mlp": (mnist_mlp, mnist_data, 3), "addition_rnn": (addition_rnn,
                                                                      addition_data, 15)}
    for name in (jobs if args.example == "all" else [args.example]):
        build, data_fn, default_epochs = jobs[name]
        epochs = args.epochs or default_epochs
        data = data_fn()
        results = {label: run(k, seed_fn, build, data, epochs, args.seed)
                   for label, k, seed_fn in sides}
        print(f"\n{name}, {epochs} epochs, seed {args.seed}: validation accuracy per epoch")
        for label, (acc, times) in results.items():
            print(f"  {label:28s} " + " ".join(f"{a:.4f}" for a in acc) +
                  f"   ({np.mean(times):.1f} s/epoch)")
        if len(results) == 2:
            (_, (_, ts)), (_, (_, tk)) = results.items()
            print(f"  epoch time shendu / Keras: {np.mean(ts) / np.mean(tk):.2f}x")


if __name__ == "__main__":
    main()
