"""Attention maps: which question characters the addition Transformer reads for each answer digit.

Lesson 000, chapter 6 (Transformer) and lesson 004's attention material: attention is a
softmax over the keys, so every query's weights are a probability distribution over the
positions it may read, and they can be drawn. The model is the encoder-decoder of
examples/transformer_addition.py; the script loads the weights that script saved
(``--weights``, default ``<out>/transformer_addition.safetensors``) or, if there are none,
trains it briefly (``--epochs``, default 2 epochs on its 80,000 problems).

For five problems (four of 1-3 digits, one of 4 digits, a length never trained) it
decodes the answer greedily, then runs the model once more with that answer as the
decoder's input and collects the weights of every attention layer with forward hooks
(``Module.register_forward_hook``; the hook calls the ``nn.MultiheadAttention`` again
with ``need_weights=True, average_attn_weights=False``). The figure shows

* the decoder's **cross-attention** (rows: the answer character being written, then
  ``<eos>``; columns: the question as the encoder reads it, reversed), one row of panels
  per decoder layer, averaged over the heads;
* one **self-attention head** of the encoder's last layer (question x question), the
  head whose weights are the most concentrated (lowest mean entropy).

What the trained model shows (weights of transformer_addition.py's full run): the
answer's units digit attends to both units digits of the question (in 12+345 = 357 the
7 looks at the 5 and the 2), its hundreds digit to the hundreds digits; the encoder head
(layer 2, head 3) pairs every digit with the digit of equal place value in the other
operand (in "865+574", 475+568 reversed: 8-5, 6-7, 5-4), a near one-hot pattern. In the
4-digit problem the same head still pairs the units digits but is one place off for the
others, and the decoder's rows spread out: the answer comes out wrong (1083, not 10433).

Run: python examples/attention_maps.py [--out examples_output] [--weights PATH]
[--epochs 2] [--quick]

Measured (2-core CPU shared with other jobs, 1 BLAS thread): 10 s with the saved weights;
without them the brief training (2 epochs on 80,000 problems, cosine schedule over the 2
epochs) took 162 s and reached held-out 3-digit exact match 1.000 (1,000 problems), and
its maps tell the same story (there head 2 pairs the digits); 172 s in all.
"""
import os

if __name__ == "__main__":  # one BLAS thread: faster for these small matrices on a busy box
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
from pathlib import Path

import numpy as np

import shendu
from shendu import nn
from shendu.datasets import addition_vocab, encode_addition

import transformer_addition as ta

# the course's 12+345, a carry into a new digit, a chain of carries, a short one, and a
# length never seen in training (4-digit operands)
PROBLEMS = ["12+345", "475+568", "999+1", "86+7", "4751+5682"]


def attention_weights(model, question, answer):
    """Run the model on one (reversed) question with ``answer`` as the decoder's input
    and return the attention weights of every layer, each ``(heads, queries, keys)``:
    ``{"encoder self": [per layer], "decoder self": [...], "cross": [...]}``."""
    vocab = addition_vocab()
    enc = encode_addition([question], [answer], vocab)
    src, tgt_in = shendu.tensor(enc.src), shendu.tensor(enc.tgt_in)
    causal = nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1])
    found = {"encoder self": [], "decoder self": [], "cross": []}

    def hook(kind, **kwargs):
        def capture(module, args, output):
            # the layer called the attention with need_weights=False (the fast path);
            # call its forward again, bypassing the hooks, to get the weights
            _, w = module.forward(*args, need_weights=True, average_attn_weights=False,
                                  **kwargs)
            found[kind].append(w.numpy()[0])                 # (heads, queries, keys)
        return capture

    handles = []
    for layer in model.transformer.encoder.layers:
        handles.append(layer.self_attn.register_forward_hook(hook("encoder self")))
    for layer in model.transformer.decoder.layers:
        handles.append(layer.self_attn.register_forward_hook(hook("decoder self",
                                                                  attn_mask=causal)))
        handles.append(layer.multihead_attn.register_forward_hook(hook("cross")))
    model.eval()
    try:
        with shendu.no_grad():
            model(src, tgt_in)
    finally:
        for h in handles:
            h.remove()
    return found


def most_focused_head(weights):
    """The head with the lowest mean entropy, given a list of ``(heads, queries, keys)``
    weights (one per problem)."""
    entropy = np.mean([-(w * np.log(w + 1e-12)).sum(-1).mean(-1) for w in weights], axis=0)
    return int(entropy.argmin())


