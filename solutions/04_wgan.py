"""Solutions to the exercises of lesson 04 (WGAN and WGAN-GP). Tested by tests/checks/test_solutions.py."""

import torch


def gradient_penalty(critic, real, fake):
    """Mean of (‖∇ critic(x̂)‖₂ - 1)² at x̂ = ε·real + (1 - ε)·fake, one ε ~ U(0, 1) per sample."""
    eps = torch.rand(real.shape[0], 1, 1, 1, device=real.device)
    mixed = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(mixed).sum(), mixed, create_graph=True)  # create_graph: train through it
    return (grad.flatten(1).norm(2, dim=1) - 1).square().mean()


def clip_weights(critic, c):
    """Clamp every parameter of the critic into [-c, c], in place."""
    with torch.no_grad():
        for p in critic.parameters():
            p.clamp_(-c, c)
