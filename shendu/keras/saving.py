"""Saving and loading Keras-style models: a JSON config plus safetensors weights, no pickle.

File format (``model.save(path)``): **one safetensors file** (any extension; ``.keras`` or
``.shendu`` are good choices), written atomically by ``shendu.io`` (temporary file, fsync,
rename: an interrupted save leaves the previous file intact). Inside:

* tensors ``weights.00000``, ``weights.00001`` ... in ``model.weights`` order, and, when the
  model is compiled and ``include_optimizer=True``, ``optimizer.<param>.<buffer>``;
* metadata (strings): ``shendu.keras.format`` (``shendu-keras-1``), ``shendu.keras.config``
  (the architecture as JSON: ``{"class_name": "Sequential", "config": {...}}``),
  ``shendu.keras.weight_names`` (``["sequential/dense/kernel", ...]``, for messages),
  ``shendu.keras.compile`` (optimizer, loss and metrics by name) and
  ``shendu.keras.optimizer`` (the optimizer's step count and scalar state).

Loading never runs code from the file: each ``class_name`` is looked up in shendu's own
registry of layer and model classes, plus the classes you registered in this process with
``@keras.saving.register_keras_serializable()`` or passed as ``custom_objects``. Nothing
is imported by name and nothing is unpickled; an unknown ``class_name`` is an error.
Weights are checked for count and shape against the rebuilt model before any is set.

``model.save_weights(path)`` writes only the weight tensors (same keys, format
``shendu-keras-weights-1``); ``model.load_weights(path)`` reads either kind of file, or a
plain state dict saved with ``shendu.save(model.state_dict(), path)``.

A model holding a ``Lambda`` layer, a custom activation function or an
``nn.Module`` wrapper can't be saved with ``model.save`` (its code would have to be
stored); ``save_weights`` still works.

>>> import os, tempfile, numpy as np
>>> from shendu import keras
>>> model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
>>> path = os.path.join(tempfile.mkdtemp(), "model.keras")
>>> model.save(path)
>>> again = keras.models.load_model(path)
>>> x = np.ones((1, 3), np.float32)
>>> bool(np.allclose(model.predict(x, verbose=0), again.predict(x, verbose=0)))
True
"""
from __future__ import annotations

import inspect
import json
import os
import warnings

import numpy as np

from .. import __version__ as _version
from .. import io as _io
from ..autograd.tensor import Tensor
from . import losses as losses_module, metrics as metrics_module
from . import optimizers as optimizers_module
from .layers.base import Layer
from .layers.input_layer import InputLayer

__all__ = ["save_model", "load_model", "save_weights", "load_weights",
           "register_keras_serializable", "get_registered_name", "get_registered_object",
           "serialize_keras_object", "deserialize_keras_object", "serialize_layer",
           "deserialize_layer", "FORMAT", "WEIGHTS_FORMAT"]

FORMAT = "shendu-keras-1"
WEIGHTS_FORMAT = "shendu-keras-weights-1"
_KEY_FORMAT = "shendu.keras.format"
_KEY_CONFIG = "shendu.keras.config"
_KEY_NAMES = "shendu.keras.weight_names"
_KEY_COMPILE = "shendu.keras.compile"
_KEY_OPTIMIZER = "shendu.keras.optimizer"

_CUSTOM = {}


# ------------------------------------------------------------------ the registry
def register_keras_serializable(package="Custom", name=None):
    """Class decorator: let ``load_model`` rebuild this class from a saved config.

    The class is stored under ``"<package>><name>"`` (name defaults to the class name).
    Only registered classes (and shendu's own) can be named by a saved file.

    >>> from shendu import keras
    >>> @keras.saving.register_keras_serializable(package="Demo")
    ... class Double(keras.layers.Layer):
    ...     def call(self, x):
    ...         return x * 2
    >>> keras.saving.get_registered_name(Double)
    'Demo>Double'
    """
    def decorator(cls):
        key = f"{package}>{name or cls.__name__}"
        if key in _CUSTOM and _CUSTOM[key] is not cls:
            warnings.warn(f"register_keras_serializable: {key} was registered before; the new "
                          "class replaces it", stacklevel=2)
        _CUSTOM[key] = cls
        cls._registered_name = key
        return cls
    return decorator


