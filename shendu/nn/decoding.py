"""Turning a trained sequence model into output sequences: greedy decoding and beam
search for encoder-decoders, and sampling (temperature, top-k, top-p) for language models.

The decoders drive the model through one function you write, the **step function**::

    log_probs, state = step(tokens, state)

``tokens`` is an int64 Tensor ``(B,)``: the previous output token of each sequence being
decoded (``<sos>`` first); ``state`` is whatever your decoder carries from step to step
(an LSTM's ``(h, c)``, the encoder outputs for attention, ...). It returns the
log-probabilities of the next token, ``(B, V)`` (``log_softmax`` of the logits), and the
new state. Decoding runs under ``no_grad``.

>>> import numpy as np, shendu
>>> from shendu.nn.decoding import greedy_decode, beam_search
>>> table = np.log(np.array([[0.1, 0.1, 0.2, 0.6],     # a toy model: P(next | previous)
...                          [0.1, 0.1, 0.2, 0.6],
...                          [0.7, 0.1, 0.1, 0.1],
...                          [0.1, 0.1, 0.5, 0.3]]))
>>> def step(tokens, state):
...     return table[tokens.numpy()], state
>>> out = greedy_decode(step, None, sos_index=1, eos_index=0, max_len=5)
>>> out.tokens.tolist(), out.lengths.tolist()
([[3, 2, 0]], [3])
>>> beam_search(step, None, sos_index=1, eos_index=0, beam_size=3, max_len=5).tokens.tolist()
[[3, 2, 0]]
"""
from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

from .. import backend
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..ops.indexing import index_select

__all__ = ["Decoded", "greedy_decode", "beam_search", "sample", "reorder_state"]


class Decoded(NamedTuple):
    """What the decoders return.

    tokens : int64 array ``(N, L)`` (``(N, R, L)`` for beam search with
        ``num_return=R > 1``): the decoded ids without ``<sos>``, each ending with
        ``<eos>`` if it was produced, padded with ``pad_index`` after it
    lengths : int64 array ``(N,)`` (or ``(N, R)``): tokens up to and including ``<eos>``
    scores : float64 array ``(N,)`` (or ``(N, R)``): the total log-probability of the
        tokens (``<eos>`` included)
    """

    tokens: np.ndarray
    lengths: np.ndarray
    scores: np.ndarray


# ------------------------------------------------------------------ helpers
def _host(x, who):
    """A float64 NumPy array from a Tensor / NumPy / CuPy array."""
    if isinstance(x, Tensor):
        x = x._data
    if backend.get_array_module(x) is not np:
        x = x.get()
    return np.asarray(x, dtype=np.float64)


def _check_log_probs(lp, batch, who):
    if lp.ndim != 2 or lp.shape[0] != batch:
        raise ValueError(f"{who}: step(tokens, state) must return log-probabilities of shape "
                         f"(B, V) with B = {batch} (one row per token given), got "
                         f"{lp.shape}")
    if np.isnan(lp).any():
        raise ValueError(f"{who}: step returned NaN log-probabilities")


def _start_tokens(sos_index, batch_size, who):
    if isinstance(sos_index, numbers.Integral) and not isinstance(sos_index, bool):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) \
                or batch_size < 1:
            raise ValueError(f"{who}: batch_size must be an int >= 1, got {batch_size!r}")
        return np.full(int(batch_size), int(sos_index), dtype=np.int64)
    start = np.asarray(_host(sos_index, who) if isinstance(sos_index, Tensor) else sos_index)
    if start.ndim != 1 or start.dtype.kind not in "iuf":
        raise ValueError(f"{who}: sos_index must be an int or a 1-D sequence of start ids "
                         f"(one per sample), got shape {start.shape}")
    return start.astype(np.int64)


def _check_max_len(max_len, who):
    if isinstance(max_len, bool) or not isinstance(max_len, numbers.Integral) or max_len < 1:
        raise ValueError(f"{who}: max_len must be an int >= 1, got {max_len!r}")
    return int(max_len)


def _as_tokens(ids, device):
    return Tensor(ids, device=device)


def _leaf_select(x, index, dim):
    if isinstance(x, Tensor):
        idx = Tensor(index, device=x.device)
        return index_select(x, dim, idx)
    xp = backend.get_array_module(x)
    return xp.take(x, xp.asarray(index), axis=dim)


