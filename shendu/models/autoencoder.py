"""Autoencoders: an encoder that squeezes the input into a small code, a decoder that
rebuilds the input from it, trained to make the two agree.

Lesson 003 "自編碼網路" and 004 "Representation Learning: 化繁為簡": with ``z = f(W x + b)``
for the code and ``x_hat = g(W' z + b')`` for the reconstruction, the network learns a
lossy, data-specific compression from the examples alone (no labels). Its uses here:

* ``Autoencoder(encoder, decoder)``, with builders ``dense_autoencoder`` (784-32-784 as
  the Keras blog, or deeper) and ``conv_autoencoder`` (strided ``Conv2d`` down,
  ``ConvTranspose2d`` or ``Upsample`` + ``Conv2d`` up);
* denoising: ``GaussianNoise`` / ``MaskingNoise`` corrupt the input during training only,
  while the loss compares the reconstruction with the clean input;
* the course's recommender: ``masked_mse_loss`` learns a users x movies ratings matrix
  whose missing entries carry no loss, so the decoder's output predicts them;
* similar-image retrieval: ``nearest_neighbours`` in code space.

>>> import shendu
>>> from shendu.models.autoencoder import dense_autoencoder
>>> _ = shendu.manual_seed(0)
>>> ae = dense_autoencoder(784, [128], code_dim=32)
>>> x = shendu.rand(5, 784)
>>> ae.encode(x).shape, ae(x).shape
((5, 32), (5, 784))
"""
from __future__ import annotations

import numbers

import numpy as np

from .. import nn
from ..autograd.tensor import Tensor
from ..ops.creation import rand_like, randn_like

__all__ = ["Autoencoder", "dense_autoencoder", "conv_autoencoder", "GaussianNoise",
           "MaskingNoise", "masked_mse_loss", "nearest_neighbours"]

_ACTIVATIONS = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh,
                "leaky_relu": lambda: nn.LeakyReLU(0.2), "elu": nn.ELU, "gelu": nn.GELU}


def _activation(name, who):
    """A fresh activation module for ``name`` (None or "linear": no module)."""
    if name is None or name == "linear":
        return None
    if isinstance(name, str):
        if name not in _ACTIVATIONS:
            raise ValueError(f"{who}: unknown activation {name!r}; expected one of "
                             f"{sorted(_ACTIVATIONS)}, 'linear' or None")
        return _ACTIVATIONS[name]()
    if callable(name):  # a Module class or a factory
        module = name()
        if not isinstance(module, nn.Module):
            raise TypeError(f"{who}: activation factory {name!r} made a "
                            f"{type(module).__name__}, not an nn.Module")
        return module
    raise TypeError(f"{who}: activation must be a name, a Module class or None, got "
                    f"{type(name).__name__}")


def _layers(*modules):
    return [m for m in modules if m is not None]


# ---------------------------------------------------------------------------- model
class Autoencoder(nn.Module):
    """``x -> encoder -> code z -> decoder -> x_hat``, with optional input corruption.

    Parameters
    ----------
    encoder, decoder : nn.Module
        ``encoder(x)`` gives the code, ``decoder(z)`` the reconstruction, of the input's
        shape when trained to rebuild it.
    corruption : nn.Module, optional
        Applied to the input in ``forward`` while ``training`` (a denoising autoencoder):
        ``GaussianNoise(0.5)`` or ``MaskingNoise(0.3)``. ``eval()`` switches it off, and
        ``encode``/``decode`` never corrupt.

    Train it by comparing ``model(x)`` with the *clean* ``x``, e.g.
    ``F.binary_cross_entropy(model(x), x)`` for pixels in [0, 1] and a sigmoid output.

    >>> import shendu
    >>> from shendu import nn
    >>> ae = Autoencoder(nn.Linear(4, 2), nn.Linear(2, 4), corruption=MaskingNoise(0.5))
    >>> ae
    Autoencoder(
      (encoder): Linear(in_features=4, out_features=2, bias=True)
      (decoder): Linear(in_features=2, out_features=4, bias=True)
      (corruption): MaskingNoise(p=0.5)
    )
    >>> ae(shendu.ones(3, 4)).shape
    (3, 4)
    """

    def __init__(self, encoder, decoder, corruption=None):
        super().__init__()
        for name, module in (("encoder", encoder), ("decoder", decoder)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"Autoencoder: {name} must be an nn.Module, got "
                                f"{type(module).__name__}")
        if corruption is not None and not isinstance(corruption, nn.Module):
            raise TypeError(f"Autoencoder: corruption must be an nn.Module (GaussianNoise, "
                            f"MaskingNoise) or None, got {type(corruption).__name__}")
        self.encoder = encoder
        self.decoder = decoder
        self.corruption = corruption

    def encode(self, x):
        """The code ``z = encoder(x)`` (no corruption)."""
        return self.encoder(x)

    def decode(self, z):
        """The reconstruction ``decoder(z)``."""
        return self.decoder(z)

    def forward(self, x):
        """``decode(encode(x~))``, where ``x~`` is ``corruption(x)`` in training mode."""
        if self.corruption is not None and self.training:
            x = self.corruption(x)
        return self.decoder(self.encoder(x))


