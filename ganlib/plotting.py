"""Figures: image grids, loss curves, snapshots and their animation, quality curves (lesson 01),
class-by-noise grids of conditional generators (lesson 03).

Plotting only reads what training produced (images, the history, snapshots); it never trains.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib import animation
from matplotlib.ticker import FuncFormatter
from torch import Tensor
from torchvision.utils import make_grid

from .evaluation.metrics import Coverage, LabelAccuracy
from .evaluation.stats import fid_rank_correlation
from .sampling import fixed_noise, generate
from .training import History
from .utils import smooth
from .validate import check_positive_number


def _check_images(images: Tensor) -> Tensor:
    if not isinstance(images, Tensor) or images.ndim != 4 or images.shape[1] not in (1, 3):
        shape = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"expected images of shape (N, 1 or 3, H, W) in [-1, 1]; got {shape}.")
    return images.detach().float().cpu()


def image_grid(images: Tensor, nrow: int = 8, padding: int = 2) -> Tensor:
    """Images in [-1, 1], (N, C, H, W) -> one (3, H', W') grid in [0, 1] (torchvision's ``make_grid``)."""
    images = _check_images(images)
    return make_grid(images, nrow=nrow, padding=padding, normalize=True, value_range=(-1, 1), pad_value=1.0)


def show_images(images: Tensor, nrow: int = 8, title: str | None = None, ax: plt.Axes | None = None,
                size: float = 4.0) -> plt.Axes:
    """Draw a grid of images in [-1, 1]; returns the axes."""
    grid = image_grid(images, nrow)
    if ax is None:
        _, ax = plt.subplots(figsize=(size, size * grid.shape[1] / grid.shape[2]))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax


def class_grid(G: torch.nn.Module, z_dim: int, n_classes: int = 10, columns: int = 8, seed: int = 0,
               class_names: Sequence[str] | None = None, ax: plt.Axes | None = None, size: float = 5.0) -> plt.Axes:
    """One row per class, one column per noise vector: ``G(z_j, y_i)`` for a conditional generator (lesson 03).

    Every row uses the same ``columns`` noise vectors (drawn from ``seed``), so reading down a
    column shows what the noise keeps across classes (slant, thickness, style).
    """
    if class_names is not None and len(class_names) != n_classes:
        raise ValueError(f"give one name per class: {n_classes} classes, got {len(class_names)} names.")
    device = next(G.parameters()).device
    z = fixed_noise(columns, z_dim, seed=seed, device=device).repeat(n_classes, 1)    # row i: the same z's
    labels = torch.arange(n_classes, device=device).repeat_interleave(columns)       # row i: class i
    images = generate(G, z, labels)
    ax = show_images(images, nrow=columns, ax=ax, size=size)
    height = images.shape[-2] + 2  # make_grid's padding
    names = class_names if class_names is not None else [str(i) for i in range(n_classes)]
    ax.set_axis_on()
    ax.set_xticks([])
    ax.set_yticks([2 + height * (i + 0.5) for i in range(n_classes)], names)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def plot_losses(history: History, names: Sequence[str] | None = None, window: int = 50,
                ax: plt.Axes | None = None) -> plt.Axes:
    """Loss curves from a :class:`~ganlib.training.History`, smoothed over ``window`` steps (raw ones faint)."""
    names = list(names) if names is not None else [n for n in history.names() if n in ("d_loss", "g_loss")] or history.names()
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    for name in names:
        steps, values = history[name]
        (line,) = ax.plot(steps, smooth(values, window), label=name)
        ax.plot(steps, values, color=line.get_color(), alpha=0.15, linewidth=0.8)
    ax.set_xlabel("generator step")
    ax.set_ylabel("loss")
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_fid(history: History, name: str = "fid", floor: float | None = None, ceiling: float | None = None,
             ax: plt.Axes | None = None, label: str | None = None) -> plt.Axes:
    """FID against training steps, recorded by :class:`ganlib.evaluation.callbacks.FIDCallback`; marks the best step.

    ``floor`` and ``ceiling`` (the FID of real digits and of noise, from :func:`ganlib.evaluation.metrics.fid_scale`)
    are drawn as dashed lines: the closer the curve gets to the floor, the less there is left to gain.
    To compare runs, call it once per run on the same ``ax``, each with its own ``label``: the best
    value then goes into the legend instead of onto the curve.
    """
    steps, values = history[name]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    best = min(range(len(values)), key=values.__getitem__)
    if label is None:
        ax.plot(steps, values, marker="o", label=name)
        ax.annotate(f"best {values[best]:.2f} at step {steps[best]}", (steps[best], values[best]),
                    textcoords="offset points", xytext=(0, 12), ha="center")
    else:
        ax.plot(steps, values, marker="o", label=f"{label} (best {values[best]:.1f} at step {steps[best]})")
    if floor is not None:
        ax.axhline(floor, color="tab:green", linestyle="--", label=f"real digits ({floor:.2f})")
    if ceiling is not None:
        ax.axhline(ceiling, color="tab:red", linestyle="--", label=f"noise ({ceiling:.0f})")
    ax.set_yscale("log")
    ax.set_xlabel("generator step")
    ax.set_ylabel(f"{name} (log scale, lower is better)")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    return ax


def plot_coverage(coverage: Coverage, ax: plt.Axes | None = None, title: str | None = None) -> plt.Axes:
    """Bar chart of the share of each digit in the samples (:func:`ganlib.evaluation.metrics.coverage`), 10 % marked."""
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 2.8))
    ax.bar(range(10), [100 * s for s in coverage.shares], color="tab:blue")
    ax.axhline(10, color="grey", linestyle="--", label="fair share, 10 %")
    ax.axhline(5, color="tab:red", linestyle=":", label="covered from 5 %")
    ax.set_xticks(range(10))
    ax.set_xlabel("digit, as the evaluator reads it")
    ax.set_ylabel("% of samples")
    ax.set_title(title or f"{coverage.digits_covered}/10 digits covered, {coverage.confident:.0%} clear")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, not on them
    return ax


