"""word2vec: word vectors learned from raw text, CBOW and skip-gram with negative sampling.

Course seed 004, "Word Vector/Embedding": a machine learns the meaning of words from
reading documents without supervision, because "a word can be understood by its
context" (類似的句型中, 同樣位置的不相同詞可能有高度相關性). The prediction-based
architectures of Mikolov et al. (2013):

* **CBOW** (continuous bag of words, ``sg=0``): "給兩邊的字 predict 中間的字" -- the mean
  ``h`` of the input vectors of the words around position ``i`` predicts word ``w_i``.
* **Skip-gram** (``sg=1``): "給中間的字 predict 兩邊的字" -- each word predicts the words
  around it (as in word2vec.c and gensim, the input vector of each context word is
  trained to predict the centre word: the same pairs, seen from the other side).

Each word has an *input* vector (``wv.vectors``, "syn0") and an *output* vector
(``syn1neg``). A softmax over the whole vocabulary is replaced by **negative sampling**:
for an input ``h`` and its true word ``c`` draw ``negative`` "noise" words ``n_k`` from
the unigram distribution raised to ``ns_exponent = 0.75`` and minimise

    L = -log sigmoid(h . u_c) - sum_k log sigmoid(-h . u_nk)

by plain SGD on both matrices, with the gradient written out (no autograd): for target
``t`` with label 1 (true word) or 0 (noise), ``g_t = (label - sigmoid(h . u_t)) alpha``,
``u_t += g_t h`` and ``h += sum_t g_t u_t`` (CBOW adds that to every context word's
vector, as word2vec.c does). **Subsampling** drops each occurrence of a frequent word with
probability ``1 - min(1, sqrt(t / c_w) + t / c_w)``, ``t = sample * corpus size``, which
both speeds training and weakens "the", "and". The window is **shrunk** at random for each
centre word to ``b`` in ``1..window``, so near words count more; the learning rate falls
linearly from ``alpha`` to ``min_alpha`` over all epochs.

The inner loop is a numba kernel when numba is installed (``pip install "shendu[jit]"``),
else vectorised NumPy over batches of words (same random draws; about ten times slower).
Both run on one thread: ``workers`` is accepted for gensim's signature and ignored.

>>> from shendu.models import Word2Vec
>>> corpus = [["the", "cat", "sat"], ["the", "dog", "sat"]] * 50
>>> model = Word2Vec(corpus, vector_size=16, window=2, min_count=1, sg=1, epochs=3, seed=0)
>>> model.wv["cat"].shape, model.wv.index_to_key[:2]
((16,), ['the', 'sat'])
"""
from __future__ import annotations

import importlib.util
import os
import time
from collections import Counter

import numpy as np

from ..io.serialization import load as _load, save as _save
from ._keyed_vectors import KeyedVectors, UnknownWordError
from ._word2vec_train import (MAX_WORDS_IN_SENTENCE, alias_table, epoch_key, sample_ints,
                              train_epoch_numpy)

__all__ = ["Word2Vec", "KeyedVectors", "UnknownWordError", "LineSentence"]

_FORMAT = "shendu-word2vec-1"
_CONFIG = ("vector_size", "window", "min_count", "sg", "negative", "sample", "alpha",
           "min_alpha", "epochs", "seed", "cbow_mean", "ns_exponent", "shrink_windows",
           "batch_size")


def LineSentence(path, lower=False):
    """The sentences of a text file, one a line, words split at whitespace (gensim's
    ``LineSentence``): a list of lists of str."""
    with open(os.fspath(path), encoding="utf-8") as f:
        return [line.split() for line in (f.read().lower() if lower else f.read()).splitlines()
                if line.strip()]


def _kernel_module():
    if importlib.util.find_spec("numba") is None:
        return None
    from .. import kernels
    if not kernels.enabled():  # SHENDU_JIT=0 or shendu.kernels.set_enabled(False)
        return None
    try:
        from . import _word2vec_jit
    except Exception:  # noqa: BLE001 - numba installed but broken: use NumPy
        return None
    return _word2vec_jit


