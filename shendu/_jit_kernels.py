"""numba-compiled row kernels for :mod:`shendu.kernels` (imported only when numba is
installed and a kernel is first needed; read :mod:`shendu.kernels` first).

Every kernel takes C-contiguous float32 arrays and writes its result into ``out``: the
softmax kernels arrays of shape ``(rows, n)``, each row read once from memory and worked
on in the cache; the elementwise ones (exp, tanh) flat arrays, in chunks of 2048.

exp. numba turns ``math.exp`` into one scalar call per element (it vectorizes it only
with Intel's SVML), which is slower than NumPy's own SIMD ``exp``. So exp is written
here the way vector math libraries write it, in plain arithmetic the compiler turns
into SIMD code::

    e^z = 2^n * e^r,   n = round(z / ln 2),   r = z - n ln 2  in [-ln2/2, ln2/2]

``r`` is computed in two steps (``ln 2 = LN2_HI + LN2_LO``, LN2_HI with few bits, so
``n * LN2_HI`` is exact), ``e^r`` by Cephes' degree-7 polynomial, and ``2^n`` by
writing ``n + 127`` into the exponent bits of a float32: within 1.5 units in the last
place of the true value (tests/test_kernels.py). Inputs below -88 give exactly 0 (like
e^-inf); NaN stays NaN. Sums are taken in float64.

Fast-math. The loops may use fused multiply-adds and reciprocals, and sums and
maxima may be reordered into SIMD lanes (``reassoc``), but infinities and NaN keep
their IEEE meaning (no ``nnan``/``ninf``): a row whose result is not finite is
recomputed by the plain formula (``_softmax_row_ieee``), so ``-inf``/``inf``/NaN rows
give what NumPy and PyTorch give.
"""
from __future__ import annotations

import math

import numba
import numpy as np

_ELEM = {"nsz", "arcp", "contract", "afn"}  # IEEE inf/nan semantics are kept
_SUM = _ELEM | {"reassoc"}                 # reductions may be split into SIMD lanes

_f = np.float32
_LOG2E = _f(1.4426950408889634)
_LN2_HI, _LN2_LO = _f(0.693359375), _f(-2.12194440e-4)
_LO, _HI = _f(-88.0), _f(88.0)  # e^-88 is below float32's smallest normal number
_C0, _C1, _C2 = _f(1.9875691500e-4), _f(1.3981999507e-3), _f(8.3334519073e-3)
_C3, _C4, _C5 = _f(4.1665795894e-2), _f(1.6666665459e-1), _f(5.0000001201e-1)


def _njit(flags=None):
    return numba.njit(fastmath=flags or False, nogil=True, cache=True,
                      error_model="numpy", boundscheck=False)


@_njit(_ELEM)
def _exp_parts(t, shift, mant, bits):
    """e^(t[j] - shift) = mant[j] * (bits[j] read as a float32)."""
    for j in range(t.size):
        z = t[j] - shift
        z = z if not (z < _LO) else _LO  # -inf -> -88; NaN fails both tests and stays
        z = z if not (z > _HI) else _HI
        n = np.floor(z * _LOG2E + _f(0.5))
        r = (z - n * _LN2_HI) - n * _LN2_LO
        p = (((((_C0 * r + _C1) * r + _C2) * r + _C3) * r + _C4) * r + _C5) * r * r
        mant[j] = p + r + _f(1.0)
        k = n if n > _f(-127.0) else _f(-127.0)  # -127: the float with bits 0, i.e. 0.0
        bits[j] = (np.int32(k) + 127) << 23


@_njit(_SUM)
def _scale_sum(mant, scale):
    """mant *= scale; returns sum(mant) (summed in float64, as are all sums here:
    float32 lanes would lose more than NumPy's pairwise summation)."""
    s = 0.0
    for j in range(mant.size):
        mant[j] *= scale[j]
        s += mant[j]
    return s


@_njit(_SUM)
def _row_max(x):
    m = x[0]  # NaN first: m stays NaN, the row is redone by the plain formula
    for j in range(1, x.size):
        m = x[j] if x[j] > m else m
    return m


