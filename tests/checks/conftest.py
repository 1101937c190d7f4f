"""Shared set-up for the checker tests: the solutions in solutions/, loaded as the notebooks' learners write them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]


def _load(notebook: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"solution_{notebook}", ROOT / "solutions" / f"{notebook}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def solution() -> Callable[[str, str], Any]:
    """``solution("05_pix2pix", "receptive_field")``: that function from ``solutions/05_pix2pix.py``."""
    modules: dict[str, ModuleType] = {}

    def get(notebook: str, name: str) -> Any:
        if notebook not in modules:
            modules[notebook] = _load(notebook)
        return getattr(modules[notebook], name)

    return get


@pytest.fixture
def keeps_random_state():
    """``keeps_random_state(checker, fn)`` runs the check and asserts that the global torch random state is as it was.

    Returns the check's result, so that a test can also ask that it passed.
    """
    def run(checker, fn):
        torch.manual_seed(123)
        before = torch.get_rng_state()
        result = checker(fn)
        assert torch.equal(torch.get_rng_state(), before), f"{checker.__name__} moved the global random state"
        return result

    return run
