"""shendu.models.word2vec: vocabulary, subsampling and noise tables, the numba kernel
against the NumPy trainer, learning on a two-topic corpus, KeyedVectors queries, the
word2vec text/binary formats (against gensim when installed) and the errors."""
import numpy as np
import pytest

from shendu.models import KeyedVectors, Word2Vec
from shendu.models import _word2vec_train as tr
from shendu.models.word2vec import UnknownWordError

ANIMALS = ["cat", "dog", "horse", "cow", "sheep", "goat", "pig", "duck"]
TOOLS = ["hammer", "saw", "drill", "wrench", "chisel", "plane", "file", "lathe"]


def topic_corpus(n=600, seed=0):
    """Sentences of 8 words drawn from one topic only: the two sets never co-occur."""
    rng = np.random.default_rng(seed)
    return [list(rng.choice(ANIMALS if i % 2 else TOOLS, size=8)) for i in range(n)]


def test_vocab_min_count_and_order():
    corpus = [["a", "b", "c", "a"], ["b", "a", "d"], ["e"]]
    m = Word2Vec(vector_size=4, min_count=2).build_vocab(corpus)
    assert m.wv.index_to_key == ["a", "b"]           # a: 3, b: 2; c, d, e dropped
    assert m.wv.get_vecattr("a", "count") == 3
    assert m.wv.vectors.shape == (2, 4) and m.syn1neg.shape == (2, 4)
    assert np.abs(m.wv.vectors).max() <= 1 / 4 and not m.syn1neg.any()  # gensim 4: +-1/d
    ties = Word2Vec(vector_size=4, min_count=1).build_vocab([["x", "y", "z", "y"]])
    assert ties.wv.index_to_key == ["y", "x", "z"]    # ties in order of first appearance
    tokens, bounds = m.encode(corpus)
    np.testing.assert_array_equal(tokens, [0, 1, 0, 1, 0])
    np.testing.assert_array_equal(bounds, [0, 3, 5])  # the empty third sentence is gone


def test_subsampling_probabilities_follow_the_formula():
    counts = np.array([1000, 100, 10, 1])
    ints, prob = tr.sample_ints(counts, 1e-2)
    t = 1e-2 * counts.sum()
    expected = np.minimum(np.sqrt(t / counts) + t / counts, 1.0)
    np.testing.assert_allclose(prob, expected)
    assert prob[0] < 0.2 and prob[-1] == 1.0
    np.testing.assert_allclose(ints / (2 ** 32 - 1), expected, atol=1e-9)
    np.testing.assert_array_equal(tr.sample_ints(counts, 0)[1], 1.0)  # sample=0 keeps all
    # the kernel keeps about that fraction of "the" in a long corpus
    corpus = [["the"] * 50 + ["w%d" % i for i in range(50)]] * 40
    m = Word2Vec(corpus, vector_size=4, min_count=1, sample=1e-2, epochs=1, window=2)
    kept_fraction = m.training_stats[0]["kept"] / m.corpus_total_words
    the = m.wv.key_to_index["the"]
    expected_kept = (m.keep_probability * m.wv.counts).sum() / m.wv.counts.sum()
    assert m.keep_probability[the] < 0.5
    assert kept_fraction == pytest.approx(expected_kept, abs=0.03)


def test_negative_table_is_unigram_to_the_three_quarters():
    counts = np.array([500, 120, 40, 9, 1], dtype=np.float64)
    accept, alias = tr.alias_table(counts ** 0.75)
    p = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(tr.alias_probabilities(accept, alias), p, atol=1e-9)
    bits = tr.draw(12345, np.arange(200_000), 7)
    ids = tr.sample_negatives(bits, accept, alias)
    freq = np.bincount(ids, minlength=5) / ids.size
    np.testing.assert_allclose(freq, p, atol=0.005)
    m = Word2Vec(vector_size=4, min_count=1).build_vocab([["a"] * 8 + ["b"]])
    np.testing.assert_allclose(tr.alias_probabilities(m.neg_accept, m.neg_alias),
                               np.array([8, 1]) ** 0.75 / (8 ** 0.75 + 1), atol=1e-9)


