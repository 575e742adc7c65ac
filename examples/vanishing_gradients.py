"""Vanishing and exploding gradients in recurrent networks, measured.

Lesson 000, chapter 5.4 (RNN的問題: 梯度消失 & 梯度爆炸). The course's argument: with
``h_t = f(W [h_{t-1}; x_t])`` the chain rule multiplies one factor per step,

    dh_1/dh_0 = W(...),   dh_2/dh_0 = W^2(...),   ...,   dh_10/dh_0 = W^10(...)

(``(...)`` holds the activation's derivatives, ``diag(f'(.))``), so the gradient that
reaches step ``t`` from the loss at step ``T`` shrinks or grows like a power ``T - t`` of
the recurrent weights: "small W" -> it vanishes, "large W" -> it explodes. The remedies the
course lists: gradient clipping, LSTM, Transformer. Lesson 003's form of it (Pascanu et
al. 2013): ``dx_t/dx_k = prod_i W_rec^T diag(sigma'(x_{i-1}))``.

This script measures all of it with autograd, in float64, over T = 100 steps:

1. The gradient of a loss on the last state ``h_T`` with respect to each input ``x_t``,
   ``||dL/dx_t||``, for ``nn.RNN`` (tanh), ``nn.LSTM``, ``nn.LSTM`` with the forget-gate
   bias set to 1 (Keras' ``unit_forget_bias``), and ``nn.GRU`` at PyTorch's default
   initialization (hidden 128, inputs N(0, 1), batch 32). Printed: the mean factor per
   step and the share of the last step's gradient left 10/50/99 steps back.
2. The W^k argument itself: an RNN with ``W_hh = gamma * Q`` (Q a random orthogonal
   matrix, so every singular value of W_hh is gamma) and ``W_ih = I``. With zero inputs
   the state stays at 0, ``tanh' = 1`` and the measured gradient is exactly ``gamma^k``
   (the dashed lines); with N(0, 1) inputs the ``diag(tanh')`` factors (< 1) pull every
   curve down, so even gamma = 1.5 stops exploding once the units saturate.
3. Gradient clipping: the same RNN with gamma = 1.5 trained with plain SGD (lr 0.05,
   batch 64) to output the sum of 20 inputs (``y = sum_t (x_t - 0.5)``, x ~ U(0, 1); the
   loss of always answering 0 is 20/12 = 1.67). Without clipping one huge gradient throws
   the weights out and the loss becomes inf/NaN; with ``clip_grad_norm_(max_norm=1)`` the
   same run trains.

Run: python examples/vanishing_gradients.py [--out examples_output] [--steps 100] [--quick]
(``--quick``: T = 40 and 100 SGD steps, a few seconds.)

Measured (seed 0; deterministic, float64):

- factor per step (geometric mean over the last 50 steps) and share of ``||dL/dx_T||``
  left 50 / 99 steps back: RNN x0.53 (1e-14, 6e-28), LSTM x0.62 (5e-11, 9e-21), LSTM
  with forget bias 1 x0.83 (1e-4, 4e-8), GRU x0.62 (5e-11, 9e-21). At initialization
  every cell forgets; the gates only give the *possibility* of a path that keeps
  gradients (f close to 1 in ``c_t = f c_{t-1} + i g``, z close to 1 in the GRU), which
  training or the forget-bias trick opens. The plain RNN has no such path: its factor
  is ``W_hh diag(tanh')``.
- W^k: with zero inputs the measured gradient equals gamma^k to 4e-15 relative
  (0.5^99 = 2e-30, 1.1^99 = 1e+4, 1.5^99 = 3e+17); with N(0, 1) inputs every curve
  falls (gamma 1.5: x0.87 per step, gamma 1.0: x0.63).
- clipping: without it the gradient norm reaches 4e+18 and the loss 2e+36, then both are
  inf/NaN from step 37-38 on; with it the loss falls from 1.43 to 0.63 (mean of the last
  50 of 500 steps; answering 0 scores 1.67).

Wall time 11-21 s on a 2-core CPU shared with other jobs.
"""
import os

if __name__ == "__main__":  # one BLAS thread: faster for these small matrices on a busy box
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import nn, optim

CELLS = ("RNN", "LSTM", "LSTM, forget bias 1", "GRU")
GAMMAS = (0.5, 0.9, 1.0, 1.1, 1.5)


def make_cell(name, input_size, hidden_size, dtype=shendu.float64):
    """A recurrent layer at PyTorch's default initialization (U(-1/sqrt(H), 1/sqrt(H)))."""
    kind = name.split(",")[0]
    layer = getattr(nn, kind)(input_size, hidden_size, dtype=dtype)
    if name == "LSTM, forget bias 1":  # gates i, f, g, o: the forget gate is rows H..2H
        h = hidden_size
        layer.bias_ih_l0.data[h:2 * h] = 1.0
        layer.bias_hh_l0.data[h:2 * h] = 0.0
    return layer


