"""ganlib.plotting: grids, curves, snapshots, the GIF, class grids and the lesson 04 figures.

(smooth is tested in tests/core/test_utils.py, interpolate in tests/core/test_sampling.py.)
"""

import matplotlib.pyplot as plt
import pytest
import torch
from PIL import Image

from ganlib import plotting
from ganlib.evaluation.metrics import LabelAccuracy, coverage_of_labels
from ganlib.plotting import image_grid, plot_losses, save_animation, show_images, show_snapshots
from ganlib.training import History
from ganlib.utils import smooth


def _images(n=10, c=1, size=6, seed=0):
    return torch.rand(n, c, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# -- image_grid ------------------------------------------------------------------------------------
def test_image_grid_shape_and_range():
    grid = image_grid(_images(10), nrow=4, padding=2)
    # 4 columns x 3 rows of 6x6 images, 2 pixels of padding around each
    assert grid.shape == (3, 3 * 8 + 2, 4 * 8 + 2)
    assert grid.min() >= 0 and grid.max() <= 1


def test_image_grid_maps_minus_one_to_zero_and_one_to_one():
    images = torch.stack([torch.full((1, 4, 4), -1.0), torch.full((1, 4, 4), 1.0), torch.zeros(1, 4, 4)])
    grid = image_grid(images, nrow=3, padding=1)
    assert grid.shape == (3, 6, 16)
    assert torch.all(grid[:, 1:5, 1:5] == 0) and torch.all(grid[:, 1:5, 6:10] == 1)
    assert torch.allclose(grid[:, 1:5, 11:15], torch.full((3, 4, 4), 0.5))
    assert torch.all(grid[:, 0, :] == 1)  # white padding


def test_image_grid_does_not_change_its_input():
    images = _images(4)
    before = images.clone()
    image_grid(images)
    assert torch.equal(images, before)


def test_image_grid_rgb_and_grad():
    images = _images(3, c=3).requires_grad_()
    grid = image_grid(images, nrow=3, padding=0)
    assert grid.shape == (3, 6, 18)
    assert torch.allclose(grid[:, :, :6], (images[0].detach() + 1) / 2)


@pytest.mark.parametrize("bad, shown", [
    (torch.zeros(4, 2, 5, 5), "(4, 2, 5, 5)"),
    (torch.zeros(1, 28, 28), "(1, 28, 28)"),
    ([[0.0]], "list"),
])
def test_image_grid_bad_shapes(bad, shown):
    with pytest.raises(ValueError) as info:
        image_grid(bad)
    assert "(N, 1 or 3, H, W)" in str(info.value) and shown in str(info.value)


# -- show_images / plot_losses / show_snapshots ----------------------------------------------------
def test_show_images_returns_axes():
    ax = show_images(_images(8), nrow=4, title="samples")
    assert isinstance(ax, plt.Axes) and ax.get_title() == "samples"
    data = ax.get_images()[0].get_array()
    assert data.shape == (2 * 8 + 2, 4 * 8 + 2, 3)
    assert not ax.axison


def test_show_images_into_given_axes():
    fig, axes = plt.subplots(1, 2)
    assert show_images(_images(2), ax=axes[1]) is axes[1]
    assert len(axes[1].get_images()) == 1 and len(axes[0].get_images()) == 0


def _history(n=30):
    h = History()
    for step in range(1, n + 1):
        h.log(step, d_loss=1.0 + step / n, g_loss=2.0 - step / n, d_real=0.5)
    return h


def test_plot_losses_default_names():
    ax = plot_losses(_history(), window=5)
    assert isinstance(ax, plt.Axes)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d_loss", "g_loss"]
    lines = ax.get_lines()
    assert len(lines) == 4  # smoothed and raw for each
    steps, values = _history()["d_loss"]
    assert list(lines[0].get_xdata()) == steps
    assert list(lines[0].get_ydata()) == pytest.approx(smooth(values, 5))
    assert list(lines[1].get_ydata()) == pytest.approx(values)
    assert ax.get_xlabel() == "generator step"


def test_plot_losses_named_and_fallback():
    ax = plot_losses(_history(), names=["d_real"], window=1)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["d_real"]
    h = History()
    h.log(1, critic=3.0)
    ax = plot_losses(h)  # no d_loss/g_loss: everything logged is drawn
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["critic"]


def test_plot_losses_unknown_name():
    with pytest.raises(KeyError, match="nothing logged as 'w_dist'"):
        plot_losses(_history(), names=["w_dist"])


def test_show_snapshots_returns_a_figure():
    snapshots = [(s, _images(16, seed=s)) for s in (0, 10, 20, 30, 40, 50, 60)]
    fig = show_snapshots(snapshots, count=4, per_snapshot=9)
    assert isinstance(fig, plt.Figure) and len(fig.axes) == 4
    assert [ax.get_title() for ax in fig.axes] == ["step 0", "step 20", "step 40", "step 60"]
    assert fig.axes[0].get_images()[0].get_array().shape == (3 * 8 + 2, 3 * 8 + 2, 3)  # 9 samples, 3 x 3


def test_show_snapshots_fewer_than_count():
    fig = show_snapshots([(0, _images(4)), (5, _images(4))], count=5)
    assert [ax.get_title() for ax in fig.axes] == ["step 0", "step 5"]
    with pytest.raises(ValueError, match="no snapshots"):
        show_snapshots([])


# -- save_animation --------------------------------------------------------------------------------
def test_save_animation_writes_a_gif(tmp_path):
    snapshots = [(s, _images(4, seed=s)) for s in range(7)]
    path = save_animation(snapshots, tmp_path / "out" / "train.gif", per_snapshot=4, max_frames=3, size=1.0)
    assert path == tmp_path / "out" / "train.gif"
    assert path.read_bytes()[:4] == b"GIF8"
    with Image.open(path) as gif:
        assert gif.n_frames == 3  # every third snapshot: 0, 3 and 6, which is the last
    assert not plt.get_fignums()  # the figure was closed


def test_save_animation_keeps_the_last_snapshot(tmp_path):
    snapshots = [(s, _images(4, seed=s)) for s in range(6)]
    path = save_animation(snapshots, tmp_path / "a.gif", per_snapshot=4, max_frames=4, size=1.0)
    with Image.open(path) as gif:
        assert gif.n_frames == 4  # 0, 2, 4 and the last, 5


def test_save_animation_needs_snapshots(tmp_path):
    with pytest.raises(ValueError, match="no snapshots"):
        save_animation([], tmp_path / "a.gif")


# -- FID, coverage and label accuracy -----------------------------------------------------------
def test_plot_fid_marks_the_best_step_and_the_floor():
    h = History()
    for step, value in ((0, 80.0), (100, 9.0), (200, 4.0), (300, 5.0)):
        h.log(step, fid=value)
    ax = plotting.plot_fid(h, floor=0.5, ceiling=600)
    assert list(ax.lines[0].get_ydata()) == [80.0, 9.0, 4.0, 5.0]
    assert any("best 4.00 at step 200" in t.get_text() for t in ax.texts)
    assert ax.lines[1].get_ydata()[0] == 0.5 and ax.lines[2].get_ydata()[0] == 600 and ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["fid", "real digits (0.50)", "noise (600)"]
    with pytest.raises(KeyError, match="nothing logged as 'fid'"):
        plotting.plot_fid(History())


def test_plot_coverage_draws_ten_bars():
    ax = plotting.plot_coverage(coverage_of_labels(torch.tensor([0] * 30 + [1] * 70)))
    heights = [bar.get_height() for bar in ax.patches]
    assert len(heights) == 10 and heights[:2] == [30.0, 70.0] and sum(heights) == pytest.approx(100)
    assert ax.get_title() == "2/10 digits covered, 100% clear"


def test_plot_fid_compares_runs_on_one_axes():
    a, b = History(), History()
    a.log(0, fid=50.0), a.log(10, fid=20.0)
    b.log(0, fid=60.0), b.log(10, fid=10.0)
    ax = plotting.plot_fid(a, label="DCGAN")
    plotting.plot_fid(b, ax=ax, label="LSGAN")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["DCGAN (best 20.0 at step 10)",
                                                                   "LSGAN (best 10.0 at step 10)"]
    assert not ax.texts  # no annotations on top of each other


class _LabelPainter(torch.nn.Module):
    """A conditional 'generator' whose image is its label's brightness plus the noise's first entry."""

    def __init__(self):
        super().__init__()
        self.p = torch.nn.Parameter(torch.zeros(1))

    def forward(self, z, labels):
        value = (labels.float()[:, None] / 10 + 0.05 * z[:, :1]).clamp(-1, 1)
        return value[:, :, None, None].expand(-1, 1, 4, 4) + 0 * self.p


def test_class_grid_rows_are_classes_and_columns_share_noise():
    ax = plotting.class_grid(_LabelPainter(), z_dim=3, n_classes=4, columns=5, class_names=list("abcd"))
    grid = ax.get_images()[0].get_array()
    assert grid.shape == (4 * 6 + 2, 5 * 6 + 2, 3)  # 4x4 images, padding 2
    pixel = lambda row, col: grid[2 + 6 * row + 1, 2 + 6 * col + 1, 0]  # noqa: E731
    # brighter down a column (the label grows), and the same step between rows in every column (same noise)
    steps = {round(float(pixel(r + 1, c) - pixel(r, c)), 4) for r in range(3) for c in range(5)}
    assert len(steps) == 1 and steps.pop() > 0
    assert [t.get_text() for t in ax.get_yticklabels()] == list("abcd")
    with pytest.raises(ValueError, match="4 classes, got 2 names"):
        plotting.class_grid(_LabelPainter(), 3, n_classes=4, class_names=["a", "b"])


def test_plot_label_accuracy_groups_bars_per_model():
    a = LabelAccuracy(0.5, [0.5] * 10)
    b = LabelAccuracy(0.9, [0.9] * 9 + [0.9])
    ax = plotting.plot_label_accuracy({"one-hot": a, "projection": b})
    heights = [bar.get_height() for bar in ax.patches]
    assert heights == pytest.approx([50.0] * 10 + [90.0] * 10)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["one-hot (50.0%)", "projection (90.0%)"]
    with pytest.raises(ValueError, match="at least one model"):
        plotting.plot_label_accuracy({})


# -- lesson 04: weight histogram, a loss against the FID ---------------------------------------------
def test_plot_weight_histogram_counts_every_parameter_and_those_at_the_bound():
    model = torch.nn.Linear(3, 2)  # 6 weights + 2 biases
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.01, -0.01, 0.0], [0.01, 0.005, -0.01]]))
        model.bias.copy_(torch.tensor([-0.01, 0.002]))
    ax = plotting.plot_weight_histogram(model, clip=0.01, bins=5)
    assert sum(bar.get_height() for bar in ax.patches) == 8
    assert ax.get_title() == "62% of 8 parameters sit at ±0.01"  # 5 of 8
    assert [line.get_xdata()[0] for line in ax.get_lines()] == [-0.01, 0.01]
    assert plotting.plot_weight_histogram(model).get_title() == "8 parameters"


