"""Text datasets: surnames by language (the char-RNN classification tutorial) and
tiny-shakespeare (Karpathy's char-rnn).

Files go in ``<data dir>/names/<Language>.txt`` (one UTF-8 surname per line) and
``<data dir>/tinyshakespeare/input.txt``.

>>> from shendu.datasets import names, tiny_shakespeare   # doctest: +SKIP
>>> len(names()["Russian"]), len(tiny_shakespeare())      # doctest: +SKIP
(9408, 1115394)
"""
from __future__ import annotations

import re
import unicodedata

from .paths import data_home, find_dataset_files

__all__ = ["names", "tiny_shakespeare", "tiny_shakespeare_speeches", "NAMES_LANGUAGES"]

NAMES_LANGUAGES = ["Arabic", "Chinese", "Czech", "Dutch", "English", "French", "German",
                   "Greek", "Irish", "Italian", "Japanese", "Korean", "Polish", "Portuguese",
                   "Russian", "Scottish", "Spanish", "Vietnamese"]
_NAMES_SOURCE = "https://github.com/spro/practical-pytorch (data/names/)"
_ASCII_KEEP = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'")


def _to_ascii(s):
    """Fold accents away (NFD, drop combining marks), as the PyTorch tutorial does."""
    return "".join(c for c in unicodedata.normalize("NFD", s)
                   if unicodedata.category(c) != "Mn" and c in _ASCII_KEEP)


def names(data_dir=None, ascii=False):
    """Surnames by language: ``{"Arabic": [...], ..., "Vietnamese": [...]}`` (18 languages,
    20074 names; every ``*.txt`` file in the folder is one language).

    Parameters
    ----------
    data_dir : folder holding ``names/``; default ``$SHENDU_DATA`` or ``~/.shendu/datasets``
    ascii : bool, default False
        True: fold accented letters to ASCII and drop other characters
        (``"Ślusarski" -> "Slusarski"``), as the char-RNN tutorial does.

    Returns
    -------
    dict: language (the file's base name) -> list of names, languages in sorted order.
    """
    root = data_home(data_dir)
    for folder in (root / "names", root):
        files = sorted(folder.glob("*.txt")) if folder.is_dir() else []
        if any(f.stem in NAMES_LANGUAGES for f in files):  # not just any folder of .txt files
            break
    else:
        find_dataset_files("names", "names", [f"{lang}.txt" for lang in NAMES_LANGUAGES],
                           data_dir, source=_NAMES_SOURCE)
        raise AssertionError("unreachable")  # pragma: no cover
    out = {}
    for path in files:
        lines = path.read_text(encoding="utf-8").strip().split("\n")
        lines = [line.strip() for line in lines if line.strip()]
        out[path.stem] = [_to_ascii(n) for n in lines] if ascii else lines
    return out

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")


def tiny_shakespeare(data_dir=None):
    """The tiny-shakespeare text (1,115,394 characters, 65-character vocabulary) as one str.

    The usual split is the first 90% of characters for training, the rest for validation.
    """
    (path,) = find_dataset_files("tiny_shakespeare", "tinyshakespeare", ["input.txt"], data_dir,
                                 source="https://github.com/karpathy/char-rnn "
                                        "(data/tinyshakespeare/input.txt)")
    return path.read_text(encoding="utf-8")


def tiny_shakespeare_speeches(data_dir=None):
    """tiny-shakespeare as word2vec sentences: one list of lower-case words per speech (the
    blocks between blank lines, the speaker's name dropped; inner apostrophes kept, so
    "ne'er" stays one word). 7,097 speeches, 194,012 words.

    >>> speeches = tiny_shakespeare_speeches()  # doctest: +SKIP
    >>> speeches[0][:6]  # doctest: +SKIP
    ['before', 'we', 'proceed', 'any', 'further', 'hear']
    """
    out = []
    for block in tiny_shakespeare(data_dir).split("\n\n"):
        lines = block.strip().split("\n")
        words = _WORD.findall(" ".join(lines[1:]).lower())
        if words:
            out.append(words)
    return out
