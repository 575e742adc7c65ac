"""The variational autoencoder (Kingma and Welling 2014): an autoencoder whose code is a
distribution, so that decoding random codes generates new data.

The encoder maps ``x`` to the mean ``mu`` and log-variance ``logvar`` of a diagonal Gaussian
``q(z|x) = N(mu, diag(exp(logvar)))``; a code is drawn from it with the
*reparameterisation trick*

    z = mu + exp(0.5 logvar) * eps,      eps ~ N(0, I)

(the randomness sits in ``eps``, so gradients flow through ``mu`` and ``logvar``), and the
decoder gives Bernoulli pixel probabilities ``p(x|z)``. Training maximises the evidence
lower bound, i.e. minimises

    loss = BCE(x_hat, x) + KL(q(z|x) || N(0, I)),
    KL   = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)).

The defaults are PyTorch's ``examples/vae/main.py``: 784-400-20 with ReLU, ``fc21``/``fc22``
for mu/logvar, decoder 20-400-784 with a sigmoid, and the loss summed over the batch.

>>> import shendu
>>> from shendu.models.vae import VAE, vae_loss
>>> _ = shendu.manual_seed(0)
>>> model = VAE()
>>> x = shendu.rand(8, 1, 28, 28)
>>> recon, mu, logvar = model(x)
>>> recon.shape, mu.shape, logvar.shape
((8, 784), (8, 20), (8, 20))
>>> vae_loss(recon, x, mu, logvar).shape
()
>>> model.sample(4).shape
(4, 784)
"""
from __future__ import annotations

import numbers

from .. import nn
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..ops.creation import randn, randn_like
from ..ops.loss import binary_cross_entropy
from ..ops.activation import relu
from ..ops import sigmoid

__all__ = ["VAE", "vae_loss", "gaussian_kl_divergence"]


class VAE(nn.Module):
    """PyTorch's ``examples/vae`` model: ``in -> hidden (ReLU) -> (mu, logvar)``, then
    ``z -> hidden (ReLU) -> in (sigmoid)``.

    Parameters
    ----------
    in_features : int, default 784 (flattened 28x28 images, pixels in [0, 1])
    hidden : int, default 400
    latent_dim : int, default 20 (2 for a latent map you can draw)

    Layers (PyTorch's names, so weights copy across by ``state_dict``): ``fc1``
    (in -> hidden), ``fc21`` (hidden -> mu), ``fc22`` (hidden -> logvar), ``fc3``
    (latent -> hidden), ``fc4`` (hidden -> in).

    ``forward(x)`` flattens ``x`` to ``(N, in_features)`` and returns
    ``(recon (N, in_features), mu (N, latent), logvar (N, latent))``. As in PyTorch's
    script, a code is sampled in eval mode too; pass ``eps`` (shape of ``mu``) to fix the
    noise, or use ``encode`` + ``decode(mu)`` for the deterministic mean reconstruction.

    >>> VAE(latent_dim=2)
    VAE(
      (fc1): Linear(in_features=784, out_features=400, bias=True)
      (fc21): Linear(in_features=400, out_features=2, bias=True)
      (fc22): Linear(in_features=400, out_features=2, bias=True)
      (fc3): Linear(in_features=2, out_features=400, bias=True)
      (fc4): Linear(in_features=400, out_features=784, bias=True)
    )
    """

    def __init__(self, in_features=784, hidden=400, latent_dim=20):
        super().__init__()
        for name, value in (("in_features", in_features), ("hidden", hidden),
                            ("latent_dim", latent_dim)):
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"VAE: {name} must be a positive int, got {value!r}")
        self.in_features, self.hidden, self.latent_dim = int(in_features), int(hidden), \
            int(latent_dim)
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc21 = nn.Linear(hidden, latent_dim)
        self.fc22 = nn.Linear(hidden, latent_dim)
        self.fc3 = nn.Linear(latent_dim, hidden)
        self.fc4 = nn.Linear(hidden, in_features)

    def _flat(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"VAE: input must be a Tensor, got {type(x).__name__}")
        n = x.numel()
        if x.ndim < 1 or n % self.in_features or (x.ndim >= 2 and x.shape[0]
                                                  and n // x.shape[0] != self.in_features):
            raise ValueError(f"VAE(in_features={self.in_features}) got input of shape "
                             f"{tuple(x.shape)}: each sample must have {self.in_features} "
                             "values, e.g. (N, 1, 28, 28) or (N, 784)")
        return x.reshape(-1, self.in_features)

    def encode(self, x):
        """``(mu, logvar)`` of q(z|x), each ``(N, latent_dim)``."""
        h1 = relu(self.fc1(self._flat(x)))
        return self.fc21(h1), self.fc22(h1)

    @staticmethod
    def reparameterize(mu, logvar, eps=None):
        """``z = mu + exp(0.5 logvar) * eps`` with ``eps ~ N(0, I)`` (or the given ``eps``)."""
        std = (logvar * 0.5).exp()
        if eps is None:
            eps = randn_like(std)
        elif not isinstance(eps, Tensor):
            eps = Tensor(eps, dtype=std.dtype)
        if tuple(eps.shape) != tuple(std.shape):
            raise ValueError(f"VAE.reparameterize: eps has shape {tuple(eps.shape)}, expected "
                             f"the shape of mu {tuple(std.shape)}")
        return mu + eps * std

    def decode(self, z):
        """Pixel probabilities ``sigmoid(fc4(relu(fc3(z))))``, ``(N, in_features)``."""
        if not isinstance(z, Tensor) or z.ndim != 2 or z.shape[1] != self.latent_dim:
            shape = tuple(z.shape) if hasattr(z, "shape") else type(z).__name__
            raise ValueError(f"VAE.decode: expected codes of shape (N, {self.latent_dim}), "
                             f"got {shape}")
        return sigmoid(self.fc4(relu(self.fc3(z))))

    def forward(self, x, eps=None):
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar

    def sample(self, n, z=None):
        """``n`` new samples: decode codes drawn from the prior N(0, I) (or the given
        ``z`` of shape ``(n, latent_dim)``), without recording a graph. ``(n, in_features)``."""
        if not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"VAE.sample: n must be a positive int, got {n!r}")
        with no_grad():
            if z is None:
                z = randn(n, self.latent_dim, dtype=self.fc3.weight.dtype)
            elif not isinstance(z, Tensor):
                z = Tensor(z, dtype=self.fc3.weight.dtype)
            if tuple(z.shape) != (n, self.latent_dim):
                raise ValueError(f"VAE.sample: z must have shape ({n}, {self.latent_dim}), "
                                 f"got {tuple(z.shape)}")
            return self.decode(z)

    def extra_repr(self):
        return ""


