"""shendu.data.transforms: Standardize, MinMaxNormalize, one_hot, train_test_split."""
import numpy as np
import pytest

import shendu
import shendu.data
from shendu.data.transforms import (Compose, MinMaxNormalize, Standardize, one_hot,
                                    train_test_split)


def _train_test():
    rng = np.random.default_rng(0)
    train = rng.normal([1.0, -2.0, 5.0], [2.0, 0.5, 3.0], size=(200, 3)).astype(np.float32)
    test = rng.normal(0.0, 10.0, size=(50, 3)).astype(np.float32)
    return train, test


# ---------------------------------------------------------------- Standardize
def test_standardize_fits_on_train_only():
    train, test = _train_test()
    s = Standardize().fit(train)
    np.testing.assert_allclose(s.mean_, train.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(s.std_, train.astype(np.float64).std(0), rtol=1e-12)
    out = s.transform(test)
    assert out.dtype == np.float32 and out.shape == test.shape
    np.testing.assert_allclose(out, (test - train.mean(0)) / train.std(0), rtol=1e-4, atol=1e-5)
    tr = s.transform(train)
    np.testing.assert_allclose(tr.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(tr.std(0), 1.0, atol=1e-5)
    # the test split's own statistics are NOT used: it is not standardized to 0/1
    assert np.abs(out.std(0) - 1.0).max() > 0.5
    np.testing.assert_allclose(s.inverse_transform(out), test, rtol=1e-4, atol=1e-4)


def test_standardize_fit_transform_and_constant_column():
    x = np.array([[1.0, 7.0], [3.0, 7.0], [5.0, 7.0]])
    s = Standardize()
    out = s.fit_transform(x)
    assert out.dtype == np.float64
    np.testing.assert_allclose(s.std_, [np.sqrt(8 / 3), 1.0])  # std 0 replaced by 1
    np.testing.assert_allclose(out[:, 1], 0.0)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(s.transform(np.array([[1.0, 8.0]]))[0, 1], 1.0)


def test_standardize_axis_none_and_channels():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    s = Standardize(axis=None).fit(x)
    assert s.mean_.shape == () and np.isclose(s.mean_, 11.5)
    c = Standardize(axis=(0, 2)).fit(x)
    assert c.mean_.shape == (3,)
    np.testing.assert_allclose(c.mean_, x.mean(axis=(0, 2)))
    np.testing.assert_allclose(c.transform(x).mean(axis=(0, 2)), 0.0, atol=1e-6)


def test_standardize_int_input_and_tensor_input():
    x = np.array([[0, 10], [2, 30]], dtype=np.uint8)
    s = Standardize().fit(x)
    out = s.transform(x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[-1, -1], [1, 1]])
    t = shendu.tensor([[0.0, 10.0], [2.0, 30.0]], requires_grad=True)
    y = s.transform(t)
    assert isinstance(y, shendu.Tensor) and y.dtype == np.float32
    np.testing.assert_allclose(y.detach().numpy(), [[-1, -1], [1, 1]], atol=1e-6)
    y.sum().backward()  # transforms of Tensors are differentiable
    np.testing.assert_allclose(t.grad.numpy(), np.broadcast_to([1.0, 0.1], (2, 2)), rtol=1e-6)


def test_standardize_errors():
    with pytest.raises(RuntimeError, match="call fit"):
        Standardize().transform(np.zeros((2, 2)))
    s = Standardize().fit(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"fitted on data of shape \(4, 3\).*got input of shape "
                                         r"\(2, 5\)"):
        s.transform(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="non-empty"):
        Standardize().fit(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="numbers"):
        Standardize().fit(np.array([["a"]]))


# ------------------------------------------------------------ MinMaxNormalize
def test_minmax_course_formula_fitted_on_train():
    train, test = _train_test()
    m = MinMaxNormalize().fit(train)
    lo, hi = train.min(0), train.max(0)
    np.testing.assert_allclose(m.data_min_, lo)
    np.testing.assert_allclose(m.data_max_, hi)
    out_train = m.transform(train)
    np.testing.assert_allclose(out_train.min(0), 0.0, atol=1e-6)
    np.testing.assert_allclose(out_train.max(0), 1.0, atol=1e-6)
    out = m.transform(test)
    np.testing.assert_allclose(out, (test - lo) / (hi - lo), rtol=1e-4, atol=1e-5)
    assert out.min() < 0 or out.max() > 1  # the test split may leave [0, 1]
    np.testing.assert_allclose(m.inverse_transform(out), test, rtol=1e-4, atol=1e-4)


def test_minmax_feature_range_and_constant_column():
    x = np.array([[0.0, 3.0], [10.0, 3.0], [5.0, 3.0]])
    m = MinMaxNormalize(feature_range=(-1, 1)).fit(x)
    np.testing.assert_allclose(m.transform(x), [[-1, -1], [1, -1], [0, -1]])
    np.testing.assert_allclose(m.inverse_transform(m.transform(x)), x)
    with pytest.raises(ValueError, match="below max"):
        MinMaxNormalize(feature_range=(1, 0))
    with pytest.raises(ValueError, match="two numbers"):
        MinMaxNormalize(feature_range=5)
    with pytest.raises(RuntimeError, match="call fit"):
        MinMaxNormalize().inverse_transform(x)


def test_compose_applies_in_order():
    x = np.array([[0.0], [2.0], [4.0]])
    f = Compose([MinMaxNormalize().fit(x), lambda a: a * 10])
    np.testing.assert_allclose(f(x), [[0.0], [5.0], [10.0]])


# -------------------------------------------------------------------- one_hot
def test_one_hot_values_and_shapes():
    out = one_hot(np.array([2, 0, 1]))
    assert out.dtype == np.float32 and out.shape == (3, 3)
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1]])
    assert one_hot([1], num_classes=4).tolist() == [[0, 1, 0, 0]]
    assert one_hot(np.array([[0, 1], [1, 0]]), 2).shape == (2, 2, 2)
    assert one_hot(np.array([1.0, 0.0])).tolist() == [[0, 1], [1, 0]]  # whole floats are fine
    t = one_hot(shendu.tensor([0, 2]), 3)
    assert isinstance(t, shendu.Tensor) and t.tolist() == [[1, 0, 0], [0, 0, 1]]
    assert one_hot(np.array([], dtype=np.int64), 3).shape == (0, 3)


