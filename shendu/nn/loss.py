"""Loss modules: ``criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)``.

Each holds its options (and class weights, as buffers that ``to()`` moves and
``state_dict`` saves) and calls the function of the same name in
``shendu.nn.functional`` (see shendu/ops/loss*.py for the math and gradients).
``reduction`` is ``'mean'`` (default), ``'sum'`` or ``'none'``, checked when the loss is
built. The repr shows the options that differ from PyTorch's defaults.

>>> import shendu
>>> from shendu import nn
>>> criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
>>> criterion
CrossEntropyLoss(label_smoothing=0.1)
>>> logits = shendu.tensor([[2.0, 0.5, -1.0]], requires_grad=True)
>>> loss = criterion(logits, shendu.tensor([0]))
>>> loss.backward()
"""
from __future__ import annotations

from ..autograd.tensor import Tensor
from ..ops import loss as F
from ..ops.ctc import ctc_loss as _ctc_loss
from .module import Module

__all__ = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "CrossEntropyLoss", "NLLLoss",
           "BCELoss", "BCEWithLogitsLoss", "KLDivLoss", "PoissonNLLLoss",
           "CosineEmbeddingLoss", "HingeEmbeddingLoss", "MarginRankingLoss",
           "SoftMarginLoss", "MultiMarginLoss", "CTCLoss"]


def _describe(value):
    return f"<tensor of shape {value.shape}>" if isinstance(value, Tensor) else repr(value)


class _Loss(Module):
    """Base of the losses: checks ``reduction``; ``extra_repr`` lists the options in
    ``_options`` whose values differ from their defaults."""

    _reductions = ("mean", "sum", "none")
    _options = ()          # ((name, default), ...) shown by repr when not the default

    def __init__(self, reduction="mean"):
        super().__init__()
        F._check_reduction(type(self).__name__, reduction, self._reductions)
        self.reduction = reduction

    def extra_repr(self):
        shown = []
        for name, default in (("reduction", "mean"),) + tuple(self._options):
            value = getattr(self, name)
            if isinstance(value, Tensor) or (value is not None and value != default):
                shown.append(f"{name}={_describe(value)}")
        return ", ".join(shown)


class _WeightedLoss(_Loss):
    """A loss with per-class ``weight``, kept as a buffer."""

    def __init__(self, weight=None, reduction="mean"):
        super().__init__(reduction)
        if weight is not None and not isinstance(weight, Tensor):
            weight = Tensor(weight)
        self.register_buffer("weight", weight)


class L1Loss(_Loss):
    """Mean absolute error ``|input - target|`` (see ``F.l1_loss``)."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class MSELoss(_Loss):
    """Mean squared error ``(input - target)^2`` (see ``F.mse_loss``).

    >>> nn.MSELoss()(shendu.tensor([1.0, 2.0]), shendu.tensor([1.0, 4.0]))
    tensor(2.)
    """

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class SmoothL1Loss(_Loss):
    """Squared error below ``beta``, absolute error above (see ``F.smooth_l1_loss``)."""
    _options = (("beta", 1.0),)

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0, got {beta}")
        self.beta = beta

    def forward(self, input, target):
        return F.smooth_l1_loss(input, target, reduction=self.reduction, beta=self.beta)


class HuberLoss(_Loss):
    """Huber loss: squared error below ``delta``, ``delta``-scaled absolute error above
    (see ``F.huber_loss``)."""
    _options = (("delta", 1.0),)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction)
        if delta <= 0:
            raise ValueError(f"HuberLoss: delta must be > 0, got {delta}")
        self.delta = delta

    def forward(self, input, target):
        return F.huber_loss(input, target, reduction=self.reduction, delta=self.delta)


class CrossEntropyLoss(_WeightedLoss):
    """Softmax cross-entropy from logits (see ``F.cross_entropy``).

    Parameters
    ----------
    weight : optional (C,) weight of each class
    ignore_index : class-index targets equal to it are skipped (default -100)
    reduction : 'mean' | 'sum' | 'none'
    label_smoothing : float in [0, 1], mixes the target with the uniform distribution

    Input (N, C) or (N, C, d1, ...) logits, or (C,); target class indices (N,) /
    (N, d1, ...) / (), or class probabilities shaped like the input.
    """
    _options = (("weight", None), ("ignore_index", -100), ("label_smoothing", 0.0))

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean",
                 label_smoothing=0.0):
        super().__init__(weight, reduction)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be between 0.0 and "
                             f"1.0, got {label_smoothing}")
        self.ignore_index = ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        return F.cross_entropy(input, target, self.weight, ignore_index=self.ignore_index,
                               reduction=self.reduction, label_smoothing=self.label_smoothing)


class NLLLoss(_WeightedLoss):
    """Negative log-likelihood of class indices, from log-probabilities (see
    ``F.nll_loss``); ``LogSoftmax(dim=1)`` then ``NLLLoss`` is ``CrossEntropyLoss``."""
    _options = (("weight", None), ("ignore_index", -100))

    def __init__(self, weight=None, *, ignore_index=-100, reduction="mean"):
        super().__init__(weight, reduction)
        self.ignore_index = ignore_index

    def forward(self, input, target):
        return F.nll_loss(input, target, self.weight, ignore_index=self.ignore_index,
                          reduction=self.reduction)


class BCELoss(_WeightedLoss):
    """Binary cross-entropy of probabilities in [0, 1] (see ``F.binary_cross_entropy``);
    prefer ``BCEWithLogitsLoss`` on raw scores."""
    _options = (("weight", None),)

    def __init__(self, weight=None, *, reduction="mean"):
        super().__init__(weight, reduction)

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, self.weight, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid + binary cross-entropy in one stable op (see
    ``F.binary_cross_entropy_with_logits``); ``pos_weight`` (e.g. (C,)) weighs positives."""
    _options = (("weight", None), ("pos_weight", None))

    def __init__(self, weight=None, *, reduction="mean", pos_weight=None):
        super().__init__(reduction)
        self.register_buffer("weight", weight if weight is None or isinstance(weight, Tensor)
                             else Tensor(weight))
        self.register_buffer("pos_weight", pos_weight if pos_weight is None or
                             isinstance(pos_weight, Tensor) else Tensor(pos_weight))

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, self.weight,
                                                  reduction=self.reduction,
                                                  pos_weight=self.pos_weight)