def reorder_state(state, index, batch_dim=0):
    """Pick the batch rows ``index`` of every Tensor/array in a (nested) state.

    Parameters
    ----------
    state : a Tensor, an array, None, or tuples/lists/dicts of them
    index : 1-D int array, the rows to take (repeats allowed)
    batch_dim : int, or the same nesting as ``state`` with one int per leaf: the batch
        axis of each leaf. An LSTM's ``(h, c)`` are ``(num_layers, N, H)``, so
        ``batch_dim=1``; with encoder outputs ``(N, S, H)`` too,
        ``state = ((h, c), enc)`` and ``batch_dim=((1, 1), 0)``.
    """
    if state is None:
        return None
    if isinstance(state, (tuple, list)):
        dims = batch_dim if isinstance(batch_dim, (tuple, list)) else [batch_dim] * len(state)
        if len(dims) != len(state):
            raise ValueError(f"reorder_state: batch_dim {batch_dim!r} does not match the "
                             f"state's {len(state)} parts")
        out = [reorder_state(s, index, d) for s, d in zip(state, dims)]
        if hasattr(state, "_fields"):  # a NamedTuple
            return type(state)(*out)
        return tuple(out) if isinstance(state, tuple) else out
    if isinstance(state, dict):
        dims = batch_dim if isinstance(batch_dim, dict) else {k: batch_dim for k in state}
        return {k: reorder_state(v, index, dims[k]) for k, v in state.items()}
    if isinstance(state, (numbers.Number, str, bytes)):
        return state
    if not isinstance(batch_dim, numbers.Integral):
        raise ValueError(f"reorder_state: batch_dim for a {type(state).__name__} leaf must be "
                         f"an int, got {batch_dim!r}")
    return _leaf_select(state, index, int(batch_dim))


# ------------------------------------------------------------------- greedy
def greedy_decode(step, state, sos_index, eos_index=None, max_len=50, batch_size=1,
                  pad_index=0, device=None):
    """Decode by taking the most probable token at every step.

    Parameters
    ----------
    step : ``step(tokens, state) -> (log_probs, state)`` (see the module docstring)
    state : the decoder's initial state (e.g. the encoder's final ``(h, c)``)
    sos_index : int (the ``<sos>`` id, the same for all ``batch_size`` samples) or a 1-D
        sequence of start ids, one per sample
    eos_index : int, optional: a sequence stops after emitting it
    max_len : int, the most tokens to produce (``<eos>`` included)
    batch_size : int, the number of samples (when ``sos_index`` is an int)
    pad_index : the id written after a sequence's ``<eos>`` (and fed to the model for
        finished sequences)
    device : where to create the token tensors (default CPU)

    Returns
    -------
    ``Decoded(tokens, lengths, scores)``; stops early once every sequence has ended.

    Greedy decoding can miss the most probable sequence (a likely first token may lead
    only to unlikely continuations); ``beam_search`` keeps several candidates.
    """
    who = "greedy_decode"
    tokens = _start_tokens(sos_index, batch_size, who)
    max_len = _check_max_len(max_len, who)
    n = len(tokens)
    out = np.full((n, max_len), pad_index, dtype=np.int64)
    scores = np.zeros(n)
    lengths = np.zeros(n, dtype=np.int64)
    done = np.zeros(n, dtype=bool)
    t = 0
    with no_grad():
        for t in range(max_len):
            lp, state = step(_as_tokens(tokens, device), state)
            lp = _host(lp, who)
            _check_log_probs(lp, n, who)
            nxt = lp.argmax(axis=1)
            active = ~done
            out[active, t] = nxt[active]
            scores[active] += lp[active, nxt[active]]
            lengths[active] += 1
            if eos_index is not None:
                done |= active & (nxt == eos_index)
            tokens = np.where(done, pad_index, nxt)
            if done.all():
                break
    return Decoded(out[:, :t + 1], lengths, scores)


