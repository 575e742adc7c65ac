"""Seven optimizers' paths drawn on contour plots, like the course's optimizer animations (003).

Lesson 003, "如何選擇優化器" (how to choose an optimizer): SGD, Momentum, Nesterov (NAG),
AdaGrad, AdaDelta, RMSprop and Adam, then "優化演算法動畫", Alec Radford's animations of
their paths on Beale's function. Here each optimizer is a ``shendu.optim`` class driving
one 2-parameter tensor ``p = (x, y)``; autograd gives the gradient of the test function
at every step, and the path is drawn on the function's contour plot. Two functions:

* the course's SGD picture (the zig-zag of "隨機梯度下降的缺點"):
  f(x, y) = x^2 / 20 + y^2, from (-7, 2), 30 steps;
* Beale's function, as in the animations:
  f(x, y) = (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2,
  minimum 0 at (3, 0.5), from (1, 1.5), 1000 steps.

Learning rates were picked per function so that every method gets somewhere (the
point of the lesson: one learning rate does not fit all); they are in ``PANELS``.
AdaDelta on the bowl uses eps=0.1 instead of PyTorch's 1e-6: its first steps are about
sqrt(eps) long, so with eps=1e-6 it would hardly leave the start in 30 steps.

Run: python examples/optimizers_compared.py [--out examples_output]

Measured (2-core CPU): on Beale's function Adam ends at (2.998, 0.499), loss 9.7e-07;
RMSprop 4.2e-06; AdaGrad 3.2e-05; Momentum and Nesterov 4e-05; AdaDelta 0.033;
plain SGD 0.086 (still crawling along the valley floor). On the bowl SGD zig-zags
across the narrow direction exactly as in the course's figure. Wall time about 7 s.
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu
from shendu import optim


def bowl(x, y):
    """The course's elongated bowl x^2/20 + y^2 (minimum 0 at the origin)."""
    return x ** 2 / 20 + y ** 2


def beale(x, y):
    """Beale's function (minimum 0 at (3, 0.5))."""
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y ** 2) ** 2 + (2.625 - x + x * y ** 3) ** 2


# name -> factory(params) for each panel; the colors stay the same across panels.
PANELS = [
    dict(title="x²/20 + y²  (the course's SGD zig-zag)", f=bowl, start=(-7.0, 2.0), steps=30,
         minimum=(0.0, 0.0), xlim=(-8, 8), ylim=(-3, 3), log_levels=False,
         optimizers={
             "SGD": lambda p: optim.SGD(p, lr=0.95),
             "Momentum": lambda p: optim.SGD(p, lr=0.1, momentum=0.9),
             "Nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
             "AdaGrad": lambda p: optim.Adagrad(p, lr=1.5),
             "RMSprop": lambda p: optim.RMSprop(p, lr=0.3, alpha=0.9),
             "AdaDelta": lambda p: optim.Adadelta(p, lr=1.0, rho=0.9, eps=0.1),
             "Adam": lambda p: optim.Adam(p, lr=0.3),
         }),
    dict(title="Beale's function (as in the animations)", f=beale, start=(1.0, 1.5), steps=1000,
         minimum=(3.0, 0.5), xlim=(-1, 4.5), ylim=(-1.5, 2.0), log_levels=True,
         optimizers={
             "SGD": lambda p: optim.SGD(p, lr=0.001),
             "Momentum": lambda p: optim.SGD(p, lr=0.001, momentum=0.9),
             "Nesterov": lambda p: optim.SGD(p, lr=0.001, momentum=0.9, nesterov=True),
             "AdaGrad": lambda p: optim.Adagrad(p, lr=0.5),
             "RMSprop": lambda p: optim.RMSprop(p, lr=0.01),
             "AdaDelta": lambda p: optim.Adadelta(p),  # PyTorch's defaults: lr=1, rho=0.9, eps=1e-6
             "Adam": lambda p: optim.Adam(p, lr=0.05),
         }),
]
COLORS = {"SGD": "tab:red", "Momentum": "tab:blue", "Nesterov": "tab:cyan",
          "AdaGrad": "tab:green", "RMSprop": "tab:orange", "AdaDelta": "tab:purple",
          "Adam": "black"}


def optimize(f, start, make_optimizer, steps):
    """Minimize f(x, y) from ``start``; return the path as an array of shape (steps + 1, 2)."""
    p = shendu.tensor(start, dtype=shendu.float64, requires_grad=True)
    opt = make_optimizer([p])
    path = np.empty((steps + 1, 2))
    path[0] = start
    for i in range(steps):
        opt.zero_grad()
        loss = f(p[0], p[1])
        loss.backward()
        opt.step()
        path[i + 1] = p.detach().numpy()
    return path


def run_panel(panel, steps=None):
    """Run every optimizer of one panel; return {name: path}."""
    steps = steps or panel["steps"]
    return {name: optimize(panel["f"], panel["start"], make, steps)
            for name, make in panel["optimizers"].items()}


def plot(panels, results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(7 * len(panels), 5.6))
    for ax, panel, paths in zip(np.atleast_1d(axes), panels, results):
        xs = np.linspace(*panel["xlim"], 400)
        ys = np.linspace(*panel["ylim"], 400)
        X, Y = np.meshgrid(xs, ys)
        Z = panel["f"](X, Y)
        if panel["log_levels"]:
            levels = np.logspace(-1, 4.5, 30)
            ax.contour(X, Y, Z, levels=levels, cmap="Greys", norm=matplotlib.colors.LogNorm(),
                       linewidths=0.7)
        else:
            ax.contour(X, Y, Z, levels=20, cmap="Greys", linewidths=0.7)
        for name, trace in paths.items():
            ax.plot(trace[:, 0], trace[:, 1], "-", color=COLORS[name], lw=1.5, label=name,
                    marker="o" if len(trace) <= 50 else None, markersize=3)
        ax.plot(*panel["start"], "ko", markersize=6)
        ax.plot(*panel["minimum"], "r*", markersize=14, label="minimum")
        ax.set_xlim(panel["xlim"])
        ax.set_ylim(panel["ylim"])
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_title(f"{panel['title']}, {len(next(iter(paths.values()))) - 1} steps")
        ax.legend(loc="lower left" if panel["log_levels"] else "upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="few steps (for tests)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()

    results, finals = [], {}
    for panel in PANELS:
        paths = run_panel(panel, steps=10 if args.quick else None)
        results.append(paths)
        print(f"\n{panel['title']}: start {panel['start']}, minimum {panel['minimum']}")
        for name, trace in paths.items():
            x, y = trace[-1]
            loss = float(panel["f"](x, y))
            finals[(panel["f"].__name__, name)] = (x, y, loss)
            print(f"  {name:9s} final point ({x:8.4f}, {y:8.4f})  loss {loss:.3g}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "optimizers_compared.png"
    plot(PANELS, results, png)
    print(f"\nSaved {png}  (wall time {time.perf_counter() - t0:.1f} s)")
    return {"finals": finals, "png": png, "paths": results}


if __name__ == "__main__":
    main()
