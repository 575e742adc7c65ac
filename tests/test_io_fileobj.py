"""shendu.save / shendu.load with open file objects and BytesIO, and PyTorch's
map_location / weights_only arguments (still safetensors + JSON, no pickle)."""
import io
import os

import numpy as np
import pytest

import shendu
from shendu import nn


def _state():
    shendu.manual_seed(0)
    return nn.Linear(3, 2).state_dict()


def test_bytesio_round_trip():
    sd = _state()
    buf = io.BytesIO()
    shendu.save(sd, buf)
    buf.seek(0)
    back = shendu.load(buf)
    assert list(back) == list(sd)
    for k in sd:
        np.testing.assert_array_equal(back[k].numpy(), sd[k].numpy())


def test_open_file_objects(tmp_path):
    path = tmp_path / "m.pt"
    obj = {"model": _state(), "epoch": 3, "losses": [0.5, 0.25]}
    with open(path, "wb") as f:
        shendu.save(obj, f)
    with open(path, "rb") as f:
        back = shendu.load(f)
    assert back["epoch"] == 3 and back["losses"] == [0.5, 0.25]
    from_path = shendu.load(path)  # the same file read by path
    assert list(from_path["model"]) == list(back["model"])
    np.testing.assert_array_equal(from_path["model"]["weight"].numpy(),
                                  back["model"]["weight"].numpy())


def _bytes_of(obj):
    buf = io.BytesIO()
    shendu.save(obj, buf)
    return buf.getvalue()


def test_two_objects_in_one_stream():
    buf = io.BytesIO()
    shendu.save({"a": shendu.ones(2)}, buf)
    first_end = buf.tell()
    shendu.save({"b": shendu.zeros(3)}, buf)
    buf.seek(0)
    # safetensors has no end marker: each load reads to the end, so seek and slice
    a = shendu.load(io.BytesIO(buf.getvalue()[:first_end]))
    assert a["a"].tolist() == [1.0, 1.0]


def test_map_location_forms():
    buf = io.BytesIO(_bytes_of({"w": shendu.ones(2)}))
    for loc in (None, "cpu", shendu.device("cpu"), {"cuda:0": "cpu"}, {"cpu": "cpu"}):
        buf.seek(0)
        assert shendu.load(buf, map_location=loc)["w"].tolist() == [1.0, 1.0]
    seen = []

    def fn(t, location):
        seen.append(location)
        return t * 2

    buf.seek(0)
    assert shendu.load(buf, map_location=fn)["w"].tolist() == [2.0, 2.0]
    assert seen == ["cpu"]
    buf.seek(0)
    with pytest.raises(ValueError, match="map_location"):
        shendu.load(buf, map_location="tpu")


@pytest.mark.skipif(shendu.cuda.is_available(), reason="checks the error without a GPU")
def test_map_location_cuda_without_cupy_is_clear():
    buf = io.BytesIO(_bytes_of({"w": shendu.ones(2)}))
    with pytest.raises(RuntimeError, match="CuPy|cupy"):
        shendu.load(buf, map_location="cuda")


def test_weights_only_both_values_same():
    data = _bytes_of({"w": shendu.ones(2), "name": "x"})
    a = shendu.load(io.BytesIO(data), weights_only=True)
    b = shendu.load(io.BytesIO(data), weights_only=False)
    assert a["name"] == b["name"] == "x" and a["w"].tolist() == b["w"].tolist()
    with pytest.raises(TypeError, match="unexpected keyword"):
        shendu.load(io.BytesIO(data), pickle=True)


def test_text_mode_files_give_clear_errors(tmp_path):
    with open(tmp_path / "t.txt", "w") as f:
        with pytest.raises(TypeError, match="binary mode"):
            shendu.save({"w": shendu.ones(1)}, f)
    (tmp_path / "t.txt").write_bytes(_bytes_of({"w": shendu.ones(1)}))
    with open(tmp_path / "t.txt", "r", encoding="latin-1") as f:
        with pytest.raises(TypeError, match="binary mode"):
            shendu.load(f)


def test_truncated_stream_is_reported():
    data = _bytes_of({"w": shendu.ones(100)})
    with pytest.raises(ValueError, match="truncated"):
        shendu.load(io.BytesIO(data[:-10]))


def test_path_save_is_still_atomic(tmp_path, monkeypatch):
    path = tmp_path / "w.safetensors"
    shendu.save({"w": shendu.ones(1)}, path)
    import shendu.io.serialization as ser

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(ser.os, "fsync", boom)
    with pytest.raises(OSError):
        shendu.save({"w": shendu.zeros(1)}, path)
    assert shendu.load(path)["w"].tolist() == [1.0]       # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == ["w.safetensors"]  # no temp left
    assert os.path.exists(path)


def test_numpy_arrays_come_back_as_numpy_arrays(tmp_path):
    # torch.save(np_array, f) / torch.load(f) give the array back (time_sequence_prediction)
    data = np.sin(np.arange(12.0)).reshape(3, 4)
    with open(tmp_path / "traindata.pt", "wb") as f:
        shendu.save(data, f)
    back = shendu.load(tmp_path / "traindata.pt", weights_only=False)
    assert type(back) is np.ndarray and back.dtype == np.float64
    np.testing.assert_array_equal(back, data)
    mixed = shendu.load(io.BytesIO(_bytes_of({"t": shendu.ones(2), "a": np.zeros(2)})))
    assert isinstance(mixed["t"], shendu.Tensor) and type(mixed["a"]) is np.ndarray
