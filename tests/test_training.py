"""ganlib.training: History, the standard GAN steps, the Trainer loop, checkpoints and the NaN guard."""

import math
import os

import pytest
import torch
from torch import nn

from ganlib.data import fixed_noise
from ganlib.losses import AdversarialLoss
from ganlib.models import DCGANDiscriminator, DCGANGenerator
from ganlib.training import (CHECKPOINT_VERSION, Callback, CheckpointError, History, Trainer, TrainingDiverged,
                             gan_steps, generate, set_requires_grad)


def _clone(state):
    return {k: v.clone() for k, v in state.items()}


def _changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


def _trainer(g, **kwargs):
    kwargs.setdefault("progress", False)
    return Trainer(g["G"], g["D"], g["opt_g"], g["opt_d"], g["d_step"], g["g_step"], g["batches"], **kwargs)


# -- History ---------------------------------------------------------------------------------------
def test_history_log_getitem_last():
    h = History()
    h.log(1, d_loss=1.5, g_loss=torch.tensor(0.25))
    h.log(2, d_loss=1.0)
    assert h["d_loss"] == ([1, 2], [1.5, 1.0])
    assert h["g_loss"] == ([1], [0.25]) and isinstance(h["g_loss"][1][0], float)
    assert h.last("d_loss") == 1.0 and h.last("g_loss") == 0.25
    assert h.names() == ["d_loss", "g_loss"]
    assert "d_loss" in h and "x" not in h
    assert repr(h) == "History(d_loss: 2 values, last 1; g_loss: 1 values, last 0.25)"


def test_history_missing_name_says_what_was_logged():
    h = History()
    with pytest.raises(KeyError, match="nothing logged as 'd_loss'; logged: nothing yet"):
        h["d_loss"]
    h.log(3, g_loss=1.0, d_real=2.0)
    with pytest.raises(KeyError, match="'loss'; logged: g_loss, d_real"):
        h.last("loss")


def test_history_state_dict_round_trip(tmp_path):
    h = History()
    for step in range(1, 4):
        h.log(step, d_loss=step / 2, g_loss=-step)
    state = h.state_dict()
    assert state == {"d_loss": {"steps": [1, 2, 3], "values": [0.5, 1.0, 1.5]},
                     "g_loss": {"steps": [1, 2, 3], "values": [-1.0, -2.0, -3.0]}}
    torch.save(state, tmp_path / "h.pt")
    h2 = History()
    h2.load_state_dict(torch.load(tmp_path / "h.pt", weights_only=True))
    assert h2.state_dict() == state
    h.log(4, d_loss=9.0)  # the copy does not share lists with the original
    assert h2["d_loss"][0] == [1, 2, 3] and state["d_loss"]["steps"] == [1, 2, 3]


# -- gan_steps -------------------------------------------------------------------------------------
def test_d_step_changes_only_the_discriminator(gan):
    G, D = gan["G"], gan["D"]
    g_before, d_before = _clone(G.state_dict()), _clone(D.state_dict())
    logs = gan["d_step"](next(gan["batches"]))
    assert set(logs) == {"d_loss", "d_real", "d_fake"}
    assert float(logs["d_loss"].detach()) == pytest.approx(float((logs["d_real"] + logs["d_fake"]).detach()))
    assert not _changed(g_before, G.state_dict())
    assert _changed(d_before, D.state_dict()) == set(d_before)  # every D tensor moved
    assert all(p.grad is None for p in G.parameters())


def test_g_step_changes_only_the_generator(gan):
    G, D = gan["G"], gan["D"]
    gan["d_step"](next(gan["batches"]))  # D now holds gradients from its own step
    d_grads = [p.grad.clone() for p in D.parameters()]
    g_before, d_before = _clone(G.state_dict()), _clone(D.state_dict())
    logs = gan["g_step"](next(gan["batches"]))
    assert set(logs) == {"g_loss"} and logs["g_loss"].ndim == 0
    assert not _changed(d_before, D.state_dict())
    assert _changed(g_before, G.state_dict()) == set(g_before)
    assert all(torch.equal(p.grad, g) for p, g in zip(D.parameters(), d_grads))  # no G gradient leaked into D
    assert all(p.requires_grad for p in D.parameters())  # switched back on


