"""``NetRegressor``: a shendu network as a scikit-learn regressor."""
import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from .. import nn, optim
from ._base import NetBase


class NetRegressor(RegressorMixin, NetBase):
    """A shendu network as a scikit-learn regressor.

    ``fit(X, y)`` builds the network for ``X.shape[1]`` inputs and ``n_outputs`` outputs
    (1 for ``y`` of shape (N,), k for (N, k)) and trains it for ``max_epochs`` passes of
    mini-batch gradient descent on ``criterion(net(x), y)`` (mean squared error by
    default). ``predict`` returns the network's outputs with ``y``'s shape; ``score`` is
    R^2. Standardise ``X`` (and ``y`` when its scale is far from 1) first, for example in
    a ``Pipeline`` with ``StandardScaler`` and ``TransformedTargetRegressor``.

    The parameters are those of ``NetClassifier`` (``module``/``model``, ``criterion``,
    ``optimizer``, ``lr``, ``max_epochs``, ``batch_size``, ``shuffle``, ``warm_start``,
    ``random_state``, ``verbose`` and the routed ``module__*``, ``model__*``,
    ``criterion__*``, ``optimizer__*``, ``fit__*``), with ``criterion=nn.MSELoss``;
    ``out_features`` given to the module is the number of targets, and a build function's
    ``y`` is the targets as a float32 (N, n_outputs) array.

    Attributes
    ----------
    n_outputs_ : int, the number of targets
    n_features_in_, module_ (or model_), criterion_, optimizer_, history_, n_iter_ :
        as ``NetClassifier``

    scikit-learn's ``check_estimator`` passes every check on this class (see
    ``tests/test_wrappers.py``).

    Examples
    --------
    >>> import numpy as np
    >>> from shendu.wrappers import NetRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(-1, 1, size=(256, 1))
    >>> y = np.sin(3 * X[:, 0])
    >>> reg = NetRegressor(module__hidden=32, lr=0.01, max_epochs=150, random_state=0)
    >>> reg.fit(X, y).score(X, y) > 0.95
    True
    >>> reg.predict(X[:4]).shape
    (4,)
    """

    _default_criterion = nn.MSELoss
    #: check_estimator's expected_failed_checks for this class: none
    EXPECTED_FAILED_CHECKS = {}

    def __init__(self, module=None, *, model=None, criterion=nn.MSELoss,
                 optimizer=optim.Adam, lr=1e-3, max_epochs=10, batch_size=32, shuffle=True,
                 warm_start=False, random_state=None, verbose=0, **kwargs):
        super().__init__(module, model=model, criterion=criterion, optimizer=optimizer,
                         lr=lr, max_epochs=max_epochs, batch_size=batch_size, shuffle=shuffle,
                         warm_start=warm_start, random_state=random_state, verbose=verbose,
                         **kwargs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _target_validation(self):
        return {"y_numeric": True, "multi_output": True}

    def _encode_targets(self, y, reset, classes=None):
        y2 = np.asarray(y, dtype=np.float32).reshape(len(y), -1)
        if reset:
            self._y_ndim = np.ndim(y)
            self.n_outputs_ = y2.shape[1]
        elif y2.shape[1] != self.n_outputs_:
            raise ValueError(f"{type(self).__name__}: y has {y2.shape[1]} targets, but the "
                             f"network was built for {self.n_outputs_}")
        return y2, self.n_outputs_

    def fit(self, X, y):
        """Train on ``X`` (N, n_features) and ``y`` (N,) or (N, n_outputs); returns ``self``."""
        return self._fit(X, y)

    def partial_fit(self, X, y):
        """One epoch on ``(X, y)``, building the network on the first call."""
        return self._fit(X, y, partial=True)

    def predict(self, X):
        """Predicted targets: shape (N,) when ``y`` was 1-D, else (N, n_outputs)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        out = self._forward(X)
        if out.shape[1] != self.n_outputs_:
            raise ValueError(f"{type(self).__name__}: the network outputs {out.shape[1]} "
                             f"columns for {self.n_outputs_} targets")
        return out[:, 0] if self._y_ndim == 1 else out