def dense_autoencoder(in_features=784, hidden=(), code_dim=32, activation="relu",
                      code_activation="same", output_activation="sigmoid", corruption=None):
    """A fully connected autoencoder, mirrored: ``in -> hidden... -> code -> reversed(hidden)
    -> in``.

    ``dense_autoencoder(784, [], 32)`` is the Keras blog's 784-32-784 (ReLU code, sigmoid
    output); ``dense_autoencoder(784, [128, 64], 32)`` its deep 784-128-64-32-64-128-784.

    Parameters
    ----------
    in_features : int, the input size (784 for flat MNIST)
    hidden : sequence of int, the encoder's hidden widths (the decoder uses them reversed)
    code_dim : int, the width of the code layer
    activation : str, after every hidden layer: "relu", "sigmoid", "tanh", "leaky_relu",
        "elu", "gelu", "linear"/None, or an nn.Module class
    code_activation : activation of the code layer; "same" (default) means ``activation``;
        None gives a linear code (Hinton and Salakhutdinov's deep autoencoder)
    output_activation : activation of the output, "sigmoid" for pixels in [0, 1]
    corruption : GaussianNoise / MaskingNoise for a denoising autoencoder (see Autoencoder)

    Returns an ``Autoencoder`` whose encoder and decoder are ``nn.Sequential``.

    >>> ae = dense_autoencoder(784, [], 32)
    >>> ae.encoder
    Sequential(
      (0): Linear(in_features=784, out_features=32, bias=True)
      (1): ReLU()
    )
    """
    who = "dense_autoencoder"
    hidden = list(hidden)
    for name, value in [("in_features", in_features), ("code_dim", code_dim)] + \
            [(f"hidden[{i}]", h) for i, h in enumerate(hidden)]:
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{who}: {name} must be a positive int, got {value!r}")
    if code_activation == "same":
        code_activation = activation
    widths = [in_features] + hidden
    enc = []
    for a, b in zip(widths[:-1], widths[1:]):
        enc += _layers(nn.Linear(a, b), _activation(activation, who))
    enc += _layers(nn.Linear(widths[-1], code_dim), _activation(code_activation, who))
    back = [code_dim] + hidden[::-1]
    dec = []
    for a, b in zip(back[:-1], back[1:]):
        dec += _layers(nn.Linear(a, b), _activation(activation, who))
    dec += _layers(nn.Linear(back[-1], in_features), _activation(output_activation, who))
    return Autoencoder(nn.Sequential(*enc), nn.Sequential(*dec), corruption)


