"""``keras.losses``: loss functions and classes with Keras's names, argument order
``(y_true, y_pred)`` and semantics.

* Functions (``mean_squared_error`` / ``mse``, ``binary_crossentropy`` ...) return one
  loss per sample: the mean over the last axis (Tensor of shape ``(N,)``).
* Classes (``MeanSquaredError()``, ``BinaryCrossentropy(from_logits=True)`` ...) reduce it
  to a scalar with ``reduction="sum_over_batch_size"`` (Keras's default: the sum of the
  weighted per-sample losses divided by their number), ``"sum"``,
  ``"mean_with_sample_weight"`` (divided by the sum of weights) or ``"none"``.

The cross-entropies take probabilities unless ``from_logits=True``; probabilities are
clipped to ``[1e-7, 1 - 1e-7]`` as in Keras. Computing them from logits is more stable: when
a model's last layer applies ``softmax`` or ``sigmoid`` and it is compiled with one of these
losses (``from_logits=False``), ``fit`` feeds the loss the layer's logits instead (the
same value without the clip, as Keras does on TensorFlow).

Targets are aligned like Keras: a ``(N,)`` target against a ``(N, 1)`` prediction is
treated as ``(N, 1)``; sparse class indices may be ``(N,)`` or ``(N, 1)``.

>>> import numpy as np, shendu
>>> from shendu.keras import losses
>>> y_true = np.array([[0.0, 1.0], [0.0, 0.0]])
>>> y_pred = shendu.tensor([[1.0, 1.0], [1.0, 0.0]])
>>> losses.mean_squared_error(y_true, y_pred)
tensor([0.5000, 0.5000])
>>> losses.MeanSquaredError()(y_true, y_pred)
tensor(0.5000)
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend, ops
from ..autograd.tensor import Tensor
from ..nn import functional as _F
from .ops._ctc import ctc_loss as _keras_ctc_loss

__all__ = ["Loss", "LossFunctionWrapper", "MeanSquaredError", "MeanAbsoluteError",
           "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "Huber", "LogCosh",
           "BinaryCrossentropy", "CategoricalCrossentropy", "SparseCategoricalCrossentropy",
           "KLDivergence", "Poisson", "CosineSimilarity", "Hinge", "SquaredHinge",
           "CategoricalHinge", "CTC", "ctc", "mean_squared_error", "mean_absolute_error",
           "mean_absolute_percentage_error", "mean_squared_logarithmic_error", "huber",
           "log_cosh", "binary_crossentropy", "categorical_crossentropy",
           "sparse_categorical_crossentropy", "kl_divergence", "poisson", "cosine_similarity",
           "hinge", "squared_hinge", "categorical_hinge", "mse", "mae", "mape", "msle", "kld",
           "logcosh", "get", "serialize", "deserialize"]

EPSILON = 1e-7


# ------------------------------------------------------------------- helpers
def _pred(y_pred):
    if isinstance(y_pred, Tensor):
        return y_pred
    a = np.asarray(y_pred)  # NumPy / lists: cast to float32 as Keras casts to floatx
    return Tensor._make(a.astype(backend.get_default_dtype()))


def _true(y_true, like, integer=False):
    """``y_true`` as a constant Tensor on ``like``'s device, float like it (or int64)."""
    a = y_true._data if isinstance(y_true, Tensor) else y_true
    xp = like.xp
    if not (hasattr(a, "dtype") and hasattr(a, "shape")):
        a = np.asarray(a)
    if xp is not np and not isinstance(a, xp.ndarray):
        a = xp.asarray(a)
    if integer:
        if a.dtype.kind == "f":
            a = a.astype(np.int64)
    elif a.dtype != like.dtype:
        a = a.astype(like.dtype)
    return a


def _align(t, pred_shape):
    """Keras's ``squeeze_or_expand_to_same_rank``: (N,) against (N, 1) becomes (N, 1)."""
    if t.shape == tuple(pred_shape):
        return t
    if t.size == int(np.prod(pred_shape)) and t.ndim in (len(pred_shape) - 1, len(pred_shape) + 1):
        return t.reshape(pred_shape)
    if t.ndim == len(pred_shape):
        return t  # broadcastable shapes: let the op check
    raise ValueError(f"y_true of shape {tuple(t.shape)} does not match y_pred of shape "
                     f"{tuple(pred_shape)}")


