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
