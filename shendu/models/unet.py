"""U-Net: an encoder-decoder for image-to-image networks with skip connections
(Ronneberger et al. 2015; the pix2pix / CycleGAN generator of Isola et al. 2017).

Course seed 003 ("U-Net"): the network first **downsamples** the image to a small,
deep representation and then **upsamples** it back to the original resolution; unlike a
plain encoder-decoder it adds **skip connections** (跨層連結) that join each encoder
level to the decoder level of the same resolution, so the fine detail of every
resolution reaches the output without squeezing through the bottleneck.

Layout for ``depth = D`` (``c_i = base_channels * 2**i``, capped at ``max_channels``;
``H`` and ``W`` must be divisible by ``2**D``)::

    x (N, in, H, W)
    down 0: Conv 4x4 /2            -> LeakyReLU(0.2)          e0 (N, c0, H/2, W/2)
    down 1: Conv 4x4 /2 -> Norm    -> LeakyReLU(0.2)          e1 (N, c1, H/4, W/4)
    ...
    down D-1: Conv 4x4 /2          -> LeakyReLU(0.2)          bottleneck (H / 2**D)
    up D-1: ConvT 4x4 x2 -> Norm [-> Dropout] -> ReLU, concat e_{D-2}
    ...
    up 1:   ConvT 4x4 x2 -> Norm [-> Dropout] -> ReLU, concat e0   (N, 2 c0, H/2, W/2)
    up 0:   ConvT 4x4 x2 -> tanh                                    (N, out, H, W)

As in pix2pix, the outermost encoder block and the bottleneck have no normalization
(at ``H = 2**D`` the bottleneck is 1x1, where instance normalization would set every
value to zero), and the concatenation is along channels (``shendu.cat(..., dim=1)``),
so up block ``k`` reads ``2 c_k`` channels. ``skip=False`` drops the concatenations and
gives the plain encoder-decoder the course compares U-Net with.

>>> import shendu
>>> from shendu.models.unet import UNet
>>> _ = shendu.manual_seed(0)
>>> net = UNet(1, 1, base_channels=8, depth=3)
>>> y = net(shendu.zeros(2, 1, 32, 32))
>>> y.shape
(2, 1, 32, 32)
>>> bool((y.abs() <= 1).all())                       # tanh output
True
"""
from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from ..ops import cat

__all__ = ["UNet"]

_NORMS = ("instance", "batch", None)


def norm_layer(norm, channels, who):
    """The normalization module ``norm`` names for ``channels`` channels (or None).

    ``"instance"``: ``InstanceNorm2d(affine=True)``, statistics of each image alone (the
    course: suited to style transfer, no dependence on the rest of the batch);
    ``"batch"``: ``BatchNorm2d``; ``None``: no normalization.
    """
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    if norm is None:
        return None
    raise ValueError(f"{who}: norm must be 'instance', 'batch' or None, got {norm!r}")


class _Down(nn.Sequential):
    """One encoder level: ``Conv2d(4, stride 2, padding 1) [-> norm] -> LeakyReLU(0.2)``,
    halving H and W."""

    def __init__(self, c_in, c_out, norm, downsample, who):
        layer = norm_layer(norm, c_out, who)
        if downsample == "conv":
            convs = [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=layer is None)]
        else:  # "pool": a 3x3 convolution at full resolution, then 2x2 max pooling
            convs = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=layer is None),
                     nn.MaxPool2d(2)]
        super().__init__(*convs, *([layer] if layer is not None else []),
                         nn.LeakyReLU(0.2))


class _Up(nn.Sequential):
    """One decoder level: ``ConvTranspose2d(4, stride 2, padding 1)`` (or nearest
    upsampling then ``Conv2d(3, padding 1)``) ``[-> norm] [-> Dropout] -> ReLU``,
    doubling H and W."""

    def __init__(self, c_in, c_out, norm, dropout, upsample, who):
        layer = norm_layer(norm, c_out, who)
        bias = layer is None
        if upsample == "transpose":
            convs = [nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=bias)]
        else:  # "nearest": no checkerboard pattern from overlapping transposed kernels
            convs = [nn.Upsample(scale_factor=2, mode="nearest"),
                     nn.Conv2d(c_in, c_out, 3, padding=1, bias=bias)]
        super().__init__(*convs, *([layer] if layer is not None else []),
                         *([nn.Dropout(dropout)] if dropout else []), nn.ReLU())


