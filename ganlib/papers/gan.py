"""The first GAN (Goodfellow et al., 2014) with fully connected networks: lesson 01's MLP GAN.

Every discriminator in the course ends without a sigmoid: it returns one raw score (a logit) per
image, shape (N,), and :class:`ganlib.losses.AdversarialLoss` decides how to read it. The losses
and the two training steps of this paper are core pieces (:mod:`ganlib.losses`,
:func:`ganlib.training.gan_steps`), since every later lesson uses them.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from ..validate import check_image_shape, check_noise, check_positive


class MLPGenerator(nn.Module):
    """Fully connected generator: z (N, z_dim) -> images (N, C, H, W) in [-1, 1] (lesson 01)."""

    def __init__(self, z_dim: int = 100, img_shape: tuple[int, int, int] = (1, 28, 28),
                 hidden: tuple[int, ...] = (256, 512, 1024)) -> None:
        super().__init__()
        check_positive(z_dim=z_dim, **{f"hidden[{i}]": h for i, h in enumerate(hidden)})
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
        z = check_noise(z, self.z_dim, type(self).__name__)
        return self.net(z).view(-1, *self.img_shape)


class MLPDiscriminator(nn.Module):
    """Fully connected discriminator: images (N, C, H, W) -> logits (N,) (lesson 01)."""

    def __init__(self, img_shape: tuple[int, int, int] = (1, 28, 28), hidden: tuple[int, ...] = (512, 256)) -> None:
        super().__init__()
        check_positive(**{f"hidden[{i}]": h for i, h in enumerate(hidden)})
        self.img_shape = tuple(img_shape)
        layers: list[nn.Module] = [nn.Flatten()]
        sizes = (math.prod(self.img_shape), *hidden)
        for n_in, n_out in zip(sizes, sizes[1:]):
            layers += [nn.Linear(n_in, n_out), nn.LeakyReLU(0.2)]
        layers.append(nn.Linear(sizes[-1], 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        check_image_shape(x, type(self).__name__, self.img_shape[0], self.img_shape[1:])
        return self.net(x).view(-1)
