"""Lesson 05 (notebooks/05_pix2pix.ipynb): the checkers of Pix2Pix's exercises, the PatchGAN's receptive
field and the generator's loss (adversarial + 100 · L1).
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from ..shapes import receptive_field
from .core import CheckResult, _as_float, _fail, _rng_safe, _scalar, _slip_hint, _with_hint

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
        (adv + l1, "You forgot λ: the L1 term is weighted by 100 (ganlib.papers.pix2pix.L1_WEIGHT)."),
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
        hint = _slip_hint(got, _g_loss_slips(scores, fake, target))
        if hint is not None:
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
