"""CTC: ``F.ctc_loss`` / ``nn.CTCLoss`` (hand-computed values, float64 gradchecks,
impossible alignments, errors) and the decoders ``ctc_greedy_decode`` /
``ctc_beam_search_decode`` (brute force over all alignments on tiny cases)."""
import itertools
import math

import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.autograd import gradcheck
from shendu.nn import ctc_beam_search_decode, ctc_greedy_decode
from shendu.nn import functional as F


def _log_probs(rng, T, N, C, dtype=np.float64):
    x = rng.standard_normal((T, N, C))
    x = x - np.log(np.exp(x).sum(axis=2, keepdims=True))
    return x.astype(dtype)


def _loss(lp, targets, il, tl, **kw):
    return F.ctc_loss(shendu.tensor(lp), shendu.tensor(np.asarray(targets)), il, tl, **kw)


# ------------------------------------------------------------ hand-computed values
def test_one_frame_is_the_label_log_probability():
    lp = _log_probs(np.random.default_rng(0), 1, 1, 3)
    loss = _loss(lp, [[2]], [1], [1], reduction="sum")
    np.testing.assert_allclose(float(loss), -lp[0, 0, 2], rtol=1e-12)


def test_two_frames_sum_three_paths():
    lp = _log_probs(np.random.default_rng(1), 2, 1, 3)
    y = np.exp(lp[:, 0])
    p = y[0, 1] * y[1, 1] + y[0, 1] * y[1, 0] + y[0, 0] * y[1, 1]   # "aa", "a-", "-a"
    np.testing.assert_allclose(float(_loss(lp, [[1]], [2], [1], reduction="sum")),
                               -math.log(p), rtol=1e-12)


def test_repeated_label_needs_a_blank_between():
    lp = _log_probs(np.random.default_rng(2), 3, 1, 3)
    y = np.exp(lp[:, 0])
    # "aa" in 3 frames: only "a - a"
    np.testing.assert_allclose(float(_loss(lp, [[1, 1]], [3], [2], reduction="sum")),
                               -math.log(y[0, 1] * y[1, 0] * y[2, 1]), rtol=1e-12)
    # "ab" in 2 frames: only "a b" (a skip over the blank is allowed between different labels)
    np.testing.assert_allclose(float(_loss(lp[:2], [[1, 2]], [2], [2], reduction="sum")),
                               -math.log(y[0, 1] * y[1, 2]), rtol=1e-12)


def test_empty_target_is_all_blanks():
    lp = _log_probs(np.random.default_rng(3), 4, 2, 3)
    loss = _loss(lp, [[1], [1]], [4, 3], [0, 0], reduction="none")
    np.testing.assert_allclose(loss.numpy(), [-lp[:4, 0, 0].sum(), -lp[:3, 1, 0].sum()],
                               rtol=1e-12)


def _brute_force(lp, blank=0):
    """{labelling: probability} by enumerating every path of a (T, C) array."""
    T, C = lp.shape
    probs = {}
    for path in itertools.product(range(C), repeat=T):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        key = tuple(collapsed)
        probs[key] = probs.get(key, 0.0) + math.exp(sum(lp[t, c] for t, c in enumerate(path)))
    return probs


def test_loss_matches_brute_force_over_alignments():
    rng = np.random.default_rng(4)
    lp = _log_probs(rng, 5, 1, 3)[:, 0]
    probs = _brute_force(lp)
    for labels in [(1,), (1, 2), (2, 2), (1, 2, 1), (1, 1, 2)]:
        loss = _loss(lp, list(labels), 5, len(labels), reduction="sum")   # unbatched
        np.testing.assert_allclose(float(loss), -math.log(probs[labels]), rtol=1e-10)


def test_mean_divides_by_target_lengths_then_averages():
    rng = np.random.default_rng(5)
    lp = _log_probs(rng, 6, 3, 4)
    targets, il, tl = [[1, 2, 3], [3, 3, 0], [1, 0, 0]], [6, 5, 6], [3, 2, 0]
    per = _loss(lp, targets, il, tl, reduction="none").numpy()
    np.testing.assert_allclose(float(_loss(lp, targets, il, tl)),
                               (per / np.maximum(tl, 1)).mean(), rtol=1e-12)
    np.testing.assert_allclose(float(_loss(lp, targets, il, tl, reduction="sum")), per.sum())


