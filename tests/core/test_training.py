"""ganlib.training: History, the standard GAN steps, the Trainer loop, checkpoints and the NaN guard."""

import math
import os
import signal

import pytest
import torch
from torch import nn

from ganlib.losses import AdversarialLoss
from ganlib.papers.cgan import ConditionalGenerator
from ganlib.papers.cyclegan import ImagePool
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlib.papers.gan import MLPDiscriminator, MLPGenerator
from ganlib.sampling import fixed_noise, generate
from ganlib.schedules import linear_decay
from ganlib.training import (CHECKPOINT_VERSION, Callback, CheckpointError, History, Trainer, TrainingDiverged,
                             frozen, gan_steps)


def _clone(state):
    return {k: v.clone() for k, v in state.items()}


def _changed(before, after):
    return {k for k in before if not torch.equal(before[k], after[k])}


def _trainer(g, extra=None, **kwargs):
    kwargs.setdefault("progress", False)
    state = {name: g[name] for name in ("G", "D", "opt_g", "opt_d")} | (extra or {})
    return Trainer(state, g["d_step"], g["g_step"], g["batches"], **kwargs)


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


def test_frozen_switches_gradients_off_and_restores_each_flag():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    b.bias.requires_grad_(False)  # a flag that was off before stays off after
    with frozen(a, b):
        assert not any(p.requires_grad for m in (a, b) for p in m.parameters())
        out = a(torch.ones(1, 2, requires_grad=True)).sum()
    out.backward()  # gradients flowed through a to its input, none into a's weights
    assert a.weight.grad is None
    assert a.weight.requires_grad and a.bias.requires_grad and b.weight.requires_grad
    assert not b.bias.requires_grad
    with pytest.raises(RuntimeError, match="boom"):
        with frozen(a):
            raise RuntimeError("boom")
    assert a.weight.requires_grad  # restored when the block raises, too


# -- snapshots --------------------------------------------------------------------------------------
def test_snapshots_of_a_conditional_generator_use_the_fixed_labels(gan):
    seen = []
    G = ConditionalGenerator(z_dim=4, n_classes=3, img_size=28, width=2)
    G.register_forward_pre_hook(lambda m, inputs: seen.append(inputs[1].clone()))
    labels = torch.tensor([2, 1, 0, 2])
    trainer = Trainer({"G": G}, lambda b: {}, lambda b: {}, gan["batches"],
                      fixed_inputs=(fixed_noise(4, 4), labels), snapshot_every=1, progress=False)
    trainer.fit(2)
    assert len(trainer.snapshots) == 3 and all(torch.equal(s, labels) for s in seen)
    with pytest.raises(ValueError, match="fixed_inputs needs one row per sample .* got inputs of 4, 3 rows"):
        Trainer({"G": G}, lambda b: {}, lambda b: {}, gan["batches"], fixed_inputs=(fixed_noise(4, 4), labels[:3]))
    with pytest.raises(ValueError, match=r"write \(z,\) for noise alone"):
        Trainer({"G": G}, lambda b: {}, lambda b: {}, gan["batches"], fixed_inputs=fixed_noise(4, 4))


