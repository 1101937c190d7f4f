"""Solutions to the exercises of lesson 02 (DCGAN). Tested by tests/checks/test_solutions.py."""

from torch import nn


def transposed_conv_size(size, kernel, stride, padding, output_padding=0, dilation=1):
    """Output size of nn.ConvTranspose2d: (n - 1)s - 2p + d(k - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def build_generator_32(z_dim=100):
    """z (N, z_dim) -> 4x4 -> 8x8 -> 16x16 -> 32x32, DCGAN style, within the budget of multiply-adds.

    A stride-2 transposed convolution costs in_channels x out_channels x 16 per input pixel, so every
    doubling of the map multiplies the cost of the same channels by four: the channels must halve as
    the maps double. 96 -> 48 -> 24 costs 2.6 million multiply-adds per image (budget 3 million);
    lesson 02's 128 -> 64 -> 32, with one more doubling, would cost 4.5 million, and 256 -> 128 -> 64
    17.5 million.
    """
    return nn.Sequential(
        nn.Unflatten(1, (z_dim, 1, 1)),
        nn.ConvTranspose2d(z_dim, 96, 4, 1, 0, bias=False), nn.BatchNorm2d(96), nn.ReLU(True),  # 4x4
        nn.ConvTranspose2d(96, 48, 4, 2, 1, bias=False), nn.BatchNorm2d(48), nn.ReLU(True),     # 8x8
        nn.ConvTranspose2d(48, 24, 4, 2, 1, bias=False), nn.BatchNorm2d(24), nn.ReLU(True),     # 16x16
        nn.ConvTranspose2d(24, 1, 4, 2, 1), nn.Tanh(),                                           # 32x32
    )
