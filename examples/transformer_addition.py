"""Learning to add with a Transformer: encoder-decoder attention only, no recurrence.

Lesson 000, chapter 6 (Transformer; the course lists it in 5.4 as the third fix for
RNNs' long dependencies) on the task of chapter 5.3 ("國小加法", as in
examples/addition_seq2seq.py): ``"12+345" -> "357"`` character by character, the
question reversed (``"543+21"``).

The model is ``nn.Transformer`` (Vaswani et al. 2017) with its embeddings around it::

    question ids (N, S) -> Embedding + positions -> encoder (self-attention) -> memory
    <sos> 3 5 7   (N, T) -> Embedding + positions -> decoder -> Linear -> 3 5 7 <eos>
                          (causal self-attention, cross-attention over memory)

Attention by itself ignores order ("543+21" and "345+21" are the same bag of
characters), so each position's vector gets a **positional encoding** added, the fixed
sines and cosines of the paper (``nn.SinusoidalPositionalEncoding``; ``--positions
learned``: ``nn.LearnedPositionalEmbedding``, one trained vector per position). The
decoder sees all answer positions at once in training (teacher forcing); the **causal
mask** ``nn.Transformer.generate_square_subsequent_mask(T)`` stops position t from
peeking at the characters after it. Padding in the questions is hidden from attention by
``src_key_padding_mask``. At test time answers are decoded greedily
(``shendu.nn.decoding.greedy_decode``), one character per step, the decoder re-reading
the prefix it has written.

One detail mattered more than any hyper-parameter: the paper multiplies the embeddings
by sqrt(d_model), which suits its small initial embeddings (std d^-1/2); ours start
N(0, 1) like PyTorch's, so the factor 8 drowned the positional encodings (entries in
[-1, 1]). With it the same model had 1.8% validation exact match after 2 epochs; without
it, 98.5-99.5%. In addition, position is everything.

Data, as examples/addition_seq2seq.py (the same problems with the same seed):
``shendu.datasets.addition_split``, operands of 1-3 digits, 80,000 training, 5,000
validation and 5,000 held-out test problems, none shared (``a+b`` and ``b+a`` count as
one); then 1,000 problems with two 4-digit and 1,000 with two 5-digit operands.

Model: d_model 64, 4 heads, 2 encoder and 2 decoder layers, feed-forward 256, no
dropout (80,000 problems, 3 passes: nothing to overfit), pre-norm (``norm_first=True``);
16-token vocabulary; 236,816 weights. Adam lr 2e-3 (betas 0.9, 0.98), a 300-step linear
warm-up then cosine decay to 2%, batch 128, gradient norm clipped at 1, 3 epochs;
cross-entropy over the answer characters and ``<eos>`` (padding ignored). The epoch with
the best validation exact match is kept. The weights are saved for
examples/attention_maps.py.

Run: python examples/transformer_addition.py [--out examples_output] [--epochs 3]
[--positions sinusoidal|learned] [--quick]

Measured (2-core CPU shared with other jobs, load ~10, 1 BLAS thread, seed 0); exact
match means the whole answer right and followed by ``<eos>``:

==============================  =====================================================
3-digit held-out test           exact match 1.0000 (5,000 of 5,000; target >= 0.99),
                                per character 1.0000
validation, epochs 1 / 2 / 3    0.9622 / 0.9994 / 1.0000 exact match
4-digit (never seen)            exact match 0.000; per character 0.184; units digit
                                right in 0.99 of the answers, tens 0.14, hundreds 0.13
5-digit (never seen)            exact match 0.000; per character 0.097
answers written                 never longer than 4 digits (the longest in training)
training                        3 epochs (1,875 steps): 454 s wall, 129 s of CPU time;
                                the whole script 475 s
learned positions, 4 epochs     3-digit 0.9996; 4-digit 0.000 (per character 0.150),
                                5-digit 0.000 (0.098); 161 s of CPU time
==============================  =====================================================

Two epochs are nearly enough: 0.9994 after the second here, and 1.000 on 1,000 held-out
problems when the cosine schedule spans 2 epochs (examples/attention_maps.py's brief
training). examples/addition_seq2seq.py runs the LSTM encoder-decoders (with and without attention)
on the same problems; compare its table for the 4- and 5-digit columns.

Why the longer problems fail: see ``LENGTH_NOTE`` below (the script prints it).
"""
import os

