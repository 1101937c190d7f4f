"""Lesson 02b (DCGAN -> LSGAN): every hint of check_lsgan_d_loss, check_lsgan_g_loss and
check_raw_score_discriminator, each triggered by a wrong answer."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlib.checks import check_lsgan_d_loss, check_lsgan_g_loss, check_raw_score_discriminator

NB = "02b_dcgan_to_lsgan"


# -- check_lsgan_d_loss ----------------------------------------------------------------------------
def test_lsgan_d_loss_solution_passes(solution):
    result = check_lsgan_d_loss(solution(NB, "lsgan_d_loss"))
    assert result.passed, result.message
    assert "LSGAN discriminator loss correct (1.1719" in result.message


def test_lsgan_d_loss_with_mse_loss_passes():
    def d_loss(r, f):  # the same loss written with F.mse_loss
        return 0.5 * F.mse_loss(r, torch.ones_like(r)) + 0.5 * F.mse_loss(f, torch.zeros_like(f))
    assert check_lsgan_d_loss(d_loss).passed


@pytest.mark.parametrize("fn, words", [
    (lambda r, f: 0.5 * (torch.sigmoid(r) - 1).square().mean() + 0.5 * torch.sigmoid(f).square().mean(),
     "squashed the scores with a sigmoid"),
    (lambda r, f: F.mse_loss(r, torch.ones_like(r)) + F.mse_loss(f, torch.zeros_like(f)),
     "twice as much. Each half has the factor ½"),
    (lambda r, f: 0.5 * (r - 1).square().sum() + 0.5 * f.square().sum(), "mean over the batch, not the sum"),
    (lambda r, f: 0.5 * r.square().mean() + 0.5 * (f - 1).square().mean(), "targets are swapped"),
    (lambda r, f: 0.5 * (r - 1).square().mean() + 0.5 * (f + 1).square().mean(),  # a = -1, the paper's other choice
     "Expected 1.1719 on the test scores, got 1.4635"),
    (lambda r, f: (0.5 * (r - 1).square().mean() + 0.5 * f.square().mean()).item(), "got float"),
    (lambda r, f: 0.5 * (r - 1).square() + 0.5 * f.square(), "got Tensor of shape (6,)"),
    (lambda r, f: (0.5 * (r - 1).square().mean() + 0.5 * f.square().mean()).detach(), "carries no gradient"),
])
def test_lsgan_d_loss_slips_get_their_hint(fn, words):
    result = check_lsgan_d_loss(fn)
    assert not result.passed and words in result.message, result.message


# -- check_lsgan_g_loss ----------------------------------------------------------------------------
def test_lsgan_g_loss_solution_passes(solution):
    result = check_lsgan_g_loss(solution(NB, "lsgan_g_loss"))
    assert result.passed, result.message
    assert "LSGAN generator loss correct (1.2344" in result.message


@pytest.mark.parametrize("fn, words", [
    (lambda f: 0.5 * (torch.sigmoid(f) - 1).square().mean(), "Leave out the sigmoid"),
    (lambda f: 0.5 * f.square().mean(), "pulls the fakes' scores to 0"),
    (lambda f: F.mse_loss(f, torch.ones_like(f)), "twice as much. Keep the factor ½"),
    (lambda f: 0.5 * (f - 1).square().sum(), "mean over the batch, not the sum"),
    (lambda f: 0.5 * (f + 1).square().mean(), "Expected 1.2344 on the test scores, got 0.8177"),
    (lambda f: 0.5 * (f - 1).square().mean().item(), "got float"),
    (lambda f: 0.5 * (f - 1).square(), "got Tensor of shape (6,)"),
    (lambda f: torch.tensor(0.5 * (f.detach() - 1).square().mean().item()), "carries no gradient"),
])
def test_lsgan_g_loss_slips_get_their_hint(fn, words):
    result = check_lsgan_g_loss(fn)
    assert not result.passed and words in result.message, result.message


# -- check_raw_score_discriminator -----------------------------------------------------------------
def _disc(width=8, *, last_bias=True, first_bias=True, end=(), flatten=True):
    """The study notes' discriminator, in small: 28 -> 14 -> 7 -> one score per image."""
    return nn.Sequential(
        nn.Conv2d(1, width, 4, 2, 1, bias=first_bias), nn.LeakyReLU(0.2),
        nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(0.2),
        nn.Conv2d(2 * width, 1, 7, bias=last_bias), *end, *([nn.Flatten(0)] if flatten else []))


class _SigmoidInForward(nn.Module):
    """The sigmoid is gone from the layers but still applied in forward."""

    def __init__(self):
        super().__init__()
        self.net = _disc()

    def forward(self, x):
        return torch.sigmoid(self.net(x))


class _ScoresAndFeatures(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = _disc()

    def forward(self, x):
        return self.net(x), x


def test_raw_score_discriminator_solution_passes(solution):
    result = check_raw_score_discriminator(solution(NB, "build_lsgan_discriminator"))
    assert result.passed, result.message


def test_raw_score_discriminator_with_a_linear_head_passes():
    assert check_raw_score_discriminator(lambda: nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 1), nn.Flatten(0)))


@pytest.mark.parametrize("build, words", [
    (lambda: "D", "Return an nn.Module; got str"),
    (lambda: _disc(end=(nn.Sigmoid(),)), "still a squashing layer"),
    (lambda: _disc(end=(nn.Tanh(),)), "still a squashing layer"),
    (lambda: nn.Sequential(nn.Linear(28 * 28, 1)), "fails on images of shape (4, 1, 28, 28)"),
    (lambda: _disc(flatten=False), "shape (4,), got (4, 1, 1, 1)"),
    (lambda: nn.Sequential(nn.Flatten(), nn.Linear(28 * 28, 1)), "shape (4,), got (4, 1)"),
    (_ScoresAndFeatures, "shape (4,), got tuple"),
    (lambda: _disc(first_bias=False, last_bias=False), "Give the last convolution (or linear layer) a bias"),
    (_SigmoidInForward, "squashed after the last layer"),
])
def test_raw_score_discriminator_slips_get_their_hint(build, words):
    result = check_raw_score_discriminator(build)
    assert not result.passed and words in result.message, result.message


# -- all three -------------------------------------------------------------------------------------
@pytest.mark.parametrize("checker, name", [(check_lsgan_d_loss, "lsgan_d_loss"), (check_lsgan_g_loss, "lsgan_g_loss"),
                                           (check_raw_score_discriminator, "build_lsgan_discriminator")])
def test_checkers_keep_the_random_state(checker, name, solution, keeps_random_state):
    """Building the learner's discriminator draws random numbers: from the checker's own seed, not the notebook's."""
    assert keeps_random_state(checker, solution(NB, name)).passed