def conv_autoencoder(in_channels=1, channels=(16, 32), code_dim=None, image_size=(28, 28),
                     activation="relu", output_activation="sigmoid", upsample="transpose",
                     corruption=None):
    """A convolutional autoencoder on ``(N, C, H, W)`` images.

    Encoder: per entry of ``channels`` a ``Conv2d(3x3, stride 2, padding 1)`` + activation,
    halving H and W (28 -> 14 -> 7). With ``code_dim`` a ``Flatten`` + ``Linear`` then makes
    a flat code of that size; without, the code is the last feature map
    ``(N, channels[-1], H / 2^L, W / 2^L)``. The decoder mirrors it; each step doubles the
    size with

    * ``upsample="transpose"``: ``ConvTranspose2d(4x4, stride 2, padding 1)`` (learned), or
    * ``upsample="nearest"``: ``Upsample(scale_factor=2)`` then ``Conv2d(3x3, padding 1)``
      (no checkerboard artefacts),

    and the last step outputs ``in_channels`` maps through ``output_activation``.

    H and W must be divisible by ``2 ** len(channels)``.

    >>> import shendu
    >>> ae = conv_autoencoder(1, (16, 32), code_dim=10)
    >>> x = shendu.rand(2, 1, 28, 28)
    >>> ae.encode(x).shape, ae(x).shape
    ((2, 10), (2, 1, 28, 28))
    >>> conv_autoencoder(1, (8,), upsample="nearest").encode(x).shape
    (2, 8, 14, 14)
    """
    who = "conv_autoencoder"
    channels = list(channels)
    if not channels:
        raise ValueError(f"{who}: channels must name at least one layer, got {channels}")
    if upsample not in ("transpose", "nearest"):
        raise ValueError(f"{who}: upsample must be 'transpose' or 'nearest', got {upsample!r}")
    h, w = (image_size, image_size) if isinstance(image_size, numbers.Integral) \
        else tuple(image_size)
    factor = 2 ** len(channels)
    if h % factor or w % factor:
        raise ValueError(f"{who}: image_size {(h, w)} must be divisible by 2^{len(channels)} "
                         f"= {factor} for {len(channels)} stride-2 layers; use fewer channels "
                         f"entries or pad the images")
    enc, c_in = [], in_channels
    for c in channels:
        enc += _layers(nn.Conv2d(c_in, c, 3, stride=2, padding=1), _activation(activation, who))
        c_in = c
    fh, fw = h // factor, w // factor
    dec = []
    if code_dim is not None:
        flat = channels[-1] * fh * fw
        enc += [nn.Flatten(), nn.Linear(flat, code_dim)]
        dec += _layers(nn.Linear(code_dim, flat), _activation(activation, who),
                       nn.Unflatten(1, (channels[-1], fh, fw)))
    outs = channels[-2::-1] + [in_channels]
    c_in = channels[-1]
    for i, c in enumerate(outs):
        last = i == len(outs) - 1
        if upsample == "transpose":
            step = [nn.ConvTranspose2d(c_in, c, 4, stride=2, padding=1)]
        else:
            step = [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c, 3, padding=1)]
        dec += _layers(*step, _activation(output_activation if last else activation, who))
        c_in = c
    return Autoencoder(nn.Sequential(*enc), nn.Sequential(*dec), corruption)


# ---------------------------------------------------------------------------- corruption
class GaussianNoise(nn.Module):
    """Additive Gaussian noise ``x + std * eps``, ``eps ~ N(0, 1)``, clipped to ``clip``
    (the Keras blog's denoising input: ``noise_factor=0.5`` clipped to [0, 1]).

    Noise is added in training mode only; ``eval()`` makes it the identity. Set
    ``clip=None`` to leave the values unbounded.

    >>> import shendu
    >>> noise = GaussianNoise(0.5)
    >>> y = noise(shendu.full((1000,), 0.5))
    >>> bool((y.numpy() >= 0).all() and (y.numpy() <= 1).all()), round(float(y.numpy().std()), 1)
    (True, 0.4)
    >>> noise.eval()(shendu.ones(2))
    tensor([1., 1.])
    """

    def __init__(self, std=0.5, clip=(0.0, 1.0)):
        super().__init__()
        if not isinstance(std, numbers.Real) or std < 0:
            raise ValueError(f"GaussianNoise: std must be a number >= 0, got {std!r}")
        if clip is not None and (len(clip) != 2 or clip[0] > clip[1]):
            raise ValueError(f"GaussianNoise: clip must be None or (low, high) with low <= "
                             f"high, got {clip!r}")
        self.std = float(std)
        self.clip = None if clip is None else (float(clip[0]), float(clip[1]))

    def forward(self, x):
        if not self.training or self.std == 0:
            return x
        y = x + randn_like(x) * self.std
        return y if self.clip is None else y.clamp(*self.clip)

    def extra_repr(self):
        return f"std={self.std}, clip={self.clip}"


class MaskingNoise(nn.Module):
    """Masking noise (Vincent et al. 2008): each input element is set to 0 with probability
    ``p``, in training mode only. Unlike dropout the survivors are *not* rescaled: the
    network must fill the holes from the context.

    >>> import shendu
    >>> _ = shendu.manual_seed(0)
    >>> y = MaskingNoise(0.25)(shendu.ones(10000))
    >>> round(float((y.numpy() == 0).mean()), 2), float(y.numpy().max())
    (0.25, 1.0)
    """

    def __init__(self, p=0.3):
        super().__init__()
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"MaskingNoise: p must be a probability in [0, 1], got {p!r}")
        self.p = float(p)

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = (rand_like(x) >= self.p).detach()
        return x * keep.to(x.dtype)

    def extra_repr(self):
        return f"p={self.p}"


