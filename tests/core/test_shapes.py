"""ganlib.shapes: the convolution size formulas against real PyTorch layers, shape tables and receptive fields."""

import itertools

import pytest
import torch
from torch import nn

from ganlib.papers.cgan import ConditionalDiscriminator
from ganlib.papers.dcgan import DCGANGenerator
from ganlib.shapes import (LayerShape, conv_output_size, format_layer_shapes, format_receptive_field, layer_shapes,
                           multiply_adds,
                           measure_receptive_field, receptive_field, receptive_field_steps)
from ganlib.utils import count_parameters

SIZES, KERNELS, STRIDES, PADDINGS, DILATIONS, OUTPUT_PADDINGS = (1, 2, 3, 5, 8), (1, 2, 3, 4, 5), (1, 2, 3), \
    (0, 1, 2, 3), (1, 2, 3), (0, 1, 2)


def _pytorch_size(size, kernel, stride, padding, dilation, output_padding, transposed):
    """The output size a real nn.Conv2d / nn.ConvTranspose2d gives, or None when it refuses or gives nothing."""
    try:
        if transposed:
            layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding, dilation=dilation, bias=False)
        else:
            layer = nn.Conv2d(1, 1, kernel, stride, padding, dilation=dilation, bias=False)
        with torch.no_grad():
            out = layer(torch.zeros(1, 1, size, size))
    except (RuntimeError, ValueError):
        return None
    assert out.shape[-2] == out.shape[-1]
    return out.shape[-1] or None  # a 0x0 output is no output


@pytest.mark.parametrize("transposed", [False, True])
def test_conv_output_size_matches_pytorch(transposed):
    counts = {"valid": 0, "refused": 0}
    settings = itertools.product(SIZES, KERNELS, STRIDES, PADDINGS, DILATIONS, OUTPUT_PADDINGS if transposed else (0,))
    for setting in settings:
        truth = _pytorch_size(*setting, transposed)
        if truth is None:
            with pytest.raises(ValueError):
                conv_output_size(*setting, transposed=transposed)
            counts["refused"] += 1
        else:
            assert conv_output_size(*setting, transposed=transposed) == truth, setting
            counts["valid"] += 1
    assert counts["valid"] > 500 and counts["refused"] > 50  # both branches really exercised


@pytest.mark.parametrize("cls, args, size", [
    (nn.Conv2d, dict(kernel_size=4, stride=2, padding=1), 28),
    (nn.Conv2d, dict(kernel_size=3, stride=1, padding=2, dilation=2), 9),
    (nn.Conv2d, dict(kernel_size=5, stride=3), 17),
    (nn.ConvTranspose2d, dict(kernel_size=4, stride=2, padding=1), 7),
    (nn.ConvTranspose2d, dict(kernel_size=3, stride=2, padding=1, output_padding=1), 7),
    (nn.ConvTranspose2d, dict(kernel_size=7, stride=1, padding=0), 1),
    (nn.ConvTranspose2d, dict(kernel_size=3, stride=1, padding=0, output_padding=1, dilation=2), 5),
])
def test_conv_output_size_matches_the_layer_modules(cls, args, size):
    layer = cls(2, 3, **args)
    with torch.no_grad():
        truth = layer(torch.zeros(1, 2, size, size)).shape[-1]
    got = conv_output_size(size, args["kernel_size"], args.get("stride", 1), args.get("padding", 0),
                           args.get("dilation", 1), args.get("output_padding", 0), cls is nn.ConvTranspose2d)
    assert got == truth


def test_conv_output_size_by_hand():
    assert conv_output_size(28, 4, 2, 1) == 14  # floor((28 + 2 - 3 - 1) / 2) + 1
    assert conv_output_size(7, 4, 2, 1, transposed=True) == 14  # 6*2 - 2 + 3 + 1
    assert conv_output_size(7, 3, 2, 1, output_padding=1, transposed=True) == 14
    assert conv_output_size(7, 3, 2, 1, transposed=True) == 13
    assert conv_output_size(4, 4, 2, 1, dilation=2, transposed=True) == 11  # 3*2 - 2 + 6 + 1


