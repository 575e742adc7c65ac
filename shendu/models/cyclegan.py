"""CycleGAN: unpaired image-to-image translation with two GANs tied by cycle consistency
(Zhu, Park, Isola, Efros 2017, "Unpaired Image-to-Image Translation using
Cycle-Consistent Adversarial Networks").

Course seed 003 ("CycleGAN", "Paired v.s. Unpaired"): pix2pix learns a translation from
*paired* examples (each input with its target); CycleGAN learns one between two sets
of images that are not paired at all (horses and zebras). Two generators translate
``G_AB: A -> B`` and ``G_BA: B -> A``; two discriminators tell real from translated
images, ``D_A`` in domain A and ``D_B`` in domain B. The generators minimize

    L_G = L_adv(D_B(G_AB(a)), real) + L_adv(D_A(G_BA(b)), real)                  adversarial
        + lambda_cycle (|G_BA(G_AB(a)) - a|_1 + |G_AB(G_BA(b)) - b|_1)           cycle
        + lambda_cycle lambda_identity (|G_AB(b) - b|_1 + |G_BA(a) - a|_1)       identity

The **cycle-consistency** terms make the pair of maps close to inverses of each other:
without them, ``G_AB`` could send every image of A to the same convincing B image. The
**identity** terms ask a generator to leave an image that is already in its target
domain unchanged, which keeps colours and overall tone (the paper uses it for paintings
<-> photos; ``lambda_identity`` is relative to ``lambda_cycle``, as the authors' code).

Each discriminator minimizes ``(L_adv(D(real), real) + L_adv(D(fake), fake)) / 2``,
where the fakes are drawn from an ``ImagePool`` of the last ``pool_size`` translated
images rather than only the newest batch (Shrivastava et al. 2017): the discriminator
keeps seeing what the generators did a while ago, which damps oscillation.

``gan_mode="lsgan"`` (the paper's choice) is the least-squares loss
``L_adv(x, real) = mean((x - 1)^2)``, ``L_adv(x, fake) = mean(x^2)`` on the logit maps;
``"vanilla"`` is binary cross-entropy with logits. Both optimizers are Adam with
``lr = 2e-4`` and ``betas = (0.5, 0.999)``.

>>> import shendu
>>> from shendu.models.unet import UNet
>>> from shendu.models.patchgan import PatchGANDiscriminator
>>> from shendu.models.cyclegan import CycleGAN
>>> _ = shendu.manual_seed(0)
>>> gan = CycleGAN(UNet(1, 1, 4, depth=2), UNet(1, 1, 4, depth=2),
...                PatchGANDiscriminator(1, 4, n_layers=1),
...                PatchGANDiscriminator(1, 4, n_layers=1))
>>> a, b = shendu.rand(2, 1, 16, 16) * 2 - 1, shendu.rand(3, 1, 16, 16) * 2 - 1
>>> losses = gan.train_step(a, b)
>>> sorted(losses)
['D_A', 'D_B', 'G', 'adv_AB', 'adv_BA', 'cycle_A', 'cycle_B', 'identity_AB', 'identity_BA']
>>> gan.translate_A_to_B(a).shape
(2, 1, 16, 16)
"""
from __future__ import annotations

import json

import numpy as np

from .. import backend, nn, optim
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..io import load as _load, save as _save
from ..ops import cat, ones_like, zeros_like
from ..ops.loss import binary_cross_entropy_with_logits, l1_loss, mse_loss

__all__ = ["CycleGAN", "ImagePool"]


