"""One adversarial-loss interface for every lesson (lesson 00 derives it, lesson 01 uses it).

Discriminators return raw scores (logits); the loss decides how to read them::

    loss = AdversarialLoss("nonsaturating")
    d_real = loss(D(real), target_is_real=True)    # the discriminator's side
    d_fake = loss(D(fake), target_is_real=False)
    g_loss = loss.generator(D(fake))               # the generator's side

Modes (each lesson that brings one adds it to ``MODES``):

* ``minimax``: the original game. D minimises the binary cross-entropy
  ``-log sigmoid(s)`` on real and ``-log(1 - sigmoid(s))`` on fake scores; G minimises
  ``log(1 - sigmoid(s))`` on its fakes, the exact other side of D's objective. Its gradient vanishes
  when D confidently rejects the fakes, which is exactly the start of training.
* ``nonsaturating``: D as above; G instead minimises ``-log sigmoid(s)`` ("fool D"), which has
  the same fixed point and strong gradients when the fakes are bad. Use this one in practice.
* ``lsgan`` (Mao et al., 2017): least squares on the raw score with targets a (fake), b (real) and
  c (what G wants D to say): D minimises ``½ (s_real - b)² + ½ (s_fake - a)²``, G minimises
  ``½ (s_fake - c)²``; here a = 0, b = c = 1 (:data:`LSGAN_TARGETS`). Fakes that are far from the
  real data on the right side of the boundary still get a gradient.
* ``hinge`` (Lim and Ye, 2017; used by SN-GAN and BigGAN): D minimises ``relu(1 - s_real) +
  relu(1 + s_fake)``, G minimises ``-s_fake``.
* ``wasserstein`` (Arjovsky et al., 2017): the critic minimises ``s_fake - s_real`` (an estimate of
  minus the Wasserstein-1 distance, if the critic is 1-Lipschitz: clip its weights or add
  :func:`gradient_penalty`), G minimises ``-s_fake``.
* ``relativistic`` (relativistic average GAN, Jolicoeur-Martineau, 2018; used by ESRGAN, Wang et al.,
  2018): D judges whether a real image looks *more* real than the average fake,
  ``D_Ra(x_r, x_f) = sigmoid(s_r - mean(s_f))``. D minimises ``-log D_Ra(x_r, x_f) - log(1 - D_Ra(x_f, x_r))``,
  G the same with the targets swapped, so the generator's loss needs the real scores too:
  ``loss.generator(s_fake, s_real)``. A mode says so in its table entry (``needs_real``).

The cross-entropy modes are written with ``binary_cross_entropy_with_logits``, stable for large scores.
Every mode reads raw scores: no sigmoid at the end of D. Every loss is a mean over all score
elements, so patch discriminators ((N, 1, H, W) maps) work unchanged.

Besides the adversarial losses: :func:`gradient_penalty` (WGAN-GP, lesson 04) and :func:`l1_loss`,
the pixel loss of Pix2Pix and CycleGAN (lessons 05 and 06).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .validate import check_same_shape


def _bce(pred: Tensor, target_is_real: bool) -> Tensor:
    target = torch.ones_like(pred) if target_is_real else torch.zeros_like(pred)
    return F.binary_cross_entropy_with_logits(pred, target)


@dataclass(frozen=True)
class LossMode:
    """What one mode does, on raw scores.

    ``discriminator(s_real, s_fake) -> (real part, fake part)``; ``generator(s_fake, s_real)`` (the real
    scores are ``None`` unless ``needs_real``); ``criterion(s, target_is_real)``, for the modes whose
    discriminator loss is a sum of one term per side, is what ``loss(pred, target_is_real)`` calls.
    """

    discriminator: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]]
    generator: Callable[[Tensor, "Tensor | None"], Tensor]
    description: str
    criterion: Callable[[Tensor, bool], Tensor] | None = None
    needs_real: bool = False


def _per_side(criterion: Callable[[Tensor, bool], Tensor], generator: Callable[[Tensor], Tensor],
              description: str) -> LossMode:
    """A mode whose discriminator loss is ``criterion(s_real, True) + criterion(s_fake, False)``."""
    return LossMode(lambda real, fake: (criterion(real, True), criterion(fake, False)),
                    lambda fake, _real: generator(fake), description, criterion)


LSGAN_TARGETS = {"a": 0.0, "b": 1.0, "c": 1.0}  # fake, real, and what G wants D to output


def _least_squares(pred: Tensor, target_is_real: bool) -> Tensor:
    target = LSGAN_TARGETS["b"] if target_is_real else LSGAN_TARGETS["a"]
    return 0.5 * (pred - target).square().mean()


def _hinge(pred: Tensor, target_is_real: bool) -> Tensor:
    return F.relu(1.0 - pred).mean() if target_is_real else F.relu(1.0 + pred).mean()


def _critic(pred: Tensor, target_is_real: bool) -> Tensor:
    return -pred.mean() if target_is_real else pred.mean()


def _relativistic(first: Tensor, second: Tensor, first_is_real: bool) -> tuple[Tensor, Tensor]:
    """The two terms of the relativistic average loss, from the side whose first scores are real (or not)."""
    return (_bce(first - second.mean(), first_is_real), _bce(second - first.mean(), not first_is_real))


MODES: dict[str, LossMode] = {
    "minimax": _per_side(_bce, lambda pred: -_bce(pred, False), "G minimises log(1 - D(G(z))): saturates"),
    "nonsaturating": _per_side(_bce, lambda pred: _bce(pred, True), "G minimises -log D(G(z)): the usual choice"),
    "lsgan": _per_side(_least_squares, lambda pred: 0.5 * (pred - LSGAN_TARGETS["c"]).square().mean(),
                       "least squares on raw scores, targets a=0 (fake), b=1 (real), c=1 (G)"),
    "hinge": _per_side(_hinge, lambda pred: -pred.mean(), "D: relu(1 - s_real) + relu(1 + s_fake); G: -s_fake"),
    "wasserstein": _per_side(_critic, lambda pred: -pred.mean(),
                             "critic: s_fake - s_real (needs a Lipschitz critic); G: -s_fake"),
    "relativistic": LossMode(lambda real, fake: _relativistic(real, fake, True),
                             lambda fake, real: sum(_relativistic(real, fake, False)),
                             "relativistic average: is a real image more real than the average fake?",
                             needs_real=True),
}


def gradient_penalty(critic: Callable[[Tensor], Any], real: Tensor, fake: Tensor) -> Tensor:
    """WGAN-GP's penalty (Gulrajani et al., 2017): mean of (‖∇ critic(x̂)‖₂ - 1)² at random interpolates.

    x̂ = ε·real + (1 - ε)·fake with one ε ~ U(0, 1) per sample. The gradient is taken with
    ``create_graph=True`` so that the penalty's own gradient reaches the critic's weights; multiply
    by λ (10 in the paper) and add it to the critic's loss. A critic that returns a tuple, such as
    ``(score, class_logits)`` (StarGAN, the semi-supervised GAN), is penalised on its first element,
    the real/fake score. Do not wrap this in ``torch.compile``: compiled graphs can silently drop
    the second-order gradient it needs.
    """
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape; got {tuple(real.shape)} and {tuple(fake.shape)}.")
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), device=real.device, dtype=real.dtype)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(mixed)
    if isinstance(scores, (tuple, list)):
        scores = scores[0]
    if not isinstance(scores, Tensor):
        raise ValueError(f"the critic must return scores as a tensor (or a tuple whose first element is the "
                         f"score); got {type(scores).__name__}.")
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    return (grad.flatten(1).norm(2, dim=1) - 1).square().mean()


def l1_loss(output: Tensor, target: Tensor) -> Tensor:
    """The pixel loss ``mean |target - output|`` of Pix2Pix (lesson 05) and CycleGAN's cycle and identity
    terms (lesson 06). Unlike ``F.l1_loss`` it refuses tensors of different shapes instead of
    broadcasting them."""
    check_same_shape(output, target, "l1_loss")
    return (output - target).abs().mean()


class DiscriminatorLoss(NamedTuple):
    """The discriminator's loss and its parts, for logging: ``total = real + fake``."""

    total: Tensor
    real: Tensor
    fake: Tensor


