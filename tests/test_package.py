"""The ganlib package itself: its public names, version and module docstrings, and an import that does no work."""

import importlib
import pkgutil
import subprocess
import sys
import types

import pytest

import ganlib

MODULES = sorted(m.name for m in pkgutil.walk_packages(ganlib.__path__, "ganlib."))

# where each public shortcut of ``ganlib`` is defined
SHORTCUTS = {
    "per_mode": "config", "run_mode": "config", "settings": "config",
    "Batches": "data", "load_dataset": "data", "load_mnist": "data",
    "AdversarialLoss": "losses",
    "balanced_labels": "sampling", "fixed_noise": "sampling", "generate": "sampling", "sample_noise": "sampling",
    "Trainer": "training", "frozen": "training", "gan_steps": "training", "load_pretrained": "pretrained",
    "get_device": "utils", "seed_everything": "utils",
}


def test_public_names_are_the_modules_and_their_shortcuts():
    assert ganlib.__version__ == "0.1.0"
    assert len(ganlib.__all__) == len(set(ganlib.__all__))
    modules = [name for name in ganlib.__all__ if name not in SHORTCUTS]
    assert set(ganlib.__all__) - set(modules) == set(SHORTCUTS)
    for name in modules:
        module = getattr(ganlib, name)
        assert isinstance(module, types.ModuleType) and module.__name__ == f"ganlib.{name}", name
    for name, home in SHORTCUTS.items():
        obj = getattr(ganlib, name)
        assert obj is getattr(importlib.import_module(f"ganlib.{home}"), name), name
        assert obj.__module__ == f"ganlib.{home}", name


def test_the_layers_are_all_public():
    assert {"config", "utils", "validate", "shapes", "data", "sampling", "layers", "losses", "schedules", "training",
            "datasets", "evaluation", "plotting", "widgets", "papers", "checks"} <= set(ganlib.__all__)


@pytest.mark.parametrize("name", MODULES)
def test_every_module_is_documented(name):
    module = importlib.import_module(name)
    assert module.__doc__ and len(module.__doc__.strip()) > 20, name


def test_the_walk_finds_the_new_layout():
    for name in ("ganlib.validate", "ganlib.sampling", "ganlib.layers", "ganlib.schedules", "ganlib.datasets.download",
                 "ganlib.datasets.translation", "ganlib.evaluation.stats", "ganlib.evaluation.callbacks",
                 "ganlib.papers.pix2pix", "ganlib.papers.cyclegan"):
        assert name in MODULES


def test_importing_ganlib_touches_no_device_and_loads_no_evaluator():
    code = ("import torch, ganlib; "
            "assert not torch.cuda.is_initialized(), 'CUDA initialised'; "
            "print(sorted(ganlib.evaluation.metrics._DEFAULT))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"  # no evaluator was loaded
