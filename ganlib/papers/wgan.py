"""Wasserstein GANs (lesson 04): two distances between 1-D densities, and weight clipping for a critic.

Lesson 00 found that the Jensen–Shannon divergence stops changing once two densities no longer
overlap. :func:`js_divergence` and :func:`wasserstein_1d` compute both distances for densities given
on a grid, so that the lesson can slide one density past the other and watch them: the first stays
flat at log 2, the second, the earth mover's distance, grows with the gap.

The WGAN critic must be 1-Lipschitz for its score gap to estimate the Wasserstein-1 distance. The
first WGAN paper (Arjovsky, Chintala and Bottou, 2017) enforces it crudely, by clamping every
weight into [-c, c] after each critic update: :func:`clip_weights`. WGAN-GP (Gulrajani et al.,
2017) replaces the clamp by a penalty on the critic's gradient, :func:`ganlib.losses.gradient_penalty`,
which is in the core because later papers (StarGAN) use it too. A third way, spectral normalisation
(Miyato et al., 2018), divides each layer's weight by its largest singular value:
:func:`spectral_normalize` puts torch's parametrization on every layer of a critic.

What each constraint does to the critic is easiest to see in two dimensions (the WGAN-GP paper's
figure 1): :func:`train_toy_critic` trains a small MLP critic (:func:`toy_critic`) against a *fixed*
generated distribution (:func:`toy_data`) under ``"clip"``, ``"gp"`` or ``"sn"`` (:data:`TOY_METHODS`),
:func:`critic_surface` evaluates its value and gradient norm on a grid, and
:func:`plot_critic_surfaces` draws them: the clipped critic is a simple bowl whose gradients
vanish, the penalised one follows the data with gradient norm near 1 between the two sets, the
spectrally normalised one lies in between, its slope well below the 1 its bound allows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, NamedTuple, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, NullFormatter
import numpy as np
import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ..losses import gradient_penalty
from ..sampling import sample_noise
from ..training import StepFn
from ..validate import check_positive, check_positive_number


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


# -- spectral normalisation (Miyato et al., 2018) ----------------------------------------------------
SPECTRAL_LAYERS = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)


def wgan_critic_step(G: nn.Module, D: nn.Module, opt_d: torch.optim.Optimizer, z_dim: int, *,
                     clip: float | None = None, gp_weight: float = 0.0) -> StepFn:
    """Lesson 04's critic step for :class:`ganlib.Trainer`: the critic maximises ``mean D(real) - mean D(fake)``.

    ``gp_weight`` adds λ times :func:`ganlib.losses.gradient_penalty` (WGAN-GP: λ = :data:`GP_WEIGHT`);
    ``clip`` clamps every parameter into [-c, c] after the step (WGAN: c = :data:`CLIP`); neither is needed
    for a spectrally normalised critic. The generator's step is ``ganlib.gan_steps`` with the Wasserstein
    loss. The lesson writes this step out; ``scripts/pretrain.py`` and ``benchmarks/wgan_compare.py`` use
    this copy.
    """

    def d_step(real: Tensor) -> dict[str, Tensor]:
        with torch.no_grad():
            fake = G(sample_noise(len(real), z_dim, real.device))
        w_estimate = D(real).mean() - D(fake).mean()
        loss, logs = -w_estimate, {}
        if gp_weight:
            gp = gradient_penalty(D, real, fake)
            loss = loss + gp_weight * gp
            logs["gp"] = gp
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        if clip is not None:
            clip_weights(D, clip)
        return {"critic_loss": loss, "w_estimate": w_estimate, **logs}

    return d_step


def spectral_normalize(model: nn.Module) -> nn.Module:
    """Put torch's spectral-norm parametrization on every Conv2d, ConvTranspose2d and Linear of ``model``,
    in place, and return the model (lesson 04: the third way to keep a critic Lipschitz).

    Spectral normalisation (Miyato, Kataoka, Koyama and Yoshida, 2018) divides each layer's weight by
    its largest singular value σ(W), so a linear layer stretches its input by at most 1 and, with
    1-Lipschitz activations (ReLU, LeakyReLU), so does a network of them: the critic is kept
    1-Lipschitz by construction, with no clamp and no penalty. σ is estimated by one step of power
    iteration per forward pass in train mode (the estimate is kept in buffers, so checkpoints carry
    it); in eval mode the last estimate is used and nothing changes. A convolution's weight is
    normalised as the matrix (out channels, in channels · k · k), a transposed convolution's as
    (out channels, in channels · k · k) too, as in the paper: this bounds the convolution itself only
    up to a factor that depends on its kernel size and stride.

    Initialise the weights *before* calling this (``model.apply(dcgan_init)``, then
    ``spectral_normalize(model)``): afterwards ``layer.weight`` is computed on each access from
    ``layer.parametrizations.weight.original``, and an in-place init of it changes nothing.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be an nn.Module (the critic); got {type(model).__name__}.")
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, SPECTRAL_LAYERS)]
    if not layers:
        kinds = ", ".join(sorted({type(m).__name__ for m in model.modules()}))
        raise ValueError(f"spectral_normalize found no Conv2d, ConvTranspose2d or Linear layer in "
                         f"{type(model).__name__}; it holds only: {kinds}.")
    for name, layer in layers:
        if parametrize.is_parametrized(layer, "weight"):
            raise ValueError(f"layer {name or type(layer).__name__!r} already has a parametrization on its weight "
                             f"(spectral_normalize called twice?); build a fresh model and call it once.")
    for _, layer in layers:
        spectral_norm(layer)
    return model


