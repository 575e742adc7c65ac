"""``keras.optimizers``: Keras's optimizer classes, names and defaults over ``shendu.optim``.

A Keras optimizer is created without parameters (``Adam(learning_rate=1e-3)``) and bound
to the model's trainable weights the first time it is used. The update is done by a
``shendu.optim`` class: PyTorch's where Keras's rule is the same, Keras 3's own
(``shendu.keras.optimizer_rules``) where it is not, so tf.keras code gives Keras's steps:

=========  ======================================  =====================================
Keras      defaults                                update rule
=========  ======================================  =====================================
SGD        lr 0.01, momentum 0, nesterov False     shendu.optim.SGD (Keras's while lr is
                                                   constant)
Adam       lr 1e-3, betas .9/.999, eps 1e-7        Keras's: ``lr sqrt(1 - b2^t) / (1 -
                                                   b1^t) m / (sqrt(v) + eps)``
AdamW      as Adam, weight_decay 0.004             as Adam, then ``w -= lr * wd * w``
RMSprop    lr 1e-3, rho 0.9, eps 1e-7              Keras's: ``lr g / sqrt(v + eps)``
Adagrad    lr 1e-3, initial_accumulator 0.1,       Keras's: ``lr g / sqrt(h + eps)``
           eps 1e-7
Adadelta   lr 1e-3, rho 0.95, eps 1e-7             shendu.optim.Adadelta (same as Keras)
Nadam      lr 1e-3, betas .9/.999, eps 1e-7        Keras's: momentum warm-up ``0.96^t``
=========  ======================================  =====================================

Where epsilon sits matters: RMSprop's ``sqrt(v + 1e-7)`` floors the denominator at 3.2e-4
(PyTorch's ``sqrt(v) + 1e-7`` at 1e-7), so weights with small gradients take far smaller
first steps in Keras. ``weight_decay`` (any optimizer) is Keras's decoupled decay, applied
before the update.

``learning_rate`` may be a float or a schedule from ``keras.optimizers.schedules``; setting
``optimizer.learning_rate = x`` (as ``ReduceLROnPlateau`` does) takes effect at the next
step. ``clipnorm`` / ``clipvalue`` / ``global_clipnorm`` clip gradients first.

>>> from shendu import keras
>>> opt = keras.optimizers.get("adam")
>>> type(opt).__name__, opt.learning_rate, opt.epsilon
('Adam', 0.001, 1e-07)
"""
from __future__ import annotations

import math

import numpy as np

from .. import optim as _optim
from ..autograd import grad_mode
from ..autograd.tensor import Tensor
from .optimizer_rules import KerasAdagrad, KerasAdam, KerasNadam, KerasRMSprop

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Nadam",
           "TorchOptimizer", "schedules", "get", "serialize", "deserialize"]


