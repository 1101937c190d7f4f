"""ganlib.data: the shipped MNIST, whole-tensor datasets and random-permutation batches."""

import gzip
import os
import shutil
import urllib.error
from collections import Counter
from pathlib import Path

import pytest
import torch
import torchvision

from ganlib import data
from ganlib.data import DATASETS, MNIST_FILES, Batches, DatasetUnavailable, load_dataset, load_mnist, prepare_mnist
from ganlib.utils import file_hash

MNIST_GZ = Path(__file__).resolve().parents[2] / "data" / "mnist"  # the four .gz files shipped with the course


# -- prepare_mnist ---------------------------------------------------------------------------------
def test_prepare_mnist_unpacks_with_the_right_md5(tmp_path):
    shutil.copytree(MNIST_GZ, tmp_path / "mnist")
    assert sorted(p.name for p in (tmp_path / "mnist").iterdir()) == sorted(f"{n}.gz" for n in MNIST_FILES)
    assert prepare_mnist(tmp_path) == tmp_path
    raw = tmp_path / "MNIST" / "raw"
    assert sorted(p.name for p in raw.iterdir()) == sorted(MNIST_FILES)  # no .partial left behind
    for name, md5 in MNIST_FILES.items():
        assert file_hash(raw / name, "md5") == md5
    # IDX headers: magic numbers and counts
    assert (raw / "train-images-idx3-ubyte").read_bytes()[:8] == bytes([0, 0, 8, 3, 0, 0, 0xEA, 0x60])  # 60000
    assert (raw / "t10k-labels-idx1-ubyte").stat().st_size == 8 + 10000


def test_prepare_mnist_does_nothing_when_unpacked(mnist_root):
    raw = mnist_root / "MNIST" / "raw"
    before = {p.name: p.stat().st_mtime_ns for p in raw.iterdir()}
    assert prepare_mnist(mnist_root) == mnist_root
    assert {p.name: p.stat().st_mtime_ns for p in raw.iterdir()} == before


def test_prepare_mnist_defaults_to_ganlib_data(monkeypatch, tmp_path):
    monkeypatch.setenv("GANLIB_DATA", str(tmp_path))
    assert data.data_dir() == tmp_path
    with pytest.raises(DatasetUnavailable, match="train-images-idx3-ubyte.gz"):
        prepare_mnist()
    monkeypatch.delenv("GANLIB_DATA")
    assert data.data_dir() == MNIST_GZ.parent


