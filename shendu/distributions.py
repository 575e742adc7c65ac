"""Probability distributions with PyTorch's ``torch.distributions`` names, differentiable
through shendu's autograd: what a policy-gradient agent samples its actions from.

A policy network outputs the *parameters* of a distribution over actions (the logits of a
``Categorical`` for discrete actions, the mean and standard deviation of a ``Normal`` for
continuous ones). The agent samples an action, and the loss uses ``log_prob(action)``
(the score function ``d log pi(a|s) / d theta`` of REINFORCE) and ``entropy()`` (a bonus
that keeps the policy exploring), both of which carry gradients back to the network.

=================  ==========================================================
``Categorical``    ``K`` classes, from ``probs`` or ``logits`` of shape (..., K)
``Normal``         a Gaussian, from ``loc`` and ``scale`` (broadcast together)
``Bernoulli``      a coin (0 or 1) per entry, from ``probs`` or ``logits``
``kl_divergence``  KL(p || q) between two distributions of the same family
=================  ==========================================================

Shapes follow PyTorch: ``batch_shape`` is the shape of independent distributions (one
per row of logits), ``event_shape`` the shape of one sample (``()`` for both families
here, and for ``Bernoulli``); ``sample(sample_shape)`` returns ``sample_shape + batch_shape + event_shape``.

>>> import shendu
>>> from shendu.distributions import Categorical, Normal
>>> d = Categorical(logits=shendu.tensor([[0.0, 0.0], [0.0, 2.0]]))
>>> d.batch_shape, d.probs
((2,), tensor([[0.5000, 0.5000],
        [0.1192, 0.8808]]))
>>> d.log_prob(shendu.tensor([1, 1]))
tensor([-0.6931, -0.1269])
>>> Normal(0.0, 1.0).entropy()
tensor(1.4189)
"""
from __future__ import annotations

import math

import numpy as np

from .autograd import Tensor, no_grad
from .backend import default_generator, get_default_dtype

__all__ = ["Distribution", "Categorical", "Normal", "Bernoulli", "kl_divergence"]

_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


def _as_float_tensor(x, name, owner):
    """A float Tensor from a Tensor, array or number (numbers get the default dtype)."""
    if isinstance(x, Tensor):
        if not np.issubdtype(x.dtype, np.floating):
            raise TypeError(f"{owner}: {name} must be a floating-point tensor, got dtype {x.dtype}")
        return x
    try:
        a = np.asarray(x)
    except Exception:  # pragma: no cover - exotic objects
        raise TypeError(f"{owner}: {name} must be a tensor, array or number, "
                        f"got {type(x).__name__}") from None
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise TypeError(f"{owner}: {name} must be a tensor, array or number, "
                        f"got {type(x).__name__}")
    # Python numbers (and integer arrays) take the default dtype, as in PyTorch
    floating = np.issubdtype(a.dtype, np.floating) and not isinstance(x, (float, int))
    dtype = a.dtype if floating else get_default_dtype()
    return Tensor(a.astype(dtype, copy=False))


def _shape(sample_shape, owner):
    if isinstance(sample_shape, (int, np.integer)):
        sample_shape = (sample_shape,)
    try:
        shape = tuple(int(s) for s in sample_shape)
    except TypeError:
        raise TypeError(f"{owner}.sample: sample_shape must be a tuple of ints, "
                        f"got {sample_shape!r}") from None
    if any(s < 0 for s in shape):
        raise ValueError(f"{owner}.sample: sample_shape must be non-negative, got {shape}")
    return shape


class Distribution:
    """Base class: ``batch_shape``, ``event_shape``, ``sample``, ``log_prob``, ``entropy``.

    ``validate_args`` (default True, as in PyTorch) checks the parameters when the
    distribution is built and the values given to ``log_prob``; pass False to skip the
    checks in a hot loop.
    """

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=(), validate_args=True):
        self._batch_shape = tuple(batch_shape)
        self._event_shape = tuple(event_shape)
        self._validate_args = bool(validate_args)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=()):
        return tuple(sample_shape) + self._batch_shape + self._event_shape

    def sample(self, sample_shape=()):  # pragma: no cover - abstract
        raise NotImplementedError

    def rsample(self, sample_shape=()):
        raise NotImplementedError(f"{type(self).__name__} has no reparameterized sampler "
                                  "(rsample); its samples carry no gradient. Use "
                                  "log_prob(sample) (the score function) instead")

    def log_prob(self, value):  # pragma: no cover - abstract
        raise NotImplementedError

    def entropy(self):  # pragma: no cover - abstract
        raise NotImplementedError


