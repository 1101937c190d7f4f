"""ganlib.evaluator and ganlib.metrics: the frozen classifier, FID/KID, coverage, label accuracy,
PSNR/SSIM, the FID callback, and the errors for inputs that would be scored wrongly."""

import math
import urllib.error

import numpy as np
import pytest
import scipy.linalg
import torch

from ganlib import metrics
from ganlib.data import Batches, load_mnist
from ganlib.evaluator import Evaluator, EvaluatorUnavailable, check_images, load_weights
from ganlib.losses import AdversarialLoss
from ganlib.models import MLPDiscriminator, MLPGenerator
from ganlib.training import Trainer, gan_steps


@pytest.fixture(scope="module")
def ev():
    return Evaluator()


@pytest.fixture(scope="module")
def test_set():
    return load_mnist("test")


def _scipy_frechet(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


# -- the Fréchet formula ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_distance_equals_scipy(seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(400, 16, generator=g, dtype=torch.float64) @ torch.randn(16, 16, generator=g, dtype=torch.float64)
    b = torch.randn(300, 16, generator=g, dtype=torch.float64) * 1.5 + 0.3
    mu1, s1 = metrics.feature_stats(a)
    mu2, s2 = metrics.feature_stats(b)
    ours = metrics.frechet_distance(mu1, s1, mu2, s2)
    reference = _scipy_frechet(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy())
    assert ours == pytest.approx(reference, rel=1e-6)
    assert np.allclose(s1.numpy(), np.cov(a.numpy(), rowvar=False))  # feature_stats is the usual covariance


def test_frechet_distance_zero_symmetric_and_grows_with_a_shift():
    x = torch.randn(1000, 8, generator=torch.Generator().manual_seed(0))
    y = torch.randn(1000, 8, generator=torch.Generator().manual_seed(1))
    stats = metrics.feature_stats
    assert metrics.frechet_distance(*stats(x), *stats(x)) == pytest.approx(0, abs=1e-8)
    assert metrics.frechet_distance(*stats(x), *stats(y)) == pytest.approx(metrics.frechet_distance(*stats(y), *stats(x)))
    d = [metrics.frechet_distance(*stats(x), *stats(y + shift)) for shift in (0.0, 0.5, 1.0, 2.0)]
    assert d == sorted(d) and d[0] < 0.1 < d[1]
    assert d[2] == pytest.approx(8 * 1.0 + d[0], rel=0.05)  # a shift of 1 in 8 dimensions adds |mu|² = 8


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="covariances"):
        metrics.frechet_distance(torch.zeros(3), torch.eye(3), torch.zeros(4), torch.eye(4))
    with pytest.raises(ValueError, match=r"\(N, D\) with N >= 2"):
        metrics.feature_stats(torch.zeros(1, 5))


def test_kernel_distance_equals_torchmetrics():
    from torchmetrics.image.kid import poly_mmd

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 12, generator=g), torch.randn(200, 12, generator=g) + 0.5  # torchmetrics needs N = M
    reference = poly_mmd(x.double(), y.double(), degree=3, gamma=None, coef=1.0)
    assert metrics.kernel_distance(x, y) == pytest.approx(float(reference), rel=1e-6)
    same = torch.randn(200, 12, generator=g)  # a second sample of x's distribution: KID near 0 (unbiased, may be < 0)
    assert abs(metrics.kernel_distance(x, same)) < 0.1 * metrics.kernel_distance(x, y)


# -- the evaluator ---------------------------------------------------------------------------------
def test_evaluator_reaches_99_percent_on_the_test_split(ev, test_set):
    images, labels = test_set
    acc = metrics.label_accuracy(images, labels, ev)
    assert acc.overall >= 0.99 and min(acc.per_digit) >= 0.97
    assert ev.test_accuracy >= 0.99 and "label accuracy" in str(acc)


def test_evaluator_features_shape_and_no_global_rng_use(ev, test_set):
    state = torch.get_rng_state()
    f = ev.features(test_set[0][:10])
    assert f.shape == (10, 128) and f.dtype == torch.float32
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("images, match", [
    (torch.zeros(4, 28, 28), r"shape \(N, 1, 28, 28\).*got \(4, 28, 28\)"),
    (torch.zeros(4, 3, 28, 28), r"got \(4, 3, 28, 28\)"),
    (torch.zeros(4, 1, 32, 32), r"got \(4, 1, 32, 32\)"),
    (torch.zeros(4, 1, 28, 28, dtype=torch.uint8), "floats in \\[-1, 1\\].*uint8"),
    (torch.rand(4, 1, 28, 28), r"look scaled to\s+\[0, 1\]"),
    (torch.rand(4, 1, 28, 28) * 255, r"must lie in \[-1, 1\]; got values from"),
    (torch.full((4, 1, 28, 28), float("nan")), "NaN"),
    (torch.zeros(0, 1, 28, 28), "empty"),
])
def test_bad_images_are_refused_not_scored(images, match):
    with pytest.raises(ValueError, match=match):
        check_images(images)


