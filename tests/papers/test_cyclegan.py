"""ganlib.papers.cyclegan (lesson 06): the ResNet generator, the pool of past fakes, the cycle and identity
losses and their weights.

(l1_loss is tested in tests/core/test_l1_loss.py, linear_decay in tests/core/test_schedules.py.)
"""

import pytest
import torch
from torch import nn

from ganlib.layers import dcgan_init
from ganlib.losses import AdversarialLoss
from ganlib.papers.cyclegan import (CYCLE_WEIGHT, IDENTITY_WEIGHT, ImagePool, ResidualBlock, ResNetGenerator,
                                    cycle_loss, cyclegan_steps, generator_adversarial_loss, identity_loss)
from ganlib.papers.pix2pix import PatchDiscriminator
from ganlib.utils import count_parameters


def _kinds(module):
    return [type(m).__name__ for m in module]


# -- residual block ---------------------------------------------------------------------------------
@pytest.mark.parametrize("norm, kinds", [
    ("instance", ["ReflectionPad2d", "Conv2d", "InstanceNorm2d", "ReLU",
                  "ReflectionPad2d", "Conv2d", "InstanceNorm2d"]),
    ("batch", ["ReflectionPad2d", "Conv2d", "BatchNorm2d", "ReLU", "ReflectionPad2d", "Conv2d", "BatchNorm2d"]),
    ("none", ["ReflectionPad2d", "Conv2d", "ReLU", "ReflectionPad2d", "Conv2d"]),
])
def test_residual_block_layers_and_shape(norm, kinds):
    block = ResidualBlock(4, norm)
    assert _kinds(block.block) == kinds
    convs = [m for m in block.block if isinstance(m, nn.Conv2d)]
    assert all((c.bias is None) == (norm != "none") for c in convs)  # no bias before a norm
    x = torch.randn(2, 4, 5, 5)
    assert block(x).shape == x.shape


def test_residual_block_adds_its_input():
    torch.manual_seed(0)
    block = ResidualBlock(3, "none")
    x = torch.randn(2, 3, 6, 6)
    with torch.no_grad():
        expected = x + block.block(x)
        assert torch.allclose(block(x), expected)
        block.block[-1].weight.zero_()
        block.block[-1].bias.zero_()
        assert torch.equal(block(x), x)  # a block that adds nothing is the identity


def test_residual_block_bad_norm():
    with pytest.raises(ValueError, match="norm must be one of 'batch', 'instance', 'none'; got 'group'"):
        ResidualBlock(4, "group")


# -- ResNet generator ------------------------------------------------------------------------------
@pytest.mark.parametrize("img_size, n_down, n_blocks, c_in, c_out",
                         [(32, 2, 2, 1, 1), (16, 1, 1, 3, 3), (24, 3, 3, 1, 3)])
def test_resnet_generator_shapes(img_size, n_down, n_blocks, c_in, c_out):
    G = ResNetGenerator(c_in, c_out, img_size, width=4, n_blocks=n_blocks, n_down=n_down)
    y = G(torch.randn(2, c_in, img_size, img_size))
    assert y.shape == (2, c_out, img_size, img_size) and y.abs().max() <= 1
    assert sum(type(m).__name__ == "ResidualBlock" for m in G.net) == n_blocks


def test_resnet_generator_size_check():
    with pytest.raises(ValueError, match=r"multiple of 4; got img_size=30 \(it allows n_down <= 1\)"):
        ResNetGenerator(1, 1, 30, n_down=2)
    with pytest.raises(ValueError, match=r"\(N, 1, 32, 32\)"):
        ResNetGenerator(1, 1, 32, width=2, n_blocks=1)(torch.randn(1, 1, 16, 16))


def test_resnet_generator_parameter_count_matches_the_reference():
    # junyanz/pytorch-CycleGAN-and-pix2pix prints 11.378 M for its resnet_9blocks (3 -> 3 channels, width 64);
    # it keeps a bias in each convolution before an InstanceNorm (64 + 128 + 256 + 9 * 2 * 256 + 128 + 64 = 5,248),
    # which the norm cancels, and ours leaves out.
    G = ResNetGenerator(3, 3, 256, 64, n_blocks=9, n_down=2)
    assert count_parameters(G) == 11_372_931
    assert round((count_parameters(G) + 5_248) / 1e6, 3) == 11.378


