"""Datasets for image-to-image translation: Pix2Pix (lesson 05) and CycleGAN (lesson 06).

Three offline datasets are made from the MNIST that ships with the course, so the lessons need no
network on a laptop:

* ``edges2digits`` (paired, for Pix2Pix): the input is the *edge map* of a digit, the target the
  digit itself. A pixel is an edge when the Sobel gradient there is at least half as strong as
  across a sharp black-to-white step; edges are white (1) on black (-1), so each stroke becomes its
  two outlines and the generator must learn to fill them, as Pix2Pix fills the edges of a shoe.
* ``tops2digits`` (paired, for Pix2Pix): the input is the *top half* of a digit (rows below the
  middle of the 32 x 32 image set to black), the target the whole digit. Unlike edges2digits the
  task is ambiguous: a 2, a 3 and a 1 can start alike, and a stroke can end in many ways, so
  several targets fit one input.
* ``thin2thick`` (unpaired, for CycleGAN): domain A holds digits as written, domain B digits
  written with a bold pen: a grey-scale dilation by a 3 x 3 square (each pixel takes the brightest
  value around it). A and B are drawn from *disjoint* halves of MNIST, split at random by ``seed``,
  so no image of A has its partner in B and training is truly unpaired. The hidden partner of every
  image (``a_as_b``, ``b_as_a``: the same digit in the other domain) is kept for scoring only.

All are **32 x 32**: the 28 x 28 digits are padded with two pixels of background on each side,
because 28 can be halved only twice while 32 = 2**5 lets a U-Net of depth 5 reach a 1 x 1
bottleneck, as the paper's 256 x 256 images do with depth 8. Values are in [-1, 1], shape
(N, 1, 32, 32); :func:`crop_to_28` gives back the 28 x 28 digits that the evaluator of
:mod:`ganlib.evaluation.metrics` reads.

All are **deterministic**: the operations are integer arithmetic on the uint8 pixels, so the same
``seed`` gives bit-identical tensors on every machine. They are cached as uint8 tensors in
``data/generated/<name>-<split>-<limit>-seed<seed>.pt``, together with the parameters that made them
(including :data:`GENERATOR_VERSION`) and a SHA-256 of the tensors; a cache whose parameters or
digest do not match is rebuilt (in a few seconds).

:func:`load_paired` and :func:`load_unpaired` take a dataset *name*, so that a lesson switches
from the offline set to a real one (``"facades"``, ``"horse2zebra"``, ...; downloaded by
:func:`ganlib.datasets.download.fetch_dataset`) by changing one line of its config cell.
"""

from __future__ import annotations

import hashlib
import warnings
from pathlib import Path
from typing import Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ..data import data_dir, prepare_mnist
from .download import REGISTRY, fetch_dataset

IMG_SIZE = 32  # 28 + 2 + 2
GENERATOR_VERSION = 1  # bump when an operation below changes: old caches are then rebuilt
EDGE_THRESHOLD = 510  # half the Sobel response to a sharp 0 -> 255 step (4 * 255)
TOP_ROWS = 16  # tops2digits keeps rows 0..15 of 32, the top half of the padded image
OFFLINE = {"edges2digits": "paired", "tops2digits": "paired", "thin2thick": "unpaired"}
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
_CHUNK = 4096  # images per step of the integer operations: keeps the int32 temporaries small


class PairedData(NamedTuple):
    """A paired dataset: ``targets[i]`` is the translation of ``inputs[i]``; ``labels`` (digits) or None."""

    inputs: Tensor
    targets: Tensor
    labels: Tensor | None = None


class UnpairedData(NamedTuple):
    """Two unpaired domains ``a`` and ``b`` (of possibly different lengths).

    ``a_as_b[i]`` is image ``a[i]`` as it looks in domain B and ``b_as_a[j]`` is ``b[j]`` in domain A:
    the hidden truth, for scoring translations only (never train on it). None for real datasets,
    which have no such truth; so are ``labels_a`` and ``labels_b`` (the digits).
    """

    a: Tensor
    b: Tensor
    a_as_b: Tensor | None = None
    b_as_a: Tensor | None = None
    labels_a: Tensor | None = None
    labels_b: Tensor | None = None


