"""PatchGAN: a fully convolutional discriminator that judges every N x N patch of an image
(Isola et al. 2017, "Image-to-Image Translation with Conditional Adversarial Networks";
the discriminator of pix2pix and CycleGAN).

Course seed 003 ("PatchGAN"): instead of one real/fake probability for the whole image,
the discriminator outputs a map of logits, one per patch; it looks at texture and style
within each patch and treats patches as independent (a "Markovian discriminator"),
and it is small and fast because it never needs a view of the whole image.

Layers (``c = base_channels``, widths capped at ``8 c``; every kernel 4x4, padding 1)::

    Conv /2 (in -> c)                     -> LeakyReLU(0.2)
    Conv /2 (c -> 2c)          -> Norm    -> LeakyReLU(0.2)      \\  n_layers - 1
    ...                                                          /  stride-2 blocks
    Conv /1 (-> c 2**n_layers) -> Norm    -> LeakyReLU(0.2)
    Conv /1 (-> 1)                                               the logit map

With ``n_layers = 3`` this is the "70 x 70 PatchGAN": each output logit depends on a
70 x 70 window of the input (``receptive_field()``), and a 256 x 256 image gives a
30 x 30 map. Fewer layers scale it to small inputs: ``n_layers = 2`` sees 34 x 34
patches, ``n_layers = 1`` 16 x 16.

The receptive field counts the convolutions only. Instance normalization (the default,
as CycleGAN) divides by statistics of the whole feature map, so in the strict sense
every output depends a little on every pixel; with ``norm=None`` (or batch
normalization in evaluation mode) the patches are exactly independent.

>>> import shendu
>>> from shendu.models.patchgan import PatchGANDiscriminator
>>> d = PatchGANDiscriminator(3, base_channels=8, n_layers=3)
>>> d.receptive_field()
70
>>> d(shendu.zeros(2, 3, 256, 256)).shape           # one logit per 70x70 patch
(2, 1, 30, 30)
"""
from __future__ import annotations

from .. import nn
from ..autograd.tensor import Tensor
from .unet import norm_layer

__all__ = ["PatchGANDiscriminator"]


class PatchGANDiscriminator(nn.Module):
    """pix2pix/CycleGAN's N-layer PatchGAN: ``(N, in_channels, H, W) -> (N, 1, H', W')``
    real/fake logits, one per patch (no sigmoid: pair it with
    ``binary_cross_entropy_with_logits`` or the least-squares loss).

    Parameters
    ----------
    in_channels : int; 3 for RGB, 1 for grey (pix2pix's conditional discriminator reads
        input and output concatenated: 2 x channels)
    base_channels : int, default 64
    n_layers : int, default 3; stride-2 blocks (3 is the 70x70 PatchGAN)
    norm : "instance" (default, affine), "batch" or None

    For each side, ``H' = floor(H / 2**n_layers) - 2`` (every stride-2 4x4 convolution
    with padding 1 halves, each stride-1 one removes a pixel), so inputs need
    ``H >= 3 * 2**n_layers``.

    Methods
    -------
    receptive_field() : the side of the square input patch each output sees
    patch_geometry() : (patch size, stride between neighbouring outputs' patches, offset
        of output 0's patch); output ``(i, j)`` sees rows ``offset + stride*i`` to
        ``offset + stride*i + size - 1`` (``offset`` is negative: zero padding)
    output_size(H, W) : the logit map's (H', W')

    >>> import shendu
    >>> d = PatchGANDiscriminator(1, base_channels=4, n_layers=2, norm=None)
    >>> d.receptive_field(), d.patch_geometry(), d.output_size(32, 32)
    (34, (34, 4, -11), (6, 6))
    """

    def __init__(self, in_channels, base_channels=64, n_layers=3, norm="instance"):
        super().__init__()
        for name, value in (("in_channels", in_channels), ("base_channels", base_channels),
                            ("n_layers", n_layers)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"PatchGANDiscriminator: {name} must be a positive int, got "
                                 f"{value!r}")
        self.in_channels, self.base_channels = in_channels, base_channels
        self.n_layers, self.norm = n_layers, norm
        who = "PatchGANDiscriminator"
        norm_layer(norm, 1, who)  # validates norm before anything is built
        c = base_channels
        layers = [nn.Conv2d(in_channels, c, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        width = c
        for n in range(1, n_layers + 1):
            nxt = c * min(2 ** n, 8)
            stride = 2 if n < n_layers else 1  # the last block keeps the resolution
            layer = norm_layer(norm, nxt, who)
            layers.append(nn.Conv2d(width, nxt, 4, stride=stride, padding=1,
                                    bias=layer is None))
            if layer is not None:
                layers.append(layer)
            layers.append(nn.LeakyReLU(0.2))
            width = nxt
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def _convs(self):
        return [m for m in self.model if isinstance(m, nn.Conv2d)]

    def patch_geometry(self):
        """``(size, stride, offset)`` of the input window of each output, from the layers.

        Walking the convolutions from the input: a layer of kernel ``k``, dilation ``d``,
        stride ``s`` and padding ``p`` widens the window by ``(k - 1) d`` steps of the
        current output spacing ``j`` (in input pixels), moves its start by ``-p j``, and
        multiplies the spacing by ``s``:
        ``size += (k - 1) d j;  offset -= p j;  j *= s``.
        """
        size, jump, offset = 1, 1, 0
        for conv in self._convs():
            (k, _), (d, _) = conv.kernel_size, conv.dilation
            (s, _), (p, _) = conv.stride, conv.padding
            size += (k - 1) * d * jump
            offset -= p * jump
            jump *= s
        return size, jump, offset

    def receptive_field(self):
        """The side (in input pixels) of the square patch each output logit sees
        (70 for pix2pix's ``n_layers=3``)."""
        return self.patch_geometry()[0]

    def output_size(self, height, width):
        """The logit map's ``(H', W')`` for an ``height x width`` input."""
        sizes = []
        for n in (int(height), int(width)):
            for conv in self._convs():
                (k, _), (d, _) = conv.kernel_size, conv.dilation
                (s, _), (p, _) = conv.stride, conv.padding
                n = (n + 2 * p - d * (k - 1) - 1) // s + 1
            sizes.append(n)
        return tuple(sizes)

    def forward(self, x):
        """``x`` (N, in_channels, H, W) -> logits (N, 1, H', W'), see ``output_size``."""
        if not isinstance(x, Tensor):
            raise TypeError(f"PatchGANDiscriminator: expected a Tensor of shape "
                            f"(N, {self.in_channels}, H, W), got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"PatchGANDiscriminator(in_channels={self.in_channels}) "
                             f"expected input of shape (N, {self.in_channels}, H, W), got "
                             f"{tuple(x.shape)}")
        h, w = self.output_size(x.shape[2], x.shape[3])
        if h < 1 or w < 1:
            need = 3 * 2 ** self.n_layers
            raise ValueError(f"PatchGANDiscriminator(n_layers={self.n_layers}) needs inputs "
                             f"of at least {need}x{need} pixels, got {tuple(x.shape)}: use "
                             f"fewer layers for small images")
        return self.model(x)

    def extra_repr(self):
        return (f"in_channels={self.in_channels}, n_layers={self.n_layers}, "
                f"norm={self.norm!r}, receptive_field={self.receptive_field()}")
