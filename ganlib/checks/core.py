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
    from ..papers.gan import MLPDiscriminator

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


# -- lesson 02b: DCGAN -> LSGAN ---------------------------------------------------------------------
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


# -- lesson 03 ------------------------------------------------------------------------------------
def check_label_maps(maps_fn: Callable[[Tensor, int, int], Tensor]) -> CheckResult:
    """Lesson 03: ``maps_fn(labels, n_classes, size) -> (N, n_classes, size, size)`` one-hot planes."""
    from ..layers import label_maps

    for labels, n_classes, size in ((torch.tensor([3, 0, 9, 3]), 10, 28), (torch.tensor([1]), 2, 5)):
        got, error = _call(maps_fn, labels.clone(), n_classes, size)
        if error is not None:
            return error
        expected = label_maps(labels, n_classes, size)
        if not isinstance(got, Tensor):
            return _fail(f"Return a tensor; got {type(got).__name__}.")
        if tuple(got.shape) == (len(labels), size, size, n_classes):
            return _fail("The classes are in the last dimension. PyTorch images are (N, C, H, W): put the classes "
                         "in dimension 1, e.g. one_hot[:, :, None, None].expand(-1, -1, size, size).")
        if tuple(got.shape) != tuple(expected.shape):
            return _fail(f"For {len(labels)} labels, {n_classes} classes and size {size}, expected shape "
                         f"{tuple(expected.shape)}, got {tuple(got.shape)}.")
        if not got.is_floating_point():
            return _fail(f"Return floats, as the image is float (torch.cat needs one dtype); got {got.dtype}. "
                         "Add .float() after F.one_hot.")
        if not torch.equal(got.float(), expected):
            return _fail(f"Wrong values for labels {labels.tolist()}: channel y of image i should be all ones when "
                         "labels[i] == y and all zeros otherwise.")
    return CheckResult(True, "Your label maps match: one channel of ones per image, the rest zeros.")


def check_projection_score(score_fn: Callable[[Tensor, Tensor, nn.Module, nn.Module], Tensor]) -> CheckResult:
    """Lesson 03: ``score_fn(features, labels, psi, embed) -> psi(features) + <embed(labels), features>``, (N,)."""
    gen = torch.Generator().manual_seed(3)
    features = torch.randn(5, 6, generator=gen)
    labels = torch.tensor([0, 2, 1, 2, 3])
    with torch.random.fork_rng():
        torch.manual_seed(4)
        psi, embed = nn.Linear(6, 1), nn.Embedding(4, 6)
    got, error = _call(score_fn, features, labels, psi, embed)
    if error is not None:
        return error
    with torch.no_grad():
        unconditional = psi(features).view(-1)
        inner = (embed(labels) * features).sum(1)
    expected = unconditional + inner
    if not isinstance(got, Tensor):
        return _fail(f"Return a tensor of scores; got {type(got).__name__}.")
    if tuple(got.shape) == (5, 1):
        return _fail("One score per image, shape (N,): psi returns (N, 1), so flatten it with .view(-1) or .squeeze(1).")
    if tuple(got.shape) == (5, 4):
        return _fail("Shape (N, n_classes): you scored every class. Take only each image's own class vector, "
                     "embed(labels), and its inner product with the features: (embed(labels) * features).sum(1).")
    if tuple(got.shape) != (5,):
        return _fail(f"Expected one score per image, shape (5,), got {tuple(got.shape)}.")
    if torch.allclose(got, inner, atol=1e-5):
        return _fail("Only the class term: add the unconditional score psi(features) too.")
    if torch.allclose(got, unconditional, atol=1e-5):
        return _fail("Only psi(features): the label is ignored. Add the inner product of embed(labels) with the features.")
    if not torch.allclose(got, expected, atol=1e-5):
        return _fail("Wrong values. The score is psi(features).view(-1) + (embed(labels) * features).sum(1).")
    if not got.requires_grad:
        return _fail("The values are right but carry no gradient: no torch.no_grad(), .detach() or numpy inside.")
    got.sum().backward()
    if embed.weight.grad is None or psi.weight.grad is None:
        return _fail("Gradients must reach both psi and embed, or they never learn.")
    return CheckResult(True, "Projection score correct: psi(phi(x)) plus the class vector's inner product with phi(x).")




