"""Output sizes of convolutions and per-layer shape tables (taught in lesson 02).

For an input of size ``n`` the two layers of PyTorch give

* ``nn.Conv2d``:           ``floor((n + 2p - d(k - 1) - 1) / s) + 1``
* ``nn.ConvTranspose2d``:  ``(n - 1)s - 2p + d(k - 1) + output_padding + 1``

with kernel ``k``, stride ``s``, padding ``p`` and dilation ``d``. A transposed convolution runs
the convolution's size map backwards, which is why ``output_padding`` exists: with ``s > 1`` several
input sizes give the same convolution output, and ``output_padding`` says which one to return to.
"""

from __future__ import annotations

from dataclasses import dataclass

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


def layer_shapes(model: nn.Module, example: Tensor, *more: Tensor) -> list[LayerShape]:
    """Run ``model(example, *more)`` and record the output shape of every leaf layer, in order.

    ``more`` carries further inputs, e.g. the labels of a conditional model (lesson 03).
    """
    rows: list[LayerShape] = []
    hooks = []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:
            def hook(mod: nn.Module, _inp: object, out: Tensor, name: str = name) -> None:
                params = sum(p.numel() for p in mod.parameters(recurse=False))
                rows.append(LayerShape(name, type(mod).__name__, tuple(out.shape), params))
            hooks.append(module.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            model(example, *more)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    return rows


def format_layer_shapes(rows: list[LayerShape]) -> str:
    """A plain-text table of :func:`layer_shapes` rows (deterministic, so notebooks can check it)."""
    width = max([10] + [len(r.name) + 2 for r in rows])
    lines = [f"{'layer':<{width}}{'type':<18}{'output shape':<22}{'parameters':>11}"]
    for r in rows:
        lines.append(f"{r.name:<{width}}{r.layer:<18}{str(r.output_shape):<22}{r.parameters:>11,}")
    lines.append(f"{'total':<{width + 40}}{sum(r.parameters for r in rows):>11,}")
    return "\n".join(lines)