def collect(model, problems):
    """Greedy answers and attention weights of each problem (written as ``"12+345"``)."""
    vocab = addition_vocab()
    maps = []
    for problem in problems:
        a, b = problem.split("+")
        question, answer = problem[::-1], str(int(a) + int(b))   # the model reads it reversed
        _, _, texts = ta.evaluate(model, [question], [answer])
        written = texts[0]
        weights = attention_weights(model, question, written)
        maps.append(dict(problem=problem, question=question, answer=answer, written=written,
                         rows=list(written) + [vocab.itos[vocab.eos_index]], weights=weights))
    return maps


def plot(maps, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n_dec = len(maps[0]["weights"]["cross"])
    n_rows = n_dec + 1
    fig, axes = plt.subplots(n_rows, len(maps), figsize=(3.4 * len(maps), 3.1 * n_rows),
                             squeeze=False)
    head = most_focused_head([m["weights"]["encoder self"][-1] for m in maps])
    image = None
    for col, m in enumerate(maps):
        ok = "" if m["written"] == m["answer"] else f" (not {m['answer']})"
        for layer in range(n_dec):
            ax = axes[layer, col]
            w = m["weights"]["cross"][layer].mean(0)            # average over the heads
            image = ax.imshow(w, cmap="viridis", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(np.arange(len(m["question"])))
            ax.set_xticklabels(list(m["question"]), fontsize=11)
            ax.set_yticks(np.arange(len(m["rows"])))
            ax.set_yticklabels(m["rows"], fontsize=11)
            if layer == 0:
                ax.set_title(f"{m['problem']} = {m['written']}{ok}", fontsize=12)
            if col == 0:
                ax.set_ylabel(f"decoder layer {layer + 1}\ncross-attention\n"
                              "answer char. written")
            if layer == n_dec - 1:
                ax.set_xlabel("question, reversed")
        ax = axes[n_dec, col]
        w = m["weights"]["encoder self"][-1][head]
        ax.imshow(w, cmap="viridis", vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(np.arange(len(m["question"])))
        ax.set_xticklabels(list(m["question"]), fontsize=11)
        ax.set_yticks(np.arange(len(m["question"])))
        ax.set_yticklabels(list(m["question"]), fontsize=11)
        ax.set_xlabel("key (question, reversed)")
        if col == 0:
            ax.set_ylabel(f"encoder layer {len(m['weights']['encoder self'])}, "
                          f"head {head + 1}\nself-attention\nquery")
    fig.suptitle("Addition Transformer: where each answer character looks (rows sum to 1)",
                 fontsize=13)
    fig.tight_layout(rect=(0, 0, 0.93, 0.97))
    cax = fig.add_axes((0.945, 0.25, 0.012, 0.5))
    fig.colorbar(image, cax=cax, label="attention weight")
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return head


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--weights", default=None,
                        help="weights saved by transformer_addition.py (default "
                             "<out>/transformer_addition.safetensors if it exists)")
    parser.add_argument("--epochs", type=int, default=2,
                        help="epochs of brief training when there are no weights")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="train a tiny model for a few seconds (for tests)")
    args = parser.parse_args(argv)

    t_start = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = Path(args.weights) if args.weights else out / "transformer_addition.safetensors"
    if args.weights or (weights.is_file() and not args.quick):
        model = ta.load_model(weights)
        source = f"weights from {weights}"
        print(f"Loaded {source}")
        exact = None
    else:
        if args.quick:
            data = ta.make_data(n_train=8000, n_val=300, n_test=300, n_long=10, seed=args.seed)
            kw = dict(epochs=2, max_batches=30, batch_size=64, lr=5e-3, d_model=32,
                      dim_feedforward=128)
        else:
            data = ta.make_data(n_val=1000, n_test=1000, n_long=10, seed=args.seed)
            kw = dict(epochs=args.epochs)
        print(f"No weights at {weights}: training briefly "
              f"({len(data['train'][0])} problems, {kw['epochs']} epochs)")
        model, history = ta.train_model(data["train"], data["val"], seed=args.seed, **kw)
        exact, _, _ = ta.evaluate(model, *data["test"])
        source = f"trained here, {kw['epochs']} epochs, test exact match {exact:.3f}"
        print(f"  held-out 3-digit exact match {exact:.4f}")

    maps = collect(model, PROBLEMS)
    for m in maps:
        cross = m["weights"]["cross"][-1].mean(0)
        looks = ", ".join(f"{r}<-{m['question'][int(j)]}@{int(j)}"
                          for r, j in zip(m["rows"], cross.argmax(1)))
        print(f"{m['problem']} = {m['written']}: last decoder layer's strongest "
              f"cross-attention per answer character (char<-question char@position): {looks}")
    png = out / "attention_maps.png"
    head = plot(maps, png)
    print(f"Saved {png}  (model: {source}; wall time {time.perf_counter() - t_start:.0f} s)")
    return dict(maps=maps, png=png, head=head, test_exact=exact, model=model)


if __name__ == "__main__":
    main()
