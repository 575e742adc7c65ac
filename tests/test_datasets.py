"""shendu.datasets: synthetic sets, scikit-learn's bundled sets, and real data read from the
data folder (MNIST, Fashion-MNIST, Wine Quality, names, tiny-shakespeare), plus the IDX
parser's error cases on small files written into tmp_path."""
import gzip
import os
import sys
from pathlib import Path

import numpy as np
import pytest

import shendu.data
import shendu.datasets
from shendu.data import datasets as D
from shendu.data.datasets.idx import IDXFormatError, read_idx

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # /work/shared/data


def data_root(folder):
    """The data root holding ``folder``: $SHENDU_DATA if it has it, else ../shared/data."""
    for root in (os.environ.get("SHENDU_DATA"), SHARED_DATA):
        if root and (Path(root) / folder).is_dir():
            return Path(root)
    pytest.skip(f"real dataset folder {folder}/ not found in $SHENDU_DATA or {SHARED_DATA} "
                f"(see /work/shared/data/README.md)")


def test_shendu_datasets_reexports_the_loaders():
    for name in D.__all__:
        assert getattr(shendu.datasets, name) is getattr(D, name)
    assert shendu.data.datasets is D


# ------------------------------------------------------------------- synthetic
def test_xor_truth_table_and_noisy_variant():
    X, y = D.xor()
    assert X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    Xn, yn = D.xor(400, noise=0.1, seed=0)
    assert Xn.shape == (400, 2) and np.bincount(yn).tolist() == [200, 200]
    corners = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])[np.arange(400) % 4]
    assert 0.08 < np.std(Xn - corners) < 0.12
    np.testing.assert_array_equal(yn, corners[:, 0] ^ corners[:, 1])


def test_spiral_cs231n():
    X, y = D.spiral(100, n_classes=3, noise=0.2, seed=0)
    assert X.shape == (300, 2) and X.dtype == np.float32 and y.dtype == np.int64
    assert np.bincount(y).tolist() == [100, 100, 100]
    radius = np.linalg.norm(X, axis=1)
    np.testing.assert_allclose(radius, np.tile(np.linspace(0, 1, 100), 3), atol=1e-6)
    X0, _ = D.spiral(5, n_classes=2, noise=0.0)
    t = np.linspace(4, 8, 5)  # class 1 angles without noise
    np.testing.assert_allclose(X0[5:], np.c_[np.linspace(0, 1, 5) * np.sin(t),
                                             np.linspace(0, 1, 5) * np.cos(t)], atol=1e-6)


def test_moons_and_circles_geometry():
    X, y = D.moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    outer = X[y == 0]
    np.testing.assert_allclose(np.linalg.norm(outer, axis=1), 1.0, atol=1e-6)
    inner = X[y == 1] - np.array([1.0, 0.5])
    np.testing.assert_allclose(np.linalg.norm(inner, axis=1), 1.0, atol=1e-6)
    C, c = D.circles(100, factor=0.3, seed=0)
    r = np.linalg.norm(C, axis=1)
    np.testing.assert_allclose(r[c == 0], 1.0, atol=1e-6)
    np.testing.assert_allclose(r[c == 1], 0.3, atol=1e-6)
    Cn, _ = D.circles(100, noise=0.05, seed=0)
    assert not np.allclose(np.linalg.norm(Cn, axis=1)[c == 0], 1.0)


@pytest.mark.parametrize("make", [
    lambda seed: D.xor(20, noise=0.3, seed=seed),
    lambda seed: D.spiral(30, seed=seed),
    lambda seed: D.moons(30, noise=0.1, seed=seed),
    lambda seed: D.circles(30, noise=0.1, seed=seed),
])
def test_synthetic_seed_repeatability(make):
    a, b, c = make(0), make(0), make(1)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    shendu.manual_seed(5)
    d = make(None)
    shendu.manual_seed(5)
    np.testing.assert_array_equal(d[0], make(None)[0])


def test_synthetic_errors():
    with pytest.raises(ValueError, match="xor: n must be an int >= 1"):
        D.xor(0)
    with pytest.raises(ValueError, match="noise must be a number >= 0"):
        D.moons(10, noise=-1)
    with pytest.raises(ValueError, match=r"factor .* must lie in \[0, 1\)"):
        D.circles(10, factor=1.5)
    with pytest.raises(ValueError, match="n_classes"):
        D.spiral(10, n_classes=0)


