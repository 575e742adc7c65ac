"""Learning to add with seq2seq: an encoder-decoder LSTM, then the same with attention.

Lesson 000, chapter 5.3 (Seq2seq, "國小加法"): ``"12+345" -> "357"`` character by
character. The **encoder** LSTM reads the question and keeps only its memory (h, c); the
**decoder** LSTM starts from that memory and the ``<sos>`` token ("Start Of Sequence"),
writes one character per step, feeding back the character it wrote, and stops with
``<eos>`` ("End Of Sequence")::

    encoder:  '5' '4' '3' '+' '2' '1'   -> (h, c)            (question reversed)
    decoder:  <sos> '3'  '5'  '7'        -> '3' '5' '7' <eos>

The question is reversed (Sutskever et al.'s trick: the units digits, needed first, are
read last). In training the decoder is fed the true previous character (teacher
forcing); at test time its own (greedy decoding, ``shendu.nn.decoding.greedy_decode``;
beam search gives the same answers here).

The second model adds **attention** (Luong et al. 2015, "general" score): at every step
the decoder's state is compared with every encoder output, the softmax of the scores
weights them, and the weighted mean (the context) is combined with the state before the
output layer: ``h~ = tanh(W_c [context; s_t])``. The decoder no longer has to squeeze the
whole question into one (h, c); the PNG shows which question characters each answer digit
looked at (here, as measured below, it did not need to).

Data: ``shendu.datasets.addition_split`` (seeded, every problem different, ``a+b`` and
``b+a`` count as one): operands of 1-3 digits (digit count uniform), 80,000 training,
5,000 validation and 5,000 held-out test problems, none shared. Then 1,000 problems with
two 4-digit operands and 1,000 with two 5-digit operands: lengths never seen in training.

Models: Embedding(16 -> 32), LSTM hidden 128 (encoder and decoder), Linear(128 -> 16);
batch 128, Adam lr 3e-3 with cosine decay over 20 epochs, gradient norm clipped at 1;
cross-entropy over the answer characters and ``<eos>`` (padding ignored). The epoch with
the best validation exact-match accuracy is kept.

Run: python examples/addition_seq2seq.py [--out examples_output] [--epochs 20]
     [--models seq2seq,attention] [--beam 3] [--quick]

Measured (2-core CPU shared with other jobs, load 7-14, 1 BLAS thread, seed 0, 20 epochs);
exact match means the whole answer right and followed by ``<eos>``; in brackets the
per-character accuracy:

=================  ==========  ==========  ==============  ==============  ==========
model              test 3-dig  char acc.   4-digit (never  5-digit (never  train time
                   (held out)  (3-digit)   seen)           seen)
=================  ==========  ==========  ==============  ==============  ==========
seq2seq LSTM       0.9992      0.9996      0.000 (0.269)   0.000 (0.143)   40 min
seq2seq + attn.    1.0000      1.0000      0.000 (0.239)   0.000 (0.145)   47 min
=================  ==========  ==========  ==============  ==============  ==========

Both meet the target (>= 0.99 exact match on the 5,000 held-out 3-digit problems; beam
search with 3 beams gives the same figures). Best validation epochs: 12 (0.9994) and 14
(1.0000). Neither model adds 4- or 5-digit numbers: they write a 3- or 4-digit answer
(``9487+4124`` -> ``1521`` and ``1511``): nothing in training taught the decoder to write
a fifth digit or the encoder what a fourth operand digit means. Learning curves: the
plain model reached 0.90 exact match at epoch 4; the attention model sat on a plateau
(0.18 at epoch 4) and then jumped (0.77 at epoch 5, 0.99 at epoch 10). In the plotted
problem (``12+345``) every answer digit puts all its attention on the first character
the encoder reads (the ``5``): with the whole question in the encoder's final (h, c),
this small task does not need attention, and the model seems to have learned to ignore
it. Wall time
about 87 min for the whole script on the loaded machine (the two models were measured in
two processes with ``--models``; the seeds make each model's run identical either way).
"""
import os

if __name__ == "__main__":  # one BLAS thread: faster for these small matrices on a busy box
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import nn, optim
from shendu.data.text import lengths_to_mask
from shendu.datasets import addition, addition_split, addition_vocab, encode_addition
from shendu.nn.decoding import beam_search, greedy_decode
from shendu.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


