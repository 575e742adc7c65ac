"""shendu.nn.utils.rnn: padding and packing of variable-length sequences (values, round
trips as Hypothesis properties, gradients, errors). Comparison of the packed layout with
PyTorch's is in tests/conformance/test_recurrent_torch.py."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
from shendu.autograd import gradcheck, gradgradcheck
from shendu.nn.utils.rnn import (PackedSequence, invert_permutation, pack_padded_sequence,
                                 pack_sequence, pad_packed_sequence, pad_sequence,
                                 unpack_sequence, unpad_sequence)


def seqs_of(lengths, features=(), seed=0, dtype=np.float32, grad=False):
    rng = np.random.default_rng(seed)
    return [shendu.tensor(rng.standard_normal((n,) + features).astype(dtype),
                          requires_grad=grad) for n in lengths]


def test_is_shendu_nn_utils_rnn():
    import shendu.nn.utils.rnn as mod
    assert shendu.nn.utils.rnn is mod and shendu.nn.PackedSequence is PackedSequence


def test_pad_sequence_values_and_layouts():
    a, b = shendu.tensor([1.0, 2.0, 3.0]), shendu.tensor([4.0])
    np.testing.assert_array_equal(pad_sequence([a, b]).numpy(), [[1, 4], [2, 0], [3, 0]])
    np.testing.assert_array_equal(pad_sequence([a, b], batch_first=True, padding_value=-1).numpy(),
                                  [[1, 2, 3], [4, -1, -1]])
    np.testing.assert_array_equal(
        pad_sequence([a, b], batch_first=True, padding_side="left").numpy(),
        [[1, 2, 3], [0, 0, 4]])
    x = pad_sequence(seqs_of([2, 4, 1], (3, 2)), batch_first=True)
    assert x.shape == (3, 4, 3, 2) and x.dtype == shendu.float32


def test_pack_padded_sequence_layout():
    x = shendu.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0], [6.0, 0.0, 0.0]])  # (B, T)
    p = pack_padded_sequence(x, [3, 2, 1], batch_first=True)
    assert p.data.tolist() == [1, 4, 6, 2, 5, 3]
    assert p.batch_sizes.tolist() == [3, 2, 1] and p.batch_sizes.dtype == shendu.int64
    assert p.sorted_indices is None and p.unsorted_indices is None
    q = pack_padded_sequence(x[[2, 0, 1]], shendu.tensor([1, 3, 2]), batch_first=True,
                             enforce_sorted=False)
    assert q.data.tolist() == p.data.tolist()
    assert q.sorted_indices.tolist() == [1, 2, 0] and q.unsorted_indices.tolist() == [2, 0, 1]
    padded, lengths = pad_packed_sequence(q, batch_first=True)
    np.testing.assert_array_equal(padded.numpy(), x[[2, 0, 1]].numpy())
    assert lengths.tolist() == [1, 3, 2]


@settings(deadline=None, max_examples=40)
@given(lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
       batch_first=st.booleans(), enforce_sorted=st.booleans(), extra=st.integers(0, 2))
def test_pack_then_pad_restores_the_padded_batch(lengths, batch_first, enforce_sorted, extra):
    if enforce_sorted:
        lengths = sorted(lengths, reverse=True)
    seqs = seqs_of(lengths, (2,), seed=len(lengths))
    padded = pad_sequence(seqs, batch_first=batch_first, padding_value=7.0)
    packed = pack_padded_sequence(padded, lengths, batch_first, enforce_sorted)
    assert packed.data.shape == (sum(lengths), 2)
    assert packed.batch_sizes.tolist() == [sum(n > t for n in lengths)
                                           for t in range(max(lengths))]
    total = max(lengths) + extra
    again, got = pad_packed_sequence(packed, batch_first, padding_value=7.0, total_length=total)
    assert got.tolist() == lengths
    want = padded.numpy()
    pad = [(0, 0)] * want.ndim
    pad[1 if batch_first else 0] = (0, extra)
    np.testing.assert_array_equal(again.numpy(), np.pad(want, pad, constant_values=7.0))
    back = unpack_sequence(pack_sequence(seqs, enforce_sorted=False))
    for s, t in zip(seqs, back):
        np.testing.assert_array_equal(s.numpy(), t.numpy())
    for s, t in zip(seqs, unpad_sequence(padded, lengths, batch_first)):
        np.testing.assert_array_equal(s.numpy(), t.numpy())


def test_gradients_flow_through_padding_and_packing():
    seqs = seqs_of([3, 1, 2], (2,), dtype=np.float64, grad=True)

    def fn(a, b, c):
        packed = pack_padded_sequence(pad_sequence([a, b, c], batch_first=True), [3, 1, 2],
                                      batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(packed, padding_value=5.0)[0] * 2.0

    assert gradcheck(fn, seqs)
    assert gradgradcheck(lambda a, b, c: fn(a, b, c) ** 2, seqs)
    x = shendu.tensor(np.ones((4, 3)), requires_grad=True)
    pack_padded_sequence(x, [4, 2, 1]).data.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 0, 0]])


def test_packed_sequence_object():
    data = shendu.tensor([1.0, 2.0, 3.0])
    p = PackedSequence(data, shendu.tensor([2, 1]), shendu.tensor([1, 0]))
    assert p.unsorted_indices.tolist() == [1, 0]
    d, bs, si, ui = p  # a named tuple, like PyTorch's
    assert d is data and bs.tolist() == [2, 1]
    q = p.double()
    assert q.data.dtype == shendu.float64 and q.batch_sizes is p.batch_sizes
    assert not p.is_cuda and p.to(shendu.float32) is p
    assert invert_permutation(shendu.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert invert_permutation(None) is None


def test_errors():
    x = shendu.zeros(5, 3)
    with pytest.raises(ValueError, match="must be sorted in decreasing order when "
                       "`enforce_sorted` is True .*enforce_sorted=False"):
        pack_padded_sequence(x, [2, 5, 1])
    with pytest.raises(ValueError, match=r"expected len\(lengths\) to be equal to batch_size, "
                       r"but got 2 \(batch_size=3\)"):
        pack_padded_sequence(x, [5, 1])
    with pytest.raises(ValueError, match="every length must be greater than 0"):
        pack_padded_sequence(x, [5, 2, 0])
    with pytest.raises(ValueError, match="a length of 6 exceeds the 5 time steps"):
        pack_padded_sequence(x, [6, 2, 1])
    with pytest.raises(TypeError, match="expected integer lengths"):
        pack_padded_sequence(x, [5.0, 2.0, 1.0])
    p = pack_padded_sequence(x, [5, 2, 1])
    with pytest.raises(ValueError, match="total_length=3 and max sequence length being 5"):
        pad_packed_sequence(p, total_length=3)
    with pytest.raises(TypeError, match="expected a PackedSequence"):
        pad_packed_sequence(x)
    with pytest.raises(ValueError, match="empty list of sequences"):
        pad_sequence([])
    with pytest.raises(ValueError, match=r"sequence 1 has shape \(2, 4\) but sequence 0 has "
                       r"\(3, 2\)"):
        pad_sequence([shendu.zeros(3, 2), shendu.zeros(2, 4)])
    with pytest.raises(ValueError, match="padding_side must be 'left' or 'right'"):
        pad_sequence([shendu.zeros(3)], padding_side="middle")
