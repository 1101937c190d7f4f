"""ganlib.papers.wgan (lesson 04): the two toy distances against numbers known exactly, weight clipping,
spectral normalisation, and the 2-D toy critics (data, training under each constraint, surfaces, plot)."""

import math
import re

import pytest
import torch
from torch import nn
from torch.nn.utils import parametrize

from ganlib.losses import gradient_penalty
from ganlib.layers import dcgan_init
from ganlib.papers import wgan
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlib.papers.wgan import (CLIP, SPECTRAL_LAYERS, TOY_KINDS, TOY_METHODS, clip_weights, critic_grad_norms,
                                critic_surface, interpolates, js_divergence, plot_critic_surfaces, spectral_normalize,
                                toy_critic, toy_data, train_toy_critic, wasserstein_1d)

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



# -- spectral normalisation --------------------------------------------------------------------------
def _sigma(layer):
    """The largest singular value of a layer's weight, reshaped as spectral norm reshapes it."""
    w = layer.weight.detach()
    if isinstance(layer, nn.ConvTranspose2d):
        w = w.transpose(0, 1)  # (in, out, k, k): the output channels are dim 1
    return float(torch.linalg.matrix_norm(w.reshape(w.shape[0], -1), ord=2))


def _mixed_model():
    return nn.Sequential(nn.Conv2d(1, 6, 3, 2, 1), nn.LeakyReLU(0.2), nn.ConvTranspose2d(6, 4, 4, 2, 1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 8 * 8, 5), nn.ReLU(), nn.Linear(5, 1))


@pytest.mark.parametrize("build", [_mixed_model, lambda: DCGANDiscriminator(img_size=28, width=8, batchnorm=False),
                                   lambda: nn.Linear(7, 3)])
def test_spectral_normalize_makes_every_layer_s_largest_singular_value_one(build):
    torch.manual_seed(0)
    model = build()
    for m in model.modules():  # weights far from norm 1, so that the normalisation has work to do
        if isinstance(m, SPECTRAL_LAYERS):
            nn.init.normal_(m.weight, 0.0, 3.0)
    x = torch.randn(4, 1, 28, 28) if isinstance(model, DCGANDiscriminator) else \
        torch.randn(4, 7) if isinstance(model, nn.Linear) else torch.randn(4, 1, 8, 8)
    before = model(x).detach()
    assert spectral_normalize(model) is model  # in place
    layers = [m for m in model.modules() if isinstance(m, SPECTRAL_LAYERS)]
    assert layers and all(parametrize.is_parametrized(m, "weight") for m in layers)
    model.train()
    for _ in range(50):  # one power iteration per forward pass in train mode (more when σ₁ ≈ σ₂)
        out = model(x)
    assert out.shape == before.shape and torch.isfinite(out).all()
    for m in layers:
        assert _sigma(m) == pytest.approx(1.0, abs=1e-2)
    out.sum().backward()  # gradients reach the unnormalised weights
    for m in layers:
        grad = m.parametrizations.weight.original.grad
        assert grad is not None and grad.abs().sum() > 0


def test_spectral_normalize_counts_every_convolution_of_the_critic_and_eval_changes_nothing():
    torch.manual_seed(0)
    critic = spectral_normalize(DCGANDiscriminator(img_size=28, width=4, batchnorm=False))
    assert sum(parametrize.is_parametrized(m, "weight") for m in critic.modules()) == 3  # two stride-2, one last
    buffers = {k: v.clone() for k, v in critic.state_dict().items()}
    critic.eval()
    critic(torch.randn(2, 1, 28, 28))
    assert all(torch.equal(v, critic.state_dict()[k]) for k, v in buffers.items())


def test_spectral_normalize_refuses_a_model_without_layers_a_second_call_and_what_is_no_model():
    with pytest.raises(ValueError, match=r"found no Conv2d, ConvTranspose2d or Linear layer in Sequential; "
                                         r"it holds only: ReLU, Sequential, Tanh"):
        spectral_normalize(nn.Sequential(nn.ReLU(), nn.Tanh()))
    model = spectral_normalize(nn.Sequential(nn.Linear(2, 3)))
    with pytest.raises(ValueError, match=r"layer '0' already has a parametrization .* called twice"):
        spectral_normalize(model)
    with pytest.raises(ValueError, match="model must be an nn.Module .* got Tensor"):
        spectral_normalize(torch.zeros(3))


# -- the 2-D toy --------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", list(TOY_KINDS))
def test_toy_data_shapes_and_seeding(kind):
    state = torch.get_rng_state()
    a = toy_data(500, kind, torch.Generator().manual_seed(3))
    b = toy_data(500, kind, torch.Generator().manual_seed(3))
    assert a.shape == (500, 2) and a.dtype == torch.float32 and torch.equal(a, b)
    assert torch.equal(torch.get_rng_state(), state)  # a seeded generator leaves the global state alone
    assert not torch.equal(a, toy_data(500, kind, torch.Generator().manual_seed(4)))


