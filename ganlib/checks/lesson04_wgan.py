"""Lesson 04 (notebooks/04_wgan.ipynb): the checkers of WGAN's exercises, WGAN-GP's gradient penalty and
the original WGAN's weight clipping.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor, nn

from ..papers.dcgan import DCGANDiscriminator
from .core import CheckResult, _fail, _rng_safe, _scalar, _slip_hint, _with_hint


def _penalty_error(error: CheckResult) -> CheckResult:
    if "implicitly created only for scalar outputs" in error.message:
        return _with_hint(error, "The critic gives one score per sample: differentiate their sum, "
                                 "critic(x̂).sum(), or pass grad_outputs=torch.ones_like(scores).")
    if "does not require grad" in error.message or "does not have a grad_fn" in error.message:
        return _with_hint(error, "The interpolates need .requires_grad_(True) before you score them, so that "
                                 "torch.autograd.grad can differentiate the scores with respect to them.")
    return error


def check_gradient_penalty(penalty: Callable[..., Tensor]) -> CheckResult:
    """Lesson 04: ``penalty(critic, real, fake) -> Tensor``, WGAN-GP's mean (‖∇ critic(x̂)‖₂ - 1)² at interpolates."""
    n = 5
    gen = torch.Generator().manual_seed(1)
    real = torch.rand(n, 1, 4, 4, generator=gen) * 2 - 1
    fake = torch.rand(n, 1, 4, 4, generator=gen) * 2 - 1

    # 1. A linear critic: its gradient is w at every point, so the penalty is (‖w‖ - 1)² = 4 wherever it is taken.
    with torch.random.fork_rng():  # building layers draws random numbers; keep the notebook's
        linear = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    with torch.no_grad():
        w = torch.randn(1, 16, generator=gen)
        linear[1].weight.copy_(3 * w / w.norm())
    value, error = _rng_safe(penalty, linear, real, fake)
    if error is not None:
        return _penalty_error(error)
    got, error = _scalar(value, "the penalty")
    if error is not None:
        return error
    wrong = {  # what common slips give for this critic, and what to say about them
        (9 - 1) ** 2: "That is (‖g‖² - 1)²: you squared the norm before subtracting 1. Use the norm itself, "
                      "grad.flatten(1).norm(2, dim=1), and square only the difference.",
        3 - 1: "That is ‖g‖ - 1 without the square: the penalty is (‖g‖ - 1)².",
        4 * n: "That is the sum over the batch; take the mean.",
        40: "That already includes λ = 10. Return the penalty alone; the critic's step multiplies it by λ.",
        (3 * math.sqrt(n) - 1) ** 2: "That is one norm for the whole batch. Take one norm per sample: "
                                     "grad.flatten(1).norm(2, dim=1), then the mean of (norm - 1)².",
        float(((3 * w / w.norm()).abs() - 1).square().mean()): "That treats every pixel on its own. Flatten each "
                                     "sample's gradient first and take its norm: grad.flatten(1).norm(2, dim=1).",
    }
    if not math.isclose(got, 4.0, rel_tol=1e-4):
        hint = _slip_hint(got, wrong)
        if hint is not None:
            return _fail(f"For a linear critic whose gradient has norm 3 everywhere, the penalty is (3 - 1)² = 4; "
                         f"yours gives {got:.4g}. {hint}")
        return _fail(f"For a linear critic whose gradient has norm 3 everywhere, the penalty is (3 - 1)² = 4; yours "
                     f"gives {got:.4g}. Compute grad = ∂ critic(x̂).sum() / ∂x̂ with torch.autograd.grad, then "
                     f"((grad.flatten(1).norm(2, dim=1) - 1) ** 2).mean().")

    # 2. Where is it taken? A critic that records its inputs, with gradient x (so the norm tells the point apart).
    seen: list[Tensor] = []

    def probe(x: Tensor) -> Tensor:
        seen.append(x.detach().clone())
        return 0.5 * x.flatten(1).square().sum(1)

    value, error = _rng_safe(penalty, probe, real, fake)
    if error is not None:
        return _penalty_error(error)
    for x in seen:
        if x.shape != real.shape:
            return _fail(f"Your function called the critic on a tensor of shape {tuple(x.shape)}; score the "
                         f"interpolates, which have the shape of the batch, {tuple(real.shape)}.")
        if torch.allclose(x, real) or torch.allclose(x, fake):
            which = "real" if torch.allclose(x, real) else "fake"
            return _fail(f"Your penalty scores the {which} images themselves. Take the gradient at random points "
                         f"between them: x̂ = ε·real + (1 - ε)·fake, with ε ~ U(0, 1).")
    if not seen:
        return _fail("Your function never called the critic. Score the interpolates: critic(x̂).")
    x = seen[-1]
    gap, offset = (real - fake).flatten(1), (x - fake).flatten(1)
    eps = (offset * gap).sum(1) / gap.square().sum(1)  # the best ε per sample: x ≈ fake + ε (real - fake)
    if float((offset - eps[:, None] * gap).abs().max()) > 1e-4:
        return _fail("The points you score do not lie on the lines between each real image and its fake: ε differs "
                     "from pixel to pixel. Draw one ε per sample, torch.rand(N, 1, 1, 1), and let it broadcast.")
    if torch.allclose(eps, eps[:1].expand_as(eps), atol=1e-6):
        return _fail("All the samples share one ε. Draw one per sample, torch.rand(N, 1, 1, 1), so that the "
                     "penalty looks at many different points between the two distributions.")
    if bool((eps < -1e-6).any() or (eps > 1 + 1e-6).any()):
        return _fail(f"Your ε values ({', '.join(f'{e:.2f}' for e in eps.tolist())}) are not in [0, 1]: draw them "
                     f"with torch.rand, uniform between 0 and 1.")
    expected = float((x.flatten(1).norm(2, dim=1) - 1).square().mean())
    got, error = _scalar(value, "the penalty")
    if error is not None:
        return error
    if not math.isclose(got, expected, rel_tol=1e-4):
        return _fail(f"At the points your function chose, the penalty should be {expected:.4f}; yours gives "
                     f"{got:.4f}. Take the gradient of critic(x̂).sum() with respect to x̂.")

    # 3. Does the penalty train the critic, and only the critic?
    with torch.random.fork_rng():
        torch.manual_seed(5)
        critic = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 1))
    fake_from_g = fake.clone().requires_grad_(True)  # as if it came from the generator
    value, error = _rng_safe(penalty, critic, real, fake_from_g)
    if error is not None:
        return _penalty_error(error)
    if not isinstance(value, Tensor) or value.grad_fn is None:
        return _fail("Your penalty carries no gradient back to the critic's weights, so it cannot train the critic. "
                     "Pass create_graph=True to torch.autograd.grad: the gradient must itself be differentiable.")
    try:
        value.backward()
    except RuntimeError as err:
        return _fail(f"Backpropagating your penalty failed ({err}). Pass create_graph=True to torch.autograd.grad.")
    first = critic[1].weight.grad
    if first is None or float(first.abs().sum()) == 0:
        return _fail("The penalty's gradient does not reach the critic's weights. Pass create_graph=True to "
                     "torch.autograd.grad, and do not .detach() the gradient before taking its norm.")
    if fake_from_g.grad is not None and float(fake_from_g.grad.abs().sum()) > 0:
        return _fail("The penalty's gradient also reaches the fake images, and through them the generator. "
                     "Mix real.detach() and fake.detach(): the penalty trains only the critic.")
    return CheckResult(True, f"Gradient penalty correct: taken at random interpolates (one ε per sample), "
                             f"(‖g‖ - 1)² averaged over the batch, and it trains the critic ({got:.4f} on the test batch).")