class Seq2Seq(nn.Module):
    """Encoder LSTM -> (h, c) -> decoder LSTM -> Linear; with ``attention=True`` the
    decoder's outputs attend over the encoder's outputs (Luong, general score)."""

    def __init__(self, vocab_size, hidden_size=128, embedding_dim=32, attention=False):
        super().__init__()
        self.attention = attention
        self.src_embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.tgt_embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        self.encoder = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        self.decoder = nn.LSTM(embedding_dim, hidden_size, batch_first=True)
        if attention:
            self.attn = nn.LuongAttention(hidden_size, method="general")
            self.combine = nn.Linear(2 * hidden_size, hidden_size)
        self.out = nn.Linear(hidden_size, vocab_size)

    def encode(self, src, src_lengths):
        """Questions (N, S) -> memory for the decoder: ((h, c), keys, projected keys, mask)."""
        packed = pack_padded_sequence(self.src_embed(src), src_lengths, batch_first=True,
                                      enforce_sorted=False)
        outputs, (h, c) = self.encoder(packed)
        if not self.attention:
            return (h, c), None, None, None
        keys, _ = pad_packed_sequence(outputs, batch_first=True,
                                      total_length=src.shape[1])    # (N, S, H)
        mask = shendu.tensor(lengths_to_mask(src_lengths, src.shape[1]))
        return (h, c), keys, self.attn.precompute(keys), mask

    def decode(self, tgt_in, memory):
        """Decoder inputs (N, T) and the memory -> logits (N, T, V), the new memory and the
        attention weights (N, T, S) (None without attention)."""
        state, keys, projected, mask = memory
        s, state = self.decoder(self.tgt_embed(tgt_in), state)          # (N, T, H)
        weights = None
        if self.attention:
            context, weights = self.attn(s, keys, mask=mask, projected_keys=projected)
            s = self.combine(shendu.cat([context, s], dim=-1)).tanh()
        return self.out(s), (state, keys, projected, mask), weights

    def forward(self, src, src_lengths, tgt_in):
        """Teacher forcing: logits (N, T, V) for every answer position at once."""
        logits, _, _ = self.decode(tgt_in, self.encode(src, src_lengths))
        return logits

    def step(self, tokens, memory):
        """One decoding step for ``greedy_decode``/``beam_search``: (B,) -> (B, V)."""
        logits, memory, _ = self.decode(tokens.reshape(-1, 1), memory)
        return F.log_softmax(logits[:, 0], dim=-1), memory


# (h, c) are (layers, N, H): batch axis 1; keys, projected keys, mask: batch axis 0
MEMORY_BATCH_DIMS = ((1, 1), 0, 0, 0)


def answer_correct(vocab, tokens, lengths, answers):
    """Exact match: the decoded digits equal the answer and end with <eos>."""
    eos = vocab.eos_index
    ok = []
    for row, n, ans in zip(tokens, lengths, answers):
        n = int(n)
        ok.append(n >= 1 and row[n - 1] == eos and vocab.decode(row[:n - 1]) == ans.strip())
    return np.array(ok)


def characters_right(tokens, tgt_out):
    """Per character: how many target positions (answer and <eos>, padding 0 excluded)
    hold the decoded token, and how many positions there are."""
    width = tgt_out.shape[1]
    toks = np.zeros((len(tgt_out), width), np.int64)
    m = min(width, tokens.shape[1])
    toks[:, :m] = tokens[:, :m]
    real = tgt_out != 0
    return int(((toks == tgt_out) & real).sum()), int(real.sum())


def evaluate(model, questions, answers, beam_size=1, batch_size=1000):
    """Greedy (or beam-search) decoding of every question; returns the exact-match
    accuracy, the character accuracy (answer positions and <eos>) and the decoded strings."""
    vocab = addition_vocab()
    model.eval()
    ok, char_ok, char_n, texts = [], 0, 0, []
    max_len = max(len(a) for a in answers) + 2
    with shendu.no_grad():
        for start in range(0, len(questions), batch_size):
            q, a = questions[start:start + batch_size], answers[start:start + batch_size]
            enc = encode_addition(q, a, vocab)
            memory = model.encode(shendu.tensor(enc.src), enc.src_lengths)
            if beam_size == 1:
                out = greedy_decode(model.step, memory, vocab.sos_index, vocab.eos_index,
                                    max_len=max_len, batch_size=len(q))
            else:
                out = beam_search(model.step, memory, vocab.sos_index, vocab.eos_index,
                                  beam_size=beam_size, max_len=max_len, batch_size=len(q),
                                  batch_dim=MEMORY_BATCH_DIMS)
            ok.append(answer_correct(vocab, out.tokens, out.lengths, a))
            texts.extend(vocab.decode_batch(out.tokens))
            right, total = characters_right(out.tokens, enc.tgt_out)
            char_ok, char_n = char_ok + right, char_n + total
    model.train()
    ok = np.concatenate(ok)
    return float(ok.mean()), char_ok / char_n, texts


