"""The ``torch.*`` helpers that are not ops: type tests (``is_tensor``...), dtype rules
(``promote_types``, ``finfo``), global switches (``set_printoptions``,
``use_deterministic_algorithms``, ``set_num_threads``...), random state
(``Generator``, ``seed``, ``get_rng_state``), ``inference_mode``, ``compile``,
``vmap`` and the control-flow helpers ``cond``/``while_loop``.

>>> import shendu
>>> shendu.is_tensor(shendu.ones(1)), shendu.promote_types(shendu.int64, shendu.float32)
(True, dtype('float32'))
>>> with shendu.inference_mode():
...     y = shendu.ones(2, requires_grad=True) * 2
>>> y.requires_grad
False
"""
from __future__ import annotations

import os
import sys
import warnings

import numpy as np

from . import backend
from .autograd.grad_mode import _Mode, _state
from .autograd.tensor import PRINT_OPTIONS, Tensor

__all__ = ["is_tensor", "is_storage", "is_floating_point", "is_complex", "is_same_size",
           "is_signed", "typename", "set_printoptions", "use_deterministic_algorithms",
           "are_deterministic_algorithms_enabled",
           "is_deterministic_algorithms_warn_only_enabled", "set_deterministic_debug_mode",
           "get_deterministic_debug_mode", "inference_mode", "is_inference_mode_enabled",
           "is_inference", "get_num_threads", "set_num_threads", "get_num_interop_threads",
           "set_num_interop_threads", "seed", "initial_seed", "get_rng_state",
           "set_rng_state", "Generator", "set_default_device", "get_default_device",
           "promote_types", "result_type", "can_cast", "finfo", "iinfo", "Size", "dtype",
           "compile", "set_float32_matmul_precision", "get_float32_matmul_precision",
           "set_anomaly_enabled", "is_anomaly_enabled", "is_anomaly_check_nan_enabled",
           "set_warn_always", "is_warn_always_enabled", "detach", "vmap", "cond",
           "while_loop", "set_flush_denormal", "init_num_threads"]


def is_tensor(obj):
    """True if ``obj`` is a shendu Tensor."""
    return isinstance(obj, Tensor)


def is_storage(obj):
    """False: shendu has no separate storage objects (a Tensor holds its array)."""
    return False


def is_floating_point(input):
    """True for float16/32/64 tensors."""
    return input.dtype.kind == "f"


def is_complex(input):
    """False: shendu has no complex dtypes."""
    return input.dtype.kind == "c"


def is_same_size(input, other):
    """True if both tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input):
    """True for signed dtypes (float and signed int)."""
    return input.dtype.kind in "fic"


def typename(obj):
    """``'torch.FloatTensor'``-style name of a tensor's type, else the Python type name."""
    if isinstance(obj, Tensor):
        names = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long",
                 "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                 "bool": "Bool"}
        return f"shendu.{names.get(str(obj.dtype), str(obj.dtype))}Tensor"
    return type(obj).__module__ + "." + type(obj).__qualname__ \
        if type(obj).__module__ != "builtins" else type(obj).__qualname__


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None,
                     profile=None, sci_mode=None):
    """How tensors print: ``precision`` decimals (4), summarise above ``threshold``
    elements (1000) showing ``edgeitems`` (3) at each end, ``linewidth`` (75),
    ``sci_mode`` True/False/None (automatic); ``profile`` 'default', 'short' or 'full'.

    >>> shendu.set_printoptions(precision=2); shendu.tensor([1.2345, 2.0])
    tensor([1.23, 2.00])
    >>> shendu.set_printoptions(profile="default")
    """
    if profile is not None:
        base = {"default": (4, 1000, 3, 75), "short": (2, 1000, 2, 75),
                "full": (4, sys.maxsize, 3, 75)}
        if profile not in base:
            raise ValueError(f"set_printoptions: profile must be 'default', 'short' or 'full', "
                             f"got {profile!r}")
        p, t, e, w = base[profile]
        PRINT_OPTIONS.update(precision=p, threshold=t, edgeitems=e, linewidth=w, sci_mode=None)
    for key, value in (("precision", precision), ("threshold", threshold),
                       ("edgeitems", edgeitems), ("linewidth", linewidth)):
        if value is not None:
            PRINT_OPTIONS[key] = value
    if sci_mode is not None:
        PRINT_OPTIONS["sci_mode"] = bool(sci_mode)


_DETERMINISTIC = {"on": False, "warn_only": False}


