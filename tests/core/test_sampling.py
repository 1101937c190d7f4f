"""ganlib.sampling: noise, fixed noise, balanced labels, latent walks, and generate(G, *inputs)."""

import math

import pytest
import torch
from torch import nn

from ganlib.papers.cgan import ConditionalGenerator
from ganlib.sampling import balanced_labels, fixed_noise, generate, interpolate, sample_noise


# -- noise and labels ------------------------------------------------------------------------------
def test_sample_noise_shape_and_statistics():
    torch.manual_seed(0)
    z = sample_noise(4000, 16)
    assert z.shape == (4000, 16) and z.dtype == torch.float32
    assert abs(float(z.mean())) < 0.02 and abs(float(z.std()) - 1) < 0.02


def test_sample_noise_with_generator_and_device():
    a = sample_noise(3, 5, "cpu", torch.Generator().manual_seed(4))
    b = sample_noise(3, 5, generator=torch.Generator().manual_seed(4))
    assert a.shape == (3, 5) and a.device.type == "cpu" and torch.equal(a, b)


@pytest.mark.parametrize("n, z_dim", [(0, 10), (5, 0), (-1, 3)])
def test_sample_noise_bad_sizes(n, z_dim):
    with pytest.raises(ValueError, match=f"n and z_dim must be positive; got n={n}, z_dim={z_dim}"):
        sample_noise(n, z_dim)


def test_fixed_noise_is_reproducible_and_leaves_global_rng():
    state = torch.get_rng_state()
    a = fixed_noise(8, 10, seed=3)
    b = fixed_noise(8, 10, seed=3)
    c = fixed_noise(8, 10, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    assert a.shape == (8, 10)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(a, torch.randn(8, 10, generator=torch.Generator().manual_seed(3)))


def test_balanced_labels():
    assert balanced_labels(7, 3).tolist() == [0, 1, 2, 0, 1, 2, 0]
    labels = balanced_labels(10_000)
    assert labels.dtype == torch.int64 and torch.equal(torch.bincount(labels), torch.full((10,), 1000))
    with pytest.raises(ValueError, match="n and n_classes must be positive; got n=0, n_classes=10"):
        balanced_labels(0)
    with pytest.raises(ValueError, match="got n=4, n_classes=0"):
        balanced_labels(4, 0)


# -- interpolate (lesson 02) -----------------------------------------------------------------------
@pytest.mark.parametrize("spherical", [True, False])
def test_interpolate_endpoints(spherical):
    g = torch.Generator().manual_seed(0)
    z_a, z_b = torch.randn(16, generator=g), torch.randn(16, generator=g)
    path = interpolate(z_a, z_b, steps=7, spherical=spherical)
    assert path.shape == (7, 16)
    assert torch.allclose(path[0], z_a, atol=1e-5) and torch.allclose(path[-1], z_b, atol=1e-5)


def test_interpolate_linear_midpoint():
    z_a, z_b = torch.tensor([0.0, 2.0, -4.0]), torch.tensor([2.0, 2.0, 4.0])
    path = interpolate(z_a, z_b, steps=5, spherical=False)
    assert torch.allclose(path[2], torch.tensor([1.0, 2.0, 0.0]))
    assert torch.allclose(path[1], torch.tensor([0.5, 2.0, -2.0]))


def test_slerp_keeps_the_norm():
    g = torch.Generator().manual_seed(1)
    z_a, z_b = torch.randn(64, generator=g), torch.randn(64, generator=g)
    z_b = z_b / z_b.norm() * z_a.norm()
    path = interpolate(z_a, z_b, steps=9)
    assert torch.allclose(path.norm(dim=1), z_a.norm().expand(9), rtol=1e-4)
    linear = interpolate(z_a, z_b, steps=9, spherical=False)
    assert linear[4].norm() < 0.9 * z_a.norm()  # the straight line cuts inside the shell


def test_slerp_by_hand_quarter_circle():
    z_a, z_b = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    mid = interpolate(z_a, z_b, steps=3)[1]
    assert torch.allclose(mid, torch.tensor([math.sqrt(0.5), math.sqrt(0.5)]), atol=1e-6)


def test_slerp_of_parallel_vectors_falls_back_to_a_line():
    z = torch.tensor([1.0, 2.0, 2.0])
    path = interpolate(z, 2 * z, steps=3)
    assert torch.isfinite(path).all()
    assert torch.allclose(path[1], 1.5 * z)


@pytest.mark.parametrize("z_a, z_b", [(torch.zeros(4), torch.zeros(5)), (torch.zeros(2, 4), torch.zeros(2, 4)),
                                      (torch.zeros(1, 4), torch.zeros(4))])
def test_interpolate_bad_shapes(z_a, z_b):
    with pytest.raises(ValueError) as info:
        interpolate(z_a, z_b)
    assert "1-D" in str(info.value)
    assert str(tuple(z_a.shape)) in str(info.value) and str(tuple(z_b.shape)) in str(info.value)


# -- generate --------------------------------------------------------------------------------------
class _Noise(nn.Module):
    """G(z): BatchNorm and dropout, so that train and eval mode give different images."""

    def __init__(self, z_dim=4):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(z_dim, 16), nn.BatchNorm1d(16), nn.Dropout(0.5), nn.Linear(16, 4), nn.Tanh())

    def forward(self, z):
        return self.net(z).view(-1, 1, 2, 2)


