"""ganlib.evaluation.metrics: classifier-FID with its floor and ceiling, KID, coverage, label accuracy, PSNR/SSIM,
Inception FID (its success path through torchmetrics with a stand-in extractor, its messages offline), and the
errors for inputs that would be scored wrongly."""

import math
import urllib.error

import pytest
import torch

from ganlib.data import load_mnist
from ganlib.evaluation import metrics
from ganlib.evaluation.stats import feature_stats, frechet_distance


def test_samples_in_0_1_are_caught_by_every_metric(ev, test_set):
    wrongly_scaled = (test_set[0][:100] + 1) / 2
    for fn in (metrics.fid, metrics.coverage, metrics.classifier_fid, metrics.kid):
        with pytest.raises(ValueError, match="look scaled to"):
            fn(wrongly_scaled, ev)
    with pytest.raises(ValueError, match="look scaled to"):
        metrics.label_accuracy(wrongly_scaled, test_set[1][:100], ev)


def test_default_evaluator_is_shared_per_device():
    a = metrics.default_evaluator()
    assert metrics.default_evaluator("cpu") is a and metrics.default_evaluator(torch.device("cpu")) is a
    assert a.device == torch.device("cpu")


def test_fid_needs_two_samples(ev, test_set):
    with pytest.raises(ValueError, match="FID needs at least 2 samples .*; got 1"):
        metrics.classifier_fid(test_set[0][:1], ev)


def test_fid_scale_rejects_impossible_sizes(ev):
    for n in (1, 70_000):
        with pytest.raises(ValueError, match=f"n must be between 2 and 60,000 .*; got {n}"):
            metrics.fid_scale(n, ev)


# -- FID on digits ---------------------------------------------------------------------------------
def test_fid_reads_between_floor_and_ceiling(ev, test_set):
    images = test_set[0]
    real = metrics.fid(images[:1000], ev)  # test digits against the whole test split: near the floor
    noise = metrics.fid(torch.rand(1000, 1, 28, 28, generator=torch.Generator().manual_seed(5)) * 2 - 1, ev)
    ones = metrics.fid(images[test_set[1] == 1][:1000], ev)  # a collapsed generator: a single digit
    assert real.floor == noise.floor and real.ceiling == noise.ceiling and real.n == 1000
    assert real.value < 2 * real.floor + 1 < ones.value < noise.value
    assert noise.value == pytest.approx(noise.ceiling, rel=0.05)
    assert real.floor < 0.05 * real.ceiling
    assert str(real).startswith(f"classifier-FID {real.value:.2f} on 1,000 samples (real digits:")
    assert float(real) == real.value


def test_classifier_fid_of_a_set_against_itself_is_zero(ev, test_set):
    f = ev.features(test_set[0][:500])
    assert frechet_distance(*feature_stats(f), *feature_stats(f)) == pytest.approx(0, abs=1e-6)
    ev_stats = ev.reference_stats("test")
    assert metrics.classifier_fid(test_set[0], ev) == pytest.approx(frechet_distance(*ev_stats, *ev_stats), abs=1e-6)


def test_kid_orders_real_and_noise(ev, test_set):
    real = metrics.kid(load_mnist("train", limit=300)[0], ev, n_reference=300)
    noise = metrics.kid(torch.rand(300, 1, 28, 28) * 2 - 1, ev, n_reference=300)
    assert abs(real) < 0.1 * noise


# -- coverage and label accuracy ------------------------------------------------------------------
def test_coverage_of_a_balanced_labelled_set():
    cov = metrics.coverage_of_labels(torch.arange(1000) % 10)
    assert cov.digits_covered == 10 and cov.distance_to_uniform == pytest.approx(0) and cov.n == 1000
    assert cov.shares == [0.1] * 10


def test_coverage_of_a_collapsed_set():
    cov = metrics.coverage_of_labels(torch.tensor([3] * 95 + [1] * 5))
    assert cov.digits_covered == 2 and cov.distance_to_uniform == pytest.approx(0.85)
    assert "2/10 digits covered" in str(cov)


def test_coverage_prints_shares_with_one_decimal_so_that_an_uncounted_share_does_not_read_as_5_percent():
    cov = metrics.coverage_of_labels(torch.tensor([0] * 48 + [1] * 952))  # 4.8 %: under the 5 % bar
    assert cov.digits_covered == 1 and "0:4.8%" in str(cov) and "1:95.2%" in str(cov)


def test_coverage_of_real_digits_through_the_evaluator(ev, test_set):
    cov = metrics.coverage(test_set[0][:2000], ev)
    assert cov.digits_covered == 10 and cov.distance_to_uniform < 0.05 and cov.confident > 0.97


def test_coverage_of_labels_rejects_bad_labels():
    with pytest.raises(ValueError, match="digits 0-9"):
        metrics.coverage_of_labels(torch.tensor([0, 10]))
    with pytest.raises(ValueError, match="1-D integer"):
        metrics.coverage_of_labels(torch.zeros(3))


def test_label_accuracy_counts_requested_digits(ev, test_set):
    images, labels = test_set[0][:200], test_set[1][:200]
    assert metrics.label_accuracy(images, (labels + 1) % 10, ev).overall < 0.05
    sevens = labels == 7
    only_sevens = metrics.label_accuracy(images[sevens], labels[sevens], ev)
    assert only_sevens.per_digit[7] == only_sevens.overall and math.isnan(only_sevens.per_digit[0])
    assert "weakest digit: 7" in str(only_sevens)
    with pytest.raises(ValueError, match=r"labels must have shape \(200,\)"):
        metrics.label_accuracy(images, labels[:10], ev)


