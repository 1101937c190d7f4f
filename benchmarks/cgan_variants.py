"""Three ways to give the label to a conditional DCGAN, compared at the same number of steps (lesson 03).

  one-hot     ``ConditionalGenerator(label_input="onehot")``: z joined with a one-hot vector;
              ``ConditionalDiscriminator(label_input="onehot")``: 10 label maps beside the image.
  embedding   a learned 10-number embedding joined with z; one learned 28x28 map per class beside the image.
  projection  the embedding generator; the projection discriminator psi(phi(x)) + <e_y, phi(x)>.

Everything else is lesson 03's recipe: DCGAN width 32 with ``dcgan_init``, the non-saturating loss,
Adam with betas (0.5, 0.999) at ``--lr`` (default 2e-4, the paper's; lesson 03's ``cpu`` mode uses 1e-3),
batch 64, fakes made for the labels of the real batch, the same seed (so the same batches) for every
variant. Every ``--every`` steps each run is scored on
``--samples`` samples, every digit asked for equally often, by the course's frozen evaluator: label
accuracy (the share read as the digit asked for) and classifier-FID.

``--extra-layers 1`` gives every discriminator lesson 02's extra 3x3 layer at 7x7 (``DCGANDiscriminator(extra_layers=1)``,
lesson 02's ``cpu`` recipe). ``--wrong-labels`` adds GAN-CLS's third kind of pair (Reed et al., 2016): real
images with a wrong label, which D must also call fake; D's fake term is then the mean over the fakes and
those mismatched pairs (each half weighted 1/2, as in the paper). Each JSON line records both.

Run alone, it takes about 4 minutes per variant and seed on a 2-core CPU at the defaults:
``python benchmarks/cgan_variants.py [--steps 3000 --every 1000 --samples 10000 --seeds 0 1 --threads 2]``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

import ganlib
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers.cgan import ConditionalDiscriminator, ConditionalGenerator, wrong_labels

from common import append_run, machine_line

VARIANTS = {"one-hot": ("onehot", "onehot"), "embedding": ("embedding", "embedding"),
            "projection": ("embedding", "projection")}
Z_DIM, WIDTH, BATCH, LR, BETAS = 100, 32, 64, 2e-4, (0.5, 0.999)


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=3_000, help="generator steps per run (default 3,000, lesson 03's cpu mode)")
    p.add_argument("--every", type=int, default=1_000, help="score every ... steps (default 1,000)")
    p.add_argument("--samples", type=int, default=10_000, help="samples scored each time (default 10,000)")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--only", nargs="+", choices=list(VARIANTS), default=list(VARIANTS))
    p.add_argument("--lr", type=float, default=LR, help="Adam learning rate of both players (default 2e-4, the paper's)")
    p.add_argument("--extra-layers", type=int, default=0, help="D's extra 3x3 layers at 7x7 (lesson 02's cpu recipe: 1)")
    p.add_argument("--wrong-labels", action="store_true", help="GAN-CLS: real images with a wrong label are fakes too")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: as is)")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per run (every score) to this file")
    return p.parse_args()


def train_and_score(variant: str, seed: int, args: argparse.Namespace, images, labels, evaluator) -> list[tuple]:
    g_input, d_input = VARIANTS[variant]
    ganlib.seed_everything(seed)
    G = ConditionalGenerator(Z_DIM, 10, width=WIDTH, label_input=g_input).apply(dcgan_init)
    D = ConditionalDiscriminator(10, width=WIDTH, label_input=d_input, extra_layers=args.extra_layers).apply(dcgan_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=BETAS)
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=BETAS)
    loss = ganlib.AdversarialLoss("nonsaturating")

    def d_step(batch):
        real, y = batch
        with torch.no_grad():
            fake = G(torch.randn(len(y), Z_DIM), y)
        fake_scores = D(fake, y)
        if args.wrong_labels:  # always wrong, each wrong class equally likely
            fake_scores = torch.cat([fake_scores, D(real, wrong_labels(y, 10))])
        parts = loss.discriminator(D(real, y), fake_scores)
        opt_d.zero_grad(set_to_none=True)
        parts.total.backward()
        opt_d.step()
        return {"d_loss": parts.total}

    def g_step(batch):
        _, y = batch
        with ganlib.frozen(D):  # gradients flow through D to G, but D's weights need none
            g_loss = loss.generator(D(G(torch.randn(len(y), Z_DIM), y), y))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"g_loss": g_loss}

    trainer = ganlib.Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step,
                             ganlib.Batches(images, labels, batch_size=BATCH, seed=seed), progress=False)
    z = ganlib.fixed_noise(args.samples, Z_DIM, seed=12345)
    y = ganlib.balanced_labels(args.samples)
    rows, seconds = [], 0.0
    for step in range(args.every, args.steps + 1, args.every):
        start = time.perf_counter()
        trainer.fit(step)
        seconds += time.perf_counter() - start
        samples = ganlib.generate(G, z, y)
        acc = metrics.label_accuracy(samples, y, evaluator)
        fid = metrics.classifier_fid(samples, evaluator)
        rows.append((variant, seed, step, seconds, acc, fid))
        weakest = min(range(10), key=lambda d: acc.per_digit[d])
        print(f"{variant:<11} seed {seed}  step {step:>6}  {seconds:6.0f} s  label accuracy {acc.overall:6.1%}  "
              f"(weakest {weakest}: {acc.per_digit[weakest]:.0%})  FID {fid:7.1f}", flush=True)
    scores = [dict(step=step, seconds=round(sec, 1), acc=round(a.overall, 4), weakest=round(min(a.per_digit), 4),
                   fid=round(f, 2)) for _, _, step, sec, a, f in rows]
    append_run(args.json, dict(variant=variant, seed=seed, lr=args.lr, batch=BATCH, extra_layers=args.extra_layers,
                                 wrong_labels=args.wrong_labels, scores=scores))
    return rows


def main() -> None:
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print("#", machine_line("cpu"))
    images, labels = ganlib.load_mnist()
    evaluator = metrics.default_evaluator()
    rows = [r for seed in args.seeds for v in args.only for r in train_and_score(v, seed, args, images, labels, evaluator)]
    print(f"\n| variant | seed | steps | train s | label accuracy | FID ({args.samples:,} samples) |")
    print("|---|---|---|---|---|---|")
    for variant, seed, step, seconds, acc, fid in rows:
        if step == args.steps:
            print(f"| {variant} | {seed} | {step:,} | {seconds:.0f} | {acc.overall:.1%} | {fid:.1f} |")


if __name__ == "__main__":
    main()