@pytest.mark.parametrize("kwargs, words", [
    (dict(size=0, kernel=3), ["size", ">= 1", "0"]),
    (dict(size=5, kernel=0), ["kernel", ">= 1", "0"]),
    (dict(size=5, kernel=3, stride=0), ["stride", ">= 1"]),
    (dict(size=5, kernel=3, padding=-1), ["padding", ">= 0", "-1"]),
    (dict(size=5, kernel=3, dilation=0), ["dilation", ">= 1"]),
    (dict(size=5.0, kernel=3), ["size", "integer", "5.0"]),
    (dict(size=5, kernel="3"), ["kernel", "integer", "'3'"]),
    (dict(size=5, kernel=3, output_padding=1), ["output_padding", "transposed", "1"]),
    (dict(size=5, kernel=3, stride=2, output_padding=2, transposed=True), ["output_padding", "stride=2", "dilation=1"]),
    (dict(size=2, kernel=5), ["Conv2d", "size 2", "does not fit"]),
    (dict(size=1, kernel=1, padding=1, transposed=True), ["ConvTranspose2d", "size 1 into -1"]),
])
def test_conv_output_size_invalid(kwargs, words):
    with pytest.raises(ValueError) as info:
        conv_output_size(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_layer_shapes_of_a_dcgan_generator():
    G = DCGANGenerator(z_dim=16, img_size=28, channels=1, width=8)
    G.train()
    rows = layer_shapes(G, torch.randn(3, 16))
    assert G.training  # the mode is restored
    assert all(isinstance(r, LayerShape) for r in rows)
    assert [r.layer for r in rows] == ["ConvTranspose2d", "BatchNorm2d", "ReLU"] * 2 + ["ConvTranspose2d", "Tanh"]
    assert [r.output_shape for r in rows[::3]] == [(3, 16, 7, 7), (3, 8, 14, 14), (3, 1, 28, 28)]
    assert rows[-1].output_shape == (3, 1, 28, 28) and rows[-1].name == "net.7"
    assert rows[0].parameters == 16 * 16 * 7 * 7  # no bias before BatchNorm
    assert rows[-2].parameters == 8 * 1 * 4 * 4 + 1
    assert sum(r.parameters for r in rows) == count_parameters(G)
    assert not any(m._forward_hooks for m in G.modules())  # hooks removed


def test_layer_shapes_restores_eval_mode_and_removes_hooks_on_error():
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    model.eval()
    with pytest.raises(RuntimeError):
        layer_shapes(model, torch.zeros(2, 5))
    assert not model.training
    assert not any(m._forward_hooks for m in model.modules())


def test_format_layer_shapes_table():
    G = DCGANGenerator(z_dim=16, img_size=28, channels=1, width=8)
    rows = layer_shapes(G, torch.randn(2, 16))
    lines = format_layer_shapes(rows).splitlines()
    assert len(lines) == len(rows) + 2
    assert lines[0].split() == ["layer", "type", "output", "shape", "parameters"]
    assert lines[1].split()[:2] == ["net.0", "ConvTranspose2d"] and lines[1].endswith("12,544")
    assert "(2, 1, 28, 28)" in lines[-2] and lines[-2].startswith("net.7") and "Tanh" in lines[-2]
    total = count_parameters(G)
    assert lines[-1].split() == ["total", f"{total:,}"]
    assert lines[-1].endswith(f"{total:,}") and len(lines[-1]) == 61


def test_layer_shapes_of_a_conditional_discriminator_takes_the_labels_and_widens_the_name_column():
    D = ConditionalDiscriminator(n_classes=10, img_size=28, width=4, label_input="projection")
    rows = layer_shapes(D, torch.zeros(3, 1, 28, 28), torch.tensor([0, 1, 2]))
    assert rows[-1] == LayerShape("embed", "Embedding", (3, 8 * 7 * 7), 10 * 8 * 7 * 7)
    assert rows[0].name == "body.net.0" and rows[-2].output_shape == (3, 1, 1, 1)  # psi, before the sum
    table = format_layer_shapes(rows).splitlines()
    assert table[1].startswith("body.net.0  Conv2d") and len({len(line) for line in table}) == 1


# -- receptive fields (lesson 05; the PatchGAN's own are in tests/papers/test_pix2pix.py) ------------
def test_receptive_field_by_hand():
    assert receptive_field([(3, 1), (3, 1)]) == 5
    assert receptive_field([(3, 2), (3, 2)]) == 7
    assert receptive_field([(3, 1, 2)]) == 5  # dilation 2: a 3 x 3 kernel spread over 5 pixels
    assert receptive_field([nn.Conv2d(1, 1, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)]) == 8
    assert receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]) == 70  # the classic PatchGAN's stack


def test_receptive_field_steps_and_their_table():
    layers = [(4, 2), (3, 1, 2), (2, 2)]
    # field += (k - 1) * d * jump, then jump *= s:  1 + 3 = 4 (jump 2), 4 + 2*2*2 = 12 (jump 2), 12 + 1*2 = 14
    assert receptive_field_steps(layers) == [("0", 4, 2, 1, 4), ("1", 3, 1, 2, 12), ("2", 2, 2, 2, 14)]
    assert format_receptive_field(layers).splitlines() == [
        "layer   kernel stride  jump  field",
        "0            4      2     1      4",
        "1            3      1     2     12",
        "2            2      2     2     14",
    ]


def test_receptive_field_reads_a_model_by_its_leaf_layers_in_order():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.Sequential(nn.Conv2d(2, 2, 3, 2)))
    assert [row[0] for row in receptive_field_steps(model)] == ["0", "3.0"]  # norms and activations change nothing
    assert receptive_field(model) == 5


