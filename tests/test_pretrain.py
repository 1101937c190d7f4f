"""Pretrained generators: ganlib.load_pretrained / save_pretrained and scripts/pretrain.py (issue 15)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

import ganlib
from ganlib.papers.dcgan import DCGANGenerator
from ganlib.pretrained import PRETRAINED_DIR, PretrainedError, load_pretrained, save_pretrained

ROOT = Path(__file__).resolve().parent.parent


def _load_script():
    spec = importlib.util.spec_from_file_location("pretrain", ROOT / "scripts" / "pretrain.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["pretrain"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


SCRIPT = _load_script()


@pytest.fixture
def pretrain():
    return SCRIPT


def test_saved_weights_load_into_the_same_model_with_their_record(tmp_path):
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=8, width=8)
    path = save_pretrained(tmp_path / "g.pt", G, fid=12.5, steps=100)
    H = DCGANGenerator(z_dim=8, width=8)
    info = load_pretrained(path, H)
    assert info == {"fid": 12.5, "steps": 100}
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), H.state_dict().values()))


def test_weights_for_another_model_are_refused_with_the_difference_named(tmp_path):
    path = save_pretrained(tmp_path / "g.pt", DCGANGenerator(z_dim=8, width=8), model="DCGANGenerator(z_dim=8, width=8)")
    other = DCGANGenerator(z_dim=8, width=16)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(PretrainedError, match=r"another model \(DCGANGenerator\(z_dim=8, width=8\)\).*in the file"):
        load_pretrained(path, other)
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())  # untouched


def test_missing_and_unreadable_weights_say_how_to_make_them(tmp_path):
    with pytest.raises(PretrainedError, match=r"scripts/pretrain.py 99_nothing"):
        load_pretrained("99_nothing", DCGANGenerator())
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(PretrainedError, match="not readable"):
        load_pretrained(bad, DCGANGenerator())
    torch.save({"something": 1}, tmp_path / "foreign.pt")
    with pytest.raises(PretrainedError, match="not a version-1"):
        load_pretrained(tmp_path / "foreign.pt", DCGANGenerator())


def test_an_interrupted_pretraining_resumes_to_the_same_weights(pretrain, tmp_path):
    pretrain.train("02_dcgan", 3, 0, tmp_path / "a.pt", fresh=False)
    resumed, _ = pretrain.train("02_dcgan", 6, 0, tmp_path / "a.pt", fresh=False)  # continues from step 3
    straight, _ = pretrain.train("02_dcgan", 6, 0, tmp_path / "b.pt", fresh=False)
    assert resumed.step == straight.step == 6
    for (name, a), b in zip(resumed.G.state_dict().items(), straight.G.state_dict().values()):
        assert torch.equal(a, b), name


def test_the_script_writes_small_weights_and_scores(pretrain, tmp_path, monkeypatch, capsys):
    out = tmp_path / "02_dcgan.pt"
    monkeypatch.setattr(sys, "argv", ["pretrain.py", "02_dcgan", "--steps", "2", "--samples", "200",
                                      "--out", str(out), "--checkpoint-dir", str(tmp_path)])
    pretrain.main()
    assert out.stat().st_size < pretrain.MAX_BYTES
    info = load_pretrained(out, DCGANGenerator(z_dim=100, img_size=28, width=32))
    assert info["steps"] == 2 and info["fid_samples"] == 200 and info["fid"] > 0 and len(info["digit_shares"]) == 10
    assert "| 02_dcgan |" in capsys.readouterr().out


def test_a_conditional_recipe_trains_on_labels_and_scores_label_accuracy(pretrain, tmp_path, monkeypatch, capsys):
    out = tmp_path / "03_cgan.pt"
    monkeypatch.setattr(sys, "argv", ["pretrain.py", "03_cgan", "--steps", "2", "--samples", "200",
                                      "--out", str(out), "--checkpoint-dir", str(tmp_path)])
    pretrain.main()
    G, _ = pretrain.RECIPES["03_cgan"].build()
    info = load_pretrained(out, G)
    assert info["steps"] == 2 and 0 <= info["label_accuracy"] <= 1 and info["fid"] > 0
    assert "| 03_cgan |" in capsys.readouterr().out


@pytest.mark.parametrize("lesson", sorted(SCRIPT.RECIPES))
def test_every_recipe_ships_weights_that_fit_its_lesson(pretrain, lesson):
    path = PRETRAINED_DIR / f"{lesson}.pt"
    assert path.is_file() and path.stat().st_size < pretrain.MAX_BYTES
    recipe = pretrain.RECIPES[lesson]
    G, _ = recipe.build()
    info = load_pretrained(lesson, G)
    assert info["model"] == recipe.model and info["steps"] == recipe.steps and info["fid_samples"] == 10_000
    assert ganlib.load_pretrained is load_pretrained
