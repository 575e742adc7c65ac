"""Text tools: tokenizers, character and word vocabularies, 1-of-N encoding, padded
batches and a seeded train/validation/test split.

A vocabulary maps tokens to integer ids. Four special tokens come first, so their ids
are fixed: ``<pad>`` 0 (fills short sequences of a batch), ``<sos>`` 1 (start of
sequence, the decoder's first input), ``<eos>`` 2 (end of sequence, where the decoder
stops), ``<unk>`` 3 (any token the vocabulary has not seen).

>>> from shendu.data.text import Vocab, pad_batch
>>> vocab = Vocab.build(["Suzuki", "Chang"], level="char")
>>> len(vocab), vocab.itos[:5]
(14, ['<pad>', '<sos>', '<eos>', '<unk>', 'u'])
>>> ids = vocab.encode("Chang", add_eos=True); ids
[5, 9, 7, 12, 8, 2]
>>> vocab.decode(ids)
'Chang'
>>> batch, lengths = pad_batch([vocab.encode("Suzuki"), ids]); batch.shape, lengths.tolist()
((2, 6), [6, 6])
>>> vocab.one_hot("ab").shape      # 'a' known, 'b' is <unk>
(2, 14)
"""
from __future__ import annotations

import json
import math
import numbers
import os
import re
import tempfile
from collections import Counter
from typing import Iterable

import numpy as np

from ..autograd.tensor import Tensor
from .transforms import one_hot

__all__ = ["Vocab", "PAD", "SOS", "EOS", "UNK", "SPECIALS", "char_tokenize", "word_tokenize",
           "one_hot", "pad_batch", "lengths_to_mask", "train_val_test_split"]

PAD, SOS, EOS, UNK = "<pad>", "<sos>", "<eos>", "<unk>"
SPECIALS = (PAD, SOS, EOS, UNK)

_WORD_RE = re.compile(r"\w+(?:'\w+)*|[^\w\s]")


# ----------------------------------------------------------------- tokenizers
def char_tokenize(text):
    """Split ``text`` into characters: ``"Chang" -> ['C', 'h', 'a', 'n', 'g']``."""
    if not isinstance(text, str):
        raise TypeError(f"char_tokenize expects a str, got {type(text).__name__}")
    return list(text)


def word_tokenize(text, lower=False):
    """Split ``text`` into words and punctuation marks (whitespace is dropped).

    A word is a run of letters, digits and underscores, with inner apostrophes kept
    (``"don't"``); every other non-space character is a token of its own.

    >>> word_tokenize("To be, or not to be: that's it.")
    ['To', 'be', ',', 'or', 'not', 'to', 'be', ':', "that's", 'it', '.']
    """
    if not isinstance(text, str):
        raise TypeError(f"word_tokenize expects a str, got {type(text).__name__}")
    return _WORD_RE.findall(text.lower() if lower else text)


_TOKENIZERS = {"char": char_tokenize, "word": word_tokenize}


# ------------------------------------------------------------------ vocabulary
def _as_index_list(indices, who):
    if isinstance(indices, Tensor):
        indices = indices.numpy() if hasattr(indices, "numpy") else np.asarray(indices._data)
    if hasattr(indices, "get") and not isinstance(indices, (np.ndarray, list, tuple)):
        indices = indices.get()  # a CuPy array
    arr = np.asarray(indices)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{who} expects a 1-D sequence of integer ids, got shape "
                         f"{arr.shape} and dtype {arr.dtype}")
    return arr.astype(np.int64).tolist()


