"""``keras.wrappers``: Keras 3's scikit-learn wrappers, ``SKLearnClassifier`` and
``SKLearnRegressor``, as thin forms of ``shendu.wrappers.NetClassifier`` /
``NetRegressor`` with Keras's arguments.

``SKLearnClassifier(model, warm_start=False, model_kwargs=None, fit_kwargs=None)``:
``model`` is a compiled ``keras.Model`` (cloned and recompiled at each fit) or a function
called as ``model(X=X, y=y, **model_kwargs)`` returning one; the classifier one-hot
encodes ``y`` for it, as Keras does. ``fit_kwargs`` (``epochs``, ``batch_size``,
``verbose`` ...; Keras's defaults: 1 epoch, batch 32) go to ``model.fit``, and ``fit(X, y,
**kwargs)`` takes more that win over them. Needs scikit-learn
(``pip install shendu[sklearn]``); importing this module does not.

>>> import numpy as np
>>> from shendu import keras
>>> from shendu.keras.wrappers import SKLearnClassifier
>>> def build(X, y, hidden=16):
...     model = keras.Sequential([keras.Input(shape=(X.shape[1],)),
...                               keras.layers.Dense(hidden, activation="relu"),
...                               keras.layers.Dense(y.shape[1], activation="softmax")])
...     model.compile(optimizer=keras.optimizers.Adam(0.02), loss="categorical_crossentropy")
...     return model
>>> rng = np.random.RandomState(0)
>>> X = rng.randn(120, 2)
>>> y = (X[:, 0] > 0).astype(int)
>>> clf = SKLearnClassifier(build, model_kwargs={"hidden": 8},
...                         fit_kwargs={"epochs": 30, "verbose": 0}).fit(X, y)
>>> clf.predict_proba(X[:2]).shape, clf.score(X, y) > 0.9
((2, 2), True)
"""

_NAMES = ("SKLearnClassifier", "SKLearnRegressor")  # built on first use (needs scikit-learn)
__all__ = list(_NAMES)

_FIT_ARGS = ("epochs", "batch_size", "verbose", "shuffle")

# scikit-learn's check_estimator: every check passes except these, because Keras's form
# has no random_state (two fits start from different weights, as in Keras, where
# keras.utils.set_random_seed is the way). NetClassifier(model=build_fn, random_state=0)
# passes them all.
_NOT_SEEDED = "no random_state (Keras's signature): two fits start from different weights"
EXPECTED_FAILED_CHECKS = {
    "SKLearnClassifier": {"check_classifier_data_not_an_array": _NOT_SEEDED,
                          "check_supervised_y_2d": _NOT_SEEDED,
                          "check_fit_idempotent": _NOT_SEEDED},
    "SKLearnRegressor": {"check_regressor_data_not_an_array": _NOT_SEEDED,
                         "check_supervised_y_2d": _NOT_SEEDED,
                         "check_regressors_int": _NOT_SEEDED,
                         "check_fit_idempotent": _NOT_SEEDED},
}


def _keras_form(base):
    """A subclass of ``base`` whose parameters are Keras's four."""

    class KerasForm(base):
        module = None
        criterion = None
        optimizer = None
        lr = 1e-3
        random_state = None

        def __init__(self, model, warm_start=False, model_kwargs=None, fit_kwargs=None):
            self.model = model
            self.warm_start = warm_start
            self.model_kwargs = model_kwargs
            self.fit_kwargs = fit_kwargs

        def _fit_args(self):
            args = dict(self.fit_kwargs or {})
            args.update(self.__dict__.get("_call_fit_kwargs") or {})
            return args

        @property
        def _routed(self):
            routed = {f"model__{k}": v for k, v in (self.model_kwargs or {}).items()}
            routed.update({f"fit__{k}": v for k, v in self._fit_args().items()
                           if k not in _FIT_ARGS})
            return routed

        max_epochs = property(lambda self: self._fit_args().get("epochs", 1))
        batch_size = property(lambda self: self._fit_args().get("batch_size", 32))
        verbose = property(lambda self: self._fit_args().get("verbose", "auto"))
        shuffle = property(lambda self: self._fit_args().get("shuffle", True))

        def get_params(self, deep=True):  # the four of the signature, no routed ones
            from sklearn.base import BaseEstimator
            return BaseEstimator.get_params(self, deep=deep)

        def set_params(self, **params):
            from sklearn.base import BaseEstimator
            return BaseEstimator.set_params(self, **params)

        def _check_params(self):
            if self.model is None:
                raise ValueError(f"{type(self).__name__}: model must be a compiled keras "
                                 f"Model or a function returning one, got None")
            super()._check_params()

        def fit(self, X, y, **kwargs):
            """Train on ``(X, y)``; ``kwargs`` go to ``model.fit`` over ``fit_kwargs``."""
            self._call_fit_kwargs = kwargs
            try:
                return super().fit(X, y)
            finally:
                del self._call_fit_kwargs

        def __sklearn_tags__(self):
            tags = super().__sklearn_tags__()
            tags.non_deterministic = True  # no random_state argument, as in Keras
            return tags

    return KerasForm


def __getattr__(name):
    if name in _NAMES:
        from .. import wrappers
        try:
            base = {"SKLearnClassifier": wrappers.NetClassifier,
                    "SKLearnRegressor": wrappers.NetRegressor}[name]
        except ImportError as e:
            raise ImportError(f"keras.wrappers.{name} needs scikit-learn: "
                              f"pip install shendu[sklearn]") from e
        cls = _keras_form(base)
        cls.__name__ = cls.__qualname__ = name
        cls.__module__ = __name__
        cls.EXPECTED_FAILED_CHECKS = EXPECTED_FAILED_CHECKS[name]
        cls.__doc__ = (f"Keras 3's ``keras.wrappers.{name}`` over shendu's "
                       f"``{base.__name__}``: see the module docstring.\n\n"
                       f"scikit-learn's check_estimator passes except (expected failures): "
                       + "; ".join(f"{k}: {v}" for k, v in cls.EXPECTED_FAILED_CHECKS.items()))
        globals()[name] = cls  # built once; pickling finds it by name
        return cls
    raise AttributeError(f"module 'shendu.keras.wrappers' has no attribute {name!r}")
