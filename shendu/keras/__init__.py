"""``shendu.keras``: the Keras-style API, a thin layer over shendu's PyTorch-style core.

Code written for ``tf.keras`` / Keras 3 runs with the imports changed::

    from shendu import keras            # was: from tensorflow import keras
    from shendu.keras import layers     # was: from tensorflow.keras import layers

    model = keras.Sequential([
        layers.Dense(512, activation='relu', input_shape=[11]),
        layers.Dense(512, activation='relu'),
        layers.Dense(1),
    ])
    model.compile(optimizer='adam', loss='mae')
    history = model.fit(X_train, y_train, validation_data=(X_valid, y_valid),
                        batch_size=256, epochs=10)

Modules laid out as in Keras: ``keras.layers``, ``keras.models``, ``keras.optimizers``,
``keras.losses``, ``keras.metrics``, ``keras.callbacks``, ``keras.activations``,
``keras.initializers``, ``keras.regularizers``, ``keras.utils``, ``keras.datasets``,
``keras.saving``, ``keras.backend``, ``keras.ops`` (Keras 3's backend-agnostic math) and
``keras.random``.

>>> from shendu import keras
>>> model = keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> model.predict([[1.0, 2.0]], verbose=0).shape
(1, 1)
"""
from . import (activations, backend, callbacks, datasets, initializers, layers, losses, metrics,
               models, ops, optimizers, preprocessing, random, regularizers, saving, utils,
               variables, wrappers)
from .layers import Input, InputLayer, Layer
from .models import Model, Sequential, load_model
from .utils import plot_history
from .variables import Variable

__all__ = ["Sequential", "Model", "Input", "InputLayer", "Layer", "load_model", "plot_history",
           "layers", "models", "optimizers", "losses", "metrics", "callbacks", "activations",
           "initializers", "regularizers", "utils", "datasets", "saving", "backend", "ops", "random",
           "preprocessing", "variables", "Variable", "wrappers"]


_TENSORFLOW_ONLY = {
    "GradientTape": "shendu has no GradientTape: compute the loss, call loss.backward() and read "
                    "each weight's .grad (in a custom train_step: self.optimizer.apply_gradients("
                    "zip(grads, weights)) or optimizer.apply(grads, weights))",
    "data": "shendu.keras does not read tf.data pipelines: pass NumPy arrays, a "
            "shendu.data.DataLoader, or a keras.utils.PyDataset-style Sequence to fit()",
}


def __getattr__(name):
    if name in _TENSORFLOW_ONLY:
        raise AttributeError(f"keras.{name} is TensorFlow, not Keras: {_TENSORFLOW_ONLY[name]}")
    raise AttributeError(f"module 'shendu.keras' has no attribute {name!r}")
