"""Solutions to the exercises of lesson 06 (CycleGAN). Tested by tests/checks/test_solutions.py."""

import torch
import torch.nn.functional as F


def identity_term(G_AB, G_BA, a, b):
    """mean |G_AB(b) - b| + mean |G_BA(a) - a|: each generator is shown images already in its *target* domain
    and asked to leave them alone (unweighted: the generator step multiplies it by IDENTITY_WEIGHT)."""
    return F.l1_loss(G_AB(b), b) + F.l1_loss(G_BA(a), a)


def cycle_consistency(G_AB, G_BA, a, b):
    """λ (mean |G_BA(G_AB(a)) - a| + mean |G_AB(G_BA(b)) - b|) with λ = 10: both round trips, L1, gradients kept."""
    return 10.0 * (F.l1_loss(G_BA(G_AB(a)), a) + F.l1_loss(G_AB(G_BA(b)), b))


def pool_query(pool_images, fakes, size, p, generator):
    """One query of CycleGAN's image pool: returns a batch for the discriminator, updates ``pool_images`` in place."""
    fakes = fakes.detach()
    if size == 0:
        return fakes
    out = []
    for fake in fakes:
        if len(pool_images) < size:                      # not full yet: keep it and use it
            pool_images.append(fake.clone())
            out.append(fake)
        elif float(torch.rand((), generator=generator)) < p:   # swap: an old fake out, the new one in its place
            i = int(torch.randint(size, (), generator=generator))
            out.append(pool_images[i])
            pool_images[i] = fake.clone()
        else:                                            # use the new fake, leave the pool alone
            out.append(fake)
    return torch.stack(out)
