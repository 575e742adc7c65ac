"""Word vectors from Shakespeare: CBOW and skip-gram with negative sampling.

Lesson 004, "Word Vector/Embedding": the meaning of a word is learned without labels
from the words around it ("a word can be understood by its context"). **CBOW** predicts
the centre word from the mean of its neighbours' vectors ("給兩邊的字 predict 中間的字");
**skip-gram** predicts each neighbour from the centre word ("給中間的字 predict 兩邊的字").
Negative sampling replaces the softmax over the whole vocabulary by ``negative`` noise
words per prediction; frequent words ("the", "and") are subsampled.

Corpus: tiny-shakespeare cut into speeches (``shendu.datasets.tiny_shakespeare_speeches``:
7,097 speeches, 194,012 words; 3,251 words occur 5 times or more). Settings as gensim's
defaults: ``vector_size=100, window=5, negative=5, min_count=5, sample=1e-3``, 20 epochs.

What it shows:

1. **Neighbours** (cosine similarity) of common words.
2. **Analogies** ``b - a + c ~ d`` on 16 gender pairs (king/queen, lord/lady, he/she,
   father/mother, ...): every ordered pair of pairs whose four words are in the vocabulary,
   208 questions such as "king - queen + lady = ?"... the score is how often ``d`` is among
   the 10 nearest words (the question's three words excluded). Where gensim is installed
   the same questions are asked of gensim 4's vectors trained on the same corpus with the
   same settings, side by side.
3. The vectors saved in the plain **word2vec text format** (``vectors.txt``: a header
   ``<words> <dims>``, then one ``word v1 ... v100`` per line, readable by gensim's
   ``KeyedVectors.load_word2vec_format`` and most other tools), read back and checked.
4. A picture: 2-D PCA projection of a few groups of words (``word2vec_shakespeare.png``).

Measured (2026-12-08, 2-core AMD EPYC, AVX2, numba kernels, seed 1, 20 epochs):

=========== =========== ============ =================== ===================
model        shendu s    gensim s     analogies shendu    analogies gensim
=========== =========== ============ =================== ===================
skip-gram    5.2         7.7          0.260 (54/208)      0.284 (59/208)
CBOW         1.3         2.6          0.404 (84/208)      0.394 (82/208)
=========== =========== ============ =================== ===================

Neighbours (CBOW): king - henry, richard, duke, edward, crown, lawful; father - brother,
son, friend, mother, daughter, husband; night - morning, morrow, castle, prison, wedding,
day; love - hate, wrong, sin, heart, free, soul. Skip-gram: king - henry, vi, claim,
bolingbroke, warwick, parliament; rome - marcius, coriolanus, aufidius, lartius, volscians. The
corpus is small (a fiftieth of the text word2vec is usually trained on), so neighbours mix
meaning with topic: Shakespeare's histories put "king" beside the kings' names.

Run: python examples/word2vec_shakespeare.py [--out examples_output] [--epochs 20]
     [--seed 1] [--quick]
"""
from __future__ import annotations

import argparse
import itertools
import os
import time

import numpy as np

from shendu.datasets import tiny_shakespeare_speeches
from shendu.models import KeyedVectors, Word2Vec

SETTINGS = dict(vector_size=100, window=5, negative=5, min_count=5, sample=1e-3)
PAIRS = [("king", "queen"), ("lord", "lady"), ("he", "she"), ("his", "her"),
         ("man", "woman"), ("father", "mother"), ("son", "daughter"), ("brother", "sister"),
         ("husband", "wife"), ("sir", "madam"), ("uncle", "aunt"), ("boy", "girl"),
         ("him", "her"), ("prince", "princess"), ("duke", "duchess"),
         ("gentleman", "gentlewoman")]
QUERIES = ["king", "love", "death", "good", "night", "sword", "father", "rome"]
GROUPS = {"royalty": ["king", "queen", "prince", "duke", "crown", "throne"],
          "family": ["father", "mother", "son", "daughter", "brother", "sister"],
          "body": ["eye", "hand", "heart", "head", "blood", "tongue"],
          "time": ["day", "night", "morning", "hour", "tomorrow", "yesterday"]}


def analogy_questions(wv, pairs=PAIRS):
    """The questions ``(a, b, c, d)``: "a is to b as c is to d", from every ordered pair of
    distinct pairs whose words are all in ``wv`` (and ``d != b``)."""
    return [(a, b, c, d) for (a, b), (c, d) in itertools.permutations(pairs, 2)
            if d != b and all(w in wv for w in (a, b, c, d))]


