"""ganlib.papers.gan (lesson 01): the fully connected generator and discriminator, and their input checks."""

import re

import pytest
import torch
from torch import nn

from ganlib.papers.gan import MLPDiscriminator, MLPGenerator
from ganlib.utils import count_parameters


def _message(fn, *args):
    with pytest.raises(ValueError) as info:
        fn(*args)
    return str(info.value)


@pytest.mark.parametrize("z_dim, img_shape, hidden", [
    (8, (1, 28, 28), (16, 32)),
    (4, (3, 8, 8), (16,)),
    (2, (1, 5, 7), (8, 8, 8)),
])
def test_mlp_shapes(z_dim, img_shape, hidden):
    torch.manual_seed(0)
    G = MLPGenerator(z_dim, img_shape, hidden)
    D = MLPDiscriminator(img_shape, hidden)
    for z in (torch.randn(5, z_dim), torch.randn(5, z_dim, 1, 1)):
        x = G(z)
        assert x.shape == (5, *img_shape)
        assert x.min() >= -1 and x.max() <= 1
        assert D(x).shape == (5,)


def test_mlp_generator_layers():
    G = MLPGenerator(8, (1, 4, 4), hidden=(16, 32))
    kinds = [type(m).__name__ for m in G.net]
    # no BatchNorm right after the noise, Tanh at the end
    assert kinds == ["Linear", "LeakyReLU", "Linear", "BatchNorm1d", "LeakyReLU", "Linear", "Tanh"]
    assert count_parameters(G) == (8 * 16 + 16) + (16 * 32 + 32) + 2 * 32 + (32 * 16 + 16)


def test_mlp_discriminator_layers():
    D = MLPDiscriminator((1, 4, 4), hidden=(8, 4))
    assert [type(m).__name__ for m in D.net] == ["Flatten", "Linear", "LeakyReLU", "Linear", "LeakyReLU", "Linear"]
    assert count_parameters(D) == (16 * 8 + 8) + (8 * 4 + 4) + (4 + 1)


def test_mlp_generator_saturates_to_the_tanh_range():
    G = MLPGenerator(4, (1, 4, 4), hidden=(8,))
    with torch.no_grad():
        G.net[-2].bias.fill_(50.0)
    x = G(torch.randn(3, 4))
    assert torch.allclose(x, torch.ones_like(x))


def test_mlp_discriminator_returns_logits_not_probabilities():
    D = MLPDiscriminator((1, 4, 4), hidden=(8,))
    with torch.no_grad():
        D.net[-1].bias.fill_(7.0)
        D.net[-1].weight.zero_()
    out = D(torch.zeros(3, 1, 4, 4))
    assert torch.allclose(out, torch.full((3,), 7.0))  # no sigmoid: outside [0, 1]
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


@pytest.mark.parametrize("img_shape, x, expected", [
    ((1, 28, 28), torch.zeros(2, 784), "(N, 1, 28, 28)"),
    ((3, 8, 8), torch.zeros(2, 1, 8, 8), "(N, 3, 8, 8)"),
    ((1, 5, 7), torch.zeros(2, 1, 7, 5), "(N, 1, 5, 7)"),
])
def test_mlp_discriminator_rejects_wrong_images(img_shape, x, expected):
    message = _message(MLPDiscriminator(img_shape, (8,)), x)
    assert message == f"MLPDiscriminator expects images of shape {expected}; got {tuple(x.shape)}."


@pytest.mark.parametrize("z", [torch.zeros(2, 15), torch.zeros(2, 16, 2, 2), torch.zeros(16), torch.zeros(2, 16, 1)])
def test_mlp_generator_rejects_wrong_noise(z):
    message = _message(MLPGenerator(16, (1, 4, 4), (8,)), z)
    assert message == f"MLPGenerator expects noise of shape (N, 16); got {tuple(z.shape)}."


@pytest.mark.parametrize("build, name, value", [
    (lambda: MLPGenerator(z_dim=0), "z_dim", "0"),
    (lambda: MLPGenerator(hidden=(16, 0)), "hidden[1]", "0"),
    (lambda: MLPDiscriminator(hidden=(2.5,)), "hidden[0]", "2.5"),
])
def test_mlp_bad_sizes_raise(build, name, value):
    assert re.fullmatch(re.escape(f"{name} must be a positive integer; got {value}."), _message(build))