@pytest.mark.parametrize("layers", [
    [nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3)],                                          # 5
    [nn.Conv2d(1, 2, 3, stride=2, padding=1), nn.Conv2d(2, 2, 5, padding=2)],                       # 11
    [nn.Conv2d(1, 2, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(2, 2, 3, padding=2, dilation=2)],    # 12
    [nn.Conv2d(1, 2, 7, stride=3), nn.AvgPool2d(3, stride=2), nn.Conv2d(2, 1, 2)],                  # 19
    [nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.InstanceNorm2d(2), nn.Conv2d(2, 1, 3)],              # 5
    [nn.Conv2d(1, 1, 1), nn.Conv2d(1, 1, 1)],                                                       # 1
])
def test_receptive_field_agrees_with_a_measurement(layers):
    model = nn.Sequential(*layers)
    assert measure_receptive_field(model, size=64) == receptive_field(model)


def test_measure_receptive_field_leaves_the_model_alone():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.MaxPool2d(2), nn.Conv2d(2, 1, 3)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert measure_receptive_field(model, size=32) == 8 == receptive_field(model)
    assert model.training and isinstance(model[1], nn.BatchNorm2d) and isinstance(model[2], nn.MaxPool2d)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # it probed a copy


@pytest.mark.parametrize("layers, match", [
    ([nn.Conv2d(1, 1, 3), nn.ConvTranspose2d(1, 1, 3)], "layer 1 is a ConvTranspose2d, for which the recurrence"),
    ([nn.Conv2d(1, 1, 3), nn.Upsample(scale_factor=2)], "layer 1 is a Upsample"),
    ([nn.ReLU()], "no convolution or pooling layer"),
    ([(3, 1), (3, 0)], r"item 1 is \(3, 0\)"),
    ([(3, 1), "conv"], "item 1 is 'conv'"),
    ([nn.Conv2d(1, 1, (3, 5))], r"square kernels and equal strides only; got \(3, 5\)"),
])
def test_receptive_field_refuses_what_the_recurrence_cannot_read(layers, match):
    with pytest.raises(ValueError, match=match):
        receptive_field(layers)


def test_measure_receptive_field_errors():
    stack = nn.Sequential(*[nn.Conv2d(1, 1, 3) for _ in range(10)])  # a field of 21 pixels
    with pytest.raises(ValueError, match="reaches the border of the 22 x 22 input; pass a larger size"):
        measure_receptive_field(stack, size=22)
    assert measure_receptive_field(stack, size=32) == 21
    with pytest.raises(ValueError, match="found no convolution"):
        measure_receptive_field(nn.Sequential(nn.MaxPool2d(2)))
    with pytest.raises(ValueError, match=r"returns a map \(N, C, h, w\); got \(1, 9\)"):
        measure_receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), size=5)


# -- multiply_adds ---------------------------------------------------------------------------------
@pytest.mark.parametrize("layer, example, expected", [
    (nn.Conv2d(3, 8, 3, padding=1), torch.zeros(2, 3, 5, 5), 8 * 3 * 9 * 25),         # per output pixel
    (nn.Conv2d(4, 6, 3, stride=2, groups=2), torch.zeros(1, 4, 7, 7), 6 * 2 * 9 * 9),  # 3x3 output, grouped
    (nn.ConvTranspose2d(4, 2, 4, 2, 1), torch.zeros(3, 4, 3, 3), 2 * 4 * 16 * 9),     # per input pixel
    (nn.Linear(10, 7), torch.zeros(5, 10), 70),
    (nn.Sequential(nn.Linear(10, 7), nn.ReLU(), nn.BatchNorm1d(7), nn.Linear(7, 2)), torch.zeros(4, 10), 70 + 14),
])
def test_multiply_adds_by_hand(layer, example, expected):
    assert multiply_adds(layer, example) == expected


def test_multiply_adds_of_the_dcgan_generator_is_per_sample_and_leaves_the_model_as_it_was():
    G = DCGANGenerator(z_dim=100, img_size=28, width=32)  # 100 -> 64 (7x7) -> 32 (14x14) -> 1 (28x28)
    by_hand = 100 * 64 * 49 * 1 + 64 * 32 * 16 * 49 + 32 * 1 * 16 * 14 * 14
    assert multiply_adds(G, torch.randn(5, 100)) == multiply_adds(G, torch.randn(1, 100)) == by_hand
    assert G.training and not G._forward_hooks and all(not m._forward_hooks for m in G.modules())


def test_multiply_adds_takes_more_inputs():
    D = ConditionalDiscriminator(n_classes=10, img_size=28, width=8, label_input="projection")
    assert multiply_adds(D, torch.zeros(2, 1, 28, 28), torch.tensor([1, 2])) > 0
