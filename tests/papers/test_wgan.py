"""ganlib.papers.wgan (lesson 04): the two toy distances against numbers known exactly, and weight clipping."""

import math
import re

import pytest
import torch
from torch import nn

from ganlib.papers.dcgan import DCGANDiscriminator
from ganlib.papers.wgan import clip_weights, js_divergence, wasserstein_1d

GRID = torch.linspace(-2, 6, 8_001, dtype=torch.float64)  # steps of 0.001


def bump(start, width=0.5):
    """The uniform density on [start, start + width], on GRID."""
    return ((GRID >= start) & (GRID <= start + width)).double() / width


def normal(mean, std):
    return torch.exp(-0.5 * ((GRID - mean) / std) ** 2)


def test_js_is_zero_for_equal_densities_and_log2_once_they_stop_overlapping():
    assert js_divergence(bump(0), bump(0), GRID) == pytest.approx(0.0, abs=1e-12)
    for theta in (0.6, 1.0, 3.0):
        assert js_divergence(bump(0), bump(theta), GRID) == pytest.approx(math.log(2), abs=1e-9)


def test_js_of_half_overlapping_bumps_by_hand():
    # bumps [0, 0.5] and [0.25, 0.75]: half of each density is shared (m = p there, so KL adds 0), the
    # other half sits where the other density is 0 (m = p/2, so it adds ½ log 2): JSD = ½ log 2.
    assert js_divergence(bump(0), bump(0.25), GRID) == pytest.approx(0.5 * math.log(2), abs=5e-3)


def test_js_is_symmetric_and_bounded():
    p, q = normal(0, 0.3), normal(1, 0.7)
    assert js_divergence(p, q, GRID) == pytest.approx(js_divergence(q, p, GRID), rel=1e-12)
    assert 0 < js_divergence(p, q, GRID) < math.log(2)


@pytest.mark.parametrize("theta", [0.0, 0.1, 0.25, 0.6, 1.0, 3.0])
def test_wasserstein_of_a_shifted_density_is_the_shift(theta):
    assert wasserstein_1d(bump(0), bump(theta), GRID) == pytest.approx(theta, abs=2e-3)
    assert wasserstein_1d(normal(1, 0.2), normal(1 + theta, 0.2), GRID) == pytest.approx(theta, abs=1e-3)


def test_wasserstein_agrees_with_scipy_on_weighted_points():
    stats = pytest.importorskip("scipy.stats")
    p, q = normal(0, 0.3) + 0.5 * normal(2, 0.4), normal(1, 0.8)
    expected = stats.wasserstein_distance(GRID.numpy(), GRID.numpy(), p.numpy(), q.numpy())
    assert wasserstein_1d(p, q, GRID) == pytest.approx(expected, rel=1e-3)


def test_distances_scale_densities_to_mass_one():
    assert wasserstein_1d(3 * bump(0), bump(1), GRID) == pytest.approx(1.0, abs=2e-3)
    assert js_divergence(bump(0), 7 * bump(0), GRID) == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("fn", [js_divergence, wasserstein_1d])
def test_distances_reject_bad_input(fn):
    p = bump(0)
    with pytest.raises(ValueError, match=r"same length .* got 10, 8001 and 8001"):
        fn(p[:10], p, GRID)
    with pytest.raises(ValueError, match=r"p must be a 1-D tensor .* got \(2, 3\)"):
        fn(torch.ones(2, 3), p, GRID)
    with pytest.raises(ValueError, match="q must be a density: finite and never negative"):
        fn(p, -p, GRID)
    with pytest.raises(ValueError, match="q has no mass on the grid"):
        fn(p, torch.zeros_like(p), GRID)
    with pytest.raises(ValueError, match="strictly increasing"):
        fn(p, p, GRID.flip(0))


def test_clip_weights_clamps_every_parameter_in_place():
    torch.manual_seed(0)
    critic = DCGANDiscriminator(img_size=28, width=4, batchnorm=True)
    for p in critic.parameters():
        nn.init.normal_(p, 0.0, 1.0)
    inside = [p.detach().abs() < 0.01 for p in critic.parameters()]
    before = [p.detach().clone() for p in critic.parameters()]
    ids = [id(p) for p in critic.parameters()]
    running = critic.net[3].running_var.clone()
    clip_weights(critic, 0.01)
    params = list(critic.parameters())
    assert [id(p) for p in params] == ids  # the same tensors, changed in place (the optimiser keeps them)
    for p, b, keep in zip(params, before, inside):
        assert p.abs().max() <= 0.01
        assert torch.equal(p[keep], b[keep])  # weights already inside are left alone
        assert torch.equal(p[~keep], 0.01 * b[~keep].sign())  # the rest sit at ±c
        assert p.requires_grad and p.grad_fn is None
    assert torch.equal(critic.net[3].running_var, running)  # buffers are not parameters


@pytest.mark.parametrize("c", [0, -0.01, float("nan"), float("inf"), "0.01", None, True])
def test_clip_weights_rejects_a_bad_bound(c):
    with pytest.raises(ValueError, match=rf"c must be a positive number.*got {re.escape(repr(c))}"):
        clip_weights(nn.Linear(2, 1), c)


def test_clip_weights_rejects_what_is_not_a_module():
    with pytest.raises(ValueError, match="model must be an nn.Module .* got Tensor"):
        clip_weights(torch.zeros(3), 0.01)