# ----------------------------------------------------------------- scikit-learn
def test_sklearn_datasets_shapes_and_dtypes():
    pytest.importorskip("sklearn", reason="scikit-learn is not installed (pip install shendu[sklearn])")
    b = D.iris()
    assert isinstance(b, D.Bunch)
    assert b.data.shape == (150, 4) and b.data.dtype == np.float32
    assert b.target.dtype == np.int64 and np.bincount(b.target).tolist() == [50, 50, 50]
    assert b.target_names == ["setosa", "versicolor", "virginica"] and len(b.feature_names) == 4
    assert "Iris" in b.DESCR
    X, y = D.digits(return_X_y=True)
    assert X.shape == (1797, 64) and y.shape == (1797,) and X.max() == 16
    dg = D.digits()
    assert dg.images.shape == (1797, 8, 8)
    np.testing.assert_array_equal(dg.images.reshape(1797, 64), dg.data)
    bc = D.breast_cancer(dtype=np.float64)
    assert bc.data.shape == (569, 30) and bc.data.dtype == np.float64
    assert np.bincount(bc.target).tolist() == [212, 357]


def test_sklearn_missing_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn` fail
    with pytest.raises(ImportError, match=r"pip install shendu\[sklearn\].*pip install scikit-learn"):
        D.iris()


def test_bunch_attribute_access():
    b = D.Bunch(data=1)
    b.target = 2
    assert b["target"] == 2 and b.data == 1
    with pytest.raises(AttributeError, match="no field 'nope'"):
        b.nope


# ----------------------------------------------------------- MNIST (real data)
@pytest.fixture(scope="module")
def mnist_train():
    return D.mnist("train", data_dir=data_root("mnist"))


def test_mnist_real_files(mnist_train):
    images, labels = mnist_train
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.int64
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first training labels
    assert np.bincount(labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265,
                                            5851, 5949]
    assert images.min() == 0 and images.max() == 255
    assert images.flags.writeable
    test_images, test_labels = D.mnist("test", data_dir=data_root("mnist"))
    assert test_images.shape == (10000, 28, 28) and test_labels.shape == (10000,)
    assert test_labels[0] == 7


def test_mnist_normalize_flatten_and_env_var(monkeypatch):
    root = data_root("mnist")
    monkeypatch.setenv("SHENDU_DATA", str(root))
    x, y = shendu.datasets.mnist("test", normalize=True, flatten=True)
    assert x.shape == (10000, 784) and x.dtype == np.float32
    assert 0.0 <= x.min() and x.max() == 1.0
    assert abs(float(x.mean()) - 0.1325) < 0.002  # MNIST's mean pixel is about 0.13
    with pytest.raises(ValueError, match="split must be 'train' or 'test'"):
        D.mnist("val")


def test_fashion_mnist_real_files():
    root = data_root("fashion-mnist")
    images, labels = D.fashion_mnist("train", data_dir=root)
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.dtype == np.int64 and np.bincount(labels).tolist() == [6000] * 10
    test_images, test_labels = D.fashion_mnist("test", data_dir=root)
    assert test_images.shape == (10000, 28, 28)
    assert np.bincount(test_labels).tolist() == [1000] * 10
    assert len(D.FASHION_MNIST_CLASSES) == 10 and D.FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_mnist_through_dataloader(mnist_train):
    images, labels = mnist_train
    loader = shendu.data.DataLoader(shendu.data.TensorDataset(images, labels), batch_size=128,
                                    shuffle=True)
    assert len(loader) == 469
    xb, yb = next(iter(loader))
    assert xb.shape == (128, 28, 28) and xb.dtype == np.uint8 and yb.dtype == np.int64


# -------------------------------------------------- IDX errors on small files
def _idx_bytes(magic, dims, payload):
    head = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return head + bytes(payload)


def _write(path, data, gz=True):
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.open(path, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)
    return path


def _fake_mnist(root, n_images=3, n_labels=3, rows=4, cols=5, split="train", labels=None,
                folder="mnist"):
    prefix = "train" if split == "train" else "t10k"
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(n_images, rows, cols), dtype=np.uint8)
    lab = np.arange(n_labels) % 10 if labels is None else np.asarray(labels)
    _write(root / folder / f"{prefix}-images-idx3-ubyte.gz",
           _idx_bytes(2051, (n_images, rows, cols), pixels.tobytes()))
    _write(root / folder / f"{prefix}-labels-idx1-ubyte.gz",
           _idx_bytes(2049, (n_labels,), lab.astype(np.uint8).tobytes()))
    return pixels, lab


def test_idx_small_valid_files(tmp_path):
    pixels, lab = _fake_mnist(tmp_path)
    images, labels = D.mnist(data_dir=tmp_path)
    np.testing.assert_array_equal(images, pixels)
    np.testing.assert_array_equal(labels, lab)
    # data_dir may also point straight at the dataset's folder
    np.testing.assert_array_equal(D.mnist(data_dir=tmp_path / "mnist")[0], pixels)
    # un-gzipped files (torchvision's raw/ folder has them) are accepted too
    raw = tmp_path / "raw"
    _write(raw / "fashion-mnist" / "t10k-images-idx3-ubyte",
           _idx_bytes(2051, (1, 2, 2), [1, 2, 3, 4]), gz=False)
    _write(raw / "fashion-mnist" / "t10k-labels-idx1-ubyte", _idx_bytes(2049, (1,), [9]),
           gz=False)
    x, y = D.fashion_mnist("test", data_dir=raw)
    assert x.tolist() == [[[1, 2], [3, 4]]] and y.tolist() == [9]


def test_idx_generic_dtypes(tmp_path):
    values = np.array([[1.5, -2.0], [3.0, 4.25]], dtype=">f4")
    p = _write(tmp_path / "floats.idx", _idx_bytes(0x0D02, (2, 2), values.tobytes()), gz=False)
    out = read_idx(p)
    assert out.dtype == np.float32 and out.dtype.isnative
    np.testing.assert_array_equal(out, values)


def test_idx_wrong_magic(tmp_path):
    _fake_mnist(tmp_path)
    labels_path = tmp_path / "mnist" / "train-labels-idx1-ubyte.gz"
    images_path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    labels_path.write_bytes(images_path.read_bytes())  # an images file under the labels' name
    with pytest.raises(IDXFormatError, match=r"train-labels-idx1-ubyte.gz: magic number 2051 "
                                             r"\(an images file.*expected 2049"):
        D.mnist(data_dir=tmp_path)
    p = _write(tmp_path / "junk.gz", b"hello world, not idx")
    with pytest.raises(IDXFormatError, match="is not an IDX header"):
        read_idx(p)
    with pytest.raises(ValueError, match="too short"):
        read_idx(_write(tmp_path / "tiny.gz", b"\x00\x00"))


def test_idx_truncated_file_names_file_and_sizes(tmp_path):
    _fake_mnist(tmp_path, n_images=3)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    full = gzip.decompress(path.read_bytes())
    assert len(full) == 16 + 3 * 4 * 5
    _write(path, full[:-7])
    with pytest.raises(IDXFormatError) as info:
        D.mnist(data_dir=tmp_path)
    msg = str(info.value)
    assert str(path) in msg and "truncated" in msg
    assert "76 bytes are expected" in msg and "it has 69 bytes" in msg and "(3, 4, 5)" in msg
    _write(path, full + b"\x00\x00")
    with pytest.raises(IDXFormatError, match="longer than its header says.*it has 78 bytes"):
        D.mnist(data_dir=tmp_path)
    _write(path, full[:10])  # cut inside the header
    with pytest.raises(IDXFormatError, match="truncated header: 3 dimensions need a 16-byte"):
        D.mnist(data_dir=tmp_path)


def test_idx_damaged_gzip_stream(tmp_path):
    _fake_mnist(tmp_path)
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:-12])  # a download cut short
    with pytest.raises(IDXFormatError, match=r"train-images-idx3-ubyte.gz: the gzip stream is "
                                             r"damaged or cut short"):
        D.mnist(data_dir=tmp_path)


def test_idx_count_mismatch_and_bad_labels(tmp_path):
    _fake_mnist(tmp_path, n_images=3, n_labels=2)
    with pytest.raises(IDXFormatError, match="holds 3 images but train-labels-idx1-ubyte.gz "
                                             "holds 2 labels"):
        D.mnist(data_dir=tmp_path)
    _fake_mnist(tmp_path, labels=[1, 2, 12])
    with pytest.raises(IDXFormatError, match="label 12, expected labels 0..9"):
        D.mnist(data_dir=tmp_path)


# ------------------------------------------------------------ missing files
def test_missing_directory_message(tmp_path, monkeypatch):
    monkeypatch.delenv("SHENDU_DATA", raising=False)
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError) as info:
        D.mnist("test", data_dir=missing)
    msg = str(info.value)
    assert f"the data folder {missing} does not exist" in msg
    assert f"Put these files in {missing / 'mnist'}{os.sep}" in msg
    assert "t10k-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert "SHENDU_DATA" in msg and "data_dir argument" in msg


def test_missing_files_env_var_and_default_home(tmp_path, monkeypatch):
    (tmp_path / "fashion-mnist").mkdir()
    _write(tmp_path / "fashion-mnist" / "train-images-idx3-ubyte.gz", _idx_bytes(2051, (0, 1, 1), []))
    monkeypatch.setenv("SHENDU_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        D.fashion_mnist()
    msg = str(info.value)
    assert f"{tmp_path / 'fashion-mnist'} lacks train-labels-idx1-ubyte.gz" in msg
    assert "SHENDU_DATA environment variable" in msg
    assert "train-images-idx3-ubyte.gz\n" not in msg  # only the missing file is listed
    monkeypatch.delenv("SHENDU_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "home" / ".shendu" / "datasets" /
                                                    "wine-quality")):
        D.wine_quality()
    assert D.data_home() == tmp_path / "home" / ".shendu" / "datasets"


def test_missing_text_datasets(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"(?s)names/.*Arabic.txt.*Vietnamese.txt"):
        D.names(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r"tinyshakespeare.*input.txt"):
        D.tiny_shakespeare(data_dir=tmp_path)


# ------------------------------------------------------ wine, names, shakespeare
def test_wine_quality_real_files():
    root = data_root("wine-quality")
    red = D.wine_quality("red", data_dir=root)
    assert red.data.shape == (1599, 11) and red.data.dtype == np.float32
    assert red.target.shape == (1599,) and red.target.dtype == np.int64
    assert red.feature_names[0] == "fixed acidity" and red.feature_names[-1] == "alcohol"
    assert len(red.feature_names) == 11
    np.testing.assert_allclose(red.data[0], [7.4, 0.7, 0, 1.9, 0.076, 11, 34, 0.9978, 3.51,
                                             0.56, 9.4], rtol=1e-6)
    assert red.target[0] == 5 and red.target.min() == 3 and red.target.max() == 8
    assert "Cortez" in red.DESCR
    X, y = D.wine_quality("white", data_dir=root, return_X_y=True)
    assert X.shape == (4898, 11) and y.shape == (4898,) and y.max() == 9
    with pytest.raises(ValueError, match="color must be 'red' or 'white'"):
        D.wine_quality("rose", data_dir=root)


def test_wine_quality_bad_csv(tmp_path):
    _write(tmp_path / "wine-quality" / "winequality-red.csv", b"a,b,c\n1,2,3\n", gz=False)
    with pytest.raises(ValueError, match="does not look like a Wine Quality file"):
        D.wine_quality(data_dir=tmp_path)


def test_names_real_files():
    root = data_root("names")
    names = D.names(data_dir=root)
    assert list(names) == sorted(D.NAMES_LANGUAGES)
    assert sum(len(v) for v in names.values()) == 20074
    assert len(names["Russian"]) == 9408 and len(names["English"]) == 3668
    assert len(names["Arabic"]) == 2000
    folded = D.names(data_dir=root, ascii=True)
    assert all(n.isascii() for v in folded.values() for n in v)
    assert any(not n.isascii() for v in names.values() for n in v)


def test_names_ascii_folding(tmp_path):
    _write(tmp_path / "names" / "Polish.txt", "Ślusarski\nŻuk\n".encode(), gz=False)
    assert D.names(data_dir=tmp_path) == {"Polish": ["Ślusarski", "Żuk"]}
    assert D.names(data_dir=tmp_path, ascii=True) == {"Polish": ["Slusarski", "Zuk"]}


def test_tiny_shakespeare_real_file():
    text = D.tiny_shakespeare(data_dir=data_root("tinyshakespeare"))
    assert len(text) == 1115394 and len(set(text)) == 65
    assert text.startswith("First Citizen:")