# -- a 2-D toy: what each constraint does to the best critic (WGAN-GP paper, figure 1) ----------------
TOY_RADIUS = 2.0  # the 8 Gaussians sit on a circle of this radius (25 Gaussians: a 5 x 5 grid, spacing 1)
TOY_STD = 0.05    # std of each of those Gaussians
BLOB_STD = 0.5    # the "blob": one Gaussian N(0, 0.5² I) at the centre of the ring


def _eight(n: int, g: torch.Generator | None) -> Tensor:
    angle = torch.randint(0, 8, (n,), generator=g).float() * (2 * math.pi / 8)
    centres = TOY_RADIUS * torch.stack([angle.cos(), angle.sin()], 1)
    return centres + TOY_STD * torch.randn(n, 2, generator=g)


def _twentyfive(n: int, g: torch.Generator | None) -> Tensor:
    cell = torch.randint(0, 25, (n,), generator=g)
    centres = torch.stack([cell // 5, cell % 5], 1).float() - 2.0
    return centres + TOY_STD * torch.randn(n, 2, generator=g)


def _noisy_eight(n: int, g: torch.Generator | None) -> Tensor:
    return _eight(n, g) + torch.randn(n, 2, generator=g)


TOY_KINDS: dict[str, tuple[Callable[[int, torch.Generator | None], Tensor], str]] = {
    "8gaussians": (_eight, f"8 Gaussians (std {TOY_STD}) on a circle of radius {TOY_RADIUS}"),
    "25gaussians": (_twentyfive, f"25 Gaussians (std {TOY_STD}) on a 5 x 5 grid from -2 to 2"),
    "blob": (lambda n, g: BLOB_STD * torch.randn(n, 2, generator=g), f"one Gaussian N(0, {BLOB_STD}² I)"),
    "noisy8": (_noisy_eight, "the 8 Gaussians plus N(0, I) noise (the WGAN-GP paper's fixed generator)"),
}


def toy_data(n: int, kind: str = "8gaussians", generator: torch.Generator | None = None) -> Tensor:
    """``n`` points (n, 2) of a 2-D toy distribution (lesson 04): one of :data:`TOY_KINDS`.

    ``"8gaussians"`` and ``"25gaussians"`` are the WGAN-GP paper's real data; ``"blob"`` (one Gaussian in
    the middle of the ring) and ``"noisy8"`` (the real data plus unit Gaussian noise, the paper's
    fixed generator of its figure 1) serve as fixed "generated" data. Pass a seeded ``generator`` for
    the same points each time; the global random state is then untouched.
    """
    check_positive(n=n)
    if kind not in TOY_KINDS:
        raise ValueError(f"unknown toy distribution {kind!r}; expected one of: {', '.join(TOY_KINDS)}.")
    return TOY_KINDS[kind][0](n, generator)


@dataclass(frozen=True)
class ToyMethod:
    """How one method keeps the toy critic Lipschitz, and how the critic is trained under it."""

    description: str
    optimizer: Callable[..., torch.optim.Optimizer]  # optimizer(params, lr)
    lr: float
    clip: float | None = None       # clamp every parameter into [-clip, clip] after each step
    gp_weight: float = 0.0          # λ of the gradient penalty
    spectral: bool = False          # spectral norm on every layer


CLIP = 0.01        # WGAN's clip bound c
GP_WEIGHT = 10.0   # WGAN-GP's λ (the paper's own toy code uses 0.1; 10 is its image setting and lesson 04's)
TOY_BETAS = (0.5, 0.9)  # WGAN-GP's Adam betas, for "gp" and "sn"

TOY_METHODS: dict[str, ToyMethod] = {
    "clip": ToyMethod(f"weight clipping, c = {CLIP}; RMSProp (WGAN)",
                      lambda params, lr: torch.optim.RMSprop(params, lr=lr), lr=5e-4, clip=CLIP),
    "gp": ToyMethod(f"gradient penalty, λ = {GP_WEIGHT:g}; Adam (WGAN-GP)",
                    lambda params, lr: torch.optim.Adam(params, lr=lr, betas=TOY_BETAS), lr=1e-3, gp_weight=GP_WEIGHT),
    "sn": ToyMethod("spectral norm on every layer; Adam (SN-GAN)",
                    lambda params, lr: torch.optim.Adam(params, lr=lr, betas=TOY_BETAS), lr=1e-3, spectral=True),
}


def _method(method: str) -> ToyMethod:
    if method not in TOY_METHODS:
        raise ValueError(f"unknown method {method!r} for keeping the critic Lipschitz; expected one of: "
                         f"{', '.join(TOY_METHODS)}.")
    return TOY_METHODS[method]


def toy_critic(hidden: int = 128, method: str = "gp") -> nn.Sequential:
    """The toy critic (lesson 04): a ReLU MLP 2 -> hidden -> hidden -> hidden -> 1, scores (N,), no sigmoid.

    With ``method="sn"`` every layer is spectrally normalised (:func:`spectral_normalize`); ``"clip"`` and
    ``"gp"`` build the plain network (their constraint acts during training). Initialised from the
    global random state.
    """
    check_positive(hidden=hidden)
    spec = _method(method)
    critic = nn.Sequential(nn.Linear(2, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                           nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1), nn.Flatten(0))
    return spectral_normalize(critic) if spec.spectral else critic


class ToyRun(NamedTuple):
    """What :func:`train_toy_critic` returns: the method, the trained critic (in eval mode) and the
    critic's estimate ``mean f(real) - mean f(fake)`` on each step's batch."""

    method: str
    critic: nn.Module
    estimates: list[float]


def train_toy_critic(method: str, steps: int = 500, seed: int = 0, *, real: str = "8gaussians",
                     fake: str = "noisy8", batch: int = 256, hidden: int = 128, lr: float | None = None) -> ToyRun:
    """Train a toy critic against a *fixed* "generator" under one Lipschitz method (lesson 04).

    As in the WGAN-GP paper's figure 1, the generated distribution does not move, so the critic
    can be trained towards its best. Each step draws ``batch`` fresh points of ``real`` and of ``fake``
    (:func:`toy_data`) and lowers the Wasserstein critic loss ``mean f(fake) - mean f(real)``, under
    :data:`TOY_METHODS[method] <TOY_METHODS>`:

    * ``"clip"``: RMSProp, then every parameter clamped into [-c, c], c = :data:`CLIP` (WGAN);
    * ``"gp"``: Adam (0.5, 0.9), plus λ · :func:`ganlib.losses.gradient_penalty`, λ = :data:`GP_WEIGHT`
      (WGAN-GP; the penalty takes (N, 2) points as they are: its ε has shape (N, 1));
    * ``"sn"``: Adam (0.5, 0.9), spectral norm on every layer, no penalty (SN-GAN's constraint).

    The toy asks what shape each constraint lets the best critic take, so each method keeps its
    paper's optimiser, at ten times the paper's learning rate (RMSProp 5e-4, Adam 1e-3; ``lr``
    overrides the table's) so that 500 steps take seconds rather than the paper's 100,000 iterations.
    By then the clipped and the spectrally normalised critics have settled; the penalised one has
    its gradient norm near 1 between the two sets, while its estimate may still be climbing towards
    W₁ (about 0.8 for the default data) on some seeds. Seeded by ``seed`` (the model, the data and
    the penalty's ε); the global random state is left as it was. Returns a :class:`ToyRun`.
    """
    spec = _method(method)
    check_positive(steps=steps, batch=batch)
    for name, kind in (("real", real), ("fake", fake)):
        if kind not in TOY_KINDS:
            raise ValueError(f"unknown toy distribution {name}={kind!r}; expected one of: {', '.join(TOY_KINDS)}.")
    lr = spec.lr if lr is None else lr
    check_positive_number(lr, "lr")
    estimates: list[float] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        data = torch.Generator().manual_seed(seed + 1)
        critic = toy_critic(hidden, method)
        opt = spec.optimizer(critic.parameters(), lr)
        critic.train()
        for _ in range(steps):
            x_real, x_fake = toy_data(batch, real, data), toy_data(batch, fake, data)
            scores = critic(torch.cat([x_real, x_fake]))  # one pass (no BatchNorm here, so the same as two)
            estimate = scores[:batch].mean() - scores[batch:].mean()
            loss = -estimate
            if spec.gp_weight:
                loss = loss + spec.gp_weight * gradient_penalty(critic, x_real, x_fake)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if spec.clip is not None:
                clip_weights(critic, spec.clip)
            estimates.append(estimate.item())
    return ToyRun(method, critic.eval(), estimates)


def critic_grad_norms(critic: nn.Module, points: Tensor) -> Tensor:
    """‖∇ₓ f(x)‖₂ of the critic's score at each of ``points`` (N, 2) -> (N,) (lesson 04).

    Evaluated in eval mode (a spectrally normalised critic then uses its last estimate of σ and
    changes nothing); the critic's mode is restored afterwards.
    """
    if not isinstance(points, Tensor) or points.ndim != 2 or points.shape[1] != 2:
        shape = tuple(points.shape) if isinstance(points, Tensor) else type(points).__name__
        raise ValueError(f"points must be a tensor of 2-D points, shape (N, 2); got {shape}.")
    was_training = critic.training
    critic.eval()
    try:
        x = points.detach().float().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(critic(x).sum(), x)
    finally:
        critic.train(was_training)
    return grad.norm(dim=1)


def interpolates(real: Tensor, fake: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Points ε·real + (1 - ε)·fake, one ε ~ U(0, 1) per pair: where the gradient penalty looks (lesson 04)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape; got {tuple(real.shape)} and {tuple(fake.shape)}.")
    eps = torch.rand(real.shape[0], *([1] * (real.ndim - 1)), generator=generator)
    return eps * real + (1 - eps) * fake


@torch.no_grad()
def _values(critic: nn.Module, points: Tensor) -> Tensor:
    was_training = critic.training
    critic.eval()
    try:
        return critic(points)
    finally:
        critic.train(was_training)


def critic_surface(critic: nn.Module, lim: float = 3.0, n: int = 64) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """The critic's value and gradient norm on an n x n grid over [-lim, lim]² (lesson 04).

    Returns ``(xs, ys, values, grad_norms)``: the grid's coordinates (n,) and (n,), and two (n, n)
    maps indexed ``[row for y, column for x]``, as ``plt.contour(xs, ys, values)`` expects.
    """
    check_positive_number(lim, "lim", ", the half-width of the square drawn")
    check_positive(n=n)
    xs = ys = torch.linspace(-lim, lim, n)
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    points = torch.stack([gx.flatten(), gy.flatten()], 1)
    return xs, ys, _values(critic, points).view(n, n), critic_grad_norms(critic, points).view(n, n)


def plot_critic_surfaces(results: Mapping[str, nn.Module] | Sequence[ToyRun], real: Tensor, fake: Tensor,
                         lim: float = 3.0, n: int = 64, seed: int = 0) -> np.ndarray:
    """For each critic, its value surface with the real and fake points (top) and a histogram of its
    gradient norms at interpolates between them (bottom, with 1 marked) (lesson 04).

    ``results``: a mapping ``{title: critic}`` or :class:`ToyRun`\\ s (titled by their method). ``real`` and
    ``fake`` are (N, 2) points (drawn, and paired up for the interpolates, drawn with ``seed``).
    Returns the (2, k) array of axes.
    """
    critics = dict(results) if isinstance(results, Mapping) else {r.method: r.critic for r in results}
    if not critics:
        raise ValueError("results is empty: give at least one critic, e.g. {'gp': train_toy_critic('gp').critic}.")
    m = min(len(real), len(fake))
    between = interpolates(real[:m], fake[:m], torch.Generator().manual_seed(seed))
    fig, axes = plt.subplots(2, len(critics), figsize=(3.6 * len(critics), 6.4), squeeze=False,
                             gridspec_kw={"height_ratios": [1.25, 1]})
    for (title, critic), top, bottom in zip(critics.items(), axes[0], axes[1]):
        xs, ys, values, _ = critic_surface(critic, lim, n)
        top.contourf(xs, ys, values, levels=20, cmap="viridis")
        top.contour(xs, ys, values, levels=20, colors="k", linewidths=0.3)
        top.scatter(*real.T, s=2, c="tab:orange", label="real")
        top.scatter(*fake.T, s=2, c="white", alpha=0.5, label="fake")
        top.set(xlim=(-lim, lim), ylim=(-lim, lim), aspect="equal", title=f"{title}: critic value")
        norms = critic_grad_norms(critic, between).clamp(min=1e-12).numpy()
        lo, hi = min(float(norms.min()), 0.1), max(float(norms.max()), 2.0)  # 0.1 and 1 always in view
        bottom.hist(norms, bins=np.geomspace(lo, hi, 41), color="tab:blue")
        bottom.set_xscale("log")  # vanishing gradients sit decades below 1
        bottom.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        bottom.xaxis.set_minor_formatter(NullFormatter())
        bottom.axvline(1.0, color="tab:red", linestyle="--", linewidth=1)
        median = float(np.median(norms))
        bottom.set(xlabel="‖∇f‖ at interpolates (log scale)", title=f"median ‖∇f‖ {median:.3g}")
    axes[0, 0].legend(fontsize="small", loc="upper left", markerscale=4)
    axes[1, 0].set_ylabel("count")
    fig.tight_layout()
    return axes
