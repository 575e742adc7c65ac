"""Tests for shendu.models.unet.UNet: shapes, that the skip connections carry information
past the bottleneck, gradients (float64 central differences), modes and errors."""
import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.autograd.gradcheck import gradcheck, numerical_gradient
from shendu.models.unet import UNet


def rand(*shape, seed=0, dtype=np.float32):
    return shendu.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


@pytest.mark.parametrize("depth,size", [(1, (4, 6)), (2, (8, 8)), (3, (16, 24)),
                                        (5, (32, 32))])
@pytest.mark.parametrize("norm", ["instance", "batch", None])
def test_output_shape_and_range(depth, size, norm):
    shendu.manual_seed(0)
    net = UNet(2, 3, base_channels=4, depth=depth, norm=norm)
    y = net(rand(2, 2, *size))
    assert y.shape == (2, 3, *size)
    assert float(y.abs().max().item()) <= 1.0  # tanh
    assert float(y.std().item()) > 0  # not a constant


def test_channels_double_where_skips_are_concatenated():
    net = UNet(1, 2, base_channels=4, depth=4, max_channels=16)
    assert net.channels == [4, 8, 16, 16]  # capped at max_channels
    # up 0 (output) reads 2 * 4; up 1, 2 read their level twice; up 3 only the bottleneck
    assert net.up[0].weight.shape == (8, 2, 4, 4)
    assert net.up[1][0].weight.shape == (16, 4, 4, 4)
    assert net.up[2][0].weight.shape == (32, 8, 4, 4)
    assert net.up[3][0].weight.shape == (16, 16, 4, 4)
    plain = UNet(1, 2, base_channels=4, depth=4, max_channels=16, skip=False)
    assert plain.up[0].weight.shape == (4, 2, 4, 4)
    assert plain.up[2][0].weight.shape == (16, 8, 4, 4)


def test_pix2pix_layout_outermost_and_bottleneck_unnormalized():
    net = UNet(1, 1, base_channels=4, depth=4, norm="instance")
    kinds = [[type(m).__name__ for m in block] for block in net.down]
    assert kinds[0] == ["Conv2d", "LeakyReLU"]
    assert kinds[1] == kinds[2] == ["Conv2d", "InstanceNorm2d", "LeakyReLU"]
    assert kinds[3] == ["Conv2d", "LeakyReLU"]
    assert [m.negative_slope for m in net.modules() if isinstance(m, nn.LeakyReLU)] == [0.2] * 4
    assert all(m.affine for m in net.modules() if isinstance(m, nn.InstanceNorm2d))
    assert [type(m).__name__ for m in net.up[1]] == ["ConvTranspose2d", "InstanceNorm2d",
                                                     "ReLU"]
    # the bottleneck is 1x1 for a 16x16 input and instance norm there would zero it
    x = rand(1, 1, 16, 16)
    outs = []
    net.down[-1].register_forward_hook(lambda m, a, out: outs.append(out))
    net(x)
    assert outs[0].shape == (1, 32, 1, 1) and float(outs[0].abs().sum().item()) > 0


def _zero_bottleneck(net):
    return net.down[-1].register_forward_hook(lambda m, args, out: out * 0)


def test_skip_connections_carry_information_past_a_zeroed_bottleneck():
    shendu.manual_seed(0)
    x1, x2 = rand(1, 1, 16, 16, seed=1), rand(1, 1, 16, 16, seed=2)
    unet = UNet(1, 1, base_channels=4, depth=3, norm=None)
    _zero_bottleneck(unet)
    diff = float((unet(x1) - unet(x2)).abs().max().item())
    assert diff > 1e-3  # the encoder levels above the bottleneck still reach the output
    # the plain encoder-decoder has no other path: its output no longer depends on x
    shendu.manual_seed(0)
    plain = UNet(1, 1, base_channels=4, depth=3, norm=None, skip=False)
    _zero_bottleneck(plain)
    np.testing.assert_array_equal(plain(x1).detach().numpy(), plain(x2).detach().numpy())