def test_prepare_mnist_missing_file_says_how_to_restore(tmp_path):
    with pytest.raises(DatasetUnavailable) as info:
        prepare_mnist(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "missing" in message
    assert "git checkout data/mnist" in message and "GANLIB_DATA" in message


def test_prepare_mnist_names_the_one_missing_file(tmp_path, mnist_root):
    # the first three are already unpacked (linked), the last .gz is gone
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in list(MNIST_FILES)[:3]:
        os.symlink(mnist_root / "MNIST" / "raw" / name, raw / name)
    (tmp_path / "mnist").mkdir()
    with pytest.raises(DatasetUnavailable) as info:
        prepare_mnist(tmp_path)
    assert "t10k-labels-idx1-ubyte.gz" in str(info.value)
    assert "git checkout data/mnist" in str(info.value)


def test_prepare_mnist_rejects_wrong_content(tmp_path):
    (tmp_path / "mnist").mkdir()
    with gzip.open(tmp_path / "mnist" / "train-images-idx3-ubyte.gz", "wb") as f:
        f.write(b"not the MNIST images" * 100)
    with pytest.raises(DatasetUnavailable) as info:
        prepare_mnist(tmp_path)
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "corrupt" in message
    assert MNIST_FILES["train-images-idx3-ubyte"] in message
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []  # neither the file nor a .partial stays


@pytest.mark.parametrize("how", ["random bytes", "truncated"])
def test_prepare_mnist_rejects_a_broken_gzip(tmp_path, how):
    (tmp_path / "mnist").mkdir()
    source = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    if how == "random bytes":
        source.write_bytes(os.urandom(1000))
    else:  # a copy cut short, e.g. an interrupted download
        source.write_bytes((MNIST_GZ / "train-images-idx3-ubyte.gz").read_bytes()[:20000])
    with pytest.raises(DatasetUnavailable, match="train-images-idx3-ubyte.gz is corrupt"):
        prepare_mnist(tmp_path)
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []


# -- load_dataset / load_mnist ---------------------------------------------------------------------
def test_load_mnist_test_split(mnist_root):
    images, labels = load_mnist("test", root=mnist_root)
    assert images.shape == (10000, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (10000,) and labels.dtype == torch.int64
    assert images.min() == -1.0 and images.max() == 1.0
    assert images[0, 0, 0, 0] == -1.0  # MNIST's border is black
    assert Counter(labels.tolist()) == {0: 980, 1: 1135, 2: 1032, 3: 1010, 4: 982,
                                        5: 892, 6: 958, 7: 1028, 8: 974, 9: 1009}


def test_load_mnist_limit_and_scaling(mnist_root):
    images, labels = load_mnist("train", root=mnist_root, limit=50)
    assert images.shape == (50, 1, 28, 28) and labels.shape == (50,)
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]  # the first training digits of MNIST
    pixels = torchvision.datasets.MNIST(mnist_root, train=True, download=False).data[:50]
    assert torch.allclose(images[:, 0], pixels.float() / 127.5 - 1)
    assert torch.all((images >= -1) & (images <= 1))


def test_load_dataset_mnist_matches_load_mnist(mnist_root):
    a = load_dataset("mnist", "test", root=mnist_root, limit=7, device="cpu")
    b = load_mnist("test", root=mnist_root, limit=7)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[0].device.type == "cpu"


@pytest.mark.parametrize("kwargs, words", [
    (dict(name="imagenet"), ["mnist", "fashion-mnist", "cifar10", "'imagenet'"]),
    (dict(split="valid"), ["'train'", "'test'", "'valid'"]),
    (dict(limit=0), ["positive", "None", "0"]),
    (dict(limit=-5), ["positive", "-5"]),
])
def test_load_dataset_bad_arguments(tmp_path, kwargs, words):
    with pytest.raises(ValueError) as info:
        load_dataset(**kwargs, root=tmp_path)
    for word in words:
        assert word in str(info.value)
    assert list(tmp_path.iterdir()) == []  # checked before anything is read or written


def _unreachable(err):
    class Offline:
        def __init__(self, root, train=True, download=False):
            raise err

    return Offline


@pytest.mark.parametrize("err", [urllib.error.URLError("[Errno -3] Temporary failure in name resolution"),
                                 RuntimeError("Error downloading train-images-idx3-ubyte.gz")])
def test_fashion_mnist_offline_names_the_dataset(monkeypatch, tmp_path, err):
    monkeypatch.setattr(torchvision.datasets, "FashionMNIST", _unreachable(err))
    with pytest.raises(DatasetUnavailable) as info:
        load_dataset("fashion-mnist", root=tmp_path)
    message = str(info.value)
    assert message.startswith("fashion-mnist is not in")
    assert str(tmp_path) in message and "internet" in message
    assert str(tmp_path / "FashionMNIST" / "raw") in message  # where to put the files by hand
    assert str(err.args[0]) in message
    assert info.value.__cause__ is err


def test_cifar10_offline(monkeypatch, tmp_path):
    monkeypatch.setattr(torchvision.datasets, "CIFAR10", _unreachable(urllib.error.URLError("offline")))
    with pytest.raises(DatasetUnavailable, match="^cifar10 is not in"):
        load_dataset("cifar10", "test", root=tmp_path)


def test_rgb_dataset_is_channels_first(monkeypatch, tmp_path):
    import numpy as np

    class FakeCIFAR:
        def __init__(self, root, train=True, download=False):
            self.data = np.full((4, 32, 32, 3), 255, dtype=np.uint8)
            self.data[:, :, :, 1] = 0
            self.targets = [3, 1, 4, 1]

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", FakeCIFAR)
    images, labels = load_dataset("cifar10", root=tmp_path, limit=3)
    assert images.shape == (3, 3, 32, 32)
    assert torch.all(images[:, 0] == 1) and torch.all(images[:, 1] == -1) and torch.all(images[:, 2] == 1)
    assert labels.tolist() == [3, 1, 4] and labels.dtype == torch.int64
    assert "cifar10" in DATASETS


# -- Batches ---------------------------------------------------------------------------------------
def _items(n=12):
    images = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, 2, 2).clone()
    return images, torch.arange(n) * 10


