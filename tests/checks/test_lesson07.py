"""Lesson 07 (InfoGAN): every hint of check_categorical_info_loss and check_code_reading, each triggered by a
wrong answer."""

import pytest
import torch
import torch.nn.functional as F

from ganlib.checks import check_categorical_info_loss, check_code_reading

NB = "07_infogan"


# -- check_categorical_info_loss -------------------------------------------------------------------
def test_info_loss_solution_passes_and_keeps_the_random_state(solution, keeps_random_state):
    result = keeps_random_state(check_categorical_info_loss, solution(NB, "categorical_info_loss"))
    assert result.passed, result.message


def test_info_loss_with_log_softmax_and_nll_passes():
    assert check_categorical_info_loss(lambda s, c: F.nll_loss(F.log_softmax(s, 1), c)).passed


@pytest.mark.parametrize("fn, words", [
    (lambda s, c: torch.log(torch.softmax(s, 1))[torch.arange(len(c)), c].mean().neg(), "exp() overflows or log(0)"),
    (lambda s, c: -torch.log(torch.exp(s) / torch.exp(s).sum(1, keepdim=True))[torch.arange(len(c)), c].mean(), "overflows"),
    (lambda s, c: -F.cross_entropy(s, c), "sign is flipped"),
    (lambda s, c: torch.log(torch.tensor(4.0)) - F.cross_entropy(s, c), "to *maximise*"),
    (lambda s, c: F.cross_entropy(s.softmax(1), c), "applied softmax before"),
    (lambda s, c: F.nll_loss(s, c), "log-probabilities"),
    (lambda s, c: F.cross_entropy(s, c, reduction="sum"), "not the sum"),
    (lambda s, c: F.cross_entropy(s, c, reduction="none"), "one value per image"),
    (lambda s, c: F.cross_entropy(s, c).item(), "as a tensor"),
    (lambda s, c: F.cross_entropy(s, c).detach(), "no gradient"),
    (lambda s, c: F.cross_entropy(s, (c + 1) % 4), "Expected"),
])
def test_info_loss_slips_get_their_hint(fn, words):
    result = check_categorical_info_loss(fn)
    assert not result.passed and words in result.message, result.message


# -- check_code_reading ----------------------------------------------------------------------------
def test_code_reading_solution_passes(solution, keeps_random_state):
    result = keeps_random_state(check_code_reading, solution(NB, "read_codes"))
    assert result.passed, result.message


def _largest(r, keep_sign=False, threshold=0.5, prefixes=("c1", "c2")):
    out = {}
    for m in ("width", "slant"):
        key = max((f"{p}_{m}" for p in prefixes), key=lambda k: r[k] if keep_sign else abs(r[k]))
        value = r[key] if keep_sign else abs(r[key])
        out[m] = (int(key[1]) if key[0] == "c" else key) if value >= threshold else None
    return out


@pytest.mark.parametrize("fn, words", [
    (lambda r: _largest(r, keep_sign=True), "both correlations negative"),
    (lambda r: _largest(r, threshold=0.0), "no code reaches"),
    (lambda r: _largest(r, prefixes=("c1", "c2", "z1", "z2")), "noise dimension"),
    (lambda r: {"width": 1, "slant": 2}, "expected"),
    (lambda r: {"width": "code 1", "slant": 2}, "got 'code 1'"),
    (lambda r: [1, 2], "keys 'width' and 'slant'"),
    (lambda r: {"width": 1}, "keys 'width' and 'slant'"),
])
def test_code_reading_slips_get_their_hint(fn, words):
    result = check_code_reading(fn)
    assert not result.passed and words in result.message, result.message
