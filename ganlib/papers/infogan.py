"""InfoGAN (Chen, Duan, Houthooft, Schulman, Sutskever and Abbeel, 2016), lesson 07.

The generator's input is split into incompressible noise z and a *code* c: here one categorical code
with ``n_cat`` values and ``n_cont`` continuous codes drawn uniformly from [-1, 1]. A plain GAN has no
reason to use c in any readable way; InfoGAN asks that c stay recoverable from the image, by
maximising the mutual information I(c; G(z, c)). That quantity needs the posterior P(c | x), which
nobody has, so an auxiliary network Q(c | x) gives a variational lower bound::

    I(c; x) = H(c) - H(c | x) = H(c) + E_x E_{c ~ P(c|x)}[log P(c | x)]
            = H(c) + E_{c, x}[log Q(c | x)] + E_x[KL(P(. | x) || Q(. | x))]
           >= H(c) + E_{c ~ p(c), x ~ G(z, c)}[log Q(c | x)]  =:  L_I(G, Q)

The gap is the expected KL divergence, zero exactly when Q is the true posterior, so training Q
tightens the bound and training G raises it. H(c) is fixed by the prior (log K for a uniform
K-way code), so maximising L_I is minimising the cross-entropy of Q's guess of the code that made
each fake. Both players take the term: ``min_{G,Q} max_D V(D, G) - lambda L_I(G, Q)``.

The networks are the official code's for MNIST (github.com/openai/InfoGAN, ``regularized_gan.py``):
two (transposed) convolutions each way, as lesson 02's, plus fully connected layers of ``hidden`` units
in both players (:class:`InfoGANGenerator`, :class:`InfoGANDiscriminator`). With lesson 02's DCGAN
instead (no dense layers; the course's first choice) the categories matched the digits far less
often (55 % against 81-84 % after 2,500-3,000 steps: ``benchmarks/README.md``). Q shares the
discriminator's body and adds a small dense head: the images go through the body once for both heads.
For the categorical code Q outputs logits (log Q = log-softmax); for each continuous code the mean of a
Gaussian with standard deviation fixed at 1, as the official code does (``fix_std=True``), so
-log Q(c | x) = (c - mu)^2 / 2 + a constant.

Constants by name: the paper sets lambda = 1 for the categorical code and advises a smaller one for
continuous codes; its official MNIST code uses 1 for both, the continuous term being the Gaussian
(c - mu)^2 / 2 above, and so do we (:data:`CAT_WEIGHT`, :data:`CONT_WEIGHT`; ``benchmarks/infogan.py``
compares 0.1). The noise has 62 dimensions, uniform in [-1, 1] (:data:`Z_DIM`, :func:`sample_z`), and
Adam runs at the official rates (:data:`LR_G`, :data:`LR_D`).

The measurements of lesson 07 live here too: :func:`cluster_accuracy` (how well the categories match
the digits, under the best one-to-one assignment) and :func:`stroke_width` / :func:`slant` (image
moments that say what a continuous code controls).
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from scipy.optimize import linear_sum_assignment
from torch import Tensor, nn

from ..losses import AdversarialLoss
from ..plotting import show_images
from ..sampling import generate
from ..training import StepFn, frozen
from ..validate import check_image_batch, check_image_shape, check_labels, check_noise, check_positive
from ..widgets import _with_fallback

Z_DIM = 62         # the paper's noise size for MNIST, drawn uniformly from [-1, 1] as in the official code
N_CAT = 10         # one 10-way categorical code
N_CONT = 2         # two continuous codes, uniform in [-1, 1]
CAT_WEIGHT = 1.0   # lambda for the categorical code (the paper's value)
CONT_WEIGHT = 1.0  # lambda for the continuous codes: the official code's 1, on (c - mu)^2 / 2 (see below)
LR_G, LR_D = 1e-3, 2e-4  # the official code's Adam learning rates (beta1 = 0.5)
LEAK = 0.01         # the official code's LeakyReLU slope (lessons 02-06 use DCGAN's 0.2)


class Codes(NamedTuple):
    """A batch of InfoGAN codes: ``cat`` (N,) integers in [0, n_cat), ``cont`` (N, n_cont) floats."""

    cat: Tensor
    cont: Tensor


def sample_codes(n: int, n_cat: int = N_CAT, n_cont: int = N_CONT, device: torch.device | str | None = None,
                 generator: torch.Generator | None = None) -> Codes:
    """``n`` codes from InfoGAN's prior: categories uniform over ``n_cat``, continuous codes uniform in [-1, 1]."""
    check_positive(n=n, n_cat=n_cat)
    if n_cont < 0:
        raise ValueError(f"n_cont must be >= 0; got {n_cont}.")
    cat = torch.randint(n_cat, (n,), generator=generator)
    cont = torch.rand(n, n_cont, generator=generator) * 2 - 1
    return Codes(cat.to(device), cont.to(device))


