"""Lesson 01 (MLP GAN): every hint of check_d_step and check_generator_loss, each triggered by a wrong answer."""

import pytest
import torch
import torch.nn.functional as F

from ganlib.checks import CheckResult, check_d_step, check_generator_loss


# -- check_d_step ----------------------------------------------------------------------------------
def _bce_halves(D, real, fake):
    pr, pf = D(real), D(fake)
    return (F.binary_cross_entropy_with_logits(pr, torch.ones_like(pr))
            + F.binary_cross_entropy_with_logits(pf, torch.zeros_like(pf)))


def good_d_step(G, D, opt_d, real, z_dim):
    with torch.no_grad():
        fake = G(torch.randn(real.shape[0], z_dim))
    loss = _bce_halves(D, real, fake)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def zero_noise_d_step(G, D, opt_d, real, z_dim):
    """Right, and draws no random numbers of its own (the checker's G ignores z)."""
    with torch.no_grad():
        fake = G(torch.zeros(real.shape[0], z_dim))
    loss = _bce_halves(D, real, fake)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def mean_d_step(G, D, opt_d, real, z_dim):
    fake = G(torch.randn(real.shape[0], z_dim)).detach()
    loss = _bce_halves(D, real, fake) / 2
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss


def no_zero_grad_d_step(G, D, opt_d, real, z_dim):
    with torch.no_grad():
        fake = G(torch.randn(real.shape[0], z_dim))
    loss = _bce_halves(D, real, fake)
    loss.backward()
    opt_d.step()
    return loss.item()


def no_detach_d_step(G, D, opt_d, real, z_dim):
    fake = G(torch.randn(real.shape[0], z_dim))
    loss = _bce_halves(D, real, fake)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def steps_g_too_d_step(G, D, opt_d, real, z_dim):
    fake = G(torch.randn(real.shape[0], z_dim))
    loss = _bce_halves(D, real, fake)
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    with torch.no_grad():
        for p in G.parameters():
            p -= 0.1 * p.grad
    return loss.item()


def no_step_d_step(G, D, opt_d, real, z_dim):
    with torch.no_grad():
        fake = G(torch.randn(real.shape[0], z_dim))
    return _bce_halves(D, real, fake).item()


def sigmoid_d_step(G, D, opt_d, real, z_dim):
    with torch.no_grad():
        fake = G(torch.randn(real.shape[0], z_dim))
    pr, pf = torch.sigmoid(D(real)), torch.sigmoid(D(fake))
    loss = F.binary_cross_entropy_with_logits(pr, torch.ones_like(pr)) + \
        F.binary_cross_entropy_with_logits(pf, torch.zeros_like(pf))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def sigmoid_bce_d_step(G, D, opt_d, real, z_dim):
    """Right on moderate scores: a sigmoid, then binary_cross_entropy on the probabilities."""
    with torch.no_grad():
        fake = G(torch.randn(real.shape[0], z_dim))
    pr, pf = torch.sigmoid(D(real)), torch.sigmoid(D(fake))
    loss = F.binary_cross_entropy(pr, torch.ones_like(pr)) + F.binary_cross_entropy(pf, torch.zeros_like(pf))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def log_sigmoid_by_hand_d_step(G, D, opt_d, real, z_dim):
    with torch.no_grad():
        fake = G(torch.randn(real.shape[0], z_dim))
    loss = -(torch.log(torch.sigmoid(D(real))).mean() + torch.log(1 - torch.sigmoid(D(fake))).mean())
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def real_only_d_step(G, D, opt_d, real, z_dim):
    pr = D(real)
    loss = F.binary_cross_entropy_with_logits(pr, torch.ones_like(pr))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def fake_only_d_step(G, D, opt_d, real, z_dim):
    pf = D(G(torch.randn(real.shape[0], z_dim)).detach())
    loss = F.binary_cross_entropy_with_logits(pf, torch.zeros_like(pf))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def test_check_d_step_passes_a_correct_step():
    result = check_d_step(good_d_step)
    assert result and result.message.startswith("Discriminator step correct: loss ")
    assert check_d_step(mean_d_step)  # the mean of the two halves is fine too


