"""Sample quality after a fixed wall-clock budget: ganlib's lesson recipes against the usual tutorial recipe.

Four runs, one after the other, each trained for the same wall-clock budget (default 3 minutes,
evaluation not counted) on MNIST, then scored on 10,000 samples by the course's frozen evaluator:

  ganlib MLP      lesson 01 in ``cpu`` mode: ``MLPGenerator`` / ``MLPDiscriminator`` (raw logits),
                  ``AdversarialLoss("nonsaturating")``, Adam lr 2e-4, betas (0.5, 0.999), batch 64,
                  the whole set as one tensor sliced by ``ganlib.Batches``.
  tutorial MLP    the same two networks with a ``Sigmoid`` on D and ``nn.BCELoss``, Adam lr 1e-4 with
                  default betas, batch 64, a torchvision ``DataLoader`` with per-image
                  ``ToTensor`` + ``Normalize`` (shuffle, ``num_workers=0``): the recipe most tutorials use.
  ganlib DCGAN    lesson 02 in ``cpu`` mode: ``DCGANGenerator`` / ``DCGANDiscriminator`` width 32 with
                  ``dcgan_init``, same loss as above, Adam lr 1e-3 (since 2026-12-04; 2e-4 before, see
                  ``dcgan_recipe.py``), betas (0.5, 0.999), batch 64.
  tutorial DCGAN  the same networks and init with a ``Sigmoid`` on D and ``nn.BCELoss``, Adam lr 1e-4
                  for G and 1e-5 for D (default betas), batch 64, the same ``DataLoader``.

So the networks are identical within a pair; what differs is the recipe: the loss on logits vs a
sigmoid + BCELoss, the learning rates and Adam's beta1, and the data path (steps per budget).

Each row: generator steps done, seconds, classifier-FID on 10,000 samples (with its floor, real
training digits, and its ceiling, noise), digits covered (at least 5 % of the samples each), the
smallest and largest digit share, and the share of samples the evaluator reads as a clear digit.
Targets at a 3-minute budget: ganlib DCGAN >= 10x lower FID than the tutorial DCGAN, all ten digits
at 6-14 % each; ganlib MLP >= 5x lower FID than the tutorial MLP, all ten digits.

Run alone (other jobs on a 2-core machine distort the budget):
``python benchmarks/quality.py [--budget 180 --samples 10000 --only ganlib-dcgan tutorial-dcgan --grids DIR --save DIR]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Callable, Iterator

import torch
import torchvision
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

import ganlib
from ganlib.evaluation import metrics
from ganlib.layers import dcgan_init
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlib.papers.gan import MLPDiscriminator, MLPGenerator

Z_DIM = 100
BATCH = 64
RUNS = ("ganlib-mlp", "tutorial-mlp", "ganlib-dcgan", "tutorial-dcgan")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--budget", type=float, default=180.0, help="training seconds per run (default 180)")
    p.add_argument("--samples", type=int, default=10_000, help="samples scored per run (default 10,000)")
    p.add_argument("--only", nargs="+", choices=RUNS, default=list(RUNS), help="runs to do (default all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: as is)")
    p.add_argument("--grids", type=Path, default=None, help="folder for a PNG of 64 samples per run")
    p.add_argument("--save", type=Path, default=None, help="folder for each run's generator weights (RUN.pt)")
    return p.parse_args()


def models(kind: str) -> tuple[nn.Module, nn.Module]:
    if kind == "mlp":
        return MLPGenerator(Z_DIM), MLPDiscriminator()
    G, D = DCGANGenerator(Z_DIM, img_size=28, width=32), DCGANDiscriminator(img_size=28, width=32)
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    return G, D


def train_ganlib(kind: str, budget: float, seed: int) -> tuple[nn.Module, int, float]:
    """The lesson's recipe, through ganlib.Trainer, in chunks of 25 steps until the budget is spent."""
    ganlib.seed_everything(seed)
    start = time.perf_counter()
    images, _ = ganlib.load_mnist()  # reading the data counts against the budget, as in a lesson
    G, D = models(kind)
    lr = 1e-3 if kind == "dcgan" else 2e-4  # each lesson's cpu recipe
    opt_g = torch.optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
    d_step, g_step = ganlib.gan_steps(G, D, opt_g, opt_d, ganlib.AdversarialLoss("nonsaturating"), Z_DIM)
    trainer = ganlib.Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step,
                             ganlib.Batches(images, batch_size=BATCH, seed=seed), progress=False)
    while time.perf_counter() - start < budget:
        trainer.fit(trainer.step + 25)
    return G, trainer.step, time.perf_counter() - start


