"""Activation speed against PyTorch 2.13 CPU, in one process run.

Forward + backward of relu, sigmoid, tanh, gelu (exact and tanh), silu, elu,
softplus, softmax and log_softmax (last axis) on float32 inputs of shape (256, 1024)
(a hidden layer's activations) and (4096, 1000) (logits of a big batch), with a
random upstream gradient. Ratios are shendu's time over PyTorch's (alternating
rounds, warm-up by time: see _compare.py).

Run: python benchmarks/activations.py [--quick] [name ...]
"""
from __future__ import annotations

import sys

from _compare import compare  # sets thread counts before numpy/torch load

import numpy as np
import torch
import torch.nn.functional as tf

import shendu

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 5
torch.set_num_threads(int(__import__("os").environ["OMP_NUM_THREADS"]))

ACTIVATIONS = {  # name: (shendu, PyTorch)
    "relu": (shendu.relu, tf.relu),
    "sigmoid": (shendu.sigmoid, torch.sigmoid),
    "tanh": (shendu.tanh, torch.tanh),
    "gelu": (shendu.gelu, tf.gelu),
    "gelu_tanh": (lambda x: shendu.gelu(x, approximate="tanh"),
                  lambda x: tf.gelu(x, approximate="tanh")),
    "silu": (shendu.silu, tf.silu),
    "elu": (shendu.elu, tf.elu),
    "softplus": (shendu.softplus, tf.softplus),
    "softmax": (lambda x: shendu.softmax(x, dim=-1), lambda x: torch.softmax(x, dim=-1)),
    "log_softmax": (lambda x: shendu.log_softmax(x, dim=-1),
                    lambda x: torch.log_softmax(x, dim=-1)),
}
SHAPES = [(256, 1024), (4096, 1000)]


def bench(name, shape):
    ours_fn, theirs_fn = ACTIVATIONS[name]
    rng = np.random.default_rng(0)
    a = (2 * rng.standard_normal(shape)).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    xs, xt = shendu.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    gs, gt = shendu.tensor(g), torch.tensor(g)

    def ours():
        xs.grad = None
        ours_fn(xs).backward(gs)

    def theirs():
        xt.grad = None
        theirs_fn(xt).backward(gt)

    ours(), theirs()
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
    shape_text = "x".join(map(str, shape))
    return compare(f"{name} {shape_text}, fwd+bwd", ours, theirs, ROUNDS,
                   round_s=0.5 if QUICK else 1.0)


if __name__ == "__main__":
    names = [a for a in sys.argv[1:] if not a.startswith("--")] or list(ACTIVATIONS)
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    ratios = {(n, s): bench(n, s) for s in SHAPES for n in names}
    print("ratios: " + ", ".join(f"{n} {'x'.join(map(str, s))} {r:.2f}"
                                 for (n, s), r in ratios.items()))
