"""ganlib.evaluation.stats: feature statistics, the Fréchet distance against scipy, KID against torchmetrics,
and the rank correlation between a logged number and the FID (lesson 04). No model involved."""

import numpy as np
import pytest
import scipy.linalg
import torch

from ganlib.evaluation.stats import feature_stats, fid_rank_correlation, frechet_distance, kernel_distance
from ganlib.training import History


def _scipy_frechet(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


# -- feature statistics ------------------------------------------------------------------------------
def test_feature_stats_are_the_float64_mean_and_covariance():
    x = torch.tensor([[1.0, 2.0], [3.0, 2.0], [5.0, 8.0]])
    mu, sigma = feature_stats(x)
    assert mu.dtype == sigma.dtype == torch.float64
    assert mu.tolist() == [3.0, 4.0]
    assert sigma.tolist() == [[4.0, 6.0], [6.0, 12.0]]  # (N - 1) in the denominator, as numpy's cov


@pytest.mark.parametrize("features", [torch.zeros(1, 5), torch.zeros(5), torch.zeros(3, 2, 2)])
def test_feature_stats_need_two_rows_of_features(features):
    with pytest.raises(ValueError) as info:
        feature_stats(features)
    assert str(info.value) == f"features must have shape (N, D) with N >= 2; got {tuple(features.shape)}."


# -- the Fréchet formula ---------------------------------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_frechet_distance_equals_scipy(seed):
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(400, 16, generator=g, dtype=torch.float64) @ torch.randn(16, 16, generator=g, dtype=torch.float64)
    b = torch.randn(300, 16, generator=g, dtype=torch.float64) * 1.5 + 0.3
    mu1, s1 = feature_stats(a)
    mu2, s2 = feature_stats(b)
    ours = frechet_distance(mu1, s1, mu2, s2)
    reference = _scipy_frechet(mu1.numpy(), s1.numpy(), mu2.numpy(), s2.numpy())
    assert ours == pytest.approx(reference, rel=1e-6)
    assert np.allclose(s1.numpy(), np.cov(a.numpy(), rowvar=False))  # feature_stats is the usual covariance


def test_frechet_distance_zero_symmetric_and_grows_with_a_shift():
    x = torch.randn(1000, 8, generator=torch.Generator().manual_seed(0))
    y = torch.randn(1000, 8, generator=torch.Generator().manual_seed(1))
    stats = feature_stats
    assert frechet_distance(*stats(x), *stats(x)) == pytest.approx(0, abs=1e-8)
    assert frechet_distance(*stats(x), *stats(y)) == pytest.approx(frechet_distance(*stats(y), *stats(x)))
    d = [frechet_distance(*stats(x), *stats(y + shift)) for shift in (0.0, 0.5, 1.0, 2.0)]
    assert d == sorted(d) and d[0] < 0.1 < d[1]
    assert d[2] == pytest.approx(8 * 1.0 + d[0], rel=0.05)  # a shift of 1 in 8 dimensions adds |mu|² = 8


@pytest.mark.parametrize("args, got", [
    ((torch.zeros(3), torch.eye(3), torch.zeros(4), torch.eye(4)), "(3,), (3, 3), (4,), (4, 4)"),
    ((torch.zeros(3), torch.eye(2), torch.zeros(3), torch.eye(2)), "(3,), (2, 2), (3,), (2, 2)"),
])
def test_frechet_distance_rejects_mismatched_shapes(args, got):
    with pytest.raises(ValueError) as info:
        frechet_distance(*args)
    assert str(info.value) == f"expected means (D,) and covariances (D, D) of one size D; got {got}."


def test_kernel_distance_equals_torchmetrics():
    from torchmetrics.image.kid import poly_mmd

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 12, generator=g), torch.randn(200, 12, generator=g) + 0.5  # torchmetrics needs N = M
    reference = poly_mmd(x.double(), y.double(), degree=3, gamma=None, coef=1.0)
    assert kernel_distance(x, y) == pytest.approx(float(reference), rel=1e-6)
    same = torch.randn(200, 12, generator=g)  # a second sample of x's distribution: KID near 0 (unbiased, may be < 0)
    assert abs(kernel_distance(x, same)) < 0.1 * kernel_distance(x, y)


@pytest.mark.parametrize("x, y", [(torch.zeros(5, 3), torch.zeros(5, 4)), (torch.zeros(1, 3), torch.zeros(5, 3)),
                                  (torch.zeros(5), torch.zeros(5, 3))])
def test_kernel_distance_rejects_mismatched_features(x, y):
    with pytest.raises(ValueError) as info:
        kernel_distance(x, y)
    assert "(N, D) and (M, D) with N, M >= 2" in str(info.value)
    assert f"got {tuple(x.shape)}, {tuple(y.shape)}" in str(info.value)


# -- fid_rank_correlation (lesson 04) ---------------------------------------------------------------
def _history(loss, fid, fid_steps=None):
    h = History()
    for step, value in enumerate(loss, start=1):  # losses from step 1, as the Trainer logs them
        h.log(step, w=value)
    for step, value in zip(fid_steps or range(0, len(loss) + 1, 10), fid):
        h.log(step, fid=value)
    return h


def test_fid_rank_correlation_is_one_when_the_loss_falls_with_the_fid_and_minus_one_when_it_rises():
    loss = [100 / step for step in range(1, 51)]  # falls, like the FID below
    fid = [1000, 500, 300, 200, 150, 120]       # at steps 0, 10, ..., 50; step 0 has no loss and is skipped
    assert fid_rank_correlation(_history(loss, fid), "w", window=1) == pytest.approx(1.0)
    assert fid_rank_correlation(_history([-v for v in loss], fid), "w", window=1) == pytest.approx(-1.0)


def test_fid_rank_correlation_smooths_the_loss_first():
    # a falling loss, 100 - step, with a spike of 2·step exactly at the FID steps 10, 20, ... 50:
    # raw, the loss there is 100 + step (rising); averaged over 10 steps it is 104.5 - 0.8·step (falling)
    loss = [100.0 - s + (2.0 * s if s % 10 == 0 else 0.0) for s in range(1, 51)]
    fid = [1000, 500, 300, 200, 150, 120]
    assert fid_rank_correlation(_history(loss, fid), "w", window=1) == pytest.approx(-1.0)
    assert fid_rank_correlation(_history(loss, fid), "w", window=10) == pytest.approx(1.0)


def test_fid_rank_correlation_of_a_constant_loss_is_an_error():
    with pytest.raises(ValueError, match="'w' or 'fid' is constant"):
        fid_rank_correlation(_history([0.5] * 40, [50, 40, 30, 20, 10]), "w")


def test_fid_rank_correlation_agrees_with_scipy_including_ties():
    stats = pytest.importorskip("scipy.stats")
    g = torch.Generator().manual_seed(0)
    loss = torch.randint(0, 4, (60,), generator=g).double().tolist()  # many ties
    fid = torch.rand(6, generator=g).tolist()
    expected = stats.spearmanr([loss[s - 1] for s in range(10, 51, 10)], fid[1:])[0]  # steps 10 .. 50
    assert fid_rank_correlation(_history(loss, fid), "w", window=1) == pytest.approx(expected)


def test_fid_rank_correlation_needs_three_common_steps():
    with pytest.raises(ValueError, match="3 or more common steps; got 2"):
        fid_rank_correlation(_history([1.0] * 20, [3.0, 2.0, 1.0]), "w")
    with pytest.raises(KeyError, match="nothing logged as 'd_loss'"):
        fid_rank_correlation(_history([1.0] * 20, [3.0, 2.0, 1.0]), "d_loss")