class AdversarialLoss:
    """``loss(pred, target_is_real)`` for the discriminator, ``loss.generator(pred)`` for the generator.

    ``loss.discriminator(s_real, s_fake)`` returns the discriminator's loss with its parts, in every
    mode; ``loss.generator(s_fake, s_real)`` passes the real scores to modes that need them
    (``loss.needs_real``: the relativistic loss).
    """

    def __init__(self, mode: str = "nonsaturating") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown loss mode {mode!r}; expected one of: {', '.join(MODES)}.")
        self.mode = mode
        self._impl = MODES[mode]
        self.needs_real = self._impl.needs_real

    def __call__(self, pred: Tensor, target_is_real: bool) -> Tensor:
        """The discriminator's criterion on scores ``pred`` that should be judged real or fake."""
        if not isinstance(target_is_real, bool):
            raise TypeError(f"target_is_real must be True or False; got {target_is_real!r}.")
        if self._impl.criterion is None:
            raise TypeError(f"the {self.mode!r} loss compares real and fake scores, so it has no criterion for "
                            f"one side alone; call loss.discriminator(s_real, s_fake) instead.")
        return self._impl.criterion(pred, target_is_real)

    def generator(self, pred_fake: Tensor, pred_real: Tensor | None = None) -> Tensor:
        """The generator's loss on the discriminator's scores of generated images (and of real ones,
        for the relativistic loss)."""
        if self.needs_real and pred_real is None:
            raise ValueError(f"the {self.mode!r} generator loss needs the real images' scores too: "
                             f"loss.generator(D(fake), D(real)).")
        return self._impl.generator(pred_fake, pred_real)

    def discriminator(self, pred_real: Tensor, pred_fake: Tensor) -> DiscriminatorLoss:
        """The discriminator's loss on real and fake scores, with its parts."""
        real, fake = self._impl.discriminator(pred_real, pred_fake)
        return DiscriminatorLoss(real + fake, real, fake)

    def __repr__(self) -> str:
        return f"AdversarialLoss({self.mode!r})"
