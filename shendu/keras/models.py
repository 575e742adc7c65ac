"""Keras models: ``Sequential``, functional ``Model(inputs, outputs)``, subclassed
``Model`` (write ``call``), and ``Model(module)`` around any ``shendu.nn`` module.

All of them are ``shendu.nn.Module`` s with Keras's training API (``compile``, ``fit``,
``evaluate``, ``predict`` ...; see ``trainer.py``), ``summary()``, ``layers``,
``weights``, ``get_weights`` / ``set_weights`` and ``save`` / ``keras.models.load_model``.

The course's first model::

    from shendu import keras
    from shendu.keras import layers

    model = keras.Sequential([
        layers.Dense(units=4, activation='relu', input_shape=[2]),
        layers.Dense(units=3, activation='relu'),
        layers.Dense(units=1),
    ])

>>> from shendu import keras
>>> model = keras.Sequential([keras.layers.Dense(3, input_shape=[2]), keras.layers.Dense(1)])
>>> model.count_params()
13
"""
from __future__ import annotations

from ..autograd import grad_mode
from ..nn.module import Module
from .layers.base import Layer, unique_name
from .layers.input_layer import InputLayer
from .layers.keras_tensor import KerasTensor, _flat, _is_symbolic, _map
from .layers.core import TorchModuleWrapper
from .summary import summary_lines
from .trainer import Trainer

__all__ = ["Model", "Sequential", "Functional", "load_model", "clone_model",
           "model_from_json"]


