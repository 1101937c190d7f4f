"""Checkers for the exercises: what every lesson's checker shares.

Each checker takes the learner's function and says, in plain words, what is wrong. A checker never
raises: an unfinished exercise prints a message and the notebook runs on. It returns a
:class:`CheckResult`, which is truthy when the exercise passes. The checkers themselves live in one
file per lesson (``lessonNN_<topic>.py``); this module holds only the pieces several of them use.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import Tensor, nn

from ..data import Batches, load_mnist
from ..evaluation import metrics
from ..losses import AdversarialLoss
from ..sampling import fixed_noise, generate
from ..training import Trainer, gan_steps


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one exercise."""

    passed: bool
    message: str
    images: Tensor | None = field(default=None, repr=False, compare=False)  # samples, for checks that train

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


def _rng_safe(fn: Callable[..., Any], *args: Any, seed: int = 4) -> tuple[Any, CheckResult | None]:
    """:func:`_call` with its own random numbers, leaving the notebook's random state as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return _call(fn, *args)


def _with_hint(error: CheckResult, hint: str) -> CheckResult:
    return _fail(error.message.rstrip(". ") + ". " + hint)


def _slip_hint(got: float, slips: Any, rel_tol: float = 1e-4, abs_tol: float = 0.0) -> str | None:
    """The hint for the first known slip whose value ``got`` matches; ``slips`` is a ``{value: hint}``
    mapping or ``(value, hint)`` pairs. None when the answer matches none of them."""
    pairs = slips.items() if hasattr(slips, "items") else slips
    return next((hint for bad, hint in pairs if math.isclose(got, bad, rel_tol=rel_tol, abs_tol=abs_tol)), None)


def _scalar(value: Any, what: str) -> tuple[float | None, CheckResult | None]:
    if not isinstance(value, Tensor):
        return None, _fail(f"Return {what} as a tensor (so that it can be backpropagated); got {type(value).__name__}.")
    if value.numel() != 1:
        return None, _fail(f"Return one number, the mean over the batch; got a tensor of shape {tuple(value.shape)}.")
    return float(value.detach()), None


@dataclass(frozen=True)
class BriefRun:
    """What :func:`_train_briefly` measured."""

    fid: float
    coverage: metrics.Coverage
    samples: Tensor
    seconds: float


def _train_briefly(G: nn.Module, D: nn.Module, *, steps: int, lr: float, z_dim: int = 100, batch_size: int = 64,
                   pad: int = 0, seed: int = 0, n_samples: int = 5_000) -> BriefRun:
    """Train ``G`` against ``D`` on MNIST with the non-saturating loss and Adam (betas 0.5, 0.999), then score it.

    For checks whose exercise is a design that must also train. Everything runs under its own seed,
    leaving the notebook's random state as it was. ``pad`` pads the digits with background (e.g. 2
    for 32 x 32 images); the samples are cropped back to 28 x 28 for the evaluator.
    """
    device = next(G.parameters()).device
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        images, _ = load_mnist(device=device)
        if pad:
            images = torch.nn.functional.pad(images, (pad,) * 4, value=-1.0)
        opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
        opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
        d_step, g_step = gan_steps(G, D, opt_g, opt_d, AdversarialLoss("nonsaturating"), z_dim)
        start = time.perf_counter()
        Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step,
                Batches(images, batch_size=batch_size, seed=seed)).fit(steps)
        seconds = time.perf_counter() - start
        samples = generate(G, fixed_noise(n_samples, z_dim, seed=12345, device=device))
        evaluator = metrics.default_evaluator(device)  # building it the first time draws random numbers
    if pad:
        samples = samples[:, :, pad:-pad, pad:-pad]
    return BriefRun(metrics.classifier_fid(samples, evaluator), metrics.coverage(samples, evaluator), samples, seconds)
