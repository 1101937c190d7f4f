"""ganlib.papers.pix2pix (lesson 05): the U-Net generator, the PatchGAN discriminator and its 70 x 70
receptive field, and the L1 weight.

(l1_loss is tested in tests/core/test_l1_loss.py, the receptive-field recurrence on plain stacks in
tests/core/test_shapes.py.)
"""

import math

import pytest
import torch
from torch import nn

from ganlib.layers import dcgan_init
from ganlib.losses import AdversarialLoss
from ganlib.papers.pix2pix import (L1_WEIGHT, MAX_WIDTH_FACTOR, PatchDiscriminator, UNetDown, UNetGenerator, UNetUp,
                                   halvings, pix2pix_steps)
from ganlib.shapes import conv_output_size, format_receptive_field, measure_receptive_field, receptive_field, \
    receptive_field_steps
from ganlib.utils import count_parameters


def _kinds(module):
    return [type(m).__name__ for m in module]


# -- U-Net -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("img_size, depth", [
    (32, 1), (32, 2), (32, 3), (32, 5), (64, 4), (64, 6), (128, 3), (128, 7), (256, 8), (96, 5), (48, 4),
])
def test_unet_shapes_over_sizes_and_depths(img_size, depth):
    torch.manual_seed(0)
    G = UNetGenerator(1, 1, img_size, depth, width=2)
    x = torch.rand(2, 1, img_size, img_size) * 2 - 1
    y = G(x)
    assert y.shape == x.shape
    assert y.min() >= -1 and y.max() <= 1
    assert len(G.downs) == depth and len(G.ups) == depth - 1


@pytest.mark.parametrize("c_in, c_out, norm", [(1, 1, "batch"), (3, 3, "instance"), (1, 3, "none"), (4, 2, "batch")])
def test_unet_channels_and_norms(c_in, c_out, norm):
    G = UNetGenerator(c_in, c_out, 32, 5, width=4, norm=norm)
    assert G(torch.randn(2, c_in, 32, 32)).shape == (2, c_out, 32, 32)
    # a 1 x 1 bottleneck and a batch of one, in training mode: no norm layer sees a single value
    assert G.train()(torch.randn(1, c_in, 32, 32)).shape == (1, c_out, 32, 32)


def test_unet_blocks_follow_pix2pix():
    G = UNetGenerator(1, 1, 32, 5, width=8, dropout=0.5, dropout_blocks=3)
    # down: Conv(4, 2, 1) [+ norm] + LeakyReLU(0.2); no norm on the first and the innermost block
    assert [_kinds(d) for d in G.downs] == [["Conv2d", "LeakyReLU"]] + [["Conv2d", "BatchNorm2d", "LeakyReLU"]] * 3 + [
        ["Conv2d", "LeakyReLU"]]
    for d in G.downs:
        conv, act = d[0], d[-1]
        assert (conv.kernel_size, conv.stride, conv.padding) == ((4, 4), (2, 2), (1, 1))
        assert act.negative_slope == 0.2
        assert (conv.bias is None) == isinstance(d[1], nn.BatchNorm2d)  # a norm makes the bias redundant
    assert [d[0].out_channels for d in G.downs] == [8, 16, 32, 64, 64]  # capped at 8 x width
    assert MAX_WIDTH_FACTOR == 8
    # up: ConvTranspose(4, 2, 1) + norm + ReLU, dropout in the three blocks next to the bottleneck
    assert [_kinds(u.block) for u in G.ups] == [["ConvTranspose2d", "BatchNorm2d", "ReLU", "Dropout"]] * 3 + [
        ["ConvTranspose2d", "BatchNorm2d", "ReLU"]]
    channels = [(u.block[0].in_channels, u.block[0].out_channels) for u in G.ups]
    assert channels == [(64, 64), (128, 32), (64, 16), (32, 8)]
    assert _kinds(G.head) == ["ConvTranspose2d", "Tanh"] and G.head[0].in_channels == 16
    assert not any(isinstance(m, nn.Dropout) for m in UNetGenerator(1, 1, 32, 5, 8, dropout=0.0).modules())


def test_unet_up_concatenates_the_skip():
    up = UNetUp(6, 4, "none")
    x, skip = torch.randn(2, 6, 4, 4), torch.randn(2, 5, 8, 8)
    out = up(x, skip)
    assert out.shape == (2, 9, 8, 8)
    assert torch.equal(out[:, 4:], skip)  # the encoder's map passes unchanged
    assert _kinds(UNetDown(3, 4, "instance")) == ["Conv2d", "InstanceNorm2d", "LeakyReLU"]