class Vocab:
    """A token <-> id mapping with special tokens first (``<pad>`` is id 0).

    Parameters
    ----------
    tokens : iterable of str, the ordinary tokens in id order (after the specials);
        duplicates and tokens equal to a special are skipped.
    specials : sequence of str, default ``("<pad>", "<sos>", "<eos>", "<unk>")``
        The special tokens, given ids ``0, 1, ...`` in this order. Without ``<unk>``,
        encoding an unknown token raises ``KeyError``.
    level : ``"char"`` or ``"word"``
        How ``encode`` splits a str (characters or words) and how ``decode`` joins
        tokens (``""`` or ``" "``). A list of tokens is encoded as given at any level.
    lower : bool, default False
        Lower-case text before splitting it (both when building and encoding).

    Attributes
    ----------
    itos : list of str, ``itos[i]`` is the token with id ``i``
    stoi : dict str -> int
    pad_index, sos_index, eos_index, unk_index : ids of the specials (None if absent)

    Build one from texts with ``Vocab.build`` (frequency threshold, size limit), or from a
    ``collections.Counter`` with ``Vocab.from_counter``. Save it next to a model with
    ``vocab.save(path)`` / ``Vocab.load(path)`` (JSON).
    """

    def __init__(self, tokens: Iterable[str] = (), specials=SPECIALS, level="char", lower=False):
        if level not in _TOKENIZERS:
            raise ValueError(f"Vocab: level must be 'char' or 'word', got {level!r}")
        specials = tuple(specials)
        if len(set(specials)) != len(specials):
            raise ValueError(f"Vocab: specials must be distinct, got {specials}")
        self.level, self.lower, self.specials = level, bool(lower), specials
        self.itos = list(specials)
        self.stoi = {s: i for i, s in enumerate(self.itos)}
        for tok in tokens:
            if not isinstance(tok, str):
                raise TypeError(f"Vocab: tokens must be str, got {type(tok).__name__} {tok!r}")
            if tok not in self.stoi:
                self.stoi[tok] = len(self.itos)
                self.itos.append(tok)
        self._special_ids = frozenset(range(len(specials)))

    # --------------------------------------------------------------- building
    @classmethod
    def build(cls, texts, level="char", min_freq=1, max_size=None, specials=SPECIALS,
              lower=False, order="frequency"):
        """A vocabulary of the tokens in ``texts``.

        Parameters
        ----------
        texts : iterable of str (split at ``level``) or of token lists
        level : ``"char"`` or ``"word"``
        min_freq : int, keep tokens seen at least this often (rarer ones become ``<unk>``)
        max_size : int, optional, at most this many ordinary tokens (the most frequent;
            the specials come on top)
        order : ``"frequency"`` (most frequent first, ties alphabetical) or
            ``"alphabetical"``; either way the result does not depend on text order.

        >>> Vocab.build(["to be or not to be"], level="word", min_freq=2).itos[4:]
        ['be', 'to']
        """
        tokenize = _TOKENIZERS.get(level)
        if tokenize is None:
            raise ValueError(f"Vocab.build: level must be 'char' or 'word', got {level!r}")
        if isinstance(texts, str):
            texts = [texts]
        counter = Counter()
        for text in texts:
            if isinstance(text, str):
                counter.update(tokenize(text.lower() if lower else text))
            else:
                counter.update(text)
        return cls.from_counter(counter, level=level, min_freq=min_freq, max_size=max_size,
                                specials=specials, lower=lower, order=order)

    @classmethod
    def from_counter(cls, counter, level="char", min_freq=1, max_size=None, specials=SPECIALS,
                     lower=False, order="frequency"):
        """A vocabulary from token counts (a ``Counter`` or a dict token -> count); see
        ``build`` for the arguments."""
        if isinstance(min_freq, bool) or not isinstance(min_freq, numbers.Integral) \
                or min_freq < 1:
            raise ValueError(f"Vocab: min_freq must be an int >= 1, got {min_freq!r}")
        if max_size is not None and (isinstance(max_size, bool) or
                                     not isinstance(max_size, numbers.Integral) or max_size < 0):
            raise ValueError(f"Vocab: max_size must be None or an int >= 0, got {max_size!r}")
        if order not in ("frequency", "alphabetical"):
            raise ValueError(f"Vocab: order must be 'frequency' or 'alphabetical', got {order!r}")
        kept = [(tok, c) for tok, c in counter.items() if c >= min_freq and tok not in specials]
        kept.sort(key=lambda tc: (-tc[1], tc[0]))  # most frequent first, ties alphabetical
        if max_size is not None:
            kept = kept[:max_size]
        tokens = [t for t, _ in kept]
        if order == "alphabetical":
            tokens.sort()
        return cls(tokens, specials=specials, level=level, lower=lower)

    # ----------------------------------------------------------------- lookup
    def __len__(self):
        return len(self.itos)

    def __contains__(self, token):
        return token in self.stoi

    def __getitem__(self, token):
        """The id of ``token`` (``<unk>``'s id for an unknown token)."""
        i = self.stoi.get(token)
        if i is None:
            if self.unk_index is None:
                raise KeyError(f"Vocab: token {token!r} is not in the vocabulary and there is "
                               f"no {UNK} special to stand for it")
            return self.unk_index
        return i

    def __iter__(self):
        return iter(self.itos)

    def __eq__(self, other):
        return isinstance(other, Vocab) and self.to_dict() == other.to_dict()

    def __repr__(self):
        shown = ", ".join(repr(t) for t in self.itos[len(self.specials):][:8])
        more = ", ..." if len(self) - len(self.specials) > 8 else ""
        return f"Vocab(size={len(self)}, level={self.level!r}, tokens=[{shown}{more}])"

    def _special(self, token):
        return self.stoi.get(token) if token in self.specials else None

    @property
    def pad_index(self):
        return self._special(PAD)

    @property
    def sos_index(self):
        return self._special(SOS)

    @property
    def eos_index(self):
        return self._special(EOS)

    @property
    def unk_index(self):
        return self._special(UNK)

    def lookup_token(self, index):
        """The token with id ``index``."""
        if not 0 <= index < len(self.itos):
            raise IndexError(f"Vocab: id {index} is out of range for a vocabulary of "
                             f"{len(self.itos)} tokens")
        return self.itos[index]

    # ------------------------------------------------------- encode / decode
    def tokenize(self, text):
        """Split ``text`` at this vocabulary's level (lower-cased if ``lower``)."""
        return _TOKENIZERS[self.level](text.lower() if self.lower else text)

    def encode(self, text, add_sos=False, add_eos=False):
        """Ids of a str (split at ``level``) or of a list of tokens.

        Unknown tokens get ``<unk>``'s id. ``add_sos``/``add_eos`` put ``<sos>`` in
        front and ``<eos>`` at the end.
        """
        tokens = self.tokenize(text) if isinstance(text, str) else list(text)
        ids = [self[t] for t in tokens]
        if add_sos:
            ids.insert(0, self._need(SOS, "add_sos"))
        if add_eos:
            ids.append(self._need(EOS, "add_eos"))
        return ids

    def _need(self, special, what):
        i = self._special(special)
        if i is None:
            raise ValueError(f"Vocab.encode({what}=True): this vocabulary has no {special} "
                             f"special (specials: {list(self.specials)})")
        return i

    def encode_batch(self, texts, add_sos=False, add_eos=False, max_len=None):
        """Encode several texts into one padded int64 array.

        Returns ``(ids, lengths)``: ids ``(N, L)`` padded with ``<pad>`` (id 0), lengths
        ``(N,)``; see ``pad_batch``.
        """
        pad = self.pad_index
        if pad is None:
            raise ValueError("Vocab.encode_batch needs a <pad> special to fill short sequences")
        return pad_batch([self.encode(t, add_sos, add_eos) for t in texts], pad_index=pad,
                         max_len=max_len)

    def decode(self, indices, strip_specials=True, stop_at_eos=True, join=True):
        """Turn ids back into text.

        Parameters
        ----------
        indices : 1-D list, array or Tensor of ids
        strip_specials : drop ``<pad>``, ``<sos>``, ``<eos>`` (``<unk>`` is kept, since it
            stands for a real token)
        stop_at_eos : ignore everything from the first ``<eos>`` on (a decoder's output
            after ``<eos>`` means nothing)
        join : True gives a str (tokens joined by ``""`` at char level, ``" "`` at word
            level); False gives the list of tokens.
        """
        ids = _as_index_list(indices, "Vocab.decode")
        eos = self.eos_index
        if stop_at_eos and eos is not None and eos in ids:
            ids = ids[:ids.index(eos)]
        unk = self.unk_index
        tokens = [self.lookup_token(i) for i in ids
                  if not (strip_specials and i in self._special_ids and i != unk)]
        if not join:
            return tokens
        return ("" if self.level == "char" else " ").join(tokens)

    def decode_batch(self, batch, strip_specials=True, stop_at_eos=True):
        """``decode`` each row of an ``(N, L)`` array/Tensor (or list of sequences)."""
        if isinstance(batch, Tensor):
            batch = np.asarray(batch.numpy() if hasattr(batch, "numpy") else batch._data)
        return [self.decode(row, strip_specials, stop_at_eos) for row in batch]

    def one_hot(self, seq, dtype=np.float32):
        """1-of-N vectors (N = ``len(self)``) of a text or of ids, any shape ``S``:
        returns ``S + (len(self),)`` (a Tensor for a Tensor)."""
        if isinstance(seq, str):
            seq = np.asarray(self.encode(seq), dtype=np.int64)
        elif isinstance(seq, (list, tuple)):
            seq = np.asarray(seq, dtype=np.int64)
        return one_hot(seq, num_classes=len(self), dtype=dtype)

    # ------------------------------------------------------------- saving
    def to_dict(self):
        """A JSON-ready dict: ``{"itos": [...], "specials": [...], "level": ...,
        "lower": ...}``."""
        return {"itos": list(self.itos), "specials": list(self.specials), "level": self.level,
                "lower": self.lower}

    @classmethod
    def from_dict(cls, d):
        """The inverse of ``to_dict``."""
        try:
            itos, specials = list(d["itos"]), list(d["specials"])
        except (KeyError, TypeError):
            raise ValueError("Vocab.from_dict expects a dict with 'itos' and 'specials' keys "
                             "(what Vocab.to_dict gives)") from None
        if itos[:len(specials)] != specials:
            raise ValueError(f"Vocab.from_dict: itos must start with the specials {specials}, "
                             f"got {itos[:len(specials)]}")
        v = cls(itos[len(specials):], specials=specials, level=d.get("level", "char"),
                lower=d.get("lower", False))
        if len(v) != len(itos):
            raise ValueError("Vocab.from_dict: itos has repeated tokens")
        return v

    def save(self, path):
        """Write the vocabulary as JSON, atomically (temp file, fsync, rename)."""
        data = json.dumps(self.to_dict(), ensure_ascii=False, indent=1).encode("utf-8")
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path):
        """Read a vocabulary written by ``save``."""
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))