class UNet(nn.Module):
    """A pix2pix-style U-Net generator: ``(N, in_channels, H, W) -> (N, out_channels, H, W)``.

    Parameters
    ----------
    in_channels, out_channels : int
    base_channels : int, default 32; channels of the first encoder level (``c_0``);
        level ``i`` has ``min(base_channels * 2**i, max_channels)``
    depth : int, default 4; number of stride-2 levels: H and W must be divisible by
        ``2**depth`` (the bottleneck is ``H / 2**depth`` pixels high)
    norm : "instance" (default, affine), "batch" or None
    final_activation : "tanh" (default, outputs in [-1, 1], images scaled to [-1, 1])
        or None (raw values)
    dropout : float, default 0.0; dropout probability in the innermost up blocks
        (pix2pix uses 0.5 as its noise source; CycleGAN uses none)
    dropout_layers : int, default 3; how many up blocks, counted from the bottleneck,
        get dropout (all but the output block at most)
    max_channels : int, default ``base_channels * 8`` (pix2pix's 64 -> 512 cap)
    skip : bool, default True; False drops the skip connections (a plain
        encoder-decoder, for comparison)
    downsample : "conv" (default, stride-2 4x4 convolution) or "pool" (3x3 convolution
        then 2x2 max pooling, as the original U-Net)
    upsample : "transpose" (default, 4x4 transposed convolution) or "nearest"
        (nearest-neighbour upsampling then a 3x3 convolution)

    Attributes
    ----------
    down : ModuleList of the ``depth`` encoder blocks (``down[-1]`` is the bottleneck)
    up : ModuleList of the ``depth`` decoder blocks (``up[0]`` is the output block,
        ``up[-1]`` reads the bottleneck)

    >>> import shendu
    >>> net = UNet(3, 3, base_channels=4, depth=2, norm=None, final_activation=None)
    >>> net.up[0].weight.shape                      # reads 2 * 4 concatenated channels
    (8, 3, 4, 4)
    >>> net.up[1][0].weight.shape                   # the bottleneck's 8 channels -> 4
    (8, 4, 4, 4)
    >>> net(shendu.zeros(1, 3, 8, 12)).shape
    (1, 3, 8, 12)
    """

    def __init__(self, in_channels, out_channels, base_channels=32, depth=4, norm="instance",
                 final_activation="tanh", dropout=0.0, dropout_layers=3, max_channels=None,
                 skip=True, downsample="conv", upsample="transpose"):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("out_channels", out_channels),
                            ("base_channels", base_channels), ("depth", depth)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"UNet: {name} must be a positive int, got {value!r}")
        if norm not in _NORMS:
            raise ValueError(f"UNet: norm must be 'instance', 'batch' or None, got {norm!r}")
        if final_activation not in ("tanh", None):
            raise ValueError(f"UNet: final_activation must be 'tanh' or None, got "
                             f"{final_activation!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"UNet: dropout must be in [0, 1), got {dropout!r}")
        if downsample not in ("conv", "pool"):
            raise ValueError(f"UNet: downsample must be 'conv' or 'pool', got {downsample!r}")
        if upsample not in ("transpose", "nearest"):
            raise ValueError(f"UNet: upsample must be 'transpose' or 'nearest', got "
                             f"{upsample!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.base_channels, self.depth, self.norm = base_channels, depth, norm
        self.final_activation, self.skip = final_activation, bool(skip)
        self.dropout, self.dropout_layers = float(dropout), int(dropout_layers)
        self.max_channels = base_channels * 8 if max_channels is None else int(max_channels)
        self.downsample, self.upsample = downsample, upsample
        widths = [min(base_channels * 2 ** i, self.max_channels) for i in range(depth)]
        self.channels = widths

        # the outermost and the innermost (bottleneck) levels are not normalized
        self.down = nn.ModuleList(
            _Down(in_channels if i == 0 else widths[i - 1], widths[i],
                  None if i in (0, depth - 1) else norm, downsample, "UNet")
            for i in range(depth))
        ups = []
        for k in range(depth):
            if k == 0:
                c_in = widths[0] * (2 if self.skip and depth > 1 else 1)
                block = (nn.ConvTranspose2d(c_in, out_channels, 4, stride=2, padding=1)
                         if upsample == "transpose" else
                         nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"),
                                       nn.Conv2d(c_in, out_channels, 3, padding=1)))
            else:
                # up k reads the level below it: the bottleneck alone (k = depth - 1) or
                # the previous up block's output concatenated with its skip
                c_in = widths[k] * (2 if self.skip and k < depth - 1 else 1)
                drop = self.dropout if depth - k <= self.dropout_layers else 0.0
                block = _Up(c_in, widths[k - 1], norm, drop, upsample, "UNet")
            ups.append(block)
        self.up = nn.ModuleList(ups)

    def _check_input(self, x):
        if not isinstance(x, Tensor):
            raise TypeError(f"UNet: expected a Tensor of shape (N, {self.in_channels}, H, W), "
                            f"got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"UNet(in_channels={self.in_channels}) expected input of shape "
                             f"(N, {self.in_channels}, H, W), got {tuple(x.shape)}")
        factor = 2 ** self.depth
        h, w = x.shape[2], x.shape[3]
        if h % factor or w % factor:
            fix_h, fix_w = -(-h // factor) * factor, -(-w // factor) * factor
            raise ValueError(f"UNet(depth={self.depth}) needs H and W divisible by "
                             f"2**{self.depth} = {factor}, got input of shape "
                             f"{tuple(x.shape)}: pad it to {fix_h}x{fix_w} (e.g. F.pad) or "
                             f"use a smaller depth")

    def forward(self, x):
        """``x`` (N, in_channels, H, W) -> (N, out_channels, H, W)."""
        self._check_input(x)
        skips = []
        for block in self.down:
            x = block(x)
            skips.append(x)
        skips.pop()  # the bottleneck goes straight up, not through a skip
        for k in range(self.depth - 1, -1, -1):
            if k < self.depth - 1 and self.skip:
                x = cat([x, skips[k]], dim=1)
            x = self.up[k](x)
        return x.tanh() if self.final_activation == "tanh" else x

    def extra_repr(self):
        return (f"in_channels={self.in_channels}, out_channels={self.out_channels}, "
                f"channels={self.channels}, norm={self.norm!r}, skip={self.skip}")
