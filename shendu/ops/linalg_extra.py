"""More linear algebra under PyTorch's names: ``mm``/``bmm``/``mv`` (``matmul`` with the
shapes checked), the fused ``addmm`` family, ``kron``, ``cdist``, ``trace``/``diag``,
``det``/``inverse``, ``cartesian_prod``, ``block_diag``, ``dist`` and ``renorm``.

Most are compositions of differentiable ops (``matmul``, ``getitem``, ``sum``...),
so their gradients come from those ops. ``det`` and ``inverse`` are Functions::

    d det(A) / dA = det(A) A^{-T}          d A^{-1} = -A^{-1} dA A^{-1}
                                           (so dL/dA = -A^{-T} G A^{-T})

>>> import shendu
>>> a = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> a.mm(shendu.eye(2))
tensor([[1., 2.],
        [3., 4.]])
>>> shendu.addmm(shendu.ones(2, 2), a, a, beta=0.0)
tensor([[ 7., 10.],
        [15., 22.]])
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from . import arithmetic as _ar
from . import linalg as _la
from . import reduce as _red
from . import shape as _sh
from .elementwise import _floating, _tensor
from .indexing import getitem

__all__ = ["mm", "bmm", "mv", "addmm", "addbmm", "baddbmm", "addmv", "addr", "ger", "inner",
           "vdot", "kron", "chain_matmul", "matrix_power", "cdist", "trace", "diagonal",
           "diag", "diag_embed", "diagflat", "det", "logdet", "slogdet", "inverse",
           "pinverse", "cartesian_prod", "block_diag", "dist", "renorm", "cross"]


def _need(x, ndim, name, what):
    x = _tensor(x, name)
    if x.ndim != ndim:
        raise RuntimeError(f"{name}: {what} must be a {ndim}-D tensor, got shape {x.shape}")
    return x


def mm(input, mat2):
    """Matrix product of two 2-D tensors: (n, m) @ (m, p) -> (n, p) (no broadcasting).

    >>> shendu.mm(shendu.ones(2, 3), shendu.ones(3, 1)).shape
    (2, 1)
    """
    a, b = _need(input, 2, "mm", "input"), _need(mat2, 2, "mm", "mat2")
    if a.shape[1] != b.shape[0]:
        raise RuntimeError(f"mm: shapes {a.shape} and {b.shape} cannot be multiplied "
                           f"({a.shape[1]} != {b.shape[0]})")
    return _la.matmul(a, b)


def bmm(input, mat2):
    """Batched matrix product: (b, n, m) @ (b, m, p) -> (b, n, p) (same batch size).

    >>> shendu.bmm(shendu.ones(4, 2, 3), shendu.ones(4, 3, 5)).shape
    (4, 2, 5)
    """
    a, b = _need(input, 3, "bmm", "input"), _need(mat2, 3, "bmm", "mat2")
    if a.shape[0] != b.shape[0] or a.shape[2] != b.shape[1]:
        raise RuntimeError(f"bmm: shapes {a.shape} and {b.shape} do not match: expected "
                           "(b, n, m) and (b, m, p)")
    return _la.matmul(a, b)


def mv(input, vec):
    """Matrix-vector product: (n, m) @ (m,) -> (n,)."""
    a, v = _need(input, 2, "mv", "input"), _need(vec, 1, "mv", "vec")
    if a.shape[1] != v.shape[0]:
        raise RuntimeError(f"mv: shapes {a.shape} and {v.shape} cannot be multiplied")
    return _la.matmul(a, v)


def _scaled(beta, x, alpha, prod):
    """beta * x + alpha * prod (beta = 0 ignores x, even nan in it, like PyTorch)."""
    prod = prod if alpha == 1 else prod * alpha
    if beta == 0:
        _tensor(x, "add*")
        return prod
    return _ar.add(prod, x, alpha=beta)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat1 @ mat2)``; ``input`` broadcasts to (n, p)."""
    return _scaled(beta, input, alpha, mm(mat1, mat2))


def addbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * sum_b batch1[b] @ batch2[b]`` -> (n, p)."""
    return _scaled(beta, input, alpha, _red.sum(bmm(batch1, batch2), 0))


def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """``beta * input + alpha * bmm(batch1, batch2)`` -> (b, n, p)."""
    return _scaled(beta, input, alpha, bmm(batch1, batch2))


def addmv(input, mat, vec, *, beta=1, alpha=1):
    """``beta * input + alpha * (mat @ vec)`` -> (n,)."""
    return _scaled(beta, input, alpha, mv(mat, vec))


def addr(input, vec1, vec2, *, beta=1, alpha=1):
    """``beta * input + alpha * outer(vec1, vec2)`` -> (n, m)."""
    return _scaled(beta, input, alpha, _la.outer(vec1, vec2))


def ger(input, vec2):
    """Outer product of two vectors (the old name of ``outer``)."""
    return _la.outer(input, vec2)


def inner(input, other):
    """Sum over the last dimension of both: (..., n) x (..., n) -> (a..., b...)."""
    a, b = _tensor(input, "inner"), _tensor(other, "inner")
    if a.ndim == 0 or b.ndim == 0:
        return _ar.mul(a, b)
    return _la.tensordot(a, b, ([-1], [-1]))


def vdot(input, other):
    """Dot product of two 1-D tensors (real: the same as ``dot``)."""
    return _la.dot(input, other)


def kron(input, other):
    """Kronecker product: block (i, j) of the result is ``input[i, j] * other``.

    >>> shendu.kron(shendu.tensor([1.0, 2.0]), shendu.tensor([1.0, 10.0]))
    tensor([ 1., 10.,  2., 20.])
    """
    a, b = _tensor(input, "kron"), _tensor(other, "kron")
    n = max(a.ndim, b.ndim)
    a = _sh.reshape(a, (1,) * (n - a.ndim) + a.shape)
    b = _sh.reshape(b, (1,) * (n - b.ndim) + b.shape)
    # interleave: a -> (a0, 1, a1, 1, ...), b -> (1, b0, 1, b1, ...)
    sa = sum(((s, 1) for s in a.shape), ())
    sb = sum(((1, s) for s in b.shape), ())
    out = _sh.reshape(a, sa) * _sh.reshape(b, sb)
    return _sh.reshape(out, tuple(x * y for x, y in zip(a.shape, b.shape)))


def chain_matmul(*matrices):
    """``m1 @ m2 @ ... @ mk`` of 2-D tensors (use ``torch.linalg.multi_dot`` in new code)."""
    if not matrices:
        raise ValueError("chain_matmul: expected at least one matrix")
    out = _need(matrices[0], 2, "chain_matmul", "each matrix")
    for m in matrices[1:]:
        out = mm(out, m)
    return out


def matrix_power(input, n):
    """``input`` multiplied by itself ``n`` times (n >= 0; n = 0 gives the identity).

    Repeated squaring, so the gradient flows through O(log n) products."""
    a = _tensor(input, "matrix_power")
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"matrix_power: expected square matrices (..., n, n), got {a.shape}")
    if n < 0:
        return matrix_power(inverse(a), -n)
    result, base = None, a
    if n == 0:
        eye = a.xp.broadcast_to(a.xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
        return Tensor._make(a.xp.array(eye))
    while n:
        if n & 1:
            result = base if result is None else _la.matmul(result, base)
        n >>= 1
        if n:
            base = _la.matmul(base, base)
    return result


def cdist(x1, x2, p=2.0, compute_mode=None):
    """Pairwise p-norm distances: (B.., P, M) x (B.., R, M) -> (B.., P, R).

    Computed as ``norm(x1[..., :, None, :] - x2[..., None, :, :], p, dim=-1)`` (exact,
    O(P R M) memory; the gradient at zero distance is 0, as in PyTorch).

    >>> shendu.cdist(shendu.tensor([[0.0, 0.0]]), shendu.tensor([[3.0, 4.0], [0.0, 1.0]]))
    tensor([[5., 1.]])
    """
    from .reduce_norm import norm
    a, b = _floating(x1, "cdist"), _floating(x2, "cdist")
    if a.ndim < 2 or b.ndim < 2 or a.shape[-1] != b.shape[-1]:
        raise RuntimeError(f"cdist: expected (..., P, M) and (..., R, M), got {a.shape} "
                           f"and {b.shape}")
    diff = _sh.unsqueeze(a, -2) - _sh.unsqueeze(b, -3)
    return norm(diff, p, -1)


def diagonal(input, offset=0, dim1=0, dim2=1):
    """The diagonal of the (dim1, dim2) planes, moved to the last dimension.

    ``offset`` > 0 is above the main diagonal, < 0 below. Differentiable (a gather).

    >>> shendu.diagonal(shendu.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor([1., 4.])
    """
    x = _tensor(input, "diagonal")
    x = _sh.moveaxis(x, (dim1, dim2), (-2, -1))
    n, m = x.shape[-2], x.shape[-1]
    i = np.arange(max(0, -offset), min(n, m - offset))
    return getitem(x, (Ellipsis, i, i + offset))


def trace(input):
    """Sum of the main diagonal of a 2-D tensor.

    >>> shendu.trace(shendu.tensor([[1.0, 2.0], [3.0, 4.0]]))
    tensor(5.)
    """
    return _red.sum(diagonal(_need(input, 2, "trace", "input")))


class _DiagEmbed(Function):
    """Y[..., i, i + k] = x[..., i];  dL/dx = G[..., i, i + k] (the diagonal of G)."""

    @staticmethod
    def forward(ctx, x, offset):
        n = x.shape[-1] + abs(offset)
        ctx.rows = np.arange(x.shape[-1]) + max(0, -offset)
        ctx.cols = ctx.rows + offset
        y = ctx.xp.zeros(x.shape[:-1] + (n, n), dtype=x.dtype)
        y[..., ctx.rows, ctx.cols] = x
        return y

    @staticmethod
    def backward(ctx, g):
        return g[..., ctx.rows, ctx.cols], None


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """Each last-dimension vector of ``input`` as the diagonal of a square matrix."""
    x = _tensor(input, "diag_embed")
    y = _DiagEmbed.apply(x, int(offset))
    if (dim1, dim2) != (-2, -1):
        y = _sh.moveaxis(y, (-2, -1), (dim1, dim2))
    return y


def diag(input, diagonal=0):
    """1-D input: a square matrix with it on the ``diagonal``; 2-D input: that diagonal.

    >>> shendu.diag(shendu.tensor([1.0, 2.0]))
    tensor([[1., 0.],
            [0., 2.]])
    """
    x = _tensor(input, "diag")
    if x.ndim == 1:
        return _DiagEmbed.apply(x, int(diagonal))
    if x.ndim == 2:
        return globals()["diagonal"](x, diagonal)
    raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {x.shape}")


def diagflat(input, offset=0):
    """``input`` flattened, as the diagonal of a square matrix."""
    return _DiagEmbed.apply(_sh.flatten(_tensor(input, "diagflat")), int(offset))


def _square(x, name):
    x = _floating(x, name)
    if x.ndim < 2 or x.shape[-1] != x.shape[-2]:
        raise RuntimeError(f"{name}: expected square matrices (..., n, n), got {x.shape}")
    return x


class _Det(Function):
    """y = det A;  dL/dA = g y A^{-T}."""

    @staticmethod
    def forward(ctx, a):
        y = ctx.xp.linalg.det(a)
        ctx.save_for_backward(a, y)
        return y

    @staticmethod
    def backward(ctx, g):
        a, y = ctx.saved_tensors
        inv_t = ctx.xp.swapaxes(ctx.xp.linalg.inv(a), -1, -2)
        return (g * y)[..., None, None] * inv_t


def det(input):
    """Determinant of square matrices (..., n, n) -> (...).

    >>> shendu.det(shendu.tensor([[2.0, 0.0], [0.0, 3.0]]))
    tensor(6.)
    """
    return _Det.apply(_square(input, "det"))


def slogdet(input):
    """``(sign, log|det|)`` of square matrices; log|det| is differentiable."""
    from .elementwise import abs, log, sign
    d = det(input)
    return sign(d).detach(), log(abs(d))


def logdet(input):
    """``log det A`` (nan for a negative determinant, -inf for a singular matrix)."""
    from .elementwise import log
    return log(det(input))


class _Inverse(Function):
    """Y = A^{-1};  dL/dA = -Y^T G Y^T."""

    @staticmethod
    def forward(ctx, a):
        y = ctx.xp.linalg.inv(a)
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        y, = ctx.saved_tensors
        yt = ctx.xp.swapaxes(y, -1, -2)
        return -(yt @ g @ yt)


def inverse(input):
    """Inverse of square matrices (..., n, n).

    >>> shendu.inverse(shendu.tensor([[2.0, 0.0], [0.0, 4.0]]))
    tensor([[0.5000, 0.0000],
            [0.0000, 0.2500]])
    """
    return _Inverse.apply(_square(input, "inverse"))


def pinverse(input, rcond=1e-15):
    """Moore-Penrose pseudo-inverse, ``(A^T A)^{-1} A^T`` for full column rank (and the
    transpose rule for full row rank), so it is differentiable through ``inverse``."""
    a = _floating(input, "pinverse")
    at = _sh.swapaxes(a, -1, -2)
    if a.shape[-2] >= a.shape[-1]:
        return _la.matmul(inverse(_la.matmul(at, a)), at)
    return _la.matmul(at, inverse(_la.matmul(a, at)))


def cartesian_prod(*tensors):
    """All combinations of the elements of 1-D tensors: (n1 * n2 * ..., k) (a 1-D tensor
    for one input), as ``itertools.product``.

    >>> shendu.cartesian_prod(shendu.tensor([1, 2]), shendu.tensor([3, 4]))
    tensor([[1, 3],
            [1, 4],
            [2, 3],
            [2, 4]])
    """
    from .join import stack
    from .shape_extra import meshgrid
    ts = [_need(t, 1, "cartesian_prod", "each input") for t in tensors]
    if len(ts) == 1:
        return ts[0]
    grids = meshgrid(*ts, indexing="ij")
    return stack([_sh.flatten(g) for g in grids], 1)


def block_diag(*tensors):
    """The tensors (0-, 1- or 2-D) as the diagonal blocks of one matrix."""
    from ..ops.padding import pad
    from .join import cat
    mats = []
    for t in tensors:
        t = _tensor(t, "block_diag")
        mats.append(_sh.reshape(t, (1, -1) if t.ndim < 2 else t.shape) if t.ndim < 2 else t)
    width = sum(m.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        rows.append(pad(m, (left, width - left - m.shape[1])))
        left += m.shape[1]
    return cat(rows, 0)


def dist(input, other, p=2):
    """The p-norm of ``input - other`` (broadcasting), a scalar.

    >>> shendu.dist(shendu.tensor([0.0, 0.0]), shendu.tensor([3.0, 4.0]))
    tensor(5.)
    """
    from .reduce_norm import norm
    return norm(_ar.sub(_floating(input, "dist"), other), p)


def renorm(input, p, dim, maxnorm):
    """Rescale each slice along ``dim`` whose p-norm exceeds ``maxnorm`` down to it.

    Slice i is multiplied by ``maxnorm / (||x_i||_p + 1e-7)`` where ``||x_i||_p >
    maxnorm`` (else left alone); the gradient flows through the norm too, as PyTorch's.

    >>> shendu.renorm(shendu.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0)
    tensor([[0.6000, 0.8000],
            [0.3000, 0.4000]])
    """
    from .reduce_norm import norm
    x = _floating(input, "renorm")
    d = dim % x.ndim
    others = tuple(i for i in range(x.ndim) if i != d)
    n = norm(x, p, others, True)
    over = Tensor._make(n._data > maxnorm)
    from .compare_select import where
    return x * where(over, maxnorm / (n + 1e-7), 1.0)


def cross(input, other, dim=None):
    """Cross product of 3-vectors along ``dim`` (the first dimension of size 3 if None).

    >>> shendu.cross(shendu.tensor([1.0, 0.0, 0.0]), shendu.tensor([0.0, 1.0, 0.0]))
    tensor([0., 0., 1.])
    """
    from .join import stack
    a, b = _tensor(input, "cross"), _tensor(other, "cross")
    if dim is None:
        dim = next((i for i, s in enumerate(a.shape) if s == 3), None)
        if dim is None:
            raise RuntimeError(f"cross: no dimension of size 3 in shape {a.shape}")
    if a.shape[dim] != 3 or b.shape[dim] != 3:
        raise RuntimeError(f"cross: dimension {dim} must have size 3, got {a.shape} and {b.shape}")
    a0, a1, a2 = _sh.moveaxis(a, dim, 0)[0], _sh.moveaxis(a, dim, 0)[1], _sh.moveaxis(a, dim, 0)[2]
    b0, b1, b2 = _sh.moveaxis(b, dim, 0)[0], _sh.moveaxis(b, dim, 0)[1], _sh.moveaxis(b, dim, 0)[2]
    out = stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], 0)
    return _sh.moveaxis(out, 0, dim % max(a.ndim, b.ndim))