def test_samples_in_0_1_are_caught_by_every_metric(ev, test_set):
    wrongly_scaled = (test_set[0][:100] + 1) / 2
    for fn in (metrics.fid, metrics.coverage, metrics.classifier_fid):
        with pytest.raises(ValueError, match="look scaled to"):
            fn(wrongly_scaled, ev)
    with pytest.raises(TypeError, match="torch.Tensor"):
        check_images(np.zeros((2, 1, 28, 28)))


def test_load_weights_errors(tmp_path):
    with pytest.raises(EvaluatorUnavailable, match="train_evaluator.py"):
        load_weights(tmp_path / "missing.pt")
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(EvaluatorUnavailable, match="not readable"):
        load_weights(tmp_path / "bad.pt")
    torch.save({"version": 99, "model": {}}, tmp_path / "old.pt")
    with pytest.raises(EvaluatorUnavailable, match="version-1"):
        Evaluator(tmp_path / "old.pt")


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


def test_fid_of_a_set_against_itself_is_zero(ev, test_set):
    f = ev.features(test_set[0][:500])
    assert metrics.frechet_distance(*metrics.feature_stats(f), *metrics.feature_stats(f)) == pytest.approx(0, abs=1e-6)


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


# -- FID while training ----------------------------------------------------------------------------
def _digit_gan(seed):
    torch.manual_seed(seed)
    G, D = MLPGenerator(4, (1, 28, 28), hidden=(16,)), MLPDiscriminator((1, 28, 28), hidden=(16,))
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    d_step, g_step = gan_steps(G, D, opt_g, opt_d, AdversarialLoss("nonsaturating"), z_dim=4)
    data = load_mnist("train", limit=64)[0]
    return G, D, opt_g, opt_d, d_step, g_step, Batches(data, batch_size=16, seed=seed)


def test_fid_callback_records_a_curve_without_touching_training(ev):
    plain = Trainer(*_digit_gan(0), progress=False)
    plain.fit(4)
    callback = metrics.FIDCallback(every=2, n=50, z_dim=4, evaluator=ev)
    watched = Trainer(*_digit_gan(0), callbacks=(callback,), progress=False)
    watched.fit(4)
    steps, values = watched.history["fid"]
    assert steps == [0, 2, 4] and all(v > 0 for v in values)
    assert watched.history["g_loss"] == plain.history["g_loss"]  # its own noise: training's RNG untouched
    watched.fit(5)  # continuing: nothing twice, and the last step is recorded at the end
    assert watched.history["fid"][0] == [0, 2, 4, 5]


def test_fid_callback_curve_survives_a_checkpoint(ev, tmp_path):
    first = Trainer(*_digit_gan(0), callbacks=(metrics.FIDCallback(every=2, n=50, z_dim=4, evaluator=ev),),
                    checkpoint=tmp_path / "run.pt", progress=False)
    first.fit(3)
    resumed = Trainer(*_digit_gan(1), callbacks=(metrics.FIDCallback(every=2, n=50, z_dim=4, evaluator=ev),),
                      progress=False).load(tmp_path / "run.pt")
    resumed.fit(4)
    assert resumed.history["fid"][0] == [0, 2, 3, 4]
    assert resumed.history["fid"][1][:3] == first.history["fid"][1]


def test_fid_scale_rejects_impossible_sizes(ev):
    with pytest.raises(ValueError, match="between 2 and 60,000"):
        metrics.fid_scale(70_000, ev)


def test_fid_callback_takes_a_sampler_for_conditional_models(ev):
    asked = []

    def sample(G, n):
        asked.append(n)
        return torch.rand(n, 1, 28, 28) * 2 - 1

    trainer = Trainer(*_digit_gan(1), callbacks=(metrics.FIDCallback(every=3, n=20, sample=sample, evaluator=ev),),
                      progress=False)
    trainer.fit(3)
    assert asked == [20, 20] and trainer.history["fid"][0] == [0, 3]
    with pytest.raises(ValueError, match="either z_dim"):
        metrics.FIDCallback(every=3, n=20, z_dim=4, sample=sample)
    with pytest.raises(ValueError, match="every must be >= 1"):
        metrics.FIDCallback(every=0, z_dim=4)


