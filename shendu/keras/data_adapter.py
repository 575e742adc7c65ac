"""Turns what ``fit`` / ``evaluate`` / ``predict`` receive into batches.

Accepted: NumPy arrays, pandas DataFrames / Series (anything with ``.to_numpy()``),
shendu Tensors, lists, a list of arrays (several inputs), or an iterable of batches such as
a ``shendu.data.DataLoader`` (yielding ``(x, y)`` or ``(x, y, sample_weight)``).

Arrays are converted once (floats to float32, as Keras does) and each batch is cut with
one slice (no shuffle) or one ``take`` of the shuffled indices: no per-sample Python work.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.tensor import Tensor
from .py_dataset import PyDataset

__all__ = ["ArrayBatches", "IterableBatches", "make_batches", "as_array", "is_iterable_data"]


def as_array(x, float_dtype=None, name="x"):
    """A NumPy (or CuPy) array from arrays, Tensors, DataFrames, Series and lists."""
    if x is None:
        return None
    if isinstance(x, Tensor):
        a = x._data
    elif hasattr(x, "to_numpy") and callable(x.to_numpy) and not hasattr(x, "__array_interface__"):
        a = x.to_numpy()
    elif hasattr(x, "shape") and hasattr(x, "dtype"):
        a = x
    else:
        try:
            a = np.asarray(x)
        except ValueError as e:
            raise ValueError(f"{name}: could not turn the data into an array ({e}); pass a NumPy "
                             "array, a DataFrame, a Tensor or a list of equal-length rows") from None
    if a.dtype == object:
        raise TypeError(f"{name} holds Python objects (dtype object), e.g. strings or ragged "
                        "lists; convert it to numbers first (pandas: df.astype('float32'))")
    if a.dtype.kind == "b":
        a = a.astype(backend.get_default_dtype())
    if float_dtype is not None and a.dtype.kind == "f" and a.dtype != float_dtype:
        a = a.astype(float_dtype)
    return a


def is_iterable_data(x):
    """True for DataLoaders, generators and other iterables of batches (not arrays)."""
    if x is None or isinstance(x, (np.ndarray, Tensor, list, tuple, dict, str)):
        return False
    if hasattr(x, "to_numpy") or (hasattr(x, "shape") and hasattr(x, "dtype")):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__next__")


def _length(x):
    return len(x[0]) if isinstance(x, list) else len(x)


def _take(x, idx):
    if isinstance(x, list):
        return [_take(a, idx) for a in x]
    if isinstance(idx, slice):
        return x[idx]
    return x.take(idx, axis=0) if isinstance(x, np.ndarray) else x[idx]


class ArrayBatches:
    """Batches cut from in-memory arrays.

    Parameters
    ----------
    x : array or list of arrays (several inputs)
    y : array or None
    sample_weight : (N,) array or None
    batch_size : int
    """

    def __init__(self, x, y=None, sample_weight=None, batch_size=32):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.n = _length(x)
        for name, a in (("y", y), ("sample_weight", sample_weight)):
            if a is not None and _length(a) != self.n:
                raise ValueError(f"x and {name} have different numbers of samples: {self.n} and "
                                 f"{_length(a)}. Check that they come from the same rows")
        if isinstance(x, list):
            for i, a in enumerate(x):
                if len(a) != self.n:
                    raise ValueError(f"all inputs must have the same number of samples; input 0 "
                                     f"has {self.n}, input {i} has {len(a)}")
        self.batch_size = int(batch_size)
        if self.batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")

    def __len__(self):
        return math.ceil(self.n / self.batch_size) if self.n else 0

    @property
    def steps(self):
        return len(self)

    def batches(self, shuffle=False):
        """Yield ``(x, y, sample_weight)`` arrays, in a new random order when ``shuffle``."""
        bs, n = self.batch_size, self.n
        order = backend.default_generator(np).permutation(n) if shuffle else None
        for start in range(0, n, bs):
            idx = slice(start, start + bs) if order is None else order[start:start + bs]
            yield (_take(self.x, idx), None if self.y is None else _take(self.y, idx),
                   None if self.sample_weight is None else _take(self.sample_weight, idx))

    def split(self, fraction):
        """Keras's ``validation_split``: the *last* ``fraction`` of the samples (taken
        before any shuffling) become the validation set."""
        split_at = int(math.floor(self.n * (1.0 - fraction)))
        if split_at == 0 or split_at == self.n:
            raise ValueError(f"validation_split={fraction} leaves no samples for "
                             f"{'training' if split_at == 0 else 'validation'} out of {self.n}")
        head, tail = slice(0, split_at), slice(split_at, None)
        pick = lambda a, s: None if a is None else _take(a, s)  # noqa: E731
        return (ArrayBatches(pick(self.x, head), pick(self.y, head),
                             pick(self.sample_weight, head), self.batch_size),
                ArrayBatches(pick(self.x, tail), pick(self.y, tail),
                             pick(self.sample_weight, tail), self.batch_size))


class IterableBatches:
    """Batches from a DataLoader or any iterable of ``x``, ``(x, y)`` or ``(x, y, w)``."""

    def __init__(self, data, steps=None):
        self._data = data
        if steps is None:
            try:
                steps = len(data)
            except TypeError:
                steps = None
        self.steps = steps
        self._iterator = None

    def __len__(self):
        return self.steps or 0

    def batches(self, shuffle=False):
        # A generator can be iterated once: keep using it across epochs (steps_per_epoch).
        if hasattr(self._data, "__next__"):
            source = self._data
        else:
            source = iter(self._data)
        epoch_hooks = isinstance(self._data, PyDataset)
        if epoch_hooks:
            self._data.on_epoch_begin()
        count = 0
        for item in source:
            if isinstance(item, (tuple, list)) and len(item) in (1, 2, 3) and \
                    not _is_leaf_batch(item):
                x = item[0]
                y = item[1] if len(item) > 1 else None
                w = item[2] if len(item) > 2 else None
            else:
                x, y, w = item, None, None
            yield _unwrap(x), _unwrap(y), _unwrap(w)
            count += 1
            if self.steps is not None and count >= self.steps:
                break
        if epoch_hooks:
            self._data.on_epoch_end()


def _is_leaf_batch(item):
    # a list of numbers is one sample, not (x, y)
    return all(isinstance(v, (int, float, np.number)) for v in item)


def _unwrap(v):
    if v is None:
        return None
    if isinstance(v, (list, tuple)):
        return [_unwrap(i) for i in v]
    return as_array(v)


def make_batches(x, y=None, sample_weight=None, batch_size=None, float_dtype=None, y_dtype=None,
                 steps=None, who="fit"):
    """Batches for ``x`` / ``y`` whatever their kind (see the module docstring)."""
    _refuse_tensorflow(x, who)
    if is_iterable_data(x):
        if y is not None:
            raise ValueError(f"{who}: when x is a DataLoader or a generator, y must be None (the "
                             "batches already hold the labels)")
        return IterableBatches(x, steps)
    if isinstance(x, dict):
        raise NotImplementedError(f"{who}: dict inputs are not supported; pass an array or a "
                                  "list of arrays")
    if isinstance(x, tuple) and y is None and len(x) in (2, 3) and all(
            hasattr(v, "shape") or hasattr(v, "to_numpy") for v in x):
        raise ValueError(f"{who}: got a tuple as x; pass x and y as separate arguments")
    if isinstance(x, list) and x and all(hasattr(a, "shape") or hasattr(a, "to_numpy")
                                         for a in x):
        xs = [as_array(a, float_dtype, "x") for a in x]
    else:
        xs = as_array(x, float_dtype, "x")
        if xs.ndim == 0:
            raise ValueError(f"{who}: x must have a batch dimension, got a scalar")
    ya = as_array(y, None, "y")
    if ya is not None and y_dtype is not None:
        ya = _convert_labels(ya, y_dtype)
    w = as_array(sample_weight, np.float64, "sample_weight")
    if w is not None:
        w = w.reshape(len(w), -1)
        if w.shape[1] != 1:
            raise ValueError(f"{who}: sample_weight must have one weight per sample (shape "
                             f"(N,)), got shape {np.shape(sample_weight)}")
        w = w[:, 0]
    return ArrayBatches(xs, ya, w, 32 if batch_size is None else batch_size)


def _refuse_tensorflow(x, who):
    """One clear error for a ``tf.data.Dataset`` or a TensorFlow tensor."""
    mod = type(x).__module__.split(".")[0]
    if mod == "tensorflow":
        kind = "a tf.data.Dataset" if "data" in type(x).__module__ or \
            hasattr(x, "batch") and hasattr(x, "prefetch") else "a TensorFlow tensor"
        raise TypeError(f"{who}: got {kind} ({type(x).__name__}); shendu.keras does not use "
                        "TensorFlow. Pass NumPy arrays (x.numpy(), or np.stack over "
                        "dataset.as_numpy_iterator()), a shendu.data.DataLoader, or a "
                        "keras.utils.PyDataset")


def _convert_labels(y, kind):
    if kind == "int":
        if y.dtype.kind == "f":
            if not np.all(np.mod(y, 1) == 0):
                raise ValueError("sparse_categorical_crossentropy needs integer class labels, "
                                 "got fractional values in y")
            return y.astype(np.int64)
        return y.astype(np.int64) if y.dtype.kind in "iub" else y
    if y.dtype.kind in "iub" or (y.dtype.kind == "f" and y.dtype != backend.get_default_dtype()):
        return y.astype(backend.get_default_dtype())
    return y


def class_weights_to_sample_weights(y, class_weight):
    """Per-sample weights ``class_weight[label]`` (labels as integers or one-hot rows)."""
    y = np.asarray(backend.move(y, backend.Device("cpu")) if not isinstance(y, np.ndarray) else y)
    if y.ndim >= 2 and y.shape[-1] > 1:
        labels = y.argmax(axis=-1).reshape(len(y), -1)[:, 0]
    else:
        labels = y.reshape(len(y), -1)[:, 0]
        if labels.dtype.kind == "f":
            labels = np.round(labels)
    labels = labels.astype(np.int64)
    missing = sorted(set(np.unique(labels).tolist()) - set(int(k) for k in class_weight))
    if missing:
        raise ValueError(f"class_weight has no weight for class(es) {missing}; give a weight "
                         "for every class in y")
    top = int(max(max(int(k) for k in class_weight), labels.max(initial=0))) + 1
    table = np.ones(top)
    for k, v in class_weight.items():
        table[int(k)] = float(v)
    return table[labels]
