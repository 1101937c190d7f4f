"""Pix2Pix (Isola et al., 2017), lesson 05: paired image-to-image translation as a conditional GAN.

Pix2Pix learns a map G: x -> y from aligned pairs (x, y). Its generator is a U-Net
(:class:`UNetGenerator`): an encoder of stride-2 convolutions, a decoder of stride-2 transposed
convolutions, and skip connections that hand each encoder map to the decoder step of the same size,
so fine detail need not squeeze through the bottleneck. Its discriminator is a PatchGAN
(:class:`PatchDiscriminator`): it reads the pair (x, y) and returns a *map* of scores, one per
overlapping patch, each patch as large as the receptive field (:func:`ganlib.shapes.receptive_field`,
70 x 70 pixels for the classic three-layer version). The generator minimises

    L_GAN(G, D) + λ · ‖y - G(x)‖₁,   λ = 100 (:data:`L1_WEIGHT`),

where the adversarial part is :class:`ganlib.losses.AdversarialLoss` called on the score map and the
second term is :func:`ganlib.losses.l1_loss`. Weights: :func:`ganlib.layers.dcgan_init` (N(0, 0.02)).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ..layers import check_norm, norm_layer, uses_bias
from ..losses import AdversarialLoss
from ..shapes import conv_output_size
from ..training import StepFn, frozen
from ..validate import check_image_shape, check_positive

L1_WEIGHT = 100.0  # Pix2Pix: λ for the L1 term
MAX_WIDTH_FACTOR = 8  # channels grow as width, 2 width, 4 width, 8 width, then stay (512 for width 64)


def halvings(size: int) -> int:
    """How many times ``size`` can be halved exactly: the deepest U-Net an image of this size allows."""
    check_positive(size=size)
    count = 0
    while size % 2 == 0:
        size //= 2
        count += 1
    return count


def _widths(width: int, n: int) -> list[int]:
    return [width * min(2**i, MAX_WIDTH_FACTOR) for i in range(n)]


# -- the U-Net generator (lesson 05) ---------------------------------------------------------------
class UNetDown(nn.Sequential):
    """One encoder step: Conv(4, stride 2, pad 1) halves the size, then a norm, then LeakyReLU(0.2)."""

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch") -> None:
        check_norm(norm)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=uses_bias(norm)),  # a norm cancels a bias
            *norm_layer(norm, out_channels),
            nn.LeakyReLU(0.2),
        )


class UNetUp(nn.Module):
    """One decoder step: ConvTranspose(4, stride 2, pad 1) doubles the size, a norm, ReLU, maybe dropout.

    ``forward(x, skip)`` returns the upsampled map with the encoder's map of the same size
    concatenated on channels: (N, out_channels + skip channels, 2H, 2W).
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch", dropout: float = 0.0) -> None:
        super().__init__()
        check_norm(norm)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=uses_bias(norm)),
            *norm_layer(norm, out_channels),
            nn.ReLU(),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        self.block = nn.Sequential(*layers)

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        return torch.cat([self.block(x), skip], dim=1)