# -- PSNR / SSIM -----------------------------------------------------------------------------------
def test_psnr_ssim_of_an_image_with_itself():
    x = torch.rand(3, 1, 16, 16) * 2 - 1
    assert metrics.psnr(x, x) == math.inf and metrics.ssim(x, x) == pytest.approx(1.0)


def test_psnr_matches_its_formula_and_ssim_drops_with_noise():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    y = (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    per_image = [10 * math.log10(4 / float((a - b).square().mean())) for a, b in zip(x, y)]
    assert metrics.psnr(y, x) == pytest.approx(sum(per_image) / 2, rel=1e-5)
    z = (x + 0.5 * torch.randn(x.shape, generator=g)).clamp(-1, 1)
    assert 0 < metrics.ssim(z, x) < metrics.ssim(y, x) < 1


@pytest.mark.parametrize("a, b, match", [
    (torch.zeros(2, 1, 8, 8), torch.zeros(2, 1, 8, 9), "same shape"),
    (torch.zeros(1, 8, 8), torch.zeros(1, 8, 8), r"\(N, C, H, W\)"),
    (torch.zeros(2, 1, 8, 8), torch.full((2, 1, 8, 8), 255.0), r"target must lie in \[-1, 1\]"),
])
def test_psnr_ssim_reject_bad_pairs(a, b, match):
    for fn in (metrics.psnr, metrics.ssim):
        with pytest.raises(ValueError, match=match):
            fn(a, b)


# -- Inception FID: clear messages offline (no network in tests) -------------------------------------
def test_inception_fid_explains_an_offline_machine(monkeypatch):
    import torchmetrics.image.fid as tm_fid

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(tm_fid, "FrechetInceptionDistance", offline)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    with pytest.raises(metrics.MetricUnavailable, match="could not be downloaded.*internet once.*ganlib.evaluation.metrics.fid"):
        metrics.inception_fid(x, x)


def test_inception_fid_explains_a_missing_package(monkeypatch):
    import torchmetrics.image.fid as tm_fid

    def missing(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'torch_fidelity'")

    monkeypatch.setattr(tm_fid, "FrechetInceptionDistance", missing)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    with pytest.raises(metrics.MetricUnavailable, match="pip install torch-fidelity"):
        metrics.inception_fid(x, x)


class _StandInFeatures(torch.nn.Module):
    """A tiny feature extractor in place of Inception-v3: per-channel means and spreads of 4 x 4 pools.
    It records every batch it is given, to check what inception_fid feeds the torchmetrics metric."""

    num_features = 6

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, images):
        self.seen.append(images.detach().clone())
        pooled = torch.nn.functional.avg_pool2d(images.float(), 4).flatten(2)
        return torch.cat([pooled.mean(2), pooled.std(2)], dim=1)


def _frechet(a, b):
    """The Fréchet distance of two feature sets, written out with scipy (independent of torchmetrics)."""
    import numpy as np
    from scipy import linalg

    a, b = a.double().numpy(), b.double().numpy()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = linalg.sqrtm(cov_a @ cov_b).real
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * root))


@pytest.mark.parametrize("channels", [1, 3])
def test_inception_fid_success_path_through_torchmetrics_with_a_stand_in_extractor(monkeypatch, channels):
    """Everything but the weight download: the same FrechetInceptionDistance call, update and compute."""
    import torchmetrics.image.fid as tm_fid

    real_class, extractor, made = tm_fid.FrechetInceptionDistance, _StandInFeatures(), {}

    def with_stand_in(feature, normalize):
        made.update(feature=feature, normalize=normalize)
        return real_class(feature=extractor, normalize=normalize)

    monkeypatch.setattr(tm_fid, "FrechetInceptionDistance", with_stand_in)
    g = torch.Generator().manual_seed(0)
    real = torch.rand(50, channels, 16, 16, generator=g) * 2 - 1
    fake = (torch.rand(40, channels, 16, 16, generator=g) * 1.6 - 1).clamp(-1, 1)
    value = metrics.inception_fid(real, fake, batch_size=16)
    assert made == {"feature": 2048, "normalize": True}   # the standard Inception layer, images in [0, 1]
    seen = torch.cat(extractor.seen)
    assert seen.shape == (90, 3, 16, 16) and seen.min() >= 0 and seen.max() <= 1   # RGB in [0, 1], all of them
    assert all(len(batch) <= 16 for batch in extractor.seen)                      # in chunks of batch_size
    as_rgb = lambda x: ((x + 1) / 2).expand(-1, 3, -1, -1)
    expected = _frechet(_StandInFeatures()(as_rgb(real)), _StandInFeatures()(as_rgb(fake)))
    assert value == pytest.approx(expected, rel=1e-3)
    assert value > 0.01
    assert metrics.inception_fid(real, real) == pytest.approx(0.0, abs=1e-3)


def test_inception_fid_checks_its_inputs():
    with pytest.raises(ValueError, match=r"real must lie in \[-1, 1\]"):
        metrics.inception_fid(torch.rand(2, 3, 8, 8) * 255, torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"fake must be float images \(N, 1 or 3, H, W\)"):
        metrics.inception_fid(torch.rand(2, 3, 8, 8), torch.rand(2, 8, 8))
