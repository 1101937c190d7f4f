"""ganlib.papers.infogan (lesson 07): the code-fed generator, the Q head, the information loss and the measurements."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlib.layers import dcgan_init
from ganlib.papers import infogan as ig


def _message(fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def test_sample_codes_follow_the_prior():
    codes = ig.sample_codes(20_000, n_cat=10, n_cont=2, generator=torch.Generator().manual_seed(0))
    assert codes.cat.shape == (20_000,) and codes.cat.dtype == torch.long and codes.cont.shape == (20_000, 2)
    shares = torch.bincount(codes.cat, minlength=10).float() / 20_000
    assert torch.allclose(shares, torch.full((10,), 0.1), atol=0.01)
    assert codes.cont.min() >= -1 and codes.cont.max() <= 1 and abs(codes.cont.mean()) < 0.02
    assert abs(codes.cont.var() - 1 / 3) < 0.01  # uniform on [-1, 1]
    again = ig.sample_codes(20_000, n_cat=10, n_cont=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(codes.cat, again.cat) and torch.equal(codes.cont, again.cont)


@pytest.mark.parametrize("img_size, channels, n_cont", [(28, 1, 2), (32, 3, 0), (64, 1, 3)])
def test_generator_shapes_and_inputs(img_size, channels, n_cont):
    torch.manual_seed(0)
    G = ig.InfoGANGenerator(z_dim=6, n_cat=4, n_cont=n_cont, img_size=img_size, channels=channels, width=4)
    codes = ig.sample_codes(3, 4, n_cont)
    x = G(torch.randn(3, 6), *codes)
    assert x.shape == (3, channels, img_size, img_size) and x.min() >= -1 and x.max() <= 1
    first = next(m for m in G.modules() if isinstance(m, nn.Linear))
    assert first.in_features == 6 + 4 + n_cont  # z, one-hot category, continuous codes


def test_generator_listens_to_both_codes():
    torch.manual_seed(0)
    G = ig.InfoGANGenerator(z_dim=6, width=4).eval()
    z = torch.randn(1, 6).repeat(3, 1)
    cont = torch.zeros(3, 2)
    cont[2, 0] = 1.0
    a, b, c = G(z, torch.tensor([1, 2, 1]), cont)
    assert not torch.allclose(a, b) and not torch.allclose(a, c)


def test_generator_names_bad_inputs():
    G = ig.InfoGANGenerator(z_dim=6, width=4)
    z = torch.randn(2, 6)
    assert "continuous codes" in _message(G, z, torch.tensor([0, 1]), torch.zeros(2, 3))
    assert "(2, 2)" in _message(G, z, torch.tensor([0, 1]), torch.zeros(2, 3))
    assert "class" in _message(G, z, torch.tensor([0, 10]), torch.zeros(2, 2)).lower()
    assert "n_cont" in _message(ig.InfoGANGenerator, n_cont=-1)
    assert "multiple of 4" in _message(ig.InfoGANGenerator, img_size=30)
    assert "multiple of 4" in _message(ig.InfoGANDiscriminator, img_size=30)


def test_networks_are_the_official_ones_at_official_sizes():
    # github.com/openai/InfoGAN regularized_gan.py, "mnist": G 74 -> 1024 -> 7x7x128 -> 14x14x64 -> 28x28x1;
    # D 28x28x1 -> 14x14x64 -> 7x7x128 -> 1024 -> (1 | 128 -> 12), LeakyReLU slope 0.01
    G, D = ig.InfoGANGenerator(), ig.InfoGANDiscriminator()
    dense = [(m.in_features, m.out_features) for m in G.modules() if isinstance(m, nn.Linear)]
    assert dense == [(74, 1024), (1024, 7 * 7 * 128)]
    assert [(m.in_channels, m.out_channels) for m in G.conv if isinstance(m, nn.ConvTranspose2d)] == [(128, 64), (64, 1)]
    assert [(m.in_channels, m.out_channels) for m in D.features if isinstance(m, nn.Conv2d)] == [(1, 64), (64, 128)]
    assert [(m.in_features, m.out_features) for m in D.modules() if isinstance(m, nn.Linear)] == [
        (7 * 7 * 128, 1024), (1024, 1), (1024, 128), (128, 12)]
    assert {m.negative_slope for m in D.modules() if isinstance(m, nn.LeakyReLU)} == {ig.LEAK} == {0.01}


@pytest.mark.parametrize("img_size, channels", [(28, 1), (32, 3)])
def test_discriminator_returns_d_and_q_from_shared_features(img_size, channels):
    torch.manual_seed(0)
    D = ig.InfoGANDiscriminator(n_cat=5, n_cont=3, img_size=img_size, channels=channels, width=4).eval()
    x = torch.randn(4, channels, img_size, img_size)
    out = D(x)
    assert out.logits.shape == (4,) and out.cat_logits.shape == (4, 5) and out.cont_mean.shape == (4, 3)
    h = D.features(x)
    assert torch.equal(out.logits, D.d_head(h).view(-1))
    q = D.q_head(h)
    assert torch.equal(out.cat_logits, q[:, :5]) and torch.equal(out.cont_mean, q[:, 5:])
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


def test_discriminator_names_bad_images():
    D = ig.InfoGANDiscriminator(width=4)
    assert "InfoGANDiscriminator" in _message(D, torch.randn(2, 1, 32, 32))


def test_info_loss_against_hand_worked_values():
    # uniform logits over 4 categories: the cross-entropy is log 4; a code 0.5 away from Q's mean: 0.125
    scores = ig.InfoGANScores(torch.zeros(2), torch.zeros(2, 4), torch.tensor([[0.0, 1.0], [0.0, 1.0]]))
    codes = ig.Codes(torch.tensor([1, 3]), torch.tensor([[0.5, 1.0], [-0.5, 1.0]]))
    loss = ig.info_loss(scores, codes, cat_weight=1.0, cont_weight=0.1)
    assert loss.cat.item() == pytest.approx(math.log(4))
    assert loss.cont.item() == pytest.approx(0.125)
    assert loss.total.item() == pytest.approx(math.log(4) + 0.1 * 0.125)
    assert ig.mutual_information_bound(loss.cat.item(), 4) == pytest.approx(0.0, abs=1e-6)


def test_info_loss_is_the_gaussian_and_categorical_negative_log_likelihood():
    torch.manual_seed(1)
    scores = ig.InfoGANScores(torch.zeros(5), torch.randn(5, 10), torch.randn(5, 2))
    codes = ig.sample_codes(5)
    loss = ig.info_loss(scores, codes)
    nll_cat = -F.log_softmax(scores.cat_logits, 1)[torch.arange(5), codes.cat].mean()
    gauss = torch.distributions.Normal(scores.cont_mean, 1.0)
    nll_cont = -(gauss.log_prob(codes.cont) + 0.5 * math.log(2 * math.pi)).sum(1).mean()  # without the constant
    assert loss.cat.item() == pytest.approx(nll_cat.item(), rel=1e-5)
    assert loss.cont.item() == pytest.approx(nll_cont.item(), rel=1e-5)
    assert loss.total.item() == pytest.approx(ig.CAT_WEIGHT * nll_cat.item() + ig.CONT_WEIGHT * nll_cont.item(), rel=1e-5)


def test_perfect_q_reaches_the_entropy_of_the_code():
    cat = torch.arange(10)
    scores = ig.InfoGANScores(torch.zeros(10), 50 * F.one_hot(cat, 10).float(), torch.zeros(10, 2))
    loss = ig.info_loss(scores, ig.Codes(cat, torch.zeros(10, 2)))
    assert ig.mutual_information_bound(loss.cat.item()) == pytest.approx(math.log(10), abs=1e-6)  # = H(c)


def test_info_gradient_reaches_generator_and_q_head():
    torch.manual_seed(0)
    G = ig.InfoGANGenerator(z_dim=6, width=4).apply(dcgan_init)
    D = ig.InfoGANDiscriminator(width=4).apply(dcgan_init)
    codes = ig.sample_codes(8)
    ig.info_loss(D(G(torch.randn(8, 6), *codes)), codes).total.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in G.parameters())
    assert all(p.grad is not None for p in D.q_head.parameters())
    assert all(p.grad is not None for p in D.features.parameters())   # Q shares D's body
    assert all(p.grad is None for p in D.d_head.parameters())         # D's real/fake head is not involved


def test_cluster_accuracy_finds_the_best_assignment():
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 2, 3])
    clusters = torch.tensor([2, 2, 0, 0, 1, 1, 3, 3])  # a relabelling, one item wrong
    acc, mapping = ig.cluster_accuracy(clusters, labels, n_clusters=4, n_labels=4)
    assert acc == pytest.approx(7 / 8) and mapping == [1, 2, 0, 3]
    same, _ = ig.cluster_accuracy(labels, labels, 4, 4)
    assert same == 1.0
    torch.manual_seed(0)
    chance, _ = ig.cluster_accuracy(torch.randint(10, (20_000,)), torch.randint(10, (20_000,)))
    assert chance < 0.12  # random clusters: about one in ten
    assert "same" in _message(ig.cluster_accuracy, torch.tensor([0, 1]), torch.tensor([0]))
    assert "0..9" in _message(ig.cluster_accuracy, torch.tensor([0, 10]), torch.tensor([0, 1]))


def test_cluster_accuracy_agrees_with_brute_force():
    from itertools import permutations
    torch.manual_seed(3)
    clusters, labels = torch.randint(4, (60,)), torch.randint(4, (60,))
    best = max((sum(int(p[c] == l) for c, l in zip(clusters.tolist(), labels.tolist())) / 60)
               for p in permutations(range(4)))
    assert ig.cluster_accuracy(clusters, labels, 4, 4)[0] == pytest.approx(best)


def _bar(width: int, shear: float = 0.0, size: int = 28) -> torch.Tensor:
    """A vertical bar ``width`` pixels wide and 16 tall, moving ``shear`` pixels right per pixel up."""
    img = -torch.ones(1, 1, size, size)
    for row in range(6, 22):
        up = (size - 1 - row) - 13.5
        left = round(12 + shear * up)
        img[0, 0, row, left : left + width] = 1.0
    return img


def test_stroke_width_measures_bars():
    widths = ig.stroke_width(torch.cat([_bar(w) for w in (1, 2, 3, 4)]))
    # area 16 w, border 2 (16 + w): 2 * area / border = 16 w / (16 + w)
    expected = torch.tensor([16 * w / (16 + w) for w in (1, 2, 3, 4)])
    assert torch.allclose(widths, expected)
    assert (widths.diff() > 0).all()


def test_slant_follows_the_shear():
    slants = ig.slant(torch.cat([_bar(2, s) for s in (-0.4, 0.0, 0.4)]))
    assert slants[1].abs() < 0.02
    assert slants[0] == pytest.approx(-0.4, abs=0.05) and slants[2] == pytest.approx(0.4, abs=0.05)
    assert "one channel" in _message(ig.slant, torch.zeros(2, 3, 28, 28))


def test_sweep_correlation_pools_every_sample_against_numpy():
    import numpy as np
    values = torch.linspace(-1, 1, 5)
    curves = torch.tensor([[1.0, 2.0, 3.0, 4.0, 5.0], [5.0, 4.0, 3.0, 2.0, 1.0], [1.0, 3.0, 2.0, 5.0, 4.0]])
    expected = np.corrcoef(values.repeat(3).numpy(), curves.reshape(-1).numpy())[0, 1]
    assert ig.sweep_correlation(values, curves) == pytest.approx(float(expected), abs=1e-6)
    assert ig.sweep_correlation(values, torch.full((3, 5), 2.0)) == 0.0  # no variation


def test_sweep_correlation_is_low_for_a_small_nudge_and_high_for_control():
    torch.manual_seed(0)
    values = torch.linspace(-1, 1, 9)
    spread = torch.randn(200, 1)                          # samples differ a lot
    nudged = spread + 0.01 * values                       # every curve rises, a little
    set_by_input = 0.1 * spread + values                  # the input decides
    assert abs(ig.sweep_correlation(values, nudged)) < 0.1
    assert ig.sweep_correlation(values, set_by_input) > 0.95


class _ShearByCode(nn.Module):
    """A stand-in generator: continuous code 1 sets the shear of a bar, code 2 and the noise do nothing."""

    z_dim, n_cat, n_cont = 3, 10, 2

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, z, cat, cont):
        return torch.cat([_bar(2, 0.3 * float(s)) for s in cont[:, 0]])


def test_sweep_holds_everything_but_the_swept_input():
    seen = []

    class Recorder(_ShearByCode):
        def forward(self, z, cat, cont):
            seen.append((z.clone(), cat.clone(), cont.clone()))
            return super().forward(z, cat, cont)

    curves = ig.sweep(Recorder(), "z2", torch.tensor([-2.0, 0.0, 2.0]), ig.slant, n=4)
    assert curves.shape == (4, 3)
    (z0, c0, k0), (z1, c1, k1), _ = seen
    assert torch.equal(c0, c1) and torch.equal(z0[:, [0, 2]], z1[:, [0, 2]])
    assert (z0[:, 1] == -2).all() and (z1[:, 1] == 0).all() and (k0 == 0).all()
    assert "'c1'..'c2'" in _message(ig.sweep, Recorder(), "c3", torch.zeros(2), ig.slant)


def test_code_correlations_see_a_controlling_code_and_not_the_others():
    r = ig.code_correlations(_ShearByCode(), n=4)
    assert set(r) == {f"{s}_{m}" for s in ("c1", "c2", "z1", "z2") for m in ("width", "slant")}
    assert r["c1_slant"] == pytest.approx(1.0, abs=0.02)
    assert r["c2_slant"] == 0.0 and r["z1_slant"] == 0.0 and r["z2_width"] == 0.0  # flat curves


# -- the training steps ------------------------------------------------------------------------------
def _after_sgd(model, loss):
    grads = torch.autograd.grad(loss, [p for p in model.parameters()], allow_unused=True)
    return [p.detach() - 0.1 * (g if g is not None else 0) for p, g in zip(model.parameters(), grads)]


@pytest.mark.parametrize("cat_weight, cont_weight", [(ig.CAT_WEIGHT, ig.CONT_WEIGHT), (0.0, 0.0), (2.0, 0.1)])
def test_infogan_steps_add_the_information_term_to_both_players(cat_weight, cont_weight):
    torch.manual_seed(0)
    G = ig.InfoGANGenerator(8, width=4, hidden=16).apply(dcgan_init)
    D = ig.InfoGANDiscriminator(width=4, hidden=16).apply(dcgan_init)
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    d_step, g_step = ig.infogan_steps(G, D, opt_g, opt_d, cat_weight=cat_weight, cont_weight=cont_weight)
    real = torch.rand(6, 1, 28, 28) * 2 - 1
    bce = F.binary_cross_entropy_with_logits

    def drawn():                                        # what a step draws: codes first, then uniform noise
        codes = ig.sample_codes(6, device="cpu")
        return ig.sample_z(6, 8, "cpu"), codes

    torch.manual_seed(1)
    z, codes = drawn()
    with torch.no_grad():
        fake = G(z, *codes)
    on_fake, on_real = D(fake), D(real)
    info = ig.info_loss(on_fake, codes, cat_weight, cont_weight)
    d_total = bce(on_real.logits, torch.ones(6)) + bce(on_fake.logits, torch.zeros(6))
    expected_d = _after_sgd(D, d_total + info.total)
    torch.manual_seed(1)
    logged = d_step(real)
    assert torch.isclose(logged["d_loss"], d_total.detach()) and torch.isclose(logged["info_cat"], info.cat.detach())
    assert all(torch.allclose(p, e, atol=1e-6) for p, e in zip(D.parameters(), expected_d))

    torch.manual_seed(2)
    z, codes = drawn()
    on_fake = D(G(z, *codes))
    g_loss = bce(on_fake.logits, torch.ones(6))
    expected_g = _after_sgd(G, g_loss + ig.info_loss(on_fake, codes, cat_weight, cont_weight).total)
    d_before = [p.detach().clone() for p in D.parameters()]
    torch.manual_seed(2)
    assert torch.isclose(g_step(real)["g_loss"], g_loss.detach())
    assert all(torch.allclose(p, e, atol=1e-6) for p, e in zip(G.parameters(), expected_g))
    assert all(torch.equal(p, q) for p, q in zip(D.parameters(), d_before)) and all(p.requires_grad for p in D.parameters())
