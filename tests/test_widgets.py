"""ganlib.widgets: static fallbacks outside a kernel, the conv explainer and the loss monitor.

(config.interactive, which decides between a widget and its fallback, is tested in tests/core/test_config.py.)
"""

import re
import warnings

import matplotlib.pyplot as plt
import pytest
import torch
from torch import nn

from ganlib import widgets
from ganlib.papers.cgan import ConditionalGenerator
from ganlib.papers.gan import MLPGenerator
from ganlib.shapes import conv_output_size
from ganlib.training import Trainer
from ganlib.widgets import EXAMPLE_LAYERS, LiveLossMonitor, class_picker, conv_explorer, explain_conv, latent_explorer


def _sizes(text):
    claimed = re.search(r"-> (\d+)×(\d+)", text)
    real = re.search(r"gives (\d+)×(\d+)", text)
    return int(claimed.group(1)), int(real.group(1))


@pytest.mark.parametrize("args", [
    dict(size=28, kernel=4, stride=2, padding=1),
    dict(size=9, kernel=3, stride=2, padding=0, dilation=2),
    dict(size=7, kernel=4, stride=2, padding=1, transposed=True),
    dict(size=7, kernel=3, stride=2, padding=1, output_padding=1, transposed=True),
    dict(size=4, kernel=4, stride=2, padding=1, dilation=2, transposed=True),
])
def test_explain_conv_agrees_with_pytorch(args):
    text = explain_conv(**args)
    claimed, real = _sizes(text)
    assert claimed == real == conv_output_size(**args)
    name = "ConvTranspose2d" if args.get("transposed") else "Conv2d"
    assert text.startswith(f"{name}: {args['size']}×{args['size']} -> {claimed}×{claimed}")
    assert f"PyTorch's nn.{name} gives {real}×{real}" in text
    assert text.splitlines()[1].strip().endswith(f"= {claimed}")  # the formula ends with the output


def test_explain_conv_formula_numbers():
    text = explain_conv(7, 4, 2, 1, transposed=True)
    assert "(7 - 1)·2 - 2·1 + 3 + 0 + 1 = 14" in text
    text = explain_conv(28, 4, 2, 1)
    assert "⌊(28 + 2 - 3 - 1) / 2⌋ + 1 = 14" in text


@pytest.mark.parametrize("args, reason", [
    ((2, 5), "does not fit"),
    ((5, 3, 2, 0, 1, 2, True), "output_padding"),
    ((5, 0), "kernel"),
])
def test_explain_conv_invalid_setting_is_text(args, reason):
    text = explain_conv(*args)
    assert text.startswith("Not a valid layer: ") and reason in text


def test_conv_explorer_static_table(monkeypatch, capsys):
    monkeypatch.setenv("GANLIB_WIDGETS", "static")
    conv_explorer()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["layer", "n", "k", "s", "p", "d", "op", "out"]
    assert len(lines) == 1 + len(EXAMPLE_LAYERS)
    outs = [int(line.split()[-1]) for line in lines[1:]]
    assert outs == [14, 7, 1, 7, 14, 14, 13, 11]
    for line, (size, k, s, p, d, op, tr) in zip(lines[1:], EXAMPLE_LAYERS):
        layer = nn.ConvTranspose2d(1, 1, k, s, p, op, dilation=d) if tr else nn.Conv2d(1, 1, k, s, p, dilation=d)
        assert int(line.split()[-1]) == layer(torch.zeros(1, 1, size, size)).shape[-1]
        assert line.split()[0] == ("ConvTranspose2d" if tr else "Conv2d")


def test_latent_explorer_static_figure(monkeypatch):
    monkeypatch.delenv("GANLIB_WIDGETS", raising=False)
    torch.manual_seed(0)
    G = MLPGenerator(4, (1, 8, 8), hidden=(16,))
    state = torch.get_rng_state()
    latent_explorer(G, 4, steps=5)
    assert torch.equal(torch.get_rng_state(), state)  # fixed noise only
    assert len(plt.get_fignums()) == 1
    ax = plt.gcf().axes[0]
    assert ax.get_title() == "latent walks between pairs of seeds (slerp)"
    image = ax.get_images()[0].get_array()
    assert image.shape == (4 * 10 + 2, 5 * 10 + 2, 3)  # 4 walks of 5 steps, 8x8 images with padding 2
    assert G.training