def gradient_per_step(layer, x, seed=1):
    """``||dL/dx_t||`` for t = 0 .. T-1 with ``L = <h_T, r>`` (r fixed, random): how much
    of the loss's gradient reaches each input. x: (T, B, D) array."""
    xt = shendu.tensor(x, requires_grad=True)
    out, _ = layer(xt)
    r = np.random.default_rng(seed).standard_normal(out.shape[1:])
    (out[-1] * shendu.tensor(r, dtype=out.dtype)).sum().backward()
    g = xt.grad.numpy().reshape(x.shape[0], -1)
    return np.linalg.norm(g, axis=1)


def measure_cells(steps=100, batch=32, input_size=32, hidden_size=128, seed=0):
    """Part 1: per-step gradient norms, divided by the last step's, for each cell."""
    x = np.random.default_rng(seed).standard_normal((steps, batch, input_size))
    norms = {}
    for name in CELLS:
        shendu.manual_seed(seed)
        n = gradient_per_step(make_cell(name, input_size, hidden_size), x)
        norms[name] = n / n[-1]
    return norms


def orthogonal_rnn(gamma, hidden_size=64, seed=0):
    """A tanh RNN with W_hh = gamma * Q (Q orthogonal), W_ih = I, no biases."""
    shendu.manual_seed(seed)
    rnn = nn.RNN(hidden_size, hidden_size, bias=False, dtype=shendu.float64)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((hidden_size, hidden_size)))
    rnn.weight_hh_l0.data[...] = gamma * q
    rnn.weight_ih_l0.data[...] = np.eye(hidden_size)
    return rnn


def measure_powers(steps=100, batch=16, hidden_size=64, seed=0):
    """Part 2: the W^k argument. Returns {gamma: (norms with zero inputs, with N(0,1)
    inputs)}, each divided by the last step's."""
    out = {}
    noise = np.random.default_rng(seed + 1).standard_normal((steps, batch, hidden_size))
    for gamma in GAMMAS:
        rnn = orthogonal_rnn(gamma, hidden_size, seed)
        zero = gradient_per_step(rnn, np.zeros((steps, batch, hidden_size)))
        noisy = gradient_per_step(rnn, noise)
        out[gamma] = (zero / zero[-1], noisy / noisy[-1])
    return out


def sum_task(rng, steps=20, batch=64):
    x = rng.random((steps, batch, 1))
    y = (x - 0.5).sum(axis=0)                   # (batch, 1)
    return shendu.tensor(x.astype(np.float32)), shendu.tensor(y.astype(np.float32))


def train_exploding(clip, n_steps=500, gamma=1.5, lr=0.05, hidden_size=64, seed=0):
    """Part 3: SGD on the sum task, with ``clip_grad_norm_(max_norm=clip)`` or without
    (clip None). Returns the losses and the gradient norms before clipping."""
    shendu.manual_seed(seed)
    rnn = nn.RNN(1, hidden_size)
    head = nn.Linear(hidden_size, 1)
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((hidden_size, hidden_size)))
    rnn.weight_hh_l0.data[...] = gamma * q
    params = list(rnn.parameters()) + list(head.parameters())
    opt = optim.SGD(params, lr=lr)
    rng = np.random.default_rng(seed + 1)   # the same batches with and without clipping
    losses, norms = [], []
    with np.errstate(over="ignore", invalid="ignore"):  # the unclipped run overflows
        for _ in range(n_steps):
            x, y = sum_task(rng)
            out, _ = rnn(x)
            loss = F.mse_loss(head(out[-1]), y)
            opt.zero_grad()
            loss.backward()
            norm = nn.utils.clip_grad_norm_(params, float("inf") if clip is None else clip)
            opt.step()
            losses.append(loss.item())
            norms.append(float(norm))
    return np.array(losses), np.array(norms)


def per_step_factor(norms, span=50):
    """Geometric mean of the per-step ratio over the last ``span`` steps."""
    span = min(span, len(norms) - 1)
    return float((norms[-1 - span] / norms[-1]) ** (1.0 / span))


