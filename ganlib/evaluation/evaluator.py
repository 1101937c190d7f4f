"""The frozen MNIST evaluator: a small classifier that scores generated digits (lesson 01 on).

A GAN's losses say who is winning the game, not how good the samples are. A classifier trained
once on real MNIST can: its predictions tell which digit a sample shows (mode coverage, label
accuracy) and its penultimate features, 128 numbers per image, define a Fréchet distance between
generated and real digits (see :mod:`ganlib.evaluation.metrics`).

The weights ship with the course in ``ganlib/weights/mnist_classifier.pt``; they were made by
``python scripts/train_evaluator.py`` (seeded, a few minutes on a laptop CPU) and are read with
``torch.load(weights_only=True)``. Images go in as (N, 1, 28, 28) floats in [-1, 1], the range our
generators produce; anything else is refused with an error that says what came instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ..data import load_mnist
from ..validate import check_image_batch
from .stats import feature_stats

WEIGHTS = Path(__file__).resolve().parent.parent / "weights" / "mnist_classifier.pt"
FEATURE_DIM = 128
WEIGHTS_VERSION = 1


class EvaluatorUnavailable(RuntimeError):
    """The evaluator's weights are missing or unreadable; the message says how to make them."""


class MNISTClassifier(nn.Module):
    """Three conv blocks, then a 128-unit layer whose activations are the features, then the read-out.

    (N, 1, 28, 28) -> conv 5x5 32 -> pool 14x14 -> conv 3x3 64 -> pool 7x7 -> conv 3x3 128 -> pool 3x3
    -> flatten 1152 -> linear + ReLU -> (N, 128) features -> linear -> (N, 10) logits.
    The features keep where the strokes are (no global pooling), so they notice malformed digits.
    """

    def __init__(self) -> None:
        super().__init__()

        def block(c_in: int, c_out: int, k: int) -> list[nn.Module]:
            return [nn.Conv2d(c_in, c_out, k, padding=k // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(),
                    nn.MaxPool2d(2)]

        self.body = nn.Sequential(
            *block(1, 32, 5), *block(32, 64, 3), *block(64, 128, 3), nn.Flatten(),
            nn.Linear(128 * 3 * 3, FEATURE_DIM), nn.ReLU(),
        )
        self.head = nn.Linear(FEATURE_DIM, 10)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.body(x))


class Evaluator:
    """The frozen classifier with the questions a lesson asks of it.

    ``Evaluator()`` loads the shipped weights onto ``device`` (the CPU by default). It never trains
    and never changes the global random state.
    """

    def __init__(self, path: str | Path | None = None, device: torch.device | str | None = None) -> None:
        self.path = Path(path) if path is not None else WEIGHTS
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.model = MNISTClassifier()
        state = load_weights(self.path)
        try:
            self.model.load_state_dict(state["model"])
        except RuntimeError as err:
            raise EvaluatorUnavailable(f"{self.path} holds weights of another classifier ({err}); run "
                                       f"`python scripts/train_evaluator.py` to make matching ones.") from err
        self.model.to(self.device).eval().requires_grad_(False)
        self.test_accuracy: float = float(state["test_accuracy"])
        self.cache: dict[str, Any] = {}  # feature statistics of real digits, computed once per evaluator

    def __repr__(self) -> str:
        return f"Evaluator(MNIST classifier, test accuracy {self.test_accuracy:.2%}, {FEATURE_DIM} features, on {self.device})"

    @torch.no_grad()
    def _run(self, images: Tensor, fn: Any, batch_size: int) -> Tensor:
        check_image_batch(images)
        return torch.cat([fn(chunk.to(self.device)).float().cpu() for chunk in images.split(batch_size)])

    def features(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """Penultimate features, (N, 128), of images in [-1, 1]."""
        return self._run(images, self.model.features, batch_size)

    def logits(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """Class scores, (N, 10)."""
        return self._run(images, self.model, batch_size)

    def predict(self, images: Tensor, batch_size: int = 1000) -> Tensor:
        """The digit each image shows, (N,) int64."""
        return self.logits(images, batch_size).argmax(1)

    def reference_stats(self, split: str = "test") -> tuple[Tensor, Tensor]:
        """Mean (128,) and covariance (128, 128) of the features of a whole MNIST split, computed once."""
        key = f"stats:{split}"
        if key not in self.cache:
            self.cache[key] = feature_stats(self.features(load_mnist(split)[0]))
        return self.cache[key]


def load_weights(path: str | Path = WEIGHTS) -> dict[str, Any]:
    """The evaluator's checkpoint, read with ``weights_only=True``; clear errors if it is not there."""
    path = Path(path)
    if not path.is_file():
        raise EvaluatorUnavailable(
            f"no evaluator weights at {path}. They ship with the course; restore them with "
            f"`git checkout ganlib/weights` or make them again with `python scripts/train_evaluator.py`."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated file, not a zip, foreign pickle ...
        raise EvaluatorUnavailable(f"{path} is not readable ({type(err).__name__}: {err}); "
                                   f"run `python scripts/train_evaluator.py` to make it again.") from err
    if not isinstance(state, dict) or state.get("version") != WEIGHTS_VERSION or "model" not in state:
        raise EvaluatorUnavailable(f"{path} is not a version-{WEIGHTS_VERSION} evaluator checkpoint; "
                                   f"run `python scripts/train_evaluator.py` to make it again.")
    return state