def _builtin():
    from . import layers, models
    table = dict(layers._BUILTIN)
    table.update(Sequential=models.Sequential, Functional=models.Model, Model=models.Model)
    return table


def get_registered_name(cls):
    """The name a saved config uses for ``cls``."""
    if cls.__dict__.get("_registered_name"):
        return cls._registered_name
    builtin = _builtin()
    if builtin.get(cls.__name__) is cls:
        return cls.__name__
    return None


def get_registered_object(name, custom_objects=None):
    """The class registered under ``name`` (shendu's, ``custom_objects``, or decorated)."""
    custom_objects = custom_objects or {}
    if name in custom_objects:
        return custom_objects[name]
    short = name.split(">")[-1]
    if short in custom_objects:
        return custom_objects[short]
    if name in _CUSTOM:
        return _CUSTOM[name]
    return _builtin().get(name)


# ------------------------------------------------------------------ layers <-> configs
def serialize_layer(layer):
    """``{"class_name", "config"[, "build_config"]}`` for a layer or model."""
    if not isinstance(layer, Layer):
        raise TypeError(f"can't serialize a {type(layer).__name__}: only Keras layers and models "
                        "have a config")
    name = get_registered_name(type(layer))
    if name is None:
        raise TypeError(
            f"layer '{layer.name}' is a {type(layer).__name__}, a class shendu does not know: to "
            "save it, decorate the class with @keras.saving.register_keras_serializable() (and "
            "give it a get_config() returning its constructor arguments); it is then loaded "
            "only if registered again (or passed in custom_objects) when loading")
    config = layer.get_config()
    _check_json(config, layer)
    out = {"class_name": name, "config": config}
    if layer.built and layer._build_input_shape is not None and not isinstance(layer, InputLayer):
        shape = layer._build_input_shape
        out["build_config"] = {"input_shape": _jsonable_shape(shape)}
    return out


def _jsonable_shape(shape):
    if isinstance(shape, list):
        return [_jsonable_shape(s) for s in shape]
    return [None if s is None else int(s) for s in shape]


def _check_json(config, layer):
    try:
        json.dumps(config)
    except (TypeError, ValueError) as e:
        raise TypeError(f"layer '{layer.name}' ({type(layer).__name__}): its config is not "
                        f"JSON-serializable ({e}); return plain numbers, strings, lists and "
                        "dicts from get_config()") from None


