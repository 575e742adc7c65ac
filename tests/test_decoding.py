"""nn.decoding: greedy_decode, beam_search (against brute force, where greedy fails, with
nested states and an LSTM decoder) and sample (seeded, top-k, top-p, temperature)."""
import itertools
from typing import NamedTuple

import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.nn.decoding import Decoded, beam_search, greedy_decode, reorder_state, sample

PAD, SOS, EOS = 0, 1, 2


def markov_step(table):
    """A first-order model: log P(next | previous token) = table[previous]."""
    log_table = np.log(table)

    def step(tokens, state):
        assert isinstance(tokens, shendu.Tensor) and tokens.dtype == shendu.int64
        assert tokens.ndim == 1
        return shendu.tensor(log_table[tokens.numpy()]), state

    return step


def random_table(rng, v):
    t = rng.dirichlet(np.ones(v) * 0.7, size=v)
    t[:, SOS] = 1e-6  # <sos> is never produced (still a valid distribution)
    return t / t.sum(1, keepdims=True)


def brute_force_best(table, start, max_len, alpha=0.0):
    """The best sequence over all that end in <eos> within max_len or run to max_len."""
    log_table, v = np.log(table), table.shape[0]
    best, best_rank = None, -np.inf
    for length in range(1, max_len + 1):
        for seq in itertools.product(range(v), repeat=length):
            if EOS in seq[:-1] or (seq[-1] != EOS and length < max_len):
                continue
            prev, score = start, 0.0
            for tok in seq:
                score += log_table[prev, tok]
                prev = tok
            rank = score / length ** alpha
            if rank > best_rank + 1e-12:
                best, best_rank = list(seq), rank
    return best


# ------------------------------------------------------------------- greedy
def test_greedy_follows_the_argmax_and_stops_at_eos():
    table = np.array([[.1, .1, .2, .3, .3],
                      [.05, .05, .1, .6, .2],   # after <sos>: 3
                      [.9, .025, .025, .025, .025],
                      [.1, .1, .1, .1, .6],      # after 3: 4
                      [.1, .1, .7, .05, .05]])   # after 4: <eos>
    out = greedy_decode(markov_step(table), None, sos_index=SOS, eos_index=EOS, max_len=10)
    assert isinstance(out, Decoded)
    assert out.tokens.tolist() == [[3, 4, 2]] and out.lengths.tolist() == [3]
    np.testing.assert_allclose(out.scores, [np.log(.6 * .6 * .7)])


def test_greedy_batch_pads_after_eos_and_respects_max_len():
    table = np.array([[.2, .2, .2, .2, .2],
                      [.1, .1, .1, .6, .1],
                      [.9, .025, .025, .025, .025],
                      [.1, .1, .1, .6, .1],      # 3 repeats forever: never ends
                      [.1, .1, .7, .05, .05]])
    seen = []

    def step(tokens, state):
        seen.append(tokens.numpy().copy())
        return markov_step(table)(tokens, state)

    out = greedy_decode(step, None, sos_index=np.array([SOS, 4]), eos_index=EOS, max_len=4)
    assert out.tokens.tolist() == [[3, 3, 3, 3], [2, PAD, PAD, PAD]]
    assert out.lengths.tolist() == [4, 1]
    np.testing.assert_allclose(out.scores, [np.log(.6 ** 4), np.log(.7)])
    assert seen[1].tolist() == [3, PAD]  # a finished sequence is fed <pad>
    out = greedy_decode(markov_step(table), None, sos_index=SOS, eos_index=EOS, max_len=3,
                        batch_size=2)
    assert out.tokens.shape == (2, 3)


def test_greedy_stops_early_when_all_done():
    calls = []
    table = np.full((4, 4), 0.1)
    table[:, EOS] = 0.7

    def step(tokens, state):
        calls.append(1)
        return markov_step(table)(tokens, state)

    out = greedy_decode(step, None, SOS, EOS, max_len=50, batch_size=3)
    assert len(calls) == 1 and out.tokens.shape == (3, 1)