def sample_z(n: int, z_dim: int = Z_DIM, device: torch.device | str | None = None,
             generator: torch.Generator | None = None) -> Tensor:
    """``n`` noise vectors uniform in [-1, 1], shape (n, z_dim): the official code's noise for InfoGAN."""
    check_positive(n=n, z_dim=z_dim)
    if generator is not None:
        return (torch.rand(n, z_dim, generator=generator) * 2 - 1).to(device)
    return torch.rand(n, z_dim, device=device) * 2 - 1


def _check_cont(cont: Tensor, n: int, n_cont: int, owner: str) -> None:
    if not isinstance(cont, Tensor) or not cont.is_floating_point() or tuple(cont.shape) != (n, n_cont):
        got = f"{cont.dtype} {tuple(cont.shape)}" if isinstance(cont, Tensor) else type(cont).__name__
        raise ValueError(f"{owner} expects continuous codes as floats of shape ({n}, {n_cont}); got {got}.")


def _check_quarter_size(img_size: int) -> int:
    if not isinstance(img_size, int) or isinstance(img_size, bool) or img_size < 8 or img_size % 4:
        raise ValueError(f"img_size must be a multiple of 4 (two 2x steps), at least 8, e.g. 28; got {img_size!r}.")
    return img_size // 4


class InfoGANGenerator(nn.Module):
    """The official InfoGAN code's MNIST generator (lesson 07): ``G(z, cat, cont)`` -> images (N, C, S, S).

    The category enters one-hot, the continuous codes as they are, joined to z. Two fully connected
    layers (``hidden`` units, then a (2 ``width``, S/4, S/4) map), then two stride-2 transposed
    convolutions (``width`` channels, then C); BatchNorm and ReLU after every layer but the last,
    which has Tanh. The official sizes are ``hidden=1024``, ``width=64``.
    """

    def __init__(self, z_dim: int = Z_DIM, n_cat: int = N_CAT, n_cont: int = N_CONT, img_size: int = 28,
                 channels: int = 1, width: int = 64, hidden: int = 1024) -> None:
        super().__init__()
        check_positive(z_dim=z_dim, n_cat=n_cat, channels=channels, width=width, hidden=hidden)
        if n_cont < 0:
            raise ValueError(f"n_cont must be >= 0; got {n_cont}.")
        self.z_dim, self.n_cat, self.n_cont, self.width = z_dim, n_cat, n_cont, width
        self.start = _check_quarter_size(img_size)
        n_map = 2 * width * self.start**2
        self.fc = nn.Sequential(
            nn.Linear(z_dim + n_cat + n_cont, hidden, bias=False), nn.BatchNorm1d(hidden), nn.ReLU(True),
            nn.Linear(hidden, n_map, bias=False), nn.BatchNorm1d(n_map), nn.ReLU(True),
        )
        self.conv = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(True),
            nn.ConvTranspose2d(width, channels, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z: Tensor, cat: Tensor, cont: Tensor) -> Tensor:
        name = type(self).__name__
        z = check_noise(z, self.z_dim, name)
        check_labels(cat, z.shape[0], self.n_cat, name)
        _check_cont(cont, z.shape[0], self.n_cont, name)
        h = self.fc(torch.cat([z, F.one_hot(cat, self.n_cat).to(z.dtype), cont], dim=1))
        return self.conv(h.view(-1, 2 * self.width, self.start, self.start))


