"""The one set of input checks that every ganlib function and model uses.

Each check raises a ``ValueError`` (:func:`check_image_batch` raises a ``TypeError`` for something
that is not a tensor at all) whose message names what was expected and what came, in the words a learner would use, and returns nothing (or the checked
value, where a caller wants it back). ``owner`` is the name of the function or model that asks, so
the message says who refused the input.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

RANGE_SLACK = 1e-3  # images may overshoot [-1, 1] by this much (float rounding of tanh outputs)


def _shape(x: Any) -> Any:
    return tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__


def check_positive(**values: Any) -> None:
    """Each keyword must be a positive integer (``True`` does not count as 1)."""
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")


def check_positive_number(value: Any, name: str, hint: str = "") -> None:
    """``value`` must be a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number{hint}; got {value!r}.")


def check_noise(z: Any, z_dim: int, owner: str) -> Tensor:
    """Noise must be (N, z_dim) (a DCGAN-style (N, z_dim, 1, 1) is flattened); returns it as (N, z_dim)."""
    flat = z.flatten(1) if isinstance(z, Tensor) and z.ndim == 4 and z.shape[2:] == (1, 1) else z
    if not isinstance(flat, Tensor) or flat.ndim != 2 or flat.shape[1] != z_dim:
        raise ValueError(f"{owner} expects noise of shape (N, {z_dim}); got {_shape(z)}.")
    return flat


def check_image_shape(x: Any, owner: str, channels: int, size: int | tuple[int, int] | None = None) -> None:
    """Images must be (N, channels, H, W) with (H, W) = ``size`` (an int: square); ``None`` accepts any size."""
    hw = (size, size) if isinstance(size, int) else size
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != channels or (
            hw is not None and tuple(x.shape[2:]) != tuple(hw)):
        side = "S, S" if hw is None else f"{hw[0]}, {hw[1]}"
        raise ValueError(f"{owner} expects images of shape (N, {channels}, {side}); got {_shape(x)}.")


def check_range(x: Tensor, name: str, hint: str = "") -> None:
    """Values must lie in [-1, 1] (the range of tanh and of ganlib's datasets)."""
    lo, hi = float(x.min()), float(x.max())
    if lo < -1 - RANGE_SLACK or hi > 1 + RANGE_SLACK:
        raise ValueError(f"{name} must lie in [-1, 1]; got values from {lo:.3g} to {hi:.3g}.{hint}")


def check_image_batch(images: Any, what: str = "images", shape: tuple[int, int, int] = (1, 28, 28)) -> Tensor:
    """A float batch (N, *shape) in [-1, 1] that is not obviously scaled to [0, 1]; returned unchanged.

    Our generators end with tanh and our datasets are scaled to [-1, 1], so MNIST-like images have a
    background of -1. A batch of two or more images with no negative value at all was almost surely
    scaled to [0, 1] (for example by ``save_image``-style code or a sigmoid output) and is refused
    rather than scored; a single image cannot be told apart from a bright one and is accepted.
    """
    text = f"(N, {', '.join(map(str, shape))})"
    if not isinstance(images, Tensor):
        raise TypeError(f"{what} must be a torch.Tensor of shape {text}; got {type(images).__name__}.")
    if images.ndim != 4 or tuple(images.shape[1:]) != tuple(shape):
        note = " (MNIST-sized, one channel)" if tuple(shape) == (1, 28, 28) else ""
        raise ValueError(f"{what} must have shape {text}{note}; got {tuple(images.shape)}.")
    if not images.is_floating_point():
        raise ValueError(f"{what} must be floats in [-1, 1]; got dtype {images.dtype} (convert with x / 127.5 - 1).")
    if len(images) == 0:
        raise ValueError(f"{what} is empty: need at least one image.")
    if not bool(torch.isfinite(images).all()):
        raise ValueError(f"{what} contain NaN or infinite values: the generator has diverged.")
    check_range(images, what, " Does the generator end with tanh, and were the data scaled with x / 127.5 - 1?")
    lo, hi = float(images.min()), float(images.max())
    if lo >= 0.0 and len(images) > 1:
        raise ValueError(f"{what} have no negative values (range {lo:.3g} to {hi:.3g}): they look scaled to "
                         f"[0, 1], but the evaluator expects [-1, 1] (MNIST background = -1). Use x * 2 - 1.")
    return images


def check_labels(labels: Any, n: int | None, n_classes: int, owner: str) -> None:
    """Labels must be an int64 tensor (N,) of class indices in 0..n_classes - 1; ``n``: the batch size (None: any)."""
    if not isinstance(labels, Tensor) or labels.ndim != 1 or (n is not None and labels.shape[0] != n) \
            or labels.dtype != torch.long:
        got = f"{labels.dtype} of shape {tuple(labels.shape)}" if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"{owner} expects labels as an int64 tensor of shape ({'N' if n is None else n},), one class "
                         f"index per image; got {got}.")
    if labels.numel() and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(f"{owner} expects class indices in 0..{n_classes - 1}; got values from "
                         f"{int(labels.min())} to {int(labels.max())}.")


def check_same_shape(a: Any, b: Any, owner: str) -> None:
    """Two batches that are compared pixel by pixel must have the same shape (no silent broadcasting)."""
    if not isinstance(a, Tensor) or not isinstance(b, Tensor) or a.shape != b.shape:
        raise ValueError(f"{owner} compares two batches of the same shape; got {_shape(a)} and {_shape(b)} "
                         f"(broadcasting would silently compare the wrong pixels).")