def test_batches_shapes_and_length():
    images, _ = _items(12)
    batches = Batches(images, batch_size=5)
    assert len(batches) == 2
    batch = next(batches)
    assert isinstance(batch, torch.Tensor) and batch.shape == (5, 1, 2, 2)
    assert iter(batches) is batches


def test_batches_every_item_once_per_epoch():
    images, _ = _items(12)
    batches = Batches(images, batch_size=4, seed=3)
    for epoch in (1, 2, 3):
        seen = torch.cat([next(batches)[:, 0, 0, 0] for _ in range(len(batches))])
        assert sorted(seen.tolist()) == list(range(12))
        assert batches.epoch == epoch


def test_batches_drop_the_last_incomplete_slice():
    images, _ = _items(10)
    batches = Batches(images, batch_size=4, seed=1)
    first = [next(batches)[:, 0, 0, 0] for _ in range(2)]
    assert batches.epoch == 1
    third = next(batches)  # only 2 items were left: a new epoch starts instead
    assert third.shape[0] == 4 and batches.epoch == 2
    firsts = torch.cat(first).tolist()
    assert len(set(firsts)) == 8  # no repeats within the epoch


def test_batches_keep_pairs_aligned():
    images, labels = _items(12)
    batches = Batches(images, labels, batch_size=3, seed=5)
    for _ in range(8):
        x, y = next(batches)
        assert x.shape == (3, 1, 2, 2) and y.shape == (3,)
        assert torch.equal(x[:, 0, 0, 0].long() * 10, y)


def test_batches_order_is_random_but_seeded():
    images, _ = _items(20)

    def sequence(seed):
        b = Batches(images, batch_size=5, seed=seed)
        return torch.cat([next(b)[:, 0, 0, 0] for _ in range(8)])

    assert torch.equal(sequence(7), sequence(7))
    assert not torch.equal(sequence(7), sequence(8))
    assert not torch.equal(sequence(7)[:20], torch.arange(20.0))


def test_batches_does_not_use_the_global_rng():
    images, _ = _items(20)
    state = torch.get_rng_state()
    b = Batches(images, batch_size=5, seed=0)
    [next(b) for _ in range(6)]
    assert torch.equal(torch.get_rng_state(), state)


@pytest.mark.parametrize("taken", [0, 1, 2, 4, 5])
def test_batches_state_dict_resumes_the_same_sequence(taken):
    images, labels = _items(12)
    a = Batches(images, labels, batch_size=4, seed=11)
    for _ in range(taken):
        next(a)
    state = a.state_dict()
    expected = [next(a) for _ in range(7)]
    b = Batches(images, labels, batch_size=4, seed=999)  # another seed: the state must override it
    b.load_state_dict(state)
    got = [next(b) for _ in range(7)]
    for (xe, ye), (xg, yg) in zip(expected, got):
        assert torch.equal(xe, xg) and torch.equal(ye, yg)
    assert b.epoch == a.epoch


def test_batches_state_dict_survives_torch_save(tmp_path):
    images, _ = _items(12)
    a = Batches(images, batch_size=5, seed=2)
    next(a)
    torch.save(a.state_dict(), tmp_path / "b.pt")
    expected = [next(a) for _ in range(5)]
    b = Batches(images, batch_size=5)
    b.load_state_dict(torch.load(tmp_path / "b.pt", weights_only=True))
    assert all(torch.equal(e, g) for e, g in zip(expected, (next(b) for _ in range(5))))


@pytest.mark.parametrize("batch_size", [0, -1, 13])
def test_batches_bad_batch_size(batch_size):
    images, _ = _items(12)
    with pytest.raises(ValueError, match=f"between 1 and the dataset size 12; got {batch_size}"):
        Batches(images, batch_size=batch_size)


def test_batches_mismatched_lengths():
    with pytest.raises(ValueError, match=r"same length; got \[12, 11\]"):
        Batches(torch.zeros(12, 1), torch.zeros(11), batch_size=4)


def test_batches_need_a_tensor():
    with pytest.raises(ValueError, match="at least one tensor"):
        Batches(batch_size=4)


def test_class_names_for_every_dataset():
    assert set(data.CLASS_NAMES) == set(DATASETS)
    assert all(len(names) == 10 and len(set(names)) == 10 for names in data.CLASS_NAMES.values())
