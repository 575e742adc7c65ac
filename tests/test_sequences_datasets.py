"""shendu.datasets: names_by_language (real data), the addition task, tiny_shakespeare."""
import os
from pathlib import Path

import numpy as np
import pytest

import shendu
import shendu.datasets as ds
from shendu.data.datasets.text import NAMES_LANGUAGES

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # /work/shared/data
# $SHENDU_DATA when it holds the names, else ../shared/data
DATA = next((Path(r) for r in (os.environ.get("SHENDU_DATA"), SHARED_DATA)
             if r and (Path(r) / "names").is_dir()), SHARED_DATA)
needs_names = pytest.mark.skipif(not (DATA / "names" / "Russian.txt").is_file(),
                                 reason=f"the names dataset is not in {DATA / 'names'} "
                                        f"(see ../shared/data/README.md)")
needs_shakespeare = pytest.mark.skipif(
    not (DATA / "tinyshakespeare" / "input.txt").is_file(),
    reason=f"tiny-shakespeare is not in {DATA / 'tinyshakespeare'}")


# ---------------------------------------------------------------------- names
@needs_names
def test_names_by_language_counts():
    names, labels, languages = ds.names_by_language(data_dir=DATA)
    assert languages == NAMES_LANGUAGES and len(languages) == 18
    assert len(names) == 20074 and labels.shape == (20074,) and labels.dtype == np.int64
    counts = dict(zip(languages, np.bincount(labels, minlength=18).tolist()))
    assert counts["Russian"] == 9408 and counts["Vietnamese"] == 73
    assert counts["English"] == 3668 and counts["Japanese"] == 991
    assert languages[labels[0]] == "Arabic"
    assert "Suzuki" in [n for n, k in zip(names, labels) if languages[k] == "Japanese"]


@needs_names
def test_names_by_language_ascii_folding():
    names, labels, languages = ds.names_by_language(data_dir=DATA)
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'")
    assert set("".join(names)) <= allowed
    raw, raw_labels, _ = ds.names_by_language(data_dir=DATA, ascii=False)
    np.testing.assert_array_equal(raw_labels, labels)
    assert "Ślusarski" in raw and "Slusarski" in names
    assert not set("".join(raw)) <= allowed


@needs_names
def test_names_by_language_stratified_split():
    names, labels, languages = ds.names_by_language(data_dir=DATA)
    from shendu.data.text import train_val_test_split
    _, (tr, va, te) = train_val_test_split(names, stratify=labels, seed=0, return_indices=True)
    assert len(tr) + len(va) + len(te) == 20074
    # every language is in the test set, in its share (Vietnamese: 73 * 0.1 -> 7)
    test_counts = np.bincount(labels[te], minlength=18)
    assert test_counts[languages.index("Vietnamese")] == 7
    assert test_counts[languages.index("Russian")] == 941


def test_names_by_language_missing_folder_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="Russian.txt"):
        ds.names_by_language(data_dir=tmp_path)


@needs_shakespeare
def test_tiny_shakespeare_reexported():
    from shendu.data.datasets import sequences
    text = sequences.tiny_shakespeare(data_dir=DATA)
    assert len(text) == 1115394 and len(set(text)) == 65
    assert text.startswith("First Citizen:")


# ------------------------------------------------------------------- addition
def _check_correct(questions, answers, reverse):
    for q, a in zip(questions, answers):
        q = q[::-1] if reverse else q
        x, y = q.strip().split("+")
        assert int(x) + int(y) == int(a), (q, a)


def test_addition_correct_and_unique():
    q, a = ds.addition(2000, digits=3, reverse=False, seed=0)
    assert len(q) == len(a) == 2000
    _check_correct(q, a, reverse=False)
    pairs = {tuple(sorted(map(int, s.split("+")))) for s in q}
    assert len(pairs) == 2000  # unique, also up to the order of the operands
    operands = [int(x) for s in q for x in s.split("+")]
    assert min(operands) >= 0 and max(operands) <= 999
    assert any(x < 10 for x in operands) and any(x >= 100 for x in operands)
    assert all(s == str(int(s)) for s in a)  # no padding, no leading zeros


def test_addition_reverse_reverses_questions_only():
    q, a = ds.addition(50, seed=1, reverse=False)
    qr, ar = ds.addition(50, seed=1, reverse=True)
    assert qr == [s[::-1] for s in q]
    assert ar == a
    _check_correct(qr, ar, reverse=True)