def test_gan_steps_on_dcgan_touch_only_their_own_weights():
    torch.manual_seed(0)
    G, D = DCGANGenerator(8, 28, 1, 4), DCGANDiscriminator(28, 1, 4)
    opt_g, opt_d = torch.optim.SGD(G.parameters(), lr=0.1), torch.optim.SGD(D.parameters(), lr=0.1)
    d_step, g_step = gan_steps(G, D, opt_g, opt_d, AdversarialLoss("minimax"), z_dim=8)
    images, labels = torch.rand(4, 1, 28, 28) * 2 - 1, torch.arange(4)
    params = lambda m: {k: v.detach().clone() for k, v in m.named_parameters()}  # noqa: E731
    g0, d0 = params(G), params(D)
    d_step((images, labels))  # (images, labels) batches work too
    assert not _changed(g0, params(G)) and _changed(d0, params(D))
    g1, d1 = params(G), params(D)
    g_step([images, labels])
    assert not _changed(d1, params(D)) and _changed(g1, params(G))


def test_set_requires_grad():
    model = nn.Linear(2, 2)
    set_requires_grad(model, False)
    assert not any(p.requires_grad for p in model.parameters())
    set_requires_grad(model, True)
    assert all(p.requires_grad for p in model.parameters())


# -- generate --------------------------------------------------------------------------------------
def test_generate_cpu_eval_chunks_and_restores_mode(gan):
    G = gan["G"]
    G.bn_probe = nn.BatchNorm1d(4)  # a module whose output depends on train/eval mode
    modes = []
    G.register_forward_pre_hook(lambda m, inp: modes.append(m.training))
    z = fixed_noise(7, 4)
    out = generate(G, z, batch_size=3)
    assert out.device.type == "cpu" and out.shape == (7, 1, 8, 8) and not out.requires_grad
    assert modes == [False, False, False]  # 3 + 3 + 1, in eval mode
    assert G.training
    with torch.no_grad():
        G.eval()
        assert torch.allclose(out, G(z))
    G.eval()
    generate(G, z)
    assert not G.training  # eval stays eval


def test_generate_passes_labels_to_a_conditional_generator():
    from ganlib.models import ConditionalGenerator

    torch.manual_seed(0)
    G = ConditionalGenerator(z_dim=4, n_classes=3, width=2)
    z, y = fixed_noise(7, 4), torch.tensor([0, 1, 2, 0, 1, 2, 0])
    out = generate(G, z, y, batch_size=3)
    G.eval()
    with torch.no_grad():
        assert torch.allclose(out, G(z, y), atol=1e-6)
    with pytest.raises(ValueError, match="one label per noise vector; got 2 labels for 7"):
        generate(G, z, y[:2])


def test_snapshots_of_a_conditional_generator_use_the_fixed_labels(gan):
    from ganlib.models import ConditionalGenerator

    seen = []
    G = ConditionalGenerator(z_dim=4, n_classes=3, img_size=28, width=2)
    G.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[1].clone()))
    labels = torch.tensor([2, 1, 0, 2])
    trainer = Trainer(G, gan["D"], gan["opt_g"], gan["opt_d"], lambda b: {}, lambda b: {}, gan["batches"],
                      fixed_noise=fixed_noise(4, 4), fixed_labels=labels, snapshot_every=1, progress=False)
    trainer.fit(2)
    assert len(trainer.snapshots) == 3 and all(torch.equal(s, labels) for s in seen)
    with pytest.raises(ValueError, match="one label per fixed noise vector; got 3 labels and 4 noise vectors"):
        Trainer(G, gan["D"], gan["opt_g"], gan["opt_d"], lambda b: {}, lambda b: {}, gan["batches"],
                fixed_noise=fixed_noise(4, 4), fixed_labels=labels[:3])


