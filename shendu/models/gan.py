"""Generative adversarial networks: DCGAN builders, the alternating training step, and the
Inception score of generated images.

A GAN (Goodfellow et al., 2014) trains two networks against each other. The generator
``G`` maps noise ``z ~ N(0, I)`` to an image; the discriminator ``D`` says how likely an
image is real. ``D`` is trained to tell real from generated images, ``G`` to fool ``D``:

    min_G max_D  E_x[log D(x)] + E_z[log(1 - D(G(z)))]

In practice each step first updates ``D`` on a batch of real images (label 1) and a batch
of generated ones (label 0) with binary cross-entropy, then updates ``G`` with the
*non-saturating* loss ``-log D(G(z))`` (label 1 for its fakes): early in training ``D``
rejects fakes easily, ``log(1 - D(G(z)))`` is then flat and gives ``G`` almost no
gradient, while ``-log D(G(z))`` is steep there (same fixed point, stronger signal).

DCGAN (Radford, Metz, Chintala, 2016) made this stable for images: no pooling (strided
convolutions down, transposed convolutions up), batch normalization in both networks
except the generator's output and the discriminator's input layer, ReLU in the generator
with a tanh output (images scaled to [-1, 1]), LeakyReLU(0.2) in the discriminator,
weights drawn from N(0, 0.02), Adam with learning rate 2e-4 and beta_1 = 0.5.

The Inception score (Salimans et al., 2016) rates samples with a classifier ``p(y|x)``:
``IS = exp(E_x KL(p(y|x) || p(y)))``, high when each image is confidently one class
(sharp ``p(y|x)``) and all classes appear (flat marginal ``p(y)``); it ranges from 1 to
the number of classes. On MNIST a digit classifier stands in for the Inception network.

>>> import shendu
>>> from shendu.models.gan import dcgan_generator, dcgan_discriminator
>>> _ = shendu.manual_seed(0)
>>> G = dcgan_generator(latent_dim=16, channels=(16, 8))
>>> D = dcgan_discriminator(channels=(8, 16))
>>> images = G(shendu.randn(4, 16))
>>> images.shape, D(images).shape
((4, 1, 28, 28), (4, 1))
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import nn, optim
from .. import ops
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from ..nn import functional as F

__all__ = ["dcgan_generator", "dcgan_discriminator", "dcgan_init_", "GAN",
           "inception_score", "classifier_inception_score", "class_coverage",
           "ClassifierScore", "tile_images", "save_image_grid"]


# ---------------------------------------------------------------------- builders
def _base_size(who, image_size, channels):
    if isinstance(channels, int) or not channels or \
            not all(isinstance(c, (int, np.integer)) and c > 0 for c in channels):
        raise ValueError(f"{who}: channels must be a non-empty sequence of positive ints "
                         f"(one per stride-2 layer), got {channels!r}")
    steps = 2 ** len(channels)
    if not isinstance(image_size, (int, np.integer)) or image_size <= 0 or \
            image_size % steps:
        raise ValueError(f"{who}: image_size must be a positive multiple of 2**len(channels) "
                         f"= {steps} (each of the {len(channels)} layers doubles the size); "
                         f"got image_size={image_size!r} with channels={tuple(channels)}")
    return image_size // steps


def dcgan_generator(latent_dim=100, channels=(128, 64), out_channels=1, image_size=28):
    """DCGAN's generator as an ``nn.Sequential``: ``(N, latent_dim) -> (N, out_channels,
    image_size, image_size)`` images in [-1, 1].

    The noise becomes a ``base x base`` map of ``channels[0]`` features
    (``ConvTranspose2d`` with a ``base``-wide kernel on the 1x1 input, ``base =
    image_size / 2**len(channels)``: 7 for MNIST's 28 with two entries, 4 for 64 with
    four), then each further entry of ``channels`` and the output layer double the size
    with ``ConvTranspose2d(kernel 4, stride 2, padding 1)``. Every hidden layer is
    transposed convolution (no bias: batch norm's shift replaces it), ``BatchNorm2d``,
    ``ReLU``; the output layer has a bias and ``Tanh``. Weights get ``dcgan_init_``.

    Parameters
    ----------
    latent_dim : int, the size of the noise vector z
    channels : sequence of ints, feature maps per layer, widest first
    out_channels : int, 1 for grey images, 3 for colour
    image_size : int, a multiple of ``2**len(channels)``

    >>> G = dcgan_generator(latent_dim=8, channels=(16, 8))
    >>> [type(m).__name__ for m in G][:4]
    ['Unflatten', 'ConvTranspose2d', 'BatchNorm2d', 'ReLU']
    >>> G(shendu.randn(2, 8)).shape
    (2, 1, 28, 28)
    """
    who = "dcgan_generator"
    base = _base_size(who, image_size, channels)
    if not isinstance(latent_dim, (int, np.integer)) or latent_dim <= 0:
        raise ValueError(f"{who}: latent_dim must be a positive int, got {latent_dim!r}")
    if not isinstance(out_channels, (int, np.integer)) or out_channels <= 0:
        raise ValueError(f"{who}: out_channels must be a positive int, got {out_channels!r}")
    layers = [nn.Unflatten(1, (int(latent_dim), 1, 1)),
              nn.ConvTranspose2d(latent_dim, channels[0], base, 1, 0, bias=False),
              nn.BatchNorm2d(channels[0]), nn.ReLU()]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(c_out), nn.ReLU()]
    layers += [nn.ConvTranspose2d(channels[-1], out_channels, 4, 2, 1), nn.Tanh()]
    return dcgan_init_(nn.Sequential(*layers))


def dcgan_discriminator(in_channels=1, channels=(64, 128), image_size=28, head="logits",
                        batch_norm=True):
    """DCGAN's discriminator as an ``nn.Sequential``: ``(N, in_channels, image_size,
    image_size) -> (N, 1)``, one score per image (a logit, or a probability with
    ``head="sigmoid"``).

    Each entry of ``channels`` halves the size with ``Conv2d(kernel 4, stride 2, padding
    1)`` and ``LeakyReLU(0.2)``, with ``BatchNorm2d`` (and no conv bias) on every layer but
    the first (DCGAN: not on the discriminator's input). A last ``Conv2d`` with a kernel as
    wide as the remaining ``base x base`` map (``base = image_size / 2**len(channels)``)
    gives the score. Weights get ``dcgan_init_``.

    Parameters
    ----------
    in_channels : int
    channels : sequence of ints, feature maps per layer, narrowest first
    image_size : int, a multiple of ``2**len(channels)``
    head : "logits" (default; pair with ``binary_cross_entropy_with_logits``, which is
        stable) or "sigmoid" (probabilities, the paper's form; pair with
        ``binary_cross_entropy``)
    batch_norm : bool, default True

    >>> D = dcgan_discriminator(channels=(8, 16), head="sigmoid")
    >>> p = D(shendu.zeros(3, 1, 28, 28))
    >>> p.shape, bool(((p.data > 0) & (p.data < 1)).all())
    ((3, 1), True)
    """
    who = "dcgan_discriminator"
    base = _base_size(who, image_size, channels)
    if head not in ("logits", "sigmoid"):
        raise ValueError(f"{who}: head must be 'logits' or 'sigmoid', got {head!r}")
    if not isinstance(in_channels, (int, np.integer)) or in_channels <= 0:
        raise ValueError(f"{who}: in_channels must be a positive int, got {in_channels!r}")
    layers = [nn.Conv2d(in_channels, channels[0], 4, 2, 1), nn.LeakyReLU(0.2)]
    for c_in, c_out in zip(channels[:-1], channels[1:]):
        layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(c_out))
        layers.append(nn.LeakyReLU(0.2))
    layers += [nn.Conv2d(channels[-1], 1, base, 1, 0), nn.Flatten()]
    if head == "sigmoid":
        layers.append(nn.Sigmoid())
    return dcgan_init_(nn.Sequential(*layers))


_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
          nn.ConvTranspose3d, nn.Linear)


def dcgan_init_(module, std=0.02):
    """DCGAN's initialization, in place; returns ``module``.

    Convolution, transposed convolution and Linear weights ~ N(0, std^2), their biases 0;
    batch-norm scales ~ N(1, std^2), shifts 0 (the PyTorch DCGAN tutorial's
    ``weights_init``). Other modules keep their weights.

    >>> net = dcgan_init_(nn.Sequential(nn.Conv2d(1, 64, 4), nn.BatchNorm2d(64)))
    >>> round(float(net[0].weight.data.std()), 2), float(net[0].bias.data.max())
    (0.02, 0.0)
    """
    if not isinstance(module, nn.Module):
        raise TypeError(f"dcgan_init_ takes an nn.Module, got {type(module).__name__}")
    for m in module.modules():
        if isinstance(m, _CONVS):
            nn.init.normal_(m.weight, 0.0, std)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)) and \
                m.weight is not None:
            nn.init.normal_(m.weight, 1.0, std)
            nn.init.zeros_(m.bias)
    return module


# ---------------------------------------------------------------------- training
class GAN(nn.Module):
    """A generator and a discriminator with their optimizers and the alternating step.

    ``train_step(real)`` does one round of the game on a batch of real images:

    1. discriminator: ``L_D = BCE(D(x), 1) + BCE(D(G(z)), 0)`` on a batch of real images
       and a separate batch of fakes (DCGAN keeps them apart because of batch norm), the
       fakes detached so ``G`` is not touched; one step of ``d_optimizer``;
    2. generator: the non-saturating ``L_G = BCE(D(G(z)), 1) = -mean log D(G(z))`` on the
       same ``z`` (or the original minimax ``L_G = mean log(1 - D(G(z)))`` with
       ``generator_loss="minimax"``, to see why it stalls); one step of ``g_optimizer``.
       ``D``'s weights are frozen for this backward pass: only ``G`` learns from it.

    Parameters
    ----------
    generator : nn.Module, ``(N, latent_dim) -> images``
    discriminator : nn.Module, ``images -> (N, 1)`` (or ``(N,)``) scores
    latent_dim : int
    g_optimizer, d_optimizer : ``shendu.optim`` optimizers; default Adam(lr, betas) on
        each network's parameters
    lr : float, default 2e-4; betas : default (0.5, 0.999) (DCGAN's Adam)
    discriminator_outputs : "logits" (default) or "probabilities" (a sigmoid head)
    generator_loss : "non_saturating" (default) or "minimax"
    real_label : float, default 1.0; e.g. 0.9 for one-sided label smoothing

    ``sample(n)`` draws ``n`` images (generator in inference mode), ``save_grid(path)`` saves
    them as a PNG grid. ``GAN`` is an ``nn.Module`` (its submodules ``generator`` and
    ``discriminator``), so ``shendu.save(gan.state_dict(), path)`` saves both.

    >>> _ = shendu.manual_seed(0)
    >>> gan = GAN(dcgan_generator(8, (8, 4)), dcgan_discriminator(1, (4, 8)), latent_dim=8)
    >>> logs = gan.train_step(shendu.rand(6, 1, 28, 28) * 2 - 1)
    >>> sorted(logs)
    ['d_fake', 'd_loss', 'd_real', 'g_loss']
    >>> gan.sample(5).shape
    (5, 1, 28, 28)
    """

    def __init__(self, generator, discriminator, latent_dim, g_optimizer=None,
                 d_optimizer=None, lr=2e-4, betas=(0.5, 0.999), discriminator_outputs="logits",
                 generator_loss="non_saturating", real_label=1.0):
        super().__init__()
        for name, net in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(net, nn.Module):
                raise TypeError(f"GAN: {name} must be an nn.Module, got {type(net).__name__}")
        if not isinstance(latent_dim, (int, np.integer)) or latent_dim <= 0:
            raise ValueError(f"GAN: latent_dim must be a positive int, got {latent_dim!r}")
        if discriminator_outputs not in ("logits", "probabilities"):
            raise ValueError("GAN: discriminator_outputs must be 'logits' or 'probabilities', "
                             f"got {discriminator_outputs!r}")
        if generator_loss not in ("non_saturating", "minimax"):
            raise ValueError("GAN: generator_loss must be 'non_saturating' or 'minimax', got "
                             f"{generator_loss!r}")
        if not 0.0 < float(real_label) <= 1.0:
            raise ValueError(f"GAN: real_label must be in (0, 1], got {real_label!r}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.discriminator_outputs = discriminator_outputs
        self.generator_loss = generator_loss
        self.real_label = float(real_label)
        self.g_optimizer = g_optimizer if g_optimizer is not None else \
            optim.Adam(generator.parameters(), lr=lr, betas=betas)
        self.d_optimizer = d_optimizer if d_optimizer is not None else \
            optim.Adam(discriminator.parameters(), lr=lr, betas=betas)

    def forward(self, z):
        """``G(z)``: images from noise of shape ``(N, latent_dim)``."""
        return self.generator(z)

    def noise(self, n):
        """``n`` noise vectors ``z ~ N(0, I)``, shape ``(n, latent_dim)``, on the
        generator's device."""
        z = ops.randn(int(n), self.latent_dim)
        device = self._device()
        return z.to(device) if device is not None else z

    def _device(self):
        p = next(iter(self.generator.parameters()), None)
        return p.device if p is not None and p.is_cuda else None

    def _bce(self, scores, target):
        """BCE of the discriminator's scores against a constant label, mean over images."""
        scores = scores.reshape(scores.shape[0], -1)
        labels = ops.full(scores.shape, float(target), dtype=scores.dtype)
        if scores.is_cuda:
            labels = labels.to(scores.device)
        if self.discriminator_outputs == "logits":
            return F.binary_cross_entropy_with_logits(scores, labels)
        return F.binary_cross_entropy(scores, labels)

    def _probabilities(self, scores):
        a = scores._data.astype(np.float64) if isinstance(scores._data, np.ndarray) \
            else scores._data
        if self.discriminator_outputs == "logits":
            xp = scores.xp
            a = xp.exp(-xp.logaddexp(0, -a))  # sigmoid without overflow
        return float(a.mean())

    def _as_images(self, real):
        if not isinstance(real, Tensor):
            real = ops.tensor(np.asarray(real, dtype=np.float32))
        device = self._device()
        if device is not None and not real.is_cuda:
            real = real.to(device)
        if real.ndim < 2 or real.shape[0] == 0:
            raise ValueError(f"GAN.train_step: real must be a batch of images (N, ...), got "
                             f"shape {real.shape}")
        return real

    def train_step(self, real, z=None):
        """One discriminator step and one generator step on a batch of real images.

        Parameters
        ----------
        real : (N, C, H, W) Tensor or array, scaled like the generator's output ([-1, 1]
            for a tanh generator)
        z : optional (N, latent_dim) noise (default: drawn from N(0, I))

        Returns
        -------
        dict with ``d_loss`` and ``g_loss`` (floats) and ``d_real`` / ``d_fake``: the mean
        probability ``D`` gave the real images and the fakes, before its update.
        """
        real = self._as_images(real)
        n = real.shape[0]
        if z is None:
            z = self.noise(n)
        elif tuple(z.shape) != (n, self.latent_dim):
            raise ValueError(f"GAN.train_step: z must have shape (N, latent_dim) = "
                             f"{(n, self.latent_dim)}, got {tuple(z.shape)}")
        G, D = self.generator, self.discriminator
        G.train()
        D.train()
        fake = G(z)

        # 1. discriminator: real -> 1, fake -> 0 (fakes detached: G gets no gradient here)
        self.d_optimizer.zero_grad()
        scores_real = D(real)
        scores_fake = D(fake.detach())
        d_loss = self._bce(scores_real, self.real_label) + self._bce(scores_fake, 0.0)
        d_loss.backward()
        self.d_optimizer.step()

        # 2. generator: make D say "real" for the fakes, D frozen
        self.g_optimizer.zero_grad()
        frozen = [p for p in D.parameters() if p.requires_grad]
        for p in frozen:
            p.requires_grad_(False)
        try:
            scores = D(fake)
            if self.generator_loss == "non_saturating":
                g_loss = self._bce(scores, 1.0)
            else:  # minimax: minimize E log(1 - D(G(z))) = -BCE(D(G(z)), 0)
                g_loss = -self._bce(scores, 0.0)
            g_loss.backward()
        finally:
            for p in frozen:
                p.requires_grad_(True)
        self.g_optimizer.step()
        return {"d_loss": float(d_loss.item()), "g_loss": float(g_loss.item()),
                "d_real": self._probabilities(scores_real),
                "d_fake": self._probabilities(scores_fake)}

    def sample(self, n=None, z=None, training=False):
        """Images from the generator: ``n`` fresh ones, or ``G(z)`` for given noise.

        Runs without a graph; ``training=False`` (default) uses batch norm's running
        statistics, so an image does not depend on the rest of its batch. Returns a Tensor
        ``(n, C, H, W)``; the networks' modes are restored afterwards.
        """
        if z is None:
            if n is None or int(n) <= 0:
                raise ValueError(f"GAN.sample: give n > 0 or z, got n={n!r}")
            z = self.noise(n)
        was = self.generator.training
        self.generator.train(bool(training))
        try:
            with grad_mode.no_grad():
                return self.generator(z)
        finally:
            self.generator.train(was)

    def save_grid(self, path, n=64, z=None, ncols=8):
        """Save ``sample(n)`` (or ``G(z)``) as a PNG grid of ``ncols`` columns; the path."""
        images = self.sample(n, z)
        return save_image_grid(images, path, ncols=ncols, value_range=(-1.0, 1.0))

    def extra_repr(self):
        return (f"latent_dim={self.latent_dim}, discriminator_outputs="
                f"{self.discriminator_outputs!r}, generator_loss={self.generator_loss!r}")


# ---------------------------------------------------------------------- image grids
def _host_array(images, who):
    if isinstance(images, Tensor):
        images = images.detach().cpu()._data if images.is_cuda else images._data
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[:, None]
    if a.ndim != 4 or a.shape[1] not in (1, 3):
        raise ValueError(f"{who}: images must be (N, H, W) or (N, C, H, W) with C = 1 or 3, "
                         f"got shape {a.shape}")
    if len(a) == 0:
        raise ValueError(f"{who}: no images")
    return a


def tile_images(images, ncols=8, padding=2, value_range=(-1.0, 1.0), pad_value=0.0):
    """Tile a batch of images into one array (torchvision's ``make_grid`` in NumPy).

    Parameters
    ----------
    images : (N, C, H, W) or (N, H, W) array or Tensor, C = 1 or 3
    ncols : int, images per row; padding : pixels between images
    value_range : (low, high) mapped to [0, 1] and clipped, or None to keep the values
    pad_value : the value of the padding, in the output's [0, 1] scale

    Returns
    -------
    (rows * (H + padding) + padding, ncols * (W + padding) + padding) float array for grey
    images, with a trailing axis of 3 for colour ones.

    >>> tile_images(np.zeros((5, 1, 4, 4)), ncols=3, padding=1).shape
    (11, 16)
    """
    a = _host_array(images, "tile_images").astype(np.float64)
    if value_range is not None:
        low, high = (float(v) for v in value_range)
        if not high > low:
            raise ValueError(f"tile_images: value_range must be (low, high) with high > low, "
                             f"got {value_range!r}")
        a = np.clip((a - low) / (high - low), 0.0, 1.0)
    n, c, h, w = a.shape
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    out = np.full((c, nrows * (h + padding) + padding, ncols * (w + padding) + padding),
                  float(pad_value))
    for i in range(n):  # one copy per image: the grid is small
        r, q = divmod(i, ncols)
        y, x = padding + r * (h + padding), padding + q * (w + padding)
        out[:, y:y + h, x:x + w] = a[i]
    return out[0] if c == 1 else out.transpose(1, 2, 0)


def save_image_grid(images, path, ncols=8, padding=2, value_range=(-1.0, 1.0), scale=4):
    """Save a batch of images as one PNG grid (``tile_images``), each pixel drawn as a
    ``scale x scale`` block (white ink on black for grey images, as MNIST). Returns the
    path. Needs matplotlib."""
    from ..viz._mpl import require_matplotlib
    require_matplotlib("save_image_grid")
    import matplotlib.image as mpimg
    grid = tile_images(images, ncols=ncols, padding=padding, value_range=value_range)
    scale = int(scale)
    if scale < 1:
        raise ValueError(f"save_image_grid: scale must be a positive int, got {scale!r}")
    grid = np.repeat(np.repeat(grid, scale, axis=0), scale, axis=1)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.png")
    if grid.ndim == 2:
        mpimg.imsave(tmp, grid, cmap="gray", vmin=0.0, vmax=1.0)
    else:
        mpimg.imsave(tmp, grid)
    tmp.replace(path)  # atomic: a failed save leaves an old grid intact
    return path


# ---------------------------------------------------------------------- scores
def _check_probs(probs, who):
    p = np.asarray(probs._data if isinstance(probs, Tensor) else probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0 or p.shape[1] < 2:
        raise ValueError(f"{who}: probs must be (N, K) class probabilities with N >= 1 and "
                         f"K >= 2, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or p.min() < 0:
        raise ValueError(f"{who}: probs must be finite and non-negative (softmax outputs, "
                         "not logits)")
    sums = p.sum(axis=1)
    if not np.allclose(sums, 1.0, atol=1e-3):
        bad = int(np.argmax(np.abs(sums - 1.0)))
        raise ValueError(f"{who}: each row of probs must sum to 1 (softmax outputs, not "
                         f"logits); row {bad} sums to {sums[bad]:.4f}")
    return p


def inception_score(probs, splits=10):
    """The Inception score of a set of samples from their class probabilities.

    ``IS = exp(E_x KL(p(y|x) || p(y)))`` with ``p(y) = E_x p(y|x)``, computed on each of
    ``splits`` equal parts of the samples (Salimans et al. report 10) and averaged.
    ``KL(p || q) = sum_k p_k (log p_k - log q_k)``, with ``0 log 0 = 0``.

    It lies in ``[1, K]``: ``K`` when every sample is one class with certainty and the
    classes are equally frequent; 1 when all samples get the same distribution (one class
    only, or the same unsure guess everywhere).

    Parameters
    ----------
    probs : (N, K) array or Tensor, rows ``p(y|x)`` summing to 1
    splits : int, 1 <= splits <= N

    Returns
    -------
    (mean, std) : floats, over the splits (std 0 for one split)

    >>> score, std = inception_score(np.eye(10)[np.arange(100) % 10], splits=1)
    >>> round(score, 9), std                  # sure of each, all 10 classes as often
    (10.0, 0.0)
    >>> score, std = inception_score(np.full((50, 10), 0.1), splits=5)
    >>> round(score, 9), round(std, 9)        # the same unsure guess everywhere
    (1.0, 0.0)
    """
    who = "inception_score"
    p = _check_probs(probs, who)
    if not isinstance(splits, (int, np.integer)) or not 1 <= splits <= len(p):
        raise ValueError(f"{who}: splits must be an int in [1, N={len(p)}], got {splits!r}")
    scores = []
    for part in np.array_split(p, int(splits)):
        marginal = part.mean(axis=0, keepdims=True)
        # where p_k > 0 the marginal is > 0 too; terms with p_k = 0 count 0 (not nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(part > 0, part * (np.log(part) - np.log(marginal)), 0.0)
        kl = terms.sum(axis=1)
        scores.append(float(np.exp(kl.mean())))
    return float(np.mean(scores)), float(np.std(scores))


def class_coverage(probs, min_count=1):
    """How many classes a set of samples covers: ``(covered, counts)``.

    ``counts[k]`` is the number of samples whose most likely class is ``k``; a class is
    covered when it has at least ``min_count`` samples. A GAN that collapsed onto a few
    modes covers few classes even when each sample looks sharp.

    >>> covered, counts = class_coverage([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1]])
    >>> covered, counts.tolist()
    (2, [2, 1, 0])
    """
    p = _check_probs(probs, "class_coverage")
    if not isinstance(min_count, (int, np.integer)) or min_count < 1:
        raise ValueError(f"class_coverage: min_count must be a positive int, got {min_count!r}")
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1])
    return int((counts >= min_count).sum()), counts


class ClassifierScore(NamedTuple):
    """What ``classifier_inception_score`` measures."""
    score: float           # Inception score, mean over the splits
    std: float             # its standard deviation over the splits
    classes_covered: int   # classes predicted for at least min_count samples
    class_counts: np.ndarray  # (K,) samples per predicted class


def classifier_inception_score(classifier, images, splits=10, batch_size=500,
                               outputs="logits", min_count=1):
    """The Inception score of ``images`` judged by ``classifier`` (e.g. an MNIST CNN), with
    the class coverage.

    The classifier runs in inference mode without a graph, in batches; its outputs are
    turned into probabilities with a softmax (``outputs="logits"``) or taken as they are
    (``outputs="probabilities"``). Its mode is restored afterwards.

    Parameters
    ----------
    classifier : nn.Module (or a Keras model), images -> (N, K) scores
    images : (N, ...) Tensor or array, as the classifier expects them
    splits, min_count : as ``inception_score`` and ``class_coverage``
    batch_size : int

    Returns
    -------
    ClassifierScore(score, std, classes_covered, class_counts)

    >>> net = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    >>> result = classifier_inception_score(net, np.random.rand(20, 2, 2), splits=2)
    >>> 1.0 <= result.score <= 3.0, int(result.class_counts.sum())
    (True, 20)
    """
    who = "classifier_inception_score"
    if not callable(classifier):
        raise TypeError(f"{who}: classifier must be a module or callable, got "
                        f"{type(classifier).__name__}")
    if outputs not in ("logits", "probabilities"):
        raise ValueError(f"{who}: outputs must be 'logits' or 'probabilities', got {outputs!r}")
    if not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
        raise ValueError(f"{who}: batch_size must be a positive int, got {batch_size!r}")
    n = images.shape[0] if hasattr(images, "shape") else len(images)
    if n == 0:
        raise ValueError(f"{who}: no images")
    was = getattr(classifier, "training", None)
    if was is not None:
        classifier.train(False)
    parts = []
    try:
        with grad_mode.no_grad():
            for start in range(0, n, int(batch_size)):
                batch = images[start:start + batch_size]
                if not isinstance(batch, Tensor):
                    batch = ops.tensor(np.asarray(batch, dtype=np.float32))
                out = classifier(batch)
                a = out._data if isinstance(out, Tensor) else np.asarray(out)
                if not isinstance(a, np.ndarray):
                    a = out.detach().cpu()._data
                parts.append(np.asarray(a, dtype=np.float64))
    finally:
        if was is not None:
            classifier.train(was)
    scores = np.concatenate(parts)
    if scores.ndim != 2 or scores.shape[0] != n:
        raise ValueError(f"{who}: the classifier must return (N, K) scores, got shape "
                         f"{scores.shape} for {n} images")
    if outputs == "logits":
        scores = np.exp(scores - scores.max(axis=1, keepdims=True))
        scores /= scores.sum(axis=1, keepdims=True)
    mean, std = inception_score(scores, splits=splits)
    covered, counts = class_coverage(scores, min_count=min_count)
    return ClassifierScore(mean, std, covered, counts)
