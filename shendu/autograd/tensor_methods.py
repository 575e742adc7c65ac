"""The method forms of every op on ``Tensor``: ``x.exp()``, ``x.sum(dim=1)``, ``a @ b``...

Each is one line that calls the function of the same name in ``shendu.ops``
(where the Function, its forward and its backward live). ``shendu.ops`` binds
itself here when it is imported (``_ops``), so this module needs no import cycle.
"""
from __future__ import annotations

import numpy as np

_ops = None  # set by shendu/ops/__init__.py


class OpMethods:
    __slots__ = ()

    def __getattr__(self, name):
        """Reached only when normal lookup fails (so real attributes cost nothing): a
        PyTorch method shendu lacks gets an AttributeError saying what to use instead
        (shendu/_torch_coverage.py); ``hasattr`` stays False for it."""
        if name == "_hooks":  # the slot is set by register_hook only: unset means none
            return None
        if name.startswith("_"):  # unset slots, dunder probes: the plain message, fast
            raise AttributeError(f"'Tensor' object has no attribute {name!r}")
        from .._torch_coverage import missing
        raise missing("Tensor", name)

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

    # ---------------------------------------------------------- PyTorch's other names
    def unfold(self, dimension, size, step): return _ops.unfold_windows(self, dimension, size, step)
    def scatter(self, dim, index, src=None, *, value=None, reduce=None):
        return _ops.scatter(self, dim, index, src, value=value, reduce=reduce)
    def masked_select(self, mask): return _ops.masked_select(self, mask)
    def take(self, index): return _ops.take(self, index)
    def sum_to_size(self, *size):
        """Sum over the dimensions broadcasting would have stretched to reach this shape."""
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        from ..ops._util import unbroadcast
        return unbroadcast(self, size)

    # ---------------------------------------------------------- new tensors like this one
    def new_tensor(self, data, *, dtype=None, device=None, requires_grad=False):
        """A new tensor from ``data`` with this tensor's dtype and device (unless given)."""
        return _ops.tensor(data, dtype=dtype or self.dtype, device=device or self.device,
                           requires_grad=requires_grad)
    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        """Zeros of ``size`` with this tensor's dtype and device (unless given)."""
        return _ops.zeros(*size, dtype=dtype or self.dtype, device=device or self.device,
                          requires_grad=requires_grad)
    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _ops.ones(*size, dtype=dtype or self.dtype, device=device or self.device,
                         requires_grad=requires_grad)
    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _ops.empty(*size, dtype=dtype or self.dtype, device=device or self.device,
                          requires_grad=requires_grad)
    def new_full(self, size, fill_value, *, dtype=None, device=None, requires_grad=False):
        return _ops.full(size, fill_value, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)
    def new_empty_strided(self, size, stride, *, dtype=None, device=None, requires_grad=False):
        return _ops.empty_strided(size, stride, dtype=dtype or self.dtype,
                                  device=device or self.device, requires_grad=requires_grad)

    # ---------------------------------------------------------- facts about the tensor
    def ndimension(self): return self.ndim
    def nelement(self): return self.numel()
    @property
    def itemsize(self): return self.dtype.itemsize
    @property
    def nbytes(self): return int(self._data.nbytes)
    def stride(self, dim=None):
        """Steps in elements between neighbours along each dimension (C order)."""
        st = tuple(s // self.dtype.itemsize for s in self._data.strides)
        return st if dim is None else st[dim]
    def dim_order(self): return tuple(range(self.ndim))
    def is_contiguous(self, memory_format=None): return bool(self._data.flags.c_contiguous)
    def is_complex(self): return self.dtype.kind == "c"
    def is_signed(self): return self.dtype.kind in "fic"
    def is_same_size(self, other): return tuple(self.shape) == tuple(other.shape)
    def is_inference(self): return not self.requires_grad and self.grad_fn is None
    def is_conj(self): return False
    def is_neg(self): return False
    def is_pinned(self): return False
    def is_distributed(self): return False
    def is_shared(self):
        from ..multiprocessing import is_shared
        return is_shared(self)
    def share_memory_(self):
        from ..multiprocessing import share_memory_
        return share_memory_(self)
    @property
    def is_cpu(self): return self.device.type == "cpu"
    is_sparse = is_sparse_csr = is_quantized = is_meta = is_nested = is_mkldnn = False
    def get_device(self): return -1 if self.device.type == "cpu" else (self.device.index or 0)
    def data_ptr(self): return int(self._data.__array_interface__["data"][0]) \
        if hasattr(self._data, "__array_interface__") else int(self._data.data.ptr)
    @property
    def output_nr(self): return self._out_index
    def pin_memory(self, device=None): return self

    # ---------------------------------------------------------- real-valued complex API
    @property
    def real(self): return self
    @property
    def mH(self): return _ops.swapaxes(self, -2, -1)
    @property
    def H(self): return _ops.transpose(self, 0, 1) if self.ndim == 2 else self
    def conj(self): return self
    conj_physical = resolve_conj = resolve_neg = conj
    def angle(self): return _ops.angle(self)

    # ---------------------------------------------------------- casts
    def byte(self): return self.to(np.dtype("uint8"))
    def char(self): return self.to(np.dtype("int8"))
    def short(self): return self.to(np.dtype("int16"))

    # ---------------------------------------------------------- in place: shape and values
    def _reshape_inplace(self, name, array):
        self._check_inplace(name)
        self._data = array
        self._version += 1
        return self
    def squeeze_(self, dim=None): return self._reshape_inplace("squeeze_", self.squeeze(dim)._data)
    def unsqueeze_(self, dim): return self._reshape_inplace("unsqueeze_", self.unsqueeze(dim)._data)
    def t_(self): return self._reshape_inplace("t_", self.t()._data)
    def transpose_(self, d0, d1): return self._reshape_inplace("transpose_", self.transpose(d0, d1)._data)
    swapaxes_ = swapdims_ = transpose_
    def resize_(self, *size):
        """Change the shape in place; new elements (if it grows) are zero."""
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        flat = self._data.reshape(-1)
        n = 1
        for s in size:
            n *= s
        if n > flat.size:
            flat = self.xp.concatenate([flat, self.xp.zeros(n - flat.size, self.dtype)])
        return self._reshape_inplace("resize_", flat[:n].reshape(size).copy())
    def resize_as_(self, other): return self.resize_(other.shape)
    def fill_diagonal_(self, fill_value, wrap=False):
        """Write ``fill_value`` on the main diagonal (all dimensions equal, or 2-D)."""
        out = self._data.copy()
        self.xp.fill_diagonal(out, fill_value, wrap=wrap)
        return self._set("fill_diagonal_", out)
    def apply_(self, callable):
        """Apply a Python function to each element, in place (slow; CPU only)."""
        f = np.vectorize(callable, otypes=[self.dtype])
        return self._set("apply_", f(self.__array__()) if self.numel() else self._data)
    def map_(self, tensor, callable):
        """``self[i] = callable(self[i], tensor[i])`` (broadcasting ``tensor``), in place."""
        f = np.vectorize(callable, otypes=[self.dtype])
        other = tensor.__array__() if hasattr(tensor, "__array__") else tensor
        return self._set("map_", f(self.__array__(), np.broadcast_to(other, self.shape)))

    # ---------------------------------------------------------- in place: random fills
    def _fill_random(self, name, draw):
        from .. import backend
        return self._set(name, draw(backend.default_generator(self.xp)).astype(self.dtype))
    def random_(self, from_=0, to=None):
        """Integers uniform in [from_, to) (to=None: [0, from_) if given, else up to the
        dtype's mantissa range, as PyTorch)."""
        if to is None:
            from_, to = (0, from_) if from_ else (0, 2 ** 24 if self.dtype == np.float32 else
                                                  2 ** 53 if self.dtype.kind == "f" else
                                                  np.iinfo(self.dtype).max)
        return self._fill_random("random_", lambda g: g.integers(from_, to, self.shape))
    def bernoulli_(self, p=0.5):
        p = p.__array__() if hasattr(p, "__array__") else p
        return self._fill_random("bernoulli_", lambda g: g.random(self.shape) < p)
    def exponential_(self, lambd=1.0):
        return self._fill_random("exponential_", lambda g: g.exponential(1.0 / lambd, self.shape))
    def geometric_(self, p):
        return self._fill_random("geometric_", lambda g: g.geometric(p, self.shape))
    def log_normal_(self, mean=1.0, std=2.0):
        return self._fill_random("log_normal_", lambda g: g.lognormal(mean, std, self.shape))
    def cauchy_(self, median=0.0, sigma=1.0):
        return self._fill_random("cauchy_",
                                 lambda g: median + sigma * g.standard_cauchy(self.shape))


# Method forms that are ``shendu.<name>(self, *args, **kwargs)`` exactly (the op's
# docstring is the method's): bound below, one line each in spirit.
_SAME_AS_FUNCTION = """
absolute acos acosh addbmm addcdiv addcmul addmm addmv addr adjoint aminmax arccos arccosh
arcsin arcsinh arctan arctan2 arctanh argsort argwhere asin asinh atan atan2 atanh baddbmm
bernoulli bincount bitwise_and bitwise_left_shift bitwise_not bitwise_or bitwise_right_shift
bitwise_xor bmm clamp_max clamp_min copysign cosh count_nonzero cross cummax cummin cumprod
deg2rad det diag diag_embed diagflat diagonal diff dist dsplit erf erfc exp2 fix fliplr
flipud float_power fmax fmin frac gcd ger greater greater_equal hardshrink heaviside histc
histogram hsplit hypot inner inverse is_nonzero isclose isneginf isposinf isreal kron
kthvalue lcm less less_equal logaddexp logaddexp2 logcumsumexp logdet logical_and logical_or
logical_xor logit matrix_power median mm mode msort multinomial mv nan_to_num nanmean
nanmedian nanquantile nansum narrow nonzero not_equal pinverse positive prelu quantile
rad2deg renorm rot90 select sgn signbit sinc sinh slogdet sort split_with_sizes
tensor_split topk trace trunc unique unique_consecutive vdot vsplit xlogy index_add
index_copy index_fill index_put masked_scatter put scatter_reduce select_scatter
slice_scatter diagonal_scatter cumsum
cov corrcoef ldexp frexp nextafter narrow_copy unsafe_chunk unsafe_split
unsafe_split_with_sizes isin searchsorted std_mean var_mean logsumexp index_reduce
nonzero_static
""".split()

# In-place forms ``x.<name>_(...)``: compute ``<name>`` out of place and write the result
# into ``x`` (Tensor._set: the in-place checks and the version counter).
_IN_PLACE = """
abs absolute acos acosh addbmm addmm addmv addr arccos arccosh arcsin arcsinh arctan2 arctan
arctanh asin asinh atan2 atan atanh baddbmm bitwise_and bitwise_left_shift bitwise_not
bitwise_or bitwise_right_shift bitwise_xor ceil clamp_max clamp_min copysign cos cosh
cumprod cumsum deg2rad divide eq erf erfc exp2 exp expm1 fix float_power floor
floor_divide fmod frac gcd ge greater greater_equal gt heaviside hypot lcm le lerp less
less_equal log10 log1p log2 log logical_and logical_not logical_or logical_xor logit lt
masked_fill multiply nan_to_num ne neg negative not_equal rad2deg reciprocal relu remainder
renorm round rsqrt scatter_add sgn sigmoid sign sin sinc sinh sqrt square subtract tan tanh
tril triu true_divide trunc xlogy index_add index_copy index_fill index_put masked_scatter
put scatter scatter_reduce ldexp nextafter index_reduce
""".split()


def _forward(name):
    def method(self, *args, **kwargs):
        return getattr(_ops, name)(self, *args, **kwargs)
    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"``shendu.{name}(self, ...)``; see that function."
    return method


def _in_place(name):
    def method(self, *args, **kwargs):
        out = getattr(type(self), name)(self.detach(), *args, **kwargs)
        return self._set(name + "_", out._data)
    method.__name__ = method.__qualname__ = name + "_"
    method.__doc__ = f"``{name}`` in place: ``x.{name}_(...)`` writes ``x.{name}(...)`` into x."
    return method


def bind_extra_methods(cls):
    """Add the forwarding and in-place methods to ``cls`` (the Tensor class), skipping
    names it defines itself."""
    for name in _SAME_AS_FUNCTION:
        if not hasattr(cls, name):
            setattr(cls, name, _forward(name))
    for name in _IN_PLACE:
        if not hasattr(cls, name + "_"):
            setattr(cls, name + "_", _in_place(name))
