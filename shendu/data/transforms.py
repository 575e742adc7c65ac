"""Feature preprocessing: scalers fitted on the training split, one-hot labels,
train/test splitting.

Fit a scaler on the training data only, then apply the same statistics to the
validation and test data (fitting on all data leaks test information):

>>> import numpy as np
>>> from shendu.data.transforms import Standardize, train_test_split, one_hot
>>> X = np.arange(20, dtype=np.float32).reshape(10, 2); y = np.arange(10) % 2
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
>>> scaler = Standardize().fit(X_train)
>>> X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
>>> one_hot([0, 2, 1])
array([[1., 0., 0.],
       [0., 0., 1.],
       [0., 1., 0.]], dtype=float32)

Every function here takes NumPy arrays or shendu Tensors: arrays give arrays back,
Tensors give Tensors back (on the same device; the scalers' transforms are built from
Tensor ops, so gradients flow through them).
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .dataset import as_generator

__all__ = ["Standardize", "MinMaxNormalize", "Compose", "one_hot", "train_test_split"]


def _float_dtype(dtype):
    """Floating inputs keep their dtype; others become the default float dtype."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else backend.get_default_dtype()


def _host(x, who):
    """A NumPy float64 copy of ``x`` (array, Tensor or list) for computing statistics."""
    data = x._data if isinstance(x, Tensor) else x
    if backend.get_array_module(data) is not np:
        data = backend.move(data, backend.Device("cpu"))
    arr = np.asarray(data)
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{who}: expected numbers, got an array of dtype {arr.dtype}")
    return arr.astype(np.float64)


def _normalize_axis(axis, ndim, who):
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, numbers.Integral) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"{who}: axis {a} is out of range for data with {ndim} dimensions")
        out.append(a % ndim)
    return tuple(sorted(set(out)))


class _FittedScaler:
    """Shared machinery: statistics kept with ``keepdims`` to broadcast against inputs."""

    _name = "scaler"

    def __init__(self, axis=0):
        self.axis = axis
        self._shape = None  # the fitted data's shape with the reduced axes set to 1

    def _check(self, x):
        if self._shape is None:
            raise RuntimeError(f"{self._name}: call fit(train_data) before transform or "
                               f"inverse_transform")
        shape = tuple(x.shape)
        ok = len(shape) == len(self._shape) and all(
            s == 1 or s == d for s, d in zip(self._shape, shape))
        if not ok:
            feat = tuple(s for s in self._shape if s != 1) or "()"
            raise ValueError(f"{self._name} was fitted on data of shape {self._fit_shape} "
                             f"(statistics over axis {self.axis}, feature shape {feat}); got "
                             f"input of shape {shape}")

    def _apply(self, x, scale, shift):
        """``x * scale + shift`` on an array or a Tensor, in x's float dtype."""
        if isinstance(x, Tensor):
            dtype = _float_dtype(x.dtype)
            xp = x.xp
            s, b = xp.asarray(scale.astype(dtype)), xp.asarray(shift.astype(dtype))
            if x.dtype != dtype:
                x = x.astype(dtype)
            return x * Tensor._make(s) + Tensor._make(b)
        arr = np.asarray(x)
        dtype = _float_dtype(arr.dtype)
        return (arr * scale + shift).astype(dtype, copy=False)

    def fit_transform(self, x):
        """``fit(x)`` then ``transform(x)``: use on the training split only."""
        return self.fit(x).transform(x)

    def __call__(self, x):
        return self.transform(x)


