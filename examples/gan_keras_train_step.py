"""A GAN in Keras style: subclass ``keras.Model`` and override ``train_step``.

Lesson 003, "GAN 的訓練過程" and the course's pointer to Keras-GAN: in Keras a GAN is not
a ``Sequential`` that ``fit`` trains with one loss and one optimizer. keras.io's "GAN
overriding Model.train_step" subclasses ``keras.Model``, gives it its own
``compile(d_optimizer, g_optimizer, loss_fn)``, lists its loss trackers in a ``metrics``
property (so ``fit`` resets them every epoch) and writes the two-player step in
``train_step(self, data)``; ``fit`` then runs that step on every batch and shows the dict
it returns in the progress bar and in ``History``. This script is that class, on
shendu: the only change is the backend calls (``loss.backward()`` and the weights'
``.grad`` where TensorFlow has ``GradientTape``, ``shendu.cat`` for ``ops.concatenate``).

The data is the classic test of mode collapse: 8 Gaussians (std 0.05) on a circle of
radius 2. A generator that found only some of them draws sharp points at few places;
the score counts the modes a generator covers (a mode is covered when at least 1% of
2,500 samples lie within 3 standard deviations of it) and the share of samples that are
that close to some mode ("high quality"). Both networks are small MLPs (2 hidden layers
of 128; LeakyReLU in the discriminator), trained with Adam (learning rate 1e-3, beta_1 =
0.5), batches of 256, keras.io's labels (1 for fake, 0 for real, plus 0.05 uniform noise).

Run: python examples/gan_keras_train_step.py [--epochs 40] [--seeds 0 1 2] [--out examples_output]

Measured (2-core AMD EPYC, AVX2; shared with other jobs; 40 epochs of 78 batches, ~15 s
a seed): seed 0: 6/8 modes covered, 41.7% high-quality samples; seed 1: 8/8, 91.1%;
seed 2: 8/8, 71.0% (a vanilla GAN does not always find every mode).
"""
import argparse
import os
import time
from pathlib import Path

import numpy as np

import shendu
from shendu import keras
from shendu.keras import layers

MODES = 8
RADIUS = 2.0
STD = 0.05


def ring_of_gaussians(n, seed=0):
    """``n`` points from 8 Gaussians (std 0.05) centred on a circle of radius 2."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * rng.integers(0, MODES, n) / MODES
    centres = RADIUS * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return (centres + STD * rng.normal(size=(n, 2))).astype(np.float32)


def mode_centres():
    a = 2 * np.pi * np.arange(MODES) / MODES
    return RADIUS * np.stack([np.cos(a), np.sin(a)], axis=1)


def mode_score(points, min_share=0.01):
    """(modes covered, share of high-quality samples): a sample is high quality within 3
    std of its nearest mode; a mode is covered by at least ``min_share`` of the samples."""
    d = np.linalg.norm(points[:, None, :] - mode_centres()[None], axis=2)
    nearest, dist = d.argmin(axis=1), d.min(axis=1)
    good = dist < 3 * STD
    counts = np.bincount(nearest[good], minlength=MODES)
    return int((counts >= min_share * len(points)).sum()), float(good.mean())


class GAN(keras.Model):
    """keras.io's GAN class, on shendu."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile(optimizer=None)  # the two optimizers live here, not in self.optimizer
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def _apply(self, optimizer, loss, model):
        weights = model.trainable_weights
        for w in weights:
            w.grad = None
        loss.backward()
        optimizer.apply_gradients(zip([w.grad for w in weights], weights))

    def train_step(self, real_images):
        batch_size = real_images.shape[0]
        # Sample random points in the latent space and decode them to fake images
        random_latent_vectors = shendu.randn(batch_size, self.latent_dim)
        generated_images = self.generator(random_latent_vectors)
        # Combine them with real images: 1 for fake, 0 for real
        combined_images = shendu.cat([generated_images.detach(), real_images])
        labels = shendu.cat([shendu.ones(batch_size, 1), shendu.zeros(batch_size, 1)])
        # Add random noise to the labels - important trick!
        labels = labels + 0.05 * shendu.rand(*labels.shape)
        # Train the discriminator
        d_loss = self.loss_fn(labels, self.discriminator(combined_images))
        self._apply(self.d_optimizer, d_loss, self.discriminator)
        # Train the generator: labels that say "all real images" (without updating D)
        random_latent_vectors = shendu.randn(batch_size, self.latent_dim)
        misleading_labels = shendu.zeros(batch_size, 1)
        g_loss = self.loss_fn(misleading_labels,
                              self.discriminator(self.generator(random_latent_vectors)))
        self._apply(self.g_optimizer, g_loss, self.generator)
        # Update metrics
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def build(latent_dim=8, hidden=128):
    discriminator = keras.Sequential([
        keras.Input(shape=(2,)),
        layers.Dense(hidden, activation="leaky_relu"),
        layers.Dense(hidden, activation="leaky_relu"),
        layers.Dense(1),
    ], name="discriminator")
    generator = keras.Sequential([
        keras.Input(shape=(latent_dim,)),
        layers.Dense(hidden, activation="relu"),
        layers.Dense(hidden, activation="relu"),
        layers.Dense(2),
    ], name="generator")
    return GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)


