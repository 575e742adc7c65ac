"""shendu.data: Dataset, TensorDataset, Subset, ConcatDataset, random_split, DataLoader,
default_collate."""
import collections

import numpy as np
import pytest

import shendu
import shendu.data
from shendu.data import (ConcatDataset, DataLoader, Dataset, RandomSampler, SequentialSampler,
                         Subset, SubsetRandomSampler, TensorDataset, default_collate,
                         random_split)


def _xy(n=10, d=3):
    X = np.arange(n * d, dtype=np.float32).reshape(n, d)
    y = np.arange(n, dtype=np.int64)
    return X, y


class ListDataset(Dataset):
    """A generic dataset: the loader must read it sample by sample."""

    def __init__(self, samples):
        self.samples = samples

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        return self.samples[i]


# ------------------------------------------------------------------ datasets
def test_tensor_dataset_items_and_len():
    X, y = _xy()
    ds = TensorDataset(X, y)
    assert len(ds) == 10
    x3, y3 = ds[3]
    assert isinstance(x3, shendu.Tensor) and isinstance(y3, shendu.Tensor)
    np.testing.assert_array_equal(x3.numpy(), X[3])
    assert int(y3) == 3 and y3.dtype == np.int64 and x3.dtype == np.float32
    assert ds.tensors[0]._data is X or np.shares_memory(ds.tensors[0]._data, X)  # no copy


def test_tensor_dataset_accepts_tensors_and_lists():
    ds = TensorDataset(shendu.tensor([[1.0, 2.0], [3.0, 4.0]]), [0, 1])
    assert len(ds) == 2 and int(ds[1][1]) == 1


def test_tensor_dataset_size_mismatch_message():
    with pytest.raises(ValueError, match=r"same size in dimension 0.*\[10, 9\]"):
        TensorDataset(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.zeros(3), np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


def test_base_dataset_requires_methods():
    with pytest.raises(NotImplementedError, match="__getitem__"):
        Dataset()[0]
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_subset_and_concat():
    X, y = _xy()
    ds = TensorDataset(X, y)
    sub = Subset(ds, [9, 0, -1])
    assert len(sub) == 3 and int(sub[0][1]) == 9 and int(sub[2][1]) == 9
    with pytest.raises(IndexError, match="out of range"):
        Subset(ds, [10])
    cat = ConcatDataset([ds, TensorDataset(X[:2] + 100, y[:2] + 100)])
    assert len(cat) == 12
    assert int(cat[10][1]) == 100 and int(cat[-1][1]) == 101 and int(cat[9][1]) == 9
    with pytest.raises(IndexError):
        cat[12]
    both = ds + ds
    assert isinstance(both, ConcatDataset) and len(both) == 20


# -------------------------------------------------------------- random_split
def test_random_split_int_lengths_disjoint_and_complete():
    ds = TensorDataset(np.arange(100))
    parts = random_split(ds, [70, 20, 10], generator=0)
    assert [len(p) for p in parts] == [70, 20, 10]
    all_idx = np.concatenate([p.indices for p in parts])
    assert sorted(all_idx.tolist()) == list(range(100))


def test_random_split_fractions_like_pytorch():
    ds = TensorDataset(np.arange(11))
    # floor(11*0.5)=5, floor(11*0.3)=3, floor(11*0.2)=2 -> remainder 1 goes to the first split
    assert [len(p) for p in random_split(ds, [0.5, 0.3, 0.2], generator=1)] == [6, 3, 2]
    assert [len(p) for p in random_split(TensorDataset(np.arange(10)), [0.8, 0.2])] == [8, 2]


def test_random_split_seeded_and_global_seed():
    ds = TensorDataset(np.arange(50))
    a = random_split(ds, [25, 25], generator=3)[0].indices
    b = random_split(ds, [25, 25], generator=3)[0].indices
    np.testing.assert_array_equal(a, b)
    shendu.manual_seed(7)
    c = random_split(ds, [25, 25])[0].indices
    shendu.manual_seed(7)
    d = random_split(ds, [25, 25])[0].indices
    np.testing.assert_array_equal(c, d)
    assert not np.array_equal(a, np.arange(25))  # actually shuffled


def test_random_split_errors():
    ds = TensorDataset(np.arange(10))
    with pytest.raises(ValueError, match="sum to 9"):
        random_split(ds, [5, 4])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(TypeError, match="generator"):
        random_split(ds, [5, 5], generator="seed")


# ---------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("n,bs,drop_last,sizes", [
    (10, 3, False, [3, 3, 3, 1]),
    (10, 3, True, [3, 3, 3]),
    (9, 3, False, [3, 3, 3]),
    (9, 3, True, [3, 3, 3]),
    (2, 5, False, [2]),
    (2, 5, True, []),
])
def test_loader_batch_sizes(n, bs, drop_last, sizes):
    X, y = _xy(n)
    for shuffle in (False, True):
        loader = DataLoader(TensorDataset(X, y), batch_size=bs, shuffle=shuffle,
                            drop_last=drop_last)
        batches = list(loader)
        assert len(loader) == len(sizes)
        assert [len(b[1]) for b in batches] == sizes
        for xb, yb in batches:
            assert isinstance(xb, shendu.Tensor) and xb.dtype == np.float32
            assert yb.dtype == np.int64 and xb.shape == (len(yb), 3)
            np.testing.assert_array_equal(xb.numpy(), X[yb.numpy()])  # rows stay paired


