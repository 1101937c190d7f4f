"""Lesson 08 (the semi-supervised GAN): every hint of check_unsupervised_d_loss and check_feature_matching, each
triggered by a wrong answer."""

import pytest
import torch
import torch.nn.functional as F

from ganlib.checks.lesson08_semi_supervised_gan import check_feature_matching, check_unsupervised_d_loss
from ganlib.papers import sgan

NB = "08_semi_supervised_gan"


def _lse(logits):
    return torch.logsumexp(logits, dim=1)


def _naive_z(logits):
    return torch.exp(logits).sum(dim=1)


# -- check_unsupervised_d_loss ---------------------------------------------------------------------
def test_unsupervised_solution_passes_and_keeps_the_random_state(solution, keeps_random_state):
    result = keeps_random_state(check_unsupervised_d_loss, solution(NB, "unsupervised_d_loss"))
    assert result.passed, result.message


@pytest.mark.parametrize("fn", [
    sgan.unsupervised_d_loss,
    lambda r, f: -F.logsigmoid(_lse(r)).mean() - F.logsigmoid(-_lse(f)).mean(),
    lambda r, f: (F.binary_cross_entropy_with_logits(_lse(r), torch.ones(len(r)))
                  + F.binary_cross_entropy_with_logits(_lse(f), torch.zeros(len(f)))),
    # Odena's K + 1 outputs: append the fake class's logit 0 and read p(fake) from the softmax
    lambda r, f: (-torch.logsumexp(F.log_softmax(F.pad(r, (0, 1)), 1)[:, :-1], 1).mean()
                  + F.cross_entropy(F.pad(f, (0, 1)), torch.full((len(f),), f.shape[1]))),
])
def test_other_stable_unsupervised_losses_pass(fn):
    result = check_unsupervised_d_loss(fn)
    assert result.passed, result.message


def _solution(r, f):
    return sgan.unsupervised_d_loss(r, f)


@pytest.mark.parametrize("fn, words", [
    (lambda r, f: -torch.log(_naive_z(r) / (_naive_z(r) + 1)).mean() - torch.log(1 / (_naive_z(f) + 1)).mean(),
     "exp() overflows"),
    (lambda r, f: -F.logsigmoid(torch.log(_naive_z(r))).mean() - F.logsigmoid(-torch.log(_naive_z(f))).mean(),
     "exp() overflows"),
    (lambda r, f: -torch.log(torch.sigmoid(_lse(r))).mean() - torch.log(1 - torch.sigmoid(_lse(f))).mean(),
     "1 - D rounds to 0"),
    (lambda r, f: (-torch.log(torch.sigmoid(_lse(r)) + 1e-8).mean()
                   - torch.log(1 - torch.sigmoid(_lse(f)) + 1e-8).mean()), "caps the loss"),
    (lambda r, f: -_solution(r, f), "sign is flipped"),
    (lambda r, f: _solution(f, r), "swapped"),
    (lambda r, f: 0.5 * _solution(r, f), "half the loss"),
    (lambda r, f: F.softplus(-_lse(r)).mean(), "Only the real term"),
    (lambda r, f: F.softplus(_lse(f)).mean(), "Only the fake term"),
    (lambda r, f: F.softplus(-_lse(r)).sum() + F.softplus(_lse(f)).sum(), "not the sum"),
    (lambda r, f: torch.cat([F.softplus(-_lse(r)), F.softplus(_lse(f))]).mean(), "its own batch"),
    (lambda r, f: F.softplus(-r.max(1).values).mean() + F.softplus(f.max(1).values).mean(), "largest logit"),
    (lambda r, f: -r.softmax(1).max(1).values.log().mean() - (1 - f.softmax(1).max(1).values).log().mean(),
     "softmax probabilities"),
    (lambda r, f: F.cross_entropy(r, r.argmax(1)), "softmax probabilities"),
    (lambda r, f: -r.softmax(1).sum(1).log().mean() - (1 - f.softmax(1).sum(1)).log().mean(), "always sums to 1"),
    (lambda r, f: F.softplus(-_lse(r)), "Return one number"),
    (lambda r, f: _solution(r, f).item(), "as a tensor"),
    (lambda r, f: _solution(r, f).detach(), "no gradient"),
    (lambda r, f: _solution(r, f.detach()), "gradient is not"),
    (lambda r, f: _solution(r, f) + 1, "Expected"),
])
def test_unsupervised_slips_get_their_hint(fn, words):
    result = check_unsupervised_d_loss(fn)
    assert not result.passed and words in result.message, result.message


def test_an_unfinished_unsupervised_stub_says_so():
    def unsupervised_d_loss(logits_real, logits_fake):
        raise NotImplementedError("write the unsupervised loss")

    result = check_unsupervised_d_loss(unsupervised_d_loss)
    assert not result.passed and "Not done yet" in result.message


# -- check_feature_matching ------------------------------------------------------------------------
def test_feature_matching_solution_passes_and_keeps_the_random_state(solution, keeps_random_state):
    result = keeps_random_state(check_feature_matching, solution(NB, "feature_matching_loss"))
    assert result.passed, result.message


def test_ganlib_feature_matching_passes():
    assert check_feature_matching(sgan.feature_matching_loss).passed


def _diff(r, f):
    return r.detach().mean(0) - f.mean(0)


@pytest.mark.parametrize("fn, words", [
    (lambda r, f: (r.detach() - f).pow(2).sum(1).mean(), "one by one"),
    (lambda r, f: (r.detach() - f).pow(2).mean(), "one by one"),
    (lambda r, f: _diff(r, f).norm(), "not .norm()"),
    (lambda r, f: _diff(r, f).pow(2).mean(), "sum the squared differences over the features"),
    (lambda r, f: (r.detach().mean(1) - f.mean(1)).pow(2).sum(), "dim=0"),
    (lambda r, f: (r.detach().sum(0) - f.sum(0)).pow(2).sum(), "not the sum"),
    (lambda r, f: _diff(r, f).abs().sum(), "Square each difference"),
    (lambda r, f: _diff(r, f).pow(2), "one number per feature"),
    (lambda r, f: (r.mean(0) - f.mean(0)).pow(2).sum(), "flows into the real features"),
    (lambda r, f: (r.mean(0) - f.detach().mean(0)).pow(2).sum(), "No gradient reaches the fake"),
    (lambda r, f: (r.detach().mean(0) - f.detach().mean(0)).pow(2).sum(), "carries no gradient"),
    (lambda r, f: _diff(r, f).pow(2).sum().item(), "as a tensor"),
    (lambda r, f: _diff(r, f).pow(2).sum() + 1, "Expected"),
    (lambda r, f: (r.detach() - f).mean(0).pow(2).sum(), "batch sizes may differ"),
])
def test_feature_matching_slips_get_their_hint(fn, words):
    result = check_feature_matching(fn)
    assert not result.passed and words in result.message, result.message


def test_checkers_never_raise_on_garbage():
    for checker in (check_unsupervised_d_loss, check_feature_matching):
        assert not checker(None).passed
        assert not checker(lambda *a: "loss").passed
        assert not checker(lambda *a: torch.zeros(3, 3)).passed