class _ThreeInputs(nn.Module):
    """A generator of three inputs, as InfoGAN's G(z, category, continuous codes)."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, z, category, codes):
        return (self.scale * (z.sum(1) + category.float() + codes.sum(1))).view(-1, 1, 1, 1).tanh()


def test_snapshots_take_any_tuple_of_fixed_inputs(gan):
    G = _ThreeInputs()
    inputs = (fixed_noise(5, 3), torch.arange(5), torch.linspace(-1, 1, 10).view(5, 2))
    trainer = Trainer({"G": G}, None, lambda b: {}, gan["batches"], fixed_inputs=inputs, snapshot_every=2,
                      progress=False)
    trainer.fit(2)
    assert [s for s, _ in trainer.snapshots] == [0, 2]
    assert torch.equal(trainer.snapshots[-1][1], G(*inputs).detach())


# -- Trainer.fit -----------------------------------------------------------------------------------
def test_fit_runs_logs_and_snapshots(gan):
    z = fixed_noise(6, 4)
    trainer = _trainer(gan, fixed_inputs=(z,), snapshot_every=4)
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
    trainer = _trainer(gan, fixed_inputs=(fixed_noise(2, 4),), snapshot_every=5)
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
    assert len(trainer.history["d_loss"][0]) == 4  # logged once per generator step


def test_critic_logs_are_averaged_over_the_critic_steps(gan):
    values = iter([1.0, 2.0, 6.0, 10.0, 20.0, 30.0])
    trainer = _trainer(gan, n_critic=3)
    trainer.d_step = lambda batch: {"d_loss": next(values), "w": torch.tensor(1.0)}
    trainer.g_step = lambda batch: {"g_loss": 0.5}
    trainer.fit(2)
    assert trainer.history["d_loss"] == ([1, 2], [3.0, 20.0])  # (1 + 2 + 6) / 3 and (10 + 20 + 30) / 3
    assert trainer.history["w"][1] == [1.0, 1.0] and trainer.history["g_loss"][1] == [0.5, 0.5]


def test_a_step_function_reads_the_current_step(gan):
    seen = []

    def g_step(batch):  # e.g. ProGAN's fade-in: alpha grows with the step
        seen.append((trainer.step, min(1.0, trainer.step / 4)))
        return {"alpha": seen[-1][1]}

    trainer = Trainer({"G": gan["G"]}, None, g_step, gan["batches"], progress=False)
    trainer.fit(3)
    trainer.fit(6)
    assert [s for s, _ in seen] == [0, 1, 2, 3, 4, 5]  # the steps done before this one
    assert trainer.history["alpha"] == ([1, 2, 3, 4, 5, 6], [0.0, 0.25, 0.5, 0.75, 1.0, 1.0])


def test_a_phase_without_discriminator_steps_then_an_adversarial_phase(gan):
    """SRGAN-style: pre-train G alone (d_step=None), then swap in the adversarial steps."""
    calls, batches_seen = [], []
    d_step, g_step = gan["d_step"], gan["g_step"]
    pretrain = lambda batch: calls.append("pre") or batches_seen.append(batch) or {"pixel": 0.0}  # noqa: E731
    trainer = Trainer({"G": gan["G"], "D": gan["D"]}, None, pretrain, gan["batches"], n_critic=2, progress=False)
    d_before = _clone(gan["D"].state_dict())
    trainer.fit(3)
    assert calls == ["pre"] * 3 and len(batches_seen) == 3  # a fresh batch for every generator step
    assert not torch.equal(batches_seen[0], batches_seen[1])
    assert not _changed(d_before, gan["D"].state_dict())  # no discriminator step ran
    trainer.d_step = lambda batch: calls.append("d") or d_step(batch)
    trainer.g_step = lambda batch: calls.append("g") or g_step(batch)
    trainer.fit(4)
    assert calls[3:] == ["d", "d", "g"] and _changed(d_before, gan["D"].state_dict())
    assert trainer.history["pixel"][0] == [1, 2, 3] and trainer.history["g_loss"][0] == [4]


@pytest.mark.parametrize("n_critic", [1, 3])
def test_schedulers_in_the_state_step_once_per_generator_step(gan, n_critic):
    sched_g, sched_d = linear_decay(gan["opt_g"], 2, 8), linear_decay(gan["opt_d"], 2, 8)
    trainer = _trainer(gan, {"sched_g": sched_g, "sched_d": sched_d}, n_critic=n_critic)
    trainer.fit(5)
    assert sched_g.last_epoch == sched_d.last_epoch == 5
    assert gan["opt_d"].param_groups[0]["lr"] == pytest.approx(1e-3 * (1 - 3 / 8))


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
    with pytest.raises(ValueError, match="snapshot_every must be a positive integer; got 0"):
        _trainer(gan, snapshot_every=0)
    with pytest.raises(ValueError, match=r"with the generator as 'G', e.g. dict\(G=G, D=D.*got 'D'"):
        Trainer({"D": gan["D"]}, gan["d_step"], gan["g_step"], gan["batches"])
    with pytest.raises(ValueError, match="state maps names .* got 'x': int"):
        _trainer(gan, {"x": 3})
    with pytest.raises(ValueError, match="d_step .* and g_step must be functions .* got int and function"):
        Trainer({"G": gan["G"]}, 3, gan["g_step"], gan["batches"])


def test_a_step_that_returns_no_dict_is_refused_clearly(gan):
    trainer = _trainer(gan)
    trainer.g_step = lambda batch: 1.5
    with pytest.raises(TypeError, match="must return a dict of numbers to log.*got float"):
        trainer.fit(1)


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


@pytest.fixture
def usual_ctrl_c():
    """Python's own SIGINT handler during the test (a background job may start with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _interrupt_in_d_step(trainer, at_step, presses=1):
    """Make the discriminator step of step ``at_step + 1`` send itself ``presses`` Ctrl-Cs, then finish."""
    d_step = trainer.d_step

    def interrupted(batch):
        if trainer.step == at_step:
            for _ in range(presses):
                os.kill(os.getpid(), signal.SIGINT)
        return d_step(batch)

    trainer.d_step = interrupted


