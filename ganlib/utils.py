"""Seeding and device choice (used from lesson 01 on)."""

from __future__ import annotations

import os
import random

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
