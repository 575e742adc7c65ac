"""Convolutions: conv1d/2d/3d (transposed ones and unfold/fold: ``conv_transpose.py``).

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
code) against ``ctx.xp`` (NumPy or CuPy). The array work (im2col, col2im, the GEMMs) is in
``_im2col.py``; this file holds the Functions, the argument checks and conv1d/2d/3d.
"""
from __future__ import annotations

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._im2col import (_prod, _windows, _pad_zeros, _col2im, _to_channel_major, _per_image,
                      _conv_forward, _conv_input_grad, _conv_weight_grad, _out_shape,
                      _bias_view)

__all__ = ["conv1d", "conv2d", "conv3d"]

_SPATIAL = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_UNBATCHED = {1: "(C, L)", 2: "(C, H, W)", 3: "(C, D, H, W)"}


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


def _same_pads(kernel, dilation):
    """PyTorch's "same" padding, (before, after) per dim: d*(k-1) in total, and an odd
    total puts the extra row after."""
    return tuple((d * (k - 1) // 2, d * (k - 1) - d * (k - 1) // 2)
                 for k, d in zip(kernel, dilation))
