"""CIFAR-10: 60000 colour images of 32x32 pixels in 10 classes, read from the binary version.

Download the *CIFAR-10 binary version* (``cifar-10-binary.tar.gz``, from
https://www.cs.toronto.edu/~kriz/cifar.html) and extract it in the data folder (the
``data_dir`` argument, else ``$SHENDU_DATA``, else ``~/.shendu/datasets``); it unpacks
into ``cifar-10-batches-bin/``::

    cifar-10-batches-bin/data_batch_1.bin ... data_batch_5.bin   (train, 5 x 10000 images)
    cifar-10-batches-bin/test_batch.bin                          (test, 10000 images)

Each ``.bin`` file is a run of 3073-byte records: one label byte (0..9), then 3072
pixel bytes, the 1024 red values of the 32x32 image row by row, then the green, then
the blue. shendu reads these bytes with NumPy; it never unpickles the Python version of
the dataset (unpickling can run arbitrary code).

>>> from shendu.datasets import cifar10, CIFAR10_CLASSES       # doctest: +SKIP
>>> images, labels = cifar10("test")                           # doctest: +SKIP
>>> images.shape, images.dtype, labels.dtype                   # doctest: +SKIP
((10000, 32, 32, 3), dtype('uint8'), dtype('int64'))
>>> CIFAR10_CLASSES[labels[0]]                                 # doctest: +SKIP
'cat'
"""
from __future__ import annotations

import numpy as np

from .paths import find_dataset_files

__all__ = ["cifar10", "CIFAR10_CLASSES", "CIFARFormatError"]

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck"]

FOLDER = "cifar-10-batches-bin"
RECORD_BYTES = 1 + 3 * 32 * 32  # label byte + 3072 pixel bytes (R plane, G plane, B plane)
RECORDS_PER_BATCH = 10000
_FILES = {"train": [f"data_batch_{i}.bin" for i in range(1, 6)], "test": ["test_batch.bin"]}
_SOURCE = ("https://www.cs.toronto.edu/~kriz/cifar.html: download the 'CIFAR-10 binary "
           "version' (cifar-10-binary.tar.gz, not the python or matlab version) and extract "
           "it in the data folder, e.g. tar xzf cifar-10-binary.tar.gz -C <data folder>")


class CIFARFormatError(ValueError):
    """A CIFAR-10 batch file has the wrong size or holds labels outside 0..9."""


def _read_batch(path):
    """``(pixels uint8 (n, 3, 32, 32), labels uint8 (n,))`` of one validated batch file."""
    size = path.stat().st_size
    if size % RECORD_BYTES:
        raise CIFARFormatError(
            f"cifar10: {path} has {size} bytes, which is not a whole number of 3073-byte "
            f"records (1 label byte + 3072 pixel bytes); the file is truncated or is not from "
            f"the CIFAR-10 binary version (the python version's files cannot be read)")
    n = size // RECORD_BYTES
    if n != RECORDS_PER_BATCH:
        raise CIFARFormatError(
            f"cifar10: {path} holds {n} records ({size} bytes), expected {RECORDS_PER_BATCH} "
            f"({RECORDS_PER_BATCH * RECORD_BYTES} bytes); the file is damaged or incomplete")
    records = np.fromfile(path, dtype=np.uint8).reshape(n, RECORD_BYTES)
    labels = records[:, 0]
    if n and int(labels.max()) > 9:
        bad = int(np.argmax(labels > 9))
        raise CIFARFormatError(
            f"cifar10: {path} record {bad} has label {int(labels[bad])}, expected 0..9 (is it "
            f"the CIFAR-100 binary version? that one has 2 label bytes per record)")
    return records[:, 1:].reshape(n, 3, 32, 32), labels


def cifar10(split="train", data_dir=None, channels_first=False, normalize=False):
    """CIFAR-10 (Krizhevsky, 2009): 32x32 colour images of 10 classes, ``CIFAR10_CLASSES``.

    Parameters
    ----------
    split : "train" (50000 images, data_batch_1..5.bin) or "test" (10000, test_batch.bin)
    data_dir : folder holding ``cifar-10-batches-bin/`` (or that folder itself);
        default ``$SHENDU_DATA`` or ``~/.shendu/datasets``
    channels_first : bool, default False
        False: images of shape (N, 32, 32, 3) (height, width, RGB; what matplotlib and
        Keras expect). True: (N, 3, 32, 32), the layout of ``nn.Conv2d``.
    normalize : bool, default False
        False: uint8 pixels 0..255; True: float32 pixels in [0, 1] (divided by 255).

    Returns
    -------
    images : (N, 32, 32, 3) uint8, C-contiguous (see ``channels_first``/``normalize``)
    labels : (N,) int64 in 0..9; the names are ``CIFAR10_CLASSES[label]``

    Raises
    ------
    FileNotFoundError naming the missing files and the folder to put them in;
    CIFARFormatError (a ValueError) for a file that is not a 10000-record batch of the
    binary version.
    """
    if split not in _FILES:
        raise ValueError(f"cifar10: split must be 'train' or 'test', got {split!r}")
    all_files = ", ".join(n for names in _FILES.values() for n in names)
    paths = find_dataset_files("cifar10", FOLDER, _FILES[split], data_dir,
                               source=f"{_SOURCE} (the full set is {all_files})")
    batches = [_read_batch(p) for p in paths]  # a loop over (at most 5) files
    labels = np.concatenate([b[1] for b in batches]).astype(np.int64)
    pixels = np.concatenate([b[0] for b in batches]) if len(batches) > 1 else batches[0][0]
    # (N, 3, 32, 32) planes -> (N, 32, 32, 3) pixels: one transposing copy
    images = np.ascontiguousarray(pixels if channels_first else pixels.transpose(0, 2, 3, 1))
    if normalize:
        images = images.astype(np.float32) / np.float32(255.0)
    return images, labels
