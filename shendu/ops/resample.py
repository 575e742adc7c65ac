"""Resampling: ``interpolate`` (nearest, nearest-exact, linear, bilinear, bicubic,
trilinear, area), the ``upsample`` aliases, and ``pixel_shuffle`` / ``pixel_unshuffle``.

Every interpolation mode PyTorch offers is *separable*: along each spatial axis an
output position is a fixed weighted sum of a few input positions. That is a small
``(out, in)`` matrix ``A`` per axis, so for a 2-D image::

    y = A_h  x  A_w^T            (one GEMM per axis, batched over N and C)
    dL/dx = A_h^T  g  A_w        (the adjoint: the same GEMMs transposed)

``A``'s rows hold the taps PyTorch's kernels use: 1 for nearest, 2 for linear
(``(1 - t, t)``), 4 for bicubic (Keys' cubic convolution, a = -0.75), the window of
``adaptive_avg_pool`` for area. Nearest with an integer factor is ``repeat`` (backward
adds the r slices of each block), other nearest sizes a gather. Inputs holding inf or
NaN are interpolated from their taps directly, so a non-finite value only reaches the
outputs that read it (a GEMM would spread ``0 * inf = nan`` over its whole row).

The map is linear in x, so its second derivative is exact: ``Resample`` and
``ResampleAdjoint`` are each other's gradient.
"""
from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["interpolate", "upsample", "upsample_nearest", "upsample_bilinear",
           "pixel_shuffle", "pixel_unshuffle"]


# ----------------------------------------------------------------------- per-axis maps
class _AxisMap:
    """How one spatial axis of length ``n`` becomes ``out``: ``A`` (out, n) always;
    ``repeat`` (nearest with an integer factor) or ``take`` (other nearest) as fast
    paths; ``idx``/``w`` (out, taps) for inputs with non-finite values."""

    __slots__ = ("n", "out", "A", "AT", "repeat", "take", "idx", "w", "identity")

    def __init__(self, n, out, idx, w):
        self.n, self.out, self.idx, self.w = n, out, idx, w
        A = np.zeros((out, n))
        np.add.at(A, (np.repeat(np.arange(out), idx.shape[1]), idx.ravel()), w.ravel())
        self.A, self.AT = A, np.ascontiguousarray(A.T)
        for a in (self.A, self.AT, self.idx, self.w):
            a.setflags(write=False)  # cached and shared between calls
        self.identity = out == n and np.array_equal(A, np.eye(n))
        nearest = idx.shape[1] == 1 and (w == 1).all()
        self.take = idx[:, 0] if nearest else None
        r = out // n if n else 0
        self.repeat = r if nearest and r >= 1 and out == n * r and \
            np.array_equal(idx[:, 0], np.arange(out) // r) else None


def _scale_value(n, out, scale, t=np.float32):
    """PyTorch's ``compute_scales_value``: 1 / scale_factor when one was given, else
    in / out, in the kernel's arithmetic type ``t`` (float32 except for float64 data)."""
    if scale is not None and scale > 0:
        return t(1.0 / scale)
    return t(n) / t(out)


def _area_scale(n, out, align_corners, scale, t):
    if align_corners:
        return t(n - 1) / t(out - 1) if out > 1 else t(0)
    return _scale_value(n, out, scale, t)


def _cubic_weights(t, a=-0.75):
    """Keys' cubic convolution weights of the taps at floor(src) - 1 .. + 2."""
    def near(x):   # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):    # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return np.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], axis=1)


@functools.lru_cache(maxsize=256)
def _axis_map(kind, n, out, align_corners, scale, double=False):
    """The ``_AxisMap`` of one axis (cached: the same layer asks for it every step).
    ``double``: sampling positions in float64 (PyTorch's arithmetic for float64 data)."""
    dst = np.arange(out)
    if kind == "nearest":
        if out == n:
            src = dst
        elif out == 2 * n:
            src = dst >> 1
        else:
            src = np.floor(dst.astype(np.float32) * _scale_value(n, out, scale))
        idx = np.minimum(src.astype(np.int64), n - 1)[:, None]
        return _AxisMap(n, out, idx, np.ones((out, 1)))
    if kind == "nearest-exact":
        src = np.floor((dst.astype(np.float32) + np.float32(0.5)) * _scale_value(n, out, scale))
        idx = np.minimum(src.astype(np.int64), n - 1)[:, None]
        return _AxisMap(n, out, idx, np.ones((out, 1)))
    if kind == "area":  # adaptive average pooling's windows
        i = dst
        start, end = (i * n) // out, -((-(i + 1) * n) // out)
        k = int((end - start).max()) if out else 1
        t = np.arange(k)[None, :]
        idx = np.minimum(start[:, None] + t, end[:, None] - 1)
        w = np.where(t < (end - start)[:, None], 1.0 / (end - start)[:, None], 0.0)
        return _AxisMap(n, out, idx, w)
    t = np.float64 if double else np.float32
    s = _area_scale(n, out, align_corners, scale, t)
    dst, half = dst.astype(t), t(0.5)
    if kind == "linear":
        if out == n:  # PyTorch copies an axis whose size does not change, whatever the scale
            return _AxisMap(n, out, np.arange(n)[:, None], np.ones((n, 1)))
        src = s * dst if align_corners else np.maximum(s * (dst + half) - half, t(0))
        src = src.astype(np.float64)
        i0 = np.minimum(np.floor(src).astype(np.int64), n - 1)
        lam = np.clip(src - i0, 0.0, 1.0)
        idx = np.stack([i0, np.minimum(i0 + 1, n - 1)], axis=1)
        return _AxisMap(n, out, idx, np.stack([1.0 - lam, lam], axis=1))
    if kind == "cubic":
        src = (s * dst if align_corners else s * (dst + half) - half).astype(np.float64)
        i0 = np.floor(src).astype(np.int64)
        idx = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n - 1)
        return _AxisMap(n, out, idx, _cubic_weights(src - i0))
    raise ValueError(f"unknown resampling kind {kind!r}")