# ------------------------------------------------------------------- schedules
class LearningRateSchedule:
    """Base class: ``schedule(step)`` gives the learning rate at optimizer step ``step``."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored with
    ``staircase=True``)."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.decay_rate = decay_steps, float(decay_rate)
        self.staircase = staircase

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase}


class InverseTimeDecay(ExponentialDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``"""

    def __call__(self, step):
        p = step / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``step <= boundaries[i]`` (the last value afterwards)."""

    def __init__(self, boundaries, values, name=None):
        if len(values) != len(boundaries) + 1:
            raise ValueError("PiecewiseConstantDecay: values needs one more entry than "
                             f"boundaries, got {len(values)} values and {len(boundaries)} "
                             "boundaries")
        self.boundaries, self.values = list(boundaries), [float(v) for v in values]

    def __call__(self, step):
        for b, v in zip(self.boundaries, self.values):
            if step <= b:
                return v
        return self.values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values}


class CosineDecay(LearningRateSchedule):
    """Cosine decay from ``initial_learning_rate`` to ``alpha *`` it over ``decay_steps``
    (after ``warmup_steps`` of linear warm-up to ``warmup_target`` when given)."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name=None,
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_steps, self.alpha = decay_steps, float(alpha)
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps

    def __call__(self, step):
        start = self.initial_learning_rate
        if self.warmup_target is not None and step < self.warmup_steps:
            return start + (self.warmup_target - start) * step / self.warmup_steps
        top = start if self.warmup_target is None else self.warmup_target
        t = min(max(step - self.warmup_steps, 0), self.decay_steps) / self.decay_steps
        return top * ((1 - self.alpha) * 0.5 * (1 + math.cos(math.pi * t)) + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class _Schedules:
    """``keras.optimizers.schedules``"""
    LearningRateSchedule = LearningRateSchedule
    ExponentialDecay = ExponentialDecay
    InverseTimeDecay = InverseTimeDecay
    PiecewiseConstantDecay = PiecewiseConstantDecay
    CosineDecay = CosineDecay


schedules = _Schedules()
_SCHEDULES = {c.__name__: c for c in (ExponentialDecay, InverseTimeDecay,
                                      PiecewiseConstantDecay, CosineDecay)}


# ------------------------------------------------------------------- base class
class Optimizer:
    """Base class of the Keras-style optimizers.

    Subclasses name the ``shendu.optim`` class that does the update (``_inner_class``)
    and map Keras's options to its arguments (``_inner_kwargs``).

    Attributes
    ----------
    learning_rate : float (settable)
    iterations : int, the number of steps taken
    inner : the ``shendu.optim`` optimizer, once built (None before)
    """

    _inner_class = None

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        for k in ("use_ema", "ema_momentum", "ema_overwrite_frequency", "loss_scale_factor",
                  "gradient_accumulation_steps"):
            v = kwargs.pop(k, None)
            if v not in (None, False):
                raise NotImplementedError(f"{type(self).__name__}: {k} is not supported in "
                                          "shendu.keras")
        if "lr" in kwargs:  # Keras 2 spelling
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}")
        if sum(x is not None for x in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set")
        self.name = name or type(self).__name__.lower()
        self.weight_decay = weight_decay
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self._schedule = None
        self._lr = None
        self.inner = getattr(self, "inner", None)
        self._params = []
        self.learning_rate = learning_rate
        self.iterations = 0

    # -- learning rate
    @property
    def learning_rate(self):
        if self._schedule is not None:
            return float(self._schedule(self.iterations))
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, LearningRateSchedule) or (callable(value) and
                                                       not isinstance(value, (int, float))):
            self._schedule = value
            self._lr = None
        else:
            if self._schedule is not None:
                raise TypeError("this optimizer's learning rate is a schedule; it can't be set "
                                "to a number (create a new optimizer instead)")
            value = float(value)
            if value < 0:
                raise ValueError(f"learning_rate must be >= 0, got {value}")
            self._lr = value
        self._sync_lr()

    lr = learning_rate  # Keras 2 alias

    def _sync_lr(self):
        if self.inner is not None:
            lr = self.learning_rate
            for g in self.inner.param_groups:
                g["lr"] = lr

    # -- binding to variables
    def _inner_kwargs(self):
        return {}

    @property
    def built(self):
        return self.inner is not None

    @property
    def variables(self):
        return list(self._params)

    def build(self, variables):
        """Bind to ``variables`` (the trainable weights) and create the update state."""
        params = [v for v in variables]
        if not params:
            raise ValueError(f"{type(self).__name__}: the model has no trainable weights to "
                             "optimize")
        self._params = params
        self.inner = self._inner_class(params, lr=self.learning_rate, **self._inner_kwargs())

    def _matches(self, variables):
        return len(variables) == len(self._params) and all(
            a is b for a, b in zip(variables, self._params))

    # -- the update
    def zero_grad(self):
        for p in self._params:
            p.grad = None

    def step(self):
        """Apply one update from the ``.grad`` of the bound variables."""
        params = self._params
        if self.clipvalue is not None:
            _optim.clip_grad_value_(params, self.clipvalue)
        elif self.clipnorm is not None:
            for p in params:
                if p.grad is not None:
                    _optim.clip_grad_norm_([p], self.clipnorm)
        elif self.global_clipnorm is not None:
            _optim.clip_grad_norm_(params, self.global_clipnorm)
        if self._schedule is not None:
            self._sync_lr()
        if self.weight_decay:
            lr_wd = self.learning_rate * float(self.weight_decay)
            with grad_mode.no_grad():
                for p in params:
                    if p.grad is not None:
                        p._data -= lr_wd * p._data
        self.inner.step()
        self.iterations += 1

    def apply_gradients(self, grads_and_vars):
        """Keras's API: apply ``[(grad, variable), ...]``."""
        pairs = [(g, v) for g, v in grads_and_vars]
        variables = [v for _, v in pairs]
        if not self.built or not self._matches(variables):
            self.build(variables)
        for g, v in pairs:
            if g is None:
                v.grad = None
                continue
            a = g._data if isinstance(g, Tensor) else np.asarray(g, dtype=v.dtype)
            v.grad = Tensor._make(a)
        self.step()
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        return self.apply_gradients(zip(grads, trainable_variables or self._params))

    # -- saving
    def get_config(self):
        lr = self._schedule if self._schedule is not None else self._lr
        if isinstance(lr, LearningRateSchedule) and type(lr).__name__ in _SCHEDULES:
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        elif self._schedule is not None:
            lr = None
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            if lr.get("class_name") not in _SCHEDULES:
                raise ValueError(f"unknown learning-rate schedule in config: {lr!r}")
            config["learning_rate"] = _SCHEDULES[lr["class_name"]].from_config(lr["config"])
        elif lr is None:
            config.pop("learning_rate", None)
        return cls(**config)

    def state_dict(self):
        """``{"iterations", "inner"}``: the step count and the shendu.optim state."""
        return {"iterations": self.iterations,
                "inner": self.inner.state_dict() if self.inner is not None else None}

    def load_state_dict(self, state):
        self.iterations = int(state.get("iterations", 0))
        if state.get("inner") is not None:
            if self.inner is None:
                raise RuntimeError(f"{type(self).__name__}.load_state_dict: build the optimizer "
                                   "first (optimizer.build(model.trainable_weights))")
            self.inner.load_state_dict(state["inner"])
            self._sync_lr()

    def __repr__(self):
        return f"<keras.optimizers.{type(self).__name__} learning_rate={self.learning_rate}>"


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum and Nesterov momentum.

    ``SGD(learning_rate=0.01, momentum=0.0, nesterov=False)``. Keras's velocity rule
    ``v = momentum * v - lr * g; w += v`` gives the same steps as shendu.optim.SGD's
    (PyTorch's) while the learning rate is constant.
    """
    _inner_class = _optim.SGD

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="SGD", **kwargs):
        if momentum < 0 or momentum > 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], got {momentum}")
        if nesterov and momentum == 0:
            raise ValueError("SGD: nesterov=True needs a momentum > 0")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)

    def _inner_kwargs(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adam(Optimizer):
    """Adam: ``Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
    amsgrad=False)``."""
    _inner_class = KerasAdam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="adam", **kwargs):
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        self.epsilon, self.amsgrad = float(epsilon), bool(amsgrad)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)

    def _inner_kwargs(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon,
                "amsgrad": self.amsgrad}

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Adam with decoupled weight decay: ``AdamW(learning_rate=0.001, weight_decay=0.004,
    beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False)``."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="adamw", **kwargs):
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay can't be None (use Adam for no decay)")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay,
                         clipnorm, clipvalue, global_clipnorm, name, **kwargs)


class Nadam(Adam):
    """Adam with Nesterov momentum: ``Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999,
    epsilon=1e-7)`` (Keras 3's rule: momentum warm-up ``mu_t = b1 (1 - 0.5 * 0.96^t)``)."""
    _inner_class = KerasNadam

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="nadam", **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, False, weight_decay,
                         clipnorm, clipvalue, global_clipnorm, name, **kwargs)

    def _inner_kwargs(self):
        return {"betas": (self.beta_1, self.beta_2), "eps": self.epsilon}

    def get_config(self):
        config = super().get_config()
        config.pop("amsgrad")
        return config


