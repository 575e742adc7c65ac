"""Quick run of examples/word2vec_shakespeare.py: word2vec on 2,000 tiny-shakespeare speeches.

Three epochs on a tenth of the corpus cannot learn analogies; the quick run checks what it
can: both architectures train, the analogy questions are well formed, the word2vec text
file has its header and reads back exactly, and the PCA picture is real.
"""
import numpy as np
import pytest

from test_examples import assert_png, data_dir_with, load_example


def test_analogy_questions_and_score(monkeypatch):
    from shendu.models import KeyedVectors
    ex = load_example("word2vec_shakespeare", monkeypatch)
    # a made-up space where "queen" = "king" - "man" + "woman" exactly
    words = ["king", "queen", "man", "woman", "apple"]
    v = np.array([[1, 1, 0], [1, 0, 1], [0, 1, 0], [0, 0, 1], [-1, -1, -1]], np.float32)
    wv = KeyedVectors(words, v)
    questions = ex.analogy_questions(wv, [("king", "queen"), ("man", "woman")])
    assert questions == [("king", "queen", "man", "woman"), ("man", "woman", "king", "queen")]
    assert ex.analogy_score(wv, questions, topn=1) == 1.0
    assert ex.pca_2d(v).shape == (5, 2)


def test_word2vec_lesson_quick(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setenv("SHENDU_DATA", str(data_dir_with("tinyshakespeare/input.txt")))
    ex = load_example("word2vec_shakespeare", monkeypatch)
    result = ex.main(["--quick", "--no-gensim", "--out", str(tmp_path)])
    for name in ("skip-gram", "CBOW"):
        row = result[name]
        assert row["vocabulary"] > 1000 and row["questions"] > 50
        assert 0.0 <= row["analogy"] <= 1.0
        assert "king" in row["model"].wv
    assert result["max_roundtrip_error"] < 1e-5
    with open(result["text_path"], encoding="utf-8") as f:
        n, d = map(int, f.readline().split())
    assert (n, d) == (result["skip-gram"]["vocabulary"], 100)
    assert_png(result["png"])
