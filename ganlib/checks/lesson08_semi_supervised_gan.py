"""Lesson 08 (notebooks/08_semi_supervised_gan.ipynb): the checkers of the semi-supervised GAN exercises, the
discriminator's unsupervised loss with D(x) = Z(x) / (Z(x) + 1) and the generator's feature-matching loss.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from .core import CheckResult, _fail, _rng_safe, _slip_hint

_GEN = torch.Generator().manual_seed(8)  # the test inputs are drawn once, without the global random state
_REAL = torch.randn(6, 10, generator=_GEN) * 2   # moderate logits: 6 real images, 10 classes
_FAKE = torch.randn(4, 10, generator=_GEN) * 2   # 4 fakes: a different batch size, so that sums and means differ
# huge logits, as a confident D produces: exp(89) already overflows float32, exp(710) float64
_REAL_BIG = torch.cat([torch.full((1, 10), -1000.0), 1000.0 + _REAL[:1], -300.0 + _REAL[1:2], 100.0 + _REAL[2:3]])
_FAKE_BIG = torch.cat([torch.full((1, 10), 1000.0), -1000.0 + _FAKE[:1], 120.0 + _FAKE[1:2]])
_F_REAL = torch.relu(torch.randn(6, 5, generator=_GEN)) * 2 + 0.5  # last-hidden-layer features (ReLU outputs)
_F_FAKE = torch.relu(torch.randn(6, 5, generator=_GEN)) * 2
_F_FAKE_4 = torch.relu(torch.randn(4, 5, generator=_GEN)) * 2     # another batch size

_LOG_SPACE = ("Work in log space: lse = torch.logsumexp(logits, dim=1); then log D = lse - F.softplus(lse) and "
              "log(1 - D) = -F.softplus(lse).")


def _d_terms(real: Tensor, fake: Tensor,
             pool: Callable[[Tensor], Tensor] = lambda l: torch.logsumexp(l, 1)) -> tuple[Tensor, Tensor]:
    """Per-image -log D(real) and -log(1 - D(fake)) in float64, with log Z = ``pool(logits)``."""
    return F.softplus(-pool(real.double())), F.softplus(pool(fake.double()))


def _reference(real: Tensor, fake: Tensor) -> float:
    on_real, on_fake = _d_terms(real, fake)
    return float(on_real.mean() + on_fake.mean())


def _d_slips(real: Tensor, fake: Tensor) -> list[tuple[float, str]]:
    """(value, hint) for the usual slips of the unsupervised loss, on the given logits."""
    r, f = _d_terms(real, fake)
    swap_r, swap_f = _d_terms(fake, real)
    max_r, max_f = _d_terms(real, fake, pool=lambda l: l.max(1).values)
    p_real, p_fake = real.double().softmax(1).max(1).values, fake.double().softmax(1).max(1).values
    expected = float(r.mean() + f.mean())
    return [
        (-expected, "The sign is flipped: return the loss to minimise, -mean log D(x_real) - mean log(1 - D(x_fake)), "
                    "which is positive."),
        (float(swap_r.mean() + swap_f.mean()), "Real and fake are swapped: D should call the real images real (log D "
                                               "on logits_real) and the fakes fake (log(1 - D) on logits_fake)."),
        (expected / 2, "That is half the loss. The official code halves it when it adds it to the classifier's loss "
                       "(UNSUPERVISED_WEIGHT = 0.5 in the training step); this function returns it whole."),
        (float(r.mean()), "Only the real term is there: add the fake term, -mean log(1 - D(x_fake)) on logits_fake."),
        (float(f.mean()), "Only the fake term is there: add the real term, -mean log D(x_real) on logits_real."),
        (float(r.sum() + f.sum()), "Take the mean over each batch, not the sum."),
        (float((r.sum() + f.sum()) / (len(r) + len(f))), "Take the mean of each term over its own batch, then add the "
                                                         "two means (the batches may differ in size)."),
        (float(max_r.mean() + max_f.mean()), "You used the largest logit where log Z belongs: Z(x) sums exp(l_k) over "
                                             "all K classes, so log Z = torch.logsumexp(logits, dim=1)."),
        (float(-p_real.log().mean() - (1 - p_fake).log().mean()), _SOFTMAX_HINT),
        (float(-p_real.log().mean()), _SOFTMAX_HINT),
    ]


_SOFTMAX_HINT = ("That looks like softmax probabilities (or a cross-entropy to one class). Softmax over the K "
                 "classes always sums to 1, so it cannot say 'fake'. D(x) = Z(x) / (Z(x) + 1) uses the unnormalised "
                 "Z(x) = sum_k exp(l_k(x)); in log space log Z = torch.logsumexp(logits, dim=1).")


def _scalar_loss(value: object, what: str) -> CheckResult | None:
    if not isinstance(value, Tensor):
        return _fail(f"Return {what} as a tensor (so that it can be backpropagated); got {type(value).__name__}.")
    if value.numel() != 1:
        return _fail(f"Return one number, {what}; got a tensor of shape {tuple(value.shape)}.")
    return None


def check_unsupervised_d_loss(loss_fn: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 08: ``loss_fn(logits_real (N, K), logits_fake (M, K))`` -> -mean log D(x_real) - mean log(1 - D(x_fake)),
    with D(x) = Z(x) / (Z(x) + 1), Z(x) = sum_k exp(l_k(x)); finite for logits of any size."""
    real, fake = _REAL.clone().requires_grad_(True), _FAKE.clone().requires_grad_(True)
    value, error = _rng_safe(loss_fn, real, fake)
    if error is not None:
        return error
    error = _scalar_loss(value, "the sum of the two means")
    if error is not None:
        return error
    got, expected = float(value.detach()), _reference(_REAL, _FAKE)
    if not math.isfinite(got):
        bound = math.ceil(float(_REAL.abs().max()))
        return _fail(f"Got {got} on moderate logits (all within ±{bound}): somewhere D became exactly 0 or 1 and "
                     "log(0) appeared. " + _SOFTMAX_HINT)
    hint = _slip_hint(got, _d_slips(_REAL, _FAKE), abs_tol=1e-6)
    if hint is not None:
        return _fail(hint)
    if not math.isclose(got, expected, rel_tol=1e-4):
        return _fail(f"Expected {expected:.4f} on the test logits, got {got:.4f}. The loss is -mean log D(x_real) - "
                     "mean log(1 - D(x_fake)) with D(x) = Z(x) / (Z(x) + 1) and Z(x) = sum_k exp(l_k(x)).")
    if not value.requires_grad:
        return _fail("The value is right but carries no gradient: no .item(), .detach() or numpy inside.")
    value.backward()
    ref_real, ref_fake = _REAL.double().requires_grad_(True), _FAKE.double().requires_grad_(True)
    on_real, on_fake = _d_terms(ref_real, ref_fake)
    (on_real.mean() + on_fake.mean()).backward()
    for mine, ref in ((real, ref_real), (fake, ref_fake)):
        if mine.grad is None or not torch.allclose(mine.grad.double(), ref.grad, atol=1e-5):
            return _fail("The value is right but its gradient is not: compute the loss from the logits themselves "
                         "(torch.logsumexp, F.softplus), without constants that stand in for them.")
    big, error = _rng_safe(loss_fn, _REAL_BIG.clone(), _FAKE_BIG.clone())
    if error is not None:
        return _fail(f"Right on moderate logits, but on logits of ±1000 {error.message[0].lower()}{error.message[1:]}")
    got_big, expected_big = _as_number(big), _reference(_REAL_BIG, _FAKE_BIG)
    if got_big is None or not math.isfinite(got_big):
        return _fail(f"Right on moderate logits, but on logits of ±1000 (a confident D) you get {got_big}: exp() "
                     "overflows (exp(89) is already too large for float32) or 1 - D rounds to 0 and log(0) appears. "
                     + _LOG_SPACE)
    if not math.isclose(got_big, expected_big, rel_tol=1e-4):
        return _fail(f"Right on moderate logits, but on logits of ±1000 you get {got_big:.1f} instead of "
                     f"{expected_big:.1f}. A small eps (log(D + 1e-8)) or a clamp keeps it finite but caps the loss, "
                     "so a D that is confidently wrong gets almost no push. " + _LOG_SPACE)
    return CheckResult(True, f"Unsupervised loss correct ({got:.4f} on the test logits, {got_big:.1f} and finite at "
                             "logits of ±1000).")


