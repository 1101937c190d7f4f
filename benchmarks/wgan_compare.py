"""Lesson 04's three ways of keeping the critic Lipschitz, side by side: weight clipping, the gradient penalty
and spectral normalisation, at the same generator steps and, by default, the same optimiser for all.

Every run is lesson 04's MNIST setup: ``DCGANGenerator`` (width 32, z 100) and ``DCGANDiscriminator`` (width 32)
*without* BatchNorm as the critic, both ``dcgan_init``, batches of 64, ``n_critic`` = 5 critic steps per
generator step (``ganlib.Trainer``), the Wasserstein critic loss ``mean f(fake) - mean f(real)`` and the
generator loss ``-mean f(G(z))``, for ``--steps`` generator steps. Each variant changes one thing:

* ``clip``: every critic parameter clamped into [-c, c] after each critic step, c = 0.01 (WGAN);
* ``gp``: λ · gradient penalty added to the critic's loss, λ = 10 (WGAN-GP);
* ``sn``: spectral norm on every critic layer, no penalty and no clamp (Miyato et al., 2018, with the
  Wasserstein loss rather than SN-GAN's hinge loss, so that only the constraint differs);
* ``dcgan`` (a reference, not a Lipschitz method): lesson 02's recipe, the non-saturating loss, the
  discriminator *with* BatchNorm and its extra 3x3 layer, one discriminator step per generator step, Adam 1e-3
  (0.5, 0.999) (lesson 02's `cpu` recipe).

The learning-rate policy (``--policy``):

* ``same`` (default): both players of every WGAN variant use ``--optimizer`` (``adam`` with ``--betas``, or
  ``rmsprop``) at ``--lr``: by default Adam 1e-4 with betas (0.5, 0.9), WGAN-GP's choice. Only the
  constraint differs.
* ``paper``: each variant as its paper trained it: ``clip`` RMSProp 5e-5 (WGAN), ``gp`` Adam 1e-4 (0.5, 0.9)
  (WGAN-GP), ``sn`` Adam 1e-4 (0.5, 0.9) (SN-GAN's setting A, the one with n_critic = 5). Then the optimiser
  differs too.

``dcgan`` always uses lesson 02's own policy. Each JSON line says which policy, optimiser, learning rate and
betas its run used.

Recorded per run: the training seconds (model building and training; the FID taken while training is
timed apart and left out), the FID curve ``[(step, fid)]`` (``callbacks.FIDCallback`` every ``--fid-every``
steps on ``--fid-samples`` samples from one fixed noise), the tracked loss at the same steps (the critic's
estimate ``w_estimate`` for the WGANs, the discriminator's loss ``d_loss`` for ``dcgan``; each the mean of the
``--window`` logged steps up to that step, as lesson 04's ``plot_against_fid``), the Spearman rank correlation
between that and the FID over the whole run (the FID steps after step 0) and over its second half (the FID
steps from ``steps / 2`` on) (None with fewer than 3 points), and the final classifier-FID (with its floor
and ceiling) and digit coverage of ``--final-samples`` samples (10,000 by default). For ``clip`` also the
share of the critic's parameters at ±c.

Example (from the repository root; runs go one after the other, so run it alone)::

    python benchmarks/wgan_compare.py --steps 500 --lr 5e-4 --seeds 0 1 --json wgan_same.jsonl
    python benchmarks/wgan_compare.py --steps 500 --policy paper --seeds 0 1 --json wgan_paper.jsonl
    python benchmarks/wgan_compare.py --steps 4 --fid-every 2 --fid-samples 200 --final-samples 500 --threads 1  # smoke
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from scipy.stats import spearmanr

import ganlib
from ganlib.evaluation import callbacks, metrics
from ganlib.layers import dcgan_init
from ganlib.papers.dcgan import DCGANDiscriminator, DCGANGenerator
from ganlib.papers.wgan import CLIP, GP_WEIGHT, spectral_normalize, wgan_critic_step
from ganlib.training import Callback
from ganlib.utils import smooth

from common import append_run, machine_line


@dataclass(frozen=True)
class Policy:
    optimizer: str  # a key of OPTIMIZERS
    lr: float
    betas: tuple[float, float] | None = None  # Adam only


OPTIMIZERS: dict[str, Callable[[Any, Policy], torch.optim.Optimizer]] = {
    "adam": lambda params, p: torch.optim.Adam(params, lr=p.lr, betas=p.betas),
    "rmsprop": lambda params, p: torch.optim.RMSprop(params, lr=p.lr),
}
PAPER_POLICY = {  # --policy paper
    "clip": Policy("rmsprop", 5e-5),             # WGAN (Arjovsky et al., 2017)
    "gp": Policy("adam", 1e-4, (0.5, 0.9)),      # WGAN-GP (Gulrajani et al., 2017)
    "sn": Policy("adam", 1e-4, (0.5, 0.9)),      # SN-GAN's setting A (Miyato et al., 2018), n_dis = 5
}
DCGAN_POLICY = Policy("adam", 1e-3, (0.5, 0.999))  # lesson 02's cpu recipe, whatever --policy says

VARIANTS: dict[str, dict[str, Any]] = {  # what each variant changes in lesson 04's WGAN setup
    "clip": {"clip": CLIP},
    "gp": {"gp_weight": GP_WEIGHT},
    "sn": {"spectral": True},
    "dcgan": {"loss": "nonsaturating", "batchnorm": True, "n_critic": 1, "extra_layers": 1},
}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--steps", type=int, required=True, help="generator steps per run (the same in every variant)")
    p.add_argument("--variants", nargs="+", default=["clip", "gp", "sn"], choices=list(VARIANTS))
    p.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    p.add_argument("--policy", choices=["same", "paper"], default="same",
                   help="same: --optimizer/--lr/--betas for every WGAN variant; paper: each paper's own")
    p.add_argument("--optimizer", choices=list(OPTIMIZERS), default="adam", help="with --policy same")
    p.add_argument("--lr", type=float, default=1e-4, help="with --policy same (lesson 04's cpu mode uses 5e-4)")
    p.add_argument("--betas", type=float, nargs=2, default=[0.5, 0.9], help="Adam's betas, with --policy same")
    p.add_argument("--n-critic", type=int, default=5, help="critic steps per generator step (the WGAN variants)")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=int, default=32)
    p.add_argument("--z-dim", type=int, default=100)
    p.add_argument("--fid-every", type=int, default=50, help="FID while training, every ... generator steps")
    p.add_argument("--fid-samples", type=int, default=1000, help="samples per FID while training")
    p.add_argument("--final-samples", type=int, default=10_000, help="samples scored at the end")
    p.add_argument("--window", type=int, default=50, help="logged steps averaged into each point of the tracked loss")
    p.add_argument("--train-images", type=int, default=None, help="use the first ... MNIST images (default: all)")
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads")
    p.add_argument("--json", type=Path, default=None, help="append one JSON line per run to this file")
    args = p.parse_args()
    if min(args.steps, args.fid_every, args.n_critic, args.window) < 1:
        p.error("--steps, --fid-every, --n-critic and --window must be at least 1.")
    return args


def policy_for(name: str, args: argparse.Namespace) -> tuple[str, Policy]:
    """(policy name, policy) of a variant's run."""
    if name == "dcgan":
        return "lesson 02", DCGAN_POLICY
    if args.policy == "paper":
        return "paper", PAPER_POLICY[name]
    betas = tuple(args.betas) if args.optimizer == "adam" else None
    return "same", Policy(args.optimizer, args.lr, betas)


