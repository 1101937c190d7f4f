"""ganlib.papers.dcgan (lesson 02): the DCGAN generator and discriminator, their architecture and input checks.

(dcgan_init is tested in tests/core/test_layers.py.)
"""

import re

import pytest
import torch
from torch import nn

from ganlib.papers.dcgan import DCGAN_SIZES, DCGANDiscriminator, DCGANGenerator


# -- DCGAN -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("img_size, channels, width, z_dim", [
    (28, 1, 8, 16), (28, 3, 4, 8), (32, 1, 4, 8), (32, 3, 8, 16), (64, 1, 2, 4), (64, 3, 4, 8),
])
def test_dcgan_shapes(img_size, channels, width, z_dim):
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim, img_size, channels, width)
    D = DCGANDiscriminator(img_size, channels, width)
    for z in (torch.randn(3, z_dim), torch.randn(3, z_dim, 1, 1)):
        x = G(z)
        assert x.shape == (3, channels, img_size, img_size)
        assert x.min() >= -1 and x.max() <= 1
        logits = D(x)
        assert logits.shape == (3,)
    assert D(torch.randn(1, channels, img_size, img_size)).shape == (1,)


@pytest.mark.parametrize("img_size, first, widths", [(28, 7, [16, 8]), (32, 4, [32, 16, 8]),
                                                     (64, 4, [64, 32, 16, 8])])
def test_dcgan_architecture(img_size, first, widths):
    G = DCGANGenerator(10, img_size, 3, width=8)
    convs = [m for m in G.modules() if isinstance(m, nn.ConvTranspose2d)]
    assert [c.out_channels for c in convs] == widths + [3]
    assert convs[0].kernel_size == (first, first) and convs[0].in_channels == 10
    assert all(c.stride == (2, 2) for c in convs[1:])
    assert isinstance(G.net[-1], nn.Tanh)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in G.modules()) == len(widths)
    D = DCGANDiscriminator(img_size, 3, width=8)
    dconvs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
    assert [c.out_channels for c in dconvs] == widths[::-1] + [1]
    assert dconvs[-1].kernel_size == (first, first)
    assert sum(isinstance(m, nn.BatchNorm2d) for m in D.modules()) == len(widths) - 1
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


def test_dcgan_discriminator_without_batchnorm():
    D = DCGANDiscriminator(32, 1, 4, batchnorm=False)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert all(m.bias is not None for m in D.modules() if isinstance(m, nn.Conv2d))
    assert D(torch.randn(2, 1, 32, 32)).shape == (2,)


@pytest.mark.parametrize("img_size, batchnorm", [(28, True), (32, False), (64, True)])
def test_dcgan_discriminator_extra_layers(img_size, batchnorm):
    plain = DCGANDiscriminator(img_size, 1, 4, batchnorm=batchnorm)
    deeper = DCGANDiscriminator(img_size, 1, 4, batchnorm=batchnorm, extra_layers=2)
    convs = [m for m in deeper.modules() if isinstance(m, nn.Conv2d)]
    base = [m for m in plain.modules() if isinstance(m, nn.Conv2d)]
    # two 3x3 stride-1 convolutions on the smallest map, same channels, just before the scoring layer
    assert len(convs) == len(base) + 2 and convs[-1].kernel_size == base[-1].kernel_size
    c = base[-1].in_channels
    for extra in convs[-3:-1]:
        assert (extra.in_channels, extra.out_channels, extra.kernel_size, extra.stride, extra.padding) == (
            c, c, (3, 3), (1, 1), (1, 1))
        assert (extra.bias is None) == batchnorm
    n_bn = sum(isinstance(m, nn.BatchNorm2d) for m in deeper.modules())
    assert n_bn == (sum(isinstance(m, nn.BatchNorm2d) for m in plain.modules()) + 2 if batchnorm else 0)
    assert isinstance(deeper.net[-2], nn.LeakyReLU)
    assert deeper(torch.randn(3, 1, img_size, img_size)).shape == (3,)
    assert repr(DCGANDiscriminator(img_size, 1, 4, batchnorm=batchnorm, extra_layers=0).net) == repr(plain.net)


@pytest.mark.parametrize("value", [-1, 1.0, True, "1"])
def test_dcgan_discriminator_rejects_bad_extra_layers(value):
    assert _message(lambda: DCGANDiscriminator(extra_layers=value)) == (
        f"extra_layers must be a whole number >= 0; got {value!r}.")


def test_dcgan_discriminator_outputs_raw_logits():
    D = DCGANDiscriminator(28, 1, 4)
    with torch.no_grad():
        D.net[-1].bias.fill_(-9.0)
        D.net[-1].weight.zero_()
    out = D(torch.randn(2, 1, 28, 28))
    assert torch.allclose(out, torch.full((2,), -9.0))


def _message(fn, *args):
    with pytest.raises(ValueError) as info:
        fn(*args)
    return str(info.value)


@pytest.mark.parametrize("model, x, expected", [
    (DCGANDiscriminator(28, 1, 4), torch.zeros(2, 1, 32, 32), "(N, 1, 28, 28)"),
    (DCGANDiscriminator(32, 3, 4), torch.zeros(2, 1, 32, 32), "(N, 3, 32, 32)"),
    (DCGANDiscriminator(28, 1, 4), torch.zeros(1, 28, 28), "(N, 1, 28, 28)"),
])
def test_dcgan_discriminator_rejects_wrong_images(model, x, expected):
    assert _message(model, x) == f"DCGANDiscriminator expects images of shape {expected}; got {tuple(x.shape)}."


@pytest.mark.parametrize("z", [torch.zeros(2, 15), torch.zeros(2, 16, 2, 2), torch.zeros(16), torch.zeros(2, 16, 1)])
def test_dcgan_generator_rejects_wrong_noise(z):
    message = _message(DCGANGenerator(16, 28, 1, 4), z)
    assert message == f"DCGANGenerator expects noise of shape (N, 16); got {tuple(z.shape)}."


@pytest.mark.parametrize("img_size", [16, 48, 128, 0])
def test_dcgan_bad_img_size(img_size):
    assert sorted(DCGAN_SIZES) == [28, 32, 64]
    for build in (lambda: DCGANGenerator(img_size=img_size), lambda: DCGANDiscriminator(img_size=img_size)):
        assert _message(build) == f"img_size must be one of [28, 32, 64]; got {img_size}."


@pytest.mark.parametrize("build, name, value", [
    (lambda: DCGANGenerator(z_dim=0), "z_dim", "0"),
    (lambda: DCGANGenerator(channels=0), "channels", "0"),
    (lambda: DCGANGenerator(width=1.5), "width", "1.5"),
    (lambda: DCGANDiscriminator(width=-2), "width", "-2"),
    (lambda: DCGANDiscriminator(channels=True), "channels", "True"),
])
def test_dcgan_bad_sizes_raise(build, name, value):
    assert re.fullmatch(re.escape(f"{name} must be a positive integer; got {value}."), _message(build))