@pytest.mark.parametrize("fn, words", [
    (no_zero_grad_d_step, ["opt_d.zero_grad()", "not where one optimiser step"]),
    (no_detach_d_step, ["Gradients reached the generator", "detach"]),
    (steps_g_too_d_step, ["changed the generator", "step only opt_d"]),
    (no_step_d_step, ["did not change", "opt_d.step()"]),
    (sigmoid_d_step, ["Expected the loss", "no sigmoid"]),
    (sigmoid_bce_d_step, ["not on extreme ones", "D scores -150", "yours gave 100.0", "binary_cross_entropy_with_logits"]),
    (log_sigmoid_by_hand_d_step, ["not on extreme ones", "yours gave inf"]),
    (real_only_d_step, ["only one half", "expected"]),
    (fake_only_d_step, ["only one half", "expected"]),
    (lambda G, D, opt_d, real, z_dim: [1.0, 2.0], ["as a number", "got list"]),
])
def test_check_d_step_wrong_answers(fn, words):
    result = check_d_step(fn)
    assert isinstance(result, CheckResult) and not result
    for word in words:
        assert word in result.message, result.message


def test_check_d_step_keeps_the_random_state(keeps_random_state):
    """The checker's own D and batches come from their own seeds; only the learner's draws touch the notebook's."""
    assert keeps_random_state(check_d_step, zero_noise_d_step).passed


def test_check_d_step_is_the_same_whatever_the_notebook_seed():
    messages = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        messages.append(check_d_step(good_d_step).message)
    assert messages[0] == messages[1]


# -- check_generator_loss --------------------------------------------------------------------------
def test_check_generator_loss_passes():
    result = check_generator_loss(lambda s: F.binary_cross_entropy_with_logits(s, torch.ones_like(s)))
    assert result and "Non-saturating generator loss correct" in result.message and "around -120" in result.message
    assert check_generator_loss(lambda s: -F.logsigmoid(s).mean())


@pytest.mark.parametrize("fn, words", [
    (lambda s: -F.softplus(s).mean(), ["minimax", "saturates", "-log D(G(z))"]),
    (lambda s: torch.log(1 - torch.sigmoid(s)).mean(), ["minimax"]),
    (lambda s: F.softplus(-s).sum(), ["mean over the batch, not the sum"]),
    (lambda s: F.softplus(-s).mean().detach(), ["carries no gradient"]),
    (lambda s: torch.tensor(F.softplus(-s).mean().item()), ["carries no gradient"]),
    (lambda s: F.softplus(-s).mean().item(), ["one number as a tensor", "got float"]),
    (lambda s: F.softplus(-s), ["one number as a tensor", "of shape (10,)"]),
    (lambda s: -torch.log(s).mean(), ["NaN", "logits, not probabilities"]),
    (lambda s: F.softplus(s).mean(), ["Expected", "for logits from -6 to 3"]),
    (lambda s: F.binary_cross_entropy(s, torch.ones_like(s)), ["Your function raised"]),
    (lambda s: -torch.log(torch.sigmoid(s)).mean(), ["not stable", "yours gave inf", "F.logsigmoid"]),
    (lambda s: -torch.log(torch.sigmoid(s) + 1e-8).mean(), ["not stable", "yours gave 12.5", "epsilon"]),
    (lambda s: F.binary_cross_entropy(torch.sigmoid(s), torch.ones_like(s)), ["not stable", "yours gave 66.8"]),
])
def test_check_generator_loss_wrong_answers(fn, words):
    result = check_generator_loss(fn)
    assert isinstance(result, CheckResult) and not result
    for word in words:
        assert word in result.message, result.message


def test_check_generator_loss_keeps_the_random_state(keeps_random_state):
    assert keeps_random_state(check_generator_loss, lambda s: -F.logsigmoid(s).mean()).passed


# -- both ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("checker, fn", [
    (check_generator_loss, lambda s: F.binary_cross_entropy_with_logits(s, torch.ones_like(s))),
    (check_generator_loss, lambda s: F.softplus(s).mean()),
    (check_d_step, good_d_step),
    (check_d_step, sigmoid_d_step),
    (check_d_step, real_only_d_step),
    (check_d_step, sigmoid_bce_d_step),
    (check_generator_loss, lambda s: -torch.log(torch.sigmoid(s)).mean()),
])
def test_checkers_print_no_pytorch_warnings(checker, fn, recwarn):
    checker(fn)
    assert [str(w.message) for w in recwarn] == []
