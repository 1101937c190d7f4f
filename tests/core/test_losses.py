"""ganlib.losses: the adversarial loss against numbers worked out by hand."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlib.losses import MODES, AdversarialLoss, DiscriminatorLoss, gradient_penalty

LOG2 = math.log(2)
VANILLA = ("minimax", "nonsaturating")


@pytest.mark.parametrize("mode", VANILLA)
def test_discriminator_loss_at_logit_zero_is_log2_per_side(mode):
    loss = AdversarialLoss(mode)
    zeros = torch.zeros(6)
    assert float(loss(zeros, True)) == pytest.approx(LOG2)
    assert float(loss(zeros, False)) == pytest.approx(LOG2)
    parts = loss.discriminator(zeros, zeros)
    assert isinstance(parts, DiscriminatorLoss)
    assert float(parts.total) == pytest.approx(2 * LOG2)
    assert float(parts.real) == pytest.approx(LOG2) and float(parts.fake) == pytest.approx(LOG2)


def test_generator_loss_at_logit_zero():
    zeros = torch.zeros(4)
    assert float(AdversarialLoss("nonsaturating").generator(zeros)) == pytest.approx(LOG2)
    assert float(AdversarialLoss("minimax").generator(zeros)) == pytest.approx(-LOG2)


def test_default_mode_is_nonsaturating():
    loss = AdversarialLoss()
    assert loss.mode == "nonsaturating" and repr(loss) == "AdversarialLoss('nonsaturating')"


# logits and their losses by hand: -log sigmoid(s) = log(1 + e^-s), -log(1 - sigmoid(s)) = log(1 + e^s)
LOGITS = [2.0, -1.0, 0.5, -3.0]


def _real_by_hand(s):
    return sum(math.log1p(math.exp(-x)) for x in s) / len(s)


def _fake_by_hand(s):
    return sum(math.log1p(math.exp(x)) for x in s) / len(s)


@pytest.mark.parametrize("mode", VANILLA)
def test_discriminator_loss_by_hand(mode):
    loss = AdversarialLoss(mode)
    s = torch.tensor(LOGITS)
    assert float(loss(s, True)) == pytest.approx(_real_by_hand(LOGITS), rel=1e-6)
    assert float(loss(s, False)) == pytest.approx(_fake_by_hand(LOGITS), rel=1e-6)
    # one number worked out fully: logit 2 judged real costs log(1 + e^-2)
    assert float(loss(torch.tensor([2.0]), True)) == pytest.approx(0.126928011, rel=1e-6)
    assert float(loss(torch.tensor([2.0]), False)) == pytest.approx(2.126928011, rel=1e-6)


def test_generator_losses_by_hand():
    s = torch.tensor(LOGITS)
    assert float(AdversarialLoss("nonsaturating").generator(s)) == pytest.approx(_real_by_hand(LOGITS), rel=1e-6)
    assert float(AdversarialLoss("minimax").generator(s)) == pytest.approx(-_fake_by_hand(LOGITS), rel=1e-6)
    assert float(AdversarialLoss("nonsaturating").generator(s)) == pytest.approx(float(F.softplus(-s).mean()))
    assert float(AdversarialLoss("minimax").generator(s)) == pytest.approx(float(-F.softplus(s).mean()))


@pytest.mark.parametrize("mode", VANILLA)
def test_equal_to_bce_with_logits(mode):
    torch.manual_seed(0)
    pred = torch.randn(16) * 4
    bce = nn.BCEWithLogitsLoss()
    loss = AdversarialLoss(mode)
    assert torch.allclose(loss(pred, True), bce(pred, torch.ones(16)))
    assert torch.allclose(loss(pred, False), bce(pred, torch.zeros(16)))
    parts = loss.discriminator(pred[:8], pred[8:])
    assert torch.allclose(parts.total, bce(pred[:8], torch.ones(8)) + bce(pred[8:], torch.zeros(8)))


def test_stable_for_huge_logits():
    loss = AdversarialLoss("nonsaturating")
    s = torch.tensor([-200.0, 200.0])
    assert float(loss(s, True)) == pytest.approx(100.0)  # (200 + 0) / 2, no inf
    assert float(loss.generator(torch.tensor([-200.0]))) == pytest.approx(200.0)
    assert float(AdversarialLoss("minimax").generator(torch.tensor([200.0]))) == pytest.approx(-200.0)


@pytest.mark.parametrize("mode", VANILLA)
def test_targets_broadcast_to_a_patch_map(mode):
    torch.manual_seed(1)
    pred = torch.randn(2, 1, 30, 30)
    loss = AdversarialLoss(mode)
    assert loss(pred, True).shape == ()
    assert float(loss(pred, True)) == pytest.approx(float(F.softplus(-pred).mean()), rel=1e-6)
    assert float(loss(pred, False)) == pytest.approx(float(F.softplus(pred).mean()), rel=1e-6)
    parts = loss.discriminator(pred, torch.zeros(2, 1, 30, 30))
    assert float(parts.fake) == pytest.approx(LOG2)
    assert loss.generator(pred).shape == ()


def _grad(fn, logits):
    s = torch.tensor(logits, requires_grad=True)
    fn(s).backward()
    return s.grad


def test_minimax_saturates_nonsaturating_does_not():
    logits = [-20.0, -20.0, -20.0, -20.0]  # D rejects the fakes with confidence, as early in training
    n = len(logits)
    minimax = _grad(AdversarialLoss("minimax").generator, logits)
    nonsat = _grad(AdversarialLoss("nonsaturating").generator, logits)
    assert torch.all(minimax.abs() < 1e-8)  # d/ds [-softplus(s)] / N = -sigmoid(s) / N ~ 0
    assert torch.allclose(nonsat, torch.full((n,), -1.0 / n), atol=1e-8)  # -sigmoid(-s) / N ~ -1/N


def test_generator_gradients_at_zero_by_hand():
    minimax = _grad(AdversarialLoss("minimax").generator, [0.0, 0.0])
    nonsat = _grad(AdversarialLoss("nonsaturating").generator, [0.0, 0.0])
    assert torch.allclose(minimax, torch.tensor([-0.25, -0.25]))  # -sigmoid(0) / 2
    assert torch.allclose(nonsat, torch.tensor([-0.25, -0.25]))


@pytest.mark.parametrize("mode", VANILLA)
def test_discriminator_parts_sum_to_total(mode):
    torch.manual_seed(2)
    real, fake = torch.randn(5), torch.randn(7)
    parts = AdversarialLoss(mode).discriminator(real, fake)
    assert torch.equal(parts.total, parts.real + parts.fake)
    assert float(parts.real) == pytest.approx(float(F.softplus(-real).mean()), rel=1e-6)
    assert float(parts.fake) == pytest.approx(float(F.softplus(fake).mean()), rel=1e-6)
    total, real_part, fake_part = parts  # a NamedTuple unpacks
    assert total is parts.total


def test_discriminator_loss_gradient_flows():
    s = torch.zeros(2, requires_grad=True)
    AdversarialLoss().discriminator(s[:1], s[1:]).total.backward()
    assert torch.allclose(s.grad, torch.tensor([-0.5, 0.5]))  # sigmoid(0) - 1, sigmoid(0) - 0


def test_unknown_mode_lists_the_modes():
    with pytest.raises(ValueError) as info:
        AdversarialLoss("wgan")
    message = str(info.value)
    assert "'wgan'" in message
    for mode in MODES:
        assert mode in message


@pytest.mark.parametrize("target", [1, 0, "real", None, torch.tensor(True)])
def test_target_must_be_a_bool(target):
    with pytest.raises(TypeError, match=re.escape(f"True or False; got {target!r}.")):
        AdversarialLoss()(torch.zeros(3), target)


# -- LSGAN, hinge, Wasserstein (lessons 02 exercise and 04) ------------------------------------------
NEW_MODES = ("lsgan", "hinge", "wasserstein")
# by hand for LOGITS = [2, -1, 0.5, -3]:
#   lsgan   real ½·mean((s-1)²) = ½·mean(1, 4, .25, 16) = 2.65625; fake ½·mean(s²) = 1.78125; G = real side
#   hinge   real mean(relu(1-s)) = mean(0, 2, .5, 4) = 1.625; fake mean(relu(1+s)) = mean(3, 0, 1.5, 0) = 1.125
#   critic  real -mean(s) = 0.375; fake mean(s) = -0.375; G -mean(s) = 0.375
BY_HAND = {"lsgan": (2.65625, 1.78125, 2.65625), "hinge": (1.625, 1.125, 0.375), "wasserstein": (0.375, -0.375, 0.375)}


@pytest.mark.parametrize("mode", NEW_MODES)
def test_new_modes_by_hand(mode):
    loss, s = AdversarialLoss(mode), torch.tensor(LOGITS)
    real, fake, gen = BY_HAND[mode]
    assert float(loss(s, True)) == pytest.approx(real)
    assert float(loss(s, False)) == pytest.approx(fake)
    assert float(loss.generator(s)) == pytest.approx(gen)
    assert float(loss.discriminator(s, s).total) == pytest.approx(real + fake)


@pytest.mark.parametrize("mode", NEW_MODES)
def test_new_modes_reduce_patch_maps_to_one_number(mode):
    pred = torch.randn(2, 1, 30, 30, generator=torch.Generator().manual_seed(3))
    loss = AdversarialLoss(mode)
    assert loss(pred, True).shape == () and loss.generator(pred).shape == ()
    assert float(loss(pred, True)) == pytest.approx(float(loss(pred.flatten(), True)), rel=1e-6)


def test_lsgan_still_pushes_fakes_that_are_already_on_the_real_side():
    far = [5.0, 5.0]  # D already scores these fakes as very real
    nonsat = _grad(AdversarialLoss("nonsaturating").generator, far)
    lsgan = _grad(AdversarialLoss("lsgan").generator, far)
    assert torch.all(nonsat.abs() < 0.01)  # -sigmoid(-5) / 2 ~ -0.003: hardly any signal
    assert torch.allclose(lsgan, torch.tensor([2.0, 2.0]))  # (5 - c) / 2: pulled back towards c = 1


def test_wasserstein_critic_loss_is_the_gap_between_mean_scores():
    real, fake = torch.tensor([3.0, 1.0]), torch.tensor([-1.0, 0.0, 2.0])
    parts = AdversarialLoss("wasserstein").discriminator(real, fake)
    assert float(parts.total) == pytest.approx(fake.mean() - real.mean())


# -- the gradient penalty --------------------------------------------------------------------------
def _linear_critic(norm):
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 1))
    with torch.no_grad():
        w = torch.randn(1, 12, generator=torch.Generator().manual_seed(0))
        critic[1].weight.copy_(norm * w / w.norm())
    return critic


def _pair(n=6):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 3, 2, 2, generator=g), torch.randn(n, 3, 2, 2, generator=g)


def test_gradient_penalty_of_a_unit_norm_linear_critic_is_zero():
    real, fake = _pair()
    assert gradient_penalty(_linear_critic(1.0), real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert gradient_penalty(_linear_critic(3.0), real, fake).item() == pytest.approx(4.0, rel=1e-5)  # (3 - 1)²


def test_gradient_penalty_is_taken_at_interpolates():
    real, fake = _pair()
    seen = []

    def critic(x):
        seen.append(x.detach().clone())
        return x.flatten(1).sum(1)

    gradient_penalty(critic, real, fake)
    (x,) = seen
    eps = ((x - fake).flatten(1) / (real - fake).flatten(1))  # the same ε along each row
    assert torch.allclose(eps, eps[:, :1].expand_as(eps), atol=1e-5)
    assert torch.all((eps > 0) & (eps < 1))
    assert not any(torch.allclose(row, r) or torch.allclose(row, f) for row, r, f in zip(x, real, fake))


def test_gradient_penalty_reaches_the_critic_weights_but_not_the_generator():
    torch.manual_seed(0)
    critic = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.Tanh(), nn.Linear(8, 1))
    real, fake = _pair()
    fake.requires_grad_(True)  # as if it came from G
    gradient_penalty(critic, real, fake).backward()
    reached = [critic[1].weight, critic[1].bias, critic[3].weight]  # the last bias cannot change a gradient
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in reached)
    assert fake.grad is None


def test_gradient_penalty_checks_shapes():
    with pytest.raises(ValueError, match=r"same shape; got \(2, 3\) and \(3, 3\)"):
        gradient_penalty(lambda x: x.sum(1), torch.zeros(2, 3), torch.zeros(3, 3))


def test_gradient_penalty_gradient_for_the_weights_is_the_second_derivative_by_hand():
    # lesson 04: for a linear critic w·x the penalty is (‖w‖ - 1)², whose gradient is 2 (‖w‖ - 1) w / ‖w‖;
    # only create_graph=True lets autograd find it
    critic = _linear_critic(3.0)
    real, fake = _pair()
    gradient_penalty(critic, real, fake).backward()
    w = critic[1].weight.detach()
    assert torch.allclose(critic[1].weight.grad, 2 * (3.0 - 1) * w / 3.0, atol=1e-5)


def test_gradient_penalty_uses_the_score_of_a_critic_that_also_returns_class_logits():
    """StarGAN and the semi-supervised GAN: D(x) -> (score, class logits); the penalty is on the score."""
    critic = _linear_critic(3.0)
    real, fake = _pair()
    two_heads = lambda x: (critic(x), torch.stack([x.flatten(1).sum(1)] * 5, dim=1) * 100)  # noqa: E731
    torch.manual_seed(4)
    alone = gradient_penalty(critic, real, fake)
    torch.manual_seed(4)
    both = gradient_penalty(two_heads, real, fake)
    assert both.item() == pytest.approx(alone.item()) == pytest.approx(4.0, rel=1e-5)
    with pytest.raises(ValueError, match="return scores as a tensor .* got dict"):
        gradient_penalty(lambda x: {"score": critic(x)}, real, fake)


# -- the relativistic average loss (ESRGAN) --------------------------------------------------------
def _softplus(x):
    return math.log1p(math.exp(x))


def test_relativistic_loss_at_zero_scores():
    loss, zeros = AdversarialLoss("relativistic"), torch.zeros(4)
    parts = loss.discriminator(zeros, zeros)
    assert float(parts.real) == pytest.approx(LOG2) and float(parts.fake) == pytest.approx(LOG2)
    assert float(loss.generator(zeros, zeros)) == pytest.approx(2 * LOG2)


def test_relativistic_loss_by_hand():
    # real scores [2, 0] (mean 1), fake scores [1, -1] (mean 0).
    # D: -log sigmoid(real - mean fake) = softplus(-(real - 0)): mean(softplus(-2), softplus(0));
    #    -log(1 - sigmoid(fake - mean real)) = softplus(fake - 1): mean(softplus(0), softplus(-2)).
    # G: the targets swapped: mean(softplus(2), softplus(0)) + mean(softplus(-0), softplus(2)).
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([1.0, -1.0])
    loss = AdversarialLoss("relativistic")
    parts = loss.discriminator(real, fake)
    assert float(parts.real) == pytest.approx((_softplus(-2) + _softplus(0)) / 2)
    assert float(parts.fake) == pytest.approx((_softplus(0) + _softplus(-2)) / 2)
    assert float(parts.total) == pytest.approx(float(parts.real + parts.fake))
    g = (_softplus(2) + _softplus(0)) / 2 + (_softplus(0) + _softplus(2)) / 2
    assert float(loss.generator(fake, real)) == pytest.approx(g)


def test_relativistic_generator_gradient_reaches_the_fakes_through_both_terms():
    real, fake = torch.tensor([2.0, 0.0]), torch.tensor([1.0, -1.0], requires_grad=True)
    AdversarialLoss("relativistic").generator(fake, real).backward()
    # d/df_i of mean softplus(r_j - mean f) + mean softplus(-(f_j - mean r)):
    #   first term: -½ mean_j sigmoid(r_j - mean f); second: -½ sigmoid(-(f_i - 1))
    sig = torch.sigmoid
    first = -0.5 * sig(real - fake.detach().mean()).mean()
    expected = first - 0.5 * sig(-(fake.detach() - real.mean()))
    assert torch.allclose(fake.grad, expected)


def test_only_the_relativistic_loss_needs_the_real_scores():
    assert [m for m in MODES if AdversarialLoss(m).needs_real] == ["relativistic"]
    loss = AdversarialLoss("relativistic")
    with pytest.raises(ValueError, match=r"needs the real images' scores too: loss.generator\(D\(fake\), D\(real\)\)"):
        loss.generator(torch.zeros(3))
    with pytest.raises(TypeError, match=r"compares real and fake scores.*call loss.discriminator\(s_real, s_fake\)"):
        loss(torch.zeros(3), True)
    # the other modes ignore real scores on the generator's side
    s = torch.tensor(LOGITS)
    assert float(AdversarialLoss("hinge").generator(s, s + 5)) == float(AdversarialLoss("hinge").generator(s))