class RMSprop(Optimizer):
    """RMSprop: ``RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
    centered=False)``."""
    _inner_class = KerasRMSprop

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name="rmsprop", **kwargs):
        self.rho, self.momentum = float(rho), float(momentum)
        self.epsilon, self.centered = float(epsilon), bool(centered)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)

    def _inner_kwargs(self):
        return {"alpha": self.rho, "eps": self.epsilon, "momentum": self.momentum,
                "centered": self.centered}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}


class Adagrad(Optimizer):
    """Adagrad: ``Adagrad(learning_rate=0.001, initial_accumulator_value=0.1,
    epsilon=1e-7)``."""
    _inner_class = KerasAdagrad

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name="adagrad", **kwargs):
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)

    def _inner_kwargs(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "eps": self.epsilon}

    def get_config(self):
        return {**super().get_config(),
                "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Adadelta(Optimizer):
    """Adadelta: ``Adadelta(learning_rate=0.001, rho=0.95, epsilon=1e-7)``."""
    _inner_class = _optim.Adadelta

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name="adadelta",
                 **kwargs):
        self.rho, self.epsilon = float(rho), float(epsilon)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name, **kwargs)

    def _inner_kwargs(self):
        return {"rho": self.rho, "eps": self.epsilon}

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}


class TorchOptimizer(Optimizer):
    """Wraps an already-built ``shendu.optim`` optimizer so ``compile`` can take one
    (``model.compile(optimizer=shendu.optim.SGD(model.parameters(), lr=0.1), ...)``)."""

    def __init__(self, inner):
        super().__init__(inner.param_groups[0]["lr"], name=type(inner).__name__.lower())
        self.inner = inner
        self._params = [p for g in inner.param_groups for p in g["params"]]

    def build(self, variables):
        known = {id(p) for p in self._params}
        missing = [v for v in variables if id(v) not in known]
        if missing:
            raise ValueError(f"the shendu.optim.{type(self.inner).__name__} given to compile does "
                             f"not hold {len(missing)} of the model's trainable weights; create it "
                             "from model.parameters() after the model is built")

    def _matches(self, variables):
        known = {id(p) for p in self._params}
        return all(id(v) in known for v in variables)

    def get_config(self):
        raise TypeError("a shendu.optim optimizer given to compile can't be saved in a Keras "
                        "model file; use a keras.optimizers class")


_CLASSES = {c.__name__: c for c in (SGD, Adam, AdamW, Nadam, RMSprop, Adagrad, Adadelta)}
_BY_NAME = {"sgd": SGD, "adam": Adam, "adamw": AdamW, "nadam": Nadam, "rmsprop": RMSprop,
            "adagrad": Adagrad, "adadelta": Adadelta}


def get(identifier):
    """An optimizer from a name (``"adam"``, ``"sgd"`` ...), a Keras optimizer, a config, or
    a built ``shendu.optim`` optimizer."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, _optim.Optimizer):
        return TorchOptimizer(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier.lower())
        if cls is None:
            raise ValueError(f"unknown optimizer {identifier!r}; shendu.keras knows: "
                             f"{', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(f"optimizer must be a name or an optimizer, got {type(identifier).__name__}")


def serialize(optimizer):
    if type(optimizer).__name__ in _CLASSES and type(optimizer) is _CLASSES[type(optimizer).__name__]:
        return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}
    return None


def deserialize(config):
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"unknown optimizer in config: {config!r}")
    return _CLASSES[config["class_name"]].from_config(config.get("config") or {})
