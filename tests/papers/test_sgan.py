"""ganlib.papers.sgan (lesson 08): D = Z/(Z+1), the semi-supervised losses, feature matching, the networks, the
two-source batches (and resuming through them) and the classifier's accuracy."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlib.papers import sgan
from ganlib.training import Trainer

IMG = (1, 4, 4)  # tiny images for the training tests


def _message(fn, *args, **kwargs):
    with pytest.raises(ValueError) as info:
        fn(*args, **kwargs)
    return str(info.value)


def _params(model):
    return {k: v.detach().clone() for k, v in model.named_parameters()}


def _changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


# -- D(x) = Z / (Z + 1) ------------------------------------------------------------------------------
def test_real_probability_is_z_over_z_plus_one():
    logits = torch.randn(7, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 3
    z = logits.exp().sum(dim=1)
    assert torch.allclose(sgan.real_probability(logits), z / (z + 1), rtol=1e-12)
    assert sgan.real_probability(torch.zeros(1, 10)).item() == pytest.approx(10 / 11)


def test_real_probability_is_stable_for_huge_logits():
    logits = torch.tensor([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 1000.0]])
    d = sgan.real_probability(logits)
    assert torch.isfinite(d).all() and d.tolist() == [1.0, 0.0, 1.0]
    z = logits.exp().sum(dim=1)
    assert not torch.isfinite(z / (z + 1)).all()  # the direct formula breaks down here


def test_log_real_probability_against_the_direct_formula_and_at_500():
    logits = torch.randn(6, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 4
    z = logits.exp().sum(dim=1)
    log_d, log_not_d = sgan.log_real_probability(logits)
    assert torch.allclose(log_d, torch.log(z / (z + 1)), rtol=1e-10)
    assert torch.allclose(log_not_d, torch.log(1 / (z + 1)), rtol=1e-10)
    log_d, log_not_d = sgan.log_real_probability(torch.tensor([[500.0] * 10, [-500.0] * 10]))
    assert torch.isfinite(log_d).all() and torch.isfinite(log_not_d).all()
    # lse = +-500 + log 10: log D ~ 0 and -(500 - log 10); log(1 - D) ~ -(500 + log 10) and 0
    assert log_d.tolist() == pytest.approx([0.0, -(500 - math.log(10))], abs=1e-3)
    assert log_not_d.tolist() == pytest.approx([-(500 + math.log(10)), 0.0], abs=1e-3)


# -- the discriminator's losses ----------------------------------------------------------------------
def test_discriminator_loss_by_hand_at_zero_logits():
    zeros = torch.zeros(4, 10)
    loss = sgan.discriminator_loss(zeros, torch.tensor([0, 3, 5, 9]), zeros, zeros)
    # uniform over 10 classes: cross-entropy log 10; lse = log 10, D = 10/11
    assert loss.supervised.item() == pytest.approx(math.log(10))
    assert loss.unsupervised.item() == pytest.approx(-math.log(10 / 11) - math.log(1 / 11))
    assert loss.total.item() == pytest.approx(math.log(10) + 0.5 * (math.log(11 / 10) + math.log(11)))
    assert sgan.UNSUPERVISED_WEIGHT == 0.5
    other = sgan.discriminator_loss(zeros, torch.tensor([0, 3, 5, 9]), zeros, zeros, unsupervised_weight=1.0)
    assert other.total.item() == pytest.approx(loss.supervised.item() + loss.unsupervised.item())


def test_discriminator_loss_against_float64_by_the_definition():
    gen = torch.Generator().manual_seed(2)
    lab, unl, fake = (torch.randn(n, 10, generator=gen) * 3 for n in (5, 7, 6))
    labels = torch.randint(10, (5,), generator=gen)
    loss = sgan.discriminator_loss(lab, labels, unl, fake)
    lab64, unl64, fake64 = lab.double(), unl.double(), fake.double()
    p = lab64.exp() / lab64.exp().sum(1, keepdim=True)
    supervised = -p[torch.arange(5), labels].log().mean()
    d_unl = unl64.exp().sum(1) / (unl64.exp().sum(1) + 1)
    d_fake = fake64.exp().sum(1) / (fake64.exp().sum(1) + 1)
    unsupervised = -d_unl.log().mean() - (1 - d_fake).log().mean()
    assert loss.supervised.item() == pytest.approx(supervised.item(), rel=1e-5)
    assert loss.unsupervised.item() == pytest.approx(unsupervised.item(), rel=1e-5)
    assert loss.supervised.item() == pytest.approx(F.cross_entropy(lab, labels).item(), rel=1e-6)
    assert sgan.unsupervised_d_loss(unl, fake).item() == pytest.approx(unsupervised.item(), rel=1e-5)


def test_discriminator_loss_stays_finite_at_500():
    big = torch.full((3, 10), 500.0, requires_grad=True)
    small = torch.full((3, 10), -500.0, requires_grad=True)
    # the worst case: D sure that the real images are fake and the fakes real
    loss = sgan.discriminator_loss(big, torch.tensor([1, 2, 3]), small, big)
    assert all(math.isfinite(v.item()) for v in loss)
    assert loss.unsupervised.item() == pytest.approx((500 - math.log(10)) + (500 + math.log(10)), rel=1e-5)
    loss.total.backward()
    assert torch.isfinite(big.grad).all() and torch.isfinite(small.grad).all()


def test_loss_functions_name_bad_logits():
    assert "(N, K)" in _message(sgan.real_probability, torch.zeros(10))
    assert "(N, 10)" in _message(sgan.unsupervised_d_loss, torch.zeros(2, 10), torch.zeros(2, 9))
    assert "int64" in _message(sgan.discriminator_loss, torch.zeros(2, 10), torch.tensor([0.0, 1.0]),
                               torch.zeros(2, 10), torch.zeros(2, 10))


# -- feature matching --------------------------------------------------------------------------------
def test_feature_matching_by_hand():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]])              # means (2, 3)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0], [1.0, 1.0]])  # means (1, 1), another batch size
    assert sgan.feature_matching_loss(real, fake).item() == pytest.approx(1.0 ** 2 + 2.0 ** 2)
    swapped = torch.tensor([[3.0, 2.0], [1.0, 4.0]])  # other samples, same means: nothing to match
    assert sgan.feature_matching_loss(real, swapped).item() == 0.0


def test_feature_matching_gradient_reaches_only_the_fakes():
    real = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    fake = torch.tensor([[0.0, 0.0], [2.0, 2.0]], requires_grad=True)
    sgan.feature_matching_loss(real, fake).backward()
    assert real.grad is None  # the real features are a target: detached
    # d/d fake_i = -2 (mean_real - mean_fake) / M
    assert torch.allclose(fake.grad, torch.tensor([[-1.0, -2.0], [-1.0, -2.0]]))


def test_feature_matching_names_bad_features():
    assert "3 and 4 features" in _message(sgan.feature_matching_loss, torch.zeros(2, 3), torch.zeros(2, 4))
    assert "features_fake" in _message(sgan.feature_matching_loss, torch.zeros(2, 3), torch.zeros(3))


# -- networks ----------------------------------------------------------------------------------------
def test_gaussian_noise_only_in_training():
    noise = sgan.GaussianNoise(0.5)
    x = torch.zeros(20_000)
    torch.manual_seed(0)
    assert noise(x).std().item() == pytest.approx(0.5, rel=0.03)
    assert torch.equal(noise.eval()(x), x)
    assert torch.equal(sgan.GaussianNoise(0.0)(x), x)
    assert "noise std" in _message(sgan.GaussianNoise, -0.1)


@pytest.mark.parametrize("n_classes, hidden, img_shape", [(10, (1000, 500, 250, 250, 250), (1, 28, 28)),
                                                          (3, (16,), (1, 8, 8)), (5, (12, 6), (3, 4, 4))])
def test_discriminator_shapes(n_classes, hidden, img_shape):
    torch.manual_seed(0)
    D = sgan.SSGANDiscriminator(n_classes, hidden, img_shape=img_shape)
    x = torch.rand(4, *img_shape) * 2 - 1
    assert D(x).shape == (4, n_classes) and D.features(x).shape == (4, hidden[-1])
    assert (D.features(x) >= 0).all()  # ReLU activations
    assert len(D.hidden) == len(hidden)
    linears = [*D.hidden, D.head]
    assert all(hasattr(m, "parametrizations") and hasattr(m.parametrizations, "weight") for m in linears)
    assert all(torch.equal(m.parametrizations.weight.original0, torch.ones(m.out_features, 1)) for m in linears)
    assert all(torch.allclose(m.weight.norm(dim=1), torch.ones(m.out_features)) for m in linears)  # g = 1
    # the official DenseLayer trains no scale (train_scale=False) except the last layer's (train_scale=True)
    assert [m.parametrizations.weight.original0.requires_grad for m in linears] == [False] * len(hidden) + [True]
    assert not any(isinstance(m, (nn.Sigmoid, nn.Softmax, nn.BatchNorm1d)) for m in D.modules())


def test_paper_defaults():
    D = sgan.SSGANDiscriminator()
    assert [m.out_features for m in D.hidden] == [1000, 500, 250, 250, 250] and D.head.out_features == 10
    assert D.input_noise.std == 0.6 and D.hidden_noise.std == 0.5
    G = sgan.SSGANGenerator()
    assert G.z_dim == 100 and [m.out_features for m in G.net if isinstance(m, nn.Linear)] == [500, 500, 784]
    assert sum(isinstance(m, nn.Softplus) for m in G.net) == 2 and isinstance(G.net[-1], nn.Tanh)


def test_discriminator_noise_only_in_train_mode():
    torch.manual_seed(0)
    D = sgan.SSGANDiscriminator(4, (8, 8), img_shape=(1, 8, 8))
    x = torch.rand(3, 1, 8, 8) * 2 - 1
    assert not torch.equal(D(x), D(x))  # fresh noise every call
    D.eval()
    assert torch.equal(D(x), D(x)) and torch.equal(D.features(x), D.features(x))
    quiet = sgan.SSGANDiscriminator(4, (8, 8), input_noise=0.0, hidden_noise=0.0, img_shape=(1, 8, 8))
    assert torch.equal(quiet(x), quiet(x))


def test_discriminator_forward_is_head_of_features_in_eval():
    torch.manual_seed(0)
    D = sgan.SSGANDiscriminator(4, (8, 6), img_shape=(1, 8, 8)).eval()
    x = torch.rand(3, 1, 8, 8) * 2 - 1
    h = torch.relu(D.hidden[1](torch.relu(D.hidden[0](x.flatten(1)))))
    assert torch.allclose(D.features(x), h) and torch.allclose(D(x), D.head(h))


def test_data_init_normalises_every_layer_on_its_batch():
    torch.manual_seed(0)
    D = sgan.SSGANDiscriminator(5, (12, 8), img_shape=(1, 8, 8)).eval()
    x = torch.rand(64, 1, 8, 8) * 2 - 1
    assert D.data_init(x) is D
    pre = D.hidden[0](x.flatten(1))
    for out in (pre, D.hidden[1](torch.relu(pre)), D(x)):
        assert torch.allclose(out.mean(0), torch.zeros(out.shape[1]), atol=1e-4)
        assert torch.allclose(out.std(0, unbiased=False), torch.ones(out.shape[1]), atol=1e-3)
    assert "at least 2" in _message(D.data_init, x[:1])


def test_discriminator_names_bad_inputs():
    D = sgan.SSGANDiscriminator()
    assert _message(D, torch.zeros(2, 784)).startswith("SSGANDiscriminator expects images of shape (N, 1, 28, 28)")
    assert "hidden layer" in _message(sgan.SSGANDiscriminator, hidden=())
    assert "n_classes" in _message(sgan.SSGANDiscriminator, n_classes=0)
    assert "noise std" in _message(sgan.SSGANDiscriminator, input_noise=-1.0)


@pytest.mark.parametrize("z_dim, hidden, img_shape", [(100, (500, 500), (1, 28, 28)), (6, (8,), (1, 8, 8)),
                                                      (5, (7, 9, 4), (3, 4, 4))])
def test_generator_shapes(z_dim, hidden, img_shape):
    torch.manual_seed(0)
    G = sgan.SSGANGenerator(z_dim, hidden, img_shape)
    x = G(sgan.uniform_noise(3, z_dim))
    assert x.shape == (3, *img_shape) and x.min() >= -1 and x.max() <= 1
    assert sum(isinstance(m, nn.BatchNorm1d) for m in G.modules()) == len(hidden)


def test_generator_names_bad_noise():
    G = sgan.SSGANGenerator(6, (8,), (1, 8, 8))
    assert _message(G, torch.zeros(2, 5)) == "SSGANGenerator expects noise of shape (N, 6); got (2, 5)."
    assert "z_dim" in _message(sgan.SSGANGenerator, z_dim=0)


def test_uniform_noise():
    z = sgan.uniform_noise(10_000, generator=torch.Generator().manual_seed(0))
    assert z.shape == (10_000, 100) and z.min() >= 0 and z.max() < 1 and abs(z.mean() - 0.5) < 0.01
    assert torch.equal(z, sgan.uniform_noise(10_000, generator=torch.Generator().manual_seed(0)))


# -- data --------------------------------------------------------------------------------------------
def test_balanced_subset_takes_per_class_of_each_and_is_seeded():
    labels = torch.arange(300) % 10
    labels = labels[torch.randperm(300, generator=torch.Generator().manual_seed(5))]
    torch.manual_seed(0)
    before = torch.get_rng_state()
    idx = sgan.balanced_subset(labels, per_class=7, seed=3)
    assert torch.equal(torch.get_rng_state(), before)  # the global random state is untouched
    assert idx.dtype == torch.long and len(idx) == 70 and len(set(idx.tolist())) == 70
    assert torch.bincount(labels[idx], minlength=10).tolist() == [7] * 10
    assert labels[idx].tolist() == sorted(labels[idx].tolist())  # grouped by class
    assert torch.equal(idx, sgan.balanced_subset(labels, per_class=7, seed=3))
    assert not torch.equal(idx, sgan.balanced_subset(labels, per_class=7, seed=4))


def test_balanced_subset_names_a_short_class():
    labels = torch.tensor([0, 0, 0, 1, 1, 2, 2, 2])
    assert _message(sgan.balanced_subset, labels, per_class=3) == \
        "balanced_subset needs 3 items of each class; class 1 has only 2."
    assert "class 3 has only 0" in _message(sgan.balanced_subset, labels, per_class=1, n_classes=4)
    assert "int64" in _message(sgan.balanced_subset, labels.float())


def _ids(n, offset=0.0):
    """Images whose first pixel is their index (+ offset), so that a batch says which images it holds."""
    x = torch.zeros(n, *IMG)
    x[:, 0, 0, 0] = torch.arange(n) + offset
    return x


def test_semi_supervised_batches_yield_both_sources():
    lab, unl = _ids(10, 1000.0), _ids(95)
    batches = sgan.SemiSupervisedBatches(lab, torch.arange(10), unl, batch_size=10, seed=0)
    assert len(batches) == 9 and iter(batches) is batches
    seen_unl = []
    for _ in range(9):
        (x_lab, y_lab), x_unl = next(batches)
        assert x_lab.shape == (10, *IMG) and x_unl.shape == (10, *IMG) and y_lab.shape == (10,)
        assert torch.equal(x_lab[:, 0, 0, 0] - 1000, y_lab.float())  # labels travel with their images
        assert sorted(y_lab.tolist()) == list(range(10))  # all labels in each step, as one permutation
        seen_unl += x_unl[:, 0, 0, 0].long().tolist()
    assert len(set(seen_unl)) == 90  # one epoch of the unlabelled set, no repeats
    small = sgan.SemiSupervisedBatches(lab[:4], torch.arange(4), unl, batch_size=10)
    (x_lab, _), x_unl = next(small)
    assert len(x_lab) == 4 and len(x_unl) == 10  # the labelled batch defaults to the whole, smaller set
    other = sgan.SemiSupervisedBatches(lab, torch.arange(10), unl, batch_size=10, labelled_batch_size=5)
    assert len(next(other)[0][0]) == 5


def test_semi_supervised_batches_resume_exactly():
    def make():
        return sgan.SemiSupervisedBatches(_ids(10, 1000.0), torch.arange(10), _ids(37), batch_size=4, seed=7)

    whole, first = make(), make()
    expected = [next(whole) for _ in range(25)]
    for _ in range(11):
        next(first)
    resumed = make()
    resumed.load_state_dict(first.state_dict())
    for (a_lab, a_y), a_unl in expected[11:]:
        (b_lab, b_y), b_unl = next(resumed)
        assert torch.equal(a_lab, b_lab) and torch.equal(a_y, b_y) and torch.equal(a_unl, b_unl)


def test_semi_supervised_batches_name_bad_inputs():
    lab, unl = _ids(10), _ids(20)
    assert "one per labelled image" in _message(sgan.SemiSupervisedBatches, lab, torch.arange(9), unl, 4)
    assert "int64 (10,)" in _message(sgan.SemiSupervisedBatches, lab, torch.zeros(10), unl, 4)
    other_size = torch.zeros(20, 1, 5, 5)
    assert "same shape per image" in _message(sgan.SemiSupervisedBatches, lab, torch.arange(10), other_size, 4)
    assert "batch_size" in _message(sgan.SemiSupervisedBatches, lab, torch.arange(10), unl, 0)
    assert "dataset size 20" in _message(sgan.SemiSupervisedBatches, lab, torch.arange(10), unl, 30)


# -- training and scoring ----------------------------------------------------------------------------
def _setup(seed):
    torch.manual_seed(seed)
    G = sgan.SSGANGenerator(4, (8,), IMG)
    D = sgan.SSGANDiscriminator(3, (8, 6), img_shape=IMG)
    data = torch.rand(40, *IMG, generator=torch.Generator().manual_seed(123)) * 2 - 1
    labels = torch.arange(40) % 3
    idx = sgan.balanced_subset(labels, per_class=2, seed=0)  # the same data for every seed
    D.data_init(data[idx])
    opt_g = torch.optim.Adam(G.parameters(), lr=sgan.LR, betas=sgan.BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=sgan.LR, betas=sgan.BETAS)
    batches = sgan.SemiSupervisedBatches(data[idx], labels[idx], data, batch_size=8, seed=seed)
    d_step, g_step = sgan.ssgan_steps(G, D, opt_g, opt_d, z_dim=4)
    return dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step, batches


def test_ssgan_steps_each_change_only_their_own_network():
    state, d_step, g_step, batches = _setup(0)
    G, D = state["G"], state["D"]
    g0, d0 = _params(G), _params(D)
    logs = d_step(next(batches))
    assert set(logs) == {"d_loss", "supervised", "unsupervised", "train_acc"}
    assert logs["d_loss"].item() == pytest.approx(logs["supervised"].item() + 0.5 * logs["unsupervised"].item())
    fixed = {n for n, p in D.named_parameters() if not p.requires_grad}  # the hidden layers' scales (official)
    assert fixed == {f"hidden.{i}.parametrizations.weight.original0" for i in range(len(D.hidden))}
    assert not _changed(g0, _params(G)) and _changed(d0, _params(D)) == set(d0) - fixed
    g1, d1 = _params(G), _params(D)
    logs = g_step(next(batches))
    assert set(logs) == {"g_loss"} and logs["g_loss"].ndim == 0
    assert not _changed(d1, _params(D)) and _changed(g1, _params(G))
    assert {n for n, p in D.named_parameters() if not p.requires_grad} == fixed  # frozen(D) restored the flags


def test_ssgan_steps_use_a_given_unsupervised_loss():
    state, _, _, batches = _setup(0)
    calls = []

    def mine(real, fake):
        calls.append((real.shape, fake.shape))
        return sgan.unsupervised_d_loss(real, fake)

    d_step, _ = sgan.ssgan_steps(state["G"], state["D"], state["opt_g"], state["opt_d"], 4, unsupervised=mine)
    d_step(next(batches))
    assert calls == [((8, 3), (8, 3))]


def test_a_resumed_run_equals_an_uninterrupted_one(tmp_path, states_equal):
    k = 4
    z = sgan.uniform_noise(3, 4, generator=torch.Generator().manual_seed(0))

    def trainer(seed, **kwargs):
        state, d_step, g_step, batches = _setup(seed)
        return Trainer(state, d_step, g_step, batches, fixed_inputs=(z,), snapshot_every=k, progress=False, **kwargs)

    whole = trainer(0)
    whole.fit(2 * k)
    first = trainer(0, checkpoint=tmp_path / "ssgan.pt")
    first.fit(k)
    torch.manual_seed(999)  # the random state moves on in between, as after a restart
    resumed = trainer(1)    # other weights and another batch order: all must come from the file
    assert not torch.equal(resumed.D.head.bias, first.D.head.bias)
    resumed.load(tmp_path / "ssgan.pt")
    resumed.fit(2 * k)
    for name in ("G", "D", "opt_g", "opt_d"):
        states_equal(whole.state[name].state_dict(), resumed.state[name].state_dict())
    assert whole.history.state_dict() == resumed.history.state_dict()
    assert set(whole.history.names()) == {"d_loss", "supervised", "unsupervised", "train_acc", "g_loss"}
    states_equal(whole.batches.state_dict(), resumed.batches.state_dict())
    assert all(torch.equal(a, b) for (_, a), (_, b) in zip(whole.snapshots, resumed.snapshots))


class _Fixed(nn.Module):
    """A stand-in classifier: guesses class 1 for an image whose first pixel is positive, else 0."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        assert not torch.is_grad_enabled() and not self.training
        first = x.flatten(1)[:, :1]
        return torch.cat([-first, first], dim=1) + self.w


def test_classifier_accuracy_in_eval_mode_restoring_the_flag():
    x = torch.zeros(10, *IMG)
    x[:7, 0, 0, 0] = 1.0
    labels = torch.tensor([1] * 6 + [0] * 4)  # right on 6 ones and 3 zeros
    model = _Fixed()
    assert sgan.classifier_accuracy(model, x, labels, batch_size=3) == pytest.approx(0.9)
    assert model.training
    model.eval()
    sgan.classifier_accuracy(model, x, labels)
    assert not model.training
    assert "one per image" in _message(sgan.classifier_accuracy, model, x, labels[:5])
