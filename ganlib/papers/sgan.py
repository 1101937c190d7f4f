"""The semi-supervised GAN (Salimans et al., 2016; Odena, 2016), lesson 08.

With a few labelled images and many unlabelled ones, the discriminator becomes a classifier over
K + 1 classes: the K real classes (the ten digits) and "fake". Salimans et al. give it only K
outputs, logits l_1(x) ... l_K(x), and fix the logit of the fake class at 0 (softmax is unchanged
when one subtracts the same number from every logit, so nothing is lost; Odena's K + 1 outputs are
the same model with one redundant logit). Then

    p(y = k | x) = exp(l_k) / (Z(x) + 1),   p(fake | x) = 1 / (Z(x) + 1),   Z(x) = sum_k exp(l_k(x)),

and the probability that x is real is D(x) = Z(x) / (Z(x) + 1) = sigmoid(log Z(x)), with
log Z = logsumexp(l). Written in log space, with lse = logsumexp(l) and softplus(a) = log(1 + e^a),

    log D(x)       = lse - softplus(lse)   (= -softplus(-lse))
    log (1 - D(x)) = -softplus(lse),

which stay finite for logits of any size (exp(100) already overflows float32).

The discriminator's loss has two parts (:func:`discriminator_loss`):

    supervised   = -E_{(x, y) labelled} log p(y | x, y < K + 1)      (cross-entropy over the K classes)
    unsupervised = -E_{x unlabelled} log D(x) - E_z log(1 - D(G(z)))  (the GAN loss, with D as above)

The unsupervised part teaches the classifier where real digits lie without any label; the few
labels only have to name the clusters. The official code adds the unsupervised part with weight
1/2 (:data:`UNSUPERVISED_WEIGHT`).

The generator is trained by *feature matching* (Salimans et al., sec. 3.1,
:func:`feature_matching_loss`): with f(x) the activations of the discriminator's last hidden layer,

    L_G = || E_x f(x) - E_z f(G(z)) ||_2^2,

the squared distance between the batch means. The generator stops chasing whatever fools the
current D and matches statistics of real data instead. The paper reports that this gives a much
better classifier but worse-looking samples than minibatch discrimination: the generator only
needs to fill in the data's neighbourhood ("bad" samples that teach D where the boundary is), not
to draw convincing digits.

Networks and constants follow the paper's MNIST model and the official code (github.com/openai/
improved-gan, ``mnist_svhn_cifar10/train_mnist_feature_matching.py`` and ``nn.py``): D is a 5-layer
ReLU MLP (1000-500-250-250-250) with weight normalisation and Gaussian noise on the input (0.3 on
pixels in [0, 1], so :data:`INPUT_NOISE` = 0.6 on ours in [-1, 1]) and on every hidden layer (0.5); G maps
100 uniform numbers through two 500-unit softplus layers with batch norm to 784 pixels (sigmoid
there, tanh here); Adam with lr 0.003, beta1 0.5, batches of 100, 10 labels per class.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.parametrizations import weight_norm

from ..data import Batches
from ..training import frozen
from ..validate import check_image_shape, check_labels, check_noise, check_positive

Z_DIM = 100                            # G's input: 100 numbers uniform in [0, 1)
N_CLASSES = 10                         # K real classes; "fake" is the implicit class K + 1
D_HIDDEN = (1000, 500, 250, 250, 250)  # the paper's MNIST discriminator
G_HIDDEN = (500, 500)                  # the paper's MNIST generator
INPUT_NOISE = 0.6                      # noise std on D's input: the official 0.3 on [0, 1] pixels, doubled for [-1, 1]
HIDDEN_NOISE = 0.5                     # std of the noise on each hidden layer's output (official)
UNSUPERVISED_WEIGHT = 0.5              # the official loss_unl = 0.5 * unsupervised, added with weight 1
LR = 0.003                             # official Adam learning rate, both players
BETAS = (0.5, 0.999)                   # official Adam momentum (mom1 = 0.5)
BATCH_SIZE = 100                       # official batch size (labelled and unlabelled)
LABELS_PER_CLASS = 10                  # official --count: 100 labels for MNIST
INIT_STD = 0.1                         # official initial weight directions ~ N(0, 0.1) before normalising


def _check_logits(logits: Any, owner: str, k: int | None = None) -> None:
    if not isinstance(logits, Tensor) or logits.ndim != 2 or not logits.is_floating_point() or (
            k is not None and logits.shape[1] != k) or logits.shape[1] < 1:
        got = f"{logits.dtype} {tuple(logits.shape)}" if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"{owner} expects logits as floats of shape (N, {'K' if k is None else k}), one row of "
                         f"class logits per image; got {got}.")


def real_probability(logits: Tensor) -> Tensor:
    """D(x) = Z / (Z + 1) with Z = sum_k exp(l_k), from logits (N, K): shape (N,) (lesson 08).

    Computed as sigmoid(logsumexp(l)), so logits of +-1000 give 1 and 0, never NaN.
    """
    _check_logits(logits, "real_probability")
    return torch.sigmoid(torch.logsumexp(logits, dim=1))


def log_real_probability(logits: Tensor) -> tuple[Tensor, Tensor]:
    """``(log D(x), log(1 - D(x)))`` from logits (N, K), each (N,), in log space (lesson 08).

    With lse = logsumexp(l): log D = lse - softplus(lse), log(1 - D) = -softplus(lse).
    """
    _check_logits(logits, "log_real_probability")
    lse = torch.logsumexp(logits, dim=1)
    return lse - F.softplus(lse), -F.softplus(lse)


def unsupervised_d_loss(logits_real: Tensor, logits_fake: Tensor) -> Tensor:
    """-mean log D(x_real) - mean log(1 - D(x_fake)), each mean over its own batch (lesson 08)."""
    _check_logits(logits_real, "unsupervised_d_loss (real)")
    _check_logits(logits_fake, "unsupervised_d_loss (fake)", logits_real.shape[1])
    log_d_real, _ = log_real_probability(logits_real)
    _, log_not_d_fake = log_real_probability(logits_fake)
    return -log_d_real.mean() - log_not_d_fake.mean()


class SSGANLoss(NamedTuple):
    """The discriminator's loss in the semi-supervised GAN, with its parts (lesson 08)."""

    total: Tensor         # supervised + unsupervised_weight * unsupervised
    supervised: Tensor    # cross-entropy over the K classes on the labelled batch (nats)
    unsupervised: Tensor  # -mean log D(x_unlabelled) - mean log(1 - D(G(z)))


