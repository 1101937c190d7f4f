"""Lesson 05 (Pix2Pix): every hint of check_receptive_field and check_pix2pix_g_loss, each triggered by a wrong
answer; the random state is kept."""

import pytest
import torch
import torch.nn.functional as F

from ganlib.checks import check_pix2pix_g_loss, check_receptive_field
from ganlib.checks.lesson05_pix2pix import _rf_variant

NB = "05_pix2pix"


# -- the receptive field ---------------------------------------------------------------------------
def _rf(backwards=False, **slip):
    """The recurrence with one of the usual slips (the checker's own _rf_variant), as a learner's function."""
    def rf(layers):
        return _rf_variant(list(reversed(layers)) if backwards else layers, **slip)
    return rf


def _rf_backward(layers):
    """The other correct way: walk from the output back, r = r * stride + (kernel - stride)."""
    r = 1
    for kernel, stride in reversed(layers):
        r = r * stride + (kernel - stride)
    return r


def test_receptive_field_solution_passes(solution):
    result = check_receptive_field(solution(NB, "receptive_field"))
    assert result.passed, result.message
    assert "70" in result.message


def test_receptive_field_backward_walk_passes():
    assert check_receptive_field(_rf_backward).passed


def test_receptive_field_float_answer_that_is_whole_passes(solution):
    assert check_receptive_field(lambda layers: float(solution(NB, "receptive_field")(layers))).passed


@pytest.mark.parametrize("wrong, hint", [
    (_rf(no_jump=True), "multiply each (kernel - 1) by the jump"),
    (_rf(jump_first=True), "before adding"),
    (_rf(extra=0), "add (kernel - 1) * jump"),
    (_rf(start=0), "start from field = 1"),
    (_rf(start=0, extra=0), "starting from 0"),
    (_rf(add_jump=True), "jump *= stride"),
    (_rf(backwards=True), "from last to first"),
])
def test_receptive_field_slips_get_their_hint(wrong, hint):
    result = check_receptive_field(wrong)
    assert not result.passed
    assert hint in result.message, result.message
    assert "70" in result.message


@pytest.mark.parametrize("wrong, words", [
    (lambda layers: "70", "as a whole number (an int)"),
    (lambda layers: True, "as a whole number (an int)"),
    (lambda layers: 70.5, "A receptive field is a whole number of pixels"),
    (lambda layers: 70, "field += (kernel - 1) * jump"),
    (lambda layers: layers[5], "raised IndexError"),
])
def test_receptive_field_other_mistakes(wrong, words):
    result = check_receptive_field(wrong)
    assert not result.passed and words in result.message, result.message


# -- the generator loss ------------------------------------------------------------------------------
def _ones(s):
    return torch.ones_like(s)


def _adv(s):
    return F.binary_cross_entropy_with_logits(s, _ones(s))


WRONG_LOSSES = [
    (lambda s, f, t: _adv(s) + (f - t).abs().mean(), "forgot λ"),
    (lambda s, f, t: _adv(s) + 10 * (f - t).abs().mean(), "CycleGAN"),
    (lambda s, f, t: 100 * _adv(s) + (f - t).abs().mean(), "belongs to the L1 term"),
    (lambda s, f, t: 100 * (_adv(s) + (f - t).abs().mean()), "keeps weight 1"),
    (lambda s, f, t: _adv(s) + 100 * (f - t).abs().sum(), "λ depend on the image size"),
    (lambda s, f, t: _adv(s) + 100 * (f - t).abs().flatten(1).sum(1).mean(), "sum per image"),
    (lambda s, f, t: _adv(s) + 100 * (f - t).square().mean(), "squared error (L2)"),
    (lambda s, f, t: _adv(s) + 100 * F.mse_loss(f, t).sqrt(), "root mean squared"),
    (lambda s, f, t: _adv(torch.sigmoid(s)) + 100 * (f - t).abs().mean(), "sigmoid is applied twice"),
    (lambda s, f, t: F.binary_cross_entropy_with_logits(s, torch.zeros_like(s)) + 100 * (f - t).abs().mean(),
     "Wrong target"),
    (lambda s, f, t: -F.binary_cross_entropy_with_logits(s, torch.zeros_like(s)) + 100 * (f - t).abs().mean(),
     "minimax"),
    (lambda s, f, t: F.binary_cross_entropy_with_logits(s.mean(), torch.tensor(1.0)) + 100 * (f - t).abs().mean(),
     "averaged the patch scores"),
    (lambda s, f, t: F.binary_cross_entropy_with_logits(s, _ones(s), reduction="sum") + 100 * (f - t).abs().mean(),
     "Average the adversarial loss over the patches"),
    (lambda s, f, t: 100 * (f - t).abs().mean(), "adversarial term is missing"),
    (lambda s, f, t: _adv(s), "L1 term is missing"),
    (lambda s, f, t: 0.5 * (s - 1).square().mean() + 100 * (f - t).abs().mean(), "least-squares"),
    (lambda s, f, t: -s.mean() + 100 * (f - t).abs().mean(), "hinge/Wasserstein"),
    (lambda s, f, t: F.binary_cross_entropy(s, _ones(s)) + 100 * (f - t).abs().mean(), "with_logits"),
]