def test_fid_callback_draws_every_class_equally_for_a_conditional_generator(ev):
    class Conditional(torch.nn.Module):  # draws the shared G's images and remembers the labels it was given
        def __init__(self, G):
            super().__init__()
            self.G, self.seen = G, []

        def forward(self, z, labels):
            self.seen.append(labels.clone())
            return self.G(z)

    G, *rest = _digit_gan(0)
    cond = Conditional(G)
    callback = metrics.FIDCallback(every=5, n=30, z_dim=4, n_classes=3, evaluator=ev)
    callback.on_start(Trainer(cond, *rest, progress=False))
    seen = torch.cat(cond.seen)
    assert torch.equal(torch.bincount(seen), torch.tensor([10, 10, 10]))
    with pytest.raises(ValueError, match="n_classes"):
        metrics.FIDCallback(every=3, n=20, n_classes=10, sample=lambda G, n: None)


# -- Inception FID: clear messages offline (no network in tests) -------------------------------------
def test_inception_fid_explains_an_offline_machine(monkeypatch):
    import torchmetrics.image.fid as tm_fid

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(tm_fid, "FrechetInceptionDistance", offline)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    with pytest.raises(metrics.MetricUnavailable, match="could not be downloaded.*internet once.*ganlib.metrics.fid"):
        metrics.inception_fid(x, x)


def test_inception_fid_explains_a_missing_package(monkeypatch):
    import torchmetrics.image.fid as tm_fid

    def missing(*args, **kwargs):
        raise ModuleNotFoundError("No module named 'torch_fidelity'")

    monkeypatch.setattr(tm_fid, "FrechetInceptionDistance", missing)
    x = torch.rand(4, 3, 32, 32) * 2 - 1
    with pytest.raises(metrics.MetricUnavailable, match="pip install torch-fidelity"):
        metrics.inception_fid(x, x)


def test_inception_fid_checks_its_inputs():
    with pytest.raises(ValueError, match=r"real must lie in \[-1, 1\]"):
        metrics.inception_fid(torch.rand(2, 3, 8, 8) * 255, torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match=r"fake must be float images \(N, 1 or 3, H, W\)"):
        metrics.inception_fid(torch.rand(2, 3, 8, 8), torch.rand(2, 8, 8))


# -- fid_rank_correlation (lesson 04) ---------------------------------------------------------------
def _history(loss, fid, fid_steps=None):
    from ganlib.training import History

    h = History()
    for step, value in enumerate(loss, start=1):  # losses from step 1, as the Trainer logs them
        h.log(step, w=value)
    for step, value in zip(fid_steps or range(0, len(loss) + 1, 10), fid):
        h.log(step, fid=value)
    return h


def test_fid_rank_correlation_is_one_when_the_loss_falls_with_the_fid_and_minus_one_when_it_rises():
    loss = [100 / step for step in range(1, 51)]  # falls, like the FID below
    fid = [1000, 500, 300, 200, 150, 120]       # at steps 0, 10, ..., 50; step 0 has no loss and is skipped
    assert metrics.fid_rank_correlation(_history(loss, fid), "w", window=1) == pytest.approx(1.0)
    assert metrics.fid_rank_correlation(_history([-v for v in loss], fid), "w", window=1) == pytest.approx(-1.0)


def test_fid_rank_correlation_smooths_the_loss_first():
    # a falling loss, 100 - step, with a spike of 2·step exactly at the FID steps 10, 20, ... 50:
    # raw, the loss there is 100 + step (rising); averaged over 10 steps it is 104.5 - 0.8·step (falling)
    loss = [100.0 - s + (2.0 * s if s % 10 == 0 else 0.0) for s in range(1, 51)]
    fid = [1000, 500, 300, 200, 150, 120]
    assert metrics.fid_rank_correlation(_history(loss, fid), "w", window=1) == pytest.approx(-1.0)
    assert metrics.fid_rank_correlation(_history(loss, fid), "w", window=10) == pytest.approx(1.0)


def test_fid_rank_correlation_of_a_constant_loss_is_an_error():
    with pytest.raises(ValueError, match="'w' or 'fid' is constant"):
        metrics.fid_rank_correlation(_history([0.5] * 40, [50, 40, 30, 20, 10]), "w")


def test_fid_rank_correlation_agrees_with_scipy_including_ties():
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(0)
    loss = torch.randint(0, 4, (60,), generator=g).double().tolist()  # many ties
    fid = torch.rand(6, generator=g).tolist()
    expected = stats.spearmanr([loss[s - 1] for s in range(10, 51, 10)], fid[1:])[0]  # steps 10 .. 50
    assert metrics.fid_rank_correlation(_history(loss, fid), "w", window=1) == pytest.approx(expected)


def test_fid_rank_correlation_needs_three_common_steps():
    with pytest.raises(ValueError, match="3 or more common steps; got 2"):
        metrics.fid_rank_correlation(_history([1.0] * 20, [3.0, 2.0, 1.0]), "w")
    with pytest.raises(KeyError, match="nothing logged as 'd_loss'"):
        metrics.fid_rank_correlation(_history([1.0] * 20, [3.0, 2.0, 1.0]), "d_loss")