class Word2Vec:
    """word2vec with gensim's arguments; trained at construction when given a corpus.

    Parameters
    ----------
    sentences : iterable of lists of str, optional (each sentence a list of tokens;
        windows do not cross sentences; sentences over 10,000 words are cut)
    corpus_file : path, optional, a text file read with :func:`LineSentence` instead
    vector_size : int, 100, the dimension ``d`` of the vectors
    window : int, 5, the largest distance between the centre and a context word
    min_count : int, 5, words seen fewer times are dropped from the vocabulary
    sg : 0 (CBOW, default) or 1 (skip-gram)
    negative : int, 5, noise words per target (hierarchical softmax, ``hs=1``, is not
        offered)
    sample : float, 1e-3, the subsampling threshold ``t / corpus size`` (0: off)
    alpha, min_alpha : float, 0.025 and 0.0001, the learning rate's start and end
    epochs : int, 5
    seed : int, 1, the random seed (initial vectors, subsampling, windows, negatives)
    cbow_mean : 1 (mean of the context vectors, default) or 0 (their sum)
    ns_exponent : float, 0.75, the power of the counts in the noise distribution
    shrink_windows : bool, True, draw each centre word's window from ``1..window``
    workers : ignored (training runs on one thread)
    compute_loss : bool, False, sum the loss of each epoch (``get_latest_training_loss``)
    dtype : ``"float32"`` (default, as gensim) or ``"float64"`` (for checks)
    kernel : ``"auto"`` (numba when installed and ``shendu.kernels`` is on), ``"numba"``
        or ``"numpy"``
    batch_size : int, 256, rows updated together by the NumPy trainer (1 = the kernel's
        sequential SGD, slow)

    Attributes
    ----------
    wv : :class:`KeyedVectors`, the words (most frequent first) and input vectors
    syn1neg : ``(len(wv), vector_size)``, the output vectors
    corpus_total_words : int, in-vocabulary tokens of the last corpus trained on
    training_stats : list of dicts per epoch (words, kept, seconds, words_per_second, loss)
    """

    def __init__(self, sentences=None, corpus_file=None, vector_size=100, alpha=0.025,
                 window=5, min_count=5, sample=1e-3, seed=1, workers=3, min_alpha=0.0001,
                 sg=0, hs=0, negative=5, ns_exponent=0.75, cbow_mean=1, epochs=5,
                 shrink_windows=True, compute_loss=False, dtype="float32", kernel="auto",
                 batch_size=256):
        _check_int("vector_size", vector_size, 1)
        _check_int("window", window, 1)
        _check_int("min_count", min_count, 1)
        _check_int("negative", negative, 1)
        _check_int("epochs", epochs, 1)
        _check_int("batch_size", batch_size, 1)
        if sg not in (0, 1, True, False):
            raise ValueError(f"Word2Vec: sg must be 0 (CBOW) or 1 (skip-gram), got {sg!r}")
        if cbow_mean not in (0, 1, True, False):
            raise ValueError(f"Word2Vec: cbow_mean must be 0 or 1, got {cbow_mean!r}")
        if hs:
            raise ValueError("Word2Vec: hierarchical softmax (hs=1) is not implemented; "
                             "use negative sampling (hs=0, negative=5)")
        for name, v in (("alpha", alpha), ("min_alpha", min_alpha), ("sample", sample)):
            if not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise ValueError(f"Word2Vec: {name} must be a number >= 0, got {v!r}")
        if min_alpha > alpha:
            raise ValueError(f"Word2Vec: min_alpha={min_alpha} is above alpha={alpha}")
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise ValueError(f"Word2Vec: dtype must be float32 or float64, got {dtype!r}")
        if kernel not in ("auto", "numba", "numpy"):
            raise ValueError(f"Word2Vec: kernel must be 'auto', 'numba' or 'numpy', got {kernel!r}")
        if kernel == "numba" and _kernel_module() is None:
            raise ImportError('Word2Vec(kernel="numba") needs numba: pip install "shendu[jit]" '
                              "(or pip install numba), and shendu.kernels switched on")
        if sentences is not None and corpus_file is not None:
            raise ValueError("Word2Vec: give sentences or corpus_file, not both")
        self.vector_size, self.window, self.min_count = int(vector_size), int(window), int(min_count)
        self.sg, self.negative, self.sample = int(sg), int(negative), float(sample)
        self.alpha, self.min_alpha, self.epochs = float(alpha), float(min_alpha), int(epochs)
        self.seed, self.cbow_mean, self.ns_exponent = int(seed), int(cbow_mean), float(ns_exponent)
        self.shrink_windows, self.batch_size = bool(shrink_windows), int(batch_size)
        self.compute_loss, self.workers = bool(compute_loss), workers
        self.dtype, self.kernel = np.dtype(dtype), kernel
        self.wv = None
        self.syn1neg = None
        self.corpus_total_words = 0
        self.epochs_trained = 0
        self.training_stats = []
        self.running_training_loss = 0.0
        if corpus_file is not None:
            sentences = LineSentence(corpus_file)
        if sentences is not None and iter(sentences) is sentences:
            sentences = list(sentences)  # a generator: read it once, train on the copy
        if sentences is not None:
            self.build_vocab(sentences)
            self.train(sentences)

    # ------------------------------------------------------------- vocabulary
    def build_vocab(self, corpus_iterable=None, corpus_file=None):
        """Count the words, keep those seen ``min_count`` times or more (most frequent
        first, ties in order of first appearance), make the subsampling and noise tables
        and initialise the vectors (input: uniform in ``+-1 / vector_size`` as gensim 4 does;
        word2vec.c's half that trains CBOW more slowly; output: 0)."""
        if corpus_file is not None:
            corpus_iterable = LineSentence(corpus_file)
        counter = Counter()
        for sentence in _sentences(corpus_iterable, "build_vocab"):
            counter.update(sentence)
        if not counter:
            raise ValueError("Word2Vec.build_vocab: the corpus is empty (no sentence has a word)")
        kept = [(w, c) for w, c in counter.items() if c >= self.min_count]
        if not kept:
            raise ValueError(f"Word2Vec.build_vocab: no word occurs min_count={self.min_count} "
                             f"times or more (the most frequent, {counter.most_common(1)[0][0]!r},"
                             f" occurs {counter.most_common(1)[0][1]} times); lower min_count")
        order = sorted(range(len(kept)), key=lambda i: -kept[i][1])  # stable: first seen first
        keys = [kept[i][0] for i in order]
        counts = np.array([kept[i][1] for i in order], dtype=np.int64)
        rng = np.random.default_rng(self.seed)
        vectors = (rng.random((len(keys), self.vector_size)) * 2.0 - 1.0) / self.vector_size
        self.wv = KeyedVectors(keys, vectors.astype(self.dtype), counts, self.min_count)
        self.syn1neg = np.zeros_like(self.wv.vectors)
        self._make_tables()
        return self

    def _make_tables(self):
        counts = self.wv.counts
        self.sample_int, self.keep_probability = sample_ints(counts, self.sample)
        self.neg_accept, self.neg_alias = alias_table(counts.astype(np.float64) ** self.ns_exponent)

    def encode(self, corpus_iterable):
        """The corpus as word ids: ``(tokens, bounds)``, int32 ``(n,)`` (unknown words
        dropped) and int64 ``(sentences + 1,)`` offsets where each sentence starts."""
        index = self.wv.key_to_index
        ids, lengths = [], []
        for sentence in _sentences(corpus_iterable, "train"):
            row = [index[w] for w in sentence if w in index]
            for s in range(0, len(row), MAX_WORDS_IN_SENTENCE):
                piece = row[s:s + MAX_WORDS_IN_SENTENCE]
                if piece:
                    ids.extend(piece)
                    lengths.append(len(piece))
        return np.array(ids, dtype=np.int32), np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])

    # ---------------------------------------------------------------- training
    def train(self, corpus_iterable=None, corpus_file=None, epochs=None, start_alpha=None,
              end_alpha=None, compute_loss=None, total_examples=None, total_words=None):
        """Train on a corpus (``total_examples``/``total_words`` are accepted for gensim's
        signature; the corpus is read once into memory). Returns ``(words kept by
        subsampling, in-vocabulary words)`` summed over the epochs, as gensim does."""
        if self.wv is None:
            raise RuntimeError("Word2Vec.train: build the vocabulary first (build_vocab), or "
                               "pass the corpus to Word2Vec(sentences)")
        if corpus_file is not None:
            corpus_iterable = LineSentence(corpus_file)
        epochs = self.epochs if epochs is None else int(epochs)
        alpha0 = self.alpha if start_alpha is None else float(start_alpha)
        alpha1 = self.min_alpha if end_alpha is None else float(end_alpha)
        loss_on = self.compute_loss if compute_loss is None else bool(compute_loss)
        tokens, bounds = self.encode(corpus_iterable)
        if tokens.size == 0:
            raise ValueError("Word2Vec.train: no word of the corpus is in the vocabulary")
        self.corpus_total_words = int(tokens.size)
        jit = None if self.kernel == "numpy" else _kernel_module()
        if jit is None:
            sent_id = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
        kw = dict(window=self.window, negative=self.negative, sg=self.sg,
                  cbow_mean=self.cbow_mean, shrink=self.shrink_windows, sample=self.sample > 0,
                  alpha0=alpha0, min_alpha=alpha1, total=float(epochs * tokens.size),
                  compute_loss=loss_on)
        syn0, kept_total = self.wv.vectors, 0
        for e in range(epochs):
            key = epoch_key(self.seed, self.epochs_trained)
            start = time.perf_counter()
            if jit is not None:
                kept, loss = jit.train_epoch(
                    tokens, bounds, syn0, self.syn1neg, self.sample_int, self.neg_accept,
                    self.neg_alias, np.uint64(key), kw["window"], kw["negative"], kw["sg"],
                    kw["cbow_mean"], kw["shrink"], kw["sample"], kw["alpha0"], kw["min_alpha"],
                    float(e * tokens.size), kw["total"], kw["compute_loss"])
            else:
                kept, loss = train_epoch_numpy(
                    tokens, sent_id, syn0, self.syn1neg, sample_int=self.sample_int,
                    accept=self.neg_accept, alias=self.neg_alias, key=key,
                    t0=e * tokens.size, batch_size=self.batch_size, **kw)
            seconds = time.perf_counter() - start
            self.epochs_trained += 1
            self.running_training_loss = float(loss)
            kept_total += int(kept)
            self.training_stats.append(dict(
                epoch=self.epochs_trained, words=int(tokens.size), kept=int(kept),
                seconds=seconds, words_per_second=tokens.size / max(seconds, 1e-12),
                loss=float(loss) if loss_on else None,
                kernel="numba" if jit is not None else "numpy"))
        if not np.isfinite(syn0).all():
            raise FloatingPointError("Word2Vec.train: the vectors became inf/NaN; lower alpha")
        self.wv.fill_norms()
        return kept_total, epochs * int(tokens.size)

    def get_latest_training_loss(self):
        """The summed loss of the last epoch (with ``compute_loss=True``)."""
        return self.running_training_loss

    # ------------------------------------------------------------- save / load
    def save(self, fname):
        """Save the whole model (both matrices, the vocabulary with counts, the settings)
        to one safetensors file with a JSON header; no pickle."""
        if self.wv is None:
            raise RuntimeError("Word2Vec.save: nothing to save, the model has no vocabulary yet")
        config = {k: getattr(self, k) for k in _CONFIG}
        config["dtype"] = self.dtype.name
        _save({"format": _FORMAT, "config": config, "wv": self.wv.state(),
               "syn1neg": self.syn1neg, "epochs_trained": self.epochs_trained}, fname)

    @classmethod
    def load(cls, fname, kernel="auto"):
        """Load what :meth:`save` wrote; training can go on with :meth:`train`."""
        state = _load(fname, as_tensors=False)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"Word2Vec.load: {fname} was not written by Word2Vec.save")
        model = cls(kernel=kernel, **state["config"])
        model.wv = KeyedVectors.from_state(state["wv"])
        model.syn1neg = state["syn1neg"]
        model.epochs_trained = state["epochs_trained"]
        model._make_tables()
        return model

    def __repr__(self):
        arch = "skip-gram" if self.sg else "CBOW"
        size = "no vocabulary" if self.wv is None else f"{len(self.wv)} words"
        return f"Word2Vec({arch}, {size}, vector_size={self.vector_size}, window={self.window})"


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"Word2Vec: {name} must be an int >= {low}, got {value!r}")


def _sentences(corpus, who):
    """Yield the sentences, checking that each is a list of str tokens."""
    if corpus is None:
        raise ValueError(f"Word2Vec.{who}: give a corpus (sentences or corpus_file)")
    if isinstance(corpus, str):
        raise TypeError(f"Word2Vec.{who}: the corpus is one str; give a list of sentences, "
                        "each a list of words (e.g. [line.split() for line in text.splitlines()])")
    for sentence in corpus:
        if isinstance(sentence, str):
            raise TypeError(f"Word2Vec.{who}: each sentence must be a list of str tokens, got "
                            f"the str {sentence[:40]!r}: split it first (sentence.split() or "
                            "shendu.data.text.word_tokenize)")
        sentence = list(sentence)
        if sentence and not all(isinstance(w, str) for w in sentence):
            bad = next(w for w in sentence if not isinstance(w, str))
            raise TypeError(f"Word2Vec.{who}: tokens must be str, got {type(bad).__name__} "
                            f"{bad!r}")
        yield sentence
