"""A character-level LSTM language model on tiny-shakespeare, trained by truncated BPTT, with sampling.

Lesson 003, "長短期記憶網路 LSTM 詳解" (the gates f_t, i_t, C~_t, o_t and the cell state
C_t = f_t * C_{t-1} + i_t * C~_t), and lesson 004's many-to-many RNN: at every position
the network reads one character and predicts the next one, and the loss is the sum over
all positions. Clipping the gradient norm is the course's remedy for the rough error
surface of recurrent networks ("very flat or very steep").

The model (PyTorch style)::

    Embedding(65 -> 64) -> LSTM(64 -> 256, 1 layer) -> Linear(256 -> 65)

trained with next-character cross-entropy (nats per character; ln 65 = 4.17 for a uniform
guess, 3.31 for the best guess that ignores context, i.e. character frequencies).

**Truncated backpropagation through time.** The training text is cut into B = 32
contiguous streams (B rows of one long matrix, as PyTorch's word_language_model does);
each iteration takes the next T = 64 characters of every stream, so the LSTM's state
at the end of one window is the true state at the start of the next one and is carried
over, but *detached*: gradients flow back at most T steps. The memory the model can use
is longer than T; the credit assignment is not. A new epoch restarts the streams from a
random offset with a zero state.

**Time budget.** Training runs for ``--minutes`` of wall time (default 10, validation
included; ``--clock cpu`` counts this process's CPU time instead, fair on a busy
machine), not for a number of epochs; the learning rate follows a cosine from 3e-3 down
to 1e-4 driven by the clock (the fraction of the budget used), so the run ends with small
steps whatever the machine's speed. Adam, gradient norm clipped at 1.

Data: ``shendu.datasets.tiny_shakespeare`` (1,115,394 characters, 65 distinct); the usual
split by position: the **first 90% (1,003,854 characters) for training, the last 10%
(111,540) for validation**. The validation loss is the mean over every character of the
validation text (read as 32 streams, state carried, no gradient).

Sampling: ``shendu.nn.decoding.sample`` draws each next character from the softmax of
the logits divided by a **temperature** (below 1: safer, more repetitive; above 1: more
surprising, more misspelt) among the **top-k** most probable characters only.

Run: python examples/char_lm.py [--out examples_output] [--minutes 10] [--clock wall|cpu]
     [--hidden 256] [--layers 1] [--seq-len 64] [--batch-size 32] [--seed 0] [--quick]

Measured (2-core CPU shared with other jobs, 1 BLAS thread, seed 0, default settings:
hidden 256, B 32, T 64, Adam 3e-3 -> 1e-4, 350,593 parameters). The load of the machine
changed a lot during the day, so the same 10-minute wall-time budget gave 821 or 3,466
iterations; the run with ``--clock cpu`` counted 10 minutes of the process's own CPU time
(what 10 minutes on an idle core give) and took 36 minutes of wall time:

=======================  ==========  =====================  ========  ======  =========
budget (load average)    iterations  characters seen        val loss  <=1.60  wall time
=======================  ==========  =====================  ========  ======  =========
10 min wall (about 3-6)  3,466       7.1 M (7.1 passes)     1.513     met     10.0 min
10 min wall (about 12)   821         1.7 M (1.7 passes)     1.712     no      10.2 min
10 min CPU (8-14)        5,194       10.6 M (10.6 passes)   1.491     met     36.4 min
=======================  ==========  =====================  ========  ======  =========

Validation loss along the CPU-time run: 1.709 after 1 min, 1.622 after 2, 1.580 after 3
(the target is crossed between 2 and 3 min: 1,054-1,587 iterations, 2.2-3.3 M characters),
1.530 after 5, 1.491 after 10. The training loss ends lower (1.21): after 10 passes the
model starts to memorize the training text, and the validation text (the last 10%, other
plays) is harder anyway. The second 10-minute wall-time run had about 1.5 min of CPU
(at the 1.06 M characters per CPU minute of the CPU-time run). ln 65 = 4.17 is the loss of a uniform guess and 3.31
that of the character frequencies. Sample after the CPU-time run (temperature 0.8,
top-10)::

    ROMEO:
    No brother,
    Were not becomfully and my heart's hand.

    HASTINGS:
    I do beseech your honour too sworn.

    CORIOLANUS:
    Away we hope the possession of the hollow moon
    In wine, her brother, and my leaves art thou substanch
    It would she should killing my prayers.

At temperature 0.5 the text is more regular and repetitive ("That would I be the best
by the consider'd, / My master for her brother stay to't"); at 1.0 more names and words
are invented ("PAULINA: Why absfore their duke with such away!").
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
from shendu.data.text import Vocab
from shendu.datasets import tiny_shakespeare
from shendu.nn.decoding import sample

PROMPT = "ROMEO:\n"
SAMPLE_SETTINGS = [(0.5, None), (0.8, 10), (1.0, None)]   # (temperature, top_k)


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return None  # the loaders read the environment variable themselves
    return Path(__file__).resolve().parents[2] / "shared" / "data"


class CharLM(nn.Module):
    """Characters (B, T) -> Embedding -> LSTM -> Linear -> next-character logits (B, T, V)."""

    def __init__(self, vocab_size, hidden_size=256, num_layers=1, embedding_dim=64,
                 dropout=0.0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers=num_layers,
                            batch_first=True, dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, ids, state=None):
        """ids (B, T) int64, state (h, c) of (num_layers, B, H) or None -> logits, state."""
        out, state = self.lstm(self.embed(ids), state)
        return self.head(out), state


def load_text(data_dir=None):
    """The text, its character vocabulary and the 90/10 split as int64 id arrays."""
    text = tiny_shakespeare(data_dir)
    vocab = Vocab.build([text], level="char", specials=(), order="alphabetical")
    # vocab.encode(text) gives the same ids; a lookup table over the bytes is 50x faster
    table = np.zeros(128, dtype=np.int64)
    table[[ord(ch) for ch in vocab.itos]] = np.arange(len(vocab))
    ids = table[np.frombuffer(text.encode("ascii"), dtype=np.uint8)]
    n_train = int(0.9 * len(ids))
    return vocab, ids[:n_train], ids[n_train:]


def streams(ids, batch_size):
    """Cut a 1-D id array into ``batch_size`` contiguous rows: (B, len // B)."""
    n = len(ids) // batch_size
    return ids[:n * batch_size].reshape(batch_size, n)


def detach(state):
    """Keep the state's values, cut the graph: backpropagation stops at the window's start."""
    return tuple(s.detach() for s in state)


def evaluate(model, ids, batch_size=32, window=256):
    """Mean next-character cross-entropy (nats) over the whole of ``ids``."""
    data = streams(ids, batch_size)
    model.eval()
    total, count, state = 0.0, 0, None
    with shendu.no_grad():
        for start in range(0, data.shape[1] - 1, window):
            x = data[:, start:start + window]
            y = data[:, start + 1:start + window + 1]
            x = x[:, :y.shape[1]]
            logits, state = model(shendu.tensor(x), state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                   shendu.tensor(y.reshape(-1)), reduction="sum")
            total += loss.item()
            count += y.size
    model.train()
    return total / count


def generate(model, vocab, prompt=PROMPT, length=400, temperature=0.8, top_k=None,
             seed=0):
    """``prompt`` followed by ``length`` sampled characters."""
    model.eval()
    generator = np.random.default_rng(seed)
    out = []
    with shendu.no_grad():
        logits, state = model(shendu.tensor([vocab.encode(prompt)]))
        for _ in range(length):
            next_id = sample(logits[:, -1], temperature=temperature, top_k=top_k,
                             generator=generator)            # (1,) int64 Tensor
            out.append(int(next_id.item()))
            logits, state = model(next_id.reshape(1, 1), state)
    model.train()
    return prompt + vocab.decode(out)


def cosine_lr(fraction, lr, min_lr):
    """The learning rate after ``fraction`` (0..1) of the budget: a half cosine."""
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(fraction, 1.0)))