def test_ctrl_c_during_a_step_stops_after_it_and_saves_a_whole_step(gan_factory, tmp_path, capsys, states_equal,
                                                                     usual_ctrl_c):
    """The interrupt lands between the discriminator's and the generator's update: the loop finishes the
    step, saves, and the saved run resumes exactly like one that never stopped."""
    path = tmp_path / "run.pt"
    whole = _run(gan_factory(seed=0), 6)
    trainer = _trainer(gan_factory(seed=0), checkpoint=path, checkpoint_every=100)
    _interrupt_in_d_step(trainer, at_step=3)
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(6)
    out = capsys.readouterr().out
    assert "Stopping after this step" in out and "Interrupted at step 4 and saved to" in out and "fit(6)" in out
    assert trainer.step == 4 and torch.load(path, weights_only=True)["step"] == 4
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the usual Ctrl-C is back

    resumed = _trainer(gan_factory(seed=1), checkpoint=path).load(path)
    resumed.fit(6)
    for name in ("G", "D", "opt_g", "opt_d"):
        states_equal(whole.state[name].state_dict(), resumed.state[name].state_dict())
    assert whole.history.state_dict() == resumed.history.state_dict()


def test_a_second_ctrl_c_stops_at_once_and_keeps_the_last_whole_checkpoint(gan_factory, tmp_path, capsys,
                                                                            states_equal, usual_ctrl_c):
    path = tmp_path / "run.pt"
    whole = _run(gan_factory(seed=0), 6)
    trainer = _trainer(gan_factory(seed=0), checkpoint=path, checkpoint_every=2)
    _interrupt_in_d_step(trainer, at_step=3, presses=2)  # D's update of step 4 is left half done
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(6)
    out = capsys.readouterr().out
    assert "Interrupted in the middle of step 4" in out and "is left as it was" in out
    assert torch.load(path, weights_only=True)["step"] == 2  # the last whole checkpoint, untouched

    resumed = _trainer(gan_factory(seed=1), checkpoint=path).load(path)
    resumed.fit(6)
    for name in ("G", "D", "opt_g", "opt_d"):
        states_equal(whole.state[name].state_dict(), resumed.state[name].state_dict())


def test_a_process_that_ignores_ctrl_c_keeps_ignoring_it(gan):
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        trainer = _trainer(gan)
        _interrupt_in_d_step(trainer, at_step=1)
        trainer.fit(3)  # the SIGINT is ignored, as the process asked
        assert trainer.step == 3 and signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_keyboard_interrupt_raised_inside_a_step_saves_nothing_half_done(gan, tmp_path, capsys):
    """An interrupt that is not a signal (or comes outside the main thread) cannot be held: nothing is saved."""
    path = tmp_path / "run.pt"
    trainer = _trainer(gan, checkpoint=path, checkpoint_every=100)
    trainer.fit(2)
    g_step = trainer.g_step

    def interrupted(batch):
        if trainer.step == 3:
            raise KeyboardInterrupt  # after D's update of step 4
        return g_step(batch)

    trainer.g_step = interrupted
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(10)
    out = capsys.readouterr().out
    assert "Interrupted in the middle of step 4; the last checkpoint" in out and "load the checkpoint" in out
    assert torch.load(path, weights_only=True)["step"] == 2