def gaussian_kl_divergence(mu, logvar, reduction="sum"):
    """``KL(N(mu, exp(logvar)) || N(0, 1))`` summed over the latent dimensions:
    ``-1/2 sum (1 + logvar - mu^2 - exp(logvar))``, then summed (``"sum"``) or averaged
    over the batch (``"batchmean"``), or per sample (``"none"``, shape ``(N,)``).

    Gradients: ``d/dmu = mu``, ``d/dlogvar = (exp(logvar) - 1) / 2``.

    >>> import shendu
    >>> gaussian_kl_divergence(shendu.zeros(3, 2), shendu.zeros(3, 2))
    tensor(0.)
    >>> gaussian_kl_divergence(shendu.tensor([[1.0, 0.0]]), shendu.zeros(1, 2))
    tensor(0.5000)
    """
    if not isinstance(mu, Tensor) or not isinstance(logvar, Tensor):
        raise TypeError("gaussian_kl_divergence: mu and logvar must be Tensors")
    if tuple(mu.shape) != tuple(logvar.shape):
        raise ValueError(f"gaussian_kl_divergence: mu {tuple(mu.shape)} and logvar "
                         f"{tuple(logvar.shape)} must have the same shape")
    # -1/2 (1 + logvar - mu^2 - exp(logvar)), written with the signs folded in
    per_element = mu * mu + logvar.exp() - logvar - 1
    if reduction == "sum":
        return per_element.sum() * 0.5
    if reduction == "batchmean":
        return per_element.sum() * (0.5 / mu.shape[0])
    if reduction == "none":
        return per_element.reshape(mu.shape[0], -1).sum(axis=1) * 0.5
    raise ValueError(f"gaussian_kl_divergence: reduction must be 'sum', 'batchmean' or "
                     f"'none', got {reduction!r}")


def vae_loss(recon_x, x, mu, logvar, beta=1.0):
    """PyTorch's ``examples/vae`` loss, summed over the batch:
    ``BCE(recon_x, x.view(-1, D), reduction='sum') + beta * KL``, with KL as in
    ``gaussian_kl_divergence`` (``beta=1`` is the ELBO; ``beta > 1`` a beta-VAE).

    ``recon_x`` is ``(N, D)`` probabilities; ``x`` any shape with ``N * D`` values in [0, 1].
    Divide by N for the per-sample figure PyTorch's script prints.

    >>> import shendu
    >>> x = shendu.full((2, 4), 0.5)
    >>> round(vae_loss(x, x, shendu.zeros(2, 3), shendu.zeros(2, 3)).item(), 4)  # 8 log 2
    5.5452
    """
    if not isinstance(recon_x, Tensor):
        raise TypeError(f"vae_loss: recon_x must be a Tensor, got {type(recon_x).__name__}")
    if recon_x.ndim != 2:
        raise ValueError(f"vae_loss: recon_x must be (N, D), got shape {tuple(recon_x.shape)}")
    if not isinstance(x, Tensor):
        x = Tensor(x, dtype=recon_x.dtype)
    if x.numel() != recon_x.numel():
        raise ValueError(f"vae_loss: x has {x.numel()} values ({tuple(x.shape)}) but recon_x "
                         f"{tuple(recon_x.shape)} has {recon_x.numel()}")
    bce = binary_cross_entropy(recon_x, x.reshape(recon_x.shape), reduction="sum")
    kld = gaussian_kl_divergence(mu, logvar)
    return bce + kld if beta == 1 else bce + kld * beta
