"""Numerical gradients by central differences, and ``gradcheck`` against autograd.

The course's definition of the derivative, made symmetric for accuracy::

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

Use float64: with float32 the rounding error of f swamps the difference.
"""
from __future__ import annotations

import numpy as np

from .engine import grad as _grad
from .grad_mode import no_grad
from .tensor import Tensor


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` is a NumPy array or a Tensor; ``f`` takes the same kind and returns a scalar
    (number or one-element tensor). Returns an array shaped like ``x``.

    >>> import numpy as np
    >>> numerical_gradient(lambda v: (v ** 2).sum(), np.array([1.0, -2.0]))
    array([ 2., -4.])
    """
    is_tensor = isinstance(x, Tensor)
    arr = np.array(x._data if is_tensor else x, dtype=np.float64)
    wrap = (lambda a: Tensor._make(a)) if is_tensor else (lambda a: a)
    g = np.zeros_like(arr)
    flat, gflat = arr.reshape(-1), g.reshape(-1)
    with no_grad():
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            fp = float(_scalar(f(wrap(arr.copy()))))
            flat[i] = old - eps
            fm = float(_scalar(f(wrap(arr.copy()))))
            flat[i] = old
            gflat[i] = (fp - fm) / (2 * eps)
    return g


def _scalar(v):
    if isinstance(v, Tensor):
        v = v._data
    return np.asarray(v).reshape(-1)[0] if np.size(v) == 1 else np.asarray(v).sum()


def _jacobian_vector(fn, inputs, i, out_grad, eps):
    """Numerical d(sum(fn(inputs) * out_grad)) / d inputs[i]."""
    base = [t.detach() for t in inputs]

    def f(xi):
        args = list(base)
        args[i] = xi
        out = fn(*args)
        return (out._data * out_grad).sum()

    return numerical_gradient(f, base[i], eps)


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0):
    """Compare autograd's gradients of ``fn`` with central differences.

    ``inputs`` are float64 Tensors; those with ``requires_grad=True`` are checked. The
    output is reduced with a fixed random vector (so every output element counts),
    ``sum(fn(*inputs) * v)``. Returns True, or raises ``AssertionError`` naming the input
    and the worst element.

    >>> x = shendu.randn(3, dtype=shendu.float64, requires_grad=True)
    >>> gradcheck(shendu.tanh, [x])
    True
    """
    inputs = [t if isinstance(t, Tensor) else Tensor(t) for t in inputs]
    for k, t in enumerate(inputs):
        if t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {k} is {t.dtype}; use float64 inputs "
                            "(float32 rounding makes central differences meaningless)")
    out = fn(*inputs)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(out.shape)
    wrt = [k for k, t in enumerate(inputs) if t.requires_grad]
    if out.requires_grad:
        analytic = _grad(out, [inputs[k] for k in wrt], grad_outputs=Tensor._make(v),
                         allow_unused=True)
    else:  # the output does not depend on any input: every gradient is zero
        analytic = [None] * len(wrt)
    for k, ga in zip(wrt, analytic):
        gn = _jacobian_vector(fn, inputs, k, v, eps)
        ga = np.zeros_like(gn) if ga is None else np.asarray(ga._data, dtype=np.float64)
        if not np.allclose(ga, gn, atol=atol, rtol=rtol):
            err = np.abs(ga - gn)
            j = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
            msg = (f"gradcheck failed for input {k} (shape {inputs[k].shape}): at index {j} "
                   f"autograd gives {ga[j]!r}, central differences give {gn[j]!r} "
                   f"(max abs error {err.max():.3g})")
            if raise_exception:
                raise AssertionError(msg)
            return False
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=1):
    """Check second derivatives: gradcheck of ``x -> d sum(fn(x) * v) / dx``."""
    inputs = [t if isinstance(t, Tensor) else Tensor(t) for t in inputs]
    with no_grad():
        out_shape = fn(*[t.detach() for t in inputs]).shape
    v = Tensor._make(np.random.default_rng(seed).standard_normal(out_shape))
    wrt = [k for k, t in enumerate(inputs) if t.requires_grad]

    def first_grad(*xs):
        xs = [x if x.requires_grad or k not in wrt else x.detach().requires_grad_()
              for k, x in enumerate(xs)]
        from .grad_mode import enable_grad
        with enable_grad():
            out = fn(*xs)
            gs = _grad(out, [xs[k] for k in wrt], grad_outputs=v, create_graph=True,
                       allow_unused=True)
        total = None
        for g in gs:
            if g is None:
                continue
            s = g.reshape(-1)
            total = s if total is None else _cat_flat(total, s)
        return total

    return gradcheck(first_grad, inputs, eps=eps, atol=atol, rtol=rtol, seed=seed)


def _cat_flat(a, b):
    from ..ops import cat
    return cat([a, b])
