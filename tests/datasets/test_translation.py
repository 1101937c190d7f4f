"""ganlib.datasets.translation: the offline tops2digits / edges2digits / thin2thick sets made from MNIST, their cache, and the
readers of real Pix2Pix / CycleGAN folders (lessons 05 and 06)."""

import torch
import torch.nn.functional as F
import pytest
from PIL import Image

from ganlib.data import load_mnist
from ganlib.datasets import translation as td
from ganlib.datasets.translation import (EDGE_THRESHOLD, IMG_SIZE, TOP_ROWS, PairedData, UnpairedData, crop_to_28, edge_map,
                                         load_paired, load_unpaired, make_edges2digits, make_thin2thick, make_tops2digits,
                                         read_image_folder, read_paired_folder, thicken, top_half, unpaired_split)


@pytest.fixture
def root(tmp_path, mnist_root):
    """A fresh data folder (so caches start empty) that sees the session's unpacked MNIST."""
    (tmp_path / "MNIST").symlink_to(mnist_root / "MNIST", target_is_directory=True)
    return tmp_path


@pytest.fixture(scope="module")
def mnist_test_32(mnist_root):
    images, labels = load_mnist("test", root=mnist_root)
    return F.pad(images, (2, 2, 2, 2), value=-1.0), labels


# -- the operations --------------------------------------------------------------------------------
def _sobel_reference(images):
    """Sobel magnitude² with PyTorch's own convolution, on 0..255 values (exact in float32)."""
    u = (images + 1) * 127.5
    kx = torch.tensor([[-1.0, 0, 1], [-2, 0, 2], [-1, 0, 1]])
    gx = F.conv2d(u, kx[None, None], padding=1)
    gy = F.conv2d(u, kx.T[None, None], padding=1)
    return gx**2 + gy**2


def test_edge_map_matches_a_convolution(mnist_test_32):
    digits = mnist_test_32[0][:200]
    expected = torch.where(_sobel_reference(digits) >= EDGE_THRESHOLD**2, 1.0, -1.0)
    assert torch.equal(edge_map(digits), expected)


def test_edge_map_by_hand():
    flat = torch.full((1, 1, 6, 6), -1.0)
    assert torch.equal(edge_map(flat), flat)  # nothing changes, nothing is an edge
    step = torch.full((1, 1, 8, 8), -1.0)
    step[..., :, 4:6] = 1.0  # a bar two pixels wide, away from the border
    edges = edge_map(step)[0, 0]
    assert torch.equal(edges[3], torch.tensor([-1.0, -1, -1, 1, 1, 1, 1, -1]))  # both sides of each step
    # a soft step (half grey) is under the threshold: half of a sharp step is the limit
    soft = torch.full((1, 1, 8, 8), -1.0)
    soft[..., :, 4:] = 0.0
    assert edge_map(soft)[0, 0, 3, 2].item() == -1.0


def test_thicken_is_a_3x3_max_pool(mnist_test_32):
    digits = mnist_test_32[0][:200]
    assert torch.equal(thicken(digits), F.max_pool2d(digits, 3, stride=1, padding=1))
    dot = torch.full((1, 1, 5, 5), -1.0)
    dot[0, 0, 2, 2] = 1.0
    assert thicken(dot)[0, 0].eq(1.0).sum() == 9