# -- Trainer.fit -----------------------------------------------------------------------------------
def test_fit_runs_logs_and_snapshots(gan):
    z = fixed_noise(6, 4)
    trainer = _trainer(gan, fixed_noise=z, snapshot_every=4)
    history = trainer.fit(10)
    assert history is trainer.history and trainer.step == 10
    for name in ("d_loss", "d_real", "d_fake", "g_loss"):
        steps, values = history[name]
        assert steps == list(range(1, 11)) and all(math.isfinite(v) for v in values)
    assert history.last("d_loss") == pytest.approx(history.last("d_real") + history.last("d_fake"), rel=1e-5)
    assert [s for s, _ in trainer.snapshots] == [0, 4, 8, 10]
    assert all(x.shape == (6, 1, 8, 8) and x.device.type == "cpu" for _, x in trainer.snapshots)
    assert torch.allclose(trainer.snapshots[-1][1], generate(gan["G"], z))
    assert not torch.equal(trainer.snapshots[0][1], trainer.snapshots[-1][1])  # G learned something


def test_fit_continues_and_refuses_to_go_back(gan):
    trainer = _trainer(gan, fixed_noise=fixed_noise(2, 4), snapshot_every=5)
    trainer.fit(3)
    trainer.fit(7)
    assert trainer.step == 7 and trainer.history["g_loss"][0] == list(range(1, 8))
    assert [s for s, _ in trainer.snapshots] == [0, 3, 5, 7]
    trainer.fit(7)  # nothing to do
    assert trainer.step == 7 and len(trainer.history["g_loss"][0]) == 7
    with pytest.raises(ValueError, match="already at step 7; ask for steps >= 7, got 5"):
        trainer.fit(5)


def test_fit_without_fixed_noise_keeps_no_snapshots(gan):
    trainer = _trainer(gan)
    trainer.fit(2)
    assert trainer.snapshots == []


@pytest.mark.parametrize("n_critic", [1, 3])
def test_n_critic_discriminator_steps_per_generator_step(gan, n_critic):
    calls = []
    d_step, g_step = gan["d_step"], gan["g_step"]
    gan["d_step"] = lambda batch: calls.append("d") or d_step(batch)
    gan["g_step"] = lambda batch: calls.append("g") or g_step(batch)
    trainer = _trainer(gan, n_critic=n_critic)
    trainer.fit(4)
    assert calls == (["d"] * n_critic + ["g"]) * 4
    assert len(trainer.history["d_loss"][0]) == 4  # logged once per step: the last critic step's values


def test_each_discriminator_step_draws_a_fresh_batch_and_g_reuses_the_last(gan):
    d_seen, g_seen = [], []
    trainer = _trainer(gan, n_critic=2)
    trainer.d_step = lambda batch: d_seen.append(batch) or {"d_loss": 0.0}
    trainer.g_step = lambda batch: g_seen.append(batch) or {"g_loss": 0.0}
    trainer.fit(2)
    assert len(d_seen) == 4 and len(g_seen) == 2
    assert torch.cat(d_seen).unique(dim=0).shape[0] == 32  # 4 batches of 8 distinct images (an epoch holds 8)
    assert g_seen[0] is d_seen[1] and g_seen[1] is d_seen[3]  # G gets the last critic batch: no extra loading


def test_trainer_rejects_bad_settings(gan):
    with pytest.raises(ValueError, match="n_critic must be a positive integer; got 0"):
        _trainer(gan, n_critic=0)
    with pytest.raises(ValueError, match="snapshot_every and checkpoint_every must be >= 1; got 0, 500"):
        _trainer(gan, snapshot_every=0)


def test_callbacks_are_called(gan):
    seen = []

    class Recorder(Callback):
        def __init__(self):
            self.started, self.steps, self.ended = [], [], []

        def on_start(self, trainer):
            self.started.append(trainer.step)

        def on_step(self, trainer):
            self.steps.append(trainer.step)

        def on_end(self, trainer):
            self.ended.append(trainer.step)

    class OnlyEnd(Callback):
        ended = 0

        def on_end(self, trainer):
            OnlyEnd.ended += 1

    recorder = Recorder()
    trainer = _trainer(gan, callbacks=(lambda t: seen.append((t.step, t.history.last("g_loss"))), recorder, OnlyEnd()))
    trainer.fit(3)
    assert [s for s, _ in seen] == [1, 2, 3]
    assert [v for _, v in seen] == trainer.history["g_loss"][1]
    assert recorder.started == [0] and recorder.steps == [1, 2, 3] and recorder.ended == [3]
    assert OnlyEnd.ended == 1
    trainer.fit(4)
    assert recorder.started == [0, 3] and recorder.steps == [1, 2, 3, 4] and recorder.ended == [3, 4]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), torch.tensor(float("-inf"))])