def test_resnet_generator_layers():
    G = ResNetGenerator(1, 3, 16, width=4, n_blocks=2, n_down=2)
    kinds = _kinds(G.net)
    assert kinds[:4] == ["ReflectionPad2d", "Conv2d", "InstanceNorm2d", "ReLU"]
    assert kinds[-3:] == ["ReflectionPad2d", "Conv2d", "Tanh"]
    convs = [m for m in G.net if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (1, 4, 1), (4, 8, 2), (8, 16, 2), (16, 8, 2), (8, 4, 2), (4, 3, 1)]
    assert [c.kernel_size[0] for c in convs] == [7, 3, 3, 3, 3, 7]
    assert convs[-1].bias is not None and all(c.bias is None for c in convs[:-1])  # the output has no norm


@pytest.mark.parametrize("norm", ["batch", "none"])
def test_resnet_generator_other_norms(norm):
    G = ResNetGenerator(1, 1, 8, width=2, n_blocks=1, n_down=1, norm=norm)
    assert G(torch.randn(2, 1, 8, 8)).shape == (2, 1, 8, 8)
    assert ("BatchNorm2d" in _kinds(G.modules())) == (norm == "batch")
    assert "InstanceNorm2d" not in _kinds(G.modules())


@pytest.mark.parametrize("kwargs, match", [
    (dict(norm="layer"), "norm must be one of 'batch', 'instance', 'none'; got 'layer'"),
    (dict(width=0), "width must be a positive integer; got 0"),
    (dict(n_blocks=-1), "n_blocks must be a positive integer; got -1"),
    (dict(n_down=1.0), "n_down must be a positive integer; got 1.0"),
])
def test_resnet_generator_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ResNetGenerator(**{"img_size": 16, **kwargs})


# -- image pool ------------------------------------------------------------------------------------
def _marked(values):
    """One 1 x 2 x 2 image per value, filled with it: easy to tell apart."""
    return torch.tensor(values, dtype=torch.float32)[:, None, None, None].expand(-1, 1, 2, 2).clone()


def test_pool_stores_and_returns_new_fakes_until_full():
    pool = ImagePool(size=5)
    first = pool(_marked([0, 1, 2]))
    assert torch.equal(first, _marked([0, 1, 2])) and len(pool) == 3
    second = pool(_marked([3, 4]))
    assert torch.equal(second, _marked([3, 4])) and len(pool) == 5
    assert sorted(float(t[0, 0, 0]) for t in pool.images) == [0, 1, 2, 3, 4]


def test_pool_of_size_zero_returns_the_fakes():
    pool = ImagePool(size=0)
    fakes = _marked([1, 2])
    assert torch.equal(pool(fakes), fakes) and len(pool) == 0


def test_pool_returns_a_past_fake_half_of_the_time():
    size, n = 50, 10_000
    pool = ImagePool(size=size, seed=0)
    pool(_marked(range(-size, 0)))  # full of negative marks
    mirror = [float(t[0, 0, 0]) for t in pool.images]
    out = pool(_marked(range(n)))
    returned = out[:, 0, 0, 0].tolist()
    past = 0
    swaps = [0] * size
    for new, got in zip(range(n), returned):
        if got == new:
            continue
        past += 1  # a stored fake came back; the new one took its slot
        slot = mirror.index(got)
        mirror[slot] = new
        swaps[slot] += 1
    assert abs(past / n - 0.5) < 0.03  # about 6 standard deviations (0.005 each)
    assert min(swaps) > 40 and max(swaps) < 170  # every slot is used, about 100 times each
    assert mirror == [float(t[0, 0, 0]) for t in pool.images]


@pytest.mark.parametrize("p", [0.0, 1.0, 0.25])
def test_pool_swap_probability(p):
    pool = ImagePool(size=10, swap_probability=p, seed=1)
    pool(_marked(range(-10, 0)))
    out = pool(_marked(range(4000)))[:, 0, 0, 0]
    share = float((out != torch.arange(4000.0)).float().mean())
    assert abs(share - p) < 0.04


