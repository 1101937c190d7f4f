"""Lesson 06 (CycleGAN): every hint of check_identity_loss, check_cycle_consistency and check_pool_query, each
triggered by a wrong answer; the random state is kept."""

import pytest
import torch
import torch.nn.functional as F

from ganlib.checks import check_cycle_consistency, check_identity_loss, check_pool_query
from ganlib.papers.cyclegan import CYCLE_WEIGHT, ImagePool, cycle_loss, identity_loss

NB = "06_cyclegan"


# -- identity ---------------------------------------------------------------------------------------
def test_identity_solution_passes(solution):
    result = check_identity_loss(solution(NB, "identity_term"))
    assert result.passed, result.message


def test_identity_with_the_library_pieces_passes():
    def with_ganlib(G_AB, G_BA, a, b):
        return identity_loss(G_AB(b), b) + identity_loss(G_BA(a), a)

    assert check_identity_loss(with_ganlib).passed


@pytest.mark.parametrize("fn, words", [
    (lambda G, F_, a, b: F.l1_loss(G(a), a) + F.l1_loss(F_(b), b), "not to translate at all"),
    (lambda G, F_, a, b: F.l1_loss(G(b), a) + F.l1_loss(F_(a), b), "unpaired, unrelated"),
    (lambda G, F_, a, b: F.l1_loss(G(b), b), "only G_AB's term"),
    (lambda G, F_, a, b: F.l1_loss(F_(a), a), "only G_BA's term"),
    (lambda G, F_, a, b: 0.5 * (F.l1_loss(G(b), b) + F.l1_loss(F_(a), a)), "average"),
    (lambda G, F_, a, b: 5 * (F.l1_loss(G(b), b) + F.l1_loss(F_(a), a)), "without its weight"),
    (lambda G, F_, a, b: 10 * (F.l1_loss(G(b), b) + F.l1_loss(F_(a), a)), "0.5 λ = 5, not λ"),
    (lambda G, F_, a, b: F.mse_loss(G(b), b) + F.mse_loss(F_(a), a), "squared (L2)"),
    (lambda G, F_, a, b: F.l1_loss(G(b), b, reduction="sum") + F.l1_loss(F_(a), a, reduction="sum"), "sum over all"),
    (lambda G, F_, a, b: (F.l1_loss(G(b), b) + F.l1_loss(F_(a), a)).detach(), "carries no gradient"),
    (lambda G, F_, a, b: F.l1_loss(G(b).detach() * 1, b) + F.l1_loss(F_(a), a) + 0 * G(b).sum(),
     "does not reach both generators"),
    (lambda G, F_, a, b: (G(b) - b).abs().mean((1, 2, 3)) + (F_(a) - a).abs().mean((1, 2, 3)), "Return one number"),
    (lambda G, F_, a, b: 1.0, "as a tensor"),
    (lambda G, F_, a, b: F.l1_loss(G(b), b) + F.l1_loss(F_(b), b), "which images each generator"),
])
def test_identity_typical_slips_get_their_hint(fn, words):
    result = check_identity_loss(fn)
    assert not result.passed and words in result.message, result.message


def test_identity_check_leaves_the_random_state_alone():
    torch.manual_seed(3)
    before = torch.random.get_rng_state()
    check_identity_loss(lambda G, F_, a, b: F.l1_loss(G(b), b) + F.l1_loss(F_(a), a) + 0 * torch.rand(()))
    assert torch.equal(before, torch.random.get_rng_state())


# -- cycle consistency -----------------------------------------------------------------------------
def test_cycle_solution_passes(solution):
    result = check_cycle_consistency(solution(NB, "cycle_consistency"))
    assert result.passed, result.message


def test_cycle_with_the_library_pieces_passes():
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
    (lambda G, F_, a, b: 10 * (F.l1_loss(F_(G(a)), a) + F.l1_loss(G(F_(b)), a)), "Compute 10 * (mean |G_BA(G_AB(a))"),
])
def test_cycle_typical_slips_get_their_hint(fn, words):
    result = check_cycle_consistency(fn)
    assert not result.passed and words in result.message, result.message


# -- the image pool --------------------------------------------------------------------------------
def test_pool_solution_passes(solution):
    result = check_pool_query(solution(NB, "pool_query"))
    assert result.passed, result.message


