"""One two-player training loop for every lesson (written out by hand in lesson 01, then reused).

A lesson supplies what its paper changes: a discriminator step and a generator step, each a
function that takes a batch, updates its own network and returns the numbers to log. The loop owns
the rest: ``n_critic`` discriminator steps per generator step, the progress bar, the loss history,
snapshots from fixed inputs, checkpoints that resume exactly, callbacks and the NaN/inf guard::

    d_step, g_step = gan_steps(G, D, opt_g, opt_d, AdversarialLoss("nonsaturating"), z_dim=100)
    trainer = Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step, batches, fixed_inputs=(z_fixed,))
    history = trainer.fit(steps=3000)

A *step* is one generator update. Each discriminator step gets a fresh batch; the generator step
gets the last of them again (it needs the batch size, labels or input images, not new data). What
the discriminator steps log is averaged over the ``n_critic`` of them. Calling :meth:`Trainer.fit`
again with more steps continues where the run stopped; after a restart, :meth:`Trainer.load` a
checkpoint first. Ctrl-C (Jupyter's "interrupt the kernel") is held until the running step is done,
then the loop saves and stops, so a checkpoint never holds half a step (a second Ctrl-C stops at once
and saves nothing).

Everything a checkpoint must hold is named once, in the ``state`` mapping: the networks and their
optimisers, and anything else the steps change (CycleGAN's image pools and learning-rate schedulers,
lesson 06; InfoGAN's Q head and its optimiser). Every object with ``state_dict()`` and
``load_state_dict()`` is saved under its name and restored from it; the loop steps every
learning-rate scheduler in it once per generator step. A phase without a discriminator (SRGAN's
pre-training on the pixel loss) is a Trainer with ``d_step=None``; a later phase can swap in new
steps (``trainer.d_step, trainer.g_step = ...``) and call ``fit`` with a larger total.
"""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import torch
from torch import Tensor, nn
from tqdm import tqdm as text_tqdm
from tqdm.auto import tqdm as auto_tqdm

from .config import interactive
from .losses import AdversarialLoss
from .sampling import check_inputs, generate
from .validate import check_positive

StepFn = Callable[[Any], Mapping[str, "float | Tensor"]]
CHECKPOINT_VERSION = 2  # 2: one "state" mapping for everything the steps change


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


@contextmanager
def _interrupts_between_steps() -> Iterator[list[bool]]:
    """Hold a Ctrl-C (SIGINT, also Jupyter's "interrupt the kernel") until the running step is done.

    Inside the block the first SIGINT only appends to the yielded list, which the loop checks between
    steps; a second one raises ``KeyboardInterrupt`` at once. So a checkpoint written on interrupt never
    holds a step half done (the discriminator updated, the generator not), which would resume
    differently from a run that never stopped. Outside the main thread signals cannot be caught, and
    a process that handles or ignores SIGINT in its own way keeps doing so; then the list stays empty.
    """
    pending: list[bool] = []
    if threading.current_thread() is not threading.main_thread() or \
            signal.getsignal(signal.SIGINT) is not signal.default_int_handler:  # e.g. ignored in a background job
        yield pending
        return

    def hold(signum: int, frame: Any) -> None:
        if pending:
            raise KeyboardInterrupt
        pending.append(True)
        print("Stopping after this step (interrupt again to stop at once, without saving).", flush=True)

    previous = signal.signal(signal.SIGINT, hold)
    try:
        yield pending
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def frozen(*models: nn.Module) -> Iterator[None]:
    """Switch off the gradients of ``models``' parameters inside the block, then restore each flag.

    The generator's step sends gradients *through* D to G, but D's own weights need none::

        with frozen(D):
            g_loss = loss.generator(D(G(z)))

    Each parameter gets back the ``requires_grad`` it had, also when the block raises.
    """
    params = [p for m in models for p in m.parameters()]
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield
    finally:
        for p, flag in zip(params, flags):
            p.requires_grad_(flag)


