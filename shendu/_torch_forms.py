"""The function forms PyTorch adds around its ops: ``torch.abs_(x)`` (the in-place method
as a function), ``torch.permute_copy(x, dims)`` (a view op returning a copy), the
``torch.*`` spellings of ``nn.functional`` losses (with PyTorch's integer
``reduction`` codes), the RNN cells, and small helpers (``torch.gradient``,
``torch.histogramdd``, ``torch.frombuffer``, ``torch.sym_max``...).

New code should call the method (``x.abs_()``), ``clone()`` a result, or use
``shendu.nn.functional``; these exist so PyTorch programs run unchanged.

>>> import shendu
>>> x = shendu.tensor([-1.0, 2.0])
>>> _ = shendu.abs_(x); x
tensor([1., 2.])
>>> shendu.permute_copy(shendu.zeros(2, 3), (1, 0)).shape
(3, 2)
>>> shendu.gradient(shendu.tensor([1.0, 4.0, 9.0]))
(tensor([3., 4., 5.]),)
"""
from __future__ import annotations

import builtins
import math

import numpy as np

from . import ops as _ops
from .autograd.tensor import Tensor

# ``torch.<name>_(input, ...)`` is ``input.<name>_(...)``
_IN_PLACE_FUNCTIONS = """
abs_ acos_ acosh_ addmv_ arccos_ arccosh_ arcsin_ arcsinh_ arctan_ arctanh_ asin_ asinh_
atan_ atanh_ ceil_ clamp_ clamp_max_ clamp_min_ clip_ cos_ cosh_ deg2rad_ detach_ erf_
erfc_ exp2_ exp_ expm1_ fill_ fix_ floor_ frac_ gcd_ index_put_ lcm_ ldexp_ log10_ log1p_
log2_ log_ logit_ nan_to_num_ neg_ negative_ rad2deg_ reciprocal_ relu_ resize_as_ round_
rsqrt_ sigmoid_ sin_ sinc_ sinh_ sqrt_ square_ tan_ tanh_ trunc_ xlogy_ zero_
""".split()

# ``torch.<view>_copy(input, ...)`` is ``<view>(input, ...).clone()``
_COPY_FUNCTIONS = """
alias detach diagonal expand permute select split split_with_sizes squeeze t transpose
unbind unfold unsqueeze view
""".split()

__all__ = (_IN_PLACE_FUNCTIONS + [n + "_copy" for n in _COPY_FUNCTIONS] +
           ["slice_copy", "fill", "ravel", "real", "conj", "conj_physical", "resolve_conj",
            "resolve_neg", "is_conj", "is_neg", "get_device", "is_distributed",
            "gradient", "histogramdd", "frombuffer", "from_dlpack", "constant_pad_nd",
            "channel_shuffle", "frobenius_norm", "max_pool1d_with_indices",
            "binary_cross_entropy_with_logits", "cosine_embedding_loss",
            "hinge_embedding_loss", "kl_div", "margin_ranking_loss", "poisson_nll_loss",
            "rms_norm", "celu_", "selu_", "threshold_", "dropout_",
            "alpha_dropout_", "feature_dropout_", "lstm_cell", "gru_cell", "rnn_tanh_cell",
            "rnn_relu_cell", "sym_int", "sym_float", "sym_max", "sym_min", "sym_not",
            "sym_sqrt", "sym_sum", "sym_ite"])


def _in_place_function(name):
    def fn(input, *args, **kwargs):
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``input.{name}(...)``: the in-place method as a function."
    return fn


def _copy_function(view):
    def fn(input, *args, **kwargs):
        if view == "alias":
            out = input
        elif view == "detach":
            out = input.detach()
        else:
            out = getattr(input, view)(*args, **kwargs)
        if isinstance(out, (tuple, list)):
            return type(out)(o.clone() for o in out)
        return out.clone()
    fn.__name__ = fn.__qualname__ = view + "_copy"
    fn.__doc__ = f"``{view}`` of ``input`` as a new tensor (PyTorch's view-free form)."
    return fn


for _n in _IN_PLACE_FUNCTIONS:
    if _n not in ("relu_",):
        globals()[_n] = _in_place_function(_n)
for _n in _COPY_FUNCTIONS:
    globals()[_n + "_copy"] = _copy_function(_n)


def slice_copy(input, dim=0, start=None, end=None, step=1):
    """``input[..., start:end:step, ...]`` along ``dim``, as a new tensor."""
    d = dim % builtins.max(input.ndim, 1)
    return _ops.getitem(input, (slice(None),) * d + (slice(start, end, step),)).clone()


