"""Train a lesson's main generator for several times its `cpu` budget and ship the weights.

    python scripts/pretrain.py 02_dcgan                 # lesson 02's cpu recipe, 12,000 steps (14.5 min on 2 cores)
    python scripts/pretrain.py 02_dcgan --steps 500     # a shorter run (the tests use one)
    python scripts/pretrain.py 05_pix2pix               # lesson 05's L1 + cGAN model, 8,000 steps (7.8 min)

Lessons and steps: 01_mlp_gan 30,000, 02_dcgan 12,000, 03_cgan 12,000, 04_wgan 5,000 (25,000 critic steps),
05_pix2pix 8,000, 06_cyclegan 3,500, 07_infogan 15,000;
``benchmarks/README.md`` has each run's minutes and scores.

One lesson per call, so the runs can be spread over several sittings. Seeded, and resumable: the run
checkpoints to ``outputs/pretrain/<lesson>.pt`` every 500 steps and on Ctrl-C, and a second call with the same
lesson continues from there (``--fresh`` starts again). At the end it writes the generator's weights, under
2 MB, to ``ganlib/weights/pretrained/<lesson>.pt`` (8-bit weights where float32 would not fit, see
``ganlib.pretrained``), loads them back and scores *what ships* as the lesson does, records the scores in
the same file, which the lesson loads with ``pretrained=True`` (``ganlib.load_pretrained``), and prints the
row for the table in ``benchmarks/README.md``:

* 01_mlp_gan, 02_dcgan: classifier-FID and digit coverage on 10,000 fresh samples;
* 03_cgan (the embedding generator trained against the projection discriminator, the last of lesson 03's
  four models): the same, every digit asked for equally often, and label accuracy;
* 04_wgan (WGAN-GP, five critic steps per generator step): classifier-FID and coverage, as 01 and 02;
* 05_pix2pix (the L1 + cGAN model, the paper's): PSNR, SSIM, the share of outputs read as the target's
  digit and the outputs' classifier-FID, on all 10,000 test pairs;
* 06_cyclegan (both generators): PSNR, SSIM and the share of digits kept, each direction, on all 5,000 test
  images of each domain;
* 07_infogan: the categories as digits (under the best matching) on 10,000 samples from the prior, their
  classifier-FID and coverage, and how each continuous code correlates with stroke width and slant.

Each recipe is the lesson's own `cpu` recipe; only the step count is larger (and 05 trains on the whole
training split, as `full` mode does, not the lesson's 20,000 pairs, so that 20 times the steps do not
show each pair 26 times).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

import ganlib
from ganlib.datasets.translation import crop_to_28, load_paired, load_unpaired
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers.cgan import ConditionalDiscriminator, ConditionalGenerator
from ganlib.papers.cyclegan import ImagePool, ResNetGenerator, cyclegan_steps
from ganlib.papers import infogan as ig
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlib.papers.gan import MLPDiscriminator, MLPGenerator
from ganlib.papers.pix2pix import PatchDiscriminator, UNetGenerator, pix2pix_steps
from ganlib.papers.wgan import GP_WEIGHT, wgan_critic_step
from ganlib.pretrained import PRETRAINED_DIR, load_pretrained, save_pretrained
from ganlib.schedules import linear_decay
from ganlib.training import Trainer

MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Recipe:
    """How a lesson trains and scores its main generator; ``steps`` is the shipped run's length.

    ``build()`` makes fresh (G, D); ``data()`` the training tensors that ``Batches`` draws from together;
    ``steps_for(state)`` the Trainer's (d_step, g_step); ``extras(state, steps)`` any more Trainer state
    (pools, schedules, which may need the run's length); ``score(G, n)`` the lesson's scores of G (on ``n``
    samples or test items; None: the recipe's default) and ``cells(scores)`` them as table cells.
    """
    build: Callable[[], tuple[nn.Module, nn.Module]]
    model: str           # how to build G in the lesson, recorded in the weights (and named in load errors)
    data: Callable[[], tuple[torch.Tensor, ...]]
    steps_for: Callable[[dict], tuple[Callable, Callable]]
    score: Callable[[nn.Module, int | None], dict[str, Any]]
    cells: Callable[[dict[str, Any]], str]
    lr: float            # Adam's learning rate for G, and for D unless lr_d is given
    batch_size: int
    steps: int
    lesson_steps: int    # the lesson's own cpu run, for comparison
    betas: tuple[float, float] = (0.5, 0.999)
    lr_d: float | None = None
    n_critic: int = 1    # discriminator (critic) steps per generator step
    extras: Callable[[dict, int], dict] = field(default=lambda state, steps: {})
    int8: bool = False   # store 8-bit weights (float32 would be over 2 MB)


# -- generators from noise (lessons 01-03) ---------------------------------------------------------------
def _mlp() -> tuple[nn.Module, nn.Module]:
    return MLPGenerator(z_dim=100), MLPDiscriminator()


def _dcgan() -> tuple[nn.Module, nn.Module]:
    G = DCGANGenerator(z_dim=100, img_size=28, width=32).apply(dcgan_init)
    D = DCGANDiscriminator(img_size=28, width=32, extra_layers=1).apply(dcgan_init)
    return G, D


def _cgan_projection() -> tuple[nn.Module, nn.Module]:
    G = ConditionalGenerator(100, 10, width=32, label_input="embedding").apply(dcgan_init)
    D = ConditionalDiscriminator(10, width=32, label_input="projection", extra_layers=1).apply(dcgan_init)
    return G, D


def _wgan_gp() -> tuple[nn.Module, nn.Module]:
    G = DCGANGenerator(z_dim=100, img_size=28, width=32).apply(dcgan_init)
    D = DCGANDiscriminator(img_size=28, width=32, batchnorm=False).apply(dcgan_init)   # a critic: no BatchNorm
    return G, D


def _wgan_gp_steps(state: dict) -> tuple[Callable, Callable]:
    G, D = state["G"], state["D"]
    _, g_step = ganlib.gan_steps(G, D, state["opt_g"], state["opt_d"], ganlib.AdversarialLoss("wasserstein"), 100)
    return wgan_critic_step(G, D, state["opt_d"], 100, gp_weight=GP_WEIGHT), g_step


def _noise_steps(labels: bool) -> Callable[[dict], tuple[Callable, Callable]]:
    def steps_for(state: dict) -> tuple[Callable, Callable]:
        return ganlib.gan_steps(state["G"], state["D"], state["opt_g"], state["opt_d"],
                                ganlib.AdversarialLoss("nonsaturating"), 100, conditional=labels)
    return steps_for


def _noise_score(labels: bool) -> Callable[[nn.Module, int | None], dict[str, Any]]:
    def score(G: nn.Module, n: int | None) -> dict[str, Any]:
        n = n or 10_000
        evaluator = metrics.default_evaluator()
        z = torch.randn(n, 100, generator=torch.Generator().manual_seed(1234))
        y = ganlib.balanced_labels(n) if labels else None
        samples = ganlib.generate(G, z, y) if labels else ganlib.generate(G, z)
        fid, cov = metrics.fid(samples, evaluator), metrics.coverage(samples, evaluator)
        found = {"fid": round(float(fid), 2), "fid_samples": n, "digits_covered": cov.digits_covered,
                 "digit_shares": [round(s, 4) for s in cov.shares]}
        if labels:
            found["label_accuracy"] = round(metrics.label_accuracy(samples, y, evaluator).overall, 4)
        return found
    return score


def _noise_cells(s: dict[str, Any]) -> str:
    accuracy = f"{s['label_accuracy']:.1%}" if "label_accuracy" in s else "-"
    return f"{s['fid']:.1f} | {s['digits_covered']}/10 | {accuracy}"


def _mnist(labels: bool) -> Callable[[], tuple[torch.Tensor, ...]]:
    def data() -> tuple[torch.Tensor, ...]:
        images, digit_labels = ganlib.load_mnist()
        return (images, digit_labels) if labels else (images,)
    return data


# -- InfoGAN (lesson 07) ---------------------------------------------------------------------------------
def _infogan() -> tuple[nn.Module, nn.Module]:
    G = ig.InfoGANGenerator(ig.Z_DIM, width=32, hidden=512).apply(dcgan_init)
    D = ig.InfoGANDiscriminator(width=32, hidden=512).apply(dcgan_init)
    return G, D


def _infogan_score(G: nn.Module, n: int | None) -> dict[str, Any]:
    n = n or 10_000
    evaluator = metrics.default_evaluator()
    gen = torch.Generator().manual_seed(12345)
    z, codes = ig.sample_z(n, G.z_dim, generator=gen), ig.sample_codes(n, G.n_cat, G.n_cont, generator=gen)
    samples = ganlib.generate(G, z, *codes)
    accuracy, digit_of = ig.cluster_accuracy(codes.cat, evaluator.predict(samples))
    cov = metrics.coverage(samples, evaluator)
    return {"category_accuracy": round(accuracy, 4), "digit_of_category": digit_of,
            "fid": round(float(metrics.classifier_fid(samples, evaluator)), 2), "fid_samples": n,
            "digits_covered": cov.digits_covered,
            "code_correlations": {k: round(v, 3) for k, v in ig.code_correlations(G, 500).items()}}


def _infogan_cells(s: dict[str, Any]) -> str:
    r = s["code_correlations"]
    codes = ", ".join(f"code {j}: width r {r[f'c{j}_width']:+.2f}, slant r {r[f'c{j}_slant']:+.2f}" for j in (1, 2))
    return (f"categories as digits {s['category_accuracy']:.1%}, FID {s['fid']:.1f}, {s['digits_covered']}/10 digits; "
            f"{codes}")


# -- translation (lessons 05 and 06) -------------------------------------------------------------------
def _pix2pix() -> tuple[nn.Module, nn.Module]:
    G = UNetGenerator(1, 1, 32, 5, width=16).apply(dcgan_init)
    D = PatchDiscriminator(in_channels=2, width=16, n_layers=1).apply(dcgan_init)
    return G, D


def _pix2pix_data() -> tuple[torch.Tensor, ...]:
    train = load_paired("tops2digits", "train")  # all 60,000 pairs
    return train.inputs, train.targets


def _pix2pix_score(G: nn.Module, n: int | None) -> dict[str, Any]:
    test = load_paired("tops2digits", "test", limit=n)
    evaluator = metrics.default_evaluator()
    out, targets = ganlib.generate(G, test.inputs).cpu(), test.targets.cpu()
    digits = crop_to_28(out)
    return {"psnr": round(metrics.psnr(out, targets), 3), "ssim": round(metrics.ssim(out, targets), 4),
            "accuracy": round(metrics.label_accuracy(digits, test.labels, evaluator).overall, 4),
            "fid": round(float(metrics.classifier_fid(digits, evaluator)), 2), "test_images": len(out)}


def _pix2pix_cells(s: dict[str, Any]) -> str:
    return f"PSNR {s['psnr']:.2f} dB, SSIM {s['ssim']:.3f}, digit read {s['accuracy']:.1%}, FID {s['fid']:.1f}"


def _cyclegan() -> tuple[nn.Module, nn.Module]:
    def generator() -> nn.Module:
        return ResNetGenerator(1, 1, 32, width=16, n_blocks=3).apply(dcgan_init)

    def discriminator() -> nn.Module:
        return PatchDiscriminator(1, width=16, n_layers=2, norm="instance").apply(dcgan_init)
    return nn.ModuleDict({"A2B": generator(), "B2A": generator()}), nn.ModuleDict({"A": discriminator(),
                                                                                  "B": discriminator()})


def _cyclegan_extras(state: dict, steps: int) -> dict:
    half = steps // 2  # constant, then linearly down to zero, as in the lesson
    return {"pool_a": ImagePool(50, seed=1), "pool_b": ImagePool(50, seed=2),
            "sched_g": linear_decay(state["opt_g"], half, steps - half),
            "sched_d": linear_decay(state["opt_d"], half, steps - half)}


def _cyclegan_data() -> tuple[torch.Tensor, ...]:
    train = load_unpaired("thin2thick", "train")
    n = min(len(train.a), len(train.b))
    return train.a[:n], train.b[:n]


def _cyclegan_score(G: nn.Module, n: int | None) -> dict[str, Any]:
    test = load_unpaired("thin2thick", "test", limit=n)
    evaluator = metrics.default_evaluator()
    found: dict[str, Any] = {"test_images": len(test.a)}
    for key, inputs, truth, labels in [("A2B", test.a, test.a_as_b, test.labels_a),
                                       ("B2A", test.b, test.b_as_a, test.labels_b)]:
        out, truth = ganlib.generate(G[key], inputs).cpu(), truth.cpu()
        found[key] = {"psnr": round(metrics.psnr(out, truth), 3), "ssim": round(metrics.ssim(out, truth), 4),
                      "kept": round(metrics.label_accuracy(crop_to_28(out), labels, evaluator).overall, 4)}
    return found


def _cyclegan_cells(s: dict[str, Any]) -> str:
    return "; ".join(f"{arrow}: PSNR {s[k]['psnr']:.2f} dB, SSIM {s[k]['ssim']:.3f}, digit kept {s[k]['kept']:.1%}"
                     for k, arrow in (("A2B", "A → B"), ("B2A", "B → A")))


RECIPES = {
    "01_mlp_gan": Recipe(_mlp, "MLPGenerator(z_dim=100)", _mnist(False), _noise_steps(False), _noise_score(False),
                         _noise_cells, lr=2e-4, batch_size=64, steps=30_000, lesson_steps=6_000, int8=True),
    "02_dcgan": Recipe(_dcgan, "DCGANGenerator(z_dim=100, img_size=28, width=32)", _mnist(False), _noise_steps(False),
                       _noise_score(False), _noise_cells, lr=1e-3, batch_size=64, steps=12_000, lesson_steps=3_000),
    "03_cgan": Recipe(_cgan_projection, 'ConditionalGenerator(100, 10, width=32, label_input="embedding")', _mnist(True),
                      _noise_steps(True), _noise_score(True), _noise_cells, lr=1e-3, batch_size=64, steps=12_000,
                      lesson_steps=900),
    "04_wgan": Recipe(_wgan_gp, "DCGANGenerator(z_dim=100, img_size=28, width=32)", _mnist(False), _wgan_gp_steps,
                      _noise_score(False), _noise_cells, lr=5e-4, betas=(0.5, 0.9), n_critic=5, batch_size=64,
                      steps=5_000, lesson_steps=300),
    "05_pix2pix": Recipe(_pix2pix, "UNetGenerator(1, 1, 32, 5, width=16)", _pix2pix_data,
                         lambda s: pix2pix_steps(s["G"], s["D"], s["opt_g"], s["opt_d"]), _pix2pix_score,
                         _pix2pix_cells, lr=1e-3, batch_size=64, steps=8_000, lesson_steps=400, int8=True),
    "06_cyclegan": Recipe(_cyclegan, 'nn.ModuleDict({"A2B": G, "B2A": F}), each ResNetGenerator(1, 1, 32, width=16, '
                          'n_blocks=3)', _cyclegan_data, cyclegan_steps, _cyclegan_score, _cyclegan_cells, lr=2e-4,
                          batch_size=16, steps=3_500, lesson_steps=350, extras=_cyclegan_extras, int8=True),
    "07_infogan": Recipe(_infogan, "InfoGANGenerator(62, width=32, hidden=512)", _mnist(False),
                         lambda s: ig.infogan_steps(s["G"], s["D"], s["opt_g"], s["opt_d"]), _infogan_score,
                         _infogan_cells, lr=ig.LR_G, lr_d=ig.LR_D, batch_size=64, steps=15_000, lesson_steps=3_000,
                         int8=True),
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("lesson", choices=list(RECIPES))
    p.add_argument("--steps", type=int, default=None, help="generator steps (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", type=int, default=None,
                   help="samples (default 10,000) or, for 05 and 06, test images (default all) scored at the end")
    p.add_argument("--checkpoint-dir", type=Path, default=Path("outputs/pretrain"))
    p.add_argument("--out", type=Path, default=None, help="weights file (default: ganlib/weights/pretrained/<lesson>.pt)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start again")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = p.parse_args()
    if args.steps is not None and args.steps < 1 or args.samples is not None and args.samples < 2:
        p.error(f"--steps must be >= 1 and --samples >= 2; got {args.steps} and {args.samples}.")
    return args


def train(lesson: str, steps: int, seed: int, checkpoint: Path, fresh: bool) -> tuple[Trainer, float]:
    recipe = RECIPES[lesson]
    ganlib.seed_everything(seed)
    G, D = recipe.build()
    opt_g = torch.optim.Adam(G.parameters(), lr=recipe.lr, betas=recipe.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=recipe.lr_d or recipe.lr, betas=recipe.betas)
    state = dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d)
    state.update(recipe.extras(state, steps))
    batches = ganlib.Batches(*recipe.data(), batch_size=recipe.batch_size, seed=seed)
    trainer = Trainer(state, *recipe.steps_for(state), batches, n_critic=recipe.n_critic, checkpoint=checkpoint)
    if checkpoint.is_file() and not fresh:
        trainer.load(checkpoint)
        print(f"resuming {lesson} from step {trainer.step:,} ({checkpoint})", flush=True)
    start = time.perf_counter()
    trainer.fit(steps)
    return trainer, time.perf_counter() - start


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    recipe = RECIPES[args.lesson]
    steps = args.steps or recipe.steps
    trainer, seconds = train(args.lesson, steps, args.seed, args.checkpoint_dir / f"{args.lesson}.pt", args.fresh)
    out = args.out or PRETRAINED_DIR / f"{args.lesson}.pt"
    record = dict(lesson=args.lesson, model=recipe.model, steps=trainer.step, seed=args.seed, lr=recipe.lr,
                  batch_size=recipe.batch_size, lesson_steps=recipe.lesson_steps,
                  train_seconds_this_call=round(seconds, 1), int8_weights=recipe.int8)
    save_pretrained(out, trainer.G, int8=recipe.int8, **record)
    shipped, _ = recipe.build()
    load_pretrained(out, shipped)  # score what ships (8-bit weights included), not the float32 original
    scores = recipe.score(shipped.eval(), args.samples)
    save_pretrained(out, trainer.G, int8=recipe.int8, **record, **scores)
    size = out.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{out} is {size:,} bytes, over the {MAX_BYTES:,} allowed for shipped weights.")
    print(f"wrote {out} ({size / 1e6:.2f} MB)")
    print(f"| {args.lesson} | {recipe.model} | {trainer.step:,} (lesson: {recipe.lesson_steps:,}) | seed {args.seed} | "
          f"{recipe.cells(scores)} | {seconds / 60:.1f} min this call |")


if __name__ == "__main__":
    main()
