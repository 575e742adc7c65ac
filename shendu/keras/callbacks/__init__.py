"""Callbacks: code that ``fit``, ``evaluate`` and ``predict`` run at set points.

Write your own by subclassing ``Callback`` and overriding the hooks you need::

    class PrintLoss(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(epoch, logs["loss"])

    model.fit(x, y, epochs=3, callbacks=[PrintLoss()])

Shipped: ``History`` (added by ``fit``; what it returns), ``ProgbarLogger`` (the progress
bar), ``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``,
``LearningRateScheduler``, ``CSVLogger``, ``TerminateOnNaN``, ``LambdaCallback``, ``TensorBoard`` (needs the ``tensorboard`` extra
when it runs).

>>> from shendu.keras.callbacks import EarlyStopping
>>> EarlyStopping(min_delta=0.001, patience=20, restore_best_weights=True).patience
20
"""
from .base import Callback, CallbackList, History, ProgbarLogger
from .loggers import CSVLogger, LambdaCallback, TerminateOnNaN
from .monitoring import EarlyStopping, LearningRateScheduler, ModelCheckpoint, ReduceLROnPlateau
from .tensorboard import TensorBoard

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger", "EarlyStopping",
           "ModelCheckpoint", "ReduceLROnPlateau", "LearningRateScheduler", "CSVLogger",
           "TerminateOnNaN", "LambdaCallback", "TensorBoard"]