def _last_mean(x):
    return x.mean(axis=-1) if x.ndim >= 2 else x


def _pair(y_true, y_pred):
    y_pred = _pred(y_pred)
    t = _align(_true(y_true, y_pred), y_pred.shape)
    return t, y_pred


# ------------------------------------------------------------------- functions
def mean_squared_error(y_true, y_pred):
    """``mean((y_true - y_pred)**2, axis=-1)``"""
    t, p = _pair(y_true, y_pred)
    return _last_mean(_F.mse_loss(p, Tensor._make(t), reduction="none"))


def mean_absolute_error(y_true, y_pred):
    """``mean(|y_true - y_pred|, axis=-1)`` (the course's MAE)"""
    t, p = _pair(y_true, y_pred)
    return _last_mean(_F.l1_loss(p, Tensor._make(t), reduction="none"))


def mean_absolute_percentage_error(y_true, y_pred):
    """``100 * mean(|(y_true - y_pred) / y_true|, axis=-1)`` (denominator at least 1e-7)"""
    t, p = _pair(y_true, y_pred)
    xp = p.xp
    denom = xp.maximum(xp.abs(t), EPSILON)
    return _last_mean(((p - t) / denom).abs()) * 100.0


def mean_squared_logarithmic_error(y_true, y_pred):
    """``mean((log(y_pred + 1) - log(y_true + 1))**2, axis=-1)`` (values floored at 1e-7)"""
    t, p = _pair(y_true, y_pred)
    xp = p.xp
    lt = xp.log(xp.maximum(t, EPSILON) + 1.0)
    lp = (ops.clamp(p, EPSILON, None) + 1.0).log()
    return _last_mean((lp - lt) ** 2)


def huber(y_true, y_pred, delta=1.0):
    """``0.5 d**2`` where ``|d| <= delta``, else ``delta * (|d| - 0.5 delta)``; mean over
    the last axis."""
    t, p = _pair(y_true, y_pred)
    return _last_mean(_F.huber_loss(p, Tensor._make(t), reduction="none", delta=float(delta)))


def log_cosh(y_true, y_pred):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed as
    ``d + softplus(-2 d) - log 2`` (no overflow for large errors)."""
    t, p = _pair(y_true, y_pred)
    d = p - t
    return _last_mean(d + ops.softplus(d * -2.0) - math.log(2.0))


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-mean(y log p + (1 - y) log(1 - p), axis=-1)``.

    ``from_logits=True``: ``y_pred`` holds raw scores, turned into probabilities by a
    sigmoid inside a stable formula. Otherwise probabilities are clipped to
    ``[1e-7, 1 - 1e-7]``. ``label_smoothing`` pulls targets towards 0.5.
    """
    t, p = _pair(y_true, y_pred)
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        values = _F.binary_cross_entropy_with_logits(p, Tensor._make(t), reduction="none")
    else:
        pc = ops.clamp(p, EPSILON, 1.0 - EPSILON)
        values = -(pc.log() * t + (1.0 - pc).log() * (1.0 - t))
    return _mean_axis(values, axis)


