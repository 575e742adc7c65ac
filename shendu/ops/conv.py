"""Convolutions: conv1d/2d/3d, conv_transpose1d/2d/3d, and the im2col pair unfold/fold.

How a convolution is computed here (im2col + one matrix product)
-----------------------------------------------------------------
A convolution slides a kernel over the image and takes a dot product at every stop.
Gather every patch the kernel sees into one column of a matrix (*im2col*), and all
those dot products become ONE matrix product::

    cols[n, (c, kh, kw), (oh, ow)] = x_padded[n, c, oh*stride + kh*dilation, ow*stride + kw*dilation]
    y[n, o, (oh, ow)]              = sum over (c, kh, kw) of W[o, (c, kh, kw)] * cols[n, (c, kh, kw), (oh, ow)]

The patches are read through a strided *view* of the padded input (no Python loop over
images, pixels or channels); reshaping that view into the matrix is the only copy.

The three linear maps of a convolution
--------------------------------------
``y = conv(x, W)`` is linear in ``x`` and in ``W``, so its gradients are again
convolution-like maps, and each is one Function here:

* ``Conv``:            y  = conv(x, W)
* ``ConvTranspose``:   dx = conv^T(g, W)  (the adjoint in x: col2im of W^T g; this is
  also ``conv_transpose2d``'s forward)
* ``ConvWeightGrad``:  dW = corr(x, g)    (the adjoint in W: g times cols^T)

Each one's backward is written with the other two, so the gradients are themselves
differentiable: second derivatives (``create_graph=True``, e.g. a WGAN-GP gradient
penalty through a DCGAN critic) work through every convolution.

Everything is written for any number of spatial dimensions (1-D, 2-D, 3-D share the
code) against ``ctx.xp`` (NumPy or CuPy).
"""
from __future__ import annotations

import numpy as np

from .. import parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "unfold", "fold"]

_SPATIAL = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_UNBATCHED = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}


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


