"""The machinery shared by ``NetClassifier`` and ``NetRegressor``.

Parameters follow scikit-learn's conventions: ``__init__`` stores its arguments as given
and does nothing else; every check and every piece of work happens in ``fit``. Arguments
with a double-underscore prefix are routed, as in skorch:

* ``module__NAME`` goes to the network's constructor (``module=MyNet`` then
  ``MyNet(..., NAME=value)``), so ``GridSearchCV`` can search ``module__hidden``;
* ``model__NAME`` goes to a Keras-style build function (``model=build_fn``);
* ``criterion__NAME`` to the loss class, ``optimizer__NAME`` to the optimizer class;
* ``fit__NAME`` to ``keras.Model.fit`` (Keras-style models only).
"""
import copy
import inspect
import numbers

import numpy as np

try:
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
except ImportError as e:  # pragma: no cover - exercised only without scikit-learn
    raise ImportError("shendu.wrappers needs scikit-learn: pip install shendu[sklearn]") from e
try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn
    _validate_data = None

import shendu

from .. import nn, optim
from ._module import MLPModule

ROUTED_PREFIXES = ("module__", "model__", "criterion__", "optimizer__", "fit__")
__all__ = ["NetBase", "ROUTED_PREFIXES", "NotFittedError"]


def _accepts(fn, name):
    """Whether calling ``fn`` (a function or a class) with ``name=...`` is allowed."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _seed_from(random_state):
    """An int seed from None (fresh entropy), an int, or a numpy RandomState/Generator."""
    if random_state is None:
        return int(np.random.randint(0, 2**31 - 1))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        return int(random_state) % (2**31 - 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy RandomState, got "
                     f"{random_state!r}")


class NetBase(BaseEstimator):
    """Base of the scikit-learn wrappers; use ``NetClassifier`` or ``NetRegressor``."""

    _default_criterion = None   # set by the subclasses

    def __init__(self, module=None, *, model=None, criterion=None, optimizer=None, lr=1e-3,
                 max_epochs=10, batch_size=32, shuffle=True, warm_start=False,
                 random_state=None, verbose=0, **kwargs):
        self.module = module
        self.model = model
        self.criterion = criterion
        self.optimizer = optimizer
        self.lr = lr
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        # routed arguments live in one private dict (scikit-learn's checks ask that
        # __init__ set no public attribute beyond its signature); get_params lists them
        self._routed = dict(kwargs)

    # ----------------------------------------------------- scikit-learn protocol
    def __getattr__(self, name):
        # clf.module__hidden reads the routed argument, like skorch's attributes
        routed = self.__dict__.get("_routed")
        if routed is not None and name in routed:
            return routed[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def routed(self, prefix):
        """The routed arguments for ``prefix`` (``"module__"`` ...), prefix stripped."""
        return {k[len(prefix):]: v for k, v in sorted(self._routed.items())
                if k.startswith(prefix)}

    def get_params(self, deep=True):
        """The constructor arguments, routed ones (``module__hidden`` ...) included."""
        params = super().get_params(deep=deep)
        params.update(sorted(self._routed.items()))
        return params

    def set_params(self, **params):
        """Set arguments by name (``lr=0.01``, ``module__hidden=128``); returns ``self``."""
        plain = {}
        for name, value in params.items():
            if name.startswith(ROUTED_PREFIXES):
                self._routed[name] = value
            else:
                plain[name] = value
        if plain:
            super().set_params(**plain)
        return self

    def __sklearn_is_fitted__(self):
        return hasattr(self, "module_") or hasattr(self, "model_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.sparse = False
        return tags

    # ------------------------------------------------------------------ checks
    def _check_params(self):
        name = type(self).__name__
        unknown = sorted(k for k in self._routed if not k.startswith(ROUTED_PREFIXES))
        if unknown:
            # checked here, not in __init__ (scikit-learn: __init__ only stores)
            raise TypeError(f"{name}: unknown arguments {unknown}: routed arguments start "
                            f"with one of {', '.join(ROUTED_PREFIXES)}")

        def integer(attr, low):
            v = getattr(self, attr)
            if not isinstance(v, numbers.Integral) or isinstance(v, bool) or v < low:
                raise ValueError(f"{name}: {attr} must be an integer >= {low}, got {v!r}")
        integer("max_epochs", 0)
        integer("batch_size", 1)
        if not isinstance(self.lr, numbers.Real) or not self.lr > 0:
            raise ValueError(f"{name}: lr must be a number > 0, got {self.lr!r}")
        if self.module is not None and self.model is not None:
            raise ValueError(f"{name}: pass either module= (an nn.Module class or builder) "
                             f"or model= (a keras model or build function), not both")
        if self.model is None and self.routed("model__"):
            raise ValueError(f"{name}: model__* arguments {sorted(self.routed('model__'))} "
                             f"need model= (a keras build function)")
        if self.model is not None and self.routed("module__"):
            raise ValueError(f"{name}: module__* arguments go with module=; with model= "
                             f"use model__* (given {sorted(self.routed('module__'))})")

    def _validate(self, X, y="no_validation", reset=True, **kw):
        """scikit-learn's own validation (n_features_in_, feature_names_in_, NaN, dtype)."""
        kw.setdefault("dtype", [np.float64, np.float32])
        if _validate_data is not None:
            out = _validate_data(self, X, y, reset=reset, **kw)
        else:  # pragma: no cover - scikit-learn < 1.6
            out = self._validate_data(X, y, reset=reset, **kw)
        if isinstance(y, str) and y == "no_validation":
            return np.ascontiguousarray(out, dtype=np.float32)
        X, y = out
        return np.ascontiguousarray(X, dtype=np.float32), y

    @property
    def _is_keras(self):
        return self.model is not None

    # ------------------------------------------------------------ building
    def _initialize(self, X, y_train, n_outputs):
        """Seed shendu, then build the network, the loss and the optimizer (or the
        Keras model) for ``X.shape[1]`` inputs and ``n_outputs`` outputs."""
        seed = _seed_from(self.random_state)
        shendu.manual_seed(seed)
        self._shuffle_rng = np.random.RandomState(seed)
        self.history_ = []
        self.n_iter_ = 0
        for attr in ("module_", "criterion_", "optimizer_", "model_"):
            self.__dict__.pop(attr, None)
        if self._is_keras:
            self.model_ = self._build_keras(X, y_train, n_outputs)
            return
        self.module_ = self._build_module(X.shape[1], n_outputs)
        criterion = self.criterion if self.criterion is not None else self._default_criterion
        self.criterion_ = criterion(**self.routed("criterion__")) if callable(criterion) \
            and not isinstance(criterion, nn.Module) else criterion
        optimizer = self.optimizer if self.optimizer is not None else optim.Adam
        self.optimizer_ = optimizer(self.module_.parameters(), lr=self.lr,
                                    **self.routed("optimizer__"))

    def _build_module(self, n_features, n_outputs):
        kwargs = self.routed("module__")
        if isinstance(self.module, nn.Module):
            if kwargs:
                raise ValueError(f"{type(self).__name__}: module__* arguments "
                                 f"{sorted(kwargs)} need module= to be a class or a builder, "
                                 f"not an instance")
            return copy.deepcopy(self.module)  # each fit starts from the same weights
        factory = MLPModule if self.module is None else self.module
        if not callable(factory):
            raise TypeError(f"{type(self).__name__}: module must be an nn.Module class, a "
                            f"function returning an nn.Module, or an instance; got "
                            f"{self.module!r}")
        for name, value in (("in_features", n_features), ("out_features", n_outputs)):
            if name not in kwargs and _accepts(factory, name):
                kwargs[name] = value
        module = factory(**kwargs)
        if not isinstance(module, nn.Module):
            raise TypeError(f"{type(self).__name__}: module(...) must return a shendu "
                            f"nn.Module, got {type(module).__name__}")
        return module

    def _build_keras(self, X, y_train, n_outputs):
        from ..keras.models import Model, clone_model
        if isinstance(self.model, Model):
            model = clone_model(self.model)
            config = dict(self.model._compile_config or {})
            opt = config.get("optimizer")
            if hasattr(opt, "get_config") and hasattr(type(opt), "from_config"):
                config["optimizer"] = type(opt).from_config(opt.get_config())
            if config:
                model.compile(**config)
        else:
            kwargs = self.routed("model__")
            for name, value in (("in_features", X.shape[1]), ("out_features", n_outputs),
                                ("X", X), ("y", self._keras_build_targets(y_train))):
                if name not in kwargs and _accepts(self.model, name):
                    kwargs[name] = value
            model = self.model(**kwargs)
        if not isinstance(model, Model):
            raise TypeError(f"{type(self).__name__}: model must be a shendu.keras Model or a "
                            f"function returning one, got {type(model).__name__}")
        if not getattr(model, "compiled", False) or model.loss is None:
            raise ValueError(f"{type(self).__name__}: the keras model must be compiled with a "
                             f"loss: call model.compile(optimizer=..., loss=...) in the build "
                             f"function")
        return model

    # ------------------------------------------------------------ training
    def _train(self, X, y, epochs):
        """``epochs`` passes of mini-batch training over ``(X, y)``."""
        if epochs == 0:
            return
        if self._is_keras:
            hist = self.model_.fit(X, self._keras_fit_targets(y), batch_size=self.batch_size,
                                   epochs=epochs, verbose=self.verbose, shuffle=self.shuffle,
                                   **self.routed("fit__"))
            for loss in hist.history.get("loss", []):
                self.n_iter_ += 1
                self.history_.append({"epoch": self.n_iter_, "loss": float(loss)})
            return
        module, opt, crit = self.module_, self.optimizer_, self.criterion_
        n = len(X)
        module.train()
        last = self.n_iter_ + epochs
        for _ in range(epochs):
            order = self._shuffle_rng.permutation(n) if self.shuffle else np.arange(n)
            total = 0.0
            for start in range(0, n, self.batch_size):
                idx = order[start:start + self.batch_size]
                out = module(shendu.tensor(X[idx]))
                loss = crit(out, shendu.tensor(y[idx]))
                opt.zero_grad()
                loss.backward()
                opt.step()
                total += float(loss.item()) * len(idx)
            self.n_iter_ += 1
            self.history_.append({"epoch": self.n_iter_, "loss": total / n})
            if self.verbose:
                print(f"Epoch {self.n_iter_}/{last} - loss: {total / n:.4f}", flush=True)
        module.eval()

    def _forward(self, X, chunk=4096):
        """The network's raw outputs on ``X`` as a float64 array ``(N, n_outputs)``."""
        if self._is_keras:
            out = self.model_.predict(X, batch_size=max(self.batch_size, 256), verbose=0)
            out = np.asarray(out, dtype=np.float64)
            return out.reshape(len(X), -1)
        self.module_.eval()
        parts = []
        with shendu.no_grad():
            for start in range(0, len(X), chunk):
                out = self.module_(shendu.tensor(X[start:start + chunk]))
                parts.append(np.asarray(out.numpy(), dtype=np.float64).reshape(
                    out.shape[0], -1))
        return np.concatenate(parts) if parts else np.zeros((0, 0))

    # the targets a Keras-style model sees (classifiers: one-hot, as keras.wrappers does)
    def _keras_build_targets(self, y):
        return y

    def _keras_fit_targets(self, y):
        return y

    def _fit(self, X, y, partial=False, classes=None):
        """fit / partial_fit: validate, encode the targets, (re)build, train."""
        self._check_params()
        fitted = self.__sklearn_is_fitted__()
        keep = fitted and (partial or self.warm_start)
        X, y = self._validate(X, y, reset=not keep, **self._target_validation())
        y_train, n_outputs = self._encode_targets(y, reset=not keep, classes=classes)
        if not keep:
            self._initialize(X, y_train, n_outputs)
        self._train(X, y_train, 1 if partial else self.max_epochs)
        return self
