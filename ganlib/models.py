"""Generators and discriminators: the MLP GAN (lesson 01) and DCGAN (lesson 02).

Every discriminator ends without a sigmoid: it returns one raw score (a logit) per image, shape
(N,), and the loss in :mod:`ganlib.losses` decides how to read it.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

DCGAN_SIZES = {28: 7, 32: 4, 64: 4}  # image size -> size of the first feature map


def _check_noise(z: Tensor, z_dim: int, owner: str) -> Tensor:
    if z.ndim == 4 and z.shape[2:] == (1, 1):
        z = z.flatten(1)
    if z.ndim != 2 or z.shape[1] != z_dim:
        raise ValueError(f"{owner} expects noise of shape (N, {z_dim}); got {tuple(z.shape)}.")
    return z


def _check_images(x: Tensor, shape: tuple[int, int, int], owner: str) -> None:
    if x.ndim != 4 or tuple(x.shape[1:]) != shape:
        raise ValueError(f"{owner} expects images of shape (N, {shape[0]}, {shape[1]}, {shape[2]}); got {tuple(x.shape)}.")


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")


class MLPGenerator(nn.Module):
    """Fully connected generator: z (N, z_dim) -> images (N, C, H, W) in [-1, 1] (lesson 01)."""

    def __init__(self, z_dim: int = 100, img_shape: tuple[int, int, int] = (1, 28, 28),
                 hidden: tuple[int, ...] = (256, 512, 1024)) -> None:
        super().__init__()
        _check_positive(z_dim=z_dim, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        self.z_dim, self.img_shape = z_dim, tuple(img_shape)
        layers: list[nn.Module] = []
        sizes = (z_dim, *hidden)
        for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
            layers.append(nn.Linear(n_in, n_out))
            if i > 0:  # no BatchNorm right after the noise
                layers.append(nn.BatchNorm1d(n_out))
            layers.append(nn.LeakyReLU(0.2))
        layers += [nn.Linear(sizes[-1], math.prod(self.img_shape)), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: Tensor) -> Tensor:
        z = _check_noise(z, self.z_dim, type(self).__name__)
        return self.net(z).view(-1, *self.img_shape)


class MLPDiscriminator(nn.Module):
    """Fully connected discriminator: images (N, C, H, W) -> logits (N,) (lesson 01)."""

    def __init__(self, img_shape: tuple[int, int, int] = (1, 28, 28), hidden: tuple[int, ...] = (512, 256)) -> None:
        super().__init__()
        _check_positive(**{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        self.img_shape = tuple(img_shape)
        layers: list[nn.Module] = [nn.Flatten()]
        sizes = (math.prod(self.img_shape), *hidden)
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x, self.img_shape, type(self).__name__)
        return self.net(x).view(-1)


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
        _check_positive(z_dim=z_dim, channels=channels, width=width)
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
        z = _check_noise(z, self.z_dim, type(self).__name__)
        return self.net(z[:, :, None, None])


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator, lesson 02: images (N, C, S, S) -> logits (N,).

    Stride-2 convolutions halve the size and double the channels, starting at ``width``; LeakyReLU
    (slope 0.2) everywhere, BatchNorm on every layer but the first (``batchnorm=False`` removes it,
    as WGAN-GP needs); a last convolution covers the remaining 7x7 or 4x4 map. No sigmoid.
    """

    def __init__(self, img_size: int = 28, channels: int = 1, width: int = 64, batchnorm: bool = True) -> None:
        super().__init__()
        n_down = _check_dcgan_size(img_size)
        _check_positive(channels=channels, width=width)
        self.img_size, self.channels = img_size, channels
        widths = [width * 2**i for i in range(n_down)]  # e.g. [64, 128] for 28x28
        layers: list[nn.Module] = [nn.Conv2d(channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2, True)]
        for c_in, c_out in zip(widths, widths[1:]):
            layers.append(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(c_out))
            layers.append(nn.LeakyReLU(0.2, True))
        layers.append(nn.Conv2d(widths[-1], 1, DCGAN_SIZES[img_size], 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x, (self.channels, self.img_size, self.img_size), type(self).__name__)
        return self.net(x).view(-1)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN weight init, for ``model.apply(dcgan_init)`` (lesson 02).

    Convolution and linear weights ~ N(0, 0.02); BatchNorm scales ~ N(1, 0.02); all biases 0.
    Chosen by ``isinstance``, so subclasses and renamed layers are covered too.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