# ------------------------------------------------------------------------------ Categorical
class Categorical(Distribution):
    """A distribution over ``K`` classes ``0 .. K-1`` for each of ``batch_shape`` rows.

    Give exactly one of ``probs`` (non-negative, shape (..., K); normalised to sum to 1
    along the last axis) or ``logits`` (any reals, shape (..., K); ``probs =
    softmax(logits)``). ``batch_shape`` is ``shape[:-1]``; a sample is an int64 index.

    * ``log_prob(a) = logits[..., a] - logsumexp(logits)``: ``a`` is an integer tensor
      whose shape broadcasts against ``batch_shape``.
    * ``entropy() = -sum_k p_k log p_k`` (a zero probability contributes 0).
    * ``sample(sample_shape)`` draws by inverting the cumulative probabilities with
      shendu's generator (``shendu.manual_seed`` repeats it); it carries no gradient.

    Gradients flow from ``log_prob`` and ``entropy`` to ``probs`` or ``logits``.

    >>> import shendu
    >>> logits = shendu.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> d = Categorical(logits=logits)
    >>> d.log_prob(shendu.tensor(2)).backward()
    >>> logits.grad  # one_hot(2) - softmax(logits)
    tensor([-0.0900, -0.2447,  0.3348])
    """

    def __init__(self, probs=None, logits=None, validate_args=True):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: either `probs` or `logits` must be specified, "
                             "but not both")
        if probs is not None:
            probs = _as_float_tensor(probs, "probs", "Categorical")
            if probs.ndim < 1:
                raise ValueError("Categorical: `probs` parameter must be at least "
                                 f"one-dimensional, got shape {probs.shape}")
            if validate_args:
                p = np.asarray(probs._data)
                if not (np.all(p >= 0) and np.all(np.isfinite(p))) or np.any(p.sum(-1) <= 0):
                    raise ValueError("Categorical: expected parameter probs (shape "
                                     f"{probs.shape}) to be non-negative, finite and not all "
                                     f"zero along the last axis, got {p}")
            self._probs = probs / probs.sum(dim=-1, keepdim=True)
            self._logits = None
            shape = probs.shape
        else:
            logits = _as_float_tensor(logits, "logits", "Categorical")
            if logits.ndim < 1:
                raise ValueError("Categorical: `logits` parameter must be at least "
                                 f"one-dimensional, got shape {logits.shape}")
            if validate_args and np.any(np.isnan(np.asarray(logits._data))):
                raise ValueError(f"Categorical: expected parameter logits (shape "
                                 f"{logits.shape}) to hold no NaN, got {logits.data}")
            # normalised so that logits == log(probs); logsumexp protects against overflow
            self._logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self._probs = None
            shape = logits.shape
        self._num_events = int(shape[-1])
        self._param = "probs" if probs is not None else "logits"  # what it was built from
        super().__init__(shape[:-1], (), validate_args)

    @property
    def logits(self):
        """Normalised log-probabilities, shape (..., K) (``log(probs)``)."""
        if self._logits is None:
            eps = np.finfo(self._probs.dtype).eps
            # clamped so that a zero probability gives a finite logit, not -inf
            self._logits = self._probs.clamp(min=eps, max=1 - eps).log()
        return self._logits

    @property
    def probs(self):
        """Probabilities, shape (..., K), summing to 1 along the last axis."""
        if self._probs is None:
            self._probs = self._logits.softmax(dim=-1)
        return self._probs

    @property
    def param_shape(self):
        return self._batch_shape + (self._num_events,)

    @property
    def mean(self):
        raise NotImplementedError("Categorical has no mean: its classes are unordered labels")

    @property
    def mode(self):
        """The most likely class of each row (int64, ``batch_shape``)."""
        return self.probs.argmax(dim=-1)

    def sample(self, sample_shape=()):
        """Class indices, int64, shape ``sample_shape + batch_shape``."""
        shape = _shape(sample_shape, "Categorical")
        p = self.probs.detach()
        xp = p.xp
        cdf = xp.cumsum(p._data.astype(np.float64), axis=-1)
        u = default_generator(xp).random(shape + self._batch_shape + (1,))
        # index k with cdf[k-1] <= u * total < cdf[k]: never a class of probability 0
        idx = (cdf <= u * cdf[..., -1:]).sum(axis=-1)
        return Tensor(xp.minimum(idx, self._num_events - 1).astype(np.int64))

    def _index(self, value):
        v = value._data if isinstance(value, Tensor) else np.asarray(value)
        if self._validate_args:
            if not (np.issubdtype(v.dtype, np.integer) or
                    (np.issubdtype(v.dtype, np.floating) and np.all(v == np.round(v)))):
                raise ValueError(f"Categorical.log_prob: value must hold class indices "
                                 f"(integers), got dtype {v.dtype}")
            if np.any(v < 0) or np.any(v >= self._num_events):
                raise ValueError(f"Categorical.log_prob: value must be in the support "
                                 f"0..{self._num_events - 1}, got {v}")
        try:
            shape = np.broadcast_shapes(v.shape, self._batch_shape)
        except ValueError:
            raise ValueError(f"Categorical.log_prob: value of shape {tuple(v.shape)} does not "
                             f"broadcast with batch_shape {self._batch_shape}") from None
        return np.broadcast_to(v.astype(np.int64), shape), shape

    def log_prob(self, value):
        """``log p(value)``, shape ``broadcast(value.shape, batch_shape)``."""
        idx, shape = self._index(value)
        logits = self.logits
        if logits.shape[:-1] != shape:
            logits = logits.expand(*shape, self._num_events)
        return logits.gather(-1, np.array(idx)[..., None]).squeeze(-1)

    def entropy(self):
        """``-sum_k p_k log p_k``, shape ``batch_shape``."""
        logits = self.logits
        # 0 * log(0) must be 0: clamp -inf logits to the smallest finite float first
        logits = logits.clamp(min=float(np.finfo(logits.dtype).min))
        return -(logits * self.probs).sum(dim=-1)

    def enumerate_support(self):
        """All classes, shape (K,) + batch_shape."""
        k = np.arange(self._num_events, dtype=np.int64).reshape((-1,) + (1,) * len(self._batch_shape))
        return Tensor(np.broadcast_to(k, (self._num_events,) + self._batch_shape).copy())

    def __repr__(self):
        return f"Categorical({self._param}: {self.param_shape})"


