"""One two-player training loop for every lesson (written out by hand in lesson 01, then reused).

A lesson supplies what its paper changes: a discriminator step and a generator step, each a
function that takes a batch, updates its own network and returns the numbers to log. The loop owns
the rest: ``n_critic`` discriminator steps per generator step, the progress bar, the loss history,
fixed-noise snapshots, checkpoints that resume exactly, callbacks and the NaN/inf guard::

    d_step, g_step = gan_steps(G, D, opt_g, opt_d, AdversarialLoss("nonsaturating"), z_dim=100)
    trainer = Trainer(G, D, opt_g, opt_d, d_step, g_step, batches, fixed_noise=z_fixed)
    history = trainer.fit(steps=3000)

A *step* is one generator update. Each discriminator step gets a fresh batch; the generator step
gets the last of them again (it needs the batch size, labels or input images, not new data).
Calling :meth:`Trainer.fit` again with more steps continues where the run stopped; after a restart,
:meth:`Trainer.load` a checkpoint first.

Anything else with a state that the steps change (CycleGAN's image pools and learning-rate
schedulers, lesson 06) goes in ``extra_state={"name": obj}``: every object with ``state_dict()`` and
``load_state_dict()`` is saved in checkpoints under its name and restored from them.
"""

from __future__ import annotations

import inspect
import math
import os
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import torch
from torch import Tensor, nn
from tqdm import tqdm as text_tqdm
from tqdm.auto import tqdm as auto_tqdm

from .losses import AdversarialLoss

StepFn = Callable[[Any], Mapping[str, "float | Tensor"]]
CHECKPOINT_VERSION = 1


class TrainingDiverged(RuntimeError):
    """A logged loss became NaN or infinite; the message names the step and what to try."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable or belongs to other models."""


class History:
    """Logged numbers by name, each a list of ``(step, value)`` kept as two lists."""

    def __init__(self) -> None:
        self._series: dict[str, tuple[list[int], list[float]]] = {}

    def log(self, step: int, **values: float) -> None:
        for name, value in values.items():
            steps, vals = self._series.setdefault(name, ([], []))
            steps.append(int(step))
            vals.append(float(value))

    def __getitem__(self, name: str) -> tuple[list[int], list[float]]:
        if name not in self._series:
            raise KeyError(f"nothing logged as {name!r}; logged: {', '.join(self._series) or 'nothing yet'}.")
        return self._series[name]

    def __contains__(self, name: object) -> bool:
        return name in self._series

    def names(self) -> list[str]:
        return list(self._series)

    def last(self, name: str) -> float:
        return self[name][1][-1]

    def state_dict(self) -> dict[str, dict[str, list]]:
        return {k: {"steps": list(s), "values": list(v)} for k, (s, v) in self._series.items()}

    def load_state_dict(self, state: Mapping[str, Mapping[str, list]]) -> None:
        self._series = {k: (list(v["steps"]), list(v["values"])) for k, v in state.items()}

    def __repr__(self) -> str:
        parts = [f"{k}: {len(s)} values, last {v[-1]:.4g}" for k, (s, v) in self._series.items() if v]
        return "History(" + "; ".join(parts) + ")"


class Callback:
    """Something run by the loop: ``on_start`` when ``fit`` begins, ``on_step`` after every step,
    ``on_end`` when ``fit`` returns."""

    def on_start(self, trainer: "Trainer") -> None:
        pass

    def on_step(self, trainer: "Trainer") -> None:
        pass

    def on_end(self, trainer: "Trainer") -> None:
        pass


def set_requires_grad(model: nn.Module, flag: bool) -> None:
    """Switch gradient tracking of all of ``model``'s parameters on or off."""
    for p in model.parameters():
        p.requires_grad_(flag)


