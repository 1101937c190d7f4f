"""ganlib.evaluation.callbacks: FIDCallback records classifier-FID while training, with its own noise, and
its curve survives a checkpoint; TensorBoardCallback writes every logged number and snapshot once."""

import pytest
import torch

from ganlib.data import Batches, load_mnist
from ganlib.evaluation.callbacks import FIDCallback, TensorBoardCallback
from ganlib.losses import AdversarialLoss
from ganlib.papers.gan import MLPDiscriminator, MLPGenerator
from ganlib.sampling import fixed_noise, generate
from ganlib.training import Trainer, gan_steps


def _digit_gan(seed, **kwargs):
    """A tiny MLP GAN on 64 MNIST digits, in a Trainer."""
    torch.manual_seed(seed)
    G, D = MLPGenerator(4, (1, 28, 28), hidden=(16,)), MLPDiscriminator((1, 28, 28), hidden=(16,))
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    d_step, g_step = gan_steps(G, D, opt_g, opt_d, AdversarialLoss("nonsaturating"), z_dim=4)
    batches = Batches(load_mnist("train", limit=64)[0], batch_size=16, seed=seed)
    kwargs.setdefault("progress", False)
    return Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step, batches, **kwargs)


def test_fid_callback_records_a_curve_without_touching_training(ev):
    plain = _digit_gan(0)
    plain.fit(4)
    watched = _digit_gan(0, callbacks=(FIDCallback(every=2, n=50, z_dim=4, evaluator=ev),))
    watched.fit(4)
    steps, values = watched.history["fid"]
    assert steps == [0, 2, 4] and all(v > 0 for v in values)
    assert watched.history["g_loss"] == plain.history["g_loss"]  # its own noise: training's RNG untouched
    watched.fit(5)  # continuing: nothing twice, and the last step is recorded at the end
    assert watched.history["fid"][0] == [0, 2, 4, 5]


def test_fid_callback_scores_its_own_fixed_noise_and_each_step_once(ev):
    callback = FIDCallback(every=1, n=50, z_dim=4, evaluator=ev, seed=5)
    trainer = _digit_gan(0, callbacks=(callback,))
    state = torch.get_rng_state()
    samples = callback._samples(trainer.G)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(samples, generate(trainer.G, fixed_noise(50, 4, seed=5)))
    trainer.fit(0)
    trainer.fit(0)
    assert trainer.history["fid"][0] == [0]  # a step is recorded once, however often fit starts or ends there


def test_fid_callback_curve_survives_a_checkpoint(ev, tmp_path):
    first = _digit_gan(0, callbacks=(FIDCallback(every=2, n=50, z_dim=4, evaluator=ev),),
                       checkpoint=tmp_path / "run.pt")
    first.fit(3)
    resumed = _digit_gan(1, callbacks=(FIDCallback(every=2, n=50, z_dim=4, evaluator=ev),)).load(tmp_path / "run.pt")
    resumed.fit(4)
    assert resumed.history["fid"][0] == [0, 2, 3, 4]
    assert resumed.history["fid"][1][:3] == first.history["fid"][1]


def test_fid_callback_takes_a_sampler_for_other_generators(ev):
    asked = []

    def sample(G, n):
        asked.append(n)
        return torch.rand(n, 1, 28, 28) * 2 - 1

    trainer = _digit_gan(1, callbacks=(FIDCallback(every=3, n=20, sample=sample, evaluator=ev),))
    trainer.fit(3)
    assert asked == [20, 20] and trainer.history["fid"][0] == [0, 3]


def test_fid_callback_draws_every_class_equally_for_a_conditional_generator(ev):
    class Conditional(torch.nn.Module):  # draws the shared G's images and remembers the labels it was given
        def __init__(self, G):
            super().__init__()
            self.G, self.seen = G, []

        def forward(self, z, labels):
            self.seen.append(labels.clone())
            return self.G(z)

    plain = _digit_gan(0)
    cond = Conditional(plain.G)
    callback = FIDCallback(every=5, n=30, z_dim=4, n_classes=3, evaluator=ev)
    callback.on_start(Trainer({"G": cond}, plain.d_step, plain.g_step, plain.batches, progress=False))
    seen = torch.cat(cond.seen)
    assert torch.equal(torch.bincount(seen), torch.tensor([10, 10, 10]))