def test_toy_data_distributions():
    g = torch.Generator().manual_seed(0)
    ring = toy_data(4000, "8gaussians", g)
    assert (ring.norm(dim=1) - 2.0).abs().max() < 0.35  # on the circle of radius 2
    angles = torch.atan2(ring[:, 1], ring[:, 0]) / (2 * math.pi / 8)
    assert (angles - angles.round()).abs().max() < 0.2 and len(torch.unique(angles.round() % 8)) == 8
    grid = toy_data(4000, "25gaussians", g)
    assert (grid - grid.round()).abs().max() < 0.3 and grid.round().unique().tolist() == [-2, -1, 0, 1, 2]
    blob = toy_data(20_000, "blob", g)
    assert blob.mean(0).abs().max() < 0.02 and blob.std(0).sub(0.5).abs().max() < 0.02
    noisy = toy_data(20_000, "noisy8", g)
    assert noisy.std(0).sub(math.sqrt(1 + 2.0**2 / 2)).abs().max() < 0.05  # ring (variance 2 per axis) + N(0, 1)


def test_toy_data_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown toy distribution 'swissroll'; expected one of: 8gaussians, "
                                         "25gaussians, blob, noisy8"):
        toy_data(10, "swissroll")
    with pytest.raises(ValueError, match="n must be a positive integer; got 0"):
        toy_data(0)


@pytest.mark.parametrize("hidden, method", [(8, "clip"), (16, "gp"), (32, "sn")])
def test_toy_critic_shapes(hidden, method):
    critic = toy_critic(hidden, method)
    assert critic(torch.randn(5, 2)).shape == (5,)
    linears = [m for m in critic.modules() if isinstance(m, nn.Linear)]
    sizes = [(2, hidden), (hidden, hidden), (hidden, hidden), (hidden, 1)]
    assert [(m.in_features, m.out_features) for m in linears] == sizes
    assert all(parametrize.is_parametrized(m, "weight") == (method == "sn") for m in linears)


@pytest.mark.parametrize("fn", [lambda m: toy_critic(8, m), lambda m: train_toy_critic(m, 2)])
def test_a_bad_method_lists_the_choices(fn):
    with pytest.raises(ValueError, match=r"unknown method 'wgan' .* expected one of: clip, gp, sn\."):
        fn("wgan")


def test_train_toy_critic_rejects_bad_settings():
    with pytest.raises(ValueError, match="unknown toy distribution fake='gauss'; expected one of: 8gaussians"):
        train_toy_critic("gp", 2, fake="gauss")
    with pytest.raises(ValueError, match="steps must be a positive integer; got 0"):
        train_toy_critic("gp", 0)
    with pytest.raises(ValueError, match="lr must be a positive number; got -0.1"):
        train_toy_critic("gp", 2, lr=-0.1)


@pytest.mark.parametrize("method", list(TOY_METHODS))
def test_train_toy_critic_is_seeded_and_leaves_the_global_state_alone(method):
    state = torch.get_rng_state()
    a = train_toy_critic(method, 15, seed=1, hidden=16, batch=32)
    b = train_toy_critic(method, 15, seed=1, hidden=16, batch=32)
    assert torch.equal(torch.get_rng_state(), state)
    assert a.method == method and len(a.estimates) == 15 and a.estimates == b.estimates
    assert all(torch.equal(v, b.critic.state_dict()[k]) for k, v in a.critic.state_dict().items())
    assert not a.critic.training  # handed back in eval mode
    assert train_toy_critic(method, 15, seed=2, hidden=16, batch=32).estimates != a.estimates


def test_the_clipped_toy_critic_keeps_its_weights_within_c():
    run = train_toy_critic("clip", 100, hidden=32)
    params = torch.cat([p.detach().flatten() for p in run.critic.parameters()])
    assert params.abs().max() <= CLIP
    assert (params.abs() >= 0.999 * CLIP).float().mean() > 0.5  # and most of them sit on the walls


def test_the_penalised_toy_critic_has_gradient_norm_near_one_between_real_and_fake():
    run = train_toy_critic("gp", 300)
    g = torch.Generator().manual_seed(7)
    between = interpolates(toy_data(1000, "8gaussians", g), toy_data(1000, "noisy8", g), g)
    norms = critic_grad_norms(run.critic, between)
    assert 0.85 < float(norms.median()) < 1.2
    assert ((norms - 1).abs() < 0.3).float().mean() > 0.8
    assert sum(run.estimates[-50:]) / 50 > 0.3  # the estimate of W1 (about 0.8 here) has grown from 0
    clipped = critic_grad_norms(train_toy_critic("clip", 100, hidden=64).critic, between)
    assert float(clipped.median()) < 0.05  # clipping at c = 0.01 makes the gradient vanish


def test_gradient_penalty_takes_2d_points_as_they_are():
    critic = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[3.0, 4.0]]))  # gradient norm 5 everywhere
    real, fake = toy_data(64, "8gaussians"), toy_data(64, "blob")
    assert gradient_penalty(lambda x: critic(x).view(-1), real, fake).item() == pytest.approx(16.0)