if __name__ == "__main__":  # one BLAS thread: faster for these small matrices on a busy box
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import nn, optim
from shendu.datasets import addition_vocab, encode_addition
from shendu.nn.decoding import greedy_decode

# the same problems, splits, answer checks and training epoch as the LSTM seq2seq
# lesson, so the figures compare
from addition_seq2seq import (answer_correct, characters_right, make_data,  # noqa: E402
                              train_epoch)

LENGTH_NOTE = """\
Why 4- and 5-digit problems fail (as Transformers usually do on lengths they never saw):
both are about positions.
* Never-seen positions. Training questions have at most 7 characters and answers at most
  4 digits, so encoder positions 7-10 and decoder positions 5-6 never occurred. The
  sinusoidal vectors exist for them, but every weight that reads them was fitted to
  positions 0-6 only (learned positions are worse: those rows stay at their random
  start). The model never writes more than 4 digits, so no 5- or 6-digit answer can
  come out right.
* Digits paired by the positions they were seen at. Addition pairs digits of equal place
  value. An encoder head learned this (attention_maps.py draws it): in "475+568" each
  digit attends to its partner in the other operand. In the never-seen "4751+5682" it
  still pairs the units digits (1 and 2: the reversed question starts with one, the
  other follows the '+'), but the tens digit 8 looks at the 1 and the hundreds 6 at the
  5, one place off: the pairing was learned for the offsets of 1- to 3-digit operands.
  So the units digit of most 4-digit answers is right and the rest is not.
Remedies: positions relative to each digit's place value (or relative attention), or
training on longer lengths too."""


class AdditionTransformer(nn.Module):
    """Token embeddings + positional encodings around ``nn.Transformer``, and the output
    Linear. ``encode`` the questions once, ``decode`` any answer prefix against them."""

    def __init__(self, vocab_size=16, d_model=64, nhead=4, num_layers=2, dim_feedforward=256,
                 dropout=0.0, positions="sinusoidal", max_len=32):
        super().__init__()
        self.config = dict(vocab_size=vocab_size, d_model=d_model, nhead=nhead,
                           num_layers=num_layers, dim_feedforward=dim_feedforward,
                           dropout=dropout, positions=positions, max_len=max_len)
        self.d_model = d_model
        self.src_embed = nn.Embedding(vocab_size, d_model, padding_idx=0)
        self.tgt_embed = nn.Embedding(vocab_size, d_model, padding_idx=0)
        if positions == "sinusoidal":
            self.pos = nn.SinusoidalPositionalEncoding(d_model, max_len, dropout=dropout,
                                                       batch_first=True)
        elif positions == "learned":
            self.pos = nn.LearnedPositionalEmbedding(max_len, d_model, dropout=dropout,
                                                     batch_first=True)
        else:
            raise ValueError(f"positions must be 'sinusoidal' or 'learned', got {positions!r}")
        self.transformer = nn.Transformer(d_model, nhead, num_layers, num_layers,
                                          dim_feedforward, dropout, batch_first=True,
                                          norm_first=True)
        self.out = nn.Linear(d_model, vocab_size)

    def embed(self, embedding, ids):
        # no sqrt(d_model) scaling here: the paper's embeddings start small (std d^-1/2),
        # ours are N(0, 1) like PyTorch's, so scaling them by sqrt(d) = 8 would drown the
        # positions (entries in [-1, 1]), and in addition position is everything
        return self.pos(embedding(ids))

    def encode(self, src):
        """Question ids (N, S), 0 = padding -> (memory (N, S, d), padding mask (N, S))."""
        pad_mask = src == 0
        memory = self.transformer.encoder(self.embed(self.src_embed, src),
                                          src_key_padding_mask=pad_mask)
        return memory, pad_mask

    def decode(self, tgt_in, memory, pad_mask):
        """Answer prefix ids (N, T) -> logits (N, T, V) for the next character at each
        position; position t sees characters 0..t only (the causal mask)."""
        t = tgt_in.shape[1]
        mask = nn.Transformer.generate_square_subsequent_mask(t)
        h = self.transformer.decoder(self.embed(self.tgt_embed, tgt_in), memory, tgt_mask=mask,
                                     tgt_is_causal=True, memory_key_padding_mask=pad_mask)
        return self.out(h)

    def forward(self, src, tgt_in):
        """Teacher forcing: logits (N, T, V) for every answer position at once."""
        memory, pad_mask = self.encode(src)
        return self.decode(tgt_in, memory, pad_mask)

    def step(self, tokens, state):
        """One greedy-decoding step: the newest tokens (B,) -> log-probabilities (B, V) of
        the next one. The state holds the memory and the prefix written so far."""
        memory, pad_mask, prefix = state
        prefix = shendu.cat([prefix, tokens.reshape(-1, 1)], dim=1)
        logits = self.decode(prefix, memory, pad_mask)
        return F.log_softmax(logits[:, -1], dim=-1), (memory, pad_mask, prefix)


