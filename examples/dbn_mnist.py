"""Deep belief network on all of MNIST: greedy RBM pre-training, then backprop fine-tuning.

Course seed 003 ("Deep Belief Networks"): a DBN is a stack of RBMs trained one layer at
a time without labels, each on the hidden-unit probabilities of the one below
(Hinton, Osindero and Teh 2006). Their weights then initialise a sigmoid network
784-500-500 with a softmax output, and backpropagation fine-tunes the whole stack on the
labels. The lesson trains the same network twice, once from the pre-trained weights and
once from a random initialisation, and plots the test accuracy per fine-tuning epoch.
``examples/energy_models.py`` shows the same on 20,000 digits beside Hopfield nets and
RBMs; this lesson uses the whole training set, as the course's figure does.

* data: the 60,000 MNIST training digits, grey levels in [0, 1] used as the
  probabilities of binary pixels (as scikit-learn's BernoulliRBM takes them); all
  10,000 test digits;
* pre-training: ``shendu.models.dbn.DBN((500, 500))``, CD-1, 10 epochs per layer,
  learning rate 0.05, batch 20, momentum 0.5, weight decay 1e-4;
* fine-tuning: ``DBN.to_module(10)`` (Linear + Sigmoid per RBM, then Linear to the 10
  logits), softmax cross-entropy, SGD lr 0.1 with momentum 0.9, batch 32, the learning
  rate halved every 5 epochs; the random baseline takes the same steps.

Run: python examples/dbn_mnist.py [--out examples_output] [--data-dir DIR] [--quick]

Measured (2-core AMD EPYC, AVX2, OPENBLAS_NUM_THREADS=1, seed 0; 352 s: pre-training
133 s, each fine-tuning run ~110 s): test accuracy after 20 epochs 0.9870 from the
pre-trained weights (0.9794 after the first epoch, >= 0.985 from epoch 5 on) against
0.9800 from random init (0.9265 after the first epoch).
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

FULL = dict(n_train=60000, sizes=(500, 500), pre_epochs=10, epochs=20, halve_every=5)
QUICK = dict(n_train=2000, sizes=(128, 64), pre_epochs=2, epochs=3, halve_every=2)
RBM_SETTINGS = dict(learning_rate=0.05, batch_size=20, momentum=0.5, weight_decay=1e-4)


def fine_tune(net, X, y, X_test, y_test, cfg, seed, label):
    """SGD with momentum, the learning rate halved every ``halve_every`` epochs; returns
    the test accuracy after every epoch."""
    from shendu.models.dbn import train_classifier
    accuracy, lr = [], 0.1
    for epoch in range(cfg["epochs"]):
        if epoch and epoch % cfg["halve_every"] == 0:
            lr /= 2
        h = train_classifier(net, X, y, epochs=1, lr=lr, batch_size=32, momentum=0.9,
                             seed=seed * 1000 + epoch, X_val=X_test, y_val=y_test)
        accuracy.append(h["val_accuracy"][-1])
        print(f"  {label:>11} epoch {epoch + 1:2d} (lr {lr:.4g}): loss {h['loss'][-1]:.4f}, "
              f"test accuracy {accuracy[-1]:.4f}", flush=True)
    return accuracy


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/ "
                        "(default $SHENDU_DATA or ~/.shendu/datasets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="2,000 digits, a small DBN, 3 epochs (for tests)")
    args = parser.parse_args(argv)
    cfg = QUICK if args.quick else FULL
    import shendu
    from shendu.datasets import mnist
    from shendu.models.dbn import DBN

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    X, y = mnist("train", data_dir=args.data_dir, normalize=True, flatten=True)
    X_test, y_test = mnist("test", data_dir=args.data_dir, normalize=True, flatten=True)
    X, y = X[:cfg["n_train"]].astype(np.float32), y[:cfg["n_train"]]
    if args.quick:
        X_test, y_test = X_test[:1000], y_test[:1000]
    print(f"MNIST: {len(X)} training and {len(X_test)} test digits")

    t0 = time.perf_counter()
    dbn = DBN(cfg["sizes"], n_iter=cfg["pre_epochs"], random_state=args.seed,
              **RBM_SETTINGS).fit(X)
    pre_seconds = time.perf_counter() - t0
    arch = "784-" + "-".join(map(str, cfg["sizes"])) + "-10"
    print(f"pre-trained {arch} in {pre_seconds:.0f} s; reconstruction error of each RBM "
          "after its last epoch: " + ", ".join(f"{r.history_['reconstruction_error'][-1]:.1f}"
                                               for r in dbn.rbms_))
    curves = {}
    for init in ("pre-trained", "random"):
        shendu.manual_seed(args.seed)
        net = dbn.to_module(10, pretrained=init == "pre-trained")
        t0 = time.perf_counter()
        curves[init] = fine_tune(net, X, y, X_test, y_test, cfg, args.seed, init)
        print(f"  {init}: final test accuracy {curves[init][-1]:.4f} "
              f"({time.perf_counter() - t0:.0f} s)")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for init, acc in curves.items():
        ax.plot(np.arange(1, len(acc) + 1), acc, "o-", label=f"{init} (final {acc[-1]:.4f})")
    ax.axhline(0.985, color="grey", ls=":", lw=1, label="0.985")
    ax.set(xlabel="fine-tuning epoch", ylabel="test accuracy",
           title=f"DBN {arch} on {len(X)} MNIST digits: pre-trained vs random init")
    lo = min(min(a) for a in curves.values())
    ax.set_ylim(max(lo - 0.005, 0), 1.0 if args.quick else 0.995)
    ax.legend()
    fig.tight_layout()
    png = out / "dbn_mnist.png"
    fig.savefig(png, dpi=90)
    plt.close(fig)
    seconds = time.perf_counter() - t_start
    print(f"Saved {png}  (wall time {seconds:.0f} s)")
    return dict(curves=curves, png=png, seconds=seconds, pre_seconds=pre_seconds, dbn=dbn)


if __name__ == "__main__":
    main()
