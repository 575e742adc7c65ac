"""Optimizers, learning-rate schedulers and gradient clipping (``torch.optim``'s API).

>>> import shendu
>>> from shendu import optim
>>> w = shendu.tensor([1.0, -2.0], requires_grad=True)
>>> opt = optim.Adam([w], lr=0.1)
>>> for _ in range(3):
...     opt.zero_grad()
...     loss = (w ** 2).sum()
...     loss.backward()
...     opt.step()

Optimizers: SGD (momentum, Nesterov), Adagrad, Adadelta, RMSprop, Adam, AdamW, NAdam,
LBFGS (quasi-Newton, ``step(closure)``).
Schedulers: ``optim.lr_scheduler.StepLR``, ``CosineAnnealingLR``, ``OneCycleLR``,
``ReduceLROnPlateau`` ... Clipping: ``clip_grad_norm_``, ``clip_grad_value_``.
"""
from .optimizer import Optimizer, required
from .sgd import SGD
from .adagrad import Adagrad
from .adadelta import Adadelta
from .rmsprop import RMSprop
from .adam import Adam, AdamW
from .nadam import NAdam
from .lbfgs import LBFGS
from . import lr_scheduler
from .clip import clip_grad_norm_, clip_grad_value_, get_total_norm, clip_grads_with_norm_

__all__ = ["Optimizer", "SGD", "Adagrad", "Adadelta", "RMSprop", "Adam", "AdamW", "NAdam",
           "LBFGS", "lr_scheduler", "clip_grad_norm_", "clip_grad_value_", "get_total_norm",
           "clip_grads_with_norm_"]
