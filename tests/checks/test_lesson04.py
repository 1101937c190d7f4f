"""Lesson 04 (WGAN, WGAN-GP): every hint of check_gradient_penalty and check_clip_weights, each triggered by a
wrong answer."""

import pytest
import torch
from torch import nn

from ganlib.checks import check_clip_weights, check_gradient_penalty
from ganlib.losses import gradient_penalty
from ganlib.papers.wgan import clip_weights
from ganlib.training import frozen

NB = "04_wgan"


# -- check_gradient_penalty ------------------------------------------------------------------------
def _penalty(critic, real, fake, *, eps="per_sample", detach=True, mix="between", requires_grad=True,
             sum_scores=True, create_graph=True, critic_input=None, norms=None, reduce=None, backward=False,
             freeze_modules=False):
    """The solution, or the same code with one of the usual slips (see the keyword arguments)."""
    n = real.shape[0]
    e = {"per_sample": lambda: torch.rand(n, 1, 1, 1), "per_pixel": lambda: torch.rand_like(real),
         "shared": lambda: torch.rand(1), "normal": lambda: torch.randn(n, 1, 1, 1)}[eps]()
    if detach:
        real, fake = real.detach(), fake.detach()
    mixed = {"between": e * real + (1 - e) * fake, "real": real.clone(), "fake": fake.clone()}[mix]
    if requires_grad:
        mixed.requires_grad_(True)
    # "the penalty must not move the critic": frozen only when it is a module (the check's second critic is a
    # plain function, which frozen() cannot take)
    if freeze_modules and isinstance(critic, nn.Module):
        with frozen(critic):
            scores = critic(mixed)
    else:
        scores = critic(mixed if critic_input is None else critic_input(mixed))
    (grad,) = torch.autograd.grad(scores.sum() if sum_scores else scores, mixed, create_graph=create_graph)
    norm = grad.flatten(1).norm(2, dim=1) if norms is None else norms(grad)
    value = (norm - 1).square().mean() if reduce is None else reduce(norm)
    if backward and value.requires_grad:
        value.backward()
    return value


def test_gradient_penalty_solution_passes(solution):
    result = check_gradient_penalty(solution(NB, "gradient_penalty"))
    assert result.passed, result.message
    assert "one ε per sample" in result.message


def test_gradient_penalty_ganlib_and_grad_outputs_pass():
    assert check_gradient_penalty(gradient_penalty).passed

    def with_grad_outputs(critic, real, fake):
        eps = torch.rand(real.shape[0], 1, 1, 1)
        mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
        scores = critic(mixed)
        (grad,) = torch.autograd.grad(scores, mixed, grad_outputs=torch.ones_like(scores), create_graph=True)
        return ((grad.view(len(grad), -1).norm(dim=1) - 1) ** 2).mean()

    assert check_gradient_penalty(with_grad_outputs).passed


GP_SLIPS = [
    # what the function raises, with a hint
    (dict(sum_scores=False), ["implicitly created only for scalar outputs", "critic(x̂).sum()"]),
    (dict(requires_grad=False), ["does not require grad", ".requires_grad_(True) before you score them"]),
    # step 1: a linear critic, whose gradient has norm 3 everywhere
    (dict(norms=lambda g: g.flatten(1).square().sum(1)), ["yours gives 64", "squared the norm"]),
    (dict(reduce=lambda norm: (norm - 1).mean()), ["yours gives 2", "without the square"]),
    (dict(reduce=lambda norm: (norm - 1).square().sum()), ["yours gives 20", "sum over the batch"]),
    (dict(reduce=lambda norm: 10 * (norm - 1).square().mean()), ["yours gives 40", "already includes λ = 10"]),
    (dict(norms=lambda g: g.norm(2)), ["one norm for the whole batch"]),
    (dict(norms=lambda g: g.norm(2, dim=1)), ["treats every pixel on its own"]),  # (N, C, H, W): dim 1 is C
    (dict(reduce=lambda norm: norm.mean()), ["yours gives 3.", "Compute grad = ∂ critic(x̂).sum() / ∂x̂"]),
    (dict(reduce=lambda norm: (norm - 1).square()), ["Return one number", "shape (5,)"]),
    (dict(reduce=lambda norm: (norm - 1).square().mean().item()), ["Return the penalty as a tensor", "got float"]),
    # step 2: where the penalty is taken
    (dict(critic_input=lambda x: x.flatten(1)), ["called the critic on a tensor of shape (5, 16)"]),
    (dict(mix="real"), ["scores the real images themselves"]),
    (dict(mix="fake"), ["scores the fake images themselves"]),
    (dict(eps="per_pixel"), ["ε differs from pixel to pixel"]),
    (dict(eps="shared"), ["All the samples share one ε"]),
    (dict(eps="normal"), ["are not in [0, 1]"]),
    (dict(reduce=lambda norm: (norm - 1).mean().square()), ["At the points your function chose"]),
    # step 3: does it train the critic, and only the critic?
    (dict(create_graph=False), ["carries no gradient back to the critic's weights", "create_graph=True"]),
    (dict(backward=True), ["Backpropagating your penalty failed"]),
    (dict(freeze_modules=True), ["does not reach the critic's weights"]),
    (dict(detach=False), ["also reaches the fake images", "real.detach() and fake.detach()"]),
]