# -- the fixed operations, on uint8 pixels ---------------------------------------------------------
def _windows(u: Tensor) -> list[Tensor]:
    """The 9 shifted copies of (N, C, H, W) ``u`` seen through a 3 x 3 window (zero padding)."""
    h, w = u.shape[-2:]
    p = F.pad(u, (1, 1, 1, 1))
    return [p[..., i:i + h, j:j + w] for i in range(3) for j in range(3)]


def _edges_u8(u: Tensor) -> Tensor:
    """uint8 (N, C, H, W) -> uint8 edge map: 255 where |Sobel gradient| >= EDGE_THRESHOLD, else 0."""
    out = torch.empty_like(u)
    for start in range(0, len(u), _CHUNK):
        w = _windows(u[start:start + _CHUNK].to(torch.int32))  # w[3 * row + col]
        gx = (w[2] + 2 * w[5] + w[8]) - (w[0] + 2 * w[3] + w[6])
        gy = (w[6] + 2 * w[7] + w[8]) - (w[0] + 2 * w[1] + w[2])
        out[start:start + _CHUNK] = (gx * gx + gy * gy >= EDGE_THRESHOLD**2).to(torch.uint8) * 255
    return out


def _dilate_u8(u: Tensor) -> Tensor:
    """uint8 (N, C, H, W) -> grey-scale dilation by a 3 x 3 square: the brightest value around each pixel."""
    out = torch.empty_like(u)
    for start in range(0, len(u), _CHUNK):
        out[start:start + _CHUNK] = torch.stack(_windows(u[start:start + _CHUNK])).amax(0)
    return out


def _top_u8(u: Tensor) -> Tensor:
    """uint8 (N, C, H, W) -> the same with rows TOP_ROWS.. set to 0 (black): only the top half is left."""
    out = u.clone()
    out[..., TOP_ROWS:, :] = 0
    return out


def _to_u8(images: Tensor, owner: str) -> Tensor:
    if not isinstance(images, Tensor) or images.ndim != 4 or not images.is_floating_point():
        got = f"{images.dtype} {tuple(images.shape)}" if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"{owner} expects float images (N, C, H, W) in [-1, 1]; got {got}.")
    return images.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8)


def _to_float(u: Tensor, device: torch.device | str | None = None) -> Tensor:
    return u.to(device=device).to(torch.float32).div_(127.5).sub_(1.0)


def edge_map(images: Tensor) -> Tensor:
    """The input of ``edges2digits`` (lesson 05): images in [-1, 1] -> edges, 1 (white) or -1 (black).

    A pixel is an edge where the Sobel gradient magnitude is at least :data:`EDGE_THRESHOLD`, half
    the response to a sharp black-to-white step, computed in integers on the 0..255 pixel values.
    """
    return _to_float(_edges_u8(_to_u8(images, "edge_map")), images.device)


def top_half(images: Tensor) -> Tensor:
    """The input of ``tops2digits`` (lesson 05): images in [-1, 1] with every row from :data:`TOP_ROWS` down set to -1."""
    return _to_float(_top_u8(_to_u8(images, "top_half")), images.device)


def thicken(images: Tensor) -> Tensor:
    """Domain B of ``thin2thick`` (lesson 06): each pixel takes the brightest value of its 3 x 3 neighbourhood."""
    return _to_float(_dilate_u8(_to_u8(images, "thicken")), images.device)


def crop_to_28(images: Tensor) -> Tensor:
    """Undo the padding: (N, C, 32, 32) -> (N, C, 28, 28), e.g. to score translations with :mod:`ganlib.evaluation.metrics`."""
    if not isinstance(images, Tensor) or images.ndim != 4 or tuple(images.shape[2:]) != (IMG_SIZE, IMG_SIZE):
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"crop_to_28 expects images (N, C, {IMG_SIZE}, {IMG_SIZE}); got {got}.")
    return images[..., 2:-2, 2:-2]


# -- MNIST, the split, the cache ------------------------------------------------------------------
def _check_split(split: str, splits: tuple[str, ...], name: str) -> None:
    if split not in splits:
        raise ValueError(f"split for {name!r} must be one of {', '.join(map(repr, splits))}; got {split!r}.")


