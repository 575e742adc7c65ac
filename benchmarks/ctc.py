"""CTC loss speed against PyTorch 2.13 CPU, in one process run.

Forward + backward of ``F.ctc_loss`` (reduction 'mean') on float32 log-probabilities
(T=50, N=64, C=20), padded targets of S=10 labels with variable target and input lengths,
then the lesson's size (T=35, N=64, C=11, S=5) and a long one (T=200, N=32, C=30, S=40).
Both run the alpha/beta recursions over time in a loop; shendu's steps are NumPy calls
vectorised over the batch and the extended labels (2S+1), in float64. Ratios are
shendu's time over PyTorch's (alternating rounds, warm-up by time: see _compare.py).

Run: python benchmarks/ctc.py [--quick]
"""
from __future__ import annotations

import sys

from _compare import compare  # sets thread counts before numpy/torch load

import numpy as np
import torch
import torch.nn.functional as tf

import shendu
from shendu.nn import functional as F

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 5
torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))

SIZES = [(50, 64, 20, 10), (35, 64, 11, 5), (200, 32, 30, 40)]   # (T, N, C, S)


def bench(T, N, C, S):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, N, C)).astype(np.float32)
    lp = (x - np.log(np.exp(x).sum(axis=2, keepdims=True))).astype(np.float32)
    targets = rng.integers(1, C, (N, S))
    tl = rng.integers(S // 2, S + 1, N)
    il = rng.integers(max(2 * S + 1, T - T // 5), T + 1, N)
    xs, xt = shendu.tensor(lp, requires_grad=True), torch.tensor(lp, requires_grad=True)
    ts, tt = shendu.tensor(targets), torch.tensor(targets)
    ils, tls, ilt, tlt = shendu.tensor(il), shendu.tensor(tl), torch.tensor(il), torch.tensor(tl)

    def ours():
        xs.grad = None
        F.ctc_loss(xs, ts, ils, tls).backward()

    def theirs():
        xt.grad = None
        tf.ctc_loss(xt, tt, ilt, tlt).backward()

    ours(), theirs()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-3, atol=1e-5)
    return compare(f"ctc_loss T={T} N={N} C={C} S={S}, fwd+bwd", ours, theirs, ROUNDS,
                   round_s=0.5 if QUICK else 1.0)


if __name__ == "__main__":
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    ratios = {size: bench(*size) for size in SIZES}
    print("ratios: " + ", ".join(f"T{t} N{n} C{c} S{s} {r:.2f}"
                                 for (t, n, c, s), r in ratios.items()))
