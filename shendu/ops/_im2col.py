"""The array side of convolutions: im2col / col2im and the three GEMM-based linear maps.

Plain functions on NumPy/CuPy arrays (``xp``), used by the Functions in ``conv.py`` and
``conv_transpose.py``; the math is explained at the top of ``conv.py``.
"""
from __future__ import annotations

import numpy as np

from .. import kernels


# ----------------------------------------------------------------------- array helpers
def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def _windows(xp, x, kernel, stride, dilation, out):
    """The strided view ``v[n, c, *k, *o] = x[n, c, *(o * stride + k * dilation)]`` of an
    (already padded) array ``x`` of shape (N, C, *S): every patch, nothing copied."""
    st = x.strides
    shape = tuple(x.shape[:2]) + tuple(kernel) + tuple(out)
    strides = (st[:2] + tuple(d * s for d, s in zip(dilation, st[2:]))
               + tuple(s * t for s, t in zip(stride, st[2:])))
    return xp.lib.stride_tricks.as_strided(x, shape, strides)


def _pad_zeros(xp, x, pads):
    """``x`` (N, C, *S) with ``pads[i] = (before, after)`` zeros around spatial dim i."""
    if not any(b or a for b, a in pads):
        return x
    shape = tuple(x.shape[:2]) + tuple(s + b + a for s, (b, a) in zip(x.shape[2:], pads))
    out = xp.zeros(shape, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(b, b + s) for s, (b, _) in
                                           zip(x.shape[2:], pads))] = x
    return out


# The copies and adds here run on the calling thread. They sit between GEMMs, whose
# OpenBLAS threads spin for a while after each product: sharing a copy with a pool
# thread then means waiting for a core. Measured on 2 cores (AVX-512 EPYC, OpenBLAS on
# 2 threads): a LeNet training step 1.62x PyTorch's time with the copies shared among
# Python threads, 1.26x with them here; a DCGAN step 2.61x -> 1.95x.

