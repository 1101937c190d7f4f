"""Solutions to the exercises of lesson 07 (InfoGAN). Tested by tests/checks/test_solutions.py."""

import torch.nn.functional as F

CONTROL = 0.5  # |r| a code must reach to count as controlling a measure


def categorical_info_loss(cat_logits, cat):
    """-mean log Q(c | x): the cross-entropy of Q's logits at the code that made each fake.

    F.cross_entropy works in log space (log-softmax), so logits of any size stay finite; H(c) = log K
    is a constant of the prior and drops out of the loss.
    """
    return F.cross_entropy(cat_logits, cat)


def read_codes(r):
    """For each measure, the code (1 or 2) whose correlation is largest in size, if it reaches CONTROL.

    The sign only says which way the code moves the measure; noise dimensions (z1, z2) are the baseline,
    not candidates.
    """
    reading = {}
    for measure in ("width", "slant"):
        best = max((1, 2), key=lambda j: abs(r[f"c{j}_{measure}"]))
        reading[measure] = best if abs(r[f"c{best}_{measure}"]) >= CONTROL else None
    return reading
