"""Generators and discriminators: the MLP GAN (lesson 01), DCGAN (lesson 02) and conditional DCGANs (lesson 03).

Every discriminator ends without a sigmoid: it returns one raw score (a logit) per image, shape
(N,), and the loss in :mod:`ganlib.losses` decides how to read it.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
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


# -- conditional DCGANs (lesson 03) ----------------------------------------------------------------
LABEL_INPUTS = ("onehot", "embedding", "projection")


def _check_labels(labels: Tensor, n: int | None, n_classes: int, owner: str) -> None:
    """``n``: the batch size the labels must match (None: any)."""
    if labels.ndim != 1 or (n is not None and labels.shape[0] != n) or labels.dtype != torch.long:
        raise ValueError(f"{owner} expects labels as an int64 tensor of shape ({'N' if n is None else n},), one class "
                         f"index per image; got {labels.dtype} of shape {tuple(labels.shape)}.")
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{owner} expects class indices in 0..{n_classes - 1}; got values from "
                         f"{int(labels.min())} to {int(labels.max())}.")


def label_maps(labels: Tensor, n_classes: int, size: int) -> Tensor:
    """One-hot labels spread over the image plane: (N,) -> (N, n_classes, size, size) (lesson 03).

    Channel ``y`` of image ``i`` is all ones when ``labels[i] == y`` and all zeros otherwise, so a
    convolutional discriminator sees the label at every pixel, next to the image's own channels.
    """
    _check_labels(labels, None, n_classes, "label_maps")
    one_hot = F.one_hot(labels, n_classes).float()
    return one_hot[:, :, None, None].expand(-1, -1, size, size)


class ConditionalGenerator(nn.Module):
    """A DCGAN generator told what to draw (lesson 03): ``G(z, labels)`` -> images (N, C, S, S).

    The label joins the noise before the first layer, as a one-hot vector (``label_input="onehot"``,
    the original conditional GAN) or as a learned vector of ``embed_dim`` numbers
    (``"embedding"``); the rest is :class:`DCGANGenerator`.
    """

    def __init__(self, z_dim: int = 100, n_classes: int = 10, img_size: int = 28, channels: int = 1,
                 width: int = 64, label_input: str = "onehot", embed_dim: int = 10) -> None:
        super().__init__()
        if label_input not in ("onehot", "embedding"):
            raise ValueError(f"label_input must be 'onehot' or 'embedding'; got {label_input!r}.")
        _check_positive(z_dim=z_dim, n_classes=n_classes, embed_dim=embed_dim)
        self.z_dim, self.n_classes, self.label_input = z_dim, n_classes, label_input
        self.embed = nn.Embedding(n_classes, embed_dim) if label_input == "embedding" else None
        code_dim = embed_dim if self.embed is not None else n_classes
        self.body = DCGANGenerator(z_dim + code_dim, img_size, channels, width)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        z = _check_noise(z, self.z_dim, type(self).__name__)
        _check_labels(labels, z.shape[0], self.n_classes, type(self).__name__)
        code = self.embed(labels) if self.embed is not None else F.one_hot(labels, self.n_classes).float()
        return self.body(torch.cat([z, code], dim=1))


class ConditionalDiscriminator(nn.Module):
    """A DCGAN discriminator that judges (image, label) pairs (lesson 03): ``D(x, labels)`` -> scores (N,).

    ``label_input`` says how the label gets in:

    * ``"onehot"``: :func:`label_maps` adds ``n_classes`` constant channels to the image;
    * ``"embedding"``: a learned S x S map per class adds one channel;
    * ``"projection"`` (Miyato and Koyama, 2018): the image alone goes through the convolutions to
      features phi(x); the score is ``psi(phi(x)) + <embed(y), phi(x)>``, an unconditional score plus
      how well the features match the class's learned vector.
    """

    def __init__(self, n_classes: int = 10, img_size: int = 28, channels: int = 1, width: int = 64,
                 label_input: str = "onehot", batchnorm: bool = True) -> None:
        super().__init__()
        if label_input not in LABEL_INPUTS:
            raise ValueError(f"label_input must be one of {', '.join(LABEL_INPUTS)}; got {label_input!r}.")
        _check_positive(n_classes=n_classes)
        self.n_classes, self.img_size, self.channels, self.label_input = n_classes, img_size, channels, label_input
        extra = {"onehot": n_classes, "embedding": 1, "projection": 0}[label_input]
        self.body = DCGANDiscriminator(img_size, channels + extra, width, batchnorm)
        self.embed: nn.Module | None = None
        if label_input == "embedding":
            self.embed = nn.Embedding(n_classes, img_size * img_size)
        elif label_input == "projection":
            head = self.body.net[-1]  # the last convolution reads the whole final feature map
            self.embed = nn.Embedding(n_classes, head.in_channels * head.kernel_size[0] * head.kernel_size[1])
            # small class vectors, so that the first scores are not swamped by thousands of N(0, 1) products
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        _check_images(x, (self.channels, self.img_size, self.img_size), type(self).__name__)
        _check_labels(labels, x.shape[0], self.n_classes, type(self).__name__)
        if self.label_input == "onehot":
            return self.body(torch.cat([x, label_maps(labels, self.n_classes, self.img_size)], dim=1))
        if self.label_input == "embedding":
            label_map = self.embed(labels).view(-1, 1, self.img_size, self.img_size)
            return self.body(torch.cat([x, label_map], dim=1))
        features = self.body.net[:-1](x)                     # phi(x): (N, C, k, k)
        score = self.body.net[-1](features).view(-1)         # psi(phi(x)): the unconditional score
        return score + (self.embed(labels) * features.flatten(1)).sum(dim=1)