def discriminator_loss(logits_labelled: Tensor, labels: Tensor, logits_unlabelled: Tensor, logits_fake: Tensor,
                       unsupervised_weight: float = UNSUPERVISED_WEIGHT) -> SSGANLoss:
    """The classifier's loss on a labelled batch, an unlabelled batch and a batch of fakes (lesson 08).

    ``supervised`` is ``F.cross_entropy`` over the K logits (the fake class cannot be the label of a real
    image, so it drops out); ``unsupervised`` is :func:`unsupervised_d_loss`. The default weight 1/2 is
    the official code's.
    """
    _check_logits(logits_labelled, "discriminator_loss (labelled)")
    k = logits_labelled.shape[1]
    check_labels(labels, logits_labelled.shape[0], k, "discriminator_loss")
    _check_logits(logits_unlabelled, "discriminator_loss (unlabelled)", k)
    _check_logits(logits_fake, "discriminator_loss (fake)", k)
    supervised = F.cross_entropy(logits_labelled, labels)
    unsupervised = unsupervised_d_loss(logits_unlabelled, logits_fake)
    return SSGANLoss(supervised + unsupervised_weight * unsupervised, supervised, unsupervised)


def feature_matching_loss(features_real: Tensor, features_fake: Tensor) -> Tensor:
    """|| mean_batch f(real) - mean_batch f(fake) ||^2, the generator's loss (Salimans et al. sec. 3.1, lesson 08).

    The squared L2 norm: summed over the features (the official code averages over them instead, 1/F
    of this; with Adam a constant factor barely changes the steps). The real features are a target
    and are detached, so the loss moves only the fakes, whatever the caller froze.
    """
    for name, f in (("features_real", features_real), ("features_fake", features_fake)):
        if not isinstance(f, Tensor) or f.ndim != 2 or not f.is_floating_point():
            got = f"{f.dtype} {tuple(f.shape)}" if isinstance(f, Tensor) else type(f).__name__
            raise ValueError(f"feature_matching_loss expects {name} as floats (N, F), one row of features per "
                             f"image; got {got}.")
    if features_real.shape[1] != features_fake.shape[1]:
        raise ValueError(f"feature_matching_loss compares the same features of real and fake images; got "
                         f"{features_real.shape[1]} and {features_fake.shape[1]} features.")
    return (features_real.detach().mean(dim=0) - features_fake.mean(dim=0)).pow(2).sum()


