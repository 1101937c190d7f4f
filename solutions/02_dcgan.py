"""Solutions to the exercises of lesson 02 (DCGAN). Tested by tests/checks/test_solutions.py."""

from torch import nn


def transposed_conv_size(size, kernel, stride, padding, output_padding=0, dilation=1):
    """Output size of nn.ConvTranspose2d: (n - 1)s - 2p + d(k - 1) + output_padding + 1."""
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def build_generator_32(z_dim=100):
    """z (N, z_dim, 1, 1) -> 4x4 -> 8x8 -> 16x16 -> 32x32, DCGAN style."""
    return nn.Sequential(
        nn.Unflatten(1, (z_dim, 1, 1)),
        nn.ConvTranspose2d(z_dim, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),  # 4x4
        nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),    # 8x8
        nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),      # 16x16
        nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),                                             # 32x32
    )