# --------------------------------------------------------------- batching
def pad_batch(sequences, pad_index=0, max_len=None, padding="post", truncating="post",
              dtype=np.int64):
    """Stack sequences of different lengths into one padded array.

    Parameters
    ----------
    sequences : list of 1-D sequences of ids (lists, arrays, Tensors)
    pad_index : the id that fills the gaps (``<pad>`` = 0)
    max_len : int, optional, the width ``L``; default the longest sequence. Longer
        sequences are cut.
    padding : ``"post"`` (pad at the end, PyTorch's habit) or ``"pre"`` (Keras'
        ``pad_sequences`` default)
    truncating : ``"post"`` (keep the start) or ``"pre"`` (keep the end)

    Returns
    -------
    ids : int64 array ``(N, L)``
    lengths : int64 array ``(N,)``, each sequence's length after cutting (what
        ``pack_padded_sequence`` and attention masks need)

    >>> ids, lengths = pad_batch([[5, 6, 7], [8]]); ids
    array([[5, 6, 7],
           [8, 0, 0]])
    >>> lengths
    array([3, 1])
    """
    if padding not in ("post", "pre") or truncating not in ("post", "pre"):
        raise ValueError(f"pad_batch: padding and truncating must be 'post' or 'pre', got "
                         f"{padding!r} and {truncating!r}")
    seqs = []
    for k, s in enumerate(sequences):
        if isinstance(s, Tensor):
            s = s.numpy() if hasattr(s, "numpy") else s._data
        a = np.asarray(s)
        if a.ndim != 1:
            raise ValueError(f"pad_batch: sequence {k} has shape {a.shape}; each sequence must "
                             f"be 1-D (a list of ids)")
        seqs.append(a)
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    if max_len is None:
        max_len = int(lengths.max()) if len(seqs) else 0
    elif isinstance(max_len, bool) or not isinstance(max_len, numbers.Integral) or max_len < 0:
        raise ValueError(f"pad_batch: max_len must be None or an int >= 0, got {max_len!r}")
    out = np.full((len(seqs), int(max_len)), pad_index, dtype=dtype)
    lengths = np.minimum(lengths, max_len)
    for row, s, n in zip(out, seqs, lengths):  # one loop per sequence, copies are slices
        if n == 0:
            continue
        piece = s[:n] if truncating == "post" else s[len(s) - n:]
        if padding == "post":
            row[:n] = piece
        else:
            row[max_len - n:] = piece
    return out, lengths


