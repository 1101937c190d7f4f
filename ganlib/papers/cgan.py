"""Conditional GANs (Mirza and Osindero, 2014; projection discriminator: Miyato and Koyama, 2018;
mismatched pairs: Reed et al., 2016), lesson 03.

Both players are told the label: the generator draws ``G(z, y)``, the discriminator judges the pair
``D(x, y)``. The networks are lesson 02's DCGANs with the label added at the input (one-hot, a
learned embedding, or :func:`ganlib.layers.label_maps` for the discriminator) or, for the
projection discriminator, as an inner product with the image's features.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers import label_maps
from ..validate import check_image_shape, check_labels, check_noise, check_positive
from .dcgan import DCGANDiscriminator, DCGANGenerator

LABEL_INPUTS = ("onehot", "embedding", "projection")


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
        check_positive(z_dim=z_dim, n_classes=n_classes, embed_dim=embed_dim)
        self.z_dim, self.n_classes, self.label_input = z_dim, n_classes, label_input
        self.embed = nn.Embedding(n_classes, embed_dim) if label_input == "embedding" else None
        code_dim = embed_dim if self.embed is not None else n_classes
        self.body = DCGANGenerator(z_dim + code_dim, img_size, channels, width)

    def forward(self, z: Tensor, labels: Tensor) -> Tensor:
        z = check_noise(z, self.z_dim, type(self).__name__)
        check_labels(labels, z.shape[0], self.n_classes, type(self).__name__)
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

    ``extra_layers`` is :class:`~ganlib.papers.dcgan.DCGANDiscriminator`'s (3x3 layers before the score; lesson
    02's ``cpu`` recipe uses one); with ``"projection"`` they are part of phi.
    """

    def __init__(self, n_classes: int = 10, img_size: int = 28, channels: int = 1, width: int = 64,
                 label_input: str = "onehot", batchnorm: bool = True, extra_layers: int = 0) -> None:
        super().__init__()
        if label_input not in LABEL_INPUTS:
            raise ValueError(f"label_input must be one of {', '.join(LABEL_INPUTS)}; got {label_input!r}.")
        check_positive(n_classes=n_classes)
        self.n_classes, self.img_size, self.channels, self.label_input = n_classes, img_size, channels, label_input
        extra = {"onehot": n_classes, "embedding": 1, "projection": 0}[label_input]
        self.body = DCGANDiscriminator(img_size, channels + extra, width, batchnorm, extra_layers)
        self.embed: nn.Module | None = None
        if label_input == "embedding":
            self.embed = nn.Embedding(n_classes, img_size * img_size)
        elif label_input == "projection":
            head = self.body.net[-1]  # the last convolution reads the whole final feature map
            self.embed = nn.Embedding(n_classes, head.in_channels * head.kernel_size[0] * head.kernel_size[1])
            # small class vectors, so that the first scores are not swamped by thousands of N(0, 1) products
            nn.init.normal_(self.embed.weight, 0.0, 0.02)

    def forward(self, x: Tensor, labels: Tensor) -> Tensor:
        check_image_shape(x, type(self).__name__, self.channels, self.img_size)
        check_labels(labels, x.shape[0], self.n_classes, type(self).__name__)
        if self.label_input == "onehot":
            return self.body(torch.cat([x, label_maps(labels, self.n_classes, self.img_size)], dim=1))
        if self.label_input == "embedding":
            label_map = self.embed(labels).view(-1, 1, self.img_size, self.img_size)
            return self.body(torch.cat([x, label_map], dim=1))
        features = self.body.net[:-1](x)                     # phi(x): (N, C, k, k)
        score = self.body.net[-1](features).view(-1)         # psi(phi(x)): the unconditional score
        return score + (self.embed(labels) * features.flatten(1)).sum(dim=1)


def wrong_labels(labels: Tensor, n_classes: int) -> Tensor:
    """A wrong class for every label, each of the other ``n_classes - 1`` equally likely (lesson 03).

    Real images paired with these labels are a third kind of pair for a conditional discriminator to
    call fake, beside (real, right label) as real and (fake, right label) as fake: GAN-CLS's "matching-aware"
    discriminator (Reed et al., 2016, with captions for labels). Every label moves forward by a random
    1 .. ``n_classes - 1`` places, wrapping round.
    """
    if n_classes < 2:
        raise ValueError(f"wrong_labels needs at least 2 classes to pick a wrong one; got n_classes={n_classes}.")
    check_labels(labels, None, n_classes, "wrong_labels")
    shift = torch.randint(1, n_classes, labels.shape, device=labels.device)
    return (labels + shift) % n_classes
