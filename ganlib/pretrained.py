"""Generators trained for longer than a lesson can, shipped with the course (issue 15).

``scripts/pretrain.py <lesson>`` trains a lesson's generator with the lesson's own recipe for several times its
steps and writes it with :func:`save_pretrained` to ``ganlib/weights/pretrained/<lesson>.pt`` (under 2 MB); the
lesson's ``pretrained=True`` loads it with :func:`load_pretrained` and shows it beside the learner's run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

PRETRAINED_DIR = Path(__file__).resolve().parent / "weights" / "pretrained"
PRETRAINED_VERSION = 1


class PretrainedError(RuntimeError):
    """Shipped generator weights that are missing, unreadable or made for another model."""


def save_pretrained(path: str | os.PathLike, G: nn.Module, **info: Any) -> Path:
    """Write a generator's weights (CPU tensors) and ``info`` (its recipe and scores: numbers, strings,
    lists and dicts of them) for :func:`load_pretrained`; ``scripts/pretrain.py`` makes the shipped ones."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    weights = {k: v.detach().cpu().clone() for k, v in G.state_dict().items()}
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
    info, weights, own = saved.get("info", {}), saved["model"], G.state_dict()
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
