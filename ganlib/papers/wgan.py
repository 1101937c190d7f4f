"""Wasserstein GANs (lesson 04): two distances between 1-D densities, and weight clipping for a critic.

Lesson 00 found that the Jensen–Shannon divergence stops changing once two densities no longer
overlap. :func:`js_divergence` and :func:`wasserstein_1d` compute both distances for densities given
on a grid, so that the lesson can slide one density past the other and watch them: the first stays
flat at log 2, the second, the earth mover's distance, grows with the gap.

The WGAN critic must be 1-Lipschitz for its score gap to estimate the Wasserstein-1 distance. The
first WGAN paper (Arjovsky, Chintala and Bottou, 2017) enforces it crudely, by clamping every
weight into [-c, c] after each critic update: :func:`clip_weights`. WGAN-GP (Gulrajani et al.,
2017) replaces the clamp by a penalty on the critic's gradient, :func:`ganlib.losses.gradient_penalty`,
which is in the core because later papers (StarGAN) use it too.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..validate import check_positive_number


def _densities(p: Tensor, q: Tensor, grid: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Check the inputs; return p and q in float64, each scaled to integrate to 1 over the grid."""
    for name, t in (("p", p), ("q", q), ("grid", grid)):
        if not isinstance(t, Tensor) or t.ndim != 1:
            shape = tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a 1-D tensor of values on the grid; got {shape}.")
    if not (len(p) == len(q) == len(grid)) or len(grid) < 2:
        raise ValueError(f"p, q and grid must have the same length (at least 2); got {len(p)}, {len(q)} and {len(grid)}.")
    grid = grid.double()
    if not bool((grid.diff() > 0).all()):
        raise ValueError("grid must be strictly increasing.")
    scaled = []
    for name, t in (("p", p), ("q", q)):
        t = t.double()
        if not bool(torch.isfinite(t).all()) or bool((t < 0).any()):
            raise ValueError(f"{name} must be a density: finite and never negative; got values from "
                             f"{float(t.min()):.3g} to {float(t.max()):.3g}.")
        mass = float(torch.trapezoid(t, grid))
        if mass <= 0:
            raise ValueError(f"{name} has no mass on the grid (its integral is {mass:.3g}); put it where the grid is.")
        scaled.append(t / mass)
    return scaled[0], scaled[1], grid


def js_divergence(p: Tensor, q: Tensor, grid: Tensor) -> float:
    """Jensen–Shannon divergence of two densities given on ``grid`` (lesson 04; derived in lesson 00).

    JSD(p ‖ q) = ½ KL(p ‖ m) + ½ KL(q ‖ m) with m = (p + q) / 2, in nats: 0 when p = q, log 2
    when they do not overlap. Both densities are scaled to integrate to 1 first (trapezoid rule).
    """
    p, q, grid = _densities(p, q, grid)
    m = (p + q) / 2
    kl_p = torch.trapezoid(torch.xlogy(p, p) - torch.xlogy(p, m), grid)
    kl_q = torch.trapezoid(torch.xlogy(q, q) - torch.xlogy(q, m), grid)
    return float(0.5 * kl_p + 0.5 * kl_q)


def wasserstein_1d(p: Tensor, q: Tensor, grid: Tensor) -> float:
    """Wasserstein-1 (earth mover's) distance of two densities given on ``grid`` (lesson 04).

    In one dimension the cheapest transport plan moves mass in order, and W₁ = ∫ |F_p(x) - F_q(x)| dx,
    the area between the two cumulative distribution functions. Moving a density by θ costs |θ|.
    Both densities are scaled to integrate to 1 first (trapezoid rule).
    """
    p, q, grid = _densities(p, q, grid)
    zero = torch.zeros(1, dtype=torch.float64)
    cdf_p = torch.cat([zero, torch.cumulative_trapezoid(p, grid)])
    cdf_q = torch.cat([zero, torch.cumulative_trapezoid(q, grid)])
    return float(torch.trapezoid((cdf_p - cdf_q).abs(), grid))


@torch.no_grad()
def clip_weights(model: nn.Module, c: float) -> None:
    """Clamp every parameter of ``model`` into [-c, c], in place (WGAN's weight clipping, lesson 04).

    Call it after each critic update: ``opt_c.step(); clip_weights(critic, 0.01)``. It touches
    parameters (weights, biases, BatchNorm scales) but not buffers such as BatchNorm's running
    statistics, as in the paper's code.
    """
    check_positive_number(c, "c", ", the largest weight allowed (the paper uses 0.01)")
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module (the critic); got {type(model).__name__}.")
    for p in model.parameters():
        p.clamp_(-c, c)