def test_operations_check_their_input():
    with pytest.raises(ValueError, match=r"edge_map expects float images \(N, C, H, W\) in \[-1, 1\]; got torch.uint8"):
        edge_map(torch.zeros(1, 1, 4, 4, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"thicken expects.*got torch.float32 \(4, 4\)"):
        thicken(torch.zeros(4, 4))
    with pytest.raises(ValueError, match=r"top_half expects float images.*got list"):
        top_half([1.0])


def test_top_half_blanks_the_lower_rows(mnist_test_32):
    digits = mnist_test_32[0][:100]
    tops = top_half(digits)
    assert TOP_ROWS == IMG_SIZE // 2
    assert torch.equal(tops[..., :TOP_ROWS, :], digits[..., :TOP_ROWS, :])  # exact: the values are k / 127.5 - 1
    assert (tops[..., TOP_ROWS:, :] == -1).all()
    assert (digits[..., TOP_ROWS:, :] > -1).flatten(1).any(1).all()   # every digit had ink below the cut


# -- tops2digits -----------------------------------------------------------------------------------
def test_tops2digits_pairs_each_top_half_with_its_digit(root, mnist_test_32):
    data = make_tops2digits("test", limit=500, seed=3, root=root)
    images, labels = mnist_test_32
    index = torch.randperm(10_000, generator=torch.Generator().manual_seed(3))[:500].sort().values
    assert data.inputs.shape == data.targets.shape == (500, 1, IMG_SIZE, IMG_SIZE)
    assert torch.equal(data.targets, images[index]) and torch.equal(data.labels, labels[index])
    assert torch.equal(data.inputs, top_half(data.targets))
    assert (root / "generated" / "tops2digits-test-500-seed3.pt").exists()
    again = make_tops2digits("test", limit=500, seed=3, root=root)   # from the cache
    assert all(torch.equal(x, y) for x, y in zip(data, again))


def test_tops2digits_errors(root):
    with pytest.raises(ValueError, match="split for 'tops2digits' must be one of 'train', 'test'; got 'val'"):
        make_tops2digits("val", root=root)
    with pytest.raises(ValueError, match="limit=10001 asks for more than the 10000 MNIST test images"):
        make_tops2digits("test", limit=10_001, root=root, cache=False)


# -- edges2digits ----------------------------------------------------------------------------------
def test_edges2digits_whole_test_split(root, mnist_test_32):
    data = make_edges2digits("test", root=root)
    images, labels = mnist_test_32
    assert isinstance(data, PairedData)
    assert data.inputs.shape == data.targets.shape == (10_000, 1, IMG_SIZE, IMG_SIZE)
    assert torch.equal(data.targets, images) and torch.equal(data.labels, labels)  # all of them, in MNIST order
    assert torch.equal(data.inputs, edge_map(data.targets))
    assert set(data.inputs.unique().tolist()) == {-1.0, 1.0}
    assert data.targets.min() == -1 and data.targets.max() == 1
    assert (data.targets[:, :, :2] == -1).all() and (data.targets[..., -2:] == -1).all()  # the 2-pixel padding


def test_crop_to_28_gives_back_the_mnist_digits(root, mnist_root):
    data = make_edges2digits("test", limit=50, root=root)
    digits, _ = load_mnist("test", root=mnist_root)
    index = torch.randperm(10_000, generator=torch.Generator().manual_seed(0))[:50].sort().values
    assert torch.equal(crop_to_28(data.targets), digits[index])
    with pytest.raises(ValueError, match=r"crop_to_28 expects images \(N, C, 32, 32\); got \(2, 1, 28, 28\)"):
        crop_to_28(torch.zeros(2, 1, 28, 28))


def test_edges2digits_is_deterministic(root, mnist_test_32):
    a = make_edges2digits("test", limit=300, seed=5, root=root, cache=False)
    b = make_edges2digits("test", limit=300, seed=5, root=root, cache=False)
    c = make_edges2digits("test", limit=300, seed=6, root=root, cache=False)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    assert not torch.equal(a.targets, c.targets)
    # a random subset, kept in MNIST order: each target is the test image with its label
    images, labels = mnist_test_32
    index = torch.randperm(10_000, generator=torch.Generator().manual_seed(5))[:300].sort().values
    assert torch.equal(a.targets, images[index]) and torch.equal(a.labels, labels[index])
    assert not (root / "generated").exists()  # cache=False writes nothing


def test_edges2digits_cache_is_reused(root, monkeypatch):
    fresh = make_edges2digits("test", limit=100, seed=1, root=root)
    path = root / "generated" / "edges2digits-test-100-seed1.pt"
    assert path.exists() and not list(path.parent.glob("*.partial"))

    def no_mnist(*args, **kwargs):
        raise AssertionError("the cache should have been used")

    monkeypatch.setattr(td, "_mnist_u8", no_mnist)
    cached = make_edges2digits("test", limit=100, seed=1, root=root)
    assert all(torch.equal(x, y) for x, y in zip(fresh, cached))
    stored = torch.load(path, weights_only=True)
    assert stored["tensors"]["inputs"].dtype == torch.uint8  # small on disk
    assert stored["params"]["version"] == td.GENERATOR_VERSION and stored["params"]["seed"] == 1


@pytest.mark.parametrize("damage", ["version", "tensor", "garbage"])
def test_edges2digits_cache_is_rebuilt_when_it_does_not_match(root, monkeypatch, damage):
    fresh = make_edges2digits("test", limit=50, root=root)
    path = root / "generated" / "edges2digits-test-50-seed0.pt"
    if damage == "version":
        monkeypatch.setattr(td, "GENERATOR_VERSION", td.GENERATOR_VERSION + 1)
    elif damage == "tensor":
        stored = torch.load(path, weights_only=True)
        stored["tensors"]["inputs"][0, 0, 10, 10] ^= 255
        torch.save(stored, path)
    else:
        path.write_bytes(b"not a torch file")
    before = path.stat().st_mtime_ns
    rebuilt = make_edges2digits("test", limit=50, root=root)
    assert all(torch.equal(x, y) for x, y in zip(fresh, rebuilt))
    assert path.stat().st_mtime_ns != before  # written again
    assert torch.load(path, weights_only=True)["params"]["version"] == td.GENERATOR_VERSION


def test_edges2digits_without_a_writable_cache(root, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("read-only file system")

    monkeypatch.setattr(td.torch, "save", refuse)
    with pytest.warns(UserWarning, match="could not cache edges2digits"):
        data = make_edges2digits("test", limit=20, root=root)
    assert data.inputs.shape == (20, 1, 32, 32)
    assert not list((root / "generated").glob("*"))


def test_edges2digits_errors(root):
    with pytest.raises(ValueError, match="split for 'edges2digits' must be one of 'train', 'test'; got 'val'"):
        make_edges2digits("val", root=root)
    with pytest.raises(ValueError, match="limit=10001 asks for more than the 10000 MNIST test images"):
        make_edges2digits("test", limit=10_001, root=root, cache=False)
    with pytest.raises(ValueError, match="limit must be a positive number of images or None; got 0"):
        make_edges2digits("test", limit=0, root=root, cache=False)


# -- thin2thick ------------------------------------------------------------------------------------
def test_unpaired_split_is_disjoint_and_deterministic():
    a, b = unpaired_split(101, seed=3)
    assert len(a) == len(b) == 50
    assert not set(a.tolist()) & set(b.tolist())
    assert torch.equal(a, a.sort().values)
    again = unpaired_split(101, seed=3)
    assert torch.equal(a, again[0]) and torch.equal(b, again[1])
    assert not torch.equal(a, unpaired_split(101, seed=4)[0])
    with pytest.raises(ValueError, match="n must be an integer >= 2; got 1"):
        unpaired_split(1)


def test_thin2thick_domains_come_from_disjoint_halves(root, mnist_test_32):
    data = make_thin2thick("test", seed=2, root=root)
    images, labels = mnist_test_32
    index_a, index_b = unpaired_split(10_000, seed=2)
    assert isinstance(data, UnpairedData)
    assert data.a.shape == data.b.shape == (5_000, 1, 32, 32)
    assert torch.equal(data.a, images[index_a]) and torch.equal(data.labels_a, labels[index_a])
    assert torch.equal(data.b_as_a, images[index_b]) and torch.equal(data.labels_b, labels[index_b])
    # domain B is the bold pen; the hidden partners are the same digits in the other domain
    assert torch.equal(data.b, thicken(data.b_as_a)) and torch.equal(data.a_as_b, thicken(data.a))
    assert (data.b + 1).sum() > 1.5 * (data.b_as_a + 1).sum()  # thicker strokes: far more ink


def test_thin2thick_is_deterministic_and_cached(root, monkeypatch):
    a = make_thin2thick("test", limit=40, seed=7, root=root)
    monkeypatch.setattr(td, "_mnist_u8", lambda *args: (_ for _ in ()).throw(AssertionError("rebuilt")))
    b = make_thin2thick("test", limit=40, seed=7, root=root)
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    monkeypatch.undo()
    c = make_thin2thick("test", limit=40, seed=8, root=root, cache=False)
    assert not torch.equal(a.a, c.a)
    assert a.a.shape == (40, 1, 32, 32) and a.labels_b.shape == (40,)


def test_thin2thick_errors(root):
    with pytest.raises(ValueError, match="limit=5001 asks for more than the 5000 images in each half of MNIST test"):
        make_thin2thick("test", limit=5001, root=root, cache=False)


# -- load_paired / load_unpaired by name ------------------------------------------------------------
def test_load_by_name_offline(root):
    paired = load_paired("edges2digits", "test", limit=30, root=root)
    assert all(torch.equal(x, y) for x, y in zip(paired, make_edges2digits("test", limit=30, root=root)))
    paired = load_paired("tops2digits", "test", limit=30, root=root)
    assert all(torch.equal(x, y) for x, y in zip(paired, make_tops2digits("test", limit=30, root=root)))
    assert all(torch.equal(x, y) for x, y in zip(load_paired(split="test", limit=30, root=root), paired))  # the default
    unpaired = load_unpaired("thin2thick", "test", limit=30, root=root)
    assert all(torch.equal(x, y) for x, y in zip(unpaired, make_thin2thick("test", limit=30, root=root)))


def test_load_by_name_errors(root):
    with pytest.raises(ValueError, match="unknown paired dataset 'horse2zebra'; expected one of: edges2digits, tops2digits, fac"):
        load_paired("horse2zebra", root=root)
    with pytest.raises(ValueError, match="unknown unpaired dataset 'facades'; expected one of: thin2thick, horse"):
        load_unpaired("facades", root=root)
    with pytest.raises(ValueError, match="'edges2digits' is made at 32 x 32; got size=64"):
        load_paired("edges2digits", size=64, root=root)
    with pytest.raises(ValueError, match="split for 'horse2zebra' must be one of 'train', 'test'; got 'val'"):
        load_unpaired("horse2zebra", "val", root=root)


# -- real folders ----------------------------------------------------------------------------------
def _save(path, colour_left, colour_right=None, size=(8, 8), mode="RGB"):
    w, h = size
    image = Image.new(mode, (2 * w if colour_right is not None else w, h), colour_left)
    if colour_right is not None:
        image.paste(Image.new(mode, (w, h), colour_right), (w, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


def _value(channel):
    return channel / 127.5 - 1


def test_read_paired_folder(tmp_path):
    for i in range(3):
        _save(tmp_path / "train" / f"{i}.png", (10 * i, 0, 0), (0, 0, 255))
    inputs, targets = read_paired_folder(tmp_path / "train")
    assert inputs.shape == targets.shape == (3, 3, 8, 8)
    assert torch.allclose(inputs[:, 0, 0, 0], _value(torch.tensor([0.0, 10, 20])))  # sorted by name, left = A
    assert torch.allclose(targets[0, :, 0, 0], torch.tensor([-1.0, -1, 1]))
    swapped, _ = read_paired_folder(tmp_path / "train", direction="BtoA", size=4, limit=2)
    assert swapped.shape == (2, 3, 4, 4) and torch.allclose(swapped[:, 2], torch.ones(2, 4, 4))


def test_read_image_folder(tmp_path):
    _save(tmp_path / "trainA" / "b.jpg", 200, mode="L", size=(6, 6))  # a grey image becomes RGB
    _save(tmp_path / "trainA" / "a.png", (255, 0, 0), size=(6, 6))
    (tmp_path / "trainA" / "notes.txt").write_text("not an image")
    images = read_image_folder(tmp_path / "trainA", limit=5)
    assert images.shape == (2, 3, 6, 6) and images.min() >= -1 and images.max() <= 1
    assert torch.allclose(images[0, :, 0, 0], torch.tensor([1.0, -1, -1]))
    assert torch.allclose(images[1, 0], images[1, 1]) and torch.allclose(images[1, 1], images[1, 2])
    assert read_image_folder(tmp_path / "trainA", size=12).shape == (2, 3, 12, 12)


def test_read_folder_errors(tmp_path):
    _save(tmp_path / "x" / "a.png", 0, size=(4, 4), mode="L")
    _save(tmp_path / "x" / "b.png", 0, size=(5, 5), mode="L")
    with pytest.raises(ValueError, match="different sizes.*pass size="):
        read_image_folder(tmp_path / "x")
    with pytest.raises(ValueError, match="is not a folder of images"):
        read_image_folder(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no images"):
        read_image_folder(tmp_path / "empty")
    with pytest.raises(ValueError, match="direction must be 'AtoB' or 'BtoA'; got 'AB'"):
        read_paired_folder(tmp_path / "x", direction="AB")


def test_load_real_sets_placed_by_hand(tmp_path):
    # an unpacked folder under <root>/downloads is used as it is: no network
    for i in range(2):
        _save(tmp_path / "downloads" / "facades" / "train" / f"{i}.jpg", (255, 255, 255), (0, 0, 0), size=(16, 16))
        _save(tmp_path / "downloads" / "horse2zebra" / "testA" / f"{i}.jpg", (0, 0, 0), size=(16, 16))
    _save(tmp_path / "downloads" / "horse2zebra" / "testB" / "z.jpg", (255, 255, 255), size=(16, 16))
    paired = load_paired("facades", "train", size=8, root=tmp_path)
    assert paired.inputs.shape == (2, 3, 8, 8) and paired.labels is None
    assert paired.inputs.mean() < -0.9 and paired.targets.mean() > 0.9  # facades go B (labels) -> A (photo)
    unpaired = load_unpaired("horse2zebra", "test", size=8, root=tmp_path)
    assert unpaired.a.shape == (2, 3, 8, 8) and unpaired.b.shape == (1, 3, 8, 8)
    assert unpaired.a_as_b is None and unpaired.labels_a is None