def deserialize_layer(config, custom_objects=None):
    """Rebuild a layer or model from ``serialize_layer``'s dict (weights fresh)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"not a layer config: {str(config)[:200]}")
    name = config["class_name"]
    if not isinstance(name, str):
        raise ValueError(f"corrupt layer config: class_name is {name!r}")
    cls = get_registered_object(name, custom_objects)
    if cls is None or not (isinstance(cls, type) and issubclass(cls, Layer)):
        known = sorted(_builtin()) + sorted(_CUSTOM)
        raise ValueError(
            f"unknown layer type {name!r}: shendu rebuilds only its own layer classes and the "
            "ones registered with @keras.saving.register_keras_serializable() or passed as "
            f"load_model(..., custom_objects={{...}}). Known: {', '.join(known)}")
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        raise ValueError(f"corrupt config for a {name} layer: {inner!r}")
    if name == "Functional" or (cls.__name__ == "Model" and "nodes" in inner):
        obj = functional_from_config(inner, custom_objects)
    else:
        try:
            params = inspect.signature(cls.from_config).parameters
            obj = cls.from_config(inner, custom_objects) if "custom_objects" in params \
                else cls.from_config(inner)
        except TypeError as e:
            raise ValueError(f"could not rebuild layer {name!r} from its config ({e}); if it is "
                             "your class, give it get_config()/from_config() that match its "
                             "constructor") from None
    build = config.get("build_config")
    if build and not obj.built:
        shape = build.get("input_shape")
        shape = [tuple(s) for s in shape] if shape and isinstance(shape[0], list) else tuple(shape)
        from .models import Model
        if isinstance(obj, Model):
            obj.build(shape)
        else:
            obj._maybe_build(shape)
    return obj


serialize_keras_object = serialize_layer
deserialize_keras_object = deserialize_layer


def functional_config(model):
    """The config of a functional model: its layers and the calls linking them."""
    layers = model.layers
    index = {id(l): i for i, l in enumerate(layers)}
    node_index = {id(kt): k for k, kt in enumerate(model._graph)}

    def ref(kt):
        if kt._inputs is None:
            return ["input", index[id(kt._layer)]]
        return ["node", node_index[id(kt)]]

    def refs(x):
        if isinstance(x, (list, tuple)):
            return [refs(i) for i in x]
        return ref(x)

    nodes = []
    for kt in model._graph:
        node = {"layer": index[id(kt._layer)],
                "inputs": refs(kt._inputs) if isinstance(kt._inputs, (list, tuple))
                else {"single": ref(kt._inputs)}}
        if kt._kwargs:  # e.g. mha(x, x, use_causal_mask=True): plain values are saved
            try:
                json.dumps(kt._kwargs)
            except (TypeError, ValueError):
                raise TypeError(f"functional model '{model.name}': layer '{kt._layer.name}' was "
                                f"called with keyword arguments {sorted(kt._kwargs)} that are "
                                "not plain values (numbers, strings, booleans), which can't be "
                                "saved") from None
            node["kwargs"] = dict(kt._kwargs)
        nodes.append(node)
    return {"name": model.name, "trainable": model.trainable,
            "layers": [serialize_layer(l) for l in layers], "nodes": nodes,
            "inputs": [ref(t) for t in model.inputs], "outputs": [ref(t) for t in model.outputs],
            "single_input": model._single_input, "single_output": model._single_output}


def functional_from_config(config, custom_objects=None):
    from .models import Model
    try:
        layers = [deserialize_layer(c, custom_objects) for c in config["layers"]]
        tensors = []

        def resolve(r):
            if isinstance(r, dict):
                return resolve(r["single"])
            if isinstance(r, list) and len(r) == 2 and r[0] in ("input", "node"):
                if r[0] == "input":
                    layer = layers[r[1]]
                    if not isinstance(layer, InputLayer):
                        raise ValueError(f"reference {r} is not an input layer")
                    return layer.output
                return tensors[r[1]]
            return [resolve(i) for i in r]

        for node in config["nodes"]:
            layer = layers[node["layer"]]
            tensors.append(layer(resolve(node["inputs"]), **node.get("kwargs", {})))
        inputs = [resolve(r) for r in config["inputs"]]
        outputs = [resolve(r) for r in config["outputs"]]
    except (KeyError, IndexError, TypeError) as e:
        raise ValueError(f"corrupt functional model config ({type(e).__name__}: {e})") from None
    return Model(inputs[0] if config.get("single_input", True) else inputs,
                 outputs[0] if config.get("single_output", True) else outputs,
                 name=config.get("name"), trainable=config.get("trainable", True))


# ------------------------------------------------------------------ files
def _weights_arrays(model):
    named = model._named_weights()
    arrays = {f"weights.{i:05d}": np.require(t.__array__(), requirements="C") for i, (_, t) in
              enumerate(named)}
    return arrays, [n for n, _ in named]


def _check_overwrite(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")


def _compile_config(model):
    if not model.compiled:
        return None
    opt = optimizers_module.serialize(model.optimizer) if not isinstance(
        model.optimizer, optimizers_module.TorchOptimizer) else None
    loss = model.loss
    if loss is not None and not isinstance(loss, str):
        loss = losses_module.serialize(model._loss_obj)
    metrics = []
    for spec in model._metric_specs:
        if isinstance(spec, str):
            metrics.append(spec)
        elif isinstance(spec, metrics_module.Metric) and metrics_module.serialize(spec):
            metrics.append(metrics_module.serialize(spec))
        else:
            metrics = None
            break
    if opt is None or (model.loss is not None and loss is None) or metrics is None:
        warnings.warn("model.save: the optimizer, loss or a metric is custom (not one of "
                      "shendu's built-in ones), so the model is saved without its compile "
                      "settings; compile it again after loading", stacklevel=3)
        return None
    return {"optimizer": opt, "loss": loss, "metrics": metrics}


def save_model(model, filepath, overwrite=True, include_optimizer=True, **kwargs):
    """Write ``model`` to ``filepath`` (see the module docstring for the format)."""
    if kwargs.pop("save_format", None) not in (None, "keras", "shendu"):
        raise ValueError("shendu saves one format: a safetensors file with a JSON config")
    if kwargs:
        raise TypeError(f"save got unexpected arguments {sorted(kwargs)}")
    path = os.fspath(filepath)
    _check_overwrite(path, overwrite)
    if not model.built:
        raise ValueError(f"model '{model.name}' is not built yet: call it on data (or fit it, "
                         "or give it an input shape) before saving")
    config = serialize_layer(model)
    arrays, names = _weights_arrays(model)
    meta = {_KEY_FORMAT: FORMAT, "shendu.version": _version,
            _KEY_CONFIG: json.dumps(config), _KEY_NAMES: json.dumps(names)}
    compile_config = _compile_config(model)
    if compile_config is not None:
        meta[_KEY_COMPILE] = json.dumps(compile_config)
        opt = model.optimizer
        if include_optimizer and opt is not None and opt.built:
            scalars = _optimizer_arrays(opt, arrays)
            meta[_KEY_OPTIMIZER] = json.dumps(scalars)
    _io.save_state_dict(arrays, path, metadata=meta)


def _optimizer_arrays(opt, arrays):
    state = opt.state_dict()
    inner = state["inner"]
    scalars = {"iterations": state["iterations"], "param_groups": [], "state": {}}
    for group in inner["param_groups"]:
        g = {}
        for k, v in group.items():
            if isinstance(v, tuple):
                v = list(v)
            try:
                json.dumps(v)
            except (TypeError, ValueError):
                continue
            g[k] = v
        scalars["param_groups"].append(g)
    for idx, buffers in inner["state"].items():
        for k, v in buffers.items():
            if isinstance(v, Tensor) or (hasattr(v, "shape") and hasattr(v, "dtype")):
                arrays[f"optimizer.{idx}.{k}"] = np.require(
                    v.__array__() if isinstance(v, Tensor) else np.asarray(v), requirements="C")
            else:
                scalars["state"].setdefault(str(idx), {})[k] = v.item() if hasattr(v, "item") \
                    else v
    return scalars


def _read(filepath, who):
    path = os.fspath(filepath)
    if os.path.isdir(path):
        raise IsADirectoryError(f"{who}: {path} is a folder; shendu models are single files "
                                "written by model.save(path)")
    arrays, meta = _io.load_state_dict(path, metadata=True)
    return path, arrays, meta or {}


def _json(meta, key, path):
    try:
        return json.loads(meta[key])
    except (ValueError, TypeError):
        raise ValueError(f"{path}: the {key} entry is corrupt (not valid JSON)") from None


def _assign(model, arrays, saved_names, path, skip_mismatch=False):
    named = model._named_weights()
    keys = sorted(k for k in arrays if k.startswith("weights."))
    if len(keys) != len(named):
        raise ValueError(
            f"{path} holds {len(keys)} weights but model '{model.name}' has {len(named)}: the file "
            f"was saved from a different architecture.\n  in the file: "
            f"{', '.join((saved_names or keys)[:12])}\n  in the model: "
            f"{', '.join(n for n, _ in named[:12])}")
    pairs = []
    for i, (key, (name, t)) in enumerate(zip(keys, named)):
        a = arrays[key]
        if tuple(a.shape) != t.shape:
            saved = saved_names[i] if saved_names and i < len(saved_names) else key
            msg = (f"{path}: weight {i} ('{saved}' in the file, '{name}' in the model) has shape "
                   f"{tuple(a.shape)} in the file but {t.shape} in the model")
            if skip_mismatch:
                warnings.warn(msg + "; skipped", stacklevel=3)
                continue
            raise ValueError(msg)
        if a.dtype.kind != t.dtype.kind and not (a.dtype.kind in "iu" and t.dtype.kind in "iu"):
            raise ValueError(f"{path}: weight '{name}' has dtype {a.dtype} in the file but "
                             f"{t.dtype} in the model")
        pairs.append((t, a))
    for t, a in pairs:  # only now that every weight checked out
        t._data[...] = t.xp.asarray(a, dtype=t.dtype)
        t._version += 1


def load_model(filepath, custom_objects=None, compile=True):
    """Rebuild a model saved by ``model.save``: architecture, weights and (when
    ``compile=True`` and saved) the compile settings and optimizer state."""
    path, arrays, meta = _read(filepath, "load_model")
    fmt = meta.get(_KEY_FORMAT)
    if fmt != FORMAT:
        if fmt == WEIGHTS_FORMAT or _KEY_CONFIG not in meta:
            raise ValueError(f"{path} is not a shendu Keras model file (it holds no model config"
                             f"{'; it holds only weights' if fmt == WEIGHTS_FORMAT else ''}). "
                             "Build the model in code and call model.load_weights(path), or use "
                             "shendu.load(path) for a state dict")
        raise ValueError(f"{path}: unsupported model file format {fmt!r} (this shendu reads "
                         f"{FORMAT!r})")
    config = _json(meta, _KEY_CONFIG, path)
    names = _json(meta, _KEY_NAMES, path) if _KEY_NAMES in meta else None
    model = deserialize_layer(config, custom_objects)
    if not model.built:
        raise ValueError(f"{path}: the saved model has no input shape, so its weights can't be "
                         "created; save it after it has been built")
    _assign(model, arrays, names, path)
    if compile and _KEY_COMPILE in meta:
        cc = _json(meta, _KEY_COMPILE, path)
        metrics = [m if isinstance(m, str) else metrics_module.deserialize(m)
                   for m in cc.get("metrics") or []]
        loss = cc.get("loss")
        if isinstance(loss, dict):
            loss = losses_module.deserialize(loss)
        model.compile(optimizer=optimizers_module.deserialize(cc["optimizer"]), loss=loss,
                      metrics=metrics)
        if _KEY_OPTIMIZER in meta:
            _restore_optimizer(model, arrays, _json(meta, _KEY_OPTIMIZER, path), path)
    return model


def _restore_optimizer(model, arrays, scalars, path):
    opt = model.optimizer
    opt.build(model.trainable_weights)
    state = {}
    for key, a in arrays.items():
        if key.startswith("optimizer."):
            _, idx, name = key.split(".", 2)
            state.setdefault(int(idx), {})[name] = Tensor._make(a)
    for idx, values in (scalars.get("state") or {}).items():
        state.setdefault(int(idx), {}).update(values)
    groups = scalars.get("param_groups") or []
    try:
        opt.load_state_dict({"iterations": scalars.get("iterations", 0),
                             "inner": {"state": state, "param_groups": groups}})
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: the saved optimizer state does not fit the model ({e})") \
            from None


def save_weights(model, filepath, overwrite=True):
    """Write only ``model``'s weights (see the module docstring)."""
    path = os.fspath(filepath)
    _check_overwrite(path, overwrite)
    if not model.built:
        raise ValueError(f"model '{model.name}' is not built yet: call it on data before saving "
                         "its weights")
    arrays, names = _weights_arrays(model)
    _io.save_state_dict(arrays, path, metadata={_KEY_FORMAT: WEIGHTS_FORMAT,
                                                "shendu.version": _version,
                                                _KEY_NAMES: json.dumps(names)})


def load_weights(model, filepath, skip_mismatch=False):
    """Set ``model``'s weights from a ``save_weights`` / ``save`` file, or from a plain
    state dict saved with ``shendu.save(model.state_dict(), path)``."""
    path, arrays, meta = _read(filepath, "load_weights")
    if not model.built:
        raise ValueError(f"model '{model.name}' is not built yet, so it has no weights to load "
                         "into: call it on a batch of data (or model.build(input_shape)) first")
    if any(k.startswith("weights.") for k in arrays):
        names = _json(meta, _KEY_NAMES, path) if _KEY_NAMES in meta else None
        _assign(model, arrays, names, path, skip_mismatch)
        return
    loaded = _io.load(path)  # a state dict saved with shendu.save
    if not isinstance(loaded, dict):
        raise ValueError(f"{path} holds no Keras weights and no state dict")
    model.load_state_dict(loaded, strict=not skip_mismatch)