def tutorial_batches(seed: int) -> Iterator[torch.Tensor]:
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    dataset = datasets.MNIST(ganlib.data.prepare_mnist(), train=True, transform=tfm)
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, generator=torch.Generator().manual_seed(seed))
    while True:
        for images, _ in loader:
            yield images


def train_tutorial(kind: str, budget: float, seed: int) -> tuple[nn.Module, int, float]:
    """The usual tutorial loop: sigmoid on D, BCELoss, Adam with default betas, a per-image DataLoader."""
    ganlib.seed_everything(seed)
    start = time.perf_counter()
    G, D = models(kind)
    D = nn.Sequential(D, nn.Sigmoid())
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4 if kind == "mlp" else 1e-5)
    bce = nn.BCELoss()
    steps = 0
    for real in tutorial_batches(seed):
        if time.perf_counter() - start >= budget:
            break
        n = len(real)
        ones, zeros = torch.ones(n), torch.zeros(n)
        fake = G(torch.randn(n, Z_DIM))
        d_loss = bce(D(real).view(-1), ones) + bce(D(fake.detach()).view(-1), zeros)
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        g_loss = bce(D(fake).view(-1), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        steps += 1
    return G, steps, time.perf_counter() - start


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    evaluator = metrics.default_evaluator()
    floor, ceiling = metrics.fid_scale(args.samples, evaluator)  # computed once, before any timing
    trainers: dict[str, Callable[[str, float, int], tuple[nn.Module, int, float]]] = {
        "ganlib": train_ganlib, "tutorial": train_tutorial}
    rows = {}
    for run in args.only:
        recipe, kind = run.split("-")
        print(f"training {run} for {args.budget:.0f} s ...", flush=True)
        G, steps, seconds = trainers[recipe](kind, args.budget, args.seed)
        samples = ganlib.generate(G, ganlib.fixed_noise(args.samples, Z_DIM, seed=12345))
        score = metrics.fid(samples, evaluator)
        cov = metrics.coverage(samples, evaluator)
        rows[run] = (steps, seconds, score.value, cov)
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            torch.save(G.state_dict(), args.save / f"{run}.pt")
        if args.grids is not None:
            from torchvision.utils import save_image

            args.grids.mkdir(parents=True, exist_ok=True)
            save_image(samples[:64], args.grids / f"{run}.png", nrow=8, normalize=True, value_range=(-1, 1))

    print(f"\nMNIST, {args.budget:.0f} s of training per run, batch {BATCH}; classifier-FID on {args.samples:,} "
          f"samples (floor, real training digits: {floor:.2f}; ceiling, noise: {ceiling:.0f})")
    header = f"{'run':<16} {'steps':>7} {'seconds':>8} {'FID':>8} {'digits':>7} {'min-max share':>14} {'clear':>6}"
    print(header)
    print("-" * len(header))
    for run, (steps, seconds, fid, cov) in rows.items():
        share = f"{min(cov.shares):.1%}-{max(cov.shares):.1%}"
        print(f"{run:<16} {steps:>7,} {seconds:>8.0f} {fid:>8.2f} {cov.digits_covered:>5}/10 {share:>14} {cov.confident:>6.0%}")
    print("-" * len(header))
    for kind, target in (("mlp", 5), ("dcgan", 10)):
        if f"ganlib-{kind}" in rows and f"tutorial-{kind}" in rows:
            ratio = rows[f"tutorial-{kind}"][2] / rows[f"ganlib-{kind}"][2]
            print(f"{kind.upper()}: tutorial FID / ganlib FID = {ratio:.1f}x (target >= {target}x)")
    print(f"machine: torch {torch.__version__}, torchvision {torchvision.__version__}, CPU, "
          f"torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
