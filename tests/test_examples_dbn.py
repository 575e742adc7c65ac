"""Quick run of examples/dbn_mnist.py (DBN pre-training, then fine-tuning, against random init).

The quick run (2,000 digits, a 784-128-64-10 DBN, 3 epochs) checks what it can show: each
RBM is trained, pre-trained weights beat random ones after the first fine-tuning epochs,
fine-tuning improves on its first epoch, and the PNG is a real image.
"""
import pytest

from test_examples import assert_png, load_example
from test_examples_mnist import idx_data_dir

pytest.importorskip("matplotlib")


def test_dbn_mnist_quick(tmp_path, monkeypatch):
    data = idx_data_dir("mnist")
    ex = load_example("dbn_mnist", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])
    pre, rand = result["curves"]["pre-trained"], result["curves"]["random"]
    assert len(pre) == len(rand) == 3
    assert [r.components_.shape for r in result["dbn"].rbms_] == [(128, 784), (64, 128)]
    assert pre[0] > rand[0] + 0.2          # the point of pre-training
    assert pre[-1] >= pre[0] and pre[-1] > 0.6
    assert_png(result["png"])