def test_critic_grad_norms_and_surface_against_a_known_critic():
    critic = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    with torch.no_grad():
        critic[0].weight.copy_(torch.tensor([[2.0, 0.0]]))  # f(x, y) = 2x + 1
        critic[0].bias.fill_(1.0)
    critic.train()
    xs, ys, values, norms = critic_surface(critic, lim=2.0, n=5)
    assert xs.shape == ys.shape == (5,) and values.shape == norms.shape == (5, 5)
    assert torch.allclose(xs, torch.linspace(-2, 2, 5)) and torch.allclose(ys, xs)
    assert torch.allclose(values, (2 * xs + 1).expand(5, 5))  # [row: y, column: x]
    assert torch.allclose(norms, torch.full((5, 5), 2.0))
    assert critic.training  # its mode is given back
    assert torch.allclose(critic_grad_norms(critic, torch.randn(7, 2)), torch.full((7,), 2.0))


def test_critic_surface_leaves_a_spectrally_normalised_critic_unchanged():
    critic = toy_critic(8, "sn").train()
    state = {k: v.clone() for k, v in critic.state_dict().items()}
    critic_surface(critic, n=4)
    assert all(torch.equal(v, critic.state_dict()[k]) for k, v in state.items())


def test_surface_helpers_reject_bad_input():
    critic = toy_critic(4)
    with pytest.raises(ValueError, match=r"points must be a tensor of 2-D points, shape \(N, 2\); got \(3, 3\)"):
        critic_grad_norms(critic, torch.zeros(3, 3))
    with pytest.raises(ValueError, match="lim must be a positive number.*got -1"):
        critic_surface(critic, lim=-1)
    with pytest.raises(ValueError, match="n must be a positive integer; got 0"):
        critic_surface(critic, n=0)
    with pytest.raises(ValueError, match=r"same shape; got \(3, 2\) and \(4, 2\)"):
        interpolates(torch.zeros(3, 2), torch.zeros(4, 2))


def test_interpolates_lie_on_the_segments():
    real, fake = torch.randn(100, 2), torch.randn(100, 2)
    mixed = interpolates(real, fake, torch.Generator().manual_seed(0))
    eps = ((mixed - fake) / (real - fake))
    assert torch.allclose(eps[:, 0], eps[:, 1], atol=1e-4) and eps.min() >= 0 and eps.max() <= 1


def test_plot_critic_surfaces_draws_one_column_per_critic():
    runs = [train_toy_critic(m, 3, hidden=8, batch=16) for m in TOY_METHODS]
    real, fake = toy_data(50, "8gaussians"), toy_data(40, "noisy8")
    axes = plot_critic_surfaces(runs, real, fake, n=8)
    assert axes.shape == (2, 3) and [ax.get_title().split(":")[0] for ax in axes[0]] == list(TOY_METHODS)
    assert all(ax.get_xscale() == "log" and ax.get_title().startswith("median") for ax in axes[1])
    axes = plot_critic_surfaces({"linear": nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))}, real, fake, n=8)
    assert axes.shape == (2, 1)
    with pytest.raises(ValueError, match="results is empty"):
        plot_critic_surfaces({}, real, fake)


# -- the critic step ---------------------------------------------------------------------------------
def _critic_pair():
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=8, width=8).apply(dcgan_init)
    D = DCGANDiscriminator(width=8, batchnorm=False).apply(dcgan_init)
    return G, D


@pytest.mark.parametrize("gp_weight", [0.0, wgan.GP_WEIGHT])
def test_wgan_critic_step_maximises_the_gap_with_the_penalty_it_is_given(gp_weight):
    G, D = _critic_pair()
    opt_d = torch.optim.SGD(D.parameters(), lr=0.1)
    real = torch.rand(4, 1, 28, 28) * 2 - 1
    torch.manual_seed(1)
    with torch.no_grad():
        fake = G(torch.randn(4, 8))
    gap = D(real).mean() - D(fake).mean()
    loss = -gap + (gp_weight * gradient_penalty(D, real, fake) if gp_weight else 0)
    grads = torch.autograd.grad(loss, list(D.parameters()))
    expected = [p.detach() - 0.1 * g for p, g in zip(D.parameters(), grads)]
    torch.manual_seed(1)
    logged = wgan.wgan_critic_step(G, D, opt_d, 8, gp_weight=gp_weight)(real)
    assert torch.isclose(logged["w_estimate"], gap.detach()) and torch.isclose(logged["critic_loss"], loss.detach())
    assert ("gp" in logged) == bool(gp_weight)
    assert all(torch.allclose(p, e, atol=1e-6) for p, e in zip(D.parameters(), expected))


def test_wgan_critic_step_clips_after_the_update():
    G, D = _critic_pair()
    step = wgan.wgan_critic_step(G, D, torch.optim.SGD(D.parameters(), lr=1.0), 8, clip=0.01)
    step(torch.rand(4, 1, 28, 28) * 2 - 1)
    assert all(p.abs().max() <= 0.01 for p in D.parameters())