def gan_steps(
    G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
    loss: AdversarialLoss, z_dim: int,
) -> tuple[StepFn, StepFn]:
    """The standard discriminator and generator steps of lesson 01, for :class:`Trainer`.

    Batches may be images or ``(images, labels)``; labels are ignored here.
    """

    def d_step(batch: Any) -> dict[str, Tensor]:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        z = torch.randn(real.shape[0], z_dim, device=real.device)
        with torch.no_grad():  # the generator is not trained here
            fake = G(z)
        parts = loss.discriminator(D(real), D(fake))
        opt_d.zero_grad(set_to_none=True)
        parts.total.backward()
        opt_d.step()
        return {"d_loss": parts.total, "d_real": parts.real, "d_fake": parts.fake}

    def g_step(batch: Any) -> dict[str, Tensor]:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch
        z = torch.randn(real.shape[0], z_dim, device=real.device)
        set_requires_grad(D, False)  # gradients flow through D to G, but D's weights need none
        g_loss = loss.generator(D(G(z)))
        set_requires_grad(D, True)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"g_loss": g_loss}

    return d_step, g_step


@torch.no_grad()
def generate(G: nn.Module, z: Tensor, labels: Tensor | None = None, batch_size: int = 500) -> Tensor:
    """``G(z)``, or ``G(z, labels)`` for a conditional generator (lesson 03), in eval mode, without
    gradients, in chunks, returned on the CPU."""
    if labels is not None and len(labels) != len(z):
        raise ValueError(f"give one label per noise vector; got {len(labels)} labels for {len(z)} vectors.")
    was_training = G.training
    G.eval()
    try:
        if labels is None:
            return torch.cat([G(chunk).cpu() for chunk in z.split(batch_size)])
        return torch.cat([G(zc, yc).cpu() for zc, yc in zip(z.split(batch_size), labels.split(batch_size))])
    finally:
        G.train(was_training)


