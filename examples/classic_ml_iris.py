"""Classic machine learning beside a neural network: decision boundaries on iris petals.

Course seed 003 ("比較人工神經網路與其他機器學習模型") compares an artificial neural
network with the classic models: a decision tree, logistic regression and support
vector machines. On the iris petal length and width (2 features, so every model's
decision regions can be drawn in the plane) the lesson fits, side by side:

* a decision tree (max depth 3): axis-parallel cuts;
* logistic regression: straight boundaries between the classes' linear scores;
* SVMs with a linear, an RBF (gamma "scale") and a cubic polynomial kernel, C = 1;
* a shendu network through ``shendu.wrappers.NetClassifier`` (2 -> 16 -> 16 -> 3, tanh,
  Adam lr 0.01, 200 epochs, batch 16): a smooth, curved boundary.

Every model but the tree gets standardised inputs (``Pipeline`` with ``StandardScaler``:
the SVMs and the network care about the scale, a tree does not). 70% / 30% stratified
split (random_state 0: 105 training, 45 test flowers). The figure has one panel per
model: its decision regions, the training flowers as filled dots and the test flowers
as open circles, and its test accuracy in the title.

Run: python examples/classic_ml_iris.py [--out examples_output] [--quick]

Measured (2-core CPU shared with other jobs, OMP_NUM_THREADS=1, seed 0, 6 s), test
accuracy on the 45 held-out flowers:

| model | test accuracy |
|---|---|
| decision tree (depth 3) | 0.9556 |
| logistic regression | 0.9778 |
| SVM, linear kernel | 0.9778 |
| SVM, RBF kernel | 0.9778 |
| SVM, polynomial kernel (degree 3) | 0.9556 |
| shendu network (16-16 tanh) | 0.9778 |

Petal length and width separate setosa perfectly; versicolor and virginica overlap in a
few flowers, so on 45 test flowers one mistake is 0.022 of accuracy and the models'
differences are one or two flowers: the lesson is the shape of the boundaries, not a
ranking.
"""
import argparse
import importlib.util
import os
import time
from pathlib import Path

import numpy as np

CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c")


def models(seed, epochs):
    """The six models, by display name, as scikit-learn estimators."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    from shendu.wrappers import NetClassifier

    def scaled(estimator):
        return make_pipeline(StandardScaler(), estimator)
    return {
        "decision tree (depth 3)": DecisionTreeClassifier(max_depth=3, random_state=seed),
        "logistic regression": scaled(LogisticRegression(max_iter=1000)),
        "SVM, linear kernel": scaled(SVC(kernel="linear", C=1.0)),
        "SVM, RBF kernel": scaled(SVC(kernel="rbf", C=1.0, gamma="scale")),
        "SVM, polynomial kernel (degree 3)": scaled(SVC(kernel="poly", degree=3, C=1.0)),
        "shendu network (16-16 tanh)": scaled(NetClassifier(
            module__hidden=(16, 16), module__activation="tanh", lr=0.01,
            max_epochs=epochs, batch_size=16, random_state=seed)),
    }


def load(seed):
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split
    iris = load_iris()
    X = iris.data[:, 2:4]  # petal length, petal width (cm)
    split = train_test_split(X, iris.target, test_size=0.3, random_state=seed,
                             stratify=iris.target)
    return split, list(iris.target_names), iris.feature_names[2:4]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--epochs", type=int, default=200, help="the network's epochs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="60 network epochs and a coarser grid (for tests)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("sklearn") is None:
        raise SystemExit('this lesson needs scikit-learn: pip install "shendu[sklearn]"')
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap

    epochs = 60 if args.quick else args.epochs
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    (X_train, X_test, y_train, y_test), class_names, feature_names = load(args.seed)
    print(f"iris petals: {len(X_train)} training and {len(X_test)} test flowers")

    step = 0.05 if args.quick else 0.01
    lo, hi = np.vstack([X_train, X_test]).min(0) - 0.5, np.vstack([X_train, X_test]).max(0) + 0.5
    xx, yy = np.meshgrid(np.arange(lo[0], hi[0], step), np.arange(lo[1], hi[1], step))
    grid = np.c_[xx.ravel(), yy.ravel()]

    fig, axes = plt.subplots(2, 3, figsize=(15, 9.5), sharex=True, sharey=True)
    accuracy = {}
    for ax, (name, model) in zip(axes.ravel(), models(args.seed, epochs).items()):
        model.fit(X_train, y_train)
        accuracy[name] = float(model.score(X_test, y_test))
        print(f"  {name:<34} test accuracy {accuracy[name]:.4f}")
        regions = model.predict(grid).reshape(xx.shape)
        ax.contourf(xx, yy, regions, levels=[-0.5, 0.5, 1.5, 2.5], alpha=0.25,
                    cmap=ListedColormap(CLASS_COLOURS))
        ax.contour(xx, yy, regions, levels=[0.5, 1.5], colors="k", linewidths=0.6)
        for k, colour in enumerate(CLASS_COLOURS):
            ax.scatter(*X_train[y_train == k].T, s=22, color=colour, edgecolor="k",
                       linewidth=0.4, label=f"{class_names[k]} (train)")
            ax.scatter(*X_test[y_test == k].T, s=34, facecolor="none", edgecolor=colour,
                       linewidth=1.3, label=f"{class_names[k]} (test)")
        ax.set_title(f"{name}\ntest accuracy {accuracy[name]:.3f}")
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
    for ax in axes[1]:
        ax.set_xlabel(feature_names[0])
    for ax in axes[:, 0]:
        ax.set_ylabel(feature_names[1])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, frameon=False)
    fig.suptitle("Decision regions on the iris petals: classic models and a shendu network "
                 "(filled: training, open: test)")
    fig.tight_layout(rect=(0, 0.05, 1, 0.96))
    png = out / "classic_ml_iris.png"
    fig.savefig(png, dpi=80)
    plt.close(fig)
    seconds = time.perf_counter() - t_start
    print(f"Saved {png}  (wall time {seconds:.0f} s)")
    return dict(accuracy=accuracy, png=png, seconds=seconds)


if __name__ == "__main__":
    main()