class KLDivLoss(_Loss):
    """KL divergence, input as log-probabilities (see ``F.kl_div``); use
    ``reduction='batchmean'`` for the true KL divergence."""
    _reductions = ("mean", "batchmean", "sum", "none")
    _options = (("log_target", False),)

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction)
        self.log_target = log_target

    def forward(self, input, target):
        return F.kl_div(input, target, reduction=self.reduction, log_target=self.log_target)


class PoissonNLLLoss(_Loss):
    """Poisson negative log-likelihood (see ``F.poisson_nll_loss``)."""
    _options = (("log_input", True), ("full", False), ("eps", 1e-8))

    def __init__(self, log_input=True, full=False, *, eps=1e-8, reduction="mean"):
        super().__init__(reduction)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        return F.poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                  reduction=self.reduction)


class _MarginLoss(_Loss):
    _options = (("margin", 0.0),)

    def __init__(self, margin=0.0, *, reduction="mean"):
        super().__init__(reduction)
        self.margin = margin


class CosineEmbeddingLoss(_MarginLoss):
    """``1 - cos`` for pairs labelled 1, ``max(0, cos - margin)`` for pairs labelled -1
    (see ``F.cosine_embedding_loss``)."""

    def forward(self, input1, input2, target):
        return F.cosine_embedding_loss(input1, input2, target, self.margin,
                                       reduction=self.reduction)


class MarginRankingLoss(_MarginLoss):
    """``max(0, -target (input1 - input2) + margin)`` (see ``F.margin_ranking_loss``)."""

    def forward(self, input1, input2, target):
        return F.margin_ranking_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class HingeEmbeddingLoss(_MarginLoss):
    """``x`` for target 1, ``max(0, margin - x)`` for target -1 (see
    ``F.hinge_embedding_loss``)."""
    _options = (("margin", 1.0),)

    def __init__(self, margin=1.0, *, reduction="mean"):
        super().__init__(margin, reduction=reduction)

    def forward(self, input, target):
        return F.hinge_embedding_loss(input, target, self.margin, reduction=self.reduction)


class SoftMarginLoss(_Loss):
    """Two-class logistic loss ``log(1 + exp(-target * input))`` (see
    ``F.soft_margin_loss``)."""

    def forward(self, input, target):
        return F.soft_margin_loss(input, target, reduction=self.reduction)


class MultiMarginLoss(_WeightedLoss):
    """Multiclass hinge (SVM) loss (see ``F.multi_margin_loss``)."""
    _options = (("p", 1), ("margin", 1.0), ("weight", None))

    def __init__(self, p=1, margin=1.0, weight=None, *, reduction="mean"):
        super().__init__(weight, reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p}")
        if weight is not None and self.weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: weight must be 1-D (one entry per class), "
                             f"got shape {self.weight.shape}")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight,
                                   reduction=self.reduction)


class CTCLoss(_Loss):
    """Connectionist Temporal Classification (see ``F.ctc_loss`` and docs/ctc.md):
    ``criterion(log_probs (T, N, C), targets, input_lengths, target_lengths)``.

    >>> lp = shendu.zeros(4, 1, 3).log_softmax(dim=2)
    >>> nn.CTCLoss(reduction="sum")(lp, shendu.tensor([[1, 2]]), [4], [2])
    tensor(1.6864)
    """
    _options = (("blank", 0), ("zero_infinity", False))

    def __init__(self, blank=0, reduction="mean", zero_infinity=False):
        super().__init__(reduction)
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        return _ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=self.blank,
                         reduction=self.reduction, zero_infinity=self.zero_infinity)
