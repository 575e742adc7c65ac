"""Word vectors looked up by word: :class:`KeyedVectors` (gensim's names), the plain
word2vec text and binary formats, and save/load without pickle.

The word2vec format (Mikolov's word2vec.c, read by gensim, fastText, spaCy, ...) is a
header line ``"<words> <dimensions>"`` and then one line per word: the word, a space and
its numbers. In the text format the numbers are written out (here with 9 significant
digits, enough to read a float32 back exactly); in the binary format they are
``dimensions`` little-endian float32 values followed by a newline.

>>> import numpy as np
>>> from shendu.models.word2vec import KeyedVectors
>>> wv = KeyedVectors(["king", "queen", "apple"],
...                   np.array([[1.0, 0.9, 0.0], [0.9, 1.0, 0.1], [0.0, 0.1, 1.0]]))
>>> wv.most_similar("king", topn=1)[0][0]
'queen'
>>> round(wv.similarity("king", "apple"), 4)
0.0666
>>> wv.doesnt_match(["king", "queen", "apple"])
'apple'
"""
from __future__ import annotations

import io
import os

import numpy as np

from ..io.serialization import atomic_write, load as _load, save as _save

__all__ = ["KeyedVectors", "UnknownWordError"]

_FORMAT = "shendu-keyedvectors-1"


