"""ganlib.papers.cgan (lesson 03): conditional DCGANs with one-hot, embedding and projection label inputs.

(label_maps is tested in tests/core/test_layers.py.)
"""

import pytest
import torch
from torch import nn

from ganlib.layers import dcgan_init, label_maps
import ganlib
from ganlib.papers.cgan import LABEL_INPUTS, ConditionalDiscriminator, ConditionalGenerator, wrong_labels


def _message(fn, *args):
    with pytest.raises(ValueError) as info:
        fn(*args)
    return str(info.value)


@pytest.mark.parametrize("label_input", ["onehot", "embedding"])
@pytest.mark.parametrize("img_size, channels", [(28, 1), (32, 3), (64, 1)])
def test_conditional_generator_shapes(label_input, img_size, channels):
    torch.manual_seed(0)
    G = ConditionalGenerator(z_dim=8, n_classes=5, img_size=img_size, channels=channels, width=4, label_input=label_input)
    x = G(torch.randn(3, 8), torch.tensor([0, 4, 2]))
    assert x.shape == (3, channels, img_size, img_size) and x.min() >= -1 and x.max() <= 1
    first = next(m for m in G.modules() if isinstance(m, nn.ConvTranspose2d))
    assert first.in_channels == 8 + (5 if label_input == "onehot" else 10)  # z joined with the label code


@pytest.mark.parametrize("label_input", ["onehot", "embedding"])
def test_conditional_generator_listens_to_the_label(label_input):
    torch.manual_seed(0)
    G = ConditionalGenerator(z_dim=8, n_classes=5, width=4, label_input=label_input).eval()
    z = torch.randn(1, 8).repeat(2, 1)
    a, b = G(z, torch.tensor([1, 3]))
    assert not torch.allclose(a, b)  # same noise, different label, different image


@pytest.mark.parametrize("label_input", ["onehot", "embedding", "projection"])
@pytest.mark.parametrize("img_size, channels, batchnorm", [(28, 1, True), (32, 3, False), (64, 1, True)])
def test_conditional_discriminator_shapes(label_input, img_size, channels, batchnorm):
    torch.manual_seed(0)
    D = ConditionalDiscriminator(n_classes=5, img_size=img_size, channels=channels, width=4,
                                 label_input=label_input, batchnorm=batchnorm).eval()
    x = torch.randn(3, channels, img_size, img_size)
    scores = D(x, torch.tensor([0, 4, 2]))
    assert scores.shape == (3,)
    other = D(x, torch.tensor([1, 3, 0]))
    assert not torch.allclose(scores, other)  # the label changes the verdict
    assert not any(isinstance(m, nn.Sigmoid) for m in D.modules())


def test_onehot_discriminator_sees_label_maps_as_extra_channels():
    D = ConditionalDiscriminator(n_classes=10, img_size=28, channels=1, width=4, label_input="onehot")
    first = next(m for m in D.modules() if isinstance(m, nn.Conv2d))
    assert first.in_channels == 1 + 10
    D.eval()
    x, y = torch.randn(2, 1, 28, 28), torch.tensor([4, 9])
    assert torch.equal(D(x, y), D.body(torch.cat([x, label_maps(y, 10, 28)], dim=1)))


def test_projection_discriminator_is_psi_plus_inner_product():
    torch.manual_seed(0)
    D = ConditionalDiscriminator(n_classes=4, img_size=28, channels=1, width=4, label_input="projection").eval()
    x, y = torch.randn(2, 1, 28, 28), torch.tensor([3, 1])
    features = D.body.net[:-1](x).flatten(1)
    psi = features @ D.body.net[-1].weight.flatten() + D.body.net[-1].bias
    expected = psi + (D.embed.weight[y] * features).sum(1)
    assert torch.allclose(D(x, y), expected, atol=1e-5)
    with torch.no_grad():
        D.embed.weight.zero_()  # without class vectors, every label gets the unconditional score
    assert torch.allclose(D(x, y), D(x, torch.tensor([0, 0])))


def test_conditional_models_reject_bad_input():
    G = ConditionalGenerator(z_dim=8, n_classes=5, width=4)
    D = ConditionalDiscriminator(n_classes=5, width=4)
    assert _message(G, torch.zeros(3, 8), torch.tensor([0, 1])).startswith(
        "ConditionalGenerator expects labels as an int64 tensor of shape (3,), one class index per image; "
        "got torch.int64 of shape (2,)")
    assert _message(G, torch.zeros(2, 8), torch.tensor([0, 5])) == (
        "ConditionalGenerator expects class indices in 0..4; got values from 0 to 5.")
    assert _message(G, torch.zeros(2, 7), torch.tensor([0, 1])) == (
        "ConditionalGenerator expects noise of shape (N, 8); got (2, 7).")
    assert _message(D, torch.zeros(2, 1, 32, 32), torch.tensor([0, 1])) == (
        "ConditionalDiscriminator expects images of shape (N, 1, 28, 28); got (2, 1, 32, 32).")
    assert "ConditionalDiscriminator expects labels as an int64 tensor" in _message(
        D, torch.zeros(2, 1, 28, 28), torch.tensor([0.0, 1.0]))
    assert _message(lambda: ConditionalGenerator(label_input="projection")) == (
        "label_input must be 'onehot' or 'embedding'; got 'projection'.")
    assert _message(lambda: ConditionalDiscriminator(label_input="concat")) == (
        f"label_input must be one of {', '.join(LABEL_INPUTS)}; got 'concat'.")
    assert LABEL_INPUTS == ("onehot", "embedding", "projection")
    assert _message(lambda: ConditionalGenerator(n_classes=0)) == "n_classes must be a positive integer; got 0."
    assert _message(lambda: ConditionalDiscriminator(n_classes=-1)) == "n_classes must be a positive integer; got -1."