class InfoGANScores(NamedTuple):
    """What :class:`InfoGANDiscriminator` says about a batch: D's logits (N,) and Q's guesses of the code."""

    logits: Tensor      # real or fake, no sigmoid
    cat_logits: Tensor  # (N, n_cat): Q's logits over the categories
    cont_mean: Tensor   # (N, n_cont): the means of Q's Gaussians for the continuous codes


class InfoGANDiscriminator(nn.Module):
    """The official InfoGAN code's MNIST discriminator with its Q head (lesson 07).

    ``D(x)`` returns :class:`InfoGANScores`. The shared body (:attr:`features`): two stride-2
    convolutions (``width``, then 2 ``width`` channels with BatchNorm) and a fully connected layer of
    ``hidden`` units with BatchNorm, each followed by LeakyReLU with the official slope
    :data:`LEAK`. D's score is one linear unit on those features (:attr:`d_head`); Q (:attr:`q_head`)
    is a dense layer of ``q_hidden`` units (BatchNorm, LeakyReLU), then the code's outputs.
    """

    def __init__(self, n_cat: int = N_CAT, n_cont: int = N_CONT, img_size: int = 28, channels: int = 1,
                 width: int = 64, hidden: int = 1024, q_hidden: int = 128) -> None:
        super().__init__()
        check_positive(n_cat=n_cat, channels=channels, width=width, hidden=hidden, q_hidden=q_hidden)
        if n_cont < 0:
            raise ValueError(f"n_cont must be >= 0; got {n_cont}.")
        self.n_cat, self.n_cont, self.img_size, self.channels = n_cat, n_cont, img_size, channels
        side = _check_quarter_size(img_size)
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(LEAK, True),
            nn.Conv2d(width, 2 * width, 4, 2, 1, bias=False), nn.BatchNorm2d(2 * width), nn.LeakyReLU(LEAK, True),
            nn.Flatten(), nn.Linear(2 * width * side**2, hidden, bias=False), nn.BatchNorm1d(hidden),
            nn.LeakyReLU(LEAK, True),
        )
        self.d_head = nn.Linear(hidden, 1)
        self.q_head = nn.Sequential(
            nn.Linear(hidden, q_hidden, bias=False), nn.BatchNorm1d(q_hidden), nn.LeakyReLU(LEAK, True),
            nn.Linear(q_hidden, n_cat + n_cont),
        )

    def forward(self, x: Tensor) -> InfoGANScores:
        check_image_shape(x, type(self).__name__, self.channels, self.img_size)
        h = self.features(x)
        q = self.q_head(h)
        return InfoGANScores(self.d_head(h).view(-1), q[:, : self.n_cat], q[:, self.n_cat :])


class InfoLoss(NamedTuple):
    """The information term to minimise, -lambda L_I up to the constant H(c), with its parts."""

    total: Tensor  # CAT_WEIGHT * cat + CONT_WEIGHT * cont
    cat: Tensor    # cross-entropy of Q's guess of the category (nats)
    cont: Tensor   # mean over the batch of sum_j (c_j - mu_j)^2 / 2


def info_loss(scores: InfoGANScores, codes: Codes, cat_weight: float = CAT_WEIGHT,
              cont_weight: float = CONT_WEIGHT) -> InfoLoss:
    """-log Q(c | x) for the codes that made the fakes, weighted: what both players add to their loss.

    The categorical part is a cross-entropy on logits; the continuous part is the negative
    log-likelihood of a unit-variance Gaussian without its constant, (c - mu)^2 / 2 summed over codes.
    Minimising it maximises L_I(G, Q) = H(c) - cat (for the categorical code, in nats).
    """
    cat = F.cross_entropy(scores.cat_logits, codes.cat)
    cont = 0.5 * (codes.cont - scores.cont_mean).pow(2).sum(dim=1).mean() if codes.cont.shape[1] else cat.new_zeros(())
    return InfoLoss(cat_weight * cat + cont_weight * cont, cat, cont)


