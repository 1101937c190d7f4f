"""Schedules: how a rate changes over training (CycleGAN's linear decay, lesson 06).

:class:`ganlib.training.Trainer` steps every learning-rate scheduler it holds in its ``state`` once
per generator step, whatever ``n_critic`` is, so a schedule written in generator steps means the
same in every lesson.
"""

from __future__ import annotations

import torch

from .validate import check_positive


def linear_decay_factor(step: int, n_constant: int, n_decay: int) -> float:
    """The learning-rate multiplier of :func:`linear_decay` at ``step``: 1 up to ``n_constant``, then down to 0.

    ``1 - (step - n_constant) / n_decay`` once ``step`` passes ``n_constant``; 0 from
    ``n_constant + n_decay`` on.
    """
    if not isinstance(n_constant, int) or n_constant < 0:
        raise ValueError(f"n_constant must be a whole number >= 0; got {n_constant!r}.")
    check_positive(n_decay=n_decay)
    return min(1.0, max(0.0, 1.0 - (step - n_constant) / n_decay))


def linear_decay(optimizer: torch.optim.Optimizer, n_constant: int, n_decay: int) -> torch.optim.lr_scheduler.LambdaLR:
    """CycleGAN's schedule (lesson 06): the initial learning rate for ``n_constant`` steps, then linear to 0.

    A ``LambdaLR`` with :func:`linear_decay_factor`. Put it in the Trainer's ``state`` and the loop
    steps it once per generator step (the paper counts epochs: 100 constant, then 100 decaying).
    Training for ``n_constant + n_decay`` steps, the last uses ``1 / n_decay`` of the initial rate.
    """
    linear_decay_factor(0, n_constant, n_decay)  # checks the arguments
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: linear_decay_factor(step, n_constant, n_decay))