@pytest.mark.parametrize("sg,cbow_mean", [(1, 1), (0, 1), (0, 0)])
def test_numba_kernel_and_numpy_take_the_same_steps(sg, cbow_mean):
    pytest.importorskip("numba")
    from shendu import kernels
    if not kernels.enabled():
        pytest.skip("shendu.kernels is switched off (SHENDU_JIT=0)")
    rng = np.random.default_rng(0)
    corpus = [[f"w{int(x) % 40}" for x in rng.zipf(1.5, size=rng.integers(3, 25))]
              for _ in range(120)]
    kw = dict(vector_size=8, window=3, min_count=2, sg=sg, cbow_mean=cbow_mean, epochs=2,
              dtype="float64", compute_loss=True, sample=1e-2, seed=3)
    a = Word2Vec(corpus, kernel="numba", **kw)
    b = Word2Vec(corpus, kernel="numpy", batch_size=1, **kw)
    np.testing.assert_allclose(a.wv.vectors, b.wv.vectors, atol=1e-12)
    np.testing.assert_allclose(a.syn1neg, b.syn1neg, atol=1e-12)
    assert a.get_latest_training_loss() == pytest.approx(b.get_latest_training_loss())
    assert [s["kept"] for s in a.training_stats] == [s["kept"] for s in b.training_stats]


@pytest.mark.parametrize("sg,kernel", [(1, "auto"), (0, "auto"), (1, "numpy"), (0, "numpy")])
def test_learns_two_topics(sg, kernel):
    m = Word2Vec(topic_corpus(), vector_size=16, window=3, min_count=1, sg=sg, epochs=5,
                 sample=0, seed=0, kernel=kernel, compute_loss=True)
    for group, other in ((ANIMALS, TOOLS), (TOOLS, ANIMALS)):
        for w in group:
            nearest = [n for n, _ in m.wv.most_similar(w, topn=5)]
            assert set(nearest) <= set(group), (w, nearest)
        assert m.wv.similarity(group[0], group[1]) > m.wv.similarity(group[0], other[0]) + 0.3
    assert m.wv.doesnt_match(ANIMALS[:4] + [TOOLS[0]]) == TOOLS[0]
    losses = [s["loss"] for s in m.training_stats]
    assert losses[-1] < losses[0]


def test_keyed_vectors_queries_and_analogy():
    # man:king = woman:queen built in: vectors = gender axis + royalty axis (+ noise dims)
    words = ["man", "woman", "king", "queen", "apple"]
    v = np.array([[1, 0, 0.1], [-1, 0, 0.1], [1, 1, 0.1], [-1, 1, 0.1], [0, 0, 3.0]])
    wv = KeyedVectors(words, v)
    assert wv.most_similar(positive=["king", "woman"], negative=["man"], topn=1)[0][0] == "queen"
    assert np.allclose(wv["king"], v[2]) and wv[["man", "apple"]].shape == (2, 3)
    assert wv.similarity("king", "king") == pytest.approx(1.0)
    assert wv.similarity("man", "woman") == pytest.approx(
        v[0] @ v[1] / np.linalg.norm(v[0]) / np.linalg.norm(v[1]))
    sims = wv.most_similar("man", topn=None)
    assert sims.shape == (5,) and sims[0] == pytest.approx(1.0)
    top = wv.most_similar("man", topn=10)
    assert len(top) == 4 and "man" not in dict(top)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


def test_unknown_word_errors_are_clear():
    m = Word2Vec(topic_corpus(50), vector_size=4, min_count=3, epochs=1)
    with pytest.raises(KeyError, match="'unicorn' is not in the vocabulary.*min_count=3"):
        m.wv["unicorn"]
    with pytest.raises(UnknownWordError):
        m.wv.most_similar(positive=["cat", "unicorn"])
    with pytest.raises(ValueError, match="at least one positive or negative"):
        m.wv.most_similar()
    with pytest.raises(TypeError, match="list of str tokens"):
        Word2Vec(["the cat sat"], min_count=1)
    with pytest.raises(ValueError, match="min_count=5"):
        Word2Vec([["a", "b"]], min_count=5)
    with pytest.raises(ValueError, match="hierarchical softmax"):
        Word2Vec(hs=1)
    with pytest.raises(ValueError, match="sg must be 0"):
        Word2Vec(sg=2)
    with pytest.raises(RuntimeError, match="build the vocabulary first"):
        Word2Vec().train([["a"]])


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_format_round_trip(tmp_path, binary):
    m = Word2Vec(topic_corpus(100), vector_size=8, min_count=1, epochs=1)
    path = tmp_path / "vec.txt"
    m.wv.save_word2vec_format(path, binary=binary)
    back = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert back.index_to_key == m.wv.index_to_key
    np.testing.assert_array_equal(back.vectors, m.wv.vectors)  # 9 digits: float32 exact
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tmp")]  # atomic save
    if not binary:
        lines = path.read_text(encoding="utf-8").splitlines()
        assert lines[0] == f"{len(m.wv)} 8" and len(lines) == len(m.wv) + 1
    assert KeyedVectors.load_word2vec_format(path, binary=binary, limit=3).index_to_key == \
        m.wv.index_to_key[:3]


