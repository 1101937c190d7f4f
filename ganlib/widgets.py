"""Interactive widgets with static fallbacks (lessons 01, 02 and 03).

In JupyterLab or Colab these show ipywidgets controls. Where no widget front end is attached
(nbval, nbconvert, a script) or ``GANLIB_WIDGETS=static`` is set, each one draws a static
matplotlib figure or table instead. A widget never makes a notebook fail: if building it goes
wrong, it warns and falls back to the static view.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

import matplotlib.pyplot as plt
import torch
from torch import nn

from .config import interactive
from .plotting import class_grid, plot_losses, show_images
from .sampling import fixed_noise, generate, interpolate
from .shapes import conv_output_size
from .training import Callback, History, Trainer


def _display(obj: Any) -> None:
    from IPython.display import display

    display(obj)


def _with_fallback(build: Callable[[], Any], static: Callable[[], Any]) -> None:
    """Display the widget ``build()`` makes, or run ``static()`` where widgets cannot render."""
    if interactive():
        try:
            _display(build())
            return
        except Exception as err:  # never let a widget break a lesson
            warnings.warn(f"the interactive widget could not be built ({err}); showing a static view.")
    static()


# -- convolution sizes (lesson 02) ----------------------------------------------------------------
def explain_conv(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1,
                 output_padding: int = 0, transposed: bool = False) -> str:
    """The size formula with the numbers filled in, checked against a real PyTorch layer."""
    try:
        out = conv_output_size(size, kernel, stride, padding, dilation, output_padding, transposed)
    except ValueError as err:
        return f"Not a valid layer: {err}"
    span = dilation * (kernel - 1)
    if transposed:
        formula = (f"(n - 1)·s - 2p + d·(k - 1) + output_padding + 1 = ({size} - 1)·{stride} - 2·{padding} "
                   f"+ {span} + {output_padding} + 1 = {out}")
        layer = nn.ConvTranspose2d(1, 1, kernel, stride, padding, output_padding, dilation=dilation)
    else:
        formula = f"⌊(n + 2p - d·(k - 1) - 1) / s⌋ + 1 = ⌊({size} + {2 * padding} - {span} - 1) / {stride}⌋ + 1 = {out}"
        layer = nn.Conv2d(1, 1, kernel, stride, padding, dilation=dilation)
    with torch.no_grad():
        real = layer(torch.zeros(1, 1, size, size)).shape[-1]
    name = "ConvTranspose2d" if transposed else "Conv2d"
    return f"{name}: {size}×{size} -> {out}×{out}\n  {formula}\n  PyTorch's nn.{name} gives {real}×{real}."


EXAMPLE_LAYERS = (  # (size, kernel, stride, padding, dilation, output_padding, transposed)
    (28, 4, 2, 1, 1, 0, False),
    (14, 4, 2, 1, 1, 0, False),
    (7, 7, 1, 0, 1, 0, False),
    (1, 7, 1, 0, 1, 0, True),
    (7, 4, 2, 1, 1, 0, True),
    (7, 3, 2, 1, 1, 1, True),
    (7, 3, 2, 1, 1, 0, True),
    (4, 4, 2, 1, 2, 0, True),
)


def conv_explorer() -> None:
    """Sliders for a Conv2d/ConvTranspose2d layer showing its output size (static: a table of examples)."""

    def build() -> Any:
        import ipywidgets as w

        def show(transposed: bool, size: int, kernel: int, stride: int, padding: int, output_padding: int,
                 dilation: int) -> None:
            print(explain_conv(size, kernel, stride, padding, dilation, output_padding, transposed))

        return w.interactive(
            show, transposed=w.Checkbox(True, description="transposed"),
            size=w.IntSlider(7, 1, 64, description="input size"), kernel=w.IntSlider(4, 1, 9, description="kernel"),
            stride=w.IntSlider(2, 1, 4, description="stride"), padding=w.IntSlider(1, 0, 4, description="padding"),
            output_padding=w.IntSlider(0, 0, 3, description="output_pad"), dilation=w.IntSlider(1, 1, 3, description="dilation"),
        )

    def static() -> None:
        print(f"{'layer':<16}{'n':>4}{'k':>4}{'s':>4}{'p':>4}{'d':>4}{'op':>4}{'out':>6}")
        for size, k, s, p, d, op, tr in EXAMPLE_LAYERS:
            out = conv_output_size(size, k, s, p, d, op, tr)
            print(f"{'ConvTranspose2d' if tr else 'Conv2d':<16}{size:>4}{k:>4}{s:>4}{p:>4}{d:>4}{op:>4}{out:>6}")

    _with_fallback(build, static)


# -- the loss monitor (lesson 01) -----------------------------------------------------------------
class LiveLossMonitor(Callback):
    """A :class:`~ganlib.training.Trainer` callback that redraws the loss curves every ``every`` steps.

    Without a widget front end it draws the curves once, when training ends.
    """

    def __init__(self, every: int = 100, window: int = 50, names: tuple[str, ...] | None = None) -> None:
        self.every, self.window, self.names = every, window, names
        self._handle: Any = None
        self._broken = False

    def _figure(self, history: History) -> plt.Figure:
        fig, ax = plt.subplots(figsize=(7, 3.2))
        plot_losses(history, self.names, window=self.window, ax=ax)
        plt.close(fig)  # shown through the display handle only
        return fig

    def on_step(self, trainer: Trainer) -> None:
        if self._broken or trainer.step % self.every or not interactive():
            return
        try:
            from IPython.display import display

            fig = self._figure(trainer.history)
            if self._handle is None:
                self._handle = display(fig, display_id=True)
            else:
                self._handle.update(fig)
        except Exception as err:  # never stop training for a plot
            self._broken = True
            warnings.warn(f"live loss plot switched off ({err}).")

    def on_end(self, trainer: Trainer) -> None:
        if self._broken or not trainer.history.names() or not _in_ipython():
            return
        try:
            fig = self._figure(trainer.history)
            self._handle.update(fig) if self._handle is not None else _display(fig)
        except Exception as err:  # never fail a lesson for a plot
            warnings.warn(f"could not draw the loss curves ({err}).")


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


# -- the latent space (lesson 02) -----------------------------------------------------------------
def latent_explorer(G: nn.Module, z_dim: int, seeds: tuple[int, int] = (0, 1), steps: int = 10) -> None:
    """Walk between two seeds' latent vectors with a slider (static: a strip of ``steps`` images per pair)."""
    device = next(G.parameters()).device

    def z_of(seed: int) -> torch.Tensor:
        return fixed_noise(1, z_dim, seed=seed, device=device)[0]

    def build() -> Any:
        import ipywidgets as w

        def show(seed_a: int, seed_b: int, t: float, spherical: bool) -> None:
            path = interpolate(z_of(seed_a), z_of(seed_b), steps, spherical)
            i = round(t * (steps - 1))
            images = generate(G, path)
            fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 2.4), gridspec_kw={"width_ratios": [1, 4]})
            show_images(images[i : i + 1], nrow=1, title=f"t = {i / (steps - 1):.2f}", ax=ax1)
            show_images(images, nrow=steps, title=f"seed {seed_a} -> seed {seed_b}", ax=ax2)
            plt.show()

        return w.interactive(
            show, seed_a=w.IntText(seeds[0], description="seed A"), seed_b=w.IntText(seeds[1], description="seed B"),
            t=w.FloatSlider(0.5, min=0.0, max=1.0, step=1 / (steps - 1), description="t"),
            spherical=w.Checkbox(True, description="slerp"),
        )

    def static() -> None:
        pairs = [(seeds[0] + 2 * i, seeds[1] + 2 * i) for i in range(4)]
        rows = torch.cat([generate(G, interpolate(z_of(a), z_of(b), steps)) for a, b in pairs])
        show_images(rows, nrow=steps, size=8, title="latent walks between pairs of seeds (slerp)")
        plt.show()

    _with_fallback(build, static)


