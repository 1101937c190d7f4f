"""Lesson 03 (conditional GANs): every hint of check_label_maps and check_projection_score, each triggered by a
wrong answer."""

import pytest
import torch
import torch.nn.functional as F

from ganlib.checks import check_label_maps, check_projection_score, check_wrong_labels

NB = "03_cgan"


# -- check_label_maps ------------------------------------------------------------------------------
def _one_hot(labels, n_classes):
    return F.one_hot(labels, n_classes).float()


def _index_all_images(labels, n_classes, size):
    """maps[:, labels] = 1 lights the channel of every label in *every* image."""
    maps = torch.zeros(len(labels), n_classes, size, size)
    maps[:, labels] = 1
    return maps


def test_label_maps_solution_passes(solution):
    result = check_label_maps(solution(NB, "label_maps"))
    assert result.passed, result.message


def test_label_maps_with_repeat_passes():
    assert check_label_maps(lambda y, n, s: _one_hot(y, n)[:, :, None, None].repeat(1, 1, s, s)).passed


@pytest.mark.parametrize("fn, words", [
    (lambda y, n, s: _one_hot(y, n)[:, :, None, None].expand(-1, -1, s, s).tolist(), "Return a tensor; got list"),
    (lambda y, n, s: _one_hot(y, n)[:, None, None, :].expand(-1, s, s, -1), "classes are in the last dimension"),
    (lambda y, n, s: _one_hot(y, n), "expected shape (4, 10, 28, 28), got (4, 10)"),
    (lambda y, n, s: F.one_hot(y, n)[:, :, None, None].expand(-1, -1, s, s), "Return floats"),
    (_index_all_images, "Wrong values for labels [3, 0, 9, 3]"),
])
def test_label_maps_slips_get_their_hint(fn, words):
    result = check_label_maps(fn)
    assert not result.passed and words in result.message, result.message


# -- check_projection_score ------------------------------------------------------------------------
def _inner(features, labels, embed):
    return (embed(labels) * features).sum(1)


def test_projection_score_solution_passes(solution):
    result = check_projection_score(solution(NB, "projection_score"))
    assert result.passed, result.message


def test_projection_score_with_einsum_passes():
    def score(f, y, psi, embed):
        return psi(f).squeeze(1) + torch.einsum("nd,nd->n", embed(y), f)
    assert check_projection_score(score).passed


@pytest.mark.parametrize("fn, words", [
    (lambda f, y, psi, e: (psi(f).view(-1) + _inner(f, y, e)).tolist(), "Return a tensor of scores; got list"),
    (lambda f, y, psi, e: psi(f) + (e(y) * f).sum(1, keepdim=True), "psi returns (N, 1)"),
    (lambda f, y, psi, e: psi(f) + f @ e.weight.T, "you scored every class"),
    (lambda f, y, psi, e: psi(f) + _inner(f, y, e), "shape (5,), got (5, 5)"),  # (N, 1) + (N,) broadcasts
    (lambda f, y, psi, e: _inner(f, y, e), "Only the class term"),
    (lambda f, y, psi, e: psi(f).view(-1), "Only psi(features): the label is ignored"),
    (lambda f, y, psi, e: psi(f).view(-1) + (e(y) * f).mean(1), "Wrong values"),
    (lambda f, y, psi, e: (psi(f).view(-1) + _inner(f, y, e)).detach(), "carry no gradient"),
    (lambda f, y, psi, e: psi(f).view(-1) + (e.weight.data[y] * f).sum(1), "reach both psi and embed"),
    (lambda f, y, psi, e: psi(f).view(-1).detach() + _inner(f, y, e), "reach both psi and embed"),
])
def test_projection_score_slips_get_their_hint(fn, words):
    result = check_projection_score(fn)
    assert not result.passed and words in result.message, result.message


# -- both ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("checker, name", [(check_label_maps, "label_maps"),
                                           (check_projection_score, "projection_score")])
def test_checkers_keep_the_random_state(checker, name, solution, keeps_random_state):
    assert keeps_random_state(checker, solution(NB, name)).passed


# -- check_wrong_labels ----------------------------------------------------------------------------
def test_wrong_labels_solution_passes(solution):
    result = check_wrong_labels(solution(NB, "wrong_labels"))
    assert result.passed, result.message


def _redraw_until_wrong(labels, n_classes):
    """Another right answer: draw uniformly and redraw the entries that hit the right label."""
    wrong = torch.randint(0, n_classes, labels.shape)
    while (hit := wrong == labels).any():
        wrong[hit] = torch.randint(0, n_classes, (int(hit.sum()),))
    return wrong


def test_wrong_labels_by_redrawing_passes():
    assert check_wrong_labels(_redraw_until_wrong).passed


@pytest.mark.parametrize("fn, words", [
    (lambda y, n: ((y + torch.randint(1, n, y.shape)) % n).tolist(), "Return a tensor of class indices; got list"),
    (lambda y, n: torch.randint(0, n, y.shape), "are the right one"),
    (lambda y, n: (y + 1) % n, "never come up"),
    (lambda y, n: ((y + torch.randint(1, n, y.shape)) % n).float(), "int64"),
    (lambda y, n: y + torch.randint(1, n, y.shape), "run from 0 to n_classes - 1"),
    (lambda y, n: (y + torch.randint(1, n, y.shape)) % n, None),
    (lambda y, n: (y + 1 + 2 * torch.randint(0, 4, y.shape)) % n, "never come up"),
    (lambda y, n: torch.where(torch.rand(y.shape) < 0.5, (y + 1) % n, (y + torch.randint(1, n, y.shape)) % n),
     "not equally likely"),
    (lambda y, n: (y + torch.randint(1, 10, y.shape)) % 10, "Use n_classes, not 10"),
    (lambda y, n: ((y + torch.randint(1, n, y.shape)) % n)[::2], "expected shape (9000,)"),
])
def test_wrong_labels_slips_get_their_hint(fn, words):
    result = check_wrong_labels(fn)
    if words is None:
        assert result.passed, result.message
    else:
        assert not result.passed and words in result.message, result.message