def test_pool_is_reproducible_and_resumable():
    batches = [torch.randn(4, 1, 2, 2, generator=torch.Generator().manual_seed(i)) for i in range(30)]
    a, b = ImagePool(8, seed=3), ImagePool(8, seed=3)
    outs_a = [a(x) for x in batches]
    for x in batches[:15]:
        b(x)
    resumed = ImagePool(8, seed=99)
    resumed.load_state_dict(b.state_dict())
    assert all(torch.equal(resumed(x), y) for x, y in zip(batches[15:], outs_a[15:]))
    different = ImagePool(8, seed=4)
    assert not all(torch.equal(different(x), y) for x, y in zip(batches, outs_a))


def test_pool_detaches_and_copies():
    pool = ImagePool(2)
    fakes = torch.zeros(2, 1, 2, 2, requires_grad=True)
    out = pool(fakes * 1)
    assert not out.requires_grad
    source = torch.zeros(1, 1, 2, 2)
    pool2 = ImagePool(1)
    pool2(source)
    source.fill_(5.0)
    assert float(pool2.images[0].sum()) == 0.0  # the pool keeps its own copy


def test_pool_errors():
    with pytest.raises(ValueError, match="size must be a whole number of images >= 0; got -1"):
        ImagePool(-1)
    with pytest.raises(ValueError, match=r"swap_probability must be in \[0, 1\]; got 1.5"):
        ImagePool(5, swap_probability=1.5)
    pool = ImagePool(3)
    pool(torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"holds images of shape \(1, 2, 2\); got a batch of \(3, 2, 2\)"):
        pool(torch.zeros(1, 3, 2, 2))
    with pytest.raises(ValueError, match=r"batch of images \(N, C, H, W\); got list"):
        pool([1, 2])


def test_pool_state_survives_torch_save_and_gives_the_same_draws(tmp_path):
    batches = [torch.randn(3, 1, 2, 2, generator=torch.Generator().manual_seed(i)) for i in range(20)]
    original = ImagePool(5, seed=7)
    for x in batches[:8]:
        original(x)
    torch.save(original.state_dict(), tmp_path / "pool.pt")  # as the Trainer's checkpoint holds it
    loaded = ImagePool(5, seed=0)
    loaded.load_state_dict(torch.load(tmp_path / "pool.pt", weights_only=True))
    assert len(loaded) == len(original) == 5
    assert all(torch.equal(a, b) for a, b in zip(loaded.images, original.images))
    for x in batches[8:]:
        assert torch.equal(loaded(x), original(x))
    assert all(torch.equal(a, b) for a, b in zip(loaded.images, original.images))
    assert repr(loaded) == "ImagePool(size=5, holds 5)"


def test_pool_state_dict_holds_cpu_copies_that_later_calls_leave_alone():
    pool = ImagePool(2, swap_probability=1.0, seed=0)
    pool(_marked([1, 2]))
    state = pool.state_dict()
    assert [t.device.type for t in state["images"]] == ["cpu", "cpu"]
    pool(_marked([7, 8]))  # every new fake swaps with a stored one
    assert sorted(float(t[0, 0, 0]) for t in state["images"]) == [1, 2]  # the saved state did not change


def test_loaded_images_move_to_the_fakes_device_on_the_next_call():
    # the 'meta' device stands in for a GPU: a checkpoint is read on the CPU, training runs elsewhere
    source = ImagePool(4, seed=1)
    source(_marked([0, 1, 2, 3]))
    pool = ImagePool(4, seed=1)
    pool.load_state_dict(source.state_dict())  # no device argument: the images stay on the CPU for now
    assert {t.device.type for t in pool.images} == {"cpu"}
    out = pool(torch.zeros(6, 1, 2, 2, device="meta"))
    assert out.device.type == "meta" and out.shape == (6, 1, 2, 2)
    assert len(pool) == 4 and {t.device.type for t in pool.images} == {"meta"}


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_loaded_images_move_to_the_gpu_and_give_the_same_draws():
    batches = [torch.randn(3, 1, 2, 2, generator=torch.Generator().manual_seed(i)) for i in range(12)]
    original = ImagePool(4, seed=2)
    for x in batches[:4]:
        original(x)
    on_gpu = ImagePool(4, seed=2)
    on_gpu.load_state_dict(original.state_dict())
    for x in batches[4:]:
        out = on_gpu(x.cuda())
        assert out.is_cuda and torch.equal(out.cpu(), original(x))
    assert all(t.is_cuda for t in on_gpu.images)
    assert all(t.device.type == "cpu" for t in on_gpu.state_dict()["images"])


