"""Transformer encoder training speed against PyTorch 2.13 CPU.

2 encoder layers (d_model 128, 4 heads, feed-forward 512, post-norm, ReLU, dropout 0),
sequences of 64, batch 32, batch_first, mean over the positions -> Linear(10),
cross-entropy, Adam: one training step (forward, backward, update) in shendu vs
PyTorch with the same weights, alternating rounds, median per step. Target ratio <= 1.5.

PyTorch trains through its regular path here (its fused inference fast path runs only
in eval mode without gradients); its attention is ``scaled_dot_product_attention``.

Run: python benchmarks/transformer.py [--quick]
"""
from __future__ import annotations

import os
import sys

from _compare import compare, training_steps  # sets thread counts before numpy/torch load

import numpy as np
import torch

import shendu
from shendu import nn, optim

QUICK = "--quick" in sys.argv
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

D_MODEL, HEADS, FF, LAYERS, SEQ, BATCH, CLASSES = 128, 4, 512, 2, 64, 32, 10


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, LAYERS)
        self.head = nn.Linear(D_MODEL, CLASSES)

    def forward(self, x):
        return self.head(self.encoder(x).mean(dim=1))


class TorchClassifier(torch.nn.Module):
    def __init__(self):
        super().__init__()
        layer = torch.nn.TransformerEncoderLayer(D_MODEL, HEADS, FF, dropout=0.0,
                                                 batch_first=True)
        self.encoder = torch.nn.TransformerEncoder(layer, LAYERS, enable_nested_tensor=False)
        self.head = torch.nn.Linear(D_MODEL, CLASSES)

    def forward(self, x):
        return self.head(self.encoder(x).mean(dim=1))


def build_pair():
    shendu.manual_seed(0)
    ours, theirs = Classifier(), TorchClassifier()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def bench_step():
    ours, theirs = build_pair()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SEQ, D_MODEL)).astype(np.float32)
    y = rng.integers(0, CLASSES, BATCH)
    xs, ys = shendu.tensor(x), shendu.tensor(y)
    xt, yt = torch.tensor(x), torch.tensor(y)
    opt_s = optim.Adam(ours.parameters(), lr=1e-4)
    opt_t = torch.optim.Adam(theirs.parameters(), lr=1e-4)

    step_s, step_t = training_steps(ours, theirs, opt_s, opt_t, xs, ys, xt, yt)
    return compare(f"Transformer encoder {LAYERS}x(d{D_MODEL}, h{HEADS}, ff{FF}) "
                   f"step, {BATCH}x{SEQ}", step_s, step_t, rounds=3 if QUICK else 5)


if __name__ == "__main__":
    print(f"shendu {shendu.__version__} vs torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    r = bench_step()
    print(f"training-step ratio {r:.2f} (target <= 1.5)")