def use_deterministic_algorithms(mode, *, warn_only=False):
    """Record the request. Every shendu op is already deterministic on the CPU (NumPy
    reductions and scatters run in a fixed order), so nothing else changes."""
    _DETERMINISTIC.update(on=bool(mode), warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled():
    """What ``use_deterministic_algorithms`` last set (False by default)."""
    return _DETERMINISTIC["on"]


def is_deterministic_algorithms_warn_only_enabled():
    return _DETERMINISTIC["warn_only"]


def set_deterministic_debug_mode(debug_mode):
    """0/'default', 1/'warn', 2/'error' as in PyTorch (all map to the recorded flag)."""
    level = {"default": 0, "warn": 1, "error": 2}.get(debug_mode, debug_mode)
    _DETERMINISTIC.update(on=level > 0, warn_only=level == 1)


def get_deterministic_debug_mode():
    return 0 if not _DETERMINISTIC["on"] else (1 if _DETERMINISTIC["warn_only"] else 2)


class inference_mode(_Mode):
    """``no_grad`` for inference (PyTorch's faster variant; in shendu they are the same:
    no graph is recorded). A context manager and a decorator; ``inference_mode(False)``
    leaves the grad mode as it is."""

    def __init__(self, mode=True):
        self._on = bool(mode)

    @property
    def mode(self):
        return False if self._on else _state.enabled

    def __call__(self, fn):
        if not self._on:
            return fn
        return super().__call__(fn)


def is_inference_mode_enabled():
    """True inside ``inference_mode`` / ``no_grad`` (graph recording is off)."""
    return not _state.enabled


def is_inference(input):
    """True if ``input`` was made with graph recording off and needs no grad."""
    return not input.requires_grad and input.grad_fn is None


_THREADS = {"intra": os.cpu_count() or 1, "inter": os.cpu_count() or 1}


def get_num_threads():
    """The thread count set by ``set_num_threads`` (default: the CPU count)."""
    return _THREADS["intra"]


def set_num_threads(n):
    """Use ``n`` threads for shendu's parallel kernels (the numba kernels, when
    installed). BLAS threads are set by ``OPENBLAS_NUM_THREADS`` before start-up."""
    if int(n) < 1:
        raise ValueError(f"set_num_threads: expected a positive number, got {n}")
    _THREADS["intra"] = int(n)
    try:
        import numba
        numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))
    except (ImportError, ValueError):
        pass


def get_num_interop_threads():
    return _THREADS["inter"]


def set_num_interop_threads(n):
    """Recorded only: shendu runs ops one after another (no inter-op pool)."""
    _THREADS["inter"] = int(n)


def init_num_threads():
    """Nothing to initialise (kept for PyTorch programs that call it)."""


def seed():
    """Seed shendu's generator from OS entropy; returns the seed used."""
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    backend.manual_seed(s)
    return s


def initial_seed():
    """The seed last given to ``manual_seed`` (or ``seed``)."""
    return backend.rng.initial_seed


def get_rng_state():
    """The global NumPy generator's state (a dict; pass it to ``set_rng_state``)."""
    return backend.default_generator().bit_generator.state


def set_rng_state(new_state):
    """Restore a state from ``get_rng_state``."""
    backend.default_generator().bit_generator.state = new_state


class Generator:
    """A random generator of its own, for the ``generator=`` argument of sampling
    functions (and ``random_split``/``DataLoader``): ``Generator().manual_seed(0)``.

    >>> g = shendu.Generator().manual_seed(3)
    >>> a = shendu.multinomial(shendu.ones(5), 2, generator=g)
    >>> b = shendu.multinomial(shendu.ones(5), 2, generator=shendu.Generator().manual_seed(3))
    >>> bool((a == b).all())
    True
    """

    def __init__(self, device="cpu"):
        self.device = backend.Device(device)
        self._seed = None
        self.numpy_generator = np.random.default_rng()

    def manual_seed(self, seed):
        self._seed = int(seed)
        self.numpy_generator = np.random.default_rng(self._seed)
        return self

    def seed(self):
        self._seed = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.numpy_generator = np.random.default_rng(self._seed)
        return self._seed

    def initial_seed(self):
        return self._seed

    def get_state(self):
        return self.numpy_generator.bit_generator.state

    def set_state(self, state):
        self.numpy_generator.bit_generator.state = state
        return self


def set_default_device(device):
    """Only 'cpu' (or None) is accepted: shendu makes tensors on the CPU unless told
    otherwise in each call (``device=`` / ``.to``)."""
    if device is not None and backend.Device(device).type != "cpu":
        raise RuntimeError(f"set_default_device({device!r}): shendu creates tensors on the "
                           "CPU by default; pass device= to each creation call or use .to()")


def get_default_device():
    return backend.Device("cpu")


def promote_types(type1, type2):
    """The dtype both promote to (NumPy's table; int with float gives the float)."""
    a, b = backend.to_dtype(type1), backend.to_dtype(type2)
    if a.kind in "iub" and b.kind == "f":
        return b
    if b.kind in "iub" and a.kind == "f":
        return a
    return np.promote_types(a, b)