def test_addition_is_seeded():
    assert ds.addition(100, seed=5) == ds.addition(100, seed=5)
    assert ds.addition(100, seed=5) != ds.addition(100, seed=6)


def test_addition_course_example_format():
    q, a = ds.addition(3000, digits=3, reverse=False, seed=0)
    assert all("+" in s and set(s) <= set("0123456789+") for s in q)
    assert all(set(s) <= set("0123456789") for s in a)
    assert max(len(s) for s in q) == 7 and max(len(s) for s in a) <= 4


def test_addition_min_digits_and_padding():
    q, a = ds.addition(200, digits=4, min_digits=4, reverse=False, seed=0)
    assert all(len(x) == 4 for s in q for x in s.split("+"))
    _check_correct(q, a, reverse=False)
    q, a = ds.addition(200, digits=3, reverse=True, seed=0, pad=True, max_digits=5)
    assert {len(s) for s in q} == {11} and {len(s) for s in a} == {6}
    assert all(s[0] == " " or s[0].isdigit() for s in q)
    _check_correct(q, a, reverse=True)


def test_addition_exhausts_small_spaces():
    # 1-digit operands: 10 * 11 / 2 = 55 different problems
    q, a = ds.addition(55, digits=1, reverse=False, seed=0)
    assert len({tuple(sorted(map(int, s.split("+")))) for s in q}) == 55
    with pytest.raises(ValueError, match="only 55"):
        ds.addition(56, digits=1)


def test_addition_exclude():
    q1, _ = ds.addition(30, digits=1, reverse=True, seed=0)
    q2, _ = ds.addition(25, digits=1, reverse=True, seed=1, exclude=q1)
    key = lambda s: tuple(sorted(map(int, s[::-1].split("+"))))  # noqa: E731
    assert not {key(s) for s in q1} & {key(s) for s in q2}
    with pytest.raises(ValueError, match="only 25"):
        ds.addition(26, digits=1, exclude=q1)
    with pytest.raises(ValueError, match="not a question"):
        ds.addition(2, exclude=["123"])


def test_addition_split_is_disjoint():
    (q_tr, a_tr), (q_te, a_te) = ds.addition_split(3000, 500, digits=2, seed=0)
    assert len(q_tr) == 3000 and len(q_te) == 500
    key = lambda s: tuple(sorted(map(int, s[::-1].split("+"))))  # noqa: E731
    assert not {key(s) for s in q_tr} & {key(s) for s in q_te}
    _check_correct(q_te, a_te, reverse=True)


def test_addition_argument_errors():
    with pytest.raises(ValueError, match="digits must be an int >= 1"):
        ds.addition(10, digits=0)
    with pytest.raises(ValueError, match="min_digits \\(3\\) must be <= digits \\(2\\)"):
        ds.addition(10, digits=2, min_digits=3)
    with pytest.raises(ValueError, match="max_digits \\(2\\) must be >= digits \\(3\\)"):
        ds.addition(10, digits=3, max_digits=2)


def test_encode_addition_for_seq2seq():
    q, a = ds.addition(64, seed=0)
    b = ds.encode_addition(q, a)
    v = b.vocab
    assert len(v) == 16 and v.pad_index == 0
    assert b.src.shape == (64, max(map(len, q))) and b.src.dtype == np.int64
    assert b.tgt_in.shape == b.tgt_out.shape == (64, max(map(len, a)) + 1)
    np.testing.assert_array_equal(b.tgt_in[:, 0], v.sos_index)
    np.testing.assert_array_equal(b.tgt_lengths, [len(s) + 1 for s in a])
    for i in range(64):
        assert v.decode(b.src[i]) == q[i]
        n = b.tgt_lengths[i]
        assert b.tgt_out[i, n - 1] == v.eos_index
        np.testing.assert_array_equal(b.tgt_in[i, 1:n], b.tgt_out[i, :n - 1])  # shifted
        assert v.decode(b.tgt_out[i]) == a[i]
    with pytest.raises(ValueError, match="3 questions but 2 answers"):
        ds.encode_addition(q[:3], a[:2])


def test_datasets_namespace_exports():
    for name in ["names_by_language", "addition", "addition_split", "encode_addition",
                 "addition_vocab", "tiny_shakespeare"]:
        assert callable(getattr(shendu.datasets, name))
        assert name in shendu.datasets.__all__