def _check_limit(limit: int | None, available: int, what: str) -> int:
    if limit is None:
        return available
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
        raise ValueError(f"limit must be a positive number of images or None; got {limit!r}.")
    if limit > available:
        raise ValueError(f"limit={limit} asks for more than the {available} {what}.")
    return limit


def _mnist_u8(split: str, root: Path) -> tuple[Tensor, Tensor]:
    """The shipped MNIST split as uint8 (N, 1, 32, 32) (padded) and int64 labels."""
    from torchvision import datasets

    prepare_mnist(root)
    ds = datasets.MNIST(root, train=split == "train", download=False)
    pixels = F.pad(torch.as_tensor(ds.data).unsqueeze(1), (2, 2, 2, 2))  # background is 0
    return pixels, torch.as_tensor(ds.targets, dtype=torch.long)


def unpaired_split(n: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Indices 0..n-1 cut at random into two disjoint halves (each sorted), the same for the same ``seed``."""
    if not isinstance(n, int) or n < 2:
        raise ValueError(f"n must be an integer >= 2; got {n!r}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    half = n // 2
    return order[:half].sort().values, order[half:2 * half].sort().values


def _digest(tensors: dict[str, Tensor]) -> str:
    h = hashlib.sha256()
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(f"{name}{tuple(t.shape)}{t.dtype}".encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _cached(name: str, split: str, limit: int | None, seed: int, root: Path, cache: bool,
            build: Callable[[], dict[str, Tensor]]) -> dict[str, Tensor]:
    """Load the tensors of one generated set from its cache file, or build (and cache) them."""
    params = {"name": name, "split": split, "limit": -1 if limit is None else limit, "seed": seed,
              "size": IMG_SIZE, "version": GENERATOR_VERSION, "edge_threshold": EDGE_THRESHOLD,
              "top_rows": TOP_ROWS}
    path = root / "generated" / f"{name}-{split}-{'all' if limit is None else limit}-seed{seed}.pt"
    if cache and path.exists():
        try:
            stored = torch.load(path, weights_only=True)
            if stored.get("params") == params and stored.get("sha256") == _digest(stored["tensors"]):
                return stored["tensors"]
        except Exception:  # unreadable or foreign file: rebuild it  # noqa: BLE001
            pass
    tensors = build()
    if cache:
        partial = path.with_name(path.name + ".partial")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.save({"params": params, "sha256": _digest(tensors), "tensors": tensors}, partial)
            partial.replace(path)
        except OSError as err:  # a read-only data folder: go on without a cache
            partial.unlink(missing_ok=True)
            warnings.warn(f"could not cache {name} in {path.parent} ({err}); it will be generated again next time.",
                          stacklevel=3)
    return tensors


# -- the offline datasets ------------------------------------------------------------------------
def _make_paired(name: str, make_input: Callable[[Tensor], Tensor], split: str, limit: int | None, seed: int,
                 device: torch.device | str | None, root: str | Path | None, cache: bool) -> PairedData:
    """``limit`` digits of the MNIST ``split`` (chosen at random by ``seed``, kept in MNIST order) as targets,
    ``make_input`` of each (on uint8 pixels) as inputs."""
    _check_split(split, ("train", "test"), name)
    root = Path(root) if root is not None else data_dir()

    def build() -> dict[str, Tensor]:
        pixels, labels = _mnist_u8(split, root)
        n = _check_limit(limit, len(pixels), f"MNIST {split} images")
        index = torch.randperm(len(pixels), generator=torch.Generator().manual_seed(seed))[:n].sort().values
        digits = pixels[index]
        return {"inputs": make_input(digits), "targets": digits, "labels": labels[index]}

    t = _cached(name, split, limit, seed, root, cache, build)
    return PairedData(_to_float(t["inputs"], device), _to_float(t["targets"], device), t["labels"].to(device))


def make_edges2digits(split: str = "train", *, limit: int | None = None, seed: int = 0,
                      device: torch.device | str | None = None, root: str | Path | None = None,
                      cache: bool = True) -> PairedData:
    """The paired offline task of lesson 05's first version: edge maps -> digits, 32 x 32, in [-1, 1].

    ``limit`` images of the MNIST ``split`` (all 60,000 / 10,000 if None), chosen at random by
    ``seed`` and kept in MNIST order. Returns ``PairedData(inputs, targets, labels)``.
    """
    return _make_paired("edges2digits", _edges_u8, split, limit, seed, device, root, cache)


def make_tops2digits(split: str = "train", *, limit: int | None = None, seed: int = 0,
                     device: torch.device | str | None = None, root: str | Path | None = None,
                     cache: bool = True) -> PairedData:
    """The paired offline task of lesson 05: the top half of a digit -> the whole digit, 32 x 32, in [-1, 1].

    The input keeps the first :data:`TOP_ROWS` rows of the padded digit and is black below; the
    target is the digit. Chosen like :func:`make_edges2digits`. Several digits can share one top
    half, so the task has more than one right answer.
    """
    return _make_paired("tops2digits", _top_u8, split, limit, seed, device, root, cache)


def make_thin2thick(split: str = "train", *, limit: int | None = None, seed: int = 0,
                    device: torch.device | str | None = None, root: str | Path | None = None,
                    cache: bool = True) -> UnpairedData:
    """The unpaired offline task of lesson 06: thin (as written) <-> thick (dilated) digits, 32 x 32, in [-1, 1].

    The MNIST ``split`` is cut into two disjoint random halves by ``seed`` (:func:`unpaired_split`);
    domain A takes its images from the first, domain B from the second, ``limit`` each (all 30,000 /
    5,000 if None). ``a_as_b`` and ``b_as_a`` hold the hidden partners, for scoring only.
    """
    _check_split(split, ("train", "test"), "thin2thick")
    root = Path(root) if root is not None else data_dir()

    def build() -> dict[str, Tensor]:
        pixels, labels = _mnist_u8(split, root)
        index_a, index_b = unpaired_split(len(pixels), seed)
        n = _check_limit(limit, len(index_a), f"images in each half of MNIST {split}")
        index_a, index_b = index_a[:n], index_b[:n]
        thin_a, thin_b = pixels[index_a], pixels[index_b]
        return {"a": thin_a, "b": _dilate_u8(thin_b), "a_as_b": _dilate_u8(thin_a), "b_as_a": thin_b,
                "labels_a": labels[index_a], "labels_b": labels[index_b], "index_a": index_a, "index_b": index_b}

    t = _cached("thin2thick", split, limit, seed, root, cache, build)
    return UnpairedData(*(_to_float(t[k], device) for k in ("a", "b", "a_as_b", "b_as_a")),
                        t["labels_a"].to(device), t["labels_b"].to(device))


# -- real datasets, read from their folders --------------------------------------------------------
def _image_files(folder: Path, limit: int | None) -> list[Path]:
    """The image files of ``folder``, sorted by name; the first ``limit`` of them (all if fewer)."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of images.")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError(f"{folder} holds no images ({', '.join(IMAGE_SUFFIXES)}).")
    return files[:min(_check_limit(limit, 2**62, "images"), len(files))]


