"""Lesson 07's InfoGAN: does the categorical code find the digits, and what do the continuous codes control?

Each run trains lesson 07's InfoGAN (``InfoGANGenerator`` / ``InfoGANDiscriminator``, the official networks at
half their sizes as in lesson 07's ``cpu`` mode: width 32, dense layers of 512 units; batch 64,
the non-saturating loss plus the information term, Adam with betas (0.5, 0.999)) for ``--steps``
generator steps and scores it every ``--every`` steps with the course's frozen evaluator:

* ``acc``: the categories as digits, under the best one-to-one assignment (``cluster_accuracy``) of
  ``--samples`` generated images read by the evaluator;
* ``q_acc``: Q's category guess for the 10,000 real test digits, matched the same way (the paper's number);
* ``FID``, ``digits``: classifier-FID and digits covered (>= 5 % each) of the same samples;
* ``Q CE``: Q's cross-entropy on the category over the last 100 steps (log 10 = 2.303: Q knows nothing);
* ``width`` / ``slant``: for each continuous code, the correlation between the code (swept from -1 to
  1 for 500 samples) and the stroke width / slant of the images (``code_correlations``); ``noise``: the
  largest of the same four correlations for the first two noise dimensions (also swept from -1 to 1),
  the baseline (the sweeps draw the noise uniformly: for the N(0, 1) variants they are off-distribution).

Variants change one thing each from ``infogan`` (the official code's Adam rates, G 1e-3 and D 2e-4,
and its noise, uniform in [-1, 1]; lambda 1 for the category and for the continuous codes):
``plain`` (lambda = 0: the same networks without the information term), ``lr1e-3`` (D at 1e-3, lesson
02's recipe), ``gauss-z`` (noise from N(0, 1), as lessons 01-06), ``lr1e-3-gauss-z`` (both),
``cont0.1`` (lambda 0.1 for the continuous codes, the paper's advice of a smaller weight).

Runs recorded before 2026-12-05 (``results/infogan_search_cpu.jsonl``, ``results/infogan_10k_steps_cpu.jsonl``)
used lesson 02's DCGAN networks at width 32 instead, without dense layers; their recipes have no ``hidden``.

Example (from the repository root; runs go one after the other, so run it alone)::

    python benchmarks/infogan.py --steps 3000 --every 1000 --seeds 0 1 --variants infogan plain
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

import ganlib
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers import infogan as ig

from common import append_run, machine_line


@dataclass(frozen=True)
class Recipe:
    lr_g: float = ig.LR_G
    lr_d: float = ig.LR_D
    cat_weight: float = ig.CAT_WEIGHT
    cont_weight: float = ig.CONT_WEIGHT
    width: int = 32
    hidden: int = 512
    batch: int = 64
    uniform_z: bool = True   # the official code draws z uniformly from [-1, 1] (False: N(0, 1))


BASE = Recipe()
VARIANTS = {
    "infogan": BASE,
    "plain": replace(BASE, cat_weight=0.0, cont_weight=0.0),
    "lr1e-3": replace(BASE, lr_d=1e-3),
    "gauss-z": replace(BASE, uniform_z=False),
    "lr1e-3-gauss-z": replace(BASE, lr_d=1e-3, uniform_z=False),
    "cont0.1": replace(BASE, cont_weight=0.1),
}


def score(G, D, z_dim: int, n: int, evaluator, test_images, test_labels, device, uniform_z: bool = False) -> dict:
    gen = torch.Generator().manual_seed(12345)
    z = ig.sample_z(n, z_dim, device, gen) if uniform_z else torch.randn(n, z_dim, generator=gen).to(device)
    codes = ig.sample_codes(n, device=device, generator=gen)
    samples = ganlib.generate(G, z, *codes)
    acc, _ = ig.cluster_accuracy(codes.cat, evaluator.predict(samples))
    D.eval()
    with torch.no_grad():
        guess = torch.cat([D(x).cat_logits.argmax(1).cpu() for x in test_images.split(1000)])
    D.train()
    q_acc, _ = ig.cluster_accuracy(guess, test_labels)
    cov = metrics.coverage(samples, evaluator)
    return dict(acc=round(acc, 4), q_acc=round(q_acc, 4), fid=round(metrics.classifier_fid(samples, evaluator), 2),
                covered=cov.digits_covered, **{k: round(v, 3) for k, v in ig.code_correlations(G, 500).items()})


def one_run(name: str, seed: int, args: argparse.Namespace) -> dict:
    r, device = VARIANTS[name], args.device
    evaluator = metrics.default_evaluator(device)
    test_images, test_labels = ganlib.load_mnist("test", device=device)
    ganlib.seed_everything(seed)
    images, _ = ganlib.load_mnist(device=device)
    G = ig.InfoGANGenerator(ig.Z_DIM, width=r.width, hidden=r.hidden).to(device).apply(dcgan_init)
    D = ig.InfoGANDiscriminator(width=r.width, hidden=r.hidden).to(device).apply(dcgan_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=r.lr_g, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=r.lr_d, betas=(0.5, 0.999))
    steps = ig.infogan_steps(G, D, opt_g, opt_d, cat_weight=r.cat_weight, cont_weight=r.cont_weight, uniform_z=r.uniform_z)
    trainer = ganlib.Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), *steps,
                             ganlib.Batches(images, batch_size=r.batch, seed=seed), progress=False)
    scores, clock = [], 0.0
    for target in range(args.every, args.steps + 1, args.every):
        t0 = time.perf_counter()
        trainer.fit(target)
        clock += time.perf_counter() - t0
        ce = trainer.history["info_cat"][1][-100:]
        s = dict(step=target, seconds=round(clock, 1), info_cat=round(sum(ce) / len(ce), 4), **score(G, D, ig.Z_DIM, args.samples, evaluator,
                                                               test_images, test_labels, device, r.uniform_z))
        scores.append(s)
        noise = max(abs(s[k]) for k in s if k[0] == "z")
        print(f"{name:<9} {seed:>4} {target:>6} {clock:>6.0f} {s['acc']:>6.1%} {s['q_acc']:>6.1%} {s['fid']:>7.1f} "
              f"{s['covered']:>3}/10 {s['info_cat']:>6.3f}  c1 w {s['c1_width']:+.2f} s {s['c1_slant']:+.2f}  c2 w {s['c2_width']:+.2f} "
              f"s {s['c2_slant']:+.2f}  noise {noise:.2f}", flush=True)
    result = dict(variant=name, seed=seed, recipe=r.__dict__, scores=scores)
    append_run(args.json, result)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--every", type=int, default=1000)
    p.add_argument("--variants", nargs="+", default=["infogan", "plain"], choices=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--samples", type=int, default=10_000)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per run to this file")
    args = p.parse_args()
    print(machine_line(args.device))
    print(f"{'variant':<9} {'seed':>4} {'steps':>6} {'sec':>6} {'acc':>6} {'q_acc':>6} {'FID':>7} digits {'Q CE':>6}  "
          "r of code vs stroke width (w) and slant (s)")
    for s in args.seeds:
        for v in args.variants:
            one_run(v, s, args)


if __name__ == "__main__":
    main()