def save_model(model, path):
    """The weights as a safetensors file, the constructor's arguments in its metadata."""
    state = {k: v for k, v in model.state_dict().items()}
    shendu.io.save_state_dict(state, path, metadata={"config": json.dumps(model.config)})


def load_model(path):
    """The model ``save_model`` wrote, in evaluation mode."""
    arrays, meta = shendu.io.load_state_dict(path, metadata=True)
    model = AdditionTransformer(**json.loads(meta["config"]))
    model.load_state_dict({k: shendu.tensor(v) for k, v in arrays.items()})
    return model.eval()


def evaluate(model, questions, answers, batch_size=1000):
    """Greedy decoding of every question; returns the exact-match accuracy, the
    character accuracy (answer positions and <eos>) and the decoded strings."""
    vocab = addition_vocab()
    model.eval()
    ok, char_ok, char_n, texts = [], 0, 0, []
    max_len = max(len(a) for a in answers) + 2
    with shendu.no_grad():
        for start in range(0, len(questions), batch_size):
            q, a = questions[start:start + batch_size], answers[start:start + batch_size]
            enc = encode_addition(q, a, vocab)
            memory, pad_mask = model.encode(shendu.tensor(enc.src))
            prefix = shendu.zeros(len(q), 0, dtype=shendu.int64)
            out = greedy_decode(model.step, (memory, pad_mask, prefix), vocab.sos_index,
                                vocab.eos_index, max_len=max_len, batch_size=len(q))
            ok.append(answer_correct(vocab, out.tokens, out.lengths, a))
            texts.extend(vocab.decode_batch(out.tokens))
            right, total = characters_right(out.tokens, enc.tgt_out)
            char_ok, char_n = char_ok + right, char_n + total
    model.train()
    return float(np.concatenate(ok).mean()), char_ok / char_n, texts


