"""Variable-length batches for recurrent layers (``shendu.nn.utils.rnn``).

A batch of sequences of different lengths is padded to one array, then *packed*: the
time steps are laid out one after the other, each holding only the sequences still
running at that step. Recurrent layers fed a ``PackedSequence`` never read padding: a
sequence's final state is its state at its own last step.

>>> import shendu
>>> from shendu.nn.utils.rnn import pad_sequence, pack_padded_sequence, pad_packed_sequence
>>> a, b = shendu.tensor([1.0, 2.0, 3.0]), shendu.tensor([4.0])
>>> padded = pad_sequence([a, b], batch_first=True)
>>> padded
tensor([[1., 2., 3.],
        [4., 0., 0.]])
>>> packed = pack_padded_sequence(padded, [3, 1], batch_first=True)
>>> packed.data, packed.batch_sizes
(tensor([1., 4., 2., 3.]), tensor([2, 1, 1]))
>>> pad_packed_sequence(packed, batch_first=True)[1]
tensor([3, 1])
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.tensor import Tensor
from ..ops import cat
from ..ops.recurrent import PutRows, TakeRows

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "pack_sequence", "unpad_sequence", "unpack_sequence", "invert_permutation"]


def _int_array(v, name):
    """A CPU int64 NumPy array from a list, an array or a Tensor."""
    if isinstance(v, Tensor):
        v = np.asarray(v)
    try:
        a = np.asarray(v)
    except Exception:  # noqa: BLE001 - report what we got
        a = None
    if a is None or a.dtype.kind not in "iu" and not (a.dtype.kind == "f" and a.size == 0):
        raise TypeError(f"{name}: expected integer lengths (a list or an int64 tensor), got "
                        f"{type(v).__name__}" + ("" if a is None else f" of dtype {a.dtype}"))
    return a.astype(np.int64).reshape(-1)


def _index_tensor(a, like):
    """An int64 Tensor on ``like``'s device."""
    return Tensor._make(like.xp.asarray(a, dtype=np.int64))


def invert_permutation(permutation):
    """The permutation that undoes ``permutation`` (None stays None).

    >>> invert_permutation(shendu.tensor([2, 0, 1]))
    tensor([1, 2, 0])
    """
    if permutation is None:
        return None
    p = np.asarray(permutation).astype(np.int64)
    out = np.empty_like(p)
    out[p] = np.arange(p.size)
    return _index_tensor(out, permutation if isinstance(permutation, Tensor) else
                         Tensor._make(p))


_Fields = namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices",
                                        "unsorted_indices"])