def _as_number(value: object) -> float | None:
    return float(value.detach()) if isinstance(value, Tensor) and value.numel() == 1 else None


def _fm(real: Tensor, fake: Tensor) -> Tensor:
    return (real.double().mean(0) - fake.double().mean(0)).pow(2).sum()


def _fm_slips(real: Tensor, fake: Tensor) -> list[tuple[float, str]]:
    r, f = real.double(), fake.double()
    diff = r.mean(0) - f.mean(0)
    per_sample = ("That compares the images one by one. Feature matching compares the batches: take the mean "
                  "over the batch first (features.mean(dim=0)), then the squared difference of the two means.")
    return [
        (float((r - f).pow(2).sum(1).mean()), per_sample),
        (float((r - f).pow(2).mean()), per_sample),
        (float(diff.norm()), "That is the distance; the loss is its square: ||mean f(real) - mean f(fake)||^2, "
                             "i.e. .pow(2).sum(), not .norm()."),
        (float(diff.pow(2).mean()), "You averaged over the features. This course uses the paper's squared norm: "
                                    "sum the squared differences over the features (.pow(2).sum()). (The official "
                                    "code averages, which only divides by the number of features.)"),
        (float((r.mean(1) - f.mean(1)).pow(2).sum()), "Take the mean over the batch (dim=0), one mean per feature, "
                                                      "not over the features of each image (dim=1)."),
        (float((r.sum(0) - f.sum(0)).pow(2).sum()), "Use the mean over the batch, not the sum: the loss should not "
                                                    "grow with the batch size."),
        (float(diff.abs().sum()), "Square each difference of the means (then sum), rather than taking its size."),
    ]


