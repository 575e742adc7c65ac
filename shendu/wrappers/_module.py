"""``MLPModule``: the default network of ``NetClassifier`` / ``NetRegressor``.

Needs only shendu (no scikit-learn), so it can be built and inspected on its own.
"""
from .. import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}


class MLPModule(nn.Module):
    """A multilayer perceptron ``in_features -> hidden... -> out_features``.

    Each hidden layer is ``Linear -> activation [-> Dropout]``; the last ``Linear``
    returns raw scores (logits for a classifier, values for a regressor).

    Parameters
    ----------
    in_features : int
        Width of the input, ``(N, in_features)``; the wrappers fill it from ``X``.
    out_features : int
        Width of the output, ``(N, out_features)``; the wrappers fill it with the number
        of classes (classifier) or of targets (regressor).
    hidden : int or sequence of int, default 64
        Hidden widths: ``64`` is one hidden layer of 64 units, ``(128, 64)`` two layers.
        ``()`` is a linear model.
    activation : ``"relu"``, ``"tanh"`` or ``"sigmoid"``, default ``"relu"``
    dropout : float in [0, 1), default 0
        Dropout after every hidden activation.

    Examples
    --------
    >>> import numpy as np, shendu
    >>> net = MLPModule(in_features=4, out_features=3, hidden=(8, 8))
    >>> net(shendu.tensor(np.zeros((5, 4), np.float32))).shape
    (5, 3)
    """

    def __init__(self, in_features, out_features, hidden=64, activation="relu", dropout=0.0):
        super().__init__()
        widths = [hidden] if isinstance(hidden, int) else list(hidden)
        if any(not isinstance(w, int) or w < 1 for w in widths):
            raise ValueError(f"MLPModule: hidden must be a positive int or a sequence of "
                             f"them, got {hidden!r}")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"MLPModule: activation must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"MLPModule: dropout must be in [0, 1), got {dropout!r}")
        layers, width = [], in_features
        for w in widths:
            layers += [nn.Linear(width, w), _ACTIVATIONS[activation]()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = w
        layers.append(nn.Linear(width, out_features))
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)