class UnknownWordError(KeyError):
    """A word that is not in the vocabulary (a ``KeyError`` with a readable message)."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


class KeyedVectors:
    """A vocabulary of ``n`` words and their vectors, ``vectors`` of shape ``(n, d)``.

    ``wv[word]`` is a word's vector ``(d,)``, ``wv[[w1, w2]]`` a ``(2, d)`` array;
    ``key_to_index`` / ``index_to_key`` map words to rows and back. Similarities are
    cosines, ``u . v / (|u| |v|)``.

    Parameters
    ----------
    keys : sequence of str, the words in row order (distinct)
    vectors : array ``(len(keys), d)``
    counts : optional int array ``(len(keys),)``, how often each word was seen
    min_count : optional int, the threshold that built the vocabulary (only used to say,
        when a word is missing, that rarer words were dropped)
    """

    def __init__(self, keys, vectors, counts=None, min_count=None):
        keys = list(keys)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or vectors.shape[0] != len(keys):
            raise ValueError(f"KeyedVectors: vectors must have shape ({len(keys)}, d) for "
                             f"{len(keys)} keys, got {vectors.shape}")
        for k in keys:
            if not isinstance(k, str):
                raise TypeError(f"KeyedVectors: keys must be str, got {type(k).__name__} {k!r}")
        self.index_to_key = keys
        self.key_to_index = {k: i for i, k in enumerate(keys)}
        if len(self.key_to_index) != len(keys):
            raise ValueError("KeyedVectors: keys must be distinct")
        self.vectors = vectors
        self.counts = None if counts is None else np.asarray(counts, dtype=np.int64)
        self.min_count = min_count
        self._normed = None

    # ------------------------------------------------------------- lookups
    @property
    def vector_size(self):
        """The number of dimensions ``d``."""
        return self.vectors.shape[1]

    def __len__(self):
        return len(self.index_to_key)

    def __contains__(self, key):
        return key in self.key_to_index

    def __repr__(self):
        return f"KeyedVectors({len(self)} words, vector_size={self.vector_size})"

    def get_index(self, key):
        """The row of ``key``; raises :class:`UnknownWordError` (a KeyError) naming it."""
        i = self.key_to_index.get(key)
        if i is not None:
            return i
        hint = ""
        if self.min_count is not None and self.min_count > 1:
            hint = (f"; words seen fewer than min_count={self.min_count} times were dropped, "
                    "train with a lower min_count to keep rarer words")
        raise UnknownWordError(f"word {key!r} is not in the vocabulary ({len(self)} words"
                               f"{hint})")

    def get_vector(self, key, norm=False):
        """The vector of ``key`` ``(d,)``, scaled to length 1 when ``norm``."""
        i = self.get_index(key)
        return self.get_normed_vectors()[i] if norm else self.vectors[i]

    def __getitem__(self, keys):
        if isinstance(keys, str):
            return self.get_vector(keys)
        return np.stack([self.get_vector(k) for k in keys])

    def get_vecattr(self, key, attr):
        """A per-word attribute; ``"count"`` (how often the word was seen) is kept."""
        if attr != "count" or self.counts is None:
            raise KeyError(f"KeyedVectors.get_vecattr: no attribute {attr!r} (only 'count', "
                           "when the vectors were trained or loaded with counts)")
        return int(self.counts[self.get_index(key)])

    def get_normed_vectors(self):
        """All vectors scaled to length 1 ``(n, d)`` (zero vectors stay zero); cached."""
        if self._normed is None or self._normed.shape != self.vectors.shape:
            norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
            self._normed = self.vectors / np.where(norms > 0, norms, 1)
        return self._normed

    def fill_norms(self, force=False):
        """Recompute the cached unit vectors (after changing ``vectors`` in place)."""
        self._normed = None
        self.get_normed_vectors()

    # ------------------------------------------------------------ similarity
    def similarity(self, w1, w2):
        """Cosine similarity of two words, a float in ``[-1, 1]``."""
        return float(self.get_vector(w1, norm=True) @ self.get_vector(w2, norm=True))

    def distance(self, w1, w2):
        """Cosine distance ``1 - similarity(w1, w2)``."""
        return 1.0 - self.similarity(w1, w2)

    def _as_unit(self, item, who):
        if isinstance(item, str):
            return self.get_vector(item, norm=True)
        v = np.asarray(item, dtype=np.float64)
        if v.shape != (self.vector_size,):
            raise ValueError(f"KeyedVectors.{who}: expected words or vectors of shape "
                             f"({self.vector_size},), got {v.shape}")
        n = np.linalg.norm(v)
        return v / n if n > 0 else v

    def most_similar(self, positive=None, negative=None, topn=10, restrict_vocab=None):
        """The ``topn`` words nearest (cosine) to the mean of the unit vectors of
        ``positive`` minus those of ``negative``, as ``[(word, similarity), ...]``; the
        query words themselves are left out. ``most_similar(positive=["king", "woman"],
        negative=["man"])`` is the analogy man : king = woman : ?. Words or vectors
        ``(d,)`` may be given; ``restrict_vocab=k`` searches the first (most frequent) k
        words only; ``topn=None`` returns all similarities ``(n,)``."""
        positive = [positive] if isinstance(positive, str) else list(positive or [])
        negative = [negative] if isinstance(negative, str) else list(negative or [])
        if not positive and not negative:
            raise ValueError("KeyedVectors.most_similar: give at least one positive or "
                             "negative word")
        parts = [self._as_unit(w, "most_similar") for w in positive]
        parts += [-self._as_unit(w, "most_similar") for w in negative]
        query = np.mean(parts, axis=0)
        norm = np.linalg.norm(query)
        query = query / norm if norm > 0 else query
        limit = len(self) if restrict_vocab is None else int(restrict_vocab)
        sims = self.get_normed_vectors()[:limit] @ query.astype(self.vectors.dtype)
        if topn is None:
            return sims
        skip = {self.key_to_index[w] for w in positive + negative if isinstance(w, str)}
        order = np.argsort(-sims, kind="stable")[:int(topn) + len(skip)]
        return [(self.index_to_key[i], float(sims[i])) for i in order if i not in skip][:int(topn)]

    def similar_by_vector(self, vector, topn=10, restrict_vocab=None):
        """The ``topn`` words nearest to ``vector`` ``(d,)`` (no word is left out)."""
        return self.most_similar(positive=[vector], topn=topn, restrict_vocab=restrict_vocab)

    def similar_by_word(self, word, topn=10, restrict_vocab=None):
        """``most_similar(word, topn=topn)``."""
        return self.most_similar(positive=[word], topn=topn, restrict_vocab=restrict_vocab)

    def doesnt_match(self, words):
        """The word of ``words`` furthest from the mean of their unit vectors."""
        words = [words] if isinstance(words, str) else list(words)
        if len(words) < 2:
            raise ValueError(f"KeyedVectors.doesnt_match: give two words or more, got {words}")
        vecs = np.stack([self.get_vector(w, norm=True) for w in words])
        mean = vecs.mean(axis=0)
        return words[int(np.argmin(vecs @ (mean / np.linalg.norm(mean))))]

    # ------------------------------------------------------------ word2vec format
    def save_word2vec_format(self, fname, binary=False, write_header=True):
        """Write the vectors in the word2vec text (or ``binary``) format, atomically;
        words in row order (most frequent first when trained here). A word containing
        whitespace cannot be stored in this format and raises ``ValueError``."""
        for k in self.index_to_key:
            if not k or any(c.isspace() for c in k):
                raise ValueError(f"save_word2vec_format: word {k!r} is empty or contains "
                                 "whitespace, which the word2vec format cannot store")
        out = io.BytesIO()
        n, d = self.vectors.shape
        if write_header:
            out.write(f"{n} {d}\n".encode())
        vecs = self.vectors.astype(np.float32)
        if binary:
            le = vecs.astype("<f4")
            for k, row in zip(self.index_to_key, le):
                out.write(k.encode("utf-8") + b" " + row.tobytes() + b"\n")
        else:
            lines = np.char.mod("%.9g", vecs)
            for k, row in zip(self.index_to_key, lines):
                out.write((k + " " + " ".join(row) + "\n").encode("utf-8"))
        atomic_write(fname, out.getvalue())

    @classmethod
    def load_word2vec_format(cls, fname, binary=False, limit=None, dtype=np.float32):
        """Read a word2vec text or ``binary`` file (gensim's, word2vec.c's or
        ``save_word2vec_format``'s); ``limit`` reads the first words only. A file that
        does not follow the format raises ``ValueError`` naming the file, the line (text)
        or word (binary) and what was wrong."""
        fname = os.fspath(fname)
        with open(fname, "rb") as f:
            raw = f.read()
        where = f"load_word2vec_format: {fname}"
        if not raw.strip():
            raise ValueError(f"{where} is empty (expected a '<words> <dimensions>' header)")
        nl = raw.find(b"\n")
        nl = len(raw) if nl < 0 else nl
        try:
            n, d = (int(x) for x in raw[:nl].split())
        except ValueError:
            raise ValueError(f"{where} does not start with a '<words> <dimensions>' header: "
                             f"{raw[:min(nl, 60)]!r}") from None
        if n < 0 or d < 1:
            raise ValueError(f"{where}: the header says {n} words of {d} dimensions")
        n = n if limit is None else min(n, int(limit))
        read = _read_binary if binary else _read_text
        keys, vecs = read(raw, nl + 1, n, d, where, np.dtype(dtype))
        seen = set()
        for i, k in enumerate(keys):
            if k in seen:
                raise ValueError(f"{where}: word {k!r} occurs twice (again as word {i + 1})")
            seen.add(k)
        return cls(keys, vecs)

    # ------------------------------------------------------------ full save/load
    def state(self):
        """The vectors, words and counts as a dict of arrays and plain values."""
        return {"format": _FORMAT, "index_to_key": list(self.index_to_key),
                "vectors": self.vectors, "counts": self.counts, "min_count": self.min_count}

    @classmethod
    def from_state(cls, state):
        return cls(state["index_to_key"], state["vectors"], state.get("counts"),
                   state.get("min_count"))

    def save(self, fname):
        """Save to a safetensors file (vectors) with the words in its JSON header; no pickle."""
        _save(self.state(), fname)

    @classmethod
    def load(cls, fname):
        """Load what :meth:`save` wrote."""
        state = _load(fname, as_tensors=False)
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            raise ValueError(f"KeyedVectors.load: {fname} was not written by KeyedVectors.save")
        return cls.from_state(state)


def _read_text(raw, at, n, d, where, dtype):
    """The ``n`` word lines after the header: ``word x_1 ... x_d``."""
    keys, vecs = [], np.empty((n, d), dtype=dtype)
    for i in range(n):
        if at >= len(raw):
            raise ValueError(f"{where} ends after {i} word lines; the header says {n}")
        end = raw.find(b"\n", at)
        end = len(raw) if end < 0 else end
        try:
            parts = raw[at:end].decode("utf-8").rstrip().split(" ")
        except UnicodeDecodeError as e:
            raise ValueError(f"{where}: line {i + 2} is not UTF-8 ({e.reason}); a binary "
                             "file? pass binary=True") from None
        if len(parts) != d + 1:
            raise ValueError(f"{where}: line {i + 2} has {len(parts) - 1} numbers after the "
                             f"word, the header says {d}")
        try:
            vecs[i] = np.array(parts[1:], dtype=np.float64)
        except ValueError:
            bad = next(p for p in parts[1:] if not _is_number(p))
            raise ValueError(f"{where}: line {i + 2} (word {parts[0]!r}) has {bad[:20]!r} "
                             "where a number should be") from None
        keys.append(parts[0])
        at = end + 1
    return keys, vecs


def _read_binary(raw, at, n, d, where, dtype):
    """The ``n`` records after the header: ``word`` a space, ``d`` little-endian float32."""
    keys, vecs = [], np.empty((n, d), dtype=dtype)
    for i in range(n):
        while raw[at:at + 1] == b"\n":  # the newline after the previous vector
            at += 1
        sp = raw.find(b" ", at)
        if sp < 0 or sp + 1 + 4 * d > len(raw):
            raise ValueError(f"{where} ends at word {i + 1} of {n} (binary format; a text "
                             "file? pass binary=False)")
        try:
            keys.append(raw[at:sp].decode("utf-8"))
        except UnicodeDecodeError:
            raise ValueError(f"{where}: word {i + 1} is not UTF-8 text: {raw[at:sp][:40]!r}"
                             ) from None
        vecs[i] = np.frombuffer(raw, dtype="<f4", count=d, offset=sp + 1)
        at = sp + 1 + 4 * d
    return keys, vecs


def _is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
