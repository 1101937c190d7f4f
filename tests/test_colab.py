"""Colab from one setting: every badge and set-up cell agrees with pyproject.toml's [tool.gan-course], the
script that writes them finds and mends what disagrees, and each notebook's set-up cell does in Colab what it
should (clone, install, widget manager) and nothing anywhere else."""

import importlib.util
import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def _script():
    spec = importlib.util.spec_from_file_location("set_repository", ROOT / "scripts" / "set_repository.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def copy(tmp_path):
    """README, pyproject.toml and two notebooks in a scratch folder laid out like the repository."""
    (tmp_path / "notebooks").mkdir()
    for name in ("README.md", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for path in NOTEBOOKS[:2]:
        shutil.copy(path, tmp_path / "notebooks" / path.name)
    readme = tmp_path / "README.md"  # keep only the rows of the notebooks copied
    keep = [line for line in readme.read_text().splitlines()
            if "colab.research.google.com/github" not in line or any(p.name in line for p in NOTEBOOKS[:2])]
    readme.write_text("\n".join(keep) + "\n")
    return tmp_path


def test_every_badge_and_setup_cell_agrees_with_the_setting():
    script = _script()
    assert script.read_setting() == ("gan-course/gan-course", "main")
    assert script.check() == []


def test_the_check_names_what_disagrees_and_the_script_mends_it(copy):
    script = _script()
    path = copy / "notebooks" / NOTEBOOKS[1].name
    nb = json.loads(path.read_text())
    nb["cells"][0]["source"] = [line.replace("gan-course/gan-course", "someone/old-fork") for line in nb["cells"][0]["source"]]
    setup = next(c for c in nb["cells"] if "setup" in c["metadata"].get("tags", []))
    setup["source"] = [line.replace("/content/gan-course", "/content/elsewhere") for line in setup["source"]]
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    problems = script.check(copy)
    assert len(problems) == 2 and all(p.startswith(f"notebooks/{path.name}: ") for p in problems)
    assert "someone/old-fork" in problems[0] and "set-up cell" in problems[1]

    assert script.fix(copy) == [f"notebooks/{path.name}"]
    assert script.check(copy) == []
    assert script.fix(copy) == []  # nothing left to change


def test_publishing_a_fork_rewrites_every_badge_and_clone(copy):
    script = _script()
    assert script.main(["--root", str(copy), "--repository", "you/my-gans", "--branch", "dev"]) == 0
    assert script.read_setting(copy) == ("you/my-gans", "dev")
    assert script.check(copy) == []
    text = (copy / "README.md").read_text() + "".join(p.read_text() for p in (copy / "notebooks").glob("*.ipynb"))
    assert "gan-course/gan-course" not in text
    assert "github/you/my-gans/blob/dev/notebooks/" in text and "https://github.com/you/my-gans" in text
    assert "/content/my-gans" in text


def test_a_bad_repository_is_refused(copy):
    with pytest.raises(SystemExit, match="owner/name as on GitHub.*got 'not a repo'"):
        _script().main(["--root", str(copy), "--repository", "not a repo"])


def _setup_source(path):
    nb = json.loads(path.read_text())
    return "".join(next(c for c in nb["cells"] if "setup" in c["metadata"].get("tags", []))["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_setup_cell_in_colab_clones_installs_and_enables_widgets(path, monkeypatch):
    calls, widgets = [], []
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(enable_custom_widget_manager=lambda: widgets.append(True))
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kwargs: calls.append((cmd, kwargs)))
    monkeypatch.setattr(sys, "path", list(sys.path))
    exec(compile(_setup_source(path), str(path), "exec"), {})
    assert calls == [
        (["git", "clone", "-q", "--depth", "1", "https://github.com/gan-course/gan-course", "/content/gan-course"],
         {"check": False}),
        ([sys.executable, "-m", "pip", "install", "-q", "-e", "/content/gan-course"], {"check": True}),
    ]
    assert sys.path[0] == "/content/gan-course" and widgets == [True]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_setup_cell_does_nothing_outside_colab(path, monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("the set-up cell ran a command outside Colab"))
    before = list(sys.path)
    exec(compile(_setup_source(path), str(path), "exec"), {})
    assert sys.path == before