def train(model, train_ids, val_ids, minutes=10.0, seq_len=64, batch_size=32, lr=3e-3,
          min_lr=1e-4, clip=1.0, eval_every=90.0, max_iters=None, clock="wall", seed=0,
          verbose=True):
    """Truncated BPTT for ``minutes`` (or ``max_iters`` iterations).

    ``clock="wall"`` counts wall time; ``clock="cpu"`` counts this process's CPU time
    (``time.process_time``), which on a machine shared with other jobs is the time the
    training really had: with one BLAS thread, what the wall time would be on an idle core.
    """
    now = {"wall": time.perf_counter, "cpu": time.process_time}[clock]
    rng = np.random.default_rng(seed)
    opt = optim.Adam(model.parameters(), lr=lr)
    budget = 60.0 * minutes
    history = {"iteration": [], "train_loss": [], "val_iteration": [], "val_loss": [],
               "val_seconds": []}
    iteration, tokens, epoch, losses = 0, 0, 0, []
    t0, wall0 = now(), time.perf_counter()
    next_eval = eval_every

    def report(elapsed):
        val = evaluate(model, val_ids)
        history["val_iteration"].append(iteration)
        history["val_loss"].append(val)
        history["val_seconds"].append(elapsed)
        if verbose:
            recent = np.mean(losses[-50:]) if losses else float("nan")
            wall = (time.perf_counter() - wall0) / 60
            print(f"  {elapsed / 60:5.1f} min{' CPU' if clock == 'cpu' else ''}"
                  + (f" ({wall:.1f} wall)" if clock == "cpu" else "") + f"  epoch {epoch}  iteration {iteration:5d}  "
                  f"{tokens / 1e6:5.2f} M chars  lr {opt.param_groups[0]['lr']:.1e}  "
                  f"train loss {recent:.3f}  val loss {val:.3f}", flush=True)
        return val

    done = False
    while not done:
        epoch += 1
        data = streams(train_ids[rng.integers(seq_len):], batch_size)
        state = None
        for start in range(0, data.shape[1] - seq_len - 1, seq_len):
            elapsed = now() - t0
            if elapsed >= budget or (max_iters is not None and iteration >= max_iters):
                done = True
                break
            for group in opt.param_groups:
                group["lr"] = cosine_lr(elapsed / budget if max_iters is None
                                        else iteration / max_iters, lr, min_lr)
            x = shendu.tensor(data[:, start:start + seq_len])
            y = shendu.tensor(data[:, start + 1:start + seq_len + 1].reshape(-1))
            logits, state = model(x, state)
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            state = detach(state)
            losses.append(loss.item())
            history["iteration"].append(iteration)
            history["train_loss"].append(losses[-1])
            iteration += 1
            tokens += batch_size * seq_len
            if elapsed >= next_eval:
                report(elapsed)
                next_eval += eval_every
    train_seconds = now() - t0
    final = report(train_seconds)
    history.update(iterations=iteration, tokens=tokens, epochs=epoch, clock=clock,
                   train_seconds=train_seconds, final_val_loss=final,
                   wall_seconds=time.perf_counter() - wall0)
    return history


