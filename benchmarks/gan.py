"""DCGAN training speed against PyTorch 2.13 CPU, and transposed convolution alone.

1. One DCGAN training step (``shendu.models.gan.GAN.train_step``: G forward, D on real
   and fake, D backward and Adam step, D on the fakes again with D frozen, G backward and
   Adam step) against the same step written in PyTorch (the replica in
   examples/dcgan_mnist.py), same weights, batch 64 real + 64 generated MNIST-sized
   images, for the lesson's networks (G 64/32, D 32/64 channels) and the default
   ``dcgan_generator()`` / ``dcgan_discriminator()`` (G 128/64, D 64/128). Target <= 1.5.
2. ``conv_transpose2d`` forward, and forward + backward (input, weight and bias
   gradients), at the generator's shapes: 64x100x1x1 -> 7x7 (kernel 7), 64x128x7x7 ->
   14x14 and 64x64x14x14 -> 28x28 (kernel 4, stride 2, padding 1). Target <= 1.5.

Run: python benchmarks/gan.py [--quick] [--busy]. Threads: OMP_NUM_THREADS (default: all
CPUs).

Measured 2026-12-08 on a quiet 2-core AMD EPYC with AVX-512 (NumPy's OpenBLAS, SkylakeX
kernels; torch CPU capability AVX512), ratio = shendu / PyTorch time, with the compiled
col2im (shendu.kernels, numba):

=====================================================  =========  ==========
                                                       1 thread   2 threads
=====================================================  =========  ==========
DCGAN step, G 64/32, D 32/64 (target <= 1.5)            1.49       2.06
DCGAN step, G 128/64, D 64/128                          1.51       1.99
conv_transpose2d fwd+bwd 64x100x1x1 -> 128x7x7 k7       0.85       1.51
conv_transpose2d fwd+bwd 64x128x7x7 -> 64x14x14 k4 s2   1.33       2.28
conv_transpose2d fwd+bwd 64x64x14x14 -> 1x28x28 k4 s2   0.28       0.31
=====================================================  =========  ==========

shendu's step took the same time at one and two threads (81-83 ms): the GEMMs scale,
but the im2col copies and col2im shared with a Python pool thread waited for OpenBLAS's
spinning threads; PyTorch's oneDNN convolutions use both cores (54 -> 40 ms). With those
copies on the calling thread (same day, later, a noisier machine), at 2 threads: DCGAN
steps 1.97 / 1.96, the 128 -> 64 transposed convolution 1.61-1.85; with
SHENDU_NUM_THREADS=1 (every shendu op on one thread, OpenBLAS still on two) 1.75 / 1.80.
"""
from __future__ import annotations

import os
import sys

from _compare import compare  # sets thread counts before numpy/torch load

import numpy as np
import torch

import shendu
import shendu.nn.functional as F
from shendu import optim
from shendu.models.gan import GAN, dcgan_discriminator, dcgan_generator, dcgan_init_

QUICK = "--quick" in sys.argv
ROUNDS = 3 if QUICK else 5
torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
BATCH, LATENT = 64, 100


def torch_twins(G, D):
    """PyTorch copies of shendu's generator and discriminator (same layers, same weights)."""
    tnn = torch.nn

    def convert(module):
        layers = []
        for m in module:
            name = type(m).__name__
            if name == "Unflatten":
                layers.append(tnn.Unflatten(m.dim, m.unflattened_size))
            elif name in ("ConvTranspose2d", "Conv2d"):
                cls = getattr(tnn, name)
                layers.append(cls(m.in_channels, m.out_channels, m.kernel_size, m.stride,
                                  m.padding, bias=m.bias is not None))
            elif name == "BatchNorm2d":
                layers.append(tnn.BatchNorm2d(m.num_features, eps=m.eps, momentum=m.momentum))
            elif name == "LeakyReLU":
                layers.append(tnn.LeakyReLU(m.negative_slope))
            else:
                layers.append(getattr(tnn, name)())
        twin = tnn.Sequential(*layers)
        twin.load_state_dict({k: torch.tensor(v.numpy()) for k, v in module.state_dict().items()})
        return twin

    return convert(G), convert(D)