def test_concatenated_targets_equal_padded():
    lp = _log_probs(np.random.default_rng(6), 6, 3, 4)
    padded = _loss(lp, [[1, 2, 3], [3, 3, 0], [2, 0, 0]], [6, 5, 6], [3, 2, 1], reduction="none")
    flat = _loss(lp, [1, 2, 3, 3, 3, 2], [6, 5, 6], [3, 2, 1], reduction="none")
    np.testing.assert_allclose(padded.numpy(), flat.numpy(), rtol=1e-12)


# ------------------------------------------------------------------ gradients
CASES = [   # (T, N, C, targets, input_lengths, target_lengths, reduction)
    (4, 2, 3, [[1, 2], [2, 2]], [4, 4], [2, 2], "mean"),
    (5, 3, 4, [[1, 1, 3], [2, 3, 1], [3, 0, 0]], [5, 4, 3], [3, 2, 1], "none"),
    (6, 2, 5, [1, 2, 2, 4, 3], [6, 5], [3, 2], "sum"),          # concatenated targets
    (3, 2, 3, [[1, 2], [1, 1]], [3, 2], [0, 1], "mean"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"T{c[0]}N{c[1]}C{c[2]}-{c[-1]}")
def test_gradcheck_through_log_softmax(case):
    T, N, C, targets, il, tl, reduction = case
    x = shendu.tensor(np.random.default_rng(7).standard_normal((T, N, C)), requires_grad=True)
    t = shendu.tensor(np.asarray(targets))
    assert gradcheck(lambda a: F.ctc_loss(F.log_softmax(a, dim=2), t, il, tl,
                                          reduction=reduction), [x])


def test_gradcheck_unbatched_and_blank_last():
    x = shendu.tensor(np.random.default_rng(8).standard_normal((5, 4)), requires_grad=True)
    t = shendu.tensor([0, 1, 1])
    assert gradcheck(lambda a: F.ctc_loss(F.log_softmax(a, dim=1), t, 5, 3, blank=3), [x])


def test_gradient_wrt_log_probs_is_y_minus_occupancy():
    """PyTorch's convention: grad = y - gamma, so grad - y is the true derivative
    d loss / d log_probs (checked by central differences), and 0 past input_lengths."""
    rng = np.random.default_rng(9)
    lp = _log_probs(rng, 5, 2, 3)
    t, il, tl = shendu.tensor([[1, 2], [2, 2]]), [5, 4], [2, 2]
    a = shendu.tensor(lp, requires_grad=True)
    F.ctc_loss(a, t, il, tl, reduction="sum").backward()
    active = (np.arange(5)[:, None] < np.array(il)[None])[:, :, None]
    true_grad = a.grad.numpy() - np.exp(lp) * active
    eps, numeric = 1e-6, np.zeros_like(lp)
    for idx in np.ndindex(lp.shape):
        hi, lo = lp.copy(), lp.copy()
        hi[idx] += eps
        lo[idx] -= eps
        numeric[idx] = (float(_loss(hi, t.numpy(), il, tl, reduction="sum"))
                        - float(_loss(lo, t.numpy(), il, tl, reduction="sum"))) / (2 * eps)
    np.testing.assert_allclose(true_grad, numeric, atol=1e-7)
    assert not a.grad.numpy()[4, 1].any()


def test_float32_keeps_dtype():
    lp = shendu.tensor(_log_probs(np.random.default_rng(10), 4, 2, 3, np.float32),
                       requires_grad=True)
    loss = F.ctc_loss(lp, shendu.tensor([[1, 2], [1, 0]]), [4, 3], [2, 1])
    loss.backward()
    assert loss.dtype == np.float32 and lp.grad.dtype == np.float32


# ------------------------------------------------------- impossible alignments
def test_impossible_alignment_is_infinite_with_nan_gradient():
    lp = shendu.tensor(_log_probs(np.random.default_rng(11), 3, 2, 3), requires_grad=True)
    targets = shendu.tensor([[1, 1, 1], [1, 2, 0]])   # "aaa" needs 5 frames
    loss = F.ctc_loss(lp, targets, [3, 3], [3, 2], reduction="none")
    assert math.isinf(float(loss[0])) and math.isfinite(float(loss[1]))
    loss.sum().backward()
    assert np.isnan(lp.grad.numpy()[:, 0]).all() and np.isfinite(lp.grad.numpy()[:, 1]).all()


def test_zero_infinity_gives_zero_loss_and_gradient():
    lp = shendu.tensor(_log_probs(np.random.default_rng(11), 3, 2, 3), requires_grad=True)
    targets = shendu.tensor([[1, 1, 1], [1, 2, 0]])
    loss = F.ctc_loss(lp, targets, [3, 3], [3, 2], zero_infinity=True)
    finite = F.ctc_loss(lp.detach()[:, 1:], targets[1:], [3], [2], reduction="sum")
    np.testing.assert_allclose(float(loss), float(finite) / 2 / 2, rtol=1e-12)
    loss.backward()
    assert not lp.grad.numpy()[:, 0].any() and lp.grad.numpy()[:, 1].any()


# -------------------------------------------------------------------- API
def test_module_and_namespaces():
    lp = shendu.tensor(_log_probs(np.random.default_rng(12), 4, 1, 3))
    args = (lp, shendu.tensor([[1, 2]]), [4], [2])
    criterion = nn.CTCLoss(blank=0, reduction="sum", zero_infinity=True)
    assert repr(criterion) == "CTCLoss(reduction='sum', zero_infinity=True)"
    expected = float(F.ctc_loss(*args, reduction="sum"))
    assert float(criterion(*args)) == expected
    assert float(shendu.ctc_loss(*args, reduction=2)) == expected   # torch.ctc_loss's enum
    assert shendu.nn.functional.ctc_loss is shendu.ctc_loss
    with pytest.raises(ValueError, match="reduction"):
        nn.CTCLoss(reduction="avg")


def test_lengths_as_tensors_tuples_and_unbatched_scalars():
    lp = _log_probs(np.random.default_rng(13), 4, 2, 3)
    a = _loss(lp, [[1, 2], [2, 0]], shendu.tensor([4, 3]), shendu.tensor([2, 1]))
    b = _loss(lp, [[1, 2], [2, 0]], (4, 3), (2, 1))
    assert float(a) == float(b)
    one = _loss(lp[:, 0], [1, 2], shendu.tensor(4), shendu.tensor(2), reduction="none")
    assert one.shape == () and float(one) == float(_loss(lp[:, :1], [[1, 2]], [4], [2],
                                                         reduction="sum"))


ERRORS = [   # (log_probs shape, targets, input_lengths, target_lengths, kwargs, error, match)
    ((4, 2, 3), [[1, 2], [1, 2]], [5, 4], [2, 2], {}, ValueError,
     r"input_lengths \[5, 4\] exceed.*T = 4"),
    ((4, 2, 3), [[1, 2], [1, 2]], [4, 4], [3, 2], {}, ValueError, r"target_lengths .* S = 2"),
    ((4, 2, 3), [[1, 2], [1, 2]], [4, 4], [2, 2], {"blank": 3}, ValueError,
     r"blank must be .* 0\.\.2"),
    ((4, 2, 3), [[1, 0], [1, 2]], [4, 4], [2, 2], {}, ValueError, r"must not contain the blank"),
    ((4, 2, 3), [[1, 5], [1, 2]], [4, 4], [2, 2], {}, IndexError, r"label 5 .* C = 3"),
    ((4, 2, 3, 1), [[1, 2], [1, 2]], [4, 4], [2, 2], {}, ValueError,
     r"\(T, N, C\) or unbatched"),
    ((4, 2, 3), [[1.0, 2.0], [1.0, 2.0]], [4, 4], [2, 2], {}, TypeError,
     r"targets .* \.long\(\)"),
    ((4, 2, 3), [[1, 2], [1, 2]], [4.0, 4.0], [2, 2], {}, TypeError,
     r"input_lengths must hold integers"),
    ((4, 2, 3), [[1, 2], [1, 2]], [4], [2, 2], {}, ValueError,
     r"input_lengths must have one entry"),
    ((4, 2, 3), [1, 2, 1], [4, 4], [2, 2], {}, ValueError,
     r"3 labels but sum\(target_lengths\) = 4"),
    ((4, 2, 3), [[[1, 2]]], [4, 4], [2, 2], {}, ValueError, r"padded \(N, S\)"),
    ((4, 3), [[1, 2]], 4, 2, {}, ValueError, r"unbatched .* 1-D targets"),
    ((4, 2, 3), [[1, 2], [1, 2]], [4, -1], [2, 2], {}, ValueError,
     r"input_lengths must be >= 0"),
]


@pytest.mark.parametrize("shape,targets,il,tl,kw,error,match", ERRORS)
def test_errors_name_the_problem(shape, targets, il, tl, kw, error, match):
    lp = shendu.zeros(*shape)
    with pytest.raises(error, match=match):
        F.ctc_loss(lp, shendu.tensor(np.asarray(targets)), il, tl, **kw)


def test_integer_log_probs_are_refused():
    with pytest.raises(TypeError, match="ctc_loss: log_probs must be a floating-point"):
        F.ctc_loss(shendu.tensor(np.zeros((2, 1, 3), np.int64)), shendu.tensor([[1]]), [2], [1])


# ------------------------------------------------------------------ decoding
def test_greedy_collapses_repeats_and_drops_blanks():
    frames = np.eye(4)[[1, 1, 0, 1, 2, 2, 0, 3]]          # "a a - a b b - c"
    lp = np.log(np.stack([frames, frames[::-1]], axis=1) * 0.9 + 0.025)
    assert ctc_greedy_decode(lp) == [[1, 1, 2, 3], [3, 2, 1, 1]]
    assert ctc_greedy_decode(shendu.tensor(lp), input_lengths=[4, 8]) == [[1, 1], [3, 2, 1, 1]]
    assert ctc_greedy_decode(lp[:, 0], blank=1) == [0, 2, 0, 3]


def test_beam_search_matches_brute_force():
    rng = np.random.default_rng(14)
    lp = _log_probs(rng, 4, 3, 3)
    seqs, scores = ctc_beam_search_decode(lp, beam_width=50, top_paths=3)
    for n in range(3):
        probs = _brute_force(lp[:, n])
        best = sorted(probs.items(), key=lambda kv: -kv[1])[:3]
        assert [tuple(s) for s in seqs[n]] == [k for k, _ in best]
        np.testing.assert_allclose(np.exp(scores[n]), [p for _, p in best], rtol=1e-10)


def test_beam_scores_are_minus_ctc_loss():
    # a beam wide enough to keep every prefix (at most 2^0 + ... + 2^5) is exact
    lp = _log_probs(np.random.default_rng(15), 5, 2, 3)
    seqs, scores = ctc_beam_search_decode(lp, input_lengths=[5, 3], beam_width=64)
    for n, (il, seq) in enumerate(zip([5, 3], seqs)):
        loss = _loss(lp[:, n], seq, il, len(seq), reduction="sum")
        np.testing.assert_allclose(scores[n], -float(loss), rtol=1e-9)


def test_beam_beats_greedy_when_a_labelling_spreads_over_paths():
    # each frame: blank 0.6, "a" 0.4. Best path "- -" (0.36) decodes to "", but "a"
    # collects "a a", "a -", "- a": 0.16 + 0.24 + 0.24 = 0.64
    lp = np.log(np.array([[0.6, 0.4], [0.6, 0.4]]))[:, None]
    assert ctc_greedy_decode(lp) == [[]]
    seqs, scores = ctc_beam_search_decode(lp, beam_width=3)
    assert seqs == [[1]]
    np.testing.assert_allclose(np.exp(scores), [0.64])
    # a beam of 1 keeps only the best prefix each frame
    assert ctc_beam_search_decode(np.log([[0.3, 0.7], [0.3, 0.7]]), beam_width=1)[0] == [1]


def test_decoder_errors():
    lp = np.zeros((3, 2, 4))
    with pytest.raises(ValueError, match="ctc_greedy_decode: log_probs must be"):
        ctc_greedy_decode(np.zeros(3))
    with pytest.raises(ValueError, match=r"input_lengths \[3, 4\] must lie in 0\.\.3"):
        ctc_greedy_decode(lp, input_lengths=[3, 4])
    with pytest.raises(ValueError, match="ctc_beam_search_decode: blank"):
        ctc_beam_search_decode(lp, blank=4)
    with pytest.raises(ValueError, match="top_paths must be in 1..beam_width=2"):
        ctc_beam_search_decode(lp, beam_width=2, top_paths=3)


# ------------------------------------------------------------------ keras.ops
def test_keras_ops_ctc_loss_is_batch_first_from_logits():
    from shendu.keras import ops
    rng = np.random.default_rng(16)
    logits = rng.standard_normal((3, 7, 5)).astype(np.float32)          # (N, T, C)
    target = np.array([[1, 2, 2], [4, 3, 0], [2, 0, 0]], np.int32)
    loss = ops.ctc_loss(target, logits, np.array([3, 2, 1], np.int32), [7, 6, 5])
    lp = F.log_softmax(shendu.tensor(logits.transpose(1, 0, 2)), dim=2)
    expected = F.ctc_loss(lp, shendu.tensor(target), [7, 6, 5], [3, 2, 1], reduction="none")
    assert loss.shape == (3,) and loss.dtype == np.float32
    np.testing.assert_allclose(loss.numpy(), expected.numpy(), rtol=1e-6)
    last_blank = ops.ctc_loss(target - 1, logits, [3, 2, 1], [7, 6, 5], mask_index=4)
    lp_last = F.ctc_loss(lp, shendu.tensor(target - 1), [7, 6, 5], [3, 2, 1], blank=4,
                         reduction="none")
    np.testing.assert_allclose(last_blank.numpy(), lp_last.numpy(), rtol=1e-6)


def test_keras_ops_ctc_decode_greedy_and_beam():
    from shendu.keras import ops
    frames = np.eye(4)[[1, 1, 0, 1, 2, 2, 3, 0]]                        # "a a - a b b c -"
    logits = np.log(frames * 0.9 + 0.025)[None].repeat(2, axis=0)      # (N=2, T=8, C=4)
    decoded, scores = ops.ctc_decode(logits, [8, 4])
    assert decoded.shape == (1, 2, 8) and decoded.dtype == np.int32 and scores.shape == (2, 1)
    assert decoded.numpy()[0].tolist() == [[1, 1, 2, 3, -1, -1, -1, -1],
                                           [1, 1, -1, -1, -1, -1, -1, -1]]
    np.testing.assert_allclose(scores.numpy()[:, 0], -np.log(0.925) * np.array([8, 4]),
                               rtol=1e-6)
    kept, _ = ops.ctc_decode(logits, [8, 8], merge_repeated=False)
    assert kept.numpy()[0, 0].tolist()[:6] == [1, 1, 1, 2, 2, 3]
    beams, beam_scores = ops.ctc_decode(logits, [8, 4], strategy="beam_search", beam_width=5,
                                        top_paths=2)
    assert beams.shape == (2, 2, 8) and beam_scores.shape == (2, 2)
    assert beams.numpy()[0, 0].tolist()[:4] == [1, 1, 2, 3]
    assert (beam_scores.numpy()[:, 0] >= beam_scores.numpy()[:, 1]).all()
    with pytest.raises(ValueError, match="invalid strategy 'best'"):
        ops.ctc_decode(logits, [8, 4], strategy="best")


def test_keras_losses_ctc_trains_a_model_with_fit():
    from shendu import keras
    from shendu.keras import losses, ops
    rng = np.random.default_rng(17)
    logits = rng.standard_normal((4, 9, 5)).astype(np.float32)
    y = rng.integers(1, 5, (4, 3))
    per = ops.ctc_loss(y, logits, [3] * 4, [9] * 4)
    np.testing.assert_allclose(float(losses.CTC()(y, logits)), per.numpy().mean(), rtol=1e-6)
    assert isinstance(losses.get("ctc"), losses.CTC)
    with pytest.raises(ValueError, match="ctc: y_true must be"):
        losses.ctc(y[:, :, None], logits)
    shendu.manual_seed(0)
    x = rng.standard_normal((32, 9, 4)).astype(np.float32)
    model = keras.Sequential([keras.layers.Input((9, 4)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(5)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="ctc")
    history = model.fit(x, rng.integers(1, 5, (32, 3)), epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
