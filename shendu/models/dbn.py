"""Deep belief network: a stack of RBMs trained greedily, layer by layer (Hinton et al., 2006).

Course seed 003, "Deep Belief Networks": "A fast learning algorithm for deep belief
nets" trains one RBM on the data, then a second RBM on the hidden activations of the
first, and so on, each layer's output being the next one's input. The training is
unsupervised (no labels). The weights then initialise a feed-forward network
(Linear + Sigmoid per RBM, the RBM's ``P(h = 1 | v)``), which a small amount of labelled
data fine-tunes with backpropagation: a good starting point for gradient descent
instead of a random one.

Generation runs the other way: Gibbs sampling in the top RBM (an undirected
associative memory), then one down pass through the lower layers, each drawing its
visible units from ``P(v | h)`` (the directed part of the DBN).

    pre-training   X --RBM 1--> h1 --RBM 2--> h2 ...        ``fit``
    classifier     Linear(W1) Sigmoid Linear(W2) Sigmoid ... Linear(n_classes)  ``to_module``
    generation     Gibbs in the top RBM, then P(h1 | h2), P(v | h1)            ``generate``
"""
from __future__ import annotations

import numpy as np

from .rbm import RBM

__all__ = ["DBN", "train_classifier", "predict_proba"]


class DBN:
    """A deep belief network: RBMs of ``hidden_layer_sizes`` stacked on the input.

    Parameters
    ----------
    hidden_layer_sizes : sequence of int, default (500, 500); hidden units of each RBM
    learning_rate, batch_size, n_iter, k, persistent, momentum, weight_decay : the
        training settings of every RBM (see ``shendu.models.rbm.RBM``); ``n_iter`` is the
        number of epochs per layer
    verbose : int, default 0; >0 prints progress per layer and epoch
    random_state : None or int; each layer's RBM gets its own seed drawn from it

    Attributes
    ----------
    rbms_ : list of fitted RBM, bottom first
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = (rng.random((64, 12)) < 0.3).astype(float)
    >>> dbn = DBN((8, 4), n_iter=2, random_state=0).fit(X)
    >>> [rbm.components_.shape for rbm in dbn.rbms_]
    [(8, 12), (4, 8)]
    >>> dbn.transform(X).shape
    (64, 4)
    >>> net = dbn.to_module(n_classes=3)
    >>> [type(m).__name__ for m in net]
    ['Linear', 'Sigmoid', 'Linear', 'Sigmoid', 'Linear']
    >>> dbn.generate(5, n_gibbs=10).shape
    (5, 12)
    """

    def __init__(self, hidden_layer_sizes=(500, 500), *, learning_rate=0.1, batch_size=10,
                 n_iter=10, k=1, persistent=False, momentum=0.0, weight_decay=0.0, verbose=0,
                 random_state=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.verbose = verbose
        self.random_state = random_state

    _RBM_PARAMS = ("learning_rate", "batch_size", "n_iter", "k", "persistent", "momentum",
                   "weight_decay")

    def get_params(self, deep=True):
        """The constructor arguments (scikit-learn's estimator protocol)."""
        return {name: getattr(self, name) for name in
                ("hidden_layer_sizes", *self._RBM_PARAMS, "verbose", "random_state")}

    def set_params(self, **params):
        """Set constructor arguments by name; returns ``self``."""
        valid = list(self.get_params())
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"DBN.set_params: invalid parameter {name!r}; valid "
                                 f"parameters are {valid}")
            setattr(self, name, value)
        return self

    def __repr__(self):
        return f"DBN(hidden_layer_sizes={tuple(self.hidden_layer_sizes)!r})"

    def _sizes(self):
        sizes = tuple(self.hidden_layer_sizes)
        if not sizes or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                and s >= 1 for s in sizes):
            raise ValueError(f"DBN: hidden_layer_sizes must be a non-empty sequence of positive "
                             f"integers, got {self.hidden_layer_sizes!r}")
        return sizes

    def _check_fitted(self, what):
        if not hasattr(self, "rbms_"):
            raise AttributeError(f"This DBN instance is not fitted yet: call fit(X) before "
                                 f"{what}()")

    # -------------------------------------------------------------- pre-training
    def fit(self, X, y=None):
        """Greedy layer-wise pre-training on ``X`` (n_samples, n_features) in [0, 1]: RBM 1
        on ``X``, RBM 2 on RBM 1's ``transform`` (hidden probabilities), and so on.
        ``y`` is ignored. Returns ``self``."""
        sizes = self._sizes()
        seeds = np.random.RandomState(self.random_state).randint(0, 2 ** 31 - 1, len(sizes))
        self.rbms_ = []
        H = X
        for layer, (size, seed) in enumerate(zip(sizes, seeds), start=1):
            rbm = RBM(size, random_state=int(seed), verbose=max(0, self.verbose - 1),
                      **{name: getattr(self, name) for name in self._RBM_PARAMS})
            if self.verbose:
                print(f"[DBN] layer {layer}/{len(sizes)}: RBM {np.shape(H)[1]} -> {size}")
            H = rbm.fit_transform(H)
            if layer == 1:
                self.n_features_in_ = rbm.n_features_in_
            self.rbms_.append(rbm)
        return self

    def transform(self, X):
        """The top layer's hidden probabilities (n_samples, hidden_layer_sizes[-1]): ``X``
        passed up through every RBM's ``P(h = 1 | v)``."""
        self._check_fitted("transform")
        H = X
        for rbm in self.rbms_:
            H = rbm.transform(H)
        return H

    # ------------------------------------------------------------- generation
    def generate(self, n_samples, n_gibbs=1000, v0=None, return_probabilities=True,
                 rng=None):
        """Draw ``n_samples`` visible vectors from the DBN.

        Gibbs sampling runs ``n_gibbs`` steps in the top RBM, started from the top-level
        representation of ``v0`` (n_samples, n_features) when given (e.g. data, for
        samples near it), else from random binary states; then one down pass: each lower
        layer's state is sampled from ``P(v | h)`` of its RBM, and the bottom layer returns
        ``P(v = 1 | h_1)`` (``return_probabilities=True``, the default) or a 0/1 sample.
        ``rng``: None (default) uses the top RBM's generator, else an int seed.
        """
        self._check_fitted("generate")
        top = self.rbms_[-1]
        if rng is not None:
            top.random_state_ = np.random.RandomState(rng)
        random = top._rng()
        only_top = len(self.rbms_) == 1
        start = None
        if v0 is not None:
            start = np.asarray(v0)
            if n_samples is not None and n_samples != len(start):
                raise ValueError(f"DBN.generate: n_samples={n_samples} but v0 has "
                                 f"{len(start)} rows")
            for rbm in self.rbms_[:-1]:  # up to the top RBM's visible layer
                start = rbm._sample(rbm.transform(start), random)
        # the state of the top RBM's visible layer (the layer below the top)
        h = top.sample(n_samples, n_steps=n_gibbs, v0=start,
                       return_probabilities=only_top and return_probabilities)
        lower = self.rbms_[:-1][::-1]
        for i, rbm in enumerate(lower):  # the down pass, one directed layer at a time
            p = rbm._mean_visibles(h)
            h = p if i == len(lower) - 1 and return_probabilities else rbm._sample(p, random)
        return h

    # ------------------------------------------------------------- classifier
    def to_module(self, n_classes=None, pretrained=True, dtype=None):
        """A ``shendu.nn.Sequential`` of ``Linear + Sigmoid`` per RBM, initialised from the
        RBMs (``weight = components_``, ``bias = intercept_hidden_``), followed by a
        ``Linear(hidden_layer_sizes[-1], n_classes)`` output layer with PyTorch's default
        initialisation when ``n_classes`` is given. The output gives logits: the softmax
        is in the loss (``F.cross_entropy``) and in ``predict_proba``.

        ``pretrained=False`` returns the same architecture with every layer randomly
        initialised (the baseline the pre-training is compared with); it needs no fit
        except to know the input size. ``dtype``: the parameters' dtype (default float32).
        """
        from .. import nn, no_grad
        sizes = self._sizes()
        if pretrained:
            self._check_fitted("to_module")
        n_in = getattr(self, "n_features_in_", None)
        if n_in is None:
            raise AttributeError("DBN.to_module: the input size is unknown; call fit(X) first")
        layers = []
        for i, size in enumerate(sizes):
            linear = nn.Linear(n_in, size, dtype=dtype)
            if pretrained:
                rbm = self.rbms_[i]
                with no_grad():
                    linear.weight.copy_(rbm.components_.astype(linear.weight.dtype))
                    linear.bias.copy_(rbm.intercept_hidden_.astype(linear.bias.dtype))
            layers += [linear, nn.Sigmoid()]
            n_in = size
        if n_classes is not None:
            if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
                raise ValueError(f"DBN.to_module: n_classes must be an integer >= 2, "
                                 f"got {n_classes!r}")
            layers.append(nn.Linear(n_in, int(n_classes), dtype=dtype))
        return nn.Sequential(*layers)

    def fine_tune(self, X, y, n_classes=None, epochs=10, lr=0.1, batch_size=32, momentum=0.9,
                  seed=0, X_val=None, y_val=None, verbose=0):
        """Build ``to_module(n_classes)`` and train it on labelled ``(X, y)`` with
        backpropagation (``train_classifier``). Stores it as ``classifier_`` and returns
        the training history dict."""
        y = np.asarray(y)
        if n_classes is None:
            n_classes = int(y.max()) + 1
        from .. import manual_seed
        manual_seed(seed)
        self.classifier_ = self.to_module(n_classes)
        return train_classifier(self.classifier_, X, y, epochs=epochs, lr=lr,
                                batch_size=batch_size, momentum=momentum, seed=seed,
                                X_val=X_val, y_val=y_val, verbose=verbose)

    def predict_proba(self, X):
        """Class probabilities (n_samples, n_classes) of the fine-tuned ``classifier_``."""
        if not hasattr(self, "classifier_"):
            raise AttributeError("DBN.predict_proba: call fine_tune(X, y) first")
        return predict_proba(self.classifier_, X)

    def predict(self, X):
        """Predicted classes (n_samples,) of the fine-tuned ``classifier_``."""
        return self.predict_proba(X).argmax(axis=1)

    # ------------------------------------------------------------ save and load
    def save(self, path):
        """Save the settings and every layer's weights with ``shendu.save`` (no pickle);
        the fine-tuned classifier is saved separately (``shendu.save(dbn.classifier_
        .state_dict(), path)``)."""
        from ..io import save
        params = self.get_params()
        params["hidden_layer_sizes"] = [int(s) for s in params["hidden_layer_sizes"]]
        state = {"class": "DBN", "params": params}
        if hasattr(self, "rbms_"):
            state["layers"] = [{name: getattr(rbm, name) for name in
                                ("components_", "intercept_hidden_", "intercept_visible_")}
                               for rbm in self.rbms_]
        save(state, path)

    @classmethod
    def load(cls, path):
        """A DBN from a file written by ``save``."""
        from ..io import load
        state = load(path, as_tensors=False)
        if not isinstance(state, dict) or state.get("class") != "DBN":
            raise ValueError(f"DBN.load: {path} does not hold a DBN saved by DBN.save")
        params = dict(state["params"])
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        dbn = cls(**params)
        if "layers" in state:
            seeds = np.random.RandomState(dbn.random_state).randint(
                0, 2 ** 31 - 1, len(state["layers"]))
            dbn.rbms_ = []
            for size, seed, layer in zip(params["hidden_layer_sizes"], seeds, state["layers"]):
                rbm = RBM(size, random_state=int(seed),
                          **{name: params[name] for name in cls._RBM_PARAMS})
                for name, value in layer.items():
                    setattr(rbm, name, np.array(value))
                rbm.n_features_in_ = rbm.components_.shape[1]
                rbm.h_samples_ = np.zeros((rbm.batch_size, size), rbm.components_.dtype)
                dbn.rbms_.append(rbm)
            dbn.n_features_in_ = dbn.rbms_[0].n_features_in_
        return dbn