# -- lesson 04 ------------------------------------------------------------------------------------
def _rng_safe(fn: Callable[..., Any], *args: Any, seed: int = 4) -> tuple[Any, CheckResult | None]:
    """:func:`_call` with its own random numbers, leaving the notebook's random state as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return _call(fn, *args)


def _with_hint(error: CheckResult, hint: str) -> CheckResult:
    return _fail(error.message.rstrip(". ") + ". " + hint)


def _penalty_error(error: CheckResult) -> CheckResult:
    if "implicitly created only for scalar outputs" in error.message:
        return _with_hint(error, "The critic gives one score per sample: differentiate their sum, "
                                 "critic(x̂).sum(), or pass grad_outputs=torch.ones_like(scores).")
    if "does not require grad" in error.message or "does not have a grad_fn" in error.message:
        return _with_hint(error, "The interpolates need .requires_grad_(True) before you score them, so that "
                                 "torch.autograd.grad can differentiate the scores with respect to them.")
    return error


def _scalar(value: Any, what: str) -> tuple[float | None, CheckResult | None]:
    if not isinstance(value, Tensor):
        return None, _fail(f"Return {what} as a tensor (so that it can be backpropagated); got {type(value).__name__}.")
    if value.numel() != 1:
        return None, _fail(f"Return one number, the mean over the batch; got a tensor of shape {tuple(value.shape)}.")
    return float(value.detach()), None


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
        for bad, hint in wrong.items():
            if math.isclose(got, bad, rel_tol=1e-4):
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
    from ..papers.dcgan import DCGANDiscriminator

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


# -- lesson 05 ------------------------------------------------------------------------------------
_RF_CASES: list[list[tuple[int, int]]] = [
    [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)],  # the classic PatchGAN: 70
    [(4, 2), (4, 1), (4, 1)],                  # lesson 05's PatchGAN for 32 x 32 digits: 16
    [(3, 1), (3, 1), (3, 1)],                  # three 3 x 3 convolutions: 7
    [(4, 2)],                                  # one layer: its kernel, 4
    [(3, 2), (3, 2), (3, 2)],                  # 15
    [(7, 2), (3, 2), (3, 1), (1, 1)],          # 19
    [(2, 2), (2, 2), (2, 2), (2, 2)],          # 16
    [(5, 1), (3, 3), (3, 1)],                  # 17
]


def _rf_variant(layers: list[tuple[int, int]], *, start: int = 1, extra: int = -1, jump_first: bool = False,
                add_jump: bool = False, no_jump: bool = False) -> int:
    """The recurrence, or one of the usual slips in it (for the hints of :func:`check_receptive_field`)."""
    field, jump = start, 1
    for kernel, stride in layers:
        if jump_first:
            jump *= stride
        field += (kernel + extra) * (1 if no_jump else jump)
        if not jump_first:
            jump = jump + stride if add_jump else jump * stride
    return field


_RF_SLIPS: list[tuple[Callable[[list[tuple[int, int]]], int], str]] = [
    (lambda ls: _rf_variant(ls, no_jump=True),
     "That is 1 + the sum of (kernel - 1): right for stride-1 layers only. After a stride-2 layer, one step on "
     "the next layer's grid is 2 image pixels: multiply each (kernel - 1) by the jump, the product of the "
     "strides of the layers before it."),
    (lambda ls: _rf_variant(ls, jump_first=True),
     "You multiply the jump by a layer's own stride before adding its (kernel - 1). A layer's stride spaces "
     "the outputs of that layer, which matters only to the layers after it: add (kernel - 1) * jump first, "
     "then update jump *= stride. (One layer of kernel 4, stride 2 sees 4 pixels, not 7.)"),
    (lambda ls: _rf_variant(ls, extra=0),
     "You widen the field by kernel * jump per layer. A kernel of size k reaches k - 1 grid steps beyond "
     "one position: add (kernel - 1) * jump."),
    (lambda ls: _rf_variant(ls, start=0),
     "Your answers are one too small: start from field = 1 (one output value sees at least one pixel) "
     "before the loop."),
    (lambda ls: _rf_variant(ls, start=0, extra=0),
     "You add kernel * jump starting from 0. Start from field = 1 and add (kernel - 1) * jump."),
    (lambda ls: _rf_variant(ls, add_jump=True),
     "The jump grows by multiplication: two stride-2 layers make neighbouring values 4 pixels apart, not "
     "2 + 2. Use jump *= stride."),
    (lambda ls: _rf_variant(list(reversed(ls))),
     "You walk the layers from last to first with the forward recurrence. The list starts at the input: go "
     "through it in order (the jump is the product of the strides *before* each layer)."),
]


def _rf_cases_random() -> list[list[tuple[int, int]]]:
    gen = torch.Generator().manual_seed(5)
    cases = []
    for _ in range(40):
        n = int(torch.randint(1, 6, (), generator=gen))
        cases.append([(int(torch.randint(1, 8, (), generator=gen)), int(torch.randint(1, 4, (), generator=gen)))
                      for _ in range(n)])
    return cases


def check_receptive_field(rf: Callable[[list[tuple[int, int]]], int]) -> CheckResult:
    """Lesson 05: ``rf(layers) -> int``, the receptive field of a stack of (kernel, stride) layers."""
    from ..shapes import receptive_field

    cases = _RF_CASES + _rf_cases_random()
    answers = []
    for layers in cases:
        value, error = _rng_safe(rf, list(layers))
        if error is not None:
            return error
        got = _as_float(value)
        if got is None or isinstance(value, bool):
            return _fail(f"Return the receptive field as a whole number (an int); for {layers} your function "
                         f"returned {type(value).__name__}.")
        if got != int(got):
            return _fail(f"A receptive field is a whole number of pixels; for {layers} your function returned {got}.")
        answers.append(int(got))
    expected = [receptive_field(layers) for layers in cases]
    if answers == expected:
        return CheckResult(True, f"Receptive field correct for {len(cases)} stacks, including the classic PatchGAN's "
                                 f"70 x 70 and lesson 05's 16 x 16.")
    for slip, hint in _RF_SLIPS:
        if answers == [slip(layers) for layers in cases]:
            return _fail(f"For the classic PatchGAN, {_RF_CASES[0]}, the field is 70; yours gives {answers[0]}. {hint}")
    i = next(i for i, (a, e) in enumerate(zip(answers, expected)) if a != e)
    return _fail(f"For the layers {cases[i]} the receptive field is {expected[i]}; yours gives {answers[i]}. Start "
                 f"with field = 1 and jump = 1, then for each layer, first to last: field += (kernel - 1) * jump; "
                 f"jump *= stride.")


def _g_loss_inputs() -> tuple[Tensor, Tensor, Tensor]:
    gen = torch.Generator().manual_seed(7)
    scores = (torch.rand(3, 1, 4, 4, generator=gen) * 8 - 4).requires_grad_(True)   # a map of patch scores
    fake = (torch.rand(3, 1, 8, 8, generator=gen) * 2 - 1).requires_grad_(True)    # as if made by G
    target = torch.rand(3, 1, 8, 8, generator=gen) * 2 - 1
    return scores, fake, target


def _g_loss_slips(scores: Tensor, fake: Tensor, target: Tensor) -> list[tuple[float, str]]:
    s, diff = scores.detach(), (fake - target).detach()
    ones = torch.ones_like(s)
    adv, l1 = F.binary_cross_entropy_with_logits(s, ones), diff.abs().mean()
    return [(float(v), hint) for v, hint in [
        (adv + l1, "You forgot λ: the L1 term is weighted by 100 (translation.L1_WEIGHT)."),
        (adv + 10 * l1, "λ is 100 in Pix2Pix (10 is CycleGAN's weight for its cycle loss)."),
        (100 * adv + l1, "The weight 100 belongs to the L1 term, not to the adversarial one."),
        (100 * (adv + l1), "Only the L1 term is multiplied by 100; the adversarial term keeps weight 1."),
        (adv + 100 * diff.abs().sum(), "Take the mean of |fake - target| over all pixels, not the sum: a sum "
                                       "would make λ depend on the image size and the batch size."),
        (adv + 100 * diff.abs().sum() / len(diff), "Take the mean of |fake - target| over every pixel, not "
                                                   "the sum per image averaged over the batch."),
        (adv + 100 * diff.square().mean(), "That is the squared error (L2). Pix2Pix uses L1, the mean of the "
                                           "absolute differences: (fake - target).abs().mean()."),
        (adv + 100 * diff.square().mean().sqrt(), "That is the root mean squared error; Pix2Pix uses L1, the "
                                                  "mean absolute difference: (fake - target).abs().mean()."),
        (F.binary_cross_entropy_with_logits(torch.sigmoid(s), ones) + 100 * l1,
         "The sigmoid is applied twice: the discriminator returns logits, and binary_cross_entropy_with_logits "
         "applies the sigmoid itself. Pass the raw scores."),
        (F.binary_cross_entropy_with_logits(s, torch.zeros_like(s)) + 100 * l1,
         "Wrong target: 0 is the label the discriminator gives fakes. The generator wants every patch judged "
         "real: target torch.ones_like(fake_scores)."),
        (-F.binary_cross_entropy_with_logits(s, torch.zeros_like(s)) + 100 * l1,
         "That is the minimax loss log(1 - D), which saturates when D rejects the fakes. Use the non-saturating "
         "one: binary cross-entropy with target 1 on the logits."),
        (F.binary_cross_entropy_with_logits(s.mean(), torch.tensor(1.0)) + 100 * l1,
         "You averaged the patch scores before the loss. Apply the loss to every score of the map (labels of "
         "the same shape, torch.ones_like(fake_scores)) and then average: each patch is judged on its own."),
        (F.binary_cross_entropy_with_logits(s, ones, reduction="sum") + 100 * l1,
         "Average the adversarial loss over the patches and the batch (the default reduction), not the sum."),
        (100 * l1, "The adversarial term is missing: add the non-saturating loss on the patch scores."),
        (adv, "The L1 term is missing: add 100 * (fake - target).abs().mean()."),
        (0.5 * (s - 1).square().mean() + 100 * l1, "That is the least-squares (LSGAN) loss. Pix2Pix uses binary "
                                                   "cross-entropy on the logits with target 1."),
        (-s.mean() + 100 * l1, "That is the hinge/Wasserstein generator loss -mean(score). Pix2Pix uses binary "
                               "cross-entropy on the logits with target 1."),
    ]]


def _bce_on_logits_hint(error: CheckResult) -> CheckResult:
    if "between 0 and 1" in error.message:
        return _with_hint(error, "F.binary_cross_entropy (nn.BCELoss) expects probabilities, but the "
                                 "discriminator returns logits: use F.binary_cross_entropy_with_logits.")
    return error


def check_pix2pix_g_loss(g_loss: Callable[[Tensor, Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 05: ``g_loss(fake_scores, fake, target)`` = non-saturating BCE on the patch map + 100 · mean |fake - target|."""
    # 1. Worked by hand: D undecided on every patch (score 0) and every pixel 0.02 off.
    zeros = torch.zeros(2, 1, 3, 3)
    fake0, target0 = torch.zeros(2, 1, 8, 8), torch.full((2, 1, 8, 8), 0.02)
    by_hand = math.log(2) + 100 * 0.02
    hand_text = (f"For a discriminator that is undecided on every patch (all scores 0) and outputs that miss every "
                 f"pixel by 0.02, the loss is log 2 + 100 · 0.02 = {by_hand:.4f}")
    value, error = _rng_safe(g_loss, zeros, fake0, target0)
    if error is not None:
        return _bce_on_logits_hint(error)
    got_hand, error = _scalar(value, "the loss")
    if error is not None:
        return error

    # 2. A random map of scores and random images: the value, the slips, the gradients.
    scores, fake, target = _g_loss_inputs()
    kept = [t.detach().clone() for t in (scores, fake, target)]
    value, error = _rng_safe(g_loss, scores, fake, target)
    if error is not None:
        return _bce_on_logits_hint(error)
    got, error = _scalar(value, "the loss")
    if error is not None:
        return error
    if any(not torch.equal(t.detach(), k) for t, k in zip((scores, fake, target), kept)):
        return _fail("Your function changed its inputs in place. Compute the loss without modifying fake_scores, "
                     "fake or target.")
    ones = torch.ones_like(scores)
    expected = float(F.binary_cross_entropy_with_logits(scores.detach(), ones) + 100 * (fake - target).detach().abs().mean())
    if not (math.isclose(got, expected, rel_tol=1e-4) and math.isclose(got_hand, by_hand, rel_tol=1e-4)):
        for bad, hint in _g_loss_slips(scores, fake, target):
            if math.isclose(got, bad, rel_tol=1e-4):
                return _fail(f"{hand_text}; yours gives {got_hand:.4f}. {hint}")
        if not math.isclose(got_hand, by_hand, rel_tol=1e-4):
            return _fail(f"{hand_text}; yours gives {got_hand:.4f}. Add F.binary_cross_entropy_with_logits(fake_scores, "
                         f"torch.ones_like(fake_scores)) and 100 * (fake - target).abs().mean().")
        return _fail(f"For a random map of scores and random images the loss should be {expected:.4f}; yours gives "
                     f"{got:.4f} (your value for the worked example, {got_hand:.4f}, is right). Use every score of "
                     f"the map with target 1, and the mean absolute difference over every pixel.")
    if not isinstance(value, Tensor) or value.grad_fn is None:
        return _fail("Your loss carries no gradient, so it cannot train the generator. Build it from the tensors "
                     "with torch operations, without .item(), .detach(), float() or torch.no_grad().")
    try:
        value.backward()
    except RuntimeError as err:
        return _fail(f"Backpropagating your loss failed ({err}).")
    grad_fake = 100 * torch.sign(fake.detach() - target) / fake.numel()
    grad_scores = (torch.sigmoid(scores.detach()) - 1) / scores.numel()
    if fake.grad is None or not torch.allclose(fake.grad, grad_fake, atol=1e-6):
        return _fail("The value is right, but the gradient does not reach the generated images as it should. Keep "
                     "the L1 term a function of `fake` (no .detach() on it).")
    if scores.grad is None or not torch.allclose(scores.grad, grad_scores, atol=1e-6):
        return _fail("The value is right, but the gradient does not reach the patch scores (and through them the "
                     "generator). Do not .detach() fake_scores.")
    return CheckResult(True, f"Pix2Pix generator loss correct: {by_hand:.4f} for the worked example, {got:.4f} on a "
                             f"random patch map, and its gradients reach the images and the scores.")


