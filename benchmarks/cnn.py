"""CNN training speed against PyTorch 2.13 CPU, and conv2d alone.

1. The LeNet-style network of issue 4 on 1x28x28 inputs: Conv 1->32 3x3 pad 1, ReLU,
   MaxPool 2, Conv 32->64 3x3 pad 1, ReLU, MaxPool 2, Flatten, Linear 3136->128, ReLU,
   Linear 128->10; cross-entropy, Adam, batch 64, float32. One training step (forward,
   backward, update) in shendu vs PyTorch, same weights, alternating rounds, median per
   step. Target ratio <= 1.5.
2. conv2d forward, and forward + backward (input, weight and bias gradients), at
   64x3x32x32 (3->64, 3x3, pad 1), 64x64x16x16 (64->128), and LeNet's two layers.

Run: python benchmarks/cnn.py [--quick]. Threads: OMP_NUM_THREADS (default: all CPUs).

Measured with OMP_NUM_THREADS=1 on a 2-core CPU shared with other jobs (load 10-14),
ratio = shendu / PyTorch time, full run (5 rounds; 3 for the conv2d lines):

=====================================================  ======  ======================
                                                       ratio   shendu / torch (ms)
=====================================================  ======  ======================
LeNet training step (Adam), batch 64 (target <= 1.5)    1.21    332 / 274
conv2d forward 64x3x32x32 3->64 3x3                     1.27    52 / 41
conv2d forward+backward 64x3x32x32 3->64                1.09    170 / 156
conv2d forward 64x64x16x16 64->128 3x3                  1.50    238 / 159
conv2d forward+backward 64x64x16x16 64->128             1.18    756 / 643
conv2d forward 64x1x28x28 1->32 (LeNet layer 1)         1.42    15 / 11
conv2d forward+backward 64x1x28x28 1->32                0.66    47 / 71
conv2d forward 64x32x14x14 32->64 (LeNet layer 2)       1.92    75 / 39
conv2d forward+backward 64x32x14x14 32->64              1.49    189 / 127
=====================================================  ======  ======================

``--quick`` (3 rounds) in the same session: LeNet 1.11; conv2d forward 1.77, 1.25,
1.10, 1.76; forward+backward 0.97, 1.25, 0.54, 1.36. On a loaded machine the ratios
move by 0.1-0.4 between runs; the forward-only ratios at 32 and 64 input channels are
the weakest spot.

Later (2026-11-23), with max pooling by shendu.kernels (numba): LeNet step 0.85 at 1
thread and 1.40-1.45 at 2 threads (--quick; 1.55 with SHENDU_JIT=0 in the same session).

2026-12-08, a 2-core AMD EPYC with AVX-512 (OpenBLAS SkylakeX kernels, torch AVX512),
2 threads, --quick: LeNet step 1.62-1.86 with im2col copies and col2im shared with a
Python pool thread, 1.32-1.38 with them on the calling thread (now the code), 1.27 with
SHENDU_NUM_THREADS=1. The conv2d forward-only lines stay at 1.8-2.6: oneDNN's direct
convolutions beat im2col + OpenBLAS SGEMM on this CPU.
"""
from __future__ import annotations

import os
import sys

from _compare import compare, training_steps  # sets thread counts before numpy/torch load

import numpy as np
import torch

import shendu
import shendu.nn.functional as F
from shendu import nn, optim

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 5
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


def lenet(lib):
    return lib.Sequential(lib.Conv2d(1, 32, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
                          lib.Conv2d(32, 64, 3, padding=1), lib.ReLU(), lib.MaxPool2d(2),
                          lib.Flatten(), lib.Linear(3136, 128), lib.ReLU(), lib.Linear(128, 10))


def bench_lenet_step():
    shendu.manual_seed(0)
    ours, theirs = lenet(nn), lenet(torch.nn)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    x = rng.random((64, 1, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    xs, ys = shendu.tensor(x), shendu.tensor(y)
    xt, yt = torch.tensor(x), torch.tensor(y)
    opt_s = optim.Adam(ours.parameters(), lr=1e-3)
    opt_t = torch.optim.Adam(theirs.parameters(), lr=1e-3)

    step_s, step_t = training_steps(ours, theirs, opt_s, opt_t, xs, ys, xt, yt)
    return compare("LeNet training step (Adam), batch 64", step_s, step_t, rounds=ROUNDS)


def bench_conv2d(n, c_in, size, c_out, k=3, padding=1):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c_in, size, size)).astype(np.float32)
    w = (rng.standard_normal((c_out, c_in, k, k)) / np.sqrt(c_in * k * k)).astype(np.float32)
    b = np.zeros(c_out, np.float32)
    xs, ws, bs = (shendu.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    g = rng.standard_normal((n, c_out, size + 2 * padding - k + 1,
                             size + 2 * padding - k + 1)).astype(np.float32)
    gs, gt = shendu.tensor(g), torch.tensor(g)

    def fwd_s():
        with shendu.no_grad():
            return F.conv2d(xs, ws, bs, padding=padding)

    def fwd_t():
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, bt, padding=padding)

    def both_s():
        xs.grad = ws.grad = bs.grad = None
        F.conv2d(xs, ws, bs, padding=padding).backward(gs)

    def both_t():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.conv2d(xt, wt, bt, padding=padding).backward(gt)

    np.testing.assert_allclose(fwd_s().numpy(), fwd_t().numpy(), atol=1e-4, rtol=1e-4)
    shape = f"{n}x{c_in}x{size}x{size} {c_in}->{c_out} {k}x{k}"
    rounds = max(2, ROUNDS - 2)
    return (compare(f"conv2d forward {shape}", fwd_s, fwd_t, rounds=rounds),
            compare(f"conv2d forward+backward {shape}", both_s, both_t, rounds=rounds))


if __name__ == "__main__":
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    r = bench_lenet_step()
    micro = [bench_conv2d(64, 3, 32, 64), bench_conv2d(64, 64, 16, 128),
             bench_conv2d(64, 1, 28, 32), bench_conv2d(64, 32, 14, 64)]
    print(f"LeNet training-step ratio {r:.2f} (target <= 1.5); conv2d forward ratios "
          + ", ".join(f"{f:.2f}" for f, _ in micro) + "; forward+backward "
          + ", ".join(f"{b:.2f}" for _, b in micro))
