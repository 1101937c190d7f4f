"""Lesson 03 (notebooks/03_cgan.ipynb): the checkers of the conditional GAN's exercises, one-hot label maps
and the projection discriminator's score.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from ..layers import label_maps
from .core import CheckResult, _call, _fail


def check_label_maps(maps_fn: Callable[[Tensor, int, int], Tensor]) -> CheckResult:
    """Lesson 03: ``maps_fn(labels, n_classes, size) -> (N, n_classes, size, size)`` one-hot planes."""
    for labels, n_classes, size in ((torch.tensor([3, 0, 9, 3]), 10, 28), (torch.tensor([1]), 2, 5)):
        got, error = _call(maps_fn, labels.clone(), n_classes, size)
        if error is not None:
            return error
        expected = label_maps(labels, n_classes, size)
        if not isinstance(got, Tensor):
            return _fail(f"Return a tensor; got {type(got).__name__}.")
        if tuple(got.shape) == (len(labels), size, size, n_classes):
            return _fail("The classes are in the last dimension. PyTorch images are (N, C, H, W): put the classes "
                         "in dimension 1, e.g. one_hot[:, :, None, None].expand(-1, -1, size, size).")
        if tuple(got.shape) != tuple(expected.shape):
            return _fail(f"For {len(labels)} labels, {n_classes} classes and size {size}, expected shape "
                         f"{tuple(expected.shape)}, got {tuple(got.shape)}.")
        if not got.is_floating_point():
            return _fail(f"Return floats, as the image is float (torch.cat needs one dtype); got {got.dtype}. "
                         "Add .float() after F.one_hot.")
        if not torch.equal(got.float(), expected):
            return _fail(f"Wrong values for labels {labels.tolist()}: channel y of image i should be all ones when "
                         "labels[i] == y and all zeros otherwise.")
    return CheckResult(True, "Your label maps match: one channel of ones per image, the rest zeros.")


def check_projection_score(score_fn: Callable[[Tensor, Tensor, nn.Module, nn.Module], Tensor]) -> CheckResult:
    """Lesson 03: ``score_fn(features, labels, psi, embed) -> psi(features) + <embed(labels), features>``, (N,)."""
    gen = torch.Generator().manual_seed(3)
    features = torch.randn(5, 6, generator=gen)
    labels = torch.tensor([0, 2, 1, 2, 3])
    with torch.random.fork_rng():
        torch.manual_seed(4)
        psi, embed = nn.Linear(6, 1), nn.Embedding(4, 6)
    got, error = _call(score_fn, features, labels, psi, embed)
    if error is not None:
        return error
    with torch.no_grad():
        unconditional = psi(features).view(-1)
        inner = (embed(labels) * features).sum(1)
    expected = unconditional + inner
    if not isinstance(got, Tensor):
        return _fail(f"Return a tensor of scores; got {type(got).__name__}.")
    if tuple(got.shape) == (5, 1):
        return _fail("One score per image, shape (N,): psi returns (N, 1), so flatten it with .view(-1) or .squeeze(1).")
    if tuple(got.shape) == (5, 4):
        return _fail("Shape (N, n_classes): you scored every class. Take only each image's own class vector, "
                     "embed(labels), and its inner product with the features: (embed(labels) * features).sum(1).")
    if tuple(got.shape) != (5,):
        return _fail(f"Expected one score per image, shape (5,), got {tuple(got.shape)}.")
    if torch.allclose(got, inner, atol=1e-5):
        return _fail("Only the class term: add the unconditional score psi(features) too.")
    if torch.allclose(got, unconditional, atol=1e-5):
        return _fail("Only psi(features): the label is ignored. Add the inner product of embed(labels) with the features.")
    if not torch.allclose(got, expected, atol=1e-5):
        return _fail("Wrong values. The score is psi(features).view(-1) + (embed(labels) * features).sum(1).")
    if not got.requires_grad:
        return _fail("The values are right but carry no gradient: no torch.no_grad(), .detach() or numpy inside.")
    got.sum().backward()
    if embed.weight.grad is None or psi.weight.grad is None:
        return _fail("Gradients must reach both psi and embed, or they never learn.")
    return CheckResult(True, "Projection score correct: psi(phi(x)) plus the class vector's inner product with phi(x).")
