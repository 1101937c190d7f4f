"""ganlib.utils: seeding, device choice, parameter counts."""

import random

import numpy as np
import pytest
import torch
from torch import nn

from ganlib.utils import count_parameters, get_device, seed_everything


def _draw():
    return random.random(), float(np.random.rand()), torch.rand(5)


def test_seed_everything_makes_draws_reproducible():
    seed_everything(123)
    a = _draw()
    seed_everything(123)
    b = _draw()
    seed_everything(124)
    c = _draw()
    assert a[0] == b[0] and a[1] == b[1] and torch.equal(a[2], b[2])
    assert a[0] != c[0] and a[1] != c[1] and not torch.equal(a[2], c[2])


def test_seed_everything_accepts_large_seeds():
    seed_everything(2**40 + 7)  # numpy only takes 32 bits: reduced, not an error
    x = torch.rand(3)
    seed_everything(2**40 + 7)
    assert torch.equal(x, torch.rand(3))


@pytest.mark.parametrize("name", ["cpu", "meta"])
def test_get_device_honours_an_explicit_name(monkeypatch, name):
    monkeypatch.setenv("GANLIB_DEVICE", "cpu")
    assert get_device(name) == torch.device(name)


def test_get_device_reads_the_environment(monkeypatch):
    monkeypatch.setenv("GANLIB_DEVICE", "meta")
    assert get_device() == torch.device("meta")


def test_get_device_falls_back_to_cpu(monkeypatch):
    monkeypatch.delenv("GANLIB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")


def test_get_device_prefers_cuda(monkeypatch):
    monkeypatch.delenv("GANLIB_DEVICE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_count_parameters_counts_trainable_only():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2, bias=False))
    assert count_parameters(model) == 3 * 4 + 4 + 4 * 2
    model[0].bias.requires_grad_(False)
    assert count_parameters(model) == 3 * 4 + 4 * 2
    assert count_parameters(nn.ReLU()) == 0
