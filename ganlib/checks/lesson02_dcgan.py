"""Lesson 02 (notebooks/02_dcgan.ipynb): the checkers of DCGAN's exercises, the transposed-convolution size
formula and a generator for 32 x 32 images that must be cheap enough and must train.
"""

from __future__ import annotations

import itertools
from typing import Callable

import torch
from torch import nn

from ..layers import dcgan_init
from ..papers.dcgan import DCGANDiscriminator
from ..shapes import multiply_adds
from .core import CheckResult, _call, _fail, _train_briefly

MAX_MADDS_32 = 3_000_000  # multiply-adds per image; lesson 02's 28 x 28 generator at width 32: 2,019,584


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


def check_generator_32(build: Callable[[int], nn.Module], z_dim: int = 100,
                       max_madds: int = MAX_MADDS_32) -> CheckResult:
    """Lesson 02: ``build(z_dim) -> nn.Module``, a DCGAN-style generator from z (N, z_dim) to (N, 1, 32, 32) in
    [-1, 1] that costs at most ``max_madds`` multiply-adds per image (:func:`ganlib.shapes.multiply_adds`).
    Uses its own random numbers: the notebook's random state stays as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        return _check_generator_32(build, z_dim, max_madds)


def _check_generator_32(build: Callable[[int], nn.Module], z_dim: int, max_madds: int) -> CheckResult:
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
    madds = multiply_adds(model, shaped)
    if madds > max_madds:
        return _fail(f"Your generator costs {madds:,} multiply-adds per image; the budget is {max_madds:,}. "
                     "A transposed convolution costs in_channels x out_channels x kernel area per input pixel, so "
                     "the same channels cost four times as much after each doubling: spend the channels where the "
                     "maps are small (ganlib.shapes.multiply_adds(model, z) gives the total).")
    count = sum(p.numel() for p in model.parameters())
    return CheckResult(True, f"Your generator maps z to 1x32x32 images in [-1, 1] with transposed convolutions, "
                             f"at {madds:,} multiply-adds per image ({count:,} parameters).")


def check_generator_32_trains(build: Callable[[int], nn.Module], z_dim: int = 100, steps: int = 1_000,
                              max_fid: float = 200.0, seed: int = 0) -> CheckResult:
    """Lesson 02: the generator of :func:`check_generator_32`, trained against lesson 02's discriminator.

    Its weights get ``dcgan_init``; it trains ``steps`` steps on MNIST padded to 32 x 32 with lesson 02's
    ``cpu`` recipe (non-saturating loss, Adam 1e-3, betas (0.5, 0.999), batch 64) against
    ``DCGANDiscriminator(img_size=32, width=32)``; 5,000 samples, cropped back to 28 x 28, must reach
    classifier-FID ``max_fid`` or lower with at least 8 of the 10 digits. The samples come back in
    ``result.images``.
    """
    first = check_generator_32(build, z_dim)
    if not first:
        return first
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        G, D = build(z_dim).apply(dcgan_init), DCGANDiscriminator(img_size=32, width=32).apply(dcgan_init)
        try:
            G(torch.randn(2, z_dim))
        except Exception:  # it wants (N, z_dim, 1, 1): give it that shape
            G = nn.Sequential(nn.Unflatten(1, (z_dim, 1, 1)), G)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    run = _train_briefly(G.to(device), D.to(device), steps=steps, lr=1e-3, z_dim=z_dim, pad=2, seed=seed)
    covered = run.coverage.digits_covered
    said = (f"after {steps:,} steps ({run.seconds:.0f} s): classifier-FID {run.fid:.1f} (target <= {max_fid:.0f}), "
            f"{covered}/10 digits at 5 % or more")
    if run.fid > max_fid or covered < 8:
        return CheckResult(False, f"Your generator trains, but not well enough: {said}. Is its first map big enough "
                                  "to hold a digit's layout, and are the channels where they help?", run.samples)
    return CheckResult(True, f"Your generator trains: {said}.", run.samples)