def plot(cells, powers, clipping, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    ax = axes[0, 0]
    styles = {"RNN": "-", "LSTM": "-", "LSTM, forget bias 1": "-", "GRU": "--"}
    for name, n in cells.items():
        k = np.arange(len(n))[::-1]                   # steps before the end
        ax.semilogy(k, n, ls=styles.get(name, "-"), lw=2 if name == "LSTM" else 1.5,
                    label=f"{name} (x{per_step_factor(n):.2f} per step)")
    ax.set_xlabel("steps back from the last one (T - t)")
    ax.set_ylabel("||dL/dx_t|| / ||dL/dx_T||")
    ax.set_title("Gradient reaching each time step (default init, hidden 128)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=9)

    ax = axes[0, 1]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for c, (gamma, (zero, noisy)) in zip(colors, powers.items()):
        k = np.arange(len(zero))[::-1]
        ax.semilogy(k, zero, color=c, ls="--", lw=1)
        ax.semilogy(k, noisy, color=c, label=f"gamma = {gamma}")
    ax.plot([], [], "k--", lw=1, label="zero input: exactly gamma^k (W^k)")
    ax.plot([], [], "k-", label="N(0,1) input: W^k times diag(tanh')")
    ax.set_xlabel("steps back from the last one (k = T - t)")
    ax.set_ylabel("||dL/dx_t|| / ||dL/dx_T||")
    ax.set_title("The course's W^10 argument: W_hh = gamma * orthogonal")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, loc="lower left")

    for ax, key, ylabel in ((axes[1, 0], 0, "training loss (MSE)"),
                            (axes[1, 1], 1, "gradient norm before clipping")):
        for c, (label, series) in zip(("tab:red", "tab:blue"), clipping.items()):
            v = series[key]
            steps = np.arange(1, len(v) + 1)
            finite = np.isfinite(v)
            ax.semilogy(steps[finite], v[finite], lw=0.8, color=c, alpha=0.8, label=label)
            if not finite.all():
                first = int(np.argmin(finite)) + 1
                ax.axvline(first, color=c, ls=":",
                           label=f"{label}: {'loss' if key == 0 else 'norm'} "
                                 f"{np.nanmax(v[finite]):.0e}, then not finite from step "
                                 f"{first}")
        ax.set_xlabel("SGD step")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=8, loc="upper right")
    axes[1, 0].set_ylim(0.1, 1e4)   # the unclipped run leaves the plot upwards
    axes[1, 1].set_ylim(0.1, 1e6)
    axes[1, 0].axhline(20 / 12, color="gray", lw=0.8, ls="--")
    axes[1, 0].text(len(clipping["no clipping"][0]), 20 / 12 * 1.15, "always answering 0",
                    ha="right", fontsize=8, color="gray")
    axes[1, 0].set_title("Exploding RNN (gamma = 1.5), SGD lr 0.05: sum of 20 inputs")
    axes[1, 1].set_title("Gradient norms: clip_grad_norm_(max_norm=1) caps the step")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--steps", type=int, default=None,
                        help="sequence length T (default 100; 40 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="T = 40 and 100 SGD steps in part 3 instead of 500 (for tests)")
    args = parser.parse_args(argv)
    if args.steps is None:
        args.steps = 40 if args.quick else 100
    t_start = time.perf_counter()

    cells = measure_cells(args.steps, seed=args.seed)
    print(f"1. gradient reaching each of {args.steps} steps from a loss on the last state "
          f"(share of the last step's left k steps back):")
    last = args.steps - 1
    for name, n in cells.items():
        back = {k: n[-1 - k] for k in sorted({min(10, last), min(50, last), last})}
        print(f"  {name:<20s} x{per_step_factor(n):.2f} per step; "
              + ", ".join(f"k={k}: {v:.1e}" for k, v in back.items()))

    powers = measure_powers(args.steps, seed=args.seed)
    print("2. W_hh = gamma * orthogonal: measured gradient k steps back vs gamma^k")
    k_all = np.arange(args.steps)[::-1]
    for gamma, (zero, noisy) in powers.items():
        err = float(np.max(np.abs(zero / gamma ** k_all - 1)))
        print(f"  gamma {gamma}: zero input {zero[0]:.2e} at k={args.steps - 1} "
              f"(gamma^k = {gamma ** (args.steps - 1):.2e}, largest relative difference "
              f"{err:.1e}); N(0,1) input {noisy[0]:.2e} (x{per_step_factor(noisy):.2f} "
              f"per step)")

    n_sgd = 100 if args.quick else 500
    clipping = {"no clipping": train_exploding(None, n_sgd, seed=args.seed),
                "clip_grad_norm_(max_norm=1)": train_exploding(1.0, n_sgd, seed=args.seed)}
    print(f"3. exploding RNN (gamma 1.5), {n_sgd} SGD steps on the sum of 20 inputs "
          f"(loss of answering 0: {20 / 12:.2f}):")
    for label, (losses, norms) in clipping.items():
        bad = np.flatnonzero(~np.isfinite(losses))
        finite_norms = norms[np.isfinite(norms)]
        tail = losses[-50:]
        print(f"  {label:<28s} first loss {losses[0]:.2f}, largest finite gradient norm "
              f"{finite_norms.max():.1e}, "
              + (f"largest finite loss {losses[np.isfinite(losses)].max():.1e}, then not "
                 f"finite from step {bad[0] + 1}" if len(bad) else
                 f"mean loss of the last 50 steps {tail.mean():.3f}"))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "vanishing_gradients.png"
    plot(cells, powers, clipping, png)
    print(f"Saved {png}  (wall time {time.perf_counter() - t_start:.1f} s)")
    return dict(cells=cells, powers=powers, clipping=clipping, png=png)


if __name__ == "__main__":
    main()