@_njit(_SUM)
def _row_sum(x):
    s = 0.0
    for j in range(x.size):
        s += x[j]
    return s


@_njit(_SUM)
def _row_dot(a, b):
    s = 0.0
    for j in range(a.size):
        s += np.float64(a[j]) * b[j]
    return s


@_njit()
def _softmax_row_ieee(x, out):
    """The plain formula, no fast-math: rows with inf or NaN end here."""
    m = np.max(x)
    s = _f(0.0)
    for j in range(x.size):
        out[j] = math.exp(x[j] - m)
        s += out[j]
    for j in range(x.size):
        out[j] = out[j] / s


@_njit()
def _log_softmax_row_ieee(x, out):
    m = np.max(x)
    s = _f(0.0)
    for j in range(x.size):
        s += math.exp(x[j] - m)
    c = _f(math.log(s))
    for j in range(x.size):
        out[j] = (x[j] - m) - c


@_njit(_ELEM)
def _exp_of_row(x, mant, bits):
    """mant = e^(x - max(x)); returns (max(x), sum(mant)): the first half of softmax and
    log_softmax. A finite row has sum >= 1 (the maximum adds e^0 = 1); any other sum
    (inf, NaN) means the row needs the plain formula."""
    m = _row_max(x)
    _exp_parts(x, m, mant, bits)
    return m, _scale_sum(mant, bits.view(np.float32))


@_njit(_ELEM)
def softmax_rows(x, out):
    """out[i] = e^(x[i] - max) / sum(e^(x[i] - max)); ``out`` may be ``x`` (in place)."""
    n = x.shape[1]
    mant, bits = np.empty(n, np.float32), np.empty(n, np.int32)
    for i in range(x.shape[0]):
        m, s = _exp_of_row(x[i], mant, bits)
        if s >= 1.0 and s < np.inf:
            inv = _f(1.0 / s)
            for j in range(n):
                out[i, j] = mant[j] * inv
        else:
            _softmax_row_ieee(x[i], out[i])


@_njit(_ELEM)
def softmax_grad_rows(g, y, out):
    """out[i] = y[i] * (g[i] - sum(g[i] * y[i]))"""
    for i in range(y.shape[0]):
        d = _f(_row_dot(g[i], y[i]))
        for j in range(y.shape[1]):
            out[i, j] = (g[i, j] - d) * y[i, j]


@_njit(_ELEM)
def log_softmax_rows(x, out):
    """out[i] = (x[i] - max) - log(sum(e^(x[i] - max))); ``out`` may be ``x``."""
    n = x.shape[1]
    mant, bits = np.empty(n, np.float32), np.empty(n, np.int32)
    for i in range(x.shape[0]):
        m, s = _exp_of_row(x[i], mant, bits)
        if s >= 1.0 and s < np.inf:
            c = _f(math.log(s))
            for j in range(n):
                out[i, j] = (x[i, j] - m) - c
        else:
            _log_softmax_row_ieee(x[i], out[i])


@_njit(_ELEM)
def log_softmax_grad_rows(g, y, out):
    """out[i] = g[i] - e^y[i] * sum(g[i])"""
    n = y.shape[1]
    mant, bits = np.empty(n, np.float32), np.empty(n, np.int32)
    scale = bits.view(np.float32)
    for i in range(y.shape[0]):
        sg = _f(_row_sum(g[i]))
        _exp_parts(y[i], _f(0.0), mant, bits)
        for j in range(n):
            out[i, j] = g[i, j] - (mant[j] * scale[j]) * sg


_EXP_LO = _f(-87.3)  # below: e^x is subnormal (or 0), left to math.exp
_CHUNK = 2048        # elements per step of the elementwise kernels (stays in L1)


@_njit(_SUM | {"nnan"})
def _inside(x, lo, hi):
    """Whether all of x lie in [lo, hi]. NaN may answer either way (``nnan`` lets the
    compiler use SIMD min/max): it needs no fix-up, the polynomial gives NaN for it."""
    mn, mx = lo, hi
    for j in range(x.size):
        mn = x[j] if x[j] < mn else mn
        mx = x[j] if x[j] > mx else mx
    return mn >= lo and mx <= hi


