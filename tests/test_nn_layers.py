"""nn layers: errors a learner can act on, train/eval behaviour, dtypes, and a small
end-to-end fit (PyTorch conformance is in tests/conformance/test_nn_modules_torch.py)."""
import numpy as np
import pytest

import shendu
import shendu.nn as nn
import shendu.nn.functional as F


# ------------------------------------------------------------------------- Linear
def test_linear_shapes_dtype_and_params():
    lin = nn.Linear(784, 10)
    assert lin.weight.shape == (10, 784) and lin.bias.shape == (10,)
    assert isinstance(lin.weight, nn.Parameter) and lin.weight.dtype == shendu.float32
    assert lin(shendu.zeros(32, 784)).shape == (32, 10)
    assert lin(shendu.zeros(4, 7, 784)).shape == (4, 7, 10)
    no_bias = nn.Linear(3, 2, bias=False)
    assert no_bias.bias is None and [n for n, _ in no_bias.named_parameters()] == ["weight"]
    lin64 = nn.Linear(3, 2, dtype=shendu.float64)
    assert lin64.weight.dtype == shendu.float64
    assert lin64(shendu.ones(1, 3, dtype=shendu.float64)).dtype == shendu.float64


def test_linear_error_says_to_flatten():
    lin = nn.Linear(784, 10)
    msg = ("Linear(in_features=784, out_features=10) got input of shape (32, 28, 28): "
           "expected the last dimension to be 784; flatten it first (nn.Flatten)")
    with pytest.raises(ValueError) as info:
        lin(shendu.zeros(32, 28, 28))
    assert str(info.value) == msg
    with pytest.raises(ValueError, match=r"^Linear\(in_features=784, out_features=10\) got input "
                       r"of shape \(32, 100\): expected the last dimension to be 784$"):
        lin(shendu.zeros(32, 100))
    with pytest.raises(TypeError, match=r"the input is float64 but the weight is float32; "
                       r"convert the input \(x.to\(shendu.float32\)\)"):
        lin(shendu.zeros(2, 784, dtype=shendu.float64))
    with pytest.raises(TypeError, match=r"input is an integer"):
        lin(shendu.zeros(2, 784, dtype=shendu.int64))
    with pytest.raises(TypeError, match="expected a Tensor input"):
        lin(np.zeros((2, 784), np.float32))
    with pytest.raises(ValueError, match="in_features must be a non-negative integer"):
        nn.Linear(2.5, 3)


def test_identity_and_flatten():
    ident = nn.Identity(54, unused="x")
    x = shendu.ones(2, 3)
    assert ident(x) is x
    assert nn.Flatten()(shendu.zeros(5, 1, 28, 28)).shape == (5, 784)
    assert nn.Unflatten(1, (1, 28, 28))(shendu.zeros(5, 784)).shape == (5, 1, 28, 28)
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints"):
        nn.Unflatten(1, 784)


# ------------------------------------------------------------------------- BatchNorm
def test_batch_norm_train_and_eval_modes():
    bn = nn.BatchNorm1d(3)
    x = shendu.randn(64, 3) * 2 + 5
    y = bn(x).detach().numpy()
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-3)
    assert int(bn.num_batches_tracked) == 1
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * x.numpy().mean(0), rtol=1e-5)
    bn.eval()
    one = bn(shendu.randn(1, 3))  # a single sample is fine in evaluation
    assert one.shape == (1, 3) and int(bn.num_batches_tracked) == 1
    before = bn.running_mean.numpy().copy()
    bn(shendu.randn(8, 3))
    np.testing.assert_array_equal(bn.running_mean.numpy(), before)


def test_batch_norm_momentum_none_is_a_cumulative_average():
    bn = nn.BatchNorm1d(2, momentum=None)
    batches = [shendu.randn(10, 2) + i for i in range(3)]
    for b in batches:
        bn(b)
    np.testing.assert_allclose(bn.running_mean.numpy(),
                               np.mean([b.numpy().mean(0) for b in batches], 0), rtol=1e-5)


