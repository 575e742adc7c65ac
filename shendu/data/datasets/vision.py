"""MNIST and Fashion-MNIST: 28x28 grey images in 10 classes, read from IDX files.

The four gzipped files of each dataset go in ``<data dir>/mnist/`` and
``<data dir>/fashion-mnist/`` (the data dir is ``data_dir``, else ``$SHENDU_DATA``,
else ``~/.shendu/datasets``)::

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz

Un-gzipped copies with the same names minus ``.gz`` are accepted too.

>>> from shendu.datasets import mnist                     # doctest: +SKIP
>>> images, labels = mnist("test")                        # doctest: +SKIP
>>> images.shape, images.dtype, labels.shape              # doctest: +SKIP
((10000, 28, 28), dtype('uint8'), (10000,))
"""
from __future__ import annotations

import numpy as np

from .idx import IMAGES_MAGIC, LABELS_MAGIC, IDXFormatError, read_idx
from .paths import find_dataset_files

__all__ = ["mnist", "fashion_mnist", "MNIST_CLASSES", "FASHION_MNIST_CLASSES"]

MNIST_CLASSES = [str(d) for d in range(10)]
FASHION_MNIST_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot"]

_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}


def load_idx_pair(dataset, folder, split, data_dir, source, num_classes=10):
    """``(images uint8 (N, rows, cols), labels int64 (N,))`` of one split, validated."""
    if split not in _FILES:
        raise ValueError(f"{dataset}: split must be 'train' or 'test', got {split!r}")
    names = list(_FILES[split])
    all_files = ", ".join(n for pair in _FILES.values() for n in pair)
    image_path, label_path = find_dataset_files(
        dataset, folder, names, data_dir,
        alternatives={n: (n[:-3],) for n in names},
        source=f"{source} (the full set is {all_files})")
    images = read_idx(image_path, expected_magic=IMAGES_MAGIC)
    labels = read_idx(label_path, expected_magic=LABELS_MAGIC)
    if len(images) != len(labels):
        raise IDXFormatError(f"{dataset}: {image_path.name} holds {len(images)} images but "
                             f"{label_path.name} holds {len(labels)} labels; the files belong "
                             f"to different sets (in {image_path.parent})")
    if labels.size and int(labels.max()) >= num_classes:
        raise IDXFormatError(f"{dataset}: {label_path} has label {int(labels.max())}, expected "
                             f"labels 0..{num_classes - 1}")
    return images, labels.astype(np.int64)


def _finish(images, labels, normalize, flatten):
    if normalize:
        images = images.astype(np.float32) / np.float32(255.0)
    if flatten:
        images = images.reshape(len(images), -1)
    return images, labels


def mnist(split="train", data_dir=None, normalize=False, flatten=False):
    """The MNIST handwritten digits (LeCun, Cortes, Burges; CC BY-SA 3.0).

    Parameters
    ----------
    split : "train" (60000 images) or "test" (10000 images)
    data_dir : folder holding ``mnist/``; default ``$SHENDU_DATA`` or ``~/.shendu/datasets``
    normalize : bool, default False
        False: uint8 pixels 0..255; True: float32 pixels in [0, 1] (divided by 255).
    flatten : bool, default False
        True: images of shape (N, 784) instead of (N, 28, 28).

    Returns
    -------
    images : (N, 28, 28) uint8 (see ``normalize``/``flatten``);  labels : (N,) int64 in 0..9

    Raises
    ------
    FileNotFoundError naming the missing files and the folder to put them in;
    IDXFormatError (a ValueError) for damaged or mismatched files.
    """
    images, labels = load_idx_pair("mnist", "mnist", split, data_dir,
                                   "http://yann.lecun.com/exdb/mnist/")
    return _finish(images, labels, normalize, flatten)


def fashion_mnist(split="train", data_dir=None, normalize=False, flatten=False):
    """Fashion-MNIST: Zalando's article images in 10 classes (MIT license).

    Same files, shapes and options as ``mnist`` (folder ``fashion-mnist/``); the class
    names are ``FASHION_MNIST_CLASSES`` (0 T-shirt/top ... 9 Ankle boot).

    Returns
    -------
    images : (N, 28, 28) uint8 (see ``normalize``/``flatten``);  labels : (N,) int64 in 0..9
    """
    images, labels = load_idx_pair("fashion_mnist", "fashion-mnist", split, data_dir,
                                   "https://github.com/zalandoresearch/fashion-mnist "
                                   "(data/fashion/)")
    return _finish(images, labels, normalize, flatten)
