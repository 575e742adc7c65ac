"""Sequence datasets for the course's recurrent-network lessons: surnames labelled with
their language (many-to-one classification), the addition task for seq2seq
(``"12+345" -> "357"``), and tiny-shakespeare for a character language model.

>>> from shendu.datasets import addition, encode_addition
>>> questions, answers = addition(4, digits=3, reverse=False, seed=0)
>>> all(eval(q) == int(a) for q, a in zip(questions, answers))
True
>>> batch = encode_addition(questions, answers)
>>> batch.src.shape[0], batch.tgt_in[:, 0].tolist() == [batch.vocab.sos_index] * 4
(4, True)
"""
from __future__ import annotations

import numbers

import numpy as np

from ..text import Vocab
from .bunch import Bunch
from .text import names, tiny_shakespeare

__all__ = ["names_by_language", "addition", "addition_split", "addition_vocab",
           "encode_addition", "tiny_shakespeare"]


# ------------------------------------------------------------------- names
def names_by_language(data_dir=None, ascii=True):
    """The surnames of the 18 language files as a flat labelled list.

    Parameters
    ----------
    data_dir : folder holding ``names/`` (default ``$SHENDU_DATA`` or
        ``~/.shendu/datasets``); see ``shendu.datasets.names``.
    ascii : bool, default True
        Fold accents to ASCII (``"Ślusarski" -> "Slusarski"``) as the char-RNN tutorial
        does, so the alphabet is 52 letters plus `` .,;'``.

    Returns
    -------
    names : list of str, 20074 names, grouped by language in file order
    labels : int64 array (20074,), ``languages[labels[i]]`` is the language of ``names[i]``
    languages : list of the 18 language names, sorted (``"Arabic"`` ... ``"Vietnamese"``)

    The classes are very unequal (Russian 9408 names, Vietnamese 73): split with
    ``train_val_test_split(..., stratify=labels)`` and report balanced accuracy too.
    Some names occur in several languages (e.g. ``"Abel"``), so 100% accuracy is impossible.

    >>> names_, labels, languages = names_by_language()                # doctest: +SKIP
    >>> len(names_), len(languages), languages[labels[0]], names_[0]  # doctest: +SKIP
    (20074, 18, 'Arabic', 'Khoury')
    """
    by_language = names(data_dir=data_dir, ascii=ascii)
    languages = sorted(by_language)
    flat, labels = [], []
    for k, lang in enumerate(languages):
        flat.extend(by_language[lang])
        labels.extend([k] * len(by_language[lang]))
    return flat, np.asarray(labels, dtype=np.int64), languages


# ---------------------------------------------------------------- addition
def _check_int(name, v, lo):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < lo:
        raise ValueError(f"addition: {name} must be an int >= {lo}, got {v!r}")
    return int(v)


def _operand_range(min_digits, digits):
    lo = 0 if min_digits == 1 else 10 ** (min_digits - 1)
    return lo, 10 ** digits - 1


def _draw_operands(rng, size, min_digits, digits):
    """Numbers whose digit count is uniform in [min_digits, digits], then uniform among
    the numbers of that many digits (as keras.io's example: short numbers are common)."""
    n_digits = rng.integers(min_digits, digits + 1, size=size)
    lo = np.where(n_digits == 1, 0, 10 ** (n_digits - 1))
    hi = 10 ** n_digits  # exclusive
    return lo + (rng.random(size) * (hi - lo)).astype(np.int64)