class Model(Trainer, Layer):
    """A model: layers plus ``compile`` / ``fit`` / ``evaluate`` / ``predict``.

    Three ways to make one (as in Keras), plus a shendu extra:

    * functional: ``inputs = keras.Input(shape=(784,)); x = layers.Dense(64,
      activation="relu")(inputs); outputs = layers.Dense(10)(x);
      model = keras.Model(inputs, outputs)``;
    * subclassing: define the layers in ``__init__`` (after ``super().__init__()``) and the
      computation in ``call(self, inputs, training=False)``;
    * ``keras.Sequential([...])`` (a subclass);
    * ``keras.Model(module)``: train any ``shendu.nn.Module`` with ``compile`` / ``fit``.

    A subclass may also override ``train_step(self, data)`` (and ``test_step``) to train
    its own way, e.g. a GAN with two optimizers, and ``fit`` runs it on every batch (see
    ``Trainer.train_step``).

    A model runs in inference mode (Dropout off, BatchNorm on moving statistics) unless
    called with ``training=True``, as ``fit`` does.
    """

    def __init__(self, *args, **kwargs):
        inputs = kwargs.pop("inputs", None)
        outputs = kwargs.pop("outputs", None)
        module = None
        if args:
            if len(args) == 1 and isinstance(args[0], Module) and not isinstance(args[0], Layer):
                module = args[0]
            elif _is_symbolic(args[0]):
                inputs = args[0]
                if len(args) > 1:
                    outputs = args[1]
                if len(args) > 2:
                    raise TypeError("Model(inputs, outputs, name=...): too many positional "
                                    "arguments")
            else:
                raise TypeError("keras.Model takes (inputs, outputs) keras.Input tensors or one "
                                f"shendu.nn.Module, got {type(args[0]).__name__}")
        functional = inputs is not None or outputs is not None
        if functional and (inputs is None or outputs is None):
            raise ValueError("a functional Model needs both inputs and outputs: "
                             "keras.Model(inputs, outputs)")
        name = kwargs.pop("name", None)
        if name is None and (functional or module is not None):
            name = unique_name("functional" if functional else "model")
        Layer.__init__(self, name=name, **kwargs)
        self._init_trainer()
        self._mode_synced = False
        self._graph = None
        object.__setattr__(self, "_wrapped", None)
        if functional:
            self._init_graph(inputs, outputs)
        elif module is not None:
            object.__setattr__(self, "_wrapped", module)
            self.add_module("module", module)
            self.built = True

    # ------------------------------------------------------------------ calling
    def __call__(self, *args, **kwargs):
        if not self._mode_synced:  # plain nn modules start in training mode: align them
            self.train(self.training)
            self._mode_synced = True
        return Layer.__call__(self, *args, **kwargs)

    def _maybe_build(self, input_shape):
        if not self.built:
            self.built = True  # a subclassed model builds its layers while it runs
            self._build_input_shape = input_shape
            if type(self).build is not Model.build:
                self.build(input_shape)

    def build(self, input_shape=None):
        """Create the weights for inputs of ``input_shape`` (batch included). A subclassed
        model runs itself once on zeros to build its layers."""
        if self._graph is not None or self._wrapped is not None:
            self.built = True
            return
        if input_shape is None:
            raise ValueError(f"{self.name}.build() needs an input shape, e.g. (None, 784)")
        self.built = True
        self._build_input_shape = input_shape
        if type(self).build is Model.build and type(self).call is not Model.call:
            dummy = self._dummy_input(list(input_shape) if isinstance(input_shape, list)
                                      else tuple(input_shape))
            with grad_mode.no_grad():
                out = Layer.__call__(self, dummy, training=False)
            if hasattr(out, "shape"):
                self._build_output_shape = (None,) + tuple(out.shape[1:])

    def call(self, inputs, training=None):
        if self._wrapped is not None:
            return self._wrapped(inputs)
        if self._graph is not None:
            return self._run_graph(inputs, training, logits=False)
        raise NotImplementedError(f"{type(self).__name__} must define call(self, inputs, "
                                  "training=None) (or be built from inputs and outputs)")

    def _keeps_input_dtype(self):
        return False

    # ------------------------------------------------------------------ functional graph
    def _init_graph(self, inputs, outputs):
        self._single_input = not isinstance(inputs, (list, tuple))
        self._single_output = not isinstance(outputs, (list, tuple))
        self.inputs = _flat(inputs)
        self.outputs = _flat(outputs)
        for t in self.inputs + self.outputs:
            if not isinstance(t, KerasTensor):
                raise TypeError(f"functional Model: inputs and outputs must be keras.Input "
                                f"tensors and layer outputs, got {type(t).__name__}")
        order, seen = [], set()

        def visit(kt):
            stack = [(kt, False)]
            while stack:
                t, done = stack.pop()
                if done:
                    order.append(t)
                    continue
                if id(t) in seen:
                    continue
                seen.add(id(t))
                stack.append((t, True))
                if t._inputs is not None:
                    for i in reversed(_flat(t._inputs)):
                        stack.append((i, False))
        for o in self.outputs:
            visit(o)
        input_ids = {id(t) for t in self.inputs}
        for t in order:
            if t._inputs is None and id(t) not in input_ids:
                raise ValueError(f"Graph disconnected: the model's outputs depend on the input "
                                 f"'{t.name}', which is not among the model's inputs")
        self._graph = [t for t in order if t._inputs is not None]
        layers, ids = [], set()
        for t in self.inputs + [n for n in self._graph]:
            if id(t._layer) not in ids:
                ids.add(id(t._layer))
                layers.append(t._layer)
        names = [l.name for l in layers]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"all layer names in a model must be unique; repeated: {dup}")
        object.__setattr__(self, "_functional_layers", layers)
        for i, layer in enumerate(layers):
            self.add_module(str(i), layer)
        self.built = True
        self._build_input_shape = self.inputs[0].shape if self._single_input else \
            [t.shape for t in self.inputs]
        self._build_output_shape = self.outputs[0].shape if self._single_output else \
            [t.shape for t in self.outputs]

    def _run_graph(self, inputs, training, logits):
        ins = [inputs] if self._single_input else list(inputs)
        if len(ins) != len(self.inputs):
            raise ValueError(f"model '{self.name}' expects {len(self.inputs)} inputs, got "
                             f"{len(ins)}")
        values = {}
        from .layers.base import to_tensor
        for kt, v in zip(self.inputs, ins):
            v = to_tensor(v)
            if v.shape[1:] != kt.shape[1:] and all(s is not None for s in kt.shape[1:]):
                raise ValueError(f"model '{self.name}': input '{kt.name}' expects samples of "
                                 f"shape {kt.shape[1:]}, got data of shape {v.shape}")
            values[id(kt)] = v
        last = self._graph[-1] if self._graph else None
        for kt in self._graph:
            args = _map(lambda t: values[id(t)], kt._inputs) if isinstance(kt._inputs, list) \
                else values[id(kt._inputs)]
            if logits and kt is last:
                values[id(kt)] = kt._layer._pre_activation(args)
            else:
                values[id(kt)] = kt._layer(args, training=training, **kt._kwargs)
        outs = [values[id(o)] for o in self.outputs]
        return outs[0] if self._single_output else outs

    # ------------------------------------------------------------------ training hooks
    def _output_layer(self):
        if self._graph is not None and self._single_output and self._graph and \
                self._graph[-1] is self.outputs[0]:
            return self._graph[-1]._layer
        return None

    def _forward_logits(self, x, training):
        return self._run_graph(x, training, logits=True)

    def _builds_from_data(self):
        # keras.io's GAN subclasses Model with a train_step and no call: nothing to run.
        return self._graph is not None or self._wrapped is not None or \
            type(self).call is not Model.call or not self._overrides("train_step")

    # ------------------------------------------------------------------ inspection
    @property
    def layers(self):
        """The model's layers (a functional model lists its InputLayers too, as Keras)."""
        if self._graph is not None:
            return list(self._functional_layers)
        return [m for k, m in self._modules.items() if isinstance(m, Layer)
                and k not in self._internal]

    def get_layer(self, name=None, index=None):
        """A layer by ``name`` or by ``index`` in ``model.layers``."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: "
                         f"{[l.name for l in self.layers]}")

    def _summary_rows(self):
        rows = []
        for key, m in self._modules.items():
            if m is None or key in self._internal:
                continue
            if isinstance(m, Layer):
                label = f"{m.name} ({type(m).__name__})"
                n = sum(int(_size(t)) for t in m.weights)
                rows.append((label, m._build_output_shape, n))
            else:
                n = sum(int(_size(p)) for p in m.parameters())
                shape = self._build_output_shape if m is self._wrapped else None
                rows.append((f"{key} ({type(m).__name__})", shape, n))
        return rows

    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Print the table of layers, output shapes and parameter counts (Keras 3's
        format). ``print_fn`` receives each line (default ``print``)."""
        if not self.built:
            raise ValueError(f"This model ('{self.name}') has not yet been built. Build the model "
                             "first by calling `build()` or by calling the model on a batch of "
                             "data, or give the first layer an input_shape (or start with "
                             "keras.Input(shape=...)).")
        lines = summary_lines(self, self._summary_rows())
        print_fn = print_fn or print
        for line in lines:
            print_fn(line)

    # ------------------------------------------------------------------ saving
    def get_config(self):
        if self._graph is not None:
            from .saving import functional_config
            return functional_config(self)
        if self._wrapped is not None:
            raise TypeError(f"model '{self.name}' wraps a shendu.nn.{type(self._wrapped).__name__}"
                            " and has no Keras config: use model.save_weights(path) (or "
                            "shendu.save(model.state_dict(), path))")
        return Layer.get_config(self)

    def save(self, filepath, overwrite=True, include_optimizer=True, **kwargs):
        """Save the architecture (JSON config), the weights and, when compiled, the
        optimizer state to one safetensors file, atomically. Load it back with
        ``keras.models.load_model(filepath)``. See ``shendu.keras.saving``."""
        from .saving import save_model
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer,
                   **kwargs)

    def save_weights(self, filepath, overwrite=True):
        """Save only the weights (safetensors, atomically)."""
        from .saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False):
        """Load weights saved by ``save_weights`` or ``save`` into this (built) model."""
        from .saving import load_weights
        load_weights(self, filepath, skip_mismatch=skip_mismatch)

    def to_json(self, **kwargs):
        """The model's config as a JSON string (no weights)."""
        import json
        from .saving import serialize_layer
        return json.dumps(serialize_layer(self), **kwargs)