def plot_label_accuracy(results: dict[str, LabelAccuracy], ax: plt.Axes | None = None) -> plt.Axes:
    """Per-digit label accuracy of one or more conditional models as grouped bars (lesson 03)."""
    if not results:
        raise ValueError("give at least one model: {name: metrics.label_accuracy(...)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    width = 0.8 / len(results)
    for i, (name, acc) in enumerate(results.items()):
        xs = [d - 0.4 + width * (i + 0.5) for d in range(10)]
        ax.bar(xs, [100 * a for a in acc.per_digit], width, label=f"{name} ({acc.overall:.1%})")
    ax.set_xticks(range(10))
    ax.set_xlabel("digit asked for")
    ax.set_ylabel("% read as that digit")
    ax.set_ylim(0, 100)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return ax


def _spread(n: int, count: int) -> list[int]:
    """Up to ``count`` indices spread evenly over ``range(n)``, always with the first and the last."""
    count = max(1, min(n, count))
    return sorted({round(i * (n - 1) / max(count - 1, 1)) for i in range(count)})


def show_snapshots(snapshots: Sequence[tuple[int, Tensor]], count: int = 5, per_snapshot: int = 16,
                   size: float = 2.6) -> plt.Figure:
    """``count`` snapshots spread over training, side by side, each a grid of ``per_snapshot`` samples."""
    if not snapshots:
        raise ValueError("no snapshots: give the Trainer fixed_inputs, e.g. (z,), to record them.")
    picks = _spread(len(snapshots), count)
    fig, axes = plt.subplots(1, len(picks), figsize=(size * len(picks), size), squeeze=False)
    nrow = max(1, int(per_snapshot ** 0.5))
    for ax, i in zip(axes[0], picks):
        step, images = snapshots[i]
        show_images(images[:per_snapshot], nrow=nrow, title=f"step {step}", ax=ax)
    fig.tight_layout()
    return fig


def save_animation(snapshots: Sequence[tuple[int, Tensor]], path: str | os.PathLike, per_snapshot: int = 36,
                   fps: int = 4, size: float = 3.0, max_frames: int = 40) -> Path:
    """Write the snapshots as an animated GIF (Pillow, which matplotlib brings) and return its path."""
    if not snapshots:
        raise ValueError("no snapshots: give the Trainer fixed_inputs, e.g. (z,), to record them.")
    frames = [snapshots[i] for i in _spread(len(snapshots), max_frames)]
    nrow = max(1, int(per_snapshot ** 0.5))
    fig, ax = plt.subplots(figsize=(size, size))
    grids = [image_grid(x[:per_snapshot], nrow).permute(1, 2, 0).numpy() for _, x in frames]
    im = ax.imshow(grids[0], interpolation="nearest")
    ax.set_axis_off()
    title = ax.set_title(f"step {frames[0][0]}")

    def draw(i: int) -> list:
        im.set_data(grids[i])
        title.set_text(f"step {frames[i][0]}")
        return [im, title]

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), blit=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    anim.save(path, writer=animation.PillowWriter(fps=fps), dpi=60)
    plt.close(fig)
    return path