def attention_map(model, question, answer):
    """The attention weights (answer steps, question characters) of one problem, decoded
    greedily (the model's own answer)."""
    vocab = addition_vocab()
    model.eval()
    with shendu.no_grad():
        enc = encode_addition([question], [answer], vocab)
        memory = model.encode(shendu.tensor(enc.src), enc.src_lengths)
        token, rows, written = shendu.tensor([vocab.sos_index]), [], []
        for _ in range(len(answer) + 2):
            logits, memory, w = model.decode(token.reshape(1, 1), memory)
            rows.append(w.numpy()[0, 0])
            token = logits[:, 0].argmax(dim=-1)
            written.append(vocab.itos[int(token.item())])
            if written[-1] == "<eos>":
                break
    model.train()
    return np.array(rows), written


def train_epoch(model, enc, vocab, opt, sched, order, steps, batch_size, with_lengths):
    """``steps`` batches of teacher forcing, in ``order``: cross-entropy over the answer
    characters (padding ignored), gradient norm clipped at 1, one optimizer and
    scheduler step each. Each batch is cut to its longest question and answer. The
    model is called as ``model(src, src_lengths, tgt_in)`` (``with_lengths``, the LSTM)
    or ``model(src, tgt_in)`` (the Transformer of transformer_addition.py). Returns the
    batches' losses."""
    losses = []
    for b in range(steps):
        idx = order[b * batch_size:(b + 1) * batch_size]
        s_w, t_w = int(enc.src_lengths[idx].max()), int(enc.tgt_lengths[idx].max())
        src, tgt_in = shendu.tensor(enc.src[idx, :s_w]), shendu.tensor(enc.tgt_in[idx, :t_w])
        logits = model(src, enc.src_lengths[idx], tgt_in) if with_lengths else model(src, tgt_in)
        target = shendu.tensor(enc.tgt_out[idx, :t_w])
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), target.reshape(-1),
                               ignore_index=vocab.pad_index)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        losses.append(loss.item())
    return losses


def train_model(attention, train, val, epochs=20, hidden_size=128, batch_size=128, lr=3e-3,
                seed=0, max_batches=None, verbose=True):
    shendu.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vocab = addition_vocab()
    model = Seq2Seq(len(vocab), hidden_size, attention=attention)
    opt = optim.Adam(model.parameters(), lr=lr)
    enc = encode_addition(*train, vocab)
    n = len(enc.src)
    steps_per_epoch = math.ceil(n / batch_size) if max_batches is None else max_batches
    total = epochs * steps_per_epoch
    sched = optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(k, total) / total)))
    history = {"loss": [], "val_exact": [], "val_char": []}
    best = (-1.0, None, -1)
    name = "seq2seq + attention" if attention else "seq2seq"
    t0 = time.perf_counter()
    for epoch in range(epochs):
        losses = train_epoch(model, enc, vocab, opt, sched, rng.permutation(n),
                             steps_per_epoch, batch_size, with_lengths=True)
        exact, char, _ = evaluate(model, *val)
        history["loss"].append(float(np.mean(losses)))
        history["val_exact"].append(exact)
        history["val_char"].append(char)
        if exact > best[0]:
            best = (exact, {k: v.numpy().copy() for k, v in model.state_dict().items()}, epoch)
        if verbose:
            print(f"  {name} epoch {epoch + 1:2d}/{epochs}: loss {history['loss'][-1]:.4f}  "
                  f"val exact match {exact:.4f}  per character {char:.4f}  "
                  f"({time.perf_counter() - t0:.0f} s)")
    model.load_state_dict({k: shendu.tensor(v) for k, v in best[1].items()})
    history["best_epoch"] = best[2]
    history["train_seconds"] = time.perf_counter() - t0
    return model, history


def make_data(n_train=80000, n_val=5000, n_test=5000, n_long=1000, seed=0):
    (q_tr, a_tr), (q_te, a_te) = addition_split(n_train + n_val, n_test, digits=3, seed=seed)
    data = {"train": (q_tr[:n_train], a_tr[:n_train]),
            "val": (q_tr[n_train:], a_tr[n_train:]),
            "test": (q_te, a_te)}
    for d in (4, 5):  # both operands exactly d digits: lengths the model never saw
        data[f"{d}-digit"] = addition(n_long, digits=d, min_digits=d, seed=seed + d)
    return data


