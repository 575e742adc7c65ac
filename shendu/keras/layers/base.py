"""``Layer``, the base of every Keras-style layer and model (``Input`` / ``InputLayer``:
``input_layer.py``; the symbolic ``KerasTensor``: ``keras_tensor.py``).

A Keras layer is a ``shendu.nn.Module`` with Keras's habits:

* it creates its weights in ``build(input_shape)`` on the first call, so the input size
  is inferred (``Dense(64)`` needs no input size);
* ``call(inputs, training=None)`` does the work (``forward`` is the same method, so a
  Keras layer is also an ordinary module inside PyTorch-style code);
* ``weights``, ``trainable_weights``, ``get_weights()`` / ``set_weights()`` (NumPy arrays,
  Keras's layout), ``trainable`` (freeze with ``layer.trainable = False``), a unique
  ``name`` (``dense``, ``dense_1`` ...), ``get_config()`` for saving.

Calling a layer on a ``keras.Input(...)`` (a symbolic ``KerasTensor``) builds it and returns
another symbolic tensor: that is how functional models are described.

Subclass it the Keras way::

    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return inputs * self.w
"""
from __future__ import annotations

import collections
import inspect
import re
import weakref

import numpy as np

from ... import backend
from ...autograd import grad_mode
from ...autograd.tensor import Tensor
from ...nn.module import Module
from ...nn.container import ModuleList
from ...nn.parameter import Parameter
from .. import initializers, regularizers
from ..metrics.base import Metric
from ..variables import NonTrainableVariable, Variable
from .layer_config import ConfigMixin
from .keras_tensor import KerasTensor, _flat, _is_symbolic, _map, _shape_str  # noqa: F401

__all__ = ["Layer", "unique_name", "clear_session", "to_tensor", "get_keras_mask",
           "set_keras_mask"]

_NAME_COUNTS = collections.defaultdict(int)

# ``add_loss``: losses added during a call are dropped when the outermost layer call
# starts again (Keras's rule). ``_CALLS[0]`` is the depth of nested layer calls;
# ``_CALLS[1]`` whether any layer ever added a loss (else nothing needs resetting).
_CALLS = [0, False]

# Keras masks (``Embedding(mask_zero=True)``, ``Masking``) travel with the tensors they
# describe, as Keras's ``_keras_mask`` attribute does. Tensors have ``__slots__`` and an
# element-wise ``==`` (so no WeakKeyDictionary): the table is keyed by ``id`` and each
# entry is dropped by a weakref callback when its tensor dies.
_MASKS = {}


def get_keras_mask(x):
    """The boolean mask ``(batch, time)`` attached to ``x`` by a masking layer, or None."""
    entry = _MASKS.get(id(x))
    if entry is None or entry[0]() is not x:
        return None
    return entry[1]


def set_keras_mask(x, mask):
    """Attach ``mask`` (a boolean Tensor, or None to detach) to the Tensor ``x``."""
    if not isinstance(x, Tensor):
        return
    key = id(x)
    if mask is None:
        _MASKS.pop(key, None)
        return
    if not isinstance(mask, Tensor):
        mask = Tensor._make(x.xp.asarray(np.asarray(mask)).astype(bool))
    _MASKS[key] = (weakref.ref(x, lambda _, k=key: _MASKS.pop(k, None)), mask)


def _snake(name):
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()  # Keras: Conv2D -> conv2d


def unique_name(base):
    """``dense``, then ``dense_1``, ``dense_2`` ... (reset by ``clear_session``)."""
    n = _NAME_COUNTS[base]
    _NAME_COUNTS[base] += 1
    return base if n == 0 else f"{base}_{n}"


def clear_session():
    """Reset the automatic layer names (``dense``, ``dense_1`` ... start again)."""
    _NAME_COUNTS.clear()


def to_tensor(x, dtype=None, float_dtype=None):
    """A Tensor from a Tensor, array, DataFrame (``.to_numpy()``) or list; floating data
    becomes ``float_dtype`` (a layer's dtype), by default the default float dtype
    (float32), as Keras casts floating inputs to the layer's compute dtype."""
    if isinstance(x, Tensor):
        return x
    if hasattr(x, "to_numpy") and not hasattr(x, "__array_interface__"):
        x = x.to_numpy()
    if not (hasattr(x, "shape") and hasattr(x, "dtype")):
        x = np.asarray(x)
    if dtype is not None:
        x = x.astype(dtype, copy=False)
    elif x.dtype.kind in "fb":
        target = np.dtype(float_dtype or backend.get_default_dtype())
        if x.dtype != target:
            x = x.astype(target)
    return Tensor._make(x)