# -------------------------------------------------------------- beam search
def beam_search(step, state, sos_index, eos_index=None, beam_size=5, max_len=50, batch_size=1,
                length_penalty=0.0, num_return=1, pad_index=0, batch_dim=0, reorder=None,
                device=None):
    """Decode by keeping the ``beam_size`` most probable partial sequences at every step.

    Each step extends every kept sequence by every token, scores the extensions by their
    total log-probability and keeps the best ``beam_size`` per sample. A sequence that
    emitted ``<eos>`` is finished: it stays in the beam with its score frozen and competes
    with the unfinished ones. The search stops when every kept sequence is finished or
    after ``max_len`` tokens.

    Parameters
    ----------
    step, state, sos_index, eos_index, max_len, batch_size, pad_index, device :
        as in ``greedy_decode``. ``step`` is called with ``N * beam_size`` rows: the
        beams of sample ``i`` are rows ``i * beam_size ... i * beam_size + beam_size - 1``
        (the initial state is repeated that way).
    beam_size : int, the number of sequences kept per sample (1 is greedy decoding)
    length_penalty : float ``alpha``, default 0: rank sequences by
        ``log P / length ** alpha``. Sums of log-probabilities favour short outputs;
        ``alpha = 1`` ranks by the mean log-probability per token.
    num_return : int, how many of the best sequences to return per sample
    batch_dim : the batch axis of each leaf of ``state`` (an int for all, or a nested
        structure: see ``reorder_state``); an LSTM's ``(h, c)`` have it at 1.
    reorder : optional ``reorder(state, index) -> state`` replacing ``reorder_state``
        for states it cannot handle

    Returns
    -------
    ``Decoded(tokens, lengths, scores)``, best first; ``scores`` are the raw total
    log-probabilities (the ranking divides them by ``length ** length_penalty``).
    """
    who = "beam_search"
    start = _start_tokens(sos_index, batch_size, who)
    max_len = _check_max_len(max_len, who)
    for name, v in (("beam_size", beam_size), ("num_return", num_return)):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(f"{who}: {name} must be an int >= 1, got {v!r}")
    if num_return > beam_size:
        raise ValueError(f"{who}: num_return ({num_return}) can't exceed beam_size "
                         f"({beam_size})")
    alpha = float(length_penalty)
    n, k = len(start), int(beam_size)
    select = reorder or (lambda s, idx: reorder_state(s, idx, batch_dim))

    rows = np.arange(n)
    state = select(state, np.repeat(rows, k))          # beams of sample i: rows i*k ... i*k+k-1
    tokens = np.repeat(start, k)
    scores = np.full((n, k), -np.inf)
    scores[:, 0] = 0.0                                 # only one live beam at the start
    lengths = np.zeros((n, k), dtype=np.int64)
    finished = np.zeros((n, k), dtype=bool)
    history = np.zeros((n, k, 0), dtype=np.int64)

    with no_grad():
        for t in range(max_len):
            lp, state = step(_as_tokens(tokens, device), state)
            lp = _host(lp, who)
            _check_log_probs(lp, n * k, who)
            v = lp.shape[1]
            lp = lp.reshape(n, k, v)
            # a finished beam has one continuation: <pad> at no cost (its score is frozen)
            lp = np.where(finished[:, :, None], -np.inf, lp)
            lp[finished, pad_index] = 0.0
            cand = scores[:, :, None] + lp                          # (n, k, v)
            cand_len = np.where(finished, lengths, t + 1)[:, :, None]
            rank = cand / cand_len.astype(np.float64) ** alpha if alpha else cand
            flat = rank.reshape(n, k * v)
            best = np.argsort(-flat, axis=1, kind="stable")[:, :k]  # (n, k)
            origin, token = best // v, best % v
            was_finished = finished[rows[:, None], origin]
            scores = cand.reshape(n, k * v)[rows[:, None], best]
            lengths = np.where(was_finished, lengths[rows[:, None], origin], t + 1)
            finished = was_finished | ((token == eos_index) if eos_index is not None else False)
            history = np.concatenate([history[rows[:, None], origin], token[:, :, None]], axis=2)
            state = select(state, (rows[:, None] * k + origin).reshape(-1))
            tokens = token.reshape(-1)
            if finished.all():
                break

    final = scores / lengths.astype(np.float64) ** alpha if alpha else scores
    final = np.where(lengths > 0, final, -np.inf)
    order = np.argsort(-final, axis=1, kind="stable")[:, :num_return]
    pick = (rows[:, None], order)
    toks = history[pick]
    toks = np.where(np.arange(toks.shape[2]) < lengths[pick][:, :, None], toks, pad_index)
    width = int(lengths[pick].max()) if lengths.size else 0
    toks = toks[:, :, :max(width, 1)]
    if num_return == 1:
        return Decoded(toks[:, 0], lengths[pick][:, 0], scores[pick][:, 0])
    return Decoded(toks, lengths[pick], scores[pick])


