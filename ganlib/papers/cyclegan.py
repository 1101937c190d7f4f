"""CycleGAN (Zhu et al., 2017), lesson 06: translation between two domains without pairs.

CycleGAN learns two maps G: A -> B and F: B -> A from *unpaired* sets, with two discriminators (the
PatchGAN of :mod:`ganlib.papers.pix2pix`) and the least-squares loss: the discriminators minimise
``½ [(D(real) - 1)² + D(fake)²]`` (``AdversarialLoss("lsgan").discriminator``, whose ½ is the paper's
halving), the generators ``(D(G(a)) - 1)²`` without a ½ (:func:`generator_adversarial_loss`).
What ties an image to its translation is the cycle-consistency loss (:func:`cycle_loss`), weighted
by λ = 10 (:data:`CYCLE_WEIGHT`): ``‖F(G(a)) - a‖₁ + ‖G(F(b)) - b‖₁``; the identity loss
(:func:`identity_loss`, weight 0.5 λ, :data:`IDENTITY_WEIGHT`) asks G to leave images that are already
in B alone. The discriminators learn from a history of 50 past fakes (:class:`ImagePool`), and the
learning rate is constant and then decays linearly to zero (:func:`ganlib.schedules.linear_decay`).
The paper's generator is a ResNet (:class:`ResNetGenerator`); a U-Net works too.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from ..layers import check_norm, norm_layer, uses_bias
from ..losses import LSGAN_TARGETS, AdversarialLoss, l1_loss
from ..training import StepFn, frozen
from ..validate import check_image_shape, check_positive, check_same_shape
from .pix2pix import halvings

CYCLE_WEIGHT = 10.0  # CycleGAN: λ for the cycle-consistency loss
IDENTITY_WEIGHT = 0.5 * CYCLE_WEIGHT  # CycleGAN: 0.5 λ for the identity loss


# -- the CycleGAN ResNet generator (lesson 06) ---------------------------------------------------------
class ResidualBlock(nn.Module):
    """x + [reflection pad, Conv 3x3, norm, ReLU, reflection pad, Conv 3x3, norm](x): same shape out."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        check_norm(norm)
        bias = uses_bias(norm)
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), *norm_layer(norm, channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), *norm_layer(norm, channels),
        )

    def forward(self, x: Tensor) -> Tensor:
        return x + self.block(x)