class Standardize(_FittedScaler):
    """Scale each feature to mean 0 and standard deviation 1 (scikit-learn's StandardScaler).

    ``x' = (x - mean) / std``, where mean and std (population std, ddof=0) are computed
    over ``axis`` of the training data by ``fit``. A feature with std 0 (constant in
    the training data) is only shifted: its std is taken as 1, so there is no division
    by zero.

    Parameters
    ----------
    axis : int, tuple of ints or None, default 0
        The axes the statistics are computed over. 0: one mean/std per feature (per pixel
        for images); ``None``: one mean/std for all values (e.g. MNIST's 0.1307/0.3081);
        ``(0, 2, 3)``: one per channel of ``(N, C, H, W)`` images.

    Attributes
    ----------
    mean_, std_ : float64 arrays of the feature shape (std_ is 1 where the data is constant)

    >>> import numpy as np
    >>> s = Standardize().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> s.mean_, s.std_
    (array([2., 5.]), array([1., 1.]))
    >>> s.transform(np.array([[5.0, 6.0]]))
    array([[3., 1.]])
    """

    _name = "Standardize"

    def fit(self, x):
        """Compute mean and std over ``axis`` of ``x`` (the training data). Returns self."""
        arr = _host(x, "Standardize.fit")
        if arr.ndim == 0 or arr.size == 0:
            raise ValueError(f"Standardize.fit needs a non-empty array of samples, got shape "
                             f"{arr.shape}")
        axes = _normalize_axis(self.axis, arr.ndim, "Standardize")
        mean = arr.mean(axis=axes, keepdims=True)
        std = arr.std(axis=axes, keepdims=True)
        std[std == 0] = 1.0  # constant feature: shift only, never divide by zero
        self._mean, self._std = mean, std
        self._shape, self._fit_shape = mean.shape, arr.shape
        self.mean_ = mean.squeeze(axis=axes) if axes else mean
        self.std_ = std.squeeze(axis=axes) if axes else std
        return self

    def transform(self, x):
        """``(x - mean_) / std_`` with the statistics of ``fit``."""
        self._check(x)
        return self._apply(x, 1.0 / self._std, -self._mean / self._std)

    def inverse_transform(self, x):
        """Undo ``transform``: ``x * std_ + mean_``."""
        self._check(x)
        return self._apply(x, self._std, self._mean)


class MinMaxNormalize(_FittedScaler):
    """Scale each feature linearly to ``feature_range`` (scikit-learn's MinMaxScaler).

    The course's rule ``x' = (x - min) / (max - min)`` for the default range (0, 1);
    for ``feature_range=(a, b)``: ``x' = a + (x - min) / (max - min) * (b - a)``.
    min and max come from the training data (``fit``), so test values may fall outside
    the range. A constant feature (max = min) maps to ``a``.

    Parameters
    ----------
    feature_range : (float, float), default (0, 1)
    axis : int, tuple or None, default 0 (one min/max per feature; None: global)

    Attributes
    ----------
    data_min_, data_max_, data_range_ : float64 arrays of the feature shape

    >>> import numpy as np
    >>> m = MinMaxNormalize().fit(np.array([[0.0, 10.0], [4.0, 10.0]]))
    >>> m.transform(np.array([[1.0, 10.0], [8.0, 12.0]]))
    array([[0.25, 0.  ],
           [2.  , 2.  ]])
    """

    _name = "MinMaxNormalize"

    def __init__(self, feature_range=(0.0, 1.0), axis=0):
        super().__init__(axis)
        try:
            lo, hi = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            raise ValueError(f"MinMaxNormalize: feature_range must be two numbers (min, max), "
                             f"got {feature_range!r}") from None
        if not lo < hi:
            raise ValueError(f"MinMaxNormalize: feature_range min must be below max, "
                             f"got {feature_range!r}")
        self.feature_range = (lo, hi)

    def fit(self, x):
        """Compute per-feature min and max of ``x`` (the training data). Returns self."""
        arr = _host(x, "MinMaxNormalize.fit")
        if arr.ndim == 0 or arr.size == 0:
            raise ValueError(f"MinMaxNormalize.fit needs a non-empty array of samples, got "
                             f"shape {arr.shape}")
        axes = _normalize_axis(self.axis, arr.ndim, "MinMaxNormalize")
        lo = arr.min(axis=axes, keepdims=True)
        hi = arr.max(axis=axes, keepdims=True)
        rng = hi - lo
        self._lo, self._range = lo, np.where(rng == 0, 1.0, rng)  # constant column guard
        self._shape, self._fit_shape = lo.shape, arr.shape
        squeeze = (lambda a: a.squeeze(axis=axes)) if axes else (lambda a: a)
        self.data_min_, self.data_max_, self.data_range_ = squeeze(lo), squeeze(hi), squeeze(rng)
        return self

    def transform(self, x):
        """``a + (x - min) / (max - min) * (b - a)`` with the statistics of ``fit``."""
        self._check(x)
        a, b = self.feature_range
        scale = (b - a) / self._range
        return self._apply(x, scale, a - self._lo * scale)

    def inverse_transform(self, x):
        """Undo ``transform``: ``min + (x - a) / (b - a) * (max - min)``."""
        self._check(x)
        a, b = self.feature_range
        scale = self._range / (b - a)
        return self._apply(x, scale, self._lo - a * scale)