# -- networks (lesson 08) ---------------------------------------------------------------------------
class GaussianNoise(nn.Module):
    """Adds N(0, std^2) noise in training mode only; the identity in eval mode (lesson 08)."""

    def __init__(self, std: float) -> None:
        super().__init__()
        if isinstance(std, bool) or not isinstance(std, (int, float)) or not math.isfinite(std) or std < 0:
            raise ValueError(f"noise std must be a number >= 0; got {std!r}.")
        self.std = float(std)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.std * torch.randn_like(x) if self.training and self.std > 0 else x

    def extra_repr(self) -> str:
        return f"std={self.std}"


def _normalised_linear(n_in: int, n_out: int, train_scale: bool = True) -> nn.Module:
    """``Linear`` with weight normalisation w = g v / ||v||, g = 1 and v ~ N(0, INIT_STD), as the official code.

    With ``train_scale=False`` the scales g are left out of training (``requires_grad=False``): only
    :meth:`SSGANDiscriminator.data_init` sets them, as the official ``DenseLayer`` does by default.
    """
    layer = nn.Linear(n_in, n_out)
    nn.init.normal_(layer.weight, 0.0, INIT_STD)
    nn.init.zeros_(layer.bias)
    layer = weight_norm(layer)
    with torch.no_grad():
        layer.parametrizations.weight.original0.fill_(1.0)
    layer.parametrizations.weight.original0.requires_grad_(train_scale)
    return layer


def _check_sizes(hidden: tuple[int, ...], owner: str) -> None:
    if not isinstance(hidden, (tuple, list)) or len(hidden) == 0:
        raise ValueError(f"{owner} needs at least one hidden layer size, e.g. (500, 500); got {hidden!r}.")
    check_positive(**{f"hidden[{i}]": h for i, h in enumerate(hidden)})