# -------------------------------------------------------------- beam search
def test_beam_search_finds_what_greedy_misses():
    # After <sos>: A (0.6) or B (0.4). After A every continuation is unlikely (0.3 max);
    # after B, <eos> is certain. Greedy: A, then ... (0.6 * 0.35 = 0.21). Best: B <eos> (0.4).
    A, B = 3, 4

    def step(tokens, state):
        prev = tokens.numpy()
        lp = np.full((len(prev), 5), 1e-9)
        lp[prev == SOS, A], lp[prev == SOS, B] = 0.6, 0.4
        lp[prev == A] = [0.1, 1e-9, 0.35, 0.3, 0.25]
        lp[prev == B, EOS] = 1.0
        lp[prev == EOS, EOS] = 1.0
        lp[prev == PAD, PAD] = 1.0
        return np.log(lp / lp.sum(1, keepdims=True)), state

    greedy = greedy_decode(step, None, SOS, EOS, max_len=5)
    assert greedy.tokens.tolist() == [[A, EOS]]
    np.testing.assert_allclose(np.exp(greedy.scores), [0.6 * 0.35], rtol=1e-6)
    beam = beam_search(step, None, SOS, EOS, beam_size=2, max_len=5)
    assert beam.tokens.tolist() == [[B, EOS]] and beam.lengths.tolist() == [2]
    np.testing.assert_allclose(np.exp(beam.scores), [0.4], rtol=1e-6)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beam_equals_brute_force(seed, alpha):
    rng = np.random.default_rng(seed)
    v, max_len = 4, 4
    table = random_table(rng, v)
    out = beam_search(markov_step(table), None, SOS, EOS, beam_size=v ** max_len,
                      max_len=max_len, length_penalty=alpha)
    best = brute_force_best(table, SOS, max_len, alpha)
    assert out.tokens[0, :out.lengths[0]].tolist() == best


@pytest.mark.parametrize("seed", range(3))
def test_beam_size_one_is_greedy(seed):
    table = random_table(np.random.default_rng(seed), 6)
    g = greedy_decode(markov_step(table), None, SOS, EOS, max_len=8, batch_size=2)
    b = beam_search(markov_step(table), None, SOS, EOS, beam_size=1, max_len=8, batch_size=2)
    np.testing.assert_array_equal(b.tokens, g.tokens)
    np.testing.assert_array_equal(b.lengths, g.lengths)
    np.testing.assert_allclose(b.scores, g.scores)


def test_num_return_sorted_and_distinct():
    table = random_table(np.random.default_rng(11), 5)
    out = beam_search(markov_step(table), None, SOS, EOS, beam_size=4, max_len=6,
                      num_return=3, batch_size=2)
    assert out.tokens.shape[:2] == (2, 3) and out.scores.shape == (2, 3)
    assert (np.diff(out.scores, axis=1) <= 1e-12).all()
    for i in range(2):
        seqs = {tuple(out.tokens[i, r, :out.lengths[i, r]]) for r in range(3)}
        assert len(seqs) == 3
        for r in range(3):  # each score is its sequence's log-probability
            seq, prev, s = out.tokens[i, r, :out.lengths[i, r]], SOS, 0.0
            for tok in seq:
                s += np.log(table[prev, tok])
                prev = tok
            np.testing.assert_allclose(out.scores[i, r], s, rtol=1e-10)
            assert (out.tokens[i, r, out.lengths[i, r]:] == PAD).all()


def test_length_penalty_prefers_longer_confident_sequences():
    # <sos> -> <eos> (0.3): log-probability -1.20, the best sum. <sos> -> 3 (0.7) -> 4 (0.6)
    # -> <eos> (0.6): sum -1.38 but -0.46 per token, the best mean (length_penalty=1).
    table = np.array([[.2, .2, .2, .2, .2],
                      [1e-4, 1e-4, .3, .6997, 1e-4],
                      [.97, .01, .01, .005, .005],
                      [.001, .001, .01, .388, .6],
                      [.001, .001, .6, .008, .39]])
    short = beam_search(markov_step(table), None, SOS, EOS, beam_size=3, max_len=3)
    assert short.tokens.tolist() == [[EOS]]
    np.testing.assert_allclose(short.scores, np.log([.3]))
    longer = beam_search(markov_step(table), None, SOS, EOS, beam_size=3, max_len=3,
                         length_penalty=1.0)
    assert longer.tokens.tolist() == [[3, 4, EOS]] and longer.lengths.tolist() == [3]
    np.testing.assert_allclose(longer.scores, np.log([.6997 * .6 * .6]))