# ---------------------------------------------------------------------------- loss
def masked_mse_loss(input, target, mask=None, reduction="mean"):
    """Squared error over the *observed* entries only: the recommender autoencoder's loss.

    ``loss = sum_ij m_ij (input_ij - target_ij)^2 / sum_ij m_ij``  (``reduction="mean"``),
    or the numerator alone (``"sum"``). Entries with ``m_ij = 0`` (missing ratings) add
    nothing to the loss and get a zero gradient, whatever ``target`` holds there (NaN
    included). ``target`` is a constant (it gets no gradient). So
    ``d loss / d input_ij = 2 m_ij (input_ij - target_ij) / sum(m)``.

    Parameters
    ----------
    input : Tensor (any shape), the predictions
    target : Tensor or array of the same shape; NaN is allowed where missing
    mask : Tensor or array of the same shape, bool or 0/1 (1 = observed). Default: the
        entries of ``target`` that are not NaN.
    reduction : "mean" (over observed entries) or "sum"

    Raises ValueError when no entry is observed ("mean" of nothing).

    >>> import shendu, numpy as np
    >>> pred = shendu.tensor([[4.0, 3.0, 1.0]])
    >>> masked_mse_loss(pred, np.array([[5.0, np.nan, 2.0]]))        # (1 + 1) / 2
    tensor(1.)
    >>> masked_mse_loss(pred, shendu.tensor([[5.0, 0.0, 2.0]]), mask=[[1, 0, 1]])
    tensor(1.)
    """
    who = "masked_mse_loss"
    if not isinstance(input, Tensor):
        raise TypeError(f"{who}: input must be a Tensor, got {type(input).__name__}")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"{who}: reduction must be 'mean' or 'sum', got {reduction!r}")
    xp = input.xp
    t_data = target._data if isinstance(target, Tensor) else xp.asarray(target)
    if tuple(t_data.shape) != tuple(input.shape):
        raise ValueError(f"{who}: target shape {tuple(t_data.shape)} must equal input shape "
                         f"{tuple(input.shape)}")
    if mask is None:
        m = ~xp.isnan(t_data)
    else:
        m = mask._data if isinstance(mask, Tensor) else xp.asarray(mask)
        if tuple(m.shape) != tuple(input.shape):
            raise ValueError(f"{who}: mask shape {tuple(m.shape)} must equal input shape "
                             f"{tuple(input.shape)}")
        if m.dtype != bool and not bool(((m == 0) | (m == 1)).all()):
            raise ValueError(f"{who}: mask must hold only 0/1 or booleans (1 = observed)")
        m = m.astype(bool)
        if t_data.dtype.kind == "f" and bool(xp.isnan(t_data[m]).any()):
            raise ValueError(f"{who}: target is NaN at {int(xp.isnan(t_data[m]).sum())} "
                             "entries that the mask marks as observed")
    n_observed = int(m.sum())
    if reduction == "mean" and n_observed == 0:
        raise ValueError(f"{who}: no observed entries (mask is all 0), so the mean is "
                         "undefined; skip this batch or use reduction='sum'")
    m_f = m.astype(input.dtype)
    # the target is a constant; missing entries (possibly NaN) become 0 so that
    # 0 * NaN cannot poison the sum
    filled = Tensor._make(xp.where(m, t_data, 0).astype(input.dtype))
    diff = (input - filled) * Tensor._make(m_f)
    total = (diff * diff).sum()
    return total / n_observed if reduction == "mean" else total


# ---------------------------------------------------------------------------- retrieval
def _as_float_matrix(a, who, name):
    if isinstance(a, Tensor):
        a = a.detach().numpy()
    a = np.asarray(a)
    if a.ndim != 2:
        raise ValueError(f"{who}: {name} must be 2-D (N, D), got shape {a.shape}; flatten "
                         "the codes first (codes.reshape(len(codes), -1))")
    if a.dtype.kind not in "fiub":
        raise TypeError(f"{who}: {name} must be numeric, got dtype {a.dtype}")
    return a.astype(np.float64 if a.dtype == np.float64 else np.float32, copy=False)