class PackedSequence(_Fields):
    """A batch of variable-length sequences laid out step by step (PyTorch's layout).

    Attributes
    ----------
    data : Tensor (sum of lengths, *), the time steps one after the other; step t holds
        ``batch_sizes[t]`` rows, the still-running sequences in order of decreasing length
    batch_sizes : int64 Tensor (max length,), on the CPU
    sorted_indices : int64 Tensor (B,) or None, the original index of each sorted
        sequence (None when the batch was given sorted)
    unsorted_indices : int64 Tensor (B,) or None, the inverse permutation

    Build one with ``pack_padded_sequence`` or ``pack_sequence``, undo it with
    ``pad_packed_sequence``; recurrent layers accept it in place of a padded tensor.
    """

    __slots__ = ()

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs):
        """Move or convert ``data`` (and the indices' device); batch_sizes stays on the CPU."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = (lambda t: None if t is None else t.to(data.device))
        return type(self)(data, self.batch_sizes, move(self.sorted_indices),
                          move(self.unsorted_indices))

    def float(self):
        return self.to(np.float32)

    def double(self):
        return self.to(np.float64)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    @property
    def is_cuda(self):
        return self.data.is_cuda


def _lengths_and_order(lengths, batch, enforce_sorted, name):
    lengths = _int_array(lengths, name)
    if lengths.size != batch:
        raise ValueError(f"{name}: expected len(lengths) to be equal to batch_size, but got "
                         f"{lengths.size} (batch_size={batch})")
    if lengths.size and lengths.min() <= 0:
        raise ValueError(f"{name}: every length must be greater than 0, got lengths "
                         f"{lengths.tolist()}")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise ValueError(f"{name}: `lengths` array must be sorted in decreasing order when "
                             f"`enforce_sorted` is True (got {lengths.tolist()}). Pass "
                             "enforce_sorted=False to pack an unsorted batch.")
        return lengths, None
    order = np.argsort(-lengths, kind="stable")
    return lengths[order], order


def _packed_rows(sorted_lengths, order, steps, batch, batch_first):
    """For each packed row (time-major, sorted sequences), its row in the padded array
    flattened to (steps * batch) or (batch * steps); and the batch sizes."""
    t, j = np.nonzero(np.arange(sorted_lengths[0])[:, None] < sorted_lengths[None, :])
    b = j if order is None else order[j]
    rows = b * steps + t if batch_first else t * batch + b
    batch_sizes = np.count_nonzero(np.arange(sorted_lengths[0])[:, None]
                                   < sorted_lengths[None, :], axis=1)
    return rows, batch_sizes


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch of sequences (differentiable).

    Parameters
    ----------
    input : Tensor (T, B, *) or (B, T, *) with ``batch_first``, padded after each length
    lengths : list, array or int64 Tensor (B,), each in 1..T
    batch_first : bool, default False
    enforce_sorted : bool, default True: lengths must be in decreasing order; pass False
        to pack any order (the sequences are sorted, and restored by ``pad_packed_sequence``
        and in the recurrent layers' ``h_n``)

    Returns
    -------
    PackedSequence

    >>> x = shendu.tensor([[1.0, 0.0], [2.0, 3.0]])       # (B=2, T=2), lengths 1 and 2
    >>> p = pack_padded_sequence(x, [1, 2], batch_first=True, enforce_sorted=False)
    >>> p.data, p.batch_sizes, p.sorted_indices
    (tensor([2., 1., 3.]), tensor([2, 1]), tensor([1, 0]))
    """
    name = "pack_padded_sequence"
    if not isinstance(input, Tensor) or input.ndim < 2:
        raise ValueError(f"{name}: expected a padded Tensor (T, B, *) or (B, T, *), got "
                         f"{getattr(input, 'shape', type(input).__name__)}")
    batch, steps = (input.shape[0], input.shape[1]) if batch_first else \
        (input.shape[1], input.shape[0])
    sorted_lengths, order = _lengths_and_order(lengths, batch, enforce_sorted, name)
    if batch == 0:
        raise ValueError(f"{name}: cannot pack an empty batch (input shape {input.shape})")
    if sorted_lengths[0] > steps:
        raise ValueError(f"{name}: a length of {sorted_lengths[0]} exceeds the "
                         f"{steps} time steps of the input (shape {input.shape}, "
                         f"batch_first={batch_first})")
    rows, batch_sizes = _packed_rows(sorted_lengths, order, steps, batch, batch_first)
    flat = input.reshape(steps * batch, *input.shape[2:])
    data = TakeRows.apply(flat, input.xp.asarray(rows))
    sorted_indices = None if order is None else _index_tensor(order, input)
    return PackedSequence(data, Tensor._make(batch_sizes.astype(np.int64)), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Undo ``pack_padded_sequence``: a padded Tensor and the lengths (differentiable).

    Parameters
    ----------
    sequence : PackedSequence
    batch_first : bool, return (B, T, *) instead of (T, B, *)
    padding_value : float, the value after each sequence's end
    total_length : int, optional, pad to this many steps (at least the longest length)

    Returns
    -------
    (Tensor (T, B, *) or (B, T, *), int64 Tensor (B,) of lengths), in the original batch
    order.

    >>> p = pack_sequence([shendu.tensor([1.0]), shendu.tensor([2.0, 3.0])],
    ...                   enforce_sorted=False)
    >>> pad_packed_sequence(p, padding_value=-1.0)
    (tensor([[ 1.,  2.],
            [-1.,  3.]]), tensor([1, 2]))
    """
    name = "pad_packed_sequence"
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{name}: expected a PackedSequence, got {type(sequence).__name__}")
    data = sequence.data
    batch_sizes = _int_array(sequence.batch_sizes, name)
    steps, batch = batch_sizes.size, int(batch_sizes[0])
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"{name}: expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length={total_length} "
                             f"and max sequence length being {steps}")
        steps = int(total_length)
    sorted_lengths = np.count_nonzero(batch_sizes[:, None] > np.arange(batch)[None, :], axis=0)
    order = None if sequence.sorted_indices is None else \
        np.asarray(sequence.sorted_indices).astype(np.int64)
    rows, _ = _packed_rows(sorted_lengths, order, steps, batch, batch_first)
    flat = PutRows.apply(data, data.xp.asarray(rows), steps * batch, padding_value)
    padded = flat.reshape(*((batch, steps) if batch_first else (steps, batch)),
                          *data.shape[1:])
    lengths = sorted_lengths
    if order is not None:
        lengths = np.empty_like(sorted_lengths)
        lengths[order] = sorted_lengths
    return padded, Tensor._make(lengths.astype(np.int64))


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack sequences of different lengths into one padded Tensor (differentiable).

    Parameters
    ----------
    sequences : list of Tensors (L_i, *), the same trailing dimensions
    batch_first : bool, return (B, T, *) instead of (T, B, *), T = max L_i
    padding_value : float, default 0
    padding_side : "right" (default) or "left"

    >>> pad_sequence([shendu.tensor([1.0, 2.0]), shendu.tensor([3.0])], padding_side="left")
    tensor([[1., 0.],
            [2., 3.]])
    """
    name = "pad_sequence"
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0)) if sequences.ndim else [sequences]
    sequences = list(sequences)
    if not sequences:
        raise ValueError(f"{name}: received an empty list of sequences")
    if padding_side not in ("right", "left"):
        raise ValueError(f"{name}: padding_side must be 'left' or 'right', got "
                         f"{padding_side!r}")
    for k, s in enumerate(sequences):
        if not isinstance(s, Tensor) or s.ndim == 0:
            raise TypeError(f"{name}: sequence {k} must be a Tensor with a time dimension, got "
                            f"{getattr(s, 'shape', type(s).__name__)}")
        if s.shape[1:] != sequences[0].shape[1:]:
            raise ValueError(f"{name}: sequence {k} has shape {s.shape} but sequence 0 has "
                             f"{sequences[0].shape}; all must match after the first dimension")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    batch, steps = lengths.size, int(lengths.max())
    which = np.repeat(np.arange(batch), lengths)
    t = np.arange(which.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if padding_side == "left":
        t = t + (steps - lengths)[which]
    rows = which * steps + t if batch_first else t * batch + which
    data = sequences[0] if batch == 1 else cat(sequences, dim=0)
    flat = PutRows.apply(data, data.xp.asarray(rows), steps * batch, padding_value)
    return flat.reshape(*((batch, steps) if batch_first else (steps, batch)),
                        *sequences[0].shape[1:])


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of sequences (L_i, *) of different lengths (differentiable).

    >>> p = pack_sequence([shendu.tensor([1.0, 2.0, 3.0]), shendu.tensor([4.0, 5.0])])
    >>> p.data, p.batch_sizes
    (tensor([1., 4., 2., 5., 3.]), tensor([2, 2, 1]))
    """
    lengths = [s.shape[0] if isinstance(s, Tensor) and s.ndim else 0 for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """Split a padded Tensor back into a list of sequences (L_i, *).

    >>> unpad_sequence(shendu.tensor([[1.0, 2.0], [3.0, 0.0]]), [2, 1], batch_first=True)
    [tensor([1., 2.]), tensor([3.])]
    """
    lengths = _int_array(lengths, "unpad_sequence")
    x = padded_sequences if batch_first else padded_sequences.swapaxes(0, 1)
    return [x[i, :int(n)] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """Split a PackedSequence into its list of sequences (in the original order).

    >>> unpack_sequence(pack_sequence([shendu.tensor([1.0]), shendu.tensor([2.0, 3.0])],
    ...                               enforce_sorted=False))
    [tensor([1.]), tensor([2., 3.])]
    """
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