def analogy_score(wv, questions, topn=10):
    """The fraction of questions whose answer ``d`` is among the ``topn`` words nearest to
    ``b - a + c`` (``most_similar`` leaves the three question words out)."""
    hits = sum(d in [w for w, _ in wv.most_similar(positive=[b, c], negative=[a], topn=topn)]
               for a, b, c, d in questions)
    return hits / max(len(questions), 1)


def train(sentences, sg, epochs, seed):
    start = time.perf_counter()
    model = Word2Vec(sentences, sg=sg, epochs=epochs, seed=seed, **SETTINGS)
    return model, time.perf_counter() - start


def train_gensim(sentences, sg, epochs, seed):
    """gensim 4's Word2Vec with the same settings, or None where gensim is not installed."""
    try:
        from gensim.models import Word2Vec as GensimWord2Vec
    except ImportError:
        return None, None
    start = time.perf_counter()
    model = GensimWord2Vec(sentences, sg=sg, epochs=epochs, seed=seed, workers=1, **SETTINGS)
    return model.wv, time.perf_counter() - start


def pca_2d(vectors):
    """Rows projected on their first two principal components (SVD of the centred rows)."""
    centred = vectors - vectors.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def plot_groups(wv, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    words = [(g, w) for g, ws in GROUPS.items() for w in ws if w in wv]
    points = pca_2d(np.stack([wv.get_vector(w, norm=True) for _, w in words]))
    fig, ax = plt.subplots(figsize=(7, 6))
    for i, group in enumerate(GROUPS):
        idx = [k for k, (g, _) in enumerate(words) if g == group]
        ax.scatter(points[idx, 0], points[idx, 1], color=f"C{i}", label=group)
        for k in idx:
            ax.annotate(words[k][1], points[k], textcoords="offset points", xytext=(4, 3))
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="examples_output")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--data-dir", default=None)
    p.add_argument("--no-gensim", action="store_true", help="skip the gensim comparison")
    p.add_argument("--quick", action="store_true", help="first 2,000 speeches, 3 epochs")
    args = p.parse_args(argv)
    sentences = tiny_shakespeare_speeches(args.data_dir)
    epochs = args.epochs
    if args.quick:
        sentences, epochs = sentences[:2000], 3
    os.makedirs(args.out, exist_ok=True)
    print(f"{len(sentences)} speeches, {sum(map(len, sentences)):,} words; {SETTINGS}, "
          f"{epochs} epochs")
    result = {}
    for sg, name in ((1, "skip-gram"), (0, "CBOW")):
        model, seconds = train(sentences, sg, epochs, args.seed)
        wv = model.wv
        questions = analogy_questions(wv)
        score = analogy_score(wv, questions)
        row = {"model": model, "seconds": seconds, "analogy": score,
               "questions": len(questions), "vocabulary": len(wv)}
        line = (f"{name:9s} {len(wv)} words, trained in {seconds:.1f} s; analogies top-10: "
                f"{score:.3f} of {len(questions)}")
        if not args.no_gensim:
            gwv, gseconds = train_gensim(sentences, sg, epochs, args.seed)
            if gwv is not None:
                row["gensim_analogy"] = analogy_score(gwv, analogy_questions(gwv))
                row["gensim_seconds"] = gseconds
                line += f" | gensim {gseconds:.1f} s, analogies {row['gensim_analogy']:.3f}"
        print(line)
        for q in QUERIES:
            if q in wv:
                near = ", ".join(w for w, _ in wv.most_similar(q, topn=6))
                print(f"    {q:>7s}: {near}")
        result[name] = row

    wv = result["skip-gram"]["model"].wv
    text_path = os.path.join(args.out, "vectors.txt")
    wv.save_word2vec_format(text_path)
    back = KeyedVectors.load_word2vec_format(text_path)
    assert back.index_to_key == wv.index_to_key
    result["max_roundtrip_error"] = float(np.abs(back.vectors - wv.vectors).max())
    with open(text_path, encoding="utf-8") as f:
        header = f.readline().strip()
    print(f"saved {text_path} (header '{header}'), read back: largest difference "
          f"{result['max_roundtrip_error']:.1e}")
    try:
        result["png"] = plot_groups(wv, os.path.join(args.out, "word2vec_shakespeare.png"),
                                    f"skip-gram vectors of tiny-shakespeare, PCA "
                                    f"({epochs} epochs)")
        print(f"saved {result['png']}")
    except ImportError:
        print("matplotlib is not installed: no picture (pip install shendu[plot])")
    result["text_path"] = text_path
    return result


if __name__ == "__main__":
    main()
