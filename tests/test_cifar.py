"""shendu.datasets.cifar10 on small synthetic batch files of the CIFAR-10 binary format
written into tmp_path (the real set is not in ../shared/data), plus one full-size test
batch to check the default record count."""
import numpy as np
import pytest

import shendu.datasets
from shendu.data.datasets import cifar as C


def _records(n, seed):
    """``(bytes, images HWC uint8, labels)`` of n records in the binary layout."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype(np.uint8)
    planes = rng.integers(0, 256, (n, 3, 32, 32)).astype(np.uint8)
    raw = np.concatenate([labels[:, None], planes.reshape(n, 3072)], axis=1)
    return raw.tobytes(), planes.transpose(0, 2, 3, 1), labels


def _fake_cifar(root, n=4, splits=("train", "test")):
    """Write n-record batches in root/cifar-10-batches-bin; returns the expected arrays."""
    folder = root / "cifar-10-batches-bin"
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    for split in splits:
        imgs, labs = [], []
        for i, name in enumerate(C._FILES[split]):
            raw, im, lab = _records(n, seed=10 * (split == "test") + i)
            (folder / name).write_bytes(raw)
            imgs.append(im)
            labs.append(lab)
        expected[split] = np.concatenate(imgs), np.concatenate(labs)
    return expected


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(C, "RECORDS_PER_BATCH", 4)


def test_reexported_from_shendu_datasets():
    assert shendu.datasets.cifar10 is C.cifar10
    assert shendu.datasets.CIFAR10_CLASSES[3] == "cat" and len(C.CIFAR10_CLASSES) == 10
    assert "cifar10" in shendu.datasets.__all__


def test_train_and_test_splits_shapes_values(tmp_path, small_batches):
    expected = _fake_cifar(tmp_path)
    x, y = C.cifar10("train", data_dir=tmp_path)
    assert x.shape == (20, 32, 32, 3) and x.dtype == np.uint8 and x.flags.c_contiguous
    assert y.shape == (20,) and y.dtype == np.int64
    np.testing.assert_array_equal(x, expected["train"][0])
    np.testing.assert_array_equal(y, expected["train"][1])
    x, y = C.cifar10("test", data_dir=tmp_path)
    assert x.shape == (4, 32, 32, 3)
    np.testing.assert_array_equal(x, expected["test"][0])
    np.testing.assert_array_equal(y, expected["test"][1])


def test_pixel_layout_is_red_plane_then_green_then_blue(tmp_path, small_batches):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    rec = np.zeros((4, 3073), np.uint8)
    rec[:, 0] = [9, 0, 1, 2]
    rec[0, 1] = 11          # red of pixel (0, 0)
    rec[0, 1 + 1024] = 22   # green of pixel (0, 0)
    rec[0, 1 + 2048 + 33] = 33  # blue of pixel (row 1, col 1)
    (folder / "test_batch.bin").write_bytes(rec.tobytes())
    x, y = C.cifar10("test", data_dir=tmp_path)
    assert x[0, 0, 0].tolist() == [11, 22, 0] and x[0, 1, 1, 2] == 33
    assert int(x.sum()) == 66 and y.tolist() == [9, 0, 1, 2]
    xc, _ = C.cifar10("test", data_dir=folder, channels_first=True)  # the folder itself
    assert xc.shape == (4, 3, 32, 32) and xc.flags.c_contiguous
    np.testing.assert_array_equal(xc, x.transpose(0, 3, 1, 2))


def test_normalize_and_env_var(tmp_path, small_batches, monkeypatch):
    expected = _fake_cifar(tmp_path, splits=("test",))
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path))
    x, _ = C.cifar10("test", normalize=True)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    np.testing.assert_allclose(x * 255, expected["test"][0], atol=1e-4)


def test_full_size_test_batch(tmp_path):
    raw, images, labels = _records(10000, seed=0)
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    (folder / "test_batch.bin").write_bytes(raw)
    x, y = C.cifar10("test", data_dir=tmp_path)
    assert x.shape == (10000, 32, 32, 3) and y.shape == (10000,)
    np.testing.assert_array_equal(x, images)
    np.testing.assert_array_equal(y, labels)


def test_missing_folder_says_which_files_go_where(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        C.cifar10("train", data_dir=tmp_path / "nowhere")
    msg = str(info.value)
    assert f"{tmp_path / 'nowhere'} does not exist" in msg
    assert str(tmp_path / "nowhere" / "cifar-10-batches-bin") in msg
    for i in range(1, 6):
        assert f"data_batch_{i}.bin" in msg
    assert "binary version" in msg and "cifar-10-binary.tar.gz" in msg and "SHENDU_DATA" in msg


def test_missing_one_batch_names_it(tmp_path, small_batches):
    _fake_cifar(tmp_path)
    (tmp_path / "cifar-10-batches-bin" / "data_batch_3.bin").unlink()
    with pytest.raises(FileNotFoundError, match="lacks data_batch_3.bin"):
        C.cifar10("train", data_dir=tmp_path)
    assert C.cifar10("test", data_dir=tmp_path)[0].shape == (4, 32, 32, 3)  # test still loads


def test_truncated_file_is_rejected(tmp_path, small_batches):
    _fake_cifar(tmp_path, splits=("test",))
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:-5])
    with pytest.raises(C.CIFARFormatError, match=r"test_batch.bin has 12287 bytes, which is "
                                                 r"not a whole number of 3073-byte records"):
        C.cifar10("test", data_dir=tmp_path)


def test_wrong_record_count_is_rejected(tmp_path, small_batches):
    _fake_cifar(tmp_path, splits=("test",))
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    path.write_bytes(path.read_bytes()[:3073 * 3])
    with pytest.raises(C.CIFARFormatError, match="holds 3 records .* expected 4"):
        C.cifar10("test", data_dir=tmp_path)
    path.write_bytes(b"")
    with pytest.raises(C.CIFARFormatError, match="holds 0 records"):
        C.cifar10("test", data_dir=tmp_path)


def test_bad_label_is_rejected(tmp_path, small_batches):
    _fake_cifar(tmp_path, splits=("test",))
    path = tmp_path / "cifar-10-batches-bin" / "test_batch.bin"
    raw = bytearray(path.read_bytes())
    raw[2 * 3073] = 57
    path.write_bytes(bytes(raw))
    with pytest.raises(C.CIFARFormatError, match="record 2 has label 57, expected 0..9"):
        C.cifar10("test", data_dir=tmp_path)


def test_bad_split():
    with pytest.raises(ValueError, match="split must be 'train' or 'test', got 'val'"):
        C.cifar10("val")


def test_never_unpickles(tmp_path, small_batches, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("cifar10 must not unpickle")

    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    _fake_cifar(tmp_path, splits=("test",))
    assert C.cifar10("test", data_dir=tmp_path)[1].dtype == np.int64