def nearest_neighbours(codes, queries, k=5, metric="cosine", exclude=None, batch_size=512):
    """The ``k`` nearest rows of ``codes`` to each query: similar-item retrieval in code
    space (004 "Deep autoencoder - Similar Image Retrieval").

    Parameters
    ----------
    codes : (N, D) array or Tensor, the database (e.g. the encoder's codes of all images)
    queries : (Q, D), the items to look up
    k : int, neighbours per query (at most N, or N - 1 with ``exclude``)
    metric : "cosine" (distance 1 - cos similarity) or "euclidean"
    exclude : (Q,) ints, optional: for each query, one row of ``codes`` to skip (the query
        itself when it is in the database); -1 skips nothing
    batch_size : queries per block (memory is ``batch_size x N`` distances)

    Returns
    -------
    indices : (Q, k) int64, rows of ``codes``, nearest first
    distances : (Q, k), the matching distances

    >>> import numpy as np
    >>> codes = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-1.0, 0.0]])
    >>> idx, dist = nearest_neighbours(codes, codes[:1], k=2, metric="euclidean")
    >>> idx.tolist(), np.round(dist, 3).tolist()
    ([[0, 1]], [[0.0, 0.141]])
    >>> nearest_neighbours(codes, codes[:1], k=2, exclude=[0])[0].tolist()
    [[1, 2]]
    """
    who = "nearest_neighbours"
    db = _as_float_matrix(codes, who, "codes")
    q = _as_float_matrix(queries, who, "queries")
    if q.shape[1] != db.shape[1]:
        raise ValueError(f"{who}: queries have {q.shape[1]} features but codes have "
                         f"{db.shape[1]}")
    if metric not in ("cosine", "euclidean"):
        raise ValueError(f"{who}: metric must be 'cosine' or 'euclidean', got {metric!r}")
    n_max = len(db) - (exclude is not None)
    if not isinstance(k, numbers.Integral) or not 1 <= k <= n_max:
        raise ValueError(f"{who}: k must be an int in 1..{n_max}, got {k!r}")
    if exclude is not None:
        exclude = np.asarray(exclude, dtype=np.int64).reshape(-1)
        if exclude.shape != (len(q),):
            raise ValueError(f"{who}: exclude must hold one index per query ({len(q)}), got "
                             f"shape {exclude.shape}")
    if metric == "cosine":
        # a zero vector (a dead ReLU code) has no direction: it is given norm 1, so it sits
        # at distance 1 from everything instead of producing NaN
        db_n = np.linalg.norm(db, axis=1, keepdims=True)
        db = db / np.where(db_n > 0, db_n, 1)
        q_n = np.linalg.norm(q, axis=1, keepdims=True)
        q = q / np.where(q_n > 0, q_n, 1)
    else:
        db_sq = (db * db).sum(axis=1)
    indices = np.empty((len(q), k), dtype=np.int64)
    distances = np.empty((len(q), k), dtype=db.dtype)
    for start in range(0, len(q), batch_size):
        qb = q[start:start + batch_size]
        if metric == "cosine":
            d = 1.0 - qb @ db.T
        else:
            # |q - c|^2 = |q|^2 - 2 q.c + |c|^2, clipped at 0 against rounding
            d = np.maximum((qb * qb).sum(axis=1)[:, None] - 2.0 * (qb @ db.T) + db_sq, 0)
        if exclude is not None:
            rows = np.flatnonzero(exclude[start:start + batch_size] >= 0)
            d[rows, exclude[start:start + batch_size][rows]] = np.inf
        part = np.argpartition(d, k - 1, axis=1)[:, :k]
        order = np.argsort(np.take_along_axis(d, part, axis=1), axis=1, kind="stable")
        indices[start:start + len(qb)] = np.take_along_axis(part, order, axis=1)
    # the ranking used the fast matrix-product formula; the k distances reported are
    # recomputed directly in float64 (|q|^2 - 2 q.c + |c|^2 loses digits near 0)
    picked = db[indices].astype(np.float64)                      # (Q, k, D)
    q64 = q.astype(np.float64)[:, None, :]
    if metric == "cosine":
        distances[:] = 1.0 - (picked * q64).sum(axis=2)
    else:
        distances[:] = np.sqrt(((picked - q64) ** 2).sum(axis=2))
    return indices, distances
