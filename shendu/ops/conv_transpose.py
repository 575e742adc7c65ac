"""Transposed convolutions (conv_transpose1d/2d/3d) and the im2col pair unfold/fold.

``conv_transpose`` is the adjoint of ``conv`` in its input (the ``ConvTranspose``
Function in ``conv.py``), used as a learnable upsampling (DCGAN generators, U-Net
decoders). ``unfold`` / ``fold`` expose im2col / col2im themselves.
"""
from __future__ import annotations

import numpy as np

from .conv import (ConvTranspose, Unfold, Fold, _int_tuple, _as_input, _batched, _unbatch,
                   _check_dtypes, _check_fits, _x)
from ._im2col import _out_shape, _prod

__all__ = ["conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "unfold", "fold"]


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
