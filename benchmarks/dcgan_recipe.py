"""Lesson 02's recipe search: which change makes a DCGAN learn most per second, against lesson 01's MLP.

Each variant changes lesson 02's old ``cpu`` recipe (``DCGANGenerator`` / ``DCGANDiscriminator`` width 32,
batch 64, Adam 2e-4 with betas (0.5, 0.999) for both players, the non-saturating loss on logits,
``dcgan_init``) in one or two named ways; ``mlp`` is lesson 01's recipe as the reference. Every run
is scored by the course's frozen evaluator (classifier-FID and digit coverage on ``--samples``
samples from one fixed noise).

Two ways to run:

* ``--budget SECONDS``: train each run for that much wall-clock time (data loading and model
  building included, scoring not: the clock stops while a score is taken) and score it every
  ``--every-s`` seconds and at the end. This is the lesson's question: what a learner gets after
  the same time on the same machine. Runs go one after the other, so run it alone.
* ``--steps N``: train each run for N generator steps and score it every ``--every`` steps; with
  ``--jobs K`` K runs share the machine (for a broad search on a GPU, where a step of these small
  networks costs little).

Examples (from the repository root)::

    python benchmarks/dcgan_recipe.py --budget 210 --seeds 0 1 --variants mlp base recipe
    python benchmarks/dcgan_recipe.py --steps 4000 --every 1000 --samples 5000 --jobs 8 --device cuda
    python benchmarks/dcgan_recipe.py --budget 900 --every-s 60 --variants mlp recipe --json curves.json

The rows printed are ``variant seed steps seconds FID digits(>=5%) smallest-share``; ``--json FILE``
also appends one JSON line per run with every score, its step and training seconds (the curves of
lesson 02's plot).
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import torch
import torch.nn.functional as F

import ganlib
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlib.papers.gan import MLPDiscriminator, MLPGenerator

from common import append_run, machine_line


@dataclass(frozen=True)
class Recipe:
    kind: str = "dcgan"          # "dcgan" or "mlp"
    width_g: int = 32
    width_d: int = 32
    batch: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    z_dim: int = 100
    joint_bn: bool = False       # D scores real and fake in one batch (shared BatchNorm statistics)
    smooth: float = 1.0          # target for real images in D's loss (0.9: one-sided label smoothing)
    d_bn: bool = True            # BatchNorm in D
    d_extra: int = 0             # extra 3x3 stride-1 conv blocks in D at 7x7 (a deeper D, same output size)


BASE = Recipe()
VARIANTS: dict[str, Recipe] = {
    "mlp": Recipe(kind="mlp"),
    "base": BASE,
    "lr5e-4": replace(BASE, lr_g=5e-4, lr_d=5e-4),
    "lr1e-3": replace(BASE, lr_g=1e-3, lr_d=1e-3),
    "d-lr4e-4": replace(BASE, lr_d=4e-4),
    "g-lr5e-4": replace(BASE, lr_g=5e-4),
    "b16": replace(BASE, batch=16),
    "b32": replace(BASE, batch=32),
    "b128": replace(BASE, batch=128),
    "dw64": replace(BASE, width_d=64),
    "dw16": replace(BASE, width_d=16),
    "gw16": replace(BASE, width_g=16),
    "gw64": replace(BASE, width_g=64),
    "z32": replace(BASE, z_dim=32),
    "joint-bn": replace(BASE, joint_bn=True),
    "smooth0.9": replace(BASE, smooth=0.9),
    "beta2-0.99": replace(BASE, betas=(0.5, 0.99)),
    "d-nobn": replace(BASE, d_bn=False),
    "b32-lr5e-4": replace(BASE, batch=32, lr_g=5e-4, lr_d=5e-4),
    "dw64-lr5e-4": replace(BASE, width_d=64, lr_g=5e-4, lr_d=5e-4),
    "gw16-dw64": replace(BASE, width_g=16, width_d=64),
    "gw16-dw64-lr5e-4": replace(BASE, width_g=16, width_d=64, lr_g=5e-4, lr_d=5e-4),
    "lr1e-3-dw64": replace(BASE, width_d=64, lr_g=1e-3, lr_d=1e-3),
    "lr1e-3-d3": replace(BASE, d_extra=1, lr_g=1e-3, lr_d=1e-3),  # lesson 02's cpu recipe
    # one change each from lesson 02's cpu recipe (lr1e-3-d3), searched for the 3.5-minute target
    "lr1e-3-d3x2": replace(BASE, d_extra=2, lr_g=1e-3, lr_d=1e-3),
    "lr2e-3-d3": replace(BASE, d_extra=1, lr_g=2e-3, lr_d=2e-3),
    "b32-lr1e-3-d3": replace(BASE, batch=32, d_extra=1, lr_g=1e-3, lr_d=1e-3),
    "dw64-lr1e-3-d3": replace(BASE, width_d=64, d_extra=1, lr_g=1e-3, lr_d=1e-3),
    "gw16-lr1e-3-d3": replace(BASE, width_g=16, d_extra=1, lr_g=1e-3, lr_d=1e-3),
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    run = p.add_mutually_exclusive_group(required=True)
    run.add_argument("--budget", type=float, help="training seconds per run")
    run.add_argument("--steps", type=int, help="generator steps per run")
    p.add_argument("--every", type=int, default=1000, help="with --steps: score every ... steps")
    p.add_argument("--every-s", type=float, default=None, help="with --budget: also score every ... seconds")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--samples", type=int, default=10_000, help="samples scored (default 10,000)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--jobs", type=int, default=1, help="runs at once (only with --steps)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads per run")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per run (every score) to this file")
    args = p.parse_args()
    if args.budget is not None and args.jobs != 1:
        p.error("--budget compares wall-clock time: runs must go one at a time (--jobs 1).")
    return args


def build(r: Recipe, device: str) -> tuple[torch.nn.Module, torch.nn.Module]:
    if r.kind == "mlp":
        return MLPGenerator(r.z_dim).to(device), MLPDiscriminator().to(device)
    G = DCGANGenerator(r.z_dim, img_size=28, width=r.width_g).apply(dcgan_init)
    D = DCGANDiscriminator(img_size=28, width=r.width_d, batchnorm=r.d_bn, extra_layers=r.d_extra)
    D.apply(dcgan_init)
    return G.to(device), D.to(device)


def steps_for(r: Recipe, G, D, opt_g, opt_d):
    """ganlib.gan_steps for the plain recipe; the two variants that change D's step, written out."""
    loss = ganlib.AdversarialLoss("nonsaturating")
    if not r.joint_bn and r.smooth == 1.0:
        return ganlib.gan_steps(G, D, opt_g, opt_d, loss, r.z_dim)
    d_plain, g_step = ganlib.gan_steps(G, D, opt_g, opt_d, loss, r.z_dim)

    def d_step(real):
        n = real.shape[0]
        with torch.no_grad():
            fake = G(torch.randn(n, r.z_dim, device=real.device))
        if r.joint_bn:
            scores = D(torch.cat([real, fake]))
            s_real, s_fake = scores[:n], scores[n:]
        else:
            s_real, s_fake = D(real), D(fake)
        d_loss = (F.binary_cross_entropy_with_logits(s_real, torch.full_like(s_real, r.smooth))
                  + F.binary_cross_entropy_with_logits(s_fake, torch.zeros_like(s_fake)))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        return {"d_loss": d_loss}

    return d_step, g_step


