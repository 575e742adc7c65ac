"""``get_config`` / ``from_config`` of Keras layers (a mixin of ``keras.layers.Layer``):
the constructor's arguments as JSON-compatible values, what model files store."""
from __future__ import annotations

import inspect
import json

__all__ = ["ConfigMixin"]


class ConfigMixin:
    """The config methods; ``Layer.__new__`` records the constructor's arguments."""

    def get_config(self):
        """The layer's constructor arguments as JSON-compatible values (for saving).

        For your own Layer/Model subclasses the arguments given to ``__init__`` are
        recorded automatically when they are plain values (numbers, strings, lists,
        dicts); otherwise override ``get_config`` (and ``from_config``)."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = list(self._batch_input_shape)
        if not type(self).__module__.startswith("shendu.keras"):
            config.update(self._auto_config())
        return config

    def _auto_config(self):
        cls = type(self)
        args, kwargs = self.__dict__.get("_init_args", ((), {}))
        try:
            bound = inspect.signature(cls.__init__).bind(self, *args, **kwargs)
        except TypeError:
            return {}
        out = {}
        for k, v in list(bound.arguments.items())[1:]:
            kind = inspect.signature(cls.__init__).parameters[k].kind
            items = v.items() if kind == inspect.Parameter.VAR_KEYWORD else [(k, v)]
            if kind == inspect.Parameter.VAR_POSITIONAL:
                if v:
                    raise NotImplementedError(f"{cls.__name__} takes *args; define get_config()")
                continue
            for name, value in items:
                try:
                    json.dumps(value)
                except (TypeError, ValueError):
                    raise NotImplementedError(
                        f"{cls.__name__}.__init__ received {name}={value!r}, which can't be saved "
                        "as JSON: define get_config() (and from_config()) for this class") \
                        from None
                out[name] = value
        return out

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if cls.__module__.startswith("shendu.keras"):
            return cls(**config)
        params = inspect.signature(cls.__init__).parameters
        takes_any = any(p.kind == inspect.Parameter.VAR_KEYWORD for p in params.values())
        extras = {k: config.pop(k) for k in ("name", "trainable", "dtype", "batch_input_shape")
                  if k in config and not takes_any and k not in params}
        obj = cls(**config)
        if "name" in extras:
            obj.name = extras["name"]
        if "trainable" in extras:
            obj.trainable = extras["trainable"]
        return obj
