"""Solutions to the exercises of lesson 03 (conditional GANs). Tested by tests/checks/test_solutions.py."""

import torch
import torch.nn.functional as F


def label_maps(labels, n_classes, size):
    """(N,) class indices -> (N, n_classes, size, size): channel y is all ones where the label is y."""
    one_hot = F.one_hot(labels, n_classes).float()            # (N, n_classes)
    return one_hot[:, :, None, None].expand(-1, -1, size, size)


def projection_score(features, labels, psi, embed):
    """psi(phi) + <embed(y), phi>: the unconditional score plus the class vector's match with the features."""
    return psi(features).view(-1) + (embed(labels) * features).sum(dim=1)


def wrong_labels(labels, n_classes):
    """A wrong class for every label, each of the n_classes - 1 wrong ones equally likely: move every label
    forward by a random 1 .. n_classes - 1 places, wrapping round. (A shift of 0 would keep the right label;
    a fixed shift would teach D only one kind of mismatch.)"""
    shift = torch.randint(1, n_classes, labels.shape, device=labels.device)
    return (labels + shift) % n_classes
