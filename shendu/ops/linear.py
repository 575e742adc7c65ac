"""The affine maps of ``nn.Linear`` and ``nn.Bilinear``: ``linear``, ``bilinear``.

``linear`` is one fused Function (one matrix product forward, two backward) with the
leading dimensions folded into the rows, so a ``(B, T, in)`` input costs a single GEMM.
"""
from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor

__all__ = ["linear", "bilinear"]


class Linear(Function):
    """y = x W^T + b   for x of shape (..., in), W (out, in), b (out,).

    With G = dL/dy and the leading dimensions folded into rows (X: (M, in), G: (M, out)):
    dL/dx = G W,   dL/dW = G^T X,   dL/db = sum over rows of G.
    """
    double_backward = True

    @staticmethod
    def forward(ctx, x, w, b):
        ctx.save_for_backward(x, w)
        out_features = w.shape[0]
        y = x.reshape(-1, x.shape[-1]) @ w.T
        if b is not None:
            y += b
        return y.reshape(x.shape[:-1] + (out_features,))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        out_features, in_features = w.shape
        g2 = g.reshape(-1, out_features)
        gx = gw = gb = None
        if need_x:
            if ctx.tensor_mode:
                gx = (g2 @ w).reshape(x.shape)
            else:  # write into an array of x's shape: a fresh array the engine need not copy
                gx = ctx.xp.empty(x.shape, dtype=g.dtype)
                ctx.xp.matmul(g2, w, out=gx.reshape(-1, in_features))
        if need_w:
            gw = g2.swapaxes(0, 1) @ x.reshape(-1, in_features)
        if need_b:
            gb = g2.sum(axis=0)
        return gx, gw, gb


def _check_linear(x, weight, bias, name):
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: expected a Tensor input, got {type(x).__name__}; wrap it "
                        "with shendu.tensor(...)")
    if weight.ndim != 2:
        raise ValueError(f"{name}: weight must be 2-D (out_features, in_features), got shape "
                         f"{weight.shape}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        hint = ""
        if x.ndim > 2 and _prod(x.shape[1:]) == weight.shape[1]:
            hint = "; flatten it first (nn.Flatten)"
        raise ValueError(f"{name} got input of shape {x.shape}: expected the last dimension "
                         f"to be {weight.shape[1]}{hint}")
    if x.dtype != weight.dtype:
        got = f"an integer tensor ({x.dtype})" if x.dtype.kind in "iub" else x.dtype
        raise TypeError(f"{name}: the input is {got} but the weight is {weight.dtype}; convert "
                        f"the input (x.to(shendu.{weight.dtype}))"
                        + ("" if x.dtype.kind in "iub" else
                           f" or the model (model.to(shendu.{x.dtype}))"))
    if bias is not None and bias.shape != (weight.shape[0],):
        raise ValueError(f"{name}: bias must have shape ({weight.shape[0]},), got {bias.shape}")


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def linear(input, weight, bias=None):
    """The affine map ``y = x W^T + b`` of ``nn.Linear`` (PyTorch's ``F.linear``).

    Parameters
    ----------
    input : Tensor (..., in_features)
        Any number of leading dimensions.
    weight : Tensor (out_features, in_features)
    bias : Tensor (out_features,), optional

    Returns
    -------
    Tensor (..., out_features)

    >>> x = shendu.ones(2, 3); w = shendu.ones(4, 3); b = shendu.zeros(4)
    >>> shendu.nn.functional.linear(x, w, b)
    tensor([[3., 3., 3., 3.],
            [3., 3., 3., 3.]])
    """
    _check_linear(input, weight, bias, "linear")
    return Linear.apply(input, weight, bias)


def bilinear(input1, input2, weight, bias=None):
    """``y_k = x1^T A_k x2 + b_k`` for every output k (PyTorch's ``F.bilinear``).

    Parameters
    ----------
    input1 : Tensor (..., in1_features)
    input2 : Tensor (..., in2_features), the same leading dimensions
    weight : Tensor (out_features, in1_features, in2_features)
    bias : Tensor (out_features,), optional

    Returns
    -------
    Tensor (..., out_features). Written with ``matmul``, so second derivatives work.

    >>> x1 = shendu.ones(5, 2); x2 = shendu.ones(5, 3); A = shendu.ones(4, 2, 3)
    >>> shendu.nn.functional.bilinear(x1, x2, A).shape
    (5, 4)
    """
    from . import matmul, permute, reshape
    if weight.ndim != 3:
        raise ValueError(f"bilinear: weight must be 3-D (out, in1, in2), got {weight.shape}")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1:] != (in1,) or input2.shape[-1:] != (in2,) \
            or input1.shape[:-1] != input2.shape[:-1]:
        raise ValueError(f"bilinear: expected inputs of shapes (..., {in1}) and (..., {in2}) with "
                         f"the same leading dimensions, got {input1.shape} and {input2.shape}")
    lead = input1.shape[:-1]
    x1 = reshape(input1, -1, in1)
    x2 = reshape(input2, -1, 1, in2)
    # t[m, o, j] = sum_i x1[m, i] A[o, i, j]: one GEMM over (in1) x (out * in2)
    a = reshape(permute(weight, 1, 0, 2), in1, out_f * in2)
    t = reshape(matmul(x1, a), -1, out_f, in2)
    y = (t * x2).sum(axis=-1)
    if bias is not None:
        y = y + bias
    return reshape(y, *lead, out_f)
