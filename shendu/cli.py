"""The ``shendu`` command: ``shendu demo``, ``shendu examples``, ``shendu --version``."""
from __future__ import annotations

import argparse
import ast
import os
import sys
import time
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"


def _demo(args):
    """Train a small MLP on scikit-learn's 8x8 digits with the Keras-style API."""
    import numpy as np

    import shendu
    from shendu import datasets, keras
    from shendu.data.transforms import Standardize, train_test_split

    shendu.manual_seed(args.seed)
    digits = datasets.digits()
    x, y = digits.data.astype(np.float32), digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.25, random_state=args.seed, stratify=y)
    scaler = Standardize().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    print(f"shendu {shendu.__version__} demo: digits (8x8 images of 0-9), "
          f"{len(x_train)} training and {len(x_test)} test samples")
    model = keras.Sequential([
        keras.Input(shape=(64,)),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(64, activation="relu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.summary()
    t0 = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
                        validation_split=0.1, verbose=args.verbose)
    seconds = time.perf_counter() - t0
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model_path = out / "digits_mlp.shendu"
    model.save(model_path)
    print(f"test accuracy {acc:.4f} (loss {loss:.4f}) after {args.epochs} epochs in {seconds:.1f}s")
    print(f"model saved to {model_path}")
    try:
        fig = keras.utils.plot_history(history, title="shendu demo: digits MLP")
        png = out / "digits_mlp_loss.png"
        fig.savefig(png, dpi=100)
        print(f"loss curve saved to {png}")
    except ImportError as e:
        print(f"(no loss-curve PNG: {e})")
    return 0 if acc >= 0.9 else 1


def _examples(args):
    if not EXAMPLES_DIR.is_dir():
        print("the examples/ folder is not next to this installation "
              "(it ships in the source repository)")
        return 1
    for f in sorted(EXAMPLES_DIR.glob("*.py")):
        doc = ast.get_docstring(ast.parse(f.read_text(encoding="utf-8"))) or ""
        first = doc.strip().splitlines()[0] if doc.strip() else ""
        print(f"{f.name:<28} {first}")
    print(f"\nrun one with: python {os.path.relpath(EXAMPLES_DIR)}/NAME.py")
    return 0


def main(argv=None):
    import shendu
    parser = argparse.ArgumentParser(prog="shendu", description="shendu (深度): deep learning "
                                     "from scratch on NumPy")
    parser.add_argument("--version", action="version", version=f"shendu {shendu.__version__}")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="train a small network on the digits dataset")
    demo.add_argument("--epochs", type=int, default=20)
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--out", default="shendu-demo", help="folder for the model and the PNG")
    demo.add_argument("--verbose", default="auto", type=lambda v: v if v == "auto" else int(v))
    sub.add_parser("examples", help="list the examples (one per lesson of the course)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    if args.command == "examples":
        return _examples(args)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
