"""Pretrained generators: ganlib.load_pretrained / save_pretrained and scripts/pretrain.py (issue 15)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

import ganlib
from ganlib.papers.dcgan import DCGANGenerator
from ganlib.pretrained import (INT8_MIN_ELEMENTS, PRETRAINED_DIR, PretrainedError, from_int8, load_pretrained,
                               save_pretrained, to_int8)

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


@pytest.mark.parametrize("lesson", ["01_mlp_gan", "04_wgan", "05_pix2pix", "06_cyclegan", "07_infogan"])
def test_every_kind_of_recipe_trains_resumes_and_scores_what_ships(pretrain, lesson, tmp_path, monkeypatch, capsys):
    out = tmp_path / f"{lesson}.pt"
    argv = ["pretrain.py", lesson, "--samples", "64", "--out", str(out), "--checkpoint-dir", str(tmp_path / "runs")]
    monkeypatch.setattr(sys, "argv", argv + ["--steps", "1"])
    pretrain.main()
    monkeypatch.setattr(sys, "argv", argv + ["--steps", "2"])
    pretrain.main()                                                    # resumes from the checkpoint at step 1
    assert "resuming" in capsys.readouterr().out
    G, _ = pretrain.RECIPES[lesson].build()
    info = load_pretrained(out, G)
    assert info["steps"] == 2 and info["int8_weights"] == pretrain.RECIPES[lesson].int8
    assert out.stat().st_size < pretrain.MAX_BYTES
    if lesson == "05_pix2pix":
        assert info["test_images"] == 64 and 0 <= info["accuracy"] <= 1 and info["psnr"] > 0 and info["fid"] > 0
    elif lesson == "06_cyclegan":
        assert info["test_images"] == 64
        assert all(0 <= info[k]["kept"] <= 1 and info[k]["psnr"] > 0 for k in ("A2B", "B2A"))
    elif lesson == "07_infogan":
        assert info["fid_samples"] == 64 and 0 <= info["category_accuracy"] <= 1
        assert sorted(info["digit_of_category"]) == list(range(10))
        assert set(info["code_correlations"]) >= {"c1_width", "c1_slant", "c2_width", "c2_slant"}
    else:
        assert info["fid_samples"] == 64 and info["fid"] > 0


@pytest.mark.parametrize("lesson", sorted(SCRIPT.RECIPES))
def test_every_recipe_ships_weights_that_fit_its_lesson(pretrain, lesson):
    path = PRETRAINED_DIR / f"{lesson}.pt"
    if not path.is_file():
        pytest.skip(f"{lesson} has not been pretrained yet")
    assert path.stat().st_size < pretrain.MAX_BYTES
    recipe = pretrain.RECIPES[lesson]
    G, _ = recipe.build()
    info = load_pretrained(lesson, G)
    assert info["model"] == recipe.model and info["steps"] == recipe.steps
    assert info["fid_samples"] == 10_000 if "fid_samples" in info else info["test_images"] in (5_000, 10_000)
    assert ganlib.load_pretrained is load_pretrained


# -- 8-bit weights ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3, 4, 4), (7, 20), (300,)])
def test_int8_keeps_every_weight_within_half_a_level(shape):
    torch.manual_seed(0)
    w = torch.randn(shape) * torch.logspace(-3, 1, shape[0]).reshape(-1, *[1] * (len(shape) - 1))
    stored = to_int8(w)
    assert stored["int8"].dtype == torch.int8 and stored["int8"].shape == w.shape and stored["scale"].shape == (shape[0],)
    assert stored["int8"].abs().amax() == 127                          # each slice uses the whole range
    step = stored["scale"].reshape(-1, *[1] * (len(shape) - 1))
    assert ((from_int8(stored) - w).abs() <= step / 2 + 1e-7).all()    # the error bound, slice by slice


def test_int8_keeps_zeros_and_each_slice_s_extreme():
    w = torch.zeros(3, 4)
    w[1] = torch.tensor([0.5, -1.0, 0.0, 0.25])
    back = from_int8(to_int8(w))
    assert torch.equal(back[w == 0], w[w == 0]) and back[1, 1] == -1.0   # zeros and the extreme come back exactly


def test_int8_weights_are_a_quarter_of_the_size_and_load_into_the_same_model(tmp_path):
    torch.manual_seed(0)
    G = DCGANGenerator(z_dim=16, width=32)
    plain, small = save_pretrained(tmp_path / "a.pt", G), save_pretrained(tmp_path / "b.pt", G, int8=True, fid=3.0)
    assert small.stat().st_size < 0.3 * plain.stat().st_size
    stored = torch.load(small, weights_only=True)["model"]
    for name, value in G.state_dict().items():                        # big float tensors only are rounded
        assert isinstance(stored[name], dict) == (value.is_floating_point() and value.numel() >= INT8_MIN_ELEMENTS)
    H = DCGANGenerator(z_dim=16, width=32)
    assert load_pretrained(small, H) == {"fid": 3.0}
    z = torch.randn(8, 16)
    G.eval(), H.eval()
    with torch.no_grad():
        assert (G(z) - H(z)).abs().max() < 0.05                        # images in [-1, 1]: under 2.5 % of the range
    with pytest.raises(PretrainedError, match="in the file"):
        load_pretrained(small, DCGANGenerator(z_dim=16, width=16))    # the shape check sees through the rounding
