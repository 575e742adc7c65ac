"""Convolutions against PyTorch 2.13: the CASES of tests/test_conv.py (forward and the
gradients of input, weight and bias in float32), the conv layers loaded from a torch
state_dict (outputs, gradients, repr, init statistics), and a second-order gradient
(WGAN-GP's penalty) through a small DCGAN critic."""
import numpy as np
import pytest

import shendu
import shendu.nn.functional as F
from harness import check_conformance, params
from shendu import nn
from test_conv import CASES

torch = pytest.importorskip("torch", reason="PyTorch is not installed: the conformance suite "
                            "needs `pip install torch==2.13.0`")
tnn = torch.nn


@params(CASES)
def test_conformance(case):
    check_conformance(case)


@params([c for c in CASES if c.name.startswith(("conv2d", "conv_transpose2d"))][::3])
def test_conformance_float64(case):
    check_conformance(case, dtype=np.float64)


# ----------------------------------------------------------------------- layers
LAYERS = [
    ("Conv1d", dict(in_channels=3, out_channels=4, kernel_size=3), (2, 3, 9)),
    ("Conv1d", dict(in_channels=4, out_channels=4, kernel_size=4, padding="same",
                    padding_mode="circular", groups=2), (2, 4, 7)),
    ("Conv2d", dict(in_channels=1, out_channels=32, kernel_size=3, padding=1), (4, 1, 28, 28)),
    ("Conv2d", dict(in_channels=3, out_channels=6, kernel_size=(3, 2), stride=(2, 1),
                    padding=(1, 0), dilation=(1, 2), groups=3, bias=False), (2, 3, 9, 8)),
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=3, padding=2,
                    padding_mode="reflect"), (2, 2, 6, 5)),
    ("Conv2d", dict(in_channels=2, out_channels=3, kernel_size=3, stride=2, padding=1,
                    padding_mode="replicate"), (2, 2, 7, 7)),
    ("Conv2d", dict(in_channels=2, out_channels=2, kernel_size=4, padding="same",
                    padding_mode="reflect"), (1, 2, 6, 6)),
    ("Conv2d", dict(in_channels=4, out_channels=8, kernel_size=3, padding="valid", groups=4),
     (3, 4, 5, 5)),
    ("Conv2d", dict(in_channels=3, out_channels=5, kernel_size=3, padding=1), (3, 7, 7)),
    ("Conv3d", dict(in_channels=2, out_channels=3, kernel_size=2, stride=(1, 2, 1), padding=1),
     (1, 2, 3, 4, 4)),
    ("ConvTranspose1d", dict(in_channels=3, out_channels=2, kernel_size=3, stride=2,
                             output_padding=1), (2, 3, 5)),
    ("ConvTranspose2d", dict(in_channels=8, out_channels=4, kernel_size=4, stride=2, padding=1,
                             bias=False), (2, 8, 4, 4)),
    ("ConvTranspose2d", dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(3, 2),
                             padding=(1, 0), output_padding=(2, 1), groups=2, dilation=(1, 2)),
     (2, 4, 3, 3)),
    ("ConvTranspose3d", dict(in_channels=2, out_channels=2, kernel_size=2, stride=2),
     (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name,kwargs,shape", LAYERS,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(LAYERS)])
def test_layer_from_torch_state_dict(name, kwargs, shape):
    torch.manual_seed(0)
    theirs = getattr(tnn, name)(**kwargs)
    ours = getattr(nn, name)(**kwargs)
    assert repr(ours) == repr(theirs)
    sd = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(sd) == list(ours.state_dict())
    assert all(ours.state_dict()[k].shape == v.shape for k, v in sd.items())
    result = ours.load_state_dict(sd)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    xs, xt = shendu.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    y, ty = ours(xs), theirs(xt)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-5, rtol=1e-4)
    g = np.random.default_rng(2).standard_normal(y.shape).astype(np.float32)
    y.backward(shendu.tensor(g))
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=1e-4, rtol=1e-4)
    tp = dict(theirs.named_parameters())
    for k, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tp[k].grad.numpy(), atol=1e-4, rtol=1e-4,
                                   err_msg=k)


def test_conv_transpose_output_size_like_torch():
    torch.manual_seed(0)
    theirs = tnn.ConvTranspose2d(3, 2, 3, stride=3, padding=1)
    ours = nn.ConvTranspose2d(3, 2, 3, stride=3, padding=1)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(0).standard_normal((2, 3, 4, 5)).astype(np.float32)
    for size in [(10, 13), (12, 15), (2, 2, 11, 14)]:
        y = ours(shendu.tensor(x), output_size=size)
        ty = theirs(torch.tensor(x), output_size=size)
        np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), atol=1e-5,
                                   rtol=1e-4)


@pytest.mark.parametrize("name,args", [("Conv2d", (16, 32, 3)), ("Conv1d", (8, 4, 5)),
                                       ("ConvTranspose2d", (32, 16, 4)),
                                       ("Conv2d", (12, 24, (3, 5), 1, 0, 1, 4))])
