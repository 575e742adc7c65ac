"""Cumulative and NaN-aware reductions under PyTorch's names: ``cumprod``, ``cummax``/
``cummin``, ``logcumsumexp``, ``diff``, ``trapezoid``/``cumulative_trapezoid``,
``nansum``/``nanmean``, ``var_mean``/``std_mean``, ``aminmax``.

``cumprod`` is a Function::

    y_i = x_0 x_1 ... x_i        dL/dx_k = sum_{i >= k} g_i y_i / x_k

(a reversed cumulative sum divided by x; where x has zeros the products are formed
without dividing). ``cummax``/``cummin`` find the running arg-extremum on the array
and ``gather`` the values, so the gradient goes to the element that is the running
maximum. The rest are compositions of differentiable ops.

>>> import shendu
>>> shendu.tensor([1.0, 2.0, 3.0]).cumprod(0)
tensor([1., 2., 6.])
>>> shendu.diff(shendu.tensor([1.0, 4.0, 9.0]))
tensor([3., 5.])
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import compare_select as _cs
from . import reduce as _red
from . import reduce_minmax as _mm
from . import shape as _sh
from .elementwise import _floating, _tensor
from .indexing import gather

__all__ = ["cumprod", "cummax", "cummin", "logcumsumexp", "diff", "trapezoid", "trapz",
           "cumulative_trapezoid", "nansum", "nanmean", "var_mean", "std_mean", "aminmax", "cov", "corrcoef"]

ValuesIndices = namedtuple("ValuesIndices", ["values", "indices"])
MinMax = namedtuple("MinMax", ["min", "max"])


def _dim(dim, ndim, name):
    if dim is None:
        raise TypeError(f"{name}: dim is required")
    if not -max(ndim, 1) <= dim < max(ndim, 1):
        raise IndexError(f"{name}: dimension {dim} is out of range for a tensor with {ndim} "
                         f"dimensions")
    return dim % max(ndim, 1)


def _cumprod_grad(xp, x, y, g, d):
    """sum_{i >= k} g_i dy_i/dx_k along axis d, exact also where x has zeros."""
    if not (x == 0).any():
        rev = xp.flip(xp.cumsum(xp.flip(g * y, d), axis=d), d)
        return rev / x
    xm = xp.moveaxis(x, d, -1)
    gm = xp.moveaxis(g, d, -1)
    n = xm.shape[-1]
    out = xp.zeros_like(xm)
    for k in range(n):  # dy_i/dx_k = prod_{j <= i, j != k} x_j for i >= k
        others = xm.copy()
        others[..., k] = 1
        prods = xp.cumprod(others, axis=-1)
        out[..., k] = (gm[..., k:] * prods[..., k:]).sum(-1)
    return xp.moveaxis(out, -1, d)


class CumProd(Function):
    """y_i = prod_{j <= i} x_j along one axis;  dL/dx_k = sum_{i >= k} g_i y_i / x_k."""

    @staticmethod
    def forward(ctx, x, d):
        y = ctx.xp.cumprod(x, axis=d)
        ctx.save_for_backward(x, y)
        ctx.d = d
        return y

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return _cumprod_grad(ctx.xp, x, y, g, ctx.d), None


def cumprod(input, dim, *, dtype=None):
    """Cumulative product along ``dim``: ``y[i] = x[0] * ... * x[i]``."""
    x = _tensor(input, "cumprod")
    if dtype is not None:
        x = x.to(dtype)
    if x.ndim == 0:
        return x.clone()
    d = _dim(dim, x.ndim, "cumprod")
    if x.dtype.kind not in "f":
        return Tensor._make(x.xp.cumprod(x._data, axis=d, dtype=np.int64))
    return CumProd.apply(x, d)


def _cum_extreme(x, d, better, name):
    xp, a = x.xp, x._data
    am = xp.moveaxis(a, d, -1)
    idx = xp.zeros(am.shape, dtype=np.int64)
    best = am[..., 0].copy()
    for i in range(1, am.shape[-1]):  # one pass, vectorised over the other dimensions
        take = better(am[..., i], best) | xp.isnan(am[..., i]) if a.dtype.kind == "f" \
            else better(am[..., i], best)
        best = xp.where(take, am[..., i], best)
        idx[..., i] = xp.where(take, i, idx[..., i - 1])
    idx = xp.moveaxis(idx, -1, d)
    it = Tensor._make(idx)
    return ValuesIndices(gather(x, d, it), it)


def cummax(input, dim):
    """Running maximum along ``dim`` and where it was: ``(values, indices)`` (ties take
    the later index, as PyTorch)."""
    x = _tensor(input, "cummax")
    if x.ndim == 0:
        return ValuesIndices(x.clone(), Tensor._make(np.zeros((), np.int64)))
    return _cum_extreme(x, _dim(dim, x.ndim, "cummax"), lambda v, b: v >= b, "cummax")


def cummin(input, dim):
    """Running minimum along ``dim`` and where it was: ``(values, indices)``."""
    x = _tensor(input, "cummin")
    if x.ndim == 0:
        return ValuesIndices(x.clone(), Tensor._make(np.zeros((), np.int64)))
    return _cum_extreme(x, _dim(dim, x.ndim, "cummin"), lambda v, b: v <= b, "cummin")


def logcumsumexp(input, dim):
    """``log(cumsum(exp(x)))`` along ``dim``, shifted by the maximum so it cannot overflow."""
    from .elementwise import exp, log
    x = _floating(input, "logcumsumexp")
    d = _dim(dim, x.ndim, "logcumsumexp") if x.ndim else 0
    if x.ndim == 0:
        return x.clone()
    m = x.xp.max(x._data, axis=d, keepdims=True)
    m = Tensor._make(x.xp.where(x.xp.isfinite(m), m, 0))
    return log(_red.cumsum(exp(x - m), d)) + m


def diff(input, n=1, dim=-1, prepend=None, append=None):
    """The n-th forward difference along ``dim``: ``out[i] = x[i + 1] - x[i]`` (n times),
    after joining ``prepend`` and ``append`` to the ends."""
    from .join import cat
    from .indexing import getitem
    x = _tensor(input, "diff")
    d = _dim(dim, x.ndim, "diff")
    parts = [p if isinstance(p, Tensor) else Tensor(p) for p in (prepend,) if p is not None]
    parts += [x] + [p if isinstance(p, Tensor) else Tensor(p) for p in (append,) if p is not None]
    if len(parts) > 1:
        x = cat(parts, d)
    lead = (slice(None),) * d
    for _ in range(n):
        if x.dtype.kind == "b":
            x = getitem(x, lead + (slice(1, None),)) ^ getitem(x, lead + (slice(None, -1),))
        else:
            x = getitem(x, lead + (slice(1, None),)) - getitem(x, lead + (slice(None, -1),))
    return x


def _spacing(y, x, dx, d, name):
    from .indexing import getitem
    lead = (slice(None),) * d
    if x is None:
        return dx
    x = _tensor(x, name)
    if x.ndim == 1:
        shape = [1] * y.ndim
        shape[d] = x.shape[0]
        x = _sh.reshape(x, tuple(shape))
    return getitem(x, lead + (slice(1, None),)) - getitem(x, lead + (slice(None, -1),))


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """The integral of ``y`` along ``dim`` by the trapezoid rule, with sample points ``x``
    or constant spacing ``dx`` (1 by default).

    >>> shendu.trapezoid(shendu.tensor([1.0, 2.0, 3.0]))
    tensor(4.)
    """
    from .indexing import getitem
    y = _floating(y, "trapezoid")
    d = _dim(dim, y.ndim, "trapezoid")
    lead = (slice(None),) * d
    mid = (getitem(y, lead + (slice(1, None),)) + getitem(y, lead + (slice(None, -1),))) / 2
    return _red.sum(mid * _spacing(y, x, 1.0 if dx is None else dx, d, "trapezoid"), d)


def trapz(y, x=None, *, dx=None, dim=-1):
    """The old name of ``trapezoid``."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """The running trapezoid-rule integral along ``dim`` (one element shorter)."""
    from .indexing import getitem
    y = _floating(y, "cumulative_trapezoid")
    d = _dim(dim, y.ndim, "cumulative_trapezoid")
    lead = (slice(None),) * d
    mid = (getitem(y, lead + (slice(1, None),)) + getitem(y, lead + (slice(None, -1),))) / 2
    return _red.cumsum(mid * _spacing(y, x, 1.0 if dx is None else dx, d,
                                      "cumulative_trapezoid"), d)


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    """Sum treating nan as 0 (nan elements get no gradient)."""
    x = _tensor(input, "nansum")
    if x.dtype.kind != "f":
        return _red.sum(x, dim, keepdim, dtype=dtype)
    clean = _cs.where(Tensor._make(x.xp.isnan(x._data)), 0.0, x)
    return _red.sum(clean, dim, keepdim, dtype=dtype)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    """Mean over the elements that are not nan."""
    x = _floating(input, "nanmean")
    count = (~x.xp.isnan(x._data)).sum(axis=dim if not isinstance(dim, list) else tuple(dim),
                                       keepdims=keepdim)
    return nansum(x, dim, keepdim, dtype=dtype) / Tensor._make(x.xp.asarray(count, x.dtype))


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(var, mean)`` in one call (``correction=1``, Bessel's, by default)."""
    x = _floating(input, "var_mean")
    return (_red.var(x, dim, unbiased, keepdim, correction=correction),
            _red.mean(x, dim, keepdim))


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """``(std, mean)`` in one call (``correction=1``, Bessel's, by default)."""
    x = _floating(input, "std_mean")
    return (_red.std(x, dim, unbiased, keepdim, correction=correction),
            _red.mean(x, dim, keepdim))