def test_g_loss_solution_passes(solution):
    result = check_pix2pix_g_loss(solution(NB, "pix2pix_g_loss"))
    assert result.passed, result.message
    assert "2.6931" in result.message


def test_g_loss_with_l1_loss_and_sigmoid_then_bce_passes():
    def g_loss(s, f, t):  # the same loss written another way
        return F.binary_cross_entropy(torch.sigmoid(s), _ones(s)) + 100 * F.l1_loss(f, t)
    assert check_pix2pix_g_loss(g_loss).passed


@pytest.mark.parametrize("wrong, hint", WRONG_LOSSES, ids=[h for _, h in WRONG_LOSSES])
def test_g_loss_slips_get_their_hint(wrong, hint):
    result = check_pix2pix_g_loss(wrong)
    assert not result.passed
    assert hint in result.message, result.message


def _backward_inside(s, f, t):
    """Backpropagates itself "to make sure it trains": the caller's backward then finds the graph freed."""
    loss = _adv(s) + 100 * (f - t).abs().mean()
    if loss.requires_grad:
        loss.backward()
    return loss


def _changes_target(s, f, t):
    t.mul_(0.5)
    return _adv(s) + 100 * (f - t).abs().mean()


@pytest.mark.parametrize("wrong, words", [
    (lambda s, f, t: float(_adv(s) + 100 * (f - t).abs().mean()), "as a tensor"),
    (lambda s, f, t: _adv(s) + 100 * (f - t).abs().mean((1, 2, 3)), "one number"),
    (_changes_target, "changed its inputs in place"),
    (lambda s, f, t: _adv(s.detach()) + 100 * (f.detach() - t).abs().mean(), "carries no gradient"),
    (_backward_inside, "Backpropagating your loss failed"),
    (lambda s, f, t: _adv(s) + 100 * (f.detach() - t).abs().mean(), "does not reach the generated images"),
    (lambda s, f, t: _adv(s.detach()) + 100 * (f - t).abs().mean(), "does not reach the patch scores"),
])
def test_g_loss_type_inputs_and_gradient_mistakes(wrong, words):
    result = check_pix2pix_g_loss(wrong)
    assert not result.passed and words in result.message, result.message


def test_g_loss_unknown_mistake_gets_the_recipe():
    result = check_pix2pix_g_loss(lambda s, f, t: _adv(s) + 50 * (f - t).abs().mean())
    assert not result.passed
    assert "2.6931" in result.message and "Add F.binary_cross_entropy_with_logits" in result.message


def test_g_loss_right_on_the_worked_example_only():
    """|mean(fake - target)| equals mean |fake - target| when every pixel misses by the same 0.02, not otherwise."""
    result = check_pix2pix_g_loss(lambda s, f, t: _adv(s) + 100 * (f - t).mean().abs())
    assert not result.passed
    assert "for the worked example, 2.6931, is right" in result.message, result.message


# -- both -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("checker, fn", [
    (check_receptive_field, lambda layers: int(torch.randint(1, 100, ()))),
    (check_pix2pix_g_loss, lambda s, f, t: _adv(s) + 100 * (f - t).abs().mean() + 0 * torch.randn(())),
])
def test_checkers_keep_the_random_state(checker, fn, keeps_random_state):
    """Even a learner's function that draws random numbers leaves the notebook's random state as it was."""
    keeps_random_state(checker, fn)
