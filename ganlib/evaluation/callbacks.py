"""Callbacks that measure while training: classifier-FID every N steps (lessons 02 on)."""

from __future__ import annotations

from typing import Any, Callable

from torch import Tensor

from ..sampling import balanced_labels, fixed_noise, generate
from ..training import Callback
from .evaluator import Evaluator
from .metrics import classifier_fid, default_evaluator


class FIDCallback(Callback):
    """Record classifier-FID in ``trainer.history["fid"]``: before the first step, every ``every``
    steps and when ``fit`` returns.

    By default it draws ``n`` samples ``G(z)`` from the same fixed noise each time, with its own
    seed: training's random numbers are untouched, and the curve is stored in the history, so it is
    saved in checkpoints and a resumed run continues it. For a conditional generator ``G(z, labels)``
    give ``n_classes``: every class is then drawn equally often. Anything else can pass
    ``sample(G, n) -> images`` instead of ``z_dim``.
    """

    def __init__(self, every: int, n: int = 10_000, *, z_dim: int | None = None, n_classes: int | None = None,
                 sample: Callable[[Any, int], Tensor] | None = None, evaluator: Evaluator | None = None,
                 seed: int = 2024) -> None:
        if every < 1 or n < 2:
            raise ValueError(f"every must be >= 1 and n >= 2; got every={every}, n={n}.")
        if (z_dim is None) == (sample is None):
            raise ValueError("give FIDCallback either z_dim (for G(z)) or sample=(G, n) -> images, not both.")
        if n_classes is not None and (z_dim is None or n_classes < 1):
            raise ValueError(f"n_classes (for G(z, labels)) goes with z_dim and must be >= 1; got n_classes={n_classes}.")
        self.every, self.n, self.z_dim, self.n_classes, self.sample, self.seed = every, n, z_dim, n_classes, sample, seed
        self.evaluator = evaluator  # None: the shared evaluator on the generator's device

    def _samples(self, G: Any) -> Tensor:
        if self.sample is not None:
            return self.sample(G, self.n)
        device = next(G.parameters()).device
        z = fixed_noise(self.n, self.z_dim, seed=self.seed, device=device)
        if self.n_classes is None:
            return generate(G, z)
        return generate(G, z, balanced_labels(self.n, self.n_classes, device))

    def _record(self, trainer: Any) -> None:
        done = trainer.history["fid"][0] if "fid" in trainer.history else []
        if trainer.step not in done:
            evaluator = self.evaluator or default_evaluator(next(trainer.G.parameters()).device)
            trainer.history.log(trainer.step, fid=classifier_fid(self._samples(trainer.G), evaluator))

    def on_start(self, trainer: Any) -> None:
        if "fid" not in trainer.history:  # a fresh run: the untrained generator's score
            self._record(trainer)

    def on_step(self, trainer: Any) -> None:
        if trainer.step % self.every == 0:
            self._record(trainer)

    def on_end(self, trainer: Any) -> None:
        self._record(trainer)
