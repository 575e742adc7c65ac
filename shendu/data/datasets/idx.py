"""The IDX file format of MNIST and Fashion-MNIST (optionally gzipped).

An IDX file is a big-endian header followed by the raw array::

    magic: 0x00 0x00 <dtype code> <ndim>     (2051 = images uint8 3-D, 2049 = labels uint8 1-D)
    ndim x int32 sizes
    prod(sizes) values, row-major

``read_idx`` checks everything it can (gzip stream, magic number, header size, byte
count) and names the file and the expected and actual sizes when something is wrong.

>>> import gzip, io, numpy as np, tempfile, os
>>> p = os.path.join(tempfile.mkdtemp(), "labels.gz")
>>> with gzip.open(p, "wb") as f: _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
>>> read_idx(p, expected_magic=2049)
array([7, 2, 1], dtype=uint8)
"""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

__all__ = ["read_idx", "IDXFormatError", "IMAGES_MAGIC", "LABELS_MAGIC"]

IMAGES_MAGIC = 2051  # 0x00000803: uint8, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 2049  # 0x00000801: uint8, 1 dimension (count)

_DTYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
           0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_KNOWN = {IMAGES_MAGIC: "an images file (idx3, uint8)", LABELS_MAGIC: "a labels file (idx1, uint8)"}


class IDXFormatError(ValueError):
    """A file is not a valid IDX file (wrong magic number, truncated, damaged gzip...)."""


def _describe(magic):
    return f"{magic} ({_KNOWN[magic]})" if magic in _KNOWN else str(magic)


def read_bytes(path) -> bytes:
    """The file's bytes, decompressed when it is gzipped (detected from its first bytes)."""
    path = Path(path)
    with open(path, "rb") as f:
        gzipped = f.read(2) == b"\x1f\x8b"
    if not gzipped:
        return path.read_bytes()
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise IDXFormatError(f"{path}: the gzip stream is damaged or cut short ({e}); "
                             f"replace the file with a complete copy") from None


def read_idx(path, expected_magic=None) -> np.ndarray:
    """Read an IDX file (plain or gzipped) into a NumPy array in native byte order.

    Parameters
    ----------
    path : str or Path
    expected_magic : int, optional
        2051 for MNIST images, 2049 for labels; any other magic number is an error.

    Raises
    ------
    IDXFormatError
        Wrong magic number, unknown type code, or a byte count that does not match the
        header (a truncated or padded file); the message names the file and both sizes.
    """
    path = Path(path)
    raw = read_bytes(path)
    if len(raw) < 4:
        raise IDXFormatError(f"{path}: {len(raw)} bytes is too short for an IDX file (the "
                             f"magic number alone takes 4 bytes)")
    magic = int.from_bytes(raw[:4], "big")
    if expected_magic is not None and magic != expected_magic:
        raise IDXFormatError(f"{path}: magic number {_describe(magic)}, expected "
                             f"{_describe(expected_magic)}; is it the right file?")
    code, ndim = raw[2], raw[3]
    if raw[0] or raw[1] or code not in _DTYPES or ndim == 0:
        raise IDXFormatError(f"{path}: magic number {magic} (bytes {list(raw[:4])}) is not an "
                             f"IDX header (expected 0, 0, a type code in "
                             f"{sorted(_DTYPES)}, a dimension count >= 1)")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise IDXFormatError(f"{path}: truncated header: {ndim} dimensions need a {header}-byte "
                             f"header, the file has {len(raw)} bytes")
    dims = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = _DTYPES[code]
    count = int(np.prod(dims, dtype=np.int64))
    expected = header + count * dtype.itemsize
    if len(raw) != expected:
        problem = "truncated" if len(raw) < expected else "longer than its header says"
        raise IDXFormatError(
            f"{path}: file is {problem}: the header gives shape {dims} of {dtype.itemsize}-byte "
            f"values, so {expected} bytes are expected ({header}-byte header + "
            f"{count * dtype.itemsize} data bytes), but it has {len(raw)} bytes"
            + (" after decompression" if path.suffix == ".gz" else ""))
    view = np.frombuffer(raw, dtype, count=count, offset=header).reshape(dims)
    return np.array(view, dtype=dtype.newbyteorder("="))  # a writable, native-order copy
