"""What goes into a generator: noise, fixed noise, balanced labels, latent walks, and ``generate``.

Noise and labels are taught in lessons 01 and 03, the latent walk in lesson 02. :func:`generate`
runs any generator on any tuple of inputs (noise; noise and labels; noise and latent codes; low-
resolution images ...), in eval mode and in chunks, so that every later lesson can sample the same way.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .validate import check_positive


def sample_noise(
    n: int, z_dim: int, device: torch.device | str | None = None, generator: torch.Generator | None = None
) -> Tensor:
    """``n`` latent vectors z ~ N(0, I) of size ``z_dim``, shape (n, z_dim)."""
    if n <= 0 or z_dim <= 0:
        raise ValueError(f"n and z_dim must be positive; got n={n}, z_dim={z_dim}.")
    return torch.randn(n, z_dim, generator=generator).to(device) if generator else torch.randn(n, z_dim, device=device)


def fixed_noise(n: int, z_dim: int, seed: int = 0, device: torch.device | str | None = None) -> Tensor:
    """The same ``n`` latent vectors for a given ``seed``, without touching the global random state.

    Used for snapshots, so that the grids over training show the same samples growing up.
    """
    return sample_noise(n, z_dim, device, torch.Generator().manual_seed(seed))


def balanced_labels(n: int, n_classes: int = 10, device: torch.device | str | None = None) -> Tensor:
    """``n`` class labels 0, 1, ..., n_classes - 1, 0, 1, ... : every class equally often (lesson 03)."""
    if n <= 0 or n_classes <= 0:
        raise ValueError(f"n and n_classes must be positive; got n={n}, n_classes={n_classes}.")
    return torch.arange(n, device=device) % n_classes


def interpolate(z_a: Tensor, z_b: Tensor, steps: int = 10, spherical: bool = True) -> Tensor:
    """``steps`` latent vectors from ``z_a`` to ``z_b`` (1-D, same size); spherical by default (lesson 02).

    Gaussian latents concentrate near a sphere of radius sqrt(z_dim); the straight line between two
    of them passes closer to the origin, where the generator saw few samples. Slerp stays on the shell.
    """
    if z_a.shape != z_b.shape or z_a.ndim != 1:
        raise ValueError(f"expected two 1-D latent vectors of the same size; got {tuple(z_a.shape)} and {tuple(z_b.shape)}.")
    t = torch.linspace(0, 1, steps, device=z_a.device)[:, None]
    if not spherical:
        return (1 - t) * z_a + t * z_b
    omega = torch.acos(torch.clamp(torch.dot(z_a / z_a.norm(), z_b / z_b.norm()), -1.0, 1.0))
    if omega.abs() < 1e-6:
        return (1 - t) * z_a + t * z_b
    return (torch.sin((1 - t) * omega) * z_a + torch.sin(t * omega) * z_b) / torch.sin(omega)


def check_inputs(inputs: tuple[Tensor, ...], owner: str) -> None:
    """A generator's inputs: one or more tensors with one row per sample (e.g. noise, then labels)."""
    if not inputs or not all(isinstance(t, Tensor) for t in inputs):
        got = ", ".join(type(t).__name__ for t in inputs) or "nothing"
        raise ValueError(f"{owner} needs the generator's inputs as tensors, e.g. (z,) or (z, labels); got {got}.")
    sizes = [len(t) for t in inputs]
    if len(set(sizes)) != 1:
        raise ValueError(f"{owner} needs one row per sample in every input (e.g. one label per noise vector); "
                         f"got inputs of {', '.join(map(str, sizes))} rows.")


@torch.no_grad()
def generate(G: nn.Module, *inputs: Tensor, batch_size: int = 500) -> Tensor:
    """``G(*inputs)`` in eval mode, without gradients, in chunks of ``batch_size``, returned on the CPU.

    ``generate(G, z)`` for an unconditional generator (lesson 01), ``generate(G, z, labels)`` for a
    conditional one (lesson 03); any other tuple of per-sample inputs works the same way.
    """
    check_inputs(inputs, "generate")
    check_positive(batch_size=batch_size)
    was_training = G.training
    G.eval()
    try:
        chunks = zip(*(t.split(batch_size) for t in inputs))
        return torch.cat([G(*chunk).cpu() for chunk in chunks])
    finally:
        G.train(was_training)
