"""Hook handles, and running a tensor's gradient hooks.

``tensor.register_hook(fn)`` asks the engine to call ``fn(grad)`` when the gradient of
that tensor has been computed; ``fn`` may return a replacement gradient (same shape).
``nn.Module``'s forward hooks use the same handle.
"""
from __future__ import annotations


class RemovableHandle:
    """Returned by ``register_hook``, ``register_forward_hook`` and friends;
    ``handle.remove()`` undoes the registration (also usable as a context manager)."""

    _next_id = 0

    def __init__(self, hooks):
        self._hooks = hooks
        self.id = RemovableHandle._next_id
        RemovableHandle._next_id += 1

    def remove(self):
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


# Set by the first register_hook: until then the engine skips looking for hooks at all.
any_registered = False


def run_tensor_hooks(t, g):
    """``g`` after the hooks registered on tensor ``t`` (in registration order).

    ``g`` is a raw array, or a Tensor under ``create_graph=True``; each hook gets a
    Tensor and may return None (keep the gradient) or a new one of the same shape.
    """
    hooks = getattr(t, "_hooks", None)  # the slot is only set by register_hook
    if not hooks:
        return g
    from .tensor import Tensor
    as_tensor = isinstance(g, Tensor)
    grad = g if as_tensor else Tensor._make(g)
    for hook in list(hooks.values()):
        new = hook(grad)
        if new is None:
            continue
        if not isinstance(new, Tensor):
            raise TypeError(f"a tensor hook must return None or a Tensor, got "
                            f"{type(new).__name__}")
        if tuple(new.shape) != tuple(grad.shape):
            raise RuntimeError(f"a tensor hook returned a gradient of shape {new.shape} "
                               f"for a tensor of shape {grad.shape}: they must match")
        grad = new
    return grad if as_tensor else grad._data
