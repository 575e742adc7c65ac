"""Linear algebra: matmul (``@``), dot, outer, einsum, tensordot.

``matmul`` follows ``torch.matmul`` / ``np.matmul``: the last two dimensions are the
matrices, leading dimensions are a batch that broadcasts, and a 1-D argument is a
vector (a row on the left, a column on the right, its dimension dropped from the
result). The gradients are the two transposed products, summed over broadcast batch
dimensions::

    C = A @ B      dL/dA = G @ B^T      dL/dB = A^T @ G

``einsum`` turns every two-operand contraction into one batched matrix product
(transpose, reshape, ``matmul``), so ``'bhqd,bhkd->bhqk'`` runs on BLAS; its gradient
for each operand is again an einsum, with the output's subscripts swapped in.
"""
from __future__ import annotations

import string

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import unbroadcast

__all__ = ["matmul", "dot", "outer", "einsum", "tensordot"]


def _as_tensor(x, name):
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (list, tuple, np.ndarray)) or (hasattr(x, "shape") and hasattr(x, "dtype")):
        return Tensor(x)
    raise TypeError(f"{name}: expected a Tensor, got {type(x).__name__} ({x!r}); "
                    "use mul (*) to multiply by a number")


def _cast(g, dtype):
    """``g`` as ``dtype``: gradients keep their input's dtype when dtypes were mixed."""
    if g is None or g.dtype == dtype:
        return g
    return g.to(dtype) if isinstance(g, Tensor) else g.astype(dtype)


def _tensor_mode(g):
    return isinstance(g, Tensor)


