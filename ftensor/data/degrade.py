"""Capture degradations for training images: JPEG, slight blur, resampling, colour shift and noise.

Synthetic designs are rendered pixel-perfect, but the model must read real designs captured in other ways:
JPEG screenshots, images scaled on the way, slightly soft exports, colour-managed or noisy captures. `degrade`
imitates these on a rendered P_Image while its F_Tensor stays valid: nothing here moves content by more than
about a pixel (no geometric transforms, no crops), and no setting moves a flat region of a palette anchor to
another class (the nearest anchors are 82 levels apart; tests/test_degrade.py checks the strongest settings).

numpy and Pillow only (no torch), so it runs in data-loader workers and in tools that do not train.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from PIL import Image, ImageFilter

_RESAMPLERS = (Image.Resampling.BILINEAR, Image.Resampling.BICUBIC, Image.Resampling.LANCZOS)
_JPEG_SUBSAMPLING = (0, 2)  # Pillow's codes for 4:4:4 and 4:2:0
# Standard normal quantiles at 256 equally likely levels: indexed by random bytes they give Gaussian noise
# about five times faster than drawing floats, and the noise is rounded to whole levels anyway.
_NORMAL_QUANTILES = np.array([NormalDist().inv_cdf((i + 0.5) / 256) for i in range(256)], dtype=np.float32)


@dataclass(frozen=True)
class Degradations:
    """Probability of each degradation and the range its strength is drawn from (uniformly)."""

    # Half the images stay free of JPEG, so the model still sees exact edges; the other half span the
    # qualities of real screenshots and web images (below 30 the blocking no longer looks like a design).
    jpeg_p: float = 0.5
    jpeg_quality: tuple[int, int] = (30, 95)
    # Soft exports and slightly out-of-focus captures; radius < 1 px keeps text edges within a pixel.
    blur_p: float = 0.2
    blur_radius: tuple[float, float] = (0.3, 0.9)
    # Down-then-up scaling, as when a design is shown or captured at another size; the filter varies
    # because viewers and tools differ. Not below 0.6: the smallest captions (0.03 S, 8 px at S = 256)
    # would turn to grey smears the labels still call text.
    resample_p: float = 0.2
    resample_scale: tuple[float, float] = (0.6, 0.9)
    # Colour management and display differences: one offset per channel for the whole image. Small next
    # to the palette jitter (±16) and to the 41-level half-distance between the nearest anchors.
    color_shift_p: float = 0.3
    color_shift: int = 8
    # Sensor and dithering noise, per pixel and channel, mild enough not to hide texture-free regions.
    noise_p: float = 0.3
    noise_sigma: tuple[float, float] = (0.0, 4.0)


def degrade(image: np.ndarray, rng: np.random.Generator, config: Degradations = Degradations()) -> np.ndarray:
    """A degraded copy of a uint8 (H, W, 3) RGB image, any H and W, same shape and dtype.

    Applied in capture order: resample, blur, colour shift and noise, JPEG. The result depends only on the
    image, the config and the state of `rng` (which it advances).
    """
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected a uint8 (H, W, 3) image, got {image.dtype} {image.shape}")
    height, width = image.shape[:2]
    picture = Image.fromarray(image)

    if rng.random() < config.resample_p:
        scale = rng.uniform(*config.resample_scale)
        resampler = _RESAMPLERS[rng.integers(len(_RESAMPLERS))]
        small = (max(1, round(width * scale)), max(1, round(height * scale)))
        picture = picture.resize(small, resampler).resize((width, height), resampler)

    if rng.random() < config.blur_p:
        picture = picture.filter(ImageFilter.GaussianBlur(rng.uniform(*config.blur_radius)))

    shift = rng.random() < config.color_shift_p
    noise = rng.random() < config.noise_p
    if shift or noise:
        pixels = np.asarray(picture, dtype=np.int16)
        if shift:
            pixels = pixels + rng.integers(-config.color_shift, config.color_shift + 1, size=3, dtype=np.int16)
        if noise:
            levels = np.rint(_NORMAL_QUANTILES * rng.uniform(*config.noise_sigma)).astype(np.int16)
            pixels = pixels + levels[rng.integers(0, 256, size=pixels.shape, dtype=np.uint8)]
        picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))

    if rng.random() < config.jpeg_p:
        quality = int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1))
        subsampling = _JPEG_SUBSAMPLING[rng.integers(len(_JPEG_SUBSAMPLING))]
        buffer = io.BytesIO()
        picture.save(buffer, format="JPEG", quality=quality, subsampling=subsampling)
        buffer.seek(0)
        picture = Image.open(buffer).convert("RGB")

    return np.array(picture, dtype=np.uint8)  # a writable copy, never a view of the input