# -- checkpoints -----------------------------------------------------------------------------------
def _run(g, steps, extra=None, **kwargs):
    trainer = _trainer(g, extra, **kwargs)
    trainer.fit(steps)
    return trainer


def test_resumed_run_equals_an_uninterrupted_one(gan_factory, tmp_path, states_equal):
    k = 5
    z = fixed_noise(4, 4)
    whole = _run(gan_factory(seed=0), 2 * k, fixed_inputs=(z,), snapshot_every=k)

    first = _run(gan_factory(seed=0), k, fixed_inputs=(z,), snapshot_every=k, checkpoint=tmp_path / "ckpt.pt")
    assert (tmp_path / "ckpt.pt").is_file() and not (tmp_path / "ckpt.pt.tmp").exists()
    torch.manual_seed(999)  # the RNG moves on in between, as after a restart
    torch.randn(100)

    fresh = gan_factory(seed=1)  # other initial weights and another batch order: all must come from the file
    assert not torch.equal(fresh["G"].net[0].weight, first.G.net[0].weight)
    resumed = _trainer(fresh, fixed_inputs=(z,), snapshot_every=k)
    assert resumed.load(tmp_path / "ckpt.pt") is resumed and resumed.step == k
    resumed.fit(2 * k)

    for name in ("G", "D", "opt_g", "opt_d"):
        states_equal(whole.state[name].state_dict(), resumed.state[name].state_dict())
    assert whole.history.state_dict() == resumed.history.state_dict()
    assert [s for s, _ in whole.snapshots] == [s for s, _ in resumed.snapshots] == [0, k, 2 * k]
    for (_, a), (_, b) in zip(whole.snapshots, resumed.snapshots):
        assert torch.equal(a, b)
    states_equal(whole.batches.state_dict(), resumed.batches.state_dict())
    assert whole.step == resumed.step == 2 * k


def test_checkpoint_loads_with_weights_only(gan, tmp_path, states_equal):
    trainer = _run(gan, 3, fixed_inputs=(fixed_noise(2, 4),), checkpoint=tmp_path / "sub" / "c.pt")
    state = torch.load(tmp_path / "sub" / "c.pt", weights_only=True)
    assert state["version"] == CHECKPOINT_VERSION and state["step"] == 3
    assert set(state) == {"version", "step", "state", "batches", "rng", "history", "snapshot_steps",
                          "snapshot_images"}
    assert set(state["state"]) == {"G", "D", "opt_g", "opt_d"}
    assert state["history"] == trainer.history.state_dict()
    assert state["snapshot_steps"] == [0, 3]
    states_equal(state["state"]["G"], trainer.G.state_dict())


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
    with pytest.raises(CheckpointError, match="version 99 is not 2: it was written by another version"):
        _trainer(gan).load(tmp_path / "future.pt")


def test_load_checkpoint_of_other_models(gan, gan_factory, tmp_path):
    path = _run(gan, 1).save(tmp_path / "c.pt")
    other = gan_factory()
    other["G"] = MLPGenerator(4, (1, 8, 8), hidden=(32,))  # wider than the checkpoint's
    other["D"] = MLPDiscriminator((1, 8, 8), hidden=(32,))
    with pytest.raises(CheckpointError, match=r"(?s)state for 'G' does not fit it: .*size mismatch for net\.0\.weight"):
        _trainer(other).load(path)