# ----------------------------------------------------------------------- applying maps
def _prod(shape):
    p = 1
    for s in shape:
        p *= s
    return p


def _matmul_axis(xp, x, M, axis):
    """y[..., o, ...] = sum_i M[o, i] x[..., i, ...] along ``axis``: one GEMM when the
    axis is last, else a matmul batched over the leading axes."""
    n, m = x.shape[axis], M.shape[0]
    M = xp.asarray(M, dtype=x.dtype)
    if axis == x.ndim - 1:
        y = x.reshape(-1, n) @ M.swapaxes(0, 1)
    else:
        y = M @ x.reshape(_prod(x.shape[:axis]), n, _prod(x.shape[axis + 1:]))
    return y.reshape(x.shape[:axis] + (m,) + x.shape[axis + 1:])


def _taps_axis(xp, x, m, axis):
    """The same map from its taps (for inputs with inf/NaN): zero-weight taps are left
    out so ``0 * inf`` cannot appear."""
    shape = [1] * x.ndim
    shape[axis] = -1
    y = None
    for t in range(m.idx.shape[1]):
        w = xp.asarray(m.w[:, t].reshape(shape), dtype=x.dtype)
        term = xp.where(w == 0, 0, xp.take(x, xp.asarray(m.idx[:, t]), axis=axis)) * w
        y = term if y is None else y + term
    return y


def _forward_axis(xp, x, m, axis, finite):
    if m.identity:
        return x
    if m.repeat is not None:  # nearest, integer factor: each element copied r times
        return xp.repeat(x, m.repeat, axis=axis)
    if m.take is not None:
        return xp.take(x, xp.asarray(m.take), axis=axis)
    if not finite:
        return _taps_axis(xp, x, m, axis)
    return _matmul_axis(xp, x, m.A, axis)


def _adjoint_axis(xp, g, m, axis):
    if m.identity:
        return g
    if m.repeat is not None:  # the sum of each block of r copies: r slices added
        pre, post = g.shape[:axis], g.shape[axis + 1:]
        v = g.reshape(pre + (m.n, m.repeat) + post)
        at = (slice(None),) * (axis + 1)
        out = v[at + (0,)] + v[at + (1,)] if m.repeat > 1 else v[at + (0,)].copy()
        for k in range(2, m.repeat):
            out += v[at + (k,)]
        return out
    return _matmul_axis(xp, g, m.AT, axis)


def _resample(xp, x, maps):
    nd = len(maps)
    finite = True
    if any(m.take is None and m.repeat is None and not m.identity for m in maps):
        finite = bool(xp.isfinite(x).all())
    for i, m in enumerate(maps):
        x = _forward_axis(xp, x, m, x.ndim - nd + i, finite)
    return x


def _resample_adjoint(xp, g, maps):
    nd = len(maps)
    for i in range(nd):  # maps along different axes commute: leading axes first (contiguous)
        g = _adjoint_axis(xp, g, maps[i], g.ndim - nd + i)
    return g


class Resample(Function):
    """y = x with the matrix ``A_i`` applied along each spatial axis i (``_AxisMap``).
    dL/dx = g with ``A_i^T`` applied along each axis (``ResampleAdjoint``)."""
    double_backward = True

    @staticmethod
    def forward(ctx, x, maps):
        ctx.maps = maps
        y = _resample(ctx.xp, x, maps)
        return y if y is not x else x.copy()

    @staticmethod
    def backward(ctx, g):
        if ctx.tensor_mode:
            return ResampleAdjoint.apply(g, ctx.maps), None
        return _resample_adjoint(ctx.xp, g, ctx.maps), None


