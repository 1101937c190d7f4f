"""ganlib.models: MLP and DCGAN generators/discriminators, their shape checks and dcgan_init."""

import re

import pytest
import torch
from torch import nn

from ganlib.models import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator, dcgan_init
from ganlib.utils import count_parameters


# -- MLP -------------------------------------------------------------------------------------------
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
    (MLPDiscriminator((1, 28, 28), (8,)), torch.zeros(2, 784), "(N, 1, 28, 28)"),
    (MLPDiscriminator((3, 8, 8), (8,)), torch.zeros(2, 1, 8, 8), "(N, 3, 8, 8)"),
])
def test_discriminators_reject_wrong_images(model, x, expected):
    message = _message(model, x)
    assert type(model).__name__ in message
    assert expected in message and str(tuple(x.shape)) in message


@pytest.mark.parametrize("model", [DCGANGenerator(16, 28, 1, 4), MLPGenerator(16, (1, 4, 4), (8,))])
@pytest.mark.parametrize("z", [torch.zeros(2, 15), torch.zeros(2, 16, 2, 2), torch.zeros(16), torch.zeros(2, 16, 1)])
def test_generators_reject_wrong_noise(model, z):
    message = _message(model, z)
    assert type(model).__name__ in message
    assert "(N, 16)" in message and str(tuple(z.shape)) in message


@pytest.mark.parametrize("img_size", [16, 48, 128, 0])
def test_dcgan_bad_img_size(img_size):
    for build in (lambda: DCGANGenerator(img_size=img_size), lambda: DCGANDiscriminator(img_size=img_size)):
        message = _message(build)
        assert "[28, 32, 64]" in message and str(img_size) in message


@pytest.mark.parametrize("build, name", [
    (lambda: DCGANGenerator(z_dim=0), "z_dim"),
    (lambda: DCGANGenerator(channels=0), "channels"),
    (lambda: DCGANDiscriminator(width=-2), "width"),
    (lambda: MLPGenerator(hidden=(16, 0)), "hidden[1]"),
    (lambda: MLPDiscriminator(hidden=(2.5,)), "hidden[0]"),
])
def test_bad_sizes_raise(build, name):
    message = _message(build)
    assert re.search(re.escape(name) + r" must be a positive integer", message)


# -- dcgan_init ------------------------------------------------------------------------------------
def _stats(tensors):
    flat = torch.cat([t.detach().flatten() for t in tensors])
    return float(flat.mean()), float(flat.std())


def test_dcgan_init():
    torch.manual_seed(0)
    G, D = DCGANGenerator(32, 32, 3, 16), DCGANDiscriminator(32, 3, 16)
    for model in (G, D):
        model.apply(dcgan_init)
        convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        mean, std = _stats(m.weight for m in convs)
        assert abs(mean) < 0.002 and abs(std - 0.02) < 0.001
        assert all(m.bias is None or not m.bias.any() for m in convs)
    bns = [m for m in (*G.modules(), *D.modules()) if isinstance(m, nn.BatchNorm2d)]
    assert all(not m.bias.any() for m in bns)
    mean, std = _stats(m.weight for m in bns)  # 224 + 224 scales
    assert abs(mean - 1) < 0.005 and abs(std - 0.02) < 0.004


def test_dcgan_init_batchnorm_and_linear():
    torch.manual_seed(1)
    bn1, bn2, lin = nn.BatchNorm1d(4000), nn.BatchNorm2d(4000), nn.Linear(200, 100)
    for m in (bn1, bn2, lin):
        dcgan_init(m)
    for bn in (bn1, bn2):
        mean, std = _stats([bn.weight])
        assert abs(mean - 1) < 0.002 and abs(std - 0.02) < 0.002
        assert not bn.bias.any()
    mean, std = _stats([lin.weight])
    assert abs(mean) < 0.001 and abs(std - 0.02) < 0.001
    assert not lin.bias.any()


def test_dcgan_init_works_on_subclasses_by_isinstance():
    class MyConv(nn.Conv2d):
        pass

    class Renamed(nn.ConvTranspose2d):
        pass

    torch.manual_seed(2)
    model = nn.Sequential(MyConv(2, 64, 3), Renamed(64, 2, 3), nn.ReLU())
    default_std = _stats([model[0].weight])[1]
    model.apply(dcgan_init)
    for conv in model[:2]:
        mean, std = _stats([conv.weight])
        assert abs(mean) < 0.002 and abs(std - 0.02) < 0.0015
        assert not conv.bias.any()
    assert default_std > 0.1  # PyTorch's own init is different: the change is real


def test_dcgan_init_leaves_other_modules_alone():
    act = nn.PReLU()
    before = act.weight.clone()
    dcgan_init(act)
    assert torch.equal(act.weight, before)


# -- conditional DCGANs (lesson 03) -----------------------------------------------------------------
from ganlib.models import ConditionalDiscriminator, ConditionalGenerator, label_maps  # noqa: E402