def test_projection_class_vectors_start_small_and_dcgan_init_leaves_them():
    torch.manual_seed(0)
    D = ConditionalDiscriminator(n_classes=10, width=32, label_input="projection").apply(dcgan_init)
    assert 0.015 < D.embed.weight.std().item() < 0.025  # N(0, 0.02), not nn.Embedding's N(0, 1)


@pytest.mark.parametrize("label_input", ["onehot", "embedding", "projection"])
def test_conditional_discriminator_extra_layers_sit_in_the_body(label_input):
    torch.manual_seed(0)
    plain = ConditionalDiscriminator(n_classes=5, width=4, label_input=label_input)
    deeper = ConditionalDiscriminator(n_classes=5, width=4, label_input=label_input, extra_layers=1)
    convs = lambda D: [m for m in D.body.modules() if isinstance(m, nn.Conv2d)]  # noqa: E731
    assert len(convs(deeper)) == len(convs(plain)) + 1
    assert convs(deeper)[-2].kernel_size == (3, 3) and convs(deeper)[-2].stride == (1, 1)
    x, y = torch.randn(3, 1, 28, 28), torch.tensor([0, 4, 2])
    scores = deeper.eval()(x, y)
    assert scores.shape == (3,) and not torch.allclose(scores, deeper(x, torch.tensor([1, 3, 0])))
    if label_input == "projection":  # phi includes the extra layer: the class vectors match its features
        assert deeper.embed.weight.shape[1] == deeper.body.net[:-1](x).flatten(1).shape[1]


def test_wrong_labels_are_always_wrong_and_each_wrong_class_equally_likely():
    torch.manual_seed(0)
    labels = torch.arange(10).repeat(2000)
    wrong = wrong_labels(labels, 10)
    assert wrong.dtype == torch.int64 and wrong.shape == labels.shape
    assert not (wrong == labels).any() and wrong.min() >= 0 and wrong.max() <= 9
    counts = torch.zeros(10, 10)
    counts.index_put_((labels, wrong), torch.ones(len(labels)), accumulate=True)
    shares = counts[~torch.eye(10, dtype=torch.bool)] / 2000
    assert shares.min() > 0.08 and shares.max() < 0.145  # 1/9 = 0.111 each, 2,000 draws per label
    assert torch.equal(wrong_labels(torch.tensor([0, 1, 1]), 2), torch.tensor([1, 0, 0]))


def test_wrong_labels_rejects_bad_input():
    assert _message(wrong_labels, torch.tensor([0, 1]), 1) == (
        "wrong_labels needs at least 2 classes to pick a wrong one; got n_classes=1.")
    assert _message(wrong_labels, torch.tensor([0, 5]), 5) == "wrong_labels expects class indices in 0..4; got values from 0 to 5."
    assert "wrong_labels expects labels as an int64 tensor" in _message(wrong_labels, torch.tensor([0.0]), 3)


def test_conditional_steps_each_train_their_own_network_on_the_batch_labels():
    torch.manual_seed(0)
    G = ConditionalGenerator(8, 10, width=4, label_input="embedding").apply(dcgan_init)
    D = ConditionalDiscriminator(10, width=4, label_input="projection").apply(dcgan_init)
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    seen = []
    G.register_forward_hook(lambda m, args, out: seen.append(args[1].clone()))  # the labels G is asked for
    d_step, g_step = ganlib.gan_steps(G, D, opt_g, opt_d, ganlib.AdversarialLoss("nonsaturating"), 8, conditional=True)
    batch = (torch.rand(6, 1, 28, 28) * 2 - 1, torch.tensor([0, 1, 2, 3, 4, 5]))
    snap = lambda m: [p.detach().clone() for p in m.parameters()]
    g0, d0 = snap(G), snap(D)
    assert {"d_loss", "d_real", "d_fake"} == set(d_step(batch))
    assert all(torch.equal(a, b) for a, b in zip(g0, snap(G))) and not all(torch.equal(a, b) for a, b in zip(d0, snap(D)))
    d1, g1 = snap(D), snap(G)
    assert set(g_step(batch)) == {"g_loss"}
    assert all(torch.equal(a, b) for a, b in zip(d1, snap(D))) and not all(torch.equal(a, b) for a, b in zip(g1, snap(G)))
    assert all(p.requires_grad for p in D.parameters())  # frozen only inside the step
    assert len(seen) == 2 and all(torch.equal(y, batch[1]) for y in seen)  # fakes for the real batch's labels
    with pytest.raises(ValueError, match=r"\(images, labels\) batches; got Tensor"):
        d_step(batch[0])