class UNetGenerator(nn.Module):
    """The Pix2Pix U-Net (lesson 05): images (N, in_channels, S, S) -> images (N, out_channels, S, S) in [-1, 1].

    ``depth`` down blocks (:class:`UNetDown`) halve the image ``depth`` times, so ``S`` must be a
    multiple of ``2**depth``; the innermost map is ``S / 2**depth`` pixels wide (1 x 1 for the paper's
    256 x 256 images with depth 8, or 32 x 32 images with depth 5). Channels go ``width``,
    ``2 width``, ``4 width``, then ``8 width`` for every deeper block. The first and the innermost
    down blocks have no norm. ``depth - 1`` up blocks (:class:`UNetUp`) climb back, each
    concatenating the encoder map of its size (the skip connection); the first ``dropout_blocks`` of
    them (counted from the bottleneck) apply dropout, Pix2Pix's only source of noise. A last
    transposed convolution and Tanh give the image.

    ``norm="batch"`` as in Pix2Pix, ``"instance"`` as in CycleGAN, or ``"none"``.
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, img_size: int = 32, depth: int = 5,
                 width: int = 64, *, norm: str = "batch", dropout: float = 0.5, dropout_blocks: int = 3) -> None:
        super().__init__()
        check_positive(in_channels=in_channels, out_channels=out_channels, img_size=img_size, depth=depth,
                        width=width)
        check_norm(norm)
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be a probability in [0, 1); got {dropout!r}.")
        if not isinstance(dropout_blocks, int) or dropout_blocks < 0:
            raise ValueError(f"dropout_blocks must be a whole number >= 0; got {dropout_blocks!r}.")
        if img_size % 2**depth:
            allowed = halvings(img_size)
            fix = f"it allows depth <= {allowed}; " if allowed else "an odd size cannot be halved at all; "
            fix += "use a smaller depth or " if allowed else ""
            raise ValueError(
                f"UNetGenerator halves the image depth={depth} times, so img_size must be a multiple of "
                f"2**{depth} = {2**depth}; got img_size={img_size} ({fix}pad/resize the images to "
                f"{-(-img_size // 2**depth) * 2**depth})."
            )
        self.in_channels, self.out_channels, self.img_size, self.depth = in_channels, out_channels, img_size, depth
        widths = _widths(width, depth)  # channels after each down block
        self.downs = nn.ModuleList(
            UNetDown(in_channels if i == 0 else widths[i - 1], widths[i],
                     norm="none" if i in (0, depth - 1) else norm)
            for i in range(depth)
        )
        self.ups = nn.ModuleList()
        for j in range(depth - 1):          # j = 0 is the up block next to the bottleneck
            level = depth - 2 - j           # the down block whose output it is concatenated with
            c_in = widths[-1] if j == 0 else 2 * widths[level + 1]
            self.ups.append(UNetUp(c_in, widths[level], norm, dropout if j < dropout_blocks else 0.0))
        head_in = 2 * widths[0] if depth > 1 else widths[0]
        self.head = nn.Sequential(nn.ConvTranspose2d(head_in, out_channels, 4, 2, 1), nn.Tanh())

    def forward(self, x: Tensor) -> Tensor:
        check_image_shape(x, type(self).__name__, self.in_channels, self.img_size)
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        x = skips.pop()                     # the bottleneck: S / 2**depth pixels wide
        for up in self.ups:
            x = up(x, skips.pop())          # up, then concatenate the encoder map of the same size
        return self.head(x)


# -- the PatchGAN discriminator (lessons 05 and 06) ------------------------------------------------
class PatchDiscriminator(nn.Module):
    """PatchGAN (lessons 05 and 06): images (N, in_channels, S, S) -> a score map (N, 1, h, w), no sigmoid.

    ``n_layers`` stride-2 convolutions (4x4, channels ``width``, ``2 width``, ... up to ``8 width``),
    then one stride-1 convolution that doubles the channels once more and a last stride-1
    convolution to one channel. LeakyReLU(0.2) after each but the last; a norm after each but the
    first and the last. Each score judges one patch of the input: 70 x 70 pixels for the classic
    ``n_layers=3`` (:func:`ganlib.shapes.receptive_field`). For 256 x 256 images the map is 30 x 30; for 32 x 32
    images 2 x 2.

    ``D(x)`` judges single images (CycleGAN). ``D(x, y)`` judges a pair, concatenated on channels in
    that order (Pix2Pix: the input x and a real or generated output y); ``in_channels`` then counts
    both, e.g. 1 + 1 for grey-to-grey or 3 + 3 for photos.
    """

    def __init__(self, in_channels: int = 2, width: int = 64, n_layers: int = 3, *, norm: str = "batch") -> None:
        super().__init__()
        check_positive(in_channels=in_channels, width=width, n_layers=n_layers)
        check_norm(norm)
        self.in_channels, self.n_layers = in_channels, n_layers
        bias = uses_bias(norm)
        widths = _widths(width, n_layers + 1)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for c_in, c_out in zip(widths[:-2], widths[1:-1]):   # the other stride-2 layers
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias), *norm_layer(norm, c_out), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(widths[-2], widths[-1], 4, 1, 1, bias=bias), *norm_layer(norm, widths[-1]),
                   nn.LeakyReLU(0.2)]
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 1))
        self.net = nn.Sequential(*layers)

    @property
    def min_size(self) -> int:
        """The smallest image size that leaves at least one score: 3 * 2**n_layers."""
        return 3 * 2**self.n_layers

    def output_size(self, size: int) -> int:
        """Side of the score map for ``size`` x ``size`` images (see :func:`ganlib.shapes.conv_output_size`)."""
        for layer in self.net:
            if isinstance(layer, nn.Conv2d):
                size = conv_output_size(size, layer.kernel_size[0], layer.stride[0], layer.padding[0])
        return size

    def forward(self, x: Tensor, y: Tensor | None = None) -> Tensor:
        owner = type(self).__name__
        if y is not None:
            if not (isinstance(x, Tensor) and isinstance(y, Tensor) and x.ndim == y.ndim == 4
                    and x.shape[0] == y.shape[0] and x.shape[2:] == y.shape[2:]):
                got = [tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__ for t in (x, y)]
                raise ValueError(f"{owner} expects a pair of image batches (N, C, S, S) with the same N and S; "
                                 f"got {got[0]} and {got[1]}.")
            if x.shape[1] + y.shape[1] != self.in_channels:
                raise ValueError(f"{owner} was built for in_channels={self.in_channels} (both images of a pair "
                                 f"together); got {x.shape[1]} + {y.shape[1]} = {x.shape[1] + y.shape[1]} channels.")
            x = torch.cat([x, y], dim=1)
        check_image_shape(x, owner, self.in_channels)
        if min(x.shape[2:]) < self.min_size:
            raise ValueError(f"{owner} with n_layers={self.n_layers} needs images of at least {self.min_size} x "
                             f"{self.min_size} pixels; got {tuple(x.shape[2:])}. Use fewer layers or larger images.")
        return self.net(x)


# -- the training steps (lesson 05) ------------------------------------------------------------------
def pix2pix_steps(
    G: nn.Module, D: nn.Module, opt_g: torch.optim.Optimizer, opt_d: torch.optim.Optimizer, *,
    adv_weight: float = 1.0, l1_weight: float = L1_WEIGHT, conditional: bool = True,
) -> tuple[StepFn, StepFn]:
    """Lesson 05's discriminator and generator steps for :class:`ganlib.Trainer`, on ``(inputs, targets)`` batches.

    D scores the real pair ``(x, y)`` against ``(x, G(x))`` with the non-saturating loss, its loss halved as in
    the paper; G minimises ``adv_weight · L_cGAN + l1_weight · L1``. ``conditional=False`` is the paper's
    "L1 + GAN" arm: D sees the output alone (build it with ``c_out`` input channels). The lesson writes these
    steps out; ``scripts/pretrain.py`` and ``benchmarks/pix2pix_ablation.py`` use this copy.
    """
    loss = AdversarialLoss("nonsaturating")

    def judge(x: Tensor, y: Tensor) -> Tensor:
        return D(x, y) if conditional else D(y)

    def d_step(batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch
        with torch.no_grad():
            fake = G(x)
        parts = loss.discriminator(judge(x, y), judge(x, fake))
        opt_d.zero_grad(set_to_none=True)
        (0.5 * parts.total).backward()  # halved, as in the paper
        opt_d.step()
        return {"d_loss": parts.total}

    def g_step(batch: tuple[Tensor, Tensor]) -> dict[str, Tensor]:
        x, y = batch
        fake = G(x)
        with frozen(D):
            adversarial = loss.generator(judge(x, fake))
        l1 = (fake - y).abs().mean()
        opt_g.zero_grad(set_to_none=True)
        (adv_weight * adversarial + l1_weight * l1).backward()
        opt_g.step()
        return {"g_adv": adversarial, "g_l1": l1}

    return d_step, g_step