def _im2col(xp, x, kernel, stride, pads, dilation, out, groups=1):
    """im2col, channel-major: the patches of ``x`` (N, C, *S) as one matrix per group,
    shape (groups, C/groups * prod(kernel), N * prod(out)), rows (c, *k), columns
    (n, *o). The only copy made; with all images in the columns, a convolution is one
    GEMM (one big matrix product threads better than N small ones)."""
    n, c = x.shape[:2]
    nk = len(kernel)
    view = _windows(xp, _pad_zeros(xp, x, pads), kernel, stride, dilation, out)
    view = view.transpose((1,) + tuple(range(2, 2 + nk)) + (0,) + tuple(range(2 + nk, 2 + 2 * nk)))
    cols = xp.empty(view.shape, dtype=x.dtype)
    cols[...] = view
    return cols.reshape(groups, c // groups * _prod(kernel), n * _prod(out))


def _im2col_per_image(xp, x, kernel, stride, pads, dilation, out, groups=1):
    """im2col, one matrix per image and group: (N, groups, C/groups * prod(kernel),
    prod(out))."""
    n, c = x.shape[:2]
    view = _windows(xp, _pad_zeros(xp, x, pads), kernel, stride, dilation, out)
    cols = xp.empty(view.shape, dtype=x.dtype)
    cols[...] = view
    return cols.reshape(n, groups, c // groups * _prod(kernel), _prod(out))


def _col2im(xp, cols, in_shape, kernel, stride, pads, dilation):
    """col2im, the adjoint of im2col: add every column entry back where it was read.

    ``cols`` has shape (A, B, *kernel, *out) for an image of shape ``in_shape`` =
    (A, B, *S) (A, B: images and channels in either order). One vectorized add per
    kernel offset (kh*kw of them): for a fixed offset the strided target positions never
    collide, so ``+=`` on the view is exact (no ``np.add.at``). With numba, 2-D float32 columns take one compiled
    pass instead (:func:`shendu.kernels.col2im2d`, 2-5x faster)."""
    a, b = in_shape[:2]
    spatial = len(kernel)
    out = tuple(cols.shape[2 + spatial:])
    padded = tuple(s + p + q for s, (p, q) in zip(in_shape[2:], pads))
    gx = xp.zeros((a, b) + padded, dtype=cols.dtype)
    if xp is np and spatial == 2 and kernels.col2im2d(cols, gx, stride, dilation):
        return _crop(gx, in_shape, pads)
    lead = (slice(None), slice(None))
    view = _windows(xp, gx, kernel, stride, dilation, out)
    for k in np.ndindex(*kernel):
        view[lead + k] += cols[lead + k]
    return _crop(gx, in_shape, pads)


def _crop(gx, in_shape, pads):
    """The padded image ``gx`` without its padding (a view)."""
    if any(p or q for p, q in pads):
        gx = gx[(slice(None), slice(None)) + tuple(slice(p, p + s) for s, (p, _) in
                                                   zip(in_shape[2:], pads))]
    return gx


def _to_channel_major(xp, a, groups):
    """(N, C, *S) -> (groups, C/groups, N * prod(S)), a compact copy."""
    n, c = a.shape[:2]
    size = _prod(a.shape[2:])
    out = xp.empty((c, n, size), dtype=a.dtype)
    out[...] = a.reshape(n, c, size).swapaxes(0, 1)
    return out.reshape(groups, c // groups, n * size)


def _from_channel_major(xp, a, n, c, spatial):
    """(C, N, *S), or any array holding those elements in that order, -> (N, C, *S), a
    fresh compact array (which the engine need not copy again)."""
    y = xp.empty((n, c) + tuple(spatial), dtype=a.dtype)
    y[...] = a.reshape((c, n) + tuple(spatial)).swapaxes(0, 1)
    return y


# Two layouts for the GEMMs. A big contraction (C/groups * prod(kernel) > 32) makes
# the products compute-bound: gather all images into the columns (channel-major) so each
# is ONE large GEMM, which BLAS threads well, at the price of transposing the result
# back to (N, C, ...). A small one (the first layer: 1 or 3 channels) is memory-bound:
# one GEMM per image straight into (N, C_out, L) saves those transposes (measured 1.4-1.7x
# faster for C_in = 1 and 3, about even at 288).
_PER_IMAGE_MAX = 32


def _per_image(w_shape):
    return w_shape[1] * _prod(w_shape[2:]) <= _PER_IMAGE_MAX


def _conv_forward(xp, x, w, stride, pads, dilation, groups):
    """y = conv(x, w) as arrays; also returns the im2col matrix (for dW)."""
    n = x.shape[0]
    o, cg = w.shape[:2]
    kernel = tuple(w.shape[2:])
    out = _out_shape(x.shape[2:], kernel, stride, pads, dilation)
    wm = w.reshape(groups, o // groups, cg * _prod(kernel))
    if _per_image(w.shape):
        cols = _im2col_per_image(xp, x, kernel, stride, pads, dilation, out, groups)
        y = xp.empty((n, o) + out, dtype=x.dtype)
        xp.matmul(wm, cols, out=y.reshape(n, groups, o // groups, _prod(out)))
        return y, cols
    cols = _im2col(xp, x, kernel, stride, pads, dilation, out, groups)
    return _from_channel_major(xp, xp.matmul(wm, cols), n, o, out), cols


def _conv_input_grad(xp, g, w, in_shape, stride, pads, dilation, groups, gm=None):
    """dx = conv^T(g, w): W^T g (one GEMM per group over all images), then col2im onto
    x's shape. ``gm``: g already channel-major, if the caller has it."""
    n = g.shape[0]
    out = tuple(g.shape[2:])
    o, cg = w.shape[:2]
    kernel = tuple(w.shape[2:])
    nk = len(kernel)
    wm = w.reshape(groups, o // groups, cg * _prod(kernel))
    if _per_image(w.shape):
        gcols = xp.matmul(wm.swapaxes(1, 2), g.reshape(n, groups, o // groups, _prod(out)))
        gx = _col2im(xp, gcols.reshape((n, cg * groups) + kernel + out), in_shape, kernel,
                     stride, pads, dilation)
        return gx if gx.base is None else xp.ascontiguousarray(gx)
    if gm is None:
        gm = _to_channel_major(xp, g, groups)
    gcols = xp.matmul(wm.swapaxes(1, 2), gm).reshape((cg * groups,) + kernel + (n,) + out)
    gcols = xp.moveaxis(gcols, 1 + nk, 1)  # (C, N, *kernel, *out), a view
    gx = _col2im(xp, gcols, (cg * groups, n) + tuple(in_shape[2:]), kernel, stride, pads,
                 dilation)
    return _from_channel_major(xp, gx, n, cg * groups, tuple(in_shape[2:]))


def _conv_weight_grad(xp, x, g, w_shape, stride, pads, dilation, groups, cols=None, gm=None):
    """dW = g cols^T, summed over images and positions (``cols``: x's im2col matrix in
    the layout ``_conv_forward`` made)."""
    if cols is None:
        im2col = _im2col_per_image if _per_image(w_shape) else _im2col
        cols = im2col(xp, x, tuple(w_shape[2:]), stride, pads, dilation, tuple(g.shape[2:]),
                      groups)
    if _per_image(w_shape):
        n, o = g.shape[:2]
        gn = g.reshape(n, groups, o // groups, _prod(g.shape[2:]))
        return xp.matmul(gn, cols.swapaxes(2, 3)).sum(axis=0).reshape(w_shape)
    if gm is None:
        gm = _to_channel_major(xp, g, groups)
    return xp.matmul(gm, cols.swapaxes(1, 2)).reshape(w_shape)


def _out_shape(spatial, kernel, stride, pads, dilation):
    return tuple((s + b + a - d * (k - 1) - 1) // st + 1
                 for s, k, st, (b, a), d in zip(spatial, kernel, stride, pads, dilation))


def _bias_view(b, ndim):
    return b.reshape((-1,) + (1,) * (ndim - 2))