# -- telling a conditional generator what to draw (lesson 03) --------------------------------------
def class_picker(G: nn.Module, z_dim: int, n_classes: int = 10, class_names: tuple[str, ...] | None = None,
                 columns: int = 8) -> None:
    """Pick a class (and a noise seed) and see ``G(z, class)``; static: :func:`ganlib.plotting.class_grid`."""
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    if len(names) != n_classes:
        raise ValueError(f"give one name per class: {n_classes} classes, got {len(names)} names.")
    device = next(G.parameters()).device

    def build() -> Any:
        import ipywidgets as w

        def show(label: int, seed: int) -> None:
            z = fixed_noise(columns, z_dim, seed=seed, device=device)
            images = generate(G, z, torch.full((columns,), label, dtype=torch.long, device=device))
            show_images(images, nrow=columns, size=8, title=f"{names[label]}, noise seed {seed}")
            plt.show()

        return w.interactive(
            show, label=w.ToggleButtons(options=[(n, i) for i, n in enumerate(names)], value=0, description="draw"),
            seed=w.IntSlider(0, 0, 99, description="noise seed"),
        )

    def static() -> None:
        class_grid(G, z_dim, n_classes, columns, class_names=names)
        plt.title("one row per class, one column per noise vector")
        plt.show()

    _with_fallback(build, static)
