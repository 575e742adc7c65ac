"""Learning-rate schedulers: change ``group["lr"]`` of an optimizer as training goes.

Call ``scheduler.step()`` once per epoch (or per batch for ``OneCycleLR``), *after*
``optimizer.step()``::

    >>> import shendu
    >>> from shendu import optim
    >>> w = shendu.tensor([1.0], requires_grad=True)
    >>> opt = optim.SGD([w], lr=0.1)
    >>> sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    >>> lrs = []
    >>> for epoch in range(5):
    ...     opt.step()                     # (the training of one epoch)
    ...     lrs.append(sched.get_last_lr()[0])
    ...     sched.step()
    >>> lrs
    [0.1, 0.1, 0.05, 0.05, 0.025]

The values follow PyTorch exactly: the "chainable" schedulers (StepLR, ExponentialLR,
CosineAnnealingLR ...) update the current ``lr`` recursively, so several of them can
act on one optimizer together (``ChainedScheduler``).
"""
from .base import LRScheduler
from .composite import ChainedScheduler, SequentialLR
from .plateau import ReduceLROnPlateau
from .schedules import (ConstantLR, CosineAnnealingLR, CosineAnnealingWarmRestarts, ExponentialLR,
                        LambdaLR, LinearLR, MultiplicativeLR, MultiStepLR, OneCycleLR,
                        PolynomialLR, StepLR)

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR",
           "ConstantLR", "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR",
           "CosineAnnealingWarmRestarts", "OneCycleLR", "ReduceLROnPlateau", "SequentialLR",
           "ChainedScheduler"]
