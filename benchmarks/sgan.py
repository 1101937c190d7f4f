"""Lesson 08's semi-supervised GAN: how good a digit classifier do 100 labels make, with and without the GAN?

Each run trains for ``--budget`` seconds of wall-clock time (data loading and model building included,
scoring not: the clock stops while a score is taken) and scores the classifier on all 10,000 MNIST
test digits every ``--every-s`` seconds and at the end. Two variants, the same network:

* ``ssgan``: ``SSGANDiscriminator`` as a classifier over the 10 digits with "fake" as the implicit
  11th class, trained on labelled, unlabelled (all 60,000 training images, as the official code) and
  generated batches (``discriminator_loss``: cross-entropy + 1/2 x the unsupervised GAN loss), against
  ``SSGANGenerator`` trained by feature matching; also the classifier-FID of ``--samples`` generator samples.
* ``supervised``: the same ``SSGANDiscriminator`` (same data-dependent initialisation, same noise, same
  optimiser) trained with cross-entropy on the labelled images alone: the baseline a learner tries first.

Defaults from the official code (github.com/openai/improved-gan, ``mnist_svhn_cifar10/
train_mnist_feature_matching.py``): Adam with lr 0.003 and beta1 0.5 for both players, batches of 100
labelled and 100 unlabelled images, ``--count 10`` labels per class, the unsupervised loss halved. The
official code runs 300 epochs and tests with a running average of D's weights; here the weights are used
as they are. The labelled subset is drawn with ``--data-seed`` (default: the run's seed, so that the
seed-to-seed spread includes the choice of the labelled digits).  ``--hidden`` sets the classifier's hidden layers
(lesson 08's ``cpu`` mode: ``500 250 250``, about 1.7 times the steps per second of the paper's network).
Runs recorded before 2026-12-05 (``results/sgan_140s_cpu.jsonl``, ``results/sgan_900s_cpu.jsonl``) trained
the hidden layers' weight-norm scales too; since then they stay where the data-dependent initialisation
put them, as in the official code.

Example (from the repository root; runs go one after the other, so run it alone)::

    python benchmarks/sgan.py --budget 150 --every-s 30 --seeds 0 1 --variants ssgan supervised --json sgan.jsonl

The rows printed are ``variant seed labels steps seconds accuracy FID``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import ganlib
from ganlib.evaluation import metrics
from ganlib.papers import sgan

from common import append_run, machine_line

VARIANTS = ("ssgan", "supervised")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", type=float, required=True, help="training seconds per run")
    p.add_argument("--every-s", type=float, default=None, help="also score every ... training seconds")
    p.add_argument("--labels", type=int, default=100, help="labelled images in all, a multiple of 10 (e.g. 100, 1000)")
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--seeds", nargs="+", type=int, default=[0])
    p.add_argument("--data-seed", type=int, default=None, help="seed of the labelled subset (default: the run's seed)")
    p.add_argument("--lr", type=float, default=sgan.LR, help="Adam learning rate, both players (official: 0.003)")
    p.add_argument("--batch", type=int, default=sgan.BATCH_SIZE, help="labelled and unlabelled batch (official 100)")
    p.add_argument("--hidden", type=int, nargs="+", default=list(sgan.D_HIDDEN),
                   help="the classifier's hidden layers (official: 1000 500 250 250 250; lesson 08's cpu mode: 500 250 250)")
    p.add_argument("--samples", type=int, default=10_000, help="generator samples for FID (ssgan only)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per run (every score) to this file")
    args = p.parse_args()
    if args.labels < 10 or args.labels % 10:
        p.error(f"--labels must be a positive multiple of 10 (the same number per digit); got {args.labels}.")
    return args


def one_run(name: str, seed: int, args: argparse.Namespace, evaluator, test_images, test_labels) -> dict:
    device, data_seed = args.device, seed if args.data_seed is None else args.data_seed
    ganlib.seed_everything(seed)
    clock, scores = 0.0, []
    t0 = time.perf_counter()
    images, labels = ganlib.load_mnist(device=device)  # reading the data counts, as in a lesson
    idx = sgan.balanced_subset(labels, per_class=args.labels // 10, seed=data_seed)
    x_lab, y_lab = images[idx], labels[idx]
    D = sgan.SSGANDiscriminator(hidden=tuple(args.hidden)).to(device).data_init(x_lab)
    opt_d = torch.optim.Adam(D.parameters(), lr=args.lr, betas=sgan.BETAS)
    if name == "ssgan":
        G = sgan.SSGANGenerator().to(device)
        opt_g = torch.optim.Adam(G.parameters(), lr=args.lr, betas=sgan.BETAS)
        batches = sgan.SemiSupervisedBatches(x_lab, y_lab, images, args.batch, seed=seed)
        trainer = ganlib.Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), *sgan.ssgan_steps(G, D, opt_g, opt_d),
                                 batches, progress=False)

        def advance() -> int:
            trainer.fit(trainer.step + 1)  # one step at a time, so that the budget is kept to the step
            return trainer.step
    else:
        labelled = ganlib.Batches(x_lab, y_lab, batch_size=min(args.batch, len(x_lab)), seed=seed)
        done = 0

        def advance() -> int:
            nonlocal done
            x, y = next(labelled)
            loss = F.cross_entropy(D(x), y)
            opt_d.zero_grad(set_to_none=True)
            loss.backward()
            opt_d.step()
            done += 1
            return done

    step = 0
    marks = [args.every_s * k for k in range(1, int(args.budget // args.every_s) + 1)] if args.every_s else []
    marks = [m for m in marks if m < args.budget] + [args.budget]
    for mark in marks:
        while clock + (time.perf_counter() - t0) < mark:
            step = advance()
        clock += time.perf_counter() - t0
        s = dict(step=step, seconds=round(clock, 1),
                 acc=round(sgan.classifier_accuracy(D, test_images, test_labels), 4))
        if name == "ssgan":
            z = sgan.uniform_noise(args.samples, generator=torch.Generator().manual_seed(12345)).to(device)
            s["fid"] = round(metrics.classifier_fid(ganlib.generate(G, z), evaluator), 2)
        scores.append(s)
        t0 = time.perf_counter()
    last = scores[-1]
    fid = f"{last['fid']:>8.1f}" if "fid" in last else f"{'-':>8}"
    print(f"{name:<11} {seed:>4} {args.labels:>6} {last['step']:>7} {last['seconds']:>7.0f} {last['acc']:>8.2%} {fid}",
          flush=True)
    result = dict(variant=name, seed=seed, data_seed=data_seed, labels=args.labels, lr=args.lr, batch=args.batch,
                  hidden=args.hidden,
                  scores=scores)
    append_run(args.json, result)
    return result


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(machine_line(args.device))
    evaluator = metrics.default_evaluator(args.device)
    test_images, test_labels = ganlib.load_mnist("test", device=args.device)
    print(f"{'variant':<11} {'seed':>4} {'labels':>6} {'steps':>7} {'train s':>7} {'accuracy':>8} {'FID':>8}")
    for s in args.seeds:
        for v in args.variants:
            one_run(v, s, args, evaluator, test_images, test_labels)


if __name__ == "__main__":
    main()
