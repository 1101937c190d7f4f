"""One adversarial-loss interface for every lesson (lesson 00 derives it, lesson 01 uses it).

Discriminators return raw scores (logits); the loss decides how to read them::

    loss = AdversarialLoss("nonsaturating")
    d_real = loss(D(real), target_is_real=True)    # the discriminator's side
    d_fake = loss(D(fake), target_is_real=False)
    g_loss = loss.generator(D(fake))               # the generator's side

Modes (later lessons add theirs to ``MODES``):

* ``minimax``: the original game. D minimises the binary cross-entropy
  ``-log sigmoid(s)`` on real and ``-log(1 - sigmoid(s))`` on fake scores; G minimises
  ``log(1 - sigmoid(s))`` on its fakes, the exact other side of D's objective. Its gradient vanishes
  when D confidently rejects the fakes, which is exactly the start of training.
* ``nonsaturating``: D as above; G instead minimises ``-log sigmoid(s)`` ("fool D"), which has
  the same fixed point and strong gradients when the fakes are bad. Use this one in practice.

Both are written with ``binary_cross_entropy_with_logits``, which is stable for large scores.
Targets are broadcast to the shape of the scores, so patch discriminators work unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor


def _bce(pred: Tensor, target_is_real: bool) -> Tensor:
    target = torch.ones_like(pred) if target_is_real else torch.zeros_like(pred)
    return F.binary_cross_entropy_with_logits(pred, target)


@dataclass(frozen=True)
class LossMode:
    """What one mode does: the discriminator's criterion and the generator's loss, both on scores."""

    discriminator: Callable[[Tensor, bool], Tensor]
    generator: Callable[[Tensor], Tensor]
    description: str


MODES: dict[str, LossMode] = {
    "minimax": LossMode(_bce, lambda pred: -_bce(pred, False), "G minimises log(1 - D(G(z))): saturates"),
    "nonsaturating": LossMode(_bce, lambda pred: _bce(pred, True), "G minimises -log D(G(z)): the usual choice"),
}


class DiscriminatorLoss(NamedTuple):
    """The discriminator's loss and its parts, for logging: ``total = real + fake``."""

    total: Tensor
    real: Tensor
    fake: Tensor


class AdversarialLoss:
    """``loss(pred, target_is_real)`` for the discriminator, ``loss.generator(pred)`` for the generator."""

    def __init__(self, mode: str = "nonsaturating") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown loss mode {mode!r}; expected one of: {', '.join(MODES)}.")
        self.mode = mode
        self._impl = MODES[mode]

    def __call__(self, pred: Tensor, target_is_real: bool) -> Tensor:
        """The discriminator's criterion on scores ``pred`` that should be judged real or fake."""
        if not isinstance(target_is_real, bool):
            raise TypeError(f"target_is_real must be True or False; got {target_is_real!r}.")
        return self._impl.discriminator(pred, target_is_real)

    def generator(self, pred_fake: Tensor) -> Tensor:
        """The generator's loss on the discriminator's scores of generated images."""
        return self._impl.generator(pred_fake)

    def discriminator(self, pred_real: Tensor, pred_fake: Tensor) -> DiscriminatorLoss:
        """The discriminator's loss on real and fake scores, with its parts."""
        real, fake = self(pred_real, True), self(pred_fake, False)
        return DiscriminatorLoss(real + fake, real, fake)

    def __repr__(self) -> str:
        return f"AdversarialLoss({self.mode!r})"