def test_batch_equals_samples_decoded_alone():
    table = random_table(np.random.default_rng(5), 6)
    starts = np.array([SOS, 3, 4, 5])
    both = beam_search(markov_step(table), None, starts, EOS, beam_size=3, max_len=6)
    for i, s in enumerate(starts):
        alone = beam_search(markov_step(table), None, np.array([s]), EOS, beam_size=3,
                            max_len=6)
        n = alone.lengths[0]
        assert both.lengths[i] == n
        np.testing.assert_array_equal(both.tokens[i, :n], alone.tokens[0, :n])
        np.testing.assert_allclose(both.scores[i], alone.scores[0])


class Carry(NamedTuple):
    history: shendu.Tensor   # (1, B, t): batch axis 1, like an LSTM's h
    last: np.ndarray         # (B,)


def history_log_probs(history, v=5):
    """A model whose next-token distribution depends on the whole history."""
    rng = np.random.default_rng(abs(hash(tuple(history))) % (2 ** 32))
    z = rng.standard_normal(v) * 2
    z[SOS] = -30.0
    return z - np.log(np.exp(z).sum())


def test_nested_state_is_reordered_with_the_beams():
    """The state carries each beam's whole history (in three leaves with different batch
    axes), and the next-token distribution depends on it. The returned scores equal the
    sequences' log-probabilities recomputed from scratch, and the three leaves agree,
    only if the state is reordered with the beams."""
    def step(tokens, state):
        carry, extra = state
        tok = tokens.numpy()
        hist = carry.history.numpy()[0]                        # (B, t)
        np.testing.assert_array_equal(hist[:, -1], carry.last)  # leaves moved together
        np.testing.assert_array_equal(extra["copy"].numpy(), carry.last)
        hist = np.concatenate([hist, tok[:, None]], axis=1)
        lp = np.stack([history_log_probs(h) for h in hist.tolist()])
        new = (Carry(shendu.tensor(hist[None]), tok), {"copy": tokens, "const": extra["const"]})
        return lp, new

    start = np.array([SOS, SOS, 3])
    state = (Carry(shendu.tensor(np.full((1, 3, 1), -1)), np.full(3, -1)),
             {"copy": shendu.tensor(np.full(3, -1)), "const": None})
    out = beam_search(step, state, start, EOS, beam_size=4, max_len=5, num_return=2,
                      batch_dim=(Carry(1, 0), {"copy": 0, "const": 0}))
    for i in range(3):
        for r in range(2):
            seq = out.tokens[i, r, :out.lengths[i, r]].tolist()
            hist, score = [-1, int(start[i])], 0.0
            for tok in seq:
                score += history_log_probs(hist)[tok]
                hist.append(tok)
            np.testing.assert_allclose(out.scores[i, r], score, rtol=1e-10)


def test_reorder_state_helper():
    h = shendu.arange(6).reshape(1, 3, 2)
    s = reorder_state({"h": (h, h), "n": np.arange(3), "none": None}, np.array([2, 2, 0]),
                      batch_dim={"h": (1, 1), "n": 0, "none": 0})
    assert s["h"][0].numpy()[0, :, 0].tolist() == [4, 4, 0]
    assert s["n"].tolist() == [2, 2, 0] and s["none"] is None
    with pytest.raises(ValueError, match="does not match"):
        reorder_state((h, h), np.array([0]), batch_dim=(1,))


def test_custom_reorder():
    calls = []

    def reorder(state, index):
        calls.append(index.copy())
        return state

    table = random_table(np.random.default_rng(0), 4)
    beam_search(markov_step(table), "opaque", SOS, EOS, beam_size=2, max_len=3, reorder=reorder)
    assert calls[0].tolist() == [0, 0]  # the start: each sample's state repeated per beam