def check_clip_weights(clip: Callable[[nn.Module, float], Any]) -> CheckResult:
    """Lesson 04: ``clip(critic, c)`` clamps every parameter of the critic into [-c, c], in place."""
    for c in (0.05, 0.01):
        with torch.random.fork_rng():
            torch.manual_seed(6)
            critic = DCGANDiscriminator(img_size=28, width=4, batchnorm=True)
            for p in critic.parameters():
                nn.init.normal_(p, 0.0, 3 * c)
            critic(torch.randn(8, 1, 28, 28))  # BatchNorm running statistics away from their start
        names = [name for name, _ in critic.named_parameters()]
        before = [p.detach().clone() for p in critic.parameters()]
        ids = [id(p) for p in critic.parameters()]
        buffers = [b.clone() for b in critic.buffers()]
        _, error = _rng_safe(clip, critic, c)
        if error is not None:
            if "leaf Variable that requires grad" in error.message:
                return _with_hint(error, "Change the weights under torch.no_grad() (the clamp is not part of what "
                                         "autograd should track): with torch.no_grad(): p.clamp_(-c, c).")
            return error
        params = list(critic.parameters())
        if [id(p) for p in params] != ids:
            return _fail("Your function replaced the critic's parameters by new tensors, so the optimiser no longer "
                         "updates them. Change them in place: p.clamp_(-c, c) under torch.no_grad().")
        if all(torch.equal(p.detach(), b) for p, b in zip(params, before)):
            return _fail("Nothing changed. `p = p.clamp(-c, c)` makes a new tensor and throws it away; clamp in "
                         "place instead: p.clamp_(-c, c), under torch.no_grad().")
        outside = [name for name, p in zip(names, params) if float(p.detach().abs().max()) > c * (1 + 1e-6)]
        if outside and len(outside) == len(names):
            return _fail(f"With c = {c}, every parameter tensor still has values outside [-c, c]: clamp into "
                         f"[-c, c] with the c you are given, not a fixed number.")
        if outside:
            return _fail(f"With c = {c}, some parameters are still outside [-c, c]: {', '.join(outside[:4])}"
                         f"{' ...' if len(outside) > 4 else ''}. Clip every parameter of critic.parameters(), biases "
                         f"and BatchNorm scales too, as the paper does.")
        for name, p, b in zip(names, params, before):
            expected = b.clamp(-c, c)
            if not torch.equal(p.detach(), expected):
                if torch.equal(p.detach(), b.clamp(0, c)) or torch.equal(p.detach(), b.clamp(-c, 0)):
                    return _fail(f"In {name}, weights beyond one side of the bound became 0. Clamp into the "
                                 f"interval [-c, c]: below -c becomes -c, above c becomes c.")
                if c != 0.01 and torch.equal(p.detach(), b.clamp(-0.01, 0.01)):
                    return _fail(f"With c = {c} your function clamps into [-0.01, 0.01]: use the c you are given.")
                return _fail(f"In {name}, the values are not what clamping into [-{c}, {c}] gives: values inside "
                             f"stay as they are, values below -c become -c and values above c become c.")
            if p.grad_fn is not None or not p.requires_grad:
                return _fail(f"{name} is no longer a trainable leaf tensor. Clamp in place under torch.no_grad(), "
                             f"and do not change requires_grad.")
        if any(not torch.equal(b, a) for b, a in zip(critic.buffers(), buffers)):
            return _fail("Your function also changed the critic's buffers (BatchNorm's running statistics). Clip "
                         "only critic.parameters(): the statistics are not weights.")
    return CheckResult(True, "Weight clipping correct: every parameter clamped into [-c, c] in place, for two "
                             "values of c; buffers untouched.")