# -- everything in one state: image pools, schedulers, extra networks -------------------------------
def _pooled_gan(gan_factory, seed=0):
    """The test GAN with CycleGAN's extras: D learns from an image pool, both learning rates decay."""
    g = gan_factory(seed=seed)
    G, D, opt_d = g["G"], g["D"], g["opt_d"]
    pool = ImagePool(size=5, seed=seed)
    loss = AdversarialLoss("lsgan")

    def d_step(real):
        with torch.no_grad():
            fake = G(torch.randn(len(real), 4))
        parts = loss.discriminator(D(real), D(pool(fake)))
        opt_d.zero_grad(set_to_none=True)
        parts.total.backward()
        opt_d.step()
        return {"d_loss": parts.total}

    g.update(d_step=d_step)
    extra = {"pool": pool, "sched_g": linear_decay(g["opt_g"], 3, 10), "sched_d": linear_decay(opt_d, 3, 10)}
    return g, extra


def test_resumed_run_with_pool_and_schedulers_equals_an_uninterrupted_one(gan_factory, tmp_path, states_equal):
    k = 4
    g, extra = _pooled_gan(gan_factory)
    whole = _run(g, 2 * k, extra)
    assert len(extra["pool"]) == 5 and whole.state["opt_g"].param_groups[0]["lr"] < 1e-3  # full, and decaying

    g, extra = _pooled_gan(gan_factory)
    _run(g, k, extra, checkpoint=tmp_path / "c.pt")
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert set(state["state"]) == {"G", "D", "opt_g", "opt_d", "pool", "sched_g", "sched_d"}
    assert len(state["state"]["pool"]["images"]) == 5
    torch.manual_seed(999)
    torch.randn(100)

    fresh, fresh_extra = _pooled_gan(gan_factory, seed=1)  # other weights, pool draws and batch order
    resumed = _trainer(fresh, fresh_extra).load(tmp_path / "c.pt")
    assert fresh_extra["sched_g"].last_epoch == k and len(fresh_extra["pool"]) == 5
    resumed.fit(2 * k)

    assert whole.state.keys() == resumed.state.keys()
    for name in whole.state:
        states_equal(whole.state[name].state_dict(), resumed.state[name].state_dict())
    assert whole.state["sched_d"].get_last_lr() == resumed.state["sched_d"].get_last_lr()
    assert whole.state["opt_g"].param_groups[0]["lr"] == resumed.state["opt_g"].param_groups[0]["lr"]
    assert whole.history.state_dict() == resumed.history.state_dict()


def _gan_with_q_head(gan_factory, seed=0):
    """An InfoGAN-like set-up: an extra network Q and its optimiser, trained in the generator's step,
    with n_critic = 2, a step-dependent weight and a schedule."""
    g = gan_factory(seed=seed)
    torch.manual_seed(seed + 10)
    Q = nn.Linear(64, 2)
    opt_q = torch.optim.Adam([*g["G"].parameters(), *Q.parameters()], lr=1e-3)
    G, g_step = g["G"], g["g_step"]
    holder = {}

    def q_step(batch):
        logs = g_step(batch)
        weight = min(1.0, holder["trainer"].step / 4)  # reads the current step, like a fade-in
        z = torch.randn(len(batch), 4)
        code = z[:, :2]
        info = weight * (Q(G(z).flatten(1)) - code).square().mean()
        opt_q.zero_grad(set_to_none=True)
        info.backward()
        opt_q.step()
        return {**logs, "info": info}

    g.update(g_step=q_step)
    extra = {"Q": Q, "opt_q": opt_q, "sched_g": linear_decay(g["opt_g"], 2, 6)}
    return g, extra, holder