def test_lstm_decoder_end_to_end():
    """An untrained LSTM decoder: the beam's score is the sequence's log-probability under
    teacher forcing, and beam_size=1 equals greedy decoding."""
    shendu.manual_seed(0)
    v, hidden, n = 7, 16, 3
    emb, lstm, out_layer = nn.Embedding(v, 8), nn.LSTM(8, hidden), nn.Linear(hidden, v)
    with shendu.no_grad():  # sharper, history-dependent distributions
        out_layer.weight._data *= 20
        lstm.weight_hh_l0._data *= 5
    h0 = (shendu.randn(1, n, hidden), shendu.randn(1, n, hidden))

    def step(tokens, state):
        y, state = lstm(emb(tokens).unsqueeze(0), state)
        return shendu.log_softmax(out_layer(y[0]), dim=-1), state

    g = greedy_decode(step, h0, SOS, EOS, max_len=6, batch_size=n)
    b1 = beam_search(step, h0, SOS, EOS, beam_size=1, max_len=6, batch_size=n, batch_dim=1)
    np.testing.assert_array_equal(b1.tokens, g.tokens)
    b = beam_search(step, h0, SOS, EOS, beam_size=4, max_len=6, batch_size=n, batch_dim=1,
                    num_return=4)
    assert (b.scores[:, 0] >= g.scores - 1e-5).all()  # the best beam is at least greedy's
    for i in range(n):  # every returned score is its sequence's teacher-forced log-prob
        for r in range(4):
            seq = b.tokens[i, r, :b.lengths[i, r]]
            inp = shendu.tensor(np.concatenate([[SOS], seq[:-1]])[:, None])
            with shendu.no_grad():
                y, _ = lstm(emb(inp), (h0[0][:, i:i + 1], h0[1][:, i:i + 1]))
                lp = shendu.log_softmax(out_layer(y[:, 0]), dim=-1).numpy()
            np.testing.assert_allclose(b.scores[i, r], lp[np.arange(len(seq)), seq].sum(),
                                       rtol=1e-5)


def test_decoding_errors():
    def bad_step(tokens, state):
        return np.zeros((len(tokens) + 1, 4)), state

    with pytest.raises(ValueError, match=r"log-probabilities of shape \(B, V\) with B = 2"):
        greedy_decode(bad_step, None, SOS, EOS, batch_size=2)
    with pytest.raises(ValueError, match=r"with B = 6"):
        beam_search(bad_step, None, SOS, EOS, beam_size=3, batch_size=2)
    step = markov_step(np.full((4, 4), 0.25))
    with pytest.raises(ValueError, match="num_return \\(3\\) can't exceed beam_size \\(2\\)"):
        beam_search(step, None, SOS, EOS, beam_size=2, num_return=3)
    with pytest.raises(ValueError, match="max_len must be an int >= 1"):
        greedy_decode(step, None, SOS, EOS, max_len=0)
    with pytest.raises(ValueError, match="beam_size must be an int >= 1"):
        beam_search(step, None, SOS, EOS, beam_size=0)
    with pytest.raises(ValueError, match="NaN"):
        greedy_decode(lambda t, s: (np.full((1, 4), np.nan), s), None, SOS, EOS)


# ------------------------------------------------------------------- sample
LOGITS = np.array([2.0, 1.0, 0.5, -1.0, 0.0])


def test_sample_is_repeatable_under_manual_seed():
    logits = shendu.tensor(np.tile(LOGITS, (50, 1)))
    shendu.manual_seed(7)
    a = sample(logits)
    shendu.manual_seed(7)
    b = sample(logits)
    assert isinstance(a, shendu.Tensor) and a.dtype == shendu.int64 and a.shape == (50,)
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    shendu.manual_seed(8)
    assert not np.array_equal(a.numpy(), sample(logits).numpy())
    np.testing.assert_array_equal(sample(LOGITS[None].repeat(50, 0), generator=3),
                                  sample(LOGITS[None].repeat(50, 0), generator=3))
    g1, g2 = np.random.default_rng(4), np.random.default_rng(4)
    np.testing.assert_array_equal(sample(LOGITS[None].repeat(50, 0), generator=g1),
                                  sample(LOGITS[None].repeat(50, 0), generator=g2))


