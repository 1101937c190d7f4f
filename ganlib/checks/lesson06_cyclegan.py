"""Lesson 06 (notebooks/06_cyclegan.ipynb): the checkers of CycleGAN's exercises, the identity loss (which
images go through which generator), the cycle-consistency loss and one query of the image pool.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor, nn

from .core import CheckResult, _fail, _rng_safe, _scalar, _slip_hint, _with_hint


class _Squash(nn.Module):
    """A stand-in generator for the lesson 06 checks: tanh(w·x + b) pixel by pixel, with trainable w and b."""

    def __init__(self, w: float, b: float) -> None:
        super().__init__()
        self.w, self.b = nn.Parameter(torch.tensor(w)), nn.Parameter(torch.tensor(b))

    def forward(self, x: Tensor) -> Tensor:
        return torch.tanh(self.w * x + self.b)


def _l1(x: Tensor, y: Tensor) -> Tensor:
    return (x - y).abs().mean()


def _gradients_match(value: Tensor, reference: Tensor, nets: tuple[nn.Module, ...]) -> bool:
    """Whether ``value`` sends the same gradient into every parameter of ``nets`` as ``reference``."""
    params = [p for net in nets for p in net.parameters()]
    want = torch.autograd.grad(reference, params)
    for net in nets:
        net.zero_grad(set_to_none=True)
    value.backward()
    got = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    return all(torch.allclose(g, w, rtol=1e-4, atol=1e-6) for g, w in zip(got, want))


def _loss_on_test_batch(fn: Callable[..., Any], args: tuple, what: str, expected: float,
                        slips: dict[float, str], otherwise: str) -> tuple[Any, float | None, CheckResult | None]:
    """Call the learner's loss on the test batch; ``(value, number, None)`` when it gives ``expected``,
    else an error that names the matching slip (or says ``otherwise``)."""
    value, error = _rng_safe(fn, *args)
    if error is not None:
        return None, None, error
    got, error = _scalar(value, what)
    if error is not None:
        return None, None, error
    if not math.isclose(got, expected, rel_tol=1e-4):
        hint = _slip_hint(got, slips) or otherwise
        return None, None, _fail(f"On the test batch the loss should be {expected:.4f}; yours gives {got:.4f}. {hint}")
    return value, got, None


def check_identity_loss(identity_fn: Callable[[nn.Module, nn.Module, Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 06: ``identity_fn(G_AB, G_BA, a, b)`` = mean |G_AB(b) - b| + mean |G_BA(a) - a|, unweighted.

    The decision the exercise asks for is which images each generator gets: the ones already in the
    domain it translates *to*. Feeding each its own domain (``G_AB(a) ≈ a``) would ask it not to translate.
    """
    gen = torch.Generator().manual_seed(16)
    a = torch.rand(6, 1, 5, 5, generator=gen) * 2 - 1
    b = torch.rand(6, 1, 5, 5, generator=gen) * 2 - 1
    G_AB, G_BA = _Squash(1.5, 0.3), _Squash(0.7, -0.2)
    with torch.no_grad():
        right_b, right_a = float(_l1(G_AB(b), b)), float(_l1(G_BA(a), a))
        expected = right_b + right_a
        wrong = {  # what common slips give, and what to say about them
            float(_l1(G_AB(a), a) + _l1(G_BA(b), b)):
                "Each generator got images of the domain it translates *from*: G_AB(a) ≈ a asks G_AB to leave thin "
                "digits thin, that is, not to translate at all, which fights the adversarial loss. The identity "
                "loss feeds each generator an image that is already in its *target* domain: b to G_AB, a to G_BA.",
            float(_l1(G_AB(b), a) + _l1(G_BA(a), b)):
                "That compares each output with an image of the other domain. a and b are unpaired, unrelated "
                "images: compare each generator's output with its own input.",
            right_b: "That is only G_AB's term. Add G_BA's: the other generator, given an image of its target domain.",
            right_a: "That is only G_BA's term. Add G_AB's: the other generator, given an image of its target domain.",
            0.5 * expected: "That is the average of the two generators' terms; add them, as the cycle loss adds its "
                            "two directions.",
            5.0 * expected: "Return the term without its weight: the generator step multiplies it by "
                            "IDENTITY_WEIGHT (0.5 λ = 5), so that the ablation can switch it off.",
            10.0 * expected: "Return the term without a weight: the generator step multiplies it by "
                             "IDENTITY_WEIGHT (0.5 λ = 5, not λ), so that the ablation can switch it off.",
            float((G_AB(b) - b).square().mean() + (G_BA(a) - a).square().mean()):
                "That is the squared (L2) error. CycleGAN measures the identity term with L1, like the cycle loss.",
            float((G_AB(b) - b).abs().sum() + (G_BA(a) - a).abs().sum()):
                "That is the sum over all pixels; take the mean, as the cycle loss does.",
        }
    value, got, error = _loss_on_test_batch(
        identity_fn, (G_AB, G_BA, a, b), "the identity loss", expected, wrong,
        "Ask yourself which images each generator should leave unchanged, and measure the change with the mean "
        "absolute error, one term per generator.")
    if error is not None:
        return error
    if value.grad_fn is None:
        return _fail("Your loss has the right value but carries no gradient, so it cannot train the generators. "
                     "Do not compute it under torch.no_grad() or call .detach() / .item() on it.")
    if not _gradients_match(value, _l1(G_AB(b), b) + _l1(G_BA(a), a), (G_AB, G_BA)):
        return _fail("Your loss has the right value, but its gradient does not reach both generators as it should. "
                     "Do not detach the generators' outputs.")
    return CheckResult(True, f"Identity loss correct: each generator is shown images of its target domain and asked "
                             f"to leave them alone, L1, both generators ({got:.4f} on the test batch).")


