"""Autoencoders on MNIST: a dense 32-d one (the Keras blog's), a convolutional one, a
denoising one, and similar-image retrieval in code space.

Lesson 003 "自編碼網路" (an autoencoder is a compression algorithm that is data-specific,
lossy and learned automatically from examples; the code is ``z = f(W x + b)``; "利用自編碼
網路重建影像", rebuilding images) and 004 "Representation Learning: 化繁為簡" (the hidden
layer's output is the code, a compact representation of the digit; a deep autoencoder's
codes serve for "Similar Image Retrieval").

1. Dense autoencoder, written with ``shendu.keras`` exactly as the Keras blog "Building
   Autoencoders in Keras" does: ``Input(784) -> Dense(32, relu) -> Dense(784, sigmoid)``,
   the ``encoder`` and ``decoder`` models sharing its layers, ``adam``,
   ``binary_crossentropy``, batch 256, 50 epochs. The figure is the test binary
   cross-entropy per pixel (the blog reaches about 0.09-0.10).
2. Convolutional autoencoder (``shendu.models.autoencoder.conv_autoencoder``, PyTorch-style
   API): two stride-2 3x3 convolutions (28 -> 14 -> 7), a 32-d linear code, two 4x4
   stride-2 transposed convolutions back, sigmoid output.
3. Denoising autoencoder: the same convolutional network without the linear bottleneck,
   whose inputs get ``GaussianNoise(0.5)`` clipped to [0, 1] during training (the blog's
   noise_factor 0.5) while the loss compares with the clean digit. Measured: BCE of the
   reconstruction of *noisy* test digits against the clean ones.
4. Retrieval (seed 004's "Deep autoencoder"): a deep autoencoder 784-256-128-32-128-256-784
   (ReLU, linear 32-d code; ``dense_autoencoder(784, [256, 128], 32, code_activation=None)``,
   Adam, batch 128, 10 epochs). Its codes of the 60,000 training digits form the
   database; for each test digit the 10 nearest codes (cosine) are retrieved, and the
   figure is the fraction of them that show the same digit (precision@10, labels used only
   to score). The same with the Keras model's 32-d codes, the raw 784 pixels and a 32-d
   PCA of them.

Pictures: ``autoencoder_mnist_reconstructions.png`` (originals, dense and convolutional
reconstructions, noisy inputs and their denoised versions) and
``autoencoder_mnist_retrieval.png`` (queries and their neighbours, green frame = same
digit).

Run: python examples/autoencoder_mnist.py [--epochs 50] [--conv-epochs 3] [--deep-epochs 10]
[--out DIR]

Measured (2-core AMD EPYC, AVX2, one thread, the machine shared with other jobs; seed 0):

    model                                      epochs  test BCE per pixel
    dense 784-32-784 (Keras blog, shendu.keras)    50  0.0916  (target <= 0.10; the blog: ~0.09)
    convolutional, 32-d code                        3  0.0815
    deep 784-256-128-32-128-256-784                10  0.0888
    denoising conv (input noise std 0.5)            3  0.1040  (noisy test digits vs clean;
                                                               the noisy input itself: 0.8383)

The dense model's validation loss per epoch: 0.194 (1), 0.096 (10), 0.0922 (20), 0.0919
(30), 0.0916 (40), 0.0916 (50): it has settled by epoch 30. About 5 s an epoch.

Retrieval precision@10 over the 10,000 test digits (cosine): Keras 32-d codes 0.9573,
deep autoencoder's 32-d codes 0.9544, raw 784 pixels 0.9546, 32-d PCA 0.9549. So a code
24 times smaller than the image finds neighbours of the same digit as often as the
pixels do, with 24 times less work per comparison; at this task the autoencoders'
codes do no better than the linear PCA ones (within 0.003 of each other). In the
picture the mistakes are the usual look-alikes (5 -> 6, 8 -> 2, 4 -> 9). Wall time
743 s (dense 309 s, convolutional 96 s, denoising 164 s, deep 100 s). ``--quick``: ~20 s.
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu
import shendu.nn.functional as F
from shendu import keras, optim
from shendu.datasets import mnist
from shendu.keras import layers
from shendu.models.autoencoder import (GaussianNoise, conv_autoencoder, dense_autoencoder,
                                       nearest_neighbours)


def default_data_dir():
    """``$SHENDU_DATA`` when set, else the shared data folder beside the repository."""
    if os.environ.get("SHENDU_DATA"):
        return None
    return Path(__file__).resolve().parents[2] / "shared" / "data"


def load_data(data_dir=None, n_train=None, n_test=None):
    """Flat (N, 784) float32 pixels in [0, 1] and the labels (used only for scoring)."""
    x_train, y_train = mnist("train", data_dir=data_dir, normalize=True, flatten=True)
    x_test, y_test = mnist("test", data_dir=data_dir, normalize=True, flatten=True)
    return (x_train[:n_train], y_train[:n_train]), (x_test[:n_test], y_test[:n_test])


# -------------------------------------------------------------------- 1. dense (Keras)
def dense_autoencoder_keras(encoding_dim=32):
    """The Keras blog's autoencoder and its encoder and decoder models."""
    # This is our input image
    input_img = keras.Input(shape=(784,))
    # "encoded" is the encoded representation of the input
    encoded = layers.Dense(encoding_dim, activation="relu")(input_img)
    # "decoded" is the lossy reconstruction of the input
    decoded = layers.Dense(784, activation="sigmoid")(encoded)
    # This model maps an input to its reconstruction
    autoencoder = keras.Model(input_img, decoded)
    # This model maps an input to its encoded representation
    encoder = keras.Model(input_img, encoded)
    # This is our encoded (32-dimensional) input
    encoded_input = keras.Input(shape=(encoding_dim,))
    # Retrieve the last layer of the autoencoder model
    decoder_layer = autoencoder.layers[-1]
    # Create the decoder model
    decoder = keras.Model(encoded_input, decoder_layer(encoded_input))
    autoencoder.compile(optimizer="adam", loss="binary_crossentropy")
    return autoencoder, encoder, decoder