# ----------------------------------------------------------------------------------- Normal
class Normal(Distribution):
    """The Gaussian ``N(loc, scale**2)``; ``loc`` and ``scale`` broadcast to ``batch_shape``.

    * ``log_prob(x) = -(x - loc)**2 / (2 scale**2) - log(scale) - log(2 pi) / 2``
    * ``entropy() = 1/2 + log(2 pi) / 2 + log(scale)``
    * ``rsample()`` = ``loc + scale * eps`` with ``eps ~ N(0, 1)``: the
      reparameterisation trick, so gradients flow from the sample to ``loc`` and
      ``scale``; ``sample()`` is the same draw without a gradient.

    >>> import shendu
    >>> loc = shendu.tensor([0.0, 1.0], requires_grad=True)
    >>> d = Normal(loc, shendu.tensor([1.0, 2.0]))
    >>> d.log_prob(shendu.tensor([0.0, 0.0])).detach()
    tensor([-0.9189, -1.7371])
    >>> d.log_prob(shendu.tensor([0.0, 0.0])).sum().backward(); loc.grad  # (x - loc) / scale**2
    tensor([ 0.0000, -0.2500])
    """

    has_rsample = True

    def __init__(self, loc, scale, validate_args=True):
        loc = _as_float_tensor(loc, "loc", "Normal")
        scale = _as_float_tensor(scale, "scale", "Normal")
        try:
            shape = np.broadcast_shapes(loc.shape, scale.shape)
        except ValueError:
            raise ValueError(f"Normal: loc of shape {loc.shape} and scale of shape "
                             f"{scale.shape} do not broadcast") from None
        if validate_args:
            s = np.asarray(scale._data)
            if not np.all(s > 0):
                raise ValueError(f"Normal: expected parameter scale (shape {scale.shape}) to "
                                 f"be positive (> 0), got {s}")
            if np.any(np.isnan(np.asarray(loc._data))):
                raise ValueError(f"Normal: expected parameter loc (shape {loc.shape}) to hold "
                                 f"no NaN, got {loc.data}")
        self.loc = loc if loc.shape == shape else loc.expand(*shape)
        self.scale = scale if scale.shape == shape else scale.expand(*shape)
        super().__init__(shape, (), validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.scale ** 2

    def _eps(self, sample_shape):
        shape = self._extended_shape(_shape(sample_shape, "Normal"))
        xp = self.loc.xp
        return Tensor(default_generator(xp).standard_normal(shape).astype(self.loc.dtype))

    def rsample(self, sample_shape=()):
        """``loc + scale * eps``, shape ``sample_shape + batch_shape``, differentiable."""
        return self.loc + self.scale * self._eps(sample_shape)

    def sample(self, sample_shape=()):
        """A draw of shape ``sample_shape + batch_shape``, without a gradient."""
        with no_grad():
            return self.rsample(sample_shape).detach()

    def log_prob(self, value):
        """``log p(value)``, shape ``broadcast(value.shape, batch_shape)``."""
        value = _as_float_tensor(value, "value", "Normal.log_prob")
        if self._validate_args:
            try:
                np.broadcast_shapes(value.shape, self._batch_shape)
            except ValueError:
                raise ValueError(f"Normal.log_prob: value of shape {value.shape} does not "
                                 f"broadcast with batch_shape {self._batch_shape}") from None
            if np.any(np.isnan(np.asarray(value._data))):
                raise ValueError("Normal.log_prob: value must be real (no NaN), "
                                 f"got {value.data}")
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - _HALF_LOG_2PI

    def entropy(self):
        """``1/2 + log(2 pi)/2 + log(scale)``, shape ``batch_shape``."""
        return self.scale.log() + (0.5 + _HALF_LOG_2PI)

    def __repr__(self):
        return f"Normal(loc: {self._batch_shape}, scale: {self._batch_shape})"


# -------------------------------------------------------------------------------- Bernoulli
def _bce_logits(logits, target):
    """``max(x, 0) - x t + log1p(e^-|x|)`` elementwise (= -log p(t)), broadcast."""
    from .ops.loss import binary_cross_entropy_with_logits
    shape = np.broadcast_shapes(logits.shape, target.shape)
    if logits.shape != shape:
        logits = logits.expand(*shape)
    if target.shape != shape:
        target = target.expand(*shape)
    return binary_cross_entropy_with_logits(logits, target, reduction="none")


class Bernoulli(Distribution):
    """A coin per entry: ``1`` with probability ``p``, ``0`` with ``1 - p``.

    Give exactly one of ``probs`` (in [0, 1]) or ``logits`` (``log(p / (1 - p))``, any
    real; ``p = sigmoid(logits)``). ``batch_shape`` is their shape, a sample is a float
    0/1 of the parameter's dtype (as in PyTorch), ``event_shape`` is ``()``.

    * ``log_prob(x) = x log p + (1 - x) log(1 - p) = x l - softplus(l)`` (``l`` the
      logits), computed as ``-binary_cross_entropy_with_logits(l, x)``, stable for
      any logit;
    * ``entropy() = -p log p - (1 - p) log(1 - p)``;
    * ``mean = p``, ``variance = p (1 - p)``.

    Samples are discrete, so there is no ``rsample`` (PyTorch has none either); train
    through ``log_prob`` (REINFORCE) instead.

    >>> import shendu
    >>> d = Bernoulli(probs=shendu.tensor([0.2, 0.9]))
    >>> d.log_prob(shendu.tensor([1.0, 1.0]))
    tensor([-1.6094, -0.1054])
    >>> d.mean, d.variance
    (tensor([0.2000, 0.9000]), tensor([0.1600, 0.0900]))
    """

    def __init__(self, probs=None, logits=None, validate_args=True):
        if (probs is None) == (logits is None):
            raise ValueError("Bernoulli: either `probs` or `logits` must be specified, "
                             "but not both")
        if probs is not None:
            probs = _as_float_tensor(probs, "probs", "Bernoulli")
            if validate_args:
                p = np.asarray(probs._data)
                if not np.all((p >= 0) & (p <= 1)):
                    raise ValueError(f"Bernoulli: expected parameter probs (shape "
                                     f"{probs.shape}) to lie in [0, 1], got {p}")
            self._probs, self._logits, shape = probs, None, probs.shape
        else:
            logits = _as_float_tensor(logits, "logits", "Bernoulli")
            if validate_args and np.any(np.isnan(np.asarray(logits._data))):
                raise ValueError(f"Bernoulli: expected parameter logits (shape "
                                 f"{logits.shape}) to hold no NaN, got {logits.data}")
            self._probs, self._logits, shape = None, logits, logits.shape
        self._param = "probs" if probs is not None else "logits"
        super().__init__(shape, (), validate_args)

    @property
    def logits(self):
        """``log(p) - log(1 - p)``; ``p`` clamped to ``[eps, 1 - eps]`` so it is finite."""
        if self._logits is None:
            eps = float(np.finfo(self._probs.dtype).eps)
            p = self._probs.clamp(min=eps, max=1 - eps)
            self._logits = p.log() - (-p).log1p()
        return self._logits

    @property
    def probs(self):
        """``P(x = 1)``, shape ``batch_shape``."""
        if self._probs is None:
            self._probs = self._logits.sigmoid()
        return self._probs

    @property
    def param_shape(self):
        return self._batch_shape

    @property
    def mean(self):
        return self.probs

    @property
    def mode(self):
        """1 where ``p > 1/2``, else 0 (PyTorch gives NaN at exactly 1/2; shendu 0)."""
        return (self.probs > 0.5).to(self.probs.dtype)

    @property
    def variance(self):
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape=()):
        """0/1 draws of the parameter's dtype, shape ``sample_shape + batch_shape``."""
        shape = self._extended_shape(_shape(sample_shape, "Bernoulli"))
        p = self.probs.detach()
        u = default_generator(p.xp).random(shape)
        return Tensor((u < p._data).astype(p.dtype))

    def log_prob(self, value):
        """``log p(value)`` for 0/1 values, shape ``broadcast(value.shape, batch_shape)``."""
        value = _as_float_tensor(value, "value", "Bernoulli.log_prob")
        if self._validate_args:
            v = np.asarray(value._data)
            if not np.all((v == 0) | (v == 1)):
                raise ValueError(f"Bernoulli.log_prob: value must be 0 or 1, got {v}")
            try:
                np.broadcast_shapes(value.shape, self._batch_shape)
            except ValueError:
                raise ValueError(f"Bernoulli.log_prob: value of shape {value.shape} does not "
                                 f"broadcast with batch_shape {self._batch_shape}") from None
        return -_bce_logits(self.logits, value.to(self.logits.dtype))

    def entropy(self):
        """``-p log p - (1 - p) log(1 - p)``, shape ``batch_shape``."""
        return _bce_logits(self.logits, self.probs)

    def enumerate_support(self):
        """``[0, 1]`` broadcast: shape (2,) + batch_shape."""
        k = np.array([0.0, 1.0], dtype=self.probs.dtype).reshape((2,) + (1,) * len(self._batch_shape))
        return Tensor(np.broadcast_to(k, (2,) + self._batch_shape).copy())

    def __repr__(self):
        return f"Bernoulli({self._param}: {self._batch_shape})"


