"""Quick run of examples/energy_models.py (Hopfield, Boltzmann machine, RBM, DBN).

``--quick`` uses 1,000 MNIST training and 500 test images and small models; the checks
are what the quick run can show: the pseudo-inverse rule recalls every stored digit,
the Hebbian rule does not, energies never rise, the Hebbian capacity curve falls, a
Boltzmann machine without hidden units stays at KL >= log 2 on parity, RBM features
beat chance by far, DBN fine-tuning from pre-trained weights beats random weights in
the first epochs, and the PNGs are real images.
"""
import numpy as np
import pytest

from test_examples import assert_png, load_example
from test_examples_mnist import idx_data_dir

pytest.importorskip("matplotlib")
pytest.importorskip("sklearn")


def test_energy_models_quick(tmp_path, monkeypatch):
    data = idx_data_dir("mnist")
    ex = load_example("energy_models", monkeypatch)
    result = ex.main(["--quick", "--out", str(tmp_path), "--data-dir", str(data)])

    hop = result["hopfield"]
    assert hop["pseudo-inverse"]["recalled"] == 6
    np.testing.assert_array_equal(hop["pseudo-inverse"]["state"], hop["patterns"])
    assert hop["hebbian"]["recalled"] < 6
    for rule in ("hebbian", "pseudo-inverse"):
        assert np.all(np.diff(hop[rule]["trace"]) <= 1e-9)
    heb = hop["capacity"]["hebbian"]["recall_rate"]
    assert heb[0] == 1.0 and heb[-1] < 0.5

    bm = result["boltzmann"]
    assert bm["0 hidden, exact"]["kl_after"] >= np.log(2) - 1e-3
    for name in ("0 hidden, exact", "4 hidden, exact"):
        curve = bm[name]["kl_curve"]
        assert curve[-1] == pytest.approx(bm[name]["kl_after"], abs=1e-9)
        assert curve[-1] < bm[name]["kl_before"]

    rbm = result["rbm"]
    for name in ("CD-1", "PCD-1"):
        assert len(rbm[name]["history"]["pseudo_likelihood"]) == 2
        assert rbm[name]["accuracy"] > 0.5
    assert rbm["CD-1"]["history"]["reconstruction_error"][-1] < \
        rbm["CD-1"]["history"]["reconstruction_error"][0]

    dbn = result["dbn"]
    assert [r.components_.shape for r in dbn["dbn"].rbms_] == [(64, 784), (32, 64)]
    pre, rand = dbn[("all labels", "pre-trained")], dbn[("all labels", "random")]
    assert len(pre["val_accuracy"]) == 2
    assert pre["val_accuracy"][-1] > rand["val_accuracy"][-1]
    assert pre["val_accuracy"][-1] > 0.2

    for png in result["pngs"]:
        assert_png(png, min_size=(400, 300))
