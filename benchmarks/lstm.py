"""LSTM and GRU training speed against PyTorch 2.13 CPU.

A recurrent layer (input 32, hidden 128) over sequences of 50 steps, batch 64, float32;
its last hidden state goes through Linear(128 -> 10) and softmax cross-entropy; Adam.
One training step (forward, backward through time, update) in shendu vs PyTorch, same
weights, alternating rounds, median per step. Target ratio <= 1.5.

A second line times the same steps in CPU time of this process (``time.process_time``,
alternating rounds, minimum per round): on a shared machine, wall time also counts the
moments the OS ran someone else, CPU time does not.

Run: python benchmarks/lstm.py [--quick]   (OMP_NUM_THREADS=1 for single-thread ratios)
"""
from __future__ import annotations

import statistics
import sys
import time

from _compare import compare, training_steps  # sets thread counts before numpy/torch load

import numpy as np
import torch

import shendu
from shendu import nn, optim

QUICK = "--quick" in sys.argv
torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))

INPUT, HIDDEN, STEPS, BATCH, CLASSES = 32, 128, 50, 64, 10


class Ours(nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = getattr(nn, cell)(INPUT, HIDDEN)
        self.head = nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        _, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        return self.head(h[-1])


class Theirs(torch.nn.Module):
    def __init__(self, cell):
        super().__init__()
        self.rnn = getattr(torch.nn, cell)(INPUT, HIDDEN)
        self.head = torch.nn.Linear(HIDDEN, CLASSES)

    def forward(self, x):
        _, h = self.rnn(x)
        h = h[0] if isinstance(h, tuple) else h
        return self.head(h[-1])


def cpu_compare(name, ours, theirs, rounds=5, calls=10):
    """Alternating rounds of ``calls`` calls each; per round the fastest call in CPU
    seconds; prints the medians over rounds and returns their ratio."""
    a, b = [], []
    for _ in range(rounds):
        for fn, out in ((ours, a), (theirs, b)):
            t_end = time.perf_counter() + 0.5
            while time.perf_counter() < t_end:  # warm up after the switch
                fn()
            best = float("inf")
            for _ in range(calls):
                t = time.process_time()
                fn()
                best = min(best, time.process_time() - t)
            out.append(best)
    ra, rb = statistics.median(a), statistics.median(b)
    print(f"{name + ' (CPU time)':<48} shendu {ra * 1e3:9.3f} ms   torch {rb * 1e3:9.3f} ms   "
          f"ratio {ra / rb:5.2f}", flush=True)
    return ra / rb


def bench(cell):
    shendu.manual_seed(0)
    ours, theirs = Ours(cell), Theirs(cell)
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((STEPS, BATCH, INPUT)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    xs, ys = shendu.tensor(x), shendu.tensor(y)
    xt, yt = torch.tensor(x), torch.tensor(y)
    opt_s = optim.Adam(ours.parameters(), lr=1e-3)
    opt_t = torch.optim.Adam(theirs.parameters(), lr=1e-3)

    step_s, step_t = training_steps(ours, theirs, opt_s, opt_t, xs, ys, xt, yt)
    name = f"{cell} {INPUT}->{HIDDEN}, T={STEPS}, batch {BATCH} training step"
    wall = compare(name, step_s, step_t, rounds=3 if QUICK else 5)
    cpu = cpu_compare(name, step_s, step_t, rounds=3 if QUICK else 5)
    return wall, cpu


if __name__ == "__main__":
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    ratios = {cell: bench(cell) for cell in ("LSTM", "GRU")}
    print("training-step ratios (wall / CPU time) "
          + ", ".join(f"{k} {w:.2f} / {c:.2f}" for k, (w, c) in ratios.items())
          + " (target <= 1.5)")