def train_model(train, val, epochs=3, batch_size=128, lr=2e-3, warmup=300, seed=0,
                max_batches=None, verbose=True, **model_kw):
    """Adam with warm-up then cosine decay; keeps the epoch with the best validation exact
    match. Returns the model and its history."""
    shendu.manual_seed(seed)
    rng = np.random.default_rng(seed)
    vocab = addition_vocab()
    model = AdditionTransformer(len(vocab), **model_kw)
    opt = optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.98))
    enc = encode_addition(*train, vocab)
    n = len(enc.src)
    steps_per_epoch = math.ceil(n / batch_size)
    if max_batches is not None:
        steps_per_epoch = min(steps_per_epoch, max_batches)
    total = epochs * steps_per_epoch
    warmup = min(warmup, total // 4)

    def schedule(k):  # linear warm-up (attention is fragile at the start), cosine decay
        if k < warmup:
            return (k + 1) / warmup
        return 0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(k - warmup, total) /
                                                 max(1, total - warmup)))

    sched = optim.lr_scheduler.LambdaLR(opt, schedule)
    history = {"loss": [], "step_loss": [], "val_exact": [], "val_char": [],
               "steps_per_epoch": steps_per_epoch}
    best = ((-1.0, -1.0), None, -1)
    t0, cpu0 = time.perf_counter(), time.process_time()
    for epoch in range(epochs):
        losses = train_epoch(model, enc, vocab, opt, sched, rng.permutation(n),
                             steps_per_epoch, batch_size, with_lengths=False)
        exact, char, _ = evaluate(model, *val)
        history["loss"].append(float(np.mean(losses)))
        history["step_loss"].extend(losses)
        history["val_exact"].append(exact)
        history["val_char"].append(char)
        if (exact, char) > best[0]:  # ties in exact match (early on, all 0) go by characters
            best = ((exact, char), {k: v.numpy().copy() for k, v in model.state_dict().items()},
                    epoch)
        if verbose:
            print(f"  epoch {epoch + 1:2d}/{epochs}: loss {history['loss'][-1]:.4f}  "
                  f"val exact match {exact:.4f}  per character {char:.4f}  "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)
    model.load_state_dict({k: shendu.tensor(v) for k, v in best[1].items()})
    model.eval()
    history["best_epoch"] = best[2]
    history["train_seconds"] = time.perf_counter() - t0
    history["train_cpu_seconds"] = time.process_time() - cpu0
    return model, history


def place_accuracy(texts, answers, places=6):
    """Accuracy of each digit counted from the right (index 0: units, 1: tens, ...), over
    the answers that have that digit; NaN where none has it."""
    acc = []
    for p in range(places):
        hits = [len(t) > p and t[-1 - p] == a[-1 - p] for t, a in zip(texts, answers)
                if len(a) > p]
        acc.append(np.mean(hits) if hits else np.nan)
    return np.array(acc)