def plot(results, data, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(15, 4.6))
    ax1, ax2, ax3 = fig.add_subplot(1, 3, 1), fig.add_subplot(1, 3, 2), fig.add_subplot(1, 3, 3)
    for name, r in results.items():
        h = r["history"]
        ep = np.arange(1, len(h["val_exact"]) + 1)
        ax1.plot(ep, h["val_exact"], marker="o", ms=3, label=f"{name}: exact match")
        ax1.plot(ep, h["val_char"], ls="--", label=f"{name}: per character")
    ax1.set_xlabel("epoch")
    ax1.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax1.set_ylabel("validation accuracy (3-digit)")
    ax1.set_ylim(0, 1.01)
    ax1.grid(alpha=0.3)
    ax1.legend(fontsize=8, loc="lower right")
    ax1.set_title("Learning to add (greedy decoding)")

    sets = ["test", "4-digit", "5-digit"]
    x = np.arange(len(sets))
    width = 0.38
    for k, (name, r) in enumerate(results.items()):
        vals = [r["exact"][s] for s in sets]
        bars = ax2.bar(x + (k - 0.5) * width, vals, width, label=name)
        for bar, v in zip(bars, vals):
            ax2.text(bar.get_x() + bar.get_width() / 2, v + 0.01, f"{v:.3f}", ha="center",
                     fontsize=8)
    ax2.set_xticks(x)
    ax2.set_xticklabels(["3-digit\n(held out)", "4-digit\n(never seen)", "5-digit\n(never seen)"])
    ax2.set_ylabel("exact-match accuracy")
    ax2.set_ylim(0, 1.08)
    ax2.legend(fontsize=8)
    ax2.set_title("Whole answer right")

    att = [r for r in results.values() if r.get("attention_map") is not None]
    if att:
        weights, question, written = att[0]["attention_map"]
        ax3.imshow(weights, cmap="viridis", aspect="auto", vmin=0, vmax=1)
        ax3.set_xticks(np.arange(len(question)))
        ax3.set_xticklabels(list(question))
        ax3.set_yticks(np.arange(len(written)))
        ax3.set_yticklabels(written)
        ax3.set_xlabel("question as the encoder reads it (reversed)")
        ax3.set_ylabel("answer character written")
        ax3.set_title(f"Attention weights: {question[::-1]} = {''.join(written[:-1])}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--n-train", type=int, default=80000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--beam", type=int, default=3, help="beam size for the beam-search check")
    parser.add_argument("--models", default="seq2seq,attention",
                        help="comma-separated: seq2seq (plain) and/or attention")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="2 epochs of 60 batches, hidden 64, small sets (for tests)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    if args.quick:
        data = make_data(n_train=8000, n_val=300, n_test=300, n_long=100, seed=args.seed)
        epochs, max_batches, hidden = 2, 60, 64
    else:
        data = make_data(n_train=args.n_train, seed=args.seed)
        epochs, max_batches, hidden = args.epochs, None, args.hidden
    print("addition: " + ", ".join(f"{len(v[0])} {k}" for k, v in data.items())
          + f"; e.g. {data['train'][0][0]!r} -> {data['train'][1][0]!r} (question reversed)")

    chosen = [m.strip() for m in args.models.split(",")]
    unknown = set(chosen) - {"seq2seq", "attention"}
    if unknown or not chosen:
        parser.error(f"--models takes seq2seq and/or attention, got {args.models!r}")
    results = {}
    for attention in [m == "attention" for m in chosen]:
        name = "seq2seq + attention" if attention else "seq2seq"
        model, history = train_model(attention, data["train"], data["val"], epochs=epochs,
                                     hidden_size=hidden, seed=args.seed,
                                     max_batches=max_batches)
        exact, char, texts = {}, {}, {}
        for part in ("test", "4-digit", "5-digit"):
            exact[part], char[part], texts[part] = evaluate(model, *data[part])
        beam_exact, _, _ = evaluate(model, *data["test"], beam_size=args.beam)
        r = dict(model=model, history=history, exact=exact, char=char, texts=texts,
                 beam_exact=beam_exact, attention_map=None)
        if attention:
            q, a = "543+21", "357"  # the course's 12+345, reversed as the model reads it
            weights, written = attention_map(model, q, a)
            r["attention_map"] = (weights, q, written)
        results[name] = r
        print(f"{name}: held-out 3-digit exact match {exact['test']:.4f} (target >= 0.99; "
              f"beam {args.beam}: {beam_exact:.4f}), per character {char['test']:.4f}; "
              f"4-digit {exact['4-digit']:.4f} (per character {char['4-digit']:.3f}), "
              f"5-digit {exact['5-digit']:.4f} (per character {char['5-digit']:.3f}); "
              f"best epoch {history['best_epoch'] + 1}, {history['train_seconds']:.0f} s")
        for part in ("test", "4-digit"):
            shown = [f"{q[::-1]}={t}" + ("" if t == ans else f" (not {ans})")
                     for q, ans, t in zip(*data[part], texts[part][:4])]
            print(f"  {part}: " + "; ".join(shown))

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "addition_seq2seq.png"
    plot(results, data, png)
    print(f"Saved {png}  (wall time {time.perf_counter() - t_start:.0f} s)")
    return dict(results=results, data=data, png=png)


if __name__ == "__main__":
    main()
