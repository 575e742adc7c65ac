"""MLP training speed against PyTorch 2.13 CPU, and the cost of the Keras-style API.

1. 784-512-512-10 ReLU MLP, softmax cross-entropy, SGD momentum 0.9, batch 128, float32:
   one training step (forward, backward, update) in shendu vs PyTorch, same weights,
   alternating rounds, median per step. Target ratio <= 1.3.
2. The same network trained for one epoch on 60,000 MNIST-shaped samples through
   ``keras.fit`` vs a plain shendu training loop. Target: within 1.15x.

Run: python benchmarks/mlp.py [--quick]
"""
from __future__ import annotations

import sys
import time

from _compare import compare, training_steps  # sets thread counts before numpy/torch load

import numpy as np
import torch

import shendu
from shendu import nn, optim

QUICK = "--quick" in sys.argv
torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))


def build_pair():
    shendu.manual_seed(0)
    ours = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                         nn.Linear(512, 10))
    theirs = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(),
                                 torch.nn.Linear(512, 512), torch.nn.ReLU(),
                                 torch.nn.Linear(512, 10))
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def bench_step():
    ours, theirs = build_pair()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    y = rng.integers(0, 10, 128)
    xs, ys = shendu.tensor(x), shendu.tensor(y)
    xt, yt = torch.tensor(x), torch.tensor(y)
    opt_s = optim.SGD(ours.parameters(), lr=0.01, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.01, momentum=0.9)

    step_s, step_t = training_steps(ours, theirs, opt_s, opt_t, xs, ys, xt, yt)
    return compare("MLP 784-512-512-10 training step, batch 128", step_s, step_t,
                   rounds=3 if QUICK else 5)


def bench_fit_overhead():
    from shendu import keras
    n = 12_000 if QUICK else 60_000
    rng = np.random.default_rng(0)
    x = rng.random((n, 784), dtype=np.float32)
    y = rng.integers(0, 10, n)

    def plain_epoch():
        shendu.manual_seed(0)
        model, _ = build_pair()
        opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        t0 = time.perf_counter()
        perm = np.random.default_rng(0).permutation(n)
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = nn.functional.cross_entropy(model(shendu.tensor(x[idx])), shendu.tensor(y[idx]))
            loss.backward()
            opt.step()
        return time.perf_counter() - t0

    def keras_epoch():
        shendu.manual_seed(0)
        model = keras.Sequential([keras.Input(shape=(784,)),
                                  keras.layers.Dense(512, activation="relu"),
                                  keras.layers.Dense(512, activation="relu"),
                                  keras.layers.Dense(10)])
        model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.01, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=128, epochs=1, verbose=0)
        return time.perf_counter() - t0

    plain, fit = [], []
    for _ in range(2 if QUICK else 3):
        plain.append(plain_epoch())
        fit.append(keras_epoch())
    p, f = float(np.median(plain)), float(np.median(fit))
    print(f"{'keras.fit epoch vs plain loop, ' + str(n) + ' samples':<48} fit {f:8.2f} s   "
          f"plain {p:8.2f} s   ratio {f / p:5.2f}")
    return f / p


if __name__ == "__main__":
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    r = bench_step()
    f = bench_fit_overhead()
    print(f"training-step ratio {r:.2f} (target <= 1.3); keras.fit overhead {f:.2f} (target <= 1.15)")