@pytest.mark.parametrize("binary", [False, True])
def test_gensim_reads_our_files_and_we_read_gensims(tmp_path, binary):
    gensim_kv = pytest.importorskip("gensim.models").KeyedVectors
    m = Word2Vec(topic_corpus(100), vector_size=8, min_count=1, epochs=1)
    ours = tmp_path / "ours.vec"
    m.wv.save_word2vec_format(ours, binary=binary)
    g = gensim_kv.load_word2vec_format(str(ours), binary=binary)
    assert list(g.index_to_key) == m.wv.index_to_key
    np.testing.assert_array_equal(g.vectors, m.wv.vectors)
    theirs = tmp_path / "theirs.vec"
    g.save_word2vec_format(str(theirs), binary=binary)
    back = KeyedVectors.load_word2vec_format(theirs, binary=binary)
    assert back.index_to_key == m.wv.index_to_key
    np.testing.assert_allclose(back.vectors, m.wv.vectors, rtol=1e-6)
    ours_top, theirs_top = back.most_similar("cat", topn=3), g.most_similar("cat", topn=3)
    assert [w for w, _ in ours_top] == [w for w, _ in theirs_top]
    np.testing.assert_allclose([s for _, s in ours_top], [s for _, s in theirs_top], atol=1e-6)


def test_bad_files_raise_clear_errors(tmp_path):
    def load(text, **kw):
        p = tmp_path / "bad.vec"
        p.write_bytes(text if isinstance(text, bytes) else text.encode())
        return KeyedVectors.load_word2vec_format(p, **kw)
    with pytest.raises(ValueError, match="is empty"):
        load("")
    with pytest.raises(ValueError, match="header"):
        load("cat 1 2\n")
    with pytest.raises(ValueError, match="line 3 has 1 numbers after the word, the header says 2"):
        load("2 2\ncat 1 2\ndog 1\n")
    with pytest.raises(ValueError, match="ends after 1 word lines; the header says 3"):
        load("3 2\ncat 1 2\n")
    with pytest.raises(ValueError, match="line 2 .*'x' where a number"):
        load("1 2\ncat 1 x\n")
    with pytest.raises(ValueError, match="'cat' occurs twice"):
        load("2 2\ncat 1 2\ncat 3 4\n")
    with pytest.raises(ValueError, match="not UTF-8"):
        load(b"1 2\ncat \xff\xfe\n")
    with pytest.raises(ValueError, match="ends at word 1 of 1"):
        load("1 50\ncat 1 2\n", binary=True)
    wv = KeyedVectors(["two words"], np.ones((1, 2)))
    with pytest.raises(ValueError, match="whitespace"):
        wv.save_word2vec_format(tmp_path / "x.vec")


def test_model_save_load_and_continue_training(tmp_path):
    pytest.importorskip("safetensors")
    m = Word2Vec(topic_corpus(100), vector_size=8, min_count=1, epochs=1, sg=1)
    m.save(tmp_path / "w2v.safetensors")
    back = Word2Vec.load(tmp_path / "w2v.safetensors")
    np.testing.assert_array_equal(back.wv.vectors, m.wv.vectors)
    np.testing.assert_array_equal(back.syn1neg, m.syn1neg)
    assert back.sg == 1 and back.wv.index_to_key == m.wv.index_to_key
    m.wv.save(tmp_path / "kv.safetensors")
    kv = KeyedVectors.load(tmp_path / "kv.safetensors")
    assert kv.get_vecattr("cat", "count") == m.wv.get_vecattr("cat", "count")
    words, total = back.train(topic_corpus(100), epochs=1)
    assert total == back.corpus_total_words and 0 < words <= total
    assert not np.array_equal(back.wv.vectors, m.wv.vectors)
    with pytest.raises(ValueError, match="not written by Word2Vec.save"):
        Word2Vec.load(tmp_path / "kv.safetensors")