class Timed(Callback):
    """Runs another callback and adds up the seconds it takes, so that they can be left out of the clock."""

    def __init__(self, inner: Callback) -> None:
        self.inner, self.seconds = inner, 0.0

    def _time(self, hook: Callable[[Any], None], trainer: Any) -> None:
        t0 = time.perf_counter()
        hook(trainer)
        self.seconds += time.perf_counter() - t0

    def on_start(self, trainer: Any) -> None:
        self._time(self.inner.on_start, trainer)

    def on_step(self, trainer: Any) -> None:
        self._time(self.inner.on_step, trainer)

    def on_end(self, trainer: Any) -> None:
        self._time(self.inner.on_end, trainer)


def tracked_at_fid(history, name: str, window: int) -> list[tuple[int, float, float]]:
    """(step, mean of ``name`` over the ``window`` logged steps up to it, FID) at each FID step after 0."""
    steps, values = history[name]
    smoothed = dict(zip(steps, smooth(values, window)))
    return [(s, smoothed[s], f) for s, f in zip(*history["fid"]) if s in smoothed]


def rank_correlation(points: list[tuple[int, float, float]]) -> float | None:
    """Spearman's rho of the tracked loss against the FID; None with fewer than 3 points or a constant."""
    if len(points) < 3:
        return None
    _, a, b = zip(*points)
    if len(set(a)) == 1 or len(set(b)) == 1:
        return None
    return round(float(spearmanr(a, b).statistic), 3)