# ----------------------------------------------------------------------- matmul
class MatMul(Function):
    """C = A @ B, batched with broadcasting, 1-D operands as vectors.

    dL/dA = G @ B^T,   dL/dB = A^T @ G   (summed over broadcast batch dimensions).
    With a vector operand the products become outer products and vector-matrix
    products. A batch against one matrix ((..., n, k) @ (k, m)) is folded into a single
    2-D product, forward and backward, instead of one small product per batch element.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        if a.ndim > 2 and b.ndim == 2:  # fold the batch into the rows: one GEMM
            return (a.reshape(-1, a.shape[-1]) @ b).reshape(a.shape[:-1] + b.shape[-1:])
        return ctx.xp.matmul(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        ga = gb = None
        if a.ndim == 1 and b.ndim == 1:           # (n,) @ (n,) -> ()
            ga = g * b if need_a else None
            gb = g * a if need_b else None
        elif b.ndim == 1:                         # (..., k, n) @ (n,) -> (..., k)
            if need_a:
                ga = xp.expand_dims(g, -1) * b
            if need_b:
                gb = g.reshape(-1) @ a.reshape(-1, a.shape[-1])
        elif a.ndim == 1:                         # (n,) @ (..., n, m) -> (..., m)
            if need_a:
                if b.ndim == 2:
                    ga = b @ g
                else:
                    ga = (b @ xp.expand_dims(g, -1)).reshape(-1, b.shape[-2]).sum(axis=0)
            if need_b:
                gb = unbroadcast(xp.expand_dims(a, -1) * xp.expand_dims(g, -2), b.shape)
        elif a.ndim > 2 and b.ndim == 2:          # batch @ one matrix: fold the batch
            k, m = b.shape
            g2 = g.reshape(-1, m)
            if need_a:
                ga = (g2 @ b.swapaxes(-1, -2)).reshape(a.shape)
            if need_b:
                gb = a.reshape(-1, k).swapaxes(-1, -2) @ g2
        else:
            if need_a:
                ga = unbroadcast(g @ b.swapaxes(-1, -2), a.shape)
            if need_b:
                gb = unbroadcast(a.swapaxes(-1, -2) @ g, b.shape)
        return _cast(ga, a.dtype), _cast(gb, b.dtype)


def _check_matmul(name, a, b):
    sa, sb = a.shape, b.shape
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"{name}: both arguments need at least 1 dimension, got shapes "
                         f"{sa} and {sb}; use mul (*) to scale by a 0-d tensor")
    ka = sa[-1]
    kb = sb[-2] if b.ndim >= 2 else sb[0]
    if ka != kb:
        raise ValueError(f"{name}: shapes {sa} and {sb} cannot be multiplied ({ka} != {kb})")
    if a.ndim > 2 and b.ndim > 2 and sa[:-2] != sb[:-2]:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"{name}: the batch dimensions {sa[:-2]} and {sb[:-2]} of shapes "
                             f"{sa} and {sb} do not broadcast (align them from the right; "
                             "each pair must be equal or one of them 1)") from None


def matmul(a, b):
    """Matrix product with NumPy/PyTorch semantics (the ``@`` operator).

    ==================  ==================  ==================
    a                   b                   result
    ==================  ==================  ==================
    (n,)                (n,)                () (dot product)
    (k, n)              (n,)                (k,)
    (n,)                (n, m)              (m,)
    (k, n)              (n, m)              (k, m)
    (..., k, n)         (..., n, m)         (broadcast ..., k, m)
    ==================  ==================  ==================

    Batch dimensions broadcast: ``(2, 1, 3, 4) @ (5, 4, 2)`` gives ``(2, 5, 3, 2)``.

    >>> a = shendu.ones(2, 3); b = shendu.ones(3, 4)
    >>> (a @ b).shape
    (2, 4)
    >>> shendu.matmul(shendu.tensor([1., 2.]), shendu.tensor([3., 4.]))
    tensor(11.)
    """
    a, b = _as_tensor(a, "matmul"), _as_tensor(b, "matmul")
    _check_matmul("matmul", a, b)
    return MatMul.apply(a, b)


def dot(a, b):
    """Dot product of two 1-D tensors of the same length (like ``torch.dot``).

    >>> shendu.dot(shendu.tensor([1., 2., 3.]), shendu.tensor([4., 5., 6.]))
    tensor(32.)
    """
    a, b = _as_tensor(a, "dot"), _as_tensor(b, "dot")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"dot: expected two 1-D tensors, got shapes {a.shape} and {b.shape}; "
                         "use matmul (@) for matrices")
    if a.shape != b.shape:
        raise ValueError(f"dot: the tensors have different lengths ({a.shape[0]} and "
                         f"{b.shape[0]})")
    return MatMul.apply(a, b)


class Outer(Function):
    """C_ij = a_i b_j;   dL/da = G @ b,   dL/db = a @ G   (= G^T a)."""
    double_backward = True

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a[:, None] * b[None, :]

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return (_cast(g @ b, a.dtype) if ctx.needs_input_grad[0] else None,
                _cast(a @ g, b.dtype) if ctx.needs_input_grad[1] else None)


def outer(a, b):
    """Outer product of two 1-D tensors: ``out[i, j] = a[i] * b[j]``, shape (n, m).

    >>> shendu.outer(shendu.tensor([1., 2.]), shendu.tensor([1., 10., 100.]))
    tensor([[  1.,  10., 100.],
            [  2.,  20., 200.]])
    """
    a, b = _as_tensor(a, "outer"), _as_tensor(b, "outer")
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: expected two 1-D tensors, got shapes {a.shape} and "
                         f"{b.shape}; flatten them first (x.reshape(-1))")
    return Outer.apply(a, b)


# ----------------------------------------------------------------------- einsum
def _parse_einsum(equation, shapes):
    """Rewrite ``equation`` with explicit letters only (``...`` expanded, implicit output
    made explicit). Returns ``(input subscripts, output subscripts, letter sizes)``."""
    eq = equation.replace(" ", "")
    if eq.count("->") > 1:
        raise ValueError(f"einsum: equation {equation!r} has more than one '->'")
    lhs, rhs = eq.split("->") if "->" in eq else (eq, None)
    ins = lhs.split(",")
    if len(ins) != len(shapes):
        raise ValueError(f"einsum: equation {equation!r} names {len(ins)} operand(s) but "
                         f"{len(shapes)} were given")
    for s in ins + ([rhs] if rhs is not None else []):
        rest = s.replace("...", "", 1)
        bad = [c for c in rest if c not in string.ascii_letters]
        if bad:
            raise ValueError(f"einsum: invalid subscript {bad[0]!r} in {equation!r}; use "
                             "letters a-z, A-Z and at most one '...' per operand")
    used = {c for c in eq if c in string.ascii_letters}
    free = [c for c in string.ascii_letters if c not in used]
    ell_dims = []
    for k, (s, shape) in enumerate(zip(ins, shapes)):
        named = len(s.replace("...", ""))
        if "..." in s:
            if len(shape) < named:
                raise ValueError(f"einsum: operand {k} has {len(shape)} dimensions, fewer "
                                 f"than the {named} its subscripts {s!r} name")
            ell_dims.append(len(shape) - named)
        elif len(shape) != named:
            raise ValueError(f"einsum: operand {k} has {len(shape)} dimensions (shape "
                             f"{tuple(shape)}) but its subscripts {s!r} name {named}")
    n_ell = max(ell_dims, default=0)
    if n_ell > len(free):
        raise ValueError("einsum: too many dimensions for the letters left")
    ell = "".join(free[:n_ell])
    ins = [s.replace("...", ell[n_ell - (len(shape) - len(s) + 3):] if n_ell else "")
           if "..." in s else s for s, shape in zip(ins, shapes)]
    if rhs is None:  # implicit mode: '...' first, then the letters used once, sorted
        counts = {}
        for c in lhs.replace("...", ""):
            if c != ",":
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1))
    else:
        out = rhs.replace("...", ell)  # no '...' in the output: those dims are summed
    for c in out:
        if out.count(c) > 1:
            raise ValueError(f"einsum: output subscript {c!r} appears more than once "
                             f"in {equation!r}")
        if not any(c in s for s in ins):
            raise ValueError(f"einsum: output subscript {c!r} does not appear in any "
                             f"input of {equation!r}")
    sizes = {}
    for k, (s, shape) in enumerate(zip(ins, shapes)):
        own = {}
        for c, n in zip(s, shape):
            if c in own and own[c] != n:
                raise ValueError(f"einsum: subscript {c!r} is repeated in operand {k} "
                                 f"(shape {tuple(shape)}) with different sizes {own[c]} "
                                 f"and {n}")
            own[c] = n
            old = sizes.get(c)
            if old is None or old == 1:
                sizes[c] = n
            elif n != 1 and n != old:
                raise ValueError(f"einsum: subscript {c!r} has size {old} in one operand but "
                                 f"{n} in operand {k} (shape {tuple(shape)}) in {equation!r}")
    return ins, out, sizes


def _pair_contract(xp, sa, sb, out, a, b):
    """``einsum(f'{sa},{sb}->{out}', a, b)`` as one batched matmul (no repeated letters)."""
    def sum_alone(s, other, x):  # letters only this operand has and the output drops
        drop = tuple(i for i, c in enumerate(s) if c not in other and c not in out)
        if drop:
            x = x.sum(axis=drop)
            s = "".join(c for i, c in enumerate(s) if i not in drop)
        return s, x

    sa, a = sum_alone(sa, sb, a)
    sb, b = sum_alone(sb, sa, b)
    size = dict(zip(sa, a.shape))
    size.update(zip(sb, b.shape))
    batch = [c for c in out if c in sa and c in sb]
    contracted = [c for c in sa if c in sb and c not in out]
    a_keep = [c for c in sa if c not in sb]
    b_keep = [c for c in sb if c not in sa]

    def n(letters):
        p = 1
        for c in letters:
            p *= size[c]
        return p

    a2 = xp.transpose(a, [sa.index(c) for c in batch + a_keep + contracted])
    b2 = xp.transpose(b, [sb.index(c) for c in batch + contracted + b_keep])
    if batch:
        r = xp.matmul(a2.reshape(n(batch), n(a_keep), n(contracted)),
                      b2.reshape(n(batch), n(contracted), n(b_keep)))
    else:
        r = a2.reshape(n(a_keep), n(contracted)) @ b2.reshape(n(contracted), n(b_keep))
    order = batch + a_keep + b_keep
    r = r.reshape(tuple(size[c] for c in order))
    perm = [order.index(c) for c in out]
    return r if perm == list(range(len(perm))) else xp.transpose(r, perm)


def _contract(xp, ins, out, arrays):
    """Forward einsum on arrays, through BLAS where the contraction allows it."""
    if len(arrays) == 2 and all(len(set(s)) == len(s) for s in ins):
        return _pair_contract(xp, ins[0], ins[1], out, *arrays)
    r = xp.asarray(xp.einsum(",".join(ins) + "->" + out, *arrays,
                             optimize=len(arrays) > 2))
    if len(arrays) == 1 and xp.may_share_memory(r, arrays[0]):
        r = r.copy()  # NumPy returns views for transposes and diagonals; do not alias
    return r


class Einsum(Function):
    """out = einsum(ins -> out, *operands), with every letter's size already matched.

    dL/d(operand i) = einsum(out, other operands -> subscripts of i)(g, ...): the output
    takes the operand's place. A letter only operand i has is broadcast back; a letter
    repeated in operand i (a diagonal, 'ii->i') is written back through an identity.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, *arrays, ins, out, sizes):
        ctx.ins, ctx.out, ctx.sizes = ins, out, sizes
        ctx.save_for_backward(*arrays)
        return _contract(ctx.xp, ins, out, arrays)

    @staticmethod
    def backward(ctx, g):
        operands = ctx.saved_tensors
        ins, out, sizes, xp = ctx.ins, ctx.out, ctx.sizes, ctx.xp
        unused = set(string.ascii_letters) - set(out).union(*ins)
        fresh = iter(sorted(unused))
        grads = []
        for i, s in enumerate(ins):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            subs = [out] + [t for j, t in enumerate(ins) if j != i]
            ops = [g] + [t for j, t in enumerate(operands) if j != i]
            target, seen = "", set()
            for c in s:
                if c in seen:  # a diagonal: couple the copy to c with an identity
                    f = next(fresh)
                    subs.append(c + f)
                    ops.append(xp.eye(sizes[c], dtype=g.dtype))
                    target += f
                else:
                    target += c
                    seen.add(c)
            available = set("".join(subs))
            reduced = "".join(c for c in target if c in available)
            if _tensor_mode(g):
                r = xp.einsum(",".join(subs) + "->" + reduced, *ops)
            else:
                r = _contract(xp, subs, reduced, ops)
            if reduced != target:  # letters only this operand had: broadcast back
                shape = tuple(sizes[c] for c in target)
                r = xp.broadcast_to(r.reshape(tuple(n if c in available else 1
                                                    for c, n in zip(target, shape))), shape)
            grads.append(_cast(r, operands[i].dtype))
        return tuple(grads)


