"""The lesson 06 checkers: the solutions pass, each typical slip gets its own hint, the random state is kept."""

import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ganlib.checks import check_cycle_consistency, check_pool_query
from ganlib.translation import ImagePool

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("solutions_06", ROOT / "solutions" / "06_cyclegan.py")
solutions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(solutions)


# -- cycle consistency -----------------------------------------------------------------------------
def test_cycle_solution_passes():
    result = check_cycle_consistency(solutions.cycle_consistency)
    assert result.passed, result.message


def test_cycle_with_the_library_pieces_passes():
    from ganlib.translation import CYCLE_WEIGHT, cycle_loss

    def with_ganlib(G_AB, G_BA, a, b):
        return CYCLE_WEIGHT * (cycle_loss(G_BA(G_AB(a)), a) + cycle_loss(G_AB(G_BA(b)), b))

    assert check_cycle_consistency(with_ganlib).passed


@pytest.mark.parametrize("fn, words", [
    (lambda G, F_, a, b: F.l1_loss(F_(G(a)), a) + F.l1_loss(G(F_(b)), b), "without λ"),
    (lambda G, F_, a, b: 10 * F.l1_loss(F_(G(a)), a), "only the A -> B -> A cycle"),
    (lambda G, F_, a, b: 10 * F.l1_loss(G(F_(b)), b), "only the B -> A -> B cycle"),
    (lambda G, F_, a, b: 5 * (F.l1_loss(F_(G(a)), a) + F.l1_loss(G(F_(b)), b)), "identity loss's weight"),
    (lambda G, F_, a, b: 10 * (F.mse_loss(F_(G(a)), a) + F.mse_loss(G(F_(b)), b)), "squared (L2)"),
    (lambda G, F_, a, b: 10 * (F.l1_loss(G(a), a) + F.l1_loss(F_(b), b)), "compares G_AB(a) with a"),
    (lambda G, F_, a, b: 10 * (F.l1_loss(G(F_(a)), a) + F.l1_loss(F_(G(b)), b)), "wrong order"),
    (lambda G, F_, a, b: 10 * (F.l1_loss(F_(G(a)), a, reduction="sum") + F.l1_loss(G(F_(b)), b, reduction="sum")),
     "sum over all pixels"),
    (lambda G, F_, a, b: 10 * (F.l1_loss(F_(G(a).detach()), a) + F.l1_loss(G(F_(b).detach()), b)),
     "does not reach both generators"),
    (lambda G, F_, a, b: (10 * (F.l1_loss(F_(G(a)), a) + F.l1_loss(G(F_(b)), b))).detach(), "carries no gradient"),
    (lambda G, F_, a, b: torch.tensor(float((10 * (F.l1_loss(F_(G(a)), a) + F.l1_loss(G(F_(b)), b))).detach())),
     "carries no gradient"),
    (lambda G, F_, a, b: 10 * ((F_(G(a)) - a).abs().mean((1, 2, 3)) + (G(F_(b)) - b).abs().mean((1, 2, 3))),
     "Return one number"),
    (lambda G, F_, a, b: 3.0, "as a tensor"),
    (lambda G, F_, a, b: 10 * (F.l1_loss(F_(G(a)), a) + F.l1_loss(G(F_(b)), a)), "should be"),
])
def test_cycle_typical_slips_get_their_hint(fn, words):
    result = check_cycle_consistency(fn)
    assert not result.passed and words in result.message, result.message


# -- the image pool --------------------------------------------------------------------------------
def test_pool_solution_passes():
    result = check_pool_query(solutions.pool_query)
    assert result.passed, result.message


def test_pool_rules_agree_with_ganlib_image_pool():
    """ganlib.translation.ImagePool follows the rules the exercise checks (one query, the same draws)."""
    def via_image_pool(pool_images, fakes, size, p, generator):
        pool = ImagePool(size, swap_probability=p)
        pool.images, pool._generator = pool_images, generator
        return pool(fakes)

    result = check_pool_query(via_image_pool)
    assert result.passed, result.message


def _variant(*, detach=True, cap=True, flip=False, replace=True, store_returned=False, uniform=True,
             global_rng=False, stack=True, size0=True):
    def pool_query(pool_images, fakes, size, p, generator):
        if detach:
            fakes = fakes.detach()
        if size == 0 and size0:
            return fakes
        gen = None if global_rng else generator
        out = []
        for fake in fakes:
            if len(pool_images) < size or not cap:
                pool_images.append(fake)
                out.append(fake)
                continue
            draw = float(torch.rand((), generator=gen))
            if (draw >= p) if flip else (draw < p):
                i = int(torch.randint(size, (), generator=gen)) if uniform else 0
                out.append(pool_images[i])
                if replace:
                    pool_images[i] = fake
            else:
                out.append(fake)
                if store_returned:
                    pool_images[int(torch.randint(size, (), generator=gen))] = fake
        return torch.stack(out) if stack else out
    return pool_query


@pytest.mark.parametrize("kwargs, words", [
    (dict(detach=False), ".detach()"),
    (dict(cap=False), "at most 10 images"),
    (dict(flip=True), "That is 1 - p"),
    (dict(replace=False), "lost or duplicated"),
    (dict(store_returned=True), "lost or duplicated"),
    (dict(uniform=False), "uniformly at random"),
    (dict(global_rng=True), "generator=generator"),
    (dict(stack=False), "torch.stack"),
    (dict(size0=False), "size = 0, which means no pool"),
])
def test_pool_typical_slips_get_their_hint(kwargs, words):
    result = check_pool_query(_variant(**kwargs))
    assert not result.passed and words in result.message, result.message


def test_pool_that_never_swaps_or_always_swaps_is_caught():
    never = check_pool_query(lambda pool, fakes, size, p, gen: _variant()(pool, fakes, size, 0.0, gen))
    assert not never.passed and "about 50%" in never.message and "yours did for 0%" in never.message
    always = check_pool_query(lambda pool, fakes, size, p, gen: _variant()(pool, fakes, size, 1.0, gen))
    assert not always.passed and "yours did for 100%" in always.message


def test_pool_that_returns_stored_images_while_filling_is_caught():
    def wrong(pool_images, fakes, size, p, generator):
        for fake in fakes.detach():
            if len(pool_images) < size:
                pool_images.append(fake)
        return torch.stack(pool_images[:len(fakes)])

    result = check_pool_query(wrong)
    assert not result.passed and "stored and returned as they are" in result.message


def test_pool_that_stores_nothing_is_caught():
    result = check_pool_query(lambda pool, fakes, size, p, gen: fakes.detach())
    assert not result.passed and "store every new fake" in result.message


# -- both ------------------------------------------------------------------------------------------
def _stub(*args):
    raise NotImplementedError("later")


@pytest.mark.parametrize("checker", [check_cycle_consistency, check_pool_query])
def test_untouched_stub_and_errors(checker):
    assert "Not done yet" in checker(_stub).message
    assert "raised ZeroDivisionError" in checker(lambda *args: 1 / 0).message
    assert "Expected a function" in checker(3).message


@pytest.mark.parametrize("checker, fn", [(check_cycle_consistency, solutions.cycle_consistency),
                                         (check_pool_query, solutions.pool_query)])
def test_checkers_keep_the_notebooks_random_state(checker, fn):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    assert checker(fn).passed
    assert torch.equal(torch.get_rng_state(), state)
