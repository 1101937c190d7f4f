"""Seeding, device choice, parameter counts, smoothing and file hashes (used from lesson 01 on)."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path
from typing import Sequence

import torch
from torch import nn


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's (when installed) and PyTorch's random generators."""
    random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy comes with matplotlib
        return
    np.random.seed(seed % 2**32)


def get_device(prefer: str | None = None) -> torch.device:
    """The device to train on: ``prefer`` or ``$GANLIB_DEVICE`` if given, else cuda, then mps, then cpu."""
    name = prefer or os.environ.get("GANLIB_DEVICE")
    if name:
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def smooth(values: Sequence[float], window: int) -> list[float]:
    """Trailing moving average over ``window`` values (the first ones average what there is)."""
    if window < 1:
        raise ValueError(f"window must be >= 1; got {window}.")
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= window:
            total -= values[i - window]
        out.append(total / min(i + 1, window))
    return out


def file_hash(path: str | Path, algorithm: str = "sha256") -> str:
    """The hex digest of a file (``"sha256"``, ``"md5"``, any name ``hashlib`` knows), read in 1 MiB chunks."""
    if algorithm not in hashlib.algorithms_available:
        raise ValueError(f"algorithm must be one hashlib knows, such as 'sha256' or 'md5'; got {algorithm!r}.")
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
