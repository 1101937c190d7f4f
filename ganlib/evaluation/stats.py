"""Statistics of feature clouds: the Fréchet distance (lesson 01 writes it out), KID, and the rank
correlation between a logged number and the FID (lesson 04). Pure tensor maths, no model."""

from __future__ import annotations

from typing import Any

import torch
from scipy.stats import spearmanr
from torch import Tensor

from ..utils import smooth


def feature_stats(features: Tensor) -> tuple[Tensor, Tensor]:
    """Mean (D,) and covariance (D, D), in float64, of features (N, D) with N >= 2."""
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"features must have shape (N, D) with N >= 2; got {tuple(features.shape)}.")
    f = features.double()
    return f.mean(0), torch.cov(f.T)


def frechet_distance(mu1: Tensor, sigma1: Tensor, mu2: Tensor, sigma2: Tensor) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2).

    d² = |mu1 - mu2|² + tr(sigma1) + tr(sigma2) - 2 tr((sigma1 sigma2)^½)

    The trace of the matrix square root is computed without ``sqrtm``: sigma1 sigma2 has the same
    eigenvalues as the symmetric matrix s sigma2 s with s = sigma1^½, so tr((sigma1 sigma2)^½) is
    the sum of the square roots of those (non-negative) eigenvalues.
    """
    mu1, mu2, sigma1, sigma2 = (t.double() for t in (mu1, mu2, sigma1, sigma2))
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (len(mu1), len(mu1)):
        raise ValueError(f"expected means (D,) and covariances (D, D) of one size D; got "
                         f"{tuple(mu1.shape)}, {tuple(sigma1.shape)}, {tuple(mu2.shape)}, {tuple(sigma2.shape)}.")
    values, vectors = torch.linalg.eigh(sigma1)
    s = vectors @ torch.diag(values.clamp(min=0).sqrt()) @ vectors.T  # sigma1^½
    middle = torch.linalg.eigvalsh(s @ sigma2 @ s).clamp(min=0).sqrt().sum()
    d2 = (mu1 - mu2).square().sum() + sigma1.trace() + sigma2.trace() - 2 * middle
    return max(float(d2), 0.0)


def kernel_distance(features1: Tensor, features2: Tensor) -> float:
    """KID: the unbiased squared MMD with the cubic kernel k(x, y) = (x·y / D + 1)³."""
    x, y = features1.double(), features2.double()
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1] or min(len(x), len(y)) < 2:
        raise ValueError(f"features must be (N, D) and (M, D) with N, M >= 2; got {tuple(x.shape)}, {tuple(y.shape)}.")
    d = x.shape[1]
    kxx, kyy, kxy = ((a @ b.T / d + 1) ** 3 for a, b in ((x, x), (y, y), (x, y)))
    n, m = len(x), len(y)
    xx = (kxx.sum() - kxx.diagonal().sum()) / (n * (n - 1))
    yy = (kyy.sum() - kyy.diagonal().sum()) / (m * (m - 1))
    return float(xx + yy - 2 * kxy.mean())


def fid_rank_correlation(history: Any, name: str, window: int = 50, fid: str = "fid") -> float:
    """Spearman rank correlation between a logged number, smoothed over ``window`` steps, and the FID (lesson 04).

    It is taken at the steps where both were logged (e.g. the steps of
    :class:`ganlib.evaluation.callbacks.FIDCallback` after the
    first training step). +1: the number falls whenever the FID falls, as a loss that measures sample
    quality should; 0: no steady relation; -1: it rises as the samples get better. WGAN's critic
    estimate of the Wasserstein distance is meant to be close to +1.
    """
    steps, values = history[name]
    smoothed = dict(zip(steps, smooth(values, window)))
    pairs = [(smoothed[s], f) for s, f in zip(*history[fid]) if s in smoothed]
    if len(pairs) < 3:
        raise ValueError(f"need {name!r} and {fid!r} logged at 3 or more common steps; got {len(pairs)}.")
    a, b = zip(*pairs)
    if len(set(a)) == 1 or len(set(b)) == 1:
        raise ValueError(f"{name!r} or {fid!r} is constant over those steps, so it has no rank correlation.")
    return float(spearmanr(a, b).statistic)