def test_nan_guard(gan, bad):
    trainer = _trainer(gan)
    trainer.fit(2)
    trainer.d_step = lambda batch: {"d_loss": bad, "d_real": 0.5}
    with pytest.raises(TrainingDiverged) as info:
        trainer.fit(5)
    message = str(info.value)
    assert message.startswith(f"d_loss became {float(bad)} at step 3")
    assert "diverged" in message and "sigmoid" in message
    assert trainer.history["g_loss"][0] == [1, 2]  # the bad values are not logged


def test_nan_guard_points_to_the_checkpoint(gan, tmp_path):
    trainer = _trainer(gan, checkpoint=tmp_path / "run.pt")
    trainer.g_step = lambda batch: {"g_loss": float("nan")}
    with pytest.raises(TrainingDiverged, match=r"g_loss became nan at step 1.*resume from the last checkpoint"):
        trainer.fit(2)


def test_keyboard_interrupt_saves_a_checkpoint(gan, tmp_path, capsys):
    path = tmp_path / "run.pt"
    trainer = _trainer(gan, checkpoint=path, checkpoint_every=100)
    trainer.fit(2)
    d_step = trainer.d_step

    def interrupted(batch):
        if trainer.step == 3:
            raise KeyboardInterrupt
        return d_step(batch)

    trainer.d_step = interrupted
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(10)
    out = capsys.readouterr().out
    assert "Interrupted at step 3 and saved to" in out and "trainer.fit(10)" in out
    assert torch.load(path, weights_only=True)["step"] == 3


# -- checkpoints -----------------------------------------------------------------------------------
def _run(g, steps, **kwargs):
    trainer = _trainer(g, **kwargs)
    trainer.fit(steps)
    return trainer


