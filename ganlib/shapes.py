"""Output sizes of convolutions, per-layer shape tables (lesson 02) and receptive fields (lesson 05).

For an input of size ``n`` the two layers of PyTorch give

* ``nn.Conv2d``:           ``floor((n + 2p - d(k - 1) - 1) / s) + 1``
* ``nn.ConvTranspose2d``:  ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``

with kernel ``k``, stride ``s``, padding ``p`` and dilation ``d``. A transposed convolution runs
the convolution's size map backwards, which is why ``output_padding`` exists: with ``s > 1`` several
input sizes give the same convolution output, and ``output_padding`` says which one to return to.

The receptive field of a stack of windowed layers is how many input pixels one output value sees:
:func:`receptive_field` computes it layer by layer, :func:`measure_receptive_field` measures it
with a gradient (lesson 05: the PatchGAN's 70 x 70 patches).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn


def conv_output_size(
    size: int,
    kernel: int,
    stride: int = 1,
    padding: int = 0,
    dilation: int = 1,
    output_padding: int = 0,
    transposed: bool = False,
) -> int:
    """Spatial output size of ``nn.Conv2d`` (or ``nn.ConvTranspose2d`` when ``transposed``).

    Raises ``ValueError`` with the reason when PyTorch would refuse the setting or produce no output.
    """
    for name, value, low in (("size", size, 1), ("kernel", kernel, 1), ("stride", stride, 1),
                             ("padding", padding, 0), ("dilation", dilation, 1), ("output_padding", output_padding, 0)):
        if not isinstance(value, int) or value < low:
            raise ValueError(f"{name} must be an integer >= {low}; got {value!r}.")
    if transposed:
        if output_padding >= max(stride, dilation):
            raise ValueError(
                f"output_padding must be smaller than stride or dilation; got output_padding={output_padding} "
                f"with stride={stride}, dilation={dilation}."
            )
        out = (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1
    else:
        if output_padding:
            raise ValueError(f"output_padding only exists for transposed convolutions; got {output_padding}.")
        out = (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1
    if out < 1:
        kind = "ConvTranspose2d" if transposed else "Conv2d"
        raise ValueError(f"{kind} with these settings turns size {size} into {out}: the kernel does not fit.")
    return out


@dataclass(frozen=True)
class LayerShape:
    """One row of :func:`layer_shapes`."""

    name: str
    layer: str
    output_shape: tuple[int, ...]
    parameters: int


def _run_with_hooks(model: nn.Module, hook_for: Any, *inputs: Tensor) -> None:
    """Run ``model(*inputs)`` in eval mode without gradients, with the forward hook ``hook_for(name, module)``
    returns for each module (``None``: none); the mode is restored and the hooks removed, also on error."""
    hooks = []
    for name, module in model.named_modules():
        hook = hook_for(name, module)
        if hook is not None:
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(*inputs)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()


def layer_shapes(model: nn.Module, example: Tensor, *more: Tensor) -> list[LayerShape]:
    """Run ``model(example, *more)`` and record the output shape of every leaf layer, in order.

    ``more`` carries further inputs, e.g. the labels of a conditional model (lesson 03).
    """
    rows: list[LayerShape] = []

    def hook_for(name: str, module: nn.Module) -> Any:
        if len(list(module.children())) > 0:
            return None

        def hook(mod: nn.Module, _inp: object, out: Tensor) -> None:
            params = sum(p.numel() for p in mod.parameters(recurse=False))
            rows.append(LayerShape(name, type(mod).__name__, tuple(out.shape), params))
        return hook

    _run_with_hooks(model, hook_for, example, *more)
    return rows


def format_layer_shapes(rows: list[LayerShape]) -> str:
    """A plain-text table of :func:`layer_shapes` rows (deterministic, so notebooks can check it)."""
    width = max([10] + [len(r.name) + 2 for r in rows])
    lines = [f"{'layer':<{width}}{'type':<18}{'output shape':<22}{'parameters':>11}"]
    for r in rows:
        lines.append(f"{r.name:<{width}}{r.layer:<18}{str(r.output_shape):<22}{r.parameters:>11,}")
    lines.append(f"{'total':<{width + 40}}{sum(r.parameters for r in rows):>11,}")
    return "\n".join(lines)


# -- receptive fields (lesson 05) ------------------------------------------------------------------
_WINDOWED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.MaxPool2d, nn.AvgPool2d)
_NOT_A_STACK = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Upsample, nn.UpsamplingNearest2d,
                nn.UpsamplingBilinear2d)


def multiply_adds(model: nn.Module, example: Tensor, *more: Tensor) -> int:
    """Multiply-adds per sample of the convolutions, transposed convolutions and linear layers in
    ``model(example, *more)`` (lesson 02: what a step costs). Normalisation and activations are not counted.

    A convolution costs ``out_channels x in_channels / groups x kernel area`` per output pixel; a
    transposed convolution the same per *input* pixel (each input pixel is spread over a kernel-sized
    patch); a linear layer ``in_features x out_features``.
    """
    total = 0

    def hook(mod: nn.Module, inputs: tuple[Tensor, ...], out: Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.Linear):
            total += mod.in_features * mod.out_features * (out.numel() // out.shape[0] // mod.out_features)
            return
        per_pixel = mod.out_channels * (mod.in_channels // mod.groups) * mod.kernel_size[0] * mod.kernel_size[1]
        pixels = (inputs[0] if isinstance(mod, nn.ConvTranspose2d) else out).shape[-2:]
        total += per_pixel * pixels[0] * pixels[1]

    counted = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)
    _run_with_hooks(model, lambda _name, m: hook if isinstance(m, counted) else None,
                    example[:1], *(t[:1] for t in more))
    return total


def _first(value: Any) -> int:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(set(values)) != 1:
        raise ValueError(f"receptive_field handles square kernels and equal strides only; got {values}.")
    return int(values[0])


def _windows(layers: nn.Module | Iterable[Any]) -> list[tuple[str, int, int, int]]:
    """(name, kernel, stride, dilation) of each windowed layer, in order."""
    if isinstance(layers, nn.Module):
        named = [(name, m) for name, m in layers.named_modules() if not list(m.children())]
    else:
        named = [(str(i), item) for i, item in enumerate(layers)]
    rows = []
    for name, item in named:
        if isinstance(item, _NOT_A_STACK):
            raise ValueError(f"receptive_field reads a plain stack of convolutions; layer {name} is a "
                             f"{type(item).__name__}, for which the recurrence does not hold.")
        if isinstance(item, _WINDOWED):
            dilation = getattr(item, "dilation", 1)
            rows.append((name, _first(item.kernel_size), _first(item.stride or item.kernel_size), _first(dilation)))
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3) and all(
                isinstance(v, int) and v >= 1 for v in item):
            rows.append((name, item[0], item[1], item[2] if len(item) == 3 else 1))
        elif not isinstance(item, nn.Module):
            raise ValueError(f"receptive_field expects a model, layers, or (kernel, stride[, dilation]) tuples of "
                             f"positive integers; item {name} is {item!r}.")
    if not rows:
        raise ValueError("receptive_field found no convolution or pooling layer.")
    return rows


def receptive_field(layers: nn.Module | Iterable[Any]) -> int:
    """How many input pixels (along one side) one output value of a stack of convolutions sees (lesson 05).

    ``layers`` is a model (its convolution and pooling layers are read in order), a list of layers,
    or a list of ``(kernel, stride)`` / ``(kernel, stride, dilation)`` tuples. Starting from one
    output pixel and walking back, each layer widens the field by ``(kernel - 1) · dilation`` steps of
    its input grid, and a step of that grid is ``jump`` image pixels, the product of the strides before it::

        field = 1; jump = 1
        for each layer, first to last:  field += (kernel - 1) * dilation * jump;  jump *= stride

    Norms and activations act per pixel and change nothing. Transposed convolutions and upsampling
    are refused (the recurrence does not hold for them).
    """
    return receptive_field_steps(layers)[-1][-1]


def receptive_field_steps(layers: nn.Module | Iterable[Any]) -> list[tuple[str, int, int, int, int]]:
    """The recurrence of :func:`receptive_field` row by row: ``(layer, kernel, stride, jump, field)``.

    ``jump`` is the distance, in image pixels, between neighbouring inputs of that layer; ``field``
    is the receptive field after it.
    """
    field, jump, rows = 1, 1, []
    for name, kernel, stride, dilation in _windows(layers):
        field += (kernel - 1) * dilation * jump
        rows.append((name, kernel, stride, jump, field))
        jump *= stride
    return rows


def format_receptive_field(layers: nn.Module | Iterable[Any]) -> str:
    """A plain-text table of :func:`receptive_field_steps` (deterministic, so notebooks can check it)."""
    rows = receptive_field_steps(layers)
    width = max([7] + [len(r[0]) + 2 for r in rows])
    lines = [f"{'layer':<{width}}{'kernel':>7}{'stride':>7}{'jump':>6}{'field':>7}"]
    lines += [f"{name:<{width}}{k:>7}{s:>7}{j:>6}{r:>7}" for name, k, s, j, r in rows]
    return "\n".join(lines)


_NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d,
               nn.InstanceNorm3d, nn.GroupNorm, nn.LayerNorm)


def measure_receptive_field(model: nn.Module, size: int = 256, in_channels: int | None = None) -> int:
    """The receptive field found by experiment: the input pixels that move the centre output value.

    A copy of ``model`` gets positive weights (every weight ``1 / fan-in``), its norm layers removed
    and its max-pooling turned into average pooling, so no two paths can cancel, no statistic mixes
    distant pixels and no window hides the pixels it did not pick; then the gradient of
    the centre value of the output map with respect to a ``size`` x ``size`` input is nonzero exactly
    on the pixels that value depends on. Returns the side of that square; raises ``ValueError``
    when it touches the border (``size`` too small to hold it). ``in_channels`` defaults to the
    first convolution's.
    """
    probe = copy.deepcopy(model).float().cpu().eval()
    for module in list(probe.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, _NORM_TYPES):
                setattr(module, child_name, nn.Identity())
            elif isinstance(child, nn.MaxPool2d):  # a max passes gradient to one pixel only; a mean to all it reads
                setattr(module, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
    convs = [m for m in probe.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    if not convs:
        raise ValueError("measure_receptive_field found no convolution in the model.")
    with torch.no_grad():
        for conv in convs:
            conv.weight.fill_(1.0 / conv.weight[0].numel())
            if conv.bias is not None:
                conv.bias.fill_(0.1)
    channels = in_channels if in_channels is not None else convs[0].in_channels
    x = torch.ones(1, channels, size, size, requires_grad=True)
    out = probe(x)
    if out.ndim != 4:
        raise ValueError(f"measure_receptive_field needs a model that returns a map (N, C, h, w); "
                         f"got {tuple(out.shape)}.")
    h, w = out.shape[2:]
    out[0, 0, h // 2, w // 2].backward()
    seen = (x.grad[0].abs().sum(0) > 0)
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == size - 1 or cols[-1] == size - 1:
        raise ValueError(f"the receptive field reaches the border of the {size} x {size} input; pass a larger size.")
    height, width = int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
    if height != width:
        raise ValueError(f"the measured receptive field is not square: {height} x {width}.")
    return height
