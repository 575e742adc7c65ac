"""``NetClassifier``: a shendu network as a scikit-learn classifier."""
import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from .. import nn, optim
from ._base import NetBase


def _loss_kind(loss):
    """How a Keras-style loss wants its targets: ``"sparse"`` (class indices),
    ``"binary"`` (a 0/1 column) or ``"onehot"``."""
    name = loss if isinstance(loss, str) else (getattr(loss, "name", None)
                                               or getattr(loss, "__name__", None)
                                               or type(loss).__name__)
    name = str(name).lower().replace("_", "")
    if "sparse" in name:
        return "sparse"
    if "binary" in name:
        return "binary"
    return "onehot"


class NetClassifier(ClassifierMixin, NetBase):
    """A shendu network as a scikit-learn classifier (``GridSearchCV``, ``Pipeline``, ``clone``).

    ``fit(X, y)`` encodes the labels (any sortable type: ints, strings ...) as indices
    ``0 .. n_classes-1`` into ``classes_``, builds the network for ``X.shape[1]`` inputs and
    ``n_classes`` outputs, and trains it for ``max_epochs`` passes of mini-batch gradient
    descent on ``criterion(net(x), class_index)``. ``predict_proba`` is the softmax of the
    network's outputs ``(N, n_classes)``; ``predict`` its arg-max mapped back to the labels.

    Parameters
    ----------
    module : None, an ``nn.Module`` class, a function returning one, or an instance
        The network. A class or function is called with ``module__*`` arguments, plus
        ``in_features`` (``X.shape[1]``) and ``out_features`` (number of classes) when its
        signature takes them and you did not give them. None: ``MLPModule`` (one hidden
        layer of ``module__hidden=64`` ReLU units). An instance is deep-copied at each fit.
    model : None, a compiled ``shendu.keras`` Model, or a build function returning one
        The Keras-style form instead of ``module`` (scikeras's ``KerasClassifier``): called
        with ``model__*`` arguments plus any of ``in_features``, ``out_features``, ``X``,
        ``y`` (one-hot, as ``keras.wrappers.SKLearnClassifier``) its signature names. It
        trains with its own ``compile`` settings: ``criterion``, ``optimizer`` and ``lr``
        apply to ``module`` only. The targets follow the loss: class indices for a
        ``sparse_*`` loss, a 0/1 column for ``binary_crossentropy``, else one-hot;
        the outputs must be probabilities (softmax, or one sigmoid unit for two classes).
    criterion : loss class, default ``nn.CrossEntropyLoss`` (takes logits)
        Built as ``criterion(**criterion__*)``.
    optimizer : optimizer class, default ``optim.Adam``
        Built as ``optimizer(net.parameters(), lr=lr, **optimizer__*)``.
    lr : float, default 1e-3
    max_epochs : int, default 10
    batch_size : int, default 32
    shuffle : bool, default True; reshuffle the samples every epoch.
    warm_start : bool, default False
        True: a second ``fit`` continues from the trained weights instead of rebuilding.
    random_state : None, int or numpy RandomState
        Seeds shendu (``shendu.manual_seed``: initial weights, dropout) and the shuffling,
        so an int makes ``fit`` repeat exactly. None: a fresh seed at every fit.
    verbose : int, default 0; 1 prints the loss after each epoch.
    **kwargs : routed arguments ``module__*``, ``model__*``, ``criterion__*``,
        ``optimizer__*`` (e.g. ``optimizer__weight_decay=1e-4``), ``fit__*`` (keras only).

    Attributes
    ----------
    classes_ : (n_classes,) the labels seen in ``fit``, sorted
    n_features_in_ : int; ``feature_names_in_`` when ``X`` was a DataFrame
    module_ : the trained ``nn.Module`` (``model_``: the keras model with ``model=``)
    criterion_, optimizer_ : the built loss and optimizer
    history_ : list of ``{"epoch": int, "loss": float}``, the mean training loss per epoch
    n_iter_ : int, the epochs trained so far

    scikit-learn's ``check_estimator`` passes every check on this class, with ``module=``
    and with ``model=`` (``tests/test_wrappers.py``); ``EXPECTED_FAILED_CHECKS`` (the
    ``expected_failed_checks`` to pass it) is empty. No ``sample_weight`` in ``fit``:
    mini-batch training cannot match sample repetition exactly, which the
    sample-weight checks ask.

    Examples
    --------
    >>> import numpy as np
    >>> from shendu.wrappers import NetClassifier
    >>> rng = np.random.RandomState(0)
    >>> X = rng.randn(200, 2)
    >>> y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    >>> clf = NetClassifier(module__hidden=16, lr=0.05, max_epochs=20, random_state=0)
    >>> clf.fit(X, y).score(X, y) > 0.95
    True
    >>> clf.classes_.tolist(), clf.predict_proba(X[:3]).shape
    (['no', 'yes'], (3, 2))
    """

    _default_criterion = nn.CrossEntropyLoss
    #: check_estimator's expected_failed_checks for this class: none
    EXPECTED_FAILED_CHECKS = {}

    def __init__(self, module=None, *, model=None, criterion=nn.CrossEntropyLoss,
                 optimizer=optim.Adam, lr=1e-3, max_epochs=10, batch_size=32, shuffle=True,
                 warm_start=False, random_state=None, verbose=0, **kwargs):
        super().__init__(module, model=model, criterion=criterion, optimizer=optimizer,
                         lr=lr, max_epochs=max_epochs, batch_size=batch_size, shuffle=shuffle,
                         warm_start=warm_start, random_state=random_state, verbose=verbose,
                         **kwargs)

    def _target_validation(self):
        return {}

    def _encode_targets(self, y, reset, classes=None):
        check_classification_targets(y)
        if reset:
            labels = np.unique(y if classes is None else np.asarray(classes))
            if len(labels) < 2:
                raise ValueError(f"{type(self).__name__} needs at least 2 classes in y to "
                                 f"train; got 1 class: {labels.tolist()}")
            self.classes_ = labels
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"{type(self).__name__}: y holds labels {unknown.tolist()} that "
                             f"are not in classes_ {self.classes_.tolist()} (pass every class "
                             f"to the first partial_fit with classes=...)")
        return np.searchsorted(self.classes_, y).astype(np.int64), len(self.classes_)

    def _one_hot(self, y):
        out = np.zeros((len(y), len(self.classes_)), dtype=np.float32)
        out[np.arange(len(y)), y] = 1
        return out

    def _keras_build_targets(self, y):
        return self._one_hot(y)

    def _keras_fit_targets(self, y):
        kind = _loss_kind(self.model_.loss)
        if kind == "sparse":
            return y
        if kind == "binary":
            if len(self.classes_) != 2:
                raise ValueError(f"{type(self).__name__}: binary_crossentropy needs 2 "
                                 f"classes, y has {len(self.classes_)}: use "
                                 f"categorical_crossentropy and a softmax output")
            return y.astype(np.float32).reshape(-1, 1)
        return self._one_hot(y)

    # ----------------------------------------------------------------- API
    def fit(self, X, y):
        """Train on ``X`` (N, n_features) and labels ``y`` (N,); returns ``self``.

        Rebuilds the network first unless ``warm_start`` is set and it is trained.
        """
        return self._fit(X, y)

    def partial_fit(self, X, y, classes=None):
        """One epoch on ``(X, y)``, building the network on the first call.

        ``classes``: every label, needed on the first call when ``y`` lacks some.
        """
        return self._fit(X, y, partial=True, classes=classes)

    def predict_proba(self, X):
        """Class probabilities ``(N, n_classes)``, columns in the order of ``classes_``."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        out = self._forward(X)
        if self._is_keras:  # the model outputs probabilities already
            if out.shape[1] == 1 and len(self.classes_) == 2:
                out = np.hstack([1 - out, out])
            if out.shape[1] != len(self.classes_):
                raise ValueError(f"{type(self).__name__}: the keras model outputs "
                                 f"{out.shape[1]} columns for {len(self.classes_)} classes")
            out = np.clip(out, 0, None)
            return out / np.maximum(out.sum(axis=1, keepdims=True), 1e-12)
        if out.shape[1] != len(self.classes_):
            raise ValueError(f"{type(self).__name__}: the network outputs {out.shape[1]} "
                             f"scores for {len(self.classes_)} classes: build it with "
                             f"out_features={len(self.classes_)}")
        out = out - out.max(axis=1, keepdims=True)  # log-sum-exp shift: no overflow in exp
        np.exp(out, out=out)
        return out / out.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X):
        """``log(predict_proba(X))``."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X):
        """The most probable label for each row of ``X``: shape (N,)."""
        proba = self.predict_proba(X)  # first: it raises NotFittedError before fit
        return self.classes_[np.argmax(proba, axis=1)]
