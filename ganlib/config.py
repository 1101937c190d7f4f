"""Run modes and the environment: one switch that shrinks the work and nothing else (taught in every
lesson's config cell), and whether widgets can render.

``GANLIB_MODE`` picks the mode:

========  ==========================  =============================================
mode      where                       what it means
========  ==========================  =============================================
smoke     tests and CI                a few steps on a small slice, seconds a lesson
cpu       a laptop without a GPU      minutes a lesson, recognisable results
full      a GPU, e.g. Colab           the paper's recipe, best quality
========  ==========================  =============================================

Without the variable the mode is ``full`` when CUDA is available and ``cpu`` otherwise. Modes may
change sizes and step counts only, never the code path.

``GANLIB_COUNTS=smoke`` keeps every size of the mode in force (widths, batch sizes, image sizes, data) but
takes the *counts* from ``smoke``: the settings :func:`is_count` names (steps, seconds, samples, ``..._every``,
``..._digits``, ``test_...``). With ``GANLIB_MODE=full`` this runs the ``full`` code at ``full`` sizes in a minute or
two per lesson, which is how the tests prove ``full`` mode on a machine without a GPU (``tests/test_full_mode.py``).
``GANLIB_COUNTS=cpu`` takes ``cpu`` mode's counts the same way (``benchmarks/gpu_check.py`` uses it on a GPU).

``GANLIB_WIDGETS=static`` switches widgets and live progress bars off (:func:`interactive`); the
tests and the stored notebook outputs use it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import torch

MODES = ("smoke", "cpu", "full")
ENV_VAR = "GANLIB_MODE"
COUNTS_ENV_VAR = "GANLIB_COUNTS"
COUNT_WORDS = frozenset({"steps", "seconds", "samples", "every", "digits", "test"})  # see is_count
WIDGETS_ENV_VAR = "GANLIB_WIDGETS"


def run_mode() -> str:
    """The mode in force: ``$GANLIB_MODE`` if set, else ``full`` with CUDA and ``cpu`` without."""
    mode = os.environ.get(ENV_VAR, "").strip().lower()
    if not mode:
        return "full" if torch.cuda.is_available() else "cpu"
    if mode not in MODES:
        raise ValueError(f"{ENV_VAR} must be one of {', '.join(MODES)}; got {mode!r}.")
    return mode


def counts_mode() -> str | None:
    """The mode whose counts ``$GANLIB_COUNTS`` asks for (``smoke``, ``cpu`` or ``full``), else None (the mode's own)."""
    value = os.environ.get(COUNTS_ENV_VAR, "").strip().lower()
    if not value:
        return None
    if value not in MODES:
        raise ValueError(f"{COUNTS_ENV_VAR} must be one of {', '.join(MODES)} or unset; got {value!r}.")
    return value


def is_count(name: str) -> bool:
    """Whether a setting counts work (how long or how often) rather than sizing a model or the data.

    A count has one of the words steps, seconds, samples, every, digits, test between its underscores:
    ``steps``, ``steps_gan``, ``hand_steps``, ``fid_every``, ``eval_samples``, ``test_digits``, ``test_images``
    (how much of the test split is scored) ...; ``width``, ``batch_size``, ``train_images`` are sizes.
    """
    return not COUNT_WORDS.isdisjoint(name.lower().split("_"))


@dataclass(frozen=True)
class PerMode:
    """A setting whose value depends on the run mode; see :func:`per_mode`."""

    smoke: Any
    cpu: Any
    full: Any

    def resolve(self, mode: str) -> Any:
        return getattr(self, mode)


def per_mode(*, smoke: Any, cpu: Any, full: Any) -> PerMode:
    """Mark a setting that takes a different value in each mode, e.g. ``per_mode(smoke=20, cpu=3000, full=20000)``."""
    return PerMode(smoke=smoke, cpu=cpu, full=full)


class Settings(SimpleNamespace):
    """The settings of one lesson for the mode in use; prints as a small table in a notebook."""

    def __repr__(self) -> str:
        values = {k: v for k, v in vars(self).items() if k not in ("mode", "counts")}
        width = max((len(k) for k in values), default=4)
        lines = [f"run mode: {self.mode}  (set {ENV_VAR}=smoke|cpu|full to change it)"]
        if getattr(self, "counts", None):
            lines.append(f"counts (steps, samples, seconds, ..._every) from {self.counts} mode ({COUNTS_ENV_VAR})")
        lines += [f"  {k:<{width}} = {v!r}" for k, v in values.items()]
        return "\n".join(lines)


def settings(mode: str | None = None, *, counts: str | None = None, **values: Any) -> Settings:
    """Resolve a lesson's settings for ``mode`` (default: :func:`run_mode`).

    Values made with :func:`per_mode` take the value of the mode; all others are the same in every mode.
    With ``counts="smoke"`` (or another mode; default: :func:`counts_mode`, i.e. ``$GANLIB_COUNTS``) the counts
    (:func:`is_count`) take that mode's value instead, and the sizes stay the mode's.

    >>> cfg = settings(mode="smoke", steps=per_mode(smoke=20, cpu=3000, full=20000), lr=2e-4)
    >>> cfg.steps, cfg.lr
    (20, 0.0002)
    """
    mode = run_mode() if mode is None else mode
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}.")
    counts = counts_mode() if counts is None else counts
    if counts is not None and counts not in MODES:
        raise ValueError(f"counts must be one of {', '.join(MODES)} or None; got {counts!r}.")
    if counts == mode:
        counts = None

    def resolve(name: str, value: Any) -> Any:
        if not isinstance(value, PerMode):
            return value
        return value.resolve(counts if counts and is_count(name) else mode)

    resolved = {k: resolve(k, v) for k, v in values.items()}
    if counts:
        return Settings(mode=mode, counts=counts, **resolved)
    return Settings(mode=mode, **resolved)


def interactive() -> bool:
    """True when widgets can render: inside a Jupyter kernel, ipywidgets installed, not switched off."""
    if os.environ.get(WIDGETS_ENV_VAR, "").strip().lower() in ("0", "off", "false", "no", "static"):
        return False
    try:
        from IPython import get_ipython
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