class ImagePool:
    """A buffer of past generated images (Shrivastava et al. 2017; CycleGAN's pool).

    ``query(images)`` returns a batch of the same shape for the discriminator: until
    the pool holds ``pool_size`` images, each new image is stored and returned as it
    is; after that each image, with probability ``p``, is swapped with a random stored
    one (the stored image is returned, the new one takes its place) and is otherwise
    returned as it is. ``pool_size=0`` turns the pool off (the batch comes back).
    Images in one batch swap with distinct stored images. The stored images are
    detached copies: gradients never flow back through the pool.

    Parameters
    ----------
    pool_size : int, default 50
    p : float, default 0.5; probability that a new image is swapped for an old one

    >>> import shendu
    >>> pool = ImagePool(pool_size=2)
    >>> out = pool.query(shendu.zeros(3, 1, 2, 2))   # 2 stored, all 3 returned as given
    >>> len(pool), out.shape, out.requires_grad
    (2, (3, 1, 2, 2), False)
    """

    def __init__(self, pool_size=50, p=0.5):
        if not isinstance(pool_size, int) or isinstance(pool_size, bool) or pool_size < 0:
            raise ValueError(f"ImagePool: pool_size must be an int >= 0, got {pool_size!r}")
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"ImagePool: p must be in [0, 1], got {p!r}")
        self.pool_size, self.p = pool_size, float(p)
        self.images = None  # (pool_size, ...) array, filled from the front
        self.count = 0

    def __len__(self):
        return self.count

    def query(self, images):
        """``images`` (N, ...) Tensor or array -> a Tensor (N, ...) without gradient."""
        data = images._data if isinstance(images, Tensor) else images
        xp = backend.get_array_module(data)
        data = xp.array(data, copy=True)
        if data.ndim < 1 or len(data) == 0:
            raise ValueError(f"ImagePool.query: expected a non-empty batch (N, ...), got "
                             f"shape {tuple(data.shape)}")
        if self.pool_size == 0:
            return Tensor._make(data)
        if self.images is None:
            self.images = xp.empty((self.pool_size,) + data.shape[1:], dtype=data.dtype)
        elif self.images.shape[1:] != data.shape[1:]:
            raise ValueError(f"ImagePool.query: images of shape {tuple(data.shape[1:])} do "
                             f"not match the stored {tuple(self.images.shape[1:])}")
        # fill the free places first; those images come back unchanged
        fill = min(self.pool_size - self.count, len(data))
        self.images[self.count:self.count + fill] = data[:fill]
        self.count += fill
        rest = len(data) - fill
        if rest:
            rng = backend.default_generator()
            swap = np.flatnonzero(rng.random(rest) < self.p)
            # at most pool_size swaps per batch, each with a different stored image
            swap = swap[:self.pool_size]
            if len(swap):
                slots = xp.asarray(rng.choice(self.pool_size, size=len(swap), replace=False))
                rows = xp.asarray(fill + swap)
                old = self.images[slots].copy()
                self.images[slots] = data[rows]
                data[rows] = old
        return Tensor._make(data)

    def state_dict(self):
        """``{"pool_size", "p", "count", "images"}`` (``images`` None while empty)."""
        images = None if self.images is None else self.images[:self.count]
        return {"pool_size": self.pool_size, "p": self.p, "count": self.count,
                "images": images}

    def load_state_dict(self, state):
        if int(state["pool_size"]) != self.pool_size:
            raise ValueError(f"ImagePool.load_state_dict: saved pool_size "
                             f"{state['pool_size']} != this pool's {self.pool_size}")
        self.p, self.count = float(state["p"]), int(state["count"])
        images = state["images"]
        if images is None or self.count == 0:
            self.images, self.count = None, 0
            return
        data = images._data if isinstance(images, Tensor) else images
        xp = backend.get_array_module(data)
        self.images = xp.empty((self.pool_size,) + tuple(data.shape[1:]), dtype=data.dtype)
        self.images[:self.count] = data


def _as_images(x, who, name):
    if not isinstance(x, Tensor):
        x = Tensor(np.asarray(x, dtype=np.float32) if isinstance(x, (list, tuple)) else x)
    if x.ndim != 4:
        raise ValueError(f"CycleGAN.{who}: {name} must be a batch of images (N, C, H, W), "
                         f"got shape {tuple(x.shape)}")
    return x