def one_run(name: str, seed: int, args: argparse.Namespace, images: torch.Tensor, evaluator) -> dict:
    change = VARIANTS[name]
    policy_name, policy = policy_for(name, args)
    n_critic = change.get("n_critic", args.n_critic)
    device, z_dim = args.device, args.z_dim
    ganlib.seed_everything(seed)
    t0 = time.perf_counter()
    G = DCGANGenerator(z_dim=z_dim, width=args.width).to(device).apply(dcgan_init)
    D = DCGANDiscriminator(width=args.width, batchnorm=change.get("batchnorm", False),
                           extra_layers=change.get("extra_layers", 0)).to(device).apply(dcgan_init)
    if change.get("spectral"):
        spectral_normalize(D)  # after the init: the normalised weight is computed from the initialised one
    opt_g = OPTIMIZERS[policy.optimizer](G.parameters(), policy)
    opt_d = OPTIMIZERS[policy.optimizer](D.parameters(), policy)
    loss = ganlib.AdversarialLoss(change.get("loss", "wasserstein"))
    d_step, g_step = ganlib.gan_steps(G, D, opt_g, opt_d, loss, z_dim)
    if loss.mode == "wasserstein":
        d_step = wgan_critic_step(G, D, opt_d, z_dim, clip=change.get("clip"), gp_weight=change.get("gp_weight", 0.0))
    tracked = "w_estimate" if loss.mode == "wasserstein" else "d_loss"
    fid = Timed(callbacks.FIDCallback(every=args.fid_every, n=args.fid_samples, z_dim=z_dim, evaluator=evaluator))
    trainer = ganlib.Trainer(dict(G=G, D=D, opt_g=opt_g, opt_d=opt_d), d_step, g_step,
                             ganlib.Batches(images, batch_size=args.batch, seed=seed), n_critic=n_critic,
                             callbacks=[fid], progress=False)
    trainer.fit(args.steps)
    seconds = time.perf_counter() - t0 - fid.seconds

    points = tracked_at_fid(trainer.history, tracked, args.window)
    late = [p for p in points if p[0] >= args.steps / 2]
    samples = ganlib.generate(G, ganlib.fixed_noise(args.final_samples, z_dim, seed=12345, device=device))
    final, cov = metrics.fid(samples, evaluator), metrics.coverage(samples, evaluator)
    result = dict(
        variant=name, seed=seed, steps=args.steps, n_critic=n_critic, batch=args.batch, width=args.width, z_dim=z_dim,
        critic_batchnorm=change.get("batchnorm", False), loss=loss.mode, clip=change.get("clip"),
        gp_weight=change.get("gp_weight", 0.0), spectral_norm=bool(change.get("spectral")),
        policy=policy_name, optimizer=policy.optimizer, lr=policy.lr, betas=policy.betas,
        train_seconds=round(seconds, 1), fid_seconds=round(fid.seconds, 1), fid_samples=args.fid_samples,
        fid_curve=[(s, round(f, 2)) for s, f in zip(*trainer.history["fid"])],
        tracked=tracked, window=args.window, tracked_curve=[(s, round(v, 4)) for s, v, _ in points],
        spearman_all=rank_correlation(points), spearman_late=rank_correlation(late), late_points=len(late),
        final_samples=args.final_samples, final_fid=round(final.value, 2), fid_floor=round(final.floor, 2),
        fid_ceiling=round(final.ceiling, 1), digits_covered=cov.digits_covered,
        digit_shares=[round(s, 4) for s in cov.shares], clear=round(cov.confident, 4),
    )
    if change.get("clip") is not None:
        params = torch.cat([p.detach().flatten() for p in D.parameters()])
        result["at_clip_bound"] = round(float((params.abs() >= 0.999 * change["clip"]).float().mean()), 4)
    def rho(r: float | None) -> str:
        return "   n/a" if r is None else f"{r:+6.2f}"

    print(f"{name:<6} {seed:>4} {policy.optimizer:>7} {policy.lr:>7.0e} {args.steps:>6} {seconds:>7.0f} "
          f"{final.value:>8.1f} {cov.digits_covered:>5}/10   {tracked:<10} {rho(result['spearman_all'])} "
          f"{rho(result['spearman_late'])}", flush=True)
    append_run(args.json, result)
    return result


def main() -> None:
    args = parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    print(machine_line(args.device, args.threads))
    images, _ = ganlib.load_mnist(limit=args.train_images, device=args.device)
    evaluator = metrics.default_evaluator(args.device)
    print(f"policy {args.policy}; {len(images):,} training images; FID every {args.fid_every} steps on "
          f"{args.fid_samples:,} samples; final scores on {args.final_samples:,}")
    print(f"{'run':<6} {'seed':>4} {'optim':>7} {'lr':>7} {'steps':>6} {'train s':>7} {'FID':>8} {'digits':>8}   "
          f"{'tracked':<10} {'rho':>6} {'late':>6}")
    for s in args.seeds:
        for v in args.variants:
            one_run(v, s, args, images, evaluator)


if __name__ == "__main__":
    main()