# ----------------------------------------------------------------- sampling
def _generator(generator, xp):
    if generator is None:
        return backend.default_generator(xp)
    if isinstance(generator, numbers.Integral) and not isinstance(generator, bool):
        return xp.random.default_rng(int(generator))
    if hasattr(generator, "random"):
        return generator
    raise TypeError(f"sample: generator must be None (shendu's seeded generator), an int "
                    f"seed or a Generator, got {type(generator).__name__}")


def sample(logits, temperature=1.0, top_k=None, top_p=None, generator=None):
    """Draw token ids from logits, for generating text with a language model.

    Parameters
    ----------
    logits : Tensor or array ``(..., V)``, unnormalized log-probabilities
    temperature : float >= 0, default 1. Divides the logits: below 1 sharpens the
        distribution (safer, more repetitive text), above 1 flattens it (more surprising,
        more errors); 0 takes the most probable token (argmax, no randomness).
    top_k : int, optional: sample among the ``k`` most probable tokens only (ties with
        the k-th are kept)
    top_p : float in (0, 1], optional, nucleus sampling: sample among the smallest set of
        most probable tokens whose probabilities add up to at least ``top_p`` (after
        ``top_k``, if both are given)
    generator : None (shendu's global generator: ``shendu.manual_seed`` repeats the
        draws), an int seed, or a NumPy/CuPy ``Generator``

    Returns
    -------
    int64 ids of shape ``logits.shape[:-1]``: a Tensor for a Tensor, an array for an array.

    >>> import shendu
    >>> logits = shendu.tensor([[2.0, 1.0, 0.5, -1.0]])
    >>> sample(logits, top_k=1).tolist()                   # only the best token is left
    [0]
    >>> _ = shendu.manual_seed(0); a = sample(logits, temperature=0.8)
    >>> _ = shendu.manual_seed(0); bool((a == sample(logits, temperature=0.8)).all())
    True
    """
    as_tensor = isinstance(logits, Tensor)
    data = logits._data if as_tensor else logits
    xp = backend.get_array_module(data)
    z = xp.asarray(data).astype(np.float64)
    if z.ndim < 1 or z.shape[-1] == 0:
        raise ValueError(f"sample: logits must have shape (..., V) with V >= 1, got {z.shape}")
    temperature = float(temperature)
    if not temperature >= 0:
        raise ValueError(f"sample: temperature must be >= 0, got {temperature}")
    v = z.shape[-1]
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1:
            raise ValueError(f"sample: top_k must be an int >= 1, got {top_k!r}")
        if top_k < v:
            kth = xp.partition(z, v - top_k, axis=-1)[..., v - top_k:v - top_k + 1]
            z = xp.where(z < kth, -np.inf, z)
    if temperature == 0:
        ids = z.argmax(axis=-1)
    else:
        z = z / temperature
        z = z - z.max(axis=-1, keepdims=True)   # exp cannot overflow
        p = xp.exp(z)
        p /= p.sum(axis=-1, keepdims=True)
        if top_p is not None:
            top_p = float(top_p)
            if not 0.0 < top_p <= 1.0:
                raise ValueError(f"sample: top_p must lie in (0, 1], got {top_p}")
            order = xp.argsort(-p, axis=-1, kind="stable")
            p_sorted = xp.take_along_axis(p, order, axis=-1)
            # keep a token while the mass before it is still short of top_p
            keep_sorted = (xp.cumsum(p_sorted, axis=-1) - p_sorted) < top_p
            keep = xp.take_along_axis(keep_sorted, xp.argsort(order, axis=-1), axis=-1)
            p = xp.where(keep, p, 0.0)
        cdf = xp.cumsum(p, axis=-1)
        gen = _generator(generator, xp)
        u = gen.random(z.shape[:-1] + (1,)) * cdf[..., -1:]
        # the first index whose cdf exceeds u: never a token of probability 0
        ids = (cdf <= u).sum(axis=-1)
        ids = xp.minimum(ids, v - 1)
    ids = xp.asarray(ids, dtype=np.int64)
    return Tensor._make(ids) if as_tensor else ids