class ResampleAdjoint(Function):
    """The transpose of ``Resample`` (its gradient); dL/dg = Resample of the upstream
    gradient."""
    double_backward = True

    @staticmethod
    def forward(ctx, g, maps):
        ctx.maps = maps
        y = _resample_adjoint(ctx.xp, g, maps)
        return y if y is not g else g.copy()

    @staticmethod
    def backward(ctx, gg):
        if ctx.tensor_mode:
            return Resample.apply(gg, ctx.maps), None
        return _resample(ctx.xp, gg, ctx.maps), None


def resample_axes(input, specs):
    """Apply one ``(kind, n, out, align_corners, scale)`` map per trailing axis of
    ``input`` (the engine behind ``interpolate`` and ``adaptive_avg_pool``)."""
    double = input.dtype == np.float64
    maps = tuple(_axis_map(*spec, double) for spec in specs)
    return Resample.apply(input, maps)


# ----------------------------------------------------------------------- interpolate
_MODE_RANK = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
_MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """Resize the spatial axes of ``(N, C, *spatial)`` input (PyTorch's ``F.interpolate``).

    Parameters
    ----------
    input : Tensor (N, C, L), (N, C, H, W) or (N, C, D, H, W)
    size : int or tuple, the output spatial size (give this or ``scale_factor``)
    scale_factor : float or tuple
        Output size ``floor(in * scale_factor)``; unless ``recompute_scale_factor`` is
        True the sampling positions use the factor itself, as PyTorch does.
    mode : str
        ``"nearest"`` (PyTorch's floor rule), ``"nearest-exact"`` (pixel centres),
        ``"linear"`` (3-D input), ``"bilinear"`` / ``"bicubic"`` (4-D), ``"trilinear"``
        (5-D), ``"area"`` (``adaptive_avg_pool``).
    align_corners : bool, for the (bi/tri)linear and bicubic modes, default False
        True: the corner pixels' centres of input and output coincide (positions
        ``dst * (in - 1) / (out - 1)``). False: pixel areas align (positions
        ``(dst + 0.5) * in / out - 0.5``), which is what ``scale_factor`` means.
    recompute_scale_factor : bool, optional
        Compute the output size from ``scale_factor``, then sample as if that size had
        been given.
    antialias : only False is supported

    Returns
    -------
    Tensor (N, C, *out_size). The map is linear, so gradients of any order are exact.

    >>> x = shendu.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    >>> F.interpolate(x, scale_factor=2)
    tensor([[[[1., 1., 2., 2.],
              [1., 1., 2., 2.],
              [3., 3., 4., 4.],
              [3., 3., 4., 4.]]]])
    >>> F.interpolate(x, size=(3, 3), mode="bilinear", align_corners=True)
    tensor([[[[1.0000, 1.5000, 2.0000],
              [2.0000, 2.5000, 3.0000],
              [3.0000, 3.5000, 4.0000]]]])
    """
    if not isinstance(input, Tensor):
        raise TypeError(f"interpolate: expected a Tensor input, got {type(input).__name__}")
    if mode not in _MODES:
        raise ValueError(f"interpolate: mode must be one of {', '.join(_MODES)}; got {mode!r}")
    if mode in ("nearest", "nearest-exact", "area"):
        if align_corners is not None:
            raise ValueError("interpolate: align_corners can only be set with the "
                             "interpolating modes linear, bilinear, bicubic and trilinear, "
                             f"not {mode!r}")
    elif align_corners is None:
        align_corners = False
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported in shendu; "
                                  "blur first (e.g. avg_pool2d) or use mode='area' to shrink")
    if input.ndim not in (3, 4, 5):
        raise ValueError(f"interpolate: expected a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D "
                         f"(N, C, D, H, W) input, got shape {input.shape}")
    if input.dtype.kind != "f":
        raise TypeError(f"interpolate: expected a floating point input, got {input.dtype}")
    nd = input.ndim - 2
    if mode in _MODE_RANK and _MODE_RANK[mode] != nd:
        want = _MODE_RANK[mode] + 2
        raise ValueError(f"interpolate: mode {mode!r} needs a {want}-D input, got a {input.ndim}-D "
                         f"input of shape {input.shape}; use "
                         f"{[m for m, r in _MODE_RANK.items() if r == nd][0]!r} for it")
    sizes = input.shape[2:]
    if size is not None and scale_factor is not None:
        raise ValueError("interpolate: give only one of size or scale_factor")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("interpolate: recompute_scale_factor is not meaningful with an "
                             "explicit size")
        out = (size,) * nd if isinstance(size, numbers.Integral) else tuple(size)
        if len(out) != nd or not all(isinstance(o, numbers.Integral) for o in out):
            raise ValueError(f"interpolate: size must be an int or {nd} ints for an input with "
                             f"spatial size {sizes}, got {size!r}")
        scales = (None,) * nd
    elif scale_factor is not None:
        scales = (scale_factor,) * nd if isinstance(scale_factor, numbers.Number) \
            else tuple(scale_factor)
        if len(scales) != nd:
            raise ValueError(f"interpolate: scale_factor must be a number or {nd} numbers for "
                             f"an input with spatial size {sizes}, got {scale_factor!r}")
        out = tuple(int(math.floor(n * float(s))) for n, s in zip(sizes, scales))
        if recompute_scale_factor or mode == "area":
            scales = (None,) * nd
        scales = tuple(None if s is None else float(s) for s in scales)
    else:
        raise ValueError("interpolate: either size or scale_factor must be given")
    out = tuple(int(o) for o in out)
    if any(n <= 0 for n in sizes) or any(o <= 0 for o in out):
        raise ValueError(f"interpolate: input and output sizes must be positive, got input "
                         f"{sizes} and output {out}")
    if mode == "area":
        from .adaptive_pooling import _adaptive_avg
        return _adaptive_avg("interpolate", nd, input, out)
    kind = {"bicubic": "cubic", "bilinear": "linear", "trilinear": "linear"}.get(mode, mode)
    ac = bool(align_corners) if kind in ("linear", "cubic") else None
    return resample_axes(input, [(kind, n, o, ac, s) for n, o, s in zip(sizes, out, scales)])


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """The older name of ``interpolate`` (PyTorch's ``F.upsample``).

    >>> F.upsample(shendu.ones(1, 1, 2), scale_factor=2).shape
    (1, 1, 4)
    """
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    """``interpolate(input, size, scale_factor, mode="nearest")``.

    >>> F.upsample_nearest(shendu.ones(1, 1, 2, 2), scale_factor=3).shape
    (1, 1, 6, 6)
    """
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    """``interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)``.

    >>> F.upsample_bilinear(shendu.ones(1, 1, 2, 2), size=3).shape
    (1, 1, 3, 3)
    """
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ----------------------------------------------------------------------- pixel shuffle
def _factor(name, what, r):
    if not isinstance(r, numbers.Integral) or r <= 0:
        raise ValueError(f"{name}: {what} must be a positive integer, got {r!r}")
    return int(r)


