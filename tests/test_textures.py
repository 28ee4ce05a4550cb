"""Photo-like textures: every family, at every size and base colour, shows (luma std ≥ 10) and is reproducible."""

from __future__ import annotations

import numpy as np
import pytest

from ftensor.data.textures import MIN_TEXTURE_STD, TEXTURE_KINDS, photo_texture
from ftensor.errors import FTensorError
from ftensor.spec import PALETTE, luma

SIZES = ((4, 4), (7, 30), (64, 64), (256, 100))  # (width, height)
# Every anchor (dark, light, saturated), plus the extremes that colour jitter can reach.
BASES = [tuple(int(v) for v in rgb) for rgb in PALETTE] + [(0, 0, 0), (255, 255, 255), (255, 0, 0)]


@pytest.mark.parametrize("kind", TEXTURE_KINDS)
def test_every_kind_shows_at_every_size_and_colour(kind):
    rng = np.random.default_rng(0)
    for width, height in SIZES:
        for base in BASES:
            texture, drawn = photo_texture(rng, width, height, np.array(base), kinds=(kind,))
            assert drawn == kind
            assert texture.dtype == np.uint8 and texture.shape == (height, width, 3)
            assert luma(texture).std() >= MIN_TEXTURE_STD, f"{kind} {width}x{height} on {base}"


def test_there_are_many_families():
    assert len(TEXTURE_KINDS) >= 12 and len(set(TEXTURE_KINDS)) == len(TEXTURE_KINDS)


def test_same_rng_state_gives_the_same_bytes():
    for seed in range(40):
        first = photo_texture(np.random.default_rng(seed), 50, 30, PALETTE[seed % 12])
        again = photo_texture(np.random.default_rng(seed), 50, 30, PALETTE[seed % 12])
        assert first[1] == again[1] and first[0].tobytes() == again[0].tobytes()


def test_default_draws_every_kind_and_kinds_restricts_the_draw():
    rng = np.random.default_rng(1)
    assert {photo_texture(rng, 8, 8, PALETTE[2])[1] for _ in range(600)} == set(TEXTURE_KINDS)
    held_in = ("halftone", "skyline")
    assert {photo_texture(rng, 8, 8, PALETTE[2], kinds=held_in)[1] for _ in range(50)} == set(held_in)


def test_a_missing_photograph_is_refused_with_the_install_fix(monkeypatch):
    from ftensor.data import textures

    monkeypatch.setitem(textures.PHOTOGRAPHS, "brick", "no-such-photograph.png")
    textures._photograph.cache_clear()
    try:
        with pytest.raises(FTensorError, match=r"no-such-photograph.png cannot be read .*pip install -e \."):
            photo_texture(np.random.default_rng(0), 16, 16, PALETTE[0], kinds=("photo_brick",))
    finally:
        textures._photograph.cache_clear()


@pytest.mark.parametrize("kinds", [("blobs", "selfie"), ()])
def test_unknown_or_no_kinds_are_refused_by_name(kinds):
    with pytest.raises(FTensorError, match="selfie" if kinds else "none given"):
        photo_texture(np.random.default_rng(0), 16, 16, PALETTE[0], kinds=kinds)