def check_cycle_consistency(cycle_fn: Callable[[nn.Module, nn.Module, Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 06: ``cycle_fn(G_AB, G_BA, a, b)`` = λ (mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|), λ = 10."""
    lam = 10.0
    gen = torch.Generator().manual_seed(6)
    a = torch.rand(6, 1, 5, 5, generator=gen) * 2 - 1
    b = torch.rand(6, 1, 5, 5, generator=gen) * 2 - 1
    G_AB, G_BA = _Squash(1.5, 0.3), _Squash(0.7, -0.2)
    l1 = _l1

    def l2(x: Tensor, y: Tensor) -> Tensor:
        return (x - y).square().mean()

    with torch.no_grad():
        rec_a, rec_b = G_BA(G_AB(a)), G_AB(G_BA(b))
        right_a, right_b = float(l1(rec_a, a)), float(l1(rec_b, b))
        expected = lam * (right_a + right_b)
        wrong = {  # what common slips give, and what to say about them
            right_a + right_b: "That is the sum without λ: multiply it by λ = 10 (ganlib.papers.cyclegan.CYCLE_WEIGHT).",
            lam * right_a: "That is only the A -> B -> A cycle. Add the other direction, |G_AB(G_BA(b)) - b|.",
            lam * right_b: "That is only the B -> A -> B cycle. Add the other direction, |G_BA(G_AB(a)) - a|.",
            0.5 * lam * (right_a + right_b): "That is λ times the average of the two directions, or λ = 5 (which is "
                                             "the identity loss's weight). Add the two cycle losses and multiply by 10.",
            lam * float(l2(rec_a, a) + l2(rec_b, b)): "That is the squared (L2) error. CycleGAN uses the L1 error, "
                                                     "the mean of |reconstruction - original|, which blurs less.",
            lam * float(l1(G_AB(a), a) + l1(G_BA(b), b)): "That compares G_AB(a) with a. The cycle goes there and "
                                                         "back: compare G_BA(G_AB(a)) with a (and G_AB(G_BA(b)) with b).",
            lam * float(l1(G_AB(G_BA(a)), a) + l1(G_BA(G_AB(b)), b)): "The generators are applied in the wrong "
                "order: a is in domain A, so it goes through G_AB first and comes back with G_BA: G_BA(G_AB(a)).",
            lam * float((rec_a - a).abs().sum() + (rec_b - b).abs().sum()): "That is the sum over all pixels; take "
                                                                           "the mean (as F.l1_loss does).",
        }
    value, got, error = _loss_on_test_batch(
        cycle_fn, (G_AB, G_BA, a, b), "the cycle-consistency loss", expected, wrong,
        "Compute 10 * (mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|).")
    if error is not None:
        return error

    # The loss must train both generators, through both cycles.
    if value.grad_fn is None:
        return _fail("Your loss has the right value but carries no gradient, so it cannot train the generators. "
                     "Do not compute it under torch.no_grad() or call .detach() / .item() on it.")
    if not _gradients_match(value, lam * (l1(G_BA(G_AB(a)), a) + l1(G_AB(G_BA(b)), b)), (G_AB, G_BA)):
        return _fail("Your loss has the right value, but its gradient does not reach both generators fully. Do not "
                     "detach the translations: in G_BA(G_AB(a)) the error must flow back through G_BA *and* G_AB, "
                     "so that the generator that made the translation learns to keep what is needed to undo it.")
    return CheckResult(True, f"Cycle-consistency loss correct: λ = 10 times the L1 error of both round trips, with "
                             f"gradients through both generators ({got:.4f} on the test batch).")


def _tagged(tags: list[float] | Tensor) -> list[Tensor]:
    """Images (1, 2, 2) whose pixels all hold one tag value, so every image can be recognised later."""
    return [torch.full((1, 2, 2), float(t)) for t in tags]


def _tags(images: Any) -> list[float]:
    return [round(float(x.detach().flatten()[0]), 4) for x in images]


def _pool_call(pool_fn: Callable[..., Any], pool: list[Tensor], fakes: Tensor, size: int, p: float,
               seed: int, global_seed: int = 4) -> tuple[Tensor | None, CheckResult | None]:
    gen = torch.Generator().manual_seed(seed)
    out, error = _rng_safe(pool_fn, pool, fakes, size, p, gen, seed=global_seed)
    if error is not None:
        return None, error
    if isinstance(out, (list, tuple)):
        return None, _fail("Return one tensor, the batch for the discriminator: torch.stack(the list of images).")
    if not isinstance(out, Tensor) or out.shape != fakes.shape:
        got = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
        return None, _fail(f"Return a batch of the shape of `fakes`, {tuple(fakes.shape)}; got {got}.")
    if not isinstance(pool, list) or not all(isinstance(x, Tensor) for x in pool):
        return None, _fail("Keep the pool as the list you are given, holding one image tensor (C, H, W) per entry.")
    return out, None


def check_pool_query(pool_fn: Callable[..., Tensor]) -> CheckResult:
    """Lesson 06: ``pool_fn(pool_images, fakes, size, p, generator) -> batch``, CycleGAN's image pool (one query)."""
    # 1. Not full yet: store every new fake (detached) and return it.
    source = torch.arange(1.0, 5.0).requires_grad_(True)
    fakes = source[:, None, None, None].expand(4, 1, 2, 2) * 1.0  # four fakes that came out of "a generator"
    pool: list[Tensor] = []
    out, error = _pool_call(pool_fn, pool, fakes, 10, 0.5, seed=0)
    if error is not None:
        return error
    if _tags(out) != [1.0, 2.0, 3.0, 4.0]:
        return _fail(f"While the pool is not full, return the new fakes themselves; an empty pool of size 10 "
                     f"given fakes tagged 1, 2, 3, 4 returned {_tags(out)}.")
    if _tags(pool) != [1.0, 2.0, 3.0, 4.0]:
        return _fail(f"While the pool is not full, store every new fake in it (append to the list); after one "
                     f"batch of 4 it should hold images 1, 2, 3, 4; it holds {_tags(pool) or 'nothing'}.")
    if out.requires_grad or any(x.requires_grad for x in pool):
        return _fail("The images you return (or store) still carry the generator's gradient graph. The pool feeds "
                     "only the discriminator's step: .detach() the fakes first.")

    # 2. Filling up: only `size` images are kept.
    out, error = _pool_call(pool_fn, pool, torch.stack(_tagged([5, 6, 7, 8, 9, 10, 11, 12])), 10, 0.5, seed=1)
    if error is not None:
        return error
    if len(pool) != 10:
        return _fail(f"A pool of size 10 must hold at most 10 images, and 10 once it has seen 12; yours holds "
                     f"{len(pool)}. Append only while len(pool_images) < size; afterwards swap.")
    kept = [t for t in _tags(pool) if 1 <= t <= 10]  # the last two fakes may each have swapped one out
    if _tags(out)[:6] != [5.0, 6.0, 7.0, 8.0, 9.0, 10.0] or len(kept) < 8 or len(set(kept)) != len(kept):
        return _fail("With 4 images in a pool of size 10, the next 6 fakes must be stored and returned as they "
                     "are, in order; only the fakes after that may be swapped.")

    # 3. size 0: no pool at all.
    empty: list[Tensor] = []
    out, error = _pool_call(pool_fn, empty, torch.stack(_tagged([1, 2, 3])), 0, 0.5, seed=2)
    if error is not None:
        return _with_hint(error, "That was with size = 0, which means no pool at all: return the fakes unchanged.")
    if _tags(out) != [1.0, 2.0, 3.0] or empty:
        return _fail("With size = 0 there is no pool: return the fakes unchanged and store nothing.")

    # 4. A full pool, many queries: what comes out, what stays, how often it swaps.
    for p in (0.5, 0.2):
        pool = _tagged(range(100, 150))                     # 50 old fakes, tags 100..149
        before = sorted(_tags(pool))
        new_tags, returned = list(range(1000, 3000)), []
        for start in range(0, len(new_tags), 20):
            batch = torch.stack(_tagged(new_tags[start:start + 20]))
            out, error = _pool_call(pool_fn, pool, batch, 50, p, seed=10 + start)
            if error is not None:
                return error
            returned += _tags(out)
            if len(pool) != 50:
                return _fail(f"Once full, the pool must stay at its size (50); yours holds {len(pool)} images. When "
                             f"you return an old image, put the new fake in *its* place: pool_images[i] = fake.")
        if sorted(returned + _tags(pool)) != sorted(before + [float(t) for t in new_tags]):
            return _fail("Images got lost or duplicated: every image that comes in must either be returned or stay "
                         "in the pool. When you return a stored image pool_images[i], the new fake takes its place "
                         "(pool_images[i] = fake); otherwise return the new fake and leave the pool alone.")
        swapped = sum(t != n for t, n in zip(returned, new_tags)) / len(new_tags)  # an old image came back
        if abs(swapped - p) > 0.05:
            flipped = abs(swapped - (1 - p)) <= 0.05
            hint = ("That is 1 - p: return a stored image when the draw is *below* p, "
                    "torch.rand((), generator=generator) < p." if flipped else
                    "Draw once per image, torch.rand((), generator=generator), and swap when it is below p.")
            return _fail(f"With p = {p}, a full pool should hand back an old image for about {p:.0%} of the fakes; "
                         f"yours did for {swapped:.0%}. {hint}")
        if p == 0.5:
            old_seen = {t for t in returned if 100 <= t < 150}
            if len(old_seen) < 40:
                return _fail(f"In 2,000 queries, only {len(old_seen)} of the 50 images first in the pool were ever "
                             f"handed back. Pick the image to swap uniformly at random: "
                             f"i = int(torch.randint(size, (), generator=generator)).")

    # 5. Its random numbers come from the generator it is given, not from the global ones.
    runs = []
    for global_seed in (4, 5):
        pool = _tagged(range(100, 150))
        out, error = _pool_call(pool_fn, pool, torch.stack(_tagged(range(1000, 1040))), 50, 0.5, seed=3,
                                global_seed=global_seed)
        if error is not None:
            return error
        runs.append(_tags(out))
    if runs[0] != runs[1]:
        return _fail("Your pool draws from the global random numbers. Pass generator=generator to torch.rand and "
                     "torch.randint, so that the pool's draws are reproducible and saved in checkpoints.")
    return CheckResult(True, "Image pool correct: it stores fakes until full, then hands back a random old image "
                             "with probability p and keeps the new one in its place, all detached, with draws "
                             "from its own generator.")
