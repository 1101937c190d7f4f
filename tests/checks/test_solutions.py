"""Every exercise: the untouched stub in the notebook fails its check helpfully, the solution passes, and the
notebook checks the stub with that checker. One row per exercise; add one for each new exercise."""

import json
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ganlib import checks

ROOT = Path(__file__).resolve().parents[2]

# (notebook, function defined by the stub, checker called on it)
EXERCISES = [
    ("01_mlp_gan", "d_step", checks.check_d_step),
    ("01_mlp_gan", "g_loss_nonsaturating", checks.check_generator_loss),
    ("02_dcgan", "transposed_conv_size", checks.check_transposed_conv_size),
    ("02_dcgan", "build_generator_32", checks.check_generator_32),
    ("02_dcgan", "build_generator_32", checks.check_generator_32_trains),  # trains 1,000 steps: 2-3 minutes
    ("02b_dcgan_to_lsgan", "lsgan_d_loss", checks.check_lsgan_d_loss),
    ("02b_dcgan_to_lsgan", "lsgan_g_loss", checks.check_lsgan_g_loss),
    ("02b_dcgan_to_lsgan", "build_lsgan_discriminator", checks.check_raw_score_discriminator),
    ("03_cgan", "label_maps", checks.check_label_maps),
    ("03_cgan", "projection_score", checks.check_projection_score),
    ("03_cgan", "wrong_labels", checks.check_wrong_labels),
    ("04_wgan", "gradient_penalty", checks.check_gradient_penalty),
    ("04_wgan", "clip_weights", checks.check_clip_weights),
    ("05_pix2pix", "receptive_field", checks.check_receptive_field),
    ("05_pix2pix", "pix2pix_g_loss", checks.check_pix2pix_g_loss),
    ("06_cyclegan", "identity_term", checks.check_identity_loss),
    ("06_cyclegan", "cycle_consistency", checks.check_cycle_consistency),
    ("06_cyclegan", "pool_query", checks.check_pool_query),
    ("07_infogan", "categorical_info_loss", checks.check_categorical_info_loss),
    ("07_infogan", "read_codes", checks.check_code_reading),
    ("08_semi_supervised_gan", "unsupervised_d_loss", checks.check_unsupervised_d_loss),
    ("08_semi_supervised_gan", "feature_matching_loss", checks.check_feature_matching),
]
IDS = [f"{nb}:{fn}" for nb, fn, _ in EXERCISES]


def _cells(notebook: str) -> list[dict]:
    return json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text())["cells"]


def _stub_source(notebook: str, name: str) -> str:
    for cell in _cells(notebook):
        source = "".join(cell["source"])
        if "exercise" in cell.get("metadata", {}).get("tags", []) and f"def {name}(" in source:
            return source
    raise AssertionError(f"{notebook}.ipynb has no cell tagged 'exercise' that defines {name}()")


@pytest.mark.parametrize("notebook, name, checker", EXERCISES, ids=IDS)
def test_untouched_stub_fails_with_a_helpful_message(notebook, name, checker):
    namespace = {"torch": torch, "nn": nn, "F": F}
    exec(_stub_source(notebook, name), namespace)
    result = checker(namespace[name])
    assert not result.passed
    assert "Not done yet" in result.message and "NotImplementedError" in result.message


@pytest.mark.parametrize("notebook, name, checker", EXERCISES, ids=IDS)
def test_solution_passes(notebook, name, checker, solution):
    result = checker(solution(notebook, name))
    assert result.passed, result.message


@pytest.mark.parametrize("notebook, name, checker", EXERCISES, ids=IDS)
def test_notebook_checks_the_stub_with_this_checker(notebook, name, checker):
    calls = ["".join(c["source"]) for c in _cells(notebook) if c["cell_type"] == "code"]
    assert any(f"checks.{checker.__name__}({name})" in src for src in calls)


def test_every_exercise_cell_is_listed():
    listed = {(nb, fn) for nb, fn, _ in EXERCISES}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in _cells(path.stem):
            if "exercise" in cell.get("metadata", {}).get("tags", []):
                source = "".join(cell["source"])
                names = [line.split("def ", 1)[1].split("(")[0] for line in source.splitlines() if line.startswith("def ")]
                assert names and all((path.stem, n) in listed for n in names), f"unlisted exercise in {path.name}: {names}"


def test_every_checker_has_an_exercise():
    """No checker in ganlib.checks is left without a row here (so none goes untested against its stub)."""
    exported = {name for name in checks.__all__ if name.startswith("check_")}
    assert exported == {checker.__name__ for _, _, checker in EXERCISES}


def test_every_lesson_with_exercises_has_a_solution_file_and_a_checker_file():
    """The naming rule: notebooks/NN_<topic>.ipynb -> solutions/NN_<topic>.py, ganlib/checks/lessonNN_<topic>.py
    and tests/checks/test_lessonNN.py."""
    for notebook in sorted({nb for nb, _, _ in EXERCISES}):
        number = notebook.split("_")[0]
        assert (ROOT / "solutions" / f"{notebook}.py").exists()
        assert (ROOT / "ganlib" / "checks" / f"lesson{notebook}.py").exists(), f"no ganlib/checks/lesson{notebook}.py"
        assert (ROOT / "tests" / "checks" / f"test_lesson{number}.py").exists()
