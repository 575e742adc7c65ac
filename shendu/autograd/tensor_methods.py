"""The method forms of every op on ``Tensor``: ``x.exp()``, ``x.sum(dim=1)``, ``a @ b``...

Each is one line that calls the function of the same name in ``shendu.ops``
(where the Function, its forward and its backward live). ``shendu.ops`` binds
itself here when it is imported (``_ops``), so this module needs no import cycle.
"""
from __future__ import annotations

_ops = None  # set by shendu/ops/__init__.py


class OpMethods:
    __slots__ = ()

    # ---------------------------------------------------------- operators
    def __add__(self, o): return _ops.add(self, o)
    def __radd__(self, o): return _ops.add(o, self)
    def __sub__(self, o): return _ops.sub(self, o)
    def __rsub__(self, o): return _ops.sub(o, self)
    def __mul__(self, o): return _ops.mul(self, o)
    def __rmul__(self, o): return _ops.mul(o, self)
    def __truediv__(self, o): return _ops.div(self, o)
    def __rtruediv__(self, o): return _ops.div(o, self)
    def __floordiv__(self, o): return _ops.floor_divide(self, o)
    def __rfloordiv__(self, o): return _ops.floor_divide(o, self)
    def __mod__(self, o): return _ops.remainder(self, o)
    def __rmod__(self, o): return _ops.remainder(o, self)
    def __pow__(self, o): return _ops.pow(self, o)
    def __rpow__(self, o): return _ops.pow(o, self)
    def __matmul__(self, o): return _ops.matmul(self, o)
    def __rmatmul__(self, o): return _ops.matmul(o, self)
    def __neg__(self): return _ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return _ops.abs(self)
    def __invert__(self): return _ops.logical_not(self)
    def __and__(self, o): return _ops.logical_and(self, o)
    def __or__(self, o): return _ops.logical_or(self, o)
    def __xor__(self, o): return _ops.logical_xor(self, o)
    def __eq__(self, o): return _ops.eq(self, o)
    def __ne__(self, o): return _ops.ne(self, o)
    def __lt__(self, o): return _ops.lt(self, o)
    def __le__(self, o): return _ops.le(self, o)
    def __gt__(self, o): return _ops.gt(self, o)
    def __ge__(self, o): return _ops.ge(self, o)
    def __getitem__(self, index): return _ops.getitem(self, index)

    # ---------------------------------------------------------- arithmetic
    def add(self, o, alpha=1): return _ops.add(self, o, alpha=alpha)
    def sub(self, o, alpha=1): return _ops.sub(self, o, alpha=alpha)
    subtract = sub
    def mul(self, o): return _ops.mul(self, o)
    multiply = mul
    def div(self, o, rounding_mode=None): return _ops.div(self, o, rounding_mode=rounding_mode)
    divide = true_divide = div
    def floor_divide(self, o): return _ops.floor_divide(self, o)
    def remainder(self, o): return _ops.remainder(self, o)
    def fmod(self, o): return _ops.fmod(self, o)
    def pow(self, o): return _ops.pow(self, o)
    def neg(self): return _ops.neg(self)
    negative = neg
    def eq(self, o): return _ops.eq(self, o)
    def ne(self, o): return _ops.ne(self, o)
    def lt(self, o): return _ops.lt(self, o)
    def le(self, o): return _ops.le(self, o)
    def gt(self, o): return _ops.gt(self, o)
    def ge(self, o): return _ops.ge(self, o)
    def equal(self, o): return _ops.equal(self, o)
    def allclose(self, o, rtol=1e-5, atol=1e-8): return _ops.allclose(self, o, rtol, atol)
    def isnan(self): return _ops.isnan(self)
    def isinf(self): return _ops.isinf(self)
    def isfinite(self): return _ops.isfinite(self)
    def logical_not(self): return _ops.logical_not(self)
    def clone(self): return _ops.clone(self)
    def contiguous(self): return self

    # ---------------------------------------------------------- elementwise math
    def abs(self): return _ops.abs(self)
    def sign(self): return _ops.sign(self)
    def exp(self): return _ops.exp(self)
    def log(self): return _ops.log(self)
    def log2(self): return _ops.log2(self)
    def log10(self): return _ops.log10(self)
    def log1p(self): return _ops.log1p(self)
    def expm1(self): return _ops.expm1(self)
    def sqrt(self): return _ops.sqrt(self)
    def rsqrt(self): return _ops.rsqrt(self)
    def square(self): return _ops.square(self)
    def reciprocal(self): return _ops.reciprocal(self)
    def sin(self): return _ops.sin(self)
    def cos(self): return _ops.cos(self)
    def tan(self): return _ops.tan(self)
    def tanh(self): return _ops.tanh(self)
    def sigmoid(self): return _ops.sigmoid(self)
    def floor(self): return _ops.floor(self)
    def ceil(self): return _ops.ceil(self)
    def round(self, decimals=0): return _ops.round(self, decimals=decimals)
    def clamp(self, min=None, max=None): return _ops.clamp(self, min, max)
    clip = clamp
    def maximum(self, o): return _ops.maximum(self, o)
    def minimum(self, o): return _ops.minimum(self, o)
    def where(self, condition, o): return _ops.where(condition, self, o)
    def lerp(self, end, weight): return _ops.lerp(self, end, weight)

    # ---------------------------------------------------------- activations
    def relu(self): return _ops.relu(self)
    def softmax(self, dim=None, axis=None): return _ops.softmax(self, dim=dim, axis=axis)
    def log_softmax(self, dim=None, axis=None): return _ops.log_softmax(self, dim=dim, axis=axis)

    # ---------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        return _ops.sum(self, dim, keepdim, axis=axis, keepdims=keepdims, dtype=dtype)
    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        return _ops.mean(self, dim, keepdim, axis=axis, keepdims=keepdims, dtype=dtype)
    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        return _ops.var(self, dim, unbiased, keepdim, correction=correction, axis=axis,
                        keepdims=keepdims, ddof=ddof)
    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=None, ddof=None):
        return _ops.std(self, dim, unbiased, keepdim, correction=correction, axis=axis,
                        keepdims=keepdims, ddof=ddof)
    def prod(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.prod(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.max(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.min(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def amax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.amax(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def amin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.amin(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def argmax(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.argmax(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def argmin(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.argmin(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def logsumexp(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.logsumexp(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def norm(self, p="fro", dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.norm(self, p, dim, keepdim, axis=axis, keepdims=keepdims)
    def cumsum(self, dim=None, *, axis=None): return _ops.cumsum(self, dim, axis=axis)
    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.all(self, dim, keepdim, axis=axis, keepdims=keepdims)
    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        return _ops.any(self, dim, keepdim, axis=axis, keepdims=keepdims)

    # ---------------------------------------------------------- linear algebra
    def matmul(self, o): return _ops.matmul(self, o)
    def dot(self, o): return _ops.dot(self, o)
    def outer(self, o): return _ops.outer(self, o)

    # ---------------------------------------------------------- shape
    def reshape(self, *shape): return _ops.reshape(self, *shape)
    def view(self, *shape): return _ops.reshape(self, *shape)
    def view_as(self, other): return _ops.reshape(self, other.shape)
    def reshape_as(self, other): return _ops.reshape(self, other.shape)
    def flatten(self, start_dim=0, end_dim=-1): return _ops.flatten(self, start_dim, end_dim)
    def ravel(self): return _ops.flatten(self)
    def unflatten(self, dim, sizes): return _ops.unflatten(self, dim, sizes)
    def squeeze(self, dim=None, *, axis=None): return _ops.squeeze(self, dim, axis=axis)
    def unsqueeze(self, dim): return _ops.unsqueeze(self, dim)
    def expand_dims(self, axis): return _ops.unsqueeze(self, axis)
    def transpose(self, *dims): return _ops.transpose(self, *dims)
    def permute(self, *dims): return _ops.permute(self, *dims)
    def swapaxes(self, a, b): return _ops.swapaxes(self, a, b)
    swapdims = swapaxes
    def moveaxis(self, src, dst): return _ops.moveaxis(self, src, dst)
    movedim = moveaxis
    @property
    def T(self): return _ops.permute(self, *reversed(range(self.ndim)))
    @property
    def mT(self): return _ops.swapaxes(self, -2, -1)
    def t(self): return _ops.transpose(self, 0, 1) if self.ndim == 2 else self
    def expand(self, *sizes): return _ops.expand(self, *sizes)
    def expand_as(self, other): return _ops.expand(self, *other.shape)
    def broadcast_to(self, shape): return _ops.broadcast_to(self, shape)
    def repeat(self, *sizes): return _ops.repeat(self, *sizes)
    def repeat_interleave(self, repeats, dim=None): return _ops.repeat_interleave(self, repeats, dim)
    def tile(self, *reps): return _ops.tile(self, *reps)
    def flip(self, *dims): return _ops.flip(self, *dims)
    def roll(self, shifts, dims=None): return _ops.roll(self, shifts, dims)
    def split(self, split_size_or_sections, dim=0): return _ops.split(self, split_size_or_sections, dim)
    def chunk(self, chunks, dim=0): return _ops.chunk(self, chunks, dim)
    def unbind(self, dim=0): return _ops.unbind(self, dim)
    def tril(self, diagonal=0): return _ops.tril(self, diagonal)
    def triu(self, diagonal=0): return _ops.triu(self, diagonal)

    # ---------------------------------------------------------- indexing
    def gather(self, dim, index): return _ops.gather(self, dim, index)
    def scatter_add(self, dim, index, src): return _ops.scatter_add(self, dim, index, src)
    def index_select(self, dim, index): return _ops.index_select(self, dim, index)
    def masked_fill(self, mask, value): return _ops.masked_fill(self, mask, value)
    def take_along_dim(self, indices, dim=None): return _ops.take_along_dim(self, indices, dim)