def result_type(tensor1, tensor2):
    """The dtype of an arithmetic result of the two (Python numbers do not upcast)."""
    def kind(x):
        return x.dtype if isinstance(x, (Tensor, np.ndarray)) else None
    a, b = kind(tensor1), kind(tensor2)
    if a is None and b is None:
        return backend.to_dtype(np.result_type(tensor1, tensor2))
    if a is None or b is None:
        t, other = (a, tensor2) if b is None else (b, tensor1)
        if isinstance(other, float) and t.kind in "iub":
            return backend.get_default_dtype()
        return t
    return promote_types(a, b)


def can_cast(from_, to):
    """True if casting ``from_`` to ``to`` is allowed by PyTorch's rules (no float to int,
    no number to bool)."""
    a, b = backend.to_dtype(from_), backend.to_dtype(to)
    order = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return order[a.kind] <= order[b.kind]


finfo = np.finfo
iinfo = np.iinfo
dtype = np.dtype


class Size(tuple):
    """A shape: a tuple of ints (``Tensor.shape`` is a plain tuple in shendu)."""

    def numel(self):
        n = 1
        for s in self:
            n *= s
        return n

    def __repr__(self):
        return f"shendu.Size({list(self)})"


def compile(model=None, **kwargs):
    """Returns ``model`` unchanged: shendu runs eagerly, there is no graph compiler.
    (Usable as ``compile(m)`` and as a decorator ``@compile`` / ``@compile(mode=...)``.)"""
    if model is None:
        return lambda m: m
    return model


_MATMUL_PRECISION = ["highest"]


def set_float32_matmul_precision(precision):
    """'highest', 'high' or 'medium': recorded only (NumPy float32 matmul is full precision)."""
    if precision not in ("highest", "high", "medium"):
        raise ValueError(f"set_float32_matmul_precision: expected 'highest', 'high' or "
                         f"'medium', got {precision!r}")
    _MATMUL_PRECISION[0] = precision


def get_float32_matmul_precision():
    return _MATMUL_PRECISION[0]


_ANOMALY = {"on": False, "nan": True}


def set_anomaly_enabled(enabled, check_nan=True):
    """Turn on nan checks: NumPy then raises FloatingPointError on invalid operations
    (0/0, inf - inf), which points at the op that made the first nan."""
    _ANOMALY.update(on=bool(enabled), nan=bool(check_nan))
    np.seterr(invalid="raise" if enabled and check_nan else "warn")


def is_anomaly_enabled():
    return _ANOMALY["on"]


def is_anomaly_check_nan_enabled():
    return _ANOMALY["nan"]


_WARN_ALWAYS = [False]


def set_warn_always(b):
    """Show shendu's warnings every time instead of once."""
    _WARN_ALWAYS[0] = bool(b)
    warnings.simplefilter("always" if b else "default")


def is_warn_always_enabled():
    return _WARN_ALWAYS[0]


def set_flush_denormal(mode):
    """Not supported by NumPy; returns False as PyTorch does on such CPUs."""
    return False


def detach(input):
    """``input.detach()``."""
    return input.detach()


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """Map ``func`` over a batch dimension: calls ``func`` on each slice (``in_dims``: an
    int for all arguments, or a tuple with None for unbatched ones) and stacks the
    results along ``out_dims``. A Python loop (no fusion), differentiable.

    >>> f = shendu.vmap(lambda v: v.sum())
    >>> f(shendu.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([3., 7.])
    """
    from .ops import stack

    def wrapped(*args):
        dims = in_dims if isinstance(in_dims, (tuple, list)) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries for {len(args)} arguments")
        sizes = {a.shape[d] for a, d in zip(args, dims) if d is not None}
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped dimensions must have one size, got {sizes}")
        n = sizes.pop()
        outs = []
        for i in range(n):
            sl = [a if d is None else a[(slice(None),) * (d % a.ndim) + (i,)]
                  for a, d in zip(args, dims)]
            outs.append(func(*sl))
        if isinstance(outs[0], tuple):
            return tuple(stack([o[k] for o in outs], out_dims) for k in range(len(outs[0])))
        return stack(outs, out_dims)
    return wrapped


def cond(pred, true_fn, false_fn, operands=()):
    """``true_fn(*operands)`` if ``pred`` else ``false_fn(*operands)`` (eager)."""
    return true_fn(*operands) if bool(pred) else false_fn(*operands)


def while_loop(cond_fn, body_fn, carried_inputs):
    """Run ``carried = body_fn(*carried)`` while ``cond_fn(*carried)`` holds (eager)."""
    carried = tuple(carried_inputs)
    while bool(cond_fn(*carried)):
        carried = tuple(body_fn(*carried))
    return carried