class CycleGAN(nn.Module):
    """Two generators and two discriminators trained together on unpaired images.

    Parameters
    ----------
    G_AB, G_BA : nn.Module; generators A -> B and B -> A, ``(N, C, H, W) -> (N, C, H, W)``
        (e.g. ``UNet``; the identity loss feeds each one images of its target domain, so
        both domains need the same number of channels unless ``lambda_identity=0``)
    D_A, D_B : nn.Module; discriminators returning logits (a ``PatchGANDiscriminator``
        map or one logit per image): ``D_A`` judges domain A, ``D_B`` domain B
    lambda_cycle : float, default 10; weight of the cycle-consistency L1 terms
    lambda_identity : float, default 0.5; weight of the identity L1 terms relative to
        ``lambda_cycle`` (0 skips those two generator passes)
    gan_mode : "lsgan" (default, least squares) or "vanilla" (cross-entropy)
    lr : float, default 2e-4; betas : default (0.5, 0.999); Adam for both players
    pool_size : int, default 50; size of each ``ImagePool`` (0: no pool)

    Attributes
    ----------
    optimizer_G : Adam over both generators; optimizer_D : Adam over both
        discriminators (attach learning-rate schedulers to these)
    pool_A, pool_B : the ``ImagePool`` of translated A images (``G_BA(b)``) and of
        translated B images (``G_AB(a)``)
    steps : number of ``train_step`` calls so far

    ``state_dict()`` holds the four networks' weights (``G_AB.*``, ``G_BA.*``, ``D_A.*``,
    ``D_B.*``); ``save`` / ``load`` also keep the optimizers and the pools.
    """

    def __init__(self, G_AB, G_BA, D_A, D_B, lambda_cycle=10.0, lambda_identity=0.5,
                 gan_mode="lsgan", lr=2e-4, betas=(0.5, 0.999), pool_size=50):
        super().__init__()
        for name, net in (("G_AB", G_AB), ("G_BA", G_BA), ("D_A", D_A), ("D_B", D_B)):
            if not isinstance(net, nn.Module):
                raise TypeError(f"CycleGAN: {name} must be an nn.Module, got "
                                f"{type(net).__name__}")
        if gan_mode not in ("lsgan", "vanilla"):
            raise ValueError(f"CycleGAN: gan_mode must be 'lsgan' or 'vanilla', got "
                             f"{gan_mode!r}")
        if lambda_cycle < 0 or lambda_identity < 0:
            raise ValueError(f"CycleGAN: lambda_cycle and lambda_identity must be >= 0, got "
                             f"{lambda_cycle!r} and {lambda_identity!r}")
        if len({id(G_AB), id(G_BA), id(D_A), id(D_B)}) != 4:
            raise ValueError("CycleGAN: the four networks must be distinct modules")
        self.G_AB, self.G_BA, self.D_A, self.D_B = G_AB, G_BA, D_A, D_B
        self.lambda_cycle, self.lambda_identity = float(lambda_cycle), float(lambda_identity)
        self.gan_mode, self.lr, self.betas = gan_mode, float(lr), tuple(betas)
        self.optimizer_G = optim.Adam([*G_AB.parameters(), *G_BA.parameters()], lr=lr,
                                      betas=self.betas)
        self.optimizer_D = optim.Adam([*D_A.parameters(), *D_B.parameters()], lr=lr,
                                      betas=self.betas)
        self.pool_A, self.pool_B = ImagePool(pool_size), ImagePool(pool_size)
        self.steps = 0

    # ------------------------------------------------------------ losses
    def gan_loss(self, logits, target_is_real):
        """The adversarial loss of a discriminator output against "real" (1) or "fake" (0):
        ``mean((x - t)^2)`` for lsgan, ``BCE-with-logits(x, t)`` for vanilla."""
        target = (ones_like if target_is_real else zeros_like)(logits.detach())
        if self.gan_mode == "lsgan":
            return mse_loss(logits, target)
        return binary_cross_entropy_with_logits(logits, target)

    def generator_losses(self, real_A, real_B):
        """The generators' losses on one batch of each domain (building the graph).

        Returns ``(total, parts, fake_A, fake_B)``: ``total`` the Tensor ``L_G`` above,
        ``parts`` a dict of Tensors (``adv_AB``, ``adv_BA``, ``cycle_A``, ``cycle_B``,
        ``identity_AB``, ``identity_BA``; cycle and identity terms unweighted mean
        absolute errors), and the two translated batches.
        """
        fake_B = self.G_AB(real_A)
        fake_A = self.G_BA(real_B)
        rec_A = self.G_BA(fake_B)
        rec_B = self.G_AB(fake_A)
        parts = {"adv_AB": self.gan_loss(self.D_B(fake_B), True),
                 "adv_BA": self.gan_loss(self.D_A(fake_A), True),
                 "cycle_A": l1_loss(rec_A, real_A), "cycle_B": l1_loss(rec_B, real_B)}
        total = parts["adv_AB"] + parts["adv_BA"] \
            + self.lambda_cycle * (parts["cycle_A"] + parts["cycle_B"])
        if self.lambda_identity > 0:
            parts["identity_AB"] = l1_loss(self.G_AB(real_B), real_B)
            parts["identity_BA"] = l1_loss(self.G_BA(real_A), real_A)
            total = total + (self.lambda_cycle * self.lambda_identity) \
                * (parts["identity_AB"] + parts["identity_BA"])
        return total, parts, fake_A, fake_B

    def discriminator_loss(self, D, real, fake):
        """``(L_adv(D(real), real) + L_adv(D(fake), fake)) / 2`` (fake detached)."""
        return 0.5 * (self.gan_loss(D(real), True) + self.gan_loss(D(fake.detach()), False))

    # ------------------------------------------------------------ training
    def train_step(self, real_A, real_B):
        """One update of both generators, then of both discriminators.

        Parameters
        ----------
        real_A : (N, C, H, W) images of domain A; real_B : (M, C, H, W) images of domain
            B (unpaired: any two batches; scaled like the generators' output, e.g. [-1, 1]
            for tanh)

        Returns
        -------
        dict of floats: ``G`` (the generators' total loss), ``adv_AB``, ``adv_BA``,
        ``cycle_A``, ``cycle_B``, ``identity_AB``, ``identity_BA`` (0.0 when
        ``lambda_identity=0``), ``D_A``, ``D_B``.
        """
        real_A = _as_images(real_A, "train_step", "real_A")
        real_B = _as_images(real_B, "train_step", "real_B")
        self.train()
        # generators: the discriminators are frozen (gradients pass through them to
        # the fakes, but their weights collect none)
        self.D_A.requires_grad_(False)
        self.D_B.requires_grad_(False)
        try:
            self.optimizer_G.zero_grad()
            total, parts, fake_A, fake_B = self.generator_losses(real_A, real_B)
            total.backward()
            self.optimizer_G.step()
        finally:
            self.D_A.requires_grad_(True)
            self.D_B.requires_grad_(True)
        # discriminators, on fakes from the pools of past translations
        self.optimizer_D.zero_grad()
        loss_D_A = self.discriminator_loss(self.D_A, real_A, self.pool_A.query(fake_A))
        loss_D_B = self.discriminator_loss(self.D_B, real_B, self.pool_B.query(fake_B))
        (loss_D_A + loss_D_B).backward()
        self.optimizer_D.step()
        self.steps += 1
        losses = {"G": float(total.item())}
        for name in ("adv_AB", "adv_BA", "cycle_A", "cycle_B", "identity_AB", "identity_BA"):
            losses[name] = float(parts[name].item()) if name in parts else 0.0
        losses["D_A"], losses["D_B"] = float(loss_D_A.item()), float(loss_D_B.item())
        return losses

    # ------------------------------------------------------------ inference
    def _translate(self, G, images, batch_size, who):
        images = _as_images(images, who, "images")
        was_training = G.training
        G.eval()  # dropout off, batch norm on running statistics
        try:
            with no_grad():
                outs = [G(images[i:i + batch_size]) for i in range(0, len(images), batch_size)]
        finally:
            G.train(was_training)
        return outs[0] if len(outs) == 1 else cat(outs, dim=0)

    def translate_A_to_B(self, images, batch_size=256):
        """``G_AB`` in evaluation mode without gradients: (N, C, H, W) -> (N, C, H, W),
        ``batch_size`` images at a time."""
        return self._translate(self.G_AB, images, batch_size, "translate_A_to_B")

    def translate_B_to_A(self, images, batch_size=256):
        """``G_BA`` in evaluation mode without gradients, like ``translate_A_to_B``."""
        return self._translate(self.G_BA, images, batch_size, "translate_B_to_A")

    # ------------------------------------------------------------ saving
    def config(self):
        """The hyper-parameters as a JSON-friendly dict (stored in saved files)."""
        return {"lambda_cycle": self.lambda_cycle, "lambda_identity": self.lambda_identity,
                "gan_mode": self.gan_mode, "lr": self.lr, "betas": list(self.betas),
                "pool_size": self.pool_A.pool_size, "steps": self.steps}

    def save(self, path, include_optimizers=True):
        """Write the four networks' weights (and, by default, both optimizers and image
        pools, to resume training) to ``path`` with ``shendu.save`` (safetensors, atomic)."""
        state = {"model": self.state_dict(), "steps": self.steps}
        if include_optimizers:
            state["optimizer_G"] = self.optimizer_G.state_dict()
            state["optimizer_D"] = self.optimizer_D.state_dict()
            state["pool_A"] = self.pool_A.state_dict()
            state["pool_B"] = self.pool_B.state_dict()
        _save(state, path, metadata={"shendu.model": "CycleGAN",
                                     "config": json.dumps(self.config())})

    def load(self, path):
        """Load what ``save`` wrote into these networks (same architectures); restores the
        optimizers and pools when the file has them. Returns ``self``."""
        state = _load(path)
        if not isinstance(state, dict) or "model" not in state:
            raise ValueError(f"CycleGAN.load: {path} was not written by CycleGAN.save (no "
                             f"'model' entry)")
        self.load_state_dict(state["model"])
        self.steps = int(state.get("steps", 0))
        if "optimizer_G" in state:
            self.optimizer_G.load_state_dict(state["optimizer_G"])
            self.optimizer_D.load_state_dict(state["optimizer_D"])
            self.pool_A.load_state_dict(state["pool_A"])
            self.pool_B.load_state_dict(state["pool_B"])
        return self

    def extra_repr(self):
        return (f"lambda_cycle={self.lambda_cycle}, lambda_identity={self.lambda_identity}, "
                f"gan_mode={self.gan_mode!r}, pool_size={self.pool_A.pool_size}")
