"""``keras.metrics``: stateful metrics computed on arrays (no autograd, no graph).

A metric accumulates over batches: ``update_state(y_true, y_pred, sample_weight=None)``,
``result()`` (a float), ``reset_state()``. ``fit`` and ``evaluate`` reset them at the start
of each epoch / pass, so the value shown is the epoch's, weighted by samples.

Names accepted by ``compile(metrics=[...])``: ``"accuracy"`` / ``"acc"`` (chosen like Keras
from the shapes: binary when the model outputs one column, sparse categorical when the
labels are integers with one column less, categorical otherwise), ``"binary_accuracy"``,
``"categorical_accuracy"``, ``"sparse_categorical_accuracy"``, ``"top_k_categorical_accuracy"``,
``"mae"``, ``"mse"``, ``"rmse"``, ``"mape"``, ``"AUC"``, ``"Precision"``, ``"Recall"``, the
cross-entropies, and any function ``fn(y_true, y_pred)`` returning per-sample values.

``AUC`` follows Keras: confusion counts at ``num_thresholds=200`` evenly spaced thresholds
(plus one just below 0 and one just above 1), a Riemann sum with
``summation_method="interpolation"``. With 200 thresholds it agrees with the exact ROC AUC
(``sklearn.metrics.roc_auc_score``) to about 1e-3 on typical data.

>>> import numpy as np
>>> from shendu.keras import metrics
>>> m = metrics.BinaryAccuracy()
>>> m.update_state(np.array([1, 1, 0, 0]), np.array([0.98, 0.7, 0.6, 0.1]))
>>> m.result()
0.75
"""
from .base import __all__ as _base_names
from .base import (Accuracy, BinaryAccuracy, CategoricalAccuracy, Mean, MeanAbsoluteError,
                   MeanAbsolutePercentageError, MeanMetricWrapper, MeanSquaredError, Metric,
                   RootMeanSquaredError, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
                   Sum, TopKCategoricalAccuracy, BinaryCrossentropy, CategoricalCrossentropy,
                   SparseCategoricalCrossentropy, accuracy, binary_accuracy,
                   categorical_accuracy, sparse_categorical_accuracy,
                   sparse_top_k_categorical_accuracy, top_k_categorical_accuracy)
from .confusion import (AUC, FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives,
                        TruePositives)

__all__ = list(_base_names) + ["AUC", "Precision", "Recall", "TruePositives", "FalsePositives",
                               "TrueNegatives", "FalseNegatives", "get", "serialize",
                               "deserialize", "resolve_accuracy"]


_CLASSES = {c.__name__: c for c in (
    Mean, Sum, Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, RootMeanSquaredError, MeanAbsolutePercentageError, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, AUC, Precision, Recall,
    TruePositives, FalsePositives, TrueNegatives, FalseNegatives)}
_BY_NAME = {
    "binary_accuracy": BinaryAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "rmse": RootMeanSquaredError, "root_mean_squared_error": RootMeanSquaredError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "auc": AUC, "precision": Precision, "recall": Recall,
    "true_positives": TruePositives, "false_positives": FalsePositives,
    "true_negatives": TrueNegatives, "false_negatives": FalseNegatives,
}
_FUNCTIONS = {binary_accuracy: BinaryAccuracy, categorical_accuracy: CategoricalAccuracy,
              sparse_categorical_accuracy: SparseCategoricalAccuracy,
              top_k_categorical_accuracy: TopKCategoricalAccuracy,
              sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
              accuracy: Accuracy}


def resolve_accuracy(y_true_shape, y_pred_shape, name="accuracy"):
    """Keras's choice for ``"accuracy"``: binary, sparse categorical or categorical."""
    if len(y_pred_shape) and y_pred_shape[-1] == 1 or len(y_pred_shape) <= 1:
        return BinaryAccuracy(name=name)
    if len(y_true_shape) < len(y_pred_shape) or (len(y_true_shape) and y_true_shape[-1] == 1):
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


def get(identifier, name=None):
    """A Metric from a name, a class, a Metric, or a function of (y_true, y_pred).

    ``"accuracy"`` needs the data's shapes, so ``compile`` resolves it itself (see
    ``resolve_accuracy``); here it gives the plain ``Accuracy``.
    """
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        key = identifier if identifier in _BY_NAME else identifier.lower()
        cls = _BY_NAME.get(key) or _CLASSES.get(identifier)
        if cls is None and key in ("accuracy", "acc"):
            cls = Accuracy
        if cls is None:
            raise ValueError(f"unknown metric {identifier!r}; shendu.keras knows: accuracy, "
                             f"{', '.join(sorted(_BY_NAME))} (or pass a function or a "
                             "keras.metrics.Metric)")
        return cls(name=name or identifier)
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        if identifier in _FUNCTIONS:
            return _FUNCTIONS[identifier](name=name or identifier.__name__)
        return MeanMetricWrapper(identifier, name=name or getattr(identifier, "__name__", None))
    raise TypeError(f"metric must be a name, a keras.metrics.Metric or a function, got "
                    f"{type(identifier).__name__}")


def serialize(metric):
    if type(metric).__name__ in _CLASSES and type(metric) is _CLASSES[type(metric).__name__]:
        return {"class_name": type(metric).__name__, "config": metric.get_config()}
    return None


def deserialize(config):
    if not isinstance(config, dict) or config.get("class_name") not in _CLASSES:
        raise ValueError(f"unknown metric in config: {config!r}")
    return _CLASSES[config["class_name"]].from_config(config.get("config") or {})
