"""Tests for shendu.models.patchgan.PatchGANDiscriminator: the logit map's size, the
receptive field computed from the layers against brute force (perturb one pixel, see
which outputs move), the layout of pix2pix's 70x70 PatchGAN, and errors."""
import numpy as np
import pytest

import shendu
from shendu import nn
from shendu.models.patchgan import PatchGANDiscriminator


def rand(*shape, seed=0):
    return shendu.tensor(np.random.default_rng(seed).standard_normal(shape))


@pytest.mark.parametrize("n_layers,size,expected", [
    (3, (256, 256), (30, 30)),    # pix2pix / CycleGAN at 256 x 256
    (3, (128, 64), (14, 6)),
    (3, (24, 24), (1, 1)),        # the smallest input of 3 layers
    (2, (32, 32), (6, 6)),
    (2, (33, 35), (6, 6)),        # odd sizes round down
    (1, (32, 28), (14, 12)),
    (4, (64, 64), (2, 2)),
])
def test_output_map_size(n_layers, size, expected):
    d = PatchGANDiscriminator(2, base_channels=2, n_layers=n_layers)
    assert d.output_size(*size) == expected
    with shendu.no_grad():
        assert d(shendu.zeros(3, 2, *size)).shape == (3, 1, *expected)


def test_pix2pix_70x70_layout():
    d = PatchGANDiscriminator(3, base_channels=64, n_layers=3)
    convs = [m for m in d.model if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (3, 64, 2), (64, 128, 2), (128, 256, 2), (256, 512, 1), (512, 1, 1)]
    assert all(c.kernel_size == (4, 4) and c.padding == (1, 1) for c in convs)
    kinds = [type(m).__name__ for m in d.model]
    assert kinds[:2] == ["Conv2d", "LeakyReLU"]  # no normalization on the first layer
    assert kinds.count("InstanceNorm2d") == 3 and kinds[-1] == "Conv2d"  # raw logits
    assert d.receptive_field() == 70
    # 3,136 + 131,072 + 524,288 + 2,097,152 + 8,193 conv weights and biases, plus the
    # affine scale and shift of the three instance norms (2 x 896)
    assert sum(p.numel() for p in d.parameters()) == 2_765_633
    # widths stop growing at 8 x base_channels
    wide = PatchGANDiscriminator(1, base_channels=4, n_layers=5)
    assert [c.out_channels for c in wide.model if isinstance(c, nn.Conv2d)] == [
        4, 8, 16, 32, 32, 32, 1]


@pytest.mark.parametrize("n_layers,field", [(1, 16), (2, 34), (3, 70), (4, 142)])
def test_receptive_field_values(n_layers, field):
    d = PatchGANDiscriminator(1, base_channels=2, n_layers=n_layers)
    assert d.receptive_field() == field
    size, stride, offset = d.patch_geometry()
    assert size == field and stride == 2 ** n_layers
    assert offset == -(2 ** n_layers - 1) - 2 * 2 ** n_layers  # the padding of each layer


def _changed_outputs(d, x, i, j):
    """The output positions that move when input pixel (i, j) is perturbed."""
    with shendu.no_grad():
        base = d(shendu.tensor(x)).numpy()[0, 0]
        y = x.copy()
        y[0, :, i, j] += 10.0
        moved = d(shendu.tensor(y)).numpy()[0, 0]
    return set(zip(*np.nonzero(np.abs(moved - base) > 1e-9)))


@pytest.mark.parametrize("n_layers,size", [(1, 24), (2, 40)])
def test_receptive_field_brute_force(n_layers, size):
    """Perturbing one pixel moves exactly the outputs whose patch holds that pixel."""
    shendu.manual_seed(0)
    d = PatchGANDiscriminator(1, base_channels=2, n_layers=n_layers, norm=None).double()
    field, stride, offset = d.patch_geometry()
    x = np.random.default_rng(0).standard_normal((1, 1, size, size))
    h, w = d.output_size(size, size)

    def window(p):  # rows (or columns) seen by output p
        return range(offset + stride * p, offset + stride * p + field)
    for i, j in [(0, 0), (size // 2, size // 3), (size - 1, 5), (size // 3, size - 1)]:
        expected = {(p, q) for p in range(h) for q in range(w)
                    if i in window(p) and j in window(q)}
        assert expected, "the pixel should be seen by some output"
        assert _changed_outputs(d, x, i, j) == expected, (i, j)


def test_receptive_field_is_exact_from_the_gradient():
    """An interior output's input gradient spans exactly field x field pixels."""
    shendu.manual_seed(1)
    d = PatchGANDiscriminator(1, base_channels=2, n_layers=2, norm=None).double()
    field, stride, offset = d.patch_geometry()
    x = rand(1, 1, 48, 48)
    x.requires_grad = True
    p, q = 4, 5
    d(x)[0, 0, p, q].backward()
    rows, cols = np.nonzero(np.abs(x.grad.numpy()[0, 0]) > 0)
    assert rows.max() - rows.min() + 1 == field == cols.max() - cols.min() + 1
    assert rows.min() == offset + stride * p and cols.min() == offset + stride * q


def test_instance_norm_couples_every_patch():
    """With instance normalization the statistics of the whole map enter every output,
    so a pixel far outside an output's patch still moves it a little (documented)."""
    shendu.manual_seed(0)
    d = PatchGANDiscriminator(1, base_channels=2, n_layers=1, norm="instance").double()
    x = np.random.default_rng(0).standard_normal((1, 1, 40, 40))
    changed = _changed_outputs(d, x, 0, 0)
    h, w = d.output_size(40, 40)
    assert len(changed) == h * w  # every output, not only those within 16 pixels


def test_batch_norm_and_no_norm_variants():
    assert not any(isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d))
                   for m in PatchGANDiscriminator(1, 4, 2, norm=None).modules())
    d = PatchGANDiscriminator(1, 4, 2, norm="batch")
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d.modules()) == 2
    # convolutions followed by a normalization carry no bias (it would be cancelled)
    convs = [m for m in d.model if isinstance(m, nn.Conv2d)]
    assert [c.bias is not None for c in convs] == [True, False, False, True]


def test_gradient_reaches_the_input_and_every_weight():
    shendu.manual_seed(0)
    d = PatchGANDiscriminator(1, base_channels=4, n_layers=2)
    x = shendu.tensor(np.random.default_rng(0).standard_normal((2, 1, 32, 32))
                      .astype(np.float32), requires_grad=True)
    d(x).mean().backward()
    assert float(x.grad.abs().sum().item()) > 0
    for name, p in d.named_parameters():
        assert float(np.abs(p.grad.numpy()).sum()) > 0, name


def test_errors():
    d = PatchGANDiscriminator(3, base_channels=4, n_layers=3)
    with pytest.raises(ValueError, match=r"at least 24x24 pixels, got \(1, 3, 16, 16\)"):
        d(shendu.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match=r"in_channels=3.*got \(1, 1, 32, 32\)"):
        d(shendu.zeros(1, 1, 32, 32))
    with pytest.raises(TypeError, match="expected a Tensor"):
        d(np.zeros((1, 3, 32, 32)))
    with pytest.raises(ValueError, match="norm must be"):
        PatchGANDiscriminator(3, norm="group")
    with pytest.raises(ValueError, match="n_layers must be a positive int"):
        PatchGANDiscriminator(3, n_layers=0)