def _mean_axis(values, axis):
    if values.ndim < 2:
        return values
    return values.mean(axis=axis)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """``-sum(y_true * log(p), axis=-1)`` with one-hot (or soft) targets.

    Probabilities are renormalized to sum to 1 and clipped to ``[1e-7, 1 - 1e-7]``;
    with ``from_logits=True`` a log-softmax is used instead.
    """
    p = _pred(y_pred)
    t = _true(y_true, p)
    if t.shape != p.shape:
        raise ValueError(
            f"categorical_crossentropy: y_true of shape {tuple(t.shape)} must match y_pred of "
            f"shape {p.shape} (one-hot targets). For integer class labels use "
            "sparse_categorical_crossentropy, or convert them with keras.utils.to_categorical")
    if label_smoothing:
        t = t * (1.0 - label_smoothing) + label_smoothing / p.shape[axis]
    if from_logits:
        logp = ops.log_softmax(p, axis=axis)
    else:
        logp = ops.clamp(p / p.sum(axis=axis, keepdims=True), EPSILON, 1.0 - EPSILON).log()
    return -(logp * t).sum(axis=axis)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Cross-entropy with integer class labels: ``-log p[y_true]`` per sample.

    ``y_true`` is ``(N,)`` or ``(N, 1)`` (``(N, T)`` for sequences); ``y_pred`` is
    ``(N, C)`` (``(N, T, C)``). ``ignore_class``: labels equal to it give 0 loss.
    """
    p = _pred(y_pred)
    if axis not in (-1, p.ndim - 1):
        raise ValueError("sparse_categorical_crossentropy: only axis=-1 is supported")
    t = _true(y_true, p, integer=True)
    lead = p.shape[:-1]
    if t.shape != lead:
        if t.size != int(np.prod(lead)):
            raise ValueError(
                f"sparse_categorical_crossentropy: y_true of shape {tuple(t.shape)} does not "
                f"match y_pred of shape {p.shape}: expected {int(np.prod(lead))} integer labels "
                f"(shape {lead})")
        t = t.reshape(lead)
    C = p.shape[-1]
    if t.size and (int(t.min()) < 0 or int(t.max()) >= C) and ignore_class is None:
        raise ValueError(f"sparse_categorical_crossentropy: labels must be in [0, {C - 1}] for "
                         f"{C} classes, got labels from {int(t.min())} to {int(t.max())}")
    p2 = p.reshape(-1, C) if p.ndim != 2 else p
    t2 = t.reshape(-1)
    ignore = -100 if ignore_class is None else int(ignore_class)
    if from_logits:
        values = _F.cross_entropy(p2, Tensor._make(t2), reduction="none", ignore_index=ignore)
    else:
        logp = ops.clamp(p2 / p2.sum(axis=-1, keepdims=True), EPSILON, 1.0 - EPSILON).log()
        safe = t2 if ignore_class is None else p.xp.where(t2 == ignore, 0, t2)
        values = -ops.gather(logp, 1, Tensor._make(safe.reshape(-1, 1))).reshape(-1)
        if ignore_class is not None:
            values = values * Tensor._make((t2 != ignore).astype(p.dtype))
    return values.reshape(lead) if len(lead) != 1 else values


def kl_divergence(y_true, y_pred):
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[1e-7, 1]``."""
    t, p = _pair(y_true, y_pred)
    xp = p.xp
    tc = xp.clip(t, EPSILON, 1.0)
    pc = ops.clamp(p, EPSILON, 1.0)
    values = (pc.log() * -1.0 + xp.log(tc)) * tc
    return values.sum(axis=-1) if values.ndim >= 2 else values


def poisson(y_true, y_pred):
    """``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``"""
    t, p = _pair(y_true, y_pred)
    return _last_mean(p - (p + EPSILON).log() * t)


def cosine_similarity(y_true, y_pred, axis=-1):
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)`` (-1 when aligned)."""
    t, p = _pair(y_true, y_pred)
    xp = p.xp
    tn = t / xp.sqrt(xp.maximum((t * t).sum(axis=axis, keepdims=True), 1e-12))
    pn = p / ((p * p).sum(axis=axis, keepdims=True).clamp(1e-12, None)).sqrt()
    return -(pn * tn).sum(axis=axis)


def _signed(t):
    """Keras's hinge losses turn 0/1 labels into -1/1."""
    xp = np if isinstance(t, np.ndarray) else None
    if xp is not None and t.size and ((t == 0) | (t == 1)).all():
        return t * 2.0 - 1.0
    return t