class Compose:
    """Apply transforms one after the other: ``Compose([f, g])(x) == g(f(x))``.

    >>> Compose([lambda x: x + 1, lambda x: x * 2])(3)
    8
    """

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        return f"Compose({self.transforms!r})"


def one_hot(labels, num_classes=None, dtype=np.float32):
    """1-of-N encoding: class ``k`` becomes a vector with a 1 at position ``k``.

    Parameters
    ----------
    labels : integer array, list or Tensor of any shape ``S``, values in ``[0, num_classes)``
        (floats are accepted when every value is a whole number).
    num_classes : int, optional
        Length of each vector; default ``labels.max() + 1``.
    dtype : default float32

    Returns
    -------
    Array of shape ``S + (num_classes,)`` (a Tensor when ``labels`` is a Tensor).

    >>> one_hot(np.array([1, 0]), num_classes=3)
    array([[0., 1., 0.],
           [1., 0., 0.]], dtype=float32)
    """
    as_tensor = isinstance(labels, Tensor)
    data = labels._data if as_tensor else labels
    xp = backend.get_array_module(data)
    arr = xp.asarray(data)
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iuf":
        raise TypeError(f"one_hot expects integer class labels, got dtype {arr.dtype}")
    if arr.dtype.kind == "f":
        if arr.size and not bool(xp.all(xp.isfinite(arr) & (arr == xp.round(arr)))):
            raise ValueError("one_hot expects integer class labels, got non-integer floats "
                             "(e.g. probabilities or NaN); round or argmax them first")
        arr = arr.astype(np.int64)
    if num_classes is None:
        if arr.size == 0:
            raise ValueError("one_hot: can't infer num_classes from empty labels; pass num_classes")
        num_classes = int(arr.max()) + 1
    elif isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) \
            or num_classes < 1:
        raise ValueError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    if arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0:
            raise ValueError(f"one_hot: labels must be >= 0, got {lo}")
        if hi >= num_classes:
            raise ValueError(f"one_hot: label {hi} is out of range for num_classes={num_classes} "
                             f"(labels must lie in [0, {num_classes - 1}])")
    out = xp.eye(int(num_classes), dtype=dtype)[arr]
    return Tensor._make(out) if as_tensor else out


# --------------------------------------------------------------- splitting
def _split_sizes(n, test_size, train_size):
    """scikit-learn's rule: a float test share is rounded up, a float train share down."""
    if test_size is None and train_size is None:
        test_size = 0.25

    def count(size, name, rounding):
        if size is None:
            return None
        if isinstance(size, numbers.Integral) and not isinstance(size, bool):
            if not 0 <= size <= n:
                raise ValueError(f"train_test_split: {name}={size} must lie in [0, {n}] "
                                 f"(the number of samples)")
            return int(size)
        if isinstance(size, numbers.Real) and 0.0 < float(size) < 1.0:
            return int(rounding(float(size) * n))
        raise ValueError(f"train_test_split: {name} must be a fraction in (0, 1) or an int "
                         f"count, got {size!r}")

    n_test = count(test_size, "test_size", math.ceil)
    n_train = count(train_size, "train_size", math.floor)
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(f"train_test_split: train ({n_train}) + test ({n_test}) samples is "
                         f"more than the {n} samples given")
    if n_train == 0:
        raise ValueError(f"train_test_split: with n_samples={n} and test_size={test_size!r} "
                         f"the train set would be empty")
    return n_train, n_test