def test_plot_weight_histogram_rejects_bad_input():
    with pytest.raises(ValueError, match="model must be an nn.Module; got Tensor"):
        plotting.plot_weight_histogram(torch.zeros(3))
    with pytest.raises(ValueError, match="clip must be a positive number .* got -0.01"):
        plotting.plot_weight_histogram(torch.nn.Linear(2, 1), clip=-0.01)
    with pytest.raises(ValueError, match="Flatten has no parameters"):
        plotting.plot_weight_histogram(torch.nn.Flatten())


def test_plot_against_fid_draws_the_smoothed_loss_and_the_fid_on_a_log_axis():
    h = History()
    for step in range(1, 31):
        h.log(step, w_estimate=30.0 / step)
    for step, value in ((0, 900.0), (10, 400.0), (20, 300.0), (30, 250.0)):
        h.log(step, fid=value)
    ax = plotting.plot_against_fid(h, "w_estimate", window=5, label="critic estimate")
    raw, smoothed = ax.get_lines()
    assert list(smoothed.get_ydata()) == pytest.approx(smooth(h["w_estimate"][1], 5))
    (right,) = [other for other in ax.figure.axes if other is not ax]
    assert right.get_yscale() == "log" and list(right.get_lines()[0].get_ydata()) == [900.0, 400.0, 300.0, 250.0]
    assert ax.get_title() == "rank correlation with fid: +1.00"
    assert ax.get_ylabel() == "critic estimate"
    with pytest.raises(KeyError, match="nothing logged as 'd_loss'"):
        plotting.plot_against_fid(h, "d_loss")