class Trainer:
    """The two-player loop; see the module docstring.

    Args:
        G, D, opt_g, opt_d: the networks and their optimisers (saved in checkpoints).
        d_step, g_step: the lesson's steps: ``step(batch) -> {name: number}``.
        batches: an endless iterator of batches, e.g. :class:`ganlib.data.Batches`.
        n_critic: discriminator steps per generator step.
        fixed_noise: latent vectors for snapshots; ``snapshot_every`` steps, ``G(fixed_noise)`` is kept.
        fixed_labels: for a conditional generator, one label per fixed noise vector: snapshots are
            ``G(fixed_noise, fixed_labels)``.
        checkpoint: path to save to every ``checkpoint_every`` steps and when ``fit`` ends.
        callbacks: :class:`Callback` objects or plain ``f(trainer)`` functions run after every step.
        progress: show a progress bar.
        extra_state: more objects with ``state_dict()`` / ``load_state_dict()`` to save in checkpoints
            under their names, e.g. ``{"pool_a": ImagePool(), "sched_g": scheduler}`` (lesson 06). A
            ``load_state_dict`` with a ``device`` argument (:class:`ganlib.translation.ImagePool`) is
            given the device of G's parameters.
    """

    def __init__(
        self, G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
        d_step: StepFn, g_step: StepFn, batches: Iterator[Any], *, n_critic: int = 1,
        fixed_noise: Tensor | None = None, fixed_labels: Tensor | None = None, snapshot_every: int = 100,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 500,
        callbacks: tuple[Callback | Callable[["Trainer"], None], ...] = (), progress: bool = True,
        extra_state: Mapping[str, Any] = {},  # noqa: B006 (read only, never changed)
    ) -> None:
        if not isinstance(n_critic, int) or n_critic < 1:
            raise ValueError(f"n_critic must be a positive integer; got {n_critic!r}.")
        if snapshot_every < 1 or checkpoint_every < 1:
            raise ValueError(f"snapshot_every and checkpoint_every must be >= 1; got {snapshot_every}, {checkpoint_every}.")
        self.G, self.D, self.opt_g, self.opt_d = G, D, opt_g, opt_d
        self.d_step, self.g_step, self.batches = d_step, g_step, batches
        if fixed_labels is not None and (fixed_noise is None or len(fixed_labels) != len(fixed_noise)):
            got = "no fixed_noise" if fixed_noise is None else f"{len(fixed_noise)} noise vectors"
            raise ValueError(f"fixed_labels needs one label per fixed noise vector; got {len(fixed_labels)} labels "
                             f"and {got}.")
        self.n_critic, self.fixed_noise, self.snapshot_every = n_critic, fixed_noise, snapshot_every
        self.fixed_labels = fixed_labels
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.checkpoint_every, self.progress = checkpoint_every, progress
        self.callbacks = [c if isinstance(c, Callback) else _FunctionCallback(c) for c in callbacks]
        for name, obj in extra_state.items():
            if not isinstance(name, str) or not all(callable(getattr(obj, m, None))
                                                    for m in ("state_dict", "load_state_dict")):
                raise ValueError(f"extra_state maps names (str) to objects with state_dict() and load_state_dict(); "
                                 f"got {name!r}: {type(obj).__name__}.")
        self.extra_state = dict(extra_state)
        self.step = 0
        self.history = History()
        self.snapshots: list[tuple[int, Tensor]] = []  # (step, G(fixed_noise) on the CPU)

    # -- the loop ---------------------------------------------------------------------------------
    def fit(self, steps: int) -> History:
        """Train until ``self.step == steps`` (a total, so calling again continues the run)."""
        if steps < self.step:
            raise ValueError(f"this run is already at step {self.step}; ask for steps >= {self.step}, got {steps}.")
        if not self.snapshots:
            self._snapshot()
        for cb in self.callbacks:
            cb.on_start(self)
        bar = _progress_bar(total=steps, initial=self.step, disable=not self.progress, desc="training", unit="step")
        try:
            while self.step < steps:
                logs: dict[str, float] = {}
                for _ in range(self.n_critic):  # a fresh batch for every discriminator step
                    batch = next(self.batches)
                    logs.update(self.d_step(batch))
                logs.update(self.g_step(batch))  # the last one again: G needs its size (or its pairs)
                self.step += 1
                values = {k: float(v.detach()) if isinstance(v, Tensor) else float(v) for k, v in logs.items()}
                self._guard(values)
                self.history.log(self.step, **values)
                if self.step % self.snapshot_every == 0 or self.step == steps:
                    self._snapshot()
                for cb in self.callbacks:
                    cb.on_step(self)
                if self.checkpoint is not None and self.step % self.checkpoint_every == 0:
                    self.save(self.checkpoint)  # after the callbacks, so that what they logged is saved
                bar.update(1)
                if self.step % 25 == 0 or self.step == steps:
                    bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()}, refresh=False)
        except KeyboardInterrupt:
            where = f" and saved to {self.checkpoint}" if self.checkpoint is not None else ""
            if self.checkpoint is not None:
                self.save(self.checkpoint)
            print(f"Interrupted at step {self.step}{where}. Run trainer.fit({steps}) again to continue.")
            raise
        finally:
            bar.close()
        for cb in self.callbacks:  # before the last save, so that what they log is saved too
            cb.on_end(self)
        if self.checkpoint is not None:
            self.save(self.checkpoint)
        return self.history

    def _guard(self, values: Mapping[str, float]) -> None:
        for name, value in values.items():
            if not math.isfinite(value):
                hint = f" or resume from the last checkpoint, {self.checkpoint}" if self.checkpoint else ""
                raise TrainingDiverged(
                    f"{name} became {value} at step {self.step}: training diverged. Lower the learning "
                    f"rates, check that the discriminator ends without a sigmoid (the losses expect raw "
                    f"scores){hint}."
                )

    def _snapshot(self) -> None:
        if self.fixed_noise is not None and (not self.snapshots or self.snapshots[-1][0] != self.step):
            self.snapshots.append((self.step, generate(self.G, self.fixed_noise, self.fixed_labels)))

    # -- checkpoints ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue exactly as if it had never stopped."""
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        batches = self.batches.state_dict() if hasattr(self.batches, "state_dict") else None
        return {
            "version": CHECKPOINT_VERSION, "step": self.step,
            "G": self.G.state_dict(), "D": self.D.state_dict(),
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(),
            "batches": batches, "rng": rng, "history": self.history.state_dict(),
            "snapshot_steps": [s for s, _ in self.snapshots], "snapshot_images": [x for _, x in self.snapshots],
            "extra": {name: obj.state_dict() for name, obj in self.extra_state.items()},
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(f"checkpoint version {state.get('version')!r} is not {CHECKPOINT_VERSION}.")
        extra = state.get("extra", {})  # checkpoints from before extra_state have none
        self._check_extra_names(extra)  # before anything is loaded, so a mismatch changes nothing
        try:
            self.G.load_state_dict(state["G"])
            self.D.load_state_dict(state["D"])
            self.opt_g.load_state_dict(state["opt_g"])
            self.opt_d.load_state_dict(state["opt_d"])
        except (RuntimeError, ValueError, KeyError) as err:
            raise CheckpointError(f"the checkpoint does not fit these models or optimisers: {err}") from err
        self._load_extra(extra)
        if state["batches"] is not None and hasattr(self.batches, "load_state_dict"):
            self.batches.load_state_dict(state["batches"])
        torch.set_rng_state(state["rng"]["torch"])
        if "cuda" in state["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["rng"]["cuda"])
        self.step = state["step"]
        self.history.load_state_dict(state["history"])
        self.snapshots = list(zip(state["snapshot_steps"], state["snapshot_images"]))

    def _check_extra_names(self, saved: Mapping[str, Any]) -> None:
        missing = [n for n in self.extra_state if n not in saved]
        unexpected = [n for n in saved if n not in self.extra_state]
        if missing or unexpected:
            parts = ([f"it has no state for {', '.join(map(repr, missing))}"] if missing else []) + (
                [f"it holds state for {', '.join(map(repr, unexpected))}, which this trainer was not given"]
                if unexpected else [])
            raise CheckpointError(f"the checkpoint does not fit this trainer's extra_state "
                                  f"({', '.join(map(repr, self.extra_state)) or 'none'}): {'; '.join(parts)}. "
                                  f"Pass the same extra_state names as the run that saved it.")

    def _load_extra(self, saved: Mapping[str, Any]) -> None:
        device = next(iter(self.G.parameters()), torch.empty(0)).device
        for name, obj in self.extra_state.items():
            try:
                if "device" in inspect.signature(obj.load_state_dict).parameters:
                    obj.load_state_dict(saved[name], device=device)  # e.g. an ImagePool's images
                else:
                    obj.load_state_dict(saved[name])
            except (RuntimeError, ValueError, KeyError, TypeError) as err:
                raise CheckpointError(f"the checkpoint's state for {name!r} does not fit it: {err}") from err

    def save(self, path: str | os.PathLike) -> Path:
        """Write a checkpoint atomically (a crash mid-write leaves the previous one intact)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        torch.save(self.state_dict(), tmp)
        tmp.replace(path)
        return path

    def load(self, path: str | os.PathLike) -> "Trainer":
        """Resume from a checkpoint written by :meth:`save` (read with ``weights_only=True``)."""
        path = Path(path)
        if not path.is_file():
            raise CheckpointError(f"no checkpoint at {path}: train first, or check the path.")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # truncated, not a zip file, foreign pickle ...
            raise CheckpointError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err}).") from err
        if not isinstance(state, dict) or "version" not in state:
            raise CheckpointError(f"{path} is not a ganlib checkpoint (no version field).")
        self.load_state_dict(state)
        return self


def _progress_bar(**kwargs: Any) -> Any:
    """tqdm.auto's bar (a widget in Jupyter); a plain text bar, updated rarely, where widgets are off.

    A stored notebook keeps only a widget's first text frame ("0/3000"), so static runs use text.
    """
    from .widgets import interactive  # here, not at the top: widgets imports this module

    return auto_tqdm(**kwargs) if interactive() else text_tqdm(mininterval=15, **kwargs)


class _FunctionCallback(Callback):
    def __init__(self, fn: Callable[[Trainer], None]) -> None:
        self.fn = fn

    def on_step(self, trainer: Trainer) -> None:
        self.fn(trainer)