def test_resumed_run_with_an_extra_network_and_n_critic_equals_an_uninterrupted_one(gan_factory, tmp_path, states_equal):
    k = 3
    g, extra, holder = _gan_with_q_head(gan_factory)
    whole = holder["trainer"] = _trainer(g, extra, n_critic=2, fixed_inputs=(fixed_noise(3, 4),), snapshot_every=k)
    whole.fit(2 * k)

    g, extra, holder = _gan_with_q_head(gan_factory)
    first = holder["trainer"] = _trainer(g, extra, n_critic=2, fixed_inputs=(fixed_noise(3, 4),), snapshot_every=k,
                                         checkpoint=tmp_path / "c.pt")
    first.fit(k)
    torch.manual_seed(999)
    fresh, fresh_extra, holder = _gan_with_q_head(gan_factory, seed=1)
    resumed = holder["trainer"] = _trainer(fresh, fresh_extra, n_critic=2, fixed_inputs=(fixed_noise(3, 4),),
                                           snapshot_every=k).load(tmp_path / "c.pt")
    resumed.fit(2 * k)

    for name in whole.state:
        states_equal(whole.state[name].state_dict(), resumed.state[name].state_dict())
    assert whole.history.state_dict() == resumed.history.state_dict()
    assert whole.history["info"][1][0] == 0.0 and whole.history["info"][1][-1] > 0  # the weight grew with the step
    for (a_step, a), (b_step, b) in zip(whole.snapshots, resumed.snapshots):
        assert a_step == b_step and torch.equal(a, b)


def test_state_names_must_match_the_checkpoint(gan_factory, tmp_path):
    g, extra = _pooled_gan(gan_factory)
    path = _run(g, 2, extra).save(tmp_path / "c.pt")
    g2, extra2 = _pooled_gan(gan_factory, seed=1)
    before = {k: v.clone() for k, v in g2["G"].state_dict().items()}
    with pytest.raises(CheckpointError, match=r"it has no state for 'pool_b'.*same state names"):
        _trainer(g2, {**extra2, "pool_b": extra2["pool"]}).load(path)
    assert not _changed(before, g2["G"].state_dict())  # nothing was loaded
    with pytest.raises(CheckpointError, match=r"holds state for 'sched_d', which this trainer was not given"):
        _trainer(g2, {"pool": extra2["pool"], "sched_g": extra2["sched_g"]}).load(path)
    with pytest.raises(CheckpointError, match=r"holds state for 'pool', 'sched_g', 'sched_d'"):
        _trainer(g2).load(path)


def test_periodic_checkpoint_keeps_what_callbacks_logged(gan, tmp_path):
    def log_then_crash(trainer):
        trainer.history.log(trainer.step, cb=trainer.step)
        if trainer.step == 4:
            raise RuntimeError("crash")

    with pytest.raises(RuntimeError, match="crash"):
        _trainer(gan, checkpoint=tmp_path / "c.pt", checkpoint_every=3, callbacks=[log_then_crash]).fit(6)
    state = torch.load(tmp_path / "c.pt", weights_only=True)
    assert state["step"] == 3 and state["history"]["cb"]["steps"] == [1, 2, 3]


def test_gan_steps_give_the_relativistic_generator_loss_the_real_scores(gan_factory):
    g = gan_factory()
    seen = []
    g["D"].register_forward_hook(lambda m, inputs, out: seen.append(inputs[0].detach().clone()))
    d_step, g_step = gan_steps(g["G"], g["D"], g["opt_g"], g["opt_d"], AdversarialLoss("relativistic"), z_dim=4)
    batch = next(g["batches"])
    before = _clone(g["D"].state_dict())
    logs = g_step(batch)
    assert math.isfinite(float(logs["g_loss"].detach())) and not _changed(before, g["D"].state_dict())
    assert len(seen) == 2 and any(torch.equal(x, batch) for x in seen)  # D saw the fakes and the real batch
    seen.clear()
    gan_steps(g["G"], g["D"], g["opt_g"], g["opt_d"], AdversarialLoss("hinge"), z_dim=4)[1](batch)
    assert len(seen) == 1  # the other modes do not score the real batch in the generator's step


def test_static_progress_prints_one_line_per_fit(gan, capsys):
    """Where widgets are off (tests, stored notebooks) a bar prints once, at the end: one line per cell."""
    trainer = _trainer(gan, progress=True)
    trainer.fit(60)
    err = capsys.readouterr().err
    assert err.count("training:") == 1 and err.count("\r") == 0 and err.endswith("\n")
    assert "100%" in err and "60/60" in err and "step/s" in err and "g_loss=" in err
    trainer.fit(70)  # a continued run reports its own steps
    assert "70/70" in capsys.readouterr().err
    _trainer(gan, progress=False).fit(2)
    assert capsys.readouterr().err == ""