def _read_rgb(path: Path) -> Tensor:
    """uint8 (3, H, W); grey images get three equal channels."""
    from PIL import Image
    from torchvision.transforms.functional import pil_to_tensor

    with Image.open(path) as image:
        return pil_to_tensor(image.convert("RGB"))


def _resize(image: Tensor, size: int | None) -> Tensor:
    if size is None or tuple(image.shape[-2:]) == (size, size):
        return image
    resized = F.interpolate(image[None].float(), size=(size, size), mode="bilinear", align_corners=False,
                            antialias=True)
    return resized[0].round().clamp(0, 255).to(torch.uint8)


def _stack(images: list[Tensor], folder: Path) -> Tensor:
    shapes = {tuple(t.shape) for t in images}
    if len(shapes) > 1:
        raise ValueError(f"the images in {folder} have different sizes {sorted(shapes)}; pass size=... to resize them.")
    return torch.stack(images)


def read_image_folder(folder: str | Path, *, size: int | None = None, limit: int | None = None,
                      device: torch.device | str | None = None) -> Tensor:
    """The images of one folder (sorted by name; at most ``limit``) as RGB (N, 3, S, S) in [-1, 1].

    Each is resized to ``size`` x ``size`` if given; without ``size`` they must all have one size.
    """
    folder = Path(folder)
    images = [_resize(_read_rgb(p), size) for p in _image_files(folder, limit)]
    return _to_float(_stack(images, folder), device)


