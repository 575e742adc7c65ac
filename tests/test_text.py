"""shendu.data.text: tokenizers, Vocab, one-hot, pad_batch, lengths_to_mask and the
seeded train/val/test split."""
import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import shendu
from shendu.data.text import (EOS, PAD, SOS, UNK, Vocab, char_tokenize, lengths_to_mask,
                              pad_batch, train_val_test_split, word_tokenize)


# ------------------------------------------------------------------ tokenizers
def test_char_tokenize():
    assert char_tokenize("Chang") == ["C", "h", "a", "n", "g"]
    assert char_tokenize("") == []
    with pytest.raises(TypeError, match="char_tokenize expects a str"):
        char_tokenize(["a"])


def test_word_tokenize_keeps_punctuation_and_contractions():
    assert word_tokenize("Don't stop, Romeo!") == ["Don't", "stop", ",", "Romeo", "!"]
    assert word_tokenize("Don't STOP", lower=True) == ["don't", "stop"]
    assert word_tokenize("  a\n\tb  ") == ["a", "b"]


# ---------------------------------------------------------------------- Vocab
def test_specials_have_fixed_ids():
    v = Vocab.build(["abc"])
    assert v.itos[:4] == [PAD, SOS, EOS, UNK]
    assert (v.pad_index, v.sos_index, v.eos_index, v.unk_index) == (0, 1, 2, 3)
    assert len(v) == 7 and v.stoi["a"] == 4


def test_build_orders_by_frequency_then_alphabetically():
    v = Vocab.build(["banana", "cab"])  # a:4, b:2, n:2, c:1
    assert v.itos[4:] == ["a", "b", "n", "c"]
    # the result does not depend on the order of the texts
    assert Vocab.build(["cab", "banana"]).itos == v.itos
    assert Vocab.build(["banana", "cab"], order="alphabetical").itos[4:] == ["a", "b", "c", "n"]


def test_min_freq_and_max_size():
    v = Vocab.build(["banana", "cab"], min_freq=2)
    assert v.itos[4:] == ["a", "b", "n"]
    assert v.encode("c") == [v.unk_index]
    v = Vocab.build(["banana", "cab"], max_size=2)
    assert v.itos[4:] == ["a", "b"] and len(v) == 6
    assert len(Vocab.build(["abc"], max_size=0)) == 4
    with pytest.raises(ValueError, match="min_freq"):
        Vocab.build(["a"], min_freq=0)
    with pytest.raises(ValueError, match="max_size"):
        Vocab.build(["a"], max_size=-1)
    with pytest.raises(ValueError, match="order"):
        Vocab.build(["a"], order="random")
    with pytest.raises(ValueError, match="level"):
        Vocab.build(["a"], level="byte")


def test_from_counter_skips_specials():
    v = Vocab.from_counter(Counter({"x": 3, "<pad>": 9, "y": 3}), level="word")
    assert v.itos == [PAD, SOS, EOS, UNK, "x", "y"]


def test_encode_decode_round_trip_char():
    v = Vocab.build(["Suzuki", "Chang", "Rahmaninov"])
    for name in ["Suzuki", "Chang", "Rahmaninov"]:
        ids = v.encode(name, add_sos=True, add_eos=True)
        assert ids[0] == v.sos_index and ids[-1] == v.eos_index and len(ids) == len(name) + 2
        assert v.decode(ids) == name
    assert v.decode(v.encode("Suzuki"), join=False) == list("Suzuki")


def test_unknown_tokens_and_missing_unk():
    v = Vocab.build(["abc"])
    ids = v.encode("abz")
    assert ids == [v["a"], v["b"], v.unk_index]
    assert v.decode(ids) == "ab" + UNK  # <unk> stands for a real token: kept
    strict = Vocab(list("abc"), specials=(PAD, SOS, EOS))
    assert strict.unk_index is None
    with pytest.raises(KeyError, match="'z' is not in the vocabulary"):
        strict.encode("z")
    no_sos = Vocab(list("ab"), specials=(PAD,))
    with pytest.raises(ValueError, match="no <sos> special"):
        no_sos.encode("a", add_sos=True)