class ResNetGenerator(nn.Module):
    """The CycleGAN generator (Johnson et al., 2016; lesson 06): images (N, C_in, S, S) -> (N, C_out, S, S) in [-1, 1].

    A 7x7 convolution to ``width`` channels; ``n_down`` stride-2 convolutions (channels double, size
    halves); ``n_blocks`` residual blocks (:class:`ResidualBlock`; the paper uses 6 for 128 x 128 and 9
    for 256 x 256 images); ``n_down`` stride-2 transposed convolutions back; a 7x7 convolution and
    Tanh. Reflection padding avoids dark borders. ``S`` must be a multiple of ``2**n_down``.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, img_size: int = 32, width: int = 64,
                 n_blocks: int = 6, n_down: int = 2, *, norm: str = "instance") -> None:
        super().__init__()
        check_positive(in_channels=in_channels, out_channels=out_channels, img_size=img_size, width=width,
                        n_blocks=n_blocks, n_down=n_down)
        check_norm(norm)
        if img_size % 2**n_down:
            raise ValueError(f"ResNetGenerator halves the image n_down={n_down} times, so img_size must be a "
                             f"multiple of {2**n_down}; got img_size={img_size} "
                             f"(it allows n_down <= {halvings(img_size)}).")
        self.in_channels, self.out_channels, self.img_size = in_channels, out_channels, img_size
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7, bias=bias),
                                   *norm_layer(norm, width), nn.ReLU()]
        c = width
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), *norm_layer(norm, 2 * c), nn.ReLU()]
            c *= 2
        layers += [ResidualBlock(c, norm) for _ in range(n_blocks)]
        for _ in range(n_down):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                       *norm_layer(norm, c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        check_image_shape(x, type(self).__name__, self.in_channels, self.img_size)
        return self.net(x)


# -- the pool of past fakes (lesson 06) -----------------------------------------------------------
class ImagePool:
    """A history of generated images for the discriminator (Shrivastava et al., 2017; CycleGAN, lesson 06).

    ``pool(fakes)`` returns a batch of the same shape, image by image:

    * while the pool holds fewer than ``size`` images, the new fake is stored and returned;
    * once it is full, with probability ``swap_probability`` (½) a stored fake, chosen uniformly, is
      returned and the new fake takes its place; otherwise the new fake is returned and not stored.

    So the discriminator sees, half of the time, fakes from older generators, and cannot just chase
    the latest one. ``size=0`` returns the fakes unchanged. Images come back detached (the pool feeds
    only the discriminator's step). Its own generator (``seed``) makes the draws reproducible, and
    :meth:`state_dict` saves them with the stored images.
    """

    def __init__(self, size: int = 50, *, swap_probability: float = 0.5, seed: int = 0) -> None:
        if not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be a whole number of images >= 0; got {size!r}.")
        if not 0.0 <= swap_probability <= 1.0:
            raise ValueError(f"swap_probability must be in [0, 1]; got {swap_probability!r}.")
        self.size, self.swap_probability = size, swap_probability
        self.images: list[Tensor] = []
        self._generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return len(self.images)

    def __call__(self, fakes: Tensor) -> Tensor:
        if not isinstance(fakes, Tensor) or fakes.ndim < 2:
            got = tuple(fakes.shape) if isinstance(fakes, Tensor) else type(fakes).__name__
            raise ValueError(f"ImagePool expects a batch of images (N, C, H, W); got {got}.")
        fakes = fakes.detach()
        if self.images and self.images[0].device != fakes.device:  # e.g. loaded from a checkpoint on the CPU
            self.images = [t.to(fakes.device) for t in self.images]
        if self.images and fakes.shape[1:] != self.images[0].shape:
            raise ValueError(f"ImagePool holds images of shape {tuple(self.images[0].shape)}; got a batch of "
                             f"{tuple(fakes.shape[1:])}.")
        if self.size == 0:
            return fakes
        out = []
        for fake in fakes:
            if len(self.images) < self.size:
                self.images.append(fake.clone())
                out.append(fake)
            elif float(torch.rand((), generator=self._generator)) < self.swap_probability:
                i = int(torch.randint(self.size, (), generator=self._generator))
                out.append(self.images[i])
                self.images[i] = fake.clone()
            else:
                out.append(fake)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        return {"images": [t.cpu() for t in self.images], "generator": self._generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the stored images (they move to the fakes' device on the next call) and the draws."""
        self.images = list(state["images"])
        self._generator.set_state(state["generator"])

    def __repr__(self) -> str:
        return f"ImagePool(size={self.size}, holds {len(self.images)})"


def generator_adversarial_loss(scores: Tensor) -> Tensor:
    """CycleGAN's adversarial loss for a generator (lesson 06): ``mean (D(G(a)) - 1)²`` over a score map.

    This is the mean squared error of the paper and its official code (``nn.MSELoss`` against 1),
    *without* the ½ of Mao et al.'s LSGAN generator loss (``AdversarialLoss("lsgan").generator``
    gives half of this). :data:`CYCLE_WEIGHT` and :data:`IDENTITY_WEIGHT` are sized for this one;
    with the ½ the cycle and identity terms would weigh twice as much against it.
    """
    if not isinstance(scores, Tensor) or not scores.is_floating_point():
        got = f"{scores.dtype} tensor" if isinstance(scores, Tensor) else type(scores).__name__
        raise ValueError(f"generator_adversarial_loss expects the discriminator's raw scores as a float tensor; "
                         f"got {got}.")
    return (scores - LSGAN_TARGETS["c"]).square().mean()


def cycle_loss(reconstructed: Tensor, real: Tensor) -> Tensor:
    """Cycle consistency ``mean |F(G(a)) - a|`` for one direction (lesson 06); weight by :data:`CYCLE_WEIGHT`.

    Call it with ``(F(G(a)), a)`` and with ``(G(F(b)), b)`` and add the two.
    """
    check_same_shape(reconstructed, real, "cycle_loss")
    return l1_loss(reconstructed, real)


def identity_loss(same: Tensor, real: Tensor) -> Tensor:
    """Identity ``mean |G(b) - b|`` (lesson 06): G should leave an image already in its target domain alone.

    Weight it by :data:`IDENTITY_WEIGHT` (0.5 λ). It keeps colours from drifting in photo <-> painting
    tasks; it needs G's input and output to have the same number of channels.
    """
    check_same_shape(same, real, "identity_loss")
    return l1_loss(same, real)


def cyclegan_steps(
    state: dict[str, Any], cycle_weight: float = CYCLE_WEIGHT, identity_weight: float = IDENTITY_WEIGHT,
) -> tuple[StepFn, StepFn]:
    """Lesson 06's discriminator and generator steps for :class:`ganlib.Trainer`, on ``(a, b)`` batches.

    ``state`` is the Trainer's state: ``G`` an ``nn.ModuleDict`` with ``"A2B"`` (the paper's G) and ``"B2A"``
    (its F), ``D`` one with ``"A"`` and ``"B"``, the optimisers ``opt_g`` and ``opt_d`` (one for each pair) and
    the pools ``pool_a`` and ``pool_b`` (:class:`ImagePool`). The discriminators take the least-squares loss
    on real images against pooled fakes; the generators minimise the adversarial loss plus ``cycle_weight``
    times the cycle loss plus ``identity_weight`` times the identity loss. The lesson writes these steps
    out; ``scripts/pretrain.py`` and ``benchmarks/cyclegan_ablation.py`` use this copy.
    """
    G, D, opt_g, opt_d = state["G"], state["D"], state["opt_g"], state["opt_d"]
    lsgan = AdversarialLoss("lsgan")

    def d_step(batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real_a, real_b = batch
        with torch.no_grad():
            fake_b, fake_a = G["A2B"](real_a), G["B2A"](real_b)
        loss_a = lsgan.discriminator(D["A"](real_a), D["A"](state["pool_a"](fake_a)))
        loss_b = lsgan.discriminator(D["B"](real_b), D["B"](state["pool_b"](fake_b)))
        opt_d.zero_grad(set_to_none=True)
        (loss_a.total + loss_b.total).backward()
        opt_d.step()
        return {"d_A": loss_a.total, "d_B": loss_b.total}

    def g_step(batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        real_a, real_b = batch
        fake_b, fake_a = G["A2B"](real_a), G["B2A"](real_b)
        with frozen(D):
            adversarial = generator_adversarial_loss(D["B"](fake_b)) + generator_adversarial_loss(D["A"](fake_a))
        cycle = cycle_loss(G["B2A"](fake_b), real_a) + cycle_loss(G["A2B"](fake_a), real_b)
        identity = identity_loss(G["A2B"](real_b), real_b) + identity_loss(G["B2A"](real_a), real_a)
        opt_g.zero_grad(set_to_none=True)
        (adversarial + cycle_weight * cycle + identity_weight * identity).backward()
        opt_g.step()
        return {"g_adv": adversarial, "cycle": cycle, "identity": identity}

    return d_step, g_step