def test_loader_sequential_order_and_values():
    X, y = _xy(7)
    batches = list(DataLoader(TensorDataset(X, y), batch_size=3))
    assert [b[1].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]
    np.testing.assert_array_equal(batches[2][0].numpy(), X[6:7])


def test_loader_shuffle_covers_each_index_once_and_new_order_each_epoch():
    X, y = _xy(50)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
    epochs = [np.concatenate([yb.numpy() for _, yb in loader]) for _ in range(3)]
    for order in epochs:
        assert sorted(order.tolist()) == list(range(50))
    assert not np.array_equal(epochs[0], np.arange(50))
    assert not np.array_equal(epochs[0], epochs[1])
    assert not np.array_equal(epochs[1], epochs[2])


def test_loader_manual_seed_repeats_order():
    X, y = _xy(40)
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)

    def two_epochs():
        return [[yb.tolist() for _, yb in loader] for _ in range(2)]

    shendu.manual_seed(123)
    first = two_epochs()
    shendu.manual_seed(123)
    assert two_epochs() == first
    shendu.manual_seed(124)
    assert two_epochs() != first


def test_loader_int_generator_repeats_across_loaders_but_differs_between_epochs():
    X, y = _xy(30)
    a = DataLoader(TensorDataset(X, y), batch_size=30, shuffle=True, generator=5)
    b = DataLoader(TensorDataset(X, y), batch_size=30, shuffle=True, generator=5)
    a1, a2 = [next(iter(a))[1].tolist() for _ in range(2)]
    b1, b2 = [next(iter(b))[1].tolist() for _ in range(2)]
    assert (a1, a2) == (b1, b2) and a1 != a2
    g = np.random.default_rng(5)
    c = DataLoader(TensorDataset(X, y), batch_size=30, shuffle=True, generator=g)
    assert next(iter(c))[1].tolist() == a1


def test_tensor_dataset_is_batched_without_per_sample_getitem(monkeypatch):
    X, y = _xy(64)
    ds = TensorDataset(X, y)

    def forbidden(self, index):
        raise AssertionError("DataLoader fetched a TensorDataset sample by sample")

    monkeypatch.setattr(TensorDataset, "__getitem__", forbidden)
    for shuffle in (False, True):
        got = np.concatenate([yb.numpy() for _, yb in DataLoader(ds, 10, shuffle=shuffle)])
        assert sorted(got.tolist()) == list(range(64))
    sub = random_split(ds, [0.75, 0.25], generator=0)[0]
    monkeypatch.setattr(Subset, "__getitem__", forbidden)
    got = np.concatenate([yb.numpy() for _, yb in DataLoader(sub, 10, shuffle=True)])
    assert sorted(got.tolist()) == sorted(sub.indices.tolist())
    xb, yb = next(iter(DataLoader(Subset(sub, [2, 0]), batch_size=2)))
    np.testing.assert_array_equal(yb.numpy(), sub.indices[[2, 0]])
    np.testing.assert_array_equal(xb.numpy(), X[sub.indices[[2, 0]]])