def test_gradients_reach_every_parameter_and_the_input():
    shendu.manual_seed(0)
    net = UNet(1, 1, base_channels=4, depth=3, norm="instance")
    x = rand(2, 1, 16, 16)
    x.requires_grad = True
    (net(x) * rand(2, 1, 16, 16, seed=3)).sum().backward()
    assert float(x.grad.abs().sum().item()) > 0
    for name, p in net.named_parameters():
        assert p.grad is not None and float(np.abs(p.grad.numpy()).sum()) > 0, name


@pytest.mark.parametrize("norm,upsample,downsample", [(None, "transpose", "conv"),
                                                       ("instance", "nearest", "pool")])
def test_gradcheck_float64(norm, upsample, downsample):
    shendu.manual_seed(0)
    net = UNet(1, 1, base_channels=2, depth=2, norm=norm, upsample=upsample,
               downsample=downsample).double()
    x = rand(1, 1, 4, 4, dtype=np.float64)
    x.requires_grad = True
    assert gradcheck(net, [x])
    # and a weight on each side of the skip: the first encoder conv and the output conv
    v = np.random.default_rng(1).standard_normal((1, 1, 4, 4))
    for p in (net.down[0][0].weight, net.up[0].weight if upsample == "transpose"
              else net.up[0][1].weight):
        net.zero_grad()
        (net(x) * shendu.tensor(v)).sum().backward()
        original = p._data.copy()

        def f(arr):
            p._data[...] = arr
            return float((net(x).numpy() * v).sum())
        numeric = numerical_gradient(f, original.copy())
        p._data[...] = original
        np.testing.assert_allclose(p.grad.numpy(), numeric, rtol=1e-4, atol=1e-6)


def test_dropout_only_in_training_mode_and_innermost_blocks():
    shendu.manual_seed(0)
    net = UNet(1, 1, base_channels=4, depth=4, dropout=0.5, dropout_layers=2)
    with_dropout = [k for k, block in enumerate(net.up)
                    if any(isinstance(m, nn.Dropout) for m in block.modules())]
    assert with_dropout == [2, 3]  # the two up blocks nearest the bottleneck
    x = rand(2, 1, 16, 16)
    with shendu.no_grad():
        assert not np.allclose(net(x).numpy(), net(x).numpy())
        net.eval()
        np.testing.assert_array_equal(net(x).numpy(), net(x).numpy())


def test_final_activation_none_gives_raw_values():
    shendu.manual_seed(0)
    net = UNet(1, 1, base_channels=4, depth=2, final_activation=None, norm=None)
    y = net(rand(4, 1, 8, 8) * 50)
    assert float(y.abs().max().item()) > 1.0


def test_batch_norm_variant_keeps_running_statistics():
    net = UNet(1, 1, base_channels=4, depth=3, norm="batch")
    bns = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert len(bns) == 1 + 2  # down 1, up 1 and up 2
    net(rand(4, 1, 8, 8))
    assert float(np.abs(bns[0].running_mean.numpy()).sum()) > 0


def test_errors_name_the_problem():
    net = UNet(1, 1, base_channels=4, depth=3)
    with pytest.raises(ValueError, match=r"divisible by 2\*\*3 = 8.*\(1, 1, 28, 28\).*32x32"):
        net(shendu.zeros(1, 1, 28, 28))
    with pytest.raises(ValueError, match=r"in_channels=1.*\(N, 1, H, W\), got \(1, 3, 8, 8\)"):
        net(shendu.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"got \(8, 8\)"):
        net(shendu.zeros(8, 8))
    with pytest.raises(TypeError, match="expected a Tensor"):
        net(np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match="norm must be"):
        UNet(1, 1, norm="layer")
    with pytest.raises(ValueError, match="depth must be a positive int"):
        UNet(1, 1, depth=0)
    with pytest.raises(ValueError, match="final_activation"):
        UNet(1, 1, final_activation="sigmoid")
    with pytest.raises(ValueError, match="dropout"):
        UNet(1, 1, dropout=1.0)
    with pytest.raises(ValueError, match="upsample"):
        UNet(1, 1, upsample="bilinear")