def test_default_init_statistics_match_torch(name, args):
    ours = getattr(nn, name)(*args)
    theirs = getattr(tnn, name)(*args)
    for (k, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        a, b = p.detach().numpy(), tp.detach().numpy()
        assert a.shape == b.shape, k
        fan_in = tnn.init._calculate_fan_in_and_fan_out(theirs.weight)[0]
        bound = 1 / np.sqrt(fan_in)  # both weight and bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in))
        assert np.abs(a).max() <= bound and np.abs(b).max() <= bound, k
        if a.size >= 500:  # biases have too few values for a std comparison
            assert abs(a.std() - b.std()) < 0.1 * b.std(), k


def test_wgan_gp_penalty_through_dcgan_critic():
    """Second derivatives: WGAN-GP's critic update, ``(||d critic(mix) / d mix|| - 1)^2``
    differentiated in the critic's weights, through strided, grouped and transposed
    convolutions with LeakyReLU, compared with torch. The fake images come from a
    DCGAN-style generator of transposed convolutions (detached, as in the critic step)."""
    torch.manual_seed(0)
    t_critic = tnn.Sequential(tnn.Conv2d(1, 4, 4, 2, 1), tnn.LeakyReLU(0.2),
                              tnn.Conv2d(4, 8, 4, 2, 1, groups=2), tnn.LeakyReLU(0.2),
                              tnn.ConvTranspose2d(8, 2, 3, stride=2, padding=1), tnn.Tanh(),
                              tnn.Conv2d(2, 1, 3))
    t_gen = tnn.Sequential(tnn.ConvTranspose2d(3, 8, 2), tnn.Tanh(),
                           tnn.ConvTranspose2d(8, 1, 4, 2, 1), tnn.Tanh(),
                           tnn.ConvTranspose2d(1, 1, 4, 2, 1))
    critic = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2),
                           nn.Conv2d(4, 8, 4, 2, 1, groups=2), nn.LeakyReLU(0.2),
                           nn.ConvTranspose2d(8, 2, 3, stride=2, padding=1), nn.Tanh(),
                           nn.Conv2d(2, 1, 3))
    gen = nn.Sequential(nn.ConvTranspose2d(3, 8, 2), nn.Tanh(),
                        nn.ConvTranspose2d(8, 1, 4, 2, 1), nn.Tanh(),
                        nn.ConvTranspose2d(1, 1, 4, 2, 1))
    for ours, theirs in ((critic, t_critic), (gen, t_gen)):
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(0)
    z = rng.standard_normal((3, 3, 1, 1)).astype(np.float32)
    real = rng.standard_normal((3, 1, 8, 8)).astype(np.float32)
    eps = rng.random((3, 1, 1, 1)).astype(np.float32)

    fake = gen(shendu.tensor(z))
    t_fake = t_gen(torch.tensor(z))
    np.testing.assert_allclose(fake.detach().numpy(), t_fake.detach().numpy(), atol=1e-5)
    mix = eps * real + (1 - eps) * fake.detach().numpy()
    xs, xt = shendu.tensor(mix, requires_grad=True), torch.tensor(mix, requires_grad=True)
    g, = shendu.autograd.grad(critic(xs).sum(), xs, create_graph=True)
    tg, = torch.autograd.grad(t_critic(xt).sum(), xt, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), tg.detach().numpy(), atol=1e-5, rtol=1e-4)
    p = ((((g.reshape(3, -1) ** 2).sum(axis=1)) ** 0.5 - 1) ** 2).mean()
    tp = ((tg.reshape(3, -1).norm(dim=1) - 1) ** 2).mean()
    np.testing.assert_allclose(p.item(), tp.item(), rtol=1e-4)
    p.backward()
    tp.backward()
    t_params = dict(t_critic.named_parameters())
    for k, v in critic.named_parameters():
        if t_params[k].grad is None:  # the last bias does not change d critic / d x
            assert v.grad is None, k
            continue
        np.testing.assert_allclose(v.grad.numpy(), t_params[k].grad.numpy(), atol=2e-5,
                                   rtol=1e-3, err_msg=k)
    np.testing.assert_allclose(xs.grad.numpy(), xt.grad.numpy(), atol=2e-5, rtol=1e-3)


def test_conv_from_torch_functional_im2col_identity():
    """F.unfold + matmul reproduces torch's conv2d (the lesson's im2col identity)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 7)).astype(np.float32)
    w = rng.standard_normal((5, 3, 3, 3)).astype(np.float32)
    cols = F.unfold(shendu.tensor(x), 3, padding=1, stride=2)
    y = (shendu.tensor(w).reshape(5, -1) @ cols).reshape(2, 5, 4, 4)
    ty = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), padding=1, stride=2)
    np.testing.assert_allclose(y.numpy(), ty.numpy(), atol=1e-5, rtol=1e-4)