# -- Wasserstein GANs (lesson 04) -------------------------------------------------------------------
def plot_weight_histogram(model: torch.nn.Module, clip: float | None = None, bins: int = 81,
                          ax: plt.Axes | None = None, title: str | None = None) -> plt.Axes:
    """Histogram of all of ``model``'s parameters (lesson 04: what weight clipping does to a critic).

    With ``clip`` = c, dashed lines mark ±c and the title says what share of the parameters sits on
    one of the two bounds (within 0.1 % of c).
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be an nn.Module; got {type(model).__name__}.")
    if clip is not None:
        check_positive_number(clip, "clip", " (the bound c) or None")
    params = [p.detach().flatten().float().cpu() for p in model.parameters()]
    if not params:
        raise ValueError(f"{type(model).__name__} has no parameters to draw.")
    values = torch.cat(params)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.8))
    ax.hist(values.numpy(), bins=bins, color="tab:blue")
    ax.set_xlabel("parameter value")
    ax.set_ylabel("count")
    if clip is not None:
        for x in (-clip, clip):
            ax.axvline(x, color="tab:red", linestyle="--", linewidth=1)
        at_bound = float((values.abs() >= clip * 0.999).float().mean())
        title = title or f"{at_bound:.0%} of {len(values):,} parameters sit at ±{clip:g}"
    ax.set_title(title or f"{len(values):,} parameters")
    return ax


def plot_against_fid(history: History, name: str, window: int = 50, fid: str = "fid", label: str | None = None,
                     ax: plt.Axes | None = None) -> plt.Axes:
    """A logged number, smoothed over ``window`` steps, with the FID curve on a second y-axis (lesson 04).

    Does a loss say how good the samples are? WGAN's critic estimate of the Wasserstein distance
    should fall as the FID falls; a vanilla discriminator's loss does not. The title gives their rank
    correlation (:func:`ganlib.evaluation.stats.fid_rank_correlation`); the FID axis is logarithmic, as in
    :func:`plot_fid`. Returns the axes of the logged number; the FID is on its twin.
    """


    steps, values = history[name]
    fid_steps, fids = history[fid]
    rho = fid_rank_correlation(history, name, window, fid)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    ax.plot(steps, values, color="tab:blue", alpha=0.15, linewidth=0.8)
    (line,) = ax.plot(steps, smooth(values, window), color="tab:blue", label=f"{label or name}, mean of {window}")
    ax.set_xlabel("generator step")
    ax.set_ylabel(label or name, color="tab:blue")
    ax.grid(alpha=0.3)
    right = ax.twinx()
    (fid_line,) = right.plot(fid_steps, fids, color="tab:orange", marker="o", markersize=3, label=f"{fid} (log scale)")
    right.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")  # 300, not 3 × 10²
    right.yaxis.set_major_formatter(plain)
    right.yaxis.set_minor_formatter(plain)
    right.set_ylabel(f"{fid} (log scale)", color="tab:orange")
    ax.legend([line, fid_line], [line.get_label(), fid_line.get_label()], fontsize="small", loc="upper right")
    ax.set_title(f"rank correlation with {fid}: {rho:+.2f}")
    return ax