def _assign(xp, dst, src, axis):
    """``dst[...] = src``; on the CPU, big copies are split along ``axis`` among the
    threads (NumPy copies release the GIL), as PyTorch's intra-op threads would."""
    if xp is not np:
        dst[...] = src
        return
    lead = (slice(None),) * axis

    def block(s, e):
        dst[lead + (slice(s, e),)] = src[lead + (slice(s, e),)]

    parallel.for_blocks(block, dst.shape[axis], unit=dst.size // max(dst.shape[axis], 1))


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
    _assign(xp, cols, view, 0 if c >= 8 else 1 + nk)  # threads split channels or images
    return cols.reshape(groups, c // groups * _prod(kernel), n * _prod(out))


def _im2col_per_image(xp, x, kernel, stride, pads, dilation, out, groups=1):
    """im2col, one matrix per image and group: (N, groups, C/groups * prod(kernel),
    prod(out))."""
    n, c = x.shape[:2]
    view = _windows(xp, _pad_zeros(xp, x, pads), kernel, stride, dilation, out)
    cols = xp.empty(view.shape, dtype=x.dtype)
    _assign(xp, cols, view, 0)
    return cols.reshape(n, groups, c // groups * _prod(kernel), _prod(out))


def _col2im(xp, cols, in_shape, kernel, stride, pads, dilation):
    """col2im, the adjoint of im2col: add every column entry back where it was read.

    ``cols`` has shape (A, B, *kernel, *out) for an image of shape ``in_shape`` =
    (A, B, *S) (A, B: images and channels in either order). One vectorized add per
    kernel offset (kh*kw of them): for a fixed offset the strided target positions never
    collide, so ``+=`` on the view is exact (no ``np.add.at``). On the CPU the threads
    take slabs of A (of B if A is small); cache-sized slabs measured slower, as each add
    then runs over many short rows."""
    a, b = in_shape[:2]
    spatial = len(kernel)
    out = tuple(cols.shape[2 + spatial:])
    padded = tuple(s + p + q for s, (p, q) in zip(in_shape[2:], pads))
    gx = xp.zeros((a, b) + padded, dtype=cols.dtype)
    lead = (slice(None), slice(None))
    axis = 0 if a >= 8 or a >= b else 1

    def slab(s, e):
        part = (slice(None),) * axis + (slice(s, e),)
        view = _windows(xp, gx[part], kernel, stride, dilation, out)
        src = cols[part]
        for k in np.ndindex(*kernel):
            view[lead + k] += src[lead + k]

    if xp is np:
        parallel.for_blocks(slab, gx.shape[axis], unit=gx.size // gx.shape[axis] * _prod(kernel))
    else:
        slab(0, gx.shape[axis])
    if any(p or q for p, q in pads):
        gx = gx[lead + tuple(slice(p, p + s) for s, (p, _) in zip(in_shape[2:], pads))]
    return gx


def _to_channel_major(xp, a, groups):
    """(N, C, *S) -> (groups, C/groups, N * prod(S)), a compact copy."""
    n, c = a.shape[:2]
    size = _prod(a.shape[2:])
    out = xp.empty((c, n, size), dtype=a.dtype)
    _assign(xp, out, a.reshape(n, c, size).swapaxes(0, 1), 0 if c >= 8 else 1)
    return out.reshape(groups, c // groups, n * size)


def _from_channel_major(xp, a, n, c, spatial):
    """(C, N, *S), or any array holding those elements in that order, -> (N, C, *S), a
    fresh compact array (which the engine need not copy again)."""
    y = xp.empty((n, c) + tuple(spatial), dtype=a.dtype)
    _assign(xp, y, a.reshape((c, n) + tuple(spatial)).swapaxes(0, 1), 1 if c >= 8 else 0)
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


# ----------------------------------------------------------------------- Functions
class Conv(Function):
    """y = conv(x, W) + b  (cross-correlation, as in every deep-learning framework).

    y[n, o, p] = b[o] + sum_{c, k} W[o, c, k] * x_pad[n, g(o)*C/G + c, p * stride + k * dilation]

    With G = dL/dy:  dL/dx = conv^T(G, W) (``ConvTranspose``),
    dL/dW = corr(x, G) (``ConvWeightGrad``),  dL/db = sum of G over images and positions.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups):
        ctx.conf = (stride, pads, dilation, groups)
        y, cols = _conv_forward(ctx.xp, x, w, stride, pads, dilation, groups)
        if b is not None:
            y += _bias_view(b, y.ndim)
        ctx.save_for_backward(x, w)
        ctx.cols = cols  # x's im2col matrix: dW needs it again
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.conf
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if ctx.tensor_mode:
            if need_x:
                gx = ConvTranspose.apply(g, w, None, stride, pads, dilation, groups,
                                         tuple(x.shape[2:]))
            if need_w:
                gw = ConvWeightGrad.apply(x, g, tuple(w.shape), stride, pads, dilation, groups)
        else:
            xp = ctx.xp
            gm = None if _per_image(w.shape) else _to_channel_major(xp, g, groups)
            if need_x:
                gx = _conv_input_grad(xp, g, w, x.shape, stride, pads, dilation, groups, gm)
            if need_w:
                gw = _conv_weight_grad(xp, x, g, w.shape, stride, pads, dilation, groups,
                                       ctx.cols, gm)
        if need_b:
            gb = g.sum(axis=(0,) + tuple(range(2, g.ndim)))
        return gx, gw, gb, None, None, None, None


class ConvTranspose(Function):
    """y = conv^T(x, W) + b: the adjoint of ``Conv`` in its input (a "deconvolution").

    Every input pixel scatters ``x[n, c] * W[c]`` into the output at ``p * stride``, and
    overlapping patches add up: col2im of W^T x. W has shape (C_in, C_out/G, *kernel),
    exactly the weight of the convolution this is the adjoint of.

    With G = dL/dy:  dL/dx = conv(G, W) (``Conv``),  dL/dW = corr(G, x)
    (``ConvWeightGrad`` with the roles of input and output swapped),  dL/db = sum of G.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups, out_spatial):
        ctx.conf = (stride, pads, dilation, groups)
        out_shape = (x.shape[0], w.shape[1] * groups) + tuple(out_spatial)
        y = _conv_input_grad(ctx.xp, x, w, out_shape, stride, pads, dilation, groups)
        if b is not None:
            y += _bias_view(b, y.ndim)
        ctx.save_for_backward(x, w)
        return y

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.conf
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        gx = gw = gb = None
        if ctx.tensor_mode:
            if need_x:
                gx = Conv.apply(g, w, None, stride, pads, dilation, groups)
            if need_w:
                gw = ConvWeightGrad.apply(g, x, tuple(w.shape), stride, pads, dilation, groups)
        else:
            xp = ctx.xp
            if need_x or need_w:
                gx, cols = _conv_forward(xp, g, w, stride, pads, dilation, groups)
                if need_w:
                    gw = _conv_weight_grad(xp, g, x, w.shape, stride, pads, dilation, groups,
                                           cols)
                if not need_x:
                    gx = None
        if need_b:
            gb = g.sum(axis=(0,) + tuple(range(2, g.ndim)))
        return gx, gw, gb, None, None, None, None, None


class ConvWeightGrad(Function):
    """dW = corr(x, g): the gradient of a convolution's weight, as its own op.

    dW[o, c, k] = sum_{n, p} g[n, o, p] * x_pad[n, c, p * stride + k * dilation]

    It is bilinear in (x, g). With H = dL/d(dW):  dL/dx = conv^T(g, H),
    dL/dg = conv(x, H). Only double backward ever records it.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, g, w_shape, stride, pads, dilation, groups):
        ctx.conf = (stride, pads, dilation, groups)
        ctx.save_for_backward(x, g)
        return _conv_weight_grad(ctx.xp, x, g, w_shape, stride, pads, dilation, groups)

    @staticmethod
    def backward(ctx, h):
        x, g = ctx.saved_tensors
        stride, pads, dilation, groups = ctx.conf
        need_x, need_g = ctx.needs_input_grad[:2]
        gx = gg = None
        if ctx.tensor_mode:
            if need_x:
                gx = ConvTranspose.apply(g, h, None, stride, pads, dilation, groups,
                                         tuple(x.shape[2:]))
            if need_g:
                gg = Conv.apply(x, h, None, stride, pads, dilation, groups)
        else:
            xp = ctx.xp
            if need_x:
                gx = _conv_input_grad(xp, g, h, x.shape, stride, pads, dilation, groups)
            if need_g:
                gg = _conv_forward(xp, x, h, stride, pads, dilation, groups)[0]
        return gx, gg, None, None, None, None, None


class Unfold(Function):
    """im2col: cols[n, (c, k), p] = x_pad[n, c, p * stride + k * dilation];
    dL/dx = col2im(G) (``Fold``), every patch's gradient added back where it was read."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, kernel, stride, pads, dilation):
        ctx.conf = (kernel, stride, pads, dilation)
        ctx.in_shape = x.shape
        out = _out_shape(x.shape[2:], kernel, stride, pads, dilation)
        view = _windows(ctx.xp, _pad_zeros(ctx.xp, x, pads), kernel, stride, dilation, out)
        cols = view.reshape(x.shape[0], x.shape[1] * _prod(kernel), _prod(out))
        return cols.copy() if ctx.xp.may_share_memory(cols, x) else cols  # never a view of x

    @staticmethod
    def backward(ctx, g):
        kernel, stride, pads, dilation = ctx.conf
        spatial = tuple(ctx.in_shape[2:])
        if ctx.tensor_mode:
            return Fold.apply(g, spatial, kernel, stride, pads, dilation), None, None, None, None
        out = _out_shape(spatial, kernel, stride, pads, dilation)
        cols = g.reshape(tuple(ctx.in_shape[:2]) + tuple(kernel) + out)
        gx = _col2im(ctx.xp, cols, ctx.in_shape, kernel, stride, pads, dilation)
        return gx, None, None, None, None


class Fold(Function):
    """col2im: y_pad[n, c, p * stride + k * dilation] += cols[n, (c, k), p], cropped;
    dL/dcols = im2col(G) (``Unfold``): each column entry reads the gradient where it landed."""
    double_backward = True

    @staticmethod
    def forward(ctx, cols, out_spatial, kernel, stride, pads, dilation):
        ctx.conf = (kernel, stride, pads, dilation)
        n, ck = cols.shape[:2]
        c = ck // _prod(kernel)
        out = _out_shape(out_spatial, kernel, stride, pads, dilation)
        y = _col2im(ctx.xp, cols.reshape((n, c) + tuple(kernel) + out), (n, c) + tuple(out_spatial),
                    kernel, stride, pads, dilation)
        return y.copy() if y.base is not None else y

    @staticmethod
    def backward(ctx, g):
        kernel, stride, pads, dilation = ctx.conf
        if ctx.tensor_mode:
            gc = Unfold.apply(g, kernel, stride, pads, dilation)
        else:
            gc = Unfold.forward(ctx, g, kernel, stride, pads, dilation)
        return gc, None, None, None, None, None


# ----------------------------------------------------------------------- argument checks
def _int_tuple(v, n, fn, arg, minimum):
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        v = (int(v),) * n
    elif isinstance(v, (tuple, list)) and all(isinstance(e, (int, np.integer))
                                            and not isinstance(e, bool) for e in v):
        v = tuple(int(e) for e in v)
        if len(v) == 1 and n > 1:
            v = v * n
    else:
        raise TypeError(f"{fn}: {arg} must be an int or a tuple of {n} ints, got {v!r}")
    if len(v) != n:
        raise ValueError(f"{fn}: {arg} must be an int or a tuple of {n} ints, got {v}")
    if any(e < minimum for e in v):
        raise ValueError(f"{fn}: {arg} must be {'positive' if minimum else 'non-negative'}, "
                         f"got {v}")
    return v


def _conv_pads(padding, n, kernel, stride, dilation, fn):
    """``padding`` (int, tuple, "same", "valid") as one (before, after) pair per dim."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{fn}: padding='same' is not supported for strided "
                                 f"convolutions (stride={stride}), like PyTorch; give the "
                                 "padding as numbers")
            return _same_pads(kernel, dilation)
        raise ValueError(f"{fn}: padding must be an int, a tuple, 'same' or 'valid', "
                         f"got {padding!r}")
    p = _int_tuple(padding, n, fn, "padding", 0)
    return tuple((e, e) for e in p)


def _as_input(x, fn):
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}: expected a Tensor input, got {type(x).__name__}; wrap it "
                        "with shendu.tensor(...)")
    return x


def _batched(x, n, fn):
    """(input with a batch dim, whether one was added); rank errors name the shapes."""
    if x.ndim == n + 2:
        return x, False
    if x.ndim == n + 1:
        from .shape import unsqueeze
        return unsqueeze(x, 0), True
    raise ValueError(f"{fn} expects input of shape {_SPATIAL[n]} or {_UNBATCHED[n]}, "
                     f"got {x.shape}")


def _unbatch(y, added):
    if not added:
        return y
    from .shape import squeeze
    return squeeze(y, 0)


def _check_dtypes(x, weight, bias, fn):
    if x.dtype != weight.dtype:
        got = f"an integer tensor ({x.dtype})" if x.dtype.kind in "iub" else x.dtype
        raise TypeError(f"{fn}: the input is {got} but the weight is {weight.dtype}; convert "
                        f"the input (x.to(shendu.{weight.dtype}))")
    if bias is not None and bias.dtype != weight.dtype:
        raise TypeError(f"{fn}: the bias is {bias.dtype} but the weight is {weight.dtype}")


def _check_fits(spatial, kernel, pads, dilation, fn):
    padded = tuple(s + b + a for s, (b, a) in zip(spatial, pads))
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if any(p < s for p, s in zip(padded, span)):
        dil = "" if all(d == 1 for d in dilation) else f" with dilation {dilation}"
        given = (tuple(b for b, _ in pads) if all(b == a for b, a in pads)
                 else tuple(pads))
        raise ValueError(f"{fn}: the kernel {_x(kernel)}{dil} spans {_x(span)}, larger than "
                         f"the padded input {_x(padded)} (input {_x(spatial)}, padding "
                         f"{given}); use a smaller kernel, more padding or a bigger input")


def _x(t):
    return "x".join(str(e) for e in t)


def _convnd(n, input, weight, bias, stride, padding, dilation, groups, fn):
    x, added = _batched(_as_input(input, fn), n, fn)
    if weight.ndim != n + 2:
        raise ValueError(f"{fn}: weight must be {n + 2}-D (out_channels, in_channels/groups, "
                         f"{', '.join('k' + str(i) for i in range(n))}), got shape {weight.shape}")
    stride = _int_tuple(stride, n, fn, "stride", 1)
    dilation = _int_tuple(dilation, n, fn, "dilation", 1)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    kernel = tuple(weight.shape[2:])
    o, cg = weight.shape[:2]
    if o % groups:
        raise ValueError(f"{fn}: out_channels ({o}, weight.shape[0]) must be divisible by "
                         f"groups ({groups})")
    if x.shape[1] != cg * groups:
        raise ValueError(f"{fn}: the weight of shape {weight.shape} with groups={groups} "
                         f"expects input with {cg * groups} channels (in_channels), got "
                         f"{x.shape[1]} channels (input shape {input.shape})")
    _check_dtypes(x, weight, bias, fn)
    if bias is not None and bias.shape != (o,):
        raise ValueError(f"{fn}: bias must have shape ({o},), got {bias.shape}")
    pads = _conv_pads(padding, n, kernel, stride, dilation, fn)
    _check_fits(x.shape[2:], kernel, pads, dilation, fn)
    return _unbatch(Conv.apply(x, weight, bias, stride, pads, dilation, groups), added)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) over sequences (PyTorch's ``F.conv1d``).

    Parameters
    ----------
    input : Tensor (N, C_in, L) or (C_in, L)
    weight : Tensor (C_out, C_in / groups, k)
    bias : Tensor (C_out,), optional
    stride, dilation : int or (int,)
    padding : int, (int,), ``"valid"`` (none) or ``"same"`` (output length = input
        length; needs stride 1; an odd total padding puts the extra zero on the right)
    groups : int, split the channels into independent groups (``groups=C_in`` with
        ``C_out = k * C_in`` is a depthwise convolution)

    Returns
    -------
    Tensor (N, C_out, L_out), ``L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1``

    >>> x = shendu.tensor([[[1.0, 2.0, 3.0, 4.0]]])          # (N=1, C=1, L=4)
    >>> F.conv1d(x, shendu.tensor([[[1.0, 0.0, -1.0]]]))     # a difference filter
    tensor([[[-2., -2.]]])
    """
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups, "conv1d")


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) over images (PyTorch's ``F.conv2d``).

    ``y[n, o, i, j] = b[o] + sum_{c, u, v} W[o, c, u, v] * x_pad[n, c, i*s + u*d, j*s + v*d]``
    computed as im2col (a strided view of the patches, see ``unfold``) and one matrix
    product.

    Parameters
    ----------
    input : Tensor (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor (C_out, C_in / groups, kH, kW)
    bias : Tensor (C_out,), optional
    stride, dilation : int or (int, int)
    padding : int, (int, int), ``"valid"`` (none) or ``"same"`` (output size = input
        size; needs stride 1; for even kernels the extra row/column goes bottom/right,
        as in PyTorch)
    groups : int; ``groups = C_in`` with ``C_out = m * C_in`` is a depthwise convolution

    Returns
    -------
    Tensor (N, C_out, H_out, W_out),
    ``H_out = (H + pad_top + pad_bottom - dilation (kH - 1) - 1) // stride + 1`` (same for W)

    >>> x = shendu.arange(16.0).reshape(1, 1, 4, 4)
    >>> edge = shendu.tensor([[[[1.0, 0.0, -1.0]] * 3]])     # (1, 1, 3, 3) vertical edges
    >>> F.conv2d(x, edge)
    tensor([[[[-6., -6.],
              [-6., -6.]]]])
    >>> F.conv2d(x, edge, padding="same").shape
    (1, 1, 4, 4)
    """
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups, "conv2d")


def conv3d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """3-D convolution over volumes (PyTorch's ``F.conv3d``): as ``conv2d`` with a depth
    dimension. input (N, C_in, D, H, W) or (C_in, D, H, W), weight
    (C_out, C_in / groups, kD, kH, kW); returns (N, C_out, D_out, H_out, W_out).

    >>> F.conv3d(shendu.ones(1, 1, 3, 3, 3), shendu.ones(1, 1, 2, 2, 2)).shape
    (1, 1, 2, 2, 2)
    """
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups, "conv3d")


# ----------------------------------------------------------------------- transposed
def _transposed_out(spatial, kernel, stride, padding, output_padding, dilation):
    return tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, k, st, p, op, d in
                 zip(spatial, kernel, stride, padding, output_padding, dilation))


def _conv_transposend(n, input, weight, bias, stride, padding, output_padding, groups,
                      dilation, fn):
    x, added = _batched(_as_input(input, fn), n, fn)
    if weight.ndim != n + 2:
        raise ValueError(f"{fn}: weight must be {n + 2}-D (in_channels, out_channels/groups, "
                         f"{', '.join('k' + str(i) for i in range(n))}), got shape {weight.shape}")
    stride = _int_tuple(stride, n, fn, "stride", 1)
    dilation = _int_tuple(dilation, n, fn, "dilation", 1)
    if isinstance(padding, str):
        raise ValueError(f"{fn}: padding must be an int or a tuple of ints (PyTorch has no "
                         f"'same'/'valid' for transposed convolutions), got {padding!r}")
    padding = _int_tuple(padding, n, fn, "padding", 0)
    output_padding = _int_tuple(output_padding, n, fn, "output_padding", 0)
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{fn}: groups must be a positive integer, got {groups!r}")
    groups = int(groups)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise ValueError(f"{fn}: output_padding {output_padding} must be smaller than "
                             f"either stride {stride} or dilation {dilation}")
    c_in, cg = weight.shape[:2]
    if c_in % groups:
        raise ValueError(f"{fn}: in_channels ({c_in}, weight.shape[0]) must be divisible by "
                         f"groups ({groups})")
    if x.shape[1] != c_in:
        raise ValueError(f"{fn}: the weight of shape {weight.shape} expects input with "
                         f"{c_in} channels (in_channels), got {x.shape[1]} channels (input "
                         f"shape {input.shape})")
    _check_dtypes(x, weight, bias, fn)
    if bias is not None and bias.shape != (cg * groups,):
        raise ValueError(f"{fn}: bias must have shape ({cg * groups},), got {bias.shape}")
    kernel = tuple(weight.shape[2:])
    out = _transposed_out(x.shape[2:], kernel, stride, padding, output_padding, dilation)
    if any(s <= 0 for s in out):
        raise ValueError(f"{fn}: the output size {out} is not positive (input "
                         f"{tuple(x.shape[2:])}, kernel {kernel}, stride {stride}, padding "
                         f"{padding}); use less padding")
    pads = tuple((p, p) for p in padding)
    y = ConvTranspose.apply(x, weight, bias, stride, pads, dilation, groups, out)
    return _unbatch(y, added)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """1-D transposed convolution (PyTorch's ``F.conv_transpose1d``): the gradient of
    ``conv1d`` with respect to its input, used as a learnable upsampling.

    input (N, C_in, L) or (C_in, L); weight (C_in, C_out / groups, k); returns
    (N, C_out, L_out), ``L_out = (L - 1) stride - 2 padding + dilation (k - 1) +
    output_padding + 1``.

    >>> F.conv_transpose1d(shendu.ones(1, 1, 3), shendu.ones(1, 1, 2), stride=2)
    tensor([[[1., 1., 1., 1., 1., 1.]]])
    """
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose1d")


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """2-D transposed convolution (PyTorch's ``F.conv_transpose2d``; DCGAN's generator
    upsamples with it).

    Every input pixel stamps a copy of the kernel, scaled by its value, into the output at
    ``stride`` steps; overlapping stamps add up. It is exactly the gradient of ``conv2d``
    with respect to its input (the adjoint), hence the name.

    Parameters
    ----------
    input : Tensor (N, C_in, H, W) or (C_in, H, W)
    weight : Tensor (C_in, C_out / groups, kH, kW) (note: in_channels first)
    bias : Tensor (C_out,), optional
    stride, padding, output_padding, dilation : int or (int, int); ``padding`` removes
        ``dilation (k - 1) - padding`` ... rows from each border of the full output, and
        ``output_padding`` (< stride or < dilation) adds rows at the bottom/right so a
        stride-s convolution's input size can be recovered exactly
    groups : int

    Returns
    -------
    Tensor (N, C_out, H_out, W_out),
    ``H_out = (H - 1) stride - 2 padding + dilation (kH - 1) + output_padding + 1``

    >>> x = shendu.tensor([[[[1.0, 2.0]]]])                  # (1, 1, 1, 2)
    >>> F.conv_transpose2d(x, shendu.ones(1, 1, 2, 2), stride=2)
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.]]]])
    """
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose2d")


def conv_transpose3d(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                     groups=1, dilation=1):
    """3-D transposed convolution (PyTorch's ``F.conv_transpose3d``), as
    ``conv_transpose2d`` with a depth dimension.

    >>> F.conv_transpose3d(shendu.ones(1, 2, 2, 2, 2), shendu.ones(2, 1, 2, 2, 2), stride=2).shape
    (1, 1, 4, 4, 4)
    """
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups,
                             dilation, "conv_transpose3d")


# ----------------------------------------------------------------------- unfold / fold
def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: every sliding patch of an image as one column (PyTorch's ``F.unfold``).

    This is the first half of how ``conv2d`` is computed: once the patches are columns,
    a convolution is ONE matrix product ``W.reshape(C_out, -1) @ cols``.

    A tiny example: a 3x3 image, 2x2 kernel, stride 1 gives 2x2 = 4 patches; each patch
    (4 numbers, read row by row) becomes a column::

        image  1 2 3        patches  [1 2]  [2 3]  [4 5]  [5 6]
               4 5 6                 [4 5]  [5 6]  [7 8]  [8 9]
               7 8 9
                            cols =   1  2  4  5      <- top-left of each patch
                                     2  3  5  6      <- top-right
                                     4  5  7  8      <- bottom-left
                                     5  6  8  9      <- bottom-right

    Parameters
    ----------
    input : Tensor (N, C, H, W) or (C, H, W)
    kernel_size, dilation, padding, stride : int or (int, int)

    Returns
    -------
    Tensor (N, C * kH * kW, L): row ``c * kH * kW + u * kW + v`` holds pixel (u, v) of
    channel c of every patch; ``L = H_out * W_out`` patches in row-major order, with
    ``H_out = (H + 2 padding - dilation (kH - 1) - 1) // stride + 1``.

    >>> x = shendu.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    >>> F.unfold(x, kernel_size=2)
    tensor([[[1., 2., 4., 5.],
             [2., 3., 5., 6.],
             [4., 5., 7., 8.],
             [5., 6., 8., 9.]]])
    """
    fn = "unfold"
    x, added = _batched(_as_input(input, fn), 2, fn)
    kernel = _int_tuple(kernel_size, 2, fn, "kernel_size", 1)
    dilation = _int_tuple(dilation, 2, fn, "dilation", 1)
    pads = tuple((p, p) for p in _int_tuple(padding, 2, fn, "padding", 0))
    stride = _int_tuple(stride, 2, fn, "stride", 1)
    _check_fits(x.shape[2:], kernel, pads, dilation, fn)
    return _unbatch(Unfold.apply(x, kernel, stride, pads, dilation), added)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: put columns of patches back into an image, adding where patches overlap
    (PyTorch's ``F.fold``; the adjoint of ``unfold``, and how the gradient of ``conv2d``
    with respect to its input is computed).

    ``fold(unfold(x))`` is not ``x``: every pixel comes back multiplied by the number of
    patches that contain it (divide by ``fold(unfold(ones))`` to average instead).

    Parameters
    ----------
    input : Tensor (N, C * kH * kW, L) or (C * kH * kW, L), laid out as ``unfold`` returns
    output_size : int or (int, int), the image size (H, W)
    kernel_size, dilation, padding, stride : int or (int, int), as given to ``unfold``

    Returns
    -------
    Tensor (N, C, H, W)

    >>> cols = F.unfold(shendu.ones(1, 1, 3, 3), kernel_size=2)
    >>> F.fold(cols, output_size=3, kernel_size=2)          # patches covering each pixel
    tensor([[[[1., 2., 1.],
              [2., 4., 2.],
              [1., 2., 1.]]]])
    """
    fn = "fold"
    x = _as_input(input, fn)
    added = x.ndim == 2
    if x.ndim not in (2, 3):
        raise ValueError(f"fold expects input of shape (N, C * kH * kW, L) or (C * kH * kW, L), "
                         f"got {x.shape}")
    if added:
        from .shape import unsqueeze
        x = unsqueeze(x, 0)
    size = _int_tuple(output_size, 2, fn, "output_size", 1)
    kernel = _int_tuple(kernel_size, 2, fn, "kernel_size", 1)
    dilation = _int_tuple(dilation, 2, fn, "dilation", 1)
    pads = tuple((p, p) for p in _int_tuple(padding, 2, fn, "padding", 0))
    stride = _int_tuple(stride, 2, fn, "stride", 1)
    kk = _prod(kernel)
    if x.shape[1] % kk:
        raise ValueError(f"fold: expected the size of dimension 1 ({x.shape[1]}) to be "
                         f"divisible by kH * kW = {kk} (kernel_size {kernel})")
    _check_fits(size, kernel, pads, dilation, fn)
    out = _out_shape(size, kernel, stride, pads, dilation)
    if x.shape[2] != _prod(out):
        raise ValueError(f"fold: an output of size {size} with kernel {kernel}, stride {stride}, "
                         f"padding {tuple(p for p, _ in pads)}, dilation {dilation} has "
                         f"{_x(out)} = {_prod(out)} patches, but the input has {x.shape[2]} "
                         "columns (dimension 2)")
    return _unbatch(Fold.apply(x, size, kernel, stride, pads, dilation), added)


def _same_pads(kernel, dilation):
    """PyTorch's "same" padding, (before, after) per dim: d*(k-1) in total, and an odd
    total puts the extra row after."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for k, d in zip(kernel, dilation))

