"""Restricted Boltzmann machine with Bernoulli (0/1) visible and hidden units.

Course seed 003, "限制玻爾茲曼機" and "Contrastive Divergence": a Boltzmann machine with
no connections inside a layer, only between the visible layer ``v`` (n_features units)
and the hidden layer ``h`` (n_components units). Its energy is

    E(v, h) = -v^T W^T h - b_v^T v - b_h^T h        (W = components_, (n_components, n_features))

and because a layer has no inner connections, each layer given the other is a product
of independent units:

    P(h_j = 1 | v) = sigma(W_j . v + b_h_j)          (forward, ``transform``)
    P(v_i = 1 | h) = sigma(W[:, i] . h + b_v_i)       (reconstruction)

Summing ``h`` out gives the free energy ``F(v) = -b_v^T v - sum_j softplus(W_j . v + b_h_j)``
with ``P(v) = exp(-F(v)) / Z``, and the log-likelihood gradient

    d log P(v) / dW = P(h = 1 | v) v^T - E_model[P(h = 1 | v') v'^T]

The model's expectation is approximated by Gibbs chains (v -> h -> v' -> h' ...):
contrastive divergence CD-k starts the chain at the data and runs k steps (the course's
``w <- w + eta (x h^T - x' h'^T)`` is CD-1); persistent CD (PCD, "stochastic maximum
likelihood", Tieleman 2008; scikit-learn's ``BernoulliRBM``) keeps the chains going from
one mini-batch to the next.

The estimator follows scikit-learn's conventions (``__init__`` stores its arguments,
``fit`` returns ``self``, fitted attributes end in ``_``), so it works in a
``sklearn.pipeline.Pipeline`` and with ``sklearn.base.clone`` without inheriting from
scikit-learn, which stays optional. With ``persistent=True, k=1, momentum=0,
weight_decay=0`` and a sample count that is a multiple of ``batch_size`` it takes the same
steps as ``sklearn.neural_network.BernoulliRBM`` with the same ``random_state``.
"""
from __future__ import annotations

import inspect
import time

import numpy as np

__all__ = ["RBM"]


def _sigmoid(x, out=None):
    # via tanh: exact to rounding and no overflow warning for large |x|
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _random_state(seed):
    """A ``numpy.random.RandomState`` from None, an int or a RandomState (the legacy
    generator: scikit-learn's ``check_random_state`` hands out the same one)."""
    if seed is None or isinstance(seed, (int, np.integer)):
        return np.random.RandomState(seed)
    if isinstance(seed, np.random.RandomState):
        return seed
    raise ValueError(f"RBM: random_state must be None, an int or a numpy RandomState, "
                     f"got {seed!r}")


