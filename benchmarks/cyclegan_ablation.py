"""Lesson 06's CycleGAN on thin2thick: what each loss term and the discriminator's depth change, one at a time.

Every run is lesson 06's `cpu` recipe (two ResNet generators of width 16 with 3 residual blocks, two
PatchGAN discriminators with instance norm, batches of 16, Adam 2e-4 with betas (0.5, 0.999), constant
then linearly decaying to zero over the second half, pools of 50 past fakes, the paper's loss weights:
λ_cyc = 10, λ_id = 5, the generators' adversarial loss without LSGAN's ½) for the same number of
``--steps``; each variant changes one thing:

* ``cyclegan``: the recipe (``--d-layers`` stride-2 layers in each discriminator, 2 by default);
* ``no_identity``: λ_id = 0 (the cycle loss kept);
* ``no_cycle``: λ_cyc = 0 (the identity loss kept);
* ``adversarial_only``: λ_cyc = λ_id = 0;
* ``d1``: one stride-2 discriminator layer (16 x 16 patches, as lesson 05) instead of two (34 x 34).

Scores on all 5,000 test images of each direction, against the hidden partners: PSNR and SSIM, and the
share of translations in which the course's evaluator reads the input's digit ("kept"), plus the
round-trip L1 error (both directions added; mean of the last 50 steps) and the training seconds.

Example (from the repository root; runs go one after the other, so run it alone)::

    python benchmarks/cyclegan_ablation.py --steps 350 --seeds 0 1 --json cyclegan.jsonl
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import nn

import ganlib
from ganlib.datasets.translation import crop_to_28, load_unpaired
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers.cyclegan import CYCLE_WEIGHT, IDENTITY_WEIGHT, ImagePool, ResNetGenerator, cyclegan_steps
from ganlib.papers.pix2pix import PatchDiscriminator
from ganlib.schedules import linear_decay

from common import append_run, machine_line

VARIANTS = {  # what each variant changes in the recipe
    "cyclegan": {},
    "no_identity": {"identity_weight": 0.0},
    "no_cycle": {"cycle_weight": 0.0},
    "adversarial_only": {"cycle_weight": 0.0, "identity_weight": 0.0},
    "d1": {"d_layers": 1},
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, required=True, help="training steps per run (the same in every variant)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--d-layers", type=int, default=2, help="stride-2 layers of the recipe's discriminators")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--blocks", type=int, default=3)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per run to this file")
    return p.parse_args()


def one_run(name: str, seed: int, args: argparse.Namespace, train, test, evaluator) -> dict:
    change = VARIANTS[name]
    cycle_weight = change.get("cycle_weight", CYCLE_WEIGHT)
    identity_weight = change.get("identity_weight", IDENTITY_WEIGHT)
    d_layers = change.get("d_layers", args.d_layers)
    ganlib.seed_everything(seed)
    t0 = time.perf_counter()

    def generator() -> nn.Module:
        return ResNetGenerator(1, 1, 32, width=args.width, n_blocks=args.blocks).to(args.device).apply(dcgan_init)

    def discriminator() -> nn.Module:
        return PatchDiscriminator(1, width=args.width, n_layers=d_layers, norm="instance").to(args.device).apply(dcgan_init)

    G = nn.ModuleDict({"A2B": generator(), "B2A": generator()})
    D = nn.ModuleDict({"A": discriminator(), "B": discriminator()})
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    half = args.steps // 2
    state = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d,
             "pool_a": ImagePool(50, seed=2 * seed + 1), "pool_b": ImagePool(50, seed=2 * seed + 2),
             "sched_g": linear_decay(opt_g, half, args.steps - half), "sched_d": linear_decay(opt_d, half, args.steps - half)}
    d_step, g_step = cyclegan_steps(state, cycle_weight, identity_weight)

    n = min(len(train.a), len(train.b))
    batches = ganlib.Batches(train.a[:n], train.b[:n], batch_size=args.batch, seed=seed)
    trainer = ganlib.Trainer(state, d_step, g_step, batches, progress=False)
    trainer.fit(args.steps)
    seconds = time.perf_counter() - t0
    last = trainer.history["cycle"][1][-50:]
    cycle_end = sum(last) / len(last)
    result = dict(variant=name, seed=seed, steps=args.steps, batch=args.batch, width=args.width, blocks=args.blocks,
                  d_layers=d_layers, cycle_weight=cycle_weight, identity_weight=identity_weight,
                  seconds=round(seconds, 1), cycle_error=round(cycle_end, 4))
    for key, inputs, truth, labels in [("A2B", test.a, test.a_as_b, test.labels_a),
                                       ("B2A", test.b, test.b_as_a, test.labels_b)]:
        out = ganlib.generate(G[key], inputs).cpu()
        kept = metrics.label_accuracy(crop_to_28(out), labels, evaluator)
        result[key] = dict(psnr=round(metrics.psnr(out, truth.cpu()), 3), ssim=round(metrics.ssim(out, truth.cpu()), 4),
                           kept=round(kept.overall, 4), kept_worst=round(min(kept.per_digit), 4))
    print(f"{name:<17} {seed:>4} {args.steps:>5} {seconds:>6.0f}   "
          f"{result['A2B']['psnr']:>6.2f} {result['A2B']['ssim']:>6.3f} {result['A2B']['kept']:>7.1%}   "
          f"{result['B2A']['psnr']:>6.2f} {result['B2A']['ssim']:>6.3f} {result['B2A']['kept']:>7.1%}   "
          f"{cycle_end:>6.3f}", flush=True)
    append_run(args.json, result)
    return result


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(machine_line(args.device))
    train = load_unpaired("thin2thick", "train", device=args.device)
    test = load_unpaired("thin2thick", "test", device=args.device)
    evaluator = metrics.default_evaluator(args.device)
    print(f"{'variant':<17} {'seed':>4} {'steps':>5} {'train s':>6}   {'A->B: PSNR  SSIM    kept':>24}   "
          f"{'B->A: PSNR  SSIM    kept':>24}   {'cycle':>6}")
    for s in args.seeds:
        for v in args.variants:
            one_run(v, s, args, train, test, evaluator)


if __name__ == "__main__":
    main()