class _ThreeInputs(nn.Module):
    """G(z, category, codes), as InfoGAN's generator, with BatchNorm."""

    def __init__(self, z_dim=4, n_classes=3, n_codes=2):
        super().__init__()
        self.n_classes = n_classes
        self.net = nn.Sequential(nn.Linear(z_dim + n_classes + n_codes, 8), nn.BatchNorm1d(8), nn.Linear(8, 4))

    def forward(self, z, category, codes):
        x = torch.cat([z, nn.functional.one_hot(category, self.n_classes).float(), codes], dim=1)
        return self.net(x).tanh().view(-1, 1, 2, 2)


def _inputs(n, kind):
    g = torch.Generator().manual_seed(7)
    z = torch.randn(n, 4, generator=g)
    if kind == "one":
        return _Noise(), (z,)
    if kind == "two":
        return ConditionalGenerator(z_dim=4, n_classes=3, img_size=28, width=2), (z, balanced_labels(n, 3))
    return _ThreeInputs(), (z, balanced_labels(n, 3), torch.rand(n, 2, generator=g) * 2 - 1)


def _trained_a_little(G, inputs):
    """A few forward passes in train mode, so BatchNorm's running statistics are not the defaults."""
    G.train()
    with torch.no_grad():
        for _ in range(3):
            G(*inputs)
    return G


@pytest.mark.parametrize("kind", ["one", "two", "three"])
def test_generate_is_G_of_the_inputs_in_eval_mode(kind):
    torch.manual_seed(0)
    G, inputs = _inputs(10, kind)
    G = _trained_a_little(G, inputs)
    out = generate(G, *inputs)
    assert G.training  # restored
    with torch.no_grad():
        expected = G.eval()(*inputs)
        in_train_mode = G.train()(*inputs)
    assert out.shape == expected.shape and out.device.type == "cpu" and not out.requires_grad
    assert torch.allclose(out, expected, atol=1e-6)
    assert not torch.allclose(out, in_train_mode, atol=1e-3)  # the mode matters, so the test can tell


@pytest.mark.parametrize("kind", ["one", "two", "three"])
def test_generate_in_chunks_gives_the_same_images(kind):
    torch.manual_seed(0)
    G, inputs = _inputs(10, kind)
    G = _trained_a_little(G, inputs)
    sizes = []
    G.register_forward_pre_hook(lambda module, args: sizes.append([len(a) for a in args]))
    whole = generate(G, *inputs)
    chunked = generate(G, *inputs, batch_size=3)
    assert torch.allclose(whole, chunked, atol=1e-6)
    width = len(inputs)
    assert sizes == [[10] * width] + [[3] * width] * 3 + [[1] * width]  # every input cut at the same rows


def test_generate_keeps_eval_mode_and_computes_no_gradients():
    G, (z,) = _inputs(6, "one")
    G.eval()
    out = generate(G, z)
    assert not G.training and not out.requires_grad
    assert all(p.grad is None for p in G.parameters())


def test_generate_restores_train_mode_when_G_fails():
    class Broken(_Noise):
        def forward(self, z):
            raise RuntimeError("boom")

    G = Broken().train()
    with pytest.raises(RuntimeError, match="boom"):
        generate(G, torch.zeros(2, 4))
    assert G.training


@pytest.mark.parametrize("lengths", [(4, 3), (3, 4), (5, 5, 2)])
def test_generate_refuses_inputs_of_different_lengths(lengths):
    inputs = [torch.zeros(lengths[0], 4), torch.zeros(lengths[1], dtype=torch.long)]
    if len(lengths) == 3:
        inputs.append(torch.zeros(lengths[2], 2))
    with pytest.raises(ValueError) as info:
        generate(_ThreeInputs(), *inputs)
    message = str(info.value)
    assert message.startswith("generate needs one row per sample in every input")
    assert message.endswith(f"got inputs of {', '.join(map(str, lengths))} rows.")


@pytest.mark.parametrize("inputs, got", [
    (([[0.0] * 4],), "list"),
    ((torch.zeros(2, 4), [0, 1]), "Tensor, list"),
    ((None,), "NoneType"),
    ((), "nothing"),
])
def test_generate_refuses_what_is_not_a_tensor(inputs, got):
    with pytest.raises(ValueError) as info:
        generate(_Noise(), *inputs)
    assert str(info.value) == ("generate needs the generator's inputs as tensors, e.g. (z,) or (z, labels); "
                               f"got {got}.")


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, True])
def test_generate_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer; got {batch_size!r}"):
        generate(_Noise(), torch.zeros(2, 4), batch_size=batch_size)
