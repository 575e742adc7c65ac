"""word2vec training speed against gensim on tiny-shakespeare: words per second.

The same corpus and settings on both sides: tiny-shakespeare cut into speeches (the
blocks between blank lines, the speaker's name dropped), lower-cased words with inner
apostrophes (194,012 tokens in 7,097 speeches), ``vector_size=100, window=5, negative=5,
min_count=5, sample=1e-3, epochs=5, workers=1``, skip-gram and CBOW. The vocabulary is
built outside the clock; each round trains a fresh model for 5 epochs, and words/s is the
words of the 5 epochs over the seconds of ``train`` (gensim counts its raw words, out-of-vocabulary ones too, which flatters it slightly). Rounds alternate between
shendu and gensim; the figure is the median round. shendu's kernel is compiled (numba)
before the first round. Goal: within 3x of gensim, stretch 1.5x.

gensim is only needed here: pip install gensim.

Run: python benchmarks/word2vec.py [--quick] [--rounds 3]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time

from _compare import machine_description  # sets thread counts before numpy loads

from shendu.datasets import tiny_shakespeare_speeches
from shendu.models import Word2Vec

SETTINGS = dict(vector_size=100, window=5, negative=5, min_count=5, sample=1e-3, epochs=5,
                workers=1, seed=1)


def time_shendu(sentences, sg):
    model = Word2Vec(sg=sg, **SETTINGS).build_vocab(sentences)
    start = time.perf_counter()
    _, words = model.train(sentences)
    return words / (time.perf_counter() - start), model


def time_gensim(gensim, sentences, sg):
    model = gensim.models.Word2Vec(sg=sg, **SETTINGS)
    model.build_vocab(sentences)
    start = time.perf_counter()
    _, words = model.train(sentences, total_examples=model.corpus_count,
                           epochs=model.epochs)
    return words / (time.perf_counter() - start), model


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="one round, the first 2,000 speeches")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args(argv)
    try:
        import gensim
    except ImportError:
        sys.exit("word2vec.py compares with gensim: pip install gensim")
    sentences = tiny_shakespeare_speeches()
    rounds = args.rounds
    if args.quick:
        sentences, rounds = sentences[:2000], 1
    print(machine_description())
    print(f"gensim {gensim.__version__}; {len(sentences)} sentences, "
          f"{sum(map(len, sentences))} tokens; {SETTINGS}")
    Word2Vec(sentences[:50], vector_size=8, min_count=1, epochs=1, sg=1)  # compile the kernels
    Word2Vec(sentences[:50], vector_size=8, min_count=1, epochs=1, sg=0)
    result = {}
    for sg, name in ((1, "skip-gram"), (0, "CBOW")):
        ours, theirs = [], []
        for _ in range(rounds):
            ours.append(time_shendu(sentences, sg)[0])
            theirs.append(time_gensim(gensim, sentences, sg)[0])
        o, t = statistics.median(ours), statistics.median(theirs)
        result[name] = (o, t)
        print(f"{name:9s}  shendu {o:10,.0f} words/s  gensim {t:10,.0f} words/s  "
              f"time ratio shendu/gensim {t / o:.2f}  (goal <= 3, stretch <= 1.5)")
    return result


if __name__ == "__main__":
    main()