def _assert_states_equal(a, b):
    if isinstance(a, torch.Tensor):
        assert isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_states_equal(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_states_equal(x, y)
    else:
        assert a == b


def test_resumed_run_equals_an_uninterrupted_one(gan_factory, tmp_path):
    k = 5
    z = fixed_noise(4, 4)
    whole = _run(gan_factory(seed=0), 2 * k, fixed_noise=z, snapshot_every=k)

    first = _run(gan_factory(seed=0), k, fixed_noise=z, snapshot_every=k, checkpoint=tmp_path / "ckpt.pt")
    assert (tmp_path / "ckpt.pt").is_file() and not (tmp_path / "ckpt.pt.tmp").exists()
    torch.manual_seed(999)  # the RNG moves on in between, as after a restart
    torch.randn(100)

    fresh = gan_factory(seed=1)  # other initial weights and another batch order: all must come from the file
    assert not torch.equal(fresh["G"].net[0].weight, first.G.net[0].weight)
    resumed = _trainer(fresh, fixed_noise=z, snapshot_every=k)
    assert resumed.load(tmp_path / "ckpt.pt") is resumed and resumed.step == k
    resumed.fit(2 * k)

    for name in ("G", "D", "opt_g", "opt_d"):
        _assert_states_equal(getattr(whole, name).state_dict(), getattr(resumed, name).state_dict())
    assert whole.history.state_dict() == resumed.history.state_dict()
    assert [s for s, _ in whole.snapshots] == [s for s, _ in resumed.snapshots] == [0, k, 2 * k]
    for (_, a), (_, b) in zip(whole.snapshots, resumed.snapshots):
        assert torch.equal(a, b)
    _assert_states_equal(whole.batches.state_dict(), resumed.batches.state_dict())
    assert whole.step == resumed.step == 2 * k


def test_checkpoint_loads_with_weights_only(gan, tmp_path):
    trainer = _run(gan, 3, fixed_noise=fixed_noise(2, 4), checkpoint=tmp_path / "sub" / "c.pt")
    state = torch.load(tmp_path / "sub" / "c.pt", weights_only=True)
    assert state["version"] == CHECKPOINT_VERSION and state["step"] == 3
    assert set(state) >= {"G", "D", "opt_g", "opt_d", "batches", "rng", "history", "snapshot_steps",
                          "snapshot_images"}
    assert state["history"] == trainer.history.state_dict()
    assert state["snapshot_steps"] == [0, 3]
    _assert_states_equal(state["G"], trainer.G.state_dict())


def test_checkpoint_every(gan, tmp_path):
    path = tmp_path / "c.pt"
    trainer = _trainer(gan, checkpoint=path, checkpoint_every=2)
    saved = []
    trainer.callbacks.append(Callback())
    original = trainer.save
    trainer.save = lambda p: saved.append(trainer.step) or original(p)
    trainer.fit(5)
    assert saved == [2, 4, 5]  # every 2 steps and at the end
    assert torch.load(path, weights_only=True)["step"] == 5


def test_save_returns_the_path_and_load_restores_history(gan, tmp_path):
    trainer = _run(gan, 2)
    assert trainer.save(tmp_path / "x.pt") == tmp_path / "x.pt"
    other = _trainer(gan)
    other.load(tmp_path / "x.pt")
    assert other.history.state_dict() == trainer.history.state_dict() and other.step == 2


def test_load_missing_checkpoint(gan, tmp_path):
    with pytest.raises(CheckpointError, match=r"no checkpoint at .*nothere\.pt: train first"):
        _trainer(gan).load(tmp_path / "nothere.pt")


def test_load_corrupt_checkpoint(gan, tmp_path):
    path = tmp_path / "bad.pt"
    path.write_bytes(os.urandom(4096))
    with pytest.raises(CheckpointError, match=r"bad\.pt is not a readable checkpoint"):
        _trainer(gan).load(path)


def test_load_truncated_checkpoint(gan, tmp_path):
    path = _run(gan, 1).save(tmp_path / "c.pt")
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        _trainer(gan).load(path)


def test_load_foreign_file(gan, tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a ganlib checkpoint"):
        _trainer(gan).load(tmp_path / "other.pt")
    torch.save({"version": 99}, tmp_path / "future.pt")
    with pytest.raises(CheckpointError, match="version 99 is not 1"):
        _trainer(gan).load(tmp_path / "future.pt")


def test_load_checkpoint_of_other_models(gan, gan_factory, tmp_path):
    from ganlib.models import MLPDiscriminator, MLPGenerator

    path = _run(gan, 1).save(tmp_path / "c.pt")
    other = gan_factory()
    other["G"] = MLPGenerator(4, (1, 8, 8), hidden=(32,))  # wider than the checkpoint's
    other["D"] = MLPDiscriminator((1, 8, 8), hidden=(32,))
    with pytest.raises(CheckpointError, match=r"(?s)does not fit these models or optimisers: .*size mismatch for net\.0\.weight"):
        _trainer(other).load(path)


# -- extra state: image pools and schedulers (lesson 06) ---------------------------------------------
def _pooled_gan(gan_factory, seed=0):
    """The test GAN with CycleGAN's extras: D learns from an image pool, both learning rates decay."""
    from ganlib.translation import ImagePool, linear_decay

    g = gan_factory(seed=seed)
    G, D, opt_d = g["G"], g["D"], g["opt_d"]
    pool = ImagePool(size=5, seed=seed)
    sched_g, sched_d = linear_decay(g["opt_g"], 3, 10), linear_decay(opt_d, 3, 10)
    loss = AdversarialLoss("lsgan")
    g_step = g["g_step"]

    def d_step(real):
        with torch.no_grad():
            fake = G(torch.randn(len(real), 4))
        parts = loss.discriminator(D(real), D(pool(fake)))
        opt_d.zero_grad(set_to_none=True)
        parts.total.backward()
        opt_d.step()
        sched_d.step()
        return {"d_loss": parts.total}

    def g_step_decayed(batch):
        logs = g_step(batch)
        sched_g.step()
        return logs

    g.update(d_step=d_step, g_step=g_step_decayed)
    extra = {"pool": pool, "sched_g": sched_g, "sched_d": sched_d}
    return g, extra


def test_resumed_run_with_pool_and_schedulers_equals_an_uninterrupted_one(gan_factory, tmp_path):
    k = 4
    g, extra = _pooled_gan(gan_factory)
    whole = _run(g, 2 * k, extra_state=extra)
    assert len(extra["pool"]) == 5 and whole.opt_g.param_groups[0]["lr"] < 1e-3  # full, and decaying

    g, extra = _pooled_gan(gan_factory)
    _run(g, k, extra_state=extra, checkpoint=tmp_path / "c.pt")
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert set(state["extra"]) == {"pool", "sched_g", "sched_d"} and len(state["extra"]["pool"]["images"]) == 5
    torch.manual_seed(999)
    torch.randn(100)

    fresh, fresh_extra = _pooled_gan(gan_factory, seed=1)  # other weights, pool draws and batch order
    resumed = _trainer(fresh, extra_state=fresh_extra).load(tmp_path / "c.pt")
    assert fresh_extra["sched_g"].last_epoch == k and len(fresh_extra["pool"]) == 5
    resumed.fit(2 * k)

    for name in ("G", "D", "opt_g", "opt_d"):
        _assert_states_equal(getattr(whole, name).state_dict(), getattr(resumed, name).state_dict())
    for name in ("pool", "sched_g", "sched_d"):
        _assert_states_equal(whole.extra_state[name].state_dict(), resumed.extra_state[name].state_dict())
    assert whole.extra_state["sched_d"].get_last_lr() == resumed.extra_state["sched_d"].get_last_lr()
    assert whole.opt_g.param_groups[0]["lr"] == resumed.opt_g.param_groups[0]["lr"]
    assert whole.history.state_dict() == resumed.history.state_dict()


def test_extra_state_names_must_match_the_checkpoint(gan_factory, tmp_path):
    g, extra = _pooled_gan(gan_factory)
    path = _run(g, 2, extra_state=extra).save(tmp_path / "c.pt")
    g2, extra2 = _pooled_gan(gan_factory, seed=1)
    before = {k: v.clone() for k, v in g2["G"].state_dict().items()}
    with pytest.raises(CheckpointError, match=r"it has no state for 'pool_b'.*same extra_state names"):
        _trainer(g2, extra_state={**extra2, "pool_b": extra2["pool"]}).load(path)
    assert not _changed(before, g2["G"].state_dict())  # nothing was loaded
    with pytest.raises(CheckpointError, match=r"holds state for 'sched_d', which this trainer was not given"):
        _trainer(g2, extra_state={"pool": extra2["pool"], "sched_g": extra2["sched_g"]}).load(path)
    with pytest.raises(CheckpointError, match=r"holds state for 'pool', 'sched_g', 'sched_d'"):
        _trainer(g2).load(path)


def test_checkpoint_without_extra_loads_when_no_extra_state_is_given(gan, tmp_path):
    trainer = _run(gan, 2)
    state = trainer.state_dict()
    assert state["extra"] == {}
    del state["extra"]  # as written before extra_state existed
    torch.save(state, tmp_path / "old.pt")
    assert _trainer(gan).load(tmp_path / "old.pt").step == 2
    from ganlib.translation import ImagePool
    with pytest.raises(CheckpointError, match="it has no state for 'pool'"):
        _trainer(gan, extra_state={"pool": ImagePool()}).load(tmp_path / "old.pt")


def test_extra_state_load_gets_the_models_device_and_bad_objects_are_refused(gan, tmp_path):
    class Recorder:
        def __init__(self):
            self.value, self.device = 1, "unset"

        def state_dict(self):
            return {"value": self.value}

        def load_state_dict(self, state, device=None):
            self.value, self.device = state["value"], device

    rec = Recorder()
    path = _run(gan, 1, extra_state={"rec": rec}).save(tmp_path / "c.pt")
    other = Recorder()
    other.value = 7
    _trainer(gan, extra_state={"rec": other}).load(path)
    assert other.value == 1 and other.device == torch.device("cpu")
    with pytest.raises(ValueError, match="extra_state maps names .* got 'x': int"):
        _trainer(gan, extra_state={"x": 3})


def test_periodic_checkpoint_keeps_what_callbacks_logged(gan, tmp_path):
    def log_then_crash(trainer):
        trainer.history.log(trainer.step, cb=trainer.step)
        if trainer.step == 4:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        _trainer(gan, checkpoint=tmp_path / "c.pt", checkpoint_every=3, callbacks=[log_then_crash]).fit(6)
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert state["step"] == 3 and state["history"]["cb"]["steps"] == [1, 2, 3]