def einsum(equation, *operands, optimize=None):
    """Einstein summation: ``einsum('ij,jk->ik', a, b)`` is ``a @ b``.

    Each operand gets one letter per dimension; letters shared between operands are
    multiplied, letters missing from the output (after ``->``) are summed. Supports
    ``...`` for leading batch dimensions (broadcast like NumPy), size-1 broadcasting,
    the implicit output (no ``->``: the letters used once, sorted) and repeated letters
    in one operand (``'ii->i'``: the diagonal). Two-operand contractions run as one
    batched matrix product.

    Examples: ``'bij,bjk->bik'`` (batched matmul), ``'bhqd,bhkd->bhqk'`` (attention
    scores), ``'i,i->'`` (dot), ``'ij->ji'`` (transpose), ``'...ij,jk->...ik'``.

    >>> a = shendu.tensor([[1., 2.], [3., 4.]])
    >>> shendu.einsum('ij,j->i', a, shendu.tensor([1., 1.]))
    tensor([3., 7.])
    """
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])  # torch.einsum(eq, [a, b]) form
    if not isinstance(equation, str):
        raise TypeError(f"einsum: the first argument must be the equation string, got "
                        f"{type(equation).__name__}")
    operands = [_as_tensor(t, "einsum") for t in operands]
    ins, out, sizes = _parse_einsum(equation, [t.shape for t in operands])
    for k, (s, t) in enumerate(zip(ins, operands)):
        full = tuple(sizes[c] for c in s)
        if full != t.shape:  # size-1 dimensions broadcast (a differentiable expand)
            from .shape import broadcast_to
            operands[k] = broadcast_to(t, full)
    return Einsum.apply(*operands, ins=tuple(ins), out=out, sizes=sizes)