def fill(input, value):
    """A new tensor shaped like ``input`` filled with ``value`` (``torch.fill``)."""
    return _ops.full_like(input, value.item() if isinstance(value, Tensor) else value)


def ravel(input):
    """``input`` flattened to 1-D."""
    return _ops.flatten(input)


def real(input):
    """The real part: ``input`` itself (shendu has no complex dtypes)."""
    return input


conj = conj_physical = resolve_conj = resolve_neg = real


def is_conj(input):
    """False: shendu has no lazily-conjugated tensors."""
    return False


is_neg = is_conj


def get_device(input):
    """-1 for a CPU tensor, else the GPU index."""
    return input.get_device()


def is_distributed(input):
    """False: shendu tensors are never split across processes."""
    return False


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Central differences (one-sided at the ends) along each dimension in ``dim`` (all
    by default), as ``numpy.gradient``: a tuple with one tensor per dimension (no
    gradient flows through it)."""
    a = input.__array__()
    dims = tuple(range(a.ndim)) if dim is None else ((dim,) if isinstance(dim, int) else
                                                     tuple(dim))
    sp = spacing if isinstance(spacing, (list, tuple)) else [spacing] * len(dims)
    sp = [s.__array__() if isinstance(s, Tensor) else s for s in sp]
    out = np.gradient(a, *sp, axis=dims, edge_order=edge_order)
    out = out if isinstance(out, (list, tuple)) else [out]
    return tuple(Tensor(np.asarray(o, dtype=a.dtype if a.dtype.kind == "f" else np.float32))
                 for o in out)


def histogramdd(input, bins=10, *, range=None, weight=None, density=False):
    """``(hist, bin_edges)`` of the rows of an (N, D) tensor, as ``numpy.histogramdd``."""
    a = input.__array__()
    w = None if weight is None else weight.__array__()
    r = None if range is None else list(zip(range[::2], range[1::2]))
    b = [x.__array__() for x in bins] if isinstance(bins, (list, tuple)) and bins and \
        isinstance(bins[0], Tensor) else bins
    h, edges = np.histogramdd(a, bins=b, range=r, weights=w, density=density)
    return Tensor(h.astype(a.dtype)), [Tensor(e.astype(a.dtype)) for e in edges]


def frombuffer(buffer, *, dtype, count=-1, offset=0, requires_grad=False):
    """A 1-D tensor over the bytes of ``buffer`` (shares its memory, as PyTorch)."""
    from .backend import to_dtype
    t = Tensor._make(np.frombuffer(buffer, dtype=to_dtype(dtype), count=count, offset=offset))
    return t.requires_grad_(True) if requires_grad else t


def from_dlpack(ext_tensor):
    """A tensor sharing the memory of any DLPack-capable array (NumPy, CuPy, PyTorch)."""
    return Tensor._make(np.from_dlpack(ext_tensor))


def constant_pad_nd(input, pad, value=0):
    """``F.pad(input, pad, value=value)``."""
    return _ops.pad(input, tuple(pad), value=value)


def channel_shuffle(input, groups):
    """(N, g * k, *) -> view as (N, g, k, *), swap g and k, flatten back (ShuffleNet)."""
    n, c = input.shape[:2]
    if c % groups:
        raise ValueError(f"channel_shuffle: {c} channels do not divide into {groups} groups")
    rest = input.shape[2:]
    x = _ops.reshape(input, (n, groups, c // groups) + rest)
    return _ops.reshape(_ops.swapaxes(x, 1, 2), (n, c) + rest)


def frobenius_norm(input, dim=(-2, -1), keepdim=False):
    """``sqrt(sum(x ** 2))`` over ``dim``."""
    return _ops.norm(input, 2, tuple(dim) if isinstance(dim, (list, tuple)) else dim, keepdim)


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1,
                            ceil_mode=False):
    """``F.max_pool1d(..., return_indices=True)``: ``(output, indices)``."""
    from .nn import functional as F
    return F.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode=ceil_mode,
                        return_indices=True)


_REDUCTIONS = {0: "none", 1: "mean", 2: "sum"}


def _reduction(r):
    """PyTorch's ``torch.*`` losses take 0/1/2 (none/mean/sum); strings pass through."""
    return _REDUCTIONS.get(r, r) if not isinstance(r, str) else r


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction=1):
    """``F.binary_cross_entropy_with_logits`` with ``reduction`` 0/1/2 or a string."""
    from .nn import functional as F
    return F.binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(
        reduction), pos_weight=pos_weight)


def cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=1):
    from .nn import functional as F
    return F.cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(
        reduction))


def hinge_embedding_loss(input, target, margin=1.0, reduction=1):
    from .nn import functional as F
    return F.hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def kl_div(input, target, reduction=1, *, log_target=False):
    """``F.kl_div`` (the ``torch.kl_div`` form's 'mean' averages over every element)."""
    from .nn import functional as F
    r = _reduction(reduction)
    if r == "mean":
        return F.kl_div(input, target, reduction="sum", log_target=log_target) / \
            builtins.max(input.numel(), 1)
    return F.kl_div(input, target, reduction=r, log_target=log_target)


def margin_ranking_loss(input1, input2, target, margin=0.0, reduction=1):
    from .nn import functional as F
    return F.margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(
        reduction))


def poisson_nll_loss(input, target, log_input, full, eps, reduction):
    """``torch.poisson_nll_loss`` (every argument positional, as PyTorch's form)."""
    from .nn import functional as F
    return F.poisson_nll_loss(input, target, log_input, full, eps=eps,
                              reduction=_reduction(reduction))


def rms_norm(input, normalized_shape, weight=None, eps=None):
    from .nn import functional as F
    return F.rms_norm(input, normalized_shape, weight, eps)


def _write_back(input, out, name):
    return input._set(name, out._data)


def relu_(input):
    """``input.relu_()``."""
    return _write_back(input, _ops.relu(input.detach()), "relu_")


def celu_(input, alpha=1.0):
    return _write_back(input, _ops.celu(input.detach(), alpha), "celu_")


def selu_(input):
    return _write_back(input, _ops.selu(input.detach()), "selu_")


def threshold_(input, threshold, value):
    return _write_back(input, _ops.threshold(input.detach(), threshold, value), "threshold_")


def dropout_(input, p, train):
    from .ops.dropout import dropout
    return _write_back(input, dropout(input.detach(), p, train), "dropout_")


def alpha_dropout_(input, p, train):
    from .ops.dropout import alpha_dropout
    return _write_back(input, alpha_dropout(input.detach(), p, train), "alpha_dropout_")


def feature_dropout_(input, p, train):
    from .ops.dropout import _feature_dropout
    return _write_back(input, _feature_dropout(input.detach(), p, train, "feature_dropout_"),
                       "feature_dropout_")


def _linear(x, w, b):
    y = _ops.matmul(x, _ops.swapaxes(w, -1, -2))
    return y if b is None else y + b


def lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One LSTM step, PyTorch's gate order (i, f, g, o): returns ``(h', c')``.

    gates = x W_ih^T + b_ih + h W_hh^T + b_hh;  c' = f c + i g;  h' = o tanh(c')."""
    h, c = hx
    gates = _linear(input, w_ih, b_ih) + _linear(h, w_hh, b_hh)
    i, f, g, o = _ops.chunk(gates, 4, -1)
    c2 = _ops.sigmoid(f) * c + _ops.sigmoid(i) * _ops.tanh(g)
    return _ops.sigmoid(o) * _ops.tanh(c2), c2


def gru_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step, PyTorch's gate order (r, z, n): returns h'.

    n = tanh(x W_in + b_in + r (h W_hn + b_hn));  h' = (1 - z) n + z h."""
    gi = _ops.chunk(_linear(input, w_ih, b_ih), 3, -1)
    gh = _ops.chunk(_linear(hx, w_hh, b_hh), 3, -1)
    r = _ops.sigmoid(gi[0] + gh[0])
    z = _ops.sigmoid(gi[1] + gh[1])
    n = _ops.tanh(gi[2] + r * gh[2])
    return (1 - z) * n + z * hx


def rnn_tanh_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _ops.tanh(_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh))


def rnn_relu_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _ops.relu(_linear(input, w_ih, b_ih) + _linear(hx, w_hh, b_hh))


# torch.sym_*: shape arithmetic that torch.compile can trace; shendu runs eagerly, so
# these are the plain Python operations.
def sym_int(a):
    return builtins.int(a)


def sym_float(a):
    return builtins.float(a)


def sym_max(a, b):
    return builtins.max(a, b)


def sym_min(a, b):
    return builtins.min(a, b)


def sym_not(a):
    return not a


def sym_sqrt(a):
    return math.sqrt(a)


def sym_sum(args):
    return builtins.sum(args)


def sym_ite(b, t, f):
    return t if b else f
