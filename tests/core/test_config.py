"""ganlib.config: the run mode switch, per-mode settings, and whether widgets can render."""

import pytest
import torch

from ganlib import config
from ganlib.config import MODES, PerMode, Settings, interactive, per_mode, run_mode, settings


@pytest.mark.parametrize("mode", MODES)
def test_run_mode_reads_the_environment(monkeypatch, mode):
    monkeypatch.setenv("GANLIB_MODE", mode)
    assert run_mode() == mode


def test_run_mode_ignores_case_and_spaces(monkeypatch):
    monkeypatch.setenv("GANLIB_MODE", "  CPU ")
    assert run_mode() == "cpu"


@pytest.mark.parametrize("cuda, expected", [(True, "full"), (False, "cpu")])
def test_run_mode_default_depends_on_cuda(monkeypatch, cuda, expected):
    monkeypatch.delenv("GANLIB_MODE", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert run_mode() == expected


def test_run_mode_empty_variable_means_default(monkeypatch):
    monkeypatch.setenv("GANLIB_MODE", "")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert run_mode() == "cpu"


def test_run_mode_bad_value_names_the_choices(monkeypatch):
    monkeypatch.setenv("GANLIB_MODE", "turbo")
    with pytest.raises(ValueError) as info:
        run_mode()
    message = str(info.value)
    assert "GANLIB_MODE" in message and "'turbo'" in message
    for mode in MODES:
        assert mode in message


def test_per_mode_resolves_each_mode():
    value = per_mode(smoke=1, cpu=2, full=3)
    assert isinstance(value, PerMode)
    assert [value.resolve(m) for m in MODES] == [1, 2, 3]


@pytest.mark.parametrize("mode, steps, batch", [("smoke", 20, 8), ("cpu", 3000, 64), ("full", 20000, 128)])
def test_settings_resolve_for_each_mode(mode, steps, batch):
    cfg = settings(mode=mode, steps=per_mode(smoke=20, cpu=3000, full=20000),
                   batch_size=per_mode(smoke=8, cpu=64, full=128), lr=2e-4, name="dcgan")
    assert isinstance(cfg, Settings)
    assert cfg.mode == mode
    assert cfg.steps == steps and cfg.batch_size == batch
    assert cfg.lr == 2e-4 and cfg.name == "dcgan"  # plain values are the same in every mode


@pytest.mark.parametrize("mode", MODES)
def test_settings_default_to_run_mode(monkeypatch, mode):
    monkeypatch.setenv("GANLIB_MODE", mode)
    cfg = settings(steps=per_mode(smoke="s", cpu="c", full="f"))
    assert cfg.mode == mode and cfg.steps == mode[0]


def test_settings_bad_mode_raises():
    with pytest.raises(ValueError, match=r"smoke, cpu, full.*'gpu'"):
        settings(mode="gpu", steps=1)


def test_settings_repr_shows_mode_and_values():
    cfg = settings(mode="cpu", steps=per_mode(smoke=20, cpu=3000, full=20000), lr=2e-4)
    text = repr(cfg)
    lines = text.splitlines()
    assert lines[0].startswith("run mode: cpu")
    assert "GANLIB_MODE" in lines[0]
    assert lines[1:] == ["  steps = 3000", "  lr    = 0.0002"]


def test_settings_repr_without_values():
    assert repr(settings(mode="smoke")).splitlines() == [
        f"run mode: smoke  (set {config.ENV_VAR}=smoke|cpu|full to change it)"]


# -- interactive (widgets and live progress bars) ----------------------------------------------------
def test_not_interactive_outside_a_kernel(monkeypatch):
    monkeypatch.delenv("GANLIB_WIDGETS", raising=False)
    assert interactive() is False


@pytest.mark.parametrize("value", ["static", "STATIC", " off ", "0", "false", "no"])
def test_not_interactive_when_switched_off(monkeypatch, value):
    class Kernel:  # even inside a kernel
        kernel = object()

    import IPython

    monkeypatch.setattr(IPython, "get_ipython", lambda: Kernel())
    monkeypatch.setenv("GANLIB_WIDGETS", value)
    assert interactive() is False
    monkeypatch.setenv("GANLIB_WIDGETS", "")
    assert interactive() is True


def test_not_interactive_in_a_plain_ipython_shell(monkeypatch):
    class Terminal:  # IPython without a kernel (a terminal shell): no widget front end
        pass

    import IPython

    monkeypatch.delenv("GANLIB_WIDGETS", raising=False)
    monkeypatch.setattr(IPython, "get_ipython", lambda: Terminal())
    assert interactive() is False


@pytest.mark.parametrize("name, count", [
    ("steps", True), ("steps_gan", True), ("hand_steps", True), ("seconds", True), ("fid_every", True),
    ("eval_samples", True), ("test_digits", True), ("test_images", True), ("width", False), ("batch_size", False),
    ("train_images", False), ("n_real", False), ("lr", False), ("everything", False),
])
def test_is_count_names_the_settings_that_count_work(name, count):
    assert config.is_count(name) is count


def test_smoke_counts_keep_the_mode_sizes():
    cfg = settings(mode="full", counts="smoke", steps=per_mode(smoke=20, cpu=3000, full=20000),
                   fid_every=per_mode(smoke=10, cpu=500, full=2000), width=per_mode(smoke=8, cpu=32, full=128),
                   batch_size=per_mode(smoke=32, cpu=64, full=128), lr=2e-4)
    assert (cfg.mode, cfg.counts) == ("full", "smoke")
    assert (cfg.steps, cfg.fid_every) == (20, 10)          # counts: smoke's
    assert (cfg.width, cfg.batch_size, cfg.lr) == (128, 128, 2e-4)  # sizes: full's
    lines = repr(cfg).splitlines()
    assert lines[0].startswith("run mode: full") and "from smoke mode (GANLIB_COUNTS)" in lines[1]
    assert "  width      = 128" in lines


def test_counts_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("GANLIB_COUNTS", " Smoke ")
    cfg = settings(mode="cpu", steps=per_mode(smoke=20, cpu=3000, full=20000))
    assert cfg.steps == 20 and cfg.counts == "smoke"
    monkeypatch.setenv("GANLIB_COUNTS", "")
    cfg = settings(mode="cpu", steps=per_mode(smoke=20, cpu=3000, full=20000))
    assert cfg.steps == 3000 and not hasattr(cfg, "counts")  # unset: each mode's own counts, the usual repr
    assert "counts" not in repr(cfg)


def test_smoke_counts_in_smoke_mode_change_nothing():
    cfg = settings(mode="smoke", counts="smoke", steps=per_mode(smoke=20, cpu=3000, full=20000))
    assert cfg.steps == 20 and not hasattr(cfg, "counts")


def test_cpu_counts_at_full_sizes(monkeypatch):
    monkeypatch.setenv("GANLIB_COUNTS", "cpu")  # what benchmarks/gpu_check.py runs lessons 03 and 05 with
    cfg = settings(mode="full", steps=per_mode(smoke=20, cpu=3000, full=20000), width=per_mode(smoke=8, cpu=32, full=128))
    assert (cfg.steps, cfg.width, cfg.counts) == (3000, 128, "cpu")
    assert "from cpu mode (GANLIB_COUNTS)" in repr(cfg)


def test_bad_counts_value_says_what_is_allowed(monkeypatch):
    monkeypatch.setenv("GANLIB_COUNTS", "tiny")
    with pytest.raises(ValueError, match=r"GANLIB_COUNTS must be one of smoke, cpu, full or unset; got 'tiny'"):
        settings(mode="full", steps=1)
    with pytest.raises(ValueError, match=r"counts must be one of smoke, cpu, full or None; got 'tiny'"):
        settings(mode="full", counts="tiny", steps=1)