def read_paired_folder(folder: str | Path, *, direction: str = "AtoB", size: int | None = None,
                       limit: int | None = None, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
    """A folder of Pix2Pix images, each holding A | B side by side, as ``(inputs, targets)`` RGB in [-1, 1].

    ``direction="AtoB"`` makes the left half the input, ``"BtoA"`` the right half. Each half is
    resized to ``size`` x ``size`` if given.
    """
    if direction not in ("AtoB", "BtoA"):
        raise ValueError(f"direction must be 'AtoB' or 'BtoA'; got {direction!r}.")
    folder = Path(folder)
    lefts, rights = [], []
    for p in _image_files(folder, limit):
        image = _read_rgb(p)
        half = image.shape[-1] // 2
        lefts.append(_resize(image[..., :half], size))
        rights.append(_resize(image[..., half:2 * half], size))
    a, b = _stack(lefts, folder), _stack(rights, folder)
    inputs, targets = (a, b) if direction == "AtoB" else (b, a)
    return _to_float(inputs, device), _to_float(targets, device)


# -- one entry point per kind, by name -------------------------------------------------------------
def _kind(name: str, kind: str) -> None:
    known = [n for n, k in OFFLINE.items() if k == kind] + [n for n, d in REGISTRY.items() if d.kind == kind]
    if OFFLINE.get(name) != kind and (name not in REGISTRY or REGISTRY[name].kind != kind):
        raise ValueError(f"unknown {kind} dataset {name!r}; expected one of: {', '.join(known)}.")


def _check_offline_size(name: str, size: int | None) -> None:
    if size not in (None, IMG_SIZE):
        raise ValueError(f"{name!r} is made at {IMG_SIZE} x {IMG_SIZE}; got size={size}. Leave size=None.")


def load_paired(name: str = "tops2digits", split: str = "train", *, limit: int | None = None, seed: int = 0,
                size: int | None = None, device: torch.device | str | None = None,
                root: str | Path | None = None) -> PairedData:
    """A paired dataset by name (lesson 05): the offline ``tops2digits`` or ``edges2digits``, or a Pix2Pix set such as ``facades``.

    Real sets are fetched once into ``<root>/downloads`` (``root`` defaults to ``data/``), read in
    the registry's direction (e.g. facades: labels -> photo), and resized to ``size`` (256 if None);
    their ``labels`` are None. ``seed`` only matters for the offline set.
    """
    _kind(name, "paired")
    if name in OFFLINE:
        _check_offline_size(name, size)
        make = make_edges2digits if name == "edges2digits" else make_tops2digits
        return make(split, limit=limit, seed=seed, device=device, root=root)
    spec = REGISTRY[name]
    _check_split(split, spec.splits, name)
    folder = fetch_dataset(spec, None if root is None else Path(root) / "downloads")
    inputs, targets = read_paired_folder(folder / split, direction=spec.direction, size=size or 256, limit=limit,
                                         device=device)
    return PairedData(inputs, targets, None)


def load_unpaired(name: str = "thin2thick", split: str = "train", *, limit: int | None = None, seed: int = 0,
                  size: int | None = None, device: torch.device | str | None = None,
                  root: str | Path | None = None) -> UnpairedData:
    """An unpaired dataset by name (lesson 06): the offline ``thin2thick`` or a CycleGAN set such as ``horse2zebra``.

    Real sets are fetched once into ``<root>/downloads``, read from ``<split>A`` and ``<split>B``
    (``limit`` images each) and resized to ``size`` (256 if None); they have no hidden pairs or labels.
    """
    _kind(name, "unpaired")
    if name in OFFLINE:
        _check_offline_size(name, size)
        return make_thin2thick(split, limit=limit, seed=seed, device=device, root=root)
    spec = REGISTRY[name]
    _check_split(split, spec.splits, name)
    folder = fetch_dataset(spec, None if root is None else Path(root) / "downloads")
    a = read_image_folder(folder / f"{split}A", size=size or 256, limit=limit, device=device)
    b = read_image_folder(folder / f"{split}B", size=size or 256, limit=limit, device=device)
    return UnpairedData(a, b)