def _allocate(total, counts, rng):
    """Split ``total`` over classes in proportion to ``counts`` (largest remainders)."""
    share = total * counts / counts.sum()
    out = np.floor(share).astype(np.int64)
    remainder = share - out
    order = np.lexsort((rng.random(len(counts)), -remainder))  # random tie-break
    out[order[:total - out.sum()]] += 1
    return np.minimum(out, counts)


def _stratified(labels, n_train, n_test, rng):
    classes, y = np.unique(labels, return_inverse=True, axis=0 if labels.ndim > 1 else None)
    y = y.reshape(-1)
    counts = np.bincount(y)
    if counts.min() < 2:
        raise ValueError("train_test_split: the least populated class in stratify has only "
                         "1 member, which is too few to put one in each split")
    if n_test < len(classes) or n_train < len(classes):
        raise ValueError(f"train_test_split: test ({n_test}) and train ({n_train}) sizes must be "
                         f"at least the number of classes ({len(classes)}) to stratify")
    t = _allocate(n_test, counts, rng)
    r = _allocate(n_train, counts - t, rng) if n_train < (counts - t).sum() else counts - t
    train, test = [], []
    for k in range(len(classes)):  # a loop over classes, not samples
        members = rng.permutation(np.flatnonzero(y == k))
        test.append(members[:t[k]])
        train.append(members[t[k]:t[k] + r[k]])
    return rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test))


def _index(a, idx):
    if isinstance(a, Tensor):
        xp = a.xp
        return Tensor._make(a._data[idx if xp is np else xp.asarray(idx)])
    if hasattr(a, "iloc"):  # pandas
        return a.iloc[idx]
    if hasattr(a, "shape") and hasattr(a, "__getitem__"):
        return a[idx]
    return [a[i] for i in idx.tolist()]


def train_test_split(*arrays, test_size=None, train_size=None, random_state=None, shuffle=True,
                     stratify=None):
    """Split arrays (same first dimension) into random train and test parts.

    The same signature as scikit-learn's ``train_test_split``; scikit-learn is not needed.

    Parameters
    ----------
    *arrays : arrays, Tensors, lists (or pandas objects), all of length N
    test_size : float in (0, 1) or int, default 0.25 (when train_size is also None)
        A fraction is rounded up to a count.
    train_size : float in (0, 1) or int, optional (default: the rest)
    random_state : None, int or numpy.random.Generator
        ``None`` uses shendu's global generator (``shendu.manual_seed`` repeats the split).
    shuffle : bool, default True
        False: the first samples are train, the next are test (no randomness).
    stratify : array of N labels, optional
        Keep each class's share equal in both parts (needs shuffle=True).

    Returns
    -------
    list ``[a_train, a_test, b_train, b_test, ...]``

    >>> X, y = np.arange(20).reshape(10, 2), np.arange(10)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=1)
    >>> X_tr.shape, X_te.shape, sorted(y_tr.tolist() + y_te.tolist()) == list(range(10))
    ((7, 2), (3, 2), True)
    """
    if not arrays:
        raise ValueError("train_test_split needs at least one array")
    lengths = [a.shape[0] if hasattr(a, "shape") and len(a.shape) else len(a) for a in arrays]
    if len(set(lengths)) > 1:
        raise ValueError(f"train_test_split: all arrays must have the same number of samples "
                         f"(first dimension), got {lengths}")
    n = lengths[0]
    n_train, n_test = _split_sizes(n, test_size, train_size)
    if not shuffle:
        if stratify is not None:
            raise ValueError("train_test_split: stratify needs shuffle=True")
        train, test = np.arange(n_train), np.arange(n_train, n_train + n_test)
    else:
        rng = as_generator(random_state)
        if stratify is not None:
            labels = _host(stratify, "train_test_split(stratify=)") if isinstance(
                stratify, Tensor) else np.asarray(stratify)
            if len(labels) != n:
                raise ValueError(f"train_test_split: stratify has {len(labels)} labels for "
                                 f"{n} samples")
            train, test = _stratified(labels, n_train, n_test, rng)
        else:
            perm = rng.permutation(n)
            test, train = perm[:n_test], perm[n_test:n_test + n_train]
    out = []
    for a in arrays:
        out += [_index(a, train), _index(a, test)]
    return out