Functional = Model


def _size(t):
    n = 1
    for s in t.shape:
        n *= s
    return n


class Sequential(Model):
    """A linear stack of layers: each layer's output is the next one's input.

    ``keras.Sequential([layers.Dense(64, activation="relu", input_shape=[11]),
    layers.Dense(1)])``; add more with ``model.add(layer)``. Give the input shape to the
    first layer (``input_shape=[11]``) or start with ``keras.Input(shape=(11,))`` to build
    the model at once (for ``summary()``); otherwise it is built by its first batch.
    """

    def __init__(self, layers=None, trainable=True, name=None):
        Model.__init__(self, name=name or unique_name("sequential"), trainable=trainable)
        object.__setattr__(self, "_input_layer", None)
        if layers is not None:
            if not isinstance(layers, (list, tuple)):
                raise TypeError("Sequential takes a list of layers: keras.Sequential([...])")
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_build_from_input()

    @property
    def layers(self):
        return [m for m in self._modules.values() if isinstance(m, Layer)]

    def add(self, layer, rebuild=True):
        """Append a layer (a ``keras.Input`` sets the input shape; an ``nn.Module`` is
        wrapped in ``TorchModuleWrapper``)."""
        if isinstance(layer, KerasTensor):
            if not isinstance(layer._layer, InputLayer) or layer._inputs is not None:
                raise ValueError("Sequential.add takes layers or keras.Input(...), not the "
                                 "output of another layer")
            layer = layer._layer
        if isinstance(layer, InputLayer):
            if self.layers or self._input_layer is not None:
                raise ValueError("an Input can only be the first entry of a Sequential model")
            object.__setattr__(self, "_input_layer", layer)
            return
        if isinstance(layer, Module) and not isinstance(layer, Layer):
            layer = TorchModuleWrapper(layer)
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential.add takes keras layers (or shendu.nn modules), got "
                            f"{type(layer).__name__}")
        if any(l.name == layer.name for l in self.layers):
            raise ValueError(f"All layers added to a Sequential model should have unique names. "
                             f"Name '{layer.name}' is already the name of a layer in this model. "
                             "Update the `name` argument to pass a unique name.")
        if not self.layers and self._input_layer is None and \
                layer._batch_input_shape is not None:
            object.__setattr__(self, "_input_layer", InputLayer(
                batch_shape=layer._batch_input_shape, name=unique_name("input_layer")))
        self.add_module(str(len(self.layers)), layer)
        self._mode_synced = False
        self._reset_compile_metrics()
        if rebuild:
            self.built = False
            self._maybe_build_from_input()

    def pop(self, rebuild=True):
        """Remove and return the last layer."""
        layers = self.layers
        if not layers:
            raise IndexError("pop from an empty Sequential model")
        layer = layers[-1]
        del self._modules[str(len(layers) - 1)]
        if rebuild:
            self.built = False
            self._maybe_build_from_input()
        return layer

    def _maybe_build_from_input(self):
        if self._input_layer is not None and self.layers:
            self.build(self._input_layer.batch_shape)

    def build(self, input_shape=None):
        """Build every layer for inputs of ``input_shape`` (batch included)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError("Sequential.build() needs an input shape, e.g. (None, 11)")
            input_shape = self._input_layer.batch_shape
        shape = tuple(input_shape)
        self._build_input_shape = shape
        for layer in self.layers:
            layer._maybe_build(shape)
            out = layer.compute_output_shape(shape)
            layer._build_input_shape = shape
            layer._build_output_shape = out
            shape = out
        self._build_output_shape = shape
        self.built = True

    def _maybe_build(self, input_shape):
        if not self.built:
            shape = (None,) + tuple(input_shape[1:]) if not isinstance(input_shape, list) \
                else input_shape
            self.build(shape)

    def call(self, inputs, training=None):
        x = inputs
        for layer in self._modules.values():
            x = layer(x, training=training)
        return x

    def _output_layer(self):
        layers = self.layers
        return layers[-1] if layers else None

    def _forward_logits(self, x, training):
        layers = list(self._modules.values())
        if not self._mode_synced:
            self.train(self.training)
            self._mode_synced = True
        for layer in layers[:-1]:
            x = layer(x, training=training)
        return layers[-1]._pre_activation(x)

    def get_config(self):
        from .saving import serialize_layer
        config = {"name": self.name, "trainable": self.trainable, "layers": []}
        if self._input_layer is not None:
            config["layers"].append(serialize_layer(self._input_layer))
        config["layers"] += [serialize_layer(l) for l in self.layers]
        if self.built and self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from .saving import deserialize_layer
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(deserialize_layer(layer_config, custom_objects), rebuild=False)
        shape = config.get("build_input_shape")
        if shape is not None:
            model.build(tuple(shape))
        else:
            model._maybe_build_from_input()
        return model


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Load a model saved by ``model.save(filepath)`` (see ``shendu.keras.saving``)."""
    from .saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile)


def model_from_json(json_string, custom_objects=None):
    """Rebuild a model (fresh weights) from ``model.to_json()``."""
    import json
    from .saving import deserialize_layer
    return deserialize_layer(json.loads(json_string), custom_objects)


def clone_model(model, custom_objects=None):
    """A new model with the same architecture and freshly initialized weights."""
    from .saving import deserialize_layer, serialize_layer
    return deserialize_layer(serialize_layer(model), custom_objects)
