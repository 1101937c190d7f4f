"""Solutions to the exercises of lesson 08 (the semi-supervised GAN). Tested by tests/checks/test_solutions.py."""

import torch
import torch.nn.functional as F


def unsupervised_d_loss(logits_real, logits_fake):
    """-mean log D(x_real) - mean log(1 - D(x_fake)), with D(x) = Z(x) / (Z(x) + 1) and Z(x) = sum_k exp(l_k(x)).

    D = sigmoid(log Z), so everything follows from lse = log Z = torch.logsumexp(logits, 1), which never
    overflows: log D = lse - softplus(lse) and log(1 - D) = -softplus(lse). Computing Z = exp(l).sum(1)
    first gives inf as soon as a logit passes 89 (float32), and a confident discriminator gets there.
    Each term is a mean over its own batch, so the two batches may differ in size.
    """
    lse_real = torch.logsumexp(logits_real, dim=1)
    lse_fake = torch.logsumexp(logits_fake, dim=1)
    log_d_real = lse_real - F.softplus(lse_real)
    log_not_d_fake = -F.softplus(lse_fake)
    return -log_d_real.mean() - log_not_d_fake.mean()


def feature_matching_loss(features_real, features_fake):
    """||mean f(real) - mean f(fake)||^2: the squared distance between the two batches' mean features.

    The means are taken over the batch (dim 0), one per feature, and the squared differences summed over
    the features (the paper's squared norm). The real features are detached: they are the target the
    generator's features should move to. In the generator's step D is frozen, so nothing would change
    there, but the detached target keeps the loss safe wherever it is used (it can never pull the real
    features towards the fakes).
    """
    return (features_real.detach().mean(dim=0) - features_fake.mean(dim=0)).pow(2).sum()
