"""ganlib.utils: seeding, device choice, parameter counts, smoothing and file hashes."""

import hashlib
import random

import numpy as np
import pytest
import torch
from torch import nn

from ganlib.utils import count_parameters, file_hash, get_device, seed_everything, smooth


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


# -- smooth ----------------------------------------------------------------------------------------
def test_smooth_by_hand():
    assert smooth([1, 2, 3, 4, 10], 2) == pytest.approx([1, 1.5, 2.5, 3.5, 7])
    assert smooth([3, 6, 9, 12], 3) == pytest.approx([3, 4.5, 6, 9])
    assert smooth([5, 7], 1) == [5, 7]
    assert smooth([2, 4], 10) == pytest.approx([2, 3])
    assert smooth([], 3) == []


def test_smooth_bad_window():
    with pytest.raises(ValueError, match="window must be >= 1; got 0"):
        smooth([1.0], 0)


# -- file_hash -------------------------------------------------------------------------------------
@pytest.fixture
def blob(tmp_path):
    """A file of 2.5 MiB, so that the 1 MiB chunks meet a partial last chunk."""
    path = tmp_path / "blob.bin"
    path.write_bytes(bytes(range(256)) * (10 * 1024 + 2))
    return path


@pytest.mark.parametrize("algorithm", ["sha256", "md5"])
def test_file_hash_equals_hashlib(blob, algorithm):
    assert file_hash(blob, algorithm) == hashlib.new(algorithm, blob.read_bytes()).hexdigest()
    assert file_hash(str(blob), algorithm) == file_hash(blob, algorithm)  # a path as str or Path


def test_file_hash_defaults_to_sha256(blob, tmp_path):
    assert file_hash(blob) == hashlib.sha256(blob.read_bytes()).hexdigest()
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert file_hash(empty) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert file_hash(empty, "md5") == "d41d8cd98f00b204e9800998ecf8427e"


def test_file_hash_unknown_algorithm_names_the_choices_and_what_came(blob):
    with pytest.raises(ValueError) as info:
        file_hash(blob, "sha257")
    message = str(info.value)
    assert "'sha256'" in message and "'md5'" in message and "got 'sha257'" in message


def test_file_hash_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        file_hash(tmp_path / "missing.bin")