def test_one_hot_errors():
    with pytest.raises(ValueError, match=r"label 3 is out of range for num_classes=3"):
        one_hot([0, 3], num_classes=3)
    with pytest.raises(ValueError, match=">= 0, got -1"):
        one_hot([-1, 0])
    with pytest.raises(ValueError, match="non-integer"):
        one_hot([0.5, 1.0])
    with pytest.raises(ValueError, match="non-integer"):
        one_hot([np.nan])
    with pytest.raises(TypeError, match="integer class labels"):
        one_hot(np.array([True, False]))
    with pytest.raises(TypeError, match="integer class labels"):
        one_hot(np.array(["a"]))
    with pytest.raises(ValueError, match="positive int"):
        one_hot([0], num_classes=0)
    with pytest.raises(ValueError, match="empty labels"):
        one_hot(np.array([], dtype=np.int64))


# ----------------------------------------------------------- train_test_split
def test_train_test_split_sizes_and_pairing():
    X = np.arange(200).reshape(100, 2)
    y = np.arange(100)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=0)
    assert X_tr.shape == (75, 2) and X_te.shape == (25, 2)
    np.testing.assert_array_equal(X_tr[:, 0] // 2, y_tr)  # rows stay paired
    np.testing.assert_array_equal(X_te[:, 0] // 2, y_te)
    assert sorted(np.concatenate([y_tr, y_te]).tolist()) == list(range(100))
    assert len(train_test_split(y, test_size=0.33)[1]) == 33  # ceil(33.0)
    assert len(train_test_split(y, test_size=0.333)[1]) == 34  # ceil(33.3), like sklearn
    assert len(train_test_split(y, test_size=10)[1]) == 10
    tr, te = train_test_split(y, train_size=0.5, test_size=0.2)
    assert (len(tr), len(te)) == (50, 20)


def test_train_test_split_seeding_and_no_shuffle():
    y = np.arange(30)
    a = train_test_split(y, random_state=4)
    b = train_test_split(y, random_state=4)
    np.testing.assert_array_equal(a[0], b[0])
    shendu.manual_seed(9)
    c = train_test_split(y)
    shendu.manual_seed(9)
    np.testing.assert_array_equal(c[1], train_test_split(y)[1])
    tr, te = train_test_split(y, test_size=0.2, shuffle=False)
    np.testing.assert_array_equal(tr, np.arange(24))
    np.testing.assert_array_equal(te, np.arange(24, 30))


def test_train_test_split_tensors_and_lists():
    t = shendu.tensor(np.arange(10.0))
    names = [f"n{i}" for i in range(10)]
    t_tr, t_te, n_tr, n_te = train_test_split(t, names, test_size=0.3, random_state=0)
    assert isinstance(t_tr, shendu.Tensor) and t_te.shape == (3,)
    assert [f"n{int(v)}" for v in t_te.tolist()] == n_te and len(n_tr) == 7


def test_train_test_split_stratify_keeps_class_shares():
    y = np.array([0] * 60 + [1] * 30 + [2] * 10)
    X = np.arange(100)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.2, stratify=y, random_state=0)
    assert np.bincount(y_te).tolist() == [12, 6, 2]
    assert np.bincount(y_tr).tolist() == [48, 24, 8]
    np.testing.assert_array_equal(y[X_te], y_te)
    assert len(set(X_tr.tolist()) & set(X_te.tolist())) == 0


def test_train_test_split_errors():
    with pytest.raises(ValueError, match=r"same number of samples.*\[3, 2\]"):
        train_test_split(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match="fraction in"):
        train_test_split(np.zeros(10), test_size=1.5)
    with pytest.raises(ValueError, match="train set would be empty"):
        train_test_split(np.zeros(10), test_size=10)
    with pytest.raises(ValueError, match="more than the 10 samples"):
        train_test_split(np.zeros(10), test_size=6, train_size=6)
    with pytest.raises(ValueError, match="shuffle=True"):
        train_test_split(np.zeros(10), stratify=np.zeros(10), shuffle=False)
    with pytest.raises(ValueError, match="only 1 member"):
        train_test_split(np.zeros(5), stratify=[0, 0, 0, 0, 1])
    with pytest.raises(ValueError, match="at least one array"):
        train_test_split()