def hinge(y_true, y_pred):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)`` with labels -1/1 (0/1 converted)."""
    t, p = _pair(y_true, y_pred)
    return _last_mean(ops.relu(1.0 - p * _signed(t)))


def squared_hinge(y_true, y_pred):
    t, p = _pair(y_true, y_pred)
    return _last_mean(ops.relu(1.0 - p * _signed(t)) ** 2)


def categorical_hinge(y_true, y_pred):
    """``max(0, 1 + max((1 - y) p) - sum(y p))`` per sample."""
    t, p = _pair(y_true, y_pred)
    pos = (p * t).sum(axis=-1)
    neg = (p * (1.0 - t)).amax(axis=-1)
    return ops.relu(neg - pos + 1.0)


def ctc(y_true, y_pred):
    """CTC loss per sample (Keras's ``losses.ctc``): integer labels ``y_true`` (batch,
    labels), every row used in full, and logits ``y_pred`` (batch, frames, classes);
    class 0 is the blank. It is ``keras.ops.ctc_loss`` with full lengths."""
    p = _pred(y_pred)
    t = Tensor._make(_true(y_true, p, integer=True))
    if t.ndim != 2 or p.ndim != 3:
        raise ValueError(f"ctc: y_true must be (batch_size, max_length) labels and y_pred "
                         f"(batch_size, frames, num_classes) logits, got {t.shape} and "
                         f"{p.shape}")
    n = t.shape[0]
    return _keras_ctc_loss(t, p, [t.shape[1]] * n, [p.shape[1]] * n, mask_index=0)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kl_divergence
logcosh = log_cosh


# ------------------------------------------------------------------- reduction
_REDUCTIONS = ("sum_over_batch_size", "sum", "mean_with_sample_weight", "none", None, "mean")


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Weight per-sample losses and reduce them as Keras does."""
    if sample_weight is not None:
        w = sample_weight._data if isinstance(sample_weight, Tensor) else sample_weight
        xp = values.xp
        w = xp.asarray(w, dtype=values.dtype)
        if w.ndim > values.ndim or (w.ndim == values.ndim and w.shape != values.shape
                                    and w.size == values.size):
            w = w.reshape(values.shape)
        while w.ndim < values.ndim:
            w = w[..., None]
        values = values * Tensor._make(w)
    if reduction in ("none", None):
        return values
    if reduction == "sum":
        return values.sum()
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        total = float(np.asarray(w).sum() * (values.size // max(1, w.size)))
        return values.sum() / max(total, EPSILON)
    return values.mean()


# ------------------------------------------------------------------- classes
class Loss:
    """Base class of losses: subclass it and define ``call(y_true, y_pred)`` returning
    per-sample losses; ``loss(y_true, y_pred, sample_weight=None)`` weights and reduces.
    """

    _label = "float"  # the dtype fit gives y: "float" or "int" (sparse labels)

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in _REDUCTIONS:
            raise ValueError(f"unknown reduction {reduction!r}; use one of "
                             "'sum_over_batch_size', 'sum', 'mean_with_sample_weight', 'none'")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = dtype

    def call(self, y_true, y_pred):
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred)")

    def __call__(self, y_true, y_pred, sample_weight=None):
        return reduce_weighted_values(self.call(y_true, y_pred), sample_weight, self.reduction)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def with_logits(self):
        """The same loss computed from logits, or None when it has no such form."""
        return None


def _snake(name):
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


class LossFunctionWrapper(Loss):
    """A Loss made from a function ``fn(y_true, y_pred, **kwargs)`` of per-sample losses."""

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name or getattr(fn, "__name__", "loss"), reduction, dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


def _wrapper(fn, default_name, doc, fast=None, label="float", logits_form=False):
    """Build a Loss class for ``fn``; its ``__init__`` takes ``fn``'s keyword options."""

    def make(cls_name, defaults):
        def __init__(self, *args, reduction="sum_over_batch_size", name=default_name,
                     dtype=None, **kwargs):
            opts = dict(defaults)
            names = list(defaults)
            if len(args) > len(names):
                raise TypeError(f"{cls_name} takes at most {len(names)} positional "
                                f"arguments ({', '.join(names)})")
            for k, v in zip(names, args):
                opts[k] = v
            for k, v in kwargs.items():
                if k not in defaults:
                    raise TypeError(f"{cls_name} got an unexpected argument {k!r}; "
                                    f"options: {', '.join(names) or 'none'}")
                opts[k] = v
            LossFunctionWrapper.__init__(self, fn, reduction=reduction, name=name,
                                         dtype=dtype, **opts)

        def get_config(self):
            return LossFunctionWrapper.get_config(self)

        @classmethod
        def from_config(cls, config):
            return cls(**config)

        def __call__(self, y_true, y_pred, sample_weight=None):
            if fast is not None and sample_weight is None and \
                    self.reduction in ("sum_over_batch_size", "mean"):
                out = fast(self, y_true, y_pred)
                if out is not None:
                    return out
            return LossFunctionWrapper.__call__(self, y_true, y_pred, sample_weight)

        def with_logits(self):
            if not logits_form or self._fn_kwargs.get("from_logits"):
                return None
            config = self.get_config()
            config["from_logits"] = True
            return type(self).from_config(config)

        cls = type(cls_name, (LossFunctionWrapper,), {
            "__init__": __init__, "get_config": get_config, "from_config": from_config,
            "__call__": __call__, "with_logits": with_logits, "_label": label,
            "__doc__": doc, "__module__": __name__})
        return cls
    return make


def _fast_mse(self, y_true, y_pred):
    t, p = _pair(y_true, y_pred)
    return _F.mse_loss(p, Tensor._make(t)) if t.shape == p.shape else None


def _fast_mae(self, y_true, y_pred):
    t, p = _pair(y_true, y_pred)
    return _F.l1_loss(p, Tensor._make(t)) if t.shape == p.shape else None


def _fast_bce(self, y_true, y_pred):
    kw = self._fn_kwargs
    if not kw.get("from_logits") or kw.get("label_smoothing"):
        return None
    t, p = _pair(y_true, y_pred)
    return _F.binary_cross_entropy_with_logits(p, Tensor._make(t)) if t.shape == p.shape \
        else None


def _fast_sparse(self, y_true, y_pred):
    kw = self._fn_kwargs
    p = _pred(y_pred)
    if not kw.get("from_logits") or kw.get("ignore_class") is not None or p.ndim != 2:
        return None
    t = _true(y_true, p, integer=True)
    if t.size != p.shape[0]:
        return None
    t = t.reshape(-1)
    C = p.shape[1]
    if t.size and (int(t.min()) < 0 or int(t.max()) >= C):
        return None  # the slow path explains the error
    return _F.cross_entropy(p, Tensor._make(t))


MeanSquaredError = _wrapper(mean_squared_error, "mean_squared_error",
                            "Mean of squared errors: ``MeanSquaredError()(y_true, y_pred)``.",
                            _fast_mse)("MeanSquaredError", {})
MeanAbsoluteError = _wrapper(mean_absolute_error, "mean_absolute_error",
                             "Mean of absolute errors (MAE).",
                             _fast_mae)("MeanAbsoluteError", {})
MeanAbsolutePercentageError = _wrapper(
    mean_absolute_percentage_error, "mean_absolute_percentage_error",
    "Mean absolute percentage error.")("MeanAbsolutePercentageError", {})
MeanSquaredLogarithmicError = _wrapper(
    mean_squared_logarithmic_error, "mean_squared_logarithmic_error",
    "Mean squared logarithmic error.")("MeanSquaredLogarithmicError", {})
Huber = _wrapper(huber, "huber_loss", "Huber loss: ``Huber(delta=1.0)``.")(
    "Huber", {"delta": 1.0})
LogCosh = _wrapper(log_cosh, "log_cosh", "Logarithm of the hyperbolic cosine of the error.")(
    "LogCosh", {})
BinaryCrossentropy = _wrapper(
    binary_crossentropy, "binary_crossentropy",
    "Binary cross-entropy: ``BinaryCrossentropy(from_logits=False, label_smoothing=0.0, "
    "axis=-1)``.", _fast_bce, logits_form=True)(
    "BinaryCrossentropy", {"from_logits": False, "label_smoothing": 0.0, "axis": -1})
CategoricalCrossentropy = _wrapper(
    categorical_crossentropy, "categorical_crossentropy",
    "Cross-entropy with one-hot targets: ``CategoricalCrossentropy(from_logits=False, "
    "label_smoothing=0.0, axis=-1)``.", logits_form=True)(
    "CategoricalCrossentropy", {"from_logits": False, "label_smoothing": 0.0, "axis": -1})
SparseCategoricalCrossentropy = _wrapper(
    sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
    "Cross-entropy with integer labels: ``SparseCategoricalCrossentropy(from_logits=False, "
    "ignore_class=None, axis=-1)``.", _fast_sparse, label="int", logits_form=True)(
    "SparseCategoricalCrossentropy", {"from_logits": False, "ignore_class": None, "axis": -1})
KLDivergence = _wrapper(kl_divergence, "kl_divergence",
                        "Kullback-Leibler divergence ``sum(y log(y / p))``.")("KLDivergence", {})
Poisson = _wrapper(poisson, "poisson", "Poisson loss ``mean(p - y log p)``.")("Poisson", {})
CosineSimilarity = _wrapper(cosine_similarity, "cosine_similarity",
                            "Negative cosine similarity.")("CosineSimilarity", {"axis": -1})
Hinge = _wrapper(hinge, "hinge", "Hinge loss.")("Hinge", {})
SquaredHinge = _wrapper(squared_hinge, "squared_hinge", "Squared hinge loss.")(
    "SquaredHinge", {})
CategoricalHinge = _wrapper(categorical_hinge, "categorical_hinge", "Categorical hinge loss.")(
    "CategoricalHinge", {})
CTC = _wrapper(ctc, "ctc", "Connectionist Temporal Classification from logits (see "
               "``losses.ctc``).", label="int")("CTC", {})

_CLASSES = {c.__name__: c for c in (
    CTC, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Huber, LogCosh, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy, KLDivergence, Poisson, CosineSimilarity, Hinge, SquaredHinge,
    CategoricalHinge)}
_BY_NAME = {
    "mean_squared_error": MeanSquaredError, "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError, "mae": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError, "huber": Huber, "huber_loss": Huber,
    "log_cosh": LogCosh, "logcosh": LogCosh, "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence, "kld": KLDivergence, "kullback_leibler_divergence": KLDivergence,
    "poisson": Poisson, "cosine_similarity": CosineSimilarity, "hinge": Hinge,
    "squared_hinge": SquaredHinge, "categorical_hinge": CategoricalHinge, "ctc": CTC,
}
_FN_NAMES = {fn: name for name, fn in (
    ("mean_squared_error", mean_squared_error), ("mean_absolute_error", mean_absolute_error),
    ("mean_absolute_percentage_error", mean_absolute_percentage_error),
    ("mean_squared_logarithmic_error", mean_squared_logarithmic_error), ("huber", huber),
    ("log_cosh", log_cosh), ("binary_crossentropy", binary_crossentropy),
    ("categorical_crossentropy", categorical_crossentropy),
    ("sparse_categorical_crossentropy", sparse_categorical_crossentropy),
    ("kl_divergence", kl_divergence), ("poisson", poisson),
    ("cosine_similarity", cosine_similarity), ("hinge", hinge), ("squared_hinge", squared_hinge),
    ("categorical_hinge", categorical_hinge), ("ctc", ctc))}


def get(identifier):
    """A Loss object from a Keras name (``"mse"``, ``"binary_crossentropy"`` ...), a Loss,
    a class, or a function ``fn(y_true, y_pred)`` (wrapped; it should return per-sample
    losses or a scalar)."""
    if identifier is None:
        return None
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier) or _BY_NAME.get(identifier.lower()) or \
            _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(f"unknown loss {identifier!r}; shendu.keras knows: "
                             f"{', '.join(sorted(_BY_NAME))} (or pass a function "
                             "loss(y_true, y_pred) or a keras.losses.Loss)")
        return cls(name=identifier) if identifier in _BY_NAME else cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        if identifier in _FN_NAMES:
            return _BY_NAME[_FN_NAMES[identifier]]()
        return LossFunctionWrapper(identifier)
    raise TypeError(f"loss must be a name, a keras.losses.Loss or a function, got "
                    f"{type(identifier).__name__}")


def serialize(loss):
    """``{"class_name", "config"}`` for built-in losses; None for custom ones."""
    if type(loss).__name__ in _CLASSES and type(loss) is _CLASSES[type(loss).__name__]:
        return {"class_name": type(loss).__name__, "config": loss.get_config()}
    return None


def deserialize(config):
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"unknown loss in config: {config!r}")
    return _CLASSES[config["class_name"]].from_config(config.get("config") or {})