def score(G, r: Recipe, n: int, evaluator, device: str) -> tuple[float, int, float]:
    samples = ganlib.generate(G, ganlib.fixed_noise(n, r.z_dim, seed=12345, device=device))
    cov = metrics.coverage(samples, evaluator)
    return metrics.classifier_fid(samples, evaluator), cov.digits_covered, min(cov.shares)


def one_run(name: str, seed: int, args: argparse.Namespace) -> dict:
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    r, device = VARIANTS[name], args.device
    evaluator = metrics.default_evaluator(device)
    ganlib.seed_everything(seed)
    clock, scores = 0.0, []
    t0 = time.perf_counter()
    images, _ = ganlib.load_mnist(device=device)  # reading the data counts, as in a lesson
    G, D = build(r, device)
    opt_g = torch.optim.Adam(G.parameters(), lr=r.lr_g, betas=r.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=r.lr_d, betas=r.betas)
    d_step, g_step = steps_for(r, G, D, opt_g, opt_d)
    trainer = ganlib.Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step,
                             ganlib.Batches(images, batch_size=r.batch, seed=seed), progress=False)

    def record() -> None:
        fid, covered, smallest = score(G, r, args.samples, evaluator, device)
        scores.append(dict(step=trainer.step, seconds=round(clock, 1), fid=round(fid, 2), covered=covered,
                           smallest=round(smallest, 4)))

    if args.budget is not None:
        marks = [args.every_s * k for k in range(1, int(args.budget // args.every_s) + 1)] if args.every_s else []
        marks = [m for m in marks if m < args.budget] + [args.budget]
        for mark in marks:
            while clock + (time.perf_counter() - t0) < mark:
                trainer.fit(trainer.step + 25)
            clock += time.perf_counter() - t0
            record()
            t0 = time.perf_counter()
    else:
        for target in range(args.every, args.steps + 1, args.every):
            trainer.fit(target)
            clock += time.perf_counter() - t0
            record()
            t0 = time.perf_counter()
    last = scores[-1]
    print(f"{name:<18} {seed:>4} {last['step']:>6} {last['seconds']:>7.0f} {last['fid']:>8.1f} "
          f"{last['covered']:>5}/10 {100 * last['smallest']:>6.1f}%", flush=True)
    result = dict(variant=name, seed=seed, recipe=r.__dict__, scores=scores)
    append_run(args.json, result)
    return result


def main() -> None:
    args = parse_args()
    print(machine_line(args.device, args.threads))
    print(f"{'variant':<18} {'seed':>4} {'steps':>6} {'train s':>7} {'FID':>8} {'digits':>8} {'least':>7}")
    jobs = [(v, s) for s in args.seeds for v in args.variants]
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=torch.multiprocessing.get_context("spawn")) as pool:
            list(pool.map(one_run, *zip(*jobs), [args] * len(jobs)))
    else:
        for v, s in jobs:
            one_run(v, s, args)


if __name__ == "__main__":
    main()