@pytest.mark.parametrize("slip, words", GP_SLIPS, ids=[words[0] for _, words in GP_SLIPS])
def test_gradient_penalty_slips_get_their_hint(slip, words):
    result = check_gradient_penalty(lambda critic, real, fake: _penalty(critic, real, fake, **slip))
    assert not result.passed
    for word in words:
        assert word in result.message, result.message


def test_gradient_penalty_that_never_calls_the_critic():
    """Copying the 4 from the first hint does not pass."""
    result = check_gradient_penalty(lambda critic, real, fake: torch.tensor(4.0, requires_grad=True))
    assert not result.passed and "never called the critic" in result.message


# -- check_clip_weights ----------------------------------------------------------------------------
def _clamp_each(bounds):
    """clip(critic, c) that clamps every parameter into bounds(c), under torch.no_grad()."""
    def clip(critic, c):
        with torch.no_grad():
            for p in critic.parameters():
                p.clamp_(*bounds(c))
    return clip


def _without_no_grad(critic, c):
    for p in critic.parameters():
        p.clamp_(-c, c)


def _new_parameters(critic, c):
    for module in critic.modules():
        for name, p in list(module.named_parameters(recurse=False)):
            setattr(module, name, nn.Parameter(p.detach().clamp(-c, c)))


def _rebinds(critic, c):
    for p in critic.parameters():
        p = p.clamp(-c, c)  # noqa: F841 (the slip: a new tensor, thrown away)


def _weights_only(critic, c):
    with torch.no_grad():
        for name, p in critic.named_parameters():
            if name.endswith("weight"):
                p.clamp_(-c, c)


def _rescale(critic, c):
    with torch.no_grad():
        for p in critic.parameters():
            p.mul_(c / p.abs().max())


def _zero_outside(critic, c):
    with torch.no_grad():
        for p in critic.parameters():
            p[p.abs() > c] = 0


def _switches_off_grad(critic, c):
    for p in critic.parameters():
        p.requires_grad_(False)
        p.clamp_(-c, c)


def _with_frozen(critic, c):
    with frozen(critic):  # switches requires_grad off and back on: in-place changes are allowed inside
        for p in critic.parameters():
            p.clamp_(-c, c)


def _state_dict(critic, c):
    for t in critic.state_dict().values():
        if t.is_floating_point():
            t.clamp_(-c, c)


def test_clip_weights_solution_passes(solution):
    result = check_clip_weights(solution(NB, "clip_weights"))
    assert result.passed, result.message


@pytest.mark.parametrize("fn", [clip_weights, _with_frozen, lambda critic, c: [p.data.clamp_(-c, c) for p in
                                                                               critic.parameters()]],
                         ids=["ganlib", "frozen", "data"])
def test_clip_weights_other_right_answers_pass(fn):
    assert check_clip_weights(fn).passed


@pytest.mark.parametrize("fn, words", [
    (_without_no_grad, ["leaf Variable that requires grad", "with torch.no_grad(): p.clamp_(-c, c)"]),
    (_new_parameters, ["replaced the critic's parameters by new tensors"]),
    (_rebinds, ["Nothing changed", "`p = p.clamp(-c, c)`"]),
    (_clamp_each(lambda c: (-0.1, 0.1)), ["every parameter tensor still has values outside", "not a fixed number"]),
    (_weights_only, ["some parameters are still outside", "net.0.bias", "biases and BatchNorm scales too"]),
    (_clamp_each(lambda c: (0, c)), ["weights beyond one side of the bound became 0"]),
    (_clamp_each(lambda c: (-c, 0)), ["weights beyond one side of the bound became 0"]),
    (_clamp_each(lambda c: (-0.01, 0.01)), ["With c = 0.05 your function clamps into [-0.01, 0.01]"]),
    (_rescale, ["not what clamping into [-0.05, 0.05] gives"]),
    (_zero_outside, ["not what clamping into [-0.05, 0.05] gives"]),
    (_switches_off_grad, ["no longer a trainable leaf tensor", "do not change requires_grad"]),
    (_state_dict, ["also changed the critic's buffers"]),
])
def test_clip_weights_slips_get_their_hint(fn, words):
    result = check_clip_weights(fn)
    assert not result.passed
    for word in words:
        assert word in result.message, result.message


# -- both ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("checker, name", [(check_gradient_penalty, "gradient_penalty"),
                                           (check_clip_weights, "clip_weights")])
def test_checkers_keep_the_random_state(checker, name, solution, keeps_random_state):
    """The penalty's ε are drawn inside the check, from the check's own seed: the notebook's numbers stay put."""
    assert keeps_random_state(checker, solution(NB, name)).passed