def gan_steps(
    G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
    loss: AdversarialLoss, z_dim: int, conditional: bool = False,
) -> tuple[StepFn, StepFn]:
    """The standard discriminator and generator steps of lesson 01, for :class:`Trainer`.

    Batches may be images or ``(images, labels)``; labels are ignored unless ``conditional`` (lesson 03):
    then the fakes are drawn for the batch's labels, ``G(z, y)``, and D judges pairs, ``D(x, y)``. A loss
    that needs the real scores on the generator's side (``loss.needs_real``, the relativistic loss) gets them.
    """

    def split(batch: Any) -> tuple[Tensor, tuple[Tensor, ...]]:  # the images, and the labels G and D are given
        if not conditional:
            return (batch[0] if isinstance(batch, (tuple, list)) else batch), ()
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"gan_steps(conditional=True) trains on (images, labels) batches; got "
                             f"{type(batch).__name__}{'' if not isinstance(batch, (tuple, list)) else f' of {len(batch)}'}.")
        return batch[0], (batch[1],)

    def d_step(batch: Any) -> dict[str, Tensor]:
        real, y = split(batch)
        z = torch.randn(real.shape[0], z_dim, device=real.device)
        with torch.no_grad():  # the generator is not trained here
            fake = G(z, *y)
        parts = loss.discriminator(D(real, *y), D(fake, *y))
        opt_d.zero_grad(set_to_none=True)
        parts.total.backward()
        opt_d.step()
        return {"d_loss": parts.total, "d_real": parts.real, "d_fake": parts.fake}

    def g_step(batch: Any) -> dict[str, Tensor]:
        real, y = split(batch)
        z = torch.randn(real.shape[0], z_dim, device=real.device)
        with frozen(D):  # gradients flow through D to G, but D's weights need none
            g_loss = loss.generator(D(G(z, *y), *y), D(real, *y) if loss.needs_real else None)
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"g_loss": g_loss}

    return d_step, g_step


