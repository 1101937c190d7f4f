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


def check_wrong_labels(wrong_fn: Callable[[Tensor, int], Tensor]) -> CheckResult:
    """Lesson 03: ``wrong_fn(labels, n_classes) -> (N,)`` a wrong class for every label, each wrong class as likely."""
    labels = torch.arange(10).repeat(900)  # 900 of each class
    with torch.random.fork_rng():
        torch.manual_seed(0)
        got, error = _call(wrong_fn, labels.clone(), 10)
    if error is not None:
        return error
    if not isinstance(got, Tensor):
        return _fail(f"Return a tensor of class indices; got {type(got).__name__}.")
    if tuple(got.shape) != tuple(labels.shape):
        return _fail(f"One wrong label per label: expected shape {tuple(labels.shape)}, got {tuple(got.shape)}.")
    if got.dtype != torch.int64:
        return _fail(f"Return class indices as int64 (what nn.Embedding and F.one_hot take); got {got.dtype}.")
    if got.min() < 0 or got.max() > 9:
        return _fail(f"Class indices run from 0 to n_classes - 1 = 9; yours run from {int(got.min())} to {int(got.max())}.")
    same = int((got == labels).sum())
    if same:
        return _fail(f"{same} of {len(labels):,} 'wrong' labels are the right one ({same / len(labels):.0%}): those "
                     "pairs are real and matched, and D would be taught to call them fake. Make every label wrong.")
    counts = torch.zeros(10, 10)
    counts.index_put_((labels, got), torch.ones(len(labels)), accumulate=True)
    others = counts[~torch.eye(10, dtype=torch.bool)].view(10, 9) / 900  # share of each wrong class, per label
    if (others == 0).any():
        never = int((others == 0).sum(1).max())
        return _fail(f"Some wrong classes never come up (up to {never} of the 9 for one label): D then only learns "
                     "that, say, a 3 is not an 8, and a 3 labelled 5 can still pass. Every wrong class should be "
                     "equally likely.")
    if others.min() < 0.5 / 9 or others.max() > 1.5 / 9:
        return _fail(f"The wrong classes are not equally likely: for some label one wrong class comes up "
                     f"{others.max():.0%} of the time and another {others.min():.0%} (each should be about 1/9 = 11 %).")
    pair, error = _call(wrong_fn, torch.tensor([0, 1, 1, 0]), 2)
    if error is not None:
        return error
    if not isinstance(pair, Tensor) or pair.tolist() != [1, 0, 0, 1]:
        return _fail("With n_classes = 2 the only wrong label of 0 is 1 and of 1 is 0; got "
                     f"{pair.tolist() if isinstance(pair, Tensor) else pair}. Use n_classes, not 10.")
    return CheckResult(True, "Every label wrong, every wrong class about equally likely (1/9 each for 10 classes).")
