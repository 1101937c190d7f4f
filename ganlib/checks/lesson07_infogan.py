"""Lesson 07 (notebooks/07_infogan.ipynb): the checkers of the InfoGAN exercises, the categorical
information loss and reading what each continuous code controls from the measurements.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import CheckResult, _call, _fail

CONTROL = 0.5  # a code "controls" a measure when its correlation with it is at least this large in size

_LOGITS = torch.tensor([[2.0, -1.0, 0.5, 0.0], [0.1, 0.2, 3.0, -2.0], [-1.0, -1.0, -1.0, 4.0],
                        [180.0, -150.0, 0.0, 30.0], [-200.0, 0.0, -120.0, 1.0]])
_CODES = torch.tensor([0, 2, 1, 1, 0])  # the last two: Q confidently wrong, as early in training


def check_categorical_info_loss(loss_fn: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 07: ``loss_fn(cat_logits (N, K), cat (N,)) -> -mean log Q(c | x)``, from logits, stable for any logit."""
    logits = _LOGITS.clone().requires_grad_(True)
    value, error = _call(loss_fn, logits, _CODES.clone())
    if error is not None:
        return error
    if not isinstance(value, Tensor):
        return _fail(f"Return the loss as a tensor (so that it can be backpropagated); got {type(value).__name__}.")
    if value.numel() == len(_CODES) and value.numel() != 1:
        return _fail(f"Return one number, the mean over the batch; got {tuple(value.shape)}: one value per image.")
    if value.numel() != 1:
        return _fail(f"Return one number, the mean over the batch; got a tensor of shape {tuple(value.shape)}.")
    got = float(value.detach())
    expected = float(F.cross_entropy(_LOGITS, _CODES))
    if not math.isfinite(got):
        return _fail(f"Got {got} on logits as large as 200 (a confident, wrong Q early in training): exp() overflows or "
                     "log(0) appears. Work in log space: F.log_softmax or F.cross_entropy on the logits.")
    if math.isclose(got, -expected, rel_tol=1e-4):
        return _fail("The sign is flipped: return -mean log Q(c|x), a loss to minimise (small when Q guesses well).")
    if math.isclose(got, math.log(_LOGITS.shape[1]) - expected, rel_tol=1e-4):
        return _fail("That is the bound L_I = H(c) - cross-entropy, the quantity to *maximise*. Return the loss to "
                     "minimise, the cross-entropy -mean log Q(c|x); H(c) is a constant and drops out.")
    double = float(F.cross_entropy(_LOGITS.softmax(1), _CODES))
    if math.isclose(got, double, rel_tol=1e-4):
        return _fail("You applied softmax before F.cross_entropy, which applies log-softmax itself: pass the logits.")
    if math.isclose(got, float(-_LOGITS[torch.arange(5), _CODES].mean()), rel_tol=1e-4):
        return _fail("F.nll_loss expects log-probabilities: feed it F.log_softmax(logits, 1), or use F.cross_entropy.")
    if math.isclose(got, expected * len(_CODES), rel_tol=1e-4):
        return _fail("Take the mean over the batch, not the sum.")
    if not math.isclose(got, expected, rel_tol=1e-4):
        return _fail(f"Expected {expected:.4f} on the test logits, got {got:.4f}. The loss is -mean_i log Q(c_i | x_i), "
                     "where log Q is the log-softmax of the logits at each image's code.")
    if not value.requires_grad:
        return _fail("The value is right but carries no gradient: no .item(), .detach() or numpy inside.")
    value.backward()
    expected_grad = (F.softmax(_LOGITS, 1) - F.one_hot(_CODES, 4)) / len(_CODES)
    if logits.grad is None or not torch.allclose(logits.grad, expected_grad, atol=1e-5):
        return _fail("The value is right but its gradient is not; compute it from the logits with F.cross_entropy.")
    return CheckResult(True, f"Categorical information loss correct ({got:.4f} on the test logits, stable at ±200).")


# (table of correlations, the expected reading, what the table teaches)
_TABLES: list[tuple[dict[str, float], dict[str, int | None], str]] = [
    (dict(c1_width=0.93, c1_slant=0.12, c2_width=-0.08, c2_slant=0.90, z1_width=0.2, z1_slant=0.1, z2_width=0.0, z2_slant=-0.3),
     {"width": 1, "slant": 2}, "code 1 widens the strokes, code 2 slants them"),
    (dict(c1_width=0.05, c1_slant=-0.91, c2_width=-0.86, c2_slant=0.2, z1_width=0.1, z1_slant=0.3, z2_width=-0.2, z2_slant=0.0),
     {"width": 2, "slant": 1}, "both correlations negative: a code that thins the strokes as it grows still controls width"),
    (dict(c1_width=0.3, c1_slant=0.95, c2_width=-0.2, c2_slant=0.55, z1_width=0.45, z1_slant=0.1, z2_width=0.0, z2_slant=0.2),
     {"width": None, "slant": 1}, f"no code reaches |r| >= {CONTROL} for width; for slant the stronger code wins"),
    (dict(c1_width=0.1, c1_slant=0.2, c2_width=0.0, c2_slant=-0.1, z1_width=0.6, z1_slant=0.0, z2_width=0.1, z2_slant=0.7),
     {"width": None, "slant": None}, "only noise dimensions move width and slant here: the codes control neither"),
]


def check_code_reading(read_codes: Callable[[dict[str, float]], Any]) -> CheckResult:
    """Lesson 07: ``read_codes(r) -> {"width": 1, 2 or None, "slant": 1, 2 or None}`` from a table of correlations.

    ``r`` maps ``"c1_width"``, ``"c1_slant"``, ``"c2_width"``, ``"c2_slant"`` (the codes) and ``"z1_..."``,
    ``"z2_..."`` (two noise dimensions) to the correlation of the swept input with stroke width and slant. A
    code controls a measure when its correlation is the largest in size of the two codes' and at least
    :data:`CONTROL` in size; noise dimensions are not codes.
    """
    for table, expected, lesson in _TABLES:
        got, error = _call(read_codes, dict(table))
        if error is not None:
            return error
        if not isinstance(got, dict) or set(got) != {"width", "slant"}:
            keys = sorted(got) if isinstance(got, dict) else type(got).__name__
            return _fail(f"Return a dict with the keys 'width' and 'slant' (each 1, 2 or None); got {keys}.")
        for measure in ("width", "slant"):
            answer = got[measure]
            if answer not in (1, 2, None) or isinstance(answer, bool):
                if isinstance(answer, str) and answer.startswith("z"):
                    return _fail(f"For {measure} you named the noise dimension {answer!r}: the answer is a code, 1 or 2, "
                                 "or None when no code controls it.")
                return _fail(f"Answer each measure with the code's number, 1 or 2, or None; got {answer!r} for {measure}.")
        if got != expected:
            shown = ", ".join(f"{k} {v:+.2f}" for k, v in table.items())
            return _fail(f"For the table {shown} you answered {got}, expected {expected}: {lesson}.")
    return CheckResult(True, "You read the tables right: the larger |r| of the two codes, and only if it is clearly "
                             f"there (|r| >= {CONTROL}); the sign says the direction, not whether the code controls it.")