def test_unet_skips_carry_detail_past_the_bottleneck():
    # With the bottleneck's output zeroed, the image still depends on the input through the skips.
    torch.manual_seed(0)
    G = UNetGenerator(1, 1, 16, 4, width=4, norm="none", dropout=0.0)
    with torch.no_grad():
        G.downs[-1][0].weight.zero_()
        G.downs[-1][0].bias.zero_()
    a, b = torch.randn(1, 1, 16, 16), torch.randn(1, 1, 16, 16)
    assert not torch.allclose(G(a), G(b))


def test_unet_parameter_count_matches_the_reference():
    # junyanz/pytorch-CycleGAN-and-pix2pix prints 54.414 M for its unet_256 (3 -> 3 channels, width 64);
    # ours has two more biases, on the norm-free first and innermost down convolutions (64 + 512).
    G = UNetGenerator(3, 3, 256, 8, 64)
    assert count_parameters(G) == 54_414_531
    assert round((count_parameters(G) - 64 - 512) / 1e6, 3) == 54.414


@pytest.mark.parametrize("img_size, depth, allowed", [(32, 6, 5), (28, 3, 2), (30, 2, 1), (96, 6, 5), (200, 4, 3)])
def test_unet_size_that_cannot_be_halved_enough(img_size, depth, allowed):
    with pytest.raises(ValueError) as info:
        UNetGenerator(1, 1, img_size, depth)
    message = str(info.value)
    assert f"img_size={img_size}" in message and f"depth={depth}" in message
    assert f"multiple of 2**{depth} = {2**depth}" in message
    assert f"depth <= {allowed}" in message
    assert halvings(img_size) == allowed


def test_unet_odd_size_says_it_cannot_be_halved():
    with pytest.raises(ValueError, match="an odd size cannot be halved at all.*pad/resize the images to 32"):
        UNetGenerator(1, 1, 31, 5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(norm="layer"), "norm must be one of 'batch', 'instance', 'none'; got 'layer'"),
    (dict(width=0), "width must be a positive integer; got 0"),
    (dict(depth=2.0), "depth must be a positive integer; got 2.0"),
    (dict(dropout=1.0), r"dropout must be a probability in \[0, 1\); got 1.0"),
    (dict(dropout_blocks=-1), "dropout_blocks must be a whole number >= 0; got -1"),
])
def test_unet_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        UNetGenerator(**{"img_size": 32, "depth": 2, **kwargs})


def test_unet_wrong_input_names_the_expected_shape():
    G = UNetGenerator(1, 1, 32, 3, width=2)
    with pytest.raises(ValueError, match=r"UNetGenerator expects images of shape \(N, 1, 32, 32\); "
                                         r"got \(2, 3, 32, 32\)"):
        G(torch.randn(2, 3, 32, 32))
    with pytest.raises(ValueError, match=r"got \(2, 1, 28, 28\)"):
        G(torch.randn(2, 1, 28, 28))


def test_halvings():
    assert [halvings(n) for n in (1, 2, 3, 28, 32, 256, 600)] == [0, 1, 0, 2, 5, 8, 3]
    with pytest.raises(ValueError, match="size must be a positive integer"):
        halvings(0)


# -- PatchGAN --------------------------------------------------------------------------------------
def _expected_map(size, n_layers):
    for _ in range(n_layers):
        size = conv_output_size(size, 4, 2, 1)
    return size - 2  # two stride-1 convolutions with kernel 4 and padding 1


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
@pytest.mark.parametrize("size", [48, 64, 100])
def test_patch_discriminator_shapes(n_layers, size):
    D = PatchDiscriminator(in_channels=2, width=2, n_layers=n_layers)
    x = torch.randn(3, 1, size, size)
    out = D(x, x)
    side = _expected_map(size, n_layers)
    assert out.shape == (3, 1, side, side)
    assert D.output_size(size) == side


def test_patch_discriminator_classic_sizes():
    D = PatchDiscriminator(6, width=64, n_layers=3)
    assert D.output_size(256) == 30 and D.output_size(32) == 2  # a 30 x 30 map of scores for 256 x 256 pairs
    # junyanz prints 2.769 M parameters for this discriminator (basic, 3 + 3 channels)
    assert count_parameters(D) == 2_768_705


@pytest.mark.parametrize("channels", [(1,), (3,), (1, 1), (3, 3), (1, 3)])
def test_patch_discriminator_single_images_and_pairs(channels):
    D = PatchDiscriminator(sum(channels), width=2, n_layers=2)
    images = [torch.randn(2, c, 32, 32) for c in channels]
    assert D(*images).shape == (2, 1, 6, 6)


