"""Training speed of the lesson-01 MLP GAN fed by two data pipelines, measured side by side.

What it measures: generator steps per second (one discriminator step and one generator step on the
same batch, so one batch per step) of the same MLP GAN (``MLPGenerator`` / ``MLPDiscriminator``, Adam lr 2e-4,
betas (0.5, 0.999), ``AdversarialLoss("nonsaturating")``, ``gan_steps``), trained by the same
``ganlib.Trainer(progress=False)``. Only the data path differs:

  (a) ganlib: ``load_mnist(device=...)`` once, the whole set as one tensor in [-1, 1], batches
      sliced from it by ``ganlib.Batches`` (a random permutation per epoch);
  (b) the usual tutorial: ``DataLoader(datasets.MNIST(..., transform=Compose([ToTensor(),
      Normalize((0.5,), (0.5,))])), batch_size, shuffle=True, drop_last=True)`` with the default
      ``num_workers=0`` (``--workers 0 2`` adds a row with two worker processes), images moved to
      the device batch by batch.

Both share one G, D and their optimisers, so the model work per step is identical. After a warm-up
the pipelines take turns, round by round, so noise from other users of the machine hits both alike;
the table shows the median and the min-max of steps/s over the rounds, the one-off set-up time
(reading MNIST into a tensor for (a), building the torchvision dataset for (b)), and how many
batches per second each pipeline delivers on its own, with no training.

Target: (a) at least 1.8x the steps/s of (b) with num_workers=0 on a 2-core CPU.
Run: ``python benchmarks/data_pipeline.py [--steps 200 --rounds 5 --batch-size 64 --device cpu]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import torch
import torchvision
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

import ganlib
from ganlib.papers.gan import MLPDiscriminator, MLPGenerator

Z_DIM = 100


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, default=200, help="training steps per timed round (default 200)")
    p.add_argument("--rounds", type=int, default=5, help="timed rounds per pipeline (default 5)")
    p.add_argument("--warmup", type=int, default=30, help="untimed steps per pipeline first (default 30)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default 64)")
    p.add_argument("--device", default=None, help="device (default: ganlib.get_device())")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: as is)")
    p.add_argument("--workers", type=int, nargs="+", default=[0], help="DataLoader num_workers rows (default 0)")
    p.add_argument("--seed", type=int, default=0, help="seed for models, noise and shuffling (default 0)")
    return p.parse_args()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def loader_batches(loader: DataLoader, device: torch.device):
    """Endless images-only batches from a DataLoader, moved to ``device`` (the tutorial's loop)."""
    while True:
        for images, _labels in loader:
            yield images.to(device)


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    device = ganlib.get_device(args.device)
    ganlib.seed_everything(args.seed)
    root = ganlib.data.prepare_mnist(ganlib.data.data_dir())  # raw files for torchvision, untimed

    # (a) ganlib: the whole set as one tensor, read once (timed as a one-off cost).
    sync(device)
    t0 = time.perf_counter()
    images, _labels = ganlib.load_mnist(device=device)
    sync(device)
    setup = {"a": time.perf_counter() - t0}
    sources = {"a": ganlib.Batches(images, batch_size=args.batch_size, seed=args.seed)}
    names = {"a": "(a) ganlib load_mnist + Batches"}

    # (b) torchvision dataset + DataLoader, one row per num_workers value.
    tfm = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))])
    for w in args.workers:
        key = f"b{w}"
        t0 = time.perf_counter()
        dataset = datasets.MNIST(root, train=True, transform=tfm)
        setup[key] = time.perf_counter() - t0
        loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, drop_last=True,
                            num_workers=w, generator=torch.Generator().manual_seed(args.seed))
        sources[key] = loader_batches(loader, device)
        names[key] = f"(b) DataLoader, num_workers={w}" + (" (default)" if w == 0 else "")

    # One GAN, shared by every pipeline's Trainer.
    G, D = MLPGenerator(Z_DIM).to(device), MLPDiscriminator().to(device)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    d_step, g_step = ganlib.gan_steps(G, D, opt_g, opt_d, ganlib.AdversarialLoss("nonsaturating"), z_dim=Z_DIM)
    state = dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d)
    trainers = {k: ganlib.Trainer(state, d_step, g_step, src, progress=False) for k, src in sources.items()}

    def timed(trainer: ganlib.Trainer, steps: int) -> float:
        sync(device)
        t0 = time.perf_counter()
        trainer.fit(trainer.step + steps)
        sync(device)
        return steps / (time.perf_counter() - t0)

    for trainer in trainers.values():
        timed(trainer, args.warmup)
    rates: dict[str, list[float]] = {k: [] for k in trainers}
    for r in range(args.rounds):  # interleaved: a, b, a, b, ... (order flipped every other round)
        order = list(trainers) if r % 2 == 0 else list(reversed(trainers))
        for key in order:
            rates[key].append(timed(trainers[key], args.steps))

    def data_only(source, batches: int = 100) -> float:  # batches/s with no training at all
        sync(device)
        t0 = time.perf_counter()
        for _ in range(batches):
            next(source)
        sync(device)
        return batches / (time.perf_counter() - t0)

    loading = {k: statistics.median(data_only(src) for _ in range(3)) for k, src in sources.items()}

    print(f"MLP GAN on MNIST, batch {args.batch_size}, {args.rounds} interleaved rounds x {args.steps} steps "
          f"(+{args.warmup} warm-up); a step = 1 D + 1 G update on 1 batch")
    header = (f"{'pipeline':<40} {'set-up s':>9} {'median steps/s':>15} {'min-max steps/s':>17}"
              f" {'data only, batches/s':>21}")
    print(header)
    print("-" * len(header))
    for key, rs in rates.items():
        spread = f"{min(rs):.1f}-{max(rs):.1f}"
        print(f"{names[key]:<40} {setup[key]:>9.2f} {statistics.median(rs):>15.1f} {spread:>17} {loading[key]:>21,.0f}")
    print("-" * len(header))
    med_a = statistics.median(rates["a"])
    for key in rates:
        if key != "a":
            speedup = med_a / statistics.median(rates[key])
            print(f"speed-up (a) / {names[key][4:]}: {speedup:.2f}x  (target >= 1.8x for num_workers=0)")
    print(f"machine: torch {torch.__version__}, torchvision {torchvision.__version__}, device {device}, "
          f"torch threads {torch.get_num_threads()}, CPUs {os.cpu_count()}, "
          f"{platform.processor() or platform.machine()}, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
