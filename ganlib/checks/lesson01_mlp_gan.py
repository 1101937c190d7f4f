"""Lesson 01 (notebooks/01_mlp_gan.ipynb): the checkers of the MLP GAN's exercises, the discriminator step and
the non-saturating generator loss.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..papers.gan import MLPDiscriminator
from .core import CheckResult, _as_float, _call, _fail


class _FixedGenerator(nn.Module):
    """A generator whose output ignores z, so a check does not depend on how z was drawn."""

    def __init__(self, images: Tensor) -> None:
        super().__init__()
        self.images = nn.Parameter(images.clone())

    def forward(self, z: Tensor) -> Tensor:
        return self.images[: z.shape[0]].clone() + 0 * z.flatten(1)[:, :1, None, None]


class _SureItIsFake(nn.Module):
    """A discriminator that scores every image -150: so sure it is fake that float32's sigmoid rounds to 0."""

    def __init__(self) -> None:
        super().__init__()
        self.score = nn.Parameter(torch.tensor(-150.0))

    def forward(self, x: Tensor) -> Tensor:
        return self.score.expand(x.shape[0]) + 0 * x.flatten(1).sum(1)


def _far_scores_hint(d_step: Callable[..., Any], G: nn.Module, real: Tensor) -> CheckResult | None:
    """The step on scores of -150, where a sigmoid followed by a loss on probabilities breaks down."""
    D = _SureItIsFake()
    value, error = _call(d_step, G, D, torch.optim.SGD(D.parameters(), lr=0.1), real, 16)
    loss = _as_float(value) if error is None else None
    exact = float(F.softplus(torch.tensor(150.0)) + F.softplus(torch.tensor(-150.0)))  # 150: real -> 1 costs 150
    if loss is not None and (math.isclose(loss, exact, rel_tol=1e-3) or math.isclose(loss, exact / 2, rel_tol=1e-3)):
        return None
    got = "an error" if error is not None else f"{loss}"
    return _fail(f"Your step is right on moderate scores but not on extreme ones: for a real batch that D scores "
                 f"-150, the loss is {exact:.0f} (or {exact / 2:.0f} as a mean of the halves); yours gave {got}. "
                 "A sigmoid followed by binary_cross_entropy (or log) rounds sigmoid(-150) to 0 and clips or "
                 "loses the loss and its gradient. D returns logits: use F.binary_cross_entropy_with_logits.")


def check_d_step(d_step: Callable[..., Any]) -> CheckResult:
    """Lesson 01: ``d_step(G, D, opt_d, real, z_dim) -> float`` trains D once on a real batch and a fake one."""
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
    far = _far_scores_hint(d_step, G, real)
    if far is not None:
        return far
    return CheckResult(True, f"Discriminator step correct: loss {loss:.4f}, D updated once, G untouched.")


def check_generator_loss(g_loss: Callable[[Tensor], Tensor]) -> CheckResult:
    """Lesson 01: ``g_loss(logits) -> Tensor``, the non-saturating generator loss ``-mean(log sigmoid(s))``,
    also on logits around -120 (a fake that D rejects outright), where ``log(sigmoid(s))`` overflows."""
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
    far = torch.tensor([-120.0, -100.0, 0.0], requires_grad=True)  # fakes that D rejects outright, and one it doubts
    far_value, error = _call(g_loss, far)
    exact = F.softplus(-far.detach()).mean()  # (120 + 100 + log 2) / 3
    far_got = float(far_value.detach()) if error is None and isinstance(far_value, Tensor) and far_value.numel() == 1 else None
    grad_ok = False
    if far_got is not None and far_value.requires_grad:
        (grad,) = torch.autograd.grad(far_value, far)
        grad_ok = bool(torch.allclose(grad, torch.tensor([-1 / 3, -1 / 3, -1 / 6]), atol=1e-4))
    value_ok = far_got is not None and math.isclose(far_got, float(exact), rel_tol=1e-4)
    if not (value_ok and grad_ok):
        shown = "an error" if far_got is None else f"{far_got:.4f}" + (" but another gradient" if value_ok else "")
        return _fail(f"Right on moderate logits, but not stable: for logits (-120, -100, 0) the loss is "
                     f"{float(exact):.4f} with gradient (-1/3, -1/3, -1/6); yours gave {shown}. sigmoid(-120) rounds "
                     "to 0 in float32, so log(sigmoid(s)) becomes -inf (and an added epsilon caps the loss). "
                     "Use F.logsigmoid(s) or F.binary_cross_entropy_with_logits(s, ones), which never form sigmoid(s).")
    return CheckResult(True, f"Non-saturating generator loss correct ({got:.4f} on the test logits, "
                             f"{far_got:.2f} on logits around -120).")
