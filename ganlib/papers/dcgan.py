"""DCGAN (Radford, Metz and Chintala, 2015): lesson 02's convolutional generator and discriminator.

The paper's guidelines: strided (transposed) convolutions instead of pooling, BatchNorm in both
networks (not on G's output nor D's input), ReLU in G with Tanh at the end, LeakyReLU(0.2) in D, no
fully connected hidden layers, and the N(0, 0.02) initialisation :func:`ganlib.layers.dcgan_init`.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from ..validate import check_image_shape, check_noise, check_positive

DCGAN_SIZES = {28: 7, 32: 4, 64: 4}  # image size -> size of the first feature map


def _check_dcgan_size(img_size: int) -> int:
    if img_size not in DCGAN_SIZES:
        raise ValueError(f"img_size must be one of {sorted(DCGAN_SIZES)}; got {img_size!r}.")
    return round(math.log2(img_size // DCGAN_SIZES[img_size]))  # number of 2x up/down-sampling layers


class DCGANGenerator(nn.Module):
    """DCGAN generator (Radford et al., 2015), lesson 02: z (N, z_dim) -> images (N, C, S, S) in [-1, 1].

    A transposed convolution turns z (as a 1x1 map) into a 7x7 (for S = 28) or 4x4 map; each
    following stride-2 transposed convolution doubles the size and halves the channels, ending with
    ``width`` channels before the last layer. BatchNorm and ReLU after every layer but the last,
    which has Tanh.
    """

    def __init__(self, z_dim: int = 100, img_size: int = 28, channels: int = 1, width: int = 64) -> None:
        super().__init__()
        n_up = _check_dcgan_size(img_size)
        check_positive(z_dim=z_dim, channels=channels, width=width)
        self.z_dim, self.img_size, self.channels = z_dim, img_size, channels
        widths = [width * 2**i for i in reversed(range(n_up))]  # e.g. [128, 64] for 28x28
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(z_dim, widths[0], DCGAN_SIZES[img_size], 1, 0, bias=False),
            nn.BatchNorm2d(widths[0]), nn.ReLU(True),
        ]
        for c_in, c_out in zip(widths, widths[1:]):
            layers += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(True)]
        layers += [nn.ConvTranspose2d(widths[-1], channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        z = check_noise(z, self.z_dim, type(self).__name__)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator, lesson 02: images (N, C, S, S) -> logits (N,).

    Stride-2 convolutions halve the size and double the channels, starting at ``width``; LeakyReLU
    (slope 0.2) everywhere, BatchNorm on every layer but the first (``batchnorm=False`` removes it,
    as WGAN-GP needs); a last convolution covers the remaining 7x7 or 4x4 map. No sigmoid.

    ``extra_layers`` adds that many 3x3 stride-1 convolutions (same channels, BatchNorm, LeakyReLU) on
    the smallest map, just before the last convolution: a deeper discriminator at little cost per step
    (lesson 02's ``cpu`` recipe uses one). The WGAN authors' DCGAN code has the same option
    (``n_extra_layers``), placed at the input's resolution instead.
    """

    def __init__(self, img_size: int = 28, channels: int = 1, width: int = 64, batchnorm: bool = True,
                 extra_layers: int = 0) -> None:
        super().__init__()
        n_down = _check_dcgan_size(img_size)
        check_positive(channels=channels, width=width)
        if not isinstance(extra_layers, int) or isinstance(extra_layers, bool) or extra_layers < 0:
            raise ValueError(f"extra_layers must be a whole number >= 0; got {extra_layers!r}.")
        self.img_size, self.channels = img_size, channels
        widths = [width * 2**i for i in range(n_down)]  # e.g. [64, 128] for 28x28
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in zip(widths, widths[1:]):
            layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, True))
        for _ in range(extra_layers):
            layers.append(nn.Conv2d(widths[-1], widths[-1], 3, 1, 1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(widths[-1]))
            layers.append(nn.LeakyReLU(0.2, True))
        layers.append(nn.Conv2d(widths[-1], 1, DCGAN_SIZES[img_size], 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        check_image_shape(x, type(self).__name__, self.channels, self.img_size)
        return self.net(x).view(-1)