class Trainer:
    """The two-player loop; see the module docstring.

    Args:
        state: everything a checkpoint must hold, by name: the networks, their optimisers, and any
            other object with ``state_dict()`` / ``load_state_dict()`` that the steps change (image
            pools, learning-rate schedulers, an extra network such as InfoGAN's Q head). It must hold
            the generator as ``"G"`` (snapshots and callbacks use it); ``"D"`` is the discriminator by
            convention. Every learning-rate scheduler in it is stepped once per generator step.
        d_step, g_step: the lesson's steps, ``step(batch) -> {name: number}``. ``d_step=None`` runs
            generator steps only (a pre-training phase). During a step ``trainer.step`` is the number
            of generator steps already done, so a step function can read it (e.g. for a fade-in).
        batches: an endless iterator of batches, e.g. :class:`ganlib.data.Batches` (its position is
            saved in checkpoints when it has ``state_dict()``).
        n_critic: discriminator steps per generator step; what they log is averaged over them.
        fixed_inputs: the generator's inputs for snapshots, a tuple such as ``(z,)``, ``(z, labels)`` or
            ``(low_res_images,)``; every ``snapshot_every`` steps ``generate(G, *fixed_inputs)`` is kept.
        checkpoint: path to save to every ``checkpoint_every`` steps and when ``fit`` ends.
        callbacks: :class:`Callback` objects or plain ``f(trainer)`` functions run after every step.
        progress: show a progress bar.
    """

    def __init__(
        self, state: Mapping[str, Any], d_step: StepFn | None, g_step: StepFn, batches: Iterator[Any], *,
        n_critic: int = 1, fixed_inputs: tuple[Tensor, ...] | None = None, snapshot_every: int = 100,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 500,
        callbacks: tuple[Callback | Callable[["Trainer"], None], ...] = (), progress: bool = True,
    ) -> None:
        check_positive(n_critic=n_critic, snapshot_every=snapshot_every, checkpoint_every=checkpoint_every)
        if not isinstance(state, Mapping) or not isinstance(state.get("G"), nn.Module):
            got = ", ".join(map(repr, state)) if isinstance(state, Mapping) else type(state).__name__
            raise ValueError(f"state must map names to what a checkpoint holds, with the generator as 'G', e.g. "
                             f"dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d); got {got or 'an empty mapping'}.")
        for name, obj in state.items():
            if not isinstance(name, str) or not all(callable(getattr(obj, m, None))
                                                    for m in ("state_dict", "load_state_dict")):
                raise ValueError(f"state maps names (str) to objects with state_dict() and load_state_dict(); "
                                 f"got {name!r}: {type(obj).__name__}.")
        if not callable(g_step) or (d_step is not None and not callable(d_step)):
            raise ValueError(f"d_step (or None) and g_step must be functions step(batch) -> dict of numbers; got "
                             f"{type(d_step).__name__} and {type(g_step).__name__}.")
        if fixed_inputs is not None:
            if isinstance(fixed_inputs, Tensor):
                raise ValueError("fixed_inputs is a tuple of the generator's inputs: write (z,) for noise alone.")
            check_inputs(tuple(fixed_inputs), "fixed_inputs")
        self.state = dict(state)
        self.d_step, self.g_step, self.batches = d_step, g_step, batches
        self.n_critic, self.snapshot_every = n_critic, snapshot_every
        self.fixed_inputs = None if fixed_inputs is None else tuple(fixed_inputs)
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.checkpoint_every, self.progress = checkpoint_every, progress
        self.callbacks = [c if isinstance(c, Callback) else _FunctionCallback(c) for c in callbacks]
        self.step = 0
        self.history = History()
        self.snapshots: list[tuple[int, Tensor]] = []  # (step, generate(G, *fixed_inputs) on the CPU)

    @property
    def G(self) -> nn.Module:
        """The generator, ``state["G"]``."""
        return self.state["G"]

    @property
    def D(self) -> nn.Module | None:
        """The discriminator, ``state["D"]`` (None if the state names none)."""
        return self.state.get("D")

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
        in_step: int | None = None  # the step under way, until it is whole
        try:
            with _interrupts_between_steps() as pending:
                while self.step < steps:
                    in_step = self.step + 1
                    values = self._one_step()
                    self.step += 1
                    self._guard(values)
                    self.history.log(self.step, **values)
                    if self.step % self.snapshot_every == 0 or self.step == steps:
                        self._snapshot()
                    for cb in self.callbacks:
                        cb.on_step(self)
                    in_step = None
                    if self.checkpoint is not None and self.step % self.checkpoint_every == 0:
                        self.save(self.checkpoint)  # after the callbacks, so that what they logged is saved
                    bar.update(1)
                    if self.step % 25 == 0 or self.step == steps:
                        bar.set_postfix({k: f"{v:.3f}" for k, v in values.items()}, refresh=False)
                    if pending:  # Ctrl-C came during the step: stop now that the step is whole
                        raise KeyboardInterrupt
        except KeyboardInterrupt:
            if in_step is not None:  # a half-done step (say D updated, G not) would resume differently: save nothing
                last = f"the last checkpoint, {self.checkpoint}, is left as it was" if self.checkpoint is not None \
                    else "nothing was saved"
                print(f"Interrupted in the middle of step {in_step}; {last}, since a half-done step would "
                      f"not resume exactly. The trainer itself is now part-way through a step: load the "
                      f"checkpoint before you continue.")
            else:
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

    def _one_step(self) -> dict[str, float]:
        """``n_critic`` discriminator steps, each on a fresh batch, then one generator step on the last
        batch (it needs the batch size, labels or input images, not new data); then the schedulers."""
        critic: dict[str, float] = {}
        batch = None
        if self.d_step is not None:
            for _ in range(self.n_critic):
                batch = next(self.batches)
                for k, v in _numbers(self.d_step(batch)).items():
                    critic[k] = critic.get(k, 0.0) + v / self.n_critic  # the mean over the critic steps
        if batch is None:
            batch = next(self.batches)
        logs = {**critic, **_numbers(self.g_step(batch))}
        for obj in self.state.values():
            if isinstance(obj, torch.optim.lr_scheduler.LRScheduler):
                obj.step()  # once per generator step, whatever n_critic is
        return logs

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
        if self.fixed_inputs is not None and (not self.snapshots or self.snapshots[-1][0] != self.step):
            self.snapshots.append((self.step, generate(self.G, *self.fixed_inputs)))

    # -- checkpoints ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything a resumed run needs to continue exactly as if it had never stopped."""
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        batches = self.batches.state_dict() if hasattr(self.batches, "state_dict") else None
        return {
            "version": CHECKPOINT_VERSION, "step": self.step,
            "state": {name: obj.state_dict() for name, obj in self.state.items()},
            "batches": batches, "rng": rng, "history": self.history.state_dict(),
            "snapshot_steps": [s for s, _ in self.snapshots], "snapshot_images": [x for _, x in self.snapshots],
        }

    def load_state_dict(self, checkpoint: Mapping[str, Any]) -> None:
        if checkpoint.get("version") != CHECKPOINT_VERSION:
            raise CheckpointError(f"checkpoint version {checkpoint.get('version')!r} is not {CHECKPOINT_VERSION}: "
                                  f"it was written by another version of ganlib; train again to make a new one.")
        saved = checkpoint["state"]
        self._check_names(saved)  # before anything is loaded, so a mismatch changes nothing
        for name, obj in self.state.items():
            try:
                obj.load_state_dict(saved[name])
            except (RuntimeError, ValueError, KeyError, TypeError) as err:
                raise CheckpointError(f"the checkpoint's state for {name!r} does not fit it: {err}") from err
        if checkpoint["batches"] is not None and hasattr(self.batches, "load_state_dict"):
            self.batches.load_state_dict(checkpoint["batches"])
        torch.set_rng_state(checkpoint["rng"]["torch"])
        if "cuda" in checkpoint["rng"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(checkpoint["rng"]["cuda"])
        self.step = checkpoint["step"]
        self.history.load_state_dict(checkpoint["history"])
        self.snapshots = list(zip(checkpoint["snapshot_steps"], checkpoint["snapshot_images"]))

    def _check_names(self, saved: Mapping[str, Any]) -> None:
        missing = [n for n in self.state if n not in saved]
        unexpected = [n for n in saved if n not in self.state]
        if missing or unexpected:
            parts = ([f"it has no state for {', '.join(map(repr, missing))}"] if missing else []) + (
                [f"it holds state for {', '.join(map(repr, unexpected))}, which this trainer was not given"]
                if unexpected else [])
            raise CheckpointError(f"the checkpoint does not fit this trainer's state "
                                  f"({', '.join(map(repr, self.state))}): {'; '.join(parts)}. "
                                  f"Pass the same state names as the run that saved it.")

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
            checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # truncated, not a zip file, foreign pickle ...
            raise CheckpointError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err}).") from err
        if not isinstance(checkpoint, dict) or "version" not in checkpoint:
            raise CheckpointError(f"{path} is not a ganlib checkpoint (no version field).")
        self.load_state_dict(checkpoint)
        return self


