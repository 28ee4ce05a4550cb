"""The standard U-Net (Ronneberger et al.) with four F_Tensor heads, written to be read in one go."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ftensor.errors import FTensorError
from ftensor.spec import HIERARCHY_SCALE, NUM_CLASSES

PRESETS = {"unet": (64, False), "small": (16, True), "tiny": (8, True)}  # base width, row context
HEAD_CHANNELS = {"text": 1, "image": 1, "color": NUM_CLASSES, "hierarchy": 1}


class DoubleConv(nn.Sequential):
    """(3×3 conv → BatchNorm → ReLU) × 2."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(
            nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
        )


class Down(nn.Sequential):
    """Halve the resolution, then DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.MaxPool2d(2), DoubleConv(in_channels, out_channels))


class Up(nn.Module):
    """Double the resolution with a transposed conv, concatenate the skip, then DoubleConv."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.up = nn.ConvTranspose2d(in_channels, in_channels // 2, kernel_size=2, stride=2)
        self.conv = DoubleConv(in_channels, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([skip, self.up(x)], dim=1))


class RowContext(nn.Module):
    """Lets every pixel see the ink along its row: a text line's box runs from its tallest ascender to its
    lowest descender over the whole line, so the box's top and bottom rows are text where no glyph near
    the pixel reaches them. Plain convolutions decide from a few pixels around and left those rows
    ragged. The features are max-pooled along rows into cells of `step` pixels, then over 3, 9 and 33 cells
    (12, 36 and 132 px); a 1×1 convolution mixes that context at the cells' width and it is added back,
    repeated over each cell's pixels. Mixing before repeating is the same arithmetic as repeating first,
    and the block's forward and backward take a third of the time that pooling at full width took (0.5's
    9 and 33 px; batch 8 of 128 px features on 2 cores).
    Its BatchNorm starts at zero, so the block starts as the identity and training sees the plain U-Net at
    first (a `tiny` model whose context started active predicted one class over a whole design)."""

    def __init__(self, channels: int, widths: tuple[int, ...] = (3, 9, 33), step: int = 4) -> None:
        super().__init__()
        self.step = step
        self.pools = nn.ModuleList(nn.MaxPool2d((1, w), stride=1, padding=(0, w // 2)) for w in widths)
        self.local = nn.Conv2d(channels, channels, 1, bias=False)
        self.context = nn.Conv2d(channels * len(widths), channels, 1, bias=False)
        self.norm = nn.BatchNorm2d(channels)
        nn.init.zeros_(self.norm.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        cells = F.max_pool2d(x, (1, self.step))
        context = self.context(torch.cat([pool(cells) for pool in self.pools], dim=1))
        context = F.interpolate(context, scale_factor=(1, self.step), mode="nearest")
        return torch.relu(x + self.norm(self.local(x) + context))


class UNet(nn.Module):
    """Maps an RGB image in [0, 1] (N, 3, H, W), H and W multiples of 16, to the four F_Tensor heads:
    `text` and `image` logits (N, 1, H, W), `color` logits (N, 12, H, W) and `hierarchy` in [0, 1]."""

    def __init__(self, base_channels: int = 64, row_context: bool = False) -> None:
        super().__init__()
        c = base_channels
        self.base_channels = c
        self.inc = DoubleConv(3, c)
        self.down1, self.down2, self.down3, self.down4 = (
            Down(c, 2 * c),
            Down(2 * c, 4 * c),
            Down(4 * c, 8 * c),
            Down(8 * c, 16 * c),
        )
        self.up1, self.up2, self.up3, self.up4 = Up(16 * c, 8 * c), Up(8 * c, 4 * c), Up(4 * c, 2 * c), Up(2 * c, c)
        self.row_context = RowContext(c) if row_context else nn.Identity()
        # Pictures are found by their texture, not along rows: with 0.5's row context on every head, flat bands
        # across banners came out as pictures (held-out banner image IoU 0.72 → 0.54), so the image head reads
        # the features before it. That was one CPU seed (held-out image IoU 0.842 → 0.865); three GPU seeds of
        # 0.5 later scored 0.806–0.814, so the placement's gain is not established (benchmarks/bench_seeds.sh).
        self.image_head = nn.Conv2d(c, 1, kernel_size=1) if row_context else None
        self.shared_heads = [name for name in HEAD_CHANNELS if not (row_context and name == "image")]
        self.heads = nn.Conv2d(c, sum(HEAD_CHANNELS[name] for name in self.shared_heads), kernel_size=1)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        if x.shape[-1] % 16 or x.shape[-2] % 16:
            raise FTensorError(f"input height and width must be multiples of 16, got {tuple(x.shape[-2:])}")
        x1 = self.inc(x)
        x2 = self.down1(x1)
        x3 = self.down2(x2)
        x4 = self.down3(x3)
        y = self.down4(x4)
        y = self.up4(self.up3(self.up2(self.up1(y, x4), x3), x2), x1)
        sizes = [HEAD_CHANNELS[name] for name in self.shared_heads]
        heads = dict(zip(self.shared_heads, torch.split(self.heads(self.row_context(y)), sizes, dim=1)))
        if self.image_head is not None:
            heads["image"] = self.image_head(y)
        heads["hierarchy"] = torch.sigmoid(heads["hierarchy"])
        return {name: heads[name] for name in HEAD_CHANNELS}


def build_model(preset: str = "unet") -> UNet:
    """A fresh U-Net of a named width: `unet` (64, ≈31M parameters), `small` (16), `tiny` (8)."""
    if preset not in PRESETS:
        raise FTensorError(f"unknown preset {preset!r}; choose one of {', '.join(PRESETS)}.")
    return UNet(*PRESETS[preset])


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def heads_to_f_tensor(heads: dict[str, torch.Tensor]) -> torch.Tensor:
    """Head outputs → the spec's uint8 (N, 4, H, W) encoding: ftensor.spec.encode_f_tensor in torch ops,
    so that it runs inside the exported graph (masks at p ≥ 0.5, i.e. logit ≥ 0; arg-max class;
    round(255 · hierarchy)). A test holds the two to the same answer."""
    return torch.cat(
        [
            (heads["text"] >= 0).to(torch.uint8),
            (heads["image"] >= 0).to(torch.uint8),
            heads["color"].argmax(dim=1, keepdim=True).to(torch.uint8),
            torch.round(heads["hierarchy"].clamp(0, 1) * HIERARCHY_SCALE).to(torch.uint8),
        ],
        dim=1,
    )
