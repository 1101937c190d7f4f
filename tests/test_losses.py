"""ganlib.losses: the adversarial loss against numbers worked out by hand."""

import math
import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlib.losses import MODES, AdversarialLoss, DiscriminatorLoss

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