# ---------------------------------------------------------------------------- KL divergence
def kl_divergence(p, q):
    """``KL(p || q) = E_p[log p - log q]`` for two Categoricals (``sum p (log p - log q)``)
    or two Normals (``log(s_q/s_p) + (s_p**2 + (m_p - m_q)**2) / (2 s_q**2) - 1/2``),
    shape: the broadcast batch shape. Differentiable in both arguments.

    >>> import shendu
    >>> p = Categorical(probs=shendu.tensor([0.5, 0.5]))
    >>> q = Categorical(probs=shendu.tensor([0.9, 0.1]))
    >>> kl_divergence(p, q)
    tensor(0.5108)
    """
    if isinstance(p, Categorical) and isinstance(q, Categorical):
        if p._num_events != q._num_events:
            raise ValueError(f"kl_divergence: the Categoricals have {p._num_events} and "
                             f"{q._num_events} classes")
        return (p.probs * (p.logits - q.logits)).sum(dim=-1)
    if isinstance(p, Normal) and isinstance(q, Normal):
        var_ratio = (p.scale / q.scale) ** 2
        t1 = ((p.loc - q.loc) / q.scale) ** 2
        return 0.5 * (var_ratio + t1 - 1 - var_ratio.log())
    if isinstance(p, Bernoulli) and isinstance(q, Bernoulli):
        # p log(p/q) + (1-p) log((1-p)/(1-q)), in logits: stable near 0 and 1
        return (p.probs * (p.logits - q.logits) + _bce_logits(q.logits, p.probs.detach() * 0)
                - _bce_logits(p.logits, p.probs.detach() * 0))
    raise NotImplementedError(f"kl_divergence: no formula for {type(p).__name__} || "
                              f"{type(q).__name__} (shendu has Categorical || Categorical, "
                              "Normal || Normal and Bernoulli || Bernoulli)")
