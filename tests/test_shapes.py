"""ganlib.shapes: the convolution size formulas against real PyTorch layers, and shape tables."""

import itertools

import pytest
import torch
from torch import nn

from ganlib.models import DCGANGenerator
from ganlib.shapes import LayerShape, conv_output_size, format_layer_shapes, layer_shapes
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
    from ganlib.models import ConditionalDiscriminator

    D = ConditionalDiscriminator(n_classes=10, img_size=28, width=4, label_input="projection")
    rows = layer_shapes(D, torch.zeros(3, 1, 28, 28), torch.tensor([0, 1, 2]))
    assert rows[-1] == LayerShape("embed", "Embedding", (3, 8 * 7 * 7), 10 * 8 * 7 * 7)
    assert rows[0].name == "body.net.0" and rows[-2].output_shape == (3, 1, 1, 1)  # psi, before the sum
    table = format_layer_shapes(rows).splitlines()
    assert table[1].startswith("body.net.0  Conv2d") and len({len(line) for line in table}) == 1
