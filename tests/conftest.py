"""Shared set-up for ganlib's unit tests: a headless matplotlib, one CPU thread, tiny models.

The machine that runs the tests is small and shared, so every fixture here is tiny: MLPs on 8x8
images with 16 hidden units, batches of 8, a few steps.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from ganlib.data import Batches  # noqa: E402
from ganlib.losses import AdversarialLoss  # noqa: E402
from ganlib.papers.gan import MLPDiscriminator, MLPGenerator  # noqa: E402
from ganlib.training import gan_steps  # noqa: E402

torch.set_num_threads(1)  # tiny tensors: threads only cost time on a busy machine

REPO = Path(__file__).resolve().parent.parent
MNIST_GZ = REPO / "data" / "mnist"
Z_DIM = 4
IMG_SHAPE = (1, 8, 8)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def mnist_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the shipped MNIST .gz files, unpacked once for the whole session."""
    from ganlib.data import prepare_mnist

    root = tmp_path_factory.mktemp("data")
    shutil.copytree(MNIST_GZ, root / "mnist")
    prepare_mnist(root)
    return root


def make_gan(seed: int = 0, *, n: int = 64, batch_size: int = 8, lr: float = 1e-3) -> dict:
    """Small MLP G and D (no BatchNorm, so their state dicts hold weights only), Adam and Batches."""
    torch.manual_seed(seed)
    G = MLPGenerator(Z_DIM, IMG_SHAPE, hidden=(16,))
    D = MLPDiscriminator(IMG_SHAPE, hidden=(16,))
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    data = torch.rand(n, *IMG_SHAPE, generator=torch.Generator().manual_seed(123)) * 2 - 1
    batches = Batches(data, batch_size=batch_size, seed=seed)
    d_step, g_step = gan_steps(G, D, opt_g, opt_d, AdversarialLoss("nonsaturating"), z_dim=Z_DIM)
    return dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d, batches=batches, d_step=d_step, g_step=g_step)


@pytest.fixture
def gan() -> dict:
    return make_gan()


@pytest.fixture
def gan_factory():
    """``make_gan`` itself, for tests that need several identical set-ups."""
    return make_gan


def assert_states_equal(a, b) -> None:
    """Two state dicts (nested dicts, lists and tensors) are equal, tensors in dtype and every value."""
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            assert_states_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_states_equal(x, y)
    else:
        assert a == b


@pytest.fixture
def states_equal():
    """``assert_states_equal``, for the tests that check a resumed run against an uninterrupted one."""
    return assert_states_equal
