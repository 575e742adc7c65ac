"""scikit-learn estimators around shendu networks: ``NetClassifier``, ``NetRegressor``.

They make a network usable wherever scikit-learn expects an estimator: ``GridSearchCV``,
``cross_val_score``, ``Pipeline``, ``clone``. The network is given as a class (or a
function) and its arguments as ``module__NAME=value``, so a grid can search them, in the
manner of skorch; a Keras-style build function works too (``model=build_fn``, as in
scikeras). See ``docs/sklearn.md``.

``import shendu.wrappers`` needs only shendu; using ``NetClassifier`` or ``NetRegressor``
needs scikit-learn (``pip install shendu[sklearn]``). ``MLPModule``, the default network,
needs only shendu.

>>> from shendu.wrappers import NetClassifier
>>> NetClassifier(module__hidden=32, lr=0.01).get_params()["module__hidden"]
32
"""
from ._module import MLPModule

__all__ = ["NetClassifier", "NetRegressor", "MLPModule"]

_LAZY = {"NetClassifier": "classifier", "NetRegressor": "regressor"}


def __getattr__(name):
    if name in _LAZY:
        import importlib
        try:
            module = importlib.import_module(f".{_LAZY[name]}", __name__)
        except ImportError as e:
            if "sklearn" not in str(e) and "scikit-learn" not in str(e):
                raise
            raise ImportError(f"shendu.wrappers.{name} needs scikit-learn: "
                              f"pip install shendu[sklearn]") from e
        return getattr(module, name)
    raise AttributeError(f"module 'shendu.wrappers' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_LAZY))