def check_feature_matching(loss_fn: Callable[[Tensor, Tensor], Tensor]) -> CheckResult:
    """Lesson 08: ``loss_fn(features_real (N, F), features_fake (M, F))`` -> ||mean f(real) - mean f(fake)||^2.

    The squared L2 norm of the difference of the batch means, summed over the features (the paper's
    convention). The real features are a target: the gradient must reach the fake features only, so
    detach the real ones (in the training step D is frozen anyway; detaching makes the loss safe to use
    anywhere).
    """
    real, fake = _F_REAL.clone().requires_grad_(True), _F_FAKE.clone().requires_grad_(True)
    value, error = _rng_safe(loss_fn, real, fake)
    if error is not None:
        return error
    if isinstance(value, Tensor) and tuple(value.shape) == (_F_REAL.shape[1],):
        return _fail("You return one number per feature: sum the squared differences over the features too.")
    error = _scalar_loss(value, "the squared distance between the mean features")
    if error is not None:
        return error
    got, expected = float(value.detach()), float(_fm(_F_REAL, _F_FAKE))
    hint = _slip_hint(got, _fm_slips(_F_REAL, _F_FAKE), abs_tol=1e-6)
    if hint is not None:
        return _fail(hint)
    if not math.isclose(got, expected, rel_tol=1e-4):
        return _fail(f"Expected {expected:.4f} on the test features, got {got:.4f}. The loss is "
                     "(features_real.mean(0) - features_fake.mean(0)).pow(2).sum().")
    if not value.requires_grad:
        return _fail("The value is right but carries no gradient: detach only the real features; the fakes need "
                     "their gradient (no .item(), .detach() or numpy on them).")
    value.backward()
    if fake.grad is None or not fake.grad.abs().sum() > 0:
        return _fail("No gradient reaches the fake features: the generator learns only through them. Detach the real "
                     "features, not the fakes.")
    if real.grad is not None and real.grad.abs().sum() > 0:
        return _fail("The gradient also flows into the real features. Use features_real.detach(): the real mean is a "
                     "target for the fakes to move to; it should not move towards them.")
    ref = _F_FAKE.double().requires_grad_(True)
    _fm(_F_REAL, ref).backward()
    if not torch.allclose(fake.grad.double(), ref.grad, atol=1e-5):
        return _fail("The value is right but its gradient is not: compute the loss from the features themselves.")
    other, error = _rng_safe(loss_fn, _F_REAL.clone(), _F_FAKE_4.clone())
    if error is not None or _as_number(other) is None or not math.isclose(
            _as_number(other), float(_fm(_F_REAL, _F_FAKE_4)), rel_tol=1e-4):
        return _fail("Right when both batches have 6 images, but not with 6 real and 4 fake: the batch sizes may "
                     "differ, so compare the two means, not the images pair by pair.")
    return CheckResult(True, f"Feature matching correct ({got:.4f} on the test features; the gradient reaches the "
                             "fakes only).")