def _numbers(logs: Mapping[str, Any]) -> dict[str, float]:
    """A step's logs as plain floats (tensors are detached)."""
    if not isinstance(logs, Mapping):
        raise TypeError(f"a training step must return a dict of numbers to log, e.g. {{'d_loss': loss}}; "
                        f"got {type(logs).__name__}.")
    return {k: float(v.detach()) if isinstance(v, Tensor) else float(v) for k, v in logs.items()}


def _progress_bar(**kwargs: Any) -> Any:
    """tqdm.auto's bar (a widget in Jupyter); where widgets are off, one text line when ``fit`` ends.

    A stored notebook keeps every frame a bar prints, so static runs (tests, the stored ``cpu`` runs)
    print only the final state: one progress line per training cell.
    """
    return auto_tqdm(**kwargs) if interactive() else _FinalLine(**kwargs)


class _FinalLine:
    """The parts of a tqdm bar the loop uses; prints tqdm's line for the final state, once, on ``close``."""

    def __init__(self, *, total: int, initial: int = 0, disable: bool = False, desc: str = "", unit: str = "it") -> None:
        self.total, self.n, self.start, self.disable, self.desc, self.unit = total, initial, initial, disable, desc, unit
        self.postfix: dict[str, str] = {}
        self.started = time.perf_counter()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, postfix: Mapping[str, str], refresh: bool = False) -> None:
        self.postfix = dict(postfix)

    def close(self) -> None:
        if self.disable:
            return
        elapsed = time.perf_counter() - self.started
        rate = (self.n - self.start) / elapsed if elapsed > 0 else None
        postfix = ", ".join(f"{k}={v}" for k, v in self.postfix.items()) or None
        line = text_tqdm.format_meter(self.n, self.total, elapsed, prefix=self.desc, unit=self.unit, rate=rate,
                                      postfix=postfix, initial=self.start)
        print(line, file=sys.stderr, flush=True)


class _FunctionCallback(Callback):
    def __init__(self, fn: Callable[[Trainer], None]) -> None:
        self.fn = fn

    def on_step(self, trainer: Trainer) -> None:
        self.fn(trainer)