def plot_history(history, target, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(8, 4.5))
    it = np.asarray(history["iteration"])
    loss = np.asarray(history["train_loss"])
    ax.plot(it, loss, color="tab:blue", alpha=0.25, lw=0.8)
    k = max(1, min(50, len(loss) // 10))
    smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
    ax.plot(it[k - 1:], smooth, color="tab:blue", label=f"training loss ({k}-iteration mean)")
    ax.plot(history["val_iteration"], history["val_loss"], "o-", color="tab:orange",
            label=f"validation loss (final {history['final_val_loss']:.3f})")
    ax.axhline(target, color="gray", ls="--", lw=1, label=f"target {target:.2f}")
    ax.set_xlabel(f"iteration ({history['tokens'] / 1e6:.1f} M characters seen, "
                  f"{history['train_seconds'] / 60:.1f} min, {history['clock']} clock)")
    ax.set_ylabel("cross-entropy (nats / character)")
    ax.set_ylim(min(1.2, min(history["val_loss"]) - 0.1, smooth.min() - 0.1), 4.4)
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding tinyshakespeare/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--minutes", type=float, default=10.0,
                        help="training time budget in minutes (validation included)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="what --minutes counts: wall time, or this process's CPU "
                             "time (fair on a machine shared with other jobs)")
    parser.add_argument("--max-iters", type=int, default=None,
                        help="stop after this many iterations (the budget still applies)")
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--seq-len", type=int, default=64, help="BPTT window T")
    parser.add_argument("--batch-size", type=int, default=32, help="number of streams B")
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--eval-every", type=float, default=90.0,
                        help="seconds between validation passes")
    parser.add_argument("--sample-length", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="100 iterations of a small model on part of the text (tests)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    vocab, train_ids, val_ids = load_text(args.data_dir or default_data_dir())
    print(f"tiny-shakespeare: {len(train_ids) + len(val_ids):,} characters, "
          f"{len(vocab)} distinct; first 90% for training ({len(train_ids):,}), "
          f"last 10% for validation ({len(val_ids):,})")
    hidden, layers, seq_len, batch_size = args.hidden, args.layers, args.seq_len, args.batch_size
    minutes, max_iters, sample_length = args.minutes, args.max_iters, args.sample_length
    if args.quick:
        hidden, layers, seq_len, batch_size = 128, 1, 32, 32
        # quick: 100 iterations, however busy the machine (the time limit only a safeguard)
        minutes, max_iters, sample_length = 10.0, 100, 60
        train_ids, val_ids = train_ids[:200_000], val_ids[:10_000]

    shendu.manual_seed(args.seed)
    model = CharLM(len(vocab), hidden_size=hidden, num_layers=layers)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: Embedding({len(vocab)} -> 64) -> LSTM(64 -> {hidden}, {layers} layer"
          f"{'s' if layers > 1 else ''}) -> Linear({hidden} -> {len(vocab)}), "
          f"{n_params:,} parameters; B = {batch_size} streams, T = {seq_len}; "
          f"budget {minutes:g} min ({args.clock} clock)" + (f" or {max_iters} iterations" if max_iters else ""))
    history = train(model, train_ids, val_ids, minutes=minutes, seq_len=seq_len,
                    batch_size=batch_size, lr=args.lr, max_iters=max_iters, clock=args.clock,
                    eval_every=args.eval_every if not args.quick else 1e9, seed=args.seed)
    target = 1.60
    val = history["final_val_loss"]
    print(f"validation loss {val:.4f} nats/char ({val / math.log(2):.3f} bits; target "
          f"<= {target:.2f}: {'met' if val <= target else 'NOT met'}) after "
          f"{history['iterations']} iterations, {history['tokens']:,} characters "
          f"({history['tokens'] / len(train_ids):.1f} passes over the training text), "
          f"{history['train_seconds']:.0f} s of training ({args.clock} clock; wall "
          f"{history['wall_seconds']:.0f} s)")

    samples = {}
    for temperature, top_k in SAMPLE_SETTINGS:
        text = generate(model, vocab, PROMPT, sample_length, temperature, top_k,
                        seed=args.seed)
        samples[(temperature, top_k)] = text
        print(f"\n--- sample, temperature {temperature}"
              + (f", top-{top_k}" if top_k else "") + " ---\n" + text)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    png = out / "char_lm_loss.png"
    plot_history(history, target, png,
                 f"Character LSTM on tiny-shakespeare (hidden {hidden}, {layers} layer, "
                 f"B {batch_size}, T {seq_len})")
    print(f"\nSaved {png}  (wall time {time.perf_counter() - t_start:.0f} s)")
    return dict(val_loss=val, history=history, iterations=history["iterations"],
                tokens=history["tokens"], train_seconds=history["train_seconds"],
                samples=samples, png=png, model=model, vocab=vocab, n_params=n_params)


if __name__ == "__main__":
    main()
