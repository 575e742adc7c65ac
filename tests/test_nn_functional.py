"""nn.functional's fused ops (linear, bilinear, batch_norm, layer_norm, embedding,
dropout): float64 gradcheck and gradgradcheck from one table, plus values and errors.

tests/conformance/test_nn_functional_torch.py runs the same CASES against PyTorch.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import shendu
import shendu.nn.functional as F
from harness import Case, check_gradcheck, check_gradgradcheck, params, positive


def TF(name, **kw):
    """torch.nn.functional.<name>(*tensors, **kw), imported only when called."""
    def f(*ts):
        import torch.nn.functional as tf
        return getattr(tf, name)(*ts, **kw)
    return f


def _bn_train(x, w=None, b=None):
    return F.batch_norm(x, None, None, w, b, training=True)


def _torch_bn_train(x, w=None, b=None):
    import torch.nn.functional as tf
    return tf.batch_norm(x, None, None, w, b, training=True)


def _bn_eval(x, rm, rv, w, b):
    return F.batch_norm(x, rm, rv, w, b, training=False)


def _torch_bn_eval(x, rm, rv, w, b):
    import torch.nn.functional as tf
    return tf.batch_norm(x, rm, rv, w, b, training=False)


IDX = np.array([[0, 2, 2], [4, 0, 2]])  # repeated ids accumulate in the gradient


def _not_padding(padding_idx):
    """1 where the id is not padding_idx: the padding row gets no gradient by design
    (not the true derivative), so the checked function masks its outputs out."""
    keep = np.ones(IDX.shape + (1,)) if padding_idx is None else (IDX != padding_idx)[..., None]
    return keep.astype(np.float64)


def _emb(padding_idx=None):
    keep = _not_padding(padding_idx)
    return lambda w: F.embedding(shendu.tensor(IDX), w, padding_idx=padding_idx) * \
        shendu.tensor(keep.astype(w.dtype))


def _torch_emb(padding_idx=None):
    keep = _not_padding(padding_idx)

    def f(w):
        import torch
        out = torch.nn.functional.embedding(torch.tensor(IDX), w, padding_idx=padding_idx)
        return out * torch.tensor(keep, dtype=w.dtype)
    return f


def _seeded_dropout(p, fn=F.dropout, **kw):
    """The same mask on every call (gradcheck evaluates the function many times)."""
    def f(x):
        shendu.manual_seed(3)
        return fn(x, p, training=True, **kw)
    return f


CASES = (
    [Case("linear", F.linear, TF("linear"), s) for s in
     [[(4, 3), (5, 3), (5,)], [(2, 3, 4), (5, 4), (5,)], [(3,), (2, 3), (2,)],
      [(2, 2, 2, 3), (4, 3), (4,)]]]
    + [Case("linear_no_bias", F.linear, TF("linear"), [(4, 3), (5, 3)])]
    + [Case("bilinear", F.bilinear, TF("bilinear"), [(4, 3), (4, 2), (5, 3, 2), (5,)]),
       Case("bilinear_3d", F.bilinear, TF("bilinear"), [(2, 3, 3), (2, 3, 2), (4, 3, 2)])]
    + [Case("batch_norm_train", _bn_train, _torch_bn_train, s, atol=1e-4,
            fwd_atol=1e-5, grad_atol=1e-4) for s in
       [[(6, 3), (3,), (3,)], [(4, 3, 5), (3,), (3,)], [(2, 3, 2, 2), (3,), (3,)]]]
    + [Case("batch_norm_train_no_affine", _bn_train, _torch_bn_train, [(5, 4)], atol=1e-4,
            fwd_atol=1e-5, grad_atol=1e-4)]
    + [Case("batch_norm_eval", _bn_eval, _torch_bn_eval, [s, (3,), (3,), (3,), (3,)],
            domain=[np.random.Generator.standard_normal, np.random.Generator.standard_normal,
                    positive, np.random.Generator.standard_normal,
                    np.random.Generator.standard_normal],
            differentiable=[True, False, False, True, True]) for s in [(6, 3), (4, 3, 5)]]
    + [Case("layer_norm", lambda x, w, b: F.layer_norm(x, w.shape, w, b),
            lambda x, w, b: __import__("torch").nn.functional.layer_norm(x, w.shape, w, b),
            s, atol=1e-4, fwd_atol=1e-5, grad_atol=1e-4) for s in
       [[(4, 5), (5,), (5,)], [(2, 3, 4), (4,), (4,)], [(2, 3, 4), (3, 4), (3, 4)]]]
    + [Case("layer_norm_no_affine", lambda x: F.layer_norm(x, (4,)),
            lambda x: __import__("torch").nn.functional.layer_norm(x, (4,)), [(3, 4)],
            atol=1e-4, fwd_atol=1e-5, grad_atol=1e-4)]
    + [Case("embedding", _emb(), _torch_emb(), [(5, 3)]),
       Case("embedding_padding", _emb(2), _torch_emb(2), [(5, 3)])]
    + [Case("dropout", _seeded_dropout(0.3), None, [(4, 5)]),
       Case("dropout2d", _seeded_dropout(0.5, F.dropout2d), None, [(2, 3, 2, 2)]),
       Case("alpha_dropout", _seeded_dropout(0.2, F.alpha_dropout), None, [(4, 5)])]
)


@params(CASES)
def test_gradcheck(case):
    check_gradcheck(case)


@params([c for c in CASES if c.double])
def test_gradgradcheck(case):
    check_gradgradcheck(case)


# ------------------------------------------------------------------------- linear
def test_linear_values_and_shapes():
    x = shendu.tensor([[1.0, 2.0]])
    w = shendu.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = shendu.tensor([0.5, 0.0, -1.0])
    np.testing.assert_allclose(F.linear(x, w, b).numpy(), [[1.5, 2.0, 2.0]])
    assert F.linear(shendu.ones(2, 3, 4, 2), w).shape == (2, 3, 4, 3)
    assert F.linear(shendu.ones(2), w, b).shape == (3,)
    assert F.linear(x, w, b).dtype == shendu.float32


def test_linear_errors():
    w = shendu.ones(10, 784)
    with pytest.raises(ValueError, match=r"linear got input of shape \(32, 28, 28\): expected "
                       r"the last dimension to be 784; flatten it first \(nn.Flatten\)"):
        F.linear(shendu.ones(32, 28, 28), w)
    with pytest.raises(ValueError, match=r"got input of shape \(32, 100\): expected the last "
                       r"dimension to be 784$"):
        F.linear(shendu.ones(32, 100), w)
    with pytest.raises(TypeError, match=r"input is float64 .* weight is float32"):
        F.linear(shendu.ones(2, 784, dtype=shendu.float64), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(10,\)"):
        F.linear(shendu.ones(2, 784), w, shendu.ones(3))


# ------------------------------------------------------------------------- batch norm
def test_batch_norm_updates_running_stats_with_unbiased_variance():
    x = shendu.tensor([[1.0, 10.0], [3.0, 20.0], [5.0, 60.0]])
    rm, rv = shendu.zeros(2), shendu.ones(2)
    y = F.batch_norm(x, rm, rv, training=True, momentum=0.5)
    xs = x.numpy()
    np.testing.assert_allclose(rm.numpy(), 0.5 * xs.mean(0), rtol=1e-6)
    np.testing.assert_allclose(rv.numpy(), 0.5 + 0.5 * xs.var(0, ddof=1), rtol=1e-6)
    expected = (xs - xs.mean(0)) / np.sqrt(xs.var(0) + 1e-5)
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_batch_norm_eval_uses_running_stats():
    x = shendu.tensor([[1.0, 2.0], [3.0, 4.0]])
    rm, rv = shendu.tensor([1.0, 2.0]), shendu.tensor([4.0, 0.25])
    y = F.batch_norm(x, rm, rv, training=False, eps=0.0)
    np.testing.assert_allclose(y.numpy(), [[0.0, 0.0], [1.0, 4.0]])
    np.testing.assert_array_equal(rm.numpy(), [1.0, 2.0])  # untouched in evaluation


def test_batch_norm_errors():
    with pytest.raises(ValueError, match=r"more than 1 value per channel.*\(1, 4\)"):
        F.batch_norm(shendu.ones(1, 4), None, None, training=True)
    with pytest.raises(ValueError, match=r"weight must have shape \(4,\)"):
        F.batch_norm(shendu.ones(3, 4), None, None, shendu.ones(3), training=True)
    with pytest.raises(ValueError, match=r"running_mean and running_var are needed"):
        F.batch_norm(shendu.ones(3, 4), None, None, training=False)


def test_layer_norm_values_and_errors():
    x = shendu.tensor([[1.0, 3.0], [2.0, 2.0]])
    np.testing.assert_allclose(F.layer_norm(x, 2).numpy(), [[-1, 1], [0, 0]], atol=1e-5)
    with pytest.raises(ValueError, match=r"last dimensions are \(3,\).*\(2, 2\)"):
        F.layer_norm(x, (3,))


# ------------------------------------------------------------------------- embedding
def test_embedding_accumulates_repeated_ids_and_skips_padding():
    w = shendu.randn(5, 3, requires_grad=True)
    out = F.embedding(shendu.tensor(IDX), w, padding_idx=0)
    assert out.shape == (2, 3, 3)
    out.backward(shendu.ones(2, 3, 3))
    counts = np.bincount(IDX.ravel(), minlength=5).astype(np.float32)
    counts[0] = 0
    np.testing.assert_array_equal(w.grad.numpy(), np.repeat(counts[:, None], 3, 1))


def test_embedding_errors():
    w = shendu.randn(10, 3)
    with pytest.raises(IndexError, match=r"index 12 is out of range for an embedding with "
                       r"num_embeddings=10 \(valid ids are 0..9"):
        F.embedding(shendu.tensor([1, 12]), w)
    with pytest.raises(IndexError, match=r"index -1 is out of range"):
        F.embedding(shendu.tensor([-1, 2]), w)
    with pytest.raises(TypeError, match=r"indices must be an integer tensor.*float32.*\.long\(\)"):
        F.embedding(shendu.tensor([1.0, 2.0]), w)


# ------------------------------------------------------------------------- dropout
def test_dropout_statistics_and_scaling():
    x = shendu.ones(200, 500)
    y = F.dropout(x, 0.3).numpy()
    assert set(np.unique(y).tolist()) == {0.0, np.float32(1 / 0.7).item()}
    assert abs((y == 0).mean() - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.02
    assert F.dropout(x, 0.3, training=False) is x
    np.testing.assert_array_equal(F.dropout(x, 1.0).numpy(), 0)
    assert F.dropout(x, 0.0) is x


def test_dropout_is_reproducible_with_manual_seed():
    shendu.manual_seed(5)
    a = F.dropout(shendu.ones(50), 0.5).numpy()
    shendu.manual_seed(5)
    b = F.dropout(shendu.ones(50), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout2d_drops_whole_channels():
    y = F.dropout2d(shendu.ones(8, 16, 3, 3), 0.5).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all(per_channel.min(-1) == per_channel.max(-1))
    assert 0 < (per_channel[..., 0] == 0).mean() < 1


def test_alpha_dropout_keeps_mean_and_variance():
    x = shendu.randn(400, 500)
    y = F.alpha_dropout(x, 0.2, training=True).numpy()
    assert abs(y.mean()) < 0.02 and abs(y.std() - 1.0) < 0.02


@pytest.mark.parametrize("p", [-0.1, 1.5, "0.5"])
def test_dropout_probability_is_validated(p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        F.dropout(shendu.ones(3), p)


def test_functional_namespace():
    for name in ["relu", "gelu", "softmax", "log_softmax", "sigmoid", "tanh", "linear",
                 "dropout", "batch_norm", "layer_norm", "embedding", "one_hot", "pad",
                 "leaky_relu", "elu", "selu", "softplus", "hardtanh", "normalize", "softmin",
                 "cross_entropy", "mse_loss", "nll_loss", "binary_cross_entropy"]:
        assert callable(getattr(F, name)), name
        assert name in F.__all__
    np.testing.assert_allclose(F.normalize(shendu.tensor([[3.0, 4.0]])).numpy(), [[0.6, 0.8]])


# ------------------------------------------------------------------------- properties
_lead = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@settings(deadline=None, max_examples=30)
@given(lead=_lead, n_in=st.integers(1, 6), n_out=st.integers(1, 6), bias=st.booleans())
def test_linear_any_leading_dims_property(lead, n_in, n_out, bias):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(lead + (n_in,))
    w = rng.standard_normal((n_out, n_in))
    b = rng.standard_normal(n_out) if bias else None
    xs = shendu.tensor(x, requires_grad=True)
    ws = shendu.tensor(w, requires_grad=True)
    bs = shendu.tensor(b, requires_grad=True) if bias else None
    y = F.linear(xs, ws, bs)
    np.testing.assert_allclose(y.detach().numpy(),
                               x @ w.T + (b if bias else 0), rtol=1e-12, atol=1e-12)
    g = rng.standard_normal(y.shape)
    y.backward(shendu.tensor(g))
    g2, x2 = g.reshape(-1, n_out), x.reshape(-1, n_in)
    np.testing.assert_allclose(xs.grad.numpy(), (g2 @ w).reshape(x.shape), atol=1e-12)
    np.testing.assert_allclose(ws.grad.numpy(), g2.T @ x2, atol=1e-12)
    if bias:
        np.testing.assert_allclose(bs.grad.numpy(), g2.sum(0), atol=1e-12)


@settings(deadline=None, max_examples=30)
@given(n=st.integers(2, 6), c=st.integers(1, 4), rest=st.lists(st.integers(1, 3), max_size=2))
def test_batch_norm_normalizes_each_channel_property(n, c, rest):
    x = np.random.default_rng(1).standard_normal((n, c, *rest)) * 3 + 2
    y = F.batch_norm(shendu.tensor(x), None, None, training=True, eps=0.0).numpy()
    axes = (0,) + tuple(range(2, x.ndim))
    spread = x.std(axis=axes) > 1e-6
    np.testing.assert_allclose(y.mean(axis=axes), 0, atol=1e-9)
    np.testing.assert_allclose(y.std(axis=axes)[spread], 1, atol=1e-9)