def infogan_steps(
    G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, *,
    cat_weight: float = CAT_WEIGHT, cont_weight: float = CONT_WEIGHT, uniform_z: bool = True,
) -> tuple[StepFn, StepFn]:
    """Lesson 07's discriminator and generator steps for :class:`ganlib.Trainer`, on batches of real images.

    Each step draws codes from the prior (:func:`sample_codes`) and noise (:func:`sample_z`, uniform in
    [-1, 1] as in the official code; ``uniform_z=False``: N(0, 1)). D (with Q, its second head) minimises
    the non-saturating loss on real against fake plus :func:`info_loss` on the fakes; G minimises its
    non-saturating loss plus the same information term. The lesson writes these steps out;
    ``scripts/pretrain.py`` and ``benchmarks/infogan.py`` use this copy.
    """
    loss = AdversarialLoss("nonsaturating")

    def fakes(n: int, device: torch.device) -> tuple[Tensor, Codes]:
        codes = sample_codes(n, G.n_cat, G.n_cont, device=device)
        z = sample_z(n, G.z_dim, device) if uniform_z else torch.randn(n, G.z_dim, device=device)
        return G(z, *codes), codes

    def d_step(real: Tensor) -> dict[str, Tensor]:
        with torch.no_grad():
            fake, codes = fakes(len(real), real.device)
        on_fake = D(fake)
        parts = loss.discriminator(D(real).logits, on_fake.logits)
        info = info_loss(on_fake, codes, cat_weight, cont_weight)
        opt_d.zero_grad(set_to_none=True)
        (parts.total + info.total).backward()
        opt_d.step()
        return {"d_loss": parts.total, "info_cat": info.cat}

    def g_step(real: Tensor) -> dict[str, Tensor]:
        fake, codes = fakes(len(real), real.device)
        with frozen(D):
            on_fake = D(fake)
            info = info_loss(on_fake, codes, cat_weight, cont_weight)
            g_loss = loss.generator(on_fake.logits)
        opt_g.zero_grad(set_to_none=True)
        (g_loss + info.total).backward()
        opt_g.step()
        return {"g_loss": g_loss}

    return d_step, g_step


def mutual_information_bound(cat_ce: float, n_cat: int = N_CAT) -> float:
    """L_I for a uniform categorical code, in nats: H(c) - cross-entropy = log(n_cat) - ``cat_ce``."""
    return math.log(n_cat) - float(cat_ce)


# -- measurements (lesson 07) ------------------------------------------------------------------------
def cluster_accuracy(clusters: Tensor, labels: Tensor, n_clusters: int = N_CAT, n_labels: int = 10) -> tuple[float, list[int]]:
    """Accuracy of ``clusters`` as labels under the best one-to-one assignment of clusters to labels.

    Counts how often each (cluster, label) pair occurs and lets :func:`scipy.optimize.linear_sum_assignment`
    find the matching that agrees most. Returns the share of items whose cluster is matched to their
    label, and ``mapping[k]``, the label matched to cluster k.
    """
    clusters, labels = torch.as_tensor(clusters).cpu().long(), torch.as_tensor(labels).cpu().long()
    if clusters.ndim != 1 or clusters.shape != labels.shape or len(clusters) == 0:
        raise ValueError(f"clusters and labels must be 1-D integer tensors of the same, non-zero length; got "
                         f"{tuple(clusters.shape)} and {tuple(labels.shape)}.")
    for name, t, k in (("clusters", clusters, n_clusters), ("labels", labels, n_labels)):
        if int(t.min()) < 0 or int(t.max()) >= k:
            raise ValueError(f"{name} must lie in 0..{k - 1}; got values from {int(t.min())} to {int(t.max())}.")
    if n_clusters > n_labels:
        raise ValueError(f"a one-to-one assignment needs n_clusters <= n_labels; got {n_clusters} > {n_labels}.")
    counts = torch.zeros(n_clusters, n_labels, dtype=torch.long)
    counts.index_put_((clusters, labels), torch.ones_like(clusters), accumulate=True)
    rows, cols = linear_sum_assignment(counts.numpy(), maximize=True)
    mapping = [0] * n_clusters
    for r, c in zip(rows, cols):
        mapping[r] = int(c)
    return counts[rows, cols].sum().item() / len(clusters), mapping


