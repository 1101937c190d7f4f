"""Lesson 02b (notebooks/02b_dcgan_to_lsgan.ipynb): the checkers of the DCGAN -> LSGAN exercises, the
least-squares losses of both players and a discriminator that returns raw scores.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor, nn

from .core import CheckResult, _call, _fail

_SCORES_REAL = torch.tensor([2.0, 1.0, 0.5, -0.5, 3.0, 1.5])
_SCORES_FAKE = torch.tensor([-1.0, 0.0, 0.25, 1.0, -2.0, 0.5])


def _one_number(value: Any) -> CheckResult | None:
    if not isinstance(value, Tensor) or value.numel() != 1:
        shape = f" of shape {tuple(value.shape)}" if isinstance(value, Tensor) else ""
        return _fail(f"Return one number as a tensor (a mean over the batch); got {type(value).__name__}{shape}.")
    return None


def check_lsgan_d_loss(d_loss: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 02b: ``d_loss(real_scores, fake_scores) -> ½ mean((s_real - 1)²) + ½ mean((s_fake - 0)²)``."""
    real, fake = _SCORES_REAL.clone().requires_grad_(True), _SCORES_FAKE.clone().requires_grad_(True)
    value, error = _call(d_loss, real, fake)
    if error is not None:
        return error
    error = _one_number(value)
    if error is not None:
        return error
    got = float(value.detach())
    r, f = _SCORES_REAL, _SCORES_FAKE
    expected = float(0.5 * (r - 1).square().mean() + 0.5 * f.square().mean())
    sig = float(0.5 * (torch.sigmoid(r) - 1).square().mean() + 0.5 * torch.sigmoid(f).square().mean())
    if math.isclose(got, sig, rel_tol=1e-4):
        return _fail("You squashed the scores with a sigmoid first. LSGAN reads the raw scores: with a sigmoid, "
                     "a fake far on the wrong side gets almost no gradient again, which is what LSGAN removes.")
    if math.isclose(got, 2 * expected, rel_tol=1e-4):
        return _fail(f"Almost: expected {expected:.4f}, got {got:.4f}, twice as much. Each half has the factor ½.")
    if math.isclose(got, len(r) * expected, rel_tol=1e-4):
        return _fail("Take the mean over the batch, not the sum.")
    swapped = float(0.5 * r.square().mean() + 0.5 * (f - 1).square().mean())
    if math.isclose(got, swapped, rel_tol=1e-4):
        return _fail("The targets are swapped: real scores should move to b = 1 and fake scores to a = 0.")
    if not math.isclose(got, expected, rel_tol=1e-4):
        return _fail(f"Expected {expected:.4f} on the test scores, got {got:.4f}. The loss is "
                     "½·mean((s_real - 1)²) + ½·mean(s_fake²), on the raw scores.")
    if not value.requires_grad:
        return _fail("The value is right but carries no gradient to the scores: no .item(), .detach() or numpy inside.")
    return CheckResult(True, f"LSGAN discriminator loss correct ({got:.4f} on the test scores).")


def check_lsgan_g_loss(g_loss: Callable[[Tensor], Tensor]) -> CheckResult:
    """Lesson 02b: ``g_loss(fake_scores) -> ½ mean((s_fake - 1)²)``."""
    fake = _SCORES_FAKE.clone().requires_grad_(True)
    value, error = _call(g_loss, fake)
    if error is not None:
        return error
    error = _one_number(value)
    if error is not None:
        return error
    got = float(value.detach())
    f = _SCORES_FAKE
    expected = float(0.5 * (f - 1).square().mean())
    if math.isclose(got, float(0.5 * (torch.sigmoid(f) - 1).square().mean()), rel_tol=1e-4):
        return _fail("Leave out the sigmoid: the generator's loss is on the raw scores too.")
    if math.isclose(got, float(0.5 * f.square().mean()), rel_tol=1e-4):
        return _fail("That pulls the fakes' scores to 0, the discriminator's target for fakes. The generator "
                     "wants D to call them real: target c = 1.")
    if math.isclose(got, 2 * expected, rel_tol=1e-4):
        return _fail(f"Almost: expected {expected:.4f}, got {got:.4f}, twice as much. Keep the factor ½.")
    if math.isclose(got, len(f) * expected, rel_tol=1e-4):
        return _fail("Take the mean over the batch, not the sum.")
    if not math.isclose(got, expected, rel_tol=1e-4):
        return _fail(f"Expected {expected:.4f} on the test scores, got {got:.4f}. The loss is ½·mean((s_fake - 1)²).")
    if not value.requires_grad:
        return _fail("The value is right but carries no gradient: no .item(), .detach() or numpy inside.")
    return CheckResult(True, f"LSGAN generator loss correct ({got:.4f} on the test scores).")


def check_raw_score_discriminator(build: Callable[[], nn.Module]) -> CheckResult:
    """Lesson 02b: ``build() -> nn.Module`` mapping (N, 1, 28, 28) to raw scores (N,), with no squashing at the end."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model, error = _call(build)
    if error is not None:
        return error
    if not isinstance(model, nn.Module):
        return _fail(f"Return an nn.Module; got {type(model).__name__}.")
    if any(isinstance(m, (nn.Sigmoid, nn.Tanh, nn.Softmax)) for m in model.modules()):
        return _fail("There is still a squashing layer (Sigmoid, Tanh or Softmax) in the discriminator. Remove it: "
                     "the least-squares loss needs raw scores that can go anywhere.")
    model.eval()
    x = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    try:
        with torch.no_grad():
            before = model(x)
    except Exception as err:
        return _fail(f"Your discriminator fails on images of shape (4, 1, 28, 28): {type(err).__name__}: {err}")
    if not isinstance(before, Tensor) or tuple(before.shape) != (4,):
        shape = tuple(before.shape) if isinstance(before, Tensor) else type(before).__name__
        return _fail(f"Expected one score per image, shape (4,), got {shape}. Flatten the last map, e.g. with .view(-1).")
    last = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear)) and m.bias is not None]
    if not last:
        return _fail("Give the last convolution (or linear layer) a bias, so the score can shift freely.")
    with torch.no_grad():
        last[-1].bias += 3.0
        after = model(x)
    if not torch.allclose(after - before, torch.full_like(before, 3.0), atol=1e-4):
        return _fail("The score is squashed after the last layer (shifting its bias by 3 did not shift the score "
                     "by 3): remove torch.sigmoid or any other function applied to the output.")
    return CheckResult(True, "Your discriminator returns one raw score per image, as LSGAN needs.")