@_njit(_ELEM)
def exp_flat(x, out):
    """out = e^x for flat arrays: the polynomial in chunks, then the rare elements
    outside [-87.3, 88] (overflow to inf, subnormal results) by ``math.exp``."""
    bits = np.empty(_CHUNK, np.int32)
    scale = bits.view(np.float32)
    for s in range(0, x.size, _CHUNK):
        xs, o = x[s:s + _CHUNK], out[s:s + _CHUNK]
        _exp_parts(xs, _f(0.0), o, bits)
        for j in range(o.size):
            o[j] *= scale[j]
        if not _inside(xs, _EXP_LO, _HI):
            for j in range(xs.size):
                if xs[j] < _EXP_LO or xs[j] > _HI:
                    o[j] = math.exp(xs[j])


_T0, _T1, _T2 = _f(-5.70498872745e-3), _f(2.06390887954e-2), _f(-5.37397155531e-2)
_T3, _T4 = _f(1.33314422036e-1), _f(-3.33332819422e-1)


@_njit(_ELEM)
def tanh_flat(x, out):
    """out = tanh x for flat arrays (Cephes' tanhf): for |x| < 0.625 an odd polynomial,
    else sign(x) (1 - 2 / (e^(2|x|) + 1)) with the exp above. inf gives +-1, NaN NaN."""
    twice, bits = np.empty(_CHUNK, np.float32), np.empty(_CHUNK, np.int32)
    scale = bits.view(np.float32)
    for s in range(0, x.size, _CHUNK):
        xs, o = x[s:s + _CHUNK], out[s:s + _CHUNK]
        for j in range(xs.size):
            twice[j] = _f(2.0) * abs(xs[j])
        # (into another buffer: in place, the compiler could not prove the loop SIMD-safe)
        _exp_parts(twice[:xs.size], _f(0.0), o, bits)
        for j in range(xs.size):
            a = abs(xs[j])
            big = _f(1.0) - _f(2.0) / (o[j] * scale[j] + _f(1.0))
            z = a * a
            small = ((((_T0 * z + _T1) * z + _T2) * z + _T3) * z + _T4) * z * a + a
            o[j] = math.copysign(small if a < _f(0.625) else big, xs[j])  # -0 stays -0


@_njit(_ELEM)
def tanh_grad_flat(g, y, out):
    """out = g (1 - y^2)"""
    for j in range(y.size):
        out[j] = g[j] * (_f(1.0) - y[j] * y[j])


# ------------------------------------------------------------------ on all threads
# The same loops, spread over numba's OpenMP threads (``prange``). NumPy runs every op
# on one thread; PyTorch's OpenMP threads spin between ops, so each op starts on all
# cores at once. Handing work to a sleeping thread costs 40-200 us on a small VM, more
# than a 1M-element multiply takes, so only a spinning pool pays for memory-bound ops.
# Each element (each row) is computed by the same code on whichever thread, so the
# results are the same bits for any number of threads.

def _pjit(flags=None):
    return numba.njit(fastmath=flags or False, nogil=True, cache=True, parallel=True,
                      error_model="numpy", boundscheck=False)


_PCHUNK = 16 * _CHUNK  # elements per prange step of the chunked kernels (64 KB)


@_pjit()
def add_aa(a, b, out):
    for i in numba.prange(out.size):
        out[i] = a[i] + b[i]


@_pjit()
def add_as(a, s, out):
    for i in numba.prange(out.size):
        out[i] = a[i] + s


@_pjit()
def sub_aa(a, b, out):
    for i in numba.prange(out.size):
        out[i] = a[i] - b[i]


@_pjit()
def sub_as(a, s, out):
    for i in numba.prange(out.size):
        out[i] = a[i] - s


@_pjit()
def sub_sa(s, b, out):
    for i in numba.prange(out.size):
        out[i] = s - b[i]


@_pjit()
def mul_aa(a, b, out):
    for i in numba.prange(out.size):
        out[i] = a[i] * b[i]


@_pjit()
def mul_as(a, s, out):
    for i in numba.prange(out.size):
        out[i] = a[i] * s


@_pjit()
def div_aa(a, b, out):
    for i in numba.prange(out.size):
        out[i] = a[i] / b[i]


