"""Op speed against PyTorch 2.13 CPU, in one process run.

(a) per-op overhead: forward + backward of a 20-op chain on 8-element tensors;
(b) throughput: a 1M-element elementwise chain, a 1024x1024 matmul, softmax over
    (4096, 1000), each forward + backward.

Targets (issue #2): large-array ops within 1.25x of PyTorch, tiny-op overhead within 3x.

Run: python benchmarks/ops.py [--quick]        (threads: all CPUs, for both libraries)
     OMP_NUM_THREADS=1 python benchmarks/ops.py (one thread each)
     SHENDU_JIT=0 python benchmarks/ops.py      (shendu without its numba kernels)

Measured on a shared 2-vCPU VM (ranges over several runs, shendu / PyTorch):

=========================  ==========  ==========  =====================
                           1 thread    2 threads   NumPy code only (2 t)
=========================  ==========  ==========  =====================
(a) 20-op chain, 8 elts    0.91-1.70   1.46-2.41   1.45
(b) 1M elementwise chain   0.81-1.14   0.91-1.06   1.53
(b) 1024x1024 matmul       0.86-0.96   0.82-0.96   0.87
(b) softmax (4096, 1000)   0.96-1.16   0.91-1.17   2.88
=========================  ==========  ==========  =====================

On 2 threads the elementwise chain needs shendu.kernels (``pip install "shendu[jit]"``):
PyTorch's OpenMP threads spin between ops, so its memory-bound multiplies and adds start
on both cores at once, while NumPy runs on one and Python threads sleep between ops
(waking one costs about as much as the op). The kernels run big float32 arithmetic on
numba's OpenMP threads instead.
"""
from __future__ import annotations

import sys

from _compare import compare  # sets thread counts before numpy/torch load

import numpy as np
import torch

import shendu

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 5
torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))


def chain(lib, x):
    """20 ops: the kind of small elementwise work a per-parameter update or a tiny
    network does."""
    y = x
    for _ in range(4):
        y = y * 1.01
        y = y + 0.5
        y = lib.tanh(y)
        y = y - x
        y = lib.exp(y * 0.1)
    return y.sum()


def bench_tiny():
    xs = shendu.tensor(np.linspace(-1, 1, 8), dtype=shendu.float32, requires_grad=True)
    xt = torch.tensor(np.linspace(-1, 1, 8), dtype=torch.float32, requires_grad=True)

    def ours():
        xs.grad = None
        chain(shendu, xs).backward()

    def theirs():
        xt.grad = None
        chain(torch, xt).backward()

    np.testing.assert_allclose(
        (ours(), xs.grad.numpy())[1], (theirs(), xt.grad.numpy())[1], rtol=1e-5)
    return compare("(a) 20-op chain, 8 elements, fwd+bwd", ours, theirs, ROUNDS, unit="us")


def bench_elementwise():
    a = np.random.default_rng(0).standard_normal(1_000_000).astype(np.float32)
    xs = shendu.tensor(a, requires_grad=True)
    xt = torch.tensor(a, requires_grad=True)

    def f(lib, x):
        return (lib.tanh(x * 2.0 + 1.0) * x - lib.exp(-x * x)).sum()

    def ours():
        xs.grad = None
        f(shendu, xs).backward()

    def theirs():
        xt.grad = None
        f(torch, xt).backward()

    return compare("(b) 1M-element elementwise chain, fwd+bwd", ours, theirs, ROUNDS)


def bench_matmul():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    sa, sb = shendu.tensor(a, requires_grad=True), shendu.tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    gs, gt = shendu.ones(1024, 1024), torch.ones(1024, 1024)

    def ours():
        sa.grad = sb.grad = None
        (sa @ sb).backward(gs)

    def theirs():
        ta.grad = tb.grad = None
        (ta @ tb).backward(gt)

    return compare("(b) 1024x1024 matmul, fwd+bwd", ours, theirs, ROUNDS)


def bench_softmax():
    a = np.random.default_rng(0).standard_normal((4096, 1000)).astype(np.float32)
    g = np.random.default_rng(1).standard_normal((4096, 1000)).astype(np.float32)
    xs, xt = shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gs, gt = shendu.tensor(g), torch.tensor(g)

    def ours():
        xs.grad = None
        shendu.softmax(xs, dim=-1).backward(gs)

    def theirs():
        xt.grad = None
        torch.softmax(xt, dim=-1).backward(gt)

    return compare("(b) softmax (4096, 1000), fwd+bwd", ours, theirs, ROUNDS)


if __name__ == "__main__":
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    tiny = bench_tiny()
    large = [bench_elementwise(), bench_matmul(), bench_softmax()]
    print(f"tiny-op overhead ratio {tiny:.2f} (target <= 3.0); "
          f"large-array ratios {', '.join(f'{r:.2f}' for r in large)} (target <= 1.25)")
