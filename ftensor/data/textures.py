"""Photo-like textures for image elements: a base palette colour plus visible structure."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from ftensor.spec import luma

TEXTURE_KINDS = ("blobs", "gradient", "scene", "bokeh")
MIN_TEXTURE_STD = 10.0  # grey levels, from the spec
TARGET_TEXTURE_STD = 14.0  # margin above the spec's minimum


def _smooth_field(rng: np.random.Generator, width: int, height: int, cells: int, amplitude: float) -> np.ndarray:
    """Low-frequency colour variation: a small random grid upsampled bicubically to (height, width, 3)."""
    grid = rng.integers(0, 256, size=(cells, cells, 3), dtype=np.uint8)
    field = np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC), np.float32)
    return (field - 127.5) * (amplitude / 127.5)


def _ramp(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A linear ramp in [-1, 1] along a random direction, shape (height, width, 1)."""
    angle = rng.uniform(0, 2 * np.pi)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    t = xs * np.cos(angle) + ys * np.sin(angle)
    t -= t.min()
    return (2 * t / max(float(t.max()), 1.0) - 1)[..., None]


def _scene(rng: np.random.Generator, width: int, height: int, base: np.ndarray) -> np.ndarray:
    """Sky, sun, mountains and ground, all shades of the base colour."""
    ys = np.linspace(1, -1, height, dtype=np.float32)[:, None, None]
    pixels = np.broadcast_to(base + 45 * ys, (height, width, 3)).copy()
    picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    shade = lambda delta: tuple(int(v) for v in np.clip(base + delta, 0, 255))  # noqa: E731
    r = int(rng.uniform(0.08, 0.18) * min(width, height)) + 1
    cx, cy = int(rng.uniform(0.2, 0.8) * width), int(rng.uniform(0.1, 0.4) * height)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=shade(80))
    peaks = [(0, height)]
    for x in np.linspace(0, width, int(rng.integers(3, 7))):
        peaks.append((int(x), int(rng.uniform(0.35, 0.7) * height)))
    peaks.append((width, height))
    draw.polygon(peaks, fill=shade(-50))
    draw.rectangle((0, int(0.8 * height), width, height), fill=shade(-75))
    return np.asarray(picture, np.float32)


def _bokeh(rng: np.random.Generator, width: int, height: int, base: np.ndarray) -> np.ndarray:
    """Soft field with scattered light discs."""
    picture = Image.fromarray(np.clip(base + _smooth_field(rng, width, height, 3, 30), 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(picture)
    for _ in range(int(rng.integers(4, 12))):
        r = int(rng.uniform(0.04, 0.15) * min(width, height)) + 1
        cx, cy = int(rng.integers(0, width)), int(rng.integers(0, height))
        delta = rng.choice([-1, 1]) * rng.uniform(35, 80)
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=tuple(int(v) for v in np.clip(base + delta, 0, 255)))
    return np.asarray(picture, np.float32)


def photo_texture(rng: np.random.Generator, width: int, height: int, base_rgb: np.ndarray) -> tuple[np.ndarray, str]:
    """An (height, width, 3) uint8 photo-like texture around `base_rgb` whose luma std is ≥ the spec's 10."""
    base = np.asarray(base_rgb, np.float32)
    kind = TEXTURE_KINDS[int(rng.integers(len(TEXTURE_KINDS)))]
    if kind == "blobs":
        pixels = base + _smooth_field(rng, width, height, int(rng.integers(2, 6)), rng.uniform(40, 80))
    elif kind == "gradient":
        pixels = base + rng.uniform(30, 60) * _ramp(rng, width, height) + _smooth_field(rng, width, height, 3, 20)
    elif kind == "scene":
        pixels = _scene(rng, width, height, base)
    else:
        pixels = _bokeh(rng, width, height, base)
    grain = rng.standard_normal((height, width, 1), dtype=np.float32) * rng.uniform(2, 6)
    pixels = pixels + grain
    # Stretch contrast until the texture is clearly visible even after clipping (bright or dark bases).
    for _ in range(4):
        texture = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
        grey = luma(texture)
        std = float(grey.std())
        if std >= TARGET_TEXTURE_STD:
            break
        mean = pixels.mean(axis=(0, 1))
        pixels = mean + (pixels - mean) * (2 * TARGET_TEXTURE_STD / max(std, 1.0))
    if std < MIN_TEXTURE_STD:  # tiny or saturated regions: a checkerboard of two shades always shows
        ys, xs = np.mgrid[0:height, 0:width]
        checker = (((xs // 4) + (ys // 4)) % 2 * 2 - 1)[..., None] * 40.0
        texture = np.clip(np.rint(base + checker), 0, 255).astype(np.uint8)
    return texture, kind