def test_pool_rules_agree_with_ganlib_image_pool():
    """ganlib.papers.cyclegan.ImagePool follows the rules the exercise checks (one query, the same draws)."""
    def via_image_pool(pool_images, fakes, size, p, generator):
        pool = ImagePool(size, swap_probability=p)
        pool.images, pool._generator = pool_images, generator
        return pool(fakes)

    result = check_pool_query(via_image_pool)
    assert result.passed, result.message


def _variant(*, detach=True, cap=True, flip=False, replace=True, store_returned=False, uniform=True,
             global_rng=False, stack=True, size0=True, zero_is_unbounded=False, fill_returns_random=False,
             take_out=False, index_first=False, store=lambda fake: fake, returns=True):
    """The solution, or the same code with one of the usual slips (see the keyword arguments)."""
    def pool_query(pool_images, fakes, size, p, generator):
        if detach:
            fakes = fakes.detach()
        if size == 0 and size0 and not zero_is_unbounded:
            return fakes
        gen = None if global_rng else generator
        out = []
        for fake in fakes:
            if len(pool_images) < size or not cap or (zero_is_unbounded and size == 0):
                pool_images.append(store(fake))
                if fill_returns_random:  # "the pool always hands back a random stored image"
                    out.append(pool_images[int(torch.randint(len(pool_images), (), generator=gen))])
                else:
                    out.append(fake)
                continue
            i = int(torch.randint(size, (), generator=gen)) if index_first else None
            draw = float(torch.rand((), generator=gen))
            if (draw >= p) if flip else (draw < p):
                if i is None:
                    i = int(torch.randint(size, (), generator=gen)) if uniform else 0
                out.append(pool_images.pop(i) if take_out else pool_images[i])
                if replace and not take_out:
                    pool_images[i] = fake
            else:
                out.append(fake)
                if store_returned:
                    pool_images[int(torch.randint(size, (), generator=gen))] = fake
        if returns:
            return torch.stack(out) if stack else out
    return pool_query


def test_pool_variant_without_slips_passes():
    assert check_pool_query(_variant()).passed
    assert check_pool_query(_variant(index_first=True)).passed  # another order of the draws is fine


@pytest.mark.parametrize("kwargs, words", [
    # what comes back, and what the pool holds
    (dict(stack=False), "torch.stack"),
    (dict(returns=False), "Return a batch of the shape of `fakes`, (4, 1, 2, 2); got NoneType"),
    (dict(store=lambda fake: fake.numpy()), "Keep the pool as the list you are given"),
    # 1. filling up
    (dict(fill_returns_random=True), "While the pool is not full, return the new fakes themselves"),
    (dict(detach=False), ".detach()"),
    # 2. full at 10
    (dict(cap=False), "at most 10 images"),
    # 3. size 0
    (dict(size0=False), "size = 0, which means no pool"),
    (dict(zero_is_unbounded=True), "With size = 0 there is no pool"),  # as queue.Queue(maxsize=0)
    # 4. many queries on a full pool
    (dict(take_out=True, index_first=True), "Once full, the pool must stay at its size (50)"),
    (dict(flip=True), "That is 1 - p"),
    (dict(replace=False), "lost or duplicated"),
    (dict(store_returned=True), "lost or duplicated"),
    (dict(uniform=False), "uniformly at random"),
    # 5. its own random numbers
    (dict(global_rng=True), "generator=generator"),
])
def test_pool_typical_slips_get_their_hint(kwargs, words):
    result = check_pool_query(_variant(**kwargs))
    assert not result.passed and words in result.message, result.message


def test_pool_that_never_swaps_or_always_swaps_is_caught():
    never = check_pool_query(lambda pool, fakes, size, p, gen: _variant()(pool, fakes, size, 0.0, gen))
    assert not never.passed and "about 50%" in never.message and "yours did for 0%" in never.message
    assert "swap when it is below p" in never.message
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
@pytest.mark.parametrize("checker, name", [(check_cycle_consistency, "cycle_consistency"),
                                           (check_pool_query, "pool_query")])
def test_checkers_keep_the_notebooks_random_state(checker, name, solution, keeps_random_state):
    assert keeps_random_state(checker, solution(NB, name)).passed


def test_pool_check_keeps_the_random_state_of_a_pool_on_global_numbers(keeps_random_state):
    """Even a pool that (wrongly) draws from the global random numbers leaves the notebook's state as it was."""
    assert not keeps_random_state(check_pool_query, _variant(global_rng=True)).passed