# -- lesson 06 ------------------------------------------------------------------------------------
class _Squash(nn.Module):
    """A stand-in generator for the lesson 06 checks: tanh(w·x + b) pixel by pixel, with trainable w and b."""

    def __init__(self, w: float, b: float) -> None:
        super().__init__()
        self.w, self.b = nn.Parameter(torch.tensor(w)), nn.Parameter(torch.tensor(b))

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.w * x + self.b)


def check_cycle_consistency(cycle_fn: Callable[[nn.Module, nn.Module, Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 06: ``cycle_fn(G_AB, G_BA, a, b)`` = λ (mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|), λ = 10."""
    lam = 10.0
    gen = torch.Generator().manual_seed(6)
    a = torch.rand(6, 1, 5, 5, generator=gen) * 2 - 1
    b = torch.rand(6, 1, 5, 5, generator=gen) * 2 - 1
    G_AB, G_BA = _Squash(1.5, 0.3), _Squash(0.7, -0.2)

    def l1(x: Tensor, y: Tensor) -> Tensor:
        return (x - y).abs().mean()

    def l2(x: Tensor, y: Tensor) -> Tensor:
        return (x - y).square().mean()

    with torch.no_grad():
        rec_a, rec_b = G_BA(G_AB(a)), G_AB(G_BA(b))
        right_a, right_b = float(l1(rec_a, a)), float(l1(rec_b, b))
        expected = lam * (right_a + right_b)
        wrong = {  # what common slips give, and what to say about them
            right_a + right_b: "That is the sum without λ: multiply it by λ = 10 (translation.CYCLE_WEIGHT).",
            lam * right_a: "That is only the A -> B -> A cycle. Add the other direction, |G_AB(G_BA(b)) - b|.",
            lam * right_b: "That is only the B -> A -> B cycle. Add the other direction, |G_BA(G_AB(a)) - a|.",
            0.5 * lam * (right_a + right_b): "That is λ times the average of the two directions, or λ = 5 (which is "
                                             "the identity loss's weight). Add the two cycle losses and multiply by 10.",
            lam * float(l2(rec_a, a) + l2(rec_b, b)): "That is the squared (L2) error. CycleGAN uses the L1 error, "
                                                     "the mean of |reconstruction - original|, which blurs less.",
            lam * float(l1(G_AB(a), a) + l1(G_BA(b), b)): "That compares G_AB(a) with a. The cycle goes there and "
                                                         "back: compare G_BA(G_AB(a)) with a (and G_AB(G_BA(b)) with b).",
            lam * float(l1(G_AB(G_BA(a)), a) + l1(G_BA(G_AB(b)), b)): "The generators are applied in the wrong "
                "order: a is in domain A, so it goes through G_AB first and comes back with G_BA: G_BA(G_AB(a)).",
            lam * float((rec_a - a).abs().sum() + (rec_b - b).abs().sum()): "That is the sum over all pixels; take "
                                                                           "the mean (as F.l1_loss does).",
        }
    value, error = _rng_safe(cycle_fn, G_AB, G_BA, a, b)
    if error is not None:
        return error
    got, error = _scalar(value, "the cycle-consistency loss")
    if error is not None:
        return error
    if not math.isclose(got, expected, rel_tol=1e-4):
        for bad, hint in wrong.items():
            if math.isclose(got, bad, rel_tol=1e-4):
                return _fail(f"On the test batch the loss should be {expected:.4f}; yours gives {got:.4f}. {hint}")
        return _fail(f"On the test batch the loss should be {expected:.4f}; yours gives {got:.4f}. Compute "
                     f"10 * (mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|).")

    # The loss must train both generators, through both cycles.
    reference = lam * (l1(G_BA(G_AB(a)), a) + l1(G_AB(G_BA(b)), b))
    want = torch.autograd.grad(reference, list(G_AB.parameters()) + list(G_BA.parameters()))
    if value.grad_fn is None:
        return _fail("Your loss has the right value but carries no gradient, so it cannot train the generators. "
                     "Do not compute it under torch.no_grad() or call .detach() / .item() on it.")
    G_AB.zero_grad(set_to_none=True)
    G_BA.zero_grad(set_to_none=True)
    value.backward()
    got_grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in (*G_AB.parameters(), *G_BA.parameters())]
    if not all(torch.allclose(g, w, rtol=1e-4, atol=1e-6) for g, w in zip(got_grads, want)):
        return _fail("Your loss has the right value, but its gradient does not reach both generators fully. Do not "
                     "detach the translations: in G_BA(G_AB(a)) the error must flow back through G_BA *and* G_AB, "
                     "so that the generator that made the translation learns to keep what is needed to undo it.")
    return CheckResult(True, f"Cycle-consistency loss correct: λ = 10 times the L1 error of both round trips, with "
                             f"gradients through both generators ({got:.4f} on the test batch).")


def _tagged(tags: list[float] | Tensor) -> list[Tensor]:
    """Images (1, 2, 2) whose pixels all hold one tag value, so every image can be recognised later."""
    return [torch.full((1, 2, 2), float(t)) for t in tags]


def _tags(images: Any) -> list[float]:
    return [round(float(x.detach().flatten()[0]), 4) for x in images]


def _pool_call(pool_fn: Callable[..., Any], pool: list[Tensor], fakes: Tensor, size: int, p: float,
               seed: int, global_seed: int = 4) -> tuple[Tensor | None, CheckResult | None]:
    gen = torch.Generator().manual_seed(seed)
    out, error = _rng_safe(pool_fn, pool, fakes, size, p, gen, seed=global_seed)
    if error is not None:
        return None, error
    if isinstance(out, (list, tuple)):
        return None, _fail("Return one tensor, the batch for the discriminator: torch.stack(the list of images).")
    if not isinstance(out, Tensor) or out.shape != fakes.shape:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        return None, _fail(f"Return a batch of the shape of `fakes`, {tuple(fakes.shape)}; got {got}.")
    if not isinstance(pool, list) or not all(isinstance(x, Tensor) for x in pool):
        return None, _fail("Keep the pool as the list you are given, holding one image tensor (C, H, W) per entry.")
    return out, None


def check_pool_query(pool_fn: Callable[..., Tensor]) -> CheckResult:
    """Lesson 06: ``pool_fn(pool_images, fakes, size, p, generator) -> batch``, CycleGAN's image pool (one query)."""
    # 1. Not full yet: store every new fake (detached) and return it.
    source = torch.arange(1.0, 5.0).requires_grad_(True)
    fakes = source[:, None, None, None].expand(4, 1, 2, 2) * 1.0  # four fakes that came out of "a generator"
    pool: list[Tensor] = []
    out, error = _pool_call(pool_fn, pool, fakes, 10, 0.5, seed=0)
    if error is not None:
        return error
    if _tags(out) != [1.0, 2.0, 3.0, 4.0]:
        return _fail(f"While the pool is not full, return the new fakes themselves; an empty pool of size 10 "
                     f"given fakes tagged 1, 2, 3, 4 returned {_tags(out)}.")
    if _tags(pool) != [1.0, 2.0, 3.0, 4.0]:
        return _fail(f"While the pool is not full, store every new fake in it (append to the list); after one "
                     f"batch of 4 it should hold images 1, 2, 3, 4; it holds {_tags(pool) or 'nothing'}.")
    if out.requires_grad or any(x.requires_grad for x in pool):
        return _fail("The images you return (or store) still carry the generator's gradient graph. The pool feeds "
                     "only the discriminator's step: .detach() the fakes first.")

    # 2. Filling up: only `size` images are kept.
    out, error = _pool_call(pool_fn, pool, torch.stack(_tagged([5, 6, 7, 8, 9, 10, 11, 12])), 10, 0.5, seed=1)
    if error is not None:
        return error
    if len(pool) != 10:
        return _fail(f"A pool of size 10 must hold at most 10 images, and 10 once it has seen 12; yours holds "
                     f"{len(pool)}. Append only while len(pool_images) < size; afterwards swap.")
    kept = [t for t in _tags(pool) if 1 <= t <= 10]  # the last two fakes may each have swapped one out
    if _tags(out)[:6] != [5.0, 6.0, 7.0, 8.0, 9.0, 10.0] or len(kept) < 8 or len(set(kept)) != len(kept):
        return _fail("With 4 images in a pool of size 10, the next 6 fakes must be stored and returned as they "
                     "are, in order; only the fakes after that may be swapped.")

    # 3. size 0: no pool at all.
    empty: list[Tensor] = []
    out, error = _pool_call(pool_fn, empty, torch.stack(_tagged([1, 2, 3])), 0, 0.5, seed=2)
    if error is not None:
        return _with_hint(error, "That was with size = 0, which means no pool at all: return the fakes unchanged.")
    if _tags(out) != [1.0, 2.0, 3.0] or empty:
        return _fail("With size = 0 there is no pool: return the fakes unchanged and store nothing.")

    # 4. A full pool, many queries: what comes out, what stays, how often it swaps.
    for p in (0.5, 0.2):
        pool = _tagged(range(100, 150))                     # 50 old fakes, tags 100..149
        before = sorted(_tags(pool))
        new_tags, returned = list(range(1000, 3000)), []
        for start in range(0, len(new_tags), 20):
            batch = torch.stack(_tagged(new_tags[start:start + 20]))
            out, error = _pool_call(pool_fn, pool, batch, 50, p, seed=10 + start)
            if error is not None:
                return error
            returned += _tags(out)
            if len(pool) != 50:
                return _fail(f"Once full, the pool must stay at its size (50); yours holds {len(pool)} images. When "
                             f"you return an old image, put the new fake in *its* place: pool_images[i] = fake.")
        if sorted(returned + _tags(pool)) != sorted(before + [float(t) for t in new_tags]):
            return _fail("Images got lost or duplicated: every image that comes in must either be returned or stay "
                         "in the pool. When you return a stored image pool_images[i], the new fake takes its place "
                         "(pool_images[i] = fake); otherwise return the new fake and leave the pool alone.")
        swapped = sum(t != n for t, n in zip(returned, new_tags)) / len(new_tags)  # an old image came back
        if abs(swapped - p) > 0.05:
            flipped = abs(swapped - (1 - p)) <= 0.05
            hint = ("That is 1 - p: return a stored image when the draw is *below* p, "
                    "torch.rand((), generator=generator) < p." if flipped else
                    "Draw once per image, torch.rand((), generator=generator), and swap when it is below p.")
            return _fail(f"With p = {p}, a full pool should hand back an old image for about {p:.0%} of the fakes; "
                         f"yours did for {swapped:.0%}. {hint}")
        if p == 0.5:
            old_seen = {t for t in returned if 100 <= t < 150}
            if len(old_seen) < 40:
                return _fail(f"In 2,000 queries, only {len(old_seen)} of the 50 images first in the pool were ever "
                             f"handed back. Pick the image to swap uniformly at random: "
                             f"i = int(torch.randint(size, (), generator=generator)).")

    # 5. Its random numbers come from the generator it is given, not from the global ones.
    runs = []
    for global_seed in (4, 5):
        pool = _tagged(range(100, 150))
        out, error = _pool_call(pool_fn, pool, torch.stack(_tagged(range(1000, 1040))), 50, 0.5, seed=3,
                                global_seed=global_seed)
        if error is not None:
            return error
        runs.append(_tags(out))
    if runs[0] != runs[1]:
        return _fail("Your pool draws from the global random numbers. Pass generator=generator to torch.rand and "
                     "torch.randint, so that the pool's draws are reproducible and saved in checkpoints.")
    return CheckResult(True, "Image pool correct: it stores fakes until full, then hands back a random old image "
                             "with probability p and keeps the new one in its place, all detached, with draws "
                             "from its own generator.")
