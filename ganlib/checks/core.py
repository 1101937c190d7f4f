"""Checkers for the exercises: what every lesson's checker shares.

Each checker takes the learner's function and says, in plain words, what is wrong. A checker never
raises: an unfinished exercise prints a message and the notebook runs on. It returns a
:class:`CheckResult`, which is truthy when the exercise passes. The checkers themselves live in one
file per lesson (``lessonNN_<topic>.py``); this module holds only the pieces several of them use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor


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


def _rng_safe(fn: Callable[..., Any], *args: Any, seed: int = 4) -> tuple[Any, CheckResult | None]:
    """:func:`_call` with its own random numbers, leaving the notebook's random state as it was."""
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        return _call(fn, *args)


def _with_hint(error: CheckResult, hint: str) -> CheckResult:
    return _fail(error.message.rstrip(". ") + ". " + hint)


def _scalar(value: Any, what: str) -> tuple[float | None, CheckResult | None]:
    if not isinstance(value, Tensor):
        return None, _fail(f"Return {what} as a tensor (so that it can be backpropagated); got {type(value).__name__}.")
    if value.numel() != 1:
        return None, _fail(f"Return one number, the mean over the batch; got a tensor of shape {tuple(value.shape)}.")
    return float(value.detach()), None
