"""Hypothesis: binary ops broadcast like NumPy, and their gradients sum back to each
input's shape (checked against the closed form)."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import shendu

shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=3)


@settings(deadline=None, max_examples=60)
@given(shapes, st.sampled_from(["add", "sub", "mul", "div"]))
def test_binary_op_broadcast_and_gradient_shapes(bs, op):
    (sa, sb), out_shape = bs.input_shapes, bs.result_shape
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2.0, sa)
    b = rng.uniform(0.5, 2.0, sb)
    ta = shendu.tensor(a, requires_grad=True)
    tb = shendu.tensor(b, requires_grad=True)
    f = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}[op]
    y = {"add": ta + tb, "sub": ta - tb, "mul": ta * tb, "div": ta / tb}[op]
    assert y.shape == out_shape
    np.testing.assert_allclose(y.detach().numpy(), f(a, b))
    g = rng.standard_normal(out_shape)
    y.backward(shendu.tensor(g))
    da = {"add": 1.0, "sub": 1.0, "mul": b, "div": 1 / b}[op] * np.ones(out_shape)
    db = {"add": 1.0, "sub": -1.0, "mul": a, "div": -a / b ** 2}[op] * np.ones(out_shape)

    def reduce_to(x, shape):
        lead = x.ndim - len(shape)
        x = x.sum(axis=tuple(range(lead))) if lead else x
        axes = tuple(i for i, s in enumerate(shape) if s == 1 and x.shape[i] != 1)
        return x.sum(axis=axes, keepdims=True) if axes else x

    assert ta.grad.shape == sa and tb.grad.shape == sb
    np.testing.assert_allclose(ta.grad.numpy(), reduce_to(g * da, sa), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(tb.grad.numpy(), reduce_to(g * db, sb), rtol=1e-10, atol=1e-12)
