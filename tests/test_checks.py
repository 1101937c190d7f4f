"""ganlib.checks: the exercise checkers never raise and say what is wrong.

tests/test_exercises.py proves the stubs fail and the solutions pass; this file covers the checkers'
own behaviour on typical wrong answers.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlib.checks import (CheckResult, check_d_step, check_generator_32, check_generator_loss,
                           check_transposed_conv_size)
from ganlib.models import DCGANGenerator

CHECKERS = [check_d_step, check_generator_loss, check_transposed_conv_size, check_generator_32]


def test_check_result_truthiness_and_repr():
    ok, bad = CheckResult(True, "all good"), CheckResult(False, "try again")
    assert bool(ok) is True and bool(bad) is False
    assert repr(ok) == "✅ all good" and repr(bad) == "❌ try again"
    assert ok.passed and ok.message == "all good"


# -- every checker on unfinished or broken functions -----------------------------------------------
def _stub(*args):
    raise NotImplementedError("fill in your code")


def _broken(*args):
    raise ZeroDivisionError("oops")


@pytest.mark.parametrize("checker", CHECKERS)
def test_not_done_yet(checker):
    result = checker(_stub)
    assert isinstance(result, CheckResult) and not result
    assert result.message.startswith("Not done yet") and "NotImplementedError" in result.message


@pytest.mark.parametrize("checker", CHECKERS)
def test_other_error_is_reported(checker):
    result = checker(_broken)
    assert not result and result.message == "Your function raised ZeroDivisionError: oops"


@pytest.mark.parametrize("checker", CHECKERS)
@pytest.mark.parametrize("value", [42, None, "d_step"])
def test_not_callable(checker, value):
    result = checker(value)
    assert not result
    assert result.message.startswith(f"Expected a function, got {type(value).__name__}.")
    assert "without ()" in result.message


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


def real_only_d_step(G, D, opt_d, real, z_dim):
    pr = D(real)
    loss = F.binary_cross_entropy_with_logits(pr, torch.ones_like(pr))
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
    (real_only_d_step, ["only one half"]),
    (lambda G, D, opt_d, real, z_dim: [1.0, 2.0], ["as a number", "got list"]),
])
def test_check_d_step_wrong_answers(fn, words):
    result = check_d_step(fn)
    assert isinstance(result, CheckResult) and not result
    for word in words:
        assert word in result.message, result.message


def test_check_d_step_does_not_disturb_the_global_rng_users():
    result = check_d_step(good_d_step)
    again = check_d_step(good_d_step)
    assert result.message == again.message  # the check is deterministic


# -- check_generator_loss --------------------------------------------------------------------------
def test_check_generator_loss_passes():
    result = check_generator_loss(lambda s: F.binary_cross_entropy_with_logits(s, torch.ones_like(s)))
    assert result and "Non-saturating generator loss correct" in result.message
    assert check_generator_loss(lambda s: -F.logsigmoid(s).mean())


@pytest.mark.parametrize("fn, words", [
    (lambda s: -F.softplus(s).mean(), ["minimax", "saturates", "-log D(G(z))"]),
    (lambda s: torch.log(1 - torch.sigmoid(s)).mean(), ["minimax"]),
    (lambda s: F.softplus(-s).sum(), ["mean over the batch, not the sum"]),
    (lambda s: F.softplus(-s).mean().detach(), ["carries no gradient"]),
    (lambda s: torch.tensor(F.softplus(-s).mean().item()), ["carries no gradient"]),
    (lambda s: F.softplus(-s).mean().item(), ["one number as a tensor", "got float"]),
    (lambda s: F.softplus(-s), ["one number as a tensor", "(10,)"]),
    (lambda s: -torch.log(s).mean(), ["NaN", "logits, not probabilities"]),
    (lambda s: F.softplus(s).mean(), ["Expected", "for logits from -6 to 3"]),
    (lambda s: F.binary_cross_entropy(s, torch.ones_like(s)), ["Your function raised"]),
])
def test_check_generator_loss_wrong_answers(fn, words):
    result = check_generator_loss(fn)
    assert isinstance(result, CheckResult) and not result
    for word in words:
        assert word in result.message, result.message


# -- check_transposed_conv_size --------------------------------------------------------------------
def _size(size, kernel, stride, padding, output_padding=0, dilation=1):
    return (size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def test_check_transposed_conv_size_passes():
    result = check_transposed_conv_size(_size)
    assert result and result.message.startswith("Your formula agrees with nn.ConvTranspose2d on all ")
    assert int(result.message.split("all ")[1].split()[0]) > 100


@pytest.mark.parametrize("fn, words", [
    (lambda n, k, s, p, op=0, d=1: (n - 1) * s - 2 * p + (k - 1) + op + 1, ["dilation=2", "Remember the dilation"]),
    (lambda n, k, s, p, op=0, d=1: (n - 1) * s - 2 * p + d * (k - 1) + 1, ["output_padding=1", "add the kernel's span "
                                                                          "and output_padding"]),
    (lambda n, k, s, p, op=0, d=1: (n + 2 * p - d * (k - 1) - 1) // s + 1, ["PyTorch's ConvTranspose2d gives",
                                                                           "(size - 1) * stride"]),
    (lambda n, k, s, p, op=0, d=1: float(_size(n, k, s, p, op, d)) + 0.5, ["your function gives"]),
])
def test_check_transposed_conv_size_wrong_answers(fn, words):
    result = check_transposed_conv_size(fn)
    assert not result
    if "Remember the dilation" not in words:  # the dilation hint only when dilation is what is missing
        assert "dilation:" not in result.message
    for word in words:
        assert word in result.message, result.message


# -- check_generator_32 ----------------------------------------------------------------------------
def _dcgan_32(z_dim, tanh=True, last=(4, 2, 1)):
    layers = [
        nn.Unflatten(1, (z_dim, 1, 1)),
        nn.ConvTranspose2d(z_dim, 16, 4, 1, 0, bias=False), nn.BatchNorm2d(16), nn.ReLU(True),
        nn.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(True),
        nn.ConvTranspose2d(8, 4, 4, 2, 1, bias=False), nn.BatchNorm2d(4), nn.ReLU(True),
        nn.ConvTranspose2d(4, 1, *last),
    ]
    return nn.Sequential(*layers, *([nn.Tanh()] if tanh else []))


def test_check_generator_32_passes():
    assert check_generator_32(_dcgan_32)
    result = check_generator_32(lambda z_dim: DCGANGenerator(z_dim, img_size=32, width=4))
    assert result and "1x32x32" in result.message


class _Unused(nn.Module):
    def __init__(self, z_dim):
        super().__init__()
        self.spare = nn.Linear(3, 3)  # never used in forward
        self.net = _dcgan_32(z_dim)

    def forward(self, z):
        return self.net(z)


@pytest.mark.parametrize("build, words", [
    (lambda z_dim: _dcgan_32(z_dim, tanh=False), ["End with nn.Tanh()", "[-1, 1]"]),
    (lambda z_dim: _dcgan_32(z_dim, last=(3, 2, 1)), ["(4, 1, 32, 32)", "got (4, 1, 31, 31)", "1 -> 4 -> 8"]),
    (lambda z_dim: DCGANGenerator(z_dim, img_size=28, width=4), ["got (4, 1, 28, 28)"]),
    (lambda z_dim: DCGANGenerator(z_dim, img_size=64, width=2), ["got (4, 1, 64, 64)"]),
    (lambda z_dim: nn.Sequential(nn.Linear(z_dim, 1024), nn.Tanh(), nn.Unflatten(1, (1, 32, 32))),
     ["nn.ConvTranspose2d", "none"]),
    (lambda z_dim: nn.Sequential(nn.Linear(z_dim, 16 * 16), nn.Unflatten(1, (1, 16, 16)),
                                 nn.ConvTranspose2d(1, 1, 4, 2, 1), nn.Tanh()), ["at least two"]),
    (lambda z_dim: nn.Sequential(*[m for m in _dcgan_32(z_dim) if not isinstance(m, nn.BatchNorm2d)]),
     ["nn.BatchNorm2d"]),
    (lambda z_dim: _dcgan_32(64), ["fails on noise of shape (4, 100) and (4, 100, 1, 1)", "RuntimeError"]),
    (lambda z_dim: "a generator", ["Return an nn.Module", "got str"]),
    (_Unused, ["get no gradient", "spare.weight"]),
])
def test_check_generator_32_wrong_answers(build, words):
    result = check_generator_32(build)
    assert isinstance(result, CheckResult) and not result
    for word in words:
        assert word in result.message, result.message


@pytest.mark.parametrize("checker, fn", [
    (check_generator_loss, lambda s: F.binary_cross_entropy_with_logits(s, torch.ones_like(s))),
    (check_generator_loss, lambda s: F.softplus(s).mean()),
    (check_d_step, good_d_step),
    (check_d_step, sigmoid_d_step),
    (check_d_step, real_only_d_step),
])
def test_checkers_print_no_pytorch_warnings(checker, fn, recwarn):
    checker(fn)
    assert [str(w.message) for w in recwarn] == []