def test_patch_discriminator_pair_is_concatenated_in_order():
    D = PatchDiscriminator(2, width=2, n_layers=1, norm="none")
    x, y = torch.randn(1, 1, 16, 16), torch.randn(1, 1, 16, 16)
    assert torch.equal(D(x, y), D(torch.cat([x, y], dim=1)))
    assert not torch.allclose(D(x, y), D(y, x))


def test_patch_discriminator_layers():
    D = PatchDiscriminator(2, width=8, n_layers=3)
    assert _kinds(D.net) == ["Conv2d", "LeakyReLU",
                             "Conv2d", "BatchNorm2d", "LeakyReLU", "Conv2d", "BatchNorm2d", "LeakyReLU",
                             "Conv2d", "BatchNorm2d", "LeakyReLU", "Conv2d"]
    convs = [m for m in D.net if isinstance(m, nn.Conv2d)]
    assert [c.stride[0] for c in convs] == [2, 2, 2, 1, 1]
    assert [c.out_channels for c in convs] == [8, 16, 32, 64, 1]
    assert "InstanceNorm2d" in _kinds(PatchDiscriminator(2, 8, 3, norm="instance").net)


def test_patch_discriminator_returns_raw_scores_for_the_shared_loss():
    D = PatchDiscriminator(2, width=2, n_layers=1)
    with torch.no_grad():
        D.net[-1].weight.zero_()
        D.net[-1].bias.fill_(7.0)
    x = torch.randn(2, 1, 16, 16)
    assert torch.equal(D(x, x), torch.full((2, 1, 6, 6), 7.0))  # no sigmoid
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())
    with torch.no_grad():
        D.net[-1].bias.zero_()
    # the adversarial loss reads the whole map: a mean over every patch score
    assert AdversarialLoss("nonsaturating")(D(x, x), True).item() == pytest.approx(math.log(2))
    assert AdversarialLoss("lsgan")(D(x, x), True).item() == pytest.approx(0.5)


def test_patch_discriminator_errors():
    D = PatchDiscriminator(2, width=2, n_layers=3)
    with pytest.raises(ValueError, match=r"in_channels=2 \(both images of a pair together\); got 1 \+ 3 = 4 channels"):
        D(torch.randn(1, 1, 32, 32), torch.randn(1, 3, 32, 32))
    with pytest.raises(ValueError, match=r"same N and S; got \(1, 1, 32, 32\) and \(1, 1, 16, 16\)"):
        D(torch.randn(1, 1, 32, 32), torch.randn(1, 1, 16, 16))
    with pytest.raises(ValueError, match=r"expects images of shape \(N, 2, S, S\); got \(1, 1, 32, 32\)"):
        D(torch.randn(1, 1, 32, 32))
    with pytest.raises(ValueError, match="needs images of at least 48 x 48 pixels; got \\(32, 32\\)"):
        PatchDiscriminator(2, width=2, n_layers=4)(torch.randn(1, 2, 32, 32))
    assert PatchDiscriminator(2, 2, 4).min_size == 48


# -- the PatchGAN's receptive field --------------------------------------------------------------
def test_classic_patchgan_sees_70_pixels():
    assert receptive_field(PatchDiscriminator(6, 64, 3)) == 70
    assert [row[-1] for row in receptive_field_steps(PatchDiscriminator(6, 64, 3))] == [4, 10, 22, 46, 70]


def test_receptive_field_table_of_the_patchgan():
    table = format_receptive_field(PatchDiscriminator(2, 8, 3))
    assert table.splitlines() == [
        "layer    kernel stride  jump  field",
        "net.0         4      2     1      4",
        "net.2         4      2     2     10",
        "net.5         4      2     4     22",
        "net.8         4      1     8     46",
        "net.11        4      1     8     70",
    ]


@pytest.mark.parametrize("n_layers, field", [(1, 16), (2, 34), (3, 70), (4, 142), (5, 286)])
def test_patchgan_fields(n_layers, field):
    assert receptive_field(PatchDiscriminator(1, 2, n_layers)) == field


@pytest.mark.parametrize("n_layers, size", [(1, 48), (2, 64), (3, 96), (4, 176)])
def test_receptive_field_agrees_with_a_measurement_on_the_patchgan(n_layers, size):
    for norm in ("batch", "instance"):
        D = PatchDiscriminator(1, width=2, n_layers=n_layers, norm=norm)
        assert measure_receptive_field(D, size) == receptive_field(D)