@_pjit()
def div_as(a, s, out):
    for i in numba.prange(out.size):
        out[i] = a[i] / s


@_pjit()
def div_sa(s, b, out):
    for i in numba.prange(out.size):
        out[i] = s / b[i]


@_pjit()
def neg_a(a, out):
    for i in numba.prange(out.size):
        out[i] = -a[i]


@_pjit()
def mul_grads(g, a, b, ga, gb):
    """ga = g * b, gb = g * a: both gradients of a product, reading g once."""
    for i in numba.prange(g.size):
        ga[i] = g[i] * b[i]
        gb[i] = g[i] * a[i]


@_njit()
def _blocks(rows, per_row):
    """Rows per ``prange`` step (about _PCHUNK elements, whole rows), and the steps."""
    step = max(1, _PCHUNK // max(per_row, 1))
    return step, (rows + step - 1) // step


# Each ``par_`` kernel runs its one-thread kernel on blocks of the first axis (elements
# of a flat array, rows, planes), one block a ``prange`` step.

@_pjit()
def par_exp_flat(x, out):
    step, steps = _blocks(x.size, 1)
    for c in numba.prange(steps):
        r = slice(c * step, (c + 1) * step)
        exp_flat(x[r], out[r])


@_pjit()
def par_tanh_flat(x, out):
    step, steps = _blocks(x.size, 1)
    for c in numba.prange(steps):
        r = slice(c * step, (c + 1) * step)
        tanh_flat(x[r], out[r])


@_pjit()
def par_tanh_grad_flat(g, y, out):
    step, steps = _blocks(y.size, 1)
    for c in numba.prange(steps):
        r = slice(c * step, (c + 1) * step)
        tanh_grad_flat(g[r], y[r], out[r])


@_pjit()
def par_softmax_rows(x, out):
    step, steps = _blocks(x.shape[0], x.shape[1])
    for c in numba.prange(steps):
        r = slice(c * step, (c + 1) * step)
        softmax_rows(x[r], out[r])


@_pjit()
def par_softmax_grad_rows(g, y, out):
    step, steps = _blocks(y.shape[0], y.shape[1])
    for c in numba.prange(steps):
        r = slice(c * step, (c + 1) * step)
        softmax_grad_rows(g[r], y[r], out[r])


@_pjit()
def par_log_softmax_rows(x, out):
    step, steps = _blocks(x.shape[0], x.shape[1])
    for c in numba.prange(steps):
        r = slice(c * step, (c + 1) * step)
        log_softmax_rows(x[r], out[r])


@_pjit()
def par_log_softmax_grad_rows(g, y, out):
    step, steps = _blocks(y.shape[0], y.shape[1])
    for c in numba.prange(steps):
        r = slice(c * step, (c + 1) * step)
        log_softmax_grad_rows(g[r], y[r], out[r])


# ------------------------------------------------------------------ max pooling (2-D)
# The rule, as the NumPy code's and PyTorch's: the first maximum of each window in
# row-major order, a NaN counting as the maximum (the first NaN); positions outside the
# plane (padding) are skipped, so a window of -inf points at its first in-bounds element,
# as PyTorch's index does. The fast loops pick the maximum without branches
# (``v > best``, which data make unpredictable) and leave windows with a NaN or only
# -inf to ``_window_max_exact``.

@_njit()
def _window_max_exact(xp, r0, c0, kh, kw, dh, dw):
    """(max, flat index) of the window at (r0, c0) of plane xp, by the rule above."""
    H, W = xp.shape
    best, arg = _f(0.0), -1
    for a in range(kh):
        r = r0 + a * dh
        if r < 0 or r >= H:
            continue
        for b in range(kw):
            c = c0 + b * dw
            if c < 0 or c >= W:
                continue
            v = xp[r, c]
            if arg < 0 or v > best or (v != v and best == best):
                best, arg = v, r * W + c
    return best, arg


@_njit()
def _max_pool_2x2(xp, yp, ip):
    """2x2 windows, stride 2, no padding: the common case, unrolled."""
    W = xp.shape[1]
    for i in range(yp.shape[0]):
        r = 2 * i
        top, bot = xp[r], xp[r + 1]
        for j in range(yp.shape[1]):
            c = 2 * j
            b, a = top[c], r * W + c
            v = top[c + 1]
            gt = v > b
            b, a = (v, a + 1) if gt else (b, a)
            w = bot[c]
            gt = w > b
            b, a = (w, (r + 1) * W + c) if gt else (b, a)
            u = bot[c + 1]
            gt = u > b
            b, a = (u, (r + 1) * W + c + 1) if gt else (b, a)
            if (v != v) | (w != w) | (u != u) | (top[c] != top[c]):
                b, a = _window_max_exact(xp, r, c, 2, 2, 1, 1)
            yp[i, j], ip[i, j] = b, a


@_njit()
def max_pool2d_planes(x, geometry, y, idx):
    """y[p, i, j] = the maximum of window (i, j) of plane x[p] (H, W), idx its flat index
    in the plane. ``geometry`` = (kh, kw, sh, sw, ph, pw, dh, dw)."""
    kh, kw, sh, sw, ph, pw, dh, dw = geometry
    H, W = x.shape[1], x.shape[2]
    Ho, Wo = y.shape[1], y.shape[2]
    plain = (kh == kw == sh == sw == 2 and ph == pw == 0 and dh == dw == 1
             and 2 * Ho <= H and 2 * Wo <= W)
    for p in range(x.shape[0]):
        xp, yp, ip = x[p], y[p], idx[p]
        if plain:
            _max_pool_2x2(xp, yp, ip)
            continue
        for i in range(Ho):
            r0 = i * sh - ph
            for j in range(Wo):
                c0 = j * sw - pw
                best, arg, nan = _f(-np.inf), -1, False
                for a in range(kh):
                    r = r0 + a * dh
                    if r < 0 or r >= H:
                        continue
                    for b in range(kw):
                        c = c0 + b * dw
                        if c < 0 or c >= W:
                            continue
                        v = xp[r, c]
                        gt = v > best
                        best, arg = (v, r * W + c) if gt else (best, arg)
                        nan |= v != v
                if nan or arg < 0:
                    best, arg = _window_max_exact(xp, r0, c0, kh, kw, dh, dw)
                yp[i, j], ip[i, j] = best, arg


@_njit()
def max_pool2d_grad_planes(g, idx, gx):
    """gx[p] (flat plane, zeros on entry) += g[p] at idx[p]: max pooling's gradient."""
    for p in range(g.shape[0]):
        for i in range(g.shape[1]):
            for j in range(g.shape[2]):
                gx[p, idx[p, i, j]] += g[p, i, j]


# ------------------------------------------------------------------ col2im (2-D)
# NumPy's col2im is kh * kw strided ``+=`` passes, each over rows of ``ow`` elements
# ``stride`` apart: short rows, most of the time in loop overhead (5x slower than this
# one pass for a stride-2 transposed convolution). Two layouts of the columns: image-major
# ``(A, B, kh, kw, oh, ow)`` and kernel-major ``(A, kh, kw, B, oh, ow)`` (what the GEMM of
# a channel-major convolution gradient gives); both are read in memory order.

@_njit()
def col2im2d(cols, geometry, gx):
    sh, sw, dh, dw = geometry
    for a in range(cols.shape[0]):
        for b in range(cols.shape[1]):
            for u in range(cols.shape[2]):
                for v in range(cols.shape[3]):
                    for i in range(cols.shape[4]):
                        row = i * sh + u * dh
                        for j in range(cols.shape[5]):
                            gx[a, b, row, j * sw + v * dw] += cols[a, b, u, v, i, j]


@_njit()
def col2im2d_kmajor(cols, geometry, gx):
    sh, sw, dh, dw = geometry
    for a in range(cols.shape[0]):
        for u in range(cols.shape[1]):
            for v in range(cols.shape[2]):
                for b in range(cols.shape[3]):
                    for i in range(cols.shape[4]):
                        row = i * sh + u * dh
                        for j in range(cols.shape[5]):
                            gx[a, b, row, j * sw + v * dw] += cols[a, u, v, b, i, j]

