"""Solutions to the exercises of lesson 01 (the MLP GAN). Tested by tests/checks/test_solutions.py."""

import torch
import torch.nn.functional as F


def d_step(G, D, opt_d, real, z_dim):
    """One discriminator step: real images -> 1, fakes -> 0; returns the loss as a float."""
    z = torch.randn(real.shape[0], z_dim, device=real.device)
    with torch.no_grad():  # the fakes are inputs here; the generator is not trained
        fake = G(z)
    pred_real, pred_fake = D(real), D(fake)
    loss = (F.binary_cross_entropy_with_logits(pred_real, torch.ones_like(pred_real))
            + F.binary_cross_entropy_with_logits(pred_fake, torch.zeros_like(pred_fake)))
    opt_d.zero_grad()
    loss.backward()
    opt_d.step()
    return loss.item()


def g_loss_nonsaturating(pred_fake):
    """-mean(log sigmoid(s)): binary cross-entropy with target 1 on the fakes' logits."""
    return F.binary_cross_entropy_with_logits(pred_fake, torch.ones_like(pred_fake))