def addition(n=50000, digits=3, reverse=True, seed=0, max_digits=None, *, min_digits=1,
             exclude=None, pad=False):
    """The course's addition task as strings: ``"12+345"`` -> ``"357"``.

    Parameters
    ----------
    n : int, the number of problems (all different; ``a+b`` and ``b+a`` count as one)
    digits : int, the most digits an operand has (3: numbers 0..999)
    reverse : bool, default True
        Reverse the question (``"12+345"`` -> ``"543+21"``), Sutskever et al.'s trick
        that puts the units digits, needed first for the answer, next to the decoder.
        The answer is never reversed.
    seed : int or numpy Generator (same seed, same problems)
    max_digits : int, optional, only with ``pad=True``: pad to the width of
        ``max_digits``-digit problems (to feed 3-digit training data and longer test
        problems to one fixed-width model). Default ``digits``.
    min_digits : int, default 1, the fewest digits an operand has (``min_digits=4,
        digits=4``: only 4-digit numbers, problems a 3-digit model never saw)
    exclude : iterable of questions in this call's format (reversed when ``reverse``,
        e.g. an earlier call's ``questions``): problems not to produce, in either order
    pad : bool, default False
        Pad questions with spaces to ``2 * W + 1`` characters and answers to ``W + 1``
        (``W = max_digits or digits``), as keras.io's example does; padding goes at the
        end before reversing (so in front of a reversed question).

    Returns
    -------
    questions : list of n str such as ``"12+345"`` (or reversed)
    answers : list of n str such as ``"357"``

    The digit count of each operand is uniform in ``[min_digits, digits]``, and the
    number uniform among numbers of that many digits. Use ``addition_split`` for train
    and test sets that share no problem.

    >>> addition(3, digits=2, reverse=False, seed=1)
    (['5+8', '39+55', '80+5'], ['13', '94', '85'])
    """
    n = _check_int("n", n, 0)
    digits = _check_int("digits", digits, 1)
    min_digits = _check_int("min_digits", min_digits, 1)
    if min_digits > digits:
        raise ValueError(f"addition: min_digits ({min_digits}) must be <= digits ({digits})")
    width = digits if max_digits is None else _check_int("max_digits", max_digits, 1)
    if width < digits:
        raise ValueError(f"addition: max_digits ({width}) must be >= digits ({digits})")
    if digits > 18:
        raise ValueError(f"addition: digits={digits} is too many (at most 18, int64)")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)

    excluded = set()
    for q in (exclude or ()):
        a_str, plus, b_str = (q[::-1] if reverse else q).strip().partition("+")
        if not plus:
            raise ValueError(f"addition: exclude holds {q!r}, not a question like '12+345'")
        excluded.add((min(int(a_str), int(b_str)), max(int(a_str), int(b_str))))
    lo, hi = _operand_range(min_digits, digits)
    m = hi - lo + 1
    available = m * (m + 1) // 2 - sum(lo <= a <= hi and lo <= b <= hi for a, b in excluded)
    if n > available:
        raise ValueError(f"addition: asked for {n} different problems, but operands with "
                         f"{min_digits}..{digits} digits give only {available}"
                         + (" (after exclude)" if excluded else ""))

    if n > available // 2:  # nearly all problems: draw from the list of them (no rejection)
        ai, bi = np.triu_indices(m)
        a, b = ai.astype(np.int64) + lo, bi.astype(np.int64) + lo
        if excluded:
            keep = np.array([(x, y) not in excluded for x, y in zip(a.tolist(), b.tolist())])
            a, b = a[keep], b[keep]
        pick = rng.permutation(len(a))[:n]
        a, b = a[pick], b[pick]
        swap = rng.random(n) < 0.5  # either order of the operands
        a, b = np.where(swap, b, a), np.where(swap, a, b)
    else:
        seen, a_list, b_list = set(excluded), [], []
        while len(a_list) < n:  # draw in batches; duplicates are rare when n << available
            need = n - len(a_list)
            a_new = _draw_operands(rng, 2 * need + 16, min_digits, digits)
            b_new = _draw_operands(rng, 2 * need + 16, min_digits, digits)
            for x, y in zip(a_new.tolist(), b_new.tolist()):
                key = (x, y) if x <= y else (y, x)
                if key not in seen:
                    seen.add(key)
                    a_list.append(x)
                    b_list.append(y)
                    if len(a_list) == n:
                        break
        a, b = np.asarray(a_list, np.int64), np.asarray(b_list, np.int64)

    questions = [f"{x}+{y}" for x, y in zip(a.tolist(), b.tolist())]
    answers = [str(s) for s in (a + b).tolist()]
    if pad:
        questions = [q.ljust(2 * width + 1) for q in questions]
        answers = [s.ljust(width + 1) for s in answers]
    if reverse:
        questions = [q[::-1] for q in questions]
    return questions, answers


def addition_split(n_train=45000, n_test=5000, digits=3, reverse=True, seed=0, **kwargs):
    """Train and held-out test problems drawn together, so no test problem (in either
    operand order) is in the training set.

    Returns ``((train_questions, train_answers), (test_questions, test_answers))``; the
    other arguments are ``addition``'s.

    >>> (q_tr, a_tr), (q_te, a_te) = addition_split(400, 100, digits=2, seed=0)
    >>> len(q_tr), len(q_te), len(set(q_tr) & set(q_te))
    (400, 100, 0)
    """
    q, a = addition(n_train + n_test, digits=digits, reverse=reverse, seed=seed, **kwargs)
    return (q[:n_train], a[:n_train]), (q[n_train:], a[n_train:])


def addition_vocab():
    """The character vocabulary of the addition task: ``<pad> <sos> <eos> <unk>``, then
    ``0``-``9``, ``+`` and the space used by ``pad=True`` (16 tokens)."""
    return Vocab(list("0123456789+ "), level="char")


def encode_addition(questions, answers, vocab=None):
    """Encode addition problems for an encoder-decoder (the course's ``<sos>``/``<eos>``).

    Parameters
    ----------
    questions, answers : lists of str from ``addition``
    vocab : char ``Vocab``, default ``addition_vocab()``

    Returns
    -------
    Bunch with
        ``src`` int64 ``(N, S)``: the questions' ids, padded with ``<pad>`` (0);
        ``src_lengths`` ``(N,)``;
        ``tgt_in`` ``(N, T)``: ``<sos>`` + answer, the decoder's input (teacher forcing);
        ``tgt_out`` ``(N, T)``: answer + ``<eos>``, the decoder's targets (``<pad>``
        after the end: use ``ignore_index=0`` in the loss);
        ``tgt_lengths`` ``(N,)`` (answer length + 1); ``vocab``.
    """
    if len(questions) != len(answers):
        raise ValueError(f"encode_addition: {len(questions)} questions but {len(answers)} "
                         f"answers")
    vocab = addition_vocab() if vocab is None else vocab
    src, src_lengths = vocab.encode_batch(questions)
    tgt_in, tgt_lengths = vocab.encode_batch(answers, add_sos=True)
    tgt_out, _ = vocab.encode_batch(answers, add_eos=True)
    return Bunch(src=src, src_lengths=src_lengths, tgt_in=tgt_in, tgt_out=tgt_out,
                 tgt_lengths=tgt_lengths, vocab=vocab)