def test_batch_norm_errors():
    bn = nn.BatchNorm1d(4)
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected 2D or 3D input \(got 4D input"):
        bn(shendu.zeros(2, 4, 3, 3))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(4\) got input of shape \(8, 5\): "
                       r"expected 4 channels in dimension 1"):
        bn(shendu.zeros(8, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel when training"):
        bn(shendu.zeros(1, 4))
    assert int(bn.num_batches_tracked) == 0  # the failed call changed nothing
    with pytest.raises(ValueError, match="expected 4D input"):
        nn.BatchNorm2d(4)(shendu.zeros(2, 4))


def test_layer_norm_error_and_modes():
    ln = nn.LayerNorm(8)
    x = shendu.randn(2, 5, 8)
    y_train = ln(x).detach().numpy()
    ln.eval()
    np.testing.assert_array_equal(ln(x).detach().numpy(), y_train)  # no running state
    with pytest.raises(ValueError, match=r"LayerNorm\(\(8,\)\) got input of shape \(2, 5\)"):
        ln(shendu.zeros(2, 5))


# ------------------------------------------------------------------------- Embedding
def test_embedding_init_padding_and_errors():
    emb = nn.Embedding(1000, 64, padding_idx=0)
    w = emb.weight.detach().numpy()
    assert np.all(w[0] == 0)
    assert abs(w[1:].std() - 1.0) < 0.02  # N(0, 1) like PyTorch
    ids = shendu.tensor([[0, 5, 5], [7, 0, 5]])
    emb(ids).sum().backward()
    assert float(emb.weight.grad[0].abs().sum()) == 0
    np.testing.assert_array_equal(emb.weight.grad.numpy()[5], 3.0)
    with pytest.raises(IndexError, match=r"index 1000 is out of range.*num_embeddings=1000"):
        emb(shendu.tensor([1, 1000]))
    with pytest.raises(TypeError, match="indices must be an integer tensor"):
        emb(shendu.tensor([1.0]))
    assert nn.Embedding(5, 2, padding_idx=-1).padding_idx == 4
    with pytest.raises(ValueError, match="padding_idx 5 must be within num_embeddings=5"):
        nn.Embedding(5, 2, padding_idx=5)


# ------------------------------------------------------------------------- Dropout
def test_dropout_module_train_eval():
    drop = nn.Dropout(0.5)
    x = shendu.ones(100, 100)
    y = drop(x).numpy()
    assert set(np.unique(y).tolist()) == {0.0, 2.0}
    assert abs((y == 0).mean() - 0.5) < 0.02
    drop.eval()
    assert drop(x) is x
    with pytest.raises(ValueError, match="between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    assert repr(nn.Dropout(0.2)) == "Dropout(p=0.2, inplace=False)"


def test_dropout_gradient_uses_the_same_mask():
    x = shendu.ones(20, 30, requires_grad=True)
    y = nn.Dropout(0.4)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


# ------------------------------------------------------------------------- activations
def test_activation_modules_call_their_ops():
    x = shendu.tensor([-2.0, -0.5, 0.0, 0.5, 2.0])
    pairs = [(nn.ReLU(), shendu.relu(x)), (nn.Sigmoid(), shendu.sigmoid(x)),
             (nn.Tanh(), shendu.tanh(x)), (nn.GELU(), F.gelu(x)),
             (nn.Softmax(dim=0), F.softmax(x, dim=0)), (nn.Step(0.2), F.step(x, 0.2))]
    for module, expected in pairs:
        np.testing.assert_array_equal(module(x).detach().numpy(), expected.detach().numpy())
    np.testing.assert_array_equal(nn.Step()(x).numpy(), [0, 0, 0, 1, 1])
    assert nn.Swish is nn.SiLU
    with pytest.raises(ValueError, match="approximate must be 'none' or 'tanh'"):
        nn.GELU("fast")
    assert repr(nn.Softmax()) == "Softmax(dim=None)"
    np.testing.assert_allclose(nn.Softmax()(shendu.ones(2, 4)).numpy(), 0.25)  # last axis


# ------------------------------------------------------------------------- end to end
def test_mlp_learns_xor():
    shendu.manual_seed(0)
    x = shendu.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = shendu.tensor([[0.0], [1.0], [1.0], [0.0]])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1), nn.Sigmoid())
    params = list(model.parameters())
    for _ in range(500):
        loss = ((model(x) - y) ** 2).mean()
        model.zero_grad()
        loss.backward()
        with shendu.no_grad():
            for p in params:
                p.sub_(p.grad * 1.0)
    assert float(loss) < 0.02
    np.testing.assert_array_equal((model(x).detach().numpy() > 0.5).astype(int), [[0], [1], [1], [0]])