def test_label_maps_one_channel_on_per_image():
    maps = label_maps(torch.tensor([2, 0, 2]), n_classes=3, size=4)
    assert maps.shape == (3, 3, 4, 4) and maps.dtype == torch.float32
    assert torch.equal(maps[0, 2], torch.ones(4, 4)) and maps[0, :2].abs().sum() == 0
    assert torch.equal(maps[1, 0], torch.ones(4, 4)) and maps[1, 1:].abs().sum() == 0
    assert torch.equal(maps.sum(1), torch.ones(3, 4, 4))  # exactly one channel on, everywhere


@pytest.mark.parametrize("labels, expected", [
    (torch.tensor([0, 3]), "0..2"),
    (torch.tensor([-1, 0]), "0..2"),
    (torch.tensor([[0, 1]]), "int64 tensor of shape"),
    (torch.tensor([0.0, 1.0]), "int64 tensor of shape"),
])
def test_label_maps_rejects_bad_labels(labels, expected):
    assert expected in _message(label_maps, labels, 3, 4)


@pytest.mark.parametrize("label_input", ["onehot", "embedding"])
@pytest.mark.parametrize("img_size, channels", [(28, 1), (32, 3), (64, 1)])
def test_conditional_generator_shapes(label_input, img_size, channels):
    torch.manual_seed(0)
    G = ConditionalGenerator(z_dim=8, n_classes=5, img_size=img_size, channels=channels, width=4, label_input=label_input)
    x = G(torch.randn(3, 8), torch.tensor([0, 4, 2]))
    assert x.shape == (3, channels, img_size, img_size) and x.min() >= -1 and x.max() <= 1
    first = next(m for m in G.modules() if isinstance(m, nn.ConvTranspose2d))
    assert first.in_channels == 8 + (5 if label_input == "onehot" else 10)  # z joined with the label code


@pytest.mark.parametrize("label_input", ["onehot", "embedding"])
def test_conditional_generator_listens_to_the_label(label_input):
    torch.manual_seed(0)
    G = ConditionalGenerator(z_dim=8, n_classes=5, width=4, label_input=label_input).eval()
    z = torch.randn(1, 8).repeat(2, 1)
    a, b = G(z, torch.tensor([1, 3]))
    assert not torch.allclose(a, b)  # same noise, different label, different image


@pytest.mark.parametrize("label_input", ["onehot", "embedding", "projection"])
@pytest.mark.parametrize("img_size, channels, batchnorm", [(28, 1, True), (32, 3, False), (64, 1, True)])
def test_conditional_discriminator_shapes(label_input, img_size, channels, batchnorm):
    torch.manual_seed(0)
    D = ConditionalDiscriminator(n_classes=5, img_size=img_size, channels=channels, width=4,
                                 label_input=label_input, batchnorm=batchnorm).eval()
    x = torch.randn(3, channels, img_size, img_size)
    scores = D(x, torch.tensor([0, 4, 2]))
    assert scores.shape == (3,)
    other = D(x, torch.tensor([1, 3, 0]))
    assert not torch.allclose(scores, other)  # the label changes the verdict
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


def test_onehot_discriminator_sees_label_maps_as_extra_channels():
    D = ConditionalDiscriminator(n_classes=10, img_size=28, channels=1, width=4, label_input="onehot")
    first = next(m for m in D.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 1 + 10


def test_projection_discriminator_is_psi_plus_inner_product():
    torch.manual_seed(0)
    D = ConditionalDiscriminator(n_classes=4, img_size=28, channels=1, width=4, label_input="projection").eval()
    x, y = torch.randn(2, 1, 28, 28), torch.tensor([3, 1])
    features = D.body.net[:-1](x).flatten(1)
    psi = features @ D.body.net[-1].weight.flatten() + D.body.net[-1].bias
    expected = psi + (D.embed.weight[y] * features).sum(1)
    assert torch.allclose(D(x, y), expected, atol=1e-5)
    with torch.no_grad():
        D.embed.weight.zero_()  # without class vectors, every label gets the unconditional score
    assert torch.allclose(D(x, y), D(x, torch.tensor([0, 0])))


def test_conditional_models_reject_bad_input():
    G = ConditionalGenerator(z_dim=8, n_classes=5, width=4)
    D = ConditionalDiscriminator(n_classes=5, width=4)
    assert "(3,)" in _message(G, torch.zeros(3, 8), torch.tensor([0, 1]))
    assert "0..4" in _message(G, torch.zeros(2, 8), torch.tensor([0, 5]))
    assert "(N, 8)" in _message(G, torch.zeros(2, 7), torch.tensor([0, 1]))
    assert "(N, 1, 28, 28)" in _message(D, torch.zeros(2, 1, 32, 32), torch.tensor([0, 1]))
    assert "int64" in _message(D, torch.zeros(2, 1, 28, 28), torch.tensor([0.0, 1.0]))
    assert "'onehot' or 'embedding'" in _message(lambda: ConditionalGenerator(label_input="projection"))
    assert "onehot, embedding, projection" in _message(lambda: ConditionalDiscriminator(label_input="concat"))


def test_projection_class_vectors_start_small_and_dcgan_init_leaves_them():
    torch.manual_seed(0)
    D = ConditionalDiscriminator(n_classes=10, width=32, label_input="projection").apply(dcgan_init)
    assert 0.015 < D.embed.weight.std().item() < 0.025  # N(0, 0.02), not nn.Embedding's N(0, 1)