def tensordot(a, b, dims=2, *, axes=None):
    """Sum of products over chosen dimensions of ``a`` and ``b`` (``torch.tensordot``).

    Parameters
    ----------
    dims, axes : int or pair of sequences
        An int ``n`` contracts the last ``n`` dims of ``a`` with the first ``n`` of ``b``;
        ``([1, 2], [0, 1])`` contracts ``a``'s dims 1, 2 with ``b``'s dims 0, 1.
        ``axes`` is NumPy's name for it.

    The result has ``a``'s remaining dims, then ``b``'s.

    >>> shendu.tensordot(shendu.ones(2, 3, 4), shendu.ones(3, 4, 5), dims=2).shape
    (2, 5)
    """
    a, b = _as_tensor(a, "tensordot"), _as_tensor(b, "tensordot")
    if axes is not None:
        dims = axes
    if isinstance(dims, (int, np.integer)):
        n = int(dims)
        if n < 0 or n > a.ndim or n > b.ndim:
            raise ValueError(f"tensordot: dims={n} does not fit shapes {a.shape} and "
                             f"{b.shape}")
        da, db = list(range(a.ndim - n, a.ndim)), list(range(n))
    else:
        try:
            da, db = dims
        except (TypeError, ValueError):
            raise TypeError(f"tensordot: dims must be an int or a pair of lists, got "
                            f"{dims!r}") from None
        da = [da] if isinstance(da, (int, np.integer)) else list(da)
        db = [db] if isinstance(db, (int, np.integer)) else list(db)
        if len(da) != len(db):
            raise ValueError(f"tensordot: dims {da} and {db} must have the same length")
    for name, d, t in (("a", da, a), ("b", db, b)):
        for k in d:
            if not -t.ndim <= k < t.ndim:
                raise IndexError(f"tensordot: dimension {k} is out of range for {name} "
                                 f"with shape {t.shape}")
    da = [int(k) % a.ndim for k in da]
    db = [int(k) % b.ndim for k in db]
    if len(set(da)) != len(da) or len(set(db)) != len(db):
        raise ValueError(f"tensordot: a dimension is repeated in dims {da}, {db}")
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"tensordot: a's dim {i} has size {a.shape[i]} but b's dim {j} "
                             f"has size {b.shape[j]} (shapes {a.shape} and {b.shape})")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a.ndim)]
    sb = [None] * b.ndim
    for i, j in zip(da, db):
        sb[j] = sa[i]
    sb = [c if c is not None else next(letters) for c in sb]
    out = [c for k, c in enumerate(sa) if k not in da] + \
          [c for k, c in enumerate(sb) if k not in db]
    return Einsum.apply(a, b, ins=("".join(sa), "".join(sb)), out="".join(out),
                        sizes={**dict(zip(sa, a.shape)), **dict(zip(sb, b.shape))})
