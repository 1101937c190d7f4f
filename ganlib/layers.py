"""Building blocks more than one paper uses: the norm table, DCGAN's weight init, label maps.

* :data:`NORMS`: what a constructor's ``norm="batch" | "instance" | "none"`` means (Pix2Pix uses
  BatchNorm, CycleGAN InstanceNorm; lessons 05 and 06). Options come from this table, never from a
  growing if/elif.
* :func:`dcgan_init`: DCGAN's N(0, 0.02) initialisation (lesson 02), which Pix2Pix and CycleGAN keep.
* :func:`label_maps`: one-hot labels spread over the image plane, for a convolutional discriminator
  that must see the label (lesson 03).
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from .validate import check_labels

NORMS = {  # what "norm" means in the constructors; None: no normalisation layer
    "batch": nn.BatchNorm2d,       # Pix2Pix
    "instance": nn.InstanceNorm2d,  # CycleGAN (no learned scale, no running statistics)
    "none": None,
}


def check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(map(repr, NORMS))}; got {norm!r}.")


def norm_layer(norm: str, channels: int) -> list[nn.Module]:
    """``[NORMS[norm](channels)]``, or ``[]`` for ``"none"``: splice it into a layer list with ``*``."""
    check_norm(norm)
    cls = NORMS[norm]
    return [] if cls is None else [cls(channels)]


def uses_bias(norm: str) -> bool:
    """A convolution followed by a norm needs no bias (the norm subtracts the mean anyway)."""
    check_norm(norm)
    return NORMS[norm] is None


def dcgan_init(module: nn.Module) -> None:
    """DCGAN weight init, for ``model.apply(dcgan_init)`` (lesson 02).

    Convolution and linear weights ~ N(0, 0.02); BatchNorm scales ~ N(1, 0.02); all biases 0.
    Chosen by ``isinstance``, so subclasses and renamed layers are covered too.
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def label_maps(labels: Tensor, n_classes: int, size: int) -> Tensor:
    """One-hot labels spread over the image plane: (N,) -> (N, n_classes, size, size) (lesson 03).

    Channel ``y`` of image ``i`` is all ones when ``labels[i] == y`` and all zeros otherwise, so a
    convolutional discriminator sees the label at every pixel, next to the image's own channels.
    """
    check_labels(labels, None, n_classes, "label_maps")
    one_hot = F.one_hot(labels, n_classes).float()
    return one_hot[:, :, None, None].expand(-1, -1, size, size)
