"""Numbers that say how good a generator is (introduced in lesson 01, used by every lesson after).

- **classifier-FID**: the Fréchet distance between two Gaussians fitted to the evaluator's features
  of generated and of real test digits. 0 means the two feature clouds have the same mean and
  covariance; lower is better. :func:`fid` prints it beside its *floor* (real training digits, the
  best a generator can hope for) and its *ceiling* (uniform noise), computed on as many images.
- **KID**: the kernel distance on the same features (unbiased, so less dependent on the sample size).
- **mode coverage**: which digits the samples show, and how far that is from one tenth each.
- **label accuracy**: for conditional generators, does the requested digit come out?
- **PSNR / SSIM**: for image-to-image lessons, through torchmetrics.

The Fréchet distance itself and the other feature statistics are in :mod:`ganlib.evaluation.stats`;
:class:`ganlib.evaluation.callbacks.FIDCallback` records FID while training.
- :func:`inception_fid`: the usual Inception-v3 FID for colour images (CIFAR-10 on a GPU), through
  torchmetrics; it needs its weights downloaded once and says so clearly when offline.

Everything takes images as (N, C, H, W) floats in [-1, 1], our generators' range.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor

from ..data import load_mnist
from ..validate import check_image_batch, check_range
from .evaluator import Evaluator
from .stats import feature_stats, frechet_distance, kernel_distance

CONFIDENT = 0.9  # a sample is a "clear" digit when the evaluator gives it this probability (99 % of real test digits)


class MetricUnavailable(RuntimeError):
    """A metric cannot be computed here (a missing package or weights that cannot be downloaded)."""


# -- classifier-FID with its floor and ceiling ------------------------------------------------------
@dataclass
class FIDScore:
    """A classifier-FID with the two numbers that make it readable."""

    value: float
    floor: float  # real training digits vs the test split: what a perfect generator would get
    ceiling: float  # uniform noise vs the test split: no digits at all
    n: int

    def __float__(self) -> float:
        return self.value

    def __str__(self) -> str:
        return (f"classifier-FID {self.value:.2f} on {self.n:,} samples "
                f"(real digits: {self.floor:.2f}, noise: {self.ceiling:.0f}; lower is better)")


def _evaluator(evaluator: Evaluator | None) -> Evaluator:
    return evaluator if evaluator is not None else default_evaluator()


_DEFAULT: dict[str, Evaluator] = {}


def default_evaluator(device: torch.device | str | None = None) -> Evaluator:
    """One shared :class:`Evaluator` per device (the CPU by default), loaded on first use."""
    key = str(torch.device(device)) if device is not None else "cpu"
    if key not in _DEFAULT:
        _DEFAULT[key] = Evaluator(device=device)
    return _DEFAULT[key]


def fid_scale(n: int, evaluator: Evaluator | None = None) -> tuple[float, float]:
    """(floor, ceiling) of classifier-FID for ``n`` images: real training digits and uniform noise."""
    if not 2 <= n <= 60_000:
        raise ValueError(f"n must be between 2 and 60,000 (the MNIST training digits); got {n}.")
    ev = _evaluator(evaluator)
    key = f"scale:{n}"
    if key not in ev.cache:
        ref = ev.reference_stats("test")
        train, _ = load_mnist("train")
        pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(1))[:n]
        noise = torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(2)) * 2 - 1
        floor = frechet_distance(*feature_stats(ev.features(train[pick])), *ref)
        ceiling = frechet_distance(*feature_stats(ev.features(noise)), *ref)
        ev.cache[key] = (floor, ceiling)
    return ev.cache[key]


def classifier_fid(samples: Tensor, evaluator: Evaluator | None = None) -> float:
    """classifier-FID of samples (N, 1, 28, 28) in [-1, 1] against the MNIST test split (just the number)."""
    ev = _evaluator(evaluator)
    _enough(samples)
    return frechet_distance(*feature_stats(ev.features(samples)), *ev.reference_stats("test"))


def fid(samples: Tensor, evaluator: Evaluator | None = None) -> FIDScore:
    """classifier-FID of samples, with its floor and ceiling for as many images; print it."""
    value = classifier_fid(samples, evaluator)
    floor, ceiling = fid_scale(len(samples), evaluator)
    return FIDScore(value, floor, ceiling, len(samples))


def kid(samples: Tensor, evaluator: Evaluator | None = None, n_reference: int = 5000) -> float:
    """KID of samples against ``n_reference`` random MNIST test digits (×1000 is the usual way to print it)."""
    ev = _evaluator(evaluator)
    test, _ = load_mnist("test")
    pick = torch.randperm(len(test), generator=torch.Generator().manual_seed(0))[:n_reference]
    return kernel_distance(ev.features(samples), ev.features(test[pick]))


def _enough(samples: Tensor) -> None:
    check_image_batch(samples, "samples")
    if len(samples) < 2:
        raise ValueError(f"FID needs at least 2 samples (10,000 for numbers that compare); got {len(samples)}.")


# -- which digits come out ------------------------------------------------------------------------
@dataclass
class Coverage:
    """How the samples spread over the ten digits, as the evaluator reads them."""

    counts: list[int]
    confident: float  # share of samples the evaluator is at least 90 % sure about ("clear" digits)
    n: int = field(init=False)

    def __post_init__(self) -> None:
        self.n = sum(self.counts)

    @property
    def shares(self) -> list[float]:
        return [c / self.n for c in self.counts]

    @property
    def digits_covered(self) -> int:
        """Digits that get at least half their fair share (5 % of the samples)."""
        return sum(s >= 0.05 for s in self.shares)

    @property
    def distance_to_uniform(self) -> float:
        """Total variation distance to one tenth each: 0 is perfectly even, 0.9 is a single digit."""
        return 0.5 * sum(abs(s - 0.1) for s in self.shares)

    def __str__(self) -> str:
        shares = " ".join(f"{d}:{s:.1%}" for d, s in enumerate(self.shares))  # one decimal: 4.8 % is not 5 %
        return (f"{self.digits_covered}/10 digits covered (>= 5 % each); shares {shares}; "
                f"distance to uniform {self.distance_to_uniform:.2f}; clear digits {self.confident:.0%} (real digits: 99 %)")


def coverage(samples: Tensor, evaluator: Evaluator | None = None) -> Coverage:
    """Which digits the samples show (the evaluator's reading)."""
    probs = _evaluator(evaluator).logits(samples).softmax(1)
    counts = torch.bincount(probs.argmax(1), minlength=10).tolist()
    return Coverage(counts, (probs.max(1).values >= CONFIDENT).float().mean().item())


def coverage_of_labels(labels: Tensor) -> Coverage:
    """:class:`Coverage` of known labels (e.g. a real, labelled set), with every sample counted as clear."""
    labels = torch.as_tensor(labels)
    if labels.ndim != 1 or labels.dtype not in (torch.int64, torch.int32, torch.uint8) or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty 1-D integer tensor of digits; got {labels.dtype} {tuple(labels.shape)}.")
    if int(labels.min()) < 0 or int(labels.max()) > 9:
        raise ValueError(f"labels must be digits 0-9; got values from {int(labels.min())} to {int(labels.max())}.")
    return Coverage(torch.bincount(labels.long(), minlength=10).tolist(), 1.0)


@dataclass
class LabelAccuracy:
    """Share of samples that show the digit they were asked for, overall and per digit."""

    overall: float
    per_digit: list[float]

    def __float__(self) -> float:
        return self.overall

    def __str__(self) -> str:
        asked = [d for d in range(10) if not math.isnan(self.per_digit[d])]  # NaN: digit never requested
        worst = min(asked, key=lambda d: self.per_digit[d])
        return f"label accuracy {self.overall:.1%} (weakest digit: {worst} at {self.per_digit[worst]:.0%})"


def label_accuracy(samples: Tensor, labels: Tensor, evaluator: Evaluator | None = None) -> LabelAccuracy:
    """Does the evaluator read the requested digit in each sample? ``labels`` (N,) are the requests."""
    labels = torch.as_tensor(labels).cpu()
    if labels.shape != (len(samples),):
        raise ValueError(f"labels must have shape ({len(samples)},), one per sample; got {tuple(labels.shape)}.")
    right = (_evaluator(evaluator).predict(samples) == labels).float()
    per_digit = [right[labels == d].mean().item() if (labels == d).any() else float("nan") for d in range(10)]
    return LabelAccuracy(right.mean().item(), per_digit)


# -- image-to-image: PSNR and SSIM through torchmetrics ---------------------------------------------
def _pair(output: Tensor, target: Tensor) -> None:
    for name, t in (("output", output), ("target", target)):
        if not isinstance(t, Tensor) or t.ndim != 4 or not t.is_floating_point():
            raise ValueError(f"{name} must be a float tensor (N, C, H, W) in [-1, 1]; got "
                             f"{type(t).__name__} {tuple(getattr(t, 'shape', ()))}.")
        check_range(t, name)
    if output.shape != target.shape:
        raise ValueError(f"output and target must have the same shape; got {tuple(output.shape)} and {tuple(target.shape)}.")


def psnr(output: Tensor, target: Tensor) -> float:
    """Peak signal-to-noise ratio in dB, per image then averaged; ∞ for identical images."""
    from torchmetrics.functional.image import peak_signal_noise_ratio

    _pair(output, target)
    return float(peak_signal_noise_ratio(output.float(), target.float(), data_range=2.0, dim=(1, 2, 3)))


def ssim(output: Tensor, target: Tensor) -> float:
    """Structural similarity (Gaussian window 11, σ 1.5), averaged over images; 1 for identical images."""
    from torchmetrics.functional.image import structural_similarity_index_measure

    _pair(output, target)
    return float(structural_similarity_index_measure(output.float(), target.float(), data_range=2.0))


# -- Inception FID for colour images (GPU, online once) ---------------------------------------------
def inception_fid(real: Tensor, fake: Tensor, device: torch.device | str | None = None, batch_size: int = 200) -> float:
    """The standard FID on Inception-v3 features, via torchmetrics (needs ``torch-fidelity``).

    For colour datasets such as CIFAR-10, on a GPU; images (N, 3 or 1, H, W) in [-1, 1], ideally
    10,000 or more of each. The Inception weights are downloaded once; offline, it raises
    :class:`MetricUnavailable` that says so. For MNIST use :func:`fid`, which needs no download.
    """
    for name, t in (("real", real), ("fake", fake)):
        if not isinstance(t, Tensor) or t.ndim != 4 or t.shape[1] not in (1, 3) or not t.is_floating_point():
            raise ValueError(f"{name} must be float images (N, 1 or 3, H, W) in [-1, 1]; got {tuple(getattr(t, 'shape', ()))}.")
        check_range(t, name)
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance

        metric = FrechetInceptionDistance(feature=2048, normalize=True)
    except ModuleNotFoundError as err:
        raise MetricUnavailable(f"Inception FID needs the torch-fidelity package ({err}); "
                                f"run `pip install torch-fidelity` and try again.") from err
    except (OSError, RuntimeError, ValueError) as err:  # URLError is an OSError
        raise MetricUnavailable(
            f"the Inception-v3 weights for FID could not be downloaded ({type(err).__name__}: {err}). "
            f"This needs the internet once (they are then cached); offline, score MNIST digits with "
            f"ganlib.evaluation.metrics.fid, which uses the course's own evaluator."
        ) from err
    metric = metric.to(device or "cpu")
    for images, is_real in ((real, True), (fake, False)):
        for chunk in images.split(batch_size):
            chunk = (chunk.to(metric.device) + 1) / 2
            metric.update(chunk.expand(-1, 3, -1, -1) if chunk.shape[1] == 1 else chunk, real=is_real)
    return float(metric.compute())