def test_decode_strips_specials_and_stops_at_eos():
    v = Vocab.build(["ab"])
    a, b = v["a"], v["b"]
    ids = [v.sos_index, a, b, v.eos_index, a, v.pad_index]
    assert v.decode(ids) == "ab"
    assert v.decode(ids, stop_at_eos=False) == "aba"
    assert v.decode(ids, strip_specials=False) == "<sos>ab"
    assert v.decode(ids, strip_specials=False, stop_at_eos=False) == "<sos>ab<eos>a<pad>"
    assert v.decode(np.array(ids)) == "ab"
    assert v.decode(shendu.tensor(ids)) == "ab"
    with pytest.raises(ValueError, match="1-D sequence of integer ids"):
        v.decode([[a, b]])
    with pytest.raises(IndexError, match="id 99 is out of range"):
        v.decode([99])


def test_decode_batch():
    v = Vocab.build(["ab"])
    ids, _ = v.encode_batch(["ab", "b"], add_eos=True)
    assert v.decode_batch(ids) == ["ab", "b"]
    assert v.decode_batch(shendu.tensor(ids)) == ["ab", "b"]


def test_word_level_and_lower():
    v = Vocab.build(["To be, or not to be"], level="word", lower=True)
    assert v.itos[4:6] == ["be", "to"]
    ids = v.encode("TO BE")
    assert ids == [v["to"], v["be"]]
    assert v.decode(ids) == "to be"
    assert v.encode(["to", "xyz"]) == [v["to"], v.unk_index]


def test_encode_batch_pads_with_pad_index():
    v = Vocab.build(["abc"])
    ids, lengths = v.encode_batch(["abc", "a"], add_sos=True)
    assert ids.dtype == np.int64 and ids.shape == (2, 4)
    assert lengths.tolist() == [4, 2]
    assert ids[1].tolist() == [v.sos_index, v["a"], 0, 0]


def test_one_hot():
    v = Vocab.build(["ab"])
    x = v.one_hot("ba")
    assert x.shape == (2, len(v)) and x.dtype == np.float32
    np.testing.assert_array_equal(x.argmax(1), [v["b"], v["a"]])
    np.testing.assert_array_equal(x.sum(1), [1, 1])
    ids, _ = v.encode_batch(["ab", "a"])
    assert v.one_hot(ids).shape == (2, 2, len(v))
    t = v.one_hot(shendu.tensor(ids))
    assert isinstance(t, shendu.Tensor) and t.shape == (2, 2, len(v))


def test_to_dict_from_dict_and_save_load(tmp_path):
    v = Vocab.build(["Ślusarski", "Chang"], level="char", lower=True)
    d = v.to_dict()
    json.dumps(d)  # JSON-ready
    assert Vocab.from_dict(d) == v
    path = tmp_path / "vocab.json"
    v.save(path)
    w = Vocab.load(path)
    assert w == v and w.itos == v.itos and w.lower and w.encode("ślu") == v.encode("ślu")
    assert not list(tmp_path.glob(".tmp-*"))  # no leftover temp file
    with pytest.raises(ValueError, match="'itos' and 'specials'"):
        Vocab.from_dict({"tokens": []})
    with pytest.raises(ValueError, match="must start with the specials"):
        Vocab.from_dict({"itos": ["a", "<pad>"], "specials": ["<pad>"]})


def test_vocab_errors():
    with pytest.raises(ValueError, match="distinct"):
        Vocab([], specials=(PAD, PAD))
    with pytest.raises(TypeError, match="tokens must be str"):
        Vocab([1, 2])
    assert "a" in Vocab(["a"]) and "b" not in Vocab(["a"])


@settings(deadline=None, max_examples=50)
@given(st.lists(st.text(alphabet="abcxyz .'", max_size=12), min_size=1, max_size=6))
def test_round_trip_property(texts):
    v = Vocab.build(texts)
    ids, lengths = v.encode_batch(texts, add_sos=True, add_eos=True)
    assert lengths.tolist() == [len(t) + 2 for t in texts]
    assert v.decode_batch(ids) == texts