def test_loader_batches_are_copies():
    X, y = _xy(6)
    xb, _ = next(iter(DataLoader(TensorDataset(X, y), batch_size=3)))
    xb._data[...] = -1
    assert X.min() == 0


def test_loader_over_array_and_tensor_yields_tensors():
    X, _ = _xy(5)
    batches = list(DataLoader(X, batch_size=2))
    assert [b.shape for b in batches] == [(2, 3), (2, 3), (1, 3)]
    assert isinstance(batches[0], shendu.Tensor)
    t = shendu.tensor(X)
    np.testing.assert_array_equal(next(iter(DataLoader(t, batch_size=5))).numpy(), X)


def test_loader_generic_dataset_collates_tuples():
    samples = [(np.full(2, i, np.float64), i, float(i) / 2) for i in range(5)]
    batches = list(DataLoader(ListDataset(samples), batch_size=2))
    assert len(batches) == 3
    x, label, value = batches[0]
    assert x.dtype == np.float64 and x.shape == (2, 2)  # numpy dtype kept
    assert label.dtype == np.int64 and label.tolist() == [0, 1]
    assert value.dtype == np.float32  # Python floats -> default dtype
    np.testing.assert_allclose(value.numpy(), [0.0, 0.5])
    assert batches[2][1].tolist() == [4]


def test_loader_generic_dataset_shuffle_and_seed():
    ds = ListDataset([(i,) for i in range(20)])
    loader = DataLoader(ds, batch_size=6, shuffle=True)
    shendu.manual_seed(1)
    first = np.concatenate([b[0].numpy() for b in loader])
    shendu.manual_seed(1)
    again = np.concatenate([b[0].numpy() for b in loader])
    assert sorted(first.tolist()) == list(range(20))
    np.testing.assert_array_equal(first, again)
    # the same seed gives the same order for in-memory and generic datasets
    shendu.manual_seed(1)
    fast = np.concatenate([b[0].numpy() for b in DataLoader(TensorDataset(np.arange(20)), 6,
                                                            shuffle=True)])
    np.testing.assert_array_equal(first, fast)


def test_loader_custom_collate_fn_gets_samples():
    X, y = _xy(4)
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return len(samples)

    assert list(DataLoader(TensorDataset(X, y), batch_size=3, collate_fn=collate)) == [3, 1]
    assert seen == [3, 1]


def test_loader_sampler_and_errors():
    X, y = _xy(10)
    ds = TensorDataset(X, y)
    order = [b[1].tolist() for b in DataLoader(ds, batch_size=2, sampler=[9, 8, 7])]
    assert order == [[9, 8], [7]]
    loader = DataLoader(ds, batch_size=4, sampler=SubsetRandomSampler([1, 3, 5], generator=0))
    assert len(loader) == 1 and sorted(next(iter(loader))[1].tolist()) == [1, 3, 5]
    assert list(SequentialSampler(range(3))) == [0, 1, 2]
    assert sorted(RandomSampler(range(5), generator=0)) == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(ds, batch_size=0)
    with pytest.raises(ValueError, match="either sampler"):
        DataLoader(ds, sampler=[0], shuffle=True)
    with pytest.raises(TypeError, match="len"):
        DataLoader(object())


# ---------------------------------------------------------- default_collate
def test_default_collate_dicts_nested_and_tensors():
    samples = [{"x": shendu.tensor([1.0, 2.0]), "meta": {"id": i, "name": f"s{i}"},
                "pair": (i, np.int32(i))} for i in range(3)]
    b = default_collate(samples)
    assert set(b) == {"x", "meta", "pair"}
    assert b["x"].shape == (3, 2) and b["x"].dtype == np.float32
    assert b["meta"]["id"].tolist() == [0, 1, 2] and b["meta"]["name"] == ["s0", "s1", "s2"]
    assert isinstance(b["pair"], list) and b["pair"][1].dtype == np.int32


def test_default_collate_namedtuple_bool_and_errors():
    Point = collections.namedtuple("Point", "x y")
    b = default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert isinstance(b, Point) and b.x.tolist() == [1, 3]
    assert default_collate([True, False]).dtype == np.bool_
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="different keys"):
        default_collate([{"a": 1}, {"b": 1}])
    with pytest.raises(ValueError, match="different lengths"):
        default_collate([(1, 2), (1,)])
    with pytest.raises(ValueError, match="non-empty"):
        default_collate([])