def aminmax(input, *, dim=None, keepdim=False):
    """``(min, max)`` over all elements or along ``dim``."""
    x = _tensor(input, "aminmax")
    return MinMax(_mm.amin(x, dim, keepdim), _mm.amax(x, dim, keepdim))


def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance of the variables in the rows of ``input`` (variables, observations):
    ``C = (X - m) W (X - m)^T / (sum w - correction)`` with the weighted mean m (weights
    w = fweights * aweights, 1 when not given; with aweights the divisor is PyTorch's
    ``sum w - correction * sum(w * aweights) / sum w``). A 1-D input is one variable.

    >>> shendu.cov(shendu.tensor([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    tensor([[ 1., -1.],
            [-1.,  1.]])
    """
    from .linalg import matmul
    x = _floating(input, "cov")
    if x.ndim > 2:
        raise RuntimeError(f"cov: expected a 1-D or 2-D (variables, observations) tensor, "
                           f"got shape {x.shape}")
    x = _sh.reshape(x, (1, -1)) if x.ndim < 2 else x
    n = x.shape[1]
    w = None
    for given in (fweights, aweights):
        if given is not None:
            g = _tensor(given, "cov").to(x.dtype)
            if g.shape != (n,):
                raise RuntimeError(f"cov: weights must have shape ({n},), got {g.shape}")
            w = g if w is None else w * g
    if w is None:
        mean = _red.mean(x, 1, True)
        xc = x - mean
        c = matmul(xc, _sh.swapaxes(xc, 0, 1)) / max(n - correction, 0)
    else:
        wsum = _red.sum(w)
        mean = _red.sum(x * w, 1, True) / wsum
        xc = x - mean
        if aweights is None:
            denom = wsum - correction
        else:
            a = _tensor(aweights, "cov").to(x.dtype)
            denom = wsum - correction * _red.sum(w * a) / wsum
        c = matmul(xc * w, _sh.swapaxes(xc, 0, 1)) / denom
    return _sh.reshape(c, ()) if c.shape == (1, 1) and _tensor(input, "cov").ndim < 2 else c


def corrcoef(input):
    """Pearson correlation of the rows: ``cov(x) / sqrt(diag diag^T)``, clipped to [-1, 1].

    >>> shendu.corrcoef(shendu.tensor([[0.0, 1.0, 2.0], [0.0, 2.0, 4.0]]))
    tensor([[1., 1.],
            [1., 1.]])
    """
    from .elementwise import sqrt
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = sqrt(_diag(c))
    return _cs.clamp(c / _sh.unsqueeze(d, 1) / _sh.unsqueeze(d, 0), -1.0, 1.0)


def _diag(c):
    from .indexing import getitem
    i = np.arange(c.shape[0])
    return getitem(c, (i, i))
