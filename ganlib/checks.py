"""Checkers for the exercises: each takes the learner's function and says, in plain words, what is wrong.

A checker never raises: an unfinished exercise prints a message and the notebook runs on. It
returns a :class:`CheckResult`, which is truthy when the exercise passes.
"""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one exercise."""

    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return ("✅ " if self.passed else "❌ ") + self.message


def _fail(message: str) -> CheckResult:
    return CheckResult(False, message)


def _call(fn: Callable[..., Any], *args: Any) -> tuple[Any, CheckResult | None]:
    """Run the learner's code; turn an exception into a message."""
    if not callable(fn):
        return None, _fail(f"Expected a function, got {type(fn).__name__}. Pass the function itself, without ().")
    try:
        return fn(*args), None
    except NotImplementedError:
        return None, _fail("Not done yet: replace the `raise NotImplementedError` line with your code, "
                           "run that cell, then run this check again.")
    except Exception as err:  # the learner's bug, reported rather than raised
        return None, _fail(f"Your function raised {type(err).__name__}: {err}")


def _as_float(value: Any) -> float | None:
    if isinstance(value, Tensor) and value.numel() == 1:
        return float(value.detach())
    if isinstance(value, (int, float)):
        return float(value)
    return None


# -- lesson 01 ------------------------------------------------------------------------------------
class _FixedGenerator(nn.Module):
    """A generator whose output ignores z, so a check does not depend on how z was drawn."""

    def __init__(self, images: Tensor) -> None:
        super().__init__()
        self.images = nn.Parameter(images.clone())

    def forward(self, z: Tensor) -> Tensor:
        return self.images[: z.shape[0]].clone() + 0 * z.flatten(1)[:, :1, None, None]


def check_d_step(d_step: Callable[..., Any]) -> CheckResult:
    """Lesson 01: ``d_step(G, D, opt_d, real, z_dim) -> float`` trains D once on a real batch and a fake one."""
    from .models import MLPDiscriminator

    gen = torch.Generator().manual_seed(1)
    real = torch.rand(8, 1, 28, 28, generator=gen) * 2 - 1
    fake = torch.rand(8, 1, 28, 28, generator=gen) * 2 - 1
    with torch.random.fork_rng():  # a fixed D without disturbing the notebook's random state
        torch.manual_seed(2)
        G, D = _FixedGenerator(fake), MLPDiscriminator(hidden=(32,))
    D_ref, D_start = copy.deepcopy(D), copy.deepcopy(D)
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    for p in D.parameters():  # stale gradients, as after a generator step
        p.grad = torch.full_like(p, 5.0)
    g_before = G.images.detach().clone()

    value, error = _call(d_step, G, D, opt_d, real, 16)
    if error is not None:
        return error
    loss = _as_float(value)
    if loss is None:
        return _fail(f"Return the discriminator's loss as a number (a float or a 0-d tensor); got {type(value).__name__}.")
    if not torch.equal(G.images.detach(), g_before):
        return _fail("Your step changed the generator. Make the fakes with torch.no_grad() (or .detach() them) "
                     "and step only opt_d.")
    if G.images.grad is not None and G.images.grad.abs().sum() > 0:
        return _fail("Gradients reached the generator. Make the fakes with torch.no_grad() or detach them.")
    real_part = F.binary_cross_entropy_with_logits(D_ref(real), torch.ones(8))
    fake_part = F.binary_cross_entropy_with_logits(D_ref(fake), torch.zeros(8))
    expected = float((real_part + fake_part).detach())
    if not (math.isclose(loss, expected, rel_tol=1e-4) or math.isclose(loss, expected / 2, rel_tol=1e-4)):
        if math.isclose(loss, float(real_part.detach()), rel_tol=1e-4) or math.isclose(loss, float(fake_part.detach()), rel_tol=1e-4):
            return _fail(f"Your loss covers only one half. Add the loss on real images (target 1) and on fakes "
                         f"(target 0); expected {expected:.4f}, got {loss:.4f}.")
        return _fail(f"Expected the loss {expected:.4f} (binary cross-entropy on the logits: real -> 1, fake -> 0), "
                     f"got {loss:.4f}. D returns logits: use F.binary_cross_entropy_with_logits, with no sigmoid.")
    ref_opt = torch.optim.SGD(D_ref.parameters(), lr=0.1)
    ref_opt.zero_grad()
    scale = 1.0 if math.isclose(loss, expected, rel_tol=1e-4) else 0.5  # a sum or a mean of the halves
    ((real_part + fake_part) * scale).backward()
    ref_opt.step()
    if all(torch.equal(a, b) for a, b in zip(D.parameters(), D_start.parameters())):
        return _fail("D's weights did not change: call loss.backward() and then opt_d.step().")
    if any(not torch.allclose(a, b, atol=1e-5) for a, b in zip(D.parameters(), D_ref.parameters())):
        return _fail("D's weights are not where one optimiser step on your loss takes them. Call "
                     "opt_d.zero_grad() before loss.backward() (old gradients pile up otherwise), "
                     "then opt_d.step() once.")
    return CheckResult(True, f"Discriminator step correct: loss {loss:.4f}, D updated once, G untouched.")


def check_generator_loss(g_loss: Callable[[Tensor], Tensor]) -> CheckResult:
    """Lesson 01: ``g_loss(logits) -> Tensor``, the non-saturating generator loss ``-mean(log sigmoid(s))``."""
    logits = torch.linspace(-6, 3, 10, requires_grad=True)
    value, error = _call(g_loss, logits)
    if error is not None:
        return error
    if not isinstance(value, Tensor) or value.numel() != 1:
        return _fail(f"Return one number as a tensor (the mean over the batch); got {type(value).__name__}"
                     + (f" of shape {tuple(value.shape)}" if isinstance(value, Tensor) else "") + ".")
    expected = F.softplus(-logits.detach()).mean()
    got = float(value.detach())
    if math.isnan(got):
        return _fail("Your loss is NaN. The scores are logits, not probabilities: take the log of sigmoid(s) "
                     "(F.logsigmoid) or use F.binary_cross_entropy_with_logits.")
    if math.isclose(got, float(-F.softplus(logits.detach()).mean()), rel_tol=1e-4):
        return _fail("That is the minimax loss log(1 - D(G(z))), which saturates when D rejects the fakes. "
                     "The non-saturating loss is -log D(G(z)): BCE with target 1 on the fakes' logits.")
    if math.isclose(got, float(expected) * len(logits), rel_tol=1e-4):
        return _fail("Take the mean over the batch, not the sum.")
    if not math.isclose(got, float(expected), rel_tol=1e-4):
        return _fail(f"Expected {float(expected):.4f} for logits from -6 to 3, got {got:.4f}. The loss is "
                     "-mean(log sigmoid(s)) = F.binary_cross_entropy_with_logits(s, ones).")
    if not value.requires_grad:
        return _fail("The value is right but carries no gradient: do not use .item(), .detach() or numpy inside.")
    return CheckResult(True, f"Non-saturating generator loss correct ({got:.4f} on the test logits).")


# -- lesson 02 ------------------------------------------------------------------------------------
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
