"""Datasets as whole tensors and random-permutation batches (taught in lesson 01).

A dataset is read once by torchvision, turned into one float tensor in [-1, 1] (on the GPU when
there is one) and sliced by random permutation: no per-item PIL transforms on the training path.
MNIST ships with the course in ``data/mnist/`` and needs no network; Fashion-MNIST and CIFAR-10 are
downloaded by torchvision into ``data/`` when a lesson asks for them.
"""

from __future__ import annotations

import gzip
import os
import shutil
import zlib
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from .utils import file_hash

# md5 of the uncompressed IDX files, as torchvision knows them.
MNIST_FILES = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
DATASETS = ("mnist", "fashion-mnist", "cifar10")
CLASS_NAMES = {
    "mnist": tuple(str(d) for d in range(10)),
    "fashion-mnist": ("T-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"),
    "cifar10": ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
}
TORCHVISION_FOLDERS = {"fashion-mnist": "FashionMNIST/raw", "cifar10": "cifar-10-batches-py"}  # where torchvision looks


class DatasetUnavailable(RuntimeError):
    """A dataset is neither on disk nor downloadable; the message says how to get it."""


def data_dir() -> Path:
    """Where datasets live: ``$GANLIB_DATA`` if set, else the course's ``data/`` folder."""
    env = os.environ.get("GANLIB_DATA")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "data"


def prepare_mnist(root: str | Path | None = None) -> Path:
    """Unpack the shipped MNIST files where torchvision's ``datasets.MNIST`` looks for them.

    Reads ``root/mnist/*.gz`` (shipped with the course) and writes ``root/MNIST/raw/*``, checking each
    file's md5. Does nothing when the raw files are already there. Returns ``root``.
    """
    root = Path(root) if root is not None else data_dir()
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, md5 in MNIST_FILES.items():
        target = raw / name
        if target.exists():
            continue
        source = root / "mnist" / f"{name}.gz"
        if not source.exists():
            raise DatasetUnavailable(
                f"MNIST file {source} is missing. The course ships MNIST in data/mnist/ "
                f"(four .gz files); restore them with `git checkout data/mnist` or set GANLIB_DATA "
                f"to a folder that holds them."
            )
        partial = target.with_suffix(f".{os.getpid()}.partial")  # own name: parallel runs may unpack at once
        try:
            with gzip.open(source, "rb") as fin, open(partial, "wb") as fout:
                shutil.copyfileobj(fin, fout)
        except (gzip.BadGzipFile, EOFError, zlib.error) as err:  # not gzip, or cut short
            partial.unlink(missing_ok=True)
            raise DatasetUnavailable(f"{source} is corrupt: it is not a complete gzip file ({err}).") from err
        if file_hash(partial, "md5") != md5:
            partial.unlink()
            raise DatasetUnavailable(f"{source} is corrupt: its content does not have md5 {md5}.")
        partial.replace(target)
    return root


def _torchvision_dataset(name: str, train: bool, root: Path, download: bool) -> Any:
    from torchvision import datasets

    if name == "mnist":
        prepare_mnist(root)
        return datasets.MNIST(root, train=train, download=False)
    cls = {"fashion-mnist": datasets.FashionMNIST, "cifar10": datasets.CIFAR10}[name]
    try:
        return cls(root, train=train, download=download)
    except (OSError, RuntimeError) as err:  # URLError is an OSError; torchvision raises RuntimeError
        raise DatasetUnavailable(
            f"{name} is not in {root} and could not be downloaded ({err}). Connect to the internet "
            f"and run again (torchvision downloads it into {root}), or put the dataset's files in "
            f"{root / TORCHVISION_FOLDERS[name]} yourself. MNIST needs no download."
        ) from err


def load_dataset(
    name: str = "mnist",
    split: str = "train",
    *,
    limit: int | None = None,
    device: torch.device | str | None = None,
    root: str | Path | None = None,
    download: bool = True,
) -> tuple[Tensor, Tensor]:
    """A whole dataset as ``(images, labels)``: images float (N, C, H, W) in [-1, 1], labels int64 (N,).

    ``name`` is one of ``mnist``, ``fashion-mnist``, ``cifar10``; ``split`` is ``train`` or ``test``;
    ``limit`` keeps the first ``limit`` items. The tensors are put on ``device`` once.
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(DATASETS)}; got {name!r}.")
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test'; got {split!r}.")
    if limit is not None and limit <= 0:
        raise ValueError(f"limit must be a positive number of items or None; got {limit}.")
    root = Path(root) if root is not None else data_dir()
    ds = _torchvision_dataset(name, split == "train", root, download)
    pixels = torch.as_tensor(ds.data)[:limit]  # uint8, (N, H, W) or (N, H, W, C)
    pixels = pixels.unsqueeze(1) if pixels.ndim == 3 else pixels.permute(0, 3, 1, 2)
    labels = torch.as_tensor(ds.targets, dtype=torch.long)[:limit]
    images = pixels.to(device=device, dtype=torch.float32).div_(127.5).sub_(1.0)
    return images, labels.to(device)


def load_mnist(split: str = "train", **kwargs: Any) -> tuple[Tensor, Tensor]:
    """MNIST as ``(images, labels)``, images (N, 1, 28, 28) in [-1, 1]; see :func:`load_dataset`."""
    return load_dataset("mnist", split, **kwargs)


class Batches:
    """Endless random batches sliced from tensors that are held whole (lesson 01).

    Each epoch draws one random permutation and cuts it into ``batch_size`` slices (the last,
    incomplete slice is dropped). ``Batches(images)`` yields image batches; ``Batches(images, labels)``
    yields ``(images, labels)`` pairs. Its own generator makes the order reproducible, and
    :meth:`state_dict` lets a resumed run see exactly the batches it would have seen.
    """

    def __init__(self, *tensors: Tensor, batch_size: int, seed: int = 0) -> None:
        if not tensors:
            raise ValueError("Batches needs at least one tensor, e.g. Batches(images, batch_size=64).")
        n = len(tensors[0])
        if any(len(t) != n for t in tensors):
            raise ValueError(f"all tensors must have the same length; got {[len(t) for t in tensors]}.")
        if not 0 < batch_size <= n:
            raise ValueError(f"batch_size must be between 1 and the dataset size {n}; got {batch_size}.")
        self.tensors = tensors
        self.batch_size = batch_size
        self.epoch = 0
        self._generator = torch.Generator().manual_seed(seed)
        self._order: Tensor | None = None
        self._pos = 0

    def __len__(self) -> int:
        """Batches per epoch."""
        return len(self.tensors[0]) // self.batch_size

    def __iter__(self) -> "Batches":
        return self

    def __next__(self) -> Tensor | tuple[Tensor, ...]:
        if self._order is None or self._pos + self.batch_size > len(self._order):
            n = len(self.tensors[0])
            self._order = torch.randperm(n, generator=self._generator).to(self.tensors[0].device)
            self._pos = 0
            self.epoch += 1
        index = self._order[self._pos : self._pos + self.batch_size]
        self._pos += self.batch_size
        batch = tuple(t[index] for t in self.tensors)
        return batch[0] if len(batch) == 1 else batch

    def state_dict(self) -> dict[str, Any]:
        order = None if self._order is None else self._order.cpu()
        return {"generator": self._generator.get_state(), "order": order, "pos": self._pos, "epoch": self.epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self._generator.set_state(state["generator"])
        order = state["order"]
        self._order = None if order is None else order.to(self.tensors[0].device)
        self._pos = state["pos"]
        self.epoch = state["epoch"]