class ModeMonitor(keras.callbacks.Callback):
    """keras.io's GANMonitor idea: look at samples after every epoch (here: score them)."""

    def __init__(self, n=2500):
        super().__init__()
        self.n = n
        self.modes, self.quality = [], []

    def on_epoch_end(self, epoch, logs=None):
        z = np.random.default_rng(epoch).normal(size=(self.n, self.model.latent_dim))
        points = self.model.generator.predict(z.astype(np.float32), batch_size=self.n,
                                              verbose=0)
        modes, quality = mode_score(points)
        self.modes.append(modes)
        self.quality.append(quality)


def train(seed, epochs, n_points, verbose):
    keras.utils.set_random_seed(seed)
    gan = build()
    gan.compile(d_optimizer=keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.5),
                g_optimizer=keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.5),
                loss_fn=keras.losses.BinaryCrossentropy(from_logits=True))
    data = ring_of_gaussians(n_points, seed)
    monitor = ModeMonitor()
    t = time.perf_counter()
    history = gan.fit(data, batch_size=256, epochs=epochs, callbacks=[monitor],
                      verbose=verbose)
    return gan, history, monitor, data, time.perf_counter() - t


def plot(data, samples, history, monitor, path):
    from shendu.viz._mpl import finish, new_figure
    fig = new_figure("gan_keras_train_step", (12.0, 4.0))
    ax = fig.add_subplot(1, 3, 1)
    ax.scatter(data[:2000, 0], data[:2000, 1], s=3, c="0.6", label="real")
    ax.scatter(samples[:, 0], samples[:, 1], s=3, c="C3", alpha=0.5, label="generated")
    ax.set_aspect("equal")
    ax.set_xlim(-3, 3)
    ax.set_ylim(-3, 3)
    ax.set_title(f"samples: {monitor.modes[-1]}/8 modes, {monitor.quality[-1]:.0%} "
                 "high quality", fontsize=10)
    ax.legend(loc="upper right", fontsize=8, markerscale=3)
    ax = fig.add_subplot(1, 3, 2)
    epochs = np.arange(1, len(history.history["d_loss"]) + 1)
    ax.plot(epochs, history.history["d_loss"], label="d_loss")
    ax.plot(epochs, history.history["g_loss"], label="g_loss")
    ax.axhline(np.log(2), color="0.5", lw=0.8, ls=":", label="log 2")
    ax.set_xlabel("epoch")
    ax.set_title("History (from train_step's dict)", fontsize=10)
    ax.legend(fontsize=8)
    ax = fig.add_subplot(1, 3, 3)
    ax.plot(epochs, monitor.modes, "o-", ms=3, color="C0")
    ax.set_ylim(0, 8.5)
    ax.set_ylabel("modes covered (of 8)", color="C0")
    ax2 = ax.twinx()
    ax2.plot(epochs, monitor.quality, "s-", ms=3, color="C2")
    ax2.set_ylim(0, 1.05)
    ax2.set_ylabel("share of high-quality samples", color="C2")
    ax.set_xlabel("epoch")
    ax.set_title("after each epoch (ModeMonitor callback)", fontsize=10)
    fig.tight_layout()
    finish(fig, path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="examples_output", help="folder for the PNG")
    parser.add_argument("--data-dir", default=None, help="unused (the data is synthetic)")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--points", type=int, default=20000, help="training points")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--verbose", default="auto",
                        help="Keras verbose for fit: auto (progress bar), 0, 1 or 2")
    parser.add_argument("--quick", action="store_true",
                        default=os.environ.get("SHENDU_EXAMPLE_QUICK") == "1",
                        help="4 epochs on 4,096 points, one seed (for tests)")
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.points, args.seeds = 4, 4096, args.seeds[:1]
    verbose = args.verbose if args.verbose == "auto" else int(args.verbose)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for seed in args.seeds:
        gan, history, monitor, data, seconds = train(seed, args.epochs, args.points, verbose)
        print(f"seed {seed}: {monitor.modes[-1]}/8 modes covered, "
              f"{monitor.quality[-1]:.1%} high-quality samples, d_loss "
              f"{history.history['d_loss'][-1]:.3f}, g_loss {history.history['g_loss'][-1]:.3f}"
              f" ({seconds:.0f} s)")
        runs.append(dict(seed=seed, gan=gan, history=history.history, modes=monitor.modes,
                         quality=monitor.quality, seconds=seconds, data=data,
                         monitor=monitor, history_obj=history))
    first = runs[0]
    z = np.random.default_rng(123).normal(size=(2500, first["gan"].latent_dim))
    samples = first["gan"].generator.predict(z.astype(np.float32), batch_size=2500, verbose=0)
    png = plot(first["data"], samples, first["history_obj"], first["monitor"],
               out / "gan_keras_train_step.png")
    print(f"Saved {png}")
    return dict(runs=[{k: v for k, v in r.items() if k not in ("data", "monitor",
                                                               "history_obj")} for r in runs],
                gan=first["gan"], samples=samples, png=png)


if __name__ == "__main__":
    main()
