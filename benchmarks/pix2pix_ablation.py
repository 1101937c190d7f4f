"""Lesson 05's Pix2Pix: what each loss term and the conditional discriminator change, one at a time.

Every run is lesson 05's `cpu` recipe (a U-Net of depth 5, a PatchGAN with one stride-2 layer, both of
``--width`` channels and the DCGAN initialisation; Adam 2e-4 with betas (0.5, 0.999); batches of
``--batch``; D's loss halved as in the paper) for the same number of ``--steps``, trained on
``--train-images`` pairs of ``--dataset``; each variant changes one thing:

* ``l1_cgan``: the paper's objective, λ = 100 times L1 plus the conditional GAN loss (D sees (input, output));
* ``l1``: L1 alone (the adversarial weight 0; D still trains beside it, so its loss can be read);
* ``cgan``: the conditional GAN loss alone (λ = 0);
* ``l1_gan``: L1 plus an *unconditional* GAN loss: D sees the output only, not the input (the paper's
  "L1 + GAN" arm).

Scores on the test split (all 10,000 pairs unless ``--test-images``), against the true targets: PSNR and
SSIM; "accuracy", the share of outputs in which the course's evaluator reads the target's digit; the
classifier-FID of the outputs (cropped to 28 x 28) against the MNIST test digits, i.e. how much the
outputs *as a set* look like real digits; the "grey share", of the inked pixels (above -0.8) of the
bottom half (rows 16-31, the half that tops2digits hides), the share that are mid-grey (|v| < 0.8);
the mean of D's loss over the last 50 steps and the training seconds.

Example (from the repository root; runs go one after the other, so run it alone)::

    python benchmarks/pix2pix_ablation.py --steps 400 --seeds 0 1 --json pix2pix.jsonl
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import ganlib
from ganlib.datasets.translation import TOP_ROWS, crop_to_28, load_paired
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers.pix2pix import L1_WEIGHT, PatchDiscriminator, UNetGenerator, halvings, pix2pix_steps

from common import append_run, machine_line

VARIANTS = {  # (adversarial weight, L1 weight, D sees the input)
    "l1_cgan": (1.0, L1_WEIGHT, True),
    "l1": (0.0, L1_WEIGHT, True),
    "cgan": (1.0, 0.0, True),
    "l1_gan": (1.0, L1_WEIGHT, False),
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, required=True, help="training steps per run (the same in every variant)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--dataset", default="tops2digits", choices=["tops2digits", "edges2digits"])
    p.add_argument("--train-images", type=int, default=20_000)
    p.add_argument("--test-images", type=int, default=None, help="test pairs scored (default: all 10,000)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-4)
    p.add_argument("--l1-weight", type=float, default=L1_WEIGHT, help="λ of the variants with an L1 term (the paper: 100)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per run to this file")
    return p.parse_args()


def grey_share(images: torch.Tensor) -> float:
    """Of the inked pixels (> -0.8) in rows TOP_ROWS and below, the share that are mid-grey (|v| < 0.8)."""
    bottom = images[..., TOP_ROWS:, :]
    return float((bottom.abs() < 0.8)[bottom > -0.8].float().mean())


def one_run(name: str, seed: int, args: argparse.Namespace, train, test, evaluator) -> dict:
    adv_weight, l1_weight, conditional = VARIANTS[name]
    l1_weight = args.l1_weight if l1_weight else 0.0   # --l1-weight replaces the paper's λ where L1 is on
    ganlib.seed_everything(seed)
    t0 = time.perf_counter()
    G = UNetGenerator(1, 1, 32, halvings(32), width=args.width).to(args.device).apply(dcgan_init)
    D = PatchDiscriminator(2 if conditional else 1, width=args.width, n_layers=1).to(args.device).apply(dcgan_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=(0.5, 0.999))
    d_step, g_step = pix2pix_steps(G, D, opt_g, opt_d, adv_weight=adv_weight, l1_weight=l1_weight,
                                   conditional=conditional)
    state = {"G": G, "D": D, "opt_g": opt_g, "opt_d": opt_d}
    batches = ganlib.Batches(train.inputs, train.targets, batch_size=args.batch, seed=seed)
    trainer = ganlib.Trainer(state, d_step, g_step, batches, progress=False)
    trainer.fit(args.steps)
    seconds = time.perf_counter() - t0
    last = trainer.history["d_loss"][1][-50:]
    out = ganlib.generate(G, test.inputs).cpu()
    targets = test.targets.cpu()
    accuracy = metrics.label_accuracy(crop_to_28(out), test.labels.cpu(), evaluator)
    result = dict(variant=name, seed=seed, dataset=args.dataset, steps=args.steps, batch=args.batch,
                  width=args.width, lr=args.lr, train_images=len(train.inputs), test_images=len(out),
                  adv_weight=adv_weight, l1_weight=l1_weight, conditional=conditional, seconds=round(seconds, 1),
                  psnr=round(metrics.psnr(out, targets), 3), ssim=round(metrics.ssim(out, targets), 4),
                  accuracy=round(accuracy.overall, 4), fid=round(metrics.classifier_fid(crop_to_28(out), evaluator), 2),
                  grey=round(grey_share(out), 4), d_loss=round(sum(last) / len(last), 4))
    print(f"{name:<8} {seed:>4} {args.steps:>5} {seconds:>7.0f}   {result['psnr']:>6.2f} {result['ssim']:>6.3f} "
          f"{result['accuracy']:>8.1%} {result['fid']:>7.1f} {result['grey']:>6.3f} {result['d_loss']:>6.3f}", flush=True)
    append_run(args.json, result)
    return result


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(machine_line(args.device))
    train = load_paired(args.dataset, "train", limit=args.train_images, device=args.device)
    test = load_paired(args.dataset, "test", limit=args.test_images, device=args.device)
    evaluator = metrics.default_evaluator(args.device)
    targets = test.targets.cpu()
    inputs = test.inputs.cpu()
    print(f"targets: accuracy {metrics.label_accuracy(crop_to_28(targets), test.labels.cpu(), evaluator).overall:.1%}, "
          f"grey {grey_share(targets):.3f}; inputs alone: accuracy "
          f"{metrics.label_accuracy(crop_to_28(inputs), test.labels.cpu(), evaluator).overall:.1%}")
    print(f"{'variant':<8} {'seed':>4} {'steps':>5} {'train s':>7}   {'PSNR':>6} {'SSIM':>6} {'accuracy':>8} "
          f"{'FID':>7} {'grey':>6} {'D loss':>6}")
    for s in args.seeds:
        for name in args.variants:
            one_run(name, s, args, train, test, evaluator)


if __name__ == "__main__":
    main()