class SSGANDiscriminator(nn.Module):
    """The classifier-discriminator of lesson 08: images (N, C, H, W) -> K logits (N, K); no fake logit.

    The paper's MNIST model (official code's defaults): flattened pixels + Gaussian noise (std
    ``input_noise``) -> for each size in ``hidden``: weight-normalised linear, ReLU, Gaussian noise
    (std ``hidden_noise``) -> weight-normalised linear to ``n_classes`` logits. The noise is added in
    training mode only. :meth:`features` returns the last hidden layer's ReLU output (before its
    noise), what feature matching compares. Call :meth:`data_init` on a batch before training, as the
    official code does; as there, the hidden layers' scales g keep the values it sets (they are not
    trained: ``requires_grad=False``), only the head's are trained.
    """

    def __init__(self, n_classes: int = N_CLASSES, hidden: tuple[int, ...] = D_HIDDEN, input_noise: float = INPUT_NOISE,
                 hidden_noise: float = HIDDEN_NOISE, img_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        check_positive(n_classes=n_classes)
        _check_sizes(hidden, type(self).__name__)
        self.n_classes, self.img_shape = n_classes, tuple(img_shape)
        sizes = (math.prod(self.img_shape), *hidden)
        self.input_noise = GaussianNoise(input_noise)
        self.hidden = nn.ModuleList([_normalised_linear(a, b, train_scale=False) for a, b in zip(sizes, sizes[1:])])
        self.hidden_noise = GaussianNoise(hidden_noise)
        self.head = _normalised_linear(sizes[-1], n_classes)

    def features(self, x: Tensor) -> Tensor:
        """The last hidden layer's activations (N, hidden[-1]), before its noise."""
        check_image_shape(x, type(self).__name__, self.img_shape[0], self.img_shape[1:])
        h = self.input_noise(x.flatten(1))
        for i, layer in enumerate(self.hidden):
            h = torch.relu(layer(self.hidden_noise(h) if i else h))
        return h

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.hidden_noise(self.features(x)))

    @torch.no_grad()
    def data_init(self, x: Tensor) -> "SSGANDiscriminator":
        """Data-dependent initialisation (Salimans and Kingma, 2016), as the official code does (lesson 08).

        Layer by layer, sets each unit's scale g and bias so that its pre-activation over the batch ``x``
        has mean 0 and standard deviation 1 (the noise is on in training mode, as in the official code,
        and off in eval mode). Without it, each ReLU layer shrinks the signal and the 0.5 noise drowns it.
        """
        check_image_shape(x, type(self).__name__, self.img_shape[0], self.img_shape[1:])
        if len(x) < 2:
            raise ValueError(f"data_init needs a batch of at least 2 images to measure spreads; got {len(x)}.")
        h = self.input_noise(x.flatten(1))
        for i, layer in enumerate([*self.hidden, self.head]):
            g = layer.parametrizations.weight.original0
            g.fill_(1.0)
            layer.bias.zero_()
            pre = layer(self.hidden_noise(h) if i else h)
            mean, std = pre.mean(dim=0), pre.std(dim=0, unbiased=False).clamp(min=1e-6)
            g.copy_((1.0 / std)[:, None])
            layer.bias.copy_(-mean / std)
            h = torch.relu((pre - mean) / std)
        return self


class SSGANGenerator(nn.Module):
    """The paper's MNIST generator (lesson 08): z (N, z_dim), uniform in [0, 1) -> images (N, C, H, W) in [-1, 1].

    For each size in ``hidden``: linear, batch norm, softplus; then a weight-normalised linear to the
    pixels and tanh (the official code ends with a sigmoid, for pixels in [0, 1]).
    """

    def __init__(self, z_dim: int = Z_DIM, hidden: tuple[int, ...] = G_HIDDEN,
                 img_shape: tuple[int, int, int] = (1, 28, 28)) -> None:
        super().__init__()
        check_positive(z_dim=z_dim)
        _check_sizes(hidden, type(self).__name__)
        self.z_dim, self.img_shape = z_dim, tuple(img_shape)
        sizes = (z_dim, *hidden)
        layers: list[nn.Module] = []
        for a, b in zip(sizes, sizes[1:]):
            layers += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b), nn.Softplus()]
        out = weight_norm(nn.Linear(sizes[-1], math.prod(self.img_shape)))
        with torch.no_grad():
            out.parametrizations.weight.original0.fill_(1.0)
        self.net = nn.Sequential(*layers, out, nn.Tanh())

    def forward(self, z: Tensor) -> Tensor:
        z = check_noise(z, self.z_dim, type(self).__name__)
        return self.net(z).view(-1, *self.img_shape)