def predict_proba(module, X, batch_size=1024):
    """Softmax of ``module``'s logits on ``X`` (n_samples, n_features), as NumPy."""
    from .. import no_grad, tensor
    module.eval()
    X = np.asarray(X)
    dtype = next(iter(module.parameters()))._data.dtype
    out = []
    with no_grad():
        for start in range(0, len(X), batch_size):
            logits = module(tensor(X[start:start + batch_size].astype(dtype))).numpy()
            logits = logits - logits.max(axis=1, keepdims=True)  # stable softmax
            p = np.exp(logits)
            out.append(p / p.sum(axis=1, keepdims=True))
    return np.concatenate(out)


def train_classifier(module, X, y, epochs=10, lr=0.1, batch_size=32, momentum=0.9, seed=0,
                     X_val=None, y_val=None, verbose=0):
    """Train a classifier ``module`` (logits out) on ``(X, y)`` with softmax cross-entropy
    and SGD with momentum, shuffling every epoch (seeded by ``seed``).

    Returns a history dict with per-epoch ``loss`` (the mean training loss),
    ``accuracy`` (training accuracy during the epoch) and, with ``X_val``/``y_val``,
    ``val_accuracy``.
    """
    import shendu.nn.functional as F
    from .. import optim, tensor

    X = np.asarray(X)
    y = np.asarray(y).astype(np.int64)
    if X.ndim != 2 or y.shape != (len(X),):
        raise ValueError(f"train_classifier: expected X (n_samples, n_features) and y "
                         f"(n_samples,), got {X.shape} and {y.shape}")
    dtype = next(iter(module.parameters()))._data.dtype
    X = X.astype(dtype)
    opt = optim.SGD(module.parameters(), lr=lr, momentum=momentum)
    order_rng = np.random.default_rng(seed)
    history = {"loss": [], "accuracy": []}
    if X_val is not None:
        history["val_accuracy"] = []
    for epoch in range(1, epochs + 1):
        module.train()
        total = correct = 0.0
        for idx in np.array_split(order_rng.permutation(len(X)),
                                  max(1, int(np.ceil(len(X) / batch_size)))):
            logits = module(tensor(X[idx]))
            target = tensor(y[idx])
            loss = F.cross_entropy(logits, target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            correct += float((logits.detach().numpy().argmax(axis=1) == y[idx]).sum())
        history["loss"].append(total / len(X))
        history["accuracy"].append(correct / len(X))
        if X_val is not None:
            acc = float(np.mean(predict_proba(module, X_val).argmax(axis=1) == np.asarray(y_val)))
            history["val_accuracy"].append(acc)
        if verbose:
            extra = f" - val_accuracy: {history['val_accuracy'][-1]:.4f}" if X_val is not None \
                else ""
            print(f"Epoch {epoch}/{epochs} - loss: {history['loss'][-1]:.4f} - accuracy: "
                  f"{history['accuracy'][-1]:.4f}{extra}")
    return history
