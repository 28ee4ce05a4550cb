"""Capture degradations: shapes, determinism, bounded change, palette classes that survive the strongest settings."""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ftensor.data.degrade import Degradations, degrade
from ftensor.spec import PALETTE, nearest_class

NONE = Degradations(jpeg_p=0, blur_p=0, resample_p=0, color_shift_p=0, noise_p=0)
STRONGEST = Degradations(
    jpeg_p=1,
    jpeg_quality=(30, 30),
    blur_p=1,
    blur_radius=(0.9, 0.9),
    resample_p=1,
    resample_scale=(0.6, 0.6),
    color_shift_p=1,
    color_shift=8,
    noise_p=1,
    noise_sigma=(4.0, 4.0),
)


def design(width: int = 128, height: int = 128) -> np.ndarray:
    """A design-like image: flat background, a band, a textured rectangle and lines of small dark text."""
    rng = np.random.default_rng(7)
    picture = Image.new("RGB", (width, height), tuple(int(v) for v in PALETTE[1]))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, 0, width, height // 5), fill=tuple(int(v) for v in PALETTE[8]))
    texture = np.clip(PALETTE[6] + rng.normal(0, 14, (height // 3, width // 3, 3)), 0, 255).astype(np.uint8)
    picture.paste(Image.fromarray(texture), (width // 2, height // 2))
    font = ImageFont.load_default(size=11)
    for row in range(3):
        draw.text((4, height // 4 + 14 * row), "Sale ends Friday", fill=tuple(int(v) for v in PALETTE[0]), font=font)
    return np.asarray(picture).copy()


def blocks(colors: list, columns: int, side: int = 32) -> np.ndarray:
    """Flat squares of the given colours, row by row."""
    rows = -(-len(colors) // columns)
    image = np.full((rows * side, columns * side, 3), 128, dtype=np.uint8)
    for i, color in enumerate(colors):
        r, c = divmod(i, columns)
        image[r * side : (r + 1) * side, c * side : (c + 1) * side] = color
    return image


@pytest.mark.parametrize("height, width", [(128, 128), (128, 224), (224, 128), (50, 77)])
@pytest.mark.parametrize("config", [Degradations(), STRONGEST], ids=["default", "strongest"])
def test_shape_and_dtype_preserved(height, width, config):
    image = design(width, height)
    before = image.copy()
    rng = np.random.default_rng(0)
    for _ in range(5):
        out = degrade(image, rng, config)
        assert out.shape == (height, width, 3) and out.dtype == np.uint8
    assert np.array_equal(image, before)  # the input is never modified


def test_deterministic_for_a_seed():
    image = design(224, 128)
    a, b, c = (np.random.default_rng(s) for s in (3, 3, 4))
    outs_a = [degrade(image, a).tobytes() for _ in range(8)]
    assert outs_a == [degrade(image, b).tobytes() for _ in range(8)]
    assert outs_a != [degrade(image, c).tobytes() for _ in range(8)]


def test_all_probabilities_zero_is_identity():
    image = design(128, 96)
    out = degrade(image, np.random.default_rng(0), NONE)
    assert np.array_equal(out, image) and out is not image


@pytest.mark.parametrize("quality", [(30, 30), (30, 95)])
def test_jpeg_changes_the_image_but_stays_close(quality):
    image = design()
    rng = np.random.default_rng(1)
    config = replace(NONE, jpeg_p=1, jpeg_quality=quality)
    for _ in range(4):
        diff = np.abs(degrade(image, rng, config).astype(np.int16) - image).mean()
        assert 0 < diff < 12


def test_mean_colour_moves_at_most_the_shift():
    image = design()
    shift_and_noise = replace(NONE, color_shift_p=1, noise_p=1, noise_sigma=(4.0, 4.0))
    for config, slack in ((shift_and_noise, 0.5), (STRONGEST, 3.0)):
        rng = np.random.default_rng(2)
        for _ in range(6):
            moved = degrade(image, rng, config).mean((0, 1)) - image.mean((0, 1))
            assert np.all(np.abs(moved) <= config.color_shift + slack), moved


def test_flat_anchor_regions_keep_their_class_under_the_strongest_settings():
    """Every pixel inside a flat square of an anchor colour (4 px from its edges) stays in the anchor's class."""
    image = blocks([tuple(int(v) for v in p) for p in PALETTE], columns=4)
    margin, side = 4, 32
    for seed in range(12):
        classes = nearest_class(degrade(image, np.random.default_rng(seed), STRONGEST))
        for k in range(len(PALETTE)):
            r, c = divmod(k, 4)
            inside = classes[r * side + margin : (r + 1) * side - margin, c * side + margin : (c + 1) * side - margin]
            assert np.all(inside == k), (seed, k)


def test_flat_jittered_regions_keep_their_class_under_the_strongest_settings():
    """Drawn colours lie up to ±16 from their anchor: the mean colour of such a square keeps its class."""
    colors = [
        tuple(int(v) for v in np.clip(p + np.array(s), 0, 255))
        for p in PALETTE
        for s in itertools.product((-16, 16), repeat=3)
    ]
    image = blocks(colors, columns=8)
    margin, side = 4, 32
    expected = nearest_class(np.array(colors))
    for seed in range(3):
        out = degrade(image, np.random.default_rng(seed), STRONGEST)
        for i, k in enumerate(expected):
            r, c = divmod(i, 8)
            inside = out[r * side + margin : (r + 1) * side - margin, c * side + margin : (c + 1) * side - margin]
            assert nearest_class(inside.reshape(-1, 3).mean(0)) == k, (seed, colors[i])
