"""``keras.ops.ctc_loss`` and ``keras.ops.ctc_decode`` (Keras 3's signatures, batch first,
from logits) over shendu's CTC (shendu/ops/ctc.py, shendu/nn/ctc_decoding.py).

Keras's conventions, as on its torch backend: ``output``/``inputs`` are logits
``(batch, frames, classes)`` (a log-softmax is applied inside), the blank is
``mask_index`` (0 by default), ``ctc_loss`` returns the per-sample losses (no reduction),
and decoded sequences are padded with -1.

>>> import numpy as np
>>> from shendu.keras import ops
>>> logits = np.log(np.array([[[0.6, 0.4], [0.6, 0.4]]], np.float32))   # (N=1, T=2, C=2)
>>> [round(v, 4) for v in ops.ctc_loss([[1]], logits, [1], [2]).tolist()]   # -log 0.64
[0.4463]
>>> decoded, scores = ops.ctc_decode(logits, [2], strategy="beam_search", beam_width=4)
>>> decoded.tolist()
[[[1, -1]]]
"""
from __future__ import annotations

import numpy as np

from ...autograd.tensor import Tensor
from ...nn import functional as F
from ...nn.ctc_decoding import _beam_one, _host_lengths
from ...ops.ctc import _host, ctc_loss as _ctc_loss
from ._core import _t
from ._numpy_math import _float

__all__ = ["ctc_loss", "ctc_decode"]


def ctc_loss(target, output, target_length, output_length, mask_index=0):
    """CTC loss per sample ``(batch,)`` of integer ``target`` ``(batch, max_label_length)``
    given logits ``output`` ``(batch, frames, classes)``, with ``target_length`` labels
    and ``output_length`` frames per sample; the blank is ``mask_index``. It is
    ``F.ctc_loss(log_softmax(output), ..., reduction='none')`` time first."""
    out = _float(output)
    if out.ndim != 3:
        raise ValueError(f"ctc_loss: output must be logits (batch_size, max_length, "
                         f"num_classes), got shape {out.shape}")
    if out.dtype == np.float16:
        out = out.float()
    log_probs = F.log_softmax(out.swapaxes(0, 1), dim=2)
    return _ctc_loss(log_probs, _t(target), _t(output_length), _t(target_length),
                     blank=int(mask_index), reduction="none")


def _pad(sequences, width):
    out = np.full((len(sequences), width), -1, np.int32)
    for i, s in enumerate(sequences):
        out[i, :len(s)] = s
    return out


def ctc_decode(inputs, sequence_lengths, strategy="greedy", beam_width=100, top_paths=1,
               merge_repeated=True, mask_index=0):
    """Decode logits ``inputs`` ``(batch, frames, classes)``.

    Returns ``(decoded, scores)``: ``decoded`` int32 ``(paths, batch, frames)`` padded with
    -1 (``paths`` is 1 for ``"greedy"``, ``top_paths`` for ``"beam_search"``); ``scores``
    ``(batch, 1)``, minus the sum of each frame's largest logit (greedy, as TensorFlow's
    decoder), or ``(batch, top_paths)`` log-probabilities of the labellings (beam search,
    on the log-softmax of ``inputs``). ``merge_repeated=False`` (greedy) keeps repeated
    labels: only blanks are dropped."""
    who = "ctc_decode"
    arr = np.asarray(_host(_t(inputs)), dtype=np.float64)
    if arr.ndim != 3:
        raise ValueError(f"{who}: inputs must be logits (batch_size, max_length, "
                         f"num_classes), got shape {arr.shape}")
    N, T, C = arr.shape
    lengths = _host_lengths(sequence_lengths, T, N, who)
    if not 0 <= int(mask_index) < C:
        raise ValueError(f"{who}: mask_index must be in 0..{C - 1}, got {mask_index}")
    blank = int(mask_index)
    if strategy == "greedy":
        best = arr.argmax(axis=2)                                     # (N, T)
        active = np.arange(T)[None] < lengths[:, None]
        keep = active & (best != blank)
        if merge_repeated:
            keep[:, 1:] &= best[:, 1:] != best[:, :-1]
        sequences = [best[n, keep[n]].tolist() for n in range(N)]
        scores = -np.where(active, arr.max(axis=2), 0.0).sum(axis=1, keepdims=True)
        decoded = _pad(sequences, T)[None]
    elif strategy == "beam_search":
        shifted = arr - arr.max(axis=2, keepdims=True)
        lp = shifted - np.log(np.exp(shifted).sum(axis=2, keepdims=True))
        ranked = [_beam_one(lp[n, :lengths[n]], blank, int(beam_width), int(top_paths))
                  for n in range(N)]
        decoded = np.full((int(top_paths), N, T), -1, np.int32)
        scores = np.full((N, int(top_paths)), -np.inf)
        for n, paths in enumerate(ranked):
            for k, (seq, score) in enumerate(paths):
                decoded[k, n, :len(seq)] = seq
                scores[n, k] = score
    else:
        raise ValueError(f"{who}: invalid strategy {strategy!r}; supported values are "
                         "'greedy' and 'beam_search'")
    return Tensor._make(decoded.astype(np.int32)), Tensor._make(scores.astype(np.float32))
