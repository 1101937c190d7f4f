"""Generators trained for longer than a lesson can, shipped with the course (issue 15).

``scripts/pretrain.py <lesson>`` trains a lesson's generator with the lesson's own recipe for several times its
steps and writes it with :func:`save_pretrained` to ``ganlib/weights/pretrained/<lesson>.pt`` (under 2 MB); the
lesson's ``pretrained=True`` loads it with :func:`load_pretrained` and shows it beside the learner's run.

Generators too large for 2 MB in float32 (lessons 01, 05, 06 and 07: half a million parameters or more) are
stored with 8-bit weights (``save_pretrained(..., int8=True)``): every weight tensor is rounded to 255 levels per
slice along its first dimension, ``w ≈ q · scale`` with ``q`` in [-127, 127], which keeps each weight within half
a level of its value; :func:`load_pretrained` turns them back into floats. Biases and normalisation parameters
stay in float32.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

PRETRAINED_DIR = Path(__file__).resolve().parent / "weights" / "pretrained"
PRETRAINED_VERSION = 1
INT8_MIN_ELEMENTS = 1024  # smaller tensors (biases, norms) are not worth rounding


class PretrainedError(RuntimeError):
    """Shipped generator weights that are missing, unreadable or made for another model."""


def to_int8(w: torch.Tensor) -> dict[str, torch.Tensor]:
    """``w`` as 8-bit integers ``q`` and one float scale per slice along dim 0: ``w ≈ q · scale``."""
    amax = w.detach().float().abs().reshape(len(w), -1).amax(1)
    scale = torch.where(amax > 0, amax / 127, torch.ones_like(amax))   # an all-zero slice stays zero
    q = torch.round(w.detach().float() / scale.reshape(-1, *[1] * (w.dim() - 1))).clamp(-127, 127)
    return {"int8": q.to(torch.int8), "scale": scale}


def from_int8(stored: dict[str, torch.Tensor]) -> torch.Tensor:
    """The float32 weights that :func:`to_int8` stored."""
    q = stored["int8"]
    return q.float() * stored["scale"].reshape(-1, *[1] * (q.dim() - 1))


def save_pretrained(path: str | os.PathLike, G: nn.Module, int8: bool = False, **info: Any) -> Path:
    """Write a generator's weights (CPU tensors) and ``info`` (its recipe and scores: numbers, strings,
    lists and dicts of them) for :func:`load_pretrained`; ``scripts/pretrain.py`` makes the shipped ones.
    ``int8=True`` stores every float tensor of at least ``INT8_MIN_ELEMENTS`` numbers in 8 bits
    (:func:`to_int8`), a quarter of the size; score the generator *after* loading it back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {k: to_int8(v.cpu()) if int8 and v.is_floating_point() and v.numel() >= INT8_MIN_ELEMENTS
               else v.detach().cpu().clone() for k, v in G.state_dict().items()}
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"version": PRETRAINED_VERSION, "model": weights, "info": dict(info)}, tmp)
    tmp.replace(path)
    return path


def load_pretrained(name: str | os.PathLike, G: nn.Module) -> dict[str, Any]:
    """Load the shipped weights ``name`` (e.g. ``"02_dcgan"``, from ``ganlib/weights/pretrained``, or a path)
    into ``G``, read with ``weights_only=True``, and return what they record (recipe, steps, scores).

    ``G`` must be built as the weights were (the error names the difference and the recipe they came from).
    """
    path = Path(name)
    if path.suffix != ".pt":
        path = PRETRAINED_DIR / f"{name}.pt"
    if not path.is_file():
        shipped = sorted(p.stem for p in PRETRAINED_DIR.glob("*.pt"))
        raise PretrainedError(f"no pretrained weights at {path} (shipped: {', '.join(shipped) or 'none'}). They are "
                              f"made by `python scripts/pretrain.py {Path(name).stem}`.")
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, not a zip file, foreign pickle ...
        raise PretrainedError(f"{path} is not readable ({type(err).__name__}: {err}); make it again with "
                              f"`python scripts/pretrain.py {path.stem}`.") from err
    if not isinstance(saved, dict) or saved.get("version") != PRETRAINED_VERSION or "model" not in saved:
        raise PretrainedError(f"{path} is not a version-{PRETRAINED_VERSION} pretrained generator file.")
    info, own = saved.get("info", {}), G.state_dict()
    weights = {k: from_int8(v) if isinstance(v, dict) else v for k, v in saved["model"].items()}
    missing, unexpected = [k for k in own if k not in weights], [k for k in weights if k not in own]
    shapes = [f"{k}: {tuple(weights[k].shape)} in the file, {tuple(v.shape)} in yours"
              for k, v in own.items() if k in weights and weights[k].shape != v.shape]
    if missing or unexpected or shapes:
        parts = ([f"missing {', '.join(missing[:3])}"] if missing else []) + (
            [f"unexpected {', '.join(unexpected[:3])}"] if unexpected else []) + shapes[:3]
        raise PretrainedError(f"{path.name} holds weights for another model ({info.get('model', 'unknown')}); "
                              f"build G as that one. Differences: {'; '.join(parts)}.")
    G.load_state_dict(weights)
    return info