def torch_step(G, D, opt_g, opt_d, real, z):
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    n = real.shape[0]
    fake = G(z)
    opt_d.zero_grad()
    d_loss = bce(D(real), torch.ones(n, 1)) + bce(D(fake.detach()), torch.zeros(n, 1))
    d_loss.backward()
    opt_d.step()
    opt_g.zero_grad()
    D.requires_grad_(False)
    g_loss = bce(D(fake), torch.ones(n, 1))
    g_loss.backward()
    D.requires_grad_(True)
    opt_g.step()
    return d_loss, g_loss


def bench_dcgan_step(g_channels, d_channels):
    shendu.manual_seed(0)
    G, D = dcgan_generator(LATENT, g_channels), dcgan_discriminator(1, d_channels)
    dcgan_init_(G)
    dcgan_init_(D)
    tG, tD = torch_twins(G, D)
    gan = GAN(G, D, LATENT,
              g_optimizer=optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999)),
              d_optimizer=optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999)))
    opt_g = torch.optim.Adam(tG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(tD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (BATCH, 1, 28, 28)).astype(np.float32)
    z = rng.standard_normal((BATCH, LATENT)).astype(np.float32)
    rs, zs, rt, zt = shendu.tensor(real), shendu.tensor(z), torch.tensor(real), torch.tensor(z)
    ours = gan.train_step(rs, zs)
    d_t, g_t = torch_step(tG, tD, opt_g, opt_d, rt, zt)  # same work: same first losses
    assert abs(ours["d_loss"] - d_t.item()) < 1e-3 and abs(ours["g_loss"] - g_t.item()) < 1e-3, \
        (ours, d_t.item(), g_t.item())
    return compare(f"DCGAN step G {g_channels} D {d_channels}, batch {BATCH}",
                   lambda: gan.train_step(rs, zs), lambda: torch_step(tG, tD, opt_g, opt_d, rt, zt),
                   rounds=ROUNDS)


def bench_conv_transpose(c_in, size, c_out, k, stride, padding):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, c_in, size, size)).astype(np.float32)
    w = (rng.standard_normal((c_in, c_out, k, k)) * 0.05).astype(np.float32)
    b = np.zeros(c_out, np.float32)
    xs, ws, bs = (shendu.tensor(a, requires_grad=True) for a in (x, w, b))
    xt, wt, bt = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = (size - 1) * stride - 2 * padding + k
    label = f"{BATCH}x{c_in}x{size}x{size} -> {c_out}x{out}x{out} k{k} s{stride}"
    with shendu.no_grad(), torch.no_grad():
        np.testing.assert_allclose(F.conv_transpose2d(xs, ws, bs, stride, padding).numpy(),
                                   torch.nn.functional.conv_transpose2d(
                                       xt, wt, bt, stride, padding).numpy(), atol=1e-4)

    def fwd_s():
        with shendu.no_grad():
            F.conv_transpose2d(xs, ws, bs, stride, padding)

    def fwd_t():
        with torch.no_grad():
            torch.nn.functional.conv_transpose2d(xt, wt, bt, stride, padding)

    def both_s():
        xs.grad = ws.grad = bs.grad = None
        F.conv_transpose2d(xs, ws, bs, stride, padding).sum().backward()

    def both_t():
        xt.grad = wt.grad = bt.grad = None
        torch.nn.functional.conv_transpose2d(xt, wt, bt, stride, padding).sum().backward()

    r1 = compare(f"conv_transpose2d forward {label}", fwd_s, fwd_t, rounds=ROUNDS)
    r2 = compare(f"conv_transpose2d forward+backward {label}", both_s, both_t, rounds=ROUNDS)
    return r1, r2


def main():
    ratios = {"step lesson": bench_dcgan_step((64, 32), (32, 64)),
              "step default": bench_dcgan_step((128, 64), (64, 128))}
    for shape in ((100, 1, 128, 7, 1, 0), (128, 7, 64, 4, 2, 1), (64, 14, 1, 4, 2, 1)):
        ratios[f"convT {shape}"] = bench_conv_transpose(*shape)
    return ratios


if __name__ == "__main__":
    main()