@pytest.mark.parametrize("kwargs, match", [
    (dict(every=3, n=20, z_dim=4, sample=lambda G, n: None), "either z_dim .* or sample=.*, not both"),
    (dict(every=3, n=20), "either z_dim"),
    (dict(every=0, z_dim=4), "every must be >= 1 and n >= 2; got every=0, n=10000"),
    (dict(every=1, n=1, z_dim=4), "got every=1, n=1"),
    (dict(every=3, n=20, n_classes=10, sample=lambda G, n: None), "n_classes .* goes with z_dim"),
    (dict(every=3, n=20, z_dim=4, n_classes=0), "must be >= 1; got n_classes=0"),
])
def test_fid_callback_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FIDCallback(**kwargs)


# -- TensorBoard ----------------------------------------------------------------------------------
class _FakeWriter:
    """Records what a SummaryWriter would be asked to write."""

    def __init__(self):
        self.scalars, self.images, self.flushes = [], [], 0

    def add_scalar(self, tag, value, step):
        self.scalars.append((tag, step, float(value)))

    def add_image(self, tag, image, step):
        self.images.append((tag, step, tuple(image.shape), float(image.min()), float(image.max())))

    def flush(self):
        self.flushes += 1


@pytest.mark.parametrize("fid_first", [True, False])
def test_tensorboard_callback_writes_every_number_and_snapshot_once(ev, fid_first):
    writer = _FakeWriter()
    fid = FIDCallback(every=2, n=50, z_dim=4, evaluator=ev)
    board = TensorBoardCallback(every=3, writer=writer)
    trainer = _digit_gan(0, callbacks=(fid, board) if fid_first else (board, fid),
                         fixed_inputs=(fixed_noise(9, 4),), snapshot_every=2)
    trainer.fit(5)

    def written(name):
        return [(s, v) for tag, s, v in writer.scalars if tag == name]

    for name in ("d_loss", "g_loss"):
        assert written(name) == list(zip(*trainer.history[name]))
    fid_points = list(zip(*trainer.history["fid"]))
    assert [s for s, _ in fid_points] == [0, 2, 4, 5]
    # FID's last score comes when fit returns: a TensorBoardCallback placed before it writes that one later
    assert written("fid") == (fid_points if fid_first else fid_points[:-1])
    assert [s for _, s, *_ in writer.images] == [0, 2, 4, 5]          # every snapshot, once, at its step
    assert all(shape[0] == 3 and lo >= 0 and hi <= 1 for _, _, shape, lo, hi in writer.images)
    assert writer.flushes >= 2
    if not fid_first:
        trainer.fit(6)
        assert written("fid")[:4] == fid_points


def test_tensorboard_callback_continues_a_resumed_run_without_writing_twice(ev, tmp_path):
    first = _digit_gan(0, callbacks=(TensorBoardCallback(writer=_FakeWriter()),), fixed_inputs=(fixed_noise(4, 4),),
                       snapshot_every=2, checkpoint=tmp_path / "run.pt")
    first.fit(4)
    writer = _FakeWriter()
    resumed = _digit_gan(1, callbacks=(TensorBoardCallback(writer=writer),), fixed_inputs=(fixed_noise(4, 4),),
                         snapshot_every=2).load(tmp_path / "run.pt")
    resumed.fit(6)
    assert sorted({s for _, s, _ in writer.scalars}) == [5, 6]
    assert [s for _, s, *_ in writer.images] == [6]


def test_tensorboard_callback_explains_a_missing_package(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("torch.utils.tensorboard"):
            raise ImportError("TensorBoard logging requires TensorBoard version 1.15 or above")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    with pytest.raises(ImportError, match="needs the tensorboard package.*pip install tensorboard"):
        TensorBoardCallback("runs")


def test_tensorboard_callback_bad_every():
    with pytest.raises(ValueError, match="every must be a whole number of steps >= 1; got 0"):
        TensorBoardCallback(every=0, writer=_FakeWriter())


def test_tensorboard_callback_with_the_real_summary_writer(ev, tmp_path):
    pytest.importorskip("tensorboard")
    trainer = _digit_gan(0, callbacks=(TensorBoardCallback(tmp_path / "runs", every=1),),
                         fixed_inputs=(fixed_noise(4, 4),), snapshot_every=2)
    trainer.fit(2)
    assert list((tmp_path / "runs").glob("events.out.tfevents.*"))
