"""Lesson 02 (DCGAN): every hint of check_transposed_conv_size and check_generator_32, each triggered by a
wrong answer.

These two checkers build PyTorch layers and draw noise from the global random numbers, and promise nothing
about the notebook's random state, so no test asks them to keep it.
"""

import pytest
from torch import nn

from ganlib.checks import CheckResult, check_generator_32, check_generator_32_trains, check_transposed_conv_size
from ganlib.papers.dcgan import DCGANGenerator


# -- check_transposed_conv_size --------------------------------------------------------------------
def _size(size, kernel, stride, padding, output_padding=0, dilation=1):
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def test_check_transposed_conv_size_passes():
    result = check_transposed_conv_size(_size)
    assert result and result.message.startswith("Your formula agrees with nn.ConvTranspose2d on all ")
    assert int(result.message.split("all ")[1].split()[0]) > 100


@pytest.mark.parametrize("fn, words", [
    (lambda n, k, s, p, op=0, d=1: (n - 1) * s - 2 * p + (k - 1) + op + 1, ["dilation=2", "Remember the dilation"]),
    (lambda n, k, s, p, op=0, d=1: (n - 1) * s - 2 * p + d * (k - 1) + 1, ["output_padding=1", "add the kernel's span "
                                                                          "and output_padding"]),
    (lambda n, k, s, p, op=0, d=1: (n + 2 * p - d * (k - 1) - 1) // s + 1, ["PyTorch's ConvTranspose2d gives",
                                                                           "(size - 1) * stride"]),
    (lambda n, k, s, p, op=0, d=1: float(_size(n, k, s, p, op, d)) + 0.5, ["your function gives"]),
])
def test_check_transposed_conv_size_wrong_answers(fn, words):
    result = check_transposed_conv_size(fn)
    assert not result
    if "Remember the dilation" not in words:  # the dilation hint only when dilation is what is missing
        assert "dilation:" not in result.message
    for word in words:
        assert word in result.message, result.message


# -- check_generator_32 ----------------------------------------------------------------------------
def _dcgan_32(z_dim, tanh=True, last=(4, 2, 1)):
    layers = [
        nn.Unflatten(1, (z_dim, 1, 1)),
        nn.ConvTranspose2d(z_dim, 16, 4, 1, 0, bias=False), nn.BatchNorm2d(16), nn.ReLU(True),
        nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(True),
        nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(True),
        nn.ConvTranspose2d(4, 1, *last),
    ]
    return nn.Sequential(*layers, *([nn.Tanh()] if tanh else []))


def test_check_generator_32_passes():
    assert check_generator_32(_dcgan_32)
    result = check_generator_32(lambda z_dim: DCGANGenerator(z_dim, img_size=32, width=4))
    assert result and "1x32x32" in result.message


def test_check_generator_32_takes_noise_as_a_vector_too():
    """Without nn.Unflatten the generator wants (N, z_dim, 1, 1): the checker tries that shape as well."""
    assert check_generator_32(lambda z_dim: nn.Sequential(*list(_dcgan_32(z_dim))[1:]))


class _Unused(nn.Module):
    def __init__(self, z_dim):
        super().__init__()
        self.spare = nn.Linear(3, 3)  # never used in forward
        self.net = _dcgan_32(z_dim)

    def forward(self, z):
        return self.net(z)


@pytest.mark.parametrize("build, words", [
    (lambda z_dim: _dcgan_32(z_dim, tanh=False), ["End with nn.Tanh()", "[-1, 1]"]),
    (lambda z_dim: _dcgan_32(z_dim, last=(3, 2, 1)), ["(4, 1, 32, 32)", "got (4, 1, 31, 31)", "1 -> 4 -> 8"]),
    (lambda z_dim: DCGANGenerator(z_dim, img_size=28, width=4), ["got (4, 1, 28, 28)"]),
    (lambda z_dim: DCGANGenerator(z_dim, img_size=64, width=2), ["got (4, 1, 64, 64)"]),
    (lambda z_dim: nn.Sequential(nn.Linear(z_dim, 1024), nn.Tanh(), nn.Unflatten(1, (1, 32, 32))),
     ["nn.ConvTranspose2d", "none"]),
    (lambda z_dim: nn.Sequential(nn.Linear(z_dim, 16 * 16), nn.Unflatten(1, (1, 16, 16)),
                                 nn.ConvTranspose2d(1, 1, 4, 2, 1), nn.Tanh()), ["at least two"]),
    (lambda z_dim: nn.Sequential(*[m for m in _dcgan_32(z_dim) if not isinstance(m, nn.BatchNorm2d)]),
     ["nn.BatchNorm2d"]),
    (lambda z_dim: _dcgan_32(64), ["fails on noise of shape (4, 100) and (4, 100, 1, 1)", "RuntimeError"]),
    (lambda z_dim: "a generator", ["Return an nn.Module", "got str"]),
    (_Unused, ["get no gradient", "spare.weight"]),
    (lambda z_dim: DCGANGenerator(z_dim, img_size=32, width=64), ["multiply-adds per image; the budget is 3,000,000",
                                                                  "where the maps are small"]),
])
def test_check_generator_32_wrong_answers(build, words):
    result = check_generator_32(build)
    assert isinstance(result, CheckResult) and not result
    for word in words:
        assert word in result.message, result.message


# -- check_generator_32_trains (short runs: the full 1,500 steps run once, in test_solutions) ---------
def test_check_generator_32_trains_first_checks_the_design():
    result = check_generator_32_trains(lambda z_dim: _dcgan_32(z_dim, tanh=False))
    assert not result and "End with nn.Tanh()" in result.message and result.images is None


def test_check_generator_32_trains_fails_a_run_that_misses_the_target(keeps_random_state):
    def check_20_steps(build):  # 20 steps: far from any digit
        return check_generator_32_trains(build, steps=20)

    result = keeps_random_state(check_20_steps, _dcgan_32)
    assert not result and "not well enough: after 20 steps" in result.message and "target <= 200" in result.message
    assert result.images.shape == (5000, 1, 28, 28)  # cropped back to the evaluator's size


def test_check_generator_32_trains_gives_a_generator_without_unflatten_the_noise_it_wants():
    result = check_generator_32_trains(lambda z_dim: nn.Sequential(*list(_dcgan_32(z_dim))[1:]), steps=2)
    assert "after 2 steps" in result.message  # it trained (and failed the target, as 2 steps must)