# -- cycle and identity losses ----------------------------------------------------------------------
def test_cycle_and_identity_losses_by_hand():
    a, b = torch.zeros(2, 1, 4, 4), torch.full((2, 1, 4, 4), 0.5)
    b[0, 0, 0, 0] = -1.5  # one pixel off by 1.5 instead of 0.5: mean = (31 * 0.5 + 1.5) / 32
    for fn in (cycle_loss, identity_loss):
        assert fn(b, a).item() == pytest.approx((31 * 0.5 + 1.5) / 32)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(3, 3, 8, 8, generator=g), torch.randn(3, 3, 8, 8, generator=g)
    assert torch.allclose(cycle_loss(x, y), nn.functional.l1_loss(x, y))
    assert torch.allclose(identity_loss(x, y), nn.functional.l1_loss(x, y))


def test_cycle_and_identity_losses_refuse_broadcasting_and_name_themselves():
    with pytest.raises(ValueError, match=r"^cycle_loss compares two batches of the same shape; "
                                         r"got \(2, 1, 4, 4\) and \(1, 1, 4, 4\)"):
        cycle_loss(torch.zeros(2, 1, 4, 4), torch.zeros(1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"^identity_loss compares two batches of the same shape; "
                                         r"got \(2, 3, 4, 4\) and \(2, 1, 4, 4\)"):
        identity_loss(torch.zeros(2, 3, 4, 4), torch.zeros(2, 1, 4, 4))


def test_generator_adversarial_loss_is_the_papers_mse_without_a_half():
    scores = torch.tensor([[[[1.0, 3.0], [0.0, -1.0]]]])    # errors 0, 2, -1, -2: squares 0, 4, 1, 4
    assert generator_adversarial_loss(scores).item() == pytest.approx(9 / 4)
    g = torch.Generator().manual_seed(0)
    maps = torch.randn(4, 1, 6, 6, generator=g)
    assert torch.allclose(generator_adversarial_loss(maps), nn.MSELoss()(maps, torch.ones_like(maps)))  # official code
    assert torch.allclose(generator_adversarial_loss(maps), 2 * AdversarialLoss("lsgan").generator(maps))
    maps.requires_grad_(True)
    generator_adversarial_loss(maps).backward()
    assert torch.allclose(maps.grad, 2 * (maps.detach() - 1) / maps.numel())


def test_discriminator_side_is_ganlibs_lsgan_which_already_halves():
    """The official code halves D's loss, (MSE(real, 1) + MSE(fake, 0)) / 2: ganlib's lsgan D loss is that."""
    g = torch.Generator().manual_seed(1)
    real, fake = torch.randn(3, 1, 5, 5, generator=g), torch.randn(3, 1, 5, 5, generator=g)
    paper = 0.5 * (nn.MSELoss()(real, torch.ones_like(real)) + nn.MSELoss()(fake, torch.zeros_like(fake)))
    assert torch.allclose(AdversarialLoss("lsgan").discriminator(real, fake).total, paper)


@pytest.mark.parametrize("bad, got", [([1.0, 2.0], "list"), (torch.ones(2, dtype=torch.long), "torch.int64 tensor")])
def test_generator_adversarial_loss_refuses_what_is_not_float_scores(bad, got):
    with pytest.raises(ValueError, match=f"expects the discriminator's raw scores as a float tensor; got {got}"):
        generator_adversarial_loss(bad)


def test_loss_weights_of_the_paper():
    assert CYCLE_WEIGHT == 10 and IDENTITY_WEIGHT == 5  # λ_identity = 0.5 λ_cycle


def test_resnet_generator_accepts_dcgan_init():
    torch.manual_seed(0)
    G = ResNetGenerator(1, 1, 16, width=8, n_blocks=2, n_down=2).apply(dcgan_init)
    convs = [m for m in G.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    assert all(c.bias is None or c.bias.abs().sum() == 0 for c in convs)
    weights = torch.cat([c.weight.detach().flatten() for c in convs])
    assert abs(float(weights.std()) - 0.02) < 0.002


# -- the training steps ------------------------------------------------------------------------------
def _cyclegan_state():
    torch.manual_seed(0)
    G = nn.ModuleDict({k: ResNetGenerator(1, 1, 8, width=4, n_blocks=1).apply(dcgan_init) for k in ("A2B", "B2A")})
    D = nn.ModuleDict({k: PatchDiscriminator(1, width=4, n_layers=1, norm="instance").apply(dcgan_init)
                       for k in ("A", "B")})
    return {"G": G, "D": D, "opt_g": torch.optim.SGD(G.parameters(), lr=0.1),
            "opt_d": torch.optim.SGD(D.parameters(), lr=0.1), "pool_a": ImagePool(4, seed=1),
            "pool_b": ImagePool(4, seed=2)}


def _after_sgd(model, loss):
    grads = torch.autograd.grad(loss, list(model.parameters()))
    return [p.detach() - 0.1 * g for p, g in zip(model.parameters(), grads)]


@pytest.mark.parametrize("cycle_weight, identity_weight", [(CYCLE_WEIGHT, IDENTITY_WEIGHT), (0.0, IDENTITY_WEIGHT),
                                                           (CYCLE_WEIGHT, 0.0), (1.5, 2.5)])
def test_cyclegan_generator_step_adds_the_three_terms_with_their_weights(cycle_weight, identity_weight):
    state = _cyclegan_state()
    G, D = state["G"], state["D"]
    a, b = torch.rand(3, 1, 8, 8) * 2 - 1, torch.rand(3, 1, 8, 8) * 2 - 1
    fake_b, fake_a = G["A2B"](a), G["B2A"](b)
    adversarial = ((D["B"](fake_b) - 1) ** 2).mean() + ((D["A"](fake_a) - 1) ** 2).mean()   # no ½ (the paper's code)
    cycle = (G["B2A"](fake_b) - a).abs().mean() + (G["A2B"](fake_a) - b).abs().mean()
    identity = (G["A2B"](b) - b).abs().mean() + (G["B2A"](a) - a).abs().mean()
    expected = _after_sgd(G, adversarial + cycle_weight * cycle + identity_weight * identity)
    d_before = [p.detach().clone() for p in D.parameters()]
    logged = cyclegan_steps(state, cycle_weight, identity_weight)[1]((a, b))
    assert torch.isclose(logged["g_adv"], adversarial.detach()) and torch.isclose(logged["cycle"], cycle.detach())
    assert torch.isclose(logged["identity"], identity.detach())                # logged even with weight 0
    assert all(torch.allclose(p, e, atol=1e-6) for p, e in zip(G.parameters(), expected))
    assert all(torch.equal(p, q) for p, q in zip(D.parameters(), d_before)) and all(p.requires_grad for p in D.parameters())


def test_cyclegan_discriminator_step_scores_pooled_fakes_with_the_halved_least_squares_loss():
    state, reference = _cyclegan_state(), _cyclegan_state()
    G, D = reference["G"], reference["D"]
    a, b = torch.rand(3, 1, 8, 8) * 2 - 1, torch.rand(3, 1, 8, 8) * 2 - 1
    with torch.no_grad():
        fake_b, fake_a = G["A2B"](a), G["B2A"](b)
    fake_a, fake_b = reference["pool_a"](fake_a), reference["pool_b"](fake_b)   # the pools' first draws
    halved = lambda real, fake: 0.5 * (((real - 1) ** 2).mean() + (fake ** 2).mean())
    loss_a, loss_b = halved(D["A"](a), D["A"](fake_a)), halved(D["B"](b), D["B"](fake_b))
    expected = _after_sgd(D, loss_a + loss_b)
    g_before = [p.detach().clone() for p in state["G"].parameters()]
    logged = cyclegan_steps(state)[0]((a, b))
    assert torch.isclose(logged["d_A"], loss_a.detach()) and torch.isclose(logged["d_B"], loss_b.detach())
    assert all(torch.allclose(p, e, atol=1e-6) for p, e in zip(state["D"].parameters(), expected))
    assert all(torch.equal(p, q) for p, q in zip(state["G"].parameters(), g_before))
    assert len(state["pool_a"].images) == len(state["pool_b"].images) == 3       # the fakes went through the pools
