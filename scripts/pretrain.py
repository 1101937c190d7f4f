"""Train a lesson's main generator for several times its `cpu` budget and ship the weights.

    python scripts/pretrain.py 02_dcgan                 # lesson 02's cpu recipe, 12,000 steps (14.5 min on 2 cores)
    python scripts/pretrain.py 02_dcgan --steps 500     # a shorter run (the tests use one)
    python scripts/pretrain.py 03_cgan                  # lesson 03's projection model, 12,000 steps

One lesson per call, so the runs can be spread over several sittings. Seeded, and resumable: the run
checkpoints to ``outputs/pretrain/<lesson>.pt`` every 500 steps and on Ctrl-C, and a second call with the same
lesson continues from there (``--fresh`` starts again). At the end it scores the generator as the lesson does
(classifier-FID and coverage on 10,000 fresh samples, and label accuracy for a conditional generator,
every digit asked for equally often) and writes the generator's weights and scores, under
2 MB, to ``ganlib/weights/pretrained/<lesson>.pt``, which the lesson loads with ``pretrained=True``
(``ganlib.load_pretrained``). It prints the row for the table in ``benchmarks/README.md``.

Lessons so far: 02_dcgan, 03_cgan (the embedding generator trained against the projection
discriminator, the last of lesson 03's four models). Each recipe is the lesson's own `cpu` recipe; only
the step count is larger.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

import ganlib
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers.cgan import ConditionalDiscriminator, ConditionalGenerator
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlib.pretrained import PRETRAINED_DIR, save_pretrained
from ganlib.training import Trainer

MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Recipe:
    """A lesson's generator, discriminator and optimiser settings; ``steps`` is the shipped run's length."""
    build: Callable[[], tuple[torch.nn.Module, torch.nn.Module]]
    model: str           # how to build G in the lesson, recorded in the weights (and named in load errors)
    lr: float
    betas: tuple[float, float]
    batch_size: int
    z_dim: int
    steps: int
    lesson_steps: int    # the lesson's own cpu run, for comparison
    labels: bool = False  # a conditional GAN: G(z, y) and D(x, y), trained on (images, labels)


def _dcgan() -> tuple[torch.nn.Module, torch.nn.Module]:
    G = DCGANGenerator(z_dim=100, img_size=28, width=32).apply(dcgan_init)
    D = DCGANDiscriminator(img_size=28, width=32, extra_layers=1).apply(dcgan_init)
    return G, D


def _cgan_projection() -> tuple[torch.nn.Module, torch.nn.Module]:
    G = ConditionalGenerator(100, 10, width=32, label_input="embedding").apply(dcgan_init)
    D = ConditionalDiscriminator(10, width=32, label_input="projection", extra_layers=1).apply(dcgan_init)
    return G, D


RECIPES = {
    "02_dcgan": Recipe(_dcgan, "DCGANGenerator(z_dim=100, img_size=28, width=32)", lr=1e-3, betas=(0.5, 0.999),
                       batch_size=64, z_dim=100, steps=12_000, lesson_steps=3_000),
    "03_cgan": Recipe(_cgan_projection, 'ConditionalGenerator(100, 10, width=32, label_input="embedding")', lr=1e-3,
                      betas=(0.5, 0.999), batch_size=64, z_dim=100, steps=12_000, lesson_steps=1_000, labels=True),
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("lesson", choices=list(RECIPES))
    p.add_argument("--steps", type=int, default=None, help="generator steps (default: the recipe's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--samples", type=int, default=10_000, help="fresh samples scored at the end")
    p.add_argument("--checkpoint-dir", type=Path, default=Path("outputs/pretrain"))
    p.add_argument("--out", type=Path, default=None, help="weights file (default: ganlib/weights/pretrained/<lesson>.pt)")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start again")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    args = p.parse_args()
    if args.steps is not None and args.steps < 1 or args.samples < 2:
        p.error(f"--steps must be >= 1 and --samples >= 2; got {args.steps} and {args.samples}.")
    return args


def train(lesson: str, steps: int, seed: int, checkpoint: Path, fresh: bool) -> tuple[Trainer, float]:
    recipe = RECIPES[lesson]
    ganlib.seed_everything(seed)
    G, D = recipe.build()
    opt_g = torch.optim.Adam(G.parameters(), lr=recipe.lr, betas=recipe.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=recipe.lr, betas=recipe.betas)
    images, labels = ganlib.load_mnist()
    tensors = (images, labels) if recipe.labels else (images,)
    batches = ganlib.Batches(*tensors, batch_size=recipe.batch_size, seed=seed)
    d_step, g_step = ganlib.gan_steps(G, D, opt_g, opt_d, ganlib.AdversarialLoss("nonsaturating"), recipe.z_dim,
                                      conditional=recipe.labels)
    trainer = Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step, batches, checkpoint=checkpoint)
    if checkpoint.is_file() and not fresh:
        trainer.load(checkpoint)
        print(f"resuming {lesson} from step {trainer.step:,} ({checkpoint})", flush=True)
    start = time.perf_counter()
    trainer.fit(steps)
    return trainer, time.perf_counter() - start


def score(G: torch.nn.Module, z_dim: int, n: int, labels: bool = False) -> dict[str, Any]:
    evaluator = metrics.default_evaluator()
    gen = torch.Generator().manual_seed(1234)
    z = torch.randn(n, z_dim, generator=gen)
    y = ganlib.balanced_labels(n) if labels else None
    samples = ganlib.generate(G, z, y) if labels else ganlib.generate(G, z)
    fid, cov = metrics.fid(samples, evaluator), metrics.coverage(samples, evaluator)
    found = {"fid": round(float(fid), 2), "fid_samples": n, "digits_covered": cov.digits_covered,
             "digit_shares": [round(s, 4) for s in cov.shares]}
    if labels:
        found["label_accuracy"] = round(metrics.label_accuracy(samples, y, evaluator).overall, 4)
    return found


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    recipe = RECIPES[args.lesson]
    steps = args.steps or recipe.steps
    trainer, seconds = train(args.lesson, steps, args.seed, args.checkpoint_dir / f"{args.lesson}.pt", args.fresh)
    scores = score(trainer.G.eval(), recipe.z_dim, args.samples, recipe.labels)
    out = args.out or PRETRAINED_DIR / f"{args.lesson}.pt"
    save_pretrained(out, trainer.G, lesson=args.lesson, model=recipe.model, steps=trainer.step, seed=args.seed,
                    lr=recipe.lr, batch_size=recipe.batch_size, lesson_steps=recipe.lesson_steps,
                    train_seconds_this_call=round(seconds, 1), **scores)
    size = out.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{out} is {size:,} bytes, over the {MAX_BYTES:,} allowed for shipped weights.")
    print(f"wrote {out} ({size / 1e6:.2f} MB)")
    print(f"| {args.lesson} | {recipe.model} | {trainer.step:,} (lesson: {recipe.lesson_steps:,}) | seed {args.seed} | "
          f"{scores['fid']:.1f} | {scores['digits_covered']}/10 | "
          + (f"{scores['label_accuracy']:.1%} | " if recipe.labels else "- | ") + f"{seconds / 60:.1f} min this call |")


if __name__ == "__main__":
    main()