def uniform_noise(n: int, z_dim: int = Z_DIM, device: torch.device | str | None = None,
                  generator: torch.Generator | None = None) -> Tensor:
    """``n`` inputs for :class:`SSGANGenerator`, uniform in [0, 1) as in the official code: (n, z_dim) (lesson 08)."""
    check_positive(n=n, z_dim=z_dim)
    if generator is not None:
        return torch.rand(n, z_dim, generator=generator).to(device)
    return torch.rand(n, z_dim, device=device)


# -- data: a few labels, many images (lesson 08) -----------------------------------------------------
def balanced_subset(labels: Tensor, per_class: int = LABELS_PER_CLASS, seed: int = 0,
                    n_classes: int | None = None) -> Tensor:
    """Indices of ``per_class`` items of every class, drawn by a seeded permutation (lesson 08).

    The same ``seed`` gives the same subset; the global random state is not touched. The indices
    come grouped by class (all of class 0 first), on the device of ``labels``. ``n_classes``
    defaults to the largest label + 1; every class must have at least ``per_class`` items.
    """
    check_positive(per_class=per_class)
    if not isinstance(labels, Tensor) or labels.ndim != 1 or labels.dtype != torch.long or len(labels) == 0:
        got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"balanced_subset expects labels as a non-empty int64 tensor (N,); got {got}.")
    n_classes = int(labels.max()) + 1 if n_classes is None else n_classes
    check_labels(labels, None, n_classes, "balanced_subset")
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(seed))
    shuffled = labels.cpu()[order]
    picked = []
    for c in range(n_classes):
        found = order[shuffled == c]
        if len(found) < per_class:
            raise ValueError(f"balanced_subset needs {per_class} items of each class; class {c} has only {len(found)}.")
        picked.append(found[:per_class])
    return torch.cat(picked).to(labels.device)