def lengths_to_mask(lengths, max_len=None):
    """Boolean ``(N, L)`` mask, True at the real (not padded) positions of a post-padded
    batch: ``mask[i, t] = t < lengths[i]``. Pass it as ``mask=`` to the attention modules.

    >>> lengths_to_mask([2, 3])
    array([[ True,  True, False],
           [ True,  True,  True]])
    """
    if isinstance(lengths, Tensor):
        lengths = lengths.numpy() if hasattr(lengths, "numpy") else lengths._data
    lengths = np.asarray(lengths)
    if lengths.ndim != 1:
        raise ValueError(f"lengths_to_mask expects 1-D lengths, got shape {lengths.shape}")
    if max_len is None:
        max_len = int(lengths.max()) if lengths.size else 0
    return np.arange(max_len)[None, :] < lengths[:, None]


# -------------------------------------------------------------- splitting
def _round_half_up(x):
    return int(math.floor(x + 0.5))


def _take(items, idx):
    if isinstance(items, Tensor):
        return items[Tensor._make(idx)] if len(idx) else items[idx]
    if isinstance(items, np.ndarray) or (hasattr(items, "shape") and hasattr(items, "__getitem__")
                                         and not hasattr(items, "iloc")):
        return items[idx]
    if hasattr(items, "iloc"):
        return items.iloc[idx]
    taken = [items[i] for i in idx.tolist()]
    return tuple(taken) if isinstance(items, tuple) else taken