class RBM:
    """Bernoulli restricted Boltzmann machine trained by CD-k or persistent CD.

    Parameters
    ----------
    n_components : int, default 256; the number of hidden units
    learning_rate : float, default 0.1; step size (the gradient is averaged over a batch)
    batch_size : int, default 10; examples per mini-batch (and PCD chains)
    n_iter : int, default 10; passes (epochs) over the training data
    k : int, default 1; Gibbs steps per update (CD-k / PCD-k)
    persistent : bool, default False; False: CD-k (chains start at the batch),
        True: PCD (``batch_size`` chains carried over between updates)
    momentum : float in [0, 1), default 0; ``velocity <- momentum * velocity + gradient``
    weight_decay : float, default 0; L2 penalty ``weight_decay * W`` subtracted from the
        weight gradient (not from the biases)
    verbose : int, default 0; >0 prints pseudo-likelihood and reconstruction error per epoch
    random_state : None, int or numpy RandomState; initial weights, sampling, scoring

    Attributes
    ----------
    components_ : (n_components, n_features) W, initialised N(0, 0.01^2)
    intercept_hidden_ : (n_components,) b_h;  intercept_visible_ : (n_features,) b_v
    h_samples_ : (batch_size, n_components), the hidden state of the PCD chains
    n_features_in_ : int
    history_ : dict of per-epoch lists ``reconstruction_error`` and ``pseudo_likelihood``,
        measured on (up to) the first 2,000 training rows after every epoch

    Inputs ``X`` are (n_samples, n_features) arrays with values in [0, 1] (binary data, or
    grey levels used as probabilities, as scikit-learn does); float32 input is kept in
    float32, anything else becomes float64.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    >>> rbm = RBM(n_components=2, n_iter=20, random_state=0).fit(X)
    >>> rbm.components_.shape, rbm.transform(X).shape
    ((2, 3), (4, 2))
    >>> bool(np.allclose(rbm.free_energy(X),
    ...     -X @ rbm.intercept_visible_
    ...     - np.logaddexp(0, X @ rbm.components_.T + rbm.intercept_hidden_).sum(axis=1)))
    True
    """

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10, k=1,
                 persistent=False, momentum=0.0, weight_decay=0.0, verbose=0,
                 random_state=None):
        # scikit-learn convention: store the arguments unchanged, check them in fit
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.verbose = verbose
        self.random_state = random_state

    # ----------------------------------------------------- scikit-learn protocol
    @classmethod
    def _get_param_names(cls):
        return [p.name for p in inspect.signature(cls.__init__).parameters.values()
                if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep=True):
        """The constructor arguments as a dict (scikit-learn's estimator protocol)."""
        return {name: getattr(self, name) for name in self._get_param_names()}

    def set_params(self, **params):
        """Set constructor arguments by name; returns ``self``."""
        valid = self._get_param_names()
        for name, value in params.items():
            if name not in valid:
                raise ValueError(f"RBM.set_params: invalid parameter {name!r}; valid "
                                 f"parameters are {valid}")
            setattr(self, name, value)
        return self

    def __sklearn_tags__(self):  # only scikit-learn calls this, so it is installed then
        from sklearn.utils import InputTags, Tags, TargetTags, TransformerTags
        # sparse input is accepted (made dense)
        return Tags(estimator_type=None, target_tags=TargetTags(required=False),
                    transformer_tags=TransformerTags(preserves_dtype=["float64", "float32"]),
                    input_tags=InputTags(sparse=True))

    def __repr__(self):
        defaults = {p.name: p.default for p in
                    inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items() if v != defaults[k]]
        return f"RBM({', '.join(changed)})"

    # ------------------------------------------------------------------ checks
    def _validate_params(self):
        def integer(name, low):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < low:
                raise ValueError(f"RBM: {name} must be an integer >= {low}, got {v!r}")
        integer("n_components", 1)
        integer("batch_size", 1)
        integer("n_iter", 0)
        integer("k", 1)
        if not (isinstance(self.learning_rate, (int, float, np.floating))
                and self.learning_rate > 0):
            raise ValueError(f"RBM: learning_rate must be a number > 0, "
                             f"got {self.learning_rate!r}")
        if not 0 <= self.momentum < 1:
            raise ValueError(f"RBM: momentum must be in [0, 1), got {self.momentum!r}")
        if not self.weight_decay >= 0:
            raise ValueError(f"RBM: weight_decay must be >= 0, got {self.weight_decay!r}")

    def _check_fitted(self, what):
        if not hasattr(self, "components_"):
            raise _not_fitted_error(f"This RBM instance is not fitted yet: call fit(X) "
                                    f"before {what}()")

    def _check_X(self, X, what, reset=False):
        if hasattr(X, "toarray"):  # scipy sparse
            X = X.toarray()
        X = np.asarray(X)
        if np.iscomplexobj(X):
            raise ValueError(f"RBM.{what}: Complex data not supported, got dtype {X.dtype}")
        if X.dtype == object:
            try:
                X = X.astype(np.float64)
            except (TypeError, ValueError) as e:  # keep NumPy's reason ("float() argument...")
                raise type(e)(f"RBM.{what}: X of dtype object holds a value that is not a "
                              f"number: {e}") from None
        if not (np.issubdtype(X.dtype, np.number) or X.dtype == np.bool_):
            raise ValueError(f"RBM.{what}: X must be numeric, got dtype {X.dtype}")
        if X.dtype != np.float32:
            X = X.astype(np.float64)
        if X.ndim != 2:
            raise ValueError(f"RBM.{what}: expected a 2-D array (n_samples, n_features), got "
                             f"shape {X.shape}. Reshape your data: X.reshape(1, -1) for a "
                             f"single sample, X.reshape(-1, 1) for a single feature")
        if X.shape[0] < 1:
            raise ValueError(f"RBM.{what}: found array with 0 sample(s) (shape={X.shape}) "
                             f"while a minimum of 1 is required.")
        if X.shape[1] < 1:
            raise ValueError(f"RBM.{what}: found array with 0 feature(s) (shape={X.shape}) "
                             f"while a minimum of 1 is required.")
        if not np.isfinite(X).all():
            raise ValueError(f"RBM.{what}: X contains NaN or infinity")
        if reset:
            self.n_features_in_ = X.shape[1]
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"RBM.{what}: X has {X.shape[1]} features, but RBM is "
                             f"expecting {self.n_features_in_} features as input")
        return X

    # -------------------------------------------------------------- the layers
    def _mean_hiddens(self, v):
        p = v @ self.components_.T
        p += self.intercept_hidden_
        return _sigmoid(p, out=p)

    def _mean_visibles(self, h):
        p = h @ self.components_
        p += self.intercept_visible_
        return _sigmoid(p, out=p)

    def _sample(self, p, rng):
        return (rng.uniform(size=p.shape) < p).astype(p.dtype)

    def transform(self, X):
        """Hidden unit probabilities ``P(h = 1 | v = X)``, (n_samples, n_components)."""
        self._check_fitted("transform")
        return self._mean_hiddens(self._check_X(X, "transform"))

    def fit_transform(self, X, y=None):
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def reconstruct(self, X):
        """Mean-field reconstruction ``P(v' = 1 | h = P(h = 1 | X))``, (n_samples, n_features)."""
        self._check_fitted("reconstruct")
        return self._mean_visibles(self._mean_hiddens(self._check_X(X, "reconstruct")))

    def reconstruction_error(self, X):
        """Mean squared error per sample between ``X`` and ``reconstruct(X)``, summed over
        the features (float; what the course's CD slides minimise)."""
        self._check_fitted("reconstruction_error")
        X = self._check_X(X, "reconstruction_error")
        r = self._mean_visibles(self._mean_hiddens(X))
        return float(np.mean(np.sum((X - r) ** 2, axis=1)))

    def free_energy(self, X):
        """``F(v) = -b_v^T v - sum_j log(1 + exp(W_j . v + b_h_j))``, (n_samples,), so that
        ``P(v) = exp(-F(v)) / Z``."""
        self._check_fitted("free_energy")
        v = self._check_X(X, "free_energy")
        return self._free_energy(v)

    def _free_energy(self, v):
        # logaddexp(0, x) = log(1 + e^x) without overflow for large x
        return -(v @ self.intercept_visible_) - np.logaddexp(
            0, v @ self.components_.T + self.intercept_hidden_).sum(axis=1)

    def pseudo_likelihood(self, X, rng=None):
        """Stochastic pseudo-likelihood of binary ``X``, (n_samples,), as scikit-learn's
        ``BernoulliRBM.score_samples``: flip one random feature ``i`` of each sample to get
        ``v~`` and return ``n_features * log sigma(F(v~) - F(v))``, an estimate of
        ``sum_i log P(v_i | v_-i)``.

        ``rng``: None (default) draws the flipped features from a fresh
        ``RandomState(random_state)``, like scikit-learn, so a fixed ``random_state`` gives
        the same features every call; an int or RandomState draws from that."""
        self._check_fitted("pseudo_likelihood")
        v = self._check_X(X, "pseudo_likelihood")
        rng = _random_state(self.random_state if rng is None else rng)
        index = (np.arange(v.shape[0]), rng.randint(0, v.shape[1], v.shape[0]))
        flipped = v.copy()
        flipped[index] = 1 - flipped[index]
        fe, fe_flipped = self._free_energy(v), self._free_energy(flipped)
        # log sigma(x) = -log(1 + e^-x) = -logaddexp(0, -x)
        return -v.shape[1] * np.logaddexp(0, -(fe_flipped - fe))

    def score_samples(self, X):
        """``pseudo_likelihood(X)`` (scikit-learn's name)."""
        return self.pseudo_likelihood(X)

    def score(self, X, y=None):
        """Mean pseudo-likelihood of ``X`` (higher is better)."""
        return float(np.mean(self.pseudo_likelihood(X)))

    # ----------------------------------------------------------------- sampling
    def _rng(self):
        if not hasattr(self, "random_state_"):
            self.random_state_ = _random_state(self.random_state)
        return self.random_state_

    def gibbs(self, v):
        """One Gibbs step ``v -> h ~ P(h | v) -> v' ~ P(v | h)`` for each row of ``v``
        (n_samples, n_features); returns the sampled ``v'`` (0/1, the input dtype)."""
        self._check_fitted("gibbs")
        v = self._check_X(v, "gibbs")
        rng = self._rng()
        return self._sample(self._mean_visibles(self._sample(self._mean_hiddens(v), rng)), rng)

    def sample(self, n_samples=None, n_steps=1000, v0=None, return_probabilities=False):
        """Run Gibbs chains for ``n_steps`` steps and return their final visible states.

        Parameters
        ----------
        n_samples : int, the number of chains (needed when ``v0`` is None)
        n_steps : int, default 1000; Gibbs steps per chain
        v0 : optional (n_chains, n_features) start; default: random 0/1 with probability
            ``sigma(b_v)``, the model's visible biases alone
        return_probabilities : bool, default False; return ``P(v = 1 | h)`` of the last
            step (smoother pictures) instead of a 0/1 sample

        Returns
        -------
        (n_chains, n_features) array
        """
        self._check_fitted("sample")
        rng = self._rng()
        if v0 is None:
            if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
                raise ValueError(f"RBM.sample: give n_samples (a positive integer) or v0, "
                                 f"got n_samples={n_samples!r}")
            p0 = np.broadcast_to(_sigmoid(self.intercept_visible_.copy()),
                                 (n_samples, self.n_features_in_))
            v = self._sample(p0, rng)
        else:
            v = self._check_X(v0, "sample")
        if n_steps < 1:
            raise ValueError(f"RBM.sample: n_steps must be >= 1, got {n_steps!r}")
        for _ in range(n_steps):
            h = self._sample(self._mean_hiddens(v), rng)
            pv = self._mean_visibles(h)
            v = self._sample(pv, rng)
        return pv if return_probabilities else v

    # ----------------------------------------------------------------- training
    def _initialize(self, X, rng):
        n_features = X.shape[1]
        self.components_ = np.asarray(rng.normal(0, 0.01, (self.n_components, n_features)),
                                      dtype=X.dtype)
        self.intercept_hidden_ = np.zeros(self.n_components, dtype=X.dtype)
        self.intercept_visible_ = np.zeros(n_features, dtype=X.dtype)
        self.h_samples_ = np.zeros((self.batch_size, self.n_components), dtype=X.dtype)
        self._velocity = [np.zeros_like(self.components_), np.zeros_like(self.intercept_hidden_),
                          np.zeros_like(self.intercept_visible_)]
        self.history_ = {"reconstruction_error": [], "pseudo_likelihood": []}

    def cd_gradient(self, X, k=None, persistent=None, rng=None):
        """The CD-k (or PCD-k) estimate of the mean log-likelihood gradient over the rows of
        ``X``, without changing the weights (PCD does advance its chains).

        Returns ``(dW, db_h, db_v)`` of the shapes of ``components_``,
        ``intercept_hidden_`` and ``intercept_visible_``:

            dW = <P(h|v) v^T>_data - <P(h|v') v'^T>_chains     (and likewise for the biases)

        where ``v'`` ends ``k`` Gibbs steps started at the data (CD) or at the persistent
        chains ``h_samples_`` (PCD).
        """
        self._check_fitted("cd_gradient")
        v_pos = self._check_X(X, "cd_gradient")
        k = self.k if k is None else k
        persistent = self.persistent if persistent is None else persistent
        rng = self._rng() if rng is None else _random_state(rng)
        return self._gradient(v_pos, k, persistent, rng)

    def _gradient(self, v_pos, k, persistent, rng):
        h_pos = self._mean_hiddens(v_pos)
        # the start of the negative chain: the persistent chains, or a sample of h | data
        h = self.h_samples_ if persistent else self._sample(h_pos, rng)
        for step in range(k):
            v_neg = self._sample(self._mean_visibles(h), rng)
            h_neg = self._mean_hiddens(v_neg)
            if step < k - 1:
                h = self._sample(h_neg, rng)
        n_pos, n_neg = len(v_pos), len(v_neg)
        dW = h_pos.T @ v_pos / n_pos - h_neg.T @ v_neg / n_neg
        db_h = h_pos.mean(axis=0) - h_neg.mean(axis=0)
        db_v = v_pos.mean(axis=0) - v_neg.mean(axis=0)
        if persistent:
            self.h_samples_ = self._sample(h_neg, rng)
        return dW, db_h, db_v

    def _step(self, v_pos, rng):
        grads = self._gradient(v_pos, self.k, self.persistent, rng)
        params = (self.components_, self.intercept_hidden_, self.intercept_visible_)
        for i, (param, grad) in enumerate(zip(params, grads)):
            if i == 0 and self.weight_decay:
                grad = grad - self.weight_decay * param
            if self.momentum:
                velocity = self._velocity[i]
                velocity *= self.momentum
                velocity += grad
                grad = velocity
            param += self.learning_rate * grad

    def partial_fit(self, X, y=None):
        """One update on the mini-batch ``X`` (initialising on the first call); returns
        ``self``."""
        first = not hasattr(self, "components_")
        if first:
            self._validate_params()
        X = self._check_X(X, "partial_fit", reset=first)
        rng = self._rng()
        if first:
            self._initialize(X, rng)
        self._step(X, rng)
        return self

    def fit(self, X, y=None):
        """Train on ``X`` (n_samples, n_features) with values in [0, 1]: ``n_iter`` passes
        over consecutive mini-batches of ``batch_size`` rows (in the given order, as
        scikit-learn). ``y`` is ignored. Returns ``self``."""
        self._validate_params()
        X = self._check_X(X, "fit", reset=True)
        rng = _random_state(self.random_state)
        self.random_state_ = rng
        self._initialize(X, rng)
        monitor = X[:2000]
        for epoch in range(1, self.n_iter + 1):
            begin = time.perf_counter()
            for start in range(0, len(X), self.batch_size):
                self._step(X[start:start + self.batch_size], rng)
            # a fresh RandomState for the pseudo-likelihood: training's stream is not used
            self.history_["pseudo_likelihood"].append(
                float(np.mean(self.pseudo_likelihood(monitor, rng=epoch))))
            self.history_["reconstruction_error"].append(self.reconstruction_error(monitor))
            if self.verbose:
                print(f"[RBM] Iteration {epoch}, pseudo-likelihood = "
                      f"{self.history_['pseudo_likelihood'][-1]:.2f}, reconstruction error = "
                      f"{self.history_['reconstruction_error'][-1]:.2f}, time = "
                      f"{time.perf_counter() - begin:.2f}s")
        return self

    # ------------------------------------------------------------ save and load
    def save(self, path):
        """Save the parameters and fitted weights with ``shendu.save`` (safetensors + JSON,
        no pickle). A RandomState ``random_state`` is stored as None."""
        from ..io import save
        params = self.get_params()
        if isinstance(params["random_state"], np.random.RandomState):
            params["random_state"] = None
        state = {"class": "RBM", "params": params}
        if hasattr(self, "components_"):
            state["fitted"] = {name: getattr(self, name) for name in _FITTED}
            state["n_features_in_"] = int(self.n_features_in_)
        save(state, path)

    @classmethod
    def load(cls, path):
        """An RBM from a file written by ``save``."""
        from ..io import load
        state = load(path, as_tensors=False)
        if not isinstance(state, dict) or state.get("class") != "RBM":
            raise ValueError(f"RBM.load: {path} does not hold an RBM saved by RBM.save")
        rbm = cls(**state["params"])
        if "fitted" in state:
            for name in _FITTED:
                setattr(rbm, name, np.array(state["fitted"][name]))
            rbm.n_features_in_ = state["n_features_in_"]
            rbm._velocity = [np.zeros_like(rbm.components_),
                             np.zeros_like(rbm.intercept_hidden_),
                             np.zeros_like(rbm.intercept_visible_)]
            rbm.history_ = {"reconstruction_error": [], "pseudo_likelihood": []}
        return rbm


_FITTED = ("components_", "intercept_hidden_", "intercept_visible_", "h_samples_")


def _not_fitted_error(message):
    """scikit-learn's NotFittedError when it is installed (it is a ValueError and an
    AttributeError), else an AttributeError."""
    try:
        from sklearn.exceptions import NotFittedError
    except ImportError:
        return AttributeError(message)
    return NotFittedError(message)
