"""Solutions to the exercises of lesson 02b (DCGAN -> LSGAN). Tested by tests/checks/test_solutions.py."""

from torch import nn


def lsgan_d_loss(real_scores, fake_scores):
    """½ mean((s_real - b)²) + ½ mean((s_fake - a)²) with b = 1, a = 0, on raw scores."""
    return 0.5 * (real_scores - 1).square().mean() + 0.5 * fake_scores.square().mean()


def lsgan_g_loss(fake_scores):
    """½ mean((s_fake - c)²) with c = 1: the generator wants its fakes scored as real."""
    return 0.5 * (fake_scores - 1).square().mean()


def build_lsgan_discriminator(width=32):
    """The study notes' discriminator with its sigmoid removed: raw scores, shape (N,)."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1), nn.LeakyReLU(0.2),                                            # 14x14
        nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),  # 7x7
        nn.Conv2d(2 * width, 2 * width, 3, 1, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),  # 7x7
        nn.Conv2d(2 * width, 1, 7), nn.Flatten(0),                                                   # (N,)
    )