def train_val_test_split(items, fractions=(0.8, 0.1, 0.1), seed=0, stratify=None,
                         return_indices=False):
    """Shuffle ``items`` with a seeded generator and cut them into train, validation and
    test parts.

    Parameters
    ----------
    items : a sequence (list, tuple, array, Tensor) of N samples, or an int N (then the
        parts are index arrays into ``range(N)``)
    fractions : three non-negative shares (train, val, test) summing to 1. The
        validation and test sizes are rounded (half up), the train part gets the rest.
    seed : int or numpy Generator; the same seed gives the same split
    stratify : N labels, optional: split each class separately with the same fractions,
        so every part keeps the class shares (up to rounding per class).
    return_indices : also return the three index arrays (to split other arrays, e.g.
        the labels, the same way)

    Returns
    -------
    ``(train, val, test)`` of the same kind as ``items`` (lists stay lists), or
    ``((train, val, test), (train_idx, val_idx, test_idx))`` with ``return_indices``.

    >>> train, val, test = train_val_test_split(list(range(10)), seed=0)
    >>> len(train), len(val), len(test), sorted(train + val + test) == list(range(10))
    (8, 1, 1, True)
    """
    if isinstance(items, numbers.Integral) and not isinstance(items, bool):
        n, items = int(items), np.arange(int(items))
    else:
        n = items.shape[0] if hasattr(items, "shape") and len(items.shape) else len(items)
    fr = [float(f) for f in fractions]
    if len(fr) != 3 or any(not (0.0 <= f <= 1.0) for f in fr) \
            or not math.isclose(sum(fr), 1.0, abs_tol=1e-6):
        raise ValueError(f"train_val_test_split: fractions must be three shares in [0, 1] "
                         f"summing to 1 (train, val, test), got {tuple(fractions)}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    def cut(members):
        m = len(members)
        n_val, n_test = _round_half_up(fr[1] * m), _round_half_up(fr[2] * m)
        if n_val + n_test > m:  # only when train's share is ~0 and both round up
            n_test = m - n_val
        members = rng.permutation(members)
        return (members[n_val + n_test:], members[:n_val], members[n_val:n_val + n_test])

    if stratify is None:
        parts = cut(np.arange(n))
    else:
        if isinstance(stratify, Tensor):
            stratify = stratify.numpy() if hasattr(stratify, "numpy") else stratify._data
        labels = np.asarray(stratify)
        if labels.shape[:1] != (n,):
            raise ValueError(f"train_val_test_split: stratify has {labels.shape[:1] or 0} "
                             f"labels for {n} items")
        _, y = np.unique(labels, return_inverse=True, axis=0 if labels.ndim > 1 else None)
        y = y.reshape(-1)
        pieces = [cut(np.flatnonzero(y == k)) for k in range(int(y.max()) + 1 if n else 0)]
        # one loop over classes (not samples), then shuffle the classes together
        parts = tuple(rng.permutation(np.concatenate([p[j] for p in pieces]).astype(np.int64))
                      if pieces else np.zeros(0, np.int64) for j in range(3))
    parts = tuple(np.asarray(p, dtype=np.int64) for p in parts)
    out = tuple(_take(items, p) for p in parts)
    return (out, parts) if return_indices else out