def plot(history, exact, char, places, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(16, 4.4))
    loss = np.asarray(history["step_loss"])
    k = max(1, len(loss) // 200)                        # a mean every k steps
    smooth = loss[:len(loss) // k * k].reshape(-1, k).mean(1)
    ax1.semilogy(np.arange(len(smooth)) * k + k / 2, smooth, label="training loss")
    ax1.set_xlabel("step (batch)")
    ax1.set_ylabel("cross-entropy per character")
    ax1.grid(alpha=0.3, which="both")
    ax1b = ax1.twinx()
    ep_steps = np.arange(1, len(history["val_exact"]) + 1) * history["steps_per_epoch"]
    ax1b.plot(ep_steps, history["val_exact"], "o-", color="tab:green",
              label="validation exact match")
    ax1b.set_ylim(0, 1.02)
    ax1b.set_ylabel("validation exact match (3-digit)")
    lines = ax1.get_lines() + ax1b.get_lines()
    ax1.legend(lines, [ln.get_label() for ln in lines], loc="lower left")
    ax1.set_title("Transformer learning to add")

    sets = ["test", "4-digit", "5-digit"]
    x = np.arange(3)
    for off, (name, vals) in zip((-0.2, 0.2), (("exact match", exact),
                                                ("per character", char))):
        bars = ax2.bar(x + off, [vals[s] for s in sets], 0.4, label=name)
        for bar, s in zip(bars, sets):
            ax2.text(bar.get_x() + bar.get_width() / 2, vals[s] + 0.01, f"{vals[s]:.3f}",
                     ha="center", fontsize=9)
    ax2.set_xticks(x)
    ax2.set_xticklabels(["3-digit\n(held out)", "4-digit\n(never seen)", "5-digit\n(never seen)"])
    ax2.set_ylabel("accuracy (greedy decoding)")
    ax2.set_ylim(0, 1.1)
    ax2.legend(loc="upper right")
    ax2.set_title("Whole answer right / each character right")

    names = ["units", "tens", "hundreds", "thousands", "10 thousands", "100 thousands"]
    for s, marker in zip(sets, "os^"):
        ax3.plot(np.arange(len(places[s])), places[s], marker=marker, label=s)
    ax3.set_xticks(np.arange(len(names)))
    ax3.set_xticklabels(names, rotation=20)
    ax3.set_ylim(-0.02, 1.05)
    ax3.set_ylabel("digit right")
    ax3.grid(alpha=0.3)
    ax3.legend()
    ax3.set_title("Each place of the answer (counted from the right)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--d-model", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--ff", type=int, default=None, help="feed-forward width (4 d_model)")
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--positions", choices=["sinusoidal", "learned"], default="sinusoidal")
    parser.add_argument("--n-train", type=int, default=80000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="2 epochs of 30 batches of 64, d_model 32, small sets (for tests)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    if args.quick:
        data = make_data(n_train=6000, n_val=200, n_test=200, n_long=50, seed=args.seed)
        epochs, max_batches, d_model, lr, batch_size = 2, 30, 32, 5e-3, 64
    else:
        data = make_data(n_train=args.n_train, seed=args.seed)
        epochs, max_batches, d_model = args.epochs, None, args.d_model
        lr, batch_size = args.lr, args.batch_size
    print("addition: " + ", ".join(f"{len(v[0])} {k}" for k, v in data.items())
          + f"; e.g. {data['train'][0][0]!r} -> {data['train'][1][0]!r} (question reversed)")
    model, history = train_model(data["train"], data["val"], epochs=epochs,
                                 max_batches=max_batches, seed=args.seed, d_model=d_model,
                                 num_layers=args.layers, positions=args.positions,
                                 dim_feedforward=args.ff or 4 * d_model, lr=lr,
                                 dropout=args.dropout, batch_size=batch_size)
    n_params = sum(p.numel() for p in model.parameters())
    exact, char, texts = {}, {}, {}
    for part in ("test", "4-digit", "5-digit"):
        exact[part], char[part], texts[part] = evaluate(model, *data[part])
    print(f"Transformer ({n_params:,} parameters, {args.positions} positions): held-out "
          f"3-digit exact match {exact['test']:.4f} (target >= 0.99), per character "
          f"{char['test']:.4f}; 4-digit {exact['4-digit']:.4f} (per character "
          f"{char['4-digit']:.3f}), 5-digit {exact['5-digit']:.4f} (per character "
          f"{char['5-digit']:.3f}); best epoch {history['best_epoch'] + 1}, "
          f"{history['train_seconds']:.0f} s of training ({history['train_cpu_seconds']:.0f} s "
          f"of CPU time)")
    for part in ("test", "4-digit", "5-digit"):
        shown = [f"{q[::-1]}={t}" + ("" if t == ans else f" (not {ans})")
                 for q, ans, t in zip(*data[part], texts[part][:4])]
        print(f"  {part}: " + "; ".join(shown))
    places = {part: place_accuracy(texts[part], data[part][1]) for part in exact}
    for part in ("4-digit", "5-digit"):
        print(f"  {part}: each place right, from the units: "
              + ", ".join(f"{v:.2f}" for v in places[part] if np.isfinite(v))
              + f"; answers written with at most {max(len(t) for t in texts[part])} digits")
    print(LENGTH_NOTE)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "transformer_addition.png"
    plot(history, exact, char, places, png)
    weights = out / "transformer_addition.safetensors"
    save_model(model, weights)
    print(f"Saved the weights to {weights} (examples/attention_maps.py draws their attention)")
    wall = time.perf_counter() - t_start
    print(f"Saved {png}  (wall time {wall:.0f} s)")
    return dict(model=model, history=history, exact=exact, char=char, texts=texts, data=data,
                n_params=n_params, places=places, png=png, weights=weights,
                wall_seconds=wall)


if __name__ == "__main__":
    main()
