"""Lesson 02 (notebooks/02_dcgan.ipynb): the checkers of DCGAN's exercises, the transposed-convolution size
formula and a generator for 32 x 32 images.
"""

from __future__ import annotations

import itertools
from typing import Callable

import torch
from torch import nn

from .core import CheckResult, _call, _fail


def check_transposed_conv_size(size_fn: Callable[..., int]) -> CheckResult:
    """Lesson 02: ``size_fn(size, kernel, stride, padding, output_padding, dilation) -> int`` for ConvTranspose2d."""
    settings = itertools.product((1, 4, 7), (1, 3, 4, 5), (1, 2, 3), (0, 1, 2), (0, 1), (1, 2))
    checked = 0
    for size, k, s, p, op, d in settings:
        if op >= max(s, d):
            continue
        layer = nn.ConvTranspose2d(1, 1, k, s, p, output_padding=op, dilation=d)
        try:
            truth = layer(torch.zeros(1, 1, size, size)).shape[-1]
        except RuntimeError:
            continue  # PyTorch refuses the setting (no output)
        got, error = _call(size_fn, size, k, s, p, op, d)
        if error is not None:
            return error
        checked += 1
        if got != truth:
            where = f"size={size}, kernel={k}, stride={s}, padding={p}, output_padding={op}, dilation={d}"
            hint = ("Remember the dilation: the kernel spans d*(k-1)+1 pixels." if got == truth - (d - 1) * (k - 1) else
                    "Start from (size - 1) * stride, then subtract 2 * padding, add the kernel's span and output_padding.")
            return _fail(f"For {where}, PyTorch's ConvTranspose2d gives {truth}, your function gives {got!r}. {hint}")
    return CheckResult(True, f"Your formula agrees with nn.ConvTranspose2d on all {checked} settings tried.")


def check_generator_32(build: Callable[[int], nn.Module], z_dim: int = 100) -> CheckResult:
    """Lesson 02: ``build(z_dim) -> nn.Module``, a DCGAN-style generator from z to (N, 1, 32, 32) in [-1, 1]."""
    model, error = _call(build, z_dim)
    if error is not None:
        return error
    if not isinstance(model, nn.Module):
        return _fail(f"Return an nn.Module (e.g. an nn.Sequential); got {type(model).__name__}.")
    layers = list(model.modules())
    if not any(isinstance(m, nn.ConvTranspose2d) for m in layers):
        return _fail("A DCGAN generator grows the image with nn.ConvTranspose2d layers; yours has none.")
    if any(isinstance(m, nn.Linear) for m in layers) and sum(isinstance(m, nn.ConvTranspose2d) for m in layers) < 2:
        return _fail("Let transposed convolutions do the upsampling: at least two nn.ConvTranspose2d layers.")
    z = torch.randn(4, z_dim)
    out = None
    for shaped in (z, z[:, :, None, None]):
        try:
            out = model(shaped)
            break
        except Exception as err:  # try the other noise shape before giving up
            last = err
    if out is None:
        return _fail(f"Your generator fails on noise of shape (4, {z_dim}) and (4, {z_dim}, 1, 1): "
                     f"{type(last).__name__}: {last}")
    if tuple(out.shape) != (4, 1, 32, 32):
        return _fail(f"Expected images of shape (4, 1, 32, 32) for 4 noise vectors, got {tuple(out.shape)}. "
                     "Print the shape after each layer, or use the size formula: 1 -> 4 -> 8 -> 16 -> 32.")
    if out.min() < -1 or out.max() > 1 or not isinstance(layers[-1], nn.Tanh):
        return _fail("End with nn.Tanh(): the training images are scaled to [-1, 1], so the fakes must be too.")
    if not any(isinstance(m, nn.BatchNorm2d) for m in layers):
        return _fail("DCGAN puts nn.BatchNorm2d after every transposed convolution but the last; yours has none.")
    out.mean().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    if missing:
        return _fail(f"These parameters get no gradient, so they never learn: {', '.join(missing[:3])}.")
    return CheckResult(True, "Your generator maps z to 1x32x32 images in [-1, 1] with transposed convolutions.")
