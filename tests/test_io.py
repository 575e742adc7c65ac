"""Saving and loading: round trips, atomic writes, clear errors on bad files, no pickle."""
import os
from pathlib import Path

import numpy as np
import pytest

import shendu
import shendu.io as sio

pytest.importorskip("safetensors", reason="saving needs safetensors: pip install 'shendu[io]'")


def test_round_trip_nested_state(tmp_path):
    state = {"weight": shendu.randn(3, 4), "bias": shendu.zeros(4, dtype=shendu.float64),
             "opt": {"state": {0: {"step": 7, "exp_avg": shendu.ones(2)}},
                     "param_groups": [{"lr": 1e-3, "betas": (0.9, 0.999), "params": [0, 1],
                                       "nesterov": False, "name": None}]}}
    p = tmp_path / "ckpt.safetensors"
    shendu.io.save(state, p)
    back = shendu.io.load(p)
    np.testing.assert_array_equal(back["weight"].numpy(), state["weight"].numpy())
    assert back["bias"].dtype == shendu.float64
    assert back["opt"]["state"][0]["step"] == 7
    assert back["opt"]["param_groups"][0]["betas"] == (0.9, 0.999)
    assert back["opt"]["param_groups"][0]["name"] is None
    assert back["opt"]["param_groups"][0]["params"] == [0, 1]


def test_flat_state_dict_is_plain_safetensors(tmp_path):
    from safetensors.numpy import load_file
    p = tmp_path / "w.safetensors"
    sio.save_state_dict({"a": shendu.arange(6).reshape(2, 3)}, p)
    np.testing.assert_array_equal(load_file(str(p))["a"], np.arange(6).reshape(2, 3))
    assert sio.load_state_dict(p)["a"].shape == (2, 3)


def test_failed_save_leaves_old_file_intact(tmp_path, monkeypatch):
    p = tmp_path / "w.safetensors"
    sio.save({"a": shendu.ones(2)}, p)
    before = p.read_bytes()

    def crash(*args):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated"):
        sio.save({"a": shendu.zeros(1000)}, p)
    assert p.read_bytes() == before
    assert [f.name for f in tmp_path.iterdir()] == ["w.safetensors"]  # no temp file left


def test_truncated_file_is_reported(tmp_path):
    p = tmp_path / "w.safetensors"
    sio.save({"a": shendu.ones(100)}, p)
    data = p.read_bytes()
    p.write_bytes(data[:-50])
    with pytest.raises(ValueError, match="truncated"):
        sio.load(p)


@pytest.mark.parametrize("content", [b"", b"\x80\x04\x95pickle!", b"PK\x03\x04" + b"\x00" * 40,
                                     (10).to_bytes(8, "little") + b"not json!!"])
def test_foreign_or_corrupt_files_are_refused(tmp_path, content):
    p = tmp_path / "x.bin"
    p.write_bytes(content)
    with pytest.raises(ValueError, match="load: .*(not a safetensors|corrupt|truncated)"):
        sio.load(p)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file"):
        sio.load(tmp_path / "nope.safetensors")


def test_objects_that_would_need_pickle_are_refused(tmp_path):
    with pytest.raises(TypeError, match="no pickle"):
        sio.save({"f": lambda x: x}, tmp_path / "a.safetensors")


def test_no_pickle_anywhere_in_the_package():
    root = Path(shendu.__file__).parent
    for f in root.rglob("*.py"):
        text = f.read_text()
        assert "import pickle" not in text and "pickle.load" not in text, f


def test_zero_dim_tensors_keep_their_shape(tmp_path):
    """BatchNorm's num_batches_tracked is 0-d; a round trip must not make it (1,)."""
    p = tmp_path / "s.safetensors"
    sio.save({"n": shendu.tensor(3), "x": shendu.tensor(2.5)}, p)
    back = sio.load(p)
    assert back["n"].shape == () and back["n"].item() == 3 and back["x"].shape == ()
    bn = shendu.nn.BatchNorm1d(3)
    sio.save(bn.state_dict(), p)
    bn.load_state_dict(sio.load(p))
