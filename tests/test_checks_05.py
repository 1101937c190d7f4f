"""The lesson 05 checkers: the solutions pass, each typical mistake gets its own hint, the random state is kept."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganlib import checks

ROOT = Path(__file__).resolve().parent.parent


def _solution(name: str):
    spec = importlib.util.spec_from_file_location("solution_05", ROOT / "solutions" / "05_pix2pix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


# -- the receptive field ---------------------------------------------------------------------------
def _rf(backwards=False, **slip):
    """The recurrence with one of the usual slips (checks._rf_variant), as a learner's function."""
    def rf(layers):
        return checks._rf_variant(list(reversed(layers)) if backwards else layers, **slip)
    return rf


def _rf_backward(layers):
    """The other correct way: walk from the output back, r = r * stride + (kernel - stride)."""
    r = 1
    for kernel, stride in reversed(layers):
        r = r * stride + (kernel - stride)
    return r


def test_receptive_field_solution_passes():
    result = checks.check_receptive_field(_solution("receptive_field"))
    assert result.passed, result.message
    assert "70" in result.message


def test_receptive_field_backward_walk_passes():
    assert checks.check_receptive_field(_rf_backward).passed


def test_receptive_field_float_answer_that_is_whole_passes():
    assert checks.check_receptive_field(lambda layers: float(_solution("receptive_field")(layers))).passed


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
    result = checks.check_receptive_field(wrong)
    assert not result.passed
    assert hint in result.message, result.message
    assert "70" in result.message


def test_receptive_field_other_mistakes():
    assert "whole number" in checks.check_receptive_field(lambda layers: "70").message
    assert "whole number" in checks.check_receptive_field(lambda layers: 70.5).message
    result = checks.check_receptive_field(lambda layers: 70)
    assert not result.passed and "field += (kernel - 1) * jump" in result.message
    result = checks.check_receptive_field(lambda layers: layers[5])
    assert not result.passed and "raised IndexError" in result.message


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
    (lambda s, f, t: _adv(s) + 100 * (f - t).abs().sum(), "not the sum"),
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
     "not the sum"),
    (lambda s, f, t: 100 * (f - t).abs().mean(), "adversarial term is missing"),
    (lambda s, f, t: _adv(s), "L1 term is missing"),
    (lambda s, f, t: 0.5 * (s - 1).square().mean() + 100 * (f - t).abs().mean(), "least-squares"),
    (lambda s, f, t: -s.mean() + 100 * (f - t).abs().mean(), "hinge/Wasserstein"),
    (lambda s, f, t: F.binary_cross_entropy(s, _ones(s)) + 100 * (f - t).abs().mean(), "with_logits"),
]


def test_g_loss_solution_passes():
    result = checks.check_pix2pix_g_loss(_solution("pix2pix_g_loss"))
    assert result.passed, result.message
    assert "2.6931" in result.message


def test_g_loss_with_l1_loss_and_sigmoid_then_bce_passes():
    def g_loss(s, f, t):  # the same loss written another way
        return F.binary_cross_entropy(torch.sigmoid(s), _ones(s)) + 100 * F.l1_loss(f, t)
    assert checks.check_pix2pix_g_loss(g_loss).passed


@pytest.mark.parametrize("wrong, hint", WRONG_LOSSES, ids=[h for _, h in WRONG_LOSSES])
def test_g_loss_slips_get_their_hint(wrong, hint):
    result = checks.check_pix2pix_g_loss(wrong)
    assert not result.passed
    assert hint in result.message, result.message


def test_g_loss_gradient_and_type_mistakes():
    solution = _solution("pix2pix_g_loss")
    result = checks.check_pix2pix_g_loss(lambda s, f, t: float(solution(s, f, t)))
    assert not result.passed and "as a tensor" in result.message
    result = checks.check_pix2pix_g_loss(lambda s, f, t: solution(s.detach(), f.detach(), t))
    assert not result.passed and "no gradient" in result.message
    result = checks.check_pix2pix_g_loss(lambda s, f, t: solution(s, f.detach(), t))
    assert not result.passed and "generated images" in result.message
    result = checks.check_pix2pix_g_loss(lambda s, f, t: solution(s.detach(), f, t))
    assert not result.passed and "patch scores" in result.message
    result = checks.check_pix2pix_g_loss(lambda s, f, t: _adv(s) + 100 * (f - t).abs().mean((1, 2, 3)))
    assert not result.passed and "one number" in result.message

    def in_place(s, f, t):
        t.mul_(0.5)
        return solution(s, f, t)
    assert "in place" in checks.check_pix2pix_g_loss(in_place).message


def test_g_loss_unknown_mistake_gets_the_recipe():
    result = checks.check_pix2pix_g_loss(lambda s, f, t: _adv(s) + 50 * (f - t).abs().mean())
    assert not result.passed
    assert "2.6931" in result.message and "binary_cross_entropy_with_logits" in result.message


# -- both -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("checker, fn", [
    (checks.check_receptive_field, lambda layers: int(torch.randint(1, 100, ()))),
    (checks.check_pix2pix_g_loss, lambda s, f, t: _adv(s) + 100 * (f - t).abs().mean() + 0 * torch.randn(())),
])
def test_checkers_keep_the_random_state(checker, fn):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    checker(fn)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("checker", [checks.check_receptive_field, checks.check_pix2pix_g_loss])
def test_untouched_stub_says_not_done(checker):
    def stub(*args):
        raise NotImplementedError("write it")
    result = checker(stub)
    assert not result.passed and "Not done yet" in result.message
