"""ganlib.layers: the norm table, DCGAN's weight init (chosen by isinstance) and label maps."""

import pytest
import torch
from torch import nn

from ganlib.layers import NORMS, check_norm, dcgan_init, label_maps, norm_layer, uses_bias
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator


def _message(fn, *args):
    with pytest.raises(ValueError) as info:
        fn(*args)
    return str(info.value)


# -- the norm table --------------------------------------------------------------------------------
def test_the_norm_table_is_what_the_papers_use():
    assert NORMS == {"batch": nn.BatchNorm2d, "instance": nn.InstanceNorm2d, "none": None}


@pytest.mark.parametrize("norm", list(NORMS))
def test_norm_layer_for_each_entry(norm):
    layers = norm_layer(norm, 6)
    if NORMS[norm] is None:
        assert layers == [] and uses_bias(norm)
        return
    (layer,) = layers
    assert type(layer) is NORMS[norm] and layer.num_features == 6
    assert not uses_bias(norm)  # a norm subtracts the mean: a bias before it is wasted
    x = torch.randn(3, 6, 4, 4) * 5 + 2
    y = layer.train()(x)
    assert y.shape == x.shape
    assert torch.allclose(y.mean(dim=(0, 2, 3) if norm == "batch" else (2, 3)), torch.zeros(()), atol=1e-5)


def test_norm_layer_splices_into_a_layer_list():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, bias=uses_bias("instance")), *norm_layer("instance", 4), nn.ReLU())
    assert [type(m) for m in net] == [nn.Conv2d, nn.InstanceNorm2d, nn.ReLU] and net[0].bias is None
    assert len(nn.Sequential(nn.Conv2d(1, 4, 3), *norm_layer("none", 4), nn.ReLU())) == 2


def test_instance_norm_keeps_no_running_statistics():
    (layer,) = norm_layer("instance", 3)
    assert not layer.affine and not layer.track_running_stats and not list(layer.parameters())


@pytest.mark.parametrize("fn", [check_norm, uses_bias, lambda norm: norm_layer(norm, 4)])
@pytest.mark.parametrize("norm", ["layer", "Batch", "", None])
def test_unknown_norm_names_the_choices_and_what_came(fn, norm):
    assert _message(fn, norm) == f"norm must be one of 'batch', 'instance', 'none'; got {norm!r}."


def test_check_norm_accepts_every_entry():
    for norm in NORMS:
        assert check_norm(norm) is None


# -- dcgan_init ------------------------------------------------------------------------------------
def _stats(tensors):
    flat = torch.cat([t.detach().flatten() for t in tensors])
    return float(flat.mean()), float(flat.std())


def test_dcgan_init():
    torch.manual_seed(0)
    G, D = DCGANGenerator(32, 32, 3, 16), DCGANDiscriminator(32, 3, 16)
    for model in (G, D):
        model.apply(dcgan_init)
        convs = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
        mean, std = _stats(m.weight for m in convs)
        assert abs(mean) < 0.002 and abs(std - 0.02) < 0.001
        assert all(m.bias is None or not m.bias.any() for m in convs)
    bns = [m for m in (*G.modules(), *D.modules()) if isinstance(m, nn.BatchNorm2d)]
    assert all(not m.bias.any() for m in bns)
    mean, std = _stats(m.weight for m in bns)  # 224 + 224 scales
    assert abs(mean - 1) < 0.005 and abs(std - 0.02) < 0.004


def test_dcgan_init_batchnorm_and_linear():
    torch.manual_seed(1)
    bn1, bn2, lin = nn.BatchNorm1d(4000), nn.BatchNorm2d(4000), nn.Linear(200, 100)
    for m in (bn1, bn2, lin):
        dcgan_init(m)
    for bn in (bn1, bn2):
        mean, std = _stats([bn.weight])
        assert abs(mean - 1) < 0.002 and abs(std - 0.02) < 0.002
        assert not bn.bias.any()
    mean, std = _stats([lin.weight])
    assert abs(mean) < 0.001 and abs(std - 0.02) < 0.001
    assert not lin.bias.any()


def test_dcgan_init_works_on_subclasses_by_isinstance():
    class MyConv(nn.Conv2d):
        pass

    class Renamed(nn.ConvTranspose2d):
        pass

    class WeirdlyNamedNorm(nn.BatchNorm2d):  # no "Conv" or "BatchNorm" in the name that a string match could find
        pass

    torch.manual_seed(2)
    model = nn.Sequential(MyConv(2, 64, 3), Renamed(64, 2, 3), WeirdlyNamedNorm(2000), nn.ReLU())
    with torch.no_grad():
        model[2].bias.fill_(0.5)
    default_std = _stats([model[0].weight])[1]
    model.apply(dcgan_init)
    for conv in model[:2]:
        mean, std = _stats([conv.weight])
        assert abs(mean) < 0.002 and abs(std - 0.02) < 0.0015
        assert not conv.bias.any()
    mean, std = _stats([model[2].weight])
    assert abs(mean - 1) < 0.003 and abs(std - 0.02) < 0.003 and not model[2].bias.any()
    assert default_std > 0.1  # PyTorch's own init is different: the change is real


def test_dcgan_init_leaves_other_modules_alone():
    act, emb, inorm = nn.PReLU(), nn.Embedding(5, 3), nn.InstanceNorm2d(3, affine=True)
    before = [p.clone() for m in (act, emb, inorm) for p in m.parameters()]
    for m in (act, emb, inorm):
        dcgan_init(m)
    assert all(torch.equal(a, b) for a, b in zip(before, (p for m in (act, emb, inorm) for p in m.parameters())))


# -- label_maps (lesson 03) ------------------------------------------------------------------------
def test_label_maps_one_channel_on_per_image():
    maps = label_maps(torch.tensor([2, 0, 2]), n_classes=3, size=4)
    assert maps.shape == (3, 3, 4, 4) and maps.dtype == torch.float32
    assert torch.equal(maps[0, 2], torch.ones(4, 4)) and maps[0, :2].abs().sum() == 0
    assert torch.equal(maps[1, 0], torch.ones(4, 4)) and maps[1, 1:].abs().sum() == 0
    assert torch.equal(maps.sum(1), torch.ones(3, 4, 4))  # exactly one channel on, everywhere


@pytest.mark.parametrize("labels, expected", [
    (torch.tensor([0, 3]), "label_maps expects class indices in 0..2; got values from 0 to 3."),
    (torch.tensor([-1, 0]), "label_maps expects class indices in 0..2; got values from -1 to 0."),
    (torch.tensor([[0, 1]]), "int64 tensor of shape (N,), one class index per image; got torch.int64 of shape (1, 2)"),
    (torch.tensor([0.0, 1.0]), "int64 tensor of shape (N,), one class index per image; got torch.float32 of shape"),
])
def test_label_maps_rejects_bad_labels(labels, expected):
    assert expected in _message(label_maps, labels, 3, 4)