def test_class_picker_static_grid(monkeypatch):
    monkeypatch.delenv("GANLIB_WIDGETS", raising=False)
    G = ConditionalGenerator(z_dim=4, n_classes=3, img_size=28, width=2)
    class_picker(G, 4, n_classes=3, columns=5)
    ax = plt.gcf().axes[0]
    assert ax.get_images()[0].get_array().shape == (3 * 30 + 2, 5 * 30 + 2, 3)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="3 classes, got 2 names"):
        class_picker(G, 4, n_classes=3, class_names=("a", "b"))


def test_widgets_render_when_interactive(monkeypatch):
    import ipywidgets

    shown = []
    monkeypatch.setattr(widgets, "interactive", lambda: True)
    monkeypatch.setattr(widgets, "_display", shown.append)
    conv_explorer()
    assert len(shown) == 1 and isinstance(shown[0], ipywidgets.interactive)
    assert {c.description for c in shown[0].children[:-1]} == {
        "transposed", "input size", "kernel", "stride", "padding", "output_pad", "dilation"}
    G = MLPGenerator(4, (1, 8, 8), hidden=(16,))
    latent_explorer(G, 4, steps=4)
    assert len(shown) == 2 and isinstance(shown[1], ipywidgets.interactive)
    assert {c.description for c in shown[1].children[:-1]} == {"seed A", "seed B", "t", "slerp"}
    class_picker(ConditionalGenerator(z_dim=4, n_classes=3, width=2), 4, n_classes=3, class_names=("a", "b", "c"))
    assert len(shown) == 3 and {c.description for c in shown[2].children[:-1]} == {"draw", "noise seed"}
    assert shown[2].children[0].options == (("a", 0), ("b", 1), ("c", 2))


def test_a_failing_widget_falls_back_to_static(monkeypatch, capsys):
    def broken(obj):
        raise RuntimeError("no front end")

    monkeypatch.setattr(widgets, "interactive", lambda: True)
    monkeypatch.setattr(widgets, "_display", broken)
    with pytest.warns(UserWarning, match="could not be built .*no front end.*static view"):
        conv_explorer()
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1 - len(EXAMPLE_LAYERS)].split()[0] == "layer"  # the static table, after the widget's output
    assert len(lines[-len(EXAMPLE_LAYERS):]) == len(EXAMPLE_LAYERS)


def _short_run(gan, monitor, steps=4):
    state = {name: gan[name] for name in ("G", "D", "opt_g", "opt_d")}
    trainer = Trainer(state, gan["d_step"], gan["g_step"], gan["batches"], callbacks=(monitor,), progress=False)
    trainer.fit(steps)
    return trainer


def test_live_loss_monitor_outside_ipython(gan, monkeypatch):
    monkeypatch.delenv("GANLIB_WIDGETS", raising=False)
    monitor = LiveLossMonitor(every=2, window=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not even a warning
        trainer = _short_run(gan, monitor)
    assert trainer.step == 4 and monitor._handle is None and not monitor._broken
    assert not plt.get_fignums()


def test_live_loss_monitor_draws_once_at_the_end_in_ipython(gan, monkeypatch):
    shown = []
    monkeypatch.setattr(widgets, "_in_ipython", lambda: True)
    monkeypatch.setattr(widgets, "_display", shown.append)
    _short_run(gan, LiveLossMonitor(every=1, window=2))
    assert len(shown) == 1 and isinstance(shown[0], plt.Figure)
    labels = [t.get_text() for t in shown[0].axes[0].get_legend().get_texts()]
    assert labels == ["d_loss", "g_loss"]


def test_live_loss_monitor_never_stops_training(gan, monkeypatch):
    import IPython.display

    def broken(*args, **kwargs):
        raise RuntimeError("display is gone")

    monkeypatch.setattr(widgets, "interactive", lambda: True)
    monkeypatch.setattr(IPython.display, "display", broken)
    monitor = LiveLossMonitor(every=2)
    with pytest.warns(UserWarning, match="live loss plot switched off"):
        trainer = _short_run(gan, monitor)
    assert trainer.step == 4 and monitor._broken