# ---------------------------------------------------------------- pad_batch
def test_pad_batch_post_and_pre():
    ids, lengths = pad_batch([[5, 6, 7], [8], []])
    np.testing.assert_array_equal(ids, [[5, 6, 7], [8, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    ids, _ = pad_batch([[5, 6, 7], [8]], pad_index=-1, padding="pre")
    np.testing.assert_array_equal(ids, [[5, 6, 7], [-1, -1, 8]])


def test_pad_batch_max_len_truncates():
    ids, lengths = pad_batch([[1, 2, 3, 4], [5]], max_len=2)
    np.testing.assert_array_equal(ids, [[1, 2], [5, 0]])
    np.testing.assert_array_equal(lengths, [2, 1])
    ids, _ = pad_batch([[1, 2, 3, 4], [5]], max_len=2, truncating="pre")
    np.testing.assert_array_equal(ids, [[3, 4], [5, 0]])
    ids, _ = pad_batch([[1], [2]], max_len=3)
    assert ids.shape == (2, 3)
    ids, _ = pad_batch([np.array([1, 2]), shendu.tensor([3])])
    np.testing.assert_array_equal(ids, [[1, 2], [3, 0]])


def test_pad_batch_errors():
    with pytest.raises(ValueError, match="sequence 1 has shape \\(1, 2\\)"):
        pad_batch([[1], [[1, 2]]])
    with pytest.raises(ValueError, match="padding and truncating"):
        pad_batch([[1]], padding="middle")
    with pytest.raises(ValueError, match="max_len"):
        pad_batch([[1]], max_len=-1)
    ids, lengths = pad_batch([])
    assert ids.shape == (0, 0) and lengths.shape == (0,)


@settings(deadline=None, max_examples=50)
@given(st.lists(st.lists(st.integers(1, 9), max_size=7), min_size=1, max_size=6))
def test_pad_batch_property(seqs):
    ids, lengths = pad_batch(seqs)
    mask = lengths_to_mask(lengths, ids.shape[1])
    assert (ids[~mask] == 0).all()
    assert [row[m].tolist() for row, m in zip(ids, mask)] == seqs


def test_lengths_to_mask():
    np.testing.assert_array_equal(lengths_to_mask([2, 0, 3]),
                                  [[1, 1, 0], [0, 0, 0], [1, 1, 1]])
    assert lengths_to_mask(shendu.tensor([1, 2]), max_len=4).shape == (2, 4)
    with pytest.raises(ValueError, match="1-D lengths"):
        lengths_to_mask([[1]])


# ------------------------------------------------------- train_val_test_split
def test_split_sizes_cover_and_disjoint():
    items = list(range(100))
    train, val, test = train_val_test_split(items)
    assert (len(train), len(val), len(test)) == (80, 10, 10)
    assert isinstance(train, list)
    assert sorted(train + val + test) == items
    train, val, test = train_val_test_split(items, fractions=(0.7, 0.0, 0.3))
    assert (len(train), len(val), len(test)) == (70, 0, 30)


def test_split_is_seeded():
    items = [f"n{i}" for i in range(50)]
    a = train_val_test_split(items, seed=3)
    assert a == train_val_test_split(items, seed=3)
    assert a != train_val_test_split(items, seed=4)
    shendu.manual_seed(123)  # the global seed does not matter: the split has its own
    assert a == train_val_test_split(items, seed=3)


def test_split_kinds_of_items():
    train, val, test = train_val_test_split(10, seed=0)
    assert train.dtype == np.int64
    assert sorted(np.concatenate([train, val, test])) == list(range(10))
    arr = np.arange(20).reshape(10, 2)
    (tr, va, te), (i_tr, i_va, i_te) = train_val_test_split(arr, return_indices=True)
    np.testing.assert_array_equal(tr, arr[i_tr])
    np.testing.assert_array_equal(te, arr[i_te])
    t = shendu.arange(10)
    tr, va, te = train_val_test_split(t, seed=1)
    assert isinstance(tr, shendu.Tensor) and tr.shape[0] + va.shape[0] + te.shape[0] == 10
    tr, va, te = train_val_test_split(tuple("abcd"), fractions=(0.5, 0.25, 0.25))
    assert isinstance(tr, tuple) and len(tr) == 2 and len(va) == 1


def test_split_stratified_keeps_class_shares():
    labels = np.repeat([0, 1, 2], [600, 300, 100])
    items = list(range(1000))
    (tr, va, te), idx = train_val_test_split(items, stratify=labels, return_indices=True)
    for part, frac in zip(idx, (0.8, 0.1, 0.1)):
        counts = np.bincount(labels[part], minlength=3)
        np.testing.assert_array_equal(counts, np.round(frac * np.array([600, 300, 100])))
    assert sorted(tr + va + te) == items
    # the stratified parts are shuffled across classes, not grouped
    assert len(set(labels[idx[0][:50]].tolist())) > 1


def test_split_errors():
    with pytest.raises(ValueError, match="summing to 1"):
        train_val_test_split(range(10), fractions=(0.8, 0.3, 0.1))
    with pytest.raises(ValueError, match="three shares"):
        train_val_test_split(range(10), fractions=(0.8, 0.2))
    with pytest.raises(ValueError, match="stratify has"):
        train_val_test_split(list(range(10)), stratify=[0, 1])