def _ink(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> ink in [0, 1] (background 0), shape (N, H, W)."""
    check_image_batch(images, "images")  # (N, 1, 28, 28) in [-1, 1]
    return ((images[:, 0].float() + 1) / 2).clamp(0, 1)


def stroke_width(images: Tensor, threshold: float = 0.5) -> Tensor:
    """Mean stroke width in pixels per image, (N,): 2 * area / perimeter of the inked region.

    A stroke of length L and width w covers about L * w pixels and has a border of about 2 L, so
    twice the area over the border length estimates w. Pixels with ink above ``threshold`` count as
    inked; the border is the number of inked/blank pixel edges (the image edge counts as blank).
    """
    inked = (_ink(images) > threshold).float()
    padded = F.pad(inked, (1, 1, 1, 1))
    border = (padded[:, 1:, :] != padded[:, :-1, :]).sum(dim=(1, 2)) + (padded[:, :, 1:] != padded[:, :, :-1]).sum(dim=(1, 2))
    return 2 * inked.sum(dim=(1, 2)) / border.clamp(min=1).float()


def slant(images: Tensor) -> Tensor:
    """Slant of each image, (N,): how far the ink moves right per pixel up, from second-order moments.

    With ink-weighted central moments mu_xy and mu_yy (y pointing up), slant = mu_xy / mu_yy, the
    slope of the regression of x on y. Upright digits give about 0, forward-leaning ones positive.
    """
    ink = _ink(images)
    n, h, w = ink.shape
    ys = torch.arange(h, dtype=ink.dtype).flip(0)[:, None].expand(h, w)  # y up
    xs = torch.arange(w, dtype=ink.dtype)[None, :].expand(h, w)
    mass = ink.sum(dim=(1, 2)).clamp(min=1e-6)
    mx = (ink * xs).sum(dim=(1, 2)) / mass
    my = (ink * ys).sum(dim=(1, 2)) / mass
    dx, dy = xs - mx[:, None, None], ys - my[:, None, None]
    mu_xy = (ink * dx * dy).sum(dim=(1, 2)) / mass
    mu_yy = (ink * dy * dy).sum(dim=(1, 2)) / mass
    return mu_xy / mu_yy.clamp(min=1e-6)


def sweep(G: InfoGANGenerator, swept: str, values: Tensor, measure: Callable[[Tensor], Tensor], n: int = 500,
          seed: int = 777) -> Tensor:
    """``measure`` of ``n`` samples as one input is swept over ``values``: a tensor (n, len(values)).

    ``swept`` names the input: ``"c1"``, ``"c2"``, ... a continuous code (the others held at 0), or
    ``"z1"``, ``"z2"``, ... a noise dimension (the codes at 0). Everything else (the rest of z and
    the category) is drawn once per sample from ``seed`` and kept along the sweep, so each row is one
    sample's curve. The global random state is not touched.
    """
    kind, j = swept[:1], int(swept[1:]) - 1 if swept[1:].isdigit() else -1
    limit = G.n_cont if kind == "c" else G.z_dim if kind == "z" else 0
    if not 0 <= j < limit:
        raise ValueError(f"swept must be 'c1'..'c{G.n_cont}' (a continuous code) or 'z1'..'z{G.z_dim}' "
                         f"(a noise dimension); got {swept!r}.")
    device = next(G.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    z = sample_z(n, G.z_dim, device, generator=gen)
    cat = torch.randint(G.n_cat, (n,), generator=gen).to(device)
    columns = []
    for v in values.tolist():
        zz, cont = z.clone(), torch.zeros(n, G.n_cont, device=device)
        (cont if kind == "c" else zz)[:, j] = v
        columns.append(measure(generate(G, zz, cat, cont)))
    return torch.stack(columns, dim=1)


def sweep_correlation(values: Tensor, curves: Tensor) -> float:
    """Pearson correlation between the swept value and the measure, over every (sample, value) pair.

    ``curves`` is :func:`sweep`'s (n, len(values)). Pooling all samples asks how much of the measure's
    whole variation, from sample to sample *and* along the sweep, the swept input explains (r squared
    of it): an input that nudges every sample's slant a little in the same direction scores low, one
    that sets the slant scores high. No variation at all counts as 0.
    """
    x = values.float().cpu().expand_as(curves).reshape(-1)
    y = curves.float().cpu().reshape(-1)
    x, y = x - x.mean(), y - y.mean()
    return ((x * y).sum() / (x.norm() * y.norm()).clamp(min=1e-12)).item()


MEASURES = {"width": stroke_width, "slant": slant}


def code_correlations(G: InfoGANGenerator, n: int = 500, seed: int = 777, steps: int = 9) -> dict[str, float]:
    """Correlations (:func:`sweep_correlation`), ``{"c1_width": r, "c1_slant": r, ..., "z2_slant": r}``, of each
    continuous code and of the first two noise dimensions (the baseline), each swept over [-1, 1], the
    range both are drawn from, with stroke width and slant (lesson 07).
    """
    found = {}
    values = torch.linspace(-1, 1, steps)
    for swept in [f"c{j + 1}" for j in range(G.n_cont)] + ["z1", "z2"]:
        for name, measure in MEASURES.items():
            found[f"{swept}_{name}"] = sweep_correlation(values, sweep(G, swept, values, measure, n, seed))
    return found


def code_explorer(G: InfoGANGenerator, seed: int = 0, columns: int = 9, span: float = 2.0) -> None:
    """Pick the category and slide the two continuous codes (lesson 07).

    Static fallback: one figure per continuous code, rows = categories, columns = that code from
    -``span`` to ``span`` (past the training range [-1, 1], as the paper shows), the other codes at 0,
    the same noise in every cell.
    """
    device = next(G.parameters()).device
    z = sample_z(1, G.z_dim, device, generator=torch.Generator().manual_seed(seed))

    def images_for(cat: Tensor, cont: Tensor) -> Tensor:
        return generate(G, z.expand(len(cat), -1), cat, cont)

    def build() -> Any:
        import ipywidgets as w

        def show(category: int, c1: float, c2: float, seed: int) -> None:
            zz = sample_z(8, G.z_dim, device, generator=torch.Generator().manual_seed(seed))
            cont = torch.tensor([[c1, c2][: G.n_cont]] * 8, device=device)
            cat = torch.full((8,), category, dtype=torch.long, device=device)
            show_images(generate(G, zz, cat, cont), nrow=8, size=8, title=f"category {category}, codes ({c1:.1f}, {c2:.1f})")
            plt.show()

        slider = dict(min=-span, max=span, step=0.1, value=0.0)
        return w.interactive(show, category=w.IntSlider(0, 0, G.n_cat - 1, description="category"),
                             c1=w.FloatSlider(description="code 1", **slider), c2=w.FloatSlider(description="code 2", **slider),
                             seed=w.IntSlider(seed, 0, 99, description="noise seed"))

    def static() -> None:
        values = torch.linspace(-span, span, columns, device=device)
        fig, axes = plt.subplots(1, G.n_cont, figsize=(5 * G.n_cont, 5.6))
        for j, ax in enumerate([axes] if G.n_cont == 1 else axes):
            cat = torch.arange(G.n_cat, device=device).repeat_interleave(columns)
            cont = torch.zeros(len(cat), G.n_cont, device=device)
            cont[:, j] = values.repeat(G.n_cat)
            show_images(images_for(cat, cont), nrow=columns, ax=ax,
                        title=f"code {j + 1} from {-span:g} to {span:g} (rows: categories)")
        plt.show()

    _with_fallback(build, static)