class SemiSupervisedBatches:
    """Endless pairs ``((x_lab, y_lab), x_unl)`` from a labelled and an unlabelled set of different sizes (lesson 08).

    Each source is a :class:`ganlib.data.Batches` that cycles its own seeded permutations (``seed`` for
    the labelled set, ``seed + 1`` for the unlabelled one): with 100 labelled images and batches of
    100, every step sees all labels in a new order, while the unlabelled set goes through an epoch in
    600 steps. ``labelled_batch_size`` defaults to ``batch_size`` (or the labelled set's size, if
    smaller). :meth:`state_dict` holds both positions, so a resumed run sees the same batches.
    """

    def __init__(self, labelled_images: Tensor, labels: Tensor, unlabelled_images: Tensor, batch_size: int,
                 seed: int = 0, labelled_batch_size: int | None = None) -> None:
        for name, images in (("labelled_images", labelled_images), ("unlabelled_images", unlabelled_images)):
            if not isinstance(images, Tensor) or images.ndim < 2 or len(images) == 0:
                got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
                raise ValueError(f"SemiSupervisedBatches expects {name} as a non-empty tensor (N, C, H, W); got {got}.")
        if not isinstance(labels, Tensor) or labels.ndim != 1 or labels.dtype != torch.long \
                or len(labels) != len(labelled_images):
            got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, Tensor) else type(labels).__name__
            raise ValueError(f"SemiSupervisedBatches expects labels as int64 ({len(labelled_images)},), one per "
                             f"labelled image; got {got}.")
        if labelled_images.shape[1:] != unlabelled_images.shape[1:]:
            raise ValueError(f"labelled and unlabelled images must have the same shape per image; got "
                             f"{tuple(labelled_images.shape[1:])} and {tuple(unlabelled_images.shape[1:])}.")
        check_positive(batch_size=batch_size)
        if labelled_batch_size is None:
            labelled_batch_size = min(batch_size, len(labelled_images))
        check_positive(labelled_batch_size=labelled_batch_size)
        self.labelled = Batches(labelled_images, labels, batch_size=labelled_batch_size, seed=seed)
        self.unlabelled = Batches(unlabelled_images, batch_size=batch_size, seed=seed + 1)

    def __len__(self) -> int:
        """Steps per epoch of the unlabelled set."""
        return len(self.unlabelled)

    def __iter__(self) -> "SemiSupervisedBatches":
        return self

    def __next__(self) -> tuple[tuple[Tensor, Tensor], Tensor]:
        return next(self.labelled), next(self.unlabelled)

    def state_dict(self) -> dict[str, Any]:
        return {"labelled": self.labelled.state_dict(), "unlabelled": self.unlabelled.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.labelled.load_state_dict(state["labelled"])
        self.unlabelled.load_state_dict(state["unlabelled"])


# -- training and scoring (lesson 08) -----------------------------------------------------------------
def ssgan_steps(G: nn.Module, D: SSGANDiscriminator, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer,
                z_dim: int = Z_DIM, unsupervised_weight: float = UNSUPERVISED_WEIGHT,
                unsupervised: Callable[[Tensor, Tensor], Tensor] = unsupervised_d_loss) -> tuple[Callable, Callable]:
    """Lesson 08's two steps for :class:`ganlib.Trainer` on :class:`SemiSupervisedBatches` (written out there).

    D learns the labels and real-versus-fake (:func:`discriminator_loss`, with ``unsupervised`` as its
    unsupervised part); G matches the mean features of the unlabelled batch (:func:`feature_matching_loss`).
    """

    def d_step(batch: Any) -> dict[str, Tensor]:
        (x_lab, y_lab), x_unl = batch
        with torch.no_grad():
            fake = G(uniform_noise(len(x_unl), z_dim, x_unl.device))
        logits_lab = D(x_lab)
        supervised = F.cross_entropy(logits_lab, y_lab)
        unsup = unsupervised(D(x_unl), D(fake))
        total = supervised + unsupervised_weight * unsup
        opt_d.zero_grad(set_to_none=True)
        total.backward()
        opt_d.step()
        accuracy = (logits_lab.argmax(1) == y_lab).float().mean()
        return {"d_loss": total, "supervised": supervised, "unsupervised": unsup, "train_acc": accuracy}

    def g_step(batch: Any) -> dict[str, Tensor]:
        _, x_unl = batch
        fake = G(uniform_noise(len(x_unl), z_dim, x_unl.device))
        with frozen(D):  # gradients flow through D's features to G; D's weights need none
            g_loss = feature_matching_loss(D.features(x_unl), D.features(fake))
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        return {"g_loss": g_loss}

    return d_step, g_step


def classifier_accuracy(model: nn.Module, images: Tensor, labels: Tensor, batch_size: int = 1000) -> float:
    """The share of ``images`` whose largest logit is their label, in eval mode without gradients (lesson 08).

    ``model(x)`` must return logits (N, K). The model's training flag is restored afterwards.
    """
    check_positive(batch_size=batch_size)
    if not isinstance(images, Tensor) or images.ndim < 2 or len(images) == 0:
        got = tuple(images.shape) if isinstance(images, Tensor) else type(images).__name__
        raise ValueError(f"classifier_accuracy expects a non-empty batch of images (N, C, H, W); got {got}.")
    if not isinstance(labels, Tensor) or labels.ndim != 1 or labels.dtype != torch.long or len(labels) != len(images):
        got = f"{labels.dtype} {tuple(labels.shape)}" if isinstance(labels, Tensor) else type(labels).__name__
        raise ValueError(f"classifier_accuracy expects labels as int64 ({len(images)},), one per image; got {got}.")
    was_training = model.training
    model.eval()
    correct = 0
    try:
        with torch.no_grad():
            for x, y in zip(images.split(batch_size), labels.split(batch_size)):
                logits = model(x)
                _check_logits(logits, "classifier_accuracy (the model's output)")
                correct += int((logits.argmax(dim=1) == y.to(logits.device)).sum())
    finally:
        model.train(was_training)
    return correct / len(images)