# ------------------------------------------------------------------ the base class
class Layer(ConfigMixin, Module):
    """Base class of Keras-style layers (see the module docstring).

    Masks (Keras's): a layer whose ``call`` takes ``mask`` receives the mask attached to
    its inputs by a masking layer (``Embedding(mask_zero=True)``, ``Masking``); its
    output's mask is ``compute_mask(inputs, mask)``, by default the input's mask when
    ``supports_masking`` is True and None otherwise.

    Parameters
    ----------
    trainable : bool, default True
    name : str, optional (default: the class name in snake case, made unique)
    dtype : weights' dtype (default float32)
    input_shape : tuple, optional
        The shape of one sample (no batch), for the first layer of a Sequential model:
        ``Dense(4, input_shape=[2])``. ``input_dim=n`` means ``input_shape=(n,)``.
    """

    def __new__(cls, *args, **kwargs):
        obj = super().__new__(cls)
        # the constructor's arguments, for get_config() of user-defined layers
        object.__setattr__(obj, "_init_args", (args, dict(kwargs)))
        return obj

    def __init__(self, trainable=True, name=None, dtype=None, input_shape=None,
                 input_dim=None, batch_input_shape=None, batch_size=None, autocast=True,
                 **kwargs):
        super().__init__()
        kwargs.pop("dynamic", None)
        if kwargs.pop("weights", None) is not None:
            raise NotImplementedError(f"{type(self).__name__}: the weights= argument is not "
                                      "supported; call layer.set_weights(...) once built")
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword arguments "
                            f"{sorted(kwargs)}")
        object.__setattr__(self, "training", False)  # Keras: inference unless told
        if name is not None and (not isinstance(name, str) or not name or "/" in name
                                 or "." in name):
            raise ValueError(f"{type(self).__name__}: invalid layer name {name!r} (a non-empty "
                             "string without '/' or '.')")
        self.name = name or unique_name(_snake(type(self).__name__))
        self._trainable = bool(trainable)
        self.built = False
        self.dtype = str(backend.to_dtype(dtype))
        self._weight_refs = []       # (keras name, owner module, "param"|"buffer", key)
        self._internal = set()       # wrapped nn modules whose weights are listed above
        self._regularized = []       # (regularizer, keras weight name)
        self._build_input_shape = None
        self._build_output_shape = None
        if batch_input_shape is not None:
            self._batch_input_shape = tuple(batch_input_shape)
        elif input_shape is not None:
            self._batch_input_shape = (batch_size,) + tuple(
                None if s is None else int(s) for s in _as_tuple(input_shape))
        elif input_dim is not None:
            self._batch_input_shape = (batch_size, int(input_dim))
        else:
            self._batch_input_shape = None
        try:
            params = inspect.signature(self.call).parameters
        except (TypeError, ValueError):  # pragma: no cover
            params = {}
        self._call_takes_training = "training" in params
        self._call_takes_mask = "mask" in params

    # ---------------------------------------------------------------- attributes
    def __setattr__(self, name, value):
        # Keras tracks Metric objects assigned to attributes (model.metrics lists them)
        if isinstance(value, Metric):
            tracked = self.__dict__.setdefault("_tracked_metrics", [])
            old = self.__dict__.get(name)
            if old is not None and any(m is old for m in tracked):
                tracked.remove(old)
            tracked.append(value)
        # Keras tracks lists of layers assigned to attributes: register them as modules
        if isinstance(value, (list, tuple)) and value and \
                all(isinstance(v, Module) for v in value) and "_modules" in self.__dict__:
            value = ModuleList(list(value))
        super().__setattr__(name, value)

    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        value = bool(value)
        self._trainable = value
        for _, t in self._own_weights():
            if isinstance(t, Parameter):
                t.requires_grad = value
        for child in self._children_modules():
            if isinstance(child, Layer):
                child.trainable = value
            else:
                for p in child.parameters():
                    p.requires_grad = value

    # ---------------------------------------------------------------- weights
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation=None,
                   name=None, **kwargs):
        """Create a weight, register it and return it: a ``keras.Variable`` (a
        ``Parameter`` with ``.value``, ``.assign``, ``.assign_add``; see
        ``shendu.keras.variables``), non-learned when ``trainable=False``. ``initializer`` is a name (``"glorot_uniform"``,
        ``"zeros"`` ...), an Initializer or a function ``f(shape, dtype)``."""
        if isinstance(shape, str):  # Keras 2 order: add_weight(name, shape=...)
            name, shape = shape, kwargs.pop("shape", None)
        if kwargs:
            raise TypeError(f"add_weight got unexpected arguments {sorted(kwargs)}")
        if constraint is not None:
            raise NotImplementedError("weight constraints are not supported in shendu.keras")
        shape = tuple(int(s) for s in _as_tuple(shape if shape is not None else ()))
        dtype = backend.to_dtype(dtype or self.dtype)
        init = initializers.get(initializer if initializer is not None else
                                ("glorot_uniform" if dtype.kind == "f" else "zeros"))
        value = np.asarray(init(shape, dtype), dtype=dtype)
        key = name or "weight"
        if self.__dict__.get(key, 0) is None:  # a placeholder set in __init__ (self.kernel = None)
            del self.__dict__[key]
        if key in self._parameters or key in self._buffers or key in self._modules \
                or key in self.__dict__:
            i = 1
            while f"{key}_{i}" in self._parameters or f"{key}_{i}" in self._buffers:
                i += 1
            key = f"{key}_{i}"
        if trainable:
            t = Variable(value, name or key, self.name,
                         requires_grad=self._trainable and dtype.kind == "f")
            self.register_parameter(key, t)
            kind = "param"
        else:
            t = NonTrainableVariable(value, name or key, self.name)
            self.register_buffer(key, t)
            kind = "buffer"
        self._weight_refs.append((name or key, self, kind, key))
        reg = regularizers.get(regularizer)
        if reg is not None:
            self._regularized.append((reg, name or key))
        return t

    def _track(self, name, owner, key, kind="param"):
        """List a weight of a wrapped ``nn`` module under a Keras name."""
        self._weight_refs.append((name, owner, kind, key))

    def _own_weights(self):
        out = []
        for name, owner, kind, key in self._weight_refs:
            t = (owner._parameters if kind == "param" else owner._buffers).get(key)
            if t is not None:
                out.append((name, t))
        return out

    def _children_modules(self):
        return [m for k, m in self._modules.items() if m is not None and k not in self._internal]

    def _named_weights(self, prefix=None):
        """``[(path, tensor)]``: Keras paths like ``dense_1/kernel``, own weights first."""
        prefix = self.name if prefix is None else prefix
        out = [(f"{prefix}/{n}", t) for n, t in self._own_weights()]
        for key, child in self._modules.items():
            if child is None or key in self._internal:
                continue
            if isinstance(child, Layer):
                out += child._named_weights(f"{prefix}/{child.name}")
            else:
                out += _module_weights(child, f"{prefix}/{key}")
        seen, unique = set(), []
        for n, t in out:
            if id(t) not in seen:
                seen.add(id(t))
                unique.append((n, t))
        return unique

    @property
    def weights(self):
        """All weights (trainable first within each layer, then e.g. BatchNorm's moving
        statistics), as Tensors."""
        return [t for _, t in self._named_weights()]

    variables = weights

    @property
    def trainable_weights(self):
        return [t for t in self.weights if isinstance(t, Parameter) and t.requires_grad]

    trainable_variables = trainable_weights

    @property
    def non_trainable_weights(self):
        return [t for t in self.weights if not (isinstance(t, Parameter) and t.requires_grad)]

    non_trainable_variables = non_trainable_weights

    def get_weights(self):
        """The weights as a list of NumPy arrays (copies)."""
        return [np.array(t.__array__(), copy=True) for t in self.weights]

    def set_weights(self, weights):
        """Set the weights from a list of arrays with the shapes of ``get_weights()``."""
        mine = self._named_weights()
        weights = list(weights)
        if len(weights) != len(mine):
            raise ValueError(f"{type(self).__name__} '{self.name}': set_weights got "
                             f"{len(weights)} arrays but the layer has {len(mine)} weights "
                             f"({', '.join(n for n, _ in mine)})")
        arrays = []
        for (n, t), w in zip(mine, weights):
            a = np.asarray(w.__array__() if isinstance(w, Tensor) else w)
            if tuple(a.shape) != t.shape:
                raise ValueError(f"set_weights: weight '{n}' has shape {t.shape}, got an array "
                                 f"of shape {tuple(a.shape)}")
            arrays.append(a)
        with grad_mode.no_grad():
            for (_, t), a in zip(mine, arrays):
                t._data[...] = t.xp.asarray(a, dtype=t.dtype)
                t._version += 1

    def count_params(self):
        if not self.built:
            raise ValueError(f"You tried to call `count_params` on layer '{self.name}', but the "
                             "layer isn't built. You can build it manually via: "
                             f"`{self.name}.build(batch_input_shape)`.")
        return int(sum(int(np.prod(t.shape)) for t in self.weights))

    @property
    def losses(self):
        """The losses added by ``add_loss`` in the last call, then the regularization
        penalties of this layer and its sublayers (scalar Tensors, recomputed from the
        current weights)."""
        out = []
        for layer in self._layers_recursive():
            out += layer.__dict__.get("_added_losses") or []
            if layer._regularized:
                named = dict(layer._own_weights())
                for reg, wname in layer._regularized:
                    t = named.get(wname)
                    if t is not None and t.requires_grad:
                        out.append(reg(t))
        return out

    @property
    def metrics(self):
        """The Metric objects assigned to attributes of this layer and its sublayers."""
        out = []
        for layer in self._layers_recursive():
            out += [m for m in layer.__dict__.get("_tracked_metrics", ()) if m not in out]
        return out

    def _layers_recursive(self):
        return [m for m in self.modules() if isinstance(m, Layer)]

    # ---------------------------------------------------------------- build and call
    def build(self, input_shape):
        """Create the weights for inputs of ``input_shape`` (batch included, may be None).
        The default creates none."""
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            self.build(input_shape)
            self.built = True
            self._build_input_shape = input_shape

    def call(self, inputs, *args, **kwargs):
        return inputs

    supports_masking = False

    def compute_mask(self, inputs, mask=None):
        """The mask of the outputs for ``inputs`` carrying ``mask`` (Keras's rule: the
        input mask passes through layers that support masking)."""
        if not self.supports_masking or isinstance(mask, (list, tuple)):
            return None
        return mask

    def forward(self, *args, **kwargs):
        return self.call(*args, **kwargs)

    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch included). The default runs the
        layer on a dummy batch of zeros, without a graph, in inference mode."""
        shapes = input_shape
        # a list of inputs has a list of shape tuples: map over the list, not into the tuples
        dummies = _map_shapes(lambda s: _dummy(s, self._input_dtype()), shapes)
        was = self.training
        if was:
            self.train(False)
        try:
            with grad_mode.no_grad():
                out = self.call(dummies)
        finally:
            if was:
                self.train(True)
        batch_none = (shapes[0][0] if isinstance(shapes, list) else shapes[0]) is None
        return _map(lambda t: ((None,) if batch_none else (t.shape[0],)) + tuple(t.shape[1:]),
                    out) if isinstance(out, (list, tuple)) else \
            ((None,) if batch_none else (out.shape[0],)) + tuple(out.shape[1:])

    def _input_dtype(self):
        return self.dtype

    def __call__(self, *args, **kwargs):
        if args and _is_symbolic(args[0]):
            return self._symbolic_call(*args, **kwargs)
        if _CALLS[0] == 0 and _CALLS[1]:
            for layer in self._layers_recursive():
                if layer.__dict__.get("_added_losses"):
                    layer._added_losses.clear()
        _CALLS[0] += 1
        try:
            return self._eager_call(args, kwargs)
        finally:
            _CALLS[0] -= 1

    def add_loss(self, loss):
        """Add a scalar loss term (a Tensor computed in ``call``, e.g. a VAE's KL term):
        it appears in ``model.losses`` and ``fit`` / ``evaluate`` add it to the compiled
        loss. The terms are dropped when the outermost model or layer is called again."""
        if "_added_losses" not in self.__dict__:
            object.__setattr__(self, "_added_losses", [])
        if not isinstance(loss, Tensor):
            loss = to_tensor(loss)
        self._added_losses.append(loss if loss.ndim == 0 else loss.sum())
        _CALLS[1] = True

    def _eager_call(self, args, kwargs):
        training = kwargs.pop("training", None)
        if args:
            inputs = args[0]
            rest = args[1:]
        else:
            inputs = kwargs.pop("inputs")
            rest = ()
        floating = self.dtype if np.dtype(self.dtype).kind == "f" else None
        if isinstance(inputs, (list, tuple)):
            inputs = [to_tensor(i, float_dtype=floating) for i in inputs]
        else:
            inputs = to_tensor(inputs, float_dtype=floating)
        if not self.built:
            self._maybe_build(_map(lambda t: tuple(t.shape), inputs)
                              if isinstance(inputs, list) else tuple(inputs.shape))
        in_mask = _map(get_keras_mask, inputs) if isinstance(inputs, list) \
            else get_keras_mask(inputs)
        has_mask = any(m is not None for m in _flat(in_mask))
        if self._call_takes_mask:
            if kwargs.get("mask") is None and has_mask:
                kwargs["mask"] = in_mask
            elif kwargs.get("mask") is not None:
                in_mask, has_mask = kwargs["mask"], True
        switch = training is not None and bool(training) != self.training
        if self._call_takes_training:
            kwargs["training"] = self.training if training is None else bool(training)
        if not switch:
            out = self.call(inputs, *rest, **kwargs)
        else:
            self.train(bool(training))
            try:
                out = self.call(inputs, *rest, **kwargs)
            finally:
                self.train(not bool(training))
        if self._build_output_shape is None:  # for summary(): the first call's shape
            self._build_output_shape = _output_shape(out)
        if has_mask or type(self).compute_mask is not Layer.compute_mask:
            out_mask = self.compute_mask(inputs, in_mask if has_mask else None)
            if isinstance(out, (list, tuple)) and isinstance(out_mask, (list, tuple)):
                for o, m in zip(out, out_mask):
                    set_keras_mask(o, m)
            elif out_mask is not None:
                set_keras_mask(out if not isinstance(out, (list, tuple)) else out[0], out_mask)
        return out

    def _symbolic_call(self, inputs, *args, **kwargs):
        if args:
            raise TypeError(f"{self.name}: extra positional arguments are not supported when "
                            "calling a layer on keras.Input tensors")
        kwargs.pop("training", None)
        shapes = _map(lambda t: t.shape, inputs)
        if not self.built:
            self._maybe_build(shapes)
        out_shape = self.compute_output_shape(shapes)
        self._build_output_shape = out_shape
        dtype = _flat(inputs)[0].dtype if self._keeps_input_dtype() else self.dtype
        if isinstance(out_shape, list):
            raise NotImplementedError(f"{self.name}: layers with several outputs are not "
                                      "supported in functional models")
        return KerasTensor(out_shape, dtype, layer=self, inputs=inputs, kwargs=kwargs)

    def _keeps_input_dtype(self):
        return False

    # ---------------------------------------------------------------- config
    # ---------------------------------------------------------------- display
    @property
    def input_shape(self):
        return self._build_input_shape

    @property
    def output_shape(self):
        return self._build_output_shape

    def _get_name(self):
        return f"{type(self).__name__}"

    def extra_repr(self):
        return f"name={self.name}"


class _ElementwiseLayer(Layer):
    """A layer whose output has its input's shape and dtype (activations, dropout,
    masking, identity)."""

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def _keeps_input_dtype(self):
        return True


def _output_shape(out):
    if isinstance(out, (list, tuple)):
        return [_output_shape(o) for o in out]
    shape = getattr(out, "shape", None)
    if shape is None or not len(shape):
        return None
    return (None,) + tuple(shape[1:])


def _module_weights(module, prefix):
    """Weights of a plain ``nn.Module``: its parameters, then its floating buffers."""
    out = [(f"{prefix}/{n}".replace(".", "/"), p) for n, p in module.named_parameters()]
    out += [(f"{prefix}/{n}".replace(".", "/"), b) for n, b in module.named_buffers()
            if b is not None and b.dtype.kind == "f"]
    return out


def _as_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(shape)


def _map_shapes(fn, shapes):
    """``fn`` on each shape tuple of a (nested) list of shapes, or on one shape."""
    if isinstance(shapes, list):
        return [_map_shapes(fn, s) for s in shapes]
    return fn(shapes)


def _dummy(shape, dtype):
    shape = tuple(1 if s is None else s for s in shape)
    dt = np.dtype(dtype)
    return Tensor._make(np.zeros(shape, dtype=dt))