def pixel_shuffle(input, upscale_factor):
    """Rearrange ``(*, C r^2, H, W)`` into ``(*, C, H r, W r)``: each group of ``r^2``
    channels becomes an ``r x r`` block of pixels (sub-pixel convolution, Shi et al. 2016).

    ``y[c, h r + i, w r + j] = x[c r^2 + i r + j, h, w]``. A reshape, a transpose and a
    reshape, so its gradient (the inverse rearrangement) is exact at every order.

    >>> x = shendu.arange(4.0).reshape(1, 4, 1, 1)
    >>> F.pixel_shuffle(x, 2)
    tensor([[[[0., 1.],
              [2., 3.]]]])
    """
    from .shape import permute, reshape
    r = _factor("pixel_shuffle", "upscale_factor", upscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_shuffle: expected an input of shape (*, C*r^2, H, W) with at "
                         f"least 3 dimensions, got shape {input.shape}")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise ValueError(f"pixel_shuffle: the channel dimension (size {c}, shape "
                         f"{input.shape}) must be divisible by upscale_factor^2 = {r * r}")
    k = len(lead)
    x = reshape(input, *lead, c // (r * r), r, r, h, w)
    x = permute(x, *range(k), k, k + 3, k + 1, k + 4, k + 2)
    return reshape(x, *lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor):
    """The inverse of ``pixel_shuffle``: ``(*, C, H r, W r)`` into ``(*, C r^2, H, W)``.

    >>> x = shendu.arange(4.0).reshape(1, 1, 2, 2)
    >>> F.pixel_unshuffle(x, 2).flatten()
    tensor([0., 1., 2., 3.])
    """
    from .shape import permute, reshape
    r = _factor("pixel_unshuffle", "downscale_factor", downscale_factor)
    if input.ndim < 3:
        raise ValueError(f"pixel_unshuffle: expected an input of shape (*, C, H*r, W*r) with "
                         f"at least 3 dimensions, got shape {input.shape}")
    *lead, c, h, w = input.shape
    if h % r or w % r:
        raise ValueError(f"pixel_unshuffle: height and width ({h}, {w}) must be divisible "
                         f"by downscale_factor {r} (input shape {input.shape})")
    k = len(lead)
    x = reshape(input, *lead, c, h // r, r, w // r, r)
    x = permute(x, *range(k), k, k + 2, k + 4, k + 1, k + 3)
    return reshape(x, *lead, c * r * r, h // r, w // r)
