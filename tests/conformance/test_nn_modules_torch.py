"""nn modules against PyTorch 2.13: the same weights (copied from a torch module's
state_dict through NumPy), then outputs and gradients (input and parameters) compared;
BatchNorm's running statistics over several steps; repr and state_dict keys."""
import numpy as np
import pytest

import shendu
import shendu.nn as nn

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance "
                            "suite needs `pip install torch==2.13.0`")
tnn = torch.nn


def load_from_torch(ours, theirs):
    """Copy torch's parameters and buffers into our module (via NumPy)."""
    result = ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert result.missing_keys == [] and result.unexpected_keys == []
    return ours


def compare(ours, theirs, *arrays, atol=1e-5, rtol=1e-4, seed=0, grad_inputs=None):
    """Run both modules on the same inputs; compare outputs, input and parameter grads."""
    if grad_inputs is None:
        grad_inputs = [a.dtype.kind == "f" for a in arrays]
    xs = [shendu.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_inputs)]
    ts = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad_inputs)]
    y, ty = ours(*xs), theirs(*ts)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=atol, rtol=rtol,
                               err_msg="forward differs")
    if not ty.requires_grad:
        return y
    g = np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if grad_inputs[i]:
            np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=atol, rtol=rtol,
                                       err_msg=f"gradient of input {i} differs")
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tp = theirs_params[name]
        if tp.grad is None:
            assert p.grad is None or float(p.grad.abs().sum()) == 0, name
            continue
        np.testing.assert_allclose(p.grad.numpy(), tp.grad.numpy(), atol=atol, rtol=rtol,
                                   err_msg=f"gradient of {name} differs")
    ours.zero_grad()
    theirs.zero_grad()
    return y


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ------------------------------------------------------------------------- linear
@pytest.mark.parametrize("shape", [(8, 5), (2, 3, 5), (5,), (2, 2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias):
    theirs = tnn.Linear(5, 4, bias=bias)
    ours = load_from_torch(nn.Linear(5, 4, bias=bias), theirs)
    compare(ours, theirs, randn(*shape))


def test_bilinear():
    theirs = tnn.Bilinear(3, 4, 5)
    ours = load_from_torch(nn.Bilinear(3, 4, 5), theirs)
    compare(ours, theirs, randn(6, 3), randn(6, 4, seed=1))
    compare(ours, theirs, randn(2, 6, 3), randn(2, 6, 4, seed=1))


def test_linear_default_init_matches_torch_distribution():
    torch.manual_seed(0)
    theirs = tnn.Linear(400, 300).weight.detach().numpy()
    ours = nn.Linear(400, 300).weight.detach().numpy()
    bound = 1 / np.sqrt(400)
    assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
    assert abs(ours.std() - theirs.std()) < 0.02 * theirs.std()
    assert abs(ours.std() - bound / np.sqrt(3)) < 0.01 * bound
    bias = nn.Linear(400, 300).bias.detach().numpy()
    assert np.abs(bias).max() <= bound and bias.std() > 0.8 * bound / np.sqrt(3)


# ------------------------------------------------------------------------- batch norm
@pytest.mark.parametrize("shape", [(8, 4), (6, 4, 5)])
@pytest.mark.parametrize("kw", [{}, {"momentum": None}, {"affine": False},
                                {"momentum": 0.3, "eps": 1e-3}, {"bias": False}])
def test_batch_norm1d_train_steps_then_eval(shape, kw):
    theirs = tnn.BatchNorm1d(4, **kw)
    if kw.get("affine", True):
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            if theirs.bias is not None:
                theirs.bias.uniform_(-0.5, 0.5)
    ours = load_from_torch(nn.BatchNorm1d(4, **kw), theirs)
    for step in range(4):
        x = randn(*shape, seed=step) * (step + 1) + step
        compare(ours, theirs, x, atol=1e-4)
        for name in ("running_mean", "running_var"):
            np.testing.assert_allclose(getattr(ours, name).numpy(),
                                       getattr(theirs, name).numpy(), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{name} after step {step}")
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == step + 1
    ours.eval(), theirs.eval()
    compare(ours, theirs, randn(*shape, seed=9), atol=1e-4)


def test_batch_norm_without_running_stats_uses_batch_stats_in_eval():
    theirs = tnn.BatchNorm1d(3, track_running_stats=False).eval()
    ours = load_from_torch(nn.BatchNorm1d(3, track_running_stats=False), theirs).eval()
    assert ours.running_mean is None
    compare(ours, theirs, randn(5, 3), atol=1e-4)


def test_batch_norm2d():
    theirs = tnn.BatchNorm2d(3)
    ours = load_from_torch(nn.BatchNorm2d(3), theirs)
    for step in range(2):
        compare(ours, theirs, randn(4, 3, 5, 5, seed=step) + 1, atol=1e-4)
    np.testing.assert_allclose(ours.running_var.numpy(), theirs.running_var.numpy(), rtol=1e-5)
    ours.eval(), theirs.eval()
    compare(ours, theirs, randn(2, 3, 4, 4, seed=5), atol=1e-4)


# ------------------------------------------------------------------------- layer norm
@pytest.mark.parametrize("shape,normalized", [((6, 5), 5), ((2, 3, 5), (5,)),
                                              ((2, 3, 5), (3, 5))])
@pytest.mark.parametrize("kw", [{}, {"elementwise_affine": False}, {"bias": False},
                                {"eps": 1e-2}])
def test_layer_norm(shape, normalized, kw):
    theirs = tnn.LayerNorm(normalized, **kw)
    if theirs.weight is not None:
        with torch.no_grad():
            theirs.weight.uniform_(0.5, 1.5)
            if theirs.bias is not None:
                theirs.bias.uniform_(-0.5, 0.5)
    ours = load_from_torch(nn.LayerNorm(normalized, **kw), theirs)
    compare(ours, theirs, randn(*shape) * 3 + 1, atol=1e-4)


# ------------------------------------------------------------------------- embedding
@pytest.mark.parametrize("padding_idx", [None, 0, 3])
def test_embedding(padding_idx):
    theirs = tnn.Embedding(7, 4, padding_idx=padding_idx)
    ours = load_from_torch(nn.Embedding(7, 4, padding_idx=padding_idx), theirs)
    ids = np.array([[0, 3, 3, 6], [1, 0, 3, 3]])  # repeats and the padding id
    compare(ours, theirs, ids)
    if padding_idx is not None:
        fresh = nn.Embedding(7, 4, padding_idx=padding_idx)
        assert float(fresh.weight[padding_idx].abs().sum()) == 0


def test_embedding_from_pretrained():
    w = randn(5, 3)
    ours = nn.Embedding.from_pretrained(shendu.tensor(w))
    theirs = tnn.Embedding.from_pretrained(torch.tensor(w))
    assert not ours.weight.requires_grad
    compare(ours, theirs, np.array([4, 0, 4]))


# ------------------------------------------------------------------------- dropout, shape
def test_dropout_eval_is_identity_and_train_scales():
    drop = nn.Dropout(0.25)
    x = randn(50, 40)
    y = drop(shendu.tensor(x)).numpy()
    kept = y != 0
    np.testing.assert_allclose(y[kept], x[kept] / 0.75, rtol=1e-6)
    drop.eval()
    np.testing.assert_array_equal(drop(shendu.tensor(x)).numpy(),
                                  tnn.Dropout(0.25).eval()(torch.tensor(x)).numpy())


def test_flatten_unflatten():
    compare(nn.Flatten(), tnn.Flatten(), randn(2, 3, 4, 5))
    compare(nn.Flatten(0, 1), tnn.Flatten(0, 1), randn(2, 3, 4))
    compare(nn.Unflatten(1, (3, 4)), tnn.Unflatten(1, (3, 4)), randn(2, 12))


# ------------------------------------------------------------------------- activations
ACTIVATIONS = [
    ("ReLU", (), {}), ("ReLU6", (), {}), ("LeakyReLU", (0.2,), {}), ("ELU", (), {"alpha": 0.7}),
    ("SELU", (), {}), ("CELU", (), {"alpha": 1.5}), ("GELU", (), {}),
    ("GELU", (), {"approximate": "tanh"}), ("SiLU", (), {}), ("Mish", (), {}),
    ("Sigmoid", (), {}), ("Tanh", (), {}), ("Softplus", (), {"beta": 2.0, "threshold": 5.0}),
    ("LogSigmoid", (), {}), ("Softsign", (), {}), ("Hardtanh", (-0.5, 2.0), {}),
    ("Hardsigmoid", (), {}), ("Hardswish", (), {}), ("Threshold", (0.1, -2.0), {}),
    ("Softmax", (), {"dim": 1}), ("LogSoftmax", (), {"dim": -1}), ("Softmin", (), {"dim": 0}),
    ("PReLU", (), {}), ("PReLU", (3,), {"init": 0.1}),
]


@pytest.mark.parametrize("name,args,kw", ACTIVATIONS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(ACTIVATIONS)])
def test_activation_modules(name, args, kw):
    theirs = getattr(tnn, name)(*args, **kw)
    ours = getattr(nn, name)(*args, **kw)
    assert repr(ours) == repr(theirs)
    load_from_torch(ours, theirs)
    x = randn(4, 3, 5) * 3
    x[np.abs(x) < 1e-2] = 0.5  # keep away from kinks
    compare(ours, theirs, x, atol=1e-5)


@pytest.mark.parametrize("name,args", [("ReLU", ()), ("LeakyReLU", (0.05,)), ("ELU", (0.5,)),
                                       ("SELU", ()), ("ReLU6", ()), ("Hardtanh", (-2.0, 2.0)),
                                       ("Threshold", (0.1, 20.0)), ("SiLU", ()), ("Mish", ()),
                                       ("CELU", ()), ("Hardsigmoid", ()), ("Hardswish", ())])
def test_inplace_flag_shows_in_repr(name, args):
    assert repr(getattr(nn, name)(*args, inplace=True)) == \
        repr(getattr(tnn, name)(*args, inplace=True))


def test_step_is_the_perceptron_threshold_with_zero_gradient():
    x = shendu.tensor([-2.0, 0.0, 0.5, 3.0], requires_grad=True)
    step = nn.Step()
    y = step(x)
    np.testing.assert_array_equal(y.detach().numpy(),
                                  torch.heaviside(torch.tensor([-2.0, 0.0, 0.5, 3.0]),
                                                  torch.tensor(0.0)).numpy())
    assert repr(step) == "Step(threshold=0.0)"
    if y.requires_grad:
        y.sum().backward()
        assert float(x.grad.abs().sum()) == 0


# ------------------------------------------------------------------------- repr, keys
def _both(build):
    return build(nn), build(tnn)


def test_repr_and_state_dict_keys_match_torch():
    def build(m):
        return m.Sequential(m.Linear(2, 4), m.ReLU(), m.Dropout(0.1), m.BatchNorm1d(4),
                            m.LayerNorm(4), m.Embedding(10, 3, padding_idx=1),
                            m.Sequential(m.Flatten(), m.Unflatten(1, (2, 2))),
                            m.ModuleList([m.Linear(3, 3), m.Linear(3, 3), m.Tanh()]),
                            m.ModuleDict({"a": m.GELU(approximate="tanh"), "b": m.Identity()}),
                            m.Bilinear(2, 3, 4, bias=False), m.AlphaDropout(0.2),
                            m.LayerNorm((2, 3), elementwise_affine=False),
                            m.BatchNorm1d(3, affine=False, momentum=None),
                            m.Softmax(dim=1), m.Dropout2d())
    ours, theirs = _both(build)
    assert repr(ours) == repr(theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    for (n, p), (tn, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert n == tn and p.shape == tuple(tp.shape)


def test_custom_module_repr_matches_torch():
    def build(m):
        class Block(m.Module):
            def __init__(self):
                super().__init__()
                self.fc = m.Linear(3, 3)
                self.act = m.LeakyReLU(0.1)

            def extra_repr(self):
                return "custom=1"

        class Model(m.Module):
            def __init__(self):
                super().__init__()
                self.blocks = m.Sequential(Block(), Block())
                self.out = m.Linear(3, 1)
        return Model()

    ours, theirs = _both(build)
    assert repr(ours) == repr(theirs)


def test_load_torch_state_dict_directly():
    theirs = tnn.Sequential(tnn.Linear(3, 2), tnn.BatchNorm1d(2))
    ours = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ours.load_state_dict(theirs.state_dict())  # torch tensors are accepted as values
    np.testing.assert_array_equal(ours[0].weight.detach().numpy(),
                                  theirs[0].weight.detach().numpy())