def test_sample_follows_the_softmax():
    n = 40000
    ids = sample(np.tile(LOGITS, (n, 1)), generator=0)
    assert isinstance(ids, np.ndarray) and ids.shape == (n,)
    freq = np.bincount(ids, minlength=5) / n
    p = np.exp(LOGITS) / np.exp(LOGITS).sum()
    np.testing.assert_allclose(freq, p, atol=4 * np.sqrt(p * (1 - p) / n).max())
    # temperature 0.5 squares the odds: p ~ exp(2 * logits)
    freq = np.bincount(sample(np.tile(LOGITS, (n, 1)), temperature=0.5, generator=1),
                       minlength=5) / n
    p2 = np.exp(2 * LOGITS) / np.exp(2 * LOGITS).sum()
    np.testing.assert_allclose(freq, p2, atol=4 * np.sqrt(p2 * (1 - p2) / n).max())


def test_sample_temperature_zero_is_argmax():
    logits = np.random.default_rng(0).standard_normal((10, 3, 6))
    ids = sample(logits, temperature=0)
    assert ids.shape == (10, 3)
    np.testing.assert_array_equal(ids, logits.argmax(-1))


def test_sample_top_k_restricts_the_choice():
    n = 5000
    ids = sample(np.tile(LOGITS, (n, 1)), top_k=2, generator=0)
    assert set(np.unique(ids).tolist()) == {0, 1}
    freq = (ids == 0).mean()
    p0 = np.exp(2) / (np.exp(2) + np.exp(1))  # renormalized over the top 2
    assert abs(freq - p0) < 4 * np.sqrt(p0 * (1 - p0) / n)
    assert set(np.unique(sample(np.tile(LOGITS, (n, 1)), top_k=1, generator=0))) == {0}
    assert len(np.unique(sample(np.tile(LOGITS, (n, 1)), top_k=10, generator=0))) == 5


def test_sample_top_p_keeps_the_nucleus():
    p = np.exp(LOGITS) / np.exp(LOGITS).sum()  # sorted: 0 (.50), 1 (.18), 2 (.11), 4 (.07), ...
    n = 5000
    ids = sample(np.tile(LOGITS, (n, 1)), top_p=0.6, generator=0)
    assert set(np.unique(ids).tolist()) == {0, 1}  # 0.50 < 0.6, 0.50 + 0.18 >= 0.6
    ids = sample(np.tile(LOGITS, (n, 1)), top_p=0.4, generator=0)
    assert set(np.unique(ids).tolist()) == {0}     # the top token is always kept
    ids = sample(np.tile(LOGITS, (n, 1)), top_p=1.0, generator=0)
    assert len(np.unique(ids)) == 5
    cut = p[0] + p[1] + p[2]
    ids = sample(np.tile(LOGITS, (n, 1)), top_p=cut - 1e-9, generator=0)
    assert set(np.unique(ids).tolist()) == {0, 1, 2}
    ids = sample(np.tile(LOGITS, (n, 1)), top_k=4, top_p=0.99, generator=0)
    assert 3 not in ids  # top_k removed token 3 (the smallest) first


def test_sample_never_picks_impossible_tokens():
    logits = np.tile([-np.inf, 0.0, -np.inf, 0.0, -np.inf], (20000, 1))
    ids = sample(logits, generator=0)
    assert set(np.unique(ids).tolist()) == {1, 3}
    tiny = np.tile([50.0, -50.0, -50.0], (20000, 1))  # exp(-100) underflows to 0 mass
    assert set(np.unique(sample(tiny, generator=0)).tolist()) == {0}


def test_sample_errors():
    with pytest.raises(ValueError, match="temperature must be >= 0"):
        sample(LOGITS, temperature=-1)
    with pytest.raises(ValueError, match="top_k must be an int >= 1"):
        sample(LOGITS, top_k=0)
    with pytest.raises(ValueError, match=r"top_p must lie in \(0, 1\]"):
        sample(LOGITS, top_p=0.0)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., V\)"):
        sample(np.float64(1.0))
    with pytest.raises(TypeError, match="generator must be"):
        sample(LOGITS, generator="seed")


def test_sample_one_distribution_gives_a_scalar_array():
    ids = sample(LOGITS, generator=0)
    assert ids.shape == () and 0 <= int(ids) < 5
    t = sample(shendu.tensor(LOGITS), temperature=0)
    assert t.shape == () and int(t.item()) == 0
