"""Image-to-image translation: Pix2Pix (lesson 05) and CycleGAN (lesson 06).

**Pix2Pix** (Isola et al., 2017) learns a map G: x -> y from aligned pairs (x, y). Its generator is
a U-Net (:class:`UNetGenerator`): an encoder of stride-2 convolutions, a decoder of stride-2
transposed convolutions, and skip connections that hand each encoder map to the decoder step of the
same size, so fine detail need not squeeze through the bottleneck. Its discriminator is a PatchGAN
(:class:`PatchDiscriminator`): it reads the pair (x, y) and returns a *map* of scores, one per
overlapping patch, each patch as large as the receptive field (:func:`receptive_field`, 70 x 70
pixels for the classic three-layer version). The generator minimises

    L_GAN(G, D) + λ · ‖y - G(x)‖₁,   λ = 100 (:data:`L1_WEIGHT`),

where the adversarial part is :class:`ganlib.losses.AdversarialLoss` called on the score map.

**CycleGAN** (Zhu et al., 2017) learns two maps G: A -> B and F: B -> A from *unpaired* sets, with
two discriminators and the least-squares loss (``AdversarialLoss("lsgan")``). What ties an image to
its translation is the cycle-consistency loss (:func:`cycle_loss`), weighted by λ = 10
(:data:`CYCLE_WEIGHT`): ``‖F(G(a)) - a‖₁ + ‖G(F(b)) - b‖₁``; the identity loss
(:func:`identity_loss`, weight 0.5 λ, :data:`IDENTITY_WEIGHT`) asks G to leave images that are already
in B alone. The discriminators learn from a history of 50 past fakes (:class:`ImagePool`), and the
learning rate is constant and then decays linearly to zero (:func:`linear_decay`). The paper's
generator is a ResNet (:class:`ResNetGenerator`); a U-Net works too.

Weights: apply :func:`ganlib.models.dcgan_init` (N(0, 0.02), as both papers do).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

from .shapes import conv_output_size

L1_WEIGHT = 100.0  # Pix2Pix: λ for the L1 term
CYCLE_WEIGHT = 10.0  # CycleGAN: λ for the cycle-consistency loss
IDENTITY_WEIGHT = 0.5 * CYCLE_WEIGHT  # CycleGAN: 0.5 λ for the identity loss
MAX_WIDTH_FACTOR = 8  # channels grow as width, 2 width, 4 width, 8 width, then stay (512 for width 64)

NORMS = {  # what "norm" means in the constructors below; None: no normalisation layer
    "batch": nn.BatchNorm2d,       # Pix2Pix
    "instance": nn.InstanceNorm2d,  # CycleGAN (no learned scale, no running statistics)
    "none": None,
}


# -- checks ----------------------------------------------------------------------------------------
def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer; got {value!r}.")


def _check_norm(norm: str) -> None:
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(map(repr, NORMS))}; got {norm!r}.")


def _norm_layer(norm: str, channels: int) -> list[nn.Module]:
    cls = NORMS[norm]
    return [] if cls is None else [cls(channels)]


def _check_images(x: Tensor, channels: int, size: int | None, owner: str) -> None:
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] != channels or (
            size is not None and tuple(x.shape[2:]) != (size, size)):
        side = "S, S" if size is None else f"{size}, {size}"
        got = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{owner} expects images of shape (N, {channels}, {side}); got {got}.")


def halvings(size: int) -> int:
    """How many times ``size`` can be halved exactly: the deepest U-Net an image of this size allows."""
    _check_positive(size=size)
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
        _check_norm(norm)
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 4, 2, 1, bias=NORMS[norm] is None),  # a norm cancels a bias
            *_norm_layer(norm, out_channels),
            nn.LeakyReLU(0.2),
        )


class UNetUp(nn.Module):
    """One decoder step: ConvTranspose(4, stride 2, pad 1) doubles the size, a norm, ReLU, maybe dropout.

    ``forward(x, skip)`` returns the upsampled map with the encoder's map of the same size
    concatenated on channels: (N, out_channels + skip channels, 2H, 2W).
    """

    def __init__(self, in_channels: int, out_channels: int, norm: str = "batch", dropout: float = 0.0) -> None:
        super().__init__()
        _check_norm(norm)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(in_channels, out_channels, 4, 2, 1, bias=NORMS[norm] is None),
            *_norm_layer(norm, out_channels),
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
        _check_positive(in_channels=in_channels, out_channels=out_channels, img_size=img_size, depth=depth,
                        width=width)
        _check_norm(norm)
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
        _check_images(x, self.in_channels, self.img_size, type(self).__name__)
        skips = []
        for down in self.downs:
            x = down(x)
            skips.append(x)
        x = skips.pop()                     # the bottleneck: S / 2**depth pixels wide
        for up in self.ups:
            x = up(x, skips.pop())          # up, then concatenate the encoder map of the same size
        return self.head(x)


# -- the CycleGAN ResNet generator (lesson 06) ---------------------------------------------------------
class ResidualBlock(nn.Module):
    """x + [reflection pad, Conv 3x3, norm, ReLU, reflection pad, Conv 3x3, norm](x): same shape out."""

    def __init__(self, channels: int, norm: str = "instance") -> None:
        super().__init__()
        _check_norm(norm)
        bias = NORMS[norm] is None
        self.block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), *_norm_layer(norm, channels), nn.ReLU(),
            nn.ReflectionPad2d(1), nn.Conv2d(channels, channels, 3, bias=bias), *_norm_layer(norm, channels),
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
        _check_positive(in_channels=in_channels, out_channels=out_channels, img_size=img_size, width=width,
                        n_blocks=n_blocks, n_down=n_down)
        _check_norm(norm)
        if img_size % 2**n_down:
            raise ValueError(f"ResNetGenerator halves the image n_down={n_down} times, so img_size must be a "
                             f"multiple of {2**n_down}; got img_size={img_size} "
                             f"(it allows n_down <= {halvings(img_size)}).")
        self.in_channels, self.out_channels, self.img_size = in_channels, out_channels, img_size
        bias = NORMS[norm] is None
        layers: list[nn.Module] = [nn.ReflectionPad2d(3), nn.Conv2d(in_channels, width, 7, bias=bias),
                                   *_norm_layer(norm, width), nn.ReLU()]
        c = width
        for _ in range(n_down):
            layers += [nn.Conv2d(c, 2 * c, 3, 2, 1, bias=bias), *_norm_layer(norm, 2 * c), nn.ReLU()]
            c *= 2
        layers += [ResidualBlock(c, norm) for _ in range(n_blocks)]
        for _ in range(n_down):
            layers += [nn.ConvTranspose2d(c, c // 2, 3, 2, 1, output_padding=1, bias=bias),
                       *_norm_layer(norm, c // 2), nn.ReLU()]
            c //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(c, out_channels, 7), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        _check_images(x, self.in_channels, self.img_size, type(self).__name__)
        return self.net(x)


# -- the PatchGAN discriminator (lessons 05 and 06) ------------------------------------------------
class PatchDiscriminator(nn.Module):
    """PatchGAN (lessons 05 and 06): images (N, in_channels, S, S) -> a score map (N, 1, h, w), no sigmoid.

    ``n_layers`` stride-2 convolutions (4x4, channels ``width``, ``2 width``, ... up to ``8 width``),
    then one stride-1 convolution that doubles the channels once more and a last stride-1
    convolution to one channel. LeakyReLU(0.2) after each but the last; a norm after each but the
    first and the last. Each score judges one patch of the input: 70 x 70 pixels for the classic
    ``n_layers=3`` (:func:`receptive_field`). For 256 x 256 images the map is 30 x 30; for 32 x 32
    images 2 x 2.

    ``D(x)`` judges single images (CycleGAN). ``D(x, y)`` judges a pair, concatenated on channels in
    that order (Pix2Pix: the input x and a real or generated output y); ``in_channels`` then counts
    both, e.g. 1 + 1 for grey-to-grey or 3 + 3 for photos.
    """

    def __init__(self, in_channels: int = 2, width: int = 64, n_layers: int = 3, *, norm: str = "batch") -> None:
        super().__init__()
        _check_positive(in_channels=in_channels, width=width, n_layers=n_layers)
        _check_norm(norm)
        self.in_channels, self.n_layers = in_channels, n_layers
        bias = NORMS[norm] is None
        widths = _widths(width, n_layers + 1)
        layers: list[nn.Module] = [nn.Conv2d(in_channels, widths[0], 4, 2, 1), nn.LeakyReLU(0.2)]
        for c_in, c_out in zip(widths[:-2], widths[1:-1]):   # the other stride-2 layers
            layers += [nn.Conv2d(c_in, c_out, 4, 2, 1, bias=bias), *_norm_layer(norm, c_out), nn.LeakyReLU(0.2)]
        layers += [nn.Conv2d(widths[-2], widths[-1], 4, 1, 1, bias=bias), *_norm_layer(norm, widths[-1]),
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
        _check_images(x, self.in_channels, None, owner)
        if min(x.shape[2:]) < self.min_size:
            raise ValueError(f"{owner} with n_layers={self.n_layers} needs images of at least {self.min_size} x "
                             f"{self.min_size} pixels; got {tuple(x.shape[2:])}. Use fewer layers or larger images.")
        return self.net(x)


# -- receptive fields (lesson 05) ------------------------------------------------------------------
_WINDOWED = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.MaxPool2d, nn.AvgPool2d)
_NOT_A_STACK = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d, nn.Upsample, nn.UpsamplingNearest2d,
                nn.UpsamplingBilinear2d)


def _first(value: Any) -> int:
    values = tuple(value) if isinstance(value, (tuple, list)) else (value,)
    if len(set(values)) != 1:
        raise ValueError(f"receptive_field handles square kernels and equal strides only; got {values}.")
    return int(values[0])


def _windows(layers: nn.Module | Iterable[Any]) -> list[tuple[str, int, int, int]]:
    """(name, kernel, stride, dilation) of each windowed layer, in order."""
    if isinstance(layers, nn.Module):
        named = [(name, m) for name, m in layers.named_modules() if not list(m.children())]
    else:
        named = [(str(i), item) for i, item in enumerate(layers)]
    rows = []
    for name, item in named:
        if isinstance(item, _NOT_A_STACK):
            raise ValueError(f"receptive_field reads a plain stack of convolutions; layer {name} is a "
                             f"{type(item).__name__}, for which the recurrence does not hold.")
        if isinstance(item, _WINDOWED):
            dilation = getattr(item, "dilation", 1)
            rows.append((name, _first(item.kernel_size), _first(item.stride or item.kernel_size), _first(dilation)))
        elif isinstance(item, (tuple, list)) and len(item) in (2, 3) and all(
                isinstance(v, int) and v >= 1 for v in item):
            rows.append((name, item[0], item[1], item[2] if len(item) == 3 else 1))
        elif not isinstance(item, nn.Module):
            raise ValueError(f"receptive_field expects a model, layers, or (kernel, stride[, dilation]) tuples of "
                             f"positive integers; item {name} is {item!r}.")
    if not rows:
        raise ValueError("receptive_field found no convolution or pooling layer.")
    return rows


def receptive_field(layers: nn.Module | Iterable[Any]) -> int:
    """How many input pixels (along one side) one output value of a stack of convolutions sees (lesson 05).

    ``layers`` is a model (its convolution and pooling layers are read in order), a list of layers,
    or a list of ``(kernel, stride)`` / ``(kernel, stride, dilation)`` tuples. Starting from one
    output pixel and walking back, each layer widens the field by ``(kernel - 1) · dilation`` steps of
    its input grid, and a step of that grid is ``jump`` image pixels, the product of the strides before it::

        field = 1; jump = 1
        for each layer, first to last:  field += (kernel - 1) * dilation * jump;  jump *= stride

    Norms and activations act per pixel and change nothing. Transposed convolutions and upsampling
    are refused (the recurrence does not hold for them).
    """
    return receptive_field_steps(layers)[-1][-1]


def receptive_field_steps(layers: nn.Module | Iterable[Any]) -> list[tuple[str, int, int, int, int]]:
    """The recurrence of :func:`receptive_field` row by row: ``(layer, kernel, stride, jump, field)``.

    ``jump`` is the distance, in image pixels, between neighbouring inputs of that layer; ``field``
    is the receptive field after it.
    """
    field, jump, rows = 1, 1, []
    for name, kernel, stride, dilation in _windows(layers):
        field += (kernel - 1) * dilation * jump
        rows.append((name, kernel, stride, jump, field))
        jump *= stride
    return rows


def format_receptive_field(layers: nn.Module | Iterable[Any]) -> str:
    """A plain-text table of :func:`receptive_field_steps` (deterministic, so notebooks can check it)."""
    rows = receptive_field_steps(layers)
    width = max([7] + [len(r[0]) + 2 for r in rows])
    lines = [f"{'layer':<{width}}{'kernel':>7}{'stride':>7}{'jump':>6}{'field':>7}"]
    lines += [f"{name:<{width}}{k:>7}{s:>7}{j:>6}{r:>7}" for name, k, s, j, r in rows]
    return "\n".join(lines)


_NORM_TYPES = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm1d, nn.InstanceNorm2d,
               nn.InstanceNorm3d, nn.GroupNorm, nn.LayerNorm)


def measure_receptive_field(model: nn.Module, size: int = 256, in_channels: int | None = None) -> int:
    """The receptive field found by experiment: the input pixels that move the centre output value.

    A copy of ``model`` gets positive weights (every weight ``1 / fan-in``), its norm layers removed
    and its max-pooling turned into average pooling, so no two paths can cancel, no statistic mixes
    distant pixels and no window hides the pixels it did not pick; then the gradient of
    the centre value of the output map with respect to a ``size`` x ``size`` input is nonzero exactly
    on the pixels that value depends on. Returns the side of that square; raises ``ValueError``
    when it touches the border (``size`` too small to hold it). ``in_channels`` defaults to the
    first convolution's.
    """
    probe = copy.deepcopy(model).float().cpu().eval()
    for module in list(probe.modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, _NORM_TYPES):
                setattr(module, child_name, nn.Identity())
            elif isinstance(child, nn.MaxPool2d):  # a max passes gradient to one pixel only; a mean to all it reads
                setattr(module, child_name, nn.AvgPool2d(child.kernel_size, child.stride, child.padding))
    convs = [m for m in probe.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    if not convs:
        raise ValueError("measure_receptive_field found no convolution in the model.")
    with torch.no_grad():
        for conv in convs:
            conv.weight.fill_(1.0 / conv.weight[0].numel())
            if conv.bias is not None:
                conv.bias.fill_(0.1)
    channels = in_channels if in_channels is not None else convs[0].in_channels
    x = torch.ones(1, channels, size, size, requires_grad=True)
    out = probe(x)
    if out.ndim != 4:
        raise ValueError(f"measure_receptive_field needs a model that returns a map (N, C, h, w); "
                         f"got {tuple(out.shape)}.")
    h, w = out.shape[2:]
    out[0, 0, h // 2, w // 2].backward()
    seen = (x.grad[0].abs().sum(0) > 0)
    rows, cols = seen.any(1).nonzero().flatten(), seen.any(0).nonzero().flatten()
    if rows[0] == 0 or cols[0] == 0 or rows[-1] == size - 1 or cols[-1] == size - 1:
        raise ValueError(f"the receptive field reaches the border of the {size} x {size} input; pass a larger size.")
    height, width = int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
    if height != width:
        raise ValueError(f"the measured receptive field is not square: {height} x {width}.")
    return height


# -- CycleGAN's pieces (lesson 06) -----------------------------------------------------------------
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

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str | None = None) -> None:
        self.images = [t.to(device) for t in state["images"]]
        self._generator.set_state(state["generator"])

    def __repr__(self) -> str:
        return f"ImagePool(size={self.size}, holds {len(self.images)})"


def _l1(output: Tensor, target: Tensor, owner: str) -> Tensor:
    if not isinstance(output, Tensor) or not isinstance(target, Tensor) or output.shape != target.shape:
        got = [tuple(t.shape) if isinstance(t, Tensor) else type(t).__name__ for t in (output, target)]
        raise ValueError(f"{owner} compares two batches of the same shape; got {got[0]} and {got[1]} "
                         f"(broadcasting would silently compare the wrong pixels).")
    return (output - target).abs().mean()


def l1_loss(output: Tensor, target: Tensor) -> Tensor:
    """Pix2Pix's reconstruction term ``mean |target - output|`` (lesson 05); weight it by :data:`L1_WEIGHT`.

    Unlike ``F.l1_loss`` it refuses tensors of different shapes instead of broadcasting them.
    """
    return _l1(output, target, "l1_loss")


def cycle_loss(reconstructed: Tensor, real: Tensor) -> Tensor:
    """Cycle consistency ``mean |F(G(a)) - a|`` for one direction (lesson 06); weight by :data:`CYCLE_WEIGHT`.

    Call it with ``(F(G(a)), a)`` and with ``(G(F(b)), b)`` and add the two.
    """
    return _l1(reconstructed, real, "cycle_loss")


def identity_loss(same: Tensor, real: Tensor) -> Tensor:
    """Identity ``mean |G(b) - b|`` (lesson 06): G should leave an image already in its target domain alone.

    Weight it by :data:`IDENTITY_WEIGHT` (0.5 λ). It keeps colours from drifting in photo <-> painting
    tasks; it needs G's input and output to have the same number of channels.
    """
    return _l1(same, real, "identity_loss")


def linear_decay_factor(step: int, n_constant: int, n_decay: int) -> float:
    """The learning-rate multiplier of :func:`linear_decay` at ``step``: 1 up to ``n_constant``, then down to 0.

    ``1 - (step - n_constant) / n_decay`` once ``step`` passes ``n_constant``; 0 from
    ``n_constant + n_decay`` on.
    """
    if not isinstance(n_constant, int) or n_constant < 0:
        raise ValueError(f"n_constant must be a whole number >= 0; got {n_constant!r}.")
    _check_positive(n_decay=n_decay)
    return min(1.0, max(0.0, 1.0 - (step - n_constant) / n_decay))


def linear_decay(optimizer: torch.optim.Optimizer, n_constant: int, n_decay: int) -> torch.optim.lr_scheduler.LambdaLR:
    """CycleGAN's schedule (lesson 06): the initial learning rate for ``n_constant`` steps, then linear to 0.

    A ``LambdaLR`` with :func:`linear_decay_factor`; call ``scheduler.step()`` once per epoch (the
    paper: 100 constant epochs then 100 decaying ones) or once per training step. Training for
    ``n_constant + n_decay`` of them, the last uses ``1 / n_decay`` of the initial rate.
    """
    linear_decay_factor(0, n_constant, n_decay)  # checks the arguments
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: linear_decay_factor(step, n_constant, n_decay))