def test_receptive_field_of_pix2pix_models_that_it_cannot_read():
    with pytest.raises(ValueError, match="ConvTranspose2d"):
        receptive_field(UNetGenerator(1, 1, 32, 2, width=2))
    with pytest.raises(ValueError, match="reaches the border of the 32 x 32 input"):
        measure_receptive_field(PatchDiscriminator(1, 2, 2), size=32)


# -- weights ----------------------------------------------------------------------------------------
def test_l1_weight_of_the_paper():
    assert L1_WEIGHT == 100


def test_pix2pix_models_accept_dcgan_init():
    torch.manual_seed(0)
    for model in (UNetGenerator(1, 1, 32, 3, width=8), PatchDiscriminator(2, 8, 2)):
        model.apply(dcgan_init)
        convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        assert all(c.bias is None or c.bias.abs().sum() == 0 for c in convs)
        weights = torch.cat([c.weight.detach().flatten() for c in convs])
        assert abs(float(weights.std()) - 0.02) < 0.002


# -- the training steps ------------------------------------------------------------------------------
def _pix2pix_pair(conditional=True):
    torch.manual_seed(0)
    G = UNetGenerator(1, 1, 8, 3, width=4).apply(dcgan_init)
    D = PatchDiscriminator(in_channels=2 if conditional else 1, width=4, n_layers=1).apply(dcgan_init)
    return G, D


def _after_sgd(model, loss):
    """The weights one SGD step of rate 0.1 on ``loss`` would give (the model itself unchanged)."""
    grads = torch.autograd.grad(loss, list(model.parameters()))
    return [p.detach() - 0.1 * g for p, g in zip(model.parameters(), grads)]


@pytest.mark.parametrize("adv_weight, l1_weight", [(1.0, L1_WEIGHT), (0.0, L1_WEIGHT), (1.0, 0.0), (0.5, 3.0)])
def test_pix2pix_steps_follow_the_paper_objective(adv_weight, l1_weight):
    G, D = _pix2pix_pair()
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    d_step, g_step = pix2pix_steps(G, D, opt_g, opt_d, adv_weight=adv_weight, l1_weight=l1_weight)
    x, y = torch.rand(4, 1, 8, 8) * 2 - 1, torch.rand(4, 1, 8, 8) * 2 - 1
    bce = nn.functional.binary_cross_entropy_with_logits

    torch.manual_seed(1)                              # the same dropout masks for the expectation ...
    with torch.no_grad():
        fake = G(x)
    real_s, fake_s = D(x, y), D(x, fake)
    d_total = bce(real_s, torch.ones_like(real_s)) + bce(fake_s, torch.zeros_like(fake_s))
    expected_d = _after_sgd(D, 0.5 * d_total)         # D's loss halved, as in the paper
    torch.manual_seed(1)                              # ... and for the step
    logged = d_step((x, y))
    assert torch.isclose(logged["d_loss"], d_total.detach())
    assert all(torch.allclose(p, e, atol=1e-6) for p, e in zip(D.parameters(), expected_d))

    torch.manual_seed(2)
    fake = G(x)
    scores = D(x, fake)
    adversarial, l1 = bce(scores, torch.ones_like(scores)), (fake - y).abs().mean()
    expected_g = _after_sgd(G, adv_weight * adversarial + l1_weight * l1)
    d_before = [p.detach().clone() for p in D.parameters()]
    torch.manual_seed(2)
    logged = g_step((x, y))
    assert torch.isclose(logged["g_adv"], adversarial.detach()) and torch.isclose(logged["g_l1"], l1.detach())
    assert all(torch.allclose(p, e, atol=1e-6) for p, e in zip(G.parameters(), expected_g))
    assert all(torch.equal(p, b) for p, b in zip(D.parameters(), d_before))   # the generator step leaves D alone
    assert all(p.requires_grad for p in D.parameters())                        # ... and unfrozen


def test_pix2pix_steps_unconditional_discriminator_sees_the_output_alone():
    G, D = _pix2pix_pair(conditional=False)           # 1 input channel: a pair would not fit
    opt_g, opt_d = torch.optim.Adam(G.parameters()), torch.optim.Adam(D.parameters())
    d_step, g_step = pix2pix_steps(G, D, opt_g, opt_d, conditional=False)
    batch = (torch.rand(2, 1, 8, 8), torch.rand(2, 1, 8, 8))
    assert set(d_step(batch)) == {"d_loss"} and set(g_step(batch)) == {"g_adv", "g_l1"}
    with pytest.raises((ValueError, RuntimeError)):
        pix2pix_steps(G, D, opt_g, opt_d, conditional=True)[0](batch)
