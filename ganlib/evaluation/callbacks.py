"""Callbacks that measure while training: classifier-FID every N steps (lessons 02 on), and a TensorBoard log
of everything the run records."""

from __future__ import annotations

import os
from typing import Any, Callable

from torch import Tensor
from torchvision.utils import make_grid

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


class TensorBoardCallback(Callback):
    """Write what the run records to TensorBoard: every logged number (losses, the FID of a
    :class:`FIDCallback`, ...) as a scalar under its name, and every snapshot as an image grid.

    ``every`` steps (and when ``fit`` returns) it writes whatever the history and the snapshots hold
    that it has not written yet, each at the step it belongs to, so nothing is skipped. Put it *after*
    a :class:`FIDCallback` in ``callbacks``: that one records its last score when ``fit`` returns, and
    only a callback that comes later sees it then (an earlier one writes it at the next ``fit``). Needs the ``tensorboard`` package
    (``pip install tensorboard``; it is not needed for anything else in the course). Then, in
    JupyterLab or Colab::

        %load_ext tensorboard
        %tensorboard --logdir runs

    A resumed run (``trainer.load``) continues the same log: what the checkpoint's history already
    holds is taken as written. ``writer`` replaces the ``SummaryWriter`` (for tests, or another logger
    with ``add_scalar``, ``add_image`` and ``flush``).
    """

    def __init__(self, log_dir: str | os.PathLike = "runs", every: int = 50, *, writer: Any = None) -> None:
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a whole number of steps >= 1; got {every!r}.")
        if writer is None:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as err:  # torch raises ImportError when tensorboard is missing
                raise ImportError(f"TensorBoardCallback needs the tensorboard package ({err}); run "
                                  f"`pip install tensorboard` and try again.") from err
            writer = SummaryWriter(log_dir=str(log_dir))
        self.writer, self.every, self.log_dir = writer, every, log_dir
        self._written: dict[str, int] | None = None  # per series: the last step written
        self._image_step = -1

    def on_start(self, trainer: Any) -> None:
        if self._written is None:
            self._written = {}
            if trainer.step > 0:  # a resumed run: what its history holds was written by the run before
                self._written = {name: trainer.history[name][0][-1] for name in trainer.history.names()
                                 if trainer.history[name][0]}
                self._image_step = trainer.snapshots[-1][0] if trainer.snapshots else -1
            self._write(trainer)

    def on_step(self, trainer: Any) -> None:
        if trainer.step % self.every == 0:
            self._write(trainer)

    def on_end(self, trainer: Any) -> None:
        self._write(trainer)

    def _write(self, trainer: Any) -> None:
        written = self._written if self._written is not None else {}
        for name in trainer.history.names():
            steps, values = trainer.history[name]
            last = written.get(name, -1)
            for step, value in zip(steps, values):
                if step > last:
                    self.writer.add_scalar(name, value, step)
            if steps:
                written[name] = max(last, steps[-1])
        self._written = written
        for step, images in trainer.snapshots:
            if step > self._image_step:
                grid = make_grid(images.float(), nrow=int(len(images) ** 0.5) or 1, normalize=True, value_range=(-1, 1))
                self.writer.add_image("samples", grid, step)
                self._image_step = step
        self.writer.flush()