# -------------------------------------------------------------------- 2-3. conv (nn API)
def train_nn(model, x_train, epochs, batch_size=128, lr=1e-3, seed=0, name="conv",
             shape=(1, 28, 28)):
    """Adam on the mean BCE between ``model(x)`` and the clean ``x`` (images reshaped to
    ``(N, *shape)``); returns the epoch losses."""
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    images = x_train.reshape(-1, *shape)
    losses = []
    model.train()
    for epoch in range(1, epochs + 1):
        t0, total = time.perf_counter(), 0.0
        for idx in np.array_split(rng.permutation(len(images)),
                                  max(1, len(images) // batch_size)):
            xb = shendu.tensor(images[idx])
            opt.zero_grad()
            loss = F.binary_cross_entropy(model(xb), xb)  # corruption inside model(xb)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        losses.append(total / len(images))
        print(f"  {name} epoch {epoch}/{epochs}: loss {losses[-1]:.4f} "
              f"({time.perf_counter() - t0:.0f} s)", flush=True)
    return losses


def reconstruct(model, x, batch_size=500, shape=(1, 28, 28), encode=False):
    """The model's reconstructions (or codes, ``encode=True``) of flat images, in eval mode
    (no corruption), as flat rows."""
    model.eval()
    run = model.encode if encode else model
    with shendu.no_grad():
        out = [run(shendu.tensor(x[i:i + batch_size].reshape(-1, *shape))).numpy()
               for i in range(0, len(x), batch_size)]
    return np.concatenate(out).reshape(len(x), -1)


def bce_per_pixel(recon, target):
    """Mean binary cross-entropy, with Keras's clipping of the probabilities at 1e-7."""
    p = np.clip(recon.astype(np.float64), 1e-7, 1 - 1e-7)
    return float(-np.mean(target * np.log(p) + (1 - target) * np.log1p(-p)))


# -------------------------------------------------------------------- 4. retrieval
def precision_at_k(database, db_labels, queries, q_labels, k=10, metric="cosine"):
    """Fraction of the k nearest database items that have the query's label."""
    idx, _ = nearest_neighbours(database, queries, k=k, metric=metric)
    return float(np.mean(db_labels[idx] == q_labels[:, None])), idx


def pca_codes(x_train, x_test, dim=32):
    """Project on the top ``dim`` principal axes of the training pixels."""
    mean = x_train.mean(axis=0)
    _, _, vt = np.linalg.svd(x_train[::5] - mean, full_matrices=False)
    axes = vt[:dim].T
    return (x_train - mean) @ axes, (x_test - mean) @ axes


# -------------------------------------------------------------------- pictures
def framed_mosaic(rows, frame_colours=None, pad=3):
    """Rows of 28x28 grey images as one RGB image; ``frame_colours[r][c]`` (RGB or None)
    draws a frame around cell (r, c)."""
    nrows, ncols = len(rows), max(len(r) for r in rows)
    cell = 28 + 2 * pad
    out = np.ones((nrows * cell, ncols * cell, 3), np.float32)
    for r, row in enumerate(rows):
        for c, img in enumerate(row):
            y, x = r * cell, c * cell
            colour = frame_colours[r][c] if frame_colours is not None else None
            if colour is not None:
                out[y + 1:y + cell - 1, x + 1:x + cell - 1] = colour
            out[y + pad:y + pad + 28, x + pad:x + pad + 28] = \
                np.clip(img.reshape(28, 28), 0, 1)[..., None]
    return out


def _mosaic_figure(img, left_in, width_in, title, fontsize=11):
    """A figure sized to show ``img`` ``width_in`` inches wide, ``left_in`` inches of row
    names on its left and a title above; returns (figure, axes)."""
    from shendu.viz._mpl import new_figure
    height_in = width_in * img.shape[0] / img.shape[1]
    top_in, bottom_in = 0.6, 0.35
    fig_w, fig_h = left_in + width_in + 0.2, height_in + top_in + bottom_in
    fig = new_figure("autoencoder_mnist", figsize=(fig_w, fig_h))
    ax = fig.add_axes([left_in / fig_w, bottom_in / fig_h, width_in / fig_w, height_in / fig_h])
    ax.imshow(img, interpolation="nearest")
    ax.tick_params(length=0)
    fig.suptitle(title, fontsize=fontsize, y=1 - 0.15 / fig_h, va="top")
    return fig, ax


def plot_reconstructions(rows, names, path, title):
    from shendu.viz._mpl import finish
    img = framed_mosaic(rows, pad=1)
    fig, ax = _mosaic_figure(img, 1.6, 10, title)
    ax.set_xticks([])
    ax.set_yticks([(i + 0.5) * 30 for i in range(len(rows))])
    ax.set_yticklabels(names)
    finish(fig, path)


def plot_retrieval(x_test, y_test, queries, x_db, y_db, idx_code, idx_pixel, path, title):
    """Per query two rows: its neighbours by the deep autoencoder's code, then by pixels."""
    from shendu.viz._mpl import finish
    green, red = (0.1, 0.75, 0.2), (0.9, 0.1, 0.1)
    rows, colours, names = [], [], []
    for q, i_code, i_pix in zip(queries, idx_code, idx_pixel):
        for kind, nbrs in (("deep code", i_code), ("pixels", i_pix)):
            rows.append([x_test[q]] + [x_db[j] for j in nbrs])
            colours.append([None] + [green if y_db[j] == y_test[q] else red for j in nbrs])
            names.append(f"digit {y_test[q]}: {kind}")
    img = framed_mosaic(rows, colours)
    fig, ax = _mosaic_figure(img, 1.5, 7, title, fontsize=9)
    ax.set_yticks([(i + 0.5) * 34 for i in range(len(rows))])
    ax.set_yticklabels(names, fontsize=8)
    ax.set_xticks([17] + [(c + 1.5) * 34 for c in range(len(idx_code[0]))])
    ax.set_xticklabels(["query"] + [str(c + 1) for c in range(len(idx_code[0]))])
    finish(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNGs")
    parser.add_argument("--data-dir", default=None,
                        help="folder holding mnist/ (default: $SHENDU_DATA, else "
                             "../shared/data beside the repository)")
    parser.add_argument("--epochs", type=int, default=50, help="dense autoencoder (Keras)")
    parser.add_argument("--conv-epochs", type=int, default=3,
                        help="convolutional and denoising autoencoders")
    parser.add_argument("--deep-epochs", type=int, default=10,
                        help="the deep autoencoder whose codes serve for retrieval")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", default="2", help="Keras verbose for fit")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="3000 training and 500 test images, few epochs (for tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.conv_epochs, args.deep_epochs = 5, 1, 2
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)
    t_start = time.perf_counter()
    sizes = dict(n_train=3000, n_test=500) if args.quick else {}
    (x_train, y_train), (x_test, y_test) = load_data(args.data_dir or default_data_dir(),
                                                     **sizes)
    print(f"{len(x_train)} training and {len(x_test)} test images")
    results = {}

    # 1. the Keras blog's dense autoencoder
    keras.utils.set_random_seed(args.seed)
    autoencoder, encoder, decoder = dense_autoencoder_keras(32)
    t0 = time.perf_counter()
    history = autoencoder.fit(x_train, x_train, epochs=args.epochs, batch_size=256,
                              shuffle=True, validation_data=(x_test, x_test), verbose=verbose)
    results["dense_seconds"] = time.perf_counter() - t0
    results["dense_test_bce"] = float(autoencoder.evaluate(x_test, x_test, verbose=0))
    print(f"dense 784-32-784, {args.epochs} epochs: test BCE per pixel "
          f"{results['dense_test_bce']:.4f} (target <= 0.10; {results['dense_seconds']:.0f} s)")
    codes_train = encoder.predict(x_train, batch_size=1000, verbose=0)
    codes_test = encoder.predict(x_test, batch_size=1000, verbose=0)
    dense_recon = decoder.predict(codes_test[:10], verbose=0)
    results["dead_code_units"] = int((codes_train.max(axis=0) <= 0).sum())

    # 2. convolutional autoencoder, 32-d code
    shendu.manual_seed(args.seed)
    conv = conv_autoencoder(1, (16, 32), code_dim=32)
    results["conv_losses"] = train_nn(conv, x_train, args.conv_epochs, seed=args.seed)
    conv_recon = reconstruct(conv, x_test)
    results["conv_test_bce"] = bce_per_pixel(conv_recon, x_test)
    print(f"convolutional, 32-d code, {args.conv_epochs} epochs: test BCE per pixel "
          f"{results['conv_test_bce']:.4f}")

    # 3. denoising autoencoder (the blog's noise_factor 0.5, clipped to [0, 1])
    shendu.manual_seed(args.seed)
    denoiser = conv_autoencoder(1, (32, 32), corruption=GaussianNoise(0.5))
    results["denoise_losses"] = train_nn(denoiser, x_train, args.conv_epochs,
                                         seed=args.seed, name="denoising")
    noise_rng = np.random.default_rng(args.seed + 1)
    x_test_noisy = np.clip(x_test + 0.5 * noise_rng.standard_normal(x_test.shape), 0, 1) \
        .astype(np.float32)
    denoised = reconstruct(denoiser, x_test_noisy)
    results["denoise_test_bce"] = bce_per_pixel(denoised, x_test)
    results["noisy_input_bce"] = bce_per_pixel(x_test_noisy, x_test)
    print(f"denoising: BCE of denoised noisy test digits vs clean {results['denoise_test_bce']:.4f}"
          f" (the noisy input itself: {results['noisy_input_bce']:.4f})")

    # the deep autoencoder of seed 004's retrieval: 784-256-128-32 (linear code)-128-256-784
    shendu.manual_seed(args.seed)
    deep = dense_autoencoder(784, [256, 128], code_dim=32, code_activation=None)
    results["deep_losses"] = train_nn(deep, x_train, args.deep_epochs, seed=args.seed,
                                      name="deep", shape=(784,))
    results["deep_test_bce"] = bce_per_pixel(reconstruct(deep, x_test, shape=(784,)), x_test)
    print(f"deep 784-256-128-32-128-256-784, {args.deep_epochs} epochs: test BCE per pixel "
          f"{results['deep_test_bce']:.4f}")
    deep_train = reconstruct(deep, x_train, shape=(784,), encode=True)
    deep_test = reconstruct(deep, x_test, shape=(784,), encode=True)

    # 4. retrieval: precision@10 in code space, raw pixels, PCA
    k = 10
    results["precision_code"], idx_code = precision_at_k(codes_train, y_train, codes_test,
                                                         y_test, k)
    results["precision_pixels"], idx_pixel = precision_at_k(x_train, y_train, x_test, y_test, k)
    pca_train, pca_test = pca_codes(x_train, x_test, 32)
    results["precision_pca"], _ = precision_at_k(pca_train, y_train, pca_test, y_test, k)
    results["precision_deep"], idx_deep = precision_at_k(deep_train, y_train, deep_test,
                                                         y_test, k)
    print(f"retrieval precision@{k} (cosine, same digit): 32-d AE codes "
          f"{results['precision_code']:.4f}, deep AE 32-d codes {results['precision_deep']:.4f}, "
          f"784 raw pixels {results['precision_pixels']:.4f}, 32-d PCA "
          f"{results['precision_pca']:.4f}")

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    recon_png = out / "autoencoder_mnist_reconstructions.png"
    n = 10
    plot_reconstructions(
        [x_test[:n], dense_recon, conv_recon[:n], x_test_noisy[:n], denoised[:n]],
        ["test digits", "dense 32-d (Keras)", "conv 32-d", "noisy (std 0.5)", "denoised"],
        recon_png, f"test BCE per pixel: dense {results['dense_test_bce']:.4f}, conv "
        f"{results['conv_test_bce']:.4f}; denoised vs clean {results['denoise_test_bce']:.4f}")
    retrieval_png = out / "autoencoder_mnist_retrieval.png"
    queries = [int(np.flatnonzero(y_test == d)[0]) for d in range(10)][:6 if args.quick else 10]
    plot_retrieval(x_test, y_test, queries, x_train, y_train, idx_deep[queries, :8],
                   idx_pixel[queries, :8], retrieval_png,
                   f"nearest training digits (cosine): deep autoencoder's 32-d code vs 784 "
                   f"pixels\nprecision@{k} over {len(x_test)} queries: deep code "
                   f"{results['precision_deep']:.3f}, Keras 32-d code "
                   f"{results['precision_code']:.3f}, pixels {results['precision_pixels']:.3f}, "
                   f"PCA-32 {results['precision_pca']:.3f} (green frame: same digit)")
    results.update(history=history.history, recon_png=recon_png, retrieval_png=retrieval_png,
                   codes_test=codes_test, wall_seconds=time.perf_counter() - t_start)
    print(f"Saved {recon_png}, {retrieval_png}  (wall time {results['wall_seconds']:.0f} s)")
    return results


if __name__ == "__main__":
    main()
